//! Scan: what the kernel holds, drawn as a lab and laid out as the editor's layout button
//! does. Works on labs built by hand with `ip` as well as nslab's own. Kernel-made things
//! (link-local addresses, connected routes) are not copied; what the format cannot say
//! (other interface kinds, a bridge name used twice, multipath routes and routes through
//! left-out interfaces, other route types and tables, policy rules, permanent neighbour
//! entries, a route's source address or metrics, a bridge's spanning tree, a bridge
//! port's settings, an address's peer, queueing disciplines, settings such as
//! `rp_filter`, a subnet's network or broadcast address on an interface) is left out,
//! listed in the lab's description and given back to be said aloud, so that none of it
//! makes the lab one nslab refuses. So is what the kernel lets a hand-built lab have but a
//! lab file refuses: one address twice in a namespace or on a link, a veth with both ends
//! on one bridge, a second route to one destination with one metric (`ip route append`), a
//! gateway reached only through `onlink`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use crate::address::is_link_local;
use crate::identity::{LinkRef, Netns};
use crate::lab::{BridgeNode, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, Route, VethLink};
use crate::layout::auto_layout;
use crate::names::next_free_name;
use crate::netem::{Impairment, Netem};
use crate::observed::{Observed, ObservedLink, ObservedNamespace, ObservedRoute};
use crate::plan::DEFAULT_MTU;
use crate::topology::{Role, Side, Topology};
use crate::validate::{addresses_twice_on, host_address_problem, parse_route};

/// How the kernel's reading names a root netem among an interface's queueing disciplines.
const ROOT_NETEM: &str = "qdisc netem root";

/// The name the host node gets in a scanned lab, unless a namespace has it (see
/// `host_node_name`).
pub const HOST_NODE: &str = "host";

/// A scanned lab and what of the kernel it leaves out, a sentence each.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub lab: Lab,
    pub left_out: Vec<String>,
}

pub fn scan(observed: &Observed, name: &str) -> Scan {
    let host = host_node_name(observed);
    let mut scanner = Scanner {
        observed,
        host,
        bridges: BTreeMap::new(),
        kept: BTreeSet::new(),
        given: HashMap::new(),
        skipped: Vec::new(),
    };
    scanner.find_bridges();
    let links = scanner.veths();
    let mut lab = Lab::new(name);
    let uses_host = links.iter().any(|Link::Veth(v)| v.a.node == scanner.host || v.b.node == scanner.host);
    if uses_host {
        let routes = scanner.lab_routes(&Netns::Host);
        lab.nodes.push(Node::Host(HostNode { routes, ..HostNode::new(scanner.host.clone()) }));
    }
    for (netns, namespace) in &observed.namespaces {
        let Netns::Named(ns_name) = netns else { continue };
        lab.nodes.push(Node::Namespace(NamespaceNode {
            loopback_up: namespace.loopback_up,
            ipv4_forwarding: namespace.ipv4_forwarding,
            ipv6_forwarding: namespace.ipv6_forwarding,
            routes: scanner.lab_routes(netns),
            ..NamespaceNode::new(ns_name.clone())
        }));
        scanner.skipped.extend(namespace.unmodelled.iter().map(|words| format!("`{words}` in {netns}")));
    }
    let bridges: Vec<((Netns, String), &ObservedLink)> =
        scanner.bridges.iter().map(|(key, bridge)| (key.clone(), *bridge)).collect();
    for ((netns, bridge_name), bridge) in bridges {
        let at = LinkRef::new(netns.clone(), bridge_name.clone());
        let addresses = scanner.usable_addresses(&at);
        scanner.note_unmodelled(&at, "bridge ");
        lab.nodes.push(Node::Bridge(BridgeNode {
            namespace: netns.name().map(str::to_string),
            addresses,
            up: bridge.up,
            ..BridgeNode::new(bridge_name.clone())
        }));
    }
    lab.links = links;
    leave_out_duplicates_on_links(&mut lab, &mut scanner.skipped);
    if !scanner.skipped.is_empty() {
        lab.description = format!("Scanned from the kernel. Left out: {}.", scanner.skipped.join("; "));
    }
    Scan { lab: auto_layout(&lab), left_out: scanner.skipped }
}

/// `host`, or when a namespace is called that, the first of `host0`, `host1`, ... that no
/// namespace is called: node names are unique in a lab.
fn host_node_name(observed: &Observed) -> String {
    let taken = |name: &str| observed.namespaces.contains_key(&Netns::Named(name.to_string()));
    if taken(HOST_NODE) {
        next_free_name(HOST_NODE, 0, taken)
    } else {
        HOST_NODE.to_string()
    }
}

struct Scanner<'o> {
    observed: &'o Observed,
    /// The host node's name.
    host: String,
    /// Bridges that become nodes, by (namespace, name).
    bridges: BTreeMap<(Netns, String), &'o ObservedLink>,
    /// The interfaces the lab has (veth ends and bridges): a route may go through them.
    kept: BTreeSet<LinkRef>,
    /// The addresses the lab has given so far, each with its interface: once per namespace.
    given: HashMap<(Netns, IpAddr), String>,
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
                self.kept.insert(LinkRef::new(netns.clone(), name.clone()));
            }
        }
    }

    fn namespace_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            self.observed.namespaces.keys().filter_map(|n| n.name().map(str::to_string)).collect();
        names.insert(self.host.clone());
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
                let (Some(mut end_a), Some(mut end_b)) = (self.endpoint(&key.0), self.endpoint(&key.1)) else {
                    continue;
                };
                let touches_lab = end_a.node != self.host || end_b.node != self.host || link.owner.is_some();
                if touches_lab && end_a.node == end_b.node && self.is_bridge_node(&end_a.node) {
                    self.skipped.push(format!(
                        "the veth `{}`-`{}` in {} (both ends on bridge `{}`, a loop a lab cannot have)",
                        key.0.name, key.1.name, key.0.netns, end_a.node
                    ));
                    continue;
                }
                if touches_lab {
                    end_a.addresses = self.usable_addresses(&key.0);
                    end_b.addresses = self.usable_addresses(&key.1);
                    self.note_unmodelled(&key.0, "");
                    self.note_unmodelled(&key.1, "");
                    links.push(Link::Veth(VethLink { a: end_a, b: end_b, editor: None }));
                    self.kept.extend([key.0, key.1]);
                }
            }
        }
        links
    }

    fn is_bridge_node(&self, node: &str) -> bool {
        self.bridges.keys().any(|(_, name)| name == node)
    }

    /// An end of a veth, its addresses still to be filled in (see `usable_addresses`).
    fn endpoint(&self, at: &LinkRef) -> Option<Endpoint> {
        let link = self.observed.link(at)?;
        let node = match &link.master {
            Some(master) if self.bridges.contains_key(&(at.netns.clone(), master.clone())) => master.clone(),
            _ => at.netns.name().unwrap_or(&self.host).to_string(),
        };
        Some(Endpoint {
            node,
            name: at.name.clone(),
            addresses: Vec::new(),
            mtu: Some(link.mtu).filter(|mtu| *mtu != DEFAULT_MTU),
            up: link.up,
            mac: None,
            netem: link.netem.as_ref().map(Impairment::to_netem).filter(|netem| *netem != Netem::default()),
        })
    }

    /// The addresses of the interface `at` that a lab's interface may have: the kernel
    /// also takes a subnet's network or broadcast address, and one address on two
    /// interfaces of a namespace, which a lab refuses.
    fn usable_addresses(&mut self, at: &LinkRef) -> Vec<String> {
        let mut usable = Vec::new();
        let observed = self.observed;
        for address in observed.link(at).map(|link| link.addresses.as_slice()).unwrap_or_default() {
            let why = match host_address_problem(address) {
                Some((_, why)) => why,
                None => match self.given.get(&(at.netns.clone(), address.addr())) {
                    Some(first) => format!("`{first}` there has it too; a lab gives an address once per namespace"),
                    None => {
                        self.given.insert((at.netns.clone(), address.addr()), at.name.clone());
                        usable.push(address.to_string());
                        continue;
                    }
                },
            };
            self.skipped.push(format!("address `{address}` of `{}` in {} ({why})", at.name, at.netns));
        }
        usable
    }

    /// Names what the interface `at` (a `kind ` such as `bridge `, or none) has that a lab
    /// cannot say: a bridge's spanning tree, an address's peer.
    /// A veth end's root netem is not among them: scan writes it into the lab.
    fn note_unmodelled(&mut self, at: &LinkRef, kind: &str) {
        let Some(link) = self.observed.link(at) else { return };
        let written = |words: &&String| kind.is_empty() && link.netem.is_some() && words.as_str() == ROOT_NETEM;
        let left: Vec<String> = link.unmodelled.iter().filter(|words| !written(words)).cloned().collect();
        if !left.is_empty() {
            self.skipped.push(format!("{} of {kind}`{}` in {}", quoted(&left), at.name, at.netns));
        }
    }

    /// The routes of `netns` as a lab writes them. In the host only nslab's own are taken
    /// (the host's default route and the like are not part of a lab). A route the lab
    /// cannot hold is left out, and what a kept route has beyond the format is named.
    fn lab_routes(&mut self, netns: &Netns) -> Vec<Route> {
        let Some(namespace) = self.observed.namespace(netns) else { return Vec::new() };
        let mut routes = Vec::new();
        let mut seen = HashSet::new();
        for route in namespace.routes.iter().filter(|route| *netns != Netns::Host || route.by_nslab) {
            let written = lab_route(route);
            let why = self.unholdable(netns, route).or_else(|| {
                let parsed = parse_route(&written).ok()?;
                let metric = written.metric.unwrap_or(0);
                (!seen.insert((parsed.destination, metric))).then(|| {
                    format!(
                        "a second route to {} with metric {metric} (`ip route append`); a lab's routes differ in destination or metric",
                        parsed.destination
                    )
                })
            });
            if let Some(why) = why {
                let whole = [route_words(route)].into_iter().chain(route.unmodelled.iter().cloned());
                self.skipped.push(format!("route `{}` in {netns} ({why})", whole.collect::<Vec<_>>().join(" ")));
                continue;
            }
            if !route.unmodelled.is_empty() {
                let extras = quoted(&route.unmodelled);
                self.skipped.push(format!("{extras} of route `{}` in {netns}", route_words(route)));
            }
            routes.push(written);
        }
        routes
    }

    /// Why a lab cannot hold this route, if it cannot.
    fn unholdable(&self, netns: &Netns, route: &ObservedRoute) -> Option<String> {
        match &route.dev {
            None if route.via.is_none() && route.unmodelled.iter().any(|words| words.starts_with("nexthop")) => {
                Some("several next hops; a lab's route has one".into())
            }
            None if route.via.is_none() => Some("no gateway or interface of its own".into()),
            Some(dev) if dev != "lo" && !self.kept.contains(&LinkRef::new(netns.clone(), dev.clone())) => {
                Some(format!("through `{dev}`, which is not in the lab"))
            }
            _ => {
                let gateway = route.via.filter(|_| route.unmodelled.iter().any(|words| words == "onlink"))?;
                let why = "its gateway is in none of the namespace's subnets, reached only through `onlink`, which a lab's route cannot say";
                (!self.reaches_without_onlink(netns, &gateway)).then(|| why.to_string())
            }
        }
    }

    /// Whether the kernel takes `gateway` without `onlink`: link-local, or inside the
    /// subnet of an address of the lab's interfaces there or of a route through a device.
    fn reaches_without_onlink(&self, netns: &Netns, gateway: &IpAddr) -> bool {
        let Some(namespace) = self.observed.namespace(netns) else { return false };
        let kept = namespace
            .links
            .iter()
            .filter(|(name, _)| self.kept.contains(&LinkRef::new(netns.clone(), (*name).clone())));
        let mut subnets = kept.flat_map(|(_, link)| link.addresses.iter().copied());
        let device_routes = namespace.routes.iter().filter(|route| route.via.is_none() && route.dev.is_some());
        is_link_local(gateway)
            || subnets.any(|subnet| subnet.contains(gateway))
            || device_routes.map(|route| route.destination).any(|subnet| subnet.contains(gateway))
    }
}

/// One address on two namespaces' interfaces on one link (a veth pair, or a bridge and
/// what is plugged into it): the kernel takes it, a lab refuses it, so the later one is
/// left out.
fn leave_out_duplicates_on_links(lab: &mut Lab, skipped: &mut Vec<String>) {
    let mut twice: Vec<(Role, String)> = Vec::new();
    let topology = Topology::of(lab);
    for segment in &topology.segments {
        for found in addresses_twice_on(&topology, segment) {
            let (again, holder) = (&topology.interfaces[found.again.0], &topology.interfaces[found.first.0]);
            let text = &again.addresses[found.again.1];
            twice.push((again.role, text.clone()));
            skipped.push(format!(
                "address `{text}` of {} ({} on the same link has it; a lab gives an address once per link)",
                again.describe(),
                holder.describe()
            ));
        }
    }
    for (role, address) in twice {
        let addresses = match role {
            Role::Bridge { node } => match &mut lab.nodes[node] {
                Node::Bridge(bridge) => &mut bridge.addresses,
                _ => continue,
            },
            Role::VethEnd { link, side: Side::A, .. } => &mut veth_of(lab, link).a.addresses,
            Role::VethEnd { link, side: Side::B, .. } => &mut veth_of(lab, link).b.addresses,
        };
        addresses.retain(|text| *text != address);
    }
}

fn veth_of(lab: &mut Lab, link: usize) -> &mut VethLink {
    let Link::Veth(veth) = &mut lab.links[link];
    veth
}

fn display_kind(kind: &str) -> &str {
    if kind.is_empty() {
        "plain"
    } else {
        kind
    }
}

fn lab_route(route: &ObservedRoute) -> Route {
    Route {
        to: if route.destination.prefix_len() == 0 { "default".into() } else { route.destination.to_string() },
        via: route.via.map(|via| via.to_string()),
        dev: if route.via.is_none() { route.dev.clone() } else { None },
        metric: crate::validate::lab_metric(&route.destination, route.metric),
    }
}

/// Each in backquotes, separated by commas.
fn quoted(words: &[String]) -> String {
    words.iter().map(|words| format!("`{words}`")).collect::<Vec<_>>().join(", ")
}

/// A route's destination, gateway, device and metric in `ip route`'s words.
fn route_words(route: &ObservedRoute) -> String {
    let mut words =
        if route.destination.prefix_len() == 0 { "default".to_string() } else { route.destination.to_string() };
    if let Some(via) = route.via {
        words += &format!(" via {via}");
    }
    if let Some(dev) = &route.dev {
        words += &format!(" dev {dev}");
    }
    if route.metric != 0 {
        words += &format!(" metric {}", route.metric);
    }
    words
}
