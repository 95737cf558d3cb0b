//! Kernel operations: the steps that build or change a lab. Each one serialises (the UI
//! shows the plan before apply) and renders as the iproute2 command a student would type.

use std::fmt::Write;

use serde::{Deserialize, Deserializer, Serialize};

use crate::address::Family;
use crate::identity::{owner_marker, LinkRef, Netns};
use crate::lab::Route;
use crate::netem::Impairment;
use crate::serde_tagged::{self, Tagged};
use crate::shell::sh_word;

// Read by `serde_tagged` (see `OpKind`), written by the derive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateNamespace {
        name: String,
    },
    DeleteNamespace {
        name: String,
    },
    SetLoopback {
        netns: Netns,
        up: bool,
    },
    SetForwarding {
        netns: Netns,
        family: Family,
        enabled: bool,
    },
    CreateBridge {
        link: LinkRef,
    },
    /// Both ends are created in their namespaces by one request.
    CreateVeth {
        a: LinkRef,
        b: LinkRef,
    },
    /// Deleting one end of a veth deletes its peer too.
    DeleteLink {
        link: LinkRef,
    },
    SetMaster {
        link: LinkRef,
        master: String,
    },
    SetMtu {
        link: LinkRef,
        mtu: u32,
    },
    SetMac {
        link: LinkRef,
        mac: String,
    },
    AddAddress {
        link: LinkRef,
        address: String,
    },
    SetUp {
        link: LinkRef,
        up: bool,
    },
    AddRoute {
        netns: Netns,
        family: Family,
        route: Route,
    },
    DeleteAddress {
        link: LinkRef,
        address: String,
    },
    DeleteRoute {
        netns: Netns,
        family: Family,
        route: Route,
    },
    /// The kernel renames only interfaces that are down; the plan takes it down first.
    RenameLink {
        link: LinkRef,
        new_name: String,
    },
    SetNoMaster {
        link: LinkRef,
    },
    /// Takes over a namespace built by hand (`--adopt`): marks its `lo` as the lab's.
    AdoptNamespace {
        name: String,
        lab: String,
    },
    /// Takes over an interface built by hand (`--adopt`).
    AdoptLink {
        link: LinkRef,
        lab: String,
    },
    /// Makes the interface's root qdisc `netem` with these settings (`tc qdisc replace`):
    /// adds one, or changes the one there.
    SetNetem {
        link: LinkRef,
        netem: Impairment,
    },
    /// Removes the interface's root qdisc; the kernel puts its default one back.
    ClearNetem {
        link: LinkRef,
    },
}

/// The `op`s of `Op`, in the order of its variants.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", variant_identifier)]
pub enum OpKind {
    CreateNamespace,
    DeleteNamespace,
    SetLoopback,
    SetForwarding,
    CreateBridge,
    CreateVeth,
    DeleteLink,
    SetMaster,
    SetMtu,
    SetMac,
    AddAddress,
    SetUp,
    AddRoute,
    DeleteAddress,
    DeleteRoute,
    RenameLink,
    SetNoMaster,
    AdoptNamespace,
    AdoptLink,
    SetNetem,
    ClearNetem,
}

impl Tagged for Op {
    const NAME: &'static str = "Op";
    const TAG: &'static str = "op";
    type Kind = OpKind;

    fn read_variant<'de, D: Deserializer<'de>>(kind: OpKind, fields: D) -> Result<Op, D::Error> {
        use op_fields::*;
        Ok(match kind {
            OpKind::CreateNamespace => Op::CreateNamespace { name: Name::deserialize(fields)?.name },
            OpKind::DeleteNamespace => Op::DeleteNamespace { name: Name::deserialize(fields)?.name },
            OpKind::SetLoopback => {
                let NetnsUp { netns, up } = NetnsUp::deserialize(fields)?;
                Op::SetLoopback { netns, up }
            }
            OpKind::SetForwarding => {
                let Forwarding { netns, family, enabled } = Forwarding::deserialize(fields)?;
                Op::SetForwarding { netns, family, enabled }
            }
            OpKind::CreateBridge => Op::CreateBridge { link: Link::deserialize(fields)?.link },
            OpKind::CreateVeth => {
                let Veth { a, b } = Veth::deserialize(fields)?;
                Op::CreateVeth { a, b }
            }
            OpKind::DeleteLink => Op::DeleteLink { link: Link::deserialize(fields)?.link },
            OpKind::SetMaster => {
                let LinkMaster { link, master } = LinkMaster::deserialize(fields)?;
                Op::SetMaster { link, master }
            }
            OpKind::SetMtu => {
                let LinkMtu { link, mtu } = LinkMtu::deserialize(fields)?;
                Op::SetMtu { link, mtu }
            }
            OpKind::SetMac => {
                let LinkMac { link, mac } = LinkMac::deserialize(fields)?;
                Op::SetMac { link, mac }
            }
            OpKind::AddAddress => {
                let LinkAddress { link, address } = LinkAddress::deserialize(fields)?;
                Op::AddAddress { link, address }
            }
            OpKind::SetUp => {
                let LinkUp { link, up } = LinkUp::deserialize(fields)?;
                Op::SetUp { link, up }
            }
            OpKind::AddRoute => {
                let NetnsRoute { netns, family, route } = NetnsRoute::deserialize(fields)?;
                Op::AddRoute { netns, family, route }
            }
            OpKind::DeleteAddress => {
                let LinkAddress { link, address } = LinkAddress::deserialize(fields)?;
                Op::DeleteAddress { link, address }
            }
            OpKind::DeleteRoute => {
                let NetnsRoute { netns, family, route } = NetnsRoute::deserialize(fields)?;
                Op::DeleteRoute { netns, family, route }
            }
            OpKind::RenameLink => {
                let LinkNewName { link, new_name } = LinkNewName::deserialize(fields)?;
                Op::RenameLink { link, new_name }
            }
            OpKind::SetNoMaster => Op::SetNoMaster { link: Link::deserialize(fields)?.link },
            OpKind::AdoptNamespace => {
                let NameLab { name, lab } = NameLab::deserialize(fields)?;
                Op::AdoptNamespace { name, lab }
            }
            OpKind::AdoptLink => {
                let LinkLab { link, lab } = LinkLab::deserialize(fields)?;
                Op::AdoptLink { link, lab }
            }
            OpKind::SetNetem => {
                let LinkNetem { link, netem } = LinkNetem::deserialize(fields)?;
                Op::SetNetem { link, netem }
            }
            OpKind::ClearNetem => Op::ClearNetem { link: Link::deserialize(fields)?.link },
        })
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Op, D::Error> {
        serde_tagged::deserialize(deserializer)
    }
}

/// The fields of the ops, one struct per shape (ops of the same shape share one): read as
/// the derive of `Op` read them (unknown fields are ignored).
mod op_fields {
    use serde::Deserialize;

    use crate::address::Family;
    use crate::identity::{LinkRef, Netns};
    use crate::lab::Route;
    use crate::netem::Impairment;

    #[derive(Deserialize)]
    pub struct Name {
        pub name: String,
    }

    #[derive(Deserialize)]
    pub struct NetnsUp {
        pub netns: Netns,
        pub up: bool,
    }

    #[derive(Deserialize)]
    pub struct Forwarding {
        pub netns: Netns,
        pub family: Family,
        pub enabled: bool,
    }

    #[derive(Deserialize)]
    pub struct Link {
        pub link: LinkRef,
    }

    #[derive(Deserialize)]
    pub struct Veth {
        pub a: LinkRef,
        pub b: LinkRef,
    }

    #[derive(Deserialize)]
    pub struct LinkMaster {
        pub link: LinkRef,
        pub master: String,
    }

    #[derive(Deserialize)]
    pub struct LinkMtu {
        pub link: LinkRef,
        pub mtu: u32,
    }

    #[derive(Deserialize)]
    pub struct LinkMac {
        pub link: LinkRef,
        pub mac: String,
    }

    #[derive(Deserialize)]
    pub struct LinkAddress {
        pub link: LinkRef,
        pub address: String,
    }

    #[derive(Deserialize)]
    pub struct LinkUp {
        pub link: LinkRef,
        pub up: bool,
    }

    #[derive(Deserialize)]
    pub struct NetnsRoute {
        pub netns: Netns,
        pub family: Family,
        pub route: Route,
    }

    #[derive(Deserialize)]
    pub struct LinkNewName {
        pub link: LinkRef,
        pub new_name: String,
    }

    #[derive(Deserialize)]
    pub struct NameLab {
        pub name: String,
        pub lab: String,
    }

    #[derive(Deserialize)]
    pub struct LinkLab {
        pub link: LinkRef,
        pub lab: String,
    }

    #[derive(Deserialize)]
    pub struct LinkNetem {
        pub link: LinkRef,
        pub netem: Impairment,
    }
}

impl Op {
    /// The equivalent iproute2 command line.
    pub fn ip_command(&self) -> String {
        match self {
            Op::CreateNamespace { name } => format!("ip netns add {}", sh_word(name)),
            Op::DeleteNamespace { name } => format!("ip netns delete {}", sh_word(name)),
            Op::SetLoopback { netns, up } => {
                format!("{} link set dev lo {}", ip_in(netns), if *up { "up" } else { "down" })
            }
            Op::SetForwarding { netns, family, enabled } => {
                let key = match family {
                    Family::V4 => "net.ipv4.ip_forward",
                    Family::V6 => "net.ipv6.conf.all.forwarding",
                };
                format!("{}sysctl -qw {key}={}", exec_in(netns), u8::from(*enabled))
            }
            Op::CreateBridge { link } => {
                format!("{} link add {} type bridge", ip_in(&link.netns), new_link_name(&link.name))
            }
            Op::CreateVeth { a, b } => create_veth_command(a, b),
            Op::DeleteLink { link } => format!("{} link delete {}", ip_in(&link.netns), device_arg(&link.name)),
            Op::SetMaster { link, master } => {
                format!("{} master {}", set_dev(link), sh_word(master))
            }
            Op::SetMtu { link, mtu } => format!("{} mtu {mtu}", set_dev(link)),
            Op::SetMac { link, mac } => format!("{} address {}", set_dev(link), sh_word(mac)),
            Op::AddAddress { link, address } => {
                let nodad = if address.contains(':') { " nodad" } else { "" };
                format!("{} addr add {} dev {}{nodad}", ip_in(&link.netns), sh_word(address), sh_word(&link.name))
            }
            Op::SetUp { link, up } => {
                format!("{} {}", set_dev(link), if *up { "up" } else { "down" })
            }
            Op::AddRoute { netns, family, route } => route_command(netns, *family, "add", route),
            Op::DeleteAddress { link, address } => {
                format!("{} addr del {} dev {}", ip_in(&link.netns), sh_word(address), sh_word(&link.name))
            }
            Op::DeleteRoute { netns, family, route } => route_command(netns, *family, "del", route),
            Op::RenameLink { link, new_name } => format!("{} name {}", set_dev(link), sh_word(new_name)),
            Op::SetNoMaster { link } => format!("{} nomaster", set_dev(link)),
            Op::AdoptNamespace { name, lab } => {
                format!("ip -n {} link set dev lo alias {}", sh_word(name), sh_word(&owner_marker(lab)))
            }
            Op::AdoptLink { link, lab } => format!("{} alias {}", set_dev(link), sh_word(&owner_marker(lab))),
            Op::SetNetem { link, netem } => {
                let args = netem.tc_args();
                let space = if args.is_empty() { "" } else { " " };
                format!("{} qdisc replace dev {} root netem{space}{args}", tc_in(&link.netns), sh_word(&link.name))
            }
            Op::ClearNetem { link } => format!("{} qdisc del dev {} root", tc_in(&link.netns), sh_word(&link.name)),
        }
    }

    /// The namespace the op acts in (for a veth, the namespace of its first end).
    pub fn netns(&self) -> Netns {
        match self {
            Op::CreateNamespace { name } | Op::DeleteNamespace { name } | Op::AdoptNamespace { name, .. } => {
                Netns::Named(name.clone())
            }
            Op::SetLoopback { netns, .. }
            | Op::SetForwarding { netns, .. }
            | Op::AddRoute { netns, .. }
            | Op::DeleteRoute { netns, .. } => netns.clone(),
            Op::CreateVeth { a: link, .. }
            | Op::CreateBridge { link }
            | Op::DeleteLink { link }
            | Op::SetMaster { link, .. }
            | Op::SetMtu { link, .. }
            | Op::SetMac { link, .. }
            | Op::AddAddress { link, .. }
            | Op::SetUp { link, .. }
            | Op::DeleteAddress { link, .. }
            | Op::RenameLink { link, .. }
            | Op::SetNoMaster { link }
            | Op::AdoptLink { link, .. }
            | Op::SetNetem { link, .. }
            | Op::ClearNetem { link } => link.netns.clone(),
        }
    }
}

/// `ip` or `ip -n NS`.
fn ip_in(netns: &Netns) -> String {
    match netns {
        Netns::Host => "ip".to_string(),
        Netns::Named(name) => format!("ip -n {}", sh_word(name)),
    }
}

/// `tc` or `tc -n NS`.
fn tc_in(netns: &Netns) -> String {
    match netns {
        Netns::Host => "tc".to_string(),
        Netns::Named(name) => format!("tc -n {}", sh_word(name)),
    }
}

/// Prefix that runs a command inside a namespace (for tools other than `ip`).
fn exec_in(netns: &Netns) -> String {
    match netns {
        Netns::Host => String::new(),
        Netns::Named(name) => format!("ip netns exec {} ", sh_word(name)),
    }
}

/// Words that `ip link add` and `ip link delete` read as keywords when given a prefix of
/// them (`ip link add a ...` means `address`), so such interface names need `name`/`dev`.
const IP_LINK_KEYWORDS: &[&str] = &[
    "address",
    "addrgenmode",
    "allmulticast",
    "alias",
    "altname",
    "arp",
    "broadcast",
    "brd",
    "dev",
    "down",
    "dynamic",
    "group",
    "gso_max_segs",
    "gso_max_size",
    "gro_max_size",
    "help",
    "index",
    "link",
    "master",
    "mode",
    "mtu",
    "multicast",
    "name",
    "netns",
    "nomaster",
    "numrxqueues",
    "numtxqueues",
    "parentdev",
    "peer",
    "promisc",
    "protodown",
    "qlen",
    "state",
    "trailers",
    "txqlen",
    "txqueuelen",
    "type",
    "up",
    "vf",
    "vrf",
    "xdp",
];

fn is_ip_keyword_prefix(name: &str) -> bool {
    IP_LINK_KEYWORDS.iter().any(|keyword| keyword.starts_with(name))
}

/// The new interface's name as `ip link add` reads it: plain when unambiguous.
fn new_link_name(name: &str) -> String {
    if is_ip_keyword_prefix(name) {
        format!("name {}", sh_word(name))
    } else {
        sh_word(name).into_owned()
    }
}

/// An existing interface as `ip link delete` reads it.
fn device_arg(name: &str) -> String {
    if is_ip_keyword_prefix(name) {
        format!("dev {}", sh_word(name))
    } else {
        sh_word(name).into_owned()
    }
}

fn set_dev(link: &LinkRef) -> String {
    format!("{} link set dev {}", ip_in(&link.netns), sh_word(&link.name))
}

/// The form of `tests/fixtures/labs/router.sh`: each end is created straight in its namespace.
fn create_veth_command(a: &LinkRef, b: &LinkRef) -> String {
    if a.netns == b.netns {
        return format!(
            "{} link add {} type veth peer name {}",
            ip_in(&a.netns),
            new_link_name(&a.name),
            sh_word(&b.name)
        );
    }
    let place = |netns: &Netns| match netns {
        Netns::Host => String::new(),
        Netns::Named(name) => format!(" netns {}", sh_word(name)),
    };
    format!(
        "ip link add {}{} type veth peer name {}{}",
        new_link_name(&a.name),
        place(&a.netns),
        sh_word(&b.name),
        place(&b.netns)
    )
}

fn route_command(netns: &Netns, family: Family, verb: &str, route: &Route) -> String {
    let mut command = ip_in(netns);
    if family == Family::V6 {
        command.push_str(" -6");
    }
    let _ = write!(command, " route {verb} {}", sh_word(&route.to));
    if let Some(via) = &route.via {
        let _ = write!(command, " via {}", sh_word(via));
    }
    if let Some(dev) = &route.dev {
        let _ = write!(command, " dev {}", sh_word(dev));
    }
    if let Some(metric) = route.metric {
        let _ = write!(command, " metric {metric}");
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(netns: Netns, name: &str) -> LinkRef {
        LinkRef::new(netns, name)
    }

    fn ns(name: &str) -> Netns {
        Netns::Named(name.to_string())
    }

    #[test]
    fn renders_the_commands_of_the_reference_labs() {
        let cases = [
            (Op::CreateNamespace { name: "ns0".into() }, "ip netns add ns0"),
            (Op::SetLoopback { netns: ns("ns0"), up: true }, "ip -n ns0 link set dev lo up"),
            (
                Op::DeleteAddress { link: link(ns("a"), "eth0"), address: "10.0.0.1/24".into() },
                "ip -n a addr del 10.0.0.1/24 dev eth0",
            ),
            (
                Op::RenameLink { link: link(ns("a"), "eth0"), new_name: "eth1".into() },
                "ip -n a link set dev eth0 name eth1",
            ),
            (Op::SetNoMaster { link: link(Netns::Host, "veth0") }, "ip link set dev veth0 nomaster"),
            (
                Op::AdoptNamespace { name: "ns0".into(), lab: "seed".into() },
                "ip -n ns0 link set dev lo alias nslab:seed",
            ),
            (
                Op::AdoptLink { link: link(Netns::Host, "br0"), lab: "seed".into() },
                "ip link set dev br0 alias nslab:seed",
            ),
            (
                Op::CreateVeth { a: link(ns("left"), "l-eth0"), b: link(ns("router"), "r-eth0") },
                "ip link add l-eth0 netns left type veth peer name r-eth0 netns router",
            ),
            (
                Op::CreateVeth { a: link(Netns::Host, "veth0"), b: link(ns("ns0"), "eth0") },
                "ip link add veth0 type veth peer name eth0 netns ns0",
            ),
            (
                Op::CreateVeth { a: link(ns("x"), "v0"), b: link(ns("x"), "v1") },
                "ip -n x link add v0 type veth peer name v1",
            ),
            (Op::CreateBridge { link: link(Netns::Host, "docker0") }, "ip link add docker0 type bridge"),
            (
                Op::SetMaster { link: link(Netns::Host, "veth0"), master: "docker0".into() },
                "ip link set dev veth0 master docker0",
            ),
            (
                Op::AddAddress { link: link(ns("left"), "l-eth0"), address: "fd00:1::2/64".into() },
                "ip -n left addr add fd00:1::2/64 dev l-eth0 nodad",
            ),
            (
                Op::SetForwarding { netns: ns("router"), family: Family::V4, enabled: true },
                "ip netns exec router sysctl -qw net.ipv4.ip_forward=1",
            ),
            (
                Op::SetForwarding { netns: Netns::Host, family: Family::V6, enabled: false },
                "sysctl -qw net.ipv6.conf.all.forwarding=0",
            ),
            (Op::SetMtu { link: link(ns("a b"), "eth0"), mtu: 9000 }, "ip -n 'a b' link set dev eth0 mtu 9000"),
            (Op::SetUp { link: link(Netns::Host, "br0"), up: false }, "ip link set dev br0 down"),
            (Op::DeleteNamespace { name: "ns0".into() }, "ip netns delete ns0"),
            // `ip link add a ...` would read `a` as `address`.
            (
                Op::CreateVeth { a: link(Netns::Host, "a"), b: link(ns("x"), "b") },
                "ip link add name a type veth peer name b netns x",
            ),
            (Op::CreateBridge { link: link(Netns::Host, "up") }, "ip link add name up type bridge"),
            (Op::DeleteLink { link: link(Netns::Host, "m") }, "ip link delete dev m"),
            (Op::DeleteLink { link: link(Netns::Host, "veth0") }, "ip link delete veth0"),
        ];
        for (op, expected) in cases {
            assert_eq!(op.ip_command(), expected);
        }
    }

    #[test]
    fn renders_routes_with_family_and_options() {
        let route = Route { to: "default".into(), via: Some("fd00:1::1".into()), dev: None, metric: None };
        let op = Op::AddRoute { netns: ns("left"), family: Family::V6, route };
        assert_eq!(op.ip_command(), "ip -n left -6 route add default via fd00:1::1");
        let route = Route { to: "10.9.0.0/16".into(), via: None, dev: Some("eth0".into()), metric: Some(50) };
        let op = Op::AddRoute { netns: Netns::Host, family: Family::V4, route };
        assert_eq!(op.ip_command(), "ip route add 10.9.0.0/16 dev eth0 metric 50");
    }

    #[test]
    fn impairments_render_as_tc_commands_on_the_root_qdisc() {
        let netem: crate::netem::Netem =
            serde_json::from_str(r#"{"delay": "50ms", "jitter": "10ms", "loss": "1%"}"#).unwrap();
        let netem = netem.parse().unwrap();
        let set = Op::SetNetem { link: link(ns("ns1"), "eth0"), netem: netem.clone() };
        assert_eq!(set.ip_command(), "tc -n ns1 qdisc replace dev eth0 root netem delay 50ms 10ms loss 1%");
        let on_host = Op::SetNetem { link: link(Netns::Host, "v 0"), netem };
        assert_eq!(on_host.ip_command(), "tc qdisc replace dev 'v 0' root netem delay 50ms 10ms loss 1%");
        let clear = Op::ClearNetem { link: link(ns("a b"), "eth0") };
        assert_eq!(clear.ip_command(), "tc -n 'a b' qdisc del dev eth0 root");
        assert_eq!(clear.netns(), ns("a b"));
    }

    #[test]
    fn an_impairment_op_reads_back_from_its_json() {
        let netem: crate::netem::Netem = serde_json::from_str(r#"{"rate": "10mbit", "limit": 50}"#).unwrap();
        let op = Op::SetNetem { link: link(ns("ns1"), "eth0"), netem: netem.parse().unwrap() };
        let json = serde_json::to_string(&op).unwrap();
        assert!(json.starts_with(r#"{"op":"set_netem","link":"#), "{json}");
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
        let clear = Op::ClearNetem { link: link(Netns::Host, "veth0") };
        assert_eq!(serde_json::from_str::<Op>(&serde_json::to_string(&clear).unwrap()).unwrap(), clear);
    }

    #[test]
    fn ops_serialise_with_a_tag() {
        let op = Op::SetUp { link: link(ns("ns0"), "eth0"), up: true };
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(json, r#"{"op":"set_up","link":{"netns":{"named":"ns0"},"name":"eth0"},"up":true}"#);
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
    }
}

#[cfg(test)]
mod reading_tests {
    //! `Op` is read by `serde_tagged`; these compare it with what the derive read.
    use super::*;

    /// `Op` as the derive read it, to compare with.
    mod derived {
        use serde::Deserialize;

        use crate::address::Family;
        use crate::identity::{LinkRef, Netns};
        use crate::lab::Route;
        use crate::netem::Impairment;

        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        pub enum Op {
            CreateNamespace { name: String },
            DeleteNamespace { name: String },
            SetLoopback { netns: Netns, up: bool },
            SetForwarding { netns: Netns, family: Family, enabled: bool },
            CreateBridge { link: LinkRef },
            CreateVeth { a: LinkRef, b: LinkRef },
            DeleteLink { link: LinkRef },
            SetMaster { link: LinkRef, master: String },
            SetMtu { link: LinkRef, mtu: u32 },
            SetMac { link: LinkRef, mac: String },
            AddAddress { link: LinkRef, address: String },
            SetUp { link: LinkRef, up: bool },
            AddRoute { netns: Netns, family: Family, route: Route },
            DeleteAddress { link: LinkRef, address: String },
            DeleteRoute { netns: Netns, family: Family, route: Route },
            RenameLink { link: LinkRef, new_name: String },
            SetNoMaster { link: LinkRef },
            AdoptNamespace { name: String, lab: String },
            AdoptLink { link: LinkRef, lab: String },
            SetNetem { link: LinkRef, netem: Impairment },
            ClearNetem { link: LinkRef },
        }
    }

    fn without_place(error: serde_json::Error) -> String {
        let text = error.to_string();
        text.rsplit_once(" at line ").map_or(text.clone(), |(message, _)| message.to_string())
    }

    /// Reads `text` both ways: the same op (as JSON) or the same error message.
    fn read_both(text: &str) -> Result<serde_json::Value, String> {
        let ours = serde_json::from_str::<Op>(text).map(|op| serde_json::to_value(op).unwrap()).map_err(without_place);
        let derived = serde_json::from_str::<derived::Op>(text).map_err(without_place);
        assert_eq!(ours.is_ok(), derived.is_ok(), "{text}: {ours:?} / {derived:?}");
        match (&ours, &derived) {
            // A bad `Netns` read from the text is refused by serde_json itself, less
            // precisely than the derive's buffer did (ops are written by nslab, not by hand).
            (Err(ours), Err(derived)) if derived.ends_with("expected string or map") => {
                assert_eq!(ours, "expected value", "{text}")
            }
            // An op's fields in an array are named by their shape ("struct LinkMtu").
            (Err(ours), Err(derived)) if derived.starts_with("invalid length") => {
                assert_eq!(ours.split(", expected").next(), derived.split(", expected").next(), "{text}")
            }
            (Err(ours), Err(derived)) => assert_eq!(ours, derived, "{text}"),
            _ => {}
        }
        ours
    }

    fn lossy() -> Impairment {
        let netem: crate::netem::Netem = serde_json::from_str(r#"{"delay": "50ms", "loss": "1%"}"#).unwrap();
        netem.parse().unwrap()
    }

    #[test]
    fn every_op_reads_as_the_derive_read_it_with_its_tag_anywhere() {
        let link = LinkRef::new(Netns::Named("a".into()), "eth0");
        let route = Route { to: "default".into(), via: Some("10.0.0.1".into()), dev: None, metric: Some(5) };
        let ops = [
            Op::CreateNamespace { name: "a".into() },
            Op::SetForwarding { netns: Netns::Host, family: Family::V6, enabled: true },
            Op::CreateVeth { a: link.clone(), b: LinkRef::new(Netns::Host, "veth0") },
            Op::SetMtu { link: link.clone(), mtu: 1400 },
            Op::DeleteRoute { netns: Netns::Named("a".into()), family: Family::V4, route },
            Op::SetNetem { link: link.clone(), netem: lossy() },
            Op::ClearNetem { link: link.clone() },
            Op::AdoptLink { link, lab: "seed".into() },
        ];
        for op in ops {
            let json = serde_json::to_value(&op).unwrap();
            let tag_first = json.to_string();
            assert_eq!(read_both(&tag_first).unwrap(), json);
            // By hand, with the tag last, and the fields in an array.
            let mut fields = json.as_object().unwrap().clone();
            let tag = fields.remove("op").unwrap();
            let tag_last = format!("{},\"op\":{tag}}}", &serde_json::Value::Object(fields.clone()).to_string()[..]);
            let tag_last = tag_last.replacen("},\"op\"", ",\"op\"", 1);
            assert_eq!(read_both(&tag_last).unwrap(), json, "{tag_last}");
        }
        // The derive also read an op from an array: the tag, then the fields in order.
        let mtu = read_both(r#"["set_mtu", {"netns": "host", "name": "e"}, 1400]"#).unwrap();
        assert_eq!(mtu, serde_json::json!({"op": "set_mtu", "link": {"netns": "host", "name": "e"}, "mtu": 1400}));
    }

    #[test]
    fn bad_ops_are_refused_with_the_derive_s_messages() {
        let refused = [
            (r#"{"op": "make_coffee", "name": "a"}"#, "unknown variant `make_coffee`"),
            (r#"{"name": "a", "op": "make_coffee"}"#, "unknown variant `make_coffee`"),
            (r#"{"name": "a"}"#, "missing field `op`"),
            (r#"{}"#, "missing field `op`"),
            (r#"{"op": "set_mtu", "link": {"netns": "host", "name": "e"}}"#, "missing field `mtu`"),
            (r#"{"link": {"netns": "host", "name": "e"}, "op": "set_mtu"}"#, "missing field `mtu`"),
            (r#"{"op": "set_mtu", "link": {"netns": "host", "name": "e"}, "mtu": "big"}"#, "expected u32"),
            (r#"{"op": "set_mtu", "link": {"netns": null, "name": "e"}, "mtu": 1}"#, "expected value"),
            (r#"["set_mtu", {"netns": "host", "name": "e"}]"#, "invalid length 1"),
            (r#"{"op": "create_namespace", "name": "a", "op": "create_namespace"}"#, "duplicate field `op`"),
            (r#"{"name": "a", "op": "create_namespace", "op": "delete_namespace"}"#, "duplicate field `op`"),
            (r#"{"op": "create_namespace", "name": "a", "name": "b"}"#, "duplicate field `name`"),
            (r#"{"name": "a", "name": "b", "op": "create_namespace"}"#, "duplicate field `name`"),
            (r#"{"op": 3, "name": "a"}"#, "invalid type"),
            (r#""create_namespace""#, "expected internally tagged enum Op"),
            (r#"[]"#, "missing field `op`"),
        ];
        for (text, expected) in refused {
            let message = read_both(text).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn an_op_reads_from_a_json_value_whose_keys_are_sorted_not_tag_first() {
        let value = serde_json::json!({"op": "set_mtu", "link": {"netns": "host", "name": "e"}, "mtu": 1400});
        let op: Op = serde_json::from_value(value).unwrap();
        assert_eq!(op, Op::SetMtu { link: LinkRef::new(Netns::Host, "e"), mtu: 1400 });
        let error = serde_json::from_value::<Op>(serde_json::json!({"link": 1, "op": "set_mtu"})).unwrap_err();
        assert!(error.to_string().contains("invalid type: integer `1`"), "{error}");
    }

    #[test]
    fn fields_of_other_ops_are_ignored_as_before() {
        let text = r#"{"op": "create_namespace", "name": "a", "up": "not a bool", "lab": 3}"#;
        assert_eq!(read_both(text).unwrap(), serde_json::json!({"op": "create_namespace", "name": "a"}));
        let text = r#"{"up": "not a bool", "name": "a", "op": "create_namespace"}"#;
        assert_eq!(read_both(text).unwrap(), serde_json::json!({"op": "create_namespace", "name": "a"}));
    }
}
