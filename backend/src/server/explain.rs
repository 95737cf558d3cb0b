//! `POST /api/explain`: why a ping from a node to an address would or would not be
//! answered, hop by hop. When the lab is applied the answer is read from the kernel
//! (`explain_live`: its states, addresses, forwarding and routes, each difference from the
//! lab named as drift), with what the kernel holds on the way that the prediction cannot
//! see; otherwise it is the lab's prediction (`explain`), as the editor makes offline.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use nslab_model::address::Family;
use nslab_model::api::{ExplainRequest, ExplainView};
use nslab_model::observed::Observed;
use nslab_model::reach::{explain, explain_live, Explanation};
use nslab_model::topology::Topology;
use nslab_model::Lab;

use super::errors::{ApiError, JsonBody};
use super::AppState;

pub async fn route(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<ExplainRequest>,
) -> Result<Json<ExplainView>, ApiError> {
    let lab = state.store.lock().await.view().lab.clone();
    let bad = |field: &str, message: String| ApiError::new(StatusCode::BAD_REQUEST, format!("{field}: {message}"));
    nslab_model::ping::source_of(&lab, &request.from).map_err(|message| bad("from", message))?;
    let to = target_of(&lab, &request.to).map_err(|message| bad("to", message))?;
    // Whether the lab is applied is read with the kernel, not from the live view, which
    // may not have caught up with an apply that just ended.
    let observed = state.engine.observe_for_scan().await.map_err(ApiError::engine)?;
    if nslab_model::plan::is_gone(&lab, &observed) {
        let explanation = explain(&lab, &request.from, to).map_err(|message| bad("from", message))?;
        return Ok(Json(ExplainView { explanation, live: false, unseen: Vec::new() }));
    }
    let mut explanation = explain_live(&lab, &observed, &request.from, to).map_err(|message| bad("from", message))?;
    // A drill withholds what differs from the lab: students find the faults themselves.
    if state.drills.hides_drift() {
        explanation.drift.clear();
    }
    let unseen = unseen_on_the_way(&lab, &observed, &explanation);
    Ok(Json(ExplainView { explanation, live: true, unseen }))
}

/// An address, or `NODE:INTERFACE` (its first IPv4 address, else its first IPv6).
fn target_of(lab: &Lab, to: &str) -> Result<IpAddr, String> {
    nslab_model::ping::target_of(lab, to, Family::V4)
        .or_else(|first| nslab_model::ping::target_of(lab, to, Family::V6).map_err(|_| first))
}

/// What the kernel holds in the namespaces the ping goes through that a lab cannot say
/// (`rp_filter`, policy rules, routes of other tables...), as `NAMESPACE: COMMAND`.
fn unseen_on_the_way(lab: &Lab, observed: &Observed, explanation: &Explanation) -> Vec<String> {
    let topology = Topology::of(lab);
    let on_the_way: BTreeSet<&str> = explanation
        .request
        .iter()
        .chain(&explanation.reply)
        .map(|hop| hop.namespace.as_str())
        .chain([explanation.from.as_str()])
        .collect();
    let mut unseen = Vec::new();
    for node in on_the_way {
        let Some(netns) = topology.netns_of_node(node) else { continue };
        let Some(held) = observed.namespace(netns) else { continue };
        unseen.extend(held.unmodelled.iter().map(|command| format!("{node}: {command}")));
    }
    unseen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Lab {
        nslab_model::load::load_lab_str(include_str!("../../../examples/router.json")).unwrap()
    }

    #[test]
    fn a_target_is_an_address_or_an_interface_of_the_lab() {
        let lab = router();
        assert_eq!(target_of(&lab, "10.0.2.2"), Ok("10.0.2.2".parse().unwrap()));
        assert_eq!(target_of(&lab, "right:x-eth0"), Ok("10.0.2.2".parse().unwrap()));
        assert_eq!(target_of(&lab, "nowhere:eth0").unwrap_err(), "there is no node called `nowhere`");
        assert!(target_of(&lab, "ten").unwrap_err().contains("neither an address nor NODE:INTERFACE"));
    }
}
