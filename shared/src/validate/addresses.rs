//! Addresses, MACs and MTUs of every interface: well-formed, usable, and not taken twice.

use crate::address::is_link_local;
use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::address::{parse_interface_address, parse_mac};
use crate::identity::Netns;
use crate::lab::{Lab, Link, Node};
use crate::path::DocPath;
use crate::problem::Rule;
use crate::topology::{Segment, Topology};

use super::Report;

pub const MIN_MTU: u32 = 68;
pub const MAX_MTU: u32 = 65535;
/// Below this the kernel turns IPv6 off on an interface.
pub const MIN_IPV6_MTU: u32 = 1280;

pub(super) fn check(lab: &Lab, topology: &Topology, report: &mut Report) {
    // Form first, straight from the document: an end on an unknown node still gets its
    // addresses checked.
    for (path, fields) in interface_fields(lab) {
        check_form(&path, &fields, report);
    }
    let mut in_namespace: HashMap<(&Netns, IpAddr), DocPath> = HashMap::new();
    for interface in &topology.interfaces {
        for (index, text) in interface.addresses.iter().enumerate() {
            let Ok(net) = parse_interface_address(text) else {
                continue;
            };
            let path = interface.path.field("addresses").index(index);
            if index == 0 && interface.is_bridge_port() {
                report.push(
                    Rule::AddressOnBridgePort,
                    path.clone(),
                    format!(
                        "`{}` is a bridge port; traffic for addresses on a port is taken by the bridge, so put the address on the bridge or on the far end of the veth",
                        interface.name
                    ),
                );
            }
            match in_namespace.get(&(&interface.netns, net.addr())) {
                Some(first) => report.push(
                    Rule::DuplicateAddress,
                    path,
                    format!(
                        "{} is already used in {} (at {first}); each address once per namespace",
                        net.addr(),
                        interface.netns
                    ),
                ),
                None => {
                    in_namespace.insert((&interface.netns, net.addr()), path);
                }
            }
        }
    }
    for segment in &topology.segments {
        check_segment_duplicates(topology, segment, report);
    }
}

/// The per-interface settings of a bridge or a veth end, wherever it is plugged in.
struct Fields<'a> {
    name: &'a str,
    addresses: &'a [String],
    mtu: Option<u32>,
    mac: Option<&'a str>,
}

fn interface_fields(lab: &Lab) -> Vec<(DocPath, Fields<'_>)> {
    let mut all = Vec::new();
    for (index, node) in lab.nodes.iter().enumerate() {
        if let Node::Bridge(bridge) = node {
            let fields = Fields {
                name: &bridge.name,
                addresses: &bridge.addresses,
                mtu: bridge.mtu,
                mac: bridge.mac.as_deref(),
            };
            all.push((DocPath::root().field("nodes").index(index), fields));
        }
    }
    for (index, link) in lab.links.iter().enumerate() {
        let Link::Veth(veth) = link;
        for (side, end) in [("a", &veth.a), ("b", &veth.b)] {
            let fields = Fields { name: &end.name, addresses: &end.addresses, mtu: end.mtu, mac: end.mac.as_deref() };
            all.push((DocPath::root().field("links").index(index).field(side), fields));
        }
    }
    all
}

fn check_form(path: &DocPath, fields: &Fields, report: &mut Report) {
    check_mtu(path, fields, report);
    if let Some(mac) = fields.mac {
        if let Err(message) = parse_mac(mac) {
            report.push(Rule::InvalidMac, path.field("mac"), message);
        }
    }
    for (index, text) in fields.addresses.iter().enumerate() {
        let path = path.field("addresses").index(index);
        match parse_interface_address(text) {
            Err(message) => report.push(Rule::InvalidAddress, path, message),
            Ok(net) => {
                if let Some((rule, message)) = host_address_problem(&net) {
                    report.push(rule, path, message);
                }
            }
        }
    }
}

fn check_mtu(path: &DocPath, fields: &Fields, report: &mut Report) {
    let Some(mtu) = fields.mtu else { return };
    let path = path.field("mtu");
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        report.push(
            Rule::MtuOutOfRange,
            path,
            format!("MTU {mtu} is out of range; Linux accepts {MIN_MTU} to {MAX_MTU} bytes (1500 is usual)"),
        );
    } else if mtu < MIN_IPV6_MTU && has_ipv6(fields.addresses) {
        report.push(
            Rule::MtuTooSmallForIpv6,
            path,
            format!("MTU {mtu} is below {MIN_IPV6_MTU}, so the kernel turns IPv6 off on `{}` and its IPv6 addresses will not work", fields.name),
        );
    }
}

fn has_ipv6(addresses: &[String]) -> bool {
    addresses.iter().any(|text| matches!(parse_interface_address(text), Ok(IpNet::V6(_))))
}

/// Addresses a host cannot use: network and broadcast addresses, loopback, multicast.
pub fn host_address_problem(net: &IpNet) -> Option<(Rule, String)> {
    let addr = net.addr();
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() || addr == IpAddr::from([255, 255, 255, 255])
    {
        let kind = if addr.is_unspecified() {
            "the unspecified address"
        } else if addr.is_multicast() {
            "a multicast address"
        } else if addr.is_loopback() {
            "a loopback address (it belongs on `lo`)"
        } else {
            "the broadcast address"
        };
        return Some((Rule::UnusableAddress, format!("{addr} is {kind}; an interface needs a unicast address")));
    }
    let network = net.network();
    let usable_from = match net {
        IpNet::V4(_) if net.prefix_len() < 31 => Some(()),
        IpNet::V6(_) if net.prefix_len() < 127 => Some(()),
        _ => None,
    };
    usable_from?;
    if addr == network {
        let what = if net.addr().is_ipv4() { "network address" } else { "subnet-router anycast address" };
        return Some((
            Rule::NetworkAddress,
            format!(
                "{addr} is the {what} of {}; give the interface a host address such as {}",
                net.trunc(),
                next_host(net)
            ),
        ));
    }
    if addr.is_ipv4() && addr == net.broadcast() {
        return Some((
            Rule::BroadcastAddress,
            format!("{addr} is the broadcast address of {}; give the interface a host address inside it", net.trunc()),
        ));
    }
    None
}

fn next_host(net: &IpNet) -> String {
    net.hosts().next().map(|host| format!("{host}/{}", net.prefix_len())).unwrap_or_default()
}

/// One address on interfaces of two namespaces on one link: where it is again and where it
/// was first, each as (interface, address) indexes into `Topology::interfaces` and that
/// interface's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressTwice {
    pub address: IpAddr,
    pub again: (usize, usize),
    pub first: (usize, usize),
}

/// Every address used again on `segment` by an interface of another namespace than the
/// one that has it first (one namespace's own are `DuplicateAddress` of the namespace),
/// link-local ones aside, in document order.
pub fn addresses_twice_on(topology: &Topology, segment: &Segment) -> Vec<AddressTwice> {
    let mut seen: HashMap<IpAddr, (usize, usize)> = HashMap::new();
    let mut twice = Vec::new();
    for &member in &segment.interfaces {
        let interface = &topology.interfaces[member];
        for (index, text) in interface.addresses.iter().enumerate() {
            let Ok(address) = parse_interface_address(text).map(|net| net.addr()) else { continue };
            if is_link_local(&address) {
                continue;
            }
            match seen.get(&address) {
                Some(&first) if topology.interfaces[first.0].netns != interface.netns => {
                    twice.push(AddressTwice { address, again: (member, index), first })
                }
                Some(_) => {}
                None => {
                    seen.insert(address, (member, index));
                }
            }
        }
    }
    twice
}

/// One address or MAC twice on one segment (addresses across namespaces: the same
/// namespace is reported above).
fn check_segment_duplicates(topology: &Topology, segment: &Segment, report: &mut Report) {
    let address_path =
        |(interface, index): (usize, usize)| topology.interfaces[interface].path.field("addresses").index(index);
    let twice = addresses_twice_on(topology, segment);
    let mut macs: HashMap<[u8; 6], DocPath> = HashMap::new();
    for &member in &segment.interfaces {
        let interface = &topology.interfaces[member];
        for found in twice.iter().filter(|found| found.again.0 == member) {
            report.push(
                Rule::DuplicateAddressOnLink,
                address_path(found.again),
                format!(
                    "{} is also used at {}, on the same link; two hosts with one address confuse ARP and neighbour discovery",
                    found.address,
                    address_path(found.first)
                ),
            );
        }
        if let Some(mac) = interface.mac.and_then(|text| parse_mac(text).ok()) {
            match macs.get(&mac) {
                Some(first) => report.push(
                    Rule::DuplicateMac,
                    interface.path.field("mac"),
                    format!("this MAC address is also used at {first}, on the same link; switches and ARP will mix the two up"),
                ),
                None => {
                    macs.insert(mac, interface.path.field("mac"));
                }
            }
        }
    }
}
