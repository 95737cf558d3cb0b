//! The other tools a tutorial uses beside `ip`: `ifconfig` and `brctl` as net-tools and
//! bridge-utils read them, `sysctl` (and `echo 1 > /proc/sys/...`) for forwarding, `tc`
//! for a veth's netem, and the commands that only look (`ping`, `ls`).

use std::net::Ipv4Addr;

use super::ip::set_master;
use super::line::Word;
use super::words::Words;
use super::world::{Kind, World};
use super::{left_out, not_understood, Effect, Outcome, Skip};
use crate::identity::Netns;
use crate::netem::{parse_chance, parse_time, Netem};

fn plain(args: &[Word]) -> Result<Vec<&str>, Skip> {
    args.iter()
        .map(|word| match word.expands {
            true => not_understood(format!("`{}`: shell variables and substitutions are not understood", word.text)),
            false => Ok(word.text.as_str()),
        })
        .collect()
}

/// `ifconfig DEV [ADDR[/PREFIX]] [netmask MASK] [up|down] [mtu N] [hw ether MAC]`; setting
/// an IPv4 address replaces the first one and brings the interface up, as net-tools does.
pub fn ifconfig(world: &mut World, netns: &Netns, args: &[Word]) -> Outcome {
    let args = plain(args)?;
    let [dev, settings @ ..] = args.as_slice() else { return Ok(Effect::Nothing) };
    if dev.starts_with('-') || settings.is_empty() {
        return Ok(Effect::Nothing);
    }
    if *dev == "lo" {
        let up = settings.iter().rev().find_map(|word| match *word {
            "up" => Some(true),
            "down" => Some(false),
            _ => None,
        });
        let namespace = world.namespace_mut(netns)?;
        return match (up, settings.len()) {
            (Some(up), 1) => {
                namespace.loopback_up = up;
                Ok(Effect::Changed)
            }
            _ => left_out(format!("`ifconfig lo {}` (a lab keeps only whether `lo` is up)", settings.join(" "))),
        };
    }
    let index = world.find(netns, dev)?;
    let mut address: Option<(Ipv4Addr, Option<u8>)> = None;
    let mut netmask = None;
    let mut up = None;
    let mut left = Vec::new();
    let mut reading = Words::new(settings);
    while let Some(word) = reading.next() {
        let mut value = || reading.value_of(word);
        match word {
            "up" => up = Some(true),
            "down" => up = Some(false),
            "inet" => {}
            "netmask" => netmask = Some(mask_length(value()?)?),
            "mtu" => {
                let text = value()?;
                let mtu = text.parse().map_err(|_| Skip::NotUnderstood(format!("`mtu {text}` is not a number")))?;
                world.interface_mut(index).mtu = Some(mtu);
            }
            "hw" => {
                let class = value()?;
                let mac = value()?;
                if class != "ether" {
                    return not_understood(format!("`hw {class}`: only `hw ether MAC` is understood"));
                }
                crate::address::parse_mac(mac).map_err(Skip::NotUnderstood)?;
                world.interface_mut(index).mac = Some(mac.to_string());
            }
            "inet6" | "add" | "del" => {
                let (verb, text) = if word == "inet6" { (value()?, value()?) } else { (word, value()?) };
                let net: ipnet::Ipv6Net = text.parse().map_err(|_| {
                    Skip::NotUnderstood(format!("`{text}` is not an IPv6 address with a prefix length"))
                })?;
                let addresses = &mut world.interface_mut(index).addresses;
                let text = net.to_string();
                match verb {
                    "add" if !addresses.contains(&text) => addresses.push(text),
                    "del" => addresses.retain(|given| *given != text),
                    "add" => {}
                    _ => return not_understood(format!("`inet6 {verb}`: use `inet6 add` or `inet6 del`")),
                }
            }
            "broadcast" | "pointopoint" | "dstaddr" | "txqueuelen" | "metric" => {
                left.push(format!("{word} {}", value()?))
            }
            "promisc" | "-promisc" | "arp" | "-arp" | "allmulti" | "-allmulti" | "multicast" | "-multicast" => {
                left.push(word.to_string())
            }
            _ if address.is_none() => address = Some(ipv4_with_prefix(word)?),
            _ => return not_understood(format!("`{word}` is not a setting `ifconfig` takes")),
        }
    }
    if let Some((ip, prefix)) = address {
        let prefix = netmask.or(prefix).unwrap_or_else(|| classful(ip));
        set_first_ipv4(world, index, format!("{ip}/{prefix}"));
        up = up.or(Some(true));
    } else if let Some(prefix) = netmask {
        let addresses = &mut world.interface_mut(index).addresses;
        let Some(first) = addresses.iter_mut().find(|address| !address.contains(':')) else {
            return not_understood(format!("`{dev}` has no IPv4 address to give a netmask"));
        };
        let ip = first.split('/').next().unwrap_or_default().to_string();
        *first = format!("{ip}/{prefix}");
    }
    if let Some(up) = up {
        world.interface_mut(index).up = up;
    }
    if !left.is_empty() {
        world.note(format!("`{}` of `{dev}`", left.join(" ")));
    }
    Ok(Effect::Changed)
}

fn ipv4_with_prefix(text: &str) -> Result<(Ipv4Addr, Option<u8>), Skip> {
    let bad = || Skip::NotUnderstood(format!("`{text}` is not an IPv4 address (for IPv6, `inet6 add ADDR/PREFIX`)"));
    let (ip, prefix) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(bad)?)),
        None => (text, None),
    };
    Ok((ip.parse().map_err(|_| bad())?, prefix))
}

/// The prefix length of a netmask such as `255.255.0.0`.
fn mask_length(text: &str) -> Result<u8, Skip> {
    let mask: Ipv4Addr = text.parse().map_err(|_| Skip::NotUnderstood(format!("`{text}` is not a netmask")))?;
    let bits = u32::from(mask);
    if bits.leading_ones() + bits.trailing_zeros() != 32 {
        return not_understood(format!("`{text}` is not a netmask (its ones must come first)"));
    }
    Ok(bits.leading_ones() as u8)
}

/// The prefix net-tools gives an address without one: its old class's.
fn classful(ip: Ipv4Addr) -> u8 {
    match ip.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

fn set_first_ipv4(world: &mut World, index: usize, address: String) {
    let addresses = &mut world.interface_mut(index).addresses;
    match addresses.iter_mut().find(|given| !given.contains(':')) {
        Some(first) => *first = address,
        None => addresses.push(address),
    }
}

/// `brctl addbr|delbr|addif|delif|stp|show`.
pub fn brctl(world: &mut World, netns: &Netns, args: &[Word]) -> Outcome {
    let args = plain(args)?;
    match args.as_slice() {
        [] | ["show" | "showmacs" | "showstp", ..] => Ok(Effect::Nothing),
        ["addbr", name] => {
            world.check_namespace(netns)?;
            let name = world.new_name(netns, Some(name), "")?;
            world.add_interface(netns.clone(), name, Kind::Bridge);
            Ok(Effect::Changed)
        }
        ["delbr", name] => {
            let index = world.find(netns, name)?;
            if world.interface(index).up {
                return not_understood(format!("bridge `{name}` is still up; bring it down first"));
            }
            world.delete_interface(index);
            Ok(Effect::Changed)
        }
        ["addif", bridge, ports @ ..] if !ports.is_empty() => {
            for port in ports {
                let index = world.find(netns, port)?;
                set_master(world, index, bridge)?;
            }
            Ok(Effect::Changed)
        }
        ["delif", _bridge, ports @ ..] if !ports.is_empty() => {
            for port in ports {
                let index = world.find(netns, port)?;
                world.interface_mut(index).master = None;
            }
            Ok(Effect::Changed)
        }
        ["stp", bridge, "off" | "no"] => world.find(netns, bridge).map(|_| Effect::Nothing),
        [setting, bridge, ..] if setting.starts_with("set") || *setting == "stp" || *setting == "hairpin" => {
            world.find(netns, bridge)?;
            left_out(format!("`brctl {}` (a lab keeps no bridge settings)", args.join(" ")))
        }
        _ => not_understood(format!("`brctl {}` is not understood", args.join(" "))),
    }
}

/// `sysctl [-w] [-q] KEY=VALUE...`: forwarding is kept; other settings are left out.
pub fn sysctl(world: &mut World, netns: &Netns, args: &[Word]) -> Outcome {
    let args = plain(args)?;
    let mut changed = false;
    let mut left = Vec::new();
    for word in &args {
        match *word {
            "-p" | "--load" | "--system" => {
                return not_understood("`sysctl -p` reads another file, which is not understood")
            }
            option if option.starts_with('-') => {}
            setting => {
                if let Some((key, value)) = setting.split_once('=') {
                    match set_forwarding(world, netns, key, value)? {
                        true => changed = true,
                        false => left.push(setting.to_string()),
                    }
                }
            }
        }
    }
    if !left.is_empty() {
        let what = format!("`{}`{} (a lab keeps only forwarding)", left.join(" "), in_netns(netns));
        if !changed {
            return left_out(what);
        }
        world.note(what);
    }
    Ok(if changed { Effect::Changed } else { Effect::Nothing })
}

/// Sets forwarding if `key` is one of its settings; false when it is another setting.
fn set_forwarding(world: &mut World, netns: &Netns, key: &str, value: &str) -> Result<bool, Skip> {
    let key = key.trim().replace('/', ".");
    let v4 = matches!(key.as_str(), "net.ipv4.ip_forward" | "net.ipv4.conf.all.forwarding");
    let v6 = key == "net.ipv6.conf.all.forwarding";
    if !v4 && !v6 {
        return Ok(false);
    }
    let on = match value.trim() {
        "1" => true,
        "0" => false,
        other => return not_understood(format!("`{key}={other}`: forwarding is 0 or 1")),
    };
    let namespace = world.namespace_mut(netns)?;
    if v4 {
        namespace.ipv4_forwarding = Some(on);
    } else {
        namespace.ipv6_forwarding = Some(on);
    }
    Ok(true)
}

/// `echo 1 > /proc/sys/net/ipv4/ip_forward`: forwarding as `sysctl` sets it.
pub fn echo(world: &mut World, netns: &Netns, args: &[Word], output: Option<&str>) -> Outcome {
    let Some(key) = output.and_then(|path| path.strip_prefix("/proc/sys/")) else { return Ok(Effect::Nothing) };
    let args = plain(args)?;
    let value = args.join(" ");
    match set_forwarding(world, netns, key, &value)? {
        true => Ok(Effect::Changed),
        false => left_out(format!(
            "`{}` = `{value}`{} (a lab keeps only forwarding)",
            key.replace('/', "."),
            in_netns(netns)
        )),
    }
}

fn in_netns(netns: &Netns) -> String {
    match netns {
        Netns::Host => String::new(),
        Netns::Named(name) => format!(" in `{name}`"),
    }
}

/// `tc [-n NS] qdisc add|replace|change|del dev DEV root netem ...`: a veth end's netem.
pub fn tc(world: &mut World, netns: &Netns, args: &[Word]) -> Outcome {
    let args = plain(args)?;
    let (netns, args) = match args.as_slice() {
        ["-n" | "-netns", name, rest @ ..] => (Netns::Named(name.to_string()), rest),
        rest => (netns.clone(), rest),
    };
    let whole = format!("`tc {}`{}", args.join(" "), in_netns(&netns));
    match args {
        ["qdisc" | "q", "show" | "list" | "ls", ..] | ["qdisc" | "q"] | [_, "show" | "list" | "ls", ..] => {
            Ok(Effect::Nothing)
        }
        ["qdisc" | "q", "add" | "replace" | "change", "dev", dev, "root", "netem", netem_args @ ..] => {
            let index = netem_interface(world, &netns, dev)?;
            let (netem, left) = read_netem(netem_args)?;
            if let Err(errors) = netem.parse() {
                let why: Vec<String> =
                    errors.into_iter().map(|error| format!("{}: {}", error.field, error.message)).collect();
                return not_understood(why.join("; "));
            }
            world.interface_mut(index).netem = Some(netem);
            if !left.is_empty() {
                world.note(format!("netem `{}` of `{dev}`", left.join(" ")));
            }
            Ok(Effect::Changed)
        }
        ["qdisc" | "q", "del" | "delete", "dev", dev, "root", ..] => {
            let index = netem_interface(world, &netns, dev)?;
            world.interface_mut(index).netem = None;
            Ok(Effect::Changed)
        }
        _ => left_out(format!("{whole} (a lab's only queueing discipline is a veth's root netem)")),
    }
}

fn netem_interface(world: &World, netns: &Netns, dev: &str) -> Result<usize, Skip> {
    let index = world.find(netns, dev)?;
    match world.interface(index).kind {
        Kind::Veth { .. } => Ok(index),
        _ => left_out(format!("a netem on bridge `{dev}` (a lab impairs veth ends only)")),
    }
}

/// netem's arguments as a lab writes them, and those a lab does not hold (correlations,
/// distributions), as written.
fn read_netem(args: &[&str]) -> Result<(Netem, Vec<String>), Skip> {
    let mut netem = Netem::default();
    let mut left = Vec::new();
    let mut at = 0;
    let is_time = |word: &str| parse_time(word).is_ok();
    let is_chance = |word: &str| word.ends_with('%') && parse_chance(word).is_ok();
    while at < args.len() {
        let word = args[at];
        let value = |at: usize| {
            args.get(at + 1)
                .map(|value| value.to_string())
                .ok_or_else(|| Skip::NotUnderstood(format!("`{word}` needs a value")))
        };
        match word {
            "limit" => {
                let text = value(at)?;
                netem.limit =
                    Some(text.parse().map_err(|_| Skip::NotUnderstood(format!("`limit {text}` is not a number")))?);
                at += 1;
            }
            "delay" | "latency" => {
                netem.delay = Some(value(at)?);
                at += 1;
                if args.get(at + 1).is_some_and(|next| is_time(next)) {
                    netem.jitter = Some(args[at + 1].to_string());
                    at += 1;
                }
            }
            "loss" | "drop" | "duplicate" | "corrupt" | "reorder" => {
                if args.get(at + 1) == Some(&"random") {
                    at += 1;
                }
                let chance = value(at)?;
                at += 1;
                let field = match word {
                    "loss" | "drop" => &mut netem.loss,
                    "duplicate" => &mut netem.duplicate,
                    "corrupt" => &mut netem.corrupt,
                    _ => &mut netem.reorder,
                };
                *field = Some(chance);
            }
            "rate" => {
                netem.rate = Some(value(at)?);
                at += 1;
            }
            "distribution" | "gap" | "seed" | "slot" => {
                left.push(format!("{word} {}", value(at)?));
                at += 1;
            }
            _ if is_chance(word) => left.push(format!("correlation {word}")),
            _ => left.push(word.to_string()),
        }
        at += 1;
    }
    Ok((netem, left))
}

/// Commands that only look at the kernel; `bridge` also changes what a lab does not hold.
pub fn looks_only(program: &str, args: &[Word]) -> Outcome {
    let changes = ["add", "del", "delete", "replace", "set", "change"];
    if program == "bridge" && args.iter().any(|word| changes.contains(&word.text.as_str())) {
        let words: Vec<&str> = args.iter().map(|word| word.text.as_str()).collect();
        return left_out(format!("`bridge {}` (a lab keeps no VLAN or forwarding database settings)", words.join(" ")));
    }
    Ok(Effect::Nothing)
}
