//! Every target over every committed input in `corpus/<target>/`: the seeds, and the
//! crashes the fuzzer found, kept so that they stay fixed. Runs in the ordinary test run.

use std::path::Path;

#[test]
fn every_target_runs_clean_over_its_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut failures = Vec::new();
    for (target, run) in nslab_fuzz::TARGETS {
        let folder = root.join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        inputs.sort();
        assert!(inputs.len() >= 3, "{target} has a corpus of {} inputs", inputs.len());
        for input in inputs {
            let bytes = std::fs::read(&input).expect("a corpus file reads");
            if std::panic::catch_unwind(|| run(&bytes)).is_err() {
                failures.push(format!("{target} on {}", input.display()));
            }
        }
    }
    assert!(failures.is_empty(), "failed (each one's panic is printed above):\n{}", failures.join("\n"));
}
