//! How many neighbour (ARP and NDP) entries a reachability matrix makes, and its sources in
//! waves that each stay under the kernel's limit.
//!
//! The kernel keeps one neighbour table per address family for all namespaces together,
//! capped by the host's `gc_thresh3` (1024 unless changed on the host, where only it can be
//! changed). A packet whose entry cannot be made is dropped (`neighbor table overflow`), so
//! a matrix needing more entries at once shows pairs as unreachable that are not: 60
//! namespaces on one bridge answered 1084 of 3600 pairs. Entries are only made between
//! addresses of one segment: a sender learns its next hop, and the next hop learns the
//! sender from its ARP request or neighbour solicitation. On a segment with k addresses of
//! a family, of which a send (they belong to the wave's sources, or to a namespace that
//! forwards that family and so may relay anyone's probe), at most a(2k - a - 1) entries are
//! made: each sender's for the k - 1 others, each other's for the senders.

use std::collections::HashMap;

use crate::address::{is_link_local, parse_interface_address, Family};
use crate::identity::Netns;
use crate::lab::{Lab, Node};
use crate::topology::Topology;

/// The neighbour entries the kernel keeps, per family, for all namespaces together when
/// nobody changed `gc_thresh3` on the host.
pub const DEFAULT_LIMIT: u64 = 1024;

/// The host's limit on neighbour entries: a matrix makes entries of both families, so the
/// family that keeps fewer bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourLimit {
    pub entries: u64,
    /// The setting that says so, e.g. `net.ipv6.neigh.default.gc_thresh3`.
    pub setting: &'static str,
}

pub const IPV4_SETTING: &str = "net.ipv4.neigh.default.gc_thresh3";
pub const IPV6_SETTING: &str = "net.ipv6.neigh.default.gc_thresh3";

impl NeighbourLimit {
    /// The smaller of the host's two `gc_thresh3` (those that could be read).
    pub fn smaller_of(ipv4: Option<u64>, ipv6: Option<u64>) -> Option<NeighbourLimit> {
        let ipv4 = ipv4.map(|entries| NeighbourLimit { entries, setting: IPV4_SETTING });
        let ipv6 = ipv6.map(|entries| NeighbourLimit { entries, setting: IPV6_SETTING });
        ipv4.into_iter().chain(ipv6).min_by_key(|limit| limit.entries)
    }
}

/// The entries a matrix's wave may make when the kernel keeps `limit`: three quarters,
/// leaving room for everything else on the machine that needs entries meanwhile.
pub fn wave_budget(limit: Option<NeighbourLimit>) -> u64 {
    limit.map_or(DEFAULT_LIMIT, |limit| limit.entries) * 3 / 4
}

/// A warning when a wave may make more entries (`most`, see `Waves`) than the kernel keeps:
/// pairs beyond that show as unreachable although they are not. `limit` is the host's
/// when it could be read (not from inside a network namespace).
pub fn warning(most: u64, limit: Option<NeighbourLimit>) -> Option<String> {
    let (limit, source) = match limit {
        Some(limit) => (limit.entries, format!("the host's {}", limit.setting)),
        None => (DEFAULT_LIMIT, "gc_thresh3, the kernel's default".to_string()),
    };
    (most > limit).then(|| {
        format!(
            "Part of this matrix needs up to {most} neighbour (ARP/NDP) entries at once, and the kernel keeps at \
             most {limit} for all namespaces together ({source}): pairs beyond that show as unreachable although \
             they may not be. Raise gc_thresh3 (and gc_thresh2) on the host, or ping between fewer addresses."
        )
    })
}

/// Sources of a matrix grouped into waves (see the module's doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waves {
    pub waves: Vec<Vec<Netns>>,
    /// The most entries of one family that one wave may make.
    pub most: u64,
}

/// Splits `sources` (in their order) into waves whose probes to every address of the lab
/// make at most `budget` entries of each family; one wave when the whole matrix fits. A
/// source that alone needs more gets a wave of its own (and `most` says so).
pub fn matrix_waves(lab: &Lab, sources: &[Netns], budget: u64) -> Waves {
    let segments = Segments::of(lab);
    let mut waves = Vec::new();
    let mut most = 0;
    let mut wave = Wave::new(&segments);
    for source in sources {
        if !wave.sources.is_empty() && wave.need_with(&segments, source) > budget {
            most = most.max(wave.need());
            waves.push(std::mem::take(&mut wave.sources));
            wave = Wave::new(&segments);
        }
        wave.add(&segments, source);
    }
    if !wave.sources.is_empty() {
        most = most.max(wave.need());
        waves.push(wave.sources);
    }
    Waves { waves, most }
}

/// Entries made on a segment of `members` addresses of which `senders` send.
fn segment_need(members: u64, senders: u64) -> u64 {
    let senders = senders.min(members);
    senders * (2 * members - senders).saturating_sub(1)
}

const FAMILIES: usize = 2;

fn family_index(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// The lab's segments as counts of addresses, per family.
struct Segments {
    /// Addresses on each segment.
    members: Vec<[u64; FAMILIES]>,
    /// Of them, those in namespaces that forward the family: senders in every wave.
    forwarding: Vec<[u64; FAMILIES]>,
    /// Per namespace, its other addresses: (segment, family, how many).
    own: HashMap<Netns, Vec<(usize, usize, u64)>>,
}

impl Segments {
    fn of(lab: &Lab) -> Self {
        let topology = Topology::of(lab);
        let relays = relays(lab, &topology);
        let mut segments = Segments {
            members: vec![[0; FAMILIES]; topology.segments.len()],
            forwarding: vec![[0; FAMILIES]; topology.segments.len()],
            own: HashMap::new(),
        };
        for (segment, members) in topology.segments.iter().enumerate() {
            for &index in &members.interfaces {
                let interface = &topology.interfaces[index];
                for address in interface.addresses.iter().filter_map(|text| parse_interface_address(text).ok()) {
                    if is_link_local(&address.addr()) {
                        continue;
                    }
                    let family = Family::of(&address.addr());
                    let at = family_index(family);
                    segments.members[segment][at] += 1;
                    let host = interface.netns == Netns::Host;
                    if relays.get(&interface.netns).map_or(host, |relaying| relaying[at]) {
                        segments.forwarding[segment][at] += 1;
                    } else {
                        segments.add_own(&interface.netns, segment, at);
                    }
                }
            }
        }
        segments
    }

    fn add_own(&mut self, netns: &Netns, segment: usize, family: usize) {
        let own = self.own.entry(netns.clone()).or_default();
        match own.iter_mut().find(|(s, f, _)| *s == segment && *f == family) {
            Some((_, _, count)) => *count += 1,
            None => own.push((segment, family, 1)),
        }
    }
}

/// Per namespace of the lab, whether it may relay probes of each family: a namespace that
/// forwards it, or the host unless the lab says it does not (without a word, the lab leaves
/// the host's setting, which may forward).
fn relays(lab: &Lab, topology: &Topology) -> HashMap<Netns, [bool; FAMILIES]> {
    let mut relays = HashMap::new();
    for node in &lab.nodes {
        let flags = match node {
            Node::Namespace(namespace) => [namespace.ipv4_forwarding, namespace.ipv6_forwarding],
            Node::Host(host) => [host.ipv4_forwarding.unwrap_or(true), host.ipv6_forwarding.unwrap_or(true)],
            Node::Bridge(_) => continue,
        };
        if let Some(netns) = topology.netns_of_node(node.name()) {
            relays.insert(netns.clone(), flags);
        }
    }
    relays
}

/// A wave being filled: its senders per segment and the entries they make.
struct Wave {
    sources: Vec<Netns>,
    senders: Vec<[u64; FAMILIES]>,
    entries: [u64; FAMILIES],
}

impl Wave {
    fn new(segments: &Segments) -> Self {
        let senders = segments.forwarding.clone();
        let mut entries = [0; FAMILIES];
        for (members, senders) in segments.members.iter().zip(&senders) {
            for family in 0..FAMILIES {
                entries[family] += segment_need(members[family], senders[family]);
            }
        }
        Wave { sources: Vec::new(), senders, entries }
    }

    fn add(&mut self, segments: &Segments, source: &Netns) {
        self.entries = self.entries_with(segments, source);
        for &(segment, family, count) in segments.own.get(source).into_iter().flatten() {
            self.senders[segment][family] += count;
        }
        self.sources.push(source.clone());
    }

    /// What the wave would need with `source` in it.
    fn need_with(&self, segments: &Segments, source: &Netns) -> u64 {
        self.entries_with(segments, source).into_iter().max().unwrap_or(0)
    }

    /// The wave's entries per family with `source` in it. (A source's own addresses name
    /// each segment and family once, see `Segments::add_own`.)
    fn entries_with(&self, segments: &Segments, source: &Netns) -> [u64; FAMILIES] {
        let mut entries = self.entries;
        for &(segment, family, count) in segments.own.get(source).into_iter().flatten() {
            entries[family] += self.added(segments, segment, family, count);
        }
        entries
    }

    /// The entries `count` more senders make on `segment`.
    fn added(&self, segments: &Segments, segment: usize, family: usize, count: u64) -> u64 {
        let (members, before) = (segments.members[segment][family], self.senders[segment][family]);
        segment_need(members, before + count) - segment_need(members, before)
    }

    fn need(&self) -> u64 {
        self.entries.into_iter().max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{BridgeNode, Endpoint, Link, NamespaceNode, VethLink};

    fn namespace(name: &str) -> Node {
        Node::Namespace(NamespaceNode::new(name))
    }

    fn end(node: &str, name: &str, addresses: &[&str]) -> Endpoint {
        let mut end = Endpoint::new(node, name);
        end.addresses = addresses.iter().map(|a| a.to_string()).collect();
        end
    }

    /// `n` namespaces, each with `eth0` (10.0.0.x/16) on a veth to bridge `br0`.
    fn star(n: usize) -> Lab {
        let mut lab = Lab::new("star");
        lab.nodes.push(Node::Bridge(BridgeNode::new("br0")));
        for i in 0..n {
            lab.nodes.push(namespace(&format!("n{i}")));
            let address = format!("10.0.{}.{}/16", (i + 2) / 256, (i + 2) % 256);
            let (a, b) = (end(&format!("n{i}"), "eth0", &[&address]), end("br0", &format!("v{i}"), &[]));
            lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
        }
        lab
    }

    /// `n` namespaces in a line, each link its own /30.
    fn chain(n: usize) -> Lab {
        let mut lab = Lab::new("chain");
        for i in 0..n {
            lab.nodes.push(namespace(&format!("n{i}")));
        }
        for i in 0..n - 1 {
            let base = 4 * i as u32;
            let (a, b) = (std::net::Ipv4Addr::from(0x0a00_0001 + base), std::net::Ipv4Addr::from(0x0a00_0002 + base));
            let a = end(&format!("n{i}"), "right", &[&format!("{a}/30")]);
            let b = end(&format!("n{}", i + 1), "left", &[&format!("{b}/30")]);
            lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
        }
        lab
    }

    fn sources(lab: &Lab) -> Vec<Netns> {
        crate::ping::matrix_of(lab).0
    }

    #[test]
    fn a_whole_bridge_needs_an_entry_per_ordered_pair() {
        let lab = star(30);
        let waves = matrix_waves(&lab, &sources(&lab), u64::MAX);
        assert_eq!(waves.waves.len(), 1);
        assert_eq!(waves.most, 30 * 29);
    }

    #[test]
    fn a_big_bridge_is_probed_in_waves_under_the_budget() {
        let lab = star(60);
        let all = sources(&lab);
        let waves = matrix_waves(&lab, &all, 768);
        assert!(waves.waves.len() > 1, "{waves:?}");
        assert!(waves.most <= 768, "{waves:?}");
        // Every source once, in order.
        assert_eq!(waves.waves.concat(), all);
        // As few waves as the bound allows: 6 senders of 60 make 6 * (120 - 6 - 1) = 678.
        assert_eq!(waves.waves[0].len(), 6);
    }

    #[test]
    fn a_chain_fits_in_one_wave_however_long() {
        let lab = chain(300);
        let waves = matrix_waves(&lab, &sources(&lab), 768);
        assert_eq!(waves.waves.len(), 1);
        // Each /30 link: two addresses that learn each other.
        assert_eq!(waves.most, 299 * 2);
    }

    #[test]
    fn a_router_sends_in_every_wave() {
        let mut lab = star(60);
        let Node::Namespace(router) = &mut lab.nodes[1] else { panic!("n0 is a namespace") };
        router.ipv4_forwarding = true;
        let waves = matrix_waves(&lab, &sources(&lab), 768);
        assert!(waves.most <= 768, "{waves:?}");
        // The router's address is a sender from the start: one fewer other per wave.
        assert_eq!(waves.waves[0].len(), 6);
        assert_eq!(waves.waves[1].len(), 5);
    }

    #[test]
    fn the_host_relays_unless_the_lab_says_it_does_not() {
        let mut lab = star(60);
        let Node::Bridge(bridge) = &mut lab.nodes[0] else { panic!("br0 is a bridge") };
        bridge.addresses = vec!["10.0.255.1/16".into()];
        // No host node: the host's forwarding is whatever it is, so the bridge's address
        // sends in every wave: 5 others fit beside it (6 * 115 = 690; 7 * 114 = 798).
        let waves = matrix_waves(&lab, &sources(&lab), 768);
        assert_eq!(waves.waves[0].len(), 5);
        // A host node that forwards nothing: the host sends only in its own wave.
        let mut host = crate::lab::HostNode::new("host");
        host.ipv4_forwarding = Some(false);
        lab.nodes.push(Node::Host(host));
        let waves = matrix_waves(&lab, &sources(&lab), 768);
        assert_eq!(waves.waves[0].len(), 6);
        assert!(waves.most <= 768, "{waves:?}");
    }

    #[test]
    fn a_source_too_big_for_the_budget_gets_a_wave_of_its_own_and_says_so() {
        let lab = star(10);
        let waves = matrix_waves(&lab, &sources(&lab), 10);
        assert_eq!(waves.waves.len(), 10);
        assert_eq!(waves.most, 18);
    }

    #[test]
    fn only_a_wave_beyond_the_limit_is_warned_of() {
        // One source probing 600 addresses on its bridge: 1198 entries.
        let lab = star(600);
        let waves = matrix_waves(&lab, &sources(&lab), wave_budget(None));
        assert_eq!(waves.most, 1198);
        let warning = warning(waves.most, None).expect("a warning");
        assert!(warning.contains("1198") && warning.contains("1024") && warning.contains("default"), "{warning}");
        let raised = NeighbourLimit { entries: 8192, setting: IPV4_SETTING };
        assert_eq!(super::warning(waves.most, Some(raised)), None, "a host that raised gc_thresh3 gets none");
        let lowered = NeighbourLimit { entries: 1000, setting: IPV6_SETTING };
        let warning = super::warning(1200, Some(lowered)).expect("a warning");
        assert!(warning.contains("the host's net.ipv6.neigh.default.gc_thresh3"), "{warning}");
        // 60 namespaces on a bridge, the case found on a real kernel (1084 of 3600 pairs
        // answered): in waves, nothing to warn of.
        let lab = star(60);
        let waves = matrix_waves(&lab, &sources(&lab), wave_budget(None));
        assert_eq!(super::warning(waves.most, None), None);
    }

    #[test]
    fn the_family_that_keeps_fewer_entries_bounds_the_waves() {
        let limit = NeighbourLimit::smaller_of(Some(4096), Some(512)).expect("a limit");
        assert_eq!(limit, NeighbourLimit { entries: 512, setting: IPV6_SETTING });
        assert_eq!(wave_budget(Some(limit)), 384);
        assert_eq!(NeighbourLimit::smaller_of(Some(2048), None).map(|limit| limit.setting), Some(IPV4_SETTING));
        assert_eq!(NeighbourLimit::smaller_of(None, None), None);
        assert_eq!(wave_budget(None), 768);
    }

    #[test]
    fn a_lab_without_addresses_needs_nothing() {
        let mut lab = star(3);
        for link in &mut lab.links {
            let Link::Veth(veth) = link;
            veth.a.addresses.clear();
        }
        let waves = matrix_waves(&lab, &sources(&lab), 0);
        assert_eq!((waves.waves.len(), waves.most), (1, 0));
    }
}
