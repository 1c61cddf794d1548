//! A state machine definition: parsed, checked as the service checks it, and compiled into the
//! structures the interpreter runs.

use crate::choice::{Operand, OperandKind, Operator, Rule};
use crate::error::{DefinitionError, Diagnostic, DiagnosticCode, names};
use crate::intrinsic::Intrinsic;
use crate::jsonata::{self, JTemplate};
use crate::path::Path;
use crate::payload::{PathField, ResultPathField, Template};
use crate::timestamp;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The longest state name the service accepts.
const MAX_STATE_NAME: usize = 80;
/// The largest `TimeoutSeconds`/`HeartbeatSeconds` the service accepts (and its default task
/// timeout).
pub const MAX_TASK_SECONDS: u64 = 99_999_999;

/// A validated state machine definition.
#[derive(Clone, Debug)]
pub struct StateMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `TimeoutSeconds` of the whole execution.
    pub timeout_seconds: Option<u64>,
    pub(crate) root: Container,
    /// Whether any field reads the context object (`$$`): when none does, the interpreter does
    /// not build it for every state.
    pub(crate) uses_context: bool,
    /// Whether a field may read `$$.Execution.Input` (a copy of the execution input per state
    /// otherwise, which costs as much as the input is large).
    pub(crate) uses_execution_input: bool,
    /// Whether any state assigns workflow variables (JSONPath fields then read them through
    /// the context object).
    pub(crate) uses_variables: bool,
    /// The top-level `QueryLanguage`.
    pub query_language: QueryLanguage,
}

/// The query language of a machine or state (`QueryLanguage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryLanguage {
    /// `JSONPath`, the default: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`,
    /// `OutputPath`, `.$` keys and intrinsic functions.
    #[default]
    JsonPath,
    /// `JSONata`: `Arguments`, `Output`, `{% %}` expressions.
    Jsonata,
}

/// An `Assign` field: the variables a state sets when it completes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Assign {
    /// In a JSONPath state: a payload template (`name.$` keys take a path or intrinsic).
    Path(Template),
    /// In a JSONata state: values with `{% %}` expressions.
    Jsonata(JTemplate),
}

/// The longest workflow variable name.
const MAX_VARIABLE_NAME: usize = 80;

/// (reads `$$` at all, may read `$$.Execution.Input`).
fn context_use(v: &Value) -> (bool, bool) {
    const CHEAP: [&str; 9] = [
        ".State",
        ".Task",
        ".Map",
        ".Execution.Id",
        ".Execution.Name",
        ".Execution.RoleArn",
        ".Execution.StartTime",
        ".Execution.Redrive",
        "$",
    ];
    match v {
        Value::String(s) => {
            let mut any = false;
            let mut input = false;
            for (i, _) in s.match_indices("$$") {
                any = true;
                let rest = &s[i + 2..];
                if !CHEAP.iter().any(|p| rest.starts_with(p)) {
                    input = true;
                }
            }
            (any, input)
        }
        Value::Array(a) => a
            .iter()
            .map(context_use)
            .fold((false, false), |x, y| (x.0 || y.0, x.1 || y.1)),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let (a, b) = context_use(v);
                let (c, d) = context_use(&Value::String(k.clone()));
                (a || c, b || d)
            })
            .fold((false, false), |x, y| (x.0 || y.0, x.1 || y.1)),
        _ => (false, false),
    }
}

/// A set of states with a start (the machine itself, a Parallel branch, a Map processor).
#[derive(Clone, Debug)]
pub struct Container {
    pub(crate) start_at: String,
    pub(crate) states: Vec<State>,
    index: HashMap<String, usize>,
}

impl Container {
    pub(crate) fn get(&self, name: &str) -> Option<&State> {
        self.index.get(name).and_then(|i| self.states.get(*i))
    }
}

/// One state.
#[derive(Clone, Debug)]
pub struct State {
    pub(crate) name: String,
    pub(crate) input_path: PathField,
    pub(crate) output_path: PathField,
    pub(crate) kind: Kind,
    pub(crate) lang: QueryLanguage,
    pub(crate) assign: Option<Assign>,
    /// `Output` of a JSONata state.
    pub(crate) output: Option<JTemplate>,
}

impl State {
    /// The Retry/Catch/result fields of a Task, Parallel or Map.
    pub(crate) fn work(&self) -> Option<&Work> {
        match &self.kind {
            Kind::Task { work, .. } | Kind::Parallel { work, .. } | Kind::Map { work, .. } => {
                Some(work)
            }
            _ => None,
        }
    }
}

/// Where a state goes when it succeeds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Transition {
    Next(String),
    End,
}

/// A number given directly or by a reference path (`TimeoutSeconds`/`TimeoutSecondsPath`, ...).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Number {
    Fixed(f64),
    Path(Path),
    /// A JSONata expression (`"TimeoutSeconds": "{% ... %}"`).
    Expr(JTemplate),
}

#[derive(Clone, Debug)]
pub(crate) enum WaitFor {
    Seconds(u64),
    Timestamp(i64),
    SecondsPath(Path),
    TimestampPath(Path),
    /// `Seconds` (true) or `Timestamp` given as a JSONata expression.
    Expr(bool, JTemplate),
}

/// `Error`/`Cause` of a Fail state: a literal or a path / intrinsic call.
#[derive(Clone, Debug)]
pub(crate) enum Text {
    Literal(String),
    Path(Path),
    Call(Intrinsic),
    Expr(JTemplate),
}

/// A retrier.
#[derive(Clone, Debug)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter_full: bool,
}

/// A catcher.
#[derive(Clone, Debug)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    pub result_path: ResultPathField,
    pub assign: Option<Assign>,
    pub output: Option<JTemplate>,
}

/// What a Choice rule tests.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// A JSONPath rule.
    Rule(Rule),
    /// A JSONata `Condition`.
    Condition(JTemplate),
}

/// One rule of a Choice state, with where it leads.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    pub test: Test,
    pub next: String,
    pub assign: Option<Assign>,
    pub output: Option<JTemplate>,
}

/// The fields shared by Task, Parallel and Map.
#[derive(Clone, Debug)]
pub(crate) struct Work {
    pub parameters: Option<Template>,
    /// `Arguments` of a JSONata Task or Parallel.
    pub arguments: Option<JTemplate>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPathField,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub transition: Transition,
}

#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    pub max_items: Option<Number>,
    pub max_bytes: Option<Number>,
    pub batch_input: Option<Template>,
}

// Built once per definition and never moved in a hot path: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Pass {
        parameters: Option<Template>,
        result: Option<Value>,
        result_path: ResultPathField,
        transition: Transition,
    },
    Task {
        resource: String,
        timeout: Option<Number>,
        heartbeat: Option<Number>,
        credentials: Option<Value>,
        work: Work,
    },
    Choice {
        choices: Vec<Branch>,
        default: Option<String>,
    },
    Wait {
        wait: WaitFor,
        transition: Transition,
    },
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel {
        branches: Vec<Container>,
        work: Work,
    },
    Map {
        processor: Container,
        processor_key: &'static str,
        items_path: PathField,
        /// `Items` of a JSONata Map.
        items: Option<JTemplate>,
        item_selector: Option<Template>,
        /// `ItemSelector` of a JSONata Map.
        item_selector_jsonata: Option<JTemplate>,
        max_concurrency: Number,
        batcher: Option<Batcher>,
        tolerated_count: Option<Number>,
        tolerated_percentage: Option<Number>,
        work: Work,
    },
}

impl Kind {
    /// `PassStateEntered`, `TaskStateEntered`, ...
    pub(crate) fn entered_event(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "PassStateEntered",
            Kind::Task { .. } => "TaskStateEntered",
            Kind::Choice { .. } => "ChoiceStateEntered",
            Kind::Wait { .. } => "WaitStateEntered",
            Kind::Succeed => "SucceedStateEntered",
            Kind::Fail { .. } => "FailStateEntered",
            Kind::Parallel { .. } => "ParallelStateEntered",
            Kind::Map { .. } => "MapStateEntered",
        }
    }

    /// `PassStateExited`, ... (a Fail state has none).
    pub(crate) fn exited_event(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "PassStateExited",
            Kind::Task { .. } => "TaskStateExited",
            Kind::Choice { .. } => "ChoiceStateExited",
            Kind::Wait { .. } => "WaitStateExited",
            Kind::Succeed => "SucceedStateExited",
            Kind::Fail { .. } => "FailStateExited",
            Kind::Parallel { .. } => "ParallelStateExited",
            Kind::Map { .. } => "MapStateExited",
        }
    }

    /// The `Type` name.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait { .. } => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }
}

const STATE_TYPES: [&str; 8] = [
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];
/// Fields that exist only in JSONata mode.
const JSONATA_FIELDS: [&str; 4] = ["Arguments", "Output", "Items", "Condition"];

fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Parameters",
            "Result",
            "ResultPath",
            "Next",
            "End",
            "Assign",
        ],
        "Task" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Next",
            "End",
            "Resource",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
            "Assign",
        ],
        "Choice" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Choices",
            "Default",
            "Assign",
        ],
        "Wait" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Next",
            "End",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
            "Assign",
        ],
        "Succeed" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
        ],
        "Fail" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "Error",
            "ErrorPath",
            "Cause",
            "CausePath",
        ],
        "Parallel" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Next",
            "End",
            "Branches",
            "Retry",
            "Catch",
            "Assign",
        ],
        _ => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Next",
            "End",
            "Retry",
            "Catch",
            "ItemsPath",
            "ItemSelector",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ItemBatcher",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ItemReader",
            "ResultWriter",
            "Label",
            "Assign",
        ],
    }
}

/// Collects diagnostics while walking the definition.
struct Check {
    diags: Vec<Diagnostic>,
}

impl Check {
    fn schema(&mut self, message: impl Into<String>, at: &str) {
        self.diags.push(Diagnostic::error(
            DiagnosticCode::SchemaValidationFailed,
            message,
            Some(loc(at)),
        ));
    }

    fn string<'a>(&mut self, obj: &'a Map<String, Value>, key: &str, at: &str) -> Option<&'a str> {
        match obj.get(key)? {
            Value::String(s) => Some(s),
            _ => {
                self.schema("Expected value of type: String", &format!("{at}/{key}"));
                None
            }
        }
    }

    fn integer(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let v = obj.get(key)?;
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.schema(
                    format!("Value must be between {min} and {max}"),
                    &format!("{at}/{key}"),
                );
                None
            }
            None if v.as_i64().is_some() => {
                self.schema(
                    format!("Value must be between {min} and {max}"),
                    &format!("{at}/{key}"),
                );
                None
            }
            None => {
                self.schema("Expected value of type: Integer", &format!("{at}/{key}"));
                None
            }
        }
    }

    fn path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        reference: bool,
    ) -> Option<Path> {
        let s = self.string(obj, key, at)?;
        let parsed = if reference {
            Path::parse_reference(s)
        } else {
            Path::parse(s)
        };
        match parsed {
            Ok(p) => Some(p),
            Err(_) => {
                let what = if reference {
                    "ReferencePath"
                } else {
                    "JSONPath"
                };
                self.schema(
                    format!("The value for the field '{key}' must be a valid {what}"),
                    &format!("{at}/{key}"),
                );
                None
            }
        }
    }

    /// `InputPath`/`OutputPath`: absent → whole, null → discard, else a path.
    fn path_field(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> PathField {
        match obj.get(key) {
            None => PathField::Whole,
            Some(Value::Null) => PathField::Discard,
            Some(_) => self
                .path(obj, key, at, false)
                .map_or(PathField::Whole, PathField::Path),
        }
    }

    fn result_path(&mut self, obj: &Map<String, Value>, at: &str) -> ResultPathField {
        match obj.get("ResultPath") {
            None => ResultPathField::Replace,
            Some(Value::Null) => ResultPathField::Discard,
            Some(_) => self
                .path(obj, "ResultPath", at, true)
                .map_or(ResultPathField::Replace, ResultPathField::At),
        }
    }

    fn template(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<Template> {
        let v = obj.get(key)?;
        // Selectors shape an object; `Parameters` may be any JSON value.
        if matches!(key, "ResultSelector" | "ItemSelector") && !v.is_object() {
            self.schema("Expected value of type: Object", &format!("{at}/{key}"));
            return None;
        }
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{key}{}", e.location));
                None
            }
        }
    }

    /// A number field and its `...Path` twin, mutually exclusive.
    fn number_or_path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        min: u64,
        max: u64,
    ) -> Option<Number> {
        let path_key = format!("{key}Path");
        match (obj.contains_key(key), obj.contains_key(&path_key)) {
            (true, true) => {
                self.schema(
                    format!("Fields '{key}' and '{path_key}' are mutually exclusive"),
                    at,
                );
                None
            }
            (true, false) => self
                .integer(obj, key, at, min, max)
                .map(|n| Number::Fixed(n as f64)),
            (false, true) => self.path(obj, &path_key, at, true).map(Number::Path),
            (false, false) => None,
        }
    }

    fn transition(&mut self, obj: &Map<String, Value>, at: &str) -> Transition {
        match (obj.get("Next"), obj.get("End")) {
            (Some(_), Some(_)) => {
                self.schema("Fields 'Next' and 'End' are mutually exclusive", at);
                Transition::End
            }
            (Some(_), None) => self
                .string(obj, "Next", at)
                .map_or(Transition::End, |n| Transition::Next(n.to_string())),
            (None, Some(Value::Bool(true))) => Transition::End,
            (None, Some(Value::Bool(false))) => {
                self.schema(
                    "The value of the field 'End' must be true",
                    &format!("{at}/End"),
                );
                Transition::End
            }
            (None, Some(_)) => {
                self.schema("Expected value of type: Boolean", &format!("{at}/End"));
                Transition::End
            }
            (None, None) => {
                self.schema("These fields are required: [Next or End]", at);
                Transition::End
            }
        }
    }

    fn error_equals(&mut self, obj: &Map<String, Value>, at: &str, last: bool) -> Vec<String> {
        let list = match obj.get("ErrorEquals") {
            None => {
                self.schema("These fields are required: [ErrorEquals]", at);
                return Vec::new();
            }
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(_) => {
                self.schema(
                    "The field 'ErrorEquals' must be a non-empty array of strings",
                    &format!("{at}/ErrorEquals"),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.schema(
                    "Expected value of type: String",
                    &format!("{at}/ErrorEquals[{i}]"),
                ),
            }
        }
        if out.iter().any(|e| e == names::ALL) {
            if out.len() > 1 {
                self.schema(
                    "The error name 'States.ALL' must appear alone in 'ErrorEquals'",
                    &format!("{at}/ErrorEquals"),
                );
            } else if !last {
                self.schema(
                    "The error name 'States.ALL' may only appear in the last retrier or catcher",
                    &format!("{at}/ErrorEquals"),
                );
            }
        }
        out
    }

    fn object<'a>(&mut self, v: &'a Value, at: &str) -> Option<&'a Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            _ => {
                self.schema("Expected value of type: Object", at);
                None
            }
        }
    }

    fn unknown_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], at: &str) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(format!("Field '{k}' is not supported"), at);
            }
        }
    }

    fn required(&mut self, obj: &Map<String, Value>, fields: &[&str], at: &str) -> bool {
        let missing: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !obj.contains_key(*f))
            .collect();
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                at,
            );
        }
        missing.is_empty()
    }
}

fn loc(at: &str) -> String {
    if at.is_empty() {
        "/".to_string()
    } else {
        at.to_string()
    }
}

impl StateMachine {
    /// Parses and validates a definition. The error lists every problem found, with the
    /// service's codes, messages and locations.
    pub fn parse(definition: &str) -> Result<StateMachine, DefinitionError> {
        let value: Value = serde_json::from_str(definition).map_err(|e| DefinitionError {
            diagnostics: vec![Diagnostic::error(
                DiagnosticCode::InvalidJsonDescription,
                format!("The definition is not valid JSON: {e}"),
                Some("/".into()),
            )],
        })?;
        StateMachine::from_value(&value)
    }

    /// Validates a definition already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<StateMachine, DefinitionError> {
        let mut ck = Check { diags: Vec::new() };
        let Some(top) = value.as_object() else {
            return Err(DefinitionError {
                diagnostics: vec![Diagnostic::error(
                    DiagnosticCode::InvalidJsonDescription,
                    "The definition must be a JSON object",
                    Some("/".into()),
                )],
            });
        };
        ck.unknown_fields(
            top,
            &[
                "Comment",
                "StartAt",
                "States",
                "Version",
                "TimeoutSeconds",
                "QueryLanguage",
            ],
            "",
        );
        let query_language = query_language(&mut ck, top, "").unwrap_or_default();
        let comment = ck.string(top, "Comment", "").map(str::to_string);
        ck.string(top, "Version", "");
        let timeout_seconds = ck.integer(top, "TimeoutSeconds", "", 1, 31_622_400);
        let root = container(&mut ck, top, "", query_language);
        // The graph is checked once the schema holds (the service reports schema problems alone).
        if ck.diags.is_empty()
            && let Some(r) = &root
        {
            graph(&mut ck, r, "");
        }
        match root {
            Some(root) if ck.diags.is_empty() => {
                let (mut uses_context, mut uses_execution_input) = context_use(value);
                let uses_variables = uses_variables(value);
                if jsonata_context_use(value) {
                    uses_context = true;
                    uses_execution_input = true;
                }
                Ok(StateMachine {
                    comment,
                    timeout_seconds,
                    root,
                    uses_context: uses_context || uses_variables,
                    uses_execution_input,
                    uses_variables,
                    query_language,
                })
            }
            _ => Err(DefinitionError {
                diagnostics: ck.diags,
            }),
        }
    }

    /// The diagnostics `ValidateStateMachineDefinition` returns (empty when the definition is
    /// valid).
    pub fn validate(definition: &str) -> Vec<Diagnostic> {
        StateMachine::parse(definition)
            .err()
            .map(|e| e.diagnostics)
            .unwrap_or_default()
    }

    /// The name of the first state.
    pub fn start_at(&self) -> &str {
        &self.root.start_at
    }

    /// The names of the top-level states, in definition order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.root.states.iter().map(|s| s.name.as_str())
    }
}

fn query_language(ck: &mut Check, obj: &Map<String, Value>, at: &str) -> Option<QueryLanguage> {
    match obj.get("QueryLanguage") {
        None => None,
        Some(Value::String(s)) if s == "JSONPath" => Some(QueryLanguage::JsonPath),
        Some(Value::String(s)) if s == "JSONata" => Some(QueryLanguage::Jsonata),
        Some(_) => {
            ck.schema(
                "Value is not one of the allowed values [JSONPath, JSONata]",
                &format!("{at}/QueryLanguage"),
            );
            None
        }
    }
}

/// Whether the definition reads `$states.context` in a JSONata expression (whole `$states`
/// included), as [`context_use`] finds `$$`.
fn jsonata_context_use(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            jsonata::expression_text(s).is_some()
                && s.match_indices("$states").any(|(i, _)| {
                    let rest = &s[i + "$states".len()..];
                    rest.starts_with(".context") || !rest.starts_with('.')
                })
        }
        Value::Array(a) => a.iter().any(jsonata_context_use),
        Value::Object(m) => m.values().any(jsonata_context_use),
        _ => false,
    }
}

/// Whether the definition may use workflow variables: an `Assign` member, or a string outside
/// `{% %}` with `$name` in it (a JSONPath variable path; TestState's `variables` can set what
/// the definition reads without assigning it). A false positive only costs a copy per state.
fn uses_variables(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            jsonata::expression_text(s).is_none()
                && s.match_indices('$').any(|(i, _)| {
                    s[i + 1..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                })
        }
        Value::Array(a) => a.iter().any(uses_variables),
        Value::Object(m) => m.contains_key("Assign") || m.values().any(uses_variables),
        _ => false,
    }
}

/// Fields of the JSONPath query language, refused in a JSONata state.
const JSONPATH_ONLY: [&str; 16] = [
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
];

/// The fields a JSONata state of type `ty` has besides the common ones.
fn jsonata_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Task" | "Parallel" => &["Output", "Arguments"],
        "Map" => &["Output", "Items"],
        "Fail" => &[],
        _ => &["Output"],
    }
}

fn variable_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && name.chars().count() <= MAX_VARIABLE_NAME
}

impl Check {
    /// A JSONata template field (`Output`, `Arguments`, `Items`, ...).
    fn jtemplate(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Option<JTemplate> {
        let v = obj.get(key)?;
        match JTemplate::compile(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.schema(e.message, &format!("{at}/{key}{}", e.location));
                None
            }
        }
    }

    /// `Assign`: an object of variable names (with `.$` for JSONPath values) and values.
    fn assign(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        lang: QueryLanguage,
    ) -> Option<Assign> {
        let v = obj.get("Assign")?;
        let aat = format!("{at}/Assign");
        let m = self.object(v, &aat)?;
        let mut ok = true;
        for k in m.keys() {
            let name = match lang {
                QueryLanguage::JsonPath => k.strip_suffix(".$").unwrap_or(k),
                QueryLanguage::Jsonata => k,
            };
            if name == "states" {
                self.schema(
                    "The variable name 'states' is reserved by Step Functions",
                    &format!("{aat}/{k}"),
                );
                ok = false;
            } else if !variable_name_ok(name) {
                self.schema(
                    format!("The variable name '{name}' is not valid: it must start with a letter or '_', hold only letters, digits and '_', and be at most {MAX_VARIABLE_NAME} characters long"),
                    &format!("{aat}/{k}"),
                );
                ok = false;
            }
        }
        let out = match lang {
            QueryLanguage::JsonPath => self.template(obj, "Assign", at).map(Assign::Path),
            QueryLanguage::Jsonata => self.jtemplate(obj, "Assign", at).map(Assign::Jsonata),
        };
        out.filter(|_| ok)
    }

    /// A number of a JSONata state: an integer in range or an expression string.
    fn number_or_expr(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        min: u64,
        max: u64,
    ) -> Option<Number> {
        match obj.get(key)? {
            Value::String(s) if jsonata::expression_text(s).is_some() => {
                self.jtemplate(obj, key, at).map(Number::Expr)
            }
            Value::String(_) => {
                self.schema(
                    format!(
                        "The value of the field '{key}' must be an integer or a JSONata expression"
                    ),
                    &format!("{at}/{key}"),
                );
                None
            }
            _ => self
                .integer(obj, key, at, min, max)
                .map(|n| Number::Fixed(n as f64)),
        }
    }
}

/// `StartAt` + `States` of a machine, branch or processor at `at`.
fn container(
    ck: &mut Check,
    obj: &Map<String, Value>,
    at: &str,
    lang: QueryLanguage,
) -> Option<Container> {
    if !ck.required(obj, &["StartAt", "States"], at) {
        return None;
    }
    let start_at = ck.string(obj, "StartAt", at)?.to_string();
    let states_obj = match obj.get("States") {
        Some(Value::Object(m)) if !m.is_empty() => m,
        Some(Value::Object(_)) => {
            ck.schema(
                "The field 'States' must contain at least one state",
                &format!("{at}/States"),
            );
            return None;
        }
        _ => {
            ck.schema("Expected value of type: Object", &format!("{at}/States"));
            return None;
        }
    };
    let mut states = Vec::new();
    for (name, v) in states_obj {
        let sat = format!("{at}/States/{name}");
        if name.is_empty() || name.chars().count() > MAX_STATE_NAME {
            ck.schema(
                format!("State names must be 1 to {MAX_STATE_NAME} characters long"),
                &sat,
            );
        }
        if let Some(obj) = ck.object(v, &sat)
            && let Some(s) = state(ck, name, obj, &sat, lang)
        {
            states.push(s);
        }
    }
    let index: HashMap<String, usize> = states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    Some(Container {
        start_at,
        states,
        index,
    })
}

/// Transition targets, terminal states, reachability.
fn graph(ck: &mut Check, c: &Container, at: &str) {
    // Inner containers first, as they appear.
    for s in &c.states {
        let sat = format!("{at}/States/{}", s.name);
        match &s.kind {
            Kind::Parallel { branches, .. } => {
                for (i, b) in branches.iter().enumerate() {
                    graph(ck, b, &format!("{sat}/Branches[{i}]"));
                }
            }
            Kind::Map {
                processor,
                processor_key,
                ..
            } => graph(ck, processor, &format!("{sat}/{processor_key}")),
            _ => {}
        }
    }
    let known: HashSet<&str> = c.index.keys().map(String::as_str).collect();
    let missing = |ck: &mut Check, target: &str, where_: String| {
        ck.diags.push(Diagnostic::error(
            DiagnosticCode::MissingTransitionTarget,
            format!("Missing 'Next' target: {target}"),
            Some(where_),
        ));
    };
    let start_known = known.contains(c.start_at.as_str());
    if !start_known {
        ck.diags.push(Diagnostic::error(
            DiagnosticCode::MissingTransitionTarget,
            format!("Missing 'StartAt' target: {}", c.start_at),
            Some(loc(&format!("{at}/StartAt"))),
        ));
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut terminal = false;
    for s in &c.states {
        let sat = format!("{at}/States/{}", s.name);
        let mut out: Vec<(&str, String)> = Vec::new();
        let work = match &s.kind {
            Kind::Pass { transition, .. } | Kind::Wait { transition, .. } => {
                if let Transition::Next(n) = transition {
                    out.push((n, format!("{sat}/Next")));
                } else {
                    terminal = true;
                }
                None
            }
            Kind::Task { work, .. } | Kind::Parallel { work, .. } | Kind::Map { work, .. } => {
                Some(work)
            }
            Kind::Choice { choices, default } => {
                for (i, b) in choices.iter().enumerate() {
                    out.push((&b.next, format!("{sat}/Choices[{i}]/Next")));
                }
                if let Some(d) = default {
                    out.push((d, format!("{sat}/Default")));
                }
                None
            }
            Kind::Succeed | Kind::Fail { .. } => {
                terminal = true;
                None
            }
        };
        if let Some(w) = work {
            if let Transition::Next(n) = &w.transition {
                out.push((n, format!("{sat}/Next")));
            } else {
                terminal = true;
            }
            for (i, cat) in w.catch.iter().enumerate() {
                out.push((&cat.next, format!("{sat}/Catch[{i}]/Next")));
            }
        }
        for (target, where_) in &out {
            if !known.contains(target) {
                missing(ck, target, where_.clone());
            }
        }
        edges.insert(&s.name, out.into_iter().map(|(t, _)| t).collect());
    }
    if !terminal {
        // The service reports this alone: it skips the reachability walk.
        ck.diags.push(Diagnostic::error(
            DiagnosticCode::MissingEndState,
            "Workflow has no terminal state",
            None,
        ));
        return;
    }
    if !start_known {
        return;
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![c.start_at.as_str()];
    while let Some(n) = stack.pop() {
        if seen.insert(n)
            && let Some(next) = edges.get(n)
        {
            stack.extend(next.iter().copied());
        }
    }
    for s in &c.states {
        if !seen.contains(s.name.as_str()) {
            ck.diags.push(Diagnostic::error(
                DiagnosticCode::MissingTransitionTarget,
                format!("State \"{}\" is not reachable.", s.name),
                Some(format!("{at}/States/{}", s.name)),
            ));
        }
    }
}

fn state(
    ck: &mut Check,
    name: &str,
    obj: &Map<String, Value>,
    at: &str,
    top: QueryLanguage,
) -> Option<State> {
    let Some(ty_v) = obj.get("Type") else {
        ck.schema("These fields are required: [Type]", at);
        return None;
    };
    let Some(ty) = ty_v.as_str().filter(|t| STATE_TYPES.contains(t)) else {
        ck.schema(
            format!(
                "Value is not one of the allowed values [{}]",
                STATE_TYPES.join(", ")
            ),
            &format!("{at}/Type"),
        );
        return None;
    };
    let lang = match (top, query_language(ck, obj, at)) {
        (QueryLanguage::Jsonata, Some(QueryLanguage::JsonPath)) => {
            ck.schema(
                "The QueryLanguage 'JSONPath' cannot be set on a state when the state machine's QueryLanguage is 'JSONata'",
                &format!("{at}/QueryLanguage"),
            );
            QueryLanguage::Jsonata
        }
        (_, Some(l)) => l,
        (t, None) => t,
    };
    for k in obj.keys() {
        let k = k.as_str();
        let allowed = allowed_fields(ty).contains(&k);
        match lang {
            QueryLanguage::JsonPath if JSONATA_FIELDS.contains(&k) => {
                ck.schema(format!("The QueryLanguage is set to 'JSONPath', but field '{k}' is only supported for the 'JSONata' QueryLanguage"), at);
            }
            QueryLanguage::Jsonata if JSONPATH_ONLY.contains(&k) && (allowed || k == "Result") => {
                ck.schema(format!("The QueryLanguage is set to 'JSONata', but field '{k}' is only supported for the 'JSONPath' QueryLanguage"), at);
            }
            QueryLanguage::Jsonata if jsonata_fields(ty).contains(&k) => {}
            _ if !allowed => ck.schema(format!("Field '{k}' is not supported"), at),
            _ => {}
        }
    }
    // A JSONata state is read without its JSONPath fields (refused above).
    let filtered;
    let obj = if lang == QueryLanguage::Jsonata {
        filtered = obj
            .iter()
            .filter(|(k, _)| !JSONPATH_ONLY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Map<String, Value>>();
        &filtered
    } else {
        obj
    };
    ck.string(obj, "Comment", at);
    let input_path = ck.path_field(obj, "InputPath", at);
    let output_path = ck.path_field(obj, "OutputPath", at);
    let assign = ck.assign(obj, at, lang);
    let output = ck.jtemplate(obj, "Output", at);
    let jsonata = lang == QueryLanguage::Jsonata;
    let kind = match ty {
        "Pass" => Kind::Pass {
            parameters: ck.template(obj, "Parameters", at),
            result: obj.get("Result").cloned(),
            result_path: ck.result_path(obj, at),
            transition: ck.transition(obj, at),
        },
        "Task" => {
            ck.required(obj, &["Resource"], at);
            let resource = ck
                .string(obj, "Resource", at)
                .unwrap_or_default()
                .to_string();
            if obj.get("Resource").is_some_and(Value::is_string) && !resource.starts_with("arn:") {
                ck.schema(
                    "Value is not a valid resource ARN",
                    &format!("{at}/Resource"),
                );
            }
            let (timeout, heartbeat) = if jsonata {
                (
                    ck.number_or_expr(obj, "TimeoutSeconds", at, 1, MAX_TASK_SECONDS),
                    ck.number_or_expr(obj, "HeartbeatSeconds", at, 1, MAX_TASK_SECONDS),
                )
            } else {
                (
                    ck.number_or_path(obj, "TimeoutSeconds", at, 1, MAX_TASK_SECONDS),
                    ck.number_or_path(obj, "HeartbeatSeconds", at, 1, MAX_TASK_SECONDS),
                )
            };
            if let (Some(Number::Fixed(t)), Some(Number::Fixed(h))) = (&timeout, &heartbeat)
                && h >= t
            {
                ck.schema("The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'", &format!("{at}/HeartbeatSeconds"));
            }
            let credentials = obj.get("Credentials").cloned();
            if let Some(c) = &credentials
                && !c.is_object()
            {
                ck.schema(
                    "Expected value of type: Object",
                    &format!("{at}/Credentials"),
                );
            }
            Kind::Task {
                resource,
                timeout,
                heartbeat,
                credentials,
                work: work(ck, obj, at, lang),
            }
        }
        "Choice" => {
            let mut choices = Vec::new();
            match obj.get("Choices") {
                Some(Value::Array(rules)) if !rules.is_empty() => {
                    for (i, r) in rules.iter().enumerate() {
                        let rat = format!("{at}/Choices[{i}]");
                        if let Some(ro) = ck.object(r, &rat) {
                            let next = match ro.get("Next") {
                                None => {
                                    ck.schema("These fields are required: [Next]", &rat);
                                    None
                                }
                                Some(_) => ck.string(ro, "Next", &rat).map(str::to_string),
                            };
                            let test = if jsonata {
                                condition(ck, ro, &rat)
                            } else {
                                rule(ck, ro, &rat, true).map(Test::Rule)
                            };
                            let assign = ck.assign(ro, &rat, lang);
                            let output = if jsonata {
                                ck.jtemplate(ro, "Output", &rat)
                            } else {
                                None
                            };
                            if let (Some(test), Some(next)) = (test, next) {
                                choices.push(Branch {
                                    test,
                                    next,
                                    assign,
                                    output,
                                });
                            }
                        }
                    }
                }
                None => {
                    ck.schema("These fields are required: [Choices]", at);
                }
                Some(_) => ck.schema(
                    "The field 'Choices' must be a non-empty array",
                    &format!("{at}/Choices"),
                ),
            }
            Kind::Choice {
                choices,
                default: ck.string(obj, "Default", at).map(str::to_string),
            }
        }
        "Wait" => {
            let given: Vec<&str> = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
                .into_iter()
                .filter(|k| obj.contains_key(*k))
                .collect();
            if given.len() != 1 {
                ck.schema("Exactly one of the fields [Seconds, Timestamp, SecondsPath, TimestampPath] is required", at);
            }
            let wait = match given.first().copied() {
                Some(k @ ("Seconds" | "Timestamp"))
                    if obj
                        .get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|s| jsonata::expression_text(s).is_some()) =>
                {
                    ck.jtemplate(obj, k, at).map(|t| WaitFor::Expr(k == "Seconds", t))
                }
                Some("Seconds") => ck.integer(obj, "Seconds", at, 0, MAX_TASK_SECONDS).map(WaitFor::Seconds),
                Some("Timestamp") => ck.string(obj, "Timestamp", at).and_then(|t| match timestamp::parse(t) {
                    Some(ms) => Some(WaitFor::Timestamp(ms)),
                    None => {
                        ck.schema("The value for the field 'Timestamp' must be a valid RFC3339 timestamp", &format!("{at}/Timestamp"));
                        None
                    }
                }),
                Some("SecondsPath") => ck.path(obj, "SecondsPath", at, false).map(WaitFor::SecondsPath),
                Some(_) => ck.path(obj, "TimestampPath", at, false).map(WaitFor::TimestampPath),
                None => None,
            };
            Kind::Wait {
                wait: wait.unwrap_or(WaitFor::Seconds(0)),
                transition: ck.transition(obj, at),
            }
        }
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: text(ck, obj, "Error", at, jsonata),
            cause: text(ck, obj, "Cause", at, jsonata),
        },
        "Parallel" => {
            let mut branches = Vec::new();
            match obj.get("Branches") {
                Some(Value::Array(bs)) if !bs.is_empty() => {
                    for (i, b) in bs.iter().enumerate() {
                        let bat = format!("{at}/Branches[{i}]");
                        if let Some(bo) = ck.object(b, &bat) {
                            ck.unknown_fields(bo, &["StartAt", "States", "Comment"], &bat);
                            if let Some(c) = container(ck, bo, &bat, top) {
                                branches.push(c);
                            }
                        }
                    }
                }
                None => {
                    ck.schema("These fields are required: [Branches]", at);
                }
                Some(_) => ck.schema(
                    "The field 'Branches' must be a non-empty array",
                    &format!("{at}/Branches"),
                ),
            }
            Kind::Parallel {
                branches,
                work: work(ck, obj, at, lang),
            }
        }
        _ => map_state(ck, obj, at, top, lang)?,
    };
    Some(State {
        name: name.to_string(),
        input_path,
        output_path,
        kind,
        lang,
        assign,
        output,
    })
}

fn map_state(
    ck: &mut Check,
    obj: &Map<String, Value>,
    at: &str,
    top: QueryLanguage,
    lang: QueryLanguage,
) -> Option<Kind> {
    let jsonata = lang == QueryLanguage::Jsonata;
    for k in ["ItemReader", "ResultWriter"] {
        if obj.contains_key(k) {
            ck.schema(
                format!(
                    "Field '{k}' is not supported yet by ferrule (it reads or writes Amazon S3)"
                ),
                at,
            );
        }
    }
    let (key, proc_v) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(_), Some(_)) => {
            ck.schema(
                "Fields 'ItemProcessor' and 'Iterator' are mutually exclusive",
                at,
            );
            return None;
        }
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(i)) => ("Iterator", i),
        (None, None) => {
            ck.schema("These fields are required: [ItemProcessor]", at);
            return None;
        }
    };
    let pat = format!("{at}/{key}");
    let po = ck.object(proc_v, &pat)?;
    let mut distributed = false;
    if key == "ItemProcessor" {
        ck.unknown_fields(
            po,
            &["ProcessorConfig", "StartAt", "States", "Comment"],
            &pat,
        );
        if let Some(cfg) = po.get("ProcessorConfig") {
            let cat = format!("{pat}/ProcessorConfig");
            if let Some(co) = ck.object(cfg, &cat) {
                ck.unknown_fields(co, &["Mode", "ExecutionType"], &cat);
                match co.get("Mode").and_then(Value::as_str) {
                    None if !co.contains_key("Mode") => {}
                    Some("INLINE") => {}
                    Some("DISTRIBUTED") => distributed = true,
                    _ => ck.schema(
                        "Value is not one of the allowed values [INLINE, DISTRIBUTED]",
                        &format!("{cat}/Mode"),
                    ),
                }
                match co.get("ExecutionType").and_then(Value::as_str) {
                    None if !co.contains_key("ExecutionType") => {}
                    Some("STANDARD" | "EXPRESS") if distributed => {}
                    Some("STANDARD" | "EXPRESS") => ck.schema(
                        "Field 'ExecutionType' is only supported in the DISTRIBUTED mode",
                        &cat,
                    ),
                    _ => ck.schema(
                        "Value is not one of the allowed values [STANDARD, EXPRESS]",
                        &format!("{cat}/ExecutionType"),
                    ),
                }
            }
        }
    } else {
        ck.unknown_fields(po, &["StartAt", "States", "Comment"], &pat);
    }
    let processor = container(ck, po, &pat, top);
    if !distributed {
        for k in [
            "ItemBatcher",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "Label",
        ] {
            if obj.contains_key(k) {
                ck.schema(
                    format!("Field '{k}' is only supported in the DISTRIBUTED mode"),
                    at,
                );
            }
        }
    }
    let items_path = match obj.get("ItemsPath") {
        None => PathField::Whole,
        Some(_) => ck
            .path(obj, "ItemsPath", at, false)
            .map_or(PathField::Whole, PathField::Path),
    };
    let items = if jsonata {
        match obj.get("Items") {
            Some(Value::Array(_)) | None => {}
            Some(Value::String(s)) if jsonata::expression_text(s).is_some() => {}
            Some(_) => ck.schema(
                "The value of the field 'Items' must be an array or a JSONata expression",
                &format!("{at}/Items"),
            ),
        }
        ck.jtemplate(obj, "Items", at)
    } else {
        None
    };
    let item_selector_jsonata = if jsonata {
        ck.jtemplate(obj, "ItemSelector", at)
    } else {
        None
    };
    let item_selector = match (
        obj.contains_key("ItemSelector") && !jsonata,
        obj.contains_key("Parameters"),
    ) {
        (true, true) => {
            ck.schema(
                "Fields 'ItemSelector' and 'Parameters' are mutually exclusive",
                at,
            );
            None
        }
        (true, false) => ck.template(obj, "ItemSelector", at),
        (false, true) => ck.template(obj, "Parameters", at),
        (false, false) => None,
    };
    let max_concurrency = if jsonata {
        ck.number_or_expr(obj, "MaxConcurrency", at, 0, u64::from(u32::MAX))
    } else {
        ck.number_or_path(obj, "MaxConcurrency", at, 0, u64::from(u32::MAX))
    }
    .unwrap_or(Number::Fixed(0.0));
    let batcher = obj.get("ItemBatcher").and_then(|b| {
        let bat = format!("{at}/ItemBatcher");
        let bo = ck.object(b, &bat)?;
        ck.unknown_fields(
            bo,
            &[
                "MaxItemsPerBatch",
                "MaxItemsPerBatchPath",
                "MaxInputBytesPerBatch",
                "MaxInputBytesPerBatchPath",
                "BatchInput",
            ],
            &bat,
        );
        let max_items = ck.number_or_path(bo, "MaxItemsPerBatch", &bat, 1, u64::from(u32::MAX));
        let max_bytes = ck.number_or_path(bo, "MaxInputBytesPerBatch", &bat, 1, 262_144);
        if max_items.is_none() && max_bytes.is_none() {
            ck.schema(
                "At least one of the fields [MaxItemsPerBatch, MaxInputBytesPerBatch] is required",
                &bat,
            );
        }
        let batch_input = ck.template(bo, "BatchInput", &bat);
        Some(Batcher {
            max_items,
            max_bytes,
            batch_input,
        })
    });
    let tolerated_count =
        ck.number_or_path(obj, "ToleratedFailureCount", at, 0, u64::from(u32::MAX));
    let tolerated_percentage = match (
        obj.get("ToleratedFailurePercentage"),
        obj.contains_key("ToleratedFailurePercentagePath"),
    ) {
        (Some(_), true) => {
            ck.schema("Fields 'ToleratedFailurePercentage' and 'ToleratedFailurePercentagePath' are mutually exclusive", at);
            None
        }
        (Some(v), false) => match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Some(Number::Fixed(p)),
            _ => {
                ck.schema(
                    "Value must be a number between 0 and 100",
                    &format!("{at}/ToleratedFailurePercentage"),
                );
                None
            }
        },
        (None, true) => ck
            .path(obj, "ToleratedFailurePercentagePath", at, true)
            .map(Number::Path),
        (None, false) => None,
    };
    ck.string(obj, "Label", at);
    let processor = processor?;
    Some(Kind::Map {
        processor,
        processor_key: key,
        items_path,
        items,
        item_selector,
        item_selector_jsonata,
        max_concurrency,
        batcher,
        tolerated_count,
        tolerated_percentage,
        work: work(ck, obj, at, lang),
    })
}

/// A JSONata Choice rule: `Condition` (a boolean or an expression), `Next`, `Assign`, `Output`.
fn condition(ck: &mut Check, obj: &Map<String, Value>, at: &str) -> Option<Test> {
    ck.unknown_fields(
        obj,
        &["Condition", "Next", "Comment", "Assign", "Output"],
        at,
    );
    if !ck.required(obj, &["Condition"], at) {
        return None;
    }
    match obj.get("Condition") {
        Some(Value::Bool(_)) => {}
        Some(Value::String(s)) if jsonata::expression_text(s).is_some() => {}
        _ => {
            ck.schema(
                "The value of the field 'Condition' must be a boolean or a JSONata expression",
                &format!("{at}/Condition"),
            );
            return None;
        }
    }
    ck.jtemplate(obj, "Condition", at).map(Test::Condition)
}

fn work(ck: &mut Check, obj: &Map<String, Value>, at: &str, lang: QueryLanguage) -> Work {
    let jsonata = lang == QueryLanguage::Jsonata;
    let mut retry = Vec::new();
    if let Some(v) = obj.get("Retry") {
        match v.as_array() {
            Some(list) => {
                for (i, r) in list.iter().enumerate() {
                    let rat = format!("{at}/Retry[{i}]");
                    let Some(ro) = ck.object(r, &rat) else {
                        continue;
                    };
                    ck.unknown_fields(
                        ro,
                        &[
                            "ErrorEquals",
                            "IntervalSeconds",
                            "MaxAttempts",
                            "BackoffRate",
                            "MaxDelaySeconds",
                            "JitterStrategy",
                            "Comment",
                        ],
                        &rat,
                    );
                    let error_equals = ck.error_equals(ro, &rat, i + 1 == list.len());
                    let backoff_rate = match ro.get("BackoffRate") {
                        None => 2.0,
                        Some(b) => match b.as_f64() {
                            Some(x) if x >= 1.0 => x,
                            _ => {
                                ck.schema("The value of 'BackoffRate' must be a number greater than or equal to 1.0", &format!("{rat}/BackoffRate"));
                                2.0
                            }
                        },
                    };
                    let jitter_full = match ro.get("JitterStrategy").map(|j| j.as_str()) {
                        None | Some(Some("NONE")) => false,
                        Some(Some("FULL")) => true,
                        Some(_) => {
                            ck.schema(
                                "Value is not one of the allowed values [FULL, NONE]",
                                &format!("{rat}/JitterStrategy"),
                            );
                            false
                        }
                    };
                    retry.push(Retrier {
                        error_equals,
                        interval_seconds: ck
                            .integer(ro, "IntervalSeconds", &rat, 1, MAX_TASK_SECONDS)
                            .unwrap_or(1),
                        max_attempts: ck
                            .integer(ro, "MaxAttempts", &rat, 0, MAX_TASK_SECONDS)
                            .unwrap_or(3),
                        backoff_rate,
                        max_delay_seconds: ck.integer(
                            ro,
                            "MaxDelaySeconds",
                            &rat,
                            1,
                            MAX_TASK_SECONDS,
                        ),
                        jitter_full,
                    });
                }
            }
            None => ck.schema("Expected value of type: Array", &format!("{at}/Retry")),
        }
    }
    let mut catch = Vec::new();
    if let Some(v) = obj.get("Catch") {
        match v.as_array() {
            Some(list) => {
                for (i, c) in list.iter().enumerate() {
                    let cat = format!("{at}/Catch[{i}]");
                    let Some(co) = ck.object(c, &cat) else {
                        continue;
                    };
                    let (own, other) = if jsonata {
                        ("Output", "ResultPath")
                    } else {
                        ("ResultPath", "Output")
                    };
                    ck.unknown_fields(
                        co,
                        &["ErrorEquals", "Next", own, other, "Comment", "Assign"],
                        &cat,
                    );
                    if co.contains_key(other) {
                        let (l, ol) = if jsonata {
                            ("JSONata", "JSONPath")
                        } else {
                            ("JSONPath", "JSONata")
                        };
                        ck.schema(format!("The QueryLanguage is set to '{l}', but field '{other}' is only supported for the '{ol}' QueryLanguage"), &cat);
                    }
                    let error_equals = ck.error_equals(co, &cat, i + 1 == list.len());
                    ck.required(co, &["Next"], &cat);
                    let next = ck.string(co, "Next", &cat).unwrap_or_default().to_string();
                    let result_path = if jsonata {
                        ResultPathField::Replace
                    } else {
                        ck.result_path(co, &cat)
                    };
                    catch.push(Catcher {
                        error_equals,
                        next,
                        result_path,
                        assign: ck.assign(co, &cat, lang),
                        output: if jsonata {
                            ck.jtemplate(co, "Output", &cat)
                        } else {
                            None
                        },
                    });
                }
            }
            None => ck.schema("Expected value of type: Array", &format!("{at}/Catch")),
        }
    }
    Work {
        parameters: ck.template(obj, "Parameters", at),
        arguments: ck.jtemplate(obj, "Arguments", at),
        result_selector: ck.template(obj, "ResultSelector", at),
        result_path: ck.result_path(obj, at),
        retry,
        catch,
        transition: ck.transition(obj, at),
    }
}

fn text(
    ck: &mut Check,
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    jsonata: bool,
) -> Option<Text> {
    if jsonata
        && obj
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| jsonata::expression_text(s).is_some())
    {
        return ck.jtemplate(obj, key, at).map(Text::Expr);
    }
    let path_key = format!("{key}Path");
    match (obj.contains_key(key), obj.get(&path_key)) {
        (true, Some(_)) => {
            ck.schema(
                format!("Fields '{key}' and '{path_key}' are mutually exclusive"),
                at,
            );
            None
        }
        (true, None) => ck
            .string(obj, key, at)
            .map(|s| Text::Literal(s.to_string())),
        (false, Some(_)) => {
            let s = ck.string(obj, &path_key, at)?;
            let parsed = if Intrinsic::looks_like_call(s) {
                Intrinsic::parse(s).ok().map(Text::Call)
            } else {
                Path::parse(s).ok().map(Text::Path)
            };
            if parsed.is_none() {
                ck.schema(
                    format!("The value for the field '{path_key}' must be a valid JSONPath or a valid intrinsic function call"),
                    &format!("{at}/{path_key}"),
                );
            }
            parsed
        }
        (false, None) => None,
    }
}

/// A Choice rule at `at`; `top` rules carry `Next` (checked by the caller), nested ones must not.
fn rule(ck: &mut Check, obj: &Map<String, Value>, at: &str, top: bool) -> Option<Rule> {
    if !top && obj.contains_key("Next") {
        ck.schema("Field 'Next' is not supported in a nested rule", at);
    }
    for k in ["And", "Or"] {
        if let Some(v) = obj.get(k) {
            ck.unknown_fields(obj, &[k, "Next", "Comment", "Assign"], at);
            let Some(list) = v.as_array().filter(|l| !l.is_empty()) else {
                ck.schema(
                    format!("The field '{k}' must be a non-empty array of rules"),
                    &format!("{at}/{k}"),
                );
                return None;
            };
            let mut rules = Vec::new();
            for (i, r) in list.iter().enumerate() {
                let rat = format!("{at}/{k}[{i}]");
                if let Some(ro) = ck.object(r, &rat) {
                    rules.extend(rule(ck, ro, &rat, false));
                }
            }
            return Some(if k == "And" {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            });
        }
    }
    if let Some(v) = obj.get("Not") {
        ck.unknown_fields(obj, &["Not", "Next", "Comment", "Assign"], at);
        let rat = format!("{at}/Not");
        let ro = ck.object(v, &rat)?;
        return rule(ck, ro, &rat, false).map(|r| Rule::Not(Box::new(r)));
    }
    let mut found: Vec<(Operator, bool, &str)> = Vec::new();
    for (name, op) in Operator::ALL {
        if obj.contains_key(name) {
            found.push((op, false, name));
        }
        if op.has_path_variant() && obj.contains_key(&format!("{name}Path")) {
            found.push((op, true, name));
        }
    }
    let operator_names: Vec<String> = found
        .iter()
        .map(|(_, p, n)| {
            if *p {
                format!("{n}Path")
            } else {
                n.to_string()
            }
        })
        .collect();
    let mut allowed: Vec<&str> = vec!["Variable", "Next", "Comment"];
    if top {
        allowed.push("Assign");
    }
    allowed.extend(operator_names.iter().map(String::as_str));
    ck.unknown_fields(obj, &allowed, at);
    let unknown_reported = obj.keys().any(|k| !allowed.contains(&k.as_str()));
    if found.len() != 1 {
        if !(found.is_empty() && unknown_reported) {
            ck.schema(
                "A choice rule must have exactly one comparison operator (or And, Or, Not)",
                at,
            );
        }
        return None;
    }
    let (op, is_path, name) = found[0];
    if !ck.required(obj, &["Variable"], at) {
        return None;
    }
    let variable = ck.path(obj, "Variable", at, false)?;
    let key = operator_names.remove_first();
    let operand = if is_path {
        Operand::Path(ck.path(obj, &key, at, false)?)
    } else {
        let v = obj.get(name)?;
        let ok = match op.operand_kind() {
            OperandKind::String => v.is_string(),
            OperandKind::Number => v.is_number(),
            OperandKind::Boolean => v.is_boolean(),
            OperandKind::Timestamp => v.as_str().and_then(timestamp::parse).is_some(),
        };
        if !ok {
            let ty = match op.operand_kind() {
                OperandKind::String => "String",
                OperandKind::Number => "Number",
                OperandKind::Boolean => "Boolean",
                OperandKind::Timestamp => "Timestamp",
            };
            ck.schema(
                format!("Expected value of type: {ty}"),
                &format!("{at}/{name}"),
            );
            return None;
        }
        Operand::Value(v.clone())
    };
    Some(Rule::Compare {
        variable,
        op,
        operand,
    })
}

trait RemoveFirst {
    fn remove_first(self) -> String;
}

impl RemoveFirst for Vec<String> {
    fn remove_first(mut self) -> String {
        if self.is_empty() {
            String::new()
        } else {
            self.remove(0)
        }
    }
}
