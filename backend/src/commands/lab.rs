//! `nslab plan`, `apply`, `destroy`, `scan`: labs on the kernel, through the engine.

use std::path::{Path, PathBuf};

use nslab_model::ops::Op;
use nslab_model::{validate_lab_name, validate_with, Lab, Limits};

use super::{
    print_kernel_notes, print_problems, read_lab_file, refuse_invalid, runtime, CliError, CliResult, EXIT_CHANGES,
};
use crate::engine::{Engine, EngineError, InUse, Planned, Report, RunRequest, StopHandle, Work};
use crate::records;
use crate::stop_signals::StopSignals;
use crate::terminal::{ask, Answer, Progress};

pub struct PlanArgs<'a> {
    pub file: &'a Path,
    pub adopt: bool,
    pub limits: Limits,
}

impl PlanArgs<'_> {
    fn request(&self, in_use: InUse) -> RunRequest {
        RunRequest { work: Work::Apply { adopt: self.adopt }, in_use }
    }
}

/// How `nslab plan` answers.
#[derive(Clone, Copy)]
pub struct PlanOutput {
    /// Exit with `EXIT_CHANGES` when there is something to do.
    pub exit_code: bool,
    /// The ops as JSON instead of `ip` commands.
    pub json: bool,
}

pub fn plan(args: PlanArgs, output: PlanOutput) -> CliResult {
    let lab = read_lab_file(args.file, &args.limits)?;
    runtime().block_on(async {
        let engine = Engine::new(args.limits);
        let planned = checked_plan(&engine, &lab, args.file, args.request(InUse::Refuse)).await?;
        print_kernel_notes(&planned.observed);
        let ops = planned.ops;
        if output.json {
            println!("{}", serde_json::to_string_pretty(&ops).expect("ops serialise"));
        } else {
            print_plan(&lab, &ops);
        }
        if output.exit_code && !ops.is_empty() {
            return Err(CliError::said(EXIT_CHANGES));
        }
        Ok(())
    })
}

pub fn apply(args: PlanArgs, options: RunOptions) -> CliResult {
    let lab = read_lab_file(args.file, &args.limits)?;
    runtime().block_on(async {
        let engine = Engine::new(args.limits);
        let warn = |warnings: &[_]| print_problems(args.file, warnings);
        let (_one_run, planned) = engine
            .plan_to_run(&lab, args.request(options.in_use()), warn)
            .await
            .map_err(|error| report(args.file, &error))?;
        print_run_notes(&planned);
        print_plan(&lab, &planned.ops);
        if planned.ops.is_empty() {
            return Ok(());
        }
        run(&engine, &lab, planned, options, args.file).await
    })
}

/// Unless `yes`, asks first (and refuses without a terminal to ask at), but not about a run
/// that would be refused; then clears the way (saying which processes it ended) and runs.
async fn run(engine: &Engine, lab: &Lab, planned: Planned, options: RunOptions, file: &Path) -> CliResult {
    let steps = planned.ops.len();
    let (question, verb) = match planned.request.work {
        Work::Apply { .. } if steps == 1 => ("Apply this change?".to_string(), "applied"),
        Work::Apply { .. } => (format!("Apply these {steps} changes?"), "applied"),
        Work::Destroy => {
            let noun = if steps == 1 { "step" } else { "steps" };
            (format!("Destroy lab `{}` ({steps} {noun})?", lab.name), "destroyed")
        }
    };
    if !options.yes {
        planned.refusal().map_err(|error| report(file, &error))?;
        let question = match planned.request.in_use {
            InUse::End => format!("{question} Processes running in the namespaces it deletes are ended first."),
            InUse::Refuse => question,
        };
        match ask(&question) {
            Answer::Yes => {}
            Answer::No => return Err(CliError::failed("nothing was changed")),
            // Like apt and terraform: nothing changes unattended unless told to.
            Answer::NobodyToAsk => {
                return Err(CliError::failed(
                    "there is no terminal to ask at: give `--yes` to change the kernel unattended; nothing was changed",
                ))
            }
        }
    }
    // From here on Ctrl+C (or a service's SIGTERM) stops the run at a step boundary, and an
    // apply undoes what it made, instead of leaving half a lab behind.
    let _stopping = stop_on_signals(engine.stop_handle());
    let cleared = engine.clear_the_way(planned).await.map_err(|error| report(file, &error))?;
    for user in &cleared.ended {
        eprintln!("nslab: ended {user}");
    }
    if matches!(cleared.planned().request.work, Work::Destroy) {
        // Nothing else runs in this process now; its unmounts go faster with one thread.
        engine.kernel().stop_workers();
    }
    let mut progress = Progress::new(cleared.planned().ops.len());
    let result = engine.run(lab, &cleared, &mut |event| progress.show(&event)).await;
    progress.finish();
    finish(verb, lab, file, result)
}

/// Stops `stop`'s run on SIGINT or SIGTERM until dropped. The signals are caught when this
/// returns (one before that ends the process as usual).
fn stop_on_signals(stop: StopHandle) -> AbortOnDrop {
    let mut signals = StopSignals::install();
    AbortOnDrop(tokio::spawn(async move { stop.stop(signals.next().await) }))
}

/// A task that ends when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Validates the lab (its warnings printed before the kernel is read), then plans it.
async fn checked_plan(engine: &Engine, lab: &Lab, file: &Path, request: RunRequest) -> Result<Planned, CliError> {
    let warn = |warnings: &[_]| print_problems(file, warnings);
    engine.plan_run(lab, request, warn).await.map_err(|error| report(file, &error))
}

/// The lab `destroy` removes: the one in a file, or the one of a name.
pub enum Which {
    File(PathBuf),
    Named(String),
}

impl Which {
    /// The lab as its file says, or as its record says it was last applied (its host routes
    /// are known only from there), or else a lab of that name alone: the marks in the
    /// kernel decide what it owns.
    fn lab(&self, limits: &Limits) -> Result<Lab, CliError> {
        match self {
            Which::File(file) => read_lab_file(file, limits),
            Which::Named(name) => {
                let lab = Lab::new(name.as_str());
                if let Some(problem) = validate_lab_name(&lab).first() {
                    return Err(CliError::bad_input(format!("--lab: {}", problem.message)));
                }
                Ok(records::recorded_lab(name, limits).unwrap_or(lab))
            }
        }
    }

    /// Where errors are said to be.
    fn place(&self) -> PathBuf {
        match self {
            Which::File(file) => file.clone(),
            Which::Named(name) => PathBuf::from(format!("--lab {name}")),
        }
    }
}

/// How `apply` and `destroy` go about it.
#[derive(Clone, Copy)]
pub struct RunOptions {
    /// Do not ask.
    pub yes: bool,
    /// End the processes in the namespaces the run deletes first (`InUse::End`).
    pub kill: bool,
}

impl RunOptions {
    fn in_use(self) -> InUse {
        InUse::ending_if(self.kill)
    }
}

pub fn destroy(which: &Which, options: RunOptions, limits: Limits) -> CliResult {
    let lab = which.lab(&limits)?;
    let place = which.place();
    let file = place.as_path();
    runtime().block_on(async {
        let engine = Engine::new(limits);
        let request = RunRequest { work: Work::Destroy, in_use: options.in_use() };
        let (_one_run, planned) =
            engine.plan_to_run(&lab, request, |_| ()).await.map_err(|error| report(file, &error))?;
        print_run_notes(&planned);
        let ops = &planned.ops;
        if ops.is_empty() {
            // A destroy cut short may have left the record: it goes too, so that a second
            // destroy finishes the first.
            let forgot = records::forget(&lab.name).map_err(|error| {
                CliError::failed(format!("cannot remove the record of lab `{}`: {error}", lab.name))
            })?;
            let record = if forgot { "; its record is removed" } else { "" };
            println!("nslab: lab `{}` has nothing in the kernel: nothing to destroy{record}", lab.name);
            return Ok(());
        }
        print!("{}", ip_lines(ops));
        run(&engine, &lab, planned, options, file).await
    })
}

pub fn scan(output: Option<&Path>, name: &str, limits: Limits) -> CliResult {
    runtime().block_on(async {
        let engine = Engine::new(limits);
        let observed = engine.observe_for_scan().await.map_err(|error| report(Path::new("(kernel)"), &error))?;
        print_kernel_notes(&observed);
        let nslab_model::scan::Scan { lab, left_out } = nslab_model::scan::scan(&observed, name);
        for what in &left_out {
            eprintln!("nslab: scan left out {what}");
        }
        let where_to = output.map_or_else(|| Path::new("(scan)").to_path_buf(), Path::to_path_buf);
        print_problems(&where_to, &validate_with(&lab, &limits));
        let text = nslab_model::export::to_json(&lab);
        match output {
            Some(path) => {
                std::fs::write(path, text)
                    .map_err(|error| CliError::failed(format!("{}: cannot write: {error}", path.display())))?;
                eprintln!("nslab: wrote {} nodes and {} links to {}", lab.nodes.len(), lab.links.len(), path.display());
            }
            None => print!("{text}"),
        }
        Ok(())
    })
}

/// Before a run: the run that died before it and was finished now, the stray names under
/// /run/netns.
fn print_run_notes(planned: &Planned) {
    if let Some(finished) = &planned.finished {
        eprintln!("nslab: {finished}");
    }
    print_kernel_notes(&planned.observed);
}

fn print_plan(lab: &Lab, ops: &[Op]) {
    if ops.is_empty() {
        println!("nslab: the kernel already holds lab `{}`: nothing to do", lab.name);
        return;
    }
    print!(
        "# {} change{} to make the kernel hold lab `{}`:\n{}",
        ops.len(),
        if ops.len() == 1 { "" } else { "s" },
        lab.name,
        ip_lines(ops)
    );
}

/// The ops as `ip` commands, a line each, to print in one write: a line at a time costs a
/// system call per op (thousands for a big lab).
fn ip_lines(ops: &[Op]) -> String {
    ops.iter().map(|op| op.ip_command() + "\n").collect()
}

fn finish(verb: &str, lab: &Lab, file: &Path, result: Result<Report, EngineError>) -> CliResult {
    let report = result.map_err(|error| report(file, &error))?;
    println!(
        "nslab: {verb} lab `{}`: {} step{} in {:.0?}",
        lab.name,
        report.ops,
        if report.ops == 1 { "" } else { "s" },
        report.elapsed
    );
    Ok(())
}

/// Prints an engine error where it belongs: the error to end the command with.
fn report(file: &Path, error: &EngineError) -> CliError {
    match error {
        EngineError::Invalid(problems) => {
            print_problems(file, problems);
            refuse_invalid(file)
        }
        EngineError::Conflicts(conflicts) => {
            for conflict in conflicts {
                eprintln!("{}: conflict at {}: {}", file.display(), conflict.path, conflict.message);
            }
            CliError::failed("nothing was changed")
        }
        other => CliError::failed(other),
    }
}
