//! The commands that set a lab's namespace up from inside it, as a container or a Mininet
//! host runs them at start: its interfaces' MTU, MAC, state, addresses and impairment, its
//! forwarding and its routes. containerlab's `exec:` lines, Kathará's `.startup` files,
//! CORE's custom service and Mininet's `cmd` calls are all these lines; `node_commands`
//! reads them back.

use std::fmt::Write;

use crate::lab::{Endpoint, Lab, NamespaceNode, Node, Route};
use crate::netem::Netem;

/// How a format calls an interface of the lab (Kathará's are `ethN`).
pub(crate) type Rename<'a> = &'a dyn Fn(&str) -> String;

/// Every setting of a namespace node, as commands run inside it; none for other nodes.
pub(crate) fn setup_lines(lab: &Lab, node: &Node, rename: Rename) -> Vec<String> {
    let Node::Namespace(namespace) = node else { return Vec::new() };
    let mut lines = Vec::new();
    if !namespace.loopback_up {
        lines.push("ip link set dev lo down".to_string());
    }
    for end in ends_on(lab, &namespace.name) {
        lines.extend(interface_lines(end, &rename(&end.name)));
    }
    lines.extend(forwarding_lines(namespace));
    lines.extend(namespace.routes.iter().map(|route| route_line(route, rename)));
    lines
}

/// The link ends on a node, in the lab's order.
pub(crate) fn ends_on<'l>(lab: &'l Lab, node: &str) -> Vec<&'l Endpoint> {
    lab.links.iter().flat_map(|link| link.ends()).filter(|end| end.node == node).collect()
}

/// `ip` and `tc` commands for an interface's settings, the interface called `dev`.
pub(crate) fn interface_lines(end: &Endpoint, dev: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(mtu) = end.mtu {
        lines.push(format!("ip link set dev {dev} mtu {mtu}"));
    }
    if let Some(mac) = &end.mac {
        lines.push(format!("ip link set dev {dev} address {mac}"));
    }
    lines.push(format!("ip link set dev {dev} {}", if end.up { "up" } else { "down" }));
    for address in &end.addresses {
        lines.push(format!("ip address add {address} dev {dev}"));
    }
    if let Some(netem) = &end.netem {
        lines.push(format!("tc qdisc add dev {dev} root netem {}", netem_args(netem)));
    }
    lines
}

pub(crate) fn forwarding_lines(namespace: &NamespaceNode) -> Vec<String> {
    let mut lines = Vec::new();
    if namespace.ipv4_forwarding {
        lines.push("sysctl -w net.ipv4.ip_forward=1".to_string());
    }
    if namespace.ipv6_forwarding {
        lines.push("sysctl -w net.ipv6.conf.all.forwarding=1".to_string());
    }
    lines
}

/// A netem as `tc` arguments, in the words the lab wrote.
pub(crate) fn netem_args(netem: &Netem) -> String {
    let mut args = Vec::new();
    if let Some(limit) = netem.limit {
        args.push(format!("limit {limit}"));
    }
    match (&netem.delay, &netem.jitter) {
        (Some(delay), Some(jitter)) => args.push(format!("delay {delay} {jitter}")),
        (Some(delay), None) => args.push(format!("delay {delay}")),
        (None, Some(jitter)) => args.push(format!("delay 0ms {jitter}")),
        (None, None) => {}
    }
    for (word, value) in [
        ("loss", &netem.loss),
        ("duplicate", &netem.duplicate),
        ("reorder", &netem.reorder),
        ("corrupt", &netem.corrupt),
        ("rate", &netem.rate),
    ] {
        if let Some(value) = value {
            args.push(format!("{word} {value}"));
        }
    }
    args.join(" ")
}

/// `ip route add` of a lab route (`ip -6` for an IPv6 one).
pub(crate) fn route_line(route: &Route, rename: Rename) -> String {
    let six = route.to.contains(':') || route.via.as_deref().is_some_and(|via| via.contains(':'));
    let mut line = format!("ip {}route add {}", if six { "-6 " } else { "" }, route.to);
    if let Some(via) = &route.via {
        let _ = write!(line, " via {via}");
    }
    if let Some(dev) = &route.dev {
        let _ = write!(line, " dev {}", rename(dev));
    }
    if let Some(metric) = route.metric {
        let _ = write!(line, " metric {metric}");
    }
    line
}
