//! Messages as a teacher reads them: code between backticks set apart, counts with the
//! right plural, the thing a document path points at named (`namespace ns1`, not
//! `nodes[0]`), no word said twice in a row. Pure, so it is tested natively.

use leptos::prelude::*;
use nslab_model::{Lab, Link};

/// A piece of a message: plain words, or code (what was between backticks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Words(String),
    Code(String),
}

/// Cuts `text` at its backticks: every other piece is code. An unpaired backtick stays
/// as it is, in the words.
pub fn pieces(text: &str) -> Vec<Piece> {
    let parts: Vec<&str> = text.split('`').collect();
    let paired = if parts.len() % 2 == 1 { parts.len() } else { parts.len() - 1 };
    let mut pieces = Vec::new();
    for (index, part) in parts[..paired].iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let piece = if index % 2 == 1 { Piece::Code(part.to_string()) } else { Piece::Words(part.to_string()) };
        pieces.push(piece);
    }
    if paired < parts.len() {
        pieces.push(Piece::Words(format!("`{}", parts[paired])));
    }
    pieces
}

/// A message on the page: its code in `<code>`, no word said twice in a row.
pub fn message_view(text: &str) -> impl IntoView {
    pieces(&without_doubled_words(text))
        .into_iter()
        .map(|piece| match piece {
            Piece::Words(words) => words.into_any(),
            Piece::Code(code) => view! { <code>{code}</code> }.into_any(),
        })
        .collect_view()
}

/// `1 change`, `9 changes`: a count and its noun, in the singular for exactly one.
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `text` without a word said twice in a row (`host host` becomes `host`).
pub fn without_doubled_words(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for word in text.split(' ') {
        if !word.is_empty() && kept.last().is_some_and(|last| last.eq_ignore_ascii_case(word)) {
            continue;
        }
        kept.push(word);
    }
    kept.join(" ")
}

/// A node as a sentence names it: `namespace ns1`, and `the host` for a host node
/// called `host` (never `host host`).
pub fn node_words(kind: &str, name: &str) -> String {
    without_doubled_words(&format!("{kind} {name}"))
}

/// What a document path points at, in words: `namespace ns1`, `namespace ns1, route 2`,
/// `link ns0 – docker0, its addresses on ns0`; the path itself when the lab has nothing
/// there (or the path is the lab's own, like `name`).
pub fn place(lab: &Lab, path: &str) -> String {
    let (head, rest) = split_head(path);
    let thing = if let Some(index) = index_in(head, "nodes[") {
        lab.nodes.get(index).map(|node| node_words(node.kind_word(), node.name()))
    } else if let Some(index) = index_in(head, "links[") {
        lab.links.get(index).map(|Link::Veth(veth)| format!("link {} – {}", veth.a.node, veth.b.node))
    } else {
        None
    };
    let Some(thing) = thing else { return path.to_string() };
    match field_words(lab, path, rest) {
        Some(field) => format!("{thing}, {field}"),
        None => thing,
    }
}

/// `nodes[0]` and `.routes[1].via` of `nodes[0].routes[1].via`.
fn split_head(path: &str) -> (&str, &str) {
    match path.find(']') {
        Some(end) => path.split_at(end + 1),
        None => (path, ""),
    }
}

fn index_in(head: &str, prefix: &str) -> Option<usize> {
    head.strip_prefix(prefix)?.strip_suffix(']')?.parse().ok()
}

/// The field under a node or link, in words (`route 2`, `its MTU on ns0`).
fn field_words(lab: &Lab, path: &str, rest: &str) -> Option<String> {
    let rest = rest.strip_prefix('.')?;
    if let Some(route) = rest.strip_prefix("routes[") {
        let number = route.split(']').next()?.parse::<usize>().ok()? + 1;
        return Some(format!("route {number}"));
    }
    let link = index_in(split_head(path).0, "links[").and_then(|index| lab.links.get(index));
    match (link, rest.split_once('.')) {
        (Some(Link::Veth(veth)), Some((side, field))) if side == "a" || side == "b" => {
            let node = if side == "a" { &veth.a.node } else { &veth.b.node };
            if field == "node" {
                return Some(format!("its end on {node}"));
            }
            Some(format!("its {} on {node}", field_name(field)))
        }
        _ => Some(field_name(rest).to_string()),
    }
}

fn field_name(field: &str) -> &str {
    let field = field.split(['.', '[']).next().unwrap_or(field);
    match field {
        "mtu" => "MTU",
        "mac" => "MAC address",
        "name" => "name",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(text: &str) -> Lab {
        nslab_model::load::load_lab_str(text).expect("a lab")
    }

    #[test]
    fn backticks_mark_code() {
        assert_eq!(
            pieces("there is no node called `nowhere`; the lab has `a`"),
            [
                Piece::Words("there is no node called ".into()),
                Piece::Code("nowhere".into()),
                Piece::Words("; the lab has ".into()),
                Piece::Code("a".into()),
            ]
        );
        assert_eq!(pieces("plain"), [Piece::Words("plain".into())]);
        assert_eq!(pieces("one ` alone"), [Piece::Words("one ".into()), Piece::Words("` alone".into())]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1, "change", "changes"), "1 change");
        assert_eq!(counted(9, "change", "changes"), "9 changes");
        assert_eq!(counted(0, "step", "steps"), "0 steps");
    }

    #[test]
    fn no_word_is_said_twice_in_a_row() {
        assert_eq!(without_doubled_words("the host host is up"), "the host is up");
        assert_eq!(node_words("host", "host"), "host");
        assert_eq!(node_words("host", "gateway"), "host gateway");
        assert_eq!(without_doubled_words("ns1 and ns1"), "ns1 and ns1");
    }

    #[test]
    fn paths_become_the_names_of_what_they_point_at() {
        let router = lab(include_str!("../../examples/router.json"));
        assert_eq!(place(&router, "nodes[1]"), "namespace router");
        assert_eq!(place(&router, "nodes[1].name"), "namespace router, name");
        assert_eq!(place(&router, "nodes[0].routes[0].via"), "namespace left, route 1");
        assert_eq!(place(&router, "links[0]"), "link left – router");
        assert_eq!(place(&router, "links[0].b.addresses[0]"), "link left – router, its addresses on router");
        assert_eq!(place(&router, "links[1].a.mtu"), "link router – right, its MTU on router");
        assert_eq!(place(&router, "links[1].b.node"), "link router – right, its end on right");
        assert_eq!(place(&router, "nodes[9].name"), "nodes[9].name");
        assert_eq!(place(&router, "name"), "name");
    }
}
