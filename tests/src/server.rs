//! A real `nslab serve` on a free loopback port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::paths::{artifacts_dir, dist_dir, nslab_binary};

pub struct NslabServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl NslabServer {
    /// Starts `nslab serve [lab]` with the built editor; `log_name` names its log in tests/artifacts.
    pub fn start(lab: Option<&Path>, log_name: &str) -> NslabServer {
        let log = std::fs::File::create(artifacts_dir().join(format!("{log_name}.server.log"))).expect("log file");
        let mut command = Command::new(nslab_binary());
        command.args(["serve", "--listen", "127.0.0.1:0", "--web-root"]).arg(dist_dir());
        if let Some(lab) = lab {
            command.arg(lab);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(log).spawn().expect("nslab serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line).expect("nslab serve prints its address");
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .trim_end_matches('/')
            .to_string();
        NslabServer { child, url }
    }
}

impl Drop for NslabServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
