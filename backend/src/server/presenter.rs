//! "Follow the presenter": the teacher's page, while it presents, says what part of the
//! drawing it shows and what is selected (`POST /api/presenter`); every page hears it as
//! `Event::Presenter`. The last state is kept, so that a page that connects later (a late
//! student, a reload) hears it right after its snapshot. Changing it needs the full token,
//! like every change (see `auth::check`).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use nslab_model::api::{Event, PresenterEvent, PresenterSelection, PresenterView};
use nslab_model::Limits;
use serde::Deserialize;

use super::errors::ApiError;
use super::AppState;

/// The longest node name a selection may hold, in bytes (a namespace's longest name).
const MAX_NAME: usize = 255;

/// Coordinates beyond this are no place in a drawing (its nodes lie within a few thousand
/// units of the origin); a view wider or taller than this shows nothing readable.
const MAX_COORDINATE: f64 = 1.0e7;

/// A view narrower than this is zoomed in beyond any screen.
const MIN_SIZE: f64 = 1.0e-3;

/// The presentation going on, if one is.
#[derive(Debug, Default)]
pub struct Presenting {
    current: Mutex<Option<PresenterEvent>>,
}

impl Presenting {
    /// The event that tells a page that connects now what is being presented, if anything.
    pub fn event(&self) -> Option<Event> {
        self.current.lock().expect("the presenter's lock").clone().map(Event::Presenter)
    }
}

/// The body of `POST /api/presenter`: a `PresenterEvent`, whose unknown fields are refused
/// here (as an event, it stands beside its `type`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    on: bool,
    #[serde(default)]
    view: Option<PresenterView>,
    #[serde(default)]
    selection: PresenterSelection,
}

/// `POST /api/presenter`. The body is read whatever its content type: a page that closes
/// while presenting says so with `navigator.sendBeacon`, which sends text.
pub async fn update(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Json<PresenterEvent>, ApiError> {
    let Body { on, view, selection } = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("the body is not a presenter state: {error}"))
    })?;
    let presented = PresenterEvent { on, view, selection };
    check(&presented, &state.limits).map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
    let mut current = state.presenter.current.lock().expect("the presenter's lock");
    *current = presented.on.then(|| presented.clone());
    // Sent under the lock: a page that connects meanwhile reads the state before or after
    // this event, never a newer state before an older event.
    state.bus.send(&Event::Presenter(presented.clone()));
    Ok(Json(presented))
}

/// Why `presented` cannot be shown, as `place: reason`.
fn check(presented: &PresenterEvent, limits: &Limits) -> Result<(), String> {
    match (&presented.view, presented.on) {
        (Some(view), true) => check_view(view)?,
        (None, true) => return Err("view: a presentation that is on needs its view".into()),
        (Some(_), false) => return Err("view: a presentation that is off has no view".into()),
        (None, false) => {}
    }
    if !presented.on && presented.selection != PresenterSelection::default() {
        return Err("selection: a presentation that is off has no selection".into());
    }
    check_selection(&presented.selection, limits)
}

fn check_view(view: &PresenterView) -> Result<(), String> {
    for (name, value) in [("x", view.x), ("y", view.y)] {
        if !(value.is_finite() && value.abs() <= MAX_COORDINATE) {
            return Err(format!(
                "view.{name}: {value} is not a place in a drawing (at most {MAX_COORDINATE:e} from 0)"
            ));
        }
    }
    for (name, value) in [("width", view.width), ("height", view.height)] {
        if !(value.is_finite() && (MIN_SIZE..=MAX_COORDINATE).contains(&value)) {
            return Err(format!("view.{name}: {value} is not between {MIN_SIZE} and {MAX_COORDINATE:e}"));
        }
    }
    Ok(())
}

fn check_selection(selection: &PresenterSelection, limits: &Limits) -> Result<(), String> {
    if selection.nodes.len() > limits.max_nodes {
        return Err(format!(
            "selection.nodes: {} names; a lab has at most {} nodes",
            selection.nodes.len(),
            limits.max_nodes
        ));
    }
    if let Some((index, name)) =
        selection.nodes.iter().enumerate().find(|(_, name)| name.is_empty() || name.len() > MAX_NAME)
    {
        return Err(format!("selection.nodes[{index}]: a node name is 1 to {MAX_NAME} bytes long, not {}", name.len()));
    }
    if selection.links.len() > limits.max_links {
        return Err(format!(
            "selection.links: {} links; a lab has at most {}",
            selection.links.len(),
            limits.max_links
        ));
    }
    if let Some((index, link)) = selection.links.iter().enumerate().find(|(_, link)| **link >= limits.max_links) {
        return Err(format!("selection.links[{index}]: {link} is beyond the last link a lab may have"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(view: PresenterView) -> PresenterEvent {
        PresenterEvent { on: true, view: Some(view), selection: PresenterSelection::default() }
    }

    fn view() -> PresenterView {
        PresenterView { x: 10.0, y: -20.0, width: 800.0, height: 600.0 }
    }

    #[test]
    fn a_sound_state_passes_and_each_fault_is_named_by_its_place() {
        let limits = Limits::default();
        assert_eq!(check(&on(view()), &limits), Ok(()));
        assert_eq!(check(&PresenterEvent::off(), &limits), Ok(()));
        let fault = |state: PresenterEvent| check(&state, &limits).unwrap_err();
        assert!(fault(on(PresenterView { x: f64::NAN, ..view() })).starts_with("view.x: NaN"));
        assert!(fault(on(PresenterView { height: 0.0, ..view() })).starts_with("view.height: 0 is not between"));
        assert!(fault(on(PresenterView { width: f64::INFINITY, ..view() })).starts_with("view.width: inf"));
        assert!(fault(PresenterEvent { view: None, ..on(view()) }).starts_with("view: "));
        let mut long = on(view());
        long.selection.nodes = vec!["ns0".into(), "n".repeat(MAX_NAME + 1)];
        assert!(fault(long).starts_with("selection.nodes[1]: "));
        let mut many = on(view());
        many.selection.links = vec![0; limits.max_links + 1];
        assert!(fault(many).starts_with("selection.links: "));
        let mut off_selecting = PresenterEvent::off();
        off_selecting.selection.nodes = vec!["ns0".into()];
        assert!(fault(off_selecting).starts_with("selection: "));
    }
}
