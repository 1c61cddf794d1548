//! Property tests: ferrule against the brute-force reference matcher in
//! `tests/reference/mod.rs`, plus rule independence and batch equivalence.

mod reference;

use std::collections::BTreeSet;

use ferrule::{MatchScratch, Matcher, ReadMode, RuleSet};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Value pools: small, so that patterns and events actually meet.
// ---------------------------------------------------------------------------

/// Event and pattern strings: no IP-looking text, a few case variants, and
/// some that need escaping in JSON or are not ASCII (never used as
/// ignore-case operands, which stay ASCII).
const STRINGS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "AB",
    "Ab",
    "x",
    "xa",
    "bc",
    "b",
    "c*a",
    "q\"b",
    "x\\y",
    "\u{e9}t\u{e9}",
    "t\tab",
];
/// Prefix / suffix / ignore-case operands (the empty string is valid for prefix
/// and suffix, not for anything-but prefix/suffix).
const AFFIXES: &[&str] = &["", "a", "ab", "A", "x", "b", "bc", "c"];
const NONEMPTY_AFFIXES: &[&str] = &["a", "ab", "A", "x", "b", "bc", "c"];
/// Wildcard segments (non-empty; joined by single stars, so no `**`).
const SEGMENTS: &[&str] = &["a", "b", "c", "ab", "x", "A"];

fn number_pool() -> Vec<Value> {
    vec![
        json!(-1),
        json!(0),
        json!(1),
        json!(2),
        json!(10),
        json!(100),
        json!(1.0),
        json!(2.5),
        json!(0.5),
        json!(-0.0),
        json!(-2.5),
    ]
}

fn a_string() -> impl Strategy<Value = Value> {
    select(STRINGS).prop_map(Value::from)
}

fn a_number() -> impl Strategy<Value = Value> {
    select(number_pool())
}

fn a_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        5 => a_string(),
        4 => a_number(),
        1 => Just(Value::Bool(true)),
        1 => Just(Value::Bool(false)),
        1 => Just(Value::Null),
    ]
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

fn event_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("a".to_string()),
        4 => Just("b".to_string()),
        4 => Just("c".to_string()),
        // A dotted key reaches the same path as nested objects.
        1 => Just("a.b".to_string()),
    ]
}

fn event_object(depth: u32) -> BoxedStrategy<Value> {
    prop::collection::vec((event_key(), event_value(depth)), 0..4)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
        .boxed()
}

/// A member value; `depth` is how many more object levels may follow.
fn event_value(depth: u32) -> BoxedStrategy<Value> {
    if depth == 0 {
        return prop_oneof![
            4 => a_scalar(),
            1 => prop::collection::vec(a_scalar(), 0..4).prop_map(Value::Array),
        ]
        .boxed();
    }
    prop_oneof![
        5 => a_scalar(),
        3 => event_object(depth - 1),
        2 => prop::collection::vec(a_scalar(), 0..4).prop_map(Value::Array),
        3 => prop::collection::vec(event_object(depth - 1), 0..4).prop_map(Value::Array),
        // Mixed and nested arrays.
        1 => prop::collection::vec(event_value(depth - 1), 0..3).prop_map(Value::Array),
    ]
    .boxed()
}

fn an_event() -> BoxedStrategy<Value> {
    prop::collection::vec((event_key(), event_value(2)), 0..5)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
        .boxed()
}

// ---------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------

fn op(name: &str, operand: Value) -> Value {
    let mut m = Map::new();
    m.insert(name.to_string(), operand);
    Value::Object(m)
}

/// `x` or `[x, ...]`.
fn one_or_many<S: Strategy<Value = Value> + 'static>(item: impl Fn() -> S) -> BoxedStrategy<Value> {
    prop_oneof![
        item(),
        prop::collection::vec(item(), 1..4).prop_map(Value::Array),
    ]
    .boxed()
}

fn a_wildcard() -> impl Strategy<Value = String> {
    (
        prop::option::of(select(SEGMENTS)),
        prop::collection::vec(select(SEGMENTS), 0..3),
        any::<bool>(),
    )
        .prop_map(|(first, rest, trailing_star)| {
            let mut w = first.unwrap_or("").to_string();
            for seg in rest {
                w.push('*');
                w.push_str(seg);
            }
            if trailing_star {
                w.push('*');
            }
            w
        })
}

fn a_numeric() -> impl Strategy<Value = Value> {
    let single =
        (select(vec!["=", "<", "<=", ">", ">="]), a_number()).prop_map(|(o, n)| json!([o, n]));
    let range = (
        select(vec![">", ">="]),
        a_number(),
        select(vec!["<", "<="]),
        a_number(),
    )
        .prop_filter_map("bottom must be below top", |(lo_op, lo, hi_op, hi)| {
            let (l, h) = (lo.as_f64()?, hi.as_f64()?);
            match l.partial_cmp(&h)? {
                std::cmp::Ordering::Less => Some(json!([lo_op, lo, hi_op, hi])),
                std::cmp::Ordering::Greater => Some(json!([lo_op, hi, hi_op, lo])),
                std::cmp::Ordering::Equal => None,
            }
        });
    prop_oneof![single, range].prop_map(|terms| op("numeric", terms))
}

fn an_anything_but() -> impl Strategy<Value = Value> {
    let operand = prop_oneof![
        3 => one_or_many(a_string),
        3 => one_or_many(a_number),
        2 => one_or_many(|| select(NONEMPTY_AFFIXES).prop_map(Value::from))
            .prop_map(|v| op("prefix", v)),
        1 => one_or_many(|| select(NONEMPTY_AFFIXES).prop_map(Value::from))
            .prop_map(|v| op("suffix", v)),
        1 => one_or_many(|| select(AFFIXES).prop_map(Value::from))
            .prop_map(|v| op("equals-ignore-case", v)),
        1 => one_or_many(|| a_wildcard().prop_map(Value::from)).prop_map(|v| op("wildcard", v)),
    ];
    operand.prop_map(|o| op("anything-but", o))
}

/// One element of a leaf list.
fn a_matcher() -> impl Strategy<Value = Value> {
    let affix = select(AFFIXES).prop_map(Value::from);
    prop_oneof![
        4 => a_string(),
        3 => a_number(),
        1 => prop_oneof![Just(json!(true)), Just(json!(false)), Just(json!(null))],
        2 => affix.clone().prop_map(|s| op("prefix", s)),
        2 => affix.clone().prop_map(|s| op("suffix", s)),
        1 => affix.clone().prop_map(|s| op("prefix", op("equals-ignore-case", s))),
        1 => affix.clone().prop_map(|s| op("suffix", op("equals-ignore-case", s))),
        2 => affix.prop_map(|s| op("equals-ignore-case", s)),
        2 => a_wildcard().prop_map(|w| op("wildcard", Value::from(w))),
        3 => an_anything_but(),
        3 => a_numeric(),
        2 => Just(json!({"exists": true})),
        2 => Just(json!({"exists": false})),
    ]
}

fn a_leaf_list() -> impl Strategy<Value = Value> {
    prop::collection::vec(a_matcher(), 1..4).prop_map(Value::Array)
}

fn pattern_key() -> impl Strategy<Value = String> {
    select(vec!["a", "b", "c"]).prop_map(str::to_string)
}

/// A raw pattern object (before `sanitize`): 1-3 members and sometimes `$or`.
fn raw_pattern_object(depth: u32) -> BoxedStrategy<Map<String, Value>> {
    let member: BoxedStrategy<Value> = if depth == 0 {
        a_leaf_list().boxed()
    } else {
        prop_oneof![
            3 => a_leaf_list(),
            2 => raw_pattern_object(depth - 1).prop_map(Value::Object),
        ]
        .boxed()
    };
    let members = prop::collection::vec((pattern_key(), member), 1..4);
    let or: BoxedStrategy<Option<Value>> = if depth == 0 {
        Just(None).boxed()
    } else {
        prop::option::weighted(
            0.25,
            prop::collection::vec(raw_pattern_object(depth - 1), 2..4)
                .prop_map(|bs| Value::Array(bs.into_iter().map(Value::Object).collect())),
        )
        .boxed()
    };
    (members, or)
        .prop_map(|(members, or)| {
            let mut m: Map<String, Value> = members.into_iter().collect();
            if let Some(or) = or {
                m.insert("$or".to_string(), or);
            }
            m
        })
        .boxed()
}

/// Removes keys that would give a branch the same path twice: members of an
/// `$or` branch may not reuse a key of the object holding the `$or` (or of any
/// object further out at the same level). Branches left empty are dropped, and
/// an `$or` left with fewer than two branches is dropped. `None` if nothing is
/// left.
fn sanitize(
    mut object: Map<String, Value>,
    forbidden: &BTreeSet<String>,
) -> Option<Map<String, Value>> {
    object.retain(|k, _| k == "$or" || !forbidden.contains(k));
    let own: BTreeSet<String> = object.keys().filter(|k| *k != "$or").cloned().collect();
    let mut out = Map::new();
    for (key, value) in object {
        match value {
            Value::Object(inner) if key != "$or" => {
                if let Some(inner) = sanitize(inner, &BTreeSet::new()) {
                    out.insert(key, Value::Object(inner));
                }
            }
            Value::Array(items) if key == "$or" => {
                let inner_forbidden: BTreeSet<String> = forbidden.union(&own).cloned().collect();
                let branches: Vec<Value> = items
                    .into_iter()
                    .filter_map(|b| match b {
                        Value::Object(b) => sanitize(b, &inner_forbidden).map(Value::Object),
                        _ => None,
                    })
                    .collect();
                if branches.len() >= 2 {
                    out.insert(key, Value::Array(branches));
                }
            }
            other => {
                out.insert(key, other);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn a_pattern() -> BoxedStrategy<Value> {
    raw_pattern_object(2)
        .prop_filter_map("pattern sanitized away", |raw| {
            sanitize(raw, &BTreeSet::new()).map(Value::Object)
        })
        .boxed()
}

// ---------------------------------------------------------------------------
// Events aimed at a pattern
// ---------------------------------------------------------------------------

/// Every leaf path of a pattern (over all `$or` branches), as key segments.
fn pattern_paths(object: &Map<String, Value>, prefix: &[String], out: &mut BTreeSet<Vec<String>>) {
    for (key, value) in object {
        match value {
            Value::Array(items) if key == "$or" => {
                for item in items {
                    if let Value::Object(branch) = item {
                        pattern_paths(branch, prefix, out);
                    }
                }
            }
            Value::Object(inner) => {
                let mut path = prefix.to_vec();
                path.push(key.clone());
                pattern_paths(inner, &path, out);
            }
            _ => {
                let mut path = prefix.to_vec();
                path.push(key.clone());
                out.insert(path);
            }
        }
    }
}

/// Every scalar mentioned in a pattern (literals and operands), plus case
/// and affix variants of its strings, so that directed events hit them.
fn pattern_literals(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(members) => members.values().for_each(|v| pattern_literals(v, out)),
        Value::Array(items) => items.iter().for_each(|v| pattern_literals(v, out)),
        Value::String(s) if !["=", "<", "<=", ">", ">="].contains(&s.as_str()) => {
            let plain = s.replace('*', "");
            for variant in [
                s.clone(),
                plain.clone(),
                plain.to_uppercase(),
                format!("{plain}x"),
                format!("x{plain}"),
            ] {
                out.push(Value::String(variant));
            }
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => out.push(value.clone()),
        _ => {}
    }
}

/// An event object whose keys follow `paths` (remainders of the pattern's
/// paths at this level): each path is present, missing, or reached through
/// arrays of objects, with leaves drawn from `literals` and the pools.
fn directed_object(
    paths: BTreeSet<Vec<String>>,
    literals: Vec<Value>,
    depth: u32,
) -> BoxedStrategy<Value> {
    let mut by_key: std::collections::BTreeMap<String, BTreeSet<Vec<String>>> = Default::default();
    for path in paths {
        if let Some((first, rest)) = path.split_first() {
            by_key
                .entry(first.clone())
                .or_default()
                .insert(rest.to_vec());
        }
    }
    let leaf = {
        let literals = literals.clone();
        move || -> BoxedStrategy<Value> {
            if literals.is_empty() {
                a_scalar().boxed()
            } else {
                prop_oneof![2 => select(literals.clone()), 1 => a_scalar()].boxed()
            }
        }
    };
    let mut members: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (key, rests) in by_key {
        let deeper: BTreeSet<Vec<String>> =
            rests.iter().filter(|r| !r.is_empty()).cloned().collect();
        let ends_here = rests.iter().any(Vec::is_empty);
        let mut options: Vec<(u32, BoxedStrategy<Option<Value>>)> = vec![(1, Just(None).boxed())];
        if ends_here || deeper.is_empty() || depth == 0 {
            options.push((4, leaf().prop_map(Some).boxed()));
            options.push((
                2,
                prop::collection::vec(leaf(), 0..4)
                    .prop_map(|v| Some(Value::Array(v)))
                    .boxed(),
            ));
        }
        if !deeper.is_empty() && depth > 0 {
            let inner = directed_object(deeper, literals.clone(), depth - 1);
            options.push((3, inner.clone().prop_map(Some).boxed()));
            options.push((
                4,
                prop::collection::vec(inner, 1..4)
                    .prop_map(|v| Some(Value::Array(v)))
                    .boxed(),
            ));
        }
        let key2 = key.clone();
        members.push(
            prop::strategy::Union::new_weighted(options)
                .prop_map(move |v| v.map(|v| (key2.clone(), v)))
                .boxed(),
        );
    }
    // Noise: an unrelated member now and then.
    members.push(prop::option::weighted(0.3, (event_key(), a_scalar())).boxed());
    members
        .prop_map(|members| Value::Object(members.into_iter().flatten().collect()))
        .boxed()
}

/// Events for `pattern`: mostly directed at its paths, some fully random.
fn events_for(pattern: &Value, count: std::ops::Range<usize>) -> BoxedStrategy<Vec<Value>> {
    let Value::Object(object) = pattern else {
        unreachable!("patterns are objects")
    };
    let mut paths = BTreeSet::new();
    pattern_paths(object, &[], &mut paths);
    let mut literals = Vec::new();
    pattern_literals(pattern, &mut literals);
    prop::collection::vec(
        prop_oneof![
            3 => directed_object(paths, literals, 3),
            1 => an_event(),
        ],
        count,
    )
    .boxed()
}

/// Several patterns and events aimed at each of them (shuffled together).
fn patterns_and_events(
    patterns: std::ops::Range<usize>,
    events_each: std::ops::Range<usize>,
) -> BoxedStrategy<(Vec<Value>, Vec<Value>)> {
    prop::collection::vec(a_pattern(), patterns)
        .prop_flat_map(move |ps| {
            let events: Vec<_> = ps
                .iter()
                .map(|p| events_for(p, events_each.clone()))
                .collect();
            (Just(ps), events.prop_map(|e| e.concat()).prop_shuffle())
        })
        .boxed()
}

fn pattern_and_events(count: std::ops::Range<usize>) -> BoxedStrategy<(Value, Vec<Value>)> {
    a_pattern()
        .prop_flat_map(move |p| {
            let events = events_for(&p, count.clone());
            (Just(p), events)
        })
        .boxed()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn text(value: &Value) -> String {
    serde_json::to_string(value).expect("serializable")
}

/// JSON text for `value` in one of four spellings: 0 is serde_json's; the
/// others add whitespace and write numbers differently (`1e2`, `100.0`,
/// `2.50`, `1E2`), all denoting the same value.
fn spelled(value: &Value, style: u8) -> String {
    fn write(value: &Value, style: u8, out: &mut String) {
        let sep = if style == 2 { " " } else { "" };
        match value {
            Value::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        out.push_str(sep);
                    }
                    out.push_str(&text(&Value::String(k.clone())));
                    out.push(':');
                    out.push_str(sep);
                    write(v, style, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                out.push_str(sep);
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        out.push_str(sep);
                    }
                    write(v, style, out);
                }
                out.push_str(sep);
                out.push(']');
            }
            Value::Number(n) => {
                let f = n.as_f64().expect("finite");
                match style {
                    1 => out.push_str(&format!("{f:e}")),
                    2 if n.is_f64() => out.push_str(&format!("{n}0")),
                    2 => out.push_str(&format!("{n}.0")),
                    3 => out.push_str(&format!("{f:E}")),
                    _ => out.push_str(&n.to_string()),
                }
            }
            scalar => out.push_str(&text(scalar)),
        }
    }
    if style == 0 {
        return text(value);
    }
    let mut out = String::new();
    write(value, style, &mut out);
    debug_assert!(
        serde_json::from_str::<Value>(&out).is_ok(),
        "bad JSON {out}"
    );
    out
}

/// Compiles the given patterns as rules `r0`, `r1`, ...; panics with the
/// pattern if ferrule rejects one.
fn compile(patterns: &[Value]) -> Matcher {
    let mut rules = RuleSet::new();
    for (i, p) in patterns.iter().enumerate() {
        let t = text(p);
        if let Err(e) = rules.add(&format!("r{i}"), &t) {
            panic!("ferrule rejected a valid pattern {t}: {e}");
        }
    }
    rules.compile()
}

fn ferrule_matches(matcher: &Matcher, event: &Value) -> bool {
    let hits = matcher
        .matches(text(event).as_bytes())
        .unwrap_or_else(|e| panic!("ferrule rejected event {}: {e}", text(event)));
    !hits.is_empty()
}

/// Per rule, whether it matched; `names` are `r0`, `r1`, ...
fn matched_names(matcher: &Matcher, event: &Value) -> Vec<String> {
    matcher
        .matching_names(text(event).as_bytes())
        .expect("valid event")
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `cases` cases, or `PROPTEST_CASES` if set (for longer hunts).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Failures are recorded as hand-written #[test]s below instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    /// a. ferrule agrees with the reference on every (pattern, event), with
    /// the pattern written in one spelling and each event in all four.
    #[test]
    fn agrees_with_reference(
        (pattern, events) in pattern_and_events(1..8),
        pattern_style in 0u8..4,
    ) {
        let pattern_text = spelled(&pattern, pattern_style);
        let mut rules = RuleSet::new();
        if let Err(e) = rules.add("r", &pattern_text) {
            panic!("ferrule rejected a valid pattern {pattern_text}: {e}");
        }
        let matcher = rules.compile();
        for event in &events {
            let want = reference::matches(&pattern, event);
            for style in 0..4 {
                let event_text = spelled(event, style);
                let got = !matcher
                    .matches(event_text.as_bytes())
                    .unwrap_or_else(|e| panic!("ferrule rejected event {event_text}: {e}"))
                    .is_empty();
                prop_assert_eq!(
                    got, want,
                    "pattern {} event {}", pattern_text, event_text
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// b. Adding rules never changes another rule's answers (and every answer
    /// still agrees with the reference).
    #[test]
    fn rules_are_independent(
        (patterns, events) in patterns_and_events(2..7, 1..3),
    ) {
        let together = compile(&patterns);
        // All the patterns under one more name: it matches iff any of them does.
        let mut union = RuleSet::new();
        for p in &patterns {
            union.add("any", &text(p)).expect("valid pattern");
        }
        let union = union.compile();
        let alone: Vec<Matcher> = patterns.iter().map(|p| compile(std::slice::from_ref(p))).collect();
        for event in &events {
            let combined = matched_names(&together, event);
            prop_assert_eq!(
                ferrule_matches(&union, event),
                patterns.iter().any(|p| reference::matches(p, event)),
                "patterns under one name {:?}, event {}",
                patterns.iter().map(text).collect::<Vec<_>>(), text(event)
            );
            for (i, (pattern, single)) in patterns.iter().zip(&alone).enumerate() {
                let name = format!("r{i}");
                let in_set = combined.contains(&name);
                let by_itself = ferrule_matches(single, event);
                prop_assert_eq!(
                    in_set, by_itself,
                    "rule {} = {} alone vs in set {:?}, event {}",
                    name, text(pattern),
                    patterns.iter().map(text).collect::<Vec<_>>(), text(event)
                );
                prop_assert_eq!(
                    by_itself, reference::matches(pattern, event),
                    "pattern {} event {}", text(pattern), text(event)
                );
            }
        }
    }

    /// c. `matches_batch` equals `matches` called one event at a time
    /// (including events that fail to parse).
    #[test]
    fn batch_equals_one_by_one(
        (patterns, events) in patterns_and_events(1..5, 0..40),
        broken in prop::collection::vec(
            (any::<prop::sample::Index>(), select(vec!["not json", "[1]", "{\"a\":", "", "{\"a\":1} x"])),
            0..4,
        ),
    ) {
        let mut events: Vec<String> = events.iter().map(text).collect();
        for (at, bad) in broken {
            let at = at.index(events.len() + 1);
            events.insert(at, bad.to_string());
        }
        let matcher = compile(&patterns);
        let batch = matcher.matches_batch(&events);
        prop_assert_eq!(batch.len(), events.len());
        for (event, got) in events.iter().zip(batch) {
            prop_assert_eq!(got, matcher.matches(event.as_bytes()), "event {}", event);
        }
    }
}

/// The three readers on one event: the on-demand reader validated and
/// trusted, and the full-parse oracle. Validated must equal the oracle
/// (matches, or both errors; the oracle also rejects numbers beyond the f64
/// range, which are valid JSON); trusted must equal validated on valid JSON
/// and must return on anything.
fn readers_agree(matcher: &Matcher, event: &[u8]) -> Result<(), TestCaseError> {
    let (mut s1, mut s2, mut s3) = (
        MatchScratch::default(),
        MatchScratch::default(),
        MatchScratch::default(),
    );
    let (mut validated, mut trusted, mut oracle) = (Vec::new(), Vec::new(), Vec::new());
    let v = matcher.matches_with(event, &mut s1, &mut validated);
    let t = matcher.matches_with_mode(event, ReadMode::Trusted, &mut s2, &mut trusted);
    let o = matcher.matches_full_parse_with(event, &mut s3, &mut oracle);
    let shown = String::from_utf8_lossy(event);
    match (&v, &o) {
        (Ok(()), Ok(())) => prop_assert_eq!(&validated, &oracle, "event {}", shown),
        (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) if e.message().contains("InvalidNumber") => {}
        _ => prop_assert!(false, "validated {:?} vs oracle {:?} on {}", v, o, shown),
    }
    if v.is_ok() {
        prop_assert!(t.is_ok(), "trusted rejected valid {}", shown);
        prop_assert_eq!(&trusted, &validated, "trusted vs validated on {}", shown);
    }
    Ok(())
}

/// Bytes that make edits of JSON text interesting.
const EDIT_BYTES: &[u8] = b"{}[]\",:.-+0123456789eEtrufalsn \t\n\\u\x01\xff\xc3\xa9";

proptest! {
    #![proptest_config(config(256))]

    /// d. The on-demand reader (both modes) agrees with the full-parse
    /// oracle on generated events in every spelling, and on the same events
    /// with random byte edits (which make most of them invalid, often in a
    /// member no rule reads).
    #[test]
    fn readers_agree_with_the_full_parse(
        (patterns, events) in patterns_and_events(1..6, 1..4),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0u8..3, select(EDIT_BYTES.to_vec())),
            1..4,
        ),
    ) {
        let matcher = compile(&patterns);
        for event in &events {
            for style in 0..4 {
                let text = spelled(event, style);
                readers_agree(&matcher, text.as_bytes())?;
                let mut bytes = text.into_bytes();
                for (at, op, byte) in &edits {
                    let at = at.index(bytes.len() + 1);
                    match op {
                        0 => bytes.insert(at, *byte),
                        1 if at < bytes.len() => { bytes.remove(at); }
                        _ if at < bytes.len() => bytes[at] = *byte,
                        _ => bytes.push(*byte),
                    }
                }
                readers_agree(&matcher, &bytes)?;
            }
        }
    }

    /// e. Duplicate top-level keys all count: an event made of the members
    /// of two generated events (keys they share appear twice) matches as the
    /// reference says when it collects every member's leaves.
    #[test]
    fn duplicate_keys_all_count(
        (patterns, events) in patterns_and_events(1..4, 2..4),
    ) {
        let matcher = compile(&patterns);
        for pair in events.windows(2) {
            let mut members: Vec<(String, Value)> = Vec::new();
            for e in pair {
                if let Value::Object(m) = e {
                    members.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{}", text(&Value::String(k.clone())), text(v)))
                .collect();
            let event = format!("{{{}}}", body.join(","));
            let got = matcher.matching_names(event.as_bytes()).expect("valid event");
            let trusted = matcher.matches_trusted(event.as_bytes()).expect("valid event");
            prop_assert_eq!(got.len(), trusted.len());
            for (i, p) in patterns.iter().enumerate() {
                let name = format!("r{i}");
                prop_assert_eq!(
                    got.contains(&name.as_str()),
                    reference::matches_members(p, &members),
                    "pattern {} event {}", text(p), event
                );
            }
        }
    }
}

/// `key` as JSON string text with the character at `at` (of its chars)
/// written as a `\u` escape (a surrogate pair beyond the BMP), so that its
/// raw text differs from its value from that character on.
fn escaped_key(key: &str, at: usize) -> String {
    let mut out = String::from('"');
    for (i, c) in key.chars().enumerate() {
        if i == at % key.chars().count().max(1) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            let quoted = text(&Value::String(c.to_string()));
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(config(256))]

    /// f. The trusted mode's early stop loses nothing: an event of the
    /// members of two generated events, a member no rule reads between
    /// them, the second's keys spelled with a `\u` escape (keys they share
    /// appear twice), matches in trusted mode exactly as in validated mode
    /// and as the reference says.
    #[test]
    fn early_stop_keeps_later_members(
        (patterns, events) in patterns_and_events(1..4, 2..3),
        escape_at in 0usize..8,
        filler in 0usize..3,
    ) {
        let matcher = compile(&patterns).with_early_stop(true);
        let (Value::Object(first), Value::Object(second)) = (&events[0], &events[1]) else {
            return Ok(());
        };
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut body: Vec<String> = Vec::new();
        for (k, v) in first {
            members.push((k.clone(), v.clone()));
            body.push(format!("{}:{}", text(&Value::String(k.clone())), text(v)));
        }
        let filler_value = ["[1, 2, [3, {\"q\": 4}]]", "{\"zz\": \"\\\"\"}", "\"x\""][filler];
        body.push(format!("\"zz_filler_key\":{filler_value}"));
        for (k, v) in second {
            members.push((k.clone(), v.clone()));
            body.push(format!("{}:{}", escaped_key(k, escape_at), text(v)));
        }
        let event = format!("{{{}}}", body.join(","));
        let validated = matcher.matching_names(event.as_bytes()).expect("valid event");
        let mut trusted = matcher.matches_trusted(event.as_bytes()).expect("valid event");
        let mut by_id = matcher.matches(event.as_bytes()).expect("valid event");
        trusted.sort_unstable();
        by_id.sort_unstable();
        prop_assert_eq!(&trusted, &by_id, "event {}", event);
        for (i, p) in patterns.iter().enumerate() {
            let name = format!("r{i}");
            prop_assert_eq!(
                validated.contains(&name.as_str()),
                reference::matches_members(p, &members),
                "pattern {} event {}", text(p), event
            );
        }
    }
}

/// Number literals as written: those that are not comparable match only
/// their own spelling, the others by value.
const NUMBER_TEXTS: &[&str] = &[
    "37.807807921694092",
    "-122.418261722815416",
    "12345678901234567890",
    "0.10000000000000001",
    "1.5",
    "37.8",
    "0",
    "-0.0",
    "100",
    "2.5e1",
    "-37.8",
    "1e3",
    "1e25",
    "1e39",
    "-1234567890123456789012345678901234567890",
];
/// Spellings events add: other spellings of the literals above, and
/// numbers near them.
const EVENT_NUMBERS: &[&str] = &[
    "37.807807921694093",
    "1.50",
    "-122.4",
    "3.78e1",
    "25",
    "0.0",
    "1000",
    "-1.5",
    "0.1",
    "99.5",
    // More integer digits than the sieve has bands (and than a `u32` has
    // bits): such a number is never ruled out by its band.
    "1000000000000000000000000000000000000000",
    "-1234567890123456789012345678901234567890",
    "10000000000000000000000000.5",
];

/// One element of a pattern list on a numbers field, as text.
fn a_number_matcher() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(NUMBER_TEXTS).prop_map(str::to_string),
        2 => (select(&[">", ">=", "<", "<="][..]), select(&["0", "1.5", "37.8", "100", "-50"][..]))
            .prop_map(|(op, b)| format!(r#"{{"numeric":["{op}",{b}]}}"#)),
        1 => Just(r#"{"exists":true}"#.to_string()),
        1 => Just(r#"{"exists":false}"#.to_string()),
        // Only comparable numbers may follow `anything-but`.
        1 => select(&["1.5", "0", "100", "-37.8"][..]).prop_map(|t| format!(r#"{{"anything-but":[{t}]}}"#)),
        1 => Just(r#""1.5""#.to_string()),
    ]
}

/// A pattern on `n`, `m.k` or both, as text.
fn a_numbers_pattern() -> impl Strategy<Value = String> {
    let list = || prop::collection::vec(a_number_matcher(), 1..4).prop_map(|l| l.join(","));
    prop_oneof![
        list().prop_map(|l| format!(r#"{{"n":[{l}]}}"#)),
        list().prop_map(|l| format!(r#"{{"m":{{"k":[{l}]}}}}"#)),
        (list(), list()).prop_map(|(a, b)| format!(r#"{{"n":[{a}],"m":{{"k":[{b}]}}}}"#)),
    ]
}

/// A value of a numbers field: a number, a string, or (nested) arrays of
/// them, as text.
fn a_numbers_value() -> impl Strategy<Value = String> {
    let number = || {
        prop_oneof![
            3 => select(NUMBER_TEXTS),
            3 => select(EVENT_NUMBERS),
            1 => Just("\"1.5\""),
        ]
    };
    let array =
        move || prop::collection::vec(number(), 0..6).prop_map(|l| format!("[{}]", l.join(",")));
    prop_oneof![
        2 => number().prop_map(str::to_string),
        3 => array(),
        2 => prop::collection::vec(array(), 1..4).prop_map(|l| format!("[[{}]]", l.join(","))),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    /// f. The reader records only the numbers some pattern of their field
    /// may take (the automaton's number sieves): matching through the
    /// sieves, both modes, equals the full-parse oracle, which records
    /// every number, for literals compared by spelling and by value,
    /// ranges, and the `exists`, absence and `anything-but` tests that
    /// turn a field's sieve off.
    #[test]
    fn number_sieves_drop_no_number_a_rule_takes(
        patterns in prop::collection::vec(a_numbers_pattern(), 1..5),
        events in prop::collection::vec(
            (prop::option::of(a_numbers_value()), prop::option::of(a_numbers_value()), any::<bool>()),
            1..6,
        ),
    ) {
        let mut rules = RuleSet::new();
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = rules.add(&format!("r{i}"), p) {
                panic!("ferrule rejected a valid pattern {p}: {e}");
            }
        }
        let matcher = rules.compile();
        for (n, k, padded) in &events {
            let mut members = Vec::new();
            if let Some(n) = n {
                members.push(format!(r#""n":{n}"#));
            }
            if let Some(k) = k {
                members.push(format!(r#""m":{{"k":{k}}}"#));
            }
            // With 32 bytes or more after its numbers, the reader takes the
            // digit count of each from its mask (`keeps_plain`); without,
            // the last ones are read byte by byte (`keeps`).
            if *padded {
                members.push(format!(r#""pad":"{}""#, "p".repeat(40)));
            }
            let event = format!("{{{}}}", members.join(","));
            readers_agree(&matcher, event.as_bytes())?;
        }
    }
}

/// Literals compared by spelling only (not comparable): a field whose
/// patterns hold only these (and strings) gets a sieve of texts alone, and
/// the trusted reader may pass over its number arrays whole.
const TEXT_ONLY: &[&str] = &[
    "37.807807921694092",
    "-122.418261722815416",
    "12345678901234567890",
    "0.10000000000000001",
];

/// Array elements for a texts-only field: the texts, spellings that hold a
/// text inside a longer number, near misses, other numbers, and now and
/// then an element that stops the pass (a string, a literal, an object).
fn a_text_only_element() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(TEXT_ONLY).prop_map(str::to_string),
        2 => (select(TEXT_ONLY), select(&["1", "", "-"][..]), select(&["", "1", "e0"][..]))
            .prop_map(|(t, a, b)| {
                let t = if a == "-" { t.trim_start_matches('-') } else { t };
                format!("{a}{t}{b}")
            }),
        4 => select(&["-122.4", "37.8", "0.0", "1.5e2", "-0", "37.807807921694093"][..])
            .prop_map(str::to_string),
        1 => select(&[r#""37.807807921694092""#, r#""x""#, "true", "null", "{}", r#"{"k":1}"#][..])
            .prop_map(str::to_string),
    ]
}

/// Nested arrays of such elements, as text, with spaces or not.
fn a_text_only_array() -> impl Strategy<Value = String> {
    let leaf = a_text_only_element().boxed();
    leaf.prop_recursive(4, 48, 6, |inner| {
        (prop::collection::vec(inner, 0..6), any::<bool>()).prop_map(|(l, spaced)| {
            if spaced {
                format!("[ {} ]", l.join(", "))
            } else {
                format!("[{}]", l.join(","))
            }
        })
    })
    .prop_map(|v| {
        if v.starts_with('[') {
            v
        } else {
            format!("[{v}]")
        }
    })
}

proptest! {
    #![proptest_config(config(512))]

    /// g. Trusted reading passes over a texts-only field's number arrays
    /// when no text occurs in them: matching through that pass, both
    /// modes, equals the full-parse oracle (texts found whole, inside longer
    /// numbers, in strings; arrays holding elements that stop the pass).
    #[test]
    fn number_arrays_passed_whole_lose_no_match(
        lists in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![4 => select(TEXT_ONLY).prop_map(str::to_string), 1 => Just(r#""x""#.to_string())],
                1..4,
            ),
            1..4,
        ),
        events in prop::collection::vec((a_text_only_array(), any::<bool>()), 1..6),
    ) {
        let mut rules = RuleSet::new();
        for (i, list) in lists.iter().enumerate() {
            let p = format!(r#"{{"g":{{"c":[{}]}}}}"#, list.join(","));
            if let Err(e) = rules.add(&format!("r{i}"), &p) {
                panic!("ferrule rejected a valid pattern {p}: {e}");
            }
        }
        let matcher = rules.compile();
        for (array, after) in &events {
            let event = if *after {
                format!(r#"{{"g":{{"c":{array},"d":[1]}},"p":"x"}}"#)
            } else {
                format!(r#"{{"g":{{"c":{array}}}}}"#)
            };
            readers_agree(&matcher, event.as_bytes())?;
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-written regressions
// ---------------------------------------------------------------------------

/// Checks ferrule and the reference against an expected answer.
fn check(pattern: &str, event: &str, expected: bool) {
    let p: Value = serde_json::from_str(pattern).expect("pattern JSON");
    let e: Value = serde_json::from_str(event).expect("event JSON");
    assert_eq!(
        reference::matches(&p, &e),
        expected,
        "reference: pattern {pattern} event {event}"
    );
    let matcher = compile(&[p]);
    assert_eq!(
        ferrule_matches(&matcher, &e),
        expected,
        "ferrule: pattern {pattern} event {event}"
    );
}

#[test]
fn array_consistency_across_elements() {
    let pattern = r#"{"employees":{"first":["Anna"],"last":["Jones"]}}"#;
    let event =
        r#"{"employees":[{"first":"Anna","last":"Smith"},{"first":"Peter","last":"Jones"}]}"#;
    check(pattern, event, false);
    let event =
        r#"{"employees":[{"first":"Anna","last":"Jones"},{"first":"Peter","last":"Smith"}]}"#;
    check(pattern, event, true);
}

#[test]
fn sibling_arrays_never_conflict() {
    check(
        r#"{"a":{"x":["1"]},"b":{"y":["2"]}}"#,
        r#"{"a":[{"x":"0"},{"x":"1"}],"b":[{"y":"2"}]}"#,
        true,
    );
}

#[test]
fn scalars_in_arrays_record_no_membership() {
    check(
        r#"{"a":{"b":["x"],"c":["y"]}}"#,
        r#"{"a":[{"b":["x","z"],"c":["q","y"]}]}"#,
        true,
    );
}

#[test]
fn nested_arrays_are_flattened() {
    check(r#"{"a":{"b":[3]}}"#, r#"{"a":[[{"b":1}],[{"b":3}]]}"#, true);
    check(
        r#"{"a":{"b":[1],"c":[2]}}"#,
        r#"{"a":[[{"b":1}],[{"c":2}]]}"#,
        false,
    );
}

#[test]
fn exists_false_is_order_dependent() {
    // `c` sorts after `b`: absence is checked in the element that gave `b`.
    check(
        r#"{"a":{"b":["x"],"c":[{"exists":false}]}}"#,
        r#"{"a":[{"b":"x"},{"c":1}]}"#,
        true,
    );
    // `a0` sorts before `b`: absence is checked with nothing bound yet.
    check(
        r#"{"a":{"b":["x"],"a0":[{"exists":false}]}}"#,
        r#"{"a":[{"b":"x"},{"a0":1}]}"#,
        false,
    );
}

#[test]
fn exists_true_binds_array_element() {
    check(
        r#"{"a":{"b":[{"exists":true}],"c":["x"]}}"#,
        r#"{"a":[{"b":1},{"c":"x"}]}"#,
        false,
    );
}

#[test]
fn exists_false_or_value() {
    let pattern = r#"{"a":[{"exists":false},"x"]}"#;
    check(pattern, r#"{}"#, true);
    check(pattern, r#"{"a":"x"}"#, true);
    check(pattern, r#"{"a":"y"}"#, false);
    check(pattern, r#"{"a":[]}"#, true);
    check(pattern, r#"{"a":null}"#, false);
}

#[test]
fn anything_but_type_mismatch_matches() {
    check(r#"{"a":[{"anything-but":["x"]}]}"#, r#"{"a":1}"#, true);
    check(r#"{"a":[{"anything-but":["x"]}]}"#, r#"{"a":null}"#, true);
    check(r#"{"a":[{"anything-but":[1]}]}"#, r#"{"a":"1"}"#, true);
    check(r#"{"a":[{"anything-but":[1]}]}"#, r#"{"a":1.0}"#, false);
    check(
        r#"{"a":[{"anything-but":{"prefix":"a"}}]}"#,
        r#"{"a":false}"#,
        true,
    );
    check(
        r#"{"a":[{"anything-but":"x"}]}"#,
        r#"{"a":["x","y"]}"#,
        true,
    );
    check(r#"{"a":[{"anything-but":"x"}]}"#, r#"{"a":["x"]}"#, false);
    check(r#"{"a":[{"anything-but":"x"}]}"#, r#"{}"#, false);
}

#[test]
fn numbers_compare_by_value() {
    check(r#"{"a":[1]}"#, r#"{"a":1.0}"#, true);
    check(
        r#"{"a":[{"numeric":[">",0,"<=",2.5]}]}"#,
        r#"{"a":2.5}"#,
        true,
    );
    check(
        r#"{"a":[{"numeric":[">",0,"<=",2.5]}]}"#,
        r#"{"a":"2"}"#,
        false,
    );
}

/// Matches `event` as written (not respelled through a JSON value) in
/// both reading modes; the pattern as written too.
fn check_text(pattern: &str, event: &str, expected: bool) {
    let mut rules = RuleSet::new();
    rules.add("r", pattern).expect("valid pattern");
    let matcher = rules.compile();
    let validated = matcher.matches(event.as_bytes()).expect("valid event");
    let trusted = matcher
        .matches_trusted(event.as_bytes())
        .expect("valid event");
    assert_eq!(
        !validated.is_empty(),
        expected,
        "pattern {pattern} event {event}"
    );
    assert_eq!(validated, trusted, "modes: pattern {pattern} event {event}");
}

/// Numbers as spelled: equal values in any spelling, 16- and 17-digit
/// literals (exact or not), literals beyond 2^53 with a fraction, and
/// literals of more than 17 digits (compared as text).
#[test]
fn number_spellings_compare_as_values() {
    for spelling in ["3e2", "300.000", "30000e-2", "0.3E3", "300"] {
        check_text(r#"{"a":[300]}"#, &format!(r#"{{"a":{spelling}}}"#), true);
        check_text(
            r#"{"a":[3e2, 7]}"#,
            &format!(r#"{{"a":[1, {spelling}]}}"#),
            true,
        );
    }
    check_text(r#"{"a":[300]}"#, r#"{"a":300.0000000000001}"#, false);
    // 17 significant digits: the shortest spelling of 0.1 + 0.2 is
    // comparable; a neighbour that parses to the same double is not.
    check_text(
        r#"{"a":[0.30000000000000004]}"#,
        r#"{"a":0.300000000000000040}"#,
        true,
    );
    check_text(
        r#"{"a":[0.30000000000000004]}"#,
        r#"{"a":0.30000000000000005}"#,
        false,
    );
    check_text(r#"{"a":[0.1]}"#, r#"{"a":0.10000000000000001}"#, false);
    // Beyond 2^53 with a fraction (the integer division's conversion).
    check_text(
        r#"{"a":[{"numeric":[">=",-122.47335197312836,"<",-122.4]}]}"#,
        r#"{"a":-122.47335197312836}"#,
        true,
    );
    check_text(
        r#"{"a":[{"numeric":[">",-122.47335197312836]}]}"#,
        r#"{"a":-122.47335197312836}"#,
        false,
    );
    // Not comparable (more than 17 digits): only the same spelling.
    check_text(
        r#"{"a":[9007199254740993]}"#,
        r#"{"a":9007199254740993}"#,
        true,
    );
    check_text(
        r#"{"a":[9007199254740993]}"#,
        r#"{"a":9007199254740992}"#,
        false,
    );
    check_text(r#"{"a":[0]}"#, r#"{"a":-0.0}"#, true);
    check_text(r#"{"a":["1"]}"#, r#"{"a":1}"#, false);
    // More integer digits than the number sieve has bands: `1e39` is
    // comparable, so its 40-digit spelling matches, alone, in an array,
    // and with the array followed by enough bytes for the digit mask.
    let forty = format!("1{}", "0".repeat(39));
    check_text(r#"{"a":[1e39]}"#, &format!(r#"{{"a":{forty}}}"#), true);
    check_text(
        r#"{"a":[1e39]}"#,
        &format!(r#"{{"a":[7,{forty},8],"pad":"{}"}}"#, "p".repeat(40)),
        true,
    );
    check_text(
        r#"{"a":[1e39]}"#,
        &format!(r#"{{"a":[7,1{forty}]}}"#),
        false,
    );
}

#[test]
fn dotted_event_keys_share_paths() {
    check(r#"{"a":{"b":["x"]}}"#, r#"{"a.b":"x"}"#, true);
    check(r#"{"a":{"b":["x"]}}"#, r#"{"a":{"b":"y"},"a.b":"x"}"#, true);
}

#[test]
fn or_branches() {
    let pattern = r#"{"a":["x"],"$or":[{"b":[1]},{"c":{"$or":[{"a":[2]},{"b":[3]}]}}]}"#;
    check(pattern, r#"{"a":"x","b":1}"#, true);
    check(pattern, r#"{"a":"x","c":{"b":3}}"#, true);
    check(pattern, r#"{"a":"x","c":{"b":1}}"#, false);
    check(pattern, r#"{"b":1}"#, false);
}

#[test]
fn generated_patterns_are_valid_and_sometimes_match() {
    // Sanity check on the generators: patterns compile (checked by
    // `compile`) and a fair share of random pairs match.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut matched, mut total) = (0, 0);
    for _ in 0..300 {
        let pattern = a_pattern().new_tree(&mut runner).unwrap().current();
        let event = an_event().new_tree(&mut runner).unwrap().current();
        let matcher = compile(std::slice::from_ref(&pattern));
        total += 1;
        if ferrule_matches(&matcher, &event) {
            matched += 1;
        }
    }
    assert!(
        matched * 20 >= total,
        "only {matched} of {total} random pairs match; the generators need tuning"
    );
}

#[test]
fn spellings_denote_the_same_values() {
    let v = json!({"a": [1, 2.5, -0.0, {"b": 100, "c": "q\"b"}], "d": 0.5});
    let expected = [
        r#"{"a":[1,2.5,-0.0,{"b":100,"c":"q\"b"}],"d":0.5}"#,
        r#"{"a":[1e0,2.5e0,-0e0,{"b":1e2,"c":"q\"b"}],"d":5e-1}"#,
        r#"{"a": [ 1.0, 2.50, -0.00, {"b": 100.0, "c": "q\"b"} ], "d": 0.50}"#,
        r#"{"a":[1E0,2.5E0,-0E0,{"b":1E2,"c":"q\"b"}],"d":5E-1}"#,
    ];
    for (style, want) in expected.iter().enumerate() {
        assert_eq!(spelled(&v, style as u8), *want);
    }
}

#[test]
fn duplicate_keys_match_each_value() {
    let mut rules = RuleSet::new();
    rules.add("x", r#"{"a": ["x"]}"#).unwrap();
    rules.add("y", r#"{"a": ["y"]}"#).unwrap();
    rules
        .add("both", r#"{"a": ["x"], "b": {"c": [2]}}"#)
        .unwrap();
    rules
        .add("not-x", r#"{"a": [{"anything-but": "x"}]}"#)
        .unwrap();
    rules
        .add("absent", r#"{"a": [{"exists": false}]}"#)
        .unwrap();
    let m = rules.compile();
    let event = br#"{"a": "x", "b": {"c": 1}, "a": "y", "b": {"c": 2}}"#;
    assert_eq!(
        m.matching_names(event).unwrap(),
        ["both", "not-x", "x", "y"]
    );
    assert_eq!(m.matches_trusted(event).unwrap(), m.matches(event).unwrap());
}

#[test]
fn numbers_beyond_the_f64_range_compare_as_text() {
    let mut rules = RuleSet::new();
    rules.add("literal", r#"{"a": [1e400]}"#).unwrap();
    rules.add("negative", r#"{"a": [-1e400]}"#).unwrap();
    rules
        .add("positive", r#"{"a": [{"numeric": [">", 0]}]}"#)
        .unwrap();
    rules
        .add(
            "any-range",
            r#"{"a": [{"numeric": [">", -1e308, "<", 1e308]}]}"#,
        )
        .unwrap();
    rules
        .add("not-one", r#"{"a": [{"anything-but": [1]}]}"#)
        .unwrap();
    rules.add("exists", r#"{"a": [{"exists": true}]}"#).unwrap();
    rules.add("zero", r#"{"a": [0]}"#).unwrap();
    rules.add("string", r#"{"a": ["1e400"]}"#).unwrap();
    let m = rules.compile();
    for (event, want) in [
        (
            &br#"{"a": 1e400}"#[..],
            &["exists", "literal", "not-one"][..],
        ),
        (br#"{"a": -1e400}"#, &["exists", "negative", "not-one"]),
        // The same value spelled differently is a different text.
        (br#"{"a": 10e399}"#, &["exists", "not-one"]),
        // Underflow: not comparable, so not numerically zero.
        (br#"{"a": 1e-400}"#, &["exists", "not-one"]),
        (
            br#"{"a": [1e400, 5]}"#,
            &["any-range", "exists", "literal", "not-one", "positive"],
        ),
        (
            br#"{"x": 1e400, "a": 0}"#,
            &["any-range", "exists", "not-one", "zero"],
        ),
    ] {
        assert_eq!(
            m.matching_names(event).unwrap(),
            want,
            "{}",
            String::from_utf8_lossy(event)
        );
        assert_eq!(m.matches_trusted(event).unwrap(), m.matches(event).unwrap());
    }
}
