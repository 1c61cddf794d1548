//! TestState: one state run alone, as the `TestState` API does it, with what it answers
//! (`status`, `output`, `error`, `cause`, `nextState`, `inspectionData`).
//!
//! The state runs inside a machine made for it: its transition targets become `Succeed`
//! placeholders, so the state's work, Retry and Catch run exactly as in an execution and the
//! placeholder that is entered names `nextState`. A Wait state does not wait (the clock is
//! moved); a matching retrier answers `RETRIABLE` with the retry it would make.

use crate::definition::{Kind, QueryLanguage, State, StateMachine};
use crate::error::{DefinitionError, StatesError};
use crate::exec::{
    Clock, Execution, ExecutionInfo, ExecutionStatus, ManualClock, RunState, SystemClock,
    TaskContext, TaskExecutor, TaskOutcome, error_matches,
};
use crate::jsonata::Scope;
use crate::path::VARIABLES_KEY;
use crate::timestamp;
use serde_json::{Map, Value, json};

/// `inspectionLevel`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InspectionLevel {
    /// Output, status, next state, error (the default).
    #[default]
    Info,
    /// Also the data after each processing step (`inspectionData`).
    Debug,
    /// Also HTTP request and response of `http:invoke` tasks (ferrule records none: as DEBUG).
    Trace,
}

impl InspectionLevel {
    /// `INFO`, `DEBUG` or `TRACE`.
    pub fn parse(s: &str) -> Option<InspectionLevel> {
        match s {
            "INFO" => Some(InspectionLevel::Info),
            "DEBUG" => Some(InspectionLevel::Debug),
            "TRACE" => Some(InspectionLevel::Trace),
            _ => None,
        }
    }
}

/// `mock`: the task answers this instead of running.
#[derive(Clone, Debug, PartialEq)]
pub enum Mock {
    /// `mock.result` (JSON text).
    Result(String),
    /// `mock.errorOutput`.
    Error {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
}

/// A TestState request (the members of `TestStateInput` the interpreter needs).
#[derive(Clone, Debug, Default)]
pub struct TestStateRequest<'a> {
    /// `definition`: one state's JSON, or a whole state machine (then `state_name` picks the
    /// state; its `StartAt` when absent).
    pub definition: &'a str,
    /// `stateName`.
    pub state_name: Option<&'a str>,
    /// `input` (JSON text; `{}` when absent).
    pub input: Option<&'a str>,
    /// `variables` (a JSON object as text).
    pub variables: Option<&'a str>,
    /// `inspectionLevel`.
    pub inspection_level: InspectionLevel,
    /// `roleArn` (its account goes into the ARNs of the context object).
    pub role_arn: Option<&'a str>,
    /// `mock`.
    pub mock: Option<Mock>,
    /// `stateConfiguration.retrierRetryCount`: the retries already made.
    pub retrier_retry_count: u64,
    /// The region written in the context object's ARNs.
    pub region: &'a str,
}

/// Why TestState refused the request: the API error type and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestStateError {
    /// `InvalidDefinition`, `InvalidExecutionInput` or `ValidationException`.
    pub error_type: &'static str,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for TestStateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for TestStateError {}

fn invalid_definition(e: DefinitionError) -> TestStateError {
    TestStateError {
        error_type: DefinitionError::ERROR_TYPE,
        message: e.to_string(),
    }
}

fn validation(message: impl Into<String>) -> TestStateError {
    TestStateError {
        error_type: "ValidationException",
        message: message.into(),
    }
}

/// An executor that answers the mock.
struct Mocked<'a>(&'a Mock);

impl TaskExecutor for Mocked<'_> {
    fn start(&self, _: &str, _: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        match self.0 {
            Mock::Result(text) => match serde_json::from_str(text) {
                Ok(v) => TaskOutcome::Succeeded(v),
                Err(e) => TaskOutcome::Failed {
                    error: "States.Runtime".into(),
                    cause: format!("The mock result is not valid JSON: {e}"),
                },
            },
            Mock::Error { error, cause } => TaskOutcome::Failed {
                error: error.clone(),
                cause: cause.clone(),
            },
        }
    }
}

/// The transition targets of a state's JSON, with mutable access to rewrite them.
fn targets(state: &mut Map<String, Value>) -> Vec<&mut Value> {
    let mut out = Vec::new();
    for (k, v) in state.iter_mut() {
        match k.as_str() {
            "Next" | "Default" => out.push(v),
            "Choices" | "Catch" => {
                if let Some(list) = v.as_array_mut() {
                    for item in list {
                        if let Some(n) = item.as_object_mut().and_then(|o| o.get_mut("Next")) {
                            out.push(n);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Runs one state as TestState does. `executor` runs its task (unless `mock` is set).
pub fn test_state(
    req: &TestStateRequest<'_>,
    executor: &dyn TaskExecutor,
) -> Result<Value, TestStateError> {
    let def: Value = serde_json::from_str(req.definition).map_err(|e| {
        invalid_definition(DefinitionError {
            diagnostics: vec![crate::error::Diagnostic::error(
                crate::error::DiagnosticCode::InvalidJsonDescription,
                format!("The definition is not valid JSON: {e}"),
                Some("/".into()),
            )],
        })
    })?;
    let Some(obj) = def.as_object() else {
        return Err(validation("The definition must be a JSON object"));
    };
    // A whole machine, or one state.
    let (name, mut state, top_lang) = if obj.contains_key("States") {
        let name = match req.state_name {
            Some(n) => n.to_string(),
            None => obj
                .get("StartAt")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    validation("The definition has no StartAt and no stateName is given")
                })?
                .to_string(),
        };
        let st = obj
            .get("States")
            .and_then(|s| s.get(&name))
            .and_then(Value::as_object)
            .ok_or_else(|| validation(format!("The state '{name}' is not in the definition")))?;
        (name, st.clone(), obj.get("QueryLanguage").cloned())
    } else {
        (
            req.state_name.unwrap_or("TestState").to_string(),
            obj.clone(),
            None,
        )
    };
    // Each target becomes a Succeed placeholder (a target naming the state itself gets a name
    // of its own, mapped back for `nextState`).
    let placeholder_of = |t: &str| {
        if t == name {
            format!("{name}\u{1}next")
        } else {
            t.to_string()
        }
    };
    let mut placeholders: Vec<(String, String)> = Vec::new();
    for t in targets(&mut state) {
        if let Some(s) = t.as_str().map(str::to_string) {
            let p = placeholder_of(&s);
            *t = Value::String(p.clone());
            if !placeholders.iter().any(|(x, _)| *x == p) {
                placeholders.push((p, s));
            }
        }
    }
    let mut states = Map::new();
    states.insert(name.clone(), Value::Object(state));
    for (p, _) in &placeholders {
        states.insert(p.clone(), json!({"Type": "Succeed"}));
    }
    let mut machine_def = json!({"StartAt": name, "States": states});
    if let (Some(l), Some(m)) = (top_lang, machine_def.as_object_mut()) {
        m.insert("QueryLanguage".into(), l);
    }
    let machine = StateMachine::from_value(&machine_def).map_err(invalid_definition)?;
    let input: Value = match req.input {
        None => json!({}),
        Some(t) => serde_json::from_str(t).map_err(|e| TestStateError {
            error_type: "InvalidExecutionInput",
            message: format!("Invalid State Machine Execution Input: '{e}'"),
        })?,
    };
    let vars = match req.variables {
        None => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => m,
            _ => return Err(validation("The variables must be a JSON object")),
        },
    };
    let account = req
        .role_arn
        .and_then(|r| r.split(':').nth(4))
        .filter(|a| !a.is_empty())
        .unwrap_or("123456789012");
    let info = ExecutionInfo {
        execution_arn: format!(
            "arn:aws:states:{}:{account}:execution:TestStateMachine:test-state",
            req.region
        ),
        name: "test-state".into(),
        state_machine_arn: format!(
            "arn:aws:states:{}:{account}:stateMachine:TestStateMachine",
            req.region
        ),
        state_machine_name: "TestStateMachine".into(),
        role_arn: req.role_arn.unwrap_or_default().to_string(),
        region: req.region.to_string(),
    };
    let mocked = req.mock.as_ref().map(Mocked);
    let executor: &dyn TaskExecutor = match &mocked {
        Some(m) => m,
        None => executor,
    };
    let Some(st) = machine.root.get(&name) else {
        return Err(validation(format!(
            "The state '{name}' is not in the definition"
        )));
    };
    let clock = ManualClock::new(SystemClock.now_ms());
    let (mut exec, mut run) = Execution::start_with_variables(
        &machine,
        info,
        input.clone(),
        vars.clone(),
        &clock,
        executor,
    );
    // A Wait state does not wait: the clock is moved to its end.
    let mut retriable = false;
    while let RunState::Waiting { wake_at_ms } = run {
        if !exec.pending_tokens().is_empty() {
            return Err(validation(format!(
                "The state '{name}' waits for a task token: TestState does not wait for callbacks"
            )));
        }
        match (wake_at_ms, &st.kind) {
            (Some(w), Kind::Wait { .. }) => {
                clock.set(w);
                run = exec.run(&machine, &clock, executor);
            }
            _ => {
                retriable = true;
                break;
            }
        }
    }
    let mut out = Map::new();
    let history = exec.history();
    let last_error = history.iter().rev().find_map(|h| {
        let e = h.details.as_json()?.get("error")?.as_str()?;
        let c = h
            .details
            .as_json()?
            .get("cause")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some(StatesError::new(e, c))
    });
    let entered = history.iter().find_map(|h| {
        let n = h.details.name()?;
        (h.event_type == "SucceedStateEntered")
            .then(|| placeholders.iter().find(|(p, _)| p == n))
            .flatten()
            .map(|(_, orig)| orig.clone())
    });
    let mut error_details = Map::new();
    let status = if retriable {
        let e = last_error
            .clone()
            .unwrap_or_else(|| StatesError::new("", ""));
        if let Some((i, backoff)) = retrier_for(st, &e, req.retrier_retry_count) {
            error_details.insert("retryIndex".into(), json!(i));
            error_details.insert("retryBackoffIntervalSeconds".into(), json!(backoff));
        }
        out.insert("error".into(), json!(e.error));
        out.insert("cause".into(), json!(e.cause));
        "RETRIABLE"
    } else {
        match exec.status() {
            ExecutionStatus::Succeeded => {
                let caught = catch_index(st, entered.as_deref(), last_error.as_ref());
                if let Some(o) = exec.output() {
                    out.insert("output".into(), json!(o.to_string()));
                }
                if let Some(n) = &entered {
                    out.insert("nextState".into(), json!(n));
                }
                match (caught, &last_error) {
                    (Some(i), Some(e)) => {
                        error_details.insert("catchIndex".into(), json!(i));
                        out.insert("error".into(), json!(e.error));
                        out.insert("cause".into(), json!(e.cause));
                        "CAUGHT_ERROR"
                    }
                    _ => "SUCCEEDED",
                }
            }
            _ => {
                if let Some(e) = exec.error() {
                    out.insert("error".into(), json!(e.error));
                    out.insert("cause".into(), json!(e.cause));
                }
                "FAILED"
            }
        }
    };
    out.insert("status".into(), json!(status));
    if req.inspection_level != InspectionLevel::Info {
        let mut data = inspection(st, &machine, &exec, &input, &vars);
        if !error_details.is_empty() {
            data.insert("errorDetails".into(), Value::Object(error_details));
        }
        out.insert("inspectionData".into(), Value::Object(data));
    }
    Ok(Value::Object(out))
}

/// The retrier that would retry `e` after `done` retries, and its backoff in seconds.
fn retrier_for(st: &State, e: &StatesError, done: u64) -> Option<(usize, u64)> {
    let work = st.work()?;
    let from_task = matches!(st.kind, Kind::Task { .. });
    let (i, r) = work
        .retry
        .iter()
        .enumerate()
        .find(|(_, r)| error_matches(&r.error_equals, &e.error, from_task))?;
    let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(done as i32);
    if let Some(m) = r.max_delay_seconds {
        delay = delay.min(m as f64);
    }
    Some((i, delay as u64))
}

/// The catcher that led to `next` after `error`, if any.
fn catch_index(st: &State, next: Option<&str>, error: Option<&StatesError>) -> Option<usize> {
    let work = st.work()?;
    let e = error?;
    let from_task = matches!(st.kind, Kind::Task { .. });
    let (i, c) = work
        .catch
        .iter()
        .enumerate()
        .find(|(_, c)| error_matches(&c.error_equals, &e.error, from_task))?;
    (Some(c.next.as_str()) == next || next.is_some_and(|n| c.next == format!("{}\u{1}next", n)))
        .then_some(i)
}

/// The data after each processing step, as JSON text (`inspectionData`).
fn inspection(
    st: &State,
    machine: &StateMachine,
    exec: &Execution,
    input: &Value,
    vars: &Map<String, Value>,
) -> Map<String, Value> {
    let mut d = Map::new();
    let text = |v: &Value| json!(v.to_string());
    d.insert("input".into(), text(input));
    let (start, _) = exec.times_ms();
    let ctx = json!({
        "Execution": {"Id": exec.info().execution_arn, "Input": input, "Name": exec.info().name,
            "RoleArn": exec.info().role_arn, "StartTime": timestamp::format_millis(start as i64), "RedriveCount": 0},
        "State": {"EnteredTime": timestamp::format_millis(start as i64), "Name": st.name, "RetryCount": 0},
        "StateMachine": {"Id": exec.info().state_machine_arn, "Name": exec.info().state_machine_name},
    });
    // The task's result, as history recorded it.
    let result: Option<Value> = exec
        .history()
        .iter()
        .find(|h| h.event_type == "TaskSucceeded")
        .and_then(|h| h.details.as_json()?.get("output")?.as_str())
        .and_then(|t| serde_json::from_str(t).ok());
    if st.lang == QueryLanguage::Jsonata {
        let scope = Scope::new(input, &ctx, vars);
        if let Some(a) = st.work().and_then(|w| w.arguments.as_ref())
            && let Ok(v) = a.render(&scope, "Arguments")
        {
            d.insert("afterArguments".into(), text(&v));
        }
        if let Some(r) = &result {
            d.insert("result".into(), text(r));
        }
    } else {
        let mut pctx = ctx.clone();
        if machine.uses_variables
            && let Some(m) = pctx.as_object_mut()
        {
            m.insert(VARIABLES_KEY.into(), Value::Object(vars.clone()));
        }
        let Ok(after_input) = st.input_path.apply(input.clone(), &pctx) else {
            return d;
        };
        d.insert("afterInputPath".into(), text(&after_input));
        let (parameters, result_path) = match &st.kind {
            Kind::Pass {
                parameters,
                result_path,
                ..
            } => (parameters.as_ref(), Some(result_path)),
            Kind::Task { work, .. } | Kind::Parallel { work, .. } => {
                (work.parameters.as_ref(), Some(&work.result_path))
            }
            Kind::Map { work, .. } => (None, Some(&work.result_path)),
            _ => (None, None),
        };
        if let Some(p) = parameters
            && let Ok(v) = p.render(&after_input, &pctx)
        {
            d.insert("afterParameters".into(), text(&v));
        }
        let res = match (&st.kind, &result) {
            (
                Kind::Pass {
                    result: Some(r), ..
                },
                _,
            ) => Some(r.clone()),
            (Kind::Pass { parameters, .. }, _) => Some(match parameters {
                Some(p) => p.render(&after_input, &pctx).unwrap_or(Value::Null),
                None => after_input.clone(),
            }),
            (_, Some(r)) => Some(r.clone()),
            _ => None,
        };
        if let (Some(r), Some(rp)) = (res, result_path) {
            d.insert("result".into(), text(&r));
            let selected = match st.work().and_then(|w| w.result_selector.as_ref()) {
                Some(sel) => match sel.render(&r, &pctx) {
                    Ok(v) => v,
                    Err(_) => return d,
                },
                None => r,
            };
            if st.work().is_some() {
                d.insert("afterResultSelector".into(), text(&selected));
            }
            if let Ok(v) = rp.apply(input.clone(), selected) {
                d.insert("afterResultPath".into(), text(&v));
            }
        }
    }
    if machine.uses_variables || !vars.is_empty() {
        d.insert(
            "variables".into(),
            text(&Value::Object(exec.variables().clone())),
        );
    }
    d
}

#[cfg(test)]
#[path = "test_state_tests.rs"]
mod tests;
