//! Live packet capture over the API: `GET /api/capture` (a websocket, one JSON message
//! per packet) and `GET /api/capture.pcapng` (N seconds as a file).
//!
//! One capture per interface, shared: every viewer of the same node and interface reads
//! from one packet socket (one thread, `kernel/capture.rs`) through a broadcast ring of
//! the last `RING` packets. A viewer that falls more than the ring behind skips what it
//! missed and is told how many (`{"missed": N}`), so a slow client costs the server no
//! memory. The capture stops (thread ended, socket closed) when its last viewer leaves,
//! and when a run deletes its namespace. At most `MAX_CAPTURES` run at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use nslab_model::capture::{capture_place, parse_filter, CaptureMessage, CapturePlace, CapturedPacket, Filter};
use nslab_model::identity::Netns;
use serde::Deserialize;
use tokio::sync::broadcast;

use super::errors::ApiError;
use super::AppState;
use crate::kernel::capture::{CaptureThread, Captured, FRAME_KEEP};

/// Captures running at once (sockets, threads): beyond, 429.
pub const MAX_CAPTURES: usize = 16;
/// Packets each capture keeps for its viewers: a viewer further behind misses packets.
const RING: usize = 1024;
/// Messages written to a websocket before one flush.
const WRITES_PER_FLUSH: usize = 64;
/// The longest `capture.pcapng` takes.
pub const MAX_SECONDS: u64 = 60;
/// The most frame bytes one `capture.pcapng` collects; past it the file ends early.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// One packet as every viewer gets it: decoded and serialised once, on the capture thread.
struct Shared {
    packet: CapturedPacket,
    text: Utf8Bytes,
    frame: Vec<u8>,
}

type Item = Arc<Shared>;

struct Running {
    /// Tells this capture from a later one of the same place.
    id: u64,
    viewers: usize,
    sender: broadcast::Sender<Item>,
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
    receiver: broadcast::Receiver<Item>,
    drops: Arc<AtomicU64>,
    /// The drops this viewer was told of (or that came before it joined).
    drops_told: u64,
}

impl Viewer {
    /// Drops not yet told to this viewer, if any.
    fn new_drops(&mut self) -> Option<u64> {
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
        let (feeding, counting) = (sender.clone(), drops.clone());
        let thread = CaptureThread::start(&place.netns, &place.interface, move |captured| match captured {
            Captured::Frame { packet, frame } => {
                let _ = feeding.send(item_of(*packet, frame));
            }
            Captured::Dropped(count) => {
                counting.fetch_add(count, Ordering::Relaxed);
            }
        })
        .await
        .map_err(|error| ApiError::new(StatusCode::CONFLICT, error.to_string()))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let entry = Running { id, viewers: 1, sender, drops: drops.clone(), _thread: thread };
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

fn item_of(packet: CapturedPacket, frame: Vec<u8>) -> Item {
    let message = CaptureMessage::Packet(Box::new(packet));
    let text = serde_json::to_string(&message).unwrap_or_default();
    let CaptureMessage::Packet(packet) = message else { unreachable!("made just above") };
    Arc::new(Shared { packet: *packet, text: text.into(), frame })
}

#[derive(Debug, Default, Deserialize)]
pub struct CaptureQuery {
    node: Option<String>,
    iface: Option<String>,
    filter: Option<String>,
    seconds: Option<String>,
}

/// The place and filter a request names: 400 for what is missing or does not parse, 404
/// for a node or interface the document does not have.
async fn resolve(state: &AppState, query: &CaptureQuery) -> Result<(CapturePlace, Filter), ApiError> {
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
        Ok(shared) if filter.matches(&shared.packet) => shared.text.clone(),
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

/// `GET /api/capture.pcapng?node=NAME&iface=IFACE&seconds=N[&filter=...]`: captures for
/// N seconds (1 to 60) and answers a pcapng file.
pub async fn pcapng(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CaptureQuery>,
) -> Result<Response, ApiError> {
    let seconds = seconds_of(query.seconds.as_deref())?;
    let (place, filter) = resolve(&state, &query).await?;
    let mut viewer = state.captures.join(&place).await?;
    let mut frames: Vec<Arc<Shared>> = Vec::new();
    let mut bytes = 0;
    let mut missed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while bytes < MAX_FILE_BYTES {
        match tokio::time::timeout_at(deadline, viewer.receiver.recv()).await {
            Err(_) => break,
            Ok(Ok(shared)) if filter.matches(&shared.packet) => {
                bytes += shared.frame.len();
                frames.push(shared);
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(count))) => missed += count,
            Ok(Err(broadcast::error::RecvError::Closed)) => break,
        }
    }
    let dropped = viewer.new_drops().unwrap_or_default();
    drop(viewer);
    let file = write_pcapng(&place, &frames, missed, dropped)
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write the file: {error}")))?;
    let name = format!("{}-{}.pcapng", query.node.unwrap_or_default(), place.interface).replace(['"', '\\', '/'], "_");
    let headers = [
        (header::CONTENT_TYPE, "application/x-pcapng".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
    ];
    Ok((headers, file).into_response())
}

fn seconds_of(text: Option<&str>) -> Result<u64, ApiError> {
    let refuse =
        || ApiError::new(StatusCode::BAD_REQUEST, format!("`seconds` must be a whole number from 1 to {MAX_SECONDS}"));
    let seconds: u64 = text.ok_or_else(refuse)?.parse().map_err(|_| refuse())?;
    if (1..=MAX_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(refuse())
    }
}

fn write_pcapng(
    place: &CapturePlace,
    frames: &[Arc<Shared>],
    missed: u64,
    dropped: u64,
) -> Result<Vec<u8>, pcap_file::PcapError> {
    use std::borrow::Cow;

    use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
    use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;

    let mut writer = PcapNgWriter::new(Vec::new())?;
    // pcap-file writes timestamps in nanoseconds, which the file must say (if_tsresol 9);
    // without it readers take them as the default microseconds.
    let mut options = vec![
        InterfaceDescriptionOption::IfName(Cow::Owned(place.interface.clone())),
        InterfaceDescriptionOption::IfTsResol(9),
    ];
    if missed + dropped > 0 {
        let comment = format!("{missed} packets missed by the server, {dropped} dropped by the kernel at the socket");
        options.push(InterfaceDescriptionOption::Comment(Cow::Owned(comment)));
    }
    writer.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: FRAME_KEEP as u32,
        options,
    })?;
    for shared in frames {
        // The direction, as pcapng's epb_flags say it: 1 inbound, 2 outbound.
        let direction = match shared.packet.direction {
            nslab_model::capture::Direction::In => 1,
            nslab_model::capture::Direction::Out => 2,
        };
        writer.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_micros(shared.packet.time_us),
            original_len: shared.packet.length,
            data: Cow::Borrowed(&shared.frame),
            options: vec![EnhancedPacketOption::Flags(direction)],
        })?;
    }
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_between_one_and_sixty() {
        assert_eq!(seconds_of(Some("60")).ok(), Some(60));
        assert_eq!(seconds_of(Some("1")).ok(), Some(1));
        for refused in [None, Some("0"), Some("61"), Some("-1"), Some("ten"), Some("")] {
            assert!(seconds_of(refused).is_err(), "{refused:?}");
        }
    }
}
