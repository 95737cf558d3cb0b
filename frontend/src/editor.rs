//! The editor's state, shared through context, in parts: the document and its history
//! (`Document`), what the user looks at (`View`: the selection, the viewport, node
//! positions), what the server says of the kernel (`Live`), the apply or destroy under way
//! (`run`), and the panels' contents (`Panels`). Each part is a few signals, `Copy` like
//! the editor itself.
//!
//! Node positions also live in one signal per node, so that dragging a node re-renders
//! that node and its edges only; the document takes the new position when the drag ends.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use leptos::prelude::*;
use nslab_model::api::{LinkCounters, LiveLink, OpProgress, PlannedOp, RunKind};
use nslab_model::edit::{self, Card, History, Point, Selection};
use nslab_model::identity::{LinkRef, Netns};
use nslab_model::ping::{MatrixCell, PingSample};
use nslab_model::plan::Conflict;
use nslab_model::{validate, Lab, Link, Node, Problem};

use crate::geometry::{node_point, Viewport};

/// How the connection to the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    /// Lost; retrying.
    Lost,
}

/// A line of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub seq: u64,
    pub text: String,
    pub kind: &'static str,
}

/// A change the server refused because someone else changed the lab first.
#[derive(Debug, Clone, PartialEq)]
pub struct EditConflict {
    pub theirs: Lab,
    pub revision: u64,
}

/// An apply or destroy under way or just finished.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunState {
    pub running: bool,
    pub title: String,
    pub steps: Vec<OpProgress>,
    pub outcome: Option<(bool, String)>,
    /// The processes a refused run would have to end, and that run (see
    /// `api::run_ending_processes`).
    pub in_use: Option<(RunKind, Vec<String>)>,
}

/// One cell of the reachability matrix: unknown until its answer arrives.
type CellSignal = RwSignal<Option<MatrixReading>>;

/// A matrix cell's answer and the kernel's state it was read from (see `Live::kernel_epoch`).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixReading {
    pub cell: MatrixCell,
    pub epoch: u64,
}

/// A message for the user that is not tied to a field, and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub kind: NoticeKind,
}

/// What a notice is about, which says who takes it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Something that went wrong, for the user to read (a refused file, a failed run): the user takes it
    /// back, or a later notice replaces it.
    Error,
    /// An edit has not reached the server and is being sent again: the next send that goes
    /// through takes it back.
    NotSavedYet,
    /// Something to know that needs nothing done (what an import left out): the user takes it
    /// back, or a later notice replaces it.
    Info,
}

/// The document as this editor has it, its history, and how it stands with the server's.
#[derive(Clone, Copy)]
pub struct Document {
    pub lab: RwSignal<Lab>,
    /// The server revision `lab` is based on.
    pub revision: RwSignal<u64>,
    /// Local edits not yet accepted by the server.
    pub unsaved: RwSignal<bool>,
    pub problems: Memo<Vec<Problem>>,
    /// Where each link's ends live, worked out once per change of the lab.
    pub link_places: Memo<Vec<Option<[LinkRef; 2]>>>,
    /// Each node with its index in the lab, by name, and each link: what the view of one
    /// node or link reads, rather than the lab. Each change of the lab (a node moved) then
    /// re-runs one reader of the lab per kind of part, not three per node: with thousands
    /// of readers, each of them leaving the lab's list of readers and joining it again cost
    /// time quadratic in their number.
    pub nodes: Memo<HashMap<String, (usize, Node)>>,
    pub links: Memo<Vec<Link>>,
    pub lab_name: Memo<String>,
    /// Every node's card (its interface rows and size), by name, once per change of the lab.
    pub cards: Memo<HashMap<String, Card>>,
    pub history: StoredValue<History>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
    /// The server refused an edit because someone else changed the lab first.
    pub conflict: RwSignal<Option<EditConflict>>,
    /// Fields whose text cannot go into the lab at all (an MTU of `abc`), by document
    /// path, with the sentence to show: the lab keeps its last value, Apply waits.
    pub unreadable: RwSignal<BTreeMap<String, String>>,
    /// The lab as this browser last opened, made new or saved to a file: the drawing has
    /// changes a new lab would put away when it differs. None: as the page found it.
    pub kept: RwSignal<Option<Lab>>,
    /// The bundled example the document was opened from, for the examples list to show.
    pub example: RwSignal<Option<&'static str>>,
}

impl Document {
    fn new() -> Self {
        let lab = RwSignal::new(Lab::new("loading"));
        Document {
            lab,
            revision: RwSignal::new(0),
            unsaved: RwSignal::new(false),
            problems: Memo::new(move |_| lab.with(validate)),
            link_places: Memo::new(move |_| lab.with(crate::describe::link_places)),
            nodes: Memo::new(move |_| {
                lab.with(|lab| {
                    lab.nodes.iter().enumerate().map(|(i, n)| (n.name().to_string(), (i, n.clone()))).collect()
                })
            }),
            links: Memo::new(move |_| lab.with(|lab| lab.links.clone())),
            lab_name: Memo::new(move |_| lab.with(|lab| lab.name.clone())),
            cards: Memo::new(move |_| lab.with(edit::cards)),
            history: StoredValue::new(History::new(Lab::new("loading"))),
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
            conflict: RwSignal::new(None),
            unreadable: RwSignal::new(BTreeMap::new()),
            kept: RwSignal::new(None),
            example: RwSignal::new(None),
        }
    }

    pub fn problems_at(&self, prefix: &str) -> Vec<Problem> {
        let prefix = nslab_model::DocPath::from(prefix);
        self.problems.with(|problems| problems.iter().filter(|p| p.path.starts_with(&prefix)).cloned().collect())
    }
}

/// What the user looks at: the selection, the viewport, where nodes are drawn, and what
/// is highlighted.
#[derive(Clone, Copy)]
pub struct View {
    pub selection: RwSignal<Selection>,
    pub viewport: RwSignal<Viewport>,
    /// One position signal per node (see the module comment and `Editor::position`).
    positions: StoredValue<HashMap<String, RwSignal<Point>>>,
    /// Interfaces highlighted on the canvas (a matrix cell's path).
    pub highlight: RwSignal<Vec<String>>,
    /// The nodes of an explanation's failing hop, drawn red while highlighted.
    pub failing: RwSignal<Vec<String>>,
    /// The interfaces (node, name) the explanation's current hop crosses.
    pub crossed: RwSignal<Vec<(String, String)>>,
}

impl View {
    fn new() -> Self {
        View {
            selection: RwSignal::new(Selection::default()),
            viewport: RwSignal::new(Viewport::default()),
            positions: StoredValue::new(HashMap::new()),
            highlight: RwSignal::new(Vec::new()),
            failing: RwSignal::new(Vec::new()),
            crossed: RwSignal::new(Vec::new()),
        }
    }
}

/// An interface as the kernel names it: its namespace and its name.
pub type InterfaceKey = (Netns, String);

/// One signal per interface, for what the kernel says of it.
type Slots<T> = StoredValue<HashMap<InterfaceKey, RwSignal<Option<T>>>>;

/// What the server says of the kernel, and of the connection to it.
#[derive(Clone, Copy)]
pub struct Live {
    pub connection: RwSignal<Connection>,
    /// Interfaces as the kernel has them, by (namespace, name).
    pub links: RwSignal<BTreeMap<(Netns, String), LiveLink>>,
    pub counters: RwSignal<HashMap<(Netns, String), LinkCounters>>,
    /// One signal per interface a view shows, kept equal to its entry in `links` (see
    /// `Editor::interface`).
    interfaces: Slots<LiveLink>,
    /// The same for `counters`.
    traffic: Slots<LinkCounters>,
    pub applied: RwSignal<bool>,
    /// Namespaces the kernel has now, each with the lab whose mark it carries (none: made
    /// by hand).
    pub present: RwSignal<BTreeMap<Netns, Option<String>>>,
    /// The lab's namespaces as last applied that the kernel no longer holds (deleted from
    /// outside): drawn as missing, not as never applied.
    pub missing: RwSignal<Vec<String>>,
    pub drift: RwSignal<Vec<PlannedOp>>,
    /// What in the kernel is in the lab's way, as the server said when it refused to plan or
    /// apply: shown on the parts of the lab they are about, until a run goes through.
    pub conflicts: RwSignal<Vec<Conflict>>,
    /// A drill runs and the server withholds the drift (students find the faults).
    pub drift_hidden: RwSignal<bool>,
    /// The lab's goals as last checked on the kernel.
    pub goals: RwSignal<Option<nslab_model::api::GoalsEvent>>,
    /// The break-it drill, once one was started.
    pub drill: RwSignal<Option<nslab_model::api::DrillStatus>>,
    /// How many times the kernel was seen to change since a result (a matrix cell, a
    /// finished ping) was read: a result read at an older epoch is stale.
    pub kernel_epoch: RwSignal<u64>,
    /// Whether a result was read at the current epoch: only then does a change of the
    /// kernel need a new epoch (a burst of link events makes one, not hundreds).
    results_at_epoch: StoredValue<bool>,
}

impl Live {
    fn new() -> Self {
        Live {
            connection: RwSignal::new(Connection::Connecting),
            links: RwSignal::new(BTreeMap::new()),
            counters: RwSignal::new(HashMap::new()),
            interfaces: StoredValue::new(HashMap::new()),
            traffic: StoredValue::new(HashMap::new()),
            applied: RwSignal::new(false),
            present: RwSignal::new(BTreeMap::new()),
            missing: RwSignal::new(Vec::new()),
            drift: RwSignal::new(Vec::new()),
            drift_hidden: RwSignal::new(false),
            goals: RwSignal::new(None),
            drill: RwSignal::new(None),
            conflicts: RwSignal::new(Vec::new()),
            kernel_epoch: RwSignal::new(0),
            results_at_epoch: StoredValue::new(false),
        }
    }

    /// The kernel changed (a link, a namespace, an address, a run): results read before
    /// are stale from now on.
    pub fn kernel_changed(&self) {
        if self.results_at_epoch.get_value() {
            self.results_at_epoch.set_value(false);
            self.kernel_epoch.update(|epoch| *epoch += 1);
        }
    }

    /// The epoch a result read now belongs to.
    pub fn result_read(&self) -> u64 {
        self.results_at_epoch.set_value(true);
        self.kernel_epoch.get_untracked()
    }

    /// The messages of the kernel conflicts about `prefix` and what is below it.
    pub fn conflicts_at(&self, prefix: &str) -> Vec<String> {
        let prefix = nslab_model::DocPath::from(prefix);
        self.conflicts.with(|conflicts| {
            conflicts.iter().filter(|c| c.path.starts_with(&prefix)).map(|c| c.message.clone()).collect()
        })
    }
}

/// What the panels, the help and the notice banner show.
#[derive(Clone, Copy)]
pub struct Panels {
    /// The teaching view: the iproute2 commands of every edit and applied op.
    pub commands: RwSignal<Vec<String>>,
    pub log: RwSignal<Vec<LogLine>>,
    pub ping: RwSignal<Option<(u64, Vec<PingSample>)>>,
    /// The address the ping shown goes to, when this editor started it: (ping id, address).
    pub ping_target: RwSignal<Option<(u64, IpAddr)>>,
    /// The ping shown ended: (ping id, the kernel epoch it ended at).
    pub ping_ended: RwSignal<Option<(u64, u64)>>,
    /// The reachability matrix: a signal per cell (source, target), made on first use, so a
    /// cell arriving redraws its own table cell only. (With one list that every table cell
    /// watched, a matrix of 900 cells took 21 s to fill in the browser.)
    matrix: StoredValue<HashMap<(Netns, IpAddr), CellSignal>>,
    /// The oldest epoch of the matrix's answers, None while it has none: the matrix is
    /// stale when it is older than the kernel's (without reading every cell).
    pub matrix_oldest: RwSignal<Option<u64>>,
    /// The id of the matrix run whose answers are shown (any browser's).
    matrix_run: StoredValue<Option<u64>>,
    pub help_open: RwSignal<bool>,
    /// The banner's message for the user that is not tied to a field (see `Notice`).
    pub notice: RwSignal<Option<Notice>>,
    /// The document paths whose problems the inspector shows now: each problem is shown
    /// in one place, there or else in the problems list.
    pub inspected: RwSignal<Vec<String>>,
    /// The confirmation asked now, if any (see `dialog`).
    pub question: RwSignal<Option<crate::dialog::Question>>,
    /// The "why?" explanation shown, and its current hop.
    pub explaining: crate::explain_panel::Explaining,
}

impl Panels {
    fn new() -> Self {
        Panels {
            commands: RwSignal::new(Vec::new()),
            log: RwSignal::new(Vec::new()),
            ping: RwSignal::new(None),
            ping_target: RwSignal::new(None),
            ping_ended: RwSignal::new(None),
            matrix: StoredValue::new(HashMap::new()),
            matrix_oldest: RwSignal::new(None),
            matrix_run: StoredValue::new(None),
            help_open: RwSignal::new(false),
            notice: RwSignal::new(None),
            inspected: RwSignal::new(Vec::new()),
            question: RwSignal::new(None),
            explaining: crate::explain_panel::Explaining::new(),
        }
    }

    /// Whether the inspector shows the problems at `path`.
    pub fn inspects(&self, path: &str) -> bool {
        let path = nslab_model::DocPath::from(path);
        self.inspected
            .with(|shown| shown.iter().any(|prefix| path.starts_with(&nslab_model::DocPath::from(prefix.as_str()))))
    }

    /// Adds lines to the teaching view, which keeps the last `COMMAND_LINES`.
    pub fn push_commands(&self, lines: impl IntoIterator<Item = String>) {
        self.commands.update(|all| {
            all.extend(lines);
            let excess = all.len().saturating_sub(COMMAND_LINES);
            all.drain(..excess);
        });
    }

    pub fn log(&self, kind: &'static str, text: impl Into<String>) {
        self.log.update(|log| {
            let seq = log.last().map_or(0, |line| line.seq + 1);
            log.push(LogLine { seq, text: text.into(), kind });
            if log.len() > LOG_LINES {
                log.remove(0);
            }
        });
    }

    /// Tells the user something (see `NoticeKind::Error`).
    pub fn notify(&self, text: impl Into<String>) {
        self.show_notice(NoticeKind::Error, text);
    }

    pub fn show_notice(&self, kind: NoticeKind, text: impl Into<String>) {
        self.notice.set(Some(Notice { text: text.into(), kind }));
    }

    /// Takes back the notice shown if it is of `kind` (and leaves any other).
    pub fn take_back(&self, kind: NoticeKind) {
        if self.notice.with_untracked(|notice| notice.as_ref().is_some_and(|notice| notice.kind == kind)) {
            self.notice.set(None);
        }
    }

    pub fn clear_notice(&self) {
        self.notice.set(None);
    }
}

#[derive(Clone, Copy)]
pub struct Editor {
    pub doc: Document,
    pub view: View,
    pub live: Live,
    /// An apply or destroy under way or just finished.
    pub run: RwSignal<RunState>,
    pub panels: Panels,
    /// Presenter mode, and the presenter this page follows (see `presenter.rs`).
    pub presenter: crate::presenter::Presenter,
    /// The editor's own reactive owner: position and matrix cell signals belong to it, not
    /// to whichever view asked first, so that they outlive a view that goes (a node of the
    /// lab that was open before an import) while another view still reads them.
    owner: StoredValue<Owner>,
}

/// Lines the teaching view keeps.
const COMMAND_LINES: usize = 2000;

/// Lines the event log keeps.
const LOG_LINES: usize = 300;

impl Editor {
    pub fn new() -> Self {
        Editor {
            doc: Document::new(),
            view: View::new(),
            live: Live::new(),
            run: RwSignal::new(RunState::default()),
            panels: Panels::new(),
            presenter: crate::presenter::Presenter::new(),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        }
    }

    /// The signal of the matrix cell `source` -> `target`, made on first use.
    pub fn matrix_cell(&self, source: &Netns, target: IpAddr) -> CellSignal {
        self.signal_in(self.panels.matrix, (source.clone(), target), || None)
    }

    /// A cell of matrix run `run` arrived. The first of a newer run (this browser's or
    /// another's) takes the place of the older run's answers; a late one of an older run
    /// is dropped.
    pub fn record_matrix_cell(&self, run: u64, cell: MatrixCell) {
        match self.panels.matrix_run.get_value() {
            Some(shown) if shown > run => return,
            Some(shown) if shown == run => {}
            _ => {
                self.clear_matrix();
                self.panels.matrix_run.set_value(Some(run));
            }
        }
        let epoch = self.live.result_read();
        if self.panels.matrix_oldest.get_untracked().is_none() {
            self.panels.matrix_oldest.set(Some(epoch));
        }
        self.matrix_cell(&cell.source, cell.target).set(Some(MatrixReading { cell, epoch }));
    }

    /// A new matrix begins: every cell is unknown again.
    pub fn clear_matrix(&self) {
        self.panels.matrix.with_value(|cells| cells.values().for_each(|cell| cell.set(None)));
        self.panels.matrix_oldest.set(None);
    }

    /// The ping `id` ended; if it is the one shown, its summary is as of now.
    pub fn record_ping_end(&self, id: u64) {
        if self.panels.ping.with_untracked(|ping| ping.as_ref().is_some_and(|(shown, _)| *shown == id)) {
            let epoch = self.live.result_read();
            self.panels.ping_ended.set(Some((id, epoch)));
        }
    }

    /// The position signal of a node, made on first use from the document.
    pub fn position(&self, name: &str) -> RwSignal<Point> {
        let lab = self.doc.lab;
        self.signal_in(self.view.positions, name.to_string(), || lab.with_untracked(|lab| node_point(lab, name)))
    }

    /// The signal under `key` in `signals`, made from `first` on first use. Such signals
    /// belong to the editor's owner, not to whichever view asked first.
    fn signal_in<K: Eq + std::hash::Hash + Send + Sync + 'static, T: Send + Sync + 'static>(
        &self,
        signals: StoredValue<HashMap<K, RwSignal<T>>>,
        key: K,
        first: impl FnOnce() -> T,
    ) -> RwSignal<T> {
        if let Some(signal) = signals.with_value(|signals| signals.get(&key).copied()) {
            return signal;
        }
        let signal = self.owner.with_value(|owner| owner.with(|| RwSignal::new(first())));
        signals.update_value(|signals| {
            signals.insert(key, signal);
        });
        signal
    }

    /// What the kernel says of one interface (None when `key` is), as a memo. A view of one
    /// interface reads this rather than the whole map: it then re-runs only when that
    /// interface changes. With one reader of the map per attribute, every reading of the
    /// kernel cost time quadratic in their number (thousands at 300 nodes).
    pub fn interface(&self, key: impl Fn() -> Option<InterfaceKey> + Send + Sync + 'static) -> Memo<Option<LiveLink>> {
        let links = self.live.links;
        self.slot_memo(self.live.interfaces, key, move |key| links.with_untracked(|links| links.get(key).cloned()))
    }

    /// An interface's traffic, as a memo (see `interface`).
    pub fn traffic(
        &self,
        key: impl Fn() -> Option<InterfaceKey> + Send + Sync + 'static,
    ) -> Memo<Option<LinkCounters>> {
        let counters = self.live.counters;
        self.slot_memo(self.live.traffic, key, move |key| counters.with_untracked(|all| all.get(key).cloned()))
    }

    /// The memo of the slot under `key()` in `slots`, the slot made from `now` on first use.
    fn slot_memo<T: Clone + PartialEq + Send + Sync + 'static>(
        &self,
        slots: Slots<T>,
        key: impl Fn() -> Option<InterfaceKey> + Send + Sync + 'static,
        now: impl Fn(&InterfaceKey) -> Option<T> + Send + Sync + 'static,
    ) -> Memo<Option<T>> {
        let editor = *self;
        Memo::new(move |_| {
            let key = key()?;
            editor.signal_in(slots, key.clone(), || now(&key)).get()
        })
    }

    /// Replaces what the kernel's interfaces are, and tells the views of those that changed.
    pub fn set_live_links(&self, links: BTreeMap<InterfaceKey, LiveLink>) {
        self.live.links.set(links);
        self.live.links.with_untracked(|links| refresh(self.live.interfaces, |key| links.get(key)));
    }

    /// One interface changed (`None`: it is gone): the map and that interface's views only.
    pub fn set_live_link(&self, key: InterfaceKey, link: Option<LiveLink>) {
        let slot = self.live.interfaces.with_value(|slots| slots.get(&key).copied());
        self.live.links.update(|links| match &link {
            Some(link) => {
                links.insert(key, link.clone());
            }
            None => {
                links.remove(&key);
            }
        });
        if let Some(slot) = slot.filter(|slot| slot.with_untracked(|old| *old != link)) {
            slot.set(link);
        }
    }

    /// Replaces the interfaces' traffic, and tells the views of those that changed.
    pub fn set_counters(&self, counters: HashMap<InterfaceKey, LinkCounters>) {
        self.live.counters.set(counters);
        self.live.counters.with_untracked(|counters| refresh(self.live.traffic, |key| counters.get(key)));
    }

    /// Brings every position signal in line with the document (after an edit, an undo, a
    /// change from another browser).
    pub fn sync_positions(&self) {
        self.doc.lab.with_untracked(|lab| {
            self.view.positions.update_value(|positions| {
                let mut kept = HashMap::with_capacity(positions.len());
                for node in &lab.nodes {
                    if let Some(signal) = positions.remove(node.name()) {
                        let at = edit::position(node).unwrap_or(Point::ORIGIN);
                        if signal.get_untracked() != at {
                            signal.set(at);
                        }
                        kept.insert(node.name().to_string(), signal);
                    }
                }
                *positions = kept;
            });
        });
    }
}

/// Sets each signal in `slots` whose value is no longer what `now` says of its key.
fn refresh<'a, T: Clone + PartialEq + Send + Sync + 'static>(
    slots: Slots<T>,
    now: impl Fn(&InterfaceKey) -> Option<&'a T>,
) {
    slots.with_value(|slots| {
        for (key, slot) in slots {
            let value = now(key);
            if slot.with_untracked(|old| old.as_ref() != value) {
                slot.set(value.cloned());
            }
        }
    });
}

pub fn use_editor() -> Editor {
    use_context::<Editor>().expect("the editor is provided by App")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_takes_back_only_the_notice_that_it_was_not_saved_yet() {
        Owner::new().with(|| {
            let panels = Panels::new();
            panels.show_notice(NoticeKind::NotSavedYet, "not saved yet, retrying: offline");
            panels.take_back(NoticeKind::NotSavedYet);
            assert_eq!(panels.notice.get_untracked(), None);
            // Whatever its wording, a message for the user stays until the user takes it back.
            panels.notify("not saved yet.json was not opened: not a lab");
            panels.take_back(NoticeKind::NotSavedYet);
            let kept = panels.notice.get_untracked().expect("still shown");
            assert_eq!(
                (kept.text.as_str(), kept.kind),
                ("not saved yet.json was not opened: not a lab", NoticeKind::Error)
            );
            panels.clear_notice();
            assert_eq!(panels.notice.get_untracked(), None);
        });
    }

    #[test]
    fn the_log_and_the_teaching_view_keep_their_last_lines() {
        Owner::new().with(|| {
            let panels = Panels::new();
            for line in 0..LOG_LINES + 5 {
                panels.log("info", format!("line {line}"));
            }
            let log = panels.log.get_untracked();
            assert_eq!(log.len(), LOG_LINES);
            assert_eq!(log.last().map(|line| (line.seq, line.text.as_str())), Some((304, "line 304")));
            panels.push_commands((0..COMMAND_LINES + 1).map(|n| n.to_string()));
            let commands = panels.commands.get_untracked();
            assert_eq!((commands.len(), commands[0].as_str()), (COMMAND_LINES, "1"));
        });
    }
}
