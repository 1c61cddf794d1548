//! `anything-but`: the complement of a list of values or of an operator.

use super::operator::{comparable_key, operator_error, string_operand, wildcard};
use super::{Limits, PatternError, Wildcard};
use crate::util::casefold;
use crate::util::json::{Json, pointer_push};

/// What an `anything-but` excludes. A value of another JSON type than the
/// excluded items is never excluded: `{"anything-but": "x"}` matches numbers
/// and `null`, `{"anything-but": [1]}` matches strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum AnythingBut {
    /// Strings equal to any of these.
    Strings(Vec<String>),
    /// Numbers (comparable, by order-preserving key) equal to any of these.
    Numbers(Vec<u64>),
    /// Strings starting with any of these.
    Prefixes(Vec<String>),
    /// Strings ending with any of these.
    Suffixes(Vec<String>),
    /// Strings equal to any of these, ignoring case (folded).
    IgnoreCase(Vec<String>),
    /// Strings matching any of these wildcards.
    Wildcards(Vec<Wildcard>),
}

impl AnythingBut {
    /// How many items it excludes.
    pub fn len(&self) -> usize {
        match self {
            AnythingBut::Strings(v)
            | AnythingBut::Prefixes(v)
            | AnythingBut::Suffixes(v)
            | AnythingBut::IgnoreCase(v) => v.len(),
            AnythingBut::Numbers(v) => v.len(),
            AnythingBut::Wildcards(v) => v.len(),
        }
    }

    /// Whether it excludes nothing (never true for a parsed pattern).
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn parse(
        operand: &Json,
        pointer: &str,
        limits: &Limits,
    ) -> Result<AnythingBut, PatternError> {
        match operand {
            Json::String(s) => Ok(AnythingBut::Strings(vec![s.clone()])),
            Json::Number(n) => Ok(AnythingBut::Numbers(vec![comparable_key(n, pointer)?])),
            Json::Array(items) => list(items, pointer),
            Json::Object(members) => {
                let [(name, inner)] = members.as_slice() else {
                    return Err(operator_error(
                        pointer,
                        "an anything-but object must have exactly one key",
                    ));
                };
                let here = pointer_push(pointer, name);
                if !matches!(
                    name.as_str(),
                    "prefix" | "suffix" | "equals-ignore-case" | "wildcard"
                ) {
                    return Err(operator_error(
                        pointer,
                        format!(
                            "anything-but does not support \"{name}\"; use a value, a list, \
                             prefix, suffix, equals-ignore-case or wildcard"
                        ),
                    ));
                }
                let texts = strings(inner, &here, name)?;
                let out = match name.as_str() {
                    "prefix" | "suffix" => {
                        if let Some(i) = texts.iter().position(|t| t.is_empty()) {
                            let at = if matches!(inner, Json::Array(_)) {
                                pointer_push(&here, &i.to_string())
                            } else {
                                here.clone()
                            };
                            return Err(operator_error(
                                &at,
                                format!("anything-but {name} needs a non-empty string"),
                            ));
                        }
                        let owned = texts.iter().map(|t| t.to_string()).collect();
                        if name == "prefix" {
                            AnythingBut::Prefixes(owned)
                        } else {
                            AnythingBut::Suffixes(owned)
                        }
                    }
                    "equals-ignore-case" => {
                        AnythingBut::IgnoreCase(texts.iter().map(|t| casefold::fold(t)).collect())
                    }
                    "wildcard" => {
                        let mut parsed = Vec::with_capacity(texts.len());
                        for (i, t) in texts.iter().enumerate() {
                            let at = if matches!(inner, Json::Array(_)) {
                                pointer_push(&here, &i.to_string())
                            } else {
                                here.clone()
                            };
                            parsed.push(wildcard(t, &at, limits)?);
                        }
                        AnythingBut::Wildcards(parsed)
                    }
                    other => {
                        return Err(operator_error(
                            pointer,
                            format!(
                                "anything-but does not support \"{other}\"; use a value, a list, \
                                 prefix, suffix, equals-ignore-case or wildcard"
                            ),
                        ));
                    }
                };
                Ok(out.normalised())
            }
            other => Err(operator_error(
                pointer,
                format!(
                    "anything-but needs a string, a number, a list of them or an operator object, not {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn normalised(mut self) -> AnythingBut {
        match &mut self {
            AnythingBut::Strings(v)
            | AnythingBut::Prefixes(v)
            | AnythingBut::Suffixes(v)
            | AnythingBut::IgnoreCase(v) => {
                v.sort();
                v.dedup();
            }
            AnythingBut::Numbers(v) => {
                v.sort();
                v.dedup();
            }
            AnythingBut::Wildcards(v) => {
                v.sort();
                v.dedup();
            }
        }
        self
    }
}

fn list(items: &[Json], pointer: &str) -> Result<AnythingBut, PatternError> {
    if items.is_empty() {
        return Err(operator_error(
            pointer,
            "anything-but needs a non-empty list",
        ));
    }
    let all_strings = items.iter().all(|i| matches!(i, Json::String(_)));
    let all_numbers = items.iter().all(|i| matches!(i, Json::Number(_)));
    if let Some((i, bad)) = items
        .iter()
        .enumerate()
        .find(|(_, i)| !matches!(i, Json::String(_) | Json::Number(_)))
    {
        return Err(operator_error(
            &pointer_push(pointer, &i.to_string()),
            format!(
                "anything-but lists may hold strings or numbers, not {}",
                bad.type_name()
            ),
        ));
    }
    if all_strings {
        let v = items
            .iter()
            .filter_map(|i| match i {
                Json::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        return Ok(AnythingBut::Strings(v).normalised());
    }
    if all_numbers {
        let mut v = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Json::Number(n) = item {
                v.push(comparable_key(n, &pointer_push(pointer, &i.to_string()))?);
            }
        }
        return Ok(AnythingBut::Numbers(v).normalised());
    }
    Err(operator_error(
        pointer,
        "anything-but lists must hold only strings or only numbers, not both",
    ))
}

/// A string or a non-empty list of strings.
fn strings<'j>(inner: &'j Json, pointer: &str, name: &str) -> Result<Vec<&'j str>, PatternError> {
    match inner {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(operator_error(
                    pointer,
                    format!("anything-but {name} needs a non-empty list"),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| string_operand(item, &pointer_push(pointer, &i.to_string()), name))
                .collect()
        }
        other => Ok(vec![string_operand(other, pointer, name)?]),
    }
}
