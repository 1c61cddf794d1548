//! Running the automaton over one flattened event.
//!
//! A depth-first walk from the start state. A configuration is a state and
//! the array elements its values came from (the *membership*); a value is
//! usable only if it does not sit in another element of an array the
//! membership already names, so all the values that satisfy one pattern come
//! from the same element of every array they share. Configurations without
//! membership (the common case: no arrays of objects) are visited once per
//! event, tracked by generation stamps so nothing is cleared per event.

use bumpalo::Bump;

use super::Automaton;
use super::values::ValueScratch;
use crate::RuleId;
use crate::event::{EventError, FieldValues, Flat, FlattenScratch, ReadMode};

/// Reusable per-thread state for matching; create one per thread (or use
/// the matcher's built-in thread-local one).
#[derive(Default)]
pub struct MatchScratch {
    pub(crate) flat: FlattenScratch,
    values: ValueScratch,
    visited: Vec<u32>,
    seen_rule: Vec<u32>,
    generation: u32,
    stack: Vec<u32>,
    bump: Bump,
    /// One bit per rule, all clear between events; sorts large outputs.
    bits: Vec<u64>,
}

impl MatchScratch {
    fn next_generation(&mut self, states: usize, rules: usize) {
        if self.generation == u32::MAX {
            self.generation = 0;
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.seen_rule.iter_mut().for_each(|v| *v = 0);
        }
        self.generation += 1;
        if self.visited.len() < states {
            self.visited.resize(states, 0);
        }
        if self.seen_rule.len() < rules {
            self.seen_rule.resize(rules, 0);
        }
        if self.bits.len() < rules.div_ceil(64) {
            self.bits.resize(rules.div_ceil(64), 0);
        }
        self.bump.reset();
    }
}

impl Automaton {
    /// Matches one event; `out` receives the rule ids, sorted if `sort`.
    /// `reader` is how the event is read: `Some(mode)` with the on-demand
    /// reader, `None` with the full-parse test oracle.
    pub fn run(
        &self,
        event: &[u8],
        reader: Option<ReadMode>,
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
        sort: bool,
    ) -> Result<(), EventError> {
        out.clear();
        match reader {
            Some(mode) => scratch.flat.read(event, &self.trie, mode)?,
            None => scratch.flat.flatten_tape(event, &self.trie)?,
        }
        scratch.next_generation(self.states.len(), self.rule_count);
        let generation = scratch.generation;
        let MatchScratch {
            flat,
            values: value_scratch,
            visited,
            seen_rule,
            stack,
            bump,
            ..
        } = scratch;
        let mut walk = Walk {
            automaton: self,
            flat: flat.view(event),
            value_scratch,
            visited,
            seen_rule,
            stack,
            bump,
            generation,
            out,
        };
        walk.state(0, &[]);
        if sort {
            sort_ids(out, &mut scratch.bits);
        }
        Ok(())
    }
}

/// Sorts rule ids: a comparison sort for a few, a pass over a bitset for
/// many (a broad rule set can match hundreds of rules per event).
fn sort_ids(out: &mut Vec<RuleId>, bits: &mut [u64]) {
    if out.len() <= 32 {
        out.sort_unstable();
        return;
    }
    let (mut low, mut high) = (u32::MAX, 0);
    for id in out.iter() {
        bits[(id.0 / 64) as usize] |= 1 << (id.0 % 64);
        low = low.min(id.0 / 64);
        high = high.max(id.0 / 64);
    }
    out.clear();
    for w in low..=high {
        let mut word = std::mem::take(&mut bits[w as usize]);
        while word != 0 {
            out.push(RuleId(w * 64 + word.trailing_zeros()));
            word &= word - 1;
        }
    }
}

struct Walk<'a, 'b> {
    automaton: &'a Automaton,
    flat: Flat<'a>,
    value_scratch: &'a mut ValueScratch,
    visited: &'a mut [u32],
    seen_rule: &'a mut [u32],
    stack: &'a mut Vec<u32>,
    bump: &'b Bump,
    generation: u32,
    out: &'a mut Vec<RuleId>,
}

impl<'a, 'b> Walk<'a, 'b> {
    fn values_of(&self, field: u32) -> FieldValues<'a> {
        self.flat.values_of(field)
    }

    /// Whether `frame` lies in the same element of every array `membership` names.
    fn consistent(&self, frame: u32, membership: &[(u32, u32)]) -> bool {
        if frame == 0 || membership.is_empty() {
            return true;
        }
        self.flat
            .chain(frame)
            .all(|(array, index)| membership.iter().all(|&(a, i)| a != array || i == index))
    }

    fn merged(&self, frame: u32, membership: &'b [(u32, u32)]) -> &'b [(u32, u32)] {
        if frame == 0 {
            return membership;
        }
        let extra = self
            .flat
            .chain(frame)
            .filter(|(array, _)| !membership.iter().any(|(a, _)| a == array))
            .count();
        if extra == 0 {
            return membership;
        }
        let mut out =
            bumpalo::collections::Vec::with_capacity_in(membership.len() + extra, self.bump);
        out.extend_from_slice(membership);
        for pair in self.flat.chain(frame) {
            if !membership.iter().any(|(a, _)| *a == pair.0) {
                out.push(pair);
            }
        }
        out.into_bump_slice()
    }

    fn accept(&mut self, rules: &[u32]) {
        for &rule in rules {
            if self.seen_rule[rule as usize] != self.generation {
                self.seen_rule[rule as usize] = self.generation;
                self.out.push(RuleId(rule));
            }
        }
    }

    fn state(&mut self, state: u32, membership: &'b [(u32, u32)]) {
        if membership.is_empty() {
            if self.visited[state as usize] == self.generation {
                return;
            }
            self.visited[state as usize] = self.generation;
        }
        let automaton = self.automaton;
        let node = &automaton.states[state as usize];
        self.accept(&node.accepts);
        for edge in node.edges.iter() {
            let values = self.values_of(edge.field);
            if let Some(index) = &edge.values {
                for value in values {
                    if !self.consistent(value.frame, membership) {
                        continue;
                    }
                    let start = self.stack.len();
                    let flat = self.flat;
                    let stack = &mut *self.stack;
                    let (out, seen_rule, generation) =
                        (&mut *self.out, &mut *self.seen_rule, self.generation);
                    index.visit(value, &flat, self.value_scratch, |targets| {
                        for &rule in targets.rules(&automaton.pools) {
                            if seen_rule[rule as usize] != generation {
                                seen_rule[rule as usize] = generation;
                                out.push(RuleId(rule));
                            }
                        }
                        stack.extend_from_slice(targets.states(&automaton.pools));
                    });
                    let end = self.stack.len();
                    if end > start {
                        let next_membership = self.merged(value.frame, membership);
                        for k in start..end {
                            let next = self.stack[k];
                            self.state(next, next_membership);
                        }
                    }
                    self.stack.truncate(start);
                }
            }
            if !edge.absent.is_empty()
                && !self
                    .values_of(edge.field)
                    .any(|v| self.consistent(v.frame, membership))
            {
                self.accept(edge.absent.rules(&automaton.pools));
                for &next in edge.absent.states(&automaton.pools) {
                    self.state(next, membership);
                }
            }
        }
    }
}
