//! `numeric`: one comparison or a two-sided range.

use super::PatternError;
use super::operator::{comparable_key, operator_error};
use crate::util::json::{Json, pointer_push};
use crate::util::number;

/// An inclusive range of order-preserving number keys (see
/// [`number::ordered`](crate::util::number::ordered)); strict bounds are
/// stored as the neighbouring `f64`, which is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NumericRange {
    /// Lowest key in the range.
    pub low: u64,
    /// Highest key in the range.
    pub high: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumericRange {
    /// Whether the comparable number with key `key` is in the range.
    #[cfg(test)]
    pub fn contains(&self, key: u64) -> bool {
        self.low <= key && key <= self.high
    }

    pub(super) fn parse(operand: &Json, pointer: &str) -> Result<NumericRange, PatternError> {
        let Json::Array(items) = operand else {
            return Err(operator_error(
                pointer,
                format!("numeric needs an array, not {}", operand.type_name()),
            ));
        };
        let lowest = number::ordered(-f64::MAX);
        let highest = number::ordered(f64::MAX);
        match items.as_slice() {
            [op, value] => {
                let op = operator(op, &pointer_push(pointer, "0"))?;
                let key = value_key(value, &pointer_push(pointer, "1"))?;
                Ok(match op {
                    Op::Eq => NumericRange {
                        low: key,
                        high: key,
                    },
                    Op::Lt => NumericRange {
                        low: lowest,
                        high: key.saturating_sub(1),
                    },
                    Op::Le => NumericRange {
                        low: lowest,
                        high: key,
                    },
                    Op::Gt => NumericRange {
                        low: key.saturating_add(1),
                        high: highest,
                    },
                    Op::Ge => NumericRange {
                        low: key,
                        high: highest,
                    },
                })
            }
            [op1, v1, op2, v2] => {
                let op1_at = pointer_push(pointer, "0");
                let op2_at = pointer_push(pointer, "2");
                let lower = operator(op1, &op1_at)?;
                let upper = operator(op2, &op2_at)?;
                if !matches!(lower, Op::Gt | Op::Ge) {
                    return Err(operator_error(
                        &op1_at,
                        "a numeric range must start with \">\" or \">=\"",
                    ));
                }
                if !matches!(upper, Op::Lt | Op::Le) {
                    return Err(operator_error(
                        &op2_at,
                        "a numeric range must end with \"<\" or \"<=\"",
                    ));
                }
                let low = value_key(v1, &pointer_push(pointer, "1"))?;
                let high = value_key(v2, &pointer_push(pointer, "3"))?;
                if low >= high {
                    return Err(operator_error(
                        pointer,
                        "the lower bound of a numeric range must be less than the upper bound",
                    ));
                }
                Ok(NumericRange {
                    low: if lower == Op::Gt { low + 1 } else { low },
                    high: if upper == Op::Lt { high - 1 } else { high },
                })
            }
            _ => Err(operator_error(
                pointer,
                format!(
                    "numeric needs [operator, number] or [\">\"/\">=\", low, \"<\"/\"<=\", high], not {} elements",
                    items.len()
                ),
            )),
        }
    }
}

fn operator(item: &Json, pointer: &str) -> Result<Op, PatternError> {
    let Json::String(op) = item else {
        return Err(operator_error(
            pointer,
            format!(
                "numeric operator must be a string, not {}",
                item.type_name()
            ),
        ));
    };
    Ok(match op.as_str() {
        "=" => Op::Eq,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        other => {
            return Err(operator_error(
                pointer,
                format!("unknown numeric operator \"{other}\"; use =, <, <=, > or >="),
            ));
        }
    })
}

fn value_key(item: &Json, pointer: &str) -> Result<u64, PatternError> {
    let Json::Number(text) = item else {
        return Err(operator_error(
            pointer,
            format!("numeric bound must be a number, not {}", item.type_name()),
        ));
    };
    comparable_key(text, pointer)
}
