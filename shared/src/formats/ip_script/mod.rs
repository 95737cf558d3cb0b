//! Import from a script of `ip` commands: what a student types from a tutorial, or what
//! `nslab export --format ip` writes. The script is read as the kernel would run it, line
//! by line, into a small model of the namespaces and interfaces it makes (`world`), which
//! then becomes a lab (`to_lab`). `ip` itself is read in `ip`, the older tools (`ifconfig`,
//! `brctl`, `sysctl`, `tc`) in `tools`.
//!
//! A line that cannot be understood is reported with its number and why, and the rest is
//! still read, so the editor can draw the lab while the user types and mark the lines it
//! could not read. What is understood but a lab cannot hold (a dummy interface, a policy
//! rule, an address on `lo`) is left out and named, with its line.
//!
//! Pure: the editor runs it in the browser.

mod ip;
mod line;
mod to_lab;
mod tools;
mod words;
mod world;

use std::fmt;

use serde::Serialize;

use crate::identity::Netns;
use crate::import::{finish, ImportError, Imported, LeftOut};
use crate::lab::Lab;
use line::{commands_of, Command, Word};
use world::World;

/// A line the importer could not understand: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A script read into a lab: the lab and what it leaves out, and the lines not understood.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptImport {
    pub imported: Imported,
    pub errors: Vec<LineError>,
    /// How many commands changed the lab (so a text with none is no script at all).
    pub understood: usize,
}

/// Why a command did not change the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Understood, but a lab cannot hold it: named in the lab's description.
    LeftOut(String),
    /// Not understood: reported on its line.
    NotUnderstood(String),
}

/// What running one command gives.
pub(crate) type Outcome = Result<Effect, Skip>;

/// A command that was understood: it changed the lab, or only looks at the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Changed,
    Nothing,
}

pub(crate) fn not_understood<T>(message: impl Into<String>) -> Result<T, Skip> {
    Err(Skip::NotUnderstood(message.into()))
}

pub(crate) fn left_out<T>(what: impl Into<String>) -> Result<T, Skip> {
    Err(Skip::LeftOut(what.into()))
}

/// Reads `text`, every line it can, into a lab called `lab_name`.
pub fn parse_script(text: &str, lab_name: &str) -> ScriptImport {
    let (lab, left_out, errors, understood) = read(text, lab_name);
    ScriptImport { imported: finish(lab, left_out), errors, understood }
}

/// `import`'s reader: a script with no command understood is refused (it is not a script
/// of these commands); otherwise each line not understood is named among what is left out.
pub fn import(text: &str, lab_name: &str) -> Result<Imported, ImportError> {
    let (lab, mut left_out, errors, understood) = read(text, lab_name);
    if understood == 0 {
        let (place, why) = match errors.first() {
            Some(error) => (format!("line {}", error.line), error.message.clone()),
            None => ("line 1".to_string(), "it has no command that makes namespaces, interfaces or routes".to_string()),
        };
        return Err(ImportError::new(place, format!("not a script of ip commands: {why}")));
    }
    let not_read = errors.into_iter().map(|error| (error.line, format!("not understood: {}", error.message)));
    left_out.extend(not_read.map(|(line, what)| LeftOut::new(format!("line {line}"), what)));
    left_out.sort_by_key(|item| line_number(&item.place));
    Ok(finish(lab, left_out))
}

fn read(text: &str, lab_name: &str) -> (Lab, Vec<LeftOut>, Vec<LineError>, usize) {
    let mut reader =
        Reader { world: World::default(), shells: Vec::new(), output: None, errors: Vec::new(), understood: 0 };
    for (number, command) in commands_of(text) {
        reader.run_line(number, command);
    }
    let Reader { world, errors, understood, .. } = reader;
    let (lab, left_out) = to_lab::lab_of(world, lab_name);
    (lab, left_out, errors, understood)
}

fn line_number(place: &str) -> usize {
    place.strip_prefix("line ").and_then(|n| n.parse().ok()).unwrap_or(0)
}

struct Reader {
    world: World,
    /// Shells opened inside namespaces (`ip netns exec ns0 bash`): later lines run there
    /// until `exit`.
    shells: Vec<Netns>,
    /// Where the command being run writes its output (`echo 1 > /proc/sys/...`).
    output: Option<String>,
    errors: Vec<LineError>,
    understood: usize,
}

impl Reader {
    fn run_line(&mut self, number: usize, command: Result<Command, String>) {
        let outcome = command.map_err(Skip::NotUnderstood).and_then(|command| {
            let netns = self.shells.last().cloned().unwrap_or(Netns::Host);
            self.output = command.output;
            self.run(&netns, &command.words)
        });
        match outcome {
            Ok(Effect::Changed) => self.understood += 1,
            Ok(Effect::Nothing) => {}
            Err(Skip::LeftOut(what)) => {
                self.understood += 1;
                self.world.leave_out(number, what);
            }
            // A line's first error says enough (`for i in 1 2; do ...; done` is one).
            Err(Skip::NotUnderstood(_)) if self.errors.last().is_some_and(|error| error.line == number) => {}
            Err(Skip::NotUnderstood(message)) => self.errors.push(LineError { line: number, message }),
        }
        self.world.take_notes(number);
    }

    /// Runs one command (its words after any prompt and `sudo`) in `netns`.
    fn run(&mut self, netns: &Netns, words: &[Word]) -> Outcome {
        let Some(first) = words.first() else { return Ok(Effect::Nothing) };
        let program = first.text.rsplit('/').next().unwrap_or(&first.text);
        let args = &words[1..];
        match program {
            "ip" => ip::run(self, netns, args),
            "ifconfig" => tools::ifconfig(&mut self.world, netns, args),
            "brctl" => tools::brctl(&mut self.world, netns, args),
            "sysctl" => tools::sysctl(&mut self.world, netns, args),
            "tc" => tools::tc(&mut self.world, netns, args),
            "echo" => tools::echo(&mut self.world, netns, args, self.output.as_deref()),
            "sudo" => self.run(netns, args),
            "bash" | "sh" | "zsh" | "dash" | "ash" => self.shell(netns, args),
            "exit" | "logout" => {
                self.shells.pop();
                Ok(Effect::Nothing)
            }
            "set" | "true" | "ls" | "cat" | "ping" | "ping6" | "traceroute" | "tracepath" | "arp" | "bridge"
            | "netstat" | "ss" | "tcpdump" | "clear" | "sleep" | "man" | "help" | "nslab" => {
                tools::looks_only(program, args)
            }
            "for" | "while" | "until" | "if" | "case" | "function" | "do" | "done" | "then" | "fi" | "esac" => {
                not_understood(format!("the shell's `{program}` is not understood; write each command out"))
            }
            _ if first.expands => not_understood("shell variables and substitutions are not understood"),
            _ => not_understood(format!("`{program}` is not a command this importer knows")),
        }
    }
}

impl Reader {
    /// `sh -c 'COMMANDS'` runs them in `netns`; a shell without `-c` is opened there, and
    /// the lines after it run in it until `exit`.
    fn shell(&mut self, netns: &Netns, args: &[Word]) -> Outcome {
        let Some(at) = args.iter().position(|word| word.text == "-c") else {
            self.shells.push(netns.clone());
            return Ok(Effect::Nothing);
        };
        let Some(script) = args.get(at + 1) else { return not_understood("`sh -c` needs a command") };
        let mut effect = Effect::Nothing;
        for (_, command) in commands_of(&script.text) {
            let command = command.map_err(Skip::NotUnderstood)?;
            if self.run(netns, &command.words)? == Effect::Changed {
                effect = Effect::Changed;
            }
        }
        Ok(effect)
    }
}

#[cfg(test)]
mod tests;
