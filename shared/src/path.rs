//! Paths into a lab document, written the way a person reads them:
//! `links[2].b.addresses[0]`, `nodes[1].routes[0].via`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DocPath(String);

impl DocPath {
    /// The document itself.
    pub fn root() -> Self {
        DocPath(String::new())
    }

    pub fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            DocPath(name.to_string())
        } else {
            DocPath(format!("{}.{name}", self.0))
        }
    }

    pub fn index(&self, index: usize) -> Self {
        DocPath(format!("{}[{index}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `self` is `other` or lies inside it (`nodes[1].routes` is in `nodes[1]`).
    pub fn starts_with(&self, other: &DocPath) -> bool {
        other.0.is_empty()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && matches!(self.0.as_bytes().get(other.0.len()), Some(b'.' | b'[')))
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(document)")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl From<&str> for DocPath {
    fn from(text: &str) -> Self {
        DocPath(text.to_string())
    }
}

impl Serialize for DocPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DocPath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(DocPath)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_readable_paths() {
        let path = DocPath::root().field("links").index(2).field("b").field("addresses").index(0);
        assert_eq!(path.as_str(), "links[2].b.addresses[0]");
        assert_eq!(DocPath::root().to_string(), "(document)");
    }

    #[test]
    fn prefix_test_respects_segment_boundaries() {
        let route = DocPath::from("nodes[1].routes[0]");
        assert!(route.starts_with(&DocPath::from("nodes[1]")));
        assert!(route.starts_with(&DocPath::root()));
        assert!(!DocPath::from("nodes[10]").starts_with(&DocPath::from("nodes[1]")));
    }
}
