//! Exporters: the canonical JSON file, and an `ip` script that builds the same lab with
//! iproute2, in the style of the reference labs (`sh script up|down`).

use std::fmt::Write;

use crate::lab::Lab;
use crate::plan::{creation_ops, teardown_ops};
use crate::shell::sh_word;

/// The canonical file: pretty, fields in a fixed order, defaults left out, one final newline.
pub fn to_json(lab: &Lab) -> String {
    let mut text = serde_json::to_string_pretty(lab).expect("a lab always serialises");
    text.push('\n');
    text
}

/// A POSIX shell script with `up` and `down` that builds exactly the lab with `ip`.
pub fn to_ip_script(lab: &Lab) -> String {
    let mut script = String::from("#!/bin/sh\n");
    let _ = writeln!(script, "# nslab lab {}, written as the iproute2 commands that build it.", sh_word(&lab.name));
    for line in lab.description.lines() {
        let _ = writeln!(script, "# {line}");
    }
    let _ = writeln!(script, "# usage: sh {}.sh up|down      (as root)", sh_word(&lab.name));
    script.push_str("set -e\ncase \"$1\" in\nup)\n");
    for op in creation_ops(lab) {
        let _ = writeln!(script, "  {}", op.ip_command());
    }
    script.push_str("  ;;\ndown)\n");
    if lab_sets_host_forwarding(lab) {
        script.push_str("  # The host's forwarding settings are left as they are.\n");
    }
    for op in teardown_ops(lab) {
        let _ = writeln!(script, "  {}", op.ip_command());
    }
    script.push_str("  ;;\n*) echo \"usage: $0 up|down\" >&2; exit 2 ;;\nesac\n");
    script
}

fn lab_sets_host_forwarding(lab: &Lab) -> bool {
    lab.nodes.iter().any(|node| {
        matches!(node, crate::lab::Node::Host(host) if host.ipv4_forwarding.is_some() || host.ipv6_forwarding.is_some())
    })
}
