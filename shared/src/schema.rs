//! The JSON Schema of the lab format, generated from the types so it cannot drift.

use crate::lab::Lab;

/// The schema as pretty JSON with a final newline (the form checked into `schema/`).
pub fn lab_schema_json() -> String {
    let schema = schemars::schema_for!(Lab);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}
