//! One veth on the canvas: a line between its nodes, each end labelled with its interface
//! name and first address, coloured by what the kernel says of it, with its traffic rate.

use leptos::ev::PointerEvent;
use leptos::prelude::*;
use nslab_model::Link;

use crate::canvas::{start_connecting, CanvasContext};
use crate::describe::{end_state, end_state_words, link_state, tooltip};
use crate::editor::use_editor;
use crate::geometry::{along, border_point, end_label_at, half_size, rate, towards};

/// How far outside its node's box a port is drawn.
const PORT_OFFSET: f64 = 6.0;

#[component]
pub fn LinkView(index: usize) -> impl IntoView {
    let editor = use_editor();
    let link = Memo::new(move |_| editor.doc.lab.with(|lab| lab.links.get(index).cloned()));
    let ends = Memo::new(move |_| editor.doc.link_places.with(|places| places.get(index).cloned().flatten()));
    let sizes = Memo::new(move |_| {
        editor.doc.lab.with(|lab| {
            let link = lab.links.get(index)?;
            let [a, b] = link.ends();
            Some((half_size(lab.node(&a.node)?), half_size(lab.node(&b.node)?)))
        })
    });
    let names = link.get_untracked().map(|Link::Veth(veth)| (veth.a.node.clone(), veth.b.node.clone()));
    let (a_node, b_node) = names.unwrap_or_default();
    let (a_at, b_at) = (editor.position(&a_node), editor.position(&b_node));
    // Worked out once per move of either node; a score of attributes read it.
    let geometry = Memo::new(move |_| {
        let (a, b) = (a_at.get(), b_at.get());
        let ((ha, hb), (a_size, b_size)) = ((a, b), sizes.get().unwrap_or(((70.0, 32.0), (70.0, 32.0))));
        (border_point(ha, a_size, hb), border_point(hb, b_size, ha))
    });
    let states = move || {
        let Some([a, b]) = ends.get() else { return ("absent", "absent") };
        editor.live.links.with(|live| {
            (end_state(live.get(&(a.netns.clone(), a.name.clone()))), end_state(live.get(&(b.netns, b.name))))
        })
    };
    let class = move || {
        let (a, b) = states();
        format!("link {}", link_state(a, b))
    };
    let problems = Memo::new(move |_| editor.doc.problems_at(&format!("links[{index}]")));
    let conflicts = Memo::new(move |_| editor.live.conflicts_at(&format!("links[{index}]")));
    let selected = Memo::new(move |_| editor.view.selection.with(|s| s.links.contains(&index)));
    let highlighted = {
        let (a, b) = (a_node.clone(), b_node.clone());
        Memo::new(move |_| editor.view.highlight.with(|path| crate::reach::joins_steps(path, &a, &b)))
    };
    let traffic = move || {
        let [a, _] = ends.get()?;
        let counters = editor.live.counters.with(|c| c.get(&(a.netns, a.name)).cloned())?;
        let moving = counters.rx_bytes_per_second + counters.tx_bytes_per_second;
        (moving > 0.0)
            .then(|| format!("{} / {}", rate(counters.tx_bytes_per_second), rate(counters.rx_bytes_per_second)))
    };
    let label = move |side: usize| {
        link.get().map(|Link::Veth(veth)| {
            let end = if side == 0 { veth.a } else { veth.b };
            match end.addresses.first() {
                Some(address) => format!("{} {address}", end.name),
                None => end.name,
            }
        })
    };
    // Where an end's label sits and which way it runs from there.
    let label_at = move |side: usize| {
        let (a, b) = geometry.get();
        let (this, other) = if side == 0 { (a, b) } else { (b, a) };
        end_label_at(this, other, side)
    };
    let on_down = move |event: PointerEvent| {
        if event.button() != 0 {
            return;
        }
        event.stop_propagation();
        editor.view.selection.update(|selection| {
            if !event.shift_key() {
                *selection = Default::default();
            }
            selection.toggle_link(index);
        });
    };
    // A port starts a new veth from its node, like the node's handle does.
    let canvas = use_context::<CanvasContext>().expect("inside the canvas");
    let port_drag = move |side: usize| {
        let node = if side == 0 { a_node.clone() } else { b_node.clone() };
        move |event: PointerEvent| start_connecting(editor, canvas, node.clone(), &event)
    };
    // Ports sit just outside the box (links are drawn under the nodes).
    let port_at = move |side: usize| {
        let (a, b) = geometry.get();
        if side == 0 {
            towards(a, b, PORT_OFFSET)
        } else {
            towards(b, a, PORT_OFFSET)
        }
    };
    let port_class = move |side: usize| {
        move || {
            let (a, b) = states();
            format!("port {}", if side == 0 { a } else { b })
        }
    };
    let port_title = move |side: usize| {
        move || {
            let state = if side == 0 { states().0 } else { states().1 };
            let name = label(side).unwrap_or_default();
            format!("{name}: {}. Drag to connect this node to another.", end_state_words(state))
        }
    };
    let tooltip = move || problems.with(|problems| conflicts.with(|conflicts| tooltip(problems, conflicts)));
    let middle = move || {
        let (a, b) = geometry.get();
        along(a, b, 0.5)
    };
    view! {
        <g
            class=class
            class:selected=selected
            class:highlighted=highlighted
            class:conflict=move || !conflicts.with(Vec::is_empty)
            class:error=move || problems.with(|p| p.iter().any(|p| p.is_error()))
            data-index=index
            on:pointerdown=on_down
        >
            <title>{tooltip}</title>
            <line class="hit" x1=move || geometry.get().0.x y1=move || geometry.get().0.y x2=move || geometry.get().1.x y2=move || geometry.get().1.y />
            <line class="wire" x1=move || geometry.get().0.x y1=move || geometry.get().0.y x2=move || geometry.get().1.x y2=move || geometry.get().1.y />
            <text class="end a" x=move || label_at(0).0.x y=move || label_at(0).0.y text-anchor=move || label_at(0).1>
                {move || label(0)}
            </text>
            <text class="end b" x=move || label_at(1).0.x y=move || label_at(1).0.y text-anchor=move || label_at(1).1>
                {move || label(1)}
            </text>
            <text class="rate" x=move || middle().x y=move || middle().y + 14.0 text-anchor="middle">{traffic}</text>
            <circle class=port_class(0) data-side="a" cx=move || port_at(0).x cy=move || port_at(0).y r=5.0 on:pointerdown=port_drag(0)>
                <title>{port_title(0)}</title>
            </circle>
            <circle class=port_class(1) data-side="b" cx=move || port_at(1).x cy=move || port_at(1).y r=5.0 on:pointerdown=port_drag(1)>
                <title>{port_title(1)}</title>
            </circle>
        </g>
    }
}
