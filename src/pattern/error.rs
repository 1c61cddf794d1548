use std::fmt;

/// Why a pattern was rejected, and where.
///
/// `pointer` is a JSON pointer (RFC 6901) into the pattern text, such as
/// `/detail/size/0/numeric/1`; it is empty when the problem is the whole
/// pattern (for example a syntax error, which carries a byte offset instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    pointer: String,
    kind: PatternErrorKind,
    message: String,
}

/// The class of a [`PatternError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// The text is not valid JSON.
    Syntax,
    /// The JSON does not have the shape of a pattern (not an object, empty
    /// arrays or objects, a value that is neither an object nor an array).
    Structure,
    /// An operator is unknown, or has an operand of the wrong type or form.
    Operator,
    /// A configured limit was exceeded (size, depth, fields, `$or`
    /// branches, wildcard complexity).
    Limit,
}

impl PatternError {
    pub(crate) fn new(kind: PatternErrorKind, pointer: &str, message: impl Into<String>) -> Self {
        PatternError {
            pointer: pointer.to_string(),
            kind,
            message: message.into(),
        }
    }

    /// The JSON pointer to the offending part of the pattern.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// The class of the error.
    pub fn kind(&self) -> PatternErrorKind {
        self.kind
    }

    /// The reason, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (at {})", self.message, self.pointer)
        }
    }
}

impl std::error::Error for PatternError {}
