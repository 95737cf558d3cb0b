//! Reading what the kernel holds into `Observed`: links, addresses, routes, loopback,
//! forwarding and ownership marks, in the host namespace and every one under /run/netns.
//!
//! Links and addresses of every namespace are dumped through the host's own socket with a
//! target namespace id (IFLA_IF_NETNSID / IFA_TARGET_NETNSID): the kernel then numbers
//! every veth peer's namespace in the host's table, so peers resolve with one id lookup
//! per namespace instead of one per pair of namespaces. Routes have no such option and
//! are dumped through each namespace's own socket.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

use futures::future::join_all;
use ipnet::IpNet;
use nslab_model::identity::{owner_of_marker, LinkRef, Netns, ROUTE_PROTOCOL};
use nslab_model::observed::{Observed, ObservedLink, ObservedNamespace, ObservedRoute};
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use rtnetlink::packet_route::link::{InfoData, InfoPortData, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State};
use rtnetlink::packet_route::route::{RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteType};

use super::attributes::{format_mac, route_ip};
use super::connection::HostSockets;
use super::error::KernelError;
use super::netns;
use super::nsid::NamespaceIds;
use super::reading::{Extras, HostSocket, Inside, ReadingSocket};
use super::unmodelled;
use super::vouch::Vouched;
use super::Kernel;

/// One namespace's raw dumps, before peers are resolved.
struct Raw {
    netns: Netns,
    links: Vec<LinkMessage>,
    addresses: Vec<AddressMessage>,
    /// What its own socket read (nothing, forwarding off, unless read through it).
    inside: Inside,
    /// Only its loopback was read: it carries a lab's mark (see `observe_marks`), or it
    /// was not read at all (`vouched_for`).
    sealed: bool,
    /// The lab whose record vouches for it, unread (see `vouch.rs`).
    vouched_for: Option<String>,
}

/// What `read_all` read.
struct Read {
    raws: Vec<Raw>,
    ids: NamespaceIds,
    /// The names that hold no namespace but an empty file (see `Observed::strays`).
    strays: BTreeSet<String>,
}

/// Namespaces read for a later `observe_again`.
pub struct Reading {
    raws: Vec<Raw>,
    ids: NamespaceIds,
}

impl Raw {
    fn links(netns: Netns, links: Vec<LinkMessage>, sealed: bool) -> Raw {
        Raw { netns, links, addresses: Vec::new(), inside: Inside::default(), sealed, vouched_for: None }
    }

    fn vouched(netns: Netns, owner: &str) -> Raw {
        Raw { vouched_for: Some(owner.to_string()), ..Raw::links(netns, Vec::new(), true) }
    }
}

impl Kernel {
    /// Everything nslab can see. Index caches are refreshed on the way.
    pub async fn observe(&self) -> Result<Observed, KernelError> {
        self.observe_to(Depth::Full, &Vouched::default()).await
    }

    /// `observe`, and also what `Depth::Scan` adds, for `scan` to name what a lab cannot
    /// say (see `unmodelled.rs`).
    pub async fn observe_for_scan(&self) -> Result<Observed, KernelError> {
        self.observe_to(Depth::Scan, &Vouched::default()).await
    }

    /// What ownership needs (what destroy deletes and waits for): every namespace's
    /// interfaces with their marks, and the host's routes. Inside the other namespaces
    /// addresses, routes and forwarding are left unread (empty, off), which spares a trip
    /// into each of them. A namespace whose loopback carries a lab's mark is read no
    /// further: all of a lab's interfaces are in its own namespaces or the host, so what
    /// is inside a lab's namespace goes with it. A veth peer in there is named the way
    /// `ip link` names a peer it cannot see, `if` and its index (`v0@if2`). One answer per
    /// namespace instead of a dump: destroy's reading of a 300-namespace chain 10 -> 5 ms.
    /// The `vouched` namespaces are not read at all: they are taken as their owner's, with
    /// their ids as recorded (see `vouch.rs`), and nothing of their loopback is known.
    pub async fn observe_marks(&self, vouched: &Vouched) -> Result<Observed, KernelError> {
        self.observe_to(Depth::Marks, vouched).await
    }

    async fn observe_to(&self, depth: Depth, vouched: &Vouched) -> Result<Observed, KernelError> {
        let all = self.present()?;
        let (vouched_here, unread): (Vec<Netns>, Vec<Netns>) =
            all.into_iter().partition(|netns| vouched.ids.contains_key(netns));
        let Read { mut raws, ids: read_ids, strays } = self.read_all(&unread, depth).await?;
        let ids = read_ids
            .merged(NamespaceIds::from_pairs(vouched_here.iter().map(|netns| (netns.clone(), vouched.ids[netns]))));
        raws.extend(vouched_here.into_iter().map(|netns| Raw::vouched(netns, &vouched.owner)));
        let indexes: HashMap<Netns, HashMap<u32, String>> =
            raws.iter().map(|raw| (raw.netns.clone(), names_by_index(raw))).collect();
        self.remember_indexes(&indexes);
        let sealed: HashSet<Netns> = raws.iter().filter(|raw| raw.sealed).map(|raw| raw.netns.clone()).collect();
        let peers = Peers { indexes: &indexes, ids: &ids, sealed: &sealed };
        let mut observed = Observed { strays, ..Observed::default() };
        for raw in &raws {
            observed.namespaces.insert(raw.netns.clone(), build_namespace(raw, &peers));
        }
        *self.ids.lock().expect("not poisoned") = std::sync::Arc::new(ids);
        Ok(observed)
    }

    /// Reads `these` now, for a later `observe_again`.
    pub async fn read_again(&self, these: &[Netns]) -> Result<Reading, KernelError> {
        let Read { raws, ids, .. } = self.read_all(these, Depth::Full).await?;
        Ok(Reading { raws, ids })
    }

    /// `base` (a full observe, recent) with the namespaces of `early` (read since) and of
    /// `these` (read now) taken as they are now: those that are gone are left out, those
    /// that are new are added. Peers in the other namespaces resolve through `base`'s
    /// interface indexes, which is right as long as nothing changed there since: the
    /// caller picks the namespaces to cover every change, and reads each of `early` only
    /// once nothing would change it any more (see `plan::touched`, `plan::Settling`). What a
    /// fresh veth end says of its peer elsewhere is written back into the peer (a veth pair
    /// names each other), so a renamed end needs no re-reading of its peer's namespace.
    pub async fn observe_again(
        &self,
        base: &Observed,
        early: Vec<Reading>,
        these: &[Netns],
    ) -> Result<Observed, KernelError> {
        let all = self.present()?;
        let these: Vec<Netns> = these.iter().filter(|netns| all.contains(netns)).cloned().collect();
        let Read { mut raws, ids: fresh, .. } = self.read_all(&these, Depth::Full).await?;
        let mut pairs: Vec<(Netns, i32)> = fresh.into_pairs().collect();
        for reading in early {
            pairs.extend(reading.ids.into_pairs());
            raws.extend(reading.raws.into_iter().filter(|raw| all.contains(&raw.netns)));
        }
        let ids = self.ids.lock().expect("not poisoned").merged(NamespaceIds::from_pairs(pairs));
        *self.ids.lock().expect("not poisoned") = std::sync::Arc::new(ids.clone());
        let mut indexes: HashMap<Netns, HashMap<u32, String>> =
            base.namespaces.iter().map(|(netns, namespace)| (netns.clone(), names_by_index_of(namespace))).collect();
        indexes.extend(raws.iter().map(|raw| (raw.netns.clone(), names_by_index(raw))));
        let mut observed = base.clone();
        observed.namespaces.retain(|netns, _| all.contains(netns));
        let peers = Peers { indexes: &indexes, ids: &ids, sealed: &HashSet::new() };
        for raw in &raws {
            observed.namespaces.insert(raw.netns.clone(), build_namespace(raw, &peers));
        }
        for raw in &raws {
            point_peers_back(&mut observed, &raw.netns);
        }
        Ok(observed)
    }

    /// The host and the namespaces under /run/netns; connections to any other are dropped.
    /// A set: callers ask it of every namespace they hold (a list made that quadratic).
    fn present(&self) -> Result<HashSet<Netns>, KernelError> {
        let mut all = HashSet::from([Netns::Host]);
        all.extend(netns::list_named()?.into_iter().map(Netns::Named));
        self.connections.forget_all_but(&all);
        Ok(all)
    }

    /// Reads `these` side by side on the namespace workers, with their namespace ids. A
    /// name that holds no namespace is no failure: an empty file is counted among the
    /// strays, a name gone meanwhile is left out.
    async fn read_all(&self, these: &[Netns], depth: Depth) -> Result<Read, KernelError> {
        let known = self.ids.lock().expect("not poisoned").clone();
        // A known id holds while the namespace's file stayed open (see `NamespaceIds`);
        // asked before `dump` opens any file.
        let kept: Vec<Option<i32>> = these.iter().map(|netns| known.kept(netns, &self.connections)).collect();
        let pool = self.connections.host_sockets()?;
        let results =
            join_all(these.iter().zip(kept).map(|(netns, id)| self.dump(netns, id, depth, pool.clone()))).await;
        let mut read =
            Read { raws: Vec::with_capacity(these.len()), ids: NamespaceIds::default(), strays: BTreeSet::new() };
        let mut pairs = Vec::with_capacity(these.len());
        for result in results {
            match result {
                Ok((raw, id)) => {
                    pairs.push((raw.netns.clone(), id));
                    read.raws.push(raw);
                }
                Err(KernelError::NoNamespace { name, stray }) => {
                    if stray {
                        read.strays.insert(name);
                    }
                }
                Err(error) => return Err(error),
            }
        }
        read.ids = NamespaceIds::from_pairs(pairs);
        Ok(read)
    }

    /// Reads one namespace in one job on a namespace worker: its id in the host's table
    /// (`known` when it still holds), its interfaces and addresses through a host socket
    /// with that id as the target, its routes and forwarding through its own socket.
    async fn dump(
        &self,
        netns: &Netns,
        known: Option<i32>,
        depth: Depth,
        pool: HostSockets,
    ) -> Result<(Raw, i32), KernelError> {
        let place = netns.to_string();
        let file = self.connections.file(netns)?;
        let owned = netns.clone();
        let with_host_socket = move |reach: Reach<'_>| {
            let taken = pool.lock().expect("not poisoned").pop();
            let mut host = taken.ok_or_else(|| KernelError::Netlink {
                what: format!("reading {place}"),
                message: "no host socket was free".into(),
            })?;
            let read = read_namespace(&mut host, reach, owned, file.as_raw_fd(), known);
            pool.lock().expect("not poisoned").push(host);
            read.map_err(|error| KernelError::system(format!("reading {place}"), error))
        };
        match depth.through_host_socket(netns) {
            // The host socket reaches the namespace from any thread: no trip into it.
            Some(reach) => netns::run_in(&Netns::Host, move || with_host_socket(reach)).await,
            None => {
                // The host's other tables, rules and neighbours are not a lab's; the
                // settings of a lab's interfaces in it are.
                let scan = depth == Depth::Scan;
                let extras = Extras { wide: scan && *netns != Netns::Host, interface_settings: scan };
                self.connections.read_in(netns, move |own| with_host_socket(Reach::Everything { own, extras })).await
            }
        }
    }
}

/// Makes the peer of every veth end in `netns` name that end (peers in `netns` itself are
/// fresh already).
fn point_peers_back(observed: &mut Observed, netns: &Netns) {
    let Some(namespace) = observed.namespaces.get(netns) else { return };
    let ends: Vec<(LinkRef, LinkRef)> = namespace
        .links
        .iter()
        .filter_map(|(name, link)| Some((LinkRef::new(netns.clone(), name.clone()), link.peer.clone()?)))
        .filter(|(_, peer)| peer.netns != *netns)
        .collect();
    for (end, peer) in ends {
        let found = observed.namespaces.get_mut(&peer.netns).and_then(|other| other.links.get_mut(&peer.name));
        if let Some(link) = found {
            link.peer = Some(end);
        }
    }
}

/// How much of each namespace a reading takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Full,
    /// `Full`, and in the namespaces but the host also every table's routes, the rules and
    /// the neighbours; the queueing disciplines and netconf settings everywhere.
    Scan,
    /// See `observe_marks`: links everywhere, and all of the host.
    Marks,
    /// Links everywhere (for their counters).
    Links,
}

impl Depth {
    /// What of `netns` a host socket alone reads (its interfaces, at `Marks` perhaps only
    /// its loopback); None when its routes and forwarding are read too, through its own
    /// socket.
    fn through_host_socket(self, netns: &Netns) -> Option<Reach<'static>> {
        match self {
            Depth::Full | Depth::Scan => None,
            Depth::Marks if *netns == Netns::Host => None,
            Depth::Marks => Some(Reach::Marks),
            Depth::Links => Some(Reach::Links),
        }
    }
}

/// How far `read_namespace` reads a namespace.
enum Reach<'s> {
    /// Everything; routes and forwarding through the namespace's own socket, with its
    /// `extras` for a scan.
    Everything { own: &'s ReadingSocket, extras: Extras },
    /// Its interfaces.
    Links,
    /// Its loopback alone when that carries a lab's mark, else its interfaces.
    Marks,
}

fn read_namespace(
    host: &mut HostSocket,
    reach: Reach,
    netns: Netns,
    fd: std::os::fd::RawFd,
    known: Option<i32>,
) -> std::io::Result<(Raw, i32)> {
    let id = match known {
        Some(id) => id,
        None => host.id_of(fd)?,
    };
    // The host's own interfaces come without a target (it has an id in its own table
    // only for naming peers there).
    let target = (netns != Netns::Host).then_some(id);
    let raw = match reach {
        Reach::Everything { own, extras } => {
            let interfaces = host.interfaces(target)?;
            let (links, addresses) = (interfaces.links, interfaces.addresses);
            Raw { netns, links, addresses, inside: own.read(extras)?, sealed: false, vouched_for: None }
        }
        Reach::Marks => match target.map(|target| host.loopback(target)).transpose()?.flatten() {
            Some(lo) if carries_mark(&lo) => Raw::links(netns, vec![lo], true),
            _ => Raw::links(netns, host.links(target)?, false),
        },
        Reach::Links => Raw::links(netns, host.links(target)?, false),
    };
    Ok((raw, id))
}

fn carries_mark(link: &LinkMessage) -> bool {
    link.attributes
        .iter()
        .any(|attribute| matches!(attribute, LinkAttribute::IfAlias(alias) if owner_of_marker(alias).is_some()))
}

fn names_by_index(raw: &Raw) -> HashMap<u32, String> {
    raw.links.iter().filter_map(|link| Some((link.header.index, link_name(link)?.to_string()))).collect()
}

/// The interface names by index of an observed namespace (`lo` is always 1).
fn names_by_index_of(namespace: &ObservedNamespace) -> HashMap<u32, String> {
    let mut names: HashMap<u32, String> =
        namespace.links.iter().map(|(name, link)| (link.index, name.clone())).collect();
    names.insert(1, "lo".to_string());
    names
}

pub(super) fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

/// IFLA_LINK: for a veth, its peer's index (in the peer's own namespace).
pub(super) fn peer_index(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|attribute| match attribute {
        LinkAttribute::Link(index) => Some(*index),
        _ => None,
    })
}

fn build_namespace(raw: &Raw, peers: &Peers) -> ObservedNamespace {
    let own_names = &peers.indexes[&raw.netns];
    let mut namespace = ObservedNamespace {
        owner: raw.vouched_for.clone(),
        ipv4_forwarding: raw.inside.forwarding.0,
        ipv6_forwarding: raw.inside.forwarding.1,
        ..Default::default()
    };
    let mut addresses = addresses_by_index(&raw.addresses);
    let mut peers_of_addresses = unmodelled::address_peers(&raw.addresses);
    let mut qdiscs = unmodelled::qdiscs(&raw.inside.qdiscs);
    let (settings, mut settings_of_links) = unmodelled::settings(&raw.inside.netconfs, own_names);
    namespace.unmodelled.extend(settings);
    for message in &raw.links {
        let Some(name) = link_name(message) else { continue };
        let index = message.header.index;
        let mut link = build_link(message, &raw.netns, own_names, peers, addresses.remove(&index));
        link.unmodelled.extend(peers_of_addresses.remove(&index).unwrap_or_default());
        link.unmodelled.extend(qdiscs.remove(&index).unwrap_or_default());
        link.netem = raw.inside.netems.get(&index).cloned();
        link.unmodelled.extend(settings_of_links.remove(&index).unwrap_or_default());
        if name == "lo" {
            namespace.loopback_up = link.up;
            namespace.owner = link.owner;
        } else {
            namespace.links.insert(name.to_string(), link);
        }
    }
    for message in &raw.inside.routes {
        match build_route(message, own_names) {
            Some(BuiltRoute::Modelled(route)) => namespace.routes.push(route),
            Some(BuiltRoute::Unmodelled(command)) => namespace.unmodelled.push(command),
            None => {}
        }
    }
    namespace.unmodelled.extend(raw.inside.rules.iter().filter_map(unmodelled::rule_command));
    namespace
        .unmodelled
        .extend(raw.inside.neighbours.iter().filter_map(|entry| unmodelled::neighbour_command(entry, own_names)));
    namespace
}

/// What names a veth's peer: the interfaces by index of every namespace read, the host's
/// ids of the namespaces, and those read only as far as their mark.
struct Peers<'a> {
    indexes: &'a HashMap<Netns, HashMap<u32, String>>,
    ids: &'a NamespaceIds,
    sealed: &'a HashSet<Netns>,
}

impl Peers<'_> {
    fn name(&self, netns: Netns, index: u32) -> Option<LinkRef> {
        let name = match self.indexes.get(&netns)?.get(&index) {
            Some(name) => name.clone(),
            None if self.sealed.contains(&netns) => format!("if{index}"),
            None => return None,
        };
        Some(LinkRef::new(netns, name))
    }
}

fn build_link(
    message: &LinkMessage,
    netns: &Netns,
    own_names: &HashMap<u32, String>,
    peers: &Peers,
    addresses: Option<Vec<IpNet>>,
) -> ObservedLink {
    let mut link = ObservedLink::new("", message.header.index);
    link.up = message.header.flags.contains(LinkFlags::Up);
    link.oper_up = message.header.flags.contains(LinkFlags::LowerUp);
    link.addresses = addresses.unwrap_or_default();
    let (mut peer_index, mut peer_id) = (None, None);
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
            LinkAttribute::Address(bytes) => link.mac = format_mac(bytes),
            LinkAttribute::IfAlias(alias) => link.owner = owner_of_marker(alias).map(str::to_string),
            LinkAttribute::Controller(index) => link.master = own_names.get(index).cloned(),
            LinkAttribute::Link(index) => peer_index = Some(*index),
            LinkAttribute::LinkNetNsId(id) => peer_id = Some(*id),
            LinkAttribute::OperState(state) => link.oper_up |= *state == State::Up,
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(kind) => link.kind = kind.to_string(),
                        LinkInfo::Data(InfoData::Bridge(settings)) => {
                            link.unmodelled.extend(unmodelled::bridge_settings(settings))
                        }
                        LinkInfo::PortData(InfoPortData::BridgePort(settings)) => {
                            link.unmodelled.extend(unmodelled::bridge_port_settings(settings))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if link.kind == "veth" {
        let peer_netns = match peer_id {
            None => Some(netns.clone()),
            Some(id) => peers.ids.netns_of(id),
        };
        link.peer = peer_netns.zip(peer_index).and_then(|(peer_netns, index)| peers.name(peer_netns, index));
    }
    link
}

/// Addresses per interface, leaving out the IPv6 link-local ones the kernel makes itself.
fn addresses_by_index(messages: &[AddressMessage]) -> HashMap<u32, Vec<IpNet>> {
    let mut by_index: HashMap<u32, Vec<IpNet>> = HashMap::new();
    for message in messages {
        let local = message.attributes.iter().find_map(|a| match a {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        });
        let address = local.or_else(|| {
            message.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            })
        });
        let Some(address) = address else { continue };
        if address.is_ipv6() && message.header.scope == AddressScope::Link {
            continue;
        }
        if let Ok(net) = IpNet::new(address, message.header.prefix_len) {
            by_index.entry(message.header.index).or_default().push(net);
        }
    }
    by_index
}

/// A route the kernel did not make by itself (those it made are None).
enum BuiltRoute {
    /// Of the main table and unicast, as a lab's route is.
    Modelled(ObservedRoute),
    /// Any other, as the `ip` command that makes it: planning leaves it alone.
    Unmodelled(String),
}

fn build_route(message: &RouteMessage, names: &HashMap<u32, String>) -> Option<BuiltRoute> {
    let header: &RouteHeader = &message.header;
    if header.protocol == RouteProtocol::Kernel {
        return None;
    }
    if unmodelled::table_of(message) != u32::from(RouteHeader::RT_TABLE_MAIN) || header.kind != RouteType::Unicast {
        return Some(BuiltRoute::Unmodelled(unmodelled::route_command(message, names)));
    }
    let mut destination: Option<IpAddr> = None;
    let mut route = ObservedRoute {
        destination: IpNet::default(),
        via: None,
        dev: None,
        metric: 0,
        by_nslab: header.protocol == RouteProtocol::Other(ROUTE_PROTOCOL),
        unmodelled: unmodelled::route_extras(message, names),
    };
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Destination(address) => destination = route_ip(address),
            RouteAttribute::Gateway(address) => route.via = route_ip(address),
            RouteAttribute::Oif(index) => route.dev = names.get(index).cloned(),
            RouteAttribute::Priority(metric) => route.metric = *metric,
            _ => {}
        }
    }
    let unspecified = match header.address_family {
        rtnetlink::packet_route::AddressFamily::Inet6 => IpAddr::from(Ipv6Addr::UNSPECIFIED),
        _ => IpAddr::from(Ipv4Addr::UNSPECIFIED),
    };
    route.destination = IpNet::new(destination.unwrap_or(unspecified), header.destination_prefix_length).ok()?;
    Some(BuiltRoute::Modelled(route))
}

/// Traffic counters of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
}

impl Kernel {
    /// Counters of every interface but `lo` in `namespaces` (those that exist), read like
    /// the links of `observe`.
    pub async fn counters(&self, namespaces: &[Netns]) -> Result<Vec<(Netns, String, Counters)>, KernelError> {
        let present: Vec<Netns> = namespaces
            .iter()
            .filter(|netns| netns.name().is_none_or(|name| netns::netns_path(name).exists()))
            .cloned()
            .collect();
        let Read { raws, .. } = self.read_all(&present, Depth::Links).await?;
        let mut all = Vec::new();
        for raw in &raws {
            for link in &raw.links {
                let Some(name) = link_name(link).filter(|name| *name != "lo") else { continue };
                let stats = link.attributes.iter().find_map(|attribute| match attribute {
                    LinkAttribute::Stats64(stats) => Some(Counters {
                        rx_bytes: stats.rx_bytes,
                        tx_bytes: stats.tx_bytes,
                        rx_packets: stats.rx_packets,
                        tx_packets: stats.tx_packets,
                    }),
                    _ => None,
                });
                all.push((raw.netns.clone(), name.to_string(), stats.unwrap_or_default()));
            }
        }
        Ok(all)
    }
}
