//! What each CLI command does; `cli.rs` only parses and dispatches.

pub mod check;
pub mod lab;
pub mod list;
pub mod serve;

use std::path::Path;

use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Lab, Limits, Problem};

use crate::lab_file::{read_lab, LabFileError};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// `nslab plan --exit-code`: the kernel differs from the lab.
pub const EXIT_CHANGES: i32 = 3;

/// Reads a lab file without validating it (`destroy` removes a lab whatever is wrong with
/// the file; `plan` and `apply` leave validation to the engine, which refuses errors before
/// it reads the kernel).
pub fn read_lab_file(file: &Path, limits: &Limits) -> Result<Lab, i32> {
    read_lab(file, limits).map_err(|error| report_file_error(&error))
}

/// Reads a lab and prints its problems; one with errors is refused.
pub fn read_valid_lab(file: &Path, limits: &Limits) -> Result<Lab, i32> {
    let lab = read_lab_file(file, limits)?;
    let problems = validate_with(&lab, limits);
    print_problems(file, &problems);
    if has_errors(&problems) {
        return Err(refuse_invalid(file));
    }
    Ok(lab)
}

/// After the errors were printed: the exit code of a lab refused for them.
pub fn refuse_invalid(file: &Path) -> i32 {
    eprintln!("{}: fix the errors above first", file.display());
    EXIT_BAD_INPUT
}

pub fn report_file_error(error: &LabFileError) -> i32 {
    eprintln!("nslab: {error}");
    EXIT_BAD_INPUT
}

/// Diagnostics go to standard error, like a compiler's; standard output stays for data.
pub fn print_problems(file: &Path, problems: &[Problem]) {
    for problem in problems {
        eprintln!("{}: {problem}", file.display());
    }
}

/// A runtime for one command. One thread is plenty: the work is waiting on the kernel.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}
