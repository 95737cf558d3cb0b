//! "why?" in real headless Chromium, against a real `nslab serve` in a sandbox with the
//! missing-default-route exercise applied (left, router, right; left has no default
//! route): the matrix cell left → 10.0.2.2 is red, "why?" draws the failing hop red on the
//! canvas with its reason and fix, the fix is one undoable edit that apply makes green, the
//! step-through walks the hops of a ping that reaches, the plan preview of undoing the fix
//! (an edit that removes the default route) names the pairs it breaks, and a route deleted
//! from outside makes the cell disagree with the prediction, with drift as its cause.
//! `POST /api/explain` is checked with a plain HTTP client, bad input included.

use nslab_model::api::ExplainView;
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::paths::repo_root;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

fn exercise() -> std::path::PathBuf {
    repo_root().join("examples/exercises/04-default-route/start.json")
}

/// Cells of the exercise's matrix: 3 sources, 4 addresses.
const CELLS: usize = 12;

/// Applies with the toolbar's button and waits until the kernel holds left's default
/// route as the lab says (`routed`), and the page knows every namespace is there.
async fn apply(sandbox: &Sandbox, page: &Page<'_>, routed: bool) {
    page.click("#apply").await;
    let deadline = std::time::Instant::now() + nslab_tests::page::PAGE_WAIT;
    while sandbox.sh("ip -n left route show default 2>/dev/null || true").trim().is_empty() == routed {
        assert!(std::time::Instant::now() < deadline, "the apply never made left's routes as the lab says");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    page.wait_for("#run .outcome.ok").await;
    page.wait_count("g.node.namespace.present", 3).await;
}

/// Marks the matrix cell `from` -> `to` as `#picked-cell` and returns its classes.
async fn pick_cell(page: &Page<'_>, from: &str, to: &str) -> String {
    let tag = "const [from, to] = [arguments[0], arguments[1]];
        document.getElementById('picked-cell')?.removeAttribute('id');
        const targets = [...document.querySelectorAll('#matrix-panel th.target')].map(t => t.textContent);
        const row = [...document.querySelectorAll('#matrix-panel tbody tr')]
            .find(r => r.querySelector('th.source').textContent === from);
        const cell = row.querySelectorAll('td.cell')[targets.indexOf(to)];
        cell.id = 'picked-cell';
        return cell.className;";
    let classes = page.client.execute(tag, vec![from.into(), to.into()]).await.expect("the cell is found");
    classes.as_str().unwrap_or_default().to_string()
}

/// Clicks the cell `from` -> `to`, then "why?", and waits for the explanation of that pair.
async fn why(page: &Page<'_>, from: &str, to: &str) {
    pick_cell(page, from, to).await;
    page.click_at("#picked-cell", false).await;
    page.wait_text("#matrix-picked", "the picked pair", |t| t == format!("{from} → {to}")).await;
    page.click("#matrix-why").await;
    page.wait_text("#explain-pair", "the pair explained", |t| t == format!("why? {from} → {to}")).await;
}

/// The names of the nodes drawn with class `class`, sorted.
async fn nodes_with(page: &Page<'_>, class: &str) -> Vec<String> {
    let script = format!("return [...document.querySelectorAll('g.node.{class}')].map(n => n.dataset.name).sort();");
    let names = page.client.execute(&script, vec![]).await.expect("the nodes are read");
    serde_json::from_value(names).expect("a list of names")
}

#[tokio::test(flavor = "current_thread")]
async fn why_shows_the_failing_hop_and_its_fix_turns_the_cell_green() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&exercise()), state.path(), "editor-explain");
    let client = Client::new(&server);
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-explain").await;
    page.wait_for("g.node[data-name='right']").await;
    apply(&sandbox, &page, false).await;

    // left cannot reach right: its cell is red.
    page.click("#tab-matrix").await;
    page.run_matrix_until_fresh(CELLS).await;
    assert!(pick_cell(&page, "left", "10.0.2.2").await.contains("unreachable"));

    // "why?": the failing hop is left's, red on the canvas, with its reason and its fix,
    // read from the kernel (the lab is applied).
    why(&page, "left", "10.0.2.2").await;
    page.wait_for("#explain-verdict.fails").await;
    let verdict = page.text("#explain-verdict").await.unwrap();
    assert!(verdict.contains("as the kernel holds the lab now"), "{verdict}");
    let reason = page.text("#explain-failure .reason[data-reason='no_route']").await.expect("the reason");
    assert_eq!(reason, "left has no route to 10.0.2.2 and no IPv4 default route");
    page.wait_count("g.node.failing", 1).await;
    assert_eq!(nodes_with(&page, "failing").await, ["left"]);
    assert_eq!(page.count("g.link.failing").await, 0, "the packet never leaves left");
    let fix = page.text("#explain-fix").await.expect("a fix");
    assert!(fix.contains("default route") && fix.contains("10.0.1.1"), "{fix}");
    let command = page.text("#explain-failure .fix-command").await.unwrap();
    assert_eq!(command, "ip -n left route add default via 10.0.1.1");
    page.shot("01-why").await;

    // The fix: one edit of the lab, explained again from the lab (it reaches), undoable.
    page.click("#explain-apply-fix").await;
    let has_default = |lab: &nslab_model::Lab| {
        lab.node("left").is_some_and(|node| match node {
            nslab_model::Node::Namespace(left) => left.routes.iter().any(|route| route.to == "default"),
            _ => false,
        })
    };
    client.wait_for_lab("got left's default route", has_default).await;
    page.wait_for("#explain-verdict.reaches").await;
    let note = page.text("#explain-note").await.unwrap();
    assert_eq!(note, "The fix is in the lab: apply to make the kernel follow.");
    page.click("#undo").await;
    client.wait_for_lab("lost left's default route again", |lab| !has_default(lab)).await;
    page.click("#redo").await;
    client.wait_for_lab("got left's default route back", has_default).await;

    // Before apply, the plan preview says which pairs start reaching.
    page.click("#tab-plan").await;
    let starting = page.wait_text("#reach-changes", "the plan preview", |t| t.contains("will start reaching")).await;
    assert!(starting.contains("left → 10.0.2.2"), "{starting}");
    assert_eq!(page.count("#reach-changes .stopping li").await, 0, "the fix breaks nothing: {starting}");

    // Apply: the cell is green.
    apply(&sandbox, &page, true).await;
    page.click("#tab-matrix").await;
    page.run_matrix_until_fresh(CELLS).await;
    assert!(pick_cell(&page, "left", "10.0.2.2").await.contains("cell reachable"));
    assert_eq!(page.count("#matrix-panel td.cell.unreachable").await, 0);
    page.shot("02-green").await;

    // The step-through of a ping that reaches: left's hop crosses the veth to router, the
    // next router's to right, and so on to the reply's last hop, delivered in left.
    why(&page, "left", "10.0.2.2").await;
    page.wait_for("#explain-verdict.reaches").await;
    let hops = page.texts("#explain-hops li").await;
    assert_eq!(hops.len(), 6, "three hops each way: {hops:?}");
    assert!(hops[0].starts_with("request left: out of eth0 to 10.0.1.1"), "{hops:?}");
    assert!(hops[5].starts_with("reply left: delivered"), "{hops:?}");
    assert_eq!(page.text("#explain-step").await.unwrap(), "hop 1 of 6");
    assert!(page.disabled("#explain-previous").await);
    page.wait_count("g.node.highlighted", 2).await;
    assert_eq!(nodes_with(&page, "highlighted").await, ["left", "router"]);
    assert_eq!(page.count("g.node[data-name='left'] g.iface.crossed[data-iface='eth0']").await, 1);
    assert_eq!(page.count("g.node.failing").await, 0, "nothing fails");
    page.click("#explain-next").await;
    page.wait_text("#explain-step", "the second hop", |t| t == "hop 2 of 6").await;
    page.wait_count("g.node.highlighted[data-name='right']", 1).await;
    assert_eq!(nodes_with(&page, "highlighted").await, ["right", "router"]);
    assert_eq!(page.count("g.link.highlighted").await, 1, "the veth router-right only");
    assert_eq!(page.count("#explain-hops li.current[data-step='1']").await, 1);
    page.click("#explain-previous").await;
    page.wait_text("#explain-step", "back to the first hop", |t| t == "hop 1 of 6").await;
    page.wait_count("g.node.highlighted[data-name='left']", 1).await;
    page.shot("03-step").await;

    // Undoing the fix is an edit that removes the default route: the plan preview names
    // the pairs it breaks.
    page.click("#undo").await;
    client.wait_for_lab("lost left's default route", |lab| !has_default(lab)).await;
    page.click("#tab-plan").await;
    let stopping = page.wait_text("#reach-changes", "the breakage", |t| t.contains("will stop reaching")).await;
    for pair in ["left → 10.0.2.2", "left → 10.0.2.1", "right → 10.0.1.2"] {
        assert!(stopping.contains(pair), "{pair} is not named in {stopping}");
    }
    assert!(!stopping.contains("left → 10.0.1.1"), "left still reaches its own link: {stopping}");
    page.shot("04-plan-preview").await;
    page.click("#redo").await;
    client.wait_for_lab("got left's default route back", has_default).await;

    // The kernel loses left's default route from outside: the live cell disagrees with the
    // lab's prediction, and "why?" (live) says it is drift.
    sandbox.sh("ip -n left route del default");
    page.wait_for("#drift").await;
    page.click("#tab-matrix").await;
    page.run_matrix_until_fresh(CELLS).await;
    let classes = pick_cell(&page, "left", "10.0.2.2").await;
    assert!(classes.contains("unreachable") && classes.contains("disagrees"), "{classes}");
    let title = page.wait_for("#picked-cell").await.attr("title").await.unwrap().unwrap();
    assert!(title.contains("the lab predicts the ping would be answered"), "{title}");
    why(&page, "left", "10.0.2.2").await;
    page.wait_for("#explain-verdict.fails").await;
    let drift = page.text("#explain-drift").await.expect("the drift listed");
    assert!(drift.contains("in the lab but not in the kernel"), "{drift}");
    let disagreement = page.text("#explain-disagreement").await;
    assert_eq!(disagreement, None, "the live explanation agrees with the live matrix");
    page.shot("05-drift").await;
    page.assert_no_bug().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_explain_route_answers_from_the_lab_then_the_kernel_and_refuses_bad_input() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&exercise()), state.path(), "explain-route");
    let client = Client::new(&server);
    let ask = |body: serde_json::Value| {
        let request = client.request(reqwest::Method::POST, "/api/explain").json(&body);
        async move { request.send().await.expect("POST /api/explain") }
    };

    // Not applied: the lab's prediction, the failing hop and its fix.
    let response = ask(serde_json::json!({"from": "left", "to": "right:eth0"})).await;
    assert_eq!(response.status(), 200);
    let view: ExplainView = response.json().await.unwrap();
    assert!(!view.live);
    assert_eq!(view.explanation.to.to_string(), "10.0.2.2");
    let failure = view.explanation.failure.expect("it fails");
    assert_eq!((failure.reason.id().as_str(), failure.namespace.as_str()), ("no_route", "left"));

    // Applied: read from the kernel. A route the kernel lacks is drift.
    assert_eq!(client.post("/api/apply").await.status(), 200);
    sandbox.sh("ip -n right route del default");
    let response = ask(serde_json::json!({"from": "router", "to": "10.0.2.2"})).await;
    assert_eq!(response.status(), 200);
    let view: ExplainView = response.json().await.unwrap();
    assert!(view.live);
    assert!(view.explanation.reach, "router reaches right's link without a default route");
    assert!(
        view.explanation.drift.iter().any(|d| d.namespace == "right" && d.message.contains("not in the kernel")),
        "{:?}",
        view.explanation.drift
    );

    // Bad input: 400, the message says which field is wrong and why.
    for (body, start) in [
        (serde_json::json!({"from": "nowhere", "to": "10.0.2.2"}), "from: "),
        (serde_json::json!({"from": "left", "to": "ten"}), "to: `ten` is neither an address nor NODE:INTERFACE"),
        (serde_json::json!({"from": "left", "to": "right:eth9"}), "to: `right` has no interface `eth9`"),
        (serde_json::json!({"from": "left"}), "Failed to deserialize"),
    ] {
        let response = ask(body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: nslab_model::api::ErrorBody = response.json().await.unwrap();
        assert!(error.message.starts_with(start), "{body}: {}", error.message);
    }
    let response = client.request(reqwest::Method::POST, "/api/explain").body("not json").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 415, "a body that is not JSON");
    assert_eq!(client.post("/api/destroy").await.status(), 200);
}

/// `a` with one subnet on two interfaces (`e1` to `b`, `e2` to `c`): which of the two
/// routes the kernel takes is the order of the apply's steps, which the lab cannot say.
const ONE_SUBNET_TWICE: &str = r#"{"version": 1, "name": "one-subnet-twice",
  "nodes": [{"kind": "namespace", "name": "a"}, {"kind": "namespace", "name": "b"}, {"kind": "namespace", "name": "c"}],
  "links": [
    {"kind": "veth", "a": {"node": "a", "name": "e1", "addresses": ["10.0.0.1/24"]}, "b": {"node": "b", "name": "eth0", "addresses": ["10.0.0.2/24"]}},
    {"kind": "veth", "a": {"node": "a", "name": "e2", "addresses": ["10.0.0.3/24"]}, "b": {"node": "c", "name": "eth0", "addresses": ["10.0.0.4/24"]}}]}"#;

#[tokio::test(flavor = "current_thread")]
async fn why_names_a_limit_of_the_prediction_met_on_the_way() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (state, labs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = labs.path().join("one-subnet-twice.json");
    std::fs::write(&file, ONE_SUBNET_TWICE).unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&file), state.path(), "explain-limit");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-explain-limit").await;
    page.wait_for("g.node[data-name='c']").await;
    page.click("#tab-ping").await;
    page.click("#ping-from option[value='a']").await;
    page.click("#ping-to option[value='c:eth0']").await;
    page.click("#ping-why").await;
    let limit = "#explain-limits li[data-limit='two_routes_one_prefix']";
    let text = page.wait_text(limit, "the limit met", |text| !text.is_empty()).await;
    assert!(text.contains("two routes to 10.0.0.0/24") && text.contains("e1 and e2"), "{text}");
    page.shot("06-limit").await;
    // A pair whose way meets no limit names none: b's one route to the subnet.
    page.click("#ping-from option[value='b']").await;
    page.click("#ping-to option[value='c:eth0']").await;
    page.click("#ping-why").await;
    page.wait_text("#explain-pair", "the second pair", |text| text == "why? b → 10.0.0.4").await;
    assert_eq!(page.count("#explain-limits").await, 0);
    page.assert_no_bug().await;
    browser.close().await;
}
