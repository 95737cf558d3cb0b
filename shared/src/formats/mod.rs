//! Other tools' formats, one file each: the readers `crate::import` calls and the writers
//! `crate::export` calls.

// Other tools' labs (containerlab, Kathará, CORE, MiniEdit, GNS3, Mininet).
pub mod clab;
pub mod core;
mod draft;
mod extras;
pub mod gns3;
pub mod kathara;
pub mod miniedit;
pub mod mininet;
mod node_commands;
mod startup;
mod xml;

pub mod ip_script;

// Drawings of a lab (Graphviz, Mermaid, draw.io), saying what `diagram` says of it.
mod diagram;
pub mod dot;
pub mod drawio;
pub mod mermaid;
