//! What a lab cannot say, read so that `scan` can name it as left out rather than lose it
//! silently: routes of other types or tables, policy rules beyond the kernel's own (each as
//! the `ip` command that makes it), permanent neighbour entries, what a route has beyond
//! destination, gateway, device and metric (`src 10.0.0.1`, `mtu 1400`, the next hops of a
//! multipath route), an address's peer, a bridge's spanning tree or VLAN filtering, a
//! bridge port's settings (`hairpin on`, `learning off`),
//! queueing disciplines (`tc qdisc`), and the settings `ip netconf` shows but forwarding
//! (`rp_filter`, `proxy_arp`, ... as the `sysctl` that makes each).

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::{BridgeStpState, InfoBridge, InfoBridgePort};
use rtnetlink::packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState};
use rtnetlink::packet_route::route::{
    RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric, RouteNextHop, RouteType,
};
use rtnetlink::packet_route::rule::{RuleAction, RuleAttribute, RuleFlags, RuleMessage};
use rtnetlink::packet_route::tc::TcHandle;
use rtnetlink::packet_route::AddressFamily;

use super::attributes::{format_mac, route_ip};
use super::reading::{Netconf, Qdisc};

/// The netconf index of `all`, and of `default` (what a new interface takes).
const NETCONF_ALL: i32 = -1;
const NETCONF_DEFAULT: i32 = -2;

/// The routing table of a route message (RTA_TABLE, for ids above 255, else the header's).
pub(super) fn table_of(message: &RouteMessage) -> u32 {
    message
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            RouteAttribute::Table(table) => Some(*table),
            _ => None,
        })
        .unwrap_or(u32::from(message.header.table))
}

/// The `ip route add` command that makes a route a lab cannot hold at all.
pub(super) fn route_command(message: &RouteMessage, names: &HashMap<u32, String>) -> String {
    let header = &message.header;
    let mut words = vec![family_command(header.address_family, "route")];
    if header.kind != RouteType::Unicast {
        words.push(route_type_name(header.kind));
    }
    words.push(prefix(destination(message), header.destination_prefix_length));
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Gateway(gateway) => words.extend(route_ip(gateway).map(|ip| format!("via {ip}"))),
            RouteAttribute::Oif(index) => words.push(format!("dev {}", device(*index, names))),
            RouteAttribute::Priority(metric) if *metric != 0 => words.push(format!("metric {metric}")),
            _ => {}
        }
    }
    let table = table_of(message);
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
        words.push(format!("table {}", table_name(table)));
    }
    words.extend(route_extras(message, names));
    words.join(" ")
}

/// What a route has beyond destination, gateway, device, metric, type and table, in `ip
/// route`'s words. Flags the kernel sets by itself (`linkdown`) are not among them.
pub(super) fn route_extras(message: &RouteMessage, names: &HashMap<u32, String>) -> Vec<String> {
    let header = &message.header;
    let mut words = Vec::new();
    if header.tos != 0 {
        words.push(format!("tos 0x{:02x}", header.tos));
    }
    if header.flags.contains(RouteFlags::Onlink) {
        words.push("onlink".to_string());
    }
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Source(from) => {
                words.extend(route_ip(from).map(|ip| format!("from {}", prefix(Some(ip), header.source_prefix_length))))
            }
            RouteAttribute::PrefSource(source) => words.extend(route_ip(source).map(|ip| format!("src {ip}"))),
            RouteAttribute::Metrics(metrics) => words.extend(metrics.iter().map(metric_words)),
            RouteAttribute::MultiPath(hops) => words.extend(hops.iter().map(|hop| next_hop(hop, names))),
            RouteAttribute::NhId(id) => words.push(format!("nhid {id}")),
            RouteAttribute::Realm(realm) => words.push(format!("realms {}/{}", realm.source, realm.destination)),
            RouteAttribute::Encap(_) | RouteAttribute::Via(_) | RouteAttribute::NewDestination(_) => {
                words.push("encap (an encapsulation)".to_string())
            }
            _ => {}
        }
    }
    words
}

fn next_hop(hop: &RouteNextHop, names: &HashMap<u32, String>) -> String {
    let mut words = vec!["nexthop".to_string()];
    for attribute in &hop.attributes {
        if let RouteAttribute::Gateway(gateway) = attribute {
            words.extend(route_ip(gateway).map(|ip| format!("via {ip}")));
        }
    }
    if hop.interface_index != 0 {
        words.push(format!("dev {}", device(hop.interface_index, names)));
    }
    words.push(format!("weight {}", u16::from(hop.hops) + 1));
    words.join(" ")
}

fn metric_words(metric: &RouteMetric) -> String {
    match metric {
        RouteMetric::Mtu(value) => format!("mtu {value}"),
        RouteMetric::Advmss(value) => format!("advmss {value}"),
        RouteMetric::Window(value) => format!("window {value}"),
        RouteMetric::Rtt(value) => format!("rtt {value}"),
        RouteMetric::RttVar(value) => format!("rttvar {value}"),
        RouteMetric::SsThresh(value) => format!("ssthresh {value}"),
        RouteMetric::Cwnd(value) => format!("cwnd {value}"),
        RouteMetric::Reordering(value) => format!("reordering {value}"),
        RouteMetric::Hoplimit(value) => format!("hoplimit {value}"),
        RouteMetric::InitCwnd(value) => format!("initcwnd {value}"),
        RouteMetric::InitRwnd(value) => format!("initrwnd {value}"),
        RouteMetric::RtoMin(value) => format!("rto_min {value}"),
        RouteMetric::QuickAck(value) => format!("quickack {value}"),
        RouteMetric::FastopenNoCookie(value) => format!("fastopen_no_cookie {value}"),
        RouteMetric::CcAlgo(name) => format!("congctl {name}"),
        RouteMetric::Lock(mask) => format!("lock 0x{mask:x}"),
        RouteMetric::Features(value) => format!("features 0x{value:x}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// A bridge's settings that change how it forwards and that a lab's bridge (always
/// without them) cannot say, in `ip link`'s words.
pub(super) fn bridge_settings(settings: &[InfoBridge]) -> Vec<String> {
    settings
        .iter()
        .filter_map(|setting| match setting {
            InfoBridge::StpState(state) if *state != BridgeStpState::Disabled => {
                Some(format!("stp_state {}", u32::from(*state)))
            }
            InfoBridge::VlanFiltering(true) => Some("vlan_filtering 1".to_string()),
            _ => None,
        })
        .collect()
}

/// A bridge port's settings that are not the kernel's defaults, in the words of `bridge
/// link set` (`hairpin on`, `learning off`, `isolated on`); a lab's port has the defaults.
/// Its path cost is left alone: its default follows the link's speed, and it matters only
/// with spanning tree, which is named on the bridge.
pub(super) fn bridge_port_settings(settings: &[InfoBridgePort]) -> Vec<String> {
    let on = |name: &str, value: bool, default: bool| (value != default).then(|| format!("{name} {}", on_off(value)));
    settings
        .iter()
        .filter_map(|setting| match setting {
            InfoBridgePort::Priority(priority) => (*priority != 32).then(|| format!("priority {priority}")),
            InfoBridgePort::HairpinMode(value) => on("hairpin", *value, false),
            InfoBridgePort::Guard(value) => on("guard", *value, false),
            InfoBridgePort::Protect(value) => on("root_block", *value, false),
            InfoBridgePort::FastLeave(value) => on("fastleave", *value, false),
            InfoBridgePort::Learning(value) => on("learning", *value, true),
            InfoBridgePort::UnicastFlood(value) => on("flood", *value, true),
            InfoBridgePort::ProxyARP(value) => on("proxy_arp", *value, false),
            InfoBridgePort::ProxyARPWifi(value) => on("proxy_arp_wifi", *value, false),
            InfoBridgePort::MulticastFlood(value) => on("mcast_flood", *value, true),
            InfoBridgePort::MulticastToUnicast(value) => on("mcast_to_unicast", *value, false),
            InfoBridgePort::BroadcastFlood(value) => on("bcast_flood", *value, true),
            InfoBridgePort::NeighSupress(value) => on("neigh_suppress", *value, false),
            InfoBridgePort::Isolated(value) => on("isolated", *value, false),
            InfoBridgePort::Locked(value) => on("locked", *value, false),
            _ => None,
        })
        .collect()
}

fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}

/// Per interface index, the addresses with a peer (`ip addr add 10.0.0.1 peer 10.0.0.2/32`),
/// which a lab's address cannot say: it keeps only the local end.
pub(super) fn address_peers(messages: &[AddressMessage]) -> HashMap<u32, Vec<String>> {
    let mut by_index: HashMap<u32, Vec<String>> = HashMap::new();
    for message in messages {
        let (mut local, mut address) = (None, None);
        for attribute in &message.attributes {
            match attribute {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                _ => {}
            }
        }
        if let (Some(local), Some(peer)) = (local, address) {
            if local != peer {
                let peer = prefix(Some(peer), message.header.prefix_len);
                by_index.entry(message.header.index).or_default().push(format!("address {local} peer {peer}"));
            }
        }
    }
    by_index
}

/// Per interface index, its queueing disciplines as `tc qdisc show` names them (`qdisc tbf
/// root`, `qdisc ingress`), but the kernel's own `noqueue`: a lab has no traffic control.
pub(super) fn qdiscs(qdiscs: &[Qdisc]) -> HashMap<u32, Vec<String>> {
    let mut by_index: HashMap<u32, Vec<String>> = HashMap::new();
    for qdisc in qdiscs.iter().filter(|qdisc| qdisc.kind != "noqueue") {
        let place = match qdisc.parent {
            TcHandle::ROOT => " root".to_string(),
            TcHandle::INGRESS => String::new(),
            TcHandle { major, minor } => format!(" parent {major:x}:{minor:x}"),
        };
        by_index.entry(qdisc.index).or_default().push(format!("qdisc {}{place}", qdisc.kind));
    }
    by_index
}

/// The netconf settings a lab cannot say, as the `sysctl` that makes each: of `all` and
/// `default` (for the namespace), those that are not the kernel's (all off); of an
/// interface (per index), those that differ from its namespace's `default`, which it took
/// when it was made, so that a host whose `default.rp_filter` is 2 does not have every
/// interface named. Forwarding is a lab's own at `all`; an interface's is named when it
/// differs.
pub(super) fn settings(netconfs: &[Netconf], names: &HashMap<u32, String>) -> (Vec<String>, HashMap<u32, Vec<String>>) {
    let default_of = |ipv6: bool| {
        let default = netconfs.iter().find(|conf| conf.ipv6 == ipv6 && conf.index == NETCONF_DEFAULT);
        default.copied().unwrap_or_default()
    };
    let defaults = [default_of(false), default_of(true)];
    let mut namespace = Vec::new();
    let mut by_index: HashMap<u32, Vec<String>> = HashMap::new();
    for conf in netconfs {
        match conf.index {
            NETCONF_ALL | NETCONF_DEFAULT => {
                let device = if conf.index == NETCONF_ALL { "all" } else { "default" };
                namespace.extend(differing(conf, &Netconf::default(), device, false));
            }
            index => {
                let Some(name) = u32::try_from(index).ok().and_then(|index| names.get(&index)) else { continue };
                let words = differing(conf, &defaults[usize::from(conf.ipv6)], name, true);
                if !words.is_empty() {
                    by_index.entry(index as u32).or_default().extend(words);
                }
            }
        }
    }
    (namespace, by_index)
}

/// `sysctl net.FAMILY.conf.DEVICE.NAME=VALUE` for each setting of `conf` that is not as in
/// `base` (unset there: off).
fn differing(conf: &Netconf, base: &Netconf, device: &str, with_forwarding: bool) -> Vec<String> {
    let (family, proxy) = if conf.ipv6 { ("ipv6", "proxy_ndp") } else { ("ipv4", "proxy_arp") };
    let settings = [
        ("forwarding", conf.forwarding.filter(|_| with_forwarding), base.forwarding),
        ("rp_filter", conf.rp_filter, base.rp_filter),
        (proxy, conf.proxy_neigh, base.proxy_neigh),
        ("ignore_routes_with_linkdown", conf.ignore_routes_with_linkdown, base.ignore_routes_with_linkdown),
    ];
    settings
        .into_iter()
        .filter_map(|(name, value, base)| Some((name, value?, base.unwrap_or(0))))
        .filter(|(_, value, base)| value != base)
        .map(|(name, value, _)| format!("sysctl net.{family}.conf.{device}.{name}={value}"))
        .collect()
}

/// The `ip neigh add` command that makes a permanent neighbour entry (one made by hand);
/// None for the entries the kernel keeps by itself.
pub(super) fn neighbour_command(entry: &NeighbourMessage, names: &HashMap<u32, String>) -> Option<String> {
    if entry.header.state != NeighbourState::Permanent {
        return None;
    }
    let mut words = vec!["ip neigh add".to_string()];
    for attribute in &entry.attributes {
        match attribute {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => words.push(ip.to_string()),
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip)) => words.push(ip.to_string()),
            NeighbourAttribute::LinkLayerAddress(mac) => words.push(format!("lladdr {}", format_mac(mac))),
            _ => {}
        }
    }
    words.push(format!("dev {} nud permanent", device(entry.header.ifindex, names)));
    Some(words.join(" "))
}

/// The `ip rule add` command that makes a policy rule, or None for the rules every
/// namespace starts with (`0: from all lookup local`, `32766: ... main`, `32767: ...
/// default`).
pub(super) fn rule_command(rule: &RuleMessage) -> Option<String> {
    let header = &rule.header;
    let mut priority = 0;
    let mut table = u32::from(header.table);
    let mut selectors = Vec::new();
    let mut action = Vec::new();
    if header.flags.contains(RuleFlags::Invert) {
        selectors.push("not".to_string());
    }
    for attribute in &rule.attributes {
        match attribute {
            RuleAttribute::Priority(value) => priority = *value,
            RuleAttribute::Table(value) => table = *value,
            RuleAttribute::Source(ip) => selectors.push(format!("from {}", prefix(Some(*ip), header.src_len))),
            RuleAttribute::Destination(ip) => selectors.push(format!("to {}", prefix(Some(*ip), header.dst_len))),
            RuleAttribute::Iifname(name) => selectors.push(format!("iif {name}")),
            RuleAttribute::Oifname(name) => selectors.push(format!("oif {name}")),
            RuleAttribute::FwMark(mark) => selectors.push(format!("fwmark 0x{mark:x}")),
            RuleAttribute::FwMask(mask) => selectors.push(format!("fwmask 0x{mask:x}")),
            RuleAttribute::UidRange(range) => selectors.push(format!("uidrange {}-{}", range.start, range.end)),
            RuleAttribute::IpProtocol(protocol) => selectors.push(format!("ipproto {}", u8::from(*protocol))),
            RuleAttribute::SourcePortRange(range) => selectors.push(format!("sport {}-{}", range.start, range.end)),
            RuleAttribute::DestinationPortRange(range) => {
                selectors.push(format!("dport {}-{}", range.start, range.end))
            }
            RuleAttribute::Goto(target) => action.push(format!("goto {target}")),
            RuleAttribute::SuppressPrefixLen(length) if *length != u32::MAX => {
                action.push(format!("suppress_prefixlength {length}"))
            }
            RuleAttribute::SuppressIfGroup(group) if *group != u32::MAX => {
                action.push(format!("suppress_ifgroup {group}"))
            }
            _ => {}
        }
    }
    if header.tos != 0 {
        selectors.push(format!("tos 0x{:02x}", header.tos));
    }
    let default_rule = selectors.is_empty()
        && action.is_empty()
        && header.action == RuleAction::ToTable
        && matches!((priority, table), (0, 255) | (32766, 254) | (32767, 253));
    if default_rule {
        return None;
    }
    match header.action {
        RuleAction::ToTable => action.insert(0, format!("lookup {}", table_name(table))),
        RuleAction::Goto => {}
        RuleAction::Nop => action.insert(0, "nop".to_string()),
        RuleAction::Blackhole => action.insert(0, "blackhole".to_string()),
        RuleAction::Unreachable => action.insert(0, "unreachable".to_string()),
        RuleAction::Prohibit => action.insert(0, "prohibit".to_string()),
        other => action.insert(0, format!("action {}", u8::from(other))),
    }
    let mut words = vec![family_command(header.family, "rule")];
    words.extend(selectors);
    words.push(format!("priority {priority}"));
    words.extend(action);
    Some(words.join(" "))
}

fn family_command(family: AddressFamily, object: &str) -> String {
    match family {
        AddressFamily::Inet6 => format!("ip -6 {object} add"),
        _ => format!("ip {object} add"),
    }
}

fn destination(message: &RouteMessage) -> Option<IpAddr> {
    message.attributes.iter().find_map(|attribute| match attribute {
        RouteAttribute::Destination(address) => route_ip(address),
        _ => None,
    })
}

/// `ADDRESS/LENGTH`, or `default` for a zero-length prefix (or none at all).
fn prefix(address: Option<IpAddr>, length: u8) -> String {
    match address.and_then(|address| IpNet::new(address, length).ok()) {
        Some(net) if length > 0 => net.to_string(),
        _ => "default".to_string(),
    }
}

fn device(index: u32, names: &HashMap<u32, String>) -> String {
    names.get(&index).cloned().unwrap_or_else(|| format!("if{index}"))
}

fn table_name(table: u32) -> String {
    match table {
        253 => "default".to_string(),
        254 => "main".to_string(),
        255 => "local".to_string(),
        other => other.to_string(),
    }
}

fn route_type_name(kind: RouteType) -> String {
    match kind {
        RouteType::Local => "local".to_string(),
        RouteType::Broadcast => "broadcast".to_string(),
        RouteType::Anycast => "anycast".to_string(),
        RouteType::Multicast => "multicast".to_string(),
        RouteType::BlackHole => "blackhole".to_string(),
        RouteType::Unreachable => "unreachable".to_string(),
        RouteType::Prohibit => "prohibit".to_string(),
        RouteType::Throw => "throw".to_string(),
        RouteType::Nat => "nat".to_string(),
        other => format!("type {}", u8::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use rtnetlink::packet_route::route::{RouteAddress, RouteProtocol};

    use super::*;

    #[test]
    fn a_bridge_ports_settings_are_named_when_not_the_kernels_defaults() {
        let defaults = [
            InfoBridgePort::Priority(32),
            InfoBridgePort::Cost(2),
            InfoBridgePort::HairpinMode(false),
            InfoBridgePort::Learning(true),
            InfoBridgePort::UnicastFlood(true),
            InfoBridgePort::Isolated(false),
        ];
        assert!(bridge_port_settings(&defaults).is_empty());
        let changed = [
            InfoBridgePort::Priority(7),
            InfoBridgePort::Cost(100),
            InfoBridgePort::HairpinMode(true),
            InfoBridgePort::Learning(false),
            InfoBridgePort::Isolated(true),
        ];
        assert_eq!(bridge_port_settings(&changed), ["priority 7", "hairpin on", "learning off", "isolated on"]);
    }

    #[test]
    fn qdiscs_are_named_as_tc_shows_them_but_the_kernels_noqueue() {
        let qdisc = |index, parent, kind: &str| Qdisc { index, parent, kind: kind.to_string(), netem: None };
        let found = qdiscs(&[
            qdisc(2, TcHandle::ROOT, "noqueue"),
            qdisc(3, TcHandle::ROOT, "htb"),
            qdisc(3, TcHandle { major: 1, minor: 0x10 }, "pfifo"),
            qdisc(3, TcHandle::INGRESS, "clsact"),
        ]);
        assert_eq!(
            found,
            HashMap::from([(
                3,
                vec!["qdisc htb root".to_string(), "qdisc pfifo parent 1:10".into(), "qdisc clsact".into()]
            )])
        );
    }

    #[test]
    fn settings_are_named_when_off_the_kernels_or_their_namespaces_default() {
        let conf = |ipv6, index, rp_filter, proxy_neigh| Netconf {
            ipv6,
            index,
            forwarding: Some(1),
            rp_filter,
            proxy_neigh: Some(proxy_neigh),
            ignore_routes_with_linkdown: Some(0),
        };
        let (namespace, by_index) = settings(
            &[
                conf(false, NETCONF_ALL, Some(2), 0),
                conf(false, NETCONF_DEFAULT, Some(1), 0),
                conf(false, 2, Some(1), 1),
                conf(false, 3, Some(0), 0),
                conf(true, NETCONF_DEFAULT, None, 0),
                conf(true, 2, None, 1),
                conf(true, 9, None, 1),
            ],
            &names(),
        );
        assert_eq!(namespace, ["sysctl net.ipv4.conf.all.rp_filter=2", "sysctl net.ipv4.conf.default.rp_filter=1"]);
        let expected = HashMap::from([
            (
                2,
                vec![
                    "sysctl net.ipv4.conf.veth0.proxy_arp=1".to_string(),
                    "sysctl net.ipv6.conf.veth0.proxy_ndp=1".into(),
                ],
            ),
            (3, vec!["sysctl net.ipv4.conf.br0.rp_filter=0".to_string()]),
        ]);
        assert_eq!(by_index, expected, "veth0 took rp_filter 1 from default; index 9 has no name");
    }

    fn names() -> HashMap<u32, String> {
        HashMap::from([(2, "veth0".to_string()), (3, "br0".to_string())])
    }

    fn v4(text: &str) -> RouteAddress {
        RouteAddress::Inet(text.parse::<Ipv4Addr>().unwrap())
    }

    fn route(to: &str, length: u8, attributes: Vec<RouteAttribute>) -> RouteMessage {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.destination_prefix_length = length;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.kind = RouteType::Unicast;
        message.header.protocol = RouteProtocol::Boot;
        message.attributes.push(RouteAttribute::Destination(v4(to)));
        message.attributes.extend(attributes);
        message
    }

    fn rule(priority: u32, table: u32, attributes: Vec<RuleAttribute>) -> RuleMessage {
        let mut message = RuleMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.action = RuleAction::ToTable;
        message.header.table = u8::try_from(table).unwrap_or(0);
        message.attributes.push(RuleAttribute::Table(table));
        if priority != 0 {
            message.attributes.push(RuleAttribute::Priority(priority));
        }
        message.attributes.extend(attributes);
        message
    }

    #[test]
    fn a_route_of_another_type_or_table_reads_as_the_command_that_makes_it() {
        let mut blackhole = route("10.99.0.0", 16, vec![]);
        blackhole.header.kind = RouteType::BlackHole;
        assert_eq!(route_command(&blackhole, &names()), "ip route add blackhole 10.99.0.0/16");
        let mut tabled = route("172.17.0.0", 16, vec![RouteAttribute::Oif(3), RouteAttribute::Table(100)]);
        tabled.header.table = 100;
        assert_eq!(route_command(&tabled, &names()), "ip route add 172.17.0.0/16 dev br0 table 100");
        let mut default = route("0.0.0.0", 0, vec![RouteAttribute::Gateway(v4("10.0.0.1")), RouteAttribute::Oif(9)]);
        default.header.table = 200;
        assert_eq!(route_command(&default, &names()), "ip route add default via 10.0.0.1 dev if9 table 200");
    }

    #[test]
    fn what_a_route_has_beyond_a_lab_route_is_named() {
        let plain = route("10.8.0.0", 16, vec![RouteAttribute::Gateway(v4("10.0.0.2")), RouteAttribute::Oif(2)]);
        assert!(route_extras(&plain, &names()).is_empty());
        let mut hop = RouteNextHop::default();
        hop.interface_index = 2;
        hop.attributes.push(RouteAttribute::Gateway(v4("10.0.0.3")));
        let mut rich = route(
            "10.8.0.0",
            16,
            vec![
                RouteAttribute::PrefSource(v4("10.0.0.1")),
                RouteAttribute::Metrics(vec![RouteMetric::Mtu(1400)]),
                RouteAttribute::MultiPath(vec![hop]),
            ],
        );
        rich.header.flags = RouteFlags::Onlink | RouteFlags::Linkdown;
        assert_eq!(
            route_extras(&rich, &names()),
            ["onlink", "src 10.0.0.1", "mtu 1400", "nexthop via 10.0.0.3 dev veth0 weight 1"]
        );
    }

    #[test]
    fn an_address_with_a_peer_and_a_permanent_neighbour_are_named() {
        let mut plain = AddressMessage::default();
        plain.header.index = 2;
        plain.header.prefix_len = 24;
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        plain.attributes = vec![AddressAttribute::Local(ip("10.0.0.1")), AddressAttribute::Address(ip("10.0.0.1"))];
        let mut peered = plain.clone();
        peered.header.prefix_len = 32;
        peered.attributes = vec![AddressAttribute::Local(ip("10.3.0.1")), AddressAttribute::Address(ip("10.3.0.2"))];
        let peers = address_peers(&[plain, peered]);
        assert_eq!(peers, HashMap::from([(2, vec!["address 10.3.0.1 peer 10.3.0.2/32".to_string()])]));

        let mut entry = NeighbourMessage::default();
        entry.header.ifindex = 2;
        entry.header.state = NeighbourState::Permanent;
        entry.attributes = vec![
            NeighbourAttribute::Destination(NeighbourAddress::Inet("10.0.0.50".parse().unwrap())),
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 0x50]),
        ];
        let command = neighbour_command(&entry, &names());
        assert_eq!(command.as_deref(), Some("ip neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev veth0 nud permanent"));
        entry.header.state = NeighbourState::Reachable;
        assert_eq!(neighbour_command(&entry, &names()), None, "the kernel's own entries are not named");
    }

    #[test]
    fn a_bridge_with_spanning_tree_or_vlan_filtering_says_so() {
        let quiet = [InfoBridge::StpState(BridgeStpState::Disabled), InfoBridge::VlanFiltering(false)];
        assert!(bridge_settings(&quiet).is_empty());
        let busy = [InfoBridge::StpState(BridgeStpState::KernelStp), InfoBridge::VlanFiltering(true)];
        assert_eq!(bridge_settings(&busy), ["stp_state 1", "vlan_filtering 1"]);
    }

    #[test]
    fn the_rules_every_namespace_starts_with_are_not_named_and_others_are() {
        for (priority, table) in [(0, 255), (32766, 254), (32767, 253)] {
            assert_eq!(rule_command(&rule(priority, table, vec![])), None, "{priority}");
        }
        let mut from = rule(100, 100, vec![RuleAttribute::Source("10.0.0.0".parse().unwrap())]);
        from.header.src_len = 24;
        assert_eq!(rule_command(&from).as_deref(), Some("ip rule add from 10.0.0.0/24 priority 100 lookup 100"));
        assert_eq!(rule_command(&rule(32766, 100, vec![])).as_deref(), Some("ip rule add priority 32766 lookup 100"));
        let mut blackhole = rule(5, 0, vec![RuleAttribute::Iifname("veth0".into())]);
        blackhole.header.family = AddressFamily::Inet6;
        blackhole.header.action = RuleAction::Blackhole;
        assert_eq!(rule_command(&blackhole).as_deref(), Some("ip -6 rule add iif veth0 priority 5 blackhole"));
    }
}
