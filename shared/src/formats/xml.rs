//! Text written into an XML attribute value (CORE's XML, draw.io's mxGraph), escaped so
//! that any name or address round-trips through an XML reader.

/// `text` as an XML attribute value: markup characters, quotes and line breaks as
/// references.
pub(crate) fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}
