//! File descriptors. nslab holds a few per namespace (the namespace's file, a netlink
//! socket or two), so a big lab needs many of them.

use std::os::fd::AsFd;

use nix::fcntl::{fcntl, FcntlArg};
use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Descriptors kept ready beyond those the namespaces already present will need: a lab
/// applied later (or drawn in the editor) brings its own.
const HEADROOM: u64 = 4096;

/// What nslab may hold per namespace: its file, a reading socket and a netlink connection,
/// and one spare.
const PER_NAMESPACE: u64 = 4;

/// Makes room for the descriptors of `namespaces` namespaces and more. Call it while the
/// process has one thread: the kernel grows a process's table of descriptors by doubling
/// (from 64), and in a process with several threads each growth waits for an RCU grace
/// period, since another thread may still be using the old table. Reading a 300-namespace
/// lab on two cores lost 10 to 40 ms to those waits. The soft limit on open files is
/// raised (up to the hard one) when it is lower than what the namespaces need.
pub fn reserve(namespaces: usize) {
    let wanted = HEADROOM + PER_NAMESPACE * namespaces as u64;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return };
    let limit = if soft < wanted && soft < hard {
        let raised = wanted.min(hard);
        if setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
            raised
        } else {
            soft
        }
    } else {
        soft
    };
    // The lowest free descriptor at or above the highest one allowed: the table grows to
    // hold it, and keeps that size once it is closed again.
    let highest = wanted.min(limit).saturating_sub(1);
    let Ok(highest) = i32::try_from(highest) else { return };
    if let Ok(spare) = fcntl(std::io::stderr().as_fd(), FcntlArg::F_DUPFD_CLOEXEC(highest)) {
        let _ = nix::unistd::close(spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of this process's descriptor table, as /proc/self/status says.
    fn table_size() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let line = status.lines().find(|line| line.starts_with("FDSize:")).expect("an FDSize line");
        line["FDSize:".len()..].trim().parse().expect("a number")
    }

    #[test]
    fn the_table_holds_what_the_namespaces_need() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let wanted = HEADROOM + PER_NAMESPACE * 300;
        reserve(300);
        assert!(table_size() >= wanted.min(hard), "FDSize {} < {}", table_size(), wanted.min(hard));
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert!(soft >= wanted.min(hard));
    }
}
