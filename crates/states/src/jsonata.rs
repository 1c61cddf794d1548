//! JSONata as Step Functions evaluates it (`QueryLanguage: "JSONata"`): field values that are
//! strings of the form `{% expression %}` are JSONata expressions, anywhere inside the JSON of
//! `Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`, `Condition`, ... Expressions see the
//! reserved variable `$states` (`input`, `result`, `errorOutput`, `context`) and the workflow
//! variables (`$name`).
//!
//! The language itself is the `jsonata-core` crate (checked against the JSONata test suite:
//! 1,547 of its 1,564 cases pass and the other 17 are harness artefacts or extensions that are
//! not in the JSONata 2.0 specification, see the crate README's section on Step Functions).
//! On top of it this module adds what the service adds: `$partition`, `$range`, `$hash`,
//! `$random` (with an optional seed), `$uuid`, `$parse`, and removes `$eval` (the service does
//! not offer it). A failed evaluation is the service's `States.QueryEvaluationError`.

use crate::error::{StatesError, names};
use crate::intrinsic::hash_hex;
use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The longest time one expression may run: the service has no documented figure, and a
/// runaway recursion must not hold an execution forever.
const EVAL_TIMEOUT_MS: u64 = 5_000;
/// The most elements `$range` produces (as `States.ArrayRange`).
const MAX_RANGE: usize = 1000;

/// The text inside `{% ... %}`, when `s` is a JSONata expression string.
pub fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

/// A parsed JSONata expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    text: String,
    ast: AstNode,
}

impl Expression {
    /// Parses the text of an expression (without `{% %}`).
    pub fn parse(text: &str) -> Result<Expression, String> {
        let ast = catch_unwind(|| jsonata_core::parser::parse(text))
            .map_err(|_| "the expression could not be parsed".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(Expression {
            text: text.to_string(),
            ast,
        })
    }

    /// The expression as written (without `{% %}` and the blanks around it).
    pub fn as_str(&self) -> &str {
        self.text.trim()
    }

    /// Evaluates the expression with `$states` and the workflow variables of `scope`.
    /// `None` is JSONata's *undefined* (no value).
    pub fn eval(&self, scope: &Scope) -> Result<Option<Value>, String> {
        let mut ctx = Context::new();
        ctx.bind("states".to_string(), scope.states.clone());
        for (k, v) in &scope.vars {
            ctx.bind(k.clone(), v.clone());
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(EVAL_TIMEOUT_MS),
            ..EvaluatorOptions::default()
        };
        let mut ev = Evaluator::with_options(ctx, options);
        register_functions(&mut ev)?;
        // The crate is not known to panic, but an interpreter must never die of an expression.
        let out = catch_unwind(AssertUnwindSafe(|| {
            ev.evaluate(&self.ast, &JValue::Undefined)
        }))
        .map_err(|_| "the expression could not be evaluated".to_string())?
        // JSONata's message, with its code first when it has one (`T2002: ...`).
        .map_err(|e| e.message().to_string())?;
        Ok(if out.is_undefined() {
            None
        } else {
            Some(to_json(&out))
        })
    }
}

/// What expressions of one state see: `$states` and the variables, converted once per state.
#[derive(Clone)]
pub struct Scope {
    states: JValue,
    vars: Vec<(String, JValue)>,
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("states", &to_json(&self.states))
            .finish_non_exhaustive()
    }
}

impl Scope {
    /// `$states.input` and `$states.context`, with the workflow variables in `vars`.
    pub fn new(input: &Value, context: &Value, vars: &Map<String, Value>) -> Scope {
        let mut states = Map::new();
        states.insert("input".into(), input.clone());
        states.insert("context".into(), context.clone());
        Scope {
            states: JValue::from(Value::Object(states)),
            vars: vars
                .iter()
                .map(|(k, v)| (k.clone(), JValue::from(v.clone())))
                .collect(),
        }
    }

    /// The same scope with `$states.<key>` set (`result`, `errorOutput`).
    pub fn with(&self, key: &str, value: &Value) -> Scope {
        Scope {
            states: with_member(&self.states, key, JValue::from(value.clone())),
            vars: self.vars.clone(),
        }
    }

    /// The same scope with `$states.context.Map.Item` set (a Map's `ItemSelector`). The rest of
    /// `$states` is shared, not copied: a Map over n items costs n small objects, not n inputs.
    pub fn with_map_item(&self, index: usize, value: &Value) -> Scope {
        let item = JValue::from(serde_json::json!({"Item": {"Index": index, "Value": value}}));
        let context = match self.states.get("context") {
            Some(c @ JValue::Object(_)) => with_member(c, "Map", item),
            _ => with_member(&JValue::object(Default::default()), "Map", item),
        };
        Scope {
            states: with_member(&self.states, "context", context),
            vars: self.vars.clone(),
        }
    }
}

/// `object` with `key` set to `value`; the other members are shared (JSONata values are
/// reference-counted), so this costs one map of handles.
fn with_member(object: &JValue, key: &str, value: JValue) -> JValue {
    let mut m = object.as_object().cloned().unwrap_or_default();
    m.insert(key.to_string(), value);
    JValue::object(m)
}

/// A JSON value whose strings may be `{% %}` expressions (`Arguments`, `Output`, `Assign`, ...).
#[derive(Clone, Debug, PartialEq)]
pub enum JTemplate {
    /// A value without expressions, copied as is.
    Literal(Value),
    /// An expression string.
    Expr(Box<Expression>),
    /// An object whose members are templates.
    Object(Vec<(String, JTemplate)>),
    /// An array whose elements are templates.
    Array(Vec<JTemplate>),
}

/// Why a template could not be compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct JTemplateError {
    /// Location below the template (`/Payload/id`).
    pub location: String,
    /// The message.
    pub message: String,
}

impl JTemplate {
    /// Compiles `v`.
    pub fn compile(v: &Value) -> Result<JTemplate, JTemplateError> {
        JTemplate::compile_at(v, "")
    }

    fn compile_at(v: &Value, at: &str) -> Result<JTemplate, JTemplateError> {
        if !contains_expression(v) {
            return Ok(JTemplate::Literal(v.clone()));
        }
        Ok(match v {
            Value::String(s) => match expression_text(s) {
                Some(text) => JTemplate::Expr(Box::new(Expression::parse(text).map_err(|e| {
                    JTemplateError {
                        location: at.to_string(),
                        message: format!("The JSONata expression '{text}' is not valid: {e}"),
                    }
                })?)),
                None => JTemplate::Literal(v.clone()),
            },
            Value::Object(m) => JTemplate::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), JTemplate::compile_at(x, &format!("{at}/{k}"))?)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Array(a) => JTemplate::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| JTemplate::compile_at(x, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            other => JTemplate::Literal(other.clone()),
        })
    }

    /// The value when the template has no expression.
    pub fn literal(&self) -> Option<&Value> {
        match self {
            JTemplate::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// Builds the value; `field` names the field in error messages (`Arguments`, `Output`,
    /// `Choices[0]/Condition`, ...; members below it add `/key` and `[i]`). An expression that
    /// yields nothing (undefined) fails wherever it is, as the service does.
    pub fn render(&self, scope: &Scope, field: &str) -> Result<Value, StatesError> {
        Ok(match self {
            JTemplate::Literal(v) => v.clone(),
            JTemplate::Expr(e) => match e.eval(scope) {
                Ok(Some(v)) => v,
                Ok(None) => {
                    return Err(StatesError::new(
                        names::QUERY_EVALUATION_ERROR,
                        format!(
                            "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                            e.as_str()
                        ),
                    ));
                }
                Err(m) => {
                    // A coded JSONata message is a sentence of its own.
                    let sep = if jsonata_core::evaluator::error_code_prefix(&m).is_some() {
                        ". "
                    } else {
                        ": "
                    };
                    return Err(StatesError::new(
                        names::QUERY_EVALUATION_ERROR,
                        format!(
                            "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation{sep}{m}",
                            e.as_str()
                        ),
                    ));
                }
            },
            JTemplate::Object(members) => {
                let mut out = Map::with_capacity(members.len());
                for (k, t) in members {
                    out.insert(k.clone(), t.render(scope, &format!("{field}/{k}"))?);
                }
                Value::Object(out)
            }
            JTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| t.render(scope, &format!("{field}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// Whether any string inside `v` is a `{% %}` expression.
pub fn contains_expression(v: &Value) -> bool {
    match v {
        Value::String(s) => expression_text(s).is_some(),
        Value::Array(a) => a.iter().any(contains_expression),
        Value::Object(m) => m.values().any(contains_expression),
        _ => false,
    }
}

/// A JSONata value as JSON: integral numbers are written as integers (JSONata's numbers are
/// doubles), functions and regexes (which JSON cannot hold) as `null`.
pub fn to_json(v: &JValue) -> Value {
    match v {
        JValue::Number(n) => number(*n),
        JValue::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        JValue::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Bool(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn fail(m: impl Into<String>) -> EvaluatorError {
    EvaluatorError::EvaluationError(m.into())
}

fn register_functions(ev: &mut Evaluator) -> Result<(), String> {
    let e = |r: Result<(), EvaluatorError>| r.map_err(|e| e.to_string());
    e(ev.register_fn("partition", |args: &[JValue]| {
        let (Some(JValue::Array(items)), Some(size)) = (args.first(), args.get(1)) else {
            return Err(fail("$partition expects an array and a chunk size"));
        };
        let size = size
            .as_f64()
            .filter(|s| *s >= 1.0 && s.fract() == 0.0)
            .ok_or_else(|| fail("The chunk size of $partition must be a positive integer"))?
            as usize;
        let chunks: Vec<JValue> = items
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .chunks(size)
            .map(|c| JValue::array(c.to_vec()))
            .collect();
        Ok(JValue::array(chunks))
    }))?;
    e(ev.register_fn("range", |args: &[JValue]| {
        let nums: Vec<f64> = args.iter().filter_map(JValue::as_f64).collect();
        if args.len() != 3 || nums.len() != 3 || nums.iter().any(|n| n.fract() != 0.0) {
            return Err(fail("$range expects three integers: start, end and step"));
        }
        let (start, end, step) = (nums[0] as i64, nums[1] as i64, nums[2] as i64);
        if step == 0 {
            return Err(fail("The step of $range must not be 0"));
        }
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0 && i <= end) || (step < 0 && i >= end) {
            if out.len() == MAX_RANGE {
                return Err(fail(format!(
                    "$range would produce more than {MAX_RANGE} elements"
                )));
            }
            out.push(JValue::from_i64(i));
            i = i.saturating_add(step);
        }
        Ok(JValue::array(out))
    }))?;
    e(ev.register_fn("hash", |args: &[JValue]| {
        let data = match args.first() {
            Some(JValue::String(s)) => s.to_string(),
            Some(JValue::Undefined | JValue::Null) | None => {
                return Err(fail("The data to hash with $hash must not be null"));
            }
            Some(other) => to_json(other).to_string(),
        };
        let algo = args.get(1).and_then(JValue::as_str).unwrap_or("");
        hash_hex(algo, data.as_bytes())
            .map(JValue::from)
            .ok_or_else(|| {
                fail(format!(
                    "The hash algorithm '{algo}' is not supported: use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                ))
            })
    }))?;
    e(ev.register_fn_override("random", |args: &[JValue]| {
        let n = match args.first() {
            None | Some(JValue::Undefined) => fastrand::f64(),
            Some(s) => {
                let seed = s
                    .as_f64()
                    .filter(|x| x.fract() == 0.0)
                    .ok_or_else(|| fail("The seed of $random must be an integer"))?;
                fastrand::Rng::with_seed(seed as i64 as u64).f64()
            }
        };
        Ok(JValue::from_f64(n))
    }))?;
    e(ev.register_fn("uuid", |_args: &[JValue]| {
        Ok(JValue::from(uuid::Uuid::new_v4().to_string()))
    }))?;
    e(ev.register_fn("parse", |args: &[JValue]| {
        let text = args
            .first()
            .and_then(JValue::as_str)
            .ok_or_else(|| fail("$parse expects a string of JSON text"))?;
        let v: Value = serde_json::from_str(text).map_err(|err| {
            fail(format!(
                "$parse could not parse its argument as JSON: {err}"
            ))
        })?;
        Ok(JValue::from(v))
    }))?;
    e(ev.register_fn_override("eval", |_args: &[JValue]| {
        Err(fail(
            "The function $eval is not available in Step Functions: use $parse",
        ))
    }))?;
    Ok(())
}

#[cfg(test)]
#[path = "jsonata_tests.rs"]
mod tests;
