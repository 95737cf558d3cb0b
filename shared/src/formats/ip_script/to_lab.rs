//! What the script made, as a lab: each namespace a node, each bridge a node (in its
//! namespace), each veth pair a link whose ends plug into their bridge, else into their
//! namespace. The host is a node only when the lab uses it: a veth end left there off any
//! bridge, or the host's own forwarding or routes.

use crate::identity::Netns;
use crate::import::LeftOut;
use crate::lab::{BridgeNode, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, VethLink};
use crate::names::next_free_name;
use crate::scan::HOST_NODE;

use super::world::{Interface, Kind, World};

pub fn lab_of(world: World, lab_name: &str) -> (Lab, Vec<LeftOut>) {
    let host = host_name(&world);
    let mut lab = Lab::new(lab_name);
    let mut nodes: Vec<(usize, Node)> = Vec::new();
    for namespace in &world.namespaces {
        match &namespace.netns {
            Netns::Host => {
                let mut node = HostNode::new(host.clone());
                node.ipv4_forwarding = namespace.ipv4_forwarding;
                node.ipv6_forwarding = namespace.ipv6_forwarding;
                node.routes = namespace.routes.clone();
                let used = node.ipv4_forwarding.is_some() || node.ipv6_forwarding.is_some() || !node.routes.is_empty();
                if used || uses_host(&world) {
                    nodes.push((0, Node::Host(node)));
                }
            }
            Netns::Named(name) => {
                let mut node = NamespaceNode::new(name.clone());
                node.loopback_up = namespace.loopback_up;
                node.ipv4_forwarding = namespace.ipv4_forwarding.unwrap_or(false);
                node.ipv6_forwarding = namespace.ipv6_forwarding.unwrap_or(false);
                node.routes = namespace.routes.clone();
                nodes.push((namespace.made, Node::Namespace(node)));
            }
        }
    }
    if uses_host(&world) && !nodes.iter().any(|(_, node)| matches!(node, Node::Host(_))) {
        nodes.push((0, Node::Host(HostNode::new(host.clone()))));
    }
    for (_, interface) in world.live().filter(|(_, interface)| interface.kind == Kind::Bridge) {
        let mut node = BridgeNode::new(interface.name.clone());
        node.namespace = interface.netns.name().map(str::to_string);
        node.addresses = interface.addresses.clone();
        node.mtu = interface.mtu;
        node.up = interface.up;
        node.mac = interface.mac.clone();
        nodes.push((interface.made, Node::Bridge(node)));
    }
    nodes.sort_by_key(|(made, _)| *made);
    lab.nodes = nodes.into_iter().map(|(_, node)| node).collect();
    lab.links = veths(&world, &host);
    (lab, world.left_out)
}

/// `host`, or the first free `hostN` when a namespace or bridge is called that.
fn host_name(world: &World) -> String {
    let taken = world.node_names();
    if taken.contains(HOST_NODE) {
        next_free_name(HOST_NODE, 0, |name| taken.contains(name))
    } else {
        HOST_NODE.to_string()
    }
}

/// A veth end is in the host namespace on no bridge.
fn uses_host(world: &World) -> bool {
    world.live().any(|(_, i)| matches!(i.kind, Kind::Veth { .. }) && i.netns == Netns::Host && i.master.is_none())
}

fn veths(world: &World, host: &str) -> Vec<Link> {
    let mut pairs: Vec<(usize, &Interface, &Interface)> = world
        .live()
        .filter_map(|(_, interface)| match interface.kind {
            Kind::Veth { peer, first: true } => {
                let peer = world.interface(peer);
                Some((interface.made.min(peer.made), interface, peer))
            }
            _ => None,
        })
        .collect();
    pairs.sort_by_key(|(made, _, _)| *made);
    pairs
        .into_iter()
        .map(|(_, a, b)| {
            Link::Veth(VethLink { a: endpoint(world, a, host), b: endpoint(world, b, host), editor: None })
        })
        .collect()
}

fn endpoint(world: &World, interface: &Interface, host: &str) -> Endpoint {
    let node = match (interface.master, interface.netns.name()) {
        (Some(bridge), _) => world.interface(bridge).name.clone(),
        (None, Some(namespace)) => namespace.to_string(),
        (None, None) => host.to_string(),
    };
    let mut end = Endpoint::new(node, interface.name.clone());
    end.addresses = interface.addresses.clone();
    end.mtu = interface.mtu;
    end.up = interface.up;
    end.mac = interface.mac.clone();
    end.netem = interface.netem.clone();
    end
}
