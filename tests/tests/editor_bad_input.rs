//! Bad input in the editor, in real headless Chromium against a real `nslab serve` (on the
//! host: nothing here is applied). A bad field says what is wrong on the field itself, in
//! the model's words, and Apply stays disabled; a bad file is refused with a message and
//! the lab on the page and on the server stays as it was.

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::server::NslabServer;

/// The problems listed under the field `input[name=NAME]` of end `SIDE` of the selected link.
fn field_problems(side: &str, name: &str) -> String {
    format!("fieldset.end[data-side='{side}'] label.field:has(input[name='{name}']) .field-problems li.problem.error")
}

/// Opens the seed bridge lab and selects its first link (ns0's `eth0` to `docker0`).
async fn select_first_link(page: &Page<'_>) {
    page.wait_for("g.link[data-index='0']").await;
    page.click_at("g.link[data-index='0'] line.hit", false).await;
    page.wait_for("g.link.selected[data-index='0']").await;
    assert!(!page.disabled("#apply").await, "the seed lab can be applied to begin with");
}

/// Which end (`a` or `b`) of the selected link is on `node`, from the inspector's legends.
async fn side_on(page: &Page<'_>, node: &str) -> &'static str {
    let legend = page.text("fieldset.end[data-side='a'] legend").await.unwrap_or_default();
    if legend == format!("on {node}") {
        "a"
    } else {
        "b"
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_address_or_a_long_name_is_shown_on_its_field_and_apply_stays_disabled() {
    let (server, _state) = NslabServer::start(None, "editor-bad-fields");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-bad-input").await;
    select_first_link(&page).await;
    let side = side_on(&page, "ns0").await;
    let input = |name: &str| format!("fieldset.end[data-side='{side}'] input[name='{name}']");

    page.type_into(&input("addresses"), "172.17.0.300/16").await;
    let message = page.wait_text(&field_problems(side, "addresses"), "explained the address", |t| !t.is_empty()).await;
    assert!(message.contains("172.17.0.300/16"), "the message names what was typed: {message}");
    assert!(page.disabled("#apply").await, "a lab with an error cannot be applied");
    page.wait_for("g.link.error[data-index='0']").await;
    // Said once, under its field (whose border turns red), not again in the problems list.
    page.wait_count(&format!("li.problem.error[data-path^='links[0].{side}.addresses']"), 1).await;
    page.wait_for(&format!("{}.invalid", input("addresses"))).await;
    assert_eq!(page.count(&format!("#problems li[data-path^='links[0].{side}.addresses']")).await, 0);
    page.shot("01-bad-address").await;

    page.type_into(&input("addresses"), "172.17.0.101/16").await;
    page.wait_gone(&field_problems(side, "addresses")).await;
    assert!(!page.disabled("#apply").await, "fixing the address enables Apply again");

    // 16 bytes: one more than the kernel's IFNAMSIZ allows.
    page.type_into(&input("interface"), "abcdefghijklmnop").await;
    let message = page.wait_text(&field_problems(side, "interface"), "explained the name", |t| !t.is_empty()).await;
    assert!(message.contains("15"), "the message gives the limit: {message}");
    assert!(page.disabled("#apply").await, "a lab with a 16-byte name cannot be applied");
    page.shot("02-long-name").await;

    page.type_into(&input("interface"), "eth0").await;
    page.wait_gone(&field_problems(side, "interface")).await;
    assert!(!page.disabled("#apply").await);
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_malformed_file_is_refused_with_a_message_and_the_lab_stays() {
    let (server, _state) = NslabServer::start(None, "editor-bad-file");
    let api = Client::new(&server);
    let before = api.lab().await;
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-bad-input").await;
    page.wait_for("g.node[data-name='docker0']").await;
    let names = page.node_names().await;
    let files = tempfile::tempdir().unwrap();

    let cases = [
        ("truncated.json", "{\"version\": 1, \"name\": \"half\", \"nodes\": [", "line 1"),
        ("not-a-lab.json", "{\"version\": 1, \"name\": \"odd\", \"colour\": \"red\"}", "colour"),
        ("version-9.json", "{\"version\": 9, \"name\": \"future\"}", "version"),
        ("picture.json", "\u{89}PNG not a lab at all", "line 1"),
    ];
    for (file_name, content, hint) in cases {
        let path = files.path().join(file_name);
        std::fs::write(&path, content).unwrap();
        page.wait_for("input[type='file']").await.send_keys(path.to_str().unwrap()).await.unwrap();
        let notice = page.wait_text("#notice", "explained the refusal", |t| t.contains(file_name)).await;
        assert!(notice.contains("was not opened"), "{notice}");
        assert!(notice.contains(hint), "the message says where the file is wrong ({hint}): {notice}");
        page.shot(&format!("03-refused-{file_name}")).await;
        assert_eq!(page.node_names().await, names, "the page keeps the lab");
        assert_eq!(page.text(".toolbar .lab-name").await.as_deref(), Some("seed-bridge"));
        page.click("#notice button").await;
        page.wait_gone("#notice").await;
    }
    let after = api.lab().await;
    assert_eq!(after.revision, before.revision, "the server's document was not touched");
    assert_eq!(after.lab, before.lab);

    // A well-formed lab with a mistake in it opens, like a file in any editor, with the
    // mistake marked where it is and Apply disabled until it is fixed.
    let path = files.path().join("dangling.json");
    std::fs::write(&path, DANGLING).unwrap();
    page.wait_for("input[type='file']").await.send_keys(path.to_str().unwrap()).await.unwrap();
    page.wait_text(".toolbar .lab-name", "showed the opened lab", |t| t == "dangling").await;
    let problem =
        page.wait_text("#problems li.problem.error[data-path='links[0].b.node']", "marked", |t| !t.is_empty()).await;
    assert!(problem.contains("nowhere"), "{problem}");
    page.wait_for("g.link.error[data-index='0']").await;
    assert!(page.disabled("#apply").await, "a lab with an error cannot be applied");
    page.shot("04-opened-with-a-mistake").await;
    browser.close().await;
}

/// Valid JSON and a valid shape, but a link to a node that does not exist.
const DANGLING: &str = r#"{
  "version": 1,
  "name": "dangling",
  "nodes": [{ "kind": "namespace", "name": "a" }],
  "links": [{ "kind": "veth", "a": { "node": "a", "name": "eth0" }, "b": { "node": "nowhere", "name": "eth0" } }]
}"#;
