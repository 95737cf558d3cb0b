//! The commands a node of another tool runs inside itself at start (containerlab's `exec:`,
//! Kathará's `NAME.startup`): `ip addr`, `ip route`, `ip link set`, `ifconfig`, `route`,
//! `sysctl` forwarding and `tc ... netem`, read into the node's interfaces and routes.
//! Every other command (a daemon started, a file written) is named as left out, with its
//! place; comments and blank lines are skipped.
//!
//! The `ip` script importer (`ip_script.rs`) reads whole scripts that also make the
//! namespaces and veths; here the node and its interfaces already exist and each line runs
//! inside one node, as the container runs it.

use std::net::{IpAddr, Ipv4Addr};

use crate::lab::{Node, Route};
use crate::netem::{parse_chance, parse_rate, parse_time, Netem};

use super::draft::Draft;

/// Runs `lines` (each with its place) in `node`.
pub(crate) fn run<'a>(draft: &mut Draft, node: &str, lines: impl IntoIterator<Item = (String, &'a str)>) {
    for (place, line) in lines {
        for command in commands_of(line) {
            if let Err(why) = run_one(draft, node, &command) {
                draft.leave_out(place.clone(), why);
            }
        }
    }
}

/// The commands of a line: without its comment, split at `;` and `&&`, quotes removed.
fn commands_of(line: &str) -> Vec<Vec<String>> {
    let without_comment = match line.find(" #").or_else(|| line.trim_start().starts_with('#').then_some(0)) {
        Some(at) => &line[..at],
        None => line,
    };
    without_comment
        .split(';')
        .flat_map(|part| part.split("&&"))
        .map(|part| part.split_whitespace().map(|word| word.trim_matches(['"', '\'']).to_string()).collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect()
}

type Outcome = Result<(), String>;

fn run_one(draft: &mut Draft, node: &str, words: &[String]) -> Outcome {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let words = match words.first() {
        Some(&"sudo") => &words[1..],
        _ => &words[..],
    };
    let outcome = match words.first().copied() {
        Some("ip") => ip(draft, node, &words[1..]),
        Some("ifconfig") => ifconfig(draft, node, &words[1..]),
        Some("route") => route(draft, node, &words[1..]),
        Some("sysctl") => sysctl(draft, node, &words[1..]),
        Some("echo") => echo_to_proc(draft, node, &words[1..]),
        Some("tc") => tc(draft, node, &words[1..]),
        _ => Err(String::new()),
    };
    // Only a missing interface is worth saying: anything else is a command nslab does not
    // model, and the command itself says what it is.
    outcome.map_err(|why| match why.starts_with(NO_LINK) {
        true => format!("`{}` ({why})", words.join(" ")),
        false => format!("`{}`", words.join(" ")),
    })
}

const NO_LINK: &str = "no link of";

/// `ip [-4|-6] addr|route|link ...`
fn ip(draft: &mut Draft, node: &str, words: &[&str]) -> Outcome {
    let mut six = false;
    let mut rest = words;
    while let Some(option) = rest.first().filter(|word| word.starts_with('-')) {
        match *option {
            "-6" => six = true,
            "-4" => {}
            _ => return Err("an option not read".into()),
        }
        rest = &rest[1..];
    }
    let (object, verb, args) = match rest {
        [object, verb, args @ ..] => (*object, *verb, args),
        _ => return Err("too short".into()),
    };
    match (object_word(object), verb) {
        ("address", "add" | "replace" | "a") => ip_address_add(draft, node, args),
        ("route", "add" | "replace" | "append" | "a") => ip_route_add(draft, node, args, six),
        ("link", "set") => ip_link_set(draft, node, args),
        _ => Err("not read".into()),
    }
}

/// `a`, `addr`, `address` all mean `address`, as `ip` reads its objects' prefixes.
fn object_word(word: &str) -> &'static str {
    let is_prefix_of = |full: &str| !word.is_empty() && full.starts_with(word);
    if is_prefix_of("address") {
        "address"
    } else if word.len() >= 2 && is_prefix_of("route") || word == "r" {
        "route"
    } else if is_prefix_of("link") {
        "link"
    } else {
        "other"
    }
}

fn ip_address_add(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let mut address = None;
    let mut dev = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match *word {
            "dev" => dev = words.next().copied(),
            "local" => address = words.next().copied(),
            "broadcast" | "brd" | "label" | "scope" | "valid_lft" | "preferred_lft" => {
                words.next();
            }
            other if address.is_none() => address = Some(other),
            _ => return Err("a word not read".into()),
        }
    }
    let (address, dev) = address.zip(dev).ok_or("no address or no device")?;
    add_address(draft, node, dev, &with_prefix(address)?)
}

/// An address with its prefix length; a bare one is a host address, as `ip` takes it.
fn with_prefix(address: &str) -> Result<String, String> {
    if address.contains('/') {
        address.parse::<ipnet::IpNet>().map_err(|_| "not an address".to_string())?;
        return Ok(address.to_string());
    }
    let ip: IpAddr = address.parse().map_err(|_| "not an address".to_string())?;
    Ok(format!("{ip}/{}", if ip.is_ipv4() { 32 } else { 128 }))
}

fn add_address(draft: &mut Draft, node: &str, dev: &str, address: &str) -> Outcome {
    let end = interface(draft, node, dev)?;
    if !end.addresses.iter().any(|known| known == address) {
        end.addresses.push(address.to_string());
    }
    Ok(())
}

/// The end of a link called `dev` on `node`, or why there is none.
fn interface<'d>(draft: &'d mut Draft, node: &str, dev: &str) -> Result<&'d mut crate::lab::Endpoint, String> {
    draft.endpoint_mut(node, dev).ok_or_else(|| format!("{NO_LINK} {node} ends in `{dev}`"))
}

fn ip_route_add(draft: &mut Draft, node: &str, args: &[&str], six: bool) -> Outcome {
    let mut route = Route { to: String::new(), via: None, dev: None, metric: None };
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match *word {
            "via" => route.via = Some(words.next().ok_or("no gateway")?.to_string()),
            "dev" => route.dev = Some(words.next().ok_or("no device")?.to_string()),
            "metric" | "preference" | "priority" => {
                route.metric = Some(words.next().ok_or("no metric")?.parse().map_err(|_| "not a metric")?)
            }
            "proto" | "onlink" | "table" | "src" | "scope" | "mtu" => return Err("a route setting not kept".into()),
            to if route.to.is_empty() => route.to = to.to_string(),
            _ => return Err("a word not read".into()),
        }
    }
    if route.to.is_empty() {
        return Err("no destination".into());
    }
    if six && route.to == "default" && route.via.is_none() {
        route.to = "::/0".to_string();
    }
    add_route(draft, node, route)
}

fn add_route(draft: &mut Draft, node: &str, route: Route) -> Outcome {
    if let Some(dev) = &route.dev {
        interface(draft, node, dev)?;
    }
    let routes = match draft.node_mut(node) {
        Some(Node::Namespace(namespace)) => &mut namespace.routes,
        Some(Node::Host(host)) => &mut host.routes,
        _ => return Err("not a namespace".into()),
    };
    if !routes.contains(&route) {
        routes.push(route);
    }
    Ok(())
}

/// `ip link set [dev] DEV up|down|mtu N|address MAC ...`
fn ip_link_set(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let args = if args.first() == Some(&"dev") { &args[1..] } else { args };
    let (dev, settings) = args.split_first().ok_or("no device")?;
    if *dev == "lo" {
        return loopback(draft, node, settings);
    }
    let end = interface(draft, node, dev)?;
    let mut words = settings.iter();
    while let Some(word) = words.next() {
        match *word {
            "up" => end.up = true,
            "down" => end.up = false,
            "mtu" => end.mtu = Some(words.next().ok_or("no mtu")?.parse().map_err(|_| "not an mtu")?),
            "address" => end.mac = Some(words.next().ok_or("no address")?.to_ascii_lowercase()),
            _ => return Err("a setting not kept".into()),
        }
    }
    Ok(())
}

fn loopback(draft: &mut Draft, node: &str, settings: &[&str]) -> Outcome {
    let Some(Node::Namespace(namespace)) = draft.node_mut(node) else { return Err("not a namespace".into()) };
    match settings {
        ["up"] => namespace.loopback_up = true,
        ["down"] => namespace.loopback_up = false,
        _ => return Err("a setting not kept".into()),
    }
    Ok(())
}

/// `ifconfig DEV [inet] [ADDR[/LEN]] [netmask MASK] [mtu N] [hw ether MAC] [up|down]`,
/// `ifconfig DEV inet6 add ADDR/LEN`.
fn ifconfig(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let (dev, settings) = args.split_first().ok_or("no device")?;
    if *dev == "lo" {
        return loopback(draft, node, settings);
    }
    let mut address: Option<String> = None;
    let mut netmask: Option<Ipv4Addr> = None;
    let mut words = settings.iter();
    while let Some(word) = words.next() {
        match *word {
            "inet" => {}
            "inet6" => {
                let verb = words.next().ok_or("no verb")?;
                let six = words.next().ok_or("no address")?;
                if *verb != "add" {
                    return Err("not read".into());
                }
                let six = with_prefix(six)?;
                add_address(draft, node, dev, &six)?;
            }
            "netmask" => netmask = Some(words.next().ok_or("no mask")?.parse().map_err(|_| "not a mask")?),
            "up" => interface(draft, node, dev)?.up = true,
            "down" => interface(draft, node, dev)?.up = false,
            "mtu" => interface(draft, node, dev)?.mtu = Some(words.next().ok_or("no mtu")?.parse().map_err(|_| "no")?),
            "hw" => {
                words.next();
                let mac = words.next().ok_or("no address")?.to_ascii_lowercase();
                interface(draft, node, dev)?.mac = Some(mac);
            }
            "broadcast" => {
                words.next();
            }
            other if address.is_none() => address = Some(other.to_string()),
            _ => return Err("a word not read".into()),
        }
    }
    if let Some(address) = address {
        let address = ipv4_with_mask(&address, netmask)?;
        add_address(draft, node, dev, &address)?;
    }
    Ok(())
}

/// An IPv4 address with the prefix length of its `netmask`, or of its class when it has
/// neither (as `ifconfig` does).
fn ipv4_with_mask(address: &str, netmask: Option<Ipv4Addr>) -> Result<String, String> {
    if address.contains('/') {
        return with_prefix(address);
    }
    let ip: Ipv4Addr = address.parse().map_err(|_| "not an address".to_string())?;
    let length = match netmask {
        Some(mask) => mask_length(mask)?,
        None => match ip.octets()[0] {
            0..=127 => 8,
            128..=191 => 16,
            _ => 24,
        },
    };
    Ok(format!("{ip}/{length}"))
}

fn mask_length(mask: Ipv4Addr) -> Result<u32, String> {
    let bits = u32::from(mask);
    if bits.leading_ones() + bits.trailing_zeros() != 32 {
        return Err("not a netmask".into());
    }
    Ok(bits.leading_ones())
}

/// `route add default gw GW [dev DEV]`, `route add -net NET netmask MASK gw GW [dev DEV]`,
/// `route add -net NET/LEN ...`, `route add -host ADDR ...`.
fn route(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let (verb, args) = args.split_first().ok_or("too short")?;
    if *verb != "add" {
        return Err("not read".into());
    }
    let mut to: Option<String> = None;
    let mut host = false;
    let mut netmask = None;
    let mut route = Route { to: String::new(), via: None, dev: None, metric: None };
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match *word {
            "-net" => {}
            "-host" => host = true,
            "default" => to = Some("default".into()),
            "netmask" => netmask = Some(words.next().ok_or("no mask")?.parse().map_err(|_| "not a mask")?),
            "gw" => route.via = Some(words.next().ok_or("no gateway")?.to_string()),
            "dev" => route.dev = Some(words.next().ok_or("no device")?.to_string()),
            "metric" => route.metric = Some(words.next().ok_or("no metric")?.parse().map_err(|_| "not a metric")?),
            other if to.is_none() => to = Some(other.to_string()),
            other if route.dev.is_none() => route.dev = Some(other.to_string()),
            _ => return Err("a word not read".into()),
        }
    }
    let to = to.ok_or("no destination")?;
    route.to = match (to.as_str(), host, netmask) {
        ("default", _, _) => to,
        (_, true, _) => with_prefix(&to)?,
        (_, false, Some(mask)) => ipv4_with_mask(&to, Some(mask))?,
        (_, false, None) => ipv4_with_mask(&to, None)?,
    };
    add_route(draft, node, route)
}

/// `sysctl [-w] net.ipv4.ip_forward=1` and the IPv6 `all.forwarding`.
fn sysctl(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let settings: Vec<&str> = args.iter().copied().filter(|word| !word.starts_with('-')).collect();
    if settings.is_empty() {
        return Err("no setting".into());
    }
    for setting in settings {
        let (key, value) = setting.split_once('=').ok_or("no value")?;
        forwarding(draft, node, key.trim(), value.trim())?;
    }
    Ok(())
}

/// `echo 1 > /proc/sys/net/ipv4/ip_forward`
fn echo_to_proc(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let [value, ">", path] = args else { return Err("not read".into()) };
    let key = path.strip_prefix("/proc/sys/").ok_or("not a setting")?.replace('/', ".");
    forwarding(draft, node, &key, value)
}

fn forwarding(draft: &mut Draft, node: &str, key: &str, value: &str) -> Outcome {
    let on = match value {
        "1" => true,
        "0" => false,
        _ => return Err("not 0 or 1".into()),
    };
    let six = match key {
        "net.ipv4.ip_forward" | "net.ipv4.conf.all.forwarding" => false,
        "net.ipv6.conf.all.forwarding" => true,
        _ => return Err("a setting not kept".into()),
    };
    match (draft.node_mut(node), six) {
        (Some(Node::Namespace(namespace)), false) => namespace.ipv4_forwarding = on,
        (Some(Node::Namespace(namespace)), true) => namespace.ipv6_forwarding = on,
        (Some(Node::Host(host)), false) => host.ipv4_forwarding = Some(on),
        (Some(Node::Host(host)), true) => host.ipv6_forwarding = Some(on),
        _ => return Err("not a namespace".into()),
    }
    Ok(())
}

/// `tc qdisc add|replace dev DEV root netem ARGS`
fn tc(draft: &mut Draft, node: &str, args: &[&str]) -> Outcome {
    let ["qdisc", "add" | "replace" | "change", "dev", dev, "root", "netem", rest @ ..] = args else {
        return Err("not read".into());
    };
    let netem = netem_of(rest)?;
    interface(draft, node, dev)?.netem = Some(netem);
    Ok(())
}

/// `tc`'s netem arguments as a lab writes them; each is checked as the lab reads it.
pub(crate) fn netem_of(args: &[&str]) -> Result<Netem, String> {
    let mut netem = Netem::default();
    let mut words = args.iter().peekable();
    let checked = |text: &str, parse: fn(&str) -> Result<u64, String>| parse(text).map(|_| text.to_string());
    while let Some(word) = words.next() {
        let mut value = || words.next().copied().ok_or_else(|| format!("`{word}` has no value"));
        match *word {
            "delay" => {
                netem.delay = Some(checked(value()?, parse_time)?);
                if let Some(jitter) = words.peek().filter(|next| parse_time(next).is_ok()) {
                    netem.jitter = Some(jitter.to_string());
                    words.next();
                }
            }
            "loss" => {
                let mut chance = value()?;
                if chance == "random" {
                    chance = words.next().ok_or("`loss` has no value")?;
                }
                netem.loss = Some(checked(chance, parse_chance)?);
            }
            "duplicate" => netem.duplicate = Some(checked(value()?, parse_chance)?),
            "corrupt" => netem.corrupt = Some(checked(value()?, parse_chance)?),
            "reorder" => netem.reorder = Some(checked(value()?, parse_chance)?),
            "rate" => netem.rate = Some(checked(value()?, parse_rate)?),
            "limit" => netem.limit = Some(value()?.parse().map_err(|_| "not a limit".to_string())?),
            _ => return Err(format!("`{word}` not read")),
        }
    }
    // `delay 0ms 10ms` is how `tc` takes a jitter alone (see `startup::netem_args`).
    if netem.jitter.is_some() && netem.delay.as_deref() == Some("0ms") {
        netem.delay = None;
    }
    Ok(netem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Endpoint;

    fn two_nodes() -> Draft {
        let mut draft = Draft::new("lab");
        draft.add_namespace("r1", None);
        draft.add_namespace("r2", None);
        draft.connect(Endpoint::new("r1", "eth0"), Endpoint::new("r2", "eth0"));
        draft
    }

    fn run_lines(draft: &mut Draft, node: &str, text: &str) {
        let lines = text.lines().enumerate().map(|(index, line)| (format!("line {}", index + 1), line));
        run(draft, node, lines);
    }

    #[test]
    fn addresses_routes_and_forwarding_are_read_in_each_spelling() {
        let mut draft = two_nodes();
        run_lines(
            &mut draft,
            "r1",
            "ip address add 10.0.0.1/24 dev eth0\n\
             ip -6 addr add 2001:db8::1/64 dev eth0 # the v6 one\n\
             ifconfig eth0 192.168.1.1 netmask 255.255.255.0 up\n\
             ip route add 10.1.0.0/16 via 10.0.0.2 dev eth0\n\
             route add default gw 10.0.0.2\n\
             route add -net 172.16.0.0 netmask 255.240.0.0 gw 10.0.0.2 dev eth0\n\
             sysctl -w net.ipv4.ip_forward=1\n\
             echo 1 > /proc/sys/net/ipv6/conf/all/forwarding\n\
             ip link set dev eth0 mtu 1400 address 02:00:00:00:00:01\n\
             tc qdisc add dev eth0 root netem delay 10ms 2ms loss 1%\n\
             # a comment\n",
        );
        assert_eq!(draft.left_out, vec![]);
        let end = draft.endpoint_mut("r1", "eth0").unwrap().clone();
        assert_eq!(end.addresses, ["10.0.0.1/24", "2001:db8::1/64", "192.168.1.1/24"]);
        assert_eq!((end.mtu, end.mac.as_deref()), (Some(1400), Some("02:00:00:00:00:01")));
        let netem = end.netem.unwrap();
        assert_eq!(
            (netem.delay.as_deref(), netem.jitter.as_deref(), netem.loss.as_deref()),
            (Some("10ms"), Some("2ms"), Some("1%"))
        );
        let Some(Node::Namespace(r1)) = draft.lab.node("r1").cloned() else { panic!() };
        assert!(r1.ipv4_forwarding && r1.ipv6_forwarding);
        let routes: Vec<(String, Option<String>)> = r1.routes.into_iter().map(|r| (r.to, r.via)).collect();
        assert_eq!(
            routes,
            [
                ("10.1.0.0/16".to_string(), Some("10.0.0.2".to_string())),
                ("default".to_string(), Some("10.0.0.2".to_string())),
                ("172.16.0.0/12".to_string(), Some("10.0.0.2".to_string())),
            ]
        );
    }

    #[test]
    fn what_is_not_kept_is_named_with_its_place() {
        let mut draft = two_nodes();
        run_lines(
            &mut draft,
            "r2",
            "systemctl start frr\nip addr add 10.0.0.2/24 dev eth7\n\nip route add 1.0.0.0/8 proto bgp",
        );
        let named: Vec<String> = draft.left_out.iter().map(ToString::to_string).collect();
        assert_eq!(
            named,
            [
                "line 1: `systemctl start frr`",
                "line 2: `ip addr add 10.0.0.2/24 dev eth7` (no link of r2 ends in `eth7`)",
                "line 4: `ip route add 1.0.0.0/8 proto bgp`",
            ]
        );
    }
}
