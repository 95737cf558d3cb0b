//! The classroom display. Presenter mode (`P`, the toolbar's `present`) is for a projector:
//! the side panel goes, the drawing fills the screen, type and lines are heavier (the root
//! gets the class `presenting`, see style.css). A page that may edit shares, while it
//! presents, the area of the drawing it shows and its selection (`POST /api/presenter`, at
//! most every `SHARE_EVERY_MS` and only when they changed); every other page follows them
//! (`Event::Presenter`) until its user pans or zooms, and a banner offers to follow again.
//! Following changes only what a page shows, never the lab: nothing enters the history.

use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::{ErrorBody, PresenterEvent, PresenterSelection, PresenterView};
use nslab_model::edit::{self, Point, Selection};
use nslab_model::Lab;

use crate::browser::canvas_size;
use crate::editor::{use_editor, Editor};
use crate::geometry::Viewport;

/// The least time between two states sent, in milliseconds: a pan sends a few a second,
/// not one per frame.
const SHARE_EVERY_MS: u32 = 100;

/// Screen pixels left around the drawing when a presenter fits it: a projector's screen is
/// for the drawing.
const PRESENTING_MARGIN: f64 = 16.0;

/// The zoom's bounds, as the canvas's own (see `Viewport::zoom_at`).
const ZOOM_RANGE: (f64, f64) = (0.05, 4.0);

/// This page's part in a presentation: its own presenting, and the presenter it follows.
#[derive(Clone, Copy)]
pub struct Presenter {
    /// This page presents (presenter mode).
    pub presenting: RwSignal<bool>,
    /// What another page presents now; None when nobody does (or this page presents).
    pub remote: RwSignal<Option<PresenterEvent>>,
    /// This page follows `remote` (on whenever a presentation starts; off once the user
    /// pans or zooms).
    pub following: RwSignal<bool>,
    /// The viewport following last set: any other one was the user's own doing.
    followed: StoredValue<Option<Viewport>>,
    /// The last state sent to the server (the page starts with "off", sent by nobody).
    sent: StoredValue<PresenterEvent>,
    /// A send is under way; it takes up whatever changed meanwhile when it is done.
    sending: StoredValue<bool>,
    /// The server refused to take this page's state (a viewer token): it presents alone.
    refused: StoredValue<bool>,
}

impl Presenter {
    pub fn new() -> Self {
        Presenter {
            presenting: RwSignal::new(false),
            remote: RwSignal::new(None),
            following: RwSignal::new(true),
            followed: StoredValue::new(None),
            sent: StoredValue::new(PresenterEvent::off()),
            sending: StoredValue::new(false),
            refused: StoredValue::new(false),
        }
    }
}

/// Enters or leaves presenter mode, then fits the drawing to the canvas it leaves.
pub fn toggle(editor: Editor) {
    editor.presenter.presenting.update(|on| *on = !*on);
    if editor.presenter.presenting.get_untracked() {
        // This page leads now: it follows nobody.
        editor.presenter.remote.set(None);
    }
    // After the page has hidden or shown the side panel: the canvas's size changes.
    request_animation_frame(move || crate::intents::fit_view(editor));
}

/// Leaves presenter mode (Escape); nothing when not presenting.
pub fn leave(editor: Editor) {
    if editor.presenter.presenting.get_untracked() {
        toggle(editor);
    }
}

/// The fit of presenter mode: the drawing fills the canvas but for a small margin, larger
/// than 100 % where there is room.
pub fn fit_filling(editor: Editor) {
    let (width, height) = canvas_size();
    let viewport = editor.doc.lab.with_untracked(|lab| filling(lab, width, height));
    editor.view.viewport.set(viewport);
}

/// The viewport in which `lab` fills a `width` x `height` canvas, centred.
pub fn filling(lab: &Lab, width: f64, height: f64) -> Viewport {
    let (left, top, right, bottom) = edit::bounds(lab);
    if !(left.is_finite() && right > left && bottom > top && width > 0.0 && height > 0.0) {
        return Viewport::default();
    }
    let margin =
        if width > 4.0 * PRESENTING_MARGIN && height > 4.0 * PRESENTING_MARGIN { PRESENTING_MARGIN } else { 0.0 };
    let scale = ((width - 2.0 * margin) / (right - left))
        .min((height - 2.0 * margin) / (bottom - top))
        .clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
    let centre = Point { x: (left + right) / 2.0, y: (top + bottom) / 2.0 };
    Viewport { scale, offset: Point { x: width / 2.0 - centre.x * scale, y: height / 2.0 - centre.y * scale } }
}

/// The area a viewport shows on a `width` x `height` canvas, in world units.
pub fn shown_area(viewport: Viewport, width: f64, height: f64) -> PresenterView {
    let centre = viewport.to_world(Point { x: width / 2.0, y: height / 2.0 });
    PresenterView { x: centre.x, y: centre.y, width: width / viewport.scale, height: height / viewport.scale }
}

/// The viewport that shows `area` whole on a `width` x `height` canvas, centred on its
/// centre.
pub fn showing(area: PresenterView, width: f64, height: f64) -> Viewport {
    let scale = (width / area.width).min(height / area.height).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
    Viewport { scale, offset: Point { x: width / 2.0 - area.x * scale, y: height / 2.0 - area.y * scale } }
}

/// What this page presents now: off unless it is in presenter mode.
fn presented(editor: Editor) -> PresenterEvent {
    if !editor.presenter.presenting.get_untracked() {
        return PresenterEvent::off();
    }
    let (width, height) = canvas_size();
    let selection = editor.view.selection.get_untracked();
    PresenterEvent {
        on: true,
        view: Some(shown_area(editor.view.viewport.get_untracked(), width, height)),
        selection: PresenterSelection {
            nodes: selection.nodes.into_iter().collect(),
            links: selection.links.into_iter().collect(),
        },
    }
}

/// Starts the effects that share this page's presentation and stop following when the
/// user moves the view; call once.
pub fn start(editor: Editor) {
    let presenter = editor.presenter;
    Effect::new(move |_| {
        presenter.presenting.track();
        editor.view.viewport.track();
        editor.view.selection.track();
        share(editor);
    });
    Effect::new(move |_| {
        let now = editor.view.viewport.get();
        let moved_by_user = presenter.followed.get_value().is_some_and(|followed| followed != now);
        if moved_by_user && presenter.following.get_untracked() && presenter.remote.with_untracked(Option::is_some) {
            presenter.following.set(false);
        }
    });
    // A resized window shows the presenter's area at its new size.
    let _resize = window_event_listener(leptos::ev::resize, move |_| follow(editor));
    // A page closed while presenting ends the presentation: a beacon still goes out when
    // the page is gone, where a request would be cancelled.
    let _leaving = window_event_listener_untyped("pagehide", move |_| {
        if presenter.presenting.get_untracked() && !presenter.refused.get_value() {
            let off = serde_json::to_string(&PresenterEvent::off()).expect("states serialise");
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().send_beacon_with_opt_str("/api/presenter", Some(&off));
            }
        }
    });
}

/// Sends this page's state when it changed, at most every `SHARE_EVERY_MS`.
fn share(editor: Editor) {
    let presenter = editor.presenter;
    if presenter.sending.get_value() || presenter.refused.get_value() {
        return;
    }
    presenter.sending.set_value(true);
    spawn_local(async move {
        loop {
            let state = presented(editor);
            if presenter.sent.with_value(|sent| *sent == state) {
                break;
            }
            presenter.sent.set_value(state.clone());
            if let Err((status, error)) = send(&state).await {
                if status == 403 {
                    presenter.refused.set_value(true);
                    editor.panels.log("info", "presenting on this screen only: this page may only watch the lab");
                    break;
                }
                editor.panels.log("error", format!("the presentation was not shared: {}", error.message));
            }
            crate::events::sleep_ms(SHARE_EVERY_MS).await;
        }
        presenter.sending.set_value(false);
    });
}

/// `POST /api/presenter`; the status and the server's error when refused.
async fn send(state: &PresenterEvent) -> Result<(), (u16, ErrorBody)> {
    let request = Request::post("/api/presenter").json(state).map_err(|e| (0, ErrorBody::new(e.to_string())))?;
    let response = request.send().await.map_err(|e| (0, ErrorBody::new(e.to_string())))?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let error = response.json::<ErrorBody>().await.unwrap_or_else(|_| ErrorBody::new(format!("answer {status}")));
    Err((status, error))
}

/// A presenter event from the server.
pub fn received(editor: Editor, event: PresenterEvent) {
    let presenter = editor.presenter;
    // This page leads (the event is its own, come back, or another teacher's).
    if presenter.presenting.get_untracked() {
        return;
    }
    if !event.on {
        presenter.remote.set(None);
        presenter.followed.set_value(None);
        return;
    }
    // A presentation that starts is followed, whatever the user chose in the last one.
    if presenter.remote.with_untracked(Option::is_none) {
        presenter.following.set(true);
    }
    presenter.remote.set(Some(event));
    follow(editor);
}

/// Shows what the presenter shows, if this page follows one.
fn follow(editor: Editor) {
    let presenter = editor.presenter;
    if !presenter.following.get_untracked() {
        return;
    }
    let Some(event) = presenter.remote.get_untracked() else { return };
    if let Some(area) = event.view {
        let (width, height) = canvas_size();
        let viewport = showing(area, width, height);
        presenter.followed.set_value(Some(viewport));
        editor.view.viewport.set(viewport);
    }
    let selection = editor.doc.lab.with_untracked(|lab| Selection {
        nodes: event.selection.nodes.into_iter().filter(|name| lab.node(name).is_some()).collect(),
        links: event.selection.links.into_iter().filter(|index| *index < lab.links.len()).collect(),
    });
    if editor.view.selection.with_untracked(|now| *now != selection) {
        editor.view.selection.set(selection);
    }
}

/// Follows again after the user stopped following, or stops.
fn set_following(editor: Editor, following: bool) {
    editor.presenter.following.set(following);
    follow(editor);
}

/// The banner of a page that follows a presenter: what it does, and the way out (or back).
#[component]
pub fn PresenterBanner() -> impl IntoView {
    let editor = use_editor();
    let presenter = editor.presenter;
    move || {
        presenter.remote.with(Option::is_some).then(|| {
            let following = presenter.following.get();
            let (text, button) = if following {
                ("The teacher is presenting: this page follows their view.", "stop following")
            } else {
                ("The teacher is presenting. You moved the view yourself.", "follow again")
            };
            view! {
                <div class="banner presenter" id="presenter-banner" role="status" data-following=following.to_string()>
                    <span>{text}</span>
                    <button id="follow" aria-pressed=following.to_string() on:click=move |_| set_following(editor, !following)>
                        {button}
                    </button>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presenter_fit_fills_the_canvas_but_for_its_margin() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/router.json")).unwrap();
        let (left, top, right, bottom) = edit::bounds(&lab);
        for (width, height) in [(1920.0, 1000.0), (1024.0, 640.0), (300.0, 2000.0)] {
            let viewport = filling(&lab, width, height);
            let corner = |x: f64, y: f64| Point {
                x: x * viewport.scale + viewport.offset.x,
                y: y * viewport.scale + viewport.offset.y,
            };
            let (a, b) = (corner(left, top), corner(right, bottom));
            assert!(a.x >= PRESENTING_MARGIN - 1e-6 && a.y >= PRESENTING_MARGIN - 1e-6, "{width}x{height}: {a:?}");
            assert!(b.x <= width - PRESENTING_MARGIN + 1e-6 && b.y <= height - PRESENTING_MARGIN + 1e-6, "{b:?}");
            let fills =
                ((b.x - a.x) / (width - 2.0 * PRESENTING_MARGIN)).max((b.y - a.y) / (height - 2.0 * PRESENTING_MARGIN));
            assert!((fills - 1.0).abs() < 1e-9, "{width}x{height}: one side fills the canvas ({fills})");
        }
        assert_eq!(filling(&Lab::new("empty"), 800.0, 600.0), Viewport::default());
    }

    #[test]
    fn another_screen_shows_the_same_area_around_the_same_centre() {
        let presenter = Viewport { scale: 1.5, offset: Point { x: -120.0, y: 40.0 } };
        let area = shown_area(presenter, 1920.0, 1000.0);
        let viewer = showing(area, 960.0, 500.0);
        assert!((viewer.scale - 0.75).abs() < 1e-9, "half the screen, half the zoom: {viewer:?}");
        let centre = viewer.to_world(Point { x: 480.0, y: 250.0 });
        assert!((centre.x - area.x).abs() < 1e-9 && (centre.y - area.y).abs() < 1e-9, "{centre:?} {area:?}");
        // A narrower screen shows the whole width, and more height.
        let narrow = showing(area, 960.0, 1000.0);
        assert!((narrow.scale - 0.75).abs() < 1e-9);
        assert_eq!(showing(PresenterView { width: 1e-3, height: 1e-3, ..area }, 800.0, 600.0).scale, 4.0, "at most 4");
    }
}
