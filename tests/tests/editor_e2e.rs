//! The editor end to end, as a teacher uses it: real headless Chromium with real pointer
//! and keyboard input, against a real `nslab serve` in a sandbox whose kernel the test
//! reads through `ip -j`. A screenshot of every stage goes to tests/artifacts/editor-e2e/.
//!
//! Chromedriver and Chromium run inside the sandbox's network namespace (so they reach the
//! server on its loopback); the test's thread enters it too, to talk to chromedriver.

use std::path::Path;
use std::time::{Duration, Instant};

use nslab_model::export::to_json;
use nslab_model::Lab;
use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::page::{Page, PAGE_WAIT};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

/// The end of link `index` that sits on `node`: `a` or `b`, for the inspector's fieldset.
fn side_on(lab: &Lab, index: usize, node: &str) -> &'static str {
    let [a, _] = lab.links[index].ends();
    if a.node == node {
        "a"
    } else {
        "b"
    }
}

/// Waits until the sandbox's kernel holds exactly `lab`.
async fn kernel_holds(sandbox: &Sandbox, lab: &Lab) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let found = differences(&expected_state(lab), &read_kernel_state(sandbox));
        if found.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "the kernel does not hold the lab:\n{}", found.join("\n"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Draws two namespaces and a bridge, wires them, addresses them: all with the pointer and
/// the keyboard, checking the document the server receives.
async fn draw_the_bridge_lab(page: &Page<'_>, server: &Client) -> Lab {
    page.click("#add-namespace").await;
    page.wait_for("g.node[data-name='ns1']").await;
    page.drag_by("g.node[data-name='ns1'] rect.body", (-220.0, 140.0)).await;
    page.click("#add-namespace").await;
    page.wait_for("g.node[data-name='ns2']").await;
    page.drag_by("g.node[data-name='ns2'] rect.body", (220.0, 140.0)).await;
    page.click("#add-bridge").await;
    page.wait_for("g.node[data-name='br0']").await;
    assert_eq!(page.node_names().await, ["br0", "ns1", "ns2"]);
    let lab = server.wait_for_lab("has the three nodes", |lab| lab.nodes.len() == 3).await;
    let moved = |name: &str| lab.node(name).and_then(|n| n.editor()).and_then(|e| e.x).unwrap_or(0.0);
    assert!(moved("ns1") < moved("br0") && moved("br0") < moved("ns2"), "the drags moved the nodes");
    page.shot("01-nodes").await;

    for (index, (namespace, address)) in [("ns1", "10.0.0.1/24"), ("ns2", "10.0.0.2/24")].into_iter().enumerate() {
        page.drag_onto(&format!("g.node[data-name='{namespace}'] circle.handle"), "g.node[data-name='br0'] rect.body")
            .await;
        page.wait_count("g.link", index + 1).await;
        let lab = server.wait_for_lab("has the new link", |lab| lab.links.len() == index + 1).await;
        // The new link is selected: its inspector shows both ends with proposed names.
        let side = side_on(&lab, index, namespace);
        let field = format!("fieldset.end[data-side='{side}'] input[name='addresses']");
        page.type_into(&field, address).await;
    }
    page.shot("02-wired").await;
    let lab = server
        .wait_for_lab("has both addresses", |lab| {
            lab.links.iter().all(|link| link.ends().iter().any(|end| !end.addresses.is_empty()))
        })
        .await;
    let labels = page.link_labels().await;
    assert_eq!(labels, ["eth0 10.0.0.1/24", "eth0 10.0.0.2/24", "veth-ns1", "veth-ns2"], "proposed names");

    // The teaching view has shown the iproute2 command of every edit.
    page.click("#tab-commands").await;
    let commands = page.wait_text("#teaching pre.commands", "listed the edits", |t| t.contains("10.0.0.2")).await;
    for command in [
        "ip netns add ns1",
        "ip link add br0 type bridge",
        "ip link add eth0 netns ns1 type veth peer name veth-ns1",
        "ip link set dev veth-ns1 master br0",
        "ip -n ns1 addr add 10.0.0.1/24 dev eth0",
        "ip -n ns2 addr add 10.0.0.2/24 dev eth0",
    ] {
        assert!(commands.lines().any(|line| line == command), "`{command}` is not among\n{commands}");
    }
    page.shot("02b-commands").await;
    page.click("#tab-inspect").await;
    lab
}

/// Runs the reachability matrix, then clicks the cell `from` -> `to` (real pointer input).
async fn matrix_and_path(page: &Page<'_>, from: &str, to: &str) {
    page.click("#tab-matrix").await;
    page.click("#matrix-run").await;
    page.wait_count("#matrix-panel td.cell", 4).await;
    page.wait_count("#matrix-panel td.cell.reachable", 4).await;
    let tag = "const [from, to] = [arguments[0], arguments[1]];
        const targets = [...document.querySelectorAll('#matrix-panel th.target')].map(t => t.textContent);
        const row = [...document.querySelectorAll('#matrix-panel tbody tr')]
            .find(r => r.querySelector('th.source').textContent === from);
        row.querySelectorAll('td.cell')[targets.indexOf(to)].id = 'picked-cell';";
    page.client.execute(tag, vec![from.into(), to.into()]).await.expect("the cell is found");
    page.click_at("#picked-cell", false).await;
    page.wait_count("g.node.highlighted", 3).await;
    page.wait_count("g.link.highlighted", 2).await;
    page.shot("04b-matrix").await;
    page.press('\u{E00C}', false, false).await; // Escape clears the highlight
    page.wait_count("g.node.highlighted", 0).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_teacher_draws_applies_pings_and_shares_a_lab() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let start = state.path().join("classroom.json");
    std::fs::write(&start, to_json(&Lab::new("classroom"))).unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&start), &state.path().join("state"), "editor-e2e");
    let api = Client::new(&server);
    let downloads = tempfile::tempdir().unwrap();
    let teacher = Browser::start_in(Some(&sandbox), Some(downloads.path())).await;
    let page = Page::open(&teacher.client, &server.url, "editor-e2e").await;
    assert_eq!(page.text(".toolbar .lab-name").await.as_deref(), Some("classroom"));

    let lab = draw_the_bridge_lab(&page, &api).await;

    // The plan first: the ip commands apply would run, nothing run yet.
    page.click("#plan").await;
    let planned = page.wait_text("#plan-panel ol.commands", "listed the plan", |t| !t.is_empty()).await;
    assert!(planned.lines().any(|l| l == "ip netns add ns1"), "{planned}");
    assert!(planned.lines().any(|l| l == "ip -n ns2 addr add 10.0.0.2/24 dev eth0"), "{planned}");
    assert_eq!(sandbox.sh("ip netns list"), "", "planning changes nothing");
    let planned = page.count("#plan-panel ol.commands li").await;

    // Apply: every op lights up, the kernel holds the lab, the links turn up.
    assert!(!page.disabled("#apply").await, "a valid lab can be applied");
    page.click("#apply").await;
    page.wait_text("#run .outcome", "told of a successful apply", |t| !t.is_empty()).await;
    assert_eq!(page.count("#run .outcome.ok").await, 1, "{:?}", page.text("#run .outcome").await);
    assert_eq!(page.count("#run li.step.done").await, planned, "every planned op is done");
    kernel_holds(&sandbox, &lab).await;
    page.wait_count("g.link.up", 2).await;
    page.wait_count("g.link circle.port.up", 4).await;
    page.wait_count("g.node.namespace.present", 2).await;
    page.shot("03-applied").await;

    // Someone types `ip link set eth0 down` in a terminal: the link shows it, a banner
    // offers to repair it, and re-applying does.
    sandbox.sh("ip -n ns1 link set eth0 down");
    page.wait_for("g.link.down").await;
    page.wait_text("#drift", "reported the drift", |t| t.contains("runs 1 step")).await;
    page.shot("03b-drift").await;
    page.click("#drift button").await;
    page.wait_gone("#drift").await;
    page.wait_count("g.link.up", 2).await;
    kernel_holds(&sandbox, &lab).await;

    // Someone replaces ns1's eth0 with an interface of their own: that is no drift to
    // repair but something in the lab's way; a banner says so and the link is marked.
    sandbox.sh("ip -n ns1 link del eth0 && ip -n ns1 link add eth0 type bridge");
    page.wait_text("#in-the-way", "reported what is in the way", |t| t.contains("1 thing")).await;
    page.wait_for("g.link.conflict").await;
    assert_eq!(page.count("#drift").await, 0, "not offered as drift to repair");
    sandbox.sh("ip -n ns1 link del eth0");
    page.wait_gone("#in-the-way").await;
    page.wait_count("g.link.conflict", 0).await;
    page.wait_text("#drift", "offered to repair", |t| t.contains("step")).await;
    page.click("#drift button").await;
    page.wait_gone("#drift").await;
    page.wait_count("g.link.up", 2).await;
    kernel_holds(&sandbox, &lab).await;

    // Ping from one namespace to the other: RTTs stream onto the page.
    page.click("#tab-ping").await;
    page.wait_for("#ping-from option[value='ns1']").await.click().await.unwrap();
    page.wait_for("#ping-to option[value='ns2:eth0']").await.click().await.unwrap();
    page.click("#ping-start").await;
    page.wait_text("#ping-samples", "showed two answered pings", |t| t.matches(" ms").count() >= 2).await;
    assert_eq!(page.count("#ping-samples li.sample.lost").await, 0, "no ping is lost on a bridge");
    page.shot("04-ping").await;
    page.click("#ping-stop").await;
    matrix_and_path(&page, "ns1", "10.0.0.2").await;

    // Delete a namespace with the keyboard, then undo it with Ctrl+Z.
    page.click("#tab-inspect").await;
    page.click_at("g.node[data-name='ns2'] rect.body", false).await;
    page.wait_for("g.node.selected[data-name='ns2']").await;
    page.press('\u{E017}', false, false).await; // WebDriver's Delete key
    page.wait_gone("g.node[data-name='ns2']").await;
    page.wait_count("g.link", 1).await;
    api.wait_for_lab("lost ns2", |lab| lab.node("ns2").is_none()).await;
    page.shot("05-deleted").await;
    page.press('z', true, false).await;
    page.wait_for("g.node[data-name='ns2']").await;
    page.wait_count("g.link", 2).await;
    let restored = api.wait_for_lab("got ns2 back", |lab| lab.node("ns2").is_some()).await;
    assert_eq!(restored.nodes, lab.nodes, "undo brings the namespace back as it was");
    assert_eq!(restored.links, lab.links, "and its link");
    page.shot("06-undone").await;

    // A student's browser on the same lab sees the teacher's edits as they happen.
    let student = Browser::start_in(Some(&sandbox), None).await;
    let student_page = Page::open(&student.client, &server.url, "editor-e2e-student").await;
    student_page.wait_for("g.node[data-name='ns2']").await;
    page.click("#add-namespace").await;
    student_page.wait_for("g.node[data-name='ns3']").await;
    assert_eq!(student_page.node_names().await, page.node_names().await);
    student_page.shot("07-student-sees-the-edit").await;
    page.press('z', true, false).await;
    student_page.wait_gone("g.node[data-name='ns3']").await;

    // Save the file; a fresh server and a second browser session import it: same lab.
    page.click("#save").await;
    let saved = downloads.path().join("classroom.json");
    wait_for_file(&saved).await;
    page.click("#export-ip").await;
    let script = read_held_download(downloads.path(), "classroom.sh").await;
    assert!(script.contains("ip netns add ns1") && script.contains("10.0.0.2/24"), "{script}");
    page.click("#export-svg").await;
    let picture = downloads.path().join("classroom.svg");
    wait_for_file(&picture).await;
    let picture = std::fs::read_to_string(&picture).unwrap();
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{picture:.200}");
    assert!(
        picture.contains(">ns2</text>")
            && picture.contains(">eth0</tspan>")
            && picture.contains(">10.0.0.1/24</tspan>"),
        "the lab: {picture}"
    );
    let other_state = tempfile::tempdir().unwrap();
    let other = NslabServer::start_in_state(&sandbox, None, other_state.path(), "editor-e2e-import");
    let home = Browser::start_in(Some(&sandbox), None).await;
    let home_page = Page::open(&home.client, &other.url, "editor-e2e-home").await;
    home_page.wait_for("g.node[data-name='docker0']").await; // the default lab, before
    home_page.wait_for("input[type='file']").await.send_keys(saved.to_str().unwrap()).await.unwrap();
    home_page.wait_text(".toolbar .lab-name", "showed the imported lab", |t| t == "classroom").await;
    home_page.wait_gone("g.node[data-name='docker0']").await;
    home_page.shot("08-imported").await;
    assert_eq!(home_page.node_names().await, page.node_names().await);
    assert_eq!(home_page.link_labels().await, page.link_labels().await);
    let imported = Client::new(&other).lab().await.lab;
    assert_eq!(imported.nodes, lab.nodes, "positions and all");
    assert_eq!(imported.links, lab.links);
    home.close().await;
    student.close().await;

    // Destroy, after the confirmation: nothing of the lab is left in the kernel.
    page.click("#tab-plan").await;
    page.click("#destroy").await;
    // Destroy asks first, in the dialog.
    page.click("#dialog-act").await;
    page.wait_text("#run h3", "finished the destroy", |t| t == "destroy finished").await;
    let empty = Lab::new("classroom");
    kernel_holds(&sandbox, &empty).await;
    page.wait_count("g.link.up", 0).await;
    page.shot("09-destroyed").await;
    teacher.close().await;
}

/// A downloaded file's text. Chromium holds a shell script as `Unconfirmed N.crdownload`
/// until the user confirms keeping it (it does that for every `.sh`), so either will do.
async fn read_held_download(folder: &Path, name: &str) -> String {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let entries = std::fs::read_dir(folder).unwrap().flatten();
        let held = entries.map(|e| e.path()).find(|path| {
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            file == name || (file.starts_with("Unconfirmed ") && file.ends_with(".crdownload"))
        });
        if let Some(text) = held.and_then(|path| std::fs::read_to_string(path).ok()).filter(|t| t.ends_with('\n')) {
            return text;
        }
        assert!(Instant::now() < deadline, "{name} was never downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until Chromium has written the whole download: it reserves the name with an empty
/// file first, writes into a `.crdownload` file and renames that over it at the end, so
/// the file is whole once it is not empty.
async fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + PAGE_WAIT;
    while !std::fs::metadata(path).is_ok_and(|meta| meta.len() > 0) {
        if Instant::now() > deadline {
            let folder = path.parent().and_then(|p| std::fs::read_dir(p).ok());
            let found: Vec<_> = folder.into_iter().flatten().flatten().map(|e| e.file_name()).collect();
            panic!("{} was never downloaded whole; the folder has {found:?}", path.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_apply_is_shown_on_what_is_in_the_way() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    sandbox.sh("ip netns add ns1"); // made by hand: not the lab's to touch
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, None, state.path(), "editor-refused");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-refused").await;
    page.wait_for("g.node[data-name='ns1']").await;
    page.click("#apply").await;
    let outcome = page.wait_text("#run .outcome.error", "reported the refusal", |t| t.contains("ns1")).await;
    page.wait_for("g.node.conflict[data-name='ns1']").await;
    assert_eq!(page.count("g.node.conflict").await, 1, "only the namespace in the way is marked: {outcome}");
    page.click_at("g.node[data-name='ns1'] rect.body", false).await; // shows the inspector
    let said = page.wait_text(".inspector li.problem.conflict", "said why", |t| t.contains("ns1")).await;
    assert!(said.contains("not created by nslab") || said.contains("adopt"), "{said}");
    page.shot("10-refused").await;
    let links = sandbox.ip_json(&["link", "show"]);
    let names: Vec<&str> = links.as_array().unwrap().iter().filter_map(|l| l["ifname"].as_str()).collect();
    assert_eq!(names, ["lo"], "nothing was applied");
    let namespaces = sandbox.sh("ip netns list");
    assert_eq!(namespaces.split_whitespace().next(), Some("ns1"), "{namespaces}");
    assert_eq!(namespaces.lines().count(), 1, "{namespaces}");

    // The teacher made it for this lab: take it over, and the lab applies.
    page.click("#tab-plan").await;
    page.click("#adopt").await;
    page.wait_for("#run .outcome.ok").await;
    page.wait_gone("g.node.conflict").await;
    let lab = Client::new(&server).lab().await.lab;
    kernel_holds(&sandbox, &lab).await;
    page.shot("11-adopted").await;
    browser.close().await;
}

/// A destroy refused because a process runs in one of the lab's namespaces names the
/// process and offers to end it: one click ends it and destroys the lab.
#[tokio::test(flavor = "current_thread")]
async fn a_destroy_refused_for_a_running_process_ends_it_on_request() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, None, state.path(), "editor-in-use");
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    let sleeper = sandbox.sleep_in("ns1");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-in-use").await;
    page.wait_for("g.node[data-name='ns1']").await;
    page.click("#tab-plan").await;
    page.click("#destroy").await;
    // Destroy asks first, in the dialog.
    page.click("#dialog-act").await;
    // The page sets the server's `sleep` as code, without its backticks.
    let said = format!("process {} (sleep)", sleeper.pid);
    let outcome = page.wait_text("#run .outcome.error", "reported the refusal", |t| t.contains("in use")).await;
    assert!(outcome.contains(&said), "{outcome}");
    assert_eq!(page.text("#run h3").await.as_deref(), Some("destroy failed"));
    assert_eq!(sandbox.sh("ip netns list").lines().count(), 3, "nothing was deleted");
    let offered = page.wait_text("#end-processes", "offered to end it", |t| !t.is_empty()).await;
    assert_eq!(offered, "end them and destroy");
    page.shot("12-in-use").await;

    page.click("#end-processes").await;
    page.wait_text("#run h3", "finished the destroy", |t| t == "destroy finished").await;
    page.wait_for("#run .outcome.ok").await;
    page.wait_gone("#end-processes").await;
    kernel_holds(&sandbox, &Lab::new("seed-bridge")).await;
    page.click("#tab-log").await;
    page.wait_text("#log", "logged the ended process", |t| t.contains(&format!("ended {said} in namespace ns1"))).await;
    page.shot("13-ended-and-destroyed").await;
    browser.close().await;
}

/// Scan draws what the kernel holds, a lab built by hand with `ip` too, as the document
/// (after asking: the drawing is replaced), and logs what a lab cannot hold.
#[tokio::test(flavor = "current_thread")]
async fn scan_draws_a_hand_built_lab_as_the_document() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    sandbox.sh(
        "ip netns add left && ip netns add right && ip link add l0 netns left type veth peer name r0 netns right \
         && ip -n left addr add 10.7.0.1/24 dev l0 && ip -n right addr add 10.7.0.2/24 dev r0 \
         && ip -n left link add link l0 name mv0 type macvlan",
    );
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, None, state.path(), "editor-scan");
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-scan").await;
    page.wait_for("g.node[data-name='docker0']").await; // the example it opens on
    page.click("#scan").await;
    // Scan asks first, in the dialog.
    page.click("#dialog-act").await;
    page.wait_for("g.node[data-name='left']").await;
    page.wait_gone("g.node[data-name='docker0']").await;
    let mut names = page.node_names().await;
    names.sort();
    assert_eq!(names, ["left", "right"]);
    let lab = Client::new(&server).lab().await.lab;
    let [nslab_model::Link::Veth(veth)] = lab.links.as_slice() else { panic!("one veth: {:?}", lab.links) };
    assert_eq!(veth.a.addresses, ["10.7.0.1/24"]);
    assert_eq!(veth.b.addresses, ["10.7.0.2/24"]);
    page.click("#tab-log").await;
    page.wait_text("#log", "logged what was left out", |t| t.contains("mv0 in namespace left (a macvlan interface)"))
        .await;
    assert!(page.texts("#log code").await.iter().any(|code| code == "mv0"), "the interface set as code");
    page.shot("14-scanned").await;
    browser.close().await;
}
