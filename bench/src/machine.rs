//! What a benchmark prints about the machine and the checkout before it measures, and the
//! check after it that the host's namespaces are as they were.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first program's output, trimmed (its errors are not shown); `(PROGRAM: ERROR)` when
/// it cannot run.
pub fn shell_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("({program}: {e})"))
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// This checkout's commit and whether the engine's sources (backend/, shared/) have
/// uncommitted changes, and when the benchmark started.
pub struct Header {
    pub commit: String,
    pub dirty: bool,
    /// `YYYY-MM-DD HH:MM UTC`
    pub date: String,
}

impl Header {
    /// Prints `# TITLE`, the command line, the date, the machine (cores, memory, kernel,
    /// iproute2) and its load.
    pub fn print(title: &str, command_line: &str) -> Header {
        let root = nslab_tests::paths::repo_root();
        let checkout = root.to_str().expect("a UTF-8 path");
        let commit = shell_line("git", &["-C", checkout, "rev-parse", "--short", "HEAD"]);
        // The workspace's own crates backend/ and shared/ (the model), inside this checkout.
        let dirty =
            !shell_line("git", &["-C", checkout, "status", "--porcelain", "--", "backend", "shared"]).is_empty();
        let date = shell_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
        println!("# {title}");
        println!("command:  {command_line}");
        println!("date:     {date}");
        println!(
            "machine:  {} cores, {}, kernel {}, {}",
            shell_line("nproc", &[]),
            shell_line("sh", &["-c", "free -g | awk '/^Mem:/ {print $2 \" GiB RAM\"}'"]),
            shell_line("uname", &["-r"]),
            shell_line("ip", &["-V"])
        );
        println!("load:     {} (1, 5, 15 min; other work on the machine disturbs the times)", load_average());
        Header { commit, dirty, date }
    }

    /// `commit abc1234`, and `, with uncommitted changes` when there are some.
    pub fn commit_note(&self) -> String {
        format!("commit {}{}", self.commit, if self.dirty { ", with uncommitted changes" } else { "" })
    }
}

/// The host's `ip netns list` and /run/netns when a run started, to show after it that
/// nothing was left behind (every lab is built in a sandbox).
pub struct HostCheck {
    started: Instant,
    before: String,
}

impl HostCheck {
    pub fn start() -> HostCheck {
        HostCheck { started: Instant::now(), before: host_namespaces() }
    }

    /// Since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Prints whether the host's namespaces are as they were, the load and the run's total
    /// time; true when they changed (another process, or a leak).
    pub fn finish(self) -> bool {
        let after = host_namespaces();
        println!();
        if after == self.before {
            println!("host: `ip netns list` and /run/netns are unchanged: nothing was left behind.");
        } else {
            println!(
                "host: `ip netns list` CHANGED during the run (another process, or a leak):\nbefore:\n{}\nafter:\n{after}",
                self.before
            );
        }
        println!("load at the end: {}", load_average());
        println!("total: {:.0} s", self.started.elapsed().as_secs_f64());
        after != self.before
    }
}

fn host_namespaces() -> String {
    format!("{}\n--\n{}", shell_line("ip", &["netns", "list"]), shell_line("ls", &["-A", "/run/netns"]))
}
