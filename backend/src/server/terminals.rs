//! Terminals into the lab (`GET /api/terminal?node=NAME`, a websocket): a shell on a
//! pseudo-terminal in the node's namespace (`kernel::shell`), opt-in with `nslab serve
//! --terminals` because it is a root shell. Binary frames carry the terminal's bytes both
//! ways; text frames carry `TerminalControl` (a resize from the page, the shell's exit from
//! the server). Rights and Origin are checked before this (`auth::HANDS_ON`).
//!
//! Lifecycle: closing the websocket ends the shell's whole session (SIGHUP, then SIGKILL);
//! the shell ending sends its exit and closes the websocket; the server stopping ends every
//! shell it started (`Terminals::end_all`). At most `TerminalSettings::max_open` at once.
//!
//! Back-pressure: the terminal is read only when the websocket has taken the last chunk
//! (each send waits for its flush), so a shell that writes faster than the page reads
//! (`yes`) fills the terminal's buffer in the kernel and blocks in its write; the server
//! holds at most one chunk per terminal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use nslab_model::api::{Event, TerminalControl, TerminalEvent, TerminalExit, TerminalQuery};
use nslab_model::identity::Netns;
use nslab_model::Node;

use super::errors::ApiError;
use super::AppState;
use crate::kernel::netns;
use crate::kernel::shell::{end_sessions, Pty, Shell};
use crate::processes::Process;

/// How many terminals a server keeps open at most, unless told otherwise.
pub const MAX_OPEN_TERMINALS: usize = 64;
/// The most read from a terminal at once: one websocket message.
const CHUNK: usize = 16 * 1024;
/// How long a hung-up shell's processes get to end before SIGKILL (and then to die).
const GRACE: Duration = Duration::from_millis(500);
/// After the shell ended, how long what it wrote last is still read (a job it left in the
/// background may hold the terminal open for ever).
const LINGER: Duration = Duration::from_millis(300);

/// Whether terminals may be opened (`nslab serve --terminals`), and how many at once.
#[derive(Debug, Clone, Copy)]
pub struct TerminalSettings {
    pub enabled: bool,
    pub max_open: usize,
}

impl Default for TerminalSettings {
    fn default() -> Self {
        TerminalSettings { enabled: false, max_open: MAX_OPEN_TERMINALS }
    }
}

/// The terminals open now, each by its shell (the leader of its session).
pub struct Terminals {
    settings: TerminalSettings,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    /// None while the shell is being started.
    shells: HashMap<u64, Option<Process>>,
    /// Set when the server stops: no terminal opens any more.
    stopping: bool,
}

impl Terminals {
    pub fn new(settings: TerminalSettings) -> Self {
        Terminals { settings, open: Mutex::new(Open::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for one more terminal, or why there is none.
    fn reserve(&self) -> Result<u64, ApiError> {
        let mut open = self.lock();
        if open.stopping {
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"));
        }
        if open.shells.len() >= self.settings.max_open {
            let message = format!(
                "{} are open on this server, the most it allows: close one first",
                terminals_counted(open.shells.len())
            );
            return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, message));
        }
        open.next_id += 1;
        let id = open.next_id;
        open.shells.insert(id, None);
        Ok(id)
    }

    /// Ends every shell this server started (when it stops). Blocks for at most about
    /// twice `GRACE`.
    pub fn end_all(&self) {
        let leaders: Vec<Process> = {
            let mut open = self.lock();
            open.stopping = true;
            open.shells.drain().filter_map(|(_, shell)| shell).collect()
        };
        if !leaders.is_empty() {
            let left = end_sessions(&leaders, GRACE);
            tracing::info!("ended {}; {left} processes could not be ended", terminals_counted(leaders.len()));
        }
    }
}

fn terminals_counted(count: usize) -> String {
    if count == 1 {
        "1 terminal".to_string()
    } else {
        format!("{count} terminals")
    }
}

/// A terminal from its start to its end: while it lives it holds its place among the
/// open ones; dropping it ends the shell's session and tells every page.
struct OpenTerminal {
    state: Arc<AppState>,
    id: u64,
    node: String,
    leader: Option<Process>,
}

impl OpenTerminal {
    fn started(&mut self, leader: Process) {
        self.leader = Some(leader);
        self.state.terminals.lock().shells.insert(self.id, Some(leader));
        self.state.bus.send(&Event::Terminal(TerminalEvent { node: self.node.clone(), opened: true }));
    }
}

impl Drop for OpenTerminal {
    fn drop(&mut self) {
        let mine = self.state.terminals.lock().shells.remove(&self.id);
        let Some(leader) = self.leader else { return };
        self.state.bus.send(&Event::Terminal(TerminalEvent { node: self.node.clone(), opened: false }));
        // Gone from the list: the server's stop (`end_all`) is ending it already.
        if mine.is_some() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn_blocking(move || end_sessions(&[leader], GRACE));
            } else {
                end_sessions(&[leader], GRACE);
            }
        }
    }
}

/// `GET /api/terminal?node=NAME`. Answers why not (403 off, 404 no such node, 409 not in
/// the kernel, 429 too many) before upgrading, so that a page whose websocket failed can
/// ask the same address plainly and show the reason. A plain request that would be
/// served is answered 426.
pub async fn open(
    State(state): State<Arc<AppState>>,
    query: Result<Query<TerminalQuery>, QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !state.terminals.settings.enabled {
        let message = "terminals are off on this server: start it with `nslab serve --terminals` to open shells \
                       in the lab's namespaces";
        return Err(ApiError::new(StatusCode::FORBIDDEN, message));
    }
    let Ok(Query(TerminalQuery { node })) = query else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "name the node: /api/terminal?node=NAME"));
    };
    let netns = where_to_open(&state, &node).await?;
    let Ok(upgrade) = upgrade else {
        return Err(ApiError::new(StatusCode::UPGRADE_REQUIRED, "a terminal is a websocket: open it as one"));
    };
    let id = state.terminals.reserve()?;
    let mut terminal = OpenTerminal { state: state.clone(), id, node: node.clone(), leader: None };
    let shell = Shell::start(&node, &netns)
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
    terminal.started(shell.leader);
    // If the upgrade never completes, the callback is dropped with `terminal`: the shell ends.
    Ok(upgrade.on_upgrade(move |socket| serve(socket, shell, terminal)).into_response())
}

/// The namespace a terminal on `node` of the document opens in: a namespace node's, which
/// the kernel must hold (and not as another lab's), or the host's for the host node.
async fn where_to_open(state: &AppState, node: &str) -> Result<Netns, ApiError> {
    let (lab_name, found, openable) = {
        let store = state.store.lock().await;
        let lab = &store.view().lab;
        let openable: Vec<String> = lab
            .nodes
            .iter()
            .filter(|node| !matches!(node, Node::Bridge(_)))
            .map(|node| format!("`{}`", node.name()))
            .collect();
        (lab.name.clone(), lab.node(node).cloned(), openable)
    };
    match found {
        Some(Node::Host(_)) => Ok(Netns::Host),
        Some(Node::Namespace(namespace)) => in_kernel(state, &lab_name, &namespace.name).await,
        Some(Node::Bridge(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{node}` is a bridge: a terminal opens on a namespace or the host"),
        )),
        None => {
            let there = match openable.as_slice() {
                [] => "it has no namespace or host node".to_string(),
                names => format!("a terminal opens on {}", listed(names)),
            };
            Err(ApiError::new(StatusCode::NOT_FOUND, format!("lab `{lab_name}` has no node `{node}`; {there}")))
        }
    }
}

/// `name`, when the kernel holds it as a namespace that is not another lab's.
async fn in_kernel(state: &AppState, lab_name: &str, name: &str) -> Result<Netns, ApiError> {
    let netns = Netns::Named(name.to_string());
    let present = netns::list_named().unwrap_or_default();
    let is_namespace = present.iter().any(|there| there == name)
        && netns::open_netns(&netns).is_ok_and(|file| netns::is_namespace_file(&file));
    if !is_namespace {
        let there = match present.as_slice() {
            [] => "the kernel has no named namespace".to_string(),
            names => {
                let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
                format!("the kernel has {}", listed(&names))
            }
        };
        let message = format!("namespace `{name}` is not in the kernel: apply the lab first ({there})");
        return Err(ApiError::new(StatusCode::CONFLICT, message));
    }
    if let Some(Some(owner)) = state.live.read().await.namespaces.get(&netns) {
        if owner != lab_name {
            let message = format!("namespace `{name}` in the kernel is lab `{owner}`'s, not this lab's");
            return Err(ApiError::new(StatusCode::CONFLICT, message));
        }
    }
    Ok(netns)
}

/// `a`, `a and b`, `a, b and c`.
fn listed(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Carries the terminal's bytes both ways until the page closes the socket or the shell
/// ends; then the shell's session is ended (by dropping `terminal`).
async fn serve(socket: WebSocket, shell: Shell, terminal: OpenTerminal) {
    let Shell { pty, mut child, .. } = shell;
    let (mut sink, mut stream) = socket.split();
    let output = async {
        let exit = shell_output(&pty, &mut child, &mut sink).await;
        if let Some(exit) = exit {
            let text = serde_json::to_string(&TerminalControl::Exit(exit)).expect("control messages serialise");
            let _ = sink.send(Message::Text(text.into())).await;
            let close = CloseFrame { code: 1000, reason: "the shell ended".into() };
            let _ = sink.send(Message::Close(Some(close))).await;
        }
    };
    let input = async {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Binary(bytes) => {
                    if pty.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Message::Text(text) => {
                    if let Ok(TerminalControl::Resize(size)) = serde_json::from_str(&text) {
                        let _ = pty.resize(size);
                    }
                }
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    };
    tokio::select! {
        () = output => {}
        () = input => {}
    }
    // The master closed is the terminal hung up; then the session is ended for sure.
    drop(pty);
    drop(terminal);
}

/// Sends what the shell writes until it has ended (and its last words are read): how it
/// ended. None when the page went away first.
async fn shell_output(
    pty: &Pty,
    child: &mut tokio::process::Child,
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
) -> Option<TerminalExit> {
    let mut buffer = vec![0u8; CHUNK];
    let mut status = None;
    let linger = tokio::time::sleep(Duration::MAX);
    tokio::pin!(linger);
    loop {
        tokio::select! {
            read = pty.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(count) => {
                    let bytes = axum::body::Bytes::copy_from_slice(&buffer[..count]);
                    sink.send(Message::Binary(bytes)).await.ok()?;
                }
            },
            ended = child.wait(), if status.is_none() => {
                status = Some(ended);
                linger.as_mut().reset(tokio::time::Instant::now() + LINGER);
            }
            () = &mut linger => break,
        }
    }
    // Nobody holds the terminal any more: the shell has ended, or is just ending.
    let status = match status {
        Some(status) => status.ok(),
        None => tokio::time::timeout(Duration::from_secs(2), child.wait()).await.ok().and_then(Result::ok),
    };
    use std::os::unix::process::ExitStatusExt;
    Some(TerminalExit { code: status.and_then(|s| s.code()), signal: status.and_then(|s| s.signal()) })
}
