//! `scripts/bench`: how long nslab takes to build, re-apply, edit and destroy big labs, next
//! to iproute2 building the same labs three ways. A measurement, not a test: it prints
//! times and ratios and never asserts on them; it fails only when a lab is built wrong.
//!
//! Every build happens in its own fresh sandbox (private network + mount namespace with its
//! own /run/netns), so runs cannot see each other and nothing reaches the host. Between
//! sandboxes the benchmark waits for the kernel to finish freeing the dropped sandbox's
//! namespaces: that cleanup runs in a kernel worker after the sandbox is gone and would
//! otherwise slow down whatever is measured next.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::builder::TypedValueParser as _;
use clap::{Parser, ValueEnum};
use nslab_bench::args::{command_line, default_nslab, nslab_or_exit, number};
use nslab_bench::machine::{Header, HostCheck};
use nslab_bench::settle::{drop_and_settle, watch_netns_cleanup, SETTLE_GRACE, SETTLE_LIMIT};
use nslab_bench::{check_valid, median, ms, sorted};
use nslab_model::identity::{LinkRef, Netns};
use nslab_model::ops::Op;
use nslab_model::plan::{creation_ops, teardown_ops};
use nslab_model::{Lab, Link, Node};
use nslab_tests::sandbox::Sandbox;
use serde_json::Value;

/// How long nslab takes to build, re-apply, edit and destroy big labs, next to iproute2.
///
/// Builds STAR and CHAIN labs of each size N with `nslab apply` and with iproute2 (one `ip`
/// per command, `ip -batch` per namespace, and the kernel floor: one `ip -batch` of
/// namespaces, veths and the bridge; for a star also that floor with the veths made bridge
/// ports, the kernel's own cost of the ports), each in a fresh sandbox, and prints the wall
/// times. The `ip -batch` forms run twice: with the veths as nslab exports them and with
/// single-queue veths (`numtxqueues 1 numrxqueues 1`), which is how nslab creates them.
/// Also times re-apply, a one-link edit and destroy. --timeout-secs bounds every single
/// process; once --budget-minutes have passed, the remaining sizes are skipped (and the
/// output says so). Needs root.
#[derive(Parser)]
#[command(name = "bench")]
struct Args {
    /// The numbers of namespaces, 2..=4000 (nslab's default limit is 4096 nodes).
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [100, 300, 1000],
          value_parser = number(2..=4000))]
    sizes: Vec<usize>,
    /// How many times each lab is measured, 1..=20 (the tables give medians).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = number(1..=20))]
    repeat: usize,
    /// The labs' shapes.
    #[arg(long, value_name = "SHAPE,...", value_enum, value_delimiter = ',', default_values_t = [Shape::Star, Shape::Chain])]
    topologies: Vec<Shape>,
    /// The nslab binary to measure.
    #[arg(long, value_name = "PATH", default_value_os_t = default_nslab())]
    nslab: PathBuf,
    /// Bounds every single process (seconds; 0 counts as 1).
    #[arg(long = "timeout-secs", value_name = "SECS", default_value = "300",
          value_parser = clap::value_parser!(u64).map(|secs| Duration::from_secs(secs.max(1))))]
    timeout: Duration,
    /// Once this many minutes have passed, the remaining sizes are skipped.
    #[arg(long = "budget-minutes", value_name = "MINUTES", default_value = "20",
          value_parser = clap::value_parser!(u64).map(|minutes| Duration::from_secs(minutes * 60)))]
    budget: Duration,
    #[arg(skip)]
    command_line: String,
}

fn main() {
    let mut args = Args::parse();
    args.nslab = nslab_or_exit("bench", &args.nslab);
    args.command_line = command_line("scripts/bench");
    std::process::exit(run(&args));
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Shape {
    Star,
    Chain,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Star => "star",
            Shape::Chain => "chain",
        }
    }

    fn lab(self, n: usize) -> Lab {
        match self {
            Shape::Star => star(n),
            Shape::Chain => chain(n),
        }
    }

    fn edited(self, lab: &Lab) -> (Lab, String) {
        match self {
            Shape::Star => star_edit(lab),
            Shape::Chain => chain_edit(lab),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Star => {
                "N namespaces n0..n(N-1), each with eth0 in 10.0.0.0/16 on a veth to bridge br0 (10.0.0.1/16) in the host"
            }
            Shape::Chain => "N namespaces n0..n(N-1) in a line, each neighbour pair on a veth in its own /30 of 10.1.0.0/16",
        }
    }
}

// ---------------------------------------------------------------------------------------
// The labs.

/// The star's subnet: 10.0.0.1 is the bridge's, namespace `i` has the `i+2`th address.
const STAR_SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 0, 0, 0), 16);

/// The `i`th namespace address of the star's /16.
fn star_address(i: usize) -> String {
    nslab_bench::labs::subnet_address(STAR_SUBNET.0, STAR_SUBNET.1, i + 2)
}

fn star(n: usize) -> Lab {
    let mut lab = nslab_bench::labs::star(format!("bench-star-{n}"), n, STAR_SUBNET.0, STAR_SUBNET.1);
    lab.description = format!("scripts/bench: {n} namespaces on one bridge.");
    lab
}

/// The middle namespace's eth0 is renamed and moved to a free address of the /16.
fn star_edit(lab: &Lab) -> (Lab, String) {
    let mut edited = lab.clone();
    let n = lab.links.len();
    let k = n / 2;
    let Link::Veth(veth) = &mut edited.links[k];
    veth.b.name = "eth1".into();
    veth.b.addresses = vec![star_address(n + k)];
    let what = format!("n{k}: eth0 renamed eth1, address {} -> {}", star_address(k), star_address(n + k));
    (edited, what)
}

fn chain(n: usize) -> Lab {
    let mut lab = nslab_bench::labs::chain(format!("bench-chain-{n}"), n);
    lab.description = format!("scripts/bench: {n} namespaces in a line.");
    lab
}

/// The middle link moves to a spare /30 (a /30 has no third host address, so both ends
/// change) and one of its ends is renamed.
fn chain_edit(lab: &Lab) -> (Lab, String) {
    let mut edited = lab.clone();
    let k = lab.links.len() / 2;
    let Link::Veth(veth) = &mut edited.links[k];
    let old_name = std::mem::replace(&mut veth.b.name, "edited".into());
    veth.a.addresses = vec!["10.2.0.1/30".into()];
    veth.b.addresses = vec!["10.2.0.2/30".into()];
    let what = format!("link n{k}--n{}: both ends moved to 10.2.0.0/30, n{}'s {old_name} renamed edited", k + 1, k + 1);
    (edited, what)
}

// ---------------------------------------------------------------------------------------
// iproute2 batch files, made from nslab's own creation plan.

/// `ip -batch` lines for the host namespace, and one batch per namespace (in plan order).
struct Batches {
    host: Vec<String>,
    namespaces: Vec<(String, Vec<String>)>,
}

/// What follows `ip ` in an op's command, or an error for commands that are not `ip`.
fn batch_line(op: &Op) -> Result<String, String> {
    let command = op.ip_command();
    command.strip_prefix("ip ").map(str::to_string).ok_or_else(|| format!("`{command}` is not an ip command"))
}

/// Namespace and veth creation and the host's own commands go to the host batch; what acts
/// inside a namespace goes to that namespace's batch, without its `-n NS`.
fn batches(lab: &Lab) -> Result<Batches, String> {
    let mut batches = Batches { host: Vec::new(), namespaces: Vec::new() };
    for op in creation_ops(lab) {
        let line = batch_line(&op)?;
        let netns = match op {
            Op::CreateNamespace { .. } | Op::CreateVeth { .. } => Netns::Host,
            other => other.netns(),
        };
        match netns {
            Netns::Host => batches.host.push(line),
            Netns::Named(name) => {
                let prefix = format!("-n {name} ");
                let rest =
                    line.strip_prefix(&prefix).ok_or_else(|| format!("`ip {line}` does not start with {prefix}"))?;
                match batches.namespaces.last_mut() {
                    Some((last, lines)) if *last == name => lines.push(rest.to_string()),
                    _ => match batches.namespaces.iter_mut().find(|(ns, _)| *ns == name) {
                        Some((_, lines)) => lines.push(rest.to_string()),
                        None => batches.namespaces.push((name, vec![rest.to_string()])),
                    },
                }
            }
        }
    }
    Ok(batches)
}

/// The kernel's floor: the bridge, the namespaces and the veths (peers made straight in
/// their namespaces), nothing else, in one batch.
fn floor_batch(lab: &Lab) -> Result<Vec<String>, String> {
    creation_ops(lab).iter().filter(|op| is_floor_op(op)).map(host_line).collect()
}

fn is_floor_op(op: &Op) -> bool {
    matches!(op, Op::CreateNamespace { .. } | Op::CreateBridge { .. } | Op::CreateVeth { .. })
}

/// An op's line for the host's batch.
fn host_line(op: &Op) -> Result<String, String> {
    let line = batch_line(op)?;
    if line.starts_with("-n ") {
        return Err(format!("`ip {line}` acts in a namespace: not for the host batch"));
    }
    Ok(line)
}

/// The floor plus what makes the host's veth ends bridge ports: each created with its
/// master and up, as nslab creates them, and the bridges raised last, as nslab raises
/// them. Nothing comes up inside the namespaces, so no traffic flows: this is the kernel's
/// own cost of the ports, which the floor leaves out. None for a lab without ports.
fn ports_floor_batch(lab: &Lab) -> Result<Option<Vec<String>>, String> {
    let ops = creation_ops(lab);
    let masters: HashMap<&LinkRef, &str> = ops
        .iter()
        .filter_map(|op| match op {
            Op::SetMaster { link, master } if link.netns == Netns::Host => Some((link, master.as_str())),
            _ => None,
        })
        .collect();
    if masters.is_empty() {
        return Ok(None);
    }
    let mut batch = Vec::new();
    let mut raised = Vec::new();
    for op in ops.iter().filter(|op| is_floor_op(op)) {
        let line = host_line(op)?;
        match op {
            Op::CreateVeth { a, .. } if masters.contains_key(a) => {
                let (head, tail) = line.split_once(" type veth ").ok_or_else(|| format!("`ip {line}`: no veth"))?;
                batch.push(format!("{head} master {} up type veth {tail}", masters[a]));
            }
            Op::CreateBridge { link } => {
                raised.push(format!("link set {} up", link.name));
                batch.push(line);
            }
            _ => batch.push(line),
        }
    }
    batch.extend(raised);
    Ok(Some(batch))
}

/// The same line with the veth asked for with one queue each way, as nslab's kernel driver
/// creates veths (the kernel then skips shrinking the queues, an RCU wait per end under the
/// RTNL lock): iproute2 can do that too, so the benchmark measures it both ways. Lines that
/// create no veth stay as they are.
fn single_queue(line: &str) -> String {
    const QUEUES: &str = "numtxqueues 1 numrxqueues 1";
    let Some((head, rest)) = line.split_once(" type veth peer name ") else { return line.to_string() };
    match rest.split_once(' ') {
        Some((peer, tail)) => format!("{head} {QUEUES} type veth peer name {peer} {QUEUES} {tail}"),
        None => format!("{head} {QUEUES} type veth peer name {rest} {QUEUES}"),
    }
}

fn single_queue_lines(lines: &[String]) -> Vec<String> {
    lines.iter().map(|line| single_queue(line)).collect()
}

/// `link delete` the host's veth ends and the bridge, then `netns delete` every namespace.
fn delete_batch(lab: &Lab) -> Result<Vec<String>, String> {
    teardown_ops(lab).iter().map(batch_line).collect()
}

// ---------------------------------------------------------------------------------------
// Checking what was built: counted from `ip -d -j addr show` in every namespace.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    namespaces: usize,
    loopbacks_up: usize,
    bridges: usize,
    bridge_addresses: usize,
    veth_ends: usize,
    veth_ends_up: usize,
    veth_addresses: usize,
    bridge_ports: usize,
}

fn expected_counts(lab: &Lab) -> Counts {
    let mut counts = Counts::default();
    for node in &lab.nodes {
        match node {
            Node::Namespace(namespace) => {
                counts.namespaces += 1;
                counts.loopbacks_up += usize::from(namespace.loopback_up);
            }
            Node::Bridge(bridge) => {
                counts.bridges += 1;
                counts.bridge_addresses += bridge.addresses.len();
            }
            Node::Host(_) => {}
        }
    }
    for link in &lab.links {
        for end in link.ends() {
            counts.veth_ends += 1;
            counts.veth_ends_up += usize::from(end.up);
            counts.veth_addresses += end.addresses.len();
            counts.bridge_ports += usize::from(matches!(lab.node(&end.node), Some(Node::Bridge(_))));
        }
    }
    counts
}

/// One shell in the sandbox prints the host's and every namespace's links as JSON.
const READ_SCRIPT: &str = r##"
set -e
echo '#'; ip -d -j addr show
for ns in $(ip netns list | cut -d' ' -f1); do echo "# $ns"; ip -n "$ns" -d -j addr show; done
"##;

fn read_counts(sandbox: &Sandbox, timeout: Duration) -> Result<Counts, String> {
    let run = timed(sandbox.command("sh").args(["-c", READ_SCRIPT]), timeout, "reading the kernel with ip -j")?;
    let text = String::from_utf8_lossy(&run.output.stdout).into_owned();
    let mut counts = Counts::default();
    let mut section: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('#') {
            section = Some(name.trim().to_string());
            if !name.trim().is_empty() {
                counts.namespaces += 1;
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let place = section.as_deref().unwrap_or("?");
        let links: Value =
            serde_json::from_str(line).map_err(|e| format!("ip -j in `{place}` printed bad JSON: {e}"))?;
        for link in links.as_array().map(Vec::as_slice).unwrap_or_default() {
            let up = link["flags"].as_array().is_some_and(|flags| flags.iter().any(|f| f == "UP"));
            let addresses = link["addr_info"]
                .as_array()
                .map(|infos| infos.iter().filter(|info| info["scope"] != "link" && info["scope"] != "host").count())
                .unwrap_or(0);
            match (link["ifname"].as_str(), link["linkinfo"]["info_kind"].as_str()) {
                (Some("lo"), _) => counts.loopbacks_up += usize::from(up && !place.is_empty()),
                (_, Some("bridge")) => {
                    counts.bridges += 1;
                    counts.bridge_addresses += addresses;
                }
                (_, Some("veth")) => {
                    counts.veth_ends += 1;
                    counts.veth_ends_up += usize::from(up);
                    counts.veth_addresses += addresses;
                    counts.bridge_ports += usize::from(link.get("master").is_some());
                }
                _ => {}
            }
        }
    }
    Ok(counts)
}

/// Everything `expected` says, or only namespaces, bridges and veths for the floor's lab.
fn verify(sandbox: &Sandbox, lab: &Lab, what: &str, only_devices: bool, timeout: Duration) -> Result<(), String> {
    let want = expected_counts(lab);
    let have = read_counts(sandbox, timeout)?;
    let same = if only_devices {
        (want.namespaces, want.bridges, want.veth_ends) == (have.namespaces, have.bridges, have.veth_ends)
    } else {
        want == have
    };
    if same {
        Ok(())
    } else {
        Err(format!("after {what} the kernel does not hold the lab:\n  expected {want:?}\n  found    {have:?}"))
    }
}

/// Nothing of any lab is left in the sandbox: no named namespace, no link but `lo`.
fn verify_empty(sandbox: &Sandbox, what: &str, timeout: Duration) -> Result<(), String> {
    let script = "ip netns list; ls /run/netns; ip -o link show | grep -v ': lo:' || true";
    let run = timed(sandbox.command("sh").args(["-c", script]), timeout, "listing what is left")?;
    let left = String::from_utf8_lossy(&run.output.stdout);
    if left.trim().is_empty() {
        Ok(())
    } else {
        let lines: Vec<&str> = left.lines().take(5).collect();
        Err(format!("{what} left things behind ({} lines), first: {}", left.lines().count(), lines.join(" | ")))
    }
}

// ---------------------------------------------------------------------------------------
// Running and timing processes.

struct Run {
    elapsed: Duration,
    output: Output,
}

/// Runs `command` to the end and returns its wall time, from spawn to exit. Bounded: after
/// `timeout` it is killed (by its pid; nsenter execs the program) and this is an error; so is
/// a non-zero exit. Children stay in our process group, so Ctrl-C reaches them too.
fn timed(command: &mut Command, timeout: Duration, what: &str) -> Result<Run, String> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let child = command.spawn().map_err(|e| format!("{what}: cannot start: {e}"))?;
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = sender.send((started.elapsed(), output));
    });
    let (elapsed, output) = match receiver.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => {
            let _ = Command::new("kill").args(["-s", "KILL", &pid.to_string()]).status();
            let _ = waiter.join();
            return Err(format!("{what}: still running after {} s, killed", timeout.as_secs()));
        }
    };
    let _ = waiter.join();
    let output = output.map_err(|e| format!("{what}: {e}"))?;
    if !output.status.success() {
        let tail = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(8)..].join("\n    ")
        };
        return Err(format!(
            "{what} failed ({}):\n    {}\n    {}",
            output.status,
            tail(&output.stdout),
            tail(&output.stderr)
        ));
    }
    Ok(Run { elapsed, output })
}

fn stdout(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stdout).into_owned()
}

fn write_lines(path: &Path, lines: &[String]) -> Result<(), String> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

// ---------------------------------------------------------------------------------------
// Waiting for the kernel to free dropped namespaces.

/// `run` (which started at `started`) and then the kernel's freeing of the namespaces it
/// deleted: from `started` until the cleanup was last seen running.
fn until_freed(started: Instant, run: &Run, notes: &mut Vec<String>) -> Duration {
    let returned = started + run.elapsed;
    let (settled, last_seen) = watch_netns_cleanup(SETTLE_GRACE, SETTLE_LIMIT);
    if !settled {
        notes.push(format!("the kernel was still freeing namespaces {} s after a delete", SETTLE_LIMIT.as_secs()));
    }
    last_seen.unwrap_or(returned).max(returned).duration_since(started)
}

/// `drop_and_settle`, with a note when the kernel did not settle. Returns how long it waited.
fn settle(sandbox: Sandbox, notes: &mut Vec<String>) -> Duration {
    let (waited, settled) = drop_and_settle(sandbox);
    if !settled {
        notes.push(format!(
            "the kernel was still freeing namespaces {} s after a sandbox was dropped (other work on the \
             machine?): the next times may be disturbed",
            SETTLE_LIMIT.as_secs()
        ));
    }
    waited
}

// ---------------------------------------------------------------------------------------
// The measurements.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum M {
    Apply,
    ScriptUp,
    Batch,
    BatchSingleQueue,
    Floor,
    FloorSingleQueue,
    FloorPorts,
    PlanUnchanged,
    Reapply,
    PlanEdit,
    Edit,
    Destroy,
    DestroyFreed,
    BatchDelete,
    BatchDeleteFreed,
    ScriptDown,
    Settle,
}

const MEASURES: [M; 17] = [
    M::Apply,
    M::ScriptUp,
    M::Batch,
    M::BatchSingleQueue,
    M::Floor,
    M::FloorSingleQueue,
    M::FloorPorts,
    M::PlanUnchanged,
    M::Reapply,
    M::PlanEdit,
    M::Edit,
    M::Destroy,
    M::DestroyFreed,
    M::BatchDelete,
    M::BatchDeleteFreed,
    M::ScriptDown,
    M::Settle,
];

impl M {
    fn label(self) -> &'static str {
        match self {
            M::Apply => "1  nslab apply --yes (new lab)",
            M::ScriptUp => "2  sh script up (one ip process per command)",
            M::Batch => "3  ip -batch (host) + ip -n NS -batch per namespace",
            M::BatchSingleQueue => "3b the same with single-queue veths (as nslab makes them)",
            M::Floor => "4  kernel floor: one ip -batch, bridge+netns+veths only",
            M::FloorSingleQueue => "4b the same with single-queue veths (as nslab makes them)",
            M::FloorPorts => "4c 4b plus the bridge's ports (master, up; bridge up last)",
            M::PlanUnchanged => "   nslab plan, lab unchanged (read kernel + plan)",
            M::Reapply => "5  nslab apply --yes, unchanged (nothing to do)",
            M::PlanEdit => "   nslab plan, one-link edit",
            M::Edit => "6  nslab apply --yes, one-link edit",
            M::Destroy => "7  nslab destroy --yes (returns when gone)",
            M::DestroyFreed => "   ... until the kernel has freed the namespaces",
            M::BatchDelete => "7b one ip -batch delete (host veths, bridge, netns)",
            M::BatchDeleteFreed => "   ... until the kernel has freed the namespaces",
            M::ScriptDown => "7c sh script down (one ip process per command)",
            M::Settle => "   (waited for the kernel to free a dropped sandbox)",
        }
    }

    /// Costs that grow with the lab: shown per namespace too.
    fn per_namespace(self) -> bool {
        !matches!(self, M::Edit | M::PlanEdit | M::Settle)
    }
}

struct Case {
    shape: Shape,
    n: usize,
    ops: usize,
    times: Vec<(M, Duration)>,
    edit_ops: Option<usize>,
    edit_what: String,
    notes: Vec<String>,
}

impl Case {
    fn record(&mut self, m: M, elapsed: Duration) {
        self.times.push((m, elapsed));
    }

    fn samples(&self, m: M) -> Vec<f64> {
        sorted(&self.times.iter().filter(|(k, _)| *k == m).map(|(_, d)| ms(*d)).collect::<Vec<_>>())
    }

    fn median(&self, m: M) -> Option<f64> {
        median(&self.samples(m))
    }
}

/// Files of one lab size, made once and used by every repetition.
struct Files {
    _dir: tempfile::TempDir,
    lab: PathBuf,
    edited: PathBuf,
    script: PathBuf,
    batch_driver: PathBuf,
    batch_driver_single_queue: PathBuf,
    floor: PathBuf,
    floor_single_queue: PathBuf,
    /// None for a lab without bridge ports.
    floor_ports: Option<PathBuf>,
    delete: PathBuf,
}

fn prepare(lab: &Lab, edited: &Lab) -> Result<Files, String> {
    let dir = tempfile::Builder::new().prefix("nslab-bench-").tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let file = |name: &str| dir.path().join(name);
    let (lab_path, edited_path, script) = (file("lab.json"), file("edited.json"), file("lab.sh"));
    let write = |path: &Path, text: String| std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()));
    write(&lab_path, nslab_model::export::to_json(lab))?;
    write(&edited_path, nslab_model::export::to_json(edited))?;
    write(&script, nslab_model::export::to_ip_script(lab))?;

    let batch_dir = file("batch");
    std::fs::create_dir(&batch_dir).map_err(|e| format!("{}: {e}", batch_dir.display()))?;
    let batches = batches(lab)?;
    let (host_batch, host_batch_single_queue) = (batch_dir.join("host"), batch_dir.join("host-single-queue"));
    write_lines(&host_batch, &batches.host)?;
    write_lines(&host_batch_single_queue, &single_queue_lines(&batches.host))?;
    // The drivers only start the ip processes: `set -e` stops at the first failure. Veths
    // are made by the host batch: the namespaces' batches serve both drivers.
    let mut namespace_lines = String::new();
    for (index, (namespace, lines)) in batches.namespaces.iter().enumerate() {
        let path = batch_dir.join(format!("ns{index}"));
        write_lines(&path, lines)?;
        let _ = writeln!(namespace_lines, "ip -n {namespace} -batch {}", path_str(&path));
    }
    let driver = |host: &Path| format!("set -e\nip -batch {}\n{namespace_lines}", path_str(host));
    let (batch_driver, batch_driver_single_queue) = (file("batch.sh"), file("batch-single-queue.sh"));
    write(&batch_driver, driver(&host_batch))?;
    write(&batch_driver_single_queue, driver(&host_batch_single_queue))?;

    let (floor, floor_single_queue) = (file("floor.batch"), file("floor-single-queue.batch"));
    let floor_lines = floor_batch(lab)?;
    write_lines(&floor, &floor_lines)?;
    write_lines(&floor_single_queue, &single_queue_lines(&floor_lines))?;
    let floor_ports = match ports_floor_batch(lab)? {
        Some(lines) => {
            let path = file("floor-ports.batch");
            write_lines(&path, &single_queue_lines(&lines))?;
            Some(path)
        }
        None => None,
    };
    let delete = file("delete.batch");
    write_lines(&delete, &delete_batch(lab)?)?;
    Ok(Files {
        lab: lab_path,
        edited: edited_path,
        script,
        batch_driver,
        batch_driver_single_queue,
        floor,
        floor_single_queue,
        floor_ports,
        delete,
        _dir: dir,
    })
}

/// One repetition of every measurement of one lab, in four fresh sandboxes.
fn measure_once(
    args: &Args,
    nslab: &str,
    lab: &Lab,
    edited: &Lab,
    files: &Files,
    case: &mut Case,
) -> Result<(), String> {
    let t = args.timeout;
    let (lab_file, edited_file) = (path_str(&files.lab), path_str(&files.edited));

    // 1, 5, 6, 7: nslab builds, re-applies, edits and destroys the lab.
    let sandbox = Sandbox::new();
    let run = timed(sandbox.command(nslab).args(["apply", "--yes", lab_file]), t, "nslab apply")?;
    case.record(M::Apply, run.elapsed);
    verify(&sandbox, lab, "nslab apply", false, t)?;
    let run = timed(sandbox.command(nslab).args(["plan", lab_file]), t, "nslab plan (unchanged)")?;
    case.record(M::PlanUnchanged, run.elapsed);
    let run = timed(sandbox.command(nslab).args(["apply", "--yes", lab_file]), t, "nslab apply (again)")?;
    case.record(M::Reapply, run.elapsed);
    if !stdout(&run).contains("nothing to do") {
        case.notes.push(format!("re-apply did not say `nothing to do`: {}", stdout(&run).lines().next().unwrap_or("")));
    }
    let run = timed(sandbox.command(nslab).args(["plan", edited_file]), t, "nslab plan (edit)")?;
    case.record(M::PlanEdit, run.elapsed);
    let planned = stdout(&run).lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')).count();
    if case.edit_ops.is_some_and(|before| before != planned) {
        case.notes.push(format!("the edit planned {planned} ops this time, {:?} before", case.edit_ops));
    }
    case.edit_ops = Some(planned);
    let run = timed(sandbox.command(nslab).args(["apply", "--yes", edited_file]), t, "nslab apply (edit)")?;
    case.record(M::Edit, run.elapsed);
    verify(&sandbox, edited, "the edit", false, t)?;
    let started = Instant::now();
    let run = timed(sandbox.command(nslab).args(["destroy", "--yes", edited_file]), t, "nslab destroy")?;
    case.record(M::Destroy, run.elapsed);
    let freed = until_freed(started, &run, &mut case.notes);
    case.record(M::DestroyFreed, freed);
    verify_empty(&sandbox, "nslab destroy", t)?;
    let settled = settle(sandbox, &mut case.notes);
    case.record(M::Settle, settled);

    // 2: the exported script, one ip process per command; then its `down`.
    let sandbox = Sandbox::new();
    let script = path_str(&files.script);
    let run = timed(sandbox.command("sh").args([script, "up"]), t, "sh script up")?;
    case.record(M::ScriptUp, run.elapsed);
    verify(&sandbox, lab, "sh script up", false, t)?;
    let run = timed(sandbox.command("sh").args([script, "down"]), t, "sh script down")?;
    case.record(M::ScriptDown, run.elapsed);
    verify_empty(&sandbox, "sh script down", t)?;
    let settled = settle(sandbox, &mut case.notes);
    case.record(M::Settle, settled);

    // 3: ip -batch for the host, then ip -n NS -batch per namespace; then one batch delete.
    let sandbox = Sandbox::new();
    let run = timed(sandbox.command("sh").arg(path_str(&files.batch_driver)), t, "ip -batch per namespace")?;
    case.record(M::Batch, run.elapsed);
    verify(&sandbox, lab, "ip -batch per namespace", false, t)?;
    let started = Instant::now();
    let run = timed(sandbox.command("ip").args(["-batch", path_str(&files.delete)]), t, "ip -batch delete")?;
    case.record(M::BatchDelete, run.elapsed);
    let freed = until_freed(started, &run, &mut case.notes);
    case.record(M::BatchDeleteFreed, freed);
    verify_empty(&sandbox, "ip -batch delete", t)?;
    let settled = settle(sandbox, &mut case.notes);
    case.record(M::Settle, settled);

    // 3b: the same with single-queue veths; left to the sandbox's end like the floor.
    let sandbox = Sandbox::new();
    let driver = path_str(&files.batch_driver_single_queue);
    let run = timed(sandbox.command("sh").arg(driver), t, "ip -batch per namespace, single-queue veths")?;
    case.record(M::BatchSingleQueue, run.elapsed);
    verify(&sandbox, lab, "ip -batch per namespace, single-queue veths", false, t)?;
    let settled = settle(sandbox, &mut case.notes);
    case.record(M::Settle, settled);

    // 4, 4b, 4c: the floor, as exported, with single-queue veths, and with the ports too.
    let floors = [
        (M::Floor, Some(&files.floor), "ip -batch floor"),
        (M::FloorSingleQueue, Some(&files.floor_single_queue), "ip -batch floor, single-queue veths"),
        (M::FloorPorts, files.floor_ports.as_ref(), "ip -batch floor with the bridge's ports"),
    ];
    for (m, path, what) in floors.into_iter().filter_map(|(m, path, what)| Some((m, path?, what))) {
        let sandbox = Sandbox::new();
        let run = timed(sandbox.command("ip").args(["-batch", path_str(path)]), t, what)?;
        case.record(m, run.elapsed);
        verify(&sandbox, lab, what, true, t)?;
        let settled = settle(sandbox, &mut case.notes);
        case.record(M::Settle, settled);
    }
    Ok(())
}

fn run_case(args: &Args, shape: Shape, n: usize) -> Case {
    let lab = shape.lab(n);
    let (edited, edit_what) = shape.edited(&lab);
    let mut case = Case {
        shape,
        n,
        ops: creation_ops(&lab).len(),
        times: Vec::new(),
        edit_ops: None,
        edit_what,
        notes: Vec::new(),
    };
    let prepared = check_valid(&lab).and_then(|_| check_valid(&edited)).and_then(|_| prepare(&lab, &edited));
    let files = match prepared {
        Ok(files) => files,
        Err(error) => {
            case.notes.push(format!("FAILED before measuring: {error}"));
            return case;
        }
    };
    let nslab = args.nslab.to_str().expect("a UTF-8 path to nslab");
    for round in 0..args.repeat {
        let started = Instant::now();
        if let Err(error) = measure_once(args, nslab, &lab, &edited, &files, &mut case) {
            case.notes.push(format!("FAILED in repetition {}: {error}", round + 1));
            break;
        }
        eprintln!(
            "bench: {} N={n}: repetition {} done in {:.1} s",
            shape.name(),
            round + 1,
            started.elapsed().as_secs_f64()
        );
    }
    case
}

// ---------------------------------------------------------------------------------------
// Reporting.

/// "3.1x faster" when `theirs` took longer than `ours`, "1.4x slower" otherwise.
fn speed(ours: f64, theirs: f64) -> String {
    if ours <= theirs {
        format!("{:.1}x faster", theirs / ours)
    } else {
        format!("{:.1}x slower", ours / theirs)
    }
}

fn fmt_ms(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn print_case(case: &Case, repeat: usize) {
    println!();
    println!(
        "== {} N={} ({} creation ops; edit: {})",
        case.shape.name().to_uppercase(),
        case.n,
        case.ops,
        case.edit_what
    );
    let spread_header = if repeat > 1 { "   min..max ms" } else { "" };
    println!("  {:<58} {:>9} {:>10}{spread_header}", "measurement", "median ms", "per ns ms");
    for m in MEASURES {
        let Some(median) = case.median(m) else { continue };
        let label = match (m, case.edit_ops) {
            (M::Edit, Some(ops)) => format!("{} ({ops} ops planned)", m.label()),
            _ => m.label().to_string(),
        };
        let per = if m.per_namespace() { format!("{:.2}", median / case.n as f64) } else { String::new() };
        let spread = if repeat > 1 {
            let all = case.samples(m);
            format!("   {}..{}", fmt_ms(all.first().copied()), fmt_ms(all.last().copied()))
        } else {
            String::new()
        };
        println!("  {label:<58} {:>9} {per:>10}{spread}", fmt_ms(Some(median)));
    }
    if let (Some(apply), Some(batch), Some(floor), Some(script)) =
        (case.median(M::Apply), case.median(M::Batch), case.median(M::Floor), case.median(M::ScriptUp))
    {
        println!("  nslab apply vs ip -batch per namespace (fastest iproute2 form): {}", speed(apply, batch));
        println!("  nslab apply vs the kernel floor:                                {:.1}x the floor", apply / floor);
        if let (Some(batch), Some(floor)) = (case.median(M::BatchSingleQueue), case.median(M::FloorSingleQueue)) {
            println!("  ... vs ip -batch per namespace, single-queue veths:             {}", speed(apply, batch));
            println!(
                "  ... vs the kernel floor, single-queue veths:                    {:.1}x the floor",
                apply / floor
            );
        }
        if let Some(ports) = case.median(M::FloorPorts) {
            println!(
                "  ... vs the floor with the bridge's ports (4c):                  {:.1}x the floor",
                apply / ports
            );
        }
        println!("  nslab apply vs one ip process per command:                      {}", speed(apply, script));
    }
    if let (Some(destroy), Some(delete)) = (case.median(M::Destroy), case.median(M::BatchDelete)) {
        println!("  nslab destroy vs one ip -batch delete:                          {}", speed(destroy, delete));
    }
    if let (Some(destroy), Some(delete)) = (case.median(M::DestroyFreed), case.median(M::BatchDeleteFreed)) {
        println!("  the same, both until the kernel has freed the namespaces:        {}", speed(destroy, delete));
    }
    if let (Some(apply), Some(plan)) = (case.median(M::Apply), case.median(M::PlanUnchanged)) {
        println!(
            "  nslab apply = read the (empty) kernel + plan + run the ops + read it all again to verify \
             (like `nslab plan` of the applied lab: {} ms): about {} ms for all but that last read",
            fmt_ms(Some(plan)),
            fmt_ms(Some((apply - plan).max(0.0)))
        );
    }
    for note in &case.notes {
        println!("  note: {note}");
    }
}

/// How long validation takes, in process (no kernel: iproute2 has nothing to compare),
/// per node as the lab grows, up to the largest lab the default limits allow: validation
/// runs on every keystroke in the editor, so it must stay about linear.
fn print_validation(args: &Args) {
    println!();
    println!("== validation (in process, median of 5, ms per node)");
    let mut sizes: Vec<usize> = args.sizes.clone();
    sizes.push(nslab_model::Limits::default().max_nodes - 1);
    for &shape in &args.topologies {
        let per: Vec<(usize, f64)> = sizes
            .iter()
            .map(|&n| {
                let lab = match shape {
                    Shape::Star => star(n),
                    Shape::Chain => chain(n),
                };
                let times: Vec<f64> = (0..5)
                    .map(|_| {
                        let started = Instant::now();
                        std::hint::black_box(nslab_model::validate(&lab));
                        ms(started.elapsed())
                    })
                    .collect();
                (n, median(&times).unwrap_or(0.0) / lab.nodes.len() as f64)
            })
            .collect();
        let (Some(first), Some(last)) = (per.first(), per.last()) else { continue };
        let list: Vec<String> = per.iter().map(|(n, v)| format!("N={n}: {v:.4}")).collect();
        // The time as N^k: k = 1 is linear, 2 quadratic.
        let sizes_ratio = last.0 as f64 / first.0 as f64;
        let k = 1.0 + (last.1 / first.1).ln() / sizes_ratio.ln();
        let verdict = if k < 1.5 { "near linear" } else { "towards quadratic" };
        println!(
            "  {:<5} {} (time as N^{k:.2} from N={} to N={}: {verdict})",
            shape.name(),
            list.join(", "),
            first.0,
            last.0
        );
    }
}

fn print_growth(cases: &[Case], shape: Shape) {
    let rows: Vec<&Case> = cases.iter().filter(|c| c.shape == shape && c.median(M::Apply).is_some()).collect();
    if rows.len() < 2 {
        return;
    }
    let measures = [
        (M::Apply, "nslab apply"),
        (M::Batch, "ip -batch per ns"),
        (M::Floor, "kernel floor"),
        (M::FloorPorts, "floor + ports"),
    ];
    for (m, what) in measures {
        let per: Vec<(usize, f64)> = rows.iter().filter_map(|c| c.median(m).map(|v| (c.n, v / c.n as f64))).collect();
        let (Some(first), Some(last)) = (per.first(), per.last()) else { continue };
        let list: Vec<String> = per.iter().map(|(n, v)| format!("N={n}: {v:.2}")).collect();
        let growth = last.1 / first.1;
        let verdict = if growth < 1.25 { "about linear" } else { "grows faster than linear" };
        println!(
            "  {:<5} {what:<17} ms per namespace: {} ({growth:.1}x from N={} to N={}: {verdict})",
            shape.name(),
            list.join(", "),
            first.0,
            last.0
        );
    }
}

/// One row per lab; destroy cells give the time the command returned and the time the
/// kernel had freed the namespaces (`ip netns delete` returns before anything is freed).
fn print_markdown(cases: &[Case]) {
    println!(
        "| topology | N | nslab apply | `sh` script, 1 `ip` per command | `ip -batch` per namespace, veths as exported \
         / single-queue | kernel floor, as exported / single-queue | apply vs `ip -batch`, as exported / single-queue \
         | apply vs floor, as exported / single-queue | floor with the bridge's ports (4c), apply vs it \
         | re-apply | one-link edit | nslab destroy, returned / freed \
         | `ip -batch` delete, returned / freed |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for case in cases {
        let cell = |m: M| match case.median(m) {
            Some(v) => format!("{} ms", fmt_ms(Some(v))),
            None => "failed".into(),
        };
        let edit = match (case.median(M::Edit), case.edit_ops) {
            (Some(v), Some(ops)) => format!("{} ms ({ops} ops)", fmt_ms(Some(v))),
            _ => "failed".into(),
        };
        let ratio = |other: M, floor: bool| match (case.median(M::Apply), case.median(other)) {
            (Some(apply), Some(theirs)) if floor => format!("{:.1}x the floor", apply / theirs),
            (Some(apply), Some(theirs)) => speed(apply, theirs),
            _ => "-".into(),
        };
        let pair = |first: String, second: String| format!("{first} / {second}");
        let ports = match (case.median(M::FloorPorts), case.median(M::Apply)) {
            (Some(ports), Some(apply)) => format!("{} ms, {:.1}x", fmt_ms(Some(ports)), apply / ports),
            (Some(ports), None) => format!("{} ms", fmt_ms(Some(ports))),
            (None, _) => "-".into(),
        };
        let both = |returned: M, freed: M| match (case.median(returned), case.median(freed)) {
            (Some(r), Some(f)) => format!("{} / {} ms", fmt_ms(Some(r)), fmt_ms(Some(f))),
            _ => "failed".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {ports} | {} | {edit} | {} | {} |",
            case.shape.name(),
            case.n,
            cell(M::Apply),
            cell(M::ScriptUp),
            pair(cell(M::Batch), cell(M::BatchSingleQueue)),
            pair(cell(M::Floor), cell(M::FloorSingleQueue)),
            pair(ratio(M::Batch, false), ratio(M::BatchSingleQueue, false)),
            pair(ratio(M::Floor, true), ratio(M::FloorSingleQueue, true)),
            cell(M::Reapply),
            both(M::Destroy, M::DestroyFreed),
            both(M::BatchDelete, M::BatchDeleteFreed),
        );
    }
}

/// Sandbox entry costs every measurement alike: one nsenter + exec of a trivial program.
fn entry_overhead() -> f64 {
    let sandbox = Sandbox::new();
    let all: Vec<f64> = (0..5)
        .filter_map(|_| timed(&mut sandbox.command("true"), Duration::from_secs(10), "true").ok())
        .map(|run| ms(run.elapsed))
        .collect();
    let all = sorted(&all);
    all.get(all.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run(args: &Args) -> i32 {
    let host = HostCheck::start();
    let header = Header::print("nslab benchmark", &args.command_line);
    println!("nslab:    {} ({})", args.nslab.display(), header.commit_note());
    println!(
        "sizes:    {:?}, {} repetition(s), topologies: {}",
        args.sizes,
        args.repeat,
        args.topologies.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
    );
    for shape in &args.topologies {
        println!("{:<9} {}", format!("{}:", shape.name()), shape.describe());
    }
    println!(
        "Every time is the wall time of one process started inside a fresh sandbox (nsenter + exec \
         included: {:.1} ms for `true`).",
        entry_overhead()
    );
    if args.sizes.iter().any(|&n| n >= 1000) {
        println!(
            "note: at N>=1000 a run takes one to two minutes per topology, mostly the one-ip-per-command script \
             and the kernel deleting host-side veths one by one (one RCU grace period each: `ip -batch` delete, \
             `sh script down`). Every process is bounded by --timeout-secs {} and the run by --budget-minutes {}.",
            args.timeout.as_secs(),
            args.budget.as_secs() / 60
        );
    }

    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    for &n in &sizes {
        for &shape in &args.topologies {
            if host.elapsed() > args.budget {
                skipped.push(format!("{} N={n}", shape.name()));
                continue;
            }
            eprintln!("bench: {} N={n} ...", shape.name());
            let case = run_case(args, shape, n);
            print_case(&case, args.repeat);
            cases.push(case);
        }
    }

    println!();
    println!("== growth (median time / N)");
    for &shape in &args.topologies {
        print_growth(&cases, shape);
    }
    print_validation(args);
    if !skipped.is_empty() {
        println!(
            "\nSKIPPED after the {}-minute budget: {} (raise --budget-minutes to run them)",
            args.budget.as_secs() / 60,
            skipped.join(", ")
        );
    }
    println!("\n== Markdown (median ms, {} repetition(s))\n", args.repeat);
    print_markdown(&cases);

    let host_changed = host.finish();
    let failed = cases.iter().any(|c| c.notes.iter().any(|n| n.starts_with("FAILED")));
    i32::from(failed || host_changed)
}

#[cfg(test)]
mod tests {
    use super::{floor_batch, ports_floor_batch, single_queue, Shape};

    #[test]
    fn the_ports_floor_makes_each_veth_a_port_and_raises_the_bridge_last() {
        let star = Shape::Star.lab(3);
        let floor = floor_batch(&star).unwrap();
        let ports = ports_floor_batch(&star).unwrap().expect("a star has ports");
        assert_eq!(ports.len(), floor.len() + 1, "{ports:#?}");
        let veths: Vec<&String> = ports.iter().filter(|line| line.contains(" type veth ")).collect();
        assert_eq!(veths.len(), 3);
        assert!(veths.iter().all(|line| line.contains(" master br0 up type veth peer name ")), "{veths:#?}");
        assert_eq!(ports.last().map(String::as_str), Some("link set br0 up"));
        assert_eq!(ports_floor_batch(&Shape::Chain.lab(3)).unwrap(), None, "a chain has no ports");
    }

    #[test]
    fn single_queue_asks_for_one_queue_on_both_ends_and_leaves_other_lines_alone() {
        assert_eq!(
            single_queue("link add v0 type veth peer name eth0 netns n0"),
            "link add v0 numtxqueues 1 numrxqueues 1 type veth peer name eth0 numtxqueues 1 numrxqueues 1 netns n0"
        );
        assert_eq!(
            single_queue("link add a type veth peer name b"),
            "link add a numtxqueues 1 numrxqueues 1 type veth peer name b numtxqueues 1 numrxqueues 1"
        );
        assert_eq!(single_queue("link add br0 type bridge"), "link add br0 type bridge");
        assert_eq!(single_queue("netns add n0"), "netns add n0");
    }
}
