//! The engine: validate -> observe -> plan -> execute -> verify, with undo on failure.
//! The CLI and the server both drive labs through it.

use std::time::{Duration, Instant};

use nslab_model::api::{OpProgress, OpState};
use nslab_model::observed::Observed;
use nslab_model::ops::Op;
use nslab_model::plan::{destroy_ops, plan, Conflict, PlanOptions};
use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Lab, Limits, Problem};
use thiserror::Error;

use crate::kernel::{Kernel, KernelError};
use crate::state;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("the lab has errors")]
    Invalid(Vec<Problem>),
    #[error("the kernel holds things in the lab's way")]
    Conflicts(Vec<Conflict>),
    #[error("cannot read the kernel's state: {0}")]
    Observe(KernelError),
    #[error("{failed} failed: {error}{}", undo_note(.undone, .undo_errors))]
    Failed { failed: String, error: KernelError, undone: usize, undo_errors: Vec<String> },
    #[error("after applying, the kernel still differs from the lab (a bug in nslab); left to do: {}", .0.join("; "))]
    NotConverged(Vec<String>),
    #[error("cannot record the applied lab: {0}")]
    State(std::io::Error),
}

fn undo_note(undone: &usize, errors: &[String]) -> String {
    match (undone, errors.is_empty()) {
        (_, false) => format!("; undoing what this apply created also failed: {}", errors.join("; ")),
        (0, true) => "; this apply had created nothing yet, so nothing needed undoing".to_string(),
        (1, true) => "; the one thing this apply had created was deleted again".to_string(),
        (n, true) => format!("; the {n} things this apply had created were deleted again"),
    }
}

/// What an apply or destroy did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub ops: usize,
    pub elapsed: Duration,
}

pub struct Engine {
    kernel: Kernel,
    limits: Limits,
}

impl Engine {
    /// Must be called inside a tokio runtime.
    pub fn new(limits: Limits) -> Self {
        Engine { kernel: Kernel::new(), limits }
    }

    pub async fn observe(&self) -> Result<Observed, EngineError> {
        self.kernel.observe().await.map_err(EngineError::Observe)
    }

    /// The ops that would make the kernel hold `lab`. Nothing is changed.
    pub async fn plan(&self, lab: &Lab, options: &PlanOptions) -> Result<Vec<Op>, EngineError> {
        let problems = validate_with(lab, &self.limits);
        if has_errors(&problems) {
            return Err(EngineError::Invalid(problems));
        }
        let observed = self.observe().await?;
        plan(lab, &observed, options).map_err(EngineError::Conflicts)
    }

    /// Runs `ops` (a plan of `lab`), then checks that the kernel now holds the lab and
    /// records it as applied. On failure, what this apply created is deleted again.
    pub async fn apply(
        &self,
        lab: &Lab,
        ops: &[Op],
        progress: &mut dyn FnMut(OpProgress),
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        self.run(lab, ops, progress, true).await?;
        let left = self.plan(lab, &PlanOptions::default()).await?;
        if !left.is_empty() {
            return Err(EngineError::NotConverged(left.iter().map(Op::ip_command).collect()));
        }
        state::record(lab).map_err(EngineError::State)?;
        Ok(Report { ops: ops.len(), elapsed: started.elapsed() })
    }

    /// The ops that remove what `lab` owns.
    pub async fn destroy_plan(&self, lab: &Lab) -> Result<Vec<Op>, EngineError> {
        Ok(destroy_ops(lab, &self.observe().await?))
    }

    /// Removes what `lab` owns and returns when it is gone.
    pub async fn destroy(
        &self,
        lab: &Lab,
        ops: &[Op],
        progress: &mut dyn FnMut(OpProgress),
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        self.run(lab, ops, progress, false).await?;
        let left = self.destroy_plan(lab).await?;
        if !left.is_empty() {
            return Err(EngineError::NotConverged(left.iter().map(Op::ip_command).collect()));
        }
        state::forget(&lab.name).map_err(EngineError::State)?;
        Ok(Report { ops: ops.len(), elapsed: started.elapsed() })
    }

    /// Executes ops in order, one progress event per state change. With `undo`, a failure
    /// deletes what the run created before it (newest first).
    async fn run(
        &self,
        lab: &Lab,
        ops: &[Op],
        progress: &mut dyn FnMut(OpProgress),
        undo: bool,
    ) -> Result<(), EngineError> {
        let total = ops.len();
        let event = |index: usize, op: &Op, state: OpState, error: Option<String>| OpProgress {
            index,
            total,
            command: op.ip_command(),
            state,
            error,
        };
        let mut created: Vec<(usize, Op)> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            progress(event(index, op, OpState::Started, None));
            if let Err(error) = self.kernel.execute(op, &lab.name).await {
                progress(event(index, op, OpState::Failed, Some(error.to_string())));
                let (undone, undo_errors) =
                    if undo { self.undo(lab, &created, progress, total).await } else { (0, Vec::new()) };
                return Err(EngineError::Failed {
                    failed: format!("`{}`", op.ip_command()),
                    error,
                    undone,
                    undo_errors,
                });
            }
            progress(event(index, op, OpState::Done, None));
            if let Some(inverse) = inverse_of_creation(op) {
                created.push((index, inverse));
            }
        }
        Ok(())
    }

    async fn undo(
        &self,
        lab: &Lab,
        created: &[(usize, Op)],
        progress: &mut dyn FnMut(OpProgress),
        total: usize,
    ) -> (usize, Vec<String>) {
        let mut errors = Vec::new();
        let mut undone = 0;
        // Interfaces before namespaces; a veth once (deleting one end deletes both).
        let order = created.iter().rev().filter(|(_, op)| matches!(op, Op::DeleteLink { .. }));
        let namespaces = created.iter().rev().filter(|(_, op)| matches!(op, Op::DeleteNamespace { .. }));
        for (index, inverse) in order.chain(namespaces) {
            match self.kernel.execute(inverse, &lab.name).await {
                Ok(()) => {
                    undone += 1;
                    progress(OpProgress {
                        index: *index,
                        total,
                        command: inverse.ip_command(),
                        state: OpState::Undone,
                        error: None,
                    });
                }
                // Gone already (its namespace or its peer went first): as good as undone.
                Err(error) if error.errno() == Some(nix::errno::Errno::ENODEV as i32) => undone += 1,
                Err(KernelError::NoSuchLink { .. }) => undone += 1,
                Err(error) => errors.push(format!("`{}`: {error}", inverse.ip_command())),
            }
        }
        (undone, errors)
    }
}

/// The op that removes what `op` created, for undo. Links inside a namespace the same run
/// created go with the namespace; deleting them first just makes it immediate.
fn inverse_of_creation(op: &Op) -> Option<Op> {
    match op {
        Op::CreateNamespace { name } => Some(Op::DeleteNamespace { name: name.clone() }),
        Op::CreateBridge { link } | Op::CreateVeth { a: link, .. } => Some(Op::DeleteLink { link: link.clone() }),
        _ => None,
    }
}
