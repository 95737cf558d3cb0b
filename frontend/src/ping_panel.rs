//! The ping tool: pick a node to ping from and an address of the lab to ping, then watch the
//! answers come and their summary (sent, received, loss, min / avg / max round trip). A
//! finished ping's summary is marked stale once the kernel changes after it.

use leptos::prelude::*;
use std::net::IpAddr;

use nslab_model::address::{is_link_local, parse_interface_address, Family};
use nslab_model::api::{PingRequest, MAX_PING_COUNT};
use nslab_model::ping::PingSample;
use nslab_model::topology::Topology;
use nslab_model::{Lab, Node};

use crate::editor::{use_editor, Editor};
use crate::intents;

/// Probes a ping sends unless told otherwise: a few seconds' worth, never endless.
const DEFAULT_COUNT: u32 = 10;

/// Between probes, in milliseconds.
const INTERVAL_MS: u64 = 500;

/// One choice of the "to" list: what the ping API is asked to ping, and what the user reads.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetOption {
    /// `NODE:INTERFACE` for the interface's first IPv4 address (which the server resolves
    /// it to, as `nslab ping` does), the address itself for any other.
    pub value: String,
    /// `ns2 · eth0 · 172.17.0.103`.
    pub label: String,
}

/// Every address of the lab to ping, by node and interface (link-local ones are no target:
/// they need an interface to go out of).
pub fn target_options(lab: &Lab) -> Vec<TargetOption> {
    let topology = Topology::of(lab);
    let mut options = Vec::new();
    for interface in &topology.interfaces {
        let node = crate::reach::node_of(lab, interface);
        let mut named = false;
        for address in interface.addresses.iter().filter_map(|text| parse_interface_address(text).ok()) {
            let address = address.addr();
            if is_link_local(&address) {
                continue;
            }
            let value = if address.is_ipv4() && !named {
                named = true;
                format!("{node}:{}", interface.name)
            } else {
                address.to_string()
            };
            options.push(TargetOption { value, label: format!("{node} · {} · {address}", interface.name) });
        }
    }
    options
}

/// The nodes a ping can start from: namespaces and the host.
fn source_names(lab: &Lab) -> Vec<String> {
    lab.nodes.iter().filter(|n| matches!(n, Node::Namespace(_) | Node::Host(_))).map(|n| n.name().to_string()).collect()
}

/// The ping the form asks for, or the sentence saying what is missing.
pub fn ping_request(from: &str, to: &str, count: &str) -> Result<PingRequest, String> {
    if from.is_empty() {
        return Err("Choose the node to ping from.".into());
    }
    if to.is_empty() {
        return Err("Choose the address to ping.".into());
    }
    let count = match count.trim().parse::<u32>() {
        Ok(count) if (1..=MAX_PING_COUNT).contains(&count) => count,
        _ => return Err(format!("The count is a whole number of probes from 1 to {MAX_PING_COUNT}.")),
    };
    Ok(PingRequest {
        from: from.to_string(),
        to: to.to_string(),
        count: Some(count),
        interval_ms: Some(INTERVAL_MS),
        family: None,
    })
}

/// The address "why?" explains for the form's choice, or what is missing.
fn explained_pair(lab: &Lab, from: &str, to: &str) -> Result<IpAddr, String> {
    if from.is_empty() {
        return Err("Choose the node to ping from.".into());
    }
    if to.is_empty() {
        return Err("Choose the address to ping.".into());
    }
    nslab_model::ping::target_of(lab, to, Family::V4).or_else(|_| nslab_model::ping::target_of(lab, to, Family::V6))
}

/// Round-trip times of the answered probes, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrips {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
}

/// What a ping's samples add up to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingSummary {
    pub sent: u32,
    pub received: u32,
    pub lost: u32,
    /// Lost out of the probes whose fate is known, 0..=100.
    pub loss_percent: f64,
    /// None until a probe is answered.
    pub round_trips: Option<RoundTrips>,
}

/// Sums up the samples of a ping (which may come out of order: a late loss after a later
/// reply). Sent counts probes still waiting for an answer too, as the server's totals do.
pub fn summarize(samples: &[PingSample]) -> PingSummary {
    let rtts: Vec<f64> = samples.iter().filter_map(|s| s.rtt_ms).collect();
    let received = rtts.len() as u32;
    let lost = samples.len() as u32 - received;
    let sent = samples.iter().map(|s| s.totals.sent).max().unwrap_or(0).max(samples.len() as u32);
    let decided = received + lost;
    let loss_percent = if decided == 0 { 0.0 } else { f64::from(lost) * 100.0 / f64::from(decided) };
    let round_trips = (!rtts.is_empty()).then(|| RoundTrips {
        min: rtts.iter().copied().fold(f64::INFINITY, f64::min),
        avg: rtts.iter().sum::<f64>() / rtts.len() as f64,
        max: rtts.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    });
    PingSummary { sent, received, lost, loss_percent, round_trips }
}

/// `0%`, `12.5%`, `33.3%`.
pub fn percent(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}%")
    } else {
        format!("{value:.1}%")
    }
}

/// How the ping shown stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PingState {
    Running,
    Finished,
    /// Finished, and the kernel changed since.
    Stale,
}

fn ping_state(editor: Editor, id: u64) -> PingState {
    match editor.panels.ping_ended.get() {
        Some((ended, epoch)) if ended == id && epoch < editor.live.kernel_epoch.get() => PingState::Stale,
        Some((ended, _)) if ended == id => PingState::Finished,
        _ => PingState::Running,
    }
}

#[component]
pub fn PingPanel() -> impl IntoView {
    let editor = use_editor();
    let sources = Memo::new(move |_| editor.doc.lab.with(source_names));
    let targets = Memo::new(move |_| editor.doc.lab.with(target_options));
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let count = RwSignal::new(DEFAULT_COUNT.to_string());
    let error = RwSignal::new(None::<String>);
    // A form that asks for nothing sendable says why and sends nothing.
    let start = move |_| match ping_request(&from.get_untracked(), &to.get_untracked(), &count.get_untracked()) {
        Ok(request) => intents::start_ping(editor, request, error),
        Err(why) => error.set(Some(why)),
    };
    let stop = move |_| intents::stop_ping(editor);
    // "why?" on the pair the form names, whether or not it was pinged yet.
    let why = move |_| {
        let (source, target) = (from.get_untracked(), to.get_untracked());
        match editor.doc.lab.with_untracked(|lab| explained_pair(lab, &source, &target)) {
            Ok(address) => crate::explain_panel::explain_pair(editor, source, address),
            Err(message) => error.set(Some(message)),
        }
    };
    view! {
        <div class="ping" id="ping-panel">
            <h3>"ping"</h3>
            <label class="field">
                <span>"from"</span>
                <select id="ping-from" on:change=move |e| from.set(event_target_value(&e))>
                    <option value="">"choose…"</option>
                    {move || {
                        sources
                            .get()
                            .into_iter()
                            .map(|s| view! { <option value=s.clone() selected=from.get_untracked() == s>{s.clone()}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <label class="field">
                <span>"to"</span>
                <select id="ping-to" on:change=move |e| to.set(event_target_value(&e))>
                    <option value="">"choose…"</option>
                    {move || {
                        targets
                            .get()
                            .into_iter()
                            .map(|t| view! { <option value=t.value.clone() selected=to.get_untracked() == t.value>{t.label}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <label class="field">
                <span>"probes"</span>
                <input
                    id="ping-count"
                    type="number"
                    min="1"
                    max=MAX_PING_COUNT
                    prop:value=move || count.get()
                    on:input=move |e| count.set(event_target_value(&e))
                />
            </label>
            <div class="row">
                <button id="ping-start" on:click=start>"start"</button>
                <button id="ping-stop" on:click=stop>"stop"</button>
                <button id="ping-why" on:click=why title="why the ping would or would not be answered, hop by hop">"why?"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="problem error" id="ping-error" role="alert">{e}</p> })}
            <Summary />
            <crate::explain_panel::ExplainPanel />
            <ol class="samples" id="ping-samples">
                {move || {
                    editor.panels.ping.get().map(|(_, samples)| {
                        samples.into_iter().rev().take(50).map(sample_line).collect_view()
                    })
                }}
            </ol>
        </div>
    }
}

/// One probe: its time, or that it was lost and why.
fn sample_line(sample: PingSample) -> impl IntoView {
    let text = match (sample.rtt_ms, &sample.error) {
        (Some(rtt), _) => format!("✓ seq {} time {rtt:.3} ms", sample.seq),
        (None, Some(why)) => format!("✗ seq {} lost: {why}", sample.seq),
        (None, None) => format!("✗ seq {} lost: no answer in time", sample.seq),
    };
    let class = if sample.rtt_ms.is_some() { "sample ok" } else { "sample lost" };
    view! { <li class=class>{text}</li> }
}

/// The summary of the ping shown: where to, sent / received / loss, min / avg / max.
#[component]
fn Summary() -> impl IntoView {
    let editor = use_editor();
    move || {
        let (id, samples) = editor.panels.ping.get()?;
        let summary = summarize(&samples);
        let state = ping_state(editor, id);
        let target = editor
            .panels
            .ping_target
            .get()
            .filter(|(started, _)| *started == id)
            .map_or_else(|| "the address pinged".to_string(), |(_, address)| address.to_string());
        let class = match state {
            PingState::Running => "ping-summary running",
            PingState::Finished => "ping-summary finished",
            PingState::Stale => "ping-summary finished stale",
        };
        let heading = match state {
            PingState::Running => "pinging",
            PingState::Finished => "pinged",
            PingState::Stale => "pinged (stale)",
        };
        let loss_class = if summary.lost > 0 { "loss lossy" } else { "loss" };
        let rtt = match (summary.round_trips, state) {
            (Some(r), _) => {
                view! { <span class="rtt">{format!("{:.3} / {:.3} / {:.3} ms", r.min, r.avg, r.max)}</span> }.into_any()
            }
            (None, PingState::Running) => view! { <span class="no-answer">"no answer yet"</span> }.into_any(),
            (None, _) => view! { <span class="no-answer">"no answer"</span> }.into_any(),
        };
        Some(view! {
            <div class=class id="ping-summary">
                <p class="ping-target">{heading}" "<code class="address">{target}</code></p>
                <p class="ping-counts">
                    <span class="sent">{crate::wording::counted(summary.sent as usize, "probe", "probes")}" sent"</span>", "
                    <span class="received">{summary.received}" received"</span>", "
                    <span class=loss_class>{percent(summary.loss_percent)}" loss"</span>
                </p>
                <p class="ping-rtt">"rtt min / avg / max: "{rtt}</p>
                {(state == PingState::Stale).then(|| view! {
                    <p class="stale-note">"The kernel changed since this ping: ping again for the network as it is now."</p>
                })}
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nslab_model::ping::PingTotals;

    fn sample(seq: u32, rtt_ms: Option<f64>, sent: u32) -> PingSample {
        PingSample { seq, rtt_ms, error: None, totals: PingTotals { sent, ..PingTotals::default() } }
    }

    #[test]
    fn a_summary_counts_losses_and_round_trips() {
        let samples = [sample(1, Some(0.5), 1), sample(3, Some(1.5), 3), sample(2, None, 3), sample(4, Some(1.0), 4)];
        let summary = summarize(&samples);
        assert_eq!((summary.sent, summary.received, summary.lost), (4, 3, 1));
        assert_eq!(summary.loss_percent, 25.0);
        assert_eq!(summary.round_trips, Some(RoundTrips { min: 0.5, avg: 1.0, max: 1.5 }));
        assert_eq!(percent(summary.loss_percent), "25%");
        assert_eq!(percent(100.0 / 3.0), "33.3%");
    }

    #[test]
    fn probes_waiting_for_an_answer_count_as_sent_not_lost() {
        let summary = summarize(&[sample(1, None, 3)]);
        assert_eq!((summary.sent, summary.received, summary.lost), (3, 0, 1));
        assert_eq!((summary.loss_percent, summary.round_trips), (100.0, None));
        let nothing = summarize(&[]);
        assert_eq!((nothing.sent, nothing.loss_percent, nothing.round_trips), (0, 0.0, None));
    }

    #[test]
    fn targets_show_node_interface_and_address_ipv6_too() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/router.json")).unwrap();
        let options = target_options(&lab);
        let right: Vec<_> = options.iter().filter(|o| o.label.starts_with("right · ")).collect();
        assert_eq!(right.len(), 2, "{options:?}");
        assert_eq!(right[0].label, "right · x-eth0 · 10.0.2.2");
        assert_eq!(right[0].value, "right:x-eth0", "the API's name of its first IPv4 address");
        assert_eq!(right[1].label, "right · x-eth0 · fd00:2::2");
        assert_eq!(right[1].value, "fd00:2::2");
    }

    #[test]
    fn a_ping_needs_a_source_a_target_and_a_sane_count() {
        assert_eq!(ping_request("", "ns2:eth0", "5").unwrap_err(), "Choose the node to ping from.");
        assert_eq!(ping_request("ns1", "", "5").unwrap_err(), "Choose the address to ping.");
        for bad in ["0", "", "2.5", "-1", "3601"] {
            assert!(ping_request("ns1", "ns2:eth0", bad).unwrap_err().contains("from 1 to 3600"), "{bad}");
        }
        let request = ping_request("ns1", "ns2:eth0", " 3 ").unwrap();
        assert_eq!((request.count, request.to.as_str()), (Some(3), "ns2:eth0"));
    }
}
