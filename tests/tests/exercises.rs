//! The bundled exercises on the real kernel, each in its own sandbox: the starting lab
//! applied leaves some goal unmet (`nslab check` exits 4 and says which), the solution
//! applied instead meets every goal (exit 0). And `nslab check`'s bad inputs.

use std::path::{Path, PathBuf};

use nslab_model::goals::Checklist;
use nslab_tests::paths::repo_root;
use nslab_tests::sandbox::Sandbox;

const EXERCISES: [&str; 6] =
    ["01-veth", "02-bridge", "03-router", "04-default-route", "05-asymmetric", "06-duplicate-address"];

fn exercise(name: &str, part: &str) -> PathBuf {
    repo_root().join("examples/exercises").join(name).join(format!("{part}.json"))
}

fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `nslab check --json LAB` in the sandbox: its exit code and checklist.
fn check(sandbox: &Sandbox, lab: &Path) -> (Option<i32>, Checklist) {
    let output = sandbox.nslab(&["check", "--json", text(lab)]);
    let said = String::from_utf8_lossy(&output.stdout);
    let checklist = serde_json::from_str(&said).unwrap_or_else(|e| {
        panic!("{}: no checklist ({e}): {said}{}", lab.display(), String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code(), checklist)
}

fn unmet(checklist: &Checklist) -> Vec<String> {
    checklist.goals.iter().filter(|goal| !goal.met).map(|goal| format!("{}: {}", goal.goal, goal.detail)).collect()
}

fn the_start_fails_and_the_solution_meets_every_goal(name: &str) {
    let sandbox = Sandbox::new();
    let start = exercise(name, "start");
    let solution = exercise(name, "solution");

    sandbox.nslab_ok(&["apply", "--yes", text(&start)]);
    let (code, checklist) = check(&sandbox, &start);
    assert_eq!(code, Some(4), "{name}: the starting lab must leave a goal unmet: {checklist:?}");
    assert!(!checklist.all_met && !unmet(&checklist).is_empty(), "{name}: {checklist:?}");

    // From scratch: a solution applied over the start would meet stale neighbour caches
    // (the duplicate-address exercise's hint says so: ns1 keeps the old MAC for a minute).
    sandbox.nslab_ok(&["destroy", "--yes", text(&start)]);
    sandbox.nslab_ok(&["apply", "--yes", text(&solution)]);
    let (code, checklist) = check(&sandbox, &solution);
    assert_eq!(code, Some(0), "{name}: the solution must meet every goal; unmet: {:?}", unmet(&checklist));
    assert!(checklist.all_met);
    assert_eq!(checklist.goals.len(), checklist.met_count());

    sandbox.nslab_ok(&["destroy", "--yes", text(&solution)]);
    assert_eq!(sandbox.sh("ip netns list").trim(), "", "{name}: destroy leaves nothing");
}

#[test]
fn exercise_01_veth() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[0]);
}

#[test]
fn exercise_02_bridge() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[1]);
}

#[test]
fn exercise_03_router() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[2]);
}

#[test]
fn exercise_04_default_route() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[3]);
}

#[test]
fn exercise_05_asymmetric() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[4]);
}

#[test]
fn exercise_06_duplicate_address() {
    the_start_fails_and_the_solution_meets_every_goal(EXERCISES[5]);
}

#[test]
fn every_exercise_has_a_start_and_a_solution_with_the_same_goals() {
    let mut found: Vec<String> = std::fs::read_dir(repo_root().join("examples/exercises"))
        .expect("the exercises folder")
        .map(|entry| entry.expect("an entry").file_name().into_string().expect("UTF-8"))
        .collect();
    found.sort();
    assert_eq!(found, EXERCISES, "every exercise folder is tested above");
    for name in EXERCISES {
        let start = nslab_tests::paths::lab_at(&exercise(name, "start"));
        let solution = nslab_tests::paths::lab_at(&exercise(name, "solution"));
        assert!(!start.goals.is_empty(), "{name} has goals");
        assert_eq!(start.goals, solution.goals, "{name}: the solution checks the same goals");
        assert_eq!(start.name, solution.name, "{name}: the solution replaces the start when applied");
        for (part, lab) in [("start", &start), ("solution", &solution)] {
            let errors: Vec<_> = nslab_model::validate(lab).into_iter().filter(|p| p.is_error()).collect();
            assert!(errors.is_empty(), "{name}/{part} is valid: {errors:?}");
        }
    }
}

#[test]
fn check_refuses_a_lab_without_goals_and_a_lab_with_errors_and_changes_nothing() {
    let sandbox = Sandbox::new();
    let output = sandbox.nslab(&["check", text(&repo_root().join("examples/router.json"))]);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("the lab has no goals to check"), "{said}");

    let broken = tempfile::NamedTempFile::new().expect("a temporary file");
    let lab = r#"{"version": 1, "name": "t", "nodes": [{"kind": "namespace", "name": "a"}],
        "goals": [{"kind": "reach", "from": "nowhere", "to": "10.0.0.1"},
                  {"kind": "route", "node": "a", "to": "ten"}]}"#;
    std::fs::write(broken.path(), lab).expect("written");
    let output = sandbox.nslab(&["check", text(broken.path())]);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("goals[0].from") && said.contains("no such node"), "{said}");
    assert!(said.contains("goals[1].to") && said.contains("is not `default`"), "{said}");
    assert_eq!(sandbox.sh("ip netns list").trim(), "", "nothing was created");
}

#[test]
fn check_says_which_goals_fail_before_the_lab_is_applied_and_shows_hints_on_request() {
    let sandbox = Sandbox::new();
    let start = exercise("03-router", "start");
    let output = sandbox.nslab(&["check", "--hints", text(&start)]);
    assert_eq!(output.status.code(), Some(4));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("ex-router: 0 of 5 goals met"), "{said}");
    assert!(
        said.contains("[ ] left reaches 10.0.2.2: the kernel has no namespace `left`: apply the lab first"),
        "{said}"
    );
    assert!(said.contains("hint: A namespace drops packets"), "{said}");
}
