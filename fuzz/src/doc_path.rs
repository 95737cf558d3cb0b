//! Whether a problem's path (`links[2].b.addresses[0]`) points into the document it was
//! found in: every index within its list, every step through an object or a list.

use serde_json::Value;

/// True when each `[i]` of `path` indexes a list of the document that has an element `i`,
/// and each field steps into an object. A field the document leaves out (a default, say
/// an absent `mtu`) ends the walk: the path names where it would be written.
pub fn points_into(document: &Value, path: &str) -> bool {
    let mut here = document;
    for step in steps(path) {
        let Some(step) = step else { return false };
        match (step, here) {
            (Step::Field(name), Value::Object(map)) => match map.get(name) {
                Some(next) => here = next,
                None => return true,
            },
            (Step::Index(index), Value::Array(list)) => match list.get(index) {
                Some(next) => here = next,
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

#[derive(Debug, PartialEq)]
enum Step<'p> {
    Field(&'p str),
    Index(usize),
}

/// The path's steps; None for one that is not a field name or a `[number]`.
fn steps(path: &str) -> Vec<Option<Step<'_>>> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|_| !path.is_empty()) {
        let (field, mut indices) = part.split_once('[').map_or((part, ""), |(field, rest)| (field, rest));
        steps.push((!field.is_empty()).then_some(Step::Field(field)));
        if !indices.is_empty() {
            indices = indices.strip_suffix(']').unwrap_or("x");
            for index in indices.split("][") {
                steps.push(index.parse().ok().map(Step::Index));
            }
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_step_by_step() {
        let document = serde_json::json!({"name": "x", "links": [{"b": {"addresses": ["10.0.0.1/24"]}}]});
        assert!(points_into(&document, ""));
        assert!(points_into(&document, "name"));
        assert!(points_into(&document, "links[0].b.addresses[0]"));
        assert!(points_into(&document, "links[0].b.mtu"), "a field left out");
        assert!(!points_into(&document, "links[1]"));
        assert!(!points_into(&document, "links[0].b.addresses[1]"));
        assert!(!points_into(&document, "name[0]"));
        assert!(!points_into(&document, "links.b"));
        assert!(!points_into(&document, "links[x]"));
    }
}
