/// Bounds that keep pathological patterns from costing unbounded time or memory.
///
/// Every limit is checked when a pattern is parsed, and a pattern over a
/// limit is rejected with a [`PatternErrorKind::Limit`](crate::PatternErrorKind::Limit)
/// error that names the limit. The defaults are generous for hand-written
/// rules; see `PATTERNS.md` for the reasoning behind each number.
///
/// Built from the defaults with one setter per limit (new limits may be
/// added; the defaults of the existing ones stay):
///
/// ```
/// use ferrule::{Limits, Pattern, PatternErrorKind};
///
/// let strict = Limits::new().max_pattern_bytes(64).max_or_branches(4);
/// assert_eq!(strict.get_max_pattern_bytes(), 64);
/// assert_eq!(strict.get_max_depth(), Limits::default().get_max_depth());
/// let long = format!(r#"{{"source": ["{}"]}}"#, "x".repeat(100));
/// let e = Pattern::parse_with(&long, &strict).unwrap_err();
/// assert_eq!(e.kind(), PatternErrorKind::Limit);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    pub(crate) max_pattern_bytes: usize,
    pub(crate) max_depth: usize,
    pub(crate) max_fields_per_branch: usize,
    pub(crate) max_or_branches: usize,
    pub(crate) max_values_per_field: usize,
    pub(crate) max_wildcard_complexity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pattern_bytes: 65_536,
            max_depth: 64,
            max_fields_per_branch: 256,
            max_or_branches: 1_024,
            max_values_per_field: 1_024,
            max_wildcard_complexity: 10,
        }
    }
}

impl Limits {
    /// The default limits (the same as [`Limits::default`]).
    pub fn new() -> Limits {
        Limits::default()
    }

    /// Longest pattern text, in bytes. Default 65,536.
    pub fn max_pattern_bytes(mut self, bytes: usize) -> Limits {
        self.max_pattern_bytes = bytes;
        self
    }

    /// Deepest nesting of objects and arrays in the pattern text. Default 64.
    pub fn max_depth(mut self, depth: usize) -> Limits {
        self.max_depth = depth;
        self
    }

    /// Most distinct field paths in one branch of a pattern (after `$or` is
    /// expanded). Default 256, as in the reference implementation.
    pub fn max_fields_per_branch(mut self, fields: usize) -> Limits {
        self.max_fields_per_branch = fields;
        self
    }

    /// Most branches a pattern may expand into through `$or` (the product of
    /// the branch counts of all its `$or`s). Default 1,024.
    pub fn max_or_branches(mut self, branches: usize) -> Limits {
        self.max_or_branches = branches;
        self
    }

    /// Most values in one field's list of alternatives, counting the items of
    /// `anything-but` lists. Default 1,024.
    pub fn max_values_per_field(mut self, values: usize) -> Limits {
        self.max_values_per_field = values;
        self
    }

    /// Highest wildcard complexity of one `wildcard` operand: the largest
    /// number of positions a matcher for it may have to track at once on any
    /// input (see `PATTERNS.md`). Default 10.
    pub fn max_wildcard_complexity(mut self, complexity: usize) -> Limits {
        self.max_wildcard_complexity = complexity;
        self
    }

    /// See [`Limits::max_pattern_bytes`].
    pub fn get_max_pattern_bytes(&self) -> usize {
        self.max_pattern_bytes
    }

    /// See [`Limits::max_depth`].
    pub fn get_max_depth(&self) -> usize {
        self.max_depth
    }

    /// See [`Limits::max_fields_per_branch`].
    pub fn get_max_fields_per_branch(&self) -> usize {
        self.max_fields_per_branch
    }

    /// See [`Limits::max_or_branches`].
    pub fn get_max_or_branches(&self) -> usize {
        self.max_or_branches
    }

    /// See [`Limits::max_values_per_field`].
    pub fn get_max_values_per_field(&self) -> usize {
        self.max_values_per_field
    }

    /// See [`Limits::max_wildcard_complexity`].
    pub fn get_max_wildcard_complexity(&self) -> usize {
        self.max_wildcard_complexity
    }
}
