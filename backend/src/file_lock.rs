//! An exclusive lock on a file (`flock`), waited for a bounded time: the sandbox's state
//! directory and the machine's run lock (see `run_lock.rs`) are taken this way.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// How often a held lock is tried again.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub enum LockError {
    /// Another process held it for all of the wait.
    Busy,
    Io(io::Error),
}

/// Locks `path` (created, mode 0600, when missing), waiting at most `wait` for whoever
/// holds it. Released when the returned lock is dropped, or when this process ends.
pub fn lock_within(path: &Path, wait: Duration) -> Result<Flock<File>, LockError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(LockError::Io)?;
    let deadline = Instant::now() + wait;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((_, errno)) if errno != Errno::EWOULDBLOCK && errno != Errno::EINTR => {
                return Err(LockError::Io(io::Error::from(errno)))
            }
            Err((unlocked, _)) => file = unlocked,
        }
        if Instant::now() >= deadline {
            return Err(LockError::Busy);
        }
        std::thread::sleep(POLL);
    }
}
