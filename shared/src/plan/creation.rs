//! A lab from nothing, and back: the plan of a kernel that has none of it, which is also
//! the `ip` script. Both expect a lab without validation errors; on a broken lab they skip
//! what they cannot make sense of rather than panic.

use std::collections::HashSet;

use crate::address::Family;
use crate::identity::{LinkRef, Netns};
use crate::lab::{Lab, Node};
use crate::ops::Op;
use crate::topology::{Interface, Role, Topology};
use crate::validate::parse_route;

/// Ops that build the lab on a kernel that has none of it, in dependency order:
/// namespaces, sysctls, bridges, veths (ports, MTU, MAC, addresses, up), bridges up once
/// their ports are in, then routes, which need their gateways' subnets to be up already.
pub fn creation_ops(lab: &Lab) -> Vec<Op> {
    let topology = Topology::of(lab);
    let mut ops = Vec::new();
    for node in &lab.nodes {
        if let Node::Namespace(namespace) = node {
            ops.push(Op::CreateNamespace { name: namespace.name.clone() });
            if namespace.loopback_up {
                ops.push(Op::SetLoopback { netns: Netns::Named(namespace.name.clone()), up: true });
            }
        }
    }
    ops.extend(forwarding_ops(lab));
    let mut bridges_up = Vec::new();
    let bridges = topology.interfaces.iter().filter(|i| matches!(i.role, Role::Bridge { .. }));
    for bridge in bridges {
        let (now, later) = bridge_creation(lab, bridge);
        ops.extend(now);
        bridges_up.extend(later);
    }
    for index in 0..lab.links.len() {
        let Some([a, b]) = topology.veth_ends(index) else {
            continue;
        };
        ops.push(Op::CreateVeth { a: link_ref(a), b: link_ref(b) });
        ops.extend(settings_ops(lab, &[a, b]));
    }
    ops.extend(bridges_up);
    ops.extend(route_ops(lab, &topology));
    ops
}

/// Ops that remove everything the lab made. Host-side veths and bridges are deleted
/// explicitly before the namespaces: a veth whose peer dies with a namespace only goes
/// away later (namespace teardown is asynchronous), and the caller should see it gone.
pub fn teardown_ops(lab: &Lab) -> Vec<Op> {
    let topology = Topology::of(lab);
    let mut ops = Vec::new();
    let mut deleted_links = HashSet::new();
    for interface in topology.interfaces_in(&Netns::Host) {
        if let Role::VethEnd { link, .. } = interface.role {
            if deleted_links.insert(link) {
                ops.push(Op::DeleteLink { link: link_ref(interface) });
            }
        }
    }
    for interface in topology.interfaces_in(&Netns::Host) {
        if let Role::Bridge { .. } = interface.role {
            ops.push(Op::DeleteLink { link: link_ref(interface) });
        }
    }
    for node in &lab.nodes {
        if let Node::Namespace(namespace) = node {
            ops.push(Op::DeleteNamespace { name: namespace.name.clone() });
        }
    }
    ops
}

pub(super) fn link_ref(interface: &Interface) -> LinkRef {
    LinkRef::new(interface.netns.clone(), interface.name)
}

fn forwarding_ops(lab: &Lab) -> Vec<Op> {
    let mut ops = Vec::new();
    for node in &lab.nodes {
        let (netns, v4, v6) = match node {
            Node::Namespace(namespace) => (
                Netns::Named(namespace.name.clone()),
                namespace.ipv4_forwarding.then_some(true),
                namespace.ipv6_forwarding.then_some(true),
            ),
            Node::Host(host) => (Netns::Host, host.ipv4_forwarding, host.ipv6_forwarding),
            Node::Bridge(_) => continue,
        };
        for (family, enabled) in [(Family::V4, v4), (Family::V6, v6)] {
            if let Some(enabled) = enabled {
                ops.push(Op::SetForwarding { netns: netns.clone(), family, enabled });
            }
        }
    }
    ops
}

/// A new bridge: the op that creates it with its settings, and apart from them the op
/// that brings it up, which belongs after its ports are attached. A bridge that is up
/// while ports join floods every port's first IPv6 multicast (MLD reports, neighbour and
/// router solicitations) to all the others, which grows with the square of the ports
/// (seconds of kernel work for a thousand); ports that join a bridge still down have that
/// traffic dropped at the port.
pub(super) fn bridge_creation(lab: &Lab, bridge: &Interface) -> (Vec<Op>, Option<Op>) {
    let mut now = vec![Op::CreateBridge { link: link_ref(bridge) }];
    let mut up = None;
    for op in settings_ops(lab, &[bridge]) {
        match op {
            Op::SetUp { up: true, .. } => up = Some(op),
            op => now.push(op),
        }
    }
    (now, up)
}

/// The settings of new interfaces (those made by one creating op): master, MTU, MAC and
/// admin state of each, then their addresses, then their impairments. The first group
/// follows the creating op directly, so the driver can carry it in the same request.
pub(super) fn settings_ops(lab: &Lab, interfaces: &[&Interface]) -> Vec<Op> {
    let mut ops = Vec::new();
    for interface in interfaces {
        let link = link_ref(interface);
        if let Role::VethEnd { bridge: Some(bridge), .. } = interface.role {
            ops.push(Op::SetMaster { link: link.clone(), master: lab.nodes[bridge].name().to_string() });
        }
        if let Some(mtu) = interface.mtu {
            ops.push(Op::SetMtu { link: link.clone(), mtu });
        }
        if let Some(mac) = interface.mac {
            ops.push(Op::SetMac { link: link.clone(), mac: mac.to_string() });
        }
        if interface.up {
            ops.push(Op::SetUp { link, up: true });
        }
    }
    for interface in interfaces {
        let link = link_ref(interface);
        ops.extend(
            interface.addresses.iter().map(|address| Op::AddAddress { link: link.clone(), address: address.clone() }),
        );
    }
    for interface in interfaces {
        if let Some(netem) = &interface.netem {
            ops.push(Op::SetNetem { link: link_ref(interface), netem: netem.clone() });
        }
    }
    ops
}

pub(super) fn route_ops(lab: &Lab, topology: &Topology) -> Vec<Op> {
    let mut ops = Vec::new();
    for node in &lab.nodes {
        let Some(netns) = topology.netns_of_node(node.name()) else {
            continue;
        };
        for route in node.routes() {
            let Ok(parsed) = parse_route(route) else {
                continue;
            };
            ops.push(Op::AddRoute {
                netns: netns.clone(),
                family: Family::of(&parsed.destination.addr()),
                route: route.clone(),
            });
        }
    }
    ops
}
