//! The record of applied labs: `/run/nslab/LAB.json` holds each lab as last applied, so a
//! later `nslab serve` (or a person) can tell which labs are running, and
//! `/run/nslab/LAB.mounts` the mounts of its namespaces then (see `kernel::vouch`).
//! Ownership itself is decided by the marks in the kernel, which survive even if this
//! record is lost; the mounts only spare destroy reading the marks of the namespaces that
//! are still on the mounts which that apply verified as the lab's.

use std::path::{Path, PathBuf};

use nslab_model::problem::has_errors;
use nslab_model::{load_lab, validate_with, Lab, Limits};

use crate::kernel::vouch::NamespaceMounts;

pub const STATE_DIR: &str = "/run/nslab";

fn path_of(lab: &str) -> PathBuf {
    PathBuf::from(STATE_DIR).join(format!("{lab}.json"))
}

/// Never the name of another lab's record: those end in `.json`.
fn mounts_path_of(lab: &str) -> PathBuf {
    PathBuf::from(STATE_DIR).join(format!("{lab}.mounts"))
}

/// Writes the record, each file atomically: a reader sees its old or its new text, never
/// half. The mounts go first: a lab recorded without them is merely slower to destroy.
pub fn record(lab: &Lab, mounts: &NamespaceMounts) -> std::io::Result<()> {
    std::fs::create_dir_all(STATE_DIR)?;
    let mounts_text = serde_json::to_string(mounts).map_err(std::io::Error::other)?;
    write_atomically(&mounts_path_of(&lab.name), &mounts_text)?;
    write_atomically(&path_of(&lab.name), &nslab_model::export::to_json(lab))
}

pub(crate) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

/// The mounts recorded when `lab` was last applied; none when there is no readable record
/// (the marks decide then).
pub fn recorded_mounts(lab: &str) -> NamespaceMounts {
    std::fs::read(mounts_path_of(lab)).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// The names of the labs with a record, sorted.
pub fn recorded_labs() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(STATE_DIR) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    names
}

/// `lab` as it was last applied; None when there is no record or it is not a valid lab of
/// that name (a record edited by hand proves nothing).
pub fn recorded_lab(lab: &str, limits: &Limits) -> Option<Lab> {
    let recorded = load_lab(&std::fs::read(path_of(lab)).ok()?, limits).ok()?;
    (recorded.name == lab && !has_errors(&validate_with(&recorded, limits))).then_some(recorded)
}

/// Removes the record of `lab`; whether there was one.
pub fn forget(lab: &str) -> std::io::Result<bool> {
    let lab_file = remove_if_there(&path_of(lab))?;
    let mounts_file = remove_if_there(&mounts_path_of(lab))?;
    Ok(lab_file || mounts_file)
}

/// Whether there was a file to remove.
fn remove_if_there(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}
