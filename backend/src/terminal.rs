//! Talking to a person at a terminal: a confirmation prompt and a progress bar. Without a
//! terminal nobody is asked and no bar is drawn.

use std::io::{BufRead, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use nslab_model::api::{OpProgress, OpState};

/// What a person answered to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Standard input is no terminal: nobody can be asked (a script, a pipe, a service).
    NobodyToAsk,
}

/// Asks a yes/no question on the terminal; anything but yes is no. Without a terminal it
/// asks nothing and never waits.
pub fn ask(question: &str) -> Answer {
    if !std::io::stdin().is_terminal() {
        return Answer::NobodyToAsk;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Answer::No;
    }
    match answer.trim() {
        "y" | "Y" | "yes" | "Yes" => Answer::Yes,
        _ => Answer::No,
    }
}

/// A bar on standard error that shows each op's command as it runs.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        // indicatif draws nothing when standard error is not a terminal.
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30.green/blue} {pos}/{len} {elapsed} {wide_msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        Progress { bar }
    }

    pub fn show(&mut self, event: &OpProgress) {
        match event.state {
            OpState::Started => self.bar.set_message(event.command.clone()),
            OpState::Done => {
                self.bar.set_message(event.command.clone());
                self.bar.inc(1);
            }
            OpState::Failed => self.bar.println(format!("failed: {}", event.command)),
            OpState::Undone => self.bar.println(format!("undone: {}", event.command)),
        }
    }

    pub fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}
