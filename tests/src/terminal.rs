//! A client of a terminal (`GET /api/terminal?node=NAME`) as the editor is one: a real
//! websocket (tokio-tungstenite), binary frames for the terminal's bytes, text frames for
//! control messages. Every wait is bounded.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use nslab_model::api::{TerminalControl, TerminalExit, TerminalSize};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::server::NslabServer;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a terminal is asked for: with which token (None: none) and Origin (None: none).
#[derive(Debug, Clone, Default)]
pub struct Asking<'a> {
    pub token: Option<&'a str>,
    pub origin: Option<&'a str>,
}

/// A refused terminal: the status and the body of the answer.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
}

pub struct Terminal {
    socket: Socket,
    /// Everything the shell wrote so far.
    pub output: Vec<u8>,
    /// The shell's exit, once the server said it.
    pub exit: Option<TerminalExit>,
    /// Whether the server closed the socket.
    pub closed: bool,
    /// Commands sent with `run`, to tell their marks apart.
    runs: u32,
}

/// `ws://HOST/api/terminal?node=NODE`
pub fn terminal_url(server: &NslabServer, node: &str) -> String {
    format!("{}/api/terminal?node={node}", server.url.replacen("http://", "ws://", 1))
}

impl Terminal {
    /// Opens a terminal on `node` with the server's own token; panics when refused.
    pub async fn open(server: &NslabServer, node: &str) -> Terminal {
        let asking = Asking { token: server.token.as_deref(), origin: None };
        Terminal::try_open(server, node, asking).await.unwrap_or_else(|refusal| panic!("{refusal:?}"))
    }

    pub async fn try_open(server: &NslabServer, node: &str, asking: Asking<'_>) -> Result<Terminal, Refusal> {
        let mut request = terminal_url(server, node).into_client_request().expect("a websocket request");
        if let Some(token) = asking.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("a header");
            request.headers_mut().insert("Authorization", value);
        }
        if let Some(origin) = asking.origin {
            request.headers_mut().insert("Origin", HeaderValue::from_str(origin).expect("a header"));
        }
        let connecting = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(Duration::from_secs(20), connecting).await.expect("the server answers in 20 s") {
            Ok((socket, _)) => Ok(Terminal { socket, output: Vec::new(), exit: None, closed: false, runs: 0 }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
                Err(Refusal { status: response.status().as_u16(), body })
            }
            Err(error) => panic!("the terminal's websocket failed: {error}"),
        }
    }

    /// What the shell wrote so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// Types `bytes` into the terminal.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.socket.send(Message::Binary(bytes.to_vec().into())).await.expect("the terminal takes input");
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) {
        let text = serde_json::to_string(&TerminalControl::Resize(TerminalSize { cols, rows })).unwrap();
        self.socket.send(Message::Text(text.into())).await.expect("the terminal takes a resize");
    }

    /// Types `command` and Enter, and waits (at most `limit`) until it has finished: its
    /// output (and the line typed) is returned. A mark echoed after it says when; the mark
    /// is computed by the shell, so the typed line does not hold it.
    pub async fn run(&mut self, command: &str, limit: Duration) -> String {
        self.runs += 1;
        let mark = 7000 + self.runs;
        let from = self.output.len();
        // On a line of its own: a command may end with `&`, which `;` may not follow.
        self.send(format!("{command}\recho \"__$((7000 + {}))__\"\r", self.runs).as_bytes()).await;
        let wanted = format!("__{mark}__");
        self.wait_for(&format!("`{command}` to finish"), limit, |text| text.contains(&wanted)).await;
        String::from_utf8_lossy(&self.output[from..]).into_owned()
    }

    /// Reads (at most `limit`) until the whole output satisfies `test`; panics naming `what`
    /// with what came.
    pub async fn wait_for(&mut self, what: &str, limit: Duration, test: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.text();
            if test(&text) {
                return text;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                panic!("no {what} within {limit:?}; the terminal shows:\n{text}")
            };
            if !self.read_one(left).await && self.closed {
                let text = self.text();
                assert!(test(&text), "no {what}: the terminal ended ({:?}); it shows:\n{text}", self.exit);
                return text;
            }
        }
    }

    /// Reads one message (at most `limit`): false when the socket ended or the time passed.
    async fn read_one(&mut self, limit: Duration) -> bool {
        let Ok(next) = tokio::time::timeout(limit, self.socket.next()).await else { return false };
        let Some(Ok(message)) = next else {
            self.closed = true;
            return false;
        };
        match message {
            Message::Binary(bytes) => self.output.extend_from_slice(&bytes),
            Message::Text(text) => match serde_json::from_str::<TerminalControl>(&text) {
                Ok(TerminalControl::Exit(exit)) => self.exit = Some(exit),
                other => panic!("a control message the server should not send: {text} ({other:?})"),
            },
            Message::Close(_) => {
                self.closed = true;
                return false;
            }
            _ => {}
        }
        true
    }

    /// The next bytes the shell writes (at most `limit`), not kept in `output`: for
    /// measurements that read much or time each answer.
    pub async fn next_chunk(&mut self, limit: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.socket.next()).await.ok()?? {
                Ok(Message::Binary(bytes)) => return Some(bytes.to_vec()),
                Ok(Message::Close(_)) | Err(_) => {
                    self.closed = true;
                    return None;
                }
                Ok(_) => {}
            }
        }
    }

    /// Reads until the server closes the socket (at most `limit`): whether it did.
    pub async fn wait_until_closed(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while !self.closed {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            self.read_one(left).await;
        }
        true
    }

    /// Closes the socket as a page closing its tab does.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.socket.close(None)).await;
    }
}

/// Whether a process `pid` exists now (a zombie does not count: it runs nothing).
pub fn process_runs(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rfind(')').and_then(|end| stat[end + 1..].split_whitespace().next().map(str::to_string));
        !matches!(state.as_deref(), Some("Z" | "X") | None)
    })
}

/// Waits (at most `limit`) until none of `pids` runs; those still running then.
pub async fn wait_until_gone(pids: &[i32], limit: Duration) -> Vec<i32> {
    let deadline = Instant::now() + limit;
    loop {
        let running: Vec<i32> = pids.iter().copied().filter(|pid| process_runs(*pid)).collect();
        if running.is_empty() || Instant::now() >= deadline {
            return running;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
