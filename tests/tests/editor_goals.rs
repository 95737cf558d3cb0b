//! The goals card and the drill card in real headless Chromium, against a real `nslab
//! serve` in a sandbox: an exercise's goals tick live as the lab is fixed and applied,
//! hints come on request, the teacher adds and removes goals (undoable edits), a drill
//! hides the drift, counts the faults found, shows them to the teacher, reveals and repairs.

use nslab_tests::browser::Browser;
use nslab_tests::client::Client;
use nslab_tests::page::Page;
use nslab_tests::paths::{example, lab_at, repo_root};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::NslabServer;

fn exercise(part: &str) -> std::path::PathBuf {
    repo_root().join("examples/exercises/03-router").join(format!("{part}.json"))
}

#[tokio::test(flavor = "current_thread")]
async fn goals_tick_live_show_hints_and_are_written_in_the_editor() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&exercise("start")), state.path(), "editor-goals");
    let client = Client::new(&server);
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-goals").await;

    // Before anything is applied the goals are listed, none checked as met.
    page.wait_count("#goals li.goal", 5).await;
    assert_eq!(page.count("#goals li.goal.met").await, 0);
    assert_eq!(client.post("/api/apply").await.status(), 200);
    // The check made before the apply says so; the one after it pings.
    let first = "#goals li.goal[data-index='0'] .goal-detail";
    page.wait_text(first, "the goals checked after the apply", |t| t == "10.0.2.2 did not answer a ping from left")
        .await;
    page.wait_text("#goals summary", "the goals checked", |text| text == "goals: 0 of 5 met").await;
    page.wait_count("#goals li.goal.unmet", 5).await;
    // The hint, on request.
    assert_eq!(page.count("#goals li.goal[data-index='2'] .goal-hint").await, 0);
    page.click("#goals li.goal[data-index='2'] .goal-hint-toggle").await;
    let hint = page.wait_text("#goals li.goal[data-index='2'] .goal-hint", "the hint", |t| !t.is_empty()).await;
    assert!(hint.contains("ip_forward"), "{hint}");
    page.shot("01-unmet").await;

    // The student fixes the lab (here through the API, as another page would) and applies.
    let view = client.lab().await;
    assert_eq!(client.put_lab(view.revision, &lab_at(&exercise("solution"))).await.status(), 200);
    assert_eq!(client.post("/api/apply").await.status(), 200);
    page.wait_text("#goals summary", "every goal met", |text| text == "goals: 5 of 5 met").await;
    page.wait_count("#goals li.goal.met", 5).await;
    page.shot("02-met").await;

    // The teacher adds a goal in the card: it is part of the lab, checked, and undoable.
    page.click("#add-goal").await;
    page.type_into("#goal-node", "right").await;
    page.click("#goal-kind option[value='no_reach']").await;
    page.type_into("#goal-target", "10.0.1.1").await;
    page.type_into("#goal-hint", "isolate them").await;
    page.click("#goal-save").await;
    page.wait_count("#goals li.goal", 6).await;
    client.wait_for_lab("gets the new goal", |lab| lab.goals.len() == 6).await;
    let sentence = page.text("#goals li.goal[data-index='5'] .goal-sentence").await.unwrap();
    assert_eq!(sentence, "right does not reach 10.0.1.1");
    // The router answers, so the new goal fails once checked.
    page.click("#check-goals").await;
    page.wait_for("#goals li.goal.unmet[data-index='5']").await;
    page.wait_text("#goals summary", "5 of 6", |text| text == "goals: 5 of 6 met").await;

    // A goal without its target is refused in the form, naming what is missing.
    page.click("#add-goal").await;
    page.type_into("#goal-node", "left").await;
    page.click("#goal-save").await;
    let said = page.wait_text("#goal-form .card-problem", "the refusal", |t| !t.is_empty()).await;
    assert!(said.contains("what it must reach"), "{said}");
    page.click("#add-goal").await;

    // Removing it, and undoing the removal.
    page.click("#goals li.goal[data-index='5'] .goal-remove").await;
    page.wait_count("#goals li.goal", 5).await;
    page.press('z', true, false).await;
    page.wait_count("#goals li.goal", 6).await;
    page.assert_no_bug().await;
    assert_eq!(client.post("/api/destroy").await.status(), 200);
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_drill_from_the_card_hides_the_drift_counts_what_is_found_and_repairs() {
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_in_state(&sandbox, Some(&example("seed-veth")), state.path(), "editor-drill");
    let client = Client::new(&server);
    let browser = Browser::start_in(Some(&sandbox), None).await;
    let page = Page::open(&browser.client, &server.url, "editor-drill").await;
    page.wait_for("g.node[data-name='ns1']").await;
    assert_eq!(client.post("/api/apply").await.status(), 200);
    page.wait_count("g.link.up", 1).await;

    // One fault, an interface set down.
    page.click("#drill summary").await;
    page.type_into("#drill-count", "1").await;
    for kind in ["AddressChanged", "RouteDeleted", "ForwardingOff", "WrongPrefix", "Impairment"] {
        page.click(&format!("#drill input[data-kind='{kind}']")).await;
    }
    page.click("#start-drill").await;
    page.wait_text("#drill summary", "the drill running", |text| text == "drill: 0 of 1 fault found").await;
    page.wait_for("#drift-hidden").await;
    assert_eq!(page.count("#drift").await, 0, "what differs is not shown");
    page.shot("01-drill").await;

    // Only this page sees the fault when asked; fixing it by hand counts as found.
    page.click("#drill-peek-button").await;
    let fault = page.wait_text("#drill-peek li.fault", "the fault", |t| !t.is_empty()).await;
    assert!(fault.contains("was set down"), "{fault}");
    let (interface, netns) = (fault.split('`').nth(1).unwrap(), fault.split('`').nth(3).unwrap());
    sandbox.sh(&format!("ip -n {netns} link set dev {interface} up"));
    page.wait_text("#drill summary", "the fault found", |text| text == "drill: 1 of 1 fault found").await;

    // Revealed to everyone, then repaired: the drill is over and nothing is hidden.
    page.click("#drill-reveal").await;
    page.wait_for("#drill-revealed li.fault.fixed").await;
    page.wait_gone("#drift-hidden").await;
    page.click("#drill-repair").await;
    page.wait_text("#drill summary", "the drill over", |text| text == "break-it drill").await;
    page.assert_no_bug().await;
    page.shot("02-repaired").await;
    assert_eq!(client.post("/api/destroy").await.status(), 200);
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_drill_started_from_the_teachers_browser_hides_its_faults_from_a_students_browser() {
    const TEACHER: &str = "teacher-token-0123456789";
    const STUDENT: &str = "student-token-0123456789";
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let server = NslabServer::start_with(nslab_tests::server::ServerOptions {
        sandbox: Some(&sandbox),
        lab: Some(&example("router")),
        state_dir: state.path(),
        extra: &["--listen", "0.0.0.0:0", "--token", TEACHER, "--viewer-token", STUDENT],
        log_name: "editor-drill-classroom",
    });
    assert_eq!(Client::new(&server).post("/api/apply").await.status(), 200);
    let teacher_browser = Browser::start_in(Some(&sandbox), None).await;
    let student_browser = Browser::start_in(Some(&sandbox), None).await;
    let teacher =
        Page::open(&teacher_browser.client, &format!("{}/?token={TEACHER}", server.url), "drill-teacher").await;
    let student =
        Page::open(&student_browser.client, &format!("{}/?token={STUDENT}", server.url), "drill-student").await;
    teacher.wait_count("g.link.up", 2).await;

    teacher.click("#drill summary").await;
    teacher.type_into("#drill-count", "2").await;
    teacher.click("#start-drill").await;
    teacher.wait_text("#drill summary", "the drill", |text| text == "drill: 0 of 2 faults found").await;
    teacher.click("#drill-peek-button").await;
    teacher.wait_count("#drill-peek li.fault", 2).await;

    // The student's page hears of the drill, but not of its faults, nor of the drift.
    student.wait_text("#drill summary", "the drill", |text| text == "drill: 0 of 2 faults found").await;
    student.wait_for("#drift-hidden").await;
    assert_eq!(student.count("#drift").await, 0);
    student.click("#drill-peek-button").await;
    let refused = student.wait_text("#drill .card-problem", "a refusal", |t| !t.is_empty()).await;
    assert!(refused.contains("may only watch"), "{refused}");
    assert_eq!(student.count("#drill-peek li.fault").await, 0, "no fault shown to a student");
    student.shot("01-student").await;

    // Revealed by the teacher: now the student sees them too.
    teacher.click("#drill-reveal").await;
    student.wait_count("#drill-revealed li.fault", 2).await;
    teacher.click("#drill-repair").await;
    student.wait_text("#drill summary", "the drill over", |text| text == "break-it drill").await;
    student.assert_no_bug().await;
    assert_eq!(Client::new(&server).post("/api/destroy").await.status(), 200);
    teacher_browser.close().await;
    student_browser.close().await;
}
