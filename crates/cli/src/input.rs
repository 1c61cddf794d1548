//! Reading rules files and event streams.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use ferrule::{Limits, Pattern};
use serde_json::value::RawValue;

use crate::CliError;
use crate::json::{Members, is_string, text_of, type_name};

/// Opens `path` for reading lines: `-` is standard input, `.gz` is gunzipped.
pub fn open_lines(path: &str) -> Result<Box<dyn BufRead>, CliError> {
    if path == "-" {
        return Ok(Box::new(BufReader::with_capacity(1 << 20, io::stdin())));
    }
    let file = File::open(path).map_err(|e| CliError::fail(format!("cannot open {path}: {e}")))?;
    if path.ends_with(".gz") {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }
}

/// Reads a whole file (`-`: standard input, `.gz`: gunzipped) as text.
pub fn read_text(path: &str) -> Result<String, CliError> {
    let mut text = String::new();
    open_lines(path)?
        .read_to_string(&mut text)
        .map_err(|e| CliError::fail(format!("cannot read {path}: {e}")))?;
    Ok(text)
}

/// Reads a rules file into (name, pattern) pairs, in file order.
///
/// Accepted forms: `{"name": pattern, ...}`; `[{"name": .., "pattern": ..}, ...]`;
/// JSON Lines of `{"name": .., "pattern": ..}`. A pattern that is a JSON
/// string is pattern text. Errors are `rule NAME: reason`.
pub fn read_rules(path: &str, limits: &Limits) -> Result<Vec<(String, Pattern)>, CliError> {
    let text = read_text(path)?;
    let records: Vec<(String, String)> = match serde_json::from_str::<&RawValue>(&text) {
        Ok(whole) if whole.get().starts_with('{') => {
            let Members(members) = members(whole, 1)?;
            if is_record(&members) {
                vec![record(whole, 1)?]
            } else {
                members.into_iter().map(|(k, v)| (k, text_of(v))).collect()
            }
        }
        Ok(whole) if whole.get().starts_with('[') => {
            let items: Vec<&RawValue> = serde_json::from_str(whole.get())
                .map_err(|e| CliError::fail(format!("{path}: {e}")))?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| record(item, i + 1))
                .collect::<Result<_, _>>()?
        }
        Ok(other) => {
            return Err(CliError::fail(format!(
                "{path}: a rules file must be a JSON object, an array or JSON Lines, not {}",
                type_name(other)
            )));
        }
        Err(whole) => {
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let item = serde_json::from_str::<&RawValue>(line).map_err(|e| {
                    if n == 0 {
                        CliError::fail(format!("{path}: not JSON or JSON Lines: {whole}"))
                    } else {
                        CliError::fail(format!("{path}: line {}: {e}", n + 1))
                    }
                })?;
                out.push(record(item, n + 1)?);
            }
            out
        }
    };
    records
        .into_iter()
        .map(|(name, pattern)| {
            Pattern::parse_with(&pattern, limits)
                .map(|p| (name.clone(), p))
                .map_err(|e| CliError::fail(format!("rule {name}: {e}")))
        })
        .collect()
}

fn members(value: &RawValue, n: usize) -> Result<Members<'_>, CliError> {
    serde_json::from_str(value.get()).map_err(|_| {
        CliError::fail(format!(
            "rule #{n}: expected an object with \"name\" and \"pattern\""
        ))
    })
}

fn is_record(members: &[(String, &RawValue)]) -> bool {
    members.len() == 2
        && members.iter().any(|(k, v)| k == "name" && is_string(v))
        && members.iter().any(|(k, _)| k == "pattern")
}

/// A `{"name": .., "pattern": ..}` record: the name and the pattern text.
fn record(item: &RawValue, n: usize) -> Result<(String, String), CliError> {
    let Members(members) = members(item, n)?;
    let name = members
        .iter()
        .find(|(k, v)| k == "name" && is_string(v))
        .map(|(_, v)| text_of(v));
    let pattern = members
        .iter()
        .find(|(k, _)| k == "pattern")
        .map(|(_, v)| text_of(v));
    match (name, pattern) {
        (Some(name), Some(pattern)) => Ok((name, pattern)),
        _ => Err(CliError::fail(format!(
            "rule #{n}: expected an object with a string \"name\" and a \"pattern\""
        ))),
    }
}

/// Reads `@file` or returns the text itself.
pub fn text_or_file(arg: &str) -> Result<String, CliError> {
    match arg.strip_prefix('@') {
        Some(path) => read_text(path),
        None => Ok(arg.to_string()),
    }
}
