//! Impairments (`netem` on a veth end) on the real kernel, each test in its own sandbox,
//! with iproute2's `tc` as the independent reader: what apply sets is what the exported
//! script's `tc` lines set, a re-plan is empty, a change made by hand is drift that
//! re-apply repairs, removing an impairment removes the qdisc, and real pings feel the
//! delay and the loss. Bad impairments are refused before anything changes.
//!
//! A kernel built without netem (CONFIG_NET_SCH_NETEM unset, as in some VMs) cannot
//! impair: there each test checks instead that apply refuses the lab with that reason and
//! leaves nothing behind.

use nslab_model::{Lab, Link};
use nslab_tests::paths::example_lab;
use nslab_tests::sandbox::Sandbox;
use serde_json::Value;

/// seed-veth (`veth0` in ns0, 192.168.1.1; `veth1` in ns1, 192.168.1.2) with these
/// impairments (as the lab file writes them) on its two ends.
fn impaired(a: Option<&str>, b: Option<&str>) -> Lab {
    let mut lab = example_lab("seed-veth");
    let Link::Veth(veth) = &mut lab.links[0];
    veth.a.netem = a.map(|json| serde_json::from_str(json).unwrap());
    veth.b.netem = b.map(|json| serde_json::from_str(json).unwrap());
    lab
}

const DELAY_AND_LOSS: &str = r#"{"delay": "50ms", "loss": "1%"}"#;
const DELAY_AND_RATE: &str = r#"{"delay": "50ms", "rate": "10mbit"}"#;

fn write(dir: &tempfile::TempDir, name: &str, lab: &Lab) -> String {
    let path = dir.path().join(format!("{name}.json"));
    std::fs::write(&path, nslab_model::export::to_json(lab)).unwrap();
    path.display().to_string()
}

/// Whether this kernel has netem: tried on a veth of a throwaway sandbox.
fn kernel_has_netem() -> bool {
    let sandbox = Sandbox::new();
    let tried = sandbox.try_sh("ip link add nt0 type veth peer name nt1 && tc qdisc add dev nt0 root netem delay 1ms");
    tried.status.success()
}

/// On a kernel without netem: apply refuses the lab with the reason, and nothing is left.
fn assert_refused_without_netem(sandbox: &Sandbox, file: &str) {
    let output = sandbox.nslab(&["apply", "--yes", file]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("has no netem queueing discipline"), "{said}");
    assert_nothing_left(sandbox);
}

/// What a lab may leave: nothing but the machine's run lock.
const LEFTOVERS: &str = "ip netns list; ls /run/netns; ls /run/nslab | grep -vx run.lock; \
    ip -o link show | grep -v ': lo:' || true";

fn assert_nothing_left(sandbox: &Sandbox) {
    assert_eq!(sandbox.sh(LEFTOVERS).trim(), "", "something was left behind");
}

/// `tc -j qdisc show dev DEV` in namespace `netns`: the root qdisc's kind and options
/// (its handle, numbered by the kernel, and its reference count are left out).
fn root_qdisc(sandbox: &Sandbox, netns: &str, dev: &str) -> Value {
    let text = sandbox.sh(&format!("tc -j -n {netns} qdisc show dev {dev} root"));
    let shown: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("tc -j printed bad JSON ({e}): {text}"));
    let root = shown.as_array().and_then(|qdiscs| qdiscs.first()).unwrap_or_else(|| panic!("no root qdisc: {text}"));
    serde_json::json!({"kind": root["kind"], "options": root["options"]})
}

/// `tc qdisc show dev DEV` in namespace `netns`, as a person reads it.
fn qdisc_text(sandbox: &Sandbox, netns: &str, dev: &str) -> String {
    sandbox.sh(&format!("tc -n {netns} qdisc show dev {dev} root"))
}

fn plan_exit_code(sandbox: &Sandbox, file: &str) -> Option<i32> {
    sandbox.nslab(&["plan", "--exit-code", file]).status.code()
}

/// The plan's commands (its lines but the heading).
fn planned(sandbox: &Sandbox, file: &str) -> Vec<String> {
    let text = sandbox.nslab_ok(&["plan", file]);
    text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).map(str::to_string).collect()
}

#[test]
fn apply_sets_what_the_exported_script_sets_and_a_replan_is_empty() {
    let lab = impaired(Some(DELAY_AND_LOSS), Some(DELAY_AND_RATE));
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "impaired", &lab);
    let sandbox = Sandbox::new();
    if !kernel_has_netem() {
        return assert_refused_without_netem(&sandbox, &file);
    }
    sandbox.nslab_ok(&["apply", "--yes", &file]);
    let text = qdisc_text(&sandbox, "ns0", "veth0");
    assert!(text.contains("netem") && text.contains("delay 50ms") && text.contains("loss 1%"), "{text}");
    let text = qdisc_text(&sandbox, "ns1", "veth1");
    assert!(text.contains("netem") && text.contains("delay 50ms") && text.contains("rate 10Mbit"), "{text}");
    assert_eq!(plan_exit_code(&sandbox, &file), Some(0), "a re-plan is empty");

    // The exported script's `tc` lines, run by `sh` in another sandbox, set the same.
    let script = sandbox.nslab_ok(&["export", "--format", "ip", &file]);
    let by_script = Sandbox::new();
    let script_file = dir.path().join("impaired.sh");
    std::fs::write(&script_file, &script).unwrap();
    by_script.sh(&format!("sh {} up", script_file.display()));
    for (netns, dev) in [("ns0", "veth0"), ("ns1", "veth1")] {
        assert_eq!(root_qdisc(&sandbox, netns, dev), root_qdisc(&by_script, netns, dev), "{dev} in {netns}");
    }
    // `down` needs no `tc`: deleting the veth removed its qdisc.
    by_script.sh(&format!("sh {} down", script_file.display()));
    sandbox.nslab_ok(&["destroy", "--yes", &file]);
    for sandbox in [&sandbox, &by_script] {
        assert_nothing_left(sandbox);
    }
}

#[test]
fn a_change_made_by_hand_is_drift_and_removing_the_impairment_removes_the_qdisc() {
    let lab = impaired(Some(DELAY_AND_LOSS), None);
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "impaired", &lab);
    let sandbox = Sandbox::new();
    if !kernel_has_netem() {
        return assert_refused_without_netem(&sandbox, &file);
    }
    sandbox.nslab_ok(&["apply", "--yes", &file]);
    sandbox.sh("tc -n ns0 qdisc change dev veth0 root netem delay 80ms");
    assert_eq!(plan_exit_code(&sandbox, &file), Some(3), "a hand-made change is drift");
    assert_eq!(planned(&sandbox, &file), ["tc -n ns0 qdisc replace dev veth0 root netem delay 50ms loss 1%"]);
    sandbox.nslab_ok(&["apply", "--yes", &file]);
    let text = qdisc_text(&sandbox, "ns0", "veth0");
    assert!(text.contains("delay 50ms") && text.contains("loss 1%"), "repaired: {text}");
    assert_eq!(plan_exit_code(&sandbox, &file), Some(0));

    let plain = write(&dir, "plain", &impaired(None, None));
    assert_eq!(planned(&sandbox, &plain), ["tc -n ns0 qdisc del dev veth0 root"]);
    sandbox.nslab_ok(&["apply", "--yes", &plain]);
    let text = qdisc_text(&sandbox, "ns0", "veth0");
    assert!(!text.contains("netem"), "the netem qdisc is gone: {text}");
    assert_eq!(plan_exit_code(&sandbox, &plain), Some(0));
    sandbox.nslab_ok(&["destroy", "--yes", &plain]);
    assert_nothing_left(&sandbox);
}

/// `ping -c 3` from ns0 to ns1: its least round trip in milliseconds, None when no
/// answer came. Bounded: three tries, two seconds' wait for the last.
fn least_round_trip(sandbox: &Sandbox) -> Option<f64> {
    let output = sandbox.try_sh("ip netns exec ns0 ping -c 3 -i 0.2 -W 2 192.168.1.2");
    let text = String::from_utf8_lossy(&output.stdout);
    // `rtt min/avg/max/mdev = 100.1/100.2/100.3/0.1 ms`
    let numbers = text.lines().find(|line| line.contains("min/avg/max"))?.split(" = ").nth(1)?;
    numbers.split('/').next()?.parse().ok()
}

#[test]
fn pings_feel_the_delay_of_both_ends_and_a_total_loss() {
    let dir = tempfile::tempdir().unwrap();
    let delayed = write(&dir, "delayed", &impaired(Some(r#"{"delay": "50ms"}"#), Some(r#"{"delay": "50ms"}"#)));
    let sandbox = Sandbox::new();
    if !kernel_has_netem() {
        return assert_refused_without_netem(&sandbox, &delayed);
    }
    sandbox.nslab_ok(&["apply", "--yes", &delayed]);
    let least = least_round_trip(&sandbox).expect("pings cross a delayed link");
    assert!(least >= 100.0, "50 ms each way, yet a round trip took {least} ms");

    let lost = write(&dir, "lost", &impaired(Some(r#"{"loss": "100%"}"#), None));
    sandbox.nslab_ok(&["apply", "--yes", &lost]);
    assert_eq!(least_round_trip(&sandbox), None, "no ping crosses a link that loses everything");
    sandbox.nslab_ok(&["destroy", "--yes", &lost]);
    assert_nothing_left(&sandbox);
}

#[test]
fn each_bad_impairment_exits_2_with_its_place_and_changes_nothing() {
    let cases = [
        (r#"{"delay": "50 ms"}"#, "links[0].a.netem.delay", "`50ms`"),
        (r#"{"loss": "120%"}"#, "links[0].a.netem.loss", "between 0% and 100%"),
        (r#"{"duplicate": "0.5"}"#, "links[0].a.netem.duplicate", "`0.5%`"),
        (r#"{"rate": "0mbit"}"#, "links[0].a.netem.rate", "no rate at all"),
        (r#"{"rate": "10megs"}"#, "links[0].a.netem.rate", "not a unit of rate"),
        (r#"{"limit": 0}"#, "links[0].a.netem.limit", "give 1 or more"),
        (r#"{"reorder": "25%"}"#, "links[0].a.netem.reorder", "give a `delay` too"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new();
    for (netem, place, words) in cases {
        let file = write(&dir, "bad", &impaired(Some(netem), None));
        for args in [vec!["validate", file.as_str()], vec!["apply", "--yes", file.as_str()]] {
            let command = args[0];
            let output = sandbox.nslab(&args);
            let said =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            assert_eq!(output.status.code(), Some(2), "{command} {netem}: {said}");
            assert!(said.contains(place) && said.contains(words), "{command} {netem}: {said}");
        }
        assert_nothing_left(&sandbox);
    }
    // A key `tc` has but the format does not is refused where it is.
    let text = nslab_model::export::to_json(&impaired(None, None)).replacen(
        r#""name": "veth0","#,
        r#""name": "veth0", "netem": {"latency": "5ms"},"#,
        1,
    );
    let file = dir.path().join("unknown.json");
    std::fs::write(&file, text).unwrap();
    let output = sandbox.nslab(&["apply", "--yes", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("unknown field `latency`"), "{said}");
    assert_nothing_left(&sandbox);
}
