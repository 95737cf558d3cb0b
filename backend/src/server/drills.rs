//! Break-it drills: the teacher has nslab break the applied lab in the kernel (never the
//! file), students find the faults. While a drill runs, the drift every page is sent is
//! withheld (see `live.rs`); the teacher sees the faults through `GET /api/drill/faults`
//! (full token only), reveals them to everyone, and repairs by applying the lab again.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use nslab_model::api::{DriftEvent, DrillEvent, DrillStatus, Event, RevealedFault};
use nslab_model::drill::{candidate_faults, pick_faults, still_broken, DrillRequest, Fault, MAX_FAULTS};
use nslab_model::observed::Observed;
use nslab_model::ops::Op;

use super::errors::{ApiError, JsonBody};
use super::runs::RunError;
use super::AppState;
use crate::engine::{InUse, RunRequest, Work};
use crate::kernel::RunScope;

#[derive(Default)]
pub struct Drills {
    current: std::sync::Mutex<Option<Drill>>,
}

struct Drill {
    faults: Vec<Fault>,
    fixed: Vec<bool>,
    revealed: bool,
    active: bool,
}

impl Drill {
    fn status(&self) -> DrillStatus {
        DrillStatus {
            active: self.active,
            faults: self.faults.len(),
            fixed: self.fixed.iter().filter(|fixed| **fixed).count(),
            revealed: if self.revealed { self.listed() } else { Vec::new() },
        }
    }

    fn listed(&self) -> Vec<RevealedFault> {
        self.faults
            .iter()
            .zip(&self.fixed)
            .map(|(fault, fixed)| RevealedFault {
                kind: fault.kind,
                what: fault.what.clone(),
                commands: fault.commands(),
                fixed: *fixed,
            })
            .collect()
    }
}

impl Drills {
    /// The drill, running or ended (until the next starts); None before the first.
    pub fn status(&self) -> Option<DrillStatus> {
        self.current.lock().expect("not poisoned").as_ref().map(Drill::status)
    }

    /// Whether the drift must be withheld from the pages: a drill runs, not yet revealed.
    pub fn hides_drift(&self) -> bool {
        self.current.lock().expect("not poisoned").as_ref().is_some_and(|drill| drill.active && !drill.revealed)
    }

    /// Marks the faults the drift no longer shows as fixed; the new status when that
    /// changed something.
    pub fn note_drift(&self, drift: &[Op], observed: &Observed) -> Option<DrillStatus> {
        let mut current = self.current.lock().expect("not poisoned");
        let drill = current.as_mut().filter(|drill| drill.active)?;
        let fixed: Vec<bool> = drill.faults.iter().map(|fault| !still_broken(fault, drift, observed)).collect();
        if fixed == drill.fixed {
            return None;
        }
        drill.fixed = fixed;
        Some(drill.status())
    }

    fn with<T>(&self, change: impl FnOnce(&mut Option<Drill>) -> T) -> T {
        change(&mut self.current.lock().expect("not poisoned"))
    }
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, message)
}

/// `GET /api/drill`: the drill's status (anyone).
pub async fn status(State(state): State<Arc<AppState>>) -> Json<DrillStatus> {
    Json(state.drills.status().unwrap_or_default())
}

/// `GET /api/drill/faults`: the faults of the drill, for the teacher's eyes (full token).
pub async fn faults(State(state): State<Arc<AppState>>) -> Result<Json<Vec<RevealedFault>>, ApiError> {
    state
        .drills
        .with(|drill| drill.as_ref().map(Drill::listed))
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no drill has been started"))
}

/// `POST /api/drill`: breaks the applied lab with the faults asked for.
pub async fn start(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<DrillRequest>,
) -> Result<Json<DrillStatus>, ApiError> {
    if !(1..=MAX_FAULTS).contains(&request.faults) {
        let message = format!("`faults` is {}; a drill has 1 to {MAX_FAULTS} faults", request.faults);
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    }
    if state.drills.with(|drill| drill.as_ref().is_some_and(|drill| drill.active)) {
        return Err(conflict("a drill is running already: reveal and repair it first"));
    }
    let injected = state.break_kernel(&request).await?;
    let status = state.drills.with(|current| {
        let fixed = vec![false; injected.len()];
        let drill = Drill { faults: injected, fixed, revealed: false, active: true };
        let status = drill.status();
        *current = Some(drill);
        status
    });
    tracing::info!("drill started with {} faults", status.faults);
    state.bus.send(&Event::Drill(DrillEvent { status: status.clone() }));
    state.kernel_changed.notify_one();
    Ok(Json(status))
}

/// `POST /api/drill/reveal`: shows every page the faults, and the drift again.
pub async fn reveal(State(state): State<Arc<AppState>>) -> Result<Json<DrillStatus>, ApiError> {
    let status = state.drills.with(|current| {
        let drill = current.as_mut()?;
        drill.revealed = true;
        Some(drill.status())
    });
    let status = status.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no drill has been started"))?;
    state.bus.send(&Event::Drill(DrillEvent { status: status.clone() }));
    let live = state.live.read().await;
    let drift = DriftEvent {
        applied: live.applied,
        ops: live.drift.clone(),
        conflicts: live.conflicts.clone(),
        missing: live.missing.clone(),
        hidden: false,
    };
    state.bus.send(&Event::Drift(drift));
    Ok(Json(status))
}

/// `POST /api/drill/repair`: applies the lab again (undoing every fault) and ends the drill.
pub async fn repair(State(state): State<Arc<AppState>>) -> Result<Json<DrillStatus>, ApiError> {
    if !state.drills.with(|drill| drill.as_ref().is_some_and(|drill| drill.active)) {
        return Err(conflict("no drill is running"));
    }
    state.restore_unsaid().await?;
    let request = RunRequest { work: Work::Apply { adopt: false }, in_use: InUse::Refuse };
    state.run(request).await?;
    let status = state.drills.with(|current| {
        let drill = current.as_mut().expect("a drill ran");
        drill.active = false;
        drill.revealed = true;
        drill.fixed.iter_mut().for_each(|fixed| *fixed = true);
        drill.status()
    });
    state.bus.send(&Event::Drill(DrillEvent { status: status.clone() }));
    Ok(Json(status))
}

impl AppState {
    /// Injects the faults of `request` into the kernel, as one run (no apply meanwhile).
    /// Refused unless the kernel holds the lab exactly as it is, so that the drill's faults
    /// are all there is to find. A fault the kernel refuses is replaced by the next
    /// candidate; none injected is an error naming the kernel's reasons.
    async fn break_kernel(&self, request: &DrillRequest) -> Result<Vec<Fault>, ApiError> {
        let _only_run = self.claim_run().ok_or(RunError::Busy)?;
        let _kernel = self.kernel_access.lock().await;
        let lab = self.store.lock().await.view().lab.clone();
        let planned = self
            .engine
            .plan_run(&lab, RunRequest { work: Work::Apply { adopt: false }, in_use: InUse::Refuse }, |_| ())
            .await
            .map_err(ApiError::engine)?;
        if !planned.ops.is_empty() {
            return Err(conflict(format!(
                "the kernel differs from the lab ({} steps to apply): apply it first, so that the drill's faults are all there is to find",
                planned.ops.len()
            )));
        }
        let candidates = candidate_faults(&lab, &request.kinds);
        if candidates.is_empty() {
            return Err(conflict("the lab has nothing to break of those kinds"));
        }
        let seed = request.seed.unwrap_or_else(fresh_seed);
        let wanted = request.faults as usize;
        let mut injected: Vec<Fault> = Vec::new();
        let mut refused = Vec::new();
        // Every candidate in the order of preference: a fault the kernel refuses (netem on
        // a kernel without it) gives way to the next, and its kind is not tried again.
        for fault in pick_faults(candidates, usize::MAX, seed) {
            if injected.len() == wanted {
                break;
            }
            if refused.iter().any(|(kind, _)| *kind == fault.kind) {
                continue;
            }
            match self.inject(&lab.name, &fault).await {
                Ok(()) => injected.push(fault),
                Err(why) => refused.push((fault.kind, format!("{}: {why}", fault.what))),
            }
        }
        let refused: Vec<String> = refused.into_iter().map(|(_, why)| why).collect();
        if injected.is_empty() {
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, refused.join("; ")));
        }
        for why in refused {
            tracing::warn!("drill fault left out: {why}");
        }
        Ok(injected)
    }

    /// Puts back what the faults changed that applying the lab would leave alone (an MTU
    /// the lab says nothing of), for the faults not fixed yet.
    async fn restore_unsaid(&self) -> Result<(), ApiError> {
        let _only_run = self.claim_run().ok_or(RunError::Busy)?;
        let _kernel = self.kernel_access.lock().await;
        let lab = self.store.lock().await.view().lab.name.clone();
        let unfixed: Vec<Fault> = self.drills.with(|current| {
            let drill = current.as_ref().expect("a drill runs");
            drill.faults.iter().zip(&drill.fixed).filter(|(_, fixed)| !**fixed).map(|(f, _)| f.clone()).collect()
        });
        for fault in unfixed {
            // Fixed by hand meanwhile (or its interface gone): the apply after sees to it.
            let _ = self.run_ops(&lab, &fault.restore).await;
        }
        Ok(())
    }

    async fn inject(&self, lab: &str, fault: &Fault) -> Result<(), String> {
        self.run_ops(lab, &fault.ops).await
    }

    async fn run_ops(&self, lab: &str, ops: &[Op]) -> Result<(), String> {
        let scope = RunScope::undoing(lab);
        for op in ops {
            self.engine.kernel().execute(op, &scope).await.map_err(|error| error.to_string())?;
        }
        Ok(())
    }
}

fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_nanos() as u64 ^ u64::from(std::process::id())
}
