//! What a drawing of a lab says, whatever draws it (Graphviz, Mermaid, draw.io): each
//! node's name, kind, forwarding and routes, and each veth end's interface, addresses and
//! settings. The exporters only lay these lines out in their own syntax.

use crate::lab::{Endpoint, Node, Route};

/// The lines of a node's box: its name first.
pub fn node_lines(node: &Node) -> Vec<String> {
    let mut lines = vec![node.name().to_string()];
    match node {
        Node::Host(host) => {
            lines.push("host".to_string());
            lines.extend(host_forwarding(host.ipv4_forwarding, host.ipv6_forwarding));
        }
        Node::Namespace(namespace) => {
            lines.push("namespace".to_string());
            lines.extend(forwarding(namespace.ipv4_forwarding, namespace.ipv6_forwarding));
            if !namespace.loopback_up {
                lines.push("lo down".to_string());
            }
        }
        Node::Bridge(bridge) => {
            let place = bridge.namespace.as_deref().map_or(String::new(), |namespace| format!(" in {namespace}"));
            lines.push(format!("bridge{place}"));
            lines.extend(bridge.addresses.iter().cloned());
            lines.extend(bridge.mtu.map(|mtu| format!("mtu {mtu}")));
            lines.extend(bridge.mac.clone());
            if !bridge.up {
                lines.push("down".to_string());
            }
        }
    }
    lines.extend(node.routes().iter().map(route_line));
    lines
}

fn forwarding(v4: bool, v6: bool) -> Option<String> {
    match (v4, v6) {
        (true, true) => Some("forwarding IPv4, IPv6".to_string()),
        (true, false) => Some("forwarding IPv4".to_string()),
        (false, true) => Some("forwarding IPv6".to_string()),
        (false, false) => None,
    }
}

/// The host's forwarding only where the lab sets it.
fn host_forwarding(v4: Option<bool>, v6: Option<bool>) -> Vec<String> {
    let word = |on: bool| if on { "on" } else { "off" };
    let mut lines = Vec::new();
    lines.extend(v4.map(|on| format!("IPv4 forwarding {}", word(on))));
    lines.extend(v6.map(|on| format!("IPv6 forwarding {}", word(on))));
    lines
}

/// A route as `ip route` writes it: `default via 10.0.1.1`, `10.0.2.0/24 dev eth1`.
pub fn route_line(route: &Route) -> String {
    let mut line = route.to.clone();
    if let Some(via) = &route.via {
        line.push_str(&format!(" via {via}"));
    }
    if let Some(dev) = &route.dev {
        line.push_str(&format!(" dev {dev}"));
    }
    if let Some(metric) = route.metric {
        line.push_str(&format!(" metric {metric}"));
    }
    line
}

/// The lines of a veth end's label: its interface name first.
pub fn end_lines(end: &Endpoint) -> Vec<String> {
    let mut lines = vec![end.name.clone()];
    lines.extend(end.addresses.iter().cloned());
    lines.extend(end.mtu.map(|mtu| format!("mtu {mtu}")));
    lines.extend(end.mac.clone());
    if !end.up {
        lines.push("down".to_string());
    }
    if let Some(netem) = &end.netem {
        let badge = netem.parse().map(|impairment| impairment.badge()).unwrap_or_default();
        if !badge.is_empty() {
            lines.push(badge);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{BridgeNode, NamespaceNode};

    #[test]
    fn a_router_says_its_forwarding_and_routes_and_a_bridge_its_address() {
        let mut router = NamespaceNode::new("r");
        router.ipv4_forwarding = true;
        router.routes.push(Route { to: "default".into(), via: Some("10.0.0.1".into()), dev: None, metric: Some(5) });
        assert_eq!(
            node_lines(&Node::Namespace(router)),
            ["r", "namespace", "forwarding IPv4", "default via 10.0.0.1 metric 5"]
        );
        let mut bridge = BridgeNode::new("br0");
        bridge.addresses.push("10.0.0.1/24".into());
        bridge.namespace = Some("r".into());
        assert_eq!(node_lines(&Node::Bridge(bridge)), ["br0", "bridge in r", "10.0.0.1/24"]);
        let mut end = Endpoint::new("r", "eth0");
        end.up = false;
        end.netem = Some(crate::netem::Netem { delay: Some("50ms".into()), ..Default::default() });
        assert_eq!(end_lines(&end), ["eth0", "down", "50ms"]);
    }
}
