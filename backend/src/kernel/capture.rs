//! Packet capture on one interface of a lab, or on a bridge's ports together: an
//! `AF_PACKET` socket bound to each interface, each with a memory-mapped TPACKET_V3
//! receive ring (`packet_ring.rs`, as tcpdump reads), read on one dedicated thread (which
//! polls them all) that lives inside the interfaces' namespace for the capture's whole
//! life (setns changes only the calling thread, so this never happens on a tokio thread,
//! and a socket keeps the namespace it was made in anyway). The thread only copies each
//! frame out of the ring, with the kernel's time of taking it and its direction, and hands
//! the frames on in batches: decoding them is left to whoever reads them
//! (`server/captures.rs`), so that its cost never makes the kernel drop at the socket. The
//! thread ends, closing its sockets, within `POLL` of being told to stop.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sched::{setns, CloneFlags};
use nslab_model::capture::{decode, CapturedPacket, Direction};
use nslab_model::identity::Netns;

use super::error::KernelError;
use super::netns::open_netns;
use super::packet_ring::{set_packet_option, Geometry, PacketRing, RingFrame};

/// How often a reading thread looks at its stop flag (the longest its poll waits).
const POLL: Duration = Duration::from_millis(200);
/// How often the kernel's count of packets dropped at the socket is read.
const DROPS_EVERY: Duration = Duration::from_secs(1);
/// The most bytes of a frame kept for a pcapng download: more than any MTU a lab sets,
/// while a veth's offloaded segments (up to 64 KiB) are cut there, as tcpdump's snap
/// length cuts them.
pub const FRAME_KEEP: usize = 16 * 1024;
/// A ring block: room for a veth's offloaded segment (64 KiB) whole, and for about 700
/// frames of a ping flood.
const RING_BLOCK: usize = 128 * 1024;
/// The longest a frame waits in a ring block that is not full: what a quiet capture adds
/// to the time a packet takes to reach the page.
const RETIRE_AFTER: Duration = Duration::from_millis(10);
/// The ring memory of one capture, shared among its interfaces, each getting no less
/// than the first and no more than the second bound. One interface's 8 MiB hold about
/// 170 ms of a ping flood (44,000 frames) while the reading thread waits for a core.
const RING_BYTES: usize = 16 * 1024 * 1024;
const RING_PER_INTERFACE: (usize, usize) = (4 * RING_BLOCK, 8 * 1024 * 1024);
/// A bridge's ports hand their blocks over each on its own timer: a frame is handed on
/// once this long has passed since the kernel took it, when every port's block of that
/// moment has been read, so that the ports' frames go on in the order the kernel took
/// them (a request out of one port before the reply into another).
const IN_ORDER_AFTER: Duration = Duration::from_millis(50);

/// A frame as the reading thread copied it out of the ring.
pub struct Frame {
    /// Its first `FRAME_KEEP` bytes.
    pub bytes: Vec<u8>,
    /// Its length on the wire.
    pub length: u32,
    /// When the kernel took it, in microseconds since the Unix epoch.
    pub time_us: u64,
    pub direction: Direction,
    /// Its interface's index among those the capture was started on.
    pub interface: usize,
    /// Decoded already, for a frame longer than `bytes`: read while all of it was at hand.
    pub decoded: Option<Box<CapturedPacket>>,
}

/// What a reading thread hands on.
pub enum Captured {
    /// The frames the ring gave since the last batch, in the order the kernel took them.
    Frames(Vec<Frame>),
    /// The kernel dropped this many packets at the socket since the last report.
    Dropped(u64),
}

/// A running capture's thread; dropping it stops the thread and waits for it.
pub struct CaptureThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CaptureThread {
    /// Opens a packet socket on each of `interfaces` inside `netns` and starts reading them
    /// on one thread called after `name`. Errors (the namespace or an interface is not in
    /// the kernel, a socket refused) come before any packet.
    pub async fn start(
        netns: &Netns,
        name: &str,
        interfaces: &[String],
        on_packet: impl FnMut(Captured) + Send + 'static,
    ) -> Result<CaptureThread, KernelError> {
        // Opened here, on the caller's thread, so that the name resolves in the caller's
        // mount namespace (as the pinger's do); the thread only enters it.
        let target = match netns {
            Netns::Host => None,
            Netns::Named(_) => Some(open_netns(netns)?),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (opened, opening) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(thread_name(name))
            .spawn({
                let stop = stop.clone();
                let (place, interfaces) = (netns.to_string(), interfaces.to_vec());
                move || match open_in(target, &place, &interfaces) {
                    Ok(mut rings) => {
                        let _ = opened.send(Ok(()));
                        read_until_stopped(&mut rings, &stop, on_packet);
                    }
                    Err(error) => {
                        let _ = opened.send(Err(error));
                    }
                }
            })
            .map_err(|error| KernelError::system("cannot start a capture thread", error))?;
        let capture = CaptureThread { stop, thread: Some(thread) };
        match opening.await {
            Ok(Ok(())) => Ok(capture),
            Ok(Err(error)) => Err(error),
            Err(_) => {
                Err(KernelError::Netlink { what: "a capture thread".into(), message: "ended at its start".into() })
            }
        }
    }

    /// Tells the thread to stop; it ends (and closes its sockets) within `POLL`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for CaptureThread {
    fn drop(&mut self) {
        self.stop();
        // Not joined: a drop may happen on a tokio thread, which must not wait 200 ms.
        // The thread holds nothing but its sockets and rings, which it closes as it ends.
        drop(self.thread.take());
    }
}

/// What a capture thread is called, as `/proc/PID/task/TID/comm` shows it (the kernel
/// keeps 15 bytes): how a test sees that a capture has ended.
pub fn thread_name(interface: &str) -> String {
    let mut name = format!("nslab-cap-{interface}");
    while name.len() > 15 {
        name.pop();
    }
    name
}

/// On the capture thread: enter the namespace for good (the thread ends with the
/// capture), then open a socket with its ring on each interface.
fn open_in(target: Option<File>, place: &str, interfaces: &[String]) -> Result<Vec<PacketRing>, KernelError> {
    if let Some(target) = target {
        setns(target.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|errno| KernelError::system(format!("cannot enter {place}"), errno))?;
    }
    let geometry = geometry_for(interfaces.len());
    interfaces.iter().map(|interface| open_on(place, interface, geometry)).collect()
}

/// Each interface's ring: `RING_BYTES` shared among them, within `RING_PER_INTERFACE`.
fn geometry_for(interfaces: usize) -> Geometry {
    let (least, most) = RING_PER_INTERFACE;
    let bytes = (RING_BYTES / interfaces.max(1)).clamp(least, most);
    Geometry { block_size: RING_BLOCK, blocks: bytes / RING_BLOCK, retire_after: RETIRE_AFTER }
}

fn open_on(place: &str, interface: &str, geometry: Geometry) -> Result<PacketRing, KernelError> {
    let name = std::ffi::CString::new(interface).map_err(|_| KernelError::Netlink {
        what: format!("cannot capture on `{interface}`"),
        message: "an interface name has no NUL byte".into(),
    })?;
    // SAFETY: a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(KernelError::system(
            format!("there is no interface `{interface}` in {place} (is the lab applied?)"),
            std::io::Error::last_os_error(),
        ));
    }
    open_packet_ring(index as i32, geometry)
        .map_err(|error| KernelError::system(format!("cannot capture on `{interface}` in {place}"), error))
}

fn open_packet_ring(index: i32, geometry: Geometry) -> std::io::Result<PacketRing> {
    // Protocol 0: the socket takes no frame until it is bound to its interface below (one
    // made with ETH_P_ALL would take every interface's frames meanwhile, as libpcap knows).
    // SAFETY: plain socket(2); the descriptor is owned from here on.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let ring = PacketRing::attach(socket, geometry)?;
    let socket = ring.socket();
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = index;
    // SAFETY: address is a sockaddr_ll of the size given.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            &address as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if bound < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // As tcpdump does: a bridge in promiscuous mode passes up every frame it forwards
    // between its ports, not only those for itself. The kernel undoes it when the socket
    // closes.
    let promiscuous = libc::packet_mreq {
        mr_ifindex: index,
        mr_type: libc::PACKET_MR_PROMISC as u16,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    set_packet_option(socket, libc::PACKET_ADD_MEMBERSHIP, &promiscuous)?;
    Ok(ring)
}

fn read_until_stopped(rings: &mut [PacketRing], stop: &AtomicBool, mut on_packet: impl FnMut(Captured)) {
    let mut order = InTimeOrder::new(if rings.len() > 1 { IN_ORDER_AFTER } else { Duration::ZERO });
    let mut drops_read = Instant::now();
    let mut polled: Vec<libc::pollfd> = rings
        .iter()
        .map(|ring| libc::pollfd { fd: ring.socket().as_raw_fd(), events: libc::POLLIN, revents: 0 })
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let wait = order.next_due(now_us()).map_or(POLL, |due| due.min(POLL));
        let wait_ms = wait.as_micros().div_ceil(1000) as i32;
        // SAFETY: polled is a slice of pollfd of the length given, alive during the call.
        let ready = unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, wait_ms) };
        // An error on a socket (its interface went: ENETDOWN) stays until it is read, and
        // would make poll return at once, again and again: read it, and wait a poll's
        // length before trying again.
        let mut failed = ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted;
        for (entry, ring) in polled.iter().zip(rings.iter()) {
            if ready > 0 && entry.revents & libc::POLLERR != 0 {
                take_error(ring.socket());
                failed = true;
            }
        }
        // Every ring, whatever poll said: looking costs one read of a status word.
        for (interface, ring) in rings.iter_mut().enumerate() {
            ring.drain(|frame| order.push(copied(frame, interface)));
        }
        let due = order.take_due(now_us());
        if !due.is_empty() {
            on_packet(Captured::Frames(due));
        }
        if failed {
            std::thread::sleep(POLL);
        }
        if drops_read.elapsed() >= DROPS_EVERY {
            drops_read = Instant::now();
            match rings.iter().map(|ring| dropped(ring.socket())).sum() {
                0 => {}
                drops => on_packet(Captured::Dropped(drops)),
            }
        }
    }
}

/// A frame copied out of the ring: its first `FRAME_KEEP` bytes, and, when it is longer,
/// what it decodes as, read now while all of it is at hand (a veth's offloaded segments;
/// the others are decoded by whoever reads them).
fn copied(frame: RingFrame<'_>, interface: usize) -> Frame {
    let direction = if frame.outgoing { Direction::Out } else { Direction::In };
    let time_us = frame.time_ns / 1000;
    let decoded =
        (frame.bytes.len() > FRAME_KEEP).then(|| Box::new(decode(frame.bytes, frame.length, direction, time_us)));
    let kept = &frame.bytes[..frame.bytes.len().min(FRAME_KEEP)];
    Frame { bytes: kept.to_vec(), length: frame.length, time_us, direction, interface, decoded }
}

/// Frames waiting to be handed on in the order the kernel took them: with one interface
/// all of them at once (its ring is in that order already), with a bridge's ports those
/// taken at least `hold` ago (see `IN_ORDER_AFTER`).
struct InTimeOrder {
    waiting: Vec<Frame>,
    hold_us: u64,
}

/// A frame stamped further ahead of the clock than this is handed on at once: the clock
/// was set back, and it must not wait until the clock catches up.
const AHEAD_OF_THE_CLOCK_US: u64 = 1_000_000;

impl InTimeOrder {
    fn new(hold: Duration) -> InTimeOrder {
        InTimeOrder { waiting: Vec::new(), hold_us: hold.as_micros() as u64 }
    }

    fn push(&mut self, frame: Frame) {
        self.waiting.push(frame);
    }

    /// The frames due at `now_us`, in time order; the others wait.
    fn take_due(&mut self, now_us: u64) -> Vec<Frame> {
        // Stable, and quick on what is mostly sorted runs (each ring's frames in order).
        self.waiting.sort_by_key(|frame| frame.time_us);
        if self.hold_us == 0 {
            return std::mem::take(&mut self.waiting);
        }
        let settled = now_us.saturating_sub(self.hold_us);
        let ahead = now_us.saturating_add(AHEAD_OF_THE_CLOCK_US);
        let due = self
            .waiting
            .iter()
            .position(|frame| frame.time_us > settled && frame.time_us <= ahead)
            .unwrap_or(self.waiting.len());
        let later = self.waiting.split_off(due);
        std::mem::replace(&mut self.waiting, later)
    }

    /// How long until the first waiting frame is due, if one waits.
    fn next_due(&self, now_us: u64) -> Option<Duration> {
        let first = self.waiting.first()?;
        Some(Duration::from_micros((first.time_us + self.hold_us).saturating_sub(now_us)))
    }
}

/// Reads (and so clears) the error pending on a socket.
fn take_error(socket: &OwnedFd) {
    let mut error: libc::c_int = 0;
    let mut size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: error is a c_int of the size given.
    unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut error as *mut libc::c_int as *mut libc::c_void,
            &mut size,
        );
    }
}

/// Packets the kernel dropped at the socket since the last call (PACKET_STATISTICS
/// resets its counters when read): with a ring, frames that came while every block was
/// still the reader's.
fn dropped(socket: &OwnedFd) -> u64 {
    let mut stats = libc::tpacket_stats_v3 { tp_packets: 0, tp_drops: 0, tp_freeze_q_cnt: 0 };
    let mut size = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
    // SAFETY: stats is a tpacket_stats_v3 of the size given (what a TPACKET_V3 socket
    // writes).
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            &mut stats as *mut libc::tpacket_stats_v3 as *mut libc::c_void,
            &mut size,
        )
    };
    if result < 0 {
        0
    } else {
        u64::from(stats.tp_drops)
    }
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(time_us: u64, interface: usize) -> Frame {
        Frame { bytes: Vec::new(), length: 60, time_us, direction: Direction::In, interface, decoded: None }
    }

    fn times(frames: &[Frame]) -> Vec<(u64, usize)> {
        frames.iter().map(|frame| (frame.time_us, frame.interface)).collect()
    }

    #[test]
    fn one_interface_hands_on_at_once_in_time_order() {
        let mut order = InTimeOrder::new(Duration::ZERO);
        for time in [30, 10, 20] {
            order.push(frame(time, 0));
        }
        assert_eq!(times(&order.take_due(25)), [(10, 0), (20, 0), (30, 0)]);
        assert_eq!(order.next_due(25), None);
    }

    #[test]
    fn a_bridge_holds_its_ports_frames_until_every_port_has_had_time_to_hand_its_own_over() {
        let mut order = InTimeOrder::new(Duration::from_micros(50_000));
        // Port 1's block came first: frames of 100 ms and 130 ms.
        order.push(frame(100_000, 1));
        order.push(frame(130_000, 1));
        assert!(order.take_due(120_000).is_empty());
        assert_eq!(order.next_due(120_000), Some(Duration::from_micros(30_000)));
        // Port 0's block, with a frame taken before them, came later.
        order.push(frame(90_000, 0));
        assert_eq!(times(&order.take_due(150_000)), [(90_000, 0), (100_000, 1)]);
        assert_eq!(order.next_due(150_000), Some(Duration::from_micros(30_000)));
        assert_eq!(times(&order.take_due(180_000)), [(130_000, 1)]);
        assert_eq!(order.next_due(180_000), None);
    }

    #[test]
    fn frames_stamped_far_ahead_of_a_clock_set_back_do_not_wait_for_it() {
        let mut order = InTimeOrder::new(Duration::from_micros(50_000));
        order.push(frame(10_000_000, 0));
        order.push(frame(1_000, 1));
        assert_eq!(times(&order.take_due(60_000)), [(1_000, 1), (10_000_000, 0)]);
    }

    #[test]
    fn rings_share_the_capture_memory_within_bounds() {
        let bytes = |interfaces| geometry_for(interfaces).blocks * RING_BLOCK;
        assert_eq!(bytes(1), 8 * 1024 * 1024);
        assert_eq!(bytes(2), 8 * 1024 * 1024);
        assert_eq!(bytes(4), 4 * 1024 * 1024);
        assert_eq!(bytes(1000), 4 * RING_BLOCK);
        assert_eq!(bytes(0), 8 * 1024 * 1024);
    }
}
