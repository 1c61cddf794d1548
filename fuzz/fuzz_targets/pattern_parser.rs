//! Arbitrary bytes as pattern text.
//!
//! Checks: `Pattern::parse` never panics; parsing is deterministic; a pattern
//! that parses is also accepted by `RuleSet::add`, compiles, and matching a
//! few fixed events against it never panics.
#![no_main]

use ferrule::{Pattern, RuleSet};
use libfuzzer_sys::fuzz_target;

/// Fixed events with every JSON type, nesting, arrays of objects, numbers in
/// several spellings, IP addresses and non-ASCII text.
const EVENTS: &[&[u8]] = &[
    br#"{"source":"aws.s3","detail-type":"Object Created","region":"eu-west-1","account":"123456789012","time":"2024-01-01T00:00:00Z","detail":{"bucket":{"name":"b"},"object":{"key":"photos/a.PNG","size":5000,"etag":null},"ip":"10.0.0.7","flags":[true,false],"tags":[{"k":"a","v":1},{"k":"b","v":2.5e1}]}}"#,
    br#"{"a":{"b":{"c":[1,"1",-0.0,1e2,12345678901234567890,{"d":"x"}]}},"x":"","y":null,"z":[],"w":{},"n":-3.25,"s":"Stra\u00dfe \u00e9\ud83d\ude00","ip6":"2001:DB8::1"}"#,
    br#"{}"#,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = Pattern::parse(text);
    let second = Pattern::parse(text);
    assert_eq!(first, second, "Pattern::parse is not deterministic");
    if first.is_err() {
        return;
    }
    let mut rules = RuleSet::new();
    rules
        .add("fuzz", text)
        .expect("Pattern::parse accepted the text but RuleSet::add rejected it");
    let matcher = rules.compile();
    for event in EVENTS {
        let _ = matcher.matches(event);
    }
});
