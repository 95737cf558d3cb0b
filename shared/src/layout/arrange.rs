//! Where nodes go when scan, import or the editor places them: a layout readable at 5 nodes
//! and at 300, placing nodes that have no position, and the zoom that fits the lab in view.
//!
//! The layout works with the real size of every node's card (see `card`): columns as wide
//! as the widest card, rows as tall as their tallest, with [`GAP_X`] and [`GAP_Y`] between
//! cards for the veths, so no two cards overlap. Hubs (the host and the bridges) sit on a
//! row, each with the namespaces plugged into it in a block below (hub and spokes).
//! Namespaces on no hub (chains, routers) are laid out per connected group, in the order of
//! a walk along their links, left to right and back (so a chain that wraps stays joined at
//! the turns). Blocks are packed in bands of bounded width, so a large lab comes out
//! roughly screen-shaped and not as one endless row. Everything depends on document order
//! only. (Why this and not a general layout engine: docs/editor.md.)

use std::collections::{BTreeSet, HashMap};

use super::card::{cards, Card};
use super::free::place_in_free_space;
use super::{position, set_position, snap, Point};
use crate::lab::{Lab, Link, Node};

/// Room between two cards side by side: the veths between them run there.
pub const GAP_X: f64 = 100.0;
/// Room between two rows of cards.
pub const GAP_Y: f64 = 60.0;
/// Where the first card's top left corner is.
const LEFT: f64 = 40.0;
const TOP: f64 = 40.0;
/// A band of blocks is at least this many columns wide before it wraps.
const BAND_COLUMNS: usize = 8;
/// A block of this many nodes or fewer is one row.
const ONE_ROW: usize = 6;
/// Width over height that large layouts aim for (a screen is about 16:9).
const SCREEN_ASPECT: f64 = 1.6;

/// Screen pixels kept free around the lab by [`fit`].
pub const FIT_MARGIN: f64 = 40.0;
/// [`fit`] never magnifies more than this: a lab of two nodes stays at its natural size.
pub const MAX_FIT_SCALE: f64 = 1.0;

/// Positions every node (see the module comment); the rest of the lab is unchanged.
pub fn auto_layout(lab: &Lab) -> Lab {
    let spots = spots(lab);
    let mut next = lab.clone();
    for (node, at) in next.nodes.iter_mut().zip(spots) {
        set_position(node, snap(at));
    }
    next
}

/// Gives a place to the nodes that have none, leaving the others where they are: all of
/// them by [`auto_layout`] when no node has a position, else each in the free space
/// nearest the bottom left of the drawing.
pub fn place_missing(lab: &Lab) -> Lab {
    let placed: Vec<Point> = lab.nodes.iter().filter_map(position).collect();
    if placed.len() == lab.nodes.len() {
        return lab.clone();
    }
    if placed.is_empty() {
        return auto_layout(lab);
    }
    let left = placed.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
    let bottom = placed.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max);
    let near = Point { x: left, y: bottom };
    let missing: Vec<String> =
        lab.nodes.iter().filter(|node| position(node).is_none()).map(|node| node.name().to_string()).collect();
    missing.iter().fold(lab.clone(), |next, name| place_in_free_space(&next, name, near))
}

/// The zoom that shows every card with [`FIT_MARGIN`] around them in a viewport of
/// `width` x `height` screen pixels: `(scale, offset)` with `screen = world * scale +
/// offset`. The lab is centred; it is never magnified beyond [`MAX_FIT_SCALE`]. Nodes
/// without a position count as at the origin, where the editor draws them.
pub fn fit(lab: &Lab, width: f64, height: f64) -> (f64, Point) {
    if lab.nodes.is_empty() || !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
        return (1.0, Point::ORIGIN);
    }
    let (min_x, min_y, max_x, max_y) = bounds(lab);
    if !(min_x.is_finite() && max_x.is_finite() && min_y.is_finite() && max_y.is_finite()) {
        return (1.0, Point::ORIGIN);
    }
    // A viewport too small for the margin gets none.
    let margin = if width > 4.0 * FIT_MARGIN && height > 4.0 * FIT_MARGIN { FIT_MARGIN } else { 0.0 };
    let scale =
        ((width - 2.0 * margin) / (max_x - min_x)).min((height - 2.0 * margin) / (max_y - min_y)).min(MAX_FIT_SCALE);
    let centre = Point { x: (min_x + max_x) / 2.0, y: (min_y + max_y) / 2.0 };
    (scale, Point { x: width / 2.0 - centre.x * scale, y: height / 2.0 - centre.y * scale })
}

/// The world rectangle that holds every card: (left, top, right, bottom); infinite for a
/// lab without nodes.
pub fn bounds(lab: &Lab) -> (f64, f64, f64, f64) {
    let cards = cards(lab);
    let init = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    lab.nodes.iter().fold(init, |(left, top, right, bottom), node| {
        let at = position(node).unwrap_or(Point::ORIGIN);
        let (w, h) = cards.get(node.name()).map_or((0.0, 0.0), Card::half);
        (left.min(at.x - w), top.min(at.y - h), right.max(at.x + w), bottom.max(at.y + h))
    })
}

/// The sizes the layout works with: one column width for the lab, each card's height.
struct Sizes {
    column: f64,
    heights: Vec<f64>,
}

impl Sizes {
    fn of(lab: &Lab) -> Self {
        let cards = cards(lab);
        let size = |node: &Node| cards.get(node.name()).map_or((0.0, 0.0), |card| (card.width, card.height));
        let widest = lab.nodes.iter().map(|node| size(node).0).fold(0.0, f64::max);
        Sizes { column: widest + GAP_X, heights: lab.nodes.iter().map(|node| size(node).1).collect() }
    }

    /// The height of a row of these nodes: its tallest card.
    fn row_height(&self, nodes: &[usize]) -> f64 {
        nodes.iter().map(|&node| self.heights[node]).fold(0.0, f64::max)
    }
}

/// A rectangle of cards: a hub over its members, or a group laid along a walk.
struct Block {
    /// A hub on the top row, centred over the members.
    hub: Option<usize>,
    members: Vec<usize>,
    /// Members go back and forth on alternate rows (a chain stays joined where it turns).
    snake: bool,
    columns: usize,
    /// The height of each row, the hub's first.
    rows: Vec<f64>,
}

impl Block {
    fn new(hub: Option<usize>, members: Vec<usize>, snake: bool, sizes: &Sizes) -> Self {
        let typical = sizes.row_height(&members) + GAP_Y;
        let columns = columns_for(members.len(), sizes.column, typical).max(1);
        let mut rows: Vec<f64> = hub.map(|hub| sizes.heights[hub]).into_iter().collect();
        rows.extend(members.chunks(columns).map(|row| sizes.row_height(row)));
        Block { hub, members, snake, columns, rows }
    }

    fn width(&self, sizes: &Sizes) -> f64 {
        self.columns as f64 * sizes.column - GAP_X
    }

    fn height(&self) -> f64 {
        self.rows.iter().sum::<f64>() + GAP_Y * self.rows.len().saturating_sub(1) as f64
    }
}

/// Columns for a block of `count` members: one row when small, else screen-shaped for
/// cells of `column` x `row` world units.
fn columns_for(count: usize, column: f64, row: f64) -> usize {
    if count <= ONE_ROW {
        return count;
    }
    let balanced = (count as f64 * SCREEN_ASPECT * row / column).sqrt().ceil() as usize;
    balanced.clamp(ONE_ROW, count)
}

/// The centre of every node, by index.
fn spots(lab: &Lab) -> Vec<Point> {
    let sizes = Sizes::of(lab);
    let graph = Graph::of(lab);
    let hubs: Vec<usize> = {
        let hosts = (0..lab.nodes.len()).filter(|&i| matches!(lab.nodes[i], Node::Host(_)));
        let bridges = (0..lab.nodes.len()).filter(|&i| matches!(lab.nodes[i], Node::Bridge(_)));
        hosts.chain(bridges).collect()
    };
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut grouped = vec![false; lab.nodes.len()];
    for index in (0..lab.nodes.len()).filter(|&i| matches!(lab.nodes[i], Node::Namespace(_))) {
        // The hub with the most links to this namespace; the first such hub on a tie.
        let best = hubs.iter().filter(|&&hub| graph.weight(index, hub) > 0).max_by_key(|&&hub| {
            let order = hubs.iter().position(|&h| h == hub).unwrap_or(0);
            (graph.weight(index, hub), std::cmp::Reverse(order))
        });
        if let Some(&hub) = best {
            members.entry(hub).or_default().push(index);
            grouped[index] = true;
        }
    }
    let mut blocks: Vec<Block> = hubs
        .iter()
        .map(|&hub| Block::new(Some(hub), members.remove(&hub).unwrap_or_default(), false, &sizes))
        .collect();
    let rest: Vec<usize> =
        (0..lab.nodes.len()).filter(|&i| matches!(lab.nodes[i], Node::Namespace(_)) && !grouped[i]).collect();
    blocks.extend(graph.walks(&rest).into_iter().map(|walk| Block::new(None, walk, true, &sizes)));

    let limit = band_width(&blocks, &sizes);
    let mut spots = vec![Point::ORIGIN; lab.nodes.len()];
    pack(&blocks, limit, &sizes, &mut spots);
    spots
}

/// How wide a band may be: the widest block, at least [`BAND_COLUMNS`] columns, and wide
/// enough that all blocks (with the gaps around them) make a screen-shaped picture.
fn band_width(blocks: &[Block], sizes: &Sizes) -> f64 {
    let (mut widest, mut area) = (0.0f64, 0.0);
    for block in blocks {
        widest = widest.max(block.width(sizes));
        area += (block.width(sizes) + sizes.column) * (block.height() + 2.0 * GAP_Y);
    }
    let balanced = (area * SCREEN_ASPECT).sqrt();
    balanced.max(widest).max(BAND_COLUMNS as f64 * sizes.column)
}

/// Packs blocks left to right in bands at most `limit` wide, a band under the other.
fn pack(blocks: &[Block], limit: f64, sizes: &Sizes, spots: &mut [Point]) {
    let (mut left, mut top, mut band_height) = (0.0f64, 0.0f64, 0.0f64);
    for block in blocks {
        if left > 0.0 && left + block.width(sizes) > limit {
            top += band_height + 2.0 * GAP_Y;
            (left, band_height) = (0.0, 0.0);
        }
        place_block(block, Point { x: LEFT + left, y: TOP + top }, sizes, spots);
        // Half a column more between blocks keeps groups apart.
        left += block.width(sizes) + GAP_X + sizes.column / 2.0;
        band_height = band_height.max(block.height());
    }
}

/// Puts the cards of `block` in place, its top left corner at `corner`.
fn place_block(block: &Block, corner: Point, sizes: &Sizes, spots: &mut [Point]) {
    let card_width = sizes.column - GAP_X;
    let mut row_tops = Vec::with_capacity(block.rows.len());
    let mut top = corner.y;
    for height in &block.rows {
        row_tops.push(top);
        top += height + GAP_Y;
    }
    let mut rows = row_tops.iter().zip(&block.rows).map(|(top, height)| top + height / 2.0);
    if let Some(hub) = block.hub {
        let middle = rows.next().unwrap_or(corner.y);
        spots[hub] = Point { x: corner.x + block.width(sizes) / 2.0, y: middle };
    }
    let middles: Vec<f64> = rows.collect();
    for (order, &member) in block.members.iter().enumerate() {
        let (row, mut column) = (order / block.columns, order % block.columns);
        if block.snake && row % 2 == 1 {
            column = block.columns - 1 - column;
        }
        let x = corner.x + column as f64 * sizes.column + card_width / 2.0;
        spots[member] = Point { x, y: middles[row] };
    }
}

/// Which nodes are joined, and by how many links (a bridge also counts as joined to the
/// namespace it lives in). Names resolve to the first node of that name.
struct Graph {
    neighbours: Vec<BTreeSet<usize>>,
    weights: HashMap<(usize, usize), usize>,
}

impl Graph {
    fn of(lab: &Lab) -> Self {
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (index, node) in lab.nodes.iter().enumerate() {
            by_name.entry(node.name()).or_insert(index);
        }
        let mut graph = Graph { neighbours: vec![BTreeSet::new(); lab.nodes.len()], weights: HashMap::new() };
        for link in &lab.links {
            let Link::Veth(veth) = link;
            if let (Some(&a), Some(&b)) = (by_name.get(veth.a.node.as_str()), by_name.get(veth.b.node.as_str())) {
                graph.join(a, b);
            }
        }
        for (index, node) in lab.nodes.iter().enumerate() {
            if let Node::Bridge(bridge) = node {
                if let Some(&home) = bridge.namespace.as_deref().and_then(|home| by_name.get(home)) {
                    graph.join(index, home);
                }
            }
        }
        graph
    }

    fn join(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.neighbours[a].insert(b);
        self.neighbours[b].insert(a);
        *self.weights.entry((a.min(b), a.max(b))).or_default() += 1;
    }

    fn weight(&self, a: usize, b: usize) -> usize {
        self.weights.get(&(a.min(b), a.max(b))).copied().unwrap_or(0)
    }

    /// The connected groups among `nodes` (links to other nodes ignored), each in the order
    /// of a depth-first walk from its least connected node: a chain from one end to the
    /// other, a ring around. Groups come in the order of their first node.
    fn walks(&self, nodes: &[usize]) -> Vec<Vec<usize>> {
        let inside: BTreeSet<usize> = nodes.iter().copied().collect();
        let degree = |node: usize| self.neighbours[node].iter().filter(|n| inside.contains(n)).count();
        let mut seen = vec![false; self.neighbours.len()];
        let mut walks = Vec::new();
        for &first in nodes {
            if seen[first] {
                continue;
            }
            let group = self.group(first, &inside);
            let start = group.iter().copied().min_by_key(|&node| (degree(node), node)).unwrap_or(first);
            let mut walk = Vec::with_capacity(group.len());
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                if seen[node] {
                    continue;
                }
                seen[node] = true;
                walk.push(node);
                let next = self.neighbours[node].iter().rev().filter(|n| inside.contains(n) && !seen[**n]);
                stack.extend(next);
            }
            walks.push(walk);
        }
        walks
    }

    /// The nodes reachable from `first` within `inside`, in index order.
    fn group(&self, first: usize, inside: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut group = BTreeSet::from([first]);
        let mut stack = vec![first];
        while let Some(node) = stack.pop() {
            for &next in &self.neighbours[node] {
                if inside.contains(&next) && group.insert(next) {
                    stack.push(next);
                }
            }
        }
        group
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{add_node, connect, NodeKind};
    use crate::layout::Rect;

    fn at(lab: &Lab, name: &str) -> Point {
        lab.node(name).and_then(position).unwrap()
    }

    fn rect(lab: &Lab, name: &str) -> Rect {
        Rect::around(at(lab, name), cards(lab)[name].half())
    }

    fn assert_apart(lab: &Lab) {
        for (i, a) in lab.nodes.iter().enumerate() {
            for b in &lab.nodes[i + 1..] {
                let (ra, rb) = (rect(lab, a.name()), rect(lab, b.name()));
                assert!(!ra.grown(GAP_Y / 3.0).overlaps(&rb), "{} {ra:?} and {} {rb:?}", a.name(), b.name());
            }
        }
    }

    #[test]
    fn a_chain_goes_left_to_right_and_turns_back() {
        let mut lab = Lab::new("t");
        for _ in 0..9 {
            lab = add_node(&lab, NodeKind::Namespace, Point::ORIGIN).0;
        }
        for index in 1..9 {
            lab = connect(&lab, &format!("ns{}", index + 1), &format!("ns{index}")).unwrap().0;
        }
        let laid = auto_layout(&lab);
        let rows: Vec<f64> = (1..=9).map(|i| at(&laid, &format!("ns{i}")).y).collect();
        let columns: Vec<f64> = (1..=9).map(|i| at(&laid, &format!("ns{i}")).x).collect();
        // Nine nodes are wider than one row of 6: 6 columns, then 3 back from the right.
        assert!(rows[..6].iter().all(|y| *y == rows[0]) && rows[6..].iter().all(|y| *y == rows[6]));
        assert!(rows[6] > rows[0]);
        assert!(columns[..6].windows(2).all(|pair| pair[0] < pair[1]), "{columns:?}");
        assert_eq!(columns[6], columns[5], "the chain turns under its last node");
        assert!(columns[6..].windows(2).all(|pair| pair[0] > pair[1]), "{columns:?}");
        assert_apart(&laid);
    }

    #[test]
    fn a_bridge_sits_over_its_namespaces() {
        let mut lab = Lab::new("t");
        lab = add_node(&lab, NodeKind::Bridge, Point::ORIGIN).0;
        for _ in 0..3 {
            lab = add_node(&lab, NodeKind::Namespace, Point::ORIGIN).0;
        }
        for index in 1..=3 {
            lab = connect(&lab, "br0", &format!("ns{index}")).unwrap().0;
        }
        let laid = auto_layout(&lab);
        assert_eq!(at(&laid, "br0").x, at(&laid, "ns2").x);
        assert!(rect(&laid, "br0").bottom + GAP_Y / 2.0 <= rect(&laid, "ns1").top, "room under the bridge card");
        assert_apart(&laid);
    }

    #[test]
    fn tall_cards_push_the_rows_below_them_down() {
        // A bridge of eight ports is a tall card; the namespaces under it keep clear.
        let mut lab = Lab::new("t");
        lab = add_node(&lab, NodeKind::Bridge, Point::ORIGIN).0;
        for index in 1..=8 {
            lab = add_node(&lab, NodeKind::Namespace, Point::ORIGIN).0;
            lab = connect(&lab, "br0", &format!("ns{index}")).unwrap().0;
        }
        assert_apart(&auto_layout(&lab));
    }

    #[test]
    fn missing_positions_are_filled_in_free_space() {
        let mut lab = Lab::new("t");
        lab = add_node(&lab, NodeKind::Namespace, Point::new(400.0, 200.0)).0;
        lab = add_node(&lab, NodeKind::Namespace, Point::new(0.0, 100.0)).0;
        lab.nodes.push(Node::Bridge(crate::lab::BridgeNode::new("br0")));
        lab.nodes.push(Node::Bridge(crate::lab::BridgeNode::new("br1")));
        let placed = place_missing(&lab);
        assert_eq!(at(&placed, "ns1"), Point::new(400.0, 200.0));
        assert_apart(&placed);
        assert_eq!(place_missing(&placed), placed);
        let mut bare = Lab::new("t");
        bare.nodes.push(Node::Bridge(crate::lab::BridgeNode::new("br0")));
        assert_eq!(place_missing(&bare), auto_layout(&bare));
    }

    #[test]
    fn fitting_centres_and_never_magnifies() {
        let card = |lab: &Lab| cards(lab)["ns1"].clone();
        let one = add_node(&Lab::new("t"), NodeKind::Namespace, Point::ORIGIN).0;
        assert_eq!(fit(&one, 800.0, 600.0), (1.0, Point::new(400.0, 300.0)));
        let two = add_node(&one, NodeKind::Namespace, Point::new(1000.0, 0.0)).0;
        let (w, _) = card(&two).half();
        // 1000 + a card wide: the width decides.
        let scale = 720.0 / (1000.0 + 2.0 * w);
        let (got_scale, got_offset) = fit(&two, 800.0, 600.0);
        assert!((got_scale - scale).abs() < 1e-9, "{got_scale} != {scale}");
        assert!((got_offset.x - (400.0 - 500.0 * scale)).abs() < 1e-6 && (got_offset.y - 300.0).abs() < 1e-6);
        assert_eq!(fit(&Lab::new("t"), 800.0, 600.0), (1.0, Point::ORIGIN));
        assert_eq!(fit(&one, 0.0, 600.0), (1.0, Point::ORIGIN));
        assert_eq!(fit(&one, f64::NAN, 600.0), (1.0, Point::ORIGIN));
    }
}
