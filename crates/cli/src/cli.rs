//! The command line's grammar (clap derive): every command, flag and help text.
//!
//! The flags and their forms are contracts (README "The command line"): a
//! flag takes `--flag VALUE` or `--flag=VALUE`, lists are comma-separated,
//! `--scenario` may be repeated.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Every command with its flags, under the top-level help.
const SYNOPSIS: &str = "\
Synopsis:
  ferrule serve [--listen ADDR] [--data-dir DIR] [--config FILE]
  ferrule match --rules RULES --events EVENTS [--threads N] [--count]
  ferrule test-pattern PATTERN EVENT        (JSON text, or @file)
  ferrule test-pattern --jsonl              (lines {\"pattern\":..,\"event\":..} on stdin)
  ferrule bench [--events FILE] [--rules FILE] [--scenario NAME ...] [--threads 1,2]
                [--seconds S] [--lines N] [--smoke] [--list] [--write-citylots FILE]

Run `ferrule <COMMAND> --help` for a command's flags and formats.";

/// The `ferrule` command line.
#[derive(Debug, Parser)]
#[command(
    name = "ferrule",
    version,
    about = "ferrule — EventBridge event patterns, compiled and matched fast",
    long_about = "ferrule — EventBridge event patterns, compiled and matched fast.\n\n\
                  An event router modelled on Amazon EventBridge: `serve` runs the \
                  EventBridge- and SQS-compatible server; `match`, `test-pattern` and \
                  `bench` test and measure event patterns.",
    after_help = SYNOPSIS,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the EventBridge- and SQS-compatible server (AWS JSON protocols; boto3 and the aws CLI
    /// work unchanged)
    Serve(ServeArgs),
    /// Match a rules file against a stream of events: one line of matching rule names per event
    #[command(long_about = "Match a rules file against a stream of events.\n\n\
                      Prints one line per event, in input order: {\"matches\":[\"rule-a\",\"rule-b\"]} \
                      with names sorted; a line that is not a valid event gives {\"error\":\"...\"} \
                      and matching goes on. An invalid rule stops the load: exit status 2 and \
                      `rule NAME: reason` on standard error.")]
    Match(MatchArgs),
    /// Test one pattern against one event: prints true or false
    #[command(
        long_about = "Test one pattern against one event: prints true or false (exit status 2 \
                      with the reason for an invalid pattern or event).\n\n\
                      With --jsonl, reads lines {\"pattern\": ..., \"event\": ...} on standard \
                      input (a string value is raw JSON text; other members are ignored) and \
                      writes one line each: {\"result\":true|false} or \
                      {\"error\":{\"code\":\"InvalidEventPattern\"|\"InvalidEvent\",\"message\":\"...\"}}."
    )]
    TestPattern(TestPatternArgs),
    /// Benchmark the named scenarios: events per second per scenario and thread count
    #[command(
        long_about = "Benchmark the named scenarios (a rule set over an event set): events per \
                      CPU-second per scenario and thread count, for ferrule validated and trusted, \
                      quamina side by side, and the reading and parsing baselines.\n\n\
                      Results go to standard output; on a terminal, progress is shown on \
                      standard error. Exit status 1 if an engine gives a wrong answer."
    )]
    Bench(BenchArgs),
}

/// `ferrule serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT
    #[arg(long, value_name = "ADDR", default_value = crate::serve::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Directory of the durable store (redb; created if missing)
    #[arg(long, value_name = "DIR", default_value = "ferrule-data")]
    pub data_dir: PathBuf,
    /// Config file (JSON, applied at start; see examples/ferrule.json): account, region,
    /// credentials, limits, queues, buses, rules and targets [default: none]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `ferrule match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Rules file: a JSON object {"name": pattern, ...}, a JSON array [{"name": ..., "pattern":
    /// ...}] or JSON Lines of {"name": ..., "pattern": ...}; a pattern given as a JSON string is
    /// pattern text. `-` reads standard input; .gz is accepted
    #[arg(long, value_name = "RULES")]
    pub rules: String,
    /// Events: JSON Lines, one event per line (blank lines are skipped); `-` reads standard
    /// input; .gz is accepted
    #[arg(long, value_name = "EVENTS")]
    pub events: String,
    /// Threads to match on [default: all cores]
    #[arg(long, value_name = "N", value_parser = positive_usize)]
    pub threads: Option<usize>,
    /// Print one summary line instead: events=N matched_events=M matches=K seconds=S
    /// events_per_second=R (the events are read into memory first; seconds times the matching
    /// alone)
    #[arg(long)]
    pub count: bool,
}

/// `ferrule test-pattern`.
#[derive(Debug, Args)]
pub struct TestPatternArgs {
    /// The event pattern: JSON text, or @FILE to read it from a file
    #[arg(
        value_name = "PATTERN",
        required_unless_present = "jsonl",
        conflicts_with = "jsonl",
        allow_negative_numbers = true
    )]
    pub pattern: Option<String>,
    /// The event: JSON text, or @FILE to read it from a file
    #[arg(
        value_name = "EVENT",
        required_unless_present = "jsonl",
        allow_negative_numbers = true
    )]
    pub event: Option<String>,
    /// Read test cases {"pattern": ..., "event": ...} as JSON Lines on standard input and write
    /// one result line each
    #[arg(long)]
    pub jsonl: bool,
}

/// `ferrule bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Citylots-shaped events (JSON Lines, .gz accepted) instead of the generated ones
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,
    /// A rules file (the forms of `ferrule match --rules`), measured as the extra scenario
    /// `rules-file` over the citylots events; the other scenarios keep their own rules
    #[arg(long, value_name = "FILE")]
    pub rules: Option<String>,
    /// Scenarios to run: names, comma-separated or repeated; NAME* selects by prefix (e.g.
    /// 'op-*') [default: all; see --list]
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Thread counts, comma-separated (e.g. 1,2) [default: 1 and the number of cores]
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = positive_usize)]
    pub threads: Vec<usize>,
    /// Seconds of timing per engine (each mode, quamina, each baseline), scenario and
    /// thread count; the engines of a scenario take turns pass by pass
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Citylots lines to generate [default: 50000, or 1000 with --smoke; with
    /// --write-citylots: 206560]
    #[arg(long, value_name = "N", value_parser = positive_usize)]
    pub lines: Option<usize>,
    /// Run every scenario once on small data (a check that all runs, not a measurement)
    #[arg(long)]
    pub smoke: bool,
    /// Turn on the trusted reader's early stop (`Matcher::with_early_stop`)
    /// for every matcher (it changes the trusted column only)
    #[arg(long)]
    pub early_stop: bool,
    /// List the scenarios (name, event set, description) and exit
    #[arg(long)]
    pub list: bool,
    /// Write the generated citylots lines to FILE (`-`: standard output) and exit
    #[arg(long, value_name = "FILE")]
    pub write_citylots: Option<String>,
}

/// A whole number above zero (surrounding spaces allowed, as in `1, 2`).
fn positive_usize(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "needs a positive whole number".to_string())
}

/// A finite number of seconds above zero.
fn positive_seconds(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| "needs a positive number of seconds".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("ferrule").chain(args.iter().copied()))
    }

    #[test]
    fn bench_lists_are_comma_separated_and_repeatable() {
        let Command::Bench(b) = parse(&[
            "bench",
            "--scenario",
            "exact-1,op-*",
            "--scenario=rules-1k",
            "--threads",
            "1, 2",
        ])
        .unwrap()
        .command
        else {
            panic!("not bench");
        };
        assert_eq!(b.scenario, ["exact-1", "op-*", "rules-1k"]);
        assert_eq!(b.threads, [1, 2]);
        assert_eq!(b.seconds, 1.0);
        assert_eq!(b.lines, None);
    }

    #[test]
    fn numbers_must_be_positive() {
        for args in [
            &["bench", "--threads", "0"][..],
            &["bench", "--threads", "1,x"],
            &["bench", "--seconds", "0"],
            &["bench", "--seconds", "inf"],
            &["bench", "--lines", "-3"],
            &["match", "--rules", "r", "--events", "e", "--threads", "0"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn test_pattern_needs_both_or_jsonl() {
        assert!(parse(&["test-pattern", "{}"]).is_err());
        assert!(parse(&["test-pattern", "--jsonl", "{}"]).is_err());
        let Command::TestPattern(t) = parse(&["test-pattern", "{}", "-1"]).unwrap().command else {
            panic!("not test-pattern");
        };
        assert_eq!(t.event.as_deref(), Some("-1"));
        assert!(matches!(
            parse(&["test-pattern", "--jsonl"]).unwrap().command,
            Command::TestPattern(TestPatternArgs { jsonl: true, .. })
        ));
    }

    #[test]
    fn serve_defaults() {
        let Command::Serve(s) = parse(&["serve"]).unwrap().command else {
            panic!("not serve");
        };
        assert_eq!(s.listen.to_string(), "127.0.0.1:4010");
        assert_eq!(s.data_dir, PathBuf::from("ferrule-data"));
        assert!(s.config.is_none());
        let e = parse(&["serve", "--listen", "not-an-address"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--listen"), "{e}");
    }
}
