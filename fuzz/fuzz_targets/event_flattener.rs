//! Arbitrary bytes as an event, matched against a fixed rule set that uses
//! every operator on many (nested, overlapping) paths.
//!
//! Checks: matching never panics; `matches_batch` equals `matches` one by
//! one; `matches_with` with a fresh scratch equals `matches` (which reuses a
//! thread-local scratch across fuzz iterations); a successful result is
//! sorted, without duplicates, and only names rules of this matcher.
#![no_main]

use ferrule::MatchScratch;
use libfuzzer_sys::fuzz_target;

#[path = "shared_rules.rs"]
mod shared_rules;
use shared_rules::matcher;

fuzz_target!(|data: &[u8]| {
    let m = matcher();
    let single = m.matches(data);
    if let Ok(ids) = &single {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids not sorted/unique: {ids:?}"
        );
        assert!(ids.iter().all(|id| id.index() < m.rule_count()));
    }
    let again = m.matches(data);
    assert_eq!(single, again, "matches is not deterministic");

    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    let fresh = m.matches_with(data, &mut scratch, &mut out).map(|()| out);
    assert_eq!(single, fresh, "fresh scratch differs from reused scratch");

    let batch = m.matches_batch(&[data, data]);
    assert_eq!(batch, vec![single.clone(), single], "matches_batch differs");
});
