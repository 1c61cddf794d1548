//! Counts matches of a rules file over a JSON Lines file, single-threaded:
//! a minimal harness for profilers (callgrind, perf) that needs only the engine.
//!
//! `cargo run --release --no-default-features --example count_matches -- RULES.json EVENTS.jsonl`
//! RULES.json is a JSON array of {"name", "pattern"} or an object {"name": pattern}.

use ferrule::{MatchScratch, RuleSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules_path, events_path] = args.as_slice() else {
        return Err("usage: count_matches RULES.json EVENTS.jsonl".into());
    };
    let rules_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rules_path)?)?;
    let mut rules = RuleSet::new();
    let pairs: Vec<(String, String)> = match rules_json {
        serde_json::Value::Array(items) => items
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or("").to_string(),
                    r["pattern"].to_string(),
                )
            })
            .collect(),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        _ => return Err("rules must be an array or an object".into()),
    };
    for (name, pattern) in pairs {
        rules.add(&name, &pattern)?;
    }
    let matcher = rules.compile();
    let events = std::fs::read(events_path)?;
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    let (mut n, mut matched, mut matches) = (0usize, 0usize, 0usize);
    for line in events.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        n += 1;
        if matcher.matches_with(line, &mut scratch, &mut out).is_ok() {
            matched += usize::from(!out.is_empty());
            matches += out.len();
        }
    }
    println!("events={n} matched_events={matched} matches={matches}");
    Ok(())
}
