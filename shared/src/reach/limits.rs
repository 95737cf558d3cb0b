//! The model's known limits: where the kernel's choice hangs on what a lab cannot say (the
//! order in which routes were added, whether a neighbour answered a moment ago), so a real
//! ping may go another way than the prediction. Each limit met on a ping's way is named
//! beside its explanation, so a disagreement with the live matrix is not a mystery.
//!
//! Both were found by the random labs test against the kernel (`tests/tests/explain_random.rs`).

use std::cmp::Reverse;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::address::Family;

use super::network::Network;
use super::table::{entry_text, lookup, Entry, Origin, Table};
use super::walk::{Cause, Walk};

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// Two routes of one prefix and one metric through different interfaces (one subnet on
    /// two interfaces, say): the kernel takes the one it added first, which depends on the
    /// order of the apply's steps; for IPv6 also the interface a request came in on, or the
    /// one whose neighbour answers. The model takes the first in the lab.
    TwoRoutesOnePrefix,
    /// IPv6 passes over a route whose interface has no carrier once its neighbour stops
    /// answering, and takes another route that matches; the model stops at the first.
    Ipv6RouteWithoutCarrier,
}

impl LimitKind {
    /// Every limit, for documentation and tests.
    pub const ALL: [LimitKind; 2] = [LimitKind::TwoRoutesOnePrefix, LimitKind::Ipv6RouteWithoutCarrier];
}

/// A limit met on the way, where, and in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub kind: LimitKind,
    /// The namespace where the kernel may choose otherwise.
    pub namespace: String,
    pub message: String,
}

/// The limits met by a walk to `destination` (the request's destination, or for the reply
/// the request's source), one per namespace and kind.
pub(crate) fn limits_of(network: &Network, walk: &Walk, destination: IpAddr) -> Vec<Limit> {
    let family = Family::of(&destination);
    let mut limits: Vec<Limit> = Vec::new();
    for (index, (&space, hop)) in walk.spaces.iter().zip(&walk.hops).enumerate() {
        if hop.delivered {
            continue;
        }
        let table = network.table(space, family);
        let Some(entry) = lookup(&table, destination) else { continue };
        let namespace = &network.spaces[space].node;
        if let Some(message) = twin_routes(network, &table, entry) {
            let message = format!("`{namespace}` {message}");
            limits.push(Limit { kind: LimitKind::TwoRoutesOnePrefix, namespace: namespace.clone(), message });
        }
        let stopped_here = walk.failure.as_ref().filter(|stop| stop.hop == index);
        if let (Family::V6, Some(stop)) = (family, stopped_here) {
            if let Cause::NoCarrier { iface, .. } = stop.cause {
                if let Some(other) = other_route(&table, entry, destination, iface) {
                    let message = format!(
                        "`{namespace}`: IPv6 passes over a route whose interface has no carrier once its neighbour stops answering, and may send this by `{}` instead of stopping here",
                        entry_text(network, other)
                    );
                    let kind = LimitKind::Ipv6RouteWithoutCarrier;
                    limits.push(Limit { kind, namespace: namespace.clone(), message });
                }
            }
        }
    }
    limits.dedup_by(|a, b| a.kind == b.kind && a.namespace == b.namespace);
    limits
}

/// When the kernel holds another route of the same prefix and metric as `entry` through
/// another interface (or, for a gateway, two connected routes to its subnet), what that
/// means for the prediction, in words.
fn twin_routes(network: &Network, table: &Table, entry: &Entry) -> Option<String> {
    let twin_of = |chosen: &Entry| {
        table.entries.iter().find(|other| {
            other.destination == chosen.destination && other.metric == chosen.metric && other.dev != chosen.dev
        })
    };
    let on_link = entry.via.and_then(|gateway| {
        let connected = table.entries.iter().filter(|candidate| candidate.origin == Origin::Connected);
        let reaching: Vec<&Entry> = connected.filter(|candidate| candidate.destination.contains(&gateway)).collect();
        let best = reaching.iter().max_by_key(|candidate| candidate.destination.prefix_len())?;
        Some(*best).filter(|best| twin_of(best).is_some())
    });
    let (chosen, twin) = match twin_of(entry) {
        Some(twin) => (entry, twin),
        None => {
            let chosen = on_link?;
            (chosen, twin_of(chosen)?)
        }
    };
    let name = |dev: usize| &network.interfaces[dev].name;
    Some(format!(
        "has two routes to {} with one metric, through `{}` and `{}`: the kernel takes the one it added first (for IPv6 also the interface a request came in on, or the one whose neighbour answers), which a lab cannot say; this prediction takes `{}`",
        chosen.destination,
        name(chosen.dev),
        name(twin.dev),
        name(chosen.dev)
    ))
}

/// Another route of the table that matches the destination through another interface than
/// the one without carrier: the best of them (longest prefix, lowest metric, made first),
/// as the kernel would fall back to it.
fn other_route<'t>(table: &'t Table, entry: &Entry, destination: IpAddr, without_carrier: usize) -> Option<&'t Entry> {
    table
        .entries
        .iter()
        .filter(|other| other.dev != without_carrier && other.dev != entry.dev)
        .filter(|other| other.destination.contains(&destination))
        .min_by_key(|other| (Reverse(other.destination.prefix_len()), other.metric))
}
