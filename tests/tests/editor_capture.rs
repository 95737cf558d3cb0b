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

/// Records every packet dot put on the canvas from now on: `LINK CLASSES`, e.g.
/// `2 packet-dot arp` (a dot lives 0.7 s; the record stays).
const RECORD_DOTS: &str = "
    window.dotsSeen = [];
    new MutationObserver(changes => changes.forEach(change => change.addedNodes.forEach(node => {
        if (node.classList && node.classList.contains('packet-dot')) {
            window.dotsSeen.push(node.closest('g.link').dataset.index + ' ' + node.getAttribute('class'));
        }
    }))).observe(document.querySelector('svg.canvas'), { childList: true, subtree: true });";

/// The capture list's rows: `[port, direction, line]`.
const ROWS: &str = "
    return [...document.querySelectorAll('#capture-packets li')].map(row => [
        row.querySelector('.port') ? row.querySelector('.port').textContent : '',
        row.classList.contains('out') ? 'out' : 'in',
        row.querySelector('.line').textContent,
    ]);";

async fn rows(page: &Page<'_>) -> Vec<(String, String, String)> {
    let value = page.client.execute(ROWS, vec![]).await.expect("the rows");
    serde_json::from_value(value).expect("rows of three strings")
}

/// The ports (with directions) of the rows whose line starts with `start`, sorted.
fn ports_of(rows: &[(String, String, String)], start: &str) -> Vec<String> {
    let mut ports: Vec<String> = rows
        .iter()
        .filter(|(_, _, line)| line.starts_with(start))
        .map(|(port, dir, _)| format!("{port} {dir}"))
        .collect();
    ports.sort();
    ports
}

/// The panel's download, fetched as the browser would, kept in a file for tshark.
async fn download(page: &Page<'_>, server: &NslabServer) -> (String, tempfile::NamedTempFile) {
    let href = page.wait_for("#capture-download[href]").await.attr("href").await.unwrap().expect("an address");
    let response = Client::new(server).request(reqwest::Method::GET, &href).send().await.unwrap();
    assert_eq!(response.status(), 200, "{href}");
    assert!(response.headers().get("nslab-not-held").is_none(), "{href}: all of it is held");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), response.bytes().await.unwrap()).unwrap();
    (href, file)
}

/// The interface each frame of `file` was seen on, in order, as tshark reads them.
fn interfaces_in(file: &tempfile::NamedTempFile) -> Vec<String> {
    let output = std::process::Command::new("tshark")
        .args(["-r", file.path().to_str().unwrap(), "-T", "fields", "-e", "frame.interface_name"])
        .output()
        .expect("tshark runs (scripts/setup installs it)");
    assert!(output.status.success(), "tshark: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}

/// The `held=FIRST-LAST` of a download address.
fn held_range(href: &str) -> (u64, u64) {
    let range = href.split("held=").nth(1).unwrap_or_else(|| panic!("a held range: {href}"));
    let (first, last) = range.split('&').next().unwrap().split_once('-').expect("FIRST-LAST");
    (first.parse().unwrap(), last.parse().unwrap())
}

/// Once the capture asked again with its new filter runs: a ping from ns0 to ns1 shows
/// (pinged again until it does, each ping's row awaited for a second, bounded).
async fn filtered_capture_runs(page: &Page<'_>, sandbox: &Sandbox) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        sandbox.sh("ip netns exec ns0 ping -c 1 -W 2 172.17.0.102");
        let shown = Instant::now() + Duration::from_secs(1);
        while Instant::now() < shown {
            if page.text("#capture-packets").await.unwrap_or_default().contains("ICMP echo reply") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(Instant::now() < deadline, "the filtered capture never showed a ping");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_bridge_capture_shows_arp_on_every_port_and_the_echo_on_two_and_downloads_what_it_holds() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in_with(&sandbox, &[], "editor-capture-bridge");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-capture-bridge").await;
    page.wait_for("g.node[data-name='ns2']").await;
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    page.wait_count("g.link.up", 3).await;

    // The bridge picked with the pointer, captured from the inspector.
    page.click_at("g.node[data-name='docker0'] rect.body", false).await;
    page.click("#tab-inspect").await;
    page.click("button.capture-open").await;
    page.wait_text("#capture-panel h3", "the capture's title", |t| t == "capture on the ports of docker0").await;
    wait_for_threads(&server, 1).await;
    // Only ns0's IPv4 packets (ARP and ICMP): the namespaces' own IPv6 chatter would put
    // dots of its own on every link.
    page.type_into("#capture-filter", "host 172.17.0.101").await;
    page.click("#capture-panel form button[type='submit']").await;
    filtered_capture_runs(&page, &sandbox).await;
    page.click("#capture-clear").await;
    page.wait_count("#capture-packets li", 0).await;
    page.client.execute(RECORD_DOTS, vec![]).await.expect("the recorder starts");

    // ns0 pings ns1, neighbours forgotten: ns0's ARP request is a broadcast that goes out
    // to every port; the echoes are unicast, between ns0's port and ns1's.
    sandbox.sh("for ns in ns0 ns1 ns2; do ip netns exec $ns ip neigh flush all; done");
    sandbox.sh("ip netns exec ns0 ping -c 3 -i 0.3 -W 2 172.17.0.102");
    let echo_request = "IP 172.17.0.101 > 172.17.0.102: ICMP echo request";
    page.wait_text("#capture-packets", "six echo requests", |text| text.matches(echo_request).count() >= 6).await;
    page.shot("03-bridge").await;
    let seen = rows(&page).await;
    assert_eq!(
        ports_of(&seen, "ARP, Request who-has 172.17.0.102 tell 172.17.0.101"),
        ["veth0 in", "veth2 out", "veth4 out"],
        "{seen:?}"
    );
    assert_eq!(
        ports_of(&seen, echo_request),
        ["veth0 in", "veth0 in", "veth0 in", "veth2 out", "veth2 out", "veth2 out"],
        "only ns0's and ns1's ports: {seen:?}"
    );
    // Each packet's dot travelled along its port's link: the ARP along all three links
    // (links[0] is ns0's, links[1] ns1's, links[2] ns2's), the echoes along ns0's and ns1's.
    let dots = page.client.execute("return window.dotsSeen;", vec![]).await.expect("the dots");
    let dots: Vec<String> = serde_json::from_value(dots).expect("strings");
    for link in ["0", "1", "2"] {
        assert!(dots.contains(&format!("{link} packet-dot arp")), "an ARP dot on link {link}: {dots:?}");
    }
    for link in ["0", "1"] {
        assert!(dots.contains(&format!("{link} packet-dot icmp")), "an echo's dot on link {link}: {dots:?}");
    }
    assert!(!dots.contains(&"2 packet-dot icmp".to_string()), "no echo's dot on ns2's link: {dots:?}");

    // The download is what the list holds: held still, its rows and the file's frames
    // are the same, on the same ports.
    page.click("#capture-pause").await;
    let held = rows(&page).await;
    let (href, file) = download(&page, &server).await;
    let ports: Vec<String> = held.iter().map(|(port, _, _)| port.clone()).collect();
    assert_eq!(interfaces_in(&file), ports, "{href}");
    let (_, last) = held_range(&href);

    // Cleared, the list (and its download) starts again with what comes after.
    page.click("#capture-clear").await;
    page.wait_count("#capture-packets li", 0).await;
    assert_eq!(page.count("#capture-download[href]").await, 0, "nothing held, nothing to download");
    page.click("#capture-pause").await;
    sandbox.sh("ip netns exec ns0 ping -c 1 -W 2 172.17.0.102");
    page.wait_text("#capture-packets", "an echo reply", |text| text.contains("ICMP echo reply")).await;
    let (href, file) = download(&page, &server).await;
    let (first, _) = held_range(&href);
    assert!(first > last, "after the clear: {href} (the list held up to {last} before)");
    let frames = interfaces_in(&file);
    assert!(!frames.is_empty() && frames.len() <= rows(&page).await.len(), "{frames:?}");

    page.click("#capture-stop").await;
    wait_for_threads(&server, 0).await;
    page.assert_no_bug().await;
}
