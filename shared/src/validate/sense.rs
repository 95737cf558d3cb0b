//! Lab sense: things the kernel accepts but that make a lab behave unexpectedly. Warnings.

use std::collections::HashMap;
use std::hash::Hash;

use ipnet::IpNet;

use crate::address::{parse_interface_address, Family};
use crate::identity::Netns;
use crate::lab::{Lab, Node};
use crate::path::DocPath;
use crate::problem::Rule;
use crate::topology::{Interface, Role, Topology};

use super::routes::parse_route;
use super::Report;
use crate::address::is_link_local;

/// The MTU an interface gets when the lab does not set one.
pub const DEFAULT_MTU: u32 = 1500;

pub(super) fn check(lab: &Lab, topology: &Topology, report: &mut Report) {
    for segment in &topology.segments {
        let members: Vec<&Interface> = segment.interfaces.iter().map(|&i| &topology.interfaces[i]).collect();
        for family in [Family::V4, Family::V6] {
            check_subnets(&members, family, report);
        }
        check_mtus(&members, report);
    }
    check_gateways(lab, topology, report);
    for &link in &topology.bridge_loop_links {
        report.push(
            Rule::BridgeLoop,
            DocPath::root().field("links").index(link),
            "this veth closes a loop of bridges; without spanning tree, broadcast frames would circle forever",
        );
    }
    check_isolated_namespaces(lab, topology, report);
}

/// Every addressed member of a segment should share the segment's main subnet.
fn check_subnets(members: &[&Interface], family: Family, report: &mut Report) {
    let addressed: Vec<(&Interface, Vec<(usize, IpNet)>)> = members
        .iter()
        .filter(|interface| !interface.is_bridge_port())
        .map(|interface| (*interface, addresses_of(interface, family)))
        .filter(|(_, nets)| !nets.is_empty())
        .collect();
    if addressed.len() < 2 {
        return;
    }
    let main = most_common(addressed.iter().flat_map(|(_, nets)| nets.iter().map(|(_, net)| net.trunc())));
    let Some(main) = main else { return };
    for (interface, nets) in &addressed {
        let shares = nets.iter().any(|(_, net)| main.contains(&net.addr()) || net.trunc().contains(&main.network()));
        if !shares {
            let (index, net) = nets[0];
            report.push(
                Rule::SubnetMismatch,
                interface.path.field("addresses").index(index),
                format!(
                    "{net} on `{}` is not in {main}, the subnet of the other {} on this link; they cannot reach each other directly",
                    interface.name,
                    if members.len() > 2 { "interfaces" } else { "end" }
                ),
            );
        }
    }
}

fn addresses_of(interface: &Interface, family: Family) -> Vec<(usize, IpNet)> {
    interface
        .addresses
        .iter()
        .enumerate()
        .filter_map(|(index, text)| parse_interface_address(text).ok().map(|net| (index, net)))
        .filter(|(_, net)| Family::of(&net.addr()) == family && !is_link_local(&net.addr()))
        .collect()
}

/// All interfaces on one segment should carry the same MTU, or large frames are dropped.
fn check_mtus(members: &[&Interface], report: &mut Report) {
    // A bridge without an explicit MTU follows its ports, so it cannot disagree.
    let sized: Vec<(&Interface, u32)> = members
        .iter()
        .filter(|interface| !(matches!(interface.role, Role::Bridge { .. }) && interface.mtu.is_none()))
        .map(|interface| (*interface, interface.mtu.unwrap_or(DEFAULT_MTU)))
        .collect();
    let Some(main) = most_common(sized.iter().map(|(_, mtu)| *mtu)) else {
        return;
    };
    for (interface, mtu) in sized {
        if mtu != main {
            let path = if interface.mtu.is_some() { interface.path.field("mtu") } else { interface.path.clone() };
            report.push(
                Rule::MtuMismatch,
                path,
                format!(
                    "MTU {mtu} on `{}` differs from {main} on the rest of this link; frames larger than the smaller MTU are dropped",
                    interface.name
                ),
            );
        }
    }
}

/// The value seen most often; the earliest one wins a tie.
fn most_common<T: Eq + Hash + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: HashMap<T, (usize, usize)> = HashMap::new();
    for (order, value) in values.enumerate() {
        counts.entry(value).or_insert((0, order)).0 += 1;
    }
    counts.into_iter().max_by_key(|(_, (count, order))| (*count, std::cmp::Reverse(*order))).map(|(value, _)| value)
}

/// A gateway must sit in a subnet the namespace is connected to, and be reached there
/// directly: another route of the lab that covers it (more precisely than the subnet, or
/// replacing the kernel's own route to it) makes the kernel refuse the route when that one
/// is there first, which depends on the order of the apply's steps.
fn check_gateways(lab: &Lab, topology: &Topology, report: &mut Report) {
    for (index, node) in lab.nodes.iter().enumerate() {
        let Some(netns) = topology.netns_of_node(node.name()).cloned() else {
            continue;
        };
        if node.routes().is_empty() {
            continue;
        }
        let connected = connected_subnets(topology, &netns);
        let parsed: Vec<Option<_>> = node.routes().iter().map(|route| parse_route(route).ok()).collect();
        for (route_index, route) in parsed.iter().enumerate() {
            let Some(gateway) = route.as_ref().and_then(|route| route.via) else { continue };
            let path = DocPath::root().field("nodes").index(index).field("routes").index(route_index).field("via");
            if is_link_local(&gateway) {
                continue;
            }
            let Some(on_link) = connected.iter().filter(|net| net.contains(&gateway)).map(IpNet::prefix_len).max()
            else {
                report.push(
                    Rule::GatewayUnreachable,
                    path,
                    format!(
                        "gateway {gateway} is not in any subnet {netns} is connected to (by an interface that is up), so the kernel cannot reach it"
                    ),
                );
                continue;
            };
            let covering = parsed.iter().enumerate().find_map(|(other_index, other)| {
                let other = other.as_ref().filter(|_| other_index != route_index)?;
                let metric = node.routes()[other_index].metric;
                let length = other.destination.prefix_len();
                let covers = other.via.is_some()
                    && other.destination.contains(&gateway)
                    && (length > on_link || (length == on_link && replaces_connected(&gateway, metric)));
                covers.then_some((other_index, other.destination))
            });
            if let Some((other_index, destination)) = covering {
                report.push(
                    Rule::GatewayUnreachable,
                    path,
                    format!(
                        "gateway {gateway} would be reached through routes[{other_index}] ({destination}, through another gateway) instead of directly on its link: when that route is added first, the kernel refuses this one (ENETUNREACH for IPv4, EHOSTUNREACH for IPv6)"
                    ),
                );
            }
        }
    }
}

/// A route of the lab with this metric to a connected subnet of the gateway's family
/// replaces the kernel's own route to it (nslab adds routes with `replace`): IPv4
/// connected routes have metric 0, IPv6 ones 256.
fn replaces_connected(gateway: &std::net::IpAddr, metric: Option<u32>) -> bool {
    match Family::of(gateway) {
        Family::V4 => metric.unwrap_or(0) == 0,
        Family::V6 => metric == Some(256),
    }
}

/// The subnets of the namespace's interfaces that are up: the kernel has no route to the
/// subnet of an interface that is down, and refuses a gateway there.
fn connected_subnets(topology: &Topology, netns: &Netns) -> Vec<IpNet> {
    topology
        .interfaces_in(netns)
        .filter(|interface| interface.up)
        .flat_map(|interface| interface.addresses.iter())
        .filter_map(|text| parse_interface_address(text).ok())
        .map(|net| net.trunc())
        .collect()
}

fn check_isolated_namespaces(lab: &Lab, topology: &Topology, report: &mut Report) {
    for (index, node) in lab.nodes.iter().enumerate() {
        let Node::Namespace(namespace) = node else {
            continue;
        };
        let netns = Netns::Named(namespace.name.clone());
        if topology.interfaces_in(&netns).next().is_none() {
            report.push(
                Rule::IsolatedNamespace,
                DocPath::root().field("nodes").index(index),
                format!("namespace `{}` has nothing connected; draw a link to it to reach it", namespace.name),
            );
        }
    }
}
