//! `nslab serve`: the agent the editor talks to. It holds the lab being edited (on disk,
//! versioned), applies it through the engine, and streams what the kernel does to every
//! connected browser. Also serves the editor's static files.

mod api;
mod auth;
mod body_deadline;
mod capture_files;
mod captures;
mod drills;
mod errors;
mod events;
mod explain;
mod goals;
pub mod limits;
mod listener;
mod live;
mod peers;
mod pings;
mod presenter;
mod runs;
mod store;
mod terminals;
mod web;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use nslab_model::api::{Event, SnapshotEvent};
use nslab_model::{Lab, Limits};
use thiserror::Error;
use tokio::sync::{Mutex, RwLock};
use tower_http::trace::TraceLayer;

pub use auth::{generate_token, Access};
use events::EventBus;
use live::LiveState;
use store::{DocumentStore, StoreError};
pub use terminals::{TerminalSettings, MAX_OPEN_TERMINALS};

use crate::engine::{Engine, StopHandle};
use crate::kernel::ping::{PingHandle, Pinger};
use crate::stop_signals::StopSignals;

pub struct Config {
    pub listen: SocketAddr,
    pub web_root: PathBuf,
    pub state_dir: PathBuf,
    pub limits: Limits,
    pub access: Access,
    /// Whether the page may open shells in the lab's namespaces (`--terminals`).
    pub terminals: TerminalSettings,
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What every request handler and the live watcher share.
pub struct AppState {
    pub store: Mutex<DocumentStore>,
    pub engine: Engine,
    pub bus: EventBus,
    pub live: RwLock<LiveState>,
    /// Set while an apply or destroy runs: one at a time (another gets 409).
    pub running: std::sync::atomic::AtomicBool,
    /// Held while the kernel is changed or read for drift, so a reading never sees half a run.
    pub kernel_access: Mutex<()>,
    /// Told when a run has changed the kernel, so the live view catches up at once.
    pub kernel_changed: tokio::sync::Notify,
    /// The packet captures running, shared by their viewers (see `captures.rs`).
    pub captures: captures::Captures,
    /// Told when the document changed, so what applying it would do (the drift, what is
    /// in its way) is worked out again at once, not at the kernel's next change.
    pub document_changed: tokio::sync::Notify,
    /// The live view's netlink subscriptions, one per namespace (see `live.rs`).
    pub watches: Mutex<std::collections::HashMap<nslab_model::identity::Netns, crate::kernel::watch::Watch>>,
    pub limits: Limits,
    pub pinger: Pinger,
    /// Pings running, by id, with the namespace each is sent from; dropping a handle stops
    /// its ping.
    pub pings: Mutex<std::collections::HashMap<u64, (nslab_model::identity::Netns, PingHandle)>>,
    /// What the presenting teacher shows, while someone presents (see `presenter.rs`).
    pub presenter: presenter::Presenting,
    /// The terminals open now (`terminals.rs`), ended when the server stops.
    pub terminals: terminals::Terminals,
    /// The lab's goals as last checked on the kernel (`goals.rs`).
    pub goals: goals::GoalChecks,
    /// The break-it drill, while one runs (`drills.rs`).
    pub drills: drills::Drills,
}

impl AppState {
    /// Everything a client needs to draw the lab now.
    pub async fn snapshot(&self) -> Event {
        let view = self.store.lock().await.view().clone();
        let live = self.live.read().await;
        // A drill withholds what differs from the lab (see `drills.rs`).
        let hidden = self.drills.hides_drift();
        Event::Snapshot(SnapshotEvent {
            view,
            links: live.links(),
            namespaces: live.namespaces.keys().cloned().collect(),
            owners: live.owners(),
            applied: live.applied,
            drift: if hidden { Vec::new() } else { live.drift.clone() },
            conflicts: live.conflicts.clone(),
            missing: if hidden { Vec::new() } else { live.missing.clone() },
            drift_hidden: hidden,
            goals: self.goals.latest().map(Box::new),
            drill: self.drills.status().map(Box::new),
        })
    }
}

/// Where the document is kept when no `--state-dir` is given.
pub fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"));
    base.join("nslab")
}

/// Where Trunk puts the built editor when no `--web-root` is given: the workspace's `dist/`.
pub fn default_web_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"))
}

pub fn router(state: Arc<AppState>, access: Access, web_root: PathBuf) -> Router {
    let max_body = state.limits.max_bytes;
    Router::new()
        .nest("/api", api::routes())
        .with_state(state)
        .fallback_service(web::service(web_root))
        // Inside the token check: a refused request's body is never waited for.
        .layer(axum::middleware::from_fn_with_state(max_body, body_deadline::enforce))
        .layer(axum::middleware::from_fn_with_state(Arc::new(access), auth::check))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
}

/// Runs the server. `opened` is the lab given on the command line (it replaces the saved
/// document); `fallback` is used when there is neither.
pub fn run(config: Config, opened: Option<Lab>, fallback: impl FnOnce() -> Lab) -> Result<(), ServerError> {
    init_tracing();
    let runtime = tokio::runtime::Runtime::new().map_err(ServerError::Runtime)?;
    runtime.block_on(serve(config, opened, fallback))
}

async fn serve(config: Config, opened: Option<Lab>, fallback: impl FnOnce() -> Lab) -> Result<(), ServerError> {
    let mut store = DocumentStore::open(&config.state_dir, config.limits, fallback)?;
    if let Some(lab) = opened {
        store.replace(lab)?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let editor = if web::has_editor(&config.web_root) {
        format!("editor from {}", config.web_root.display())
    } else {
        format!("no built editor in {}: run scripts/run", config.web_root.display())
    };
    let token = config.access.full.as_deref().map(|token| format!("?token={token}")).unwrap_or_default();
    // Whoever started us may have stopped reading: a closed pipe is no reason to fail.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "nslab: serving lab `{}` on http://{addr}/{token} ({editor})", store.view().lab.name);
    if let Some(viewer) = &config.access.viewer {
        let _ = writeln!(out, "nslab: students watch at http://{addr}/?token={viewer}");
    }
    let _ = out.flush();
    let state = Arc::new(AppState {
        store: Mutex::new(store),
        engine: Engine::new(config.limits).keeping_deleted(),
        bus: EventBus::default(),
        live: RwLock::new(LiveState::default()),
        running: std::sync::atomic::AtomicBool::new(false),
        kernel_access: Mutex::new(()),
        kernel_changed: tokio::sync::Notify::new(),
        captures: captures::Captures::default(),
        document_changed: tokio::sync::Notify::new(),
        watches: Mutex::new(std::collections::HashMap::new()),
        limits: config.limits,
        pinger: Pinger::new(),
        pings: Mutex::new(std::collections::HashMap::new()),
        presenter: presenter::Presenting::default(),
        terminals: terminals::Terminals::new(config.terminals),
        goals: goals::GoalChecks::default(),
        drills: drills::Drills::default(),
    });
    let watcher = tokio::spawn(live::run(state.clone()));
    let checker = tokio::spawn(goals::run(state.clone()));
    let stop = state.engine.stop_handle();
    listener::serve(listener, router(state.clone(), config.access, config.web_root), shutdown_signal(stop)).await;
    // Nothing a terminal started outlives the server.
    let ending = state.clone();
    let _ = tokio::task::spawn_blocking(move || ending.terminals.end_all()).await;
    watcher.abort();
    checker.abort();
    Ok(())
}

/// Waits for SIGINT or SIGTERM. A run under way is then stopped at its next step boundary
/// (an apply undoes what it made) and answered, before the server ends.
async fn shutdown_signal(stop: StopHandle) {
    let signal = StopSignals::install().next().await;
    stop.stop(signal);
    let _ = writeln!(std::io::stdout(), "nslab: stopping");
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("nslab=info,tower_http=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
