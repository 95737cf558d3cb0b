//! What a lab holds that a format written by nslab has no place for (Kathará's interface
//! names are always `ethN`, CORE's switch ports have no names, neither has a bridge with
//! addresses...), kept in the file where the tool itself passes over it (a `# nslab`
//! comment in `lab.conf`, a CORE session metadata entry), so that nslab -> format -> nslab
//! gives the same lab back. A file the tool itself wrote has none, and reads as it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lab::{BridgeNode, Endpoint, HostNode, Lab, Link, Node, VethLink};

use super::draft::{position, position_of};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every node's name, in the lab's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<String>,
    /// Positions of nodes, for formats without any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub positions: BTreeMap<String, [f64; 2]>,
    /// The bridges, whole (addresses, MTU, namespace...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridges: Vec<BridgeNode>,
    /// The bridge ends of links, whole, by the link's index and side.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Interface names: node -> the format's name -> the lab's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, BTreeMap<String, String>>,
    /// The host node, which these formats have no node for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostNode>,
    /// Links the format cannot draw (to the host, between two bridges), whole, each with
    /// its index in the lab.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<(usize, VethLink)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Port {
    pub link: usize,
    /// `a` or `b`.
    pub side: String,
    pub end: Endpoint,
}

impl Extras {
    /// What of `lab` a format keeps only through extras: the bridges and their ends, and
    /// the positions and order of the nodes, and the description.
    pub fn of(lab: &Lab, with_positions: bool) -> Extras {
        let mut extras = Extras {
            description: (!lab.description.is_empty()).then(|| lab.description.clone()),
            order: lab.nodes.iter().map(|node| node.name().to_string()).collect(),
            ..Extras::default()
        };
        for node in &lab.nodes {
            match node {
                Node::Bridge(bridge) => extras.bridges.push(bridge.clone()),
                Node::Host(host) => extras.hosts.push(host.clone()),
                Node::Namespace(_) => {}
            }
            if let Some((x, y)) = position_of(node).filter(|_| with_positions) {
                extras.positions.insert(node.name().to_string(), [x, y]);
            }
        }
        for (index, Link::Veth(veth)) in lab.links.iter().enumerate() {
            for (side, end) in [("a", &veth.a), ("b", &veth.b)] {
                if matches!(lab.node(&end.node), Some(Node::Bridge(_))) {
                    extras.ports.push(Port { link: index, side: side.to_string(), end: end.clone() });
                }
            }
        }
        extras
    }

    /// Whether the format draws this link itself: one between two bridges, or to the
    /// host, goes whole into `links`.
    pub fn format_draws(lab: &Lab, veth: &VethLink) -> bool {
        let kinds = [&veth.a, &veth.b].map(|end| lab.node(&end.node).map(Node::kind_word));
        !kinds.contains(&Some("host")) && kinds != [Some("bridge"), Some("bridge")]
    }

    /// Puts the links the format cannot draw into `links`, with their ends.
    pub fn keep_undrawn_links(&mut self, lab: &Lab) {
        for (index, Link::Veth(veth)) in lab.links.iter().enumerate() {
            if !Extras::format_draws(lab, veth) {
                self.links.push((index, veth.clone()));
            }
        }
        let undrawn: Vec<usize> = self.links.iter().map(|(index, _)| *index).collect();
        self.ports.retain(|port| !undrawn.contains(&port.link));
    }

    /// Gives `lab` back what the format could not hold. Ends and links must be where the
    /// writer put them: the format's reader keeps the links in the file's order.
    pub fn apply(&self, lab: &mut Lab) {
        for (node, names) in &self.names {
            rename_interfaces(lab, node, names);
        }
        for host in &self.hosts {
            if lab.node(&host.name).is_none() {
                lab.nodes.push(Node::Host(host.clone()));
            }
        }
        for (index, veth) in &self.links {
            let at = (*index).min(lab.links.len());
            lab.links.insert(at, Link::Veth(veth.clone()));
        }
        for port in &self.ports {
            let Some(Link::Veth(veth)) = lab.links.get_mut(port.link) else { continue };
            let bridge_on_a = veth.a.node == port.end.node;
            let bridge_on_b = veth.b.node == port.end.node;
            if !(bridge_on_a || bridge_on_b) {
                continue;
            }
            if (port.side == "a") != bridge_on_a {
                std::mem::swap(&mut veth.a, &mut veth.b);
            }
            let end = if port.side == "a" { &mut veth.a } else { &mut veth.b };
            *end = port.end.clone();
        }
        for bridge in &self.bridges {
            match lab.node_mut(&bridge.name) {
                Some(node @ Node::Bridge(_)) => *node = Node::Bridge(bridge.clone()),
                Some(_) => {}
                // A bridge without ports is in no collision domain.
                None => lab.nodes.push(Node::Bridge(bridge.clone())),
            }
        }
        for node in &mut lab.nodes {
            if let Some([x, y]) = self.positions.get(node.name()) {
                set_position(node, (*x, *y));
            }
        }
        if let Some(description) = &self.description {
            lab.description = description.clone();
        }
        if !self.order.is_empty() {
            let rank = |node: &Node| self.order.iter().position(|name| name == node.name()).unwrap_or(usize::MAX);
            lab.nodes.sort_by_key(rank);
        }
    }
}

fn set_position(node: &mut Node, at: (f64, f64)) {
    let editor = match node {
        Node::Host(host) => &mut host.editor,
        Node::Namespace(namespace) => &mut namespace.editor,
        Node::Bridge(bridge) => &mut bridge.editor,
    };
    match editor {
        Some(editor) => {
            editor.x = Some(at.0);
            editor.y = Some(at.1);
        }
        None => *editor = Some(position(at)),
    }
}

/// Renames `node`'s interfaces (`from` -> `to`) in its links and its routes' devices.
fn rename_interfaces(lab: &mut Lab, node: &str, names: &BTreeMap<String, String>) {
    for Link::Veth(veth) in &mut lab.links {
        for end in [&mut veth.a, &mut veth.b] {
            if end.node == node {
                if let Some(name) = names.get(&end.name) {
                    end.name = name.clone();
                }
            }
        }
    }
    let routes = match lab.node_mut(node) {
        Some(Node::Namespace(namespace)) => &mut namespace.routes,
        Some(Node::Host(host)) => &mut host.routes,
        _ => return,
    };
    for route in routes {
        if let Some(name) = route.dev.as_ref().and_then(|dev| names.get(dev)) {
            route.dev = Some(name.clone());
        }
    }
}
