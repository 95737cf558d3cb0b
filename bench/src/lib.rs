//! What the benchmarks of `scripts/bench` share: their arguments' parsers, the header they
//! print about the machine, waiting for the kernel to settle between sandboxes, the
//! statistics of their times, the one `nslab serve` launcher and its HTTP and websocket
//! clients, and reading processes' CPU time from /proc.
//!
//! The binaries: `bench` (the engine against iproute2), `bench_live` (the live agent) and
//! `bench_editor` (the editor in headless Chromium).

pub mod args;
pub mod client;
pub mod labs;
pub mod machine;
pub mod process;
pub mod reference;
pub mod seed_lab;
pub mod server;
pub mod settle;
pub mod stats;

pub use machine::{load_average, shell_line};
pub use server::Server;
pub use stats::{median, ms, percentile, sorted, Stats};

use nslab_model::Lab;

/// Ok when `lab` has no validation errors (warnings are fine for a benchmark).
pub fn check_valid(lab: &Lab) -> Result<(), String> {
    let problems = nslab_model::validate(lab);
    let errors: Vec<String> = problems.iter().filter(|p| p.is_error()).map(|p| p.to_string()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("lab `{}` is not valid: {}", lab.name, errors.join("; ")))
    }
}
