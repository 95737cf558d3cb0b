//! `nslab explain` and `nslab reach` from the command line: no kernel involved, so no
//! sandbox. Exit codes (0 reaches, 4 fails, 2 bad input), the text and JSON forms, and
//! bad input: an unknown namespace, a target that is no address, a lab with errors.

use std::path::Path;
use std::process::{Command, Output};

use nslab_model::{Lab, Node};
use nslab_tests::paths::{example, example_lab, nslab_binary};

fn nslab(args: &[&str]) -> Output {
    Command::new(nslab_binary()).args(args).output().expect("nslab runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &tempfile::TempDir, lab: &Lab) -> String {
    let path = dir.path().join(format!("{}.json", lab.name));
    std::fs::write(&path, nslab_model::export::to_json(lab)).unwrap();
    path.display().to_string()
}

/// The router example without left's IPv4 default route.
fn without_left_default(dir: &tempfile::TempDir) -> String {
    let mut lab = example_lab("router");
    let Node::Namespace(left) = &mut lab.nodes[0] else { panic!("left first") };
    left.routes.retain(|route| route.via.as_deref() != Some("10.0.1.1"));
    write(dir, &lab)
}

fn path(file: &Path) -> &str {
    file.to_str().expect("a UTF-8 path")
}

#[test]
fn explain_exits_0_with_the_path_when_the_ping_would_be_answered() {
    let router = example("router");
    let output = nslab(&["explain", path(&router), "left", "right"]);
    let said = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{said}{}", text(&output.stderr));
    assert!(said.starts_with("ping from left to 10.0.2.2 (from 10.0.1.2): reaches"), "{said}");
    assert!(said.contains("1. left: out of l-eth0 to 10.0.1.1 (route default via 10.0.1.1 dev l-eth0)"), "{said}");
    assert!(said.contains("reply:\n  1. right: out of x-eth0 to 10.0.2.1"), "{said}");
    assert!(!said.contains("fix:"), "{said}");
    // NODE:INTERFACE and IPv6 addresses too.
    let output = nslab(&["explain", path(&router), "right", "left:l-eth0"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let output = nslab(&["explain", path(&router), "right", "fd00:1::2"]);
    assert!(text(&output.stdout).contains("(from fd00:2::2): reaches"), "{}", text(&output.stdout));
}

#[test]
fn explain_exits_4_with_the_failing_hop_its_reason_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = without_left_default(&dir);
    let output = nslab(&["explain", &file, "left", "10.0.2.2"]);
    let said = text(&output.stdout);
    assert_eq!(output.status.code(), Some(4), "{said}");
    assert!(said.starts_with("ping from left to 10.0.2.2: fails"), "{said}");
    assert!(
        said.contains(
            "fails at request hop 1 (left): `left` has no route to 10.0.2.2 and no IPv4 default route [no_route]"
        ),
        "{said}"
    );
    assert!(said.contains("fix: add a default route to `left` through `router` (10.0.1.1)"), "{said}");
    assert!(said.contains("  ip -n left route add default via 10.0.1.1\n"), "{said}");
    // The reply's failure from the other side.
    let output = nslab(&["explain", &file, "right", "10.0.1.2"]);
    let said = text(&output.stdout);
    assert_eq!(output.status.code(), Some(4), "{said}");
    assert!(said.contains("fails at reply hop 1 (left): the reply cannot get back"), "{said}");
}

#[test]
fn explain_json_is_the_explanation_with_its_fix_edit() {
    let dir = tempfile::tempdir().unwrap();
    let file = without_left_default(&dir);
    let output = nslab(&["explain", &file, "left", "10.0.2.2", "--json"]);
    assert_eq!(output.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["reach"], false);
    assert_eq!(json["from"], "left");
    assert_eq!(json["to"], "10.0.2.2");
    assert_eq!(json["request"].as_array().unwrap().len(), 1);
    assert_eq!(json["failure"]["reason"], "no_route");
    assert_eq!(json["failure"]["direction"], "request");
    assert_eq!(json["failure"]["hop"], 0);
    assert_eq!(
        json["failure"]["fix"]["edit"],
        serde_json::json!({"edit": "add_route", "node": "left", "route": {"to": "default", "via": "10.0.1.1"}})
    );
    let explained: nslab_model::reach::Explanation = serde_json::from_value(json).expect("reads back");
    let broken: Lab = nslab_model::load::load_lab_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let fixed = explained.failure.unwrap().fix.unwrap().edit.unwrap().apply(&broken).unwrap();
    let vias: Vec<_> = fixed.nodes[0].routes().iter().map(|route| route.via.clone().unwrap()).collect();
    assert_eq!(vias, ["fd00:1::1", "10.0.1.1"], "the fix adds the route back");

    let output = nslab(&["explain", path(&example("router")), "left", "10.0.2.2", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((json["reach"].clone(), json["failure"].clone()), (serde_json::json!(true), serde_json::Value::Null));
    assert_eq!(json["reply"].as_array().unwrap().len(), 3);
}

#[test]
fn reach_prints_the_predicted_matrix_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = without_left_default(&dir);
    let output = nslab(&["reach", &file]);
    let said = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("left   -> 10.0.2.2   does not reach"), "{said}");
    assert!(said.contains("left   -> fd00:2::2  reaches"), "{said}");
    assert!(said.trim_end().ends_with("of 24 pairs reach"), "{said}");

    let output = nslab(&["reach", &file, "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let pairs = json["pairs"].as_array().expect("pairs");
    assert_eq!(json.as_object().unwrap().len(), 1, "only pairs");
    assert_eq!(pairs.len(), 3 * 8);
    assert_eq!(pairs[0], serde_json::json!({"from": "left", "to": "10.0.1.1", "reach": true}));
    let pair =
        |from: &str, to: &str| pairs.iter().find(|p| p["from"] == from && p["to"] == to).unwrap()["reach"].clone();
    assert_eq!(pair("left", "10.0.2.2"), false);
    assert_eq!(pair("right", "10.0.1.2"), false);
    assert_eq!(pair("router", "10.0.2.2"), true);
}

#[test]
fn bad_input_exits_2_with_a_located_message() {
    let router = example("router");
    for (args, expected) in [
        (vec!["explain", path(&router), "nowhere", "10.0.1.1"], "nslab: there is no node called `nowhere`"),
        (vec!["explain", path(&router), "left", "10.0.0.300"], "`10.0.0.300` is neither an address"),
        (vec!["explain", path(&router), "left", "right:eth9"], "`right` has no interface `eth9`"),
        (vec!["explain", path(&router), "left", "fe80::1"], "link-local"),
        (vec!["explain", "/nonexistent/lab.json", "left", "10.0.1.1"], "/nonexistent/lab.json"),
    ] {
        let output = nslab(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains(expected), "{args:?}: {}", text(&output.stderr));
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let bridge = example("seed-bridge");
    let output = nslab(&["explain", path(&bridge), "docker0", "172.17.0.101"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`docker0` is a bridge"), "{}", text(&output.stderr));

    // A lab with errors: each at its place, then refused.
    let dir = tempfile::tempdir().unwrap();
    let mut lab = example_lab("router");
    let nslab_model::Link::Veth(veth) = &mut lab.links[0];
    veth.a.addresses[0] = "10.0.1.300/24".into();
    let file = write(&dir, &lab);
    for args in [vec!["explain", &file, "left", "10.0.2.2"], vec!["reach", &file], vec!["reach", &file, "--json"]] {
        let output = nslab(&args);
        let said = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(said.contains(&format!("{file}: error")) && said.contains("links[0].a.addresses[0]"), "{said}");
        assert!(said.contains("fix the errors above first"), "{said}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
