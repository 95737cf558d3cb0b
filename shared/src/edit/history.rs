//! Undo and redo over whole-lab snapshots.
//!
//! Memory: at most `limit + 1` labs are held (undo steps, the current lab, redo steps; the
//! redo steps come out of the undo steps, so they never add to the bound). A 300-node lab
//! is some 100 KB in memory, so the default of 200 steps stays within about 20 MB even for
//! large labs. Snapshots keep the edits pure and undo exact, with no inverse operations.

use std::collections::VecDeque;

use crate::lab::Lab;

/// Undo steps kept by [`History::new`]; older ones are dropped first.
pub const HISTORY_LIMIT: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Older labs, the oldest first.
    past: VecDeque<Lab>,
    current: Lab,
    /// Labs undone, the most recently undone last.
    future: Vec<Lab>,
    limit: usize,
}

impl History {
    pub fn new(lab: Lab) -> Self {
        History::with_limit(lab, HISTORY_LIMIT)
    }

    /// A history keeping at most `limit` undo steps.
    pub fn with_limit(lab: Lab, limit: usize) -> Self {
        History { past: VecDeque::new(), current: lab, future: Vec::new(), limit }
    }

    /// A new current lab: the old one becomes an undo step, and what was undone can no
    /// longer be redone. A lab equal to the current one records nothing, so edits that
    /// changed nothing do not make empty undo steps.
    pub fn record(&mut self, lab: Lab) {
        if lab == self.current {
            return;
        }
        let old = std::mem::replace(&mut self.current, lab);
        self.past.push_back(old);
        while self.past.len() > self.limit {
            self.past.pop_front();
        }
        self.future.clear();
    }

    /// Steps back; the lab to show now, or None when there is nothing to undo.
    pub fn undo(&mut self) -> Option<&Lab> {
        let previous = self.past.pop_back()?;
        let undone = std::mem::replace(&mut self.current, previous);
        self.future.push(undone);
        Some(&self.current)
    }

    /// Steps forward again; the lab to show now, or None when there is nothing to redo.
    pub fn redo(&mut self) -> Option<&Lab> {
        let next = self.future.pop()?;
        let redone = std::mem::replace(&mut self.current, next);
        self.past.push_back(redone);
        Some(&self.current)
    }

    pub fn current(&self) -> &Lab {
        &self.current
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }

    /// How many undo steps there are.
    pub fn undo_steps(&self) -> usize {
        self.past.len()
    }

    /// How many redo steps there are.
    pub fn redo_steps(&self) -> usize {
        self.future.len()
    }

    /// Starts over from `lab` with nothing to undo (a lab loaded from a file or the
    /// server's first snapshot, which should not be undone into the empty editor).
    pub fn reset(&mut self, lab: Lab) {
        self.past.clear();
        self.future.clear();
        self.current = lab;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(name: &str) -> Lab {
        Lab::new(name)
    }

    /// Steps: `+NAME` records a lab called NAME, `u`/`r` undo/redo; each row gives the current lab after the
    /// steps and whether undo/redo are possible.
    #[test]
    fn undo_and_redo() {
        let cases: &[(&[&str], &str, bool, bool)] = &[
            (&[], "a", false, false),
            (&["+b"], "b", true, false),
            (&["+b", "u"], "a", false, true),
            (&["+b", "u", "r"], "b", true, false),
            (&["+b", "+c", "u", "u", "r"], "b", true, true),
            (&["+b", "+c", "u", "+d"], "d", true, false),
            (&["+b", "+b", "u"], "a", false, true),
            (&["u", "r"], "a", false, false),
            (&["+b", "u", "u", "r", "r"], "b", true, false),
        ];
        for (steps, want, can_undo, can_redo) in cases {
            let mut history = History::new(lab("a"));
            for step in *steps {
                match *step {
                    "u" => {
                        history.undo();
                    }
                    "r" => {
                        history.redo();
                    }
                    record => history.record(lab(&record[1..])),
                }
            }
            assert_eq!(history.current().name, *want, "{steps:?}");
            assert_eq!((history.can_undo(), history.can_redo()), (*can_undo, *can_redo), "{steps:?}");
        }
    }

    #[test]
    fn undo_and_redo_return_the_lab_to_show() {
        let mut history = History::new(lab("a"));
        history.record(lab("b"));
        assert_eq!(history.undo().map(|l| l.name.as_str()), Some("a"));
        assert_eq!(history.undo(), None);
        assert_eq!(history.redo().map(|l| l.name.as_str()), Some("b"));
        assert_eq!(history.redo(), None);
    }

    #[test]
    fn the_oldest_steps_are_dropped_at_the_limit() {
        let mut history = History::with_limit(lab("0"), 3);
        for step in 1..=10 {
            history.record(lab(&step.to_string()));
        }
        assert_eq!(history.undo_steps(), 3);
        let mut seen = Vec::new();
        while let Some(lab) = history.undo() {
            seen.push(lab.name.clone());
        }
        assert_eq!(seen, ["9", "8", "7"]);
        assert_eq!(history.redo_steps(), 3);
        history.reset(lab("x"));
        assert!(!history.can_undo() && !history.can_redo());
        assert_eq!(History::new(lab("a")).undo_steps(), 0);
    }
}
