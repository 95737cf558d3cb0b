//! The canvas's gestures in real headless Chromium against a real `nslab serve` (on the
//! host: nothing here is applied): shift-click and rubber-band selection, deleting a
//! selection and undoing/redoing it with the keyboard, wheel zoom, fit, automatic layout,
//! the help overlay, the connection indicator coming back after a server restart, and an edit
//! made offline meeting a newer lab (keep mine, take theirs).

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, WheelAction, WheelActions, MOUSE_BUTTON_LEFT};
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::server::{NslabServer, ServerOptions};

#[tokio::test(flavor = "current_thread")]
async fn select_delete_undo_redo_zoom_and_lay_out() {
    let (server, _state) = NslabServer::start(None, "editor-gestures");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-gestures").await;
    page.wait_for("g.node[data-name='ns2']").await;

    // Shift-click adds to the selection.
    page.click_at("g.node[data-name='ns0'] rect.body", false).await;
    page.click_at("g.node[data-name='ns1'] rect.body", true).await;
    page.wait_count("g.node.selected", 2).await;
    page.wait_text(".inspector .hint", "counted the selection", |t| t.starts_with("2 things selected")).await;

    // A shift-drag on the background draws a rubber band: it selects what it encloses.
    let (left, top) = page.center_of("g.node[data-name='ns0'] rect.body").await;
    let (right, bottom) = page.center_of("g.node[data-name='ns2'] rect.body").await;
    page.click_at("g.node[data-name='docker0'] rect.body", false).await; // one selected
    let (from, to) = ((left - 90.0, top - 60.0), (right + 90.0, bottom + 60.0));
    let band = shift_drag(from, to);
    page.client.perform_actions(band).await.unwrap();
    page.wait_count("g.node.selected", 3).await;
    assert_eq!(page.count("g.node.selected[data-name='docker0']").await, 0, "the band replaced the selection");
    page.shot("01-band").await;

    // Delete removes the three namespaces and their links; Ctrl+Z brings them back,
    // Ctrl+Shift+Z removes them again, and the server follows each step.
    page.press('\u{E017}', false, false).await;
    page.wait_count("g.node", 1).await;
    page.wait_count("g.link", 0).await;
    wait_nodes(&api, 1).await;
    page.press('z', true, false).await;
    page.wait_count("g.node", 4).await;
    page.wait_count("g.link", 3).await;
    wait_nodes(&api, 4).await;
    page.press('z', true, true).await;
    page.wait_count("g.node", 1).await;
    wait_nodes(&api, 1).await;
    page.click("#undo").await;
    page.wait_count("g.node", 4).await;
    wait_nodes(&api, 4).await; // so that the next wait sees this lab, not the one before
    assert!(!page.disabled("#redo").await, "redo is offered after an undo");
    page.shot("02-undone").await;

    // The wheel zooms around the pointer; fit brings the whole lab into view.
    let before = page.zoom().await;
    let (x, y) = page.center_of("svg.canvas").await;
    let wheel = WheelActions::new("wheel".to_string()).then(WheelAction::Scroll {
        duration: None,
        x: x as i64,
        y: y as i64,
        delta_x: 0,
        delta_y: -120,
    });
    page.client.perform_actions(wheel).await.unwrap();
    wait_until(|| async { page.zoom().await > before * 1.1 }, "the wheel zoomed in").await;
    page.click("#fit").await;
    wait_until(|| async { (page.zoom().await - before).abs() < 1e-6 }, "fit restored the view").await;
    assert_eq!(page.count("g.world.far").await, 0, "at zoom {before} the details show");
    for _ in 0..5 {
        page.click("#zoom-out").await;
    }
    page.wait_for("g.world.far").await; // far out: names only
    page.shot("02b-far").await;
    page.click("#fit").await;
    page.wait_gone("g.world.far").await;
    // The keys the zoom buttons' titles name: `+` (or `=`) in, `-` out, a step each.
    page.press('+', false, false).await;
    wait_until(|| async { (page.zoom().await - before * 1.25).abs() < 1e-6 }, "+ zoomed in a step").await;
    page.press('-', false, false).await;
    page.press('-', false, false).await;
    wait_until(|| async { (page.zoom().await - before * 0.8).abs() < 1e-6 }, "- zoomed out two steps").await;
    page.click("#fit").await;

    // Drag a node out of place; automatic layout (the L key) puts every node where the
    // model's layout says, as one edit.
    page.drag_by("g.node[data-name='ns0'] rect.body", (60.0, 90.0)).await;
    let moved = api.wait_for_lab("changed as expected", |lab| lab != &seed_bridge()).await;
    let expected = nslab_model::edit::auto_layout(&moved);
    assert_ne!(expected, moved, "the layout has something to do");
    page.press('l', false, false).await;
    api.wait_for_lab("changed as expected", |lab| lab == &expected).await;
    page.shot("03-laid-out").await;
    page.click("#undo").await;
    api.wait_for_lab("changed as expected", |lab| lab == &moved).await;

    // A bundled example opens (through the server, like a file); the host joins it once.
    page.wait_for("#examples option[value='router']").await.click().await.unwrap();
    page.wait_text(".toolbar .lab-name", "opened the router example", |t| t == "router").await;
    assert_eq!(page.node_names().await, ["left", "right", "router"]);
    api.wait_for_lab("changed as expected", |lab| lab.name == "router").await;
    page.press('h', false, false).await;
    page.wait_for("g.node.host[data-name='host']").await;
    page.press('h', false, false).await;
    page.wait_text("#notice", "refused a second host", |t| t.contains("already has the host")).await;
    page.click("#notice button").await;
    api.wait_for_lab("changed as expected", |lab| lab.node("host").is_some()).await;

    // The help overlay lists the shortcuts; Escape closes it.
    page.press('?', false, true).await;
    let help = page.wait_text("#help.open", "opened", |t| t.contains("Ctrl+Z")).await;
    assert!(help.contains("Delete"), "{help}");
    page.shot("04-help").await;
    page.press('\u{E00C}', false, false).await;
    page.wait_gone("#help.open").await;
    browser.close().await;
}

/// The seed bridge lab as the server opens it.
/// Dragging a new veth: the preview line starts at the handle grabbed (not at the node's
/// centre), the node under the pointer is marked as the target while the button is held,
/// and letting go there connects the two; an error in the inspector stays inside its box.
#[tokio::test(flavor = "current_thread")]
async fn a_veth_dragged_from_a_handle_previews_from_it_and_marks_its_target() {
    let (server, _state) = NslabServer::start(None, "editor-connect");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-connect").await;
    page.wait_for("g.node[data-name='ns2']").await;

    let handle = page.center_of("g.node[data-name='ns0'] circle.handle").await;
    let target = page.center_of("g.node[data-name='ns2'] rect.body").await;
    let mut pressing = MouseActions::new("mouse".to_string())
        .then(PointerAction::MoveTo { duration: None, x: handle.0, y: handle.1 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for step in 1..=10 {
        let fraction = f64::from(step) / 10.0;
        let (x, y) = (handle.0 + (target.0 - handle.0) * fraction, handle.1 + (target.1 - handle.1) * fraction);
        pressing = pressing.then(PointerAction::MoveTo { duration: Some(Duration::from_millis(20)), x, y });
    }
    page.client.perform_actions(pressing).await.expect("the pointer drags");
    // Where the preview line starts, on the screen.
    let script = "const line = document.querySelector('line.connecting');
        const at = line.ownerSVGElement.createSVGPoint();
        at.x = line.x1.baseVal.value; at.y = line.y1.baseVal.value;
        const screen = at.matrixTransform(line.getScreenCTM());
        return [screen.x, screen.y];";
    let start: [f64; 2] = serde_json::from_value(page.client.execute(script, vec![]).await.unwrap()).unwrap();
    assert!(
        (start[0] - handle.0).abs() < 4.0 && (start[1] - handle.1).abs() < 4.0,
        "the preview starts at the handle {handle:?}, not at {start:?}"
    );
    page.wait_for("g.node.connect-target[data-name='ns2']").await;
    assert_eq!(page.count("g.node.connect-target").await, 1, "only the node under the pointer");
    page.shot("01-connecting").await;
    let release = MouseActions::new("mouse".to_string()).then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(release).await.expect("the pointer lets go");
    page.wait_count("g.link", 4).await;
    assert_eq!(page.count("g.node.connect-target").await, 0, "the mark goes with the drag");
    wait_until(
        || async { api.lab().await.lab.links.iter().any(|link| link.ends().iter().all(|end| end.node != "docker0")) },
        "the server has the new veth",
    )
    .await;

    // A long value without spaces, refused: its message wraps inside the inspector.
    page.click_at("g.node[data-name='ns0'] rect.body", false).await;
    page.click("button.add-route").await;
    let via = "input[data-path='nodes[1].routes[0].via']";
    page.type_into(via, &"10.0.0.1".repeat(12)).await;
    page.wait_for(".inspector .problem.error").await;
    let script = "const inspector = document.querySelector('.inspector').getBoundingClientRect();
        return [...document.querySelectorAll('.inspector .problem')]
            .filter(p => p.getBoundingClientRect().right > inspector.right + 1 || p.scrollWidth > p.clientWidth + 1)
            .map(p => p.textContent);";
    let overflowing = page.client.execute(script, vec![]).await.unwrap();
    assert_eq!(overflowing, serde_json::json!([]), "a message runs past the inspector");
    page.shot("02-long-error").await;
    page.assert_no_bug().await;
    browser.close().await;
}

fn seed_bridge() -> nslab_model::Lab {
    nslab_tests::paths::example_lab("seed-bridge")
}

fn shift_drag(from: (f64, f64), to: (f64, f64)) -> Vec<fantoccini::actions::ActionSequence> {
    use fantoccini::actions::{KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    let shift = fantoccini::key::Key::Shift;
    let step = Duration::from_millis(30);
    let keys = KeyActions::new("keys".to_string())
        .then(KeyAction::Down { value: shift.into() })
        .then(KeyAction::Pause { duration: Duration::ZERO })
        .then(KeyAction::Pause { duration: Duration::ZERO })
        .then(KeyAction::Pause { duration: step })
        .then(KeyAction::Pause { duration: step })
        .then(KeyAction::Pause { duration: step })
        .then(KeyAction::Up { value: shift.into() });
    let mouse = MouseActions::new("mouse".to_string())
        .then(PointerAction::Pause { duration: Duration::ZERO })
        .then(PointerAction::MoveTo { duration: None, x: from.0, y: from.1 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveTo { duration: Some(step), x: (from.0 + to.0) / 2.0, y: (from.1 + to.1) / 2.0 })
        .then(PointerAction::MoveTo { duration: Some(step), x: to.0, y: to.1 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Pause { duration: Duration::ZERO });
    vec![keys.into(), mouse.into()]
}

async fn wait_until<F, Fut>(check: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + nslab_tests::page::PAGE_WAIT;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "{what}: never");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_nodes(api: &Client, count: usize) {
    api.wait_for_lab(&format!("had {count} nodes"), |lab| lab.nodes.len() == count).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_page_reconnects_and_resyncs_after_the_server_restarts() {
    let state = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let extra = ["--listen", listen.as_str()];
    let options = || ServerOptions {
        sandbox: None,
        lab: None,
        state_dir: state.path(),
        extra: &extra,
        log_name: "editor-reconnect",
    };
    let server = NslabServer::start_with(options());
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-reconnect").await;
    page.wait_for("g.node[data-name='docker0']").await;
    drop(server);
    page.wait_for(".connection.lost").await;
    page.shot("01-lost").await;

    // While it is away, another client changes the document on disk through a new server.
    let server = NslabServer::start_with(options());
    let api = Client::new(&server);
    let mut view = api.lab().await;
    view.lab = nslab_model::edit::delete(&view.lab, &nslab_model::edit::Selection::node("ns2"));
    let response = api.put_lab(view.revision, &view.lab).await;
    assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());

    page.wait_for(".connection.live").await;
    page.wait_gone("g.node[data-name='ns2']").await;
    page.wait_count("g.link", 2).await;
    page.shot("02-resynced").await;
    browser.close().await;
}

/// A student's page loses the network and adds ns3 while the teacher removes ns2; back
/// online, the page learns of the newer lab and explains the conflict. The teacher's lab
/// and the banner's words.
async fn offline_edit_meets_a_newer_lab(page: &Page<'_>, api: &Client) -> (nslab_model::api::LabView, String) {
    page.wait_for("g.node[data-name='ns2']").await;
    page.set_offline(true).await;
    page.click("#add-namespace").await;
    page.wait_for("g.node[data-name='ns3']").await;
    page.wait_text("#notice", "said the edit is not saved yet", |t| t.contains("not saved yet")).await;
    let mut view = api.lab().await;
    view.lab = nslab_model::edit::delete(&view.lab, &nslab_model::edit::Selection::node("ns2"));
    let response = api.put_lab(view.revision, &view.lab).await;
    assert!(response.status().is_success());
    let theirs: nslab_model::api::LabView = response.json().await.unwrap();
    page.set_offline(false).await;
    let banner = page.wait_text("#conflict", "explained the conflict", |t| t.contains("Someone else")).await;
    (theirs, banner)
}

#[tokio::test(flavor = "current_thread")]
async fn an_edit_made_offline_meets_the_newer_lab_as_an_explained_conflict() {
    let (server, _state) = NslabServer::start(None, "editor-conflict");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-conflict").await;
    let (_theirs, banner) = offline_edit_meets_a_newer_lab(&page, &api).await;
    assert!(banner.contains("still here"), "{banner}");
    assert_eq!(page.count("g.node[data-name='ns3']").await, 1, "the student's edit is kept");
    page.shot("01-conflict").await;

    // Keeping theirs would lose ns3; keeping mine puts the student's lab over the teacher's.
    page.click("#keep-mine").await;
    page.wait_gone("#conflict").await;
    let lab = api.wait_for_lab("changed as expected", |lab| lab.node("ns3").is_some()).await;
    assert!(lab.node("ns2").is_some(), "the student's lab, whole");
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn take_theirs_drops_the_offline_edit_for_the_newer_lab() {
    let (server, _state) = NslabServer::start(None, "editor-take-theirs");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-take-theirs").await;
    let (theirs, _banner) = offline_edit_meets_a_newer_lab(&page, &api).await;

    // Take theirs: the page shows the teacher's lab, the student's ns3 is gone, and the
    // server keeps the teacher's lab.
    page.click("#take-theirs").await;
    page.wait_gone("#conflict").await;
    page.wait_gone("g.node[data-name='ns3']").await;
    page.wait_gone("g.node[data-name='ns2']").await;
    assert_eq!(page.node_names().await, ["docker0", "ns0", "ns1"]);
    page.shot("01-took-theirs").await;
    // The page goes on from their lab: its next edit lands on it, without ns3.
    page.press('b', false, false).await;
    let lab = api.wait_for_lab("got the next edit", |lab| lab.nodes.len() == 4).await;
    let mut names: Vec<&str> = lab.nodes.iter().map(|n| n.name()).collect();
    names.sort();
    assert_eq!(names, ["br0", "docker0", "ns0", "ns1"], "their lab and the new bridge");
    assert_eq!(api.lab().await.revision, theirs.revision + 1, "one edit after theirs");
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_edit_made_offline_is_saved_when_the_page_is_back_online() {
    let (server, _state) = NslabServer::start(None, "editor-offline");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-offline").await;
    page.wait_for("g.node[data-name='ns2']").await;
    page.set_offline(true).await;
    page.click("#add-bridge").await;
    page.wait_text("#notice", "said the edit is not saved yet", |t| t.contains("not saved yet")).await;
    page.set_offline(false).await;
    // Nobody else changed the lab: the page keeps trying, and the edit gets through.
    let lab = api.wait_for_lab("changed as expected", |lab| lab.node("br0").is_some()).await;
    assert_eq!(lab.nodes.len(), 5);
    page.wait_gone("#notice").await;
    assert_eq!(page.count("#conflict").await, 0);
    browser.close().await;
}
