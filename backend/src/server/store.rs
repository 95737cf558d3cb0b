//! The lab being edited: one document with a revision, kept on disk so that a restart loses
//! nothing. Every accepted change bumps the revision; a change based on an older revision
//! is refused, so two editors never overwrite each other unknowingly.

use std::path::{Path, PathBuf};

use nslab_model::api::LabView;
use nslab_model::{load_lab, validate_with, Lab, Limits, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use thiserror::Error;

const FILE: &str = "document.json";

/// What is written to disk.
#[derive(Serialize, Deserialize)]
struct Stored {
    revision: u64,
    lab: serde_json::Value,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot use the state directory {dir}: {source}")]
    Io { dir: PathBuf, source: std::io::Error },
    #[error("{path} is not a document nslab can read: {message}")]
    Corrupt { path: PathBuf, message: String },
}

pub struct DocumentStore {
    dir: PathBuf,
    limits: Limits,
    view: LabView,
}

/// A change was based on revision `base`, but the document is at a later one.
#[derive(Debug)]
pub struct Stale {
    pub current: LabView,
}

impl DocumentStore {
    /// Opens the store in `dir`: the saved document if there is one, else `fallback`.
    pub fn open(dir: &Path, limits: Limits, fallback: impl FnOnce() -> Lab) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { dir: dir.into(), source })?;
        let path = dir.join(FILE);
        let (revision, lab) = match std::fs::read(&path) {
            Ok(bytes) => read_stored(&path, &bytes, &limits)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => (0, fallback()),
            Err(source) => return Err(StoreError::Io { dir: dir.into(), source }),
        };
        let problems = validate_with(&lab, &limits);
        let store = DocumentStore { dir: dir.into(), limits, view: LabView { revision, lab, problems } };
        store.save()?;
        Ok(store)
    }

    pub fn view(&self) -> &LabView {
        &self.view
    }

    /// Replaces the document if `base` is the current revision.
    pub fn update(&mut self, base: u64, lab: Lab) -> Result<Result<&LabView, Stale>, StoreError> {
        if base != self.view.revision {
            return Ok(Err(Stale { current: self.view.clone() }));
        }
        self.replace(lab).map(Ok)
    }

    /// Replaces the document whatever its revision (an import, a scan).
    pub fn replace(&mut self, lab: Lab) -> Result<&LabView, StoreError> {
        let problems = validate_with(&lab, &self.limits);
        let revision = self.view.revision + 1;
        let previous = std::mem::replace(&mut self.view, LabView { revision, lab, problems });
        if let Err(error) = self.save() {
            self.view = previous;
            return Err(error);
        }
        Ok(&self.view)
    }

    /// Write to a temporary file, flush it to the disk, then rename it over the old one: a
    /// crash leaves the old document or the new one, never half of one.
    fn save(&self) -> Result<(), StoreError> {
        let io = |source| StoreError::Io { dir: self.dir.clone(), source };
        let lab = serde_json::to_value(&self.view.lab).expect("a lab serialises");
        let text = serde_json::to_vec_pretty(&Stored { revision: self.view.revision, lab }).expect("serialises");
        let temporary = self.dir.join(format!("{FILE}.tmp"));
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary).map_err(io)?;
            file.write_all(&text).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&temporary, self.dir.join(FILE)).map_err(io)
    }
}

fn read_stored(path: &Path, bytes: &[u8], limits: &Limits) -> Result<(u64, Lab), StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { path: path.into(), message };
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    let lab_bytes = serde_json::to_vec(&stored.lab).map_err(|e| corrupt(e.to_string()))?;
    let lab = load_lab(&lab_bytes, limits).map_err(|e| corrupt(format!("{}: {e}", e.path())))?;
    debug_assert_eq!(lab.version, FORMAT_VERSION);
    Ok((stored.revision, lab))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(name: &str) -> Lab {
        Lab::new(name)
    }

    #[test]
    fn changes_need_the_current_revision_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = DocumentStore::open(dir.path(), Limits::default(), || lab("first")).unwrap();
        assert_eq!(store.view().revision, 0);
        assert_eq!(store.update(0, lab("second")).unwrap().unwrap().revision, 1);
        let stale = store.update(0, lab("third")).unwrap().unwrap_err();
        assert_eq!(stale.current.lab.name, "second");
        drop(store);
        let reopened = DocumentStore::open(dir.path(), Limits::default(), || lab("unused")).unwrap();
        assert_eq!((reopened.view().revision, reopened.view().lab.name.as_str()), (1, "second"));
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error_not_a_silent_reset() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "{ not json").unwrap();
        let error = DocumentStore::open(dir.path(), Limits::default(), || lab("x")).err().unwrap();
        assert!(error.to_string().contains("not a document nslab can read"), "{error}");
    }
}
