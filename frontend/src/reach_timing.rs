//! The reach benchmark's probe (`bench_reach`): the editor's own prediction of a lab's
//! reachability matrix, timed in the page with `performance.now()`, so the benchmark
//! measures the browser's wasm running the very code the matrix panel runs. The page
//! exports it as `window.wasmBindings.time_predicted_matrix(labJson)`.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Predicts the matrix of the lab `lab_json`: `[milliseconds, pairs, pairs that reach]`.
#[wasm_bindgen]
pub fn time_predicted_matrix(lab_json: &str) -> Result<Vec<f64>, JsValue> {
    let lab = nslab_model::load::load_lab_str(lab_json).map_err(|error| JsValue::from_str(&error.to_string()))?;
    let started = now();
    let matrix = nslab_model::reach::predict_matrix(&lab);
    let elapsed = now() - started;
    let reaching = matrix.pairs.iter().filter(|pair| pair.reach).count();
    Ok(vec![elapsed, matrix.pairs.len() as f64, reaching as f64])
}

/// `performance.now()`, in milliseconds (`Date.now()` where there is none).
fn now() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    performance
        .and_then(|performance| {
            let now = js_sys::Reflect::get(&performance, &"now".into()).ok()?;
            now.dyn_into::<js_sys::Function>().ok()?.call0(&performance).ok()?.as_f64()
        })
        .unwrap_or_else(js_sys::Date::now)
}
