//! A real `nslab serve` on a free loopback port, stopped when dropped. With a sandbox it
//! runs inside it (where applying is safe); a test reaches it by entering the sandbox's
//! network namespace on its own thread (`Sandbox::enter_network_here`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::paths::{artifacts_dir, nslab_binary};
use crate::sandbox::Sandbox;

pub struct NslabServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, without a trailing slash or token.
    pub url: String,
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

    pub fn start_with(options: ServerOptions) -> NslabServer {
        let log_path = artifacts_dir().join(format!("{}.server.log", options.log_name));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log_path).expect("log file");
        let binary = nslab_binary();
        let mut command = match options.sandbox {
            Some(sandbox) => sandbox.command(binary.to_str().expect("a UTF-8 path")),
            None => Command::new(binary),
        };
        // The API works without a built editor: dist/ may be missing.
        command
            .args(["serve", "--web-root"])
            .arg(crate::paths::repo_root().join("dist"))
            .arg("--state-dir")
            .arg(options.state_dir);
        if !options.extra.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(options.extra);
        if let Some(lab) = options.lab {
            command.arg(lab);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(log).spawn().expect("nslab serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line).expect("nslab serve prints its address");
        let address = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in `{line}`"));
        let (url, token) = match address.split_once("/?token=") {
            Some((url, token)) => (url.to_string(), Some(token.to_string())),
            None => (address.trim_end_matches('/').to_string(), None),
        };
        NslabServer { child, url, token, state_dir: options.state_dir.to_path_buf() }
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
