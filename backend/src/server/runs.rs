//! Applying and destroying the lab being edited: one run at a time, every op's progress on
//! the event stream, and what the server itself holds in a doomed namespace (pings, link
//! watches) let go before the run deletes it.

use std::sync::atomic::{AtomicBool, Ordering};

use nslab_model::api::{Event, PlanView, PlannedOp, ProgressEvent, RunFinishedEvent, RunKind, RunReport};
use nslab_model::identity::Netns;
use thiserror::Error;

use super::{live, pings, AppState};
use crate::engine::{interrupted_run_note, EngineError, RunRequest, Work};

#[derive(Debug, Error)]
pub enum RunError {
    #[error("an apply or destroy is already running; wait for it")]
    Busy,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl AppState {
    /// The plan of applying the lab being edited. Its warnings are in the lab's view.
    pub async fn plan_apply(&self, request: RunRequest) -> Result<PlanView, EngineError> {
        let view = self.store.lock().await.view().clone();
        let planned = self.engine.plan_run(&view.lab, request, |_warnings| ()).await?;
        let mut notes = planned.observed.stray_notes();
        notes.extend(interrupted_run_note());
        // The plan preview: what the edit starts or stops reaching, since the last apply.
        let reach_changes = crate::records::recorded_lab(&view.lab.name, &self.limits)
            .map(|applied| nslab_model::reach::reach_changes(&applied, &view.lab));
        let ops = planned.ops.iter().map(PlannedOp::from).collect();
        Ok(PlanView { revision: view.revision, ops, notes, reach_changes })
    }

    /// Runs `request` on the lab being edited, unless another run goes on.
    pub async fn run(&self, request: RunRequest) -> Result<RunReport, RunError> {
        let Some(_only_run) = RunningGuard::claim(&self.running) else { return Err(RunError::Busy) };
        // A drift reading may hold the kernel for a moment: wait for it, do not fail.
        let _kernel = self.kernel_access.lock().await;
        let view = self.store.lock().await.view().clone();
        // And no run of another nslab on this machine either (see `run_lock.rs`).
        let (_one_run, planned) = self.engine.plan_to_run(&view.lab, request, |_warnings| ()).await?;
        if let Some(finished) = &planned.finished {
            tracing::info!("{finished}");
        }
        let cleared = self.engine.clear_the_way(planned).await?;
        let doomed: Vec<Netns> =
            cleared.planned().doomed_namespaces().map(|name| Netns::Named(name.to_string())).collect();
        pings::release(self, &doomed).await;
        live::release(self, &doomed).await;
        self.captures.release(&doomed);
        let kind = match request.work {
            Work::Apply { .. } => RunKind::Apply,
            Work::Destroy => RunKind::Destroy,
        };
        let bus = self.bus.clone();
        let mut progress = |progress| bus.send(&Event::Progress(ProgressEvent { run: kind, progress }));
        let result = self.engine.run(&view.lab, &cleared, &mut progress).await;
        let (ok, message) = match &result {
            Ok(report) => {
                let steps = if report.ops == 1 { "step" } else { "steps" };
                (true, format!("{} {steps} in {:.0?}", report.ops, report.elapsed))
            }
            Err(error) => (false, error.to_string()),
        };
        self.bus.send(&Event::RunFinished(RunFinishedEvent { run: kind, ok, message }));
        self.kernel_changed.notify_one();
        let report = result?;
        Ok(RunReport {
            run: kind,
            revision: view.revision,
            ops: report.ops,
            elapsed_ms: report.elapsed.as_secs_f64() * 1e3,
            ended: cleared.ended.iter().map(ToString::to_string).collect(),
        })
    }
}

impl AppState {
    /// Marks a run as going on, for other work that changes the kernel (a drill's faults):
    /// None while an apply or destroy runs.
    pub(super) fn claim_run(&self) -> Option<RunningGuard<'_>> {
        RunningGuard::claim(&self.running)
    }
}

/// Marks a run as going on, until dropped.
pub(super) struct RunningGuard<'a>(&'a AtomicBool);

impl<'a> RunningGuard<'a> {
    fn claim(flag: &'a AtomicBool) -> Option<Self> {
        // No guard is made for a refused claim: dropping it would clear the flag of the run
        // that holds it (as `then_some(RunningGuard(flag))` once did, letting a third
        // request start a second run).
        if flag.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(RunningGuard(flag))
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_claim_leaves_the_running_run_claimed() {
        let running = AtomicBool::new(false);
        let first = RunningGuard::claim(&running).expect("nothing runs yet");
        assert!(RunningGuard::claim(&running).is_none());
        assert!(RunningGuard::claim(&running).is_none(), "the refusal before did not free it");
        drop(first);
        assert!(RunningGuard::claim(&running).is_some(), "free once the run ended");
    }
}
