//! "why?": the explanation of a ping from a node to an address, the request and the reply
//! hop by hop. Stepping through the hops draws the current one on the canvas (the
//! namespaces, interfaces and veths it crosses), the failing hop in red with its reason and
//! fix; one click makes the fix an undoable edit of the lab, which the user then applies.
//!
//! When the lab is applied the explanation comes from the server, which reads the kernel
//! (`POST /api/explain`); otherwise (or offline, or with a token that may only watch) the
//! browser predicts it from the lab (`nslab_model::reach::explain`).

use std::net::IpAddr;

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::ExplainView;
use nslab_model::reach::{explain, Direction, Explanation, Finding, Hop, LabFix};

use crate::editor::{use_editor, Editor};
use crate::wording::{counted, message_view};

/// The explanation shown and the hop the canvas shows, shared by the matrix and ping tabs.
#[derive(Clone, Copy)]
pub struct Explaining {
    pub shown: RwSignal<Option<Shown>>,
    /// The index of the current step in `steps(explanation)`.
    pub step: RwSignal<usize>,
}

impl Explaining {
    pub fn new() -> Self {
        Explaining { shown: RwSignal::new(None), step: RwSignal::new(0) }
    }
}

/// An explanation and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub explanation: Explanation,
    /// Read from the kernel, not predicted from the lab.
    pub live: bool,
    /// What the kernel holds on the way that the prediction cannot see.
    pub unseen: Vec<String>,
    /// Said of where it comes from: why it is not live although the lab is applied, or
    /// that a fix was made in the lab and waits for apply.
    pub note: Option<String>,
}

/// One step of the step-through: a hop of the request or of the reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub direction: Direction,
    /// The hop's index in its direction's list.
    pub index: usize,
    pub hop: Hop,
}

/// The request's hops, then the reply's.
pub fn steps(explanation: &Explanation) -> Vec<Step> {
    let request = explanation.request.iter().enumerate().map(|(index, hop)| Step {
        direction: Direction::Request,
        index,
        hop: hop.clone(),
    });
    let reply = explanation.reply.iter().enumerate().map(|(index, hop)| Step {
        direction: Direction::Reply,
        index,
        hop: hop.clone(),
    });
    request.chain(reply).collect()
}

/// The step the explanation opens at: the failing hop, else the first.
pub fn first_step(explanation: &Explanation) -> usize {
    let Some(failure) = &explanation.failure else { return 0 };
    steps(explanation).iter().position(|step| is_failing(step, failure)).unwrap_or(0)
}

fn is_failing(step: &Step, failure: &Finding) -> bool {
    step.direction == failure.direction && step.index == failure.hop
}

/// The nodes a hop goes through on the canvas, in order: its namespace, then the nodes of
/// the interfaces it crosses (a veth's far end, a bridge), each once in a row. Two nodes
/// that follow each other are joined by a veth the hop crosses.
pub fn hop_nodes(hop: &Hop) -> Vec<String> {
    let mut nodes = vec![hop.namespace.clone()];
    for crossing in &hop.crossed {
        if nodes.last() != Some(&crossing.node) {
            nodes.push(crossing.node.clone());
        }
    }
    nodes
}

/// The interfaces a hop crosses, as (node drawn on, interface).
pub fn hop_interfaces(hop: &Hop) -> Vec<(String, String)> {
    let mut interfaces: Vec<(String, String)> =
        hop.crossed.iter().map(|crossing| (crossing.node.clone(), crossing.interface.clone())).collect();
    if let Some(out) = hop.out.as_ref().filter(|_| hop.crossed.is_empty()) {
        interfaces.push((hop.namespace.clone(), out.clone()));
    }
    interfaces
}

/// A hop in words: `left: out of l-eth0 to 10.0.1.1 (default via 10.0.1.1 dev l-eth0)`.
pub fn hop_words(hop: &Hop) -> String {
    if hop.delivered {
        return format!("{}: delivered", hop.namespace);
    }
    let mut words = hop.namespace.clone();
    match (&hop.out, hop.next_hop) {
        (Some(out), Some(next)) => words.push_str(&format!(": out of {out} to {next}")),
        (Some(out), None) => words.push_str(&format!(": out of {out}")),
        _ => words.push_str(": stops here"),
    }
    if let Some(route) = &hop.route {
        words.push_str(&format!(" (route `{route}`)"));
    }
    words
}

/// Draws step `index` of the explanation shown on the canvas (nothing shown: clears it).
fn draw_step(editor: Editor, index: usize) {
    let shown = editor.panels.explaining.shown.get_untracked();
    let Some(shown) = shown else {
        editor.view.highlight.set(Vec::new());
        editor.view.crossed.set(Vec::new());
        editor.view.failing.set(Vec::new());
        return;
    };
    let all = steps(&shown.explanation);
    let Some(step) = all.get(index) else { return };
    let failing = shown.explanation.failure.as_ref().is_some_and(|failure| is_failing(step, failure));
    let nodes = hop_nodes(&step.hop);
    editor.view.failing.set(if failing { nodes.clone() } else { Vec::new() });
    editor.view.crossed.set(hop_interfaces(&step.hop));
    editor.view.highlight.set(nodes);
}

/// Shows an explanation, at its failing hop (or its first).
pub fn show(editor: Editor, shown: Shown) {
    let first = first_step(&shown.explanation);
    editor.panels.explaining.shown.set(Some(shown));
    editor.panels.explaining.step.set(first);
    draw_step(editor, first);
}

/// "why?" on a pair: from the kernel when the lab is applied (and the kernel has every
/// edit), else from the lab.
pub fn explain_pair(editor: Editor, from: String, to: IpAddr) {
    let applied = editor.live.applied.get_untracked();
    if !applied || editor.doc.unsaved.get_untracked() {
        let note = applied.then(|| "Predicted from the lab: it has edits the server has not taken yet.".to_string());
        show_predicted(editor, &from, to, note);
        return;
    }
    spawn_local(async move {
        let request = nslab_model::api::ExplainRequest { from: from.clone(), to: to.to_string() };
        match crate::api::explain(&request).await {
            Ok(ExplainView { explanation, live, unseen }) => {
                show(editor, Shown { explanation, live, unseen, note: None });
            }
            Err(error) => {
                let note = format!("Predicted from the lab: the kernel could not be read ({}).", error.message);
                show_predicted(editor, &from, to, Some(note));
            }
        }
    });
}

/// Shows the lab's prediction for a pair.
pub fn show_predicted(editor: Editor, from: &str, to: IpAddr, note: Option<String>) {
    let result = editor.doc.lab.with_untracked(|lab| explain(lab, from, to));
    match result {
        Ok(explanation) => show(editor, Shown { explanation, live: false, unseen: Vec::new(), note }),
        Err(why) => editor.panels.notify(format!("cannot explain {from} → {to}: {why}")),
    }
}

/// Makes the fix an edit of the lab (one undo step), then explains the pair again from
/// the lab as fixed: the kernel follows when the user applies.
fn apply_fix(editor: Editor, fix: LabFix) {
    let Some(shown) = editor.panels.explaining.shown.get_untracked() else { return };
    let fixed = editor.doc.lab.with_untracked(|lab| fix.apply(lab));
    match fixed {
        Ok(lab) => {
            crate::sync::commit(editor, lab);
            let note = editor
                .live
                .applied
                .get_untracked()
                .then(|| "The fix is in the lab: apply to make the kernel follow.".to_string());
            let Explanation { from, to, .. } = shown.explanation;
            show_predicted(editor, &from, to, note);
        }
        Err(why) => editor.panels.notify(format!("the fix was not made: {why}")),
    }
}

/// Closes the explanation and takes its drawing off the canvas.
fn close(editor: Editor) {
    editor.panels.explaining.shown.set(None);
    draw_step(editor, 0);
}

/// The explanation shown, if any: verdict, hops with a step-through, the failure with its
/// reason and fix, warnings, drift, and what the prediction cannot see.
#[component]
pub fn ExplainPanel() -> impl IntoView {
    let editor = use_editor();
    let explaining = editor.panels.explaining;
    move || {
        let shown = explaining.shown.get()?;
        let all = steps(&shown.explanation);
        let count = all.len();
        let go = move |by: isize| {
            let now = explaining.step.get_untracked() as isize;
            let next = (now + by).clamp(0, count.saturating_sub(1) as isize) as usize;
            explaining.step.set(next);
            draw_step(editor, next);
        };
        let explanation = shown.explanation.clone();
        let verdict = if explanation.reach { "would be answered" } else { "would not be answered" };
        let whence = if shown.live { "as the kernel holds the lab now" } else { "as the lab says" };
        let failure = explanation.failure.clone();
        let hops = all
            .into_iter()
            .enumerate()
            .map(|(index, step)| {
                let failing = failure.as_ref().is_some_and(|failure| is_failing(&step, failure));
                let class = move || {
                    let mut class = String::from("hop");
                    if explaining.step.get() == index {
                        class.push_str(" current");
                    }
                    if failing {
                        class.push_str(" failing");
                    }
                    class
                };
                let direction = match step.direction {
                    Direction::Request => "request",
                    Direction::Reply => "reply",
                };
                let pick = move |_| {
                    explaining.step.set(index);
                    draw_step(editor, index);
                };
                view! {
                    <li class=class data-step=index on:click=pick>
                        <span class="direction">{direction}</span>" "{message_view(&hop_words(&step.hop))}
                    </li>
                }
            })
            .collect_view();
        let position = move || format!("hop {} of {count}", explaining.step.get() + 1);
        Some(view! {
            <section class="explain" id="explain-panel" aria-live="polite">
                <h4>
                    <span id="explain-pair">{format!("why? {} → {}", explanation.from, explanation.to)}</span>
                    <button class="small" id="explain-close" on:click=move |_| close(editor)>"close"</button>
                </h4>
                <p class=if explanation.reach { "verdict reaches" } else { "verdict fails" } id="explain-verdict">
                    {format!("The ping {verdict}, {whence}.")}
                </p>
                {shown.note.clone().map(|note| view! { <p class="hint" id="explain-note">{note}</p> })}
                <ol class="hops" id="explain-hops">{hops}</ol>
                <div class="row step-through">
                    <button class="small" id="explain-previous" on:click=move |_| go(-1)
                        disabled=move || { explaining.step.get() == 0 }>"previous hop"</button>
                    <span id="explain-step">{position}</span>
                    <button class="small" id="explain-next" on:click=move |_| go(1)
                        disabled=move || { explaining.step.get() + 1 >= count }>"next hop"</button>
                </div>
                {failure.map(|failure| finding_view(editor, failure, "explain-failure"))}
                {explanation.warnings.into_iter().map(|warning| finding_view(editor, warning, "")).collect_view()}
                {(!explanation.drift.is_empty()).then(|| view! {
                    <div class="drift-list" id="explain-drift">
                        <p>{format!("The kernel differs from the lab ({}):", counted(explanation.drift.len(), "difference", "differences"))}</p>
                        <ul>{explanation.drift.into_iter().map(|drift| {
                            let place = match drift.interface {
                                Some(interface) => format!("{} {interface}", drift.namespace),
                                None => drift.namespace,
                            };
                            view! { <li><code>{place}</code>": "{message_view(&drift.message)}</li> }
                        }).collect_view()}</ul>
                    </div>
                })}
                {(!explanation.limits.is_empty()).then(|| view! {
                    <div class="limit-list" id="explain-limits">
                        <p>"The kernel may choose otherwise here (a limit of the prediction):"</p>
                        <ul>{explanation.limits.into_iter().map(|limit| view! {
                            <li data-limit=limit_id(limit.kind)>{message_view(&limit.message)}</li>
                        }).collect_view()}</ul>
                    </div>
                })}
                <Disagreement shown=shown.clone() />
                <Unseen unseen=shown.unseen.clone() />
            </section>
        })
    }
}

/// A failure (or a warning): where, why in words, and its fix with a button that makes it.
fn finding_view(editor: Editor, finding: Finding, id: &'static str) -> impl IntoView {
    let (class, title) = match id.is_empty() {
        true => ("finding warning", "warning"),
        false => ("finding failure", "stops"),
    };
    let direction = match finding.direction {
        Direction::Request => "request",
        Direction::Reply => "reply",
    };
    let fix = finding.fix.map(|fix| {
        let button = fix.edit.map(|edit| {
            let edit = StoredValue::new(edit);
            view! {
                <button id=(!id.is_empty()).then_some("explain-apply-fix")
                    on:click=move |_| apply_fix(editor, edit.get_value())>
                    "make this fix in the lab"
                </button>
            }
        });
        view! {
            <div class="fix">
                <p class="fix-description" id=(!id.is_empty()).then_some("explain-fix")>"fix: "{message_view(&fix.description)}</p>
                <pre><code class="fix-command">{fix.command}</code></pre>
                {button}
            </div>
        }
    });
    view! {
        <div class=class id=(!id.is_empty()).then_some(id)>
            <p>
                <strong>{format!("{title} at {direction} hop {} (", finding.hop + 1)}<code>{finding.namespace}</code>"): "</strong>
                <span class="reason" data-reason=finding.reason.id()>{message_view(&finding.message)}</span>
            </p>
            {fix}
        </div>
    }
}

/// What the prediction cannot see: said always, with what the kernel holds on the way.
#[component]
fn Unseen(unseen: Vec<String>) -> impl IntoView {
    view! {
        <details class="unseen" id="explain-unseen">
            <summary>"what this cannot see"</summary>
            <p>
                "Firewall rules, "<code>"rp_filter"</code>", policy routing and other settings a lab cannot say. "
                "When a real ping disagrees with this, one of them (or the kernel differing from the lab) is the likely cause."
            </p>
            {(!unseen.is_empty()).then(|| view! {
                <p>"Held in the kernel on the way:"</p>
                <ul>{unseen.into_iter().map(|line| view! { <li><code>{line}</code></li> }).collect_view()}</ul>
            })}
        </details>
    }
}

/// When the live matrix found the opposite of this explanation for the pair: the likely
/// cause, as far as nslab can tell.
#[component]
fn Disagreement(shown: Shown) -> impl IntoView {
    let editor = use_editor();
    let Explanation { from, to, reach, .. } = shown.explanation.clone();
    let source = editor.doc.lab.with_untracked(|lab| nslab_model::ping::source_of(lab, &from).ok());
    let reading = source.map(|netns| editor.matrix_cell(&netns, to));
    move || {
        let live_reach = reading?.with(|reading| reading.as_ref().map(|reading| reading.cell.reachable))?;
        (live_reach != reach).then(|| {
            let found = if live_reach { "was answered" } else { "was not answered" };
            view! {
                <p class="disagreement" id="explain-disagreement" role="status">
                    {format!("The live matrix's ping {found}. Likely cause: {}", likely_cause(&shown))}
                </p>
            }
        })
    }
}

/// A limit's identifier in JSON (`two_routes_one_prefix`).
fn limit_id(kind: nslab_model::reach::LimitKind) -> String {
    serde_json::to_value(kind).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default()
}

/// Why a real ping may disagree with an explanation.
pub fn likely_cause(shown: &Shown) -> String {
    if let Some(limit) = shown.explanation.limits.first() {
        return format!("a limit of the prediction met on the way: {}", limit.message);
    }
    if !shown.explanation.drift.is_empty() {
        return "the kernel differs from the lab (listed below); apply to make it follow.".to_string();
    }
    if !shown.live {
        return "the kernel may differ from the lab (apply), or it holds what a lab cannot say: firewall rules, `rp_filter`, other sysctls.".to_string();
    }
    match shown.unseen.is_empty() {
        true => "what a lab cannot say, such as firewall rules (nslab reads none).".to_string(),
        false => format!("what a lab cannot say, held on the way: {}.", shown.unseen.join("; ")),
    }
}

/// The plan preview: the pairs applying the edit starts or stops reaching, predicted from
/// the lab as last applied and the lab now (the server works them out with the plan).
#[component]
pub fn ReachChanges(changes: RwSignal<Option<Vec<nslab_model::reach::Pair>>>) -> impl IntoView {
    let editor = use_editor();
    move || {
        let changes = changes.get()?;
        if changes.is_empty() {
            return Some(
                view! { <p class="hint" id="reach-changes">"Reachability: no pair starts or stops reaching."</p> }
                    .into_any(),
            );
        }
        let (stopping, starting): (Vec<_>, Vec<_>) = changes.into_iter().partition(|pair| !pair.reach);
        let list = move |pairs: Vec<nslab_model::reach::Pair>, class: &'static str, mark: &'static str| {
            pairs
                .into_iter()
                .map(|pair| {
                    let (from, to) = (pair.from.clone(), pair.to);
                    // The edited lab's prediction: the kernel still holds the lab before the edit.
                    let why = move |_| show_predicted(editor, &from, to, None);
                    view! {
                        <li class=class>
                            {mark}" "<code>{pair.from}</code>" → "<code>{pair.to.to_string()}</code>" "
                            <button class="small" on:click=why>"why?"</button>
                        </li>
                    }
                })
                .collect_view()
        };
        let heading = |count: usize, verb: &str| format!("{} {verb}:", counted(count, "pair", "pairs"));
        Some(
            view! {
                <div class="reach-changes" id="reach-changes">
                    <h4>"reachability after apply"</h4>
                    {(!stopping.is_empty()).then(|| view! {
                        <p>{heading(stopping.len(), "will stop reaching")}</p>
                        <ul class="stopping">{list(stopping, "pair stops", "✗")}</ul>
                    })}
                    {(!starting.is_empty()).then(|| view! {
                        <p>{heading(starting.len(), "will start reaching")}</p>
                        <ul class="starting">{list(starting, "pair starts", "✓")}</ul>
                    })}
                </div>
            }
            .into_any(),
        )
    }
}
