//! A POSIX shell's reading of one command line, strict: the words of a simple command, or
//! None when the line holds anything a shell could act on (`;`, `|`, `$`, a glob, an
//! unbalanced quote, a comment, a line break...): outside quotes, only the characters
//! `nslab_model::shell::sh_word` leaves bare. The `ip` script's commands must read
//! as their words and nothing more, whatever names a lab holds.

pub fn words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if chars.peek().is_none() {
            return Some(words);
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
            match c {
                '\'' => loop {
                    match chars.next()? {
                        '\'' => break,
                        inner => word.push(inner),
                    }
                },
                '"' => loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => match chars.next()? {
                            escaped @ ('"' | '\\') => word.push(escaped),
                            '$' | '`' | '\n' => return None,
                            other => {
                                word.push('\\');
                                word.push(other);
                            }
                        },
                        inner => word.push(inner),
                    }
                },
                '\\' => match chars.next()? {
                    '\n' => return None,
                    escaped => word.push(escaped),
                },
                // What `sh_word` leaves unquoted; anything else unquoted the shell may act on.
                other if other.is_ascii_alphanumeric() || "_-.,:/@%+=".contains(other) => word.push(other),
                _ => return None,
            }
        }
        words.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::words;

    fn ok(line: &str) -> Vec<String> {
        words(line).unwrap_or_else(|| panic!("refused: {line}"))
    }

    #[test]
    fn reads_simple_commands_and_refuses_the_rest() {
        assert_eq!(ok("ip -n ns0 link set dev lo up"), ["ip", "-n", "ns0", "link", "set", "dev", "lo", "up"]);
        assert_eq!(ok(r"ip netns add 'a b'"), ["ip", "netns", "add", "a b"]);
        assert_eq!(ok(r"ip netns add 'it'\''s'"), ["ip", "netns", "add", "it's"]);
        assert_eq!(ok(r#"echo "a\"b" x=1"#), ["echo", "a\"b", "x=1"]);
        assert_eq!(ok("ip netns add ''"), ["ip", "netns", "add", ""]);
        for bad in [
            "a; b", "a | b", "a $x", "a `b`", "a 'b", "a \"b", "# c", "a *", "a >f", "a\nb", "a (b)", "a ~", "a {b,c}",
            "a!",
        ] {
            assert_eq!(words(bad), None, "{bad}");
        }
    }
}
