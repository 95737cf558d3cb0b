//! Calls to the nslab server's HTTP API. Errors come back as the server's `ErrorBody`, or
//! one made here when the server could not be reached or answered something else.

use gloo_net::http::{Request, Response};
use nslab_model::api::{ErrorBody, LabView, MatrixReport, PingRequest, PingStarted, PlanView, PutLab, RunReport};
use nslab_model::Lab;
use serde::de::DeserializeOwned;

/// `GET /api/lab`: the lab being edited.
pub async fn fetch_lab() -> Result<LabView, ErrorBody> {
    read(Request::get("/api/lab").send().await).await
}

/// `PUT /api/lab`; a 409 carries the current document in `ErrorBody::current`.
pub async fn put_lab(base_revision: u64, lab: &Lab) -> Result<LabView, ErrorBody> {
    let body = PutLab { base_revision, lab: lab.clone() };
    let request = Request::put("/api/lab").json(&body).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

pub async fn import(text: String) -> Result<LabView, ErrorBody> {
    read(Request::post("/api/import").body(text).map_err(|e| ErrorBody::new(e.to_string()))?.send().await).await
}

pub async fn plan() -> Result<PlanView, ErrorBody> {
    read(Request::post("/api/plan").send().await).await
}

pub async fn apply() -> Result<RunReport, ErrorBody> {
    read(Request::post("/api/apply").send().await).await
}

pub async fn destroy() -> Result<RunReport, ErrorBody> {
    read(Request::post("/api/destroy").send().await).await
}

pub async fn matrix() -> Result<MatrixReport, ErrorBody> {
    read(Request::post("/api/matrix").send().await).await
}

pub async fn start_ping(request: &PingRequest) -> Result<PingStarted, ErrorBody> {
    let request = Request::post("/api/ping").json(request).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

pub async fn stop_ping(id: u64) {
    let _ = Request::delete(&format!("/api/ping/{id}")).send().await;
}

async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ErrorBody> {
    let response = sent.map_err(|e| ErrorBody::new(format!("cannot reach the nslab server: {e}")))?;
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|e| ErrorBody::new(format!("the server's answer is unreadable: {e}")));
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(body),
        Err(_) => Err(ErrorBody::new(format!("the server answered {status}"))),
    }
}
