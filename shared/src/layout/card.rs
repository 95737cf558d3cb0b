//! The card the editor draws for a node: a header (kind icon, name, a detail line) and one
//! row per interface (its name and addresses), where the interface's veth attaches. The
//! layout needs each card's size to keep cards apart, and the canvas needs each row's
//! place to attach links, so both come from here: the model stays the one place that
//! knows how big a node is drawn.
//!
//! Sizes are estimated from character counts: rows are set in a monospace font of
//! [`ROW_FONT`] px, whose advance is at most [`CHAR_WIDTH`] in the fonts browsers use.

use std::collections::HashMap;

use super::Point;
use crate::lab::{Lab, Link, Node};

/// Height of the header: the name and the detail line.
pub const HEADER: f64 = 40.0;
/// Height of one text line of a row.
pub const LINE: f64 = 15.0;
/// Room under the last row.
const BOTTOM: f64 = 8.0;
/// Room left and right of a row's text (the port dot sits on the border).
pub const ROW_PADDING: f64 = 14.0;
/// Font size of rows (svg.css sets it).
pub const ROW_FONT: f64 = 11.0;
/// The widest advance of one character of a row, monospace at [`ROW_FONT`] px.
pub const CHAR_WIDTH: f64 = 7.0;
/// Width of a name character (a proportional, bold font of 14 px is at most this wide).
const NAME_CHAR_WIDTH: f64 = 9.0;
/// Width of a detail character (a proportional font of 11 px is at most this wide).
const DETAIL_CHAR_WIDTH: f64 = 6.5;
/// Room in the header for the kind icon and the connect handle.
const HEADER_SIDES: f64 = 64.0;
/// No card is narrower.
pub const MIN_WIDTH: f64 = 150.0;
/// Rows shown at most; the others are summed up in one last row, where their veths attach
/// (a bridge of 300 ports stays a card, not a wall).
pub const MAX_ROWS: usize = 8;

/// One interface row of a card.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The interface's name, or `+ N more` for the row that sums up the rest.
    pub name: String,
    /// Every address, IPv4 and IPv6.
    pub addresses: Vec<String>,
    /// Where the row's first line is, from the card's top.
    pub top: f64,
}

impl Row {
    /// The row's lines: the name and first address, then one more address a line.
    pub fn lines(&self) -> usize {
        self.addresses.len().max(1)
    }

    /// The middle of the row's first line, from the card's top: where a veth attaches.
    pub fn anchor(&self) -> f64 {
        self.top + LINE / 2.0
    }
}

/// A node's card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The line under the name: the kind, or what the node does (routing, its address).
    pub detail: String,
    pub rows: Vec<Row>,
    /// Interface name -> index of the row its veth attaches to.
    pub attach: HashMap<String, usize>,
    pub width: f64,
    pub height: f64,
}

impl Card {
    pub fn half(&self) -> (f64, f64) {
        (self.width / 2.0, self.height / 2.0)
    }

    /// Where interface `name`'s row is, from the card's centre (None when it has no row).
    pub fn anchor_of(&self, name: &str) -> Option<f64> {
        let row = &self.rows[*self.attach.get(name)?];
        Some(row.anchor() - self.height / 2.0)
    }
}

/// Where the veth of interface `name` leaves the card centred at `centre`: on the side
/// that faces `toward` (the right one when straight above or below), at the middle of the
/// interface's row (of the header when it has none).
pub fn attach_point(centre: Point, card: &Card, name: &str, toward: Point) -> Point {
    let (half_width, half_height) = card.half();
    let side = if toward.x < centre.x { -half_width } else { half_width };
    let dy = card.anchor_of(name).unwrap_or(HEADER / 2.0 - half_height);
    Point { x: centre.x + side, y: centre.y + dy }
}

/// The interfaces of every node (veth ends on it, in link order), by node name.
fn interfaces(lab: &Lab) -> HashMap<&str, Vec<(&str, &[String])>> {
    let mut by_node: HashMap<&str, Vec<(&str, &[String])>> = HashMap::new();
    for link in &lab.links {
        let Link::Veth(veth) = link;
        for end in [&veth.a, &veth.b] {
            by_node.entry(end.node.as_str()).or_default().push((end.name.as_str(), end.addresses.as_slice()));
        }
    }
    by_node
}

/// The card of every node, by name (the first node of a name wins).
pub fn cards(lab: &Lab) -> HashMap<String, Card> {
    let interfaces = interfaces(lab);
    let mut cards = HashMap::with_capacity(lab.nodes.len());
    for node in &lab.nodes {
        let rows = interfaces.get(node.name()).map(Vec::as_slice).unwrap_or_default();
        cards.entry(node.name().to_string()).or_insert_with(|| card(node, rows));
    }
    cards
}

/// The card of one node (see [`cards`] for all of them at once).
pub fn card_of(lab: &Lab, node: &Node) -> Card {
    let interfaces = interfaces(lab);
    card(node, interfaces.get(node.name()).map(Vec::as_slice).unwrap_or_default())
}

fn card(node: &Node, interfaces: &[(&str, &[String])]) -> Card {
    let mut rows = Vec::new();
    let mut attach = HashMap::new();
    let mut top = HEADER;
    let shown = if interfaces.len() > MAX_ROWS { MAX_ROWS - 1 } else { interfaces.len() };
    for (name, addresses) in &interfaces[..shown] {
        let row = Row { name: name.to_string(), addresses: addresses.to_vec(), top };
        top += row.lines() as f64 * LINE;
        attach.entry(name.to_string()).or_insert(rows.len());
        rows.push(row);
    }
    if shown < interfaces.len() {
        let rest = &interfaces[shown..];
        for (name, _) in rest {
            attach.entry(name.to_string()).or_insert(rows.len());
        }
        rows.push(Row { name: format!("+ {} more", rest.len()), addresses: Vec::new(), top });
        top += LINE;
    }
    let widest_row = rows.iter().map(row_width).fold(0.0, f64::max);
    let detail = detail(node);
    let name = node.name().chars().count() as f64 * NAME_CHAR_WIDTH;
    let header = name.max(detail.chars().count() as f64 * DETAIL_CHAR_WIDTH) + HEADER_SIDES;
    let width = snap_up(widest_row.max(header).max(MIN_WIDTH));
    let height = snap_up(top + BOTTOM);
    Card { detail, rows, attach, width, height }
}

/// The line under a node's name: a namespace's routing, a bridge's address, the host.
fn detail(node: &Node) -> String {
    match node {
        Node::Namespace(namespace) => {
            let mut words = Vec::new();
            if namespace.ipv4_forwarding || namespace.ipv6_forwarding {
                words.push("router".to_string());
            }
            match namespace.routes.len() {
                0 => {}
                1 => words.push("1 route".to_string()),
                count => words.push(format!("{count} routes")),
            }
            if words.is_empty() {
                "namespace".to_string()
            } else {
                words.join(", ")
            }
        }
        Node::Bridge(bridge) => match bridge.addresses.as_slice() {
            [] => "bridge".to_string(),
            [only] => format!("bridge {only}"),
            [first, rest @ ..] => format!("bridge {first} +{}", rest.len()),
        },
        Node::Host(_) => "host".to_string(),
    }
}

/// The width a row needs: its longest line, padded.
fn row_width(row: &Row) -> f64 {
    // The first line is "name address"; the others are indented as far as that address.
    let name = row.name.chars().count() + 1;
    let longest_address = row.addresses.iter().map(|a| a.chars().count()).max().unwrap_or(0);
    (name + longest_address) as f64 * CHAR_WIDTH + 2.0 * ROW_PADDING
}

/// Sizes are multiples of two grid steps, so a card centred on the grid has its border on it.
fn snap_up(length: f64) -> f64 {
    let step = 2.0 * super::GRID;
    (length / step).ceil() * step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_lab_str;

    #[test]
    fn a_namespace_card_has_a_row_per_interface_with_every_address() {
        let mut lab = load_lab_str(include_str!("../../../examples/seed-bridge.json")).unwrap();
        let Link::Veth(veth) = &mut lab.links[0];
        veth.b.addresses.push("fd00::10/64".into());
        let veth = veth.clone();
        let cards = cards(&lab);
        let ns0 = &cards[veth.b.node.as_str()];
        assert_eq!(ns0.rows.len(), 1);
        assert_eq!(ns0.rows[0].addresses.len(), 2, "IPv6 too");
        assert_eq!(ns0.rows[0].lines(), 2);
        assert!(ns0.height >= HEADER + 2.0 * LINE);
        let bridge = &cards[veth.a.node.as_str()];
        assert_eq!(bridge.rows.len(), 3, "a bridge lists its ports");
        assert!(bridge.anchor_of(&veth.a.name).is_some());
    }

    #[test]
    fn a_big_bridge_sums_up_the_ports_it_cannot_list() {
        let mut lab = Lab::new("t");
        lab = crate::edit::add_node(&lab, crate::edit::NodeKind::Bridge, crate::layout::Point::ORIGIN).0;
        for index in 0..20 {
            lab = crate::edit::add_node(&lab, crate::edit::NodeKind::Namespace, crate::layout::Point::ORIGIN).0;
            lab = crate::edit::connect(&lab, "br0", &format!("ns{}", index + 1)).unwrap().0;
        }
        let card = &cards(&lab)["br0"];
        assert_eq!(card.rows.len(), MAX_ROWS);
        assert_eq!(card.rows.last().unwrap().name, format!("+ {} more", 20 - MAX_ROWS + 1));
        let Link::Veth(last) = lab.links.last().unwrap();
        let port = if last.a.node == "br0" { &last.a.name } else { &last.b.name };
        assert_eq!(card.attach[port], MAX_ROWS - 1, "the rest attach to the summing row");
    }

    #[test]
    fn cards_are_wide_enough_for_their_longest_line() {
        let mut lab = load_lab_str(include_str!("../../../examples/seed-veth.json")).unwrap();
        let Link::Veth(veth) = &mut lab.links[0];
        let address = "2001:db8:1234:5678:9abc:def0:1234:5678/64";
        veth.a.addresses = vec![address.into()];
        let veth = veth.clone();
        let card = card_of(&lab, lab.node(&veth.a.node).unwrap());
        assert!(card.width >= (veth.a.name.len() + 1 + address.len()) as f64 * CHAR_WIDTH + 2.0 * ROW_PADDING);
        assert_eq!(card.width % 40.0, 0.0);
    }
}
