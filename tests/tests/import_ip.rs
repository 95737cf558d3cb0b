//! The seed article's commands, typed as a student would (`tests/fixtures/seed-article`),
//! imported with `nslab import` and applied on the real kernel in a sandbox: the article's
//! pings are answered, and `nslab destroy` leaves nothing behind. And the typed commands
//! themselves, run by the shell on the kernel, build what the importer said they would
//! (the kernel's own veth names included), as `nslab scan` reads it back.

use nslab_model::formats::ip_script::parse_script;
use nslab_model::lab::{Lab, Link, Node};
use nslab_tests::paths::repo_root;
use nslab_tests::sandbox::Sandbox;

fn typed(name: &str) -> String {
    let path = repo_root().join("tests/fixtures/seed-article").join(format!("{name}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lab file `nslab import` writes for the typed commands of `name`.
fn imported(sandbox: &Sandbox, name: &str, folder: &tempfile::TempDir) -> String {
    let typed = repo_root().join("tests/fixtures/seed-article").join(format!("{name}.txt"));
    let lab = folder.path().join(format!("{name}.json"));
    let (typed, lab) = (typed.to_str().unwrap(), lab.to_str().unwrap());
    sandbox.nslab_ok(&["import", "--from", "ip", "--name", name, "-o", lab, typed]);
    lab.to_string()
}

/// Applies the lab, checks each ping (from, to), destroys it, and checks nothing is left.
fn apply_and_ping(name: &str, pings: &[(&str, &str)]) {
    let sandbox = Sandbox::new();
    let folder = tempfile::tempdir().unwrap();
    let lab = imported(&sandbox, name, &folder);
    sandbox.nslab_ok(&["apply", "--yes", &lab]);
    for (from, to) in pings {
        assert!(sandbox.pings(from, to, 3), "{name}: {from} does not reach {to}");
    }
    sandbox.nslab_ok(&["destroy", "--yes", &lab]);
    let left = sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");
    assert_eq!(left.trim(), "", "{name}: destroy leaves nothing behind");
}

#[test]
fn the_seed_article_s_veth_lab_imported_from_its_commands_pings_on_the_kernel() {
    apply_and_ping("seed-veth", &[("ns0", "192.168.1.2"), ("ns1", "192.168.1.1")]);
}

#[test]
fn the_seed_article_s_bridge_lab_imported_from_its_commands_pings_on_the_kernel() {
    apply_and_ping("seed-bridge", &[("ns0", "172.17.0.1"), ("ns0", "172.17.0.102"), ("ns0", "172.17.0.103")]);
}

/// The typed lines as the shell runs them: the prompts (`[root@1ll253 ~]# `, `# ` before a
/// command) taken off, the other `#` lines being comments.
fn as_shell_script(typed: &str) -> String {
    let mut script = String::from("set -e\n");
    for line in typed.lines() {
        let command = match line.split_once("]# ") {
            Some((_, command)) => command,
            None => match line.strip_prefix("# ") {
                Some(rest) if rest.starts_with("ip ") || rest.starts_with("ifconfig ") => rest,
                _ if line.starts_with('#') => continue,
                _ => line,
            },
        };
        script.push_str(command);
        script.push('\n');
    }
    script
}

/// What the kernel keeps of a lab, in an order both sides share.
fn kernel_parts(mut lab: Lab) -> Lab {
    lab.description.clear();
    for node in &mut lab.nodes {
        match node {
            Node::Host(host) => host.editor = None,
            Node::Namespace(namespace) => namespace.editor = None,
            Node::Bridge(bridge) => bridge.editor = None,
        }
    }
    lab.nodes.sort_by(|a, b| a.name().cmp(b.name()));
    for Link::Veth(veth) in &mut lab.links {
        veth.editor = None;
    }
    lab.links.sort_by_key(|Link::Veth(veth)| (veth.a.node.clone(), veth.a.name.clone()));
    lab
}

#[test]
fn the_typed_commands_run_on_the_kernel_build_the_lab_they_import_as() {
    for name in ["seed-veth", "seed-bridge"] {
        let sandbox = Sandbox::new();
        let text = typed(name);
        // The article's own pings are among the commands: `set -e` stops at one unanswered.
        sandbox.sh(&as_shell_script(&text));
        let scanned: Lab = serde_json::from_str(&sandbox.nslab_ok(&["scan", "--name", name])).expect("a lab");
        let imported = parse_script(&text, name).imported.lab;
        assert_eq!(kernel_parts(scanned), kernel_parts(imported), "{name}");
    }
}
