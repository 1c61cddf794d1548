//! One test per row of DEVIATIONS.md: where ferrule deliberately differs
//! from aws/event-ruler.

use ferrule::{Pattern, PatternErrorKind, RuleSet};

fn matches(pattern: &str, event: &str) -> bool {
    let mut rules = RuleSet::new();
    rules.add("r", pattern).expect("valid pattern");
    !rules
        .compile()
        .matches(event.as_bytes())
        .expect("valid event")
        .is_empty()
}

#[test]
fn row1_ignore_case_handles_emoji() {
    let p = r#"{"a": [{"equals-ignore-case": "😀A"}]}"#;
    assert!(matches(p, r#"{"a": "😀a"}"#));
    assert!(!matches(p, r#"{"a": "??a"}"#));
    assert!(matches(
        r#"{"a": [{"prefix": {"equals-ignore-case": "😀x"}}]}"#,
        r#"{"a": "😀X-tail"}"#
    ));
    assert!(!matches(
        r#"{"a": [{"anything-but": {"equals-ignore-case": "😀"}}]}"#,
        r#"{"a": "😀"}"#
    ));
}

#[test]
fn row2_case_folding_is_symmetric() {
    let kelvin = r#"{"a": [{"equals-ignore-case": "\u212a"}]}"#;
    assert!(matches(kelvin, r#"{"a": "k"}"#));
    assert!(matches(kelvin, r#"{"a": "K"}"#));
    assert!(matches(
        r#"{"a": [{"equals-ignore-case": "K"}]}"#,
        r#"{"a": "\u212a"}"#
    ));
    assert!(!matches(
        r#"{"a": [{"equals-ignore-case": "ß"}]}"#,
        r#"{"a": "SS"}"#
    ));
    assert!(!matches(
        r#"{"a": [{"equals-ignore-case": "SS"}]}"#,
        r#"{"a": "ß"}"#
    ));
}

#[test]
fn row3_single_address_cidrs_are_accepted() {
    assert!(matches(
        r#"{"ip": [{"cidr": "10.0.0.7/32"}]}"#,
        r#"{"ip": "10.0.0.7"}"#
    ));
    assert!(!matches(
        r#"{"ip": [{"cidr": "10.0.0.7/32"}]}"#,
        r#"{"ip": "10.0.0.8"}"#
    ));
    assert!(matches(
        r#"{"ip": [{"cidr": "2001:db8::1/128"}]}"#,
        r#"{"ip": "2001:DB8::1"}"#
    ));
    assert!(!matches(
        r#"{"ip": [{"cidr": "2001:db8::1/128"}]}"#,
        r#"{"ip": "2001:db8::2"}"#
    ));
}

#[test]
fn row4_trailing_text_is_rejected() {
    let e = Pattern::parse(r#"{"a": [1]} trailing"#).unwrap_err();
    assert_eq!(e.kind(), PatternErrorKind::Syntax);
}

#[test]
fn row5_exactly_is_unknown() {
    let e = Pattern::parse(r#"{"a": [{"exactly": "x"}]}"#).unwrap_err();
    assert_eq!(e.kind(), PatternErrorKind::Operator);
    assert!(e.message().contains("unknown operator"), "{e}");
}

#[test]
fn row6_or_is_not_a_field_name() {
    assert!(Pattern::parse(r#"{"$or": {"a": ["x"]}}"#).is_err());
    assert!(Pattern::parse(r#"{"$or": [{"cidr": "10.0.0.0/24"}]}"#).is_err());
}

#[test]
fn row7_empty_anything_but_operator_lists_are_rejected() {
    for op in ["prefix", "suffix", "equals-ignore-case", "wildcard"] {
        let text = format!(r#"{{"a": [{{"anything-but": {{"{op}": []}}}}]}}"#);
        assert!(Pattern::parse(&text).is_err(), "{op}");
    }
}

#[test]
fn row8_complex_wildcards_are_refused() {
    assert!(Pattern::parse(r#"{"a": [{"wildcard": "x*bbbbbb"}]}"#).is_ok());
    let e = Pattern::parse(r#"{"a": [{"wildcard": "*a*a*a*a*a*"}]}"#).unwrap_err();
    assert_eq!(e.kind(), PatternErrorKind::Limit);
    assert!(e.message().contains("too complex"), "{e}");
}

#[test]
fn row9_shortest_round_trip_numbers_are_comparable() {
    assert!(matches(
        r#"{"n": [1e23]}"#,
        r#"{"n": 100000000000000000000000}"#
    ));
    assert!(matches(
        r#"{"n": [{"numeric": ["=", 1e23]}]}"#,
        r#"{"n": 1.0e23}"#
    ));
}

#[test]
fn row10_lone_surrogates_in_events_are_invalid() {
    let mut rules = RuleSet::new();
    rules.add("r", r#"{"a": [{"exists": true}]}"#).unwrap();
    assert!(rules.compile().matches(br#"{"a": "\ud800"}"#).is_err());
    // In patterns it becomes U+FFFD.
    assert!(Pattern::parse(r#"{"a": ["\ud800"]}"#).is_ok());
}

#[test]
fn row11_very_deep_events_are_rejected() {
    let mut rules = RuleSet::new();
    rules.add("r", r#"{"a": [{"exists": true}]}"#).unwrap();
    let m = rules.compile();
    let deep = format!(
        "{{\"a\": 1, \"b\": {}{}}}",
        "[".repeat(600),
        "]".repeat(600)
    );
    assert!(m.matches(deep.as_bytes()).is_err());
    let ok = format!(
        "{{\"a\": 1, \"b\": {}{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(!m.matches(ok.as_bytes()).unwrap().is_empty());
}

#[test]
fn row12_errors_carry_a_pointer() {
    let e = Pattern::parse(r#"{"detail": {"size": [{"numeric": [">", "x"]}]}}"#).unwrap_err();
    assert_eq!(e.pointer(), "/detail/size/0/numeric/1");
}
