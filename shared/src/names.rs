//! Names the editor proposes: the first free `ns1`, `eth0`, `br0`, and bridge-port names
//! built from the node at the other end, always within the kernel's 15 bytes.

/// Linux interface names are at most IFNAMSIZ - 1 bytes.
const MAX_INTERFACE_NAME: usize = 15;

/// Names that are never proposed for an interface: `lo` exists in every namespace, and
/// `all` and `default` are the kernel's own entries under /proc/sys/net/*/conf/.
const RESERVED: [&str; 3] = ["lo", "all", "default"];

/// `prefix` followed by the first number from `first` up that `taken` says is free:
/// `next_free_name("ns", 1, ...)` gives `ns1`, then `ns2` once `ns1` is taken, and `ns1`
/// again after it is deleted. `taken` must hold for finitely many names.
pub fn next_free_name(prefix: &str, first: usize, taken: impl Fn(&str) -> bool) -> String {
    (first..).map(|number| format!("{prefix}{number}")).find(|name| !taken(name)).expect("the numbers never run out")
}

/// `base` made into a free interface name of at most 15 bytes: `base` itself, shortened if
/// need be, else the shortened base with `-2`, `-3`, ... (`veth-ns1`, `veth-ns1-2`).
/// An empty base counts as `veth`.
pub fn unique_interface_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = if base.is_empty() { "veth" } else { base };
    let free = |name: &str| !name.is_empty() && !RESERVED.contains(&name) && !taken(name);
    let whole = cut(base, MAX_INTERFACE_NAME);
    if free(whole) {
        return whole.to_string();
    }
    (2usize..)
        .map(|number| {
            let suffix = format!("-{number}");
            let stem = cut(base, MAX_INTERFACE_NAME - suffix.len()).trim_end_matches('-');
            format!("{stem}{suffix}")
        })
        .find(|name| free(name))
        .expect("the numbers never run out")
}

/// The name a bridge port (or a host end) gets before it is made unique: `veth-` and the
/// node at the other end, with characters an interface name cannot hold replaced by `-`.
pub fn port_name_base(other_node: &str) -> String {
    let cleaned: String = other_node
        .chars()
        .map(|c| if c == '/' || c == ':' || c.is_whitespace() || c.is_control() { '-' } else { c })
        .collect();
    if cleaned.is_empty() {
        "veth".to_string()
    } else {
        format!("veth-{cleaned}")
    }
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a character boundary.
fn cut(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_first_free_number_is_taken() {
        let cases: &[(&str, usize, &[&str], &str)] = &[
            ("ns", 1, &[], "ns1"),
            ("ns", 1, &["ns1"], "ns2"),
            ("ns", 1, &["ns2", "ns3"], "ns1"),
            ("ns", 1, &["ns1", "ns2", "ns4"], "ns3"),
            ("br", 0, &["br0", "br1"], "br2"),
            ("eth", 0, &["eth1"], "eth0"),
        ];
        for (prefix, first, taken, want) in cases {
            let taken: HashSet<&str> = taken.iter().copied().collect();
            assert_eq!(next_free_name(prefix, *first, |name| taken.contains(name)), *want, "{prefix} {taken:?}");
        }
    }

    #[test]
    fn interface_names_are_shortened_and_made_unique() {
        let cases: &[(&str, &[&str], &str)] = &[
            ("veth-ns1", &[], "veth-ns1"),
            ("veth-ns1", &["veth-ns1"], "veth-ns1-2"),
            ("veth-ns1", &["veth-ns1", "veth-ns1-2"], "veth-ns1-3"),
            ("veth-webserver01", &[], "veth-webserver0"),
            ("veth-webserver01", &["veth-webserver0"], "veth-webserve-2"),
            ("veth-webserv-x1", &["veth-webserv-x1"], "veth-webserv-2"),
            ("veth-äääääääää", &[], "veth-äääää"),
            ("lo", &[], "lo-2"),
            ("", &[], "veth"),
        ];
        for (base, taken, want) in cases {
            let taken: HashSet<&str> = taken.iter().copied().collect();
            let name = unique_interface_name(base, |name| taken.contains(name));
            assert_eq!(name, *want, "{base}");
            assert!(name.len() <= MAX_INTERFACE_NAME);
        }
    }

    #[test]
    fn port_names_hold_only_what_an_interface_name_may() {
        let cases = [("ns1", "veth-ns1"), ("a:b c/d", "veth-a-b-c-d"), ("", "veth")];
        for (node, want) in cases {
            let base = port_name_base(node);
            assert_eq!(base, want);
            let name = unique_interface_name(&base, |_| false);
            assert!(name.len() <= MAX_INTERFACE_NAME && !name.contains([':', '/', ' ']), "{name}");
        }
    }
}
