//! What each CLI command does; `cli.rs` only parses and dispatches.

pub mod check;
pub mod lab;
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

/// Reads a lab. With `strict` its problems go to standard error and one with errors is
/// refused; without, it is taken as read and not validated at all (`destroy` removes a lab
/// whatever is wrong with the file, and validating a big lab costs milliseconds).
pub fn read_valid_lab(file: &Path, limits: &Limits, strict: bool) -> Result<Lab, i32> {
    let lab = read_lab(file, limits).map_err(|error| report_file_error(&error))?;
    if strict {
        let problems = validate_with(&lab, limits);
        print_problems(file, &problems);
        if has_errors(&problems) {
            eprintln!("{}: fix the errors above first", file.display());
            return Err(EXIT_BAD_INPUT);
        }
    }
    Ok(lab)
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
