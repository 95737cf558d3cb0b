//! One node on the canvas: a card (see `nslab_model::layout::card`) with the kind's icon,
//! the name, a detail line and one row per interface (name, addresses, state), and a
//! handle to drag a new veth from. It follows its own position signal while dragged.

use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::prelude::*;
use nslab_model::edit::{Point, Selection};
use nslab_model::identity::Netns;
use nslab_model::Node;

use crate::canvas::{capture, start_connecting, world_point, CanvasContext, Drag};
use crate::describe::{end_state, end_state_words, missing_addresses, tooltip, NamespaceState};
use crate::editor::use_editor;
use nslab_model::edit::Card;
use nslab_model::layout::card::{CHAR_WIDTH, LINE, ROW_PADDING};

#[component]
pub fn NodeView(name: String) -> impl IntoView {
    let editor = use_editor();
    let canvas = use_context::<CanvasContext>().expect("inside the canvas");
    let position = editor.position(&name);
    let key = name.clone();
    let entry = Memo::new(move |_| editor.doc.nodes.with(|nodes| nodes.get(&key).cloned()));
    let node = Memo::new(move |_| entry.with(|entry| entry.as_ref().map(|(_, node)| node.clone())));
    let index = Memo::new(move |_| entry.with(|entry| entry.as_ref().map(|(index, _)| *index)));
    let problems = Memo::new(move |_| match index.get() {
        Some(index) => editor.doc.problems_at(&format!("nodes[{index}]")),
        None => Vec::new(),
    });
    let conflicts = Memo::new(move |_| match index.get() {
        Some(index) => editor.live.conflicts_at(&format!("nodes[{index}]")),
        None => Vec::new(),
    });
    let key = name.clone();
    let selected = Memo::new(move |_| editor.view.selection.with(|s| s.nodes.contains(&key)));
    let key = name.clone();
    // How the kernel holds it: a namespace must carry this lab's mark to count as present.
    let standing = Memo::new(move |_| match node.get() {
        Some(Node::Namespace(_)) => {
            let lab = editor.doc.lab_name.get();
            editor
                .live
                .present
                .with(|present| editor.live.missing.with(|missing| NamespaceState::of(&key, &lab, present, missing)))
        }
        Some(Node::Bridge(bridge)) => {
            let netns = bridge.namespace.map_or(Netns::Host, Netns::Named);
            let up = editor.live.links.with(|live| live.get(&(netns, key.clone())).is_some_and(|link| link.up));
            if up {
                NamespaceState::Present
            } else {
                NamespaceState::Absent
            }
        }
        _ => NamespaceState::Present,
    });
    // A veth dragged from another node would connect here if let go now.
    let connect_target = {
        let key = name.clone();
        Memo::new(move |_| canvas.connect_target.with(|target| target.as_deref() == Some(key.as_str())))
    };
    let highlighted = {
        let key = name.clone();
        Memo::new(move |_| editor.view.highlight.with(|h| h.contains(&key)))
    };
    // An explanation's failing hop is drawn red; its current hop's interfaces marked.
    let failing = {
        let key = name.clone();
        Memo::new(move |_| editor.view.failing.with(|f| f.contains(&key)))
    };
    let crossed_here = {
        let key = name.clone();
        Memo::new(move |_| {
            editor
                .view
                .crossed
                .with(|c| c.iter().filter(|(node, _)| *node == key).map(|(_, i)| i.clone()).collect::<Vec<_>>())
        })
    };

    let on_body = {
        let name = name.clone();
        move |event: PointerEvent| {
            if event.button() != 0 {
                return;
            }
            event.stop_propagation();
            capture(&event);
            if event.shift_key() {
                editor.view.selection.update(|s| s.toggle_node(&name));
                return;
            }
            if !editor.view.selection.with_untracked(|s| s.nodes.contains(&name)) {
                editor.view.selection.set(Selection::node(name.clone()));
            }
            let names: Vec<String> = editor.view.selection.with_untracked(|s| s.nodes.iter().cloned().collect());
            let start: Vec<Point> = names.iter().map(|n| editor.position(n).get_untracked()).collect();
            let from = world_point(editor, &canvas.svg, &event);
            canvas.drag.set(Drag::Move { names, from, start, moved: false });
        }
    };
    // Enter or Space on the focused card selects it, as a click does (Shift adds it).
    let on_key = {
        let name = name.clone();
        move |event: KeyboardEvent| {
            if !matches!(event.key().as_str(), "Enter" | " ") {
                return;
            }
            event.prevent_default();
            if event.shift_key() {
                editor.view.selection.update(|s| s.toggle_node(&name));
            } else {
                editor.view.selection.set(Selection::node(name.clone()));
            }
        }
    };
    let on_handle = {
        let name = name.clone();
        move |event: PointerEvent| start_connecting(editor, canvas, name.clone(), &event)
    };

    // A memo: the node changes with each move of it (its position is in the lab), its kind
    // does not.
    let kind = Memo::new(move |_| node.with(|n| n.as_ref().map_or("", |n| n.kind_word())));
    // Double-clicking a namespace (or the host) opens a terminal on it.
    let terminals = crate::terminal_dock::try_use_terminals();
    let on_double_click = {
        let name = name.clone();
        move |_| {
            if let Some(terminals) = terminals.filter(|_| kind.get() != "bridge") {
                terminals.open(&name);
            }
        }
    };
    let key = name.clone();
    let card = Memo::new(move |_| editor.doc.cards.with(|cards| cards.get(&key).cloned()));
    // Where the kernel keeps this node's interfaces.
    let netns = Memo::new(move |_| match node.get() {
        Some(Node::Namespace(namespace)) => Netns::Named(namespace.name),
        Some(Node::Bridge(bridge)) => bridge.namespace.map_or(Netns::Host, Netns::Named),
        _ => Netns::Host,
    });
    // Everything drawn from the card (its size, its rows) is built again when the card
    // changes (an edit of its interfaces), with plain attributes: a reactive attribute per
    // coordinate made thousands of effects at 300 nodes, each to build and to keep.
    let rows = move |card: &Card| {
        let (w, h) = card.half();
        card.rows
            .iter()
            .enumerate()
            .map(|(index, row)| {
                // One memo per row reads the kernel's view of its interface; the dot, the
                // struck-through addresses and the tooltip read those memos (see
                // `Editor::interface`).
                let name = row.name.clone();
                let live = editor.interface(move || Some((netns.get(), name.clone())));
                let wanted = row.addresses.clone();
                let state = Memo::new(move |_| live.with(|live| end_state(live.as_ref(), &wanted)));
                // An address of the lab the kernel's interface lacks (flushed from a shell)
                // is struck through; an interface not there at all says so by its dot.
                let wanted = row.addresses.clone();
                let lacking = Memo::new(move |_| {
                    live.with(|live| {
                        let lacking = live.as_ref().map(|live| missing_addresses(live, &wanted)).unwrap_or_default();
                        lacking.into_iter().map(str::to_string).collect::<Vec<_>>()
                    })
                });
                let lacks = move |address: &str| lacking.with(|lacking| lacking.iter().any(|a| a == address));
                // The row that sums up the rest: no interface name has a space.
                let is_sum = index + 1 == card.rows.len() && row.name.contains(' ');
                let top = row.top - h;
                let baseline = top + LINE - 4.0;
                let first = row.addresses.first().cloned().unwrap_or_default();
                let indent = -w + ROW_PADDING + (row.name.chars().count() + 1) as f64 * CHAR_WIDTH;
                let more: Vec<_> = row.addresses.iter().skip(1).enumerate().map(|(line, address)| {
                    let at = address.clone();
                    view! {
                        <text class="iface-more" class:missing=move || lacks(&at) x=indent y=baseline + (line + 1) as f64 * LINE>
                            {address.clone()}
                        </text>
                    }
                }).collect();
                let first = (!first.is_empty()).then(|| {
                    let at = first.clone();
                    view! { " "<tspan class="address" class:missing=move || lacks(&at)>{first}</tspan> }
                });
                let title = {
                    let (name, addresses) = (row.name.clone(), row.addresses.join(", "));
                    move || match lacking.with(|lacking| lacking.join(", ")) {
                        lacking if lacking.is_empty() => format!("{name} {addresses}: {}", end_state_words(state.get())),
                        lacking => format!("{name} {addresses}: not in the kernel now: {lacking} (re-apply puts it back)"),
                    }
                };
                view! {
                    <g class="iface" class:sum=is_sum data-iface=row.name.clone()
                        class:crossed={
                            let name = row.name.clone();
                            move || highlighted.get() && crossed_here.with(|c| c.contains(&name))
                        }>
                        <title>{title}</title>
                        <circle class=move || format!("state {}", if is_sum { "none" } else { state.get() }) cx=-w + 7.0 cy=top + LINE / 2.0 r=3.0 />
                        <text class="label" x=-w + ROW_PADDING y=baseline>
                            <tspan class="if-name">{row.name.clone()}</tspan>
                            {first}
                        </text>
                        {more}
                    </g>
                }
            })
            .collect::<Vec<_>>()
    };
    let display_name = name.clone();
    // Kinds told apart at a glance: a box for a namespace, a hub for a bridge, a screen for
    // the host (and each card's colour, see svg.css).
    let icon = move || match kind.get() {
        "bridge" => view! {
            <circle r=8.0 /><line x1=-8.0 y1=0.0 x2=8.0 y2=0.0 /><line x1=0.0 y1=-8.0 x2=0.0 y2=8.0 />
        }
        .into_any(),
        "host" => view! { <rect x=-9.0 y=-7.0 width=18.0 height=12.0 rx=2.0 /><line x1=-4.0 y1=8.0 x2=4.0 y2=8.0 /> }
            .into_any(),
        _ => view! { <rect x=-8.0 y=-8.0 width=16.0 height=16.0 rx=3.0 /><rect x=-4.0 y=-4.0 width=8.0 height=8.0 /> }
            .into_any(),
    };
    let on_handle = StoredValue::new(on_handle);
    let card_view = move || {
        let card = card.get()?;
        let (w, h) = card.half();
        let rx = if kind.get() == "bridge" { 14.0 } else { 6.0 };
        Some(view! {
            <rect class="body" x=-w y=-h width=2.0 * w height=2.0 * h rx=rx />
            <line class="rule" x1=-w x2=w y1=-h + 40.0 y2=-h + 40.0 />
            <g class="icon" transform=format!("translate({} {})", -w + 18.0, -h + 20.0)>{icon()}</g>
            <text class="name" x=-w + 36.0 y=-h + 18.0>{display_name.clone()}</text>
            <text class="detail" x=-w + 36.0 y=-h + 34.0>{card.detail.clone()}</text>
            {rows(&card)}
            <circle class="handle" cx=w cy=-h + 20.0 r=7.0 on:pointerdown=move |event| on_handle.with_value(|f| f(event))>
                <title>"Drag to another node to connect them with a veth"</title>
            </circle>
        })
    };
    // What is wrong with it, then how the kernel holds it (for a namespace).
    let tooltip = {
        let name = name.clone();
        move || {
            let wrong = problems.with(|problems| conflicts.with(|conflicts| tooltip(problems, conflicts)));
            let standing = matches!(node.get(), Some(Node::Namespace(_))).then(|| standing.get().words(&name));
            [Some(wrong).filter(|w| !w.is_empty()), standing].into_iter().flatten().collect::<Vec<_>>().join("\n")
        }
    };
    // One class attribute for every state, so one effect rather than one per state.
    let class = move || {
        let standing = standing.get();
        let (error, warning) = problems.with(|p| (p.iter().any(|p| p.is_error()), !p.is_empty()));
        let flags = [
            ("selected", selected.get()),
            ("present", standing == NamespaceState::Present),
            ("taken", matches!(standing, NamespaceState::Taken(_))),
            ("missing", standing == NamespaceState::Missing),
            ("error", error),
            ("warning", warning && !error),
            ("highlighted", highlighted.get()),
            ("failing", highlighted.get() && failing.get()),
            ("connect-target", connect_target.get()),
            ("conflict", !conflicts.with(Vec::is_empty)),
        ];
        let mut class = format!("node {}", kind.get());
        for (flag, _) in flags.iter().filter(|(_, on)| *on) {
            class.push(' ');
            class.push_str(flag);
        }
        class
    };
    view! {
        <g
            class=class
            data-name=name.clone()
            tabindex="0"
            role="button"
            aria-pressed=move || selected.get().to_string()
            on:keydown=on_key
            transform=move || {
                let at = position.get();
                format!("translate({} {})", at.x, at.y)
            }
            on:pointerdown=on_body
            on:dblclick=on_double_click
        >
            <title>{tooltip}</title>
            {card_view}
        </g>
    }
}
