//! The JSONPath data flow of a state: payload templates (`Parameters`, `ResultSelector`,
//! `ItemSelector`: keys ending in `.$` take a path or an intrinsic call) and the
//! `InputPath` → `Parameters` → `ResultSelector` → `ResultPath` → `OutputPath` steps.
//!
//! Errors come back with the service's error name and the part of the cause that follows
//! "An error occurred while executing the state 'X' (entered at the event id #N). ", which the
//! interpreter adds.

use crate::error::{StatesError, names};
use crate::intrinsic::{Intrinsic, IntrinsicError};
use crate::path::Path;
use serde_json::{Map, Value};

/// A compiled payload template.
#[derive(Clone, Debug, PartialEq)]
pub enum Template {
    /// A value copied as is.
    Literal(Value),
    /// An object whose members are templates (a `.$` key is stored without its suffix).
    Object(Vec<(String, Template)>),
    /// An array whose elements are templates.
    Array(Vec<Template>),
    /// The value of `field.$: "$.path"`.
    Path {
        /// The key as written (with `.$`), for error messages.
        field: String,
        /// The path.
        path: Path,
    },
    /// The value of `field.$: "States.Fn(...)"`.
    Call {
        /// The key as written (with `.$`).
        field: String,
        /// The call.
        call: Intrinsic,
    },
}

/// Why a template could not be compiled: the location below the template and the message.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateError {
    /// JSON pointer-like location relative to the template (`/Entries[0]/Detail.$`).
    pub location: String,
    /// The service-style message.
    pub message: String,
}

impl Template {
    /// Compiles a template from its JSON.
    pub fn compile(v: &Value) -> Result<Template, TemplateError> {
        Template::compile_at(v, "")
    }

    fn compile_at(v: &Value, at: &str) -> Result<Template, TemplateError> {
        Ok(match v {
            Value::Object(m) => {
                let mut members = Vec::with_capacity(m.len());
                for (k, v) in m {
                    let loc = format!("{at}/{k}");
                    if let Some(name) = k.strip_suffix(".$") {
                        let bad = || TemplateError {
                            location: loc.clone(),
                            message: format!(
                                "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                            ),
                        };
                        let text = v.as_str().ok_or_else(bad)?;
                        let t = if Intrinsic::looks_like_call(text) {
                            Template::Call {
                                field: k.clone(),
                                call: Intrinsic::parse(text).map_err(|_| bad())?,
                            }
                        } else {
                            Template::Path {
                                field: k.clone(),
                                path: Path::parse(text).map_err(|_| bad())?,
                            }
                        };
                        members.push((name.to_string(), t));
                    } else {
                        members.push((k.clone(), Template::compile_at(v, &loc)?));
                    }
                }
                Template::Object(members)
            }
            Value::Array(items) => Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Template::compile_at(x, &format!("{at}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            other => Template::Literal(other.clone()),
        })
    }

    /// Whether the template reads `$$.Task.Token` anywhere (a `.waitForTaskToken` task must).
    pub fn reads_task_token(&self) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Object(m) => m.iter().any(|(_, t)| t.reads_task_token()),
            Template::Array(a) => a.iter().any(Template::reads_task_token),
            Template::Path { path, .. } => {
                path.context && path.as_str().starts_with("$$.Task.Token")
            }
            Template::Call { call, .. } => call.as_str().contains("$$.Task.Token"),
        }
    }

    /// Builds the payload from `input` (for `$` paths) and `context` (for `$$` paths).
    pub fn render(&self, input: &Value, context: &Value) -> Result<Value, StatesError> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Object(members) => {
                let mut out = Map::with_capacity(members.len());
                for (k, t) in members {
                    out.insert(k.clone(), t.render(input, context)?);
                }
                Value::Object(out)
            }
            Template::Array(items) => Value::Array(items.iter().map(|t| t.render(input, context)).collect::<Result<_, _>>()?),
            Template::Path { field, path } => {
                let doc = if path.context { context } else { input };
                path.select(doc).ok_or_else(|| {
                    StatesError::new(
                        names::RUNTIME,
                        format!(
                            "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                            path.as_str(),
                            doc
                        ),
                    )
                })?
            }
            Template::Call { field, call } => call.eval(input, context).map_err(|e| match e {
                IntrinsicError::PathNotFound(p) => StatesError::new(
                    names::RUNTIME,
                    format!("The JsonPath argument '{p}' for the field '{field}' could not be found in the input '{input}'"),
                ),
                IntrinsicError::Failure(m) => StatesError::new(
                    names::INTRINSIC_FAILURE,
                    format!("The function '{}' for the field '{field}' failed: {m}", call.as_str()),
                ),
            })?,
        })
    }
}

/// An `InputPath` or `OutputPath` field: absent means `$`, `null` means `{}`.
#[derive(Clone, Debug, PartialEq)]
pub enum PathField {
    /// The field is absent: the whole value passes.
    Whole,
    /// The field is `null`: an empty object passes.
    Discard,
    /// The path selects what passes.
    Path(Path),
}

impl PathField {
    /// Applies the field to `value`.
    pub fn apply(&self, value: Value, context: &Value) -> Result<Value, StatesError> {
        match self {
            PathField::Whole => Ok(value),
            PathField::Discard => Ok(Value::Object(Map::new())),
            PathField::Path(p) => {
                let doc = if p.context { context } else { &value };
                p.select(doc).ok_or_else(|| {
                    StatesError::new(
                        names::RUNTIME,
                        format!(
                            "Invalid path '{}' : No results for path: {}",
                            p.as_str(),
                            p.bracket_form()
                        ),
                    )
                })
            }
        }
    }
}

/// A `ResultPath` field: absent means `$` (the result replaces the input), `null` discards the
/// result (the input passes).
#[derive(Clone, Debug, PartialEq)]
pub enum ResultPathField {
    /// Absent or `$`: the result is the output.
    Replace,
    /// `null`: the input is the output.
    Discard,
    /// A reference path inside the input where the result is written.
    At(Path),
}

impl ResultPathField {
    /// Combines a state's raw `input` with its `result`.
    pub fn apply(&self, input: Value, result: Value) -> Result<Value, StatesError> {
        match self {
            ResultPathField::Replace => Ok(result),
            ResultPathField::Discard => Ok(input),
            ResultPathField::At(p) if p.is_root() => Ok(result),
            ResultPathField::At(p) => {
                let mut out = input;
                // `write` leaves `out` untouched when it fails, so the message shows the input.
                match p.write(&mut out, result) {
                    Ok(()) => Ok(out),
                    Err(_) => Err(StatesError::new(
                        names::RESULT_PATH_MATCH_FAILURE,
                        format!(
                            "Unable to apply ReferencePath {} to input '{out}'",
                            p.as_str()
                        ),
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: Value) -> Template {
        Template::compile(&v).unwrap()
    }

    #[test]
    fn renders_templates() {
        let tpl = t(json!({
            "flagged": true,
            "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"},
            "list": [{"n.$": "$$.Execution.Name"}, 2],
            "f.$": "States.Format('{}-{}', $.vals[1], $$.Execution.Name)"
        }));
        let out = tpl
            .render(
                &json!({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}),
                &json!({"Execution": {"Name": "e"}}),
            )
            .unwrap();
        assert_eq!(
            out,
            json!({"flagged": true, "parts": {"first": 0, "last3": [30, 40, 50]}, "list": [{"n": "e"}, 2], "f": "10-e"})
        );
        // Member order is kept as written.
        assert_eq!(
            out.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["flagged", "parts", "list", "f"]
        );
    }

    #[test]
    fn template_errors() {
        for bad in [
            json!({"a.$": 1}),
            json!({"a.$": "nope"}),
            json!({"a.$": "States.Nope()"}),
            json!({"x": [{"a.$": "$["}]}),
        ] {
            assert!(Template::compile(&bad).is_err(), "{bad}");
        }
        let e = Template::compile(&json!({"x": [{"a.$": "$["}]})).unwrap_err();
        assert_eq!(e.location, "/x[0]/a.$");
        let e = t(json!({"b.$": "$.value"}))
            .render(&json!({"other": 1}), &json!({}))
            .unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert_eq!(
            e.cause,
            "The JSONPath '$.value' specified for the field 'b.$' could not be found in the input '{\"other\":1}'"
        );
        let e = t(json!({"b.$": "States.ArrayGetItem($.a, 5)"}))
            .render(&json!({"a": []}), &json!({}))
            .unwrap_err();
        assert_eq!(e.error, "States.IntrinsicFailure");
    }

    #[test]
    fn path_fields() {
        let ctx = json!({"Execution": {"Id": "arn"}});
        assert_eq!(
            PathField::Whole.apply(json!({"a": 1}), &ctx).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            PathField::Discard.apply(json!({"a": 1}), &ctx).unwrap(),
            json!({})
        );
        assert_eq!(
            PathField::Path(Path::parse("$.a").unwrap())
                .apply(json!({"a": 1}), &ctx)
                .unwrap(),
            json!(1)
        );
        assert_eq!(
            PathField::Path(Path::parse("$$.Execution.Id").unwrap())
                .apply(json!({}), &ctx)
                .unwrap(),
            json!("arn")
        );
        let e = PathField::Path(Path::parse("$.x.y").unwrap())
            .apply(json!({}), &ctx)
            .unwrap_err();
        assert_eq!(
            e.cause,
            "Invalid path '$.x.y' : No results for path: $['x']['y']"
        );
    }

    #[test]
    fn result_paths() {
        let at = |p: &str| ResultPathField::At(Path::parse_reference(p).unwrap());
        assert_eq!(
            ResultPathField::Replace
                .apply(json!({"a": 1}), json!(2))
                .unwrap(),
            json!(2)
        );
        assert_eq!(
            ResultPathField::Discard
                .apply(json!({"a": 1}), json!(2))
                .unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            at("$.r.s").apply(json!({"a": 1}), json!(2)).unwrap(),
            json!({"a": 1, "r": {"s": 2}})
        );
        assert_eq!(
            at("$.a").apply(json!({"a": 1}), json!(2)).unwrap(),
            json!({"a": 2})
        );
        let e = at("$.a.b")
            .apply(json!({"a": "str"}), json!(2))
            .unwrap_err();
        assert_eq!(
            (e.error.as_str(), e.cause.as_str()),
            (
                "States.ResultPathMatchFailure",
                "Unable to apply ReferencePath $.a.b to input '{\"a\":\"str\"}'"
            )
        );
        assert!(at("$.x").apply(json!("scalar"), json!(1)).is_err());
    }
}
