//! Other tools' formats at the command line: `nslab export --format clab|kathara|core|mininet`
//! and back with `nslab import` (Kathará as a folder written by `-o`), and a real Kathará
//! lab's folder imported with what it leaves out said on standard error.

use std::process::{Command, Output};

use nslab_tests::paths::repo_root;
use nslab_tests::process::{nslab_with_input, text};

fn succeeded(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

fn example(name: &str) -> (String, nslab_model::Lab) {
    let path = repo_root().join("examples").join(format!("{name}.json"));
    let lab = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path.to_str().unwrap().to_string(), lab)
}

/// The kernel parts and positions of a lab (descriptions differ where a format has none).
fn drawn(mut lab: nslab_model::Lab) -> nslab_model::Lab {
    lab.description.clear();
    lab
}

#[test]
fn kathara_exports_a_folder_that_imports_back_as_the_same_lab() {
    let (path, lab) = example("seed-bridge");
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("seed");
    succeeded(&nslab_with_input(&["export", "--format", "kathara", "-o", out.to_str().unwrap(), &path], ""));
    let mut written: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into()).collect();
    written.sort();
    assert_eq!(written, ["lab.conf", "ns0.startup", "ns1.startup", "ns2.startup"]);
    let conf = std::fs::read_to_string(out.join("lab.conf")).unwrap();
    assert!(conf.contains("ns0[0]=\"docker0\""), "{conf}");
    let startup = std::fs::read_to_string(out.join("ns1.startup")).unwrap();
    assert!(startup.contains("ip address add 172.17.0.102/16 dev eth0"), "{startup}");

    let output = nslab_with_input(&["import", out.to_str().unwrap(), "--name", "seed-bridge"], "");
    let back: nslab_model::Lab = serde_json::from_str(&succeeded(&output)).unwrap();
    assert_eq!(back, lab, "the folder, read back");
    assert_eq!(text(&output.stderr), "", "nothing is left out of nslab's own export");

    let script = succeeded(&nslab_with_input(&["export", "--format", "kathara", &path], ""));
    assert!(script.starts_with("#!/bin/sh\n") && script.contains("cat > \"$dir/lab.conf\""), "{script}");
}

#[test]
fn clab_and_core_exports_import_back_through_standard_input() {
    let (path, lab) = example("router");
    for (format, from) in [("clab", "clab"), ("core", "core")] {
        let exported = succeeded(&nslab_with_input(&["export", "--format", format, &path], ""));
        let output = nslab_with_input(&["import", "-", "--from", from, "--name", "router"], &exported);
        let back: nslab_model::Lab = serde_json::from_str(&succeeded(&output)).unwrap();
        assert_eq!(drawn(back), drawn(lab.clone()), "through {format}");
    }
}

#[test]
fn the_mininet_export_is_a_python_script_python_compiles() {
    let (path, _) = example("router");
    let script = succeeded(&nslab_with_input(&["export", "--format", "mininet", &path], ""));
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("router.py");
    std::fs::write(&file, &script).unwrap();
    let output = Command::new("python3").args(["-m", "py_compile"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(script.contains("nodes[\"router\"].cmd(\"sysctl -w net.ipv4.ip_forward=1\")"), "{script}");
}

#[test]
fn a_real_kathara_folder_imports_with_its_leftovers_on_standard_error() {
    let folder = repo_root().join("shared/tests/fixtures/import/kathara/basic-ipv6");
    let output = nslab_with_input(&["import", folder.to_str().unwrap()], "");
    let lab: nslab_model::Lab = serde_json::from_str(&succeeded(&output)).unwrap();
    assert!(lab.node("r1").is_some() && lab.node("C").is_some(), "devices and the bridge of domain C");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("systemctl start radvd"), "{stderr}");
}

#[test]
fn a_file_that_is_not_the_format_is_refused_with_its_place() {
    let output = nslab_with_input(&["import", "-", "--from", "kathara"], "r1[0]=\"A\"\nnot a kathara line\n");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("line 2: not a Kathará lab.conf line"), "{stderr}");
    assert_eq!(text(&output.stdout), "", "nothing written");
}
