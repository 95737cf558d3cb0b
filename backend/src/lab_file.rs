//! Reading a lab file from disk (or standard input) into a lab, with located errors.

use std::io::Read;
use std::path::{Path, PathBuf};

use nslab_model::{load_lab, Lab, Limits, LoadError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LabFileError {
    #[error("{path}: cannot read the file: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {}: {error}", error.path())]
    Load { path: PathBuf, error: LoadError },
}

/// Reads at most one byte more than the limit, so a huge file is refused without reading it all.
pub fn read_lab(path: &Path, limits: &Limits) -> Result<Lab, LabFileError> {
    let bytes =
        read_bounded(path, limits.max_bytes).map_err(|source| LabFileError::Read { path: path.into(), source })?;
    load_lab(&bytes, limits).map_err(|error| match error {
        // The real size is more than we read; say so without pretending to know it exactly.
        LoadError::TooLarge { limit, .. } => LabFileError::Load {
            path: path.into(),
            error: LoadError::TooLarge { size: file_size(path).unwrap_or(bytes.len()), limit },
        },
        error => LabFileError::Load { path: path.into(), error },
    })
}

/// The file (or standard input for `-`), read up to one byte past `limit` so that a caller
/// can tell a file over it.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let cap = limit as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().lock().take(cap).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)?.take(cap).read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn file_size(path: &Path) -> Option<usize> {
    std::fs::metadata(path).ok().and_then(|meta| usize::try_from(meta.len()).ok())
}
