//! The lab's name in the toolbar, renamed in place: a click (or Enter, F2 on it) makes it a
//! field; Enter keeps the new name, Escape the old one. A name the validator refuses stays
//! in the field, marked, with the validator's sentence under it: nothing changes.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::editor::use_editor;
use crate::intents;

#[component]
pub fn LabName() -> impl IntoView {
    let editor = use_editor();
    let editing = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<String>);
    let field = NodeRef::<leptos::html::Input>::new();
    let shown = NodeRef::<leptos::html::Button>::new();
    let name = move || editor.doc.lab.with(|lab| lab.name.clone());
    let start = move || {
        typed.set(name());
        refusal.set(None);
        editing.set(true);
    };
    // Back to the name shown, with the focus on it, so the keyboard carries on from there;
    // then the rename, if any: its question takes the focus from there, and gives it back.
    let stop = move |rename: Option<String>| {
        editing.set(false);
        refusal.set(None);
        request_animation_frame(move || {
            if let Some(button) = shown.get_untracked() {
                let _ = button.focus();
            }
            if let Some(new) = rename {
                intents::rename_lab(editor, new);
            }
        });
    };
    let keep = move || match intents::check_lab_name(editor, &typed.get_untracked()) {
        Err(message) => refusal.set(Some(message)),
        Ok(new) => stop(new),
    };
    // The field opens with the whole name selected: typing replaces it.
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            request_animation_frame(move || {
                let _ = input.focus();
                input.select();
            });
        }
    });
    let on_field_key = move |event: KeyboardEvent| match event.key().as_str() {
        "Enter" => {
            event.prevent_default();
            keep();
        }
        "Escape" => {
            event.prevent_default();
            stop(None);
        }
        _ => {}
    };
    let on_name_key = move |event: KeyboardEvent| {
        if event.key() == "F2" {
            event.prevent_default();
            start();
        }
    };
    view! {
        <span class="lab-name-control">
            {move || if editing.get() {
                view! {
                    <input
                        id="lab-name-input"
                        class="lab-name"
                        class:invalid=move || refusal.with(Option::is_some)
                        aria-label="the lab's name"
                        aria-invalid=move || if refusal.with(Option::is_some) { "true" } else { "false" }
                        aria-describedby="lab-name-error"
                        node_ref=field
                        value=typed.get_untracked()
                        on:input=move |event| {
                            typed.set(event_target_value(&event));
                            refusal.set(None);
                        }
                        on:keydown=on_field_key
                        // Leaving the field puts the name back, as Escape does: a rename is kept by Enter only.
                        on:blur=move |_| if editing.get_untracked() { stop(None) }
                    />
                }
                .into_any()
            } else {
                view! {
                    <button
                        id="lab-name"
                        class="lab-name"
                        class:held=move || editor.live.applied.get()
                        node_ref=shown
                        title=move || {
                            let held = if editor.live.applied.get() { " (the kernel holds it)" } else { "" };
                            format!("the lab: {}{held}. Click (or F2) to rename it", name())
                        }
                        on:click=move |_| start()
                        on:keydown=on_name_key
                    >
                        {name}
                    </button>
                }
                .into_any()
            }}
            {move || refusal.get().map(|message| view! {
                <span class="lab-name-error" id="lab-name-error" role="alert">{crate::wording::message_view(&message)}</span>
            })}
        </span>
    }
}
