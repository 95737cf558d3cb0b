//! The settings of one interface and the routes of one namespace, desired against
//! observed: only what differs becomes an op.

use std::net::IpAddr;

use ipnet::IpNet;

use super::impairment::netem_op;
use crate::address::{parse_interface_address, Family};
use crate::identity::{LinkRef, Netns};
use crate::lab::{Lab, Route};
use crate::observed::{ObservedLink, ObservedRoute};
use crate::ops::Op;
use crate::topology::{Interface, Role};
use crate::validate::parse_route;

/// The MTU a new veth gets; a lab that names none wants this one.
pub const DEFAULT_MTU: u32 = 1500;
/// The metric the kernel gives an IPv6 route added without one (IPv4: 0).
pub const DEFAULT_IPV6_METRIC: u32 = 1024;

/// Interface settings to change, split by when they must run.
#[derive(Default)]
pub(super) struct SettingsDiff {
    /// Address removals, run before anything is created.
    pub removals: Vec<Op>,
    /// Master, MTU, MAC, new addresses and admin state, in that order.
    pub changes: Vec<Op>,
    /// True when an address of the interface goes away (routes through it may go too).
    pub drops_addresses: bool,
}

/// What must change for the interface `observed` to be `desired`. Removals run before
/// any rename and name it as it is (`before`); changes run after and use `link`.
/// `force_up` re-raises an interface the plan takes down for a rename.
pub(super) fn settings_diff(
    lab: &Lab,
    desired: &Interface,
    (before, link): (&LinkRef, &LinkRef),
    observed: &ObservedLink,
    force_up: bool,
) -> SettingsDiff {
    let mut diff = SettingsDiff::default();
    let wanted_master = match desired.role {
        Role::VethEnd { bridge: Some(bridge), .. } => Some(lab.nodes[bridge].name()),
        _ => None,
    };
    match (wanted_master, observed.master.as_deref()) {
        (Some(want), have) if have != Some(want) => {
            diff.changes.push(Op::SetMaster { link: link.clone(), master: want.to_string() })
        }
        (None, Some(_)) => diff.changes.push(Op::SetNoMaster { link: link.clone() }),
        _ => {}
    }
    let wanted_mtu = match desired.role {
        // A bridge without its own MTU follows its ports: leave it to the kernel.
        Role::Bridge { .. } => desired.mtu,
        Role::VethEnd { .. } => Some(desired.mtu.unwrap_or(DEFAULT_MTU)),
    };
    if let Some(mtu) = wanted_mtu.filter(|mtu| *mtu != observed.mtu) {
        diff.changes.push(Op::SetMtu { link: link.clone(), mtu });
    }
    if let Some(mac) = desired.mac.filter(|mac| !mac.eq_ignore_ascii_case(&observed.mac)) {
        diff.changes.push(Op::SetMac { link: link.clone(), mac: mac.to_string() });
    }
    let wanted: Vec<(IpNet, &String)> =
        desired.addresses.iter().filter_map(|text| Some((parse_interface_address(text).ok()?, text))).collect();
    for have in &observed.addresses {
        if !wanted.iter().any(|(want, _)| want == have) {
            diff.removals.push(Op::DeleteAddress { link: before.clone(), address: have.to_string() });
            diff.drops_addresses = true;
        }
    }
    for (want, text) in &wanted {
        if !observed.addresses.contains(want) {
            diff.changes.push(Op::AddAddress { link: link.clone(), address: (*text).clone() });
        }
    }
    if desired.up != observed.up || (force_up && desired.up) {
        diff.changes.push(Op::SetUp { link: link.clone(), up: desired.up });
    }
    // Only a veth end can carry an impairment; a bridge's qdiscs are left alone, as a
    // lab cannot say them.
    if let Role::VethEnd { .. } = desired.role {
        diff.changes.extend(netem_op(link, desired.netem.as_ref(), observed.netem.as_ref()));
    }
    diff
}

/// A route of the lab as the kernel will show it.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedRoute {
    pub family: Family,
    pub destination: IpNet,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: u32,
    pub route: Route,
}

impl WantedRoute {
    pub fn of(route: &Route) -> Option<WantedRoute> {
        let parsed = parse_route(route).ok()?;
        let family = Family::of(&parsed.destination.addr());
        let metric = crate::validate::kernel_metric(&parsed.destination, route.metric);
        Some(WantedRoute {
            family,
            destination: parsed.destination,
            via: parsed.via,
            dev: route.dev.clone(),
            metric,
            route: route.clone(),
        })
    }

    /// The kernel fills in the device of a route given only a gateway; the lab did not ask.
    pub fn is(&self, observed: &ObservedRoute) -> bool {
        self.destination == observed.destination
            && self.via == observed.via
            && self.metric == observed.metric
            && (self.dev.is_none() || self.dev == observed.dev)
    }

    pub fn add_op(&self, netns: &Netns) -> Op {
        Op::AddRoute { netns: netns.clone(), family: self.family, route: self.route.clone() }
    }
}

/// The op that removes an observed route, written as a lab route.
pub(super) fn delete_route_op(netns: &Netns, observed: &ObservedRoute) -> Op {
    let family = Family::of(&observed.destination.addr());
    let to =
        if observed.destination.prefix_len() == 0 { "default".to_string() } else { observed.destination.to_string() };
    let route = Route {
        to,
        via: observed.via.map(|via| via.to_string()),
        dev: observed.dev.clone(),
        metric: crate::validate::lab_metric(&observed.destination, observed.metric),
    };
    Op::DeleteRoute { netns: netns.clone(), family, route }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(to: &str, metric: Option<u32>) -> u32 {
        let route = Route { to: to.to_string(), via: None, dev: Some("eth0".to_string()), metric };
        WantedRoute::of(&route).expect("a route that parses").metric
    }

    #[test]
    fn the_metric_wanted_is_the_one_the_kernel_keeps() {
        // The kernel gives an IPv6 route without a metric, or with 0, the user default.
        assert_eq!(wanted("fd00:9::/64", None), DEFAULT_IPV6_METRIC);
        assert_eq!(wanted("fd00:9::/64", Some(0)), DEFAULT_IPV6_METRIC);
        assert_eq!(wanted("fd00:9::/64", Some(5)), 5);
        assert_eq!(wanted("10.9.0.0/16", None), 0);
        assert_eq!(wanted("10.9.0.0/16", Some(5)), 5);
    }

    #[test]
    fn a_kernel_metric_is_written_only_when_it_is_not_the_default() {
        let net = |text: &str| text.parse::<ipnet::IpNet>().unwrap();
        assert_eq!(crate::validate::lab_metric(&net("fd00:9::/64"), DEFAULT_IPV6_METRIC), None);
        assert_eq!(crate::validate::lab_metric(&net("fd00:9::/64"), 5), Some(5));
        assert_eq!(crate::validate::lab_metric(&net("10.9.0.0/16"), 0), None);
        // 1024 is only IPv6's default: an IPv4 route keeps it (a fix once dropped it).
        assert_eq!(crate::validate::lab_metric(&net("10.9.0.0/16"), DEFAULT_IPV6_METRIC), Some(1024));
    }
}
