//! The example labs shipped inside the binary (the same files as `examples/`).

use nslab_model::{load_lab, Lab, Limits};

/// (name, canonical JSON) of every bundled example.
pub const EXAMPLES: [(&str, &str); 3] = [
    ("seed-veth", include_str!("../../examples/seed-veth.json")),
    ("seed-bridge", include_str!("../../examples/seed-bridge.json")),
    ("router", include_str!("../../examples/router.json")),
];

/// The lab `nslab serve` opens when none is given.
pub const DEFAULT_EXAMPLE: &str = "seed-bridge";

pub fn example(name: &str) -> Option<Lab> {
    let (_, text) = EXAMPLES.iter().find(|(example, _)| *example == name)?;
    Some(load_lab(text.as_bytes(), &Limits::default()).expect("bundled examples are valid"))
}
