//! The processes inside named namespaces. Deleting a namespace that something still runs
//! in (a shell left by `ip netns exec`, a server started there) only takes its name away:
//! the kernel keeps the namespace, and the lab's interfaces in it (and a veth end on a
//! bridge outside), alive until they end. So a run that would delete such a namespace is
//! refused, naming them, the way a busy device is.

use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;

use super::netns::netns_path;
use crate::processes::{self, Process};

/// A process whose network namespace is a named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceUser {
    pub namespace: String,
    pub process: Process,
    /// Its command name (`/proc/PID/comm`).
    pub command: String,
}

impl fmt::Display for NamespaceUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {} (`{}`) in namespace `{}`", self.process.pid, self.command, self.namespace)
    }
}

/// The processes that run in one of the namespaces `names`, by namespace and pid: those
/// whose `/proc/PID/ns/net` is the namespace bound at `/run/netns/NAME` (what `ip netns
/// pids` reports), whose inode is looked up unless `known`. That link is the main
/// thread's, so nslab itself (whose main thread stays in its own namespace, and whose
/// workers enter others only as threads) is never among them. Processes this one may not
/// look at (another user's, as an ordinary user) are not seen.
pub fn users_of<'n>(names: impl IntoIterator<Item = &'n str>, known: &HashMap<String, u64>) -> Vec<NamespaceUser> {
    let inode_of = |name: &str| match known.get(name) {
        Some(inode) => Some(*inode),
        None => std::fs::metadata(netns_path(name)).ok().map(|found| found.ino()),
    };
    let by_inode: HashMap<u64, &str> =
        names.into_iter().filter_map(|name| inode_of(name).map(|inode| (inode, name))).collect();
    if by_inode.is_empty() {
        return Vec::new();
    }
    let mut users: Vec<NamespaceUser> = processes::all_pids()
        .filter_map(|pid| {
            let namespace = by_inode.get(&network_namespace_of(pid)?)?;
            let process = Process::read(pid)?;
            let command = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            Some(NamespaceUser { namespace: namespace.to_string(), process, command: command.trim_end().to_string() })
        })
        .collect();
    users.sort_by(|a, b| (&a.namespace, a.process.pid).cmp(&(&b.namespace, b.process.pid)));
    users
}

/// The inode of the network namespace of process `pid` (`net:[INODE]`).
fn network_namespace_of(pid: i32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
    link.to_str()?.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_no_namespace_has_no_users_and_a_process_namespace_reads_as_an_inode() {
        assert!(users_of(["surely-no-such-namespace-here"], &HashMap::new()).is_empty());
        let own = network_namespace_of(std::process::id() as i32);
        assert!(own.is_some(), "this process's namespace reads as an inode");
    }
}
