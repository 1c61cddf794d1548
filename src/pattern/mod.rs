//! Event patterns: parsing, validation and the pattern AST.
//!
//! [`Pattern::parse`] turns pattern text into a list of [`Branch`]es (one per
//! combination of `$or` alternatives); each branch is a conjunction of
//! [`FieldCondition`]s over distinct [`FieldPath`]s, sorted by path, and each
//! condition is a disjunction of [`ValuePattern`]s. The AST is private to
//! the crate (it changes with the automaton); [`Pattern`] shows users only
//! its branch count and field paths. The user-facing description of the
//! language is `PATTERNS.md`.

mod anything_but;
mod cidr;
mod error;
mod limits;
mod numeric;
mod operator;
mod wildcard;

use std::collections::BTreeMap;
use std::fmt;

pub(crate) use anything_but::AnythingBut;
pub(crate) use cidr::IpRange;
pub use error::{PatternError, PatternErrorKind};
pub use limits::Limits;
pub(crate) use numeric::NumericRange;
pub(crate) use wildcard::{Wildcard, WildcardError};

use crate::util::json::{self, Json};

/// A dotted path to a leaf of an event: `detail.size` names the `size`
/// member of the `detail` object. Event keys that themselves contain dots
/// are reached by the same text: `{"a.b": 1}` and `{"a": {"b": 1}}` both
/// have a field `a.b`, as in the reference implementation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    /// The dotted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One way a single event value can satisfy a field condition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ValuePattern {
    /// A JSON string equal to this text. When the text is an IP address,
    /// `ip` holds it and any string spelling the same address matches too.
    Exact {
        /// The decoded string.
        text: String,
        /// The address, if the text is one.
        ip: Option<crate::util::ip::IpKey>,
    },
    /// A JSON number: equal in value (when the literal is comparable, see
    /// `PATTERNS.md`) or spelled exactly the same.
    Number {
        /// The literal as written in the pattern.
        text: String,
        /// The order-preserving key of its value, if comparable.
        key: Option<u64>,
    },
    /// `true`
    True,
    /// `false`
    False,
    /// `null`
    Null,
    /// `{"prefix": "..."}`
    Prefix(String),
    /// `{"prefix": {"equals-ignore-case": "..."}}`, operand folded.
    PrefixIgnoreCase(String),
    /// `{"suffix": "..."}`
    Suffix(String),
    /// `{"suffix": {"equals-ignore-case": "..."}}`, operand folded.
    SuffixIgnoreCase(String),
    /// `{"equals-ignore-case": "..."}`, operand folded.
    EqualsIgnoreCase(String),
    /// `{"wildcard": "..."}`
    Wildcard(Wildcard),
    /// `{"anything-but": ...}`
    AnythingBut(AnythingBut),
    /// `{"numeric": [...]}`
    Numeric(NumericRange),
    /// `{"cidr": "..."}`
    Cidr(IpRange),
    /// `{"exists": true}`: the field has at least one leaf value.
    Exists,
    /// `{"exists": false}`: the field has no leaf value.
    Absent,
}

/// A field path and the alternatives, any one of which satisfies it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FieldCondition {
    /// The path.
    pub path: FieldPath,
    /// The alternatives, sorted and without duplicates.
    pub values: Vec<ValuePattern>,
}

/// A conjunction of field conditions on distinct paths, sorted by path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Branch {
    /// The conditions.
    pub fields: Vec<FieldCondition>,
}

/// A parsed, validated event pattern: a disjunction of branches.
///
/// ```
/// use ferrule::Pattern;
///
/// let p = Pattern::parse(r#"{"source": ["aws.s3"], "$or": [{"a": [1]}, {"b": [2]}]}"#)?;
/// assert_eq!(p.branch_count(), 2);
/// assert_eq!(p.field_paths(), ["a", "b", "source"]);
/// # Ok::<(), ferrule::PatternError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    branches: Vec<Branch>,
}

/// Field names that may not appear inside `$or` branches.
const RESERVED: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

impl Pattern {
    /// Parses pattern text with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_with(text, &Limits::default())
    }

    /// Parses pattern text with the given limits.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Pattern, PatternError> {
        if text.len() > limits.max_pattern_bytes {
            return Err(PatternError::new(
                PatternErrorKind::Limit,
                "",
                format!(
                    "pattern is {} bytes, more than the limit of {}",
                    text.len(),
                    limits.max_pattern_bytes
                ),
            ));
        }
        let tree = json::parse(text, limits.max_depth).map_err(|e| {
            if e.too_deep {
                PatternError::new(
                    PatternErrorKind::Limit,
                    "",
                    format!(
                        "pattern nesting is too deep: its depth is over the limit of {} (at byte {})",
                        limits.max_depth, e.offset
                    ),
                )
            } else {
                PatternError::new(PatternErrorKind::Syntax, "", format!("invalid JSON: {e}"))
            }
        })?;
        Pattern::from_json(&tree, limits)
    }

    /// Builds a pattern from an already parsed JSON tree.
    pub(crate) fn from_json(tree: &Json, limits: &Limits) -> Result<Pattern, PatternError> {
        let Json::Object(members) = tree else {
            return Err(PatternError::new(
                PatternErrorKind::Structure,
                "",
                format!("a pattern must be a JSON object, not {}", tree.type_name()),
            ));
        };
        let expander = Expander { limits };
        let alternatives = expander.object(members, "", "", false)?;
        let mut branches = Vec::with_capacity(alternatives.len());
        for alternative in alternatives {
            // A path given twice keeps its last list, as the reference does.
            let mut by_path: BTreeMap<String, Vec<ValuePattern>> = BTreeMap::new();
            for (path, values) in alternative {
                by_path.insert(path, values);
            }
            if by_path.len() > limits.max_fields_per_branch {
                return Err(PatternError::new(
                    PatternErrorKind::Limit,
                    "",
                    format!(
                        "a pattern branch has {} fields, more than the limit of {}",
                        by_path.len(),
                        limits.max_fields_per_branch
                    ),
                ));
            }
            let fields = by_path
                .into_iter()
                .map(|(path, values)| FieldCondition {
                    path: FieldPath(path),
                    values,
                })
                .collect();
            let branch = Branch { fields };
            if !branches.contains(&branch) {
                branches.push(branch);
            }
        }
        Ok(Pattern { branches })
    }

    /// The branches; the pattern matches an event when any branch does.
    pub(crate) fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// How many branches the pattern has once its `$or`s are expanded
    /// (duplicates dropped); the pattern matches an event when any branch
    /// does. Each branch counts against [`Limits::max_or_branches`].
    pub fn branch_count(&self) -> usize {
        self.branches.len()
    }

    /// The dotted paths of the event fields the pattern tests, in any
    /// branch: sorted, each once. `{"a": {"b": [1]}}` tests `a.b`.
    pub fn field_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .branches
            .iter()
            .flat_map(|b| b.fields.iter().map(|f| f.path.as_str()))
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
    }
}

type Alternative = Vec<(String, Vec<ValuePattern>)>;

struct Expander<'l> {
    limits: &'l Limits,
}

impl Expander<'_> {
    fn object(
        &self,
        members: &[(String, Json)],
        prefix: &str,
        pointer: &str,
        in_or: bool,
    ) -> Result<Vec<Alternative>, PatternError> {
        if members.is_empty() {
            return Err(PatternError::new(
                PatternErrorKind::Structure,
                pointer,
                "empty objects are not allowed in a pattern",
            ));
        }
        let mut alternatives: Vec<Alternative> = vec![Vec::new()];
        for (key, value) in members {
            let here = json::pointer_push(pointer, key);
            if key == "$or" {
                let branches = self.or(value, prefix, &here)?;
                alternatives = self.product(alternatives, branches, &here)?;
                continue;
            }
            if in_or && RESERVED.contains(&key.as_str()) {
                return Err(PatternError::new(
                    PatternErrorKind::Structure,
                    &here,
                    format!("\"{key}\" is a reserved word and cannot be a field name inside $or"),
                ));
            }
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                Json::Object(inner) => {
                    let nested = self.object(inner, &path, &here, in_or)?;
                    alternatives = self.product(alternatives, nested, &here)?;
                }
                Json::Array(items) => {
                    let values = self.leaf(items, &here)?;
                    for alternative in &mut alternatives {
                        alternative.push((path.clone(), values.clone()));
                    }
                }
                other => {
                    return Err(PatternError::new(
                        PatternErrorKind::Structure,
                        &here,
                        format!(
                            "\"{key}\" must be an object or an array, not {}",
                            other.type_name()
                        ),
                    ));
                }
            }
        }
        Ok(alternatives)
    }

    fn or(
        &self,
        value: &Json,
        prefix: &str,
        pointer: &str,
    ) -> Result<Vec<Alternative>, PatternError> {
        let Json::Array(items) = value else {
            return Err(PatternError::new(
                PatternErrorKind::Structure,
                pointer,
                "$or must be an array of at least 2 objects",
            ));
        };
        if items.len() < 2 {
            return Err(PatternError::new(
                PatternErrorKind::Structure,
                pointer,
                "$or must be an array of at least 2 objects",
            ));
        }
        let mut branches = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let here = json::pointer_push(pointer, &i.to_string());
            let Json::Object(members) = item else {
                return Err(PatternError::new(
                    PatternErrorKind::Structure,
                    &here,
                    format!(
                        "each $or branch must be an object, not {}",
                        item.type_name()
                    ),
                ));
            };
            branches.extend(self.object(members, prefix, &here, true)?);
            self.check_branches(branches.len(), pointer)?;
        }
        Ok(branches)
    }

    fn product(
        &self,
        left: Vec<Alternative>,
        right: Vec<Alternative>,
        pointer: &str,
    ) -> Result<Vec<Alternative>, PatternError> {
        self.check_branches(left.len().saturating_mul(right.len()), pointer)?;
        let mut out = Vec::with_capacity(left.len() * right.len());
        for l in &left {
            for r in &right {
                let mut joined = l.clone();
                joined.extend(r.iter().cloned());
                out.push(joined);
            }
        }
        Ok(out)
    }

    fn check_branches(&self, count: usize, pointer: &str) -> Result<(), PatternError> {
        if count > self.limits.max_or_branches {
            return Err(PatternError::new(
                PatternErrorKind::Limit,
                pointer,
                format!(
                    "$or expands the pattern to more than {} branches",
                    self.limits.max_or_branches
                ),
            ));
        }
        Ok(())
    }

    fn leaf(&self, items: &[Json], pointer: &str) -> Result<Vec<ValuePattern>, PatternError> {
        if items.is_empty() {
            return Err(PatternError::new(
                PatternErrorKind::Structure,
                pointer,
                "empty arrays are not allowed in a pattern",
            ));
        }
        let mut values = Vec::with_capacity(items.len());
        let mut counted = 0usize;
        for (i, item) in items.iter().enumerate() {
            let here = json::pointer_push(pointer, &i.to_string());
            let value = operator::value_pattern(item, &here, self.limits)?;
            counted += match &value {
                ValuePattern::AnythingBut(ab) => ab.len(),
                _ => 1,
            };
            values.push(value);
        }
        if counted > self.limits.max_values_per_field {
            return Err(PatternError::new(
                PatternErrorKind::Limit,
                pointer,
                format!(
                    "a field lists {counted} values, more than the limit of {}",
                    self.limits.max_values_per_field
                ),
            ));
        }
        values.sort();
        values.dedup();
        Ok(values)
    }
}

#[cfg(test)]
mod tests;
