//! The JSON API under `/api`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use nslab_model::api::{ErrorBody, LabView};

use super::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/lab", get(get_lab)).fallback(not_found)
}

async fn get_lab(State(state): State<Arc<AppState>>) -> Json<LabView> {
    Json(state.lab.read().await.clone())
}

async fn not_found() -> Response {
    let body = ErrorBody { message: "no such API route".to_string(), problems: Vec::new() };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
