//! The legend: what the canvas's shapes, colours and line styles mean. Folded by default,
//! in a corner of the canvas, so it never covers the drawing until asked for.

use leptos::prelude::*;

/// A line sample in the style of a link of `class` (see svg.css). The class sits on the
/// sample's own `svg`, never on a `g`: `g.link` means a link of the lab, to the page's
/// code and to the tests.
fn line_sample(class: &'static str) -> impl IntoView {
    view! {
        <svg class=format!("sample link {class}") width="34" height="10">
            <line class="wire" x1="2" y1="5" x2="32" y2="5" />
        </svg>
    }
}

#[component]
pub fn Legend() -> impl IntoView {
    view! {
        <details class="legend" id="legend">
            <summary>"legend"</summary>
            <ul>
                <li><b>"▣ namespace"</b>", "<b>"⊕ bridge"</b>" (round corners), "<b>"▭ host"</b>": each a card listing its interfaces (name, addresses, state dot)"</li>
                <li>{line_sample("up")}" up, with carrier"</li>
                <li>{line_sample("nocarrier")}" up, no carrier"</li>
                <li>{line_sample("down")}" down"</li>
                <li>{line_sample("differs")}" up, but an address of the lab is gone from the kernel (struck through on its card)"</li>
                <li>{line_sample("absent")}" not in the kernel (not applied)"</li>
                <li>{line_sample("conflict")}" something made by hand is in the way"</li>
                <li>"a thick pale line over a link: traffic (rates in its tooltip and the inspector)"</li>
                <li>"green card border: in the kernel, this lab's; purple dotted: the name is taken in the kernel by another lab or by hand; red long dashes: applied, then deleted outside nslab; red dashed: an error; orange: a warning; blue: selected"</li>
            </ul>
        </details>
    }
}
