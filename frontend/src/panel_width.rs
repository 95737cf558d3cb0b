//! The side panel's width: dragged on the handle between the canvas and the panel (or
//! moved with the arrow keys once it has the focus), kept between a width where its tabs
//! fit and most of the window (the window resized too), and remembered in the browser's
//! localStorage.

use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Where the width is remembered.
const STORAGE_KEY: &str = "nslab.panel-width";
/// The width the panel opens with the first time, in pixels.
pub const DEFAULT_WIDTH: f64 = 384.0;
/// The narrowest panel: its tabs still on one row.
pub const MIN_WIDTH: f64 = 340.0;
/// The canvas keeps at least this much of the window.
const MIN_CANVAS: f64 = 420.0;
/// How much an arrow key moves the handle, in pixels.
const KEY_STEP: f64 = 16.0;

/// The widest the panel may be in a window `window_width` wide.
fn widest(window_width: f64) -> f64 {
    (window_width - MIN_CANVAS).max(MIN_WIDTH)
}

/// `wanted` kept between `MIN_WIDTH` and what leaves the canvas `MIN_CANVAS` of a window
/// `window_width` wide (and never under `MIN_WIDTH`, however narrow the window).
pub fn clamp_width(wanted: f64, window_width: f64) -> f64 {
    let widest = widest(window_width);
    if wanted.is_finite() {
        wanted.clamp(MIN_WIDTH, widest)
    } else {
        DEFAULT_WIDTH.clamp(MIN_WIDTH, widest)
    }
}

fn window_width() -> f64 {
    web_sys::window().and_then(|w| w.inner_width().ok()).and_then(|w| w.as_f64()).unwrap_or(1280.0)
}

/// The remembered width (or the default), fitted to the window.
pub fn remembered() -> f64 {
    // Whole pixels, read as an integer: parsing a float would bring its parser into the
    // wasm for this one number.
    let stored =
        call_storage("getItem", &[STORAGE_KEY]).and_then(|v| v.as_string()).and_then(|t| t.parse::<u32>().ok());
    clamp_width(stored.map_or(DEFAULT_WIDTH, f64::from), window_width())
}

fn remember(width: f64) {
    call_storage("setItem", &[STORAGE_KEY, &(width.round() as u32).to_string()]);
}

/// Calls `method` of the window's localStorage, looked up by name: web-sys's `Storage`
/// binding is a feature the crate does not otherwise need. None when the browser refuses
/// storage (a private window, a sandboxed frame).
fn call_storage(method: &str, arguments: &[&str]) -> Option<wasm_bindgen::JsValue> {
    use js_sys::{Array, Function, Reflect};
    let window = web_sys::window()?;
    let storage = Reflect::get(&window, &"localStorage".into()).ok().filter(|s| !s.is_null() && !s.is_undefined())?;
    let function = Reflect::get(&storage, &method.into()).ok()?.dyn_into::<Function>().ok()?;
    let arguments: Array = arguments.iter().map(|a| wasm_bindgen::JsValue::from_str(a)).collect();
    function.apply(&storage, &arguments).ok()
}

/// The handle between the canvas and the panel. The panel is at the window's right edge,
/// so its width is the distance from the pointer to that edge.
#[component]
pub fn PanelResizer(width: RwSignal<f64>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    // How far from the panel's edge the handle was grabbed, so that it does not jump.
    let grabbed_at = StoredValue::new(0.0);
    let target = |event: &PointerEvent| event.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let on_down = move |event: PointerEvent| {
        event.prevent_default();
        if let Some(handle) = target(&event) {
            let _ = handle.set_pointer_capture(event.pointer_id());
            // Taking the press from the page also took the focus a click gives.
            if let Some(handle) = handle.dyn_ref::<web_sys::HtmlElement>() {
                let _ = handle.focus();
            }
        }
        grabbed_at.set_value(window_width() - f64::from(event.client_x()) - width.get_untracked());
        dragging.set(true);
    };
    let on_move = move |event: PointerEvent| {
        if dragging.get_untracked() {
            let window_width = window_width();
            let wanted = window_width - f64::from(event.client_x()) - grabbed_at.get_value();
            width.set(clamp_width(wanted, window_width));
        }
    };
    // The handle is a control like any other: focused by Tab, moved by the arrow keys.
    let on_key = move |event: KeyboardEvent| {
        let step = match event.key().as_str() {
            "ArrowLeft" => KEY_STEP,
            "ArrowRight" => -KEY_STEP,
            _ => return,
        };
        event.prevent_default();
        width.set(clamp_width(width.get_untracked() + step, window_width()));
        remember(width.get_untracked());
    };
    let _resize = window_event_listener(leptos::ev::resize, move |_| {
        width.set(clamp_width(width.get_untracked(), window_width()));
    });
    let on_up = move |_: PointerEvent| {
        if dragging.get_untracked() {
            dragging.set(false);
            remember(width.get_untracked());
        }
    };
    view! {
        <div
            class="resizer"
            id="panel-resizer"
            role="separator"
            aria-orientation="vertical"
            tabindex="0"
            aria-label="panel width"
            aria-valuenow=move || width.get().round()
            aria-valuemin=MIN_WIDTH
            aria-valuemax=move || {
                width.track();
                widest(window_width()).round()
            }
            title="Drag (or focus and press the arrow keys) to make the panel wider or narrower"
            class:dragging=dragging
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:keydown=on_key
        ></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_stays_between_its_tabs_and_most_of_the_window() {
        assert_eq!(clamp_width(100.0, 1280.0), MIN_WIDTH);
        assert_eq!(clamp_width(500.0, 1280.0), 500.0);
        assert_eq!(clamp_width(1200.0, 1280.0), 1280.0 - MIN_CANVAS);
        assert_eq!(clamp_width(600.0, 600.0), MIN_WIDTH, "a narrow window keeps the tabs whole");
        assert_eq!(clamp_width(f64::NAN, 1920.0), DEFAULT_WIDTH);
    }
}
