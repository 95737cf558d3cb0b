//! What the views say of the lab, worked out from the lab and the kernel's answers alone:
//! where each link's ends live, how a link and its ends stand in the kernel, the host
//! row's name, a tooltip, a run's name, what a problem's path points
//! into. Pure, so it is tested natively.

use nslab_model::api::{LiveLink, RunKind};
use nslab_model::edit::Selection;
use nslab_model::identity::LinkRef;
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

/// The class of a link end: `up` (carrier), `nocarrier`, `down`, `absent` (not in the kernel).
pub fn end_state(live: Option<&LiveLink>) -> &'static str {
    match live {
        None => "absent",
        Some(link) if link.up && link.oper_up => "up",
        Some(link) if link.up => "nocarrier",
        Some(_) => "down",
    }
}

/// The class of a link from the classes of its ends (see `end_state`): absent if either end
/// is, else down if either is, up if both are, else without carrier.
pub fn link_state(a: &str, b: &str) -> &'static str {
    if a == "absent" || b == "absent" {
        "absent"
    } else if a == "down" || b == "down" {
        "down"
    } else if a == "up" && b == "up" {
        "up"
    } else {
        "nocarrier"
    }
}

/// An end's state (see `end_state`) in words, for its port's tooltip.
pub fn end_state_words(state: &str) -> &'static str {
    match state {
        "up" => "up, with carrier",
        "nocarrier" => "up, no carrier",
        "down" => "down",
        _ => "not in the kernel",
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
    use nslab_model::identity::Netns;

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
        let live = |up, oper_up| LiveLink { netns: Netns::Host, name: "v".into(), up, oper_up, owner: None };
        assert_eq!(end_state(None), "absent");
        assert_eq!(end_state(Some(&live(true, true))), "up");
        assert_eq!(end_state(Some(&live(true, false))), "nocarrier");
        assert_eq!(end_state(Some(&live(false, true))), "down");
        assert_eq!(link_state("up", "up"), "up");
        assert_eq!(link_state("up", "nocarrier"), "nocarrier");
        assert_eq!(link_state("nocarrier", "down"), "down");
        assert_eq!(link_state("down", "absent"), "absent");
        assert_eq!(end_state_words("nocarrier"), "up, no carrier");
        assert_eq!(end_state_words("absent"), "not in the kernel");
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
