//! Where a run's journal (see `nslab_model::journal`) is kept: `/run/nslab/run.journal` (not `.json`: those
//! are the records of labs),
//! one for the machine, since one run at a time changes it (see `run_lock.rs`). It is
//! written and removed only by the holder of the run lock, so a journal that the next
//! holder finds is that of a run that died.

use std::path::{Path, PathBuf};

use nslab_model::journal::Journal;

use crate::records::{write_atomically, STATE_DIR};

pub fn journal_path() -> PathBuf {
    Path::new(STATE_DIR).join("run.journal")
}

/// Writes `journal` before the run changes anything: atomically, so that a reader sees it
/// whole or not at all.
pub fn write(journal: &Journal) -> std::io::Result<()> {
    std::fs::create_dir_all(STATE_DIR)?;
    let text = serde_json::to_string(journal).map_err(std::io::Error::other)?;
    write_atomically(&journal_path(), &text)
}

/// What a run that died left: None when nothing; an error when a journal is there but
/// cannot be read as one (it is then removed by `remove`, with a warning from the caller).
pub fn interrupted() -> Option<Result<Journal, String>> {
    let path = journal_path();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => return Some(Err(format!("cannot read {}: {error}", path.display()))),
    };
    Some(
        serde_json::from_slice(&bytes)
            .map_err(|error| format!("{} is not a journal nslab wrote: {error}", path.display())),
    )
}

/// Removes the journal once its run has ended (or has been finished by the next).
pub fn remove() -> std::io::Result<()> {
    match std::fs::remove_file(journal_path()) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}
