//! The editor's page as a user handles it: real pointer and keyboard input through
//! WebDriver actions, waits on what the page shows, and screenshots of each stage.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::paths::artifacts_dir;

/// How long the page may take to show something a test waits for.
pub const PAGE_WAIT: Duration = Duration::from_secs(15);

/// Steps a drag is cut into, so the page sees pointermove events along the way.
const DRAG_STEPS: u32 = 8;

pub struct Page<'a> {
    pub client: &'a Client,
    /// Screenshots go to tests/artifacts/<shots>/.
    shots: PathBuf,
}

impl<'a> Page<'a> {
    pub async fn open(client: &'a Client, url: &str, shots: &str) -> Page<'a> {
        client.goto(url).await.expect("the page loads");
        let shots = artifacts_dir().join(shots);
        std::fs::create_dir_all(&shots).expect("an artifacts folder");
        let page = Page { client, shots };
        page.wait_for(".connection.live").await;
        page
    }

    /// Saves a screenshot named after the stage the test reached, and fails if the editor
    /// reported a bug (a panic shows `#editor-bug`).
    pub async fn shot(&self, stage: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{stage}.png")), png).expect("the screenshot is saved");
        self.assert_no_bug().await;
    }

    /// Fails the test if the page shows the bug banner (see `bug`).
    pub async fn assert_no_bug(&self) {
        if let Some(bug) = self.bug().await {
            panic!("the editor hit a bug: {bug}");
        }
    }

    /// The text of the bug banner that the editor's panic hook puts on the page, if any.
    pub async fn bug(&self) -> Option<String> {
        self.text("#editor-bug").await
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PAGE_WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("the page never showed `{css}`: {e}"))
    }

    /// How many elements `css` matches now. A WebDriver error (a lost session, a bad
    /// selector) fails the test: it is no answer, and 0 would pass every "gone" check.
    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("cannot look for `{css}`: {e}")).len()
    }

    /// Waits until `css` matches exactly `expected` elements.
    pub async fn wait_count(&self, css: &str, expected: usize) {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let found = self.count(css).await;
            if found == expected {
                return;
            }
            assert!(Instant::now() < deadline, "`{css}` matched {found} elements, not {expected}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs the matrix (its tab open) until a run's `cells` answers are all in and fresh:
    /// news of a kernel change that arrives during a run (an IPv6 address settling, a
    /// deleted namespace let go) rightly makes its answers stale, and on a loaded machine
    /// that news can lag. Bounded: 5 runs.
    pub async fn run_matrix_until_fresh(&self, cells: usize) {
        let answered = "#matrix-panel td.cell.reachable, #matrix-panel td.cell.unreachable";
        for _ in 0..5 {
            self.click("#matrix-run").await;
            self.wait_count(answered, cells).await;
            let deadline = Instant::now() + PAGE_WAIT;
            while self.disabled("#matrix-run").await && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if self.count("#matrix-panel td.cell.stale").await == 0 {
                return;
            }
        }
        panic!("five runs of the matrix in a row were made stale by the kernel changing");
    }

    /// Waits until `css` is gone from the page.
    pub async fn wait_gone(&self, css: &str) {
        self.wait_count(css, 0).await;
    }

    /// Waits until the text of `css` satisfies `test`, and returns it.
    pub async fn wait_text(&self, css: &str, what: &str, test: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let text = self.text(css).await.unwrap_or_default();
            if test(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "`{css}` never {what}; it reads `{text}`");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element `css` matches; None when nothing matches (or what
    /// matched went away before its text was read). Any other WebDriver error fails the
    /// test: None would pass every "absent" check.
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) if e.is_no_such_element() => return None,
            Err(e) => panic!("cannot look for `{css}`: {e}"),
        };
        element_text(&element, css).await
    }

    /// The texts of every element `css` matches, in page order (those that went away
    /// before their text was read left out). A WebDriver error fails the test.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let found =
            self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("cannot look for `{css}`: {e}"));
        let mut texts = Vec::new();
        for element in found {
            texts.extend(element_text(&element, css).await);
        }
        texts
    }

    /// The centre of the first element `css` matches, in viewport pixels.
    pub async fn center_of(&self, css: &str) -> (f64, f64) {
        self.wait_for(css).await;
        let script = "const r = document.querySelector(arguments[0]).getBoundingClientRect();
                      return [r.left + r.width / 2, r.top + r.height / 2];";
        let value = self.client.execute(script, vec![json!(css)]).await.expect("the script runs");
        let number = |i: usize| value[i].as_f64().expect("a coordinate");
        (number(0), number(1))
    }

    /// Presses the left button on `from`, moves in steps to `to`, and releases it there.
    pub async fn drag_between(&self, from: (f64, f64), to: (f64, f64)) {
        let step = Duration::from_millis(20);
        let mut mouse = MouseActions::new("mouse".to_string())
            .then(PointerAction::MoveTo { duration: None, x: from.0, y: from.1 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
        for i in 1..=DRAG_STEPS {
            let fraction = f64::from(i) / f64::from(DRAG_STEPS);
            let (x, y) = (from.0 + (to.0 - from.0) * fraction, from.1 + (to.1 - from.1) * fraction);
            mouse = mouse.then(PointerAction::MoveTo { duration: Some(step), x, y });
        }
        mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        self.client.perform_actions(mouse).await.expect("the pointer drags");
    }

    /// Drags the element `css` by (dx, dy) pixels.
    pub async fn drag_by(&self, css: &str, by: (f64, f64)) {
        let from = self.center_of(css).await;
        self.drag_between(from, (from.0 + by.0, from.1 + by.1)).await;
    }

    /// Drags from the element `from` onto the element `to`.
    pub async fn drag_onto(&self, from: &str, to: &str) {
        let start = self.center_of(from).await;
        let end = self.center_of(to).await;
        self.drag_between(start, end).await;
    }

    /// A click with the pointer at the centre of `css`, optionally with Shift held.
    pub async fn click_at(&self, css: &str, shift: bool) {
        let (x, y) = self.center_of(css).await;
        let mouse = MouseActions::new("mouse".to_string())
            .then(PointerAction::MoveTo { duration: None, x, y })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        if shift {
            let keys = KeyActions::new("keys".to_string())
                .then(KeyAction::Down { value: Key::Shift.into() })
                .then(KeyAction::Pause { duration: Duration::ZERO })
                .then(KeyAction::Pause { duration: Duration::ZERO })
                .then(KeyAction::Pause { duration: Duration::ZERO })
                .then(KeyAction::Up { value: Key::Shift.into() });
            let mouse = MouseActions::new("mouse".to_string())
                .then(PointerAction::Pause { duration: Duration::ZERO })
                .then(PointerAction::MoveTo { duration: None, x, y })
                .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
                .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
            let both: Vec<fantoccini::actions::ActionSequence> = vec![keys.into(), mouse.into()];
            self.client.perform_actions(both).await.expect("shift-click");
        } else {
            self.client.perform_actions(mouse).await.expect("the pointer clicks");
        }
    }

    /// Clicks a button (or anything clickable) the way WebDriver does: at its centre.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
    }

    /// Presses a key, with Control and/or Shift held, on whatever has the focus.
    pub async fn press(&self, key: char, control: bool, shift: bool) {
        let mut keys = KeyActions::new("keys".to_string());
        if control {
            keys = keys.then(KeyAction::Down { value: Key::Control.into() });
        }
        if shift {
            keys = keys.then(KeyAction::Down { value: Key::Shift.into() });
        }
        keys = keys.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        if shift {
            keys = keys.then(KeyAction::Up { value: Key::Shift.into() });
        }
        if control {
            keys = keys.then(KeyAction::Up { value: Key::Control.into() });
        }
        self.client.perform_actions(keys).await.expect("the keys are pressed");
    }

    /// Replaces the text of the input `css` by typing, then leaves it (Tab), as a user does.
    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.clear().await.expect("the field clears");
        input.send_keys(text).await.expect("typing works");
        input.send_keys(&char::from(Key::Tab).to_string()).await.expect("tab leaves the field");
    }

    /// Takes the page off the network, or puts it back (DevTools network emulation): its
    /// requests fail as they would with the cable pulled.
    pub async fn set_offline(&self, offline: bool) {
        let conditions = json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
        crate::browser::cdp(self.client, "Network.enable", json!({})).await.expect("DevTools network domain");
        crate::browser::cdp(self.client, "Network.emulateNetworkConditions", conditions)
            .await
            .expect("network emulation");
    }

    /// Whether the element `css` is disabled.
    pub async fn disabled(&self, css: &str) -> bool {
        let element = self.wait_for(css).await;
        element.attr("disabled").await.expect("attributes are readable").is_some()
    }

    /// The canvas's zoom, read from the transform of its world group.
    pub async fn zoom(&self) -> f64 {
        let script = "return document.querySelector('svg.canvas g.world').getAttribute('transform');";
        let transform = self.client.execute(script, vec![]).await.expect("the canvas's transform");
        let transform = transform.as_str().unwrap_or_default().to_string();
        let scale = transform.split("scale(").nth(1).and_then(|rest| rest.split(')').next());
        scale.and_then(|s| s.trim().parse().ok()).unwrap_or_else(|| panic!("no scale in `{transform}`"))
    }

    /// The names of the nodes on the canvas, sorted.
    pub async fn node_names(&self) -> Vec<String> {
        let mut names = self.texts("g.node text.name").await;
        names.sort();
        names
    }

    /// Every interface row's first line on the node cards (its name and first address),
    /// sorted: where each veth end is labelled.
    pub async fn link_labels(&self) -> Vec<String> {
        let mut labels = self.texts("g.node g.iface text.label").await;
        labels.sort();
        labels
    }
}

/// The text of `element`, found by `css`; None when it left the page since it was found
/// (a stale element); any other WebDriver error fails the test.
async fn element_text(element: &fantoccini::elements::Element, css: &str) -> Option<String> {
    match element.text().await {
        Ok(text) => Some(text),
        Err(e) if e.is_stale_element_reference() => None,
        Err(e) => panic!("cannot read the text of `{css}`: {e}"),
    }
}
