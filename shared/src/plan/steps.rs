//! Steps: how a plan runs. Consecutive ops that one netlink request can carry merge into a
//! step (a new veth with its master, MTU, MAC and up state; a new namespace with its
//! loopback up), and each step waits only for the earlier steps that touch one of its
//! namespaces, so independent namespaces are configured concurrently while the order
//! within each namespace stays the plan's.

use std::collections::HashMap;
use std::ops::Range;

use crate::ops::{LinkRef, Op};
use crate::topology::Netns;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The ops of the step: consecutive indexes into the plan.
    pub ops: Range<usize>,
    /// Indexes of the steps that must be done before this one starts.
    pub after: Vec<usize>,
}

pub fn steps(ops: &[Op]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut start = 0;
    while start < ops.len() {
        let end = start + 1 + ops[start + 1..].iter().take_while(|op| merges_into(&ops[start], op)).count();
        steps.push(Step { ops: start..end, after: Vec::new() });
        start = end;
    }
    link_dependencies(ops, &mut steps);
    steps
}

/// Can `follower` ride in the request that carries `leader`?
fn merges_into(leader: &Op, follower: &Op) -> bool {
    match (leader, follower) {
        (Op::CreateNamespace { name }, Op::SetLoopback { netns, up: true }) => netns.name() == Some(name.as_str()),
        (Op::CreateVeth { a, b }, op) => settable_at_creation(op).is_some_and(|link| link == a || link == b),
        (Op::CreateBridge { link: bridge }, op) => {
            !matches!(op, Op::SetMaster { .. }) && settable_at_creation(op).is_some_and(|link| link == bridge)
        }
        _ => false,
    }
}

/// The interface an op sets, when a creating request can carry that setting too.
fn settable_at_creation(op: &Op) -> Option<&LinkRef> {
    match op {
        Op::SetMaster { link, .. } | Op::SetMtu { link, .. } | Op::SetMac { link, .. } => Some(link),
        Op::SetUp { link, up: true } => Some(link),
        _ => None,
    }
}

/// What a step may run alongside: deletions and renames can reach into another namespace
/// (a veth's peer dies or changes with it), so they wait for everything before them and
/// everything after waits for them.
enum Reach {
    Namespaces(Vec<Netns>),
    Everything,
}

fn reach(op: &Op) -> Reach {
    match op {
        Op::DeleteLink { .. } | Op::DeleteNamespace { .. } | Op::RenameLink { .. } => Reach::Everything,
        Op::CreateVeth { a, b } => Reach::Namespaces(vec![a.netns.clone(), b.netns.clone()]),
        other => Reach::Namespaces(vec![other.netns()]),
    }
}

fn link_dependencies(ops: &[Op], steps: &mut [Step]) {
    let mut last_in: HashMap<Netns, usize> = HashMap::new();
    let mut last_barrier: Option<usize> = None;
    for index in 0..steps.len() {
        let mut touched: Vec<Netns> = Vec::new();
        let mut barrier = false;
        for op in &ops[steps[index].ops.clone()] {
            match reach(op) {
                Reach::Everything => barrier = true,
                Reach::Namespaces(namespaces) => touched.extend(namespaces),
            }
        }
        let mut after: Vec<usize> = if barrier {
            (0..index).collect()
        } else {
            touched.iter().filter_map(|netns| last_in.get(netns).copied()).chain(last_barrier).collect()
        };
        after.sort_unstable();
        after.dedup();
        steps[index].after = after;
        if barrier {
            last_barrier = Some(index);
            last_in.clear();
        }
        for netns in touched {
            last_in.insert(netns, index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str) -> Netns {
        Netns::Named(name.to_string())
    }

    fn link(netns: Netns, name: &str) -> LinkRef {
        LinkRef::new(netns, name)
    }

    #[test]
    fn creation_settings_merge_and_namespaces_run_side_by_side() {
        let ops = vec![
            Op::CreateNamespace { name: "a".into() },
            Op::SetLoopback { netns: ns("a"), up: true },
            Op::CreateNamespace { name: "b".into() },
            Op::SetLoopback { netns: ns("b"), up: true },
            Op::CreateBridge { link: link(Netns::Host, "br0") },
            Op::SetUp { link: link(Netns::Host, "br0"), up: true },
            Op::CreateVeth { a: link(Netns::Host, "p0"), b: link(ns("a"), "eth0") },
            Op::SetMaster { link: link(Netns::Host, "p0"), master: "br0".into() },
            Op::SetUp { link: link(Netns::Host, "p0"), up: true },
            Op::AddAddress { link: link(ns("a"), "eth0"), address: "10.0.0.2/24".into() },
            Op::SetUp { link: link(ns("a"), "eth0"), up: true },
            Op::AddAddress { link: link(ns("b"), "x"), address: "10.0.0.3/24".into() },
        ];
        let steps = steps(&ops);
        let ranges: Vec<Range<usize>> = steps.iter().map(|step| step.ops.clone()).collect();
        assert_eq!(ranges, [0..2, 2..4, 4..6, 6..9, 9..10, 10..11, 11..12]);
        let after: Vec<Vec<usize>> = steps.iter().map(|step| step.after.clone()).collect();
        // b's namespace does not wait for a's; the veth waits for the bridge and for a.
        assert_eq!(after, [vec![], vec![], vec![], vec![0, 2], vec![3], vec![4], vec![1]]);
    }

    #[test]
    fn deletions_and_renames_are_barriers() {
        let ops = vec![
            Op::SetUp { link: link(ns("a"), "x"), up: true },
            Op::DeleteLink { link: link(Netns::Host, "p0") },
            Op::SetUp { link: link(ns("b"), "y"), up: true },
            Op::RenameLink { link: link(ns("c"), "z"), new_name: "w".into() },
            Op::SetUp { link: link(ns("a"), "x"), up: false },
        ];
        let after: Vec<Vec<usize>> = steps(&ops).iter().map(|step| step.after.clone()).collect();
        assert_eq!(after, [vec![], vec![0], vec![1], vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn a_port_end_set_down_or_given_an_address_does_not_merge() {
        let ops = vec![
            Op::CreateVeth { a: link(Netns::Host, "p0"), b: link(ns("a"), "eth0") },
            Op::AddAddress { link: link(Netns::Host, "p0"), address: "10.0.0.1/24".into() },
            Op::SetUp { link: link(Netns::Host, "p0"), up: true },
        ];
        assert_eq!(steps(&ops).len(), 3);
    }
}
