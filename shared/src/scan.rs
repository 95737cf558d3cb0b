//! Scan: what the kernel holds, drawn as a lab. Works on labs built by hand with `ip` as
//! well as nslab's own. Kernel-made things (link-local addresses, connected routes) are
//! not copied; what the format cannot say (other interface kinds, a bridge name used twice)
//! is left out and listed in the lab's description.

use std::collections::{BTreeMap, BTreeSet};

use crate::lab::{BridgeNode, EditorData, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, Route, VethLink};
use crate::observed::{Observed, ObservedLink, ObservedNamespace, ObservedRoute};
use crate::ops::LinkRef;
use crate::plan::{DEFAULT_IPV6_METRIC, DEFAULT_MTU};
use crate::topology::Netns;

/// The name the host node gets in a scanned lab.
pub const HOST_NODE: &str = "host";

pub fn scan(observed: &Observed, name: &str) -> Lab {
    let mut scanner = Scanner { observed, bridges: BTreeMap::new(), skipped: Vec::new() };
    scanner.find_bridges();
    let links = scanner.veths();
    let mut lab = Lab::new(name);
    let uses_host = links.iter().any(|Link::Veth(v)| v.a.node == HOST_NODE || v.b.node == HOST_NODE);
    if uses_host {
        let routes = observed.namespace(&Netns::Host).map(|host| lab_routes(host, true)).unwrap_or_default();
        lab.nodes.push(Node::Host(HostNode { routes, ..HostNode::new(HOST_NODE) }));
    }
    for (netns, namespace) in &observed.namespaces {
        let Netns::Named(ns_name) = netns else { continue };
        lab.nodes.push(Node::Namespace(NamespaceNode {
            loopback_up: namespace.loopback_up,
            ipv4_forwarding: namespace.ipv4_forwarding,
            ipv6_forwarding: namespace.ipv6_forwarding,
            routes: lab_routes(namespace, false),
            ..NamespaceNode::new(ns_name.clone())
        }));
    }
    for ((netns, bridge_name), bridge) in &scanner.bridges {
        lab.nodes.push(Node::Bridge(BridgeNode {
            namespace: netns.name().map(str::to_string),
            addresses: bridge.addresses.iter().map(ToString::to_string).collect(),
            up: bridge.up,
            ..BridgeNode::new(bridge_name.clone())
        }));
    }
    lab.links = links;
    if !scanner.skipped.is_empty() {
        lab.description = format!("Scanned from the kernel. Left out: {}.", scanner.skipped.join("; "));
    }
    lay_out(&mut lab);
    lab
}

struct Scanner<'o> {
    observed: &'o Observed,
    /// Bridges that become nodes, by (namespace, name).
    bridges: BTreeMap<(Netns, String), &'o ObservedLink>,
    skipped: Vec<String>,
}

impl<'o> Scanner<'o> {
    /// Bridges inside namespaces, and host bridges that are nslab's or have a port whose
    /// peer is in a namespace (the host's own bridges, such as Docker's, stay out).
    fn find_bridges(&mut self) {
        let mut names: BTreeSet<String> = self.namespace_names();
        for (netns, namespace) in &self.observed.namespaces {
            for (name, link) in namespace.links.iter().filter(|(_, l)| l.kind == "bridge") {
                let wanted = *netns != Netns::Host || link.owner.is_some() || self.has_namespace_port(namespace, name);
                if !wanted {
                    continue;
                }
                if !names.insert(name.clone()) {
                    self.skipped.push(format!("bridge `{name}` in {netns} (a node of that name exists)"));
                    continue;
                }
                self.bridges.insert((netns.clone(), name.clone()), link);
            }
        }
    }

    fn namespace_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            self.observed.namespaces.keys().filter_map(|n| n.name().map(str::to_string)).collect();
        names.insert(HOST_NODE.to_string());
        names
    }

    fn has_namespace_port(&self, namespace: &ObservedNamespace, bridge: &str) -> bool {
        namespace.links.values().any(|link| {
            link.master.as_deref() == Some(bridge) && link.peer.as_ref().is_some_and(|peer| peer.netns != Netns::Host)
        })
    }

    /// Every veth pair once, with at least one end in a namespace or on a kept bridge.
    fn veths(&mut self) -> Vec<Link> {
        let mut seen: BTreeSet<(LinkRef, LinkRef)> = BTreeSet::new();
        let mut links = Vec::new();
        for (netns, namespace) in &self.observed.namespaces {
            for (name, link) in &namespace.links {
                let here = LinkRef::new(netns.clone(), name.clone());
                if link.kind != "veth" {
                    if link.kind != "bridge" && (*netns != Netns::Host || link.owner.is_some()) {
                        self.skipped.push(format!("`{name}` in {netns} (a {} interface)", display_kind(&link.kind)));
                    }
                    continue;
                }
                let Some(peer) = link.peer.clone() else {
                    if *netns != Netns::Host {
                        self.skipped.push(format!("`{name}` in {netns} (its peer is in a namespace nslab cannot see)"));
                    }
                    continue;
                };
                let key = if here <= peer { (here.clone(), peer.clone()) } else { (peer.clone(), here.clone()) };
                if !seen.insert(key.clone()) {
                    continue;
                }
                let (Some(end_a), Some(end_b)) = (self.endpoint(&key.0), self.endpoint(&key.1)) else { continue };
                let touches_lab = end_a.node != HOST_NODE || end_b.node != HOST_NODE || link.owner.is_some();
                if touches_lab {
                    links.push(Link::Veth(VethLink { a: end_a, b: end_b, editor: None }));
                }
            }
        }
        links
    }

    fn endpoint(&self, at: &LinkRef) -> Option<Endpoint> {
        let link = self.observed.link(at)?;
        let node = match &link.master {
            Some(master) if self.bridges.contains_key(&(at.netns.clone(), master.clone())) => master.clone(),
            _ => at.netns.name().unwrap_or(HOST_NODE).to_string(),
        };
        Some(Endpoint {
            node,
            name: at.name.clone(),
            addresses: link.addresses.iter().map(ToString::to_string).collect(),
            mtu: Some(link.mtu).filter(|mtu| *mtu != DEFAULT_MTU),
            up: link.up,
            mac: None,
        })
    }
}

fn display_kind(kind: &str) -> &str {
    if kind.is_empty() {
        "plain"
    } else {
        kind
    }
}

/// Routes as a lab writes them. In the host only nslab's own are taken (the host's
/// default route and the like are not part of a lab).
fn lab_routes(namespace: &ObservedNamespace, host: bool) -> Vec<Route> {
    namespace.routes.iter().filter(|route| !host || route.by_nslab).map(lab_route).collect()
}

fn lab_route(route: &ObservedRoute) -> Route {
    let default_metric = if route.destination.addr().is_ipv6() { DEFAULT_IPV6_METRIC } else { 0 };
    Route {
        to: if route.destination.prefix_len() == 0 { "default".into() } else { route.destination.to_string() },
        via: route.via.map(|via| via.to_string()),
        dev: if route.via.is_none() { route.dev.clone() } else { None },
        metric: Some(route.metric).filter(|metric| *metric != default_metric),
    }
}

/// Bridges (and the host) in a row at the top, namespaces on a grid below, in name order:
/// readable at a handful of nodes and still tidy at hundreds.
fn lay_out(lab: &mut Lab) {
    const COLUMNS: usize = 6;
    let (mut top, mut grid) = (0usize, 0usize);
    for node in &mut lab.nodes {
        let (x, y) = match node {
            Node::Namespace(_) => {
                let at = grid;
                grid += 1;
                (120.0 + 220.0 * (at % COLUMNS) as f64, 320.0 + 180.0 * (at / COLUMNS) as f64)
            }
            _ => {
                let at = top;
                top += 1;
                (120.0 + 220.0 * at as f64, 100.0)
            }
        };
        let editor = EditorData { x: Some(x), y: Some(y), ..EditorData::default() };
        match node {
            Node::Host(host) => host.editor = Some(editor),
            Node::Namespace(namespace) => namespace.editor = Some(editor),
            Node::Bridge(bridge) => bridge.editor = Some(editor),
        }
    }
}
