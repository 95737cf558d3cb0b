//! Pings from inside lab namespaces, in process (no `ping` binary): one-shot, continuous
//! with each probe streamed, and a reachability matrix.
//!
//! The ICMP part is `surge-ping` (0.9): it speaks raw ICMP sockets for IPv4 (skipping the
//! IP header of what it reads) and IPv6, matches replies by (reply source, identifier,
//! sequence), unregisters a probe whatever way it ends, and frees its socket and receive
//! task with its last `Client` handle. What made it usable here: `Client::new` makes its
//! socket in the calling thread's namespace and registers it with whatever runtime that
//! thread has entered, so it can be made on a namespace worker under `Handle::enter`, the
//! way `connection.rs` opens netlink sockets (a socket keeps the namespace it was made in).
//!
//! Raw sockets, not datagram ones: new namespaces have `net.ipv4.ping_group_range = "1 0"`,
//! and nslab runs as root (or as root of the sandbox's user namespace, which owns the lab's
//! namespaces), so CAP_NET_RAW applies. A raw socket gets every ICMP message of its
//! namespace, so each gets a kernel filter (ICMP_FILTER, ICMP6_FILTER) that lets through
//! only echo replies and the errors that quote a request; neighbour discovery and other
//! namespaces' echo requests never wake us. Each probe takes an (identifier, sequence)
//! pair from a counter of its socket that starts at random, so concurrent pings from one
//! namespace never take each other's replies, and another pinger's are unlikely to match.
//!
//! Where a namespace is looked up: `netns::run_in` opens `/run/netns/NAME` on the calling
//! thread, the runtime's, and hands the file to a worker that only `setns`es into it. So
//! names resolve in the mount namespace of whoever uses the pinger, which is what lets the
//! tests below keep their namespaces in a private /run. A name can be re-created as a new
//! namespace while a socket still holds the old one: every use compares the namespace
//! file's inode with the socket's and opens a new socket when they differ.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{FuturesUnordered, Stream, StreamExt};
use nix::errno::Errno;
use nslab_model::address::Family;
use nslab_model::identity::Netns;
use nslab_model::neighbours::NeighbourLimit;
use nslab_model::ping::{MatrixCell, PingSample, PingTotals};
use surge_ping::{Client, Config, IcmpPacket, PingIdentifier, PingSequence, SurgeError, ICMP};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::{Instant, MissedTickBehavior};

use super::error::KernelError;
use super::netns;

/// What each echo request carries (as long as iputils' default minus its timestamp).
const PAYLOAD: &[u8; 48] = b"nslab ping: lab traffic between namespaces only.";
/// A continuous ping sends no faster than this.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// Samples a slow reader may fall behind before the ping waits for it.
const SAMPLE_BUFFER: usize = 64;
/// Matrix probes in flight at once. Waiting probes cost a timer and a map entry, so this
/// is high enough that a lab of a few hundred pairs waits out its timeouts all at once.
const MATRIX_IN_FLIGHT: usize = 1024;
/// Matrix probes in flight per source namespace: their replies all queue on one socket,
/// whose receive buffer (about 200 KiB) would overflow with many more at once.
const PER_SOURCE_IN_FLIGHT: usize = 100;
/// Probes per matrix pair: a second one when the first only timed out.
const MATRIX_PROBES: usize = 2;

/// The host's limit on neighbour entries (`gc_thresh3` of IPv4 and IPv6, the smaller),
/// shared by every namespace; None when it cannot be read (inside a network namespace
/// other than the host's it is not shown).
pub fn neighbour_limit() -> Option<NeighbourLimit> {
    let read = |family: &str| -> Option<u64> {
        let path = format!("/proc/sys/net/{family}/neigh/default/gc_thresh3");
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    };
    NeighbourLimit::smaller_of(read("ipv4"), read("ipv6"))
}

/// What became of one probe.
enum Probe {
    Reply(Duration),
    /// No echo reply: why, when the network said (an ICMP error, a send refused by routing).
    Lost(Option<String>),
}

/// The kernel's identity of a namespace: (device, inode) of its nsfs file.
type Identity = (u64, u64);

/// One raw ICMP socket, made inside a namespace.
struct IcmpSocket {
    client: Client,
    /// The namespace it was made in; None for the host's, which cannot be replaced.
    identity: Option<Identity>,
    next_probe: AtomicU32,
}

impl IcmpSocket {
    /// A fresh (identifier, sequence): the identifier moves on every 65536 probes.
    fn next_ids(&self) -> (PingIdentifier, PingSequence) {
        let number = self.next_probe.fetch_add(1, Ordering::Relaxed);
        (PingIdentifier((number >> 16) as u16), PingSequence(number as u16))
    }

    /// Sends one echo request and waits up to `timeout` for its reply. Err: a failure
    /// that is not the network's answer (said in words).
    async fn probe(&self, to: IpAddr, timeout: Duration) -> Result<Probe, String> {
        let (identifier, sequence) = self.next_ids();
        let mut pinger = self.client.pinger(to, identifier).await;
        pinger.timeout(timeout);
        // Timed here, from before the send: surge-ping starts its clock after the send
        // returns, so a reply over a veth that beats that (tens of microseconds) read 0 ms.
        let sent = std::time::Instant::now();
        match pinger.ping(sequence, PAYLOAD).await {
            Ok((packet, _)) => Ok(match icmp_error(&packet) {
                None => Probe::Reply(sent.elapsed()),
                Some(words) => Probe::Lost(Some(words)),
            }),
            Err(SurgeError::Timeout { .. }) => Ok(Probe::Lost(None)),
            Err(SurgeError::IOError(error)) => match send_refusal(&error) {
                Some(words) => Ok(Probe::Lost(Some(words.to_string()))),
                None => Err(format!("the kernel refused to send it: {error}")),
            },
            Err(other) => Err(other.to_string()),
        }
    }
}

/// A slot per (namespace, family): its lock makes concurrent first users open one socket.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<IcmpSocket>>>>;

/// Pings from inside namespaces. Cheap to clone: clones share one ICMP socket per
/// (namespace, address family), opened on first use and kept until `forget`, `prune` or
/// the last clone goes (a continuous ping keeps its own socket until it ends).
#[derive(Clone)]
pub struct Pinger {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: tokio::runtime::Handle,
    sockets: Mutex<HashMap<(Netns, Family), Slot>>,
}

impl Pinger {
    /// Must be called inside a tokio runtime: sockets register with its reactor.
    #[allow(clippy::new_without_default)] // captures the current runtime: no Default
    pub fn new() -> Self {
        Pinger {
            inner: Arc::new(Inner { runtime: tokio::runtime::Handle::current(), sockets: Mutex::new(HashMap::new()) }),
        }
    }

    /// One echo request from `from` to `to`: Some(round-trip time) on a reply, None when
    /// none came within `timeout` or the network said the target is unreachable. Errors
    /// only when it cannot ping at all (the namespace is gone, the socket was refused).
    /// The server pings with a count of 1 through `start`; tests probe with this.
    pub async fn ping_once(
        &self,
        from: &Netns,
        to: IpAddr,
        timeout: Duration,
    ) -> Result<Option<Duration>, KernelError> {
        check_target(to)?;
        let socket = self.socket(from, Family::of(&to)).await?;
        match socket.probe(to, timeout).await {
            Ok(Probe::Reply(rtt)) => Ok(Some(rtt)),
            Ok(Probe::Lost(_)) => Ok(None),
            Err(why) => Err(cannot_ping(from, to, why)),
        }
    }

    /// A continuous ping: a probe every `interval` (at least 10 ms), `count` of them or
    /// until stopped. Each probe's sample comes on the stream once its fate is known; a
    /// probe is lost after max(interval, 1 s), at most 10 s. The stream ends after the
    /// last probe's sample, when the handle is stopped or dropped, or after a sample that
    /// carries a failure (not a loss); dropping the stream stops the pinging too. So keep
    /// the handle for as long as the ping should run (`let (_, stream)` stops it at once).
    /// Errors come before any probe: the namespace is gone, or the socket was refused.
    pub async fn start(
        &self,
        from: &Netns,
        to: IpAddr,
        interval: Duration,
        count: Option<u32>,
    ) -> Result<(PingHandle, PingStream), KernelError> {
        check_target(to)?;
        let socket = self.socket(from, Family::of(&to)).await?;
        let interval = interval.max(MIN_INTERVAL);
        let timeout = interval.clamp(Duration::from_secs(1), Duration::from_secs(10));
        let (sender, receiver) = mpsc::channel(SAMPLE_BUFFER);
        let task = self.inner.runtime.spawn(run_continuous(socket, to, interval, count, timeout, sender));
        Ok((PingHandle { task }, PingStream { receiver }))
    }

    /// Every source pings every target, all pairs at once (up to 1024 probes in flight, 100
    /// per source), one probe per pair and a second when the first timed out. Each pair is reported to
    /// `on_result` as soon as it is known, and every pair exactly once: those still
    /// unanswered when `overall` has passed are reported unreachable then, and it returns.
    pub async fn matrix(
        &self,
        sources: Vec<Netns>,
        targets: Vec<IpAddr>,
        per_probe_timeout: Duration,
        overall: Duration,
        mut on_result: impl FnMut(MatrixCell),
    ) {
        let deadline = Instant::now() + overall;
        self.prune();
        // Target-major, so that the first pairs in flight come from every source.
        let pairs: Vec<(usize, usize)> =
            (0..targets.len()).flat_map(|target| (0..sources.len()).map(move |source| (source, target))).collect();
        let mut reported = vec![false; pairs.len()];
        let mut bounds: HashMap<&Netns, Semaphore> = HashMap::new();
        for source in &sources {
            bounds.entry(source).or_insert_with(|| Semaphore::new(PER_SOURCE_IN_FLIGHT));
        }
        {
            let (sources, targets, bounds) = (&sources, &targets, &bounds);
            let cells = futures::stream::iter(pairs)
                .map(|(source, target)| async move {
                    let from = &sources[source];
                    let cell = self.probe_pair(from, targets[target], per_probe_timeout, &bounds[from]).await;
                    (source * targets.len() + target, cell)
                })
                .buffer_unordered(MATRIX_IN_FLIGHT);
            futures::pin_mut!(cells);
            while let Ok(Some((index, cell))) = tokio::time::timeout_at(deadline, cells.next()).await {
                reported[index] = true;
                on_result(cell);
            }
        }
        for (index, _) in reported.iter().enumerate().filter(|(_, done)| !**done) {
            on_result(MatrixCell {
                source: sources[index / targets.len()].clone(),
                target: targets[index % targets.len()],
                reachable: false,
                rtt_ms: None,
                error: Some(format!("no answer within the matrix's {} ms", overall.as_millis())),
            });
        }
    }

    async fn probe_pair(&self, from: &Netns, to: IpAddr, timeout: Duration, bound: &Semaphore) -> MatrixCell {
        let mut cell = MatrixCell { source: from.clone(), target: to, reachable: false, rtt_ms: None, error: None };
        let opened = match check_target(to) {
            Ok(()) => self.socket(from, Family::of(&to)).await,
            Err(error) => Err(error),
        };
        let socket = match opened {
            Ok(socket) => socket,
            Err(error) => {
                cell.error = Some(error.to_string());
                return cell;
            }
        };
        let _permit = bound.acquire().await.expect("never closed");
        for _ in 0..MATRIX_PROBES {
            match socket.probe(to, timeout).await {
                Ok(Probe::Reply(rtt)) => {
                    cell.reachable = true;
                    cell.rtt_ms = Some(milliseconds(rtt));
                    return cell;
                }
                // Only a timeout is worth a second probe: the network said nothing.
                Ok(Probe::Lost(None)) => continue,
                Ok(Probe::Lost(Some(why))) | Err(why) => {
                    cell.error = Some(why);
                    return cell;
                }
            }
        }
        cell
    }

    /// Closes the sockets of `netns`. Call it before deleting a namespace: a socket keeps
    /// its namespace, and whatever is left in it, alive.
    pub fn forget(&self, netns: &Netns) {
        self.inner.sockets.lock().expect("not poisoned").retain(|(owner, _), _| owner != netns);
    }

    /// Closes the sockets of namespaces that are gone or whose name now stands for another
    /// namespace (a socket in use right now is left alone).
    pub fn prune(&self) {
        self.inner.sockets.lock().expect("not poisoned").retain(|(netns, _), slot| {
            let Ok(current) = namespace_identity(netns) else { return false };
            match slot.try_lock() {
                Ok(held) => held.as_ref().is_some_and(|socket| socket.identity == current),
                Err(_) => true,
            }
        });
    }

    /// The socket of (`netns`, `family`), opened on first use or when the name now stands
    /// for another namespace.
    async fn socket(&self, netns: &Netns, family: Family) -> Result<Arc<IcmpSocket>, KernelError> {
        let slot = self.inner.sockets.lock().expect("not poisoned").entry((netns.clone(), family)).or_default().clone();
        let mut held = slot.lock().await;
        let current = match namespace_identity(netns) {
            Ok(current) => current,
            Err(error) => {
                *held = None;
                return Err(error);
            }
        };
        if let Some(socket) = held.as_ref().filter(|socket| socket.identity == current) {
            return Ok(socket.clone());
        }
        // Let the namespace that had this name go before making a socket in the new one.
        *held = None;
        let socket = Arc::new(self.open(netns, family).await?);
        *held = Some(socket.clone());
        Ok(socket)
    }

    async fn open(&self, netns: &Netns, family: Family) -> Result<IcmpSocket, KernelError> {
        let runtime = self.inner.runtime.clone();
        let place = netns.to_string();
        let named = matches!(netns, Netns::Named(_));
        netns::run_in(netns, move || {
            let refused = |error: std::io::Error| {
                let what = format!("cannot open an ICMP socket in {place}");
                match error.raw_os_error() {
                    Some(errno) => KernelError::Refused { what, errno },
                    None => KernelError::system(what, error),
                }
            };
            let identity = match named {
                true => Some(identity_of("/proc/thread-self/ns/net")?),
                false => None,
            };
            // The socket registers with the runtime's reactor, and its receive task starts
            // on the runtime, as it is made on this thread.
            let _entered = runtime.enter();
            let kind = match family {
                Family::V4 => ICMP::V4,
                Family::V6 => ICMP::V6,
            };
            let config = Config::builder().kind(kind).sock_type_hint(socket2::Type::RAW).build();
            let client = Client::new(&config).map_err(refused)?;
            let socket = client.get_socket();
            if socket.get_type() == socket2::Type::RAW {
                pass_only_answers(socket.get_native_sock(), family).map_err(refused)?;
            }
            Ok(IcmpSocket { client, identity, next_probe: AtomicU32::new(random_u32()) })
        })
        .await
    }
}

/// Stops a continuous ping when stopped or dropped; its stream then ends (after the
/// samples it already holds).
pub struct PingHandle {
    task: tokio::task::JoinHandle<()>,
}

impl PingHandle {
    pub fn stop(self) {}

    /// True once the ping has sent its last sample or was stopped.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for PingHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The samples of a continuous ping, in the order their fates became known.
pub struct PingStream {
    receiver: mpsc::Receiver<PingSample>,
}

impl Stream for PingStream {
    type Item = PingSample;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<PingSample>> {
        self.receiver.poll_recv(context)
    }
}

async fn run_continuous(
    socket: Arc<IcmpSocket>,
    to: IpAddr,
    interval: Duration,
    count: Option<u32>,
    timeout: Duration,
    sender: mpsc::Sender<PingSample>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut in_flight = FuturesUnordered::new();
    let mut totals = PingTotals::default();
    let mut next_seq: u32 = 1;
    loop {
        let more = count.is_none_or(|count| next_seq <= count);
        if !more && in_flight.is_empty() {
            return;
        }
        tokio::select! {
            _ = sender.closed() => return,
            _ = ticks.tick(), if more => {
                let seq = next_seq;
                next_seq = next_seq.wrapping_add(1);
                totals.record_sent();
                let socket = socket.clone();
                in_flight.push(async move { (seq, socket.probe(to, timeout).await) });
            }
            Some((seq, outcome)) = in_flight.next(), if !in_flight.is_empty() => {
                let (rtt_ms, error, failed) = match outcome {
                    Ok(Probe::Reply(rtt)) => (Some(milliseconds(rtt)), None, false),
                    Ok(Probe::Lost(why)) => (None, why, false),
                    Err(why) => (None, Some(why), true),
                };
                totals.record(rtt_ms.is_some());
                if sender.send(PingSample { seq, rtt_ms, error, totals }).await.is_err() || failed {
                    return;
                }
            }
        }
    }
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn cannot_ping(from: &Netns, to: IpAddr, why: String) -> KernelError {
    KernelError::Netlink { what: format!("cannot ping {to} from {from}"), message: why }
}

/// Link-local IPv6 needs an interface (a scope) to be sent at all; labs ping their
/// configured addresses.
fn check_target(to: IpAddr) -> Result<(), KernelError> {
    match to {
        IpAddr::V6(address) if address.is_unicast_link_local() => Err(KernelError::Netlink {
            what: format!("cannot ping {to}"),
            message: "a link-local address needs an interface to be pinged through; ping a configured address".into(),
        }),
        _ => Ok(()),
    }
}

/// The identity of the namespace `netns` names now.
fn namespace_identity(netns: &Netns) -> Result<Option<Identity>, KernelError> {
    let Netns::Named(name) = netns else { return Ok(None) };
    let path = netns::netns_path(name);
    match std::fs::metadata(&path) {
        Ok(metadata) => Ok(Some((metadata.dev(), metadata.ino()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(KernelError::Netlink {
            what: format!("cannot ping from {netns}"),
            message: "it does not exist (any more)".into(),
        }),
        Err(error) => Err(KernelError::system(format!("cannot read {}", path.display()), error)),
    }
}

fn identity_of(path: &str) -> Result<Identity, KernelError> {
    let metadata =
        std::fs::metadata(path).map_err(|error| KernelError::system(format!("cannot read {path}"), error))?;
    Ok((metadata.dev(), metadata.ino()))
}

fn random_u32() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    std::collections::hash_map::RandomState::new().hash_one(nanos) as u32
}

/// Why an answer that is not an echo reply says the target is unreachable.
fn icmp_error(packet: &IcmpPacket) -> Option<String> {
    let (words, sender) = match packet {
        IcmpPacket::V4(packet) => match (packet.get_icmp_type().0, packet.get_icmp_code().0) {
            (ICMP_ECHO_REPLY, _) => return None,
            (kind, code) => (icmp_words(kind, code), IpAddr::V4(packet.get_source())),
        },
        IcmpPacket::V6(packet) => match (packet.get_icmpv6_type().0, packet.get_icmpv6_code().0) {
            (ICMP6_ECHO_REPLY, _) => return None,
            (kind, code) => (icmp6_words(kind, code), IpAddr::V6(packet.get_source())),
        },
    };
    Some(format!("{words}, said {sender}"))
}

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP6_ECHO_REPLY: u8 = 129;

fn icmp_words(kind: u8, code: u8) -> String {
    match (kind, code) {
        (3, 0) => "destination unreachable (network unreachable)".into(),
        (3, 1) => "destination unreachable (host unreachable)".into(),
        (3, 4) => "destination unreachable (fragmentation needed)".into(),
        (3, 9 | 10 | 13) => "destination unreachable (administratively prohibited)".into(),
        (3, _) => format!("destination unreachable (code {code})"),
        (11, _) => "time to live exceeded".into(),
        (12, _) => "parameter problem".into(),
        _ => format!("ICMP type {kind} code {code}"),
    }
}

fn icmp6_words(kind: u8, code: u8) -> String {
    match (kind, code) {
        (1, 0) => "destination unreachable (no route)".into(),
        (1, 1) => "destination unreachable (administratively prohibited)".into(),
        (1, 3) => "destination unreachable (address unreachable)".into(),
        (1, 6) => "destination unreachable (reject route)".into(),
        (1, _) => format!("destination unreachable (code {code})"),
        (2, _) => "packet too big".into(),
        (3, _) => "hop limit exceeded".into(),
        (4, _) => "parameter problem".into(),
        _ => format!("ICMPv6 type {kind} code {code}"),
    }
}

/// Send errors that are the network's answer (so a loss), in words.
fn send_refusal(error: &std::io::Error) -> Option<&'static str> {
    let errno = Errno::from_raw(error.raw_os_error()?);
    Some(match errno {
        Errno::ENETUNREACH => "no route to the target",
        Errno::EHOSTUNREACH => "host unreachable",
        Errno::ENETDOWN => "the outgoing interface is down",
        Errno::EHOSTDOWN => "the target is down",
        Errno::EADDRNOTAVAIL => "no source address to send from",
        Errno::EPERM | Errno::EACCES => "sending was refused (a firewall rule, or a broadcast address)",
        Errno::EMSGSIZE => "too big for the path",
        Errno::ENOBUFS => "the kernel's send queue was full",
        _ => return None,
    })
}

/// linux/icmp.h: a raw IPv4 ICMP socket's filter, at level SOL_RAW; a set bit blocks
/// that type. (linux/icmpv6.h: the IPv6 one, at level IPPROTO_ICMPV6, 256 bits.)
const ICMP_FILTER: libc::c_int = 1;
const ICMP6_FILTER: libc::c_int = 1;

/// Lets through echo replies and the errors that quote a request, nothing else.
fn pass_only_answers(fd: RawFd, family: Family) -> std::io::Result<()> {
    let pass: &[u8] = match family {
        // Echo reply, destination unreachable, time exceeded, parameter problem.
        Family::V4 => &[0, 3, 11, 12],
        // Destination unreachable, packet too big, time exceeded, parameter problem, echo reply.
        Family::V6 => &[1, 2, 3, 4, 129],
    };
    let mut blocked = [u32::MAX; 8];
    for &kind in pass {
        blocked[usize::from(kind >> 5)] &= !(1u32 << (kind & 31));
    }
    let (level, name, length) = match family {
        // The IPv4 filter covers types 0..32 only (higher ones always pass).
        Family::V4 => (libc::SOL_RAW, ICMP_FILTER, std::mem::size_of::<u32>()),
        Family::V6 => (libc::IPPROTO_ICMPV6, ICMP6_FILTER, std::mem::size_of_val(&blocked)),
    };
    // SAFETY: `blocked` outlives the call and holds at least `length` bytes; the kernel
    // only reads them.
    let result = unsafe { libc::setsockopt(fd, level, name, blocked.as_ptr().cast(), length as libc::socklen_t) };
    match result {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
