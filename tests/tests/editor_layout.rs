//! The drawing never overlaps, measured in real headless Chromium: for every bundled
//! example, a lab as scan lays it out, a lab opened without positions and a generated
//! 30-node lab, at fit and at 100 %, no text box intersects another or a card other than
//! its own, and at fit every card is inside the view. And new nodes land in free space
//! (issue 21, item 8), driven with the real pointer and keyboard.

use nslab_model::edit::{add_node, auto_layout, connect, set_interface, InterfaceChange, NodeKind, Point, Side};
use nslab_model::export::to_json;
use nslab_model::{Lab, Node};
use nslab_tests::browser::Browser;
use nslab_tests::page::Page;
use nslab_tests::paths::{example_lab, EXAMPLES};
use nslab_tests::server::NslabServer;
use serde_json::json;

/// Every overlap on the canvas, in words (empty when there is none): text boxes that
/// intersect each other or a card not their own, and (when `inside` is asked) cards not
/// wholly in the view.
const OVERLAPS: &str = "
    const svg = document.querySelector('svg.canvas');
    const view = svg.getBoundingClientRect();
    const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const cards = [...svg.querySelectorAll('g.node')].map(g => ({ name: g.dataset.name, r: g.querySelector('rect.body').getBoundingClientRect() }));
    const texts = [...svg.querySelectorAll('text')]
        .map(t => ({ owner: t.closest('g.node')?.dataset.name ?? null, text: t.textContent, r: t.getBoundingClientRect() }))
        .filter(t => t.text.trim() !== '' && t.r.width > 0 && t.r.height > 0);
    const found = [];
    texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
        if (hit(a.r, b.r)) found.push(`text '${a.text}' (${a.owner}) on text '${b.text}' (${b.owner})`);
    }));
    texts.forEach(t => cards.forEach(c => {
        if (c.name !== t.owner && hit(t.r, c.r)) found.push(`text '${t.text}' (${t.owner}) on card ${c.name}`);
    }));
    if (arguments[0]) cards.forEach(c => {
        const r = c.r;
        if (r.left < view.left - 1 || r.top < view.top - 1 || r.right > view.right + 1 || r.bottom > view.bottom + 1)
            found.push(`card ${c.name} is out of the view`);
    });
    return [found, cards.length, texts.length];
";

/// Whether card `name` overlaps another card or has a veth running over it.
const COVERED: &str = "
    const name = arguments[0];
    const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const card = document.querySelector(`g.node[data-name='${name}'] rect.body`).getBoundingClientRect();
    const found = [];
    document.querySelectorAll('g.node').forEach(g => {
        if (g.dataset.name !== name && hit(card, g.querySelector('rect.body').getBoundingClientRect())) found.push(`card ${g.dataset.name}`);
    });
    const cross = (p, q, r, s) => {
        const turn = (a, b, c) => (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
        return turn(r, s, p) * turn(r, s, q) < 0 && turn(p, q, r) * turn(p, q, s) < 0;
    };
    const inside = p => p.x > card.left && p.x < card.right && p.y > card.top && p.y < card.bottom;
    const corners = [[card.left, card.top], [card.right, card.top], [card.right, card.bottom], [card.left, card.bottom]]
        .map(([x, y]) => ({ x, y }));
    document.querySelectorAll('g.link line.wire').forEach(line => {
        const m = line.getScreenCTM();
        const at = (x, y) => new DOMPoint(line[x].baseVal.value, line[y].baseVal.value).matrixTransform(m);
        const p = at('x1', 'y1'), q = at('x2', 'y2');
        const over = inside(p) || inside(q) || corners.some((c, i) => cross(p, q, c, corners[(i + 1) % 4]));
        if (over) found.push(`veth ${line.closest('g.link').dataset.index}`);
    });
    return found;
";

/// Fails with every overlap found on the page as it is now.
async fn assert_no_overlaps(page: &Page<'_>, what: &str, inside: bool) {
    let value = page.client.execute(OVERLAPS, vec![json!(inside)]).await.expect("the measuring script runs");
    let found: Vec<String> = serde_json::from_value(value[0].clone()).expect("a list of overlaps");
    let (cards, texts) = (value[1].as_u64().unwrap_or(0), value[2].as_u64().unwrap_or(0));
    assert!(cards > 0 && texts > 0, "{what}: nothing measured ({cards} cards, {texts} texts)");
    assert!(found.is_empty(), "{what}: {} overlaps:\n{}", found.len(), found.join("\n"));
}

/// The lab without any node's position, as a file written by hand has it.
fn without_positions(lab: &Lab) -> Lab {
    let mut bare = lab.clone();
    for node in &mut bare.nodes {
        match node {
            Node::Host(host) => host.editor = None,
            Node::Namespace(namespace) => namespace.editor = None,
            Node::Bridge(bridge) => bridge.editor = None,
        }
    }
    bare
}

/// Gives the end of `link` on `node` its addresses.
fn address(lab: Lab, link: usize, node: &str, addresses: &[&str]) -> Lab {
    let side = if lab.links[link].ends()[0].node == node { Side::A } else { Side::B };
    let change = InterfaceChange::Addresses(addresses.iter().map(|a| a.to_string()).collect());
    set_interface(&lab, link, side, change).unwrap_or(lab)
}

/// Thirty nodes: two bridges of ten namespaces each, a chain of six routers and two ends,
/// with IPv4 and IPv6 addresses, no positions.
fn generated_lab() -> Lab {
    let mut lab = Lab::new("thirty");
    for bridge in 0..2 {
        lab = add_node(&lab, NodeKind::Bridge, Point::ORIGIN).0;
        for host in 0..10 {
            let (next, name) = add_node(&lab, NodeKind::Namespace, Point::ORIGIN);
            let (next, link) = connect(&next, &format!("br{bridge}"), &name).unwrap();
            let (v4, v6) = (format!("10.{bridge}.0.{}/24", host + 10), format!("fd00:{bridge}::{:x}/64", host + 10));
            lab = address(next, link, &name, &[&v4, &v6]);
        }
    }
    let mut previous: Option<String> = None;
    for hop in 0..8 {
        let (next, name) = add_node(&lab, NodeKind::Namespace, Point::ORIGIN);
        lab = next;
        if let Some(before) = previous {
            let (next, link) = connect(&lab, &before, &name).unwrap();
            let next = address(next, link, &before, &[&format!("192.168.{hop}.1/30")]);
            lab = address(next, link, &name, &[&format!("192.168.{hop}.2/30")]);
        }
        previous = Some(name);
    }
    assert_eq!(lab.nodes.len(), 30);
    without_positions(&lab)
}

/// The labs measured, by name, as the server is given them.
fn labs() -> Vec<(String, Lab)> {
    let mut labs: Vec<(String, Lab)> = EXAMPLES.iter().map(|name| (name.to_string(), example_lab(name))).collect();
    // Scan lays out what it read with the model's layout, and the scanned names are long.
    let mut scanned = example_lab("router");
    scanned.name = "scanned".into();
    labs.push(("scanned".into(), auto_layout(&scanned)));
    labs.push(("no-positions".into(), without_positions(&example_lab("seed-bridge"))));
    labs.push(("thirty-nodes".into(), generated_lab()));
    labs
}

#[tokio::test(flavor = "current_thread")]
async fn no_text_overlaps_another_or_a_card_at_fit_and_at_100_percent() {
    let browser = Browser::start().await;
    for (name, lab) in labs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, to_json(&lab)).unwrap();
        let (server, _state) = NslabServer::start(Some(&file), &format!("editor-layout-{name}"));
        let page = Page::open(&browser.client, &server.url, &format!("editor-layout-{name}")).await;
        page.wait_count("g.node", lab.nodes.len()).await;
        page.wait_count("g.link", lab.links.len()).await;
        page.press('f', false, false).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        page.shot("01-fit").await;
        assert_no_overlaps(&page, &format!("{name} at fit"), true).await;
        page.press('1', false, false).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!((page.zoom().await - 1.0).abs() < 1e-6, "{name}: 100 %");
        page.shot("02-100-percent").await;
        assert_no_overlaps(&page, &format!("{name} at 100 %"), false).await;
    }
    browser.close().await;
}

/// Issue 21, item 8: "+ host" landed on the ns0-ns1 veth, N on `router`, and a file without
/// positions stacked every node on one spot that fit did not separate.
#[tokio::test(flavor = "current_thread")]
async fn new_nodes_land_in_free_space_and_a_file_without_positions_is_laid_out() {
    let browser = Browser::start().await;
    for (example, input) in [("seed-veth", "#add-host"), ("router", "n")] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{example}.json"));
        std::fs::write(&file, to_json(&example_lab(example))).unwrap();
        let (server, _state) = NslabServer::start(Some(&file), &format!("editor-free-{example}"));
        let page = Page::open(&browser.client, &server.url, &format!("editor-free-{example}")).await;
        page.wait_count("g.node", example_lab(example).nodes.len()).await;
        let before = page.node_names().await;
        // The view centred on the drawing, as a user sees it after fit.
        page.press('f', false, false).await;
        match input {
            "n" => page.press('n', false, false).await,
            button => page.click_at(button, false).await,
        }
        page.wait_count("g.node", before.len() + 1).await;
        let after = page.node_names().await;
        let new = after.iter().find(|name| !before.contains(name)).expect("a new node").clone();
        page.shot("01-added").await;
        let value = page.client.execute(COVERED, vec![json!(new)]).await.expect("the script runs");
        let covered: Vec<String> = serde_json::from_value(value).expect("a list");
        assert!(covered.is_empty(), "{example}: the new {new} lands on {covered:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bare.json");
    let bare = without_positions(&example_lab("router"));
    std::fs::write(&file, to_json(&bare)).unwrap();
    let (server, _state) = NslabServer::start(Some(&file), "editor-free-bare");
    let page = Page::open(&browser.client, &server.url, "editor-free-bare").await;
    page.wait_count("g.node", bare.nodes.len()).await;
    page.press('f', false, false).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    page.shot("02-bare-file-fitted").await;
    for node in &bare.nodes {
        let value = page.client.execute(COVERED, vec![json!(node.name())]).await.expect("the script runs");
        let covered: Vec<String> = serde_json::from_value(value).expect("a list");
        let cards: Vec<&String> = covered.iter().filter(|c| c.starts_with("card")).collect();
        assert!(cards.is_empty(), "{} lies on {cards:?}", node.name());
    }
    assert_no_overlaps(&page, "a file without positions, fitted", true).await;
    browser.close().await;
}
