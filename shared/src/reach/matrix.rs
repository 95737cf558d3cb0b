//! The predicted reachability matrix: for every pair the live matrix pings (see
//! [`matrix_of`](crate::ping::matrix_of)), whether the ping would be answered.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::identity::Netns;
use crate::lab::{Lab, Node};
use crate::observed::Observed;

use super::network::Network;
use super::{network_of, Outcome};

/// `{"pairs": [{"from": "ns1", "to": "10.0.0.2", "reach": true}, ...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictedMatrix {
    /// One per source namespace and destination address, source by source, in the order of
    /// the live matrix.
    pub pairs: Vec<Pair>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// The pinging node: a namespace, or the host node.
    pub from: String,
    pub to: IpAddr,
    /// The ping would be answered.
    pub reach: bool,
}

/// The matrix the lab predicts.
pub fn predict_matrix(lab: &Lab) -> PredictedMatrix {
    matrix_in(lab, &network_of(lab, None).0)
}

/// The matrix predicted from what the kernel holds (see [`explain_live`](super::explain_live)).
pub fn predict_matrix_live(lab: &Lab, observed: &Observed) -> PredictedMatrix {
    matrix_in(lab, &network_of(lab, Some(observed)).0)
}

fn matrix_in(lab: &Lab, network: &Network) -> PredictedMatrix {
    let (sources, targets) = crate::ping::matrix_of(lab);
    let mut pairs = Vec::with_capacity(sources.len() * targets.len());
    for source in &sources {
        let from = node_name(lab, source);
        let start = network.space_of(source);
        for &to in &targets {
            let reach = start.is_some_and(|start| Outcome::of(network, start, to, false).failure.is_none());
            pairs.push(Pair { from: from.clone(), to, reach });
        }
    }
    PredictedMatrix { pairs }
}

/// The node a source namespace is: a namespace node's name, or the host node's.
fn node_name(lab: &Lab, netns: &Netns) -> String {
    match netns {
        Netns::Named(name) => name.clone(),
        Netns::Host => {
            lab.nodes.iter().find(|node| matches!(node, Node::Host(_))).map_or("host", |node| node.name()).to_string()
        }
    }
}

/// The pairs that start or stop reaching when the lab changes from `before` to `after`
/// (what a plan preview shows: "this change breaks ns2 -> 10.0.3.2"), each with whether it
/// reaches after. A pair that exists on one side only counts as not reaching on the other.
pub fn reach_changes(before: &Lab, after: &Lab) -> Vec<Pair> {
    let old = predict_matrix(before);
    let new = predict_matrix(after);
    // Sets of the reaching pairs: a 300-namespace lab has 90,000 pairs on each side.
    let reaching = |matrix: &PredictedMatrix| -> HashSet<(String, IpAddr)> {
        matrix.pairs.iter().filter(|pair| pair.reach).map(|pair| (pair.from.clone(), pair.to)).collect()
    };
    let (reached_before, reached_after) = (reaching(&old), reaching(&new));
    let reached = |set: &HashSet<(String, IpAddr)>, pair: &Pair| set.contains(&(pair.from.clone(), pair.to));
    let started = new.pairs.iter().filter(|pair| pair.reach && !reached(&reached_before, pair)).cloned();
    let stopped = old
        .pairs
        .iter()
        .filter(|pair| pair.reach && !reached(&reached_after, pair))
        .map(|pair| Pair { reach: false, ..pair.clone() });
    let mut changes: Vec<Pair> = stopped.chain(started).collect();
    changes.sort_by(|a, b| (&a.from, a.to).cmp(&(&b.from, b.to)));
    changes
}
