//! Destroy: remove exactly what a lab owns, found by its mark in the kernel.

use std::collections::{HashMap, HashSet};

use super::settings::{delete_route_op, WantedRoute};
use crate::identity::{LinkRef, Netns};
use crate::lab::{Lab, Node};
use crate::observed::{Observed, ObservedLink};
use crate::ops::Op;

/// The lab's namespaces first, then its interfaces elsewhere (a veth once, by either end),
/// then its host routes that would outlive those interfaces.
///
/// A veth with one end in a deleted namespace is not deleted by itself: it dies with the
/// namespace. The kernel tears many namespaces down together (one batch, one RCU grace
/// period), where deleting veths one by one costs a grace period each; the engine waits
/// for such ends to be gone before it reports done.
///
/// Namespaces go in the lab's order (then any it owns that its file no longer names), as
/// its `ip` script would delete them and people read them.
pub fn destroy_ops(lab: &Lab, observed: &Observed) -> Vec<Op> {
    let in_lab: HashMap<&str, usize> =
        lab.namespace_names().enumerate().map(|(position, name)| (name, position)).collect();
    let mut names: Vec<&str> = observed
        .namespaces
        .keys()
        .filter(|netns| owns_namespace(lab, observed, netns))
        .filter_map(Netns::name)
        .collect();
    names.sort_by_key(|name| (in_lab.get(name).copied().unwrap_or(usize::MAX), *name));
    let mut ops: Vec<Op> = names.into_iter().map(|name| Op::DeleteNamespace { name: name.to_string() }).collect();
    let mut gone: HashSet<LinkRef> = HashSet::new();
    for (here, link, dies_with_peer) in outside_interfaces(lab, observed) {
        if !gone.insert(here.clone()) || dies_with_peer {
            continue;
        }
        if let Some(peer) = &link.peer {
            gone.insert(peer.clone());
        }
        ops.push(Op::DeleteLink { link: here });
    }
    ops.extend(host_routes(lab, observed, &gone));
    ops
}

/// The lab's interfaces that `destroy_ops` leave to the kernel: those outside the lab's
/// namespaces whose veth peer is inside one. They go when the kernel tears that namespace
/// down, in the background, so destroy waits for them; everything else is out of sight
/// when the ops return (a namespace's name is free at once, its insides go with it).
pub fn lingering(lab: &Lab, observed: &Observed) -> Vec<LinkRef> {
    outside_interfaces(lab, observed)
        .filter(|(_, _, dies_with_peer)| *dies_with_peer)
        .map(|(here, _, _)| here)
        .collect()
}

/// The lab's interfaces outside its namespaces, each with whether its veth peer is inside
/// one of them (then it dies with that namespace).
fn outside_interfaces<'o>(
    lab: &'o Lab,
    observed: &'o Observed,
) -> impl Iterator<Item = (LinkRef, &'o ObservedLink, bool)> + 'o {
    let outside = observed.namespaces.iter().filter(|(netns, _)| !owns_namespace(lab, observed, netns));
    outside.flat_map(move |(netns, namespace)| {
        namespace.links.iter().filter(|(_, link)| link.is_owned_by(&lab.name)).map(move |(name, link)| {
            let dies_with_peer = link.peer.as_ref().is_some_and(|peer| owns_namespace(lab, observed, &peer.netns));
            (LinkRef::new(netns.clone(), name.clone()), link, dies_with_peer)
        })
    })
}

fn owns_namespace(lab: &Lab, observed: &Observed, netns: &Netns) -> bool {
    observed.namespace(netns).is_some_and(|namespace| namespace.is_owned_by(&lab.name))
}

/// True when the kernel holds nothing of the lab any more (what `destroy` waits for).
pub fn is_gone(lab: &Lab, observed: &Observed) -> bool {
    observed.namespaces.values().all(|namespace| {
        !namespace.is_owned_by(&lab.name) && namespace.links.values().all(|link| !link.is_owned_by(&lab.name))
    })
}

/// Host routes the lab asked for that outlive its interfaces (through a device of the host).
fn host_routes(lab: &Lab, observed: &Observed, gone: &HashSet<LinkRef>) -> Vec<Op> {
    let Some(host) = observed.namespace(&Netns::Host) else { return Vec::new() };
    let wanted: Vec<WantedRoute> = lab
        .nodes
        .iter()
        .filter(|node| matches!(node, Node::Host(_)))
        .flat_map(|node| node.routes().iter().filter_map(WantedRoute::of))
        .collect();
    host.routes
        .iter()
        .filter(|route| route.by_nslab && wanted.iter().any(|want| want.is(route)))
        .filter(|route| route.dev.as_ref().is_none_or(|dev| !gone.contains(&LinkRef::new(Netns::Host, dev.clone()))))
        .map(|route| delete_route_op(&Netns::Host, route))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{ObservedLink, ObservedNamespace};

    fn named(name: &str) -> Netns {
        Netns::Named(name.to_string())
    }

    fn namespace(owner: Option<&str>) -> ObservedNamespace {
        ObservedNamespace { owner: owner.map(str::to_string), ..Default::default() }
    }

    /// A veth end named `name` in `at`, owned by `owner`, its peer `peer`.
    fn end(observed: &mut Observed, at: &Netns, name: &str, owner: Option<&str>, peer: (&Netns, &str)) {
        let mut link = ObservedLink::new("veth", 2);
        link.owner = owner.map(str::to_string);
        link.peer = Some(LinkRef::new(peer.0.clone(), peer.1));
        observed.namespaces.entry(at.clone()).or_default().links.insert(name.to_string(), link);
    }

    /// `lab`'s namespaces n0 and n1; n0's eth0 pairs with the host's v0, n0's eth1 with
    /// n1's eth0.
    fn star_and_chain() -> Observed {
        let mut observed = Observed::default();
        observed.namespaces.insert(Netns::Host, namespace(None));
        for name in ["n0", "n1"] {
            observed.namespaces.insert(named(name), namespace(Some("lab")));
        }
        end(&mut observed, &Netns::Host, "v0", Some("lab"), (&named("n0"), "eth0"));
        end(&mut observed, &named("n0"), "eth0", Some("lab"), (&Netns::Host, "v0"));
        end(&mut observed, &named("n0"), "eth1", Some("lab"), (&named("n1"), "eth0"));
        end(&mut observed, &named("n1"), "eth0", Some("lab"), (&named("n0"), "eth1"));
        observed
    }

    #[test]
    fn a_host_end_of_a_deleted_namespace_s_veth_lingers_and_is_left_to_the_kernel() {
        let lab = Lab::new("lab");
        let observed = star_and_chain();
        assert_eq!(lingering(&lab, &observed), vec![LinkRef::new(Netns::Host, "v0")]);
        let ops = destroy_ops(&lab, &observed);
        assert_eq!(
            ops,
            vec![Op::DeleteNamespace { name: "n0".into() }, Op::DeleteNamespace { name: "n1".into() }],
            "v0 goes with n0, not by an op of its own"
        );
    }

    #[test]
    fn namespaces_go_in_the_lab_s_order_then_those_its_file_no_longer_names() {
        let mut lab = Lab::new("lab");
        for name in ["n2", "n10", "n1"] {
            lab.nodes.push(Node::Namespace(crate::lab::NamespaceNode::new(name)));
        }
        let mut observed = Observed::default();
        for name in ["n1", "n10", "n2", "gone-from-file", "another"] {
            observed.namespaces.insert(named(name), namespace(Some("lab")));
        }
        let order: Vec<String> = destroy_ops(&lab, &observed).iter().map(Op::ip_command).collect();
        let expected = ["n2", "n10", "n1", "another", "gone-from-file"].map(|name| format!("ip netns delete {name}"));
        assert_eq!(order, expected);
    }

    #[test]
    fn veths_between_the_lab_s_namespaces_leave_nothing_to_wait_for() {
        let lab = Lab::new("lab");
        let mut observed = star_and_chain();
        observed.namespaces.get_mut(&Netns::Host).unwrap().links.clear();
        observed.namespaces.get_mut(&named("n0")).unwrap().links.remove("eth0");
        assert_eq!(lingering(&lab, &observed), Vec::<LinkRef>::new());
    }

    #[test]
    fn only_the_lab_s_own_ends_linger() {
        let mut observed = star_and_chain();
        // Another lab's namespace with a veth into ours, and a host veth of nobody's.
        observed.namespaces.insert(named("theirs"), namespace(Some("other")));
        end(&mut observed, &named("theirs"), "eth9", Some("other"), (&named("n1"), "eth9"));
        end(&mut observed, &Netns::Host, "hand", None, (&named("n1"), "eth8"));
        let ours = lingering(&Lab::new("lab"), &observed);
        assert_eq!(ours, vec![LinkRef::new(Netns::Host, "v0")]);
        assert!(lingering(&Lab::new("other"), &observed).is_empty(), "the other lab's namespace is not deleted");
    }

    #[test]
    fn a_veth_with_both_ends_outside_is_deleted_not_waited_for() {
        let lab = Lab::new("lab");
        let mut observed = Observed::default();
        observed.namespaces.insert(Netns::Host, namespace(None));
        end(&mut observed, &Netns::Host, "a", Some("lab"), (&Netns::Host, "b"));
        end(&mut observed, &Netns::Host, "b", Some("lab"), (&Netns::Host, "a"));
        assert!(lingering(&lab, &observed).is_empty());
        assert_eq!(destroy_ops(&lab, &observed).len(), 1, "one delete takes both ends");
    }
}
