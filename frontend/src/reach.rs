//! Paths through the drawn lab, for highlighting a matrix cell: from a namespace to the node
//! that holds an address, over the links of the picture (breadth first: the fewest hops).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use nslab_model::address::parse_interface_address;
use nslab_model::topology::{Interface, Role, Side, Topology};
use nslab_model::Lab;

/// The node an interface is drawn on: the end's node for a veth end, the bridge itself.
pub fn node_of(lab: &Lab, interface: &Interface) -> String {
    match interface.role {
        Role::Bridge { node } => lab.nodes[node].name().to_string(),
        Role::VethEnd { link, side, .. } => {
            let [a, b] = lab.links[link].ends();
            if side == Side::A {
                a.node.clone()
            } else {
                b.node.clone()
            }
        }
    }
}

/// The nodes from `from` to the node holding `target`, both included; empty if none.
pub fn path_to_address(lab: &Lab, from: &str, target: IpAddr) -> Vec<String> {
    let topology = Topology::of(lab);
    let Some(goal) = topology
        .interfaces
        .iter()
        .find(|i| i.addresses.iter().any(|a| parse_interface_address(a).is_ok_and(|net| net.addr() == target)))
        .map(|i| node_of(lab, i))
    else {
        return Vec::new();
    };
    let mut next: HashMap<&str, Vec<&str>> = HashMap::new();
    for link in &lab.links {
        let [a, b] = link.ends();
        next.entry(&a.node).or_default().push(&b.node);
        next.entry(&b.node).or_default().push(&a.node);
    }
    let mut came_from: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    came_from.insert(from, from);
    while let Some(node) = queue.pop_front() {
        if node == goal {
            let mut path = vec![node.to_string()];
            let mut at = node;
            while at != from {
                at = came_from[at];
                path.push(at.to_string());
            }
            path.reverse();
            return path;
        }
        for &neighbour in next.get(node).into_iter().flatten() {
            if !came_from.contains_key(neighbour) {
                came_from.insert(neighbour, node);
                queue.push_back(neighbour);
            }
        }
    }
    Vec::new()
}

/// Whether a link between nodes `a` and `b` is a step of `path` (they follow each other).
pub fn joins_steps(path: &[String], a: &str, b: &str) -> bool {
    path.windows(2).any(|step| (step[0] == a && step[1] == b) || (step[0] == b && step[1] == a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_through_the_router() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/router.json")).unwrap();
        assert_eq!(path_to_address(&lab, "left", "10.0.2.2".parse().unwrap()), ["left", "router", "right"]);
        assert_eq!(path_to_address(&lab, "left", "10.0.1.2".parse().unwrap()), ["left"]);
        assert!(path_to_address(&lab, "left", "10.9.9.9".parse().unwrap()).is_empty());
        let bridge = nslab_model::load::load_lab_str(include_str!("../../examples/seed-bridge.json")).unwrap();
        assert_eq!(path_to_address(&bridge, "ns0", "172.17.0.103".parse().unwrap()), ["ns0", "docker0", "ns2"]);
    }

    #[test]
    fn a_link_is_on_the_path_when_its_nodes_follow_each_other() {
        let path: Vec<String> = ["ns0", "docker0", "ns2"].map(String::from).into();
        assert!(joins_steps(&path, "docker0", "ns0"));
        assert!(joins_steps(&path, "docker0", "ns2"));
        assert!(!joins_steps(&path, "ns0", "ns2"));
        assert!(!joins_steps(&path, "docker0", "ns1"));
        assert!(!joins_steps(&[], "a", "b"));
    }
}
