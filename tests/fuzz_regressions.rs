//! Replays every input saved under fuzz/regressions/ through the code its
//! fuzz target exercises. (Speed findings are checked for their outcome:
//! the long wildcards there are valid patterns of low complexity, which an
//! earlier, quadratic complexity check refused as "unbounded".)

use ferrule::{Pattern, RuleSet};

#[test]
fn saved_fuzz_findings_replay_cleanly() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let target = target.expect("entry").path();
        for input in std::fs::read_dir(&target).expect("target dir") {
            let bytes = std::fs::read(input.expect("entry").path()).expect("read");
            match target.file_name().and_then(|n| n.to_str()) {
                Some("pattern_parser") => {
                    let text = std::str::from_utf8(&bytes).expect("saved patterns are UTF-8");
                    let pattern = Pattern::parse(text).expect("a valid pattern");
                    let mut rules = RuleSet::new();
                    rules.add_pattern("p", pattern);
                    let _ = rules.compile().matches(br#"{"a": "x"}"#);
                }
                _ => {
                    let mut rules = RuleSet::new();
                    rules.add("p", r#"{"a": [{"exists": true}]}"#).unwrap();
                    let _ = rules.compile().matches(&bytes);
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 2, "replayed {replayed} saved inputs");
}
