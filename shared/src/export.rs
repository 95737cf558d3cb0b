//! Exporters: the canonical JSON file, and an `ip` script that builds the same lab with
//! iproute2, in the style of the reference labs (`sh script up|down`).

use std::fmt::Write;

use crate::lab::Lab;
use crate::plan::{creation_ops, teardown_ops};
use crate::shell::sh_word;

/// A format a lab is exported in: the same names for the CLI's `--format` and the
/// server's `?format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The canonical lab file.
    #[default]
    Json,
    /// A shell script of iproute2 commands, with `up` and `down`.
    Ip,
    /// A containerlab topology.
    Clab,
    /// A Kathará lab: a folder of `lab.conf` and `.startup` files.
    Kathara,
    /// A CORE scenario.
    Core,
    /// A Mininet Python script.
    Mininet,
    /// A Graphviz graph, for `dot -Tsvg`.
    Dot,
    /// A Mermaid flowchart, for a README.
    Mermaid,
    /// A draw.io (diagrams.net) drawing.
    Drawio,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Json,
        Format::Ip,
        Format::Clab,
        Format::Kathara,
        Format::Core,
        Format::Mininet,
        Format::Dot,
        Format::Mermaid,
        Format::Drawio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ip => "ip",
            Format::Clab => "clab",
            Format::Kathara => "kathara",
            Format::Core => "core",
            Format::Mininet => "mininet",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
            Format::Drawio => "drawio",
        }
    }

    /// What the format is, in a few words (for `--help`).
    pub fn description(self) -> &'static str {
        match self {
            Format::Json => "The canonical lab file",
            Format::Ip => "A shell script of iproute2 commands, with `up` and `down`",
            Format::Clab => "A containerlab topology (.clab.yml)",
            Format::Kathara => "A Kathará lab: lab.conf and .startup files (with -o, a folder)",
            Format::Core => "A CORE scenario (XML)",
            Format::Mininet => "A Mininet Python script",
            Format::Dot => "A Graphviz graph (`dot -Tsvg`), with the editor's positions",
            Format::Mermaid => "A Mermaid flowchart, for a README",
            Format::Drawio => "A draw.io (diagrams.net) drawing, with the editor's positions",
        }
    }

    /// The lab in this format.
    pub fn render(self, lab: &Lab) -> String {
        match self {
            Format::Json => to_json(lab),
            Format::Ip => to_ip_script(lab),
            Format::Clab => crate::formats::clab::render(lab),
            Format::Kathara => crate::formats::kathara::render_script(lab),
            Format::Core => crate::formats::core::render(lab),
            Format::Mininet => crate::formats::mininet::render(lab),
            Format::Dot => crate::formats::dot::to_dot(lab),
            Format::Mermaid => crate::formats::mermaid::to_mermaid(lab),
            Format::Drawio => crate::formats::drawio::to_drawio(lab),
        }
    }

    /// Whether the format is a folder of several files (see `render_files`).
    pub fn is_folder(self) -> bool {
        self == Format::Kathara
    }

    /// The lab as the files of this format, each with its path in the folder: several for
    /// a folder format, else the one file `render` gives, named after the lab.
    pub fn render_files(self, lab: &Lab) -> Vec<(String, String)> {
        match self {
            Format::Kathara => crate::formats::kathara::render_files(lab),
            _ => vec![(format!("{}.{}", lab.name, self.extension()), self.render(lab))],
        }
    }

    /// Whether the lab must be free of errors first: a script of an invalid lab would
    /// fail half-way, while the JSON file of one is what the user is fixing.
    pub fn needs_valid_lab(self) -> bool {
        matches!(self, Format::Ip | Format::Mininet)
    }

    /// A file of this format: its extension and media type.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ip => "sh",
            Format::Clab => "clab.yml",
            Format::Kathara => "sh",
            Format::Core => "xml",
            Format::Mininet => "py",
            Format::Dot => "dot",
            Format::Mermaid => "mmd",
            Format::Drawio => "drawio",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ip => "text/x-shellscript; charset=utf-8",
            Format::Clab => "application/yaml; charset=utf-8",
            Format::Kathara => "text/x-shellscript; charset=utf-8",
            Format::Core => "application/xml; charset=utf-8",
            Format::Mininet => "text/x-python; charset=utf-8",
            Format::Dot => "text/vnd.graphviz; charset=utf-8",
            Format::Mermaid => "text/vnd.mermaid; charset=utf-8",
            Format::Drawio => "application/vnd.jgraph.mxfile; charset=utf-8",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|format| format.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|format| format.name()).collect();
            format!("unknown format `{name}`; use one of {}", names.join(", "))
        })
    }
}

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
