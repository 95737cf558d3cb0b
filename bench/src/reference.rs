//! The reference tools the terminal and capture benchmarks measure nslab against, run in
//! the same sandbox in the same run: a shell on a local pseudo-terminal (python3's `pty`
//! module, `ip netns exec NS bash -i`, as a terminal emulator on the machine would run it)
//! and `tcpdump -w` on the captured interface; and the machine's CPU time by kind, which
//! says where two cores went during a flood.

use std::process::Stdio;
use std::time::Duration;

use nslab_tests::sandbox::Sandbox;

use crate::process::stat_cpu_ms;

/// Keys typed into bash on a local pty, timed from the write to the first read of their
/// echo (readline echoes each key itself, as it does through nslab), with Ctrl+U every 40
/// keys as nslab's measurement does; then `yes` read as fast as it comes. Prints `key MS`
/// lines, then `yes BYTES SECONDS`.
const LOCAL_PTY: &str = r#"
import os, pty, select, sys, time
ns, keys, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# The rc file nslab's terminals give bash: the user's, then a prompt naming the namespace.
rc = "/tmp/nslab-bench-%d.rc" % os.getpid()
with open(rc, "w") as file:
    file.write("[ -f ~/.bashrc ] && . ~/.bashrc\nPS1='[%s] # '\n" % ns)
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm-256color"
    os.execvp("ip", ["ip", "netns", "exec", ns, "bash", "--rcfile", rc, "-i"])

def chunk(wait=10.0):
    if not select.select([fd], [], [], wait)[0]:
        sys.exit("no answer from the shell")
    return os.read(fd, 65536)

seen, end = b"", time.monotonic() + 10
while ("[%s]" % ns).encode() not in seen:
    seen += chunk(max(end - time.monotonic(), 0.001))
while select.select([fd], [], [], 0.3)[0]:
    os.read(fd, 65536)
for index in range(keys + 20):
    if index % 40 == 39:
        os.write(fd, b"\x15")
        chunk()
    key = bytes([ord("a") + index % 26])
    sent = time.perf_counter()
    os.write(fd, key)
    echo = chunk()
    took = time.perf_counter() - sent
    if key not in echo:
        sys.exit("the echo of %r was %r" % (key, echo))
    if index >= 20:
        print("key %.6f" % (took * 1000))
os.write(fd, b"\x15yes\r")
start, total = time.monotonic(), 0
while time.monotonic() - start < seconds:
    total += len(chunk())
print("yes %d %.3f" % (total, time.monotonic() - start))
os.write(fd, b"\x03")
os.close(fd)
os.waitpid(pid, 0)
os.remove(rc)
"#;

/// What the local pty gave.
pub struct LocalPty {
    /// Keypress to echo, in ms.
    pub key_ms: Vec<f64>,
    /// `yes`'s bytes read, and over how long.
    pub yes_bytes: u64,
    pub yes_seconds: f64,
}

/// Runs the local pty measurement on `namespace` in the sandbox.
pub fn local_pty(sandbox: &Sandbox, namespace: &str, keys: usize, yes_for: Duration) -> Result<LocalPty, String> {
    let output = sandbox
        .command("python3")
        .args(["-c", LOCAL_PTY, namespace, &keys.to_string(), &yes_for.as_secs_f64().to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!("the local pty: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let mut measured = LocalPty { key_ms: Vec::new(), yes_bytes: 0, yes_seconds: 0.0 };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["key", ms] => measured.key_ms.push(ms.parse().map_err(|_| format!("not a time: {line}"))?),
            ["yes", bytes, seconds] => {
                measured.yes_bytes = bytes.parse().map_err(|_| format!("not a count: {line}"))?;
                measured.yes_seconds = seconds.parse().map_err(|_| format!("not a time: {line}"))?;
            }
            _ => {}
        }
    }
    Ok(measured)
}

/// `tcpdump -w FILE -i eth0` in `namespace` while `ping -f` floods from it to `target` for
/// `seconds`: started first (its "listening on" seen), stopped with SIGINT after.
const TCPDUMP_FLOOD: &str = r#"
ns=$1 target=$2 seconds=$3
file=$(mktemp /tmp/nslab-bench-XXXXXX.pcap) said=$(mktemp)
ip netns exec "$ns" tcpdump -i eth0 -n -w "$file" 2>"$said" &
dump=$!
for _ in $(seq 200); do grep -q 'listening on' "$said" && break; sleep 0.05; done
echo "comm $(cat /proc/$dump/comm)"
echo "before $(cat /proc/$dump/stat)"
echo "machine_before $(head -n 1 /proc/stat)"
ip netns exec "$ns" ping -f -q -w "$seconds" "$target"
echo "machine_after $(head -n 1 /proc/stat)"
echo "after $(cat /proc/$dump/stat)"
kill -INT $dump
wait $dump
cat "$said"
rm -f "$file" "$said"
"#;

/// What `tcpdump -w` gave under one flood.
pub struct Tcpdump {
    pub captured: u64,
    pub dropped: u64,
    /// Its CPU time over the flood.
    pub cpu_ms: f64,
    /// ping's own summary line.
    pub ping: String,
    /// The machine's CPU over the flood.
    pub machine: MachineShares,
}

pub fn tcpdump_flood(sandbox: &Sandbox, namespace: &str, target: &str, seconds: u64) -> Result<Tcpdump, String> {
    let output = sandbox
        .command("sh")
        .args(["-c", TCPDUMP_FLOOD, "sh", namespace, target, &seconds.to_string()])
        .output()
        .map_err(|e| format!("cannot run tcpdump: {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout);
    let count = |what: &str| -> Option<u64> {
        let line = said.lines().find(|line| line.ends_with(what))?;
        line.split_whitespace().next()?.parse().ok()
    };
    let cpu = |when: &str| {
        let line = said.lines().find_map(|line| line.strip_prefix(when))?;
        stat_cpu_ms(line).map(|(user, system)| user + system)
    };
    let machine = |when: &str| said.lines().find_map(|line| MachineCpu::parse(line.strip_prefix(when)?));
    let (Some(captured), Some(before), Some(after), Some(machine_before), Some(machine_after)) = (
        count("packets captured"),
        cpu("before "),
        cpu("after "),
        machine("machine_before "),
        machine("machine_after "),
    ) else {
        return Err(format!("tcpdump did not say what it captured: {said}{}", String::from_utf8_lossy(&output.stderr)));
    };
    // Its CPU time is tcpdump's own: `ip netns exec` became tcpdump (it execs, no fork).
    if !said.lines().any(|line| line == "comm tcpdump") {
        return Err(format!("the process timed was not tcpdump: {said}"));
    }
    let ping = said.lines().find(|line| line.contains("packets transmitted")).unwrap_or("(no summary)").trim();
    Ok(Tcpdump {
        captured,
        dropped: count("packets dropped by kernel").unwrap_or_default(),
        cpu_ms: after - before,
        ping: ping.to_string(),
        machine: machine_after.since(machine_before),
    })
}

/// The machine's CPU time so far, all cores together, from the first line of /proc/stat
/// (`cpu user nice system idle iowait irq softirq steal ...`, in clock ticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineCpu {
    /// Not idle (nor waiting for I/O): user, nice, system, irq, softirq, steal.
    pub busy: u64,
    /// Of which the kernel's packet work outside any process (softirq).
    pub softirq: u64,
    pub total: u64,
}

/// What share of all the cores' time went where between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineShares {
    /// Busy, as a share (0 to 1) of all cores' time.
    pub busy: f64,
    pub softirq: f64,
}

impl MachineCpu {
    pub fn now() -> Option<MachineCpu> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        MachineCpu::parse(stat.lines().next()?)
    }

    pub fn parse(line: &str) -> Option<MachineCpu> {
        let mut words = line.split_whitespace();
        if words.next()? != "cpu" {
            return None;
        }
        let ticks: Vec<u64> = words.take(8).map(|word| word.parse().ok()).collect::<Option<_>>()?;
        let [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.try_into().ok()?;
        let busy = user + nice + system + irq + softirq + steal;
        Some(MachineCpu { busy, softirq, total: busy + idle + iowait })
    }

    pub fn since(self, before: MachineCpu) -> MachineShares {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        MachineShares {
            busy: self.busy.saturating_sub(before.busy) as f64 / total,
            softirq: self.softirq.saturating_sub(before.softirq) as f64 / total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machines_cpu_is_read_from_the_first_line_of_proc_stat() {
        let before = MachineCpu::parse("cpu  100 0 50 800 10 5 20 0 0 0").unwrap();
        assert_eq!(before, MachineCpu { busy: 175, softirq: 20, total: 985 });
        let after = MachineCpu::parse("cpu  200 0 150 850 10 5 70 0 0 0").unwrap();
        let shares = after.since(before);
        assert!((shares.busy - 250.0 / 300.0).abs() < 1e-9, "{shares:?}");
        assert!((shares.softirq - 50.0 / 300.0).abs() < 1e-9, "{shares:?}");
        assert_eq!(MachineCpu::parse("cpu0 1 2 3 4 5 6 7 8"), None);
        assert_eq!(MachineCpu::parse("cpu 1 2 three"), None);
    }
}
