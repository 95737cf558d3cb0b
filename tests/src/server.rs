//! A real `nslab serve` on a free loopback port, stopped when dropped. With a sandbox it
//! runs inside it (where applying is safe); a test reaches it by entering the sandbox's
//! network namespace on its own thread (`Sandbox::enter_network_here`). The one launcher
//! of the tests and the benchmarks (which start their own build of nslab, see `launch`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::paths::{artifacts_dir, nslab_binary};
use crate::sandbox::Sandbox;

pub struct NslabServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, without a trailing slash or token.
    pub url: String,
    /// The nslab process itself (nsenter execs it; it forks only to enter a pid namespace).
    pub pid: u32,
    /// The token the server printed, if it needs one.
    pub token: Option<String>,
    /// Where it keeps its document (kept by the test, to restart on it).
    pub state_dir: PathBuf,
}

pub struct ServerOptions<'a> {
    pub sandbox: Option<&'a Sandbox>,
    pub lab: Option<&'a Path>,
    pub state_dir: &'a Path,
    pub extra: &'a [&'a str],
    /// Names the server's log in tests/artifacts.
    pub log_name: &'a str,
}

/// What `launch` needs besides the options: which nslab, where its log goes, and how long
/// to wait for the address it prints.
pub struct Launch<'a> {
    pub options: ServerOptions<'a>,
    pub binary: &'a Path,
    pub log: &'a Path,
    /// `RUST_LOG` for the server (None: its default, requests included).
    pub log_filter: Option<&'a str>,
    pub wait: Duration,
}

impl NslabServer {
    /// Starts `nslab serve` on the host with a fresh state directory (nothing is applied).
    pub fn start(lab: Option<&Path>, log_name: &str) -> (NslabServer, tempfile::TempDir) {
        let state = tempfile::tempdir().expect("a state dir");
        let server = NslabServer::start_with(ServerOptions {
            sandbox: None,
            lab,
            state_dir: state.path(),
            extra: &[],
            log_name,
        });
        (server, state)
    }

    /// Starts `nslab serve` inside `sandbox` on its default lab, with a fresh state
    /// directory (nothing is applied): what the browser tests of a live lab start with.
    pub fn start_in(sandbox: &crate::sandbox::Sandbox, log_name: &str) -> (NslabServer, tempfile::TempDir) {
        NslabServer::start_in_with(sandbox, &[], log_name)
    }

    /// `start_in`, with `extra` arguments to `nslab serve` (`--terminals`, a token...).
    pub fn start_in_with(
        sandbox: &crate::sandbox::Sandbox,
        extra: &[&str],
        log_name: &str,
    ) -> (NslabServer, tempfile::TempDir) {
        let state = tempfile::tempdir().expect("a state dir");
        let server = NslabServer::start_with(ServerOptions {
            sandbox: Some(sandbox),
            lab: None,
            state_dir: state.path(),
            extra,
            log_name,
        });
        (server, state)
    }

    /// Starts `nslab serve` inside `sandbox` on `lab` (or its default lab) keeping its
    /// document in `state`: for tests that start a server again on the same state.
    pub fn start_in_state(
        sandbox: &crate::sandbox::Sandbox,
        lab: Option<&Path>,
        state: &Path,
        log_name: &str,
    ) -> NslabServer {
        NslabServer::start_with(ServerOptions { sandbox: Some(sandbox), lab, state_dir: state, extra: &[], log_name })
    }

    pub fn start_with(options: ServerOptions) -> NslabServer {
        let log = artifacts_dir().join(format!("{}.server.log", options.log_name));
        let binary = nslab_binary();
        let launch = Launch { options, binary: &binary, log: &log, log_filter: None, wait: Duration::from_secs(60) };
        NslabServer::launch(launch).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Starts `nslab serve`; an error when it cannot start or prints no address in time
    /// (with the end of its log).
    pub fn launch(launch: Launch) -> Result<NslabServer, String> {
        let Launch { options, binary, log, log_filter, wait } = launch;
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = match options.sandbox {
            Some(sandbox) => sandbox.command(binary.to_str().expect("a UTF-8 path")),
            None => Command::new(binary),
        };
        // The API works without a built editor: dist/ may be missing.
        command.args(["serve", "--web-root"]).arg(crate::paths::dist_path()).arg("--state-dir").arg(options.state_dir);
        if !options.extra.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(options.extra);
        if let Some(lab) = options.lab {
            command.arg(lab);
        }
        if let Some(filter) = log_filter {
            command.env("RUST_LOG", filter);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start nslab serve: {e}"))?;
        let line = first_line(&mut child, wait);
        let Some(address) = line.split_whitespace().find(|word| word.starts_with("http://")) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("nslab serve printed no address (`{}`); its log ends:\n{}", line.trim(), tail(log)));
        };
        let (url, token) = match address.split_once("/?token=") {
            Some((url, token)) => (url.to_string(), Some(token.to_string())),
            None => (address.trim_end_matches('/').to_string(), None),
        };
        let pid = server_pid(child.id());
        Ok(NslabServer { child, url, pid, token, state_dir: options.state_dir.to_path_buf() })
    }

    /// The page's address as the server printed it (with `?token=` when it wants one).
    pub fn page_url(&self) -> String {
        match &self.token {
            Some(token) => format!("{}/?token={token}", self.url),
            None => format!("{}/", self.url),
        }
    }

    /// Waits (at most `within`) for the server to end by itself: its exit status.
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        self.url.strip_prefix("http://").unwrap_or(&self.url)
    }

    /// `ws://127.0.0.1:PORT/api/events`
    pub fn events_url(&self) -> String {
        format!("{}/api/events", self.url.replacen("http://", "ws://", 1))
    }
}

impl Drop for NslabServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line the server prints (its address), or what came within `wait`.
fn first_line(child: &mut Child, wait: Duration) -> String {
    let stdout = child.stdout.take().expect("piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    receiver.recv_timeout(wait).unwrap_or_default()
}

/// The last ten lines of the log at `path`.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// The pid of the nslab process started as `child`: the child itself when nsenter exec'd
/// it, else its only child.
fn server_pid(child: u32) -> u32 {
    let exe = std::fs::read_link(format!("/proc/{child}/exe")).unwrap_or_default();
    if exe.file_name().is_some_and(|name| name.to_string_lossy().starts_with("nslab")) {
        return child;
    }
    let children = std::fs::read_to_string(format!("/proc/{child}/task/{child}/children")).unwrap_or_default();
    children.split_whitespace().find_map(|pid| pid.parse().ok()).unwrap_or(child)
}
