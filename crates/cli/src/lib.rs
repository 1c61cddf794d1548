//! The `ferrule` command line.
//!
//! Its output formats are contracts that other tools rely on; they are
//! described in the README and must stay stable.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod args;
mod bench;
mod input;
mod json;
mod match_cmd;
mod serve;
mod test_pattern;

use std::io::Write;

pub use args::Args;

/// Usage text.
pub const USAGE: &str = "\
ferrule — EventBridge event patterns, compiled and matched fast

USAGE:
  ferrule serve [--listen ADDR] [--data-dir DIR] [--config FILE]
                (default 127.0.0.1:4010 and ./ferrule-data)
  ferrule match --rules RULES --events EVENTS [--threads N] [--count]
  ferrule test-pattern PATTERN EVENT        (JSON text, or @file)
  ferrule test-pattern --jsonl              (lines {\"pattern\":..,\"event\":..} on stdin)
  ferrule bench [--events FILE] [--rules FILE] [--scenario NAME ...] [--threads 1,2]
                [--seconds S] [--lines N] [--smoke] [--list] [--write-citylots FILE]
  ferrule help

RULES is a JSON object {\"name\": pattern}, a JSON array of {\"name\", \"pattern\"}
or JSON Lines of {\"name\", \"pattern\"}; a pattern given as a string is pattern text.
EVENTS is JSON Lines (one event per line), '-' for standard input; .gz is accepted.
";

/// Runs the command line with `args` (without the program name) and returns
/// the process exit status.
pub fn run(args: Vec<String>) -> i32 {
    let mut args = Args::new(args);
    let Some(command) = args.next_positional() else {
        eprint!("{USAGE}");
        return 2;
    };
    let result = match command.as_str() {
        "match" => match_cmd::run(&mut args),
        "test-pattern" => test_pattern::run(&mut args),
        "bench" => bench::run(&mut args),
        "serve" => serve::run(&mut args),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => Err(CliError::usage(format!("unknown command {other:?}"))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{}", e.message);
            if e.usage {
                let _ = write!(std::io::stderr(), "\n{USAGE}");
            }
            e.code
        }
    }
}

/// An error that ends the command.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: i32,
    usage: bool,
}

impl CliError {
    fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 2,
            usage: true,
        }
    }

    fn fail(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 2,
            usage: false,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::fail(format!("I/O error: {e}"))
    }
}
