//! The live agent: a real `nslab serve` inside a sandbox, a real HTTP client and a real
//! websocket client (the test's thread enters the sandbox's network namespace to reach it).

use std::time::Duration;

use nslab_model::api::{
    CountersEvent, DocumentEvent, DriftEvent, DroppedEvent, ErrorBody, Event, LabView, LinkChange, LinkEvent,
    MatrixEvent, NamespaceEvent, OpState, PingEvent, PingFinishedEvent, PlanView, ProgressEvent, RunFinishedEvent,
    RunKind, RunReport, SnapshotEvent,
};
use nslab_model::identity::Netns;
use nslab_model::{Lab, Link};
use nslab_tests::client::{Client, Events};
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::paths::example;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{NslabServer, ServerOptions};

const WAIT: Duration = Duration::from_secs(10);

fn lab(name: &str) -> Lab {
    nslab_tests::paths::example_lab(name)
}

/// A sandbox with a server inside, reachable from this test's thread.
struct Setup {
    sandbox: Sandbox,
    state: tempfile::TempDir,
    server: Option<NslabServer>,
}

impl Setup {
    fn new(name: &str, extra: &[&str]) -> Setup {
        let sandbox = Sandbox::new();
        sandbox.enter_network_here();
        let state = tempfile::tempdir().unwrap();
        let mut setup = Setup { sandbox, state, server: None };
        setup.start(name, extra);
        setup
    }

    fn start(&mut self, name: &str, extra: &[&str]) {
        self.server = Some(NslabServer::start_with(ServerOptions {
            sandbox: Some(&self.sandbox),
            lab: None,
            state_dir: self.state.path(),
            extra,
            log_name: name,
        }));
    }

    fn server(&self) -> &NslabServer {
        self.server.as_ref().expect("started")
    }

    fn client(&self) -> Client {
        Client::new(self.server())
    }

    fn restart(&mut self, name: &str) {
        self.server = None;
        self.start(name, &[]);
    }

    /// Another server in the same sandbox, with a state directory of its own.
    fn second_server(&self, name: &str) -> (NslabServer, tempfile::TempDir) {
        let state = tempfile::tempdir().unwrap();
        let server = NslabServer::start_with(ServerOptions {
            sandbox: Some(&self.sandbox),
            lab: None,
            state_dir: state.path(),
            extra: &[],
            log_name: name,
        });
        (server, state)
    }

    /// Applies the document, then watches the events from the snapshot on.
    async fn applied_and_watched(&self) -> (Client, Events) {
        let client = self.client();
        assert_eq!(client.post("/api/apply").await.status(), 200);
        let mut events = Events::connect(self.server()).await;
        events.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await;
        (client, events)
    }

    /// Destroys the lab over HTTP and checks that the kernel holds nothing of it.
    async fn destroy_leaves_nothing(&self) {
        let response = self.client().post("/api/destroy").await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let left = self.sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");
        assert_eq!(left.trim(), "", "destroy left things behind");
    }
}

async fn error_body(response: reqwest::Response) -> ErrorBody {
    response.json().await.expect("errors are JSON")
}

#[tokio::test]
async fn one_client_edits_the_other_sees_it_and_stale_edits_conflict() {
    let mut setup = Setup::new("server-edits", &[]);
    let (teacher, student) = (setup.client(), setup.client());
    let mut watching = Events::connect(setup.server()).await;
    let Some(Event::Snapshot(SnapshotEvent { view, .. })) = watching.next(WAIT).await else {
        panic!("a snapshot first")
    };
    assert_eq!(view.lab.name, "seed-bridge");

    let mut edited = view.lab.clone();
    edited.description = "edited by the teacher".into();
    let response = teacher.put_lab(view.revision, &edited).await;
    assert_eq!(response.status(), 200);
    let accepted: LabView = response.json().await.unwrap();
    assert_eq!(accepted.revision, view.revision + 1);
    let event = watching.wait_for("the edit", WAIT, |e| matches!(e, Event::Document(_))).await;
    let Event::Document(DocumentEvent { view: seen }) = event else { unreachable!() };
    assert_eq!(seen.lab.description, "edited by the teacher");

    // The student's change was based on the old revision: refused, with the current document.
    let mut stale = view.lab.clone();
    stale.description = "the student's version".into();
    let response = student.put_lab(view.revision, &stale).await;
    assert_eq!(response.status(), 409);
    let body = error_body(response).await;
    assert!(body.message.contains("someone else changed it"), "{}", body.message);
    assert_eq!(body.current.unwrap().lab.description, "edited by the teacher");

    // A restart keeps the document.
    setup.restart("server-edits");
    let after = setup.client().lab().await;
    assert_eq!((after.revision, after.lab.description.as_str()), (accepted.revision, "edited by the teacher"));
}

#[tokio::test]
async fn apply_over_http_streams_progress_in_plan_order() {
    let setup = Setup::new("server-apply", &[]);
    let client = setup.client();
    let mut events = Events::connect(setup.server()).await;
    let plan: PlanView = client.post("/api/plan").await.json().await.unwrap();
    let response = client.post("/api/apply").await;
    assert_eq!(response.status(), 200);
    let report: RunReport = response.json().await.unwrap();
    assert_eq!(report.ops, plan.ops.len());

    let mut done = Vec::new();
    while done.len() < plan.ops.len() {
        let event = events.wait_for("progress", WAIT, |e| matches!(e, Event::Progress(_))).await;
        let Event::Progress(ProgressEvent { run, progress }) = event else { unreachable!() };
        assert_eq!(run, RunKind::Apply);
        if progress.state == OpState::Done {
            done.push((progress.index, progress.command));
        }
    }
    let expected: Vec<(usize, String)> = plan.ops.iter().enumerate().map(|(i, op)| (i, op.command.clone())).collect();
    assert_eq!(done, expected, "every op, in plan order, with its command");
    events
        .wait_for("the end of the run", WAIT, |e| matches!(e, Event::RunFinished(RunFinishedEvent { ok: true, .. })))
        .await;
    let found = differences(&expected_state(&lab("seed-bridge")), &read_kernel_state(&setup.sandbox));
    assert!(found.is_empty(), "{}", found.join("\n"));
    // After the run, the kernel is in step with the lab.
    events
        .wait_for(
            "no drift",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { applied: true, ops, .. }) if ops.is_empty()),
        )
        .await;
}

/// The events of a run from its first progress event to its end, as `events` reads them.
async fn run_events(events: &mut Events) -> Vec<Event> {
    let first = events.wait_for("progress", WAIT, |e| matches!(e, Event::Progress(_))).await;
    let mut seen = vec![first];
    while !matches!(seen.last(), Some(Event::RunFinished(_))) {
        seen.push(events.next(WAIT).await.expect("the run's events, to its end"));
    }
    seen
}

/// A client that asks for batches (`nslab_model::api::EVENTS_PROTOCOL`) and one that does not
/// read the same events in the same order; only the first may get them joined.
#[tokio::test]
async fn batched_and_unbatched_clients_read_the_same_events_in_the_same_order() {
    let setup = Setup::new("server-batches", &[]);
    let client = setup.client();
    let view = client.lab().await;
    assert_eq!(client.put_lab(view.revision, &star(100)).await.status(), 200);
    let mut batched = Events::connect(setup.server()).await;
    let mut unbatched = Events::connect_unbatched(setup.server()).await;
    let plan: PlanView = client.post("/api/plan").await.json().await.unwrap();
    assert_eq!(client.post("/api/apply").await.status(), 200);
    let (joined, one_by_one) = (run_events(&mut batched).await, run_events(&mut unbatched).await);
    let done: Vec<(usize, String)> = joined
        .iter()
        .filter_map(|event| match event {
            Event::Progress(ProgressEvent { progress, .. }) if progress.state == OpState::Done => {
                Some((progress.index, progress.command.clone()))
            }
            _ => None,
        })
        .collect();
    let expected: Vec<(usize, String)> = plan.ops.iter().enumerate().map(|(i, op)| (i, op.command.clone())).collect();
    assert_eq!(done, expected, "every op, in plan order");
    assert!(joined == one_by_one, "{} events batched, {} one by one", joined.len(), one_by_one.len());
    assert_eq!(unbatched.batches, 0, "batches only to a client that asks for them");
    println!("{} events of the run came in {} batches", joined.len(), batched.batches);
    setup.destroy_leaves_nothing().await;
}

#[tokio::test]
async fn link_changes_made_outside_nslab_arrive_as_events_and_drift() {
    let setup = Setup::new("server-live", &[]);
    let (client, mut events) = setup.applied_and_watched().await;

    setup.sandbox.sh("ip -n ns1 link set dev eth0 down");
    let is_ns1_eth0 =
        |link: &nslab_model::api::LiveLink| link.netns == Netns::Named("ns1".into()) && link.name == "eth0";
    events
        .wait_for(
            "eth0 down",
            WAIT,
            |e| matches!(e, Event::Link(LinkEvent { link, .. }) if is_ns1_eth0(link) && !link.up),
        )
        .await;
    let drift =
        events.wait_for("drift", WAIT, |e| matches!(e, Event::Drift(DriftEvent { ops, .. }) if !ops.is_empty())).await;
    let Event::Drift(DriftEvent { ops, .. }) = drift else { unreachable!() };
    assert_eq!(ops.iter().map(|op| op.command.as_str()).collect::<Vec<_>>(), ["ip -n ns1 link set dev eth0 up"]);

    setup.sandbox.sh("ip -n ns1 link set dev eth0 up");
    events
        .wait_for("eth0 up", WAIT, |e| matches!(e, Event::Link(LinkEvent { link, .. }) if is_ns1_eth0(link) && link.up))
        .await;
    events.wait_for("no drift", WAIT, |e| matches!(e, Event::Drift(DriftEvent { ops, .. }) if ops.is_empty())).await;

    // Deleting a namespace by hand is reported, and re-applying repairs it.
    setup.sandbox.sh("ip netns delete ns2");
    events
        .wait_for(
            "ns2 gone",
            WAIT,
            |e| matches!(e, Event::Namespace(NamespaceEvent { netns, present: false, .. }) if netns.name() == Some("ns2")),
        )
        .await;
    events
        .wait_for(
            "veth4 gone",
            WAIT,
            |e| matches!(e, Event::Link(LinkEvent { change: LinkChange::Removed, link }) if link.name == "veth4"),
        )
        .await;
    let drift =
        events.wait_for("drift", WAIT, |e| matches!(e, Event::Drift(DriftEvent { ops, .. }) if !ops.is_empty())).await;
    let Event::Drift(DriftEvent { ops, missing, .. }) = drift else { unreachable!() };
    assert!(ops.iter().any(|op| op.command == "ip netns add ns2"), "{ops:?}");
    // Told apart from a namespace never applied: the lab had it when it was applied.
    assert_eq!(missing, ["ns2"]);
    assert_eq!(client.post("/api/apply").await.status(), 200);
    // Back, and marked as the lab's again: clients learn whose it is from the event.
    events
        .wait_for(
            "ns2 back, the lab's",
            WAIT,
            |e| matches!(e, Event::Namespace(NamespaceEvent { netns, present: true, owner: Some(lab) }) if netns.name() == Some("ns2") && lab == "seed-bridge"),
        )
        .await;
    let repaired = events
        .wait_for("repaired", WAIT, |e| matches!(e, Event::Drift(DriftEvent { ops, .. }) if ops.is_empty()))
        .await;
    assert!(matches!(repaired, Event::Drift(DriftEvent { missing, .. }) if missing.is_empty()));
}

/// A bridge reports its ports' own news (a port's state, a port leaving it) in link
/// messages of its own that carry no alias: the live view must not take them for a port
/// losing its owner, nor for a port being deleted.
#[tokio::test]
async fn a_bridge_s_news_of_its_ports_neither_disown_nor_delete_them() {
    let setup = Setup::new("server-ports", &[]);
    let client = setup.client();
    let mut events = Events::connect(setup.server()).await;
    let is_port = |link: &nslab_model::api::LiveLink| link.netns == Netns::Host && link.name.starts_with("veth");
    assert_eq!(client.post("/api/apply").await.status(), 200);
    let mut ports = Vec::new();
    loop {
        let event = events.next(WAIT).await.expect("events until the check after the run");
        match event {
            Event::Link(LinkEvent { change, link }) if is_port(&link) => ports.push((change, link)),
            Event::Drift(DriftEvent { applied: true, ops, .. }) if ops.is_empty() => break,
            _ => {}
        }
    }
    for port in ["veth0", "veth2", "veth4"] {
        let news: Vec<Option<&str>> =
            ports.iter().filter(|(_, link)| link.name == port).map(|(_, link)| link.owner.as_deref()).collect();
        // Unowned while it is being made, then owned for good.
        let owned_from = news.iter().position(Option::is_some).unwrap_or(news.len());
        assert!(owned_from < news.len(), "{port} never shown owned: {ports:?}");
        assert!(news[owned_from..].iter().all(|owner| *owner == Some("seed-bridge")), "{port}: {ports:?}");
    }

    setup.sandbox.sh("ip link set dev veth0 nomaster");
    loop {
        match events.next(WAIT).await.expect("events until the drift") {
            Event::Link(LinkEvent { change, link }) if is_port(&link) => {
                assert_ne!(change, LinkChange::Removed, "{link:?} left its bridge, it was not deleted");
                assert_eq!(link.owner.as_deref(), Some("seed-bridge"), "{link:?}");
            }
            Event::Drift(DriftEvent { ops, .. }) if !ops.is_empty() => {
                let commands: Vec<&str> = ops.iter().map(|op| op.command.as_str()).collect();
                assert_eq!(commands, ["ip link set dev veth0 master docker0"]);
                break;
            }
            _ => {}
        }
    }
}

/// Something made by hand where the lab's interface was is not drift that re-applying
/// repairs: apply would refuse it, and the drift event says what is in the way and where.
#[tokio::test]
async fn something_in_the_labs_way_shows_as_a_conflict_not_as_no_drift() {
    let setup = Setup::new("server-in-the-way", &[]);
    let (client, mut events) = setup.applied_and_watched().await;

    setup.sandbox.sh("ip link del veth4 && ip link add veth4 type bridge");
    let drift = events
        .wait_for(
            "a conflict",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { conflicts, .. }) if !conflicts.is_empty()),
        )
        .await;
    let Event::Drift(DriftEvent { applied, ops, conflicts, .. }) = drift else { unreachable!() };
    assert!(applied && ops.is_empty(), "{ops:?}");
    let lab = lab("seed-bridge");
    let veth4 = lab.links.iter().position(|link| link.ends().iter().any(|end| end.name == "veth4")).expect("veth4");
    assert!(
        conflicts
            .iter()
            .any(|c| c.path.to_string().starts_with(&format!("links[{veth4}]")) && c.message.contains("veth4")),
        "{conflicts:?}"
    );
    // The apply refuses, and changes nothing.
    assert_eq!(client.post("/api/apply").await.status(), 409);
    assert!(setup.sandbox.sh("ip -d link show veth4").contains("bridge"));

    // Out of the way, it is drift again, which re-applying repairs.
    setup.sandbox.sh("ip link del veth4");
    events
        .wait_for(
            "drift, no conflict",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { ops, conflicts, .. }) if conflicts.is_empty() && !ops.is_empty()),
        )
        .await;
    assert_eq!(client.post("/api/apply").await.status(), 200);
    events
        .wait_for(
            "repaired",
            WAIT,
            |e| matches!(e, Event::Drift(DriftEvent { ops, conflicts, .. }) if ops.is_empty() && conflicts.is_empty()),
        )
        .await;
}

#[tokio::test]
async fn import_export_scan_and_validate() {
    let setup = Setup::new("server-files", &[]);
    let client = setup.client();
    let router = std::fs::read(example("router")).unwrap();
    let response = client.request(reqwest::Method::POST, "/api/import").body(router.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let view: LabView = response.json().await.unwrap();
    assert_eq!(view.lab.name, "router");
    let exported = client.request(reqwest::Method::GET, "/api/export?format=json").send().await.unwrap();
    assert_eq!(exported.bytes().await.unwrap().as_ref(), router.as_slice(), "export gives the file back");
    let script = client.request(reqwest::Method::GET, "/api/export?format=ip").send().await.unwrap();
    let disposition = script.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert_eq!(disposition, "attachment; filename=\"router.sh\"");
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("ip link add l-eth0 netns left type veth peer name r-eth0 netns router"));
    let unnamed = client.request(reqwest::Method::GET, "/api/export").send().await.unwrap();
    assert_eq!(unnamed.bytes().await.unwrap().as_ref(), router.as_slice(), "JSON unless another format is named");
    // A format nslab does not write is refused with the ones it does, as the CLI names them.
    let unknown = client.request(reqwest::Method::GET, "/api/export?format=svg").send().await.unwrap();
    assert_eq!(unknown.status(), 400);
    let message = error_body(unknown).await.message;
    assert!(message.starts_with("unknown format `svg`; use one of json, ip, "), "{message}");

    // A malformed file changes nothing and says where it is wrong.
    let response = client
        .request(reqwest::Method::POST, "/api/import")
        .body("{\"version\": 1, \"name\": \"x\",,}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(error_body(response).await.problems[0].message.contains("line 1"));
    assert_eq!(client.lab().await.revision, view.revision);

    let problems: Vec<nslab_model::Problem> = client
        .request(reqwest::Method::POST, "/api/validate")
        .json(&lab_with_long_name())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problems[0].path.as_str(), "links[0].a.name");

    // Scan draws what the kernel holds as the new document.
    setup.sandbox.sh("ip netns add hand && ip -n hand link set lo up");
    let scanned: LabView = client.post("/api/scan").await.json().await.unwrap();
    assert!(scanned.lab.nodes.iter().any(|node| node.name() == "hand"), "{:?}", scanned.lab.nodes);
}

fn lab_with_long_name() -> Lab {
    let mut lab = lab("seed-veth");
    let Link::Veth(veth) = &mut lab.links[0];
    veth.a.name = "a234567890123456".into();
    lab
}

#[tokio::test]
async fn apply_refuses_a_lab_with_errors_or_conflicts_and_changes_nothing() {
    let setup = Setup::new("server-refusals", &[]);
    let client = setup.client();
    let view = client.lab().await;
    assert_eq!(client.put_lab(view.revision, &lab_with_long_name()).await.status(), 200);
    let response = client.post("/api/apply").await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_body(response).await.problems[0].path.as_str(), "links[0].a.name");

    let view = client.lab().await;
    assert_eq!(client.put_lab(view.revision, &lab("seed-veth")).await.status(), 200);
    setup.sandbox.sh("ip netns add ns0");
    let response = client.post("/api/apply").await;
    assert_eq!(response.status(), 409);
    let body = error_body(response).await;
    assert!(body.conflicts[0].message.contains("namespace `ns0` already exists"), "{:?}", body.conflicts);
    assert_eq!(setup.sandbox.sh("ip netns list | cut -d' ' -f1").trim(), "ns0");
}

#[tokio::test]
async fn tokens_origins_and_sizes_are_checked() {
    let token = "teacher-token-0123456789";
    let viewer = "student-token-0123456789";
    let setup = Setup::new("server-security", &["--listen", "0.0.0.0:0", "--token", token, "--viewer-token", viewer]);
    let server = setup.server();
    assert_eq!(server.token.as_deref(), Some(token));
    let server_url = server.url.replace("0.0.0.0", "127.0.0.1");
    // No connection reuse: after a 413 the server closes the connection without reading
    // the rest of the body, and a pooled connection would fail the next request.
    let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().unwrap();
    let request = |method: reqwest::Method, path: &str, token: Option<&str>| {
        let request = http.request(method, format!("{server_url}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    use reqwest::Method;
    assert_eq!(request(Method::GET, "/api/lab", None).send().await.unwrap().status(), 401);
    assert_eq!(request(Method::GET, "/api/lab", Some("wrong-token-0123456789")).send().await.unwrap().status(), 401);
    assert_eq!(request(Method::POST, "/api/apply", Some("wrong-token-0123456789")).send().await.unwrap().status(), 401);
    assert_eq!(request(Method::GET, "/api/lab", Some(viewer)).send().await.unwrap().status(), 200);
    assert_eq!(request(Method::POST, "/api/apply", Some(viewer)).send().await.unwrap().status(), 403);
    assert_eq!(setup.sandbox.sh("ip netns list").trim(), "", "a refused request applied nothing");
    // The token in the address also works, and leaves a cookie for the page's other requests.
    let page = http.get(format!("{server_url}/api/lab?token={token}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("set-cookie").unwrap().to_str().unwrap().starts_with("nslab_token="));

    // Websockets: wrong token, foreign origin, then the right one.
    let ws = server_url.replacen("http://", "ws://", 1);
    let refused = tokio_tungstenite::connect_async(format!("{ws}/api/events?token=wrong-token-0123456789")).await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401),
        "{refused:?}"
    );
    let mut foreign = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{ws}/api/events?token={token}"
    ))
    .unwrap();
    foreign.headers_mut().insert("Origin", "http://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(foreign).await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403),
        "{refused:?}"
    );
    assert!(tokio_tungstenite::connect_async(format!("{ws}/api/events?token={viewer}")).await.is_ok());

    // Bodies: oversize and malformed.
    let huge = vec![b' '; 5 * 1024 * 1024];
    let response = request(Method::POST, "/api/import", Some(token)).body(huge).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let response = request(Method::PUT, "/api/lab", Some(token))
        .header("content-type", "application/json")
        .body("{\"base")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(!error_body(response).await.message.is_empty());
}

#[tokio::test]
async fn off_loopback_without_a_token_one_is_made_and_required() {
    let setup = Setup::new("server-generated-token", &["--listen", "0.0.0.0:0"]);
    let server = setup.server();
    let token = server.token.clone().expect("a generated token is printed");
    assert_eq!(token.len(), 32);
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(http.get(format!("{url}/api/lab")).send().await.unwrap().status(), 401);
    assert_eq!(http.get(format!("{url}/api/lab")).bearer_auth(&token).send().await.unwrap().status(), 200);
}

async fn import_and_apply(client: &Client, name: &str) {
    apply_file(client, std::fs::read(example(name)).unwrap()).await;
}

/// Imports a lab file as the document and applies it.
async fn apply_file(client: &Client, file: impl Into<reqwest::Body>) {
    assert_eq!(client.request(reqwest::Method::POST, "/api/import").body(file).send().await.unwrap().status(), 200);
    assert_eq!(client.post("/api/apply").await.status(), 200);
}

async fn start_ping(client: &Client, request: serde_json::Value) -> reqwest::Response {
    client.request(reqwest::Method::POST, "/api/ping").json(&request).send().await.unwrap()
}

async fn ping_samples(events: &mut Events, id: u64, count: usize) -> Vec<nslab_model::ping::PingSample> {
    let mut samples = Vec::new();
    while samples.len() < count {
        let event = events
            .wait_for("a ping sample", WAIT, |e| matches!(e, Event::Ping(PingEvent { id: i, .. }) if *i == id))
            .await;
        let Event::Ping(PingEvent { sample, .. }) = event else { unreachable!() };
        samples.push(sample);
    }
    samples
}

#[tokio::test]
async fn pings_stream_round_trip_times_and_report_loss() {
    let setup = Setup::new("server-pings", &[]);
    let client = setup.client();
    import_and_apply(&client, "router").await;
    let mut events = Events::connect(setup.server()).await;

    let started: nslab_model::api::PingStarted =
        start_ping(&client, serde_json::json!({"from": "left", "to": "right:x-eth0", "count": 3, "interval_ms": 100}))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(started.to.to_string(), "10.0.2.2");
    let samples = ping_samples(&mut events, started.id, 3).await;
    assert!(samples.iter().all(|s| s.rtt_ms.is_some_and(|rtt| rtt > 0.0)), "{samples:?}");
    assert_eq!(samples.last().unwrap().totals.received, 3);
    events
        .wait_for(
            "the end of the ping",
            WAIT,
            |e| matches!(e, Event::PingFinished(PingFinishedEvent { id }) if *id == started.id),
        )
        .await;

    // Nobody has this address: loss, not an error.
    let lost: nslab_model::api::PingStarted =
        start_ping(&client, serde_json::json!({"from": "left", "to": "10.0.2.99", "count": 2, "interval_ms": 100}))
            .await
            .json()
            .await
            .unwrap();
    let samples = ping_samples(&mut events, lost.id, 2).await;
    assert!(samples.iter().all(|s| s.rtt_ms.is_none()), "{samples:?}");
    assert_eq!(samples.last().unwrap().totals.loss_percent, 100.0);

    // A ping without a count runs until stopped.
    let endless: nslab_model::api::PingStarted =
        start_ping(&client, serde_json::json!({"from": "right", "to": "left:l-eth0", "interval_ms": 50}))
            .await
            .json()
            .await
            .unwrap();
    ping_samples(&mut events, endless.id, 2).await;
    let stop = client.request(reqwest::Method::DELETE, &format!("/api/ping/{}", endless.id)).send().await.unwrap();
    assert_eq!(stop.status(), 204);
    events
        .wait_for(
            "the stopped ping's end",
            WAIT,
            |e| matches!(e, Event::PingFinished(PingFinishedEvent { id }) if *id == endless.id),
        )
        .await;
    let again = client.request(reqwest::Method::DELETE, &format!("/api/ping/{}", endless.id)).send().await.unwrap();
    assert_eq!(again.status(), 404);

    let bad = start_ping(&client, serde_json::json!({"from": "nowhere", "to": "10.0.2.2"})).await;
    assert_eq!(bad.status(), 422);
    assert!(error_body(bad).await.message.contains("no node called `nowhere`"));
}

/// Pairs (source namespace, target address) that answer in the router lab.
fn reachable_pairs(cells: &[nslab_model::ping::MatrixCell]) -> std::collections::BTreeSet<(String, String)> {
    cells
        .iter()
        .filter(|cell| cell.reachable)
        .map(|cell| (cell.source.name().unwrap_or("host").to_string(), cell.target.to_string()))
        .collect()
}

fn expected_router_pairs(forwarding: bool) -> std::collections::BTreeSet<(String, String)> {
    let left = ["10.0.1.2", "fd00:1::2"];
    let router = ["10.0.1.1", "10.0.2.1", "fd00:1::1", "fd00:2::1"];
    let right = ["10.0.2.2", "fd00:2::2"];
    let mut pairs = std::collections::BTreeSet::new();
    for (source, own) in [("left", &left[..]), ("router", &router[..]), ("right", &right[..])] {
        // Each namespace reaches itself and the router (whose addresses are all local to it);
        // the router reaches everyone; the ends reach each other only through forwarding.
        let mut reached: Vec<&str> = own.iter().chain(router.iter()).copied().collect();
        if source == "router" || forwarding {
            reached.extend(left.iter().chain(right.iter()));
        }
        pairs.extend(reached.into_iter().map(|target| (source.to_string(), target.to_string())));
    }
    pairs
}

#[tokio::test]
async fn the_router_matrix_shows_exactly_the_expected_pairs() {
    let setup = Setup::new("server-matrix", &[]);
    let client = setup.client();
    import_and_apply(&client, "router").await;
    // IPv6 neighbours settle for a couple of seconds after links come up: wait, bounded.
    setup.sandbox.pings("left", "fd00:2::2", 20);
    let (report, streamed) = matrix_as_it_streams(&setup).await;
    assert_eq!(report.cells.len(), 3 * 8, "every namespace to every address");
    assert_eq!(reachable_pairs(&report.cells), expected_router_pairs(true));
    assert_eq!(report.warning, None, "a small matrix fits the kernel's neighbour tables");
    assert_eq!(streamed.len(), report.cells.len(), "every cell came as an event too");

    // With forwarding off in the router, the two ends no longer reach each other.
    let mut lab = client.lab().await;
    let nslab_model::Node::Namespace(router) = &mut lab.lab.nodes[1] else { panic!() };
    router.ipv4_forwarding = false;
    router.ipv6_forwarding = false;
    assert_eq!(client.put_lab(lab.revision, &lab.lab).await.status(), 200);
    assert_eq!(client.post("/api/apply").await.status(), 200);
    let (report, streamed) = matrix_as_it_streams(&setup).await;
    assert_eq!(reachable_pairs(&report.cells), expected_router_pairs(false));
    // Cells stream as they fill: the pairs across the router wait for their probes to time
    // out, and every pair that answers arrives before the first of those, and before the
    // report. A matrix that sent its cells only once complete would mix them.
    assert_eq!(streamed.len(), report.cells.len(), "every cell came as an event too");
    assert!(streamed.iter().all(|cell| report.cells.contains(cell)), "{streamed:?}");
    let first_unanswered = streamed.iter().position(|cell| !cell.reachable).unwrap_or(streamed.len());
    let answered = report.cells.iter().filter(|cell| cell.reachable).count();
    assert_eq!(
        streamed[..first_unanswered].iter().filter(|cell| cell.reachable).count(),
        answered,
        "every answered pair comes before the first unanswered one: {streamed:?}"
    );
}

/// Runs the matrix while watching the event stream; returns the report and the cells that
/// arrived as events before it, in the order they came.
async fn matrix_as_it_streams(setup: &Setup) -> (nslab_model::api::MatrixReport, Vec<nslab_model::ping::MatrixCell>) {
    let client = setup.client();
    let mut events = Events::connect(setup.server()).await;
    let request = client.post("/api/matrix");
    tokio::pin!(request);
    let mut streamed = Vec::new();
    let response = loop {
        tokio::select! {
            response = &mut request => break response,
            event = events.next(WAIT) => match event {
                Some(Event::Matrix(MatrixEvent { id, cell })) => streamed.push((id, cell)),
                Some(_) => {}
                None => panic!("no event for {WAIT:?} while the matrix ran"),
            },
        }
    };
    assert_eq!(response.status(), 200);
    let report: nslab_model::api::MatrixReport = response.json().await.unwrap();
    // The report and the stream come on two connections: under load the last cells may
    // reach the stream after the report. Every cell must stream, bounded.
    while streamed.len() < report.cells.len() {
        match events.next(WAIT).await {
            Some(Event::Matrix(MatrixEvent { id, cell })) => streamed.push((id, cell)),
            Some(_) => {}
            None => panic!("only {} of {} cells streamed", streamed.len(), report.cells.len()),
        }
    }
    assert!(streamed.iter().all(|(id, _)| *id == report.id), "cells of another matrix: {streamed:?}");
    (report, streamed.into_iter().map(|(_, cell)| cell).collect())
}

/// `n` namespaces on one bridge, all in 10.9.0.0/16.
fn star(n: usize) -> Lab {
    use nslab_model::{BridgeNode, Endpoint, NamespaceNode, Node, VethLink};
    let mut lab = Lab::new("wide");
    lab.nodes.push(Node::Bridge(BridgeNode::new("br-wide")));
    for i in 0..n {
        lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("w{i}"))));
        let mut a = Endpoint::new(format!("w{i}"), "eth0");
        a.addresses = vec![format!("10.9.0.{}/16", i + 2)];
        let b = Endpoint::new("br-wide", format!("wp{i}"));
        lab.links.push(Link::Veth(VethLink { a, b, editor: None }));
    }
    nslab_model::edit::auto_layout(&lab)
}

/// The kernel keeps one limit on neighbour (ARP) entries for all namespaces together (1024
/// unless the host raised net.ipv4.neigh.default.gc_thresh3), and a pair whose entry
/// cannot be made gets no answer: 60 namespaces on one bridge answered 1084 of 3600 pairs,
/// with `ping` as with nslab. 40 on a bridge need 1560 entries: the matrix goes in waves
/// that each fit (under three quarters of the limit, so the tests running meanwhile keep
/// room), and every pair answers. Without the waves this test fails, and so may others
/// running at the same time: they share the table. Between waves the matrix clears what
/// the lab's namespaces learned; an entry made by hand stays.
#[tokio::test]
async fn a_matrix_of_a_bridge_beyond_the_neighbour_limit_answers_every_pair() {
    let setup = Setup::new("server-wide-matrix", &[]);
    let client = setup.client();
    apply_file(&client, nslab_model::export::to_json(&star(40))).await;
    let by_hand = "ip -n w0 neigh add 10.9.0.250 lladdr 02:00:00:00:00:fa dev eth0 nud permanent";
    setup.sandbox.sh(by_hand);
    let report: nslab_model::api::MatrixReport = client.post("/api/matrix").await.json().await.unwrap();
    assert_eq!(report.cells.len(), 40 * 40, "every namespace to every address, once");
    let unanswered: Vec<_> = report.cells.iter().filter(|cell| !cell.reachable).collect();
    assert!(unanswered.is_empty(), "{} pairs unanswered, e.g. {:?}", unanswered.len(), unanswered.first());
    assert_eq!(report.warning, None);
    let kept = setup.sandbox.ip_json(&["-n", "w0", "neigh", "show", "10.9.0.250"]);
    assert_eq!(kept[0]["state"][0], "PERMANENT", "{kept}");
    setup.destroy_leaves_nothing().await;
}

#[tokio::test]
async fn destroy_over_http_leaves_nothing_even_while_pinging() {
    let setup = Setup::new("server-destroy", &[]);
    let client = setup.client();
    import_and_apply(&client, "router").await;
    let started =
        start_ping(&client, serde_json::json!({"from": "left", "to": "router:r-eth0", "interval_ms": 50})).await;
    assert_eq!(started.status(), 200);
    assert_eq!(client.post("/api/matrix").await.status(), 200);
    setup.destroy_leaves_nothing().await;
}

/// After a destroy, every watching client is told each namespace is gone (they stayed
/// present until the page was reloaded: the run had released their watches, so the scan
/// for deleted namespaces never saw them go).
#[tokio::test]
async fn destroy_over_http_tells_watchers_each_namespace_is_gone() {
    let setup = Setup::new("server-destroy-watched", &[]);
    let client = setup.client();
    import_and_apply(&client, "router").await;
    let mut events = Events::connect(setup.server()).await;
    assert_eq!(client.post("/api/destroy").await.status(), 200);
    for name in ["left", "right", "router"] {
        events
            .wait_for(
                &format!("{name} gone"),
                WAIT,
                |e| matches!(e, Event::Namespace(NamespaceEvent { netns, present: false, .. }) if netns.name() == Some(name)),
            )
            .await;
    }
}

/// A destroy that would delete a namespace some process still runs in is refused with 409,
/// naming the process, and changes nothing; with `?kill=true` it ends the process first.
/// So does an apply whose edit deletes that namespace.
#[tokio::test]
async fn destroy_over_http_is_refused_while_a_process_runs_in_a_namespace() {
    let setup = Setup::new("server-in-use", &[]);
    let client = setup.client();
    import_and_apply(&client, "seed-bridge").await;
    let sleeper = setup.sandbox.sleep_in("ns1");
    let pid = sleeper.pid.clone();
    let response = client.post("/api/destroy").await;
    assert_eq!(response.status(), 409);
    let body = error_body(response).await;
    assert!(
        body.message.contains(&format!("namespace `ns1` is in use by process {pid} (`sleep`)")),
        "{}",
        body.message
    );
    assert_eq!(setup.sandbox.sh("ip netns list | wc -l").trim(), "3", "nothing was deleted");
    // `?kill=true` ends it first and says so.
    let response = client.post("/api/destroy?kill=true").await;
    assert_eq!(response.status(), 200);
    let report: RunReport = response.json().await.unwrap();
    assert_eq!(report.ended, [format!("process {pid} (`sleep`) in namespace `ns1`")]);

    // An edit that deletes a namespace in use: the same, through apply.
    import_and_apply(&client, "seed-bridge").await;
    let sleeper = setup.sandbox.sleep_in("ns1");
    let pid = sleeper.pid.clone();
    let mut without_ns1 = lab("seed-bridge");
    without_ns1.nodes.retain(|node| node.name() != "ns1");
    without_ns1.links.retain(|Link::Veth(veth)| veth.b.node != "ns1");
    let file = nslab_model::export::to_json(&without_ns1);
    assert_eq!(client.request(reqwest::Method::POST, "/api/import").body(file).send().await.unwrap().status(), 200);
    assert_eq!(client.post("/api/apply").await.status(), 409);
    assert_eq!(setup.sandbox.sh("ip netns list | wc -l").trim(), "3", "nothing was deleted");
    let response = client.post("/api/apply?kill=true").await;
    assert_eq!(response.status(), 200);
    let report: RunReport = response.json().await.unwrap();
    assert_eq!(report.ended, [format!("process {pid} (`sleep`) in namespace `ns1`")]);
    assert_eq!(setup.sandbox.sh("ip netns list | wc -l").trim(), "2", "ns1 alone was deleted");
    assert_eq!(client.post("/api/destroy").await.status(), 200);
    let left = setup.sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");
    assert_eq!(left.trim(), "", "destroy left things behind");
    drop(sleeper);
}

/// A second server on the same host reads (and so opens sockets in) the first one's
/// namespaces; once the first deletes them, the second must let them go, or their veths
/// stay and the first one's destroy never sees its lab gone.
#[tokio::test]
async fn a_second_server_does_not_keep_the_first_ones_namespaces_alive() {
    let setup = Setup::new("server-first", &[]);
    let (other, _other_state) = setup.second_server("server-second");
    import_and_apply(&setup.client(), "seed-bridge").await;
    // The second server reads every namespace, the first one's included.
    let scanned: LabView = Client::new(&other).post("/api/scan").await.json().await.unwrap();
    assert!(scanned.lab.node("ns1").is_some(), "{:?}", scanned.lab.nodes);
    setup.destroy_leaves_nothing().await;
}

/// Traffic shows as counters once a second: pings from ns0 raise what its eth0 sent.
#[tokio::test]
async fn counters_show_the_traffic_of_the_lab() {
    let setup = Setup::new("server-counters", &[]);
    import_and_apply(&setup.client(), "seed-bridge").await;
    let mut events = Events::connect(setup.server()).await;
    let sent_by_eth0 = |event: &Event| match event {
        Event::Counters(CountersEvent { links }) => links
            .iter()
            .find(|link| link.netns == Netns::Named("ns0".into()) && link.name == "eth0")
            .map(|link| link.tx_packets),
        _ => None,
    };
    let first = events.wait_for("counters", WAIT, |e| sent_by_eth0(e).is_some()).await;
    let before = sent_by_eth0(&first).unwrap();
    assert!(setup.sandbox.pings("ns0", "172.17.0.102", 3), "ns0 reaches ns1");
    events.wait_for("counters with the pings", WAIT, |e| sent_by_eth0(e).is_some_and(|sent| sent > before)).await;
}

/// A client that stops reading must not hold up the others or the server: it misses events,
/// is told how many, and gets a fresh snapshot; a client that reads gets every event in order.
#[tokio::test]
async fn a_slow_client_is_told_what_it_missed_and_the_others_are_not_held_up() {
    let setup = Setup::new("server-slow-client", &[]);
    let client = setup.client();
    let mut reader = Events::connect(setup.server()).await;
    let mut stalled = Events::connect_small(setup.server()).await;
    reader.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await;

    // Far more than the server keeps for a client (4096 events) beyond what the sockets'
    // buffers hold (a few MB on loopback): 5000 events of 16 KB.
    let mut view = client.lab().await;
    const EDITS: u64 = 5000;
    let filler = "x".repeat(16 * 1024);
    for n in 0..EDITS {
        view.lab.description = format!("edit {n} {filler}");
        let response = client.put_lab(view.revision, &view.lab).await;
        assert_eq!(response.status(), 200);
        view = response.json().await.unwrap();
        // The reader keeps up as a browser does, and sees every edit in order.
        let seen = reader.wait_for("the edit", WAIT, |e| matches!(e, Event::Document(_))).await;
        let Event::Document(DocumentEvent { view: seen }) = seen else { unreachable!() };
        assert_eq!(seen.revision, view.revision, "edit {n}");
    }

    // Now the stalled client reads: a gap is announced, then a snapshot of the newest lab.
    let mut documents = 0;
    let missed = loop {
        match stalled.next(WAIT).await.expect("the stalled client still gets events") {
            Event::Document(_) | Event::Snapshot(_) => documents += 1,
            Event::Dropped(DroppedEvent { missed }) => break missed,
            _ => {}
        }
    };
    assert!(missed > 0 && documents < EDITS as usize, "missed {missed} after {documents}");
    let snapshot = stalled.wait_for("a fresh snapshot", WAIT, |e| matches!(e, Event::Snapshot(_))).await;
    let Event::Snapshot(SnapshotEvent { view: fresh, .. }) = snapshot else { unreachable!() };
    assert!(fresh.revision > view.revision - 4096, "the snapshot is recent: {} vs {}", fresh.revision, view.revision);
}

/// A server that needs no token (loopback) still refuses what another web site's page could
/// make the browser send: a change with a foreign Origin, or any request addressed to a
/// name that is not loopback (DNS rebinding). Nothing is applied by either.
#[tokio::test]
async fn an_open_server_refuses_other_sites_and_other_names() {
    let setup = Setup::new("server-other-sites", &[]);
    let client = setup.client();
    let url = &setup.server().url;
    let lab = std::fs::read(example("router")).unwrap();
    let evil = |request: reqwest::RequestBuilder| request.header("Origin", "http://evil.example");
    for path in ["/api/import", "/api/apply"] {
        let response = evil(client.request(reqwest::Method::POST, path)).body(lab.clone()).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(error_body(response).await.message.contains("editor"));
    }
    let port = url.rsplit(':').next().unwrap();
    let rebound = client.request(reqwest::Method::GET, "/api/lab").header("Host", format!("evil.example:{port}"));
    assert_eq!(rebound.send().await.unwrap().status(), 403);
    assert_eq!(client.lab().await.revision, 0, "the document was not touched");
    assert_eq!(setup.sandbox.sh("ip netns list").trim(), "", "nothing was applied");

    // The editor's own page may change the lab.
    let own = client.request(reqwest::Method::POST, "/api/import").header("Origin", url.as_str()).body(lab);
    assert_eq!(own.send().await.unwrap().status(), 200);
}

/// Waits (bounded) until `path` exists.
async fn wait_for_file(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + WAIT;
    while !path.exists() {
        assert!(std::time::Instant::now() < deadline, "{} never appeared", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One run at a time: an apply asked for while a destroy goes on is refused with 409 and
/// changes nothing. The destroy is held at a known point: it ends a process in ns1 that
/// notes SIGTERM in a file and goes on, so the run waits for it (a second) before SIGKILL;
/// the apply is sent once the note is there.
#[tokio::test]
async fn a_run_asked_for_while_another_goes_on_is_refused_with_409() {
    let setup = Setup::new("server-busy", &[]);
    let client = setup.client();
    import_and_apply(&client, "seed-bridge").await;
    let notes = tempfile::tempdir().unwrap();
    let terminated = notes.path().join("terminated");
    let stubborn = format!("sh -c \"trap 'touch {}' TERM; while :; do sleep 0.1; done\"", terminated.display());
    let stubborn = setup.sandbox.start_in("ns1", &stubborn, "sh");

    let first = client.post("/api/destroy?kill=true");
    let others = async {
        wait_for_file(&terminated).await;
        // Two in a row: a refusal must not free the run's claim for the next request.
        let apply = client.post("/api/apply").await;
        let destroy = client.post("/api/destroy").await;
        [(apply.status(), apply.text().await.unwrap()), (destroy.status(), destroy.text().await.unwrap())]
    };
    let (first, refused) = tokio::join!(first, others);
    for (status, said) in refused {
        assert_eq!(status, 409, "{said}");
        assert!(said.contains("an apply or destroy is already running"), "{said}");
    }

    // The first run went on to its end and ended the process; the refused apply changed
    // nothing (the lab stays destroyed); then a run starts again.
    assert_eq!(first.status(), 200);
    let report: RunReport = first.json().await.unwrap();
    assert!(report.ended.iter().any(|e| e.contains(&format!("process {} ", stubborn.pid))), "{:?}", report.ended);
    let left = setup.sandbox.sh("ip netns list; ip -o link show | grep -v ': lo:' || true");
    assert_eq!(left.trim(), "", "the destroy went through, and the refused apply made nothing");
    assert_eq!(client.post("/api/apply").await.status(), 200, "after it, a run starts");
    setup.destroy_leaves_nothing().await;
}

/// A service manager stopping the server during an apply (SIGTERM): the run stops at a
/// step boundary and undoes what it made, the request is answered 503 with why, and the
/// server ends; nothing of the lab is left.
#[tokio::test]
async fn sigterm_during_an_apply_stops_it_undoes_it_and_ends_the_server() {
    let mut setup = Setup::new("server-sigterm", &[]);
    let client = setup.client();
    let file = nslab_model::export::to_json(&star(250));
    assert_eq!(client.request(reqwest::Method::POST, "/api/import").body(file).send().await.unwrap().status(), 200);
    let apply = client.post("/api/apply");
    let stop = async {
        let made = || setup.sandbox.sh("ip netns list | wc -l").trim().parse::<usize>().unwrap_or(0);
        for _ in 0..2000 {
            if made() >= 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let pid = nix::unistd::Pid::from_raw(setup.server().pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("the server can be signalled");
    };
    let (answer, ()) = tokio::join!(apply, stop);
    assert_eq!(answer.status(), 503);
    let said = error_body(answer).await.message;
    assert!(said.starts_with("interrupted by SIGTERM: no step was started after it"), "{said}");
    assert!(said.contains("had created were deleted again"), "{said}");
    let server = setup.server.as_mut().expect("started");
    assert!(server.wait_for_exit(std::time::Duration::from_secs(30)).is_some(), "the server ended");
    let kernel = "ip netns list; ip -o link show | grep -v ': lo:' || true";
    for _ in 0..200 {
        if setup.sandbox.sh(kernel).trim().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(setup.sandbox.sh(kernel).trim(), "", "nothing of the lab is left");
}

/// `?token=` in the address leaves a cookie; that cookie alone then authenticates the page's
/// other requests and its websocket, with the role of the token it carries. A wrong cookie
/// is refused.
#[tokio::test]
async fn the_cookie_that_the_token_in_the_address_leaves_authenticates_alone() {
    let token = "teacher-token-0123456789";
    let viewer = "student-token-0123456789";
    let setup = Setup::new("server-cookie", &["--listen", "0.0.0.0:0", "--token", token, "--viewer-token", viewer]);
    let url = setup.server().url.replace("0.0.0.0", "127.0.0.1");
    // No cookie store: the test sends the cookie itself, and nothing else.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let cookie_for = |token: &str| {
        let (http, url) = (http.clone(), url.clone());
        let token = token.to_string();
        async move {
            let response = http.get(format!("{url}/?token={token}")).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let set = response.headers().get("set-cookie").expect("a cookie").to_str().unwrap().to_string();
            set.split(';').next().unwrap().to_string()
        }
    };
    let teacher = cookie_for(token).await;
    let student = cookie_for(viewer).await;
    assert!(teacher.starts_with("nslab_token="), "{teacher}");
    let with = |cookie: &str, method: reqwest::Method, path: &str| {
        http.request(method, format!("{url}{path}")).header("Cookie", cookie)
    };
    use reqwest::Method;

    let view: LabView = with(&teacher, Method::GET, "/api/lab").send().await.unwrap().json().await.unwrap();
    let mut edited = view.lab.clone();
    edited.description = "changed with the cookie alone".into();
    let put = nslab_model::api::PutLab { base_revision: view.revision, lab: edited };
    assert_eq!(with(&teacher, Method::PUT, "/api/lab").json(&put).send().await.unwrap().status(), 200);
    // The student's cookie watches, and may not change.
    assert_eq!(with(&student, Method::GET, "/api/lab").send().await.unwrap().status(), 200);
    let mut stale = put.clone();
    stale.base_revision += 1;
    assert_eq!(with(&student, Method::PUT, "/api/lab").json(&stale).send().await.unwrap().status(), 403);
    // A wrong cookie, or none, is refused.
    let wrong = "nslab_token=wrong-token-0123456789";
    assert_eq!(with(wrong, Method::GET, "/api/lab").send().await.unwrap().status(), 401);
    assert_eq!(with(wrong, Method::PUT, "/api/lab").json(&stale).send().await.unwrap().status(), 401);
    assert_eq!(http.get(format!("{url}/api/lab")).send().await.unwrap().status(), 401);
    let view: LabView =
        http.get(format!("{url}/api/lab")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (view.revision, view.lab.description.as_str()),
        (put.base_revision + 1, "changed with the cookie alone"),
        "the teacher's cookie changed the lab, and nothing else did"
    );

    // The websocket, with the cookie alone.
    let ws = format!("{}/api/events", url.replacen("http://", "ws://", 1));
    let connect = |cookie: &str| {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws.as_str()).unwrap();
        request.headers_mut().insert("Cookie", cookie.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    assert!(connect(&teacher).await.is_ok(), "the cookie opens the event stream");
    let refused = connect(wrong).await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401),
        "{refused:?}"
    );
}

/// `n` namespaces with no link between them.
fn namespaces(n: usize) -> Lab {
    let mut lab = Lab::new("many");
    for i in 0..n {
        lab.nodes.push(nslab_model::Node::Namespace(nslab_model::NamespaceNode::new(format!("n{i}"))));
    }
    lab
}

/// Two namespaces joined by `n` veths.
fn parallel_links(n: usize) -> Lab {
    let mut lab = namespaces(2);
    for i in 0..n {
        let (a, b) =
            (nslab_model::Endpoint::new("n0", format!("a{i}")), nslab_model::Endpoint::new("n1", format!("b{i}")));
        lab.links.push(Link::Veth(nslab_model::VethLink { a, b, editor: None }));
    }
    lab
}

/// A lab over the server's node or link limit is refused whole with 413, whether it comes
/// as an edit or as a file; one at the limits is taken.
#[tokio::test]
async fn a_lab_over_the_node_or_link_limit_is_refused_with_413() {
    let setup = Setup::new("server-limits", &["--max-nodes", "4", "--max-links", "3"]);
    let client = setup.client();
    let before = client.lab().await;
    for (what, lab) in [("5 nodes", namespaces(5)), ("4 links", parallel_links(4))] {
        let response = client.put_lab(before.revision, &lab).await;
        assert_eq!(response.status(), 413, "{what}");
        let said = error_body(response).await.message;
        assert!(said.contains("this server takes at most 4 and 3"), "{what}: {said}");
        let file = nslab_model::export::to_json(&lab);
        let response = client.request(reqwest::Method::POST, "/api/import").body(file).send().await.unwrap();
        assert_eq!(response.status(), 413, "{what}, imported");
    }
    assert_eq!(client.lab().await, before, "nothing refused was stored");
    for lab in [namespaces(4), parallel_links(3)] {
        let view = client.lab().await;
        assert_eq!(client.put_lab(view.revision, &lab).await.status(), 200, "at the limits");
    }
}

/// Kills a process when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Without `--listen`, the server listens on 127.0.0.1:4780 (in a sandbox: that port of
/// the sandbox's own loopback is surely free) and says so.
#[tokio::test]
async fn without_listen_the_server_is_on_127_0_0_1_port_4780() {
    use std::io::BufRead;
    let sandbox = Sandbox::new();
    sandbox.enter_network_here();
    let state = tempfile::tempdir().unwrap();
    let binary = nslab_tests::paths::nslab_binary();
    let mut child = sandbox
        .command(binary.to_str().unwrap())
        .arg("serve")
        .arg("--state-dir")
        .arg(state.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nslab serve starts");
    let stdout = child.stdout.take().unwrap();
    let server = Killed(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).expect("nslab serve prints its address");
    assert!(line.contains(" on http://127.0.0.1:4780/"), "{line}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let view: LabView = http.get("http://127.0.0.1:4780/api/lab").send().await.unwrap().json().await.unwrap();
    assert_eq!(view.lab.name, "seed-bridge");
    drop(server);
}
