//! Nodes: adding, moving, renaming, and the inspector's settings of a node.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{editor_mut, interface_names_in, node_name_mut, position, refuse_new_clash, set_position, snap, Point};
use crate::identity::Netns;
use crate::lab::{BridgeNode, EditorData, HostNode, Lab, Link, NamespaceNode, Node, Route};
use crate::names::next_free_name;
use crate::topology::Topology;

/// What [`add_node`] adds. The host is added with [`add_host`]: a lab has at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Namespace,
    Bridge,
}

/// How far a new node is pushed when it would land exactly on another one (a toolbar
/// button clicked twice): the new boxes cascade instead of hiding each other.
const CASCADE: f64 = 40.0;

/// Adds a namespace (`ns1`, `ns2`, ... the first free) or a bridge (`br0`, `br1`, ... free
/// as a node name and as an interface name in the host, where a new bridge lives) at `at`,
/// snapped to the grid. Returns the new lab and the new node's name.
pub fn add_node(lab: &Lab, kind: NodeKind, at: Point) -> (Lab, String) {
    add_node_avoiding(lab, kind, at, |_| false)
}

/// As [`add_node`], skipping also the names for which `taken_in_kernel` says the kernel
/// holds something of that name that is not this lab's (a namespace `ns1` of another lab
/// for a namespace, an interface in the host for a bridge): a new node of that name would
/// be in its way at apply.
pub fn add_node_avoiding(
    lab: &Lab,
    kind: NodeKind,
    at: Point,
    taken_in_kernel: impl Fn(&str) -> bool,
) -> (Lab, String) {
    let nodes: HashSet<&str> = lab.nodes.iter().map(Node::name).collect();
    let (name, node) = match kind {
        NodeKind::Namespace => {
            let name = next_free_name("ns", 1, |name| nodes.contains(name) || taken_in_kernel(name));
            (name.clone(), Node::Namespace(NamespaceNode::new(name)))
        }
        NodeKind::Bridge => {
            let host = interface_names_in(&Topology::of(lab), &Netns::Host);
            let name =
                next_free_name("br", 0, |name| nodes.contains(name) || host.contains(name) || taken_in_kernel(name));
            (name.clone(), Node::Bridge(BridgeNode::new(name)))
        }
    };
    (with_node(lab, node, at), name)
}

/// Adds the host node (called `host` unless a node already is). A lab has one host: when
/// it has one already, the sentence says so.
pub fn add_host(lab: &Lab, at: Point) -> Result<(Lab, String), String> {
    if let Some(host) = lab.nodes.iter().find(|node| matches!(node, Node::Host(_))) {
        return Err(format!("the lab already has the host, `{}`; connect to that one", host.name()));
    }
    let nodes: HashSet<&str> = lab.nodes.iter().map(Node::name).collect();
    let name =
        if nodes.contains("host") { next_free_name("host", 2, |name| nodes.contains(name)) } else { "host".into() };
    let node = Node::Host(HostNode::new(name.clone()));
    Ok((with_node(lab, node, at), name))
}

fn with_node(lab: &Lab, mut node: Node, at: Point) -> Lab {
    let mut at = snap(at);
    let taken: HashSet<(i64, i64)> = lab.nodes.iter().filter_map(position).map(|p| key(snap(p))).collect();
    // Bounded: at most one step per node already there.
    for _ in 0..=lab.nodes.len() {
        if !taken.contains(&key(at)) {
            break;
        }
        at = Point { x: at.x + CASCADE, y: at.y + CASCADE };
    }
    set_position(&mut node, at);
    let mut next = lab.clone();
    next.nodes.push(node);
    next
}

fn key(at: Point) -> (i64, i64) {
    (at.x as i64, at.y as i64)
}

/// Moves the named nodes by `by`; each lands on the grid. A node without a position
/// moves from the origin (where the editor draws it). Unknown names are ignored.
pub fn move_nodes<S: AsRef<str>>(lab: &Lab, names: impl IntoIterator<Item = S>, by: Point) -> Lab {
    let names: HashSet<String> = names.into_iter().map(|name| name.as_ref().to_string()).collect();
    let mut next = lab.clone();
    for node in &mut next.nodes {
        if names.contains(node.name()) {
            let at = position(node).unwrap_or(Point::ORIGIN);
            set_position(node, snap(Point { x: at.x + by.x, y: at.y + by.y }));
        }
    }
    next
}

/// Puts the named node at `at`, snapped. An unknown name leaves the lab as it is.
pub fn place_node(lab: &Lab, name: &str, at: Point) -> Lab {
    let mut next = lab.clone();
    if let Some(node) = next.node_mut(name) {
        set_position(node, snap(at));
    }
    next
}

/// Renames a node and every reference to it: link ends, bridges living in it, and for a
/// bridge (which is also an interface) routes through it in its namespace. Refused: an
/// unknown node, an empty name, a name another node has, and for a bridge a name another
/// interface in its namespace has. Other problems of the name are left to validation.
pub fn rename_node(lab: &Lab, old: &str, new: &str) -> Result<Lab, String> {
    let Some(index) = lab.nodes.iter().position(|node| node.name() == old) else {
        return Err(format!("there is no node called `{old}`"));
    };
    if new == old {
        return Ok(lab.clone());
    }
    if new.is_empty() {
        return Err(format!("a {} needs a name", lab.nodes[index].kind_word()));
    }
    if let Some(other) = lab.nodes.iter().find(|node| node.name() == new) {
        return Err(format!("there is already a {} called `{new}`; every node needs its own name", other.kind_word()));
    }
    let mut next = lab.clone();
    if matches!(lab.nodes[index], Node::Bridge(_)) {
        let topology = Topology::of(lab);
        if let Some(netns) = topology.netns_of_node(old) {
            rename_route_devices(&mut next, &topology, netns, old, new);
        }
    }
    *node_name_mut(&mut next.nodes[index]) = new.to_string();
    for node in &mut next.nodes {
        if let Node::Bridge(bridge) = node {
            if bridge.namespace.as_deref() == Some(old) {
                bridge.namespace = Some(new.to_string());
            }
        }
    }
    for link in &mut next.links {
        let Link::Veth(veth) = link;
        for end in [&mut veth.a, &mut veth.b] {
            if end.node == old {
                end.node = new.to_string();
            }
        }
    }
    refuse_new_clash(lab, next)
}

/// Routes in `netns` that go out through `old` go out through `new` (the kernel's routes
/// follow a renamed device). Done only when `old` names one interface there: with two,
/// which one a route meant is unknown, and validation already reports the clash.
pub(super) fn rename_route_devices(next: &mut Lab, before: &Topology, netns: &Netns, old: &str, new: &str) {
    if before.interfaces_in(netns).filter(|interface| interface.name == old).count() != 1 {
        return;
    }
    let owners: HashSet<String> = before_owners(before, next, netns);
    for node in &mut next.nodes {
        if !owners.contains(node.name()) {
            continue;
        }
        for route in routes_mut(node).into_iter().flatten() {
            if route.dev.as_deref() == Some(old) {
                route.dev = Some(new.to_string());
            }
        }
    }
}

/// Names of the nodes whose routes live in `netns` (the host node, or the namespace).
fn before_owners(before: &Topology, lab: &Lab, netns: &Netns) -> HashSet<String> {
    lab.nodes
        .iter()
        .filter(|node| !matches!(node, Node::Bridge(_)))
        .filter(|node| before.netns_of_node(node.name()) == Some(netns))
        .map(|node| node.name().to_string())
        .collect()
}

pub(super) fn routes_mut(node: &mut Node) -> Option<&mut Vec<Route>> {
    match node {
        Node::Host(host) => Some(&mut host.routes),
        Node::Namespace(namespace) => Some(&mut namespace.routes),
        Node::Bridge(_) => None,
    }
}

/// Routes through interfaces that an edit removed (or moved to another namespace) go, as
/// the kernel drops a device's routes with the device. Routes whose device was already
/// missing before the edit stay: they are the user's to fix, and validation says so.
pub(super) fn drop_routes_through_gone(before: &Lab, after: &mut Lab) {
    let old = Topology::of(before);
    let gone: HashMap<String, HashSet<String>> = {
        let new = Topology::of(after);
        after
            .nodes
            .iter()
            .filter(|node| !node.routes().is_empty())
            .filter_map(|node| {
                let was = interface_names_in(&old, old.netns_of_node(node.name())?);
                let now =
                    new.netns_of_node(node.name()).map(|netns| interface_names_in(&new, netns)).unwrap_or_default();
                let gone: HashSet<String> = was.difference(&now).cloned().collect();
                (!gone.is_empty()).then(|| (node.name().to_string(), gone))
            })
            .collect()
    };
    for node in &mut after.nodes {
        let Some(gone) = gone.get(node.name()) else { continue };
        if let Some(routes) = routes_mut(node) {
            routes.retain(|route| route.dev.as_ref().is_none_or(|dev| !gone.contains(dev)));
        }
    }
}

/// A setting of a node, as the inspector changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeChange {
    /// Namespaces: bring `lo` up.
    LoopbackUp(bool),
    /// Namespaces and the host: IPv4 forwarding.
    Ipv4Forwarding(bool),
    /// Namespaces and the host: IPv6 forwarding.
    Ipv6Forwarding(bool),
    /// Namespaces and the host: the whole route list, as typed (validation parses it).
    Routes(Vec<Route>),
    /// Bridges: the namespace or host node it lives in (None: the host namespace). Its
    /// ports move with it; routes through them in the old namespace go.
    BridgeNamespace(Option<String>),
    /// Any node: its colour on the canvas (None: the default).
    Color(Option<String>),
    /// Any node: a free note.
    Note(Option<String>),
}

/// Changes one setting of the named node. Refused: an unknown node, a setting the node's
/// kind does not have, a bridge moved into a node that is not a namespace or the host, or
/// into a namespace where its name or a port's name is taken.
pub fn set_node(lab: &Lab, name: &str, change: NodeChange) -> Result<Lab, String> {
    let Some(index) = lab.nodes.iter().position(|node| node.name() == name) else {
        return Err(format!("there is no node called `{name}`"));
    };
    let mut next = lab.clone();
    let node = &mut next.nodes[index];
    let kind = node.kind_word();
    let no_such = |what: &str| Err(format!("a {kind} has no {what}"));
    match (node, change) {
        (Node::Namespace(namespace), NodeChange::LoopbackUp(up)) => namespace.loopback_up = up,
        (_, NodeChange::LoopbackUp(_)) => return no_such("loopback setting; only namespaces do"),
        (Node::Namespace(namespace), NodeChange::Ipv4Forwarding(on)) => namespace.ipv4_forwarding = on,
        (Node::Host(host), NodeChange::Ipv4Forwarding(on)) => host.ipv4_forwarding = Some(on),
        (Node::Namespace(namespace), NodeChange::Ipv6Forwarding(on)) => namespace.ipv6_forwarding = on,
        (Node::Host(host), NodeChange::Ipv6Forwarding(on)) => host.ipv6_forwarding = Some(on),
        (Node::Bridge(_), NodeChange::Ipv4Forwarding(_) | NodeChange::Ipv6Forwarding(_)) => {
            return no_such("forwarding setting; set it on the namespace the bridge lives in")
        }
        (node, NodeChange::Routes(routes)) => match routes_mut(node) {
            Some(mine) => *mine = routes,
            None => return no_such("routes; put them on the namespace the bridge lives in"),
        },
        (Node::Bridge(_), NodeChange::BridgeNamespace(home)) => return move_bridge(lab, index, home),
        (_, NodeChange::BridgeNamespace(_)) => return no_such("home namespace; only bridges live in one"),
        (node, NodeChange::Color(color)) => editor_mut(node).get_or_insert_with(EditorData::default).color = color,
        (node, NodeChange::Note(note)) => editor_mut(node).get_or_insert_with(EditorData::default).note = note,
    }
    Ok(next)
}

fn move_bridge(lab: &Lab, index: usize, home: Option<String>) -> Result<Lab, String> {
    let home = match home.as_deref().map(|name| (name, lab.node(name))) {
        None => None,
        Some((_, Some(Node::Host(_)))) => None,
        Some((name, Some(Node::Namespace(_)))) => Some(name.to_string()),
        Some((name, Some(Node::Bridge(_)))) => {
            return Err(format!("`{name}` is a bridge; a bridge lives in a namespace or the host"))
        }
        Some((name, None)) => return Err(format!("there is no node called `{name}`")),
    };
    let mut next = lab.clone();
    if let Node::Bridge(bridge) = &mut next.nodes[index] {
        bridge.namespace = home;
    }
    drop_routes_through_gone(lab, &mut next);
    refuse_new_clash(lab, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::connect;
    use crate::validate;

    fn p(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    fn names(lab: &Lab) -> Vec<&str> {
        lab.nodes.iter().map(Node::name).collect()
    }

    #[test]
    fn new_nodes_take_the_first_free_name() {
        let mut lab = Lab::new("t");
        let mut made = Vec::new();
        for kind in [NodeKind::Namespace, NodeKind::Namespace, NodeKind::Bridge, NodeKind::Bridge, NodeKind::Namespace]
        {
            let (next, name) = add_node(&lab, kind, p(0.0, 0.0));
            lab = next;
            made.push(name);
        }
        assert_eq!(made, ["ns1", "ns2", "br0", "br1", "ns3"]);
        let lab = crate::edit::delete(&lab, &crate::edit::Selection::node("ns1"));
        let (lab, name) = add_node(&lab, NodeKind::Namespace, p(0.0, 0.0));
        assert_eq!(name, "ns1", "a deleted name is free again");
        let (_, name) = add_node(&lab, NodeKind::Namespace, p(0.0, 0.0));
        assert_eq!(name, "ns4");
    }

    #[test]
    fn new_nodes_skip_names_the_kernel_gives_to_another_lab() {
        let lab = Lab::new("t");
        let taken = |name: &str| matches!(name, "ns1" | "ns2" | "br0");
        let (lab, name) = add_node_avoiding(&lab, NodeKind::Namespace, p(0.0, 0.0), taken);
        assert_eq!(name, "ns3");
        let (_, name) = add_node_avoiding(&lab, NodeKind::Bridge, p(0.0, 0.0), taken);
        assert_eq!(name, "br1");
    }

    #[test]
    fn a_new_bridge_avoids_node_names_and_host_interfaces() {
        let mut lab = Lab::new("t");
        lab.nodes.push(Node::Namespace(NamespaceNode::new("br0")));
        lab.nodes.push(Node::Host(HostNode::new("host")));
        lab.nodes.push(Node::Namespace(NamespaceNode::new("ns1")));
        lab.links.push(Link::Veth(crate::lab::VethLink {
            a: crate::lab::Endpoint::new("host", "br1"),
            b: crate::lab::Endpoint::new("ns1", "eth0"),
            editor: None,
        }));
        let (lab, name) = add_node(&lab, NodeKind::Bridge, p(0.0, 0.0));
        assert_eq!(name, "br2");
        assert!(validate(&lab).iter().all(|problem| !problem.is_error()), "{:?}", validate(&lab));
    }

    #[test]
    fn new_nodes_snap_to_the_grid_and_do_not_hide_each_other() {
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, p(109.0, 51.0));
        assert_eq!(position(&lab.nodes[0]), Some(p(100.0, 60.0)));
        let (lab, _) = add_node(&lab, NodeKind::Namespace, p(101.0, 59.0));
        assert_eq!(position(&lab.nodes[1]), Some(p(140.0, 100.0)));
    }

    #[test]
    fn the_host_is_added_once() {
        let (lab, name) = add_host(&Lab::new("t"), p(0.0, 0.0)).unwrap();
        assert_eq!(name, "host");
        assert!(add_host(&lab, p(0.0, 0.0)).unwrap_err().contains("already has the host"));
        let mut taken = Lab::new("t");
        taken.nodes.push(Node::Namespace(NamespaceNode::new("host")));
        assert_eq!(add_host(&taken, p(0.0, 0.0)).unwrap().1, "host2");
    }

    #[test]
    fn moving_keeps_other_editor_data_and_snaps() {
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, p(100.0, 100.0));
        let (lab, _) = add_node(&lab, NodeKind::Namespace, p(300.0, 100.0));
        let lab = set_node(&lab, "ns1", NodeChange::Color(Some("#f00".into()))).unwrap();
        let moved = move_nodes(&lab, ["ns1", "nope"], p(33.0, -12.0));
        assert_eq!(position(&moved.nodes[0]), Some(p(140.0, 80.0)));
        assert_eq!(moved.nodes[0].editor().unwrap().color.as_deref(), Some("#f00"));
        assert_eq!(position(&moved.nodes[1]), Some(p(300.0, 100.0)));
        let placed = place_node(&moved, "ns2", p(-31.0, 9.0));
        assert_eq!(position(&placed.nodes[1]), Some(p(-40.0, 0.0)));
        assert_eq!(position(&lab.nodes[0]), Some(p(100.0, 100.0)), "the input is unchanged");
    }

    #[test]
    fn renaming_updates_every_reference() {
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, p(0.0, 0.0));
        let (lab, _) = add_node(&lab, NodeKind::Bridge, p(200.0, 0.0));
        let (mut lab, _) = connect(&lab, "ns1", "br0").unwrap();
        if let Node::Bridge(bridge) = &mut lab.nodes[1] {
            bridge.namespace = Some("ns1".into());
        }
        if let Node::Namespace(ns) = &mut lab.nodes[0] {
            ns.routes.push(Route { to: "10.9.0.0/16".into(), via: None, dev: Some("br0".into()), metric: None });
        }
        let renamed = rename_node(&lab, "ns1", "web").unwrap();
        assert_eq!(names(&renamed), ["web", "br0"]);
        let Link::Veth(veth) = &renamed.links[0];
        assert_eq!(veth.a.node, "web");
        let Node::Bridge(bridge) = &renamed.nodes[1] else { unreachable!() };
        assert_eq!(bridge.namespace.as_deref(), Some("web"));
        let renamed = rename_node(&renamed, "br0", "lan").unwrap();
        let Link::Veth(veth) = &renamed.links[0];
        assert_eq!(veth.b.node, "lan");
        assert_eq!(renamed.nodes[0].routes()[0].dev.as_deref(), Some("lan"), "routes follow a renamed bridge");
    }

    #[test]
    fn renaming_refuses_what_makes_no_sense() {
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, p(0.0, 0.0));
        let (lab, _) = add_node(&lab, NodeKind::Namespace, p(200.0, 0.0));
        let (lab, _) = add_node(&lab, NodeKind::Bridge, p(200.0, 0.0));
        let (lab, _) = add_host(&lab, p(400.0, 0.0)).unwrap();
        let (lab, _) = connect(&lab, "host", "ns1").unwrap();
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("ns1", "", Some("a namespace needs a name")),
            ("ns1", "ns2", Some("there is already a namespace called `ns2`; every node needs its own name")),
            ("ns9", "x", Some("there is no node called `ns9`")),
            ("br0", "veth-ns1", Some("The host namespace already has an interface called `veth-ns1`; names must differ within a namespace")),
            ("ns1", "ns1", None),
            ("ns1", "a name with spaces", None),
        ];
        for (old, new, want) in cases {
            match (rename_node(&lab, old, new), want) {
                (Ok(_), None) => {}
                (Err(error), Some(want)) => assert_eq!(&error, want),
                (got, want) => panic!("{old} -> {new}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn node_settings_fit_the_node() {
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, p(0.0, 0.0));
        let (lab, _) = add_node(&lab, NodeKind::Bridge, p(200.0, 0.0));
        let (lab, _) = add_host(&lab, p(400.0, 0.0)).unwrap();
        let cases: Vec<(&str, NodeChange, Result<(), &str>)> = vec![
            ("ns1", NodeChange::LoopbackUp(false), Ok(())),
            ("ns1", NodeChange::Ipv4Forwarding(true), Ok(())),
            ("host", NodeChange::Ipv6Forwarding(true), Ok(())),
            ("br0", NodeChange::LoopbackUp(false), Err("a bridge has no loopback setting; only namespaces do")),
            (
                "br0",
                NodeChange::Routes(vec![]),
                Err("a bridge has no routes; put them on the namespace the bridge lives in"),
            ),
            (
                "ns1",
                NodeChange::BridgeNamespace(None),
                Err("a namespace has no home namespace; only bridges live in one"),
            ),
            ("br0", NodeChange::BridgeNamespace(Some("ns1".into())), Ok(())),
            (
                "br0",
                NodeChange::BridgeNamespace(Some("br0".into())),
                Err("`br0` is a bridge; a bridge lives in a namespace or the host"),
            ),
            ("br0", NodeChange::BridgeNamespace(Some("zz".into())), Err("there is no node called `zz`")),
            ("zz", NodeChange::Note(None), Err("there is no node called `zz`")),
            ("br0", NodeChange::Note(Some("uplink".into())), Ok(())),
        ];
        for (name, change, want) in cases {
            let got = set_node(&lab, name, change.clone());
            assert_eq!(got.as_ref().map(|_| ()).map_err(String::as_str), want, "{name} {change:?}");
        }
        let moved = set_node(&lab, "br0", NodeChange::BridgeNamespace(Some("host".into()))).unwrap();
        let Node::Bridge(bridge) = &moved.nodes[1] else { unreachable!() };
        assert_eq!(bridge.namespace, None, "the host is where a bridge lives by default");
    }
}
