use super::*;

use crate::util::ip::IpKey;
use crate::util::number;
use crate::{Matcher, RuleSet};
use PatternErrorKind::{Limit, Operator, Structure, Syntax};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Parses `text`, panicking with the error if it is rejected.
fn parse(text: &str) -> Pattern {
    match Pattern::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("pattern {text} was rejected: {e} (kind {:?})", e.kind()),
    }
}

/// The value list of a pattern that has one branch with one field at `path`.
fn values_at(text: &str, path: &str) -> Vec<ValuePattern> {
    let p = parse(text);
    assert_eq!(p.branches().len(), 1, "branches of {text}: {p:?}");
    let fields = &p.branches()[0].fields;
    assert_eq!(fields.len(), 1, "fields of {text}: {fields:?}");
    assert_eq!(fields[0].path.as_str(), path, "path of {text}");
    fields[0].values.clone()
}

/// The single value pattern of `{"a": [<item>]}`.
fn one(item: &str) -> ValuePattern {
    let text = format!(r#"{{"a": [{item}]}}"#);
    let values = values_at(&text, "a");
    assert_eq!(values.len(), 1, "values of {text}: {values:?}");
    values.into_iter().next().unwrap()
}

/// The error for `text`, panicking if it is accepted.
fn err_with(text: &str, limits: &Limits) -> PatternError {
    match Pattern::parse_with(text, limits) {
        Ok(p) => panic!("pattern {text} was accepted: {p:?}"),
        Err(e) => e,
    }
}

/// Asserts that `text` is rejected with `kind`, at `pointer`, and that the
/// message contains every one of `needles` (ASCII case-insensitively).
#[track_caller]
fn assert_err_with(
    text: &str,
    limits: &Limits,
    kind: PatternErrorKind,
    pointer: &str,
    needles: &[&str],
) -> PatternError {
    let e = err_with(text, limits);
    assert_eq!(e.kind(), kind, "kind for {text}: {e}");
    assert_eq!(e.pointer(), pointer, "pointer for {text}: {e}");
    let message = e.message().to_ascii_lowercase();
    for needle in needles {
        assert!(
            message.contains(&needle.to_ascii_lowercase()),
            "message for {text} should mention {needle:?}: {}",
            e.message()
        );
    }
    // Display adds the pointer when there is one.
    let shown = e.to_string();
    assert!(shown.contains(e.message()));
    if !pointer.is_empty() {
        assert!(shown.contains(pointer), "display of {text}: {shown}");
    }
    e
}

#[track_caller]
fn assert_err(text: &str, kind: PatternErrorKind, pointer: &str, needles: &[&str]) -> PatternError {
    assert_err_with(text, &Limits::default(), kind, pointer, needles)
}

fn compile(pattern: &str) -> Matcher {
    let mut rules = RuleSet::new();
    if let Err(e) = rules.add("r", pattern) {
        panic!("pattern {pattern} was rejected: {e}");
    }
    rules.compile()
}

/// Whether `pattern` matches `event`.
fn matches(pattern: &str, event: &str) -> bool {
    let m = compile(pattern);
    let hits = m
        .matching_names(event.as_bytes())
        .unwrap_or_else(|e| panic!("event {event} was rejected: {e}"));
    !hits.is_empty()
}

/// Asserts that `pattern` matches every event in `yes` and none in `no`.
#[track_caller]
fn check(pattern: &str, yes: &[&str], no: &[&str]) {
    let m = compile(pattern);
    for event in yes {
        let hits = m
            .matching_names(event.as_bytes())
            .unwrap_or_else(|e| panic!("event {event} was rejected: {e}"));
        assert_eq!(hits, ["r"], "{pattern} should match {event}");
    }
    for event in no {
        let hits = m
            .matching_names(event.as_bytes())
            .unwrap_or_else(|e| panic!("event {event} was rejected: {e}"));
        assert!(hits.is_empty(), "{pattern} should not match {event}");
    }
}

/// Like `check` for a leaf list on field `a`, with events `{"a": <value>}`.
#[track_caller]
fn check_a(list: &str, yes: &[&str], no: &[&str]) {
    let pattern = format!(r#"{{"a": {list}}}"#);
    let wrap = |v: &&str| format!(r#"{{"a": {v}}}"#);
    let yes: Vec<String> = yes.iter().map(wrap).collect();
    let no: Vec<String> = no.iter().map(wrap).collect();
    let yes: Vec<&str> = yes.iter().map(String::as_str).collect();
    let no: Vec<&str> = no.iter().map(String::as_str).collect();
    check(&pattern, &yes, &no);
}

fn key(x: f64) -> u64 {
    number::ordered(x)
}

fn exact(text: &str) -> ValuePattern {
    ValuePattern::Exact {
        text: text.to_string(),
        ip: None,
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpKey {
    IpKey(4, u128::from(u32::from_be_bytes([a, b, c, d])))
}

fn v6(text: &str) -> IpKey {
    IpKey(6, u128::from(text.parse::<std::net::Ipv6Addr>().unwrap()))
}

fn wild(text: &str) -> Wildcard {
    Wildcard::parse(text).unwrap()
}

fn limits() -> Limits {
    Limits::default()
}

// ---------------------------------------------------------------------------
// Shape: paths, nesting, lists, duplicates
// ---------------------------------------------------------------------------

#[test]
fn nested_objects_become_dotted_paths() {
    let p = parse(r#"{"detail": {"a": {"b": ["x"]}, "c": [1]}, "source": ["s"]}"#);
    assert_eq!(p.branches().len(), 1);
    let paths: Vec<&str> = p.branches()[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["detail.a.b", "detail.c", "source"]);
    assert_eq!(p.branches()[0].fields[0].values, [exact("x")]);
}

#[test]
fn dotted_key_and_nested_object_are_the_same_pattern() {
    assert_eq!(parse(r#"{"a": {"b": ["x"]}}"#), parse(r#"{"a.b": ["x"]}"#));
    let yes = [r#"{"a": {"b": "x"}}"#, r#"{"a.b": "x"}"#];
    let no = [r#"{"a": {"b": "y"}}"#, r#"{"a": "x"}"#, r#"{"b": "x"}"#];
    check(r#"{"a": {"b": ["x"]}}"#, &yes, &no);
    check(r#"{"a.b": ["x"]}"#, &yes, &no);
}

#[test]
fn fields_are_sorted_and_values_sorted_and_deduplicated() {
    let p = parse(r#"{"z": ["b", "a", "b"], "a": [2, 1, 1]}"#);
    let fields = &p.branches()[0].fields;
    assert_eq!(fields[0].path.as_str(), "a");
    assert_eq!(fields[1].path.as_str(), "z");
    assert_eq!(fields[1].values, [exact("a"), exact("b")]);
    assert_eq!(fields[0].values.len(), 2);
}

#[test]
fn duplicate_path_keeps_the_last_list() {
    assert_eq!(values_at(r#"{"a": ["x"], "a": ["y"]}"#, "a"), [exact("y")]);
    check(
        r#"{"a": ["x"], "a": ["y"]}"#,
        &[r#"{"a": "y"}"#],
        &[r#"{"a": "x"}"#],
    );
    // Also across a nested object and a dotted key.
    assert_eq!(
        values_at(r#"{"a": {"b": ["x"]}, "a.b": ["y"]}"#, "a.b"),
        [exact("y")]
    );
}

#[test]
fn reserved_words_are_fine_as_field_names_outside_or() {
    let values = values_at(r#"{"prefix": ["x"]}"#, "prefix");
    assert_eq!(values, [exact("x")]);
    check(
        r#"{"numeric": {"exists": [1]}}"#,
        &[r#"{"numeric": {"exists": 1}}"#],
        &[r#"{"numeric": {"exists": 2}}"#],
    );
}

#[test]
fn conditions_on_different_fields_are_anded_and_list_items_ored() {
    let p = r#"{"a": ["x", "y"], "b": [1]}"#;
    check(
        p,
        &[r#"{"a": "x", "b": 1}"#, r#"{"a": "y", "b": 1, "c": 3}"#],
        &[
            r#"{"a": "x"}"#,
            r#"{"b": 1}"#,
            r#"{"a": "z", "b": 1}"#,
            r#"{"a": "x", "b": 2}"#,
        ],
    );
}

#[test]
fn arrays_in_events_match_if_any_element_matches() {
    check_a(
        r#"["x"]"#,
        &[r#"["y", "x"]"#, r#"[["x"]]"#, r#"["x"]"#],
        &[r#"[]"#, r#"["y"]"#, r#"{"x": "x"}"#],
    );
}

#[test]
fn array_consistency_within_one_branch() {
    let p = r#"{"employees": {"first": ["Anna"], "last": ["Jones"]}}"#;
    check(
        p,
        &[
            r#"{"employees": [{"first": "Anna", "last": "Jones"}, {"first": "Peter", "last": "Smith"}]}"#,
        ],
        &[
            r#"{"employees": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}"#,
        ],
    );
}

#[test]
fn whitespace_and_unicode_in_pattern_text() {
    let values = values_at("\n\t{ \"k\u{e9}y\" :\r\n [ \"\\u00e9\" ] }  \n", "k\u{e9}y");
    assert_eq!(values, [exact("\u{e9}")]);
    check(
        r#"{"s": ["\u00e9"]}"#,
        &[r#"{"s": "é"}"#, r#"{"s": "\u00e9"}"#],
        &[r#"{"s": "e"}"#],
    );
}

// ---------------------------------------------------------------------------
// Exact string
// ---------------------------------------------------------------------------

#[test]
fn exact_string_parses() {
    assert_eq!(one(r#""abc""#), exact("abc"));
    assert_eq!(one(r#""""#), exact(""));
    assert_eq!(one(r#""a\"b\\c""#), exact("a\"b\\c"));
    // Looks a bit like an address but is not one.
    assert_eq!(one(r#""1.2.3""#), exact("1.2.3"));
    assert_eq!(one(r#""256.1.1.1""#), exact("256.1.1.1"));
}

#[test]
fn exact_string_matches() {
    check_a(
        r#"["abc"]"#,
        &[r#""abc""#, r#""\u0061bc""#],
        &[
            r#""abcd""#,
            r#""ab""#,
            r#""ABC""#,
            r#""""#,
            "null",
            "true",
            "1",
        ],
    );
    check_a(r#"[""]"#, &[r#""""#], &["null", r#"" ""#, "0"]);
    check_a(r#"["300"]"#, &[r#""300""#], &["300", "300.0"]);
    check_a(r#"["null"]"#, &[r#""null""#], &["null"]);
    check_a(r#"["true"]"#, &[r#""true""#], &["true"]);
    check_a(r#"["a\"b"]"#, &[r#""a\"b""#], &[r#""a\\\"b""#]);
}

#[test]
fn missing_field_never_satisfies_a_value() {
    check(
        r#"{"a": ["x"]}"#,
        &[],
        &[r#"{}"#, r#"{"b": "x"}"#, r#"{"a": null}"#],
    );
}

// ---------------------------------------------------------------------------
// Exact number
// ---------------------------------------------------------------------------

#[test]
fn exact_number_parses_with_text_and_key() {
    assert_eq!(
        one("300"),
        ValuePattern::Number {
            text: "300".into(),
            key: Some(key(300.0)),
        }
    );
    assert_eq!(
        one("3.0e2"),
        ValuePattern::Number {
            text: "3.0e2".into(),
            key: Some(key(300.0)),
        }
    );
    assert_eq!(
        one("-1.5"),
        ValuePattern::Number {
            text: "-1.5".into(),
            key: Some(key(-1.5)),
        }
    );
    // Not comparable: only the spelling counts.
    assert_eq!(
        one("12345678901234567890"),
        ValuePattern::Number {
            text: "12345678901234567890".into(),
            key: None,
        }
    );
    assert_eq!(
        one("1e400"),
        ValuePattern::Number {
            text: "1e400".into(),
            key: None,
        }
    );
}

#[test]
fn exact_number_matches_equal_values_in_any_spelling() {
    check_a(
        "[300]",
        &["300", "300.0", "3e2", "3.0e2", "3E2", "3.00E+2", "30000e-2"],
        &[
            r#""300""#,
            "301",
            "299.99999",
            "-300",
            "null",
            "3e3",
            r#"["300"]"#,
        ],
    );
    check_a(
        "[0]",
        &["0", "-0", "0.0", "0e5", "-0.0"],
        &["1", r#""0""#, "false", "null"],
    );
    check_a(
        "[-1.5]",
        &["-1.5", "-15e-1", "-1.50"],
        &["1.5", r#""-1.5""#],
    );
    check_a("[3e2]", &["300"], &["30"]);
}

#[test]
fn non_comparable_numbers_match_only_the_same_spelling() {
    check_a(
        "[12345678901234567890]",
        &["12345678901234567890"],
        &[
            "12345678901234567890.0",
            "1.234567890123456789e19",
            "12345678901234567891",
            r#""12345678901234567890""#,
        ],
    );
    check_a(
        "[9007199254740993]",
        &["9007199254740993"],
        &["9007199254740992", "9007199254740993.0"],
    );
}

// ---------------------------------------------------------------------------
// true / false / null
// ---------------------------------------------------------------------------

#[test]
fn literals_parse() {
    assert_eq!(one("true"), ValuePattern::True);
    assert_eq!(one("false"), ValuePattern::False);
    assert_eq!(one("null"), ValuePattern::Null);
    assert_eq!(
        values_at(r#"{"a": [null, false, true, null]}"#, "a").len(),
        3
    );
}

#[test]
fn literals_match_only_the_same_literal() {
    check_a(
        "[true]",
        &["true", "[false, true]"],
        &["false", r#""true""#, "1", "null"],
    );
    check_a(
        "[false]",
        &["false"],
        &["true", r#""false""#, "0", "null", r#""""#],
    );
    check_a(
        "[null]",
        &["null", "[1, null]"],
        &[r#""null""#, r#""""#, "0", "false", "[]", "{}"],
    );
    check(r#"{"a": [null]}"#, &[], &["{}"]);
}

// ---------------------------------------------------------------------------
// prefix / suffix / equals-ignore-case
// ---------------------------------------------------------------------------

#[test]
fn prefix_parses() {
    assert_eq!(
        one(r#"{"prefix": "ab"}"#),
        ValuePattern::Prefix("ab".into())
    );
    assert_eq!(
        one(r#"{"prefix": ""}"#),
        ValuePattern::Prefix(String::new())
    );
    assert_eq!(
        one(r#"{"prefix": {"equals-ignore-case": "AbC"}}"#),
        ValuePattern::PrefixIgnoreCase("abc".into())
    );
}

#[test]
fn prefix_matches() {
    check_a(
        r#"[{"prefix": "ab"}]"#,
        &[r#""ab""#, r#""abc""#, r#"["x", "abz"]"#],
        &[r#""a""#, r#""xab""#, r#""Abc""#, r#""""#, "null"],
    );
    // A string operator never matches a number.
    check_a(r#"[{"prefix": "1"}]"#, &[r#""12""#], &["12", "1", "1e1"]);
    check_a(
        r#"[{"prefix": ""}]"#,
        &[r#""""#, r#""anything""#],
        &["0", "null", "true", "false"],
    );
    check_a(
        r#"[{"prefix": "日本"}]"#,
        &[r#""日本語""#],
        &[r#""日""#, r#""本日本""#],
    );
}

#[test]
fn prefix_ignore_case_matches() {
    check_a(
        r#"[{"prefix": {"equals-ignore-case": "AbC"}}]"#,
        &[r#""abc""#, r#""ABCdef""#, r#""aBc-x""#],
        &[r#""xabc""#, r#""ab""#, "123", "null"],
    );
    check_a(
        r#"[{"prefix": {"equals-ignore-case": "ÉCO"}}]"#,
        &[r#""école""#, r#""ÉCOLE""#],
        &[r#""ecole""#],
    );
}

#[test]
fn suffix_parses() {
    assert_eq!(
        one(r#"{"suffix": "on"}"#),
        ValuePattern::Suffix("on".into())
    );
    assert_eq!(
        one(r#"{"suffix": {"equals-ignore-case": "ON"}}"#),
        ValuePattern::SuffixIgnoreCase("on".into())
    );
}

#[test]
fn suffix_matches() {
    check_a(
        r#"[{"suffix": "on"}]"#,
        &[r#""python""#, r#""on""#],
        &[r#""onyx""#, r#""PYTHON""#, r#""o""#, "null"],
    );
    check_a(r#"[{"suffix": "0"}]"#, &[r#""10""#], &["10", "100"]);
    check_a(r#"[{"suffix": ""}]"#, &[r#""""#, r#""x""#], &["1", "null"]);
    check_a(
        r#"[{"suffix": "é"}]"#,
        &[r#""café""#, r#""caf\u00e9""#],
        &[r#""cafe""#],
    );
    check_a(r#"[{"suffix": "京"}]"#, &[r#""北京""#], &[r#""京北""#]);
}

#[test]
fn suffix_ignore_case_matches() {
    check_a(
        r#"[{"suffix": {"equals-ignore-case": ".PNG"}}]"#,
        &[r#""a.png""#, r#""B.PNG""#, r#""c.PnG""#],
        &[r#""a.png.txt""#, r#""png""#, "1", "null"],
    );
}

#[test]
fn equals_ignore_case_parses() {
    assert_eq!(
        one(r#"{"equals-ignore-case": "HeLLo"}"#),
        ValuePattern::EqualsIgnoreCase("hello".into())
    );
    assert_eq!(
        one(r#"{"equals-ignore-case": ""}"#),
        ValuePattern::EqualsIgnoreCase(String::new())
    );
}

#[test]
fn equals_ignore_case_matches() {
    check_a(
        r#"[{"equals-ignore-case": "Abc"}]"#,
        &[r#""abc""#, r#""ABC""#, r#""aBc""#],
        &[r#""abcd""#, r#""ab""#, r#""xabc""#, "null", "true"],
    );
    check_a(
        r#"[{"equals-ignore-case": "é"}]"#,
        &[r#""é""#, r#""É""#, r#""\u00c9""#],
        &[r#""e""#, r#""E""#],
    );
    // Numbers are never strings, even when the digits agree.
    check_a(r#"[{"equals-ignore-case": "1"}]"#, &[r#""1""#], &["1"]);
    check_a(
        r#"[{"equals-ignore-case": ""}]"#,
        &[r#""""#],
        &["null", r#"" ""#],
    );
}

#[test]
fn equals_ignore_case_is_symmetric_and_handles_non_bmp() {
    // ferrule folds both sides (documented in util/casefold.rs): the Kelvin
    // sign and `K` are the same letter ignoring case, in both directions.
    check_a(
        r#"[{"equals-ignore-case": "K"}]"#,
        &[r#""k""#, r#""\u212a""#],
        &[r#""x""#],
    );
    check_a(
        r#"[{"equals-ignore-case": "\u212a"}]"#,
        &[r#""k""#, r#""K""#],
        &[],
    );
    // Emoji are not broken into surrogates (the reference's defect).
    check_a(
        r#"[{"equals-ignore-case": "😀A"}]"#,
        &[r#""😀a""#, r#""😀A""#],
        &[r#""??a""#, r#""😁a""#],
    );
}

// ---------------------------------------------------------------------------
// wildcard
// ---------------------------------------------------------------------------

#[test]
fn wildcard_parses() {
    assert_eq!(
        one(r#"{"wildcard": "a*b*c"}"#),
        ValuePattern::Wildcard(wild("a*b*c"))
    );
    let ValuePattern::Wildcard(w) = one(r#"{"wildcard": "a*b*c"}"#) else {
        panic!()
    };
    assert_eq!(w.segments(), [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    // `\*` is a literal star, `\\` a literal backslash (doubled again in JSON).
    let ValuePattern::Wildcard(w) = one(r#"{"wildcard": "a\\*b*"}"#) else {
        panic!()
    };
    assert_eq!(w.segments(), [b"a*b".to_vec(), Vec::new()]);
    let ValuePattern::Wildcard(w) = one(r#"{"wildcard": "x\\\\*"}"#) else {
        panic!()
    };
    assert_eq!(w.segments(), [b"x\\".to_vec(), Vec::new()]);
    let ValuePattern::Wildcard(w) = one(r#"{"wildcard": "plain"}"#) else {
        panic!()
    };
    assert!(w.is_literal());
}

#[test]
fn wildcard_matches() {
    check_a(
        r#"[{"wildcard": "a*b*c"}]"#,
        &[r#""abc""#, r#""aXXbYYc""#, r#""abbc""#],
        &[r#""aXXbYY""#, r#""Xabc""#, r#""abcX""#, r#""ABC""#, "null"],
    );
    check_a(
        r#"[{"wildcard": "*"}]"#,
        &[r#""""#, r#""anything""#],
        &["1", "null", "true", "false"],
    );
    check_a(
        r#"[{"wildcard": "*.png"}]"#,
        &[r#""a.png""#, r#"".png""#],
        &[r#""a.png.gif""#, r#""apng""#],
    );
    check_a(r#"[{"wildcard": "1*"}]"#, &[r#""10""#], &["10", "1"]);
    check_a(
        r#"[{"wildcard": "plain"}]"#,
        &[r#""plain""#],
        &[r#""plainer""#, r#""plai""#],
    );
    check_a(
        r#"[{"wildcard": "日*語"}]"#,
        &[r#""日本語""#, r#""日語""#],
        &[r#""日本""#],
    );
}

#[test]
fn wildcard_empty_operand_matches_only_the_empty_string() {
    assert_eq!(one(r#"{"wildcard": ""}"#), ValuePattern::Wildcard(wild("")));
    check_a(
        r#"[{"wildcard": ""}]"#,
        &[r#""""#],
        &[r#""x""#, "null", "0"],
    );
}

#[test]
fn wildcard_escapes_match_literally() {
    // Operand `a\*b`: a literal star.
    check_a(
        r#"[{"wildcard": "a\\*b"}]"#,
        &[r#""a*b""#],
        &[r#""aXb""#, r#""ab""#, r#""a\\b""#],
    );
    // Operand `a\\*`: a literal backslash, then a star.
    check_a(
        r#"[{"wildcard": "a\\\\*"}]"#,
        &[r#""a\\""#, r#""a\\xyz""#],
        &[r#""axyz""#, r#""a""#],
    );
    // Operand `*\**`: contains a star.
    check_a(
        r#"[{"wildcard": "*\\**"}]"#,
        &[r#""*""#, r#""x*y""#],
        &[r#""xy""#, r#""""#],
    );
}

#[test]
fn wildcard_complexity_default_limit() {
    // A star then six equal bytes: complexity 7, accepted.
    assert_eq!(
        one(r#"{"wildcard": "*bbbbbb"}"#),
        ValuePattern::Wildcard(wild("*bbbbbb"))
    );
    check_a(
        r#"[{"wildcard": "*bbbbbb"}]"#,
        &[r#""bbbbbb""#, r#""abbbbbbb""#],
        &[r#""bbbbb""#],
    );
    // Six stars separated by one repeated byte: complexity 11, over 10.
    assert_err(
        r#"{"a": [{"wildcard": "*a*a*a*a*a*"}]}"#,
        Limit,
        "/a/0/wildcard",
        &["too complex", "10"],
    );
}

#[test]
fn wildcard_complexity_limit_is_configurable() {
    let strict = Limits {
        max_wildcard_complexity: 6,
        ..limits()
    };
    assert_err_with(
        r#"{"a": [{"wildcard": "*bbbbbb"}]}"#,
        &strict,
        Limit,
        "/a/0/wildcard",
        &["too complex", "6"],
    );
    let loose = Limits {
        max_wildcard_complexity: 20,
        ..limits()
    };
    assert!(Pattern::parse_with(r#"{"a": [{"wildcard": "*a*a*a*a*a*"}]}"#, &loose).is_ok());
    let seven = Limits {
        max_wildcard_complexity: 7,
        ..limits()
    };
    assert!(Pattern::parse_with(r#"{"a": [{"wildcard": "*bbbbbb"}]}"#, &seven).is_ok());
}

// ---------------------------------------------------------------------------
// anything-but
// ---------------------------------------------------------------------------

#[test]
fn anything_but_parses_every_form() {
    use AnythingBut as AB;
    let ab = |item: &str| match one(&format!(r#"{{"anything-but": {item}}}"#)) {
        ValuePattern::AnythingBut(ab) => ab,
        other => panic!("{item}: {other:?}"),
    };
    assert_eq!(ab(r#""x""#), AB::Strings(vec!["x".into()]));
    assert_eq!(
        ab(r#"["b", "a", "b"]"#),
        AB::Strings(vec!["a".into(), "b".into()])
    );
    assert_eq!(ab("5"), AB::Numbers(vec![key(5.0)]));
    // Numbers are compared by value: 1 and 1.0 are one item.
    assert_eq!(
        ab("[2.5, 1, 1.0, 1e0]"),
        AB::Numbers(vec![key(1.0), key(2.5)])
    );
    assert_eq!(ab(r#"{"prefix": "p"}"#), AB::Prefixes(vec!["p".into()]));
    assert_eq!(
        ab(r#"{"prefix": ["q", "p"]}"#),
        AB::Prefixes(vec!["p".into(), "q".into()])
    );
    assert_eq!(ab(r#"{"suffix": "s"}"#), AB::Suffixes(vec!["s".into()]));
    assert_eq!(
        ab(r#"{"suffix": ["s", "t"]}"#),
        AB::Suffixes(vec!["s".into(), "t".into()])
    );
    assert_eq!(
        ab(r#"{"equals-ignore-case": "AbC"}"#),
        AB::IgnoreCase(vec!["abc".into()])
    );
    assert_eq!(
        ab(r#"{"equals-ignore-case": ["X", "x", "Y"]}"#),
        AB::IgnoreCase(vec!["x".into(), "y".into()])
    );
    assert_eq!(ab(r#"{"wildcard": "a*"}"#), AB::Wildcards(vec![wild("a*")]));
    assert_eq!(ab(r#"{"wildcard": ["a*", "*b"]}"#).len(), 2);
    // An address-looking item stays a string.
    assert_eq!(ab(r#""10.0.0.1""#), AB::Strings(vec!["10.0.0.1".into()]));
    assert!(!ab(r#""x""#).is_empty());
}

#[test]
fn anything_but_value_matches() {
    check_a(
        r#"[{"anything-but": "x"}]"#,
        &[
            r#""y""#,
            r#""""#,
            r#""X""#,
            "1",
            "null",
            "true",
            "false",
            r#"["x", "y"]"#,
        ],
        &[
            r#""x""#,
            r#"["x"]"#,
            r#"["x", "x"]"#,
            "[]",
            "{}",
            r#"{"b": 1}"#,
        ],
    );
    // A missing field is not "anything but x".
    check(
        r#"{"a": [{"anything-but": "x"}]}"#,
        &[],
        &["{}", r#"{"b": "y"}"#],
    );
}

#[test]
fn anything_but_string_list_matches() {
    check_a(
        r#"[{"anything-but": ["x", "y"]}]"#,
        &[r#""z""#, "1", "null", r#"["x", "z"]"#],
        &[r#""x""#, r#""y""#, r#"["x", "y"]"#],
    );
    // A string item never excludes a number.
    check_a(
        r#"[{"anything-but": ["100"]}]"#,
        &["100", r#""1000""#],
        &[r#""100""#],
    );
}

#[test]
fn anything_but_number_list_matches() {
    check_a(
        r#"[{"anything-but": [1, 2.5]}]"#,
        &[
            "2", "0", "-1", r#""1""#, r#""2.5""#, "null", "true", "[1, 3]",
        ],
        &["1", "1.0", "1e0", "10e-1", "2.5", "25e-1", "[1, 2.5]"],
    );
    check_a(
        r#"[{"anything-but": 100}]"#,
        &["101", r#""100""#, "null"],
        &["100", "1e2", "100.000"],
    );
    check_a(
        r#"[{"anything-but": [100, 200]}]"#,
        &["150"],
        &["1e2", "2e2"],
    );
}

#[test]
fn anything_but_prefix_matches() {
    check_a(
        r#"[{"anything-but": {"prefix": "init"}}]"#,
        &[
            r#""done""#,
            r#""xinit""#,
            r#""in""#,
            r#""""#,
            "5",
            "null",
            "true",
        ],
        &[r#""init""#, r#""initial""#, r#"["init", "initial"]"#],
    );
    check_a(
        r#"[{"anything-but": {"prefix": ["a", "b"]}}]"#,
        &[r#""c""#, "1"],
        &[r#""apple""#, r#""banana""#],
    );
}

#[test]
fn anything_but_suffix_matches() {
    check_a(
        r#"[{"anything-but": {"suffix": ".png"}}]"#,
        &[r#""a.gif""#, r#""png""#, "1", "null"],
        &[r#""a.png""#, r#"".png""#],
    );
    check_a(
        r#"[{"anything-but": {"suffix": ["x", "y"]}}]"#,
        &[r#""z""#],
        &[r#""ax""#, r#""by""#],
    );
}

#[test]
fn anything_but_wildcard_matches() {
    check_a(
        r#"[{"anything-but": {"wildcard": "*/lib/*"}}]"#,
        &[r#""/usr/bin/x""#, r#""lib""#, "1", "null"],
        &[r#""/usr/lib/x""#, r#""/lib/""#],
    );
    check_a(
        r#"[{"anything-but": {"wildcard": ["a*", "*b"]}}]"#,
        &[r#""c""#, r#""ba""#],
        &[r#""abc""#, r#""cb""#],
    );
}

#[test]
fn anything_but_equals_ignore_case_matches() {
    check_a(
        r#"[{"anything-but": {"equals-ignore-case": "Yes"}}]"#,
        &[r#""no""#, r#""yess""#, "1", "null", "true"],
        &[r#""yes""#, r#""YES""#, r#""yEs""#],
    );
    check_a(
        r#"[{"anything-but": {"equals-ignore-case": ["A", "b"]}}]"#,
        &[r#""c""#],
        &[r#""a""#, r#""B""#],
    );
}

#[test]
fn anything_but_combined_with_other_values_in_a_list() {
    check_a(
        r#"[{"anything-but": "x"}, "x"]"#,
        &[r#""x""#, r#""y""#, "1"],
        &["[]"],
    );
}

// ---------------------------------------------------------------------------
// numeric
// ---------------------------------------------------------------------------

fn range(item: &str) -> NumericRange {
    match one(&format!(r#"{{"numeric": {item}}}"#)) {
        ValuePattern::Numeric(r) => r,
        other => panic!("{item}: {other:?}"),
    }
}

#[test]
fn numeric_parses_each_operator() {
    let lowest = key(-f64::MAX);
    let highest = key(f64::MAX);
    assert_eq!(
        range(r#"["=", 5]"#),
        NumericRange {
            low: key(5.0),
            high: key(5.0)
        }
    );
    assert_eq!(
        range(r#"["<", 5]"#),
        NumericRange {
            low: lowest,
            high: key(5f64.next_down())
        }
    );
    assert_eq!(
        range(r#"["<=", 5]"#),
        NumericRange {
            low: lowest,
            high: key(5.0)
        }
    );
    assert_eq!(
        range(r#"[">", 5]"#),
        NumericRange {
            low: key(5f64.next_up()),
            high: highest
        }
    );
    assert_eq!(
        range(r#"[">=", 5]"#),
        NumericRange {
            low: key(5.0),
            high: highest
        }
    );
    assert_eq!(
        range(r#"[">", 0, "<=", 5]"#),
        NumericRange {
            low: key(0f64.next_up()),
            high: key(5.0)
        }
    );
    assert_eq!(
        range(r#"[">=", -1.5, "<", 3e2]"#),
        NumericRange {
            low: key(-1.5),
            high: key(300f64.next_down())
        }
    );
    // Negative strict bounds step towards the right neighbour too.
    let r = range(r#"[">", -1, "<", 0]"#);
    assert_eq!(r.low, key((-1f64).next_up()));
    assert!(r.contains(key(-0.5)) && r.contains(key(-1e-300)));
    assert!(!r.contains(key(-1.0)) && !r.contains(key(0.0)));
    let r = range(r#"[">", 0, "<", 1]"#);
    assert!(r.contains(key(0.5)));
    assert!(!r.contains(key(0.0)));
    assert!(!r.contains(key(1.0)));
}

#[test]
fn numeric_single_comparisons_match() {
    check_a(
        r#"[{"numeric": ["=", 5]}]"#,
        &["5", "5.0", "5e0", "50e-1"],
        &["4", "6", "5.000001", r#""5""#, "null", "true"],
    );
    check_a(
        r#"[{"numeric": ["<", 5]}]"#,
        &["4", "4.999999999", "-1e300", "0", "-0"],
        &["5", "5.0", "6", "1e300", r#""1""#],
    );
    check_a(
        r#"[{"numeric": ["<=", 5]}]"#,
        &["5", "4.5", "-5"],
        &["5.0000001", "6"],
    );
    check_a(
        r#"[{"numeric": [">", 5]}]"#,
        &["5.000000001", "6", "1e300"],
        &["5", "4", "-6", r#""6""#],
    );
    check_a(
        r#"[{"numeric": [">=", 5]}]"#,
        &["5", "5.5", "500e-2"],
        &["4.99", "-5"],
    );
    check_a(
        r#"[{"numeric": ["=", -0.0]}]"#,
        &["0", "-0", "0.0"],
        &["1e-300", "-1e-300"],
    );
}

#[test]
fn numeric_ranges_match() {
    check_a(
        r#"[{"numeric": [">", 0, "<=", 5]}]"#,
        &["0.0001", "1", "5", "5.0"],
        &["0", "-0", "5.0001", "-1", r#""3""#, "null"],
    );
    check_a(
        r#"[{"numeric": [">=", 0, "<", 5]}]"#,
        &["0", "-0", "4.999"],
        &["5", "-0.0001"],
    );
    check_a(
        r#"[{"numeric": [">", -10, "<", -5]}]"#,
        &["-6", "-9.99"],
        &["-10", "-5", "0", "-11"],
    );
    check_a(
        r#"[{"numeric": [">=", 1e-10, "<=", 1e10]}]"#,
        &["1e-10", "1", "10000000000"],
        &["0", "1e11"],
    );
    check_a(
        r#"[{"numeric": [">", 0]}, {"numeric": ["<", -100]}]"#,
        &["1", "-101"],
        &["0", "-50"],
    );
}

#[test]
fn numeric_never_matches_strings_or_non_comparable_numbers() {
    check_a(
        r#"[{"numeric": [">", 0]}]"#,
        &["[\"5\", 5]"],
        &[
            r#""5""#,
            r#""1e3""#,
            "null",
            "true",
            r#"{"x": 5}"#,
            "[]",
            // Too precise for an f64: only text matchers see it.
            "9007199254740993",
            "12345678901234567890",
        ],
    );
}

// ---------------------------------------------------------------------------
// exists
// ---------------------------------------------------------------------------

#[test]
fn exists_parses() {
    assert_eq!(one(r#"{"exists": true}"#), ValuePattern::Exists);
    assert_eq!(one(r#"{"exists": false}"#), ValuePattern::Absent);
}

#[test]
fn exists_true_matches_leaves_only() {
    check(
        r#"{"a": [{"exists": true}]}"#,
        &[
            r#"{"a": "x"}"#,
            r#"{"a": ""}"#,
            r#"{"a": 0}"#,
            r#"{"a": null}"#,
            r#"{"a": false}"#,
            r#"{"a": [1]}"#,
            r#"{"a": [[], null]}"#,
        ],
        &[
            r#"{}"#,
            r#"{"b": 1}"#,
            r#"{"a": {}}"#,
            r#"{"a": []}"#,
            r#"{"a": {"b": 1}}"#,
            r#"{"a": [[]]}"#,
        ],
    );
}

#[test]
fn exists_false_matches_absence() {
    check(
        r#"{"a": [{"exists": false}]}"#,
        &[
            r#"{}"#,
            r#"{"b": 1}"#,
            r#"{"a": {}}"#,
            r#"{"a": []}"#,
            r#"{"a": {"b": 1}}"#,
        ],
        &[
            r#"{"a": null}"#,
            r#"{"a": "x"}"#,
            r#"{"a": 0}"#,
            r#"{"a": [1]}"#,
        ],
    );
}

#[test]
fn exists_false_combines_with_values_and_other_fields() {
    check_a(
        r#"[{"exists": false}, "x"]"#,
        &[r#""x""#],
        &[r#""y""#, "null"],
    );
    check(
        r#"{"a": [{"exists": false}, "x"]}"#,
        &["{}", r#"{"a": "x"}"#],
        &[r#"{"a": "y"}"#],
    );
    check(
        r#"{"a": [{"exists": false}], "b": ["y"]}"#,
        &[r#"{"b": "y"}"#],
        &[r#"{"a": 1, "b": "y"}"#, r#"{"b": "z"}"#, "{}"],
    );
    check(
        r#"{"a": {"b": [{"exists": true}], "c": [{"exists": false}]}}"#,
        &[r#"{"a": {"b": 1}}"#],
        &[r#"{"a": {"b": 1, "c": 2}}"#, r#"{"a": {"c": 2}}"#],
    );
}

// ---------------------------------------------------------------------------
// cidr and addresses
// ---------------------------------------------------------------------------

fn cidr(text: &str) -> IpRange {
    match one(&format!(r#"{{"cidr": "{text}"}}"#)) {
        ValuePattern::Cidr(r) => r,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn cidr_parses_ipv4() {
    assert_eq!(
        cidr("10.0.0.0/24"),
        IpRange {
            low: v4(10, 0, 0, 0),
            high: v4(10, 0, 0, 255)
        }
    );
    // Host bits need not be zero.
    assert_eq!(cidr("10.0.0.7/24"), cidr("10.0.0.0/24"));
    assert_eq!(
        cidr("0.0.0.0/0"),
        IpRange {
            low: v4(0, 0, 0, 0),
            high: v4(255, 255, 255, 255)
        }
    );
    // /32 is accepted and is one address (the reference rejects it).
    assert_eq!(
        cidr("192.168.1.1/32"),
        IpRange {
            low: v4(192, 168, 1, 1),
            high: v4(192, 168, 1, 1)
        }
    );
}

#[test]
fn cidr_parses_ipv6() {
    assert_eq!(
        cidr("2001:db8::/32"),
        IpRange {
            low: v6("2001:db8::"),
            high: v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
        }
    );
    assert_eq!(cidr("2001:DB8::/32"), cidr("2001:0db8:0:0::/32"));
    assert_eq!(
        cidr("2001:db8::1/128"),
        IpRange {
            low: v6("2001:db8::1"),
            high: v6("2001:db8::1")
        }
    );
    assert_eq!(
        cidr("::/0"),
        IpRange {
            low: v6("::"),
            high: v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        }
    );
}

#[test]
fn cidr_ipv4_matches() {
    check_a(
        r#"[{"cidr": "10.0.0.0/24"}]"#,
        &[
            r#""10.0.0.0""#,
            r#""10.0.0.255""#,
            r#""10.0.0.7""#,
            r#""010.0.0.7""#,
            r#"["1.1.1.1", "10.0.0.1"]"#,
        ],
        &[
            r#""10.0.1.0""#,
            r#""9.255.255.255""#,
            r#""10.0.0.1:80""#,
            r#""10.0.0.1 ""#,
            r#""10.0.0""#,
            r#""::a00:1""#,
            "10",
            "null",
        ],
    );
    check_a(
        r#"[{"cidr": "0.0.0.0/0"}]"#,
        &[r#""0.0.0.0""#, r#""255.255.255.255""#],
        &[r#""::1""#, r#""x""#, "0"],
    );
}

#[test]
fn ipv4_mapped_ipv6_is_ipv4() {
    // Documented in util/ip.rs: the hex mapped form is the IPv4 address, the
    // dotted mapped form is not an address at all.
    check_a(
        r#"[{"cidr": "10.0.0.0/8"}]"#,
        &[r#""::ffff:a00:1""#, r#""::FFFF:0A00:0001""#],
        &[r#""::ffff:10.0.0.1""#, r#""::ffff:b00:1""#],
    );
    assert_eq!(cidr("::ffff:a00:0/104"), cidr("10.0.0.0/8"));
    check_a(
        r#"[{"cidr": "::ffff:a00:0/104"}]"#,
        &[r#""10.1.2.3""#, r#""::ffff:a01:203""#],
        &[r#""11.0.0.0""#],
    );
    check_a(
        r#"["::ffff:a00:1"]"#,
        &[r#""10.0.0.1""#],
        &[r#""10.0.0.2""#],
    );
}

#[test]
fn cidr_single_address_networks_match_one_address() {
    check_a(
        r#"[{"cidr": "192.168.1.1/32"}]"#,
        &[r#""192.168.1.1""#, r#""192.168.01.001""#],
        &[r#""192.168.1.0""#, r#""192.168.1.2""#],
    );
    check_a(
        r#"[{"cidr": "2001:db8::1/128"}]"#,
        &[r#""2001:db8::1""#, r#""2001:DB8:0:0:0:0:0:1""#],
        &[r#""2001:db8::""#, r#""2001:db8::2""#],
    );
}

#[test]
fn cidr_ipv6_matches_after_canonicalisation() {
    check_a(
        r#"[{"cidr": "2001:db8::/32"}]"#,
        &[
            r#""2001:db8::""#,
            r#""2001:db8::1""#,
            r#""2001:0DB8:0000:0000:0000:0000:0000:0001""#,
            r#""2001:db8:ffff:ffff:ffff:ffff:ffff:ffff""#,
        ],
        &[
            r#""2001:db9::""#,
            r#""2001:db7:ffff::""#,
            r#""10.0.0.1""#,
            r#""2001:db8::g""#,
        ],
    );
    check_a(
        r#"[{"cidr": "::/0"}]"#,
        &[r#""::""#, r#""fe80::1""#],
        &[r#""1.2.3.4""#],
    );
}

#[test]
fn bare_address_strings_match_other_spellings() {
    assert_eq!(
        one(r#""10.0.0.1""#),
        ValuePattern::Exact {
            text: "10.0.0.1".into(),
            ip: Some(v4(10, 0, 0, 1)),
        }
    );
    assert_eq!(
        one(r#""2001:DB8::1""#),
        ValuePattern::Exact {
            text: "2001:DB8::1".into(),
            ip: Some(v6("2001:db8::1")),
        }
    );
    check_a(
        r#"["10.0.0.1"]"#,
        &[r#""10.0.0.1""#, r#""10.00.0.1""#, r#""010.000.000.001""#],
        &[r#""10.0.0.2""#, r#""10.0.0.1 ""#, "10", r#""10.0.0.1/32""#],
    );
    check_a(
        r#"["2001:db8::1"]"#,
        &[
            r#""2001:db8::1""#,
            r#""2001:DB8:0:0:0:0:0:1""#,
            r#""2001:0db8::0001""#,
        ],
        &[r#""2001:db8::2""#, r#""2001:db8::""#],
    );
}

// ---------------------------------------------------------------------------
// $or
// ---------------------------------------------------------------------------

fn branch_paths(p: &Pattern) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = p
        .branches()
        .iter()
        .map(|b| b.fields.iter().map(|f| f.path.to_string()).collect())
        .collect();
    out.sort();
    out
}

#[test]
fn or_parses_into_branches() {
    let p = parse(r#"{"source": ["s"], "$or": [{"a": [1]}, {"b": [2]}]}"#);
    assert_eq!(
        branch_paths(&p),
        [
            vec!["a".to_string(), "source".into()],
            vec!["b".into(), "source".into()]
        ]
    );
    for b in p.branches() {
        assert!(
            b.fields
                .iter()
                .any(|f| f.path.as_str() == "source" && f.values == [exact("s")])
        );
    }
}

#[test]
fn or_inside_a_nested_object_keeps_the_prefix() {
    let p = parse(r#"{"x": {"$or": [{"a": ["1"]}, {"b": {"c": ["2"]}}]}}"#);
    assert_eq!(
        branch_paths(&p),
        [vec!["x.a".to_string()], vec!["x.b.c".to_string()]]
    );
    check(
        r#"{"x": {"$or": [{"a": ["1"]}, {"b": {"c": ["2"]}}]}}"#,
        &[r#"{"x": {"a": "1"}}"#, r#"{"x": {"b": {"c": "2"}}}"#],
        &[
            r#"{"a": "1"}"#,
            r#"{"x": {"a": "2"}}"#,
            r#"{"x": {"c": "2"}}"#,
        ],
    );
}

#[test]
fn multiple_or_keys_multiply() {
    let text = r#"{"$or": [{"a": [1]}, {"b": [1]}], "c": ["c"], "$or": [{"d": [1]}, {"e": [1]}]}"#;
    let p = parse(text);
    assert_eq!(p.branches().len(), 4);
    assert_eq!(
        branch_paths(&p),
        [
            vec!["a".to_string(), "c".into(), "d".into()],
            vec!["a".into(), "c".into(), "e".into()],
            vec!["b".into(), "c".into(), "d".into()],
            vec!["b".into(), "c".into(), "e".into()],
        ]
    );
    check(
        text,
        &[
            r#"{"a": 1, "c": "c", "e": 1}"#,
            r#"{"b": 1, "c": "c", "d": 1}"#,
        ],
        &[
            r#"{"a": 1, "c": "c"}"#,
            r#"{"a": 1, "b": 1, "c": "c"}"#,
            r#"{"a": 1, "d": 1}"#,
        ],
    );
}

#[test]
fn nested_or_expands_recursively() {
    let text = r#"{"$or": [{"a": ["x"]}, {"$or": [{"b": ["y"]}, {"c": ["z"]}], "d": ["w"]}]}"#;
    let p = parse(text);
    assert_eq!(
        branch_paths(&p),
        [
            vec!["a".to_string()],
            vec!["b".to_string(), "d".into()],
            vec!["c".to_string(), "d".into()],
        ]
    );
    check(
        text,
        &[
            r#"{"a": "x"}"#,
            r#"{"b": "y", "d": "w"}"#,
            r#"{"c": "z", "d": "w"}"#,
        ],
        &[r#"{"b": "y"}"#, r#"{"d": "w"}"#, r#"{"a": "y"}"#],
    );
}

#[test]
fn or_branches_may_use_operators_and_duplicate_branches_merge() {
    let p = parse(r#"{"$or": [{"a": ["x"]}, {"a": ["x"]}]}"#);
    assert_eq!(p.branches().len(), 1);
    check(
        r#"{"$or": [{"n": [{"numeric": [">", 10]}]}, {"s": [{"prefix": "ab"}]}]}"#,
        &[r#"{"n": 11}"#, r#"{"s": "abc"}"#, r#"{"n": 1, "s": "abc"}"#],
        &[r#"{"n": 10}"#, r#"{"s": "xab"}"#, "{}"],
    );
    // Several branches hold at once: the rule is reported once.
    let m = compile(r#"{"$or": [{"a": [1]}, {"b": [1]}]}"#);
    assert_eq!(m.matching_names(br#"{"a": 1, "b": 1}"#).unwrap(), ["r"]);
}

#[test]
fn several_rules_are_independent() {
    let mut rules = RuleSet::new();
    rules.add("num", r#"{"a": [300]}"#).unwrap();
    rules.add("str", r#"{"a": ["300"]}"#).unwrap();
    rules.add("pre", r#"{"a": [{"prefix": "3"}]}"#).unwrap();
    rules
        .add("not", r#"{"a": [{"anything-but": "300"}]}"#)
        .unwrap();
    rules
        .add("rng", r#"{"a": [{"numeric": [">", 299]}]}"#)
        .unwrap();
    let m = rules.compile();
    assert_eq!(
        m.matching_names(br#"{"a": 3e2}"#).unwrap(),
        ["not", "num", "rng"]
    );
    assert_eq!(
        m.matching_names(br#"{"a": "300"}"#).unwrap(),
        ["pre", "str"]
    );
    assert_eq!(m.matching_names(br#"{"a": "31"}"#).unwrap(), ["not", "pre"]);
}

// ---------------------------------------------------------------------------
// Errors: syntax and structure
// ---------------------------------------------------------------------------

#[test]
fn error_syntax() {
    for text in [
        r#"{"a": [1]"#,
        r#"{"a" [1]}"#,
        r#"{"a": [1,]}"#,
        r#"{a: [1]}"#,
        r#"{"a": [01]}"#,
        r#"{"a": ["\q"]}"#,
        "",
        "   ",
    ] {
        let e = assert_err(text, Syntax, "", &["invalid JSON"]);
        assert!(e.message().contains("byte"), "{text}: {e}");
    }
}

#[test]
fn error_trailing_text() {
    assert_err(r#"{"a": [1]} trailing"#, Syntax, "", &["after"]);
    assert_err(r#"{"a": [1]}{"b": [2]}"#, Syntax, "", &["after"]);
    // Trailing white space is fine.
    assert!(Pattern::parse("{\"a\": [1]} \n\t").is_ok());
}

#[test]
fn error_root_not_object() {
    for (text, ty) in [
        (r#"[{"a": [1]}]"#, "array"),
        (r#""a""#, "string"),
        ("1", "number"),
        ("null", "null"),
        ("true", "boolean"),
    ] {
        assert_err(text, Structure, "", &["must be a JSON object", ty]);
    }
}

#[test]
fn error_empty_object() {
    assert_err("{}", Structure, "", &["empty object"]);
    assert_err(r#"{"a": {}}"#, Structure, "/a", &["empty object"]);
    assert_err(r#"{"a": {"b": {}}}"#, Structure, "/a/b", &["empty object"]);
}

#[test]
fn error_empty_array() {
    assert_err(r#"{"a": []}"#, Structure, "/a", &["empty array"]);
    assert_err(
        r#"{"x": [1], "a": {"b": []}}"#,
        Structure,
        "/a/b",
        &["empty array"],
    );
}

#[test]
fn error_leaf_not_object_or_array() {
    for (value, ty) in [
        (r#""x""#, "string"),
        ("1", "number"),
        ("null", "null"),
        ("true", "boolean"),
    ] {
        let text = format!(r#"{{"detail": {{"a": {value}}}}}"#);
        assert_err(
            &text,
            Structure,
            "/detail/a",
            &["\"a\" must be an object or an array", ty],
        );
    }
}

#[test]
fn error_nested_array_in_leaf_list() {
    assert_err(r#"{"a": ["x", ["y"]]}"#, Structure, "/a/1", &["array"]);
    assert_err(r#"{"a": [[]]}"#, Structure, "/a/0", &["array"]);
}

#[test]
fn error_pointer_escapes_slash_and_tilde() {
    assert_err(
        r#"{"a/b": {"c~d": []}}"#,
        Structure,
        "/a~1b/c~0d",
        &["empty array"],
    );
}

// ---------------------------------------------------------------------------
// Errors: operators
// ---------------------------------------------------------------------------

#[test]
fn error_unknown_operator() {
    assert_err(
        r#"{"a": [{"regex": "x"}]}"#,
        Operator,
        "/a/0",
        &["unknown operator", "regex"],
    );
    // Operator names are case-sensitive.
    assert_err(
        r#"{"a": ["x", {"EXISTS": true}]}"#,
        Operator,
        "/a/1",
        &["unknown operator", "EXISTS"],
    );
    assert_err(
        r#"{"d": {"a": [{"not-a-thing": 1}]}}"#,
        Operator,
        "/d/a/0",
        &["not-a-thing"],
    );
}

#[test]
fn error_operator_object_key_count() {
    assert_err(
        r#"{"a": [{}]}"#,
        Operator,
        "/a/0",
        &["exactly one key", "0"],
    );
    assert_err(
        r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
        Operator,
        "/a/0",
        &["exactly one key", "2"],
    );
    assert_err(
        r#"{"a": [{"numeric": [">", 1], "numeric": ["<", 5]}]}"#,
        Operator,
        "/a/0",
        &["exactly one key"],
    );
}

#[test]
fn error_operand_types() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            r#"{"prefix": 1}"#,
            "/a/0/prefix",
            &["prefix", "string", "number"],
        ),
        (
            r#"{"prefix": null}"#,
            "/a/0/prefix",
            &["prefix", "string", "null"],
        ),
        (
            r#"{"prefix": ["x"]}"#,
            "/a/0/prefix",
            &["prefix", "string", "array"],
        ),
        (
            r#"{"suffix": true}"#,
            "/a/0/suffix",
            &["suffix", "string", "boolean"],
        ),
        (
            r#"{"equals-ignore-case": 1}"#,
            "/a/0/equals-ignore-case",
            &["equals-ignore-case", "string", "number"],
        ),
        (
            r#"{"equals-ignore-case": ["x"]}"#,
            "/a/0/equals-ignore-case",
            &["equals-ignore-case", "string", "array"],
        ),
        (
            r#"{"wildcard": 5}"#,
            "/a/0/wildcard",
            &["wildcard", "string", "number"],
        ),
        (
            r#"{"cidr": 10}"#,
            "/a/0/cidr",
            &["cidr", "string", "number"],
        ),
        (
            r#"{"cidr": ["10.0.0.0/8"]}"#,
            "/a/0/cidr",
            &["cidr", "string", "array"],
        ),
        (
            r#"{"exists": "true"}"#,
            "/a/0/exists",
            &["exists", "true or false", "string"],
        ),
        (r#"{"exists": null}"#, "/a/0/exists", &["exists", "null"]),
        (r#"{"exists": 1}"#, "/a/0/exists", &["exists", "number"]),
        (
            r#"{"numeric": 5}"#,
            "/a/0/numeric",
            &["numeric", "array", "number"],
        ),
        (
            r#"{"numeric": ">5"}"#,
            "/a/0/numeric",
            &["numeric", "array", "string"],
        ),
        (
            r#"{"anything-but": true}"#,
            "/a/0/anything-but",
            &["anything-but", "boolean"],
        ),
        (
            r#"{"anything-but": null}"#,
            "/a/0/anything-but",
            &["anything-but", "null"],
        ),
    ];
    for (item, pointer, needles) in cases {
        let text = format!(r#"{{"a": [{item}]}}"#);
        assert_err(&text, Operator, pointer, needles);
    }
}

#[test]
fn error_prefix_and_suffix_objects() {
    assert_err(
        r#"{"a": [{"prefix": {"equals-ignore-case": 1}}]}"#,
        Operator,
        "/a/0/prefix/equals-ignore-case",
        &["equals-ignore-case", "string", "number"],
    );
    assert_err(
        r#"{"a": [{"prefix": {"wildcard": "x*"}}]}"#,
        Operator,
        "/a/0/prefix/wildcard",
        &["prefix", "wildcard", "equals-ignore-case"],
    );
    assert_err(
        r#"{"a": [{"suffix": {"anything-but": "x"}}]}"#,
        Operator,
        "/a/0/suffix/anything-but",
        &["suffix", "anything-but"],
    );
    assert_err(
        r#"{"a": [{"prefix": {}}]}"#,
        Operator,
        "/a/0/prefix",
        &["exactly one key"],
    );
    assert_err(
        r#"{"a": [{"suffix": {"equals-ignore-case": "x", "prefix": "y"}}]}"#,
        Operator,
        "/a/0/suffix",
        &["exactly one key"],
    );
}

#[test]
fn error_wildcard_consecutive_stars() {
    assert_err(
        r#"{"a": [{"wildcard": "a**b"}]}"#,
        Operator,
        "/a/0/wildcard",
        &["consecutive", "*", "byte 2"],
    );
    assert_err(
        r#"{"a": [{"wildcard": "**"}]}"#,
        Operator,
        "/a/0/wildcard",
        &["consecutive"],
    );
    // An escaped star next to a star is fine.
    assert!(Pattern::parse(r#"{"a": [{"wildcard": "a*\\**b"}]}"#).is_ok());
}

#[test]
fn error_wildcard_bad_escape() {
    // Operand `a\b`.
    assert_err(
        r#"{"a": [{"wildcard": "a\\b"}]}"#,
        Operator,
        "/a/0/wildcard",
        &["invalid escape", "byte 1"],
    );
    // Operand ending in a lone backslash.
    assert_err(
        r#"{"a": [{"wildcard": "ab\\"}]}"#,
        Operator,
        "/a/0/wildcard",
        &["invalid escape", "byte 2"],
    );
}

#[test]
fn error_anything_but_lists() {
    assert_err(
        r#"{"a": [{"anything-but": []}]}"#,
        Operator,
        "/a/0/anything-but",
        &["non-empty"],
    );
    assert_err(
        r#"{"a": [{"anything-but": ["x", 1]}]}"#,
        Operator,
        "/a/0/anything-but",
        &["only strings or only numbers"],
    );
    assert_err(
        r#"{"a": [{"anything-but": ["x", null]}]}"#,
        Operator,
        "/a/0/anything-but/1",
        &["null"],
    );
    assert_err(
        r#"{"a": [{"anything-but": [1, true]}]}"#,
        Operator,
        "/a/0/anything-but/1",
        &["boolean"],
    );
    assert_err(
        r#"{"a": [{"anything-but": [["x"]]}]}"#,
        Operator,
        "/a/0/anything-but/0",
        &["array"],
    );
    assert_err(
        r#"{"a": [{"anything-but": [{"prefix": "x"}]}]}"#,
        Operator,
        "/a/0/anything-but/0",
        &["object"],
    );
}

#[test]
fn error_anything_but_object_forms() {
    assert_err(
        r#"{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}"#,
        Operator,
        "/a/0/anything-but",
        &["exactly one key"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {}}]}"#,
        Operator,
        "/a/0/anything-but",
        &["exactly one key"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"cidr": "10.0.0.0/8"}}]}"#,
        Operator,
        "/a/0/anything-but",
        &["does not support", "cidr"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"prefix": ""}}]}"#,
        Operator,
        "/a/0/anything-but/prefix",
        &["non-empty"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"suffix": ["x", ""]}}]}"#,
        Operator,
        "/a/0/anything-but/suffix/1",
        &["non-empty"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"prefix": []}}]}"#,
        Operator,
        "/a/0/anything-but/prefix",
        &["non-empty list"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"equals-ignore-case": []}}]}"#,
        Operator,
        "/a/0/anything-but/equals-ignore-case",
        &["non-empty list"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"wildcard": []}}]}"#,
        Operator,
        "/a/0/anything-but/wildcard",
        &["non-empty list"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"prefix": 5}}]}"#,
        Operator,
        "/a/0/anything-but/prefix",
        &["string", "number"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"equals-ignore-case": ["x", null]}}]}"#,
        Operator,
        "/a/0/anything-but/equals-ignore-case/1",
        &["string", "null"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"wildcard": ["x*", "a**"]}}]}"#,
        Operator,
        "/a/0/anything-but/wildcard/1",
        &["consecutive"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"wildcard": "a\\q"}}]}"#,
        Operator,
        "/a/0/anything-but/wildcard",
        &["invalid escape"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"wildcard": ["x", "*a*a*a*a*a*"]}}]}"#,
        Limit,
        "/a/0/anything-but/wildcard/1",
        &["too complex"],
    );
}

#[test]
fn error_anything_but_unsupported_operator_with_non_string_operand() {
    assert_err(
        r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#,
        Operator,
        "/a/0/anything-but",
        &["does not support", "numeric"],
    );
    assert_err(
        r#"{"a": [{"anything-but": {"exists": true}}]}"#,
        Operator,
        "/a/0/anything-but",
        &["does not support", "exists"],
    );
}

#[test]
fn error_anything_but_non_comparable_numbers() {
    assert_err(
        r#"{"a": [{"anything-but": 1e400}]}"#,
        Operator,
        "/a/0/anything-but",
        &["cannot compare", "1e400"],
    );
    assert_err(
        r#"{"a": [{"anything-but": [1, 9007199254740993]}]}"#,
        Operator,
        "/a/0/anything-but/1",
        &["cannot compare", "9007199254740993"],
    );
}

#[test]
fn error_numeric() {
    let cases: &[(&str, &str, &[&str])] = &[
        // Unknown or non-string operators.
        (
            r#"["!=", 1]"#,
            "/a/0/numeric/0",
            &["unknown numeric operator", "!="],
        ),
        (
            r#"["==", 1]"#,
            "/a/0/numeric/0",
            &["unknown numeric operator"],
        ),
        (
            r#"[1, 1]"#,
            "/a/0/numeric/0",
            &["operator must be a string", "number"],
        ),
        (
            r#"[">", 1, "<<", 5]"#,
            "/a/0/numeric/2",
            &["unknown numeric operator", "<<"],
        ),
        // Wrong arity.
        (r#"[]"#, "/a/0/numeric", &["0 elements"]),
        (r#"[">"]"#, "/a/0/numeric", &["1 elements"]),
        (r#"[">", 1, "<"]"#, "/a/0/numeric", &["3 elements"]),
        (r#"[">", 1, "<", 5, "<"]"#, "/a/0/numeric", &["5 elements"]),
        (
            r#"[">", 1, "<", 5, "=", 3, "<", 2]"#,
            "/a/0/numeric",
            &["8 elements"],
        ),
        // Non-number bounds.
        (
            r#"[">", "1"]"#,
            "/a/0/numeric/1",
            &["must be a number", "string"],
        ),
        (
            r#"["=", null]"#,
            "/a/0/numeric/1",
            &["must be a number", "null"],
        ),
        (
            r#"[">", 1, "<", "5"]"#,
            "/a/0/numeric/3",
            &["must be a number", "string"],
        ),
        (
            r#"[">", [1], "<", 5]"#,
            "/a/0/numeric/1",
            &["must be a number", "array"],
        ),
        // Bounds out of order or equal.
        (
            r#"[">=", 5, "<=", 5]"#,
            "/a/0/numeric",
            &["lower bound", "less than"],
        ),
        (
            r#"[">", 6, "<", 5]"#,
            "/a/0/numeric",
            &["lower bound", "less than"],
        ),
        (r#"[">", 5, "<", 5.0]"#, "/a/0/numeric", &["lower bound"]),
        // Two-sided ranges must go > ... <.
        (
            r#"["<=", 5, ">=", 1]"#,
            "/a/0/numeric/0",
            &["must start with"],
        ),
        (
            r#"["=", 1, "<", 5]"#,
            "/a/0/numeric/0",
            &["must start with"],
        ),
        (r#"[">", 1, ">", 5]"#, "/a/0/numeric/2", &["must end with"]),
        (r#"[">", 1, "=", 5]"#, "/a/0/numeric/2", &["must end with"]),
        // Bounds that are not comparable.
        (
            r#"["=", 1e400]"#,
            "/a/0/numeric/1",
            &["cannot compare", "1e400"],
        ),
        (r#"["<", -1e400]"#, "/a/0/numeric/1", &["cannot compare"]),
        (
            r#"[">", 9007199254740993]"#,
            "/a/0/numeric/1",
            &["cannot compare", "9007199254740993"],
        ),
        (
            r#"[">", 0.10000000000000001]"#,
            "/a/0/numeric/1",
            &["cannot compare"],
        ),
        (r#"[">", 5e-324]"#, "/a/0/numeric/1", &["cannot compare"]),
        (
            r#"[">", 1, "<", 1e309]"#,
            "/a/0/numeric/3",
            &["cannot compare", "1e309"],
        ),
    ];
    for (operand, pointer, needles) in cases {
        let text = format!(r#"{{"a": [{{"numeric": {operand}}}]}}"#);
        assert_err(&text, Operator, pointer, needles);
    }
    // The pointer names the right element of the leaf list, inside nesting.
    assert_err(
        r#"{"detail": {"size": [1, {"numeric": [">", "x"]}]}}"#,
        Operator,
        "/detail/size/1/numeric/1",
        &["must be a number"],
    );
    assert_err(
        r#"{"detail": {"size": [{"numeric": [">", 1, "<", "x"]}]}}"#,
        Operator,
        "/detail/size/0/numeric/3",
        &["must be a number"],
    );
}

#[test]
fn error_cidr() {
    let cases: &[(&str, &[&str])] = &[
        ("10.0.0.1", &["one '/'"]),
        ("10.0.0.0/8/8", &["one '/'"]),
        ("10.0.0.0/", &["mask", "integer"]),
        ("10.0.0.0/x", &["mask", "integer"]),
        ("10.0.0.0/-1", &["mask", "integer"]),
        ("10.0.0.0/ 8", &["mask", "integer"]),
        ("10.0.0.0/33", &["IPv4", "32 bits"]),
        ("2001:db8::/129", &["IPv6", "128 bits"]),
        ("300.0.0.0/8", &["not an IP address", "300.0.0.0"]),
        ("10.0.0/8", &["not an IP address"]),
        ("hello/8", &["not an IP address", "hello"]),
        ("/8", &["not an IP address"]),
        ("2001:db8::g/32", &["not an IP address"]),
        ("::ffff:10.0.0.1/120", &["not an IP address"]),
    ];
    assert_err(
        r#"{"a": [{"cidr": "::ffff:a00:0/95"}]}"#,
        Operator,
        "/a/0/cidr",
        &["mixes IPv4-mapped and IPv6"],
    );
    for (operand, needles) in cases {
        let text = format!(r#"{{"a": [{{"cidr": "{operand}"}}]}}"#);
        let e = assert_err(&text, Operator, "/a/0/cidr", needles);
        assert!(e.message().contains(operand), "{e}");
    }
}

#[test]
fn error_or() {
    assert_err(
        r#"{"$or": [{"a": ["x"]}]}"#,
        Structure,
        "/$or",
        &["at least 2"],
    );
    assert_err(r#"{"$or": []}"#, Structure, "/$or", &["at least 2"]);
    assert_err(
        r#"{"$or": {"a": ["x"], "b": ["y"]}}"#,
        Structure,
        "/$or",
        &["array"],
    );
    assert_err(r#"{"$or": "x"}"#, Structure, "/$or", &["array"]);
    assert_err(
        r#"{"$or": [{"a": ["x"]}, "b"]}"#,
        Structure,
        "/$or/1",
        &["must be an object", "string"],
    );
    assert_err(
        r#"{"$or": [[{"a": ["x"]}], {"b": ["y"]}]}"#,
        Structure,
        "/$or/0",
        &["must be an object", "array"],
    );
    assert_err(
        r#"{"$or": [{"a": ["x"]}, {}]}"#,
        Structure,
        "/$or/1",
        &["empty object"],
    );
    // Errors inside branches point into them.
    assert_err(
        r#"{"d": {"$or": [{"a": ["x"]}, {"b": [{"numeric": 1}]}]}}"#,
        Operator,
        "/d/$or/1/b/0/numeric",
        &["numeric"],
    );
}

#[test]
fn error_reserved_word_inside_or() {
    assert_err(
        r#"{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}"#,
        Structure,
        "/$or/0/prefix",
        &["reserved", "prefix"],
    );
    assert_err(
        r#"{"$or": [{"a": ["x"]}, {"b": {"numeric": ["y"]}}]}"#,
        Structure,
        "/$or/1/b/numeric",
        &["reserved", "numeric"],
    );
    for word in ["exists", "anything-but", "cidr", "<=", "regex", "wildcard"] {
        let text = format!(r#"{{"$or": [{{"a": ["x"]}}, {{"{word}": ["y"]}}]}}"#);
        let pointer = format!("/$or/1/{word}");
        assert_err(&text, Structure, &pointer, &["reserved", word]);
    }
}

// ---------------------------------------------------------------------------
// Errors: limits
// ---------------------------------------------------------------------------

#[test]
fn limit_fields_per_branch() {
    let two = Limits {
        max_fields_per_branch: 2,
        ..limits()
    };
    assert!(Pattern::parse_with(r#"{"a": [1], "b": [1]}"#, &two).is_ok());
    assert_err_with(
        r#"{"a": [1], "b": [1], "c": [1]}"#,
        &two,
        Limit,
        "",
        &["3 fields", "limit of 2"],
    );
    // Counted per branch after $or expansion.
    assert!(Pattern::parse_with(r#"{"a": [1], "$or": [{"b": [1]}, {"c": [1]}]}"#, &two).is_ok());
    assert_err_with(
        r#"{"a": [1], "$or": [{"b": [1]}, {"c": [1], "d": [1]}]}"#,
        &two,
        Limit,
        "",
        &["limit of 2"],
    );
    // Duplicate paths count once.
    assert!(Pattern::parse_with(r#"{"a": [1], "b": [1], "a": [2]}"#, &two).is_ok());
    // The default is 256.
    let fields = |n: usize| {
        let members: Vec<String> = (0..n).map(|i| format!(r#""f{i}": [1]"#)).collect();
        format!("{{{}}}", members.join(","))
    };
    assert!(Pattern::parse(&fields(256)).is_ok());
    assert_err(&fields(257), Limit, "", &["257 fields", "limit of 256"]);
}

#[test]
fn limit_or_branches() {
    let three = Limits {
        max_or_branches: 3,
        ..limits()
    };
    assert!(
        Pattern::parse_with(r#"{"$or": [{"a": [1]}, {"b": [1]}, {"c": [1]}]}"#, &three).is_ok()
    );
    assert_err_with(
        r#"{"$or": [{"a": [1]}, {"b": [1]}, {"c": [1]}, {"d": [1]}]}"#,
        &three,
        Limit,
        "/$or",
        &["more than 3 branches"],
    );
    // Two $or of two branches each make four.
    assert_err_with(
        r#"{"$or": [{"a": [1]}, {"b": [1]}], "$or": [{"c": [1]}, {"d": [1]}]}"#,
        &three,
        Limit,
        "/$or",
        &["more than 3 branches"],
    );
    assert_err_with(
        r#"{"x": {"$or": [{"a": [1]}, {"b": [1]}]}, "y": {"$or": [{"c": [1]}, {"d": [1]}]}}"#,
        &three,
        Limit,
        "/y",
        &["more than 3 branches"],
    );
}

#[test]
fn limit_pattern_bytes() {
    let small = Limits {
        max_pattern_bytes: 16,
        ..limits()
    };
    let ok = r#"{"a": ["xxxxx"]}"#;
    assert_eq!(ok.len(), 16);
    assert!(Pattern::parse_with(ok, &small).is_ok());
    assert_err_with(
        r#"{"a": ["xxxxxx"]}"#,
        &small,
        Limit,
        "",
        &["17 bytes", "limit of 16"],
    );
    // Checked before the text is even read as JSON.
    assert_err_with("{{{{{{{{{{{{{{{{{{", &small, Limit, "", &["bytes"]);
}

#[test]
fn limit_depth_is_a_limit_error() {
    let shallow = Limits {
        max_depth: 2,
        ..limits()
    };
    assert_err_with(
        r#"{"a": {"b": {"c": ["x"]}}}"#,
        &shallow,
        Limit,
        "",
        &["depth"],
    );
}

#[test]
fn limit_depth_rejects_deep_patterns() {
    let shallow = Limits {
        max_depth: 2,
        ..limits()
    };
    // Root object, array, string: the string is at depth 2.
    assert!(Pattern::parse_with(r#"{"a": ["x"]}"#, &shallow).is_ok());
    let e = err_with(r#"{"a": {"b": ["x"]}}"#, &shallow);
    assert!(e.message().contains("deep"), "{e}");
    // The default (64) bounds recursion: no stack overflow on hostile input.
    let deep = "{\"a\":".repeat(10_000) + "[1]" + &"}".repeat(10_000);
    let e = Pattern::parse_with(
        &deep,
        &Limits {
            max_pattern_bytes: usize::MAX,
            ..limits()
        },
    )
    .unwrap_err();
    assert!(e.message().contains("deep"), "{e}");
    let ok = "{\"a\":".repeat(60) + "[1]" + &"}".repeat(60);
    let p = parse(&ok);
    assert_eq!(
        p.branches()[0].fields[0].path.as_str(),
        vec!["a"; 60].join(".")
    );
}

#[test]
fn limit_values_per_field() {
    let two = Limits {
        max_values_per_field: 2,
        ..limits()
    };
    assert!(Pattern::parse_with(r#"{"a": ["x", "y"]}"#, &two).is_ok());
    assert_err_with(
        r#"{"d": {"a": ["x", "y", "z"]}}"#,
        &two,
        Limit,
        "/d/a",
        &["3 values", "limit of 2"],
    );
    // anything-but items count one by one.
    assert_err_with(
        r#"{"a": [{"anything-but": ["x", "y", "z"]}]}"#,
        &two,
        Limit,
        "/a",
        &["3 values"],
    );
    assert_err_with(
        r#"{"a": ["w", {"anything-but": {"prefix": ["x", "y"]}}]}"#,
        &two,
        Limit,
        "/a",
        &["3 values"],
    );
    assert!(Pattern::parse_with(r#"{"a": [{"anything-but": ["x", "y"]}]}"#, &two).is_ok());
}

#[test]
fn ruleset_applies_its_limits_and_adds_nothing_on_error() {
    let mut rules = RuleSet::with_limits(Limits {
        max_values_per_field: 1,
        ..limits()
    });
    let e = rules.add("r", r#"{"a": [1, 2]}"#).unwrap_err();
    assert_eq!(e.kind(), Limit);
    assert!(rules.is_empty());
    rules.add("r", r#"{"a": [1]}"#).unwrap();
    assert!(matches(r#"{"a": [1]}"#, r#"{"a": 1}"#));
}
