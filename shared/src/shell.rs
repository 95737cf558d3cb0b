//! Writing words for `sh` so that a command prints the way a person would type it.

use std::borrow::Cow;

/// The word as is when the shell reads it literally, else single-quoted.
pub fn sh_word(word: &str) -> Cow<'_, str> {
    let literal = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.,:/@%+=".contains(&b));
    if literal {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::sh_word;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(sh_word("ns0"), "ns0");
        assert_eq!(sh_word("fd00:1::2/64"), "fd00:1::2/64");
        assert_eq!(sh_word("a b"), "'a b'");
        assert_eq!(sh_word("it's"), r"'it'\''s'");
        assert_eq!(sh_word("$x"), "'$x'");
        assert_eq!(sh_word(""), "''");
    }
}
