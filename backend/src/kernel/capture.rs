//! Packet capture on one interface of a lab: an `AF_PACKET` raw socket bound to the
//! interface, read on a dedicated thread that lives inside the interface's namespace for
//! the capture's whole life (setns changes only the calling thread, so this never happens
//! on a tokio thread, and a socket keeps the namespace it was made in anyway). The thread
//! decodes each frame (`nslab_model::capture::decode`) and hands it to a callback; it ends,
//! closing the socket, within `POLL` of being told to stop.

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

/// How often a reading thread looks at its stop flag (the socket's receive timeout).
const POLL: Duration = Duration::from_millis(200);
/// How often the kernel's count of packets dropped at the socket is read.
const DROPS_EVERY: Duration = Duration::from_secs(1);
/// The most bytes of a frame kept for a pcapng download: more than any MTU a lab sets,
/// while a veth's offloaded segments (up to 64 KiB) are cut there, as tcpdump's snap
/// length cuts them.
pub const FRAME_KEEP: usize = 16 * 1024;
/// The socket's receive buffer: room for a burst while the thread decodes.
const RECEIVE_BUFFER: libc::c_int = 4 * 1024 * 1024;

/// What a reading thread hands on.
pub enum Captured {
    /// A frame: decoded, and its first `FRAME_KEEP` bytes.
    Frame { packet: Box<CapturedPacket>, frame: Vec<u8> },
    /// The kernel dropped this many packets at the socket since the last report.
    Dropped(u64),
}

/// A running capture's thread; dropping it stops the thread and waits for it.
pub struct CaptureThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CaptureThread {
    /// Opens the packet socket on `interface` inside `netns` and starts reading. Errors
    /// (the namespace or interface is not in the kernel, the socket refused) come before
    /// any packet.
    pub async fn start(
        netns: &Netns,
        interface: &str,
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
            .name(thread_name(interface))
            .spawn({
                let stop = stop.clone();
                let (place, interface) = (netns.to_string(), interface.to_string());
                move || match open_in(target, &place, &interface) {
                    Ok(socket) => {
                        let _ = opened.send(Ok(()));
                        read_until_stopped(&socket, &stop, on_packet);
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

    /// Tells the thread to stop; it ends (and closes its socket) within `POLL`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for CaptureThread {
    fn drop(&mut self) {
        self.stop();
        // Not joined: a drop may happen on a tokio thread, which must not wait 200 ms.
        // The thread holds nothing but its socket, which it closes as it ends.
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
/// capture), then open and bind the socket.
fn open_in(target: Option<File>, place: &str, interface: &str) -> Result<OwnedFd, KernelError> {
    if let Some(target) = target {
        setns(target.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|errno| KernelError::system(format!("cannot enter {place}"), errno))?;
    }
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
    open_packet_socket(index as i32)
        .map_err(|error| KernelError::system(format!("cannot capture on `{interface}` in {place}"), error))
}

fn open_packet_socket(index: i32) -> std::io::Result<OwnedFd> {
    let protocol = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket(2); the descriptor is owned from here on.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, protocol as i32) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh, valid descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = protocol;
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
    set_option(&socket, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &promiscuous)?;
    let timeout = libc::timeval { tv_sec: 0, tv_usec: POLL.as_micros() as libc::suseconds_t };
    set_option(&socket, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
    // Best effort: a smaller buffer only drops sooner (and the drops are reported).
    let _ = set_option(&socket, libc::SOL_SOCKET, libc::SO_RCVBUF, &RECEIVE_BUFFER);
    Ok(socket)
}

fn set_option<T>(socket: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> std::io::Result<()> {
    // SAFETY: value points to a T of the size given, alive during the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if result < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn read_until_stopped(socket: &OwnedFd, stop: &AtomicBool, mut on_packet: impl FnMut(Captured)) {
    let mut buffer = vec![0u8; 65536];
    let mut drops_read = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some((length, direction)) = receive(socket, &mut buffer) {
            let kept = (length as usize).min(buffer.len());
            let packet = decode(&buffer[..kept], length, direction, now_us());
            on_packet(Captured::Frame { packet: Box::new(packet), frame: buffer[..kept.min(FRAME_KEEP)].to_vec() });
        }
        if drops_read.elapsed() >= DROPS_EVERY {
            drops_read = Instant::now();
            match dropped(socket) {
                0 => {}
                drops => on_packet(Captured::Dropped(drops)),
            }
        }
    }
}

/// One frame: its length on the wire and its direction; None on the poll's timeout.
fn receive(socket: &OwnedFd, buffer: &mut [u8]) -> Option<(u32, Direction)> {
    let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut from_length = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: buffer and from are valid for the sizes given. MSG_TRUNC: the length on the
    // wire comes back even when the frame was longer than the buffer.
    let length = unsafe {
        libc::recvfrom(
            socket.as_raw_fd(),
            buffer.as_mut_ptr() as *mut libc::c_void,
            buffer.len(),
            libc::MSG_TRUNC,
            &mut from as *mut libc::sockaddr_ll as *mut libc::sockaddr,
            &mut from_length,
        )
    };
    if length < 0 {
        // The poll's timeout, or a signal: go round. Anything else (the interface went,
        // ENETDOWN) must not make the loop spin: wait a poll's length before trying again.
        let error = std::io::Error::last_os_error();
        if !matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) {
            std::thread::sleep(POLL);
        }
        return None;
    }
    let direction = if from.sll_pkttype == libc::PACKET_OUTGOING { Direction::Out } else { Direction::In };
    Some((length as u32, direction))
}

/// Packets the kernel dropped at the socket since the last call (PACKET_STATISTICS
/// resets its counters when read).
fn dropped(socket: &OwnedFd) -> u64 {
    let mut stats = libc::tpacket_stats { tp_packets: 0, tp_drops: 0 };
    let mut size = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: stats is a tpacket_stats of the size given.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            &mut stats as *mut libc::tpacket_stats as *mut libc::c_void,
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
