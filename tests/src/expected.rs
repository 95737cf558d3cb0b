//! What the kernel should hold for a lab, in the same shape `kernel::read_kernel_state`
//! reads, and a readable difference between the two.

use std::collections::BTreeMap;

use ipnet::IpNet;
use nslab_model::address::parse_interface_address;
use nslab_model::identity::Netns;
use nslab_model::topology::{Role, Topology};
use nslab_model::validate::parse_route;
use nslab_model::{Lab, Node};

use crate::kernel::{KernelState, LinkState, NamespaceState, RouteState};

const DEFAULT_MTU: u32 = 1500;
/// The metric the kernel gives an IPv6 route added without one.
const DEFAULT_IPV6_METRIC: u32 = 1024;

/// The state a sandbox (whose own namespace starts with only `lo`, up) holds once the lab is built.
/// MACs the lab leaves to the kernel are empty: `differences` ignores them.
pub fn expected_state(lab: &Lab) -> KernelState {
    let topology = Topology::of(lab);
    let mut state = KernelState::default();
    state.namespaces.insert(Netns::Host, NamespaceState { loopback_up: true, ..Default::default() });
    for node in &lab.nodes {
        match node {
            Node::Namespace(namespace) => {
                let ns = NamespaceState {
                    loopback_up: namespace.loopback_up,
                    ipv4_forwarding: namespace.ipv4_forwarding,
                    ipv6_forwarding: namespace.ipv6_forwarding,
                    ..Default::default()
                };
                state.namespaces.insert(Netns::Named(namespace.name.clone()), ns);
            }
            Node::Host(host) => {
                let ns = state.namespaces.get_mut(&Netns::Host).expect("host inserted above");
                ns.ipv4_forwarding = host.ipv4_forwarding.unwrap_or(false);
                ns.ipv6_forwarding = host.ipv6_forwarding.unwrap_or(false);
            }
            Node::Bridge(_) => {}
        }
    }
    for interface in &topology.interfaces {
        let (kind, master, peer) = match interface.role {
            Role::Bridge { .. } => ("bridge", None, None),
            Role::VethEnd { link, side, bridge } => {
                let ends = topology.veth_ends(link).expect("a resolved end has a resolved link");
                let other = ends[side.other() as usize];
                let master = bridge.map(|index| lab.nodes[index].name().to_string());
                ("veth", master, Some((other.netns.clone(), other.name.to_string())))
            }
        };
        let link = LinkState {
            kind: kind.to_string(),
            up: interface.up,
            mtu: interface.mtu.unwrap_or_else(|| default_mtu(&topology, interface.role)),
            mac: interface.mac.unwrap_or_default().to_ascii_lowercase(),
            master,
            peer,
            addresses: interface.addresses.iter().map(|a| parse_interface_address(a).expect("valid lab")).collect(),
            multicast_snooping: (kind == "bridge").then_some(true),
        };
        let ns = state.namespaces.get_mut(&interface.netns).expect("namespace of a resolved interface");
        ns.links.insert(interface.name.to_string(), link);
    }
    for node in &lab.nodes {
        let Some(netns) = topology.netns_of_node(node.name()) else { continue };
        for route in node.routes() {
            let route_state = expected_route(&topology, netns, route);
            state.namespaces.get_mut(netns).expect("namespace").routes.insert(route_state);
        }
    }
    state
}

/// A bridge without its own MTU takes the smallest of its ports' (1500 with none).
fn default_mtu(topology: &Topology, role: Role) -> u32 {
    let Role::Bridge { node } = role else { return DEFAULT_MTU };
    topology
        .interfaces
        .iter()
        .filter(|i| matches!(i.role, Role::VethEnd { bridge: Some(b), .. } if b == node))
        .map(|port| port.mtu.unwrap_or(DEFAULT_MTU))
        .min()
        .unwrap_or(DEFAULT_MTU)
}

fn expected_route(topology: &Topology, netns: &Netns, route: &nslab_model::Route) -> RouteState {
    let parsed = parse_route(route).expect("valid lab");
    let dev = route.dev.clone().unwrap_or_else(|| {
        let gateway = parsed.via.expect("a route has via or dev");
        topology
            .interfaces_in(netns)
            .find(|i| {
                i.addresses.iter().any(|a| parse_interface_address(a).is_ok_and(|net| net.trunc().contains(&gateway)))
            })
            .map(|i| i.name.to_string())
            .expect("the gateway is on a connected subnet")
    });
    let metric =
        route.metric.unwrap_or(if matches!(parsed.destination, IpNet::V6(_)) { DEFAULT_IPV6_METRIC } else { 0 });
    RouteState { destination: parsed.destination, via: parsed.via.map(|v| v.to_string()), dev, metric }
}

/// Every way `actual` differs from `expected`, one sentence each; empty when they match.
pub fn differences(expected: &KernelState, actual: &KernelState) -> Vec<String> {
    let mut found = Vec::new();
    compare_keys("namespace", &expected.namespaces, &actual.namespaces, &mut found);
    for (netns, want) in &expected.namespaces {
        let Some(have) = actual.namespaces.get(netns) else { continue };
        let place = netns.to_string();
        for (what, w, h) in [
            ("loopback up", want.loopback_up, have.loopback_up),
            ("IPv4 forwarding", want.ipv4_forwarding, have.ipv4_forwarding),
            ("IPv6 forwarding", want.ipv6_forwarding, have.ipv6_forwarding),
        ] {
            if w != h {
                found.push(format!("{place}: {what} should be {w}, is {h}"));
            }
        }
        if want.routes != have.routes {
            found.push(format!("{place}: routes should be {:?}, are {:?}", want.routes, have.routes));
        }
        compare_keys(&format!("interface in {place}"), &want.links, &have.links, &mut found);
        for (name, want_link) in &want.links {
            let Some(have_link) = have.links.get(name) else { continue };
            let mut have_link = have_link.clone();
            if want_link.mac.is_empty() {
                have_link.mac.clear();
            }
            if *want_link != have_link {
                found.push(format!("{place}, `{name}`: should be {want_link:?}, is {have_link:?}"));
            }
        }
    }
    found
}

fn compare_keys<K: Ord + std::fmt::Debug, V>(
    what: &str,
    expected: &BTreeMap<K, V>,
    actual: &BTreeMap<K, V>,
    found: &mut Vec<String>,
) {
    for key in expected.keys().filter(|k| !actual.contains_key(k)) {
        found.push(format!("missing {what}: {key:?}"));
    }
    for key in actual.keys().filter(|k| !expected.contains_key(k)) {
        found.push(format!("unexpected {what}: {key:?}"));
    }
}
