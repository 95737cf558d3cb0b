//! Live packet capture in real headless Chromium, against a real `nslab serve` in a sandbox
//! with the seed bridge lab applied (ns0, ns1, ns2 on docker0): a link picked with the
//! pointer, "capture" pressed on its ns1 end in the inspector, the ping tool pinging ns2
//! from ns1, and the packets seen in the panel and as dots on the canvas; a filter that
//! does not parse is shown at its place; stop ends the server's capture. Every ping stays
//! between the sandbox's namespaces, with a bounded count.

use std::time::{Duration, Instant};

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::{Page, PAGE_WAIT};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

/// The capture threads `server` runs now, by their names in /proc.
fn capture_threads(server: &NslabServer) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", server.pid)) else { return 0 };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.starts_with("nslab-cap-"))
        .count()
}

async fn wait_for_threads(server: &NslabServer, wanted: usize) {
    let deadline = Instant::now() + PAGE_WAIT;
    while capture_threads(server) != wanted {
        assert!(Instant::now() < deadline, "{} capture threads, not {wanted}", capture_threads(server));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the ping tool: `count` probes from ns1 to ns2's eth0.
async fn ping_ns2(page: &Page<'_>, count: &str) {
    page.click("#tab-ping").await;
    page.click("#ping-from option[value='ns1']").await;
    page.click("#ping-to option[value='ns2:eth0']").await;
    page.type_into("#ping-count", count).await;
    page.click("#ping-start").await;
}

/// The lines of the capture panel.
async fn lines(page: &Page<'_>) -> Vec<String> {
    page.texts("#capture-packets li .line").await
}

#[tokio::test(flavor = "current_thread")]
async fn a_capture_on_a_link_shows_the_pings_lines_and_dots() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in_with(&sandbox, &[], "editor-capture");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-capture").await;
    page.wait_for("g.node[data-name='ns2']").await;
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    page.wait_count("g.link.up", 3).await;

    // The link from docker0 to ns1 (links[1]), picked with the pointer; its ns1 end
    // (side b) captured from the inspector.
    page.click_at("g.link[data-index='1'] line.hit", false).await;
    page.wait_for("g.link.selected[data-index='1']").await;
    // The apply's progress, arriving late on a loaded machine, may have shown the run's
    // tab meanwhile: the inspector, as a user would.
    page.click("#tab-inspect").await;
    page.click("fieldset.end[data-side='b'] button.capture-open").await;
    page.wait_text("#capture-panel h3", "the capture's title", |t| t == "capture on eth0 of ns1").await;
    wait_for_threads(&server, 1).await;

    // The ping tool runs; the capture goes on meanwhile, and its dots move on the canvas.
    ping_ns2(&page, "20").await;
    let deadline = Instant::now() + PAGE_WAIT;
    let mut most_dots = 0;
    while most_dots == 0 {
        assert!(Instant::now() < deadline, "no packet dot appeared on the link");
        most_dots = page.count("g.link[data-index='1'] circle.packet-dot").await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(page.count("g.link[data-index='0'] circle.packet-dot").await, 0, "only the captured link");
    page.click("#tab-capture").await;
    page.wait_text("#capture-packets", "an echo reply", |text| text.contains("ICMP echo reply")).await;
    page.shot("01-capturing").await;
    let seen = lines(&page).await;
    assert!(seen.iter().any(|l| l.starts_with("IP 172.17.0.102 > 172.17.0.103: ICMP echo request, id ")), "{seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("IP 172.17.0.103 > 172.17.0.102: ICMP echo reply, id ")), "{seen:?}");

    // A filter the server cannot parse: said under the filter, with a caret at its place.
    page.type_into("#capture-filter", "tcp port").await;
    page.click("#capture-panel form button[type='submit']").await;
    let mistake = mistake_text(&page).await;
    assert_eq!(
        mistake,
        "tcp port\n        ^\nthe filter does not parse: at column 9: expected a port number after `port`"
    );
    wait_for_threads(&server, 0).await;
    // A good one: only ICMP from now on.
    page.type_into("#capture-filter", "icmp").await;
    page.click("#capture-panel form button[type='submit']").await;
    page.wait_gone("#capture-filter-mistake").await;
    page.click("#capture-clear").await;
    page.wait_count("#capture-packets li", 0).await;
    page.wait_for("#capture-packets li.packet.icmp").await;
    page.wait_text("#capture-packets", "two lines", |text| text.matches("ICMP").count() >= 2).await;
    assert!(page.count("#capture-packets li.packet:not(.icmp)").await == 0, "{:?}", lines(&page).await);
    page.shot("02-filtered").await;

    // Stop: the server's capture ends (its thread and socket).
    page.click("#capture-stop").await;
    wait_for_threads(&server, 0).await;
    page.assert_no_bug().await;
}

/// The filter's mistake as shown (a `pre`: its lines and the caret's spaces kept).
async fn mistake_text(page: &Page<'_>) -> String {
    page.wait_for("#capture-filter-mistake").await;
    let script = "return document.getElementById('capture-filter-mistake').textContent";
    let value = page.client.execute(script, vec![]).await.expect("the script runs");
    value.as_str().expect("text").to_string()
}
