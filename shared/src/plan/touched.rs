//! Which namespaces a plan can change, so that only those need reading again to verify
//! it: the namespaces its ops act in, and those of the veth peers of the interfaces they
//! act on (deleting, renaming or setting down one end changes what the other end's
//! namespace shows), including the peers of everything in a namespace it deletes.

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
            Op::CreateVeth { a, b } => {
                found.insert(b.netns.clone());
                found.extend([a, b].into_iter().filter_map(peer_of));
            }
            Op::DeleteNamespace { name } => {
                let netns = Netns::Named(name.clone());
                let links = observed.namespaces.get(&netns).into_iter().flat_map(|namespace| namespace.links.values());
                found.extend(links.filter_map(|link| link.peer.as_ref().map(|peer| peer.netns.clone())));
            }
            op => found.extend(link_of(op).and_then(peer_of)),
        }
    }
    found.into_iter().collect()
}

fn link_of(op: &Op) -> Option<&LinkRef> {
    match op {
        Op::CreateBridge { link }
        | Op::DeleteLink { link }
        | Op::SetMaster { link, .. }
        | Op::SetNoMaster { link }
        | Op::SetMtu { link, .. }
        | Op::SetMac { link, .. }
        | Op::SetUp { link, .. }
        | Op::AddAddress { link, .. }
        | Op::DeleteAddress { link, .. }
        | Op::RenameLink { link, .. }
        | Op::AdoptLink { link, .. } => Some(link),
        _ => None,
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
    fn an_edit_inside_one_namespace_touches_it_and_its_peers_namespace_only() {
        let ops = vec![
            Op::RenameLink { link: LinkRef::new(ns("n1"), "eth0"), new_name: "eth1".into() },
            Op::AddAddress { link: LinkRef::new(ns("n1"), "eth1"), address: "10.0.0.9/16".into() },
        ];
        assert_eq!(touched(&ops, &star()), [Netns::Host, ns("n1")]);
    }

    #[test]
    fn a_host_change_touches_the_peer_and_a_deleted_namespace_touches_its_peers() {
        let ops = vec![Op::SetUp { link: LinkRef::new(Netns::Host, "v2"), up: false }];
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
