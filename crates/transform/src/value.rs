//! The values substituted into payloads, and the three ways of writing them:
//! as JSON, as the content of a JSON string (escaped, no quotes), and in the
//! "loose" form EventBridge uses for objects and lists in text
//! (`{acc_id:0a787ecb-4015,sf_id:baz}`, `[ACTIVE,INACTIVE]`).

use std::fmt::Write as _;

use serde_json::Value;

/// A value to substitute: a part of the event, a context string, a list of
/// wildcard matches, or an object whose members are written in a fixed order
/// (the event envelope views).
#[derive(Clone, Debug)]
pub(crate) enum Val<'a> {
    /// A path that matched nothing.
    Missing,
    /// A part of the event.
    Json(&'a Value),
    /// A string that is not part of the event (rule name, ARN, time).
    Str(&'a str),
    /// The matches of a wildcard path.
    List(Vec<Val<'a>>),
    /// An object with its members in this order.
    Obj(Vec<(&'a str, Val<'a>)>),
}

impl Val<'_> {
    /// Whether the value is an object or a list.
    pub(crate) fn is_container(&self) -> bool {
        matches!(
            self,
            Val::List(_) | Val::Obj(_) | Val::Json(Value::Array(_) | Value::Object(_))
        )
    }
}

/// Writes `val` as compact JSON (a missing value as `""`).
pub(crate) fn write_json(val: &Val<'_>, out: &mut String) {
    match val {
        Val::Missing => out.push_str("\"\""),
        Val::Json(v) => {
            // `Display` of a `Value` is its compact JSON text.
            let _ = write!(out, "{v}");
        }
        Val::Str(s) => write_json_string(s, out),
        Val::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Val::Obj(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// Writes `val` as text: strings raw, numbers, booleans and `null` as their
/// JSON text, objects and lists loose (no quotes anywhere), a missing value
/// as nothing.
pub(crate) fn write_loose(val: &Val<'_>, out: &mut String) {
    match val {
        Val::Missing => {}
        Val::Str(s) => out.push_str(s),
        Val::Json(v) => write_loose_json(v, out),
        Val::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_loose(item, out);
            }
            out.push(']');
        }
        Val::Obj(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(key);
                out.push(':');
                write_loose(item, out);
            }
            out.push('}');
        }
    }
}

fn write_loose_json(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_loose_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(key);
                out.push(':');
                write_loose_json(item, out);
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Writes `s` as a quoted JSON string.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    escape_into(s, out);
    out.push('"');
}

/// Writes `s` escaped for the inside of a JSON string, without quotes.
pub(crate) fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_of(val: &Val<'_>) -> String {
        let mut out = String::new();
        write_json(val, &mut out);
        out
    }

    fn loose_of(val: &Val<'_>) -> String {
        let mut out = String::new();
        write_loose(val, &mut out);
        out
    }

    #[test]
    fn escaping_round_trips() {
        let nasty = "q\"b\\s/\n\r\t\u{8}\u{c}\u{1}é\u{2028}";
        let mut out = String::new();
        write_json_string(nasty, &mut out);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), nasty);
    }

    #[test]
    fn loose_forms() {
        let payload = json!({"acc_id": "0a787ecb-4015", "sf_id": "baz"});
        assert_eq!(
            loose_of(&Val::Json(&payload)),
            "{acc_id:0a787ecb-4015,sf_id:baz}"
        );
        assert_eq!(loose_of(&Val::Json(&json!(["HIGH"]))), "[HIGH]");
        assert_eq!(
            loose_of(&Val::Json(&json!(["ACTIVE", "INACTIVE"]))),
            "[ACTIVE,INACTIVE]"
        );
        assert_eq!(
            loose_of(&Val::Json(&json!({"a": [1, true, null, {"b": 2.5}]}))),
            "{a:[1,true,null,{b:2.5}]}"
        );
        assert_eq!(loose_of(&Val::Missing), "");
        let one = json!(1);
        assert_eq!(
            loose_of(&Val::List(vec![Val::Json(&one), Val::Str("x")])),
            "[1,x]"
        );
        assert_eq!(loose_of(&Val::Obj(vec![("k", Val::Str("v"))])), "{k:v}");
    }

    #[test]
    fn json_forms() {
        assert_eq!(json_of(&Val::Missing), "\"\"");
        assert_eq!(json_of(&Val::Str("a\"b")), r#""a\"b""#);
        let one = json!(1);
        assert_eq!(
            json_of(&Val::List(vec![Val::Json(&one), Val::Missing])),
            r#"[1,""]"#
        );
        assert_eq!(
            json_of(&Val::Obj(vec![
                ("z", Val::Str("v")),
                ("a", Val::Json(&one))
            ])),
            r#"{"z":"v","a":1}"#
        );
    }
}
