//! nslab-model: the lab model shared by the CLI, the server and the browser editor.
//!
//! Pure: no I/O, no async, no kernel. It compiles to wasm32 and to the host.

pub mod address;
pub mod api;
pub mod capture;
pub mod drill;
pub mod edit;
pub mod export;
pub mod footprint;
pub mod formats;
pub mod goals;
pub mod identity;
pub mod import;
pub mod journal;
pub mod lab;
pub mod layout;
pub mod load;
pub mod names;
pub mod neighbours;
pub mod netem;
pub mod observed;
pub mod ops;
pub mod path;
pub mod ping;
pub mod plan;
pub mod problem;
pub mod reach;
pub mod scan;
pub mod schema;
pub mod serde_tagged;
pub mod shell;
pub mod simulate;
pub mod topology;
pub mod validate;

pub use lab::{
    BridgeNode, EditorData, Endpoint, HostNode, Lab, Link, NamespaceNode, Node, Route, VethLink, FORMAT_VERSION,
};
pub use load::{load_lab, Limits, LoadError};
pub use path::DocPath;
pub use problem::{Problem, Rule, Severity};
pub use validate::{validate, validate_lab_name, validate_with};
