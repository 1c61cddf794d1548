/// Bounds that keep pathological patterns from costing unbounded time or memory.
///
/// Every limit is checked when a pattern is parsed, and a pattern over a
/// limit is rejected with a [`PatternErrorKind::Limit`](crate::PatternErrorKind::Limit)
/// error that names the limit. The defaults are generous for hand-written
/// rules; see `PATTERNS.md` for the reasoning behind each number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest pattern text, in bytes. Default 65,536.
    pub max_pattern_bytes: usize,
    /// Deepest nesting of objects and arrays in the pattern text. Default 64.
    pub max_depth: usize,
    /// Most distinct field paths in one branch of a pattern (after `$or` is
    /// expanded). Default 256, as in the reference implementation.
    pub max_fields_per_branch: usize,
    /// Most branches a pattern may expand into through `$or` (the product of
    /// the branch counts of all its `$or`s). Default 1,024.
    pub max_or_branches: usize,
    /// Most values in one field's list of alternatives, counting the items of
    /// `anything-but` lists. Default 1,024.
    pub max_values_per_field: usize,
    /// Highest wildcard complexity of one `wildcard` operand: the largest
    /// number of positions a matcher for it may have to track at once on any
    /// input (see `PATTERNS.md`). Default 10.
    pub max_wildcard_complexity: usize,
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
