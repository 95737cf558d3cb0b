//! The importer command by command: each form it reads, the kernel's own names, what it
//! leaves out, and each line it cannot read, with its number.

use super::*;
use crate::lab::{Link, Node, Route};

fn read(text: &str) -> ScriptImport {
    parse_script(text, "lab")
}

/// The lab of a script every line of which must be understood.
fn lab_of(text: &str) -> Lab {
    let read = read(text);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    read.imported.lab
}

fn errors(text: &str) -> Vec<(usize, String)> {
    read(text).errors.into_iter().map(|error| (error.line, error.message)).collect()
}

fn left_out(text: &str) -> Vec<String> {
    read(text).imported.left_out.into_iter().map(|item| item.to_string()).collect()
}

/// Each link as `node/name` pairs.
fn ends(lab: &Lab) -> Vec<(String, String)> {
    lab.links
        .iter()
        .map(|Link::Veth(veth)| {
            (format!("{}/{}", veth.a.node, veth.a.name), format!("{}/{}", veth.b.node, veth.b.name))
        })
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

fn namespace<'l>(lab: &'l Lab, name: &str) -> &'l crate::lab::NamespaceNode {
    match lab.node(name) {
        Some(Node::Namespace(namespace)) => namespace,
        other => panic!("{name}: {other:?}"),
    }
}

fn end<'l>(lab: &'l Lab, name: &str) -> &'l crate::lab::Endpoint {
    lab.links.iter().flat_map(|link| link.ends()).find(|end| end.name == name).expect(name)
}

#[test]
fn unnamed_veths_get_the_kernel_s_names_the_lowest_free_pair_first() {
    let lab = lab_of("ip link add type veth\nip link add type veth\n");
    assert_eq!(ends(&lab), [pair("host/veth0", "host/veth1"), pair("host/veth2", "host/veth3")]);
    let lab = lab_of("ip netns add a\nip link add type veth\nip link set veth0 netns a\nip link add type veth\n");
    assert_eq!(ends(&lab), [pair("a/veth0", "host/veth1"), pair("host/veth0", "host/veth2")]);
    let lab = lab_of("ip link add x type veth\nip link add type veth peer name y\nip link add z type veth\n");
    assert_eq!(ends(&lab), [pair("host/x", "host/veth0"), pair("host/veth1", "host/y"), pair("host/z", "host/veth2")]);
}

#[test]
fn a_veth_made_in_namespaces_and_moved_between_them() {
    let lab = lab_of(
        "ip netns add a\nip netns add b\nip link add e0 netns a type veth peer name e1 netns b\n\
                   ip -n a addr add 10.0.0.1/24 dev e0\nip -n a link set e0 up\nip -n a link set e0 netns b\n\
                   ip -n b link set e0 name moved\n",
    );
    assert_eq!(ends(&lab), [pair("b/moved", "b/e1")]);
    let moved = end(&lab, "moved");
    assert!(moved.addresses.is_empty() && !moved.up, "moving takes the addresses and the up state: {moved:?}");
}

#[test]
fn addresses_routes_and_forwarding_in_every_spelling() {
    let text = "ip netns add r\nip netns add h\nip link add r0 netns r type veth peer name h0 netns h\n\
                ip netns exec r ip address add 10.0.0.1/24 dev r0\nip -n h a a 10.0.0.2/24 dev h0\n\
                ip -n h -6 addr add fd00::2/64 dev h0 nodad\nip -n h l s h0 up\nip -n r link set dev r0 up mtu 1400 address 02:00:00:00:00:01\n\
                ip netns exec h ip route add default via 10.0.0.1\nip -n h -6 route add default via fd00::1 metric 5\n\
                ip -n h route add 192.168.0.0/16 dev h0\nip -n h r add 172.16.0.1 via 10.0.0.1\n\
                ip netns exec r sysctl -w net.ipv4.ip_forward=1\nip netns exec r sysctl net.ipv6.conf.all.forwarding=1\n\
                ip netns exec h ip link set lo up\n";
    let lab = lab_of(text);
    let h = namespace(&lab, "h");
    assert!(h.loopback_up && !namespace(&lab, "r").loopback_up);
    let route = |to: &str, via: Option<&str>, dev: Option<&str>, metric: Option<u32>| Route {
        to: to.into(),
        via: via.map(Into::into),
        dev: dev.map(Into::into),
        metric,
    };
    assert_eq!(
        h.routes,
        [
            route("default", Some("10.0.0.1"), None, None),
            route("default", Some("fd00::1"), None, Some(5)),
            route("192.168.0.0/16", None, Some("h0"), None),
            route("172.16.0.1/32", Some("10.0.0.1"), None, None),
        ]
    );
    let r = namespace(&lab, "r");
    assert!(r.ipv4_forwarding && r.ipv6_forwarding);
    assert_eq!(end(&lab, "h0").addresses, ["10.0.0.2/24", "fd00::2/64"]);
    let r0 = end(&lab, "r0");
    assert_eq!((r0.mtu, r0.mac.as_deref(), r0.up), (Some(1400), Some("02:00:00:00:00:01"), true));
}

#[test]
fn bridges_from_ip_and_brctl_with_ports_and_ifconfig_addresses() {
    let text = "brctl addbr br0\nip link add br1 type bridge\nip link set br0 up\n\
                ip link add p0 type veth peer name q0\nip link add p1 type veth peer name q1\n\
                brctl addif br0 p0\nip link set dev p1 master br1\nifconfig br0 10.1.0.1 netmask 255.255.0.0\n\
                ifconfig br1 192.168.5.1\nifconfig q0 10.1.0.2/16 up\nifconfig q0 inet6 add fd00::2/64\n";
    let lab = lab_of(text);
    assert_eq!(ends(&lab), [pair("br0/p0", "host/q0"), pair("br1/p1", "host/q1")]);
    let bridges: Vec<(&str, &[String], bool)> = lab
        .nodes
        .iter()
        .filter_map(|node| match node {
            Node::Bridge(bridge) => Some((bridge.name.as_str(), bridge.addresses.as_slice(), bridge.up)),
            _ => None,
        })
        .collect();
    let (first, second) = (["10.1.0.1/16".to_string()], ["192.168.5.1/24".to_string()]);
    assert_eq!(bridges, [("br0", &first[..], true), ("br1", &second[..], true)], "ifconfig brings a bridge up");
    assert_eq!(end(&lab, "q0").addresses, ["10.1.0.2/16", "fd00::2/64"]);
    let lab = lab_of("ip link add b type bridge\nip link add p type veth peer name q\nip link set p master b\nip link set p nomaster\n");
    assert_eq!(ends(&lab), [pair("host/p", "host/q")]);
}

#[test]
fn a_shell_opened_in_a_namespace_runs_the_lines_up_to_exit_there() {
    let text = "ip netns add ns0\nip netns exec ns0 /bin/bash --rcfile <(echo \"PS1=\\\"ns0> \\\"\")\n\
                ip link set lo up\nsysctl -w net.ipv4.ip_forward=1\nexit\nsysctl -w net.ipv4.ip_forward=1\n";
    let lab = lab_of(text);
    let ns0 = namespace(&lab, "ns0");
    assert!(ns0.loopback_up && ns0.ipv4_forwarding);
    assert!(lab.node("host").is_none_or(|node| matches!(node, Node::Host(host) if host.ipv4_forwarding == Some(true))));
}

#[test]
fn echo_into_proc_and_tc_netem_are_read() {
    let text =
        "ip netns add a\nip netns exec a sh -c 'ip link set lo up; true'\necho 1 > /proc/sys/net/ipv4/ip_forward\n\
                ip link add x netns a type veth peer name y netns a\n\
                tc -n a qdisc add dev x root netem delay 50ms 10ms loss 1% rate 10mbit\n";
    let lab = lab_of(text);
    let netem = end(&lab, "x").netem.clone().expect("a netem");
    assert_eq!(
        (netem.delay.as_deref(), netem.jitter.as_deref(), netem.loss.as_deref(), netem.rate.as_deref()),
        (Some("50ms"), Some("10ms"), Some("1%"), Some("10mbit"))
    );
    assert!(matches!(lab.node("host"), Some(Node::Host(host)) if host.ipv4_forwarding == Some(true)));
    assert!(namespace(&lab, "a").loopback_up, "`sh -c` runs its commands in the namespace");
}

#[test]
fn deleting_takes_the_peer_and_the_routes_with_it() {
    let text = "ip netns add a\nip link add x netns a type veth peer name y\nip -n a link set x up\n\
                ip -n a addr add 10.0.0.1/24 dev x\nip -n a route add 10.9.0.0/16 dev x\nip -n a route add 10.8.0.0/16 dev x\n\
                ip -n a route del 10.8.0.0/16\nip link del y\nip netns add b\nip netns del b\n";
    let lab = lab_of(text);
    assert!(lab.links.is_empty() && namespace(&lab, "a").routes.is_empty());
    assert!(lab.node("b").is_none());
}

#[test]
fn prompts_comments_and_commands_that_only_look_are_no_ops() {
    let text = "#!/bin/sh\nset -e\n[root@qll253 ~]# ip netns add ns0\nuser@box:~$ sudo ip netns add ns1\n# a comment\n\
                $ ip netns list\nip link show\nip -br a\nip route\nip netns exec ns0 ping -c 1 10.0.0.1\nls /var/run/netns/\n";
    let read = read(text);
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    assert_eq!(read.understood, 2);
    assert_eq!(read.imported.lab.namespace_names().collect::<Vec<_>>(), ["ns0", "ns1"]);
}

#[test]
fn each_line_not_understood_is_reported_with_its_number_and_the_rest_read() {
    let text = "ip netns add a\nfrobnicate now\nip link set veth9 netns a\nip netns exec nope ip link\n\
                ip -n a addr add 10.0.0.300/24 dev x\nip netns add 'x\nfor i in 1 2; do ip netns add n$i; done\n\
                ip netns add b$i\nip link add x type veth peer name y\nip link add x type veth\nip lnk\n\
                ip link add q\nip route add 10.0.0.1/24 dev x\nip netns add a\nifconfig x 10.0.0.1 netmask 255.0.255.0\n";
    let found = errors(text);
    let expected = [
        (2, "`frobnicate` is not a command this importer knows"),
        (3, "there is no interface `veth9` in the host namespace"),
        (4, "there is no namespace `nope` (add it first with `ip netns add nope`)"),
        (5, "`10.0.0.300/24` is not an IPv4 or IPv6 address with a prefix length, like `10.0.0.1/24` or `fd00::1/64`"),
        (6, "a quote (') is not closed"),
        (7, "the shell's `for` is not understood; write each command out"),
        (8, "`b$i`: shell variables and substitutions are not understood"),
        (10, "the host namespace has an interface `x` already"),
        (11, "`ip lnk` is not an ip command"),
        (12, "`ip link add` needs a `type` (`veth` or `bridge`)"),
        (13, "`10.0.0.1/24` has host bits set; a route destination is a network such as `10.0.0.0/24`"),
        (14, "namespace `a` exists already"),
        (15, "`255.0.255.0` is not a netmask (its ones must come first)"),
    ];
    let expected: Vec<(usize, String)> = expected.iter().map(|(line, message)| (*line, message.to_string())).collect();
    assert_eq!(found, expected);
    let lab = read(text).imported.lab;
    assert_eq!(ends(&lab), [pair("host/x", "host/y")], "the lines around the errors are read");
}

#[test]
fn a_bad_address_is_reported_as_the_lab_file_reports_it() {
    let found = errors("ip link add x type veth peer name y\nip addr add 10.0.0.300/24 dev x\nip addr add fd00::1/64 dev x\nip addr add fd00::1/48 dev x\n");
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, 2);
    assert!(found[0].1.contains("10.0.0.300/24"), "{}", found[0].1);
    assert_eq!(found[1], (4, "`x` has address `fd00::1/48` already".to_string()));
}

#[test]
fn what_a_lab_cannot_hold_is_left_out_and_named_with_its_line() {
    let text = "ip netns add a\nip -n a link add d0 type dummy\nip -n a addr add 10.0.0.1/24 dev d0\n\
                ip -n a addr add 10.9.9.9/32 dev lo\nip -n a rule add from 10.0.0.0/8 table 100\n\
                ip netns exec a sysctl -w net.ipv4.conf.all.rp_filter=0\nip link add x netns a type veth peer name y\n\
                ip -n a route add 10.1.0.0/16 dev x src 10.0.0.1 proto static\nip -n a route add blackhole 10.2.0.0/16\n\
                ip link add br0 type bridge stp_state 1\nip -n a link set x promisc on\nbrctl setfd br0 2\n";
    assert_eq!(
        left_out(text),
        [
            "line 2: `d0` in `a`, a `dummy` interface (a lab has veths and bridges)",
            "line 3: a setting of `d0`, a `dummy` interface the lab leaves out",
            "line 4: address `10.9.9.9/32` of `lo` in `a` (a lab gives `lo` no addresses)",
            "line 5: `ip -n a rule add from 10.0.0.0/8 table 100` in `a` (a lab has no `ip rule` settings)",
            "line 6: `net.ipv4.conf.all.rp_filter=0` in `a` (a lab keeps only forwarding)",
            "line 8: `src 10.0.0.1 proto static` of route `10.1.0.0/16` in `a`",
            "line 9: `ip -n a route add blackhole 10.2.0.0/16` in `a` (a lab's routes are ordinary ones, not `blackhole`)",
            "line 10: the bridge settings `stp_state 1` of `br0`",
            "line 11: `promisc on` of `x`",
            "line 12: `brctl setfd br0 2` (a lab keeps no bridge settings)",
        ]
    );
    let lab = read(text).imported.lab;
    assert_eq!(namespace(&lab, "a").routes.len(), 1, "the route is kept without what is left out of it");
    assert!(lab.description.starts_with("Left out on import: line 2: `d0`"), "{}", lab.description);
}

#[test]
fn import_refuses_a_text_with_no_command_and_names_the_lines_it_could_not_read() {
    let error = import("hello world\nhow are you\n", "lab").unwrap_err();
    assert_eq!(error.to_string(), "line 1: not a script of ip commands: `hello` is not a command this importer knows");
    let error = import("ip link show\n", "lab").unwrap_err();
    assert_eq!(error.place, "line 1");
    let imported = import("ip netns add a\nip netns add a\n", "lab").unwrap();
    assert_eq!(imported.left_out, [LeftOut::new("line 2", "not understood: namespace `a` exists already")]);
    assert!(imported.lab.description.contains("line 2: not understood"), "{}", imported.lab.description);
}

#[test]
fn the_host_is_a_node_only_when_the_lab_uses_it() {
    let lab = lab_of("ip netns add host\nip netns add b\nip link add x netns host type veth peer name y\n");
    assert_eq!(ends(&lab), [pair("host/x", "host0/y")]);
    let lab = lab_of("ip netns add a\nip link add b0 type bridge\nip link add x netns a type veth peer name y\nip link set y master b0\n");
    assert!(lab.nodes.iter().all(|node| !matches!(node, Node::Host(_))), "{:?}", lab.nodes);
    let placed = lab.nodes.iter().all(|node| crate::layout::position(node).is_some());
    assert!(placed, "every node is placed");
}
