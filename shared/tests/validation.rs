//! Every validation rule, each with a document that breaks it (checking the reported path)
//! and a near-identical one that does not.

use nslab_model::{load_lab, validate, validate_with, Lab, Limits, Rule, Severity};
use serde_json::{json, Value};

/// Two namespaces `n1`, `n2` joined by one veth with the given ends.
fn pair(a: Value, b: Value) -> Value {
    json!({
        "version": 1, "name": "t",
        "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}],
        "links": [{"kind": "veth", "a": a, "b": b}]
    })
}

fn end(node: &str, name: &str, addresses: &[&str]) -> Value {
    json!({"node": node, "name": name, "addresses": addresses})
}

/// A bridge `br0` in the host with `n1` and `n2` plugged in.
fn bridged(bridge: Value, e1: Value, e2: Value) -> Value {
    json!({
        "version": 1, "name": "t",
        "nodes": [bridge, {"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}],
        "links": [
            {"kind": "veth", "a": {"node": "br0", "name": "p1"}, "b": e1},
            {"kind": "veth", "a": {"node": "br0", "name": "p2"}, "b": e2}
        ]
    })
}

/// A namespace `n1` linked to `n2`, with the given routes in `n1`.
fn routed(routes: Value) -> Value {
    json!({
        "version": 1, "name": "t",
        "nodes": [{"kind": "namespace", "name": "n1", "routes": routes}, {"kind": "namespace", "name": "n2"}],
        "links": [{"kind": "veth",
            "a": {"node": "n1", "name": "eth0", "addresses": ["10.0.0.1/24", "fd00::1/64"]},
            "b": {"node": "n2", "name": "eth0", "addresses": ["10.0.0.2/24", "fd00::2/64"]}}]
    })
}

/// The pair of `pair` with one goal.
fn with_goal(goal: Value) -> Value {
    let mut lab = pair(end("n1", "eth0", &["10.0.0.1/24"]), end("n2", "eth0", &["10.0.0.2/24"]));
    lab["goals"] = json!([goal]);
    lab
}

fn parse(document: &Value) -> Lab {
    load_lab(document.to_string().as_bytes(), &Limits::default()).expect("test documents are well-formed")
}

struct Case {
    rule: Rule,
    path: &'static str,
    bad: Value,
    good: Value,
}

fn case(rule: Rule, path: &'static str, bad: Value, good: Value) -> Case {
    Case { rule, path, bad, good }
}

fn cases() -> Vec<Case> {
    let ok_pair = || pair(end("n1", "eth0", &["10.0.0.1/24"]), end("n2", "eth0", &["10.0.0.2/24"]));
    let bridge = |extra: Value| {
        let mut node = json!({"kind": "bridge", "name": "br0"});
        node.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        node
    };
    vec![
        // Names.
        case(Rule::EmptyName, "links[0].a.name", pair(end("n1", "", &[]), end("n2", "eth0", &[])), ok_pair()),
        case(
            Rule::EmptyName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": ""}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a"}]}),
        ),
        case(Rule::EmptyName, "name", json!({"version": 1, "name": ""}), json!({"version": 1, "name": "x"})),
        case(
            Rule::InterfaceNameTooLong,
            "links[0].b.name",
            pair(end("n1", "eth0", &[]), end("n2", "a234567890123456", &[])),
            pair(end("n1", "eth0", &[]), end("n2", "a23456789012345", &[])),
        ),
        case(
            Rule::InterfaceNameTooLong,
            "links[0].a.name",
            // 8 two-byte characters: 16 bytes, although only 8 characters.
            pair(end("n1", "éééééééé", &[]), end("n2", "eth0", &[])),
            pair(end("n1", "ééééééé", &[]), end("n2", "eth0", &[])),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", "eth/0", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", "eth 0", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", "eth:0", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", "eth\u{7}", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", "..", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        // The kernel reads `%` as a template for a free name: `a%d` would be made as `a0`.
        case(
            Rule::InterfaceNameCharacters,
            "links[0].b.name",
            pair(end("n1", "e", &[]), end("n2", "a%d", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "nodes[0].name",
            bridged(bridge(json!({"name": "br%d"})), end("n1", "e", &[]), end("n2", "e", &[])),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "links[0].a.name",
            pair(end("n1", ".", &[]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::InterfaceNameCharacters,
            "nodes[0].name",
            bridged(bridge(json!({"name": "br:0"})), end("n1", "e", &[]), end("n2", "e", &[])),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(Rule::ReservedName, "links[0].a.name", pair(end("n1", "lo", &[]), end("n2", "e", &[])), ok_pair()),
        case(
            Rule::NamespaceName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a/b"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a-b"}]}),
        ),
        case(
            Rule::NamespaceName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a..b"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a.b"}]}),
        ),
        case(
            Rule::NamespaceName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a\u{0}b"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "ab"}]}),
        ),
        case(
            Rule::NamespaceName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "-n"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "n-"}]}),
        ),
        case(
            Rule::NamespaceName,
            "nodes[0].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "n".repeat(256)}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "n".repeat(255)}]}),
        ),
        case(Rule::LabName, "name", json!({"version": 1, "name": "../etc"}), json!({"version": 1, "name": "etc"})),
        case(
            Rule::DuplicateNodeName,
            "nodes[1].name",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a"}, {"kind": "bridge", "name": "a"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a"}, {"kind": "bridge", "name": "b"}]}),
        ),
        case(
            Rule::SecondHost,
            "nodes[1]",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "host", "name": "h"}, {"kind": "host", "name": "h2"}]}),
            json!({"version": 1, "name": "t", "nodes": [{"kind": "host", "name": "h"}]}),
        ),
        case(
            Rule::DuplicateInterfaceName,
            "links[1].a.name",
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}, {"kind": "namespace", "name": "n3"}],
                "links": [{"kind": "veth", "a": {"node": "n1", "name": "eth0"}, "b": {"node": "n2", "name": "eth0"}},
                          {"kind": "veth", "a": {"node": "n1", "name": "eth0"}, "b": {"node": "n3", "name": "eth0"}}]}),
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}, {"kind": "namespace", "name": "n3"}],
                "links": [{"kind": "veth", "a": {"node": "n1", "name": "eth0"}, "b": {"node": "n2", "name": "eth0"}},
                          {"kind": "veth", "a": {"node": "n1", "name": "eth1"}, "b": {"node": "n3", "name": "eth0"}}]}),
        ),
        case(
            // A bridge port is an interface of the bridge's namespace, here the host's.
            Rule::DuplicateInterfaceName,
            "links[1].a.name",
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])).pipe(|mut doc| {
                doc["links"][1]["a"]["name"] = json!("p1");
                doc
            }),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::DuplicateInterfaceName,
            "links[0].a.name",
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])).pipe(|mut doc| {
                doc["links"][0]["a"]["name"] = json!("br0");
                doc
            }),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        // References.
        case(Rule::UnknownNode, "links[0].b.node", pair(end("n1", "e", &[]), end("n9", "e", &[])), ok_pair()),
        case(
            Rule::UnknownNode,
            "nodes[0].namespace",
            bridged(bridge(json!({"namespace": "nowhere"})), end("n1", "e", &[]), end("n2", "e", &[])),
            bridged(bridge(json!({"namespace": "n1"})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::WrongNodeKind,
            "nodes[0].namespace",
            bridged(bridge(json!({"namespace": "br0"})), end("n1", "e", &[]), end("n2", "e", &[])),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::UnknownNode,
            "goals[0].from",
            with_goal(json!({"kind": "reach", "from": "n9", "to": "10.0.0.2"})),
            with_goal(json!({"kind": "reach", "from": "n1", "to": "10.0.0.2"})),
        ),
        case(
            Rule::UnknownNode,
            "goals[0].to",
            with_goal(json!({"kind": "no_reach", "from": "n1", "to": "n9:eth0"})),
            // An interface the lab does not have yet is the exercise, not a mistake.
            with_goal(json!({"kind": "no_reach", "from": "n1", "to": "n2:eth7"})),
        ),
        case(
            Rule::UnknownNode,
            "goals[0].node",
            with_goal(json!({"kind": "address", "node": "n9", "interface": "eth0", "subnet": "10.0.0.0/24"})),
            with_goal(json!({"kind": "address", "node": "n2", "interface": "eth1", "subnet": "10.0.0.0/24"})),
        ),
        case(
            Rule::WrongNodeKind,
            "goals[0].node",
            {
                let mut lab = bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[]));
                lab["goals"] = json!([{"kind": "forwarding", "node": "br0"}]);
                lab
            },
            {
                let mut lab = bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[]));
                lab["goals"] = json!([{"kind": "forwarding", "node": "n1", "family": "ipv6"}]);
                lab
            },
        ),
        case(
            Rule::InvalidGoal,
            "goals[0].to",
            with_goal(json!({"kind": "route", "node": "n1", "to": "10.0.0.1/33"})),
            with_goal(json!({"kind": "route", "node": "n1", "to": "default6"})),
        ),
        case(
            Rule::InvalidGoal,
            "goals[0].via",
            with_goal(json!({"kind": "route", "node": "n1", "to": "default", "via": "10.0.0.256"})),
            with_goal(json!({"kind": "route", "node": "n1", "to": "default", "via": "10.0.0.2"})),
        ),
        case(
            Rule::InvalidGoal,
            "goals[0].subnet",
            with_goal(json!({"kind": "address", "node": "n1", "interface": "eth0", "subnet": "10.0.0.0"})),
            with_goal(json!({"kind": "address", "node": "n1", "interface": "eth0", "subnet": "10.0.0.0/24"})),
        ),
        case(
            Rule::VethSameBridge,
            "links[1]",
            bridged(bridge(json!({})), end("n1", "e", &[]), json!({"node": "br0", "name": "p3"})),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::UnknownRouteDevice,
            "nodes[0].routes[0].dev",
            routed(json!([{"to": "10.9.0.0/16", "dev": "eth9"}])),
            routed(json!([{"to": "10.9.0.0/16", "dev": "eth0"}])),
        ),
        // Addresses.
        case(
            Rule::InvalidAddress,
            "links[0].b.addresses[0]",
            pair(end("n1", "e", &[]), end("n2", "e", &["10.0.0.300/24"])),
            ok_pair(),
        ),
        case(
            Rule::InvalidAddress,
            "links[0].b.addresses[1]",
            pair(end("n1", "e", &[]), end("n2", "e", &["10.0.0.2/24", "10.0.0.3"])),
            ok_pair(),
        ),
        case(
            Rule::InvalidAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["fd00::1/129"]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::NetworkAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["10.0.0.0/24"]), end("n2", "e", &["10.0.0.2/24"])),
            ok_pair(),
        ),
        case(
            Rule::NetworkAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["fd00::/64"]), end("n2", "e", &["fd00::2/64"])),
            pair(end("n1", "e", &["fd00::1/64"]), end("n2", "e", &["fd00::2/64"])),
        ),
        case(
            Rule::BroadcastAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["10.0.0.255/24"]), end("n2", "e", &["10.0.0.2/24"])),
            ok_pair(),
        ),
        // On a /31 point-to-point link both addresses are hosts (RFC 3021).
        case(
            Rule::NetworkAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["10.0.0.0/30"]), end("n2", "e", &["10.0.0.1/30"])),
            pair(end("n1", "e", &["10.0.0.0/31"]), end("n2", "e", &["10.0.0.1/31"])),
        ),
        case(
            Rule::UnusableAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["127.0.0.2/8"]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::UnusableAddress,
            "links[0].a.addresses[0]",
            pair(end("n1", "e", &["224.0.0.1/24"]), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::DuplicateAddress,
            "links[1].b.addresses[0]",
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}, {"kind": "namespace", "name": "n3"}],
                "links": [{"kind": "veth", "a": {"node": "n2", "name": "a", "addresses": ["10.0.0.1/24"]}, "b": {"node": "n1", "name": "a", "addresses": ["10.0.0.2/24"]}},
                          {"kind": "veth", "a": {"node": "n3", "name": "b", "addresses": ["10.0.1.1/24"]}, "b": {"node": "n1", "name": "b", "addresses": ["10.0.0.2/16"]}}]}),
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}, {"kind": "namespace", "name": "n3"}],
                "links": [{"kind": "veth", "a": {"node": "n2", "name": "a", "addresses": ["10.0.0.1/24"]}, "b": {"node": "n1", "name": "a", "addresses": ["10.0.0.2/24"]}},
                          {"kind": "veth", "a": {"node": "n3", "name": "b", "addresses": ["10.0.1.1/24"]}, "b": {"node": "n1", "name": "b", "addresses": ["10.0.1.2/24"]}}]}),
        ),
        case(
            Rule::DuplicateAddressOnLink,
            "links[0].b.addresses[0]",
            pair(end("n1", "e", &["10.0.0.1/24"]), end("n2", "e", &["10.0.0.1/24"])),
            ok_pair(),
        ),
        case(
            Rule::DuplicateAddressOnLink,
            "links[1].b.addresses[0]",
            bridged(bridge(json!({})), end("n1", "e", &["10.0.0.5/24"]), end("n2", "e", &["10.0.0.5/24"])),
            bridged(bridge(json!({})), end("n1", "e", &["10.0.0.5/24"]), end("n2", "e", &["10.0.0.6/24"])),
        ),
        case(
            Rule::DuplicateAddressOnLink,
            "links[0].b.addresses[0]",
            bridged(
                bridge(json!({"addresses": ["10.0.0.1/24"]})),
                end("n1", "e", &["10.0.0.1/24"]),
                end("n2", "e", &[]),
            ),
            bridged(
                bridge(json!({"addresses": ["10.0.0.1/24"]})),
                end("n1", "e", &["10.0.0.2/24"]),
                end("n2", "e", &[]),
            ),
        ),
        case(
            Rule::InvalidMac,
            "links[0].a.mac",
            pair(json!({"node": "n1", "name": "e", "mac": "01:00:00:00:00:01"}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "mac": "02:00:00:00:00:01"}), end("n2", "e", &[])),
        ),
        case(
            Rule::InvalidMac,
            "links[0].a.mac",
            pair(json!({"node": "n1", "name": "e", "mac": "zz"}), end("n2", "e", &[])),
            ok_pair(),
        ),
        case(
            Rule::DuplicateMac,
            "links[0].b.mac",
            pair(
                json!({"node": "n1", "name": "e", "mac": "02:00:00:00:00:01"}),
                json!({"node": "n2", "name": "e", "mac": "02:00:00:00:00:01"}),
            ),
            pair(
                json!({"node": "n1", "name": "e", "mac": "02:00:00:00:00:01"}),
                json!({"node": "n2", "name": "e", "mac": "02:00:00:00:00:02"}),
            ),
        ),
        // Impairments.
        case(
            Rule::InvalidImpairment,
            "links[0].a.netem.delay",
            pair(json!({"node": "n1", "name": "e", "netem": {"delay": "50 ms"}}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "netem": {"delay": "50ms"}}), end("n2", "e", &[])),
        ),
        case(
            Rule::InvalidImpairment,
            "links[0].b.netem.loss",
            pair(end("n1", "e", &[]), json!({"node": "n2", "name": "e", "netem": {"loss": "120%"}})),
            pair(end("n1", "e", &[]), json!({"node": "n2", "name": "e", "netem": {"loss": "100%"}})),
        ),
        case(
            Rule::InvalidImpairment,
            "links[0].a.netem.rate",
            pair(json!({"node": "n1", "name": "e", "netem": {"rate": "0mbit"}}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "netem": {"rate": "1mbit"}}), end("n2", "e", &[])),
        ),
        case(
            Rule::InvalidImpairment,
            "links[0].a.netem.limit",
            pair(json!({"node": "n1", "name": "e", "netem": {"limit": 0}}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "netem": {"limit": 10}}), end("n2", "e", &[])),
        ),
        case(
            Rule::ReorderWithoutDelay,
            "links[0].a.netem.reorder",
            pair(json!({"node": "n1", "name": "e", "netem": {"reorder": "25%"}}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "netem": {"reorder": "25%", "delay": "10ms"}}), end("n2", "e", &[])),
        ),
        case(
            Rule::JitterAboveDelay,
            "links[0].a.netem.jitter",
            pair(json!({"node": "n1", "name": "e", "netem": {"delay": "5ms", "jitter": "10ms"}}), end("n2", "e", &[])),
            pair(json!({"node": "n1", "name": "e", "netem": {"delay": "10ms", "jitter": "5ms"}}), end("n2", "e", &[])),
        ),
        case(
            Rule::AddressOnBridgePort,
            "links[0].a.addresses[0]",
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])).pipe(|mut doc| {
                doc["links"][0]["a"]["addresses"] = json!(["10.0.0.9/24"]);
                doc
            }),
            bridged(bridge(json!({"addresses": ["10.0.0.9/24"]})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        // Routes.
        case(
            Rule::InvalidRoute,
            "nodes[0].routes[0].to",
            routed(json!([{"to": "anywhere", "via": "10.0.0.2"}])),
            routed(json!([{"to": "default", "via": "10.0.0.2"}])),
        ),
        case(
            Rule::InvalidRoute,
            "nodes[0].routes[0].to",
            routed(json!([{"to": "10.9.0.1/16", "via": "10.0.0.2"}])),
            routed(json!([{"to": "10.9.0.0/16", "via": "10.0.0.2"}])),
        ),
        case(
            Rule::InvalidRoute,
            "nodes[0].routes[0].via",
            routed(json!([{"to": "default", "via": "10.0.0.2/24"}])),
            routed(json!([{"to": "default", "via": "10.0.0.2"}])),
        ),
        case(
            Rule::InvalidRoute,
            "nodes[0].routes[0].via",
            routed(json!([{"to": "10.9.0.0/16", "via": "fd00::2"}])),
            routed(json!([{"to": "fd09::/64", "via": "fd00::2"}])),
        ),
        case(
            Rule::InvalidRoute,
            "nodes[0].routes[0]",
            routed(json!([{"to": "10.9.0.0/16"}])),
            routed(json!([{"to": "10.9.0.0/16", "dev": "eth0"}])),
        ),
        case(
            Rule::DuplicateRoute,
            "nodes[0].routes[1]",
            routed(json!([{"to": "default", "via": "10.0.0.2"}, {"to": "0.0.0.0/0", "dev": "eth0"}])),
            routed(json!([{"to": "default", "via": "10.0.0.2"}, {"to": "default", "via": "fd00::2"}])),
        ),
        case(
            Rule::DuplicateRoute,
            "nodes[0].routes[1]",
            routed(json!([{"to": "default", "via": "fd00::2"}, {"to": "::/0", "dev": "eth0"}])),
            routed(json!([{"to": "default", "via": "fd00::2"}, {"to": "::/0", "dev": "eth0", "metric": 10}])),
        ),
        // An IPv6 route without a metric has the kernel's 1024.
        case(
            Rule::DuplicateRoute,
            "nodes[0].routes[1]",
            routed(json!([{"to": "default", "via": "fd00::2"}, {"to": "::/0", "dev": "eth0", "metric": 1024}])),
            routed(json!([{"to": "default", "via": "10.0.0.2"}, {"to": "0.0.0.0/0", "dev": "eth0", "metric": 1024}])),
        ),
        // Limits.
        case(
            Rule::MtuOutOfRange,
            "links[0].a.mtu",
            pair(json!({"node": "n1", "name": "e", "mtu": 67}), json!({"node": "n2", "name": "e", "mtu": 67})),
            pair(json!({"node": "n1", "name": "e", "mtu": 68}), json!({"node": "n2", "name": "e", "mtu": 68})),
        ),
        case(
            Rule::MtuOutOfRange,
            "links[0].b.mtu",
            pair(json!({"node": "n1", "name": "e", "mtu": 65536}), json!({"node": "n2", "name": "e", "mtu": 65536})),
            pair(json!({"node": "n1", "name": "e", "mtu": 65535}), json!({"node": "n2", "name": "e", "mtu": 65535})),
        ),
        case(
            Rule::MtuOutOfRange,
            "nodes[0].mtu",
            bridged(bridge(json!({"mtu": 70000})), end("n1", "e", &[]), end("n2", "e", &[])),
            bridged(bridge(json!({"mtu": 1500})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        // Lab sense: warnings.
        case(
            Rule::SubnetMismatch,
            "links[0].b.addresses[0]",
            pair(end("n1", "e", &["10.0.0.1/24"]), end("n2", "e", &["10.0.1.2/24"])),
            ok_pair(),
        ),
        case(
            Rule::SubnetMismatch,
            "links[1].b.addresses[0]",
            bridged(
                bridge(json!({"addresses": ["10.0.0.1/24"]})),
                end("n1", "e", &["10.0.0.2/24"]),
                end("n2", "e", &["10.0.9.3/24"]),
            ),
            bridged(
                bridge(json!({"addresses": ["10.0.0.1/24"]})),
                end("n1", "e", &["10.0.0.2/24"]),
                end("n2", "e", &["10.0.0.3/24"]),
            ),
        ),
        case(
            Rule::MtuMismatch,
            "links[0].b.mtu",
            pair(
                json!({"node": "n1", "name": "e", "mtu": 9000, "addresses": ["10.0.0.1/24"]}),
                json!({"node": "n2", "name": "e", "mtu": 1400}),
            ),
            pair(json!({"node": "n1", "name": "e", "mtu": 9000}), json!({"node": "n2", "name": "e", "mtu": 9000})),
        ),
        case(
            Rule::MtuMismatch,
            "links[1].b.mtu",
            bridged(bridge(json!({})), end("n1", "e", &[]), json!({"node": "n2", "name": "e", "mtu": 9000})),
            bridged(bridge(json!({})), end("n1", "e", &[]), end("n2", "e", &[])),
        ),
        case(
            Rule::MtuTooSmallForIpv6,
            "links[0].a.mtu",
            pair(
                json!({"node": "n1", "name": "e", "mtu": 1200, "addresses": ["fd00::1/64"]}),
                json!({"node": "n2", "name": "e", "mtu": 1200}),
            ),
            pair(
                json!({"node": "n1", "name": "e", "mtu": 1200, "addresses": ["10.0.0.1/24"]}),
                json!({"node": "n2", "name": "e", "mtu": 1200}),
            ),
        ),
        case(
            Rule::GatewayUnreachable,
            "nodes[0].routes[0].via",
            routed(json!([{"to": "default", "via": "10.0.5.1"}])),
            routed(json!([{"to": "default", "via": "10.0.0.2"}])),
        ),
        // A route to the gateway's own subnet replaces the kernel's route to it.
        case(
            Rule::GatewayUnreachable,
            "nodes[0].routes[1].via",
            routed(json!([{"to": "10.0.0.0/24", "via": "10.0.0.2"}, {"to": "default", "via": "10.0.0.2"}])),
            routed(
                json!([{"to": "10.0.0.0/24", "via": "10.0.0.2", "metric": 5}, {"to": "default", "via": "10.0.0.2"}]),
            ),
        ),
        // A more precise route through another gateway covers this one's gateway (IPv6).
        case(
            Rule::GatewayUnreachable,
            "nodes[0].routes[1].via",
            routed(json!([{"to": "fd00::/120", "via": "fd00::2"}, {"to": "fd00:9::/64", "via": "fd00::5"}])),
            routed(json!([{"to": "fd00::100/120", "via": "fd00::2"}, {"to": "fd00:9::/64", "via": "fd00::5"}])),
        ),
        case(
            Rule::BridgeLoop,
            "links[2]",
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "bridge", "name": "b1"}, {"kind": "bridge", "name": "b2"}, {"kind": "bridge", "name": "b3"}],
                "links": [{"kind": "veth", "a": {"node": "b1", "name": "x1"}, "b": {"node": "b2", "name": "y1"}},
                          {"kind": "veth", "a": {"node": "b2", "name": "x2"}, "b": {"node": "b3", "name": "y2"}},
                          {"kind": "veth", "a": {"node": "b3", "name": "x3"}, "b": {"node": "b1", "name": "y3"}}]}),
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "bridge", "name": "b1"}, {"kind": "bridge", "name": "b2"}, {"kind": "bridge", "name": "b3"}],
                "links": [{"kind": "veth", "a": {"node": "b1", "name": "x1"}, "b": {"node": "b2", "name": "y1"}},
                          {"kind": "veth", "a": {"node": "b2", "name": "x2"}, "b": {"node": "b3", "name": "y2"}}]}),
        ),
        case(
            Rule::IsolatedNamespace,
            "nodes[2]",
            ok_pair().pipe(|mut doc| {
                doc["nodes"].as_array_mut().unwrap().push(json!({"kind": "namespace", "name": "n3"}));
                doc
            }),
            ok_pair(),
        ),
    ]
}

trait Pipe: Sized {
    fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }
}
impl Pipe for Value {}

#[test]
fn every_rule_fails_its_bad_document_at_the_right_path_and_passes_its_good_one() {
    let mut failures = Vec::new();
    for (index, case) in cases().iter().enumerate() {
        let bad = validate(&parse(&case.bad));
        let found = bad.iter().any(|p| p.rule == case.rule && p.path.as_str() == case.path);
        if !found {
            failures.push(format!("case {index} ({:?} at {}): not reported; got {bad:#?}", case.rule, case.path));
        }
        let good = validate(&parse(&case.good));
        if let Some(problem) = good.iter().find(|p| p.rule == case.rule) {
            failures.push(format!("case {index} ({:?}): the good document still reports {problem}", case.rule));
        }
        for problem in &bad {
            assert!(!problem.message.is_empty(), "case {index}: empty message");
            assert_eq!(problem.severity, problem.rule.severity());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_case() {
    let covered: std::collections::HashSet<Rule> = cases().iter().map(|case| case.rule).collect();
    let file_rules = [
        Rule::FileTooLarge,
        Rule::Syntax,
        Rule::UnsupportedVersion,
        Rule::Shape,
        Rule::TooManyNodes,
        Rule::TooManyLinks,
    ];
    let all = all_rules();
    let missing: Vec<&Rule> = all.iter().filter(|rule| !covered.contains(rule) && !file_rules.contains(rule)).collect();
    assert!(missing.is_empty(), "rules without a table case: {missing:?}");
}

/// Every rule, read back from the wire names so a new rule cannot be forgotten here.
fn all_rules() -> Vec<Rule> {
    let source = include_str!("../src/problem.rs");
    let body = source.split("pub enum Rule {").nth(1).unwrap().split('}').next().unwrap();
    body.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && line.ends_with(','))
        .map(|line| {
            let name = line.trim_end_matches(',');
            let kebab: String = name
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    if c.is_uppercase() && i > 0 {
                        vec!['-', c.to_ascii_lowercase()]
                    } else {
                        vec![c.to_ascii_lowercase()]
                    }
                })
                .collect();
            serde_json::from_value(json!(kebab)).unwrap_or_else(|_| panic!("{name} is not a rule"))
        })
        .collect()
}

/// Found by the planner's fuzz target (on a seed of its corpus): the kernel refuses a gateway whose only interface in its
/// subnet is down, so apply failed half-way on a lab validation had nothing to say about.
#[test]
fn a_gateway_behind_an_interface_that_is_down_is_unreachable() {
    let mut document = routed(json!([{"to": "default", "via": "10.0.0.2"}, {"to": "default", "via": "fd00::2"}]));
    document["links"][0]["a"]["up"] = json!(false);
    let problems = validate(&parse(&document));
    let unreachable: Vec<&str> =
        problems.iter().filter(|p| p.rule == Rule::GatewayUnreachable).map(|p| p.path.as_str()).collect();
    assert_eq!(unreachable, ["nodes[0].routes[0].via", "nodes[0].routes[1].via"], "{problems:#?}");
    assert!(problems.iter().all(|p| !p.is_error()), "a warning, not an error: {problems:#?}");
}

#[test]
fn warnings_do_not_block_and_errors_do() {
    let warned = validate(&parse(&pair(end("n1", "e", &["10.0.0.1/24"]), end("n2", "e", &["10.0.1.2/24"]))));
    assert!(!warned.is_empty() && warned.iter().all(|p| p.severity == Severity::Warning));
    assert!(!nslab_model::problem::has_errors(&warned));
    let broken = validate(&parse(&pair(end("n1", "lo", &[]), end("n2", "e", &[]))));
    assert!(nslab_model::problem::has_errors(&broken));
}

#[test]
fn all_problems_are_reported_at_once() {
    let document = pair(end("n1", "a234567890123456", &["10.0.0.300/24"]), end("n9", "lo", &["10.0.0.0/24"]));
    let problems = validate(&parse(&document));
    let rules: Vec<Rule> = problems.iter().map(|p| p.rule).collect();
    for expected in [Rule::InterfaceNameTooLong, Rule::InvalidAddress, Rule::UnknownNode, Rule::ReservedName] {
        assert!(rules.contains(&expected), "{expected:?} missing from {rules:?}");
    }
}

#[test]
fn the_examples_are_clean() {
    for (name, text) in [
        ("seed-veth", include_str!("../../examples/seed-veth.json")),
        ("seed-bridge", include_str!("../../examples/seed-bridge.json")),
        ("router", include_str!("../../examples/router.json")),
    ] {
        let lab = load_lab(text.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(validate(&lab), vec![], "{name}");
        assert_eq!(nslab_model::export::to_json(&lab), text, "{name} is not in canonical form");
    }
}

#[test]
fn size_limits_are_clear_errors_and_stop_further_checks() {
    let limits = Limits { max_nodes: 3, max_links: 1, ..Limits::default() };
    let mut lab = Lab::new("big");
    for i in 0..5 {
        lab.nodes.push(nslab_model::Node::Namespace(nslab_model::NamespaceNode::new(format!("n{i}"))));
    }
    for i in 0..2 {
        lab.links.push(nslab_model::Link::Veth(nslab_model::VethLink {
            a: nslab_model::Endpoint::new("n0", format!("a{i}")),
            b: nslab_model::Endpoint::new("nowhere", "b"),
            editor: None,
        }));
    }
    let problems = validate_with(&lab, &limits);
    let rules: Vec<(Rule, &str)> = problems.iter().map(|p| (p.rule, p.path.as_str())).collect();
    assert_eq!(rules, vec![(Rule::TooManyNodes, "nodes"), (Rule::TooManyLinks, "links")]);
    let small = Limits::default();
    assert!(validate_with(&lab, &small).iter().all(|p| p.rule != Rule::TooManyNodes));
}

#[test]
fn the_largest_allowed_lab_validates_without_errors() {
    // 4096 nodes (a bridge and 4095 namespaces on it) and 4095 links: the most the default
    // limits allow is a valid lab. How fast validation is, and how it grows, is not checked
    // here (tests assert no times, and validation has no count of its work to assert on).
    let mut lab = Lab::new("star");
    lab.nodes.push(nslab_model::Node::Bridge(nslab_model::BridgeNode::new("br0")));
    for i in 0..4095u32 {
        lab.nodes.push(nslab_model::Node::Namespace(nslab_model::NamespaceNode::new(format!("n{i}"))));
        let mut end = nslab_model::Endpoint::new(format!("n{i}"), "eth0");
        end.addresses.push(format!("10.{}.{}.1/8", i / 250, i % 250 + 1));
        lab.links.push(nslab_model::Link::Veth(nslab_model::VethLink {
            a: nslab_model::Endpoint::new("br0", format!("p{i}")),
            b: end,
            editor: None,
        }));
    }
    assert_eq!(lab.nodes.len(), Limits::default().max_nodes, "as many nodes as allowed");
    let problems = validate(&lab);
    assert!(problems.iter().all(|p| !p.is_error()), "{:?}", problems.first());
}
