//! The toolbar: add nodes, undo and redo, delete, lay out, zoom, files, and the run
//! buttons (plan, apply, destroy). Apply stays disabled while the lab has errors.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::{RunKind, RunReport};
use nslab_model::edit::{self, NodeKind, Point, Selection};
use nslab_model::problem::has_errors;
use wasm_bindgen::JsCast;

use crate::api;
use crate::canvas::zoom_at;
use crate::files;
use crate::state::{use_editor, Connection, Editor, RunState};
use crate::sync;

/// The middle of the canvas, in world coordinates.
fn canvas_center(editor: Editor) -> Point {
    let (w, h) = canvas_size();
    editor.viewport.get_untracked().to_world(Point { x: w / 2.0, y: h / 2.0 })
}

pub fn canvas_size() -> (f64, f64) {
    let document = web_sys::window().and_then(|w| w.document());
    let svg = document.and_then(|d| d.query_selector("svg.canvas").ok().flatten());
    svg.map_or((800.0, 600.0), |svg| {
        let rect = svg.get_bounding_client_rect();
        (rect.width().max(1.0), rect.height().max(1.0))
    })
}

pub fn add_node(editor: Editor, kind: NodeKind) {
    let at = canvas_center(editor);
    let (lab, name) = editor.lab.with_untracked(|lab| edit::add_node(lab, kind, at));
    sync::commit(editor, lab);
    editor.selection.set(Selection::node(name));
}

/// Adds the host node; a lab has one, so a second is refused with a sentence.
pub fn add_host(editor: Editor) {
    let at = canvas_center(editor);
    match editor.lab.with_untracked(|lab| edit::add_host(lab, at)) {
        Ok((lab, name)) => {
            sync::commit(editor, lab);
            editor.selection.set(Selection::node(name));
        }
        Err(message) => editor.notice.set(Some(message)),
    }
}

pub fn delete_selection(editor: Editor) {
    let selection = editor.selection.get_untracked();
    if selection.is_empty() {
        return;
    }
    let lab = editor.lab.with_untracked(|lab| edit::delete(lab, &selection));
    editor.selection.set(Selection::default());
    sync::commit(editor, lab);
}

pub fn lay_out(editor: Editor) {
    let lab = editor.lab.with_untracked(edit::auto_layout);
    sync::commit(editor, lab);
    fit_view(editor);
}

pub fn fit_view(editor: Editor) {
    let (w, h) = canvas_size();
    let (scale, offset) = editor.lab.with_untracked(|lab| edit::fit(lab, w, h));
    editor.viewport.set(crate::geometry::Viewport { scale, offset });
}

/// Plans, then applies, showing each step as it is done (the event stream fills it in).
pub fn apply(editor: Editor) {
    run_apply(editor, false);
}

/// Applies, taking over the namespaces and interfaces in the lab's way.
pub fn adopt_and_apply(editor: Editor) {
    run_apply(editor, true);
}

fn run_apply(editor: Editor, adopt: bool) {
    editor.run.set(RunState { running: true, title: "apply".into(), ..RunState::default() });
    spawn_local(async move {
        let result = if adopt { api::apply_adopting().await } else { api::apply().await };
        finish_run(editor, RunKind::Apply, result);
    });
}

pub fn destroy(editor: Editor) {
    editor.run.set(RunState { running: true, title: "destroy".into(), ..RunState::default() });
    spawn_local(async move {
        finish_run(editor, RunKind::Destroy, api::destroy().await);
    });
}

/// Runs again the apply or destroy that was refused for processes in the namespaces it
/// deletes, ending them first.
pub fn run_ending_processes(editor: Editor, run: RunKind) {
    editor.run.set(RunState { running: true, title: crate::describe::run_title(run).into(), ..RunState::default() });
    spawn_local(async move {
        finish_run(editor, run, api::run_ending_processes(run).await);
    });
}

/// The run's progress and outcome come by the event stream; its answer adds the
/// processes it ended, or why it was refused.
fn finish_run(editor: Editor, run: RunKind, result: Result<RunReport, nslab_model::api::ErrorBody>) {
    match result {
        Ok(report) => {
            for process in report.ended {
                editor.log("run", format!("ended {process}"));
            }
        }
        Err(error) => fail_run(editor, run, error),
    }
}

fn fail_run(editor: Editor, run: RunKind, error: nslab_model::api::ErrorBody) {
    editor.conflicts.set(error.conflicts.clone());
    let mut message = error.message;
    for conflict in &error.conflicts {
        message.push_str(&format!("\n{}: {}", conflict.path, conflict.message));
    }
    let in_use = (!error.in_use.is_empty()).then_some((run, error.in_use));
    editor.run.update(|state| {
        state.running = false;
        state.outcome = Some((false, message));
        state.in_use = in_use;
    });
}

/// The browser's own yes/no question; no when it cannot be asked.
pub fn confirm(question: &str) -> bool {
    web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
}

#[component]
pub fn Toolbar(plan_open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    let has_errors =
        Memo::new(move |_| editor.problems.with(|p| has_errors(p)) || !editor.unreadable.with(|u| u.is_empty()));
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_file = move |event: leptos::ev::Event| {
        let input = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input.as_ref().and_then(|i| i.files()).and_then(|files| files.get(0)) {
            files::open_file(editor, file);
        }
        if let Some(input) = input {
            input.set_value("");
        }
    };
    let connection = move || match editor.connection.get() {
        Connection::Live => ("live", "connected"),
        Connection::Connecting => ("connecting", "connecting…"),
        Connection::Lost => ("lost", "connection lost: retrying"),
    };
    view! {
        <div class="toolbar">
            <span class="brand">"nslab"</span>
            <span class="lab-name" title="the lab's name">{move || editor.lab.with(|l| l.name.clone())}</span>
            <span class="group">
                <button id="add-namespace" title="Add a namespace (N)" on:click=move |_| add_node(editor, NodeKind::Namespace)>"+ namespace"</button>
                <button id="add-bridge" title="Add a bridge (B)" on:click=move |_| add_node(editor, NodeKind::Bridge)>"+ bridge"</button>
                <button id="add-host" title="Add the host: the namespace nslab runs in (H)" on:click=move |_| add_host(editor)>"+ host"</button>
                <button id="delete" title="Delete the selection (Delete)" on:click=move |_| delete_selection(editor)>"delete"</button>
            </span>
            <span class="group">
                <button id="undo" title="Undo (Ctrl+Z)" disabled=move || !editor.can_undo.get() on:click=move |_| sync::undo(editor)>"undo"</button>
                <button id="redo" title="Redo (Ctrl+Shift+Z)" disabled=move || !editor.can_redo.get() on:click=move |_| sync::redo(editor)>"redo"</button>
            </span>
            <span class="group">
                <button title="Lay the lab out (L)" on:click=move |_| lay_out(editor)>"layout"</button>
                <button id="zoom-in" title="Zoom in (+)" on:click=move |_| zoom_center(editor, ZOOM_STEP)>"+"</button>
                <button id="zoom-out" title="Zoom out (-)" on:click=move |_| zoom_center(editor, 1.0 / ZOOM_STEP)>"−"</button>
                <button id="fit" title="Fit the lab to the view (F)" on:click=move |_| fit_view(editor)>"fit"</button>
            </span>
            <span class="group">
                <button title="Open a lab file" on:click=move |_| { if let Some(input) = file_input.get() { input.click(); } }>"open"</button>
                <input type="file" id="open-file" accept=".json,application/json" node_ref=file_input on:change=on_file style="display:none" />
                <button id="save" title="Save the lab as a JSON file" on:click=move |_| files::save_json(editor)>"save"</button>
                <button id="scan" title="Draw what the kernel holds, hand-built namespaces too (replaces the drawing)" on:click=move |_| files::scan_kernel(editor)>"scan"</button>
                <button id="export-ip" title="Export the ip script" on:click=move |_| files::export_script(editor)>"ip script"</button>
                <button id="export-svg" title="Export the picture as SVG" on:click=move |_| files::export_svg(editor)>"svg"</button>
                <select
                    id="examples"
                    title="Open a bundled example"
                    on:change=move |event| {
                        let name = event_target_value(&event);
                        // Give the keys back to the canvas: shortcuts are off in a focused list.
                        if let Some(list) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                            let _ = list.blur();
                        }
                        if let Some((_, text)) = files::EXAMPLES.iter().find(|(n, _)| *n == name) {
                            files::open_text(editor, text.to_string(), format!("example {name}"));
                        }
                    }
                >
                    <option value="">"examples…"</option>
                    {files::EXAMPLES.iter().map(|(name, _)| view! { <option value=*name>{*name}</option> }).collect_view()}
                </select>
            </span>
            <span class="group run">
                <button id="plan" title="See the ip commands apply would run" on:click=move |_| plan_open.set(true)>"plan"</button>
                <button
                    id="apply"
                    class="primary"
                    title=move || if has_errors.get() { "Fix the problems marked in red first" } else { "Make the kernel hold this lab" }
                    disabled=move || has_errors.get() || editor.run.with(|r| r.running)
                    on:click=move |_| apply(editor)
                >
                    "apply"
                </button>
                <button
                    id="destroy"
                    disabled=move || editor.run.with(|r| r.running)
                    on:click=move |_| {
                        if confirm("Remove everything this lab made in the kernel?") {
                            destroy(editor);
                        }
                    }
                >
                    "destroy"
                </button>
            </span>
            <button title="Keyboard shortcuts (?)" on:click=move |_| editor.help_open.set(true)>"?"</button>
            <span class=move || format!("connection {}", connection().0) id="connection">{move || connection().1}</span>
        </div>
    }
}

/// One step of the zoom buttons and the `+`/`-` keys.
pub const ZOOM_STEP: f64 = 1.25;

/// Zooms around the middle of the canvas.
pub fn zoom_center(editor: Editor, factor: f64) {
    let (w, h) = canvas_size();
    zoom_at(editor, Point { x: w / 2.0, y: h / 2.0 }, factor);
}
