//! `nslab serve`, started by the benchmarks: on the host or inside a sandbox, always from
//! the binary they are given (`--nslab`, by default the release build next to them).
//!
//! (Not `nslab_tests::server::NslabServer`: that one always runs `nslab_tests::paths::nslab_binary()`,
//! found one folder above the running executable, which is right for a test in
//! `target/<profile>/deps/` and wrong for a benchmark in `target/release/`; and it panics
//! where a benchmark reports an error and goes on, and does not give the server's pid.)

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nslab_tests::sandbox::Sandbox;

use crate::process::children;

/// A running `nslab serve` on a free loopback port with its own state directory; killed
/// when dropped.
pub struct Server {
    child: Child,
    /// The whole address it printed, `http://127.0.0.1:PORT/` (with `?token=...` when it
    /// wants one).
    pub url: String,
    /// The nslab process itself (nsenter execs it; it forks only to enter a pid namespace).
    pub pid: u32,
    /// Its state directory, and its log (`server.log`).
    state: tempfile::TempDir,
}

impl Server {
    /// Starts `nslab serve [LAB]` with dist/ as its web root, inside `sandbox` when given
    /// (where applying is safe) or on the host, and waits at most `wait` for its address.
    pub fn start(
        sandbox: Option<&Sandbox>,
        nslab: &Path,
        lab: Option<&Path>,
        wait: Duration,
    ) -> Result<Server, String> {
        let state = tempfile::Builder::new().prefix("nslab-bench-serve-").tempdir().map_err(|e| format!("{e}"))?;
        let log = File::create(state.path().join("server.log")).map_err(|e| format!("server log: {e}"))?;
        let mut command = match sandbox {
            Some(sandbox) => sandbox.command(nslab.to_str().expect("a UTF-8 path")),
            None => Command::new(nslab),
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--web-root"])
            .arg(nslab_tests::paths::repo_root().join("dist"))
            .arg("--state-dir")
            .arg(state.path().join("state"));
        if let Some(lab) = lab {
            command.arg(lab);
        }
        let mut child = command
            .env("RUST_LOG", "nslab=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start nslab serve: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver.recv_timeout(wait).unwrap_or_default();
        let url = line.split_whitespace().find(|word| word.starts_with("http://")).map(str::to_string);
        let pid = server_pid(child.id());
        let mut server = Server { child, url: url.clone().unwrap_or_default(), pid, state };
        if url.is_none() {
            let log = server.log_tail();
            server.stop();
            return Err(format!("nslab serve printed no address (`{}`); its log ends:\n{log}", line.trim()));
        }
        Ok(server)
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        let rest = self.url.strip_prefix("http://").unwrap_or(&self.url);
        rest.split('/').next().unwrap_or(rest)
    }

    /// The last ten lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.state.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pid of the nslab process started as `child`: the child itself when nsenter exec'd it,
/// else its only child.
fn server_pid(child: u32) -> u32 {
    let exe = std::fs::read_link(format!("/proc/{child}/exe")).unwrap_or_default();
    if exe.file_name().is_some_and(|name| name.to_string_lossy().starts_with("nslab")) {
        return child;
    }
    children(child).first().copied().unwrap_or(child)
}
