//! The live view: what the kernel holds, kept current from netlink events in every
//! namespace, streamed to the clients as link, namespace, drift and counter events.
//!
//! Link events go out as they arrive. After a burst of events settles (`SETTLE`), the
//! kernel is read again and planned against the document: the result is the drift (what
//! re-applying would do), sent when it changes. Namespaces are noticed by listing
//! /run/netns twice a second; a deleted one's subscription is dropped at once so that our
//! socket does not keep it alive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nslab_model::api::{
    CountersEvent, DriftEvent, DrillEvent, Event, LinkChange, LinkCounters, LinkEvent, LiveLink, NamespaceEvent,
    PlannedOp,
};
use nslab_model::identity::Netns;
use nslab_model::observed::Observed;
use nslab_model::plan::{is_gone, plan, Conflict, PlanOptions};
use tokio::sync::mpsc;

use super::AppState;
use crate::kernel::netns::list_named;
use crate::kernel::observe::Counters;
use crate::kernel::watch::WatchEvent;

/// Quiet time after the last event before the kernel is read again.
const SETTLE: Duration = Duration::from_millis(100);
const NAMESPACE_SCAN: Duration = Duration::from_millis(500);
const COUNTERS_EVERY: Duration = Duration::from_secs(1);

/// Finishes a run that died before this server started (see `Engine::finish_interrupted`),
/// so that the first reading shows the lab as its own and not as a conflict. A run under
/// way finishes it itself.
async fn finish_interrupted(state: &AppState) {
    let _kernel = state.kernel_access.lock().await;
    match state.engine.finish_interrupted_if_idle().await {
        Ok(None) => {}
        Ok(Some(finished)) => tracing::info!("{finished}"),
        Err(error) => tracing::warn!("{error}"),
    }
}

/// What the clients are shown of the kernel.
#[derive(Debug, Default)]
pub struct LiveState {
    pub links: BTreeMap<(Netns, String), LiveLink>,
    /// When each link last changed by an event: a reading of the kernel that began before
    /// that must not undo it (the reading may have seen the link as it was).
    event_at: HashMap<(Netns, String), Instant>,
    /// Each namespace with the lab whose mark it carries (none: made by hand).
    pub namespaces: BTreeMap<Netns, Option<String>>,
    pub applied: bool,
    pub drift: Vec<PlannedOp>,
    /// What in the kernel is in the lab's way (then `drift` is empty).
    pub conflicts: Vec<Conflict>,
    /// The lab's namespaces as last applied that the kernel no longer holds.
    pub missing: Vec<String>,
}

impl LiveState {
    pub fn links(&self) -> Vec<LiveLink> {
        self.links.values().cloned().collect()
    }

    /// The lab whose mark each marked named namespace carries.
    pub fn owners(&self) -> BTreeMap<String, String> {
        self.namespaces.iter().filter_map(|(netns, owner)| Some((netns.name()?.to_string(), owner.clone()?))).collect()
    }

    /// Replaces everything with a fresh reading of the kernel, begun at `read_at`, and says
    /// what changed (events can be missed: a namespace made a moment before its
    /// subscription, an overflow). Links changed by events since `read_at` keep what the
    /// events said.
    fn refresh(&mut self, observed: &Observed, read_at: Instant) -> Vec<(LinkChange, LiveLink)> {
        self.namespaces =
            observed.namespaces.iter().map(|(netns, namespace)| (netns.clone(), namespace.owner.clone())).collect();
        let mut fresh: BTreeMap<(Netns, String), LiveLink> = observed
            .namespaces
            .iter()
            .flat_map(|(netns, namespace)| {
                namespace.links.iter().map(move |(name, link)| {
                    let live = LiveLink {
                        netns: netns.clone(),
                        name: name.clone(),
                        up: link.up,
                        oper_up: link.oper_up,
                        owner: link.owner.clone(),
                        addresses: without_link_local(&link.addresses),
                    };
                    ((netns.clone(), name.clone()), live)
                })
            })
            .collect();
        for (key, at) in &self.event_at {
            if *at >= read_at {
                match self.links.get(key) {
                    Some(link) => fresh.insert(key.clone(), link.clone()),
                    None => fresh.remove(key),
                };
            }
        }
        self.event_at.retain(|_, at| *at >= read_at);
        let mut changes = Vec::new();
        for (key, link) in &fresh {
            match self.links.get(key) {
                None => changes.push((LinkChange::Added, link.clone())),
                Some(before) if before != link => changes.push((LinkChange::Changed, link.clone())),
                Some(_) => {}
            }
        }
        for (key, link) in &self.links {
            if !fresh.contains_key(key) {
                changes.push((LinkChange::Removed, link.clone()));
            }
        }
        self.links = fresh;
        changes
    }
}

pub async fn run(state: Arc<AppState>) {
    finish_interrupted(&state).await;
    let (sender, mut events) = mpsc::channel::<(Netns, WatchEvent)>(16 * 1024);
    let mut scan = tokio::time::interval(NAMESPACE_SCAN);
    let mut counters = tokio::time::interval(COUNTERS_EVERY);
    let previous: Arc<tokio::sync::Mutex<LastCounters>> = Arc::default();
    let mut settle_at: Option<Instant> = Some(Instant::now());
    // Readings of the whole kernel run beside this loop, so link events keep flowing while
    // hundreds of namespaces are read; one reading at a time, and `refreshed` says whether
    // it could run (it waits for no apply).
    let (refreshed, mut refresh_done) = mpsc::channel::<bool>(1);
    let mut refreshing = false;
    loop {
        let settle = async {
            match settle_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = scan.tick() => {
                if sync_watches(&state, &sender).await {
                    settle_at = Some(Instant::now() + SETTLE);
                }
            }
            Some((netns, event)) = events.recv() => {
                note_event(&state, netns, event).await;
                settle_at = Some(Instant::now() + SETTLE);
            }
            _ = counters.tick() => {
                let (state, previous) = (state.clone(), previous.clone());
                tokio::spawn(async move {
                    // A reading still going on (a slow kernel) makes this tick skip.
                    let Ok(mut previous) = previous.try_lock() else { return };
                    send_counters(&state, &mut previous).await;
                });
            }
            // An apply or destroy just ended: new namespaces need watching now, not at the
            // next scan, or the first changes in them would go unseen.
            _ = state.kernel_changed.notified() => {
                sync_watches(&state, &sender).await;
                settle_at = Some(Instant::now() + SETTLE);
            }
            // An edit: what applying the document would do is worked out again.
            _ = state.document_changed.notified() => {
                settle_at = Some(Instant::now() + SETTLE);
            }
            _ = settle, if !refreshing => {
                refreshing = true;
                settle_at = None;
                let (state, refreshed) = (state.clone(), refreshed.clone());
                tokio::spawn(async move {
                    let _ = refreshed.send(refresh(&state).await).await;
                });
            }
            Some(ran) = refresh_done.recv() => {
                refreshing = false;
                if !ran && settle_at.is_none() {
                    settle_at = Some(Instant::now() + SETTLE);
                }
            }
        }
    }
}

/// Subscribes to new namespaces and drops the deleted ones. True when something changed.
async fn sync_watches(state: &AppState, sender: &mpsc::Sender<(Netns, WatchEvent)>) -> bool {
    let Ok(names) = list_named() else { return false };
    let mut watches = state.watches.lock().await;
    // During a run, namespaces come and go: those it makes are watched when it ends (it
    // notifies `kernel_changed`), and those a destroy released must not be taken again.
    let adding = !state.running.load(std::sync::atomic::Ordering::SeqCst);
    let present: BTreeSet<Netns> = std::iter::once(Netns::Host).chain(names.into_iter().map(Netns::Named)).collect();
    let gone: Vec<Netns> = watches.keys().filter(|netns| !present.contains(netns)).cloned().collect();
    let mut changed = false;
    for netns in gone {
        watches.remove(&netns);
        // Deleted by someone else: our sockets in it (pings) must not keep it alive.
        super::pings::release(state, std::slice::from_ref(&netns)).await;
        // Said once: a reading may have said it already.
        if state.live.write().await.namespaces.remove(&netns).is_some() {
            state.bus.send(&Event::Namespace(NamespaceEvent { netns, present: false, owner: None }));
        }
        changed = true;
    }
    let new: Vec<Netns> = present.iter().filter(|netns| adding && !watches.contains_key(netns)).cloned().collect();
    for netns in &new {
        let Ok((watch, mut stream)) = state.engine.kernel().watch(netns).await else { continue };
        let (sender, place) = (sender.clone(), netns.clone());
        tokio::spawn(async move {
            while let Some(event) = stream.next().await {
                if sender.send((place.clone(), event)).await.is_err() {
                    return;
                }
            }
        });
        // Clients learn of it from the reading this change starts, with the lab whose mark
        // it carries: said now, it would show as no lab's for a moment. It is known from
        // now on all the same, so that its going (a destroy right after an apply) is said.
        watches.insert(netns.clone(), watch);
        state.live.write().await.namespaces.entry(netns.clone()).or_insert(None);
        changed = true;
    }
    changed
}

async fn note_event(state: &AppState, netns: Netns, event: WatchEvent) {
    let WatchEvent::Link { name, up, oper_up, owner, removed } = event else { return };
    if name.is_empty() || name == "lo" {
        return;
    }
    let mut live = state.live.write().await;
    let key = (netns.clone(), name.clone());
    // Link events do not carry addresses: they stay as the last reading saw them.
    let addresses = live.links.get(&key).map(|link| link.addresses.clone()).unwrap_or_default();
    let link = LiveLink { netns, name, up, oper_up, owner, addresses };
    live.event_at.insert(key.clone(), Instant::now());
    let change = if removed {
        live.links.remove(&key);
        LinkChange::Removed
    } else {
        match live.links.insert(key, link.clone()) {
            None => LinkChange::Added,
            Some(before) if before == link => return,
            Some(_) => LinkChange::Changed,
        }
    };
    // Sent under the lock: a reading's changes sent meanwhile cannot overtake it.
    state.bus.send(&Event::Link(LinkEvent { change, link }));
}

/// Stops watching `doomed` (a run is about to delete them): the watch's socket would keep
/// each namespace, and the veths it holds, alive until the next scan noticed it gone. The
/// watches go when the run has ended: closed beside its unmounts, on another thread, their
/// sockets would slow those (see `kernel::teardown`: a 1000-namespace chain's unmounts took
/// 22-32 ms so, 11 ms with the sockets closed after them).
pub async fn release(state: &AppState, doomed: &[Netns]) {
    let mut watches = state.watches.lock().await;
    let stopping: Vec<_> = doomed.iter().filter_map(|netns| watches.remove(netns)).collect();
    // Known from now on, so that the reading after the run says each is gone: a destroy
    // right after an apply can come before the scan that would have made them known, and
    // that scan, running during the destroy, adds nothing (see `sync_watches`).
    let mut live = state.live.write().await;
    for netns in doomed {
        live.namespaces.entry(netns.clone()).or_insert(None);
    }
    drop(live);
    state.engine.kernel().keep_until_run_ends(stopping);
}

/// Reads the kernel and plans the document against it; sends the drift when it changed.
/// False when it could not run now (an apply is going on): try again later.
async fn refresh(state: &AppState) -> bool {
    let Ok(_no_run_meanwhile) = state.kernel_access.try_lock() else { return false };
    let read_at = Instant::now();
    let Ok(observed) = state.engine.observe().await else { return false };
    let (lab, revision) = {
        let store = state.store.lock().await;
        (store.view().lab.clone(), store.view().revision)
    };
    let applied = !is_gone(&lab, &observed);
    // Drift is what re-applying would do: nothing to say of a lab that is not applied.
    let (drift, conflicts): (Vec<PlannedOp>, Vec<Conflict>) = match applied {
        true => match plan(&lab, &observed, &PlanOptions::default()) {
            Ok(ops) => (ops.iter().map(PlannedOp::from).collect(), Vec::new()),
            Err(conflicts) => (Vec::new(), conflicts),
        },
        false => (Vec::new(), Vec::new()),
    };
    // A namespace of the lab gone from the kernel is drift (apply would make it again):
    // with none, the lab's record is not read at all, as on most readings.
    let missing = if drift.is_empty() { Vec::new() } else { missing_namespaces(&lab.name, &observed, &state.limits) };
    let mut live = state.live.write().await;
    let namespaces_before = live.namespaces.clone();
    let changes = live.refresh(&observed, read_at);
    // Namespaces a run deleted were released (see `release`), not seen going by the watch
    // scan: a reading is where clients learn of them.
    let namespace_events = namespace_changes(&namespaces_before, &live.namespaces);
    let kernel_changed = !changes.is_empty() || !namespace_events.is_empty();
    for event in namespace_events {
        state.bus.send(&Event::Namespace(event));
    }
    let drift_changed =
        live.applied != applied || live.drift != drift || live.conflicts != conflicts || live.missing != missing;
    live.applied = applied;
    live.drift = drift.clone();
    live.conflicts = conflicts.clone();
    live.missing = missing.clone();
    // Sent under the lock, like the events' (see `note_event`).
    for (change, link) in changes {
        state.bus.send(&Event::Link(LinkEvent { change, link }));
    }
    drop(live);
    let drift_ops: Vec<_> = drift.iter().map(|planned| planned.op.clone()).collect();
    let drill = state.drills.note_drift(&drift_ops, &observed);
    if let Some(status) = drill {
        state.bus.send(&Event::Drill(DrillEvent { status }));
    }
    if drift_changed {
        // A drill withholds what differs, so that students find the faults themselves.
        let hidden = state.drills.hides_drift();
        let (ops, missing) = if hidden { (Vec::new(), Vec::new()) } else { (drift, missing) };
        state.bus.send(&Event::Drift(DriftEvent { applied, ops, conflicts, missing, hidden }));
    }
    // What the kernel holds, or the goals themselves, may have changed: check them again.
    if !lab.goals.is_empty() && (drift_changed || kernel_changed || state.goals.stale(revision)) {
        state.goals.want(observed);
    }
    true
}

/// The addresses clients are shown: not IPv6 link-local ones, which the kernel adds by
/// itself a moment after an interface comes up (a lab never lists them), so that every
/// apply is not followed by a round of "changed" interfaces.
fn without_link_local(addresses: &[ipnet::IpNet]) -> Vec<ipnet::IpNet> {
    let link_local = |net: &ipnet::IpNet| matches!(net.addr(), std::net::IpAddr::V6(v6) if v6.is_unicast_link_local());
    addresses.iter().filter(|net| !link_local(net)).cloned().collect()
}

/// What clients are told when the namespaces they know of (with their owners) were
/// `before` and are `now`: the ones gone, new, or marked for another lab since.
fn namespace_changes(
    before: &BTreeMap<Netns, Option<String>>,
    now: &BTreeMap<Netns, Option<String>>,
) -> Vec<NamespaceEvent> {
    let gone = before.keys().filter(|netns| !now.contains_key(*netns)).map(|netns| NamespaceEvent {
        netns: netns.clone(),
        present: false,
        owner: None,
    });
    let new = now
        .iter()
        .filter(|(netns, owner)| before.get(*netns) != Some(*owner))
        .map(|(netns, owner)| NamespaceEvent { netns: netns.clone(), present: true, owner: owner.clone() });
    gone.chain(new).collect()
}

/// The namespaces lab `name` had when it was last applied (its record) that the kernel no
/// longer holds: deleted from outside, unlike new ones the document adds.
fn missing_namespaces(name: &str, observed: &Observed, limits: &nslab_model::Limits) -> Vec<String> {
    let Some(applied) = crate::records::recorded_lab(name, limits) else { return Vec::new() };
    applied
        .namespace_names()
        .filter(|namespace| observed.namespace(&Netns::Named(namespace.to_string())).is_none())
        .map(str::to_string)
        .collect()
}

/// Each interface's last counters and when they were read.
type LastCounters = HashMap<(Netns, String), (Counters, Instant)>;

/// Counters of the document's namespaces and the host, with rates since the last reading.
async fn send_counters(state: &AppState, previous: &mut LastCounters) {
    // Counters are only shown: with no client connected, the kernel is not read for them.
    if !state.bus.has_listeners() {
        return;
    }
    // Not while a run changes the kernel: namespaces half made are not for reading.
    let Ok(_no_run_meanwhile) = state.kernel_access.try_lock() else { return };
    let lab = state.store.lock().await.view().lab.clone();
    let mut namespaces = vec![Netns::Host];
    namespaces.extend(lab.namespace_names().map(|name| Netns::Named(name.to_string())));
    let Ok(readings) = state.engine.kernel().counters(&namespaces).await else { return };
    let now = Instant::now();
    let mut links = Vec::with_capacity(readings.len());
    for (netns, name, counters) in readings {
        let key = (netns.clone(), name.clone());
        let rate = |now_value: u64, before: Option<&(Counters, Instant)>, pick: fn(&Counters) -> u64| {
            before.map_or(0.0, |(old, at)| {
                let seconds = now.duration_since(*at).as_secs_f64().max(1e-3);
                now_value.saturating_sub(pick(old)) as f64 / seconds
            })
        };
        let before = previous.get(&key);
        links.push(LinkCounters {
            netns,
            name,
            rx_bytes: counters.rx_bytes,
            tx_bytes: counters.tx_bytes,
            rx_packets: counters.rx_packets,
            tx_packets: counters.tx_packets,
            rx_bytes_per_second: rate(counters.rx_bytes, before, |c| c.rx_bytes),
            tx_bytes_per_second: rate(counters.tx_bytes, before, |c| c.tx_bytes),
        });
        previous.insert(key, (counters, now));
    }
    previous.retain(|_, (_, at)| *at == now);
    if !links.is_empty() {
        state.bus.send(&Event::Counters(CountersEvent { links }));
    }
}

#[cfg(test)]
mod tests {
    use nslab_model::observed::{ObservedLink, ObservedNamespace};

    use super::*;

    fn kernel_with_eth0(up: bool) -> Observed {
        let mut link = ObservedLink::new("veth", 2);
        link.up = up;
        let mut namespace = ObservedNamespace::default();
        namespace.links.insert("eth0".into(), link);
        let mut observed = Observed::default();
        observed.namespaces.insert(Netns::Named("n0".into()), namespace);
        observed
    }

    fn eth0(up: bool) -> LiveLink {
        LiveLink {
            netns: Netns::Named("n0".into()),
            name: "eth0".into(),
            up,
            oper_up: false,
            owner: None,
            addresses: Vec::new(),
        }
    }

    fn key() -> (Netns, String) {
        (Netns::Named("n0".into()), "eth0".into())
    }

    #[test]
    fn a_reading_begun_before_an_event_does_not_undo_it() {
        let mut live = LiveState::default();
        live.refresh(&kernel_with_eth0(true), Instant::now());
        // The reading starts, eth0 goes down (an event), the reading (which saw it up) ends.
        let read_at = Instant::now();
        live.links.insert(key(), eth0(false));
        live.event_at.insert(key(), Instant::now());
        let changes = live.refresh(&kernel_with_eth0(true), read_at);
        assert!(changes.is_empty(), "{changes:?}");
        assert_eq!(live.links[&key()], eth0(false));
        // A reading begun after the event is believed.
        let changes = live.refresh(&kernel_with_eth0(true), Instant::now());
        assert_eq!(changes, vec![(LinkChange::Changed, eth0(true))]);
    }

    #[test]
    fn namespaces_gone_new_and_marked_anew_are_each_said_once() {
        let named = |name: &str| Netns::Named(name.into());
        let lab = |name: &str| Some(name.to_string());
        let before =
            BTreeMap::from([(Netns::Host, None), (named("a"), None), (named("b"), lab("x")), (named("d"), None)]);
        let now = BTreeMap::from([
            (Netns::Host, None),
            (named("b"), lab("x")),
            (named("c"), lab("x")),
            (named("d"), lab("y")),
        ]);
        let said: Vec<(Netns, bool, Option<String>)> = namespace_changes(&before, &now)
            .into_iter()
            .map(|event| (event.netns, event.present, event.owner))
            .collect();
        assert_eq!(said, [(named("a"), false, None), (named("c"), true, lab("x")), (named("d"), true, lab("y"))]);
        assert!(namespace_changes(&now, &now).is_empty());
    }

    #[test]
    fn a_reading_keeps_each_interface_s_addresses_and_each_namespace_s_owner() {
        let mut kernel = kernel_with_eth0(true);
        let n0 = kernel.namespaces.get_mut(&Netns::Named("n0".into())).unwrap();
        n0.owner = Some("lab".into());
        n0.links.get_mut("eth0").unwrap().addresses =
            vec!["10.0.0.1/24".parse().unwrap(), "fe80::1/64".parse().unwrap(), "fd00::1/64".parse().unwrap()];
        let mut live = LiveState::default();
        live.refresh(&kernel, Instant::now());
        let shown: Vec<ipnet::IpNet> = vec!["10.0.0.1/24".parse().unwrap(), "fd00::1/64".parse().unwrap()];
        assert_eq!(live.links[&key()].addresses, shown, "link-local addresses are left out");
        assert_eq!(live.owners(), BTreeMap::from([("n0".to_string(), "lab".to_string())]));
    }
}
