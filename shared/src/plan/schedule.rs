//! Which step to start next: steps whose dependencies are done, in plan order, within a
//! budget of steps running at once per lane. Lanes let work that waits on different
//! resources overlap: the engine puts namespace creation (done by a few threads that enter
//! namespaces) in one lane and plain netlink requests in another, so the veths of the
//! first namespaces are made while later namespaces are still being set up, instead of
//! all namespaces first and all veths after.
//! Each start and finish costs O(log n) plus the finished step's dependents.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::steps::Step;

pub struct Schedule {
    lane_of: Vec<usize>,
    /// Per step: how many of the steps it waits for are not done yet.
    waiting_for: Vec<usize>,
    /// Per step: the steps that wait for it.
    dependents: Vec<Vec<usize>>,
    /// Per lane: the steps ready to start, lowest plan index first.
    ready: Vec<BinaryHeap<Reverse<usize>>>,
    running: Vec<usize>,
    budgets: Vec<usize>,
}

impl Schedule {
    /// `lane_of(step)` must be below `budgets.len()`; a budget of 0 is taken as 1.
    pub fn new(steps: &[Step], lane_of: impl Fn(&Step) -> usize, budgets: &[usize]) -> Schedule {
        let lanes = budgets.len().max(1);
        let mut dependents = vec![Vec::new(); steps.len()];
        for (index, step) in steps.iter().enumerate() {
            for &before in &step.after {
                dependents[before].push(index);
            }
        }
        let mut schedule = Schedule {
            lane_of: steps.iter().map(|step| lane_of(step).min(lanes - 1)).collect(),
            waiting_for: steps.iter().map(|step| step.after.len()).collect(),
            dependents,
            ready: vec![BinaryHeap::new(); lanes],
            running: vec![0; lanes],
            budgets: (0..lanes).map(|lane| budgets.get(lane).copied().unwrap_or(1).max(1)).collect(),
        };
        for index in 0..steps.len() {
            if schedule.waiting_for[index] == 0 {
                schedule.ready[schedule.lane_of[index]].push(Reverse(index));
            }
        }
        schedule
    }

    /// A step that may start now (the lowest plan index among the lanes with room), taken
    /// as running; None when every ready step's lane is full or nothing is ready.
    pub fn start_next(&mut self) -> Option<usize> {
        let lane = (0..self.ready.len())
            .filter(|&lane| self.running[lane] < self.budgets[lane])
            .filter_map(|lane| self.ready[lane].peek().map(|Reverse(index)| (*index, lane)))
            .min()?
            .1;
        let Reverse(index) = self.ready[lane].pop()?;
        self.running[lane] += 1;
        Some(index)
    }

    /// Step `index` (started before) is done: its dependents may become ready.
    pub fn finished(&mut self, index: usize) {
        self.running[self.lane_of[index]] -= 1;
        for position in 0..self.dependents[index].len() {
            let dependent = self.dependents[index][position];
            self.waiting_for[dependent] -= 1;
            if self.waiting_for[dependent] == 0 {
                self.ready[self.lane_of[dependent]].push(Reverse(dependent));
            }
        }
    }

    /// Step `index` (started before) failed: it frees its place, its dependents stay waiting.
    pub fn failed(&mut self, index: usize) {
        self.running[self.lane_of[index]] -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(at: usize, after: &[usize]) -> Step {
        Step { ops: at..at + 1, after: after.to_vec() }
    }

    fn drain(schedule: &mut Schedule) -> Vec<usize> {
        std::iter::from_fn(|| schedule.start_next()).collect()
    }

    #[test]
    fn starts_ready_steps_in_plan_order_within_the_budget() {
        let steps = vec![step(0, &[]), step(1, &[]), step(2, &[0]), step(3, &[])];
        let mut schedule = Schedule::new(&steps, |_| 0, &[2]);
        assert_eq!(drain(&mut schedule), vec![0, 1]);
        schedule.finished(0);
        // Step 2 became ready and comes before 3.
        assert_eq!(drain(&mut schedule), vec![2]);
        schedule.finished(1);
        assert_eq!(drain(&mut schedule), vec![3]);
        schedule.finished(2);
        schedule.finished(3);
        assert_eq!(drain(&mut schedule), Vec::<usize>::new());
    }

    #[test]
    fn a_full_lane_does_not_hold_back_another() {
        // Namespaces 0, 1, 2 in lane 0 (budget 1); each veth (3, 4, 5) waits for its namespace.
        let steps = vec![step(0, &[]), step(1, &[]), step(2, &[]), step(3, &[0]), step(4, &[1]), step(5, &[2])];
        let mut schedule = Schedule::new(&steps, |step| usize::from(step.ops.start >= 3), &[1, 4]);
        assert_eq!(drain(&mut schedule), vec![0]);
        schedule.finished(0);
        // The first veth goes while the second namespace is made.
        assert_eq!(drain(&mut schedule), vec![1, 3]);
    }

    #[test]
    fn a_step_waits_for_all_it_depends_on_and_a_failure_releases_nothing() {
        let steps = vec![step(0, &[]), step(1, &[]), step(2, &[0, 1])];
        let mut schedule = Schedule::new(&steps, |_| 0, &[8]);
        assert_eq!(drain(&mut schedule), vec![0, 1]);
        schedule.finished(0);
        assert_eq!(drain(&mut schedule), Vec::<usize>::new());
        schedule.failed(1);
        assert_eq!(drain(&mut schedule), Vec::<usize>::new());
    }

    #[test]
    fn out_of_range_lanes_and_zero_budgets_are_clamped() {
        let steps = vec![step(0, &[]), step(1, &[])];
        let mut schedule = Schedule::new(&steps, |_| 7, &[0]);
        assert_eq!(drain(&mut schedule), vec![0]);
        schedule.finished(0);
        assert_eq!(drain(&mut schedule), vec![1]);
    }
}
