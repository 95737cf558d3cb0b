//! One run at a time on a machine: an apply or destroy, from the CLI or from a server,
//! holds `/run/nslab/run.lock` from before it reads the kernel until it has ended, so that
//! two runs never plan against the same kernel and then trip over each other's namespaces.
//! A second run waits a bounded time, then says who holds the lock. The lock file names
//! its holder (pid and command line); the kernel lets go of the lock when that process
//! ends, however it ends.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use nix::fcntl::Flock;

use crate::file_lock::{lock_within, LockError};
use crate::records::STATE_DIR;

/// How long a run waits for the one before it.
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub enum RunLockError {
    /// Another run held it for all of the wait.
    Busy {
        path: String,
        holder: String,
    },
    Io(std::io::Error),
}

/// Held while a run goes on; dropped at its end.
pub struct RunLock {
    _lock: Option<Flock<File>>,
}

impl RunLock {
    /// Takes the machine's run lock, waiting for a run that holds it. A process that may
    /// not create `/run/nslab` takes none: it may not change the kernel either, and its run
    /// is refused for that (see `Engine::clear_the_way`).
    pub async fn take() -> Result<RunLock, RunLockError> {
        tokio::task::spawn_blocking(|| take_within(Path::new(STATE_DIR), WAIT))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    /// Takes the lock only if no run holds it now.
    pub async fn try_take() -> Result<RunLock, RunLockError> {
        tokio::task::spawn_blocking(|| take_within(Path::new(STATE_DIR), Duration::ZERO))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }
}

/// Whether a run holds the lock now (a journal is then that run's, not a dead one's).
pub fn is_held() -> bool {
    matches!(take_within(Path::new(STATE_DIR), Duration::ZERO), Err(RunLockError::Busy { .. }))
}

fn take_within(dir: &Path, wait: Duration) -> Result<RunLock, RunLockError> {
    let path = dir.join("run.lock");
    if let Err(error) = std::fs::create_dir_all(dir) {
        return match error.kind() {
            std::io::ErrorKind::PermissionDenied => Ok(RunLock { _lock: None }),
            _ => Err(RunLockError::Io(error)),
        };
    }
    match lock_within(&path, wait) {
        Ok(mut lock) => {
            // Who holds it, for a run that waits in vain; a failure to say so is no reason
            // not to run.
            let _ = lock.set_len(0).and_then(|()| lock.write_all(holder_line().as_bytes()));
            Ok(RunLock { _lock: Some(lock) })
        }
        Err(LockError::Busy) => Err(RunLockError::Busy { path: path.display().to_string(), holder: holder_of(&path) }),
        Err(LockError::Io(error)) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            Ok(RunLock { _lock: None })
        }
        Err(LockError::Io(error)) => Err(RunLockError::Io(error)),
    }
}

/// `process PID (`COMMAND LINE`)`
fn holder_line() -> String {
    let command: Vec<String> = std::env::args().collect();
    format!("process {} (`{}`)\n", std::process::id(), command.join(" "))
}

/// What the lock file says of its holder.
fn holder_of(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
        _ => "a process that did not say which".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_then_names_the_holder_and_takes_it_once_free() {
        let dir = tempfile::tempdir().unwrap();
        let first = take_within(dir.path(), Duration::ZERO).expect("free at first");
        let Err(RunLockError::Busy { path, holder }) = take_within(dir.path(), Duration::from_millis(50)) else {
            panic!("held by the first");
        };
        assert!(holder.starts_with(&format!("process {} (`", std::process::id())), "{holder}");
        assert!(path.ends_with("run.lock"), "{path}");
        drop(first);
        take_within(dir.path(), Duration::ZERO).expect("free once the first run ended");
    }
}
