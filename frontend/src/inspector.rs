//! The inspector: the fields of the selected node or link. Typing updates the document at
//! once (so validation speaks as you type); leaving a field (or Enter) records the edit
//! for undo and sends it. Each field shows the problems at its path, in the model's words.

use leptos::prelude::*;
use nslab_model::edit::{self, mtu_from_text, InterfaceChange, NodeChange, Side};
use nslab_model::{Link, Node, Route};

use crate::editor::{use_editor, Editor};
use crate::intents;
use crate::wording::{message_view, node_words};

/// The messages of the problems at `path` (and below it). A `rest` list (a whole node,
/// link or route) leaves out what a field inside it shows: each problem is said once.
#[component]
fn Problems(path: String, #[prop(optional)] rest: bool) -> impl IntoView {
    let editor = use_editor();
    shown_by_the_inspector(editor, path.clone());
    let conflicts = {
        let path = path.clone();
        Memo::new(move |_| editor.live.conflicts_at(&path))
    };
    let problems = {
        let path = path.clone();
        Memo::new(move |_| {
            let mut problems = editor.doc.problems_at(&path);
            if rest {
                problems.retain(|p| !shown_by_a_field_in(editor, &path, p.path.as_str()));
            }
            problems
        })
    };
    view! {
        <ul class="field-problems">
            {move || {
                problems
                    .get()
                    .into_iter()
                    .map(|p| {
                        let class = if p.is_error() { "problem error" } else { "problem warning" };
                        view! { <li class=class data-path=p.path.to_string()>{message_view(&p.message)}</li> }
                    })
                    .collect_view()
            }}
            {move || {
                conflicts.get().into_iter().map(|message| view! { <li class="problem conflict">{message_view(&message)}</li> }).collect_view()
            }}
        </ul>
    }
}

/// Tells the problems list that the inspector shows the problems at `path`, for as long
/// as it does.
fn shown_by_the_inspector(editor: Editor, path: String) {
    editor.panels.inspected.update(|shown| shown.push(path.clone()));
    on_cleanup(move || {
        editor.panels.inspected.try_update(|shown| {
            if let Some(at) = shown.iter().position(|p| *p == path) {
                shown.remove(at);
            }
        });
    });
}

/// Whether a list deeper than `outer` (a field, a route) shows the problem at `problem`.
fn shown_by_a_field_in(editor: Editor, outer: &str, problem: &str) -> bool {
    let outer = nslab_model::DocPath::from(outer);
    let problem = nslab_model::DocPath::from(problem);
    editor.panels.inspected.with(|shown| {
        shown.iter().any(|inner| {
            let inner = nslab_model::DocPath::from(inner.as_str());
            inner != outer && inner.starts_with(&outer) && problem.starts_with(&inner)
        })
    })
}

/// A text field bound to a value of the document. Text the edit refuses (an MTU of `big`,
/// an empty name) stays in the field with the sentence under it, the lab keeps its last
/// value, and Apply waits (see `Document::unreadable`).
#[component]
fn TextField(
    label: &'static str,
    path: String,
    value: Signal<String>,
    on_type: impl Fn(String) -> Result<(), String> + 'static,
    #[prop(optional)] name: &'static str,
) -> impl IntoView {
    let editor = use_editor();
    // The text as typed, while it is refused.
    let draft = RwSignal::new(None::<String>);
    let shown = move || draft.get().unwrap_or_else(|| value.get());
    let key = path.clone();
    on_cleanup(move || editor.doc.unreadable.update(|fields| drop(fields.remove(&key))));
    let key = path.clone();
    let on_input = move |event| {
        let text = event_target_value(&event);
        match on_type(text.clone()) {
            Ok(()) => {
                draft.set(None);
                if editor.doc.unreadable.with_untracked(|fields| fields.contains_key(&key)) {
                    editor.doc.unreadable.update(|fields| drop(fields.remove(&key)));
                }
            }
            Err(message) => {
                draft.set(Some(text));
                editor.doc.unreadable.update(|fields| drop(fields.insert(key.clone(), message)));
            }
        }
    };
    let key = path.clone();
    let refusal = Memo::new(move |_| editor.doc.unreadable.with(|fields| fields.get(&key).cloned()));
    let key = path.clone();
    let invalid =
        Memo::new(move |_| refusal.with(Option::is_some) || editor.doc.problems_at(&key).iter().any(|p| p.is_error()));
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                name=name
                data-path=path.clone()
                class:invalid=invalid
                aria-invalid=move || invalid.get().to_string()
                prop:value=shown
                on:input=on_input
                on:change=move |_| intents::finish_typing(editor)
            />
            {move || refusal.get().map(|m| view! { <ul class="field-problems"><li class="problem error">{message_view(&m)}</li></ul> })}
            <Problems path=path />
        </label>
    }
}

#[component]
fn CheckField(
    label: &'static str,
    value: Signal<bool>,
    on_set: impl Fn(bool) -> Result<(), String> + 'static,
) -> impl IntoView {
    let editor = use_editor();
    view! {
        <label class="check">
            <input
                type="checkbox"
                prop:checked=value
                on:change=move |event| match on_set(event_target_checked(&event)) {
                    Ok(()) => intents::finish_typing(editor),
                    Err(message) => editor.panels.notify(message),
                }
            />
            {label}
        </label>
    }
}

/// What the inspector shows: a node with its place in the document (its fields follow the
/// place, which moves when nodes before it go), a link, or how many things are picked.
#[derive(Debug, Clone, PartialEq)]
enum Picked {
    Nothing,
    Node { name: String, index: usize },
    Link(usize),
    Many(usize),
}

#[component]
pub fn Inspector() -> impl IntoView {
    let editor = use_editor();
    // A memo: typing changes the lab, but the fields are rebuilt only when what is picked,
    // or where it sits, changes.
    let picked = Memo::new(move |_| {
        let selection = editor.view.selection.get();
        match (selection.nodes.first(), selection.links.first(), selection.nodes.len() + selection.links.len()) {
            (_, _, 0) => Picked::Nothing,
            (Some(name), None, 1) => {
                let index = editor.doc.lab.with(|lab| lab.nodes.iter().position(|node| node.name() == name));
                index.map_or(Picked::Nothing, |index| Picked::Node { name: name.clone(), index })
            }
            (None, Some(link), 1) => Picked::Link(*link),
            (_, _, count) => Picked::Many(count),
        }
    });
    view! {
        <div class="inspector">
            {move || match picked.get() {
                Picked::Node { name, index } => view! { <NodeFields name=name index=index /> }.into_any(),
                Picked::Link(index) => view! { <LinkFields index=index /> }.into_any(),
                Picked::Nothing => view! {
                    <p class="hint">
                        "Select a node or a link to edit it. Add namespaces and bridges with the buttons above; drag from a node's round handle to another node to connect them."
                    </p>
                }
                    .into_any(),
                Picked::Many(count) => {
                    view! { <p class="hint">{format!("{count} things selected: Delete removes them.")}</p> }.into_any()
                }
            }}
        </div>
    }
}

#[component]
fn NodeFields(name: String, index: usize) -> impl IntoView {
    let editor = use_editor();
    let path = format!("nodes[{index}]");
    let node = Memo::new(move |_| editor.doc.lab.with(|lab| lab.nodes.get(index).cloned()));
    let draft = RwSignal::new(name.clone());
    let rename_problem = RwSignal::new(None::<String>);
    let rename = {
        let old = name.clone();
        move || {
            let new = draft.get_untracked();
            if new == old {
                return;
            }
            rename_problem.set(intents::rename_node(editor, &old, &new).err());
        }
    };
    let kind = node.get_untracked().map_or("node", |n| n.kind_word());
    let name_path = format!("{path}.name");
    let name_invalid =
        move || rename_problem.with(Option::is_some) || editor.doc.problems_at(&name_path).iter().any(|p| p.is_error());
    let specific = match node.get_untracked() {
        Some(Node::Namespace(_)) => view! { <NamespaceFields index=index name=name.clone() /> }.into_any(),
        Some(Node::Bridge(_)) => view! { <BridgeFields index=index name=name.clone() /> }.into_any(),
        Some(Node::Host(_)) => view! { <p class="hint">"The namespace nslab itself runs in."</p> }.into_any(),
        None => view! { <p></p> }.into_any(),
    };
    view! {
        <h3>{node_words(kind, &name)}</h3>
        {crate::terminal_dock::OpenButton(kind, &name)}
        <label class="field">
            <span>"name"</span>
            <input
                type="text"
                name="node-name"
                data-path=format!("{path}.name")
                class:invalid=name_invalid
                prop:value=draft
                on:input=move |event| draft.set(event_target_value(&event))
                on:change=move |_| rename()
            />
            {move || rename_problem.get().map(|message| view! { <ul class="field-problems"><li class="problem error">{message_view(&message)}</li></ul> })}
            <Problems path=format!("{path}.name") />
        </label>
        {specific}
        <Problems path=path rest=true />
    }
    .into_any()
}

#[component]
fn NamespaceFields(index: usize, name: String) -> impl IntoView {
    let editor = use_editor();
    let namespace = Memo::new(move |_| {
        editor.doc.lab.with(|lab| match lab.nodes.get(index) {
            Some(Node::Namespace(namespace)) => Some(namespace.clone()),
            _ => None,
        })
    });
    let flag = move |pick: fn(&nslab_model::NamespaceNode) -> bool| {
        Signal::derive(move || namespace.get().as_ref().is_some_and(pick))
    };
    let node = StoredValue::new(name.clone());
    let set_flag = move |change: fn(bool) -> NodeChange| {
        move |value: bool| {
            node.with_value(|node| intents::type_edit(editor, |lab| edit::set_node(lab, node, change(value))))
        }
    };
    view! {
        <CheckField label="loopback up" value=flag(|n| n.loopback_up) on_set=set_flag(NodeChange::LoopbackUp) />
        <CheckField label="IPv4 forwarding" value=flag(|n| n.ipv4_forwarding) on_set=set_flag(NodeChange::Ipv4Forwarding) />
        <CheckField label="IPv6 forwarding" value=flag(|n| n.ipv6_forwarding) on_set=set_flag(NodeChange::Ipv6Forwarding) />
        <Routes index=index name=name />
    }
}

/// One change to a node's route list.
type RouteEdit = Box<dyn FnOnce(&mut Vec<Route>)>;

/// Changes the route list of node `name` through the model.
fn edit_routes(editor: Editor, name: &str, change: impl FnOnce(&mut Vec<Route>)) -> Result<(), String> {
    intents::type_edit(editor, |lab| {
        let mut routes = lab.node(name).map(|node| node.routes().to_vec()).unwrap_or_default();
        change(&mut routes);
        edit::set_node(lab, name, NodeChange::Routes(routes))
    })
}

#[component]
fn Routes(index: usize, name: String) -> impl IntoView {
    let editor = use_editor();
    let name = StoredValue::new(name);
    let count = Memo::new(move |_| editor.doc.lab.with(|lab| lab.nodes.get(index).map_or(0, |n| n.routes().len())));
    let change = move |change: RouteEdit| name.with_value(|name| edit_routes(editor, name, change));
    let add = move |_| {
        let added = change(Box::new(|routes| {
            routes.push(Route { to: "default".into(), via: Some(String::new()), dev: None, metric: None })
        }));
        match added {
            Ok(()) => intents::finish_typing(editor),
            Err(message) => editor.panels.notify(message),
        }
    };
    view! {
        <h4>"routes"</h4>
        {move || {
            (0..count.get())
                .map(|route| {
                    let path = format!("nodes[{index}].routes[{route}]");
                    let field = move |pick: fn(&Route) -> String| {
                        Signal::derive(move || {
                            editor.doc.lab.with(|lab| lab.nodes.get(index).and_then(|n| n.routes().get(route)).map(pick).unwrap_or_default())
                        })
                    };
                    let setter = move |apply: fn(&mut Route, String)| {
                        move |text: String| change(Box::new(move |routes| if let Some(r) = routes.get_mut(route) { apply(r, text) }))
                    };
                    let remove = move |_| {
                        let removed = change(Box::new(move |routes| {
                            if route < routes.len() {
                                routes.remove(route);
                            }
                        }));
                        match removed {
                            Ok(()) => intents::finish_typing(editor),
                            Err(message) => editor.panels.notify(message),
                        }
                    };
                    view! {
                        <div class="route">
                            <TextField label="to" path=format!("{path}.to") value=field(|r| r.to.clone()) on_type=setter(|r, t| r.to = t) />
                            <TextField
                                label="via"
                                path=format!("{path}.via")
                                value=field(|r| r.via.clone().unwrap_or_default())
                                on_type=setter(|r, t| r.via = Some(t).filter(|t| !t.is_empty()))
                            />
                            <TextField
                                label="dev"
                                path=format!("{path}.dev")
                                value=field(|r| r.dev.clone().unwrap_or_default())
                                on_type=setter(|r, t| r.dev = Some(t).filter(|t| !t.is_empty()))
                            />
                            <button class="small remove-route" on:click=remove>"remove route"</button>
                            <Problems path=path.clone() rest=true />
                        </div>
                    }
                })
                .collect_view()
        }}
        <button class="small add-route" on:click=add>"add route"</button>
    }
}

#[component]
fn BridgeFields(index: usize, name: String) -> impl IntoView {
    let editor = use_editor();
    let bridge = Memo::new(move |_| {
        editor.doc.lab.with(|lab| match lab.nodes.get(index) {
            Some(Node::Bridge(bridge)) => Some(bridge.clone()),
            _ => None,
        })
    });
    let path = format!("nodes[{index}]");
    let name = StoredValue::new(name);
    let change = move |change: InterfaceChange| {
        name.with_value(|name| intents::type_edit(editor, |lab| edit::set_bridge(lab, name, change)))
    };
    view! {
        <TextField
            label="addresses"
            name="addresses"
            path=format!("{path}.addresses")
            value=Signal::derive(move || bridge.get().map(|b| edit::addresses_to_text(&b.addresses)).unwrap_or_default())
            on_type=move |text| change(InterfaceChange::AddressesText(text))
        />
        <TextField
            label="MTU"
            name="mtu"
            path=format!("{path}.mtu")
            value=Signal::derive(move || bridge.get().and_then(|b| b.mtu).map(|m| m.to_string()).unwrap_or_default())
            on_type=move |text| mtu_from_text(&text).and_then(|mtu| change(InterfaceChange::Mtu(mtu)))
        />
        <CheckField
            label="up"
            value=Signal::derive(move || bridge.get().is_some_and(|b| b.up))
            on_set=move |up| change(InterfaceChange::Up(up))
        />
        <crate::capture_panel::CaptureBridgeButton name=name.get_value() />
    }
}

#[component]
fn LinkFields(index: usize) -> impl IntoView {
    let editor = use_editor();
    let exists = editor.doc.lab.with_untracked(|lab| lab.links.len() > index);
    if !exists {
        return view! { <p class="hint">"This link is gone."</p> }.into_any();
    }
    view! {
        <h3>"veth"</h3>
        <div class="ends">
            <EndFields index=index side=Side::A />
            <EndFields index=index side=Side::B />
        </div>
        <Problems path=format!("links[{index}]") rest=true />
    }
    .into_any()
}

#[component]
fn EndFields(index: usize, side: Side) -> impl IntoView {
    let editor = use_editor();
    let path = format!("links[{index}].{}", side.field());
    let end = Memo::new(move |_| {
        editor.doc.lab.with(|lab| {
            lab.links.get(index).map(|Link::Veth(veth)| if side == Side::A { veth.a.clone() } else { veth.b.clone() })
        })
    });
    // Through the model: a renamed interface renames the routes through it, and an empty or
    // taken name is refused.
    let change =
        move |change: InterfaceChange| intents::type_edit(editor, |lab| edit::set_interface(lab, index, side, change));
    let text = move |pick: fn(&nslab_model::Endpoint) -> String| {
        Signal::derive(move || end.get().as_ref().map(pick).unwrap_or_default())
    };
    view! {
        <fieldset class="end" data-side=side.field()>
            <legend>{move || end.get().map(|e| format!("on {}", e.node)).unwrap_or_default()}</legend>
            <TextField
                label="interface"
                name="interface"
                path=format!("{path}.name")
                value=text(|e| e.name.clone())
                on_type=move |t| change(InterfaceChange::Name(t))
            />
            <TextField
                label="addresses"
                name="addresses"
                path=format!("{path}.addresses")
                value=text(|e| edit::addresses_to_text(&e.addresses))
                on_type=move |t| change(InterfaceChange::AddressesText(t))
            />
            <TextField
                label="MTU"
                name="mtu"
                path=format!("{path}.mtu")
                value=text(|e| e.mtu.map(|m| m.to_string()).unwrap_or_default())
                on_type=move |t| mtu_from_text(&t).and_then(|mtu| change(InterfaceChange::Mtu(mtu)))
            />
            <TextField
                label="MAC"
                name="mac"
                path=format!("{path}.mac")
                value=text(|e| e.mac.clone().unwrap_or_default())
                on_type=move |t| change(InterfaceChange::Mac(t))
            />
            <CheckField label="up" value=Signal::derive(move || end.get().is_some_and(|e| e.up)) on_set=move |up| change(InterfaceChange::Up(up)) />
            <crate::capture_panel::CaptureEndButton index=index side=side />
        </fieldset>
    }
}
