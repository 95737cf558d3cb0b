//! Pings and the reachability matrix over the API: requests name nodes and interfaces of
//! the document; samples and cells go to the event stream as they come.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use futures::StreamExt;
use nslab_model::address::Family;
use nslab_model::api::{
    Event, MatrixEvent, MatrixReport, PingEvent, PingFinishedEvent, PingRequest, PingStarted, MAX_PING_COUNT,
};
use nslab_model::identity::Netns;
use nslab_model::neighbours::{self, matrix_waves, wave_budget};
use nslab_model::ping::{matrix_of, source_of, target_of};

use super::errors::{ApiError, JsonBody};
use super::AppState;
use crate::kernel::ping::neighbour_limit;

/// One probe waits this long in a matrix; a matrix (each wave of one) at most `MATRIX_LIMIT`.
const MATRIX_PROBE: Duration = Duration::from_millis(500);
const MATRIX_LIMIT: Duration = Duration::from_secs(5);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub async fn start(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<PingRequest>,
) -> Result<Json<PingStarted>, ApiError> {
    let lab = state.store.lock().await.view().lab.clone();
    let unprocessable = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    let from = source_of(&lab, &request.from).map_err(unprocessable)?;
    let to = target_of(&lab, &request.to, request.family.unwrap_or(Family::V4)).map_err(unprocessable)?;
    let interval = Duration::from_millis(request.interval_ms.unwrap_or(1000).max(10));
    let count = Some(request.count.unwrap_or(MAX_PING_COUNT).min(MAX_PING_COUNT));
    let (handle, mut samples) = state
        .pinger
        .start(&from, to, interval, count)
        .await
        .map_err(|error| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    state.pings.lock().await.insert(id, (from.clone(), handle));
    let forwarding = state.clone();
    tokio::spawn(async move {
        while let Some(sample) = samples.next().await {
            forwarding.bus.send(&Event::Ping(PingEvent { id, sample }));
        }
        forwarding.pings.lock().await.remove(&id);
        forwarding.bus.send(&Event::PingFinished(PingFinishedEvent { id }));
    });
    Ok(Json(PingStarted { id, from, to }))
}

pub async fn stop(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Result<StatusCode, ApiError> {
    match state.pings.lock().await.remove(&id) {
        Some((_, handle)) => {
            handle.stop();
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(ApiError::new(StatusCode::NOT_FOUND, format!("there is no ping {id} running"))),
    }
}

/// Every namespace of the lab pings every address of the lab, all at once, bounded in time.
/// When that would need more neighbour entries at once than the kernel keeps (a bridge of
/// more than 28 namespaces), the sources go in waves that each fit, and what the
/// lab's namespaces learned is cleared before each (see `nslab_model::neighbours`).
pub async fn matrix(State(state): State<Arc<AppState>>) -> Json<MatrixReport> {
    let lab = state.store.lock().await.view().lab.clone();
    let (sources, targets) = matrix_of(&lab);
    let limit = neighbour_limit();
    let waves = matrix_waves(&lab, &sources, wave_budget(limit));
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let mut cells = Vec::with_capacity(sources.len() * targets.len());
    let mut problems: Vec<String> = neighbours::warning(waves.most, limit).into_iter().collect();
    let in_waves = waves.waves.len() > 1;
    for wave in waves.waves {
        if in_waves {
            for problem in forget_learned_neighbours(&state, &sources).await {
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
        let bus = state.bus.clone();
        state
            .pinger
            .matrix(wave, targets.clone(), MATRIX_PROBE, MATRIX_LIMIT, |cell| {
                bus.send(&Event::Matrix(MatrixEvent { id, cell: cell.clone() }));
                cells.push(cell);
            })
            .await;
    }
    let warning = (!problems.is_empty()).then(|| problems.join(" "));
    // The cells stream first, the report after them.
    state.bus.flush_now();
    Json(MatrixReport { id, cells, elapsed_ms: started.elapsed().as_secs_f64() * 1e3, warning })
}

/// Clears the learned neighbour entries of the lab's namespaces; what could not be cleared,
/// in words.
async fn forget_learned_neighbours(state: &AppState, namespaces: &[Netns]) -> Vec<String> {
    let kernel = state.engine.kernel();
    let cleared =
        futures::future::join_all(namespaces.iter().map(|netns| kernel.forget_learned_neighbours(netns))).await;
    cleared
        .into_iter()
        .filter_map(Result::err)
        .map(|error| format!("{error}: its pairs may show as unreachable although they are not."))
        .collect()
}

/// Before namespaces are deleted: stop the pings from them (dropping a handle stops its
/// ping) and drop the pinger's sockets in them (a socket keeps its namespace alive). Pings
/// from elsewhere go on.
pub async fn release(state: &AppState, namespaces: &[nslab_model::identity::Netns]) {
    for netns in namespaces {
        state.pinger.forget(netns);
    }
    state.pings.lock().await.retain(|_, (from, _)| !namespaces.contains(from));
}
