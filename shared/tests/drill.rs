//! Break-it drills, pure part: which faults a lab offers, how they are picked, and that the
//! drift (planning the lab against a kernel with the faults) shows each until it is fixed.

use nslab_model::drill::{candidate_faults, pick_faults, still_broken, FaultKind};
use nslab_model::observed::Observed;
use nslab_model::plan::{creation_ops, plan, PlanOptions};
use nslab_model::simulate::{empty_host, simulate};
use nslab_model::{load_lab, Lab};

fn example(name: &str) -> Lab {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    load_lab(&std::fs::read(&path).expect("the example"), &Default::default()).expect("it loads")
}

/// A simulated kernel holding `lab` as applied.
fn applied(lab: &Lab) -> Observed {
    let mut kernel = empty_host();
    simulate(&mut kernel, &lab.name, &creation_ops(lab)).expect("the lab builds");
    kernel
}

#[test]
fn the_router_lab_offers_every_kind_but_each_only_where_it_breaks_something() {
    let lab = example("router");
    let faults = candidate_faults(&lab, &[]);
    for kind in FaultKind::ALL {
        assert!(faults.iter().any(|fault| fault.kind == kind), "{kind:?} offered: {faults:#?}");
    }
    let forwarding: Vec<_> = faults.iter().filter(|f| f.kind == FaultKind::ForwardingOff).map(|f| &f.what).collect();
    assert_eq!(
        forwarding,
        ["Namespace `router` stopped forwarding IPv4", "Namespace `router` stopped forwarding IPv6"]
    );
    // A wrong prefix leaves the neighbour outside: 10.0.1.2/24 with 10.0.1.1 beside it needs /31.
    let wrong = faults.iter().find(|f| f.kind == FaultKind::WrongPrefix).expect("one");
    assert_eq!(wrong.what, "`l-eth0` in namespace `left` had 10.0.1.2/24 changed to 10.0.1.2/31");
    // A changed address is one nobody holds.
    let changed = faults.iter().find(|f| f.kind == FaultKind::AddressChanged).expect("one");
    assert_eq!(changed.what, "`l-eth0` in namespace `left` had 10.0.1.2/24 changed to 10.0.1.129/24");
    assert_eq!(
        changed.commands(),
        ["ip -n left addr del 10.0.1.2/24 dev l-eth0", "ip -n left addr add 10.0.1.129/24 dev l-eth0"]
    );
}

#[test]
fn kinds_asked_for_are_the_only_ones_offered_and_a_lab_without_them_offers_none() {
    let lab = example("router");
    let faults = candidate_faults(&lab, &[FaultKind::RouteDeleted]);
    assert!(!faults.is_empty() && faults.iter().all(|fault| fault.kind == FaultKind::RouteDeleted));
    // The seed bridge lab has no routes and no forwarding.
    let seed = example("seed-bridge");
    assert!(candidate_faults(&seed, &[FaultKind::RouteDeleted, FaultKind::ForwardingOff]).is_empty());
}

#[test]
fn picking_prefers_different_kinds_never_doubles_an_interface_and_repeats_with_its_seed() {
    let lab = example("router");
    let picked = pick_faults(candidate_faults(&lab, &[]), 5, 42);
    assert_eq!(picked.len(), 5);
    let mut kinds: Vec<_> = picked.iter().map(|fault| fault.kind).collect();
    kinds.dedup();
    assert_eq!(kinds.len(), 5, "five kinds for five faults: {picked:#?}");
    let interfaces: Vec<_> =
        picked.iter().filter_map(|fault| fault.interface.clone().map(|i| (fault.netns.clone(), i))).collect();
    let mut unique = interfaces.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), interfaces.len(), "one fault per interface: {picked:#?}");
    assert_eq!(pick_faults(candidate_faults(&lab, &[]), 5, 42), picked, "the same seed, the same drill");
    assert_ne!(pick_faults(candidate_faults(&lab, &[]), 5, 7), picked, "another seed, another drill");
    let all = candidate_faults(&lab, &[]);
    assert!(pick_faults(all.clone(), 100, 1).len() < all.len() + 1);
}

#[test]
fn each_fault_shows_in_the_drift_until_applying_the_lab_fixes_it() {
    for name in ["router", "seed-bridge", "seed-veth"] {
        let lab = example(name);
        for fault in candidate_faults(&lab, &[]) {
            let mut kernel = applied(&lab);
            simulate(&mut kernel, &lab.name, &fault.ops).unwrap_or_else(|e| panic!("{}: {e}", fault.what));
            let drift = plan(&lab, &kernel, &PlanOptions::default()).expect("plans");
            assert!(still_broken(&fault, &drift, &kernel), "{name}: `{}` shows: {drift:#?}", fault.what);
            // The repair: what the lab does not say put back, then the lab applied.
            simulate(&mut kernel, &lab.name, &fault.restore).expect("the restore runs");
            let drift = plan(&lab, &kernel, &PlanOptions::default()).expect("plans");
            simulate(&mut kernel, &lab.name, &drift).expect("the repair runs");
            let after = plan(&lab, &kernel, &PlanOptions::default()).expect("plans");
            assert!(after.is_empty(), "{name}: `{}` repaired: {after:#?}", fault.what);
            assert!(!still_broken(&fault, &after, &kernel), "{name}: `{}` no longer shows", fault.what);
        }
    }
}
