//! The toolbar's icons: 16 px line drawings in the button's text colour, so that a
//! disabled or primary button colours its icon too. The node kinds reuse the canvas's
//! glyphs (a box, a hub, a screen) so the buttons and the legend match.

use leptos::prelude::*;

/// What an icon shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Namespace,
    Bridge,
    Host,
    Delete,
    Undo,
    Redo,
    Layout,
    ZoomIn,
    ZoomOut,
    Fit,
    Present,
    New,
    Open,
    Save,
    Scan,
    Script,
    /// Commands pasted in: a clipboard with a prompt.
    Paste,
    /// The lab sent out to another tool: an arrow up out of a tray.
    Export,
    Picture,
    Plan,
    Apply,
    Destroy,
}

/// The icon, hidden from screen readers (the button's label names it).
pub fn icon(which: Icon) -> impl IntoView {
    view! {
        <svg class="icon" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            {shapes(which)}
        </svg>
    }
}

fn shapes(which: Icon) -> AnyView {
    match which {
        Icon::Namespace => view! {
            <rect x="1.5" y="3.5" width="9" height="9" rx="2" /><rect x="4" y="6" width="4" height="4" />{plus()}
        }
        .into_any(),
        Icon::Bridge => view! {
            <circle cx="6" cy="8" r="4.5" /><line x1="1.5" y1="8" x2="10.5" y2="8" /><line x1="6" y1="3.5" x2="6" y2="12.5" />{plus()}
        }
        .into_any(),
        Icon::Host => view! {
            <rect x="1.5" y="3.5" width="9.5" height="7" rx="1.5" /><line x1="4" y1="13" x2="8.5" y2="13" />{plus()}
        }
        .into_any(),
        Icon::Delete => view! {
            <line x1="2.5" y1="4" x2="13.5" y2="4" /><path d="M6 4V2.5h4V4M4 4l.8 9.5h6.4L12 4" />
        }
        .into_any(),
        Icon::Undo => view! { <path d="M5.5 3 2.5 6l3 3M2.5 6h7a4 4 0 0 1 0 8H7" /> }.into_any(),
        Icon::Redo => view! { <path d="M10.5 3l3 3-3 3M13.5 6h-7a4 4 0 0 0 0 8H9" /> }.into_any(),
        Icon::Layout => view! {
            <rect x="1.5" y="1.5" width="5" height="4" /><rect x="9.5" y="10.5" width="5" height="4" />
            <rect x="1.5" y="10.5" width="5" height="4" /><path d="M4 5.5v5M4 8h8v2.5" />
        }
        .into_any(),
        Icon::ZoomIn => view! { <circle cx="7" cy="7" r="4.5" /><path d="M10.3 10.3 14 14M5 7h4M7 5v4" /> }.into_any(),
        Icon::ZoomOut => view! { <circle cx="7" cy="7" r="4.5" /><path d="M10.3 10.3 14 14M5 7h4" /> }.into_any(),
        Icon::Fit => view! { <path d="M1.5 5.5v-4h4M10.5 1.5h4v4M14.5 10.5v4h-4M5.5 14.5h-4v-4" /><rect x="5" y="5" width="6" height="6" /> }
            .into_any(),
        Icon::Present => view! { <rect x="1.5" y="2.5" width="13" height="8.5" /><path d="M8 11v3M5 14.5h6" /> }.into_any(),
        Icon::New => view! { <path d="M3.5 1.5h6l3 3v10h-9zM9.5 1.5v3h3M8 7v5M5.5 9.5h5" /> }.into_any(),
        Icon::Open => view! { <path d="M1.5 3.5h4.5l1.5 1.5h7v8.5h-13z" /> }.into_any(),
        Icon::Save => view! { <path d="M8 1.5v8M5 6.5l3 3 3-3M2 11v3.5h12V11" /> }.into_any(),
        Icon::Scan => view! {
            <path d="M1.5 5V1.5H5M11 1.5h3.5V5M14.5 11v3.5H11M5 14.5H1.5V11" /><line x1="3.5" y1="8" x2="12.5" y2="8" />
        }
        .into_any(),
        Icon::Script => view! { <rect x="1.5" y="2.5" width="13" height="11" rx="1.5" /><path d="M4 6l2 2-2 2M8 10.5h4" /> }
            .into_any(),
        Icon::Paste => view! { <rect x="2.5" y="2.5" width="11" height="12" rx="1.5" /><path d="M6 1.5h4v2.5H6zM5 8l2 1.75L5 11.5M8.5 12h3" /> }
            .into_any(),
        Icon::Export => view! { <path d="M8 10V1.5M5 4.5l3-3 3 3M2.5 8v6.5h11V8" /> }.into_any(),
        Icon::Picture => view! {
            <rect x="1.5" y="2.5" width="13" height="11" rx="1.5" /><path d="M2 12l4-4.5 3 3 2-2 3.5 3.5" /><circle cx="11" cy="5.5" r="1" />
        }
        .into_any(),
        Icon::Plan => view! { <path d="M5.5 3.5h9M5.5 8h9M5.5 12.5h9" /><circle cx="2.5" cy="3.5" r=".8" /><circle cx="2.5" cy="8" r=".8" /><circle cx="2.5" cy="12.5" r=".8" /> }
            .into_any(),
        Icon::Apply => view! { <path class="filled" d="M4.5 2.5v11l9-5.5z" /> }.into_any(),
        Icon::Destroy => view! { <rect x="3" y="3" width="10" height="10" rx="1" /><path d="M6 6l4 4M10 6l-4 4" /> }.into_any(),
    }
}

/// The small `+` of the buttons that add a node.
fn plus() -> impl IntoView {
    view! { <path class="plus" d="M13 9v5M10.5 11.5h5" /> }
}
