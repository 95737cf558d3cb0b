//! `ip` as iproute2 reads it: options (`-n NS`, `-4`, `-6`), an object and a verb each
//! given as any prefix of their names (`ip a a` is `ip address add`), and the arguments of
//! `netns`, `link`, `address` and `route`. Other objects only look, or change what a lab
//! cannot hold (a policy rule, a neighbour entry), and are named as left out.

use ipnet::IpNet;

use super::words::Words;
use super::world::{Kind, World};
use super::{left_out, not_understood, Effect, Outcome, Reader, Skip};
use crate::address::{parse_destination, parse_interface_address, parse_mac};
use crate::identity::Netns;
use crate::lab::Route;

use super::line::Word;

/// `ip`'s objects in the order iproute2 matches a prefix against them.
const OBJECTS: [&str; 33] = [
    "address",
    "addrlabel",
    "maddress",
    "route",
    "rule",
    "neighbor",
    "neighbour",
    "ntable",
    "ntbl",
    "link",
    "l2tp",
    "fou",
    "ila",
    "macsec",
    "tunnel",
    "tuntap",
    "tap",
    "token",
    "tcpmetrics",
    "tcp_metrics",
    "monitor",
    "xfrm",
    "mroute",
    "mrule",
    "netns",
    "netconf",
    "vrf",
    "sr",
    "nexthop",
    "mptcp",
    "ioam",
    "stats",
    "help",
];

/// Verbs that only read.
const LOOKING: [&str; 8] = ["show", "list", "lst", "get", "help", "xstats", "afstats", "save"];

/// `ip link` settings a lab does not hold, and how many words each takes.
const LINK_SETTINGS: [(&str, usize); 24] = [
    ("txqueuelen", 1),
    ("txqlen", 1),
    ("qlen", 1),
    ("promisc", 1),
    ("trailers", 1),
    ("arp", 1),
    ("multicast", 1),
    ("allmulticast", 1),
    ("dynamic", 1),
    ("carrier", 1),
    ("protodown", 1),
    ("alias", 1),
    ("group", 1),
    ("addrgenmode", 1),
    ("state", 1),
    ("mode", 1),
    ("numtxqueues", 1),
    ("numrxqueues", 1),
    ("gso_max_size", 1),
    ("gso_max_segs", 1),
    ("gro_max_size", 1),
    ("broadcast", 1),
    ("brd", 1),
    ("altname", 1),
];

/// A family asked for with `-4` or `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

struct Call<'a> {
    netns: Netns,
    family: Family,
    /// The whole command, for naming what is left out.
    text: String,
    words: Vec<&'a str>,
}

pub fn run(reader: &mut Reader, netns: &Netns, args: &[Word]) -> Outcome {
    let mut netns = netns.clone();
    let mut family = Family::Any;
    let mut rest = args;
    while let Some(option) = rest.first().filter(|word| word.text.starts_with('-') && word.text.len() > 1) {
        let name = option.text.strip_prefix("--").map(|name| format!("-{name}")).unwrap_or(option.text.clone());
        rest = &rest[1..];
        match name.as_str() {
            "-n" | "-netns" => {
                let Some(word) = rest.first() else { return not_understood("`ip -n` needs a namespace") };
                netns = Netns::Named(plain(word)?.to_string());
                rest = &rest[1..];
            }
            "-4" => family = Family::V4,
            "-6" => family = Family::V6,
            "-f" | "-family" => {
                let Some(word) = rest.first() else { return not_understood("`ip -f` needs a family") };
                family = match word.text.as_str() {
                    "inet" => Family::V4,
                    "inet6" => Family::V6,
                    _ => Family::Any,
                };
                rest = &rest[1..];
            }
            "-0" | "-s" | "-stats" | "-statistics" | "-d" | "-details" | "-r" | "-resolve" | "-o" | "-oneline"
            | "-c" | "-color" | "-br" | "-brief" | "-j" | "-json" | "-p" | "-pretty" | "-h" | "-human" | "-t"
            | "-timestamp" | "-ts" | "-iec" | "-N" | "-numeric" => {}
            _ if name.starts_with("-color=") || name.starts_with("-c=") => {}
            "-a" | "-all" => return not_understood("`ip -all` (every namespace at once) is not understood"),
            "-b" | "-batch" => return not_understood("`ip -batch` reads another file, which is not understood"),
            _ => return not_understood(format!("`ip` does not take the option `{}`", option.text)),
        }
    }
    let Some(object_word) = rest.first() else { return not_understood("`ip` needs an object, such as `link`") };
    let Some(object) = prefix_match(&object_word.text, &OBJECTS) else {
        return not_understood(format!("`ip {}` is not an ip command", object_word.text));
    };
    let rest = &rest[1..];
    if object == "netns" {
        return netns_command(reader, rest);
    }
    if object == "help" {
        return Ok(Effect::Nothing);
    }
    let text = std::iter::once("ip").chain(args.iter().map(|word| word.text.as_str())).collect::<Vec<_>>().join(" ");
    let words = rest.iter().map(plain).collect::<Result<Vec<_>, _>>()?;
    let call = Call { netns, family, text, words };
    let world = &mut reader.world;
    match object {
        "link" => link(world, &call),
        "address" => address(world, &call),
        "route" => route(world, &call),
        _ => other_object(&call, object),
    }
}

/// A word whose value is known (no `$`).
fn plain(word: &Word) -> Result<&str, Skip> {
    if word.expands {
        return not_understood(format!("`{}`: shell variables and substitutions are not understood", word.text));
    }
    Ok(&word.text)
}

/// The first of `names` that `word` is a prefix of, as iproute2's `matches` reads it.
fn prefix_match<'n>(word: &str, names: &[&'n str]) -> Option<&'n str> {
    (!word.is_empty()).then(|| names.iter().find(|name| name.starts_with(word)).copied()).flatten()
}

/// The verb of a command (the first word), matched against `verbs`; none means `show`.
fn verb<'n>(call: &Call, verbs: &[&'n str]) -> Result<&'n str, Skip> {
    let Some(word) = call.words.first() else { return Ok("show") };
    prefix_match(word, verbs).ok_or_else(|| Skip::NotUnderstood(format!("`{}` is not an ip command", call.text)))
}

fn in_netns(netns: &Netns) -> String {
    match netns {
        Netns::Host => String::new(),
        Netns::Named(name) => format!(" in `{name}`"),
    }
}

fn netns_command(reader: &mut Reader, args: &[Word]) -> Outcome {
    let verbs =
        ["list", "lst", "list-id", "help", "add", "set", "delete", "identify", "pids", "exec", "monitor", "attach"];
    let Some(first) = args.first() else { return Ok(Effect::Nothing) };
    let Some(verb) = prefix_match(&first.text, &verbs) else {
        return not_understood(format!("`ip netns {}` is not an ip command", first.text));
    };
    let name = args.get(1).map(plain).transpose()?;
    match (verb, name) {
        ("add", Some(name)) => reader.world.add_namespace(name).map(|()| Effect::Changed),
        ("delete", Some(name)) => reader.world.delete_namespace(name).map(|()| Effect::Changed),
        ("exec", Some(name)) => {
            let netns = Netns::Named(name.to_string());
            reader.world.check_namespace(&netns)?;
            if args.len() < 3 {
                return not_understood(format!("`ip netns exec {name}` needs a command to run"));
            }
            reader.run(&netns, &args[2..])
        }
        ("add" | "delete" | "exec", None) => not_understood(format!("`ip netns {verb}` needs a namespace")),
        ("set" | "attach", _) => left_out(format!("`ip netns {verb}` (a lab does not give namespaces ids)")),
        _ => Ok(Effect::Nothing),
    }
}

/// An object a lab has nothing of (`rule`, `neighbour`, `tunnel`, ...): looking at it
/// changes nothing, changing it is left out.
fn other_object(call: &Call, object: &str) -> Outcome {
    match call.words.first() {
        None => Ok(Effect::Nothing),
        Some(word) if LOOKING.iter().any(|verb| verb.starts_with(word)) => Ok(Effect::Nothing),
        Some(_) => left_out(format!("`{}`{} (a lab has no `ip {object}` settings)", call.text, in_netns(&call.netns))),
    }
}

/// What `ip link add` or `ip link set` names besides its settings.
#[derive(Debug, Default)]
struct LinkArgs<'a> {
    dev: Option<&'a str>,
    name: Option<&'a str>,
    mtu: Option<u32>,
    mac: Option<&'a str>,
    netns: Option<&'a str>,
    master: Option<&'a str>,
    nomaster: bool,
    up: Option<bool>,
    kind: Option<&'a str>,
    /// Words after `type KIND`.
    kind_args: Vec<&'a str>,
    /// Settings a lab does not hold, as written.
    left: Vec<String>,
}

/// Reads the arguments of `ip link add` (`adding`: a bare word is the new name) or `ip link
/// set` (a bare word is the device).
fn link_args<'a>(words: &[&'a str], adding: bool) -> Result<LinkArgs<'a>, Skip> {
    let mut args = LinkArgs::default();
    let mut reading = Words::new(words);
    while let Some(word) = reading.next() {
        let mut next = || reading.value_of(word);
        match word {
            "up" => args.up = Some(true),
            "down" => args.up = Some(false),
            "name" => args.name = Some(next()?),
            "dev" => args.dev = Some(next()?),
            "mtu" => {
                let value = next()?;
                let mtu = value.parse().map_err(|_| Skip::NotUnderstood(format!("`mtu {value}` is not a number")))?;
                args.mtu = Some(mtu);
            }
            "address" => {
                let value = next()?;
                parse_mac(value).map_err(Skip::NotUnderstood)?;
                args.mac = Some(value);
            }
            "netns" => args.netns = Some(next()?),
            "master" => args.master = Some(next()?),
            "nomaster" => args.nomaster = true,
            "type" => {
                args.kind = Some(next()?);
                args.kind_args = reading.rest().to_vec();
            }
            "link" => args.left.push(format!("link {}", next()?)),
            "help" => {}
            _ => match LINK_SETTINGS.iter().find(|(keyword, _)| *keyword == word) {
                Some(_) => args.left.push(format!("{word} {}", next()?)),
                None if adding && args.name.is_none() => args.name = Some(word),
                None if !adding && args.dev.is_none() => args.dev = Some(word),
                None => return not_understood(format!("`{word}` is not a setting `ip link` takes")),
            },
        }
    }
    Ok(args)
}

fn link(world: &mut World, call: &Call) -> Outcome {
    let verbs = ["add", "set", "change", "replace", "delete", "show", "lst", "list", "xstats", "afstats", "help"];
    let words = call.words.get(1..).unwrap_or_default();
    match verb(call, &verbs)? {
        "add" => link_add(world, call, &link_args(words, true)?),
        "set" | "change" => link_set(world, call, &link_args(words, false)?),
        "delete" => {
            let args = link_args(words, false)?;
            let Some(dev) = args.dev.or(args.name) else { return not_understood("`ip link delete` needs a device") };
            let index = world.find_any(&call.netns, dev)?;
            world.delete_interface(index);
            Ok(Effect::Changed)
        }
        "replace" => not_understood("`ip link replace` is not understood; use `ip link add` or `ip link set`"),
        _ => Ok(Effect::Nothing),
    }
}

fn link_add(world: &mut World, call: &Call, args: &LinkArgs) -> Outcome {
    let Some(kind) = args.kind else {
        return not_understood("`ip link add` needs a `type` (`veth` or `bridge`)");
    };
    let netns = args.netns.map_or_else(|| call.netns.clone(), |name| Netns::Named(name.to_string()));
    world.check_namespace(&call.netns)?;
    world.check_namespace(&netns)?;
    let wanted = args.name.or(args.dev);
    let made = match kind {
        "veth" => add_veth(world, call, &netns, wanted, &args.kind_args)?,
        "bridge" => {
            let name = world.new_name(&netns, wanted, "bridge")?;
            if !args.kind_args.is_empty() {
                world.note(format!("the bridge settings `{}` of `{name}`", args.kind_args.join(" ")));
            }
            world.add_interface(netns.clone(), name, Kind::Bridge)
        }
        other => {
            let name = world.new_name(&netns, wanted, other)?;
            let what = format!("a `{other}` interface");
            world.add_interface(netns.clone(), name.clone(), Kind::Other(what.clone()));
            return left_out(format!("`{name}`{}, {what} (a lab has veths and bridges)", in_netns(&netns)));
        }
    };
    apply_settings(world, made, args);
    Ok(Effect::Changed)
}

/// Makes a veth pair as the kernel names it: the peer first, then the new interface, each
/// unnamed end getting the lowest free `vethN` of its namespace. Gives the new interface.
fn add_veth(
    world: &mut World,
    call: &Call,
    netns: &Netns,
    wanted: Option<&str>,
    kind_args: &[&str],
) -> Result<usize, Skip> {
    let peer_args = match kind_args.split_first() {
        None => LinkArgs::default(),
        Some((&"peer", rest)) => link_args(rest, true)?,
        Some((word, _)) => return not_understood(format!("`{word}` is not a veth setting (`peer name NAME`)")),
    };
    if peer_args.kind.is_some() || peer_args.master.is_some() {
        return not_understood("a veth's peer takes a name, `netns`, `address` and `mtu`");
    }
    let peer_netns = peer_args.netns.map_or_else(|| call.netns.clone(), |name| Netns::Named(name.to_string()));
    world.check_namespace(&peer_netns)?;
    let peer_wanted = peer_args.name.or(peer_args.dev);
    let both_unnamed = wanted.is_none() && peer_wanted.is_none();
    let peer_name = world.new_name(&peer_netns, peer_wanted, "veth")?;
    let peer = world.add_interface(peer_netns, peer_name, Kind::Veth { peer: usize::MAX, first: both_unnamed });
    let name = match world.new_name(netns, wanted, "veth") {
        Ok(name) => name,
        Err(skip) => {
            world.remove_last_interface();
            return Err(skip);
        }
    };
    let made = world.add_interface(netns.clone(), name, Kind::Veth { peer, first: !both_unnamed });
    world.interface_mut(peer).kind = Kind::Veth { peer: made, first: both_unnamed };
    apply_settings(world, peer, &peer_args);
    Ok(made)
}

/// The settings `ip link add` gives besides the kind: MTU, MAC, up, and what is left out.
fn apply_settings(world: &mut World, index: usize, args: &LinkArgs) {
    let interface = world.interface_mut(index);
    interface.mtu = args.mtu.or(interface.mtu);
    interface.mac = args.mac.map(str::to_string).or(interface.mac.take());
    interface.up = args.up.unwrap_or(interface.up);
    let name = interface.name.clone();
    for setting in &args.left {
        world.note(format!("`{setting}` of `{name}`"));
    }
}

fn link_set(world: &mut World, call: &Call, args: &LinkArgs) -> Outcome {
    let Some(dev) = args.dev else { return not_understood("`ip link set` needs a device") };
    if dev == "lo" {
        return loopback(world, call, args);
    }
    let index = world.find(&call.netns, dev)?;
    if let Some(kind) = args.kind {
        world.note(format!("`type {kind} {}` of `{dev}`", args.kind_args.join(" ")));
    }
    if let Some(to) = args.netns {
        if to.parse::<u32>().is_ok() {
            return not_understood(format!("`netns {to}` names a process; name the namespace instead"));
        }
        world.move_interface(index, &Netns::Named(to.to_string()))?;
    }
    if let Some(master) = args.master {
        set_master(world, index, master)?;
    }
    if args.nomaster {
        world.interface_mut(index).master = None;
    }
    if let Some(name) = args.name {
        world.rename(index, name)?;
    }
    apply_settings(world, index, args);
    Ok(Effect::Changed)
}

/// `ip link set lo up`: the one thing a lab keeps of `lo`.
fn loopback(world: &mut World, call: &Call, args: &LinkArgs) -> Outcome {
    let namespace = world.namespace_mut(&call.netns)?;
    if let Some(up) = args.up {
        namespace.loopback_up = up;
    }
    let mut others: Vec<String> = args.left.clone();
    if args.mtu.is_some() || args.mac.is_some() || args.name.is_some() || args.netns.is_some() || args.master.is_some()
    {
        others.push("its other settings".to_string());
    }
    if !others.is_empty() {
        return left_out(format!(
            "`{}` of `lo`{} (a lab keeps only whether `lo` is up)",
            others.join(", "),
            in_netns(&call.netns)
        ));
    }
    Ok(Effect::Changed)
}

pub(super) fn set_master(world: &mut World, index: usize, master: &str) -> Result<(), Skip> {
    let netns = world.interface(index).netns.clone();
    let bridge = world.find(&netns, master)?;
    if world.interface(bridge).kind != Kind::Bridge {
        return not_understood(format!("`{master}` is not a bridge"));
    }
    if world.interface(index).kind == Kind::Bridge {
        return not_understood(format!("bridge `{}` cannot be a port of another bridge", world.interface(index).name));
    }
    world.interface_mut(index).master = Some(bridge);
    Ok(())
}

/// Address words that a lab does not hold, and how many values each takes.
const ADDRESS_SETTINGS: [(&str, usize); 17] = [
    ("peer", 1),
    ("remote", 1),
    ("broadcast", 1),
    ("brd", 1),
    ("anycast", 1),
    ("scope", 1),
    ("label", 1),
    ("valid_lft", 1),
    ("preferred_lft", 1),
    ("metric", 1),
    ("priority", 1),
    ("proto", 1),
    ("home", 0),
    ("optimistic", 0),
    ("mngtmpaddr", 0),
    ("noprefixroute", 0),
    ("autojoin", 0),
];

fn address(world: &mut World, call: &Call) -> Outcome {
    let verbs = ["add", "change", "chg", "replace", "delete", "list", "show", "lst", "flush", "save", "help"];
    let verb = verb(call, &verbs)?;
    let words = call.words.get(1..).unwrap_or_default();
    match verb {
        "add" | "change" | "chg" | "replace" | "delete" => {}
        "flush" => return flush_addresses(world, call, words),
        _ => return Ok(Effect::Nothing),
    }
    let mut local = None;
    let mut dev = None;
    let mut left = Vec::new();
    let mut reading = Words::new(words);
    while let Some(word) = reading.next() {
        match word {
            "dev" => dev = Some(reading.value_of(word)?),
            "local" => local = Some(reading.value_of(word)?),
            "nodad" => {}
            _ => match ADDRESS_SETTINGS.iter().find(|(keyword, _)| *keyword == word) {
                Some((_, 1)) => left.push(format!("{word} {}", reading.value_of(word)?)),
                Some(_) => left.push(word.to_string()),
                None if local.is_none() => local = Some(word),
                None => return not_understood(format!("`{word}` is not a setting `ip address` takes")),
            },
        }
    }
    let (Some(local), Some(dev)) = (local, dev) else {
        return not_understood(format!("`ip address {verb}` needs an address and `dev`"));
    };
    let address = interface_address(local)?;
    if dev == "lo" {
        world.check_namespace(&call.netns)?;
        return left_out(format!(
            "address `{address}` of `lo`{} (a lab gives `lo` no addresses)",
            in_netns(&call.netns)
        ));
    }
    let index = world.find(&call.netns, dev)?;
    if !left.is_empty() {
        world.note(format!("`{}` of address `{address}` of `{dev}`", left.join(" ")));
    }
    let addresses = &mut world.interface_mut(index).addresses;
    let present = addresses.iter().position(|given| same_address(given, &address));
    match (verb, present) {
        ("delete", Some(at)) => {
            addresses.remove(at);
        }
        ("delete", None) => return not_understood(format!("`{dev}` has no address `{address}`")),
        ("add", Some(_)) => return not_understood(format!("`{dev}` has address `{address}` already")),
        ("change" | "chg", None) => return not_understood(format!("`{dev}` has no address `{address}` to change")),
        (_, Some(_)) => {}
        (_, None) => addresses.push(address),
    }
    Ok(Effect::Changed)
}

/// An address as `ip` reads it: without a prefix length it is one host (/32, /128).
fn interface_address(text: &str) -> Result<String, Skip> {
    let net = if text.contains('/') {
        parse_interface_address(text).map_err(Skip::NotUnderstood)?
    } else {
        let ip: std::net::IpAddr =
            text.parse().map_err(|_| Skip::NotUnderstood(format!("`{text}` is not an IPv4 or IPv6 address")))?;
        IpNet::from(ip)
    };
    Ok(net.to_string())
}

/// The kernel refuses a second IPv6 address whatever its prefix, an IPv4 one only with
/// the same prefix.
fn same_address(given: &str, new: &str) -> bool {
    match (given.parse::<IpNet>(), new.parse::<IpNet>()) {
        (Ok(IpNet::V6(a)), Ok(IpNet::V6(b))) => a.addr() == b.addr(),
        (Ok(a), Ok(b)) => a == b,
        _ => given == new,
    }
}

fn flush_addresses(world: &mut World, call: &Call, words: &[&str]) -> Outcome {
    let dev = match words {
        ["dev", dev, ..] | [dev, ..] => *dev,
        [] => return not_understood("`ip address flush` needs a device"),
    };
    let index = world.find(&call.netns, dev)?;
    let family = call.family;
    world.interface_mut(index).addresses.retain(|address| match family {
        Family::Any => false,
        Family::V4 => address.contains(':'),
        Family::V6 => !address.contains(':'),
    });
    Ok(Effect::Changed)
}

/// Route types other than an ordinary (unicast) route.
const ROUTE_TYPES: [&str; 9] =
    ["local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast"];

/// Route words a lab does not hold that take a value.
const ROUTE_SETTINGS: [&str; 24] = [
    "src",
    "proto",
    "protocol",
    "scope",
    "mtu",
    "advmss",
    "realm",
    "realms",
    "expires",
    "pref",
    "rtt",
    "rttvar",
    "window",
    "cwnd",
    "initcwnd",
    "initrwnd",
    "hoplimit",
    "features",
    "quickack",
    "congctl",
    "ssthresh",
    "reordering",
    "fastopen_no_cookie",
    "tos",
];

fn route(world: &mut World, call: &Call) -> Outcome {
    let verbs = [
        "add", "change", "chg", "replace", "prepend", "append", "test", "delete", "list", "show", "lst", "flush",
        "get", "save", "restore", "showdump", "help",
    ];
    let verb = verb(call, &verbs)?;
    let words = call.words.get(1..).unwrap_or_default();
    match verb {
        "add" | "change" | "chg" | "replace" | "delete" | "append" | "prepend" => {}
        "flush" => return flush_routes(world, call, words),
        "restore" => return not_understood("`ip route restore` reads another file, which is not understood"),
        _ => return Ok(Effect::Nothing),
    }
    let whole = format!("`{}`{}", call.text, in_netns(&call.netns));
    let mut route = Route { to: String::new(), via: None, dev: None, metric: None };
    let mut left = Vec::new();
    let mut reading = Words::new(words);
    while let Some(word) = reading.next() {
        let mut value = || reading.value_of(word);
        match word {
            "to" => route.to = value()?.to_string(),
            "via" => {
                let mut gateway = value()?;
                if gateway == "inet" || gateway == "inet6" {
                    gateway = value()?;
                }
                route.via = Some(gateway.to_string());
            }
            "dev" | "oif" => route.dev = Some(value()?.to_string()),
            "metric" | "priority" | "preference" => {
                let text = value()?;
                let metric =
                    text.parse().map_err(|_| Skip::NotUnderstood(format!("`{word} {text}` is not a number")))?;
                route.metric = Some(metric);
            }
            "table" => {
                let table = value()?;
                if table != "main" && table != "254" {
                    return left_out(format!("{whole} (a lab's routes are in the main table)"));
                }
            }
            "unicast" => {}
            "onlink" => left.push(word.to_string()),
            "nexthop" | "nhid" => return left_out(format!("{whole} (a lab's route has one gateway)")),
            "encap" => return left_out(format!("{whole} (a lab's route has no encapsulation)")),
            _ if ROUTE_TYPES.contains(&word) && route.to.is_empty() => {
                return left_out(format!("{whole} (a lab's routes are ordinary ones, not `{word}`)"));
            }
            _ if ROUTE_SETTINGS.contains(&word) => left.push(format!("{word} {}", value()?)),
            _ if route.to.is_empty() => route.to = word.to_string(),
            _ => return not_understood(format!("`{word}` is not a setting `ip route` takes")),
        }
    }
    if route.to.is_empty() {
        return not_understood(format!("`ip route {verb}` needs a destination"));
    }
    route.to = destination(&route.to, call.family, route.via.as_deref())?;
    if let Some(via) = &route.via {
        via.parse::<std::net::IpAddr>()
            .map_err(|_| Skip::NotUnderstood(format!("`{via}` is not a gateway address")))?;
    }
    if let Some(dev) = &route.dev {
        if dev == "lo" {
            return left_out(format!("{whole} (a lab's routes go through its veths and bridges)"));
        }
        world.find(&call.netns, dev)?;
    }
    if !left.is_empty() {
        world.note(format!("`{}` of route `{}`{}", left.join(" "), route.to, in_netns(&call.netns)));
    }
    change_route(world, &call.netns, verb, route)
}

/// The destination as a lab writes it: `default`, or a network with its prefix length
/// (`ip` reads a bare address as one host). `ip -6 route add default dev X` has no gateway
/// to say its family, so it is written `::/0`.
fn destination(text: &str, family: Family, via: Option<&str>) -> Result<String, Skip> {
    if matches!(text, "default" | "all" | "any") {
        let v6_without_gateway = family == Family::V6 && via.is_none();
        return Ok(if v6_without_gateway { "::/0" } else { "default" }.to_string());
    }
    let text = if text.contains('/') { text.to_string() } else { interface_address(text)? };
    parse_destination(&text).map_err(Skip::NotUnderstood)?;
    Ok(text.parse::<IpNet>().map(|net| net.to_string()).unwrap_or(text))
}

fn change_route(world: &mut World, netns: &Netns, verb: &str, route: Route) -> Outcome {
    let routes = &mut world.namespace_mut(netns)?.routes;
    let same = |given: &Route| given.to == route.to && given.metric == route.metric && is_v6(given) == is_v6(&route);
    let present = routes.iter().position(same);
    match (verb, present) {
        ("delete", _) => {
            let matches = |given: &Route| {
                given.to == route.to
                    && (route.via.is_none() || is_v6(given) == is_v6(&route))
                    && (route.via.is_none() || given.via == route.via)
                    && (route.dev.is_none() || given.dev == route.dev)
                    && (route.metric.is_none() || given.metric == route.metric)
            };
            let Some(at) = routes.iter().position(matches) else {
                return not_understood(format!("there is no route to `{}` to delete", route.to));
            };
            routes.remove(at);
        }
        ("add" | "prepend" | "append", Some(_)) => {
            return not_understood(format!("a route to `{}` with that metric exists already", route.to));
        }
        ("change" | "chg", None) => return not_understood(format!("there is no route to `{}` to change", route.to)),
        (_, Some(at)) => routes[at] = route,
        (_, None) => routes.push(route),
    }
    Ok(Effect::Changed)
}

/// A route's family: its destination's, or for `default` its gateway's (IPv4 without).
fn is_v6(route: &Route) -> bool {
    match route.to.as_str() {
        "default" => route.via.as_deref().is_some_and(|via| via.contains(':')),
        to => to.contains(':'),
    }
}

fn flush_routes(world: &mut World, call: &Call, words: &[&str]) -> Outcome {
    let dev = match words {
        ["dev", dev, ..] => Some(*dev),
        _ => None,
    };
    let routes = &mut world.namespace_mut(&call.netns)?.routes;
    routes.retain(|route| dev.is_some_and(|dev| route.dev.as_deref() != Some(dev)));
    Ok(Effect::Changed)
}
