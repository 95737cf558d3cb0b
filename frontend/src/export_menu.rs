//! The toolbar's export menu: the lab in every format nslab writes (its own file, the `ip`
//! script, containerlab, Kathará, CORE, Mininet, Graphviz, Mermaid, draw.io), downloaded
//! from the server (`GET /api/export?format=NAME`), which writes them as `nslab export`
//! does: the writers stay out of the editor. Kathará's folder comes as a `.tar.gz`.

use leptos::prelude::*;
use nslab_model::export::Format;
use nslab_model::problem::has_errors;

use crate::editor::{use_editor, Editor};
use crate::icons::{icon, Icon};

/// Each format in the menu, with the words it is listed under.
const CHOICES: [(Format, &str); 9] = [
    (Format::Json, "lab file (.json)"),
    (Format::Ip, "ip script (.sh)"),
    (Format::Clab, "containerlab (.clab.yml)"),
    (Format::Kathara, "Kathará folder (.tar.gz)"),
    (Format::Core, "CORE scenario (.xml)"),
    (Format::Mininet, "Mininet script (.py)"),
    (Format::Dot, "Graphviz (.dot)"),
    (Format::Mermaid, "Mermaid (.mmd)"),
    (Format::Drawio, "draw.io (.drawio)"),
];

/// A button that opens the list of formats; picking one downloads the lab in it. A click
/// beside the list or Escape closes it.
#[component]
pub fn ExportMenu() -> impl IntoView {
    let editor = use_editor();
    let open = RwSignal::new(false);
    view! {
        <span
            class="export-menu-wrap"
            on:keydown=move |event: leptos::ev::KeyboardEvent| {
                if event.key() == "Escape" {
                    open.set(false);
                }
            }
        >
            <button
                id="export"
                class="icon-button"
                aria-label="export the lab for another tool"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                title="Export the lab for another tool or a document (containerlab, Kathará, CORE, Mininet, Graphviz, Mermaid, draw.io), as nslab export writes it"
                on:click=move |_| open.update(|open| *open = !*open)
            >
                {icon(Icon::Export)}
            </button>
            <Show when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="export-menu" id="export-menu" role="menu" aria-label="export formats">
                    {CHOICES
                        .iter()
                        .map(|(format, label)| {
                            let format = *format;
                            view! {
                                <button role="menuitem" data-format=format.name() title=format.description() on:click=move |_| {
                                    open.set(false);
                                    export(editor, format);
                                }>
                                    {*label}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </Show>
        </span>
    }
}

/// Downloads the lab as the server writes it in `format`, named after the lab.
fn export(editor: Editor, format: Format) {
    if format.needs_valid_lab() && editor.doc.problems.with_untracked(|p| has_errors(p)) {
        editor.panels.notify("fix the problems marked in red first: a script of a broken lab would fail");
        return;
    }
    let name = editor.doc.lab.with_untracked(|lab| lab.name.clone());
    let file = if format.is_folder() { format!("{name}.tar.gz") } else { format!("{name}.{}", format.extension()) };
    crate::browser::click_download(&format!("/api/export?format={}", format.name()), &file);
}
