//! What each CLI command does; `cli.rs` only parses and dispatches.

pub mod check;
pub mod convert;
pub mod goals;
pub mod lab;
pub mod list;
pub mod serve;
pub mod teach;

use std::path::Path;

use nslab_model::observed::Observed;
use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Lab, Limits, Problem};

use crate::lab_file::{read_lab, LabFileError};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// `nslab plan --exit-code`: the kernel differs from the lab.
pub const EXIT_CHANGES: i32 = 3;

/// How a command ends when it does not succeed: the exit code, and the last line that
/// `cli::run` prints on standard error (none when all was said where it was found, as a
/// lab's problems are, line by line).
#[derive(Debug, PartialEq, Eq)]
pub struct CliError {
    pub code: i32,
    pub line: Option<String>,
}

impl CliError {
    /// The input cannot be used (exit 2): `nslab: MESSAGE`.
    pub fn bad_input(message: impl std::fmt::Display) -> Self {
        CliError { code: EXIT_BAD_INPUT, line: Some(format!("nslab: {message}")) }
    }

    /// The command failed (exit 1): `nslab: MESSAGE`.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        CliError { code: EXIT_FAILURE, line: Some(format!("nslab: {message}")) }
    }

    /// An exit code whose reasons are printed already.
    pub fn said(code: i32) -> Self {
        CliError { code, line: None }
    }
}

impl From<LabFileError> for CliError {
    fn from(error: LabFileError) -> Self {
        CliError::bad_input(error)
    }
}

pub type CliResult = Result<(), CliError>;

/// Reads a lab file without validating it (`destroy` removes a lab whatever is wrong with
/// the file; `plan` and `apply` leave validation to the engine, which refuses errors before
/// it reads the kernel).
pub fn read_lab_file(file: &Path, limits: &Limits) -> Result<Lab, CliError> {
    Ok(read_lab(file, limits)?)
}

/// Reads a lab and prints its problems; one with errors is refused.
pub fn read_valid_lab(file: &Path, limits: &Limits) -> Result<Lab, CliError> {
    let lab = read_lab_file(file, limits)?;
    let problems = validate_with(&lab, limits);
    print_problems(file, &problems);
    if has_errors(&problems) {
        return Err(refuse_invalid(file));
    }
    Ok(lab)
}

/// After the errors were printed: a lab refused for them.
pub fn refuse_invalid(file: &Path) -> CliError {
    CliError { code: EXIT_BAD_INPUT, line: Some(format!("{}: fix the errors above first", file.display())) }
}

/// Diagnostics go to standard error, like a compiler's; standard output stays for data.
pub fn print_problems(file: &Path, problems: &[Problem]) {
    for problem in problems {
        eprintln!("{}: {problem}", file.display());
    }
}

/// Says on standard error what in the kernel nslab works around: the empty files under
/// /run/netns (with the command that clears each), and a run that died whose journal the
/// next apply or destroy finishes.
pub fn print_kernel_notes(observed: &Observed) {
    for note in observed.stray_notes() {
        eprintln!("nslab: note: {note}");
    }
    if let Some(note) = crate::engine::interrupted_run_note() {
        eprintln!("nslab: note: {note}");
    }
}

/// A runtime for one command. One thread is plenty: the work is waiting on the kernel.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}
