//! One veth on the canvas: a line between the rows of its two interfaces on their nodes'
//! cards, coloured by what the kernel says of it. Nothing is written along it: its ends and
//! its traffic rates are in its tooltip (and the inspector); traffic shows as a thicker
//! line over it.

use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::prelude::*;
use nslab_model::edit::Point;
use nslab_model::layout::attach_point;
use nslab_model::Link;

use crate::canvas::{start_connecting, CanvasContext};
use crate::describe::{end_state, end_state_words, link_state, tooltip};
use crate::editor::use_editor;
use crate::geometry::rate;

/// How far outside its node's card a port is drawn.
const PORT_OFFSET: f64 = 5.0;

#[component]
pub fn LinkView(index: usize) -> impl IntoView {
    let editor = use_editor();
    let link = Memo::new(move |_| editor.doc.links.with(|links| links.get(index).cloned()));
    let ends = Memo::new(move |_| editor.doc.link_places.with(|places| places.get(index).cloned().flatten()));
    let cards = Memo::new(move |_| {
        let [a, b] = link.with(|link| link.as_ref().map(|link| link.ends().map(|end| end.node.clone())))?;
        editor.doc.cards.with(|cards| Some((cards.get(&a)?.clone(), cards.get(&b)?.clone())))
    });
    let names = link.get_untracked().map(|Link::Veth(veth)| (veth.a.node.clone(), veth.b.node.clone()));
    let (a_node, b_node) = names.unwrap_or_default();
    let (a_at, b_at) = (editor.position(&a_node), editor.position(&b_node));
    // Worked out once per move of either node; a score of attributes read it.
    let geometry = Memo::new(move |_| {
        let (a, b) = (a_at.get(), b_at.get());
        let Some((a_card, b_card)) = cards.get() else { return (a, b) };
        let Some(Link::Veth(veth)) = link.get() else { return (a, b) };
        (attach_point(a, &a_card, &veth.a.name, b), attach_point(b, &b_card, &veth.b.name, a))
    });
    // The kernel's view of each end, one memo each (see `Editor::interface`).
    let end_key = move |side: usize| {
        move || ends.with(|ends| ends.as_ref().map(|ends| ends[side].clone()).map(|end| (end.netns, end.name)))
    };
    let (live_a, live_b) = (editor.interface(end_key(0)), editor.interface(end_key(1)));
    let states = Memo::new(move |_| {
        let Some(Link::Veth(veth)) = link.get() else { return ("absent", "absent") };
        (
            live_a.with(|live| end_state(live.as_ref(), &veth.a.addresses)),
            live_b.with(|live| end_state(live.as_ref(), &veth.b.addresses)),
        )
    });
    let problems = Memo::new(move |_| editor.doc.problems_at(&format!("links[{index}]")));
    let conflicts = Memo::new(move |_| editor.live.conflicts_at(&format!("links[{index}]")));
    let selected = Memo::new(move |_| editor.view.selection.with(|s| s.links.contains(&index)));
    let highlighted = {
        let (a, b) = (a_node.clone(), b_node.clone());
        Memo::new(move |_| editor.view.highlight.with(|path| crate::reach::joins_steps(path, &a, &b)))
    };
    let failing = {
        let (a, b) = (a_node.clone(), b_node.clone());
        Memo::new(move |_| editor.view.failing.with(|path| crate::reach::joins_steps(path, &a, &b)))
    };
    // Bytes a second both ways at end a, when anything moves.
    let counters_a = editor.traffic(end_key(0));
    let traffic = Memo::new(move |_| {
        // Counters outlive their interface (the last reading before a destroy): a link not
        // in the kernel carries nothing.
        live_a.with(Option::is_some).then_some(())?;
        let counters = counters_a.get()?;
        let moving = counters.rx_bytes_per_second + counters.tx_bytes_per_second;
        (moving > 0.0).then_some((counters.tx_bytes_per_second, counters.rx_bytes_per_second))
    });
    // One class attribute for every state, so one effect rather than one per state.
    let class = move || {
        let (a, b) = states.get();
        let flags = [
            ("busy", traffic.with(Option::is_some)),
            ("selected", selected.get()),
            ("highlighted", highlighted.get()),
            ("failing", highlighted.get() && failing.get()),
            ("conflict", !conflicts.with(Vec::is_empty)),
            ("error", problems.with(|p| p.iter().any(|p| p.is_error()))),
        ];
        let mut class = format!("link {}", link_state(a, b));
        for (flag, _) in flags.iter().filter(|(_, on)| *on) {
            class.push(' ');
            class.push_str(flag);
        }
        class
    };
    let label = move |side: usize| {
        link.get().map(|Link::Veth(veth)| {
            let end = if side == 0 { veth.a } else { veth.b };
            let at = format!("{} on {}", end.name, end.node);
            match end.addresses.is_empty() {
                true => at,
                false => format!("{at} ({})", end.addresses.join(", ")),
            }
        })
    };
    // The link's tooltip: both ends, the state, the traffic with its exact rates.
    let title = move || {
        let (a, b) = states.get();
        let mut lines = vec![
            format!("{} ↔ {}", label(0).unwrap_or_default(), label(1).unwrap_or_default()),
            end_state_words(link_state(a, b)).to_string(),
        ];
        if let Some((tx, rx)) = traffic.get() {
            lines.push(format!("traffic: {} / {}", rate(tx), rate(rx)));
        }
        let problems = problems.with(|problems| conflicts.with(|conflicts| tooltip(problems, conflicts)));
        lines.extend((!problems.is_empty()).then_some(problems));
        lines.join("\n")
    };
    // Traffic as thickness: a pixel more for each tenfold of bytes a second.
    let flow_width = move || {
        let (tx, rx) = traffic.get()?;
        Some(format!("{:.1}", 2.0 + (tx + rx).max(1.0).log10().clamp(0.0, 8.0)))
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
    // Enter or Space on the focused link selects it, as a click does (Shift adds it).
    let on_key = move |event: KeyboardEvent| {
        if matches!(event.key().as_str(), "Enter" | " ") {
            event.prevent_default();
            editor.view.selection.update(|selection| {
                if !event.shift_key() {
                    *selection = Default::default();
                }
                selection.toggle_link(index);
            });
        }
    };
    // A port starts a new veth from its node, like the node's handle does.
    let canvas = use_context::<CanvasContext>().expect("inside the canvas");
    let port_drag = move |side: usize| {
        let node = if side == 0 { a_node.clone() } else { b_node.clone() };
        move |event: PointerEvent| start_connecting(editor, canvas, node.clone(), &event)
    };
    // Ports sit just outside the card, at the interface's row (links are drawn under the
    // nodes).
    let port_at = move |side: usize| {
        let (a, b) = geometry.get();
        let (end, centre) = if side == 0 { (a, a_at.get()) } else { (b, b_at.get()) };
        let outward = if end.x < centre.x { -PORT_OFFSET } else { PORT_OFFSET };
        let at = Point { x: end.x + outward, y: end.y };
        format!("translate({} {})", at.x, at.y)
    };
    // Both lines follow the ends from one effect: four reactive coordinates on each line
    // were eight effects per link.
    let (hit, wire) = (NodeRef::<leptos::svg::Line>::new(), NodeRef::<leptos::svg::Line>::new());
    Effect::new(move |_| {
        let (a, b) = geometry.get();
        for line in [hit.get(), wire.get()].into_iter().flatten() {
            for (name, value) in [("x1", a.x), ("y1", a.y), ("x2", b.x), ("y2", b.y)] {
                let _ = line.set_attribute(name, &value.to_string());
            }
        }
    });
    let port_class = move |side: usize| {
        move || {
            let (a, b) = states.get();
            format!("port {}", if side == 0 { a } else { b })
        }
    };
    let port_title = move |side: usize| {
        move || {
            let state = if side == 0 { states.get().0 } else { states.get().1 };
            let name = label(side).unwrap_or_default();
            format!("{name}: {}. Drag to connect this node to another.", end_state_words(state))
        }
    };
    view! {
        <g
            class=class
            data-index=index
            tabindex="0"
            role="button"
            aria-label=move || format!("link {} ↔ {}", label(0).unwrap_or_default(), label(1).unwrap_or_default())
            aria-pressed=move || selected.get().to_string()
            on:pointerdown=on_down
            on:keydown=on_key
        >
            <title>{title}</title>
            <line class="hit" node_ref=hit />
            <line class="wire" node_ref=wire />
            {move || flow_width().map(|width| view! {
                <line class="flow" stroke-width=width x1=geometry.get().0.x y1=geometry.get().0.y x2=geometry.get().1.x y2=geometry.get().1.y />
            })}
            <circle class=port_class(0) data-side="a" transform=move || port_at(0) r=5.0 on:pointerdown=port_drag(0)>
                <title>{port_title(0)}</title>
            </circle>
            <circle class=port_class(1) data-side="b" transform=move || port_at(1) r=5.0 on:pointerdown=port_drag(1)>
                <title>{port_title(1)}</title>
            </circle>
        </g>
    }
}
