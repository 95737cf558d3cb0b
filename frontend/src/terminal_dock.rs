//! Terminals into the lab's namespaces (`GET /api/terminal`), as tabs in a dock under the
//! canvas: opened by double-clicking a namespace (or the host) or from the inspector,
//! several at once, the dock resized by its top edge or folded away. This draws the dock
//! and its tabs; each terminal itself (xterm.js on the terminal's websocket, loaded when
//! the first one opens) is `frontend/terminals/terminals.js`, kept out of the wasm, whose
//! size is budgeted. A terminal that cannot open says why in its tab, in the server's words
//! (terminals off: how to turn them on).

use leptos::html::Div;
use leptos::prelude::*;
use nslab_model::api::TerminalEvent;
use wasm_bindgen::prelude::*;
use web_sys::{KeyboardEvent, PointerEvent};

/// The dock's height at first, and its bounds (the canvas keeps at least `MIN_CANVAS`).
const DEFAULT_HEIGHT: f64 = 280.0;
const MIN_HEIGHT: f64 = 120.0;
const MIN_CANVAS: f64 = 200.0;
const KEY_STEP: f64 = 16.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = nslabTerminals, js_name = open)]
    fn open_screen(container: &web_sys::Element, id: u32, node: &str);
    #[wasm_bindgen(js_namespace = nslabTerminals, js_name = show)]
    fn show_screen(id: u32);
    #[wasm_bindgen(js_namespace = nslabTerminals, js_name = close)]
    fn close_screen(id: u32);
    #[wasm_bindgen(js_namespace = nslabTerminals)]
    fn watch(container: &web_sys::Element);
    #[wasm_bindgen(js_namespace = nslabTerminals)]
    fn listen(listener: &JsValue);
}

/// The events log's line for a terminal opened or closed (by any page).
pub fn log_line(event: &TerminalEvent) -> String {
    if event.opened {
        format!("terminal opened on {}", event.node)
    } else {
        format!("terminal on {} closed", event.node)
    }
}

#[derive(Clone, PartialEq)]
struct Tab {
    id: u32,
    node: String,
    /// Its shell ended, or it could not open.
    over: bool,
}

/// The dock: its tabs, which one shows, its height, folded or not, and where the
/// terminals' screens go.
#[derive(Clone, Copy)]
pub struct Terminals {
    tabs: RwSignal<Vec<Tab>>,
    active: RwSignal<Option<u32>>,
    height: RwSignal<f64>,
    collapsed: RwSignal<bool>,
    next_id: StoredValue<u32>,
    screens: NodeRef<Div>,
}

impl Terminals {
    /// Makes the dock's state, for `try_use_terminals` anywhere below.
    pub fn provide() {
        provide_context(Terminals {
            tabs: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            height: RwSignal::new(DEFAULT_HEIGHT),
            collapsed: RwSignal::new(false),
            next_id: StoredValue::new(0),
            screens: NodeRef::new(),
        });
    }

    /// Opens a terminal on `node` in a new tab, and shows it.
    pub fn open(&self, node: &str) {
        let Some(screens) = self.screens.get_untracked() else { return };
        self.next_id.update_value(|id| *id += 1);
        let id = self.next_id.get_value();
        self.tabs.update(|tabs| tabs.push(Tab { id, node: node.to_string(), over: false }));
        open_screen(&screens, id, node);
        self.active.set(Some(id));
        self.collapsed.set(false);
    }

    /// Closes a tab: the server ends its shell.
    fn close(&self, id: u32) {
        close_screen(id);
        self.tabs.update(|tabs| tabs.retain(|tab| tab.id != id));
        if self.active.get_untracked() == Some(id) {
            self.active.set(self.tabs.with_untracked(|tabs| tabs.last().map(|tab| tab.id)));
        }
    }
}

/// The dock, where the page has one (not in a drawing made for export).
pub fn try_use_terminals() -> Option<Terminals> {
    use_context::<Terminals>()
}

/// The inspector's button that opens a terminal on a namespace or the host node.
#[allow(non_snake_case)] // called like a component, with plain arguments
pub fn OpenButton(kind: &str, node: &str) -> Option<impl IntoView> {
    let terminals = try_use_terminals().filter(|_| kind != "bridge")?;
    let node = node.to_string();
    Some(view! {
        <button class="small open-terminal" title="A shell in this node's namespace, in the dock under the canvas (double-click the node to open one too)" on:click=move |_| terminals.open(&node)>
            "open a terminal"
        </button>
    })
}

/// The dock under the canvas; hidden while no terminal is open.
#[component]
pub fn TerminalDock() -> impl IntoView {
    let terminals = try_use_terminals().expect("Terminals::provide() first");
    let window_height = RwSignal::new(inner_height());
    let _resize = window_event_listener(leptos::ev::resize, move |_| window_height.set(inner_height()));
    // The terminals say when one ends (or cannot open): its tab says so too.
    let tabs = terminals.tabs;
    let ended = Closure::<dyn Fn(u32, String)>::new(move |id: u32, state: String| {
        if state != "open" {
            tabs.update(|tabs| tabs.iter_mut().filter(|tab| tab.id == id).for_each(|tab| tab.over = true));
        }
    });
    listen(&ended.into_js_value());
    Effect::new(move |_| {
        if let Some(screens) = terminals.screens.get() {
            watch(&screens);
        }
    });
    // The tab in front is the one shown, fitted and focused; unfolding shows it again.
    Effect::new(move |_| {
        if let (Some(id), false) = (terminals.active.get(), terminals.collapsed.get()) {
            show_screen(id);
        }
    });
    let height = move || clamp_height(terminals.height.get(), window_height.get());
    let tab_buttons = move || {
        let active = terminals.active.get();
        terminals.tabs.get().into_iter().map(move |tab| tab_button(terminals, tab, active)).collect_view()
    };
    view! {
        <section
            class="terminal-dock"
            id="terminal-dock"
            aria-label="terminals"
            class:empty=move || terminals.tabs.with(Vec::is_empty)
            class:collapsed=terminals.collapsed
            style:height=move || if terminals.collapsed.get() { String::new() } else { format!("{}px", height()) }
        >
            <DockEdge window_height=window_height />
            <div class="dock-bar" role="tablist">
                {tab_buttons}
                <span class="dock-fill"></span>
                <button
                    class="small dock-fold"
                    aria-expanded=move || (!terminals.collapsed.get()).to_string()
                    title=move || if terminals.collapsed.get() { "Show the terminals" } else { "Fold the terminals away" }
                    on:click=move |_| terminals.collapsed.update(|folded| *folded = !*folded)
                >
                    {move || if terminals.collapsed.get() { "▴" } else { "▾" }}
                </button>
            </div>
            <div class="dock-screens" node_ref=terminals.screens></div>
        </section>
    }
}

/// A tab's button: its node (struck through once over), and a button that closes it.
fn tab_button(terminals: Terminals, tab: Tab, active: Option<u32>) -> impl IntoView {
    let Tab { id, node, over } = tab;
    let front = active == Some(id);
    view! {
        <span class="dock-tab" class:active=front class:ended=over data-node=node.clone()>
            <button
                role="tab"
                class="dock-tab-name"
                aria-selected=front.to_string()
                on:click=move |_| {
                    terminals.active.set(Some(id));
                    terminals.collapsed.set(false);
                }
            >
                {node.clone()}
            </button>
            <button class="dock-tab-close" aria-label=format!("close the terminal on {node}") title="Close (ends its shell)" on:click=move |_| terminals.close(id)>
                "×"
            </button>
        </span>
    }
}

/// The dock's top edge: dragged (or focused and moved with ↑ and ↓) it sets the height.
#[component]
fn DockEdge(window_height: RwSignal<f64>) -> impl IntoView {
    let height = try_use_terminals().expect("Terminals::provide() first").height;
    let drag_from = StoredValue::new(None::<(f64, f64)>);
    let on_down = move |event: PointerEvent| {
        if event.button() != 0 {
            return;
        }
        crate::canvas::capture(&event);
        drag_from.set_value(Some((f64::from(event.client_y()), height.get_untracked())));
    };
    let on_move = move |event: PointerEvent| {
        if let Some((y, from)) = drag_from.get_value() {
            height.set(clamp_height(from + y - f64::from(event.client_y()), window_height.get_untracked()));
        }
    };
    let on_up = move |_: PointerEvent| drag_from.set_value(None);
    let on_key = move |event: KeyboardEvent| {
        let step = match event.key().as_str() {
            "ArrowUp" => KEY_STEP,
            "ArrowDown" => -KEY_STEP,
            _ => return,
        };
        event.prevent_default();
        height.update(|now| *now = clamp_height(*now + step, window_height.get_untracked()));
    };
    view! {
        <div
            class="dock-edge"
            role="separator"
            aria-orientation="horizontal"
            aria-label="terminal height"
            tabindex="0"
            aria-valuenow=move || height.get().round()
            title="Drag (or focus and press ↑ and ↓) to make the terminals taller or shorter"
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:keydown=on_key
        ></div>
    }
}

fn inner_height() -> f64 {
    web_sys::window().and_then(|window| window.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0)
}

fn clamp_height(height: f64, window_height: f64) -> f64 {
    let highest = (window_height - MIN_CANVAS).max(MIN_HEIGHT);
    if height.is_nan() {
        return DEFAULT_HEIGHT.min(highest);
    }
    height.clamp(MIN_HEIGHT, highest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dock_leaves_the_canvas_room() {
        assert_eq!(clamp_height(50.0, 900.0), MIN_HEIGHT);
        assert_eq!(clamp_height(300.0, 900.0), 300.0);
        assert_eq!(clamp_height(2000.0, 900.0), 700.0);
        assert_eq!(clamp_height(300.0, 250.0), MIN_HEIGHT, "a tiny window still shows a terminal");
        assert_eq!(clamp_height(f64::NAN, 900.0), DEFAULT_HEIGHT);
    }
}
