//! Keeping this editor and the server's document in step. Every edit is recorded for undo,
//! shown as iproute2 commands, and sent with the revision it was based on. One PUT is in
//! flight at a time; edits made meanwhile go in the next. A refusal because someone else
//! changed the lab first becomes a conflict the user resolves: nothing is lost silently.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::LabView;
use nslab_model::edit::commands_for_edit;
use nslab_model::Lab;

use crate::api;
use crate::editor::{EditConflict, Editor, NoticeKind};

/// Applies an edit made in this editor. Compared with the last recorded state, not with
/// what is shown: typing in the inspector shows each keystroke and records on leaving.
pub fn commit(editor: Editor, lab: Lab) {
    let before = editor.doc.history.with_value(|history| history.current().clone());
    if before == lab {
        return;
    }
    editor.doc.history.update_value(|history| history.record(lab.clone()));
    note_commands(editor, &before, &lab);
    show(editor, lab);
    editor.doc.unsaved.set(true);
    send(editor);
}

/// Shows `lab` as the document without recording it (a drag in progress, an undo).
pub fn show(editor: Editor, lab: Lab) {
    // Link indexes shift when links go (an undo, another browser's edit): keep only what
    // still exists and still joins the same nodes, so that Delete never removes another
    // link than the one selected.
    let selection = editor.doc.lab.with_untracked(|before| {
        let joins = |lab: &Lab, index: usize| lab.links.get(index).map(|link| link.ends().map(|end| end.node.clone()));
        let mut selection = editor.view.selection.with_untracked(|selection| selection.valid_in(&lab));
        selection.links.retain(|index| joins(before, *index) == joins(&lab, *index));
        selection
    });
    if editor.view.selection.with_untracked(|now| *now != selection) {
        editor.view.selection.set(selection);
    }
    editor.doc.lab.set(lab);
    editor.sync_positions();
    editor.doc.can_undo.set(editor.doc.history.with_value(|h| h.can_undo()));
    editor.doc.can_redo.set(editor.doc.history.with_value(|h| h.can_redo()));
}

pub fn undo(editor: Editor) {
    step_history(editor, |history| history.undo().cloned());
}

pub fn redo(editor: Editor) {
    step_history(editor, |history| history.redo().cloned());
}

fn step_history(editor: Editor, step: impl FnOnce(&mut nslab_model::edit::History) -> Option<Lab>) {
    let before = editor.doc.lab.get_untracked();
    let mut moved = None;
    editor.doc.history.update_value(|history| moved = step(history));
    if let Some(lab) = moved {
        note_commands(editor, &before, &lab);
        show(editor, lab);
        editor.doc.unsaved.set(true);
        send(editor);
    }
}

fn note_commands(editor: Editor, before: &Lab, after: &Lab) {
    let commands = commands_for_edit(before, after);
    if commands.is_empty() {
        return;
    }
    editor.panels.push_commands(std::iter::once("# edit".to_string()).chain(commands));
}

thread_local! {
    static SENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sends the document unless a send is under way (which sends again when it ends).
pub fn send(editor: Editor) {
    if SENDING.with(|sending| sending.replace(true)) {
        return;
    }
    spawn_local(async move {
        loop {
            let lab = editor.doc.lab.get_untracked();
            let result = api::put_lab(editor.doc.revision.get_untracked(), &lab).await;
            match result {
                Ok(view) => {
                    // The edit reached the server: a "not saved yet" notice is over.
                    editor.panels.take_back(NoticeKind::NotSavedYet);
                    editor.doc.revision.set(view.revision);
                    if editor.doc.lab.with_untracked(|now| *now == lab) {
                        editor.doc.unsaved.set(false);
                        break;
                    }
                }
                Err(error) => {
                    if api::unreachable(&error) {
                        let text = format!("not saved yet, retrying: {}", error.message);
                        editor.panels.show_notice(NoticeKind::NotSavedYet, text);
                        set_timeout(move || retry(editor), RETRY);
                    }
                    match error.current {
                        Some(current) => conflict(editor, current),
                        None if api::unreachable(&error) => {}
                        None => editor.panels.notify(format!("the edit was not saved: {}", error.message)),
                    }
                    break;
                }
            }
        }
        SENDING.with(|sending| sending.set(false));
    });
}

/// How long to wait before sending again an edit the server did not answer.
const RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends again an edit that could not reach the server, unless it has been saved since
/// (by a later edit) or has become a conflict for the user to resolve.
fn retry(editor: Editor) {
    if editor.doc.unsaved.get_untracked() && editor.doc.conflict.with_untracked(Option::is_none) {
        send(editor);
    }
}

fn conflict(editor: Editor, current: LabView) {
    // The banner says it all; a "not saved" notice from before would only confuse.
    editor.panels.clear_notice();
    editor.doc.conflict.set(Some(EditConflict { theirs: current.lab, revision: current.revision }));
}

/// A document from the server (a snapshot, another browser's edit).
pub fn received(editor: Editor, view: LabView) {
    if view.revision < editor.doc.revision.get_untracked() {
        return;
    }
    let mine = editor.doc.lab.get_untracked();
    if mine == view.lab {
        editor.doc.revision.set(view.revision);
        editor.doc.unsaved.set(false);
        return;
    }
    if editor.doc.unsaved.get_untracked() {
        if view.revision > editor.doc.revision.get_untracked() {
            conflict(editor, view);
        } else {
            // The server has not moved since our edit failed to reach it (we were offline):
            // ours is the newer lab, send it again rather than lose it.
            editor.panels.clear_notice();
            send(editor);
        }
        return;
    }
    editor.doc.revision.set(view.revision);
    editor.doc.history.update_value(|history| history.record(view.lab.clone()));
    show(editor, view.lab);
    editor.doc.unsaved.set(false);
    place_missing(editor);
}

/// Gives the nodes the document has no position for (a file written by hand, an import, a
/// lab from the command line) their place in the layout, as an edit everyone receives:
/// drawn at the origin they would all cover each other.
pub fn place_missing(editor: Editor) {
    let lab = editor.doc.lab.get_untracked();
    if lab.nodes.iter().all(|node| nslab_model::edit::position(node).is_some()) {
        return;
    }
    commit(editor, nslab_model::edit::place_missing(&lab));
}

/// Resolves a conflict: take the other browser's lab, or put this one over it.
pub fn resolve(editor: Editor, keep_mine: bool) {
    let Some(conflict) = editor.doc.conflict.get_untracked() else { return };
    editor.doc.conflict.set(None);
    editor.doc.revision.set(conflict.revision);
    if keep_mine {
        send(editor);
    } else {
        editor.doc.history.update_value(|history| history.record(conflict.theirs.clone()));
        show(editor, conflict.theirs);
        editor.doc.unsaved.set(false);
    }
}
