//! The JSON the command line reads and writes around patterns and events.
//!
//! Patterns and events are handed to the engine as the text the user wrote
//! (a [`RawValue`]), so duplicate keys and number spellings reach the
//! pattern parser untouched; only the framing (rules files, `--jsonl` lines)
//! is parsed here.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

/// An object's members in document order, duplicates kept, values unparsed.
#[derive(Debug)]
pub struct Members<'a>(pub Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for MembersVisitor<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'a>, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'a RawValue>()? {
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor(std::marker::PhantomData))
    }
}

/// The text a value stands for: a JSON string is its decoded contents
/// (pattern or event text), anything else the value as written.
pub fn text_of(value: &RawValue) -> String {
    match serde_json::from_str::<String>(value.get()) {
        Ok(text) => text,
        Err(_) => value.get().to_string(),
    }
}

/// Whether `value` is a JSON string.
pub fn is_string(value: &RawValue) -> bool {
    value.get().starts_with('"')
}

/// The JSON type of `value`, for messages.
pub fn type_name(value: &RawValue) -> &'static str {
    match value.get().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

pub use ferrule_core::json::write_str;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_duplicates_and_text() {
        let m: Members = serde_json::from_str(r#"{"a": {"x": [1.50]}, "a": "t"}"#).unwrap();
        assert_eq!(m.0.len(), 2);
        assert_eq!(m.0[0].1.get(), r#"{"x": [1.50]}"#);
        assert_eq!(text_of(m.0[1].1), "t");
        assert!(is_string(m.0[1].1));
    }
}
