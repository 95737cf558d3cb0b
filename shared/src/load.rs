//! Reading a lab file: size and depth limits, the format version, then the typed shape.
//! Every failure names where it happened; nothing here panics on hostile input.

use thiserror::Error;

use crate::lab::{Lab, FORMAT_VERSION};
use crate::path::DocPath;
use crate::problem::{Problem, Rule};

/// Bounds that keep a hostile or mistaken file from costing much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest lab file accepted, in bytes.
    pub max_bytes: usize,
    pub max_nodes: usize,
    pub max_links: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 4 * 1024 * 1024, max_nodes: 4096, max_links: 4096 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoadError {
    #[error("the lab file is {size} bytes; nslab reads lab files of at most {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("this is not valid JSON (line {line}, column {column}): {message}")]
    Syntax { line: usize, column: usize, message: String },
    #[error("a lab file is a JSON object with `version`, `name`, `nodes` and `links`")]
    NotAnObject,
    #[error("the lab file has no `version`; write \"version\": {FORMAT_VERSION}")]
    MissingVersion,
    #[error("`version` must be a whole number such as {FORMAT_VERSION}")]
    BadVersion,
    #[error(
        "this lab file is format version {found}, but this nslab reads version {FORMAT_VERSION}{}",
        if *found > u64::from(FORMAT_VERSION) { "; a newer nslab is needed to open it" } else { "" }
    )]
    UnsupportedVersion { found: u64 },
    #[error("{message} (line {line}, column {column})")]
    Shape { path: DocPath, line: usize, column: usize, message: String },
}

impl LoadError {
    /// Where in the document the problem is (the whole document when it is not located).
    pub fn path(&self) -> DocPath {
        match self {
            LoadError::Shape { path, .. } => path.clone(),
            LoadError::MissingVersion | LoadError::BadVersion | LoadError::UnsupportedVersion { .. } => {
                DocPath::root().field("version")
            }
            _ => DocPath::root(),
        }
    }

    pub fn rule(&self) -> Rule {
        match self {
            LoadError::TooLarge { .. } => Rule::FileTooLarge,
            LoadError::Syntax { .. } => Rule::Syntax,
            LoadError::UnsupportedVersion { .. } => Rule::UnsupportedVersion,
            _ => Rule::Shape,
        }
    }

    pub fn to_problem(&self) -> Problem {
        Problem::new(self.rule(), self.path(), self.to_string())
    }
}

/// Parse a lab file. The version is checked before the shape, so a file from a newer
/// nslab gets "needs a newer nslab", not a confusing complaint about its new fields.
pub fn load_lab(bytes: &[u8], limits: &Limits) -> Result<Lab, LoadError> {
    if bytes.len() > limits.max_bytes {
        return Err(LoadError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    // One pass for a well-formed lab. Only a file that does not parse pays for the version
    // probe and for the parse that tracks where it went wrong (a third slower).
    // (A struct may also be read from a JSON array; a lab file is an object only.)
    match is_object(bytes).then(|| serde_json::from_slice::<Lab>(bytes).ok()).flatten() {
        Some(lab) if lab.version == FORMAT_VERSION => return Ok(lab),
        Some(lab) => return Err(LoadError::UnsupportedVersion { found: u64::from(lab.version) }),
        None => check_version(bytes)?,
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if !inner.is_data() {
            // Malformed JSON the version probe skipped over (nesting too deep to build).
            return syntax_error(error.into_inner());
        }
        LoadError::Shape {
            path: DocPath::from(error.path().to_string().trim_start_matches('.')),
            line: inner.line(),
            column: inner.column(),
            message: without_location(inner),
        }
    })
}

pub fn load_lab_str(text: &str) -> Result<Lab, LoadError> {
    load_lab(text.as_bytes(), &Limits::default())
}

/// The document's `version`, read without building the rest of it (every other field is
/// skipped, still checked to be JSON).
#[derive(serde::Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{')
}

fn check_version(bytes: &[u8]) -> Result<(), LoadError> {
    if !is_object(bytes) {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Err(LoadError::NotAnObject),
            Err(error) => Err(syntax_error(error)),
        };
    }
    let probe: VersionProbe = match serde_json::from_slice(bytes) {
        Err(error) if !error.is_data() => return Err(syntax_error(error)),
        Ok(probe) => probe,
        // `version` given twice: the typed parse says where.
        Err(_) => return Ok(()),
    };
    let version = probe.version.ok_or(LoadError::MissingVersion)?;
    let found = version.as_u64().ok_or(LoadError::BadVersion)?;
    if found == u64::from(FORMAT_VERSION) {
        Ok(())
    } else {
        Err(LoadError::UnsupportedVersion { found })
    }
}

fn syntax_error(error: serde_json::Error) -> LoadError {
    let message = if error.to_string().contains("recursion limit exceeded") {
        "the JSON is nested too deeply (nslab accepts at most 128 levels)".to_string()
    } else {
        without_location(&error)
    };
    LoadError::Syntax { line: error.line(), column: error.column(), message }
}

/// serde_json appends " at line L column C"; we report the location separately.
fn without_location(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}
