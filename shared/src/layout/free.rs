//! Free space on the drawing: where a new node (or one that had no position) goes so that its
//! card overlaps no other card and sits on no veth, as near as can be to where the user
//! looks (the view's centre, the pointer).

use super::card::{attach_point, cards, Card};
use super::{position, set_position, snap, Point, GRID};
use crate::lab::{Lab, Link};

/// Room kept free around a card placed in free space.
pub const MARGIN: f64 = 40.0;
/// Distance between two spots tried.
const STEP: f64 = 2.0 * GRID;
/// Rings of spots tried around the wanted place before giving up on being near it.
const RINGS: i32 = 60;

/// An axis-aligned rectangle: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    pub fn around(centre: Point, (half_width, half_height): (f64, f64)) -> Rect {
        Rect {
            left: centre.x - half_width,
            top: centre.y - half_height,
            right: centre.x + half_width,
            bottom: centre.y + half_height,
        }
    }

    pub fn grown(self, by: f64) -> Rect {
        Rect { left: self.left - by, top: self.top - by, right: self.right + by, bottom: self.bottom + by }
    }

    /// Whether the two share any area (touching borders do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.left < other.right && other.left < self.right && self.top < other.bottom && other.top < self.bottom
    }

    fn contains(&self, at: Point) -> bool {
        (self.left..=self.right).contains(&at.x) && (self.top..=self.bottom).contains(&at.y)
    }

    /// Whether the segment from `a` to `b` passes through the rectangle.
    pub fn crossed_by(&self, a: Point, b: Point) -> bool {
        if self.contains(a) || self.contains(b) {
            return true;
        }
        let corners = [
            Point::new(self.left, self.top),
            Point::new(self.right, self.top),
            Point::new(self.right, self.bottom),
            Point::new(self.left, self.bottom),
        ];
        (0..4).any(|i| segments_cross(a, b, corners[i], corners[(i + 1) % 4]))
    }
}

fn segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool {
    let turn = |p: Point, q: Point, r: Point| (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
    let (d1, d2) = (turn(c, d, a), turn(c, d, b));
    let (d3, d4) = (turn(a, b, c), turn(a, b, d));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// What is already drawn: the cards of the placed nodes other than the one being placed,
/// and the veths between them.
struct Drawing {
    cards: Vec<Rect>,
    veths: Vec<(Point, Point)>,
}

impl Drawing {
    fn of(lab: &Lab, cards: &std::collections::HashMap<String, Card>, except: &str) -> Self {
        let placed =
            |name: &str| (name != except).then(|| lab.node(name).and_then(position)).flatten().zip(cards.get(name));
        let rects =
            lab.nodes.iter().filter_map(|node| placed(node.name())).map(|(at, card)| Rect::around(at, card.half()));
        let mut veths = Vec::new();
        for link in &lab.links {
            let Link::Veth(veth) = link;
            if let (Some((a, a_card)), Some((b, b_card))) = (placed(&veth.a.node), placed(&veth.b.node)) {
                veths.push((attach_point(a, a_card, &veth.a.name, b), attach_point(b, b_card, &veth.b.name, a)));
            }
        }
        Drawing { cards: rects.collect(), veths }
    }

    fn is_free(&self, spot: Rect) -> bool {
        let room = spot.grown(MARGIN);
        !self.cards.iter().any(|card| card.overlaps(&room)) && !self.veths.iter().any(|&(a, b)| spot.crossed_by(a, b))
    }
}

/// The spot nearest `near` (on the grid) where the card of node `name` overlaps no other
/// card (with [`MARGIN`] around) and no veth runs over it; nodes without a position do not
/// count. Far from everything when nothing near is free.
pub fn free_spot(lab: &Lab, name: &str, near: Point) -> Point {
    let cards = cards(lab);
    let Some(card) = cards.get(name) else { return snap(near) };
    let drawing = Drawing::of(lab, &cards, name);
    let start = snap(near);
    for ring in 0..=RINGS {
        let mut spots = ring_spots(start, ring);
        spots.sort_by(|p, q| distance(*p, near).total_cmp(&distance(*q, near)));
        if let Some(spot) = spots.into_iter().find(|&spot| drawing.is_free(Rect::around(spot, card.half()))) {
            return spot;
        }
    }
    // Below everything: free by construction.
    let bottom = drawing.cards.iter().map(|card| card.bottom).fold(start.y, f64::max);
    snap(Point { x: start.x, y: bottom + MARGIN + card.height })
}

/// Moves node `name` to the [`free_spot`] nearest `near`.
pub fn place_in_free_space(lab: &Lab, name: &str, near: Point) -> Lab {
    let at = free_spot(lab, name, near);
    let mut next = lab.clone();
    if let Some(node) = next.node_mut(name) {
        set_position(node, at);
    }
    next
}

/// The grid spots on the square ring `ring` steps away from `centre`.
fn ring_spots(centre: Point, ring: i32) -> Vec<Point> {
    let at = |dx: i32, dy: i32| Point { x: centre.x + f64::from(dx) * STEP, y: centre.y + f64::from(dy) * STEP };
    if ring == 0 {
        return vec![centre];
    }
    let mut spots = Vec::with_capacity(8 * ring as usize);
    for step in -ring..ring {
        spots.extend([at(step, -ring), at(ring, step), at(-step, ring), at(-ring, -step)]);
    }
    spots
}

fn distance(a: Point, b: Point) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{add_node, NodeKind};
    use crate::load::load_lab_str;

    fn card_rect(lab: &Lab, name: &str) -> Rect {
        let card = &cards(lab)[name];
        Rect::around(position(lab.node(name).unwrap()).unwrap(), card.half())
    }

    #[test]
    fn rectangles_overlap_and_segments_cross_them() {
        let a = Rect::around(Point::ORIGIN, (10.0, 10.0));
        assert!(a.overlaps(&Rect::around(Point::new(15.0, 0.0), (10.0, 10.0))));
        assert!(!a.overlaps(&Rect::around(Point::new(20.0, 0.0), (10.0, 10.0))), "touching is not overlapping");
        assert!(a.crossed_by(Point::new(-50.0, 0.0), Point::new(50.0, 0.0)));
        assert!(!a.crossed_by(Point::new(-50.0, 20.0), Point::new(50.0, 20.0)));
        assert!(a.crossed_by(Point::new(0.0, 0.0), Point::new(50.0, 50.0)), "an end inside");
    }

    #[test]
    fn a_new_node_lands_near_the_wanted_place_off_cards_and_veths() {
        // ns0 and ns1 joined by a veth; a third namespace asked for right on the veth.
        let lab = load_lab_str(include_str!("../../../examples/seed-veth.json")).unwrap();
        let (a, b) = (position(&lab.nodes[0]).unwrap(), position(&lab.nodes[1]).unwrap());
        let middle = Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
        let (with_new, name) = add_node(&lab, NodeKind::Namespace, middle);
        let placed = place_in_free_space(&with_new, &name, middle);
        let new = card_rect(&placed, &name);
        for node in &lab.nodes {
            assert!(!new.grown(MARGIN - 1.0).overlaps(&card_rect(&placed, node.name())), "{} is covered", node.name());
        }
        let drawing = Drawing::of(&placed, &cards(&placed), &name);
        assert!(drawing.veths.iter().all(|&(p, q)| !new.crossed_by(p, q)), "the new card sits on the veth");
        let at = position(placed.node(&name).unwrap()).unwrap();
        assert!(distance(at, middle) < 400.0, "near where it was asked for: {at:?}");
    }

    #[test]
    fn free_space_on_an_empty_drawing_is_where_it_was_asked() {
        let (lab, name) = add_node(&Lab::new("t"), NodeKind::Bridge, Point::ORIGIN);
        assert_eq!(free_spot(&lab, &name, Point::new(101.0, 49.0)), Point::new(100.0, 40.0));
    }

    #[test]
    fn nodes_placed_one_by_one_never_overlap() {
        let mut lab = Lab::new("t");
        for _ in 0..25 {
            let (next, name) = add_node(&lab, NodeKind::Namespace, Point::ORIGIN);
            lab = place_in_free_space(&next, &name, Point::ORIGIN);
        }
        let names: Vec<String> = lab.nodes.iter().map(|n| n.name().to_string()).collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                assert!(!card_rect(&lab, a).overlaps(&card_rect(&lab, b)), "{a} and {b} overlap");
            }
        }
    }
}
