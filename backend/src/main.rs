//! `nslab`: draw, apply and watch Linux network-namespace labs.

mod cli;
mod examples;
mod lab_file;
mod server;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    ExitCode::from(cli::run(cli) as u8)
}
