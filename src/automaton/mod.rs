//! All patterns compiled into one decision automaton.
//!
//! A state stands for "the fields so far, in sorted path order, are
//! satisfied". Each state has edges, one per field that some pattern tests
//! next; an edge holds a [`ValueIndex`](values::ValueIndex) over every value
//! pattern leaving the state on that field, each leading to a next state,
//! plus an *absent* transition for `exists: false`. Patterns that begin with
//! the same conditions share states, and all patterns that test a field from
//! one state share one index, so matching looks each event value up once
//! per reachable state rather than once per rule.

mod affix;
mod interval;
mod search;
mod targets;
mod values;
mod wildcards;

use std::collections::{BTreeSet, HashMap};

pub use search::MatchScratch;

use crate::event::{NumberSieve, PathTrie};
use crate::pattern::{Pattern, ValuePattern};
use crate::util::bands::Bands;
use targets::{PoolBuilder, Pools, Targets};
use values::ValueIndex;

/// The compiled automaton.
pub(crate) struct Automaton {
    /// Field paths, sorted; a field id indexes this list.
    fields: Vec<String>,
    trie: PathTrie,
    states: Vec<State>,
    pools: Pools,
    rule_count: usize,
}

struct State {
    edges: Box<[Edge]>,
    /// Rules whose pattern is complete in this state.
    accepts: Box<[u32]>,
}

struct Edge {
    field: u32,
    values: Option<Box<ValueIndex>>,
    absent: Targets,
}

/// Sizes of a compiled automaton, for diagnostics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutomatonStats {
    /// Number of states.
    pub states: usize,
    /// Number of edges (a state and a field).
    pub edges: usize,
    /// Number of distinct field paths.
    pub fields: usize,
}

type StepKey = (u32, u32, Vec<ValuePattern>);

/// One field's steps out of a state: (field, value patterns with their next
/// state, next states of `exists: false`).
type FieldSteps = (u32, Vec<(ValuePattern, u32)>, Vec<u32>);

impl Automaton {
    /// Compiles `rules`: (rule id, pattern) pairs; a rule id may repeat (its
    /// patterns are OR-ed). Rule ids must be below `rule_count`.
    pub fn new<'p>(rules: impl IntoIterator<Item = (u32, &'p Pattern)>, rule_count: usize) -> Self {
        let rules: Vec<(u32, &Pattern)> = rules.into_iter().collect();
        let paths: BTreeSet<&str> = rules
            .iter()
            .flat_map(|(_, p)| p.branches())
            .flat_map(|b| b.fields.iter().map(|f| f.path.as_str()))
            .collect();
        let fields: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        let field_id: HashMap<&str, u32> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u32))
            .collect();

        // States as built: per state, per field, the (values, next) steps.
        let mut steps: Vec<Vec<(u32, Vec<ValuePattern>, u32)>> = vec![Vec::new()];
        let mut accepts: Vec<Vec<u32>> = vec![Vec::new()];
        let mut known: HashMap<StepKey, u32> = HashMap::new();
        for (rule, pattern) in &rules {
            for branch in pattern.branches() {
                let mut state = 0u32;
                for condition in &branch.fields {
                    let field = field_id[condition.path.as_str()];
                    let key = (state, field, condition.values.clone());
                    state = match known.get(&key) {
                        Some(next) => *next,
                        None => {
                            let next = steps.len() as u32;
                            steps.push(Vec::new());
                            accepts.push(Vec::new());
                            steps[state as usize].push((field, condition.values.clone(), next));
                            known.insert(key, next);
                            next
                        }
                    };
                }
                accepts[state as usize].push(*rule);
            }
        }
        drop(known);

        let leaf_rules: Vec<Option<Vec<u32>>> = steps
            .iter()
            .zip(&accepts)
            .map(|(s, a)| s.is_empty().then(|| a.clone()))
            .collect();
        let mut pool = PoolBuilder::new(&leaf_rules);
        let mut states = Vec::with_capacity(steps.len());
        for (state_steps, mut accept) in steps.into_iter().zip(accepts) {
            let mut by_field: Vec<FieldSteps> = Vec::new();
            for (field, values, next) in state_steps {
                let at = match by_field.iter().position(|(f, _, _)| *f == field) {
                    Some(i) => i,
                    None => {
                        by_field.push((field, Vec::new(), Vec::new()));
                        by_field.len() - 1
                    }
                };
                for v in values {
                    if v == ValuePattern::Absent {
                        by_field[at].2.push(next);
                    } else {
                        by_field[at].1.push((v, next));
                    }
                }
            }
            by_field.sort_by_key(|(f, _, _)| *f);
            let edges = by_field
                .into_iter()
                .map(|(field, pairs, absent)| Edge {
                    field,
                    values: (!pairs.is_empty())
                        .then(|| Box::new(ValueIndex::new(&pairs, &mut pool))),
                    absent: pool.intern(absent),
                })
                .collect();
            accept.sort_unstable();
            accept.dedup();
            states.push(State {
                edges,
                accepts: accept.into_boxed_slice(),
            });
        }
        let mut trie = PathTrie::new(fields.iter().map(String::as_str));
        trie.set_number_sieves(number_sieves(&states, fields.len()));
        Automaton {
            fields,
            trie,
            states,
            pools: pool.pools,
            rule_count,
        }
    }

    /// The trie of every field path the rules use.
    pub fn trie(&self) -> &PathTrie {
        &self.trie
    }

    /// The number sieve of the field at `path`, if it has one (for tests).
    #[cfg(test)]
    pub(crate) fn number_sieve(&self, path: &str) -> Option<&NumberSieve> {
        let field = self.fields.iter().position(|f| f == path)?;
        self.trie.number_sieve(field as u32)
    }

    /// Turns the trusted reader's early stop on or off.
    pub fn set_early_stop(&mut self, on: bool) {
        self.trie.set_early_stop(on);
    }

    /// Sizes, for diagnostics.
    pub fn stats(&self) -> AutomatonStats {
        AutomatonStats {
            states: self.states.len(),
            edges: self.states.iter().map(|s| s.edges.len()).sum(),
            fields: self.fields.len(),
        }
    }
}

/// Every field's number sieve (see [`NumberSieve`]), from one pass over the
/// edges: `None` for a field one of whose edges may take any number or tests
/// its absence, or with too many texts.
fn number_sieves(states: &[State], fields: usize) -> Vec<Option<NumberSieve>> {
    /// A field's texts and bands so far.
    type Takes = (Vec<Box<[u8]>>, Option<Bands>);
    // `None` once the field can have no sieve.
    let mut found: Vec<Option<Takes>> = vec![Some((Vec::new(), None)); fields];
    for edge in states.iter().flat_map(|s| &s.edges) {
        let Some(slot) = found.get_mut(edge.field as usize) else {
            continue;
        };
        let Some((texts, bands)) = slot else {
            continue;
        };
        let sievable = edge.absent.is_empty()
            && edge.values.as_ref().is_none_or(|index| {
                let Some((edge_texts, edge_bands)) = index.number_hits() else {
                    return false;
                };
                if let Some(b) = edge_bands {
                    *bands = Some(bands.map_or(b, |all| all.join(b)));
                }
                // Stops at the first text past the limit.
                edge_texts.into_iter().all(|text| {
                    if !texts.iter().any(|t| **t == *text) {
                        texts.push(text.into());
                    }
                    texts.len() <= NumberSieve::MAX_TEXTS
                })
            });
        if !sievable {
            *slot = None;
        }
    }
    found
        .into_iter()
        .map(|f| f.and_then(|(texts, bands)| NumberSieve::new(texts, bands)))
        .collect()
}
