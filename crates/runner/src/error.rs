//! The runner's errors: a kind per Step Functions exception, with the
//! service's message.

use std::fmt;

use ferrule_store::StoreError;

/// What went wrong, as the service's exception names say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunnerErrorKind {
    /// `InvalidDefinition`: the definition is not valid ASL or uses a resource ferrule cannot run.
    InvalidDefinition,
    /// `InvalidArn`.
    InvalidArn,
    /// `InvalidName`.
    InvalidName,
    /// `InvalidExecutionInput`: the input is not JSON (or too large).
    InvalidExecutionInput,
    /// `InvalidOutput`: `SendTaskSuccess` output that is not JSON.
    InvalidOutput,
    /// `InvalidToken`: a task token ferrule never issued.
    InvalidToken,
    /// `TaskDoesNotExist`: the token's task is no longer waiting.
    TaskDoesNotExist,
    /// `TaskTimedOut`: the token's task timed out.
    TaskTimedOut,
    /// `StateMachineDoesNotExist`.
    StateMachineDoesNotExist,
    /// `StateMachineAlreadyExists`: same name, another definition.
    StateMachineAlreadyExists,
    /// `StateMachineTypeNotSupported`: e.g. StartSyncExecution of a STANDARD machine.
    StateMachineTypeNotSupported,
    /// `ExecutionDoesNotExist`.
    ExecutionDoesNotExist,
    /// `ExecutionAlreadyExists`: same name, another input or already ended.
    ExecutionAlreadyExists,
    /// `ActivityDoesNotExist`.
    ActivityDoesNotExist,
    /// `ActivityAlreadyExists`: same name, other tags.
    ActivityAlreadyExists,
    /// `ResourceNotFound`: a version or alias that does not exist.
    ResourceNotFound,
    /// `ConflictException`: e.g. deleting a version an alias routes to.
    Conflict,
    /// `ValidationException`: a parameter outside the model's constraints.
    Validation,
    /// `TooManyTags`.
    TooManyTags,
    /// The store failed (`InternalFailure`, HTTP 500).
    Internal,
}

impl RunnerErrorKind {
    /// The exception's name on the wire (`__type`).
    pub fn type_name(self) -> &'static str {
        match self {
            RunnerErrorKind::InvalidDefinition => "InvalidDefinition",
            RunnerErrorKind::InvalidArn => "InvalidArn",
            RunnerErrorKind::InvalidName => "InvalidName",
            RunnerErrorKind::InvalidExecutionInput => "InvalidExecutionInput",
            RunnerErrorKind::InvalidOutput => "InvalidOutput",
            RunnerErrorKind::InvalidToken => "InvalidToken",
            RunnerErrorKind::TaskDoesNotExist => "TaskDoesNotExist",
            RunnerErrorKind::TaskTimedOut => "TaskTimedOut",
            RunnerErrorKind::StateMachineDoesNotExist => "StateMachineDoesNotExist",
            RunnerErrorKind::StateMachineAlreadyExists => "StateMachineAlreadyExists",
            RunnerErrorKind::StateMachineTypeNotSupported => "StateMachineTypeNotSupported",
            RunnerErrorKind::ExecutionDoesNotExist => "ExecutionDoesNotExist",
            RunnerErrorKind::ExecutionAlreadyExists => "ExecutionAlreadyExists",
            RunnerErrorKind::ActivityDoesNotExist => "ActivityDoesNotExist",
            RunnerErrorKind::ActivityAlreadyExists => "ActivityAlreadyExists",
            RunnerErrorKind::ResourceNotFound => "ResourceNotFound",
            RunnerErrorKind::Conflict => "ConflictException",
            RunnerErrorKind::Validation => "ValidationException",
            RunnerErrorKind::TooManyTags => "TooManyTags",
            RunnerErrorKind::Internal => "InternalFailure",
        }
    }
}

/// An error of a runner call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerError {
    kind: RunnerErrorKind,
    message: String,
}

impl RunnerError {
    /// An error of `kind` with the service's `message`.
    pub fn new(kind: RunnerErrorKind, message: impl Into<String>) -> RunnerError {
        RunnerError {
            kind,
            message: message.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> RunnerErrorKind {
        self.kind
    }

    /// The message, as the service writes it.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn machine_missing(arn: &str) -> RunnerError {
        RunnerError::new(
            RunnerErrorKind::StateMachineDoesNotExist,
            format!("State Machine Does Not Exist: '{arn}'"),
        )
    }

    pub(crate) fn execution_missing(arn: &str) -> RunnerError {
        RunnerError::new(
            RunnerErrorKind::ExecutionDoesNotExist,
            format!("Execution Does Not Exist: '{arn}'"),
        )
    }

    pub(crate) fn activity_missing(arn: &str) -> RunnerError {
        RunnerError::new(
            RunnerErrorKind::ActivityDoesNotExist,
            format!("Activity Does Not Exist: '{arn}'"),
        )
    }

    pub(crate) fn invalid_arn(arn: &str) -> RunnerError {
        RunnerError::new(RunnerErrorKind::InvalidArn, format!("Invalid Arn: '{arn}'"))
    }

    pub(crate) fn validation(message: impl Into<String>) -> RunnerError {
        RunnerError::new(RunnerErrorKind::Validation, message)
    }
}

impl fmt::Display for RunnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.type_name(), self.message)
    }
}

impl std::error::Error for RunnerError {}

impl From<StoreError> for RunnerError {
    fn from(e: StoreError) -> RunnerError {
        RunnerError::new(RunnerErrorKind::Internal, format!("the store failed: {e}"))
    }
}
