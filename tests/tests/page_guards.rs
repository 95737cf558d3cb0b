//! The browser tests' own guards can fail: a real panic in the editor shows its bug banner
//! and fails `Page::shot` and `Page::assert_no_bug`; and a broken WebDriver session fails
//! `count` and `text` instead of passing for "nothing there".

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use nslab_tests::browser::Browser;
use nslab_tests::page::Page;
use nslab_tests::server::NslabServer;

/// What a panic carried as its message.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// Runs `future`, which must panic, and returns its panic message.
async fn panics<T>(what: &str, future: impl std::future::Future<Output = T>) -> String {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(_) => panic!("{what} did not fail the test"),
        Err(payload) => panic_message(payload),
    }
}

/// Makes the page's next `document.createElement` throw, once. The editor's renderer
/// (Leptos) unwraps what creating an element returns: the next element it makes panics in
/// Rust, through the editor's own panic hook. The hook then makes its banner with
/// `createElement`, which works again by then.
const REFUSE_ONE_ELEMENT: &str = "
    const original = Document.prototype.createElement;
    Document.prototype.createElement = function () {
        Document.prototype.createElement = original;
        throw new Error('createElement refused once by the test');
    };";

#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_the_editor_shows_the_bug_banner_and_fails_the_guards() {
    let (server, _state) = NslabServer::start(None, "page-guards-bug");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "page-guards-bug").await;
    page.wait_for("g.node[data-name='docker0']").await;
    // A page without a bug passes both guards.
    assert_eq!(page.bug().await, None);
    page.shot("01-no-bug").await;

    page.client.execute(REFUSE_ONE_ELEMENT, vec![]).await.expect("the script runs");
    // The events tab is made when it is opened: its first element panics.
    page.click("#tab-log").await;
    let banner = page.wait_for("#editor-bug").await;
    let said = banner.text().await.expect("the banner's text");
    assert!(said.starts_with("nslab editor bug: panicked at"), "a Rust panic, through the hook: {said}");
    assert!(said.contains("createElement refused once by the test"), "the panic we caused: {said}");
    assert!(said.contains("Reload the page"), "{said}");
    assert_eq!(page.bug().await.as_deref(), Some(said.as_str()));

    let failed = panics("assert_no_bug with the banner shown", page.assert_no_bug()).await;
    assert!(failed.starts_with("the editor hit a bug: nslab editor bug: panicked at"), "{failed}");
    let failed = panics("a screenshot with the banner shown", page.shot("02-bug")).await;
    assert!(failed.starts_with("the editor hit a bug"), "{failed}");
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn absent_is_zero_and_none_but_a_broken_session_fails() {
    let (server, _state) = NslabServer::start(None, "page-guards-session");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "page-guards-session").await;
    page.wait_for("g.node[data-name='docker0']").await;
    assert_eq!(page.count("g.node").await, 4);
    assert_eq!(page.text(".toolbar .lab-name").await.as_deref(), Some("seed-bridge"));
    // Legitimately absent: nothing matches.
    assert_eq!(page.count("g.node[data-name='nowhere']").await, 0);
    assert_eq!(page.text("#nowhere").await, None);
    assert_eq!(page.texts("#nowhere").await, Vec::<String>::new());
    page.wait_gone("#nowhere").await;

    // The session ends under the test: every look fails instead of finding nothing.
    page.client.clone().close().await.expect("the session closes");
    let failed = panics("count on a closed session", page.count("g.node[data-name='nowhere']")).await;
    assert!(failed.contains("cannot look for `g.node[data-name='nowhere']`"), "{failed}");
    let failed = panics("text on a closed session", page.text("#nowhere")).await;
    assert!(failed.contains("cannot look for `#nowhere`"), "{failed}");
    let failed = panics("wait_gone on a closed session", page.wait_gone("#nowhere")).await;
    assert!(failed.contains("cannot look for"), "{failed}");
    let failed = panics("the bug guard on a closed session", page.assert_no_bug()).await;
    assert!(failed.contains("cannot look for `#editor-bug`"), "{failed}");
    drop(browser);
}
