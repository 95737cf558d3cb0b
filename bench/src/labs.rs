//! Big labs the benchmarks build (`scripts/bench`'s engine and live parts).

use std::net::Ipv4Addr;

use nslab_model::{BridgeNode, Endpoint, Lab, Link, NamespaceNode, Node, VethLink};

/// The `host`th address of the subnet `base`/`prefix`, with its prefix length.
pub fn subnet_address(base: Ipv4Addr, prefix: u8, host: usize) -> String {
    format!("{}/{prefix}", Ipv4Addr::from(u32::from(base) + host as u32))
}

/// `n` namespaces n0..n(n-1), each with eth0 on a veth (`veth{i}`) to bridge br0 in the
/// host; the bridge has the subnet's first address, namespace `i` the `i+2`th.
pub fn star(name: impl Into<String>, n: usize, base: Ipv4Addr, prefix: u8) -> Lab {
    let mut lab = Lab::new(name);
    let mut bridge = BridgeNode::new("br0");
    bridge.addresses = vec![subnet_address(base, prefix, 1)];
    lab.nodes.push(Node::Bridge(bridge));
    for i in 0..n {
        lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("n{i}"))));
        let mut end = Endpoint::new(format!("n{i}"), "eth0");
        end.addresses = vec![subnet_address(base, prefix, i + 2)];
        lab.links.push(Link::Veth(VethLink { a: Endpoint::new("br0", format!("veth{i}")), b: end, editor: None }));
    }
    lab
}

/// Link `i` of a chain (n`i` -- n`i+1`) has 10.1.0.0/16's `i`th /30.
fn chain_address(link: usize, host: u32) -> String {
    format!("{}/30", Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + 4 * link as u32 + host))
}

/// `n` namespaces n0..n(n-1) in a line, each joined to the next by a veth (`to-n1` in n0,
/// `to-n0` in n1, ...) on a /30 of its own.
pub fn chain(name: impl Into<String>, n: usize) -> Lab {
    let mut lab = Lab::new(name);
    for i in 0..n {
        lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("n{i}"))));
    }
    for i in 0..n.saturating_sub(1) {
        let mut a = Endpoint::new(format!("n{i}"), format!("to-n{}", i + 1));
        a.addresses = vec![chain_address(i, 1)];
        let mut b = Endpoint::new(format!("n{}", i + 1), format!("to-n{i}"));
        b.addresses = vec![chain_address(i, 2)];
        lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
    }
    lab
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_is_valid_and_puts_each_namespace_on_the_bridge() {
        let lab = star("s", 300, Ipv4Addr::new(10, 0, 0, 0), 16);
        let errors: Vec<_> = nslab_model::validate(&lab).into_iter().filter(|p| p.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((lab.nodes.len(), lab.links.len()), (301, 300));
        let Link::Veth(last) = &lab.links[299];
        assert_eq!((last.a.node.as_str(), last.a.name.as_str()), ("br0", "veth299"));
        assert_eq!(last.b.addresses, vec!["10.0.1.45/16".to_string()]);
    }

    #[test]
    fn a_chain_is_valid_and_joins_each_namespace_to_the_next() {
        let lab = chain("c", 300);
        let errors: Vec<_> = nslab_model::validate(&lab).into_iter().filter(|p| p.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(lab.links.len(), 299);
        let Link::Veth(last) = &lab.links[298];
        assert_eq!((last.a.node.as_str(), last.b.node.as_str()), ("n298", "n299"));
        assert_eq!(last.b.addresses, vec!["10.1.4.170/30".to_string()]);
    }
}
