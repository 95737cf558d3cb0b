//! Where things are drawn: the viewport, node boxes, link ends and their labels, hit
//! tests, the grid, the bounds of the picture. Pure, so it is tested natively.

use nslab_model::edit::{self, Point};
use nslab_model::{Lab, Node};

/// Pan and zoom of the canvas: screen = world * scale + offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub scale: f64,
    pub offset: Point,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport { scale: 1.0, offset: Point { x: 0.0, y: 0.0 } }
    }
}

impl Viewport {
    pub fn to_world(self, screen: Point) -> Point {
        Point { x: (screen.x - self.offset.x) / self.scale, y: (screen.y - self.offset.y) / self.scale }
    }

    /// Zooms by `factor` keeping the world point under `at` (screen pixels) in place.
    pub fn zoom_at(&mut self, at: Point, factor: f64) {
        let world = self.to_world(at);
        self.scale = (self.scale * factor).clamp(0.05, 4.0);
        self.offset = Point { x: at.x - world.x * self.scale, y: at.y - world.y * self.scale };
    }
}

/// A node's position in the document (the origin when it has none yet, or no such node).
pub fn node_point(lab: &Lab, name: &str) -> Point {
    edit::node_position(lab, name).unwrap_or(Point::ORIGIN)
}

/// Half the size of a node's box, by kind.
pub fn half_size(node: &Node) -> (f64, f64) {
    match node {
        Node::Namespace(_) => (70.0, 32.0),
        Node::Host(_) => (70.0, 32.0),
        Node::Bridge(_) => (60.0, 18.0),
    }
}

/// The node whose box holds `at`, the topmost (last drawn) first.
pub fn node_at(lab: &Lab, positions: impl Fn(&str) -> Point, at: Point) -> Option<String> {
    lab.nodes.iter().rev().find_map(|node| {
        let center = positions(node.name());
        let (w, h) = half_size(node);
        ((at.x - center.x).abs() <= w && (at.y - center.y).abs() <= h).then(|| node.name().to_string())
    })
}

/// Where a link leaves a node's box towards `toward`: the box border on the line between
/// the centres, so link ends (and their labels) sit at the edge of the box.
pub fn border_point(center: Point, half: (f64, f64), toward: Point) -> Point {
    let (dx, dy) = (toward.x - center.x, toward.y - center.y);
    if dx == 0.0 && dy == 0.0 {
        return center;
    }
    let scale = (half.0 / dx.abs().max(1e-9)).min(half.1 / dy.abs().max(1e-9)).min(1.0);
    Point { x: center.x + dx * scale, y: center.y + dy * scale }
}

/// A point a fraction of the way from `a` to `b`.
pub fn along(a: Point, b: Point, fraction: f64) -> Point {
    Point { x: a.x + (b.x - a.x) * fraction, y: a.y + (b.y - a.y) * fraction }
}

/// The point `distance` from `a` on the way to `b` (`a` itself when they coincide).
pub fn towards(a: Point, b: Point, distance: f64) -> Point {
    let length = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
    if length < 1e-9 {
        return a;
    }
    along(a, b, (distance / length).min(1.0))
}

/// Where the label of a link end sits and which way it runs from there (an SVG
/// `text-anchor`), for the end at `this` of a link drawn from `this` to `other`; `side` 0 is
/// end a, 1 end b. On a link that runs more across than down, each label starts at its
/// port and runs along the link (end b's below the line), so short links keep their labels
/// off the boxes and apart; on a steeper link, the label is centred a little way along it,
/// above.
pub fn end_label_at(this: Point, other: Point, side: usize) -> (Point, &'static str) {
    let across = (other.x - this.x).abs() > (other.y - this.y).abs();
    let below = if side == 0 { -5.0 } else { 13.0 };
    if across {
        let (dx, anchor) = if this.x <= other.x { (8.0, "start") } else { (-8.0, "end") };
        (Point { x: this.x + dx, y: this.y + below }, anchor)
    } else {
        let at = along(this, other, 0.18);
        (Point { x: at.x, y: at.y - 4.0 }, "middle")
    }
}

/// The world rectangle that holds every node with room for the labels around it:
/// (x, y, width, height).
pub fn picture_bounds(lab: &Lab) -> (f64, f64, f64, f64) {
    const ROOM: f64 = 60.0;
    let boxes = lab.nodes.iter().map(|node| {
        let at = node_point(lab, node.name());
        let (w, h) = half_size(node);
        (at.x - w, at.y - h, at.x + w, at.y + h)
    });
    let (left, top, right, bottom) = boxes.fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |a, b| {
        (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3))
    });
    if left > right {
        return (0.0, 0.0, 2.0 * ROOM, 2.0 * ROOM);
    }
    (left - ROOM, top - ROOM, right - left + 2.0 * ROOM, bottom - top + 2.0 * ROOM)
}

/// The grid lines of a `width` x `height` screen, `spacing` apart and through `offset`
/// (where the world's origin is on the screen), as one SVG path.
pub fn grid_path(offset: Point, spacing: f64, width: f64, height: f64) -> String {
    if !(spacing > 0.0 && width.is_finite() && height.is_finite()) {
        return String::new();
    }
    let first = |origin: f64| origin.rem_euclid(spacing);
    let mut path = String::new();
    // Bounded by the screen's size: spacing is at least a few pixels (see grid_spacing).
    let mut x = first(offset.x);
    while x <= width {
        path.push_str(&format!("M{x:.1} 0V{height:.0}"));
        x += spacing;
    }
    let mut y = first(offset.y);
    while y <= height {
        path.push_str(&format!("M0 {y:.1}H{width:.0}"));
        y += spacing;
    }
    path
}

/// Screen pixels between grid lines at zoom `scale`: the snapping grid, or a multiple of it
/// when zoomed out so far that lines would crowd together.
pub fn grid_spacing(scale: f64) -> f64 {
    let mut spacing = edit::GRID * scale;
    // Bounded: the zoom is clamped to 0.05..4, so at most three steps.
    while spacing < 8.0 && spacing > 0.0 {
        spacing *= 5.0;
    }
    spacing
}

/// Bytes per second in words a person reads at a glance.
pub fn rate(bytes_per_second: f64) -> String {
    let bits = bytes_per_second * 8.0;
    match bits {
        b if b >= 1e9 => format!("{:.1} Gb/s", b / 1e9),
        b if b >= 1e6 => format!("{:.1} Mb/s", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kb/s", b / 1e3),
        b => format!("{b:.0} b/s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[test]
    fn link_ends_sit_on_the_box_border() {
        assert_eq!(border_point(p(0.0, 0.0), (70.0, 32.0), p(200.0, 0.0)), p(70.0, 0.0));
        assert_eq!(border_point(p(0.0, 0.0), (70.0, 32.0), p(0.0, -100.0)), p(0.0, -32.0));
        assert_eq!(border_point(p(5.0, 5.0), (70.0, 32.0), p(5.0, 5.0)), p(5.0, 5.0));
    }

    #[test]
    fn hit_tests_find_the_box_under_the_pointer() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/seed-veth.json")).unwrap();
        let positions = |name: &str| node_point(&lab, name);
        assert_eq!(node_at(&lab, positions, p(165.0, 210.0)), Some("ns0".to_string()));
        assert_eq!(node_at(&lab, positions, p(340.0, 200.0)), None);
    }

    #[test]
    fn ports_sit_a_little_way_along_the_link() {
        assert_eq!(towards(p(0.0, 0.0), p(100.0, 0.0), 6.0), p(6.0, 0.0));
        assert_eq!(towards(p(0.0, 0.0), p(0.0, 3.0), 6.0), p(0.0, 3.0));
        assert_eq!(towards(p(1.0, 1.0), p(1.0, 1.0), 6.0), p(1.0, 1.0));
    }

    #[test]
    fn rates_read_in_bits() {
        assert_eq!(rate(0.0), "0 b/s");
        assert_eq!(rate(1500.0), "12.0 kb/s");
        assert_eq!(rate(2.5e6), "20.0 Mb/s");
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer() {
        let mut viewport = Viewport { scale: 1.0, offset: p(10.0, -20.0) };
        let under = viewport.to_world(p(300.0, 200.0));
        viewport.zoom_at(p(300.0, 200.0), 2.0);
        assert_eq!(viewport.scale, 2.0);
        assert_eq!(viewport.to_world(p(300.0, 200.0)), under);
        viewport.zoom_at(p(0.0, 0.0), 100.0);
        assert_eq!(viewport.scale, 4.0, "at most 4");
        viewport.zoom_at(p(0.0, 0.0), 1e-6);
        assert_eq!(viewport.scale, 0.05, "at least 0.05");
    }

    #[test]
    fn end_labels_run_along_flat_links_and_sit_above_steep_ones() {
        assert_eq!(end_label_at(p(0.0, 0.0), p(100.0, 10.0), 0), (p(8.0, -5.0), "start"));
        assert_eq!(end_label_at(p(100.0, 10.0), p(0.0, 0.0), 1), (p(92.0, 23.0), "end"));
        assert_eq!(end_label_at(p(0.0, 0.0), p(0.0, 100.0), 0), (p(0.0, 14.0), "middle"));
        assert_eq!(end_label_at(p(0.0, 100.0), p(0.0, 0.0), 1), (p(0.0, 78.0), "middle"));
    }

    #[test]
    fn the_picture_holds_every_node_with_room_for_labels() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/seed-veth.json")).unwrap();
        let (x, y, width, height) = picture_bounds(&lab);
        for node in &lab.nodes {
            let at = node_point(&lab, node.name());
            assert!(at.x - 70.0 > x && at.x + 70.0 < x + width, "{}", node.name());
            assert!(at.y - 32.0 > y && at.y + 32.0 < y + height, "{}", node.name());
        }
        assert_eq!(picture_bounds(&Lab::new("empty")), (0.0, 0.0, 120.0, 120.0));
    }

    #[test]
    fn the_grid_covers_the_screen_through_the_origin() {
        let path = grid_path(p(25.0, -10.0), 20.0, 60.0, 30.0);
        assert_eq!(path, "M5.0 0V30M25.0 0V30M45.0 0V30M0 10.0H60M0 30.0H60");
        assert_eq!(grid_path(Point::ORIGIN, 0.0, 60.0, 30.0), "");
        assert_eq!(grid_path(Point::ORIGIN, 20.0, f64::NAN, 30.0), "");
    }

    #[test]
    fn grid_lines_never_crowd() {
        assert_eq!(grid_spacing(1.0), 20.0);
        assert_eq!(grid_spacing(2.0), 40.0);
        assert!((grid_spacing(0.2) - 20.0).abs() < 1e-9, "4 px becomes 20 px");
        for scale in [0.05, 0.1, 0.23, 0.39, 0.4, 1.0, 4.0] {
            assert!(grid_spacing(scale) >= 8.0, "{scale}");
        }
    }
}
