//! Export to Mermaid (a flowchart, as a README on GitHub or GitLab draws it): a box per
//! namespace, a rounded one per bridge, a hexagon for the host, each with its kind,
//! forwarding and routes; a line per veth labelled with both ends' interfaces and
//! addresses. Mermaid places nodes itself: it has no positions.

use std::fmt::Write;

use super::diagram::{end_lines, node_lines};
use crate::lab::{Lab, Link, Node};

pub fn to_mermaid(lab: &Lab) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "%% nslab lab {}, as a Mermaid flowchart.", one_line(&lab.name));
    for line in lab.description.lines() {
        let _ = writeln!(text, "%% {}", one_line(line));
    }
    text.push_str("graph LR\n");
    let id = |name: &str| lab.nodes.iter().position(|node| node.name() == name).map(|index| format!("n{index}"));
    for (index, node) in lab.nodes.iter().enumerate() {
        let label = label(&node_lines(node));
        let shape = match node {
            Node::Host(_) => format!("{{{{{label}}}}}"),
            Node::Namespace(_) => format!("[{label}]"),
            Node::Bridge(_) => format!("([{label}])"),
        };
        let _ = writeln!(text, "  n{index}{shape}");
    }
    for Link::Veth(veth) in &lab.links {
        // An end on a node the lab does not have (an invalid lab) still gets a box.
        let end_id = |name: &str| id(name).unwrap_or_else(|| format!("missing_{}", safe_id(name)));
        let words = format!("{} — {}", end_lines(&veth.a).join(" "), end_lines(&veth.b).join(" "));
        let _ = writeln!(text, "  {} ---|{}| {}", end_id(&veth.a.node), label(&[words]), end_id(&veth.b.node));
    }
    text
}

/// A quoted Mermaid label: lines joined by `<br/>`, characters Mermaid reads as syntax
/// written as its entity codes.
fn label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines.iter().map(|line| escape(line)).collect();
    format!("\"{}\"", escaped.join("<br/>"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn safe_id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_mermaid_reads_as_syntax() {
        assert_eq!(label(&["a \"b\" <c>".into(), "d|#e".into()]), "\"a #quot;b#quot; #lt;c#gt;<br/>d#124;#35;e\"");
    }
}
