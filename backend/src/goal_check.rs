//! Checking a lab's goals against the live kernel: real pings from inside the namespaces
//! for reach goals, the kernel's own reading for routes, forwarding and addresses.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use nslab_model::goals::{
    address_goal_subnet, goal_targets, route_goal_destination, AddressGoal, Checklist, ForwardingGoal, Goal,
    GoalFamily, GoalResult, ReachGoal, RouteGoal,
};
use nslab_model::identity::Netns;
use nslab_model::observed::{Observed, ObservedNamespace};
use nslab_model::ping::source_of;
use nslab_model::topology::Topology;
use nslab_model::Lab;

use crate::kernel::ping::Pinger;

/// A reach goal's target gets this many probes, each waiting this long, before it counts
/// as not answering: one lost first probe (ARP still resolving) must not fail a goal.
const PROBES: u32 = 3;
const PROBE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Every goal of `lab`, checked at once against `observed` (just read) and by pinging.
pub async fn check_goals(lab: &Lab, observed: &Observed, pinger: &Pinger) -> Checklist {
    let checks = lab.goals.iter().enumerate().map(|(index, goal)| async move {
        let (met, detail) = check_goal(lab, observed, pinger, goal).await;
        GoalResult { index, goal: goal.describe(), met, detail, hint: goal.hint().map(str::to_string) }
    });
    Checklist::new(futures::future::join_all(checks).await)
}

async fn check_goal(lab: &Lab, observed: &Observed, pinger: &Pinger, goal: &Goal) -> (bool, String) {
    match goal {
        Goal::Reach(reach) => check_reach(lab, observed, pinger, reach, true).await,
        Goal::NoReach(reach) => check_reach(lab, observed, pinger, reach, false).await,
        Goal::Route(route) => check_route(lab, observed, route),
        Goal::Forwarding(forwarding) => check_forwarding(lab, observed, forwarding),
        Goal::Address(address) => check_address(lab, observed, address),
    }
}

/// The namespace a goal's node names, as the kernel holds it.
fn namespace<'o>(lab: &Lab, observed: &'o Observed, node: &str) -> Result<(Netns, &'o ObservedNamespace), String> {
    let netns = source_of(lab, node)?;
    match observed.namespace(&netns) {
        Some(namespace) => Ok((netns, namespace)),
        None => Err(format!("the kernel has no namespace `{node}`: apply the lab first")),
    }
}

/// Reach: every target answers; no-reach: none does.
async fn check_reach(
    lab: &Lab,
    observed: &Observed,
    pinger: &Pinger,
    goal: &ReachGoal,
    wanted: bool,
) -> (bool, String) {
    let netns = match namespace(lab, observed, &goal.from) {
        Ok((netns, _)) => netns,
        Err(why) => return (false, why),
    };
    let targets = match goal_targets(lab, &goal.to) {
        Ok(targets) => targets,
        Err(why) => return (false, why),
    };
    let answers = futures::future::join_all(targets.iter().map(|target| answer(pinger, &netns, *target))).await;
    let answered: Vec<String> =
        targets.iter().zip(&answers).filter(|(_, a)| a.is_some()).map(|(t, _)| t.to_string()).collect();
    let silent: Vec<String> =
        targets.iter().zip(&answers).filter(|(_, a)| a.is_none()).map(|(t, _)| t.to_string()).collect();
    let from = &goal.from;
    match (wanted, silent.is_empty(), answered.is_empty()) {
        (true, true, _) => (true, format!("{} answered a ping from {from}", answered.join(", "))),
        (true, false, _) => (false, format!("{} did not answer a ping from {from}", silent.join(", "))),
        (false, _, true) => (true, format!("{} did not answer a ping from {from}", silent.join(", "))),
        (false, _, false) => (false, format!("{} answered a ping from {from}", answered.join(", "))),
    }
}

/// The round-trip time of the first of `PROBES` probes answered, if any.
async fn answer(pinger: &Pinger, from: &Netns, to: IpAddr) -> Option<Duration> {
    for _ in 0..PROBES {
        match pinger.ping_once(from, to, PROBE_TIMEOUT).await {
            Ok(Some(rtt)) => return Some(rtt),
            Ok(None) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// A configured route to the destination (through the gateway, when the goal names one),
/// or for a subnet without a gateway, an address of an up interface in it.
fn check_route(lab: &Lab, observed: &Observed, goal: &RouteGoal) -> (bool, String) {
    let (_, namespace) = match namespace(lab, observed, &goal.node) {
        Ok(found) => found,
        Err(why) => return (false, why),
    };
    let Ok(destination) = route_goal_destination(&goal.to) else {
        return (false, format!("`{}` is not a destination", goal.to));
    };
    let via: Option<IpAddr> = goal.via.as_deref().and_then(|via| via.parse().ok());
    let routed =
        namespace.routes.iter().find(|route| route.destination == destination && (via.is_none() || route.via == via));
    if let Some(route) = routed {
        let gateway = route.via.map(|via| format!(" via {via}")).unwrap_or_default();
        let dev = route.dev.as_deref().map(|dev| format!(" dev {dev}")).unwrap_or_default();
        return (true, format!("{} has a {}{gateway}{dev}", goal.node, route_words(destination)));
    }
    let connected = namespace
        .links
        .iter()
        .find(|(_, link)| link.up && link.addresses.iter().any(|address| address.trunc() == destination));
    if let (None, Some((name, _))) = (via, connected) {
        return (true, format!("{} is connected to {destination} on {name}", goal.node));
    }
    let through = via.map(|via| format!(" via {via}")).unwrap_or_default();
    (false, format!("{} has no {}{through}{}", goal.node, route_words(destination), routes_held(namespace)))
}

/// "default route" or "route to 10.0.2.0/24", for "has a ..." and "has no ...".
fn route_words(destination: IpNet) -> String {
    match (destination.prefix_len(), destination) {
        (0, IpNet::V4(_)) => "default route".to_string(),
        (0, IpNet::V6(_)) => "IPv6 default route".to_string(),
        _ => format!("route to {destination}"),
    }
}

/// How `ip route` names a destination: `default` or the prefix.
fn shown(destination: IpNet) -> String {
    if destination.prefix_len() == 0 {
        "default".to_string()
    } else {
        destination.to_string()
    }
}

/// "; it has: default via 10.0.1.1, 10.9.0.0/16 dev eth0", or nothing when it has none.
fn routes_held(namespace: &ObservedNamespace) -> String {
    let held: Vec<String> = namespace
        .routes
        .iter()
        .map(|route| {
            let gateway = route.via.map(|via| format!(" via {via}")).unwrap_or_default();
            format!("{}{gateway}", shown(route.destination))
        })
        .collect();
    if held.is_empty() {
        " (it has no routes but its connected subnets)".to_string()
    } else {
        format!(" (it has: {})", held.join(", "))
    }
}

fn check_forwarding(lab: &Lab, observed: &Observed, goal: &ForwardingGoal) -> (bool, String) {
    let (_, namespace) = match namespace(lab, observed, &goal.node) {
        Ok(found) => found,
        Err(why) => return (false, why),
    };
    let on = match goal.family {
        GoalFamily::Ipv4 => namespace.ipv4_forwarding,
        GoalFamily::Ipv6 => namespace.ipv6_forwarding,
    };
    let word = goal.family.word();
    if on {
        (true, format!("{} forwards {word}", goal.node))
    } else {
        (false, format!("{word} forwarding is off in {}", goal.node))
    }
}

fn check_address(lab: &Lab, observed: &Observed, goal: &AddressGoal) -> (bool, String) {
    let topology = Topology::of(lab);
    let Some(netns) = topology.netns_of_node(&goal.node) else {
        return (false, format!("the lab has no node `{}`", goal.node));
    };
    let Some(namespace) = observed.namespace(netns) else {
        return (false, format!("the kernel has no {netns}: apply the lab first"));
    };
    let Ok(subnet) = address_goal_subnet(&goal.subnet) else {
        return (false, format!("`{}` is not a subnet", goal.subnet));
    };
    let name = &goal.interface;
    let Some(link) = namespace.links.get(name) else {
        return (false, format!("{netns} has no interface `{name}`"));
    };
    let inside: Vec<&IpNet> = link.addresses.iter().filter(|address| address.trunc() == subnet).collect();
    let held: Vec<String> = link.addresses.iter().map(IpNet::to_string).collect();
    match (link.up, inside.first()) {
        (true, Some(address)) => (true, format!("{name} is up with {address}")),
        (false, Some(address)) => (false, format!("{name} has {address} but is down")),
        (_, None) if held.is_empty() => (false, format!("{name} has no address")),
        (_, None) => (false, format!("{name} has {}, none in {subnet}", held.join(", "))),
    }
}
