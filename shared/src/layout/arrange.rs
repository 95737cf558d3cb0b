//! Where nodes go when scan, import or the editor places them: a layered layout readable at 5 nodes and
//! at 300, placing nodes that have no position, and the zoom that fits the lab in view.
//!
//! The layout works in cells of [`LAYOUT_COLUMN`] x [`LAYOUT_ROW`], wider and taller than
//! any node box, so no two nodes overlap. Hubs (the host and the bridges) sit on a row,
//! each with the namespaces plugged into it in a block below. Namespaces on no hub (chains,
//! routers) are laid out per connected group, in the order of a walk along their links,
//! left to right and back (so a chain that wraps stays joined at the turns). Blocks are
//! packed in bands of bounded width, so a large lab comes out roughly as wide as the
//! screen is and not as one endless row. Everything depends on document order only.

use std::collections::{BTreeSet, HashMap};

use super::{position, set_position, snap, Point, NODE_HALF_HEIGHT, NODE_HALF_WIDTH};
use crate::lab::{Lab, Link, Node};

/// Width of one layout cell: a node box (140) and room for the interface labels.
pub const LAYOUT_COLUMN: f64 = 200.0;
/// Height of one layout cell: a node box (64) and room for a link between rows.
pub const LAYOUT_ROW: f64 = 140.0;
/// Where the first cell's centre is.
const LEFT: f64 = 100.0;
const TOP: f64 = 80.0;
/// A band of blocks is at least this many cells wide before it wraps.
const BAND_COLUMNS: usize = 12;
/// A block of this many nodes or fewer is one row.
const ONE_ROW: usize = 6;
/// Width over height, in cells, that large blocks aim for (a screen is about 16:9).
const CELL_ASPECT: f64 = 1.12;

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
/// them by [`auto_layout`] when no node has a position, else on rows below the drawing.
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
    let mut next = lab.clone();
    let missing = next.nodes.iter_mut().filter(|node| position(node).is_none());
    for (count, node) in missing.enumerate() {
        let (row, column) = (count / BAND_COLUMNS, count % BAND_COLUMNS);
        let at = Point { x: left + column as f64 * LAYOUT_COLUMN, y: bottom + (row + 1) as f64 * LAYOUT_ROW };
        set_position(node, snap(at));
    }
    next
}

/// The zoom that shows every node box with [`FIT_MARGIN`] around them in a viewport of
/// `width` x `height` screen pixels: `(scale, offset)` with `screen = world * scale +
/// offset`. The lab is centred; it is never magnified beyond [`MAX_FIT_SCALE`]. Nodes
/// without a position count as at the origin, where the editor draws them.
pub fn fit(lab: &Lab, width: f64, height: f64) -> (f64, Point) {
    if lab.nodes.is_empty() || !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
        return (1.0, Point::ORIGIN);
    }
    let points: Vec<Point> = lab.nodes.iter().map(|node| position(node).unwrap_or(Point::ORIGIN)).collect();
    let min_x = points.iter().map(|p| p.x).fold(f64::INFINITY, f64::min) - NODE_HALF_WIDTH;
    let max_x = points.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max) + NODE_HALF_WIDTH;
    let min_y = points.iter().map(|p| p.y).fold(f64::INFINITY, f64::min) - NODE_HALF_HEIGHT;
    let max_y = points.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max) + NODE_HALF_HEIGHT;
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

/// A rectangle of cells holding some nodes.
struct Block {
    /// A hub on the top row, centred over the members.
    hub: Option<usize>,
    members: Vec<usize>,
    /// Members go back and forth on alternate rows (a chain stays joined where it turns).
    snake: bool,
    columns: usize,
}

impl Block {
    fn new(hub: Option<usize>, members: Vec<usize>, snake: bool) -> Self {
        let columns = columns_for(members.len()).max(1);
        Block { hub, members, snake, columns }
    }

    fn rows(&self) -> usize {
        usize::from(self.hub.is_some()) + self.members.len().div_ceil(self.columns)
    }
}

/// Columns for a block of `count` members: one row when small, else about as wide as a
/// screen for the number of rows.
fn columns_for(count: usize) -> usize {
    if count <= ONE_ROW {
        return count;
    }
    let balanced = (count as f64 * CELL_ASPECT).sqrt().ceil() as usize;
    balanced.clamp(ONE_ROW, count)
}

/// The centre of every node, by index.
fn spots(lab: &Lab) -> Vec<Point> {
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
    let hub_blocks: Vec<Block> =
        hubs.iter().map(|&hub| Block::new(Some(hub), members.remove(&hub).unwrap_or_default(), false)).collect();
    let rest: Vec<usize> =
        (0..lab.nodes.len()).filter(|&i| matches!(lab.nodes[i], Node::Namespace(_)) && !grouped[i]).collect();
    let group_blocks: Vec<Block> = graph.walks(&rest).into_iter().map(|walk| Block::new(None, walk, true)).collect();

    let limit = band_columns(hub_blocks.iter().chain(&group_blocks));
    let mut spots = vec![Point::ORIGIN; lab.nodes.len()];
    let mut top = 0usize;
    for blocks in [hub_blocks, group_blocks] {
        top = pack(&blocks, top, limit, &mut spots);
    }
    spots
}

/// How many cells wide a band may be: the widest block, at least [`BAND_COLUMNS`], and
/// wide enough that all blocks (with the gaps around them) make a screen-shaped picture.
fn band_columns<'b>(blocks: impl Iterator<Item = &'b Block>) -> usize {
    let (mut widest, mut area) = (0usize, 0usize);
    for block in blocks {
        widest = widest.max(block.columns);
        area += (block.columns + 1) * (block.rows() + 1);
    }
    let balanced = (area as f64 * CELL_ASPECT).sqrt().ceil() as usize;
    balanced.max(widest).max(BAND_COLUMNS)
}

/// Packs blocks left to right in bands of at most `limit` cells, starting at row `top`;
/// returns the first free row after them (with an empty row between bands).
fn pack(blocks: &[Block], mut top: usize, limit: usize, spots: &mut [Point]) -> usize {
    let mut left = 0.0f64;
    let mut used_columns = 0usize;
    let mut band_rows = 0usize;
    for block in blocks {
        if used_columns > 0 && used_columns + block.columns > limit {
            top += band_rows + 1;
            (left, used_columns, band_rows) = (0.0, 0, 0);
        }
        place_block(block, LEFT + left, TOP + top as f64 * LAYOUT_ROW, spots);
        // Half a cell between blocks keeps groups apart.
        left += block.columns as f64 * LAYOUT_COLUMN + LAYOUT_COLUMN / 2.0;
        used_columns += block.columns + 1;
        band_rows = band_rows.max(block.rows());
    }
    if band_rows > 0 {
        top += band_rows + 1;
    }
    top
}

fn place_block(block: &Block, left: f64, top: f64, spots: &mut [Point]) {
    let mut first_row = top;
    if let Some(hub) = block.hub {
        spots[hub] = Point { x: left + (block.columns - 1) as f64 * LAYOUT_COLUMN / 2.0, y: top };
        first_row += LAYOUT_ROW;
    }
    for (order, &member) in block.members.iter().enumerate() {
        let (row, mut column) = (order / block.columns, order % block.columns);
        if block.snake && row % 2 == 1 {
            column = block.columns - 1 - column;
        }
        spots[member] = Point { x: left + column as f64 * LAYOUT_COLUMN, y: first_row + row as f64 * LAYOUT_ROW };
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

    fn at(lab: &Lab, name: &str) -> Point {
        lab.node(name).and_then(position).unwrap()
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
        assert_eq!(rows, [80.0, 80.0, 80.0, 80.0, 80.0, 80.0, 220.0, 220.0, 220.0]);
        assert_eq!(columns, [100.0, 300.0, 500.0, 700.0, 900.0, 1100.0, 1100.0, 900.0, 700.0]);
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
        assert_eq!(at(&laid, "br0"), Point::new(300.0, 80.0));
        assert_eq!(at(&laid, "ns1"), Point::new(100.0, 220.0));
        assert_eq!(at(&laid, "ns3"), Point::new(500.0, 220.0));
    }

    #[test]
    fn missing_positions_are_filled_below_the_drawing() {
        let mut lab = Lab::new("t");
        lab = add_node(&lab, NodeKind::Namespace, Point::new(400.0, 200.0)).0;
        lab = add_node(&lab, NodeKind::Namespace, Point::new(0.0, 100.0)).0;
        lab.nodes.push(Node::Bridge(crate::lab::BridgeNode::new("br0")));
        let placed = place_missing(&lab);
        assert_eq!(at(&placed, "ns1"), Point::new(400.0, 200.0));
        assert_eq!(at(&placed, "br0"), Point::new(0.0, 340.0));
        assert_eq!(place_missing(&placed), placed);
        let mut bare = Lab::new("t");
        bare.nodes.push(Node::Bridge(crate::lab::BridgeNode::new("br0")));
        assert_eq!(place_missing(&bare), auto_layout(&bare));
    }

    #[test]
    fn fitting_centres_and_never_magnifies() {
        /// Node positions, viewport width and height, the scale and offset wanted.
        type Case<'a> = (&'a [(f64, f64)], f64, f64, f64, Point);
        let cases: &[Case] = &[
            (&[], 800.0, 600.0, 1.0, Point::ORIGIN),
            (&[(0.0, 0.0)], 800.0, 600.0, 1.0, Point::new(400.0, 300.0)),
            // 1000 + 140 wide, 64 high: the width decides, (800 - 80) / 1140.
            (
                &[(0.0, 0.0), (1000.0, 0.0)],
                800.0,
                600.0,
                720.0 / 1140.0,
                Point::new(400.0 - 500.0 * 720.0 / 1140.0, 300.0),
            ),
            (&[(0.0, 0.0)], 0.0, 600.0, 1.0, Point::ORIGIN),
            (&[(0.0, 0.0)], f64::NAN, 600.0, 1.0, Point::ORIGIN),
        ];
        for (points, width, height, scale, offset) in cases {
            let mut lab = Lab::new("t");
            for &(x, y) in *points {
                lab = add_node(&lab, NodeKind::Namespace, Point::new(x, y)).0;
            }
            let (got_scale, got_offset) = fit(&lab, *width, *height);
            assert!((got_scale - scale).abs() < 1e-9, "{points:?}: {got_scale} != {scale}");
            assert!((got_offset.x - offset.x).abs() < 1e-6 && (got_offset.y - offset.y).abs() < 1e-6, "{got_offset:?}");
        }
    }
}
