//! The command line as a user meets it: exit codes, located errors, exports, schema.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

fn nslab() -> Command {
    Command::cargo_bin("nslab").expect("the nslab binary is built")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

const EXAMPLES: [&str; 3] = ["seed-veth", "seed-bridge", "router"];

fn write_lab(dir: &tempfile::TempDir, name: &str, document: &Value) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    path
}

#[test]
fn the_examples_validate() {
    for name in EXAMPLES {
        nslab().args(["validate"]).arg(repo(&format!("examples/{name}.json"))).assert().code(0);
    }
}

/// One bad document per kind of problem the issue lists; each must exit 2 naming its path.
fn bad_inputs() -> Vec<(&'static str, Value, &'static str)> {
    let pair = |a: Value, b: Value| {
        json!({"version": 1, "name": "t",
            "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"}],
            "links": [{"kind": "veth", "a": a, "b": b}]})
    };
    let e = |name: &str| json!({"node": "n2", "name": name});
    let ns = |name: &str| json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": name}]});
    vec![
        ("empty name", pair(json!({"node": "n1", "name": ""}), e("x")), "links[0].a.name"),
        ("16-byte name", pair(json!({"node": "n1", "name": "a234567890123456"}), e("x")), "links[0].a.name"),
        ("slash", pair(json!({"node": "n1", "name": "a/b"}), e("x")), "links[0].a.name"),
        ("space", pair(json!({"node": "n1", "name": "a b"}), e("x")), "links[0].a.name"),
        ("colon", pair(json!({"node": "n1", "name": "a:b"}), e("x")), "links[0].a.name"),
        ("control", pair(json!({"node": "n1", "name": "a\u{1}"}), e("x")), "links[0].a.name"),
        ("dot-dot", pair(json!({"node": "n1", "name": ".."}), e("x")), "links[0].a.name"),
        ("reserved", pair(json!({"node": "n1", "name": "lo"}), e("x")), "links[0].a.name"),
        ("kernel name template", pair(json!({"node": "n1", "name": "a%d"}), e("x")), "links[0].a.name"),
        ("namespace slash", ns("a/b"), "nodes[0].name"),
        ("namespace dot-dot", ns(".."), "nodes[0].name"),
        ("namespace nul", ns("a\u{0}"), "nodes[0].name"),
        ("namespace dash", ns("-x"), "nodes[0].name"),
        ("namespace long", ns(&"n".repeat(256)), "nodes[0].name"),
        (
            "duplicate node",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a"}, {"kind": "namespace", "name": "a"}]}),
            "nodes[1].name",
        ),
        ("duplicate interface", pair(json!({"node": "n2", "name": "x"}), e("x")), "links[0].b.name"),
        ("missing node", pair(json!({"node": "n9", "name": "x"}), e("x")), "links[0].a.node"),
        (
            "malformed address",
            pair(json!({"node": "n1", "name": "x", "addresses": ["10.0.0.1/33"]}), e("y")),
            "links[0].a.addresses[0]",
        ),
        (
            "network address",
            pair(json!({"node": "n1", "name": "x", "addresses": ["10.0.0.0/24"]}), e("y")),
            "links[0].a.addresses[0]",
        ),
        (
            "broadcast address",
            pair(json!({"node": "n1", "name": "x", "addresses": ["10.0.0.255/24"]}), e("y")),
            "links[0].a.addresses[0]",
        ),
        (
            // Twice on one link is only a warning (the kernel builds it; an exercise teaches it).
            "duplicate address in a namespace",
            json!({"version": 1, "name": "t",
                "nodes": [{"kind": "namespace", "name": "n1"}, {"kind": "namespace", "name": "n2"},
                          {"kind": "namespace", "name": "n3"}],
                "links": [
                    {"kind": "veth", "a": {"node": "n1", "name": "x", "addresses": ["10.0.0.1/24"]}, "b": {"node": "n2", "name": "y"}},
                    {"kind": "veth", "a": {"node": "n1", "name": "z", "addresses": ["10.0.0.1/24"]}, "b": {"node": "n3", "name": "w"}}]}),
            "links[1].a.addresses[0]",
        ),
        ("mtu", pair(json!({"node": "n1", "name": "x", "mtu": 10}), e("y")), "links[0].a.mtu"),
        (
            "route device",
            json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "n", "routes": [{"to": "default", "dev": "eth9"}]}]}),
            "nodes[0].routes[0].dev",
        ),
        ("version too new", json!({"version": 2, "name": "t"}), "version"),
        ("unknown field", json!({"version": 1, "name": "t", "nodez": []}), "nodez"),
        ("wrong type", pair(json!({"node": "n1", "name": "x", "mtu": "big"}), e("y")), "links[0]"),
    ]
}

#[test]
fn every_bad_input_exits_2_and_names_its_path() {
    let dir = tempfile::tempdir().unwrap();
    for (index, (what, document, path)) in bad_inputs().into_iter().enumerate() {
        let file = write_lab(&dir, &format!("bad{index}.json"), &document);
        let output = nslab().arg("validate").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(&format!("at {path}")), "{what}: expected `{path}` in:\n{stderr}");
    }
}

#[test]
fn json_output_lists_problems_with_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_lab(
        &dir,
        "lab.json",
        &json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a/b"}]}),
    );
    let output = nslab().args(["validate", "--json"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let problems: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problems[0]["path"], "nodes[0].name");
    assert_eq!(problems[0]["rule"], "namespace-name");
    assert_eq!(problems[0]["severity"], "error");
}

#[test]
fn warnings_alone_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_lab(
        &dir,
        "lonely.json",
        &json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "alone"}]}),
    );
    let output = nslab().arg("validate").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning at nodes[0]"), "{stderr}");
}

#[test]
fn hostile_files_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let mut text = String::from(r#"{"version": 1, "name": "x", "description": ""#);
    text.push_str(&"a".repeat(10 * 1024 * 1024));
    text.push_str("\"}");
    std::fs::write(&big, text).unwrap();
    let output = nslab().arg("validate").arg(&big).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at most"), "{output:?}");

    let deep = dir.path().join("deep.json");
    std::fs::write(
        &deep,
        format!(r#"{{"version": 1, "name": "x", "editor": {{"a": {}{}}}}}"#, "[".repeat(50_000), "]".repeat(50_000)),
    )
    .unwrap();
    let output = nslab().arg("validate").arg(&deep).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nested too deeply"), "{output:?}");

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"version\": 1,").unwrap();
    let output = nslab().arg("validate").arg(&broken).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1"), "{output:?}");

    nslab().arg("validate").arg(dir.path().join("missing.json")).assert().code(2);
}

#[test]
fn too_many_nodes_is_an_error_at_the_configured_limit() {
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<Value> = (0..5).map(|i| json!({"kind": "namespace", "name": format!("n{i}")})).collect();
    let file = write_lab(&dir, "many.json", &json!({"version": 1, "name": "t", "nodes": nodes}));
    let output = nslab().args(["validate", "--max-nodes", "4"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at nodes:"), "{output:?}");
    nslab().args(["validate", "--max-nodes", "5"]).arg(&file).assert().code(0);
}

#[test]
fn ip_export_matches_the_golden_scripts() {
    for name in EXAMPLES {
        let output =
            nslab().args(["export", "--format", "ip"]).arg(repo(&format!("examples/{name}.json"))).output().unwrap();
        assert!(output.status.success());
        let golden = repo(&format!("backend/tests/golden/{name}.sh"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &output.stdout).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected, "{name}: rerun with UPDATE_GOLDEN=1 if intended");
    }
}

#[test]
fn json_export_is_canonical_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        let source = repo(&format!("examples/{name}.json"));
        let first = nslab().args(["export", "--format", "json"]).arg(&source).output().unwrap();
        assert_eq!(first.stdout, std::fs::read(&source).unwrap(), "{name}");
        let copy = dir.path().join("copy.json");
        nslab().args(["export", "-f", "json", "-o"]).arg(&copy).arg(&source).assert().code(0);
        assert_eq!(std::fs::read(&copy).unwrap(), first.stdout);
    }
}

#[test]
fn ip_export_refuses_a_lab_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_lab(
        &dir,
        "bad.json",
        &json!({"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a/b"}]}),
    );
    let output = nslab().args(["export", "--format", "ip"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let output = nslab().arg("schema").output().unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, std::fs::read(repo("schema/lab.v1.schema.json")).unwrap());
}

#[test]
fn help_and_usage_errors() {
    let help = nslab().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["validate", "export", "schema", "serve"] {
        assert!(text.contains(command), "{text}");
    }
    nslab().arg("frobnicate").assert().code(2);
    nslab().args(["export", "--format", "yaml", "x.json"]).assert().code(2);
}

/// `destroy` takes a lab file or `--lab NAME`, exactly one of them; a name that could not
/// be a lab's is refused before anything is read (it would name files under /run/nslab).
#[test]
fn destroy_wants_a_file_or_a_lab_name_and_refuses_a_name_no_lab_has() {
    let neither = nslab().arg("destroy").output().unwrap();
    assert_eq!(neither.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--lab <NAME>"), "{neither:?}");
    let both = nslab().args(["destroy", "--lab", "router", "router.json"]).output().unwrap();
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"), "{both:?}");
    for (name, says) in [("../router", "contains `/`"), ("", "needs a name"), ("-x", "starts with `-`")] {
        let refused = nslab().args(["destroy", "--yes", &format!("--lab={name}")]).output().unwrap();
        assert_eq!(refused.status.code(), Some(2), "{name}: {refused:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.starts_with("nslab: --lab: ") && stderr.contains(says), "{name}: {stderr}");
    }
}

#[test]
fn serve_refuses_weak_tokens_before_listening() {
    // Off loopback a token is required (one is generated when none is given: the server
    // tests check that inside a sandbox); a token given must not be guessable.
    let output = nslab().args(["serve", "--listen", "0.0.0.0:0", "--token", "short"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 16 characters"));
    let output = nslab().args(["serve", "--viewer-token", "student-token-0123456789"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a full token"));
    let same = "teacher-token-0123456789";
    let output = nslab().args(["serve", "--token", same, "--viewer-token", same]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("must differ from the full token"));
}
