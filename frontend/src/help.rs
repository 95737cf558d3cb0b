//! The help overlay: every keyboard shortcut and mouse gesture.

use leptos::prelude::*;

use crate::editor::use_editor;

const SHORTCUTS: [(&str, &str); 20] = [
    ("N", "add a namespace"),
    ("B", "add a bridge"),
    ("H", "add the host (the namespace nslab runs in)"),
    ("drag a node's round handle to another node", "connect them with a veth"),
    ("click / shift-click", "select / add to the selection"),
    ("Tab, then Enter or Space", "reach a node or link and select it (Shift+Enter adds it)"),
    ("arrow keys (Shift: farther)", "move the selected nodes"),
    ("C", "connect the two selected nodes with a veth"),
    ("shift-drag on the background", "select everything in a rectangle"),
    ("drag the background", "pan"),
    ("mouse wheel, + and -", "zoom"),
    ("Delete, Backspace", "delete the selection"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z, Ctrl+Y", "redo"),
    ("Ctrl+A", "select everything"),
    ("L", "lay the lab out"),
    ("F", "fit the lab to the view"),
    ("1", "zoom to 100 %"),
    ("P", "present on a projector: the drawing fills the screen, other pages follow it (Esc leaves)"),
    ("Esc", "clear the selection, close this"),
];

#[component]
pub fn Help() -> impl IntoView {
    let editor = use_editor();
    view! {
        <div class="help" id="help" class:open=move || editor.panels.help_open.get() on:click=move |_| editor.panels.help_open.set(false)>
            <div class="help-box" on:click=|e| e.stop_propagation()>
                <h2>"Keys and gestures"</h2>
                <table>
                    {SHORTCUTS.iter().map(|(keys, what)| view! { <tr><th>{*keys}</th><td>{*what}</td></tr> }).collect_view()}
                </table>
                <p>"Drop a lab file anywhere on the page to open it. Every edit's iproute2 commands are in the ip commands tab."</p>
                <button on:click=move |_| editor.panels.help_open.set(false)>"close"</button>
            </div>
        </div>
    }
}
