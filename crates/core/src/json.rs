//! JSON string literals written in place, for the envelopes and output lines
//! that are built as text on hot paths (one per event or per match).
//!
//! Written by hand because serde_json only writes to an `io::Write`, which
//! would mean an allocation (or a re-validation of UTF-8) per string; the
//! escapes are serde_json's, so the bytes are the same.

/// Appends `s` to `out` as a JSON string literal: `"` and `\` escaped, the
/// control characters as `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`, everything
/// else as it is.
pub fn write_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte escaped is ASCII, so `plain..i` ends on a char boundary.
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_serde_json_does() {
        let mut cases: Vec<String> = (0u32..0x80)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        cases.extend(
            ["", "é😋\u{2028}\u{7f}", "\"\\/", "x\u{0}\u{1f}\u{8}\u{c}y"].map(String::from),
        );
        for s in cases {
            let mut out = String::from("prefix:");
            write_str(&s, &mut out);
            assert_eq!(
                out,
                format!("prefix:{}", serde_json::to_string(&s).unwrap()),
                "{s:?}"
            );
        }
    }
}
