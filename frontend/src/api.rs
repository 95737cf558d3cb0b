//! Calls to the nslab server's HTTP API.

use nslab_model::api::LabView;

/// `GET /api/lab`: the lab being edited.
pub async fn fetch_lab() -> Result<LabView, String> {
    let response = gloo_net::http::Request::get("/api/lab")
        .send()
        .await
        .map_err(|e| format!("cannot reach the nslab server: {e}"))?;
    if !response.ok() {
        return Err(format!("the server answered {} {}", response.status(), response.status_text()));
    }
    response.json::<LabView>().await.map_err(|e| format!("the server sent a lab this editor cannot read: {e}"))
}
