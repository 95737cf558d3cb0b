//! Destroy: remove exactly what a lab owns, found by its mark in the kernel.

use std::collections::HashSet;

use super::settings::{delete_route_op, WantedRoute};
use crate::lab::{Lab, Node};
use crate::observed::Observed;
use crate::ops::{LinkRef, Op};
use crate::topology::Netns;

/// The lab's namespaces first, then its interfaces elsewhere (a veth once, by either end),
/// then its host routes that would outlive those interfaces.
///
/// A veth with one end in a deleted namespace is not deleted by itself: it dies with the
/// namespace. The kernel tears many namespaces down together (one batch, one RCU grace
/// period), where deleting veths one by one costs a grace period each; the engine waits
/// for such ends to be gone before it reports done.
pub fn destroy_ops(lab: &Lab, observed: &Observed) -> Vec<Op> {
    let owned_namespace = |netns: &Netns| {
        observed.namespace(netns).is_some_and(|namespace| namespace.owner.as_deref() == Some(lab.name.as_str()))
    };
    let mut ops: Vec<Op> = observed
        .namespaces
        .keys()
        .filter(|netns| owned_namespace(netns))
        .filter_map(|netns| netns.name().map(|name| Op::DeleteNamespace { name: name.to_string() }))
        .collect();
    let mut gone: HashSet<LinkRef> = HashSet::new();
    for (netns, namespace) in observed.namespaces.iter().filter(|(netns, _)| !owned_namespace(netns)) {
        for (name, link) in &namespace.links {
            let here = LinkRef::new(netns.clone(), name.clone());
            if !link.is_owned_by(&lab.name) || gone.contains(&here) {
                continue;
            }
            gone.insert(here.clone());
            match &link.peer {
                Some(peer) if owned_namespace(&peer.netns) => {}
                Some(peer) => {
                    gone.insert(peer.clone());
                    ops.push(Op::DeleteLink { link: here });
                }
                None => ops.push(Op::DeleteLink { link: here }),
            }
        }
    }
    ops.extend(host_routes(lab, observed, &gone));
    ops
}

/// True when the kernel holds nothing of the lab any more (what `destroy` waits for).
pub fn is_gone(lab: &Lab, observed: &Observed) -> bool {
    observed.namespaces.values().all(|namespace| {
        namespace.owner.as_deref() != Some(lab.name.as_str())
            && namespace.links.values().all(|link| !link.is_owned_by(&lab.name))
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
