//! The goals card, in a corner of the canvas: an exercise's goals as last checked on the
//! kernel, ticking live as the lab is edited and applied (the server checks them after
//! every change it sees), each with its hint on request. The teacher adds goals here and
//! removes them; both are edits of the lab, undone like any other.

use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::goals::{AddressGoal, ForwardingGoal, Goal, GoalFamily, GoalResult, ReachGoal, RouteGoal};
use nslab_model::Lab;

use crate::api;
use crate::editor::{use_editor, Editor};
use crate::sync;

#[component]
pub fn GoalsCard() -> impl IntoView {
    let editor = use_editor();
    let adding = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    // Opens when a lab with goals arrives (an exercise opened); folded otherwise, and left
    // as the user folded it while the goals stay.
    let card = NodeRef::<leptos::html::Details>::new();
    let has_goals = Memo::new(move |_| editor.doc.lab.with(|lab| !lab.goals.is_empty()));
    Effect::new(move |_| {
        if let (true, Some(card)) = (has_goals.get(), card.get()) {
            card.set_open(true);
        }
    });
    view! {
        <details class="corner-card goals-card" id="goals" node_ref=card>
            <summary>{move || summary(editor)}</summary>
            <ol class="goal-list">{move || rows(editor)}</ol>
            {move || problem.get().map(|why| view! { <p class="card-problem" role="alert">{why}</p> })}
            <div class="card-actions">
                <button id="check-goals" title="Check every goal on the kernel now"
                    disabled=move || editor.doc.lab.with(|lab| lab.goals.is_empty())
                    on:click=move |_| check_now(editor, problem)>"check now"</button>
                <button id="add-goal" on:click=move |_| adding.update(|on| *on = !*on)>
                    {move || if adding.get() { "close" } else { "add a goal" }}
                </button>
            </div>
            {move || adding.get().then(|| view! { <GoalForm adding=adding /> })}
        </details>
    }
}

/// "goals: 2 of 5 met", or how far it got.
fn summary(editor: Editor) -> String {
    let total = editor.doc.lab.with(|lab| lab.goals.len());
    if total == 0 {
        return "goals".into();
    }
    let met =
        editor.doc.lab.with(|lab| results(editor, lab).iter().filter(|r| r.as_ref().is_some_and(|r| r.met)).count());
    format!("goals: {met} of {total} met")
}

/// The result of each goal of `lab`, when the last check was of that goal (the goals may
/// have been edited since).
fn results(editor: Editor, lab: &Lab) -> Vec<Option<GoalResult>> {
    editor.live.goals.with(|checked| {
        lab.goals
            .iter()
            .enumerate()
            .map(|(index, goal)| {
                let result = checked.as_ref()?.checklist.goals.iter().find(|r| r.index == index)?;
                (result.goal == goal.describe()).then(|| result.clone())
            })
            .collect()
    })
}

fn rows(editor: Editor) -> Vec<AnyView> {
    editor.doc.lab.with(|lab| {
        let results = results(editor, lab);
        lab.goals
            .iter()
            .zip(results)
            .enumerate()
            .map(|(index, (goal, result))| row(editor, index, goal, result))
            .collect()
    })
}

fn row(editor: Editor, index: usize, goal: &Goal, result: Option<GoalResult>) -> AnyView {
    let show_hint = RwSignal::new(false);
    let hint = goal.hint().map(str::to_string);
    let (mark, state, label) = match &result {
        Some(result) if result.met => ("✓", "met", "met"),
        Some(_) => ("✗", "unmet", "not met"),
        None => ("…", "unchecked", "not checked yet"),
    };
    let detail = result.map(|result| result.detail).unwrap_or_else(|| "not checked yet".into());
    view! {
        <li class=format!("goal {state}") data-index=index.to_string()>
            <span class="goal-mark" aria-label=label>{mark}</span>
            <span class="goal-text">
                <span class="goal-sentence">{goal.describe()}</span>
                <small class="goal-detail">{detail}</small>
                {hint.clone().map(|hint| view! {
                    <button class="link-button goal-hint-toggle" on:click=move |_| show_hint.update(|on| *on = !*on)>
                        {move || if show_hint.get() { "hide the hint" } else { "hint" }}
                    </button>
                    {move || show_hint.get().then(|| view! { <small class="goal-hint">{hint.clone()}</small> })}
                })}
            </span>
            <button class="goal-remove" title="Remove this goal" aria-label="remove this goal"
                on:click=move |_| remove_goal(editor, index)>"×"</button>
        </li>
    }
    .into_any()
}

fn remove_goal(editor: Editor, index: usize) {
    let mut lab = editor.doc.lab.get_untracked();
    if index < lab.goals.len() {
        lab.goals.remove(index);
        sync::commit(editor, lab);
    }
}

fn check_now(editor: Editor, problem: RwSignal<Option<String>>) {
    spawn_local(async move {
        match api::check_goals().await {
            Ok(event) => {
                problem.set(None);
                editor.live.goals.set(Some(event));
            }
            Err(error) => problem.set(Some(error.message)),
        }
    });
}

/// The kinds of goal, as the form offers them.
const KINDS: [(&str, &str); 5] = [
    ("reach", "reaches"),
    ("no_reach", "does not reach"),
    ("route", "has a route to"),
    ("forwarding", "forwards"),
    ("address", "has an address in"),
];

/// A new goal: its kind, then the fields that kind needs.
#[component]
fn GoalForm(adding: RwSignal<bool>) -> impl IntoView {
    let editor = use_editor();
    let kind = RwSignal::new("reach".to_string());
    let node = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let extra = RwSignal::new(String::new());
    let hint = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let namespaces = move || editor.doc.lab.with(|lab| lab.namespace_names().map(str::to_string).collect::<Vec<_>>());
    let add = move |_| {
        let fields = GoalFields { node: node.get(), target: target.get(), extra: extra.get(), hint: hint.get() };
        match goal_from(&kind.get(), fields) {
            Ok(goal) => {
                let mut lab = editor.doc.lab.get_untracked();
                lab.goals.push(goal);
                sync::commit(editor, lab);
                adding.set(false);
            }
            Err(why) => problem.set(Some(why)),
        }
    };
    let placeholder = move |field: usize| match (kind.get().as_str(), field) {
        ("route", 0) => "default or 10.0.2.0/24",
        ("route", _) => "via (optional)",
        ("forwarding", 0) => "ipv4 or ipv6",
        ("address", 0) => "interface (eth0)",
        ("address", _) => "subnet (10.0.1.0/24)",
        (_, 0) => "address, node or node:interface",
        _ => "",
    };
    let needs_extra = move || matches!(kind.get().as_str(), "route" | "address");
    view! {
        <form class="goal-form" id="goal-form" on:submit=move |e| { e.prevent_default(); add(()) }>
            <label>"node"
                <input id="goal-node" list="goal-nodes" prop:value=node on:input=move |e| node.set(event_target_value(&e)) />
            </label>
            <datalist id="goal-nodes">{move || namespaces().into_iter().map(|name| view! { <option value=name /> }).collect_view()}</datalist>
            <label>"kind"
                <select id="goal-kind" on:change=move |e| kind.set(event_target_value(&e))>
                    {KINDS.iter().map(|(value, words)| view! { <option value=*value>{*words}</option> }).collect_view()}
                </select>
            </label>
            <input id="goal-target" aria-label="what" prop:placeholder=move || placeholder(0) prop:value=target
                on:input=move |e| target.set(event_target_value(&e)) />
            {move || needs_extra().then(|| view! {
                <input id="goal-extra" aria-label="and" prop:placeholder=move || placeholder(1) prop:value=extra
                    on:input=move |e| extra.set(event_target_value(&e)) />
            })}
            <input id="goal-hint" aria-label="hint" placeholder="hint for students (optional)" prop:value=hint
                on:input=move |e| hint.set(event_target_value(&e)) />
            {move || problem.get().map(|why| view! { <p class="card-problem" role="alert">{why}</p> })}
            <button id="goal-save" type="submit">"add"</button>
        </form>
    }
}

struct GoalFields {
    node: String,
    target: String,
    extra: String,
    hint: String,
}

/// The goal the form describes, or what is missing. Whether it names real nodes is for
/// validation to say, at the goal's place, as for any other part of the lab.
fn goal_from(kind: &str, fields: GoalFields) -> Result<Goal, String> {
    let GoalFields { node, target, extra, hint } = fields;
    let (node, target, extra) = (node.trim().to_string(), target.trim().to_string(), extra.trim().to_string());
    let hint = Some(hint.trim().to_string()).filter(|hint| !hint.is_empty());
    if node.is_empty() {
        return Err("say which node the goal is about".into());
    }
    let needs = |what: &str| if target.is_empty() { Err(format!("say {what}")) } else { Ok(()) };
    Ok(match kind {
        "reach" | "no_reach" => {
            needs("what it must reach: an address, a node or node:interface")?;
            let reach = ReachGoal { from: node, to: target, hint };
            if kind == "reach" {
                Goal::Reach(reach)
            } else {
                Goal::NoReach(reach)
            }
        }
        "route" => {
            needs("the route's destination: default or a prefix")?;
            Goal::Route(RouteGoal { node, to: target, via: Some(extra).filter(|via| !via.is_empty()), hint })
        }
        "forwarding" => {
            let family = if target.eq_ignore_ascii_case("ipv6") { GoalFamily::Ipv6 } else { GoalFamily::Ipv4 };
            Goal::Forwarding(ForwardingGoal { node, family, hint })
        }
        _ => {
            needs("the interface")?;
            if extra.is_empty() {
                return Err("say the subnet the address must be in".into());
            }
            Goal::Address(AddressGoal { node, interface: target, subnet: extra, hint })
        }
    })
}
