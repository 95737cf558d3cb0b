//! Live state that matches the kernel when someone else changes it, in real headless
//! Chromium against a real `nslab serve` in a sandbox: each change is made from outside the
//! page (a shell, another lab's apply, the API's destroy) and the page is read after it.

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use nslab_model::api::PlanView;
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

/// The number of steps `POST /api/plan` says applying the document runs now.
async fn planned_steps(server: &NslabServer) -> usize {
    let answer = Client::new(server).post("/api/plan").await;
    assert_eq!(answer.status(), 200);
    answer.json::<PlanView>().await.expect("a plan").ops.len()
}

/// The drift banner's count of steps, once it says `steps` (the same count the plan has).
async fn banner_says(page: &Page<'_>, steps: usize) -> String {
    let count = if steps == 1 { "runs 1 step".to_string() } else { format!("runs {steps} steps") };
    page.wait_text("#drift", &count, |text| text.contains(&count)).await
}

/// Clicks the canvas where nothing is drawn (the keys then go to the editor, not to a
/// field of the inspector).
async fn click_empty_canvas(page: &Page<'_>) {
    let script = "const box = document.querySelector('svg.canvas').getBoundingClientRect();
        for (const [fx, fy] of [[0.5, 0.04], [0.96, 0.5], [0.5, 0.96], [0.04, 0.5], [0.96, 0.04]]) {
            const [x, y] = [box.left + fx * box.width, box.top + fy * box.height];
            const at = document.elementFromPoint(x, y);
            if (at && at.closest('svg.canvas') && !at.closest('g.node, g.link')) return [x, y];
        }
        return null;";
    let point = page.client.execute(script, vec![]).await.expect("the script runs");
    let [x, y]: [f64; 2] = serde_json::from_value(point).expect("an empty place on the canvas");
    let mouse = MouseActions::new("mouse".to_string())
        .then(PointerAction::MoveTo { duration: None, x, y })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(mouse).await.expect("the pointer clicks");
}

/// The text of the tooltip (an SVG `title`, never rendered) of `css`.
async fn tooltip(page: &Page<'_>, css: &str) -> String {
    page.wait_for(css).await;
    let script = "return document.querySelector(arguments[0]).querySelector(':scope > title').textContent;";
    let text = page.client.execute(script, vec![css.into()]).await.expect("the script runs");
    text.as_str().unwrap_or_default().to_string()
}

/// The tooltip of node `name`'s card.
async fn card_tooltip(page: &Page<'_>, name: &str) -> String {
    tooltip(page, &format!("g.node[data-name='{name}']")).await
}

#[tokio::test(flavor = "current_thread")]
async fn changes_made_outside_the_page_show_on_it_as_they_are() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in(&sandbox, "editor-live");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-live").await;
    page.wait_for("g.node[data-name='ns2']").await;
    assert_eq!(page.count("g.node.present").await, 0, "nothing is applied yet");

    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    page.wait_count("g.node.namespace.present", 3).await;
    page.wait_count("g.link.up", 3).await;
    page.shot("01-applied").await;

    // An address flushed from a shell: the drift banner counts what re-applying runs, the
    // address is struck through on its card and the link is no longer green.
    sandbox.sh("ip -n ns2 addr flush dev eth0");
    page.wait_count("g.node[data-name='ns2'] .iface .missing", 1).await;
    page.wait_count("g.link.differs", 1).await;
    assert_eq!(page.count("g.link.up").await, 2, "the other two links stay up");
    banner_says(&page, planned_steps(&server).await).await;
    let row = tooltip(&page, "g.node[data-name='ns2'] g.iface[data-iface='eth0']").await;
    assert!(row.contains("not in the kernel now: 172.17.0.103"), "{row}");
    page.shot("02-address-flushed").await;

    // An unapplied rename on top: the banner states the whole plan re-applying runs, the
    // deletion of the old name included.
    page.click_at("g.node[data-name='ns0'] rect.body", false).await;
    page.type_into("input[data-path='nodes[1].name']", "renamed").await;
    page.wait_for("g.node[data-name='renamed']").await;
    Client::new(&server).wait_for_lab("the rename", |lab| lab.node("renamed").is_some()).await;
    let steps = planned_steps(&server).await;
    assert!(steps > 2, "a rename re-makes the namespace: {steps} steps");
    let said = banner_says(&page, steps).await.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(said.contains("deletes namespace ns0"), "{said}");
    page.shot("03-renamed-not-applied").await;
    click_empty_canvas(&page).await;
    page.press('z', true, false).await;
    page.wait_for("g.node[data-name='ns0']").await;
    Client::new(&server).wait_for_lab("the rename undone", |lab| lab.node("ns0").is_some()).await;

    // A namespace deleted from a shell is drawn as missing, not as never applied.
    sandbox.sh("ip netns delete ns1");
    page.wait_count("g.node.missing", 1).await;
    page.wait_for("g.node.missing[data-name='ns1']").await;
    assert!(card_tooltip(&page, "ns1").await.contains("deleted from outside"));
    page.shot("04-namespace-deleted").await;

    // Destroyed (over the API, as another page's button does): every card stops saying
    // the kernel holds it, and nothing is drawn as missing either.
    assert_eq!(Client::new(&server).post("/api/destroy").await.status(), 200);
    page.wait_count("g.node.namespace.present", 0).await;
    page.wait_count("g.node.missing", 0).await;
    page.wait_count("g.link.absent", 3).await;
    assert_eq!(page.count("g.link.busy").await, 0, "no traffic on links the kernel no longer has");
    page.shot("05-destroyed").await;

    // Another lab takes the names ns1 and ns3: this lab's ns1 is drawn as taken, with the
    // other lab named, and a new namespace skips both names.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.json");
    let lab = serde_json::json!({"version": 1, "name": "other", "nodes": [
        {"kind": "namespace", "name": "ns1"}, {"kind": "namespace", "name": "ns3"}], "links": []});
    std::fs::write(&other, lab.to_string()).unwrap();
    sandbox.nslab_ok(&["apply", "--yes", other.to_str().unwrap()]);
    page.wait_for("g.node.taken[data-name='ns1']").await;
    assert_eq!(page.count("g.node.present").await, 0, "another lab's namespace is not this lab's");
    let tooltip = card_tooltip(&page, "ns1").await;
    assert!(tooltip.contains("belongs to lab `other`") && !tooltip.contains("outside nslab"), "{tooltip}");
    click_empty_canvas(&page).await;
    page.press('n', false, false).await;
    page.wait_for("g.node[data-name='ns4']").await;
    assert_eq!(page.count("g.node[data-name='ns3']").await, 0, "ns3 is the other lab's");
    page.shot("06-taken-by-another-lab").await;
    page.assert_no_bug().await;
    sandbox.nslab_ok(&["destroy", "--yes", "--lab", "other"]);
    browser.close().await;
}
