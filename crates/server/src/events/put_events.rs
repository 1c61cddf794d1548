//! PutEvents' body read straight into its request model, without a
//! `serde_json::Value` of the whole body: PutEvents is the hot path, and
//! building that tree, then reading it again into the model, was most of
//! its parsing cost.
//!
//! The general path (the body parsed as a `Value`, then [`wire::read`]) is
//! the reference: it decides every error's type and message, which the
//! e2e bad-input tests pin. So this reader is only a fast path for
//! requests that path would accept: it gives up (`None`) on anything it
//! does not take exactly as that path does — a syntax error, a member of
//! the wrong type, a member given twice (the general path keeps the last),
//! a body that is not an object — and the caller then runs the general
//! path, which answers with its own error. What it accepts, it reads into
//! the same model the general path would build: unknown members are
//! parsed as `Value`s (so that they are validated exactly as before, depth
//! limit included) and dropped, `null` is an absent member, and `null`
//! list elements are dropped.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::request::{PutEvents, PutEventsEntry, Time};
use super::wire::{List, Obj, Str};

/// The request in `body`, if the general path would accept it as is;
/// `None`: run the general path, which gives the error.
pub(crate) fn read(body: &[u8]) -> Option<PutEvents> {
    let mut d = serde_json::Deserializer::from_slice(body);
    let request = (&mut d).deserialize_map(RequestVisitor).ok()?;
    // Only whitespace may follow, as `serde_json::from_slice` requires.
    d.end().ok()?;
    Some(request)
}

/// Why the fast path gave up (never shown: the general path answers).
fn give_up<E: de::Error>() -> E {
    E::custom("not read on the fast path")
}

/// A member name: a known member, or one to parse and drop.
enum Key<K> {
    Known(K),
    Other,
}

/// Reads a map key as one of `names` (matched exactly, after unescaping,
/// as serde's derive does).
struct KeySeed<K: 'static> {
    names: &'static [(&'static str, K)],
}

impl<'de, K: Copy + 'static> DeserializeSeed<'de> for KeySeed<K> {
    type Value = Key<K>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key<K>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, K: Copy + 'static> Visitor<'de> for KeySeed<K> {
    type Value = Key<K>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<K>, E> {
        Ok(self
            .names
            .iter()
            .find(|(name, _)| *name == v)
            .map_or(Key::Other, |(_, k)| Key::Known(*k)))
    }
}

/// Stores `value` in `slot` unless the member was seen already: the
/// general path keeps the last of repeated members, so leave it to that.
fn once<T, E: de::Error>(slot: &mut Option<Option<T>>, value: Option<T>) -> Result<(), E> {
    if slot.is_some() {
        return Err(give_up());
    }
    *slot = Some(value);
    Ok(())
}

/// A string member (`Str`): a JSON string, nothing else.
struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
        Ok(Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Str, E> {
        Ok(Str(v))
    }
}

/// An event's `Time`: a number of epoch seconds or an RFC 3339 string,
/// read by the same functions as [`Time`]'s own reader.
#[derive(Clone, Copy)]
struct TimeSeed;

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = Time;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Time, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

struct TimeVisitor;

impl TimeVisitor {
    fn seconds<E: de::Error>(s: f64) -> Result<Time, E> {
        ferrule_core::time::epoch_seconds_ms(s)
            .map(Time)
            .ok_or_else(give_up)
    }
}

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Time;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp")
    }

    // As `serde_json::Number::as_f64` converts each kind of number.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
        Self::seconds(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
        Self::seconds(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Time, E> {
        Self::seconds(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
        ferrule_core::time::parse_rfc3339_ms(v)
            .map(Time)
            .ok_or_else(give_up)
    }
}

/// A list of elements read by `S`; `null` elements are dropped.
#[derive(Clone, Copy)]
struct ListSeed<S>(S);

impl<'de, S> DeserializeSeed<'de> for ListSeed<S>
where
    S: DeserializeSeed<'de> + Copy,
{
    type Value = List<S::Value>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(ListVisitor(self.0))
    }
}

struct ListVisitor<S>(S);

impl<'de, S> Visitor<'de> for ListVisitor<S>
where
    S: DeserializeSeed<'de> + Copy,
{
    type Value = List<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(item) = seq.next_element_seed(Nullable(self.0))? {
            if let Some(item) = item {
                items.push(item);
            }
        }
        Ok(List(items))
    }
}

/// A value read by `S`, or `None` for `null`: a member (`null` is an
/// absent member) or a list element (`null` elements are dropped).
#[derive(Clone, Copy)]
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(NullableVisitor(self.0))
    }
}

struct NullableVisitor<S>(S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for NullableVisitor<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// A string (`Str`).
#[derive(Clone, Copy)]
struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Str;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Str, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// A `PutEventsRequestEntry` list element: a JSON object only.
#[derive(Clone, Copy)]
struct EntrySeed;

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = Obj<PutEventsEntry>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(EntryVisitor).map(Obj)
    }
}

#[derive(Clone, Copy)]
enum EntryMember {
    Time,
    Source,
    Resources,
    DetailType,
    Detail,
    EventBusName,
    TraceHeader,
}

const ENTRY_MEMBERS: &[(&str, EntryMember)] = &[
    ("Time", EntryMember::Time),
    ("Source", EntryMember::Source),
    ("Resources", EntryMember::Resources),
    ("DetailType", EntryMember::DetailType),
    ("Detail", EntryMember::Detail),
    ("EventBusName", EntryMember::EventBusName),
    ("TraceHeader", EntryMember::TraceHeader),
];

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = PutEventsEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a PutEvents entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PutEventsEntry, A::Error> {
        // Outer `Some`: the member was given (a second one gives up).
        let mut time = None;
        let mut source = None;
        let mut resources = None;
        let mut detail_type = None;
        let mut detail = None;
        let mut event_bus_name = None;
        let mut trace_header = None;
        while let Some(key) = map.next_key_seed(KeySeed {
            names: ENTRY_MEMBERS,
        })? {
            match key {
                Key::Known(EntryMember::Time) => {
                    once(&mut time, map.next_value_seed(Nullable(TimeSeed))?)?
                }
                Key::Known(EntryMember::Source) => {
                    once(&mut source, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Known(EntryMember::Resources) => {
                    once(
                        &mut resources,
                        map.next_value_seed(Nullable(ListSeed(StrSeed)))?,
                    )?;
                }
                Key::Known(EntryMember::DetailType) => {
                    once(&mut detail_type, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Known(EntryMember::Detail) => {
                    once(&mut detail, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Known(EntryMember::EventBusName) => {
                    once(&mut event_bus_name, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Known(EntryMember::TraceHeader) => {
                    once(&mut trace_header, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Other => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(PutEventsEntry {
            time: time.flatten(),
            source: source.flatten(),
            resources: resources.flatten(),
            detail_type: detail_type.flatten(),
            detail: detail.flatten(),
            event_bus_name: event_bus_name.flatten(),
            trace_header: trace_header.flatten(),
        })
    }
}

#[derive(Clone, Copy)]
enum RequestMember {
    Entries,
    EndpointId,
}

const REQUEST_MEMBERS: &[(&str, RequestMember)] = &[
    ("Entries", RequestMember::Entries),
    ("EndpointId", RequestMember::EndpointId),
];

/// The body: a JSON object only.
struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = PutEvents;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a PutEvents request")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PutEvents, A::Error> {
        let mut entries = None;
        let mut endpoint_id = None;
        while let Some(key) = map.next_key_seed(KeySeed {
            names: REQUEST_MEMBERS,
        })? {
            match key {
                Key::Known(RequestMember::Entries) => {
                    once(
                        &mut entries,
                        map.next_value_seed(Nullable(ListSeed(EntrySeed)))?,
                    )?;
                }
                Key::Known(RequestMember::EndpointId) => {
                    once(&mut endpoint_id, map.next_value_seed(Nullable(StrSeed))?)?;
                }
                Key::Other => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(PutEvents {
            entries: entries.flatten(),
            endpoint_id: endpoint_id.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiError;

    /// The general path: the body as a `Value`, then the model.
    fn general(body: &[u8]) -> Result<PutEvents, ApiError> {
        let value = crate::json_body(body)?;
        super::super::wire::read::<PutEvents>(&value, super::super::SERIALIZATION)
    }

    /// The fast path agrees with the general one wherever it answers.
    fn agrees(body: &[u8]) -> bool {
        match read(body) {
            Some(fast) => match general(body) {
                Ok(slow) => {
                    assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
                    true
                }
                Err(e) => panic!(
                    "fast path accepted what the general path refuses ({}: {}): {}",
                    e.type_name,
                    e.message,
                    String::from_utf8_lossy(body)
                ),
            },
            None => false,
        }
    }

    const ENTRY: &str = r#"{"Source": "shop", "DetailType": "Order", "Detail": "{\"key\": 1}"}"#;

    #[test]
    fn well_formed_requests_take_the_fast_path() {
        for body in [
            format!(r#"{{"Entries": [{ENTRY}]}}"#),
            format!(r#"{{"Entries": [{ENTRY}, null, {ENTRY}], "EndpointId": "abc.def"}}"#),
            r#"{"Entries": [{"Time": 1714564800, "Source": "a", "Resources": ["r1", null, "r2"],
                "DetailType": "b", "Detail": "{}", "EventBusName": "orders", "TraceHeader": "t"}]}"#
                .to_string(),
            r#"{"Entries": [{"Time": 1714564800.25, "Source": "a\u0062", "DetailType": null}]}"#
                .to_string(),
            r#"{"Entries": [{"Time": "2024-05-01T14:00:00.042+02:00"}]}"#.to_string(),
            r#"{"Entries": [{"Time": null, "Resources": null}], "EndpointId": null}"#.to_string(),
            // Unknown members are read and dropped, at any depth.
            r#"{"Other": {"a": [1, {"b": null}]}, "Entries": [{"X": [[]], "Source": "a"}]}"#
                .to_string(),
            r#"  {"Entries": []}  "#.to_string(),
            "{}".to_string(),
            r#"{"Entries": null}"#.to_string(),
            // Escaped member names are the members.
            r#"{"Entr\u0069es": [{"Sourc\u0065": "a"}]}"#.to_string(),
        ] {
            assert!(agrees(body.as_bytes()), "not on the fast path: {body}");
        }
        let r = read(format!(r#"{{"Entries": [{ENTRY}, null, {ENTRY}]}}"#).as_bytes()).unwrap();
        assert_eq!(r.entries.unwrap().0.len(), 2);
        let r = read(br#"{"Entries": [{"Time": 1714564800.25, "Resources": ["r1", null, "r2"]}]}"#)
            .unwrap();
        let e = &r.entries.unwrap().0[0].0;
        assert_eq!(e.time, Some(Time(1_714_564_800_250)));
        assert_eq!(
            e.resources,
            Some(List(vec![Str("r1".into()), Str("r2".into())]))
        );
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        for body in [
            "",
            " ",
            "[]",
            "null",
            "1",
            r#""x""#,
            "{",
            r#"{"Entries": [}"#,
            r#"{"Entries": []} x"#,
            r#"{"Entries": 5}"#,
            r#"{"Entries": {}}"#,
            r#"{"Entries": [1]}"#,
            r#"{"Entries": [[]]}"#,
            r#"{"Entries": [{"Source": 1}]}"#,
            r#"{"Entries": [{"Source": true}]}"#,
            r#"{"Entries": [{"Source": ["a"]}]}"#,
            r#"{"Entries": [{"Time": "yesterday"}]}"#,
            r#"{"Entries": [{"Time": -1}]}"#,
            r#"{"Entries": [{"Time": true}]}"#,
            r#"{"Entries": [{"Resources": "r"}]}"#,
            r#"{"Entries": [{"Resources": [1]}]}"#,
            r#"{"EndpointId": 1}"#,
            // Repeated members: the general path keeps the last.
            r#"{"Entries": 5, "Entries": [{"Source": "a"}]}"#,
            r#"{"Entries": [{"Source": "a", "Source": "b"}]}"#,
            // A syntax error after a wrong type: the syntax error is the answer.
            r#"{"Entries": 5, }"#,
            // Invalid UTF-8 or a lone surrogate in an unknown member.
            "{\"X\": \"\u{0}\"}",
            r#"{"X": "\ud800"}"#,
        ] {
            assert!(read(body.as_bytes()).is_none(), "fast path took {body}");
            // What the general path answers is what the server answers.
            let _ = general(body.as_bytes());
        }
        assert!(read(b"{\"X\": \"\xff\"}").is_none());
        // Nesting past serde_json's limit, in an unknown member, is refused
        // by both.
        let deep = format!(r#"{{"X": {}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(read(deep.as_bytes()).is_none());
        assert!(general(deep.as_bytes()).is_err());
    }

    #[test]
    fn repeated_members_still_get_the_general_paths_answer() {
        let r = general(br#"{"Entries": 5, "Entries": [{"Source": "a"}]}"#).unwrap();
        assert_eq!(r.entries.unwrap().0[0].0.source, Some(Str("a".into())));
        let e = general(br#"{"Entries": 5, }"#).unwrap_err();
        assert!(
            e.message.starts_with("the request body is not JSON: "),
            "{}",
            e.message
        );
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const NAMES: &[&str] = &[
        "Entries",
        "EndpointId",
        "Time",
        "Source",
        "Resources",
        "DetailType",
        "Detail",
        "EventBusName",
        "TraceHeader",
        "Other",
        "source",
    ];

    /// A random JSON value, biased to the members' own types.
    fn value(rng: &mut Rng, depth: usize, out: &mut String) {
        let kind = if depth > 3 {
            rng.below(6)
        } else {
            rng.below(9)
        };
        match kind {
            0 => out.push_str("null"),
            1 => out.push_str(rng.pick(&["true", "false"])),
            2 => out.push_str(rng.pick(&[
                "0",
                "-1",
                "1714564800",
                "1.5e9",
                "1e400",
                "18446744073709551616",
                "-0",
                "2.5",
            ])),
            3..=5 => out.push_str(rng.pick(&[
                r#""a""#,
                r#""""#,
                r#""{\"key\": 1}""#,
                r#""2024-05-01T12:00:00Z""#,
                r#""orders""#,
                r#""\u00e9\n""#,
            ])),
            6 | 7 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    value(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => object(rng, depth + 1, out),
        }
    }

    fn object(rng: &mut Rng, depth: usize, out: &mut String) {
        out.push('{');
        for i in 0..rng.below(5) {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(rng.pick(NAMES));
            out.push_str("\":");
            value(rng, depth, out);
        }
        out.push('}');
    }

    #[test]
    fn random_bodies_never_disagree() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut fast = 0;
        for _ in 0..20_000 {
            let mut body = String::new();
            if rng.below(2) == 0 {
                object(&mut rng, 0, &mut body);
            } else {
                // Mostly well-typed requests, with some members mangled.
                body.push_str(r#"{"Entries": ["#);
                for i in 0..rng.below(4) {
                    if i > 0 {
                        body.push(',');
                    }
                    if rng.below(8) == 0 {
                        value(&mut rng, 2, &mut body);
                    } else {
                        body.push_str(ENTRY.trim_end_matches('}'));
                        body.push_str(r#", "Resources": ["r"], "Time": "#);
                        value(&mut rng, 3, &mut body);
                        body.push('}');
                    }
                }
                body.push_str("]}");
            }
            let mut bytes = body.into_bytes();
            // Some bodies get a byte changed, dropped or added.
            if !bytes.is_empty() && rng.below(3) == 0 {
                let at = rng.below(bytes.len());
                let b = b"{}[],:\"\\0-1.eEnul tf"[rng.below(20)];
                match rng.below(3) {
                    0 => bytes[at] = b,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, b),
                }
            }
            if agrees(&bytes) {
                fast += 1;
            }
        }
        // The generator reaches the fast path often, and leaves it often.
        assert!(fast > 2_000, "{fast}");
        assert!(fast < 18_000, "{fast}");
    }
}
