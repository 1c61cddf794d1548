//! `ferrule match`: a rules file against a stream of events.

use std::io::{self, BufRead, Write};
use std::time::Instant;

use super::CliError;
use super::input::{open_lines, read_rules};
use crate::cli::MatchArgs;
use crate::json;
use ferrule::{Matcher, RuleSet};

pub fn run(args: MatchArgs) -> Result<i32, CliError> {
    let MatchArgs {
        rules: rules_path,
        events: events_path,
        threads,
        count,
    } = args;
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let mut rules = RuleSet::new();
    for (name, pattern) in read_rules(&rules_path, rules.limits())? {
        rules.add_pattern(&name, pattern);
    }
    let matcher = rules.compile();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::fail(format!("cannot start {threads} threads: {e}")))?;
    let reader = open_lines(&events_path)?;
    if count {
        let events = read_all(reader, &events_path)?;
        let start = Instant::now();
        let (matched, matches) = pool.install(|| matcher.count_batch(&events));
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "events={} matched_events={matched} matches={matches} seconds={seconds:.6} events_per_second={:.0}",
            events.len(),
            events.len() as f64 / seconds.max(1e-9)
        );
        return Ok(0);
    }
    stream(&matcher, &pool, reader, &events_path)?;
    Ok(0)
}

fn read_all(reader: Box<dyn BufRead>, path: &str) -> Result<Vec<Vec<u8>>, CliError> {
    let mut events = Vec::new();
    for line in reader.split(b'\n') {
        let mut line = line.map_err(|e| CliError::fail(format!("cannot read {path}: {e}")))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            events.push(line);
        }
    }
    Ok(events)
}

/// Matches in chunks so that output starts early and memory stays bounded,
/// keeping input order.
fn stream(
    matcher: &Matcher,
    pool: &rayon::ThreadPool,
    reader: Box<dyn BufRead>,
    path: &str,
) -> Result<(), CliError> {
    const CHUNK: usize = 8192;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut lines = reader.split(b'\n');
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(CHUNK);
    let mut text = String::new();
    loop {
        chunk.clear();
        for line in lines.by_ref() {
            let mut line = line.map_err(|e| CliError::fail(format!("cannot read {path}: {e}")))?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            chunk.push(line);
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let results = pool.install(|| matcher.matches_batch(&chunk));
        for result in results {
            text.clear();
            match result {
                Ok(ids) => {
                    text.push_str("{\"matches\":[");
                    for (i, id) in ids.iter().enumerate() {
                        if i > 0 {
                            text.push(',');
                        }
                        json::write_str(matcher.name(*id), &mut text);
                    }
                    text.push_str("]}\n");
                }
                Err(e) => {
                    text.push_str("{\"error\":");
                    json::write_str(e.message(), &mut text);
                    text.push_str("}\n");
                }
            }
            if let Err(e) = out.write_all(text.as_bytes()) {
                return broken_pipe_is_fine(e);
            }
        }
    }
    out.flush().or_else(broken_pipe_is_fine)
}

fn broken_pipe_is_fine(e: io::Error) -> Result<(), CliError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e.into())
    }
}
