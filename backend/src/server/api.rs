//! The JSON API under `/api`. Errors are JSON (`ErrorBody`): a message, and the problems
//! (with their paths) or the conflicts when the error is about the lab.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nslab_model::api::{DocumentEvent, ErrorBody, Event, LabView, PlanView, PutLab, RunReport, EVENTS_PROTOCOL};
use nslab_model::export::Format;
use nslab_model::import::{LeftOut, Source};
use nslab_model::problem::has_errors;
use nslab_model::{load_lab, validate_with, Lab, Problem};
use serde::{Deserialize, Serialize};

use super::auth::origin_allowed;
use super::errors::{ApiError, JsonBody};
use super::events::stream_to;
use super::pings;
use super::AppState;
use crate::engine::{InUse, RunRequest, Work};
use crate::import_files::import_bytes;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/lab", get(get_lab).put(put_lab))
        .route("/validate", post(validate))
        .route("/plan", post(plan))
        .route("/apply", post(apply))
        .route("/destroy", post(destroy))
        .route("/import", post(import))
        .route("/export", get(export))
        .route("/scan", post(scan))
        .route("/events", get(events))
        .route("/capture", get(super::captures::live))
        .route("/capture.pcapng", get(super::capture_files::pcapng))
        .route("/ping", post(pings::start))
        .route("/ping/{id}", axum::routing::delete(pings::stop))
        .route("/matrix", post(pings::matrix))
        .route("/explain", post(super::explain::route))
        .route("/presenter", post(super::presenter::update))
        .route("/terminal", get(super::terminals::open))
        .route("/goals", get(super::goals::latest))
        .route("/goals/check", post(super::goals::check))
        .route("/drill", get(super::drills::status).post(super::drills::start))
        .route("/drill/faults", get(super::drills::faults))
        .route("/drill/reveal", post(super::drills::reveal))
        .route("/drill/repair", post(super::drills::repair))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API route") })
}

async fn get_lab(State(state): State<Arc<AppState>>) -> Json<LabView> {
    Json(state.store.lock().await.view().clone())
}

async fn put_lab(
    State(state): State<Arc<AppState>>,
    JsonBody(put): JsonBody<PutLab>,
) -> Result<Json<LabView>, ApiError> {
    check_size(&state, &put.lab)?;
    let mut store = state.store.lock().await;
    // A change is on disk (written and flushed) before it is answered; tokio moves its
    // other tasks off this thread meanwhile, so link events keep flowing during the flush.
    match tokio::task::block_in_place(|| store.update(put.base_revision, put.lab)) {
        Ok(Ok(view)) => {
            let view = view.clone();
            drop(store);
            state.bus.send(&Event::Document(DocumentEvent { view: view.clone() }));
            state.document_changed.notify_one();
            Ok(Json(view))
        }
        Ok(Err(stale)) => {
            let message = format!(
                "this change was based on revision {}, but the lab is at revision {} now: someone else changed it",
                put.base_revision, stale.current.revision
            );
            Err(ApiError::with(
                StatusCode::CONFLICT,
                ErrorBody { current: Some(stale.current), ..ErrorBody::new(message) },
            ))
        }
        Err(error) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

/// A lab over the node or link limits is refused whole (413), not stored.
fn check_size(state: &AppState, lab: &Lab) -> Result<(), ApiError> {
    let limits = &state.limits;
    if lab.nodes.len() > limits.max_nodes || lab.links.len() > limits.max_links {
        let message = format!(
            "the lab has {} nodes and {} links; this server takes at most {} and {}",
            lab.nodes.len(),
            lab.links.len(),
            limits.max_nodes,
            limits.max_links
        );
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    Ok(())
}

async fn validate(
    State(state): State<Arc<AppState>>,
    JsonBody(lab): JsonBody<Lab>,
) -> Result<Json<Vec<Problem>>, ApiError> {
    check_size(&state, &lab)?;
    Ok(Json(validate_with(&lab, &state.limits)))
}

#[derive(Debug, Default, Deserialize)]
struct RunOptions {
    #[serde(default)]
    adopt: bool,
    /// End the processes in the namespaces the run deletes first (`InUse::End`).
    #[serde(default)]
    kill: bool,
}

impl RunOptions {
    fn to_apply(&self) -> RunRequest {
        RunRequest { work: Work::Apply { adopt: self.adopt }, in_use: InUse::ending_if(self.kill) }
    }

    fn to_destroy(&self) -> RunRequest {
        RunRequest { work: Work::Destroy, in_use: InUse::ending_if(self.kill) }
    }
}

async fn plan(
    State(state): State<Arc<AppState>>,
    Query(options): Query<RunOptions>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(state.plan_apply(options.to_apply()).await.map_err(ApiError::engine)?))
}

async fn apply(
    State(state): State<Arc<AppState>>,
    Query(options): Query<RunOptions>,
) -> Result<Json<RunReport>, ApiError> {
    Ok(Json(state.run(options.to_apply()).await?))
}

async fn destroy(
    State(state): State<Arc<AppState>>,
    Query(options): Query<RunOptions>,
) -> Result<Json<RunReport>, ApiError> {
    Ok(Json(state.run(options.to_destroy()).await?))
}

/// `?from=` and `?file=` of `POST /api/import`.
#[derive(Debug, Default, Deserialize)]
struct ImportQuery {
    /// The format: `json` (a lab file), or one `nslab import --from` takes.
    from: Option<String>,
    /// The file's name, which tells its format when `from` does not, and names the lab.
    file: Option<String>,
}

/// A lab opened from a file: a lab file (checked like `nslab validate` reads one), or
/// another tool's file or archive, read like `nslab import` reads it. The answer is the new
/// document, and what the import left out.
async fn import(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportedView>, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let from = match query.from.as_deref() {
        None | Some("json") => None,
        Some(name) => Some(name.parse::<Source>().map_err(|message| bad(format!("{message}, or json")))?),
    };
    let file = query.file.as_deref().unwrap_or("");
    let lab_file = match query.from.as_deref() {
        Some(name) => name == "json",
        // A body without a name is a lab file, as the API has always taken.
        None => file.is_empty() || file.to_ascii_lowercase().ends_with(".json"),
    };
    let (lab, left_out) = if lab_file {
        let lab = load_lab(&body, &state.limits).map_err(|error| {
            let body = ErrorBody {
                problems: vec![error.to_problem()],
                ..ErrorBody::new(format!("{}: {error}", error.path()))
            };
            ApiError::with(StatusCode::BAD_REQUEST, body)
        })?;
        (lab, Vec::new())
    } else {
        let file = (!file.is_empty()).then(|| file.to_string());
        let (bytes, limits) = (body.to_vec(), state.limits);
        // Unpacking an archive and reading YAML or XML is work for a blocking thread.
        let imported = tokio::task::spawn_blocking(move || import_bytes(file.as_deref(), bytes, from, &limits))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(bad)?;
        (imported.lab, imported.left_out)
    };
    check_size(&state, &lab)?;
    let Json(view) = replace_document(&state, lab).await?;
    Ok(Json(ImportedView { view, left_out }))
}

/// The answer of `POST /api/import`: the document (as `GET /api/lab` gives it) and what
/// the source held that the lab cannot, each with its place.
#[derive(Debug, Serialize)]
struct ImportedView {
    #[serde(flatten)]
    view: LabView,
    left_out: Vec<LeftOut>,
}

async fn replace_document(state: &AppState, lab: Lab) -> Result<Json<LabView>, ApiError> {
    let mut store = state.store.lock().await;
    let view = tokio::task::block_in_place(|| store.replace(lab).cloned())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    drop(store);
    state.bus.send(&Event::Document(DocumentEvent { view: view.clone() }));
    state.document_changed.notify_one();
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(State(state): State<Arc<AppState>>, Query(query): Query<ExportQuery>) -> Result<Response, ApiError> {
    let format = match query.format {
        Some(name) => name.parse::<Format>().map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?,
        None => Format::default(),
    };
    let lab = state.store.lock().await.view().lab.clone();
    if format.needs_valid_lab() {
        let problems = validate_with(&lab, &state.limits);
        if has_errors(&problems) {
            return Err(ApiError::invalid(problems));
        }
    }
    let name = lab.name.replace(['"', '\\'], "_");
    if format.is_folder() {
        // A folder (Kathará's `lab.conf` and `.startup` files) travels as a `.tar.gz` of it.
        let archive = folder_archive(&name, &format.render_files(&lab))
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let file = format!("attachment; filename=\"{name}.tar.gz\"");
        let headers = [(header::CONTENT_TYPE, "application/gzip".to_string()), (header::CONTENT_DISPOSITION, file)];
        return Ok((headers, archive).into_response());
    }
    let file = format!("attachment; filename=\"{name}.{}\"", format.extension());
    let headers = [(header::CONTENT_TYPE, format.media_type().to_string()), (header::CONTENT_DISPOSITION, file)];
    Ok((headers, format.render(&lab)).into_response())
}

/// `files` (path, text) as a gzipped tar of the folder `folder`, as `tar czf` writes it.
fn folder_archive(folder: &str, files: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut archive = tar::Builder::new(gzip);
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, format!("{folder}/{path}"), text.as_bytes())?;
    }
    archive.into_inner()?.finish()
}

/// The kernel, drawn as a lab, becomes the document.
async fn scan(State(state): State<Arc<AppState>>) -> Result<Json<LabView>, ApiError> {
    let observed = state.engine.observe_for_scan().await.map_err(ApiError::engine)?;
    let lab = nslab_model::scan::scan(&observed, "scanned").lab;
    replace_document(&state, lab).await
}

async fn events(State(state): State<Arc<AppState>>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    if !origin_allowed(&headers) {
        return ApiError::new(StatusCode::FORBIDDEN, "this page is not one this nslab server served").into_response();
    }
    // A client that asks for batches gets them (`stream_to`); others one event per message.
    upgrade.protocols([EVENTS_PROTOCOL]).on_upgrade(move |socket| stream_to(socket, state))
}
