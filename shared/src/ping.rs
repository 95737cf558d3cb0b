//! Ping results as the server streams them over its websocket: one sample per probe of a
//! continuous ping, one cell per (source, target) pair of a reachability matrix. The
//! pinging itself is the backend's (`kernel/ping.rs`); these are only the messages.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::identity::Netns;

/// Running totals of a continuous ping, as of one sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PingTotals {
    /// Probes sent so far, including those still waiting for an answer.
    pub sent: u32,
    pub received: u32,
    /// Probes known lost: timed out, or answered with an error.
    pub lost: u32,
    /// `lost` out of the probes whose fate is known (`received + lost`), 0..=100.
    pub loss_percent: f64,
}

impl PingTotals {
    pub fn record_sent(&mut self) {
        self.sent += 1;
    }

    /// Counts a probe whose fate is now known.
    pub fn record(&mut self, replied: bool) {
        if replied {
            self.received += 1;
        } else {
            self.lost += 1;
        }
        let decided = self.received + self.lost;
        self.loss_percent = f64::from(self.lost) * 100.0 / f64::from(decided);
    }
}

/// One probe of a continuous ping, sent as soon as its fate is known (so a late loss
/// can arrive after the reply to a later probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingSample {
    /// 1 for the first probe of this ping.
    pub seq: u32,
    /// Round-trip time in milliseconds; None when the probe was lost.
    pub rtt_ms: Option<f64>,
    /// Why the probe was lost when the network said so ("destination unreachable (host
    /// unreachable), said 10.0.0.1", "no route to the target"); None for a reply or a
    /// plain timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub totals: PingTotals,
}

/// One pair of a reachability matrix: did `source` get an echo reply from `target`?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCell {
    pub source: Netns,
    pub target: IpAddr,
    pub reachable: bool,
    /// Round-trip time of the answered probe in milliseconds, when reachable.
    pub rtt_ms: Option<f64>,
    /// Why it is unreachable when known beyond "no answer in time" (an ICMP error, no
    /// route, the namespace cannot be pinged from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a ping from node `from` of the lab starts: a namespace node's namespace, or the
/// host for the host node.
pub fn source_of(lab: &crate::Lab, from: &str) -> Result<Netns, String> {
    match lab.node(from) {
        Some(crate::Node::Namespace(namespace)) => Ok(Netns::Named(namespace.name.clone())),
        Some(crate::Node::Host(_)) => Ok(Netns::Host),
        Some(crate::Node::Bridge(_)) => Err(format!("`{from}` is a bridge; ping from a namespace or the host")),
        None => Err(format!("there is no node called `{from}`")),
    }
}

/// What a ping goes to: an address as written, or `NODE:INTERFACE` (that interface's first
/// address of `family`).
pub fn target_of(lab: &crate::Lab, to: &str, family: crate::address::Family) -> Result<IpAddr, String> {
    if let Ok(address) = to.parse::<IpAddr>() {
        return Ok(address);
    }
    let Some((node, interface)) = to.split_once(':') else {
        return Err(format!("`{to}` is neither an address nor NODE:INTERFACE"));
    };
    let topology = crate::topology::Topology::of(lab);
    let netns = topology.netns_of_node(node).ok_or_else(|| format!("there is no node called `{node}`"))?;
    let found = topology
        .interfaces_in(netns)
        .find(|i| i.name == interface)
        .ok_or_else(|| format!("`{node}` has no interface `{interface}`"))?;
    found
        .addresses
        .iter()
        .filter_map(|text| crate::address::parse_interface_address(text).ok())
        .map(|net| net.addr())
        .find(|address| crate::address::Family::of(address) == family)
        .ok_or_else(|| format!("`{to}` has no {} address", family.word()))
}

/// A reachability matrix of the lab: every namespace node (and the host node, if any) as a
/// source, every address of the lab (but link-local ones) as a target.
pub fn matrix_of(lab: &crate::Lab) -> (Vec<Netns>, Vec<IpAddr>) {
    let sources = lab.nodes.iter().filter_map(|node| source_of(lab, node.name()).ok()).collect();
    let topology = crate::topology::Topology::of(lab);
    let mut targets: Vec<IpAddr> = topology
        .interfaces
        .iter()
        .flat_map(|interface| interface.addresses.iter())
        .filter_map(|text| crate::address::parse_interface_address(text).ok())
        .map(|net| net.addr())
        .filter(|address| !crate::address::is_link_local(address))
        .collect();
    targets.sort();
    targets.dedup();
    (sources, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> crate::Lab {
        crate::load::load_lab_str(include_str!("../../examples/router.json")).unwrap()
    }

    #[test]
    fn sources_and_targets_resolve_from_the_lab() {
        let lab = router();
        assert_eq!(source_of(&lab, "left"), Ok(Netns::Named("left".into())));
        assert!(source_of(&lab, "nowhere").unwrap_err().contains("no node"));
        use crate::address::Family;
        assert_eq!(target_of(&lab, "right:x-eth0", Family::V4), Ok("10.0.2.2".parse().unwrap()));
        assert_eq!(target_of(&lab, "right:x-eth0", Family::V6), Ok("fd00:2::2".parse().unwrap()));
        assert_eq!(target_of(&lab, "10.9.9.9", Family::V4), Ok("10.9.9.9".parse().unwrap()));
        assert!(target_of(&lab, "right:eth9", Family::V4).unwrap_err().contains("no interface"));
        assert!(target_of(&lab, "banana", Family::V4).is_err());
        let (sources, targets) = matrix_of(&lab);
        assert_eq!(sources.len(), 3);
        assert_eq!(targets.len(), 8);
    }

    #[test]
    fn link_local_addresses_are_no_matrix_targets() {
        let mut lab = router();
        let crate::Link::Veth(veth) = &mut lab.links[0];
        veth.a.addresses.extend(["169.254.7.7/16".to_string(), "fe80::7/64".to_string()]);
        let (_, targets) = matrix_of(&lab);
        assert_eq!(targets.len(), 8, "{targets:?}");
    }

    #[test]
    fn totals_count_loss_over_decided_probes_only() {
        let mut totals = PingTotals::default();
        for _ in 0..4 {
            totals.record_sent();
        }
        assert_eq!(totals.loss_percent, 0.0);
        totals.record(true);
        totals.record(false);
        assert_eq!((totals.sent, totals.received, totals.lost), (4, 1, 1));
        assert_eq!(totals.loss_percent, 50.0);
        totals.record(true);
        totals.record(true);
        assert_eq!(totals.loss_percent, 25.0);
    }

    #[test]
    fn a_sample_round_trips_through_json() {
        let mut totals = PingTotals::default();
        totals.record_sent();
        totals.record(true);
        let sample = PingSample { seq: 1, rtt_ms: Some(0.042), error: None, totals };
        let json = serde_json::to_string(&sample).unwrap();
        assert!(!json.contains("error"), "{json}");
        assert_eq!(serde_json::from_str::<PingSample>(&json).unwrap(), sample);

        let cell = MatrixCell {
            source: Netns::Named("a".into()),
            target: "fd00::2".parse().unwrap(),
            reachable: false,
            rtt_ms: None,
            error: Some("no route to the target".into()),
        };
        let json = serde_json::to_string(&cell).unwrap();
        assert_eq!(serde_json::from_str::<MatrixCell>(&json).unwrap(), cell);
    }
}
