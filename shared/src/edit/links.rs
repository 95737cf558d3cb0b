//! Links: connecting two nodes with a veth, moving a veth's end, and the inspector's
//! settings of an interface (a veth end or a bridge).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::nodes::{drop_routes_through_gone, rename_node, rename_route_devices};
use super::{interface_names_in, refuse_new_clash, Side};
use crate::identity::Netns;
use crate::lab::{Endpoint, Lab, Link, Node, VethLink};
use crate::names::{next_free_name, port_name_base, unique_interface_name};
use crate::topology::Topology;

/// Connects two nodes with a new veth (`from` is end `a`, `to` is end `b`) and returns the
/// new lab and the new link's index. The ends get free names: `eth0`, `eth1`, ... in a
/// namespace; `veth-<other node>` on a bridge (a port, in the bridge's namespace) and on
/// the host (whose namespace holds interfaces the lab does not know, such as the machine's
/// own `eth0`). Two bridges may be joined; a node cannot be joined to itself.
pub fn connect(lab: &Lab, from: &str, to: &str) -> Result<(Lab, usize), String> {
    let topology = Topology::of(lab);
    let (from_node, to_node) = (known(lab, from)?, known(lab, to)?);
    if from == to {
        return Err(match from_node {
            Node::Bridge(_) => {
                format!("a cable from bridge `{from}` back to itself would make a loop; connect it to another node")
            }
            node => format!(
                "a veth from `{from}` back to itself joins nothing; connect the {} to another node",
                node.kind_word()
            ),
        });
    }
    let (from_place, to_place) = (place(&topology, from_node)?, place(&topology, to_node)?);
    let mut taken_from = interface_names_in(&topology, &from_place);
    let a = end_name(from_node, to, &taken_from);
    taken_from.insert(a.clone());
    let b = if to_place == from_place {
        end_name(to_node, from, &taken_from)
    } else {
        end_name(to_node, from, &interface_names_in(&topology, &to_place))
    };
    let mut next = lab.clone();
    next.links.push(Link::Veth(VethLink { a: Endpoint::new(from, a), b: Endpoint::new(to, b), editor: None }));
    Ok((next, lab.links.len()))
}

/// Plugs one end of a veth into another node, with a free name there; its addresses and
/// other settings stay. Routes through the end in its old namespace go.
pub fn reconnect(lab: &Lab, link: usize, side: Side, to: &str) -> Result<Lab, String> {
    let veth = veth(lab, link)?;
    let (end, other) = (veth.end(side), veth.end(side.other()));
    if end.node == to {
        return Ok(lab.clone());
    }
    let to_node = known(lab, to)?;
    if other.node == to {
        return Err(format!("the other end of this veth is already on `{to}`; a veth joins two different nodes"));
    }
    let topology = Topology::of(lab);
    let taken = interface_names_in(&topology, &place(&topology, to_node)?);
    let name = end_name(to_node, &other.node, &taken);
    let mut next = lab.clone();
    let Link::Veth(moved) = &mut next.links[link];
    let end = moved.end_mut(side);
    end.node = to.to_string();
    end.name = name;
    drop_routes_through_gone(lab, &mut next);
    Ok(next)
}

fn known<'l>(lab: &'l Lab, name: &str) -> Result<&'l Node, String> {
    lab.node(name).ok_or_else(|| format!("there is no node called `{name}`"))
}

fn veth(lab: &Lab, link: usize) -> Result<&VethLink, String> {
    match lab.links.get(link) {
        Some(Link::Veth(veth)) => Ok(veth),
        None => Err(format!("there is no link {link}; the lab has {}", lab.links.len())),
    }
}

/// The namespace an end on `node` lives in.
fn place(topology: &Topology, node: &Node) -> Result<Netns, String> {
    match topology.netns_of_node(node.name()) {
        Some(netns) => Ok(netns.clone()),
        None => {
            let home = match node {
                Node::Bridge(bridge) => bridge.namespace.as_deref().unwrap_or_default(),
                _ => "",
            };
            Err(format!(
                "bridge `{}` lives in `{home}`, which is not a namespace of this lab; choose where it lives first",
                node.name()
            ))
        }
    }
}

fn end_name(node: &Node, other: &str, taken: &HashSet<String>) -> String {
    match node {
        Node::Namespace(_) => next_free_name("eth", 0, |name| taken.contains(name)),
        Node::Host(_) | Node::Bridge(_) => unique_interface_name(&port_name_base(other), |name| taken.contains(name)),
    }
}

/// A setting of an interface, as the inspector changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterfaceChange {
    /// The interface name, as typed; routes through it follow. Empty and taken names are
    /// refused; the rest (length, characters) is validation's to report.
    Name(String),
    /// The addresses, each kept as typed.
    Addresses(Vec<String>),
    /// The addresses as one text field: pieces separated by commas, spaces or new lines
    /// (see [`addresses_from_text`]), each kept as typed.
    AddressesText(String),
    /// The MTU; None for the default (see [`mtu_from_text`] for a text field).
    Mtu(Option<u32>),
    /// Administrative state.
    Up(bool),
    /// The MAC address as typed; empty (or blank) means none, and the kernel picks one.
    Mac(String),
}

/// Changes a setting of one end of a veth. Refused: an unknown link, an empty name, a name
/// another interface in the same namespace has.
pub fn set_interface(lab: &Lab, link: usize, side: Side, change: InterfaceChange) -> Result<Lab, String> {
    veth(lab, link)?;
    let mut next = lab.clone();
    let Link::Veth(veth) = &mut next.links[link];
    let end = veth.end_mut(side);
    match change {
        InterfaceChange::Name(name) => {
            if name == end.name {
                return Ok(next);
            }
            if name.is_empty() {
                return Err("an interface needs a name, such as `eth0`".to_string());
            }
            let old = std::mem::replace(&mut end.name, name.clone());
            let topology = Topology::of(lab);
            if let Some(netns) = topology.veth_ends(link).map(|ends| ends[side as usize].netns.clone()) {
                rename_route_devices(&mut next, &topology, &netns, &old, &name);
            }
            return refuse_new_clash(lab, next);
        }
        InterfaceChange::Addresses(addresses) => end.addresses = addresses,
        InterfaceChange::AddressesText(text) => end.addresses = addresses_from_text(&text),
        InterfaceChange::Mtu(mtu) => end.mtu = mtu,
        InterfaceChange::Up(up) => end.up = up,
        InterfaceChange::Mac(mac) => end.mac = mac_of(mac),
    }
    Ok(next)
}

/// Changes a setting of a bridge (the bridge device itself). A new name renames the node,
/// as [`rename_node`] does.
pub fn set_bridge(lab: &Lab, bridge: &str, change: InterfaceChange) -> Result<Lab, String> {
    let Some(index) = lab.nodes.iter().position(|node| node.name() == bridge) else {
        return Err(format!("there is no node called `{bridge}`"));
    };
    if !matches!(lab.nodes[index], Node::Bridge(_)) {
        return Err(format!("`{bridge}` is a {}, not a bridge", lab.nodes[index].kind_word()));
    }
    if let InterfaceChange::Name(name) = &change {
        return rename_node(lab, bridge, name);
    }
    let mut next = lab.clone();
    let Node::Bridge(node) = &mut next.nodes[index] else { unreachable!("checked above") };
    match change {
        InterfaceChange::Name(_) => unreachable!("handled above"),
        InterfaceChange::Addresses(addresses) => node.addresses = addresses,
        InterfaceChange::AddressesText(text) => node.addresses = addresses_from_text(&text),
        InterfaceChange::Mtu(mtu) => node.mtu = mtu,
        InterfaceChange::Up(up) => node.up = up,
        InterfaceChange::Mac(mac) => node.mac = mac_of(mac),
    }
    Ok(next)
}

fn mac_of(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// Addresses typed into one field: pieces separated by commas, white space or new lines,
/// each kept exactly as typed (validation parses them), empty pieces dropped.
pub fn addresses_from_text(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|piece| !piece.is_empty())
        .map(str::to_string)
        .collect()
}

/// Addresses shown in one field, as [`addresses_from_text`] reads them back.
pub fn addresses_to_text(addresses: &[String]) -> String {
    addresses.join(", ")
}

/// An MTU typed into a field: empty means the default (None); otherwise a whole number.
/// Its range is validation's to check.
pub fn mtu_from_text(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>().map(Some).map_err(|_| {
        format!("`{text}` is not an MTU; write a whole number of bytes such as 1500, or nothing for the default")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{add_host, add_node, NodeKind, Point};
    use crate::lab::{NamespaceNode, Route};
    use crate::validate;

    fn ends(lab: &Lab, link: usize) -> (String, String) {
        let Link::Veth(veth) = &lab.links[link];
        (veth.a.name.clone(), veth.b.name.clone())
    }

    fn lab_with(nodes: &[(NodeKind, usize)]) -> Lab {
        let mut lab = Lab::new("t");
        for &(kind, count) in nodes {
            for _ in 0..count {
                lab = add_node(&lab, kind, Point::ORIGIN).0;
            }
        }
        lab
    }

    fn assert_valid(lab: &Lab) {
        let errors: Vec<_> = validate(lab).into_iter().filter(|problem| problem.is_error()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn ends_get_names_by_where_they_live() {
        let base = lab_with(&[(NodeKind::Namespace, 2), (NodeKind::Bridge, 2)]);
        let (base, _) = add_host(&base, Point::ORIGIN).unwrap();
        // Each row connects on top of the lab the previous rows made.
        let cases = [
            ("ns1", "ns2", "eth0", "eth0"),
            ("ns1", "ns2", "eth1", "eth1"),
            ("ns1", "br0", "eth2", "veth-ns1"),
            ("br0", "ns1", "veth-ns1-2", "eth3"),
            ("br0", "br1", "veth-br1", "veth-br0"),
            ("host", "ns2", "veth-ns2", "eth2"),
            ("host", "br0", "veth-br0-2", "veth-host"),
        ];
        let mut lab = base;
        for (from, to, want_a, want_b) in cases {
            let (next, index) = connect(&lab, from, to).unwrap();
            assert_eq!(index, lab.links.len());
            assert_eq!(ends(&next, index), (want_a.to_string(), want_b.to_string()), "{from} -> {to}");
            assert_valid(&next);
            lab = next;
        }
    }

    #[test]
    fn connecting_refuses_what_makes_no_sense() {
        let lab = lab_with(&[(NodeKind::Namespace, 1), (NodeKind::Bridge, 1)]);
        let cases = [
            ("ns1", "ns1", "a veth from `ns1` back to itself joins nothing; connect the namespace to another node"),
            ("br0", "br0", "a cable from bridge `br0` back to itself would make a loop; connect it to another node"),
            ("ns1", "ns9", "there is no node called `ns9`"),
            ("zz", "ns1", "there is no node called `zz`"),
        ];
        for (from, to, want) in cases {
            assert_eq!(connect(&lab, from, to).unwrap_err(), want);
        }
        let mut homeless = lab.clone();
        if let Node::Bridge(bridge) = &mut homeless.nodes[1] {
            bridge.namespace = Some("gone".into());
        }
        assert!(connect(&homeless, "ns1", "br0").unwrap_err().contains("lives in `gone`"));
    }

    #[test]
    fn a_bridge_in_the_same_namespace_gets_distinct_names() {
        let mut lab = lab_with(&[(NodeKind::Namespace, 1), (NodeKind::Bridge, 1)]);
        if let Node::Bridge(bridge) = &mut lab.nodes[1] {
            bridge.namespace = Some("ns1".into());
        }
        let (lab, index) = connect(&lab, "ns1", "br0").unwrap();
        assert_eq!(ends(&lab, index), ("eth0".into(), "veth-ns1".into()));
        assert_valid(&lab);
    }

    #[test]
    fn twenty_namespaces_on_one_bridge_get_twenty_valid_port_names() {
        let mut lab = lab_with(&[(NodeKind::Bridge, 1), (NodeKind::Namespace, 20)]);
        for index in 1..=20 {
            lab = connect(&lab, "br0", &format!("ns{index}")).unwrap().0;
        }
        let ports: HashSet<String> = (0..20).map(|link| ends(&lab, link).0).collect();
        assert_eq!(ports.len(), 20);
        assert!(ports.contains("veth-ns20"));
        assert_valid(&lab);
    }

    #[test]
    fn long_node_names_give_short_distinct_port_names() {
        let mut lab = lab_with(&[(NodeKind::Bridge, 1)]);
        for index in 0..12 {
            lab.nodes.push(Node::Namespace(NamespaceNode::new(format!("a-rather-long-namespace-name-{index}"))));
        }
        lab.nodes.push(Node::Namespace(NamespaceNode::new("ns:with spaces/ö")));
        let others: Vec<String> = lab.nodes[1..].iter().map(|node| node.name().to_string()).collect();
        for other in &others {
            lab = connect(&lab, "br0", other).unwrap().0;
            lab = connect(&lab, other, "br0").unwrap().0;
        }
        let mut seen = HashSet::new();
        for link in 0..lab.links.len() {
            let (port, _) = ends(&lab, link);
            let (_, port_b) = ends(&lab, link);
            for name in [port, port_b].into_iter().filter(|name| name.starts_with("veth")) {
                assert!(name.len() <= 15, "{name}");
                assert!(seen.insert(name.clone()), "{name} twice");
            }
        }
        assert!(seen.contains("veth-a-rather-l"), "{seen:?}");
        assert!(seen.contains("veth-a-rather-2"), "{seen:?}");
        let namespace_names: Vec<_> = validate(&lab).into_iter().filter(|p| p.is_error()).collect();
        assert!(namespace_names.iter().all(|p| p.rule == crate::Rule::NamespaceName), "{namespace_names:#?}");
    }

    #[test]
    fn reconnecting_moves_one_end_with_a_fresh_name() {
        let lab = lab_with(&[(NodeKind::Namespace, 3), (NodeKind::Bridge, 1)]);
        let (lab, link) = connect(&lab, "ns1", "ns2").unwrap();
        let lab = set_interface(&lab, link, Side::B, InterfaceChange::AddressesText("10.0.0.2/24".into())).unwrap();
        let moved = reconnect(&lab, link, Side::B, "br0").unwrap();
        let Link::Veth(veth) = &moved.links[link];
        assert_eq!((veth.b.node.as_str(), veth.b.name.as_str()), ("br0", "veth-ns1"));
        assert_eq!(veth.b.addresses, ["10.0.0.2/24"]);
        assert!(reconnect(&lab, link, Side::B, "ns1").unwrap_err().contains("already on `ns1`"));
        assert_eq!(reconnect(&lab, link, Side::B, "ns2").unwrap(), lab);
        assert!(reconnect(&lab, 7, Side::A, "ns3").unwrap_err().contains("there is no link 7"));
    }

    #[test]
    fn interface_settings_are_kept_as_typed() {
        let lab = lab_with(&[(NodeKind::Namespace, 2), (NodeKind::Bridge, 1)]);
        let (lab, link) = connect(&lab, "ns1", "ns2").unwrap();
        let end = |lab: &Lab| {
            let Link::Veth(veth) = &lab.links[link];
            veth.a.clone()
        };
        type Check = fn(&Endpoint) -> bool;
        let cases: Vec<(InterfaceChange, Check)> = vec![
            (InterfaceChange::AddressesText("10.0.0.1/24, fd00::1/64\n10.0.".into()), |e| {
                e.addresses == ["10.0.0.1/24", "fd00::1/64", "10.0."]
            }),
            (InterfaceChange::Addresses(vec!["x y".into()]), |e| e.addresses == ["x y"]),
            (InterfaceChange::Mtu(Some(9000)), |e| e.mtu == Some(9000)),
            (InterfaceChange::Up(false), |e| !e.up),
            (InterfaceChange::Mac("02:00:00:00:00:01".into()), |e| e.mac.as_deref() == Some("02:00:00:00:00:01")),
            (InterfaceChange::Mac(" ".into()), |e| e.mac.is_none()),
            (InterfaceChange::Name("uplink".into()), |e| e.name == "uplink"),
            (InterfaceChange::Name("a-name-much-too-long".into()), |e| e.name == "a-name-much-too-long"),
        ];
        for (change, check) in cases {
            let next = set_interface(&lab, link, Side::A, change.clone()).unwrap();
            assert!(check(&end(&next)), "{change:?}: {:?}", end(&next));
            assert_eq!(end(&lab).name, "eth0", "the input is unchanged");
        }
        let refused = [
            (InterfaceChange::Name(String::new()), "an interface needs a name, such as `eth0`"),
            (InterfaceChange::Name("eth0".into()), ""),
        ];
        for (change, want) in refused {
            match set_interface(&lab, link, Side::A, change.clone()) {
                Ok(next) => assert!(want.is_empty() && next == lab, "{change:?}"),
                Err(error) => assert_eq!(error, want),
            }
        }
        let (lab, second) = connect(&lab, "ns1", "ns2").unwrap();
        assert_eq!(
            set_interface(&lab, second, Side::A, InterfaceChange::Name("eth0".into())).unwrap_err(),
            "Namespace `ns1` already has an interface called `eth0`; names must differ within a namespace"
        );
        assert!(set_interface(&lab, 9, Side::A, InterfaceChange::Up(true)).is_err());
    }

    #[test]
    fn routes_follow_a_renamed_interface() {
        let lab = lab_with(&[(NodeKind::Namespace, 2)]);
        let (mut lab, link) = connect(&lab, "ns1", "ns2").unwrap();
        let route = |dev: &str| Route { to: "10.9.0.0/16".into(), via: None, dev: Some(dev.into()), metric: None };
        if let Node::Namespace(ns) = &mut lab.nodes[0] {
            ns.routes = vec![route("eth0"), route("lo")];
        }
        if let Node::Namespace(ns) = &mut lab.nodes[1] {
            ns.routes = vec![route("eth0")];
        }
        let renamed = set_interface(&lab, link, Side::A, InterfaceChange::Name("up0".into())).unwrap();
        assert_eq!(renamed.nodes[0].routes(), [route("up0"), route("lo")]);
        assert_eq!(renamed.nodes[1].routes(), [route("eth0")], "the other namespace's eth0 is another interface");
    }

    #[test]
    fn bridge_settings() {
        let lab = lab_with(&[(NodeKind::Namespace, 1), (NodeKind::Bridge, 1)]);
        let next = set_bridge(&lab, "br0", InterfaceChange::AddressesText("10.1.0.1/24".into())).unwrap();
        let Node::Bridge(bridge) = &next.nodes[1] else { unreachable!() };
        assert_eq!(bridge.addresses, ["10.1.0.1/24"]);
        let next = set_bridge(&next, "br0", InterfaceChange::Name("lan".into())).unwrap();
        assert_eq!(next.nodes[1].name(), "lan");
        assert_eq!(
            set_bridge(&lab, "ns1", InterfaceChange::Up(false)).unwrap_err(),
            "`ns1` is a namespace, not a bridge"
        );
    }

    #[test]
    fn text_fields() {
        assert_eq!(addresses_from_text(" 10.0.0.1/24,,fd00::1/64 ;\n\t10.0. "), ["10.0.0.1/24", "fd00::1/64", "10.0."]);
        assert_eq!(addresses_from_text(&addresses_to_text(&["a".into(), "b".into()])), ["a", "b"]);
        assert_eq!(mtu_from_text(""), Ok(None));
        assert_eq!(mtu_from_text(" 9000 "), Ok(Some(9000)));
        assert!(mtu_from_text("15oo").unwrap_err().starts_with("`15oo` is not an MTU"));
    }
}
