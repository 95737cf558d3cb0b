//! Where things are drawn: node boxes, link ends, hit tests. Pure, so it is tested natively.

use nslab_model::edit::Point;
use nslab_model::{Lab, Node};

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
        let positions = |name: &str| crate::state::node_point(&lab, name);
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
}
