//! The server's event stream: reconnects by itself (a snapshot on every connection brings
//! this editor back in step after a server restart) and turns events into state.

use futures::StreamExt;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use leptos::prelude::*;
use leptos::task::spawn_local;
use nslab_model::api::{
    BatchEvent, CountersEvent, DocumentEvent, DriftEvent, DrillEvent, DroppedEvent, Event, LinkChange, LinkEvent,
    MatrixEvent, NamespaceEvent, OpState, PingEvent, PingFinishedEvent, ProgressEvent, RunFinishedEvent, SnapshotEvent,
    EVENTS_PROTOCOL,
};

use nslab_model::identity::Netns;

use crate::describe::run_title;
use crate::editor::{Connection, Editor, RunState};
use crate::sync;

pub fn connect(editor: Editor) {
    spawn_local(async move {
        let mut wait_ms = 500;
        loop {
            editor.live.connection.set(Connection::Connecting);
            // Asking for batches: an apply's progress comes a tick's worth per message.
            if let Ok(socket) = WebSocket::open_with_protocol(&events_url(), EVENTS_PROTOCOL) {
                let (_, mut incoming) = socket.split();
                let mut opened = false;
                while let Some(Ok(Message::Text(text))) = incoming.next().await {
                    if !opened {
                        opened = true;
                        wait_ms = 500;
                        editor.live.connection.set(Connection::Live);
                    }
                    match crate::api::read_event(&text) {
                        Ok(event) => handle(editor, event),
                        Err(error) => editor.panels.log("error", format!("an event this editor cannot read: {error}")),
                    }
                }
            }
            editor.live.connection.set(Connection::Lost);
            sleep_ms(wait_ms).await;
            wait_ms = (wait_ms * 2).min(5000);
        }
    });
}

fn events_url() -> String {
    let location = web_sys::window().expect("a window").location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{}/api/events", location.host().unwrap_or_default())
}

pub(crate) async fn sleep_ms(ms: u32) {
    let (sender, receiver) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = sender.send(());
        },
        std::time::Duration::from_millis(ms.into()),
    );
    let _ = receiver.await;
}

fn handle(editor: Editor, event: Event) {
    match event {
        Event::Snapshot(SnapshotEvent {
            view,
            links,
            namespaces,
            owners,
            applied,
            drift,
            conflicts,
            missing,
            drift_hidden,
            goals,
            drill,
        }) => {
            // The kernel may have changed while this editor was not listening.
            editor.live.kernel_changed();
            let owner_of = |netns: &Netns| netns.name().and_then(|name| owners.get(name)).cloned();
            editor.live.present.set(namespaces.iter().map(|netns| (netns.clone(), owner_of(netns))).collect());
            editor.live.missing.set(missing);
            sync::received(editor, view);
            let links = links.into_iter().map(|link| ((link.netns.clone(), link.name.clone()), link)).collect();
            editor.set_live_links(links);
            editor.live.applied.set(applied);
            editor.live.drift.set(drift);
            editor.live.drift_hidden.set(drift_hidden);
            editor.live.goals.set(goals.map(|goals| *goals));
            editor.live.drill.set(drill.map(|drill| *drill));
            if !conflicts.is_empty() {
                editor.live.conflicts.set(conflicts);
            }
            editor.panels.log("info", "connected to the server");
        }
        Event::Document(DocumentEvent { view }) => sync::received(editor, view),
        Event::Progress(ProgressEvent { run, progress }) => {
            if progress.state == OpState::Done {
                editor.live.kernel_changed();
                editor.panels.push_commands([progress.command.clone()]);
            }
            editor.run.update(|state| {
                if !state.running {
                    *state = RunState { running: true, title: run_title(run).into(), ..RunState::default() };
                }
                match state.steps.iter_mut().find(|step| step.index == progress.index) {
                    Some(step) => *step = progress,
                    None => state.steps.push(progress),
                }
            });
        }
        Event::RunFinished(RunFinishedEvent { run, ok, message }) => {
            editor.live.kernel_changed();
            editor.run.update(|state| {
                state.running = false;
                state.outcome = Some((ok, message.clone()));
            });
            if ok {
                editor.live.conflicts.set(Vec::new());
            }
            editor.panels.log(
                if ok { "info" } else { "error" },
                format!("{} {}: {message}", run_title(run), if ok { "done" } else { "failed" }),
            );
        }
        Event::Link(LinkEvent { change, link }) => {
            editor.live.kernel_changed();
            let key = (link.netns.clone(), link.name.clone());
            let text = format!("{} `{}` in {}: {}", change_word(change), link.name, link.netns, state_word(&link));
            editor.set_live_link(key, (change != LinkChange::Removed).then_some(link));
            editor.panels.log("link", text);
        }
        Event::Namespace(NamespaceEvent { netns, present, owner }) => {
            editor.live.kernel_changed();
            editor.live.present.update(|all| {
                if present {
                    all.insert(netns.clone(), owner);
                } else {
                    all.remove(&netns);
                }
            });
            editor.panels.log("namespace", format!("{netns} {}", if present { "appeared" } else { "went away" }));
        }
        Event::Drift(DriftEvent { applied, ops, conflicts, missing, hidden }) => {
            editor.live.missing.set(missing);
            editor.live.drift_hidden.set(hidden);
            if applied && !ops.is_empty() {
                editor.panels.log(
                    "drift",
                    format!(
                        "the kernel differs from the lab: {} to re-apply",
                        crate::wording::counted(ops.len(), "change", "changes")
                    ),
                );
            }
            for conflict in &conflicts {
                editor.panels.log("drift", format!("in the lab's way: {}: {}", conflict.path, conflict.message));
            }
            // New drift, or drift gone, is the kernel changing (an address flushed or put
            // back by hand); the lab turning applied is an apply's, which says so itself.
            if editor.live.drift.with_untracked(|before| *before != ops)
                || editor.live.conflicts.with_untracked(|before| *before != conflicts)
            {
                editor.live.kernel_changed();
            }
            editor.live.applied.set(applied);
            editor.live.drift.set(ops);
            // What is in the lab's way now marks its nodes and links, as a refused apply
            // would; when the way is clear again the marks go.
            editor.live.conflicts.set(conflicts);
        }
        Event::Counters(CountersEvent { links }) => {
            editor.set_counters(links.into_iter().map(|c| ((c.netns.clone(), c.name.clone()), c)).collect());
        }
        // The newest ping is shown, whichever browser started it (students watch the
        // teacher's); its first answer may come before the answer to our own start.
        Event::Ping(PingEvent { id, sample }) => editor.panels.ping.update(|ping| match ping {
            Some((current, samples)) if *current == id => samples.push(sample),
            Some((current, _)) if *current > id => {}
            _ => *ping = Some((id, vec![sample])),
        }),
        Event::PingFinished(PingFinishedEvent { id }) => {
            editor.record_ping_end(id);
            editor.panels.log("ping", format!("ping {id} ended"));
        }
        Event::Matrix(MatrixEvent { id, cell }) => editor.record_matrix_cell(id, cell),
        Event::Dropped(DroppedEvent { missed }) => {
            editor.panels.log("info", format!("missed {missed} events; catching up"))
        }
        Event::Presenter(event) => crate::presenter::received(editor, event),
        Event::Terminal(event) => editor.panels.log("terminal", crate::terminal_dock::log_line(&event)),
        Event::Goals(event) => {
            let checklist = &event.checklist;
            editor.panels.log("goals", format!("{} of {} met", checklist.met_count(), checklist.goals.len()));
            editor.live.goals.set(Some(event));
        }
        Event::Drill(DrillEvent { status }) => {
            editor.panels.log("drill", drill_line(&status));
            editor.live.drill.set(Some(status));
        }
        // Events that came in a burst, each applied as if it had come alone, in order.
        Event::Batch(BatchEvent { events }) => {
            for event in events {
                handle(editor, event);
            }
        }
    }
}

/// "drill: 2 of 3 faults fixed", "drill over: all 3 faults fixed".
fn drill_line(status: &nslab_model::api::DrillStatus) -> String {
    let faults = crate::wording::counted(status.faults, "fault", "faults");
    match (status.active, status.revealed.is_empty()) {
        (true, true) => format!("a drill runs: {} of {faults} fixed", status.fixed),
        (true, false) => format!("the drill's {faults} revealed: {} fixed", status.fixed),
        (false, _) => format!("the drill is over: {faults} repaired"),
    }
}

fn change_word(change: LinkChange) -> &'static str {
    match change {
        LinkChange::Added => "new",
        LinkChange::Changed => "changed",
        LinkChange::Removed => "removed",
    }
}

fn state_word(link: &nslab_model::api::LiveLink) -> &'static str {
    match (link.up, link.oper_up) {
        (true, true) => "up",
        (true, false) => "up, no carrier",
        _ => "down",
    }
}
