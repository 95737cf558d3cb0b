//! HTTP bodies and websocket events shared by the server and the browser.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::identity::Netns;
use crate::lab::Lab;
use crate::ops::Op;
use crate::ping::{MatrixCell, PingSample};
use crate::plan::Conflict;
use crate::problem::Problem;

/// `GET /api/lab`: the lab being edited, with what validation says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabView {
    /// Bumped on every accepted change of the document.
    pub revision: u64,
    pub lab: Lab,
    pub problems: Vec<Problem>,
}

/// Every error answer of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    /// Validation problems, each at its path, when the error is about the lab.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// What in the kernel is in the lab's way, when apply refuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The document as it is now, when a change was based on an older revision (409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<LabView>,
    /// The processes that keep a namespace the run would delete in use (409), each as
    /// `process PID (`COMMAND`) in namespace `NAME``: the run again with `kill=true` ends
    /// them first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use: Vec<String>,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> Self {
        ErrorBody {
            message: message.into(),
            problems: Vec::new(),
            conflicts: Vec::new(),
            current: None,
            in_use: Vec::new(),
        }
    }
}

/// `PUT /api/lab`: a new document, based on the revision the client last saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PutLab {
    pub base_revision: u64,
    pub lab: Lab,
}

/// `POST /api/plan`: what apply would do, as ops and their `ip` commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub revision: u64,
    pub ops: Vec<PlannedOp>,
    /// What in the kernel nslab works around, each with its fix: an empty file under
    /// /run/netns, a run that died and that the next apply finishes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The pairs the edit starts or stops reaching, predicted from the lab as last applied
    /// (its record) and the lab now (`reach_changes`); None when the lab was never applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach_changes: Option<Vec<crate::reach::Pair>>,
}

/// `POST /api/explain`: why a ping from a node to an address would (not) be answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainRequest {
    /// A namespace node, or the host node.
    pub from: String,
    /// An address, or `NODE:INTERFACE` (its first IPv4 address, else its first IPv6).
    pub to: String,
}

/// The answer of `POST /api/explain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainView {
    pub explanation: crate::reach::Explanation,
    /// Read from the kernel (the lab is applied), not from the lab alone.
    pub live: bool,
    /// What the kernel holds on the way that the prediction cannot see (`rp_filter` and
    /// other settings, rules, routes of other tables), as `NAMESPACE: COMMAND`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unseen: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedOp {
    pub op: Op,
    pub command: String,
}

impl From<&Op> for PlannedOp {
    fn from(op: &Op) -> Self {
        PlannedOp { op: op.clone(), command: op.ip_command() }
    }
}

/// `POST /api/apply`, `POST /api/destroy`: what was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run: RunKind,
    pub revision: u64,
    pub ops: usize,
    pub elapsed_ms: f64,
    /// The processes a run with `kill` ended first, each as `process PID (`COMMAND`)
    /// in namespace `NAME``.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Apply,
    Destroy,
}

/// An interface as it is in the kernel now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveLink {
    pub netns: Netns,
    pub name: String,
    /// Administrative state.
    pub up: bool,
    /// Carrier: for a veth, both ends up.
    pub oper_up: bool,
    /// The lab whose mark it carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its addresses as the kernel holds them now (from the last reading: an address
    /// flushed from a shell goes from here, and the editor marks it missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNet>,
}

/// Traffic through one interface, with rates over the last interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkCounters {
    pub netns: Netns,
    pub name: String,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes_per_second: f64,
    pub tx_bytes_per_second: f64,
}

/// What changed about an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkChange {
    Added,
    Changed,
    Removed,
}

/// The websocket subprotocol of an event stream that may join events into a `batch`
/// (`Event::Batch`): a client that asks for it (`Sec-WebSocket-Protocol`) gets the events
/// that come in bursts (an apply's progress, link news) joined into one message per tick.
/// A client that asks for none gets every event as a message of its own, as before batches.
pub const EVENTS_PROTOCOL: &str = "nslab.events.2";

/// The websocket stream (`GET /api/events`): a snapshot first, then changes as they happen.
/// On the wire each is one object: `"type"` names the variant, its payload's fields stand
/// beside it. Each payload is a struct of its own, so that a reader that looked at the
/// `type` first can read just that payload (the editor does, see its `api::read_event`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Snapshot(SnapshotEvent),
    Document(DocumentEvent),
    Progress(ProgressEvent),
    RunFinished(RunFinishedEvent),
    Link(LinkEvent),
    Namespace(NamespaceEvent),
    Drift(DriftEvent),
    Counters(CountersEvent),
    Ping(PingEvent),
    PingFinished(PingFinishedEvent),
    Matrix(MatrixEvent),
    Dropped(DroppedEvent),
    Batch(BatchEvent),
    Presenter(PresenterEvent),
    Terminal(TerminalEvent),
    Goals(GoalsEvent),
    Drill(DrillEvent),
}

impl Event {
    /// Every `type` an event can have, in the order of the variants.
    pub const TYPES: [&'static str; 17] = [
        "snapshot",
        "document",
        "progress",
        "run_finished",
        "link",
        "namespace",
        "drift",
        "counters",
        "ping",
        "ping_finished",
        "matrix",
        "dropped",
        "batch",
        "presenter",
        "terminal",
        "goals",
        "drill",
    ];

    /// The events this message stands for, in order: a batch's, or itself.
    pub fn into_events(self) -> Vec<Event> {
        match self {
            Event::Batch(BatchEvent { events }) => events.into_iter().flat_map(Event::into_events).collect(),
            event => vec![event],
        }
    }
}

/// Everything a client needs to draw the lab now; sent on connect and after a gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEvent {
    pub view: LabView,
    pub links: Vec<LiveLink>,
    pub namespaces: Vec<Netns>,
    /// The lab whose mark each named namespace carries, by namespace (unmarked ones, made
    /// by hand, are not here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owners: BTreeMap<String, String>,
    pub applied: bool,
    pub drift: Vec<PlannedOp>,
    /// What in the kernel is in the lab's way, as in `DriftEvent`.
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
    /// As in `DriftEvent`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// As in `DriftEvent`: a drill withholds the drift.
    #[serde(default, skip_serializing_if = "is_false")]
    pub drift_hidden: bool,
    /// The goals as last checked, when the lab has goals and they were checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goals: Option<Box<GoalsEvent>>,
    /// The drill, while one runs (and after, until the next starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<Box<DrillStatus>>,
}

/// The document changed (an edit, an import, a scan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentEvent {
    pub view: LabView,
}

/// One op of an apply or destroy, in plan order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub run: RunKind,
    pub progress: OpProgress,
}

/// An apply or destroy ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinishedEvent {
    pub run: RunKind,
    pub ok: bool,
    pub message: String,
}

/// An interface appeared, changed state or went away, whoever did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEvent {
    pub change: LinkChange,
    pub link: LiveLink,
}

/// A namespace appeared, went away or changed hands (its mark), whoever did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceEvent {
    pub netns: Netns,
    pub present: bool,
    /// The lab whose mark it carries; none for one made by hand (or gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Whether the kernel holds anything of the lab, and what re-applying it would do now
/// (empty when the kernel holds the lab). Sent when it changes, e.g. after
/// `ip link set eth0 down` in a terminal: re-applying repairs it. When something in the
/// kernel is in the lab's way (an interface made by hand where the lab's was),
/// re-applying would refuse: `conflicts` says what and where, and `ops` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftEvent {
    pub applied: bool,
    pub ops: Vec<PlannedOp>,
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
    /// The namespaces the lab had when it was last applied that the kernel no longer
    /// holds (deleted from outside): told apart from new ones never applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// A drill runs: what differs is withheld (ops and missing are empty) so that students
    /// find the faults themselves; `hidden` tells the page to say so.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Traffic counters of the lab's interfaces, about once a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountersEvent {
    pub links: Vec<LinkCounters>,
}

/// One probe of a ping started with `POST /api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingEvent {
    pub id: u64,
    pub sample: PingSample,
}

/// A ping ended (its count reached, stopped, or its source gone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingFinishedEvent {
    pub id: u64,
}

/// One pair of a reachability matrix started with `POST /api/matrix`, as soon as known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixEvent {
    pub id: u64,
    pub cell: MatrixCell,
}

/// This client fell behind and missed events; a snapshot follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedEvent {
    pub missed: u64,
}

/// Several events in one message, in the order they happened; only to a client of
/// `EVENTS_PROTOCOL`. A batch never holds a snapshot, a dropped notice or another batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEvent {
    pub events: Vec<Event>,
}

/// `POST /api/presenter` (the body) and `Event::Presenter`: what the teacher's presenting
/// page shows, for the other pages to follow. `on: false` ends the presentation (then
/// `view` is absent and the selection empty). A page that connects while someone presents
/// gets the last state right after its snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenterEvent {
    pub on: bool,
    /// The part of the drawing on the presenter's screen; required when `on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<PresenterView>,
    #[serde(default)]
    pub selection: PresenterSelection,
}

/// The area of the drawing a presenter shows, in world units (the lab's coordinates), so
/// that a screen of another size shows the same area: its centre and its size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenterView {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The presenter's selection: nodes by name, links by index in the lab's `links`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenterSelection {
    #[serde(default)]
    pub nodes: Vec<String>,
    #[serde(default)]
    pub links: Vec<usize>,
}

impl PresenterEvent {
    /// The presentation ended.
    pub fn off() -> Self {
        PresenterEvent { on: false, view: None, selection: PresenterSelection::default() }
    }
}

/// `POST /api/ping`: ping from a node of the lab to an address or an interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingRequest {
    /// A namespace or host node of the lab.
    pub from: String,
    /// An address (`10.0.1.2`), or an interface of the lab as `NODE:INTERFACE` (its first
    /// address of the family of `family`, IPv4 by default).
    pub to: String,
    /// Probes to send; absent: until stopped, at most `MAX_PING_COUNT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Between probes, in milliseconds (at least 10; default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Which address of an interface target: `ipv4` (default) or `ipv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<crate::address::Family>,
}

/// A ping without a count still ends: after this many probes.
pub const MAX_PING_COUNT: u32 = 3600;

/// `POST /api/ping` answer: the ping's id (its samples come as `Event::Ping`), and what it
/// pings, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingStarted {
    pub id: u64,
    pub from: Netns,
    pub to: std::net::IpAddr,
}

/// `POST /api/matrix` answer: every pair, once the matrix is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixReport {
    pub id: u64,
    pub cells: Vec<MatrixCell>,
    pub elapsed_ms: f64,
    /// Why some pairs may show as unreachable that are not (see `neighbours::warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// How far one op of an apply or destroy has got: one event per op when it is done (or
/// failed, or undone), in plan order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpProgress {
    /// Position in the plan, from 0.
    pub index: usize,
    pub total: usize,
    /// The op as an iproute2 command.
    pub command: String,
    pub state: OpState,
    /// The kernel's reason, in words, when the op failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    Started,
    Done,
    Failed,
    /// Undone after a later op failed.
    Undone,
}

/// `Event::Terminal`: a terminal was opened on a node of the lab (`GET /api/terminal`), or
/// its shell ended, so that every page's log shows who has a shell where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalEvent {
    pub node: String,
    pub opened: bool,
}

/// `Event::Goals`: the lab's goals as last checked on the live kernel (after an apply, a
/// change in the kernel, an edit of the goals, or `POST /api/goals/check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalsEvent {
    /// The document's revision the goals were read from.
    pub revision: u64,
    pub checklist: crate::goals::Checklist,
}

/// `Event::Drill`, `GET /api/drill`: whether a break-it drill runs, how many of its
/// faults the kernel still shows, and once revealed, which they were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DrillStatus {
    pub active: bool,
    /// How many faults were injected.
    pub faults: usize,
    /// How many of them the kernel no longer shows (fixed by hand, or repaired).
    pub fixed: usize,
    /// The faults, once the teacher revealed them (empty before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revealed: Vec<RevealedFault>,
}

/// One fault of a drill, as revealed: what it broke, the commands that broke it, and
/// whether the kernel still shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealedFault {
    pub kind: crate::drill::FaultKind,
    pub what: String,
    pub commands: Vec<String>,
    pub fixed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DrillEvent {
    pub status: DrillStatus,
}

/// `GET /api/terminal?node=NAME`: the node whose namespace the shell runs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalQuery {
    pub node: String,
}

/// A text frame on a terminal's websocket (binary frames are the terminal's bytes): from
/// the page `{"resize":{"cols":120,"rows":40}}`, from the server `{"exit":{"code":0}}` (or
/// `{"exit":{"signal":9}}`) when the shell ended, just before it closes the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalControl {
    Resize(TerminalSize),
    Exit(TerminalExit),
}

/// A terminal's size in characters, as the window size ioctl takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSize {
    pub cols: u16,
    pub rows: u16,
}

/// How a terminal's shell ended: its exit code, or the signal that ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalExit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_as_its_events_in_order() {
        // The example in docs/api.md.
        let text = r#"{ "type": "batch", "events": [
  { "type": "progress", "run": "apply",
    "progress": { "index": 6, "total": 24, "command": "ip link add docker0 type bridge", "state": "done" } },
  { "type": "link", "change": "added",
    "link": { "netns": "host", "name": "docker0", "up": false, "oper_up": false, "owner": "seed-bridge" } },
  { "type": "progress", "run": "apply",
    "progress": { "index": 7, "total": 24, "command": "ip addr add 172.17.0.1/16 dev docker0", "state": "done" } } ] }"#;
        let batch: Event = serde_json::from_str(text).unwrap();
        let events = batch.clone().into_events();
        let kinds: Vec<String> =
            events.iter().map(|event| serde_json::to_value(event).unwrap()["type"].to_string()).collect();
        assert_eq!(kinds, [r#""progress""#, r#""link""#, r#""progress""#]);
        let Event::Link(LinkEvent { change: LinkChange::Added, link }) = &events[1] else { panic!("{events:?}") };
        assert_eq!((&link.netns, link.name.as_str()), (&Netns::Host, "docker0"));
        let Event::Progress(ProgressEvent { progress, .. }) = &events[2] else { panic!("{events:?}") };
        assert_eq!((progress.index, progress.state), (7, OpState::Done));
        // Written back, it is the same batch.
        assert_eq!(serde_json::from_str::<Event>(&serde_json::to_string(&batch).unwrap()).unwrap(), batch);
        let single = Event::PingFinished(PingFinishedEvent { id: 3 });
        assert_eq!(single.clone().into_events(), [single]);
    }

    #[test]
    fn terminal_control_messages_read_as_the_api_reference_writes_them() {
        let resize: TerminalControl = serde_json::from_str(r#"{"resize":{"cols":120,"rows":40}}"#).unwrap();
        assert_eq!(resize, TerminalControl::Resize(TerminalSize { cols: 120, rows: 40 }));
        let exit = TerminalControl::Exit(TerminalExit { code: Some(0), signal: None });
        assert_eq!(serde_json::to_string(&exit).unwrap(), r#"{"exit":{"code":0}}"#);
        let killed = TerminalControl::Exit(TerminalExit { code: None, signal: Some(9) });
        assert_eq!(serde_json::to_string(&killed).unwrap(), r#"{"exit":{"signal":9}}"#);
        let event = Event::Terminal(TerminalEvent { node: "ns1".into(), opened: true });
        assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"type":"terminal","node":"ns1","opened":true}"#);
    }
}
