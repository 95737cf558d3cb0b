//! What the README says of `nslab apply` on the real kernel, each in its own sandbox: at a
//! terminal and without `--yes` it shows the plan and asks (no changes nothing; yes
//! applies), without a terminal it changes nothing unless given `--yes` (destroy too),
//! Ctrl+C during a run undoes it, a lab with a name the kernel would rewrite is refused, and
//! it leaves alone what it does not manage: other routing tables, other route types,
//! policy rules, neighbours and traffic control.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use nslab_model::{Node, Route};
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::paths::{example, example_lab, nslab_binary};
use nslab_tests::process::with_input;
use nslab_tests::sandbox::Sandbox;

/// Runs `nslab ARGS` in the sandbox with a terminal for its standard input and output (a
/// pseudo-terminal made by `script`), and `typed` typed at it. Bounded by `timeout`.
fn at_a_terminal(sandbox: &Sandbox, args: &str, typed: &str) -> Output {
    with_input(in_a_terminal(sandbox, args), typed)
}

/// `nslab ARGS` in a pseudo-terminal made by `script`, bounded by `timeout`. The shell
/// `script` starts `exec`s nslab: left in the terminal's foreground group, it would take
/// a Ctrl+C too (dash, the usual `/bin/sh`, dies of it and `script` returns 130).
fn in_a_terminal(sandbox: &Sandbox, args: &str) -> Command {
    let command = format!("exec {} {args}", nslab_binary().display());
    let mut script = sandbox.command("timeout");
    script.args(["60", "script", "--quiet", "--return", "--command", &command, "/dev/null"]).env("SHELL", "/bin/sh");
    script
}

#[test]
fn apply_without_yes_shows_the_plan_and_asks_no_changes_nothing_and_yes_applies() {
    let sandbox = Sandbox::new();
    let lab = example("router");
    let args = format!("apply {}", lab.display());

    let output = at_a_terminal(&sandbox, &args, "n\n");
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{said}");
    let plan = said.find("ip netns add left").unwrap_or_else(|| panic!("no plan shown: {said}"));
    let question = said.find("changes? [y/N]").unwrap_or_else(|| panic!("no question asked: {said}"));
    assert!(plan < question, "the plan comes before the question: {said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert_eq!(sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true").trim(), "", "no changed nothing");

    let output = at_a_terminal(&sandbox, &args, "y\n");
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("changes? [y/N]"), "asked again: {said}");
    assert!(said.contains("nslab: applied lab `router`"), "{said}");
    let found = differences(&expected_state(&example_lab("router")), &read_kernel_state(&sandbox));
    assert!(found.is_empty(), "yes applied the lab:\n{}", found.join("\n"));
}

/// Runs `nslab ARGS` in the sandbox with `typed` on a pipe for its standard input: no
/// terminal, as in a script.
fn from_a_pipe(sandbox: &Sandbox, args: &[&str], typed: &str) -> Output {
    let mut nslab = sandbox.command(nslab_binary().to_str().expect("a UTF-8 path"));
    nslab.args(args);
    with_input(nslab, typed)
}

/// `echo y | nslab apply lab.json` must not apply: a script that forgot `--yes` changes
/// nothing, and is told how to say it means it. The same for destroy.
#[test]
fn without_a_terminal_apply_and_destroy_change_nothing_unless_given_yes() {
    let sandbox = Sandbox::new();
    let lab = example("router");
    let lab = lab.to_str().unwrap();
    let kernel_is_empty = |sandbox: &Sandbox| sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");

    let output = from_a_pipe(&sandbox, &["apply", lab], "y\n");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("no terminal to ask at: give `--yes`"), "{said}");
    assert_eq!(kernel_is_empty(&sandbox).trim(), "", "nothing was applied");

    let output = from_a_pipe(&sandbox, &["apply", "--yes", lab], "");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let found = differences(&expected_state(&example_lab("router")), &read_kernel_state(&sandbox));
    assert!(found.is_empty(), "--yes applied the lab:\n{}", found.join("\n"));

    let output = from_a_pipe(&sandbox, &["destroy", lab], "y\n");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("no terminal to ask at: give `--yes`"), "{said}");
    let found = differences(&expected_state(&example_lab("router")), &read_kernel_state(&sandbox));
    assert!(found.is_empty(), "nothing was destroyed:\n{}", found.join("\n"));

    let output = from_a_pipe(&sandbox, &["destroy", "--yes", lab], "");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(kernel_is_empty(&sandbox).trim(), "", "--yes destroyed it");
}

/// Two applies of one lab started together: one applies, the other waits for it (the
/// machine's run lock) and then finds nothing to do, instead of both tripping over each
/// other's namespaces and undoing their work.
#[test]
fn two_applies_at_once_take_turns() {
    let sandbox = Sandbox::new();
    let lab = example("router");
    let apply = || {
        sandbox
            .command(nslab_binary().to_str().expect("a UTF-8 path"))
            .args(["apply", "--yes", lab.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nslab runs")
    };
    let (first, second) = (apply(), apply());
    let outputs = [first.wait_with_output().unwrap(), second.wait_with_output().unwrap()];
    let said: Vec<String> = outputs
        .iter()
        .map(|output| format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
        .collect();
    for (output, said) in outputs.iter().zip(&said) {
        assert_eq!(output.status.code(), Some(0), "{said}");
    }
    let applied = said.iter().filter(|said| said.contains("nslab: applied lab `router`")).count();
    let idle = said.iter().filter(|said| said.contains("already holds lab `router`: nothing to do")).count();
    assert_eq!((applied, idle), (1, 1), "one applied, the other found it done:\n{}", said.join("\n---\n"));
    let found = differences(&expected_state(&example_lab("router")), &read_kernel_state(&sandbox));
    assert!(found.is_empty(), "the lab is there once:\n{}", found.join("\n"));
}

/// A star of `n` namespaces on bridge br0 in the host: big enough that an apply is still
/// under way when a test interrupts it.
fn star(n: usize) -> serde_json::Value {
    let mut nodes = vec![serde_json::json!({"kind": "bridge", "name": "br0", "addresses": ["10.0.0.1/16"]})];
    let mut links = Vec::new();
    for i in 0..n {
        nodes.push(serde_json::json!({"kind": "namespace", "name": format!("n{i}")}));
        let address = format!("10.0.{}.{}/16", (i + 2) / 256, (i + 2) % 256);
        links.push(serde_json::json!({"kind": "veth",
            "a": {"node": format!("n{i}"), "name": "eth0", "addresses": [address]},
            "b": {"node": "br0", "name": format!("veth{i}")}}));
    }
    serde_json::json!({"version": 1, "name": "star", "nodes": nodes, "links": links})
}

/// Ctrl+C during an apply, pressed at a terminal: the terminal (a pseudo-terminal made by
/// `script`) turns the keystroke into SIGINT for nslab, the run stops at a step boundary,
/// says so, and undoes what it made, as a failed apply does: nothing of the lab is left.
#[test]
fn ctrl_c_at_a_terminal_during_apply_stops_it_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("star.json");
    std::fs::write(&file, star(400).to_string()).unwrap();
    // What the terminal shows goes to a file: a plan of 2800 lines would fill a pipe.
    let screen = dir.path().join("screen");
    let mut child = in_a_terminal(&sandbox, &format!("apply --yes {}", file.display()))
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&screen).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("script runs");
    // Press Ctrl+C once the apply has made a few namespaces.
    let made = || sandbox.sh("ip netns list | wc -l").trim().parse::<usize>().unwrap_or(0);
    for _ in 0..2000 {
        if made() >= 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let mut keyboard = child.stdin.take().expect("piped");
    keyboard.write_all(b"\x03").expect("Ctrl+C is typed");
    keyboard.flush().unwrap();
    let status = child.wait().unwrap();
    drop(keyboard);
    let said = std::fs::read_to_string(&screen).unwrap();
    // Its last lines: the plan before them is long.
    let tail = (said.len().saturating_sub(2000)..said.len()).find(|&at| said.is_char_boundary(at));
    let said = &said[tail.unwrap_or(said.len())..];
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("interrupted by SIGINT: no step was started after it"), "{said}");
    assert!(said.contains("had created were deleted again"), "{said}");
    let kernel = "ip netns list; ip -o link show | grep -v ': lo:' || true";
    for _ in 0..200 {
        if sandbox.sh(kernel).trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(sandbox.sh(kernel).trim(), "", "nothing of the lab is left");
    assert_eq!(sandbox.sh("ls /run/nslab | grep -vx run.lock || true").trim(), "", "no journal or record is left");
}

/// A lab whose interface names the kernel would rewrite (`%d` is a name template) is
/// refused before anything is read or changed.
#[test]
fn a_lab_with_a_kernel_name_template_exits_2_and_changes_nothing() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let mut lab = example_lab("seed-bridge");
    let nslab_model::Link::Veth(veth) = &mut lab.links[0];
    veth.a.name = "a%d".into(); // the bridge port, in the host
    let file = dir.path().join("template.json");
    std::fs::write(&file, nslab_model::export::to_json(&lab)).unwrap();
    let output = from_a_pipe(&sandbox, &["apply", "--yes", file.to_str().unwrap()], "");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("links[0].a.name") && said.contains("template"), "{said}");
    assert_eq!(sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true").trim(), "", "nothing made");
}

/// What was added by hand in the lab's namespace `left` and must outlive the applies.
const BY_HAND: &str = "ip -n left route add 10.99.0.0/16 dev l-eth0 table 100
    ip -n left route add blackhole 10.98.0.0/16
    ip -n left rule add from 10.0.1.2 table 100 priority 1000
    ip -n left neigh add 10.0.1.77 lladdr 02:00:00:00:00:77 dev l-eth0 nud permanent
    tc -n left qdisc add dev l-eth0 root tbf rate 1mbit burst 32kbit latency 400ms";

fn assert_by_hand_is_there(sandbox: &Sandbox, after: &str) {
    let table = sandbox.sh("ip -n left route show table 100");
    assert!(table.contains("10.99.0.0/16 dev l-eth0"), "{after}: table 100 holds {table:?}");
    let main = sandbox.sh("ip -n left route show");
    assert!(main.contains("blackhole 10.98.0.0/16"), "{after}: the main table holds {main:?}");
    let rules = sandbox.sh("ip -n left rule show");
    assert!(rules.contains("1000:\tfrom 10.0.1.2 lookup 100"), "{after}: the rules are {rules:?}");
    let neighbour = sandbox.sh("ip -n left neigh show 10.0.1.77");
    assert!(neighbour.contains("lladdr 02:00:00:00:00:77 PERMANENT"), "{after}: {neighbour:?}");
    let qdiscs = sandbox.sh("tc -n left qdisc show dev l-eth0");
    assert!(qdiscs.contains("qdisc tbf"), "{after}: the qdiscs are {qdiscs:?}");
}

#[test]
fn apply_leaves_other_tables_route_types_rules_neighbours_and_traffic_control_alone() {
    let sandbox = Sandbox::new();
    let router = example("router");
    let router = router.to_str().unwrap();
    sandbox.nslab_ok(&["apply", "--yes", router]);
    sandbox.sh(BY_HAND);
    assert_by_hand_is_there(&sandbox, "by hand");

    // An unchanged lab: nothing to do, and none of it is drift.
    let output = sandbox.nslab(&["plan", "--exit-code", router]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    sandbox.nslab_ok(&["apply", "--yes", router]);
    assert_by_hand_is_there(&sandbox, "re-applying the lab");

    // An edit in the same namespace: a route in the main table and a new address on l-eth0.
    let mut edited = example_lab("router");
    let Some(Node::Namespace(left)) = edited.nodes.iter_mut().find(|n| n.name() == "left") else { panic!("left") };
    left.routes.push(Route { to: "10.50.0.0/16".into(), via: Some("10.0.1.1".into()), dev: None, metric: None });
    let nslab_model::Link::Veth(veth) = &mut edited.links[0];
    assert_eq!((veth.a.node.as_str(), veth.a.name.as_str()), ("left", "l-eth0"));
    veth.a.addresses.push("10.0.1.3/24".into());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("router.json");
    std::fs::write(&file, nslab_model::export::to_json(&edited)).unwrap();
    let applied = sandbox.nslab_ok(&["apply", "--yes", file.to_str().unwrap()]);
    assert!(applied.contains("ip -n left route add 10.50.0.0/16 via 10.0.1.1"), "{applied}");
    assert!(sandbox.sh("ip -n left addr show dev l-eth0").contains("10.0.1.3/24"), "the edit was applied");
    assert_by_hand_is_there(&sandbox, "applying an edit");

    // Destroy removes the lab's namespaces, and with them what was added in them.
    sandbox.nslab_ok(&["destroy", "--yes", file.to_str().unwrap()]);
    assert_eq!(sandbox.sh("ip netns list").trim(), "");
}
