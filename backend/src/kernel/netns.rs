//! Named network namespaces the way `ip netns` makes them, and jobs that run inside one
//! (on the namespace workers, see `workers.rs`).

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nslab_model::identity::Netns;

use super::error::KernelError;
use super::workers;

pub const NETNS_DIR: &str = "/run/netns";

pub fn netns_path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

/// The names under /run/netns, sorted (a missing directory means none).
pub fn list_named() -> Result<Vec<String>, KernelError> {
    let entries = match std::fs::read_dir(NETNS_DIR) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(KernelError::system(format!("cannot read {NETNS_DIR}"), error)),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// A file descriptor of a namespace, to hand to the kernel (IFLA_NET_NS_FD) or to setns.
pub fn open_netns(netns: &Netns) -> Result<File, KernelError> {
    let path = match netns {
        Netns::Host => PathBuf::from("/proc/self/ns/net"),
        Netns::Named(name) => netns_path(name),
    };
    File::open(&path).map_err(|error| KernelError::system(format!("cannot open {}", path.display()), error))
}

/// True when `file` is a namespace (nsfs), not the empty file a name is before its
/// namespace is bound onto it.
pub fn is_namespace_file(file: &File) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    nix::sys::statfs::fstatfs(file).is_ok_and(|stats| stats.filesystem_type().0 == NSFS_MAGIC)
}

/// The mount id of `/run/netns/NAME` that the kernel never hands out again (statx's
/// STATX_MNT_ID_UNIQUE, Linux 6.8 and later): that of the bind mount that made the name a
/// namespace (as `ip netns add` does), while it is there. None when the name is missing,
/// or the kernel is older (a name that is not mounted gives the id of /run/netns itself).
pub fn mount_id(name: &str) -> Option<u64> {
    bound(name).map(|bound| bound.mount)
}

/// What `/run/netns/NAME` is bound to: the unique id of its mount (see `mount_id`) and the
/// inode of the namespace (what `/proc/PID/ns/net` shows as `net:[INODE]`), in one statx.
pub struct Bound {
    pub mount: u64,
    pub inode: u64,
}

pub fn bound(name: &str) -> Option<Bound> {
    let path = std::ffi::CString::new(netns_path(name).into_os_string().into_encoded_bytes()).ok()?;
    let mut found = std::mem::MaybeUninit::<libc::statx>::zeroed();
    let flags = libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT;
    // SAFETY: `path` is a NUL-terminated string and `found` a statx buffer that outlive the call.
    let result =
        unsafe { libc::statx(libc::AT_FDCWD, path.as_ptr(), flags, STATX_MNT_ID_UNIQUE_AND_INO, found.as_mut_ptr()) };
    if result != 0 {
        return None;
    }
    // SAFETY: statx succeeded, so it filled the buffer (which started zeroed anyway).
    let found = unsafe { found.assume_init() };
    let complete = found.stx_mask & STATX_MNT_ID_UNIQUE_AND_INO == STATX_MNT_ID_UNIQUE_AND_INO;
    complete.then_some(Bound { mount: found.stx_mnt_id, inode: found.stx_ino })
}

const STATX_MNT_ID_UNIQUE_AND_INO: u32 = libc::STATX_MNT_ID_UNIQUE | libc::STATX_INO;

/// Runs `job` on a namespace worker inside `netns`. The result comes back by channel, so
/// an async caller never blocks its runtime.
pub async fn run_in<T: Send + 'static>(
    netns: &Netns,
    job: impl FnOnce() -> Result<T, KernelError> + Send + 'static,
) -> Result<T, KernelError> {
    let target = match netns {
        Netns::Host => None,
        Netns::Named(_) => Some(Arc::new(open_netns(netns)?)),
    };
    run_in_file(target, netns, job).await
}

/// `run_in` with the namespace's file open already (None: the host's), as a caller that
/// keeps namespace files has it.
pub async fn run_in_file<T: Send + 'static>(
    target: Option<Arc<File>>,
    netns: &Netns,
    job: impl FnOnce() -> Result<T, KernelError> + Send + 'static,
) -> Result<T, KernelError> {
    let place = netns.to_string();
    on_worker(target, move |entered| {
        entered.map_err(|error| KernelError::Netlink {
            what: format!("cannot enter {place}"),
            message: error.to_string(),
        })?;
        job()
    })
    .await
}

/// Creates `/run/netns/NAME` like `ip netns add`, then runs `job` inside the new namespace
/// (on the same thread, so opening its netlink socket costs no extra setns).
pub async fn create_named<T: Send + 'static>(
    name: &str,
    job: impl FnOnce() -> Result<T, KernelError> + Send + 'static,
) -> Result<T, KernelError> {
    ensure_netns_dir()?;
    let path = netns_path(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|error| KernelError::system(format!("cannot create {}", path.display()), error))?;
    let result = on_worker(None, {
        let path = path.clone();
        move |_| {
            unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|errno| KernelError::system("cannot create a network namespace", errno))?;
            bind_current_netns(&path)?;
            job()
        }
    })
    .await;
    if result.is_err() {
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        let _ = std::fs::remove_file(&path);
    }
    result
}

/// Runs a job that may change the thread's namespace on a namespace worker, which goes
/// back to the host namespace afterwards.
async fn on_worker<T: Send + 'static>(
    target: Option<Arc<File>>,
    job: impl FnOnce(Result<(), KernelError>) -> Result<T, KernelError> + Send + 'static,
) -> Result<T, KernelError> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    workers::submit(workers::Job {
        target,
        work: Box::new(move |entered| {
            let _ = sender.send(job(entered));
        }),
    })?;
    receiver.await.unwrap_or_else(|_| {
        Err(KernelError::Netlink { what: "a namespace worker".into(), message: "ended without an answer".into() })
    })
}

fn bind_current_netns(path: &std::path::Path) -> Result<(), KernelError> {
    mount(Some("/proc/thread-self/ns/net"), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
        .map_err(|errno| KernelError::system(format!("cannot bind the namespace onto {}", path.display()), errno))
}

/// Unmounts and removes `/run/netns/NAME` like `ip netns delete`. The kernel frees the
/// namespace once nothing holds it any more; callers delete its interfaces first so that
/// nothing of it lingers (a veth's peer dies with it, asynchronously otherwise). A name
/// with nothing mounted on it (the empty file an `ip netns add` that died leaves) is
/// removed as it is, as `ip netns delete` does.
pub fn delete_named(name: &str) -> Result<(), KernelError> {
    let path = netns_path(name);
    match umount2(&path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(errno) => return Err(KernelError::system(format!("cannot unmount {}", path.display()), errno)),
    }
    std::fs::remove_file(&path).map_err(|error| KernelError::system(format!("cannot remove {}", path.display()), error))
}

/// /run/netns must exist and be a shared mount point, as iproute2 makes it, so that the
/// namespace files stay visible to other mount namespaces (`ip netns exec` makes one).
fn ensure_netns_dir() -> Result<(), KernelError> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| prepare_netns_dir().map_err(|error| error.to_string()))
        .clone()
        .map_err(|message| KernelError::Netlink { what: format!("cannot prepare {NETNS_DIR}"), message })
}

fn prepare_netns_dir() -> Result<(), KernelError> {
    std::fs::create_dir_all(NETNS_DIR)
        .map_err(|error| KernelError::system(format!("cannot create {NETNS_DIR}"), error))?;
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    if mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>).is_ok() {
        return Ok(());
    }
    // Not a mount point yet: bind it onto itself, then share it (what `ip netns add` does).
    mount(Some(NETNS_DIR), NETNS_DIR, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(|errno| KernelError::system(format!("cannot bind {NETNS_DIR} onto itself"), errno))?;
    mount(None::<&str>, NETNS_DIR, None::<&str>, shared, None::<&str>)
        .map_err(|errno| KernelError::system(format!("cannot make {NETNS_DIR} shared"), errno))
}

pub const IPV4_FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";
pub const IPV6_FORWARDING: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

pub fn write_flag(path: &'static str, on: bool) -> Result<(), KernelError> {
    std::fs::write(path, if on { "1\n" } else { "0\n" })
        .map_err(|error| KernelError::system(format!("cannot write {path}"), error))
}
