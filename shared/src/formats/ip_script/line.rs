//! A script's text as commands: lines joined where they end in `\`, the prompt a copied
//! terminal line starts with taken off (`[root@h ~]#`, `user@h:~$`, `$`, and `#` before a
//! command), comments dropped, words split as the shell splits them, and a line split at
//! `;`, `&&` and `||`. What follows a `|` only reads the output (`ip link | grep veth`).

/// A word of a command, its quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// It holds a `$` or a backquote the shell would expand: its value is unknown here.
    pub expands: bool,
}

/// One command: its words, and where its standard output goes (`> FILE`), if anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<Word>,
    pub output: Option<String>,
}

/// Words that start a command a prompt of `#` may stand before (else `#` starts a comment).
const COMMANDS: [&str; 14] =
    ["ip", "ifconfig", "brctl", "sysctl", "tc", "sudo", "ping", "ping6", "echo", "bridge", "ls", "exit", "bash", "sh"];

/// The commands of `text`, each with the number of the line it starts on (from 1), or why
/// its line could not be split.
pub fn commands_of(text: &str) -> Vec<(usize, Result<Command, String>)> {
    let mut commands = Vec::new();
    for (number, line) in logical_lines(text) {
        let line = without_prompt(&line);
        match split(line) {
            Ok(split) => commands.extend(split.into_iter().map(|command| (number, Ok(command)))),
            Err(message) => commands.push((number, Err(message))),
        }
    }
    commands
}

/// Lines with their continuations (a final `\`) joined, numbered by their first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(raw);
                lines.push((start, joined));
            }
        }
    }
    lines.extend(pending);
    lines
}

/// The line without a shell prompt before its command.
fn without_prompt(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('[') {
        if let Some(end) = line.find(['#', '$']).filter(|&end| end > 0 && line[..end].ends_with(']')) {
            return line[end + 1..].trim_start();
        }
    }
    let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim_start();
    let prompt_word = first.len() > 1 && (first.ends_with('#') || first.ends_with('$'));
    if prompt_word && (first.contains('@') || first.contains(':')) || first == "$" {
        return rest;
    }
    if first == "#" && rest.split_whitespace().next().is_some_and(|word| COMMANDS.contains(&word)) {
        return rest;
    }
    line
}

/// Splits a line (its prompt taken off) into commands.
fn split(line: &str) -> Result<Vec<Command>, String> {
    let mut splitter = Splitter::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                splitter.started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => splitter.word.push(c),
                        None => return Err("a quote (') is not closed".to_string()),
                    }
                }
            }
            '"' => {
                splitter.started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = chars.next().ok_or("a quote (\") is not closed")?;
                            splitter.word.push(escaped);
                        }
                        Some(c) => {
                            splitter.expands |= c == '$' || c == '`';
                            splitter.word.push(c);
                        }
                        None => return Err("a quote (\") is not closed".to_string()),
                    }
                }
            }
            '\\' => {
                splitter.started = true;
                splitter.word.extend(chars.next());
            }
            '#' if !splitter.started => break,
            c if c.is_whitespace() => splitter.end_word(),
            ';' => splitter.end_command(),
            '&' if chars.peek() == Some(&'&') => {
                chars.next();
                splitter.end_command();
            }
            '|' => {
                let or = chars.peek() == Some(&'|');
                if or {
                    chars.next();
                }
                splitter.end_command();
                splitter.piped = !or;
            }
            '>' | '<' => {
                let is_output = c == '>' && !splitter.word.ends_with('2') && !splitter.word.ends_with('&');
                if splitter.word == "2" || splitter.word == "&" || splitter.word == "1" {
                    splitter.word.clear();
                    splitter.started = false;
                }
                splitter.end_word();
                while chars.peek().is_some_and(|c| matches!(c, '>' | '&')) {
                    chars.next();
                }
                splitter.redirect = Some(is_output);
            }
            c => {
                splitter.started = true;
                splitter.expands |= c == '$' || c == '`';
                splitter.word.push(c);
            }
        }
    }
    splitter.end_command();
    Ok(splitter.commands)
}

#[derive(Default)]
struct Splitter {
    commands: Vec<Command>,
    current: Command,
    word: String,
    /// A word has begun (perhaps an empty quoted one), so `#` is no comment.
    started: bool,
    expands: bool,
    /// The next word is a redirection's target: of standard output (true) or other.
    redirect: Option<bool>,
    /// The command being read gets another's output: it only reads.
    piped: bool,
}

impl Splitter {
    fn end_word(&mut self) {
        if !self.started {
            return;
        }
        let word = Word { text: std::mem::take(&mut self.word), expands: self.expands };
        self.started = false;
        self.expands = false;
        match self.redirect.take() {
            Some(true) => self.current.output = Some(word.text),
            Some(false) => {}
            None => self.current.words.push(word),
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        let command = std::mem::take(&mut self.current);
        if !command.words.is_empty() && !self.piped {
            self.commands.push(command);
        }
        self.piped = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        commands_of(text)
            .into_iter()
            .map(|(_, command)| command.unwrap().words.into_iter().map(|word| word.text).collect())
            .collect()
    }

    #[test]
    fn prompts_are_taken_off_and_comments_dropped() {
        let text = "[root@qll253 ~]# ip netns add ns0\n# ip link add docker0 type bridge\n# ns0\n$ ip a\n\
                    root@box:~# ip l\n#!/bin/sh\nip netns exec ns0 ping -c 1 172.17.0.1 # bridge\n";
        assert_eq!(
            words(text),
            [
                vec!["ip", "netns", "add", "ns0"],
                vec!["ip", "link", "add", "docker0", "type", "bridge"],
                vec!["ip", "a"],
                vec!["ip", "l"],
                vec!["ip", "netns", "exec", "ns0", "ping", "-c", "1", "172.17.0.1"],
            ]
        );
    }

    #[test]
    fn quotes_continuations_and_separators_are_read_as_the_shell_reads_them() {
        let text = "ip link add 'a b' \\\n  type veth\nip netns add x; ip netns add y && ip a | grep y\n\
                    echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null\n";
        let commands = commands_of(text);
        assert_eq!(commands[0].0, 1);
        assert_eq!(commands[1].0, 3);
        assert_eq!(
            words(text),
            [
                vec!["ip", "link", "add", "a b", "type", "veth"],
                vec!["ip", "netns", "add", "x"],
                vec!["ip", "netns", "add", "y"],
                vec!["ip", "a"],
                vec!["echo", "1"],
            ]
        );
        assert_eq!(commands[4].1.as_ref().unwrap().output.as_deref(), Some("/proc/sys/net/ipv4/ip_forward"));
        let (line, error) = &commands_of("ip netns add 'x\n")[0];
        assert_eq!((*line, error.clone().unwrap_err().as_str()), (1, "a quote (') is not closed"));
        let split = commands_of("ip netns add ns$i\n");
        assert!(split[0].1.as_ref().unwrap().words[3].expands);
    }
}
