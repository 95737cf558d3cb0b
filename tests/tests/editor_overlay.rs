//! The live overlay that docs/editor.md describes, in real headless Chromium against a real
//! `nslab serve` in a sandbox: links dashed while not in the kernel, green when up, orange
//! when up without carrier, and traffic shown on the links with its rates in their tooltips.

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

/// The computed stroke and dash pattern of the first `css` line.
async fn stroke(page: &Page<'_>, css: &str) -> (String, String) {
    page.wait_for(css).await;
    let script = "const style = getComputedStyle(document.querySelector(arguments[0]));
                  return [style.stroke, style.strokeDasharray];";
    let value = page.client.execute(script, vec![css.into()]).await.expect("the script runs");
    let text = |i: usize| value[i].as_str().expect("a style").to_string();
    (text(0), text(1))
}

#[tokio::test(flavor = "current_thread")]
async fn links_show_absent_up_without_carrier_and_their_traffic() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let (server, _state) = NslabServer::start_in(&sandbox, "editor-overlay");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-overlay").await;
    page.wait_for("g.node[data-name='ns2']").await;

    // Nothing applied: every link and port is "not in the kernel", drawn dashed.
    page.wait_count("g.link.absent", 3).await;
    page.wait_count("g.link circle.port.absent", 6).await;
    let (_, dashes) = stroke(&page, "g.link.absent line.wire").await;
    assert_ne!(dashes, "none", "an absent link is dashed");
    page.shot("01-absent").await;

    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    page.wait_count("g.link.up", 3).await;
    let (up, dashes) = stroke(&page, "g.link.up line.wire").await;
    assert_eq!(dashes, "none", "an up link is solid");

    // Traffic: pings from ns0 to ns1 show on the links they cross (a thicker line), with
    // their rates in the links' tooltips; nothing is written along a link.
    let _pinging = sandbox.start_in("ns0", "ping -i 0.2 172.17.0.102", "ping");
    let deadline = std::time::Instant::now() + nslab_tests::page::PAGE_WAIT;
    let tooltips = "return [...document.querySelectorAll('g.link.busy')].map(link => link.querySelector(':scope > title').textContent);";
    let rates = loop {
        let value = page.client.execute(tooltips, vec![]).await.expect("the script runs");
        let rates: Vec<String> = serde_json::from_value::<Vec<String>>(value)
            .expect("tooltips")
            .into_iter()
            .filter_map(|tooltip| tooltip.lines().find(|line| line.starts_with("traffic: ")).map(str::to_string))
            .collect();
        if !rates.is_empty() {
            break rates;
        }
        assert!(std::time::Instant::now() < deadline, "no link ever showed a rate");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(rates.iter().all(|r| r.contains(" / ") && r.ends_with("b/s")), "{rates:?}");
    assert!(page.count("g.link.busy line.flow").await >= 1, "traffic shows on the line");
    assert_eq!(page.count("g.link text").await, 0, "nothing is written along a link");
    page.shot("02-traffic").await;

    // ns0's eth0 and the bridge's veth0 replaced by hand (marked as the lab's, eth0 with
    // the lab's address), each paired with an interface of its own: both up, but eth0's
    // own peer is down, so eth0 has no carrier. The link is up without carrier: orange.
    sandbox.sh("ip link del veth0
         ip -n ns0 link add eth0 type veth peer name spare0
         ip -n ns0 addr add 172.17.0.101/16 dev eth0
         ip -n ns0 link set dev eth0 alias nslab:seed-bridge up
         ip link add veth0 type veth peer name spare1
         ip link set dev veth0 alias nslab:seed-bridge master docker0 up
         ip link set dev spare1 up");
    page.wait_count("g.link.nocarrier", 1).await;
    page.wait_count("g.link circle.port.nocarrier", 1).await;
    let (orange, dashes) = stroke(&page, "g.link.nocarrier line.wire").await;
    assert_eq!(orange, "rgb(224, 138, 0)", "orange, not the green of up ({up})");
    assert_eq!(dashes, "none");
    page.shot("03-no-carrier").await;
    browser.close().await;
}
