//! What the kernel holds, as the kernel driver reads it: the other input of planning.
//!
//! The driver fills these types through netlink; everything that decides what to do with
//! them (planning, scanning, drift) is pure and lives in this crate.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::identity::{LinkRef, Netns};
use crate::netem::Impairment;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Observed {
    /// The host namespace and every namespace under /run/netns.
    pub namespaces: BTreeMap<Netns, ObservedNamespace>,
    /// The names under /run/netns with no namespace bound onto them: empty files that an
    /// `ip netns add` (or delete) which died left behind, or one under way right now.
    /// They are no namespaces: nothing is read or done in them, and they stop nothing
    /// else (see `stray_notes`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub strays: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedNamespace {
    /// The lab whose mark the namespace's `lo` carries (for destroy, also the lab whose
    /// record vouches for its mount without the mark being read).
    pub owner: Option<String>,
    pub loopback_up: bool,
    pub ipv4_forwarding: bool,
    pub ipv6_forwarding: bool,
    /// Every interface but `lo`, by name.
    pub links: BTreeMap<String, ObservedLink>,
    /// Routes of the main table that the kernel did not make itself.
    pub routes: Vec<ObservedRoute>,
    /// What else is set up here that a lab cannot say and that planning leaves alone, as
    /// the command that makes it: routes of other types (`ip route add unreachable
    /// 10.9.0.0/16`), and when read for a scan, routes of other tables, policy rules,
    /// permanent neighbour entries and namespace-wide settings (`sysctl
    /// net.ipv4.conf.all.rp_filter=2`). `scan` lists them as left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

impl ObservedNamespace {
    pub fn is_owned_by(&self, lab: &str) -> bool {
        self.owner.as_deref() == Some(lab)
    }
}

impl Default for ObservedNamespace {
    /// A namespace as `ip netns add` leaves it.
    fn default() -> Self {
        ObservedNamespace {
            owner: None,
            loopback_up: false,
            ipv4_forwarding: false,
            ipv6_forwarding: false,
            links: BTreeMap::new(),
            routes: Vec::new(),
            unmodelled: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedLink {
    pub index: u32,
    /// `veth`, `bridge`, or whatever else the kernel says (`dummy`, `vxlan`, ...).
    pub kind: String,
    /// The lab whose mark the interface carries.
    pub owner: Option<String>,
    /// Administrative state (`ip link set ... up`).
    pub up: bool,
    /// Operational state: carrier (for a veth: both ends up).
    pub oper_up: bool,
    pub mtu: u32,
    pub mac: String,
    /// The bridge this interface is a port of.
    pub master: Option<String>,
    /// For a veth, the other end, when its namespace is one nslab can see.
    pub peer: Option<LinkRef>,
    /// Addresses, without the IPv6 link-local ones the kernel makes by itself.
    pub addresses: Vec<IpNet>,
    /// The root qdisc's impairment when that qdisc is `netem`, as the kernel reports it
    /// (every field given, zeros for what was not asked for); None for any other root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netem: Option<Impairment>,
    /// Settings a lab cannot say, in the words of the tool that shows them: a bridge's
    /// `stp_state 1`, a port's `hairpin on`, an address's peer, and when read for a scan
    /// its queueing disciplines (`qdisc tbf root`) and own settings (`sysctl ...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObservedRoute {
    pub destination: IpNet,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: u32,
    /// Made by nslab (its route protocol number).
    pub by_nslab: bool,
    /// What the route has beyond destination, gateway, device and metric, in `ip route`'s
    /// words (`src 10.0.0.1`, `mtu 1400`; a multipath route's `nexthop via ...`, with no
    /// gateway or device of its own): a lab's route cannot say it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

impl Observed {
    pub fn namespace(&self, netns: &Netns) -> Option<&ObservedNamespace> {
        self.namespaces.get(netns)
    }

    pub fn link(&self, link: &LinkRef) -> Option<&ObservedLink> {
        self.namespaces.get(&link.netns)?.links.get(&link.name)
    }

    /// A sentence for each stray name under /run/netns, with the command that clears it.
    pub fn stray_notes(&self) -> Vec<String> {
        self.strays.iter().map(|name| stray_note(name)).collect()
    }
}

/// Why `/run/netns/NAME` is no namespace, and how to clear it.
pub fn stray_note(name: &str) -> String {
    format!(
        "/run/netns/{name} is an empty file with no namespace on it (an `ip netns add` or \
         `ip netns delete` that did not finish left it); nslab leaves it alone: `ip netns delete {name}` removes it"
    )
}

impl ObservedLink {
    /// A link as a test or a fake driver would see it right after creating it.
    pub fn new(kind: &str, index: u32) -> Self {
        ObservedLink {
            index,
            kind: kind.to_string(),
            owner: None,
            up: false,
            oper_up: false,
            mtu: 1500,
            mac: String::new(),
            master: None,
            peer: None,
            addresses: Vec::new(),
            netem: None,
            unmodelled: Vec::new(),
        }
    }

    pub fn is_owned_by(&self, lab: &str) -> bool {
        self.owner.as_deref() == Some(lab)
    }
}
