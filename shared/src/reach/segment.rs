//! One hop's layer 2: from the interface a packet leaves by, through veths and bridges, to
//! the interface that holds the next hop's address, and what on that way drops it.
//!
//! A veth end hands what it sends to its peer; a bridge port hands what it receives to its
//! bridge, which switches it to its other ports (or takes it itself, when the bridge holds
//! the address). The way is found as if everything were up, then checked element by element
//! in both directions (the neighbour's answer to ARP or neighbour discovery must come back),
//! so that the first element that drops is named, not just "unreachable".

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

use super::network::{IfaceKind, Network};

/// A holder of an address on the segment, and the interfaces crossed to reach it from the
/// sending interface (both included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reached {
    pub holder: usize,
    pub crossed: Vec<usize>,
}

/// What drops a packet on its way across a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    /// The interface is administratively down.
    InterfaceDown { iface: usize },
    /// The bridge device is down: its ports forward nothing.
    BridgeDown { iface: usize },
    /// The sending interface is up but has no carrier (its peer, if known, is down).
    NoCarrier { iface: usize, peer: Option<usize> },
    /// netem loss 100% on the interface that sends.
    TotalLoss { iface: usize },
}

/// Everything reachable on the segment from one interface, found once and kept: the way
/// back from each interface reached, and the interfaces that take packets (veth ends that
/// are no ports, and bridge devices), by the addresses they hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    came_from: HashMap<usize, usize>,
    /// Receiving interfaces other than the root, nearest first.
    pub endpoints: Vec<usize>,
    holders: HashMap<IpAddr, Vec<usize>>,
    /// The receiving interfaces of each namespace, nearest first.
    by_space: HashMap<usize, Vec<usize>>,
}

pub(crate) fn tree_of(network: &Network, from: usize) -> Tree {
    let mut tree = Tree::default();
    let mut seen = HashSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(index) = queue.pop_front() {
        let interface = &network.interfaces[index];
        if index != from && !matches!(interface.kind, IfaceKind::Port { .. }) {
            tree.endpoints.push(index);
            tree.by_space.entry(interface.space).or_default().push(index);
            for net in &interface.addresses {
                tree.holders.entry(net.addr()).or_default().push(index);
            }
        }
        // A packet that reached an endpoint of another namespace goes no further.
        if index != from && interface.kind == IfaceKind::Endpoint {
            continue;
        }
        for next in network.neighbours(index) {
            if seen.insert(next) {
                tree.came_from.insert(next, index);
                queue.push_back(next);
            }
        }
    }
    tree
}

impl Tree {
    fn way_to(&self, to: usize) -> Vec<usize> {
        let mut way = vec![to];
        let mut at = to;
        while let Some(&back) = self.came_from.get(&at) {
            at = back;
            way.push(at);
        }
        way.reverse();
        way
    }
}

/// Every interface on the segment of `from` (ports excepted) that holds `address`, each with
/// the shortest way to it, nearest first. For IPv4, then every other interface on the
/// segment of a namespace that holds it: Linux answers ARP for any of a namespace's
/// addresses on any of its interfaces (`arp_ignore` 0), even one held by an interface
/// that is down. IPv6 neighbour discovery answers only for the receiving interface's own.
pub(crate) fn holders_of(network: &Network, from: usize, address: IpAddr) -> Vec<Reached> {
    let tree = network.tree(from);
    let mut holders: Vec<usize> = tree.holders.get(&address).cloned().unwrap_or_default();
    if address.is_ipv4() {
        for space in network.owners(address) {
            let others = tree.by_space.get(space).map(Vec::as_slice).unwrap_or_default();
            holders.extend(others.iter().filter(|index| !holders.contains(index)).copied().collect::<Vec<_>>());
        }
    }
    holders.into_iter().map(|holder| Reached { holder, crossed: tree.way_to(holder) }).collect()
}

/// The first element that drops what goes along `crossed` (from its first interface to its
/// last), then along the way back.
pub(crate) fn first_block(network: &Network, crossed: &[usize]) -> Option<Block> {
    one_way(network, crossed, false).or_else(|| one_way(network, crossed, true))
}

/// `crossed` from its first interface to its last, or (`back`) from its last to its first.
fn one_way(network: &Network, crossed: &[usize], back: bool) -> Option<Block> {
    let at = |step: usize| if back { crossed[crossed.len() - 1 - step] } else { crossed[step] };
    if crossed.is_empty() {
        return None;
    }
    let sender = at(0);
    let sending = &network.interfaces[sender];
    if sending.up && sending.carrier == Some(false) {
        return Some(Block::NoCarrier { iface: sender, peer: sending.peer });
    }
    for step in 1..crossed.len() {
        let (from, to) = (at(step - 1), at(step));
        let (left, right) = (&network.interfaces[from], &network.interfaces[to]);
        let block = match (left.kind, right.kind) {
            // Along a veth: the sender's impairment, then the other end's state.
            _ if left.peer == Some(to) => {
                if left.loses_all() {
                    Some(Block::TotalLoss { iface: from })
                } else if !left.up {
                    Some(Block::InterfaceDown { iface: from })
                } else if !right.up && from == sender {
                    Some(Block::NoCarrier { iface: from, peer: Some(to) })
                } else if !right.up {
                    Some(Block::InterfaceDown { iface: to })
                } else {
                    None
                }
            }
            (IfaceKind::Port { .. }, IfaceKind::Bridge) => (!right.up).then_some(Block::BridgeDown { iface: to }),
            (IfaceKind::Bridge, IfaceKind::Port { .. }) => {
                if !left.up {
                    Some(Block::BridgeDown { iface: from })
                } else {
                    (!right.up).then_some(Block::InterfaceDown { iface: to })
                }
            }
            _ => None,
        };
        if block.is_some() {
            return block;
        }
    }
    None
}

/// Every interface on the segment of `from` that takes packets for its namespace (veth
/// ends that are no ports, and bridge devices), nearest first; `from` itself excepted.
pub(crate) fn endpoints_of(network: &Network, from: usize) -> Vec<usize> {
    network.tree(from).endpoints.clone()
}
