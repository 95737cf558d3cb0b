//! Break-it drills: faults the teacher has nslab inject into the kernel (never the file),
//! for students to find with ping, the explainer and a terminal. This module picks the
//! faults from the lab and says each as the ops that make it and in words; the server
//! carries them out, hides the drift they cause while the drill runs, and repairs by
//! applying the lab again.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::address::{parse_interface_address, Family};
use crate::identity::{LinkRef, Netns};
use crate::lab::{Lab, Node};
use crate::netem::{Chance, Impairment};
use crate::observed::Observed;
use crate::ops::Op;
use crate::plan::WantedRoute;
use crate::topology::{Interface, Role, Topology};

/// At most this many faults in one drill.
pub const MAX_FAULTS: u32 = 10;

/// The MTU a lowered-MTU fault sets: IPv6 still works, full-size IPv4 packets do not.
const LOWERED_MTU: u32 = 1280;

/// A veth's MTU when the lab says none.
const DEFAULT_MTU: u32 = 1500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// An interface's address replaced by another of its subnet.
    AddressChanged,
    /// A route of the lab deleted.
    RouteDeleted,
    /// Forwarding turned off in a router namespace.
    ForwardingOff,
    /// An interface set down.
    InterfaceDown,
    /// An address given a longer prefix, so that its neighbours fall outside it.
    WrongPrefix,
    /// An interface's MTU lowered to 1280.
    MtuLowered,
    /// Everything an interface sends dropped (netem loss 100%).
    Impairment,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::AddressChanged,
        FaultKind::RouteDeleted,
        FaultKind::ForwardingOff,
        FaultKind::InterfaceDown,
        FaultKind::WrongPrefix,
        FaultKind::MtuLowered,
        FaultKind::Impairment,
    ];
}

/// One fault: what it breaks, in words, and the ops that break it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// "`eth0` in namespace `ns2` was set down".
    pub what: String,
    /// The namespace it is in (the place students should look).
    pub netns: Netns,
    /// The interface it is on, when it is on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    pub ops: Vec<Op>,
    /// What undoes it where applying the lab would not (the lab says nothing of it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restore: Vec<Op>,
}

impl Fault {
    /// The `ip` commands that made it.
    pub fn commands(&self) -> Vec<String> {
        self.ops.iter().map(Op::ip_command).collect()
    }

    /// What the fault sits on: two faults on one thing would hide each other.
    fn target(&self) -> (Netns, Option<String>) {
        (self.netns.clone(), self.interface.clone())
    }
}

/// What the teacher asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    /// How many faults, 1 to 10.
    pub faults: u32,
    /// The kinds to choose from; empty or absent: every kind.
    #[serde(default)]
    pub kinds: Vec<FaultKind>,
    /// Makes the choice repeatable (tests); absent: a fresh one.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Every fault of `kinds` the lab offers, in the lab's order.
pub fn candidate_faults(lab: &Lab, kinds: &[FaultKind]) -> Vec<Fault> {
    let topology = Topology::of(lab);
    let wanted = |kind: FaultKind| kinds.is_empty() || kinds.contains(&kind);
    let mut faults = Vec::new();
    for interface in &topology.interfaces {
        if !interface.up {
            continue;
        }
        let link = LinkRef::new(interface.netns.clone(), interface.name);
        if wanted(FaultKind::InterfaceDown) {
            faults.push(on(interface, FaultKind::InterfaceDown, "was set down", vec![set_down(&link)]));
        }
        if interface.is_bridge_port() {
            continue;
        }
        // Applying the lab manages a veth's MTU and netem, not a bridge's.
        let is_veth = matches!(interface.role, Role::VethEnd { .. });
        if wanted(FaultKind::MtuLowered) && is_veth && interface.mtu.is_none_or(|mtu| mtu > LOWERED_MTU) {
            let op = Op::SetMtu { link: link.clone(), mtu: LOWERED_MTU };
            let mut fault = on(interface, FaultKind::MtuLowered, &format!("got MTU {LOWERED_MTU}"), vec![op]);
            // A lab without an MTU leaves it alone when applied: the repair puts it back.
            let mtu = interface.mtu.unwrap_or(DEFAULT_MTU);
            fault.restore = vec![Op::SetMtu { link: link.clone(), mtu }];
            faults.push(fault);
        }
        if wanted(FaultKind::Impairment) && is_veth && interface.netem.is_none() {
            let netem = Impairment { loss: Some(Chance::from_percent(100.0)), ..Impairment::default() };
            let op = Op::SetNetem { link: link.clone(), netem };
            faults.push(on(interface, FaultKind::Impairment, "drops everything it sends", vec![op]));
        }
        faults.extend(address_faults(&topology, interface, &link, &wanted));
    }
    faults.extend(namespace_faults(lab, &wanted));
    faults
}

fn on(interface: &Interface, kind: FaultKind, what: &str, ops: Vec<Op>) -> Fault {
    Fault {
        kind,
        what: format!("{} {what}", capitalised(&interface.describe())),
        netns: interface.netns.clone(),
        interface: Some(interface.name.to_string()),
        ops,
        restore: Vec::new(),
    }
}

fn set_down(link: &LinkRef) -> Op {
    Op::SetUp { link: link.clone(), up: false }
}

/// Address changed and wrong prefix, for the interface's first IPv4 address.
fn address_faults(
    topology: &Topology,
    interface: &Interface,
    link: &LinkRef,
    wanted: &dyn Fn(FaultKind) -> bool,
) -> Vec<Fault> {
    let Some((text, net)) = first_ipv4(interface) else { return Vec::new() };
    let mut faults = Vec::new();
    let replace = |new: String| {
        vec![
            Op::DeleteAddress { link: link.clone(), address: text.to_string() },
            Op::AddAddress { link: link.clone(), address: new },
        ]
    };
    if wanted(FaultKind::AddressChanged) {
        if let Some(free) = free_address(topology, net) {
            let new = format!("{free}/{}", net.prefix_len());
            let what = format!("had {text} changed to {new}");
            faults.push(on(interface, FaultKind::AddressChanged, &what, replace(new)));
        }
    }
    if wanted(FaultKind::WrongPrefix) {
        if let Some(prefix) = narrower_prefix(topology, interface, net) {
            let new = format!("{}/{prefix}", net.addr());
            let what = format!("had {text} changed to {new}");
            faults.push(on(interface, FaultKind::WrongPrefix, &what, replace(new)));
        }
    }
    faults
}

fn first_ipv4<'i>(interface: &Interface<'i>) -> Option<(&'i str, IpNet)> {
    interface.addresses.iter().find_map(|text| match parse_interface_address(text) {
        Ok(net @ IpNet::V4(_)) => Some((text.as_str(), net)),
        _ => None,
    })
}

/// An address of `net`'s subnet that no interface of the lab holds (not the network or
/// broadcast address), from the middle of the subnet on, so that it does not look like a
/// typo of a neighbour's.
fn free_address(topology: &Topology, net: IpNet) -> Option<IpAddr> {
    let IpNet::V4(v4) = net else { return None };
    let taken: Vec<IpAddr> = topology
        .interfaces
        .iter()
        .flat_map(|interface| interface.addresses.iter())
        .filter_map(|text| parse_interface_address(text).ok().map(|net| net.addr()))
        .collect();
    let middle = (1usize << (32 - v4.prefix_len().min(31))) / 2;
    v4.hosts().skip(middle).chain(v4.hosts()).map(IpAddr::V4).find(|candidate| !taken.contains(candidate))
}

/// A longer prefix under which some other address of the interface's segment
/// falls outside the subnet, or None when every such prefix keeps them all in.
fn narrower_prefix(topology: &Topology, interface: &Interface, net: IpNet) -> Option<u8> {
    let segment = topology.segments.iter().find(|segment| {
        segment.interfaces.iter().any(|&member| std::ptr::eq(&topology.interfaces[member], interface))
    })?;
    let neighbours: Vec<IpAddr> = segment
        .interfaces
        .iter()
        .map(|&member| &topology.interfaces[member])
        .filter(|other| !std::ptr::eq(*other, interface))
        .flat_map(|other| other.addresses.iter())
        .filter_map(|text| parse_interface_address(text).ok().map(|net| net.addr()))
        .filter(|address| net.contains(address))
        .collect();
    (net.prefix_len() + 1..=32).find(|&prefix| {
        let narrower = IpNet::new(net.addr(), prefix).expect("a prefix up to 32").trunc();
        neighbours.iter().any(|address| !narrower.contains(address))
    })
}

/// Route deleted and forwarding off.
fn namespace_faults(lab: &Lab, wanted: &dyn Fn(FaultKind) -> bool) -> Vec<Fault> {
    let mut faults = Vec::new();
    for node in &lab.nodes {
        let (netns, routes, v4, v6) = match node {
            Node::Namespace(ns) => (Netns::Named(ns.name.clone()), &ns.routes, ns.ipv4_forwarding, ns.ipv6_forwarding),
            Node::Host(host) => {
                (Netns::Host, &host.routes, host.ipv4_forwarding == Some(true), host.ipv6_forwarding == Some(true))
            }
            Node::Bridge(_) => continue,
        };
        let place = capitalised(&netns.to_string());
        if wanted(FaultKind::RouteDeleted) {
            for route in routes {
                let Some(wanted_route) = WantedRoute::of(route) else { continue };
                let op = Op::DeleteRoute { netns: netns.clone(), family: wanted_route.family, route: route.clone() };
                let what = format!("{place} lost its route `{}`", route_words(route));
                faults.push(Fault {
                    kind: FaultKind::RouteDeleted,
                    what,
                    netns: netns.clone(),
                    interface: None,
                    ops: vec![op],
                    restore: Vec::new(),
                });
            }
        }
        if wanted(FaultKind::ForwardingOff) {
            for (on, family) in [(v4, Family::V4), (v6, Family::V6)] {
                if on {
                    let op = Op::SetForwarding { netns: netns.clone(), family, enabled: false };
                    let what = format!("{place} stopped forwarding {}", family.word());
                    faults.push(Fault {
                        kind: FaultKind::ForwardingOff,
                        what,
                        netns: netns.clone(),
                        interface: None,
                        ops: vec![op],
                        restore: Vec::new(),
                    });
                }
            }
        }
    }
    faults
}

fn route_words(route: &crate::Route) -> String {
    let via = route.via.as_deref().map(|via| format!(" via {via}")).unwrap_or_default();
    let dev = route.dev.as_deref().map(|dev| format!(" dev {dev}")).unwrap_or_default();
    format!("{}{via}{dev}", route.to)
}

fn capitalised(text: &str) -> String {
    crate::problem::capitalised(text)
}

/// Picks `count` faults: different kinds first, never two on one interface or namespace
/// setting, in an order given by `seed`. Fewer when the lab offers fewer.
pub fn pick_faults(mut candidates: Vec<Fault>, count: usize, seed: u64) -> Vec<Fault> {
    shuffle(&mut candidates, seed);
    let mut picked: Vec<Fault> = Vec::new();
    for distinct_kinds in [true, false] {
        for fault in &candidates {
            if picked.len() == count {
                return picked;
            }
            let kind_used = picked.iter().any(|p| p.kind == fault.kind);
            let target_used = picked.iter().any(|p| p.target() == fault.target() && p.interface.is_some())
                || picked.iter().any(|p| p.what == fault.what);
            if target_used || (distinct_kinds && kind_used) {
                continue;
            }
            picked.push(fault.clone());
        }
    }
    picked
}

/// Fisher-Yates with splitmix64: the same seed, the same order, on every platform.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        items.swap(i, (z % (i as u64 + 1)) as usize);
    }
}

/// Whether the kernel still shows the fault: the drift (what applying the lab would do
/// now) repairs something it broke, or for what the lab does not say (an MTU it leaves
/// alone), the kernel still holds what the fault set. When not, the students fixed it.
pub fn still_broken(fault: &Fault, drift: &[Op], observed: &Observed) -> bool {
    if let [Op::SetMtu { link, mtu }] = fault.ops.as_slice() {
        if !fault.restore.is_empty() {
            return observed.link(link).is_some_and(|held| held.mtu == *mtu);
        }
    }
    drift.iter().any(|op| touches(op, fault))
}

fn touches(op: &Op, fault: &Fault) -> bool {
    let same_link = |link: &LinkRef| link.netns == fault.netns && Some(&link.name) == fault.interface.as_ref();
    match (op, fault.kind) {
        (Op::SetUp { link, .. } | Op::SetMtu { link, .. }, _) => same_link(link),
        (Op::AddAddress { link, .. } | Op::DeleteAddress { link, .. }, _) => same_link(link),
        (Op::SetNetem { link, .. } | Op::ClearNetem { link }, _) => same_link(link),
        (Op::AddRoute { netns, route, .. }, FaultKind::RouteDeleted) => {
            *netns == fault.netns
                && fault.ops.iter().any(|made| matches!(made, Op::DeleteRoute { route: r, .. } if r == route))
        }
        (Op::SetForwarding { netns, family, .. }, FaultKind::ForwardingOff) => {
            *netns == fault.netns
                && fault.ops.iter().any(|made| matches!(made, Op::SetForwarding { family: f, .. } if f == family))
        }
        _ => false,
    }
}
