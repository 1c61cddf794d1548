//! Refusals, with the service's error code and message.

use std::fmt;

/// Which API a schedule expression belongs to. The two accept slightly different grammars and
/// word their refusals differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// EventBridge rules (`PutRule.ScheduleExpression`): `rate()` and `cron()`, always UTC, and
    /// the rate unit must be singular for 1 and plural otherwise.
    Rule,
    /// EventBridge Scheduler (`CreateSchedule.ScheduleExpression`): `rate()`, `cron()` and
    /// `at()`, evaluated in `ScheduleExpressionTimezone`.
    Scheduler,
}

/// What kind of input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The expression is not a valid `rate()`, `cron()` or `at()` expression of its flavor.
    InvalidExpression,
    /// The expression is empty or longer than the service's 256 characters (the model's length
    /// constraint, checked before the grammar).
    ExpressionLength,
    /// `ScheduleExpressionTimezone` is not a time zone name of the IANA database.
    InvalidTimezone,
    /// `FlexibleTimeWindow` has an unknown mode, a window out of 1-1440, or a window that does
    /// not fit the mode.
    InvalidFlexibleTimeWindow,
    /// `StartDate`/`EndDate` do not form a window (the end is not after the start).
    InvalidDateRange,
}

/// A refused input. `code()` and `message()` are what the service answers (the wire layer puts
/// them in `__type`/`X-Amzn-ErrorType` and `Message`/`message`); `reason()` says precisely what
/// was wrong, for logs and tests (the service does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    reason: String,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error {
            kind,
            message: message.into(),
            reason: reason.into(),
        }
    }

    /// The refusal of a schedule expression, worded as `flavor`'s service words it.
    pub(crate) fn expression(flavor: Flavor, text: &str, reason: impl Into<String>) -> Self {
        let message = match flavor {
            // PutRule (AWS-validated by LocalStack's recorded snapshots).
            Flavor::Rule => "Parameter ScheduleExpression is not valid.".to_owned(),
            // CreateSchedule/UpdateSchedule (AWS-validated likewise; the text is echoed as sent).
            Flavor::Scheduler => format!("Invalid Schedule Expression {text}."),
        };
        Error::new(ErrorKind::InvalidExpression, message, reason)
    }

    /// What kind of input was refused.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The error code the service answers: always `ValidationException` (HTTP 400) for these
    /// refusals, on both APIs.
    pub fn code(&self) -> &'static str {
        "ValidationException"
    }

    /// The message the service answers.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What exactly was wrong (not part of the service's answer).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.code(), self.message, self.reason)
    }
}

impl std::error::Error for Error {}

/// The message AWS's request validation (Smithy constraints, the "Coral" wording) gives for one
/// violated constraint.
pub(crate) fn constraint_message(value: &str, member: &str, constraint: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )
}
