//! `InputTemplate` parsing and rendering.
//!
//! A template is literal text with placeholders `<name>`: every `<` that is
//! followed by a `>` before any other `<` or a line break opens one (`<` and
//! `>` cannot be escaped), so `a <b> c` has the placeholder `b` and
//! `a < b` has none.
//!
//! Whether the template is JSON is decided once, from the template alone:
//! each placeholder is replaced by a neutral value (`null` outside JSON
//! strings, nothing inside them) and the result is parsed. Its top-level
//! value gives the template's [`Shape`]; a template that does not parse is
//! [`Shape::Text`] (this includes templates with a placeholder as an object
//! key, which AWS documents as unsupported).
//!
//! How each placeholder is written then depends on the shape and on whether
//! it sits inside a JSON string literal; see the table in the module
//! documentation of `transform`.

use std::ops::Range;

use serde_json::Value;

use super::error::RenderError;
use super::value::{Val, escape_into, write_json, write_loose};

/// What kind of text a template is, decided from the template alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// JSON whose top-level value is an object or an array.
    Structured,
    /// JSON whose top-level value is a string, such as `"Event <id> seen"`.
    String,
    /// JSON whose top-level value is a number, a boolean or `null`, which
    /// includes a template that is a single unquoted placeholder.
    Scalar,
    /// Not JSON: delivered as written after substitution.
    Text,
}

/// A parsed `InputTemplate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    text: String,
    parts: Vec<Part>,
    shape: Shape,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(Range<usize>),
    /// `name` excludes the angle brackets; `quoted` is whether the
    /// placeholder sits inside a JSON string literal.
    Placeholder {
        name: Range<usize>,
        quoted: bool,
    },
}

impl Template {
    /// Splits `text` into literals and placeholders and decides its shape.
    pub(crate) fn parse(text: &str) -> Template {
        let parts = split(text);
        let mut probe = String::with_capacity(text.len());
        for part in &parts {
            match part {
                Part::Literal(r) => probe.push_str(&text[r.clone()]),
                Part::Placeholder { quoted: false, .. } => probe.push_str("null"),
                Part::Placeholder { quoted: true, .. } => {}
            }
        }
        let shape = match serde_json::from_str::<Value>(&probe) {
            Ok(Value::Object(_) | Value::Array(_)) => Shape::Structured,
            Ok(Value::String(_)) => Shape::String,
            Ok(_) => Shape::Scalar,
            Err(_) => Shape::Text,
        };
        Template {
            text: text.to_string(),
            parts,
            shape,
        }
    }

    /// The template as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The template's shape.
    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }

    /// The placeholder names, in order of appearance (with repeats).
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder { name, .. } => Some(&self.text[name.clone()]),
            Part::Literal(_) => None,
        })
    }

    /// Substitutes the value `lookup` gives for each placeholder. A JSON
    /// template whose result is not valid JSON is an error: EventBridge
    /// drops such events.
    pub(crate) fn render<'a>(
        &self,
        mut lookup: impl FnMut(&str) -> Val<'a>,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.text.len() + 64);
        for part in &self.parts {
            match part {
                Part::Literal(r) => out.push_str(&self.text[r.clone()]),
                Part::Placeholder { name, quoted } => {
                    let val = lookup(&self.text[name.clone()]);
                    match (self.shape, quoted) {
                        (Shape::Text, _) => write_loose(&val, &mut out),
                        (_, false) => write_json(&val, &mut out),
                        // An object or list inside a string of an object or
                        // array template goes in as JSON, quotes and all,
                        // which breaks the string: AWS drops these events.
                        (Shape::Structured, true) if val.is_container() => {
                            write_json(&val, &mut out)
                        }
                        (_, true) => {
                            let mut text = String::new();
                            write_loose(&val, &mut text);
                            escape_into(&text, &mut out);
                        }
                    }
                }
            }
        }
        if self.shape != Shape::Text
            && let Err(e) = serde_json::from_str::<Value>(&out)
        {
            return Err(RenderError::new(format!(
                "the InputTemplate is JSON but rendered invalid JSON ({e}), so the event is not delivered"
            )));
        }
        Ok(out)
    }
}

/// Splits a template into literal runs and placeholders, marking the
/// placeholders that fall inside a JSON string literal.
fn split(text: &str) -> Vec<Part> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut literal_start = 0;
    let mut lexer = StringLexer::default();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'<' {
            let close = bytes[at + 1..]
                .iter()
                .position(|&b| matches!(b, b'<' | b'>' | b'\n'))
                .map(|i| at + 1 + i);
            if let Some(close) = close.filter(|&c| bytes[c] == b'>') {
                lexer.feed(&bytes[literal_start..at]);
                if literal_start < at {
                    parts.push(Part::Literal(literal_start..at));
                }
                parts.push(Part::Placeholder {
                    name: at + 1..close,
                    quoted: lexer.in_string,
                });
                at = close + 1;
                literal_start = at;
                continue;
            }
        }
        at += 1;
    }
    if literal_start < bytes.len() {
        parts.push(Part::Literal(literal_start..bytes.len()));
    }
    parts
}

/// Tracks whether the text fed so far ends inside a JSON string literal.
#[derive(Default)]
struct StringLexer {
    in_string: bool,
    escaped: bool,
}

impl StringLexer {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if !self.in_string {
                self.in_string = b == b'"';
            } else if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<(String, bool)> {
        let t = Template::parse(text);
        t.parts
            .iter()
            .filter_map(|p| match p {
                Part::Placeholder { name, quoted } => {
                    Some((t.text[name.clone()].to_string(), *quoted))
                }
                Part::Literal(_) => None,
            })
            .collect()
    }

    #[test]
    fn finds_placeholders_and_their_quoting() {
        assert_eq!(
            placeholders(r#"{"a": <x>, "b": "p/<y>/<z>", "c": [<x>, "<w>"]}"#),
            [
                ("x", false),
                ("y", true),
                ("z", true),
                ("x", false),
                ("w", true)
            ]
            .map(|(n, q)| (n.to_string(), q))
        );
        assert_eq!(
            placeholders(r#""say \"<x>\"" <y>"#),
            [("x".to_string(), true), ("y".to_string(), false)]
        );
        assert_eq!(placeholders("a < b"), []);
        assert_eq!(placeholders("a <b <c> d"), [("c".to_string(), false)]);
        assert_eq!(placeholders("<a\nb>"), []);
        assert_eq!(placeholders("<>"), [(String::new(), false)]);
        assert_eq!(
            placeholders("<aws.events.event.json>"),
            [("aws.events.event.json".to_string(), false)]
        );
    }

    #[test]
    fn literal_text_is_kept() {
        let t = Template::parse("a <x> b <y>");
        let out = t
            .render(|n| {
                if n == "x" {
                    Val::Str("1")
                } else {
                    Val::Str("2")
                }
            })
            .unwrap();
        assert_eq!(out, "a 1 b 2");
    }

    #[test]
    fn shapes() {
        assert_eq!(Template::parse(r#"{"a": <x>}"#).shape(), Shape::Structured);
        assert_eq!(Template::parse(r#"[<x>, "y"]"#).shape(), Shape::Structured);
        assert_eq!(Template::parse(r#" "x <y> z" "#).shape(), Shape::String);
        assert_eq!(Template::parse("<x>").shape(), Shape::Scalar);
        assert_eq!(Template::parse("42").shape(), Shape::Scalar);
        assert_eq!(Template::parse("x <y> z").shape(), Shape::Text);
        assert_eq!(Template::parse(r#"{<k>: 1}"#).shape(), Shape::Text);
        assert_eq!(Template::parse(r#"{"a": <x><y>}"#).shape(), Shape::Text);
        assert_eq!(Template::parse(r#"{"a": "<x>}"#).shape(), Shape::Text);
    }
}
