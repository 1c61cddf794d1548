//! Reading rules files and event streams.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use super::CliError;
use crate::Pattern;
use crate::pattern::Limits;
use crate::util::json::{self, Json};

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
    let records: Vec<(String, Json)> = match json::parse(&text, 256) {
        Ok(Json::Object(members)) if is_record(&members) => {
            vec![record(&Json::Object(members), 1)?]
        }
        Ok(Json::Object(members)) => members,
        Ok(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| record(item, i + 1))
            .collect::<Result<_, _>>()?,
        Ok(other) => {
            return Err(CliError::fail(format!(
                "{path}: a rules file must be a JSON object, an array or JSON Lines, not {}",
                other.type_name()
            )));
        }
        Err(whole) => {
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let item = json::parse(line, 256).map_err(|e| {
                    if n == 0 {
                        CliError::fail(format!("{path}: not JSON or JSON Lines: {whole}"))
                    } else {
                        CliError::fail(format!("{path}: line {}: {e}", n + 1))
                    }
                })?;
                out.push(record(&item, n + 1)?);
            }
            out
        }
    };
    records
        .into_iter()
        .map(|(name, value)| {
            pattern_of(&value, limits)
                .map(|p| (name.clone(), p))
                .map_err(|e| CliError::fail(format!("rule {name}: {e}")))
        })
        .collect()
}

fn is_record(members: &[(String, Json)]) -> bool {
    members.len() == 2
        && members
            .iter()
            .any(|(k, v)| k == "name" && matches!(v, Json::String(_)))
        && members.iter().any(|(k, _)| k == "pattern")
}

fn record(item: &Json, n: usize) -> Result<(String, Json), CliError> {
    let Json::Object(members) = item else {
        return Err(CliError::fail(format!(
            "rule #{n}: expected an object with \"name\" and \"pattern\""
        )));
    };
    let name = members.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("name", Json::String(s)) => Some(s.clone()),
        _ => None,
    });
    let pattern = members
        .iter()
        .find(|(k, _)| k == "pattern")
        .map(|(_, v)| v.clone());
    match (name, pattern) {
        (Some(name), Some(pattern)) => Ok((name, pattern)),
        _ => Err(CliError::fail(format!(
            "rule #{n}: expected an object with a string \"name\" and a \"pattern\""
        ))),
    }
}

/// A pattern given as JSON (a string is pattern text).
pub fn pattern_of(value: &Json, limits: &Limits) -> Result<Pattern, crate::PatternError> {
    match value {
        Json::String(text) => Pattern::parse_with(text, limits),
        other => {
            let mut text = String::new();
            json::write(other, &mut text);
            Pattern::parse_with(&text, limits)
        }
    }
}

/// Reads `@file` or returns the text itself.
pub fn text_or_file(arg: &str) -> Result<String, CliError> {
    match arg.strip_prefix('@') {
        Some(path) => read_text(path),
        None => Ok(arg.to_string()),
    }
}
