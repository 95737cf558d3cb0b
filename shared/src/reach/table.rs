//! A namespace's routing table as the kernel builds it, the lookup of a destination in it,
//! and the source address the kernel picks for what it sends.
//!
//! The kernel's rules kept here: every up interface's subnets are connected routes (IPv4
//! metric 0, IPv6 metric 256, and fe80::/64 on every up interface); a route is accepted
//! only through an interface that is up and, with a gateway, when the gateway lies in a
//! connected subnet (of the route's device, if it names one); the lookup takes the longest
//! prefix, then the lowest metric, then the route made first.

use std::net::IpAddr;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use crate::address::{is_link_local, Family};

use super::network::{IfaceKind, Network, IPV6_CONNECTED_METRIC};

/// Where a table entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The kernel's own route to an interface's subnet.
    Connected,
    /// `spaces[..].routes[index]`.
    Route(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub destination: IpNet,
    /// The outgoing interface, an index into `Network::interfaces`.
    pub dev: usize,
    pub via: Option<IpAddr>,
    pub metric: u32,
    pub origin: Origin,
}

/// Why the kernel would not hold a route of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its device (named, or the one its gateway is on) is down.
    DeviceDown { dev: usize },
    /// Its gateway is in no subnet the namespace is connected to (through its device).
    GatewayOffSubnet,
    /// Its device does not exist in the namespace.
    UnknownDevice,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub entries: Vec<Entry>,
    /// Routes of the namespace the kernel refuses, by index into its routes.
    pub refused: Vec<(usize, Refusal)>,
    /// The entries by prefix length, longest first, each by its network: a lookup asks one
    /// map per length instead of reading every route (a router with a hundred routes is
    /// asked for every pair of a matrix, at every hop).
    by_length: Vec<(u8, FxHashMap<IpNet, Vec<usize>>)>,
}

impl Table {
    /// A table of these entries, indexed for lookups.
    fn of(entries: Vec<Entry>, refused: Vec<(usize, Refusal)>) -> Table {
        let mut by_length: Vec<(u8, FxHashMap<IpNet, Vec<usize>>)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let length = entry.destination.prefix_len();
            let slot = match by_length.iter().position(|(kept, _)| *kept == length) {
                Some(slot) => slot,
                None => {
                    by_length.push((length, FxHashMap::default()));
                    by_length.len() - 1
                }
            };
            by_length[slot].1.entry(entry.destination.trunc()).or_default().push(index);
        }
        by_length.sort_by_key(|(length, _)| std::cmp::Reverse(*length));
        Table { entries, refused, by_length }
    }
}

/// The table of one family in one namespace.
pub(crate) fn table_of(network: &Network, space: usize, family: Family) -> Table {
    let mut table = Table::default();
    let here = &network.spaces[space];
    for &dev in &here.interfaces {
        let interface = &network.interfaces[dev];
        if !interface.up || matches!(interface.kind, IfaceKind::Port { .. }) {
            continue;
        }
        let metric = if family == Family::V6 { IPV6_CONNECTED_METRIC } else { 0 };
        for net in interface.addresses.iter().filter(|net| Family::of(&net.addr()) == family) {
            let destination = net.trunc();
            let known = table.entries.iter().any(|entry| entry.destination == destination && entry.dev == dev);
            if !known {
                table.entries.push(Entry { destination, dev, via: None, metric, origin: Origin::Connected });
            }
        }
        if family == Family::V6 {
            let link_local: IpNet = "fe80::/64".parse().expect("a constant network");
            table.entries.push(Entry { destination: link_local, dev, via: None, metric, origin: Origin::Connected });
        }
    }
    let connected = table.entries.clone();
    for (index, route) in here.routes.iter().enumerate() {
        if Family::of(&route.destination.addr()) != family {
            continue;
        }
        match accept(network, space, &connected, route.dev.as_deref(), route.via) {
            Ok(dev) => {
                // nslab adds routes with replace: one of the same prefix and metric (the
                // kernel's own route to a subnet included) gives way.
                let same = |entry: &Entry| entry.destination == route.destination && entry.metric == route.metric;
                if let Some(taken) = table.entries.iter().position(same) {
                    table.entries.remove(taken);
                }
                table.entries.push(Entry {
                    destination: route.destination,
                    dev,
                    via: route.via,
                    metric: route.metric,
                    origin: Origin::Route(index),
                });
            }
            Err(refusal) => table.refused.push((index, refusal)),
        }
    }
    Table::of(table.entries, table.refused)
}

/// The device the kernel would put a route on, or why it refuses the route.
fn accept(
    network: &Network,
    space: usize,
    connected: &[Entry],
    dev: Option<&str>,
    via: Option<IpAddr>,
) -> Result<usize, Refusal> {
    let named = match dev {
        Some(name) => Some(device_named(network, space, name).ok_or(Refusal::UnknownDevice)?),
        None => None,
    };
    if let Some(dev) = named {
        if !network.interfaces[dev].up {
            return Err(Refusal::DeviceDown { dev });
        }
    }
    let Some(gateway) = via else {
        return named.ok_or(Refusal::UnknownDevice);
    };
    if is_link_local(&gateway) && gateway.is_ipv6() {
        // fe80:: gateways are on-link on the named device.
        return named.ok_or(Refusal::GatewayOffSubnet);
    }
    let on_link = connected
        .iter()
        .filter(|entry| entry.destination.contains(&gateway) && named.is_none_or(|dev| dev == entry.dev))
        .max_by_key(|entry| entry.destination.prefix_len());
    match on_link {
        Some(entry) => Ok(entry.dev),
        None => match down_device_towards(network, space, gateway) {
            Some(dev) if named.is_none_or(|named| named == dev) => Err(Refusal::DeviceDown { dev }),
            _ => Err(Refusal::GatewayOffSubnet),
        },
    }
}

pub(crate) fn device_named(network: &Network, space: usize, name: &str) -> Option<usize> {
    network.spaces[space].interfaces.iter().copied().find(|&index| network.interfaces[index].name == name)
}

/// An interface of the namespace that is down and whose subnet holds the address: up, it
/// would make the route the address needs.
pub(crate) fn down_device_towards(network: &Network, space: usize, address: IpAddr) -> Option<usize> {
    network.spaces[space].interfaces.iter().copied().find(|&index| {
        let interface = &network.interfaces[index];
        !interface.up
            && !matches!(interface.kind, IfaceKind::Port { .. })
            && interface.addresses.iter().any(|net| net.trunc().contains(&address))
    })
}

/// The route the kernel takes to `destination`: longest prefix, then lowest metric, then
/// the first made (connected routes first).
pub(crate) fn lookup(table: &Table, destination: IpAddr) -> Option<&Entry> {
    for (length, networks) in &table.by_length {
        let Ok(network) = IpNet::new(destination, *length) else { continue };
        let Some(candidates) = networks.get(&network.trunc()) else { continue };
        // The lowest metric; of equal ones, the route made first.
        let best = candidates.iter().map(|&index| &table.entries[index]).min_by_key(|entry| entry.metric);
        if best.is_some() {
            return best;
        }
    }
    None
}

/// The source address the kernel gives a packet to `destination` leaving through `dev`
/// towards `next_hop`. IPv4: the interface's first address whose subnet holds the next
/// hop, else its first address, else the first of the namespace's other interfaces. IPv6:
/// of the interface's addresses that are not link-local, the one sharing the longest
/// prefix with the destination, else the same among the namespace's other interfaces.
pub(crate) fn source_address(
    network: &Network,
    space: usize,
    dev: usize,
    next_hop: IpAddr,
    destination: IpAddr,
) -> Option<IpAddr> {
    let family = Family::of(&destination);
    let usable = move |index: usize| {
        network.interfaces[index]
            .addresses
            .iter()
            .filter(move |net| Family::of(&net.addr()) == family)
            .filter(move |net| family == Family::V4 || is_link_local(&destination) || !is_link_local(&net.addr()))
    };
    let mut others = network.spaces[space].interfaces.iter().copied().filter(|&index| index != dev).flat_map(usable);
    match family {
        Family::V4 => usable(dev)
            .find(|net| net.trunc().contains(&next_hop))
            .or_else(|| usable(dev).next())
            .or_else(|| others.next())
            .map(|net| net.addr()),
        Family::V6 => longest_match(usable(dev), destination).or_else(|| longest_match(others, destination)),
    }
}

fn longest_match<'n>(candidates: impl Iterator<Item = &'n IpNet>, destination: IpAddr) -> Option<IpAddr> {
    let mut best: Option<(u32, IpAddr)> = None;
    for net in candidates {
        let shared = common_prefix(net.addr(), destination);
        if best.is_none_or(|(length, _)| shared > length) {
            best = Some((shared, net.addr()));
        }
    }
    best.map(|(_, address)| address)
}

fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
        _ => 0,
    }
}

/// A table entry as `ip route` prints it: `default via 10.0.1.1 dev eth0`.
pub(crate) fn entry_text(network: &Network, entry: &Entry) -> String {
    let destination =
        if entry.destination.prefix_len() == 0 { "default".to_string() } else { entry.destination.to_string() };
    let via = entry.via.map(|gateway| format!(" via {gateway}")).unwrap_or_default();
    let dev = &network.interfaces[entry.dev].name;
    let kind = if entry.origin == Origin::Connected { " (connected)" } else { "" };
    format!("{destination}{via} dev {dev}{kind}")
}
