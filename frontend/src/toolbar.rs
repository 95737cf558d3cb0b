//! The toolbar, in four groups: edit (add nodes, delete, undo and redo), view (lay out,
//! zoom, fit), file (new, open, save, scan, exports, examples) and run (plan, apply,
//! destroy), after the lab's name (`lab_name`). Its questions are asked in the `dialog`.
//! Every button's tooltip names its key where it has one. Apply stays disabled while the
//! lab has errors.

use leptos::prelude::*;
use nslab_model::edit::NodeKind;
use nslab_model::problem::has_errors;
use wasm_bindgen::JsCast;

use crate::editor::{use_editor, Connection};
use crate::intents::{self, ZOOM_STEP};

#[component]
pub fn Toolbar(plan_open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    let has_errors = Memo::new(move |_| {
        editor.doc.problems.with(|p| has_errors(p)) || !editor.doc.unreadable.with(|u| u.is_empty())
    });
    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_file = move |event: leptos::ev::Event| {
        let input = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input.as_ref().and_then(|i| i.files()).and_then(|files| files.get(0)) {
            intents::open_file(editor, file);
        }
        if let Some(input) = input {
            input.set_value("");
        }
    };
    let connection = move || match editor.live.connection.get() {
        Connection::Live => ("live", "connected"),
        Connection::Connecting => ("connecting", "connecting…"),
        Connection::Lost => ("lost", "connection lost: retrying"),
    };
    view! {
        <div class="toolbar" role="toolbar">
            <span class="brand">"nslab"</span>
            <crate::lab_name::LabName />
            <span class="group" role="group" aria-label="edit" data-group="edit">
                <button id="add-namespace" title="Add a namespace (N)" on:click=move |_| intents::add_node(editor, NodeKind::Namespace)>"+ namespace"</button>
                <button id="add-bridge" title="Add a bridge (B)" on:click=move |_| intents::add_node(editor, NodeKind::Bridge)>"+ bridge"</button>
                <button id="add-host" title="Add the host: the namespace nslab runs in (H)" on:click=move |_| intents::add_host(editor)>"+ host"</button>
                <button id="delete" title="Delete the selection (Delete)" on:click=move |_| intents::delete_selection(editor)>"delete"</button>
                <button id="undo" title="Undo (Ctrl+Z)" disabled=move || !editor.doc.can_undo.get() on:click=move |_| intents::undo(editor)>"undo"</button>
                <button id="redo" title="Redo (Ctrl+Shift+Z)" disabled=move || !editor.doc.can_redo.get() on:click=move |_| intents::redo(editor)>"redo"</button>
            </span>
            <span class="group" role="group" aria-label="view" data-group="view">
                <button id="layout" title="Lay the lab out (L)" on:click=move |_| intents::lay_out(editor)>"layout"</button>
                <button id="zoom-in" title="Zoom in (+)" on:click=move |_| intents::zoom_center(editor, ZOOM_STEP)>"+"</button>
                <button id="zoom-out" title="Zoom out (-)" on:click=move |_| intents::zoom_center(editor, 1.0 / ZOOM_STEP)>"−"</button>
                <button id="fit" title="Fit the lab to the view (F)" on:click=move |_| intents::fit_view(editor)>"fit"</button>
                <button id="presenter" title="Present on a projector: the drawing fills the screen, other pages follow it (P; Esc leaves)" class:active=move || editor.presenter.presenting.get() aria-pressed=move || editor.presenter.presenting.get().to_string() on:click=move |_| crate::presenter::toggle(editor)>"present"</button>
            </span>
            <span class="group" role="group" aria-label="file" data-group="file">
                <button id="new-lab" title="Start an empty lab (asks first when this one has unsaved changes or runs in the kernel)" on:click=move |_| intents::new_lab(editor)>"new"</button>
                <button id="open" title="Open a lab file (or drop one on the page)" on:click=move |_| { if let Some(input) = file_input.get() { input.click(); } }>"open"</button>
                <input type="file" id="open-file" accept=".json,application/json" node_ref=file_input on:change=on_file style="display:none" />
                <button id="save" title="Save the lab as a JSON file" on:click=move |_| intents::save_json(editor)>"save"</button>
                <button id="scan" title="Draw what the kernel holds, hand-built namespaces too (replaces the drawing)" on:click=move |_| intents::scan_kernel(editor)>"scan"</button>
                <button id="export-ip" title="Export the ip script" on:click=move |_| intents::export_script(editor)>"ip script"</button>
                <button id="export-svg" title="Export the drawing as SVG (without the editing handles)" on:click=move |_| intents::export_svg(editor)>"svg"</button>
                <button id="export-png" title="Export the drawing as a PNG picture (without the editing handles)" on:click=move |_| intents::export_png(editor)>"png"</button>
                <ExampleList />
            </span>
            <span class="group run" role="group" aria-label="run" data-group="run">
                <button id="plan" title="See the ip commands apply would run" on:click=move |_| plan_open.set(true)>"plan"</button>
                <button
                    id="apply"
                    class="primary"
                    title=move || if has_errors.get() { "Fix the problems marked in red first" } else { "Make the kernel hold this lab" }
                    disabled=move || has_errors.get() || editor.run.with(|r| r.running)
                    on:click=move |_| intents::apply(editor)
                >
                    "apply"
                </button>
                <button
                    id="destroy"
                    title="Remove the lab from the kernel (asks first)"
                    disabled=move || editor.run.with(|r| r.running)
                    on:click=move |_| intents::destroy(editor)
                >
                    "destroy"
                </button>
            </span>
            <button id="shortcuts" title="Keyboard shortcuts (?)" on:click=move |_| editor.panels.help_open.set(true)>"?"</button>
            <span class=move || format!("connection {}", connection().0) id="connection">{move || connection().1}</span>
        </div>
        <crate::dialog::Dialog />
    }
}

/// The bundled examples; picking one opens it. The list shows the example the lab was
/// opened from, `examples…` for any other lab.
#[component]
fn ExampleList() -> impl IntoView {
    let editor = use_editor();
    let shown = move || editor.doc.example.get().unwrap_or_default();
    view! {
        <select
            id="examples"
            title="Open a bundled example"
            prop:value=shown
            on:change=move |event| {
                let name = event_target_value(&event);
                if let Some(list) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
                    // The list names the example once it is open (not if the user says no).
                    list.set_value(editor.doc.example.get_untracked().unwrap_or_default());
                    // Give the keys back to the canvas: shortcuts are off in a focused list.
                    let _ = list.blur();
                }
                intents::open_example(editor, &name);
            }
        >
            <option value="">"examples…"</option>
            {intents::EXAMPLES.iter().map(|(name, _)| view! { <option value=*name>{*name}</option> }).collect_view()}
        </select>
    }
}
