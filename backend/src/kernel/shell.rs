//! A shell on a pseudo-terminal inside a node's network namespace, as `ip netns exec NAME
//! $SHELL` starts one: the namespace's network, a private mount namespace with `/sys`
//! mounted for that network and `/etc/netns/NAME/*` bound over `/etc`, so that `ip`,
//! `ping`, `ss`, `tcpdump` and `sysctl` see the namespace. The host node's shell stays in
//! the server's namespaces.
//!
//! Why nix's `posix_openpt` and a forked child (`Command::pre_exec`), not `portable-pty`:
//! entering the namespace has to happen in the child between fork and exec (never on a
//! tokio thread, whose namespace would change for every task after it), and portable-pty's
//! `CommandBuilder` has no hook there. `pre_exec` runs in the child after the standard
//! streams are the terminal: it starts a session, takes the terminal as its controlling
//! one and enters the namespace, with system calls only (no allocation, no lock: the
//! parent has other threads). The master is opened non-blocking and close-on-exec and read
//! through tokio's `AsyncFd`, so no thread waits on it.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::signal::Signal;
use nslab_model::api::TerminalSize;
use nslab_model::identity::Netns;
use tokio::io::unix::AsyncFd;

use super::error::KernelError;
use super::netns::open_netns;
use crate::processes::{all_pids, Process};

/// The terminal type the browser's terminal (xterm.js) understands.
const TERM: &str = "xterm-256color";

/// A bash started on a terminal reads this instead of `~/.bashrc` (which it sources first),
/// so that its prompt names the node whatever the user's own file sets.
const BASH_RC: &str = "[ -f ~/.bashrc ] && . ~/.bashrc\nPS1=\"[$NSLAB_NODE] ${PS1-\\u@\\h:\\w\\$ }\"\n";

/// How often `end_sessions` looks again whether the processes are gone.
const POLL: Duration = Duration::from_millis(20);

/// A running shell: the terminal's master side and the shell, which leads a session of its
/// own (every process it starts, job control's process groups too, is in that session).
pub struct Shell {
    pub pty: Pty,
    pub child: tokio::process::Child,
    pub leader: Process,
}

/// The master side of a pseudo-terminal: what the shell writes is read here, what is
/// written here is the shell's input.
pub struct Pty(AsyncFd<PtyMaster>);

impl Shell {
    /// Starts the user's shell (`$SHELL`, else bash, else sh) on a new terminal in `netns`,
    /// for node `node` (named in `NSLAB_NODE` and the prompt).
    pub fn start(node: &str, netns: &Netns) -> Result<Shell, KernelError> {
        let (master, slave) = open_pty()?;
        let shell = shell_program();
        let is_bash = shell.file_name().is_some_and(|name| name == "bash");
        let entry = Entry::prepare(netns, is_bash.then_some(BASH_RC))?;
        let mut command = tokio::process::Command::new(&shell);
        if let Some(rc) = &entry.rc_file {
            command.arg("--rcfile").arg(format!("/dev/fd/{}", rc.as_raw_fd()));
        }
        command
            .arg("-i")
            .env("TERM", TERM)
            .env("NSLAB_NODE", node)
            .env("PS1", format!("[{node}] # "))
            // The server's own tokens are no business of a shell it starts.
            .env_remove("NSLAB_TOKEN")
            .env_remove("NSLAB_VIEWER_TOKEN")
            .current_dir(std::env::var_os("HOME").filter(|home| Path::new(home).is_dir()).unwrap_or("/".into()))
            .stdin(Stdio::from(slave.try_clone().map_err(|e| KernelError::system("cannot share the terminal", e))?))
            .stdout(Stdio::from(slave.try_clone().map_err(|e| KernelError::system("cannot share the terminal", e))?))
            .stderr(Stdio::from(slave));
        // SAFETY: `enter` makes system calls only, on data prepared before the fork.
        unsafe {
            command.pre_exec(move || entry.enter());
        }
        let child = command
            .spawn()
            .map_err(|error| KernelError::system(format!("cannot start {} in {netns}", shell.display()), error))?;
        // `command` (holding the parent's copies of the terminal's slave side) is dropped
        // here, so the master reads end-of-file once the shell and its children are gone.
        drop(command);
        let pid = child.id().ok_or_else(|| KernelError::system("the shell", io::Error::other("ended at once")))?;
        let leader = Process::read(pid as i32)
            .ok_or_else(|| KernelError::system("the shell", io::Error::other("ended at once")))?;
        // SAFETY: the PtyMaster owns its descriptor, which stays open and the same for as
        // long as the AsyncFd holds it.
        let registered = unsafe { AsyncFd::register(master) };
        let pty = Pty(registered.map_err(|e| KernelError::system("cannot watch the terminal", io::Error::from(e)))?);
        Ok(Shell { pty, child, leader })
    }

    /// Waits for the shell to end.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }
}

impl Pty {
    /// Reads what the shell wrote; 0 once no process has the terminal open any more.
    pub async fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            match ready.try_io(|master| master.get_ref().read(buffer)) {
                // The kernel says EIO on a master whose slave side nobody holds.
                Ok(Err(error)) if error.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes `bytes` as the shell's input, waiting while the terminal's input queue is full.
    pub async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let mut ready = self.0.writable().await?;
            match ready.try_io(|master| master.get_ref().write(bytes)) {
                Ok(Ok(written)) => bytes = &bytes[written..],
                Ok(Err(error)) => return Err(error),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// Sets the terminal's size (`TIOCSWINSZ`); the kernel tells the shell's foreground
    /// job with SIGWINCH.
    pub fn resize(&self, size: TerminalSize) -> io::Result<()> {
        let size = libc::winsize { ws_row: size.rows.max(1), ws_col: size.cols.max(1), ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads one winsize, which outlives the call.
        let result = unsafe { libc::ioctl(self.0.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// A new pseudo-terminal: its master (non-blocking) and its slave side, both close-on-exec
/// from the start, so that no other process this server starts meanwhile inherits them.
fn open_pty() -> Result<(PtyMaster, OwnedFd), KernelError> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let master = posix_openpt(flags).map_err(|e| KernelError::system("cannot open a pseudo-terminal", e))?;
    grantpt(&master).map_err(|e| KernelError::system("cannot open a pseudo-terminal", e))?;
    unlockpt(&master).map_err(|e| KernelError::system("cannot open a pseudo-terminal", e))?;
    let name = ptsname_r(&master).map_err(|e| KernelError::system("cannot name the pseudo-terminal", e))?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .map_err(|e| KernelError::system(format!("cannot open {name}"), e))?;
    Ok((master, slave.into()))
}

/// `$SHELL` when it names a program, else bash, else sh.
fn shell_program() -> PathBuf {
    let user = std::env::var_os("SHELL").map(PathBuf::from).filter(|path| path.is_absolute() && path.is_file());
    user.or_else(|| ["/bin/bash", "/usr/bin/bash"].map(PathBuf::from).into_iter().find(|path| path.is_file()))
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// What the child needs to enter the namespace, made before the fork (the child may not
/// allocate): the namespace's file, the strings of its mounts, the bash rc file.
struct Entry {
    /// None: the host, where the shell stays in the server's namespaces.
    netns: Option<NamespaceEntry>,
    /// The rc file handed to bash as `/dev/fd/N` (a memfd, close-on-exec until the child
    /// clears that flag for itself).
    rc_file: Option<OwnedFd>,
}

struct NamespaceEntry {
    file: File,
    /// The namespace's name, the source of its `/sys` mount (as `ip netns exec` has it).
    name: CString,
    /// `/etc/netns/NAME/X` bound over `/etc/X`, for each X there.
    binds: Vec<(CString, CString)>,
}

impl Entry {
    fn prepare(netns: &Netns, rc: Option<&str>) -> Result<Entry, KernelError> {
        let netns = match netns {
            Netns::Host => None,
            Netns::Named(name) => Some(NamespaceEntry {
                file: open_netns(netns)?,
                name: c_string(name.as_bytes())?,
                binds: etc_binds(name)?,
            }),
        };
        let rc_file = rc.map(rc_file).transpose()?;
        Ok(Entry { netns, rc_file })
    }

    /// In the child, between fork and exec: a session of its own with the terminal (its
    /// standard input) as the controlling one, then the namespace as `ip netns exec` enters
    /// it. System calls only.
    fn enter(&self) -> io::Result<()> {
        // SAFETY (every call below): system calls on descriptors and NUL-terminated strings
        // that `self` owns, and on stack values that outlive each call.
        unsafe {
            check(libc::setsid())?;
            check(libc::ioctl(0, libc::TIOCSCTTY, 0))?;
            if let Some(rc) = &self.rc_file {
                check(libc::fcntl(rc.as_raw_fd(), libc::F_SETFD, 0))?;
            }
            let Some(netns) = &self.netns else { return Ok(()) };
            check(libc::setns(netns.file.as_raw_fd(), libc::CLONE_NEWNET))?;
            check(libc::unshare(libc::CLONE_NEWNS))?;
            // Mounts made from here on stay in this mount namespace.
            let slave = libc::MS_SLAVE | libc::MS_REC;
            check(libc::mount(c"".as_ptr(), c"/".as_ptr(), c"none".as_ptr(), slave, std::ptr::null()))?;
            // A /sys that describes this network namespace; over a read-only one that cannot
            // be unmounted, a read-only one (a read-write one cannot shadow it).
            let mut sys_flags = 0;
            if libc::umount2(c"/sys".as_ptr(), libc::MNT_DETACH) < 0 {
                let mut stats = std::mem::zeroed::<libc::statvfs>();
                if libc::statvfs(c"/sys".as_ptr(), &mut stats) == 0 && stats.f_flag & libc::ST_RDONLY != 0 {
                    sys_flags = libc::MS_RDONLY;
                }
            }
            let sysfs = c"sysfs".as_ptr();
            check(libc::mount(netns.name.as_ptr(), c"/sys".as_ptr(), sysfs, sys_flags, std::ptr::null()))?;
            // As `ip netns exec`: a file that cannot be bound is passed over.
            for (source, target) in &netns.binds {
                libc::mount(source.as_ptr(), target.as_ptr(), c"none".as_ptr(), libc::MS_BIND, std::ptr::null());
            }
        }
        Ok(())
    }
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn c_string(bytes: &[u8]) -> Result<CString, KernelError> {
    CString::new(bytes).map_err(|e| KernelError::system("a name with a NUL byte", io::Error::other(e)))
}

/// The bind mounts `ip netns exec NAME` makes: each entry of `/etc/netns/NAME` over its
/// namesake in `/etc` (none when that directory is absent).
fn etc_binds(name: &str) -> Result<Vec<(CString, CString)>, KernelError> {
    let directory = Path::new("/etc/netns").join(name);
    let Ok(entries) = std::fs::read_dir(&directory) else { return Ok(Vec::new()) };
    let mut binds = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let source = directory.join(&file);
        let target = Path::new("/etc").join(&file);
        binds.push((c_string(source.as_os_str().as_bytes())?, c_string(target.as_os_str().as_bytes())?));
    }
    Ok(binds)
}

/// `text` in an anonymous file, to hand to the shell by descriptor.
fn rc_file(text: &str) -> Result<OwnedFd, KernelError> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let name: &CStr = c"nslab-terminal-rc";
    let fd =
        memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(|e| KernelError::system("cannot make the rc file", e))?;
    let mut file = File::from(fd);
    file.write_all(text.as_bytes()).map_err(|e| KernelError::system("cannot write the rc file", e))?;
    Ok(file.into())
}

/// Ends the sessions that `leaders` lead, as a terminal's hang-up would and then surely:
/// SIGHUP (with SIGCONT, so that a stopped job hears it) to every process of each session,
/// SIGKILL to those still there after `grace`, then waits up to `grace` again. Returns how
/// many processes were still running at the end (ones that may not be signalled).
/// A process that left the session (`setsid`, a daemon) is no longer the terminal's.
/// Blocks: call it from a thread that may block.
pub fn end_sessions(leaders: &[Process], grace: Duration) -> usize {
    let mut ending = Vec::new();
    for signal in [Signal::SIGHUP, Signal::SIGKILL] {
        // Looked up again for the second round: a process may have forked meanwhile.
        for member in session_members(leaders) {
            if !ending.contains(&member) {
                ending.push(member);
            }
        }
        for process in &ending {
            process.signal(signal);
            if signal == Signal::SIGHUP {
                process.signal(Signal::SIGCONT);
            }
        }
        if wait_until_gone(&ending, grace) {
            return 0;
        }
    }
    ending.iter().filter(|process| process.is_running()).count()
}

/// The running processes of the sessions `leaders` lead, the leaders included. A session
/// outlives its leader (a job deaf to SIGHUP stays in it), and its id is the leader's pid,
/// which the kernel hands to no new process while any process is still in the session: so
/// a process in session `leader.pid` is in that leader's session, even after it died.
pub fn session_members(leaders: &[Process]) -> Vec<Process> {
    let sessions: Vec<i32> = leaders.iter().map(|leader| leader.pid).collect();
    let mut members: Vec<Process> = leaders.iter().filter(|leader| leader.is_running()).copied().collect();
    for pid in all_pids() {
        if session_of(pid).is_some_and(|session| sessions.contains(&session)) {
            if let Some(process) = Process::read(pid).filter(|process| !members.contains(process)) {
                members.push(process);
            }
        }
    }
    members
}

/// Field 6 of `/proc/PID/stat`: the session the process is in.
fn session_of(pid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    text[text.rfind(')')? + 1..].split_whitespace().nth(3)?.parse().ok()
}

fn wait_until_gone(processes: &[Process], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !processes.iter().any(Process::is_running) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}
