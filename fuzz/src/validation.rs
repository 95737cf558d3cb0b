//! Validation: never panics on anything the loader accepts; every problem is located in
//! the document it was found in; the size limits stop the other checks; the problems of
//! the lab's name alone (what `destroy` checks) are among the problems of the whole lab.

use nslab_model::{validate, validate_lab_name, validate_with, Limits, Rule};

use crate::doc_path::points_into;

pub fn validation(data: &[u8]) {
    let Some(lab) = crate::load(data) else { return };
    let problems = validate(&lab);
    let document = serde_json::to_value(&lab).expect("a lab always serialises");
    for problem in &problems {
        assert!(!problem.message.is_empty(), "a problem says what is wrong: {problem:?}");
        assert_eq!(problem.severity, problem.rule.severity(), "{problem:?}");
        assert!(points_into(&document, problem.path.as_str()), "a problem outside the document: {problem:?}");
    }
    for problem in validate_lab_name(&lab) {
        assert!(problems.contains(&problem), "the name's problem {problem:?} is not among the lab's: {problems:?}");
    }
    // Over the limits, only the size (and the version) is reported.
    let tight = Limits { max_nodes: 1, max_links: 1, ..Limits::default() };
    if lab.nodes.len() > 1 || lab.links.len() > 1 {
        for problem in validate_with(&lab, &tight) {
            assert!(
                matches!(problem.rule, Rule::TooManyNodes | Rule::TooManyLinks | Rule::UnsupportedVersion),
                "a lab over the limits was checked further: {problem:?}"
            );
        }
    }
}
