//! What the user has selected on the canvas.

use std::collections::BTreeSet;

use super::{position, Point};
use crate::lab::{Lab, Node};

/// Selected nodes (by name) and links (by index), of the lab the selection was made on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub nodes: BTreeSet<String>,
    pub links: BTreeSet<usize>,
}

impl Selection {
    /// Just one node (a plain click).
    pub fn node(name: impl Into<String>) -> Self {
        Selection { nodes: [name.into()].into(), links: BTreeSet::new() }
    }

    /// Just one link.
    pub fn link(index: usize) -> Self {
        Selection { nodes: BTreeSet::new(), links: [index].into() }
    }

    /// Every node and link of the lab (Ctrl+A).
    pub fn all(lab: &Lab) -> Self {
        Selection {
            nodes: lab.nodes.iter().map(|node| node.name().to_string()).collect(),
            links: (0..lab.links.len()).collect(),
        }
    }

    /// The nodes whose position lies in the rectangle with corners `a` and `b` (either
    /// order, edges included): rubber-band selection. Nodes without a position count as
    /// at the origin, where the editor draws them.
    pub fn in_rect(lab: &Lab, a: Point, b: Point) -> Self {
        let (left, right) = (a.x.min(b.x), a.x.max(b.x));
        let (top, bottom) = (a.y.min(b.y), a.y.max(b.y));
        let nodes = lab
            .nodes
            .iter()
            .filter(|node| {
                let at = position(node).unwrap_or(Point::ORIGIN);
                (left..=right).contains(&at.x) && (top..=bottom).contains(&at.y)
            })
            .map(|node| node.name().to_string())
            .collect();
        Selection { nodes, links: BTreeSet::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.links.is_empty()
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.nodes.contains(name)
    }

    pub fn has_link(&self, index: usize) -> bool {
        self.links.contains(&index)
    }

    /// Adds the node, or removes it when it was selected (shift-click).
    pub fn toggle_node(&mut self, name: &str) {
        if !self.nodes.remove(name) {
            self.nodes.insert(name.to_string());
        }
    }

    /// Adds the link, or removes it when it was selected (shift-click).
    pub fn toggle_link(&mut self, index: usize) {
        if !self.links.remove(&index) {
            self.links.insert(index);
        }
    }

    /// Adds everything `other` selects (shift + rubber band).
    pub fn extend(&mut self, other: Selection) {
        self.nodes.extend(other.nodes);
        self.links.extend(other.links);
    }

    /// What of this selection exists in `lab`: after an undo, a redo or another browser's
    /// edit, names and indexes that are gone are dropped.
    pub fn valid_in(&self, lab: &Lab) -> Selection {
        Selection {
            nodes: self.nodes.iter().filter(|name| lab.node(name).is_some()).cloned().collect(),
            links: self.links.iter().copied().filter(|index| *index < lab.links.len()).collect(),
        }
    }

    /// The selected nodes in document order, with the lab's node for each.
    pub fn selected_nodes<'l>(&self, lab: &'l Lab) -> Vec<&'l Node> {
        lab.nodes.iter().filter(|node| self.nodes.contains(node.name())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{add_node, NodeKind};

    fn p(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[test]
    fn rubber_band_selects_nodes_inside() {
        let mut lab = Lab::new("t");
        for at in [p(0.0, 0.0), p(100.0, 100.0), p(200.0, 40.0), p(-100.0, 60.0)] {
            lab = add_node(&lab, NodeKind::Namespace, at).0;
        }
        let cases: &[(Point, Point, &[&str])] = &[
            (p(-10.0, -10.0), p(110.0, 110.0), &["ns1", "ns2"]),
            (p(110.0, 110.0), p(-10.0, -10.0), &["ns1", "ns2"]),
            (p(100.0, 40.0), p(200.0, 100.0), &["ns2", "ns3"]),
            (p(-300.0, -300.0), p(300.0, 300.0), &["ns1", "ns2", "ns3", "ns4"]),
            (p(500.0, 500.0), p(600.0, 600.0), &[]),
        ];
        for (a, b, want) in cases {
            let got: Vec<String> = Selection::in_rect(&lab, *a, *b).nodes.into_iter().collect();
            assert_eq!(got, *want, "{a:?} {b:?}");
        }
    }

    #[test]
    fn toggling_and_cleaning() {
        let mut selection = Selection::node("ns1");
        selection.toggle_node("ns2");
        selection.toggle_node("ns1");
        selection.toggle_link(3);
        selection.toggle_link(4);
        selection.toggle_link(3);
        assert_eq!(selection, Selection { nodes: ["ns2".to_string()].into(), links: [4].into() });
        selection.extend(Selection::node("ns1"));
        let (lab, _) = add_node(&Lab::new("t"), NodeKind::Namespace, Point::ORIGIN);
        assert_eq!(selection.valid_in(&lab), Selection::node("ns1"));
        assert!(!selection.is_empty() && Selection::default().is_empty());
        assert_eq!(Selection::all(&lab), Selection::node("ns1"));
        assert_eq!(selection.selected_nodes(&lab).len(), 1);
    }
}
