//! Ping results as the server streams them over its websocket: one sample per probe of a
//! continuous ping, one cell per (source, target) pair of a reachability matrix. The
//! pinging itself is the backend's (`kernel/ping.rs`); these are only the messages.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::topology::Netns;

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

#[cfg(test)]
mod tests {
    use super::*;

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
