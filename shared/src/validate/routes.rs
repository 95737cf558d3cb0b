//! Routes: well-formed, through devices that exist, and not the same route twice.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::address::{parse_destination, parse_gateway, Destination, Family};
use crate::identity::Netns;
use crate::lab::{Lab, Route};
use crate::path::DocPath;
use crate::problem::Rule;
use crate::topology::Topology;

use super::Report;

/// A route made sense of: the network it leads to and its gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedRoute {
    pub destination: IpNet,
    pub via: Option<IpAddr>,
}

/// Parses a route; `default` takes the gateway's family, IPv4 without a gateway.
pub fn parse_route(route: &Route) -> Result<ParsedRoute, (&'static str, String)> {
    let destination = parse_destination(&route.to).map_err(|message| ("to", message))?;
    let via = match &route.via {
        Some(text) => Some(parse_gateway(text).map_err(|message| ("via", message))?),
        None => None,
    };
    let destination = match destination {
        Destination::Prefix(net) => net,
        Destination::Default => match via {
            Some(IpAddr::V6(_)) => "::/0".parse().expect("constant network"),
            _ => "0.0.0.0/0".parse().expect("constant network"),
        },
    };
    if let Some(gateway) = via {
        let (to, via) = (Family::of(&destination.addr()), Family::of(&gateway));
        if to != via {
            return Err((
                "via",
                format!(
                    "the destination is {} but the gateway {gateway} is {}; they must be the same family",
                    to.word(),
                    via.word()
                ),
            ));
        }
    }
    Ok(ParsedRoute { destination, via })
}

pub(super) fn check(lab: &Lab, topology: &Topology, report: &mut Report) {
    for (index, node) in lab.nodes.iter().enumerate() {
        if node.routes().is_empty() {
            continue;
        }
        let Some(netns) = topology.netns_of_node(node.name()).cloned() else {
            continue;
        };
        let devices: HashSet<&str> =
            topology.interfaces_in(&netns).map(|interface| interface.name).chain(["lo"]).collect();
        let mut seen: HashMap<(IpNet, u32), DocPath> = HashMap::new();
        for (route_index, route) in node.routes().iter().enumerate() {
            let path = DocPath::root().field("nodes").index(index).field("routes").index(route_index);
            check_route(route, &path, &netns, &devices, &mut seen, report);
        }
    }
}

/// The metric the kernel keeps for a route to `destination`: an IPv6 route added without
/// one (or with 0) has 1024, so `none`, `0` and `1024` name the same IPv6 route.
pub fn kernel_metric(destination: &IpNet, metric: Option<u32>) -> u32 {
    match (destination, metric) {
        (IpNet::V6(_), None | Some(0)) => crate::plan::DEFAULT_IPV6_METRIC,
        (_, metric) => metric.unwrap_or(0),
    }
}

/// The metric a lab writes for a route the kernel keeps with `metric`: none when it is the
/// one the kernel gives a route added without one.
pub fn lab_metric(destination: &IpNet, metric: u32) -> Option<u32> {
    (metric != kernel_metric(destination, None)).then_some(metric)
}

fn check_route(
    route: &Route,
    path: &DocPath,
    netns: &Netns,
    devices: &HashSet<&str>,
    seen: &mut HashMap<(IpNet, u32), DocPath>,
    report: &mut Report,
) {
    if route.via.is_none() && route.dev.is_none() {
        report.push(
            Rule::InvalidRoute,
            path.clone(),
            "a route needs a gateway (`via`) or an outgoing interface (`dev`), or both",
        );
    }
    if let Some(dev) = &route.dev {
        if !devices.contains(dev.as_str()) {
            report.push(
                Rule::UnknownRouteDevice,
                path.field("dev"),
                format!("there is no interface `{dev}` in {netns}"),
            );
        }
    }
    match parse_route(route) {
        Err((field, message)) => report.push(Rule::InvalidRoute, path.field(field), message),
        Ok(parsed) => {
            let key = (parsed.destination, kernel_metric(&parsed.destination, route.metric));
            match seen.get(&key) {
                Some(first) => report.push(
                    Rule::DuplicateRoute,
                    path.clone(),
                    format!(
                        "{first} is already a route to {} with the same metric; the kernel keeps only one",
                        parsed.destination
                    ),
                ),
                None => {
                    seen.insert(key, path.clone());
                }
            }
        }
    }
}
