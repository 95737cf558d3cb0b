//! Suggested fixes: for what stops a ping, a description, the command that fixes the
//! kernel now, and the lab edit that fixes the lab (which the editor applies as one undo
//! step). Where several fixes could do (which router to route through), each is tried on
//! the lab and the one that makes the ping reach is kept.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::address::{is_link_local, Family};
use crate::edit::{set_bridge, set_interface, set_node, InterfaceChange, NodeChange};
use crate::identity::Netns;
use crate::lab::{Lab, Link, Route};
use crate::shell::sh_word;

use super::network::{IfaceKind, InterfacePlace, Network};
use super::reason::has_default;
use super::segment::endpoints_of;
use super::walk::Cause;

/// A way to fix what stops a ping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// What to do, in words.
    pub description: String,
    /// The command that does it in the kernel now (`ip -n left route add default via 10.0.1.1`).
    pub command: String,
    /// The same change to the lab; None where the lab cannot say it, or already says it
    /// and only the kernel differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<LabFix>,
}

/// A change to the lab that a fix makes. [`LabFix::apply`] returns the changed lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum LabFix {
    /// Append a route to a namespace (or host) node.
    AddRoute { node: String, route: Route },
    /// Replace `routes[index]` of the node.
    ReplaceRoute { node: String, index: usize, route: Route },
    /// Remove `routes[index]` of the node.
    RemoveRoute { node: String, index: usize },
    /// Turn forwarding of the family on in the node.
    SetForwarding { node: String, family: Family },
    /// Bring an interface (a veth end or a bridge) up.
    SetUp { interface: InterfacePlace },
    /// Bring the node's `lo` up.
    SetLoopbackUp { node: String },
    /// Remove the `loss` of a veth end's impairment (and the impairment, if nothing is left).
    ClearLoss { link: usize, side: crate::topology::Side },
    /// Remove one address (as written) from an interface.
    RemoveAddress { interface: InterfacePlace, address: String },
}

impl LabFix {
    /// The lab with the fix made; refused (with a sentence) when what it names is gone.
    pub fn apply(&self, lab: &Lab) -> Result<Lab, String> {
        match self {
            LabFix::AddRoute { node, route } => {
                let mut routes = routes_of(lab, node)?;
                routes.push(route.clone());
                set_node(lab, node, NodeChange::Routes(routes))
            }
            LabFix::ReplaceRoute { node, index, route } => {
                let mut routes = routes_of(lab, node)?;
                *routes.get_mut(*index).ok_or_else(|| no_route(node, *index))? = route.clone();
                set_node(lab, node, NodeChange::Routes(routes))
            }
            LabFix::RemoveRoute { node, index } => {
                let mut routes = routes_of(lab, node)?;
                if *index >= routes.len() {
                    return Err(no_route(node, *index));
                }
                routes.remove(*index);
                set_node(lab, node, NodeChange::Routes(routes))
            }
            LabFix::SetForwarding { node, family: Family::V4 } => set_node(lab, node, NodeChange::Ipv4Forwarding(true)),
            LabFix::SetForwarding { node, family: Family::V6 } => set_node(lab, node, NodeChange::Ipv6Forwarding(true)),
            LabFix::SetUp { interface } => change_interface(lab, interface, InterfaceChange::Up(true)),
            LabFix::SetLoopbackUp { node } => set_node(lab, node, NodeChange::LoopbackUp(true)),
            LabFix::ClearLoss { link, side } => {
                let mut next = lab.clone();
                let end = next.veth_end_mut(*link, *side).ok_or_else(|| format!("there is no link {link}"))?;
                if let Some(netem) = &mut end.netem {
                    netem.loss = None;
                    if *netem == crate::netem::Netem::default() {
                        end.netem = None;
                    }
                }
                Ok(next)
            }
            LabFix::RemoveAddress { interface, address } => {
                let addresses = addresses_of(lab, interface)?;
                let removed = crate::address::parse_interface_address(address).ok();
                let same = |written: &String| {
                    written == address || crate::address::parse_interface_address(written).ok() == removed
                };
                let kept = addresses.iter().filter(|written| !same(written)).cloned().collect();
                change_interface(lab, interface, InterfaceChange::Addresses(kept))
            }
        }
    }
}

fn no_route(node: &str, index: usize) -> String {
    format!("`{node}` has no route {index}")
}

fn routes_of(lab: &Lab, node: &str) -> Result<Vec<Route>, String> {
    lab.node(node).map(|found| found.routes().to_vec()).ok_or_else(|| format!("there is no node called `{node}`"))
}

fn change_interface(lab: &Lab, interface: &InterfacePlace, change: InterfaceChange) -> Result<Lab, String> {
    match interface {
        InterfacePlace::Veth { link, side } => set_interface(lab, *link, *side, change),
        InterfacePlace::Bridge { node } => set_bridge(lab, node, change),
    }
}

fn addresses_of(lab: &Lab, interface: &InterfacePlace) -> Result<Vec<String>, String> {
    match interface {
        InterfacePlace::Veth { link, side } => match lab.links.get(*link) {
            Some(Link::Veth(veth)) => Ok(veth.end(*side).addresses.clone()),
            None => Err(format!("there is no link {link}")),
        },
        InterfacePlace::Bridge { node } => match lab.node(node) {
            Some(crate::lab::Node::Bridge(bridge)) => Ok(bridge.addresses.clone()),
            _ => Err(format!("there is no bridge called `{node}`")),
        },
    }
}

/// The fixes worth trying for a cause, best first. `destination` is where the walk that
/// stopped was going.
pub(crate) fn candidates(network: &Network, cause: &Cause, destination: IpAddr) -> Vec<Fix> {
    match cause {
        Cause::NoRoute { space, destination } => {
            let mut fixes = new_routes(network, *space, *destination);
            fixes.extend(on_link_route(network, *space, *destination));
            fixes
        }
        Cause::GatewayOffSubnet { space, route, gateway } => {
            let mut fixes = replaced_gateways(network, *space, *route, *gateway);
            fixes.extend(route.and_then(|index| removed_route(network, *space, index, *gateway)));
            fixes
        }
        Cause::NextHopUnheld { space, next_hop, route: Some(index), .. } => {
            replaced_gateways(network, *space, Some(*index), *next_hop)
        }
        Cause::NextHopUnheld { space, .. } => new_routes(network, *space, destination),
        Cause::ForwardingOff { space, family } => vec![forwarding_on(network, *space, *family)],
        Cause::InterfaceDown { iface } | Cause::BridgeDown { iface } => vec![brought_up(network, *iface)],
        Cause::NoCarrier { iface, peer } => {
            let down_peer = peer.filter(|&peer| !network.interfaces[peer].up);
            vec![brought_up(network, down_peer.unwrap_or(*iface))]
        }
        Cause::TotalLoss { iface } => cleared_loss(network, *iface).into_iter().collect(),
        Cause::DuplicateAddress { address, other, .. } => removed_address(network, *other, *address).into_iter().collect(),
        Cause::LoopbackDown { space } => vec![loopback_up(network, *space)],
        Cause::UnknownAddress { destination } => vec![Fix {
            description: format!(
                "ping an address that a namespace holds (`nslab reach` lists them), or give {destination} to an interface"
            ),
            command: String::new(),
            edit: None,
        }],
        Cause::NoSourceAddress { space, family } => vec![Fix {
            description: format!(
                "give an interface of `{}` an {} address",
                network.spaces[*space].node,
                family.word()
            ),
            command: String::new(),
            edit: None,
        }],
        Cause::TtlExpired { .. } => vec![Fix {
            description: "shorten the path (a more direct link or route), or ping with a larger TTL (`ping -t 255`)"
                .to_string(),
            command: String::new(),
            edit: None,
        }],
        Cause::RoutingLoop { .. } => vec![Fix {
            description: "follow the hops above and remove or correct the route that sends the packet back".to_string(),
            command: String::new(),
            edit: None,
        }],
    }
}

/// Addresses of neighbours on the namespace's links that could be its gateway, those
/// that forward first.
fn gateways(network: &Network, space: usize, family: Family) -> Vec<IpAddr> {
    let mut found: Vec<(bool, IpAddr)> = Vec::new();
    for &own in &network.spaces[space].interfaces {
        let interface = &network.interfaces[own];
        if !interface.up || matches!(interface.kind, IfaceKind::Port { .. }) {
            continue;
        }
        let subnets: Vec<IpNet> = interface
            .addresses
            .iter()
            .filter(|net| Family::of(&net.addr()) == family && !is_link_local(&net.addr()))
            .map(|net| net.trunc())
            .collect();
        for neighbour in endpoints_of(network, own) {
            let other = &network.interfaces[neighbour];
            if other.space == space {
                continue;
            }
            let forwards = network.spaces[other.space].forwards(family);
            for net in &other.addresses {
                let address = net.addr();
                if subnets.iter().any(|subnet| subnet.contains(&address)) && !found.iter().any(|(_, a)| *a == address) {
                    found.push((forwards, address));
                }
            }
        }
    }
    found.sort_by_key(|(forwards, _)| !forwards);
    found.into_iter().map(|(_, address)| address).collect()
}

/// The namespace (by node name) that holds an address, for the description.
fn holder_name(network: &Network, address: IpAddr) -> Option<&str> {
    network
        .interfaces
        .iter()
        .find(|interface| interface.holds(address))
        .map(|interface| network.spaces[interface.space].node.as_str())
}

/// A route to the destination (a default route, when the namespace has none of the family)
/// through each possible gateway.
fn new_routes(network: &Network, space: usize, destination: IpAddr) -> Vec<Fix> {
    let family = Family::of(&destination);
    let here = &network.spaces[space];
    let to = if has_default(network, space, family) { host_route(destination) } else { "default".to_string() };
    gateways(network, space, family)
        .into_iter()
        .map(|gateway| {
            let route = Route { to: to.clone(), via: Some(gateway.to_string()), dev: None, metric: None };
            let through = through(network, gateway);
            let what = if to == "default" { "a default route".to_string() } else { format!("a route to {to}") };
            Fix {
                description: format!("add {what} to `{}` through {through}", here.node),
                command: format!("{} route add {to} via {gateway}", network.ip_in(space)),
                edit: here.has_node.then(|| LabFix::AddRoute { node: here.node.clone(), route }),
            }
        })
        .collect()
}

/// When the destination is held on one of the namespace's links, in a subnet the namespace
/// has no address in: a route to that subnet through the link (`dev`), no gateway needed.
fn on_link_route(network: &Network, space: usize, destination: IpAddr) -> Option<Fix> {
    let here = &network.spaces[space];
    let (out, net) = here.interfaces.iter().find_map(|&own| {
        let interface = &network.interfaces[own];
        if !interface.up || matches!(interface.kind, IfaceKind::Port { .. }) {
            return None;
        }
        endpoints_of(network, own).into_iter().find_map(|neighbour| {
            let net = network.interfaces[neighbour].addresses.iter().find(|net| net.addr() == destination)?;
            Some((own, net.trunc()))
        })
    })?;
    let dev = &network.interfaces[out].name;
    let route = Route { to: net.to_string(), via: None, dev: Some(dev.clone()), metric: None };
    Some(Fix {
        description: format!("add a route to {net} out of `{dev}` to `{}`: {destination} is on that link", here.node),
        command: format!("{} route add {net} dev {}", network.ip_in(space), sh_word(dev)),
        edit: here.has_node.then(|| LabFix::AddRoute { node: here.node.clone(), route }),
    })
}

fn host_route(destination: IpAddr) -> String {
    let length = if destination.is_ipv4() { 32 } else { 128 };
    format!("{destination}/{length}")
}

fn through(network: &Network, gateway: IpAddr) -> String {
    match holder_name(network, gateway) {
        Some(node) => format!("`{node}` ({gateway})"),
        None => gateway.to_string(),
    }
}

/// The route `index` of the namespace's node with each possible gateway instead.
fn replaced_gateways(network: &Network, space: usize, index: Option<usize>, old: IpAddr) -> Vec<Fix> {
    let here = &network.spaces[space];
    let Some(index) = index else { return Vec::new() };
    let Some(written) = here.routes.iter().find(|route| route.index == Some(index)) else { return Vec::new() };
    let to =
        if written.destination.prefix_len() == 0 { "default".to_string() } else { written.destination.to_string() };
    gateways(network, space, Family::of(&old))
        .into_iter()
        .filter(|gateway| *gateway != old)
        .map(|gateway| {
            let route = Route {
                to: to.clone(),
                via: Some(gateway.to_string()),
                dev: written.dev.clone(),
                metric: crate::validate::lab_metric(&written.destination, written.metric),
            };
            let dev = written.dev.as_ref().map(|dev| format!(" dev {}", sh_word(dev))).unwrap_or_default();
            Fix {
                description: format!(
                    "route `{to}` of `{}` through {} instead of {old}",
                    here.node,
                    through(network, gateway)
                ),
                command: format!("{} route replace {to} via {gateway}{dev}", network.ip_in(space)),
                edit: here.has_node.then(|| LabFix::ReplaceRoute { node: here.node.clone(), index, route }),
            }
        })
        .collect()
}

fn removed_route(network: &Network, space: usize, index: usize, gateway: IpAddr) -> Option<Fix> {
    let here = &network.spaces[space];
    let written = here.routes.iter().find(|route| route.index == Some(index))?;
    let to =
        if written.destination.prefix_len() == 0 { "default".to_string() } else { written.destination.to_string() };
    Some(Fix {
        description: format!("remove the route `{to} via {gateway}` from `{}`", here.node),
        command: format!("{} route del {to} via {gateway}", network.ip_in(space)),
        edit: here.has_node.then(|| LabFix::RemoveRoute { node: here.node.clone(), index }),
    })
}

fn forwarding_on(network: &Network, space: usize, family: Family) -> Fix {
    let here = &network.spaces[space];
    let setting = match family {
        Family::V4 => "net.ipv4.ip_forward=1",
        Family::V6 => "net.ipv6.conf.all.forwarding=1",
    };
    let command = match &here.netns {
        Netns::Host => format!("sysctl -w {setting}"),
        Netns::Named(name) => format!("ip netns exec {} sysctl -w {setting}", sh_word(name)),
    };
    Fix {
        description: format!("turn {} forwarding on in `{}`", family.word(), here.node),
        command,
        edit: here.has_node.then(|| LabFix::SetForwarding { node: here.node.clone(), family }),
    }
}

fn brought_up(network: &Network, iface: usize) -> Fix {
    let interface = &network.interfaces[iface];
    let what = match interface.kind {
        IfaceKind::Bridge => format!("the bridge `{}`", interface.name),
        _ => format!("`{}` in `{}`", interface.name, network.spaces[interface.space].node),
    };
    Fix {
        description: format!("bring {what} up"),
        command: format!("{} link set {} up", network.ip_in(interface.space), sh_word(&interface.name)),
        edit: Some(LabFix::SetUp { interface: interface.place.clone() }),
    }
}

fn loopback_up(network: &Network, space: usize) -> Fix {
    let here = &network.spaces[space];
    Fix {
        description: format!("bring the loopback `lo` of `{}` up", here.node),
        command: format!("{} link set lo up", network.ip_in(space)),
        edit: matches!(here.netns, Netns::Named(_)).then(|| LabFix::SetLoopbackUp { node: here.node.clone() }),
    }
}

fn cleared_loss(network: &Network, iface: usize) -> Option<Fix> {
    let interface = &network.interfaces[iface];
    let InterfacePlace::Veth { link, side } = interface.place.clone() else { return None };
    let tc = match &network.spaces[interface.space].netns {
        Netns::Host => "tc".to_string(),
        Netns::Named(name) => format!("tc -n {}", sh_word(name)),
    };
    let mut rest = interface.netem.clone().unwrap_or_default();
    rest.loss = None;
    let dev = sh_word(&interface.name);
    let command = if rest.is_empty() {
        format!("{tc} qdisc del dev {dev} root")
    } else {
        format!("{tc} qdisc replace dev {dev} root netem {}", rest.tc_args())
    };
    Some(Fix {
        description: format!(
            "remove the 100% loss of `{}` in `{}`",
            interface.name, network.spaces[interface.space].node
        ),
        command,
        edit: Some(LabFix::ClearLoss { link, side }),
    })
}

fn removed_address(network: &Network, iface: usize, address: IpAddr) -> Option<Fix> {
    let interface = &network.interfaces[iface];
    let net = interface.addresses.iter().find(|net| net.addr() == address)?;
    Some(Fix {
        description: format!(
            "remove {address} from `{}` in `{}` (or give it another address)",
            interface.name, network.spaces[interface.space].node
        ),
        command: format!("{} addr del {net} dev {}", network.ip_in(interface.space), sh_word(&interface.name)),
        edit: Some(LabFix::RemoveAddress { interface: interface.place.clone(), address: net.to_string() }),
    })
}
