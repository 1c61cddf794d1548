//! The errors of the transform module: [`TransformError`] when PutTargets
//! must reject a target's input settings, [`PathError`] for a JSONPath
//! outside the supported subset, and [`RenderError`] when a payload must not
//! be delivered.

use std::fmt;

/// Why a target's `Input`, `InputPath` or `InputTransformer` was rejected.
///
/// [`message`](TransformError::message) is the text of the
/// `ValidationException`. Where AWS's wording is known (the mutual-exclusion
/// and invalid-placeholder cases) it is reproduced exactly; the other texts
/// follow the same style and are ferrule's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformError {
    kind: TransformErrorKind,
    message: String,
    constraint: Option<Constraint>,
}

/// A failed model constraint (length, count or pattern), kept so the caller
/// can phrase it the way Coral does for the target's position in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Constraint {
    member: &'static str,
    value: String,
    rule: String,
}

/// The class of a [`TransformError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransformErrorKind {
    /// More than one of `Input`, `InputPath` and `InputTransformer` was given
    /// (AWS text: `Only one of Input, InputPath, or InputTransformer must be
    /// provided for target <id>.`).
    MultipleInputs,
    /// The `InputTemplate` uses a placeholder that is neither a key of
    /// `InputPathsMap` nor a predefined `aws.events.*` variable (AWS text:
    /// `InputTemplate for target <id> contains invalid placeholder <name>.`).
    InvalidPlaceholder,
    /// `Input` is not valid JSON text.
    InvalidInput,
    /// `InputPath`, or a value of `InputPathsMap`, is not a JSONPath of the
    /// supported subset.
    InvalidPath,
    /// An `InputPathsMap` key uses the reserved `aws.events.` prefix of the
    /// predefined variables.
    ReservedKey,
    /// A length, count or pattern constraint of the API model failed; see
    /// [`TransformError::member`] and [`TransformError::coral_message`].
    Constraint,
}

impl TransformError {
    pub(crate) fn new(kind: TransformErrorKind, message: impl Into<String>) -> Self {
        TransformError {
            kind,
            message: message.into(),
            constraint: None,
        }
    }

    /// A model-constraint failure of `value` at `member` (the member path
    /// below `targets.N.member.`, such as `inputPath`).
    pub(crate) fn constraint(member: &'static str, value: &str, rule: impl Into<String>) -> Self {
        let rule = rule.into();
        TransformError {
            kind: TransformErrorKind::Constraint,
            message: format!("Value '{value}' at '{member}' failed to satisfy constraint: {rule}"),
            constraint: Some(Constraint {
                member,
                value: value.to_string(),
                rule,
            }),
        }
    }

    /// The class of the error.
    pub fn kind(&self) -> TransformErrorKind {
        self.kind
    }

    /// The text of the `ValidationException`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`TransformErrorKind::Constraint`], the offending member's path
    /// below `targets.N.member.` (`input`, `inputPath`,
    /// `inputTransformer.inputPathsMap` or `inputTransformer.inputTemplate`).
    pub fn member(&self) -> Option<&str> {
        self.constraint.as_ref().map(|c| c.member)
    }

    /// The message as the API returns it for the target at 1-based
    /// `target_position` in the PutTargets request: constraint failures in
    /// the generic Coral form (`1 validation error detected: Value 'X' at
    /// 'targets.1.member.inputPath' failed to satisfy constraint: ...`),
    /// every other error as [`message`](TransformError::message).
    pub fn coral_message(&self, target_position: usize) -> String {
        match &self.constraint {
            Some(c) => format!(
                "1 validation error detected: Value '{}' at 'targets.{target_position}.member.{}' \
                 failed to satisfy constraint: {}",
                c.value, c.member, c.rule
            ),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransformError {}

/// Why a JSONPath is outside the supported subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    offset: usize,
    message: String,
}

impl PathError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        PathError {
            offset,
            message: message.into(),
        }
    }

    /// The byte offset in the path text where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The reason, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for PathError {}

/// Why a payload must not be delivered to the target.
///
/// EventBridge drops such events silently; the caller should count the
/// failure rather than retry it, since rendering the same event again gives
/// the same result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError {
    reason: String,
}

impl RenderError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        RenderError {
            reason: reason.into(),
        }
    }

    /// Why the payload was not produced.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RenderError {}
