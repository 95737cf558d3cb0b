//! `nslab serve`, started by the benchmarks through the tests' launcher
//! (`nslab_tests::server`), always from the binary they are given (`--nslab`, by default
//! the release build next to them), with a state directory of its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{tail, Launch, NslabServer, ServerOptions};

/// A running `nslab serve` on a free loopback port; killed when dropped.
pub struct Server {
    server: NslabServer,
    /// The whole address it printed, `http://127.0.0.1:PORT/` (with `?token=...` when it
    /// wants one).
    pub url: String,
    /// The nslab process itself.
    pub pid: u32,
    log: PathBuf,
    /// Its state directory and its log; removed after the server is stopped.
    _state: tempfile::TempDir,
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
        let log = state.path().join("server.log");
        let state_dir = state.path().join("state");
        let options = ServerOptions { sandbox, lab, state_dir: &state_dir, extra: &[], log_name: "bench" };
        // Quiet: a log line per request would cost the server time the benchmark measures.
        let launch = Launch { options, binary: nslab, log: &log, log_filter: Some("nslab=warn"), wait };
        let server = NslabServer::launch(launch)?;
        Ok(Server { url: server.page_url(), pid: server.pid, server, log, _state: state })
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        self.server.address()
    }

    /// The last ten lines of its log.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}
