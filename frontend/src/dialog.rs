//! The editor's confirmations: one in-page dialog, alike for every question (replace a
//! lab the kernel holds, rename it, apply an edit that deletes namespaces, destroy). It
//! names what is concerned, offers a safe "cancel" (focused first: Enter on it, Escape or a
//! click beside the dialog cancel) and a button that names the action. While it is open it
//! takes every key, so no shortcut acts behind it; when it closes the focus goes back to
//! where it was.

use std::cell::RefCell;

use futures::channel::oneshot;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::editor::{use_editor, Editor};
use crate::wording::message_view;

/// What the dialog asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub title: String,
    /// The sentence that says what happens; code between backticks.
    pub sentence: String,
    /// The names of what is concerned, each shown as code.
    pub concerned: Vec<String>,
    /// The action button's label: what it does, as a verb ("replace", "destroy").
    pub action: String,
}

/// The question being asked: where its answer goes, and what had the focus before it.
struct Pending {
    answer: oneshot::Sender<bool>,
    focused: Option<web_sys::HtmlElement>,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Asks `question` in the dialog; true when the user chose the action. A question asked
/// while another is open cancels that one.
pub async fn ask(editor: Editor, question: Question) -> bool {
    let (answer, answered) = oneshot::channel();
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    let earlier = PENDING.with(|pending| pending.replace(Some(Pending { answer, focused })));
    if let Some(earlier) = earlier {
        let _ = earlier.answer.send(false);
    }
    editor.panels.question.set(Some(question));
    answered.await.unwrap_or(false)
}

/// Closes the dialog with the user's answer and gives the focus back.
fn answer(editor: Editor, yes: bool) {
    editor.panels.question.set(None);
    if let Some(pending) = PENDING.with(|pending| pending.borrow_mut().take()) {
        if let Some(element) = pending.focused.filter(|e| e.is_connected()) {
            let _ = element.focus();
        }
        let _ = pending.answer.send(yes);
    }
}

#[component]
pub fn Dialog() -> impl IntoView {
    let editor = use_editor();
    let cancel = NodeRef::<leptos::html::Button>::new();
    // The focus goes into the dialog, on its safe button, as it opens.
    Effect::new(move |_| {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    take_keys(editor);
    view! {
        {move || editor.panels.question.get().map(|question| view! {
            <div class="dialog-backdrop" on:click=move |_| answer(editor, false)>
                <div
                    class="dialog"
                    id="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="dialog-title"
                    aria-describedby="dialog-sentence"
                    on:click=|event| event.stop_propagation()
                >
                    <h2 id="dialog-title">{message_view(&question.title)}</h2>
                    <p id="dialog-sentence">{message_view(&question.sentence)}</p>
                    {(!question.concerned.is_empty()).then(|| view! {
                        <ul class="concerned">
                            {question.concerned.iter().map(|name| view! { <li><code>{name.clone()}</code></li> }).collect_view()}
                        </ul>
                    })}
                    <div class="actions">
                        <button id="dialog-cancel" node_ref=cancel on:click=move |_| answer(editor, false)>"cancel"</button>
                        <button id="dialog-act" class="danger" on:click=move |_| answer(editor, true)>{question.action.clone()}</button>
                    </div>
                </div>
            </div>
        })}
    }
}

/// While a question is open, the dialog has every key first (a capturing listener on the
/// window): Escape cancels, Enter presses the focused button, Tab stays among its buttons,
/// and nothing reaches the shortcuts behind it.
fn take_keys(editor: Editor) {
    let Some(window) = web_sys::window() else { return };
    let on_key = Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |event: web_sys::KeyboardEvent| {
        if editor.panels.question.with_untracked(Option::is_none) {
            return;
        }
        event.stop_propagation();
        match event.key().as_str() {
            "Escape" => {
                event.prevent_default();
                answer(editor, false);
            }
            "Enter" => {
                event.prevent_default();
                if let Some(button) = focused_button() {
                    button.click();
                }
            }
            "Tab" => {
                event.prevent_default();
                move_focus(event.shift_key());
            }
            _ => {}
        }
    });
    let _ = window.add_event_listener_with_callback_and_bool("keydown", on_key.as_ref().unchecked_ref(), true);
    // The dialog lives as long as the page: so does its listener.
    on_key.forget();
}

/// The dialog's buttons, in order.
fn buttons() -> Vec<web_sys::HtmlElement> {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return Vec::new() };
    ["dialog-cancel", "dialog-act"]
        .into_iter()
        .filter_map(|id| document.get_element_by_id(id)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// The dialog's button that has the focus.
fn focused_button() -> Option<web_sys::HtmlElement> {
    let active = web_sys::window()?.document()?.active_element()?;
    buttons().into_iter().find(|button| *button == *active.unchecked_ref::<web_sys::HtmlElement>())
}

/// Moves the focus to the dialog's next button (the previous one `backwards`), round.
fn move_focus(backwards: bool) {
    let all = buttons();
    if all.is_empty() {
        return;
    }
    let now = focused_button().and_then(|focused| all.iter().position(|b| *b == focused));
    let next = match (now, backwards) {
        (Some(i), false) => (i + 1) % all.len(),
        (Some(i), true) => (i + all.len() - 1) % all.len(),
        (None, _) => 0,
    };
    let _ = all[next].focus();
}
