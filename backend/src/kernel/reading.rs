//! The reads an observe makes inside a namespace, on a plain netlink socket of that
//! namespace used synchronously from a namespace worker: forwarding (RTM_GETNETCONF, what
//! `ip netconf` shows), the routes, and the queueing disciplines (a root netem is a lab's
//! impairment; `tc qdisc show`). The kernel answers a request inside the send and a
//! dump inside each receive, so nothing here waits; run on the workers, these reads go
//! side by side with the link dumps on the runtime, and a reading of hundreds of
//! namespaces needs no async connection (task, buffers, reactor entry) per namespace.
//! Forwarding is read through netlink rather than /proc/sys: opening
//! /proc/sys/net/ipv4/ip_forward walks a dentry chain with one entry per namespace on the
//! machine, a quarter of an observe with hundreds of namespaces. netlink-packet-route has
//! no netconf messages, so this speaks the few bytes it needs itself; routes are built and
//! parsed with netlink-packet-route. A scan also reads every table, the policy rules, the
//! neighbour entries and every interface's netconf settings, and keeps every queueing
//! discipline, to name them.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::Socket;
use std::os::fd::RawFd;

use nslab_model::netem::Impairment;
use rtnetlink::packet_core::{
    parse_string, NetlinkMessage, NetlinkPayload, NlasIterator, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_MULTIPART, NLM_F_REQUEST as REQUEST,
};
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{LinkAttribute, LinkHeader, LinkMessage};
use rtnetlink::packet_route::neighbour::NeighbourMessage;
use rtnetlink::packet_route::nsid::{NsidAttribute, NsidMessage};
use rtnetlink::packet_route::route::{RouteHeader, RouteMessage};
use rtnetlink::packet_route::rule::RuleMessage;
use rtnetlink::packet_route::tc::{TcHandle, TcHeader, TcMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};

use super::netem;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWNETCONF: u16 = 80;
const RTM_GETNETCONF: u16 = 82;
const NLM_F_REQUEST: u16 = 1;
const NETCONFA_IFINDEX: u16 = 1;
const NETCONFA_FORWARDING: u16 = 2;
const NETCONFA_RP_FILTER: u16 = 3;
const NETCONFA_PROXY_NEIGH: u16 = 5;
const NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN: u16 = 6;
/// The ifindex that stands for `all` (net.ipv4.conf.all, net.ipv6.conf.all).
const NETCONFA_IFINDEX_ALL: i32 = -1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const HEADER: usize = 16;
/// struct ifinfomsg, before a link's attributes.
const LINK_HEADER: usize = 16;
const RTM_NEWQDISC: u16 = 36;
/// struct tcmsg, before a queueing discipline's attributes.
const TC_HEADER: usize = 20;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
/// Dumps come in datagrams of at most a page or so; this holds any of them.
const RECEIVE_BUFFER: usize = 64 * 1024;

/// A netlink socket of one namespace (made while the thread is in it). One request at a
/// time: two observes at once (the live refresh and a plan) would otherwise read each
/// other's answers.
pub struct ReadingSocket {
    socket: Mutex<Socket>,
}

impl ReadingSocket {
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.set_netlink_get_strict_chk(true)?;
        Ok(ReadingSocket { socket: Mutex::new(socket) })
    }

    /// Forwarding of the namespace and the routes of its main table, and the `extras` (for
    /// a scan, which names what a lab cannot say).
    pub fn read(&self, extras: Extras) -> io::Result<Inside> {
        let socket = self.socket.lock().expect("not poisoned");
        let mut buffer = Vec::with_capacity(RECEIVE_BUFFER);
        let forwarding = (forwarding(&socket, AF_INET, &mut buffer)?, forwarding(&socket, AF_INET6, &mut buffer)?);
        let table = if extras.wide { RouteHeader::RT_TABLE_UNSPEC } else { RouteHeader::RT_TABLE_MAIN };
        let routes = routes(&socket, &mut buffer, table)?;
        let (rules, neighbours) = match extras.wide {
            true => (rules(&socket, &mut buffer)?, neighbours(&socket, &mut buffer)?),
            false => (Vec::new(), Vec::new()),
        };
        // Always: a root netem qdisc is a lab's impairment.
        let mut qdiscs = qdiscs(&socket, &mut buffer)?;
        let netems = root_netems(&qdiscs);
        let netconfs = match extras.interface_settings {
            true => netconfs(&socket, &mut buffer)?,
            false => {
                qdiscs.clear();
                Vec::new()
            }
        };
        Ok(Inside { forwarding, routes, rules, neighbours, qdiscs, netems, netconfs })
    }

    /// Sends `request` with `flags` and gathers the answers, each parsed whole.
    pub fn exchange(&self, request: RouteNetlinkMessage, flags: u16) -> io::Result<Vec<RouteNetlinkMessage>> {
        let socket = self.socket.lock().expect("not poisoned");
        let mut buffer = Vec::with_capacity(RECEIVE_BUFFER);
        exchange(&socket, &mut buffer, request, flags, whole)
    }
}

fn forwarding(socket: &Socket, family: u8, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let sequence = next_sequence();
    let answers = exchange_bytes(socket, buffer, &request(family, sequence, false), sequence, forwarding_in)?;
    answers
        .first()
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the kernel sent no forwarding setting"))
}

/// A sequence number for a request. Answers carry it, so answers left over from an earlier
/// request that failed halfway (the socket is reused) are told apart and skipped.
fn next_sequence() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// What a namespace's own socket reads beyond forwarding and the main table's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// Every table's routes, the policy rules and the neighbour entries.
    pub wide: bool,
    /// The queueing disciplines and the netconf settings of every interface.
    pub interface_settings: bool,
}

/// What a namespace's own socket reads of it.
#[derive(Default)]
pub struct Inside {
    /// (IPv4, IPv6) forwarding.
    pub forwarding: (bool, bool),
    pub routes: Vec<RouteMessage>,
    pub rules: Vec<RuleMessage>,
    pub neighbours: Vec<NeighbourMessage>,
    /// Every queueing discipline, for a scan only.
    pub qdiscs: Vec<Qdisc>,
    /// The impairment of each interface (by index) whose root qdisc is netem.
    pub netems: HashMap<u32, Impairment>,
    pub netconfs: Vec<Netconf>,
}

/// What `ip netconf` shows of one interface, or of `all` (index -1) or `default` (-2), in
/// one family: the settings a lab cannot say but forwarding, which it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Netconf {
    pub ipv6: bool,
    pub index: i32,
    pub forwarding: Option<u32>,
    pub rp_filter: Option<u32>,
    /// `proxy_arp` (IPv4), `proxy_ndp` (IPv6).
    pub proxy_neigh: Option<u32>,
    pub ignore_routes_with_linkdown: Option<u32>,
}

/// A queueing discipline (`tc qdisc`): the interface it is on, where it hangs, its kind,
/// and for netem its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qdisc {
    pub index: u32,
    pub parent: TcHandle,
    pub kind: String,
    pub netem: Option<Impairment>,
}

/// The impairments of the interfaces whose root qdisc is netem.
fn root_netems(qdiscs: &[Qdisc]) -> HashMap<u32, Impairment> {
    let roots = qdiscs.iter().filter(|qdisc| qdisc.parent == TcHandle::ROOT);
    roots.filter_map(|qdisc| Some((qdisc.index, qdisc.netem.clone()?))).collect()
}

/// The IPv4 and IPv6 routes of `table`, the main one unless a scan asks for all
/// (RT_TABLE_UNSPEC): the socket is strict (NETLINK_GET_STRICT_CHK), so the kernel dumps
/// that table alone, not the local one with its loopback, broadcast and multicast routes
/// (8 of a star namespace's 11 routes; `nslab plan` of a 300-namespace star 29.5 -> 27.6
/// ms). One dump per family: a dump of all families goes through a handler that holds the
/// kernel's RTNL lock, while each family's own runs without it, so namespaces read side by
/// side do not wait on each other.
fn routes(socket: &Socket, buffer: &mut Vec<u8>, table: u8) -> io::Result<Vec<RouteMessage>> {
    let request = |family| {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        request.header.table = table;
        RouteNetlinkMessage::GetRoute(request)
    };
    dump_each_family(socket, buffer, request, |answer| match answer {
        RouteNetlinkMessage::NewRoute(route) => Some(route),
        _ => None,
    })
}

/// The IPv4 and IPv6 policy rules (`ip rule`), the kernel's defaults among them.
fn rules(socket: &Socket, buffer: &mut Vec<u8>) -> io::Result<Vec<RuleMessage>> {
    let request = |family| {
        let mut request = RuleMessage::default();
        request.header.family = family;
        RouteNetlinkMessage::GetRule(request)
    };
    dump_each_family(socket, buffer, request, |answer| match answer {
        RouteNetlinkMessage::NewRule(rule) => Some(rule),
        _ => None,
    })
}

/// The IPv4 and IPv6 neighbour entries (`ip neigh`).
fn neighbours(socket: &Socket, buffer: &mut Vec<u8>) -> io::Result<Vec<NeighbourMessage>> {
    let request = |family| {
        let mut request = NeighbourMessage::default();
        request.header.family = family;
        RouteNetlinkMessage::GetNeighbour(request)
    };
    dump_each_family(socket, buffer, request, |answer| match answer {
        RouteNetlinkMessage::NewNeighbour(neighbour) => Some(neighbour),
        _ => None,
    })
}

/// The queueing disciplines of every interface (`tc qdisc show`), the kernel's `noqueue`
/// among them.
fn qdiscs(socket: &Socket, buffer: &mut Vec<u8>) -> io::Result<Vec<Qdisc>> {
    let request = RouteNetlinkMessage::GetQueueDiscipline(TcMessage::default());
    exchange(socket, buffer, request, NLM_F_DUMP, queueing_discipline)
}

/// A queueing discipline's answer with its header and kind parsed, and a netem's options:
/// the options and statistics of other kinds differ by kind, and nothing reads them.
fn queueing_discipline(message: &[u8]) -> io::Result<Option<Qdisc>> {
    if u16::from_ne_bytes([message[4], message[5]]) != RTM_NEWQDISC {
        return Ok(None);
    }
    let payload = &message[HEADER..];
    let header = TcHeader::parse(payload).map_err(invalid)?;
    let (mut kind, mut options) = (None, None);
    for attribute in NlasIterator::new(payload.get(TC_HEADER..).unwrap_or_default()) {
        let attribute = attribute.map_err(invalid)?;
        match attribute.kind() {
            TCA_KIND => kind = Some(parse_string(attribute.value()).map_err(invalid)?),
            TCA_OPTIONS => options = Some(attribute.value().to_vec()),
            _ => {}
        }
    }
    let Some(kind) = kind else { return Ok(None) };
    let netem = match kind == netem::KIND {
        true => Some(
            options
                .as_deref()
                .and_then(netem::parse_options)
                .ok_or_else(|| invalid("netem options that do not read"))?,
        ),
        false => None,
    };
    Ok(Some(Qdisc { index: header.index as u32, parent: header.parent, kind, netem }))
}

/// The netconf settings of every interface, `all` and `default`, of both families.
fn netconfs(socket: &Socket, buffer: &mut Vec<u8>) -> io::Result<Vec<Netconf>> {
    let mut found = Vec::new();
    for family in [AF_INET, AF_INET6] {
        let sequence = next_sequence();
        found.extend(exchange_bytes(socket, buffer, &request(family, sequence, true), sequence, netconf_in)?);
    }
    Ok(found)
}

/// The dump `request` makes of each family in turn, the answers `pick` keeps.
fn dump_each_family<T>(
    socket: &Socket,
    buffer: &mut Vec<u8>,
    request: impl Fn(AddressFamily) -> RouteNetlinkMessage,
    pick: impl Fn(RouteNetlinkMessage) -> Option<T>,
) -> io::Result<Vec<T>> {
    let mut all = Vec::new();
    for family in FAMILIES {
        let answers = exchange(socket, buffer, request(family), NLM_F_DUMP, whole)?;
        all.extend(answers.into_iter().filter_map(&pick));
    }
    Ok(all)
}

const FAMILIES: [AddressFamily; 2] = [AddressFamily::Inet, AddressFamily::Inet6];

/// A strict socket of the host namespace (NETLINK_GET_STRICT_CHK: only such a socket
/// honours a target namespace in address dumps) through which the interfaces and
/// addresses of every namespace are dumped with a target namespace id, used
/// synchronously from a namespace worker like a reading socket.
pub struct HostSocket {
    socket: Socket,
    buffer: Vec<u8>,
}

/// What a host socket dumps of one namespace.
pub struct Interfaces {
    pub links: Vec<LinkMessage>,
    pub addresses: Vec<AddressMessage>,
}

impl HostSocket {
    /// Opens it in the calling thread's namespace, which must be the host's.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.set_netlink_get_strict_chk(true)?;
        Ok(HostSocket { socket, buffer: Vec::with_capacity(RECEIVE_BUFFER) })
    }

    /// The host's id of the namespace open as `fd` (`ip netns list` shows it as `id: N`),
    /// giving it one if it has none yet.
    pub fn id_of(&mut self, fd: RawFd) -> io::Result<i32> {
        if let Some(id) = self.request_id(fd)? {
            return Ok(id);
        }
        let numbering = nsid_message(vec![NsidAttribute::Fd(fd as u32), NsidAttribute::Id(-1)]);
        match exchange(&self.socket, &mut self.buffer, RouteNetlinkMessage::NewNsId(numbering), NLM_F_ACK, whole) {
            // EEXIST: another process numbered it meanwhile, which is as good.
            Err(error) if error.raw_os_error() != Some(libc::EEXIST) => return Err(error),
            _ => {}
        }
        self.request_id(fd)?.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the kernel gave it no id"))
    }

    fn request_id(&mut self, fd: RawFd) -> io::Result<Option<i32>> {
        let asking = nsid_message(vec![NsidAttribute::Fd(fd as u32)]);
        let answers = exchange(&self.socket, &mut self.buffer, RouteNetlinkMessage::GetNsId(asking), 0, whole)?;
        Ok(answers.iter().find_map(|answer| match answer {
            RouteNetlinkMessage::NewNsId(message) => message.attributes.iter().find_map(|attribute| match attribute {
                NsidAttribute::Id(id) if *id >= 0 => Some(*id),
                _ => None,
            }),
            _ => None,
        }))
    }

    /// The interfaces of the namespace with id `target` (None: the host). No
    /// IFLA_EXT_MASK (RTEXT_FILTER_SKIP_STATS would spare filling in statistics): with one
    /// the kernel first sizes every interface of the asking socket's namespace, the host's,
    /// so reading N namespaces would cost N times the host's interfaces.
    pub fn links(&mut self, target: Option<i32>) -> io::Result<Vec<LinkMessage>> {
        let mut links = LinkMessage::default();
        links.attributes.extend(target.map(LinkAttribute::IfNetnsId));
        exchange(&self.socket, &mut self.buffer, RouteNetlinkMessage::GetLink(links), NLM_F_DUMP, interface)
    }

    /// The loopback interface (index 1 in every namespace) of the namespace with id
    /// `target`: one interface's answer, where a dump sends them all and its end.
    pub fn loopback(&mut self, target: i32) -> io::Result<Option<LinkMessage>> {
        let mut lo = LinkMessage::default();
        lo.header.index = LOOPBACK_INDEX;
        lo.attributes.push(LinkAttribute::IfNetnsId(target));
        Ok(exchange(&self.socket, &mut self.buffer, RouteNetlinkMessage::GetLink(lo), 0, interface)?.pop())
    }

    /// The interfaces and addresses of the namespace with id `target` (None: the host).
    pub fn interfaces(&mut self, target: Option<i32>) -> io::Result<Interfaces> {
        let links = self.links(target)?;
        // Per family, like the routes (see `routes`).
        let mut addresses = Vec::new();
        for family in FAMILIES {
            let mut request = AddressMessage::default();
            request.header.family = family;
            request.attributes.extend(target.map(AddressAttribute::TargetNetNsId));
            addresses.extend(exchange(
                &self.socket,
                &mut self.buffer,
                RouteNetlinkMessage::GetAddress(request),
                NLM_F_DUMP,
                whole,
            )?);
        }
        Ok(Interfaces {
            links,
            addresses: addresses
                .into_iter()
                .filter_map(|answer| match answer {
                    RouteNetlinkMessage::NewAddress(address) => Some(address),
                    _ => None,
                })
                .collect(),
        })
    }
}

fn nsid_message(attributes: Vec<NsidAttribute>) -> NsidMessage {
    let mut message = NsidMessage::default();
    message.attributes = attributes;
    message
}

/// Sends one request and gathers the answers (see `exchange_bytes`).
fn exchange<T>(
    socket: &Socket,
    buffer: &mut Vec<u8>,
    request: RouteNetlinkMessage,
    flags: u16,
    parse: impl Fn(&[u8]) -> io::Result<Option<T>>,
) -> io::Result<Vec<T>> {
    let sequence = next_sequence();
    let mut request = NetlinkMessage::from(request);
    request.header.flags = REQUEST | flags;
    request.header.sequence_number = sequence;
    exchange_bytes(socket, buffer, &serialized(request), sequence, parse)
}

fn serialized(mut message: NetlinkMessage<RouteNetlinkMessage>) -> Vec<u8> {
    message.finalize();
    let mut bytes = vec![0; message.header.length as usize];
    message.serialize(&mut bytes);
    bytes
}

/// Sends `request` (numbered `sequence`) and gathers the answers: every message of a dump
/// (until NLMSG_DONE), else the single answer or acknowledgement, each made by `parse`
/// from its bytes (None: not wanted). A kernel error comes back as its errno.
fn exchange_bytes<T>(
    socket: &Socket,
    buffer: &mut Vec<u8>,
    request: &[u8],
    sequence: u32,
    parse: impl Fn(&[u8]) -> io::Result<Option<T>>,
) -> io::Result<Vec<T>> {
    socket.send(request, 0)?;
    let mut answers = Vec::new();
    loop {
        // Into the buffer's spare capacity: never zeroed, and only the pages a datagram
        // fills are ever touched (a fresh 64 KB buffer zeroed was 16 page faults a read).
        buffer.clear();
        socket.recv(buffer, 0)?;
        if take_answers(buffer, sequence, &parse, &mut answers)? {
            return Ok(answers);
        }
    }
}

/// Adds the answers to request `sequence` in one received datagram to `answers`; true
/// when they are complete. Answers to an earlier request that failed halfway (the socket
/// is reused) are skipped.
fn take_answers<T>(
    datagram: &[u8],
    sequence: u32,
    parse: impl Fn(&[u8]) -> io::Result<Option<T>>,
    answers: &mut Vec<T>,
) -> io::Result<bool> {
    let mut offset = 0;
    let mut more = false;
    while offset + HEADER <= datagram.len() {
        let size = u32_at(datagram, offset) as usize;
        if size < HEADER || offset + size > datagram.len() {
            return Err(invalid("a truncated netlink message"));
        }
        let message = &datagram[offset..offset + size];
        offset += align(size);
        if u32_at(message, 8) != sequence {
            more = true;
            continue;
        }
        more |= u16::from_ne_bytes([message[6], message[7]]) & NLM_F_MULTIPART != 0;
        match u16::from_ne_bytes([message[4], message[5]]) {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = message
                    .get(HEADER..HEADER + 4)
                    .map_or(0, |code| i32::from_ne_bytes(code.try_into().expect("4 bytes")));
                return match code {
                    0 => Ok(true),
                    code => Err(io::Error::from_raw_os_error(-code)),
                };
            }
            _ => answers.extend(parse(message)?),
        }
    }
    Ok(!more)
}

/// An answer parsed whole by netlink-packet-route.
fn whole(message: &[u8]) -> io::Result<Option<RouteNetlinkMessage>> {
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(message).map_err(invalid)?;
    Ok(match message.payload {
        NetlinkPayload::InnerMessage(answer) => Some(answer),
        _ => None,
    })
}

/// The attributes of an interface that a reading uses (see `observe::build_link`, and the
/// counters). A link's answer carries some fifty more (statistics of every kind, the IPv6
/// settings); parsing them all was most of a reading's time and memory outside the
/// kernel: 12 MB of attribute vectors for a 300-namespace lab.
const LINK_ATTRIBUTES: [u16; 10] = [
    1,  // IFLA_ADDRESS
    3,  // IFLA_IFNAME
    4,  // IFLA_MTU
    5,  // IFLA_LINK
    10, // IFLA_MASTER
    16, // IFLA_OPERSTATE
    18, // IFLA_LINKINFO
    20, // IFLA_IFALIAS
    23, // IFLA_STATS64
    37, // IFLA_LINK_NETNSID
];
const RTM_NEWLINK: u16 = 16;
/// The kernel registers each namespace's loopback first, as index 1.
const LOOPBACK_INDEX: u32 = 1;

/// An interface's answer with only `LINK_ATTRIBUTES` parsed.
fn interface(message: &[u8]) -> io::Result<Option<LinkMessage>> {
    if u16::from_ne_bytes([message[4], message[5]]) != RTM_NEWLINK {
        return Ok(None);
    }
    let payload = &message[HEADER..];
    let header = LinkHeader::parse(payload).map_err(invalid)?;
    let mut link = LinkMessage::default();
    for attribute in NlasIterator::new(payload.get(LINK_HEADER..).unwrap_or_default()) {
        let attribute = attribute.map_err(invalid)?;
        if LINK_ATTRIBUTES.contains(&attribute.kind()) {
            link.attributes
                .push(LinkAttribute::parse_with_param(&attribute, header.interface_family).map_err(invalid)?);
        }
    }
    link.header = header;
    Ok(Some(link))
}

fn invalid(error: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error.to_string())
}

/// RTM_GETNETCONF of one family: header and netconfmsg (padded), then for `all` alone
/// NETCONFA_IFINDEX, while a dump of every interface (`dump`) carries no attributes, as a
/// strict socket's dump request must.
fn request(family: u8, sequence: u32, dump: bool) -> Vec<u8> {
    let length: u32 = (HEADER + 4 + if dump { 0 } else { 8 }) as u32;
    let flags = if dump { NLM_F_REQUEST | NLM_F_DUMP } else { NLM_F_REQUEST };
    let mut message = Vec::with_capacity(length as usize);
    message.extend_from_slice(&length.to_ne_bytes());
    message.extend_from_slice(&RTM_GETNETCONF.to_ne_bytes());
    message.extend_from_slice(&flags.to_ne_bytes());
    message.extend_from_slice(&sequence.to_ne_bytes());
    message.extend_from_slice(&0u32.to_ne_bytes());
    message.extend_from_slice(&[family, 0, 0, 0]);
    if !dump {
        message.extend_from_slice(&8u16.to_ne_bytes());
        message.extend_from_slice(&NETCONFA_IFINDEX.to_ne_bytes());
        message.extend_from_slice(&NETCONFA_IFINDEX_ALL.to_ne_bytes());
    }
    message
}

/// The settings an RTM_NEWNETCONF answer carries.
fn netconf_in(message: &[u8]) -> io::Result<Option<Netconf>> {
    if u16::from_ne_bytes([message[4], message[5]]) != RTM_NEWNETCONF {
        return Ok(None);
    }
    let mut found = Netconf { ipv6: message.get(HEADER) == Some(&AF_INET6), ..Netconf::default() };
    for attribute in NlasIterator::new(message.get(HEADER + 4..).unwrap_or_default()) {
        let attribute = attribute.map_err(invalid)?;
        let Some(value) = attribute.value().get(..4).map(|bytes| u32_at(bytes, 0)) else { continue };
        match attribute.kind() {
            NETCONFA_IFINDEX => found.index = value as i32,
            NETCONFA_FORWARDING => found.forwarding = Some(value),
            NETCONFA_RP_FILTER => found.rp_filter = Some(value),
            NETCONFA_PROXY_NEIGH => found.proxy_neigh = Some(value),
            NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN => found.ignore_routes_with_linkdown = Some(value),
            _ => {}
        }
    }
    Ok(Some(found))
}

/// The forwarding setting an RTM_NEWNETCONF answer carries.
fn forwarding_in(message: &[u8]) -> io::Result<Option<bool>> {
    Ok(netconf_in(message)?.and_then(|conf| conf.forwarding).map(|on| on != 0))
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_forwarding_in_an_answer() {
        // RTM_NEWNETCONF: header, netconfmsg, IFINDEX = -1, FORWARDING = 1.
        let mut answer = Vec::new();
        answer.extend_from_slice(&36u32.to_ne_bytes());
        answer.extend_from_slice(&RTM_NEWNETCONF.to_ne_bytes());
        answer.extend_from_slice(&[0; 10]);
        answer.extend_from_slice(&[AF_INET, 0, 0, 0]);
        answer.extend_from_slice(&8u16.to_ne_bytes());
        answer.extend_from_slice(&NETCONFA_IFINDEX.to_ne_bytes());
        answer.extend_from_slice(&(-1i32).to_ne_bytes());
        answer.extend_from_slice(&8u16.to_ne_bytes());
        answer.extend_from_slice(&NETCONFA_FORWARDING.to_ne_bytes());
        answer.extend_from_slice(&1u32.to_ne_bytes());
        // The answer carries sequence number 0 (the zeros after the type): ours when we
        // asked with 0, an earlier request's (skipped, more to come) otherwise.
        let mut found = Vec::new();
        assert!(take_answers(&answer, 0, forwarding_in, &mut found).unwrap());
        assert_eq!(found, [true]);
        let mut found = Vec::new();
        assert!(!take_answers(&answer, 7, forwarding_in, &mut found).unwrap());
        assert!(found.is_empty());
        assert_eq!(request(AF_INET6, 7, false).len(), 28);
        let mut found = Vec::new();
        assert!(take_answers(&answer, 0, netconf_in, &mut found).unwrap());
        assert_eq!(found, [Netconf { index: -1, forwarding: Some(1), ..Netconf::default() }]);
        assert_eq!(request(AF_INET, 7, true).len(), 20);
    }

    #[test]
    fn an_interface_keeps_only_what_a_reading_uses() {
        use rtnetlink::packet_route::link::{LinkFlags, Stats64};
        let mut stats = Stats64::default();
        stats.rx_packets = 3;
        let mut link = LinkMessage::default();
        link.header.index = 7;
        link.header.flags = LinkFlags::Up;
        link.attributes = vec![
            LinkAttribute::IfName("eth0".into()),
            LinkAttribute::TxQueueLen(1000),
            LinkAttribute::Mtu(1400),
            LinkAttribute::IfAlias("nslab:lab".into()),
            LinkAttribute::Stats64(stats),
            LinkAttribute::Promiscuity(0),
        ];
        let bytes = serialized(NetlinkMessage::from(RouteNetlinkMessage::NewLink(link)));
        let parsed = interface(&bytes).unwrap().expect("a link");
        assert_eq!(parsed.header.index, 7);
        assert_eq!(parsed.header.flags, LinkFlags::Up);
        assert_eq!(
            parsed.attributes,
            vec![
                LinkAttribute::IfName("eth0".into()),
                LinkAttribute::Mtu(1400),
                LinkAttribute::IfAlias("nslab:lab".into()),
                LinkAttribute::Stats64(stats),
            ]
        );
        // Anything else (here an address) is not an interface.
        let other = serialized(NetlinkMessage::from(RouteNetlinkMessage::NewAddress(AddressMessage::default())));
        assert!(interface(&other).unwrap().is_none());
    }

    #[test]
    fn an_error_answer_is_an_error() {
        let mut answer = Vec::new();
        answer.extend_from_slice(&36u32.to_ne_bytes());
        answer.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        answer.extend_from_slice(&[0; 10]);
        answer.extend_from_slice(&(-22i32).to_ne_bytes());
        answer.extend_from_slice(&[0; 16]);
        let error = take_answers(&answer, 0, forwarding_in, &mut Vec::new()).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(22));
    }
}
