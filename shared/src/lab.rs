//! The lab document, format version 1: what the user drew or imported.
//!
//! Field order here is the order in the file, and defaults are left out when writing, so
//! serialisation is canonical: export -> import -> export gives the same bytes.
//! Unknown fields are refused (a typo like `adresses` must not be dropped silently),
//! except inside `editor` objects, which belong to the editor and are carried unchanged.
//! Addresses, routes and MACs are kept as the text the user wrote; validation parses
//! them, so a half-typed address in the editor is a located problem, not a lost edit.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Editor-only data for the whole lab (free notes, viewport); carried unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
}

/// A box on the canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// A veth pair: two interfaces joined by a virtual cable.
    Veth(VethLink),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VethLink {
    pub a: Endpoint,
    pub b: Endpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<EditorData>,
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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
            editor: None,
        }
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.name() == name)
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
        Endpoint { node: node.into(), name: name.into(), addresses: Vec::new(), mtu: None, up: true, mac: None }
    }
}
