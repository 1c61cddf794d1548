//! An Amazon States Language (AWS Step Functions) interpreter, exact to the service where the
//! service's behaviour is known, for both query languages (JSONPath and JSONata).
//!
//! * [`StateMachine::parse`] validates a definition as `CreateStateMachine` does and answers
//!   with the service's diagnostics ([`error::DefinitionError`], whose `Display` is the
//!   `InvalidDefinition` message); [`StateMachine::validate`] returns the list that
//!   `ValidateStateMachineDefinition` returns.
//! * [`exec::Execution`] runs it: every state type, the JSONPath data flow ([`payload`],
//!   [`path`]), the 18 intrinsic functions ([`intrinsic`]), Retry/Catch, timeouts and
//!   heartbeats, task tokens, Parallel and Map, and the execution history with the service's
//!   event types. Time comes from a [`exec::Clock`]; tasks are run by a [`exec::TaskExecutor`]
//!   (the bus integration plugs in there). An execution never sleeps: [`exec::Execution::run`]
//!   returns when it must wait, saying until when. Its state is serde-serializable, so it can be
//!   persisted and resumed.
//!
//! * `QueryLanguage: "JSONata"` ([`jsonata`]), at the top or per state of a JSONPath machine:
//!   `Arguments`, `Output`, `Condition`, `Items`, `{% %}` expressions in every field the service
//!   takes them, `$states.input`/`result`/`errorOutput`/`context`, and the service's extra
//!   functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//! * Workflow variables (`Assign`) in both query languages: `$name` in JSONata and in JSONPath
//!   paths; assigned when a state completes, read-only copies inside Parallel branches and Map
//!   iterations; the service's size limits.
//! * [`test_state::test_state`]: one state run alone, as the TestState API answers.
//!
//! ```
//! use ferrule_states::StateMachine;
//! use ferrule_states::exec::{Execution, ExecutionInfo, ManualClock, TaskContext, TaskExecutor, TaskOutcome};
//! use serde_json::{Value, json};
//!
//! struct Echo;
//! impl TaskExecutor for Echo {
//!     fn start(&self, _: &str, params: &Value, _: &TaskContext<'_>) -> TaskOutcome {
//!         TaskOutcome::Succeeded(json!({"Payload": params}))
//!     }
//! }
//! let machine = StateMachine::parse(r#"{
//!   "QueryLanguage": "JSONata",
//!   "StartAt": "Price",
//!   "States": {
//!     "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!               "Arguments": {"total": "{% $sum($states.input.items.price) %}"},
//!               "Assign": {"total": "{% $states.result.Payload.total %}"}, "Next": "Report"},
//!     "Report": {"Type": "Pass", "Output": {"total": "{% $total %}", "big": "{% $total > 10 %}"}, "End": true}
//!   }
//! }"#).unwrap();
//! # let info = ExecutionInfo { execution_arn: "arn:aws:states:us-east-1:1:execution:m:e".into(), name: "e".into(),
//! #     state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(), state_machine_name: "m".into(),
//! #     role_arn: "arn:aws:iam::1:role/r".into(), region: "us-east-1".into() };
//! let clock = ManualClock::new(0);
//! let (exec, _) = Execution::start(&machine, info, json!({"items": [{"price": 4}, {"price": 8}]}), &clock, &Echo);
//! assert_eq!(exec.output(), Some(&json!({"total": 12, "big": true})));
//! ```
//!
//! ```
//! use ferrule_states::StateMachine;
//! use ferrule_states::exec::{Execution, ExecutionInfo, ExecutionStatus, ManualClock, RunState, TaskContext, TaskExecutor, TaskOutcome};
//! use serde_json::{Value, json};
//!
//! /// A task runner that greets.
//! struct Greeter;
//! impl TaskExecutor for Greeter {
//!     fn start(&self, _resource: &str, params: &Value, _ctx: &TaskContext<'_>) -> TaskOutcome {
//!         TaskOutcome::Succeeded(json!({"greeting": format!("Hello, {}!", params["who"].as_str().unwrap_or("?"))}))
//!     }
//! }
//!
//! let machine = StateMachine::parse(r#"{
//!   "StartAt": "Pause",
//!   "States": {
//!     "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Greet"},
//!     "Greet": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!               "Parameters": {"who.$": "$.name"}, "ResultSelector": {"text.$": "$.greeting"},
//!               "ResultPath": "$.result", "End": true}
//!   }
//! }"#).unwrap();
//!
//! let clock = ManualClock::new(1_700_000_000_000);
//! let info = ExecutionInfo {
//!     execution_arn: "arn:aws:states:us-east-1:123456789012:execution:hello:run-1".into(),
//!     name: "run-1".into(),
//!     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:hello".into(),
//!     state_machine_name: "hello".into(),
//!     role_arn: "arn:aws:iam::123456789012:role/hello".into(),
//!     region: "us-east-1".into(),
//! };
//! let (mut exec, state) = Execution::start(&machine, info, json!({"name": "Nikki"}), &clock, &Greeter);
//! assert_eq!(state, RunState::Waiting { wake_at_ms: Some(1_700_000_030_000) });
//!
//! clock.advance(30_000); // no sleeping: the clock is moved
//! assert_eq!(exec.run(&machine, &clock, &Greeter), RunState::Finished);
//! assert_eq!(exec.status(), ExecutionStatus::Succeeded);
//! assert_eq!(exec.output(), Some(&json!({"name": "Nikki", "result": {"text": "Hello, Nikki!"}})));
//! assert_eq!(exec.history()[1].event_type, "WaitStateEntered");
//!
//! // A definition the service refuses, with its message.
//! let err = StateMachine::parse(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, \
//!      MISSING_END_STATE: Workflow has no terminal state at null'"
//! );
//! ```
#![warn(missing_docs)]

pub mod choice;
pub mod definition;
pub mod error;
pub mod exec;
pub mod history;
pub mod intrinsic;
pub mod jsonata;
pub mod path;
pub mod payload;
pub mod test_state;
pub mod timestamp;

pub use definition::StateMachine;
pub use error::{DefinitionError, Diagnostic, DiagnosticCode, StatesError};
pub use exec::{
    Clock, Execution, ExecutionInfo, ExecutionStatus, HistoryEvent, RunState, TaskContext,
    TaskExecutor, TaskOutcome,
};
