//! Errors: a refused definition (with the service's diagnostics) and a runtime error (an error
//! name and a cause, as Retry, Catch and the execution history see them).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The class of a definition problem, as `ValidateStateMachineDefinition` names it in `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiagnosticCode {
    /// The definition is not JSON (or not a JSON object).
    InvalidJsonDescription,
    /// A field is missing, unknown, of the wrong type or out of its range.
    SchemaValidationFailed,
    /// A `Next`, `Default`, `StartAt` or catcher names no state, or a state is unreachable.
    MissingTransitionTarget,
    /// No state of a states container ends the workflow.
    MissingEndState,
}

impl DiagnosticCode {
    /// The code as the service writes it (`SCHEMA_VALIDATION_FAILED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            DiagnosticCode::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            DiagnosticCode::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            DiagnosticCode::MissingEndState => "MISSING_END_STATE",
        }
    }
}

/// One problem of a definition, as an entry of `ValidateStateMachineDefinition`'s `diagnostics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `ERROR` for everything this crate reports (the service also has `WARNING`).
    pub severity: String,
    /// The class of the problem.
    pub code: DiagnosticCode,
    /// What is wrong, in the service's words where they are known.
    pub message: String,
    /// A JSON pointer-like location (`/States/A/Next`, `/States/C/Choices[0]/Next`), absent for
    /// problems of the whole graph (`MISSING_END_STATE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Diagnostic {
    pub(crate) fn error(
        code: DiagnosticCode,
        message: impl Into<String>,
        location: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: "ERROR".into(),
            code,
            message: message.into(),
            location,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The service writes `at null` when a diagnostic has no location.
        write!(
            f,
            "{}: {} at {}",
            self.code.as_str(),
            self.message,
            self.location.as_deref().unwrap_or("null")
        )
    }
}

/// A definition the service would refuse with `InvalidDefinition`.
///
/// Its `Display` is the service's message:
/// `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionError {
    /// Every problem found, in the order the checks ran (never empty).
    pub diagnostics: Vec<Diagnostic>,
}

impl DefinitionError {
    /// The error code the API answers with (`InvalidDefinition`).
    pub const ERROR_TYPE: &'static str = "InvalidDefinition";
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Invalid State Machine Definition: '")?;
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("'")
    }
}

impl std::error::Error for DefinitionError {}

/// A runtime error: the `Error` and `Cause` a state fails with, matched by `ErrorEquals` and
/// recorded in history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatesError {
    /// The error name (`States.Runtime`, `States.TaskFailed`, or a task's own name).
    pub error: String,
    /// The human-readable cause.
    pub cause: String,
}

impl StatesError {
    /// An error with a name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> StatesError {
        StatesError {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// The error output a catcher passes on: `{"Error": ..., "Cause": ...}`.
    pub fn to_output(&self) -> serde_json::Value {
        serde_json::json!({"Error": self.error, "Cause": self.cause})
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for StatesError {}

/// The predefined error names.
pub mod names {
    /// Matches any error name except `States.DataLimitExceeded` and `States.Runtime`.
    pub const ALL: &str = "States.ALL";
    /// A state or the execution ran longer than its `TimeoutSeconds`.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A task sent no heartbeat within `HeartbeatSeconds`.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// Any task failure except a timeout.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A runtime error no retrier or catcher can handle through `States.ALL`.
    pub const RUNTIME: &str = "States.Runtime";
    /// A Parallel branch or Map iteration failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// No Choice rule matched and there is no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// `ResultPath` cannot be applied to the state's input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A path in `Parameters` cannot be applied.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Map state failed more items than it tolerates.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A payload is larger than the service's 256 KiB.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// A JSONata expression failed or gave no value where one is needed.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    /// The task's role may not call the resource.
    pub const PERMISSIONS: &str = "States.Permissions";
}
