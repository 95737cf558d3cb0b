//! Processes as /proc shows them: their children and the CPU time they used.

use std::sync::OnceLock;

use crate::machine::shell_line;

/// Clock ticks per second, the unit of /proc's CPU times (`getconf CLK_TCK`).
pub fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| shell_line("getconf", &["CLK_TCK"]).parse().unwrap_or(100.0))
}

/// User and system CPU time in ms from the text of a `/proc/PID/stat` or
/// `/proc/PID/task/TID/stat`; None when it cannot be read.
pub fn stat_cpu_ms(stat: &str) -> Option<(f64, f64)> {
    // After the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let ms = 1000.0 / clock_ticks();
    Some((field(14)? * ms, field(15)? * ms))
}

/// The children of every thread of a process.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_are_read_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 0 0";
        let ticks = clock_ticks();
        assert_eq!(stat_cpu_ms(stat), Some((250.0 * 1000.0 / ticks, 50.0 * 1000.0 / ticks)));
        assert_eq!(stat_cpu_ms("garbage"), None);
    }
}
