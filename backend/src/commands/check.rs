//! `nslab validate`, `nslab export`: reading and writing lab files, no kernel involved.

use std::io::Write;
use std::path::Path;

use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Limits, Problem};

use super::{print_problems, read_lab_file, read_valid_lab, report_file_error, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use crate::cli::ExportFormat;
use crate::lab_file::{read_lab, LabFileError};

pub fn validate(file: &Path, json: bool, limits: &Limits) -> i32 {
    let problems = match read_lab(file, limits) {
        Ok(lab) => validate_with(&lab, limits),
        Err(LabFileError::Load { error, .. }) => vec![error.to_problem()],
        Err(error) => return report_file_error(&error),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&problems).expect("problems serialise"));
    } else {
        print_problems(file, &problems);
        print_summary(file, &problems);
    }
    if has_errors(&problems) {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    }
}

fn print_summary(file: &Path, problems: &[Problem]) {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = plural_suffix(problems.len() - errors, "warning");
    if errors == 0 {
        println!("{}: ok{warnings}", file.display());
    } else {
        eprintln!("{}: {errors} error{}{warnings}", file.display(), if errors == 1 { "" } else { "s" });
    }
}

fn plural_suffix(count: usize, word: &str) -> String {
    match count {
        0 => String::new(),
        1 => format!(", 1 {word}"),
        n => format!(", {n} {word}s"),
    }
}

pub fn export(file: &Path, format: ExportFormat, output: Option<&Path>, limits: &Limits) -> i32 {
    let read = if format == ExportFormat::Ip { read_valid_lab(file, limits) } else { read_lab_file(file, limits) };
    let lab = match read {
        Ok(lab) => lab,
        Err(code) => return code,
    };
    let text = match format {
        ExportFormat::Json => nslab_model::export::to_json(&lab),
        ExportFormat::Ip => nslab_model::export::to_ip_script(&lab),
    };
    let written = match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display())),
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write the export: {e}")),
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("nslab: {message}");
            EXIT_FAILURE
        }
    }
}
