//! One node on the canvas: a namespace or host box, or a bridge hub, with a handle to
//! drag a new veth from. It follows its own position signal while dragged.

use leptos::ev::PointerEvent;
use leptos::prelude::*;
use nslab_model::edit::{Point, Selection};
use nslab_model::identity::Netns;
use nslab_model::Node;

use crate::canvas::{capture, start_connecting, world_point, CanvasContext, Drag};
use crate::describe::{node_detail, tooltip};
use crate::editor::use_editor;
use crate::geometry::half_size;

#[component]
pub fn NodeView(name: String) -> impl IntoView {
    let editor = use_editor();
    let canvas = use_context::<CanvasContext>().expect("inside the canvas");
    let position = editor.position(&name);
    let key = name.clone();
    let node = Memo::new(move |_| editor.doc.lab.with(|lab| lab.node(&key).cloned()));
    let key = name.clone();
    let index = Memo::new(move |_| editor.doc.lab.with(|lab| lab.nodes.iter().position(|n| n.name() == key)));
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
    let present = Memo::new(move |_| match node.get() {
        Some(Node::Namespace(_)) => editor.live.present.with(|p| p.contains(&Netns::Named(key.clone()))),
        Some(Node::Bridge(bridge)) => {
            let netns = bridge.namespace.map_or(Netns::Host, Netns::Named);
            editor.live.links.with(|live| live.get(&(netns, key.clone())).is_some_and(|link| link.up))
        }
        _ => true,
    });
    let highlighted = {
        let key = name.clone();
        Memo::new(move |_| editor.view.highlight.with(|h| h.contains(&key)))
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
    let on_handle = {
        let name = name.clone();
        move |event: PointerEvent| start_connecting(editor, canvas, name.clone(), &event)
    };

    let kind = move || node.get().map_or("", |n| n.kind_word());
    let (w, h) = node.get_untracked().as_ref().map_or((70.0, 32.0), half_size);
    let detail = move || node.get().map(|node| node_detail(&node)).unwrap_or_default();
    let tooltip = move || problems.with(|problems| conflicts.with(|conflicts| tooltip(problems, conflicts)));
    let display_name = name.clone();
    view! {
        <g
            class=move || format!("node {}", kind())
            class:selected=selected
            class:present=present
            class:error=move || problems.with(|p| p.iter().any(|p| p.is_error()))
            class:warning=move || problems.with(|p| !p.is_empty() && p.iter().all(|p| !p.is_error()))
            class:highlighted=highlighted
            class:conflict=move || !conflicts.with(Vec::is_empty)
            data-name=name.clone()
            transform=move || {
                let at = position.get();
                format!("translate({} {})", at.x, at.y)
            }
            on:pointerdown=on_body
        >
            <title>{tooltip}</title>
            <rect class="body" x=-w y=-h width=2.0 * w height=2.0 * h rx=move || if kind() == "bridge" { h } else { 8.0 } />
            <text class="name" y={if h > 20.0 { -6.0 } else { 5.0 }} text-anchor="middle">{display_name}</text>
            <text class="detail" y={if h > 20.0 { 14.0 } else { h + 14.0 }} text-anchor="middle">{detail}</text>
            <circle class="handle" cx=w cy=0.0 r=7.0 on:pointerdown=on_handle>
                <title>"Drag to another node to connect them with a veth"</title>
            </circle>
        </g>
    }
}
