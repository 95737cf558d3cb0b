//! An interface's impairment, desired against observed: one op on its root qdisc when they
//! differ, none when they are the same as the kernel keeps them.

use crate::identity::LinkRef;
use crate::netem::{Chance, Impairment};
use crate::ops::Op;

pub use crate::netem::DEFAULT_LIMIT as DEFAULT_NETEM_LIMIT;

/// The longest jitter the kernel keeps (it caps the jitter at `INT_MAX` nanoseconds).
const MAX_JITTER_NS: u64 = i32::MAX as u64;

/// An impairment as the kernel reports it back: every field given, zero for what was not
/// asked for, the default queue length, the kernel's cap on jitter. Two impairments that
/// read back the same are the same.
pub fn netem_as_kernel_reports(netem: &Impairment) -> Impairment {
    let chance = |chance: Option<Chance>| Some(chance.unwrap_or(Chance(0)));
    Impairment {
        delay_ns: Some(netem.delay_ns.unwrap_or(0)),
        jitter_ns: Some(netem.jitter_ns.unwrap_or(0).min(MAX_JITTER_NS)),
        loss: chance(netem.loss),
        duplicate: chance(netem.duplicate),
        corrupt: chance(netem.corrupt),
        reorder: chance(netem.reorder),
        rate_bytes: Some(netem.rate_bytes.unwrap_or(0)),
        limit: Some(netem.limit.unwrap_or(DEFAULT_NETEM_LIMIT)),
    }
}

/// The op that makes `observed` (the netem root qdisc found, if any) into `desired`.
pub(super) fn netem_op(link: &LinkRef, desired: Option<&Impairment>, observed: Option<&Impairment>) -> Option<Op> {
    let same = desired.map(netem_as_kernel_reports) == observed.map(netem_as_kernel_reports);
    match (desired, observed) {
        _ if same => None,
        (Some(netem), _) => Some(Op::SetNetem { link: link.clone(), netem: netem.clone() }),
        (None, Some(_)) => Some(Op::ClearNetem { link: link.clone() }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Netns;
    use crate::netem::Netem;

    fn impairment(json: &str) -> Impairment {
        serde_json::from_str::<Netem>(json).unwrap().parse().unwrap()
    }

    fn eth0() -> LinkRef {
        LinkRef::new(Netns::Named("ns1".into()), "eth0")
    }

    #[test]
    fn what_the_kernel_fills_in_is_no_difference() {
        let wanted = impairment(r#"{"delay": "50ms", "loss": "1%"}"#);
        let reported = netem_as_kernel_reports(&wanted);
        assert_eq!(reported.limit, Some(1000));
        assert_eq!(reported.rate_bytes, Some(0));
        assert_eq!(netem_op(&eth0(), Some(&wanted), Some(&reported)), None);
        assert_eq!(netem_op(&eth0(), None, None), None);
        // A jitter beyond the kernel's cap reads back capped: still the same.
        let long = impairment(r#"{"delay": "3s", "jitter": "3s"}"#);
        let mut capped = netem_as_kernel_reports(&long);
        capped.jitter_ns = Some(MAX_JITTER_NS);
        assert_eq!(netem_op(&eth0(), Some(&long), Some(&capped)), None);
    }

    #[test]
    fn adding_changing_and_removing_are_one_op_each() {
        let wanted = impairment(r#"{"delay": "50ms"}"#);
        let set = Op::SetNetem { link: eth0(), netem: wanted.clone() };
        assert_eq!(netem_op(&eth0(), Some(&wanted), None), Some(set.clone()));
        let by_hand = netem_as_kernel_reports(&impairment(r#"{"delay": "80ms"}"#));
        assert_eq!(netem_op(&eth0(), Some(&wanted), Some(&by_hand)), Some(set));
        let limited = impairment(r#"{"delay": "50ms", "limit": 10}"#);
        let found = netem_as_kernel_reports(&wanted);
        assert!(matches!(netem_op(&eth0(), Some(&limited), Some(&found)), Some(Op::SetNetem { .. })));
        assert_eq!(netem_op(&eth0(), None, Some(&found)), Some(Op::ClearNetem { link: eth0() }));
    }

    /// The seed's two namespaces and their veth, with `netem` on end `a` (and `b`).
    fn lab(a: Option<&str>, b: Option<&str>) -> crate::lab::Lab {
        let mut lab = crate::load::load_lab_str(include_str!("../../../examples/seed-veth.json")).unwrap();
        let crate::lab::Link::Veth(veth) = &mut lab.links[0];
        veth.a.netem = a.map(|json| serde_json::from_str(json).unwrap());
        veth.b.netem = b.map(|json| serde_json::from_str(json).unwrap());
        assert!(crate::validate::validate(&lab).iter().all(|problem| !problem.is_error()));
        lab
    }

    /// Plans `lab`, runs the plan on `observed`, checks that planning again plans nothing,
    /// and gives the plan's commands.
    fn apply(lab: &crate::lab::Lab, observed: &mut crate::observed::Observed) -> Vec<String> {
        let options = crate::plan::PlanOptions::default();
        let ops = crate::plan::plan(lab, observed, &options).unwrap();
        crate::simulate::simulate(observed, &lab.name, &ops).unwrap();
        assert_eq!(crate::plan::plan(lab, observed, &options).unwrap(), []);
        ops.iter().map(Op::ip_command).collect()
    }

    #[test]
    fn a_new_veth_gets_its_impairments_after_its_addresses_and_the_script_shows_them() {
        let lab = lab(Some(r#"{"delay": "50ms", "loss": "1%"}"#), Some(r#"{"rate": "1mbit"}"#));
        let commands = apply(&lab, &mut crate::simulate::empty_host());
        let tail: Vec<&str> = commands.iter().rev().take(2).rev().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "tc -n ns0 qdisc replace dev veth0 root netem delay 50ms loss 1%",
                "tc -n ns1 qdisc replace dev veth1 root netem rate 1Mbit",
            ]
        );
        let script = crate::export::to_ip_script(&lab);
        let down = script.split("down)").nth(1).unwrap();
        assert!(script.contains("  tc -n ns0 qdisc replace dev veth0 root netem delay 50ms loss 1%\n"), "{script}");
        assert!(!down.contains("tc "), "deleting the veth removes its qdisc: {down}");
    }

    #[test]
    fn adding_changing_and_removing_an_impairment_plan_one_op_and_nothing_else() {
        let plain = lab(None, None);
        let mut observed = crate::simulate::empty_host();
        apply(&plain, &mut observed);
        let delayed = lab(Some(r#"{"delay": "50ms"}"#), None);
        assert_eq!(apply(&delayed, &mut observed), ["tc -n ns0 qdisc replace dev veth0 root netem delay 50ms"]);
        // The same impairment written otherwise, or with the kernel's default limit: nothing.
        assert_eq!(apply(&lab(Some(r#"{"delay": "0.05s", "limit": 1000}"#), None), &mut observed), [] as [String; 0]);
        let changed = lab(Some(r#"{"delay": "50ms", "jitter": "5ms"}"#), None);
        assert_eq!(apply(&changed, &mut observed), ["tc -n ns0 qdisc replace dev veth0 root netem delay 50ms 5ms"]);
        // An impairment that asks for nothing is none.
        assert_eq!(apply(&lab(Some("{}"), None), &mut observed), ["tc -n ns0 qdisc del dev veth0 root"]);
        assert_eq!(apply(&plain, &mut observed), [] as [String; 0]);
    }

    #[test]
    fn a_netem_on_a_bridge_is_left_alone() {
        let mut lab = crate::load::load_lab_str(include_str!("../../../examples/seed-bridge.json")).unwrap();
        lab.links.truncate(1);
        let mut observed = crate::simulate::empty_host();
        apply(&lab, &mut observed);
        let bridge = crate::topology::Topology::of(&lab).interfaces[0].clone();
        assert!(matches!(bridge.role, crate::topology::Role::Bridge { .. }));
        let link = LinkRef::new(bridge.netns, bridge.name);
        let by_hand = Op::SetNetem { link, netem: impairment(r#"{"delay": "5ms"}"#) };
        crate::simulate::simulate(&mut observed, &lab.name, &[by_hand]).unwrap();
        assert_eq!(apply(&lab, &mut observed), [] as [String; 0]);
    }

    #[test]
    fn an_impairment_changed_by_hand_is_drift_repaired_by_one_op() {
        let delayed = lab(Some(r#"{"delay": "50ms"}"#), None);
        let mut observed = crate::simulate::empty_host();
        apply(&delayed, &mut observed);
        let veth1 = LinkRef::new(Netns::Named("ns1".into()), "veth1");
        let by_hand = impairment(r#"{"loss": "100%"}"#);
        crate::simulate::simulate(&mut observed, "seed-veth", &[Op::SetNetem { link: veth1, netem: by_hand }]).unwrap();
        assert_eq!(apply(&delayed, &mut observed), ["tc -n ns1 qdisc del dev veth1 root"]);
    }
}
