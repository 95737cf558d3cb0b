//! The page: toolbar on top, the canvas, and the side panels; banners for conflicts, drift
//! and notices; keyboard shortcuts and dropping a lab file anywhere.

use leptos::ev::{DragEvent, KeyboardEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::edit::{NodeKind, Selection};

use crate::api;
use crate::canvas::Canvas;
use crate::editor::{use_editor, Editor};
use crate::events;
use crate::help::Help;
use crate::inspector::Inspector;
use crate::intents::{self, ZOOM_STEP};
use crate::panels::{LogPanel, MatrixPanel, PingPanel, PlanPanel, TeachingPanel};
use crate::sync;
use crate::toolbar::Toolbar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Inspect,
    Plan,
    Commands,
    Ping,
    Matrix,
    Log,
}

#[component]
pub fn App() -> impl IntoView {
    let editor = Editor::new();
    provide_context(editor);
    spawn_local(async move {
        match api::fetch_lab().await {
            Ok(view) => {
                editor.doc.history.update_value(|h| h.reset(view.lab.clone()));
                sync::received(editor, view);
                intents::fit_view(editor);
            }
            Err(error) => editor.panels.notify(error.message),
        }
        events::connect(editor);
    });
    let tab = RwSignal::new(Tab::Inspect);
    let plan_open = RwSignal::new(false);
    Effect::new(move |_| {
        if plan_open.get() {
            tab.set(Tab::Plan);
        }
    });
    Effect::new(move |_| {
        if tab.get() != Tab::Plan {
            plan_open.set(false);
        }
    });
    Effect::new(move |_| {
        if editor.run.with(|r| r.running) {
            tab.set(Tab::Plan);
        }
    });
    // Picking one thing on the canvas shows its fields, whatever tab was open: the other
    // tabs keep their contents (a ping's samples, the matrix) for when the user goes back.
    Effect::new(move |previous: Option<Selection>| {
        let now = editor.view.selection.get();
        let one_thing = now.nodes.len() + now.links.len() == 1;
        if previous.is_some_and(|previous| previous != now) && one_thing {
            tab.set(Tab::Inspect);
        }
        now
    });
    let _keys = window_event_listener(leptos::ev::keydown, move |event| shortcut(editor, &event));
    let on_drop = move |event: DragEvent| {
        event.prevent_default();
        let file = event.data_transfer().and_then(|d| d.files()).and_then(|files| files.get(0));
        if let Some(file) = file {
            intents::open_file(editor, file);
        }
    };
    let tab_button = move |which: Tab, label: &'static str, id: &'static str| {
        view! {
            <button id=id class:active=move || tab.get() == which on:click=move |_| {
                tab.set(which);
                if which == Tab::Plan {
                    plan_open.set(true);
                }
            }>
                {label}
            </button>
        }
    };
    view! {
        <div class="app" on:dragover=|e: DragEvent| e.prevent_default() on:drop=on_drop>
            <Toolbar plan_open=plan_open />
            <Banners />
            <div class="main">
                <Canvas />
                <crate::legend::Legend />
                <aside class="side">
                    <nav class="tabs">
                        {tab_button(Tab::Inspect, "inspect", "tab-inspect")}
                        {tab_button(Tab::Plan, "plan & run", "tab-plan")}
                        {tab_button(Tab::Commands, "ip commands", "tab-commands")}
                        {tab_button(Tab::Ping, "ping", "tab-ping")}
                        {tab_button(Tab::Matrix, "matrix", "tab-matrix")}
                        {tab_button(Tab::Log, "events", "tab-log")}
                    </nav>
                    {move || match tab.get() {
                        Tab::Inspect => view! { <Inspector /> }.into_any(),
                        Tab::Plan => view! { <PlanPanel open=plan_open /> }.into_any(),
                        Tab::Commands => view! { <TeachingPanel /> }.into_any(),
                        Tab::Ping => view! { <PingPanel /> }.into_any(),
                        Tab::Matrix => view! { <MatrixPanel /> }.into_any(),
                        Tab::Log => view! { <LogPanel /> }.into_any(),
                    }}
                    <Checks />
                </aside>
            </div>
            <Help />
        </div>
    }
}

/// Conflicts, drift and notices, above the canvas.
#[component]
fn Banners() -> impl IntoView {
    let editor = use_editor();
    view! {
        {move || editor.doc.conflict.get().map(|conflict| view! {
            <div class="banner conflict" id="conflict">
                {format!(
                    "Someone else changed the lab (now revision {}) while you were editing. Your changes are still here.",
                    conflict.revision
                )}
                <button id="take-theirs" on:click=move |_| intents::resolve_conflict(editor, false)>"take theirs"</button>
                <button id="keep-mine" on:click=move |_| intents::resolve_conflict(editor, true)>"keep mine"</button>
            </div>
        })}
        {move || {
            let drift = editor.live.drift.get();
            (editor.live.applied.get() && !drift.is_empty()).then(|| view! {
                <div class="banner drift" id="drift" title={drift.iter().map(|d| d.command.clone()).collect::<Vec<_>>().join("\n")}>
                    {format!("The kernel differs from the lab: {} change(s) would repair it.", drift.len())}
                    <button on:click=move |_| intents::apply(editor)>"re-apply"</button>
                </div>
            })
        }}
        {move || {
            let conflicts = editor.live.conflicts.get();
            (!conflicts.is_empty()).then(|| view! {
                <div class="banner drift" id="in-the-way" title={conflicts.iter().map(|c| format!("{}: {}", c.path, c.message)).collect::<Vec<_>>().join("\n")}>
                    {format!(
                        "{} thing(s) in the kernel are in the lab's way: apply would refuse. The marked nodes and links say what.",
                        conflicts.len()
                    )}
                </div>
            })
        }}
        {move || editor.panels.notice.get().map(|notice| view! {
            <div class="banner notice" id="notice">
                {notice.text}
                <button on:click=move |_| editor.panels.clear_notice()>"ok"</button>
            </div>
        })}
    }
}

/// Every problem of the lab, at the bottom of the side panel; click one to select its thing.
#[component]
fn Checks() -> impl IntoView {
    let editor = use_editor();
    view! {
        <div class="checks" id="problems">
            {move || {
                let problems = editor.doc.problems.get();
                let unreadable = editor.doc.unreadable.get();
                if problems.is_empty() && unreadable.is_empty() {
                    return view! { <p class="ok">"No problems: this lab can be applied."</p> }.into_any();
                }
                // Text that could not go into the lab at all comes first: the lab does not
                // know of it, so validation cannot.
                let unreadable = unreadable
                    .into_iter()
                    .map(|(path, message)| {
                        let select = {
                            let path = path.clone();
                            move |_| intents::select_problem(editor, &path)
                        };
                        view! { <li class="problem error" on:click=select><span class="path">{path}</span>" "{message}</li> }
                    })
                    .collect_view();
                view! {
                    <ul>
                        {unreadable}
                        {problems
                            .into_iter()
                            .map(|problem| {
                                let class = if problem.is_error() { "problem error" } else { "problem warning" };
                                let path = problem.path.to_string();
                                let select = {
                                    let path = path.clone();
                                    move |_| intents::select_problem(editor, &path)
                                };
                                let shown = path.clone();
                                view! { <li class=class data-path=path on:click=select><span class="path">{shown}</span>" "{problem.message}</li> }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </div>
    }
}

/// Keys work unless the user is typing in a field.
fn shortcut(editor: Editor, event: &KeyboardEvent) {
    let typing = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    if typing {
        return;
    }
    let control = event.ctrl_key() || event.meta_key();
    match (control, event.shift_key(), event.key().as_str()) {
        (true, false, "z") => intents::undo(editor),
        (true, true, "Z" | "z") | (true, _, "y") => intents::redo(editor),
        (true, _, "a") => {
            editor.view.selection.set(editor.doc.lab.with_untracked(Selection::all));
        }
        (false, _, "Delete" | "Backspace") => intents::delete_selection(editor),
        (false, _, "n") => intents::add_node(editor, NodeKind::Namespace),
        (false, _, "b") => intents::add_node(editor, NodeKind::Bridge),
        (false, _, "h") => intents::add_host(editor),
        (false, _, "l") => intents::lay_out(editor),
        (false, _, "f") => intents::fit_view(editor),
        (false, _, "1") => intents::actual_size(editor),
        // `=` is `+` without Shift on most layouts.
        (false, _, "+" | "=") => intents::zoom_center(editor, ZOOM_STEP),
        (false, _, "-") => intents::zoom_center(editor, 1.0 / ZOOM_STEP),
        (false, _, "?") => editor.panels.help_open.set(true),
        (false, _, "Escape") => {
            editor.panels.help_open.set(false);
            editor.view.selection.set(Selection::default());
            editor.view.highlight.set(Vec::new());
        }
        _ => return,
    }
    event.prevent_default();
}
