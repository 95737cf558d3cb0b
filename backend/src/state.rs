//! The record of applied labs: `/run/nslab/LAB.json` holds each lab as last applied, so a
//! later `nslab serve` (or a person) can tell which labs are running. Ownership itself is
//! decided by the marks in the kernel, which survive even if this record is lost.

use std::path::PathBuf;

use nslab_model::Lab;

pub const STATE_DIR: &str = "/run/nslab";

fn path_of(lab: &str) -> PathBuf {
    PathBuf::from(STATE_DIR).join(format!("{lab}.json"))
}

/// Writes the record atomically: a reader sees the old file or the new one, never half.
pub fn record(lab: &Lab) -> std::io::Result<()> {
    std::fs::create_dir_all(STATE_DIR)?;
    let path = path_of(&lab.name);
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, nslab_model::export::to_json(lab))?;
    std::fs::rename(&temporary, &path)
}

pub fn forget(lab: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path_of(lab)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}
