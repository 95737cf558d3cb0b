//! What docs/editor.md promises of the keyboard and of dropping a file, in real headless
//! Chromium against a real `nslab serve` (on the host: nothing here is
//! applied).

use std::time::Duration;

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::server::NslabServer;

/// WebDriver's Backspace key.
const BACKSPACE: char = '\u{E003}';

async fn wait_zoom(page: &Page<'_>, expected: f64, what: &str) {
    let deadline = std::time::Instant::now() + nslab_tests::page::PAGE_WAIT;
    loop {
        let now = page.zoom().await;
        if (now - expected).abs() < 1e-6 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: the zoom is {now}, not {expected}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_keys_n_b_f_ctrl_a_backspace_and_ctrl_y_do_what_the_help_says() {
    let (server, _state) = NslabServer::start(None, "editor-keys");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-keys").await;
    page.wait_for("g.node[data-name='ns2']").await;

    // F fits the lab to the view, as the page opened it, after zooming in.
    let fitted = page.zoom().await;
    page.press('+', false, false).await;
    wait_zoom(&page, fitted * 1.25, "+ zoomed in").await;
    page.press('f', false, false).await;
    wait_zoom(&page, fitted, "F fitted the lab").await;

    // N adds a namespace, B a bridge.
    page.press('n', false, false).await;
    page.wait_for("g.node.namespace[data-name='ns3']").await;
    page.press('b', false, false).await;
    page.wait_count("g.node.bridge", 2).await;
    let lab = api.wait_for_lab("got the two new nodes", |lab| lab.nodes.len() == 6).await;
    assert!(lab.node("ns3").is_some_and(|n| matches!(n, nslab_model::Node::Namespace(_))), "{:?}", lab.nodes);
    let bridges = lab.nodes.iter().filter(|n| matches!(n, nslab_model::Node::Bridge(_))).count();
    assert_eq!(bridges, 2, "{:?}", lab.nodes);
    page.shot("01-added").await;

    // Ctrl+A selects everything; Backspace deletes it.
    page.press('a', true, false).await;
    page.wait_count("g.node.selected", 6).await;
    page.wait_count("g.link.selected", 3).await;
    page.press(BACKSPACE, false, false).await;
    page.wait_count("g.node", 0).await;
    page.wait_count("g.link", 0).await;
    api.wait_for_lab("lost everything", |l| l.nodes.is_empty() && l.links.is_empty()).await;
    page.shot("02-deleted").await;

    // Ctrl+Z brings it back; Ctrl+Y redoes the delete.
    page.press('z', true, false).await;
    page.wait_count("g.node", 6).await;
    api.wait_for_lab("got everything back", |l| l == &lab).await;
    page.press('y', true, false).await;
    page.wait_count("g.node", 0).await;
    api.wait_for_lab("lost everything again", |l| l.nodes.is_empty()).await;
    page.press('z', true, false).await;
    api.wait_for_lab("got everything back again", |l| l == &lab).await;
    browser.close().await;
}

/// Drops `file` (named `name`) on the canvas, as a file dragged from the desktop is: a
/// `drop` event whose DataTransfer holds it. WebDriver cannot drag from outside the page.
const DROP_FILE: &str = "
    const [name, text] = arguments;
    const data = new DataTransfer();
    data.items.add(new File([text], name, { type: 'application/json' }));
    const target = document.querySelector('svg.canvas');
    for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    }";

#[tokio::test(flavor = "current_thread")]
async fn a_file_dropped_on_the_page_opens() {
    let (server, _state) = NslabServer::start(None, "editor-drop");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-drop").await;
    page.wait_for("g.node[data-name='docker0']").await;
    let router = std::fs::read_to_string(nslab_tests::paths::example("router")).unwrap();
    page.client.execute(DROP_FILE, vec!["router.json".into(), router.into()]).await.expect("the drop");
    page.wait_text(".toolbar .lab-name", "showed the dropped lab", |t| t == "router").await;
    page.wait_gone("g.node[data-name='docker0']").await;
    assert_eq!(page.node_names().await, ["left", "right", "router"]);
    let lab = api.wait_for_lab("became the dropped lab", |lab| lab.name == "router").await;
    assert_eq!(lab, nslab_tests::paths::example_lab("router"), "the file, as it is");
    page.shot("01-dropped").await;
    browser.close().await;
}
