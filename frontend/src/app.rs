//! The page: toolbar on top, the canvas, and the side panels; banners for conflicts, drift
//! and notices; keyboard shortcuts and dropping a lab file anywhere.

use leptos::ev::{DragEvent, KeyboardEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::edit::{NodeKind, Selection};

use crate::api;
use crate::canvas::Canvas;
use crate::describe::drift_summary;
use crate::editor::{use_editor, Editor, NoticeKind};
use crate::events;
use crate::help::Help;
use crate::inspector::Inspector;
use crate::intents::{self, ZOOM_STEP};
use crate::matrix_panel::MatrixPanel;
use crate::panel_width::{self, PanelResizer};
use crate::panels::{LogPanel, PlanPanel, TeachingPanel};
use crate::ping_panel::PingPanel;
use crate::sync;
use crate::toolbar::Toolbar;
use crate::wording::{counted, message_view, place};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Inspect,
    Plan,
    Commands,
    Ping,
    Matrix,
    Log,
    Capture,
}

#[component]
pub fn App() -> impl IntoView {
    let editor = Editor::new();
    provide_context(editor);
    let capture = crate::capture::Capture::new();
    provide_context(capture);
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
    let panel_width = RwSignal::new(panel_width::remembered());
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
    // A capture opened (from the inspector) is shown at once.
    Effect::new(move |_| {
        if capture.opened.get() > 0 {
            tab.set(Tab::Capture);
        }
    });
    let _keys = window_event_listener(leptos::ev::keydown, move |event| shortcut(editor, &event));
    crate::presenter::start(editor);
    crate::terminal_dock::Terminals::provide();
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
        <div class="app" class:presenting=move || editor.presenter.presenting.get() on:dragover=|e: DragEvent| e.prevent_default() on:drop=on_drop>
            <Toolbar plan_open=plan_open />
            <Banners />
            <crate::presenter::PresenterBanner />
            <div class="main">
                <Canvas />
                <crate::legend::Legend />
                <div class="corner-cards">
                    <crate::goals_card::GoalsCard />
                    <crate::drill_card::DrillCard />
                </div>
                <PanelResizer width=panel_width />
                <aside class="side" id="side-panel" style:width=move || format!("{}px", panel_width.get())>
                    <nav class="tabs">
                        {tab_button(Tab::Inspect, "inspect", "tab-inspect")}
                        {tab_button(Tab::Plan, "plan & run", "tab-plan")}
                        {tab_button(Tab::Commands, "ip commands", "tab-commands")}
                        {tab_button(Tab::Ping, "ping", "tab-ping")}
                        {tab_button(Tab::Matrix, "matrix", "tab-matrix")}
                        {tab_button(Tab::Log, "events", "tab-log")}
                        // Only while a capture is open.
                        {move || capture.target.with(Option::is_some).then(|| tab_button(Tab::Capture, "capture", "tab-capture"))}
                    </nav>
                    {move || match tab.get() {
                        Tab::Inspect => view! { <Inspector /> }.into_any(),
                        Tab::Plan => view! { <PlanPanel open=plan_open /> }.into_any(),
                        Tab::Commands => view! { <TeachingPanel /> }.into_any(),
                        Tab::Ping => view! { <PingPanel /> }.into_any(),
                        Tab::Matrix => view! { <MatrixPanel /> }.into_any(),
                        Tab::Log => view! { <LogPanel /> }.into_any(),
                        Tab::Capture => view! { <crate::capture_panel::CapturePanel /> }.into_any(),
                    }}
                    <Checks />
                </aside>
            </div>
            <crate::terminal_dock::TerminalDock />
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
                    <span>{message_view(&drift_summary(&drift))}</span>
                    <button on:click=move |_| intents::apply(editor)>"re-apply"</button>
                </div>
            })
        }}
        {move || (editor.live.drift_hidden.get() && editor.live.applied.get()).then(|| view! {
            <div class="banner drift" id="drift-hidden">
                "A drill runs: what differs from the lab is hidden until the teacher reveals it. Find the faults with ping, the matrix and a terminal."
            </div>
        })}
        {move || {
            let conflicts = editor.live.conflicts.get();
            (!conflicts.is_empty()).then(|| view! {
                <div class="banner drift" id="in-the-way" title={editor.doc.lab.with_untracked(|lab| conflicts.iter().map(|c| format!("{}: {}", place(lab, &c.path.to_string()), c.message)).collect::<Vec<_>>().join("\n"))}>
                    {format!(
                        "{} in the kernel {} in the lab's way: apply would refuse. The marked nodes and links say what.",
                        counted(conflicts.len(), "thing", "things"),
                        if conflicts.len() == 1 { "is" } else { "are" }
                    )}
                </div>
            })
        }}
        {move || editor.panels.notice.get().map(|notice| view! {
            <div class=notice_class(notice.kind) id="notice" role=notice_role(notice.kind)>
                <span>{message_view(&notice.text)}</span>
                <button on:click=move |_| editor.panels.clear_notice()>"ok"</button>
            </div>
        })}
    }
}

/// A notice's look: an error in red (the user must act), a retry in the calm blue.
fn notice_class(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Error => "banner notice error",
        NoticeKind::NotSavedYet | NoticeKind::Info => "banner notice",
    }
}

fn notice_role(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Error => "alert",
        NoticeKind::NotSavedYet | NoticeKind::Info => "status",
    }
}

/// Every problem of the lab the inspector does not show, at the bottom of the side panel,
/// each named by the thing it is about; click one to select that thing.
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
                let count = counted(problems.len() + unreadable.len(), "problem", "problems");
                let unreadable = unreadable
                    .into_iter()
                    .filter(|(path, _)| !editor.panels.inspects(path))
                    .map(|(path, message)| problem_line(editor, "problem error", path, &message))
                    .collect_view();
                let problems = problems
                    .into_iter()
                    .filter(|problem| !editor.panels.inspects(problem.path.as_str()))
                    .map(|problem| {
                        let class = if problem.is_error() { "problem error" } else { "problem warning" };
                        problem_line(editor, class, problem.path.to_string(), &problem.message)
                    })
                    .collect_view();
                view! { <h4 class="count">{count}</h4><ul>{unreadable}{problems}</ul> }.into_any()
            }}
        </div>
    }
}

/// One line of the problems list: where (in words), what, and a click that selects it.
fn problem_line(editor: Editor, class: &'static str, path: String, message: &str) -> impl IntoView {
    let place = editor.doc.lab.with_untracked(|lab| place(lab, &path));
    let select = {
        let path = path.clone();
        move |_| intents::select_problem(editor, &path)
    };
    view! {
        <li class=class data-path=path title="select what this is about" on:click=select>
            <span class="place">{place}</span>": "{message_view(message)}
        </li>
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
        // The keyboard's drag: arrows move the selected nodes a grid step (Shift: five).
        (false, shift, "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") => {
            if !intents::nudge_selection(editor, event.key().as_str(), if shift { 5.0 } else { 1.0 }) {
                return;
            }
        }
        // The keyboard's drag-to-connect: two nodes selected, C joins them with a veth.
        (false, _, "c") => {
            if !intents::connect_selection(editor) {
                return;
            }
        }
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
        (false, _, "p" | "P") => crate::presenter::toggle(editor),
        (false, _, "Escape") => {
            crate::presenter::leave(editor);
            editor.panels.help_open.set(false);
            editor.view.selection.set(Selection::default());
            editor.view.highlight.set(Vec::new());
        }
        _ => return,
    }
    event.prevent_default();
}
