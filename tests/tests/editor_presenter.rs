//! The classroom display (docs/editor.md, "Presenting"; docs/api.md, `POST /api/presenter`):
//! the route against a real `nslab serve` with a real websocket client, and presenter mode
//! and following in real headless Chromium, a teacher's browser and a student's, with
//! real pointer and keyboard input. On the host: nothing here is applied.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, WheelAction, WheelActions};
use nslab_model::api::{ErrorBody, Event, PresenterEvent, PresenterSelection, PresenterView};
use nslab_tests::browser::Browser;
use nslab_tests::client::{Client, Events};
use nslab_tests::page::{Page, PAGE_WAIT};
use nslab_tests::paths::example;
use nslab_tests::server::{NslabServer, ServerOptions};
use serde_json::{json, Value};

const TEACHER: &str = "teacher-token-0123456789";
const STUDENT: &str = "student-token-0123456789";
const WAIT: Duration = Duration::from_secs(10);

/// The router example, served to a teacher's token and a student's.
fn start_classroom(name: &str) -> (NslabServer, tempfile::TempDir) {
    let state = tempfile::tempdir().expect("a state dir");
    let lab = example("router");
    let server = NslabServer::start_with(ServerOptions {
        sandbox: None,
        lab: Some(&lab),
        state_dir: state.path(),
        extra: &["--token", TEACHER, "--viewer-token", STUDENT],
        log_name: name,
    });
    (server, state)
}

fn presenting(x: f64, nodes: &[&str]) -> PresenterEvent {
    PresenterEvent {
        on: true,
        view: Some(PresenterView { x, y: 40.0, width: 900.0, height: 500.0 }),
        selection: PresenterSelection { nodes: nodes.iter().map(|n| n.to_string()).collect(), links: vec![0] },
    }
}

async fn post(client: &Client, body: &Value) -> reqwest::Response {
    client.request(reqwest::Method::POST, "/api/presenter").json(body).send().await.expect("POST /api/presenter")
}

/// The next presenter event `events` hears.
async fn next_presenter(events: &mut Events, what: &str) -> PresenterEvent {
    match events.wait_for(what, WAIT, |event| matches!(event, Event::Presenter(_))).await {
        Event::Presenter(presented) => presented,
        _ => unreachable!(),
    }
}

/// A page's event stream, connected now, past its snapshot.
async fn connect_past_snapshot(server: &NslabServer) -> Events {
    let mut events = Events::connect(server).await;
    let snapshot = events.next(WAIT).await.expect("the snapshot");
    assert!(matches!(snapshot, Event::Snapshot(_)), "{snapshot:?}");
    events
}

#[tokio::test]
async fn only_an_editing_page_presents_bad_states_are_refused_and_every_page_hears_the_state() {
    let (server, _state) = start_classroom("presenter-route");
    let teacher = Client::new(&server);
    let student = Client::with_token(&server, Some(STUDENT.into()));
    let mut watching = Events::connect(&server).await;

    // A viewer token may not present.
    let refused = post(&student, &serde_json::to_value(presenting(0.0, &["left"])).unwrap()).await;
    assert_eq!(refused.status(), 403);
    let body: ErrorBody = refused.json().await.unwrap();
    assert!(body.message.contains("may only watch"), "{}", body.message);

    // Bad bodies: 400, each with the place of its fault.
    let view = json!({ "x": 0, "y": 0, "width": 800, "height": 600 });
    let bad: [(Value, &str); 9] = [
        (json!({ "on": true }), "view: a presentation that is on needs its view"),
        (json!({ "on": true, "view": { "x": 0, "y": 0, "width": 0, "height": 600 } }), "view.width: 0 is not between"),
        (
            json!({ "on": true, "view": { "x": 0, "y": 0, "width": 800, "height": -5 } }),
            "view.height: -5 is not between",
        ),
        (json!({ "on": true, "view": { "x": 1e300, "y": 0, "width": 800, "height": 600 } }), "view.x: "),
        (json!({ "on": true, "view": view, "selection": { "nodes": vec!["n"; 5000] } }), "selection.nodes: 5000 names"),
        (
            json!({ "on": true, "view": view, "selection": { "nodes": ["left", "x".repeat(300)] } }),
            "selection.nodes[1]: ",
        ),
        (json!({ "on": true, "view": view, "selection": { "links": [1, 99999] } }), "selection.links[1]: 99999"),
        (json!({ "on": true, "view": view, "zoom": 2 }), "the body is not a presenter state: unknown field `zoom`"),
        (json!({ "on": false, "view": view }), "view: a presentation that is off has no view"),
    ];
    for (body, message) in &bad {
        let response = post(&teacher, body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: ErrorBody = response.json().await.unwrap();
        assert!(error.message.starts_with(message), "{body}: `{}` does not start with `{message}`", error.message);
    }
    let not_json = teacher.request(reqwest::Method::POST, "/api/presenter").body("{\"on\": tru").send().await.unwrap();
    assert_eq!(not_json.status(), 400);
    let error: ErrorBody = not_json.json().await.unwrap();
    assert!(error.message.starts_with("the body is not a presenter state: "), "{}", error.message);
    // Another site's page may not present either.
    let foreign = teacher
        .request(reqwest::Method::POST, "/api/presenter")
        .header("Origin", "http://evil.example")
        .json(&presenting(0.0, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);

    // Nothing refused was kept or sent: a page connecting now hears no presenter, and the
    // first presenter event anyone hears is the teacher's good one.
    let mut early = connect_past_snapshot(&server).await;
    let first = presenting(120.5, &["left", "router"]);
    let response = teacher.request(reqwest::Method::POST, "/api/presenter").json(&first).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<PresenterEvent>().await.unwrap(), first, "the state, as taken");
    assert_eq!(next_presenter(&mut watching, "the teacher's state").await, first);
    assert_eq!(next_presenter(&mut early, "the teacher's state, on a page that came before it").await, first);

    // A page that comes late hears it right after its snapshot.
    let mut late = connect_past_snapshot(&server).await;
    let heard = late.next(WAIT).await.expect("an event after the snapshot");
    assert_eq!(heard, Event::Presenter(first.clone()), "the presentation going on, at once");

    // The end, as a closing page's beacon sends it (text, not JSON's content type).
    let off = teacher
        .request(reqwest::Method::POST, "/api/presenter")
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(r#"{"on":false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(next_presenter(&mut watching, "the end").await, PresenterEvent::off());
    assert_eq!(next_presenter(&mut late, "the end").await, PresenterEvent::off());

    // After the end a page that connects hears nothing of the old presentation: the first
    // presenter event it hears is the next one.
    let mut after = connect_past_snapshot(&server).await;
    let second = presenting(-30.0, &[]);
    assert_eq!(post(&teacher, &serde_json::to_value(&second).unwrap()).await.status(), 200);
    assert_eq!(next_presenter(&mut after, "the next presentation").await, second);
}

/// Where a page's canvas is and what it shows: the canvas's box (viewport pixels), the
/// world group's transform, and the union of the node cards' boxes.
const CANVAS: &str = "
    const canvas = document.querySelector('svg.canvas').getBoundingClientRect();
    const transform = document.querySelector('svg.canvas g.world').getAttribute('transform');
    const numbers = transform.match(/-?[0-9]*[.]?[0-9]+(?:e[-+]?[0-9]+)?/g).map(Number);
    const boxes = [...document.querySelectorAll('g.node .body')].map(b => b.getBoundingClientRect());
    const drawing = boxes.length === 0 ? null : {
        left: Math.min(...boxes.map(b => b.left)), top: Math.min(...boxes.map(b => b.top)),
        right: Math.max(...boxes.map(b => b.right)), bottom: Math.max(...boxes.map(b => b.bottom)) };
    return { left: canvas.left, top: canvas.top, width: canvas.width, height: canvas.height,
             x: numbers[0], y: numbers[1], scale: numbers[2], drawing };";

#[derive(Debug, Clone, Copy, PartialEq)]
struct Shown {
    /// The world point at the canvas's centre.
    centre: (f64, f64),
    /// The world's width and height the canvas shows.
    area: (f64, f64),
    scale: f64,
}

async fn canvas(page: &Page<'_>) -> Value {
    page.client.execute(CANVAS, vec![]).await.expect("the canvas is measured")
}

async fn shown(page: &Page<'_>) -> Shown {
    let c = canvas(page).await;
    let n = |key: &str| c[key].as_f64().unwrap_or_else(|| panic!("no {key} in {c}"));
    let scale = n("scale");
    Shown {
        centre: ((n("width") / 2.0 - n("x")) / scale, (n("height") / 2.0 - n("y")) / scale),
        area: (n("width") / scale, n("height") / scale),
        scale,
    }
}

/// Whether `viewer` shows what `presenter` shows: the same centre (within half a percent
/// of the area), and the presenter's area whole, one side of it filling the viewer's canvas.
fn same_view(presenter: Shown, viewer: Shown) -> bool {
    let tolerance = presenter.area.0.max(presenter.area.1) * 0.005;
    let centred = (presenter.centre.0 - viewer.centre.0).abs() < tolerance
        && (presenter.centre.1 - viewer.centre.1).abs() < tolerance;
    let fits = viewer.area.0 >= presenter.area.0 * 0.995 && viewer.area.1 >= presenter.area.1 * 0.995;
    let fills =
        (viewer.area.0 - presenter.area.0).abs() < tolerance || (viewer.area.1 - presenter.area.1).abs() < tolerance;
    centred && fits && fills
}

/// Waits until the student's page shows what the teacher's shows.
async fn wait_following(teacher: &Page<'_>, student: &Page<'_>, what: &str) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let (presenter, viewer) = (shown(teacher).await, shown(student).await);
        if same_view(presenter, viewer) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the student's page shows {viewer:?}, the teacher's {presenter:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A point of the canvas with nothing drawn on it (where a drag pans), in viewport pixels.
const EMPTY_SPOT: &str = "
    const c = document.querySelector('svg.canvas').getBoundingClientRect();
    for (let fy = 0.05; fy < 1; fy += 0.05) for (let fx = 0.05; fx < 1; fx += 0.05) {
        const x = c.left + c.width * fx, y = c.top + c.height * fy;
        const hit = document.elementFromPoint(x, y);
        if (hit && (hit.matches('svg.canvas') || hit.matches('path.grid-line'))) return [x, y];
    }
    return null;";

async fn empty_spot(page: &Page<'_>) -> (f64, f64) {
    let spot = page.client.execute(EMPTY_SPOT, vec![]).await.expect("the canvas is searched");
    let n = |i: usize| spot[i].as_f64().unwrap_or_else(|| panic!("no empty spot on the canvas: {spot}"));
    (n(0), n(1))
}

/// Drags the background from a spot with nothing drawn on it, 80 px towards the centre.
async fn pan(page: &Page<'_>) {
    let (x, y) = empty_spot(page).await;
    let (cx, cy) = page.center_of("svg.canvas").await;
    let towards = |from: f64, centre: f64, by: f64| if from < centre { from + by } else { from - by };
    page.drag_between((x, y), (towards(x, cx, 80.0), towards(y, cy, 40.0))).await;
}

async fn wheel_zoom_in(page: &Page<'_>, at: (f64, f64)) {
    let wheel = WheelActions::new("wheel".to_string()).then(WheelAction::Scroll {
        duration: None,
        x: at.0 as i64,
        y: at.1 as i64,
        delta_x: 0,
        delta_y: -120,
    });
    page.client.perform_actions(wheel).await.expect("the wheel turns");
}

#[tokio::test(flavor = "current_thread")]
async fn the_students_page_follows_the_teachers_view_and_selection_until_the_student_moves() {
    let (server, _state) = start_classroom("presenter-follow");
    let teacher_browser = Browser::start().await;
    let student_browser = Browser::start().await;
    // The student's screen is smaller than the teacher's: the same area shows, smaller.
    student_browser.client.set_window_size(1024, 700).await.expect("the window resizes");
    let teacher = Page::open(&teacher_browser.client, &server.page_url(), "presenter-teacher").await;
    let student =
        Page::open(&student_browser.client, &format!("{}/?token={STUDENT}", server.url), "presenter-student").await;
    teacher.wait_for("g.node[data-name='router']").await;
    student.wait_for("g.node[data-name='router']").await;
    assert_eq!(student.count("#presenter-banner").await, 0, "nobody presents yet");

    // The teacher presents: the panel goes, the student's page follows.
    teacher.press('p', false, false).await;
    teacher.wait_for(".app.presenting").await;
    assert!(!panel_shown(&teacher).await, "presenter mode hides the side panel");
    assert_eq!(teacher.count("#presenter-banner").await, 0, "the presenter follows nobody");
    student.wait_for("#presenter-banner[data-following='true']").await;
    wait_following(&teacher, &student, "P").await;
    teacher.shot("01-presenting").await;
    student.shot("01-following").await;

    // The teacher zooms with the wheel, pans by dragging the background and clicks a node.
    let zoom = teacher.zoom().await;
    wheel_zoom_in(&teacher, teacher.center_of("svg.canvas").await).await;
    let deadline = Instant::now() + PAGE_WAIT;
    while teacher.zoom().await < zoom * 1.1 {
        assert!(Instant::now() < deadline, "the wheel never zoomed the teacher's page in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pan(&teacher).await;
    teacher.click_at("g.node[data-name='router'] .body", false).await;
    teacher.wait_for("g.node.selected[data-name='router']").await;
    student.wait_for("g.node.selected[data-name='router']").await;
    assert_eq!(student.count("g.node.selected").await, 1, "the teacher's selection, only");
    wait_following(&teacher, &student, "after the teacher's wheel, drag and click").await;
    assert!(student.disabled("#undo").await, "following is no edit: nothing to undo");
    teacher.shot("02-moved").await;
    student.shot("02-followed").await;

    // The student pans: the page stops following, and offers to follow again.
    pan(&student).await;
    student.wait_for("#presenter-banner[data-following='false']").await;
    let own = shown(&student).await;
    let before = shown(&teacher).await;
    let mut watching = Events::connect(&server).await;
    teacher.press('-', false, false).await;
    let zoomed_out = loop {
        let event = watching.wait_for("the teacher's zoom", WAIT, |e| matches!(e, Event::Presenter(_))).await;
        if let Event::Presenter(PresenterEvent { view: Some(view), .. }) = event {
            if view.width > before.area.0 * 1.1 {
                break view;
            }
        }
    };
    // The student's page heard it too (same server, same moment); it keeps the student's view.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(shown(&student).await, own, "not following: the teacher's zoom to {zoomed_out:?} moved nothing");
    student.shot("03-own-view").await;
    student.click("#follow").await;
    student.wait_for("#presenter-banner[data-following='true']").await;
    wait_following(&teacher, &student, "follow again").await;

    // The teacher leaves presenter mode: the banner goes, the student's view stays.
    teacher.press('\u{E00C}', false, false).await; // Escape
    teacher.wait_gone(".app.presenting").await;
    assert!(panel_shown(&teacher).await, "the side panel is back");
    student.wait_gone("#presenter-banner").await;
    student.shot("04-ended").await;
    teacher.assert_no_bug().await;
    teacher_browser.close().await;
    student_browser.close().await;
}

/// Whether the side panel takes room on the page.
async fn panel_shown(page: &Page<'_>) -> bool {
    let script = "return document.getElementById('side-panel').getClientRects().length > 0;";
    page.client.execute(script, vec![]).await.expect("the panel is looked for") == json!(true)
}

/// Sizes the window so that the page's viewport is `width` x `height`.
async fn set_viewport(page: &Page<'_>, width: u32, height: u32) {
    page.client.set_window_size(width, height).await.expect("the window resizes");
    let inner = page.client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
    let (w, h) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    page.client.set_window_size(2 * width - w, 2 * height - h).await.expect("the window resizes");
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let inner = page.client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
        if inner == json!([width, height]) {
            return;
        }
        assert!(Instant::now() < deadline, "the viewport never became {width}x{height}: {inner}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The drawing's box inside the canvas's, as fractions: (inside, the larger side's share).
fn drawing_in_canvas(c: &Value) -> (bool, f64) {
    let n = |v: &Value, key: &str| v[key].as_f64().unwrap_or_else(|| panic!("no {key} in {v}"));
    let d = &c["drawing"];
    let (left, top, width, height) = (n(c, "left"), n(c, "top"), n(c, "width"), n(c, "height"));
    let inside = n(d, "left") >= left - 1.0
        && n(d, "top") >= top - 1.0
        && n(d, "right") <= left + width + 1.0
        && n(d, "bottom") <= top + height + 1.0;
    let share = ((n(d, "right") - n(d, "left")) / width).max((n(d, "bottom") - n(d, "top")) / height);
    (inside, share)
}

#[tokio::test(flavor = "current_thread")]
async fn presenter_mode_fills_a_1024_and_a_1920_pixel_screen_with_the_drawing() {
    let lab = example("router");
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_with(ServerOptions {
        sandbox: None,
        lab: Some(&lab),
        state_dir: state.path(),
        extra: &[],
        log_name: "presenter-fit",
    });
    let browser = Browser::start().await;
    for (width, height) in [(1024, 768), (1920, 1080)] {
        let page = Page::open(&browser.client, &server.page_url(), "presenter-fit").await;
        set_viewport(&page, width, height).await;
        // Opened at this size: the drawing starts on the screen.
        page.client.refresh().await.expect("the page reloads");
        page.wait_for(".connection.live").await;
        page.wait_for("g.node[data-name='router']").await;
        let (inside, _) = drawing_in_canvas(&canvas(&page).await);
        assert!(inside, "{width} px: the drawing starts on the screen: {}", canvas(&page).await);
        page.shot(&format!("{width}-01-opened")).await;

        page.click("#presenter").await;
        page.wait_for(".app.presenting").await;
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let measured = canvas(&page).await;
            let (inside, share) = drawing_in_canvas(&measured);
            if inside && share > 0.9 {
                break;
            }
            assert!(Instant::now() < deadline, "{width} px: the drawing does not fill the screen: {measured}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let canvas_width = canvas(&page).await["width"].as_f64().unwrap();
        assert!(
            canvas_width >= f64::from(width) - 1.0,
            "{width} px: the canvas takes the whole width ({canvas_width})"
        );
        page.shot(&format!("{width}-02-presenting")).await;
        // The button (or Escape) leaves it: the panel is back.
        page.click("#presenter").await;
        page.wait_gone(".app.presenting").await;
        assert!(panel_shown(&page).await, "{width} px: the side panel is back");
        let (inside, _) = drawing_in_canvas(&canvas(&page).await);
        assert!(inside, "{width} px: after presenting the drawing is fitted to the smaller canvas");
    }
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_presenting_page_that_closes_ends_the_presentation() {
    let (server, _state) = start_classroom("presenter-closed");
    let teacher_browser = Browser::start().await;
    let student_browser = Browser::start().await;
    let teacher = Page::open(&teacher_browser.client, &server.page_url(), "presenter-closed-teacher").await;
    let student =
        Page::open(&student_browser.client, &format!("{}/?token={STUDENT}", server.url), "presenter-closed").await;
    teacher.wait_for("g.node[data-name='router']").await;
    teacher.click("#presenter").await;
    student.wait_for("#presenter-banner[data-following='true']").await;
    // The teacher's page goes away (closed, or another address): its beacon says so. Nothing
    // else could: the server ends a presentation only when told.
    teacher_browser.client.goto("about:blank").await.expect("the teacher's browser leaves the page");
    student.wait_gone("#presenter-banner").await;
    student.shot("01-ended").await;
    teacher_browser.close().await;
    student_browser.close().await;
}
