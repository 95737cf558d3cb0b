//! The "import ip commands" box: the user pastes or types the commands that build a lab
//! (as a tutorial prints them: `ip netns add`, `ip link add type veth`, `ifconfig`,
//! `brctl`...) and sees the lab drawn as they type, each line that could not be understood
//! marked on its line with why, and what was understood but a lab cannot hold listed.
//! "open" makes that lab the document, as opening a file does (one undoable step).
//!
//! The commands are read in the browser (`parse_script`, the same reader `nslab import`
//! uses), a moment after the typing stops; nothing runs.

use leptos::prelude::*;
use nslab_model::formats::ip_script::{parse_script, ScriptImport};
use nslab_model::{Lab, Node};

use crate::editor::use_editor;
use crate::file_import;
use crate::wording::{counted, message_view};

/// How long after the last key the commands are read again.
const READ_AFTER: std::time::Duration = std::time::Duration::from_millis(250);
/// The lab's name in the preview, as the server names the opened one (`commands.sh`).
const LAB_NAME: &str = "commands";

#[component]
pub fn PasteImport(open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    let text = RwSignal::new(String::new());
    let read = RwSignal::new(None::<ScriptImport>);
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let gutter = NodeRef::<leptos::html::Pre>::new();
    let on_input = move |event: leptos::ev::Event| {
        text.set(event_target_value(&event));
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let later = set_timeout_with_handle(move || read.set(read_commands(&text.get_untracked())), READ_AFTER);
        pending.set_value(later.ok());
    };
    // The line numbers scroll with the text.
    let on_scroll = move |event: leptos::ev::Event| {
        let top = event_target::<web_sys::HtmlElement>(&event).scroll_top();
        if let Some(gutter) = gutter.get() {
            gutter.set_scroll_top(top);
        }
    };
    let close = move || open.set(false);
    let open_lab = move |_| {
        let commands = text.get_untracked();
        close();
        file_import::open_commands(editor, commands);
    };
    let has_lab = move || read.with(|read| read.as_ref().is_some_and(|read| read.understood > 0));
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| close()>
                <div
                    class="dialog paste-import"
                    id="paste-import"
                    role="dialog"
                    aria-labelledby="paste-import-title"
                    on:click=|event| event.stop_propagation()
                    on:keydown=move |event: leptos::ev::KeyboardEvent| {
                        if event.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <h2 id="paste-import-title">"Import ip commands"</h2>
                    <p>
                        "Paste or type the commands that build a lab, as a tutorial prints them: "
                        <code>"ip netns add"</code>", "<code>"ip link add … type veth"</code>", "
                        <code>"ip addr add"</code>", "<code>"ifconfig"</code>", "<code>"brctl"</code>
                        ". The lab is drawn as you type; nothing runs."
                    </p>
                    <div class="paste-body">
                        <div class="script-editor">
                            <pre class="gutter" aria-hidden="true" node_ref=gutter>
                                {move || gutter_lines(&text.get(), read.get().as_ref())}
                            </pre>
                            <textarea
                                id="paste-commands"
                                aria-label="ip commands"
                                spellcheck="false"
                                wrap="off"
                                prop:value=move || text.get()
                                on:input=on_input
                                on:scroll=on_scroll
                            ></textarea>
                        </div>
                        <Preview read=read />
                    </div>
                    <p class="paste-summary" id="paste-summary">{move || summary(read.get().as_ref())}</p>
                    <Findings read=read />
                    <div class="actions">
                        <button id="paste-cancel" on:click=move |_| close()>"cancel"</button>
                        <button
                            id="paste-open"
                            class="primary"
                            title="Make this lab the document (undo brings the one before back)"
                            disabled=move || !has_lab()
                            on:click=open_lab
                        >
                            "open"
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// The commands read into a lab; None while there is nothing to read.
fn read_commands(text: &str) -> Option<ScriptImport> {
    (!text.trim().is_empty()).then(|| parse_script(text, LAB_NAME))
}

/// One number a line of the text; a line not understood is marked, with why as its title.
fn gutter_lines(text: &str, read: Option<&ScriptImport>) -> impl IntoView {
    let lines = text.split('\n').count().max(1);
    (1..=lines)
        .map(|line| {
            let why: Vec<&str> = read
                .map(|read| read.errors.iter().filter(|e| e.line == line).map(|e| e.message.as_str()).collect())
                .unwrap_or_default();
            let bad = !why.is_empty();
            view! {
                <span class="line-number" class:bad=bad data-line=line title=why.join("\n")>
                    {if bad { format!("✗{line}") } else { line.to_string() }}
                </span>
                "\n"
            }
        })
        .collect_view()
}

/// `4 nodes, 3 links` (and the lines not understood), or what to do.
fn summary(read: Option<&ScriptImport>) -> String {
    let Some(read) = read else { return "Nothing to read yet.".to_string() };
    let lab = &read.imported.lab;
    let mut sentence = if read.understood == 0 {
        "No command that builds a lab yet.".to_string()
    } else {
        format!("{}, {}.", counted(lab.nodes.len(), "node", "nodes"), counted(lab.links.len(), "link", "links"))
    };
    if !read.errors.is_empty() {
        sentence.push_str(&format!(" {} not understood (marked).", counted(read.errors.len(), "line", "lines")));
    }
    sentence
}

/// The lines not understood, each with its number and why, and what is left out.
#[component]
fn Findings(read: RwSignal<Option<ScriptImport>>) -> impl IntoView {
    view! {
        {move || read.with(|read| {
            let read = read.as_ref()?;
            (!read.errors.is_empty()).then(|| {
                let items = read
                    .errors
                    .iter()
                    .map(|error| view! {
                        <li data-line=error.line>
                            <span class="place">{format!("line {}", error.line)}</span>": "{message_view(&error.message)}
                        </li>
                    })
                    .collect_view();
                view! { <h3>"Not understood"</h3><ul class="paste-errors" id="paste-errors">{items}</ul> }
            })
        })}
        {move || read.with(|read| {
            let left_out = &read.as_ref()?.imported.left_out;
            (!left_out.is_empty()).then(|| {
                let items = left_out
                    .iter()
                    .map(|item| view! { <li><span class="place">{item.place.clone()}</span>": "{message_view(&item.what)}</li> })
                    .collect_view();
                view! { <h3>"Left out (a lab cannot hold it)"</h3><ul class="paste-left-out" id="paste-left-out">{items}</ul> }
            })
        })}
    }
}

/// Half a preview card's width and height, in the lab's units.
const HALF_WIDTH: f64 = 55.0;
const HALF_HEIGHT: f64 = 18.0;

/// The lab drawn small: a box a node (a bridge's rounded), a line a veth.
#[component]
fn Preview(read: RwSignal<Option<ScriptImport>>) -> impl IntoView {
    view! {
        <svg class="paste-preview" id="paste-preview" role="img" aria-label="the lab the commands build"
            viewBox=move || read.with(|read| view_box(read.as_ref().map(|read| &read.imported.lab)))>
            {move || read.with(|read| read.as_ref().map(|read| drawing(&read.imported.lab)))}
        </svg>
    }
}

/// Where a node is drawn (imported labs have every node placed).
fn centre(lab: &Lab, name: &str) -> Option<(f64, f64)> {
    let node = lab.nodes.iter().find(|node| node.name() == name)?;
    let editor = node.editor()?;
    Some((editor.x?, editor.y?))
}

fn view_box(lab: Option<&Lab>) -> String {
    let centres: Vec<(f64, f64)> =
        lab.map(|lab| lab.nodes.iter().filter_map(|node| centre(lab, node.name())).collect()).unwrap_or_default();
    if centres.is_empty() {
        return "0 0 400 300".to_string();
    }
    let margin = 20.0;
    let left = centres.iter().map(|c| c.0).fold(f64::INFINITY, f64::min) - HALF_WIDTH - margin;
    let right = centres.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max) + HALF_WIDTH + margin;
    let top = centres.iter().map(|c| c.1).fold(f64::INFINITY, f64::min) - HALF_HEIGHT - margin;
    let bottom = centres.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max) + HALF_HEIGHT + margin;
    format!("{left} {top} {} {}", right - left, bottom - top)
}

fn drawing(lab: &Lab) -> impl IntoView {
    let links = lab
        .links
        .iter()
        .filter_map(|link| {
            let [a, b] = link.ends();
            let ((x1, y1), (x2, y2)) = (centre(lab, &a.node)?, centre(lab, &b.node)?);
            let ends = format!("{}:{} {}:{}", a.node, a.name, b.node, b.name);
            Some(view! { <line class="preview-link" data-ends=ends x1=x1 y1=y1 x2=x2 y2=y2 /> })
        })
        .collect_view();
    let nodes = lab
        .nodes
        .iter()
        .filter_map(|node| {
            let (x, y) = centre(lab, node.name())?;
            let rounded = if matches!(node, Node::Bridge(_)) { 14.0 } else { 3.0 };
            let class = format!("preview-node {}", node.kind_word());
            Some(view! {
                <g class=class data-name=node.name().to_string()>
                    <rect x=x - HALF_WIDTH y=y - HALF_HEIGHT width=2.0 * HALF_WIDTH height=2.0 * HALF_HEIGHT rx=rounded />
                    <text x=x y=y + 5.0 text-anchor="middle">{node.name().to_string()}</text>
                </g>
            })
        })
        .collect_view();
    view! { {links}{nodes} }
}
