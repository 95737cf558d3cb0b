//! Keeping the namespaces a run deletes until the run is over.
//!
//! Unmounting `/run/netns/NAME` drops what is usually the last reference to the namespace,
//! and the kernel starts tearing it down at once, on a worker thread, beside the unmounts
//! still to come; closing the sockets nslab kept in it is work of the same kind. Each
//! unmount waits for an expedited RCU grace period, and on a kernel without preemption
//! (`PREEMPT_NONE`, as here) that wait stretches to the next point where such work yields
//! whenever the two share a CPU: 20-30 ms, dozens of times. Whether they share one depends
//! on what else the process runs: a lone thread (the CLI) unmounts 1000 namespaces in
//! 13 ms, the same loop with two other threads of its own took 180-290 ms in 8 of 8 runs,
//! and `nslab serve`'s destroy of a 1000-namespace chain took 260-380 ms. Kept, file and
//! sockets, until the last unmount, the namespaces are torn down after it, in one batch:
//! the loop with those threads 11-14 ms, the server's destroy 28-37 ms. Opening and
//! closing the files costs a few ms per thousand, so only a process with other threads
//! (the server) asks for this.

use std::sync::Mutex;

#[derive(Default)]
pub struct KeptForTeardown {
    enabled: bool,
    kept: Mutex<Vec<Box<dyn Send>>>,
}

impl KeptForTeardown {
    pub fn enabled() -> Self {
        KeptForTeardown { enabled: true, kept: Mutex::default() }
    }

    /// Whether deleted namespaces are kept (the caller detaches them only then).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Keeps what holds a deleted namespace alive (its file, sockets) until `release`.
    pub fn keep(&self, keep: impl Send + 'static) {
        self.kept.lock().expect("not poisoned").push(Box::new(keep));
    }

    /// Lets the kernel tear down every namespace kept so far.
    fn release(&self) {
        let kept = std::mem::take(&mut *self.kept.lock().expect("not poisoned"));
        drop(kept);
    }
}

/// Releases what is kept when dropped: at the end of a run, whichever way it ends.
pub struct Release<'a>(pub(super) &'a KeptForTeardown);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::sync::Arc;

    use super::*;
    use crate::kernel::connection::Detached;

    #[test]
    fn what_is_kept_is_let_go_when_the_run_s_guard_goes_and_nothing_is_kept_by_default() {
        assert!(!KeptForTeardown::default().is_enabled());
        let kept = KeptForTeardown::enabled();
        let file = Arc::new(File::open("/dev/null").expect("/dev/null opens"));
        {
            let _run = Release(&kept);
            kept.keep(Detached::of_file(file.clone()));
            assert_eq!(Arc::strong_count(&file), 2, "kept while the run goes on");
        }
        assert_eq!(Arc::strong_count(&file), 1, "let go when it ended");
    }
}
