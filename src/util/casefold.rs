//! Case folding for the `equals-ignore-case` family.
//!
//! Each character maps to its lowercase form when that form is a single
//! character; characters whose lowercase expands (such as `İ`) stay as they
//! are. Both the pattern and the event value are folded, so the relation is
//! symmetric. This differs on purpose from the reference implementation,
//! which maps UTF-16 code units of the pattern only: it breaks characters
//! outside the Basic Multilingual Plane (emoji) and is asymmetric for
//! characters such as `ß` and the Kelvin sign.

/// Folds `text` into `out` (cleared first).
pub fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
        return;
    }
    for ch in text.chars() {
        out.push(fold_char(ch));
    }
}

/// Folds `text` into a new string.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

fn fold_char(ch: char) -> char {
    let mut lower = ch.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        _ => ch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_ascii_and_unicode() {
        assert_eq!(fold("HeLLo"), "hello");
        assert_eq!(fold("ÉCOLE"), "école");
        assert_eq!(fold("\u{212A}"), "k"); // Kelvin sign
        assert_eq!(fold("😀A"), "😀a");
        assert_eq!(fold("İ"), "İ");
    }
}
