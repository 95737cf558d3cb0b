//! Export to draw.io (diagrams.net): an uncompressed `.drawio` file as draw.io writes it,
//! `mxfile/diagram/mxGraphModel/root` with a vertex `mxCell` per node at the editor's
//! position and size, and an edge `mxCell` per veth from node to node, each end's
//! interface and addresses as a label at that end.

use std::fmt::Write;

use super::diagram::{end_lines, node_lines};
use super::xml;
use crate::lab::{Lab, Link, Node};
use crate::layout::{card_of, position, Point};

/// Where an end label sits along its edge: near the source (-1) or the target (1).
const END_LABEL_AT: f64 = 0.7;

pub fn to_drawio(lab: &Lab) -> String {
    let mut xml = String::from("<mxfile host=\"nslab\" type=\"device\">\n");
    let _ = writeln!(xml, "  <diagram id=\"nslab-lab\" name=\"{}\">", xml::attribute(&lab.name));
    xml.push_str(
        "    <mxGraphModel grid=\"1\" gridSize=\"20\" guides=\"1\" tooltips=\"1\" connect=\"1\" arrows=\"1\" \
         fold=\"1\" page=\"0\" pageScale=\"1\" math=\"0\" shadow=\"0\">\n",
    );
    xml.push_str("      <root>\n        <mxCell id=\"0\" />\n        <mxCell id=\"1\" parent=\"0\" />\n");
    for (index, node) in lab.nodes.iter().enumerate() {
        let card = card_of(lab, node);
        let centre = position(node).unwrap_or(Point::ORIGIN);
        let style = match node {
            Node::Host(_) => "shape=cube;whiteSpace=wrap;html=1;boundedLbl=1;size=8;",
            Node::Namespace(_) => "rounded=0;whiteSpace=wrap;html=1;verticalAlign=top;",
            Node::Bridge(_) => "rounded=1;whiteSpace=wrap;html=1;verticalAlign=top;fillColor=#eef3fb;",
        };
        let _ = writeln!(
            xml,
            "        <mxCell id=\"node-{index}\" value=\"{}\" style=\"{style}\" vertex=\"1\" parent=\"1\">\n          \
             <mxGeometry x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" as=\"geometry\" />\n        </mxCell>",
            html_value(&node_lines(node), true),
            card.width.mul_add(-0.5, centre.x),
            card.height.mul_add(-0.5, centre.y),
            card.width,
            card.height
        );
    }
    let id = |name: &str| lab.nodes.iter().position(|node| node.name() == name).map(|index| format!("node-{index}"));
    for (index, Link::Veth(veth)) in lab.links.iter().enumerate() {
        // draw.io keeps an edge whose end is missing as a loose line: an invalid lab's veth
        // to a node it lacks is drawn that way.
        let ends: String = [("source", &veth.a.node), ("target", &veth.b.node)]
            .iter()
            .filter_map(|(side, node)| id(node).map(|id| format!(" {side}=\"{id}\"")))
            .collect();
        let _ = writeln!(
            xml,
            "        <mxCell id=\"link-{index}\" value=\"\" style=\"endArrow=none;html=1;rounded=0;\" edge=\"1\" parent=\"1\"{ends}>\n          \
             <mxGeometry relative=\"1\" as=\"geometry\" />\n        </mxCell>"
        );
        for (side, end, at) in [("a", &veth.a, -END_LABEL_AT), ("b", &veth.b, END_LABEL_AT)] {
            let _ = writeln!(
                xml,
                "        <mxCell id=\"link-{index}-{side}\" value=\"{}\" style=\"edgeLabel;html=1;align=center;verticalAlign=middle;resizable=0;points=[];fontSize=10;\" vertex=\"1\" connectable=\"0\" parent=\"link-{index}\">\n          \
                 <mxGeometry x=\"{at}\" relative=\"1\" as=\"geometry\">\n            <mxPoint as=\"offset\" />\n          </mxGeometry>\n        </mxCell>",
                html_value(&end_lines(end), false)
            );
        }
    }
    xml.push_str("      </root>\n    </mxGraphModel>\n  </diagram>\n</mxfile>\n");
    xml
}

/// A cell's value in draw.io's HTML labels: each line escaped as HTML, joined by `<br>`,
/// the first bold when asked; then the whole escaped again as an XML attribute.
fn html_value(lines: &[String], bold_first: bool) -> String {
    let html: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let line = xml::attribute(line);
            if index == 0 && bold_first {
                format!("<b>{line}</b>")
            } else {
                line
            }
        })
        .collect();
    xml::attribute(&html.join("<br>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_html_inside_xml() {
        assert_eq!(
            html_value(&["a<b".into(), "c&d".into()], true),
            "&lt;b&gt;a&amp;lt;b&lt;/b&gt;&lt;br&gt;c&amp;amp;d"
        );
    }
}
