//! Goals must name what the lab has: a source that can ping, a target that resolves, a
//! route destination, gateway and subnet that read, an interface of the node named.

use std::net::IpAddr;

use crate::goals::{address_goal_subnet, route_goal_destination, Goal};
use crate::lab::{Lab, Node};
use crate::path::DocPath;
use crate::problem::Rule;

use super::Report;

pub(super) fn check(lab: &Lab, report: &mut Report) {
    for (index, goal) in lab.goals.iter().enumerate() {
        let path = DocPath::root().field("goals").index(index);
        match goal {
            Goal::Reach(reach) | Goal::NoReach(reach) => {
                check_namespace(lab, &reach.from, &path.field("from"), report);
                check_target(lab, &reach.to, &path.field("to"), report);
            }
            Goal::Route(route) => {
                check_namespace(lab, &route.node, &path.field("node"), report);
                if let Err(why) = route_goal_destination(&route.to) {
                    report.push(Rule::InvalidGoal, path.field("to"), why);
                }
                if let Some(via) = &route.via {
                    if via.parse::<std::net::IpAddr>().is_err() {
                        report.push(Rule::InvalidGoal, path.field("via"), format!("`{via}` is not an address"));
                    }
                }
            }
            Goal::Forwarding(forwarding) => {
                check_namespace(lab, &forwarding.node, &path.field("node"), report);
            }
            Goal::Address(address) => {
                check_node(lab, &address.node, &path.field("node"), report);
                if let Err(why) = address_goal_subnet(&address.subnet) {
                    report.push(Rule::InvalidGoal, path.field("subnet"), why);
                }
            }
        }
    }
}

/// A goal's node that must have a network stack of its own: a namespace or the host.
fn check_namespace(lab: &Lab, name: &str, path: &DocPath, report: &mut Report) {
    match lab.node(name) {
        Some(Node::Namespace(_) | Node::Host(_)) => {}
        Some(Node::Bridge(_)) => {
            let message = format!("`{name}` is a bridge; a goal names a namespace or the host here");
            report.push(Rule::WrongNodeKind, path.clone(), message);
        }
        None => check_node(lab, name, path, report),
    }
}

/// A reach goal's target: an address, or a node of the lab (`NODE` or `NODE:INTERFACE`).
/// The interface and the node's addresses may be missing: building them is the exercise.
fn check_target(lab: &Lab, to: &str, path: &DocPath, report: &mut Report) {
    if to.parse::<IpAddr>().is_ok() {
        return;
    }
    let node = to.split_once(':').map_or(to, |(node, _)| node);
    if lab.node(node).is_none() {
        let message = format!("`{to}` is neither an address nor a node of the lab (or `NODE:INTERFACE`)");
        report.push(Rule::UnknownNode, path.clone(), message);
    }
}

fn check_node(lab: &Lab, node: &str, path: &DocPath, report: &mut Report) {
    if lab.node(node).is_none() {
        report.push(Rule::UnknownNode, path.clone(), format!("the goal names `{node}`, but the lab has no such node"));
    }
}
