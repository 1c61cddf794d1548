//! Matches one `ferrule bench` scenario's events in a loop on one thread,
//! for instruction counts: the README's callgrind figures come from it.
//!
//! ```sh
//! cargo build --release --example scenario_loop
//! for passes in 1 2; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/scenario_loop rules-10k trusted $passes 20000
//! done
//! ```
//!
//! Instructions per event: (the 2-pass total − the 1-pass total) ÷ lines,
//! which cancels the cost of generating the data and compiling the rules.
//! Add `--early-stop` to turn on the trusted reader's early stop.

use ferrule::{MatchScratch, ReadMode, RuleSet};
use ferrule_benchdata::BenchData;

const USAGE: &str = "usage: scenario_loop SCENARIO validated|trusted PASSES LINES [--early-stop]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (early_stop, args): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.as_str() == "--early-stop");
    let [name, mode, passes, lines] = args.as_slice() else {
        return Err(USAGE.into());
    };
    let mode = match mode.as_str() {
        "validated" => ReadMode::Validated,
        "trusted" => ReadMode::Trusted,
        _ => return Err(USAGE.into()),
    };
    let passes: usize = passes.parse().map_err(|_| USAGE)?;
    let lines: usize = lines.parse().map_err(|_| USAGE)?;
    let data = BenchData::generate(lines);
    let scenario = data
        .scenarios()
        .into_iter()
        .find(|s| &s.name == *name)
        .ok_or_else(|| format!("no scenario {name} (see `ferrule bench --list`)"))?;
    let mut rules = RuleSet::new();
    for rule in &scenario.rules {
        rules.add(&rule.name, &rule.pattern)?;
    }
    let matcher = rules.compile().with_early_stop(!early_stop.is_empty());
    let events = data.events(scenario.events);
    let (mut scratch, mut out) = (MatchScratch::default(), Vec::new());
    let mut matches = 0usize;
    for _ in 0..passes {
        for event in events {
            matcher.matches_with_mode(event, mode, &mut scratch, &mut out)?;
            matches += out.len();
        }
    }
    println!("{} events, {matches} matches", events.len() * passes);
    Ok(())
}
