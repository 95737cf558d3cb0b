//! Accessibility of the editor in real headless Chromium, with a lab applied in a sandbox:
//! axe-core finds no serious or critical violation on the main views, every control is
//! reached with Tab and shows where the focus is, and the canvas's nodes are reached and
//! worked with the keyboard alone.

use nslab_tests::axe::serious_violations;
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

#[tokio::test(flavor = "current_thread")]
async fn the_main_views_have_no_serious_accessibility_violations() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in(&sandbox, "editor-a11y");
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-a11y").await;
    page.wait_count("g.node.namespace.present", 3).await;

    let mut found = Vec::new();
    let mut check = |view: &str, violations: Vec<String>| {
        found.extend(violations.into_iter().map(|violation| format!("{view}: {violation}")));
    };
    check("the lab applied", serious_violations(&page).await);
    page.click_at("g.node[data-name='ns1'] rect.body", false).await;
    page.wait_for("g.node.selected").await;
    check("a node selected", serious_violations(&page).await);
    for tab in ["plan & run", "ip commands", "ping", "matrix", "events"] {
        let xpath = format!("//nav[contains(@class,'tabs')]//button[normalize-space(.)='{tab}']");
        page.client.find(fantoccini::Locator::XPath(&xpath)).await.expect("the tab").click().await.unwrap();
        check(tab, serious_violations(&page).await);
    }
    page.click("#legend summary").await;
    check("the legend open", serious_violations(&page).await);
    page.click("#shortcuts").await;
    check("the shortcuts", serious_violations(&page).await);
    page.shot("01-checked").await;
    assert!(found.is_empty(), "{}", found.join("\n"));
    browser.close().await;
}

/// What has the keyboard's focus: its id, a node's name, `link N`, or its tag; and
/// whether the focus shows (an outline, or a node's or link's own focus style).
const FOCUSED: &str = "const e = document.activeElement;
    const style = getComputedStyle(e);
    const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const own = e.matches('g.node') ? e.querySelector(':scope > rect.body')
        : e.matches('g.link') ? e.querySelector(':scope > line.wire') : null;
    const styled = own !== null && getComputedStyle(own).strokeDasharray !== 'none'
        || own !== null && parseFloat(getComputedStyle(own).strokeWidth) >= 4;
    const name = e.id || e.getAttribute('data-name')
        || (e.getAttribute('data-index') !== null ? 'link ' + e.getAttribute('data-index') : e.tagName);
    return [name, outlined || styled];";

/// Presses Tab until `wanted` has the focus (at most `limit` times); every stop on the way
/// must show where the focus is. The stops, in order.
async fn tab_to(page: &Page<'_>, wanted: &str, limit: usize) -> Vec<String> {
    let mut stops = Vec::new();
    for _ in 0..limit {
        page.press('\u{E004}', false, false).await;
        let value = page.client.execute(FOCUSED, vec![]).await.expect("the script runs");
        let (name, shows): (String, bool) = serde_json::from_value(value).expect("a name and a flag");
        if name == "BODY" {
            continue; // past the last control: Tab goes round to the first
        }
        assert!(shows, "the focus on `{name}` does not show (after {stops:?})");
        stops.push(name.clone());
        if name == wanted {
            return stops;
        }
    }
    panic!("Tab never reached `{wanted}`: {stops:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn every_control_and_node_is_reached_and_worked_with_the_keyboard() {
    let (server, _state) = NslabServer::start(None, "editor-keyboard");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-keyboard").await;
    page.wait_for("g.node[data-name='ns2']").await;

    // The toolbar's controls, the canvas's nodes and links, the panel's handle: all on the
    // way of Tab from the top of the page, each showing the focus.
    page.client.execute("document.activeElement.blur();", vec![]).await.unwrap();
    let stops = tab_to(&page, "panel-resizer", 120).await;
    for control in
        ["add-namespace", "layout", "fit", "open", "examples", "plan", "apply", "destroy", "ns0", "docker0", "link 0"]
    {
        assert!(stops.iter().any(|stop| stop == control), "Tab never stops on `{control}`: {stops:?}");
    }
    page.shot("01-tabbed").await;

    // Enter selects the focused node, the arrows move it a grid step, Shift+Enter adds a
    // second node, and C connects the two.
    page.client.execute("document.activeElement.blur();", vec![]).await.unwrap();
    tab_to(&page, "ns0", 120).await;
    page.press('\u{E007}', false, false).await;
    page.wait_for("g.node.selected[data-name='ns0']").await;
    let x = |lab: &nslab_model::Lab| lab.node("ns0").and_then(|n| n.editor().and_then(|e| e.x));
    let before = x(&api.lab().await.lab).expect("ns0 has a position");
    page.press('\u{E014}', false, false).await; // ArrowRight
    api.wait_for_lab("ns0 moved right", |lab| x(lab).is_some_and(|now| now > before)).await;
    tab_to(&page, "ns2", 40).await;
    page.press('\u{E007}', false, true).await; // Shift+Enter
    page.wait_count("g.node.selected", 2).await;
    page.press('c', false, false).await;
    page.wait_count("g.link", 4).await;
    api.wait_for_lab("the veth between ns0 and ns2", |lab| {
        lab.links.iter().any(|link| {
            let [a, b] = link.ends();
            (a.node == "ns0" && b.node == "ns2") || (a.node == "ns2" && b.node == "ns0")
        })
    })
    .await;
    page.shot("02-connected-by-keyboard").await;
    page.assert_no_bug().await;
    browser.close().await;
}
