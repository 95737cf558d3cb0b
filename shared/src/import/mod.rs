//! Import: a lab read from another tool's files (containerlab, Kathará, CORE, MiniEdit,
//! GNS3) or from the `ip` commands that build it. Each source's reader lives in its own
//! file under `crate::formats`; this module names the sources, guesses one from the files,
//! and gives every reader the same result: the lab, and what the source holds that a lab
//! cannot (an image, a routing daemon's configuration, a VLAN), named, never silently
//! dropped. What is left out is also written into the lab's description, as scan does.
//! Pure, like the rest of the model: the editor imports in the browser too.

mod detect;

use std::fmt;

use serde::Serialize;

use crate::lab::Lab;
use crate::layout::place_missing;

pub use detect::{detect, from_content, from_name};

/// A lab read from another format, with what it could not keep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    pub lab: Lab,
    pub left_out: Vec<LeftOut>,
}

/// Something the source holds that a lab cannot: named, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Where it is in the source: `line 12`, `topology.nodes.r1.image`.
    pub place: String,
    /// What it is, in a few words (code in backticks).
    pub what: String,
}

/// Why a source could not be read at all: the files are not that format, or are empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    /// Where: `line 3`, `topology.links[2]`, `lab.conf`, or the file's name.
    pub place: String,
    pub message: String,
}

/// The formats a lab is imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// containerlab's topology file, `NAME.clab.yml`.
    Clab,
    /// Kathará's `lab.conf`, with each device's `NAME.startup`.
    Kathara,
    /// CORE's scenario XML.
    Core,
    /// Mininet's MiniEdit file, `.mn`.
    Miniedit,
    /// A GNS3 project, `.gns3`.
    Gns3,
    /// A script of `ip` (and `ifconfig`, `brctl`, `sysctl`) commands.
    Ip,
}

/// The files of a source: the main one first; Kathará also gives `NAME.startup` files etc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFiles {
    /// (path relative to the lab's folder, text).
    pub files: Vec<(String, String)>,
}

impl LeftOut {
    pub fn new(place: impl Into<String>, what: impl Into<String>) -> Self {
        LeftOut { place: place.into(), what: what.into() }
    }
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.what)
    }
}

impl ImportError {
    pub fn new(place: impl Into<String>, message: impl Into<String>) -> Self {
        ImportError { place: place.into(), message: message.into() }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for ImportError {}

impl Source {
    pub const ALL: [Source; 6] =
        [Source::Clab, Source::Kathara, Source::Core, Source::Miniedit, Source::Gns3, Source::Ip];

    /// The name `--from` takes.
    pub fn name(self) -> &'static str {
        match self {
            Source::Clab => "clab",
            Source::Kathara => "kathara",
            Source::Core => "core",
            Source::Miniedit => "miniedit",
            Source::Gns3 => "gns3",
            Source::Ip => "ip",
        }
    }

    /// What the format is, in a few words (for `--help` and messages).
    pub fn description(self) -> &'static str {
        match self {
            Source::Clab => "containerlab topology (.clab.yml)",
            Source::Kathara => "Kathará lab (lab.conf and .startup files)",
            Source::Core => "CORE scenario XML",
            Source::Miniedit => "Mininet MiniEdit file (.mn)",
            Source::Gns3 => "GNS3 project (.gns3)",
            Source::Ip => "script of ip, ifconfig, brctl and sysctl commands",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Source::ALL.into_iter().find(|source| source.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Source::ALL.iter().map(|source| source.name()).collect();
            format!("unknown format `{name}`; use one of {}", names.join(", "))
        })
    }
}

impl SourceFiles {
    /// One file: a pasted script, a single topology file.
    pub fn one(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFiles { files: vec![(path.into(), text.into())] }
    }

    /// The main file (the first one), if any.
    pub fn main(&self) -> Option<(&str, &str)> {
        self.files.first().map(|(path, text)| (path.as_str(), text.as_str()))
    }

    /// The text of the file at `path`, if the source has it.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, text)| text.as_str())
    }
}

/// Reads `files` as `source` into a lab called `lab_name`. An empty main file is refused
/// here, once for every format.
pub fn import(source: Source, files: &SourceFiles, lab_name: &str) -> Result<Imported, ImportError> {
    let Some((path, text)) = files.main() else {
        return Err(ImportError::new(source.name(), "no file given"));
    };
    if text.trim().is_empty() {
        return Err(ImportError::new(path, "the file is empty"));
    }
    match source {
        Source::Clab => crate::formats::clab::import(files, lab_name),
        Source::Ip => crate::formats::ip_script::import(text, lab_name),
        Source::Kathara => crate::formats::kathara::import(files, lab_name),
        Source::Core => crate::formats::core::import(files, lab_name),
        Source::Miniedit => crate::formats::miniedit::import(files, lab_name),
        Source::Gns3 => crate::formats::gns3::import(files, lab_name),
    }
}

/// The result every reader gives: what is left out is written into the lab's description
/// (after any description the source had), and nodes without a position are placed.
pub fn finish(mut lab: Lab, left_out: Vec<LeftOut>) -> Imported {
    if !left_out.is_empty() {
        let items: Vec<String> = left_out.iter().map(LeftOut::to_string).collect();
        let sentence = format!("Left out on import: {}.", items.join("; "));
        lab.description =
            if lab.description.is_empty() { sentence } else { format!("{}\n\n{sentence}", lab.description) };
    }
    Imported { lab: place_missing(&lab), left_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_as_the_cli_takes_them() {
        for source in Source::ALL {
            assert_eq!(source.name().parse::<Source>(), Ok(source));
        }
        let refused = "dot".parse::<Source>().unwrap_err();
        assert_eq!(refused, "unknown format `dot`; use one of clab, kathara, core, miniedit, gns3, ip");
    }

    #[test]
    fn an_empty_file_is_refused_with_its_name() {
        let error = import(Source::Ip, &SourceFiles::one("lab.sh", " \n\n"), "lab").unwrap_err();
        assert_eq!(error.to_string(), "lab.sh: the file is empty");
        let error = import(Source::Clab, &SourceFiles::default(), "lab").unwrap_err();
        assert_eq!(error.to_string(), "clab: no file given");
    }

    #[test]
    fn what_is_left_out_is_written_into_the_description() {
        let mut lab = Lab::new("lab");
        lab.description = "From containerlab.".to_string();
        let left_out = vec![LeftOut::new("topology.nodes.r1.image", "the image `frr`")];
        let imported = finish(lab, left_out);
        assert_eq!(
            imported.lab.description,
            "From containerlab.\n\nLeft out on import: topology.nodes.r1.image: the image `frr`."
        );
    }
}
