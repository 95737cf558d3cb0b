//! A lab as a Mininet script (export only): namespaces as Mininet hosts, the host node as
//! a host outside any namespace (`inNamespace=False`), bridges as Mininet's `LinuxBridge`
//! switches, each veth as a link with both interface names; then, once the network is up,
//! each node's addresses, routes, forwarding and impairments as `cmd` calls of the same
//! commands containerlab's `exec:` lines run. Mininet has no positions.

use std::fmt::Write;

use crate::lab::{Lab, Link, Node};

use super::startup::{interface_lines, setup_lines};

/// The lab as a Python script that builds it with Mininet (`sudo python3 NAME.py`).
pub fn render(lab: &Lab) -> String {
    let mut py = String::from("#!/usr/bin/env python3\n");
    let _ = writeln!(py, "\"\"\"nslab lab {}, as a Mininet script: sudo python3 THIS_FILE", lab.name.replace('"', "'"));
    for line in lab.description.lines() {
        let _ = writeln!(py, "\n{}", line.replace('\\', "\\\\").replace("\"\"\"", "'''"));
    }
    py.push_str("\"\"\"\n\nfrom mininet.cli import CLI\nfrom mininet.log import setLogLevel\nfrom mininet.net import Mininet\nfrom mininet.nodelib import LinuxBridge\n\n\n");
    py.push_str(
        "def build():\n    \"\"\"The nodes and links, without addresses (Mininet's own are turned off).\"\"\"\n",
    );
    py.push_str("    net = Mininet(controller=None, autoSetMacs=False)\n    nodes = {}\n");
    let mut not_carried = Vec::new();
    let mut dpid = 0;
    for node in &lab.nodes {
        let name = python(node.name());
        match node {
            Node::Namespace(_) => {
                let _ = writeln!(py, "    nodes[{name}] = net.addHost({name}, ip=None)");
            }
            Node::Host(_) => {
                let _ = writeln!(py, "    nodes[{name}] = net.addHost({name}, ip=None, inNamespace=False)");
            }
            Node::Bridge(bridge) => {
                dpid += 1;
                let _ =
                    writeln!(py, "    nodes[{name}] = net.addSwitch({name}, cls=LinuxBridge, dpid=\"{dpid:016x}\")");
                if let Some(namespace) = &bridge.namespace {
                    not_carried.push(format!("bridge {} is in the host, not in {namespace}", bridge.name));
                }
            }
        }
    }
    for Link::Veth(veth) in &lab.links {
        let _ = writeln!(
            py,
            "    net.addLink(nodes[{}], nodes[{}], intfName1={}, intfName2={})",
            python(&veth.a.node),
            python(&veth.b.node),
            python(&veth.a.name),
            python(&veth.b.name)
        );
    }
    py.push_str(
        "    return net, nodes\n\n\ndef configure(nodes):\n    \"\"\"Each node's settings, run inside it.\"\"\"\n",
    );
    let mut commands = 0;
    for node in &lab.nodes {
        let lines = match node {
            Node::Namespace(_) => setup_lines(lab, node, &|name| name.to_string()),
            _ => outside_namespace_lines(lab, node),
        };
        for line in lines {
            let _ = writeln!(py, "    nodes[{}].cmd({})", python(node.name()), python(&line));
            commands += 1;
        }
    }
    if commands == 0 {
        py.push_str("    del nodes\n");
    }
    for note in not_carried {
        let _ = writeln!(py, "\n# Not carried: {note}.");
    }
    py.push_str("\n\nif __name__ == \"__main__\":\n    setLogLevel(\"info\")\n    NET, NODES = build()\n    NET.start()\n    configure(NODES)\n    CLI(NET)\n    NET.stop()\n");
    py
}

/// The settings of the host node and of bridges (and their ports), which live outside any
/// namespace: run from the node that stands for them.
fn outside_namespace_lines(lab: &Lab, node: &Node) -> Vec<String> {
    let mut lines = Vec::new();
    if let Node::Bridge(bridge) = node {
        if let Some(mtu) = bridge.mtu {
            lines.push(format!("ip link set dev {} mtu {mtu}", bridge.name));
        }
        if let Some(mac) = &bridge.mac {
            lines.push(format!("ip link set dev {} address {mac}", bridge.name));
        }
        lines.push(format!("ip link set dev {} {}", bridge.name, if bridge.up { "up" } else { "down" }));
        for address in &bridge.addresses {
            lines.push(format!("ip address add {address} dev {}", bridge.name));
        }
    }
    for end in lab.links.iter().flat_map(|link| link.ends()).filter(|end| end.node == node.name()) {
        lines.extend(interface_lines(end, &end.name));
    }
    if let Node::Host(host) = node {
        for (on, key) in
            [(host.ipv4_forwarding, "net.ipv4.ip_forward"), (host.ipv6_forwarding, "net.ipv6.conf.all.forwarding")]
        {
            if let Some(on) = on {
                lines.push(format!("sysctl -w {key}={}", u8::from(on)));
            }
        }
        lines.extend(host.routes.iter().map(|route| super::startup::route_line(route, &|name| name.to_string())));
    }
    lines
}

/// A Python string literal (JSON's quoting, which Python reads the same).
fn python(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}
