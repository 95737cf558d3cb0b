//! The in-process pinger (`nslab::kernel::ping`) against the real kernel. Needs root.
//!
//! These run on the real kernel, as root, without touching the host: each test body runs
//! on its own thread that first unshares a network and a mount namespace, makes every
//! mount private, and mounts a tmpfs over /run, so the `ip netns add` of its lab lands in
//! a /run/netns nobody else sees (and nothing is created in the host's /run, even when it
//! has no /run/netns). The pinger runs on a current-thread runtime on that same thread, so
//! the namespace files are opened there (see the pinger's module comment); the shared namespace
//! workers only `setns` into them by file descriptor and go back home after each job.
//! When the thread ends, after the pinger and the runtime have been dropped, its network
//! and mount namespaces go, and with them every namespace, interface and mount of the lab.

use std::future::Future;
use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nslab_model::identity::Netns;
use nslab_model::ping::MatrixCell;

use nslab::kernel::ping::Pinger;
use nslab::kernel::workers;

/// Three namespaces: `a` and `b` joined by a veth (IPv4 and IPv6), `c` alone with an
/// address on a veth of its own, so nothing routes between it and the others.
const SMALL_LAB: &str = r#"
    for n in a b c; do ip netns add $n; ip -n $n link set lo up; done
    ip -n a link add eth0 type veth peer name eth0 netns b
    ip -n a addr add 10.0.0.1/24 dev eth0
    ip -n a addr add fd00::1/64 dev eth0 nodad
    ip -n b addr add 10.0.0.2/24 dev eth0
    ip -n b addr add fd00::2/64 dev eth0 nodad
    ip -n a link set eth0 up
    ip -n b link set eth0 up
    ip -n c link add c0 type veth peer name c1
    ip -n c addr add 10.0.9.1/24 dev c0
    ip -n c link set c0 up
    ip -n c link set c1 up
"#;

fn ns(name: &str) -> Netns {
    Netns::Named(name.to_string())
}

fn ip(address: &str) -> IpAddr {
    address.parse().expect("an address")
}

fn net_namespace_of_this_thread() -> std::fs::Metadata {
    std::fs::metadata("/proc/thread-self/ns/net").expect("readable")
}

fn host_netns_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|entries| entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The workers are process-wide and start in the namespaces of the thread that first
/// submits a job: make that a thread in the host's namespaces (this one), never a
/// test's unshared thread, whose namespaces the workers would then keep alive.
fn start_workers_here() {
    use std::os::unix::fs::MetadataExt;
    let (sender, receiver) = std::sync::mpsc::channel();
    workers::submit(workers::Job {
        target: None,
        work: Box::new(move |_| {
            let _ = sender.send(net_namespace_of_this_thread().ino());
        }),
    })
    .expect("workers run");
    let home = receiver.recv_timeout(Duration::from_secs(10)).expect("a worker answers");
    assert_eq!(home, net_namespace_of_this_thread().ino(), "the namespace workers live in the host's namespace");
}

fn sh(script: &str) {
    let output = Command::new("sh").args(["-ec", script]).output().expect("sh runs");
    assert!(output.status.success(), "lab setup failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Runs `body` against a lab built by `script`, in namespaces private to this test.
fn in_private_lab<F, Fut>(script: &str, body: F)
where
    F: FnOnce(Pinger) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    start_workers_here();
    let host_before = host_netns_names();
    let script = script.to_string();
    let outcome = std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS).expect("root can unshare");
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
            .expect("mounts made private");
        mount(Some("tmpfs"), "/run", Some("tmpfs"), MsFlags::empty(), None::<&str>).expect("a private /run");
        std::fs::create_dir("/run/netns").expect("/run/netns in the private /run");
        sh(&script);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            let pinger = Pinger::new();
            // Bounded whatever happens inside.
            tokio::time::timeout(Duration::from_secs(60), body(pinger)).await.expect("the test finishes in time");
        });
    })
    .join();
    assert_eq!(host_netns_names(), host_before, "nothing was added to the host's /run/netns");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// IPv6 may need a moment after the links come up: pings until a reply, for at most 3 s.
async fn until_reply(pinger: &Pinger, from: &Netns, to: IpAddr) -> Duration {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(rtt) = pinger.ping_once(from, to, Duration::from_millis(300)).await.expect("can ping") {
            return rtt;
        }
        assert!(tokio::time::Instant::now() < deadline, "no reply from {to} within 3 s");
    }
}

#[test]
fn a_reachable_ipv4_pair_gives_round_trip_times() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        for (from, to) in [("a", "10.0.0.2"), ("b", "10.0.0.1"), ("a", "10.0.0.1"), ("a", "10.0.0.2")] {
            let rtt = pinger.ping_once(&ns(from), ip(to), Duration::from_secs(1)).await.expect("can ping");
            let rtt = rtt.unwrap_or_else(|| panic!("{from} gets a reply from {to}"));
            assert!(rtt < Duration::from_secs(1), "{rtt:?}");
        }
    });
}

#[test]
fn an_ipv6_pair_gives_round_trip_times() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        until_reply(&pinger, &ns("a"), ip("fd00::2")).await;
        for (from, to) in [("b", "fd00::1"), ("a", "fd00::2"), ("a", "fd00::1")] {
            let rtt = pinger.ping_once(&ns(from), ip(to), Duration::from_secs(1)).await.expect("can ping");
            assert!(rtt.is_some(), "{from} gets a reply from {to}");
        }
    });
}

#[test]
fn unreachable_targets_are_loss_not_errors() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        let timeout = Duration::from_millis(300);
        for (from, to) in [
            ("a", "10.0.0.99"), // on the link, nobody has it
            ("a", "10.0.9.1"),  // c's, no route
            ("c", "10.0.0.1"),  // no route
            ("a", "fd00::99"),  // on the link, nobody has it
            ("c", "fd00::1"),   // no route
        ] {
            let outcome = pinger.ping_once(&ns(from), ip(to), timeout).await;
            assert!(matches!(outcome, Ok(None)), "{from} -> {to}: {outcome:?}");
        }
        let gone = pinger.ping_once(&ns("nope"), ip("10.0.0.1"), timeout).await.expect_err("no such namespace");
        assert_eq!(gone.to_string(), "cannot ping from namespace `nope`: it does not exist (any more)");
        let link_local = pinger.ping_once(&ns("a"), ip("fe80::1"), timeout).await.expect_err("link-local");
        assert!(link_local.to_string().contains("link-local"), "{link_local}");
    });
}

#[test]
fn a_continuous_ping_counts_its_probes_and_stops() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        let interval = Duration::from_millis(20);
        let (_handle, stream) = pinger.start(&ns("a"), ip("10.0.0.2"), interval, Some(5)).await.expect("starts");
        let samples: Vec<_> = stream.collect().await;
        assert_eq!(samples.len(), 5, "{samples:?}");
        let mut seqs: Vec<u32> = samples.iter().map(|sample| sample.seq).collect();
        seqs.sort();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert!(samples.iter().all(|sample| sample.rtt_ms.is_some() && sample.error.is_none()), "{samples:?}");
        let last = samples.last().expect("samples").totals;
        assert_eq!((last.sent, last.received, last.lost, last.loss_percent), (5, 5, 0, 0.0));

        // Nobody answers: every probe is lost, after its timeout.
        let (_handle, stream) = pinger.start(&ns("a"), ip("10.0.0.99"), interval, Some(3)).await.expect("starts");
        let samples: Vec<_> = stream.collect().await;
        assert_eq!(samples.len(), 3, "{samples:?}");
        let last = samples.last().expect("samples").totals;
        assert_eq!((last.sent, last.received, last.lost, last.loss_percent), (3, 0, 3, 100.0));

        // Without a count: stopping the handle ends the stream.
        let (handle, mut stream) = pinger.start(&ns("a"), ip("10.0.0.2"), interval, None).await.expect("starts");
        for seq in 1..=3 {
            assert!(stream.next().await.is_some(), "sample {seq}");
        }
        handle.stop();
        let rest = tokio::time::timeout(Duration::from_secs(2), stream.collect::<Vec<_>>()).await;
        let rest = rest.expect("the stream ends once stopped");
        assert!(rest.len() < 5, "{rest:?}");

        // Dropping the stream stops the pinging.
        let (handle, stream) = pinger.start(&ns("a"), ip("10.0.0.2"), interval, None).await.expect("starts");
        drop(stream);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !handle.is_finished() {
            assert!(tokio::time::Instant::now() < deadline, "the ping goes on without a reader");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn concurrent_pings_from_one_namespace_keep_their_own_replies() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        until_reply(&pinger, &ns("a"), ip("fd00::2")).await;
        let interval = Duration::from_millis(20);
        let targets = ["10.0.0.2", "10.0.0.99", "10.0.0.2", "10.0.0.1", "fd00::2", "fd00::99"];
        let mut streams = Vec::new();
        for target in targets {
            let started = pinger.start(&ns("a"), ip(target), interval, Some(5)).await.expect("starts");
            streams.push(started);
        }
        let results = futures::future::join_all(streams.into_iter().map(|(handle, stream)| async move {
            let samples: Vec<_> = stream.collect().await;
            drop(handle);
            samples
        }))
        .await;
        for (target, samples) in targets.iter().zip(results) {
            let totals = samples.last().expect("samples").totals;
            let expected = if target.ends_with("99") { 0 } else { 5 };
            assert_eq!((samples.len(), totals.received), (5, expected), "{target}: {samples:?}");
        }

        // One-shot pings at once, from one namespace to several targets.
        let a = ns("a");
        let pings = targets.iter().map(|target| pinger.ping_once(&a, ip(target), Duration::from_millis(500)));
        let outcomes = futures::future::join_all(pings).await;
        for (target, outcome) in targets.iter().zip(outcomes) {
            let replied = outcome.expect("can ping").is_some();
            assert_eq!(replied, !target.ends_with("99"), "{target}");
        }
    });
}

#[test]
fn the_matrix_finds_exactly_the_reachable_pairs() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        until_reply(&pinger, &ns("a"), ip("fd00::2")).await;
        until_reply(&pinger, &ns("b"), ip("fd00::1")).await;
        let sources = vec![ns("a"), ns("b"), ns("c"), ns("gone")];
        let targets: Vec<IpAddr> =
            ["10.0.0.1", "10.0.0.2", "10.0.9.1", "fd00::1", "fd00::2", "10.0.0.99"].into_iter().map(ip).collect();
        let mut cells: Vec<MatrixCell> = Vec::new();
        let (probe, overall) = (Duration::from_millis(300), Duration::from_secs(3));
        pinger.matrix(sources.clone(), targets.clone(), probe, overall, |cell| cells.push(cell)).await;
        assert_eq!(cells.len(), sources.len() * targets.len(), "every pair exactly once");
        let mut reachable: Vec<(String, String)> = cells
            .iter()
            .filter(|cell| cell.reachable)
            .map(|cell| (cell.source.name().unwrap_or("host").to_string(), cell.target.to_string()))
            .collect();
        reachable.sort();
        let expected: Vec<(String, String)> = [
            ("a", "10.0.0.1"),
            ("a", "10.0.0.2"),
            ("a", "fd00::1"),
            ("a", "fd00::2"),
            ("b", "10.0.0.1"),
            ("b", "10.0.0.2"),
            ("b", "fd00::1"),
            ("b", "fd00::2"),
            ("c", "10.0.9.1"),
        ]
        .into_iter()
        .map(|(source, target)| (source.to_string(), target.to_string()))
        .collect();
        assert_eq!(reachable, expected);
        assert!(cells.iter().filter(|cell| cell.reachable).all(|cell| cell.rtt_ms.is_some()));
        let gone = cells.iter().find(|cell| cell.source == ns("gone")).expect("a cell of `gone`");
        assert!(gone.error.as_deref().is_some_and(|error| error.contains("does not exist")), "{gone:?}");
        let no_route = cells.iter().find(|cell| cell.source == ns("c") && cell.target == ip("10.0.0.1"));
        assert_eq!(no_route.and_then(|cell| cell.error.as_deref()), Some("no route to the target"));
    });
}

#[test]
fn the_matrix_ends_in_time_when_nothing_answers() {
    in_private_lab(SMALL_LAB, |pinger| async move {
        let targets: Vec<IpAddr> = (10..40).map(|host| ip(&format!("10.0.0.{host}"))).collect();
        let mut cells = 0;
        let started = tokio::time::Instant::now();
        let (probe, overall) = (Duration::from_secs(5), Duration::from_millis(500));
        pinger
            .matrix(vec![ns("a"), ns("b")], targets, probe, overall, |cell| {
                assert!(!cell.reachable);
                cells += 1;
            })
            .await;
        let elapsed = started.elapsed();
        assert_eq!(cells, 60, "every pair reported");
        // Generous: the point is that it does not wait out the 5 s probes.
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    });
}

/// 30 namespaces on one bridge (in a namespace of its own), each with an IPv4 and an
/// IPv6 address: every namespace pings every address. Prints the times; asserts only
/// that every pair answers.
#[test]
fn the_matrix_of_thirty_namespaces_on_a_bridge() {
    const SIZE: usize = 30;
    let script = format!(
        r#"
        ip netns add hub
        ip -n hub link add br0 type bridge
        ip -n hub link set br0 up
        for i in $(seq 1 {SIZE}); do
            ip netns add n$i
            ip -n n$i link set lo up
            ip -n hub link add p$i type veth peer name eth0 netns n$i
            ip -n hub link set p$i master br0 up
            ip -n n$i addr add 10.1.0.$i/24 dev eth0
            ip -n n$i addr add fd01::$i/64 dev eth0 nodad
            ip -n n$i link set eth0 up
        done
        "#
    );
    in_private_lab(&script, |pinger| async move {
        let sources: Vec<Netns> = (1..=SIZE).map(|i| ns(&format!("n{i}"))).collect();
        let v4: Vec<IpAddr> = (1..=SIZE).map(|i| ip(&format!("10.1.0.{i}"))).collect();
        let v6: Vec<IpAddr> = (1..=SIZE).map(|i| ip(&format!("fd01::{i}"))).collect();
        let (probe, overall) = (Duration::from_millis(500), Duration::from_secs(5));

        let run = |targets: Vec<IpAddr>, label: &'static str| {
            let (pinger, sources) = (pinger.clone(), sources.clone());
            async move {
                let pairs = sources.len() * targets.len();
                let mut unreachable = Vec::new();
                let mut cells = 0;
                let started = std::time::Instant::now();
                pinger
                    .matrix(sources, targets, probe, overall, |cell| {
                        cells += 1;
                        if !cell.reachable {
                            unreachable.push(cell);
                        }
                    })
                    .await;
                let elapsed = started.elapsed();
                eprintln!("matrix {label}: {pairs} pairs in {:.1} ms", elapsed.as_secs_f64() * 1000.0);
                assert_eq!(cells, pairs);
                assert!(unreachable.is_empty(), "{label}: {unreachable:?}");
            }
        };
        // Cold: the sockets are opened and every neighbour resolved on the way.
        run(v4.clone(), "IPv4, cold").await;
        run(v4.clone(), "IPv4, warm").await;
        for source in &sources {
            until_reply(&pinger, source, v6[0]).await;
        }
        run(v6.clone(), "IPv6").await;
        run(v4.into_iter().chain(v6).collect(), "IPv4 + IPv6").await;
    });
}
