//! What the user asks of the editor, whichever view it is asked from (a button, a key, a
//! gesture, a banner): edit the lab, look around it, open and save it, run it, probe it.
//! Views call these; these change the editor's state, ask the server (`api`) and keep the
//! document in step with it (`sync`). None of them draws anything.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::{ErrorBody, LabView, PingRequest, RunKind, RunReport};
use nslab_model::edit::{self, NodeKind, Point, Selection};
use nslab_model::export::{to_ip_script, to_json};
use nslab_model::identity::Netns;
use nslab_model::ops::Op;
use nslab_model::problem::has_errors;
use nslab_model::{validate_lab_name, Lab, Node};

use crate::api;
use crate::browser;
use crate::describe::NamespaceState;
use crate::dialog::{self, Question};
use crate::editor::{Editor, RunState};
use crate::geometry::{picture_bounds, Viewport};
use crate::sync;

// Editing the lab.

/// The middle of the canvas, in world coordinates.
fn canvas_center(editor: Editor) -> Point {
    let (w, h) = browser::canvas_size();
    editor.view.viewport.get_untracked().to_world(Point { x: w / 2.0, y: h / 2.0 })
}

/// Adds a node in the free space nearest the middle of the view: never on another card
/// nor on a veth.
pub fn add_node(editor: Editor, kind: NodeKind) {
    let at = canvas_center(editor);
    let (lab, name) = editor.doc.lab.with_untracked(|lab| {
        edit::add_node_avoiding(lab, kind, at, |name| taken_in_kernel(editor, &lab.name, kind, name))
    });
    let lab = edit::place_in_free_space(&lab, &name, at);
    sync::commit(editor, lab);
    editor.view.selection.set(Selection::node(name));
}

/// Whether the kernel holds something called `name` that is not lab `lab`'s, where a new
/// node of `kind` would go: another lab's (or a hand-made) namespace, an interface in the
/// host for a bridge.
fn taken_in_kernel(editor: Editor, lab: &str, kind: NodeKind, name: &str) -> bool {
    match kind {
        NodeKind::Namespace => matches!(namespace_state(editor, lab, name), NamespaceState::Taken(_)),
        NodeKind::Bridge => editor.live.links.with_untracked(|links| {
            links.get(&(Netns::Host, name.to_string())).is_some_and(|link| link.owner.as_deref() != Some(lab))
        }),
    }
}

/// Moves the selected nodes `steps` grid steps the way the arrow `key` points. False when
/// nothing is selected (the key then does what it does elsewhere: scroll).
pub fn nudge_selection(editor: Editor, key: &str, steps: f64) -> bool {
    let names: Vec<String> = editor.view.selection.with_untracked(|s| s.nodes.iter().cloned().collect());
    if names.is_empty() {
        return false;
    }
    let step = steps * edit::GRID;
    let by = match key {
        "ArrowLeft" => Point { x: -step, y: 0.0 },
        "ArrowRight" => Point { x: step, y: 0.0 },
        "ArrowUp" => Point { x: 0.0, y: -step },
        _ => Point { x: 0.0, y: step },
    };
    move_nodes(editor, &names, by);
    true
}

/// Connects the two selected nodes with a veth, as dragging from one to the other does.
/// False (nothing done) unless exactly two nodes are selected.
pub fn connect_selection(editor: Editor) -> bool {
    let names: Vec<String> = editor.view.selection.with_untracked(|s| s.nodes.iter().cloned().collect());
    let [from, to] = names.as_slice() else { return false };
    connect(editor, from, to);
    true
}

/// How the kernel holds namespace `name` for lab `lab`, as the canvas draws it.
fn namespace_state(editor: Editor, lab: &str, name: &str) -> NamespaceState {
    editor.live.present.with_untracked(|present| {
        editor.live.missing.with_untracked(|missing| NamespaceState::of(name, lab, present, missing))
    })
}

/// Adds the host node; a lab has one, so a second is refused with a sentence.
pub fn add_host(editor: Editor) {
    let at = canvas_center(editor);
    match editor.doc.lab.with_untracked(|lab| edit::add_host(lab, at)) {
        Ok((lab, name)) => {
            sync::commit(editor, edit::place_in_free_space(&lab, &name, at));
            editor.view.selection.set(Selection::node(name));
        }
        Err(message) => editor.panels.notify(message),
    }
}

pub fn delete_selection(editor: Editor) {
    let selection = editor.view.selection.get_untracked();
    if selection.is_empty() {
        return;
    }
    let lab = editor.doc.lab.with_untracked(|lab| edit::delete(lab, &selection));
    editor.view.selection.set(Selection::default());
    sync::commit(editor, lab);
}

/// Moves nodes `by` (a drag of them ended).
pub fn move_nodes(editor: Editor, names: &[String], by: Point) {
    let lab = editor.doc.lab.with_untracked(|lab| edit::move_nodes(lab, names, by));
    sync::commit(editor, lab);
}

/// Connects two nodes with a new veth and selects it; a refusal is the model's sentence.
pub fn connect(editor: Editor, from: &str, to: &str) {
    match editor.doc.lab.with_untracked(|lab| edit::connect(lab, from, to)) {
        Ok((lab, link)) => {
            sync::commit(editor, lab);
            editor.view.selection.set(Selection::link(link));
        }
        Err(message) => editor.panels.notify(message),
    }
}

/// Renames node `old` (keeping it selected); a refusal is the model's sentence, for the
/// field to show.
pub fn rename_node(editor: Editor, old: &str, new: &str) -> Result<(), String> {
    let lab = editor.doc.lab.with_untracked(|lab| edit::rename_node(lab, old, new))?;
    sync::commit(editor, lab);
    editor.view.selection.set(Selection::node(new.to_string()));
    Ok(())
}

/// Shows the lab an edit of the model makes of the one shown, as the user types:
/// validated, not yet recorded or sent (see `finish_typing`). A refusal (an empty or taken
/// name) is the model's sentence, for the field to show.
pub fn type_edit(editor: Editor, change: impl FnOnce(&Lab) -> Result<Lab, String>) -> Result<(), String> {
    let next = editor.doc.lab.with_untracked(change)?;
    sync::show(editor, next);
    Ok(())
}

/// Records what was typed (on leaving the field) for undo, and sends it.
pub fn finish_typing(editor: Editor) {
    sync::commit(editor, editor.doc.lab.get_untracked());
}

pub fn undo(editor: Editor) {
    sync::undo(editor);
}

pub fn redo(editor: Editor) {
    sync::redo(editor);
}

/// Resolves a conflict with another browser's edit: keep this lab, or take theirs.
pub fn resolve_conflict(editor: Editor, keep_mine: bool) {
    sync::resolve(editor, keep_mine);
}

/// Selects the node or link a problem's path points into (`nodes[3]...`, `links[1]...`).
pub fn select_problem(editor: Editor, path: &str) {
    if let Some(selection) = editor.doc.lab.with_untracked(|lab| crate::describe::selection_at(lab, path)) {
        editor.view.selection.set(selection);
    }
}

// Looking at the lab.

pub fn lay_out(editor: Editor) {
    let lab = editor.doc.lab.with_untracked(edit::auto_layout);
    sync::commit(editor, lab);
    fit_view(editor);
}

pub fn fit_view(editor: Editor) {
    if editor.presenter.presenting.get_untracked() {
        return crate::presenter::fit_filling(editor);
    }
    let (w, h) = browser::canvas_size();
    let (scale, offset) = editor.doc.lab.with_untracked(|lab| edit::fit(lab, w, h));
    editor.view.viewport.set(Viewport { scale, offset });
}

/// Zooms to 100 % around the middle of the canvas.
pub fn actual_size(editor: Editor) {
    let scale = editor.view.viewport.get_untracked().scale;
    zoom_center(editor, 1.0 / scale);
}

/// One step of the zoom buttons and the `+`/`-` keys.
pub const ZOOM_STEP: f64 = 1.25;

/// Zooms around the middle of the canvas.
pub fn zoom_center(editor: Editor, factor: f64) {
    let (w, h) = browser::canvas_size();
    zoom_at(editor, Point { x: w / 2.0, y: h / 2.0 }, factor);
}

/// Zooms by `factor` keeping the world point under `at` (screen pixels) in place.
pub fn zoom_at(editor: Editor, at: Point, factor: f64) {
    editor.view.viewport.update(|viewport| viewport.zoom_at(at, factor));
}

/// Highlights the nodes on the way from a namespace to the node that holds an address.
pub fn highlight_path(editor: Editor, from: &str, target: std::net::IpAddr) {
    let path = editor.doc.lab.with_untracked(|lab| crate::reach::path_to_address(lab, from, target));
    editor.view.highlight.set(path);
}

// Opening and saving. Opening goes through the server's import, which checks the file like
// `nslab validate`; a refused file leaves the current lab untouched.

/// The bundled examples, by name.
pub const EXAMPLES: [(&str, &str); 3] = [
    ("seed-veth", include_str!("../../examples/seed-veth.json")),
    ("seed-bridge", include_str!("../../examples/seed-bridge.json")),
    ("router", include_str!("../../examples/router.json")),
];

/// Opens the bundled example `name` (nothing if there is none).
pub fn open_example(editor: Editor, name: &str) {
    if let Some((name, text)) = EXAMPLES.iter().find(|(n, _)| *n == name) {
        open_text(editor, text.to_string(), format!("example {name}"), Some(name));
    }
}

/// Opens a file the user picked or dropped: a lab file, or another tool's (`file_import`).
pub fn open_file(editor: Editor, file: web_sys::File) {
    crate::file_import::open_file(editor, file);
}

/// Sends a lab file's text to the server (after asking, if the kernel holds the lab it
/// replaces); on success it becomes the document.
fn open_text(editor: Editor, text: String, from: String, example: Option<&'static str>) {
    spawn_local(async move {
        if !may_replace(editor, &from).await {
            return;
        }
        match api::import(text).await {
            Ok(view) => {
                show_opened(editor, view, &from);
                editor.doc.example.set(example);
            }
            Err(error) => editor.panels.notify(format!("{from} was not opened: {}", error.message)),
        }
    });
}

/// Draws what the kernel holds (hand-built namespaces too) as the document, after asking:
/// the drawing is replaced. What a lab cannot hold is logged, as the lab's description
/// names it.
pub fn scan_kernel(editor: Editor) {
    spawn_local(async move {
        let lab = editor.doc.lab.with_untracked(|lab| lab.name.clone());
        let sentence = if editor.live.applied.get_untracked() {
            let held = HELD_SENTENCE.replace("{lab}", &lab);
            format!("{held} The drawing shows it with everything else the kernel holds.")
        } else {
            "The drawing is replaced (undo brings it back); the kernel is not changed.".to_string()
        };
        let question = Question {
            title: format!("Replace the lab `{lab}` with what the kernel holds?"),
            sentence,
            concerned: vec![lab],
            action: "scan".into(),
        };
        if !dialog::ask(editor, question).await {
            return;
        }
        match api::scan().await {
            Ok(view) => {
                let description = view.lab.description.clone();
                show_opened(editor, view, "what the kernel holds");
                if !description.is_empty() {
                    editor.panels.log("info", description);
                }
            }
            Err(error) => editor.panels.notify(format!("the kernel could not be scanned: {}", error.message)),
        }
    });
}

/// A lab the server made the document (opened or scanned) shown as the editor's, fitted.
pub(crate) fn show_opened(editor: Editor, view: LabView, from: &str) {
    editor.panels.clear_notice();
    editor.doc.unsaved.set(false);
    editor.doc.revision.set(view.revision);
    editor.doc.history.update_value(|history| history.record(view.lab.clone()));
    sync::show(editor, view.lab);
    sync::place_missing(editor);
    forget_the_previous_lab(editor);
    editor.panels.log("info", format!("opened {from}"));
    fit_view(editor);
}

/// What the editor showed of the lab it had is not the new one's: its run's steps and
/// outcome go (a run still going keeps them), the examples list names no example.
fn forget_the_previous_lab(editor: Editor) {
    if !editor.run.with_untracked(|run| run.running) {
        editor.run.set(RunState::default());
    }
    editor.doc.example.set(None);
    editor.doc.kept.set(Some(editor.doc.lab.get_untracked()));
}

/// What a confirmation says of a lab the kernel holds, whose drawing goes.
const HELD_SENTENCE: &str =
    "The kernel holds the lab `{lab}`: its namespaces keep running there (it is not destroyed); destroy it first to remove them.";

/// Whether the document may be replaced by `what`: asks when the kernel holds its lab.
pub(crate) async fn may_replace(editor: Editor, what: &str) -> bool {
    if !editor.live.applied.get_untracked() {
        return true;
    }
    let lab = editor.doc.lab.with_untracked(|lab| lab.name.clone());
    let question = Question {
        title: format!("Replace the lab `{lab}` with {what}?"),
        sentence: HELD_SENTENCE.replace("{lab}", &lab),
        concerned: vec![lab],
        action: "replace".into(),
    };
    dialog::ask(editor, question).await
}

/// Starts an empty lab under a fresh name, asking first when the drawing has changes not
/// kept in a file or the kernel holds its lab. Undo brings the lab before back.
pub fn new_lab(editor: Editor) {
    spawn_local(async move {
        let (lab, empty) = editor.doc.lab.with_untracked(|lab| (lab.name.clone(), lab.nodes.is_empty()));
        if !empty {
            let changed = match editor.doc.kept.get_untracked() {
                Some(kept) => editor.doc.lab.with_untracked(|now| *now != kept),
                None => editor.doc.can_undo.get_untracked(),
            };
            let held = editor.live.applied.get_untracked();
            if held || changed {
                let mut sentences = Vec::new();
                if changed {
                    sentences.push("Its drawing has changes not saved to a file; undo brings them back.".to_string());
                }
                if held {
                    sentences.push(HELD_SENTENCE.replace("{lab}", &lab));
                }
                let question = Question {
                    title: format!("Put the lab `{lab}` away for a new one?"),
                    sentence: sentences.join(" "),
                    concerned: vec![lab],
                    action: "new lab".into(),
                };
                if !dialog::ask(editor, question).await {
                    return;
                }
            }
        }
        let fresh = Lab::new(fresh_lab_name(editor));
        editor.panels.clear_notice();
        sync::commit(editor, fresh.clone());
        forget_the_previous_lab(editor);
        editor.panels.log("info", format!("new lab {}", fresh.name));
        fit_view(editor);
    });
}

/// `lab1`, `lab2`...: the first name neither the lab shown nor a lab the kernel holds has.
fn fresh_lab_name(editor: Editor) -> String {
    let current = editor.doc.lab.with_untracked(|lab| lab.name.clone());
    let held: std::collections::BTreeSet<String> =
        editor.live.links.with_untracked(|links| links.values().filter_map(|link| link.owner.clone()).collect());
    (1..).map(|n| format!("lab{n}")).find(|name| *name != current && !held.contains(name)).unwrap_or_default()
}

/// Checks a new name for the lab: the validator's sentence when it refuses it, None when
/// it is the name the lab has.
pub fn check_lab_name(editor: Editor, name: &str) -> Result<Option<String>, String> {
    let renamed = editor.doc.lab.with_untracked(|lab| Lab { name: name.to_string(), ..lab.clone() });
    if let Some(problem) = validate_lab_name(&renamed).into_iter().next() {
        return Err(problem.message);
    }
    let same = editor.doc.lab.with_untracked(|lab| lab.name == name);
    Ok((!same).then(|| name.to_string()))
}

/// Renames the lab (a checked name, see `check_lab_name`), after saying what that means
/// when the kernel holds it under its old name.
pub fn rename_lab(editor: Editor, new: String) {
    spawn_local(async move {
        let old = editor.doc.lab.with_untracked(|lab| lab.name.clone());
        if editor.live.applied.get_untracked() {
            let question = Question {
                title: format!("Rename the lab `{old}` to `{new}`?"),
                sentence: format!(
                    "The kernel holds `{old}` under its old name. The next apply creates a new lab `{new}`; \
                     `{old}` stays in the kernel until it is destroyed (destroy it first to remove it)."
                ),
                concerned: vec![old.clone(), new.clone()],
                action: "rename".into(),
            };
            if !dialog::ask(editor, question).await {
                return;
            }
        }
        let lab = editor.doc.lab.with_untracked(|lab| Lab { name: new, ..lab.clone() });
        sync::commit(editor, lab);
    });
}

pub fn save_json(editor: Editor) {
    let lab = editor.doc.lab.get_untracked();
    editor.doc.kept.set(Some(lab.clone()));
    browser::download(&format!("{}.json", lab.name), "application/json", &to_json(&lab));
}

pub fn export_script(editor: Editor) {
    let lab = editor.doc.lab.get_untracked();
    if editor.doc.problems.with_untracked(|p| has_errors(p)) {
        editor.panels.notify("fix the problems marked in red first: a script of a broken lab would fail");
        return;
    }
    browser::download(&format!("{}.sh", lab.name), "text/x-shellscript", &to_ip_script(&lab));
}

/// The picture as an SVG file: the whole lab (not just what the view shows), at zoom 1,
/// with the styles it needs inlined, so it opens the same anywhere.
pub fn export_svg(editor: Editor) {
    let Some((body, _)) = picture_svg(editor) else { return };
    let name = editor.doc.lab.with_untracked(|lab| lab.name.clone());
    browser::download(&format!("{name}.svg"), "image/svg+xml", &body);
}

/// The same picture as a PNG file, twice the size for a crisp slide: the browser draws
/// the SVG on a canvas.
pub fn export_png(editor: Editor) {
    let Some((body, size)) = picture_svg(editor) else { return };
    let name = editor.doc.lab.with_untracked(|lab| lab.name.clone());
    if let Err(error) = browser::download_png(&format!("{name}.png"), &body, size, PNG_SCALE) {
        editor.panels.notify(format!("the picture could not be made: {error}"));
    }
}

/// How many PNG pixels a unit of the drawing takes.
const PNG_SCALE: f64 = 2.0;

/// The drawing as an SVG document and its size (width, height).
fn picture_svg(editor: Editor) -> Option<(String, (f64, f64))> {
    let world = browser::world_markup()?;
    let (x, y, width, height) = editor.doc.lab.with_untracked(picture_bounds);
    let body = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"canvas\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"{x} {y} {width} {height}\"><style>{}</style><rect class=\"paper\" x=\"{x}\" y=\"{y}\" \
         width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>{}</svg>",
        include_str!("../svg.css"),
        // Leptos marks the places of dynamic text with empty comments: not for a file.
        world.replace("<!---->", "")
    );
    Some((body, (width, height)))
}

/// Copies the teaching view's commands to the clipboard.
pub fn copy_commands(editor: Editor) {
    let text = editor.panels.commands.with_untracked(|c| c.join("\n"));
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(&text);
    }
}

// Running the lab. A run's progress and outcome come by the event stream (see `events`).

/// Plans, then applies, showing each step as it is done (the event stream fills it in).
/// When the plan deletes namespaces it names them and asks first.
pub fn apply(editor: Editor) {
    spawn_local(async move {
        // A plan the server refuses runs nothing either: the apply says why.
        let deleted = api::plan().await.map(|plan| deleted_namespaces(&plan.ops)).unwrap_or_default();
        if !deleted.is_empty() {
            let count = crate::wording::counted(deleted.len(), "namespace", "namespaces");
            let question = Question {
                title: format!("Apply, deleting {count}?"),
                sentence: format!(
                    "The lab no longer has {}, so apply deletes {} from the kernel, with whatever runs in {}:",
                    if deleted.len() == 1 { "this namespace" } else { "these namespaces" },
                    if deleted.len() == 1 { "it" } else { "them" },
                    if deleted.len() == 1 { "it" } else { "them" },
                ),
                concerned: deleted,
                action: format!("apply and delete {count}"),
            };
            if !dialog::ask(editor, question).await {
                return;
            }
        }
        run_apply(editor, false);
    });
}

/// The namespaces `ops` delete, by name.
fn deleted_namespaces(ops: &[nslab_model::api::PlannedOp]) -> Vec<String> {
    ops.iter()
        .filter_map(|planned| match &planned.op {
            Op::DeleteNamespace { name } => Some(name.clone()),
            _ => None,
        })
        .collect()
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

/// Removes what the lab made in the kernel, after asking (naming its namespaces the
/// kernel has).
pub fn destroy(editor: Editor) {
    spawn_local(async move {
        let lab = editor.doc.lab.with_untracked(|lab| lab.name.clone());
        // The lab's namespaces the kernel holds as this lab's: what destroy deletes.
        let in_kernel = |name: &str| namespace_state(editor, &lab, name) == NamespaceState::Present;
        let namespaces: Vec<String> = editor.doc.lab.with_untracked(|lab| {
            lab.nodes
                .iter()
                .filter(|node| matches!(node, Node::Namespace(_)) && in_kernel(node.name()))
                .map(|node| node.name().to_string())
                .collect()
        });
        let question = Question {
            title: format!("Destroy the lab `{lab}`?"),
            sentence: "Everything this lab made in the kernel is removed, its namespaces with whatever runs in them:"
                .into(),
            concerned: namespaces,
            action: "destroy".into(),
        };
        if !dialog::ask(editor, question).await {
            return;
        }
        editor.run.set(RunState { running: true, title: "destroy".into(), ..RunState::default() });
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

/// The run's answer adds the processes it ended, or why it was refused.
fn finish_run(editor: Editor, run: RunKind, result: Result<RunReport, ErrorBody>) {
    match result {
        Ok(report) => {
            for process in report.ended {
                editor.panels.log("run", format!("ended {process}"));
            }
        }
        Err(error) => fail_run(editor, run, error),
    }
}

fn fail_run(editor: Editor, run: RunKind, error: ErrorBody) {
    editor.live.conflicts.set(error.conflicts.clone());
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

// Probing the running lab.

/// Starts `request`, in place of the ping shown (stopped first); the samples come by the
/// event stream. `refusal` takes the server's reason when it refuses, and is cleared when
/// it starts.
pub fn start_ping(editor: Editor, request: PingRequest, refusal: RwSignal<Option<String>>) {
    spawn_local(async move {
        if let Some((id, _)) = editor.panels.ping.get_untracked() {
            api::stop_ping(id).await;
        }
        match api::start_ping(&request).await {
            Ok(started) => {
                refusal.set(None);
                editor.panels.ping_target.set(Some((started.id, started.to)));
                if editor.panels.ping.with_untracked(|ping| ping.as_ref().is_none_or(|(id, _)| *id != started.id)) {
                    editor.panels.ping.set(Some((started.id, Vec::new())));
                }
            }
            Err(e) => refusal.set(Some(e.message)),
        }
    });
}

/// Stops the ping shown.
pub fn stop_ping(editor: Editor) {
    if let Some((id, _)) = editor.panels.ping.get_untracked() {
        spawn_local(api::stop_ping(id));
    }
}

/// Every namespace pings every address, the cells coming by the event stream; `running`
/// holds while the server works on it.
pub fn run_matrix(editor: Editor, running: RwSignal<bool>) {
    running.set(true);
    editor.clear_matrix();
    spawn_local(async move {
        match api::matrix().await {
            Ok(report) => {
                if let Some(warning) = report.warning {
                    editor.panels.log("matrix", warning.clone());
                    editor.panels.notify(warning);
                }
            }
            Err(e) => editor.panels.notify(e.message),
        }
        running.set(false);
    });
}
