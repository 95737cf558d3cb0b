//! The predictor against the real kernel: each lab (the bundled examples, and broken
//! variants of them, one fault each) is applied in its own sandbox, every pair of the
//! matrix is pinged from inside the sandbox's namespaces, and the live matrix must equal
//! the one `nslab_model::reach` predicts. A gateway off its subnet is left out: the kernel
//! refuses the route, so such a lab never applies. So are the pairs the prediction warns
//! of an address held twice on one link: which holder answers is a race in the kernel.

use std::collections::BTreeMap;
use std::net::IpAddr;

use nslab_model::identity::Netns;
use nslab_model::netem::Netem;
use nslab_model::ping::matrix_of;
use nslab_model::reach::{explain, predict_matrix, Reason};
use nslab_model::topology::Side;
use nslab_model::{Lab, Node};
use nslab_tests::labs::{chain_address, router_chain};
use nslab_tests::paths::{example_lab, EXAMPLES};
use nslab_tests::sandbox::Sandbox;

/// What a lab may leave: nothing but the machine's run lock.
const LEFTOVERS: &str = "ip netns list; ls /run/netns; ls /run/nslab | grep -vx run.lock; \
    ip -o link show | grep -v ': lo:' || true";

/// `ping` of one pair, run inside the sandbox.
fn ping_command(source: &Netns, target: IpAddr) -> String {
    match source {
        Netns::Host => format!("ping -c1 -W1 {target}"),
        Netns::Named(name) => format!("ip netns exec {name} ping -c1 -W1 {target}"),
    }
}

/// The pairs of `pending` that answer, all at once (`parallel`) or one after another.
fn answering(sandbox: &Sandbox, pairs: &[(Netns, IpAddr)], pending: &[usize], parallel: bool) -> Vec<usize> {
    let join = if parallel { "&" } else { ";" };
    let script: String = pending
        .iter()
        .map(|&index| {
            let (source, target) = &pairs[index];
            format!("( {} >/dev/null 2>&1 && echo {index} ) {join}\n", ping_command(source, *target))
        })
        .collect();
    let output = sandbox.try_sh(&format!("{script}wait"));
    String::from_utf8_lossy(&output.stdout).lines().filter_map(|line| line.trim().parse().ok()).collect()
}

/// Every pair of the lab's matrix pinged for real: all at once, then the pairs without an
/// answer again (IPv6 neighbours may need a moment), then one at a time (two holders of
/// one address answer each other's neighbours in turn).
fn live_matrix(sandbox: &Sandbox, lab: &Lab) -> BTreeMap<(String, IpAddr), bool> {
    let (sources, targets) = matrix_of(lab);
    let pairs: Vec<(Netns, IpAddr)> =
        sources.iter().flat_map(|source| targets.iter().map(move |target| (source.clone(), *target))).collect();
    let mut reached = vec![false; pairs.len()];
    for parallel in [true, true, false] {
        let pending: Vec<usize> = (0..pairs.len()).filter(|&index| !reached[index]).collect();
        if pending.is_empty() {
            break;
        }
        for index in answering(sandbox, &pairs, &pending, parallel) {
            reached[index] = true;
        }
    }
    let name = |netns: &Netns| netns.name().unwrap_or("host").to_string();
    pairs.iter().zip(reached).map(|((source, target), reach)| ((name(source), *target), reach)).collect()
}

/// The predicted matrix, without the pairs whose explanation warns of an address held twice
/// on one link: which holder answers is the kernel's race (the first to claim the address
/// in a neighbour's cache keeps it), so such a pair may go either way. The pairs left out.
fn predicted(lab: &Lab) -> (BTreeMap<(String, IpAddr), bool>, usize) {
    let mut left_out = 0;
    let mut pairs = BTreeMap::new();
    for pair in predict_matrix(lab).pairs {
        let explained = explain(lab, &pair.from, pair.to).expect("a pair of the matrix explains");
        assert_eq!(explained.reach, pair.reach, "{} -> {}: the matrix and the explanation agree", pair.from, pair.to);
        if explained.warnings.iter().any(|warning| warning.reason == Reason::DuplicateAddress) {
            left_out += 1;
            continue;
        }
        pairs.insert((pair.from, pair.to), pair.reach);
    }
    (pairs, left_out)
}

/// Applies the lab in a fresh sandbox, compares the live matrix with the predicted one,
/// destroys the lab and checks nothing is left. How many pairs the prediction says fail,
/// and how many it leaves to chance.
fn assert_prediction_holds(name: &str, lab: &Lab) -> (usize, usize) {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.json"));
    std::fs::write(&file, nslab_model::export::to_json(lab)).unwrap();
    let file = file.display().to_string();
    sandbox.nslab_ok(&["apply", "--yes", &file]);
    let mut live = live_matrix(&sandbox, lab);
    let (predicted, left_out) = predicted(lab);
    live.retain(|pair, _| predicted.contains_key(pair));
    sandbox.nslab_ok(&["destroy", "--yes", &file]);
    assert_eq!(sandbox.sh(LEFTOVERS).trim(), "", "{name}: something was left behind");
    assert_eq!(live.keys().collect::<Vec<_>>(), predicted.keys().collect::<Vec<_>>(), "{name}: the same pairs");
    let disagreeing: Vec<String> = live
        .iter()
        .filter(|(pair, reach)| predicted[*pair] != **reach)
        .map(|((from, to), reach)| format!("{from} -> {to}: live {reach}, predicted {}", !reach))
        .collect();
    assert!(disagreeing.is_empty(), "{name}: the prediction differs from the kernel:\n{}", disagreeing.join("\n"));
    (predicted.values().filter(|reach| !**reach).count(), left_out)
}

fn kernel_has_netem() -> bool {
    let sandbox = Sandbox::new();
    sandbox
        .try_sh("ip link add nt0 type veth peer name nt1 && tc qdisc add dev nt0 root netem delay 1ms")
        .status
        .success()
}

#[test]
fn the_bundled_examples_reach_everywhere_as_predicted() {
    for name in EXAMPLES {
        assert_eq!(assert_prediction_holds(name, &example_lab(name)), (0, 0), "{name}: every pair reaches");
    }
}

/// Broken variants of the examples, one fault each.
fn broken_variants() -> Vec<(&'static str, Lab)> {
    let mut variants: Vec<(&str, Lab)> = Vec::new();

    let mut lab = example_lab("router");
    lab.namespace_mut("left").expect("a namespace").routes.retain(|route| route.via.as_deref() != Some("10.0.1.1"));
    variants.push(("no-default-route", lab));

    let mut lab = example_lab("router");
    lab.namespace_mut("router").expect("a namespace").ipv4_forwarding = false;
    variants.push(("ipv4-forwarding-off", lab));

    let mut lab = example_lab("router");
    lab.namespace_mut("router").expect("a namespace").ipv6_forwarding = false;
    variants.push(("ipv6-forwarding-off", lab));

    let mut lab = example_lab("router");
    lab.veth_end_mut(1, Side::A).expect("a veth").up = false;
    variants.push(("router-interface-down", lab));

    let mut lab = example_lab("router");
    lab.namespace_mut("right").expect("a namespace").routes.retain(|route| route.via.as_deref() != Some("fd00:2::1"));
    variants.push(("missing-ipv6-return-route", lab));

    let mut lab = example_lab("seed-bridge");
    lab.veth_end_mut(1, Side::B).expect("a veth").up = false;
    variants.push(("namespace-interface-down", lab));

    let mut lab = example_lab("seed-bridge");
    let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!("docker0 first") };
    bridge.up = false;
    variants.push(("bridge-down", lab));

    let mut lab = example_lab("seed-veth");
    lab.veth_end_mut(0, Side::B).expect("a veth").up = false;
    variants.push(("no-carrier", lab));

    let mut lab = example_lab("seed-veth");
    lab.namespace_mut("ns0").expect("a namespace").loopback_up = false;
    variants.push(("loopback-down", lab));

    let mut lab = example_lab("seed-bridge");
    lab.veth_end_mut(2, Side::B).expect("a veth").addresses = vec!["172.17.0.102/16".into()];
    variants.push(("duplicate-address", lab));

    if kernel_has_netem() {
        let mut lab = example_lab("router");
        lab.veth_end_mut(1, Side::B).expect("a veth").netem =
            Some(Netem { loss: Some("100%".into()), ..Netem::default() });
        variants.push(("total-loss", lab));
    } else {
        eprintln!("this kernel has no netem: the total-loss variant is left out");
    }
    variants
}

/// Each broken variant: the prediction agrees with the kernel pair by pair, and its fault
/// does stop some pairs.
#[test]
fn broken_labs_fail_where_the_prediction_says() {
    let variants = broken_variants();
    for (name, lab) in &variants {
        let (failing, left_out) = assert_prediction_holds(name, lab);
        if *name == "duplicate-address" {
            // Stops nothing for sure: the pairs that depend on who answers are left to chance.
            assert!(failing == 0 && left_out > 0, "{name}: {failing} failing, {left_out} left to chance");
        } else {
            assert!(failing > 0 && left_out == 0, "{name}: {failing} failing, {left_out} left to chance");
        }
    }
}

/// The fix the explainer suggests for the first failing pair of each broken variant, made
/// in the lab: the model says the pair now reaches, and on the kernel every pair of the
/// fixed lab (that one included) answers as predicted.
#[test]
fn each_suggested_fix_makes_its_pair_reach_in_the_model_and_on_the_kernel() {
    for (name, lab) in broken_variants().into_iter().filter(|(name, _)| *name != "duplicate-address") {
        let failing = predict_matrix(&lab).pairs.into_iter().find(|pair| !pair.reach).expect("a failing pair");
        let explained = explain(&lab, &failing.from, failing.to).expect("it explains");
        let finding = explained.failure.unwrap_or_else(|| panic!("{name}: a failure to fix"));
        let fix = finding.fix.unwrap_or_else(|| panic!("{name}: {:?} has a fix", finding.reason));
        let edit = fix.edit.unwrap_or_else(|| panic!("{name}: `{}` is a lab edit", fix.description));
        let fixed = edit.apply(&lab).unwrap_or_else(|why| panic!("{name}: the fix applies: {why}"));
        let now = explain(&fixed, &failing.from, failing.to).expect("it explains");
        assert!(
            now.reach,
            "{name}: after `{}`, {} -> {} reaches in the model",
            fix.description, failing.from, failing.to
        );
        let (still_failing, _) = assert_prediction_holds(&format!("{name}-fixed"), &fixed);
        assert!(
            still_failing < predict_matrix(&lab).pairs.iter().filter(|pair| !pair.reach).count(),
            "{name}: the fix makes pairs reach on the kernel"
        );
    }
}

/// A ping starts with TTL 64 and each router drops what arrives with 1: 63 routers forward
/// it at most. In a chain of routers the namespace 64 hops away answers and the one 65 away
/// does not, on the kernel as in the prediction (which once stopped a hop short).
#[test]
fn a_ping_crosses_at_most_63_routers_on_the_kernel_as_predicted() {
    let lab = router_chain("ttl-chain", 66);
    let pairs = [
        ("r0", chain_address(63, 2), true),  // r64, 64 hops away
        ("r0", chain_address(64, 1), true),  // r64's other address
        ("r0", chain_address(64, 2), false), // r65, 65 hops away
        ("r1", chain_address(64, 2), true),  // r65 from r1: 64 hops
        ("r65", chain_address(0, 1), false), // back to r0: 65 hops
        ("r65", chain_address(0, 2), true),  // r1: 64 hops
    ];
    for (from, to, expected) in pairs {
        let predicted = reaches_in_model(&lab, from, to);
        assert_eq!(predicted, expected, "predicted {from} -> {to}");
    }
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ttl-chain.json");
    std::fs::write(&file, nslab_model::export::to_json(&lab)).unwrap();
    let file = file.display().to_string();
    sandbox.nslab_ok(&["apply", "--yes", &file]);
    let live: Vec<bool> = pairs.iter().map(|(from, to, _)| sandbox.pings(from, &to.to_string(), 2)).collect();
    sandbox.nslab_ok(&["destroy", "--yes", &file]);
    assert_eq!(sandbox.sh(LEFTOVERS).trim(), "", "something was left behind");
    for ((from, to, expected), live) in pairs.iter().zip(live) {
        assert_eq!(live, *expected, "on the kernel, {from} -> {to}");
    }
    let far = explain(&lab, "r0", chain_address(64, 2).into()).unwrap();
    let failure = far.failure.expect("65 hops do not reach");
    assert_eq!((failure.reason, failure.hop, failure.namespace.as_str()), (Reason::TtlExpired, 64, "r64"));
}

fn reaches_in_model(lab: &Lab, from: &str, to: std::net::Ipv4Addr) -> bool {
    nslab_model::reach::reaches(lab, from, to.into()).unwrap()
}
