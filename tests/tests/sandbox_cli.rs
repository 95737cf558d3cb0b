//! `nslab --sandbox` and `nslab sandbox shell|stop|status` on the real kernel, as root and
//! as the unprivileged user nobody. Each test has its own state directory (so its own
//! sandbox), stops it at the end even when it panics, and checks that nothing reached the
//! host: no namespace in the host's `ip netns list`, no new interface, no process left.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nslab_tests::paths::nslab_binary;
use tempfile::TempDir;

const NOBODY: u32 = 65534;
const AS_NOBODY: [&str; 4] = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Root,
    Nobody,
}

/// One test's sandbox: its state directory, and the user nslab runs as. Dropping it runs
/// `nslab sandbox stop`, so a failing test does not leave its sandbox running.
struct TestSandbox {
    state: TempDir,
    user: User,
    binary: PathBuf,
    _binary_copy: Option<TempDir>,
}

impl TestSandbox {
    fn new(user: User) -> TestSandbox {
        let state = tempfile::tempdir().unwrap();
        if user == User::Nobody {
            std::os::unix::fs::chown(state.path(), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let (binary, copy) = binary_runnable_by(user);
        TestSandbox { state, user, binary, _binary_copy: copy }
    }

    fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// `nslab ARGS...` as this sandbox's user, with its state directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = match self.user {
            User::Root => Command::new(&self.binary),
            User::Nobody => {
                let mut setpriv = Command::new("setpriv");
                setpriv.args(AS_NOBODY).arg(&self.binary);
                setpriv
            }
        };
        command.args(args).env("NSLAB_SANDBOX_DIR", self.state_dir()).env_remove("XDG_RUNTIME_DIR").current_dir("/");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("nslab runs")
    }

    /// Runs nslab and returns its standard output; panics with everything when it fails.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(&format!("nslab {args:?}"), self.run(args))
    }

    /// Runs a shell script in the sandbox (`--sandbox` is implied by `sandbox shell`; the
    /// flag is given anyway, as a user would).
    fn sh(&self, script: &str) -> String {
        self.ok(&["--sandbox", "sandbox", "shell", "--", "sh", "-c", script])
    }

    fn holder_pid(&self) -> Option<i32> {
        let status = self.ok(&["sandbox", "status"]);
        let pid = status.split("holder pid ").nth(1)?.split_whitespace().next()?;
        Some(pid.parse().unwrap_or_else(|_| panic!("status names a pid: {status}")))
    }

    fn stop(&self) -> String {
        self.ok(&["sandbox", "stop"])
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        match self.run(&["sandbox", "stop"]) {
            output if output.status.success() => {}
            output => eprintln!("stopping the test sandbox failed: {}", String::from_utf8_lossy(&output.stderr)),
        }
    }
}

fn succeeded(what: &str, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// The build's nslab, or a copy nobody can run when the build directory is closed to them.
fn binary_runnable_by(user: User) -> (PathBuf, Option<TempDir>) {
    let binary = nslab_binary();
    if user == User::Root || runs_as_nobody(&binary) {
        return (binary, None);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join("nslab");
    std::fs::copy(&binary, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(runs_as_nobody(&copy), "nobody cannot run {} either", copy.display());
    (copy, Some(dir))
}

fn runs_as_nobody(binary: &Path) -> bool {
    let status = Command::new("setpriv").args(AS_NOBODY).arg(binary).arg("--version").stdout(Stdio::null()).status();
    status.is_ok_and(|status| status.success())
}

/// What the host has, to compare before and after a test.
#[derive(Debug, PartialEq, Eq)]
struct Host {
    namespaces: BTreeSet<String>,
    links: BTreeSet<String>,
}

fn host() -> Host {
    let ip = |args: &[&str]| succeeded(&format!("host ip {args:?}"), Command::new("ip").args(args).output().unwrap());
    // `ip netns list`: "NAME (id: N)"; `ip -o link`: "N: NAME@PEER: <FLAGS> ...".
    let namespaces =
        ip(&["netns", "list"]).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect();
    let links = ip(&["-o", "link", "show"])
        .lines()
        .filter_map(|line| line.split(": ").nth(1)?.split('@').next().map(String::from))
        .collect();
    Host { namespaces, links }
}

fn assert_nothing_new_on_host(before: &Host) {
    let after = host();
    let new_namespaces: Vec<_> = after.namespaces.difference(&before.namespaces).collect();
    let new_links: Vec<_> = after.links.difference(&before.links).collect();
    assert!(new_namespaces.is_empty(), "namespaces reached the host: {new_namespaces:?}");
    assert!(new_links.is_empty(), "interfaces reached the host: {new_links:?}");
}

/// Alive and not a zombie (a zombie holds no namespace any more).
fn is_running(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect()
}

#[test]
fn a_namespace_made_in_the_sandbox_persists_and_stays_off_the_host() {
    let before = host();
    assert!(!before.namespaces.contains("t1"), "the host already has a namespace t1");
    let sandbox = TestSandbox::new(User::Root);

    sandbox.sh("ip netns add t1 && ip link add sbx-a type veth peer name sbx-b");
    // A second, separate command finds the same sandbox.
    let listed = sandbox.ok(&["sandbox", "shell", "--", "ip", "netns", "list"]);
    assert!(listed.contains("t1"), "a later command does not see t1: {listed}");
    // `nslab --sandbox shell`, the form the other commands take, is the same shell.
    let listed = sandbox.ok(&["--sandbox", "shell", "--", "ip", "netns", "list"]);
    assert!(listed.contains("t1"), "`--sandbox shell` does not see t1: {listed}");
    let links = sandbox.sh("ip -o link show; ip -o link show lo up");
    assert!(links.contains("sbx-a") && links.contains("sbx-b"), "{links}");
    assert!(links.lines().filter(|l| l.contains(": lo:")).count() == 2, "lo is not up in the sandbox: {links}");
    assert_nothing_new_on_host(&before);

    assert!(sandbox.stop().contains("sandbox stopped"));
    assert_nothing_new_on_host(&before);
}

/// nslab raises its own soft limit on open files for big labs (when it reads the kernel);
/// a program it runs in the sandbox gets the limit nslab was started with.
#[test]
fn the_shell_gets_the_open_file_limit_nslab_was_started_with() {
    let sandbox = TestSandbox::new(User::Root);
    let script = r#"ulimit -Sn 1024 && exec "$0" sandbox shell -- sh -c 'ulimit -Sn'"#;
    let output = Command::new("sh")
        .args(["-c", script])
        .arg(&sandbox.binary)
        .env("NSLAB_SANDBOX_DIR", sandbox.state_dir())
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("sh runs");
    assert_eq!(succeeded("nslab sandbox shell under ulimit -Sn 1024", output).trim(), "1024");
    assert!(sandbox.stop().contains("sandbox stopped"));
}

#[test]
fn stop_ends_the_holder_and_every_process_inside() {
    let before = host();
    let sandbox = TestSandbox::new(User::Root);
    // A command left running in a namespace of the sandbox would keep it alive: stop ends it.
    let lingering = sandbox.sh("ip netns add t2 && { ip netns exec t2 sleep 60 >/dev/null 2>&1 & echo $!; }");
    let lingering: i32 = lingering.trim().parse().unwrap();
    let holder = sandbox.holder_pid().expect("status names the holder");
    assert!(is_running(holder) && is_running(lingering));

    assert!(sandbox.stop().contains("nslab: sandbox stopped"));
    assert!(!is_running(holder), "the holder {holder} still runs after stop");
    assert!(!is_running(lingering), "the command {lingering} left in the sandbox still runs after stop");
    assert!(sandbox.ok(&["sandbox", "status"]).contains("not running"));
    assert!(sandbox.stop().contains("no sandbox was running"));
    assert!(!sandbox.state_dir().join("holder.pid").exists(), "stop leaves the pid file");
    assert_nothing_new_on_host(&before);
}

#[test]
fn an_ordinary_user_gets_a_sandbox_through_a_user_namespace() {
    let before = host();
    let sandbox = TestSandbox::new(User::Nobody);

    let inside = sandbox.sh("id -u; ip netns add r1 && ip netns list");
    assert_eq!(lines(&inside), ["0", "r1"], "nobody is root inside and can make a namespace");
    assert!(sandbox.ok(&["sandbox", "shell", "--", "ip", "netns", "list"]).contains("r1"));
    let holder = sandbox.holder_pid().unwrap();
    let owner = std::fs::metadata(format!("/proc/{holder}")).map(|meta| meta.uid());
    assert_eq!(owner.unwrap(), NOBODY, "the holder runs as nobody, without root");

    assert!(sandbox.stop().contains("sandbox stopped"));
    assert!(!is_running(holder));
    assert_nothing_new_on_host(&before);
}

#[test]
fn an_ordinary_user_without_run_netns_on_the_host_gets_a_private_run() {
    let before = host();
    let sandbox = TestSandbox::new(User::Nobody);
    // Pretend the host has an empty /run that nobody cannot write: only in a mount namespace
    // of this test, which the first command (and so the holder it starts) runs in.
    let mut first = Command::new("unshare");
    first.args(["--mount", "--propagation", "private", "--", "sh", "-c"]);
    first.arg(r#"mount -t tmpfs -o mode=0755 nslab-test-run /run && exec "$@""#).arg("sh");
    first.arg("setpriv").args(AS_NOBODY).arg(&sandbox.binary);
    first.args(["--sandbox", "sandbox", "shell", "--", "sh", "-c", "ip netns add f1 && ls /run"]);
    first.env("NSLAB_SANDBOX_DIR", sandbox.state_dir()).current_dir("/");
    let listed = succeeded("the first command in an empty /run", first.output().unwrap());
    assert_eq!(lines(&listed), ["netns", "nslab"], "the sandbox's /run holds only its own directories");

    let later = sandbox.sh("ip netns list; ls /run");
    assert_eq!(lines(&later), ["f1", "netns", "nslab"]);
    assert!(sandbox.stop().contains("sandbox stopped"));
    assert_nothing_new_on_host(&before);
}

#[test]
fn a_stale_pid_file_is_replaced_by_a_fresh_holder() {
    let before = host();
    let sandbox = TestSandbox::new(User::Root);
    let mut finished = Command::new("true").spawn().unwrap();
    let dead = finished.id() as i32;
    finished.wait().unwrap();
    assert!(!is_running(dead));
    std::fs::write(sandbox.state_dir().join("holder.pid"), format!("{dead} 1 4 5 4 6 1\n")).unwrap();
    assert!(sandbox.ok(&["sandbox", "status"]).contains("not running"));

    assert_eq!(lines(&sandbox.sh("ip netns add s1 && ip netns list")), ["s1"]);
    let holder = sandbox.holder_pid().expect("a fresh holder runs");
    assert_ne!(holder, dead);
    assert!(is_running(holder));

    assert!(sandbox.stop().contains("sandbox stopped"));
    assert_nothing_new_on_host(&before);
}

#[test]
fn a_pid_file_naming_another_process_is_not_trusted() {
    let before = host();
    let sandbox = TestSandbox::new(User::Root);
    // A live process with the right start time and namespaces, but not a holder: a reused
    // pid at its worst. Stop ends every process in a holder's namespaces, here the host's.
    // (The pid file holds: pid, start time, network and mount namespace as device and
    // inode, device of /run/netns.)
    let mut bystander = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = bystander.id() as i32;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start_time = stat.rsplit_once(')').unwrap().1.split_whitespace().nth(19).unwrap().to_string();
    let namespace = |name: &str| {
        let meta = std::fs::metadata(format!("/proc/{pid}/ns/{name}")).unwrap();
        format!("{} {}", meta.dev(), meta.ino())
    };
    let record = format!("{pid} {start_time} {} {} 1\n", namespace("net"), namespace("mnt"));
    std::fs::write(sandbox.state_dir().join("holder.pid"), record).unwrap();

    assert!(sandbox.ok(&["sandbox", "status"]).contains("not running"));
    assert!(sandbox.stop().contains("no sandbox was running"));
    assert!(is_running(pid), "stop must not signal a process that is not its holder");
    sandbox.sh("ip netns add b1");
    let holder = sandbox.holder_pid().unwrap();
    assert_ne!(holder, pid);
    assert!(sandbox.stop().contains("sandbox stopped"));
    assert!(is_running(pid), "stopping the sandbox must not touch the bystander");

    bystander.kill().unwrap();
    bystander.wait().unwrap();
    assert_nothing_new_on_host(&before);
}

#[test]
fn a_state_dir_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let impossible = file.join("sandbox");
    let output = Command::new(nslab_binary())
        .args(["--sandbox", "sandbox", "shell", "--", "true"])
        .env("NSLAB_SANDBOX_DIR", &impossible)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let expected =
        format!("nslab: cannot create the sandbox state directory {}: Not a directory", impossible.display());
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains("set NSLAB_SANDBOX_DIR"), "the message says what to do: {stderr}");
}

#[test]
fn refused_user_namespaces_are_a_clear_error() {
    // The switch is per user namespace: turning it off in a namespace of our own (where
    // root and nobody are mapped to themselves) leaves the host's setting alone. The shell
    // started before its uid was mapped, so it has no capabilities: a new process (exec'd
    // as the now mapped root) writes the switch.
    let host_setting = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap();
    let sandbox = TestSandbox::new(User::Nobody);
    let script = r#"echo mapped?; read go
        sh -c 'echo 0 > /proc/sys/user/max_user_namespaces' || exit 99
        exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@""#;
    let mut wrapper = Command::new("unshare")
        .args(["--user", "--", "sh", "-c", script, "sh"])
        .arg(&sandbox.binary)
        .args(["--sandbox", "sandbox", "shell", "--", "true"])
        .env("NSLAB_SANDBOX_DIR", sandbox.state_dir())
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(wrapper.stdout.take().unwrap());
    stdout.read_line(&mut String::new()).unwrap();
    for map in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{}/{map}", wrapper.id()), "0 0 65536").unwrap();
    }
    writeln!(wrapper.stdin.take().unwrap(), "go").unwrap();
    let output = wrapper.wait_with_output().unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "nslab: cannot create the sandbox: this kernel does not allow unprivileged user namespaces \
             (user.max_user_namespaces = 0); run as root or ask your administrator"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap(), host_setting);
}

/// A lab file that `user` can read.
fn lab_file_for(sandbox: &TestSandbox, name: &str) -> PathBuf {
    let copy = sandbox.state_dir().join(format!("{name}.json"));
    std::fs::copy(nslab_tests::paths::example(name), &copy).unwrap();
    if sandbox.user == User::Nobody {
        std::os::unix::fs::chown(&copy, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    copy
}

fn apply_and_destroy_in_the_sandbox(user: User) {
    let before = host();
    let sandbox = TestSandbox::new(user);
    let lab = lab_file_for(&sandbox, "router");
    let lab = lab.to_str().unwrap();
    let applied = sandbox.ok(&["--sandbox", "apply", "--yes", lab]);
    assert!(applied.contains("applied lab `router`"), "{applied}");
    // A later command sees the same lab: the sandbox persisted.
    assert!(sandbox.ok(&["--sandbox", "plan", lab]).contains("nothing to do"));
    let inside = sandbox.sh(
        "ip netns list | cut -d' ' -f1 | sort; ip netns exec left ping -c1 -W1 10.0.2.2 >/dev/null && echo reached",
    );
    assert_eq!(lines(&inside), ["left", "right", "router", "reached"]);
    assert_nothing_new_on_host(&before);
    assert!(sandbox.ok(&["--sandbox", "destroy", "--yes", lab]).contains("destroyed lab `router`"));
    assert_eq!(sandbox.sh("ip netns list").trim(), "");
    assert!(sandbox.stop().contains("sandbox stopped"));
    assert_nothing_new_on_host(&before);
}

#[test]
fn root_applies_and_destroys_a_lab_in_the_sandbox() {
    apply_and_destroy_in_the_sandbox(User::Root);
}

#[test]
fn an_ordinary_user_applies_and_destroys_a_lab_in_the_sandbox() {
    apply_and_destroy_in_the_sandbox(User::Nobody);
}

/// Outside the sandbox an ordinary user may not change the kernel: apply says what it
/// needs and where to get it, before any change, instead of its first step's EPERM.
#[test]
fn an_ordinary_user_outside_the_sandbox_is_told_what_apply_needs() {
    let before = host();
    let sandbox = TestSandbox::new(User::Nobody);
    let lab = lab_file_for(&sandbox, "router");
    let output = sandbox.run(&["apply", "--yes", lab.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("changing the kernel needs CAP_NET_ADMIN and CAP_SYS_ADMIN")
            && stderr.contains("`nslab --sandbox ...`")
            && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_nothing_new_on_host(&before);
}
