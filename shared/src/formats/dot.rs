//! Export to Graphviz DOT: an undirected graph, a box per node (bridges rounded, the host
//! a 3-D box) with its kind, forwarding and routes, an edge per veth with each end's
//! interface and addresses at that end. `pos` keeps the editor's positions (in points,
//! y upwards as Graphviz counts): `dot -Tsvg` lays the graph out anew, `neato -n2 -Tsvg`
//! draws it where the editor does.

use std::fmt::Write;

use super::diagram::{end_lines, node_lines};
use crate::lab::{Lab, Link, Node};
use crate::layout::position;

pub fn to_dot(lab: &Lab) -> String {
    let mut dot = String::new();
    let _ = writeln!(dot, "// nslab lab {}, as a Graphviz graph.", lab.name);
    for line in lab.description.lines() {
        let _ = writeln!(dot, "// {line}");
    }
    dot.push_str("// `dot -Tsvg` lays it out anew; `neato -n2 -Tsvg` keeps the editor's positions.\n");
    let _ = writeln!(dot, "graph {} {{", quoted(&lab.name));
    let _ = writeln!(dot, "  graph [label={}, labelloc=t, fontname=\"Helvetica\"];", quoted(&lab.name));
    dot.push_str("  node [fontname=\"Helvetica\", fontsize=11, shape=box];\n");
    dot.push_str("  edge [fontname=\"Helvetica\", fontsize=9, labeldistance=2.5];\n");
    let top = lab.nodes.iter().filter_map(position).map(|at| at.y).fold(0.0, f64::max);
    for node in &lab.nodes {
        let style = match node {
            Node::Host(_) => ", shape=box3d",
            Node::Namespace(_) => "",
            Node::Bridge(_) => ", style=\"rounded,filled\", fillcolor=\"#eef3fb\"",
        };
        let pos =
            position(node).map_or(String::new(), |at| format!(", pos=\"{},{}!\"", number(at.x), number(top - at.y)));
        let label = quoted(&node_lines(node).join("\n"));
        let _ = writeln!(dot, "  {} [label={label}{style}{pos}];", quoted(node.name()));
    }
    for Link::Veth(veth) in &lab.links {
        let tail = quoted(&end_lines(&veth.a).join("\n"));
        let head = quoted(&end_lines(&veth.b).join("\n"));
        let _ = writeln!(
            dot,
            "  {} -- {} [taillabel={tail}, headlabel={head}];",
            quoted(&veth.a.node),
            quoted(&veth.b.node)
        );
    }
    dot.push_str("}\n");
    dot
}

/// A DOT string: quoted, with `"` and `\` escaped and line breaks as `\n`.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A coordinate without a needless `.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_as_dot_reads_them() {
        assert_eq!(quoted("a \"b\"\\c\nd"), "\"a \\\"b\\\"\\\\c\\nd\"");
        assert_eq!(number(140.0), "140");
        assert_eq!(number(-2.5), "-2.50");
    }
}
