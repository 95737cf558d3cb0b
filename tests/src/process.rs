//! Running a program with what a user would type on its standard input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::paths::nslab_binary;

/// Runs `command` with `typed` written to its standard input, and waits for it.
pub fn with_input(mut command: Command, typed: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    child.stdin.take().expect("piped").write_all(typed.as_bytes()).expect("the input is written");
    child.wait_with_output().expect("it ends")
}

/// `nslab ARGS` with `typed` on its standard input.
pub fn nslab_with_input(args: &[&str], typed: &str) -> Output {
    let mut command = Command::new(nslab_binary());
    command.args(args);
    with_input(command, typed)
}

/// Output bytes as text, whatever they hold.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
