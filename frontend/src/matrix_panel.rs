//! The reachability matrix: every namespace (and the host node) pings every address of the
//! lab. Rows are the sources by name with their addresses; columns the targets, by the node
//! that holds the address and the address under it. A cell is a tick or a cross on a colour
//! (never the colour alone), its round trip in its tooltip; clicking it shows the path on
//! the canvas. Answers read before the kernel changed are marked stale.

use std::collections::HashMap;
use std::net::IpAddr;

use leptos::prelude::*;
use nslab_model::address::parse_interface_address;
use nslab_model::identity::Netns;
use nslab_model::ping::matrix_of;
use nslab_model::topology::Topology;
use nslab_model::{Lab, Node};

use crate::describe::host_node_name;
use crate::editor::{use_editor, Editor, MatrixReading};
use crate::intents;

/// A source row: the node's name and its addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceAxis {
    pub netns: Netns,
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// A target column: the address, and the node and interface that hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetAxis {
    pub address: IpAddr,
    pub node: String,
    pub interface: String,
}

/// The matrix's rows and columns, named for the reader.
pub fn axes(lab: &Lab) -> (Vec<SourceAxis>, Vec<TargetAxis>) {
    let (sources, targets) = matrix_of(lab);
    let topology = Topology::of(lab);
    let addresses_of = |netns: &Netns| -> Vec<IpAddr> {
        topology
            .interfaces_in(netns)
            .flat_map(|i| i.addresses.iter())
            .filter_map(|text| parse_interface_address(text).ok())
            .map(|net| net.addr())
            .filter(|address| !nslab_model::address::is_link_local(address))
            .collect()
    };
    let mut holders: HashMap<IpAddr, (String, String)> = HashMap::new();
    for interface in &topology.interfaces {
        for address in interface.addresses.iter().filter_map(|text| parse_interface_address(text).ok()) {
            holders
                .entry(address.addr())
                .or_insert_with(|| (crate::reach::node_of(lab, interface), interface.name.to_string()));
        }
    }
    let sources = sources
        .into_iter()
        .map(|netns| {
            // The host's row carries the host node's name, which is what the path
            // highlighting looks for.
            let name = netns.name().map_or_else(|| host_node_name(lab), str::to_string);
            SourceAxis { addresses: addresses_of(&netns), netns, name }
        })
        .collect();
    let targets = targets
        .into_iter()
        .map(|address| {
            let (node, interface) = holders.get(&address).cloned().unwrap_or_default();
            TargetAxis { address, node, interface }
        })
        .collect();
    (sources, targets)
}

/// The lab's predicted matrix, by (source name, target): only while the matrix has live
/// answers to compare with, and worked out again only when what routes packets changes
/// (not when a node is moved).
type Predicted = HashMap<(String, IpAddr), bool>;

fn predicted_matrix(editor: Editor) -> Memo<Option<Predicted>> {
    let network = Memo::new(move |_| editor.doc.lab.with(without_positions));
    Memo::new(move |_| {
        editor.panels.matrix_oldest.get()?;
        let matrix = network.with(nslab_model::reach::predict_matrix);
        Some(matrix.pairs.into_iter().map(|pair| ((pair.from, pair.to), pair.reach)).collect())
    })
}

/// The lab without where its nodes are drawn: what the prediction reads.
fn without_positions(lab: &Lab) -> Lab {
    let mut lab = lab.clone();
    for node in &mut lab.nodes {
        match node {
            Node::Host(host) => host.editor = None,
            Node::Namespace(namespace) => namespace.editor = None,
            Node::Bridge(bridge) => bridge.editor = None,
        }
    }
    lab
}

/// A cell's words when the live answer is not the lab's prediction.
pub fn disagreement_words(predicted: bool) -> String {
    let predicted = if predicted { "would be answered" } else { "would not be answered" };
    format!("the lab predicts the ping {predicted}: pick the cell and press why? for the likely cause")
}

/// What a cell says, in words: its tooltip.
pub fn cell_words(source: &str, target: &TargetAxis, reading: Option<&MatrixReading>, stale: bool) -> String {
    let pair = format!("{source} → {} {} ({})", target.node, target.interface, target.address);
    let answer = match reading.map(|r| &r.cell) {
        None => "not tried".to_string(),
        Some(cell) if cell.reachable => match cell.rtt_ms {
            Some(rtt) => format!("reachable, rtt {rtt:.3} ms"),
            None => "reachable".to_string(),
        },
        Some(cell) => match &cell.error {
            Some(why) => format!("unreachable: {why}"),
            None => "unreachable: no answer in time".to_string(),
        },
    };
    let age = if stale { "\nstale: the kernel changed since; run the matrix again" } else { "" };
    format!("{pair}\n{answer}{age}")
}

#[component]
pub fn MatrixPanel() -> impl IntoView {
    let editor = use_editor();
    let running = RwSignal::new(false);
    let run = move |_| intents::run_matrix(editor, running);
    let axes = Memo::new(move |_| editor.doc.lab.with(axes));
    let stale = move || editor.panels.matrix_oldest.get().is_some_and(|epoch| epoch < editor.live.kernel_epoch.get());
    // The pair last clicked, for "why?".
    let picked = RwSignal::new(None::<(String, IpAddr)>);
    let predicted = predicted_matrix(editor);
    view! {
        <div class="matrix" id="matrix-panel" class:stale=stale>
            <h3>"reachability"</h3>
            <button id="matrix-run" disabled=running on:click=run>"every namespace pings every address"</button>
            {move || stale().then(|| view! {
                <p class="stale-note" id="matrix-stale" role="status">
                    "The kernel changed since these results: run again."
                </p>
            })}
            <Legend />
            <div class="matrix-scroll" tabindex="0" role="region" aria-label="the reachability matrix">
                <table>
                    <thead>
                        <tr class="names">
                            <th class="corner" colspan="2">"from ↓ to →"</th>
                            {move || axes.get().1.into_iter().map(|t| {
                                let title = format!("{} · {} · {}", t.node, t.interface, t.address);
                                view! { <th class="target-node" scope="col" title=title>{t.node}</th> }
                            }).collect_view()}
                        </tr>
                        <tr class="addresses">
                            <th class="corner" colspan="2"></th>
                            {move || axes.get().1.into_iter().map(|t| view! {
                                <th class="target" scope="col">{t.address.to_string()}</th>
                            }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            let (sources, targets) = axes.get();
                            sources.into_iter().map(|source| source_row(editor, source, &targets, picked, predicted)).collect_view()
                        }}
                    </tbody>
                </table>
            </div>
            {move || picked.get().map(|(from, to)| {
                let words = format!("{from} → {to}");
                let ask = move |_| crate::explain_panel::explain_pair(editor, from.clone(), to);
                view! {
                    <p class="matrix-pick row">
                        <span id="matrix-picked">{words}</span>
                        <button id="matrix-why" on:click=ask>"why?"</button>
                    </p>
                }
            })}
            <crate::explain_panel::ExplainPanel />
        </div>
    }
}

/// A row: the source's name and addresses, then a cell per target.
fn source_row(
    editor: Editor,
    source: SourceAxis,
    targets: &[TargetAxis],
    picked: RwSignal<Option<(String, IpAddr)>>,
    predicted: Memo<Option<Predicted>>,
) -> impl IntoView {
    let cells = targets.iter().map(|target| cell(editor, &source, target.clone(), picked, predicted)).collect_view();
    let addresses = source.addresses.iter().map(|a| view! { <span>{a.to_string()}</span> }).collect_view();
    view! {
        <tr>
            <th class="source" scope="row">{source.name}</th>
            <th class="source-addresses">{addresses}</th>
            {cells}
        </tr>
    }
}

fn cell(
    editor: Editor,
    source: &SourceAxis,
    target: TargetAxis,
    picked: RwSignal<Option<(String, IpAddr)>>,
    predicted: Memo<Option<Predicted>>,
) -> impl IntoView {
    let signal = editor.matrix_cell(&source.netns, target.address);
    let stale = move || signal.with(|r| r.as_ref().is_some_and(|r| r.epoch < editor.live.kernel_epoch.get()));
    // The lab's prediction for this pair, when the live answer says otherwise.
    let disagrees = {
        let (from, to) = (source.name.clone(), target.address);
        Memo::new(move |_| {
            let live = signal.with(|r| r.as_ref().map(|r| r.cell.reachable))?;
            let predicted = predicted.with(|p| p.as_ref().and_then(|p| p.get(&(from.clone(), to)).copied()))?;
            (live != predicted).then_some(predicted)
        })
    };
    let class = move || {
        let answer = match signal.with(|r| r.as_ref().map(|r| r.cell.reachable)) {
            None => "cell unknown",
            Some(true) => "cell reachable",
            Some(false) => "cell unreachable",
        };
        let mut class = answer.to_string();
        if stale() {
            class.push_str(" stale");
        }
        if disagrees.get().is_some() {
            class.push_str(" disagrees");
        }
        class
    };
    let name = source.name.clone();
    let words = {
        let target = target.clone();
        move || {
            let words = signal.with(|r| cell_words(&name, &target, r.as_ref(), stale()));
            match disagrees.get() {
                Some(predicted) => format!("{words}\n{}", disagreement_words(predicted)),
                None => words,
            }
        }
    };
    let source_name = source.name.clone();
    let pick = move |_| {
        intents::highlight_path(editor, &source_name, target.address);
        picked.set(Some((source_name.clone(), target.address)));
    };
    view! {
        <td class=class on:click=pick title=words.clone() aria-label=words>
            {move || match signal.with(|r| r.as_ref().map(|r| r.cell.reachable)) {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "·",
            }}
            {move || disagrees.get().map(|_| view! { <sup class="disagree-mark">"!"</sup> })}
        </td>
    }
}

/// What the cells' marks and colours mean.
#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="matrix-legend" id="matrix-legend">
            <li><span class="swatch cell reachable">"✓"</span>"reachable"</li>
            <li><span class="swatch cell unreachable">"✗"</span>"unreachable"</li>
            <li><span class="swatch cell unknown">"·"</span>"not tried"</li>
            <li><span class="swatch cell reachable stale">"✓"</span>"stale: the kernel changed since"</li>
            <li><span class="swatch cell unreachable disagrees">"✗"<sup class="disagree-mark">"!"</sup></span>"not what the lab predicts: why? names the likely cause"</li>
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nslab_model::ping::MatrixCell;

    fn router() -> Lab {
        nslab_model::load::load_lab_str(include_str!("../../examples/router.json")).unwrap()
    }

    #[test]
    fn rows_and_columns_are_named_by_node_and_address() {
        let (sources, targets) = axes(&router());
        let names: Vec<_> = sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["left", "router", "right"]);
        let left: Vec<String> = sources[0].addresses.iter().map(ToString::to_string).collect();
        assert_eq!(left, ["10.0.1.2", "fd00:1::2"]);
        let right = targets.iter().find(|t| t.address.to_string() == "fd00:2::2").expect("a column");
        assert_eq!((right.node.as_str(), right.interface.as_str()), ("right", "x-eth0"));
    }

    #[test]
    fn a_cell_says_its_answer_its_round_trip_and_its_age() {
        let (_, targets) = axes(&router());
        let target = &targets[0];
        let cell = |reachable, rtt_ms, error: Option<&str>| MatrixReading {
            cell: MatrixCell {
                source: Netns::Named("left".into()),
                target: target.address,
                reachable,
                rtt_ms,
                error: error.map(str::to_string),
            },
            epoch: 0,
        };
        let words = cell_words("left", target, Some(&cell(true, Some(0.0421), None)), false);
        assert!(words.starts_with(&format!("left → {} {} ({})", target.node, target.interface, target.address)));
        assert!(words.ends_with("reachable, rtt 0.042 ms"), "{words}");
        let words = cell_words("left", target, Some(&cell(false, None, Some("no route to the target"))), true);
        assert!(words.contains("unreachable: no route to the target\nstale"), "{words}");
        assert!(cell_words("left", target, None, false).ends_with("not tried"));
    }
}
