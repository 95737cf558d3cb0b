//! Calls to the nslab server's HTTP API. Errors come back as the server's `ErrorBody`, or
//! one made here when the server could not be reached or answered something else.

use gloo_net::http::{Request, Response};
use nslab_model::api::{
    BatchEvent, DrillStatus, ErrorBody, Event, LabView, MatrixReport, PingRequest, PingStarted, PlanView, PutLab,
    RunKind, RunReport,
};
use nslab_model::Lab;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// `GET /api/lab`: the lab being edited.
pub async fn fetch_lab() -> Result<LabView, ErrorBody> {
    read(Request::get("/api/lab").send().await).await
}

/// `PUT /api/lab`; a 409 carries the current document in `ErrorBody::current`.
pub async fn put_lab(base_revision: u64, lab: &Lab) -> Result<LabView, ErrorBody> {
    let body = PutLab { base_revision, lab: lab.clone() };
    let request = Request::put("/api/lab").json(&body).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

pub async fn import(text: String) -> Result<LabView, ErrorBody> {
    read(Request::post("/api/import").body(text).map_err(|e| ErrorBody::new(e.to_string()))?.send().await).await
}

/// The kernel drawn as a lab (like `nslab scan`), which becomes the document.
pub async fn scan() -> Result<LabView, ErrorBody> {
    read(Request::post("/api/scan").send().await).await
}

/// `POST /api/explain`: why a ping would (not) be answered, read from the kernel.
pub async fn explain(request: &nslab_model::api::ExplainRequest) -> Result<nslab_model::api::ExplainView, ErrorBody> {
    let request = Request::post("/api/explain").json(request).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

pub async fn plan() -> Result<PlanView, ErrorBody> {
    read(Request::post("/api/plan").send().await).await
}

pub async fn apply() -> Result<RunReport, ErrorBody> {
    read(Request::post("/api/apply").send().await).await
}

/// Applies, taking over what is in the lab's way (like `nslab apply --adopt`).
pub async fn apply_adopting() -> Result<RunReport, ErrorBody> {
    read(Request::post("/api/apply?adopt=true").send().await).await
}

pub async fn destroy() -> Result<RunReport, ErrorBody> {
    read(Request::post("/api/destroy").send().await).await
}

/// Runs again what was refused for processes in the namespaces it deletes, ending them
/// first (like `nslab apply --kill`, `nslab destroy --kill`).
pub async fn run_ending_processes(run: RunKind) -> Result<RunReport, ErrorBody> {
    let path = match run {
        RunKind::Apply => "/api/apply?kill=true",
        RunKind::Destroy => "/api/destroy?kill=true",
    };
    read(Request::post(path).send().await).await
}

pub async fn matrix() -> Result<MatrixReport, ErrorBody> {
    read(Request::post("/api/matrix").send().await).await
}

pub async fn start_ping(request: &PingRequest) -> Result<PingStarted, ErrorBody> {
    let request = Request::post("/api/ping").json(request).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

/// `POST /api/goals/check`: the lab's goals checked on the kernel now.
pub async fn check_goals() -> Result<nslab_model::api::GoalsEvent, ErrorBody> {
    read(Request::post("/api/goals/check").send().await).await
}

/// `POST /api/drill`: breaks the applied lab with `faults` faults of `kinds` (all: empty).
pub async fn start_drill(faults: u32, kinds: Vec<nslab_model::drill::FaultKind>) -> Result<DrillStatus, ErrorBody> {
    let body = nslab_model::drill::DrillRequest { faults, kinds, seed: None };
    let request = Request::post("/api/drill").json(&body).map_err(|e| ErrorBody::new(e.to_string()))?;
    read(request.send().await).await
}

/// `GET /api/drill/faults`: the drill's faults, for the teacher.
pub async fn drill_faults() -> Result<Vec<nslab_model::api::RevealedFault>, ErrorBody> {
    read(Request::get("/api/drill/faults").send().await).await
}

/// `POST /api/drill/reveal` or `POST /api/drill/repair`.
pub async fn end_drill(step: &str) -> Result<DrillStatus, ErrorBody> {
    read(Request::post(&format!("/api/drill/{step}")).send().await).await
}

pub async fn stop_ping(id: u64) {
    let _ = Request::delete(&format!("/api/ping/{id}")).send().await;
}

/// How an error begins when the request never got an answer (offline, server down).
const UNREACHABLE: &str = "cannot reach the nslab server";

/// Whether the server never answered (so trying again later may work).
pub fn unreachable(error: &ErrorBody) -> bool {
    error.message.starts_with(UNREACHABLE)
}

// Only the parse is generic: one copy of the waiting and of the error handling serves every
// answer type (a generic `Response::json` per type cost about 4 KB of wasm).
async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ErrorBody> {
    let text = answer(sent).await?;
    serde_json::from_str(&text).map_err(|e| unreadable(&e))
}

async fn answer(sent: Result<Response, gloo_net::Error>) -> Result<String, ErrorBody> {
    let response = sent.map_err(|e| ErrorBody::new(format!("{UNREACHABLE}: {e}")))?;
    if response.ok() {
        return response.text().await.map_err(|e| unreadable(&e));
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(body),
        Err(_) => Err(ErrorBody::new(format!("the server answered {status}"))),
    }
}

fn unreadable(error: &dyn std::fmt::Display) -> ErrorBody {
    ErrorBody::new(format!("the server's answer is unreadable: {error}"))
}

/// One message of the event stream (`GET /api/events`).
///
/// The same as `serde_json::from_str::<Event>`, read in two passes: the `type`, then that
/// variant's payload straight from the text. The derive for an internally tagged enum
/// buffers each event in serde's generic `Content` tree and instantiates every field type
/// (the lab, the plan's ops) a second time to read from it; reading from the text reuses the
/// instances the HTTP answers need. That saves about 60 KB of wasm (17 KB gzipped). A
/// `batch`'s events are read the same way, each from its own part of the text.
pub fn read_event(text: &str) -> serde_json::Result<Event> {
    #[derive(Deserialize)]
    struct Tag {
        #[serde(rename = "type")]
        kind: String,
    }
    let Tag { kind } = serde_json::from_str(text)?;
    Ok(match kind.as_str() {
        "snapshot" => Event::Snapshot(serde_json::from_str(text)?),
        "document" => Event::Document(serde_json::from_str(text)?),
        "progress" => Event::Progress(serde_json::from_str(text)?),
        "run_finished" => Event::RunFinished(serde_json::from_str(text)?),
        "link" => Event::Link(serde_json::from_str(text)?),
        "namespace" => Event::Namespace(serde_json::from_str(text)?),
        "drift" => Event::Drift(serde_json::from_str(text)?),
        "counters" => Event::Counters(serde_json::from_str(text)?),
        "ping" => Event::Ping(serde_json::from_str(text)?),
        "ping_finished" => Event::PingFinished(serde_json::from_str(text)?),
        "matrix" => Event::Matrix(serde_json::from_str(text)?),
        "dropped" => Event::Dropped(serde_json::from_str(text)?),
        "presenter" => Event::Presenter(serde_json::from_str(text)?),
        "terminal" => Event::Terminal(serde_json::from_str(text)?),
        "goals" => Event::Goals(serde_json::from_str(text)?),
        "drill" => Event::Drill(serde_json::from_str(text)?),
        "batch" => {
            #[derive(Deserialize)]
            struct Batch<'a> {
                #[serde(borrow)]
                events: Vec<&'a serde_json::value::RawValue>,
            }
            let Batch { events } = serde_json::from_str(text)?;
            let events = events.into_iter().map(|event| read_event(event.get())).collect::<Result<_, _>>()?;
            Event::Batch(BatchEvent { events })
        }
        other => return Err(serde::de::Error::unknown_variant(other, &Event::TYPES)),
    })
}

#[cfg(test)]
mod tests {
    use nslab_model::api::{
        CountersEvent, DocumentEvent, DriftEvent, DroppedEvent, LinkChange, LinkCounters, LinkEvent, LiveLink,
        MatrixEvent, NamespaceEvent, OpProgress, OpState, PingEvent, PingFinishedEvent, PlannedOp, ProgressEvent,
        RunFinishedEvent, SnapshotEvent,
    };
    use nslab_model::identity::Netns;
    use nslab_model::ping::{MatrixCell, PingSample, PingTotals};
    use nslab_model::plan::Conflict;
    use nslab_model::{DocPath, Problem, Rule};

    use super::*;

    #[test]
    fn events_read_as_the_derive_reads_them() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/router.json")).unwrap();
        let problem = Problem::new(Rule::DuplicateNodeName, DocPath::root().field("nodes"), "twice");
        let view = LabView { revision: 7, lab: lab.clone(), problems: vec![problem] };
        let ops: Vec<PlannedOp> = nslab_model::plan::creation_ops(&lab).iter().map(PlannedOp::from).collect();
        let netns = Netns::Named("left".into());
        let live = LiveLink {
            netns: netns.clone(),
            name: "eth0".into(),
            up: true,
            oper_up: false,
            owner: Some("router".into()),
            addresses: vec!["10.0.1.2/24".parse().unwrap(), "fd00::2/64".parse().unwrap()],
        };
        let sample = PingSample {
            seq: 2,
            rtt_ms: None,
            error: Some("no route to the target".into()),
            totals: PingTotals { sent: 2, received: 1, lost: 1, loss_percent: 50.0 },
        };
        let cell = MatrixCell {
            source: Netns::Host,
            target: "10.0.1.2".parse().unwrap(),
            reachable: true,
            rtt_ms: Some(0.25),
            error: None,
        };
        let counters = LinkCounters {
            netns: netns.clone(),
            name: "eth0".into(),
            rx_bytes: 1,
            tx_bytes: 2,
            rx_packets: 3,
            tx_packets: 4,
            rx_bytes_per_second: 0.5,
            tx_bytes_per_second: 1.5,
        };
        let conflict = Conflict {
            path: DocPath::root().field("links").index(0),
            message: "`veth0` in the host was not created by nslab".into(),
        };
        let progress = OpProgress {
            index: 1,
            total: 9,
            command: "ip netns add left".into(),
            state: OpState::Failed,
            error: Some("exists".into()),
        };
        let events = [
            Event::Snapshot(SnapshotEvent {
                view: view.clone(),
                links: vec![live.clone()],
                namespaces: vec![netns.clone(), Netns::Host],
                owners: [("left".to_string(), "router".to_string())].into(),
                applied: true,
                drift: ops.clone(),
                conflicts: vec![conflict.clone()],
                missing: vec!["right".into()],
                drift_hidden: true,
                goals: None,
                drill: Some(Box::new(nslab_model::api::DrillStatus {
                    active: true,
                    faults: 2,
                    fixed: 1,
                    revealed: Vec::new(),
                })),
            }),
            Event::Document(DocumentEvent { view }),
            Event::Progress(ProgressEvent { run: RunKind::Apply, progress }),
            Event::RunFinished(RunFinishedEvent { run: RunKind::Destroy, ok: false, message: "stopped".into() }),
            Event::Link(LinkEvent { change: LinkChange::Changed, link: live }),
            Event::Namespace(NamespaceEvent { netns: netns.clone(), present: false, owner: None }),
            Event::Namespace(NamespaceEvent { netns, present: true, owner: Some("router".into()) }),
            Event::Drift(DriftEvent {
                applied: false,
                ops,
                conflicts: vec![conflict],
                missing: vec!["left".into()],
                hidden: false,
            }),
            Event::Counters(CountersEvent { links: vec![counters] }),
            Event::Ping(PingEvent { id: 4, sample }),
            Event::PingFinished(PingFinishedEvent { id: 4 }),
            Event::Matrix(MatrixEvent { id: 5, cell }),
            Event::Dropped(DroppedEvent { missed: 12 }),
            Event::Presenter(nslab_model::api::PresenterEvent {
                on: true,
                view: Some(nslab_model::api::PresenterView { x: 1.5, y: -2.0, width: 800.0, height: 450.0 }),
                selection: nslab_model::api::PresenterSelection { nodes: vec!["left".into()], links: vec![0] },
            }),
            Event::Terminal(nslab_model::api::TerminalEvent { node: "left".into(), opened: true }),
            Event::Goals(nslab_model::api::GoalsEvent {
                revision: 3,
                checklist: nslab_model::goals::Checklist::new(vec![nslab_model::goals::GoalResult {
                    index: 0,
                    goal: "left reaches 10.0.2.2".into(),
                    met: false,
                    detail: "10.0.2.2 did not answer a ping from left".into(),
                    hint: Some("look at the routes".into()),
                }]),
            }),
            Event::Drill(nslab_model::api::DrillEvent::default()),
        ];
        let batch = Event::Batch(BatchEvent { events: events[1..].to_vec() });
        let events = events.into_iter().chain([batch]);
        for event in events {
            let text = serde_json::to_string(&event).unwrap();
            assert_eq!(read_event(&text).unwrap(), event, "{text}");
            assert_eq!(read_event(&text).unwrap(), serde_json::from_str::<Event>(&text).unwrap());
        }
        assert!(read_event(r#"{"type":"news"}"#).is_err());
        assert!(read_event(r#"{"type":"ping_finished"}"#).is_err());
        assert!(read_event(r#"{"id":1}"#).is_err());
        assert!(read_event(r#"{"type":"batch","events":[{"type":"ping_finished"}]}"#).is_err());
    }
}
