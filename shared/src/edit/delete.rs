//! Deleting a selection of nodes and links.

use std::collections::HashSet;

use super::nodes::drop_routes_through_gone;
use super::Selection;
use crate::lab::{Lab, Link, Node};

/// Everything [`delete`] removes for `selection`: the selected nodes and links, the
/// bridges living in a selected namespace, and every link plugged into a removed node.
/// The editor can highlight it, or say "also removes 3 links" before it happens.
pub fn deleted_by(lab: &Lab, selection: &Selection) -> Selection {
    let mut nodes: HashSet<&str> = HashSet::new();
    let mut namespaces: HashSet<&str> = HashSet::new();
    for node in lab.nodes.iter().filter(|node| selection.nodes.contains(node.name())) {
        nodes.insert(node.name());
        if let Node::Namespace(namespace) = node {
            namespaces.insert(&namespace.name);
        }
    }
    // A bridge cannot live in a bridge, so one pass finds every bridge that goes.
    for node in &lab.nodes {
        if let Node::Bridge(bridge) = node {
            if bridge.namespace.as_deref().is_some_and(|home| namespaces.contains(home)) {
                nodes.insert(&bridge.name);
            }
        }
    }
    let links = lab
        .links
        .iter()
        .enumerate()
        .filter(|(index, Link::Veth(veth))| {
            selection.links.contains(index)
                || nodes.contains(veth.a.node.as_str())
                || nodes.contains(veth.b.node.as_str())
        })
        .map(|(index, _)| index)
        .collect();
    Selection { nodes: nodes.into_iter().map(str::to_string).collect(), links }
}

/// Removes the selected links and nodes, and with a node everything that cannot be without
/// it: its links, and for a namespace the bridges that live in it (the kernel destroys
/// them with the namespace). Bridges of a deleted host node stay where they are, in the
/// host namespace. Routes through removed interfaces go, as in the kernel. Link indexes
/// after the first removed one shift down; names and indexes the lab does not have are
/// ignored.
pub fn delete(lab: &Lab, selection: &Selection) -> Lab {
    let gone = deleted_by(lab, selection);
    if gone.is_empty() {
        return lab.clone();
    }
    let mut next = lab.clone();
    let host_gone: HashSet<&str> = lab
        .nodes
        .iter()
        .filter(|node| matches!(node, Node::Host(_)) && gone.nodes.contains(node.name()))
        .map(Node::name)
        .collect();
    next.nodes.retain(|node| !gone.nodes.contains(node.name()));
    for node in &mut next.nodes {
        if let Node::Bridge(bridge) = node {
            if bridge.namespace.as_deref().is_some_and(|home| host_gone.contains(home)) {
                bridge.namespace = None;
            }
        }
    }
    let mut index = 0;
    next.links.retain(|_| {
        let keep = !gone.links.contains(&index);
        index += 1;
        keep
    });
    drop_routes_through_gone(lab, &mut next);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{add_host, add_node, connect, NodeKind, Point};
    use crate::lab::Route;

    fn names(lab: &Lab) -> Vec<&str> {
        lab.nodes.iter().map(Node::name).collect()
    }

    fn link_ends(lab: &Lab) -> Vec<(String, String)> {
        lab.links.iter().map(|Link::Veth(v)| (v.a.node.clone(), v.b.node.clone())).collect()
    }

    /// host, ns1, ns2, br0 (in the host), br1 (in ns2); host-ns1, ns1-br0, ns2-br0, ns2-br1, ns1-ns2.
    fn lab() -> Lab {
        let (mut lab, _) = add_host(&Lab::new("t"), Point::ORIGIN).unwrap();
        for kind in [NodeKind::Namespace, NodeKind::Namespace, NodeKind::Bridge, NodeKind::Bridge] {
            lab = add_node(&lab, kind, Point::ORIGIN).0;
        }
        if let Node::Bridge(bridge) = &mut lab.nodes[4] {
            bridge.namespace = Some("ns2".into());
        }
        for (a, b) in [("host", "ns1"), ("ns1", "br0"), ("ns2", "br0"), ("ns2", "br1"), ("ns1", "ns2")] {
            lab = connect(&lab, a, b).unwrap().0;
        }
        lab
    }

    #[test]
    fn deleting_takes_what_cannot_be_without_it() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        /// What is selected, and the nodes and link ends left.
        type Case<'a> = (Selection, Vec<&'a str>, Vec<(String, String)>);
        let cases: Vec<Case> = vec![
            (Selection::default(), vec!["host", "ns1", "ns2", "br0", "br1"], link_ends(&lab())),
            (
                Selection::link(1),
                vec!["host", "ns1", "ns2", "br0", "br1"],
                pairs(&[("host", "ns1"), ("ns2", "br0"), ("ns2", "br1"), ("ns1", "ns2")]),
            ),
            (Selection::node("ns1"), vec!["host", "ns2", "br0", "br1"], pairs(&[("ns2", "br0"), ("ns2", "br1")])),
            (Selection::node("ns2"), vec!["host", "ns1", "br0"], pairs(&[("host", "ns1"), ("ns1", "br0")])),
            (
                Selection::node("br0"),
                vec!["host", "ns1", "ns2", "br1"],
                pairs(&[("host", "ns1"), ("ns2", "br1"), ("ns1", "ns2")]),
            ),
            (
                Selection { nodes: ["br1".to_string(), "nope".to_string()].into(), links: [0, 4, 99].into() },
                vec!["host", "ns1", "ns2", "br0"],
                pairs(&[("ns1", "br0"), ("ns2", "br0")]),
            ),
        ];
        for (selection, want_nodes, want_links) in cases {
            let next = delete(&lab(), &selection);
            assert_eq!(names(&next), want_nodes, "{selection:?}");
            assert_eq!(link_ends(&next), want_links, "{selection:?}");
        }
    }

    #[test]
    fn deleted_by_says_what_goes() {
        let gone = deleted_by(&lab(), &Selection::node("ns2"));
        assert_eq!(gone.nodes, ["br1".to_string(), "ns2".to_string()].into());
        assert_eq!(gone.links, [2, 3, 4].into());
    }

    #[test]
    fn bridges_of_a_deleted_host_stay_in_the_host_namespace() {
        let mut lab = lab();
        if let Node::Bridge(bridge) = &mut lab.nodes[3] {
            bridge.namespace = Some("host".into());
        }
        let next = delete(&lab, &Selection::node("host"));
        let Node::Bridge(bridge) = &next.nodes[2] else { panic!("{:?}", next.nodes) };
        assert_eq!((bridge.name.as_str(), bridge.namespace.as_deref()), ("br0", None));
    }

    #[test]
    fn routes_through_deleted_interfaces_go() {
        let mut lab = lab();
        let route = |dev: &str| Route { to: "10.9.0.0/16".into(), via: None, dev: Some(dev.into()), metric: None };
        let via = Route { to: "default".into(), via: Some("10.0.0.1".into()), dev: None, metric: None };
        if let Node::Namespace(ns1) = &mut lab.nodes[1] {
            // eth0 is the link to the host, eth1 the port on br0, eth2 the link to ns2.
            ns1.routes = vec![route("eth0"), route("eth1"), route("missing"), via.clone()];
        }
        let next = delete(&lab, &Selection::node("host"));
        assert_eq!(next.nodes[0].routes(), [route("eth1"), route("missing"), via]);
    }
}
