//! Which namespaces a plan can change, so that only those need reading again to verify
//! it: the namespaces its ops act in, and where an op deletes an interface (or a whole
//! namespace), the namespaces of the veth peers that die with it. A veth end changed in
//! any other way (renamed, readdressed, set down) shows in its peer's namespace only as
//! the peer's name for it and its carrier; the reader refreshes the first from the fresh
//! end (see the kernel's `observe_again`) and plans never look at the second.

use std::collections::BTreeSet;

use crate::observed::Observed;
use crate::ops::{LinkRef, Op};
use crate::topology::Netns;

pub fn touched(ops: &[Op], observed: &Observed) -> Vec<Netns> {
    let mut found = BTreeSet::new();
    let peer_of =
        |link: &LinkRef| observed.link(link).and_then(|found| found.peer.as_ref()).map(|peer| peer.netns.clone());
    for op in ops {
        found.insert(op.netns());
        match op {
            Op::CreateVeth { b, .. } => {
                found.insert(b.netns.clone());
            }
            Op::DeleteLink { link } => found.extend(peer_of(link)),
            Op::DeleteNamespace { name } => {
                let netns = Netns::Named(name.clone());
                let links = observed.namespaces.get(&netns).into_iter().flat_map(|namespace| namespace.links.values());
                found.extend(links.filter_map(|link| link.peer.as_ref().map(|peer| peer.netns.clone())));
            }
            _ => {}
        }
    }
    found.into_iter().collect()
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
}
