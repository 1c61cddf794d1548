//! The interpreter: an execution advances as far as it can at the current time, then reports
//! when it wants to run again (a Wait, a retry backoff, a task timeout) or that it waits for a
//! task token. Its whole state (history included) is serde-serializable, so it can be persisted
//! between two calls and resumed after a restart.

use crate::definition::{
    Assign, Batcher, Catcher, Container, Kind, Number, QueryLanguage, State, StateMachine, Test,
    Text, Transition, WaitFor, Work,
};
use crate::error::{StatesError, names};
pub use crate::history::{HistoryDetails, HistoryEvent};
use crate::jsonata::{JTemplate, Scope};
use crate::path::VARIABLES_KEY;
use crate::payload::{PathField, Template};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest payload a task may return (256 KiB), as the service enforces.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;
/// The largest value of one variable, and of all the variables one `Assign` sets (256 KiB).
pub const MAX_ASSIGN_BYTES: usize = 262_144;
/// The largest total of the variables an execution stores (10 MiB).
pub const MAX_VARIABLES_BYTES: usize = 10 * 1024 * 1024;

/// A source of time in milliseconds since the epoch (the same shape as the bus's clock, so one
/// can stand for the other).
pub trait Clock: Send + Sync {
    /// Now.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told (tests drive Waits and retries with it, without sleeping).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock set to `ms`.
    pub fn new(ms: u64) -> ManualClock {
        ManualClock(AtomicU64::new(ms))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `ms`.
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a task executor is told about the task it starts.
#[derive(Clone, Debug)]
pub struct TaskContext<'a> {
    /// The execution's ARN.
    pub execution_arn: &'a str,
    /// The state machine's ARN.
    pub state_machine_arn: &'a str,
    /// The Task state's name.
    pub state_name: &'a str,
    /// The token of a `.waitForTaskToken` (or activity) task, also in `$$.Task.Token`.
    pub task_token: Option<&'a str>,
    /// `TimeoutSeconds` of the task, when set.
    pub timeout_seconds: Option<u64>,
    /// The whole context object (`$$`).
    pub context: &'a Value,
}

/// How a task started.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskOutcome {
    /// The task finished with this result.
    Succeeded(Value),
    /// The task failed with an error name and cause (matched by Retry/Catch).
    Failed {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
    /// The task runs on: the execution waits until `SendTaskSuccess`/`SendTaskFailure` with
    /// `token` (or a timeout).
    Pending {
        /// The token that completes the task.
        token: String,
        /// What the call that submitted the task answered (recorded as `TaskSubmitted`).
        submitted: Option<Value>,
    },
}

/// Runs the resources of Task states (the bus integration implements this).
pub trait TaskExecutor {
    /// Starts `resource` with the task's `parameters` (after `InputPath` and `Parameters`).
    fn start(&self, resource: &str, parameters: &Value, context: &TaskContext<'_>) -> TaskOutcome;
}

/// The status of an execution, as DescribeExecution writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Still running (or waiting).
    Running,
    /// Ended in success.
    Succeeded,
    /// Ended in an error.
    Failed,
    /// Ran longer than the machine's `TimeoutSeconds`.
    TimedOut,
    /// Stopped by StopExecution.
    Aborted,
}

/// The identity of an execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionInfo {
    /// `arn:aws:states:{region}:{account}:execution:{machine}:{name}`.
    pub execution_arn: String,
    /// The execution's name.
    pub name: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The state machine's name.
    pub state_machine_name: String,
    /// The role the execution runs as.
    pub role_arn: String,
    /// The region written in history (`TaskScheduled.region`).
    pub region: String,
}

/// What [`Execution::run`] left the execution doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    /// The execution ended (see [`Execution::status`]).
    Finished,
    /// The execution waits: call `run` again at `wake_at_ms` (a Wait, a retry, a timeout), or
    /// when a task token is completed. `None`: only a task token (or a stop) moves it on.
    Waiting {
        /// The earliest time something is due.
        wake_at_ms: Option<u64>,
    },
}

/// Why a task-token call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// No task of this execution waits for the token (it may have completed or timed out).
    TaskDoesNotExist,
    /// `SendTaskSuccess` output that is not JSON.
    InvalidOutput(String),
}

/// One execution of a state machine.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Execution {
    info: ExecutionInfo,
    input: Value,
    start_ms: u64,
    status: ExecutionStatus,
    output: Option<Value>,
    error: Option<StatesError>,
    stop_ms: Option<u64>,
    history: Vec<HistoryEvent>,
    root: Thread,
    timeout_seconds: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum ScopeStep {
    Branch(String, usize),
    Processor(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Thread {
    scope: Vec<ScopeStep>,
    last_event: u64,
    phase: Phase,
    /// The workflow variables this thread sees: a branch or iteration starts with a copy of
    /// its parent's, so what it assigns stays inside it.
    #[serde(default)]
    vars: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Phase {
    Enter { state: String, input: Value },
    Running(Box<Running>),
    Done(Result<Value, StatesError>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Running {
    state: String,
    /// The state's raw input (before `InputPath`).
    input: Value,
    entered_event: u64,
    entered_ms: u64,
    retry_counts: Vec<u64>,
    step: Step,
    /// The variables the state assigns when it completes (evaluated with the values at entry).
    #[serde(default)]
    assigned: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Step {
    /// A retry backoff: the state's work runs again at `until`.
    Retrying { until: u64 },
    /// A Wait state, done at `until` with `output`.
    Waiting { until: u64, output: Value },
    /// A task that runs on until its token is completed.
    Task {
        token: String,
        resource: String,
        deadline: Option<u64>,
        heartbeat_ms: Option<u64>,
        heartbeat_deadline: Option<u64>,
        resolved: Option<Result<Value, StatesError>>,
    },
    /// Parallel branches.
    Parallel { children: Vec<Thread> },
    /// Map iterations.
    Map(Box<MapRun>),
}

type Tolerance = Option<(Option<u64>, Option<f64>)>;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct MapRun {
    /// The inputs of the iterations not started yet, by index.
    items: Vec<Value>,
    next_item: usize,
    active: Vec<(usize, Thread)>,
    results: Vec<Option<Value>>,
    failures: usize,
    max_concurrency: usize,
    /// (count, percentage) tolerated; `None` when the Map tolerates no failure.
    tolerated: Option<(Option<u64>, Option<f64>)>,
}

enum Progress {
    Done,
    Blocked(Option<u64>),
}

struct Env<'a> {
    machine: &'a StateMachine,
    clock: &'a dyn Clock,
    executor: &'a dyn TaskExecutor,
    history: &'a mut Vec<HistoryEvent>,
    info: &'a ExecutionInfo,
    input: &'a Value,
    start_ms: u64,
}

impl Env<'_> {
    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn emit(
        &mut self,
        prev: &mut u64,
        event_type: &'static str,
        details: impl Into<HistoryDetails>,
    ) -> u64 {
        let id = self.history.len() as u64 + 1;
        self.history.push(HistoryEvent {
            id,
            previous_event_id: *prev,
            timestamp_ms: self.now(),
            event_type: std::borrow::Cow::Borrowed(event_type),
            details: details.into(),
        });
        *prev = id;
        id
    }

    fn container(&self, scope: &[ScopeStep]) -> Option<&Container> {
        container_of(self.machine, scope)
    }

    fn context(
        &self,
        state: &str,
        entered_ms: u64,
        retry_count: u64,
        token: Option<&str>,
        for_task: bool,
    ) -> Value {
        // Nothing reads it: skip building it (a task, `token` set or not, always gets it).
        if !self.machine.uses_context && token.is_none() && !for_task {
            return Value::Null;
        }
        let input = if self.machine.uses_execution_input {
            self.input.clone()
        } else {
            Value::Null
        };
        let mut ctx = json!({
            "Execution": {
                "Id": self.info.execution_arn,
                "Input": input,
                "Name": self.info.name,
                "RoleArn": self.info.role_arn,
                "StartTime": timestamp::format_millis(self.start_ms as i64),
                "RedriveCount": 0,
            },
            "State": {"EnteredTime": timestamp::format_millis(entered_ms as i64), "Name": state, "RetryCount": retry_count},
            "StateMachine": {"Id": self.info.state_machine_arn, "Name": self.info.state_machine_name},
        });
        if let (Some(t), Some(m)) = (token, ctx.as_object_mut()) {
            m.insert("Task".into(), json!({"Token": t}));
        }
        ctx
    }
}

fn container_of<'m>(machine: &'m StateMachine, scope: &[ScopeStep]) -> Option<&'m Container> {
    let mut c = &machine.root;
    for step in scope {
        c = match step {
            ScopeStep::Branch(state, i) => match &c.get(state)?.kind {
                Kind::Parallel { branches, .. } => branches.get(*i)?,
                _ => return None,
            },
            ScopeStep::Processor(state) => match &c.get(state)?.kind {
                Kind::Map { processor, .. } => processor,
                _ => return None,
            },
        };
    }
    Some(c)
}

fn entered(name: &str, input: &Value) -> HistoryDetails {
    HistoryDetails::StateEntered {
        name: name.to_string(),
        input: input.to_string(),
    }
}

/// `stateExitedEventDetails`, with the variables the state assigned.
fn exited_with(
    name: &str,
    output: &Value,
    assigned: Option<&Map<String, Value>>,
) -> HistoryDetails {
    HistoryDetails::StateExited {
        name: name.to_string(),
        output: output.to_string(),
        assigned: assigned.cloned(),
    }
}

/// (`resourceType`, `resource`) of a Task's `Resource` as history writes them:
/// `arn:aws:states:::events:putEvents.waitForTaskToken` → (`events`, `putEvents.waitForTaskToken`).
pub fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        if let Some((ty, res)) = rest.rsplit_once(':') {
            return (ty.to_string(), res.to_string());
        }
        return (rest.to_string(), String::new());
    }
    let service = resource.split(':').nth(2).unwrap_or_default();
    let kind = if resource.split(':').nth(5) == Some("activity") {
        ACTIVITY
    } else {
        service
    };
    (kind.to_string(), resource.to_string())
}

fn wants_token(resource: &str) -> bool {
    resource.ends_with(".waitForTaskToken") || resource.split(':').nth(5) == Some("activity")
}

/// Whether `ErrorEquals` matches `error`: `States.ALL` matches everything but the terminal
/// errors, `States.TaskFailed` every task failure except timeouts; `States.Runtime` never matches.
pub(crate) fn error_matches(list: &[String], error: &str, from_task: bool) -> bool {
    if error == names::RUNTIME {
        return false;
    }
    list.iter().any(|e| {
        e == error
            || (e == names::ALL && error != names::DATA_LIMIT_EXCEEDED)
            || (e == names::TASK_FAILED
                && from_task
                && error != names::TIMEOUT
                && error != names::HEARTBEAT_TIMEOUT)
    })
}

fn prefixed(state: &str, entered: u64, e: StatesError) -> StatesError {
    StatesError::new(
        e.error,
        format!(
            "An error occurred while executing the state '{state}' (entered at the event id #{entered}). {}",
            e.cause
        ),
    )
}

fn number(
    n: &Number,
    input: &Value,
    what: &str,
    scope: Option<&Scope>,
) -> Result<f64, StatesError> {
    match n {
        Number::Fixed(x) => Ok(*x),
        Number::Expr(t) => {
            let field = what.strip_suffix("Path").unwrap_or(what);
            let v = match scope {
                Some(sc) => t.render(sc, field)?,
                None => Value::Null,
            };
            v.as_f64().filter(|x| *x >= 0.0).ok_or_else(|| {
                StatesError::new(
                    names::QUERY_EVALUATION_ERROR,
                    format!("The field '{field}' must evaluate to a non-negative number, not {v}"),
                )
            })
        }
        Number::Path(p) => p.select(input).and_then(|v| v.as_f64()).ok_or_else(|| {
            StatesError::new(
                names::RUNTIME,
                format!(
                    "The {what} path '{}' does not point to a number in the input '{input}'",
                    p.as_str()
                ),
            )
        }),
    }
}

impl Execution {
    /// Starts an execution of `machine` with `input` and runs it as far as it goes at the clock's
    /// current time.
    pub fn start(
        machine: &StateMachine,
        info: ExecutionInfo,
        input: Value,
        clock: &dyn Clock,
        executor: &dyn TaskExecutor,
    ) -> (Execution, RunState) {
        Execution::start_with_variables(machine, info, input, Map::new(), clock, executor)
    }

    /// [`Execution::start`] with workflow variables already set (TestState's `variables`).
    pub fn start_with_variables(
        machine: &StateMachine,
        info: ExecutionInfo,
        input: Value,
        variables: Map<String, Value>,
        clock: &dyn Clock,
        executor: &dyn TaskExecutor,
    ) -> (Execution, RunState) {
        let mut exec = Execution::new_with_variables(machine, info, input, variables, clock);
        let state = exec.run(machine, clock, executor);
        (exec, state)
    }

    /// An execution of `machine` that has started (its `ExecutionStarted` event is recorded) but
    /// not yet run a state: [`Execution::run`] runs it. A runner that answers StartExecution
    /// before the workflow runs (and persists the execution first) starts it this way.
    pub fn new(
        machine: &StateMachine,
        info: ExecutionInfo,
        input: Value,
        clock: &dyn Clock,
    ) -> Execution {
        Execution::new_with_variables(machine, info, input, Map::new(), clock)
    }

    /// [`Execution::new`] with workflow variables already set.
    pub fn new_with_variables(
        machine: &StateMachine,
        info: ExecutionInfo,
        input: Value,
        variables: Map<String, Value>,
        clock: &dyn Clock,
    ) -> Execution {
        let now = clock.now_ms();
        let mut exec = Execution {
            input: input.clone(),
            start_ms: now,
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            stop_ms: None,
            history: Vec::new(),
            root: Thread {
                vars: variables,
                scope: Vec::new(),
                last_event: 0,
                phase: Phase::Enter {
                    state: machine.root.start_at.clone(),
                    input: input.clone(),
                },
            },
            timeout_seconds: machine.timeout_seconds,
            info,
        };
        let details = json!({"input": input.to_string(), "inputDetails": {"truncated": false}, "roleArn": exec.info.role_arn});
        exec.history.push(HistoryEvent {
            id: 1,
            previous_event_id: 0,
            timestamp_ms: now,
            event_type: "ExecutionStarted".into(),
            details: details.into(),
        });
        exec.root.last_event = 1;
        exec
    }

    /// Advances the execution as far as it goes now. Call it again when [`RunState::Waiting`]
    /// says, or after a task-token call.
    pub fn run(
        &mut self,
        machine: &StateMachine,
        clock: &dyn Clock,
        executor: &dyn TaskExecutor,
    ) -> RunState {
        if self.status != ExecutionStatus::Running {
            return RunState::Finished;
        }
        let deadline = self
            .timeout_seconds
            .map(|s| self.start_ms.saturating_add(s.saturating_mul(1000)));
        let mut env = Env {
            machine,
            clock,
            executor,
            history: &mut self.history,
            info: &self.info,
            input: &self.input,
            start_ms: self.start_ms,
        };
        if let Some(d) = deadline
            && env.now() >= d
        {
            abort_thread(&mut self.root, &mut env);
            let mut prev = self.root.last_event;
            env.emit(
                &mut prev,
                "ExecutionTimedOut",
                json!({"error": names::TIMEOUT, "cause": ""}),
            );
            self.status = ExecutionStatus::TimedOut;
            self.error = Some(StatesError::new(names::TIMEOUT, ""));
            self.stop_ms = Some(clock.now_ms());
            return RunState::Finished;
        }
        match advance(&mut self.root, &mut env) {
            Progress::Done => {
                let mut prev = self.root.last_event;
                match &self.root.phase {
                    Phase::Done(Ok(out)) => {
                        env.emit(&mut prev, "ExecutionSucceeded", json!({"output": out.to_string(), "outputDetails": {"truncated": false}}));
                        self.output = Some(out.clone());
                        self.status = ExecutionStatus::Succeeded;
                    }
                    Phase::Done(Err(e)) => {
                        env.emit(&mut prev, "ExecutionFailed", error_details(e));
                        self.error = Some(e.clone());
                        self.status = ExecutionStatus::Failed;
                    }
                    _ => {}
                }
                self.root.last_event = prev;
                self.stop_ms = Some(clock.now_ms());
                RunState::Finished
            }
            Progress::Blocked(wake) => RunState::Waiting {
                wake_at_ms: earliest(wake, deadline),
            },
        }
    }

    /// `SendTaskSuccess`: completes the task waiting for `token` with `output` (JSON text).
    /// Call [`Execution::run`] afterwards to go on.
    pub fn send_task_success(&mut self, token: &str, output: &str) -> Result<(), TokenError> {
        let value: Value =
            serde_json::from_str(output).map_err(|e| TokenError::InvalidOutput(e.to_string()))?;
        self.resolve(token, Ok(value))
    }

    /// `SendTaskFailure`: fails the task waiting for `token`.
    pub fn send_task_failure(
        &mut self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), TokenError> {
        self.resolve(token, Err(StatesError::new(error, cause)))
    }

    /// `GetActivityTask` handed the activity task waiting for `token` to a worker: records
    /// `ActivityStarted` (with the worker's name) in the task's branch of the history.
    pub fn activity_started(
        &mut self,
        token: &str,
        worker_name: Option<&str>,
        now_ms: u64,
    ) -> Result<(), TokenError> {
        if self.status != ExecutionStatus::Running {
            return Err(TokenError::TaskDoesNotExist);
        }
        let thread = find_task_thread(&mut self.root, token).ok_or(TokenError::TaskDoesNotExist)?;
        let id = self.history.len() as u64 + 1;
        let details = match worker_name {
            Some(w) => json!({ "workerName": w }),
            None => json!({}),
        };
        self.history.push(HistoryEvent {
            id,
            previous_event_id: thread.last_event,
            timestamp_ms: now_ms,
            event_type: std::borrow::Cow::Borrowed("ActivityStarted"),
            details: details.into(),
        });
        thread.last_event = id;
        Ok(())
    }

    /// `SendTaskHeartbeat`: restarts the heartbeat clock of the task waiting for `token`.
    pub fn send_task_heartbeat(&mut self, token: &str, now_ms: u64) -> Result<(), TokenError> {
        let step = find_task(&mut self.root, token).ok_or(TokenError::TaskDoesNotExist)?;
        if let Step::Task {
            heartbeat_ms: Some(hb),
            heartbeat_deadline,
            ..
        } = step
        {
            *heartbeat_deadline = Some(now_ms.saturating_add(*hb));
        }
        Ok(())
    }

    fn resolve(
        &mut self,
        token: &str,
        outcome: Result<Value, StatesError>,
    ) -> Result<(), TokenError> {
        if self.status != ExecutionStatus::Running {
            return Err(TokenError::TaskDoesNotExist);
        }
        match find_task(&mut self.root, token) {
            Some(Step::Task { resolved, .. }) if resolved.is_none() => {
                *resolved = Some(outcome);
                Ok(())
            }
            _ => Err(TokenError::TaskDoesNotExist),
        }
    }

    /// `StopExecution`: aborts the execution (error and cause are optional in the API).
    pub fn stop(
        &mut self,
        machine: &StateMachine,
        clock: &dyn Clock,
        executor: &dyn TaskExecutor,
        error: Option<&str>,
        cause: Option<&str>,
    ) {
        if self.status != ExecutionStatus::Running {
            return;
        }
        let mut env = Env {
            machine,
            clock,
            executor,
            history: &mut self.history,
            info: &self.info,
            input: &self.input,
            start_ms: self.start_ms,
        };
        abort_thread(&mut self.root, &mut env);
        let mut details = Map::new();
        if let Some(e) = error {
            details.insert("error".into(), json!(e));
        }
        if let Some(c) = cause {
            details.insert("cause".into(), json!(c));
        }
        let mut prev = self.root.last_event;
        env.emit(&mut prev, "ExecutionAborted", Value::Object(details));
        self.status = ExecutionStatus::Aborted;
        self.error = error.map(|e| StatesError::new(e, cause.unwrap_or_default()));
        self.stop_ms = Some(clock.now_ms());
    }

    /// The execution's status.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The output of a succeeded execution.
    pub fn output(&self) -> Option<&Value> {
        self.output.as_ref()
    }

    /// The error of a failed, timed-out or aborted execution.
    pub fn error(&self) -> Option<&StatesError> {
        self.error.as_ref()
    }

    /// The execution's input.
    pub fn input(&self) -> &Value {
        &self.input
    }

    /// The identity of the execution.
    pub fn info(&self) -> &ExecutionInfo {
        &self.info
    }

    /// When it started and (once ended) stopped, in milliseconds since the epoch.
    pub fn times_ms(&self) -> (u64, Option<u64>) {
        (self.start_ms, self.stop_ms)
    }

    /// The history, oldest first.
    pub fn history(&self) -> &[HistoryEvent] {
        &self.history
    }

    /// Moves the history out, for a store that keeps it apart from the rest of the
    /// execution (written once per event rather than with every write of the state);
    /// [`Execution::restore_history`] puts it back.
    pub fn take_history(&mut self) -> Vec<HistoryEvent> {
        std::mem::take(&mut self.history)
    }

    /// Puts back what [`Execution::take_history`] took, or the whole history a store read
    /// back (events numbered from 1, in order).
    pub fn restore_history(&mut self, history: Vec<HistoryEvent>) {
        self.history = history;
    }

    /// The execution as DescribeExecution answers (camelCase members, dates in epoch seconds,
    /// `input`/`output` as JSON text).
    pub fn describe(&self) -> Value {
        let mut m = Map::new();
        m.insert("executionArn".into(), json!(self.info.execution_arn));
        m.insert("stateMachineArn".into(), json!(self.info.state_machine_arn));
        m.insert("name".into(), json!(self.info.name));
        m.insert("status".into(), json!(self.status));
        m.insert("startDate".into(), json!(self.start_ms as f64 / 1000.0));
        if let Some(stop) = self.stop_ms {
            m.insert("stopDate".into(), json!(stop as f64 / 1000.0));
        }
        m.insert("input".into(), json!(self.input.to_string()));
        m.insert("inputDetails".into(), json!({"included": true}));
        if let Some(out) = &self.output {
            m.insert("output".into(), json!(out.to_string()));
            m.insert("outputDetails".into(), json!({"included": true}));
        }
        if let Some(e) = &self.error {
            if !e.error.is_empty() {
                m.insert("error".into(), json!(e.error));
            }
            if !e.cause.is_empty() {
                m.insert("cause".into(), json!(e.cause));
            }
        }
        m.insert("redriveCount".into(), json!(0));
        Value::Object(m)
    }

    /// The `detail` of the "Step Functions Execution Status Change" event the service publishes
    /// on the default bus (`source: aws.states`) for the execution's current status; dates in
    /// epoch milliseconds as the service writes them there.
    pub fn status_change_detail(&self) -> Value {
        json!({
            "executionArn": self.info.execution_arn,
            "stateMachineArn": self.info.state_machine_arn,
            "name": self.info.name,
            "status": self.status,
            "startDate": self.start_ms,
            "stopDate": self.stop_ms,
            "input": self.input.to_string(),
            "output": self.output.as_ref().map(Value::to_string),
            "inputDetails": {"included": true},
            "outputDetails": self.output.as_ref().map(|_| json!({"included": true})),
            "error": self.error.as_ref().map(|e| e.error.clone()).filter(|e| !e.is_empty()),
            "cause": self.error.as_ref().map(|e| e.cause.clone()).filter(|c| !c.is_empty()),
        })
    }

    /// The workflow variables of the top-level scope, as the states so far assigned them.
    pub fn variables(&self) -> &Map<String, Value> {
        &self.root.vars
    }

    /// The tokens of the tasks the execution waits for.
    pub fn pending_tokens(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_tokens(&self.root, &mut out);
        out
    }
}

fn error_details(e: &StatesError) -> Value {
    let mut m = Map::new();
    if !e.error.is_empty() {
        m.insert("error".into(), json!(e.error));
    }
    if !e.cause.is_empty() {
        m.insert("cause".into(), json!(e.cause));
    }
    Value::Object(m)
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn collect_tokens(t: &Thread, out: &mut Vec<String>) {
    if let Phase::Running(r) = &t.phase {
        match &r.step {
            Step::Task {
                token,
                resolved: None,
                ..
            } => out.push(token.clone()),
            Step::Parallel { children } => children.iter().for_each(|c| collect_tokens(c, out)),
            Step::Map(m) => m.active.iter().for_each(|(_, c)| collect_tokens(c, out)),
            _ => {}
        }
    }
}

/// The thread whose running task waits for `token`.
fn find_task_thread<'a>(t: &'a mut Thread, token: &str) -> Option<&'a mut Thread> {
    let Phase::Running(r) = &t.phase else {
        return None;
    };
    if matches!(&r.step, Step::Task { token: tk, .. } if tk == token) {
        return Some(t);
    }
    let Phase::Running(r) = &mut t.phase else {
        return None;
    };
    match &mut r.step {
        Step::Parallel { children } => children.iter_mut().find_map(|c| find_task_thread(c, token)),
        Step::Map(m) => m
            .active
            .iter_mut()
            .find_map(|(_, c)| find_task_thread(c, token)),
        _ => None,
    }
}

fn find_task<'a>(t: &'a mut Thread, token: &str) -> Option<&'a mut Step> {
    let Phase::Running(r) = &mut t.phase else {
        return None;
    };
    if matches!(&r.step, Step::Task { token: t, .. } if t == token) {
        return Some(&mut r.step);
    }
    match &mut r.step {
        Step::Parallel { children } => children.iter_mut().find_map(|c| find_task(c, token)),
        Step::Map(m) => m.active.iter_mut().find_map(|(_, c)| find_task(c, token)),
        _ => None,
    }
}

/// Records the abort of whatever `t` is doing (a sibling failed, the execution stopped or timed out).
fn abort_thread(t: &mut Thread, env: &mut Env<'_>) {
    let Phase::Running(r) = &mut t.phase else {
        return;
    };
    let ty = env
        .container(&t.scope)
        .and_then(|c| c.get(&r.state))
        .map(|s| s.kind.type_name())
        .unwrap_or("Task");
    match &mut r.step {
        Step::Parallel { children } => children.iter_mut().for_each(|c| abort_thread(c, env)),
        Step::Map(m) => {
            for (i, c) in m.active.iter_mut() {
                abort_thread(c, env);
                let mut prev = c.last_event;
                env.emit(
                    &mut prev,
                    "MapIterationAborted",
                    HistoryDetails::MapIteration {
                        name: r.state.clone(),
                        index: *i,
                    },
                );
            }
        }
        _ => {}
    }
    let kind = match ty {
        "Wait" => "WaitStateAborted",
        "Parallel" => "ParallelStateAborted",
        "Map" => "MapStateAborted",
        _ => "TaskStateAborted",
    };
    env.emit(&mut t.last_event, kind, Value::Null);
    t.phase = Phase::Done(Err(StatesError::new("States.Aborted", "")));
}

/// Runs one thread until it ends or blocks.
fn advance(t: &mut Thread, env: &mut Env<'_>) -> Progress {
    loop {
        let phase = std::mem::replace(&mut t.phase, Phase::Done(Ok(Value::Null)));
        let machine = env.machine;
        let Some(container) = container_of(machine, &t.scope) else {
            t.phase = Phase::Done(Err(StatesError::new(
                names::RUNTIME,
                "The execution's state no longer matches its definition",
            )));
            return Progress::Done;
        };
        match phase {
            Phase::Done(r) => {
                t.phase = Phase::Done(r);
                return Progress::Done;
            }
            Phase::Enter { state, input } => {
                let Some(st) = container.get(&state) else {
                    t.phase = Phase::Done(Err(StatesError::new(
                        names::RUNTIME,
                        format!("State '{state}' does not exist"),
                    )));
                    return Progress::Done;
                };
                let ev = st.kind.entered_event();
                let id = env.emit(&mut t.last_event, ev, entered(&state, &input));
                let r = Running {
                    state,
                    input,
                    entered_event: id,
                    entered_ms: env.now(),
                    retry_counts: Vec::new(),
                    step: Step::Retrying { until: 0 },
                    assigned: None,
                };
                let out = begin(st, r, t, env);
                if let Some(p) = settle(st, out, t, env) {
                    return p;
                }
            }
            Phase::Running(r) => {
                let Some(st) = container.get(&r.state) else {
                    t.phase = Phase::Done(Err(StatesError::new(
                        names::RUNTIME,
                        format!("State '{}' does not exist", r.state),
                    )));
                    return Progress::Done;
                };
                let out = resume(st, *r, t, env);
                if let Some(p) = settle(st, out, t, env) {
                    return p;
                }
            }
        }
    }
}

/// The result of a step of a state's work.
enum Body {
    /// The state finished: its output (after every path step) or its error.
    Complete(Box<Running>, Result<Value, StatesError>),
    /// The state's work goes on later.
    Blocked(Box<Running>, Option<u64>),
}

/// Starts (or, after a retry backoff, restarts) a state's work.
fn begin(st: &State, mut r: Running, t: &mut Thread, env: &mut Env<'_>) -> Body {
    let retry_count: u64 = r.retry_counts.iter().sum();
    let raw_ctx = env.context(&st.name, r.entered_ms, retry_count, None, false);
    let jsonata = st.lang == QueryLanguage::Jsonata;
    let scope = jsonata.then(|| Scope::new(&r.input, &raw_ctx, &t.vars));
    // JSONPath fields read the variables (`$name`) through the context object.
    let ctx = if env.machine.uses_variables && !jsonata {
        with_vars(&raw_ctx, &t.vars)
    } else {
        raw_ctx.clone()
    };
    let effective = match st.input_path.apply(r.input.clone(), &ctx) {
        Ok(v) => v,
        Err(e) => {
            let e = prefixed(&st.name, r.entered_event, e);
            return Body::Complete(Box::new(r), Err(e));
        }
    };
    let fail = |r: Running, e: StatesError| {
        let e = prefixed(&st.name, r.entered_event, e);
        Body::Complete(Box::new(r), Err(e))
    };
    match &st.kind {
        Kind::Pass {
            parameters,
            result,
            result_path,
            ..
        } => {
            let res = match (result, parameters) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(p)) => p.render(&effective, &ctx),
                (None, None) => Ok(effective),
            };
            let out = res.and_then(|v| {
                r.assigned = assigned(
                    st.assign.as_ref(),
                    &v,
                    &ctx,
                    scope.as_ref(),
                    &t.vars,
                    "Assign",
                )?;
                let v = result_path.apply(r.input.clone(), v)?;
                let v = st.output_path.apply(v, &ctx)?;
                jsonata_output(st.output.as_ref(), scope.as_ref(), v, "Output")
            });
            match out {
                Ok(v) => Body::Complete(Box::new(r), Ok(v)),
                Err(e) => fail(r, e),
            }
        }
        Kind::Succeed => match st
            .output_path
            .apply(effective, &ctx)
            .and_then(|v| jsonata_output(st.output.as_ref(), scope.as_ref(), v, "Output"))
        {
            Ok(v) => Body::Complete(Box::new(r), Ok(v)),
            Err(e) => fail(r, e),
        },
        Kind::Fail { error, cause } => {
            let eval = |x: &Option<Text>| -> Result<String, StatesError> {
                Ok(match x {
                    None => String::new(),
                    Some(Text::Literal(s)) => s.clone(),
                    Some(Text::Path(p)) => {
                        let doc = if p.context { &ctx } else { &r.input };
                        match p.select(doc) {
                            Some(Value::String(s)) => s,
                            Some(other) => other.to_string(),
                            None => {
                                return Err(StatesError::new(
                                    names::RUNTIME,
                                    format!(
                                        "Invalid path '{}' : No results for path: {}",
                                        p.as_str(),
                                        p.bracket_form()
                                    ),
                                ));
                            }
                        }
                    }
                    Some(Text::Expr(x)) => match scope.as_ref().map(|sc| x.render(sc, "Error")) {
                        Some(Ok(Value::String(s))) => s,
                        Some(Ok(other)) => other.to_string(),
                        Some(Err(e)) => return Err(e),
                        None => String::new(),
                    },
                    Some(Text::Call(c)) => {
                        let call = Template::Call {
                            field: "Error".into(),
                            call: c.clone(),
                        };
                        match call.render(&r.input, &ctx)? {
                            Value::String(s) => s,
                            other => other.to_string(),
                        }
                    }
                })
            };
            match (eval(error), eval(cause)) {
                (Ok(e), Ok(c)) => Body::Complete(Box::new(r), Err(StatesError::new(e, c))),
                (Err(e), _) | (_, Err(e)) => fail(r, e),
            }
        }
        Kind::Choice { choices, default } => {
            let mut next = None;
            let mut chosen = None;
            for (i, b) in choices.iter().enumerate() {
                let hit = match &b.test {
                    Test::Rule(rule) => rule.matches(&effective, &ctx),
                    Test::Condition(c) => {
                        condition(c, scope.as_ref(), &format!("Choices[{i}]/Condition"))
                    }
                };
                match hit {
                    Ok(true) => {
                        next = Some(b.next.clone());
                        chosen = Some((i, b));
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => return fail(r, e),
                }
            }
            // A matched rule's own Assign/Output win over the state's.
            let field = |rule: Option<usize>, f: &str| match rule {
                Some(i) => format!("Choices[{i}]/{f}"),
                None => f.to_string(),
            };
            let (assign, assign_field) = match chosen {
                Some((i, b)) if b.assign.is_some() => (b.assign.as_ref(), field(Some(i), "Assign")),
                _ => (st.assign.as_ref(), field(None, "Assign")),
            };
            let (output_t, output_field) = match chosen {
                Some((i, b)) if b.output.is_some() => (b.output.as_ref(), field(Some(i), "Output")),
                _ => (st.output.as_ref(), field(None, "Output")),
            };
            match assigned(
                assign,
                &effective,
                &ctx,
                scope.as_ref(),
                &t.vars,
                &assign_field,
            ) {
                Ok(a) => r.assigned = a,
                Err(e) => return fail(r, e),
            }
            let Some(next) = next.or_else(|| default.clone()) else {
                return fail(
                    r,
                    StatesError::new(
                        names::NO_CHOICE_MATCHED,
                        "No Choice rule matched and no Default is set.",
                    ),
                );
            };
            match st
                .output_path
                .apply(effective, &ctx)
                .and_then(|v| jsonata_output(output_t, scope.as_ref(), v, &output_field))
            {
                Ok(v) => {
                    // The chosen target rides along in the output slot of the Choice's transition.
                    t.phase = Phase::Enter {
                        state: next,
                        input: Value::Null,
                    };
                    Body::Complete(Box::new(r), Ok(v))
                }
                Err(e) => fail(r, e),
            }
        }
        Kind::Wait { wait, .. } => {
            let now = env.now();
            let until = match wait {
                WaitFor::Seconds(s) => Ok(now.saturating_add(s.saturating_mul(1000))),
                WaitFor::Timestamp(ms) => Ok((*ms).max(0) as u64),
                WaitFor::Expr(seconds, x) => {
                    let field = if *seconds { "Seconds" } else { "Timestamp" };
                    match scope.as_ref().map(|sc| x.render(sc, field)) {
                        Some(Err(e)) => Err(e),
                        Some(Ok(v)) if *seconds => match v.as_u64() {
                            Some(n) => Ok(now.saturating_add(n.saturating_mul(1000))),
                            None => Err(StatesError::new(
                                names::QUERY_EVALUATION_ERROR,
                                format!(
                                    "The field 'Seconds' must evaluate to a non-negative integer, not {v}"
                                ),
                            )),
                        },
                        Some(Ok(v)) => match v.as_str().and_then(timestamp::parse) {
                            Some(ms) => Ok(ms.max(0) as u64),
                            None => Err(StatesError::new(
                                names::QUERY_EVALUATION_ERROR,
                                format!(
                                    "The field 'Timestamp' must evaluate to an ISO-8601 extended offset date-time string, not {v}"
                                ),
                            )),
                        },
                        None => Ok(now),
                    }
                }
                WaitFor::SecondsPath(p) => match p.select(&effective) {
                    Some(Value::Number(n)) if n.as_u64().is_some() => {
                        Ok(now.saturating_add(n.as_u64().unwrap_or(0).saturating_mul(1000)))
                    }
                    _ => Err(StatesError::new(
                        names::RUNTIME,
                        format!(
                            "The SecondsPath parameter does not reference a valid non-negative integer: {}",
                            p.as_str()
                        ),
                    )),
                },
                WaitFor::TimestampPath(p) => match p
                    .select(&effective)
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(timestamp::parse)
                {
                    Some(ms) => Ok(ms.max(0) as u64),
                    None => Err(StatesError::new(
                        names::RUNTIME,
                        format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {}",
                            p.as_str()
                        ),
                    )),
                },
            };
            let until = match until {
                Ok(u) => u,
                Err(e) => return fail(r, e),
            };
            match assigned(
                st.assign.as_ref(),
                &effective,
                &ctx,
                scope.as_ref(),
                &t.vars,
                "Assign",
            ) {
                Ok(a) => r.assigned = a,
                Err(e) => return fail(r, e),
            }
            match st
                .output_path
                .apply(effective, &ctx)
                .and_then(|v| jsonata_output(st.output.as_ref(), scope.as_ref(), v, "Output"))
            {
                Ok(output) => {
                    r.step = Step::Waiting { until, output };
                    resume(st, r, t, env)
                }
                Err(e) => fail(r, e),
            }
        }
        Kind::Task {
            resource,
            timeout,
            heartbeat,
            work,
            credentials,
        } => {
            let (rtype, rname) = resource_parts(resource);
            let secs = |n: &Option<Number>, what: &str| -> Result<Option<u64>, StatesError> {
                n.as_ref()
                    .map(|n| number(n, &effective, what, scope.as_ref()).map(|x| x.max(0.0) as u64))
                    .transpose()
            };
            let (timeout_s, heartbeat_s) = match (
                secs(timeout, "TimeoutSecondsPath"),
                secs(heartbeat, "HeartbeatSecondsPath"),
            ) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return fail(r, e),
            };
            let token = wants_token(resource).then(|| {
                format!(
                    "{}:{}",
                    uuid::Uuid::new_v4().simple(),
                    env.history.len() + 1
                )
            });
            let ctx = env.context(&st.name, r.entered_ms, retry_count, token.as_deref(), true);
            let rendered = if jsonata {
                let sc = Scope::new(&r.input, &ctx, &t.vars);
                work.arguments.as_ref().map(|a| a.render(&sc, "Arguments"))
            } else if env.machine.uses_variables {
                let vctx = with_vars(&ctx, &t.vars);
                work.parameters
                    .as_ref()
                    .map(|p| p.render(&effective, &vctx))
            } else {
                work.parameters.as_ref().map(|p| p.render(&effective, &ctx))
            };
            let params = match rendered {
                Some(Ok(v)) => v,
                Some(Err(e)) => return fail(r, e),
                None => effective,
            };
            // An activity's events are Activity*, with their own details (no region, no
            // TaskStarted: a worker's GetActivityTask records ActivityStarted).
            let activity = rtype == ACTIVITY;
            let mut sched = if activity {
                json!({"resource": rname, "input": params.to_string(), "inputDetails": {"truncated": false}})
            } else {
                json!({"resourceType": rtype, "resource": rname, "region": env.info.region, "parameters": params.to_string()})
            };
            if let Some(m) = sched.as_object_mut() {
                if let Some(s) = timeout_s {
                    m.insert("timeoutInSeconds".into(), json!(s));
                }
                if let Some(s) = heartbeat_s {
                    m.insert("heartbeatInSeconds".into(), json!(s));
                }
                if let Some(role) = credentials.as_ref().and_then(|c| c.get("RoleArn"))
                    && !activity
                {
                    m.insert("taskCredentials".into(), json!({"roleArn": role}));
                }
            }
            let scheduled = if activity {
                "ActivityScheduled"
            } else {
                "TaskScheduled"
            };
            env.emit(&mut t.last_event, scheduled, sched);
            let tctx = TaskContext {
                execution_arn: &env.info.execution_arn,
                state_machine_arn: &env.info.state_machine_arn,
                state_name: &st.name,
                task_token: token.as_deref(),
                timeout_seconds: timeout_s,
                context: &ctx,
            };
            let outcome = env.executor.start(resource, &params, &tctx);
            if activity {
                if let TaskOutcome::Failed { error, cause } = &outcome {
                    env.emit(
                        &mut t.last_event,
                        "ActivityScheduleFailed",
                        json!({"error": error, "cause": cause}),
                    );
                }
            } else {
                env.emit(
                    &mut t.last_event,
                    "TaskStarted",
                    json!({"resourceType": rtype, "resource": rname}),
                );
            }
            match outcome {
                TaskOutcome::Succeeded(v) => task_succeeded(st, r, work, v, &rtype, &rname, t, env),
                TaskOutcome::Failed { error, cause } => {
                    if !activity {
                        env.emit(&mut t.last_event, "TaskFailed", json!({"resourceType": rtype, "resource": rname, "error": error, "cause": cause}));
                    }
                    Body::Complete(Box::new(r), Err(StatesError::new(error, cause)))
                }
                TaskOutcome::Pending { token, submitted } => {
                    if let Some(out) = submitted {
                        env.emit(
                            &mut t.last_event,
                            "TaskSubmitted",
                            json!({"resourceType": rtype, "resource": rname, "output": out.to_string(), "outputDetails": {"truncated": false}}),
                        );
                    }
                    let now = env.now();
                    r.step = Step::Task {
                        token,
                        resource: resource.clone(),
                        deadline: timeout_s.map(|s| now.saturating_add(s.saturating_mul(1000))),
                        heartbeat_ms: heartbeat_s.map(|s| s.saturating_mul(1000)),
                        heartbeat_deadline: heartbeat_s
                            .map(|s| now.saturating_add(s.saturating_mul(1000))),
                        resolved: None,
                    };
                    resume(st, r, t, env)
                }
            }
        }
        Kind::Parallel { branches, work } => {
            let rendered = match (&scope, &work.arguments, &work.parameters) {
                (Some(sc), Some(a), _) => Some(a.render(sc, "Arguments")),
                (None, _, Some(p)) => Some(p.render(&effective, &ctx)),
                _ => None,
            };
            let input = match rendered {
                Some(Ok(v)) => v,
                Some(Err(e)) => return fail(r, e),
                None => effective,
            };
            let started = env.emit(&mut t.last_event, "ParallelStateStarted", Value::Null);
            let children = branches
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let mut scope = t.scope.clone();
                    scope.push(ScopeStep::Branch(st.name.clone(), i));
                    Thread {
                        vars: t.vars.clone(),
                        scope,
                        last_event: started,
                        phase: Phase::Enter {
                            state: b.start_at.clone(),
                            input: input.clone(),
                        },
                    }
                })
                .collect();
            r.step = Step::Parallel { children };
            resume(st, r, t, env)
        }
        Kind::Map {
            items_path,
            items: items_t,
            item_selector,
            item_selector_jsonata,
            max_concurrency,
            batcher,
            tolerated_count,
            tolerated_percentage,
            ..
        } => {
            let picked = match (&scope, items_t) {
                (Some(sc), Some(x)) => x.render(sc, "Items").and_then(|v| match v {
                    Value::Array(_) => Ok(v),
                    other => Err(StatesError::new(
                        names::QUERY_EVALUATION_ERROR,
                        format!("The field 'Items' must evaluate to a JSON array, not {other}"),
                    )),
                }),
                _ => items_path.apply(effective.clone(), &ctx),
            };
            let items = match picked {
                Ok(Value::Array(a)) => a,
                Ok(_) => {
                    let shown = match items_path {
                        PathField::Path(p) => p.as_str().to_string(),
                        _ => "$".to_string(),
                    };
                    return fail(
                        r,
                        StatesError::new(
                            names::RUNTIME,
                            format!(
                                "Invalid path '{shown}': The value at the path is not a JSON array"
                            ),
                        ),
                    );
                }
                Err(e) => return fail(r, e),
            };
            // Called once: it takes the items (no copy of each one when no selector shapes them).
            let numbers = move || -> Result<(usize, Tolerance, Vec<Value>), StatesError> {
                let max = number(
                    max_concurrency,
                    &effective,
                    "MaxConcurrencyPath",
                    scope.as_ref(),
                )? as usize;
                let tolerated = match (tolerated_count, tolerated_percentage) {
                    (None, None) => None,
                    (c, p) => Some((
                        c.as_ref()
                            .map(|n| number(n, &effective, "ToleratedFailureCountPath", None))
                            .transpose()?
                            .map(|x| x as u64),
                        p.as_ref()
                            .map(|n| number(n, &effective, "ToleratedFailurePercentagePath", None))
                            .transpose()?,
                    )),
                };
                // ItemSelector shapes each item first; the batcher then groups the shaped items.
                let mut selected = Vec::with_capacity(items.len());
                for (i, value) in items.into_iter().enumerate() {
                    selected.push(match (item_selector, item_selector_jsonata, &scope) {
                        (_, Some(sel), Some(sc)) => {
                            sel.render(&sc.with_map_item(i, &value), "ItemSelector")?
                        }
                        (Some(sel), _, _) => {
                            let mut ictx = ctx.clone();
                            if let Some(m) = ictx.as_object_mut() {
                                m.insert(
                                    "Map".into(),
                                    json!({"Item": {"Index": i, "Value": value}}),
                                );
                            }
                            sel.render(&effective, &ictx)?
                        }
                        _ => value,
                    });
                }
                let inputs = match batcher {
                    None => selected,
                    Some(b) => {
                        let batch_input = b
                            .batch_input
                            .as_ref()
                            .map(|bi| bi.render(&effective, &ctx))
                            .transpose()?;
                        batches(b, &selected, &effective)?
                            .into_iter()
                            .map(|group| {
                                let mut m = Map::new();
                                if let Some(bi) = &batch_input {
                                    m.insert("BatchInput".into(), bi.clone());
                                }
                                m.insert("Items".into(), Value::Array(group));
                                Value::Object(m)
                            })
                            .collect()
                    }
                };
                Ok((max, tolerated, inputs))
            };
            let (max, tolerated, inputs) = match numbers() {
                Ok(x) => x,
                Err(e) => return fail(r, e),
            };
            env.emit(
                &mut t.last_event,
                "MapStateStarted",
                json!({"length": inputs.len()}),
            );
            let n = inputs.len();
            r.step = Step::Map(Box::new(MapRun {
                items: inputs,
                next_item: 0,
                active: Vec::new(),
                results: vec![None; n],
                failures: 0,
                max_concurrency: if max == 0 { usize::MAX } else { max },
                tolerated,
            }));
            resume(st, r, t, env)
        }
    }
}

fn batches(b: &Batcher, items: &[Value], input: &Value) -> Result<Vec<Vec<Value>>, StatesError> {
    let max_items = b
        .max_items
        .as_ref()
        .map(|n| number(n, input, "MaxItemsPerBatchPath", None))
        .transpose()?
        .map(|x| x.max(1.0) as usize);
    let max_bytes = b
        .max_bytes
        .as_ref()
        .map(|n| number(n, input, "MaxInputBytesPerBatchPath", None))
        .transpose()?
        .map(|x| x.max(1.0) as usize);
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut cur: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    for it in items {
        let size = it.to_string().len();
        let full_items = max_items.is_some_and(|m| cur.len() >= m);
        let full_bytes = max_bytes.is_some_and(|m| !cur.is_empty() && bytes + size > m);
        if full_items || full_bytes {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += size;
        cur.push(it.clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// The `resourceType` [`resource_parts`] gives an activity.
const ACTIVITY: &str = "activity";

/// `TaskFailed`, or `ActivityFailed` for an activity.
fn task_failed(env: &mut Env<'_>, prev: &mut u64, rtype: &str, rname: &str, e: &StatesError) {
    if rtype == ACTIVITY {
        env.emit(
            prev,
            "ActivityFailed",
            json!({"error": e.error, "cause": e.cause}),
        );
    } else {
        env.emit(
            prev,
            "TaskFailed",
            json!({"resourceType": rtype, "resource": rname, "error": e.error, "cause": e.cause}),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn task_succeeded(
    st: &State,
    r: Running,
    work: &Work,
    v: Value,
    rtype: &str,
    rname: &str,
    t: &mut Thread,
    env: &mut Env<'_>,
) -> Body {
    let text = v.to_string();
    if text.len() > MAX_PAYLOAD_BYTES {
        let e = StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                st.name
            ),
        );
        task_failed(env, &mut t.last_event, rtype, rname, &e);
        return Body::Complete(Box::new(r), Err(e));
    }
    if rtype == ACTIVITY {
        env.emit(
            &mut t.last_event,
            "ActivitySucceeded",
            json!({"output": text, "outputDetails": {"truncated": false}}),
        );
    } else {
        env.emit(&mut t.last_event, "TaskSucceeded", json!({"resourceType": rtype, "resource": rname, "output": text, "outputDetails": {"truncated": false}}));
    }
    let mut r = r;
    let out = finish_work(st, &mut r, work, v, &t.vars, env);
    Body::Complete(Box::new(r), out)
}

/// `ResultSelector` → `Assign` → `ResultPath` → `OutputPath` of Task, Parallel and Map (in
/// JSONata: `Assign` and `Output` over `$states.result`). The assignments go into `r`.
fn finish_work(
    st: &State,
    r: &mut Running,
    work: &Work,
    result: Value,
    vars: &Map<String, Value>,
    env: &Env<'_>,
) -> Result<Value, StatesError> {
    let raw_ctx = env.context(
        &st.name,
        r.entered_ms,
        r.retry_counts.iter().sum(),
        None,
        false,
    );
    let out = if st.lang == QueryLanguage::Jsonata {
        let scope = Scope::new(&r.input, &raw_ctx, vars).with("result", &result);
        assigned(
            st.assign.as_ref(),
            &result,
            &raw_ctx,
            Some(&scope),
            vars,
            "Assign",
        )
        .and_then(|a| {
            r.assigned = a;
            jsonata_output(st.output.as_ref(), Some(&scope), result, "Output")
        })
    } else {
        let ctx = if env.machine.uses_variables {
            with_vars(&raw_ctx, vars)
        } else {
            raw_ctx
        };
        let res = match &work.result_selector {
            Some(sel) => sel.render(&result, &ctx),
            None => Ok(result),
        };
        res.and_then(|v| {
            r.assigned = assigned(st.assign.as_ref(), &v, &ctx, None, vars, "Assign")?;
            work.result_path.apply(r.input.clone(), v)
        })
        .and_then(|v| st.output_path.apply(v, &ctx))
    };
    out.map_err(|e| prefixed(&st.name, r.entered_event, e))
}

/// The context object with the workflow variables riding in it, for JSONPath `$name` paths.
fn with_vars(ctx: &Value, vars: &Map<String, Value>) -> Value {
    let mut out = match ctx {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    out.insert(VARIABLES_KEY.to_string(), Value::Object(vars.clone()));
    Value::Object(out)
}

/// The `Output` of a JSONata state (or `default` when it has none, or in a JSONPath state).
fn jsonata_output(
    output: Option<&JTemplate>,
    scope: Option<&Scope>,
    default: Value,
    field: &str,
) -> Result<Value, StatesError> {
    match (output, scope) {
        (Some(o), Some(sc)) => o.render(sc, field),
        _ => Ok(default),
    }
}

/// A JSONata `Condition`: true or false, anything else fails.
fn condition(c: &JTemplate, scope: Option<&Scope>, field: &str) -> Result<bool, StatesError> {
    let v = match (c.literal(), scope) {
        (Some(v), _) => v.clone(),
        (None, Some(sc)) => c.render(sc, field)?,
        (None, None) => Value::Null,
    };
    v.as_bool().ok_or_else(|| {
        StatesError::new(
            names::QUERY_EVALUATION_ERROR,
            format!("The field '{field}' must evaluate to a boolean, not {v}"),
        )
    })
}

/// Evaluates an `Assign` (JSONPath: over `input`, the state's result or effective input, and
/// `ctx` with the variables; JSONata: over `scope`), with the service's size limits.
fn assigned(
    assign: Option<&Assign>,
    input: &Value,
    ctx: &Value,
    scope: Option<&Scope>,
    vars: &Map<String, Value>,
    field: &str,
) -> Result<Option<Map<String, Value>>, StatesError> {
    let Some(a) = assign else {
        return Ok(None);
    };
    let v = match (a, scope) {
        (Assign::Path(t), _) => t.render(input, ctx)?,
        (Assign::Jsonata(t), Some(sc)) => t.render(sc, field)?,
        (Assign::Jsonata(_), None) => {
            return Err(StatesError::new(
                names::RUNTIME,
                "A JSONata Assign in a JSONPath state",
            ));
        }
    };
    let Value::Object(m) = v else {
        return Err(StatesError::new(
            names::QUERY_EVALUATION_ERROR,
            format!("The field '{field}' must evaluate to a JSON object, not {v}"),
        ));
    };
    let limit = |what: String| {
        StatesError::new(
            names::DATA_LIMIT_EXCEEDED,
            format!("{what} exceeds the maximum number of bytes service limit."),
        )
    };
    let mut total = 0usize;
    for (k, v) in &m {
        let n = v.to_string().len();
        if n > MAX_ASSIGN_BYTES {
            return Err(limit(format!("The value assigned to the variable '{k}'")));
        }
        total += n;
    }
    if total > MAX_ASSIGN_BYTES {
        return Err(limit(
            "The total size of the variables of this Assign".into(),
        ));
    }
    let kept: usize = vars
        .iter()
        .filter(|(k, _)| !m.contains_key(*k))
        .map(|(_, v)| v.to_string().len())
        .sum();
    if kept + total > MAX_VARIABLES_BYTES {
        return Err(limit("The total size of the execution's variables".into()));
    }
    Ok(Some(m))
}

/// Goes on with a state's work that was waiting.
fn resume(st: &State, mut r: Running, t: &mut Thread, env: &mut Env<'_>) -> Body {
    let now = env.now();
    match &mut r.step {
        Step::Retrying { until } => {
            if now >= *until {
                begin(st, r, t, env)
            } else {
                let u = *until;
                Body::Blocked(Box::new(r), Some(u))
            }
        }
        Step::Waiting { until, output } => {
            if now >= *until {
                let out = std::mem::take(output);
                Body::Complete(Box::new(r), Ok(out))
            } else {
                let u = *until;
                Body::Blocked(Box::new(r), Some(u))
            }
        }
        Step::Task {
            resource,
            deadline,
            heartbeat_deadline,
            resolved,
            ..
        } => {
            let (rtype, rname) = resource_parts(resource);
            let Kind::Task { work, .. } = &st.kind else {
                return Body::Complete(
                    Box::new(r),
                    Err(StatesError::new(names::RUNTIME, "Task state changed kind")),
                );
            };
            match resolved.take() {
                Some(Ok(v)) => task_succeeded(st, r, work, v, &rtype, &rname, t, env),
                Some(Err(e)) => {
                    task_failed(env, &mut t.last_event, &rtype, &rname, &e);
                    Body::Complete(Box::new(r), Err(e))
                }
                None => {
                    let timed_out = if deadline.is_some_and(|d| now >= d) {
                        Some(names::TIMEOUT)
                    } else if heartbeat_deadline.is_some_and(|d| now >= d) {
                        Some(names::HEARTBEAT_TIMEOUT)
                    } else {
                        None
                    };
                    match timed_out {
                        Some(err) => {
                            if rtype == ACTIVITY {
                                env.emit(
                                    &mut t.last_event,
                                    "ActivityTimedOut",
                                    json!({"error": err, "cause": ""}),
                                );
                            } else {
                                env.emit(&mut t.last_event, "TaskTimedOut", json!({"resourceType": rtype, "resource": rname, "error": err, "cause": ""}));
                            }
                            Body::Complete(Box::new(r), Err(StatesError::new(err, "")))
                        }
                        None => {
                            let wake = earliest(*deadline, *heartbeat_deadline);
                            Body::Blocked(Box::new(r), wake)
                        }
                    }
                }
            }
        }
        Step::Parallel { children } => {
            let mut wake = None;
            let mut failed = None;
            for c in children.iter_mut() {
                match advance(c, env) {
                    Progress::Blocked(w) => wake = earliest(wake, w),
                    Progress::Done => {
                        if let Phase::Done(Err(e)) = &c.phase
                            && failed.is_none()
                        {
                            failed = Some(e.clone());
                        }
                    }
                }
                if failed.is_some() {
                    break;
                }
            }
            if let Some(e) = failed {
                for c in children.iter_mut() {
                    abort_thread(c, env);
                }
                t.last_event = children
                    .iter()
                    .map(|c| c.last_event)
                    .max()
                    .unwrap_or(t.last_event);
                env.emit(&mut t.last_event, "ParallelStateFailed", error_details(&e));
                return Body::Complete(Box::new(r), Err(e));
            }
            let all_done = children.iter().all(|c| matches!(c.phase, Phase::Done(_)));
            if !all_done {
                return Body::Blocked(Box::new(r), wake);
            }
            let results: Vec<Value> = children
                .iter_mut()
                .map(
                    |c| match std::mem::replace(&mut c.phase, Phase::Done(Ok(Value::Null))) {
                        Phase::Done(Ok(v)) => v,
                        _ => Value::Null,
                    },
                )
                .collect();
            t.last_event = children
                .iter()
                .map(|c| c.last_event)
                .max()
                .unwrap_or(t.last_event);
            env.emit(&mut t.last_event, "ParallelStateSucceeded", Value::Null);
            let Kind::Parallel { work, .. } = &st.kind else {
                return Body::Complete(
                    Box::new(r),
                    Err(StatesError::new(
                        names::RUNTIME,
                        "Parallel state changed kind",
                    )),
                );
            };
            let mut r = r;
            let out = finish_work(st, &mut r, work, Value::Array(results), &t.vars, env);
            Body::Complete(Box::new(r), out)
        }
        Step::Map(m) => {
            let total = m.results.len();
            loop {
                while m.active.len() < m.max_concurrency && m.next_item < m.items.len() {
                    let i = m.next_item;
                    m.next_item += 1;
                    let input = std::mem::take(&mut m.items[i]);
                    let mut scope = t.scope.clone();
                    scope.push(ScopeStep::Processor(st.name.clone()));
                    let Kind::Map { processor, .. } = &st.kind else {
                        break;
                    };
                    let mut last = t.last_event;
                    env.emit(
                        &mut last,
                        "MapIterationStarted",
                        HistoryDetails::MapIteration {
                            name: st.name.clone(),
                            index: i,
                        },
                    );
                    m.active.push((
                        i,
                        Thread {
                            vars: t.vars.clone(),
                            scope,
                            last_event: last,
                            phase: Phase::Enter {
                                state: processor.start_at.clone(),
                                input,
                            },
                        },
                    ));
                }
                let mut wake = None;
                let mut finished_any = false;
                let mut fatal: Option<StatesError> = None;
                let run = &mut **m;
                for (i, c) in run.active.iter_mut() {
                    let i = *i;
                    match advance(c, env) {
                        Progress::Blocked(w) => wake = earliest(wake, w),
                        Progress::Done => {
                            finished_any = true;
                            let outcome =
                                std::mem::replace(&mut c.phase, Phase::Done(Ok(Value::Null)));
                            match outcome {
                                Phase::Done(Ok(v)) => {
                                    env.emit(
                                        &mut c.last_event,
                                        "MapIterationSucceeded",
                                        HistoryDetails::MapIteration {
                                            name: st.name.clone(),
                                            index: i,
                                        },
                                    );
                                    run.results[i] = Some(v);
                                }
                                Phase::Done(Err(e)) => {
                                    env.emit(
                                        &mut c.last_event,
                                        "MapIterationFailed",
                                        HistoryDetails::MapIteration {
                                            name: st.name.clone(),
                                            index: i,
                                        },
                                    );
                                    run.failures += 1;
                                    run.results[i] = Some(e.to_output());
                                    match run.tolerated {
                                        None => fatal = Some(e),
                                        Some((count, pct)) => {
                                            // Exceeding either threshold that is set fails the Map.
                                            let over_count =
                                                count.is_some_and(|c| run.failures as u64 > c);
                                            let over_pct = pct.is_some_and(|p| {
                                                total > 0
                                                    && (run.failures as f64 * 100.0 / total as f64)
                                                        > p
                                            });
                                            if over_count || over_pct {
                                                fatal = Some(StatesError::new(
                                                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                                    "The specified tolerated failure threshold was exceeded",
                                                ));
                                            }
                                        }
                                    }
                                }
                                _ => {}
                            }
                            t.last_event = t.last_event.max(c.last_event);
                            if fatal.is_some() {
                                break;
                            }
                        }
                    }
                }
                // Finished iterations leave the active set in one pass (not one removal each).
                run.active
                    .retain(|(_, c)| !matches!(c.phase, Phase::Done(_)));
                if let Some(e) = fatal {
                    for (i, c) in m.active.iter_mut() {
                        abort_thread(c, env);
                        env.emit(
                            &mut c.last_event,
                            "MapIterationAborted",
                            HistoryDetails::MapIteration {
                                name: st.name.clone(),
                                index: *i,
                            },
                        );
                    }
                    m.active.clear();
                    env.emit(&mut t.last_event, "MapStateFailed", Value::Null);
                    return Body::Complete(Box::new(r), Err(e));
                }
                if m.active.is_empty() && m.next_item >= m.items.len() {
                    let results: Vec<Value> = m
                        .results
                        .iter_mut()
                        .map(|x| x.take().unwrap_or(Value::Null))
                        .collect();
                    env.emit(&mut t.last_event, "MapStateSucceeded", Value::Null);
                    let Kind::Map { work, .. } = &st.kind else {
                        return Body::Complete(
                            Box::new(r),
                            Err(StatesError::new(names::RUNTIME, "Map state changed kind")),
                        );
                    };
                    let out = finish_work(st, &mut r, work, Value::Array(results), &t.vars, env);
                    return Body::Complete(Box::new(r), out);
                }
                if !finished_any {
                    return Body::Blocked(Box::new(r), wake);
                }
            }
        }
    }
}

/// Turns a state's step into the thread's next phase; `Some` when the thread must stop advancing.
fn settle(st: &State, body: Body, t: &mut Thread, env: &mut Env<'_>) -> Option<Progress> {
    match body {
        Body::Blocked(r, wake) => {
            t.phase = Phase::Running(r);
            Some(Progress::Blocked(wake))
        }
        Body::Complete(mut r, Ok(output)) => {
            let ty = st.kind.type_name();
            // A Choice put its chosen target in the phase already.
            let chosen = match std::mem::replace(&mut t.phase, Phase::Done(Ok(Value::Null))) {
                Phase::Enter { state, .. } if ty == "Choice" => Some(state),
                _ => None,
            };
            let assigned = r.assigned.take();
            if ty != "Fail" {
                env.emit(
                    &mut t.last_event,
                    st.kind.exited_event(),
                    exited_with(&st.name, &output, assigned.as_ref()),
                );
            }
            if let Some(a) = assigned {
                t.vars.extend(a);
            }
            let transition = match &st.kind {
                Kind::Pass { transition, .. } | Kind::Wait { transition, .. } => transition.clone(),
                Kind::Task { work, .. } | Kind::Parallel { work, .. } | Kind::Map { work, .. } => {
                    work.transition.clone()
                }
                Kind::Choice { .. } => chosen.map_or(Transition::End, Transition::Next),
                Kind::Succeed | Kind::Fail { .. } => Transition::End,
            };
            let _ = r;
            t.phase = match transition {
                Transition::Next(n) => Phase::Enter {
                    state: n,
                    input: output,
                },
                Transition::End => Phase::Done(Ok(output)),
            };
            None
        }
        Body::Complete(mut r, Err(e)) => {
            let work = match &st.kind {
                Kind::Task { work, .. } | Kind::Parallel { work, .. } | Kind::Map { work, .. } => {
                    Some(work)
                }
                _ => None,
            };
            let from_task = matches!(st.kind, Kind::Task { .. });
            if let Some(work) = work {
                if r.retry_counts.len() < work.retry.len() {
                    r.retry_counts.resize(work.retry.len(), 0);
                }
                if let Some((i, retrier)) = work
                    .retry
                    .iter()
                    .enumerate()
                    .find(|(_, x)| error_matches(&x.error_equals, &e.error, from_task))
                {
                    let attempt = r.retry_counts[i];
                    if attempt < retrier.max_attempts {
                        r.retry_counts[i] += 1;
                        let mut delay = retrier.interval_seconds as f64
                            * 1000.0
                            * retrier.backoff_rate.powi(attempt as i32);
                        if let Some(max) = retrier.max_delay_seconds {
                            delay = delay.min(max as f64 * 1000.0);
                        }
                        if retrier.jitter_full {
                            delay *= fastrand::f64();
                        }
                        let until = env.now().saturating_add(delay as u64);
                        r.step = Step::Retrying { until };
                        t.phase = Phase::Running(r);
                        return None;
                    }
                }
                if let Some((ci, c)) = work
                    .catch
                    .iter()
                    .enumerate()
                    .find(|(_, c)| error_matches(&c.error_equals, &e.error, from_task))
                {
                    return catch(st, ci, c, *r, e, t, env);
                }
            }
            t.phase = Phase::Done(Err(e));
            None
        }
    }
}

fn catch(
    st: &State,
    ci: usize,
    c: &Catcher,
    r: Running,
    e: StatesError,
    t: &mut Thread,
    env: &mut Env<'_>,
) -> Option<Progress> {
    let error_output = e.to_output();
    let raw_ctx = env.context(
        &st.name,
        r.entered_ms,
        r.retry_counts.iter().sum(),
        None,
        false,
    );
    let out = if st.lang == QueryLanguage::Jsonata {
        let scope = Scope::new(&r.input, &raw_ctx, &t.vars).with("errorOutput", &error_output);
        assigned(
            c.assign.as_ref(),
            &error_output,
            &raw_ctx,
            Some(&scope),
            &t.vars,
            &format!("Catch[{ci}]/Assign"),
        )
        .and_then(|a| {
            Ok((
                a,
                jsonata_output(
                    c.output.as_ref(),
                    Some(&scope),
                    error_output,
                    &format!("Catch[{ci}]/Output"),
                )?,
            ))
        })
    } else {
        let ctx = if env.machine.uses_variables {
            with_vars(&raw_ctx, &t.vars)
        } else {
            raw_ctx
        };
        assigned(c.assign.as_ref(), &error_output, &ctx, None, &t.vars, "")
            .and_then(|a| Ok((a, c.result_path.apply(r.input.clone(), error_output)?)))
    };
    match out {
        Ok((assigned, output)) => {
            env.emit(
                &mut t.last_event,
                st.kind.exited_event(),
                exited_with(&st.name, &output, assigned.as_ref()),
            );
            if let Some(a) = assigned {
                t.vars.extend(a);
            }
            t.phase = Phase::Enter {
                state: c.next.clone(),
                input: output,
            };
        }
        Err(pe) => t.phase = Phase::Done(Err(prefixed(&st.name, r.entered_event, pe))),
    }
    None
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
