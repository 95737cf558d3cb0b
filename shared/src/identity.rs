//! How nslab names and marks what it makes in the kernel: a namespace (the host's or one
//! under /run/netns), an interface in it, and the marks that tell nslab's own objects, and
//! which lab they belong to, from everyone else's. The model's other parts (the plan's
//! ops, the observed kernel, the live view) all speak of the kernel in these terms.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A network namespace: the host's own, or one under /run/netns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Netns {
    Host,
    Named(String),
}

impl Netns {
    /// The `ip netns` name, or None for the host.
    pub fn name(&self) -> Option<&str> {
        match self {
            Netns::Host => None,
            Netns::Named(name) => Some(name),
        }
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netns::Host => f.write_str("the host namespace"),
            Netns::Named(name) => write!(f, "namespace `{name}`"),
        }
    }
}

/// An interface, named in its namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkRef {
    pub netns: Netns,
    pub name: String,
}

impl LinkRef {
    pub fn new(netns: Netns, name: impl Into<String>) -> Self {
        LinkRef { netns, name: name.into() }
    }
}

/// The mark nslab leaves on what it creates: the interface alias (`ip link show` prints
/// it as `alias nslab:LAB`); a namespace carries it on its `lo`.
pub const OWNER_PREFIX: &str = "nslab:";

/// Route protocol number nslab gives its routes in the host namespace, so it can tell its
/// own from the host's (`ip route` prints `proto 86`). Routes inside a namespace nslab owns
/// are all its own.
pub const ROUTE_PROTOCOL: u8 = 86;

pub fn owner_marker(lab: &str) -> String {
    format!("{OWNER_PREFIX}{lab}")
}

/// The lab a marker names, if it is an nslab marker.
pub fn owner_of_marker(alias: &str) -> Option<&str> {
    alias.strip_prefix(OWNER_PREFIX)
}
