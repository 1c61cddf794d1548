//! Choice rules: comparisons (each with a `...Path` variant), `And`/`Or`/`Not`, and the type
//! tests `IsPresent`, `IsNull`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`.

use crate::error::{StatesError, names};
use crate::path::Path;
use crate::timestamp;
use serde_json::Value;

/// A comparison operator (without its `Path` suffix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `StringEquals`.
    StringEquals,
    /// `StringLessThan`.
    StringLessThan,
    /// `StringGreaterThan`.
    StringGreaterThan,
    /// `StringLessThanEquals`.
    StringLessThanEquals,
    /// `StringGreaterThanEquals`.
    StringGreaterThanEquals,
    /// `StringMatches` (`*` wildcard; `\\*` is a literal star).
    StringMatches,
    /// `NumericEquals`.
    NumericEquals,
    /// `NumericLessThan`.
    NumericLessThan,
    /// `NumericGreaterThan`.
    NumericGreaterThan,
    /// `NumericLessThanEquals`.
    NumericLessThanEquals,
    /// `NumericGreaterThanEquals`.
    NumericGreaterThanEquals,
    /// `BooleanEquals`.
    BooleanEquals,
    /// `TimestampEquals`.
    TimestampEquals,
    /// `TimestampLessThan`.
    TimestampLessThan,
    /// `TimestampGreaterThan`.
    TimestampGreaterThan,
    /// `TimestampLessThanEquals`.
    TimestampLessThanEquals,
    /// `TimestampGreaterThanEquals`.
    TimestampGreaterThanEquals,
    /// `IsNull`.
    IsNull,
    /// `IsPresent`.
    IsPresent,
    /// `IsNumeric`.
    IsNumeric,
    /// `IsString`.
    IsString,
    /// `IsBoolean`.
    IsBoolean,
    /// `IsTimestamp`.
    IsTimestamp,
}

/// What the operand of a comparison must be in the definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperandKind {
    String,
    Number,
    Boolean,
    Timestamp,
}

impl Operator {
    /// Every operator with its name; the `...Path` names are derived (except for the type tests
    /// and `StringMatches`, which have none).
    pub(crate) const ALL: [(&'static str, Operator); 23] = [
        ("StringEquals", Operator::StringEquals),
        ("StringLessThan", Operator::StringLessThan),
        ("StringGreaterThan", Operator::StringGreaterThan),
        ("StringLessThanEquals", Operator::StringLessThanEquals),
        ("StringGreaterThanEquals", Operator::StringGreaterThanEquals),
        ("StringMatches", Operator::StringMatches),
        ("NumericEquals", Operator::NumericEquals),
        ("NumericLessThan", Operator::NumericLessThan),
        ("NumericGreaterThan", Operator::NumericGreaterThan),
        ("NumericLessThanEquals", Operator::NumericLessThanEquals),
        (
            "NumericGreaterThanEquals",
            Operator::NumericGreaterThanEquals,
        ),
        ("BooleanEquals", Operator::BooleanEquals),
        ("TimestampEquals", Operator::TimestampEquals),
        ("TimestampLessThan", Operator::TimestampLessThan),
        ("TimestampGreaterThan", Operator::TimestampGreaterThan),
        ("TimestampLessThanEquals", Operator::TimestampLessThanEquals),
        (
            "TimestampGreaterThanEquals",
            Operator::TimestampGreaterThanEquals,
        ),
        ("IsNull", Operator::IsNull),
        ("IsPresent", Operator::IsPresent),
        ("IsNumeric", Operator::IsNumeric),
        ("IsString", Operator::IsString),
        ("IsBoolean", Operator::IsBoolean),
        ("IsTimestamp", Operator::IsTimestamp),
    ];

    pub(crate) fn operand_kind(self) -> OperandKind {
        use Operator::*;
        match self {
            StringEquals
            | StringLessThan
            | StringGreaterThan
            | StringLessThanEquals
            | StringGreaterThanEquals
            | StringMatches => OperandKind::String,
            NumericEquals
            | NumericLessThan
            | NumericGreaterThan
            | NumericLessThanEquals
            | NumericGreaterThanEquals => OperandKind::Number,
            TimestampEquals
            | TimestampLessThan
            | TimestampGreaterThan
            | TimestampLessThanEquals
            | TimestampGreaterThanEquals => OperandKind::Timestamp,
            BooleanEquals | IsNull | IsPresent | IsNumeric | IsString | IsBoolean | IsTimestamp => {
                OperandKind::Boolean
            }
        }
    }

    pub(crate) fn has_path_variant(self) -> bool {
        !matches!(
            self,
            Operator::StringMatches
                | Operator::IsNull
                | Operator::IsPresent
                | Operator::IsNumeric
                | Operator::IsString
                | Operator::IsBoolean
                | Operator::IsTimestamp
        )
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A literal from the definition.
    Value(Value),
    /// A `...Path` operand: a path into the input (or context).
    Path(Path),
}

/// A Choice rule (a top-level rule also has a `Next`, kept by the state).
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// All of the rules.
    And(Vec<Rule>),
    /// Any of the rules.
    Or(Vec<Rule>),
    /// The negation.
    Not(Box<Rule>),
    /// `Variable` compared with an operand.
    Compare {
        /// The `Variable` path.
        variable: Path,
        /// The operator.
        op: Operator,
        /// The operand.
        operand: Operand,
    },
}

fn invalid(path: &Path) -> StatesError {
    StatesError::new(
        names::RUNTIME,
        format!(
            "Invalid path '{}': The choice state's condition path references an invalid value.",
            path.as_str()
        ),
    )
}

impl Rule {
    /// Whether the rule holds for `input` (and the `context` object for `$$` paths).
    pub fn matches(&self, input: &Value, context: &Value) -> Result<bool, StatesError> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.matches(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.matches(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.matches(input, context)?),
            Rule::Compare {
                variable,
                op,
                operand,
            } => {
                let doc = |p: &Path| if p.context { context } else { input };
                let value = variable.select(doc(variable));
                let expected = match operand {
                    Operand::Value(v) => v.clone(),
                    Operand::Path(p) => p.select(doc(p)).ok_or_else(|| invalid(p))?,
                };
                if *op == Operator::IsPresent {
                    // An indefinite path that selects nothing is not present either.
                    let present = match &value {
                        Some(Value::Array(a)) if !variable.is_definite() => !a.is_empty(),
                        Some(_) => true,
                        None => false,
                    };
                    return Ok(present == (expected == Value::Bool(true)));
                }
                let value = value.ok_or_else(|| invalid(variable))?;
                Ok(compare(*op, &value, &expected))
            }
        }
    }
}

fn compare(op: Operator, v: &Value, e: &Value) -> bool {
    use Operator::*;
    let want = |b: bool| e.as_bool().map(|w| w == b).unwrap_or(false);
    match op {
        IsNull => want(v.is_null()),
        IsNumeric => want(v.is_number()),
        IsString => want(v.is_string()),
        IsBoolean => want(v.is_boolean()),
        IsTimestamp => want(v.as_str().and_then(timestamp::parse).is_some()),
        IsPresent => true,
        BooleanEquals => matches!((v, e), (Value::Bool(a), Value::Bool(b)) if a == b),
        StringMatches => matches!((v, e), (Value::String(s), Value::String(p)) if wildcard(p, s)),
        StringEquals
        | StringLessThan
        | StringGreaterThan
        | StringLessThanEquals
        | StringGreaterThanEquals => {
            let (Some(a), Some(b)) = (v.as_str(), e.as_str()) else {
                return false;
            };
            ordered(op, a.cmp(b))
        }
        NumericEquals
        | NumericLessThan
        | NumericGreaterThan
        | NumericLessThanEquals
        | NumericGreaterThanEquals => {
            let (Some(a), Some(b)) = (v.as_f64(), e.as_f64()) else {
                return false;
            };
            a.partial_cmp(&b).is_some_and(|o| ordered(op, o))
        }
        TimestampEquals
        | TimestampLessThan
        | TimestampGreaterThan
        | TimestampLessThanEquals
        | TimestampGreaterThanEquals => {
            let (Some(a), Some(b)) = (
                v.as_str().and_then(timestamp::parse),
                e.as_str().and_then(timestamp::parse),
            ) else {
                return false;
            };
            ordered(op, a.cmp(&b))
        }
    }
}

fn ordered(op: Operator, o: std::cmp::Ordering) -> bool {
    use Operator::*;
    match op {
        StringEquals | NumericEquals | TimestampEquals => o.is_eq(),
        StringLessThan | NumericLessThan | TimestampLessThan => o.is_lt(),
        StringGreaterThan | NumericGreaterThan | TimestampGreaterThan => o.is_gt(),
        StringLessThanEquals | NumericLessThanEquals | TimestampLessThanEquals => o.is_le(),
        _ => o.is_ge(),
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` is a literal `*` and `\\` a literal
/// backslash.
pub(crate) fn wildcard(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(Tok::Ch(it.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Greedy matching with backtracking to the last star.
    let (mut p, mut i, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while i < s.len() {
        match toks.get(p) {
            Some(Tok::Ch(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            Some(Tok::Star) => {
                star = Some(p);
                mark = i;
                p += 1;
            }
            _ => match star {
                Some(sp) => {
                    p = sp + 1;
                    mark += 1;
                    i = mark;
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmp(var: &str, op: Operator, v: Value) -> Rule {
        Rule::Compare {
            variable: Path::parse(var).unwrap(),
            op,
            operand: Operand::Value(v),
        }
    }

    #[test]
    fn comparisons() {
        use Operator::*;
        let input = json!({"s": "b", "n": 3, "t": "2020-01-01T00:00:00Z", "b": true, "z": null, "o": {"n": 3}});
        let ctx = json!({});
        let yes = |r: Rule| assert!(r.matches(&input, &ctx).unwrap(), "{r:?}");
        let no = |r: Rule| assert!(!r.matches(&input, &ctx).unwrap(), "{r:?}");
        yes(cmp("$.s", StringEquals, json!("b")));
        yes(cmp("$.s", StringLessThan, json!("c")));
        yes(cmp("$.s", StringGreaterThanEquals, json!("b")));
        no(cmp("$.s", StringGreaterThan, json!("b")));
        no(cmp("$.n", StringEquals, json!("3")));
        yes(cmp("$.n", NumericEquals, json!(3.0)));
        yes(cmp("$.n", NumericLessThanEquals, json!(3)));
        no(cmp("$.n", NumericLessThan, json!(3)));
        no(cmp("$.s", NumericEquals, json!(3)));
        yes(cmp("$.b", BooleanEquals, json!(true)));
        yes(cmp(
            "$.t",
            TimestampEquals,
            json!("2020-01-01T01:00:00+01:00"),
        ));
        yes(cmp("$.t", TimestampLessThan, json!("2020-01-01T00:00:01Z")));
        no(cmp("$.s", TimestampLessThan, json!("2020-01-01T00:00:01Z")));
        yes(cmp("$.z", IsNull, json!(true)));
        no(cmp("$.s", IsNull, json!(true)));
        yes(cmp("$.nope", IsPresent, json!(false)));
        yes(cmp("$.s", IsPresent, json!(true)));
        yes(cmp("$.n", IsNumeric, json!(true)));
        yes(cmp("$.s", IsString, json!(true)));
        yes(cmp("$.b", IsBoolean, json!(true)));
        yes(cmp("$.t", IsTimestamp, json!(true)));
        no(cmp("$.s", IsTimestamp, json!(true)));
        yes(Rule::Compare {
            variable: Path::parse("$.n").unwrap(),
            op: NumericEquals,
            operand: Operand::Path(Path::parse("$.o.n").unwrap()),
        });
        yes(Rule::And(vec![
            cmp("$.s", StringEquals, json!("b")),
            Rule::Not(Box::new(cmp("$.n", NumericEquals, json!(4)))),
        ]));
        no(Rule::Or(vec![
            cmp("$.s", StringEquals, json!("x")),
            cmp("$.n", NumericEquals, json!(4)),
        ]));
        let e = cmp("$.missing", StringEquals, json!("x"))
            .matches(&input, &ctx)
            .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "Invalid path '$.missing': The choice state's condition path references an invalid value."
        );
    }

    #[test]
    fn string_matches() {
        assert!(wildcard("log-*.txt", "log-2020.txt"));
        assert!(wildcard("*", ""));
        assert!(wildcard("a*b*c", "aXXbYYc"));
        assert!(!wildcard("a*b*c", "aXXbYY"));
        assert!(wildcard(r"a\*", "a*"));
        assert!(!wildcard(r"a\*", "ab"));
        assert!(wildcard(r"a\\*", r"a\bc"));
        assert!(!wildcard("abc", "abcd"));
    }
}
