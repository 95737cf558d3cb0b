//! `nslab plan`, `apply`, `destroy`, `scan`: labs on the kernel, through the engine.

use std::path::{Path, PathBuf};

use nslab_model::ops::Op;
use nslab_model::plan::PlanOptions;
use nslab_model::{validate_lab_name, validate_with, Lab, Limits};

use super::{
    print_problems, read_lab_file, refuse_invalid, runtime, EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_FAILURE, EXIT_OK,
};
use crate::engine::{
    end_processes_in, refuse_before_running, refuse_unprivileged, Engine, EngineError, Planned, Report,
};
use crate::state;
use crate::terminal::{confirm, Progress};

pub struct PlanArgs<'a> {
    pub file: &'a Path,
    pub adopt: bool,
    pub limits: Limits,
}

pub fn plan(args: PlanArgs, exit_code: bool, json: bool) -> i32 {
    let lab = match read_lab_file(args.file, &args.limits) {
        Ok(lab) => lab,
        Err(code) => return code,
    };
    runtime().block_on(async {
        let engine = Engine::new(args.limits);
        let ops = match checked_plan(&engine, &lab, &args).await {
            Ok(planned) => planned.ops,
            Err(code) => return code,
        };
        if json {
            println!("{}", serde_json::to_string_pretty(&ops).expect("ops serialise"));
        } else {
            print_plan(&lab, &ops);
        }
        if exit_code && !ops.is_empty() {
            EXIT_CHANGES
        } else {
            EXIT_OK
        }
    })
}

pub fn apply(args: PlanArgs, options: RunOptions) -> i32 {
    let lab = match read_lab_file(args.file, &args.limits) {
        Ok(lab) => lab,
        Err(code) => return code,
    };
    runtime().block_on(async {
        let engine = Engine::new(args.limits);
        let planned = match checked_plan(&engine, &lab, &args).await {
            Ok(planned) => planned,
            Err(code) => return code,
        };
        print_plan(&lab, &planned.ops);
        if planned.ops.is_empty() {
            return EXIT_OK;
        }
        let question = format!("Apply these {} changes?", planned.ops.len());
        if let Err(code) = agreed_to_run(options, &planned, &question, args.file).await {
            return code;
        }
        let mut progress = Progress::new(planned.ops.len());
        let result = engine.apply(&lab, &planned, &mut |event| progress.show(&event)).await;
        progress.finish();
        finish("applied", &lab, args.file, result)
    })
}

/// Unless `yes`, asks `question` first; but not for a run that would be refused (see
/// `engine::refuse_before_running`). Err: the exit code.
fn agreed(yes: bool, planned: &Planned, question: &str, file: &Path) -> Result<(), i32> {
    if yes {
        return Ok(());
    }
    refuse_before_running(planned).map_err(|error| report(file, &error))?;
    if !confirm(question) {
        eprintln!("nslab: nothing was changed");
        return Err(EXIT_FAILURE);
    }
    Ok(())
}

/// `agreed`, or with `kill` `end_processes_first`. Err: the exit code.
async fn agreed_to_run(options: RunOptions, planned: &Planned, question: &str, file: &Path) -> Result<(), i32> {
    if options.kill {
        end_processes_first(options.yes, planned, question, file).await
    } else {
        agreed(options.yes, planned, question, file)
    }
}

/// `--kill`: unless `yes`, asks `question` (of the processes too); then ends the
/// processes in the namespaces the run deletes, saying which. Err: the exit code.
async fn end_processes_first(yes: bool, planned: &Planned, question: &str, file: &Path) -> Result<(), i32> {
    refuse_unprivileged(planned).map_err(|error| report(file, &error))?;
    if !yes && !confirm(&format!("{question} Processes running in the namespaces it deletes are ended first.")) {
        eprintln!("nslab: nothing was changed");
        return Err(EXIT_FAILURE);
    }
    for user in end_processes_in(planned).await.map_err(|error| report(file, &error))? {
        eprintln!("nslab: ended {user}");
    }
    Ok(())
}

/// Validates the lab (its warnings printed before the kernel is read), then plans it; an
/// error is reported and comes back as the exit code.
async fn checked_plan(engine: &Engine, lab: &Lab, args: &PlanArgs<'_>) -> Result<Planned, i32> {
    let checked = engine.check(lab).map_err(|error| report(args.file, &error))?;
    print_problems(args.file, &checked.warnings);
    engine.plan(&checked, &PlanOptions { adopt: args.adopt }).await.map_err(|error| report(args.file, &error))
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
    fn lab(&self, limits: &Limits) -> Result<Lab, i32> {
        match self {
            Which::File(file) => read_lab_file(file, limits),
            Which::Named(name) => {
                let lab = Lab::new(name.as_str());
                if let Some(problem) = validate_lab_name(&lab).first() {
                    eprintln!("nslab: --lab: {}", problem.message);
                    return Err(EXIT_BAD_INPUT);
                }
                Ok(state::recorded_lab(name, limits).unwrap_or(lab))
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
    /// End the processes in the namespaces the run deletes first (see
    /// `engine::end_processes_in`).
    pub kill: bool,
}

pub fn destroy(which: &Which, options: RunOptions, limits: Limits) -> i32 {
    let lab = match which.lab(&limits) {
        Ok(lab) => lab,
        Err(code) => return code,
    };
    let place = which.place();
    let file = place.as_path();
    runtime().block_on(async {
        let engine = Engine::new(limits);
        let planned = match engine.destroy_plan(&lab).await {
            Ok(planned) => planned,
            Err(error) => return report(file, &error),
        };
        let ops = &planned.ops;
        if ops.is_empty() {
            println!("nslab: lab `{}` has nothing in the kernel: nothing to destroy", lab.name);
            return EXIT_OK;
        }
        print!("{}", ip_lines(ops));
        let question = format!("Destroy lab `{}` ({} steps)?", lab.name, ops.len());
        if let Err(code) = agreed_to_run(options, &planned, &question, file).await {
            return code;
        }
        // Nothing else runs in this process now; its unmounts go faster with one thread.
        engine.kernel().stop_workers();
        let mut progress = Progress::new(ops.len());
        let result = engine.destroy(&lab, &planned, &mut |event| progress.show(&event)).await;
        progress.finish();
        finish("destroyed", &lab, file, result)
    })
}

pub fn scan(output: Option<&Path>, name: &str, limits: Limits) -> i32 {
    runtime().block_on(async {
        let engine = Engine::new(limits);
        let observed = match engine.observe_for_scan().await {
            Ok(observed) => observed,
            Err(error) => return report(Path::new("(kernel)"), &error),
        };
        let nslab_model::scan::Scan { lab, left_out } = nslab_model::scan::scan(&observed, name);
        for what in &left_out {
            eprintln!("nslab: scan left out {what}");
        }
        let where_to = output.map_or_else(|| Path::new("(scan)").to_path_buf(), Path::to_path_buf);
        print_problems(&where_to, &validate_with(&lab, &limits));
        let text = nslab_model::export::to_json(&lab);
        match output {
            Some(path) => match std::fs::write(path, text) {
                Ok(()) => {
                    eprintln!(
                        "nslab: wrote {} nodes and {} links to {}",
                        lab.nodes.len(),
                        lab.links.len(),
                        path.display()
                    );
                    EXIT_OK
                }
                Err(error) => {
                    eprintln!("nslab: {}: cannot write: {error}", path.display());
                    EXIT_FAILURE
                }
            },
            None => {
                print!("{text}");
                EXIT_OK
            }
        }
    })
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

fn finish(verb: &str, lab: &Lab, file: &Path, result: Result<Report, EngineError>) -> i32 {
    match result {
        Ok(report) => {
            println!(
                "nslab: {verb} lab `{}`: {} step{} in {:.0?}",
                lab.name,
                report.ops,
                if report.ops == 1 { "" } else { "s" },
                report.elapsed
            );
            EXIT_OK
        }
        Err(error) => report(file, &error),
    }
}

/// Prints an engine error where it belongs and picks the exit code.
fn report(file: &Path, error: &EngineError) -> i32 {
    match error {
        EngineError::Invalid(problems) => {
            print_problems(file, problems);
            refuse_invalid(file)
        }
        EngineError::Conflicts(conflicts) => {
            for conflict in conflicts {
                eprintln!("{}: conflict at {}: {}", file.display(), conflict.path, conflict.message);
            }
            eprintln!("nslab: nothing was changed");
            EXIT_FAILURE
        }
        other => {
            eprintln!("nslab: {other}");
            EXIT_FAILURE
        }
    }
}
