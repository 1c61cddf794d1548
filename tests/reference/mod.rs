//! A brute-force reference matcher for EventBridge event patterns, written
//! for clarity rather than speed. It interprets the pattern and the event as
//! `serde_json::Value`s directly and follows `PATTERNS-SPEC.md` §1-6 with
//! ferrule's choices:
//!
//! * the pattern is expanded into branches (`$or` is a cartesian product with
//!   its siblings); a rule matches if any branch matches;
//! * the event is flattened into leaves, each with its array membership;
//! * a branch matches iff its conditions, taken in sorted path order, can each
//!   pick one value such that all picked values are array-consistent;
//!   `exists:false` holds iff no value at its path is consistent with the
//!   values picked by the conditions sorted before it.
//!
//! Only what the test generators produce is supported: ASCII strings, "nice"
//! numbers (compared as `f64`), wildcards without escapes, no duplicate
//! paths within a branch, no IP-looking strings.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One (array id, element index) pair: the leaf sits in that element.
type Membership = Vec<(usize, usize)>;

/// A leaf value of the event and the array elements it lies in.
#[derive(Debug)]
struct Leaf<'e> {
    value: &'e Value,
    membership: Membership,
}

/// Dotted path -> every leaf at that path.
type Flat<'e> = BTreeMap<String, Vec<Leaf<'e>>>;

/// Flattens an event (a JSON object) into its leaves.
fn flatten(event: &Value) -> Flat<'_> {
    let mut flat = Flat::new();
    let mut next_array_id = 0;
    walk(event, "", &Vec::new(), &mut next_array_id, &mut flat);
    flat
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk<'e>(
    value: &'e Value,
    path: &str,
    membership: &Membership,
    next_array_id: &mut usize,
    flat: &mut Flat<'e>,
) {
    match value {
        Value::Object(members) => {
            for (key, inner) in members {
                walk(inner, &join(path, key), membership, next_array_id, flat);
            }
        }
        Value::Array(items) => {
            let id = *next_array_id;
            *next_array_id += 1;
            for (index, item) in items.iter().enumerate() {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        let mut inner = membership.clone();
                        inner.push((id, index));
                        walk(item, path, &inner, next_array_id, flat);
                    }
                    // A scalar directly inside an array records nothing for it.
                    _ => walk(item, path, membership, next_array_id, flat),
                }
            }
        }
        leaf => flat.entry(path.to_string()).or_default().push(Leaf {
            value: leaf,
            membership: membership.clone(),
        }),
    }
}

/// One alternative of a pattern: path -> leaf list (the pattern's array).
type Branch<'p> = BTreeMap<String, &'p [Value]>;

/// Expands a pattern object into its branches.
fn branches(pattern: &Value) -> Vec<Branch<'_>> {
    let Value::Object(members) = pattern else {
        panic!("reference: a pattern must be an object");
    };
    expand(members, "")
        .into_iter()
        .map(|alternative| {
            let mut branch = Branch::new();
            for (path, list) in alternative {
                let previous = branch.insert(path.clone(), list);
                assert!(
                    previous.is_none(),
                    "reference: the generator produced path {path:?} twice in one branch"
                );
            }
            branch
        })
        .collect()
}

type Alternative<'p> = Vec<(String, &'p [Value])>;

fn expand<'p>(members: &'p Map<String, Value>, prefix: &str) -> Vec<Alternative<'p>> {
    let mut alternatives: Vec<Alternative<'p>> = vec![Vec::new()];
    for (key, value) in members {
        let choices: Vec<Alternative<'p>> = if key == "$or" {
            let Value::Array(items) = value else {
                panic!("reference: $or must be an array");
            };
            items
                .iter()
                .flat_map(|item| match item {
                    Value::Object(inner) => expand(inner, prefix),
                    _ => panic!("reference: $or items must be objects"),
                })
                .collect()
        } else {
            let path = join(prefix, key);
            match value {
                Value::Object(inner) => expand(inner, &path),
                Value::Array(list) => vec![vec![(path, list.as_slice())]],
                _ => panic!("reference: a pattern member must be an object or an array"),
            }
        };
        alternatives = alternatives
            .iter()
            .flat_map(|left| {
                choices.iter().map(move |right| {
                    let mut joined = left.clone();
                    joined.extend(right.iter().cloned());
                    joined
                })
            })
            .collect();
    }
    alternatives
}

/// Whether `pattern` matches `event`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    matches_flat(pattern, flatten(event))
}

/// Whether `pattern` matches the event whose top-level members are
/// `members`, in order, duplicate keys included (every one counts: their
/// leaves are all collected, as if each member were the only one).
pub fn matches_members(pattern: &Value, members: &[(String, Value)]) -> bool {
    let mut flat = Flat::new();
    let mut next_array_id = 0;
    for (key, value) in members {
        walk(value, key, &Vec::new(), &mut next_array_id, &mut flat);
    }
    matches_flat(pattern, flat)
}

fn matches_flat(pattern: &Value, flat: Flat<'_>) -> bool {
    branches(pattern).iter().any(|branch| {
        let conditions: Vec<(&str, &[Value])> = branch
            .iter()
            .map(|(path, list)| (path.as_str(), *list))
            .collect();
        search(&conditions, &flat, &Vec::new())
    })
}

/// Backtracking search over the conditions (already in sorted path order).
fn search(conditions: &[(&str, &[Value])], flat: &Flat<'_>, chosen: &Membership) -> bool {
    let Some((&(path, list), rest)) = conditions.split_first() else {
        return true;
    };
    let leaves: &[Leaf<'_>] = flat.get(path).map(Vec::as_slice).unwrap_or(&[]);
    let usable = |leaf: &&Leaf<'_>| consistent(&leaf.membership, chosen);

    // exists:false: holds iff no value here is consistent with what is chosen.
    if list.iter().any(is_exists_false)
        && !leaves.iter().any(|leaf| usable(&leaf))
        && search(rest, flat, chosen)
    {
        return true;
    }
    // Every other matcher: pick one consistent value that satisfies it.
    leaves.iter().filter(usable).any(|leaf| {
        list.iter()
            .any(|m| !is_exists_false(m) && value_matches(m, leaf.value))
            && search(rest, flat, &merge(chosen, &leaf.membership))
    })
}

/// Two memberships conflict iff they name the same array with different indices.
fn consistent(a: &Membership, b: &Membership) -> bool {
    a.iter()
        .all(|&(array, index)| b.iter().all(|&(other, i)| other != array || i == index))
}

fn merge(a: &Membership, b: &Membership) -> Membership {
    let mut out = a.clone();
    for pair in b {
        if !out.contains(pair) {
            out.push(*pair);
        }
    }
    out
}

fn is_exists_false(matcher: &Value) -> bool {
    operator(matcher) == Some(("exists", &Value::Bool(false)))
}

/// The (name, operand) of a one-key operator object.
fn operator(matcher: &Value) -> Option<(&str, &Value)> {
    match matcher {
        Value::Object(members) if members.len() == 1 => {
            members.iter().next().map(|(k, v)| (k.as_str(), v))
        }
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64().filter(|_| value.is_number())
}

fn string(value: &Value) -> Option<&str> {
    value.as_str()
}

/// One or many strings (`"s"` or `["s1", "s2"]`).
fn strings(operand: &Value) -> Vec<&str> {
    match operand {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("reference: string list"))
            .collect(),
        _ => panic!("reference: expected a string or a list of strings"),
    }
}

/// Whether the event leaf `value` satisfies one pattern list element
/// (anything but `exists:false`).
fn value_matches(matcher: &Value, value: &Value) -> bool {
    match matcher {
        Value::String(s) => string(value) == Some(s.as_str()),
        Value::Number(_) => match (number(matcher), number(value)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Value::Bool(_) | Value::Null => matcher == value,
        Value::Array(_) => panic!("reference: nested array in a pattern list"),
        Value::Object(_) => {
            let (name, operand) = operator(matcher).expect("reference: one-key operator");
            operator_matches(name, operand, value)
        }
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn operator_matches(name: &str, operand: &Value, value: &Value) -> bool {
    match name {
        "exists" => {
            assert_eq!(
                operand,
                &Value::Bool(true),
                "exists:false is not a value matcher"
            );
            true
        }
        "prefix" | "suffix" => {
            let Some(v) = string(value) else { return false };
            let (needle, v) = match operand {
                Value::String(p) => (p.clone(), v.to_string()),
                Value::Object(_) => {
                    let (inner, text) = operator(operand).expect("reference: affix object");
                    assert_eq!(inner, "equals-ignore-case");
                    (lower(text.as_str().expect("string")), lower(v))
                }
                _ => panic!("reference: bad {name} operand"),
            };
            if name == "prefix" {
                v.starts_with(&needle)
            } else {
                v.ends_with(&needle)
            }
        }
        "equals-ignore-case" => {
            let p = operand.as_str().expect("reference: string operand");
            string(value).is_some_and(|v| lower(v) == lower(p))
        }
        "wildcard" => {
            let p = operand.as_str().expect("reference: string operand");
            string(value).is_some_and(|v| glob(p.as_bytes(), v.as_bytes()))
        }
        "numeric" => {
            let Some(v) = number(value) else { return false };
            let Value::Array(terms) = operand else {
                panic!("reference: numeric needs an array")
            };
            terms.chunks(2).all(|pair| {
                let bound = number(&pair[1]).expect("reference: numeric bound");
                match pair[0].as_str().expect("reference: numeric op") {
                    "=" => v == bound,
                    "<" => v < bound,
                    "<=" => v <= bound,
                    ">" => v > bound,
                    ">=" => v >= bound,
                    op => panic!("reference: unknown numeric op {op}"),
                }
            })
        }
        "anything-but" => !excluded(operand, value),
        other => panic!("reference: unknown operator {other}"),
    }
}

/// Whether the anything-but `operand` excludes `value`.
fn excluded(operand: &Value, value: &Value) -> bool {
    match operand {
        Value::String(s) => string(value) == Some(s.as_str()),
        Value::Number(_) => number(value) == number(operand),
        Value::Array(items) => items.iter().any(|item| match item {
            Value::String(s) => string(value) == Some(s.as_str()),
            Value::Number(_) => number(value).is_some() && number(value) == number(item),
            _ => panic!("reference: anything-but lists hold strings or numbers"),
        }),
        Value::Object(_) => {
            let (name, inner) = operator(operand).expect("reference: anything-but object");
            let Some(v) = string(value) else {
                // Non-strings are never excluded by the string operators.
                return false;
            };
            let items = strings(inner);
            match name {
                "prefix" => items.iter().any(|p| v.starts_with(p)),
                "suffix" => items.iter().any(|s| v.ends_with(s)),
                "equals-ignore-case" => items.iter().any(|s| lower(s) == lower(v)),
                "wildcard" => items.iter().any(|w| glob(w.as_bytes(), v.as_bytes())),
                other => panic!("reference: unknown anything-but operator {other}"),
            }
        }
        _ => panic!("reference: bad anything-but operand"),
    }
}

/// Whole-string glob where `*` matches any run of bytes (no escapes).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod self_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reference_flattening_records_object_elements_only() {
        let event = json!({"a": [{"b": 1}, {"b": [2, 3]}], "c": [4, [5]]});
        let flat = flatten(&event);
        let b: Vec<_> = flat["a.b"]
            .iter()
            .map(|l| (l.value.clone(), l.membership.clone()))
            .collect();
        assert_eq!(
            b,
            vec![
                (json!(1), vec![(0, 0)]),
                (json!(2), vec![(0, 1)]),
                (json!(3), vec![(0, 1)]),
            ]
        );
        let c: Vec<_> = flat["c"].iter().map(|l| l.membership.clone()).collect();
        assert_eq!(c, vec![vec![], vec![(2, 1)]]);
    }

    #[test]
    fn reference_glob() {
        assert!(glob(b"a*b*c", b"aXbYc"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"a*b", b"ab c"));
        assert!(glob(b"*ab*ab", b"abab"));
    }

    #[test]
    fn reference_or_expands() {
        let p = json!({"a": ["x"], "$or": [{"b": [1]}, {"c": {"$or": [{"d": [2]}, {"e": [3]}]}}]});
        let paths: Vec<Vec<String>> = branches(&p)
            .iter()
            .map(|b| b.keys().cloned().collect())
            .collect();
        assert_eq!(
            paths,
            vec![vec!["a", "b"], vec!["a", "c.d"], vec!["a", "c.e"]]
        );
    }
}
