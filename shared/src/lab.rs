//! The lab document, format version 1: what the user drew or imported.
//!
//! Field order here is the order in the file, and defaults are left out when writing, so
//! serialisation is canonical: export -> import -> export gives the same bytes.
//! Unknown fields are refused (a typo like `adresses` must not be dropped silently),
//! except inside `editor` objects, which belong to the editor and are carried unchanged.
//! Addresses, routes and MACs are kept as the text the user wrote; validation parses
//! them, so a half-typed address in the editor is a located problem, not a lost edit.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{Error, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::serde_tagged::{self, Tagged};
use crate::topology::Side;

/// The newest format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A whole lab: namespaces, bridges and the veth pairs between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "nslab lab, format version 1")]
pub struct Lab {
    /// Format version of this document; this build reads version 1.
    pub version: u32,
    /// Name of the lab; it identifies what the lab owns in the kernel.
    pub name: String,
    /// Free text shown with the lab.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// What an exercise asks of the lab, checked live by `nslab check` and the editor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goals: Vec<crate::goals::Goal>,
    /// Editor-only data for the whole lab (free notes, viewport); carried unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

/// A box on the canvas.
// Read by `serde_tagged` (see `NodeKind`), written by the derive.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// The network namespace nslab itself runs in.
    Host(HostNode),
    /// A named network namespace, as `ip netns add NAME` makes.
    Namespace(NamespaceNode),
    /// A Linux bridge; it lives in a namespace (the host by default).
    Bridge(BridgeNode),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostNode {
    /// How the lab calls the host; links name it in `node`.
    pub name: String,
    /// IPv4 forwarding of the host; absent leaves the host's setting alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_forwarding: Option<bool>,
    /// IPv6 forwarding of the host; absent leaves the host's setting alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_forwarding: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceNode {
    /// The `ip netns` name (a file under /run/netns).
    pub name: String,
    /// Bring `lo` up (a new namespace has it down).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub loopback_up: bool,
    /// net.ipv4.ip_forward in this namespace.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ipv4_forwarding: bool,
    /// net.ipv6.conf.all.forwarding in this namespace.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ipv6_forwarding: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BridgeNode {
    /// The bridge's interface name in its namespace.
    pub name: String,
    /// The namespace or host node the bridge lives in; absent means the host namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Addresses of the bridge itself, with prefix length (`172.17.0.1/16`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Administrative state (`ip link set ... up`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

/// An edge on the canvas.
// Read by `serde_tagged` (see `LinkKind`), written by the derive.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// A veth pair: two interfaces joined by a virtual cable.
    Veth(VethLink),
}

/// The `kind`s of `Node`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", variant_identifier)]
pub enum NodeKind {
    Host,
    Namespace,
    Bridge,
}

impl Tagged for Node {
    const NAME: &'static str = "Node";
    const TAG: &'static str = "kind";
    type Kind = NodeKind;

    fn read_variant<'de, D: Deserializer<'de>>(kind: NodeKind, fields: D) -> Result<Node, D::Error> {
        Ok(match kind {
            NodeKind::Host => Node::Host(HostNode::deserialize(fields)?),
            NodeKind::Namespace => Node::Namespace(NamespaceNode::deserialize(fields)?),
            NodeKind::Bridge => Node::Bridge(BridgeNode::deserialize(fields)?),
        })
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        serde_tagged::deserialize(deserializer)
    }
}

/// The `kind`s of `Link`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", variant_identifier)]
pub enum LinkKind {
    Veth,
}

impl Tagged for Link {
    const NAME: &'static str = "Link";
    const TAG: &'static str = "kind";
    type Kind = LinkKind;

    fn read_variant<'de, D: Deserializer<'de>>(kind: LinkKind, fields: D) -> Result<Link, D::Error> {
        match kind {
            LinkKind::Veth => Ok(Link::Veth(VethLink::deserialize(fields)?)),
        }
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Link, D::Error> {
        serde_tagged::deserialize(deserializer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VethLink {
    pub a: Endpoint,
    pub b: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

impl VethLink {
    pub fn end(&self, side: Side) -> &Endpoint {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    pub fn end_mut(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }
}

/// One end of a veth: an interface in a namespace (or the host), or a port of a bridge
/// (then the interface lives in the bridge's namespace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The node this end is plugged into.
    pub node: String,
    /// Interface name (1 to 15 bytes).
    pub name: String,
    /// Addresses with prefix length (`10.0.1.2/24`, `fd00:1::2/64`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Administrative state (`ip link set ... up`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Impairments of what this end sends (the kernel's `netem`): delay, loss, rate...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netem: Option<crate::netem::Netem>,
}

/// A route in a namespace: `ip route add TO [via GATEWAY] [dev DEVICE] [metric N]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Destination: `default` (family taken from `via`, IPv4 without it), or a prefix.
    pub to: String,
    /// Gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Outgoing interface in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
}

/// Editor-only data: position, colour, a note, and anything else the editor keeps.
/// nslab never interprets the extra fields; it carries them through unchanged.
// Read by hand (`EditorDataVisitor`): the derive of `flatten` buffers the object in serde's
// `Content` tree, as the derive of a tagged enum does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct EditorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for EditorData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EditorData, D::Error> {
        deserializer.deserialize_map(EditorDataVisitor)
    }
}

/// The fields of `EditorData` that nslab knows, in the order of the struct.
const EDITOR_FIELDS: [&str; 4] = ["x", "y", "color", "note"];

/// Reads `EditorData` as its derive did: the four known fields typed (each at most once),
/// every other field into `extra` (a repeated one keeps its last value).
struct EditorDataVisitor;

impl<'de> Visitor<'de> for EditorDataVisitor {
    type Value = EditorData;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("struct EditorData")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EditorData, A::Error> {
        let mut data = EditorData::default();
        let mut seen = [false; 4];
        while let Some(key) = map.next_key::<String>()? {
            let known = EDITOR_FIELDS.iter().position(|name| *name == key);
            if let Some(index) = known {
                if std::mem::replace(&mut seen[index], true) {
                    return Err(A::Error::duplicate_field(EDITOR_FIELDS[index]));
                }
            }
            match known {
                Some(0) => data.x = map.next_value()?,
                Some(1) => data.y = map.next_value()?,
                Some(2) => data.color = map.next_value()?,
                Some(_) => data.note = map.next_value()?,
                None => {
                    data.extra.insert(key, map.next_value()?);
                }
            }
        }
        Ok(data)
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Lab {
    /// An empty lab of the current format version.
    pub fn new(name: impl Into<String>) -> Self {
        Lab {
            version: FORMAT_VERSION,
            name: name.into(),
            description: String::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            goals: Vec::new(),
            editor: None,
        }
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.name() == name)
    }

    pub fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|node| node.name() == name)
    }

    /// The namespace node of that name (None for another kind of node).
    pub fn namespace_mut(&mut self, name: &str) -> Option<&mut NamespaceNode> {
        match self.node_mut(name)? {
            Node::Namespace(namespace) => Some(namespace),
            _ => None,
        }
    }

    /// One end of the veth `links[link]`.
    pub fn veth_end_mut(&mut self, link: usize, side: Side) -> Option<&mut Endpoint> {
        let Link::Veth(veth) = self.links.get_mut(link)?;
        Some(veth.end_mut(side))
    }

    /// The names of its namespace nodes, in the file's order.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter_map(|node| match node {
            Node::Namespace(namespace) => Some(namespace.name.as_str()),
            _ => None,
        })
    }
}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Host(host) => &host.name,
            Node::Namespace(namespace) => &namespace.name,
            Node::Bridge(bridge) => &bridge.name,
        }
    }

    pub fn kind_word(&self) -> &'static str {
        match self {
            Node::Host(_) => "host",
            Node::Namespace(_) => "namespace",
            Node::Bridge(_) => "bridge",
        }
    }

    pub fn routes(&self) -> &[Route] {
        match self {
            Node::Host(host) => &host.routes,
            Node::Namespace(namespace) => &namespace.routes,
            Node::Bridge(_) => &[],
        }
    }

    pub fn editor(&self) -> Option<&EditorData> {
        match self {
            Node::Host(host) => host.editor.as_ref(),
            Node::Namespace(namespace) => namespace.editor.as_ref(),
            Node::Bridge(bridge) => bridge.editor.as_ref(),
        }
    }
}

impl Link {
    pub fn ends(&self) -> [&Endpoint; 2] {
        match self {
            Link::Veth(veth) => [&veth.a, &veth.b],
        }
    }
}

impl NamespaceNode {
    pub fn new(name: impl Into<String>) -> Self {
        NamespaceNode {
            name: name.into(),
            loopback_up: true,
            ipv4_forwarding: false,
            ipv6_forwarding: false,
            routes: Vec::new(),
            editor: None,
        }
    }
}

impl BridgeNode {
    pub fn new(name: impl Into<String>) -> Self {
        BridgeNode {
            name: name.into(),
            namespace: None,
            addresses: Vec::new(),
            mtu: None,
            up: true,
            mac: None,
            editor: None,
        }
    }
}

impl HostNode {
    pub fn new(name: impl Into<String>) -> Self {
        HostNode { name: name.into(), ipv4_forwarding: None, ipv6_forwarding: None, routes: Vec::new(), editor: None }
    }
}

impl Endpoint {
    pub fn new(node: impl Into<String>, name: impl Into<String>) -> Self {
        Endpoint {
            node: node.into(),
            name: name.into(),
            addresses: Vec::new(),
            mtu: None,
            up: true,
            mac: None,
            netem: None,
        }
    }
}

#[cfg(test)]
mod reading_tests {
    //! `Node`, `Link` and `EditorData` are read by hand; these compare them with the derive.
    use serde::Deserialize;

    use super::*;

    /// `Node` and `Link` as the derive read them, to compare with.
    mod derived {
        use serde::Deserialize;

        use crate::lab::{BridgeNode, HostNode, NamespaceNode, VethLink};

        #[derive(Debug, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Node {
            Host(HostNode),
            Namespace(NamespaceNode),
            Bridge(BridgeNode),
        }

        #[derive(Debug, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Link {
            Veth(VethLink),
        }

        impl From<Node> for crate::lab::Node {
            fn from(node: Node) -> Self {
                match node {
                    Node::Host(host) => crate::lab::Node::Host(host),
                    Node::Namespace(namespace) => crate::lab::Node::Namespace(namespace),
                    Node::Bridge(bridge) => crate::lab::Node::Bridge(bridge),
                }
            }
        }

        impl From<Link> for crate::lab::Link {
            fn from(Link::Veth(veth): Link) -> Self {
                crate::lab::Link::Veth(veth)
            }
        }
    }

    /// `EditorData` as the derive read it.
    #[derive(Debug, Deserialize)]
    struct DerivedEditorData {
        #[serde(default)]
        x: Option<f64>,
        #[serde(default)]
        y: Option<f64>,
        #[serde(default)]
        color: Option<String>,
        #[serde(default)]
        note: Option<String>,
        #[serde(flatten)]
        extra: BTreeMap<String, serde_json::Value>,
    }

    fn without_place(error: serde_json::Error) -> String {
        let text = error.to_string();
        text.rsplit_once(" at line ").map_or(text.clone(), |(message, _)| message.to_string())
    }

    /// Reads `text` as `T` and as its derived twin `D`: both read it, or both refuse it
    /// with the same message.
    fn read_both<T, D>(text: &str) -> Result<T, String>
    where
        T: for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
        D: for<'de> Deserialize<'de> + Into<T> + std::fmt::Debug,
    {
        let ours = serde_json::from_str::<T>(text).map_err(without_place);
        let derived = serde_json::from_str::<D>(text).map_err(without_place);
        match (&ours, derived) {
            (Ok(ours), Ok(derived)) => assert_eq!(ours, &derived.into(), "{text}"),
            (Err(ours), Err(derived)) => assert_eq!(ours, &derived, "{text}"),
            (ours, derived) => panic!("{text}: read {ours:?}, derive {derived:?}"),
        }
        ours
    }

    #[test]
    fn nodes_read_as_the_derive_read_them_with_their_kind_anywhere() {
        let cases = [
            r#"{"kind": "host", "name": "h", "ipv4_forwarding": true}"#,
            r#"{"name": "h", "ipv4_forwarding": true, "kind": "host"}"#,
            r#"{"kind": "namespace", "name": "n", "routes": [{"to": "default", "via": "10.0.0.1"}]}"#,
            r#"{"name": "n", "kind": "namespace", "editor": {"x": 1, "zz": [1, {"a": null}]}}"#,
            r#"{"kind": "bridge", "name": "br0", "addresses": ["10.0.0.1/24"], "up": false}"#,
            r#"["namespace", "n"]"#,
        ];
        for text in cases {
            let node = read_both::<Node, derived::Node>(text).unwrap();
            let again = serde_json::to_string(&node).unwrap();
            assert_eq!(read_both::<Node, derived::Node>(&again).unwrap(), node, "{text}");
        }
        let link = r#"{"a": {"node": "n1", "name": "e"}, "kind": "veth", "b": {"node": "n2", "name": "e"}}"#;
        read_both::<Link, derived::Link>(link).unwrap();
    }

    #[test]
    fn bad_nodes_and_links_are_refused_with_the_derive_s_messages() {
        let refused = [
            (r#"{"kind": "router", "name": "r"}"#, "unknown variant `router`"),
            (r#"{"name": "r", "kind": "router"}"#, "unknown variant `router`"),
            (r#"{"kind": 3, "name": "r"}"#, "invalid type: integer `3`"),
            (r#"{"name": "n"}"#, "missing field `kind`"),
            (r#"{}"#, "missing field `kind`"),
            (r#"[]"#, "missing field `kind`"),
            (r#"{"kind": "namespace", "name": "n", "adresses": []}"#, "unknown field `adresses`"),
            (r#"{"name": "n", "adresses": [], "kind": "namespace"}"#, "unknown field `adresses`"),
            (r#"{"kind": "namespace", "name": "n", "kind": "host"}"#, "duplicate field `kind`"),
            (r#"{"name": "n", "kind": "namespace", "kind": "host"}"#, "duplicate field `kind`"),
            (r#"{"kind": "namespace", "name": "n", "name": "m"}"#, "duplicate field `name`"),
            (r#"{"name": "n", "name": "m", "kind": "namespace"}"#, "duplicate field `name`"),
            (r#"{"kind": "namespace"}"#, "missing field `name`"),
            (r#"{"kind": "bridge", "name": "b", "mtu": "big"}"#, "expected u32"),
            (r#"{"mtu": -1, "kind": "bridge", "name": "b"}"#, "expected u32"),
            (r#"{"kind": "namespace", "name": "n", "editor": {"x": 1, "x": 2}}"#, "duplicate field `x`"),
            (r#""host""#, "expected internally tagged enum Node"),
        ];
        for (text, expected) in refused {
            let message = read_both::<Node, derived::Node>(text).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
        }
        let text =
            r#"{"kind": "veth", "a": {"node": "n1", "name": "e", "adresses": []}, "b": {"node": "n2", "name": "e"}}"#;
        let message = read_both::<Link, derived::Link>(text).unwrap_err();
        assert!(message.contains("unknown field `adresses`"), "{message}");
        let message = read_both::<Link, derived::Link>(r#"{"kind": "bus"}"#).unwrap_err();
        assert!(message.contains("unknown variant `bus`, expected `veth`"), "{message}");
    }

    #[test]
    fn editor_data_reads_as_the_derive_read_it() {
        let text = r##"{"y": -2, "x": 1.5, "color": "#ff0000", "note": null, "pinned": true, "pinned": false,
            "tags": ["a", {"b": null}]}"##;
        let ours: EditorData = serde_json::from_str(text).unwrap();
        let derived: DerivedEditorData = serde_json::from_str(text).unwrap();
        assert_eq!((ours.x, ours.y, &ours.color, &ours.note), (derived.x, derived.y, &derived.color, &derived.note));
        assert_eq!(ours.extra, derived.extra);
        for (text, expected) in [
            (r#"{"x": "left"}"#, "invalid type: string \"left\", expected f64"),
            (r#"{"note": 1, "zz": 2}"#, "invalid type: integer `1`, expected a string"),
            (r#"{"color": "red", "color": "blue"}"#, "duplicate field `color`"),
            (r#"[1, 2]"#, "invalid type: sequence, expected struct EditorData"),
        ] {
            let ours = serde_json::from_str::<EditorData>(text).map_err(without_place).unwrap_err();
            let derived = serde_json::from_str::<DerivedEditorData>(text).map_err(without_place).unwrap_err();
            assert!(ours.contains(expected), "{text}: {ours}");
            assert_eq!(ours, derived.replace("DerivedEditorData", "EditorData"), "{text}");
        }
    }
}
