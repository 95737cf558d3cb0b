//! The interface around the drawing, in real headless Chromium against a real
//! `nslab serve` (on the host: nothing here is applied): the toolbar at the widths a
//! teacher's screens have, the side panel dragged wider and remembered, its `ip` commands
//! wrapped between arguments, messages as a teacher reads them, and the SVG export
//! without the editing handles.

use std::path::Path;
use std::time::{Duration, Instant};

use nslab_tests::browser::Browser;
use nslab_tests::page::{Page, PAGE_WAIT};
use nslab_tests::server::NslabServer;
use serde_json::{json, Value};

/// The widths the toolbar is checked at; from `ONE_ROW_FROM` up it is one row.
const WIDTHS: [u32; 4] = [1024, 1280, 1400, 1920];
const ONE_ROW_FROM: u32 = 1280;
const HEIGHT: u32 = 900;

/// WebDriver's arrow keys.
const ARROW_LEFT: char = '\u{E012}';
const ARROW_RIGHT: char = '\u{E014}';

/// The page's own narrowest and default panel widths (frontend/src/panel_width.rs).
const PANEL_MIN: f64 = 340.0;

/// Sizes the window so that the page's viewport is `width` pixels wide.
async fn set_viewport_width(page: &Page<'_>, width: u32) {
    page.client.set_window_size(width, HEIGHT).await.expect("the window resizes");
    let inner = page.client.execute("return window.innerWidth;", vec![]).await.expect("the width");
    let inner = inner.as_u64().expect("a width") as u32;
    if inner != width {
        page.client.set_window_size(width + (width - inner), HEIGHT).await.expect("the window resizes");
    }
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let inner = page.client.execute("return window.innerWidth;", vec![]).await.expect("the width");
        if inner.as_u64() == Some(u64::from(width)) {
            return;
        }
        assert!(Instant::now() < deadline, "the viewport never became {width} px wide: {inner}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every control of the toolbar: its id, title, box and group.
const TOOLBAR_CONTROLS: &str = "
    return [...document.querySelectorAll('.toolbar button, .toolbar select')].map(c => {
        const r = c.getBoundingClientRect();
        return { id: c.id, text: c.textContent, title: c.title, top: r.top, left: r.left, right: r.right,
                 bottom: r.bottom, width: r.width, height: r.height,
                 group: c.closest('[role=group]') ? c.closest('[role=group]').getAttribute('aria-label') : null };
    });";

/// The vertical extent of every visible part of the toolbar (the name, the connection
/// state as well as the controls).
const TOOLBAR_PARTS: &str = "
    return [...document.querySelectorAll('.toolbar > *')].filter(p => p.getClientRects().length > 0).map(p => {
        const r = p.getBoundingClientRect();
        return { part: p.className || p.tagName, top: r.top, bottom: r.bottom };
    });";

/// The tabs of the side panel, with their boxes and the panel's.
const TABS: &str = "
    const panel = document.querySelector('#side-panel').getBoundingClientRect();
    return { panel: [panel.left, panel.right],
             tabs: [...document.querySelectorAll('.side .tabs button')].map(t => {
                 const r = t.getBoundingClientRect();
                 return { text: t.textContent, top: r.top, left: r.left, right: r.right };
             }) };";

async fn controls(page: &Page<'_>) -> Vec<Value> {
    let value = page.client.execute(TOOLBAR_CONTROLS, vec![]).await.expect("the toolbar's controls");
    value.as_array().expect("a list").clone()
}

fn number(control: &Value, key: &str) -> f64 {
    control[key].as_f64().unwrap_or_else(|| panic!("no {key} in {control}"))
}

#[tokio::test(flavor = "current_thread")]
async fn the_toolbar_is_one_row_from_1280_and_whole_at_1024_and_the_tabs_never_wrap() {
    let (server, _state) = NslabServer::start(None, "editor-interface-widths");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-interface").await;
    page.wait_for("g.node[data-name='docker0']").await;

    // Four groups, every button in one; each names its key where it has one.
    let all = controls(&page).await;
    let groups: Vec<&str> = ["edit", "view", "file", "run"].into();
    for group in &groups {
        assert!(all.iter().any(|c| c["group"] == *group), "a group `{group}`: {all:?}");
    }
    for control in &all {
        assert!(!control["title"].as_str().unwrap_or_default().is_empty(), "a tooltip: {control}");
    }
    let keys = [
        ("add-namespace", "(N)"),
        ("add-bridge", "(B)"),
        ("add-host", "(H)"),
        ("delete", "(Delete)"),
        ("undo", "(Ctrl+Z)"),
        ("redo", "(Ctrl+Shift+Z)"),
        ("layout", "(L)"),
        ("zoom-in", "(+)"),
        ("zoom-out", "(-)"),
        ("fit", "(F)"),
        ("shortcuts", "(?)"),
    ];
    for (id, key) in keys {
        let control = all.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("a control #{id}"));
        assert!(control["title"].as_str().unwrap_or_default().contains(key), "#{id} names its key {key}: {control}");
    }
    assert_eq!(page.count(".toolbar .separator, .toolbar hr").await, 0, "no separator that could start a row");

    for width in WIDTHS {
        set_viewport_width(&page, width).await;
        page.shot(&format!("01-width-{width}")).await;
        let all = controls(&page).await;
        for control in &all {
            assert!(
                number(control, "width") > 0.0 && number(control, "height") > 0.0,
                "{width} px: visible: {control}"
            );
            assert!(number(control, "left") >= 0.0, "{width} px: inside on the left: {control}");
            assert!(number(control, "right") <= f64::from(width), "{width} px: inside on the right: {control}");
            assert!(number(control, "bottom") <= f64::from(HEIGHT), "{width} px: inside at the bottom: {control}");
        }
        if width >= ONE_ROW_FROM {
            let first = number(&all[0], "top");
            for control in &all {
                assert!((number(control, "top") - first).abs() < 1.0, "{width} px: one row: {control} and {}", all[0]);
            }
            let row_bottom = number(&all[0], "bottom");
            let parts = page.client.execute(TOOLBAR_PARTS, vec![]).await.expect("the toolbar's parts");
            for part in parts.as_array().expect("a list") {
                assert!(number(part, "top") < row_bottom, "{width} px: on the buttons' row: {part}");
            }
        }
        let tabs = page.client.execute(TABS, vec![]).await.expect("the tabs");
        let list = tabs["tabs"].as_array().expect("tabs");
        assert_eq!(list.len(), 6, "{tabs}");
        let panel_right = tabs["panel"][1].as_f64().expect("the panel's right");
        for tab in list {
            assert!((number(tab, "top") - number(&list[0], "top")).abs() < 1.0, "{width} px: tabs on one row: {tabs}");
            assert!(number(tab, "right") <= panel_right, "{width} px: every tab inside the panel: {tabs}");
        }
    }
    browser.close().await;
}

/// The side panel's width on the screen.
async fn panel_width(page: &Page<'_>) -> f64 {
    let script = "return document.querySelector('#side-panel').getBoundingClientRect().width;";
    page.client.execute(script, vec![]).await.expect("the panel's width").as_f64().expect("a width")
}

/// For every command of the plan: how many lines it takes, and the arguments that are cut
/// across two lines (a word whose text gives more than one box).
const COMMAND_LINES: &str = "
    return [...document.querySelectorAll('#plan-panel ol.commands li code')].map(code => {
        const text = code.firstChild;
        const lines = code.getClientRects().length;
        const cut = [];
        let at = 0;
        for (const word of code.textContent.split(' ')) {
            const range = document.createRange();
            range.setStart(text, at);
            range.setEnd(text, at + word.length);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (tops.size > 1) cut.push(word);
            at += word.length + 1;
        }
        return { command: code.textContent, lines, cut };
    });";

#[tokio::test(flavor = "current_thread")]
async fn the_panel_is_dragged_wider_kept_in_bounds_remembered_and_its_commands_wrap_between_arguments() {
    let (server, _state) = NslabServer::start(None, "editor-interface-panel");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-interface-panel").await;
    page.wait_for("g.node[data-name='docker0']").await;
    set_viewport_width(&page, 1400).await;

    let before = panel_width(&page).await;
    page.drag_by("#panel-resizer", (-200.0, 0.0)).await;
    let wider = panel_width(&page).await;
    assert!((wider - before - 200.0).abs() < 2.0, "dragged 200 px to the left: {before} -> {wider}");
    page.shot("01-wider").await;

    // Not wider than leaves the canvas room, not narrower than the tabs.
    let (x, y) = page.center_of("#panel-resizer").await;
    page.drag_between((x, y), (5.0, y)).await;
    let widest = panel_width(&page).await;
    assert!(widest < 1400.0 - 400.0, "the canvas keeps room: {widest}");
    let (x, y) = page.center_of("#panel-resizer").await;
    page.drag_between((x, y), (1395.0, y)).await;
    let narrowest = panel_width(&page).await;
    assert!((narrowest - PANEL_MIN).abs() < 1.0, "no narrower than the tabs: {narrowest}");

    // Focused, the arrow keys move it too (16 px a press).
    page.click_at("#panel-resizer", false).await;
    page.press(ARROW_LEFT, false, false).await;
    page.press(ARROW_LEFT, false, false).await;
    let moved = panel_width(&page).await;
    assert!((moved - narrowest - 32.0).abs() < 1.0, "two presses of ← widen it 32 px: {narrowest} -> {moved}");
    page.press(ARROW_RIGHT, false, false).await;
    page.press(ARROW_RIGHT, false, false).await;
    assert!((panel_width(&page).await - narrowest).abs() < 1.0, "→ narrows it back");

    // Reloaded, the page keeps the width.
    page.client.refresh().await.expect("the page reloads");
    page.wait_for("g.node[data-name='docker0']").await;
    assert!((panel_width(&page).await - narrowest).abs() < 1.0, "remembered across a reload");

    // At its narrowest, long commands wrap, between their arguments only.
    page.click("#plan").await;
    page.wait_for("#plan-panel ol.commands li code").await;
    page.shot("02-plan-narrow").await;
    let commands = page.client.execute(COMMAND_LINES, vec![]).await.expect("the commands' lines");
    let commands = commands.as_array().expect("a list");
    assert!(commands.iter().any(|c| c["lines"].as_u64() > Some(1)), "some command wraps: {commands:?}");
    for command in commands {
        assert_eq!(command["cut"], json!([]), "no argument is cut: {command}");
    }
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn messages_read_as_sentences_with_code_names_and_plurals_each_said_once() {
    let (server, _state) = NslabServer::start(None, "editor-interface-messages");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-interface-messages").await;
    page.wait_for("g.node[data-name='ns0']").await;

    // A bad address: said once, under its field, which has a red border; the problems
    // list names it by the link's nodes, with the count in the singular.
    page.click_at("g.link[data-index='0'] line.hit", false).await;
    page.wait_for("g.link.selected[data-index='0']").await;
    let field = "fieldset.end input[name='addresses']";
    page.type_into(field, "10.0.0.300/24").await;
    page.wait_for(".inspector li.problem.error[data-path*='.addresses']").await;
    page.wait_count("li.problem[data-path*='.addresses']", 1).await;
    page.wait_for("fieldset.end input[name='addresses'].invalid").await;
    assert_eq!(page.text("#problems .count").await.as_deref(), Some("1 problem"));
    page.shot("01-said-once").await;
    page.click("#tab-ping").await;
    let place = page.wait_text("#problems li.problem.error .place", "named the link", |t| !t.is_empty()).await;
    assert!(place.starts_with("link docker0 – ns0") || place.starts_with("link ns0 – docker0"), "{place}");
    assert!(!place.contains("links["), "no path: {place}");
    page.wait_count("li.problem[data-path*='.addresses']", 1).await;

    // Code between backticks is code: a refused rename names the taken name.
    page.click_at("g.node[data-name='ns1'] rect.body", false).await;
    page.wait_for(".inspector input[name='node-name']").await;
    page.type_into(".inspector input[name='node-name']", "ns2").await;
    let code = page.wait_text(".inspector li.problem.error code", "set the name as code", |t| !t.is_empty()).await;
    assert_eq!(code, "ns2");
    let sentence = page.text(".inspector li.problem.error").await.unwrap_or_default();
    assert!(!sentence.contains('`'), "no raw backticks: {sentence}");
    page.wait_for(".inspector input[name='node-name'].invalid").await;
    page.shot("02-code").await;

    // The host is `host`, not `host host`.
    page.click("#add-host").await;
    page.click_at("g.node.host rect.body", false).await;
    assert_eq!(page.wait_text(".inspector h3", "named the host", |t| !t.is_empty()).await, "host");

    // A refused file is an error, in red.
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("truncated.json");
    std::fs::write(&path, "{\"version\": 1, \"name\": \"half\", \"nodes\": [").unwrap();
    page.wait_for("input[type='file']").await.send_keys(path.to_str().unwrap()).await.unwrap();
    page.wait_for("#notice.error[role='alert']").await;
    let colour = "return getComputedStyle(document.querySelector('#notice')).color;";
    let colour = page.client.execute(colour, vec![]).await.expect("the notice's colour");
    assert_eq!(colour, json!("rgb(198, 40, 40)"), "the error colour");
    page.shot("03-error").await;
    browser.close().await;
}

async fn wait_for_download(path: &Path) -> String {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with("</svg>") {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "{} was never downloaded", path.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of attribute `name` of the SVG's root element.
fn drawing_attribute<'a>(svg: &'a str, name: &str) -> &'a str {
    let root = svg.split('>').next().expect("a root element");
    let after = root.split(&format!(" {name}=\"")).nth(1).unwrap_or_else(|| panic!("no {name} in {root}"));
    after.split('"').next().expect("a closing quote")
}

/// The bytes of a finished PNG download (its IEND chunk written).
async fn wait_for_png(path: &Path) -> Vec<u8> {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        if let Ok(bytes) = std::fs::read(path) {
            if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.windows(4).any(|w| w == b"IEND") {
                return bytes;
            }
        }
        assert!(Instant::now() < deadline, "{} was never downloaded", path.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_exported_svg_and_png_are_the_drawing_without_handles_or_selection() {
    let (server, _state) = NslabServer::start(None, "editor-interface-svg");
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::start_in(None, Some(downloads.path())).await;
    let page = Page::open(&browser.client, &server.url, "editor-interface-svg").await;
    page.wait_for("g.node[data-name='ns0']").await;
    page.click_at("g.node[data-name='ns0'] rect.body", false).await;
    page.wait_for("g.node.selected[data-name='ns0']").await;
    assert!(page.count("circle.handle").await > 0 && page.count("circle.port").await > 0, "the page has handles");

    page.click("#export-svg").await;
    let picture = wait_for_download(&downloads.path().join("seed-bridge.svg")).await;
    for name in ["docker0", "ns0", "ns1", "ns2"] {
        assert!(picture.contains(&format!(">{name}</text>")), "the drawing has {name}");
    }
    // The style sheet names every class; the drawing after it must use none of these.
    let drawing = picture.split("</style>").nth(1).expect("a drawing after the style");
    for editing in ["class=\"handle\"", "class=\"port", "class=\"hit\"", "selected"] {
        assert!(!drawing.contains(editing), "no `{editing}` in the drawing: {drawing}");
    }

    // The PNG is that drawing, drawn by the browser at twice its size.
    page.click("#export-png").await;
    let png = wait_for_png(&downloads.path().join("seed-bridge.png")).await;
    let artifact = nslab_tests::paths::artifacts_dir().join("editor-interface-svg").join("exported.png");
    std::fs::write(artifact, &png).expect("the PNG is kept with the screenshots");
    let size = |at: usize| f64::from(u32::from_be_bytes(png[at..at + 4].try_into().unwrap()));
    let svg_size = |name: &str| {
        let value = drawing_attribute(&picture, name);
        value.parse::<f64>().unwrap_or_else(|_| panic!("the SVG's {name}: {value}"))
    };
    assert_eq!((size(16), size(20)), ((svg_size("width") * 2.0).ceil(), (svg_size("height") * 2.0).ceil()));
    browser.close().await;
}

/// Item 7 of issue 21: a selected node that has a warning (a new namespace with nothing
/// connected) shows the selection's blue border, not the warning's orange, while the
/// warning stays told by its own sign elsewhere (the problems list).
#[tokio::test(flavor = "current_thread")]
async fn a_selected_node_with_a_warning_shows_its_selection() {
    let (server, _state) = NslabServer::start(None, "editor-interface-selection");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-interface-selection").await;
    page.wait_for("g.node[data-name='ns0']").await;
    page.click("#add-namespace").await;
    page.wait_count("g.node.warning.selected", 1).await;
    let stroke = "return getComputedStyle(document.querySelector(arguments[0])).stroke;";
    let of = |css: &str| page.client.execute(stroke, vec![json!(css)]);
    let selected = of("g.node.warning.selected rect.body").await.expect("a stroke");
    assert_eq!(selected, json!("rgb(47, 111, 223)"), "the selection's blue");
    page.shot("01-selected-with-a-warning").await;
    page.press('\u{E00C}', false, false).await; // Escape: nothing selected
    page.wait_count("g.node.selected", 0).await;
    let unselected = of("g.node.warning rect.body").await.expect("a stroke");
    assert_eq!(unselected, json!("rgb(178, 106, 0)"), "unselected, the warning's orange shows");
}

/// Whether the side panel's tab row scrolls: its content's width and its own.
const TAB_ROW_WIDTHS: &str = "
    const row = document.querySelector('.side .tabs');
    return [row.scrollWidth, row.clientWidth];";

/// Seven tabs (six, and capture's while a capture is open) inside the panel, on one row
/// when `one_row`, the row not scrolling.
async fn assert_seven_tabs_fit(page: &Page<'_>, panel: &str, one_row: bool) {
    let tabs = page.client.execute(TABS, vec![]).await.expect("the tabs");
    let list = tabs["tabs"].as_array().expect("tabs");
    assert_eq!(list.len(), 7, "{panel}: {tabs}");
    assert_eq!(list[6]["text"], "capture", "{panel}: {tabs}");
    let (panel_left, panel_right) = (tabs["panel"][0].as_f64().unwrap(), tabs["panel"][1].as_f64().unwrap());
    for tab in list {
        if one_row {
            assert!((number(tab, "top") - number(&list[0], "top")).abs() < 1.0, "{panel}: tabs on one row: {tabs}");
        }
        assert!(number(tab, "left") >= panel_left, "{panel}: every tab inside the panel: {tabs}");
        assert!(number(tab, "right") <= panel_right, "{panel}: every tab inside the panel: {tabs}");
    }
    let widths = page.client.execute(TAB_ROW_WIDTHS, vec![]).await.expect("the row's widths");
    let (content, shown) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
    assert!(content <= shown, "{panel}: the tab row scrolls: {content} px of tabs in {shown} px");
}

#[tokio::test(flavor = "current_thread")]
async fn with_a_capture_open_the_seven_tabs_fit_one_row_at_1280_and_wrap_rather_than_scroll_in_a_narrower_panel() {
    let (server, _state) = NslabServer::start(None, "editor-interface-capture-tab");
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-interface-capture-tab").await;
    page.wait_for("g.node[data-name='docker0']").await;
    set_viewport_width(&page, 1280).await;
    // A capture opened from a link's end in the inspector (nothing is applied: the capture
    // itself is refused, its tab shows all the same).
    page.click_at("g.link[data-index='1'] line.hit", false).await;
    page.wait_for("g.link.selected[data-index='1']").await;
    page.click("#tab-inspect").await;
    page.click("fieldset.end[data-side='b'] button.capture-open").await;
    page.wait_for("#tab-capture").await;
    assert_seven_tabs_fit(&page, "the panel's default width", true).await;
    page.shot("01-seven-tabs").await;

    let (x, y) = page.center_of("#panel-resizer").await;
    page.drag_between((x, y), (1275.0, y)).await;
    let narrowest = panel_width(&page).await;
    assert!((narrowest - PANEL_MIN).abs() < 1.0, "the panel at its narrowest: {narrowest}");
    assert_seven_tabs_fit(&page, "the panel's narrowest width", false).await;
    page.shot("02-seven-tabs-narrowest").await;
    page.assert_no_bug().await;
    browser.close().await;
}
