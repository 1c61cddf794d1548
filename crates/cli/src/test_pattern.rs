//! `ferrule test-pattern`: does one pattern match one event?

use std::io::{self, BufRead, Write};

use super::CliError;
use super::input::text_or_file;
use crate::cli::TestPatternArgs;
use ferrule::{Pattern, RuleSet};
use serde_json::value::RawValue;

use crate::json::{self, Members, text_of};

pub fn run(args: TestPatternArgs) -> Result<i32, CliError> {
    let (pattern, event) = match args {
        TestPatternArgs { jsonl: true, .. } => return jsonl(),
        TestPatternArgs {
            pattern: Some(pattern),
            event: Some(event),
            ..
        } => (pattern, event),
        // clap requires both unless --jsonl.
        _ => return Err(CliError::fail("test-pattern needs PATTERN and EVENT")),
    };
    let pattern = Pattern::parse(&text_or_file(&pattern)?)
        .map_err(|e| CliError::fail(format!("invalid pattern: {e}")))?;
    let event = text_or_file(&event)?;
    match test(pattern, event.as_bytes()) {
        Ok(result) => {
            println!("{result}");
            Ok(0)
        }
        Err(e) => Err(CliError::fail(format!("invalid event: {e}"))),
    }
}

fn test(pattern: Pattern, event: &[u8]) -> Result<bool, ferrule::EventError> {
    let mut rules = RuleSet::new();
    rules.add_pattern("p", pattern);
    Ok(!rules.compile().matches(event)?.is_empty())
}

/// One case per line: `{"pattern": .., "event": ..}` → `{"result": bool}` or
/// `{"error": {"code": .., "message": ..}}`.
fn jsonl() -> Result<i32, CliError> {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut line_text = String::new();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        line_text.clear();
        match case(&line) {
            Ok(result) => {
                line_text.push_str(if result {
                    "{\"result\":true}\n"
                } else {
                    "{\"result\":false}\n"
                });
            }
            Err((code, message)) => {
                line_text.push_str("{\"error\":{\"code\":\"");
                line_text.push_str(code);
                line_text.push_str("\",\"message\":");
                json::write_str(&message, &mut line_text);
                line_text.push_str("}}\n");
            }
        }
        out.write_all(line_text.as_bytes())?;
    }
    out.flush()?;
    Ok(0)
}

fn case(line: &str) -> Result<bool, (&'static str, String)> {
    let invalid_event = |m: String| ("InvalidEvent", m);
    let item = serde_json::from_str::<&RawValue>(line)
        .map_err(|e| ("InvalidEvent", format!("the line is not JSON: {e}")))?;
    let Ok(Members(members)) = serde_json::from_str::<Members>(item.get()) else {
        return Err(invalid_event(
            "a line must be an object with \"pattern\" and \"event\"".into(),
        ));
    };
    let field = |name: &str| {
        members
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    };
    let pattern = field("pattern").ok_or_else(|| {
        (
            "InvalidEventPattern",
            "the line has no \"pattern\"".to_string(),
        )
    })?;
    let pattern = Pattern::parse_with(&text_of(pattern), &Default::default())
        .map_err(|e| ("InvalidEventPattern", e.to_string()))?;
    let event = field("event").ok_or_else(|| invalid_event("the line has no \"event\"".into()))?;
    test(pattern, text_of(event).as_bytes()).map_err(|e| invalid_event(e.to_string()))
}
