//! Import and export in the editor, in real headless Chromium against a real `nslab serve`
//! (on the host: nothing is applied). The "import ip commands" box draws the seed article's
//! bridge lab as its commands are typed and marks a line it cannot read; open makes that
//! lab the document in one undoable step. The open button takes a containerlab file, and
//! refuses a broken one with its reason, the lab staying. The export menu downloads what
//! `nslab export` writes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::{Page, PAGE_WAIT};
use nslab_tests::paths::{example, nslab_binary, repo_root};
use nslab_tests::server::NslabServer;

fn seed_bridge_commands() -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures/seed-article/seed-bridge.txt")).unwrap()
}

/// What `nslab` writes to standard output for `args` (with `input` on standard input).
fn nslab(args: &[&str], input: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new(nslab_binary())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.unwrap_or_default().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "nslab {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Picks a file with the open button's file field, as the file chooser does.
async fn open_file(page: &Page<'_>, file: &Path) {
    let field = page.client.find(fantoccini::Locator::Css("#open-file")).await.expect("the file field");
    let file = std::fs::canonicalize(file).expect("the file is there");
    field.send_keys(&file.display().to_string()).await.expect("a file is chosen");
}

#[tokio::test(flavor = "current_thread")]
async fn pasted_ip_commands_are_drawn_as_typed_and_open_as_the_document() {
    let (server, _state) = NslabServer::start(Some(&example("router")), "editor-import-paste");
    let api = Client::new(&server);
    let before = api.lab().await;
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-import").await;
    page.wait_for("g.node[data-name='router']").await;

    page.click("#import-ip").await;
    page.wait_for("#paste-import").await;
    assert!(page.disabled("#paste-open").await, "nothing to open before anything is typed");
    let commands = seed_bridge_commands();
    let nonsense_line = commands.lines().count() + 1;
    let typed = format!("{commands}frobnicate the bridge please\n");
    page.wait_for("#paste-commands").await.send_keys(&typed).await.expect("the commands are typed");

    // The three namespaces on docker0: four boxes, three lines.
    page.wait_count("#paste-preview g.preview-node", 4).await;
    page.wait_count("#paste-preview line.preview-link", 3).await;
    for name in ["docker0", "ns0", "ns1", "ns2"] {
        page.wait_for(&format!("#paste-preview g.preview-node[data-name='{name}']")).await;
    }
    page.wait_for("#paste-preview g.preview-node.bridge[data-name='docker0']").await;
    // The nonsense is marked on its line, in the gutter and in the list, with why.
    let marked = format!("#paste-errors li[data-line='{nonsense_line}']");
    let said = page.wait_text(&marked, "said why the line is not understood", |t| !t.is_empty()).await;
    assert!(said.starts_with(&format!("line {nonsense_line}: ")), "{said}");
    assert_eq!(page.count("#paste-errors li").await, 1, "only the nonsense is not understood");
    page.wait_for(&format!(".gutter .line-number.bad[data-line='{nonsense_line}']")).await;
    assert_eq!(page.count(".gutter .line-number.bad").await, 1);
    let summary = page.text("#paste-summary").await.unwrap_or_default();
    assert_eq!(summary, "4 nodes, 3 links. 1 line not understood (marked).");
    assert_eq!(api.lab().await, before, "the preview changes nothing");
    page.shot("01-pasted").await;

    // Open: the document is that lab, as `nslab import --from ip` reads the same text.
    page.click("#paste-open").await;
    page.wait_gone("#paste-import").await;
    page.wait_text(".toolbar .lab-name", "opened the commands", |t| t == "commands").await;
    assert_eq!(page.node_names().await, ["docker0", "ns0", "ns1", "ns2"]);
    page.wait_count("g.link", 3).await;
    let cli = nslab(&["import", "--from", "ip", "--name", "commands", "-"], Some(&typed));
    let expected: nslab_model::Lab = serde_json::from_str(&cli).unwrap();
    let opened = api.wait_for_lab("holds the commands' lab", |lab| lab.name == "commands").await;
    assert_eq!(opened, expected);
    // What the lab cannot hold (the line not understood) is said in a notice.
    let notice = page.wait_text("#notice", "told what was left out", |t| !t.is_empty()).await;
    assert!(notice.contains("left out") && notice.contains(&format!("line {nonsense_line}")), "{notice}");
    page.shot("02-opened").await;

    // One undoable step: undo brings the lab before back.
    page.click("#undo").await;
    page.wait_text(".toolbar .lab-name", "undid the import", |t| t == "router").await;
    api.wait_for_lab("has the router back", |lab| lab.name == "router").await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_containerlab_file_opens_and_a_broken_one_is_refused_with_its_reason() {
    let (server, _state) = NslabServer::start(Some(&example("router")), "editor-import-open");
    let api = Client::new(&server);
    let browser = Browser::start().await;
    let page = Page::open(&browser.client, &server.url, "editor-import").await;
    page.wait_for("g.node[data-name='router']").await;

    let clab = repo_root().join("shared/tests/fixtures/import/clab/br01.clab.yml");
    open_file(&page, &clab).await;
    page.wait_text(".toolbar .lab-name", "opened the containerlab file", |t| t == "br01").await;
    assert_eq!(page.node_names().await, ["br-clab", "srl1", "srl2", "srl3"]);
    page.wait_count("g.link", 3).await;
    let notice = page.wait_text("#notice", "told what was left out", |t| !t.is_empty()).await;
    assert!(notice.starts_with("Opened br01.clab.yml; 6 things it holds are left out"), "{notice}");
    assert!(notice.contains("nokia_srlinux"), "{notice}");
    page.shot("03-clab-opened").await;
    let opened = api.lab().await;

    // A file that is not containerlab's: refused with its reason; the lab stays.
    let files = tempfile::tempdir().unwrap();
    let broken = files.path().join("broken.clab.yml");
    std::fs::write(&broken, "name: broken\ntopology:\n  nodes: [\n").unwrap();
    open_file(&page, &broken).await;
    let notice = page
        .wait_text("#notice.error", "refused the broken file", |t| t.starts_with("broken.clab.yml was not opened"))
        .await;
    assert!(notice.contains("line"), "the reason names its line: {notice}");
    assert_eq!(page.node_names().await, ["br-clab", "srl1", "srl2", "srl3"], "the drawing stays");
    assert_eq!(api.lab().await, opened, "the document stays");
    page.shot("04-broken-refused").await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_export_menu_downloads_what_nslab_export_writes() {
    let (server, _state) = NslabServer::start(Some(&example("seed-bridge")), "editor-import-export");
    let downloads = tempfile::tempdir().unwrap();
    let browser = Browser::start_in(None, Some(downloads.path())).await;
    let page = Page::open(&browser.client, &server.url, "editor-import").await;
    page.wait_for("g.node[data-name='docker0']").await;
    let lab = example("seed-bridge");
    for (format, file) in [("dot", "seed-bridge.dot"), ("clab", "seed-bridge.clab.yml")] {
        page.click("#export").await;
        page.click(&format!("#export-menu button[data-format='{format}']")).await;
        // The list closes once a format is picked.
        page.wait_gone("#export-menu").await;
        let downloaded = read_download(&downloads.path().join(file)).await;
        assert_eq!(downloaded, nslab(&["export", "--format", format, lab.to_str().unwrap()], None), "{format}");
    }
    // Escape closes the list without a download; so does a click beside it.
    page.click("#export").await;
    page.wait_for("#export-menu").await;
    page.press('\u{E00C}', false, false).await;
    page.wait_gone("#export-menu").await;
    page.click("#export").await;
    page.wait_for("#export-menu").await;
    page.click_at("svg.canvas", false).await;
    page.wait_gone("#export-menu").await;
    let files: Vec<_> = std::fs::read_dir(downloads.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(files.len(), 2, "only what was picked is downloaded: {files:?}");
    page.shot("05-exported").await;
    browser.close().await;
}

/// The text of a whole download: Chromium reserves the name with an empty file and
/// renames the `.crdownload` over it once written.
async fn read_download(path: &PathBuf) -> String {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        if let Some(text) = std::fs::read_to_string(path).ok().filter(|text| !text.is_empty()) {
            return text;
        }
        assert!(Instant::now() < deadline, "{} was never downloaded", path.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
