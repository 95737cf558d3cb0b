//! Runs that die, on the real kernel in a sandbox: an apply or a destroy killed with SIGKILL
//! at seeded moments spread over the run, a server killed during an apply, and empty files
//! under /run/netns (an `ip netns add` that died). The next plain run finishes what the
//! dead one left (see `nslab_model::journal`), and a destroy then leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use nslab_model::api::PlanView;
use nslab_tests::client::Client;
use nslab_tests::labs::{star, Seeded};
use nslab_tests::paths::{example, nslab_binary};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{NslabServer, ServerOptions};
use reqwest::Method;

/// Namespaces in the star that is killed: enough that a kill lands mid-run.
const STAR: usize = 100;

/// What a lab may leave: nothing but the machine's run lock, and no mount under /run/netns.
const LEFTOVERS: &str = "ip netns list; ls /run/netns; ls /run/nslab | grep -vx run.lock; \
    grep ' /run/netns/' /proc/self/mountinfo; ip -o link show | grep -v ': lo:' || true";

fn assert_empty(sandbox: &Sandbox, after: &str) {
    assert_eq!(sandbox.sh(LEFTOVERS).trim(), "", "something was left behind {after}");
}

fn star_file(dir: &Path) -> PathBuf {
    let file = dir.join("star.json");
    std::fs::write(&file, nslab_model::export::to_json(&star("star", STAR))).unwrap();
    file
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A sandbox, and the star's file in a directory that lives as long as it is kept.
fn sandbox_with_star() -> (Sandbox, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = star_file(dir.path()).to_str().expect("a UTF-8 path").to_string();
    (Sandbox::new(), dir, file)
}

/// How long a whole apply of `file` takes here (destroyed again after): the span the
/// kills of an apply are spread over.
fn apply_span(sandbox: &Sandbox, file: &str) -> Duration {
    let span = whole_run(sandbox, &["apply", "--yes", file]);
    sandbox.nslab_ok(&["destroy", "--yes", file]);
    span
}

/// Starts `nslab ARGS` in the sandbox (nsenter execs it: the child is nslab itself).
fn spawn(sandbox: &Sandbox, args: &[&str]) -> Child {
    sandbox
        .command(nslab_binary().to_str().expect("a UTF-8 path"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nslab starts")
}

/// How long `nslab ARGS` takes here, whole: the span the kills are spread over.
fn whole_run(sandbox: &Sandbox, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = spawn(sandbox, args).wait().expect("nslab ends");
    assert!(status.success(), "nslab {args:?} ran whole: {status}");
    started.elapsed()
}

/// Kills `child` with SIGKILL after `delay` (if it is still running then).
fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// The `round`th of `rounds` moments spread over `span`, each at a seeded place in its slice.
fn moment(span: Duration, round: usize, rounds: usize, seeded: &mut Seeded) -> Duration {
    span.mul_f64((round as f64 + seeded.unit()) / rounds as f64)
}

#[test]
fn an_apply_killed_at_any_moment_is_finished_by_the_next_plain_apply() {
    const ROUNDS: usize = 20;
    let (sandbox, _dir, file) = sandbox_with_star();
    let file = file.as_str();
    let span = apply_span(&sandbox, file);
    let mut seeded = Seeded::new(20);
    let mut finished = 0;
    for round in 0..ROUNDS {
        let delay = moment(span, round, ROUNDS, &mut seeded);
        kill_after(spawn(&sandbox, &["apply", "--yes", file]), delay);
        let after = format!("after an apply killed at {delay:?} (round {round})");
        let again = sandbox.nslab(&["apply", "--yes", file]);
        assert!(again.status.success(), "a plain apply converges {after}:\n{}", text(&again));
        finished += usize::from(text(&again).contains("an apply of lab `star` by process"));
        let plan = sandbox.nslab(&["plan", "--exit-code", file]);
        assert_eq!(plan.status.code(), Some(0), "nothing is left to do {after}:\n{}", text(&plan));
        let destroyed = sandbox.nslab(&["destroy", "--yes", file]);
        assert!(destroyed.status.success(), "destroy {after}:\n{}", text(&destroyed));
        assert_empty(&sandbox, &after);
    }
    eprintln!("{finished} of {ROUNDS} kills left a journal for the next apply");
    assert!(finished > 0, "no kill landed mid-apply: the harness tested nothing");
}

#[test]
fn a_destroy_killed_at_any_moment_is_finished_by_the_next_destroy() {
    const ROUNDS: usize = 10;
    let (sandbox, _dir, file) = sandbox_with_star();
    let file = file.as_str();
    sandbox.nslab_ok(&["apply", "--yes", file]);
    let span = whole_run(&sandbox, &["destroy", "--yes", file]);
    let mut seeded = Seeded::new(10);
    for round in 0..ROUNDS {
        sandbox.nslab_ok(&["apply", "--yes", file]);
        let delay = moment(span, round, ROUNDS, &mut seeded);
        kill_after(spawn(&sandbox, &["destroy", "--yes", file]), delay);
        let after = format!("after a destroy killed at {delay:?} (round {round})");
        let again = sandbox.nslab(&["destroy", "--yes", file]);
        assert!(again.status.success(), "destroy again finishes {after}:\n{}", text(&again));
        assert_empty(&sandbox, &after);
    }
}

/// What a killed apply made is the lab's for destroy too: nothing of it survives.
#[test]
fn an_apply_killed_at_any_moment_is_removed_whole_by_destroy() {
    const ROUNDS: usize = 5;
    let (sandbox, _dir, file) = sandbox_with_star();
    let file = file.as_str();
    let span = apply_span(&sandbox, file);
    let mut seeded = Seeded::new(55);
    for round in 0..ROUNDS {
        let delay = moment(span, round, ROUNDS, &mut seeded);
        kill_after(spawn(&sandbox, &["apply", "--yes", file]), delay);
        let after = format!("after an apply killed at {delay:?} (round {round})");
        let destroyed = sandbox.nslab(&["destroy", "--yes", file]);
        assert!(destroyed.status.success(), "destroy {after}:\n{}", text(&destroyed));
        assert_empty(&sandbox, &after);
    }
}

/// A server killed during an apply and started again: it finishes the dead run itself, and
/// the next apply through it converges.
#[tokio::test(flavor = "current_thread")]
async fn a_server_killed_during_an_apply_finishes_it_when_started_again() {
    const ROUNDS: usize = 5;
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let dir = tempfile::tempdir().unwrap();
    let file = star_file(dir.path());
    let state = tempfile::tempdir().unwrap();
    let start = |lab: Option<&Path>| {
        NslabServer::start_with(ServerOptions {
            sandbox: Some(&sandbox),
            lab,
            state_dir: state.path(),
            extra: &[],
            log_name: "crash-server",
        })
    };
    let server = start(Some(&file));
    let client = Client::new(&server);
    let started = Instant::now();
    assert_eq!(client.request(Method::POST, "/api/apply").send().await.unwrap().status(), 200);
    let span = started.elapsed();
    assert_eq!(client.request(Method::POST, "/api/destroy").send().await.unwrap().status(), 200);
    drop(server);
    let mut seeded = Seeded::new(5);
    for round in 0..ROUNDS {
        let server = start(None);
        let client = Client::new(&server);
        let delay = moment(span, round, ROUNDS, &mut seeded);
        let apply = client.request(Method::POST, "/api/apply").send();
        // The apply's answer never comes: the server is killed first (or it has finished).
        let _ = tokio::time::timeout(delay, apply).await;
        drop(server);
        let after = format!("after a server killed {delay:?} into an apply (round {round})");
        let server = start(None);
        let client = Client::new(&server);
        let applied = client.request(Method::POST, "/api/apply").send().await.unwrap();
        assert_eq!(applied.status(), 200, "apply converges {after}: {}", applied.text().await.unwrap());
        let plan: PlanView = client.request(Method::POST, "/api/plan").send().await.unwrap().json().await.unwrap();
        assert!(plan.ops.is_empty(), "nothing is left to do {after}: {:?}", plan.ops);
        let destroyed = client.request(Method::POST, "/api/destroy").send().await.unwrap();
        assert_eq!(destroyed.status(), 200, "destroy {after}: {}", destroyed.text().await.unwrap());
        drop(server);
        assert_empty(&sandbox, &after);
    }
}

/// `touch /run/netns/stray` is what an `ip netns add` killed before its mount leaves: it
/// stops nothing, every command names it with its fix, and nslab leaves it alone.
#[test]
fn an_empty_namespace_file_stops_nothing_and_is_named_with_its_fix() {
    let sandbox = Sandbox::new();
    let lab = example("seed-bridge");
    let lab = lab.to_str().unwrap();
    sandbox.nslab_ok(&["apply", "--yes", lab]);
    sandbox.sh("touch /run/netns/stray");
    let fix = "`ip netns delete stray` removes it";
    for args in [
        vec!["plan", "--exit-code", lab],
        vec!["apply", "--yes", lab],
        vec!["list"],
        vec!["scan", "--name", "scanned"],
        vec!["destroy", "--yes", lab],
    ] {
        let output = sandbox.nslab(&args);
        assert!(output.status.success(), "nslab {args:?} works beside the file:\n{}", text(&output));
        assert!(text(&output).contains(fix), "nslab {args:?} names the file with its fix:\n{}", text(&output));
    }
    assert_eq!(sandbox.sh("ls /run/netns").trim(), "stray", "a file nslab did not make is left alone");

    // A lab that wants that very name is told what stands in its way and how to clear it.
    sandbox.sh("mv /run/netns/stray /run/netns/ns1");
    let refused = sandbox.nslab(&["apply", "--yes", lab]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("`ip netns delete ns1` removes it"), "{}", text(&refused));
    let changed = "ls /run/netns; ip -o link show | grep -v ': lo:' || true";
    assert_eq!(sandbox.sh(changed).trim(), "ns1", "nothing was changed");
    sandbox.sh("ip netns delete ns1");
    assert_empty(&sandbox, "after the file was cleared");
}

/// The server beside such a file: plan, apply, scan and destroy answer as usual (they
/// answered 500).
#[tokio::test(flavor = "current_thread")]
async fn the_server_works_beside_an_empty_namespace_file() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let lab = example("seed-bridge");
    let server = NslabServer::start_with(ServerOptions {
        sandbox: Some(&sandbox),
        lab: Some(&lab),
        state_dir: state.path(),
        extra: &[],
        log_name: "crash-stray-server",
    });
    let client = Client::new(&server);
    sandbox.sh("touch /run/netns/stray");
    let plan: PlanView = client.request(Method::POST, "/api/plan").send().await.unwrap().json().await.unwrap();
    assert!(plan.notes.iter().any(|note| note.contains("`ip netns delete stray` removes it")), "{:?}", plan.notes);
    for route in ["/api/plan", "/api/apply", "/api/plan", "/api/destroy", "/api/scan"] {
        let response = client.request(Method::POST, route).send().await.unwrap();
        let status = response.status();
        assert_eq!(status, 200, "POST {route}: {}", response.text().await.unwrap());
    }
    drop(server);
    sandbox.sh("ip netns delete stray");
    assert_empty(&sandbox, "after the server's runs");
}
