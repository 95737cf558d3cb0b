//! Live packet capture over the API: `GET /api/capture` (a websocket, one JSON message
//! per packet); its files are `capture_files.rs`.
//!
//! One capture per interface, shared: every viewer of the same node and interface reads
//! from one thread (`kernel/capture.rs`; a bridge's capture reads a socket on each of its
//! ports, and tags each packet with its port) through a broadcast ring of the last `RING`
//! packets. Each packet gets a number (`seq`) as it comes, and the capture holds its
//! latest frames (`Held`) for a download of what a viewer holds. The reading thread does
//! only that: a packet is decoded, and written as JSON, by the first viewer that needs it
//! (`Shared::packet`, `Shared::text`), once for all viewers, on the viewers' side. A
//! viewer that falls more than the ring behind (a slow client, or decoding that cannot
//! keep up with a flood) skips what it missed and is told how many (`{"missed": N}`), so
//! a slow client costs the server no memory and the socket loses nothing for it. The capture stops (thread ended, socket closed) when its last viewer leaves,
//! and when a run deletes its namespace. At most `MAX_CAPTURES` run at once.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use nslab_model::capture::{
    capture_place, decode, parse_filter, CaptureMessage, CapturePlace, CapturedPacket, Direction, Filter,
};
use nslab_model::identity::Netns;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::errors::ApiError;
use super::AppState;
use crate::kernel::capture::{CaptureThread, Captured, Frame};

/// Captures running at once (sockets, threads): beyond, 429.
pub const MAX_CAPTURES: usize = 16;
/// Packets each capture keeps for its viewers: a viewer further behind misses packets.
/// The ring's blocks come in bursts of up to 700 frames of a flood: room for a few.
const RING: usize = 4096;
/// Messages written to a websocket before one flush.
const WRITES_PER_FLUSH: usize = 64;
/// The frames a capture holds for a download of what a panel holds: more than the panel
/// shows (2000), and no more bytes than `HELD_BYTES` (past either, the oldest go).
pub const HELD_FRAMES: usize = 2048;
const HELD_BYTES: usize = 8 * 1024 * 1024;

/// One packet as every viewer gets it: its frame as the reading thread copied it, decoded
/// and serialised once, by the first viewer that needs it.
pub struct Shared {
    pub seq: u64,
    /// When the kernel took it, in microseconds since the Unix epoch.
    pub time_us: u64,
    pub direction: Direction,
    /// Its length on the wire.
    pub length: u32,
    /// Its first `FRAME_KEEP` bytes.
    pub frame: Vec<u8>,
    /// Which of the capture's interfaces (`Running::interfaces`) it was seen on.
    pub interface: usize,
    /// A bridge's ports, by interface (empty for an interface of its own).
    ports: Arc<[String]>,
    packet: OnceLock<CapturedPacket>,
    text: OnceLock<Utf8Bytes>,
}

impl Shared {
    fn of(frame: Frame, seq: u64, ports: &Arc<[String]>) -> Shared {
        let Frame { bytes, length, time_us, direction, interface, decoded } = frame;
        let shared = Shared {
            seq,
            time_us,
            direction,
            length,
            frame: bytes,
            interface,
            ports: ports.clone(),
            packet: OnceLock::new(),
            text: OnceLock::new(),
        };
        if let Some(decoded) = decoded {
            let _ = shared.packet.set(shared.numbered(*decoded));
        }
        shared
    }

    /// What the frame decodes as (decoded on the first call).
    pub fn packet(&self) -> &CapturedPacket {
        self.packet.get_or_init(|| self.numbered(decode(&self.frame, self.length, self.direction, self.time_us)))
    }

    fn numbered(&self, mut packet: CapturedPacket) -> CapturedPacket {
        packet.seq = self.seq;
        packet.port = self.ports.get(self.interface).cloned();
        packet
    }

    /// The packet's message, `{"packet": {...}}` (written on the first call).
    fn text(&self) -> Utf8Bytes {
        self.text.get_or_init(|| packet_message(self.packet())).clone()
    }
}

/// `CaptureMessage::Packet` as JSON, written from a borrowed packet.
fn packet_message(packet: &CapturedPacket) -> Utf8Bytes {
    #[derive(Serialize)]
    struct PacketMessage<'a> {
        packet: &'a CapturedPacket,
    }
    serde_json::to_string(&PacketMessage { packet }).unwrap_or_default().into()
}

pub type Item = Arc<Shared>;

/// The next packet's number: one count for every capture of the server, so that a number
/// never names two packets (a panel may hold packets of a capture that has since ended).
static NEXT_SEQ: AtomicU64 = AtomicU64::new(1);

/// A capture's latest frames, oldest first.
struct Held {
    frames: VecDeque<Item>,
    bytes: usize,
    /// Every packet of this capture numbered this or later is held: those before it went
    /// (or were another capture's).
    whole_from: u64,
}

impl Held {
    fn starting_now() -> Held {
        Held { frames: VecDeque::new(), bytes: 0, whole_from: NEXT_SEQ.load(Ordering::Relaxed) }
    }

    fn push(&mut self, items: &[Item]) {
        for item in items {
            self.bytes += item.frame.len();
            self.frames.push_back(item.clone());
        }
        while self.frames.len() > HELD_FRAMES || self.bytes > HELD_BYTES {
            let Some(gone) = self.frames.pop_front() else { break };
            self.bytes -= gone.frame.len();
            self.whole_from = gone.seq + 1;
        }
    }
}

/// What a running capture holds of the packets numbered `first` to `last`.
pub struct HeldRange {
    pub frames: Vec<Item>,
    /// The interfaces the capture reads (a bridge's ports, or the one interface).
    pub interfaces: Vec<String>,
    /// The part of the range the capture no longer holds (or never had), if any.
    pub not_held: Option<(u64, u64)>,
}

struct Running {
    /// Tells this capture from a later one of the same place.
    id: u64,
    viewers: usize,
    sender: broadcast::Sender<Item>,
    held: Arc<Mutex<Held>>,
    /// The interfaces read: a bridge's ports, or the one interface.
    interfaces: Vec<String>,
    /// Packets the kernel dropped at the socket since the capture began: counted here, not
    /// sent through the ring, so that a viewer that fell behind still hears of them.
    drops: Arc<AtomicU64>,
    /// Dropped with the entry: the thread stops and closes its socket.
    _thread: CaptureThread,
}

/// The captures running, by place.
#[derive(Clone, Default)]
pub struct Captures {
    running: Arc<Mutex<HashMap<(Netns, String), Running>>>,
    /// Held while a capture starts, so two first viewers of a place open one socket.
    starting: Arc<tokio::sync::Mutex<()>>,
}

/// A viewer of a capture; dropping it leaves (the last one stops the capture).
pub struct Viewer {
    captures: Captures,
    key: (Netns, String),
    id: u64,
    pub receiver: broadcast::Receiver<Item>,
    drops: Arc<AtomicU64>,
    /// The drops this viewer was told of (or that came before it joined).
    drops_told: u64,
}

impl Viewer {
    /// Drops not yet told to this viewer, if any.
    pub fn new_drops(&mut self) -> Option<u64> {
        let total = self.drops.load(Ordering::Relaxed);
        let new = total.checked_sub(self.drops_told).filter(|new| *new > 0)?;
        self.drops_told = total;
        Some(new)
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let mut running = self.captures.running.lock().expect("not poisoned");
        if let Some(entry) = running.get_mut(&self.key).filter(|entry| entry.id == self.id) {
            entry.viewers -= 1;
            if entry.viewers == 0 {
                running.remove(&self.key);
            }
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Captures {
    /// Joins the capture of `place`, starting it when none runs.
    pub async fn join(&self, place: &CapturePlace) -> Result<Viewer, ApiError> {
        let key = (place.netns.clone(), place.interface.clone());
        let _starting = self.starting.lock().await;
        if let Some(viewer) = self.join_running(&key) {
            return Ok(viewer);
        }
        if self.count() >= MAX_CAPTURES {
            let message =
                format!("{MAX_CAPTURES} captures are running, as many as this server runs at once; close one first");
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, message));
        }
        let (sender, receiver) = broadcast::channel(RING);
        let drops = Arc::new(AtomicU64::new(0));
        let held = Arc::new(Mutex::new(Held::starting_now()));
        let interfaces = if place.ports.is_empty() { vec![place.interface.clone()] } else { place.ports.clone() };
        let (feeding, keeping, counting) = (sender.clone(), held.clone(), drops.clone());
        let ports: Arc<[String]> = place.ports.clone().into();
        let thread =
            CaptureThread::start(&place.netns, &place.interface, &interfaces, move |captured| match captured {
                Captured::Frames(frames) => {
                    let first = NEXT_SEQ.fetch_add(frames.len() as u64, Ordering::Relaxed);
                    let items: Vec<Item> =
                        (first..).zip(frames).map(|(seq, frame)| Arc::new(Shared::of(frame, seq, &ports))).collect();
                    // Held before they are sent: a viewer can download any packet it was sent.
                    keeping.lock().expect("not poisoned").push(&items);
                    for item in items {
                        let _ = feeding.send(item);
                    }
                }
                Captured::Dropped(count) => {
                    counting.fetch_add(count, Ordering::Relaxed);
                }
            })
            .await
            .map_err(|error| ApiError::new(StatusCode::CONFLICT, error.to_string()))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let entry = Running { id, viewers: 1, sender, held, interfaces, drops: drops.clone(), _thread: thread };
        self.running.lock().expect("not poisoned").insert(key.clone(), entry);
        Ok(Viewer { captures: self.clone(), key, id, receiver, drops, drops_told: 0 })
    }

    fn join_running(&self, key: &(Netns, String)) -> Option<Viewer> {
        let mut running = self.running.lock().expect("not poisoned");
        let entry = running.get_mut(key)?;
        entry.viewers += 1;
        let drops = entry.drops.clone();
        let drops_told = drops.load(Ordering::Relaxed);
        let receiver = entry.sender.subscribe();
        Some(Viewer { captures: self.clone(), key: key.clone(), id: entry.id, receiver, drops, drops_told })
    }

    /// What the running capture of `place` holds of the packets numbered `first` to
    /// `last`; None when no capture of it runs.
    pub fn held(&self, place: &CapturePlace, first: u64, last: u64) -> Option<HeldRange> {
        let running = self.running.lock().expect("not poisoned");
        let entry = running.get(&(place.netns.clone(), place.interface.clone()))?;
        let held = entry.held.lock().expect("not poisoned");
        let frames = held.frames.iter().filter(|item| (first..=last).contains(&item.seq)).cloned().collect();
        let not_held = (first < held.whole_from).then(|| (first, last.min(held.whole_from - 1)));
        Some(HeldRange { frames, interfaces: entry.interfaces.clone(), not_held })
    }

    /// The interfaces the running capture of `place` reads, if one runs.
    pub fn interfaces(&self, place: &CapturePlace) -> Option<Vec<String>> {
        let running = self.running.lock().expect("not poisoned");
        Some(running.get(&(place.netns.clone(), place.interface.clone()))?.interfaces.clone())
    }

    /// Captures running now.
    pub fn count(&self) -> usize {
        self.running.lock().expect("not poisoned").len()
    }

    /// Before namespaces are deleted: stop the captures in them (a capture's thread and
    /// socket would keep a namespace alive). Their viewers' streams end.
    pub fn release(&self, namespaces: &[Netns]) {
        self.running.lock().expect("not poisoned").retain(|(netns, _), _| !namespaces.contains(netns));
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CaptureQuery {
    pub node: Option<String>,
    pub iface: Option<String>,
    pub filter: Option<String>,
    pub seconds: Option<String>,
    pub held: Option<String>,
}

/// The place and filter a request names: 400 for what is missing or does not parse, 404
/// for a node or interface the document does not have.
pub async fn resolve(state: &AppState, query: &CaptureQuery) -> Result<(CapturePlace, Filter), ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let (Some(node), Some(iface)) = (&query.node, &query.iface) else {
        return Err(bad("name the node and the interface to capture on: `?node=NAME&iface=IFACE`".into()));
    };
    let filter = parse_filter(query.filter.as_deref().unwrap_or_default())
        .map_err(|error| bad(format!("the filter does not parse: {error}")))?;
    let lab = state.store.lock().await.view().lab.clone();
    let place = capture_place(&lab, node, iface).map_err(|message| ApiError::new(StatusCode::NOT_FOUND, message))?;
    Ok((place, filter))
}

/// `GET /api/capture?node=NAME&iface=IFACE[&filter=...]`: a websocket of the packets.
pub async fn live(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CaptureQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let (place, filter) = resolve(&state, &query).await?;
    // Joined before the upgrade is looked at, so that a plain GET (the editor's, after its
    // websocket was refused) hears why a capture cannot start: the kernel or the cap.
    let viewer = state.captures.join(&place).await?;
    let Ok(upgrade) = upgrade else {
        let message = "`/api/capture` is a websocket; `/api/capture.pcapng?...&seconds=N` is the file";
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    };
    Ok(upgrade.on_upgrade(move |socket| stream(socket, viewer, filter)))
}

async fn stream(mut socket: WebSocket, mut viewer: Viewer, filter: Filter) {
    loop {
        tokio::select! {
            received = viewer.receiver.recv() => {
                let Some(first) = message_of(received, &filter) else { break };
                if feed(&mut socket, first).await.is_err() {
                    return;
                }
                // What is already waiting goes with it, in one flush.
                for _ in 1..WRITES_PER_FLUSH {
                    let next = match viewer.receiver.try_recv() {
                        Ok(item) => message_of(Ok(item), &filter),
                        Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                            message_of(Err(broadcast::error::RecvError::Lagged(missed)), &filter)
                        }
                        Err(_) => break,
                    };
                    let Some(next) = next else { break };
                    if feed(&mut socket, next).await.is_err() {
                        return;
                    }
                }
                if let Some(count) = viewer.new_drops() {
                    if feed(&mut socket, Some(Message::Text(json(&CaptureMessage::Dropped(count))))).await.is_err() {
                        return;
                    }
                }
                use futures::SinkExt;
                if socket.flush().await.is_err() {
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                // The page only listens; a close or an error ends the capture for it.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
    // The capture ended under the viewer (its namespace is being deleted).
    let _ = socket.send(Message::Close(None)).await;
}

/// What to write for an item: None once the capture has ended; `Some(None)` for a packet
/// this viewer's filter leaves out.
fn message_of(received: Result<Item, broadcast::error::RecvError>, filter: &Filter) -> Option<Option<Message>> {
    let text = match received {
        Ok(shared) if filter.matches(shared.packet()) => shared.text(),
        Ok(_) => return Some(None),
        Err(broadcast::error::RecvError::Lagged(missed)) => json(&CaptureMessage::Missed(missed)),
        Err(broadcast::error::RecvError::Closed) => return None,
    };
    Some(Some(Message::Text(text)))
}

fn json(message: &CaptureMessage) -> Utf8Bytes {
    serde_json::to_string(message).unwrap_or_default().into()
}

async fn feed(socket: &mut WebSocket, message: Option<Message>) -> Result<(), axum::Error> {
    use futures::SinkExt;
    match message {
        Some(message) => socket.feed(message).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ICMP echo request from 10.0.0.1 to 10.0.0.2, as it crosses a veth.
    fn echo_request() -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        let ip = [0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let icmp = [8, 0, 0xf7, 0xf8, 0, 7, 0, 1];
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&icmp);
        frame
    }

    fn frame(interface: usize, decoded: Option<Box<CapturedPacket>>) -> Frame {
        let bytes = echo_request();
        let length = bytes.len() as u32;
        Frame { bytes, length, time_us: 1_700_000_000_000_000, direction: Direction::Out, interface, decoded }
    }

    #[test]
    fn a_packet_is_decoded_with_its_number_and_port_when_first_asked_for() {
        let ports: Arc<[String]> = vec!["veth0".to_string(), "veth2".to_string()].into();
        let shared = Shared::of(frame(1, None), 42, &ports);
        assert!(shared.packet.get().is_none(), "not decoded by the reading thread");
        let packet = shared.packet();
        assert_eq!((packet.seq, packet.port.as_deref()), (42, Some("veth2")));
        assert_eq!(packet.summary, "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 42");
        assert_eq!((packet.direction, packet.time_us, packet.length), (Direction::Out, 1_700_000_000_000_000, 42));
        // An interface of its own names no port.
        assert_eq!(Shared::of(frame(0, None), 43, &Arc::from(Vec::new())).packet().port, None);
    }

    #[test]
    fn a_frame_decoded_by_the_reading_thread_keeps_that_reading() {
        let mut early = decode(&echo_request(), 9000, Direction::In, 5);
        early.summary = "as read from the whole frame".into();
        let shared = Shared::of(frame(0, Some(Box::new(early))), 7, &Arc::from(Vec::new()));
        assert_eq!((shared.packet().summary.as_str(), shared.packet().seq), ("as read from the whole frame", 7));
    }

    #[test]
    fn the_text_is_the_protocols_packet_message() {
        let shared = Shared::of(frame(0, None), 9, &Arc::from(Vec::new()));
        let text = shared.text();
        let read: CaptureMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(read, CaptureMessage::Packet(Box::new(shared.packet().clone())));
        assert_eq!(text.as_str(), serde_json::to_string(&read).unwrap());
    }
}
