//! The lab seen as the kernel will see it: which namespace every interface lives in, and
//! which interfaces share one L2 segment (a veth, or a bridge with everything plugged in).
//!
//! Resolution tolerates broken documents (unknown nodes, duplicate names): what cannot be
//! resolved is left out, and validation reports it. First occurrence of a name wins.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::lab::{Endpoint, Lab, Link, Node};
use crate::netem::Impairment;
use crate::path::DocPath;

use crate::identity::Netns;

/// Which end of a veth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn field(self) -> &'static str {
        match self {
            Side::A => "a",
            Side::B => "b",
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// What an interface of the lab is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The bridge device itself (`nodes[node]`).
    Bridge { node: usize },
    /// One end of the veth `links[link]`; `bridge` is set when that end is a bridge port.
    VethEnd { link: usize, side: Side, bridge: Option<usize> },
}

/// One interface the lab creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface<'a> {
    pub netns: Netns,
    pub name: &'a str,
    pub role: Role,
    pub addresses: &'a [String],
    pub mtu: Option<u32>,
    pub up: bool,
    pub mac: Option<&'a str>,
    /// The impairment (netem) of what it sends; None for none, or one that asks for nothing.
    /// A lab whose impairment does not read is never planned (validation refuses it).
    pub netem: Option<Impairment>,
    /// Where it is written: `nodes[i]` for a bridge, `links[j].a` for a veth end.
    pub path: DocPath,
}

impl Interface<'_> {
    pub fn is_bridge_port(&self) -> bool {
        matches!(self.role, Role::VethEnd { bridge: Some(_), .. })
    }

    /// A short description for messages: "`eth0` in namespace `ns0`".
    pub fn describe(&self) -> String {
        format!("`{}` in {}", self.name, self.netns)
    }
}

/// Interfaces that share one broadcast domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
    /// Indexes into `Topology::interfaces`, in document order.
    pub interfaces: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Topology<'a> {
    /// The name of the lab's host node, if it has one.
    pub host_node: Option<&'a str>,
    /// Every namespace the lab uses, host first when used, then in document order.
    pub namespaces: Vec<Netns>,
    pub interfaces: Vec<Interface<'a>>,
    pub segments: Vec<Segment>,
    /// Links that close a loop of bridges (each one would make a broadcast storm).
    pub bridge_loop_links: Vec<usize>,
    /// The namespace of each resolvable node (a bridge's is where it lives).
    node_netns: HashMap<&'a str, Netns>,
    /// Indexes into `interfaces`, per namespace.
    by_netns: HashMap<Netns, Vec<usize>>,
    /// Indexes into `interfaces` of both ends of each link, when both resolve.
    link_ends: Vec<Option<[usize; 2]>>,
}

impl<'a> Topology<'a> {
    pub fn of(lab: &'a Lab) -> Self {
        let nodes = NodeIndex::of(lab);
        let mut interfaces = Vec::new();
        for (index, node) in lab.nodes.iter().enumerate() {
            if let Node::Bridge(bridge) = node {
                if let Some(netns) = nodes.bridge_netns(lab, index) {
                    interfaces.push(Interface {
                        netns,
                        name: &bridge.name,
                        role: Role::Bridge { node: index },
                        addresses: &bridge.addresses,
                        mtu: bridge.mtu,
                        up: bridge.up,
                        mac: bridge.mac.as_deref(),
                        netem: None,
                        path: DocPath::root().field("nodes").index(index),
                    });
                }
            }
        }
        for (link_index, link) in lab.links.iter().enumerate() {
            let Link::Veth(veth) = link;
            for (side, end) in [(Side::A, &veth.a), (Side::B, &veth.b)] {
                if let Some((netns, bridge)) = nodes.endpoint_place(lab, end) {
                    interfaces.push(veth_end(netns, end, link_index, side, bridge));
                }
            }
        }
        let (segments, bridge_loop_links) = segments_of(lab, &nodes, &interfaces);
        let mut namespaces: Vec<Netns> = Vec::new();
        let uses_host = nodes.host.is_some() || interfaces.iter().any(|i| i.netns == Netns::Host);
        if uses_host {
            namespaces.push(Netns::Host);
        }
        for node in &lab.nodes {
            if let Node::Namespace(namespace) = node {
                let netns = Netns::Named(namespace.name.clone());
                if !namespaces.contains(&netns) {
                    namespaces.push(netns);
                }
            }
        }
        let node_netns = nodes.by_name.keys().filter_map(|name| Some((*name, nodes.node_netns(lab, name)?))).collect();
        let mut by_netns: HashMap<Netns, Vec<usize>> = HashMap::new();
        for (index, interface) in interfaces.iter().enumerate() {
            by_netns.entry(interface.netns.clone()).or_default().push(index);
        }
        let mut link_ends: Vec<[Option<usize>; 2]> = vec![[None, None]; lab.links.len()];
        for (index, interface) in interfaces.iter().enumerate() {
            if let Role::VethEnd { link, side, .. } = interface.role {
                link_ends[link][side as usize] = Some(index);
            }
        }
        let link_ends = link_ends.into_iter().map(|[a, b]| Some([a?, b?])).collect();
        Topology {
            host_node: nodes.host.map(|index| lab.nodes[index].name()),
            namespaces,
            interfaces,
            segments,
            bridge_loop_links,
            node_netns,
            by_netns,
            link_ends,
        }
    }

    /// The namespace a node's routes and interfaces belong to (None for an unknown name).
    pub fn netns_of_node(&self, name: &str) -> Option<&Netns> {
        self.node_netns.get(name)
    }

    /// The interfaces in one namespace, in document order.
    pub fn interfaces_in<'t>(&'t self, netns: &Netns) -> impl Iterator<Item = &'t Interface<'a>> + 't {
        let indexes = self.by_netns.get(netns).map(Vec::as_slice).unwrap_or_default();
        indexes.iter().map(|&index| &self.interfaces[index])
    }

    /// Both ends of `links[link]`, when both resolve.
    pub fn veth_ends(&self, link: usize) -> Option<[&Interface<'a>; 2]> {
        let [a, b] = (*self.link_ends.get(link)?)?;
        Some([&self.interfaces[a], &self.interfaces[b]])
    }
}

fn veth_end<'a>(netns: Netns, end: &'a Endpoint, link: usize, side: Side, bridge: Option<usize>) -> Interface<'a> {
    Interface {
        netns,
        name: &end.name,
        role: Role::VethEnd { link, side, bridge },
        addresses: &end.addresses,
        mtu: end.mtu,
        up: end.up,
        mac: end.mac.as_deref(),
        netem: end.netem.as_ref().and_then(|netem| netem.parse().ok()).filter(|wanted| !wanted.is_empty()),
        path: DocPath::root().field("links").index(link).field(side.field()),
    }
}

/// Node names to indexes, first occurrence winning.
struct NodeIndex<'a> {
    by_name: HashMap<&'a str, usize>,
    host: Option<usize>,
}

impl<'a> NodeIndex<'a> {
    fn of(lab: &'a Lab) -> Self {
        let mut by_name = HashMap::new();
        for (index, node) in lab.nodes.iter().enumerate() {
            by_name.entry(node.name()).or_insert(index);
        }
        let host = lab.nodes.iter().position(|node| matches!(node, Node::Host(_)));
        NodeIndex { by_name, host }
    }

    /// The namespace of a host or namespace node; a bridge's own namespace for a bridge.
    fn node_netns(&self, lab: &Lab, name: &str) -> Option<Netns> {
        let index = *self.by_name.get(name)?;
        match &lab.nodes[index] {
            Node::Host(_) => Some(Netns::Host),
            Node::Namespace(namespace) => Some(Netns::Named(namespace.name.clone())),
            Node::Bridge(_) => self.bridge_netns(lab, index),
        }
    }

    fn bridge_netns(&self, lab: &Lab, index: usize) -> Option<Netns> {
        let Node::Bridge(bridge) = &lab.nodes[index] else {
            return None;
        };
        match bridge.namespace.as_deref() {
            None => Some(Netns::Host),
            Some(name) => match lab.nodes.get(*self.by_name.get(name)?)? {
                Node::Host(_) => Some(Netns::Host),
                Node::Namespace(namespace) => Some(Netns::Named(namespace.name.clone())),
                Node::Bridge(_) => None,
            },
        }
    }

    /// Where a veth end lives, and the bridge it is a port of.
    fn endpoint_place(&self, lab: &Lab, end: &Endpoint) -> Option<(Netns, Option<usize>)> {
        let index = *self.by_name.get(end.node.as_str())?;
        match &lab.nodes[index] {
            Node::Bridge(_) => Some((self.bridge_netns(lab, index)?, Some(index))),
            _ => Some((self.node_netns(lab, &end.node)?, None)),
        }
    }
}

/// Group interfaces into L2 segments with a union-find over bridges and veth links.
fn segments_of(lab: &Lab, nodes: &NodeIndex, interfaces: &[Interface]) -> (Vec<Segment>, Vec<usize>) {
    // Elements: nodes first (bridges matter), then links.
    let link_element = |link: usize| lab.nodes.len() + link;
    let mut sets = UnionFind::new(lab.nodes.len() + lab.links.len());
    let mut loops = Vec::new();
    for (link_index, link) in lab.links.iter().enumerate() {
        let Link::Veth(veth) = link;
        let bridges: Vec<usize> = [&veth.a, &veth.b]
            .into_iter()
            .filter_map(|end| nodes.endpoint_place(lab, end).and_then(|(_, bridge)| bridge))
            .collect();
        if let [first, second] = bridges[..] {
            if first != second && !sets.union(first, second) {
                loops.push(link_index);
            }
        }
        for bridge in bridges {
            sets.union(link_element(link_index), bridge);
        }
    }
    let mut by_root: HashMap<usize, usize> = HashMap::new();
    let mut segments: Vec<Segment> = Vec::new();
    for (index, interface) in interfaces.iter().enumerate() {
        let element = match interface.role {
            Role::Bridge { node } => node,
            Role::VethEnd { link, .. } => link_element(link),
        };
        let root = sets.find(element);
        let segment = *by_root.entry(root).or_insert_with(|| {
            segments.push(Segment::default());
            segments.len() - 1
        });
        segments[segment].interfaces.push(index);
    }
    (segments, loops)
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(size: usize) -> Self {
        UnionFind { parent: (0..size).collect() }
    }

    fn find(&mut self, mut element: usize) -> usize {
        while self.parent[element] != element {
            self.parent[element] = self.parent[self.parent[element]];
            element = self.parent[element];
        }
        element
    }

    /// Joins two sets; false when they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (root_a, root_b) = (self.find(a), self.find(b));
        if root_a == root_b {
            return false;
        }
        self.parent[root_a] = root_b;
        true
    }
}
