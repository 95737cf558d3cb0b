//! What the readers of other tools' labs share: a lab drawn piece by piece, with what the
//! source holds that the lab cannot named as it goes, and the bridge ports those tools make
//! by themselves given names the kernel takes (at most 15 bytes, unique in the host).

use std::collections::HashSet;

use crate::import::{finish, Imported, LeftOut};
use crate::lab::{BridgeNode, EditorData, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, VethLink};
use crate::names::unique_interface_name;

/// A lab being read from another format.
pub(crate) struct Draft {
    pub lab: Lab,
    pub left_out: Vec<LeftOut>,
    /// Interface names taken in the host namespace: bridges and the ports plugged into them.
    host_interfaces: HashSet<String>,
}

impl Draft {
    pub fn new(lab_name: &str) -> Self {
        Draft { lab: Lab::new(lab_name), left_out: Vec::new(), host_interfaces: HashSet::new() }
    }

    pub fn leave_out(&mut self, place: impl Into<String>, what: impl Into<String>) {
        self.left_out.push(LeftOut::new(place, what));
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.lab.node(name).is_some()
    }

    pub fn add_namespace(&mut self, name: &str, at: Option<(f64, f64)>) {
        let mut namespace = NamespaceNode::new(name);
        namespace.editor = at.map(position);
        self.lab.nodes.push(Node::Namespace(namespace));
    }

    /// A bridge in the host namespace; its name is taken there.
    pub fn add_bridge(&mut self, name: &str, at: Option<(f64, f64)>) {
        let mut bridge = BridgeNode::new(name);
        bridge.editor = at.map(position);
        self.host_interfaces.insert(name.to_string());
        self.lab.nodes.push(Node::Bridge(bridge));
    }

    pub fn add_host(&mut self, name: &str) {
        self.lab.nodes.push(Node::Host(HostNode::new(name)));
    }

    /// A free interface name in the host namespace, `wanted` itself when it is free and
    /// short enough; taken from now on.
    pub fn host_interface(&mut self, wanted: &str) -> String {
        let cleaned = interface_word(wanted);
        let name = unique_interface_name(&cleaned, |name| self.host_interfaces.contains(name));
        self.host_interfaces.insert(name.clone());
        name
    }

    /// Marks a host-namespace interface name as taken (one the source names itself).
    pub fn take_host_interface(&mut self, name: &str) {
        self.host_interfaces.insert(name.to_string());
    }

    /// Whether `node` lives in the host namespace: a bridge there, or the host node.
    pub fn in_host_namespace(&self, node: &str) -> bool {
        match self.lab.node(node) {
            Some(Node::Bridge(bridge)) => bridge.namespace.is_none(),
            Some(Node::Host(_)) => true,
            _ => false,
        }
    }

    pub fn connect(&mut self, a: Endpoint, b: Endpoint) -> usize {
        self.lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
        self.lab.links.len() - 1
    }

    /// The end of a link on `node` called `interface`.
    pub fn endpoint_mut(&mut self, node: &str, interface: &str) -> Option<&mut Endpoint> {
        self.lab.links.iter_mut().find_map(|Link::Veth(veth)| {
            [&mut veth.a, &mut veth.b].into_iter().find(|end| end.node == node && end.name == interface)
        })
    }

    pub fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.lab.node_mut(name)
    }

    pub fn finish(self) -> Imported {
        finish(self.lab, self.left_out)
    }
}

/// Editor data that holds only a position.
pub(crate) fn position((x, y): (f64, f64)) -> EditorData {
    EditorData { x: Some(x), y: Some(y), ..EditorData::default() }
}

/// The position of a node, if it has one.
pub(crate) fn position_of(node: &Node) -> Option<(f64, f64)> {
    let editor = node.editor()?;
    Some((editor.x?, editor.y?))
}

/// `text` with what an interface name cannot hold (`/`, `:`, white space) made `-`.
pub(crate) fn interface_word(text: &str) -> String {
    text.chars().map(|c| if c == '/' || c == ':' || c.is_whitespace() || c.is_control() { '-' } else { c }).collect()
}

/// A short description of a value for a left-out item: `image: frr` or `binds` (2 items).
pub(crate) fn describe_setting(key: &str, value: Option<&str>, items: Option<usize>) -> String {
    match (value, items) {
        (Some(value), _) => format!("`{key}: {}`", shorten(value, 60)),
        (None, Some(1)) => format!("`{key}` (1 item)"),
        (None, Some(count)) => format!("`{key}` ({count} items)"),
        (None, None) => format!("`{key}`"),
    }
}

/// At most `chars` characters of `text`, with `…` when cut.
pub(crate) fn shorten(text: &str, chars: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= chars {
        one_line
    } else {
        let kept: String = one_line.chars().take(chars).collect();
        format!("{kept}…")
    }
}

/// A number as a file writes a coordinate: an integer without a fraction.
pub(crate) fn coordinate(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

/// Reads a coordinate written as a number or a string of one.
pub(crate) fn read_coordinate(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|value| value.is_finite())
}
