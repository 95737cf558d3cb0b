//! A client of a benchmark's `nslab serve`: its HTTP API through reqwest and its event
//! stream through a websocket. Every error is returned (a benchmark reports it and goes
//! on), and every wait is bounded.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use nslab_model::api::{Event, LabView, PutLab, EVENTS_PROTOCOL};
use nslab_model::Lab;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::server::Server;

pub struct Api {
    http: reqwest::Client,
    /// `127.0.0.1:PORT`
    server: String,
}

impl Api {
    /// Every request is bounded by `timeout`.
    pub fn new(server: &Server, timeout: Duration) -> Api {
        let http = reqwest::Client::builder().no_proxy().timeout(timeout).build().expect("an HTTP client");
        Api { http, server: server.address().to_string() }
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<T, String> {
        let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| format!("{what}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{what}: {status}: {}", String::from_utf8_lossy(&body)));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{what}: unexpected answer ({e})"))
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server)
    }

    pub async fn post<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        self.send(self.http.post(self.url(path)), &format!("POST {path}")).await
    }

    /// Makes `lab` the server's document, over whatever revision it has.
    pub async fn put_lab(&self, lab: &Lab) -> Result<LabView, String> {
        let current: LabView = self.send(self.http.get(self.url("/api/lab")), "GET /api/lab").await?;
        let body = PutLab { base_revision: current.revision, lab: lab.clone() };
        self.send(self.http.put(self.url("/api/lab")).json(&body), "PUT /api/lab").await
    }

    pub async fn import(&self, file: &Path) -> Result<LabView, String> {
        let body = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        self.send(self.http.post(self.url("/api/import")).body(body), "POST /api/import").await
    }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The server's event stream (`/api/events`), as the editor reads it: asking for batches
/// (`EVENTS_PROTOCOL`), whose events `next_event` hands out one by one.
pub struct Events {
    pub socket: Socket,
    /// Events of a batch not yet handed out.
    queued: VecDeque<Event>,
}

/// Connects to the event stream, asking for batches.
pub async fn connect(server: &Server) -> Result<Events, String> {
    connect_from(server, true, None).await
}

/// Connects to the event stream from loopback address `from` (by default the system's
/// choice, 127.0.0.1): one client of a class per address, as browsers on machines of their
/// own (the server caps the connections of one address). `batches`: asking for them, else
/// one event per message (as an editor from before batches, or a script that does not
/// know them).
pub async fn connect_from(server: &Server, batches: bool, from: Option<Ipv4Addr>) -> Result<Events, String> {
    let url = format!("ws://{}/api/events", server.address());
    let mut request = url.into_client_request().map_err(|e| format!("websocket: {e}"))?;
    if batches {
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(EVENTS_PROTOCOL));
    }
    let target: SocketAddr = server.address().parse().map_err(|e| format!("{}: {e}", server.address()))?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| format!("a socket: {e}"))?;
    if let Some(from) = from {
        socket.bind(SocketAddr::from((from, 0))).map_err(|e| format!("binding {from}: {e}"))?;
    }
    let stream = socket.connect(target).await.map_err(|e| format!("connecting to {target}: {e}"))?;
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (socket, _) = tokio_tungstenite::client_async(request, stream).await.map_err(|e| format!("websocket: {e}"))?;
    Ok(Events { socket, queued: VecDeque::new() })
}

/// The next event; None when `deadline` passes first.
pub async fn next_event(events: &mut Events, deadline: tokio::time::Instant) -> Result<Option<Event>, String> {
    loop {
        if let Some(event) = events.queued.pop_front() {
            return Ok(Some(event));
        }
        let message = match tokio::time::timeout_at(deadline, events.socket.next()).await {
            Err(_) => return Ok(None),
            Ok(None) => return Err("the event stream closed".into()),
            Ok(Some(Err(e))) => return Err(format!("the event stream failed: {e}")),
            Ok(Some(Ok(message))) => message,
        };
        if let Message::Text(text) = message {
            let event: Event = serde_json::from_str(text.as_str()).map_err(|e| format!("a bad event ({e}): {text}"))?;
            events.queued.extend(event.into_events());
        }
    }
}

/// The first event `wanted` accepts within `limit`; the ones before it are dropped.
pub async fn wait_for(
    events: &mut Events,
    what: &str,
    limit: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> Result<Event, String> {
    let deadline = tokio::time::Instant::now() + limit;
    while let Some(event) = next_event(events, deadline).await? {
        if wanted(&event) {
            return Ok(event);
        }
    }
    Err(format!("no {what} within {limit:?}"))
}

/// Reads events until none came for `quiet` (at most `limit`): the server has settled.
pub async fn until_quiet(events: &mut Events, quiet: Duration, limit: Duration) -> Result<(), String> {
    let end = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < end {
        let deadline = (tokio::time::Instant::now() + quiet).min(end);
        if next_event(events, deadline).await?.is_none() {
            return Ok(());
        }
    }
    Ok(())
}
