//! The page: loads the lab from the server and shows it.

use leptos::prelude::*;

use crate::api::fetch_lab;
use crate::lab_overview::LabOverview;

#[component]
pub fn App() -> impl IntoView {
    let lab = LocalResource::new(fetch_lab);
    view! {
        <header>
            <h1>"nslab"</h1>
            {move || lab.get().and_then(Result::ok).map(|view| view! {
                <span class="lab-name">{view.lab.name.clone()}</span>
                <span class="muted">{view.lab.description.clone()}</span>
            })}
        </header>
        {move || match lab.get() {
            None => view! { <p class="status">"Loading the lab…"</p> }.into_any(),
            Some(Err(message)) => view! { <p class="status problem error">{message}</p> }.into_any(),
            Some(Ok(view)) => view! { <LabOverview view=view /> }.into_any(),
        }}
    }
}
