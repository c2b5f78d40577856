//! Lower-casing of the texts the reply scores read (quality, repetition): the result of
//! `str::to_lowercase`, faster on the mostly-ASCII text chatbots send.

use std::borrow::Cow;

/// `text.to_lowercase()`, without a copy for lower-case ASCII and without the Unicode tables
/// for the ASCII characters of other texts.
pub fn lower(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(text.to_ascii_lowercase());
        }
        return Cow::Borrowed(text);
    }
    if text.contains('Σ') {
        // The one context-dependent mapping (a word-final sigma): leave it to the standard
        // library.
        return Cow::Owned(text.to_lowercase());
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::lower;

    #[test]
    fn lower_casing_matches_the_standard_library() {
        for text in [
            "Plain ASCII, Mixed CASE.",
            "already lower",
            "Ellipsis… then ASCII AGAIN",
            "ÉCOLE Straße İstanbul ǅ",
            "ΣΊΣΥΦΟΣ ΟΔΟΣ σ",
        ] {
            assert_eq!(lower(text), text.to_lowercase(), "{text}");
        }
    }
}
