//! What the views say of the lab, worked out from the lab and the kernel's answers alone:
//! where each link's ends live, how a link and its ends stand in the kernel, the host
//! row's name, a tooltip, a run's name, what a problem's path points
//! into. Pure, so it is tested natively.

use std::collections::BTreeMap;

use nslab_model::address::parse_interface_address;
use nslab_model::api::{LiveLink, PlannedOp, RunKind};
use nslab_model::edit::Selection;
use nslab_model::identity::LinkRef;
use nslab_model::identity::Netns;
use nslab_model::ops::Op;
use nslab_model::topology::Topology;
use nslab_model::{Lab, Problem};

/// Where both ends of every link live (namespace and interface name), where they resolve.
/// One topology for all links: each link working its own out made a change to a big lab
/// cost the square of its size.
pub fn link_places(lab: &Lab) -> Vec<Option<[LinkRef; 2]>> {
    let topology = Topology::of(lab);
    (0..lab.links.len())
        .map(|index| {
            let [a, b] = topology.veth_ends(index)?;
            Some([LinkRef::new(a.netns.clone(), a.name), LinkRef::new(b.netns.clone(), b.name)])
        })
        .collect()
}

/// The class of an interface that should hold the addresses `wanted` (as the lab writes
/// them): `up` (carrier), `nocarrier`, `down`, `differs` (up, but an address of the lab is
/// not in the kernel: flushed from a shell), `absent` (not in the kernel).
pub fn end_state(live: Option<&LiveLink>, wanted: &[String]) -> &'static str {
    match live {
        None => "absent",
        Some(link) if !link.up => "down",
        Some(link) if !missing_addresses(link, wanted).is_empty() => "differs",
        Some(link) if link.oper_up => "up",
        Some(_) => "nocarrier",
    }
}

/// The addresses of `wanted` (as the lab writes them) that the kernel's interface lacks.
pub fn missing_addresses<'a>(live: &LiveLink, wanted: &'a [String]) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|address| parse_interface_address(address).is_ok_and(|net| !live.addresses.contains(&net)))
        .map(String::as_str)
        .collect()
}

/// The class of a link from the classes of its ends (see `end_state`): the worse end's,
/// in the order absent, down, differs, without carrier, up.
pub fn link_state(a: &'static str, b: &'static str) -> &'static str {
    const WORST_FIRST: [&str; 4] = ["absent", "down", "differs", "nocarrier"];
    WORST_FIRST.into_iter().find(|state| a == *state || b == *state).unwrap_or("up")
}

/// An end's state (see `end_state`) in words, for its port's tooltip.
pub fn end_state_words(state: &str) -> &'static str {
    match state {
        "up" => "up, with carrier",
        "nocarrier" => "up, no carrier",
        "down" => "down",
        "differs" => "up, but an address of the lab is not in the kernel (re-apply puts it back)",
        _ => "not in the kernel",
    }
}

/// The drift banner's sentence: how many steps re-applying runs now (the same plan apply
/// would run, unapplied edits included), naming the namespaces it would delete.
pub fn drift_summary(ops: &[PlannedOp]) -> String {
    let deleted: Vec<String> = ops
        .iter()
        .filter_map(|planned| match &planned.op {
            Op::DeleteNamespace { name } => Some(format!("`{name}`")),
            _ => None,
        })
        .collect();
    let steps = crate::wording::counted(ops.len(), "step", "steps");
    match deleted.len() {
        0 => format!("The kernel differs from this lab: re-applying it runs {steps}."),
        n => format!(
            "The kernel differs from this lab: re-applying it runs {steps}, and deletes {} {}.",
            if n == 1 { "namespace" } else { "namespaces" },
            deleted.join(", ")
        ),
    }
}

/// How a namespace of lab `lab` stands in the kernel, for its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceState {
    /// In the kernel, marked as this lab's.
    Present,
    /// In the kernel, but another lab's (`Some`) or made by hand (`None`): apply would
    /// refuse it.
    Taken(Option<String>),
    /// Applied once, gone now: deleted from outside.
    Missing,
    /// Not applied (yet).
    Absent,
}

impl NamespaceState {
    pub fn of(name: &str, lab: &str, present: &BTreeMap<Netns, Option<String>>, missing: &[String]) -> Self {
        match present.get(&Netns::Named(name.to_string())) {
            Some(Some(owner)) if owner == lab => NamespaceState::Present,
            Some(owner) => NamespaceState::Taken(owner.clone()),
            None if missing.iter().any(|gone| gone == name) => NamespaceState::Missing,
            None => NamespaceState::Absent,
        }
    }

    /// What the card's tooltip says of it.
    pub fn words(&self, name: &str) -> String {
        match self {
            NamespaceState::Present => format!("namespace {name} is in the kernel"),
            NamespaceState::Taken(Some(owner)) => {
                format!(
                    "a namespace {name} in the kernel belongs to lab `{owner}`: rename this one, or destroy that lab"
                )
            }
            NamespaceState::Taken(None) => {
                format!("a namespace {name} made outside nslab is in the kernel: rename this one, or adopt it")
            }
            NamespaceState::Missing => {
                format!("namespace {name} was applied but is gone from the kernel (deleted from outside): re-apply makes it again")
            }
            NamespaceState::Absent => format!("namespace {name} is not in the kernel yet: apply makes it"),
        }
    }
}

/// What the lab calls its host node (`host` when it has none).
pub fn host_node_name(lab: &Lab) -> String {
    Topology::of(lab).host_node.unwrap_or("host").to_string()
}

/// A tooltip of what is wrong with a node or link: its problems, then the kernel's conflicts.
pub fn tooltip(problems: &[Problem], conflicts: &[String]) -> String {
    let problems = problems.iter().map(|problem| problem.message.as_str());
    problems.chain(conflicts.iter().map(String::as_str)).collect::<Vec<_>>().join("\n")
}

/// A run's name, as its panel and the log say it.
pub fn run_title(run: RunKind) -> &'static str {
    match run {
        RunKind::Apply => "apply",
        RunKind::Destroy => "destroy",
    }
}

/// What a document path points into, to select: the link of `links[1]...`, the node of
/// `nodes[3]...` when the lab has it.
pub fn selection_at(lab: &Lab, path: &str) -> Option<Selection> {
    let index = |prefix: &str| path.strip_prefix(prefix)?.split(']').next()?.parse::<usize>().ok();
    if let Some(link) = index("links[") {
        Some(Selection::link(link))
    } else {
        let node = lab.nodes.get(index("nodes[")?)?;
        Some(Selection::node(node.name().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(text: &str) -> Lab {
        nslab_model::load::load_lab_str(text).expect("a lab")
    }

    #[test]
    fn link_ends_live_in_their_namespaces_or_the_bridges() {
        let named = |netns: &str, name: &str| LinkRef::new(Netns::Named(netns.into()), name);
        let router = lab(include_str!("../../examples/router.json"));
        assert_eq!(
            link_places(&router),
            [
                Some([named("left", "l-eth0"), named("router", "r-eth0")]),
                Some([named("router", "r-eth1"), named("right", "x-eth0")])
            ]
        );
        // A bridge's end of a veth is its port, in the bridge's namespace (here the host's).
        let bridge = lab(include_str!("../../examples/seed-bridge.json"));
        let first = link_places(&bridge)[0].clone();
        assert_eq!(first, Some([LinkRef::new(Netns::Host, "veth0"), named("ns0", "eth0")]));
        assert!(link_places(&Lab::new("empty")).is_empty());
    }

    #[test]
    fn a_link_is_as_up_as_its_weaker_end() {
        let live = |up, oper_up| LiveLink {
            netns: Netns::Host,
            name: "v".into(),
            up,
            oper_up,
            owner: None,
            addresses: vec!["10.0.0.1/24".parse().unwrap()],
        };
        assert_eq!(end_state(None, &[]), "absent");
        assert_eq!(end_state(Some(&live(true, true)), &[]), "up");
        assert_eq!(end_state(Some(&live(true, false)), &[]), "nocarrier");
        assert_eq!(end_state(Some(&live(false, true)), &[]), "down");
        assert_eq!(link_state("up", "up"), "up");
        assert_eq!(link_state("up", "nocarrier"), "nocarrier");
        assert_eq!(link_state("nocarrier", "down"), "down");
        assert_eq!(link_state("down", "absent"), "absent");
        assert_eq!(link_state("differs", "up"), "differs");
        assert_eq!(link_state("nocarrier", "differs"), "differs");
        assert_eq!(end_state_words("nocarrier"), "up, no carrier");
        assert_eq!(end_state_words("absent"), "not in the kernel");
    }

    #[test]
    fn an_interface_without_an_address_of_the_lab_differs() {
        let link = LiveLink {
            netns: Netns::Host,
            name: "v".into(),
            up: true,
            oper_up: true,
            owner: None,
            addresses: vec!["10.0.0.1/24".parse().unwrap(), "fd00::1/64".parse().unwrap()],
        };
        let wanted = |addresses: &[&str]| addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(end_state(Some(&link), &wanted(&["10.0.0.1/24", "fd00:0::1/64"])), "up");
        let flushed = wanted(&["10.0.0.1/24", "10.0.0.9/24"]);
        assert_eq!(end_state(Some(&link), &flushed), "differs");
        assert_eq!(missing_addresses(&link, &flushed), ["10.0.0.9/24"]);
        // Another prefix length is another address.
        assert_eq!(missing_addresses(&link, &wanted(&["10.0.0.1/16"])), ["10.0.0.1/16"]);
        // Down says more than a missing address.
        assert_eq!(end_state(Some(&LiveLink { up: false, ..link }), &flushed), "down");
    }

    #[test]
    fn the_drift_banner_counts_every_step_and_names_the_namespaces_deleted() {
        let planned = |op: Op| PlannedOp::from(&op);
        let up = planned(Op::SetLoopback { netns: Netns::Named("ns1".into()), up: true });
        assert_eq!(
            drift_summary(std::slice::from_ref(&up)),
            "The kernel differs from this lab: re-applying it runs 1 step."
        );
        let ops = [planned(Op::DeleteNamespace { name: "ns0".into() }), up.clone(), up];
        assert_eq!(
            drift_summary(&ops),
            "The kernel differs from this lab: re-applying it runs 3 steps, and deletes namespace `ns0`."
        );
    }

    #[test]
    fn a_namespace_is_present_only_when_it_carries_this_lab_s_mark() {
        let named = |name: &str| Netns::Named(name.into());
        let present = BTreeMap::from([
            (named("ns0"), Some("mine".to_string())),
            (named("ns1"), Some("seed-bridge".to_string())),
            (named("ns2"), None),
        ]);
        let missing = vec!["ns3".to_string()];
        let state = |name: &str| NamespaceState::of(name, "mine", &present, &missing);
        assert_eq!(state("ns0"), NamespaceState::Present);
        assert_eq!(state("ns1"), NamespaceState::Taken(Some("seed-bridge".into())));
        assert_eq!(state("ns2"), NamespaceState::Taken(None));
        assert_eq!(state("ns3"), NamespaceState::Missing);
        assert_eq!(state("ns4"), NamespaceState::Absent);
        assert!(state("ns1").words("ns1").contains("belongs to lab `seed-bridge`"));
        assert!(!state("ns1").words("ns1").contains("outside nslab"));
    }

    #[test]
    fn the_host_row_is_named_like_the_host_node() {
        let text = r#"{"version": 1, "name": "h", "nodes": [
            {"kind": "host", "name": "gateway"},
            {"kind": "namespace", "name": "ns0"}
        ], "links": []}"#;
        assert_eq!(host_node_name(&lab(text)), "gateway");
        assert_eq!(host_node_name(&lab(r#"{"version": 1, "name": "n", "nodes": [], "links": []}"#)), "host");
    }

    #[test]
    fn a_problem_selects_the_thing_its_path_points_into() {
        let router = lab(include_str!("../../examples/router.json"));
        assert_eq!(selection_at(&router, "links[1].b.addresses[0]"), Some(Selection::link(1)));
        assert_eq!(selection_at(&router, "nodes[1].routes[0].via"), Some(Selection::node("router")));
        assert_eq!(selection_at(&router, "nodes[9]"), None);
        assert_eq!(selection_at(&router, "name"), None);
        assert_eq!(selection_at(&router, "links[x]"), None);
    }
}
