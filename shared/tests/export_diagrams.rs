//! The drawings of a lab, checked as their readers read them: the draw.io file as the
//! mxGraph XML draw.io writes (`mxfile/diagram/mxGraphModel/root/mxCell`, a vertex per node
//! at its position, an edge per veth from node to node), the Mermaid flowchart as one node
//! per lab node and one edge per link, and the DOT graph's nodes, edges and positions.
//! (Graphviz itself renders the DOT in `tests/tests/export_diagrams.rs`.)

use std::collections::HashMap;
use std::path::PathBuf;

use nslab_model::export::Format;
use nslab_model::lab::{Endpoint, HostNode, Lab, Link, Node, Route, VethLink};
use nslab_model::layout::{card_of, position};
use nslab_model::netem::Netem;

fn examples() -> Vec<Lab> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut labs: Vec<Lab> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let json = path.extension().is_some_and(|extension| extension == "json");
            json.then(|| serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap())
        })
        .collect();
    labs.push(odd_lab());
    labs
}

/// The router example with what a drawing must escape and show: a host node with
/// forwarding and a route, a description with quotes, `<`, `&` and a line break, a netem,
/// an end that is down.
fn odd_lab() -> Lab {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/router.json")).unwrap();
    let mut lab: Lab = serde_json::from_str(&text).unwrap();
    lab.name = "odd".to_string();
    lab.description = "a \"quoted\" <tag> & more\nsecond line | # %%".to_string();
    let mut host = HostNode::new("host");
    host.ipv4_forwarding = Some(true);
    host.routes.push(Route { to: "10.0.0.0/8".into(), via: Some("10.9.0.2".into()), dev: None, metric: None });
    lab.nodes.push(Node::Host(host));
    let mut far = Endpoint::new("left", "up0");
    far.addresses.push("10.9.0.2/24".into());
    far.up = false;
    let mut near = Endpoint::new("host", "to-left");
    near.addresses.push("10.9.0.1/24".into());
    near.netem = Some(Netem { delay: Some("20ms".into()), loss: Some("1%".into()), ..Netem::default() });
    lab.links.push(Link::Veth(VethLink { a: near, b: far, editor: None }));
    nslab_model::layout::place_missing(&lab)
}

/// The one element child of `node`, which must be called `tag`.
fn only_child<'a, 'input>(node: roxmltree::Node<'a, 'input>, tag: &str, lab: &str) -> roxmltree::Node<'a, 'input> {
    let found: Vec<_> = node.children().filter(|c| c.is_element()).collect();
    assert_eq!(found.len(), 1, "{lab}: one <{tag}>");
    assert_eq!(found[0].tag_name().name(), tag, "{lab}");
    found[0]
}

#[test]
fn the_drawio_file_is_the_mxgraph_xml_drawio_writes() {
    for lab in examples() {
        let xml = Format::Drawio.render(&lab);
        check_drawio(&lab, &xml);
    }
}

fn check_drawio(lab: &Lab, xml: &str) {
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", lab.name));
    let mxfile = document.root_element();
    assert_eq!(mxfile.tag_name().name(), "mxfile");
    let child = |node, tag| only_child(node, tag, &lab.name);
    let root = child(child(child(mxfile, "diagram"), "mxGraphModel"), "root");
    let cells: Vec<_> = root.children().filter(|c| c.is_element()).collect();
    assert!(cells.iter().all(|cell| cell.tag_name().name() == "mxCell"), "{}", lab.name);
    assert_eq!((cells[0].attribute("id"), cells[1].attribute("parent")), (Some("0"), Some("0")));
    let vertices: Vec<_> = cells
        .iter()
        .filter(|cell| cell.attribute("vertex") == Some("1") && cell.attribute("parent") == Some("1"))
        .collect();
    let edges: Vec<_> = cells.iter().filter(|cell| cell.attribute("edge") == Some("1")).collect();
    assert_eq!(vertices.len(), lab.nodes.len(), "{}: a vertex per node", lab.name);
    assert_eq!(edges.len(), lab.links.len(), "{}: an edge per veth", lab.name);
    let mut names: HashMap<&str, &str> = HashMap::new();
    for (vertex, node) in vertices.iter().zip(&lab.nodes) {
        let value = vertex.attribute("value").unwrap();
        assert!(value.starts_with(&format!("<b>{}</b>", node.name())), "{value}");
        let geometry = vertex.children().find(|c| c.has_tag_name("mxGeometry")).expect("a geometry");
        let number = |name: &str| geometry.attribute(name).unwrap().parse::<f64>().unwrap();
        let card = card_of(lab, node);
        let at = position(node).expect("every node is placed");
        assert_eq!((number("x"), number("y")), (at.x - card.width / 2.0, at.y - card.height / 2.0), "{}", node.name());
        assert_eq!((number("width"), number("height")), (card.width, card.height));
        names.insert(vertex.attribute("id").unwrap(), node.name());
    }
    for (edge, Link::Veth(veth)) in edges.iter().zip(&lab.links) {
        let end = |side: &str| names.get(edge.attribute(side).unwrap()).copied();
        assert_eq!((end("source"), end("target")), (Some(veth.a.node.as_str()), Some(veth.b.node.as_str())));
        let id = edge.attribute("id").unwrap();
        let labels: Vec<&str> = cells
            .iter()
            .filter(|cell| cell.attribute("parent") == Some(id))
            .filter_map(|cell| cell.attribute("value"))
            .collect();
        assert_eq!(labels.len(), 2, "a label at each end");
        assert!(labels[0].starts_with(&veth.a.name) && labels[1].starts_with(&veth.b.name), "{labels:?}");
        for address in veth.a.addresses.iter().chain(&veth.b.addresses) {
            assert!(labels.iter().any(|label| label.contains(address.as_str())), "{address} in {labels:?}");
        }
    }
}

#[test]
fn the_mermaid_flowchart_has_a_node_per_lab_node_and_an_edge_per_link() {
    for lab in examples() {
        let text = Format::Mermaid.render(&lab);
        let mut lines = text.lines().filter(|line| !line.starts_with("%%"));
        assert_eq!(lines.next(), Some("graph LR"), "{text}");
        let body: Vec<&str> = lines.map(str::trim).collect();
        let edges: Vec<&str> = body.iter().copied().filter(|line| line.contains(" ---|")).collect();
        let nodes: Vec<&str> = body.iter().copied().filter(|line| !line.contains(" ---|")).collect();
        assert_eq!(nodes.len(), lab.nodes.len(), "{text}");
        assert_eq!(edges.len(), lab.links.len(), "{text}");
        for (index, (line, node)) in nodes.iter().zip(&lab.nodes).enumerate() {
            let shape = match node {
                Node::Host(_) => "{{\"",
                Node::Namespace(_) => "[\"",
                Node::Bridge(_) => "([\"",
            };
            let opening = format!("n{index}{shape}{}<br/>", node.name());
            assert!(line.starts_with(&opening), "{line} starts with {opening}");
            assert_eq!(line.matches('"').count(), 2, "one quoted label: {line}");
        }
        let id = |name: &str| format!("n{}", lab.nodes.iter().position(|node| node.name() == name).unwrap());
        for (line, Link::Veth(veth)) in edges.iter().zip(&lab.links) {
            let (from, rest) = line.split_once(" ---|\"").unwrap();
            let (label, to) = rest.rsplit_once("\"| ").unwrap();
            assert_eq!((from.to_string(), to.to_string()), (id(&veth.a.node), id(&veth.b.node)));
            assert!(!label.contains('"') && !label.contains('|'), "{label}");
            assert!(label.starts_with(&veth.a.name) && label.contains(&format!("— {}", veth.b.name)), "{label}");
        }
    }
}

#[test]
fn the_dot_graph_says_names_addresses_routes_forwarding_and_positions() {
    for lab in examples() {
        let dot = Format::Dot.render(&lab);
        let edges = dot.lines().filter(|line| line.contains("\" -- \"")).count();
        assert_eq!(edges, lab.links.len(), "{dot}");
        let top = lab.nodes.iter().filter_map(position).map(|at| at.y).fold(0.0, f64::max);
        for node in &lab.nodes {
            let at = position(node).unwrap();
            let line = dot.lines().find(|line| line.starts_with(&format!("  \"{}\" [label=", node.name()))).unwrap();
            assert!(line.contains(&format!("pos=\"{},{}!\"", at.x, top - at.y)), "{line}");
            for route in node.routes() {
                assert!(line.contains(&route.to), "{line}");
            }
        }
        for Link::Veth(veth) in &lab.links {
            for address in veth.a.addresses.iter().chain(&veth.b.addresses) {
                assert!(dot.contains(address.as_str()), "{address}");
            }
        }
    }
    let router = Format::Dot.render(&examples().into_iter().find(|lab| lab.name == "router").unwrap());
    assert!(router.contains("\"router\\nnamespace\\nforwarding IPv4, IPv6\""), "{router}");
    assert!(router.contains("default via 10.0.1.1"), "{router}");
}
