//! Waiting for the kernel to free dropped namespaces. That cleanup runs in a kernel worker
//! after a sandbox is gone and would otherwise slow down whatever is measured next.

use std::time::{Duration, Instant};

use nslab_tests::sandbox::Sandbox;

/// How long `drop_and_settle` waits at the most.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(180);

/// How long a cleanup is given to start before the kernel counts as idle.
pub const SETTLE_GRACE: Duration = Duration::from_millis(500);

/// True while a kernel worker runs the network-namespace cleanup: workqueue workers are
/// named `kworker/...+netns` while they execute work of the `netns` queue (`-netns` once
/// idle). The cleanup of a batch of namespaces is one work item that runs until all are
/// freed. (The net_namespace slab's object count would be simpler, but SLUB counts freed
/// objects in per-CPU partial slabs as live, so it lags by minutes.)
pub fn netns_cleanup_running() -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else { return false };
    for process in processes.flatten() {
        let name = process.file_name();
        if !name.to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        // Kernel workers are single-threaded: their own comm is enough.
        let comm = std::fs::read_to_string(process.path().join("comm")).unwrap_or_default();
        if comm.starts_with("kworker/") && comm.trim_end().ends_with("+netns") {
            return true;
        }
    }
    false
}

/// Waits until the kernel's namespace cleanup has been idle for 100 ms, giving a cleanup
/// `grace` to start first. Bounded by `limit`. Returns whether it settled, and when the
/// cleanup was last seen running (None: never, in this time).
pub fn watch_netns_cleanup(grace: Duration, limit: Duration) -> (bool, Option<Instant>) {
    let started = Instant::now();
    let mut last_seen = None;
    while started.elapsed() < limit {
        let now = Instant::now();
        if netns_cleanup_running() {
            last_seen = Some(now);
        } else {
            let quiet = now.duration_since(last_seen.unwrap_or(started)) >= Duration::from_millis(100);
            if quiet && (last_seen.is_some() || started.elapsed() >= grace) {
                return (true, last_seen);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (false, last_seen)
}

/// Drops the sandbox, then waits (at most `SETTLE_LIMIT`) until the kernel has freed its
/// namespaces, so the cleanup does not run during the next measurement. Returns how long
/// it waited, and whether the kernel settled in that time.
pub fn drop_and_settle(sandbox: Sandbox) -> (Duration, bool) {
    drop(sandbox);
    let started = Instant::now();
    let (settled, _) = watch_netns_cleanup(SETTLE_GRACE, SETTLE_LIMIT);
    (started.elapsed(), settled)
}
