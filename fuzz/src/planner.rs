//! The planner. Its input is a lab, optionally followed by a NUL byte and the kernel to plan
//! against: a second lab, applied to an empty kernel, then optionally after another NUL
//! byte the drift done to that kernel behind nslab's back (see `drift`). Without them, the
//! kernel is empty.
//!
//! - Any lab, any kernel: planning, destroying and scanning never panic, and a scan's lab
//!   round-trips through its file.
//! - A valid lab on an empty kernel plans exactly its creation script (each command
//!   non-empty; ops at all when it has a namespace or a bridge).
//! - A valid lab on any kernel: the plan either names its conflicts, or runs on the
//!   simulated kernel and planning again plans nothing; with `adopt` too. The one op
//!   allowed to fail is a route through a gateway that validation warned is unreachable
//!   (apply fails there on a real kernel, and undoes what it did).
//! - Then destroy runs and leaves nothing of the lab.

use nslab_model::export::to_json;
use nslab_model::observed::Observed;
use nslab_model::ops::Op;
use nslab_model::plan::{creation_ops, destroy_ops, is_gone, plan, PlanOptions};
use nslab_model::scan::scan;
use nslab_model::simulate::{empty_host, simulate};
use nslab_model::{validate, validate_lab_name, Lab, Node, Rule};

use crate::drift::drift;

pub fn planner(data: &[u8]) {
    let mut parts = data.splitn(3, |byte| *byte == 0);
    let Some(lab) = parts.next().and_then(crate::load) else { return };
    let before = parts.next().and_then(crate::load).filter(crate::is_valid);
    let drift_bytes = parts.next().unwrap_or_default();

    let mut kernel = empty_host();
    if let Some(before) = &before {
        converges(before, &mut kernel, &PlanOptions::default());
        drift(&mut kernel, before, &lab, drift_bytes);
    }
    never_panics(&lab, &kernel);
    if !crate::is_valid(&lab) {
        return;
    }
    if before.is_none() {
        let ops =
            plan(&lab, &kernel, &PlanOptions::default()).unwrap_or_else(|c| panic!("an empty kernel conflicts: {c:?}"));
        assert_eq!(ops, creation_ops(&lab), "the plan on an empty kernel is not the creation script");
        assert!(ops.iter().all(|op| !op.ip_command().is_empty()), "{ops:?}");
        let builds = lab.nodes.iter().any(|node| matches!(node, Node::Namespace(_) | Node::Bridge(_)));
        assert!(!builds || !ops.is_empty(), "a lab with namespaces or bridges plans nothing");
    }
    if !converges(&lab, &mut kernel, &PlanOptions::default())
        && !converges(&lab, &mut kernel, &PlanOptions { adopt: true })
    {
        return;
    }
    let ops = destroy_ops(&lab, &kernel);
    simulate(&mut kernel, &lab.name, &ops).unwrap_or_else(|why| panic!("destroy does not run: {why}\n{ops:#?}"));
    assert!(is_gone(&lab, &kernel), "destroy left some of the lab: {kernel:#?}");
}

/// Plans `lab` on `kernel`: false on conflicts; else runs the plan on it and checks that
/// planning again plans nothing.
fn converges(lab: &Lab, kernel: &mut Observed, options: &PlanOptions) -> bool {
    let Ok(ops) = plan(lab, kernel, options) else { return false };
    let before = kernel.clone();
    for op in &ops {
        if let Err(why) = simulate(kernel, &lab.name, std::slice::from_ref(op)) {
            if is_warned_unreachable(lab, op) {
                // Apply fails here on a real kernel too, and is undone: the lab was warned.
                *kernel = before;
                return false;
            }
            panic!("the plan does not run: {why}\nplan: {ops:#?}\nkernel: {before:#?}");
        }
    }
    let again: Vec<Op> = plan(lab, kernel, &PlanOptions::default()).unwrap_or_else(|conflicts| {
        panic!("conflicts after applying: {conflicts:?}\nplan: {ops:#?}\nkernel: {before:#?}")
    });
    assert!(again.is_empty(), "planning again is not empty: {again:#?}\nfirst plan: {ops:#?}\nkernel: {before:#?}");
    true
}

/// A route whose gateway validation warned the kernel cannot reach (`gateway-unreachable`).
fn is_warned_unreachable(lab: &Lab, op: &Op) -> bool {
    let Op::AddRoute { route, .. } = op else { return false };
    validate(lab).iter().filter(|problem| problem.rule == Rule::GatewayUnreachable).any(|problem| {
        lab.nodes.iter().enumerate().any(|(index, node)| {
            node.routes().iter().enumerate().any(|(at, wanted)| {
                wanted == route && problem.path.as_str() == format!("nodes[{index}].routes[{at}].via")
            })
        })
    })
}

/// What runs on any lab the loader accepts, against any kernel: destroy of a lab file
/// broken after its apply, scans, and plans of labs whose errors the caller skipped.
fn never_panics(lab: &Lab, kernel: &Observed) {
    if validate_lab_name(lab).is_empty() {
        let _ = destroy_ops(lab, kernel);
        let _ = is_gone(lab, kernel);
    }
    let scanned = scan(kernel, "scanned").lab;
    let text = to_json(&scanned);
    let again = crate::load(text.as_bytes()).unwrap_or_else(|| panic!("a scan's file does not load:\n{text}"));
    assert_eq!(again, scanned, "a scan's file loads as another lab");
}
