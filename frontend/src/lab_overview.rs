//! The lab as lists: nodes, links, and what validation says.

use leptos::prelude::*;
use nslab_model::api::LabView;
use nslab_model::{Link, Node};

use crate::problem_list::ProblemList;

#[component]
pub fn LabOverview(view: LabView) -> impl IntoView {
    let nodes = view.lab.nodes.clone();
    let links = view.lab.links.clone();
    view! {
        <main>
            <section id="nodes">
                <h2>"Nodes"</h2>
                <ul>
                    {nodes.into_iter().map(|node| view! {
                        <li class="node" data-name=node.name().to_string()>
                            <span class="kind">{node.kind_word()}</span>
                            <strong class="name">{node.name().to_string()}</strong>
                            <span class="addr">{node_detail(&node)}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
            <section id="links">
                <h2>"Links"</h2>
                <ul>
                    {links.into_iter().map(|link| view! { <li class="link">{link_text(&link)}</li> }).collect_view()}
                </ul>
            </section>
            <ProblemList problems=view.problems />
        </main>
    }
}

fn node_detail(node: &Node) -> String {
    match node {
        Node::Bridge(bridge) => {
            let home = bridge.namespace.as_deref().unwrap_or("host");
            format!("in {home} {}", bridge.addresses.join(" "))
        }
        Node::Namespace(namespace) if namespace.ipv4_forwarding || namespace.ipv6_forwarding => {
            "forwarding".to_string()
        }
        _ => String::new(),
    }
}

fn link_text(link: &Link) -> String {
    let [a, b] = link.ends();
    let end = |end: &nslab_model::Endpoint| {
        let addresses =
            if end.addresses.is_empty() { String::new() } else { format!(" ({})", end.addresses.join(", ")) };
        format!("{}:{}{addresses}", end.node, end.name)
    };
    format!("veth {} ↔ {}", end(a), end(b))
}
