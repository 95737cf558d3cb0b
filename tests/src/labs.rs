//! Labs the tests build by size rather than by hand.

use std::net::Ipv4Addr;

use nslab_model::{BridgeNode, Endpoint, Lab, Link, NamespaceNode, Node, Route, VethLink};

/// `n` namespaces `n0`.. each with `eth0` in 10.0.0.0/16, joined to bridge `br0` in the
/// host (10.0.0.1) by `veth0`..: big enough that an apply is still under way when a test
/// interrupts it.
pub fn star(name: &str, n: usize) -> Lab {
    let mut lab = Lab::new(name);
    let mut bridge = BridgeNode::new("br0");
    bridge.addresses = vec!["10.0.0.1/16".to_string()];
    lab.nodes.push(Node::Bridge(bridge));
    for i in 0..n {
        lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("n{i}"))));
        let mut end = Endpoint::new(format!("n{i}"), "eth0");
        end.addresses = vec![format!("10.0.{}.{}/16", (i + 2) / 256, (i + 2) % 256)];
        lab.links.push(Link::Veth(VethLink { a: end, b: Endpoint::new("br0", format!("veth{i}")), editor: None }));
    }
    lab
}

/// The /30 of link `i` of a router chain (r`i` -- r`i+1`), 10.1.0.0/16's `i`th, and its
/// `host`th address (1 on r`i`, 2 on r`i+1`).
pub fn chain_address(link: usize, host: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + 4 * link as u32 + host)
}

/// `n` forwarding routers `r0`.. in a line, each joined to the next by a veth on a /30 of
/// its own (see [`chain_address`]); each has a default route to the right and a route to
/// every /30 on its left through its left neighbour, so every pair has a way, the
/// farthest `n - 1` hops long.
pub fn router_chain(name: &str, n: usize) -> Lab {
    let mut lab = Lab::new(name);
    let via = |to: String, gateway: Ipv4Addr| Route { to, via: Some(gateway.to_string()), dev: None, metric: None };
    for i in 0..n {
        let mut router = NamespaceNode::new(format!("r{i}"));
        router.ipv4_forwarding = true;
        if i + 1 < n {
            router.routes.push(via("default".to_string(), chain_address(i, 2)));
        }
        for link in 0..i.saturating_sub(1) {
            router.routes.push(via(format!("{}/30", chain_address(link, 0)), chain_address(i - 1, 1)));
        }
        lab.nodes.push(Node::Namespace(router));
    }
    for i in 0..n.saturating_sub(1) {
        let mut a = Endpoint::new(format!("r{i}"), format!("to-r{}", i + 1));
        a.addresses = vec![format!("{}/30", chain_address(i, 1))];
        let mut b = Endpoint::new(format!("r{}", i + 1), format!("to-r{i}"));
        b.addresses = vec![format!("{}/30", chain_address(i, 2))];
        lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
    }
    lab
}

/// A small deterministic generator (a 64-bit LCG), so that a test's "random" moments are
/// the same on every run and a failure can be replayed from its seed.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Seeded(seed)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
