//! The capture panel (a tab of the side panel while a capture is open): the packets as
//! tcpdump would print them, live, with a filter the server applies (the server's word on
//! a mistake is shown under the filter, with a caret at its place), pause, clear, download
//! (the server's pcapng file of the packets the list holds, by their numbers) and stop.
//! And the inspector's buttons that open one.

use leptos::prelude::*;
use nslab_model::topology::Side;
use nslab_model::Link;

use crate::capture::{use_capture, CaptureTarget, HELD};
use crate::editor::use_editor;

/// "capture" for one end of a veth in the inspector.
#[component]
pub fn CaptureEndButton(index: usize, side: Side) -> impl IntoView {
    let editor = use_editor();
    let capture = use_capture();
    let open = move |_| {
        let end = editor.doc.lab.with_untracked(|lab| {
            lab.links.get(index).map(|Link::Veth(veth)| if side == Side::A { veth.a.clone() } else { veth.b.clone() })
        });
        if let Some(end) = end {
            capture.open(CaptureTarget {
                node: end.node,
                iface: end.name,
                end: Some((index, side)),
                ports: Vec::new(),
            });
        }
    };
    view! {
        <button class="small capture-open" data-side=side.field() title="Capture the packets of this interface" on:click=open>
            "capture"
        </button>
    }
}

/// "capture" for a bridge: the server captures on each of its ports, and each packet's dot
/// travels along the link of the port it was seen on.
#[component]
pub fn CaptureBridgeButton(name: String) -> impl IntoView {
    let editor = use_editor();
    let capture = use_capture();
    let name = StoredValue::new(name);
    let open = move |_| {
        let name = name.get_value();
        let ports = editor.doc.lab.with_untracked(|lab| ports_of(&lab.links, &name));
        capture.open(CaptureTarget { node: name.clone(), iface: name, end: None, ports });
    };
    view! {
        <button class="small capture-open" title="Capture what crosses this bridge, on each of its ports" on:click=open>"capture"</button>
    }
}

/// The ends of `links` on `bridge` (its ports): their names and (link index, side).
fn ports_of(links: &[Link], bridge: &str) -> Vec<(String, (usize, Side))> {
    let mut ports = Vec::new();
    for (index, Link::Veth(veth)) in links.iter().enumerate() {
        for (end, side) in [(&veth.a, Side::A), (&veth.b, Side::B)] {
            if end.node == bridge {
                ports.push((end.name.clone(), (index, side)));
            }
        }
    }
    ports
}

#[component]
pub fn CapturePanel() -> impl IntoView {
    let capture = use_capture();
    let filter = NodeRef::<leptos::html::Input>::new();
    // The frames the server still holds of the packets the list holds, by their numbers
    // (after a clear, only what came since): see docs/editor.md.
    let download_address = move || {
        let target = capture.target.get()?;
        let (first, last) = capture.held_range.get()?;
        let query = crate::capture::capture_query(&target, &capture.filter.get());
        Some(format!("/api/capture.pcapng?{query}&held={first}-{last}"))
    };
    let list = NodeRef::<leptos::html::Ol>::new();
    // The rows held so far, once the list is on the page (later ones come as they arrive).
    Effect::new(move |_| {
        if list.get().is_some() {
            crate::packet_rows::show(capture);
        }
    });
    let counts = move || {
        let held = capture.held.get();
        let mut words = vec![crate::wording::counted(held, "packet", "packets")];
        if held == HELD {
            words[0].push_str(" (the latest)");
        }
        let missed = capture.missed.get();
        if missed > 0 {
            words.push(format!("{missed} not sent to this page, which read too slowly"));
        }
        let dropped = capture.dropped.get();
        if dropped > 0 {
            words.push(format!("{dropped} dropped by the kernel"));
        }
        words.join(", ")
    };
    view! {
        <div class="capture" id="capture-panel">
            <h3>{move || match capture.target.get() {
                Some(target) => format!("capture on {}", target.words()),
                None => "No capture runs: select a link or a bridge and press capture in the inspector.".into(),
            }}</h3>
            <p class="hint status" id="capture-status">{move || capture.status.get()}</p>
            <form class="row" on:submit=move |event| {
                event.prevent_default();
                if let Some(input) = filter.get() {
                    capture.refilter(input.value());
                }
            }>
                <input
                    id="capture-filter"
                    aria-label="filter"
                    placeholder="filter: icmp, arp, tcp port 80, host 10.0.0.2, not arp"
                    value=capture.filter.get_untracked()
                    node_ref=filter
                />
                <button class="small" type="submit">"filter"</button>
            </form>
            {move || {
                let text = capture.mistake.get();
                (!text.is_empty()).then(|| view! { <pre class="problem error filter-mistake" id="capture-filter-mistake">{text}</pre> })
            }}
            <div class="row">
                <button class="small" id="capture-pause" on:click=move |_| capture.paused.update(|p| *p = !*p)>
                    {move || if capture.paused.get() { "go on" } else { "pause" }}
                </button>
                <button class="small" id="capture-clear" on:click=move |_| capture.clear()>"clear"</button>
                <a
                    class="button small"
                    id="capture-download"
                    download=""
                    href=download_address
                    aria-disabled=move || capture.held_range.with(Option::is_none).then_some("true")
                    title="The packets this list holds, as a pcapng file for Wireshark"
                >
                    "download"
                </a>
                <button class="small" id="capture-stop" on:click=move |_| capture.close()>"stop"</button>
            </div>
            <p class="hint" id="capture-counts">{counts}</p>
            <ol class="packets" id=crate::packet_rows::LIST_ID node_ref=list></ol>
        </div>
    }
}
