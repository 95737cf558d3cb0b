//! The reachability explainer on labs with one fault each: the first failing hop, its
//! reason and fix, and that the fix makes the ping reach; route lookup (longest prefix,
//! metric, on-link gateways, source addresses); the bundled examples; live mode; bad input.

use std::net::IpAddr;

use nslab_model::load::load_lab_str;
use nslab_model::netem::Netem;
use nslab_model::observed::{Observed, ObservedLink, ObservedNamespace, ObservedRoute};
use nslab_model::reach::{
    explain, explain_live, predict_matrix, reaches, Direction, Explanation, LabFix, LimitKind, Reason,
};
use nslab_model::topology::Side;
use nslab_model::{Lab, Link, Node, Route};
use proptest::prelude::*;

fn example(name: &str) -> Lab {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    load_lab_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn route(to: &str, via: Option<&str>, dev: Option<&str>, metric: Option<u32>) -> Route {
    Route { to: to.into(), via: via.map(Into::into), dev: dev.map(Into::into), metric }
}

/// Drops the default routes of one family from a namespace.
fn without_default(lab: &mut Lab, name: &str, v6: bool) {
    lab.namespace_mut(name)
        .expect("a namespace")
        .routes
        .retain(|route| !(route.to == "default" && route.via.as_deref().is_some_and(|via| via.contains(':') == v6)));
}

/// The explanation of a failing ping: its failure's direction, hop, namespace and reason
/// are as expected; then its fix, applied, makes the ping reach.
fn fails_then_fixed(lab: &Lab, from: &str, to: &str, expected: (Direction, usize, &str, Reason)) -> Explanation {
    let explained = explain(lab, from, ip(to)).unwrap();
    assert!(!explained.reach, "{from} -> {to} should fail: {explained:#?}");
    let failure = explained.failure.clone().expect("a failure");
    assert_eq!(
        (failure.direction, failure.hop, failure.namespace.as_str(), failure.reason),
        expected,
        "{}",
        failure.message
    );
    assert!(!failure.message.is_empty());
    let hops = match failure.direction {
        Direction::Request => &explained.request,
        Direction::Reply => &explained.reply,
    };
    assert_eq!(hops.len(), failure.hop + 1, "the walk ends at its failing hop: {hops:#?}");
    let fix = failure.fix.clone().unwrap_or_else(|| panic!("a fix for {:?}", failure.reason));
    assert!(!fix.command.is_empty() && !fix.description.is_empty(), "{fix:?}");
    let edit = fix.edit.clone().unwrap_or_else(|| panic!("a lab edit for {:?}", failure.reason));
    let fixed = edit.apply(lab).unwrap();
    let again = explain(&fixed, from, ip(to)).unwrap();
    assert!(again.reach, "after `{}` ({edit:?}) {from} -> {to} reaches: {:#?}", fix.description, again.failure);
    explained
}

#[test]
fn the_bundled_examples_all_reach() {
    for name in ["seed-veth", "seed-bridge", "router"] {
        let lab = example(name);
        let matrix = predict_matrix(&lab);
        assert!(!matrix.pairs.is_empty());
        let failing: Vec<_> = matrix.pairs.iter().filter(|pair| !pair.reach).collect();
        assert!(failing.is_empty(), "{name}: {failing:?}");
    }
}

#[test]
fn the_router_s_path_is_each_hop_with_its_interfaces_for_request_and_reply() {
    let explained = explain(&example("router"), "left", ip("10.0.2.2")).unwrap();
    assert!(explained.reach && explained.failure.is_none() && explained.warnings.is_empty());
    assert_eq!(explained.source, Some(ip("10.0.1.2")));
    let request: Vec<_> = explained
        .request
        .iter()
        .map(|hop| (hop.namespace.as_str(), hop.out.as_deref(), hop.next_hop, hop.delivered))
        .collect();
    assert_eq!(
        request,
        [
            ("left", Some("l-eth0"), Some(ip("10.0.1.1")), false),
            ("router", Some("r-eth1"), Some(ip("10.0.2.2")), false),
            ("right", None, None, true)
        ]
    );
    assert_eq!(explained.request[0].route.as_deref(), Some("default via 10.0.1.1 dev l-eth0"));
    assert_eq!(explained.request[1].route.as_deref(), Some("10.0.2.0/24 dev r-eth1 (connected)"));
    let crossed: Vec<_> =
        explained.request[0].crossed.iter().map(|c| (c.node.as_str(), c.interface.as_str(), c.link)).collect();
    assert_eq!(crossed, [("left", "l-eth0", Some(0)), ("router", "r-eth0", Some(0))]);
    let reply: Vec<_> = explained.reply.iter().map(|hop| (hop.namespace.as_str(), hop.next_hop)).collect();
    assert_eq!(reply, [("right", Some(ip("10.0.2.1"))), ("router", Some(ip("10.0.1.2"))), ("left", None)]);

    let v6 = explain(&example("router"), "right", ip("fd00:1::2")).unwrap();
    assert!(v6.reach, "{:?}", v6.failure);
    assert_eq!(v6.source, Some(ip("fd00:2::2")));
    assert_eq!(v6.request.len(), 3);
}

#[test]
fn a_bridge_path_crosses_the_ports_and_the_bridge() {
    let explained = explain(&example("seed-bridge"), "ns0", ip("172.17.0.103")).unwrap();
    assert!(explained.reach);
    let crossed: Vec<_> =
        explained.request[0].crossed.iter().map(|c| (c.node.as_str(), c.interface.as_str())).collect();
    assert_eq!(
        crossed,
        [("ns0", "eth0"), ("docker0", "veth0"), ("docker0", "docker0"), ("docker0", "veth4"), ("ns2", "eth0")]
    );
    // The bridge holds an address: it is an endpoint of the host namespace.
    let to_bridge = explain(&example("seed-bridge"), "ns1", ip("172.17.0.1")).unwrap();
    assert!(to_bridge.reach);
    assert_eq!(to_bridge.request.last().unwrap().namespace, "host");
}

#[test]
fn no_default_route_fails_at_the_first_hop_for_ipv4_and_ipv6() {
    for (v6, to) in [(false, "10.0.2.2"), (true, "fd00:2::2")] {
        let mut lab = example("router");
        without_default(&mut lab, "left", v6);
        let explained = fails_then_fixed(&lab, "left", to, (Direction::Request, 0, "left", Reason::NoRoute));
        let failure = explained.failure.unwrap();
        assert!(
            failure.message.contains("no route") && failure.message.contains("default route"),
            "{}",
            failure.message
        );
        let fix = failure.fix.unwrap();
        let gateway = if v6 { "fd00:1::1" } else { "10.0.1.1" };
        assert_eq!(fix.command, format!("ip -n left route add default via {gateway}"));
        assert_eq!(
            fix.edit,
            Some(LabFix::AddRoute { node: "left".into(), route: route("default", Some(gateway), None, None) })
        );
    }
}

#[test]
fn a_missing_return_route_fails_on_the_reply() {
    for (v6, to) in [(false, "10.0.2.2"), (true, "fd00:2::2")] {
        let mut lab = example("router");
        without_default(&mut lab, "right", v6);
        let explained = fails_then_fixed(&lab, "left", to, (Direction::Reply, 0, "right", Reason::NoReturnRoute));
        assert_eq!(explained.request.last().unwrap().namespace, "right", "the request arrived");
        assert!(explained.failure.unwrap().message.contains("reply"));
    }
}

#[test]
fn a_route_whose_gateway_is_off_subnet_is_refused_and_replaced() {
    let mut lab = example("router");
    lab.namespace_mut("left").expect("a namespace").routes[0].via = Some("10.0.9.1".into());
    let explained =
        fails_then_fixed(&lab, "left", "10.0.2.2", (Direction::Request, 0, "left", Reason::GatewayOffSubnet));
    assert!(explained.failure.as_ref().unwrap().message.contains("refuses"));
    assert!(matches!(explained.failure.unwrap().fix.unwrap().edit, Some(LabFix::ReplaceRoute { index: 0, .. })));
}

#[test]
fn a_router_without_forwarding_drops_for_each_family() {
    for (v6, to) in [(false, "10.0.2.2"), (true, "fd00:2::2")] {
        let mut lab = example("router");
        let router = lab.namespace_mut("router").expect("a namespace");
        if v6 {
            router.ipv6_forwarding = false;
        } else {
            router.ipv4_forwarding = false;
        }
        let explained = fails_then_fixed(&lab, "left", to, (Direction::Request, 1, "router", Reason::ForwardingOff));
        let command = explained.failure.unwrap().fix.unwrap().command;
        let setting = if v6 { "net.ipv6.conf.all.forwarding=1" } else { "net.ipv4.ip_forward=1" };
        assert_eq!(command, format!("ip netns exec router sysctl -w {setting}"));
        // The router itself is reached without forwarding.
        assert!(reaches(&lab, "left", ip(if v6 { "fd00:2::1" } else { "10.0.2.1" })).unwrap());
    }
}

#[test]
fn an_interface_down_on_the_way_or_under_the_route_is_named() {
    let mut lab = example("seed-bridge");
    lab.veth_end_mut(1, Side::B).expect("a veth").up = false;
    fails_then_fixed(&lab, "ns0", "172.17.0.102", (Direction::Request, 0, "ns0", Reason::InterfaceDown));
    let mut lab = example("router");
    lab.veth_end_mut(0, Side::A).expect("a veth").up = false;
    let explained = fails_then_fixed(&lab, "left", "10.0.2.2", (Direction::Request, 0, "left", Reason::InterfaceDown));
    assert!(explained.failure.unwrap().message.contains("`l-eth0` in `left` is down"));
    // A port of the bridge that is down.
    let mut lab = example("seed-bridge");
    lab.veth_end_mut(2, Side::A).expect("a veth").up = false;
    let explained =
        fails_then_fixed(&lab, "ns0", "172.17.0.103", (Direction::Request, 0, "ns0", Reason::InterfaceDown));
    assert_eq!(explained.failure.unwrap().fix.unwrap().command, "ip link set veth4 up");
}

#[test]
fn a_bridge_down_forwards_nothing() {
    let mut lab = example("seed-bridge");
    let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!("docker0 first") };
    bridge.up = false;
    let explained = fails_then_fixed(&lab, "ns0", "172.17.0.102", (Direction::Request, 0, "ns0", Reason::BridgeDown));
    assert_eq!(explained.failure.unwrap().fix.unwrap().command, "ip link set docker0 up");
}

#[test]
fn a_veth_whose_peer_is_down_has_no_carrier() {
    let mut lab = example("seed-veth");
    lab.veth_end_mut(0, Side::B).expect("a veth").up = false;
    let explained = fails_then_fixed(&lab, "ns0", "192.168.1.2", (Direction::Request, 0, "ns0", Reason::NoCarrier));
    let failure = explained.failure.unwrap();
    assert!(
        failure.message.contains("no carrier") && failure.message.contains("`veth1` in `ns1`"),
        "{}",
        failure.message
    );
    assert_eq!(failure.fix.unwrap().command, "ip -n ns1 link set veth1 up");
}

#[test]
fn a_gateway_nobody_holds_gets_no_answer() {
    for (v6, gateway, to) in [(false, "10.0.1.9", "10.0.2.2"), (true, "fd00:1::9", "fd00:2::2")] {
        let mut lab = example("router");
        let left = lab.namespace_mut("left").expect("a namespace");
        let index =
            left.routes.iter().position(|r| r.via.as_deref().is_some_and(|via| via.contains(':') == v6)).unwrap();
        left.routes[index].via = Some(gateway.into());
        let explained = fails_then_fixed(&lab, "left", to, (Direction::Request, 0, "left", Reason::NextHopUnheld));
        let message = explained.failure.unwrap().message;
        let asking = if v6 { "neighbour discovery" } else { "ARP" };
        assert!(message.contains(gateway) && message.contains(asking), "{message}");
    }
}

#[test]
fn an_address_no_namespace_holds_is_named_after_the_route_that_leads_there() {
    let explained = explain(&example("router"), "left", ip("10.0.2.77")).unwrap();
    let failure = explained.failure.unwrap();
    assert_eq!((failure.hop, failure.namespace.as_str(), failure.reason), (1, "router", Reason::UnknownAddress));
    assert!(failure.fix.unwrap().edit.is_none(), "no lab edit makes up an address");
}

#[test]
fn total_loss_on_the_way_drops_everything_and_the_fix_keeps_the_rest() {
    let mut lab = example("router");
    lab.veth_end_mut(1, Side::A).expect("a veth").netem =
        Some(Netem { loss: Some("100%".into()), delay: Some("10ms".into()), ..Netem::default() });
    let explained = fails_then_fixed(&lab, "left", "10.0.2.2", (Direction::Request, 1, "router", Reason::TotalLoss));
    let fix = explained.failure.unwrap().fix.unwrap();
    assert_eq!(fix.command, "tc -n router qdisc replace dev r-eth1 root netem delay 10ms");
    let fixed = fix.edit.unwrap().apply(&lab).unwrap();
    let Link::Veth(veth) = &fixed.links[1];
    assert_eq!(veth.a.netem, Some(Netem { delay: Some("10ms".into()), ..Netem::default() }));
    // Loss on the far end stops the reply.
    let mut lab = example("router");
    lab.veth_end_mut(1, Side::B).expect("a veth").netem = Some(Netem { loss: Some("100%".into()), ..Netem::default() });
    fails_then_fixed(&lab, "left", "10.0.2.2", (Direction::Request, 1, "router", Reason::TotalLoss));
    // Loss of less than everything does not stop a ping for sure.
    let mut lab = example("router");
    lab.veth_end_mut(1, Side::B).expect("a veth").netem = Some(Netem { loss: Some("50%".into()), ..Netem::default() });
    assert!(reaches(&lab, "left", ip("10.0.2.2")).unwrap());
}

#[test]
fn a_duplicate_address_on_a_link_is_a_warning_with_its_fix() {
    let mut lab = example("seed-bridge");
    lab.veth_end_mut(2, Side::B).expect("a veth").addresses = vec!["172.17.0.102/16".into()];
    let explained = explain(&lab, "ns0", ip("172.17.0.102")).unwrap();
    assert!(explained.reach, "one of the two answers");
    let warning = &explained.warnings[0];
    assert_eq!((warning.reason, warning.hop), (Reason::DuplicateAddress, 0));
    assert!(warning.message.contains("`ns1` and `ns2`"), "{}", warning.message);
    let fix = warning.fix.clone().unwrap();
    assert_eq!(fix.command, "ip -n ns2 addr del 172.17.0.102/16 dev eth0");
    let fixed = fix.edit.unwrap().apply(&lab).unwrap();
    assert!(explain(&fixed, "ns0", ip("172.17.0.102")).unwrap().warnings.is_empty());
}

#[test]
fn a_reply_that_goes_to_another_holder_of_the_source_address_fails() {
    // `right` also holds left's address, on a link of its own: the reply stays in `right`.
    let mut lab = example("router");
    let extra = r#"{"kind": "veth", "a": {"node": "right", "name": "x-dummy", "addresses": ["10.0.1.2/32"]}, "b": {"node": "right", "name": "x-dummy2"}}"#;
    lab.links.push(serde_json::from_str(extra).unwrap());
    let explained = explain(&lab, "left", ip("10.0.2.2")).unwrap();
    let failure = explained.failure.unwrap();
    assert_eq!(
        (failure.direction, failure.reason),
        (Direction::Reply, Reason::DuplicateAddress),
        "{}",
        failure.message
    );
    let fixed = failure.fix.unwrap().edit.unwrap().apply(&lab).unwrap();
    assert!(reaches(&fixed, "left", ip("10.0.2.2")).unwrap());
}

#[test]
fn pinging_itself_goes_through_the_loopback() {
    let lab = example("seed-veth");
    let explained = explain(&lab, "ns0", ip("192.168.1.1")).unwrap();
    assert!(explained.reach);
    assert_eq!(explained.request.len(), 1);
    assert_eq!(explained.request[0].out.as_deref(), Some("lo"));
    let mut lab = example("seed-veth");
    lab.namespace_mut("ns0").expect("a namespace").loopback_up = false;
    let explained = fails_then_fixed(&lab, "ns0", "192.168.1.1", (Direction::Request, 0, "ns0", Reason::LoopbackDown));
    assert_eq!(explained.failure.unwrap().fix.unwrap().command, "ip -n ns0 link set lo up");
    // Its own address on an interface that is down is still its own (IPv4 keeps it local).
    let mut lab = example("seed-veth");
    lab.veth_end_mut(0, Side::A).expect("a veth").up = false;
    assert!(reaches(&lab, "ns0", ip("192.168.1.1")).unwrap());
}

#[test]
fn no_address_of_the_family_means_nothing_to_send_from() {
    let mut lab = example("seed-veth");
    lab.namespace_mut("ns0").expect("a namespace").routes.push(route("fd00::/64", None, Some("veth0"), None));
    lab.veth_end_mut(0, Side::B).expect("a veth").addresses.push("fd00::2/64".into());
    let explained = explain(&lab, "ns0", ip("fd00::2")).unwrap();
    let failure = explained.failure.unwrap();
    assert_eq!((failure.hop, failure.reason), (0, Reason::NoSourceAddress));
    assert!(failure.message.contains("no IPv6 address"), "{}", failure.message);
}

#[test]
fn routers_that_point_at_each_other_loop() {
    let mut lab = example("router");
    lab.namespace_mut("left").expect("a namespace").ipv4_forwarding = true;
    lab.namespace_mut("router").expect("a namespace").routes.push(route("default", Some("10.0.1.2"), None, None));
    let explained = explain(&lab, "left", ip("192.0.2.1")).unwrap();
    let failure = explained.failure.unwrap();
    assert_eq!(failure.reason, Reason::RoutingLoop);
    assert_eq!(explained.request.len(), 65);
}

/// A line of `n` forwarding namespaces `r0`.., each /30 its own, default routes to the
/// right and the way back through the left neighbour.
fn chain(n: usize) -> Lab {
    let address = |link: usize, host: usize| format!("10.1.{}.{}", link * 4 / 256, link * 4 % 256 + host);
    let mut nodes = Vec::new();
    for i in 0..n {
        let mut routes: Vec<String> = Vec::new();
        if i + 1 < n {
            routes.push(format!(r#"{{"to": "default", "via": "{}"}}"#, address(i, 2)));
        }
        for link in 0..i.saturating_sub(1) {
            routes.push(format!(r#"{{"to": "{}/30", "via": "{}"}}"#, address(link, 0), address(i - 1, 1)));
        }
        nodes.push(format!(
            r#"{{"kind": "namespace", "name": "r{i}", "ipv4_forwarding": true, "routes": [{}]}}"#,
            routes.join(",")
        ));
    }
    let links: Vec<String> = (0..n - 1)
        .map(|i| {
            format!(
                r#"{{"kind": "veth", "a": {{"node": "r{i}", "name": "right", "addresses": ["{}/30"]}}, "b": {{"node": "r{}", "name": "left", "addresses": ["{}/30"]}}}}"#,
                address(i, 1),
                i + 1,
                address(i, 2)
            )
        })
        .collect();
    let json =
        format!(r#"{{"version": 1, "name": "chain", "nodes": [{}], "links": [{}]}}"#, nodes.join(","), links.join(","));
    load_lab_str(&json).unwrap()
}

#[test]
fn a_ping_crosses_at_most_63_routers() {
    let lab = chain(70);
    // r64 is 64 hops from r0: 63 routers forward the ping, as its TTL of 64 allows.
    assert!(reaches(&lab, "r0", ip("10.1.0.254")).unwrap());
    let explained = explain(&lab, "r0", ip("10.1.1.2")).unwrap();
    let failure = explained.failure.expect("r65 is one hop too far");
    assert_eq!((failure.reason, failure.hop, failure.namespace.as_str()), (Reason::TtlExpired, 64, "r64"));
    assert!(failure.message.contains("at most 63 routers"), "{}", failure.message);
    // The reply counts too: r65 answers r1 (64 hops), not r0 (65).
    assert!(reaches(&lab, "r65", ip("10.1.0.2")).unwrap());
    assert!(!reaches(&lab, "r65", ip("10.1.0.1")).unwrap());
}

#[test]
fn the_longest_prefix_wins_over_the_lowest_metric_and_the_metric_breaks_ties() {
    let mut lab = example("router");
    let extra = r#"{"kind": "veth", "a": {"node": "left", "name": "l-eth1", "addresses": ["10.0.3.2/24"]}, "b": {"node": "router", "name": "r-eth2", "addresses": ["10.0.3.1/24"]}}"#;
    lab.links.push(serde_json::from_str(extra).unwrap());
    lab.namespace_mut("left").expect("a namespace").routes.push(route(
        "10.0.2.0/24",
        Some("10.0.3.1"),
        None,
        Some(100),
    ));
    let hop = &explain(&lab, "left", ip("10.0.2.2")).unwrap().request[0];
    assert_eq!(
        (hop.out.as_deref(), hop.route.as_deref()),
        (Some("l-eth1"), Some("10.0.2.0/24 via 10.0.3.1 dev l-eth1"))
    );
    // Same prefix: the lower metric.
    lab.namespace_mut("left").expect("a namespace").routes.push(route("10.0.2.0/24", Some("10.0.1.1"), None, Some(50)));
    let explained = explain(&lab, "left", ip("10.0.2.2")).unwrap();
    assert_eq!(explained.request[0].out.as_deref(), Some("l-eth0"));
    // The source follows the way out.
    assert_eq!(explained.source, Some(ip("10.0.1.2")));
    lab.namespace_mut("left").expect("a namespace").routes.pop();
    assert_eq!(explain(&lab, "left", ip("10.0.2.2")).unwrap().source, Some(ip("10.0.3.2")));
}

#[test]
fn an_on_link_route_sends_straight_to_the_destination_and_a_gateway_must_be_on_its_device() {
    // Two namespaces on one veth whose addresses are in different subnets: a device route
    // makes the other's address on-link.
    let mut lab = example("seed-veth");
    lab.veth_end_mut(0, Side::B).expect("a veth").addresses = vec!["192.168.2.2/24".into()];
    // No route either way: the fix of the request is a device route, then the reply's.
    let failure = explain(&lab, "ns0", ip("192.168.2.2")).unwrap().failure.unwrap();
    assert_eq!((failure.direction, failure.reason), (Direction::Request, Reason::NoRoute));
    let edit = failure.fix.unwrap().edit.unwrap();
    assert_eq!(
        edit,
        LabFix::AddRoute { node: "ns0".into(), route: route("192.168.2.0/24", None, Some("veth0"), None) }
    );
    let lab = edit.apply(&lab).unwrap();
    let failure = explain(&lab, "ns0", ip("192.168.2.2")).unwrap().failure.unwrap();
    assert_eq!(
        (failure.direction, failure.namespace.as_str(), failure.reason),
        (Direction::Reply, "ns1", Reason::NoReturnRoute)
    );
    let fix = failure.fix.unwrap();
    assert_eq!(fix.command, "ip -n ns1 route add 192.168.1.0/24 dev veth1");
    let lab = fix.edit.unwrap().apply(&lab).unwrap();
    let explained = explain(&lab, "ns0", ip("192.168.2.2")).unwrap();
    assert!(explained.reach, "{:?}", explained.failure);
    assert_eq!(explained.request[0].next_hop, Some(ip("192.168.2.2")));
    // A gateway that is on a connected subnet, but not of the route's device, is refused.
    let mut lab = example("router");
    let extra = r#"{"kind": "veth", "a": {"node": "left", "name": "l-eth1", "addresses": ["10.0.3.2/24"]}, "b": {"node": "router", "name": "r-eth2", "addresses": ["10.0.3.1/24"]}}"#;
    lab.links.push(serde_json::from_str(extra).unwrap());
    lab.namespace_mut("left").expect("a namespace").routes[0] =
        route("default", Some("10.0.1.1"), Some("l-eth1"), None);
    fails_then_fixed(&lab, "left", "10.0.2.2", (Direction::Request, 0, "left", Reason::GatewayOffSubnet));
}

#[test]
fn ipv6_sources_share_the_longest_prefix_with_the_destination() {
    let mut lab = example("router");
    lab.veth_end_mut(0, Side::A).expect("a veth").addresses =
        vec!["10.0.1.2/24".into(), "fd00:9::2/64".into(), "fd00:1::2/64".into()];
    lab.veth_end_mut(0, Side::B).expect("a veth").addresses.push("fd00:9::1/64".into());
    let explained = explain(&lab, "left", ip("fd00:2::2")).unwrap();
    assert_eq!(explained.source, Some(ip("fd00:1::2")), "fd00:1:: shares more of fd00:2:: than fd00:9::");
    assert!(explained.reach);
    // IPv4: the address in the next hop's subnet, not merely the first.
    let mut lab = example("router");
    lab.veth_end_mut(0, Side::A).expect("a veth").addresses = vec!["10.0.5.2/24".into(), "10.0.1.2/24".into()];
    assert_eq!(explain(&lab, "left", ip("10.0.2.2")).unwrap().source, Some(ip("10.0.1.2")));
}

#[test]
fn bad_sources_are_refused_with_a_sentence() {
    let lab = example("seed-bridge");
    assert!(explain(&lab, "nowhere", ip("10.0.0.1")).unwrap_err().contains("no node called `nowhere`"));
    assert!(explain(&lab, "docker0", ip("10.0.0.1")).unwrap_err().contains("is a bridge"));
}

#[test]
fn a_half_typed_lab_still_explains_what_it_can() {
    let mut lab = example("router");
    lab.veth_end_mut(0, Side::A).expect("a veth").addresses = vec!["10.0.1.".into()];
    lab.namespace_mut("left").expect("a namespace").routes.push(route("nonsense", None, None, None));
    let explained = explain(&lab, "left", ip("10.0.2.2")).unwrap();
    assert!(!explained.reach);
}

#[test]
fn the_predicted_matrix_pairs_as_the_live_matrix_and_reads_as_the_cli_prints_it() {
    let mut lab = example("router");
    without_default(&mut lab, "left", false);
    let matrix = predict_matrix(&lab);
    let (sources, targets) = nslab_model::ping::matrix_of(&lab);
    assert_eq!(matrix.pairs.len(), sources.len() * targets.len());
    let pair = |from: &str, to: &str| matrix.pairs.iter().find(|p| p.from == from && p.to == ip(to)).unwrap().reach;
    assert!(!pair("left", "10.0.2.2"));
    assert!(!pair("right", "10.0.1.2"), "no way back");
    assert!(pair("left", "fd00:2::2") && pair("left", "10.0.1.1") && pair("router", "10.0.1.2"));
    let json = serde_json::to_value(&matrix).unwrap();
    assert_eq!(json["pairs"][0], serde_json::json!({"from": "left", "to": targets[0].to_string(), "reach": true}));
}

/// An `Observed` that holds the lab exactly.
fn observed_of(lab: &Lab) -> Observed {
    let topology = nslab_model::topology::Topology::of(lab);
    let mut observed = Observed::default();
    for netns in &topology.namespaces {
        let mut namespace = ObservedNamespace { loopback_up: true, ..ObservedNamespace::default() };
        if let Some(Node::Namespace(node)) = netns.name().and_then(|name| lab.node(name)) {
            namespace.ipv4_forwarding = node.ipv4_forwarding;
            namespace.ipv6_forwarding = node.ipv6_forwarding;
            for written in &node.routes {
                let parsed = nslab_model::validate::parse_route(written).unwrap();
                let metric = if parsed.destination.addr().is_ipv6() { 1024 } else { 0 };
                namespace.routes.push(ObservedRoute {
                    destination: parsed.destination,
                    via: parsed.via,
                    dev: None,
                    metric,
                    by_nslab: true,
                    unmodelled: Vec::new(),
                });
            }
        }
        for (index, interface) in topology.interfaces_in(netns).enumerate() {
            let mut link = ObservedLink::new("veth", index as u32 + 2);
            link.up = interface.up;
            link.oper_up = interface.up;
            link.addresses = interface.addresses.iter().map(|text| text.parse().unwrap()).collect();
            namespace.links.insert(interface.name.to_string(), link);
        }
        observed.namespaces.insert(netns.clone(), namespace);
    }
    observed
}

#[test]
fn live_mode_uses_the_kernel_s_states_and_names_the_drift() {
    let lab = example("router");
    let mut observed = observed_of(&lab);
    let same = explain_live(&lab, &observed, "left", ip("10.0.2.2")).unwrap();
    assert!(same.reach && same.drift.is_empty(), "{:?} {:?}", same.failure, same.drift);
    let router = observed.namespaces.get_mut(&nslab_model::identity::Netns::Named("router".into())).unwrap();
    router.links.get_mut("r-eth1").unwrap().up = false;
    router.ipv4_forwarding = false;
    let right = observed.namespaces.get_mut(&nslab_model::identity::Netns::Named("right".into())).unwrap();
    right.links.get_mut("x-eth0").unwrap().oper_up = false;
    let live = explain_live(&lab, &observed, "left", ip("10.0.2.2")).unwrap();
    assert!(!live.reach);
    let failure = live.failure.unwrap();
    assert_eq!((failure.hop, failure.reason), (1, Reason::ForwardingOff));
    let fix = failure.fix.unwrap();
    assert!(fix.edit.is_none() && fix.description.contains("kernel differs"), "{fix:?}");
    let drift: Vec<_> =
        live.drift.iter().map(|d| (d.namespace.as_str(), d.interface.as_deref(), d.message.as_str())).collect();
    assert!(drift.contains(&("router", Some("r-eth1"), "down in the kernel, up in the lab")), "{drift:?}");
    assert!(drift.contains(&("router", None, "IPv4 forwarding is off in the kernel, on in the lab")), "{drift:?}");
    // The lab alone still reaches.
    assert!(explain(&lab, "left", ip("10.0.2.2")).unwrap().reach);
}

/// One fault of each reason that has a lab edit, on a bundled example: (lab, from, to, reason).
fn broken(case: usize, v6: bool) -> (Lab, &'static str, &'static str, Reason) {
    let to = |v4: &'static str, v6_address: &'static str| if v6 { v6_address } else { v4 };
    match case {
        0 => {
            let mut lab = example("router");
            without_default(&mut lab, "left", v6);
            (lab, "left", to("10.0.2.2", "fd00:2::2"), Reason::NoRoute)
        }
        1 => {
            let mut lab = example("router");
            without_default(&mut lab, "right", v6);
            (lab, "left", to("10.0.2.2", "fd00:2::2"), Reason::NoReturnRoute)
        }
        2 => {
            let mut lab = example("router");
            let router = lab.namespace_mut("router").expect("a namespace");
            router.ipv4_forwarding = v6;
            router.ipv6_forwarding = !v6;
            (lab, "right", to("10.0.1.2", "fd00:1::2"), Reason::ForwardingOff)
        }
        3 => {
            let mut lab = example("router");
            lab.veth_end_mut(1, Side::A).expect("a veth").up = false;
            (lab, "left", to("10.0.2.2", "fd00:2::2"), Reason::InterfaceDown)
        }
        4 => {
            let mut lab = example("seed-veth");
            lab.veth_end_mut(0, Side::A).expect("a veth").up = false;
            (lab, "ns1", "192.168.1.1", Reason::NoCarrier)
        }
        5 => {
            let mut lab = example("router");
            let left = lab.namespace_mut("left").expect("a namespace");
            let index =
                left.routes.iter().position(|r| r.via.as_deref().is_some_and(|via| via.contains(':') == v6)).unwrap();
            left.routes[index].via = Some(to("10.0.1.77", "fd00:1::77").into());
            (lab, "left", to("10.0.2.2", "fd00:2::2"), Reason::NextHopUnheld)
        }
        6 => {
            let mut lab = example("router");
            lab.veth_end_mut(0, Side::B).expect("a veth").netem =
                Some(Netem { loss: Some("100%".into()), ..Netem::default() });
            (lab, "right", to("10.0.1.2", "fd00:1::2"), Reason::TotalLoss)
        }
        7 => {
            let mut lab = example("seed-bridge");
            let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!("docker0 first") };
            bridge.up = false;
            (lab, "ns2", "172.17.0.101", Reason::BridgeDown)
        }
        _ => {
            let mut lab = example("router");
            lab.namespace_mut("right").expect("a namespace").loopback_up = false;
            (lab, "right", to("10.0.2.2", "fd00:2::2"), Reason::LoopbackDown)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Each single fault fails with its reason, and its suggested fix, applied to the lab,
    /// makes every pair of the predicted matrix reach again.
    #[test]
    fn every_suggested_fix_makes_the_lab_reach(case in 0usize..9, v6 in any::<bool>()) {
        let (lab, from, to, reason) = broken(case, v6);
        let explained = explain(&lab, from, ip(to)).unwrap();
        let failure = explained.failure.expect("the fault stops the ping");
        prop_assert_eq!(failure.reason, reason, "{}", failure.message);
        let edit = failure.fix.and_then(|fix| fix.edit).expect("a lab edit");
        let fixed = edit.apply(&lab).unwrap();
        prop_assert!(explain(&fixed, from, ip(to)).unwrap().reach);
        let still: Vec<_> = predict_matrix(&fixed).pairs.into_iter().filter(|pair| !pair.reach).collect();
        prop_assert!(still.is_empty(), "{:?}", still);
    }
}

#[test]
fn a_change_lists_the_pairs_it_breaks_and_mends() {
    let lab = example("router");
    let mut broken = lab.clone();
    without_default(&mut broken, "right", false);
    let changes = nslab_model::reach::reach_changes(&lab, &broken);
    let stopped: Vec<_> = changes.iter().map(|pair| (pair.from.as_str(), pair.to.to_string(), pair.reach)).collect();
    assert_eq!(
        stopped,
        [
            ("left", "10.0.2.2".to_string(), false),
            ("right", "10.0.1.1".to_string(), false),
            ("right", "10.0.1.2".to_string(), false)
        ]
    );
    let mended = nslab_model::reach::reach_changes(&broken, &lab);
    assert!(mended.iter().all(|pair| pair.reach) && mended.len() == 3, "{mended:?}");
    assert!(nslab_model::reach::reach_changes(&lab, &lab).is_empty());
}

#[test]
fn ipv4_arp_is_answered_by_any_interface_of_the_namespace_ipv6_neighbours_are_not() {
    // ns0 has a second port on the bridge; the address pinged is on its first, which is down.
    let mut lab = example("seed-bridge");
    let second = r#"{"kind": "veth", "a": {"node": "ns0", "name": "eth1", "addresses": ["172.17.0.111/16", "fd00::111/64"]}, "b": {"node": "docker0", "name": "veth9"}}"#;
    lab.links.push(serde_json::from_str(second).unwrap());
    lab.veth_end_mut(0, Side::B).expect("a veth").addresses.push("fd00::101/64".into());
    lab.veth_end_mut(0, Side::B).expect("a veth").up = false;
    lab.veth_end_mut(1, Side::B).expect("a veth").addresses.push("fd00::102/64".into());
    let explained = explain(&lab, "ns1", ip("172.17.0.101")).unwrap();
    assert!(explained.reach, "{:?}", explained.failure);
    assert_eq!(explained.request[0].crossed.last().unwrap().interface, "eth1", "ns0 answers ARP on eth1");
    let v6 = explain(&lab, "ns1", ip("fd00::101")).unwrap();
    assert_eq!(v6.failure.unwrap().reason, Reason::InterfaceDown, "only eth0 answers for fd00::101, and it is down");
}

#[test]
fn a_lab_route_replaces_the_kernel_s_route_of_the_same_prefix_and_metric() {
    // nslab adds routes with replace: `10.0.1.0/24 via 10.0.3.1` takes the place of the
    // connected route of l-eth0.
    let mut lab = example("router");
    let extra = r#"{"kind": "veth", "a": {"node": "left", "name": "l-eth1", "addresses": ["10.0.3.2/24"]}, "b": {"node": "router", "name": "r-eth2", "addresses": ["10.0.3.1/24"]}}"#;
    lab.links.push(serde_json::from_str(extra).unwrap());
    lab.namespace_mut("left").expect("a namespace").routes.push(route("10.0.1.0/24", Some("10.0.3.1"), None, None));
    let explained = explain(&lab, "left", ip("10.0.1.1")).unwrap();
    assert!(explained.reach);
    assert_eq!(explained.request[0].route.as_deref(), Some("10.0.1.0/24 via 10.0.3.1 dev l-eth1"));
    // With another metric both stay, and the kernel's (metric 0) wins.
    lab.namespace_mut("left").expect("a namespace").routes.last_mut().unwrap().metric = Some(5);
    let explained = explain(&lab, "left", ip("10.0.1.1")).unwrap();
    assert_eq!(explained.request[0].route.as_deref(), Some("10.0.1.0/24 dev l-eth0 (connected)"));
}

/// Three namespaces, `a` joined to `b` by `e1` and to `c` by `e2`, with the addresses and
/// routes given (`{}` in a route list is none).
fn fork(a_e1: &str, a_e2: &str, b: &str, c: &str, a_routes: &str) -> Lab {
    load_lab_str(&format!(
        r#"{{"version": 1, "name": "fork", "nodes": [
            {{"kind": "namespace", "name": "a", "routes": [{a_routes}]}},
            {{"kind": "namespace", "name": "b"}}, {{"kind": "namespace", "name": "c"}}],
          "links": [
            {{"kind": "veth", "a": {{"node": "a", "name": "e1", "addresses": ["{a_e1}"]}}, "b": {{"node": "b", "name": "eth0", "addresses": ["{b}"]}}}},
            {{"kind": "veth", "a": {{"node": "a", "name": "e2", "addresses": ["{a_e2}"]}}, "b": {{"node": "c", "name": "eth0", "addresses": ["{c}"]}}}}]}}"#
    ))
    .unwrap()
}

#[test]
fn one_subnet_on_two_interfaces_is_named_as_a_limit_of_the_model() {
    let lab = fork("10.0.0.1/24", "10.0.0.3/24", "10.0.0.2/24", "10.0.0.4/24", "");
    let explained = explain(&lab, "a", ip("10.0.0.4")).unwrap();
    let limit = explained.limits.first().expect("a limit on the way");
    assert_eq!((limit.kind, limit.namespace.as_str()), (LimitKind::TwoRoutesOnePrefix, "a"));
    assert!(limit.message.contains("10.0.0.0/24") && limit.message.contains("`e1` and `e2`"), "{}", limit.message);
    // A route through a gateway in that subnet meets it too; other subnets do not.
    let routed = fork(
        "10.0.0.1/24",
        "10.0.0.3/24",
        "10.0.0.2/24",
        "10.0.0.4/24",
        r#"{"to": "192.0.2.0/24", "via": "10.0.0.2"}"#,
    );
    let through_gateway = explain(&routed, "a", ip("192.0.2.9")).unwrap();
    assert_eq!(through_gateway.limits.len(), 1, "{:#?}", through_gateway.limits);
    let plain = fork("10.0.1.1/24", "10.0.2.1/24", "10.0.1.2/24", "10.0.2.2/24", "");
    assert!(explain(&plain, "a", ip("10.0.2.2")).unwrap().limits.is_empty());
}

#[test]
fn an_ipv6_route_without_carrier_with_another_route_beside_it_is_named_as_a_limit() {
    let routes = r#"{"to": "default", "via": "fd00:2::2"}"#;
    let mut lab = fork("fd00:1::1/64", "fd00:2::1/64", "fd00:1::2/64", "fd00:2::2/64", routes);
    lab.veth_end_mut(0, Side::B).expect("a veth").up = false;
    let explained = explain(&lab, "a", ip("fd00:1::2")).unwrap();
    assert_eq!(explained.failure.as_ref().map(|failure| failure.reason), Some(Reason::NoCarrier));
    let kinds: Vec<LimitKind> = explained.limits.iter().map(|limit| limit.kind).collect();
    assert_eq!(kinds, [LimitKind::Ipv6RouteWithoutCarrier], "{:#?}", explained.limits);
    assert!(explained.limits[0].message.contains("default via fd00:2::2 dev e2"), "{}", explained.limits[0].message);
    // IPv4 has no such fallback, and without another route there is nothing to fall back to.
    let mut v4 =
        fork("10.0.1.1/24", "10.0.2.1/24", "10.0.1.2/24", "10.0.2.2/24", r#"{"to": "default", "via": "10.0.2.2"}"#);
    v4.veth_end_mut(0, Side::B).expect("a veth").up = false;
    assert!(explain(&v4, "a", ip("10.0.1.2")).unwrap().limits.is_empty());
    let mut alone = fork("fd00:1::1/64", "fd00:2::1/64", "fd00:1::2/64", "fd00:2::2/64", "");
    alone.veth_end_mut(0, Side::B).expect("a veth").up = false;
    assert!(explain(&alone, "a", ip("fd00:1::2")).unwrap().limits.is_empty());
}

#[test]
fn every_reason_and_limit_is_in_the_teaching_docs() {
    let docs = std::fs::read_to_string(format!("{}/../docs/teaching.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for reason in Reason::ALL {
        assert!(docs.contains(&format!("| `{}` |", reason.id())), "docs/teaching.md does not list `{}`", reason.id());
    }
    for kind in LimitKind::ALL {
        let id = serde_json::to_value(kind).unwrap().as_str().unwrap().to_string();
        assert!(docs.contains(&format!("| `{id}` |")), "docs/teaching.md does not list the limit `{id}`");
    }
}
