//! The sandbox behind `--sandbox`: a private network + mount namespace (plus a user
//! namespace when not root) with its own empty `/run/netns` and `/run/nslab`, so that labs
//! built in it never touch the host. The shell version is `tests/fixtures/labs/sandbox.sh`.
//!
//! Why a holder process: a namespace lives only while something uses it. `nslab --sandbox
//! apply` and a later `nslab --sandbox destroy` are two processes, so a small detached
//! process (`nslab sandbox hold`) creates the namespaces and then just sleeps, keeping them
//! alive until `nslab sandbox stop` ends it. Every other command joins the holder's
//! namespaces with setns.
//!
//! Why setns before threads: the kernel lets only a single-threaded process join a user or
//! mount namespace, so `main` calls [`enter`] before anything (tokio, tracing) starts one.
//! Afterwards the whole process, and everything it spawns, lives inside the sandbox.
//!
//! Where the state lives: `$NSLAB_SANDBOX_DIR`, else `$XDG_RUNTIME_DIR/nslab-sandbox`, else
//! `/tmp/nslab-sandbox-<uid>`; a 0700 directory holding the holder's pid file (`holder.pid`),
//! its log (`holder.log`) and a lock file that serialises starting and stopping.
//!
//! Rootless: an ordinary user gets a user namespace that maps them to root, where the kernel
//! allows unprivileged user namespaces. Such a user cannot create `/run/netns` on the host
//! when it is missing; the sandbox then mounts an empty tmpfs over its own view of `/run`
//! and makes both directories there (the host's `/run` is hidden inside the sandbox only).

use std::fmt::Display;
use std::fs::{self, File};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::Flock;
use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{getegid, geteuid, setsid, Gid, Uid};
use thiserror::Error;

use crate::file_lock::{lock_within, LockError};
use crate::processes::{self, read_proc_stat, Process};

/// Overrides where the sandbox's state lives (tests use it to get a private sandbox each).
const STATE_DIR_ENV: &str = "NSLAB_SANDBOX_DIR";
const PID_FILE: &str = "holder.pid";
const LOG_FILE: &str = "holder.log";
const LOCK_FILE: &str = "lock";
/// The directories that must be empty and private in the sandbox.
const RUN_DIRS: [&str; 2] = ["/run/netns", "/run/nslab"];

const READY_TIMEOUT: Duration = Duration::from_secs(5);
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stopping waits for the processes inside after each signal.
const GRACE: Duration = Duration::from_secs(2);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Error)]
pub enum SandboxError {
    #[error("cannot create the sandbox state directory {}: {source}; set NSLAB_SANDBOX_DIR to a directory you can write", dir.display())]
    CreateStateDir { dir: PathBuf, source: io::Error },
    #[error("refusing the sandbox state directory {}: {reason}; remove it or set NSLAB_SANDBOX_DIR to another directory", dir.display())]
    UnsafeStateDir { dir: PathBuf, reason: String },
    #[error("cannot read the sandbox state directory {}: {source}", dir.display())]
    ReadStateDir { dir: PathBuf, source: io::Error },
    #[error("cannot use the sandbox state file {}: {source}", path.display())]
    StateFile { path: PathBuf, source: io::Error },
    #[error("another nslab has been starting or stopping the sandbox in {} for more than {} s; try again later", dir.display(), LOCK_TIMEOUT.as_secs())]
    Busy { dir: PathBuf },
    #[error("cannot start the sandbox holder process: {source}")]
    Spawn { source: io::Error },
    /// The holder's own error, as it wrote it to its log.
    #[error("{message}")]
    HolderFailed { message: String },
    #[error("the sandbox holder stopped while starting ({status}) without saying why; see {}", log.display())]
    HolderExited { status: ExitStatus, log: PathBuf },
    #[error("the sandbox holder did not become ready within {} s; see {}", READY_TIMEOUT.as_secs(), log.display())]
    HolderTimeout { log: PathBuf },
    #[error("a sandbox is already running here (holder pid {pid}); stop it first with `nslab sandbox stop`")]
    AlreadyRunning { pid: i32 },
    #[error("cannot create the sandbox: this kernel does not allow unprivileged user namespaces ({reason}); run as root or ask your administrator")]
    UserNamespacesDisabled { reason: String },
    #[error("cannot create the sandbox: the limit of user namespaces is reached ({limit}); end other sandboxes or containers, or ask your administrator to raise it")]
    UserNamespaceLimit { limit: String },
    #[error("cannot create the sandbox's network and mount namespaces: {errno} (this needs CAP_SYS_ADMIN: run as root, or as an ordinary user where user namespaces are allowed)")]
    Unshare { errno: Errno },
    #[error("cannot set up the sandbox: cannot {step}: {reason}")]
    Setup { step: String, reason: String },
    #[error("cannot bring up the loopback interface in the sandbox: {reason}")]
    Loopback { reason: String },
    #[error("cannot enter the sandbox's {kind} namespace (holder pid {pid}): {reason}")]
    Enter { kind: &'static str, pid: i32, reason: String },
    #[error("refusing to stop process {pid}: it shares the host's namespaces, so it is not a sandbox holder; remove the pid file by hand if it is stale")]
    NotASandbox { pid: i32 },
    #[error("cannot stop the sandbox: process {pids} still running after SIGKILL")]
    StopTimeout { pids: String },
}

// ---------------------------------------------------------------------------------------
// The commands.

/// Joins the sandbox, starting its holder first when none runs. Call it while the process
/// has one thread: the kernel refuses setns into a user or mount namespace otherwise.
pub fn enter() -> Result<(), SandboxError> {
    let state = StateDir::ensure()?;
    let _lock = state.lock()?;
    let holder = match state.running_holder() {
        Some(holder) => holder,
        None => start_holder(&state)?,
    };
    enter_namespaces_of(&holder)?;
    // Whatever runs inside (a shell, a nested `nslab --sandbox`) must find this same sandbox,
    // even where its uid now differs (root in a user namespace). Still single-threaded here,
    // so changing the environment is sound.
    std::env::set_var(STATE_DIR_ENV, &state.path);
    Ok(())
}

/// The holder: creates the namespaces, reports ready through its pid file, then sleeps
/// until SIGTERM or SIGINT.
pub fn hold() -> Result<(), SandboxError> {
    close_inherited_descriptors();
    let state = StateDir::ensure()?;
    let own_pid = std::process::id() as i32;
    if let Some(other) = state.running_holder().filter(|holder| holder.pid != own_pid) {
        return Err(SandboxError::AlreadyRunning { pid: other.pid });
    }
    // Blocked before the pid file exists, so a stop right after "ready" is still a clean exit.
    let stop_signals = block_stop_signals()?;
    create_namespaces()?;
    let netns_dir_dev = prepare_run_dirs()?;
    mount_sysfs_of_this_network();
    bring_loopback_up()?;
    let record = HolderRecord {
        pid: own_pid,
        start_time: own_start_time()?,
        network: own_namespace(Namespace::Network)?,
        mount: own_namespace(Namespace::Mount)?,
        netns_dir_dev,
    };
    state.write_pid_file(&record)?;
    wait_for_stop_signal(&stop_signals);
    state.remove_pid_file_of(&record);
    Ok(())
}

/// Ends the holder and every process still inside the sandbox, so that every namespace,
/// interface and mount in it goes away. Ok(false) when no sandbox was running.
pub fn stop() -> Result<bool, SandboxError> {
    let Some(state) = StateDir::existing()? else {
        return Ok(false);
    };
    let _lock = state.lock()?;
    let Some(holder) = state.running_holder() else {
        state.remove_pid_file()?;
        return Ok(false);
    };
    refuse_host_namespaces(&holder)?;
    let mut targets = vec![Process { pid: holder.pid, start_time: holder.start_time }];
    targets.extend(processes_inside(&holder));
    end_processes(&targets)?;
    state.remove_pid_file()?;
    Ok(true)
}

pub fn status() -> Result<String, SandboxError> {
    let path = state_dir_path()?;
    let holder = StateDir::existing()?.and_then(|state| state.running_holder());
    Ok(match holder {
        Some(holder) => format!("sandbox running: holder pid {} (state in {})", holder.pid, path.display()),
        None => format!("sandbox not running (state in {})", path.display()),
    })
}

/// Runs COMMAND (or an interactive shell) in the sandbox that `main` has already entered;
/// returns its exit code, 128 + N when signal N ended it.
pub fn shell(command: &[String]) -> i32 {
    let (program, args) = match command.split_first() {
        Some((program, args)) => (program.clone(), args),
        None => (default_shell(), &[][..]),
    };
    // Ctrl-C and Ctrl-\ are meant for the command in the terminal, not for nslab waiting on
    // it. Blocking (not ignoring) them keeps the child's defaults: std clears its mask.
    let _ = SigSet::from_iter([Signal::SIGINT, Signal::SIGQUIT]).thread_block();
    match Command::new(&program).args(args).status() {
        Ok(status) => exit_code(status),
        Err(error) => {
            eprintln!("nslab: cannot run {program} in the sandbox: {error}");
            if error.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            }
        }
    }
}

fn default_shell() -> String {
    std::env::var("SHELL").ok().filter(|shell| !shell.is_empty()).unwrap_or_else(|| "/bin/sh".to_string())
}

fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

// ---------------------------------------------------------------------------------------
// The state directory.

/// Where the state lives, from the environment (see the module comment).
fn state_dir_path() -> Result<PathBuf, SandboxError> {
    let chosen = state_dir_from(std::env::var_os(STATE_DIR_ENV), std::env::var_os("XDG_RUNTIME_DIR"), geteuid());
    // The holder runs from `/`: a relative path must mean the same to it.
    std::path::absolute(&chosen).map_err(|source| SandboxError::CreateStateDir { dir: chosen, source })
}

fn state_dir_from(explicit: Option<std::ffi::OsString>, runtime_dir: Option<std::ffi::OsString>, uid: Uid) -> PathBuf {
    let non_empty = |value: Option<std::ffi::OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    non_empty(explicit)
        .or_else(|| non_empty(runtime_dir).map(|dir| dir.join("nslab-sandbox")))
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/nslab-sandbox-{uid}")))
}

struct StateDir {
    path: PathBuf,
}

impl StateDir {
    /// The state directory, created 0700 when missing.
    fn ensure() -> Result<StateDir, SandboxError> {
        let dir = state_dir_path()?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| SandboxError::CreateStateDir { dir: dir.clone(), source })?;
        check_private(&dir)?;
        Ok(StateDir { path: dir })
    }

    /// The state directory if it exists (status and stop create nothing).
    fn existing() -> Result<Option<StateDir>, SandboxError> {
        let dir = state_dir_path()?;
        match fs::symlink_metadata(&dir) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SandboxError::ReadStateDir { dir, source }),
            Ok(_) => {
                check_private(&dir)?;
                Ok(Some(StateDir { path: dir }))
            }
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Serialises starting and stopping: two commands at once must not start two holders.
    fn lock(&self) -> Result<Flock<File>, SandboxError> {
        let path = self.file(LOCK_FILE);
        lock_within(&path, LOCK_TIMEOUT).map_err(|error| match error {
            LockError::Busy => SandboxError::Busy { dir: self.path.clone() },
            LockError::Io(source) => SandboxError::StateFile { path: path.clone(), source },
        })
    }

    /// The holder named by the pid file, if that process is alive and really is our holder.
    fn running_holder(&self) -> Option<HolderRecord> {
        let text = fs::read_to_string(self.file(PID_FILE)).ok()?;
        HolderRecord::parse(&text).filter(is_live_holder)
    }

    /// Written once the sandbox is ready; the rename makes it appear complete or not at all.
    fn write_pid_file(&self, record: &HolderRecord) -> Result<(), SandboxError> {
        let (temporary, path) = (self.file("holder.pid.new"), self.file(PID_FILE));
        fs::write(&temporary, record.to_line())
            .and_then(|()| fs::rename(&temporary, &path))
            .map_err(|source| SandboxError::StateFile { path, source })
    }

    fn remove_pid_file(&self) -> Result<(), SandboxError> {
        let path = self.file(PID_FILE);
        match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                Err(SandboxError::StateFile { path, source: error })
            }
            _ => Ok(()),
        }
    }

    /// On a clean exit the holder removes its own pid file, and only its own.
    fn remove_pid_file_of(&self, record: &HolderRecord) {
        let text = fs::read_to_string(self.file(PID_FILE)).unwrap_or_default();
        if HolderRecord::parse(&text).is_some_and(|found| found == *record) {
            let _ = self.remove_pid_file();
        }
    }
}

/// The directory decides which process we setns into: it must be ours and closed to others.
fn check_private(dir: &Path) -> Result<(), SandboxError> {
    let meta = fs::symlink_metadata(dir).map_err(|source| SandboxError::StateFile { path: dir.into(), source })?;
    let reason = if !meta.is_dir() {
        "it is not a directory (a symbolic link or a file)".to_string()
    } else if meta.uid() != geteuid().as_raw() {
        format!("it belongs to uid {}, not to you (uid {})", meta.uid(), geteuid())
    } else if meta.mode() & 0o022 != 0 {
        "other users can write to it".to_string()
    } else {
        return Ok(());
    };
    Err(SandboxError::UnsafeStateDir { dir: dir.into(), reason })
}

// ---------------------------------------------------------------------------------------
// The pid file and telling our holder apart from any other process.

/// What the holder writes to its pid file once the sandbox is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HolderRecord {
    pid: i32,
    /// From /proc/PID/stat: a reused pid has another start time.
    start_time: u64,
    /// The namespaces the holder made. Stop ends every process in them, so they are checked
    /// against the live process before anything is signalled.
    network: NamespaceId,
    mount: NamespaceId,
    /// The device of the sandbox's own /run/netns tmpfs: processes that still see it are
    /// inside the sandbox (see `processes_inside`).
    netns_dir_dev: u64,
}

impl HolderRecord {
    /// Whether an opened namespace is the one this holder made (a pid can be reused between
    /// checking the holder and opening its namespaces).
    fn made(&self, namespace: Namespace, handle: &File) -> bool {
        let recorded = match namespace {
            Namespace::Network => self.network,
            Namespace::Mount => self.mount,
            Namespace::User => return true,
        };
        handle.metadata().is_ok_and(|meta| (meta.dev(), meta.ino()) == recorded)
    }

    fn to_line(self) -> String {
        let HolderRecord { pid, start_time, network, mount, netns_dir_dev } = self;
        format!("{pid} {start_time} {} {} {} {} {netns_dir_dev}\n", network.0, network.1, mount.0, mount.1)
    }

    fn parse(text: &str) -> Option<HolderRecord> {
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        let mut next = || fields.next()?.ok();
        let record = HolderRecord {
            pid: i32::try_from(next()?).ok()?,
            start_time: next()?,
            network: (next()?, next()?),
            mount: (next()?, next()?),
            netns_dir_dev: next()?,
        };
        (record.pid > 0).then_some(record)
    }
}

fn is_live_holder(record: &HolderRecord) -> bool {
    let process = Process { pid: record.pid, start_time: record.start_time };
    process.is_running()
        && runs_hold_command(record.pid)
        && owned_by_us(record.pid)
        && namespace_id(record.pid, Namespace::Network) == Some(record.network)
        && namespace_id(record.pid, Namespace::Mount) == Some(record.mount)
}

fn runs_hold_command(pid: i32) -> bool {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<&[u8]> = cmdline.split(|byte| *byte == 0).filter(|arg| !arg.is_empty()).collect();
    args.len() == 3 && args[1] == b"sandbox" && args[2] == b"hold"
}

fn owned_by_us(pid: i32) -> bool {
    fs::metadata(format!("/proc/{pid}")).is_ok_and(|meta| meta.uid() == geteuid().as_raw())
}

fn own_namespace(namespace: Namespace) -> Result<NamespaceId, SandboxError> {
    namespace_id("self", namespace).ok_or_else(|| SandboxError::Setup {
        step: format!("look at /proc/self/ns/{}", namespace.proc_name()),
        reason: "unreadable".into(),
    })
}

fn own_start_time() -> Result<u64, SandboxError> {
    read_proc_stat("self")
        .map(|stat| stat.start_time)
        .ok_or_else(|| SandboxError::Setup { step: "read /proc/self/stat".into(), reason: "unreadable".into() })
}

// ---------------------------------------------------------------------------------------
// Starting the holder and joining it.

fn start_holder(state: &StateDir) -> Result<HolderRecord, SandboxError> {
    // Whatever the pid file says is stale here (running_holder found no live holder).
    state.remove_pid_file()?;
    let log_path = state.file(LOG_FILE);
    let log = File::create(&log_path).map_err(|source| SandboxError::StateFile { path: log_path.clone(), source })?;
    let mut child = holder_command(state, log)?.spawn().map_err(|source| SandboxError::Spawn { source })?;
    wait_until_ready(state, &mut child)
}

fn holder_command(state: &StateDir, log: File) -> Result<Command, SandboxError> {
    let log_error = |source| SandboxError::StateFile { path: state.file(LOG_FILE), source };
    let mut command = Command::new("/proc/self/exe");
    command
        .args(["sandbox", "hold"])
        .env(STATE_DIR_ENV, &state.path)
        // Not the caller's directory: the holder must not keep it busy.
        .current_dir("/")
        // Our callers often wait for EOF on our stdout and stderr: the holder keeps neither.
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(log_error)?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe and touches no memory. A session of its own keeps
    // the holder out of the terminal's job control: Ctrl-C in the caller's shell leaves it.
    unsafe {
        command.pre_exec(|| setsid().map(drop).map_err(io::Error::from));
    }
    Ok(command)
}

fn wait_until_ready(state: &StateDir, child: &mut Child) -> Result<HolderRecord, SandboxError> {
    let log = state.file(LOG_FILE);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(|source| SandboxError::Spawn { source })? {
            return Err(holder_start_failure(status, &log));
        }
        if let Some(record) = state.running_holder().filter(|record| record.pid == child.id() as i32) {
            return Ok(record);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SandboxError::HolderTimeout { log });
        }
        sleep(POLL);
    }
}

/// The holder reports its error like any nslab command: "nslab: <sentence>" on stderr.
fn holder_start_failure(status: ExitStatus, log: &Path) -> SandboxError {
    let text = fs::read_to_string(log).unwrap_or_default();
    let message = text.lines().rev().find(|line| !line.trim().is_empty()).and_then(|line| line.strip_prefix("nslab: "));
    match message {
        Some(message) if status.code() == Some(1) => SandboxError::HolderFailed { message: message.to_string() },
        _ => SandboxError::HolderExited { status, log: log.to_path_buf() },
    }
}

#[derive(Debug, Clone, Copy)]
enum Namespace {
    User,
    Mount,
    Network,
}

impl Namespace {
    /// User first: joining it grants the capabilities needed to join the other two.
    const JOIN_ORDER: [Namespace; 3] = [Namespace::User, Namespace::Mount, Namespace::Network];

    fn proc_name(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Mount => "mnt",
            Namespace::Network => "net",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Mount => "mount",
            Namespace::Network => "network",
        }
    }

    fn flag(self) -> CloneFlags {
        match self {
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Mount => CloneFlags::CLONE_NEWNS,
            Namespace::Network => CloneFlags::CLONE_NEWNET,
        }
    }
}

/// A namespace's identity: the device and inode of its /proc/PID/ns file.
type NamespaceId = (u64, u64);

fn namespace_id(pid: impl Display, namespace: Namespace) -> Option<NamespaceId> {
    let meta = fs::metadata(format!("/proc/{pid}/ns/{}", namespace.proc_name())).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Joins the holder's namespaces, skipping those we are already in (a root sandbox has no
/// user namespace of its own; a command run inside the sandbox is in all of them).
fn enter_namespaces_of(holder: &HolderRecord) -> Result<(), SandboxError> {
    let pid = holder.pid;
    let enter_error =
        |namespace: Namespace, reason: String| SandboxError::Enter { kind: namespace.word(), pid, reason };
    let mut handles = Vec::new();
    for namespace in Namespace::JOIN_ORDER {
        let theirs = namespace_id(pid, namespace);
        if theirs.is_some() && theirs == namespace_id("self", namespace) {
            continue;
        }
        let path = format!("/proc/{pid}/ns/{}", namespace.proc_name());
        let handle = File::open(path).map_err(|e| enter_error(namespace, e.to_string()))?;
        if !holder.made(namespace, &handle) {
            return Err(enter_error(namespace, "the holder ended while nslab was joining it; try again".into()));
        }
        handles.push((namespace, handle));
    }
    // Joining a mount namespace moves the working directory to its root: come back to the
    // same path, which the sandbox sees too (it shares the host's files).
    let working_dir = std::env::current_dir().ok();
    for (namespace, handle) in &handles {
        setns(handle, namespace.flag()).map_err(|errno| enter_error(*namespace, errno.to_string()))?;
    }
    if let Some(dir) = working_dir {
        if std::env::set_current_dir(&dir).is_err() {
            eprintln!("nslab: note: {} is hidden inside the sandbox; working in /", dir.display());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The holder's setup, in the order it happens.

/// The holder outlives its caller, so it must not keep the caller's inherited descriptors: a
/// pipe held open here would keep whoever reads its other end waiting until `stop`.
fn close_inherited_descriptors() {
    let listed: Vec<RawFd> = fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    // The listing's own descriptor is closed by now: skip whatever is no longer open.
    for fd in listed.into_iter().filter(|fd| fs::read_link(format!("/proc/self/fd/{fd}")).is_ok()) {
        // SAFETY: this runs first thing in the holder, before it opens anything: every
        // descriptor above 2 was inherited and nothing in this process owns it.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
}

fn block_stop_signals() -> Result<SigSet, SandboxError> {
    let signals = SigSet::from_iter([Signal::SIGTERM, Signal::SIGINT]);
    signals.thread_block().map_err(|errno| setup_error("block SIGTERM", errno))?;
    Ok(signals)
}

fn create_namespaces() -> Result<(), SandboxError> {
    let rootless = !geteuid().is_root();
    let (uid, gid) = (geteuid(), getegid());
    let mut flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS;
    if rootless {
        check_user_namespaces_allowed()?;
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|errno| unshare_error(errno, rootless))?;
    if rootless {
        map_to_root(uid, gid)?;
    }
    // Nothing mounted from now on may propagate back to the host.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|errno| setup_error("make the sandbox's mounts private", errno))
}

/// The switches distributions use to turn unprivileged user namespaces off.
fn check_user_namespaces_allowed() -> Result<(), SandboxError> {
    for setting in ["kernel.unprivileged_userns_clone", "user.max_user_namespaces"] {
        if read_sysctl(setting).as_deref() == Some("0") {
            return Err(SandboxError::UserNamespacesDisabled { reason: format!("{setting} = 0") });
        }
    }
    Ok(())
}

fn read_sysctl(name: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::read_to_string(path).ok().map(|value| value.trim().to_string())
}

fn unshare_error(errno: Errno, rootless: bool) -> SandboxError {
    match errno {
        Errno::EPERM if rootless => SandboxError::UserNamespacesDisabled {
            reason:
                "the kernel refused one with EPERM; a security module, a seccomp filter or a container may forbid them"
                    .into(),
        },
        Errno::ENOSPC | Errno::EUSERS
            if rootless && read_sysctl("user.max_user_namespaces").as_deref() == Some("0") =>
        {
            SandboxError::UserNamespacesDisabled { reason: "user.max_user_namespaces = 0".into() }
        }
        Errno::ENOSPC | Errno::EUSERS if rootless => SandboxError::UserNamespaceLimit {
            limit: format!(
                "user.max_user_namespaces = {}",
                read_sysctl("user.max_user_namespaces").unwrap_or_else(|| "?".into())
            ),
        },
        errno => SandboxError::Unshare { errno },
    }
}

/// Maps us to root inside the new user namespace; setgroups must be denied before an
/// unprivileged process may write gid_map.
fn map_to_root(uid: Uid, gid: Gid) -> Result<(), SandboxError> {
    for (file, content) in [
        ("/proc/self/uid_map", format!("0 {uid} 1")),
        ("/proc/self/setgroups", "deny".into()),
        ("/proc/self/gid_map", format!("0 {gid} 1")),
    ] {
        fs::write(file, content)
            .map_err(|e| SandboxError::Setup { step: format!("write {file}"), reason: e.to_string() })?;
    }
    Ok(())
}

/// Gives the sandbox empty, private /run/netns and /run/nslab; returns the device of the
/// one /run/netns is on (see `HolderRecord::netns_dir_dev`).
fn prepare_run_dirs() -> Result<u64, SandboxError> {
    match RUN_DIRS.iter().try_for_each(fs::create_dir_all) {
        Ok(()) => RUN_DIRS.iter().try_for_each(|dir| mount_tmpfs(dir))?,
        // Rootless, and the host lacks one of them: a private /run, with both made there.
        Err(error) if may_not_create(&error) => {
            eprintln!(
                "nslab: note: cannot create {} on the host ({error}); the sandbox gets its own empty /run",
                RUN_DIRS.join(" and ")
            );
            mount_tmpfs("/run")?;
            RUN_DIRS.iter().try_for_each(fs::create_dir_all).map_err(|e| SandboxError::Setup {
                step: "create /run/netns and /run/nslab in the sandbox's /run".into(),
                reason: e.to_string(),
            })?;
        }
        Err(error) => {
            return Err(SandboxError::Setup {
                step: "create /run/netns and /run/nslab".into(),
                reason: error.to_string(),
            })
        }
    }
    fs::metadata("/run/netns")
        .map(|meta| meta.dev())
        .map_err(|e| SandboxError::Setup { step: "look at /run/netns".into(), reason: e.to_string() })
}

fn may_not_create(error: &io::Error) -> bool {
    matches!(error.raw_os_error().map(Errno::from_raw), Some(Errno::EACCES | Errno::EPERM | Errno::EROFS))
}

fn mount_tmpfs(dir: &str) -> Result<(), SandboxError> {
    mount(Some("nslab-sandbox"), dir, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some("mode=0755"))
        .map_err(|errno| setup_error(&format!("mount a tmpfs on {dir}"), errno))
}

/// sysfs shows the network namespace of whoever mounted it: without a fresh one, tools that
/// read /sys/class/net would list the host's interfaces. `ip netns exec` does the same.
/// Best effort: a sandbox without it still works for netlink and `ip`.
fn mount_sysfs_of_this_network() {
    let mount_sysfs = |flags| mount(Some("sysfs"), "/sys", Some("sysfs"), flags, None::<&str>);
    // Over a read-only /sys (containers) only a read-only sysfs may be mounted.
    if let Err(errno) = mount_sysfs(MsFlags::empty()).or_else(|_| mount_sysfs(MsFlags::MS_RDONLY)) {
        eprintln!("nslab: warning: cannot mount the sandbox's own /sys ({errno}); /sys/class/net shows the host");
    }
}

/// A new network namespace has `lo` down; `ip` is simpler here than an ioctl without libc.
fn bring_loopback_up() -> Result<(), SandboxError> {
    let mut command = Command::new("ip");
    command.args(["link", "set", "lo", "up"]);
    match run_bounded(command, COMMAND_TIMEOUT) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(SandboxError::Loopback { reason: format!("`ip link set lo up` failed ({status})") }),
        Err(error) => Err(SandboxError::Loopback { reason: format!("cannot run `ip` (iproute2): {error}") }),
    }
}

/// Runs a command, killing it when it takes longer than `timeout`.
fn run_bounded(mut command: Command, timeout: Duration) -> io::Result<ExitStatus> {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(io::ErrorKind::TimedOut, format!("no answer within {} s", timeout.as_secs())));
        }
        sleep(POLL);
    }
}

fn wait_for_stop_signal(signals: &SigSet) {
    // sigwait fails only for an invalid set: then there is nothing to wait for.
    while let Ok(signal) = signals.wait() {
        if matches!(signal, Signal::SIGTERM | Signal::SIGINT) {
            return;
        }
    }
}

fn setup_error(step: &str, errno: Errno) -> SandboxError {
    // Ubuntu's AppArmor lets the user namespace be created, then denies what happens in it.
    if errno == Errno::EPERM
        && !geteuid().is_root()
        && read_sysctl("kernel.apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        return SandboxError::UserNamespacesDisabled {
            reason: "kernel.apparmor_restrict_unprivileged_userns = 1".into(),
        };
    }
    SandboxError::Setup { step: step.to_string(), reason: errno.to_string() }
}

// ---------------------------------------------------------------------------------------
// Stopping.

/// The last line of defence before signalling every process in the holder's namespaces: they
/// must not be the host's (those of init and kthreadd, where we may look at them).
fn refuse_host_namespaces(holder: &HolderRecord) -> Result<(), SandboxError> {
    for host_pid in [1, 2] {
        let on_host = namespace_id(host_pid, Namespace::Network) == Some(holder.network)
            || namespace_id(host_pid, Namespace::Mount) == Some(holder.mount);
        if on_host {
            return Err(SandboxError::NotASandbox { pid: holder.pid });
        }
    }
    Ok(())
}

/// What marks a process as inside the sandbox.
struct SandboxMarks {
    network: Option<NamespaceId>,
    mount: Option<NamespaceId>,
    netns_dir_dev: Option<u64>,
}

impl SandboxMarks {
    fn of(holder: &HolderRecord) -> SandboxMarks {
        SandboxMarks {
            // Checked against the live holder by `running_holder`.
            network: Some(holder.network),
            mount: Some(holder.mount),
            // Trusted only while the holder still sees its tmpfs there: once unmounted, its
            // device number may be reused by an unrelated mount (or be the host's /run).
            netns_dir_dev: netns_dir_dev_of(holder.pid).filter(|dev| *dev == holder.netns_dir_dev),
        }
    }

    fn found_in(&self, pid: i32) -> bool {
        let shares = |mark: Option<NamespaceId>, namespace| mark.is_some() && namespace_id(pid, namespace) == mark;
        shares(self.network, Namespace::Network)
            || shares(self.mount, Namespace::Mount)
            || (self.netns_dir_dev.is_some() && netns_dir_dev_of(pid) == self.netns_dir_dev)
    }
}

/// The device of /run/netns as the process sees it (through its own root and mounts).
fn netns_dir_dev_of(pid: i32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/root/run/netns")).ok().map(|meta| meta.dev())
}

/// Every process besides the holder that keeps the sandbox's namespaces alive: those in its
/// network or mount namespace, and those whose mounts derive from its own (`ip netns exec`
/// gives its command a copy of the sandbox's mounts, with the sandbox's /run/netns tmpfs).
fn processes_inside(holder: &HolderRecord) -> Vec<Process> {
    let marks = SandboxMarks::of(holder);
    let own_pid = std::process::id() as i32;
    processes::all_pids()
        .filter(|&pid| pid != own_pid && pid != holder.pid && marks.found_in(pid))
        .filter_map(Process::read)
        .collect()
}

/// SIGTERM, then SIGKILL for whatever is left, each with a bounded wait.
fn end_processes(targets: &[Process]) -> Result<(), SandboxError> {
    let left = processes::end(targets, GRACE);
    if left.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = left.iter().map(|process| process.pid.to_string()).collect();
    Err(SandboxError::StopTimeout { pids: pids.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_is_chosen_in_order() {
        let uid = Uid::from_raw(1000);
        let dir = |explicit: Option<&str>, runtime: Option<&str>| {
            state_dir_from(explicit.map(Into::into), runtime.map(Into::into), uid)
        };
        assert_eq!(dir(Some("/x/box"), Some("/run/user/1000")), PathBuf::from("/x/box"));
        assert_eq!(dir(None, Some("/run/user/1000")), PathBuf::from("/run/user/1000/nslab-sandbox"));
        assert_eq!(dir(Some(""), Some("")), PathBuf::from("/tmp/nslab-sandbox-1000"));
        assert_eq!(dir(None, None), PathBuf::from("/tmp/nslab-sandbox-1000"));
    }

    #[test]
    fn a_holder_record_round_trips_and_bad_ones_are_refused() {
        let record = HolderRecord { pid: 42, start_time: 123_456, network: (4, 5), mount: (4, 6), netns_dir_dev: 77 };
        assert_eq!(HolderRecord::parse(&record.to_line()), Some(record));
        for bad in
            ["", "42", "42 1 4 5 4 6", "x 1 4 5 4 6 7", "0 1 4 5 4 6 7", "-3 1 4 5 4 6 7", "99999999999 1 4 5 4 6 7"]
        {
            assert_eq!(HolderRecord::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn this_process_is_running_and_is_not_a_holder() {
        let pid = std::process::id() as i32;
        let me = Process::read(pid).expect("our own /proc entry");
        assert!(!runs_hold_command(pid));
        let network = namespace_id(pid, Namespace::Network).unwrap();
        let mount = namespace_id(pid, Namespace::Mount).unwrap();
        let record = HolderRecord { pid, start_time: me.start_time, network, mount, netns_dir_dev: 0 };
        assert!(!is_live_holder(&record));
    }

    #[test]
    fn a_holder_in_the_hosts_namespaces_is_refused() {
        // Root sees kthreadd's namespaces; an ordinary user cannot, and there is nothing to test.
        let (Some(network), Some(mount)) = (namespace_id(2, Namespace::Network), namespace_id(2, Namespace::Mount))
        else {
            return;
        };
        let record = HolderRecord { pid: 2, start_time: 0, network, mount, netns_dir_dev: 0 };
        let refused = refuse_host_namespaces(&record).unwrap_err().to_string();
        assert!(refused.contains("not a sandbox holder"), "{refused}");
    }

    #[test]
    fn refused_user_namespaces_are_explained() {
        let message = unshare_error(Errno::EPERM, true).to_string();
        assert!(message.contains("does not allow unprivileged user namespaces"), "{message}");
        assert!(message.contains("run as root"), "{message}");
        let message = unshare_error(Errno::ENOSPC, true).to_string();
        assert!(message.contains("user.max_user_namespaces"), "{message}");
        let message = unshare_error(Errno::EPERM, false).to_string();
        assert!(message.contains("CAP_SYS_ADMIN"), "{message}");
    }

    #[test]
    fn a_holder_error_is_taken_from_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        fs::write(&log, "nslab: note: something\nnslab: cannot create the sandbox: because\n").unwrap();
        let failed = holder_start_failure(ExitStatus::from_raw(1 << 8), &log);
        assert_eq!(failed.to_string(), "cannot create the sandbox: because");
        fs::write(&log, "thread 'main' panicked\nnote: run with RUST_BACKTRACE=1\n").unwrap();
        let crashed = holder_start_failure(ExitStatus::from_raw(101 << 8), &log).to_string();
        assert!(crashed.contains("without saying why") && crashed.contains(LOG_FILE), "{crashed}");
    }
}
