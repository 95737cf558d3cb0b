//! The drill card, under the goals card: the teacher breaks the applied lab with a few
//! faults (in the kernel, never the file), watches the class find them, sees the faults
//! alone, reveals them to everyone, and repairs. Students see how many are left to find.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::{DrillStatus, RevealedFault};
use nslab_model::drill::FaultKind;

use crate::api;
use crate::editor::{use_editor, Editor};

/// The kinds as the card offers them, in words.
const KINDS: [(FaultKind, &str); 7] = [
    (FaultKind::AddressChanged, "an address changed"),
    (FaultKind::RouteDeleted, "a route deleted"),
    (FaultKind::ForwardingOff, "forwarding off"),
    (FaultKind::InterfaceDown, "an interface down"),
    (FaultKind::WrongPrefix, "a wrong prefix length"),
    (FaultKind::MtuLowered, "a lowered MTU"),
    (FaultKind::Impairment, "an impairment dropping everything"),
];

#[component]
pub fn DrillCard() -> impl IntoView {
    let editor = use_editor();
    let problem = RwSignal::new(None::<String>);
    // The faults as only the teacher's page reads them (never sent to other pages).
    let peeked = RwSignal::new(None::<Vec<RevealedFault>>);
    let active = move || editor.live.drill.with(|drill| drill.as_ref().is_some_and(|drill| drill.active));
    view! {
        <details class="corner-card drill-card" id="drill" open=active>
            <summary>{move || summary(editor.live.drill.get())}</summary>
            {move || if active() {
                view! { <RunningDrill problem=problem peeked=peeked /> }.into_any()
            } else {
                view! { <NewDrill problem=problem peeked=peeked /> }.into_any()
            }}
            {move || revealed(editor)}
            {move || problem.get().map(|why| view! { <p class="card-problem" role="alert">{why}</p> })}
        </details>
    }
}

/// "drill: 1 of 3 faults found".
fn summary(drill: Option<DrillStatus>) -> String {
    match drill {
        Some(drill) if drill.active => {
            let faults = if drill.faults == 1 { "fault" } else { "faults" };
            format!("drill: {} of {} {faults} found", drill.fixed, drill.faults)
        }
        _ => "break-it drill".into(),
    }
}

#[component]
fn NewDrill(problem: RwSignal<Option<String>>, peeked: RwSignal<Option<Vec<RevealedFault>>>) -> impl IntoView {
    let editor = use_editor();
    let count = RwSignal::new(3u32);
    let chosen =
        RwSignal::new(KINDS.iter().map(|(kind, _)| *kind).filter(|k| *k != FaultKind::MtuLowered).collect::<Vec<_>>());
    let start = move |_| {
        let kinds = chosen.get_untracked();
        let faults = count.get_untracked();
        spawn_local(async move {
            match api::start_drill(faults, kinds).await {
                Ok(status) => {
                    problem.set(None);
                    peeked.set(None);
                    editor.live.drill.set(Some(status));
                }
                Err(error) => problem.set(Some(error.message)),
            }
        });
    };
    view! {
        <p class="card-note">"Break the applied lab in the kernel (not the file); students find the faults with ping, the explainer and a terminal. What differs from the lab stays hidden until you reveal it."</p>
        <label>"faults "
            <input id="drill-count" type="number" min="1" max="10" prop:value=move || count.get().to_string()
                on:input=move |e| count.set(event_target_value(&e).parse().unwrap_or(1).clamp(1, 10)) />
        </label>
        <fieldset class="drill-kinds">
            <legend>"of the kinds"</legend>
            {KINDS.iter().map(|(kind, words)| {
                let kind = *kind;
                view! {
                    <label>
                        <input type="checkbox" data-kind=format!("{kind:?}")
                            prop:checked=move || chosen.with(|chosen| chosen.contains(&kind))
                            on:change=move |_| chosen.update(|chosen| match chosen.iter().position(|k| *k == kind) {
                                Some(at) => { chosen.remove(at); }
                                None => chosen.push(kind),
                            }) />
                        {*words}
                    </label>
                }
            }).collect_view()}
        </fieldset>
        <div class="card-actions">
            <button id="start-drill" disabled=move || chosen.with(Vec::is_empty) on:click=start>"break the lab"</button>
        </div>
    }
}

#[component]
fn RunningDrill(problem: RwSignal<Option<String>>, peeked: RwSignal<Option<Vec<RevealedFault>>>) -> impl IntoView {
    let editor = use_editor();
    let step = move |which: &'static str| {
        spawn_local(async move {
            match api::end_drill(which).await {
                Ok(status) => {
                    problem.set(None);
                    editor.live.drill.set(Some(status));
                }
                Err(error) => problem.set(Some(error.message)),
            }
        });
    };
    let peek = move |_| {
        spawn_local(async move {
            match api::drill_faults().await {
                Ok(faults) => peeked.set(Some(faults)),
                Err(error) => problem.set(Some(error.message)),
            }
        });
    };
    view! {
        {move || peeked.get().map(|faults| view! {
            <p class="card-note">"Only you see these:"</p>
            {fault_list("drill-peek", faults)}
        })}
        <div class="card-actions">
            <button id="drill-peek-button" title="Show the faults on this page only" on:click=peek>"show me"</button>
            <button id="drill-reveal" title="Show the faults on every page" on:click=move |_| step("reveal")>"reveal"</button>
            <button id="drill-repair" title="Apply the lab again and end the drill" on:click=move |_| step("repair")>"repair"</button>
        </div>
    }
}

/// The faults once revealed to everyone.
fn revealed(editor: Editor) -> Option<AnyView> {
    let faults = editor.live.drill.with(|drill| drill.as_ref().map(|drill| drill.revealed.clone()))?;
    (!faults.is_empty()).then(|| fault_list("drill-revealed", faults).into_any())
}

fn fault_list(id: &'static str, faults: Vec<RevealedFault>) -> impl IntoView {
    view! {
        <ol class="fault-list" id=id>
            {faults.into_iter().map(|fault| view! {
                <li class="fault" class:fixed=fault.fixed title=fault.commands.join("\n")>
                    <span class="goal-mark">{if fault.fixed { "✓" } else { "✗" }}</span>
                    <span>{fault.what}<small class="fault-commands">{fault.commands.join("; ")}</small></span>
                </li>
            }).collect_view()}
        </ol>
    }
}
