//! Reading only what the targets' input paths select.
//!
//! A rule's targets read a few members of an event (`$.detail.order.id`),
//! yet a parse into a [`Value`] builds every member of it. [`Needed`] is the
//! union of the paths some targets use, as a tree of member names; its
//! [`read`](Needed::read) builds the members on those paths and skips the
//! rest of the bytes without building anything, so the event is read once
//! and rendering every target costs one partial tree.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::{EVENT, EVENT_JSON, InputSpec, JsonPath};

/// The parts of an event some targets' input settings read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needed {
    /// The whole value at this node (a path ends here, or goes on with an
    /// index or a wildcard).
    whole: bool,
    /// Members on some path, each with what is needed below it.
    members: Vec<(String, Needed)>,
}

impl Needed {
    /// Nothing: no target reads the event's members.
    pub fn nothing() -> Needed {
        Needed::default()
    }

    /// What `spec` alone reads.
    pub fn of(spec: &InputSpec) -> Needed {
        let mut needed = Needed::nothing();
        needed.add(spec);
        needed
    }

    /// Whether no member is needed (every target takes the whole event as
    /// it is, or a constant).
    pub fn is_nothing(&self) -> bool {
        !self.whole && self.members.is_empty()
    }

    /// Adds what `spec` reads: the selected part of an `InputPath`, every
    /// path of an `InputTransformer` (the whole event if its template uses
    /// `<aws.events.event>` or `<aws.events.event.json>`). The whole event
    /// and a constant need no parse.
    pub fn add(&mut self, spec: &InputSpec) {
        match spec {
            InputSpec::WholeEvent | InputSpec::Constant(_) => {}
            InputSpec::Path(path) => self.add_path(path),
            InputSpec::Transformer(t) => {
                if t.template
                    .placeholders()
                    .any(|name| name == EVENT || name == EVENT_JSON)
                {
                    self.whole = true;
                }
                for (_, path) in t.input_paths() {
                    self.add_path(path);
                }
            }
        }
    }

    /// Adds the part of the event `path` selects from.
    pub fn add_path(&mut self, path: &JsonPath) {
        let mut node = self;
        for name in path.member_prefix() {
            if node.whole {
                return;
            }
            let at = match node.members.iter().position(|(n, _)| n == name) {
                Some(at) => at,
                None => {
                    node.members.push((name.to_string(), Needed::default()));
                    node.members.len() - 1
                }
            };
            node = &mut node.members[at].1;
        }
        node.whole = true;
        node.members.clear();
    }

    /// Parses `text` keeping the needed members: every value a needed path
    /// selects is exactly as a full parse gives it (duplicate keys: the last
    /// one wins, as in a full parse); other members are absent, and a value
    /// that only lies on the way (not an object) reads as `null`.
    ///
    /// Skipped members are still checked to be JSON, but not converted: a
    /// number beyond `f64` fails only where a path selects it.
    pub fn read(&self, text: &str) -> Result<Value, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let value = Seed(self).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(value)
    }

    fn member(&self, name: &str) -> Option<&Needed> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, n)| n)
    }
}

/// Deserializes the value at one node of [`Needed`].
struct Seed<'n>(&'n Needed);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.0.whole {
            Value::deserialize(deserializer)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            match self.0.member(&key) {
                Some(below) => {
                    let value = map.next_value_seed(Seed(below))?;
                    out.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    // Below a value that is not an object no member path can go on, so what
    // it holds is skipped: only the fact that it is there matters, and a
    // path through it selects nothing either way.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// A member name, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn needed(paths: &[&str]) -> Needed {
        let mut n = Needed::nothing();
        for p in paths {
            n.add_path(&JsonPath::parse(p).unwrap());
        }
        n
    }

    #[test]
    fn keeps_only_the_paths_and_skips_the_rest() {
        let text =
            r#"{"id":"1","detail":{"a":{"b":[1,2],"c":"x"},"big":1e999,"d":"y"},"source":"s"}"#;
        let n = needed(&["$.detail.a.b", "$.source"]);
        assert_eq!(
            n.read(text).unwrap(),
            json!({"detail": {"a": {"b": [1, 2]}}, "source": "s"})
        );
        // The number beyond f64 is skipped: only a path that selects it fails.
        assert!(needed(&["$.detail.big"]).read(text).is_err());
        assert!(needed(&["$"]).read(text).is_err());
    }

    #[test]
    fn a_shorter_path_takes_the_whole_subtree() {
        let n = needed(&["$.detail.a.b", "$.detail"]);
        let text = r#"{"detail":{"a":{"b":1},"z":true},"x":1}"#;
        assert_eq!(
            n.read(text).unwrap(),
            json!({"detail": {"a": {"b": 1}, "z": true}})
        );
        let n = needed(&["$.detail.items[0].id"]);
        assert_eq!(
            n.read(r#"{"detail":{"items":[{"id":1,"q":2}],"other":3}}"#)
                .unwrap(),
            json!({"detail": {"items": [{"id": 1, "q": 2}]}})
        );
    }

    #[test]
    fn duplicate_keys_last_one_wins_as_in_a_full_parse() {
        let text = r#"{"a":{"b":1},"a":{"b":2}}"#;
        let full: Value = serde_json::from_str(text).unwrap();
        assert_eq!(needed(&["$.a.b"]).read(text).unwrap(), full);
    }

    #[test]
    fn invalid_json_is_an_error_even_where_skipped() {
        assert!(needed(&["$.a"]).read(r#"{"a":1,"b":[1,}"#).is_err());
        assert!(needed(&["$.a"]).read(r#"{"a":1} x"#).is_err());
    }
}
