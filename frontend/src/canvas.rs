//! The canvas: an SVG of the lab that pans (drag the background), zooms (wheel, buttons),
//! selects (click, shift-click, shift-drag a rubber band), moves nodes (drag them) and
//! connects them (drag from a node's handle to another node).

use leptos::ev::{PointerEvent, WheelEvent};
use leptos::prelude::*;
use nslab_model::edit::{self, Point, Selection};

use crate::editor::{use_editor, Editor};
use crate::geometry::{grid_path, grid_spacing, node_at, Viewport};
use crate::intents;
use crate::link_view::LinkView;
use crate::node_view::NodeView;

/// Below this zoom the picture shows the big lab, not its details: interface labels and
/// rates go, node names grow to stay readable (see svg.css, `.far`).
const FAR: f64 = 0.5;

/// What a pointer drag is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Drag {
    None,
    Pan {
        from: Point,
        offset: Point,
    },
    Move {
        names: Vec<String>,
        from: Point,
        start: Vec<Point>,
        moved: bool,
    },
    /// A new veth from node `from`, drawn from where its handle (or port) was grabbed,
    /// `start`, to the pointer, `to`.
    Connect {
        from: String,
        start: Point,
        to: Point,
    },
    Band {
        from: Point,
        to: Point,
    },
}

/// Shared with node and link views, which start drags.
#[derive(Clone, Copy)]
pub struct CanvasContext {
    pub drag: RwSignal<Drag>,
    pub svg: NodeRef<leptos::svg::Svg>,
    /// The node a veth being dragged would connect to if let go now (highlighted).
    pub connect_target: RwSignal<Option<String>>,
}

/// The pointer's place on the canvas, in screen pixels from its top left.
pub fn screen_point(svg: &NodeRef<leptos::svg::Svg>, event: &PointerEvent) -> Point {
    let (left, top) = svg.get_untracked().map_or((0.0, 0.0), |svg| {
        let rect = svg.get_bounding_client_rect();
        (rect.left(), rect.top())
    });
    Point { x: f64::from(event.client_x()) - left, y: f64::from(event.client_y()) - top }
}

pub fn world_point(editor: Editor, svg: &NodeRef<leptos::svg::Svg>, event: &PointerEvent) -> Point {
    editor.view.viewport.get_untracked().to_world(screen_point(svg, event))
}

#[component]
pub fn Canvas() -> impl IntoView {
    let editor = use_editor();
    let drag = RwSignal::new(Drag::None);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let connect_target = RwSignal::new(None::<String>);
    let canvas = CanvasContext { drag, svg, connect_target };
    provide_context(canvas);

    let on_down = move |event: PointerEvent| {
        if event.button() != 0 {
            return;
        }
        capture(&event);
        let screen = screen_point(&svg, &event);
        if event.shift_key() {
            let at = editor.view.viewport.get_untracked().to_world(screen);
            drag.set(Drag::Band { from: at, to: at });
        } else {
            editor.view.selection.set(Selection::default());
            drag.set(Drag::Pan { from: screen, offset: editor.view.viewport.get_untracked().offset });
        }
    };
    let on_move = move |event: PointerEvent| pointer_moved(editor, canvas, &event);
    let on_up = move |event: PointerEvent| pointer_released(editor, canvas, &event);
    let on_wheel = move |event: WheelEvent| {
        event.prevent_default();
        let (left, top) = svg.get_untracked().map_or((0.0, 0.0), |svg| {
            let rect = svg.get_bounding_client_rect();
            (rect.left(), rect.top())
        });
        let at = Point { x: f64::from(event.client_x()) - left, y: f64::from(event.client_y()) - top };
        let factor = if event.delta_y() < 0.0 { 1.15 } else { 1.0 / 1.15 };
        intents::zoom_at(editor, at, factor);
    };

    // The grid: the lines the screen shows, in screen coordinates. An SVG pattern over the
    // whole world (or a CSS gradient) had to be rasterised again on every frame of a pan,
    // which at 300 nodes halved the frame rate. The canvas's size comes from a
    // ResizeObserver: measuring it here made every pan frame lay the whole page out again.
    let size = RwSignal::new((0.0, 0.0));
    Effect::new(move |_| {
        if let Some(svg) = svg.get() {
            crate::browser::watch_size(&svg, move |width, height| size.set((width, height)));
        }
    });
    let grid = move || {
        let viewport = editor.view.viewport.get();
        let (width, height) = size.get();
        grid_path(viewport.offset, grid_spacing(viewport.scale), width, height)
    };
    let transform = move || {
        let Viewport { scale, offset } = editor.view.viewport.get();
        format!("translate({} {}) scale({scale})", offset.x, offset.y)
    };
    let node_names =
        move || editor.doc.lab.with(|lab| lab.nodes.iter().map(|n| n.name().to_string()).collect::<Vec<_>>());
    let link_keys = move || {
        editor.doc.lab.with(|lab| {
            lab.links
                .iter()
                .enumerate()
                .map(|(index, link)| {
                    let [a, b] = link.ends();
                    format!("{index}|{}|{}|{}|{}", a.node, a.name, b.node, b.name)
                })
                .collect::<Vec<_>>()
        })
    };

    view! {
        <svg
            node_ref=svg
            class="canvas"
            class:panning=move || matches!(drag.get(), Drag::Pan { .. })
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:wheel=on_wheel
        >
            <path class="grid-line" d=grid />
            <g class="world" class:far=move || editor.view.viewport.with(|v| v.scale < FAR) transform=transform>
                <For
                    each=link_keys
                    key=|key| key.clone()
                    children=move |key| {
                        let index: usize = key.split('|').next().and_then(|i| i.parse().ok()).unwrap_or(0);
                        view! { <LinkView index=index /> }
                    }
                />
                <For each=node_names key=|name| name.clone() children=move |name| view! { <NodeView name=name /> } />
                {move || match drag.get() {
                    Drag::Connect { start, to, .. } => {
                        Some(view! { <line class="connecting" x1=start.x y1=start.y x2=to.x y2=to.y /> }.into_any())
                    }
                    Drag::Band { from, to } => {
                        let (x, y) = (from.x.min(to.x), from.y.min(to.y));
                        let (w, h) = ((from.x - to.x).abs(), (from.y - to.y).abs());
                        Some(view! { <rect class="band" x=x y=y width=w height=h /> }.into_any())
                    }
                    _ => None,
                }}
            </g>
        </svg>
    }
}

/// Starts dragging a new veth from node `from` (its handle or one of its ports was pressed).
pub fn start_connecting(editor: Editor, canvas: CanvasContext, from: String, event: &PointerEvent) {
    if event.button() != 0 {
        return;
    }
    event.stop_propagation();
    capture(event);
    let start = world_point(editor, &canvas.svg, event);
    canvas.drag.set(Drag::Connect { from, start, to: start });
}

/// Keeps receiving the pointer's events while it drags outside the element.
pub fn capture(event: &PointerEvent) {
    use wasm_bindgen::JsCast;
    if let Some(target) = event.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
        let _ = target.set_pointer_capture(event.pointer_id());
    }
}

fn pointer_moved(editor: Editor, canvas: CanvasContext, event: &PointerEvent) {
    let CanvasContext { drag, svg, connect_target } = canvas;
    let svg = &svg;
    match drag.get_untracked() {
        Drag::None => {}
        Drag::Pan { from, offset } => {
            let now = screen_point(svg, event);
            editor
                .view
                .viewport
                .update(|v| v.offset = Point { x: offset.x + now.x - from.x, y: offset.y + now.y - from.y });
        }
        Drag::Move { names, from, start, .. } => {
            let now = world_point(editor, svg, event);
            let by = Point { x: now.x - from.x, y: now.y - from.y };
            for (name, origin) in names.iter().zip(&start) {
                editor.position(name).set(edit::snap(Point { x: origin.x + by.x, y: origin.y + by.y }));
            }
            drag.update(|d| {
                if let Drag::Move { moved, .. } = d {
                    *moved = true;
                }
            });
        }
        Drag::Connect { from, start, .. } => {
            let to = world_point(editor, svg, event);
            let target = connect_target_at(editor, &from, to);
            if connect_target.get_untracked() != target {
                connect_target.set(target);
            }
            drag.set(Drag::Connect { from, start, to });
        }
        Drag::Band { from, .. } => drag.set(Drag::Band { from, to: world_point(editor, svg, event) }),
    }
}

fn pointer_released(editor: Editor, canvas: CanvasContext, event: &PointerEvent) {
    let CanvasContext { drag, svg, connect_target } = canvas;
    let svg = &svg;
    let finished = drag.get_untracked();
    drag.set(Drag::None);
    connect_target.set(None);
    match finished {
        Drag::Move { names, start, moved: true, .. } => {
            let Some(first) = names.first() else { return };
            let now = editor.position(first).get_untracked();
            let by = Point { x: now.x - start[0].x, y: now.y - start[0].y };
            intents::move_nodes(editor, &names, by);
        }
        Drag::Connect { from, .. } => {
            let at = world_point(editor, svg, event);
            let Some(to) = connect_target_at(editor, &from, at) else { return };
            intents::connect(editor, &from, &to);
        }
        Drag::Band { from, to } => {
            let chosen = editor.doc.lab.with_untracked(|lab| Selection::in_rect(lab, from, to));
            editor.view.selection.set(chosen);
        }
        _ => {}
    }
}

/// The node a veth dragged from `from` would connect to if let go at `at`: the card under
/// it, unless that is `from` itself.
fn connect_target_at(editor: Editor, from: &str, at: Point) -> Option<String> {
    let under = editor.doc.lab.with_untracked(|lab| {
        editor.doc.cards.with_untracked(|cards| node_at(lab, cards, |name| editor.position(name).get_untracked(), at))
    });
    under.filter(|to| to != from)
}
