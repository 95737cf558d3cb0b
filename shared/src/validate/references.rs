//! References between objects: link ends and bridge homes must name existing nodes.

use std::collections::HashMap;

use crate::lab::{Lab, Link, Node};
use crate::path::DocPath;
use crate::problem::Rule;

use super::Report;

pub(super) fn check(lab: &Lab, report: &mut Report) {
    let nodes: HashMap<&str, &Node> = lab.nodes.iter().rev().map(|node| (node.name(), node)).collect();
    for (index, node) in lab.nodes.iter().enumerate() {
        if let Node::Bridge(bridge) = node {
            let Some(home) = bridge.namespace.as_deref() else {
                continue;
            };
            let path = DocPath::root().field("nodes").index(index).field("namespace");
            match nodes.get(home) {
                None => report.push(Rule::UnknownNode, path, missing_node(home, lab)),
                Some(Node::Bridge(_)) => report.push(
                    Rule::WrongNodeKind,
                    path,
                    format!("`{home}` is a bridge; a bridge lives in a namespace or the host"),
                ),
                Some(_) => {}
            }
        }
    }
    for (index, link) in lab.links.iter().enumerate() {
        let Link::Veth(veth) = link;
        let path = DocPath::root().field("links").index(index);
        for (field, end) in [("a", &veth.a), ("b", &veth.b)] {
            if !nodes.contains_key(end.node.as_str()) {
                report.push(Rule::UnknownNode, path.field(field).field("node"), missing_node(&end.node, lab));
            }
        }
        if veth.a.node == veth.b.node && matches!(nodes.get(veth.a.node.as_str()), Some(Node::Bridge(_))) {
            report.push(
                Rule::VethSameBridge,
                path,
                format!(
                    "both ends of this veth are plugged into bridge `{}`; a cable from a bridge back to itself makes a loop",
                    veth.a.node
                ),
            );
        }
    }
}

fn missing_node(name: &str, lab: &Lab) -> String {
    if name.is_empty() {
        return "no node is named here; say which node this end plugs into".to_string();
    }
    let known: Vec<&str> = lab.nodes.iter().map(Node::name).take(8).collect();
    if known.is_empty() {
        format!("there is no node called `{name}`; the lab has no nodes yet")
    } else {
        format!("there is no node called `{name}`; the lab has {}", quoted_list(&known, lab.nodes.len()))
    }
}

fn quoted_list(names: &[&str], total: usize) -> String {
    let mut text = names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    if total > names.len() {
        text.push_str(&format!(" and {} more", total - names.len()));
    }
    text
}
