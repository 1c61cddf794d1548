//! The typed members of AWS JSON requests, read the way AWS's JSON
//! protocols read them, and the checks of their service-model constraints.
//!
//! A member of the wrong JSON type is a `SerializationException` whose
//! message is the service's (`NUMBER_VALUE can not be converted to a
//! String`, `Start of list found where not expected`, `Expected list or
//! null`, …, as AWS's JSON 1.1 services answer them); `null` is the same as
//! an absent member and unknown members are ignored, as the services do. A
//! value that breaks a constraint of the service model (length, pattern,
//! range, enum, required) is collected by [`Violations`] into the service's
//! `N validation errors detected: …` message.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{LazyLock, RwLock};

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::ApiError;

/// How AWS's JSON deserializer names the kind of a scalar it cannot convert.
fn scalar_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "STRING_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        _ => "NULL_VALUE",
    }
}

/// The message for `found` where a scalar (`target`: "a String", "an
/// Integer", …) is expected.
pub(crate) fn not_scalar(found: &Value, target: &str) -> String {
    match found {
        Value::Array(_) => "Start of list found where not expected".into(),
        Value::Object(_) => "Start of structure or map found where not expected.".into(),
        v => format!("{} can not be converted to {target}", scalar_kind(v)),
    }
}

/// A string member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Str(pub String);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Str(s)),
            other => Err(D::Error::custom(not_scalar(&other, "a String"))),
        }
    }
}

/// An integer member (32 bits, as the models' `integer`). A fractional
/// number is truncated, as the services do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        let v = Value::deserialize(d)?;
        let n = match &v {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            }),
            _ => None,
        };
        match n {
            Some(n) if i32::try_from(n).is_ok() => Ok(Int(n)),
            _ => Err(D::Error::custom(not_scalar(&v, "an Integer"))),
        }
    }
}

/// A boolean member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bool(pub bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bool, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Bool(b)),
            other => Err(D::Error::custom(not_scalar(&other, "a Boolean"))),
        }
    }
}

/// A list member; `null` elements are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct List<T>(pub Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<List<T>, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(|v| T::deserialize(v).map_err(D::Error::custom))
                .collect::<Result<Vec<T>, _>>()
                .map(List),
            Value::Object(_) => Err(D::Error::custom(
                "Start of structure or map found where not expected.",
            )),
            _ => Err(D::Error::custom("Expected list or null")),
        }
    }
}

/// A map member (string keys); `null` values are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Map<T>(pub BTreeMap<String, T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Map<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Map<T>, D::Error> {
        match Value::deserialize(d)? {
            Value::Object(members) => members
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| T::deserialize(v).map(|t| (k, t)).map_err(D::Error::custom))
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map(Map),
            Value::Array(_) => Err(D::Error::custom("Start of list found where not expected")),
            _ => Err(D::Error::custom("Expected map or null")),
        }
    }
}

/// A structure member. (serde's derive would also read a JSON array
/// positionally; the services refuse one.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Obj<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        match Value::deserialize(d)? {
            v @ Value::Object(_) => T::deserialize(v).map(Obj).map_err(D::Error::custom),
            Value::Array(_) => Err(D::Error::custom("Start of list found where not expected")),
            _ => Err(D::Error::custom("Expected null")),
        }
    }
}

/// Reads a whole request body (already parsed as JSON) into its model; a
/// wrong type anywhere is `type_name` (the protocol's
/// `SerializationException`) with the service's message.
pub(crate) fn read<T: DeserializeOwned>(body: &Value, type_name: &str) -> Result<T, ApiError> {
    let fail = |message: String| ApiError::new(400, type_name, message);
    match body {
        Value::Object(_) => T::deserialize(body).map_err(|e| fail(e.to_string())),
        Value::Array(_) => Err(fail("Start of list found where not expected".into())),
        other => Err(fail(format!(
            "{} can not be converted to a Structure",
            scalar_kind(other)
        ))),
    }
}

/// A string member's constraints in the service model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Text {
    /// Least length, in characters.
    pub min: Option<usize>,
    /// Greatest length, in characters.
    pub max: Option<usize>,
    /// A regular expression the whole value must match, as the model writes it.
    pub pattern: Option<&'static str>,
}

impl Text {
    /// Lengths only.
    pub const fn len(min: usize, max: usize) -> Text {
        Text {
            min: Some(min),
            max: Some(max),
            pattern: None,
        }
    }

    /// At most `max` characters.
    pub const fn max(max: usize) -> Text {
        Text {
            min: None,
            max: Some(max),
            pattern: None,
        }
    }

    /// Lengths and a pattern.
    pub const fn pattern(min: usize, max: usize, pattern: &'static str) -> Text {
        Text {
            min: Some(min),
            max: Some(max),
            pattern: Some(pattern),
        }
    }
}

/// Compiled model patterns (anchored: the whole value must match).
static PATTERNS: LazyLock<RwLock<HashMap<&'static str, Option<regex::Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Whether all of `value` matches the model pattern `pattern`.
pub(crate) fn matches(pattern: &'static str, value: &str) -> bool {
    if let Ok(cache) = PATTERNS.read()
        && let Some(re) = cache.get(pattern)
    {
        return re.as_ref().is_some_and(|re| re.is_match(value));
    }
    // The models' patterns are Java's, where `\w` and `\d` are ASCII.
    let ascii = pattern
        .replace(r"\w", "[A-Za-z0-9_]")
        .replace(r"\d", "[0-9]");
    let re = regex::Regex::new(&format!("^(?:{ascii})$")).ok();
    let matched = re.as_ref().is_some_and(|re| re.is_match(value));
    if let Ok(mut cache) = PATTERNS.write() {
        cache.insert(pattern, re);
    }
    matched
}

/// The constraint violations found in one request: (value as shown,
/// where, constraint).
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<(String, String, String)>);

impl Violations {
    /// Records that `value` (as the service shows it: `'text'`, or `null`)
    /// at `at` breaks `constraint`.
    pub fn push(&mut self, value: Option<&str>, at: &str, constraint: &str) {
        let shown = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.0.push((shown, at.to_string(), constraint.to_string()));
    }

    /// The constraints broken, alone (for map keys and values).
    pub fn constraints(&self) -> Vec<String> {
        self.0.iter().map(|(_, _, c)| c.clone()).collect()
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, value: Option<&T>, at: &str) {
        if value.is_none() {
            self.push(None, at, "Member must not be null");
        }
    }

    /// Checks a string member against `rule`.
    pub fn text(&mut self, value: Option<&Str>, at: &str, rule: Text) {
        let Some(Str(s)) = value else { return };
        let len = s.chars().count();
        if let Some(min) = rule.min
            && len < min
        {
            self.push(
                Some(s),
                at,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = rule.max
            && len > max
        {
            self.push(
                Some(s),
                at,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
        if let Some(p) = rule.pattern
            && !matches(p, s)
        {
            self.push(
                Some(s),
                at,
                &format!("Member must satisfy regular expression pattern: {p}"),
            );
        }
    }

    /// A required string member checked against `rule`.
    pub fn required_text(&mut self, value: Option<&Str>, at: &str, rule: Text) {
        self.required(value, at);
        self.text(value, at, rule);
    }

    /// Checks an integer member's range.
    pub fn range(&mut self, value: Option<Int>, at: &str, min: Option<i64>, max: Option<i64>) {
        let Some(Int(n)) = value else { return };
        let shown = n.to_string();
        if let Some(min) = min
            && n < min
        {
            self.push(
                Some(&shown),
                at,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && n > max
        {
            self.push(
                Some(&shown),
                at,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Checks an enum member.
    pub fn one_of(&mut self, value: Option<&Str>, at: &str, allowed: &[&str]) {
        let Some(Str(s)) = value else { return };
        if !allowed.contains(&s.as_str()) {
            self.push(
                Some(s),
                at,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Checks a list member's length; `shown` is how the service shows the list.
    pub fn count(&mut self, len: Option<usize>, shown: &str, at: &str, min: usize, max: usize) {
        let Some(len) = len else { return };
        if len < min {
            self.push(
                Some(shown),
                at,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.push(
                Some(shown),
                at,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// The service's error for what was found, if anything.
    pub fn finish(self) -> Result<(), ApiError> {
        let n = self.0.len();
        if n == 0 {
            return Ok(());
        }
        let mut message = format!(
            "{n} validation error{} detected: ",
            if n == 1 { "" } else { "s" }
        );
        for (i, (shown, at, constraint)) in self.0.iter().enumerate() {
            if i > 0 {
                message.push_str("; ");
            }
            let _ = write!(
                message,
                "Value {shown} at '{at}' failed to satisfy constraint: {constraint}"
            );
        }
        Err(ApiError::new(400, "ValidationException", message))
    }
}

/// How the services show a list of strings in a message (`[a, b]`).
pub(crate) fn shown_list(items: &[Str]) -> String {
    let texts: Vec<&str> = items.iter().map(|s| s.0.as_str()).collect();
    format!("[{}]", texts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct Inner {
        arn: Option<Str>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        name: Option<Str>,
        limit: Option<Int>,
        force: Option<Bool>,
        ids: Option<List<Str>>,
        paths: Option<Map<Str>>,
        config: Option<Obj<Inner>>,
    }

    fn fails(body: Value) -> String {
        match read::<Request>(&body, "SerializationException") {
            Ok(r) => panic!("accepted {body}: {r:?}"),
            Err(e) => {
                assert_eq!(e.type_name, "SerializationException");
                e.message
            }
        }
    }

    #[test]
    fn wrong_types_get_the_services_messages() {
        for (body, message) in [
            (
                json!({"Name": 1}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                json!({"Name": true}),
                "TRUE_VALUE can not be converted to a String",
            ),
            (
                json!({"Name": ["orders"]}),
                "Start of list found where not expected",
            ),
            (
                json!({"Name": {}}),
                "Start of structure or map found where not expected.",
            ),
            (
                json!({"Limit": "10"}),
                "STRING_VALUE can not be converted to an Integer",
            ),
            (
                json!({"Limit": 1e12}),
                "NUMBER_VALUE can not be converted to an Integer",
            ),
            (
                json!({"Limit": false}),
                "FALSE_VALUE can not be converted to an Integer",
            ),
            (
                json!({"Force": "yes"}),
                "STRING_VALUE can not be converted to a Boolean",
            ),
            (json!({"Ids": "a"}), "Expected list or null"),
            (
                json!({"Ids": {}}),
                "Start of structure or map found where not expected.",
            ),
            (
                json!({"Ids": [1, "a"]}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                json!({"Ids": [["a"]]}),
                "Start of list found where not expected",
            ),
            (
                json!({"Paths": []}),
                "Start of list found where not expected",
            ),
            (json!({"Paths": "x"}), "Expected map or null"),
            (
                json!({"Paths": {"a": 0}}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                json!({"Config": ["x"]}),
                "Start of list found where not expected",
            ),
            (json!({"Config": 0}), "Expected null"),
            (
                json!({"Config": {"Arn": 0}}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (json!([]), "Start of list found where not expected"),
        ] {
            assert_eq!(fails(body.clone()), message, "{body}");
        }
    }

    #[test]
    fn nulls_are_absent_and_unknown_members_ignored() {
        let r: Request = read(
            &json!({"Name": null, "Limit": 2.9, "Ids": ["a", null], "Other": [1], "Config": {"Arn": null}}),
            "SerializationException",
        )
        .unwrap();
        assert!(r.name.is_none());
        assert_eq!(r.limit, Some(Int(2)));
        assert_eq!(r.ids.unwrap().0, vec![Str("a".into())]);
        assert!(r.config.unwrap().0.arn.is_none());
        assert!(r.force.is_none());
        assert!(r.paths.is_none());
        let r: Request = read(
            &json!({"Force": true, "Paths": {"a": "$.x", "b": null}}),
            "SerializationException",
        )
        .unwrap();
        assert_eq!(r.force, Some(Bool(true)));
        let paths = r.paths.unwrap().0;
        assert_eq!(paths.len(), 1);
        assert_eq!(paths["a"], Str("$.x".into()));
    }

    #[test]
    fn violations_are_reported_together() {
        let mut v = Violations::default();
        v.required_text(None, "name", Text::len(1, 64));
        v.text(
            Some(&Str("a b".into())),
            "rule",
            Text::pattern(1, 64, r"[\.\-_A-Za-z0-9]+"),
        );
        v.range(Some(Int(0)), "limit", Some(1), Some(100));
        let e = v.finish().unwrap_err();
        assert_eq!(
            e.message,
            "3 validation errors detected: \
             Value null at 'name' failed to satisfy constraint: Member must not be null; \
             Value 'a b' at 'rule' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; \
             Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        let mut one = Violations::default();
        one.one_of(Some(&Str("ON".into())), "state", &["ENABLED", "DISABLED"]);
        assert_eq!(
            one.finish().unwrap_err().message,
            "1 validation error detected: Value 'ON' at 'state' failed to satisfy constraint: \
             Member must satisfy enum value set: [ENABLED, DISABLED]"
        );
        assert!(Violations::default().finish().is_ok());
    }

    #[test]
    fn model_patterns_match_whole_values() {
        let bus =
            r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+";
        assert!(matches(bus, "orders"));
        assert!(matches(
            bus,
            "arn:aws:events:us-east-1:123456789012:event-bus/orders"
        ));
        assert!(!matches(bus, "orders!"));
        // Java's `\w` is ASCII.
        assert!(!matches(r"[\w]+", "ü"));
        assert!(!matches(bus, "arn:aws:events:us-east-1:1:event-bus/orders"));
        assert!(matches(r"^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$", "abc.def"));
    }
}
