//! The live agent: a real `nslab serve` inside a sandbox, a real HTTP client and a real
//! websocket client (the test's thread enters the sandbox's network namespace to reach it).

use std::time::Duration;

use nslab_model::api::{ErrorBody, Event, LabView, LinkChange, OpState, PlanView, RunKind, RunReport};
use nslab_model::topology::Netns;
use nslab_model::{load_lab, Lab, Link};
use nslab_tests::client::{Client, Events};
use nslab_tests::expected::{differences, expected_state};
use nslab_tests::kernel::read_kernel_state;
use nslab_tests::paths::example;
use nslab_tests::sandbox::Sandbox;
use nslab_tests::server::{NslabServer, ServerOptions};

const WAIT: Duration = Duration::from_secs(10);

fn lab(name: &str) -> Lab {
    load_lab(&std::fs::read(example(name)).unwrap(), &Default::default()).unwrap()
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
}

async fn error_body(response: reqwest::Response) -> ErrorBody {
    response.json().await.expect("errors are JSON")
}

#[tokio::test]
async fn one_client_edits_the_other_sees_it_and_stale_edits_conflict() {
    let mut setup = Setup::new("server-edits", &[]);
    let (teacher, student) = (setup.client(), setup.client());
    let mut watching = Events::connect(setup.server()).await;
    let Some(Event::Snapshot { view, .. }) = watching.next(WAIT).await else { panic!("a snapshot first") };
    assert_eq!(view.lab.name, "seed-bridge");

    let mut edited = view.lab.clone();
    edited.description = "edited by the teacher".into();
    let response = teacher.put_lab(view.revision, &edited).await;
    assert_eq!(response.status(), 200);
    let accepted: LabView = response.json().await.unwrap();
    assert_eq!(accepted.revision, view.revision + 1);
    let event = watching.wait_for("the edit", WAIT, |e| matches!(e, Event::Document { .. })).await;
    let Event::Document { view: seen } = event else { unreachable!() };
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
        let event = events.wait_for("progress", WAIT, |e| matches!(e, Event::Progress { .. })).await;
        let Event::Progress { run, progress } = event else { unreachable!() };
        assert_eq!(run, RunKind::Apply);
        if progress.state == OpState::Done {
            done.push((progress.index, progress.command));
        }
    }
    let expected: Vec<(usize, String)> = plan.ops.iter().enumerate().map(|(i, op)| (i, op.command.clone())).collect();
    assert_eq!(done, expected, "every op, in plan order, with its command");
    events.wait_for("the end of the run", WAIT, |e| matches!(e, Event::RunFinished { ok: true, .. })).await;
    let found = differences(&expected_state(&lab("seed-bridge")), &read_kernel_state(&setup.sandbox));
    assert!(found.is_empty(), "{}", found.join("\n"));
    // While one run goes on no other starts; after it, the kernel is in step with the lab.
    events.wait_for("no drift", WAIT, |e| matches!(e, Event::Drift { applied: true, ops } if ops.is_empty())).await;
}

#[tokio::test]
async fn link_changes_made_outside_nslab_arrive_as_events_and_drift() {
    let setup = Setup::new("server-live", &[]);
    let client = setup.client();
    assert_eq!(client.post("/api/apply").await.status(), 200);
    let mut events = Events::connect(setup.server()).await;
    events.wait_for("the snapshot", WAIT, |e| matches!(e, Event::Snapshot { .. })).await;

    setup.sandbox.sh("ip -n ns1 link set dev eth0 down");
    let is_ns1_eth0 =
        |link: &nslab_model::api::LiveLink| link.netns == Netns::Named("ns1".into()) && link.name == "eth0";
    events
        .wait_for("eth0 down", WAIT, |e| matches!(e, Event::Link { link, .. } if is_ns1_eth0(link) && !link.up))
        .await;
    let drift = events.wait_for("drift", WAIT, |e| matches!(e, Event::Drift { ops, .. } if !ops.is_empty())).await;
    let Event::Drift { ops, .. } = drift else { unreachable!() };
    assert_eq!(ops.iter().map(|op| op.command.as_str()).collect::<Vec<_>>(), ["ip -n ns1 link set dev eth0 up"]);

    setup.sandbox.sh("ip -n ns1 link set dev eth0 up");
    events.wait_for("eth0 up", WAIT, |e| matches!(e, Event::Link { link, .. } if is_ns1_eth0(link) && link.up)).await;
    events.wait_for("no drift", WAIT, |e| matches!(e, Event::Drift { ops, .. } if ops.is_empty())).await;

    // Deleting a namespace by hand is reported, and re-applying repairs it.
    setup.sandbox.sh("ip netns delete ns2");
    events
        .wait_for(
            "ns2 gone",
            WAIT,
            |e| matches!(e, Event::Namespace { netns, present: false } if netns.name() == Some("ns2")),
        )
        .await;
    events
        .wait_for(
            "veth4 gone",
            WAIT,
            |e| matches!(e, Event::Link { change: LinkChange::Removed, link } if link.name == "veth4"),
        )
        .await;
    let drift = events.wait_for("drift", WAIT, |e| matches!(e, Event::Drift { ops, .. } if !ops.is_empty())).await;
    let Event::Drift { ops, .. } = drift else { unreachable!() };
    assert!(ops.iter().any(|op| op.command == "ip netns add ns2"), "{ops:?}");
    assert_eq!(client.post("/api/apply").await.status(), 200);
    events.wait_for("repaired", WAIT, |e| matches!(e, Event::Drift { ops, .. } if ops.is_empty())).await;
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
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("ip link add l-eth0 netns left type veth peer name r-eth0 netns router"));

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
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
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
