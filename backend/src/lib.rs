//! nslab: draw, apply and watch Linux network-namespace labs. The library holds the CLI,
//! the engine, the kernel driver and the server; `main.rs` only starts it. Tests and
//! benchmarks use the engine and the kernel driver through it directly.

pub mod cli;
mod commands;
pub mod descriptors;
pub mod engine;
mod examples;
mod file_lock;
mod goal_check;
mod import_files;
mod journal;
pub mod kernel;
mod lab_file;
mod privilege;
mod processes;
mod records;
mod run_lock;
pub mod sandbox;
mod server;
/// The server's limits on connections and slow requests, for the tests that check them.
pub use server::limits as server_limits;
mod stop_signals;
mod terminal;
