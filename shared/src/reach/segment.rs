//! One hop's layer 2: from the interface a packet leaves by, through veths and bridges, to
//! the interface that holds the next hop's address, and what on that way drops it.
//!
//! A veth end hands what it sends to its peer; a bridge port hands what it receives to its
//! bridge, which switches it to its other ports (or takes it itself, when the bridge holds
//! the address). The way is found as if everything were up, then checked element by element
//! in both directions (the neighbour's answer to ARP or neighbour discovery must come back),
//! so that the first element that drops is named, not just "unreachable".

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::net::IpAddr;

use super::network::{IfaceKind, Network};

/// A holder of an address on the segment, and what drops a packet on the way to it from
/// the sending interface (the way itself is [`Tree::way`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reached {
    pub holder: usize,
    pub block: Option<Block>,
}

/// What drops a packet on its way across a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    /// The interface is administratively down.
    InterfaceDown { iface: usize },
    /// The bridge device is down: its ports forward nothing.
    BridgeDown { iface: usize },
    /// The sending interface is up but has no carrier (its peer, if known, is down).
    NoCarrier { iface: usize, peer: Option<usize> },
    /// netem loss 100% on the interface that sends.
    TotalLoss { iface: usize },
}

/// Not reached from the root (in `Tree::position`).
const UNREACHED: u32 = u32::MAX;

/// Everything reachable on the segment from one interface, found once by a breadth-first
/// walk and kept (a matrix asks the same of every pair): how near each interface is, the
/// way back from it, and the interfaces that take packets (veth ends that are no ports,
/// and bridge devices). Indexed by interface, so a lookup is no hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    root: usize,
    /// Each interface's place in the walk's order (nearer first), or `UNREACHED`.
    position: Vec<u32>,
    /// The interface each one was reached from.
    came_from: Vec<u32>,
    /// What drops a packet on the way to each interface, found on first ask.
    blocks: Vec<OnceCell<Option<Block>>>,
    /// Receiving interfaces other than the root, nearest first.
    pub endpoints: Vec<usize>,
}

pub(crate) fn tree_of(network: &Network, from: usize) -> Tree {
    let count = network.interfaces.len();
    let mut tree = Tree {
        root: from,
        position: vec![UNREACHED; count],
        came_from: vec![UNREACHED; count],
        blocks: vec![OnceCell::new(); count],
        endpoints: Vec::new(),
    };
    tree.position[from] = 0;
    let mut queue = VecDeque::from([from]);
    let mut order = 0;
    while let Some(index) = queue.pop_front() {
        let interface = &network.interfaces[index];
        if index != from && !matches!(interface.kind, IfaceKind::Port { .. }) {
            tree.endpoints.push(index);
        }
        // A packet that reached an endpoint of another namespace goes no further.
        if index != from && interface.kind == IfaceKind::Endpoint {
            continue;
        }
        network.each_neighbour(index, |next| {
            if tree.position[next] == UNREACHED {
                order += 1;
                tree.position[next] = order;
                tree.came_from[next] = index as u32;
                queue.push_back(next);
            }
        });
    }
    tree
}

impl Tree {
    /// The interface takes packets sent from the root: reached, not a port, not the root.
    fn takes(&self, network: &Network, index: usize) -> bool {
        index != self.root
            && self.position[index] != UNREACHED
            && !matches!(network.interfaces[index].kind, IfaceKind::Port { .. })
    }

    /// The interfaces crossed from the root to a reached one, both included.
    pub fn way(&self, holder: usize) -> Vec<usize> {
        let mut way = vec![holder];
        while let Some(&at) = way.last().filter(|&&at| at != self.root) {
            way.push(self.came_from[at] as usize);
        }
        way.reverse();
        way
    }

    /// A reached interface and what drops a packet on the way to it.
    fn reached(&self, network: &Network, holder: usize) -> Reached {
        let block = *self.blocks[holder].get_or_init(|| first_block(network, &self.way(holder)));
        Reached { holder, block }
    }
}

/// Every interface on the segment of `from` (ports excepted) that holds `address`, each with
/// the shortest way to it, nearest first. For IPv4, then every other interface on the
/// segment of a namespace that holds it: Linux answers ARP for any of a namespace's
/// addresses on any of its interfaces (`arp_ignore` 0), even one held by an interface
/// that is down. IPv6 neighbour discovery answers only for the receiving interface's own.
pub(crate) fn holders_of(network: &Network, from: usize, address: IpAddr) -> Vec<Reached> {
    let tree = network.tree(from);
    let takes = |index: usize| tree.takes(network, index);
    let mut reached: Vec<Reached> = network
        .holding(address)
        .iter()
        .copied()
        .filter(|&index| takes(index))
        .map(|index| tree.reached(network, index))
        .collect();
    reached.sort_by_key(|found| tree.position[found.holder]);
    if address.is_ipv4() {
        for &space in network.owners(address) {
            let first = reached.len();
            for &index in &network.spaces[space].interfaces {
                if takes(index) && !reached.iter().any(|found| found.holder == index) {
                    reached.push(tree.reached(network, index));
                }
            }
            reached[first..].sort_by_key(|found| tree.position[found.holder]);
        }
    }
    reached
}

/// The first element that drops what goes along `crossed` (from its first interface to its
/// last), then along the way back.
pub(crate) fn first_block(network: &Network, crossed: &[usize]) -> Option<Block> {
    one_way(network, crossed, false).or_else(|| one_way(network, crossed, true))
}

/// `crossed` from its first interface to its last, or (`back`) from its last to its first.
fn one_way(network: &Network, crossed: &[usize], back: bool) -> Option<Block> {
    let at = |step: usize| if back { crossed[crossed.len() - 1 - step] } else { crossed[step] };
    if crossed.is_empty() {
        return None;
    }
    let sender = at(0);
    let sending = &network.interfaces[sender];
    if sending.up && sending.carrier == Some(false) {
        return Some(Block::NoCarrier { iface: sender, peer: sending.peer });
    }
    for step in 1..crossed.len() {
        let (from, to) = (at(step - 1), at(step));
        let (left, right) = (&network.interfaces[from], &network.interfaces[to]);
        let block = match (left.kind, right.kind) {
            // Along a veth: the sender's impairment, then the other end's state.
            _ if left.peer == Some(to) => {
                if left.loses_all() {
                    Some(Block::TotalLoss { iface: from })
                } else if !left.up {
                    Some(Block::InterfaceDown { iface: from })
                } else if !right.up && from == sender {
                    Some(Block::NoCarrier { iface: from, peer: Some(to) })
                } else if !right.up {
                    Some(Block::InterfaceDown { iface: to })
                } else {
                    None
                }
            }
            (IfaceKind::Port { .. }, IfaceKind::Bridge) => (!right.up).then_some(Block::BridgeDown { iface: to }),
            (IfaceKind::Bridge, IfaceKind::Port { .. }) => {
                if !left.up {
                    Some(Block::BridgeDown { iface: from })
                } else {
                    (!right.up).then_some(Block::InterfaceDown { iface: to })
                }
            }
            _ => None,
        };
        if block.is_some() {
            return block;
        }
    }
    None
}

/// Every interface on the segment of `from` that takes packets for its namespace (veth
/// ends that are no ports, and bridge devices), nearest first; `from` itself excepted.
pub(crate) fn endpoints_of(network: &Network, from: usize) -> Vec<usize> {
    network.tree(from).endpoints.clone()
}
