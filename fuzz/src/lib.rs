//! Fuzz targets for the model: each takes arbitrary bytes and panics only when an
//! invariant breaks, so a panic is a bug. The afl binaries in `src/bin/` call them under
//! AFL++ (`scripts/fuzz`); `tests/corpus.rs` runs every target over the committed corpus
//! in the ordinary test run, without afl.
//!
//! Inputs are the bytes a user or a client can send: a lab file, and the JSON messages of
//! the API. The planner's input also carries the kernel it plans against (see `planner`).

mod doc_path;
mod drift;
mod event_parser;
mod ip_renderer;
mod lab_loader;
mod planner;
mod shell_words;
mod validation;

pub use event_parser::event_parser;
pub use ip_renderer::ip_renderer;
pub use lab_loader::lab_loader;
pub use planner::planner;
pub use validation::validation;

/// A target: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target by name: the names of the afl binaries and of the corpus folders.
pub const TARGETS: [(&str, Target); 5] = [
    ("lab_loader", lab_loader),
    ("validation", validation),
    ("planner", planner),
    ("ip_renderer", ip_renderer),
    ("event_parser", event_parser),
];

/// A lab file read as nslab reads one, or None when nslab refuses it.
fn load(bytes: &[u8]) -> Option<nslab_model::Lab> {
    nslab_model::load_lab(bytes, &nslab_model::Limits::default()).ok()
}

/// Whether validation lets the lab be applied (warnings do not block).
fn is_valid(lab: &nslab_model::Lab) -> bool {
    !nslab_model::validate(lab).iter().any(|problem| problem.is_error())
}
