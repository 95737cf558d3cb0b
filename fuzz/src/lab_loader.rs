//! The lab loader: any bytes load or are refused with a located problem, never a panic;
//! a lab that loads is exported, loaded again and exported again byte for byte.

use nslab_model::export::to_json;
use nslab_model::{load_lab, Limits, Severity};

pub fn lab_loader(data: &[u8]) {
    let lab = match load_lab(data, &Limits::default()) {
        Ok(lab) => lab,
        Err(error) => {
            let problem = error.to_problem();
            assert_eq!(problem.severity, Severity::Error, "a refused file is an error: {problem:?}");
            assert!(!problem.message.is_empty(), "a refusal says why: {error:?}");
            return;
        }
    };
    let exported = to_json(&lab);
    // The pretty export may be larger than the file it came from; size is not the point here.
    let unlimited = Limits { max_bytes: usize::MAX, ..Limits::default() };
    let imported = load_lab(exported.as_bytes(), &unlimited)
        .unwrap_or_else(|error| panic!("the export of a loaded lab does not load: {error}\n{exported}"));
    assert_eq!(imported, lab, "the export loads as another lab:\n{exported}");
    assert_eq!(to_json(&imported), exported, "export, import, export is not byte-identical");
}
