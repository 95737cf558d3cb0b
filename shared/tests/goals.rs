//! Goals in the lab file: their shape (a wrong kind or field is a located error), the
//! addresses a reach goal pings, and their sentences.

use nslab_model::goals::{goal_targets, route_goal_destination, Goal};
use nslab_model::{load_lab, Lab, Limits};

fn lab(goals: &str) -> Result<Lab, String> {
    let text = format!(
        r#"{{"version": 1, "name": "t",
            "nodes": [{{"kind": "namespace", "name": "a"}}, {{"kind": "namespace", "name": "b"}},
                      {{"kind": "bridge", "name": "br0", "addresses": ["10.0.9.1/24"]}}],
            "links": [{{"kind": "veth", "a": {{"node": "a", "name": "eth0", "addresses": ["10.0.0.1/24", "fd00::1/64", "fe80::1/64"]}},
                                         "b": {{"node": "b", "name": "eth0", "addresses": ["fd00::2/64", "10.0.0.2/24"]}}}},
                      {{"kind": "veth", "a": {{"node": "br0", "name": "p1"}}, "b": {{"node": "b", "name": "eth1", "addresses": ["10.0.9.2/24"]}}}}],
            "goals": {goals}}}"#
    );
    load_lab(text.as_bytes(), &Limits::default()).map_err(|error| error.to_problem().to_string())
}

#[test]
fn every_kind_reads_and_writes_back_the_same() {
    let goals = r#"[{"kind": "reach", "from": "a", "to": "10.0.0.2", "hint": "look"},
        {"kind": "no_reach", "from": "a", "to": "b"},
        {"kind": "route", "node": "a", "to": "default", "via": "10.0.0.2"},
        {"kind": "forwarding", "node": "b", "family": "ipv6"},
        {"kind": "address", "node": "b", "interface": "eth0", "subnet": "10.0.0.0/24"}]"#;
    let read = lab(goals).expect("reads");
    assert_eq!(read.goals.len(), 5);
    let written = serde_json::to_string(&read).expect("writes");
    assert_eq!(lab(&serde_json::to_string(&read.goals).unwrap()).unwrap(), read, "{written}");
    let sentences: Vec<String> = read.goals.iter().map(Goal::describe).collect();
    assert_eq!(
        sentences,
        [
            "a reaches 10.0.0.2",
            "a does not reach b",
            "a has a route to default via 10.0.0.2",
            "b forwards IPv6",
            "b eth0 is up with an address in 10.0.0.0/24",
        ]
    );
    assert_eq!(read.goals[0].hint(), Some("look"));
}

#[test]
fn a_wrong_kind_or_field_is_refused_where_it_is() {
    let error = lab(r#"[{"kind": "reach", "from": "a", "to": "b"}, {"kind": "reaches", "from": "a"}]"#).unwrap_err();
    assert!(error.contains("goals[1]") && error.contains("unknown variant `reaches`"), "{error}");
    let error = lab(r#"[{"kind": "route", "node": "a", "to": "default", "gateway": "10.0.0.2"}]"#).unwrap_err();
    assert!(error.contains("goals[0]") && error.contains("unknown field `gateway`"), "{error}");
    let error = lab(r#"[{"kind": "forwarding", "node": "a", "family": "ipx"}]"#).unwrap_err();
    assert!(error.contains("goals[0].family"), "{error}");
    let error = lab(r#"[{"kind": "reach", "from": "a"}]"#).unwrap_err();
    assert!(error.contains("missing field `to`"), "{error}");
}

#[test]
fn a_reach_goal_pings_an_address_an_interface_or_every_address_of_a_node() {
    let lab = lab("[]").unwrap();
    let targets = |to: &str| goal_targets(&lab, to).map(|all| all.iter().map(ToString::to_string).collect::<Vec<_>>());
    assert_eq!(targets("192.0.2.7").unwrap(), ["192.0.2.7"]);
    // IPv4 first, whatever the order in the file.
    assert_eq!(targets("b:eth0").unwrap(), ["10.0.0.2"]);
    // Every address of the node, link-local ones aside; a bridge's own only.
    assert_eq!(targets("a").unwrap(), ["10.0.0.1", "fd00::1"]);
    assert_eq!(targets("br0").unwrap(), ["10.0.9.1"]);
    assert_eq!(targets("b").unwrap(), ["fd00::2", "10.0.0.2", "10.0.9.2"]);
    assert!(targets("a:eth9").unwrap_err().contains("`a` has no interface `eth9`"));
    assert!(targets("br0:p1").unwrap_err().contains("has no address"));
    assert!(targets("nowhere").unwrap_err().contains("neither an address"));
}

#[test]
fn route_destinations_read_as_the_kernel_names_them() {
    assert_eq!(route_goal_destination("default").unwrap().to_string(), "0.0.0.0/0");
    assert_eq!(route_goal_destination("default6").unwrap().to_string(), "::/0");
    assert_eq!(route_goal_destination("10.0.2.7/24").unwrap().to_string(), "10.0.2.0/24");
    assert!(route_goal_destination("10.0.2.0").is_err());
}
