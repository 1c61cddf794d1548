//! The JSONPath subset of `InputPath` and `InputPathsMap`.
//!
//! EventBridge documents dot notation, dashes, underscores, alphanumerics,
//! forward slashes, array indices and `*` wildcards, and contradicts itself
//! about bracket notation, so both notations are accepted:
//!
//! * `$` — the whole event;
//! * `.name` — an object member; the name is any run of characters other
//!   than `.`, `[`, `]`, whitespace, quotes, `\` and the JSONPath operator
//!   characters `* ? @ ( ) ,` (so `$.detail.user-id`, `$.a_b.c/d` are fine);
//! * `['name']` or `["name"]` — an object member with any name (`\'`, `\"`
//!   and `\\` escape inside the quotes);
//! * `[0]` — an array element (non-negative decimal index);
//! * `.*` or `[*]` — every member of an object or element of an array.
//!
//! Everything else (recursive descent `..`, filters, slices, unions,
//! negative indices, functions) is rejected with a [`PathError`].
//!
//! A path without wildcards selects at most one value. A path with a
//! wildcard selects a list of every match, in document order, which is
//! empty when nothing matches.

use std::fmt;

use serde_json::Value;

use super::error::PathError;

/// A parsed JSONPath of the supported subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(usize),
    Wildcard,
}

/// What a [`JsonPath`] selects from a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Selected<'v> {
    /// A path without wildcards that matched nothing.
    Missing,
    /// The value at a path without wildcards.
    One(&'v Value),
    /// Every match of a path with a wildcard, in document order (possibly
    /// none).
    Many(Vec<&'v Value>),
}

impl JsonPath {
    /// Parses `text`, rejecting anything outside the supported subset.
    pub fn parse(text: &str) -> Result<JsonPath, PathError> {
        let bytes = text.as_bytes();
        if bytes.first() != Some(&b'$') {
            return Err(PathError::new(0, "a JSONPath must start with `$`"));
        }
        let mut steps = Vec::new();
        let mut at = 1;
        while at < bytes.len() {
            match bytes[at] {
                b'.' => {
                    at += 1;
                    match bytes.get(at) {
                        None => return Err(PathError::new(at, "a member name must follow `.`")),
                        Some(b'.') => {
                            return Err(PathError::new(
                                at - 1,
                                "recursive descent (`..`) is not supported",
                            ));
                        }
                        Some(b'*') if matches!(bytes.get(at + 1), None | Some(b'.' | b'[')) => {
                            steps.push(Step::Wildcard);
                            at += 1;
                        }
                        Some(_) => {
                            let start = at;
                            for (i, c) in text[start..].char_indices() {
                                if c == '.' || c == '[' {
                                    break;
                                }
                                if !is_name_char(c) {
                                    return Err(PathError::new(
                                        start + i,
                                        format!(
                                            "`{c}` is not supported in a dot-notation member name"
                                        ),
                                    ));
                                }
                                at = start + i + c.len_utf8();
                            }
                            if at == start {
                                return Err(PathError::new(at, "a member name must follow `.`"));
                            }
                            steps.push(Step::Member(text[start..at].to_string()));
                        }
                    }
                }
                b'[' => {
                    let (step, next) = parse_bracket(text, at)?;
                    steps.push(step);
                    at = next;
                }
                _ => {
                    let c = text[at..].chars().next().unwrap_or_default();
                    return Err(PathError::new(
                        at,
                        format!("expected `.` or `[`, found `{c}`"),
                    ));
                }
            }
        }
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path is `$`, the whole document.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// The member names the path starts with, up to its first index or
    /// wildcard: everything it can select lies below that member.
    pub(crate) fn member_prefix(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map_while(|s| match s {
            Step::Member(name) => Some(name.as_str()),
            Step::Index(_) | Step::Wildcard => None,
        })
    }

    /// Whether the path has a wildcard, and so selects a list.
    pub fn has_wildcard(&self) -> bool {
        self.steps.contains(&Step::Wildcard)
    }

    /// Selects from `root`.
    pub fn select<'v>(&self, root: &'v Value) -> Selected<'v> {
        if !self.has_wildcard() {
            let mut node = root;
            for step in &self.steps {
                match step_one(node, step) {
                    Some(next) => node = next,
                    None => return Selected::Missing,
                }
            }
            return Selected::One(node);
        }
        let mut nodes = vec![root];
        for step in &self.steps {
            let mut next = Vec::with_capacity(nodes.len());
            for node in nodes {
                match step {
                    Step::Wildcard => match node {
                        Value::Object(map) => next.extend(map.values()),
                        Value::Array(items) => next.extend(items.iter()),
                        _ => {}
                    },
                    _ => next.extend(step_one(node, step)),
                }
            }
            nodes = next;
        }
        Selected::Many(nodes)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Follows a member or index step.
fn step_one<'v>(node: &'v Value, step: &Step) -> Option<&'v Value> {
    match (step, node) {
        (Step::Member(name), Value::Object(map)) => map.get(name),
        (Step::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    }
}

/// Characters allowed in a dot-notation member name.
fn is_name_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '.' | '[' | ']' | '\'' | '"' | '\\' | '*' | '?' | '@' | '(' | ')' | ','
        ))
}

/// Parses the bracket step starting at `open` (the `[`); returns the step
/// and the offset after the closing `]`.
fn parse_bracket(text: &str, open: usize) -> Result<(Step, usize), PathError> {
    let bytes = text.as_bytes();
    let at = open + 1;
    match bytes.get(at) {
        Some(b'*') => {
            if bytes.get(at + 1) == Some(&b']') {
                Ok((Step::Wildcard, at + 2))
            } else {
                Err(PathError::new(at + 1, "expected `]` after `[*`"))
            }
        }
        Some(&quote @ (b'\'' | b'"')) => {
            let mut name = String::new();
            let mut chars = text[at + 1..].char_indices();
            while let Some((i, c)) = chars.next() {
                let pos = at + 1 + i;
                if c as u32 == u32::from(quote) {
                    if bytes.get(pos + 1) != Some(&b']') {
                        return Err(PathError::new(
                            pos + 1,
                            "expected `]` after a quoted member name",
                        ));
                    }
                    return Ok((Step::Member(name), pos + 2));
                }
                if c == '\\' {
                    match chars.next() {
                        Some((_, e @ ('\'' | '"' | '\\'))) => name.push(e),
                        _ => {
                            return Err(PathError::new(
                                pos,
                                "only `\\'`, `\\\"` and `\\\\` escapes are supported",
                            ));
                        }
                    }
                } else {
                    name.push(c);
                }
            }
            Err(PathError::new(open, "unterminated quoted member name"))
        }
        Some(b'0'..=b'9') => {
            let end = at
                + bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            if bytes.get(end) != Some(&b']') {
                return Err(PathError::new(
                    end,
                    "only a single non-negative array index is supported in `[...]`",
                ));
            }
            let index = text[at..end]
                .parse::<usize>()
                .map_err(|_| PathError::new(at, "array index too large"))?;
            Ok((Step::Index(index), end + 1))
        }
        _ => Err(PathError::new(
            at,
            "expected an index, `*` or a quoted member name after `[`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(text: &str) -> Vec<Step> {
        JsonPath::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .steps
    }

    fn member(name: &str) -> Step {
        Step::Member(name.to_string())
    }

    #[test]
    fn root() {
        assert_eq!(steps("$"), vec![]);
        assert!(JsonPath::parse("$").unwrap().is_root());
    }

    #[test]
    fn dot_notation() {
        assert_eq!(steps("$.detail"), vec![member("detail")]);
        assert_eq!(steps("$.a.b"), vec![member("a"), member("b")]);
        assert_eq!(steps("$.detail-type"), vec![member("detail-type")]);
        assert_eq!(steps("$.a-b_c"), vec![member("a-b_c")]);
        assert_eq!(steps("$.a/b.C9"), vec![member("a/b"), member("C9")]);
        assert_eq!(steps("$.0"), vec![member("0")]);
        assert_eq!(steps("$.aws:tag"), vec![member("aws:tag")]);
        assert_eq!(steps("$.größe"), vec![member("größe")]);
    }

    #[test]
    fn bracket_notation() {
        assert_eq!(steps("$['a']"), vec![member("a")]);
        assert_eq!(steps("$[\"a\"]"), vec![member("a")]);
        assert_eq!(steps("$['a.b c']"), vec![member("a.b c")]);
        assert_eq!(steps(r"$['it\'s']"), vec![member("it's")]);
        assert_eq!(steps(r#"$["q\"\\"]"#), vec![member("q\"\\")]);
        assert_eq!(steps("$['']"), vec![member("")]);
        assert_eq!(steps("$['a']['b']"), vec![member("a"), member("b")]);
    }

    #[test]
    fn indices_and_wildcards() {
        assert_eq!(steps("$.a[0]"), vec![member("a"), Step::Index(0)]);
        assert_eq!(
            steps("$.a[12][3]"),
            vec![member("a"), Step::Index(12), Step::Index(3)]
        );
        assert_eq!(steps("$.a.*"), vec![member("a"), Step::Wildcard]);
        assert_eq!(steps("$.a[*]"), vec![member("a"), Step::Wildcard]);
        assert_eq!(steps("$.*.b"), vec![Step::Wildcard, member("b")]);
        assert_eq!(steps("$[*][0]"), vec![Step::Wildcard, Step::Index(0)]);
        assert_eq!(
            steps("$.a[0].b"),
            vec![member("a"), Step::Index(0), member("b")]
        );
        assert!(JsonPath::parse("$.a[*]").unwrap().has_wildcard());
        assert!(!JsonPath::parse("$.a[0]").unwrap().has_wildcard());
    }

    #[test]
    fn rejected() {
        for bad in [
            "",
            "detail",
            "$.",
            "$.a.",
            "$..a",
            "$a",
            "$ .a",
            "$.a b",
            "$.a*",
            "$.*a",
            "$[]",
            "$[-1]",
            "$[0:2]",
            "$[0,1]",
            "$[?(@.a)]",
            "$['a'",
            "$['a]",
            "$['a'x]",
            "$[a]",
            "$[*",
            "$.a[0",
            "$.length()",
            "$.a'",
            "$[99999999999999999999999]",
            r"$['\n']",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(JsonPath::parse("$..a").unwrap_err().offset(), 1);
        assert_eq!(JsonPath::parse("detail").unwrap_err().offset(), 0);
    }

    #[test]
    fn display_is_the_text() {
        assert_eq!(JsonPath::parse("$['a'].b").unwrap().to_string(), "$['a'].b");
    }

    #[test]
    fn select_single() {
        let doc = json!({"a": {"b": [10, {"c": "x"}]}, "d-e": true});
        let sel = |p: &str| JsonPath::parse(p).unwrap().select(&doc);
        assert_eq!(sel("$"), Selected::One(&doc));
        assert_eq!(sel("$.a.b[0]"), Selected::One(&json!(10)));
        assert_eq!(sel("$.a.b[1].c"), Selected::One(&json!("x")));
        assert_eq!(sel("$['a']['b'][1]['c']"), Selected::One(&json!("x")));
        assert_eq!(sel("$.d-e"), Selected::One(&json!(true)));
        assert_eq!(sel("$.a.b[2]"), Selected::Missing);
        assert_eq!(sel("$.a.x"), Selected::Missing);
        assert_eq!(sel("$.a.b.c"), Selected::Missing);
        assert_eq!(sel("$.a[0]"), Selected::Missing);
        assert_eq!(sel("$.d-e.f"), Selected::Missing);
    }

    #[test]
    fn select_wildcards() {
        let doc = json!({"items": [{"id": 1}, {"id": 2}, {"name": "n"}], "o": {"x": 1, "y": 2}});
        let sel = |p: &str| JsonPath::parse(p).unwrap().select(&doc);
        assert_eq!(
            sel("$.items[*].id"),
            Selected::Many(vec![&json!(1), &json!(2)])
        );
        assert_eq!(
            sel("$.items.*.id"),
            Selected::Many(vec![&json!(1), &json!(2)])
        );
        assert_eq!(sel("$.o.*"), Selected::Many(vec![&json!(1), &json!(2)]));
        assert_eq!(sel("$.items[*].zzz"), Selected::Many(vec![]));
        assert_eq!(sel("$.missing[*]"), Selected::Many(vec![]));
        assert_eq!(sel("$.o.x.*"), Selected::Many(vec![]));
        assert_eq!(
            sel("$.items[*]").clone(),
            Selected::Many(doc["items"].as_array().unwrap().iter().collect())
        );
    }
}
