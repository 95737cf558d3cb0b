//! A live packet capture seen from the editor: which interface, its websocket
//! (`/api/capture`), the packets the panel holds, and the dots that travel along the
//! captured link. One capture at a time; it lives here, not in the panel, so that it goes
//! on while another tab is open.

use std::collections::VecDeque;

use futures::StreamExt;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::capture::{Direction, PacketLine, Protocol};
use nslab_model::topology::Side;

/// Packets the panel holds; older ones go (and are not in its download).
pub const HELD: usize = 2000;
/// How often arrived packets are put on the page: one redraw for a burst.
const FLUSH_MS: u64 = 100;
/// Dots on a link: at most one per this many milliseconds on each link, so a flood is a
/// steady stream of dots, not a frozen page (and a broadcast on a bridge's ports shows on
/// every port's link).
const DOT_EVERY_MS: f64 = 120.0;

/// What is captured: a node's interface, and the link end it is when it is one.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureTarget {
    pub node: String,
    pub iface: String,
    /// The veth end captured on (link index, side): packets it sends travel from it.
    pub end: Option<(usize, Side)>,
    /// A bridge's ports and their link ends: the server tags each packet of a bridge's
    /// capture with its port, and its dot travels along that port's link.
    pub ports: Vec<(String, (usize, Side))>,
}

impl CaptureTarget {
    /// `eth0 of ns1`, `the ports of docker0`.
    pub fn words(&self) -> String {
        if self.ports.is_empty() {
            format!("{} of {}", self.iface, self.node)
        } else {
            format!("the ports of {}", self.node)
        }
    }

    /// The link end `packet` was seen at.
    fn end_of(&self, packet: &PacketLine) -> Option<(usize, Side)> {
        match &packet.port {
            Some(port) => self.ports.iter().find(|(name, _)| name == port).map(|(_, end)| *end),
            None => self.end,
        }
    }
}

#[derive(Clone, Copy)]
pub struct Capture {
    pub target: RwSignal<Option<CaptureTarget>>,
    /// The filter the server applies now (empty: none).
    pub filter: RwSignal<String>,
    /// What is kept without being a signal (one stored value: each stored type costs code).
    pub kept: StoredValue<Kept>,
    /// How many packets the panel holds.
    pub held: RwSignal<usize>,
    /// The numbers of the first and last packets the list holds (its download's range).
    pub held_range: RwSignal<Option<(u64, u64)>>,
    /// The list holds still: arriving packets wait (up to `HELD`) until it goes on.
    pub paused: RwSignal<bool>,
    /// What the capture is doing, or why it is not.
    pub status: RwSignal<String>,
    /// The server's word on a filter it refused, under a copy of the filter with a caret
    /// at the place (empty: none).
    pub mistake: RwSignal<String>,
    pub missed: RwSignal<u64>,
    pub dropped: RwSignal<u64>,
    /// Bumped when a capture is opened, for the side panel to show it.
    pub opened: RwSignal<u64>,
}

#[derive(Default)]
pub struct Kept {
    /// The packets held: the list's rows are added to the page as they come (see
    /// `packet_rows.rs`), not drawn from a signal.
    pub packets: VecDeque<PacketLine>,
    /// Arrived and not yet on the page.
    waiting: VecDeque<PacketLine>,
    /// When the capture's first packet was taken: the rows' times count from it.
    pub first_us: Option<u64>,
    /// When the last dot left along each link (link index, ms).
    last_dots: Vec<(usize, f64)>,
    /// Ends the capture's websocket.
    stop: Option<futures::channel::oneshot::Sender<()>>,
}

impl Capture {
    pub fn new() -> Self {
        let capture = Capture {
            target: RwSignal::new(None),
            filter: RwSignal::new(String::new()),
            kept: StoredValue::new(Kept::default()),
            held: RwSignal::new(0),
            held_range: RwSignal::new(None),
            paused: RwSignal::new(false),
            status: RwSignal::new(String::new()),
            mistake: RwSignal::new(String::new()),
            missed: RwSignal::new(0),
            dropped: RwSignal::new(0),
            opened: RwSignal::new(0),
        };
        let flushing = capture;
        let _ = set_interval_with_handle(move || flushing.flush(), std::time::Duration::from_millis(FLUSH_MS));
        capture
    }

    /// Opens a capture on `target` (ending the one before), showing it in the panel.
    pub fn open(self, target: CaptureTarget) {
        self.clear();
        self.target.set(Some(target));
        self.connect();
        self.opened.update(|opened| *opened += 1);
    }

    /// Asks the server again with the filter now set (the packets held stay).
    pub fn refilter(self, filter: String) {
        self.filter.set(filter);
        if self.target.get_untracked().is_some() {
            self.connect();
        }
    }

    /// Ends the capture: the server's socket closes once no one else watches.
    pub fn close(self) {
        self.end_socket();
        self.target.set(None);
    }

    pub fn clear(self) {
        self.kept.update_value(|kept| {
            kept.packets.clear();
            kept.waiting.clear();
            kept.first_us = None;
        });
        self.held.set(0);
        self.held_range.set(None);
        crate::packet_rows::show(self);
        self.missed.set(0);
        self.dropped.set(0);
    }

    fn end_socket(self) {
        if let Some(stop) = self.kept.try_update_value(|kept| kept.stop.take()).flatten() {
            let _ = stop.send(());
        }
    }

    fn connect(self) {
        self.end_socket();
        let Some(target) = self.target.get_untracked() else { return };
        let filter = self.filter.get_untracked();
        let query = capture_query(&target, &filter);
        self.mistake.set(String::new());
        let (stop, mut stopped) = futures::channel::oneshot::channel::<()>();
        self.kept.update_value(|kept| kept.stop = Some(stop));
        self.status.set(format!("capturing on {}", target.words()));
        spawn_local(async move {
            let Ok(mut socket) = WebSocket::open(&format!("{}/api/capture?{query}", ws_origin())) else {
                self.status.set("the browser cannot open a websocket".into());
                return;
            };
            let mut heard = false;
            loop {
                match futures::future::select(socket.next(), &mut stopped).await {
                    futures::future::Either::Left((Some(Ok(Message::Text(text))), _)) => {
                        heard = true;
                        self.received(&text);
                    }
                    futures::future::Either::Left((Some(Ok(_)), _)) => {}
                    // Closed by the server, or refused before it opened.
                    futures::future::Either::Left(_) => break,
                    futures::future::Either::Right(_) => {
                        let _ = socket.close(None, None);
                        return;
                    }
                }
            }
            // A websocket that was refused does not say why: the same address, asked
            // plainly, does.
            let why = if heard { None } else { refusal(&query).await };
            let why = why.unwrap_or_else(|| "The capture ended: the interface is gone or the server stopped.".into());
            // "the filter does not parse: at column 9: ...": shown at its place.
            let column = why.split("at column ").nth(1).and_then(|rest| rest.split(':').next()?.parse::<usize>().ok());
            match column {
                Some(column) => {
                    let caret = " ".repeat(column.saturating_sub(1));
                    self.mistake.set(format!("{filter}\n{caret}^\n{why}"));
                    self.status.set("The server refused the filter; no capture runs.".into());
                }
                None => self.status.set(why),
            }
        });
    }

    fn received(self, text: &str) {
        // Read as a JSON value, whose reader the editor has anyway (the lab's unknown
        // fields): a derived reader for these few fields cost 4 KB of wasm.
        let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else { return };
        let count = |key: &str| message.get(key).and_then(serde_json::Value::as_u64);
        if let Some(missed) = count("missed") {
            self.missed.update(|total| *total += missed);
        } else if let Some(dropped) = count("dropped") {
            self.dropped.update(|total| *total += dropped);
        } else if let Some(packet) = message.get("packet").and_then(packet_line) {
            self.dot_for(&packet);
            self.kept.update_value(|kept| {
                kept.first_us.get_or_insert(packet.time_us);
                kept.waiting.push_back(packet);
                if kept.waiting.len() > HELD {
                    kept.waiting.pop_front();
                }
            });
        }
    }

    /// Puts what arrived on the page, unless the list holds still.
    fn flush(self) {
        if self.paused.get_untracked() || self.kept.with_value(|kept| kept.waiting.is_empty()) {
            return;
        }
        let arrived = self.kept.try_update_value(|kept| std::mem::take(&mut kept.waiting)).unwrap_or_default();
        crate::packet_rows::append(self, &arrived);
        let held = self.kept.try_update_value(|kept| {
            kept.packets.extend(arrived);
            let excess = kept.packets.len().saturating_sub(HELD);
            kept.packets.drain(..excess);
            let range = kept.packets.front().zip(kept.packets.back()).map(|(first, last)| (first.seq, last.seq));
            (kept.packets.len(), range)
        });
        let (held, range) = held.unwrap_or_default();
        self.held.set(held);
        self.held_range.set(range);
    }

    /// A dot along the link `packet` was seen on, unless one left along it too recently.
    fn dot_for(self, packet: &PacketLine) {
        let end = self.target.with_untracked(|target| target.as_ref().and_then(|target| target.end_of(packet)));
        let Some((link, side)) = end else { return };
        let now = js_sys::Date::now();
        let due = self.kept.try_update_value(|kept| {
            let last = match kept.last_dots.iter_mut().find(|(index, _)| *index == link) {
                Some((_, last)) => last,
                None => {
                    kept.last_dots.push((link, f64::NEG_INFINITY));
                    &mut kept.last_dots.last_mut().expect("just pushed").1
                }
            };
            let due = now - *last >= DOT_EVERY_MS;
            if due {
                *last = now;
            }
            due
        });
        if due != Some(true) {
            return;
        }
        // Out: from the captured end (or port) to the other one.
        let from_a = (side == Side::A) == (packet.direction == Direction::Out);
        crate::packet_dots::launch(link, from_a, protocol_class(packet.protocol));
    }
}

/// A packet message's `packet` as the panel keeps it.
fn packet_line(packet: &serde_json::Value) -> Option<PacketLine> {
    let text = |key: &str| packet.get(key).and_then(serde_json::Value::as_str);
    let direction = if text("direction")? == "out" { Direction::Out } else { Direction::In };
    let protocol = match text("protocol")? {
        "arp" => Protocol::Arp,
        "icmp" => Protocol::Icmp,
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => Protocol::Other,
    };
    Some(PacketLine {
        seq: packet.get("seq").and_then(serde_json::Value::as_u64).unwrap_or_default(),
        port: text("port").map(str::to_string),
        time_us: packet.get("time_us")?.as_u64()?,
        direction,
        length: packet.get("length")?.as_u64()? as u32,
        protocol,
        summary: text("summary")?.to_string(),
    })
}

/// `node=...&iface=...[&filter=...]`, encoded.
pub fn capture_query(target: &CaptureTarget, filter: &str) -> String {
    let encode = |text: &str| String::from(js_sys::encode_uri_component(text));
    let mut query = format!("node={}&iface={}", encode(&target.node), encode(&target.iface));
    if !filter.trim().is_empty() {
        query.push_str(&format!("&filter={}", encode(filter)));
    }
    query
}

fn ws_origin() -> String {
    let location = web_sys::window().expect("a window").location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{}", location.host().unwrap_or_default())
}

/// Why the server refuses a capture, asked with a plain GET.
async fn refusal(query: &str) -> Option<String> {
    let response = gloo_net::http::Request::get(&format!("/api/capture?{query}")).send().await.ok()?;
    // The same reader as the API's errors (`api.rs`): no further copy of it.
    Some(response.json::<nslab_model::api::ErrorBody>().await.ok()?.message)
}

pub fn use_capture() -> Capture {
    use_context::<Capture>().expect("the capture is provided by App")
}

/// The protocol's name, as the dots' and rows' classes have it.
pub fn protocol_class(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Arp => "arp",
        Protocol::Icmp => "icmp",
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Other => "other",
    }
}
