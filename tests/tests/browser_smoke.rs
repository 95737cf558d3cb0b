//! `nslab serve` with no lab opens the seed bridge lab, and a real Chromium shows its nodes.

use std::collections::BTreeSet;
use std::time::Duration;

use fantoccini::Locator;
use nslab_tests::browser::Browser;
use nslab_tests::paths::artifacts_dir;
use nslab_tests::server::NslabServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_seed_bridge_lab() {
    let (server, _state) = NslabServer::start(None, "browser-smoke");
    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&server.url).await.expect("the page loads");
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("g.node[data-name='docker0']"))
        .await
        .expect("the editor renders the lab's nodes");
    let mut names = BTreeSet::new();
    for element in client.find_all(Locator::Css("g.node text.name")).await.unwrap() {
        names.insert(element.text().await.unwrap());
    }
    let expected: BTreeSet<String> = ["docker0", "ns0", "ns1", "ns2"].map(String::from).into();
    assert_eq!(names, expected);
    let title = client.find(Locator::Css(".toolbar .lab-name")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "seed-bridge");
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(artifacts_dir().join("browser-smoke.png"), png).unwrap();
    browser.close().await;
}
