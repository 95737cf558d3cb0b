//! Predict and explain reachability: would a ping from a namespace to an address succeed,
//! along which path (for the request and for the reply, hop by hop, with the veths and
//! bridges crossed), and when not, the first hop that stops it, why in plain words, and a
//! fix (the `ip` command, and the lab edit the editor can apply and undo).
//!
//! Pure, so the editor runs it in the browser as the student edits. The kernel's rules it
//! follows are in [`table`] (routes, lookup, source address), [`segment`] (layer 2) and
//! [`walk`] (forwarding hop by hop). What it cannot see: firewall rules, `rp_filter`,
//! policy routing, and other settings the lab cannot say (`nslab scan` names them); with
//! an [`Observed`] ([`explain_live`]) it uses the kernel's states, addresses, forwarding
//! and routes where they differ from the lab, and lists each difference as [`Drift`].
//!
//! Two namespaces holding one address on one link make no predictable outcome (the kernel
//! takes whichever holder claimed the address in a neighbour's cache first): the ping is
//! predicted to reach, with a warning and its fix, not a failure.

mod fix;
mod limits;
mod live;
mod matrix;
mod network;
mod reason;
mod segment;
mod table;
mod walk;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::lab::Lab;
use crate::observed::Observed;

pub use fix::{Fix, LabFix};
pub use limits::{Limit, LimitKind};
pub use live::Drift;
pub use matrix::{predict_matrix, predict_matrix_live, reach_changes, Pair, PredictedMatrix};
pub use network::InterfacePlace;
pub use reason::Reason;

use network::Network;
use walk::{Cause, How, Stop, Walk};

/// What a ping from a namespace to an address would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The namespace pinging (its node's name).
    pub from: String,
    /// The address pinged.
    pub to: IpAddr,
    /// True when the ping would get its answer.
    pub reach: bool,
    /// The source address the kernel picks for the request; None when it stops before.
    pub source: Option<IpAddr>,
    /// The request's way, hop by hop, up to where it stops.
    pub request: Vec<Hop>,
    /// The reply's way back; empty when the request does not arrive.
    pub reply: Vec<Hop>,
    /// The first thing that stops the ping, with its fix; None when it reaches.
    pub failure: Option<Finding>,
    /// What may make it reach the wrong host (an address held twice on one link).
    pub warnings: Vec<Finding>,
    /// Where the kernel differs from the lab (live mode only).
    pub drift: Vec<Drift>,
    /// The model's known limits met on the way: where the kernel may choose otherwise.
    #[serde(default)]
    pub limits: Vec<Limit>,
}

/// One namespace on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The namespace the packet is in (its node's name).
    pub namespace: String,
    /// The interface it leaves by (`lo` when a namespace pings itself); None where it is
    /// delivered or stops before choosing one.
    pub out: Option<String>,
    /// The address it is sent to on that link: the route's gateway, or the destination.
    pub next_hop: Option<IpAddr>,
    /// The route taken, as `ip route` prints it (`default via 10.0.1.1 dev eth0`).
    pub route: Option<String>,
    /// The interfaces crossed to the next hop, the outgoing one first and the one that
    /// takes the packet last (veth ends and bridges between).
    pub crossed: Vec<Crossing>,
    /// The packet is delivered in this namespace.
    pub delivered: bool,
}

/// One interface crossed on a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crossing {
    /// The node the interface is drawn on: its namespace, or the bridge it is a port of
    /// (a bridge device is drawn on itself).
    pub node: String,
    /// The namespace it lives in (its node's name).
    pub namespace: String,
    pub interface: String,
    /// The veth it is an end of (`links[link]`); None for a bridge device.
    pub link: Option<usize>,
}

/// Whose way a finding is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Request,
    Reply,
}

/// What stops a ping (or may misdirect it), where, why, and how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub direction: Direction,
    /// The hop's index in `request` or `reply`.
    pub hop: usize,
    /// The namespace of that hop.
    pub namespace: String,
    pub reason: Reason,
    /// Why, in plain words.
    pub message: String,
    pub fix: Option<Fix>,
}

/// Explains a ping from node `from` (a namespace, or the host node) to `to`, from the lab.
pub fn explain(lab: &Lab, from: &str, to: IpAddr) -> Result<Explanation, String> {
    explain_with(lab, None, from, to)
}

/// Explains a ping as the kernel holds the lab now: its states, carrier, addresses,
/// forwarding and routes where they differ from the lab (each difference in `drift`).
pub fn explain_live(lab: &Lab, observed: &Observed, from: &str, to: IpAddr) -> Result<Explanation, String> {
    explain_with(lab, Some(observed), from, to)
}

/// Only whether the ping would be answered (no words, no fixes): what the matrix needs.
pub fn reaches(lab: &Lab, from: &str, to: IpAddr) -> Result<bool, String> {
    let (network, _) = network_of(lab, None);
    let start = start_of(lab, &network, from)?;
    Ok(Outcome::of(&network, start, to, false).failure.is_none())
}

fn explain_with(lab: &Lab, observed: Option<&Observed>, from: &str, to: IpAddr) -> Result<Explanation, String> {
    let (network, drift) = network_of(lab, observed);
    let start = start_of(lab, &network, from)?;
    let outcome = Outcome::of(&network, start, to, true);
    let finding = |(direction, stop): &(Direction, Stop)| Finding {
        direction: *direction,
        hop: stop.hop,
        namespace: outcome.walk(*direction).hops[stop.hop].namespace.clone(),
        reason: reason::reason_of(&stop.cause, *direction == Direction::Reply),
        message: reason::message_of(&network, &stop.cause, *direction == Direction::Reply),
        fix: None,
    };
    let mut failure = outcome.failure.as_ref().map(finding);
    if let (Some(found), Some((direction, stop))) = (&mut failure, &outcome.failure) {
        let destination = if *direction == Direction::Request { to } else { outcome.source().unwrap_or(to) };
        found.fix = best_fix(lab, observed, &network, &stop.cause, (from, to, destination), found);
    }
    let warnings = outcome
        .warnings
        .iter()
        .map(|warning| {
            let mut found = finding(warning);
            found.fix = fix::candidates(&network, &warning.1.cause, to).into_iter().next();
            found
        })
        .collect();
    let mut limits = limits::limits_of(&network, &outcome.request, to);
    if let Some(source) = outcome.source() {
        for limit in limits::limits_of(&network, &outcome.reply, source) {
            if !limits.iter().any(|kept| kept.kind == limit.kind && kept.namespace == limit.namespace) {
                limits.push(limit);
            }
        }
    }
    Ok(Explanation {
        from: from.to_string(),
        to,
        reach: outcome.failure.is_none(),
        source: outcome.source(),
        request: outcome.request.hops.clone(),
        reply: outcome.reply.hops.clone(),
        failure,
        warnings,
        drift,
        limits,
    })
}

fn network_of(lab: &Lab, observed: Option<&Observed>) -> (Network, Vec<Drift>) {
    let mut network = Network::of(lab);
    let drift = observed.map(|observed| live::overlay(&mut network, observed)).unwrap_or_default();
    (network, drift)
}

/// The space a ping from node `from` starts in.
fn start_of(lab: &Lab, network: &Network, from: &str) -> Result<usize, String> {
    let netns = crate::ping::source_of(lab, from)?;
    network.space_of(&netns).ok_or_else(|| format!("`{from}` has no interfaces"))
}

/// The request's and the reply's walks, and what stopped the ping.
struct Outcome {
    request: Walk,
    reply: Walk,
    failure: Option<(Direction, Stop)>,
    warnings: Vec<(Direction, Stop)>,
}

impl Outcome {
    /// `detailed`: with each hop's route and crossings (an explanation), or without (a matrix).
    fn of(network: &Network, start: usize, to: IpAddr, detailed: bool) -> Outcome {
        let request = walk::walk(network, start, to, None, How { replying: false, detailed });
        let mut warnings: Vec<(Direction, Stop)> =
            request.warnings.iter().map(|stop| (Direction::Request, stop.clone())).collect();
        if let Some(stop) = &request.failure {
            let failure = Some((Direction::Request, stop.clone()));
            return Outcome { request, reply: Walk::default(), failure, warnings };
        }
        let arrived = request.arrived.expect("a walk that did not stop arrived");
        let source = request.source.expect("a walk that arrived chose its source");
        let reply = if arrived == start {
            // A namespace pinging itself: the reply is delivered where it is.
            // A matrix's walk keeps no hops: then there is none to copy.
            let hop =
                request.hops.first().map(|hop| Hop { out: Some("lo".to_string()), delivered: true, ..hop.clone() });
            let hops = hop.into_iter().collect();
            Walk { hops, length: 1, arrived: Some(start), ..Walk::default() }
        } else {
            walk::walk(network, arrived, source, Some(start), How { replying: true, detailed })
        };
        warnings.extend(reply.warnings.iter().map(|stop| (Direction::Reply, stop.clone())));
        let failure = match (&reply.failure, reply.arrived) {
            (Some(stop), _) => Some((Direction::Reply, stop.clone())),
            (None, Some(took)) if took != start => {
                Some((Direction::Reply, misdirected(network, &reply, source, start, took)))
            }
            _ => None,
        };
        // A duplicate that made the reply go astray is the failure, not also a warning.
        if failure.is_some() {
            warnings.retain(
                |(_, stop)| !matches!(stop.cause, Cause::DuplicateAddress { address, .. } if address == source),
            );
        }
        Outcome { request, reply, failure, warnings }
    }

    fn walk(&self, direction: Direction) -> &Walk {
        match direction {
            Direction::Request => &self.request,
            Direction::Reply => &self.reply,
        }
    }

    fn source(&self) -> Option<IpAddr> {
        self.request.source
    }
}

/// The reply arrived in another namespace that holds the request's source address too.
fn misdirected(network: &Network, reply: &Walk, source: IpAddr, start: usize, took: usize) -> Stop {
    let holder_in = |space: usize| {
        network.spaces[space].interfaces.iter().copied().find(|&index| network.interfaces[index].holds(source))
    };
    let (asked, kept) = (holder_in(start), holder_in(took));
    let holders = [asked, kept].into_iter().flatten().collect();
    Stop {
        hop: reply.length.saturating_sub(1),
        cause: Cause::DuplicateAddress {
            address: source,
            holders,
            kept: kept.unwrap_or_default(),
            other: kept.unwrap_or_default(),
        },
    }
}

/// Of the fixes for a cause, the first that makes the ping reach when tried on the lab,
/// else the first that gets it past this failure, else (for a fix that cannot be tried) the
/// first there is.
fn best_fix(
    lab: &Lab,
    observed: Option<&Observed>,
    network: &Network,
    cause: &Cause,
    (from, to, destination): (&str, IpAddr, IpAddr),
    failure: &Finding,
) -> Option<Fix> {
    let candidates = fix::candidates(network, cause, destination);
    let tried: Vec<(Fix, Option<Outcome>)> = candidates
        .into_iter()
        .map(|mut candidate| {
            let fixed = candidate.edit.as_ref().and_then(|edit| edit.apply(lab).ok());
            if fixed.as_ref() == Some(lab) {
                // The lab says so already: only the kernel differs.
                candidate.description =
                    format!("the lab already says so; the kernel differs: {}", candidate.description);
                candidate.edit = None;
            }
            let outcome = fixed.filter(|fixed| fixed != lab).and_then(|fixed| {
                let (network, _) = network_of(&fixed, observed);
                Some(Outcome::of(&network, start_of(&fixed, &network, from).ok()?, to, false))
            });
            (candidate, outcome)
        })
        .collect();
    let moved = |outcome: &Outcome| match &outcome.failure {
        None => true,
        Some((direction, stop)) => {
            *direction != failure.direction
                || stop.hop != failure.hop
                || reason::reason_of(&stop.cause, *direction == Direction::Reply) != failure.reason
                || reason::message_of(network, &stop.cause, *direction == Direction::Reply) != failure.message
        }
    };
    let position = tried
        .iter()
        .position(|(_, outcome)| outcome.as_ref().is_some_and(|outcome| outcome.failure.is_none()))
        .or_else(|| tried.iter().position(|(_, outcome)| outcome.as_ref().is_some_and(moved)))
        .or_else(|| tried.iter().position(|(fix, _)| fix.edit.is_none()))
        .or((tried.len() == 1).then_some(0))?;
    tried.into_iter().nth(position).map(|(fix, _)| fix)
}
