//! One element of a field's value list: a literal or an operator object.

use super::{
    AnythingBut, IpRange, Limits, NumericRange, PatternError, PatternErrorKind, ValuePattern,
    Wildcard, WildcardError,
};
use crate::util::json::{Json, pointer_push};
use crate::util::{casefold, ip, number};

pub(super) fn operator_error(pointer: &str, message: impl Into<String>) -> PatternError {
    PatternError::new(PatternErrorKind::Operator, pointer, message)
}

/// Parses one element of a leaf list.
pub(super) fn value_pattern(
    item: &Json,
    pointer: &str,
    limits: &Limits,
) -> Result<ValuePattern, PatternError> {
    match item {
        Json::String(text) => Ok(exact(text)),
        Json::Number(text) => Ok(ValuePattern::Number {
            text: text.clone(),
            key: number::comparable(text.as_bytes()).map(number::ordered),
        }),
        Json::Bool(true) => Ok(ValuePattern::True),
        Json::Bool(false) => Ok(ValuePattern::False),
        Json::Null => Ok(ValuePattern::Null),
        Json::Array(_) => Err(PatternError::new(
            PatternErrorKind::Structure,
            pointer,
            "a match value must be a string, number, true, false, null or an operator object, not an array",
        )),
        Json::Object(members) => operator(members, pointer, limits),
    }
}

pub(super) fn exact(text: &str) -> ValuePattern {
    ValuePattern::Exact {
        text: text.to_string(),
        ip: ip::parse(text).map(|(family, bits)| ip::key(family, bits)),
    }
}

fn operator(
    members: &[(String, Json)],
    pointer: &str,
    limits: &Limits,
) -> Result<ValuePattern, PatternError> {
    let [(name, operand)] = members else {
        return Err(operator_error(
            pointer,
            format!(
                "an operator object must have exactly one key, this one has {}",
                members.len()
            ),
        ));
    };
    let here = pointer_push(pointer, name);
    match name.as_str() {
        "prefix" => affix(operand, &here, "prefix"),
        "suffix" => affix(operand, &here, "suffix"),
        "equals-ignore-case" => {
            let text = string_operand(operand, &here, "equals-ignore-case")?;
            Ok(ValuePattern::EqualsIgnoreCase(casefold::fold(text)))
        }
        "wildcard" => {
            let text = string_operand(operand, &here, "wildcard")?;
            Ok(ValuePattern::Wildcard(wildcard(text, &here, limits)?))
        }
        "anything-but" => Ok(ValuePattern::AnythingBut(AnythingBut::parse(
            operand, &here, limits,
        )?)),
        "numeric" => Ok(ValuePattern::Numeric(NumericRange::parse(operand, &here)?)),
        "cidr" => {
            let text = string_operand(operand, &here, "cidr")?;
            Ok(ValuePattern::Cidr(IpRange::parse(text, &here)?))
        }
        "exists" => match operand {
            Json::Bool(true) => Ok(ValuePattern::Exists),
            Json::Bool(false) => Ok(ValuePattern::Absent),
            other => Err(operator_error(
                &here,
                format!("exists must be true or false, not {}", other.type_name()),
            )),
        },
        other => Err(operator_error(
            pointer,
            format!("unknown operator \"{other}\""),
        )),
    }
}

/// The order-preserving key of a number operand, which must be comparable.
pub(super) fn comparable_key(text: &str, pointer: &str) -> Result<u64, PatternError> {
    number::comparable(text.as_bytes())
        .map(number::ordered)
        .ok_or_else(|| {
            operator_error(
                pointer,
                format!(
                    "cannot compare number {text}: it is out of range or has more precision than a 64-bit float"
                ),
            )
        })
}

pub(super) fn string_operand<'j>(
    operand: &'j Json,
    pointer: &str,
    operator: &str,
) -> Result<&'j str, PatternError> {
    match operand {
        Json::String(text) => Ok(text),
        other => Err(operator_error(
            pointer,
            format!("{operator} needs a string, not {}", other.type_name()),
        )),
    }
}

/// `prefix` / `suffix`, with a string or `{"equals-ignore-case": string}`.
fn affix(operand: &Json, pointer: &str, name: &str) -> Result<ValuePattern, PatternError> {
    let is_prefix = name == "prefix";
    match operand {
        Json::String(text) => Ok(if is_prefix {
            ValuePattern::Prefix(text.clone())
        } else {
            ValuePattern::Suffix(text.clone())
        }),
        Json::Object(members) => {
            let [(inner, value)] = members.as_slice() else {
                return Err(operator_error(
                    pointer,
                    format!("{name} takes a string or an object with exactly one key"),
                ));
            };
            let here = pointer_push(pointer, inner);
            if inner != "equals-ignore-case" {
                return Err(operator_error(
                    &here,
                    format!("{name} does not support \"{inner}\"; only equals-ignore-case"),
                ));
            }
            let text = casefold::fold(string_operand(value, &here, "equals-ignore-case")?);
            Ok(if is_prefix {
                ValuePattern::PrefixIgnoreCase(text)
            } else {
                ValuePattern::SuffixIgnoreCase(text)
            })
        }
        other => Err(operator_error(
            pointer,
            format!("{name} needs a string, not {}", other.type_name()),
        )),
    }
}

pub(super) fn wildcard(
    text: &str,
    pointer: &str,
    limits: &Limits,
) -> Result<Wildcard, PatternError> {
    let parsed = Wildcard::parse(text).map_err(|e| match e {
        WildcardError::ConsecutiveStars(at) => operator_error(
            pointer,
            format!("wildcard has consecutive '*' characters at byte {at}"),
        ),
        WildcardError::InvalidEscape(at) => operator_error(
            pointer,
            format!("wildcard has an invalid escape at byte {at}: only \\* and \\\\ are allowed"),
        ),
    })?;
    let complexity = parsed.complexity(limits.max_wildcard_complexity);
    if complexity > limits.max_wildcard_complexity {
        return Err(PatternError::new(
            PatternErrorKind::Limit,
            pointer,
            format!(
                "wildcard is too complex (complexity {} is over the limit of {}): use fewer '*' \
                 characters or fewer repeated characters after a '*'",
                if complexity == usize::MAX {
                    "unbounded".to_string()
                } else {
                    complexity.to_string()
                },
                limits.max_wildcard_complexity
            ),
        ));
    }
    Ok(parsed)
}
