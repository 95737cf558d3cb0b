//! `nslab`: draw, apply and watch Linux network-namespace labs.

use std::process::ExitCode;

use clap::Parser;
use nslab::{cli, descriptors, kernel, sandbox};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Entering namespaces (setns into a user or mount namespace) needs a process with one
    // thread: do it before anything starts a thread.
    if cli::wants_sandbox(&cli) {
        if let Err(error) = sandbox::enter() {
            eprintln!("nslab: {error}");
            return ExitCode::from(cli::EXIT_FAILURE as u8);
        }
    }
    let present = || kernel::netns::list_named().map_or(0, |names| names.len());
    if let Some(namespaces) = cli::namespaces_to_open(&cli, present) {
        descriptors::reserve(namespaces);
    }
    ExitCode::from(cli::run(cli) as u8)
}
