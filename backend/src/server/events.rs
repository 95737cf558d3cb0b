//! The event stream: every event is serialised once and handed to every connected client
//! through a bounded broadcast channel of frames. A client too slow to keep up is not
//! waited for: it misses frames, is told how many events they held, and gets a fresh
//! snapshot, so neither the other clients nor the server's memory depend on it.
//!
//! Events that come many at once (an apply's progress, link news) are joined: a message
//! per event per client cost more than the apply itself (2707 messages to each of 50
//! clients made a 300-namespace apply take 2.3-3x as long). Frames of them go out at a
//! bounded rate: the bus spends about [`WRITES_PER_TICK`] websocket writes per [`TICK`] on
//! them, all clients together, so each client gets `WRITES_PER_TICK / clients` frames per
//! tick (at least one). An event goes out at once while the rate allows; otherwise it waits,
//! with those that follow, for the next frame the rate allows: at most a tick. With one
//! client, events go out one by one up to 5120 a second (link changes made back to back
//! by `ip`, some 3000 a second, do not wait); with 128 clients and more, a burst is one
//! frame per tick. Each frame is made once, for all clients: a client of `EVENTS_PROTOCOL`
//! gets it as one `batch` message, any other client gets its events one message each
//! (written together, with one flush). Other events (a document, the drift, counters, a
//! run's end) go out at once, after whatever was waiting, so events keep the order in
//! which they were sent.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures::SinkExt;
use nslab_model::api::{DroppedEvent, Event, EVENTS_PROTOCOL};
use tokio::sync::broadcast;

use super::AppState;

/// Frames kept for a slow client before it is told it fell behind.
const BACKLOG: usize = 4096;

/// How long an event that comes in a burst may wait to go out with others.
const TICK: Duration = Duration::from_millis(25);

/// The websocket writes per tick that frames of bursting events may cost, all clients
/// together (each costs the server, and a client on the same machine, some 10-15 µs).
const WRITES_PER_TICK: usize = 128;

/// Events in one frame at most: a longer burst goes out in several.
const MAX_BATCH: usize = 1024;

/// Frames already waiting for a client that are written with one flush.
const WRITES_PER_FLUSH: usize = 64;

/// Whether an event may wait for others to go out with them: the small ones that come many
/// at once. The others go out at once.
fn joins(event: &Event) -> bool {
    matches!(
        event,
        Event::Progress(_)
            | Event::Link(_)
            | Event::Namespace(_)
            | Event::Ping(_)
            | Event::PingFinished(_)
            | Event::Matrix(_)
    )
}

/// Frames of joining events per tick for each of `clients`.
fn at_once(clients: usize) -> usize {
    (WRITES_PER_TICK / clients.max(1)).max(1)
}

/// One message of the stream as the bus hands it to every client: one event, or several
/// that came in a burst.
#[derive(Debug)]
pub struct Frame {
    /// How many events the bus had framed before this frame's first: a client whose next
    /// frame starts later than it expected missed the events in between.
    first: u64,
    /// Each event's own text, for a client that reads one event per message.
    events: Vec<Utf8Bytes>,
    /// The message for a client of `EVENTS_PROTOCOL`: the event itself, or a `batch`.
    text: Utf8Bytes,
}

/// `{"type":"batch","events":[...]}` around events already serialised.
fn batch_text(events: &[Utf8Bytes]) -> Utf8Bytes {
    const HEAD: &str = r#"{"type":"batch","events":["#;
    const TAIL: &str = "]}";
    let length = HEAD.len() + TAIL.len() + events.iter().map(|event| event.len() + 1).sum::<usize>();
    let mut text = String::with_capacity(length);
    text.push_str(HEAD);
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(event);
    }
    text.push_str(TAIL);
    text.into()
}

/// What the bus does with each event, and when: a pure state machine, given the time and
/// the frames per tick allowed (`at_once`, from the number of clients).
#[derive(Debug, Default)]
struct Coalescer {
    /// Events framed so far.
    framed: u64,
    /// Events of a burst waiting for the next frame.
    waiting: Vec<Utf8Bytes>,
    /// Frames of joining events that may go out now: a bucket of at most `at_once`,
    /// refilled at `at_once` per tick.
    tokens: f64,
    /// When `tokens` was last refilled; None: it is full.
    refilled: Option<Instant>,
    /// Whether a flush of `waiting` has been asked for (`Joined::flush_at`) and not yet made.
    flush_asked: bool,
}

/// What became of a joining event.
#[derive(Debug)]
struct Joined {
    /// To send now, in this order.
    frames: Vec<Frame>,
    /// Call `Coalescer::flush` at this time: events wait.
    flush_at: Option<Instant>,
}

impl Coalescer {
    fn frame(&mut self, events: Vec<Utf8Bytes>) -> Frame {
        let first = self.framed;
        self.framed += events.len() as u64;
        let text = if events.len() == 1 { events[0].clone() } else { batch_text(&events) };
        Frame { first, events, text }
    }

    fn take_waiting(&mut self) -> Option<Frame> {
        if self.waiting.is_empty() {
            return None;
        }
        let events = std::mem::take(&mut self.waiting);
        Some(self.frame(events))
    }

    fn refill(&mut self, now: Instant, at_once: usize) {
        let most = at_once as f64;
        self.tokens = match self.refilled {
            None => most,
            Some(then) => {
                let ticks = now.saturating_duration_since(then).as_secs_f64() / TICK.as_secs_f64();
                (self.tokens + ticks * most).min(most)
            }
        };
        self.refilled = Some(now);
    }

    /// An event that may wait for others.
    fn join(&mut self, now: Instant, text: Utf8Bytes, at_once: usize) -> Joined {
        self.refill(now, at_once);
        self.waiting.push(text);
        // A frame may go now (with what waited, if its flush is late), or must (it is full).
        if self.tokens >= 1.0 || self.waiting.len() >= MAX_BATCH {
            self.tokens -= 1.0;
            return Joined { frames: self.take_waiting().into_iter().collect(), flush_at: None };
        }
        let flush_at = (!self.flush_asked).then(|| {
            self.flush_asked = true;
            // When the bucket holds a frame again.
            now + TICK.mul_f64((1.0 - self.tokens) / at_once as f64)
        });
        Joined { frames: Vec::new(), flush_at }
    }

    /// An event that goes out at once, after what was waiting.
    fn alone(&mut self, text: Utf8Bytes) -> Vec<Frame> {
        let mut frames: Vec<Frame> = self.take_waiting().into_iter().collect();
        frames.push(self.frame(vec![text]));
        frames
    }

    /// The time a flush was asked for: what waits goes out (unless something sent it already).
    fn flush(&mut self, now: Instant, at_once: usize) -> Option<Frame> {
        self.flush_asked = false;
        self.refill(now, at_once);
        let frame = self.take_waiting()?;
        self.tokens -= 1.0;
        Some(frame)
    }
}

#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
}

struct Shared {
    sender: broadcast::Sender<Arc<Frame>>,
    /// Held while frames are made and sent, so that they go out in the order they were made.
    coalescer: Mutex<Coalescer>,
}

impl Default for EventBus {
    fn default() -> Self {
        let shared = Shared { sender: broadcast::channel(BACKLOG).0, coalescer: Mutex::default() };
        EventBus { shared: Arc::new(shared) }
    }
}

/// A client's subscription: its frames, and the number of the first event it is owed.
pub struct Subscription {
    frames: broadcast::Receiver<Arc<Frame>>,
    next: u64,
}

impl EventBus {
    pub fn send(&self, event: &Event) {
        let clients = self.shared.sender.receiver_count();
        // Nobody watching: nothing to write (an apply makes thousands of events).
        if clients == 0 {
            return;
        }
        let text = Utf8Bytes::from(serde_json::to_string(event).expect("events serialise"));
        let mut coalescer = self.shared.coalescer.lock().expect("the event bus's lock");
        if !joins(event) {
            let frames = coalescer.alone(text);
            self.broadcast(frames);
            return;
        }
        let joined = coalescer.join(Instant::now(), text, at_once(clients));
        self.broadcast(joined.frames);
        drop(coalescer);
        if let Some(at) = joined.flush_at {
            self.flush_at(at);
        }
    }

    /// Sends frames in order; the caller holds the coalescer's lock.
    fn broadcast(&self, frames: Vec<Frame>) {
        for frame in frames {
            // The last receiver may have gone meanwhile, which is fine.
            let _ = self.shared.sender.send(Arc::new(frame));
        }
    }

    /// Sends what waits at `at` (at once outside a runtime).
    fn flush_at(&self, at: Instant) {
        let bus = self.clone();
        let flush = move || {
            let mut coalescer = bus.shared.coalescer.lock().expect("the event bus's lock");
            let frame = coalescer.flush(Instant::now(), at_once(bus.shared.sender.receiver_count()));
            bus.broadcast(frame.into_iter().collect());
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    flush();
                });
            }
            Err(_) => flush(),
        }
    }

    /// Sends what waits now, not at its tick: for a request whose answer must not overtake
    /// the events it made (a matrix's cells before its report).
    pub fn flush_now(&self) {
        let mut coalescer = self.shared.coalescer.lock().expect("the event bus's lock");
        let frame = coalescer.take_waiting();
        self.broadcast(frame.into_iter().collect());
    }

    /// Whether any client is connected to the event stream.
    pub fn has_listeners(&self) -> bool {
        self.shared.sender.receiver_count() > 0
    }

    pub fn subscribe(&self) -> Subscription {
        // Under the lock: no frame is made between the subscription and its number.
        let coalescer = self.shared.coalescer.lock().expect("the event bus's lock");
        Subscription { frames: self.shared.sender.subscribe(), next: coalescer.framed }
    }
}

/// Feeds one websocket: a snapshot first (and again after a gap), then every event.
pub async fn stream_to(mut socket: WebSocket, state: Arc<AppState>) {
    let batches = socket.protocol().is_some_and(|protocol| protocol == EVENTS_PROTOCOL);
    let Subscription { mut frames, mut next } = state.bus.subscribe();
    if socket.send(as_message(&state.snapshot().await)).await.is_err() {
        return;
    }
    // Someone presenting: a page that comes late follows at once (see `presenter.rs`).
    if let Some(presenting) = state.presenter.event() {
        if socket.send(as_message(&presenting)).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            received = frames.recv() => {
                let frame = match received {
                    Ok(frame) => frame,
                    // The next frame says how many events were missed (see `write`).
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if write(&mut socket, &state, batches, &mut next, &frame).await.is_err() {
                    return;
                }
                // Frames that are already waiting go with it, in one flush.
                for _ in 1..WRITES_PER_FLUSH {
                    let frame = match frames.try_recv() {
                        Ok(frame) => frame,
                        Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    if write(&mut socket, &state, batches, &mut next, &frame).await.is_err() {
                        return;
                    }
                }
                if socket.flush().await.is_err() {
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                // Clients only listen; a close or an error ends the stream.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Writes a frame without flushing. A frame that starts after the events this client is owed
/// (`next`) shows that it fell behind: it is told how many events it missed and gets a fresh
/// snapshot first.
async fn write(
    socket: &mut WebSocket,
    state: &AppState,
    batches: bool,
    next: &mut u64,
    frame: &Frame,
) -> Result<(), axum::Error> {
    if frame.first > *next {
        let missed = frame.first - *next;
        socket.feed(as_message(&Event::Dropped(DroppedEvent { missed }))).await?;
        socket.feed(as_message(&state.snapshot().await)).await?;
        if let Some(presenting) = state.presenter.event() {
            socket.feed(as_message(&presenting)).await?;
        }
    }
    *next = frame.first + frame.events.len() as u64;
    if batches {
        return socket.feed(Message::Text(frame.text.clone())).await;
    }
    for event in &frame.events {
        socket.feed(Message::Text(event.clone())).await?;
    }
    Ok(())
}

fn as_message(event: &Event) -> Message {
    Message::Text(serde_json::to_string(event).expect("events serialise").into())
}

#[cfg(test)]
mod tests {
    use nslab_model::api::{
        DocumentEvent, LabView, NamespaceEvent, OpProgress, OpState, ProgressEvent, RunFinishedEvent, RunKind,
    };
    use nslab_model::identity::Netns;

    use super::*;

    fn progress(index: usize) -> Event {
        let command = format!("ip netns add n{index}");
        let progress = OpProgress { index, total: 1000, command, state: OpState::Done, error: None };
        Event::Progress(ProgressEvent { run: RunKind::Apply, progress })
    }

    fn text(event: &Event) -> Utf8Bytes {
        serde_json::to_string(event).unwrap().into()
    }

    /// The events a client of `EVENTS_PROTOCOL` reads from these frames, and those a client
    /// that reads one event per message reads: they must be the same.
    fn read(frames: &[Frame]) -> Vec<Event> {
        let batched: Vec<Event> =
            frames.iter().flat_map(|frame| serde_json::from_str::<Event>(&frame.text).unwrap().into_events()).collect();
        let single: Vec<Event> =
            frames.iter().flat_map(|frame| &frame.events).map(|text| serde_json::from_str(text).unwrap()).collect();
        assert_eq!(batched, single);
        batched
    }

    /// Each frame starts where the one before ended.
    fn numbered(frames: &[Frame]) -> bool {
        frames.windows(2).all(|pair| pair[1].first == pair[0].first + pair[0].events.len() as u64)
    }

    /// Joins `events` at `at`, as many clients as make `at_once`; the frames sent at once,
    /// and the flushes asked for.
    fn join_all(
        bus: &mut Coalescer,
        events: impl IntoIterator<Item = (Instant, Event)>,
        at_once: usize,
    ) -> (Vec<Frame>, Vec<Instant>) {
        let (mut frames, mut flushes) = (Vec::new(), Vec::new());
        for (at, event) in events {
            let joined = bus.join(at, text(&event), at_once);
            frames.extend(joined.frames);
            flushes.extend(joined.flush_at);
        }
        (frames, flushes)
    }

    fn sizes(frames: &[Frame]) -> Vec<usize> {
        frames.iter().map(|frame| frame.events.len()).collect()
    }

    #[test]
    fn with_many_clients_a_burst_goes_out_first_alone_then_one_frame_per_tick() {
        let mut bus = Coalescer::default();
        let start = Instant::now();
        // 60 events within the first tick, one every 375 µs.
        let burst = (0..60).map(|i| (start + Duration::from_micros(375 * i as u64), progress(i)));
        let (mut frames, flushes) = join_all(&mut bus, burst, 1);
        assert_eq!(sizes(&frames), [1], "the first of a quiet spell does not wait");
        assert_eq!(flushes, [start + TICK], "one flush, a tick later");
        frames.extend(bus.flush(start + TICK, 1));
        assert!(bus.flush(start + TICK, 1).is_none(), "nothing waits any more");
        assert_eq!(sizes(&frames), [1, 59]);
        assert!(frames[1].text.starts_with(r#"{"type":"batch","events":[{"type":"progress""#));
        assert_eq!(read(&frames), (0..60).map(progress).collect::<Vec<_>>());
        assert!(numbered(&frames));
        assert_eq!(frames[0].first, 0);
        // The burst goes on: its next event waits a whole tick for the next frame.
        let (more, flushes) = join_all(&mut bus, [(start + TICK + TICK / 10, progress(60))], 1);
        assert!(more.is_empty());
        assert_eq!(flushes, [start + 2 * TICK]);
    }

    #[test]
    fn with_few_clients_events_go_out_at_once_until_the_rate_is_reached() {
        let mut bus = Coalescer::default();
        let start = Instant::now();
        // Four clients' worth: four frames at once, then one per quarter tick.
        let (mut frames, flushes) = join_all(&mut bus, (0..6).map(|i| (start, progress(i))), 4);
        assert_eq!(sizes(&frames), [1, 1, 1, 1]);
        assert_eq!(flushes, [start + TICK / 4]);
        // An event once the bucket holds a frame again takes what waited along, in order.
        let (later, flushes) = join_all(&mut bus, [(start + TICK / 2, progress(6))], 4);
        assert!(flushes.is_empty());
        frames.extend(later);
        assert_eq!(sizes(&frames), [1, 1, 1, 1, 3]);
        assert_eq!(read(&frames), (0..7).map(progress).collect::<Vec<_>>());
        assert!(numbered(&frames));
        // The late flush finds nothing left; after a quiet tick the bucket is full again.
        assert!(bus.flush(start + TICK / 2, 4).is_none());
        let (quiet, _) = join_all(&mut bus, (7..11).map(|i| (start + 2 * TICK, progress(i))), 4);
        assert_eq!(sizes(&quiet), [1, 1, 1, 1]);
    }

    #[test]
    fn an_event_that_does_not_wait_goes_after_what_waited() {
        let mut bus = Coalescer::default();
        let start = Instant::now();
        let (mut frames, _) = join_all(&mut bus, (0..4).map(|i| (start, progress(i))), 1);
        let finished =
            Event::RunFinished(RunFinishedEvent { run: RunKind::Apply, ok: true, message: "4 steps".into() });
        frames.extend(bus.alone(text(&finished)));
        // Its flush comes later and finds nothing; events after it keep their order.
        assert!(bus.flush(start + TICK, 1).is_none());
        let namespace =
            Event::Namespace(NamespaceEvent { netns: Netns::Named("n0".into()), present: true, owner: None });
        let (after, _) = join_all(&mut bus, [(start + 2 * TICK, namespace.clone())], 1);
        frames.extend(after);
        let mut expected: Vec<Event> = (0..4).map(progress).collect();
        expected.extend([finished, namespace]);
        assert_eq!(sizes(&frames), [1, 3, 1, 1]);
        assert_eq!(read(&frames), expected);
        assert!(numbered(&frames));
    }

    #[test]
    fn a_long_burst_goes_out_in_frames_of_at_most_max_batch() {
        let mut bus = Coalescer::default();
        let start = Instant::now();
        let burst = (0..2 * MAX_BATCH + 10).map(|i| (start, progress(i)));
        let (mut frames, flushes) = join_all(&mut bus, burst, 1);
        assert_eq!(flushes.len(), 1);
        frames.extend(bus.flush(flushes[0], 1));
        assert_eq!(sizes(&frames), [1, MAX_BATCH, MAX_BATCH, 9]);
        assert_eq!(read(&frames), (0..2 * MAX_BATCH + 10).map(progress).collect::<Vec<_>>());
        assert!(numbered(&frames));
    }

    #[test]
    fn a_flush_is_asked_for_again_only_once_the_last_one_was_made() {
        let mut bus = Coalescer::default();
        let start = Instant::now();
        let mut asked = Vec::new();
        for round in 0..3u32 {
            let now = start + TICK * round;
            asked.extend(join_all(&mut bus, (0..3).map(|i| (now, progress(i))), 1).1);
            bus.flush(now + TICK, 1);
        }
        assert_eq!(asked, [start + TICK, start + 2 * TICK, start + 3 * TICK]);
    }

    #[tokio::test]
    async fn every_client_reads_every_event_in_order_whether_it_reads_batches_or_not() {
        let bus = EventBus::default();
        let Subscription { mut frames, next } = bus.subscribe();
        assert_eq!(next, 0);
        let lab = nslab_model::load::load_lab_str(include_str!("../../../examples/router.json")).unwrap();
        let document = Event::Document(DocumentEvent { view: LabView { revision: 2, lab, problems: Vec::new() } });
        let mut sent = Vec::new();
        for index in 0..300 {
            let event = if index % 97 == 50 { document.clone() } else { progress(index) };
            bus.send(&event);
            sent.push(event);
            if index % 100 == 99 {
                tokio::time::sleep(TICK / 5).await;
            }
        }
        // The frames' own texts: the bus's `Arc`s are not `Frame`s to `read`.
        let mut got = Vec::new();
        let mut events = 0;
        while events < sent.len() {
            let frame = frames.recv().await.expect("a frame");
            events += frame.events.len();
            got.push(Frame { first: frame.first, events: frame.events.clone(), text: frame.text.clone() });
        }
        assert!(numbered(&got));
        assert_eq!(got[0].first, 0);
        assert_eq!(read(&got), sent);
    }
}
