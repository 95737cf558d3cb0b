//! Why a ping fails, in plain words: the reasons the explainer knows, and the sentence for
//! each, naming the namespace, interface and address involved.

use serde::{Deserialize, Serialize};

use crate::address::Family;

use super::network::{IfaceKind, Network};
use super::walk::Cause;

/// Why a ping fails (or, for a warning, may reach the wrong host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A namespace has no route to the address, and no default route.
    NoRoute,
    /// The reply cannot get back: the destination (or a router on the way back) has no
    /// route to the address the request came from.
    NoReturnRoute,
    /// The route that would carry the packet names a gateway in no connected subnet; the
    /// kernel refuses such a route.
    GatewayOffSubnet,
    /// A namespace on the way does not forward packets of the family.
    ForwardingOff,
    /// An interface on the way (or the one a route needs) is down.
    InterfaceDown,
    /// A bridge on the way is down.
    BridgeDown,
    /// The sending interface has no carrier: the other end of its veth is down.
    NoCarrier,
    /// Nobody on the link holds the next hop's address: ARP or neighbour discovery fail.
    NextHopUnheld,
    /// No namespace of the lab holds the destination address.
    UnknownAddress,
    /// An interface on the way drops everything it sends (netem loss 100%).
    TotalLoss,
    /// Two namespaces on one link hold the same address.
    DuplicateAddress,
    /// A namespace pings its own address with its loopback down.
    LoopbackDown,
    /// The namespace has no address of the family to send from.
    NoSourceAddress,
    /// The packet goes round in circles.
    RoutingLoop,
    /// The path crosses more routers than a ping's TTL (64) allows.
    TtlExpired,
}

impl Reason {
    /// Every reason, for documentation and tests.
    pub const ALL: [Reason; 15] = [
        Reason::NoRoute,
        Reason::NoReturnRoute,
        Reason::GatewayOffSubnet,
        Reason::ForwardingOff,
        Reason::InterfaceDown,
        Reason::BridgeDown,
        Reason::NoCarrier,
        Reason::NextHopUnheld,
        Reason::UnknownAddress,
        Reason::TotalLoss,
        Reason::DuplicateAddress,
        Reason::LoopbackDown,
        Reason::NoSourceAddress,
        Reason::RoutingLoop,
        Reason::TtlExpired,
    ];

    /// Its identifier in JSON (`no_route`).
    pub fn id(self) -> String {
        serde_json::to_value(self).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// The reason of a cause; on the reply's way, a missing route is a missing return route.
pub(crate) fn reason_of(cause: &Cause, replying: bool) -> Reason {
    match cause {
        Cause::NoRoute { .. } if replying => Reason::NoReturnRoute,
        Cause::NoRoute { .. } => Reason::NoRoute,
        Cause::GatewayOffSubnet { .. } => Reason::GatewayOffSubnet,
        Cause::ForwardingOff { .. } => Reason::ForwardingOff,
        Cause::InterfaceDown { .. } => Reason::InterfaceDown,
        Cause::BridgeDown { .. } => Reason::BridgeDown,
        Cause::NoCarrier { .. } => Reason::NoCarrier,
        Cause::NextHopUnheld { .. } => Reason::NextHopUnheld,
        Cause::UnknownAddress { .. } => Reason::UnknownAddress,
        Cause::TotalLoss { .. } => Reason::TotalLoss,
        Cause::DuplicateAddress { .. } => Reason::DuplicateAddress,
        Cause::LoopbackDown { .. } => Reason::LoopbackDown,
        Cause::NoSourceAddress { .. } => Reason::NoSourceAddress,
        Cause::RoutingLoop { .. } => Reason::RoutingLoop,
        Cause::TtlExpired { .. } => Reason::TtlExpired,
    }
}

/// The sentence for a cause. `replying`: it stopped the reply, whose destination is the
/// address the request came from.
pub(crate) fn message_of(network: &Network, cause: &Cause, replying: bool) -> String {
    let node = |space: usize| format!("`{}`", network.spaces[space].node);
    let interface = |index: usize| {
        let found = &network.interfaces[index];
        match found.kind {
            IfaceKind::Bridge => format!("the bridge `{}`", found.name),
            _ => format!("`{}` in {}", found.name, node(found.space)),
        }
    };
    match cause {
        Cause::NoRoute { space, destination } => {
            let family = Family::of(destination);
            let default = has_default(network, *space, family);
            let missing = if default { String::new() } else { format!(" and no {} default route", family.word()) };
            if replying {
                format!(
                    "the reply cannot get back: {} has no route to {destination} (where the request came from){missing}",
                    node(*space)
                )
            } else {
                format!("{} has no route to {destination}{missing}", node(*space))
            }
        }
        Cause::GatewayOffSubnet { space, gateway, .. } => format!(
            "the kernel refuses {}'s route through gateway {gateway}: the gateway is in no subnet {} is connected to, so there is no route",
            node(*space),
            node(*space)
        ),
        Cause::ForwardingOff { space, family } => {
            let setting = match family {
                Family::V4 => "net.ipv4.ip_forward",
                Family::V6 => "net.ipv6.conf.all.forwarding",
            };
            format!(
                "{} gets the packet but does not forward {} (`{setting}` is 0), so it drops it",
                node(*space),
                family.word()
            )
        }
        Cause::InterfaceDown { iface } => format!("{} is down", interface(*iface)),
        Cause::BridgeDown { iface } => format!("{} is down, so it forwards nothing between its ports", interface(*iface)),
        Cause::NoCarrier { iface, peer } => match peer.filter(|&peer| !network.interfaces[peer].up) {
            Some(peer) => format!(
                "{} has no carrier: the other end of its veth, {}, is down",
                interface(*iface),
                interface(peer)
            ),
            None => format!("{} has no carrier (the kernel says its link is down)", interface(*iface)),
        },
        Cause::NextHopUnheld { space, out, next_hop, route } => {
            let what = if route.is_some() { format!("the gateway {next_hop}") } else { next_hop.to_string() };
            let asking = if next_hop.is_ipv4() { "ARP" } else { "neighbour discovery" };
            format!(
                "{} sends to {what} out of `{}`, but nobody on that link holds {next_hop}, so {asking} gets no answer",
                node(*space),
                network.interfaces[*out].name
            )
        }
        Cause::UnknownAddress { destination } => format!("no namespace of the lab holds {destination}"),
        Cause::TotalLoss { iface } => {
            format!("{} drops everything it sends (netem loss 100%)", interface(*iface))
        }
        Cause::DuplicateAddress { address, holders, kept, .. } => {
            let names: Vec<String> = holders.iter().map(|&holder| node(network.interfaces[holder].space)).collect();
            let kept = node(network.interfaces[*kept].space);
            if replying {
                format!(
                    "{address} is held by {}: the reply goes to {kept}, not to the namespace that asked",
                    names.join(" and ")
                )
            } else {
                format!(
                    "{address} is held by {} on one link: whichever answers ARP or neighbour discovery first gets the packets (here {kept})",
                    names.join(" and ")
                )
            }
        }
        Cause::LoopbackDown { space } => format!(
            "{} holds the address itself, but its loopback `lo` is down, and packets to its own addresses go through `lo`",
            node(*space)
        ),
        Cause::NoSourceAddress { space, family } => {
            format!("{} has no {} address to send from", node(*space), family.word())
        }
        Cause::RoutingLoop { space } => format!(
            "the packet goes round in circles (its TTL of {} runs out at {}): a routing loop",
            super::walk::TTL,
            node(*space)
        ),
        Cause::TtlExpired { space } => format!(
            "the path is longer than a ping's TTL allows: {} is router number {} on the way and drops it (at most {} routers forward a packet that starts with TTL {})",
            node(*space),
            super::walk::TTL,
            super::walk::TTL - 1,
            super::walk::TTL
        ),
    }
}

/// The namespace has a default route of the family in its lab (or live) routes.
pub(crate) fn has_default(network: &Network, space: usize, family: Family) -> bool {
    network.spaces[space]
        .routes
        .iter()
        .any(|route| route.destination.prefix_len() == 0 && Family::of(&route.destination.addr()) == family)
}
