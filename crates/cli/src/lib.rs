//! The `ferrule` command line.
//!
//! Its flags and output formats are contracts that other tools rely on; they
//! are described in the README ("The command line") and must stay stable.
//! The grammar is [`Cli`] (clap derive); `ferrule --help` prints it.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod bench;
mod cli;
mod input;
mod json;
mod match_cmd;
mod progress;
mod serve;
mod test_pattern;

use std::ffi::OsString;

use clap::Parser;

pub use cli::{BenchArgs, Cli, Command, MatchArgs, ServeArgs, TestPatternArgs};

/// Runs the command line on `args` (the program name first, as in
/// [`std::env::args_os`]) and returns the process exit status: 0 on success
/// (and for `--help`, `--version`), 2 for a usage error or a failure, 1 when
/// `bench` finds a wrong answer.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => execute(cli),
        // Help and version go to standard output with status 0, usage errors
        // to standard error with status 2 (clap's conventions).
        Err(e) => {
            let _ = e.print();
            e.exit_code()
        }
    }
}

/// Runs a parsed command line and returns the process exit status.
pub fn execute(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Match(args) => match_cmd::run(args),
        Command::TestPattern(args) => test_pattern::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(CliError::Usage(e)) => {
            let _ = e.print();
            e.exit_code()
        }
        Err(CliError::Fail(message)) => {
            eprintln!("{message}");
            2
        }
    }
}

/// An error that ends the command.
#[derive(Debug)]
enum CliError {
    /// A bad argument found after parsing (an unknown scenario name),
    /// reported in clap's format.
    Usage(clap::Error),
    /// The command failed: the message goes to standard error as it is
    /// (`rule NAME: reason` is a contract), with exit status 2.
    Fail(String),
}

impl CliError {
    fn fail(message: impl Into<String>) -> CliError {
        CliError::Fail(message.into())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::fail(format!("I/O error: {e}"))
    }
}
