//! Terminals in the editor, in real headless Chromium with real pointer and keyboard input
//! (WebDriver actions), against a real `nslab serve --terminals` in a sandbox with the seed
//! bridge lab applied: a namespace double-clicked on the canvas opens a terminal in the
//! dock, a command typed into it answers in the terminal's DOM (xterm.js's rows); and a
//! server without `--terminals` says in the dock how to turn them on.

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::key::Key;
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

/// The rows of the terminal the dock shows.
const SHOWN_ROWS: &str = "#terminal-dock .terminal-screen.shown .xterm-rows";

/// Double-clicks the card of `node` with the pointer.
async fn double_click_node(page: &Page<'_>, node: &str) {
    let (x, y) = page.center_of(&format!("g.node[data-name='{node}'] rect.body")).await;
    let mouse = MouseActions::new("mouse".to_string())
        .then(PointerAction::MoveTo { duration: None, x, y })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(mouse).await.expect("the pointer double-clicks");
}

/// Types `text` and Enter with the keyboard, key by key, into whatever has the focus.
async fn type_line(page: &Page<'_>, text: &str) {
    let mut keys = KeyActions::new("keys".to_string());
    for key in text.chars().chain([char::from(Key::Enter)]) {
        keys = keys.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    }
    page.client.perform_actions(keys).await.expect("the keys are typed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_terminal_opened_from_the_canvas_runs_what_is_typed() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in_with(&sandbox, &["--terminals"], "editor-terminal");
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-terminal").await;
    page.wait_count("g.node.namespace.present", 3).await;
    assert_eq!(page.count("#terminal-dock.empty").await, 1, "no dock before a terminal is opened");

    double_click_node(&page, "ns1").await;
    page.wait_for("#terminal-dock .dock-tab.active[data-node='ns1']").await;
    page.wait_text(SHOWN_ROWS, "shows ns1's prompt", |rows| rows.contains("[ns1]")).await;
    type_line(&page, "ip -br addr").await;
    let rows = page
        .wait_text(SHOWN_ROWS, "shows ns1's eth0 and its address", |rows| {
            rows.contains("eth0") && rows.contains("172.17.0.102/16")
        })
        .await;
    assert!(!rows.contains("docker0"), "the terminal is in ns1, not the host: {rows}");
    page.shot("01-ip-addr").await;

    // Folded away, the dock gives the canvas its room back; the inspector opens a second
    // terminal, on ns2, and unfolds the dock with it in front.
    page.click("#terminal-dock .dock-fold").await;
    page.wait_for("#terminal-dock.collapsed").await;
    page.click_at("g.node[data-name='ns2'] rect.body", false).await;
    page.click("button.open-terminal").await;
    page.wait_for("#terminal-dock .dock-tab.active[data-node='ns2']").await;
    assert_eq!(page.count("#terminal-dock.collapsed").await, 0, "opening a terminal unfolds the dock");
    page.wait_count("#terminal-dock .dock-tab", 2).await;
    page.wait_text(SHOWN_ROWS, "shows ns2's prompt", |rows| rows.contains("[ns2]")).await;
    type_line(&page, "echo \"on $NSLAB_NODE\"").await;
    page.wait_text(SHOWN_ROWS, "answers in ns2", |rows| rows.contains("on ns2")).await;

    // The shell ending says so in its tab; the events log tells of both terminals.
    type_line(&page, "exit").await;
    page.wait_text(SHOWN_ROWS, "says the shell ended", |rows| rows.contains("[the shell ended]")).await;
    page.wait_for("#terminal-dock .dock-tab.ended[data-node='ns2']").await;
    page.click("#tab-log").await;
    page.wait_text("#side-panel", "logs the terminal opened", |text| text.contains("terminal opened on ns1")).await;
    page.wait_text("#side-panel", "logs the shell ended", |text| text.contains("terminal on ns2 closed")).await;
    page.shot("02-two-terminals").await;

    // Closing a tab closes its terminal: the server ends the shell and says so.
    page.click("#terminal-dock .dock-tab[data-node='ns1'] .dock-tab-close").await;
    page.wait_text("#side-panel", "logs ns1's terminal closed", |text| text.contains("terminal on ns1 closed")).await;
    page.assert_no_bug().await;
}

#[tokio::test(flavor = "current_thread")]
async fn without_terminals_the_dock_says_how_to_turn_them_on() {
    let (server, _state) = NslabServer::start(None, "editor-terminal-off");
    let browser = Browser::start_in(None, None).await;
    let page = Page::open(&browser.client, &server.url, "editor-terminal-off").await;
    page.wait_for("g.node[data-name='ns1']").await;
    double_click_node(&page, "ns1").await;
    let said = page.wait_text("#terminal-dock .terminal-refused", "says why", |text| !text.is_empty()).await;
    assert!(said.contains("terminals are off on this server") && said.contains("nslab serve --terminals"), "{said}");
    page.shot("01-off").await;
    page.assert_no_bug().await;
}
