//! The on-demand event reader against the full-parse oracle (simd-json onto
//! a tape), in both reading modes, on arbitrary bytes.
//!
//! The first byte chooses the shape: the bytes as the event, or the bytes
//! placed as the value of a member no rule reads (`{"skip": DATA, ...}`) or
//! inside an array an entered path holds, so that invalid JSON in a skipped
//! region is exercised as much as at the top; or among coordinates whose
//! field has a number sieve (the reader records only the numbers some rule
//! of the field may take), or inside an array of a field whose sieve holds
//! only texts (the trusted reader passes over such an array whole when no
//! text occurs in it).
//!
//! Checks: validated matching gives the oracle's answer (the same ids, or an
//! error for both; the oracle alone rejects numbers beyond the f64 range,
//! which are valid JSON); when the validated mode accepts, the trusted mode
//! gives the same ids, with and without the early stop; the trusted mode
//! never panics on anything.
#![no_main]

use ferrule::{MatchScratch, ReadMode};
use libfuzzer_sys::fuzz_target;

#[path = "shared_rules.rs"]
mod shared_rules;
use shared_rules::{early_stop_matcher, matcher};

fuzz_target!(|input: &[u8]| {
    let Some((&shape, data)) = input.split_first() else {
        return;
    };
    let event: Vec<u8> = match shape % 6 {
        0 => data.to_vec(),
        1 => [&br#"{"source": "aws.s3", "skip": "#[..], data, br#", "region": "eu-west-1"}"#].concat(),
        2 => [&br#"{"detail": {"size": 5, "noise": "#[..], data, br#"}, "a": {"b": "x"}}"#].concat(),
        3 => [&br#"{"employees": [{"first": "Anna"}, "#[..], data, br#"], "n": 3}"#].concat(),
        4 => [&br#"{"geometry": {"coordinates": [[-122.418261722815416, 37.807807921694092, "#[..], data, br#"]]}}"#].concat(),
        _ => [&br#"{"geometry": {"points": [[1.5, "#[..], data, br#"]]}, "source": "aws.s3"}"#].concat(),
    };
    let m = matcher();
    let (mut s1, mut s2, mut s3) = (
        MatchScratch::default(),
        MatchScratch::default(),
        MatchScratch::default(),
    );
    let (mut validated, mut trusted, mut oracle) = (Vec::new(), Vec::new(), Vec::new());
    let v = m.matches_with(&event, &mut s1, &mut validated);
    let t = m.matches_with_mode(&event, ReadMode::Trusted, &mut s2, &mut trusted);
    let mut stopped = Vec::new();
    let ts = early_stop_matcher().matches_with_mode(&event, ReadMode::Trusted, &mut s2, &mut stopped);
    let o = m.matches_full_parse_with(&event, &mut s3, &mut oracle);
    match (&v, &o) {
        (Ok(()), Ok(())) => assert_eq!(validated, oracle, "validated reader differs from the oracle"),
        (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) if e.message().contains("InvalidNumber") => {}
        _ => panic!("validated {v:?} but oracle {o:?}"),
    }
    if v.is_ok() {
        assert!(t.is_ok(), "trusted rejected a valid event: {t:?}");
        assert_eq!(trusted, validated, "trusted differs from validated");
        assert!(ts.is_ok(), "trusted with early stop rejected a valid event: {ts:?}");
        assert_eq!(stopped, validated, "trusted with early stop differs from validated");
    }
});
