//! Labs the tests build by size rather than by hand.

use nslab_model::{BridgeNode, Endpoint, Lab, Link, NamespaceNode, Node, VethLink};

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
