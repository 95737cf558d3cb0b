//! Validation: every problem of a lab at once, each at a path into the document and in
//! words a student understands. Errors block apply; warnings are advice.
//!
//! Cost stays near-linear in the size of the lab (hash maps, no pairwise scans), and a lab
//! over the size limits is refused before anything else is looked at.

mod addresses;
mod goals;
mod impairments;
mod names;
mod references;
mod routes;

pub use addresses::{addresses_twice_on, host_address_problem, AddressTwice};
pub use routes::{kernel_metric, lab_metric, parse_route, ParsedRoute};
mod sense;

use crate::lab::{Lab, FORMAT_VERSION};
use crate::load::Limits;
use crate::path::DocPath;
use crate::problem::{Problem, Rule};
use crate::topology::Topology;

/// Checks a lab against the default limits.
pub fn validate(lab: &Lab) -> Vec<Problem> {
    validate_with(lab, &Limits::default())
}

pub fn validate_with(lab: &Lab, limits: &Limits) -> Vec<Problem> {
    let mut report = Report::default();
    if lab.version != FORMAT_VERSION {
        report.push(
            Rule::UnsupportedVersion,
            DocPath::root().field("version"),
            format!("this lab says version {}, but this nslab handles version {FORMAT_VERSION}", lab.version),
        );
    }
    if check_size(lab, limits, &mut report) {
        return report.problems;
    }
    let topology = Topology::of(lab);
    names::check(lab, &topology, &mut report);
    references::check(lab, &mut report);
    addresses::check(lab, &topology, &mut report);
    routes::check(lab, &topology, &mut report);
    impairments::check(lab, &mut report);
    sense::check(lab, &topology, &mut report);
    goals::check(lab, &mut report);
    report.problems
}

/// The problems of the lab's name alone (it names the lab's files in `/run/nslab` and its
/// marks): what `destroy` checks of a lab file it otherwise takes as it is.
pub fn validate_lab_name(lab: &Lab) -> Vec<Problem> {
    let mut report = Report::default();
    names::check_lab_name(lab, &mut report);
    report.problems
}

/// True when the lab is too big to look at further.
fn check_size(lab: &Lab, limits: &Limits, report: &mut Report) -> bool {
    let mut too_big = false;
    if lab.nodes.len() > limits.max_nodes {
        report.push(
            Rule::TooManyNodes,
            DocPath::root().field("nodes"),
            format!("the lab has {} nodes; nslab handles at most {}", lab.nodes.len(), limits.max_nodes),
        );
        too_big = true;
    }
    if lab.links.len() > limits.max_links {
        report.push(
            Rule::TooManyLinks,
            DocPath::root().field("links"),
            format!("the lab has {} links; nslab handles at most {}", lab.links.len(), limits.max_links),
        );
        too_big = true;
    }
    too_big
}

#[derive(Default)]
struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn push(&mut self, rule: Rule, path: DocPath, message: impl Into<String>) {
        self.problems.push(Problem::new(rule, path, message));
    }
}
