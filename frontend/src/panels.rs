//! The side panels: the plan and the run's progress, the teaching view (iproute2
//! commands) and the event log (the ping tool and the reachability matrix have files of
//! their own).

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::OpState;

use crate::api;
use crate::editor::use_editor;
use crate::intents;
use crate::wording::{message_view, place};

#[component]
pub fn PlanPanel(open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    // The commands, and the notes on the kernel that came with them.
    let plan = RwSignal::new(None::<Result<(Vec<String>, Vec<String>), String>>);
    // The pairs the edit starts or stops reaching (the plan preview), when known.
    let changes = RwSignal::new(None::<Vec<nslab_model::reach::Pair>>);
    // Plans are asked for as the document changes and may be answered out of order: only
    // the answer to the latest question is shown.
    let asked = StoredValue::new(0_u64);
    Effect::new(move |_| {
        if open.get() {
            // Reading the revision makes the plan follow edits while the panel is open.
            let _ = editor.doc.revision.get();
            let question = asked.get_value() + 1;
            asked.set_value(question);
            spawn_local(async move {
                let answer = api::plan().await;
                // Gone (the panel was closed meanwhile), or a newer question was asked.
                if asked.try_get_value() != Some(question) {
                    return;
                }
                changes.set(answer.as_ref().ok().and_then(|p| p.reach_changes.clone()));
                let result = answer.map(|p| (p.ops.into_iter().map(|op| op.command).collect(), p.notes)).map_err(|e| {
                    editor.live.conflicts.set(e.conflicts.clone());
                    // Each line names the thing it is about, not its path in the file.
                    let mut message = e.message;
                    editor.doc.lab.with_untracked(|lab| {
                        for conflict in e.conflicts {
                            let at = place(lab, &conflict.path.to_string());
                            message.push_str(&format!("\n{at}: {}", conflict.message));
                        }
                        for problem in e.problems {
                            let at = place(lab, problem.path.as_str());
                            message.push_str(&format!("\n{at}: {}", problem.message));
                        }
                    });
                    message
                });
                if result.is_ok() {
                    editor.live.conflicts.set(Vec::new());
                }
                plan.set(Some(result));
            });
        }
    });
    view! {
        <div class="plan" id="plan-panel">
            <h3>"plan"</h3>
            {move || match plan.get() {
                None => view! { <p class="hint">"Press plan to see what apply would do."</p> }.into_any(),
                Some(Err(message)) => view! { <pre class="problem error">{message_view(&message)}</pre> }.into_any(),
                Some(Ok((commands, notes))) => view! {
                    {notes.into_iter().map(|note| view! { <p class="problem warning note">{message_view(&note)}</p> }).collect_view()}
                    {if commands.is_empty() {
                        view! { <p class="hint">"The kernel already holds this lab: nothing to do."</p> }.into_any()
                    } else {
                        view! { <ol class="commands">{commands.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ol> }.into_any()
                    }}
                }
                .into_any(),
            }}
            <crate::explain_panel::ReachChanges changes=changes />
            <crate::explain_panel::ExplainPanel />
            <RunProgress />
        </div>
    }
}

#[component]
fn RunProgress() -> impl IntoView {
    let editor = use_editor();
    view! {
        {move || {
            let run = editor.run.get();
            (!run.title.is_empty()).then(|| {
                let done = run.steps.iter().filter(|s| s.state == OpState::Done).count();
                let total = run.steps.first().map_or(0, |s| s.total);
                view! {
                    <div class="run" id="run">
                        <h3>{format!("{} {}", run.title, match (run.running, &run.outcome) {
                            (true, _) => "running",
                            (false, Some((false, _))) => "failed",
                            (false, _) => "finished",
                        })}</h3>
                        <progress max=total value=done></progress>
                        {run.outcome.map(|(ok, message)| {
                            let class = if ok { "outcome ok" } else { "outcome error" };
                            view! { <pre class=class>{message_view(&message)}</pre> }
                        })}
                        {move || (!editor.live.conflicts.with(Vec::is_empty)).then(|| view! {
                            <p class="hint">"Marked in purple on the canvas. If these were made for this lab, nslab can take them over:"</p>
                            <button id="adopt" on:click=move |_| intents::adopt_and_apply(editor)>"take them over and apply"</button>
                        })}
                        {run.in_use.map(|(kind, processes)| view! {
                            <p class="hint">{format!(
                                "Still running in the namespaces this {} deletes: {}. nslab can end them (SIGTERM, then SIGKILL) and go on:",
                                run.title,
                                processes.join(", ")
                            )}</p>
                            <button id="end-processes" on:click=move |_| intents::run_ending_processes(editor, kind)>
                                {format!("end them and {}", run.title)}
                            </button>
                        })}
                        <ol class="commands">
                            {run
                                .steps
                                .into_iter()
                                .map(|step| {
                                    let class = format!("step {:?}", step.state).to_lowercase();
                                    view! { <li class=class title=step.error.clone().unwrap_or_default()><code>{step.command}</code></li> }
                                })
                                .collect_view()}
                        </ol>
                    </div>
                }
            })
        }}
    }
}

/// Every edit's and every applied op's iproute2 commands, ready to copy.
#[component]
pub fn TeachingPanel() -> impl IntoView {
    let editor = use_editor();
    view! {
        <div class="teaching" id="teaching">
            <h3>"the same, with iproute2"</h3>
            <div class="row">
                <button class="small" on:click=move |_| intents::copy_commands(editor)>"copy"</button>
                <button class="small" on:click=move |_| editor.panels.commands.set(Vec::new())>"clear"</button>
            </div>
            <pre class="commands">{move || editor.panels.commands.get().join("\n")}</pre>
        </div>
    }
}

#[component]
pub fn LogPanel() -> impl IntoView {
    let editor = use_editor();
    view! {
        <div class="log" id="log">
            <h3>"events"</h3>
            <ol>
                {move || {
                    editor
                        .panels
                        .log
                        .get()
                        .into_iter()
                        .rev()
                        .take(200)
                        .map(|line| view! { <li class=format!("log-line {}", line.kind)>{message_view(&line.text)}</li> })
                        .collect_view()
                }}
            </ol>
        </div>
    }
}
