//! The side panels: the plan and the run's progress, the teaching view (iproute2
//! commands), the ping tool, the reachability matrix and the event log.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::OpState;
use nslab_model::ping::matrix_of;
use nslab_model::Node;

use crate::api;
use crate::describe::host_node_name;
use crate::editor::use_editor;
use crate::intents;
use crate::wording::{message_view, place};

#[component]
pub fn PlanPanel(open: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    // The commands, and the notes on the kernel that came with them.
    let plan = RwSignal::new(None::<Result<(Vec<String>, Vec<String>), String>>);
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
pub fn PingPanel() -> impl IntoView {
    let editor = use_editor();
    let sources = Memo::new(move |_| {
        editor.doc.lab.with(|lab| {
            lab.nodes
                .iter()
                .filter(|n| matches!(n, Node::Namespace(_) | Node::Host(_)))
                .map(|n| n.name().to_string())
                .collect::<Vec<_>>()
        })
    });
    let targets = Memo::new(move |_| {
        editor.doc.lab.with(|lab| {
            let topology = nslab_model::topology::Topology::of(lab);
            topology
                .interfaces
                .iter()
                .filter(|i| !i.addresses.is_empty())
                .map(|i| format!("{}:{}", crate::reach::node_of(lab, i), i.name))
                .collect::<Vec<_>>()
        })
    });
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let start = move |_| intents::start_ping(editor, from.get_untracked(), to.get_untracked(), error);
    let stop = move |_| intents::stop_ping(editor);
    view! {
        <div class="ping" id="ping-panel">
            <h3>"ping"</h3>
            <label class="field">
                <span>"from"</span>
                <select id="ping-from" on:change=move |e| from.set(event_target_value(&e))>
                    <option value="">"choose…"</option>
                    {move || sources.get().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>"to"</span>
                <select id="ping-to" on:change=move |e| to.set(event_target_value(&e))>
                    <option value="">"choose…"</option>
                    {move || targets.get().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
            </label>
            <div class="row">
                <button id="ping-start" on:click=start>"start"</button>
                <button id="ping-stop" on:click=stop>"stop"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="problem error">{e}</p> })}
            <ol class="samples" id="ping-samples">
                {move || {
                    editor.panels.ping.get().map(|(_, samples)| {
                        samples
                            .into_iter()
                            .rev()
                            .take(50)
                            .map(|s| {
                                let text = match (s.rtt_ms, &s.error) {
                                    (Some(rtt), _) => format!("seq {} time {rtt:.3} ms", s.seq),
                                    (None, Some(why)) => format!("seq {} lost: {why}", s.seq),
                                    (None, None) => format!("seq {} lost", s.seq),
                                };
                                let class = if s.rtt_ms.is_some() { "sample ok" } else { "sample lost" };
                                view! { <li class=class>{text}</li> }
                            })
                            .collect_view()
                    })
                }}
            </ol>
        </div>
    }
}

#[component]
pub fn MatrixPanel() -> impl IntoView {
    let editor = use_editor();
    let running = RwSignal::new(false);
    let run = move |_| intents::run_matrix(editor, running);
    let axes = Memo::new(move |_| editor.doc.lab.with(matrix_of));
    view! {
        <div class="matrix" id="matrix-panel">
            <h3>"reachability"</h3>
            <button id="matrix-run" disabled=running on:click=run>"every namespace pings every address"</button>
            <table>
                <thead>
                    <tr>
                        <th></th>
                        {move || axes.get().1.into_iter().map(|t| view! { <th class="target">{t.to_string()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let (sources, targets) = axes.get();
                        sources
                            .into_iter()
                            .map(|source| {
                                // The host's row carries the host node's name, which is what
                                // the path highlighting looks for.
                                let name = match source.name() {
                                    Some(name) => name.to_string(),
                                    None => editor.doc.lab.with_untracked(host_node_name),
                                };
                                let cells = targets
                                    .iter()
                                    .map(|target| {
                                        let target = *target;
                                        let signal = editor.matrix_cell(&source, target);
                                        let cell = move || signal.get();
                                        let class = move || match cell() {
                                            None => "cell unknown",
                                            Some(c) if c.reachable => "cell reachable",
                                            Some(_) => "cell unreachable",
                                        };
                                        let source_name = name.clone();
                                        let pick = move |_| intents::highlight_path(editor, &source_name, target);
                                        view! {
                                            <td class=class on:click=pick title=move || cell().map(|c| c.error.unwrap_or_else(|| c.rtt_ms.map(|r| format!("{r:.2} ms")).unwrap_or_default())).unwrap_or_default()>
                                                {move || match cell() { Some(c) if c.reachable => "✓", Some(_) => "✗", None => "·" }}
                                            </td>
                                        }
                                    })
                                    .collect_view();
                                view! { <tr><th class="source">{name}</th>{cells}</tr> }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
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
