//! `nslab validate`, `nslab export`: reading and writing lab files, no kernel involved.

use std::io::Write;
use std::path::Path;

use nslab_model::problem::has_errors;
use nslab_model::{validate_with, Limits, Problem};

use nslab_model::export::Format;

use super::{print_problems, read_lab_file, read_valid_lab, CliError, CliResult, EXIT_BAD_INPUT};
use crate::lab_file::{read_lab, LabFileError};

pub fn validate(file: &Path, json: bool, limits: &Limits) -> CliResult {
    let problems = match read_lab(file, limits) {
        Ok(lab) => validate_with(&lab, limits),
        Err(LabFileError::Load { error, .. }) => vec![error.to_problem()],
        Err(error) => return Err(error.into()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&problems).expect("problems serialise"));
    } else {
        print_problems(file, &problems);
        print_summary(file, &problems);
    }
    if has_errors(&problems) {
        return Err(CliError::said(EXIT_BAD_INPUT));
    }
    Ok(())
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

pub fn export(file: &Path, format: Format, output: Option<&Path>, limits: &Limits) -> CliResult {
    let lab = if format.needs_valid_lab() { read_valid_lab(file, limits)? } else { read_lab_file(file, limits)? };
    if let (true, Some(folder)) = (format.is_folder(), output) {
        return write_folder(folder, &format.render_files(&lab)).map_err(CliError::failed);
    }
    let text = format.render(&lab);
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display())),
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write the export: {e}")),
    }
    .map_err(CliError::failed)
}

/// The files of a folder format (Kathará's lab.conf and .startup files) into `folder`,
/// made if need be. Paths come from the exporter (plain file names), never from input.
fn write_folder(folder: &Path, files: &[(String, String)]) -> Result<(), String> {
    std::fs::create_dir_all(folder).map_err(|e| format!("{}: cannot make the folder: {e}", folder.display()))?;
    for (name, text) in files {
        let path = folder.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    Ok(())
}
