//! Input = pattern text, a 0x00 byte, event bytes.
//!
//! Checks: parsing, compiling and matching never panic; and the answer for
//! the fuzzed rule does not change when other rules are compiled into the
//! same matcher (one on unrelated paths, one on common paths with operators
//! that change how a field's values are fed to the automaton: numeric, cidr,
//! suffix, wildcard, exists:false).
#![no_main]

use ferrule::{Matcher, Pattern, RuleSet};
use libfuzzer_sys::fuzz_target;

const UNRELATED: &str = r#"{"zz-unrelated": {"field": ["value"]}}"#;
const OVERLAPPING: &str = r#"{"$or": [
    {"a": [{"numeric": [">", 0]}, {"cidr": "10.0.0.0/8"}, {"suffix": "z"}]},
    {"b": [{"wildcard": "*x*"}, {"anything-but": {"prefix": "q"}}], "c": [{"exists": false}]},
    {"detail": {"size": [{"numeric": ["<", 100]}], "key": [{"equals-ignore-case": "K"}]}},
    {"source": [{"anything-but": [1, 2]}], "a": {"b": [{"exists": true}]}}
]}"#;

/// Whether rule `name` matches `event` under `m`; `Err` when the event is rejected.
fn answer(m: &Matcher, name: &str, event: &[u8]) -> Result<bool, String> {
    let id = m.id(name).expect("rule is in the matcher");
    m.matches(event)
        .map(|ids| ids.contains(&id))
        .map_err(|e| e.message().to_string())
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (pattern, event) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let Ok(parsed) = Pattern::parse(pattern) else {
        return;
    };

    let mut alone = RuleSet::new();
    alone.add_pattern("fuzz", parsed.clone());
    let alone = alone.compile();
    let expected = answer(&alone, "fuzz", event);

    for (other_name, other) in [("zz-unrelated", UNRELATED), ("aa-overlapping", OVERLAPPING)] {
        let mut both = RuleSet::new();
        both.add_pattern("fuzz", parsed.clone());
        both.add(other_name, other).expect("fixed rule parses");
        let both = both.compile();
        let got = answer(&both, "fuzz", event);
        assert_eq!(
            expected, got,
            "adding rule {other_name} changed the fuzzed rule's answer"
        );
    }
});
