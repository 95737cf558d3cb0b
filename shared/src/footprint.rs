//! The footprint of each lab in the kernel. Everything nslab creates carries its lab's mark (see
//! `identity::OWNER_PREFIX`), so the labs on a host are known from the kernel alone,
//! without their files: what `nslab list` shows and `nslab destroy --lab` removes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::identity::Netns;
use crate::lab::Lab;
use crate::observed::Observed;
use crate::plan::{is_gone, plan, PlanOptions};

/// What one lab holds in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// Its namespaces, by name.
    pub namespaces: Vec<String>,
    /// How many interfaces carry its mark, inside its namespaces and outside them.
    pub interfaces: usize,
    /// Those of its interfaces that are in the host namespace (a bridge, the host's veth
    /// ends), by name.
    pub host_interfaces: Vec<String>,
}

/// Every lab that holds something in `observed`, by name.
pub fn footprints(observed: &Observed) -> BTreeMap<String, Footprint> {
    let mut labs: BTreeMap<String, Footprint> = BTreeMap::new();
    for (netns, namespace) in &observed.namespaces {
        if let (Some(owner), Some(name)) = (&namespace.owner, netns.name()) {
            labs.entry(owner.clone()).or_default().namespaces.push(name.to_string());
        }
        for (name, link) in &namespace.links {
            let Some(owner) = &link.owner else { continue };
            let footprint = labs.entry(owner.clone()).or_default();
            footprint.interfaces += 1;
            if *netns == Netns::Host {
                footprint.host_interfaces.push(name.clone());
            }
        }
    }
    labs
}

/// How the kernel compares with a lab as it was last applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// The kernel holds the lab exactly as it was last applied.
    AsApplied,
    /// Applying the lab again would make this many changes (something was changed by
    /// hand, or an apply was cut short).
    Changed { changes: usize },
    /// The lab could not be applied again over what is there now without `--adopt`.
    Conflicting { conflicts: usize },
    /// There is no record of how the lab was last applied to compare with.
    Unrecorded,
    /// The lab has a record, but the kernel holds nothing of it (deleted by hand).
    Absent,
}

/// How `observed` compares with `recorded`, the lab as last applied (None: no record).
pub fn standing(recorded: Option<&Lab>, observed: &Observed) -> Standing {
    let Some(lab) = recorded else { return Standing::Unrecorded };
    if is_gone(lab, observed) {
        return Standing::Absent;
    }
    match plan(lab, observed, &PlanOptions::default()) {
        Ok(ops) if ops.is_empty() => Standing::AsApplied,
        Ok(ops) => Standing::Changed { changes: ops.len() },
        Err(conflicts) => Standing::Conflicting { conflicts: conflicts.len() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_lab_str;
    use crate::observed::ObservedNamespace;
    use crate::simulate::{empty_host, simulate};

    fn example(text: &str) -> Lab {
        load_lab_str(text).expect("a bundled example loads")
    }

    fn bridge_lab() -> Lab {
        example(include_str!("../../examples/seed-bridge.json"))
    }

    fn router_lab() -> Lab {
        example(include_str!("../../examples/router.json"))
    }

    fn apply(observed: &mut Observed, lab: &Lab) {
        let ops = plan(lab, observed, &PlanOptions::default()).expect("no conflicts");
        simulate(observed, &lab.name, &ops).expect("the ops run");
    }

    /// Both examples applied side by side, and a namespace made by hand.
    fn two_labs() -> Observed {
        let mut observed = empty_host();
        apply(&mut observed, &bridge_lab());
        apply(&mut observed, &router_lab());
        observed.namespaces.insert(Netns::Named("by-hand".into()), ObservedNamespace::default());
        observed
    }

    #[test]
    fn each_lab_is_listed_with_its_namespaces_and_its_interfaces_in_the_host() {
        let (bridge, router) = (bridge_lab(), router_lab());
        let labs = footprints(&two_labs());
        assert_eq!(labs.keys().collect::<Vec<_>>(), vec![&router.name, &bridge.name], "by name");
        let names = |lab: &Lab| {
            let mut names: Vec<String> = lab.namespace_names().map(str::to_string).collect();
            names.sort();
            names
        };
        assert_eq!(labs[&bridge.name].namespaces, names(&bridge));
        assert_eq!(labs[&router.name].namespaces, names(&router));
        assert!(!labs[&bridge.name].host_interfaces.is_empty(), "the bridge and its ports are in the host");
        assert!(labs[&router.name].host_interfaces.is_empty(), "the router lab is all in namespaces");
        assert_eq!(labs[&router.name].interfaces, 2 * router.links.len(), "a veth has two ends");
    }

    #[test]
    fn nothing_made_by_hand_is_listed() {
        let mut observed = two_labs();
        observed.namespaces.retain(|netns, namespace| *netns == Netns::Host || namespace.owner.is_none());
        observed.namespaces.get_mut(&Netns::Host).expect("the host").links.retain(|_, link| link.owner.is_none());
        assert_eq!(footprints(&observed), BTreeMap::new());
    }

    #[test]
    fn a_lab_as_applied_stands_as_applied_and_a_change_by_hand_is_counted() {
        let mut observed = two_labs();
        let router = router_lab();
        assert_eq!(standing(Some(&router), &observed), Standing::AsApplied);
        let namespace = observed.namespaces.values_mut().find(|namespace| namespace.is_owned_by(&router.name));
        let link = namespace.expect("a router namespace").links.values_mut().next().expect("an interface");
        link.up = false;
        assert_eq!(standing(Some(&router), &observed), Standing::Changed { changes: 1 });
    }

    #[test]
    fn a_lab_with_a_name_taken_by_hand_conflicts_and_one_without_record_is_unrecorded() {
        let router = router_lab();
        let mut observed = two_labs();
        let taken = Netns::Named(router.namespace_names().next().expect("a namespace").to_string());
        observed.namespaces.insert(taken, ObservedNamespace::default());
        assert_eq!(standing(Some(&router), &observed), Standing::Conflicting { conflicts: 1 });
        assert_eq!(standing(None, &observed), Standing::Unrecorded);
    }

    #[test]
    fn a_recorded_lab_of_which_the_kernel_holds_nothing_is_absent() {
        assert_eq!(standing(Some(&router_lab()), &empty_host()), Standing::Absent);
        let mut observed = empty_host();
        apply(&mut observed, &bridge_lab());
        observed.namespaces.retain(|netns, _| *netns == Netns::Host);
        assert_ne!(standing(Some(&bridge_lab()), &observed), Standing::Absent, "its bridge is still there");
    }
}
