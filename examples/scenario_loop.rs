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
//! Add `--early-stop` to turn on the trusted reader's early stop, and
//! `--time` to print the fastest pass's thread-CPU nanoseconds per event
//! (the minimum over passes: on a shared machine the other tenants only ever
//! add time, so the fastest pass is the least disturbed one).

use ferrule::{MatchScratch, ReadMode, RuleSet};
use ferrule_benchdata::BenchData;

const USAGE: &str =
    "usage: scenario_loop SCENARIO validated|trusted PASSES LINES [--early-stop] [--time]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (flags, args): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.starts_with("--"));
    let (mut early_stop, mut time) = (false, false);
    for flag in flags {
        match flag.as_str() {
            "--early-stop" => early_stop = true,
            "--time" => time = true,
            _ => return Err(USAGE.into()),
        }
    }
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
    let matcher = rules.compile().with_early_stop(early_stop);
    let events = data.events(scenario.events);
    let (mut scratch, mut out) = (MatchScratch::default(), Vec::new());
    let mut matches = 0usize;
    let clock = ferrule_benchdata::timing::thread_cpu_ns;
    // Read only with --time: the instruction counts stay those of matching.
    let mut fastest: Option<u64> = None;
    for _ in 0..passes {
        let start = if time { clock() } else { None };
        for event in events {
            matcher.matches_with_mode(event, mode, &mut scratch, &mut out)?;
            matches += out.len();
        }
        if let Some(pass) = start.and_then(|start| Some(clock()?.saturating_sub(start))) {
            fastest = Some(fastest.map_or(pass, |f| f.min(pass)));
        }
    }
    println!("{} events, {matches} matches", events.len() * passes);
    if time {
        let fastest = fastest.ok_or("no pass timed (PASSES 0, or no CPU clock)")?;
        println!(
            "fastest pass: {} ns/event",
            fastest / events.len().max(1) as u64
        );
    }
    Ok(())
}
