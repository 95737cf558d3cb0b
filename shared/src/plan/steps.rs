//! Steps: how a plan runs. Consecutive ops that one netlink request can carry merge into a
//! step (a new veth with its master, MTU, MAC and up state; a new namespace with its
//! loopback up), and each step waits only for the earlier steps that changed what it
//! uses, so independent namespaces and interfaces are configured concurrently while the
//! order of what depends on what stays the plan's.

use std::collections::HashMap;
use std::ops::Range;

use crate::identity::{LinkRef, Netns};
use crate::ops::Op;

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

/// What an op depends on and changes: it runs after the last step that changed anything
/// it reads or writes. Interfaces are independent of each other (two veths of one bridge
/// are made side by side); routes depend on everything before them in their namespace
/// (their gateways' subnets); deletions and renames can reach into another namespace (a
/// veth's peer dies or changes with it), so they wait for everything and everything after
/// waits for them.
#[derive(Default)]
struct Touch {
    reads: Vec<Key>,
    writes: Vec<Key>,
    whole_namespace: Option<Netns>,
    barrier: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Namespace(Netns),
    Link(LinkRef),
}

fn touch(op: &Op) -> Touch {
    let in_namespace = |netns: &Netns| Key::Namespace(netns.clone());
    let on_link = |link: &LinkRef| Touch {
        reads: vec![in_namespace(&link.netns)],
        writes: vec![Key::Link(link.clone())],
        ..Touch::default()
    };
    match op {
        Op::DeleteLink { .. } | Op::DeleteNamespace { .. } | Op::RenameLink { .. } => {
            Touch { barrier: true, ..Touch::default() }
        }
        Op::CreateNamespace { name } | Op::AdoptNamespace { name, .. } => {
            Touch { writes: vec![Key::Namespace(Netns::Named(name.clone()))], ..Touch::default() }
        }
        Op::SetLoopback { netns, .. } | Op::SetForwarding { netns, .. } => {
            Touch { reads: vec![in_namespace(netns)], ..Touch::default() }
        }
        Op::AddRoute { netns, .. } | Op::DeleteRoute { netns, .. } => {
            Touch { whole_namespace: Some(netns.clone()), ..Touch::default() }
        }
        Op::CreateVeth { a, b } => Touch {
            reads: vec![in_namespace(&a.netns), in_namespace(&b.netns)],
            writes: vec![Key::Link(a.clone()), Key::Link(b.clone())],
            ..Touch::default()
        },
        Op::SetMaster { link, master } => {
            let mut touch = on_link(link);
            touch.reads.push(Key::Link(LinkRef::new(link.netns.clone(), master.clone())));
            touch
        }
        Op::CreateBridge { link }
        | Op::SetNoMaster { link }
        | Op::SetMtu { link, .. }
        | Op::SetMac { link, .. }
        | Op::SetUp { link, .. }
        | Op::AddAddress { link, .. }
        | Op::DeleteAddress { link, .. }
        | Op::AdoptLink { link, .. }
        | Op::SetNetem { link, .. }
        | Op::ClearNetem { link } => on_link(link),
    }
}

/// The order the dependencies so far impose.
#[derive(Default)]
struct Order {
    last_writer: HashMap<Key, usize>,
    /// Steps that read a key since its last write: the next write waits for them (a
    /// bridge comes up only after the ports that read it joined).
    readers: HashMap<Key, Vec<usize>>,
    /// Steps in each namespace since its last namespace-wide step.
    in_namespace: HashMap<Netns, Vec<usize>>,
    last_barrier: Option<usize>,
    /// Steps since the last barrier: a barrier waits for these (and the barrier before,
    /// which everything since waited for already).
    since_barrier: Vec<usize>,
}

impl Order {
    fn after(&self, touch: &Touch) -> Vec<usize> {
        if touch.barrier {
            let mut after = self.since_barrier.clone();
            after.extend(self.last_barrier);
            return after;
        }
        let keys = touch.reads.iter().chain(&touch.writes);
        let mut after: Vec<usize> = keys.filter_map(|key| self.last_writer.get(key).copied()).collect();
        for key in &touch.writes {
            after.extend(self.readers.get(key).into_iter().flatten().copied());
        }
        after.extend(self.last_barrier);
        if let Some(netns) = &touch.whole_namespace {
            after.extend(self.in_namespace.get(netns).into_iter().flatten().copied());
            after.extend(self.last_writer.get(&Key::Namespace(netns.clone())).copied());
        }
        after
    }

    fn record(&mut self, index: usize, touch: Touch) {
        self.since_barrier.push(index);
        if touch.barrier {
            *self = Order { last_barrier: Some(index), ..Order::default() };
            return;
        }
        for key in touch.reads.iter().chain(&touch.writes) {
            let (Key::Namespace(netns) | Key::Link(LinkRef { netns, .. })) = key;
            self.in_namespace.entry(netns.clone()).or_default().push(index);
        }
        for key in touch.reads {
            self.readers.entry(key).or_default().push(index);
        }
        for key in touch.writes {
            self.readers.remove(&key);
            self.last_writer.insert(key, index);
        }
        if let Some(netns) = touch.whole_namespace {
            // Everything later in the namespace comes after this step.
            self.in_namespace.insert(netns.clone(), Vec::new());
            self.last_writer.retain(|key, _| !matches!(key, Key::Link(link) if link.netns == netns));
            self.last_writer.insert(Key::Namespace(netns), index);
        }
    }
}

fn link_dependencies(ops: &[Op], steps: &mut [Step]) {
    let mut order = Order::default();
    for index in 0..steps.len() {
        let mut merged = Touch::default();
        for op in &ops[steps[index].ops.clone()] {
            let touch = touch(op);
            merged.reads.extend(touch.reads);
            merged.writes.extend(touch.writes);
            merged.whole_namespace = merged.whole_namespace.or(touch.whole_namespace);
            merged.barrier |= touch.barrier;
        }
        let mut after = order.after(&merged);
        after.sort_unstable();
        after.dedup();
        steps[index].after = after;
        order.record(index, merged);
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
        // b's namespace does not wait for a's; the veth waits for the bridge and for a; the
        // addresses wait for their interface only.
        assert_eq!(after, [vec![], vec![], vec![], vec![0, 2], vec![0, 3], vec![0, 4], vec![1]]);
    }

    #[test]
    fn routes_wait_for_their_whole_namespace_and_veths_of_one_bridge_run_side_by_side() {
        let ops = vec![
            Op::CreateBridge { link: link(Netns::Host, "br0") },
            Op::CreateVeth { a: link(Netns::Host, "p0"), b: link(ns("a"), "eth0") },
            Op::CreateVeth { a: link(Netns::Host, "p1"), b: link(ns("b"), "eth0") },
            Op::AddAddress { link: link(ns("a"), "eth0"), address: "10.0.0.2/24".into() },
            Op::AddAddress { link: link(ns("a"), "eth1"), address: "10.0.1.2/24".into() },
            Op::AddRoute {
                netns: ns("a"),
                family: crate::address::Family::V4,
                route: crate::lab::Route {
                    to: "default".into(),
                    via: Some("10.0.0.1".into()),
                    dev: None,
                    metric: None,
                },
            },
            Op::SetUp { link: link(ns("a"), "eth0"), up: true },
        ];
        let after: Vec<Vec<usize>> = steps(&ops).iter().map(|step| step.after.clone()).collect();
        assert_eq!(after, [vec![], vec![], vec![], vec![1], vec![], vec![1, 3, 4], vec![5]]);
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
        // The rename waits for the deletion and what came since (the deletion waited for the rest).
        assert_eq!(after, [vec![], vec![0], vec![1], vec![1, 2], vec![3]]);
    }

    #[test]
    fn a_change_waits_for_the_steps_that_read_what_it_changes() {
        let bridge = link(Netns::Host, "br0");
        let ops = vec![
            Op::CreateBridge { link: bridge.clone() },
            Op::SetMaster { link: link(Netns::Host, "p0"), master: "br0".into() },
            Op::SetMaster { link: link(Netns::Host, "p1"), master: "br0".into() },
            Op::SetUp { link: bridge.clone(), up: true },
            Op::SetMaster { link: link(Netns::Host, "p2"), master: "br0".into() },
        ];
        let after: Vec<Vec<usize>> = steps(&ops).iter().map(|step| step.after.clone()).collect();
        // The ports join side by side; the bridge comes up after both; a later port waits
        // for that change only.
        assert_eq!(after, [vec![], vec![0], vec![0], vec![0, 1, 2], vec![3]]);
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
