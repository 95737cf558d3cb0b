//! `nslab check`: a lab's goals checked against the live kernel, as a checklist.

use std::path::Path;

use nslab_model::goals::Checklist;
use nslab_model::Limits;

use super::{print_kernel_notes, read_valid_lab, runtime, CliError, CliResult};
use crate::engine::Engine;
use crate::goal_check::check_goals;
use crate::kernel::ping::Pinger;

/// `nslab check`: some goal does not hold.
pub const EXIT_GOALS_UNMET: i32 = 4;

pub fn check(file: &Path, json: bool, hints: bool, limits: &Limits) -> CliResult {
    let lab = read_valid_lab(file, limits)?;
    if lab.goals.is_empty() {
        return Err(CliError::bad_input(format!(
            "{}: the lab has no goals to check (see \"Goals\" in docs/lab-format.md)",
            file.display()
        )));
    }
    let checklist = runtime().block_on(async {
        let engine = Engine::new(*limits);
        let observed = engine.observe().await.map_err(CliError::failed)?;
        print_kernel_notes(&observed);
        Ok::<_, CliError>(check_goals(&lab, &observed, &Pinger::new()).await)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&checklist).expect("a checklist serialises"));
    } else {
        print_checklist(&lab.name, &checklist, hints);
    }
    if checklist.all_met {
        Ok(())
    } else {
        Err(CliError::said(EXIT_GOALS_UNMET))
    }
}

fn print_checklist(lab: &str, checklist: &Checklist, hints: bool) {
    let total = checklist.goals.len();
    let goals = if total == 1 { "goal" } else { "goals" };
    println!("{lab}: {} of {total} {goals} met", checklist.met_count());
    for result in &checklist.goals {
        let tick = if result.met { "[x]" } else { "[ ]" };
        println!("  {tick} {}: {}", result.goal, result.detail);
        if let (false, true, Some(hint)) = (result.met, hints, &result.hint) {
            println!("      hint: {hint}");
        }
    }
}
