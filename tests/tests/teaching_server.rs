//! Goals and break-it drills through the live agent: a real `nslab serve` in a sandbox, a
//! real HTTP client and a real websocket client. Goals are checked after an apply, after a
//! change in the kernel and on request; a drill breaks the kernel (not the file), withholds
//! the drift from every page, shows the teacher its faults, reveals them and repairs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nslab_model::api::{
    DriftEvent, DrillEvent, DrillStatus, ErrorBody, Event, GoalsEvent, RevealedFault, SnapshotEvent,
};
use nslab_model::Lab;
use nslab_tests::client::{Client, Events};
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::paths::{example, lab_at, repo_root};
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{NslabServer, ServerOptions};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

fn exercise(name: &str, part: &str) -> PathBuf {
    repo_root().join("examples/exercises").join(name).join(format!("{part}.json"))
}

struct Setup {
    sandbox: Sandbox,
    _state: tempfile::TempDir,
    server: NslabServer,
}

impl Setup {
    fn new(name: &str, lab: &Path, extra: &[&str]) -> Setup {
        let sandbox = Sandbox::new();
        sandbox.enter_network_here();
        let state = tempfile::tempdir().unwrap();
        let server = NslabServer::start_with(ServerOptions {
            sandbox: Some(&sandbox),
            lab: Some(lab),
            state_dir: state.path(),
            extra,
            log_name: name,
        });
        Setup { sandbox, _state: state, server }
    }

    fn client(&self) -> Client {
        Client::new(&self.server)
    }

    async fn apply(&self) {
        let response = self.client().post("/api/apply").await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }

    async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client().request(reqwest::Method::POST, path).json(&body).send().await.expect("POST")
    }

    async fn get(&self, client: &Client, path: &str) -> reqwest::Response {
        client.request(reqwest::Method::GET, path).send().await.expect("GET")
    }

    /// What differs between the kernel and the document.
    fn kernel_differences(&self, lab: &Lab) -> Vec<String> {
        differences(&expected_state(lab), &read_kernel_state(&self.sandbox))
    }
}

async fn goals_where(events: &mut Events, what: &str, test: impl Fn(&GoalsEvent) -> bool) -> GoalsEvent {
    let Event::Goals(goals) = events.wait_for(what, WAIT, |e| matches!(e, Event::Goals(g) if test(g))).await else {
        unreachable!()
    };
    goals
}

async fn message(response: reqwest::Response) -> String {
    let body: ErrorBody = response.json().await.expect("errors are JSON");
    body.message
}

#[tokio::test]
async fn goals_are_checked_after_an_apply_a_fix_a_break_and_on_request() {
    let setup = Setup::new("teaching-goals", &exercise("03-router", "start"), &[]);
    let client = setup.client();
    let mut events = Events::connect(&setup.server).await;
    setup.apply().await;
    let goals = goals_where(&mut events, "the start's goals", |g| !g.checklist.goals.is_empty()).await;
    assert!(!goals.checklist.all_met, "{goals:?}");
    let forwards = &goals.checklist.goals[2];
    assert_eq!((forwards.goal.as_str(), forwards.met), ("router forwards IPv4", false));
    assert!(forwards.hint.as_deref().is_some_and(|hint| hint.contains("ip_forward")));

    // The student fixes the lab and applies: every goal ticks.
    let view = client.lab().await;
    let response = client.put_lab(view.revision, &lab_at(&exercise("03-router", "solution"))).await;
    assert_eq!(response.status(), 200);
    setup.apply().await;
    goals_where(&mut events, "every goal met", |g| g.checklist.all_met).await;

    // Broken from outside nslab: checked again without being asked.
    setup.sandbox.sh("ip netns exec router sysctl -qw net.ipv4.ip_forward=0");
    let broken = goals_where(&mut events, "a goal failing again", |g| !g.checklist.all_met).await;
    let unmet: Vec<&str> = broken.checklist.goals.iter().filter(|g| !g.met).map(|g| g.goal.as_str()).collect();
    assert!(unmet.contains(&"router forwards IPv4") && unmet.contains(&"left reaches 10.0.2.2"), "{unmet:?}");

    // On request, and the latest for whoever asks.
    let response = client.post("/api/goals/check").await;
    assert_eq!(response.status(), 200);
    let checked: GoalsEvent = response.json().await.unwrap();
    assert_eq!(checked.checklist.met_count(), broken.checklist.met_count());
    let latest: Option<GoalsEvent> = setup.get(&client, "/api/goals").await.json().await.unwrap();
    assert_eq!(latest.map(|g| g.checklist), Some(checked.checklist.clone()));
    // A page that connects now gets them in its snapshot.
    let mut late = Events::connect(&setup.server).await;
    let Event::Snapshot(SnapshotEvent { goals, .. }) =
        late.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await
    else {
        unreachable!()
    };
    assert_eq!(goals.map(|g| g.checklist.clone()), Some(checked.checklist));
    assert_eq!(client.post("/api/destroy").await.status(), 200);
}

#[tokio::test]
async fn checking_goals_of_a_lab_without_goals_is_refused() {
    let setup = Setup::new("teaching-no-goals", &example("seed-veth"), &[]);
    let response = setup.client().post("/api/goals/check").await;
    assert_eq!(response.status(), 409);
    assert!(message(response).await.contains("no goals"));
    let latest: Option<GoalsEvent> = setup.get(&setup.client(), "/api/goals").await.json().await.unwrap();
    assert_eq!(latest, None);
}

#[tokio::test]
async fn a_drill_breaks_the_kernel_hides_the_drift_reveals_the_faults_and_repairs() {
    let (teacher, student) = ("teacher-token-0123456789", "student-token-0123456789");
    let extra = ["--listen", "0.0.0.0:0", "--token", teacher, "--viewer-token", student];
    let setup = Setup::new("teaching-drill", &example("router"), &extra);
    let lab = lab_at(&example("router"));
    let student_client = Client::with_token(&setup.server, Some(student.into()));
    setup.apply().await;
    let mut events = Events::connect(&setup.server).await;
    events.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await;

    let kinds = json!(["address_changed", "route_deleted", "forwarding_off", "interface_down", "wrong_prefix"]);
    let response = setup.post_json("/api/drill", json!({"faults": 3, "kinds": kinds, "seed": 7})).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let status: DrillStatus = response.json().await.unwrap();
    assert_eq!((status.active, status.faults, status.fixed, status.revealed.len()), (true, 3, 0, 0));
    events.wait_for("the drill", WAIT, |e| matches!(e, Event::Drill(DrillEvent { status }) if status.active)).await;

    // The kernel is broken, the file is not, and nobody is told where.
    assert!(!setup.kernel_differences(&lab).is_empty(), "the faults are in the kernel");
    assert_eq!(setup.client().lab().await.lab, lab, "the document is unchanged");
    events
        .wait_for(
            "hidden drift",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { hidden: true, ops, .. }) if ops.is_empty()),
        )
        .await;
    let mut late = Events::connect(&setup.server).await;
    let Event::Snapshot(SnapshotEvent { drift, drift_hidden, drill, .. }) =
        late.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await
    else {
        unreachable!()
    };
    assert!(drift.is_empty() && drift_hidden && drill.is_some_and(|d| d.revealed.is_empty()));
    let seen: DrillStatus = setup.get(&student_client, "/api/drill").await.json().await.unwrap();
    assert!(seen.active && seen.revealed.is_empty());
    // The faults are for the teacher's eyes only.
    assert_eq!(setup.get(&student_client, "/api/drill/faults").await.status(), 403);
    let faults: Vec<RevealedFault> = setup.get(&setup.client(), "/api/drill/faults").await.json().await.unwrap();
    assert_eq!(faults.len(), 3);
    assert!(faults.iter().all(|fault| !fault.commands.is_empty() && !fault.fixed), "{faults:?}");
    assert_eq!(student_client.post("/api/drill/reveal").await.status(), 403);
    // A student may ask why (it only reads): read from the kernel, its drift withheld.
    let asked = student_client
        .request(reqwest::Method::POST, "/api/explain")
        .json(&json!({"from": "left", "to": "right:x-eth0"}))
        .send()
        .await
        .expect("POST /api/explain");
    assert_eq!(asked.status(), 200);
    let view: nslab_model::api::ExplainView = asked.json().await.unwrap();
    assert!(view.live && view.explanation.drift.is_empty(), "{view:?}");

    let response = setup.post_json("/api/drill", json!({"faults": 1})).await;
    assert_eq!(response.status(), 409);
    assert!(message(response).await.contains("a drill is running already"));

    let response = setup.client().post("/api/drill/reveal").await;
    assert_eq!(response.status(), 200);
    let revealed: DrillStatus = response.json().await.unwrap();
    assert_eq!(
        revealed.revealed.iter().map(|f| &f.what).collect::<Vec<_>>(),
        faults.iter().map(|f| &f.what).collect::<Vec<_>>()
    );
    events
        .wait_for(
            "the drift again",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { hidden: false, ops, .. }) if !ops.is_empty()),
        )
        .await;

    let response = setup.client().post("/api/drill/repair").await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let repaired: DrillStatus = response.json().await.unwrap();
    assert_eq!((repaired.active, repaired.fixed), (false, 3));
    assert_eq!(setup.kernel_differences(&lab), Vec::<String>::new(), "the repair puts the lab back");
    assert_eq!(setup.client().post("/api/drill/repair").await.status(), 409, "no drill runs any more");
    assert_eq!(setup.client().post("/api/destroy").await.status(), 200);
}

#[tokio::test]
async fn a_fault_fixed_by_hand_counts_as_found() {
    let setup = Setup::new("teaching-drill-fixed", &example("seed-veth"), &[]);
    setup.apply().await;
    let mut events = Events::connect(&setup.server).await;
    let response = setup.post_json("/api/drill", json!({"faults": 1, "kinds": ["interface_down"], "seed": 3})).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let faults: Vec<RevealedFault> = setup.get(&setup.client(), "/api/drill/faults").await.json().await.unwrap();
    // "`veth0` in namespace `ns0` was set down": the student brings it up again.
    let what = &faults[0].what;
    let (interface, netns) = (what.split('`').nth(1).unwrap(), what.split('`').nth(3).unwrap());
    setup.sandbox.sh(&format!("ip -n {netns} link set dev {interface} up"));
    events
        .wait_for("the fault found", WAIT, |e| matches!(e, Event::Drill(DrillEvent { status }) if status.fixed == 1))
        .await;
    assert_eq!(setup.client().post("/api/destroy").await.status(), 200);
}

#[tokio::test]
async fn drill_requests_that_cannot_be_carried_out_are_refused_and_change_nothing() {
    let setup = Setup::new("teaching-drill-refused", &example("seed-bridge"), &[]);
    // Not applied yet: nothing to break.
    let response = setup.post_json("/api/drill", json!({"faults": 1})).await;
    assert_eq!(response.status(), 409);
    assert!(message(response).await.contains("apply it first"));
    setup.apply().await;
    for (body, status, words) in [
        (json!({"faults": 0}), 400, "1 to 10 faults"),
        (json!({"faults": 11}), 400, "1 to 10 faults"),
        (json!({"faults": 1, "kinds": ["meteor"]}), 400, "unknown variant `meteor`"),
        (json!({"faults": 1, "colour": "red"}), 400, "unknown field `colour`"),
        (json!({"faults": 1, "kinds": ["route_deleted", "forwarding_off"]}), 409, "nothing to break"),
    ] {
        let response = setup.post_json("/api/drill", body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let said = message(response).await;
        assert!(said.contains(words), "{body}: {said}");
    }
    assert_eq!(setup.client().post("/api/drill/reveal").await.status(), 404);
    assert_eq!(setup.client().post("/api/drill/repair").await.status(), 409);
    assert_eq!(setup.get(&setup.client(), "/api/drill/faults").await.status(), 404);
    let lab = lab_at(&example("seed-bridge"));
    assert_eq!(setup.kernel_differences(&lab), Vec::<String>::new(), "nothing was broken");
    assert_eq!(setup.client().post("/api/destroy").await.status(), 200);
}
