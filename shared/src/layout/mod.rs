//! Where nodes are drawn: positions on the canvas (kept in each node's editor data), the
//! grid they snap to, each node's card (`card`), the layout that scan, import and the
//! editor's layout button share (`arrange`), and free space for new nodes (`free`). Pure,
//! like the rest of the model: the browser runs it too.

mod arrange;
pub mod card;
mod free;

use serde::{Deserialize, Serialize};

use crate::lab::{EditorData, Lab, Node};

pub use arrange::{auto_layout, bounds, fit, place_missing, FIT_MARGIN, GAP_X, GAP_Y, MAX_FIT_SCALE};
pub use card::{attach_point, card_of, cards, Card, Row};
pub use free::{free_spot, place_in_free_space, Rect};

/// Positions snap to this grid (world units; one unit is one pixel at zoom 1).
pub const GRID: f64 = 20.0;

/// A point on the canvas, in world coordinates (or screen coordinates, where said).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub const ORIGIN: Point = Point { x: 0.0, y: 0.0 };

    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }
}

/// The nearest grid point. Coordinates that are not numbers (NaN, infinities) become 0, so
/// a bad pointer event cannot put `null` into the document.
pub fn snap(at: Point) -> Point {
    let snap_one = |value: f64| if value.is_finite() { (value / GRID).round() * GRID } else { 0.0 };
    Point { x: snap_one(at.x), y: snap_one(at.y) }
}

/// Where a node is drawn: its saved position, when it has both coordinates.
pub fn position(node: &Node) -> Option<Point> {
    let editor = node.editor()?;
    Some(Point { x: editor.x?, y: editor.y? })
}

/// Where the node called `name` is drawn: its position, the origin when it has none, and
/// None when there is no such node.
pub fn node_position(lab: &Lab, name: &str) -> Option<Point> {
    lab.node(name).map(|node| position(node).unwrap_or(Point::ORIGIN))
}

pub(crate) fn editor_mut(node: &mut Node) -> &mut Option<EditorData> {
    match node {
        Node::Host(host) => &mut host.editor,
        Node::Namespace(namespace) => &mut namespace.editor,
        Node::Bridge(bridge) => &mut bridge.editor,
    }
}

/// Puts a node at `at` (not snapped here), keeping the rest of its editor data.
pub(crate) fn set_position(node: &mut Node, at: Point) {
    let editor = editor_mut(node).get_or_insert_with(EditorData::default);
    editor.x = Some(at.x);
    editor.y = Some(at.y);
}
