//! Processes as `/proc` shows them, and ending them. Used by the sandbox (to end what keeps
//! it alive) and by the in-use check of runs (to end what runs in a namespace a run
//! deletes, `--kill`). A pid alone is not a process: pids are reused, so a process is a pid
//! and its start time, and nothing is signalled once that pair no longer matches.

use std::fmt::Display;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// How often `end` looks again whether its targets are gone.
const POLL: Duration = Duration::from_millis(20);

/// A process, told apart from a later one with the same pid by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Process {
    pub pid: i32,
    /// Clock ticks after boot (field 22 of `/proc/PID/stat`).
    pub start_time: u64,
}

impl Process {
    /// The process that has `pid` now, unless it is gone or a zombie.
    pub fn read(pid: i32) -> Option<Process> {
        let stat = read_proc_stat(pid)?;
        (!stat.is_dead()).then_some(Process { pid, start_time: stat.start_time })
    }

    /// Alive and not a zombie: a zombie has already released its namespaces.
    pub fn is_running(&self) -> bool {
        read_proc_stat(self.pid).is_some_and(|stat| stat.start_time == self.start_time && !stat.is_dead())
    }

    /// Sends `signal`, unless the process has ended (its pid may be another's by now). One
    /// this process may not signal is left alone without a word: `end` reports it as left.
    pub fn signal(&self, signal: Signal) {
        if self.is_running() {
            let _ = kill(Pid::from_raw(self.pid), signal);
        }
    }
}

/// The pids in `/proc`, as they are while it is read.
pub fn all_pids() -> impl Iterator<Item = i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
}

/// Ends `targets`: SIGTERM, then SIGKILL to those still running after `grace`, then waits
/// up to `grace` again. Returns those still running (ones this process may not signal).
/// Blocks: call it from a thread that may block.
pub fn end(targets: &[Process], grace: Duration) -> Vec<Process> {
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        targets.iter().for_each(|process| process.signal(signal));
        if wait_until_gone(targets, grace) {
            return Vec::new();
        }
    }
    targets.iter().filter(|process| process.is_running()).copied().collect()
}

/// Whether all of `targets` ended within `timeout`.
fn wait_until_gone(targets: &[Process], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        // A process this one started (the sandbox's holder, after `--sandbox sandbox stop`)
        // stays a zombie until it is reaped.
        for process in targets {
            let _ = waitpid(Pid::from_raw(process.pid), Some(WaitPidFlag::WNOHANG));
        }
        if !targets.iter().any(Process::is_running) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// The two fields of /proc/PID/stat that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    state: char,
    pub start_time: u64,
}

impl ProcStat {
    fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// `/proc/PID/stat` of `pid` (a number, or `self`).
pub fn read_proc_stat(pid: impl Display) -> Option<ProcStat> {
    parse_proc_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, field 22 (start time) index 19.
    Some(ProcStat { state: fields.first()?.chars().next()?, start_time: fields.get(19)?.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn proc_stat_is_read_past_a_tricky_command_name() {
        let tail = "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21";
        let parsed = parse_proc_stat(&format!("1234 (a b) (c)) {tail}")).unwrap();
        assert_eq!(parsed, ProcStat { state: 'S', start_time: 987_654 });
        assert_eq!(parse_proc_stat("1234 (truncated) S 1"), None);
    }

    #[test]
    fn a_process_is_its_pid_and_its_start_time() {
        let me = Process::read(std::process::id() as i32).expect("our own /proc entry");
        assert!(me.is_running());
        assert!(!Process { start_time: me.start_time + 1, ..me }.is_running(), "another start time is another process");
        assert!(all_pids().any(|pid| pid == me.pid));
    }

    #[test]
    fn end_ends_a_child_that_ignores_sigterm_and_spares_a_reused_pid() {
        let mut child = Command::new("sh").args(["-c", "trap '' TERM; exec sleep 30"]).spawn().expect("sh starts");
        let pid = i32::try_from(child.id()).unwrap();
        let process = Process::read(pid).expect("the child runs");
        // The same pid with another start time is another process: left alone, not reported.
        let stranger = Process { start_time: process.start_time + 1, ..process };
        assert_eq!(end(&[stranger], Duration::from_millis(100)), Vec::new());
        assert!(process.is_running(), "a stale pid is not signalled");
        assert_eq!(end(&[process], Duration::from_millis(300)), Vec::new());
        assert!(!process.is_running());
        let _ = child.wait();
    }
}
