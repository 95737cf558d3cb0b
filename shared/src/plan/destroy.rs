//! Destroy: remove exactly what a lab owns, found by its mark in the kernel.

use std::collections::HashSet;

use super::settings::{delete_route_op, WantedRoute};
use crate::lab::{Lab, Node};
use crate::observed::Observed;
use crate::ops::{LinkRef, Op};
use crate::topology::Netns;

/// Interfaces of the lab outside its own namespaces first (a veth once, by either end),
/// then the lab's host routes through interfaces it does not own, then its namespaces,
/// which take everything inside them along.
pub fn destroy_ops(lab: &Lab, observed: &Observed) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut gone: HashSet<LinkRef> = HashSet::new();
    for (netns, namespace) in &observed.namespaces {
        if namespace.owner.as_deref() == Some(lab.name.as_str()) {
            continue;
        }
        for (name, link) in &namespace.links {
            let here = LinkRef::new(netns.clone(), name.clone());
            if link.is_owned_by(&lab.name) && !gone.contains(&here) {
                if let Some(peer) = &link.peer {
                    gone.insert(peer.clone());
                }
                gone.insert(here.clone());
                ops.push(Op::DeleteLink { link: here });
            }
        }
    }
    ops.extend(host_routes(lab, observed, &gone));
    for (netns, namespace) in &observed.namespaces {
        if let (Netns::Named(name), Some(owner)) = (netns, &namespace.owner) {
            if owner == &lab.name {
                ops.push(Op::DeleteNamespace { name: name.clone() });
            }
        }
    }
    ops
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
