//! Names: what the kernel and `ip netns` accept, and no two things called the same.

use std::collections::HashMap;

use crate::identity::Netns;
use crate::lab::{Lab, Link, Node};
use crate::path::DocPath;
use crate::problem::Rule;
use crate::topology::Topology;

use super::Report;

/// Linux interface names are at most IFNAMSIZ - 1 bytes.
pub const MAX_INTERFACE_NAME: usize = 15;
/// A namespace name is a file name under /run/netns.
pub const MAX_NAMESPACE_NAME: usize = 255;

pub(super) fn check(lab: &Lab, topology: &Topology, report: &mut Report) {
    check_lab_name(lab, report);
    check_node_names(lab, report);
    for (index, link) in lab.links.iter().enumerate() {
        let Link::Veth(veth) = link;
        for (field, end) in [("a", &veth.a), ("b", &veth.b)] {
            let path = DocPath::root().field("links").index(index).field(field).field("name");
            if let Some((rule, message)) = interface_name_problem(&end.name) {
                report.push(rule, path, message);
            }
        }
    }
    check_interface_duplicates(topology, report);
}

pub(super) fn check_lab_name(lab: &Lab, report: &mut Report) {
    if let Some((rule, message)) = file_name_problem(&lab.name, "the lab") {
        let rule = if rule == Rule::NamespaceName { Rule::LabName } else { rule };
        report.push(rule, DocPath::root().field("name"), message);
    }
}

fn check_node_names(lab: &Lab, report: &mut Report) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut host: Option<usize> = None;
    for (index, node) in lab.nodes.iter().enumerate() {
        let path = DocPath::root().field("nodes").index(index);
        let problem = match node {
            Node::Host(host) if host.name.is_empty() => {
                Some((Rule::EmptyName, "the host node needs a name, such as `host`".to_string()))
            }
            Node::Host(_) => None,
            Node::Namespace(namespace) => namespace_name_problem(&namespace.name),
            Node::Bridge(bridge) => interface_name_problem(&bridge.name),
        };
        if let Some((rule, message)) = problem {
            report.push(rule, path.field("name"), message);
        }
        if matches!(node, Node::Host(_)) {
            match host {
                Some(first) => report.push(
                    Rule::SecondHost,
                    path.clone(),
                    format!(
                        "a lab has one host node, and nodes[{first}] is already it; connect everything to that one"
                    ),
                ),
                None => host = Some(index),
            }
        }
        if node.name().is_empty() {
            continue;
        }
        if let Some(first) = seen.get(node.name()) {
            report.push(
                Rule::DuplicateNodeName,
                path.field("name"),
                format!("nodes[{first}] is already called `{}`; every node needs its own name", node.name()),
            );
        } else {
            seen.insert(node.name(), index);
        }
    }
}

/// Two interfaces with one name in one namespace: bridges, veth ends and bridge ports alike.
fn check_interface_duplicates(topology: &Topology, report: &mut Report) {
    let mut seen: HashMap<(&Netns, &str), &DocPath> = HashMap::new();
    for interface in &topology.interfaces {
        if interface.name.is_empty() {
            continue;
        }
        match seen.get(&(&interface.netns, interface.name)) {
            Some(first) => report.push(
                Rule::DuplicateInterfaceName,
                interface.path.field("name"),
                format!(
                    "{} already has an interface called `{}` (at {first}); names must differ within a namespace",
                    crate::problem::capitalised(&interface.netns.to_string()),
                    interface.name
                ),
            ),
            None => {
                seen.insert((&interface.netns, interface.name), &interface.path);
            }
        }
    }
}

/// What the kernel's dev_valid_name refuses, plus what would break scripts and terminals.
pub fn interface_name_problem(name: &str) -> Option<(Rule, String)> {
    if name.is_empty() {
        return Some((Rule::EmptyName, "an interface needs a name, such as `eth0`".to_string()));
    }
    if name.len() > MAX_INTERFACE_NAME {
        return Some((
            Rule::InterfaceNameTooLong,
            format!(
                "`{name}` is {} bytes long, but Linux interface names are at most {MAX_INTERFACE_NAME} bytes",
                name.len()
            ),
        ));
    }
    if name == "." || name == ".." {
        return Some((Rule::InterfaceNameCharacters, format!("`{name}` cannot be an interface name")));
    }
    if let Some(bad) = name.chars().find(|c| *c == '/' || *c == ':' || c.is_whitespace() || c.is_control()) {
        return Some((
            Rule::InterfaceNameCharacters,
            format!(
                "`{}` contains {}; interface names cannot contain `/`, `:`, spaces or control characters",
                name.escape_debug(),
                describe_char(bad)
            ),
        ));
    }
    if name.contains('%') {
        // The kernel reads a `%` in a new interface's name as a template for a free name
        // (`ip link add a%d ...` makes `a0`), so the lab would never find what it made.
        return Some((
            Rule::InterfaceNameCharacters,
            format!(
                "`{}` contains `%`, which the kernel reads as a template (`a%d` is made as `a0`, `a1`, ...); \
                 choose a name without `%`",
                name.escape_debug()
            ),
        ));
    }
    if name == "lo" {
        return Some((
            Rule::ReservedName,
            "`lo` is the loopback interface every namespace already has; choose another name".to_string(),
        ));
    }
    None
}

/// A namespace name becomes /run/netns/NAME and an argument of `ip netns`.
pub fn namespace_name_problem(name: &str) -> Option<(Rule, String)> {
    file_name_problem(name, "a namespace")
}

fn file_name_problem(name: &str, what: &str) -> Option<(Rule, String)> {
    let rule = Rule::NamespaceName;
    if name.is_empty() {
        return Some((Rule::EmptyName, format!("{what} needs a name")));
    }
    if name.len() > MAX_NAMESPACE_NAME {
        return Some((rule, format!("the name is {} bytes long; the most is {MAX_NAMESPACE_NAME}", name.len())));
    }
    if name.contains('/') {
        return Some((rule, format!("`{name}` contains `/`; the name becomes a file name, so it cannot")));
    }
    if name.contains("..") || name == "." {
        return Some((rule, format!("`{name}` contains `..` or is `.`; the name becomes a file name, so it cannot")));
    }
    if name.starts_with('-') {
        return Some((rule, format!("`{name}` starts with `-`, which commands would read as an option")));
    }
    if let Some(bad) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some((
            rule,
            format!("`{}` contains {}; use letters, digits, `-`, `_` or `.`", name.escape_debug(), describe_char(bad)),
        ));
    }
    None
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\0' => "a NUL byte".to_string(),
        c if c.is_whitespace() => "white space".to_string(),
        c if c.is_control() => format!("the control character {}", c.escape_unicode()),
        c => format!("`{c}`"),
    }
}
