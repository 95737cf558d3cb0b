//! The lab's goals on the live kernel: checked again whenever the kernel or the goals may
//! have changed (after a reading that saw something new, see `live.rs`) and on request,
//! one check at a time, each result sent to every page as a `goals` event.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use nslab_model::api::{Event, GoalsEvent};
use nslab_model::observed::Observed;
use tokio::sync::Notify;

use super::errors::ApiError;
use super::AppState;
use crate::goal_check::check_goals;

#[derive(Default)]
pub struct GoalChecks {
    latest: std::sync::Mutex<Option<GoalsEvent>>,
    /// Asked for a check; asks made while one runs make one more after it, not one each.
    wanted: Notify,
    /// What the reading that asked for the check saw: the check uses it instead of reading
    /// the kernel again (a later ask's reading replaces it).
    seen: std::sync::Mutex<Option<Observed>>,
    /// Only one check at a time: a request waits for the running one.
    running: tokio::sync::Mutex<()>,
}

impl GoalChecks {
    pub fn latest(&self) -> Option<GoalsEvent> {
        self.latest.lock().expect("not poisoned").clone()
    }

    /// Asks for a check soon, of the kernel as a reading just `seen` it.
    pub fn want(&self, seen: Observed) {
        *self.seen.lock().expect("not poisoned") = Some(seen);
        self.wanted.notify_one();
    }

    /// Whether the last check was of another revision of the document than `revision`.
    pub fn stale(&self, revision: u64) -> bool {
        self.latest().is_none_or(|latest| latest.revision != revision)
    }
}

/// Checks whenever asked to, for as long as the server runs.
pub async fn run(state: Arc<AppState>) {
    loop {
        state.goals.wanted.notified().await;
        let seen = state.goals.seen.lock().expect("not poisoned").take();
        check_now(&state, seen).await;
    }
}

/// Checks the document's goals now, against the kernel as `seen` by a reading or else as
/// read now, and tells every page; None when it has none (or the kernel cannot be read).
async fn check_now(state: &AppState, seen: Option<Observed>) -> Option<GoalsEvent> {
    let _one_at_a_time = state.goals.running.lock().await;
    let view = state.store.lock().await.view().clone();
    if view.lab.goals.is_empty() {
        *state.goals.latest.lock().expect("not poisoned") = None;
        return None;
    }
    let observed = match seen {
        Some(observed) => observed,
        None => state.engine.observe().await.ok()?,
    };
    let checklist = check_goals(&view.lab, &observed, &state.pinger).await;
    let event = GoalsEvent { revision: view.revision, checklist };
    let changed = state.goals.latest().as_ref() != Some(&event);
    *state.goals.latest.lock().expect("not poisoned") = Some(event.clone());
    if changed {
        state.bus.send(&Event::Goals(event.clone()));
    }
    Some(event)
}

/// `GET /api/goals`: the goals as last checked (null before the first check).
pub async fn latest(State(state): State<Arc<AppState>>) -> Json<Option<GoalsEvent>> {
    Json(state.goals.latest())
}

/// `POST /api/goals/check`: checks now and answers the checklist.
pub async fn check(State(state): State<Arc<AppState>>) -> Result<Json<GoalsEvent>, ApiError> {
    match check_now(&state, None).await {
        Some(event) => Ok(Json(event)),
        None if state.store.lock().await.view().lab.goals.is_empty() => {
            Err(ApiError::new(StatusCode::CONFLICT, "the lab has no goals to check"))
        }
        None => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the kernel could not be read")),
    }
}
