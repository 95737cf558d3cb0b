//! Live mode: what the kernel holds (an [`Observed`]) in place of what the lab says, where
//! they differ: interfaces' states, carrier and addresses, namespaces' forwarding, loopback
//! and routes. Each difference is drift, named so the editor can say "the kernel
//! disagrees".

use serde::{Deserialize, Serialize};

use crate::observed::Observed;

use super::network::{Network, SpaceRoute};

/// One way the kernel differs from the lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The namespace (its node's name).
    pub namespace: String,
    /// The interface, when the difference is one of an interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The difference in words: "down in the kernel, up in the lab".
    pub message: String,
}

/// Puts what the kernel holds into the network; the differences found.
pub(crate) fn overlay(network: &mut Network, observed: &Observed) -> Vec<Drift> {
    let mut drift = Vec::new();
    for space in 0..network.spaces.len() {
        let namespace = network.spaces[space].node.clone();
        let say = |interface: Option<&str>, message: String| Drift {
            namespace: namespace.clone(),
            interface: interface.map(str::to_string),
            message,
        };
        let Some(kernel) = observed.namespace(&network.spaces[space].netns) else {
            drift.push(say(None, "the namespace is not in the kernel".to_string()));
            for index in network.spaces[space].interfaces.clone() {
                let interface = &mut network.interfaces[index];
                (interface.up, interface.carrier, interface.addresses) = (false, Some(false), Vec::new());
            }
            network.spaces[space].routes.clear();
            continue;
        };
        let here = &mut network.spaces[space];
        let settings = [
            ("the loopback `lo`", here.loopback_up, kernel.loopback_up, "up", "down"),
            ("IPv4 forwarding", here.forwarding[0], kernel.ipv4_forwarding, "on", "off"),
            ("IPv6 forwarding", here.forwarding[1], kernel.ipv6_forwarding, "on", "off"),
        ];
        for (what, lab, live, yes, no) in settings {
            if lab != live {
                let word = |on: bool| if on { yes } else { no };
                drift.push(say(None, format!("{what} is {} in the kernel, {} in the lab", word(live), word(lab))));
            }
        }
        (here.loopback_up, here.forwarding) = (kernel.loopback_up, [kernel.ipv4_forwarding, kernel.ipv6_forwarding]);
        let routes: Vec<SpaceRoute> = kernel
            .routes
            .iter()
            .map(|route| SpaceRoute {
                destination: route.destination,
                via: route.via,
                dev: route.dev.clone(),
                metric: route.metric,
                index: here.routes.iter().find(|lab| same_route(lab, route)).and_then(|lab| lab.index),
            })
            .collect();
        for lab in here.routes.iter().filter(|lab| !kernel.routes.iter().any(|route| same_route(lab, route))) {
            drift.push(say(None, format!("the route to {} is in the lab but not in the kernel", lab.destination)));
        }
        for route in routes.iter().filter(|route| route.index.is_none()) {
            drift.push(say(None, format!("the route to {} is in the kernel but not in the lab", route.destination)));
        }
        here.routes = routes;
        for index in here.interfaces.clone() {
            let interface = &mut network.interfaces[index];
            let name = interface.name.clone();
            let Some(link) = kernel.links.get(&name) else {
                drift.push(say(Some(&name), "the interface is not in the kernel".to_string()));
                (interface.up, interface.carrier, interface.addresses) = (false, Some(false), Vec::new());
                continue;
            };
            if link.up != interface.up {
                let word = |up: bool| if up { "up" } else { "down" };
                drift.push(say(
                    Some(&name),
                    format!("{} in the kernel, {} in the lab", word(link.up), word(interface.up)),
                ));
            }
            let mut lab_addresses = interface.addresses.clone();
            let mut live_addresses = link.addresses.clone();
            lab_addresses.sort();
            live_addresses.sort();
            if lab_addresses != live_addresses {
                let list = |nets: &[ipnet::IpNet]| {
                    if nets.is_empty() {
                        "none".to_string()
                    } else {
                        nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    }
                };
                drift.push(say(
                    Some(&name),
                    format!("addresses {} in the kernel, {} in the lab", list(&live_addresses), list(&lab_addresses)),
                ));
            }
            interface.up = link.up;
            interface.carrier = Some(link.oper_up);
            interface.addresses = link.addresses.clone();
            interface.netem = link.netem.clone();
        }
    }
    network.reindex();
    drift
}

fn same_route(lab: &SpaceRoute, kernel: &crate::observed::ObservedRoute) -> bool {
    lab.destination == kernel.destination
        && lab.via == kernel.via
        && lab.metric == kernel.metric
        && (lab.dev.is_none() || lab.dev == kernel.dev)
}
