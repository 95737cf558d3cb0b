//! The engine: validate -> observe -> plan -> execute -> verify, with undo on failure.
//! The CLI and the server both drive labs through it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::Either;
use futures::stream::{FuturesUnordered, StreamExt};
use nslab_model::api::{OpProgress, OpState};
use nslab_model::identity::Netns;
use nslab_model::journal::Journal;
use nslab_model::observed::Observed;
use nslab_model::ops::Op;
use nslab_model::plan::{destroy_ops, is_gone, lingering, plan, steps, Conflict, PlanOptions, Schedule, Settling};
use nslab_model::problem::has_errors;
use nslab_model::{validate_lab_name, validate_with, Lab, Limits, Problem};
use thiserror::Error;

use crate::journal;
use crate::kernel::observe::Reading;
use crate::kernel::users::{users_of, NamespaceUser};
use crate::kernel::vouch::{vouched, Vouched};
use crate::kernel::{Kernel, KernelError, RunScope};
use crate::privilege::missing_capabilities;
use crate::processes::{self, Process};
use crate::records;
use crate::run_lock::{RunLock, RunLockError};

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("the lab has errors")]
    Invalid(Vec<Problem>),
    #[error("the kernel holds things in the lab's way")]
    Conflicts(Vec<Conflict>),
    #[error("cannot read the kernel's state: {0}")]
    Observe(KernelError),
    #[error("{failed} failed: {}{}", .error.reason(), undo_note(.undone, .undo_errors))]
    /// `undone`: None when the run undoes nothing on failure (destroy).
    Failed { failed: String, error: KernelError, undone: Option<usize>, undo_errors: Vec<String> },
    #[error("after {doing}, the kernel still differs from the lab (a bug in nslab, or someone changing the lab meanwhile); left to do: {}", .left.join("; "))]
    NotConverged { doing: &'static str, left: Vec<String> },
    #[error("cannot record the applied lab: {0}")]
    Record(std::io::Error),
    #[error("{}", in_use(.0))]
    InUse(Vec<NamespaceUser>),
    #[error("another nslab run holds {path}: {holder}; nothing was changed: try again once it has ended")]
    Busy { path: String, holder: String },
    #[error("{}", interrupted(.signal, .undone, .undo_errors))]
    /// Stopped at a step boundary by a signal (see `Engine::stop_handle`); `undone` as in
    /// `Failed`.
    Interrupted { signal: &'static str, undone: Option<usize>, undo_errors: Vec<String> },
    #[error("cannot finish {interrupted}: {error}; nothing else was changed (`rm {}` forgets that run)", journal::journal_path().display())]
    /// Finishing a run that died (see `Engine::finish_interrupted`) failed.
    Unfinished { interrupted: String, error: String },
    #[error(
        "changing the kernel needs {}, which this nslab lacks: run it as root, or as an ordinary user inside nslab's sandbox (`nslab --sandbox ...`); nothing was changed",
        .0.join(" and ")
    )]
    Unprivileged(Vec<&'static str>),
}

/// Why namespaces in use are not deleted, each with what runs in it.
fn in_use(users: &[NamespaceUser]) -> String {
    let mut by_namespace: Vec<(&str, Vec<String>)> = Vec::new();
    for user in users {
        let process = format!("process {} (`{}`)", user.process.pid, user.command);
        match by_namespace.last_mut() {
            Some((namespace, processes)) if *namespace == user.namespace => processes.push(process),
            _ => by_namespace.push((&user.namespace, vec![process])),
        }
    }
    let each: Vec<String> = by_namespace
        .iter()
        .map(|(namespace, processes)| format!("namespace `{namespace}` is in use by {}", processes.join(", ")))
        .collect();
    format!(
        "{}: deleting a namespace only takes its name away while something runs in it, and the lab's \
         interfaces in it stay alive until that ends; end {} first (`ip netns pids NAME` lists them, \
         `--kill` on `nslab apply` or `nslab destroy` ends them); nothing was changed",
        each.join("; "),
        if users.len() == 1 { "it" } else { "them" }
    )
}

fn interrupted(signal: &str, undone: &Option<usize>, errors: &[String]) -> String {
    let after = match undone {
        Some(_) => undo_note(undone, errors),
        None => "; what it had not yet removed is still there: run destroy again to finish".to_string(),
    };
    format!("interrupted by {signal}: no step was started after it{after}")
}

fn undo_note(undone: &Option<usize>, errors: &[String]) -> String {
    let Some(undone) = undone else { return String::new() };
    match (undone, errors.is_empty()) {
        (_, false) => format!("; undoing what this apply created also failed: {}", errors.join("; ")),
        (0, true) => "; this apply had created nothing yet, so nothing needed undoing".to_string(),
        (1, true) => "; the one thing this apply had created was deleted again".to_string(),
        (n, true) => format!("; the {n} things this apply had created were deleted again"),
    }
}

/// Steps running at once, per lane (see `lane_of`): namespace work is done by the few
/// namespace worker threads, so more of it at once would only queue there; netlink
/// requests are serialised by the kernel anyway, and a few in flight hide round trips.
const LANE_BUDGETS: [usize; 2] = [4, 16];

/// Lane 0: steps that create a namespace or write its sysctls (on a namespace worker);
/// lane 1: the rest (netlink requests from the runtime).
fn lane_of(first: &Op) -> usize {
    match first {
        Op::CreateNamespace { .. } | Op::SetForwarding { .. } => 0,
        _ => 1,
    }
}

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Make the kernel hold the lab; with `adopt`, take over what stands in the lab's way
    /// unmarked (see `PlanOptions`).
    Apply { adopt: bool },
    /// Remove what the lab owns.
    Destroy,
}

/// What a run does about processes running in a namespace it deletes (see `kernel::users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InUse {
    /// Refuse the run, naming them.
    #[default]
    Refuse,
    /// End them first (`--kill`), then run.
    End,
}

impl InUse {
    /// `End` when the user asked to kill (`--kill`, `?kill=true`), else `Refuse`.
    pub fn ending_if(kill: bool) -> InUse {
        if kill {
            InUse::End
        } else {
            InUse::Refuse
        }
    }
}

/// What the CLI and the server ask of the engine: `plan_to_run` (or `plan_run` for a
/// plan alone), then `clear_the_way`, then `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRequest {
    pub work: Work,
    pub in_use: InUse,
}

/// Refuses a run with something to do when this process may not change the kernel.
fn refuse_unprivileged(planned: &Planned) -> Result<(), EngineError> {
    if planned.ops.is_empty() {
        return Ok(());
    }
    let missing = missing_capabilities();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Unprivileged(missing))
    }
}

/// Refuses a run that would delete a namespace some process still runs in.
fn refuse_in_use(planned: &Planned) -> Result<(), EngineError> {
    let users = planned.users();
    if users.is_empty() {
        Ok(())
    } else {
        Err(EngineError::InUse(users))
    }
}

/// How long `end_processes_in` waits for processes to end after each signal.
const ENDING_LIMIT: Duration = Duration::from_secs(1);

/// Ends the processes that run in the namespaces `planned` deletes (see `processes::end`),
/// in up to three rounds, for what they leave behind (a shell's child). Returns those that
/// ended; one this process may not signal stays, and the run is then refused.
async fn end_processes_in(planned: &Planned) -> Vec<NamespaceUser> {
    let mut ended = Vec::new();
    for _round in 0..3 {
        let users = planned.users();
        if users.is_empty() {
            break;
        }
        let targets: Vec<Process> = users.iter().map(|user| user.process).collect();
        let left =
            tokio::task::spawn_blocking(move || processes::end(&targets, ENDING_LIMIT)).await.unwrap_or_default();
        ended.extend(users.into_iter().filter(|user| !left.contains(&user.process)));
    }
    ended
}

/// How long destroy waits for the kernel to finish tearing namespaces down.
const TEARDOWN_LIMIT: Duration = Duration::from_secs(60);

/// A plan and the reading of the kernel it was made from.
#[derive(Debug, Clone)]
pub struct Planned {
    /// What it was planned for.
    pub request: RunRequest,
    pub ops: Vec<Op>,
    pub observed: Observed,
    /// The inodes of namespaces already looked at while planning (those a record vouched
    /// for), by name, so that the check for processes inside them need not look again.
    pub inodes: HashMap<String, u64>,
    /// A run that died before this one, finished before this one was planned.
    pub finished: Option<Finished>,
}

/// What finishing a run that died did (see `Engine::finish_interrupted`).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The run, in words (`an apply of lab `x` by process 12 that was killed`).
    pub interrupted: String,
    /// The commands that finished it.
    pub commands: Vec<String>,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.commands.len() {
            0 => write!(f, "{} left nothing half-done", self.interrupted),
            n => write!(
                f,
                "finished {} ({n} step{}: {})",
                self.interrupted,
                if n == 1 { "" } else { "s" },
                self.commands.join("; ")
            ),
        }
    }
}

impl Planned {
    /// The namespaces the run deletes.
    pub fn doomed_namespaces(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().filter_map(|op| match op {
            Op::DeleteNamespace { name } => Some(name.as_str()),
            _ => None,
        })
    }

    /// The processes running in the namespaces the run deletes.
    fn users(&self) -> Vec<NamespaceUser> {
        users_of(self.doomed_namespaces(), &self.inodes)
    }

    /// Whether the run would be refused (see `Engine::clear_the_way`), changing nothing: so
    /// that a person is asked only about a run that can go ahead.
    pub fn refusal(&self) -> Result<(), EngineError> {
        refuse_unprivileged(self)?;
        match self.request.in_use {
            InUse::Refuse => refuse_in_use(self),
            InUse::End => Ok(()),
        }
    }
}

/// A plan that may run: nothing it needs is in the way (see `Engine::clear_the_way`).
pub struct Cleared {
    planned: Planned,
    /// The processes ended to clear the way (`InUse::End`).
    pub ended: Vec<NamespaceUser>,
}

impl Cleared {
    pub fn planned(&self) -> &Planned {
        &self.planned
    }
}

/// A lab in which validation found no errors (see `Engine::check`). Planning takes one, so
/// that nothing is planned for an invalid lab and a lab is validated once.
struct Checked<'l> {
    lab: &'l Lab,
    /// What validation found short of errors, for the caller to show.
    warnings: Vec<Problem>,
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
    stop: StopHandle,
}

/// Asks a run to stop at the next step boundary (a person's Ctrl+C, a service stopping):
/// no step starts after it, the steps under way finish, and an apply then undoes what it
/// created, as a failed one does.
#[derive(Clone, Default)]
pub struct StopHandle(std::sync::Arc<std::sync::OnceLock<&'static str>>);

impl StopHandle {
    /// Stops the run, naming why (`SIGINT`).
    pub fn stop(&self, why: &'static str) {
        let _ = self.0.set(why);
    }

    fn requested(&self) -> Option<&'static str> {
        self.0.get().copied()
    }
}

impl Engine {
    /// Must be called inside a tokio runtime.
    pub fn new(limits: Limits) -> Self {
        Engine { kernel: Kernel::new(), limits, stop: StopHandle::default() }
    }

    /// An engine for a process with other threads (the server): see `Kernel::keeping_deleted`.
    pub fn keeping_deleted(self) -> Self {
        Engine { kernel: self.kernel.keeping_deleted(), ..self }
    }

    /// What stops this engine's runs at a step boundary.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub async fn observe(&self) -> Result<Observed, EngineError> {
        self.kernel.observe().await.map_err(EngineError::Observe)
    }

    /// `observe`, and inside the namespaces also what a lab cannot say (see `scan`).
    pub async fn observe_for_scan(&self) -> Result<Observed, EngineError> {
        self.kernel.observe_for_scan().await.map_err(EngineError::Observe)
    }

    /// Validates `lab` for `work`: an apply needs a lab without errors, a destroy only a
    /// name apply would take (a lab file broken since its apply still destroys its lab,
    /// but the name picks its record's files under `/run/nslab`: `../x` must not reach
    /// out). The warnings, or all the problems when there are errors.
    fn check<'l>(&self, lab: &'l Lab, work: Work) -> Result<Checked<'l>, EngineError> {
        let problems = match work {
            Work::Apply { .. } => validate_with(lab, &self.limits),
            Work::Destroy => validate_lab_name(lab),
        };
        if has_errors(&problems) {
            return Err(EngineError::Invalid(problems));
        }
        Ok(Checked { lab, warnings: problems })
    }

    /// The plan of `request` for `lab`; nothing is changed. The lab is validated first,
    /// and its warnings handed to `warn` before the kernel is read.
    pub async fn plan_run(
        &self,
        lab: &Lab,
        request: RunRequest,
        warn: impl FnOnce(&[Problem]),
    ) -> Result<Planned, EngineError> {
        let checked = self.check(lab, request.work)?;
        warn(&checked.warnings);
        self.plan_checked(&checked, request).await
    }

    /// `plan_run` for a run that is to follow: between validating the lab and reading the
    /// kernel it takes the machine's run lock (see `run_lock.rs`), for the caller to hold
    /// until the run has ended. A lab with errors takes no lock.
    pub async fn plan_to_run(
        &self,
        lab: &Lab,
        request: RunRequest,
        warn: impl FnOnce(&[Problem]),
    ) -> Result<(RunLock, Planned), EngineError> {
        let checked = self.check(lab, request.work)?;
        warn(&checked.warnings);
        let lock = RunLock::take().await.map_err(|error| match error {
            RunLockError::Busy { path, holder } => EngineError::Busy { path, holder },
            RunLockError::Io(error) => EngineError::Record(error),
        })?;
        let finished = self.finish_interrupted().await?;
        let planned = self.plan_checked(&checked, request).await?;
        Ok((lock, Planned { finished, ..planned }))
    }

    /// Finishes the run that died before, if one did (see `nslab_model::journal`): marks
    /// what it created as its lab's and removes the empty namespace files it left, then
    /// forgets its journal. Only for the holder of the run lock (its journal is then that
    /// of a dead run).
    async fn finish_interrupted(&self) -> Result<Option<Finished>, EngineError> {
        let journal = match journal::interrupted() {
            None => return Ok(None),
            Some(Ok(journal)) => journal,
            Some(Err(unreadable)) => {
                journal::remove().map_err(EngineError::Record)?;
                let interrupted = format!("a run whose journal was unreadable ({unreadable}; removed)");
                return Ok(Some(Finished { interrupted, commands: Vec::new() }));
            }
        };
        let interrupted = journal.describe();
        let unfinished = |error: String| EngineError::Unfinished { interrupted: interrupted.clone(), error };
        let observed = self.kernel.observe().await.map_err(|error| unfinished(error.to_string()))?;
        let ops = journal.recovery(&observed);
        for op in &ops {
            match self.kernel.execute(op, &RunScope::undoing(&journal.lab)).await {
                Ok(()) => {}
                // Gone meanwhile: nothing of it is left to finish.
                Err(KernelError::NoNamespace { stray: false, .. }) => {}
                Err(error) if already_gone(std::slice::from_ref(op), &error) => {}
                Err(error) => return Err(unfinished(format!("`{}` failed: {}", op.ip_command(), error.reason()))),
            }
        }
        journal::remove().map_err(EngineError::Record)?;
        Ok(Some(Finished { interrupted, commands: ops.iter().map(Op::ip_command).collect() }))
    }

    /// `finish_interrupted` at a server's start, when no run holds the lock (one that does
    /// finishes it itself); None when there was nothing to finish.
    pub async fn finish_interrupted_if_idle(&self) -> Result<Option<Finished>, EngineError> {
        match RunLock::try_take().await {
            Ok(_lock) => self.finish_interrupted().await,
            Err(_) => Ok(None),
        }
    }

    async fn plan_checked(&self, checked: &Checked<'_>, request: RunRequest) -> Result<Planned, EngineError> {
        match request.work {
            Work::Apply { adopt } => self.plan_apply(checked, request, &PlanOptions { adopt }).await,
            Work::Destroy => self.plan_destroy(checked.lab, request).await,
        }
    }

    /// The ops that would make the kernel hold the lab.
    async fn plan_apply(
        &self,
        checked: &Checked<'_>,
        request: RunRequest,
        options: &PlanOptions,
    ) -> Result<Planned, EngineError> {
        let observed = self.observe().await?;
        let ops = plan(checked.lab, &observed, options).map_err(EngineError::Conflicts)?;
        Ok(Planned { request, ops, observed, inodes: HashMap::new(), finished: None })
    }

    /// Makes way for a run that cannot be carried out whole otherwise, or refuses it before
    /// it changes anything. The one place that decides: this process must be allowed to
    /// change the kernel (see `privilege.rs`), and no process may run in a namespace the
    /// run deletes (see `kernel::users`): with `InUse::End` they are ended first, otherwise
    /// the run is refused, naming them.
    pub async fn clear_the_way(&self, planned: Planned) -> Result<Cleared, EngineError> {
        refuse_unprivileged(&planned)?;
        let ended = match planned.request.in_use {
            InUse::End => end_processes_in(&planned).await,
            InUse::Refuse => Vec::new(),
        };
        refuse_in_use(&planned)?;
        Ok(Cleared { planned, ended })
    }

    /// Carries out a cleared plan of `lab`: applies or destroys it, as it was planned.
    pub async fn run(
        &self,
        lab: &Lab,
        cleared: &Cleared,
        progress: &mut (dyn FnMut(OpProgress) + Send),
    ) -> Result<Report, EngineError> {
        let planned = &cleared.planned;
        let (work, apply) = match planned.request.work {
            Work::Apply { .. } => ("apply", true),
            Work::Destroy => ("destroy", false),
        };
        let journal = Journal::of_run(&lab.name, work, std::process::id(), &planned.ops);
        if let Some(journal) = &journal {
            journal::write(journal).map_err(EngineError::Record)?;
        }
        let result =
            if apply { self.apply(lab, planned, progress).await } else { self.destroy(lab, planned, progress).await };
        if journal.is_some() && !leaves_unmarked(&result) {
            journal::remove().map_err(EngineError::Record)?;
        }
        result
    }

    /// Runs a plan of `lab`, then checks that the kernel now holds the lab and records it
    /// as applied. On failure, what this apply created is deleted again. The check reads
    /// again only the namespaces the plan could change (see `plan::touched`) and takes the
    /// rest as the plan saw it: a one-link edit of a big lab re-reads two namespaces. Each
    /// is read as soon as no step left can change it, while the run goes on (see
    /// `plan::Settling`). A star's namespaces are so read before its bridge comes up and
    /// floods every port with every namespace's IPv6 start-up, which starves whatever runs
    /// after it of CPU: with 1000 namespaces, reading them all after the run took 220-290
    /// ms (75 ms on a quiet kernel); now only the host is read then (50-65 ms).
    async fn apply(
        &self,
        lab: &Lab,
        planned: &Planned,
        progress: &mut (dyn FnMut(OpProgress) + Send),
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        let ops = &planned.ops;
        // A run that did not fail finished every step, so it settled (and read, or tried to
        // read) every namespace it touched: only those whose reading failed are left.
        let early = self.execute(lab, planned, progress).await?;
        let now = self
            .kernel
            .observe_again(&planned.observed, early.readings, &early.unread)
            .await
            .map_err(EngineError::Observe)?;
        let left = plan(lab, &now, &PlanOptions::default()).map_err(EngineError::Conflicts)?;
        if !left.is_empty() {
            return Err(EngineError::NotConverged {
                doing: "applying",
                left: left.iter().map(Op::ip_command).collect(),
            });
        }
        let mounts = self.kernel.namespace_mounts(lab.namespace_names());
        records::record(lab, &mounts).map_err(EngineError::Record)?;
        Ok(Report { ops: ops.len(), elapsed: started.elapsed() })
    }

    /// The ops that remove what `lab` owns. Its namespaces still bound by the mounts
    /// recorded at its last apply are known to be its own without reading them.
    async fn plan_destroy(&self, lab: &Lab, request: RunRequest) -> Result<Planned, EngineError> {
        let vouched = vouched(&lab.name, &records::recorded_mounts(&lab.name));
        let observed = self.kernel.observe_marks(&vouched).await.map_err(EngineError::Observe)?;
        let ops = destroy_ops(lab, &observed);
        Ok(Planned { request, ops, observed, inodes: vouched.inodes, finished: None })
    }

    /// Removes what `lab` owns (the ops of `plan_destroy`) and returns when it is gone.
    async fn destroy(
        &self,
        lab: &Lab,
        planned: &Planned,
        progress: &mut (dyn FnMut(OpProgress) + Send),
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        self.execute(lab, planned, progress).await?;
        if !lingering(lab, &planned.observed).is_empty() {
            self.wait_until_gone(lab).await?;
        }
        records::forget(&lab.name).map_err(EngineError::Record)?;
        Ok(Report { ops: planned.ops.len(), elapsed: started.elapsed() })
    }

    /// The kernel tears namespaces down in the background, and veth ends outside them go
    /// with them (see `lingering`): wait (bounded) until nothing of the lab is left, so that
    /// its names are free again when destroy returns. Without such ends there is nothing
    /// to wait for: the ops returned when the namespaces' names were free, and reading the
    /// kernel now would queue behind the teardown for the RTNL lock (a chain of 1000
    /// namespaces: 80 ms to return, or 420 when that read waited).
    async fn wait_until_gone(&self, lab: &Lab) -> Result<(), EngineError> {
        let deadline = Instant::now() + TEARDOWN_LIMIT;
        loop {
            let observed = self.kernel.observe_marks(&Vouched::default()).await.map_err(EngineError::Observe)?;
            if is_gone(lab, &observed) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let left = destroy_ops(lab, &observed).iter().map(Op::ip_command).collect();
                return Err(EngineError::NotConverged { doing: "destroying", left });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Executes ops as steps (see `plan::steps`): independent namespaces side by side, at
    /// most `LANE_BUDGETS` steps of each lane at once. Progress events come in plan order.
    /// On a failure no new step starts; an apply then deletes what it created (newest
    /// first). An apply also reads each namespace it changes as soon as it is settled (see
    /// `apply`), for its check.
    async fn execute(
        &self,
        lab: &Lab,
        planned: &Planned,
        progress: &mut (dyn FnMut(OpProgress) + Send),
    ) -> Result<EarlyReadings, EngineError> {
        let ops = &planned.ops;
        let applying = matches!(planned.request.work, Work::Apply { .. });
        let verify = applying.then_some(&planned.observed);
        // What a caller handed over to be kept (see `Kernel::keep_until_run_ends`) is let go
        // of when the run ends, however it ends.
        let _deleted = self.kernel.releasing_deleted();
        let scope = RunScope::new(&lab.name, ops);
        let scope = &scope;
        let steps = steps(ops);
        let mut schedule = Schedule::new(&steps, |step| lane_of(&ops[step.ops.start]), &LANE_BUDGETS);
        let mut settling = verify.map(|observed| Settling::new(&steps, ops, observed));
        let mut early = EarlyReadings::default();
        let mut reporter = Reporter::new(ops);
        let mut running = FuturesUnordered::new();
        let mut failure: Option<(usize, KernelError)> = None;
        let mut stopped_by: Option<&'static str> = None;
        loop {
            if stopped_by.is_none() {
                stopped_by = self.stop.requested();
            }
            while failure.is_none() && stopped_by.is_none() {
                let Some(index) = schedule.start_next() else { break };
                let slice = &ops[steps[index].ops.clone()];
                running
                    .push(Either::Left(async move { Done::Step(index, self.kernel.execute_step(slice, scope).await) }));
            }
            let Some(finished) = running.next().await else { break };
            let (index, result) = match finished {
                Done::Step(index, Err(error)) if already_gone(&ops[steps[index].ops.clone()], &error) => {
                    (index, Ok(()))
                }
                Done::Step(index, result) => (index, result),
                Done::Read(netns, result) => {
                    early.keep(netns, result);
                    continue;
                }
            };
            match result {
                Ok(()) => {
                    schedule.finished(index);
                    reporter.done(steps[index].ops.clone(), progress);
                    let settled = settling.as_mut().map(|settling| settling.finished(index)).unwrap_or_default();
                    if failure.is_none() {
                        for netns in settled {
                            running.push(Either::Right(async move {
                                let reading = self.kernel.read_again(std::slice::from_ref(&netns)).await;
                                Done::Read(netns, reading)
                            }));
                        }
                    }
                }
                Err(error) => {
                    schedule.failed(index);
                    let at = steps[index].ops.start;
                    if failure.as_ref().is_none_or(|(first, _)| at < *first) {
                        failure = Some((at, error));
                    }
                }
            }
        }
        if let Some(failure) = failure {
            return Err(self.report_failure(lab, ops, failure, reporter, progress, planned.request.work).await);
        }
        match stopped_by {
            // Stopped, but every step had finished already: the run is whole.
            Some(signal) if !reporter.all_done() => {
                let (undone, undo_errors) =
                    self.undo_if_applying(lab, ops, &reporter, progress, planned.request.work).await;
                Err(EngineError::Interrupted { signal, undone, undo_errors })
            }
            _ => Ok(early),
        }
    }

    /// Reports the run's failure at op `at`; an apply then deletes what it created.
    async fn report_failure(
        &self,
        lab: &Lab,
        ops: &[Op],
        (at, error): (usize, KernelError),
        mut reporter: Reporter<'_>,
        progress: &mut (dyn FnMut(OpProgress) + Send),
        work: Work,
    ) -> EngineError {
        reporter.failed(at, &error, progress);
        let (undone, undo_errors) = self.undo_if_applying(lab, ops, &reporter, progress, work).await;
        EngineError::Failed { failed: format!("`{}`", ops[at].ip_command()), error, undone, undo_errors }
    }

    /// After a run ended early: an apply deletes what it created (how many, and what could
    /// not be); a destroy undoes nothing (None).
    async fn undo_if_applying(
        &self,
        lab: &Lab,
        ops: &[Op],
        reporter: &Reporter<'_>,
        progress: &mut (dyn FnMut(OpProgress) + Send),
        work: Work,
    ) -> (Option<usize>, Vec<String>) {
        if !matches!(work, Work::Apply { .. }) {
            return (None, Vec::new());
        }
        let created: Vec<(usize, Op)> = (0..ops.len())
            .filter(|&index| reporter.is_done(index))
            .filter_map(|index| Some((index, inverse_of_creation(&ops[index])?)))
            .collect();
        let (undone, errors) = self.undo(lab, &created, progress, ops.len()).await;
        (Some(undone), errors)
    }

    async fn undo(
        &self,
        lab: &Lab,
        created: &[(usize, Op)],
        progress: &mut (dyn FnMut(OpProgress) + Send),
        total: usize,
    ) -> (usize, Vec<String>) {
        let mut errors = Vec::new();
        let mut undone = 0;
        // Interfaces before namespaces; a veth once (deleting one end deletes both).
        let order = created.iter().rev().filter(|(_, op)| matches!(op, Op::DeleteLink { .. }));
        let namespaces = created.iter().rev().filter(|(_, op)| matches!(op, Op::DeleteNamespace { .. }));
        for (index, inverse) in order.chain(namespaces) {
            match self.kernel.execute(inverse, &RunScope::undoing(&lab.name)).await {
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
                Err(error) if already_gone(std::slice::from_ref(inverse), &error) => undone += 1,
                Err(error) => errors.push(format!("`{}`: {error}", inverse.ip_command())),
            }
        }
        (undone, errors)
    }
}

/// A note for a person when a run died and left its journal: the next run holding the
/// run lock finishes it (see `Engine::finish_interrupted`). None when there is none, or
/// when a run holds the lock (the journal is then that live run's).
pub fn interrupted_run_note() -> Option<String> {
    let journal = journal::interrupted()?;
    if crate::run_lock::is_held() {
        return None;
    }
    let run = match journal {
        Ok(journal) => journal.describe(),
        Err(unreadable) => unreadable,
    };
    Some(format!("{run} left its journal: the next apply or destroy finishes it"))
}

/// Whether a run that ended so may have left what it created unmarked: its undo failed.
/// Its journal then stays, for the next run to finish it.
fn leaves_unmarked(result: &Result<Report, EngineError>) -> bool {
    match result {
        Err(EngineError::Failed { undo_errors, .. } | EngineError::Interrupted { undo_errors, .. }) => {
            !undo_errors.is_empty()
        }
        _ => false,
    }
}

/// What finished of a run: a step, or the reading of a namespace it settled.
enum Done {
    Step(usize, Result<(), KernelError>),
    Read(Netns, Result<Reading, KernelError>),
}

/// The namespaces a run read for verify while it went on.
#[derive(Default)]
struct EarlyReadings {
    readings: Vec<Reading>,
    /// Those whose reading failed (a namespace the run deleted): left to the end.
    unread: Vec<Netns>,
}

impl EarlyReadings {
    fn keep(&mut self, netns: Netns, result: Result<Reading, KernelError>) {
        match result {
            Ok(reading) => self.readings.push(reading),
            Err(_) => self.unread.push(netns),
        }
    }
}

/// Progress events in plan order, although steps finish in any order.
struct Reporter<'o> {
    ops: &'o [Op],
    done: Vec<bool>,
    next: usize,
}

impl<'o> Reporter<'o> {
    fn new(ops: &'o [Op]) -> Self {
        Reporter { ops, done: vec![false; ops.len()], next: 0 }
    }

    /// Whether op `index` is done (its step finished), reported yet or not.
    fn is_done(&self, index: usize) -> bool {
        self.done[index]
    }

    fn all_done(&self) -> bool {
        self.done.iter().all(|done| *done)
    }

    fn event(&self, index: usize, state: OpState, error: Option<String>) -> OpProgress {
        OpProgress { index, total: self.ops.len(), command: self.ops[index].ip_command(), state, error }
    }

    fn done(&mut self, finished: std::ops::Range<usize>, progress: &mut (dyn FnMut(OpProgress) + Send)) {
        for index in finished {
            self.done[index] = true;
        }
        // One event per op: a started event after the fact would only double the traffic
        // to every watching browser.
        while self.next < self.ops.len() && self.done[self.next] {
            progress(self.event(self.next, OpState::Done, None));
            self.next += 1;
        }
    }

    /// Reports the failed op; ops after it that did finish are reported done first.
    fn failed(&mut self, at: usize, error: &KernelError, progress: &mut (dyn FnMut(OpProgress) + Send)) {
        for index in self.next..self.ops.len() {
            if index == at {
                progress(self.event(index, OpState::Failed, Some(error.to_string())));
            } else if self.done[index] {
                progress(self.event(index, OpState::Done, None));
            }
        }
        self.next = self.ops.len();
    }
}

/// Whether a step failed only because what it deletes is gone already, which is as good as
/// deleted: an interface that went with its veth peer's namespace between the reading and
/// the deletion (the kernel tears a namespace down in the background, after a destroy that
/// was cut short too), or one an undo deletes after its peer.
fn already_gone(step: &[Op], error: &KernelError) -> bool {
    let gone =
        matches!(error, KernelError::NoSuchLink { .. }) || error.errno() == Some(nix::errno::Errno::ENODEV as i32);
    gone && matches!(step, [Op::DeleteLink { .. }])
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

#[cfg(test)]
mod tests {
    use super::*;
    use nslab_model::identity::{LinkRef, Netns};

    #[test]
    fn deleting_an_interface_that_is_gone_is_done_and_nothing_else_is() {
        let delete = [Op::DeleteLink { link: LinkRef::new(Netns::Host, "veth0") }];
        let no_such = KernelError::NoSuchLink { netns: Netns::Host, name: "veth0".into() };
        let enodev =
            KernelError::Refused { what: "`ip link delete veth0`".into(), errno: nix::errno::Errno::ENODEV as i32 };
        let eperm =
            KernelError::Refused { what: "`ip link delete veth0`".into(), errno: nix::errno::Errno::EPERM as i32 };
        assert!(already_gone(&delete, &no_such));
        assert!(already_gone(&delete, &enodev));
        assert!(!already_gone(&delete, &eperm), "only its absence counts");
        let create = [Op::CreateBridge { link: LinkRef::new(Netns::Host, "br0") }];
        assert!(!already_gone(&create, &enodev), "only a deletion is done by absence");
        assert!(!already_gone(&[delete[0].clone(), create[0].clone()], &no_such), "a step of one deletion only");
    }

    #[test]
    fn a_failed_destroy_says_nothing_of_undoing_and_a_failed_apply_does() {
        let failed = |undone| EngineError::Failed {
            failed: "`ip link delete veth0`".into(),
            error: KernelError::NoSuchLink { netns: Netns::Host, name: "veth0".into() },
            undone,
            undo_errors: Vec::new(),
        };
        let destroy = failed(None).to_string();
        assert!(destroy.starts_with("`ip link delete veth0` failed: ") && !destroy.contains("apply"), "{destroy}");
        assert!(failed(Some(0)).to_string().ends_with("this apply had created nothing yet, so nothing needed undoing"));
        assert!(failed(Some(2)).to_string().ends_with("the 2 things this apply had created were deleted again"));
    }
}
