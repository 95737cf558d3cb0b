//! The words of a command after its verb, read in turn: an option takes the word after it
//! as its value, and a missing value is said where it is missing.

use super::Skip;

pub(super) struct Words<'s, 'w> {
    words: &'s [&'w str],
    at: usize,
}

impl<'s, 'w> Words<'s, 'w> {
    pub fn new(words: &'s [&'w str]) -> Self {
        Words { words, at: 0 }
    }

    /// The value of `option`: the word after it.
    pub fn value_of(&mut self, option: &str) -> Result<&'w str, Skip> {
        self.next().ok_or_else(|| Skip::NotUnderstood(format!("`{option}` needs a value")))
    }

    /// The words not read yet, all of them read from now on.
    pub fn rest(&mut self) -> &'s [&'w str] {
        let rest = &self.words[self.at.min(self.words.len())..];
        self.at = self.words.len();
        rest
    }
}

impl<'w> Iterator for Words<'_, 'w> {
    type Item = &'w str;

    fn next(&mut self) -> Option<&'w str> {
        let word = self.words.get(self.at).copied();
        self.at += 1;
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_the_next_word_and_say_when_it_is_missing() {
        let text = ["dev", "eth0", "mtu"];
        let mut words = Words::new(&text);
        assert_eq!(words.next(), Some("dev"));
        assert_eq!(words.value_of("dev").ok(), Some("eth0"));
        assert_eq!(words.next(), Some("mtu"));
        let Err(Skip::NotUnderstood(why)) = words.value_of("mtu") else { panic!("a missing value") };
        assert_eq!(why, "`mtu` needs a value");
        let text = ["type", "veth", "peer", "name", "b"];
        let mut words = Words::new(&text);
        words.next();
        assert_eq!(words.value_of("type").ok(), Some("veth"));
        assert_eq!(words.rest(), ["peer", "name", "b"]);
        assert_eq!(words.next(), None);
    }
}
