//! The store's error: a kind callers can act on, and context.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// What kind of failure a [`StoreError`] is, so callers can decide without
/// reading messages: retry later, give up, or report to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The operation failed but may succeed later (a full disk, an I/O
    /// error, a lock or network timeout, the store reopening). Nothing was
    /// written.
    Transient,
    /// The store cannot go on (corrupt data, an unreadable record).
    Fatal,
    /// What the operation names does not exist (a queue, a record).
    NotFound,
    /// A conditional write found another state than it expected (a
    /// metadata version moved on, a queue that already exists).
    Conflict,
    /// The input is not one the store accepts (a malformed or foreign
    /// receipt handle).
    Invalid,
    /// The store is closed.
    Closed,
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreErrorKind::Transient => "transient",
            StoreErrorKind::Fatal => "fatal",
            StoreErrorKind::NotFound => "not found",
            StoreErrorKind::Conflict => "conflict",
            StoreErrorKind::Invalid => "invalid",
            StoreErrorKind::Closed => "closed",
        })
    }
}

/// Why a store operation failed: its [`StoreErrorKind`], what was being
/// done, and the underlying error if any. Cheap to clone (one failed group
/// commit answers many callers).
#[derive(Clone)]
pub struct StoreError {
    kind: StoreErrorKind,
    context: String,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl StoreError {
    /// An error of `kind` while doing `context`.
    pub fn new(kind: StoreErrorKind, context: impl Into<String>) -> StoreError {
        StoreError {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// A [`StoreErrorKind::Transient`] error.
    pub fn transient(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Transient, context)
    }

    /// A [`StoreErrorKind::Fatal`] error.
    pub fn fatal(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Fatal, context)
    }

    /// A [`StoreErrorKind::NotFound`] error.
    pub fn not_found(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::NotFound, context)
    }

    /// A [`StoreErrorKind::Conflict`] error.
    pub fn conflict(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Conflict, context)
    }

    /// A [`StoreErrorKind::Invalid`] error.
    pub fn invalid(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Invalid, context)
    }

    /// A [`StoreErrorKind::Closed`] error.
    pub fn closed(context: impl Into<String>) -> StoreError {
        StoreError::new(StoreErrorKind::Closed, context)
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> StoreError {
        self.source = Some(Arc::new(source));
        self
    }

    /// The same error with `outer` said first (`outer: context`).
    pub fn context(mut self, outer: impl fmt::Display) -> StoreError {
        self.context = format!("{outer}: {}", self.context);
        self
    }

    /// Its kind.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind == StoreErrorKind::Transient
    }

    /// The message without the `store: ` prefix of [`Display`](fmt::Display).
    pub fn message(&self) -> String {
        match &self.source {
            Some(s) if self.context.is_empty() => s.to_string(),
            Some(s) => format!("{}: {s}", self.context),
            None => self.context.clone(),
        }
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StoreError");
        d.field("kind", &self.kind).field("context", &self.context);
        if let Some(s) = &self.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.message())
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

impl PartialEq for StoreError {
    /// Same kind and same message (sources compare by their text).
    fn eq(&self, other: &StoreError) -> bool {
        self.kind == other.kind && self.message() == other.message()
    }
}

impl Eq for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_context_and_source() {
        let io = std::io::Error::other("No space left on device");
        let e = StoreError::transient("committing 3 writes").with_source(io);
        assert_eq!(
            e.to_string(),
            "store: committing 3 writes: No space left on device"
        );
        assert!(e.is_transient());
        assert_eq!(e.kind(), StoreErrorKind::Transient);
        assert!(Error::source(&e).is_some());
        let e = e.context("append");
        assert_eq!(
            e.message(),
            "append: committing 3 writes: No space left on device"
        );
        assert!(format!("{e:?}").contains("Transient"));
        assert_ne!(e, StoreError::fatal("append"));
    }
}
