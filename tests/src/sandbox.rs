//! A throwaway network + mount namespace with its own empty /run/netns and /run/nslab,
//! like `tests/fixtures/labs/sandbox.sh`, kept alive by a holder process for the length of a
//! test. Commands enter it with nsenter. Dropping the sandbox kills the holder, and with
//! it every namespace, interface and mount made inside: nothing reaches the host.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub struct Sandbox {
    holder: Child,
    rootless: bool,
}

const HOLDER_SCRIPT: &str = r#"
for d in /run/netns /run/nslab; do mkdir -p "$d" && mount -t tmpfs lab-sandbox "$d" || exit 1; done
ip link set lo up || exit 1
echo ready
exec cat >/dev/null
"#;

impl Sandbox {
    /// As root a plain network + mount namespace; otherwise a user namespace maps us to root.
    #[allow(clippy::new_without_default)] // creating one has side effects: no Default
    pub fn new() -> Sandbox {
        let rootless = !is_root();
        let mut unshare = Command::new("unshare");
        if rootless {
            unshare.args(["--user", "--map-root-user"]);
        }
        unshare
            .args(["--net", "--mount", "--propagation", "private", "--", "sh", "-c", HOLDER_SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut holder = unshare.spawn().expect("unshare (util-linux) runs");
        let stdout = holder.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the sandbox holder answers");
        if line.trim() != "ready" {
            let _ = holder.kill();
            let _ = holder.wait();
            panic!("cannot create a sandbox (needs root, or unprivileged user namespaces)");
        }
        Sandbox { holder, rootless }
    }

    /// A command that runs inside the sandbox.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("nsenter");
        command.arg(format!("--target={}", self.holder.id()));
        if self.rootless {
            command.args(["--user", "--preserve-credentials"]);
        }
        command.args(["--net", "--mount", "--", program]);
        command
    }

    /// Runs a shell script inside the sandbox; panics with its output if it fails.
    pub fn sh(&self, script: &str) -> String {
        let output = self.try_sh(script);
        assert!(
            output.status.success(),
            "sandbox script failed ({}):\n{script}\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    /// Starts `sleep 60` in the sandbox's namespace `netns` (see `start_in`).
    pub fn sleep_in(&self, netns: &str) -> Running {
        self.start_in(netns, "sleep 60", "sleep")
    }

    /// Starts `command` (a shell command line) in the sandbox's namespace `netns`; returns
    /// once it runs there as `comm` (`ip netns exec` enters, then execs, after the starting
    /// script has moved on). It is killed when the returned guard is dropped, so a failing
    /// test leaves nothing running.
    pub fn start_in(&self, netns: &str, command: &str, comm: &str) -> Running {
        let script = format!(
            "ip netns exec {netns} {command} >/dev/null 2>&1 & p=$!; for i in $(seq 200); do \
             [ \"$(cat /proc/$p/comm 2>/dev/null)\" = {comm} ] && ip netns pids {netns} | grep -qx $p && break; \
             sleep 0.01; done; echo $p"
        );
        Running { pid: self.sh(&script).trim().to_string() }
    }

    pub fn try_sh(&self, script: &str) -> Output {
        self.command("sh").args(["-c", script]).output().expect("nsenter runs")
    }

    /// Runs `ip -j ARGS...` inside the sandbox and parses its JSON.
    pub fn ip_json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.command("ip").arg("-j").args(args).output().expect("ip runs");
        assert!(output.status.success(), "ip -j {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8_lossy(&output.stdout);
        if text.trim().is_empty() {
            return serde_json::Value::Array(Vec::new());
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("ip -j {args:?} printed bad JSON ({e}): {text}"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl Sandbox {
    /// Moves the calling thread into the sandbox's network namespace, so that sockets it
    /// makes from now on (a current-thread runtime's, in a test) reach servers inside.
    /// Only for a thread that is the test's own and ends with it.
    pub fn enter_network_here(&self) {
        let file = std::fs::File::open(format!("/proc/{}/ns/net", self.holder.id())).expect("the holder's namespace");
        nix::sched::setns(std::os::fd::AsFd::as_fd(&file), nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("can enter the sandbox's network namespace");
    }

    /// Runs the nslab binary inside the sandbox.
    pub fn nslab(&self, args: &[&str]) -> Output {
        let binary = crate::paths::nslab_binary();
        self.command(binary.to_str().expect("a UTF-8 path")).args(args).output().expect("nslab runs")
    }

    /// Runs nslab inside the sandbox and panics with its output unless it exits 0.
    pub fn nslab_ok(&self, args: &[&str]) -> String {
        let output = self.nslab(args);
        assert!(
            output.status.success(),
            "nslab {args:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Pings from a namespace, with a few tries for IPv6 (link-local addresses settle
    /// for about two seconds after a link comes up). Bounded: at most `tries` seconds.
    pub fn pings(&self, from: &str, to: &str, tries: u32) -> bool {
        let script = format!("ip netns exec {from} ping -c1 -W1 {to} >/dev/null 2>&1");
        (0..tries).any(|_| self.try_sh(&script).status.success())
    }
}

/// A process started by `Sandbox::start_in`, killed when dropped.
pub struct Running {
    pub pid: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        // KILL: a process a test starts may ignore TERM on purpose.
        let _ = Command::new("kill").args(["-KILL", &self.pid]).status();
    }
}
