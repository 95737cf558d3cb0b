//! What the kernel holds, read through `ip -j` inside a sandbox: independent of nslab's own
//! observer, so a bug there cannot hide a bug in what was built.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use nslab_model::identity::Netns;
use serde_json::Value;

use crate::sandbox::Sandbox;

/// Every namespace (the sandbox's own as `Netns::Host`) and what is in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KernelState {
    pub namespaces: BTreeMap<Netns, NamespaceState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamespaceState {
    pub loopback_up: bool,
    pub ipv4_forwarding: bool,
    pub ipv6_forwarding: bool,
    /// Every interface but `lo`, by name.
    pub links: BTreeMap<String, LinkState>,
    /// Routes not made by the kernel itself (connected and link-local ones are left out).
    pub routes: BTreeSet<RouteState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// `veth`, `bridge`, ...
    pub kind: String,
    pub up: bool,
    pub mtu: u32,
    pub mac: String,
    pub master: Option<String>,
    /// For a veth: the namespace and name of the other end.
    pub peer: Option<(Netns, String)>,
    /// Addresses with prefix, kernel-made IPv6 link-local ones left out.
    pub addresses: BTreeSet<IpNet>,
    /// For a bridge: whether it snoops multicast (nslab leaves it at the kernel's default,
    /// on, although it creates bridges with it off for speed: see `kernel::raising`).
    pub multicast_snooping: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteState {
    pub destination: IpNet,
    pub via: Option<String>,
    pub dev: String,
    pub metric: u32,
}

/// One namespace's raw link list, with ifindexes for resolving veth peers.
struct RawLinks {
    netns: Netns,
    links: Vec<Value>,
    /// netnsid (as this namespace numbers its peers) -> namespace.
    ids: BTreeMap<u64, Netns>,
}

pub fn read_kernel_state(sandbox: &Sandbox) -> KernelState {
    let mut namespaces = vec![Netns::Host];
    for entry in array(&sandbox.ip_json(&["netns", "list"])) {
        namespaces.push(Netns::Named(str_field(entry, "name").to_string()));
    }
    let raw: Vec<RawLinks> = namespaces.iter().map(|netns| read_links(sandbox, netns)).collect();
    let mut state = KernelState::default();
    for links in &raw {
        state.namespaces.insert(links.netns.clone(), read_namespace(sandbox, links, &raw));
    }
    state
}

fn ip_args<'a>(netns: &'a Netns, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = Vec::new();
    if let Netns::Named(name) = netns {
        all.extend(["-n", name.as_str()]);
    }
    all.extend_from_slice(args);
    all
}

fn read_links(sandbox: &Sandbox, netns: &Netns) -> RawLinks {
    let links = array(&sandbox.ip_json(&ip_args(netns, &["-d", "link", "show"]))).to_vec();
    let mut ids = BTreeMap::new();
    for entry in array(&sandbox.ip_json(&ip_args(netns, &["netns", "list"]))) {
        if let Some(id) = entry.get("id").and_then(Value::as_u64) {
            ids.insert(id, Netns::Named(str_field(entry, "name").to_string()));
        }
    }
    RawLinks { netns: netns.clone(), links, ids }
}

fn read_namespace(sandbox: &Sandbox, own: &RawLinks, all: &[RawLinks]) -> NamespaceState {
    let netns = &own.netns;
    let addresses = read_addresses(sandbox, netns);
    let mut state = NamespaceState::default();
    for link in &own.links {
        let name = str_field(link, "ifname").to_string();
        let up = link["flags"].as_array().is_some_and(|flags| flags.iter().any(|f| f == "UP"));
        if name == "lo" {
            state.loopback_up = up;
            continue;
        }
        let kind = link["linkinfo"]["info_kind"].as_str().unwrap_or("").to_string();
        let peer = (kind == "veth").then(|| resolve_peer(link, own, all)).flatten();
        let link_state = LinkState {
            kind,
            up,
            mtu: link["mtu"].as_u64().unwrap_or(0) as u32,
            mac: link["address"].as_str().unwrap_or("").to_string(),
            master: link.get("master").and_then(Value::as_str).map(str::to_string),
            peer,
            addresses: addresses.get(&name).cloned().unwrap_or_default(),
            multicast_snooping: link["linkinfo"]["info_data"]["mcast_snooping"].as_u64().map(|on| on == 1),
        };
        state.links.insert(name, link_state);
    }
    let (ipv4, ipv6) = read_forwarding(sandbox, netns);
    state.ipv4_forwarding = ipv4;
    state.ipv6_forwarding = ipv6;
    state.routes = read_routes(sandbox, netns);
    state
}

/// A veth's peer: `link_index` in the namespace named by `link_netnsid` (absent: this one).
fn resolve_peer(link: &Value, own: &RawLinks, all: &[RawLinks]) -> Option<(Netns, String)> {
    let peer_index = link.get("link_index")?.as_u64()?;
    let peer_netns = match link.get("link_netnsid").and_then(Value::as_u64) {
        None => own.netns.clone(),
        // The only namespace without a name is the sandbox's own.
        Some(id) => own.ids.get(&id).cloned().unwrap_or(Netns::Host),
    };
    let peer_links = all.iter().find(|raw| raw.netns == peer_netns)?;
    let peer = peer_links.links.iter().find(|l| l["ifindex"].as_u64() == Some(peer_index))?;
    Some((peer_netns, str_field(peer, "ifname").to_string()))
}

fn read_addresses(sandbox: &Sandbox, netns: &Netns) -> BTreeMap<String, BTreeSet<IpNet>> {
    let mut by_link = BTreeMap::new();
    for link in array(&sandbox.ip_json(&ip_args(netns, &["addr", "show"]))) {
        let name = str_field(link, "ifname").to_string();
        let mut set = BTreeSet::new();
        for info in link["addr_info"].as_array().into_iter().flatten() {
            let kernel_made = info["family"] == "inet6" && info["scope"] == "link";
            if kernel_made || name == "lo" {
                continue;
            }
            let text = format!("{}/{}", str_field(info, "local"), info["prefixlen"]);
            set.insert(text.parse::<IpNet>().unwrap_or_else(|e| panic!("kernel address {text}: {e}")));
        }
        by_link.insert(name, set);
    }
    by_link
}

fn read_routes(sandbox: &Sandbox, netns: &Netns) -> BTreeSet<RouteState> {
    let mut routes = BTreeSet::new();
    for (family, default) in [("-4", "0.0.0.0/0"), ("-6", "::/0")] {
        for route in array(&sandbox.ip_json(&ip_args(netns, &[family, "route", "show"]))) {
            if route.get("protocol").and_then(Value::as_str) == Some("kernel") {
                continue;
            }
            let dst = str_field(route, "dst");
            let destination = if dst == "default" { default } else { dst };
            let destination: IpNet = if destination.contains('/') {
                destination.parse().expect("route destination")
            } else {
                IpNet::from(destination.parse::<std::net::IpAddr>().expect("host route"))
            };
            routes.insert(RouteState {
                destination,
                via: route.get("gateway").and_then(Value::as_str).map(str::to_string),
                dev: str_field(route, "dev").to_string(),
                metric: route.get("metric").and_then(Value::as_u64).unwrap_or(0) as u32,
            });
        }
    }
    routes
}

fn read_forwarding(sandbox: &Sandbox, netns: &Netns) -> (bool, bool) {
    let read = "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding";
    let script = match netns {
        Netns::Host => read.to_string(),
        Netns::Named(name) => format!("ip netns exec {} sh -c '{read}'", nslab_model::shell::sh_word(name)),
    };
    let output = sandbox.sh(&script);
    let values: Vec<&str> = output.split_whitespace().collect();
    (values.first() == Some(&"1"), values.get(1) == Some(&"1"))
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_else(|| panic!("`{field}` missing in {value}"))
}
