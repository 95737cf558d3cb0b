//! The editor's edits as a user drives them: random edit sequences keep a valid lab valid,
//! undo takes them all back, layouts of small and large labs never overlap and fit in
//! view, and the teaching view shows just the commands of an edit.

use nslab_model::edit::{
    add_host, add_node, auto_layout, commands_for_edit, connect, delete, fit, move_nodes, place_missing, position,
    reconnect, rename_node, set_interface, set_node, History, InterfaceChange, NodeChange, NodeKind, Point, Selection,
    Side,
};
use nslab_model::layout::{cards, Rect};
use nslab_model::load::load_lab_str;
use nslab_model::{validate, Lab, Node, Route};
use proptest::prelude::*;

const EXAMPLES: [(&str, &str); 3] = [
    ("seed-veth", include_str!("../../examples/seed-veth.json")),
    ("seed-bridge", include_str!("../../examples/seed-bridge.json")),
    ("router", include_str!("../../examples/router.json")),
];

fn example(name: &str) -> Lab {
    let (_, text) = EXAMPLES.iter().find(|(example, _)| *example == name).expect("a known example");
    load_lab_str(text).unwrap()
}

fn errors(lab: &Lab) -> Vec<String> {
    validate(lab).into_iter().filter(|problem| problem.is_error()).map(|problem| problem.to_string()).collect()
}

fn star(count: usize) -> Lab {
    let mut lab = add_node(&Lab::new("star"), NodeKind::Bridge, Point::ORIGIN).0;
    for _ in 0..count {
        let (next, name) = add_node(&lab, NodeKind::Namespace, Point::ORIGIN);
        lab = connect(&next, "br0", &name).unwrap().0;
    }
    lab
}

fn chain(count: usize) -> Lab {
    let mut lab = Lab::new("chain");
    for index in 1..=count {
        lab = add_node(&lab, NodeKind::Namespace, Point::ORIGIN).0;
        if index > 1 {
            lab = connect(&lab, &format!("ns{}", index - 1), &format!("ns{index}")).unwrap().0;
        }
    }
    lab
}

/// Thirty bridges with ten namespaces each, the bridges joined in a row, and a host.
fn campus() -> Lab {
    let (mut lab, _) = add_host(&Lab::new("campus"), Point::ORIGIN).unwrap();
    for bridge in 0..30 {
        lab = add_node(&lab, NodeKind::Bridge, Point::ORIGIN).0;
        for _ in 0..10 {
            let (next, name) = add_node(&lab, NodeKind::Namespace, Point::ORIGIN);
            lab = connect(&next, &format!("br{bridge}"), &name).unwrap().0;
        }
        if bridge > 0 {
            lab = connect(&lab, &format!("br{}", bridge - 1), &format!("br{bridge}")).unwrap().0;
        }
    }
    connect(&lab, "host", "br0").unwrap().0
}

/// Every node has a position on the grid, no two cards overlap (nor come closer than
/// `GAP`), and `fit` shows them all.
fn assert_readable(name: &str, lab: &Lab) {
    const GAP: f64 = 40.0;
    let cards = cards(lab);
    let rects: Vec<Rect> = lab
        .nodes
        .iter()
        .map(|node| {
            let point = position(node).expect("placed");
            assert!(point.x % 20.0 == 0.0 && point.y % 20.0 == 0.0, "{name}: {point:?} is off the grid");
            Rect::around(point, cards[node.name()].half())
        })
        .collect();
    let mut sorted: Vec<(usize, Rect)> = rects.iter().copied().enumerate().collect();
    sorted.sort_by(|a, b| a.1.left.total_cmp(&b.1.left));
    for (i, (first, a)) in sorted.iter().enumerate() {
        for (second, b) in sorted[i + 1..].iter().take_while(|(_, b)| b.left < a.right + GAP) {
            assert!(
                !a.grown(GAP / 2.0).overlaps(&b.grown(GAP / 2.0)),
                "{name}: `{}` at {a:?} and `{}` at {b:?} overlap",
                lab.nodes[*first].name(),
                lab.nodes[*second].name()
            );
        }
    }
    for (width, height) in [(1280.0, 800.0), (800.0, 1200.0), (300.0, 200.0)] {
        let (scale, offset) = fit(lab, width, height);
        assert!(scale > 0.0 && scale <= 1.0, "{name}: scale {scale}");
        for card in &rects {
            let left = card.left * scale + offset.x;
            let right = card.right * scale + offset.x;
            let top = card.top * scale + offset.y;
            let bottom = card.bottom * scale + offset.y;
            let inside = left >= -1e-6 && top >= -1e-6 && right <= width + 1e-6 && bottom <= height + 1e-6;
            assert!(inside, "{name}: {card:?} is out of a {width}x{height} view ({scale}, {offset:?})");
        }
    }
}

#[test]
fn layouts_of_small_and_large_labs_are_readable() {
    let mut labs: Vec<(String, Lab)> = EXAMPLES.iter().map(|(name, _)| (name.to_string(), example(name))).collect();
    labs.push(("star of 300".into(), star(300)));
    labs.push(("chain of 300".into(), chain(300)));
    labs.push(("30 bridges of 10".into(), campus()));
    for (name, lab) in labs {
        let laid = auto_layout(&lab);
        assert_readable(&name, &laid);
        assert_eq!(auto_layout(&lab), laid, "{name}: the layout depends on the lab only");
        assert_eq!(auto_layout(&laid), laid, "{name}: laying out again changes nothing");
        let mut without_positions = laid.clone();
        for node in &mut without_positions.nodes {
            match node {
                Node::Host(host) => host.editor = None,
                Node::Namespace(namespace) => namespace.editor = None,
                Node::Bridge(bridge) => bridge.editor = None,
            }
        }
        assert_eq!(place_missing(&without_positions), laid, "{name}: a lab without positions gets the layout");
        assert_eq!(errors(&laid), errors(&lab), "{name}: layout touches positions only");
    }
}

#[test]
fn large_layouts_are_about_as_wide_as_a_screen() {
    for (name, lab) in [("star", star(300)), ("chain", chain(300)), ("campus", campus())] {
        let laid = auto_layout(&lab);
        let points: Vec<Point> = laid.nodes.iter().filter_map(position).collect();
        let width =
            points.iter().map(|p| p.x).fold(f64::MIN, f64::max) - points.iter().map(|p| p.x).fold(f64::MAX, f64::min);
        let height =
            points.iter().map(|p| p.y).fold(f64::MIN, f64::max) - points.iter().map(|p| p.y).fold(f64::MAX, f64::min);
        let aspect = width / height;
        eprintln!("{name}: {width} x {height}");
        assert!((0.8..=2.5).contains(&aspect), "{name}: {width} x {height}");
    }
}

#[test]
fn the_seed_bridge_example_lays_out_as_drawn_in_the_article() {
    let laid = auto_layout(&example("seed-bridge"));
    let at = |name: &str| position(laid.node(name).unwrap()).unwrap();
    assert_eq!(at("docker0").x, at("ns1").x, "the bridge is centred over its namespaces");
    assert!(at("docker0").y < at("ns1").y);
    assert!(at("ns0").y == at("ns1").y && at("ns1").y == at("ns2").y);
    assert!(at("ns0").x < at("ns1").x && at("ns1").x < at("ns2").x);
    let router = auto_layout(&example("router"));
    let at = |name: &str| position(router.node(name).unwrap()).unwrap();
    assert!(at("left").x < at("router").x && at("router").x < at("right").x, "a chain reads left to right");
}

#[test]
fn adding_a_namespace_to_the_bridge_shows_just_its_commands() {
    let before = example("seed-bridge");
    let (with_node, name) = add_node(&before, NodeKind::Namespace, Point::new(880.0, 340.0));
    assert_eq!(name, "ns3");
    let (after, link) = connect(&with_node, "docker0", "ns3").unwrap();
    let after = set_interface(&after, link, Side::B, InterfaceChange::AddressesText("172.17.0.104/16".into())).unwrap();
    assert_eq!(errors(&after), Vec::<String>::new());
    assert_eq!(
        commands_for_edit(&before, &after),
        [
            "ip netns add ns3",
            "ip -n ns3 link set dev lo up",
            "ip link add veth-ns3 type veth peer name eth0 netns ns3",
            "ip link set dev veth-ns3 master docker0",
            "ip link set dev veth-ns3 up",
            "ip -n ns3 link set dev eth0 up",
            "ip -n ns3 addr add 172.17.0.104/16 dev eth0",
        ]
    );
    // Moving a node changes nothing in the kernel.
    let moved = move_nodes(&after, ["ns3"], Point::new(40.0, 0.0));
    assert_eq!(commands_for_edit(&after, &moved), Vec::<String>::new());
    // And deleting it again takes it away (the host end first: a namespace goes away
    // asynchronously, and its veth with it).
    let undone = delete(&after, &Selection::node("ns3"));
    assert_eq!(commands_for_edit(&after, &undone), ["ip link delete veth-ns3", "ip netns delete ns3"]);
}

#[test]
fn a_half_typed_address_shows_nothing_until_it_is_whole() {
    let lab = example("seed-veth");
    let mut typed = lab.clone();
    let mut steps = Vec::new();
    for text in ["192.168.1.1/24 1", "192.168.1.1/24 10.", "192.168.1.1/24 10.0.0.1/", "192.168.1.1/24 10.0.0.1/8"] {
        let next = set_interface(&typed, 0, Side::A, InterfaceChange::AddressesText(text.into())).unwrap();
        steps.push(commands_for_edit(&typed, &next));
        typed = next;
    }
    assert_eq!(steps[..3], [Vec::<String>::new(), vec![], vec![]]);
    assert_eq!(steps[3], ["ip -n ns0 addr add 10.0.0.1/8 dev veth0"]);
    assert_eq!(commands_for_edit(&lab, &typed), ["ip -n ns0 addr add 10.0.0.1/8 dev veth0"]);
}

#[test]
fn renaming_the_lab_plans_nothing_and_renaming_an_interface_plans_a_rename() {
    let lab = example("seed-veth");
    let renamed = Lab { name: "other".into(), ..lab.clone() };
    assert_eq!(commands_for_edit(&lab, &renamed), Vec::<String>::new());
    let interface = set_interface(&lab, 0, Side::A, InterfaceChange::Name("eth0".into())).unwrap();
    let commands = commands_for_edit(&lab, &interface);
    assert!(commands.iter().any(|command| command.contains("name eth0")), "{commands:#?}");
}

#[derive(Debug, Clone)]
enum Action {
    AddNamespace(i16, i16),
    AddBridge,
    AddHost,
    Connect(usize, usize),
    Reconnect(usize, bool, usize),
    Delete(Vec<usize>, Vec<usize>),
    Rename(usize),
    Move(Vec<usize>, i16, i16),
    InterfaceName(usize, bool),
    Addresses(usize, bool),
    Mtu(usize, bool, u32),
    Up(usize, bool, bool),
    Forwarding(usize, bool),
    RouteVia(usize),
    BridgeHome(usize, Option<usize>),
    Layout,
    Undo,
    Redo,
}

fn action() -> impl Strategy<Value = Action> {
    let index = || 0usize..64;
    prop_oneof![
        3 => (any::<i16>(), any::<i16>()).prop_map(|(x, y)| Action::AddNamespace(x, y)),
        1 => Just(Action::AddBridge),
        1 => Just(Action::AddHost),
        4 => (index(), index()).prop_map(|(a, b)| Action::Connect(a, b)),
        1 => (index(), any::<bool>(), index()).prop_map(|(l, s, n)| Action::Reconnect(l, s, n)),
        1 => (prop::collection::vec(index(), 0..3), prop::collection::vec(index(), 0..3))
            .prop_map(|(n, l)| Action::Delete(n, l)),
        1 => index().prop_map(Action::Rename),
        1 => (prop::collection::vec(index(), 0..4), any::<i16>(), any::<i16>()).prop_map(|(n, x, y)| Action::Move(n, x, y)),
        1 => (index(), any::<bool>()).prop_map(|(l, s)| Action::InterfaceName(l, s)),
        2 => (index(), any::<bool>()).prop_map(|(l, s)| Action::Addresses(l, s)),
        1 => (index(), any::<bool>(), 1280u32..9000).prop_map(|(l, s, m)| Action::Mtu(l, s, m)),
        1 => (index(), any::<bool>(), any::<bool>()).prop_map(|(l, s, u)| Action::Up(l, s, u)),
        1 => (index(), any::<bool>()).prop_map(|(n, on)| Action::Forwarding(n, on)),
        2 => index().prop_map(Action::RouteVia),
        1 => (index(), prop::option::of(index())).prop_map(|(b, n)| Action::BridgeHome(b, n)),
        1 => Just(Action::Layout),
        1 => Just(Action::Undo),
        1 => Just(Action::Redo),
    ]
}

fn side(b: bool) -> Side {
    if b {
        Side::B
    } else {
        Side::A
    }
}

fn node_name(lab: &Lab, index: usize) -> String {
    if lab.nodes.is_empty() {
        return "none".into();
    }
    lab.nodes[index % lab.nodes.len()].name().to_string()
}

fn link_index(lab: &Lab, index: usize) -> usize {
    if lab.links.is_empty() {
        0
    } else {
        index % lab.links.len()
    }
}

/// Runs one action; `step` makes fresh names and addresses. None when the edit was refused
/// (or is an undo/redo, which the history does).
fn run(lab: &Lab, action: &Action, step: usize) -> Option<Lab> {
    let ok = |result: Result<Lab, String>| result.ok();
    match action {
        Action::AddNamespace(x, y) => Some(add_node(lab, NodeKind::Namespace, Point::new(*x as f64, *y as f64)).0),
        Action::AddBridge => Some(add_node(lab, NodeKind::Bridge, Point::ORIGIN).0),
        Action::AddHost => add_host(lab, Point::ORIGIN).ok().map(|(lab, _)| lab),
        Action::Connect(a, b) => connect(lab, &node_name(lab, *a), &node_name(lab, *b)).ok().map(|(lab, _)| lab),
        Action::Reconnect(link, b, node) => {
            ok(reconnect(lab, link_index(lab, *link), side(*b), &node_name(lab, *node)))
        }
        Action::Delete(nodes, links) => {
            let selection = Selection {
                nodes: nodes.iter().map(|&n| node_name(lab, n)).collect(),
                links: links.iter().map(|&l| link_index(lab, l)).collect(),
            };
            Some(delete(lab, &selection))
        }
        Action::Rename(node) => ok(rename_node(lab, &node_name(lab, *node), &format!("n{step}"))),
        Action::Move(nodes, x, y) => {
            let names: Vec<String> = nodes.iter().map(|&n| node_name(lab, n)).collect();
            Some(move_nodes(lab, &names, Point::new(*x as f64, *y as f64)))
        }
        Action::InterfaceName(link, b) => {
            ok(set_interface(lab, link_index(lab, *link), side(*b), InterfaceChange::Name(format!("if{step}"))))
        }
        Action::Addresses(link, b) => {
            // Fresh addresses every time, so none is used twice.
            let text = format!("10.{}.{}.1/24, fd99:{step:x}::1/64", 100 + step / 200, step % 200);
            ok(set_interface(lab, link_index(lab, *link), side(*b), InterfaceChange::AddressesText(text)))
        }
        Action::Mtu(link, b, mtu) => {
            ok(set_interface(lab, link_index(lab, *link), side(*b), InterfaceChange::Mtu(Some(*mtu))))
        }
        Action::Up(link, b, up) => ok(set_interface(lab, link_index(lab, *link), side(*b), InterfaceChange::Up(*up))),
        Action::Forwarding(node, on) => ok(set_node(lab, &node_name(lab, *node), NodeChange::Ipv4Forwarding(*on))),
        Action::RouteVia(node) => {
            // A route through an interface the node has, to a fresh destination.
            let name = node_name(lab, *node);
            let dev = lab.links.iter().flat_map(|link| link.ends()).find(|end| end.node == name)?.name.clone();
            let mut routes = lab.node(&name)?.routes().to_vec();
            routes.push(Route {
                to: format!("172.{}.{}.0/24", 16 + step / 250, step % 250),
                via: None,
                dev: Some(dev),
                metric: None,
            });
            ok(set_node(lab, &name, NodeChange::Routes(routes)))
        }
        Action::BridgeHome(bridge, home) => {
            let home = home.map(|n| node_name(lab, n));
            ok(set_node(lab, &node_name(lab, *bridge), NodeChange::BridgeNamespace(home)))
        }
        Action::Layout => Some(auto_layout(lab)),
        Action::Undo | Action::Redo => None,
    }
}

fn start(choice: usize) -> Lab {
    match choice {
        0 => Lab::new("edits"),
        n => example(EXAMPLES[(n - 1) % EXAMPLES.len()].0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Whatever the user does with the editor's own edits, a valid lab stays valid (warnings
    /// aside), and undoing every step gives back the lab the user started from.
    #[test]
    fn edits_keep_a_valid_lab_valid(choice in 0usize..4, actions in prop::collection::vec(action(), 1..40)) {
        let first = start(choice);
        prop_assert!(errors(&first).is_empty());
        let mut history = History::new(first.clone());
        for (step, action) in actions.iter().enumerate() {
            let before = history.current().clone();
            match action {
                Action::Undo => { history.undo(); }
                Action::Redo => { history.redo(); }
                _ => {
                    if let Some(next) = run(&before, action, step) {
                        history.record(next);
                    }
                }
            }
            let now = history.current();
            prop_assert!(errors(now).is_empty(), "after {action:?}: {:#?}\n{}", errors(now), nslab_model::export::to_json(now));
            let _ = commands_for_edit(&before, now);
        }
        while history.undo().is_some() {}
        prop_assert_eq!(history.current(), &first);
    }
}

/// Text a user might be in the middle of typing.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("10.0.".to_string()),
        Just("10.0.0.1/".to_string()),
        Just("eth0".to_string()),
        Just("ns1".to_string()),
        Just("fd00::1/64".to_string()),
        Just("a name far too long for an interface".to_string()),
        "[a-z0-9./: -]{0,20}",
    ]
}

#[derive(Debug, Clone)]
enum Junk {
    Edit(Action),
    Name(usize, bool, String),
    Addresses(usize, bool, String),
    Mac(usize, bool, String),
    RenameNode(usize, String),
    Route(usize, String, String),
    BridgeHome(usize, String),
}

fn junk() -> impl Strategy<Value = Junk> {
    prop_oneof![
        3 => action().prop_map(Junk::Edit),
        1 => (0usize..64, any::<bool>(), typed()).prop_map(|(l, s, t)| Junk::Name(l, s, t)),
        2 => (0usize..64, any::<bool>(), typed()).prop_map(|(l, s, t)| Junk::Addresses(l, s, t)),
        1 => (0usize..64, any::<bool>(), typed()).prop_map(|(l, s, t)| Junk::Mac(l, s, t)),
        1 => (0usize..64, typed()).prop_map(|(n, t)| Junk::RenameNode(n, t)),
        1 => (0usize..64, typed(), typed()).prop_map(|(n, to, via)| Junk::Route(n, to, via)),
        1 => (0usize..64, typed()).prop_map(|(n, t)| Junk::BridgeHome(n, t)),
    ]
}

fn run_junk(lab: &Lab, junk: &Junk, step: usize) -> Option<Lab> {
    match junk {
        Junk::Edit(action) => run(lab, action, step),
        Junk::Name(l, s, text) => {
            set_interface(lab, link_index(lab, *l), side(*s), InterfaceChange::Name(text.clone())).ok()
        }
        Junk::Addresses(l, s, text) => {
            set_interface(lab, link_index(lab, *l), side(*s), InterfaceChange::AddressesText(text.clone())).ok()
        }
        Junk::Mac(l, s, text) => {
            set_interface(lab, link_index(lab, *l), side(*s), InterfaceChange::Mac(text.clone())).ok()
        }
        Junk::RenameNode(n, text) => rename_node(lab, &node_name(lab, *n), text).ok(),
        Junk::Route(n, to, via) => {
            let route = Route { to: to.clone(), via: Some(via.clone()), dev: None, metric: None };
            set_node(lab, &node_name(lab, *n), NodeChange::Routes(vec![route])).ok()
        }
        Junk::BridgeHome(n, home) => {
            // Straight into the document: a bridge living in a node that is not there.
            let mut next = lab.clone();
            let count = next.nodes.len().max(1);
            if let Some(Node::Bridge(bridge)) = next.nodes.get_mut(*n % count) {
                bridge.namespace = Some(home.clone());
            }
            Some(next)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Half-typed and nonsensical input never makes an edit, the layout or the teaching
    /// view panic, and the commands shown are those of a valid lab only.
    #[test]
    fn nothing_panics_on_half_typed_labs(choice in 0usize..4, steps in prop::collection::vec(junk(), 1..30)) {
        let mut lab = start(choice);
        for (step, junk) in steps.iter().enumerate() {
            let Some(next) = run_junk(&lab, junk, step) else { continue };
            let commands = commands_for_edit(&lab, &next);
            prop_assert!(commands.is_empty() || errors(&next).is_empty());
            let laid = auto_layout(&next);
            let _ = fit(&laid, 800.0, 600.0);
            lab = next;
        }
    }
}
