//! What the benchmarks' command lines share (each parses its own with clap's derive).

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::{RangedU64ValueParser, TypedValueParser};

/// A whole number within `range`, for a `usize` argument (or each item of a list).
pub fn number(range: RangeInclusive<u64>) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(range)
}

/// A number of seconds within `range`, as a duration.
pub fn seconds(range: RangeInclusive<u64>) -> impl TypedValueParser<Value = Duration> {
    RangedU64ValueParser::<u64>::new().range(range).map(Duration::from_secs)
}

/// The nslab binary the benchmarks run unless told otherwise: the one next to them
/// (`target/release/nslab` beside `target/release/bench`), which `scripts/bench` builds.
pub fn default_nslab() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent().map(|dir| dir.join("nslab")).unwrap_or_else(|| PathBuf::from("nslab"))
}

/// `nslab` as an absolute path (nsenter --mount starts a program in the sandbox's root
/// directory); exits with status 2 when it is missing.
pub fn nslab_or_exit(program: &str, nslab: &Path) -> PathBuf {
    match std::fs::canonicalize(nslab) {
        Ok(path) if path.is_file() => path,
        _ => {
            eprintln!("{program}: {} is missing: build it first (scripts/bench does)", nslab.display());
            std::process::exit(2);
        }
    }
}

/// How to run this again: `script` and this process's arguments, e.g.
/// `scripts/bench --sizes 100 --repeat 3`.
pub fn command_line(script: &str) -> String {
    std::iter::once(script.to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")
}
