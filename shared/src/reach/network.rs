//! The lab as the kernel holds it once applied: each namespace with its interfaces, their
//! addresses and states, its routes and settings, all parsed. What does not parse is left
//! out (validation reports it at its place), so a half-typed lab still explains.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;

use crate::address::{parse_interface_address, Family};
use crate::identity::Netns;
use crate::lab::{Lab, Node, Route};
use crate::netem::Impairment;
use crate::topology::{Role, Side, Topology};
use crate::validate::parse_route;

use super::segment::{tree_of, Tree};
use super::table::{table_of, Table};

/// The metric of the routes the kernel makes for an IPv6 interface's subnets.
pub const IPV6_CONNECTED_METRIC: u32 = 256;

/// Where an interface is written in the lab, so that a fix can change it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InterfacePlace {
    /// One end of the veth `links[link]`.
    Veth { link: usize, side: Side },
    /// The bridge node of that name (the bridge device itself).
    Bridge { node: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfaceKind {
    /// A veth end that is no bridge port: it sends and receives for its namespace.
    Endpoint,
    /// A veth end plugged into the bridge device `interfaces[bridge]`.
    Port { bridge: usize },
    /// A bridge device: it switches between its ports, and is an endpoint of its namespace.
    Bridge,
}

#[derive(Debug, Clone)]
pub(crate) struct Iface {
    pub space: usize,
    pub name: String,
    pub kind: IfaceKind,
    /// The other end of a veth.
    pub peer: Option<usize>,
    pub addresses: Vec<IpNet>,
    /// Administrative state.
    pub up: bool,
    /// Carrier as the kernel reported it (live mode only); in the lab's own terms a veth
    /// has carrier when both its ends are up.
    pub carrier: Option<bool>,
    pub netem: Option<Impairment>,
    pub place: InterfacePlace,
    /// The node the interface is drawn on: its namespace's node, or the bridge it is a port of.
    pub drawn_on: String,
    pub link: Option<usize>,
}

impl Iface {
    /// netem `loss 100%`: every packet it sends is dropped.
    pub fn loses_all(&self) -> bool {
        self.netem.as_ref().and_then(|netem| netem.loss).is_some_and(|loss| loss.percent() >= 100.0)
    }

    pub fn holds(&self, address: IpAddr) -> bool {
        self.addresses.iter().any(|net| net.addr() == address)
    }
}

/// A route of a namespace, as written in the lab (or read from the kernel in live mode).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpaceRoute {
    pub destination: IpNet,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    /// The metric as the kernel keeps it (an IPv6 route without one has 1024).
    pub metric: u32,
    /// The index in the node's `routes`; None for a route only the kernel has.
    pub index: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub netns: Netns,
    /// The node the lab calls this namespace by; `host` for the host without a host node.
    pub node: String,
    /// A node of the lab stands for it (a namespace node, or the host node).
    pub has_node: bool,
    pub loopback_up: bool,
    /// Forwarding per family, `Family` order (IPv4, IPv6).
    pub forwarding: [bool; 2],
    pub routes: Vec<SpaceRoute>,
    pub interfaces: Vec<usize>,
}

impl Space {
    pub fn forwards(&self, family: Family) -> bool {
        self.forwarding[slot(family)]
    }
}

/// The index of a family in per-family arrays.
pub(crate) fn slot(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub spaces: Vec<Space>,
    pub interfaces: Vec<Iface>,
    /// The ports of each bridge device, by the device's index.
    ports: FxHashMap<usize, Vec<usize>>,
    /// What each interface reaches on its segment, by interface, found on first use (a
    /// matrix asks the same of every pair). Filled only after the network is complete (live
    /// input included).
    trees: RefCell<Vec<Option<Rc<Tree>>>>,
    /// Each namespace's routing table per family (at `2 * space + slot`), made on first use.
    tables: RefCell<Vec<Option<Rc<Table>>>>,
    /// The namespaces that hold each address.
    owners: FxHashMap<IpAddr, Vec<usize>>,
    /// The interfaces that hold each address.
    holding: FxHashMap<IpAddr, Vec<usize>>,
}

impl Network {
    pub fn of(lab: &Lab) -> Network {
        let topology = Topology::of(lab);
        let mut spaces: Vec<Space> = topology.namespaces.iter().map(|netns| space_of(lab, &topology, netns)).collect();
        let bridge_device =
            |node: usize| topology.interfaces.iter().position(|interface| interface.role == Role::Bridge { node });
        let mut interfaces = Vec::with_capacity(topology.interfaces.len());
        for (index, interface) in topology.interfaces.iter().enumerate() {
            let space = match spaces.iter().position(|space| space.netns == interface.netns) {
                Some(space) => space,
                None => {
                    spaces.push(space_of(lab, &topology, &interface.netns));
                    spaces.len() - 1
                }
            };
            spaces[space].interfaces.push(index);
            let (kind, peer, place, drawn_on, link) = match interface.role {
                Role::Bridge { node } => (
                    IfaceKind::Bridge,
                    None,
                    InterfacePlace::Bridge { node: lab.nodes[node].name().to_string() },
                    lab.nodes[node].name().to_string(),
                    None,
                ),
                Role::VethEnd { link, side, bridge } => {
                    let kind = match bridge.and_then(bridge_device) {
                        Some(device) => IfaceKind::Port { bridge: device },
                        None => IfaceKind::Endpoint,
                    };
                    let peer = topology.veth_ends(link).and_then(|ends| {
                        let other = ends[side.other() as usize];
                        topology.interfaces.iter().position(|candidate| std::ptr::eq(candidate, other))
                    });
                    let crate::lab::Link::Veth(veth) = &lab.links[link];
                    let end = veth.end(side);
                    (kind, peer, InterfacePlace::Veth { link, side }, end.node.clone(), Some(link))
                }
            };
            interfaces.push(Iface {
                space,
                name: interface.name.to_string(),
                kind,
                peer,
                addresses: interface.addresses.iter().filter_map(|text| parse_interface_address(text).ok()).collect(),
                up: interface.up,
                carrier: None,
                netem: interface.netem.clone(),
                place,
                drawn_on,
                link,
            });
            debug_assert_eq!(interfaces.len(), index + 1);
        }
        let mut ports: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for (index, interface) in interfaces.iter().enumerate() {
            if let IfaceKind::Port { bridge } = interface.kind {
                ports.entry(bridge).or_default().push(index);
            }
        }
        let mut network = Network {
            spaces,
            interfaces,
            ports,
            trees: RefCell::default(),
            tables: RefCell::default(),
            owners: FxHashMap::default(),
            holding: FxHashMap::default(),
        };
        network.reindex();
        network
    }

    /// The namespaces that hold an address.
    pub fn owners(&self, address: IpAddr) -> &[usize] {
        self.owners.get(&address).map(Vec::as_slice).unwrap_or_default()
    }

    /// The interfaces that hold an address.
    pub fn holding(&self, address: IpAddr) -> &[usize] {
        self.holding.get(&address).map(Vec::as_slice).unwrap_or_default()
    }

    /// What `from` reaches on its segment.
    pub fn tree(&self, from: usize) -> Rc<Tree> {
        if let Some(tree) = &self.trees.borrow()[from] {
            return Rc::clone(tree);
        }
        let tree = Rc::new(tree_of(self, from));
        self.trees.borrow_mut()[from] = Some(Rc::clone(&tree));
        tree
    }

    /// The routing table of one family in one namespace.
    pub fn table(&self, space: usize, family: Family) -> Rc<Table> {
        let key = 2 * space + slot(family);
        if let Some(table) = &self.tables.borrow()[key] {
            return Rc::clone(table);
        }
        let table = Rc::new(table_of(self, space, family));
        self.tables.borrow_mut()[key] = Some(Rc::clone(&table));
        table
    }

    /// Forgets what was found and indexes the addresses again, after the network changed
    /// (live input put in).
    pub fn reindex(&mut self) {
        *self.trees.get_mut() = vec![None; self.interfaces.len()];
        *self.tables.get_mut() = vec![None; 2 * self.spaces.len()];
        self.owners.clear();
        self.holding.clear();
        for (index, interface) in self.interfaces.iter().enumerate() {
            for net in &interface.addresses {
                let holding = self.holding.entry(net.addr()).or_default();
                if !holding.contains(&index) {
                    holding.push(index);
                }
                let owners = self.owners.entry(net.addr()).or_default();
                if !owners.contains(&interface.space) {
                    owners.push(interface.space);
                }
            }
        }
    }

    /// Calls `visit` with each interface next to one on the segment: a veth's other end, a
    /// port's bridge, a bridge's ports.
    pub fn each_neighbour(&self, index: usize, mut visit: impl FnMut(usize)) {
        let interface = &self.interfaces[index];
        match interface.kind {
            IfaceKind::Endpoint => interface.peer.into_iter().for_each(visit),
            IfaceKind::Port { bridge } => interface.peer.into_iter().chain([bridge]).for_each(visit),
            IfaceKind::Bridge => self.ports.get(&index).into_iter().flatten().for_each(|&port| visit(port)),
        }
    }

    /// The space of a namespace, if the lab uses it.
    pub fn space_of(&self, netns: &Netns) -> Option<usize> {
        self.spaces.iter().position(|space| &space.netns == netns)
    }

    /// Some interface of the namespace holds the address (whatever its state: the kernel
    /// keeps an interface's addresses local while it is down).
    pub fn holds(&self, space: usize, address: IpAddr) -> bool {
        self.owners(address).contains(&space)
    }

    /// Some namespace of the lab holds the address.
    pub fn anyone_holds(&self, address: IpAddr) -> bool {
        !self.owners(address).is_empty()
    }

    /// `ip -n NS` (or `ip` for the host namespace), for the fix's command.
    pub fn ip_in(&self, space: usize) -> String {
        match &self.spaces[space].netns {
            Netns::Host => "ip".to_string(),
            Netns::Named(name) => format!("ip -n {}", crate::shell::sh_word(name)),
        }
    }
}

fn space_of(lab: &Lab, topology: &Topology, netns: &Netns) -> Space {
    let mut space = Space {
        netns: netns.clone(),
        node: String::new(),
        has_node: false,
        loopback_up: true,
        forwarding: [false, false],
        routes: Vec::new(),
        interfaces: Vec::new(),
    };
    let node = match netns {
        Netns::Host => lab.nodes.iter().find(|node| matches!(node, Node::Host(_))),
        Netns::Named(name) => lab.node(name).filter(|node| matches!(node, Node::Namespace(_))),
    };
    space.node = match (node, netns) {
        (Some(node), _) => node.name().to_string(),
        (None, Netns::Host) => topology.host_node.unwrap_or("host").to_string(),
        (None, Netns::Named(name)) => name.clone(),
    };
    match node {
        Some(Node::Namespace(namespace)) => {
            space.has_node = true;
            space.loopback_up = namespace.loopback_up;
            space.forwarding = [namespace.ipv4_forwarding, namespace.ipv6_forwarding];
            space.routes = lab_routes(&namespace.routes);
        }
        Some(Node::Host(host)) => {
            space.has_node = true;
            // Absent leaves the host's own setting, which a fresh namespace has off.
            space.forwarding = [host.ipv4_forwarding.unwrap_or(false), host.ipv6_forwarding.unwrap_or(false)];
            space.routes = lab_routes(&host.routes);
        }
        _ => {}
    }
    space
}

fn lab_routes(routes: &[Route]) -> Vec<SpaceRoute> {
    routes
        .iter()
        .enumerate()
        .filter_map(|(index, route)| {
            let parsed = parse_route(route).ok()?;
            let metric = crate::validate::kernel_metric(&parsed.destination, route.metric);
            Some(SpaceRoute {
                destination: parsed.destination,
                via: parsed.via,
                dev: route.dev.clone(),
                metric,
                index: Some(index),
            })
        })
        .collect()
}
