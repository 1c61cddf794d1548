use std::fmt;

/// An error of a bus operation, as EventBridge reports it: an error type
/// (the `__type` of the wire protocol) and the service's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusError {
    kind: BusErrorKind,
    message: String,
}

/// The EventBridge error types ferrule raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BusErrorKind {
    /// A parameter is invalid (`ValidationException`).
    Validation,
    /// The event pattern is invalid (`InvalidEventPatternException`).
    InvalidEventPattern,
    /// A bus, rule or target does not exist (`ResourceNotFoundException`).
    ResourceNotFound,
    /// A bus already exists (`ResourceAlreadyExistsException`).
    ResourceAlreadyExists,
    /// A quota would be exceeded (`LimitExceededException`).
    LimitExceeded,
    /// A policy denies the caller (`AccessDeniedException`).
    AccessDenied,
    /// The rule is managed by a service (`ManagedRuleException`).
    ManagedRule,
    /// The resource's state does not allow the operation (`IllegalStatusException`).
    IllegalStatus,
    /// The store failed (`InternalException`).
    Internal,
}

impl BusErrorKind {
    /// The wire name of the error type.
    pub fn type_name(self) -> &'static str {
        match self {
            BusErrorKind::Validation => "ValidationException",
            BusErrorKind::InvalidEventPattern => "InvalidEventPatternException",
            BusErrorKind::ResourceNotFound => "ResourceNotFoundException",
            BusErrorKind::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            BusErrorKind::LimitExceeded => "LimitExceededException",
            BusErrorKind::AccessDenied => "AccessDeniedException",
            BusErrorKind::ManagedRule => "ManagedRuleException",
            BusErrorKind::IllegalStatus => "IllegalStatusException",
            BusErrorKind::Internal => "InternalException",
        }
    }
}

impl BusError {
    /// An error of `kind` with the service's `message`.
    pub fn new(kind: BusErrorKind, message: impl Into<String>) -> BusError {
        BusError {
            kind,
            message: message.into(),
        }
    }

    /// A `ValidationException` with the service's `message`.
    pub fn validation(message: impl Into<String>) -> BusError {
        BusError::new(BusErrorKind::Validation, message)
    }

    /// The generic constraint-violation message of AWS's API layer.
    pub(crate) fn constraint(value: &str, at: &str, constraint: &str) -> BusError {
        BusError::validation(format!(
            "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: {constraint}"
        ))
    }

    pub(crate) fn internal(message: impl Into<String>) -> BusError {
        BusError::new(BusErrorKind::Internal, message)
    }

    /// The error type.
    pub fn kind(&self) -> BusErrorKind {
        self.kind
    }

    /// The message, as the service words it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.type_name(), self.message)
    }
}

impl std::error::Error for BusError {}

/// A stored record that does not decode, or a value that does not encode:
/// the store's problem, not the caller's.
impl From<serde_json::Error> for BusError {
    fn from(e: serde_json::Error) -> BusError {
        BusError::internal(e.to_string())
    }
}

impl From<ferrule_dispatch::StoreError> for BusError {
    fn from(e: ferrule_dispatch::StoreError) -> BusError {
        BusError::internal(e.to_string())
    }
}
