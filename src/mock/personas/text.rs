//! Small text helpers shared by the personas.

/// Lower-cased words of `text` (split on anything that is not alphanumeric).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether the lower-cased `text` contains any of the `needles` as a substring.
pub fn contains_any(text: &str, needles: &[&str]) -> bool {
    let lower = text.to_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// Whether any word of `text` equals one of `options`.
pub fn has_word(text: &str, options: &[&str]) -> bool {
    words(text).iter().any(|w| options.contains(&w.as_str()))
}

/// The first `max` characters of `text`, with an ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() <= max {
        return trimmed.to_string();
    }
    let mut out: String = trimmed.chars().take(max).collect();
    out.push('…');
    out
}

/// Escapes the five XML special characters.
pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(words("Hello, TS-world!"), vec!["hello", "ts", "world"]);
        assert!(contains_any("Please ELABORATE", &["elaborate"]));
        assert!(has_word("write it in ts please", &["ts"]));
        assert!(!has_word("its fine", &["ts"]));
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(xml_escape("<a&b>"), "&lt;a&amp;b&gt;");
    }
}
