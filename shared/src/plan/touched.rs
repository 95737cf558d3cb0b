//! Which namespaces a plan can change, so that only those need reading again to verify
//! it: the namespaces its ops act in, and where an op deletes an interface (or a whole
//! namespace), the namespaces of the veth peers that die with it. A veth end changed in
//! any other way (renamed, readdressed, set down) shows in its peer's namespace only as
//! the peer's name for it and its carrier; the reader refreshes the first from the fresh
//! end (see the kernel's `observe_again`) and plans never look at the second.

use std::collections::{BTreeSet, HashMap};

use crate::identity::{LinkRef, Netns};
use crate::observed::Observed;
use crate::ops::Op;
use crate::plan::Step;

pub fn touched(ops: &[Op], observed: &Observed) -> Vec<Netns> {
    let found: BTreeSet<Netns> = ops.iter().flat_map(|op| touched_by(op, observed)).collect();
    found.into_iter().collect()
}

/// The namespaces one op can change.
fn touched_by(op: &Op, observed: &Observed) -> Vec<Netns> {
    let peer_of =
        |link: &LinkRef| observed.link(link).and_then(|found| found.peer.as_ref()).map(|peer| peer.netns.clone());
    let mut found = vec![op.netns()];
    match op {
        Op::CreateVeth { b, .. } => found.push(b.netns.clone()),
        Op::DeleteLink { link } => found.extend(peer_of(link)),
        Op::DeleteNamespace { name } => {
            let netns = Netns::Named(name.clone());
            let links = observed.namespaces.get(&netns).into_iter().flat_map(|namespace| namespace.links.values());
            found.extend(links.filter_map(|link| link.peer.as_ref().map(|peer| peer.netns.clone())));
        }
        _ => {}
    }
    found
}

/// Which namespaces a run has finished with while it goes on: a namespace is settled once
/// every step that can change it (see `touched`) is done, and no step left changes it
/// then, so verify may read it at once, beside the steps still running, and find what it
/// would find after the run.
pub struct Settling {
    /// Per step: the namespaces it can change.
    changes: Vec<Vec<Netns>>,
    /// Per namespace: how many of the steps that can change it are not done yet.
    unfinished: HashMap<Netns, usize>,
}

impl Settling {
    pub fn new(steps: &[Step], ops: &[Op], observed: &Observed) -> Settling {
        let changes: Vec<Vec<Netns>> = steps.iter().map(|step| touched(&ops[step.ops.clone()], observed)).collect();
        let mut unfinished = HashMap::new();
        for netns in changes.iter().flatten() {
            *unfinished.entry(netns.clone()).or_insert(0) += 1;
        }
        Settling { changes, unfinished }
    }

    /// Step `index` is done: the namespaces it settled, if any.
    pub fn finished(&mut self, index: usize) -> Vec<Netns> {
        let mut settled = Vec::new();
        for netns in std::mem::take(&mut self.changes[index]) {
            let left = self.unfinished.get_mut(&netns).expect("counted in new");
            *left -= 1;
            if *left == 0 {
                settled.push(netns);
            }
        }
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{ObservedLink, ObservedNamespace};

    fn ns(name: &str) -> Netns {
        Netns::Named(name.to_string())
    }

    /// Host veth `v{i}` to `eth0` in `n{i}`, for i in 0..3.
    fn star() -> Observed {
        let mut observed = Observed::default();
        let mut host = ObservedNamespace::default();
        for i in 0..3 {
            let mut outside = ObservedLink::new("veth", 10 + i);
            outside.peer = Some(LinkRef::new(ns(&format!("n{i}")), "eth0"));
            host.links.insert(format!("v{i}"), outside);
            let mut inside = ObservedLink::new("veth", 2);
            inside.peer = Some(LinkRef::new(Netns::Host, format!("v{i}")));
            let mut namespace = ObservedNamespace::default();
            namespace.links.insert("eth0".into(), inside);
            observed.namespaces.insert(ns(&format!("n{i}")), namespace);
        }
        observed.namespaces.insert(Netns::Host, host);
        observed
    }

    #[test]
    fn an_edit_inside_one_namespace_touches_it_alone() {
        let ops = vec![
            Op::RenameLink { link: LinkRef::new(ns("n1"), "eth0"), new_name: "eth1".into() },
            Op::AddAddress { link: LinkRef::new(ns("n1"), "eth1"), address: "10.0.0.9/16".into() },
            Op::SetUp { link: LinkRef::new(ns("n1"), "eth1"), up: true },
        ];
        assert_eq!(touched(&ops, &star()), [ns("n1")]);
        let ops = vec![Op::SetUp { link: LinkRef::new(Netns::Host, "v2"), up: false }];
        assert_eq!(touched(&ops, &star()), [Netns::Host]);
    }

    #[test]
    fn a_deletion_touches_the_namespaces_of_the_peers_that_die_with_it() {
        let ops = vec![Op::DeleteLink { link: LinkRef::new(Netns::Host, "v2") }];
        assert_eq!(touched(&ops, &star()), [Netns::Host, ns("n2")]);
        let ops = vec![Op::DeleteNamespace { name: "n0".into() }];
        assert_eq!(touched(&ops, &star()), [Netns::Host, ns("n0")]);
    }

    #[test]
    fn a_new_veth_touches_both_ends_and_new_namespaces_are_in() {
        let ops = vec![
            Op::CreateNamespace { name: "n7".into() },
            Op::CreateVeth { a: LinkRef::new(ns("n7"), "eth0"), b: LinkRef::new(ns("n8"), "eth0") },
        ];
        assert_eq!(touched(&ops, &star()), [ns("n7"), ns("n8")]);
        assert!(touched(&[], &star()).is_empty());
    }

    /// One step per op, in plan order (dependencies do not matter to settling).
    fn one_step_each(ops: &[Op]) -> Vec<Step> {
        (0..ops.len()).map(|index| Step { ops: index..index + 1, after: Vec::new() }).collect()
    }

    #[test]
    fn a_namespace_settles_when_the_last_step_that_changes_it_is_done() {
        let ops = vec![
            Op::CreateNamespace { name: "n7".into() },
            Op::CreateVeth { a: LinkRef::new(ns("n7"), "eth0"), b: LinkRef::new(Netns::Host, "v7") },
            Op::SetUp { link: LinkRef::new(ns("n7"), "eth0"), up: true },
            Op::SetUp { link: LinkRef::new(Netns::Host, "v7"), up: true },
        ];
        let mut settling = Settling::new(&one_step_each(&ops), &ops, &star());
        assert!(settling.finished(0).is_empty());
        assert!(settling.finished(1).is_empty(), "n7 and the host are changed again later");
        assert_eq!(settling.finished(2), [ns("n7")], "while the host's last step still runs");
        assert_eq!(settling.finished(3), [Netns::Host]);
    }

    #[test]
    fn steps_finishing_out_of_order_settle_each_namespace_once() {
        let ops = vec![
            Op::SetUp { link: LinkRef::new(ns("n1"), "eth0"), up: true },
            Op::DeleteLink { link: LinkRef::new(Netns::Host, "v2") },
            Op::SetUp { link: LinkRef::new(ns("n2"), "eth0"), up: true },
        ];
        let mut settling = Settling::new(&one_step_each(&ops), &ops, &star());
        assert!(settling.finished(2).is_empty(), "n2 also loses its veth in step 1");
        assert_eq!(settling.finished(1), [Netns::Host, ns("n2")]);
        assert_eq!(settling.finished(0), [ns("n1")]);
    }

    #[test]
    fn a_step_of_several_ops_changes_what_each_of_them_changes() {
        let ops = vec![
            Op::CreateVeth { a: LinkRef::new(ns("n7"), "eth0"), b: LinkRef::new(ns("n8"), "eth0") },
            Op::SetUp { link: LinkRef::new(ns("n8"), "eth0"), up: true },
            Op::SetUp { link: LinkRef::new(ns("n7"), "eth0"), up: true },
        ];
        let steps = vec![Step { ops: 0..2, after: Vec::new() }, Step { ops: 2..3, after: vec![0] }];
        let mut settling = Settling::new(&steps, &ops, &star());
        assert_eq!(settling.finished(0), [ns("n8")]);
        assert_eq!(settling.finished(1), [ns("n7")]);
    }
}
