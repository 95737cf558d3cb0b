//! The `ip` script that `nslab export --format ip` writes builds exactly the lab on the
//! real kernel, and its `down` part removes all of it. Each example runs in its own sandbox.

use std::process::Command;

use nslab_model::load_lab;
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::paths::{example, nslab_binary, repo_root, EXAMPLES};
use nslab_tests::sandbox::Sandbox;

fn exported_script(name: &str) -> String {
    let output = Command::new(nslab_binary())
        .args(["export", "--format", "ip"])
        .arg(example(name))
        .output()
        .expect("nslab runs");
    assert!(output.status.success(), "export failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("a script is text")
}

fn check_example(name: &str) {
    let lab = load_lab(&std::fs::read(example(name)).unwrap(), &Default::default()).unwrap();
    let script = exported_script(name);
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.sh"));
    std::fs::write(&path, &script).unwrap();
    let path = path.display();

    sandbox.sh(&format!("sh {path} up"));
    let differences = differences(&expected_state(&lab), &read_kernel_state(&sandbox));
    assert!(differences.is_empty(), "{name}: the kernel differs from the lab:\n{}", differences.join("\n"));

    sandbox.sh(&format!("sh {path} down"));
    let left = sandbox.sh("ip netns list; ls /run/netns; ip -o link show | grep -v ': lo:' || true");
    assert_eq!(left.trim(), "", "{name}: `down` left things behind");
}

#[test]
fn seed_veth_script_builds_exactly_the_lab() {
    check_example("seed-veth");
}

#[test]
fn seed_bridge_script_builds_exactly_the_lab() {
    check_example("seed-bridge");
}

#[test]
fn router_script_builds_exactly_the_lab() {
    check_example("router");
}

/// The examples in `examples/`, by name.
fn listed_examples() -> Vec<String> {
    let folder = repo_root().join("examples");
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name").to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_has_a_kernel_test() {
    let listed = listed_examples();
    assert!(!listed.is_empty(), "examples/ has no lab");
    // A test of this file is a `#[test]` function whose body is `check_example("NAME");`.
    let source = include_str!("exported_script.rs");
    let tested: Vec<&str> = source
        .split("#[test]\n")
        .skip(1)
        .filter_map(|test| test.split("\n}\n").next())
        .filter_map(|body| body.trim_end().strip_suffix("\");"))
        .filter_map(|body| body.rsplit_once("{\n    check_example(\"").map(|(_, name)| name))
        .collect();
    for name in &listed {
        assert!(tested.contains(&name.as_str()), "examples/{name}.json has no kernel test: add one above");
    }
    // Tests elsewhere go over `paths::EXAMPLES`: it must list them all too.
    let mut constant = EXAMPLES.map(String::from).to_vec();
    constant.sort();
    assert_eq!(constant, listed, "paths::EXAMPLES lists examples/");
}

#[test]
fn the_comparison_catches_a_kernel_that_differs() {
    // The check above is only worth something if it can fail: build the router lab, then
    // change the kernel behind the script's back in three ways and see each one reported.
    let lab = load_lab(&std::fs::read(example("router")).unwrap(), &Default::default()).unwrap();
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("router.sh");
    std::fs::write(&path, exported_script("router")).unwrap();
    sandbox.sh(&format!("sh {} up", path.display()));
    sandbox.sh("ip -n left link set dev l-eth0 down
         ip netns exec router sysctl -qw net.ipv4.ip_forward=0
         ip -n right addr add 10.0.2.9/24 dev x-eth0");
    let found = differences(&expected_state(&lab), &read_kernel_state(&sandbox)).join("\n");
    assert!(found.contains("`l-eth0`"), "{found}");
    assert!(found.contains("IPv4 forwarding"), "{found}");
    assert!(found.contains("`x-eth0`"), "{found}");
}
