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
use crate::icons::{icon, Icon};
use crate::intents::{self, ZOOM_STEP};

#[component]
pub fn Toolbar(plan_open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    let has_errors = Memo::new(move |_| {
        editor.doc.problems.with(|p| has_errors(p)) || !editor.doc.unreadable.with(|u| u.is_empty())
    });
    let file_input = NodeRef::<leptos::html::Input>::new();
    let paste_open = RwSignal::new(false);
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
                <button id="add-namespace" class="icon-button" aria-label="add a namespace" title="Add a namespace (N)" on:click=move |_| intents::add_node(editor, NodeKind::Namespace)>{icon(Icon::Namespace)}</button>
                <button id="add-bridge" class="icon-button" aria-label="add a bridge" title="Add a bridge (B)" on:click=move |_| intents::add_node(editor, NodeKind::Bridge)>{icon(Icon::Bridge)}</button>
                <button id="add-host" class="icon-button" aria-label="add the host" title="Add the host: the namespace nslab runs in (H)" on:click=move |_| intents::add_host(editor)>{icon(Icon::Host)}</button>
                <button id="delete" class="icon-button" aria-label="delete the selection" title="Delete the selection (Delete)" on:click=move |_| intents::delete_selection(editor)>{icon(Icon::Delete)}</button>
                <button id="undo" class="icon-button" aria-label="undo" title="Undo (Ctrl+Z)" disabled=move || !editor.doc.can_undo.get() on:click=move |_| intents::undo(editor)>{icon(Icon::Undo)}</button>
                <button id="redo" class="icon-button" aria-label="redo" title="Redo (Ctrl+Shift+Z)" disabled=move || !editor.doc.can_redo.get() on:click=move |_| intents::redo(editor)>{icon(Icon::Redo)}</button>
            </span>
            <span class="group" role="group" aria-label="view" data-group="view">
                <button id="layout" class="icon-button" aria-label="lay the lab out" title="Lay the lab out (L)" on:click=move |_| intents::lay_out(editor)>{icon(Icon::Layout)}</button>
                <button id="zoom-in" class="icon-button" aria-label="zoom in" title="Zoom in (+)" on:click=move |_| intents::zoom_center(editor, ZOOM_STEP)>{icon(Icon::ZoomIn)}</button>
                <button id="zoom-out" class="icon-button" aria-label="zoom out" title="Zoom out (-)" on:click=move |_| intents::zoom_center(editor, 1.0 / ZOOM_STEP)>{icon(Icon::ZoomOut)}</button>
                <button id="fit" class="icon-button" aria-label="fit the lab to the view" title="Fit the lab to the view (F)" on:click=move |_| intents::fit_view(editor)>{icon(Icon::Fit)}</button>
                <button id="presenter" class="icon-button" aria-label="present on a projector" title="Present on a projector: the drawing fills the screen, other pages follow it (P; Esc leaves)" class:active=move || editor.presenter.presenting.get() aria-pressed=move || editor.presenter.presenting.get().to_string() on:click=move |_| crate::presenter::toggle(editor)>{icon(Icon::Present)}</button>
            </span>
            <span class="group" role="group" aria-label="file" data-group="file">
                <button id="new-lab" class="icon-button" aria-label="new lab" title="Start an empty lab (asks first when this one has unsaved changes or runs in the kernel)" on:click=move |_| intents::new_lab(editor)>{icon(Icon::New)}</button>
                <button id="open" class="icon-button" aria-label="open a lab file" title="Open a lab file, or another tool's: containerlab, Kathará (lab.conf, or its folder as .zip or .tar.gz), CORE, MiniEdit, GNS3, an ip script (or drop one on the page)" on:click=move |_| { if let Some(input) = file_input.get() { input.click(); } }>{icon(Icon::Open)}</button>
                <input type="file" id="open-file" accept=OPENED_FILES node_ref=file_input on:change=on_file style="display:none" />
                <button id="import-ip" class="icon-button" aria-label="import ip commands" title="Import ip commands: paste the commands that build a lab and see it drawn" on:click=move |_| paste_open.set(true)>{icon(Icon::Paste)}</button>
                <button id="save" class="icon-button" aria-label="save the lab" title="Save the lab as a JSON file" on:click=move |_| intents::save_json(editor)>{icon(Icon::Save)}</button>
                <button id="scan" class="icon-button" aria-label="scan the kernel" title="Draw what the kernel holds, hand-built namespaces too (replaces the drawing)" on:click=move |_| intents::scan_kernel(editor)>{icon(Icon::Scan)}</button>
                <button id="export-ip" class="icon-button" aria-label="export the ip script" title="Export the ip script" on:click=move |_| intents::export_script(editor)>{icon(Icon::Script)}</button>
                <button id="export-svg" class="icon-button" aria-label="export as SVG" title="Export the drawing as SVG (without the editing handles)" on:click=move |_| intents::export_svg(editor)>{icon(Icon::Picture)}<span class="label">"svg"</span></button>
                <button id="export-png" class="icon-button" aria-label="export as PNG" title="Export the drawing as a PNG picture (without the editing handles)" on:click=move |_| intents::export_png(editor)>{icon(Icon::Picture)}<span class="label">"png"</span></button>
                <crate::export_menu::ExportMenu />
                <ExampleList />
            </span>
            <span class="group run" role="group" aria-label="run" data-group="run">
                <button id="plan" title="See the ip commands apply would run" on:click=move |_| plan_open.set(true)>{icon(Icon::Plan)}<span class="label">"plan"</span></button>
                <button
                    id="apply"
                    class="primary"
                    title=move || if has_errors.get() { "Fix the problems marked in red first" } else { "Make the kernel hold this lab" }
                    disabled=move || has_errors.get() || editor.run.with(|r| r.running)
                    on:click=move |_| intents::apply(editor)
                >
                    {icon(Icon::Apply)}<span class="label">"apply"</span>
                </button>
                <button
                    id="destroy"
                    title="Remove the lab from the kernel (asks first)"
                    disabled=move || editor.run.with(|r| r.running)
                    on:click=move |_| intents::destroy(editor)
                >
                    {icon(Icon::Destroy)}<span class="label">"destroy"</span>
                </button>
            </span>
            <button id="shortcuts" title="Keyboard shortcuts (?)" on:click=move |_| editor.panels.help_open.set(true)>"?"</button>
            <span class=move || format!("connection {}", connection().0) id="connection">{move || connection().1}</span>
        </div>
        <crate::paste_import::PasteImport open=paste_open />
        <crate::dialog::Dialog />
    }
}

/// What the open button offers: nslab's lab files and every other tool's file it imports.
const OPENED_FILES: &str = ".json,application/json,.yml,.yaml,.conf,.xml,.mn,.gns3,.sh,.txt,.zip,.tar,.gz,.tgz";

/// The bundled examples; picking one opens it. The list shows the example the lab was
/// opened from, `examples…` for any other lab.
#[component]
fn ExampleList() -> impl IntoView {
    let editor = use_editor();
    let shown = move || editor.doc.example.get().unwrap_or_default();
    view! {
        <select
            id="examples"
            aria-label="open a bundled example"
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
