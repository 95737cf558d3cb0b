//! Which interface of the lab a capture names: a node and one of its interfaces, as the
//! editor draws them. A namespace's interfaces are its veth ends; a bridge's are the
//! bridge itself and its ports (which live where the bridge lives); the host node's are
//! its veth ends. A bridge's capture is its ports' (a packet socket on the bridge device
//! does not see the unicast it forwards between ports), each packet tagged with its port.

use crate::identity::Netns;
use crate::lab::{Lab, Link};
use crate::topology::{Role, Topology};

/// Where to open the packet socket: the namespace and the interface's name in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturePlace {
    pub netns: Netns,
    pub interface: String,
    /// For a bridge: its ports in the lab, captured in its stead, each packet tagged with
    /// the port it was seen on. Empty for any other interface (and a bridge without ports,
    /// whose own device is captured).
    pub ports: Vec<String>,
}

/// The interfaces of `node` a capture may name, in the order the editor lists them.
pub fn interfaces_of(lab: &Lab, node: &str) -> Vec<(Netns, String)> {
    let topology = Topology::of(lab);
    topology
        .interfaces
        .iter()
        .filter(|interface| match interface.role {
            Role::Bridge { node: index } => lab.nodes[index].name() == node,
            Role::VethEnd { link, side, .. } => {
                let Link::Veth(veth) = &lab.links[link];
                veth.end(side).node == node
            }
        })
        .map(|interface| (interface.netns.clone(), interface.name.to_string()))
        .collect()
}

/// Resolves `node` and `iface` of the lab; the refusal names what there is.
pub fn capture_place(lab: &Lab, node: &str, iface: &str) -> Result<CapturePlace, String> {
    if !lab.nodes.iter().any(|candidate| candidate.name() == node) {
        let names: Vec<String> = lab.nodes.iter().map(|node| format!("`{}`", node.name())).collect();
        return Err(format!("lab `{}` has no node `{node}`; its nodes are {}", lab.name, list(&names)));
    }
    let interfaces = interfaces_of(lab, node);
    match interfaces.iter().find(|(_, name)| name == iface) {
        Some((netns, name)) => {
            let is_bridge =
                name == node && lab.nodes.iter().any(|candidate| candidate.name() == node && is_bridge(candidate));
            let ports = if is_bridge {
                interfaces.iter().filter(|(_, port)| port != name).map(|(_, port)| port.clone()).collect()
            } else {
                Vec::new()
            };
            Ok(CapturePlace { netns: netns.clone(), interface: name.clone(), ports })
        }
        None if interfaces.is_empty() => Err(format!("node `{node}` has no interface to capture on")),
        None => {
            let names: Vec<String> = interfaces.iter().map(|(_, name)| format!("`{name}`")).collect();
            Err(format!("node `{node}` has no interface `{iface}`; its interfaces are {}", list(&names)))
        }
    }
}

fn is_bridge(node: &crate::lab::Node) -> bool {
    matches!(node, crate::lab::Node::Bridge(_))
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_bridge() -> Lab {
        let text = include_str!("../../../examples/seed-bridge.json");
        crate::load_lab(text.as_bytes(), &crate::Limits::default()).unwrap()
    }

    #[test]
    fn namespaces_bridges_and_ports() {
        let lab = seed_bridge();
        let ns1 = capture_place(&lab, "ns1", "eth0").unwrap();
        assert_eq!(ns1, CapturePlace { netns: Netns::Named("ns1".into()), interface: "eth0".into(), ports: vec![] });
        let bridge = capture_place(&lab, "docker0", "docker0").unwrap();
        assert_eq!(bridge.netns, Netns::Host);
        assert_eq!(bridge.ports, ["veth0", "veth2", "veth4"], "a bridge is captured on its ports");
        let port = capture_place(&lab, "docker0", "veth2").unwrap();
        assert_eq!(port, CapturePlace { netns: Netns::Host, interface: "veth2".into(), ports: vec![] });
    }

    #[test]
    fn unknown_names_are_refused_with_the_names_there_are() {
        let lab = seed_bridge();
        assert_eq!(
            capture_place(&lab, "ns9", "eth0").unwrap_err(),
            "lab `seed-bridge` has no node `ns9`; its nodes are `docker0`, `ns0`, `ns1` and `ns2`"
        );
        assert_eq!(
            capture_place(&lab, "ns1", "eth9").unwrap_err(),
            "node `ns1` has no interface `eth9`; its interfaces are `eth0`"
        );
        assert_eq!(
            capture_place(&lab, "docker0", "eth0").unwrap_err(),
            "node `docker0` has no interface `eth0`; its interfaces are `docker0`, `veth0`, `veth2` and `veth4`"
        );
    }
}
