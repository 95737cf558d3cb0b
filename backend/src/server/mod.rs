//! `nslab serve`: the editor's static files and the HTTP API, on one local port.

mod api;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use nslab_model::api::LabView;
use nslab_model::{validate_with, Lab, Limits};
use thiserror::Error;
use tokio::sync::RwLock;
use tower_http::trace::TraceLayer;

pub struct Config {
    pub listen: SocketAddr,
    pub web_root: PathBuf,
    pub limits: Limits,
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// What every request handler shares.
pub struct AppState {
    pub lab: RwLock<LabView>,
}

impl AppState {
    pub fn new(lab: Lab, limits: &Limits) -> Self {
        let problems = validate_with(&lab, limits);
        AppState { lab: RwLock::new(LabView { revision: 0, lab, problems }) }
    }
}

/// Where Trunk puts the built editor when no `--web-root` is given: the workspace's `dist/`.
pub fn default_web_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"))
}

pub fn router(state: Arc<AppState>, web_root: PathBuf) -> Router {
    Router::new()
        .nest("/api", api::routes())
        .with_state(state)
        .fallback_service(web::service(web_root))
        .layer(TraceLayer::new_for_http())
}

pub fn run(config: Config, lab: Lab) -> Result<(), ServerError> {
    init_tracing();
    let runtime = tokio::runtime::Runtime::new().map_err(ServerError::Runtime)?;
    runtime.block_on(serve(config, lab))
}

async fn serve(config: Config, lab: Lab) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let editor = if web::has_editor(&config.web_root) {
        format!("editor from {}", config.web_root.display())
    } else {
        format!("no built editor in {}: run scripts/run", config.web_root.display())
    };
    println!("nslab: serving lab `{}` on http://{addr}/ ({editor})", lab.name);
    let state = Arc::new(AppState::new(lab, &config.limits));
    axum::serve(listener, router(state, config.web_root))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(ServerError::Serve)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = interrupt => {},
        _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending().await } } => {},
    }
    println!("nslab: stopping");
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("nslab=info,tower_http=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
