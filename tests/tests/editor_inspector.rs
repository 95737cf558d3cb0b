//! The inspector's other fields in real headless Chromium against a real `nslab serve` (on
//! the host: nothing is applied): routes, forwarding and MTU, each with bad input, on the
//! router example.

use nslab_model::{Lab, Link, Node};
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::server::NslabServer;

fn routes_of<'a>(lab: &'a Lab, node: &str) -> &'a [nslab_model::Route] {
    lab.node(node).map(Node::routes).unwrap_or_default()
}

fn problems_under(path: &str) -> String {
    format!("input[data-path='{path}'] ~ .field-problems li.problem.error")
}

#[tokio::test(flavor = "current_thread")]
async fn routes_forwarding_and_mtu_are_edited_with_their_mistakes_marked() {
    let (server, _state) = NslabServer::start(None, "editor-inspector");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-inspector").await;
    page.wait_for("#examples option[value='router']").await.click().await.unwrap();
    page.wait_text(".toolbar .lab-name", "opened the router example", |t| t == "router").await;
    let lab = api.wait_for_lab("became the router", |lab| lab.name == "router").await;
    let left = lab.nodes.iter().position(|n| n.name() == "left").unwrap();

    // Routes: a gateway that is not an address is marked on its field; Apply waits.
    page.click_at("g.node[data-name='left'] rect.body", false).await;
    let via = format!("nodes[{left}].routes[0].via");
    page.type_into(&format!("input[data-path='{via}']"), "10.0.1.300").await;
    let message = page.wait_text(&problems_under(&via), "explained the gateway", |t| !t.is_empty()).await;
    assert!(message.contains("10.0.1.300"), "{message}");
    assert!(page.disabled("#apply").await);
    page.shot("01-bad-gateway").await;
    page.type_into(&format!("input[data-path='{via}']"), "10.0.1.1").await;
    page.wait_gone(&problems_under(&via)).await;
    assert!(!page.disabled("#apply").await);
    let routes = routes_of(&lab, "left").len();
    page.click(".inspector button.add-route").await;
    let added = api.wait_for_lab("got the new route", |lab| routes_of(lab, "left").len() == routes + 1).await;
    assert_eq!(routes_of(&added, "left")[routes].to, "default");
    page.press('z', true, false).await;
    api.wait_for_lab("lost the new route again", |lab| routes_of(lab, "left").len() == routes).await;

    // Forwarding: off in the router is one edit, shown as its sysctl; undo turns it back on.
    page.click_at("g.node[data-name='router'] rect.body", false).await;
    let forwarding = "//label[contains(., 'IPv4 forwarding')]/input";
    let checkbox = browser.client.find(fantoccini::Locator::XPath(forwarding)).await.unwrap();
    assert_eq!(checkbox.prop("checked").await.unwrap().as_deref(), Some("true"));
    checkbox.click().await.unwrap();
    let router_forwards = |lab: &Lab| matches!(lab.node("router"), Some(Node::Namespace(n)) if n.ipv4_forwarding);
    api.wait_for_lab("stopped forwarding", |lab| !router_forwards(lab)).await;
    page.click("#tab-commands").await;
    page.wait_text("#teaching pre.commands", "showed the sysctl", |t| t.contains("net.ipv4.ip_forward=0")).await;
    page.click("#tab-inspect").await;
    page.press('z', true, false).await;
    api.wait_for_lab("forwards again", router_forwards).await;

    // MTU: text that is no number stays in the field with the model's sentence, the lab keeps
    // its MTU and Apply waits; a number goes into the lab.
    page.click_at("g.link[data-index='0'] line.hit", false).await;
    page.wait_for("g.link.selected[data-index='0']").await;
    let mtu = "fieldset.end[data-side='a'] input[name='mtu']";
    page.type_into(mtu, "big").await;
    let message = page
        .wait_text("fieldset.end[data-side='a'] label.field:has(input[name='mtu']) li.problem.error", "said why", |t| {
            !t.is_empty()
        })
        .await;
    assert!(message.contains("big is not an MTU"), "{message}");
    let typed = "fieldset.end[data-side='a'] label.field:has(input[name='mtu']) li.problem.error code";
    assert_eq!(page.text(typed).await.as_deref(), Some("big"), "what was typed, as code");
    assert!(page.disabled("#apply").await, "Apply waits for the field");
    // Said once, on its field (red), and counted in the problems list.
    page.wait_for(&format!("{mtu}.invalid")).await;
    page.wait_text("#problems .count", "counted the field", |t| t == "1 problem").await;
    assert_eq!(page.count("#problems li.problem").await, 0, "not said twice");
    let field = page.wait_for(mtu).await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("big"), "what was typed stays");
    page.shot("02-bad-mtu").await;
    page.type_into(mtu, "9000").await;
    let lab =
        api.wait_for_lab("took the MTU", |lab| matches!(&lab.links[0], Link::Veth(v) if v.a.mtu == Some(9000))).await;
    assert!(!page.disabled("#apply").await);
    assert_eq!(lab.nodes.len(), 3);

    // The fields follow their node when it moves in the document: with `left` deleted,
    // `right` is nodes[1]; undoing the delete puts it back at nodes[2].
    page.click_at("g.node[data-name='left'] rect.body", false).await;
    page.press('\u{E017}', false, false).await;
    page.wait_gone("g.node[data-name='left']").await;
    page.click_at("g.node[data-name='right'] rect.body", false).await;
    page.wait_for("input[data-path='nodes[1].routes[0].to']").await;
    page.press('z', true, false).await;
    page.wait_for("g.node[data-name='left']").await;
    page.wait_for("input[data-path='nodes[2].routes[0].to']").await;
    assert_eq!(page.text(".inspector h3").await.as_deref(), Some("namespace right"));
    browser.close().await;
}
