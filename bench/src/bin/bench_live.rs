//! `scripts/bench --only live`: how the live agent (`nslab serve`) meets its targets, measured
//! through its real HTTP API and websocket. A measurement, not a test: it prints times and
//! never asserts on them; it fails only when something is wrong (an event never came, a
//! client missed progress, a lab was not built).
//!
//! 1. A link's admin state changed outside nslab, until the matching `Event::Link` reaches a
//!    websocket client. The changes go through one long-running `ip -n ns0 -batch -` fed over
//!    a pipe (no process start per change); `ip -n ns0 monitor link` beside it shows when the
//!    kernel had made the change, as a floor. 1b: the same in a 300-namespace lab, where the
//!    debounced drift check and the counters reading take longer.
//! 2. `POST /api/matrix` on 30 namespaces on one bridge.
//! 3. A 300-namespace apply with 50 and with 200 websocket clients watching, against the same
//!    apply with none: the wall time, whether every client got every progress event in plan
//!    order, and the server's memory. The clients keep what they receive and read it once
//!    the run is over (browsers parse on their own machines, not on the server's cores).
//! 5. Re-applies and one-link edits of a 300-namespace star through the server.
//! 6. Destroy of a 1000-namespace chain through the server, against one `ip -batch` deleting
//!    the same namespaces in the same sandbox.
//!
//! Every measurement runs in its own fresh sandbox with its own `nslab serve` (the release
//! build next to this binary) and a temporary state directory. The benchmark's threads that
//! talk to the server enter the sandbox's network namespace and end before it is dropped.
//! Between sandboxes it waits for the kernel to finish freeing the dropped namespaces.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::StreamExt;
use nslab_bench::args::{command_line, default_nslab, nslab_or_exit, number, seconds};
use nslab_bench::client::{connect_from, next_event, until_quiet, wait_for, Api, Socket};
use nslab_bench::machine::{Header, HostCheck};
use nslab_bench::process::stat_cpu_ms;
use nslab_bench::settle::{drop_and_settle, SETTLE_LIMIT};
use nslab_bench::{check_valid, median, ms, percentile, sorted, Server};
use nslab_model::api::{
    DroppedEvent, Event, LinkEvent, MatrixReport, OpState, PlanView, ProgressEvent, RunFinishedEvent, RunKind,
    RunReport,
};
use nslab_model::identity::Netns;
use nslab_model::{Lab, Link};
use nslab_tests::sandbox::Sandbox;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Measures the live agent (`nslab serve`), each part in fresh sandboxes. Needs root.
///
/// The parts:
///   link     a link's admin state changed outside nslab (--changes times back to back,
///            then --paced times at random gaps of 0-250 ms) until the websocket event,
///            in the seed-bridge lab
///   link-big both series again in a --star namespace lab (context: the drift
///            check and the counters reading then cover every one of its namespaces)
///   matrix   POST /api/matrix on --matrix-namespaces namespaces on one bridge
///            (--matrix-runs times)
///   clients  a --star namespace apply with each of --clients websocket clients vs none
///            (--repeat times each): wall time, progress delivery, server memory
///   edits    a --star namespace lab applied, then --edits rounds of POST /api/apply
///            with nothing to do, with a one-link edit, and with the edit undone
///   destroy  a --chain namespace chain applied through the server, then POST /api/destroy,
///            against one `ip -batch` of `netns delete` lines on the same chain in the same
///            sandbox (--repeat rounds)
/// --timeout-secs bounds every request and every wait for an event.
#[derive(Parser)]
#[command(name = "bench_live", verbatim_doc_comment)]
struct Args {
    /// The parts to run, in this order.
    #[arg(long, value_name = "PART,...", value_enum, value_delimiter = ',',
          default_values_t = [Part::Link, Part::LinkBig, Part::Matrix, Part::Clients, Part::Edits, Part::Destroy])]
    parts: Vec<Part>,
    /// link: changes back to back.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = number(2..=20_000))]
    changes: usize,
    /// link: changes at random gaps (0: link-big is skipped too).
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = number(0..=2000))]
    paced: usize,
    /// matrix: namespaces on the bridge.
    #[arg(long = "matrix-namespaces", value_name = "N", default_value_t = 30, value_parser = number(2..=200))]
    matrix_namespaces: usize,
    /// matrix: how many times it is asked for.
    #[arg(long = "matrix-runs", value_name = "N", default_value_t = 3, value_parser = number(1..=20))]
    matrix_runs: usize,
    /// link-big, clients, edits: namespaces of the star.
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = number(2..=2000))]
    star: usize,
    /// destroy: namespaces of the chain.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = number(2..=4000))]
    chain: usize,
    /// clients: how many websocket clients watch the apply, each number against none.
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [50, 200],
          value_parser = number(1..=500))]
    clients: Vec<usize>,
    /// link, link-big, clients: the clients do not ask for batches (one event per message, as
    /// an editor from before batches or a script that does not know them).
    #[arg(long)]
    unbatched: bool,
    /// clients, destroy: rounds.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = number(1..=20))]
    repeat: usize,
    /// edits: rounds.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = number(1..=200))]
    edits: usize,
    /// The nslab binary to serve.
    #[arg(long, value_name = "PATH", default_value_os_t = default_nslab())]
    nslab: PathBuf,
    /// Bounds every request and every wait for an event (seconds).
    #[arg(long = "timeout-secs", value_name = "SECS", default_value = "120", value_parser = seconds(5..=3600))]
    timeout: Duration,
    #[arg(skip)]
    command_line: String,
}

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench_live", &args.nslab);
    args.command_line = command_line("scripts/bench --only live");
    std::process::exit(run(&args));
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Part {
    Link,
    LinkBig,
    Matrix,
    Clients,
    Edits,
    Destroy,
}

// ---------------------------------------------------------------------------------------
// The labs.

fn star(name: &str, n: usize, base: Ipv4Addr, prefix: u8) -> Lab {
    let mut lab = nslab_bench::labs::star(name, n, base, prefix);
    lab.description = format!("scripts/bench --only live: {n} namespaces on one bridge.");
    lab
}

/// The star with namespace `n/2`'s eth0 renamed eth1 and given another address.
fn star_edit(lab: &Lab) -> Lab {
    let mut edited = lab.clone();
    let k = edited.links.len() / 2;
    let Link::Veth(veth) = &mut edited.links[k];
    veth.b.name = "eth1".into();
    veth.b.addresses = vec!["10.0.250.250/16".into()];
    edited
}

// ---------------------------------------------------------------------------------------
// The server's process, and the threads that talk to it.

/// VmRSS, VmHWM (peak) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system, all threads) a process has used, in ms. `self` for this one.
fn cpu_ms(pid: &str) -> f64 {
    let (user, system) = cpu_split_ms(pid);
    user + system
}

/// User and system CPU time of a process, in ms.
fn cpu_split_ms(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu_ms(&stat).unwrap_or((f64::NAN, f64::NAN))
}

/// Resets the peak RSS (VmHWM) to the current RSS (`echo 5 > /proc/PID/clear_refs`).
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// A tokio runtime whose threads all live in the network namespace of the calling thread
/// (which has entered the sandbox's), so that every socket it makes reaches the server.
fn runtime_here(worker_threads: usize) -> tokio::runtime::Runtime {
    let netns = Arc::new(File::open("/proc/thread-self/ns/net").expect("this thread's network namespace"));
    let mut builder = if worker_threads == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(worker_threads);
        builder
    };
    builder
        .enable_all()
        .on_thread_start(move || {
            nix::sched::setns(std::os::fd::AsFd::as_fd(&*netns), nix::sched::CloneFlags::CLONE_NEWNET)
                .expect("a runtime thread can enter the sandbox's network namespace");
        })
        .build()
        .expect("a tokio runtime")
}

// ---------------------------------------------------------------------------------------
// 1. Link change -> websocket event.

struct Series {
    label: String,
    /// Change issued -> matching `Event::Link` at the client, ms.
    event: Vec<f64>,
    /// Change issued -> `ip monitor` printed it, ms (the kernel's and iproute2's share).
    monitor: Vec<f64>,
    /// The latest link event -> the drift event that follows it (the debounced drift check),
    /// ms; only in the paced series (drift events are sent when the drift changes).
    drift: Vec<f64>,
    missed: usize,
}

struct LinkResult {
    series: Vec<Series>,
}

/// `ip -n NS -batch -`, fed one command per change.
struct Changer {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Changer {
    fn start(sandbox: &Sandbox, namespace: &str) -> Result<Changer, String> {
        let mut child = sandbox
            .command("ip")
            .args(["-n", namespace, "-batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start ip -batch: {e}"))?;
        let stdin = child.stdin.take();
        Ok(Changer { child, stdin })
    }

    fn issue(&mut self, up: bool) -> Result<(), String> {
        let line = if up { "link set dev eth0 up\n" } else { "link set dev eth0 down\n" };
        let stdin = self.stdin.as_mut().expect("open until finish");
        stdin.write_all(line.as_bytes()).and_then(|_| stdin.flush()).map_err(|e| format!("ip -batch stopped: {e}"))
    }

    /// Closes its input; it ends at once. Bounded: killed after 5 s.
    fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut errors = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut errors);
                }
                return if status.success() { Ok(()) } else { Err(format!("ip -batch: {status}: {errors}")) };
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("ip -batch did not end when its input closed; killed".into())
    }
}

/// `ip -n NS -o monitor link`: every line it prints about eth0, with when it was read.
struct Monitor {
    child: Child,
    lines: mpsc::Receiver<(Instant, bool)>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Monitor {
    fn start(sandbox: &Sandbox, namespace: &str) -> Result<Monitor, String> {
        let mut child = sandbox
            .command("ip")
            .args(["-n", namespace, "-o", "monitor", "link"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start ip monitor: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let at = Instant::now();
                if !line.contains(" eth0@") && !line.contains(" eth0:") {
                    continue;
                }
                // `3: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu ...`
                let flags = line.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(f, _)| f);
                let up = flags.is_some_and(|flags| flags.split(',').any(|flag| flag == "UP"));
                if sender.send((at, up)).is_err() {
                    return;
                }
            }
        });
        Ok(Monitor { child, lines, reader: Some(reader) })
    }

    /// When it first showed eth0 in state `up` at or after `since` (waiting at most `limit`).
    fn seen(&self, since: Instant, up: bool, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok((at, state)) if at >= since && state == up => return Some(at),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// A small deterministic generator for the paced series' gaps (the same every run).
struct Gaps(u64);

impl Gaps {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % (max + 1)
    }
}

const PACED_MAX_GAP_MS: u64 = 250;

/// Which lab the link changes happen in.
enum LinkLab {
    /// The seed-bridge example, imported through the API; changes to ns0's eth0.
    SeedBridge,
    /// A star put as the document; changes to n0's eth0.
    Star(Box<Lab>),
}

async fn link_latency(args: &Args, sandbox: &Sandbox, server: &Server, which: &LinkLab) -> Result<LinkResult, String> {
    let api = Api::new(server, args.timeout);
    let namespace = match which {
        LinkLab::SeedBridge => {
            let view = api.import(&nslab_tests::paths::repo_root().join("examples").join("seed-bridge.json")).await?;
            if view.lab.name != "seed-bridge" {
                return Err(format!("imported `{}`, not seed-bridge", view.lab.name));
            }
            "ns0"
        }
        LinkLab::Star(lab) => {
            api.put_lab(lab).await?;
            "n0"
        }
    };
    let _: RunReport = api.post("/api/apply").await?;
    let mut socket = connect_from(server, !args.unbatched, None).await?;
    wait_for(&mut socket, "snapshot", args.timeout, |e| matches!(e, Event::Snapshot(_))).await?;

    let monitor = Monitor::start(sandbox, namespace)?;
    let mut changer = Changer::start(sandbox, namespace)?;
    let netns = Netns::Named(namespace.into());
    let is_eth0 = |event: &Event, up: bool| matches!(event, Event::Link(LinkEvent { link, .. }) if link.netns == netns && link.name == "eth0" && link.up == up);
    // Warm-up, not counted: the server watches the namespace (it subscribes right after the
    // apply) and ip monitor is listening.
    let wait = Duration::from_secs(10).min(args.timeout);
    for round in 0..4 {
        let up = round % 2 == 1;
        changer.issue(up)?;
        wait_for(&mut socket, "eth0's change (warm-up)", wait, |e| is_eth0(e, up)).await?;
    }
    until_quiet(&mut socket, Duration::from_millis(400), Duration::from_secs(5)).await?;
    while monitor.lines.try_recv().is_ok() {}

    let mut series = Vec::new();
    let mut gaps = Gaps(0x6e736c6162);
    let plans = [
        (format!("{} changes, back to back", args.changes), args.changes, false),
        (format!("{} changes, random gaps of 0-{PACED_MAX_GAP_MS} ms", args.paced), args.paced, true),
    ];
    for (label, count, paced) in plans {
        if count == 0 {
            continue;
        }
        let mut one =
            Series { label, event: Vec::with_capacity(count), monitor: Vec::new(), drift: Vec::new(), missed: 0 };
        // eth0 is up after the warm-up: the first change takes it down.
        let mut up = true;
        let mut last_event: Option<Instant> = None;
        for _ in 0..count {
            if paced {
                // The gap: whatever the server sends meanwhile (counters, drift) is read now,
                // not counted in the next change's time. The first drift event after a link
                // event shows when the debounced drift check ended.
                let gap = Duration::from_millis(gaps.next_ms(PACED_MAX_GAP_MS));
                let gap_end = tokio::time::Instant::now() + gap;
                while let Some(event) = next_event(&mut socket, gap_end).await? {
                    if let (Event::Drift(_), Some(at)) = (&event, last_event.take()) {
                        one.drift.push(ms(at.elapsed()));
                    }
                }
            }
            up = !up;
            let issued = Instant::now();
            changer.issue(up)?;
            let deadline = tokio::time::Instant::from_std(issued + wait);
            let mut arrived = None;
            while let Some(event) = next_event(&mut socket, deadline).await? {
                if is_eth0(&event, up) {
                    arrived = Some(Instant::now());
                    break;
                }
                if let (Event::Drift(_), true, Some(at)) = (&event, paced, last_event.take()) {
                    one.drift.push(ms(at.elapsed()));
                }
            }
            last_event = arrived;
            match arrived {
                Some(at) => one.event.push(ms(at - issued)),
                None => one.missed += 1,
            }
            if let Some(at) = monitor.seen(issued, up, Duration::from_secs(1)) {
                one.monitor.push(ms(at - issued));
            }
        }
        // Leave eth0 up, as the lab has it, before the next series.
        if !up {
            changer.issue(true)?;
            wait_for(&mut socket, "eth0 up again", wait, |e| is_eth0(e, true)).await?;
        }
        until_quiet(&mut socket, Duration::from_millis(400), Duration::from_secs(5)).await?;
        while monitor.lines.try_recv().is_ok() {}
        series.push(one);
    }
    changer.finish()?;
    drop(monitor);
    Ok(LinkResult { series })
}

// ---------------------------------------------------------------------------------------
// 2. The reachability matrix.

struct MatrixRun {
    server_ms: f64,
    client_ms: f64,
    pairs: usize,
    reachable: usize,
    unreachable_examples: Vec<String>,
}

struct MatrixResult {
    namespaces: usize,
    addresses: usize,
    runs: Vec<MatrixRun>,
    ready_after: Duration,
}

async fn matrix(args: &Args, sandbox: &Sandbox, server: &Server, lab: &Lab) -> Result<MatrixResult, String> {
    let api = Api::new(server, args.timeout);
    api.put_lab(lab).await?;
    let _: RunReport = api.post("/api/apply").await?;
    // Until IPv4 pings work: every namespace reaches the bridge, and the first the last.
    let n = args.matrix_namespaces;
    let base = Ipv4Addr::new(10, 30, 0, 0);
    let last = Ipv4Addr::from(u32::from(base) + n as u32 + 1);
    let script = format!(
        "for i in $(seq 0 {}); do ip netns exec n$i ping -c1 -W1 10.30.0.1 >/dev/null || exit 1; done; \
         ip netns exec n0 ping -c1 -W1 {last} >/dev/null",
        n - 1
    );
    let started = Instant::now();
    let mut ready = false;
    for _ in 0..15 {
        if sandbox.try_sh(&script).status.success() {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if !ready {
        return Err("IPv4 pings between the namespaces did not work within 15 tries".into());
    }
    let ready_after = started.elapsed();
    let mut runs = Vec::new();
    for _ in 0..args.matrix_runs {
        let started = Instant::now();
        let report: MatrixReport = api.post("/api/matrix").await?;
        let client_ms = ms(started.elapsed());
        let reachable = report.cells.iter().filter(|cell| cell.reachable).count();
        let unreachable_examples = report
            .cells
            .iter()
            .filter(|cell| !cell.reachable)
            .take(3)
            .map(|cell| {
                format!(
                    "{} -> {}: {}",
                    cell.source.name().unwrap_or("host"),
                    cell.target,
                    cell.error.as_deref().unwrap_or("no answer in time")
                )
            })
            .collect();
        runs.push(MatrixRun {
            server_ms: report.elapsed_ms,
            client_ms,
            pairs: report.cells.len(),
            reachable,
            unreachable_examples,
        });
    }
    let (sources, targets) = nslab_model::ping::matrix_of(lab);
    Ok(MatrixResult { namespaces: sources.len(), addresses: targets.len(), runs, ready_after })
}

// ---------------------------------------------------------------------------------------
// 3. An apply watched by many clients.

/// What one websocket client received during the run, kept as it came: it is read only once
/// the run is over (`read_log`), so that the clients' parsing, which browsers do on their
/// own machines, does not compete with the server for this machine's cores.
#[derive(Default)]
struct ClientLog {
    messages: Vec<Utf8Bytes>,
    /// When the run's end (`RunFinished`) arrived.
    finished: Option<Instant>,
    error: Option<String>,
}

/// How the server sends a run's end: a message of its own, never in a batch, `type` first.
const RUN_FINISHED: &str = r#"{"type":"run_finished""#;

async fn watch_run(mut socket: Socket, mut stop: tokio::sync::watch::Receiver<bool>) -> ClientLog {
    let mut log = ClientLog::default();
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = stop.changed() => break,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                log.error = Some(format!("the event stream failed: {e}"));
                break;
            }
            None => {
                log.error = Some("the event stream closed".into());
                break;
            }
        };
        let end = text.starts_with(RUN_FINISHED);
        log.messages.push(text);
        if end {
            log.finished = Some(Instant::now());
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
    log
}

/// What a client's messages said.
#[derive(Default)]
struct Seen {
    progress: Vec<(usize, OpState, String)>,
    dropped: Vec<u64>,
    messages: usize,
    batches: usize,
    bytes: usize,
    finished: bool,
    error: Option<String>,
}

fn read_log(log: &ClientLog) -> Seen {
    let mut seen = Seen { messages: log.messages.len(), error: log.error.clone(), ..Seen::default() };
    for text in &log.messages {
        seen.bytes += text.len();
        let event: Event = match serde_json::from_str(text.as_str()) {
            Ok(event) => event,
            Err(e) => {
                seen.error = Some(format!("a bad event ({e})"));
                break;
            }
        };
        seen.batches += usize::from(matches!(event, Event::Batch(_)));
        for event in event.into_events() {
            match event {
                Event::Progress(ProgressEvent { run: RunKind::Apply, progress }) => {
                    seen.progress.push((progress.index, progress.state, progress.command))
                }
                Event::Dropped(DroppedEvent { missed }) => seen.dropped.push(missed),
                Event::RunFinished(RunFinishedEvent { run: RunKind::Apply, .. }) => seen.finished = true,
                _ => {}
            }
        }
    }
    seen
}

struct ApplyRun {
    clients: usize,
    ops: usize,
    wall_ms: f64,
    server_ms: f64,
    /// From the apply's request until the last client had `RunFinished` (all clients had it).
    delivered_ms: Option<f64>,
    /// Clients that got exactly every progress event, in plan order, and the run's end.
    complete: usize,
    progress_per_client: (usize, usize),
    messages_per_client: (usize, usize),
    batches_per_client: (usize, usize),
    bytes_per_client: (usize, usize),
    dropped: u64,
    dropped_clients: usize,
    problems: Vec<String>,
    /// KiB: RSS with the clients connected before the apply, peak during it, RSS after.
    rss_before: u64,
    peak: Option<u64>,
    rss_after: u64,
    /// Ops planned once the apply is done (0: the kernel holds the lab).
    plan_after: usize,
    /// CPU ms of the server, and of this process (the clients), from the apply's request
    /// until every client had its end.
    server_cpu_ms: f64,
    /// Of which in user space (the rest is system calls: netlink requests, socket writes).
    server_user_ms: f64,
    clients_cpu_ms: f64,
}

async fn watched_apply(args: &Args, server: &Server, lab: &Lab, clients: usize) -> Result<ApplyRun, String> {
    let api = Api::new(server, args.timeout);
    api.put_lab(lab).await?;
    let plan: PlanView = api.post("/api/plan").await?;
    let expected: Vec<(usize, OpState, String)> =
        plan.ops.iter().enumerate().map(|(i, op)| (i, OpState::Done, op.command.clone())).collect();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(clients);
    for i in 0..clients {
        // Each client from an address of its own (127.1.0.1, 127.1.0.2, ...), as browsers are.
        let from = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 1, 0, 1)) + i as u32);
        let mut events = connect_from(server, !args.unbatched, Some(from)).await?;
        wait_for(&mut events, "snapshot", args.timeout, |e| matches!(e, Event::Snapshot(_))).await?;
        readers.push(tokio::spawn(watch_run(events.socket, stopped.clone())));
    }
    // Let the server settle after the document change and the connections.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (rss_before, _) = memory(server.pid);
    let peak_reset = reset_peak(server.pid);
    let server_pid = server.pid.to_string();
    let (server_cpu, own_cpu) = (cpu_split_ms(&server_pid), cpu_ms("self"));
    let started = Instant::now();
    let report: RunReport = api.post("/api/apply").await?;
    let answered = Instant::now();
    let wall_ms = ms(answered - started);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30).min(args.timeout);
    let mut logs = Vec::with_capacity(clients);
    for mut reader in readers {
        let log = match tokio::time::timeout_at(deadline, &mut reader).await {
            Ok(log) => log,
            Err(_) => {
                let _ = stop.send(true);
                reader.await
            }
        };
        logs.push(log.map_err(|e| format!("a client task failed: {e}"))?);
    }
    let (rss_after, peak) = memory(server.pid);
    let server_now = cpu_split_ms(&server_pid);
    let server_cpu = (server_now.0 - server_cpu.0, server_now.1 - server_cpu.1);
    let own_cpu = cpu_ms("self") - own_cpu;
    let after: PlanView = api.post("/api/plan").await?;

    let mut problems = Vec::new();
    if report.ops != plan.ops.len() {
        problems.push(format!("the run reports {} ops, the plan before it had {}", report.ops, plan.ops.len()));
    }
    let seen: Vec<Seen> = logs.iter().map(read_log).collect();
    let mut complete = 0;
    for (index, seen) in seen.iter().enumerate() {
        if seen.progress == expected && seen.finished && seen.error.is_none() {
            complete += 1;
            continue;
        }
        let diverge = seen.progress.iter().zip(&expected).position(|(got, want)| got != want);
        let what = match diverge {
            Some(at) => format!("event {at} is {:?}, expected {:?}", seen.progress[at], expected[at]),
            None => format!("{} progress events of {}", seen.progress.len(), expected.len()),
        };
        if problems.len() < 5 {
            problems.push(format!(
                "client {index}: {what}{}{}{}",
                if seen.finished { "" } else { ", no end of the run" },
                if seen.dropped.is_empty() { String::new() } else { format!(", dropped {:?}", seen.dropped) },
                seen.error.as_deref().map(|e| format!(", {e}")).unwrap_or_default()
            ));
        }
    }
    let spread =
        |values: Vec<usize>| (values.iter().copied().min().unwrap_or(0), values.into_iter().max().unwrap_or(0));
    let delivered_ms = if logs.iter().all(|log| log.finished.is_some()) {
        logs.iter().filter_map(|log| log.finished).max().map(|last| ms(last.saturating_duration_since(started)))
    } else {
        None
    };
    Ok(ApplyRun {
        clients,
        ops: plan.ops.len(),
        wall_ms,
        server_ms: report.elapsed_ms,
        delivered_ms,
        complete,
        progress_per_client: spread(seen.iter().map(|seen| seen.progress.len()).collect()),
        messages_per_client: spread(seen.iter().map(|seen| seen.messages).collect()),
        batches_per_client: spread(seen.iter().map(|seen| seen.batches).collect()),
        bytes_per_client: spread(seen.iter().map(|seen| seen.bytes).collect()),
        dropped: seen.iter().flat_map(|seen| &seen.dropped).sum(),
        dropped_clients: seen.iter().filter(|seen| !seen.dropped.is_empty()).count(),
        problems,
        rss_before,
        peak: peak_reset.then_some(peak),
        rss_after,
        plan_after: after.ops.len(),
        server_cpu_ms: server_cpu.0 + server_cpu.1,
        server_user_ms: server_cpu.0,
        clients_cpu_ms: if clients == 0 { 0.0 } else { own_cpu },
    })
}

// ---------------------------------------------------------------------------------------
// Sandboxes, and waiting for the kernel to free them.

/// Runs `measure` in a fresh sandbox with a fresh server, on a thread of its own that
/// enters the sandbox's network namespace (and ends before the sandbox is dropped); then
/// waits until the kernel has freed the sandbox's namespaces.
fn in_sandbox<T: Send>(
    args: &Args,
    worker_threads: usize,
    measure: impl FnOnce(&Sandbox, &Server, &tokio::runtime::Runtime) -> Result<T, String> + Send,
) -> Result<T, String> {
    let sandbox = Sandbox::new();
    let wait = args.timeout.min(Duration::from_secs(30));
    let result = Server::start(Some(&sandbox), &args.nslab, None, wait).and_then(|server| {
        let result = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    sandbox.enter_network_here();
                    let runtime = runtime_here(worker_threads);
                    let result = measure(&sandbox, &server, &runtime);
                    runtime.shutdown_timeout(Duration::from_secs(5));
                    result
                })
                .join()
                .unwrap_or_else(|_| Err("the measuring thread panicked".into()))
        });
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(format!("{error}\n  the server's log ends:\n{}", server.log_tail())),
        }
    });
    if !drop_and_settle(sandbox).1 {
        println!(
            "note: the kernel was still freeing namespaces {} s after a sandbox was dropped",
            SETTLE_LIMIT.as_secs()
        );
    }
    result
}

// ---------------------------------------------------------------------------------------
// Reporting.

fn fmt_ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// "12 % longer" or "3 % less time".
fn longer(with: f64, without: f64) -> String {
    let change = (with / without - 1.0) * 100.0;
    if change >= 0.0 {
        format!("{change:.0} % longer")
    } else {
        format!("{:.0} % less time", -change)
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn range(pair: (usize, usize)) -> String {
    if pair.0 == pair.1 {
        pair.0.to_string()
    } else {
        format!("{}..{}", pair.0, pair.1)
    }
}

/// Rows of the Markdown table, filled as the parts finish.
/// Round trips of POST /api/apply (client ms) with the ops the server ran.
#[derive(Default)]
struct DestroyRuns {
    agent: Vec<f64>,
    ip_batch: Vec<f64>,
}

/// `--repeat` rounds of: the chain applied through the server, then `POST /api/destroy`
/// timed (it returns when the namespaces' names are free); the chain applied again, then
/// one `ip -batch` of its `netns delete` lines, timed inside the sandbox (bash's clock
/// around `ip` alone, so no process start of the benchmark's counts against it). Each
/// timed command starts 2 s after the apply before it, each apply 2 s after the kernel
/// began tearing the last chain down: the server's drift check and the kernel's teardown
/// are then over, as they would be for a teacher.
async fn destroys(args: &Args, sandbox: &Sandbox, server: &Server, lab: &Lab) -> Result<DestroyRuns, String> {
    let api = Api::new(server, args.timeout);
    api.put_lab(lab).await?;
    let batch = tempfile::NamedTempFile::new().map_err(|error| format!("a temporary file: {error}"))?;
    let lines: String = lab.namespace_names().map(|name| format!("netns delete {name}\n")).collect();
    std::fs::write(batch.path(), lines).map_err(|error| format!("{}: {error}", batch.path().display()))?;
    let pause = || tokio::time::sleep(Duration::from_secs(2));
    let mut runs = DestroyRuns::default();
    for _ in 0..args.repeat {
        let _: RunReport = api.post("/api/apply").await?;
        pause().await;
        let started = Instant::now();
        let _: RunReport = api.post("/api/destroy").await?;
        runs.agent.push(ms(started.elapsed()));
        pause().await;
        let _: RunReport = api.post("/api/apply").await?;
        pause().await;
        let script = format!(
            "s=$EPOCHREALTIME; ip -batch {} || exit 1; e=$EPOCHREALTIME; echo $(( (${{e/./}} - ${{s/./}}) ))",
            batch.path().display()
        );
        let output = sandbox.command("bash").args(["-c", &script]).output().map_err(|error| error.to_string())?;
        let micros: f64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("ip -batch failed: {}", String::from_utf8_lossy(&output.stderr)))?;
        runs.ip_batch.push(micros / 1000.0);
        pause().await;
    }
    Ok(runs)
}

fn print_destroys(runs: &DestroyRuns, args: &Args, summary: &mut Summary) {
    println!();
    println!(
        "== 6. through the agent: POST /api/destroy of a {}-namespace chain, against one `ip -batch` of its \
         `netns delete` lines ({} rounds each, in one sandbox)",
        args.chain, args.repeat
    );
    println!("  {:<44} {:>9} {:>9} {:>9}", "destroy", "median ms", "min ms", "max ms");
    for (what, series) in [("POST /api/destroy", &runs.agent), ("ip -batch (netns delete)", &runs.ip_batch)] {
        let all = sorted(series);
        println!(
            "  {:<44} {:>9} {:>9} {:>9}",
            what,
            fmt_ms(median(series).unwrap_or(f64::NAN)),
            fmt_ms(*all.first().unwrap_or(&f64::NAN)),
            fmt_ms(*all.last().unwrap_or(&f64::NAN))
        );
    }
    let (agent, ip) = (median(&runs.agent).unwrap_or(f64::NAN), median(&runs.ip_batch).unwrap_or(f64::NAN));
    println!("  the agent's destroy took {:.2}x the time of `ip -batch`", agent / ip);
    summary.rows.push([
        format!("destroy of a {}-namespace chain through the agent (median)", args.chain),
        format!("{} ms; `ip -batch` {} ms", fmt_ms(agent), fmt_ms(ip)),
        "no slower than `ip -batch`".into(),
    ]);
}

#[derive(Default)]
struct EditRuns {
    reapply: Vec<(f64, usize)>,
    edit: Vec<(f64, usize)>,
    undo: Vec<(f64, usize)>,
}

/// Applies `lab` through the server, then `--edits` rounds of: apply again (nothing to do),
/// the one-link edit, and the lab as it was. Each document change is put before the
/// clock starts: only the apply request (read the kernel, plan, run, verify) is timed.
async fn edits(args: &Args, server: &Server, lab: &Lab) -> Result<EditRuns, String> {
    let api = Api::new(server, args.timeout);
    let edited = star_edit(lab);
    api.put_lab(lab).await?;
    let _: RunReport = api.post("/api/apply").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let timed_apply = || async {
        // After each change the server checks the whole lab for drift and reads counters;
        // a teacher's edits come seconds apart: let that finish, as it would.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let started = Instant::now();
        let report: RunReport = api.post("/api/apply").await?;
        Ok::<_, String>((ms(started.elapsed()), report.ops))
    };
    let mut runs = EditRuns::default();
    for _ in 0..args.edits {
        runs.reapply.push(timed_apply().await?);
        api.put_lab(&edited).await?;
        runs.edit.push(timed_apply().await?);
        api.put_lab(lab).await?;
        runs.undo.push(timed_apply().await?);
    }
    Ok(runs)
}

fn print_edits(runs: &EditRuns, args: &Args, summary: &mut Summary) {
    println!();
    println!(
        "== 5. through the agent: POST /api/apply on a {}-namespace star already applied ({} rounds; the server \
         keeps its sockets, so a reading of the kernel costs less than a fresh `nslab apply` process's)",
        args.star, args.edits
    );
    println!("  {:<44} {:>9} {:>9} {:>9} {:>6}", "apply", "median ms", "p90 ms", "max ms", "ops");
    let mut medians = Vec::new();
    for (what, series) in [
        ("nothing to do (re-apply)", &runs.reapply),
        ("one-link edit (rename + readdress)", &runs.edit),
        ("the edit undone", &runs.undo),
    ] {
        let times: Vec<f64> = series.iter().map(|(ms, _)| *ms).collect();
        let all = sorted(&times);
        let ops = series.iter().map(|(_, ops)| *ops).max().unwrap_or(0);
        let median = median(&times).unwrap_or(f64::NAN);
        medians.push((median, ops));
        println!(
            "  {:<44} {:>9} {:>9} {:>9} {:>6}",
            what,
            fmt_ms(median),
            fmt_ms(percentile(&all, 90.0)),
            fmt_ms(*all.last().unwrap_or(&f64::NAN)),
            ops
        );
    }
    summary.rows.push([
        format!("re-apply of an unchanged {}-namespace star, through the agent (median)", args.star),
        format!("{} ms, {} ops", fmt_ms(medians[0].0), medians[0].1),
        "< 100 ms, 0 changes".into(),
    ]);
    summary.rows.push([
        format!("one-link edit of a {}-namespace star, through the agent (median)", args.star),
        format!("{} ms, {} ops", fmt_ms(medians[1].0), medians[1].1),
        "< 50 ms, a handful of ops".into(),
    ]);
}

#[derive(Default)]
struct Summary {
    rows: Vec<[String; 3]>,
    goals: Vec<String>,
    failed: bool,
}

/// `title` says where the changes happen; `goal` whether this result counts for the goal.
fn print_link(result: &LinkResult, title: &str, lab: &str, goal: bool, summary: &mut Summary) {
    println!();
    println!("== {title}");
    println!(
        "  {:<52} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "series (ms from the write to ip's input)", "n", "p50", "p90", "p99", "max", "missed"
    );
    let row = |what: String, values: &[f64], missed: String| {
        let all = sorted(values);
        println!(
            "  {what:<52} {:>6} {:>8} {:>8} {:>8} {:>8} {missed:>7}",
            all.len(),
            fmt_ms(percentile(&all, 50.0)),
            fmt_ms(percentile(&all, 90.0)),
            fmt_ms(percentile(&all, 99.0)),
            fmt_ms(all.last().copied().unwrap_or(f64::NAN)),
        );
    };
    for series in &result.series {
        row(format!("{}: websocket event", series.label), &series.event, series.missed.to_string());
        row("  `ip monitor` printed it (the floor)".into(), &series.monitor, String::new());
        if !series.drift.is_empty() {
            row("  link event -> drift event (settle 100 ms + check)".into(), &series.drift, String::new());
        }
        let event = sorted(&series.event);
        let monitor = sorted(&series.monitor);
        if !event.is_empty() && !monitor.is_empty() {
            println!(
                "  {:<52} nslab's own share at the median: {} ms",
                "",
                fmt_ms(percentile(&event, 50.0) - percentile(&monitor, 50.0))
            );
        }
    }
    let mut worst_p99: f64 = 0.0;
    for series in &result.series {
        let all = sorted(&series.event);
        if all.is_empty() {
            continue;
        }
        let p99 = percentile(&all, 99.0);
        worst_p99 = worst_p99.max(p99);
        let monitor = sorted(&series.monitor);
        let drift = sorted(&series.drift);
        summary.rows.push([
            format!("link change -> websocket `Event::Link`, {lab}, {}", series.label),
            format!(
                "p50 {} / p90 {} / p99 {} / max {} ms{} (`ip monitor` printed it at p50 {} ms{})",
                fmt_ms(percentile(&all, 50.0)),
                fmt_ms(percentile(&all, 90.0)),
                fmt_ms(p99),
                fmt_ms(*all.last().expect("not empty")),
                if series.missed > 0 { format!(", {} missed", series.missed) } else { String::new() },
                fmt_ms(percentile(&monitor, 50.0)),
                if drift.is_empty() {
                    String::new()
                } else {
                    format!("; the drift event followed at p50 {} ms", fmt_ms(percentile(&drift, 50.0)))
                }
            ),
            if goal { "p99 < 100 ms".into() } else { "(context)".into() },
        ]);
        if series.missed > 0 {
            summary.failed = true;
        }
    }
    if goal {
        let missed: usize = result.series.iter().map(|s| s.missed).sum();
        summary.goals.push(format!(
            "Link change to websocket event, p99 under 100 ms: {} (worst p99 {} ms{}).",
            if worst_p99 < 100.0 && missed == 0 { "met" } else { "NOT met" },
            fmt_ms(worst_p99),
            if missed > 0 { format!(", {missed} changes never arrived") } else { String::new() }
        ));
    }
}

fn print_matrix(result: &MatrixResult, summary: &mut Summary) {
    println!();
    println!(
        "== 2. reachability matrix: {} namespaces on one bridge, every namespace pings every one of {} IPv4 \
         addresses (IPv4 pings worked {} ms after the apply returned)",
        result.namespaces,
        result.addresses,
        fmt_ms(ms(result.ready_after))
    );
    println!("  {:<10} {:>14} {:>14} {:>7} {:>10}", "run", "server ms", "client ms", "pairs", "reachable");
    for (i, run) in result.runs.iter().enumerate() {
        let label = if i == 0 { "1 (first)".to_string() } else { (i + 1).to_string() };
        println!(
            "  {label:<10} {:>14} {:>14} {:>7} {:>10}",
            fmt_ms(run.server_ms),
            fmt_ms(run.client_ms),
            run.pairs,
            run.reachable
        );
        for example in &run.unreachable_examples {
            println!("    unreachable: {example}");
        }
    }
    let worst = result.runs.iter().map(|run| run.client_ms).fold(0.0, f64::max);
    let all_reached = result.runs.iter().all(|run| run.reachable == run.pairs && run.pairs > 0);
    if !all_reached {
        summary.failed = true;
    }
    let first = &result.runs[0];
    let later: Vec<f64> = result.runs[1..].iter().map(|run| run.client_ms).collect();
    summary.rows.push([
        format!("`POST /api/matrix`, {} namespaces on one bridge ({} pairs)", result.namespaces, first.pairs),
        format!(
            "first: {} ms in the server, {} ms at the client{}; {} of {} pairs reachable{}",
            fmt_ms(first.server_ms),
            fmt_ms(first.client_ms),
            match median(&later) {
                Some(m) => format!("; then median {} ms at the client ({} runs)", fmt_ms(m), later.len()),
                None => String::new(),
            },
            first.reachable,
            first.pairs,
            if all_reached { " in every run" } else { " (NOT all, see the log)" }
        ),
        "under 2 s".into(),
    ]);
    summary.goals.push(format!(
        "Reachability matrix of {} pairs under 2 s: {} (slowest run {} ms at the client{}).",
        first.pairs,
        if worst < 2000.0 && all_reached { "met" } else { "NOT met" },
        fmt_ms(worst),
        if all_reached { ", every pair reachable" } else { ", NOT every pair reachable" }
    ));
}

fn print_apply(runs: &[ApplyRun], args: &Args, summary: &mut Summary) {
    let counts: Vec<String> = args.clients.iter().map(ToString::to_string).collect();
    println!();
    println!(
        "== 3. apply of a {}-namespace star with {} websocket clients watching vs none ({} repetition(s), \
         alternating; the clients {}); they run in this process, on the same 2 cores as the server",
        args.star,
        counts.join(" or "),
        args.repeat,
        if args.unbatched { "do not ask for batches" } else { "ask for batches" }
    );
    println!(
        "  {:>7} {:>5} {:>9} {:>9} {:>11} {:>11} {:>10} {:>9} {:>15} {:>11} {:>9} {:>11} {:>8} {:>10} {:>10} {:>10} {:>6}",
        "clients",
        "ops",
        "wall ms",
        "server ms",
        "server CPU",
        "client CPU",
        "all had it",
        "complete",
        "progress/client",
        "msgs/client",
        "batches",
        "KiB/client",
        "dropped",
        "RSS before",
        "peak",
        "RSS after",
        "plan"
    );
    for run in runs {
        println!(
            "  {:>7} {:>5} {:>9} {:>9} {:>11} {:>11} {:>10} {:>9} {:>15} {:>11} {:>9} {:>11} {:>8} {:>10} {:>10} {:>10} {:>6}",
            run.clients,
            run.ops,
            fmt_ms(run.wall_ms),
            fmt_ms(run.server_ms),
            fmt_ms(run.server_cpu_ms),
            fmt_ms(run.clients_cpu_ms),
            run.delivered_ms.map(fmt_ms).unwrap_or_else(|| if run.clients == 0 { "-".into() } else { "never".into() }),
            if run.clients == 0 { "-".into() } else { format!("{}/{}", run.complete, run.clients) },
            range(run.progress_per_client),
            range(run.messages_per_client),
            range(run.batches_per_client),
            range((run.bytes_per_client.0 / 1024, run.bytes_per_client.1 / 1024)),
            if run.dropped == 0 { "0".to_string() } else { format!("{} ({} cl.)", run.dropped, run.dropped_clients) },
            mib(run.rss_before),
            run.peak.map(mib).unwrap_or_else(|| "?".into()),
            mib(run.rss_after),
            run.plan_after
        );
        for problem in &run.problems {
            println!("    problem: {problem}");
        }
    }
    println!(
        "  (wall: POST /api/apply at the client; server: the run's elapsed_ms; server CPU, client CPU: ms of CPU used \
         by nslab serve and by this process's clients from the request until every client had its end (the kernel's \
         own work for the apply is in neither); all had it: from the apply's request until the last client had \
         RunFinished; complete: clients that got every progress event (one Done per op) in plan order, and the end; \
         msgs: websocket messages, of which batches; the clients keep what they receive and read it once the run is \
         over; peak: VmHWM, reset just before the apply; plan: ops planned after the apply)"
    );
    let of = |clients: usize| runs.iter().filter(|run| run.clients == clients).collect::<Vec<&ApplyRun>>();
    let med =
        |list: &[&ApplyRun], pick: fn(&ApplyRun) -> f64| median(&list.iter().map(|r| pick(r)).collect::<Vec<_>>());
    let without = of(0);
    let Some(wall_without) = med(&without, |r| r.wall_ms) else { return };
    let cpu_without = med(&without, |r| r.server_cpu_ms).unwrap_or(f64::NAN);
    let user_without = med(&without, |r| r.server_user_ms).unwrap_or(f64::NAN);
    println!(
        "  median with none: apply {} ms (server-side {} ms); nslab serve {} ms of CPU ({} in user space)",
        fmt_ms(wall_without),
        fmt_ms(med(&without, |r| r.server_ms).unwrap_or(f64::NAN)),
        fmt_ms(cpu_without),
        fmt_ms(user_without)
    );
    let plans_empty = runs.iter().all(|r| r.plan_after == 0);
    let mut times = vec![format!("{} ms with none", fmt_ms(wall_without))];
    let mut cpus = vec![format!("{} ms with none", fmt_ms(cpu_without))];
    let mut delivery = Vec::new();
    let mut memory =
        vec![format!("{} with none", mib(med(&without, |r| r.peak.unwrap_or(0) as f64).unwrap_or(0.0) as u64))];
    let mut goals = Vec::new();
    let mut all_complete = plans_empty;
    for &clients in &args.clients {
        let with = of(clients);
        let Some(wall_with) = med(&with, |r| r.wall_ms) else { continue };
        let ratio = wall_with / wall_without;
        let cpu_with = med(&with, |r| r.server_cpu_ms).unwrap_or(f64::NAN);
        let cpu_clients = med(&with, |r| r.clients_cpu_ms).unwrap_or(f64::NAN);
        let complete = with.iter().all(|r| r.complete == r.clients && r.problems.is_empty());
        let dropped: u64 = with.iter().map(|r| r.dropped).sum();
        all_complete &= complete && dropped == 0;
        println!(
            "  median with {clients}: apply {} ms ({ratio:.2}x the time with none; server-side {} ms); nslab serve {} \
             ms of CPU ({} in user space); the clients {} ms",
            fmt_ms(wall_with),
            fmt_ms(med(&with, |r| r.server_ms).unwrap_or(f64::NAN)),
            fmt_ms(cpu_with),
            fmt_ms(med(&with, |r| r.server_user_ms).unwrap_or(f64::NAN)),
            fmt_ms(cpu_clients)
        );
        times.push(format!("{} ms with {clients} ({ratio:.2}x)", fmt_ms(wall_with)));
        cpus.push(format!("{} ms with {clients}", fmt_ms(cpu_with)));
        let spread = |pick: fn(&ApplyRun) -> (usize, usize)| {
            range((
                with.iter().map(|r| pick(r).0).min().unwrap_or(0),
                with.iter().map(|r| pick(r).1).max().unwrap_or(0),
            ))
        };
        delivery.push(format!(
            "{} of {clients} clients got all {} in plan order in every run, {} `Event::Dropped`, {} messages per \
             client ({} of them batches), the last had `RunFinished` {} ms after the request",
            with.iter().map(|r| r.complete).min().unwrap_or(0),
            with[0].ops,
            dropped,
            spread(|r| r.messages_per_client),
            spread(|r| r.batches_per_client),
            med(&with, |r| r.delivered_ms.unwrap_or(f64::NAN)).map(fmt_ms).unwrap_or_else(|| "?".into())
        ));
        memory.push(format!(
            "{} with {clients} ({} before, {} after)",
            mib(med(&with, |r| r.peak.unwrap_or(0) as f64).unwrap_or(0.0) as u64),
            mib(med(&with, |r| r.rss_before as f64).unwrap_or(0.0) as u64),
            mib(med(&with, |r| r.rss_after as f64).unwrap_or(0.0) as u64),
        ));
        goals.push(format!(
            "with {clients} clients the apply takes {ratio:.2}x the time ({}), every client got every progress \
             event in plan order: {}",
            longer(wall_with, wall_without),
            if complete && dropped == 0 { "yes" } else { "NO" }
        ));
    }
    if !all_complete {
        summary.failed = true;
    }
    let ops = runs.first().map_or(0, |run| run.ops);
    let watchers = counts.join(" / ");
    summary.rows.push([
        format!("apply of a {}-namespace star ({ops} ops), 0 / {watchers} websocket clients", args.star),
        format!("{}; nslab serve used {} of CPU; median of {}", times.join(", "), cpus.join(", "), args.repeat),
        "at most 1.5x with 50".into(),
    ]);
    summary.rows.push([
        format!("progress delivered to {watchers} clients"),
        delivery.join("; "),
        "every event, in order".into(),
    ]);
    summary.rows.push([
        "server memory during that apply".into(),
        format!("peak RSS {}", memory.join(", ")),
        "-".into(),
    ]);
    summary.goals.push(format!("A {}-namespace apply watched: {}.", args.star, goals.join("; ")));
}

fn fail(summary: &mut Summary, what: &str, error: String) {
    println!("\nFAILED: {what}: {error}");
    summary.failed = true;
}

fn run(args: &Args) -> i32 {
    let host = HostCheck::start();
    let header = Header::print("nslab live agent benchmark", &args.command_line);
    println!(
        "nslab:    {} serve ({}), each measurement in a fresh sandbox",
        args.nslab.display(),
        header.commit_note()
    );

    let mut summary = Summary::default();

    if args.parts.contains(&Part::Link) {
        eprintln!("bench_live: link changes ...");
        let which = LinkLab::SeedBridge;
        let result = in_sandbox(args, 0, |sandbox, server, runtime| {
            runtime.block_on(link_latency(args, sandbox, server, &which))
        });
        match result {
            Ok(result) => {
                let title = "1. link change -> websocket event (seed-bridge applied; ns0's eth0 down/up through \
                             `ip -n ns0 -batch -`)";
                print_link(&result, title, "seed-bridge", true, &mut summary)
            }
            Err(error) => fail(&mut summary, "link change -> websocket event", error),
        }
    }

    if args.parts.contains(&Part::LinkBig) && args.paced > 0 {
        eprintln!("bench_live: link changes in a {}-namespace star ...", args.star);
        let lab = star("bench-live-links", args.star, Ipv4Addr::new(10, 0, 0, 0), 16);
        let which = LinkLab::Star(Box::new(lab));
        let result = in_sandbox(args, 0, |sandbox, server, runtime| {
            runtime.block_on(link_latency(args, sandbox, server, &which))
        });
        match result {
            Ok(result) => {
                let title = format!(
                    "1b. the same in a {}-namespace star (n0's eth0), where every drift check and every counters \
                     reading covers {} namespaces",
                    args.star, args.star
                );
                print_link(&result, &title, &format!("{}-namespace star", args.star), false, &mut summary)
            }
            Err(error) => fail(&mut summary, "link change -> websocket event in a big lab", error),
        }
    }

    if args.parts.contains(&Part::Matrix) {
        eprintln!("bench_live: matrix ...");
        let lab = star("bench-matrix", args.matrix_namespaces, Ipv4Addr::new(10, 30, 0, 0), 24);
        let result = check_valid(&lab).and_then(|_| {
            in_sandbox(args, 0, |sandbox, server, runtime| runtime.block_on(matrix(args, sandbox, server, &lab)))
        });
        match result {
            Ok(result) => print_matrix(&result, &mut summary),
            Err(error) => fail(&mut summary, "reachability matrix", error),
        }
    }

    if args.parts.contains(&Part::Clients) {
        let lab = star("bench-watched", args.star, Ipv4Addr::new(10, 0, 0, 0), 16);
        let mut runs = Vec::new();
        match check_valid(&lab) {
            Err(error) => fail(&mut summary, "watched apply", error),
            Ok(()) => {
                'rounds: for round in 0..args.repeat {
                    for clients in std::iter::once(0).chain(args.clients.iter().copied()) {
                        eprintln!("bench_live: apply with {clients} clients ({}/{}) ...", round + 1, args.repeat);
                        // Two workers: the clients read in parallel, as separate browsers would.
                        let result = in_sandbox(args, 2, |_, server, runtime| {
                            runtime.block_on(watched_apply(args, server, &lab, clients))
                        });
                        match result {
                            Ok(run) => runs.push(run),
                            Err(error) => {
                                fail(&mut summary, &format!("apply with {clients} clients"), error);
                                break 'rounds;
                            }
                        }
                    }
                }
                if !runs.is_empty() {
                    print_apply(&runs, args, &mut summary);
                }
            }
        }
    }

    if args.parts.contains(&Part::Edits) {
        eprintln!("bench_live: re-applies and one-link edits in a {}-namespace star ...", args.star);
        let lab = star("bench-edits", args.star, Ipv4Addr::new(10, 0, 0, 0), 16);
        let result = check_valid(&lab)
            .and_then(|_| in_sandbox(args, 0, |_, server, runtime| runtime.block_on(edits(args, server, &lab))));
        match result {
            Ok(result) => print_edits(&result, args, &mut summary),
            Err(error) => fail(&mut summary, "re-apply and one-link edit through the agent", error),
        }
    }

    if args.parts.contains(&Part::Destroy) {
        eprintln!("bench_live: destroys of a {}-namespace chain ...", args.chain);
        let lab = nslab_bench::labs::chain("bench-destroy", args.chain);
        let result = check_valid(&lab).and_then(|_| {
            in_sandbox(args, 0, |sandbox, server, runtime| runtime.block_on(destroys(args, sandbox, server, &lab)))
        });
        match result {
            Ok(result) => print_destroys(&result, args, &mut summary),
            Err(error) => fail(&mut summary, "destroy through the agent", error),
        }
    }

    println!("\n== Markdown ({}, commit {})\n", header.date, header.commit);
    println!("| measurement | result | goal |");
    println!("| --- | --- | --- |");
    for [what, result, goal] in &summary.rows {
        println!("| {what} | {result} | {goal} |");
    }
    println!();
    for goal in &summary.goals {
        println!("- {goal}");
    }

    let host_changed = host.finish();
    i32::from(summary.failed || host_changed)
}
