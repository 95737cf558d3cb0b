//! The path walk: a packet from a namespace to an address, hop by hop, as the kernel would
//! carry it. At each namespace: delivered when the namespace holds the address; else it
//! must forward (all but the first), look the address up, and reach the next hop across
//! its segment. The first thing that stops the packet ends the walk, as its cause.

use std::net::IpAddr;

use crate::address::Family;

use super::network::Network;
use super::segment::{holders_of, Block, Reached};
use super::table::{down_device_towards, entry_text, lookup, source_address, Origin, Refusal};
use super::{Crossing, Hop};

/// The TTL (IPv6: hop limit) a ping's packets start with: the kernel's default, 64. Each
/// router decrements it and drops a packet that arrives with 1, so at most 63 routers
/// forward it and the namespace 64 hops away is the farthest it reaches.
pub const TTL: usize = 64;

/// How to walk: as a reply (keeping its source address), and with the words of each hop
/// (the route taken, the interfaces crossed), which a matrix does without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct How {
    pub replying: bool,
    pub detailed: bool,
}

/// What stops a packet, in the model's terms (`reason` puts it in words).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cause {
    /// No route to the address in the namespace.
    NoRoute {
        space: usize,
        destination: IpAddr,
    },
    /// The route that would carry it was refused: its gateway is in no connected subnet.
    GatewayOffSubnet {
        space: usize,
        route: Option<usize>,
        gateway: IpAddr,
    },
    /// A namespace that would have to forward does not.
    ForwardingOff {
        space: usize,
        family: Family,
    },
    InterfaceDown {
        iface: usize,
    },
    BridgeDown {
        iface: usize,
    },
    NoCarrier {
        iface: usize,
        peer: Option<usize>,
    },
    /// Nobody on the segment holds the next hop's address (ARP / neighbour discovery fail).
    NextHopUnheld {
        space: usize,
        out: usize,
        next_hop: IpAddr,
        route: Option<usize>,
    },
    /// No namespace of the lab holds the address at all.
    UnknownAddress {
        destination: IpAddr,
    },
    TotalLoss {
        iface: usize,
    },
    /// More than one namespace on the segment holds the address: the kernel takes
    /// whichever answers first. `kept` is the one the walk went on with, `other` the one
    /// the fix takes the address from.
    DuplicateAddress {
        address: IpAddr,
        holders: Vec<usize>,
        kept: usize,
        other: usize,
    },
    /// The namespace pings its own address with `lo` down.
    LoopbackDown {
        space: usize,
    },
    /// The namespace has no address of the family to send from.
    NoSourceAddress {
        space: usize,
        family: Family,
    },
    RoutingLoop {
        space: usize,
    },
    /// The path is longer than the TTL allows (no loop): the router at hop 64 drops it.
    TtlExpired {
        space: usize,
    },
}

/// Where a cause stopped (or, for a warning, was seen): the hop's index in the walk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stop {
    pub hop: usize,
    pub cause: Cause,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Walk {
    pub hops: Vec<Hop>,
    pub failure: Option<Stop>,
    pub warnings: Vec<Stop>,
    /// The namespace that took the packet.
    pub arrived: Option<usize>,
    /// The source address chosen at the first hop.
    pub source: Option<IpAddr>,
    /// The namespace of each hop (a detailed walk only: what the limits are looked for in).
    pub spaces: Vec<usize>,
    /// How many hops were walked (a matrix's walk counts them without keeping `hops`).
    pub length: usize,
}

/// Walks a packet from namespace `start` to `destination`. Where several namespaces on
/// one segment hold an address, `prefer` is taken when it is one of them. A reply
/// keeps the source address it has: the request's destination.
pub(crate) fn walk(network: &Network, start: usize, destination: IpAddr, prefer: Option<usize>, how: How) -> Walk {
    let family = Family::of(&destination);
    let mut walk = Walk::default();
    let mut space = start;
    // The namespaces entered so far, to tell a loop from a path longer than the TTL.
    let mut entered = [usize::MAX; TTL + 1];
    for step in 0..=TTL {
        entered[step] = space;
        if how.detailed {
            walk.spaces.push(space);
        }
        let here = &network.spaces[space];
        let mut hop = Hop {
            // A matrix needs no words: no name is copied for it.
            namespace: if how.detailed { here.node.clone() } else { String::new() },
            out: None,
            next_hop: None,
            route: None,
            crossed: Vec::new(),
            delivered: false,
        };
        if network.holds(space, destination) {
            if step == 0 {
                hop.out = Some("lo".to_string());
                if !here.loopback_up {
                    return walk.stop(hop, Cause::LoopbackDown { space }, how);
                }
                walk.source = Some(destination);
            }
            hop.delivered = true;
            walk.record(hop, how);
            walk.arrived = Some(space);
            return walk;
        }
        if step > 0 && !here.forwards(family) {
            return walk.stop(hop, Cause::ForwardingOff { space, family }, how);
        }
        let table = network.table(space, family);
        let Some(entry) = lookup(&table, destination) else {
            return walk.stop(hop, no_route(network, space, destination, &table), how);
        };
        if step == TTL {
            let looped = entered[..step].contains(&space);
            let cause = if looped { Cause::RoutingLoop { space } } else { Cause::TtlExpired { space } };
            return walk.stop(hop, cause, how);
        }
        let next_hop = entry.via.unwrap_or(destination);
        if how.detailed {
            hop.out = Some(network.interfaces[entry.dev].name.clone());
        }
        hop.next_hop = Some(next_hop);
        if how.detailed {
            hop.route = Some(entry_text(network, entry));
        }
        if step == 0 && !how.replying {
            walk.source = source_address(network, space, entry.dev, next_hop, destination);
            if walk.source.is_none() {
                return walk.stop(hop, Cause::NoSourceAddress { space, family }, how);
            }
        }
        let reached = holders_of(network, entry.dev, next_hop);
        let route = match entry.origin {
            Origin::Route(index) => network.spaces[space].routes[index].index,
            Origin::Connected => None,
        };
        let Some(chosen) = choose(network, &reached, prefer) else {
            let cause = if entry.via.is_none() && !network.anyone_holds(destination) {
                Cause::UnknownAddress { destination }
            } else {
                Cause::NextHopUnheld { space, out: entry.dev, next_hop, route }
            };
            return walk.stop(hop, cause, how);
        };
        if how.detailed {
            let way = network.tree(entry.dev).way(chosen.holder);
            hop.crossed = way.into_iter().map(|index| crossing(network, index)).collect();
        }
        // One holder (the usual case) needs no look for a second.
        let holders = if reached.len() > 1 { distinct_holders(network, &reached) } else { Vec::new() };
        if holders.len() > 1 {
            let kept_space = network.interfaces[chosen.holder].space;
            let other =
                holders.iter().copied().find(|&h| network.interfaces[h].space != kept_space).unwrap_or(chosen.holder);
            let cause = Cause::DuplicateAddress { address: next_hop, holders, kept: chosen.holder, other };
            walk.warnings.push(Stop { hop: walk.length, cause });
        }
        if let Some(block) = chosen.block {
            return walk.stop(hop, blocked(block), how);
        }
        walk.record(hop, how);
        space = network.interfaces[chosen.holder].space;
    }
    unreachable!("the walk stops at the latest when the TTL runs out, at step {TTL}")
}

impl Walk {
    /// Counts a hop, and keeps its words for a detailed walk.
    fn record(&mut self, hop: Hop, how: How) {
        self.length += 1;
        if how.detailed {
            self.hops.push(hop);
        }
    }

    fn stop(mut self, hop: Hop, cause: Cause, how: How) -> Walk {
        self.failure = Some(Stop { hop: self.length, cause });
        self.record(hop, how);
        self
    }
}

/// The holder the packet goes to: the preferred namespace's if it is one, else the first
/// whose way is clear, else the nearest (whose way then says what drops it).
fn choose<'r>(network: &Network, reached: &'r [Reached], prefer: Option<usize>) -> Option<&'r Reached> {
    let clear = |found: &&Reached| found.block.is_none();
    reached
        .iter()
        .filter(|found| Some(network.interfaces[found.holder].space) == prefer)
        .find(clear)
        .or_else(|| reached.iter().find(clear))
        .or(reached.first())
}

/// One holder interface per namespace.
fn distinct_holders(network: &Network, reached: &[Reached]) -> Vec<usize> {
    let mut holders: Vec<usize> = Vec::new();
    for found in reached {
        let space = network.interfaces[found.holder].space;
        if !holders.iter().any(|&kept| network.interfaces[kept].space == space) {
            holders.push(found.holder);
        }
    }
    holders
}

fn blocked(block: Block) -> Cause {
    match block {
        Block::InterfaceDown { iface } => Cause::InterfaceDown { iface },
        Block::BridgeDown { iface } => Cause::BridgeDown { iface },
        Block::NoCarrier { iface, peer } => Cause::NoCarrier { iface, peer },
        Block::TotalLoss { iface } => Cause::TotalLoss { iface },
    }
}

/// Why there is no route: a refused route of the lab that would have carried it, an
/// interface that is down whose subnet holds it, or no route at all.
fn no_route(network: &Network, space: usize, destination: IpAddr, table: &super::table::Table) -> Cause {
    let routes = &network.spaces[space].routes;
    let refused = table
        .refused
        .iter()
        .filter(|(index, _)| routes[*index].destination.contains(&destination))
        .max_by_key(|(index, _)| routes[*index].destination.prefix_len());
    match refused {
        Some((_, Refusal::DeviceDown { dev })) => Cause::InterfaceDown { iface: *dev },
        Some((index, Refusal::GatewayOffSubnet)) if routes[*index].via.is_some() => Cause::GatewayOffSubnet {
            space,
            route: routes[*index].index,
            gateway: routes[*index].via.expect("checked"),
        },
        _ => match down_device_towards(network, space, destination) {
            Some(iface) => Cause::InterfaceDown { iface },
            None => Cause::NoRoute { space, destination },
        },
    }
}

fn crossing(network: &Network, index: usize) -> Crossing {
    let interface = &network.interfaces[index];
    Crossing {
        node: interface.drawn_on.clone(),
        namespace: network.spaces[interface.space].node.clone(),
        interface: interface.name.clone(),
        link: interface.link,
    }
}
