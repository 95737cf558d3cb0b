//! Where things are drawn: the viewport, hit tests on node cards, the grid, the bounds of
//! the picture. Pure, so it is tested natively.

use std::collections::HashMap;

use nslab_model::edit::{self, Card, Point};
use nslab_model::Lab;

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

/// The node whose card holds `at`, the topmost (last drawn) first.
pub fn node_at(
    lab: &Lab,
    cards: &HashMap<String, Card>,
    positions: impl Fn(&str) -> Point,
    at: Point,
) -> Option<String> {
    lab.nodes.iter().rev().find_map(|node| {
        let center = positions(node.name());
        let (w, h) = cards.get(node.name())?.half();
        ((at.x - center.x).abs() <= w && (at.y - center.y).abs() <= h).then(|| node.name().to_string())
    })
}

/// The world rectangle that holds every card with a margin: (x, y, width, height).
pub fn picture_bounds(lab: &Lab) -> (f64, f64, f64, f64) {
    const ROOM: f64 = 40.0;
    let (left, top, right, bottom) = edit::bounds(lab);
    if !left.is_finite() || left > right {
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
    fn hit_tests_find_the_box_under_the_pointer() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/seed-veth.json")).unwrap();
        let positions = |name: &str| node_point(&lab, name);
        let cards = edit::cards(&lab);
        let ns0 = node_point(&lab, "ns0");
        let (w, h) = cards["ns0"].half();
        assert_eq!(node_at(&lab, &cards, positions, p(ns0.x + w - 1.0, ns0.y - h + 1.0)), Some("ns0".to_string()));
        assert_eq!(node_at(&lab, &cards, positions, p(ns0.x + w + 1.0, ns0.y)), None);
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
    fn the_picture_holds_every_node_with_room_for_labels() {
        let lab = nslab_model::load::load_lab_str(include_str!("../../examples/seed-veth.json")).unwrap();
        let (x, y, width, height) = picture_bounds(&lab);
        let cards = edit::cards(&lab);
        for node in &lab.nodes {
            let at = node_point(&lab, node.name());
            let (w, h) = cards[node.name()].half();
            assert!(at.x - w > x && at.x + w < x + width, "{}", node.name());
            assert!(at.y - h > y && at.y + h < y + height, "{}", node.name());
        }
        assert_eq!(picture_bounds(&Lab::new("empty")), (0.0, 0.0, 80.0, 80.0));
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
