//! A client of the nslab server, as the editor or a script would be: HTTP through reqwest,
//! the event stream through a real websocket (tokio-tungstenite). Every wait is bounded.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nslab_model::api::{Event, LabView, PutLab, EVENTS_PROTOCOL};
use nslab_model::Lab;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::server::NslabServer;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    pub fn new(server: &NslabServer) -> Self {
        Client::with_token(server, server.token.clone())
    }

    pub fn with_token(server: &NslabServer, token: Option<String>) -> Self {
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().expect("a client");
        Client { http, base: server.url.clone(), token }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn lab(&self) -> LabView {
        let response = self.request(reqwest::Method::GET, "/api/lab").send().await.expect("GET /api/lab");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a lab view")
    }

    /// Waits (bounded) until the server's document satisfies `test`: edits made in a browser
    /// reach it asynchronously.
    pub async fn wait_for_lab(&self, what: &str, test: impl Fn(&Lab) -> bool) -> Lab {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let lab = self.lab().await.lab;
            if test(&lab) {
                return lab;
            }
            assert!(Instant::now() < deadline, "the server's lab never {what}: {}", nslab_model::export::to_json(&lab));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn put_lab(&self, base_revision: u64, lab: &Lab) -> reqwest::Response {
        let body = PutLab { base_revision, lab: lab.clone() };
        self.request(reqwest::Method::PUT, "/api/lab").json(&body).send().await.expect("PUT /api/lab")
    }

    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::POST, path).send().await.expect("POST")
    }
}

/// The websocket event stream, as the editor reads it: batches (`EVENTS_PROTOCOL`) are
/// handed out event by event, so a test sees every event on its own, in order.
pub struct Events {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Events read but not yet handed out by `next`: the snapshot `connect` read, the rest
    /// of a batch.
    queued: VecDeque<Event>,
    /// `batch` messages read so far.
    pub batches: usize,
}

/// The request for the event stream; `batches`: asking for `EVENTS_PROTOCOL`.
fn events_request(url: String, batches: bool) -> Request {
    let mut request = url.into_client_request().expect("a websocket request");
    if batches {
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(EVENTS_PROTOCOL));
    }
    request
}

impl Events {
    /// Connects and returns once the server has subscribed this client to its events: the
    /// upgrade is answered before the server's stream task runs, and events sent in
    /// between would be lost; the snapshot it sends first proves it runs. `next` still
    /// hands out that snapshot first.
    pub async fn connect(server: &NslabServer) -> Events {
        Events::connect_asking(server, true).await
    }

    /// The same for a client that does not ask for batches (one event per message).
    pub async fn connect_unbatched(server: &NslabServer) -> Events {
        Events::connect_asking(server, false).await
    }

    async fn connect_asking(server: &NslabServer, batches: bool) -> Events {
        let url = match &server.token {
            Some(token) => format!("{}?token={token}", server.events_url()),
            None => server.events_url(),
        };
        let (socket, response) =
            tokio_tungstenite::connect_async(events_request(url, batches)).await.expect("the event stream opens");
        let protocol = response.headers().get("Sec-WebSocket-Protocol").and_then(|value| value.to_str().ok());
        assert_eq!(protocol, batches.then_some(EVENTS_PROTOCOL), "the protocol the server chose");
        let mut events = Events { socket, queued: VecDeque::new(), batches: 0 };
        let first = events.next(Duration::from_secs(10)).await.expect("a snapshot within 10 s");
        assert!(matches!(first, Event::Snapshot(_)), "a snapshot first: {first:?}");
        events.queued.push_front(first);
        events
    }

    /// An event stream whose client reads slowly: its socket's receive buffer is made as small
    /// as the kernel allows, so the server's sends back up after a few kilobytes unread.
    pub async fn connect_small(server: &NslabServer) -> Events {
        let address = server.url.trim_start_matches("http://");
        let target = tokio::net::lookup_host(address).await.expect("the address resolves").next().expect("one");
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small receive buffer");
        let stream = socket.connect(target).await.expect("the server accepts");
        let request = events_request(server.events_url(), true);
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (socket, _) = tokio_tungstenite::client_async(request, stream).await.expect("the event stream opens");
        Events { socket, queued: VecDeque::new(), batches: 0 }
    }

    /// The next event, or None when `limit` passes first.
    pub async fn next(&mut self, limit: Duration) -> Option<Event> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(event) = self.queued.pop_front() {
                return Some(event);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let message = tokio::time::timeout(left, self.socket.next()).await.ok()??.ok()?;
            if let Message::Text(text) = message {
                let event: Event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("an event ({e}): {text}"));
                if let Event::Batch(batch) = &event {
                    assert!(batch.events.len() > 1, "a batch of fewer than two events: {text}");
                    self.batches += 1;
                }
                self.queued.extend(event.into_events());
            }
        }
    }

    /// Waits (at most `limit`) for an event that `wanted` accepts; panics naming `what`.
    pub async fn wait_for(&mut self, what: &str, limit: Duration, wanted: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left).await {
                Some(event) if wanted(&event) => return event,
                Some(event) => seen.push(event),
                None => break,
            }
        }
        let kinds: Vec<String> = seen.iter().map(|e| format!("{e:?}").chars().take(120).collect()).collect();
        panic!("no {what} within {limit:?}; saw:\n{}", kinds.join("\n"));
    }
}
