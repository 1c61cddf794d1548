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
use crate::event::{EventError, FlattenScratch, LeafValue};

/// Reusable per-thread state for matching; create one per thread (or use
/// the matcher's built-in thread-local one).
#[derive(Default)]
pub struct MatchScratch {
    pub(crate) flat: FlattenScratch,
    values: ValueScratch,
    /// Per field: (generation, start, end) into the sorted values.
    slots: Vec<(u32, u32, u32)>,
    visited: Vec<u32>,
    seen_rule: Vec<u32>,
    generation: u32,
    stack: Vec<u32>,
    bump: Bump,
}

impl MatchScratch {
    fn next_generation(&mut self, fields: usize, states: usize, rules: usize) {
        if self.generation == u32::MAX {
            self.generation = 0;
            self.slots.iter_mut().for_each(|s| s.0 = 0);
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.seen_rule.iter_mut().for_each(|v| *v = 0);
        }
        self.generation += 1;
        if self.slots.len() < fields {
            self.slots.resize(fields, (0, 0, 0));
        }
        if self.visited.len() < states {
            self.visited.resize(states, 0);
        }
        if self.seen_rule.len() < rules {
            self.seen_rule.resize(rules, 0);
        }
        self.bump.reset();
    }
}

impl Automaton {
    /// Matches one event; rule ids are appended to `out`, sorted.
    pub fn run(
        &self,
        event: &[u8],
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
    ) -> Result<(), EventError> {
        out.clear();
        scratch.flat.flatten(event, &self.trie)?;
        scratch.next_generation(self.fields.len(), self.states.len(), self.rule_count);
        let generation = scratch.generation;
        let values = &mut scratch.flat.values;
        values.sort_unstable_by_key(|v| v.field);
        let mut i = 0;
        while i < values.len() {
            let field = values[i].field;
            let mut j = i + 1;
            while j < values.len() && values[j].field == field {
                j += 1;
            }
            scratch.slots[field as usize] = (generation, i as u32, j as u32);
            i = j;
        }
        let MatchScratch {
            flat,
            values: value_scratch,
            slots,
            visited,
            seen_rule,
            stack,
            bump,
            ..
        } = scratch;
        let mut walk = Walk {
            automaton: self,
            flat,
            value_scratch,
            slots,
            visited,
            seen_rule,
            stack,
            bump,
            generation,
            out,
        };
        walk.state(0, &[]);
        out.sort_unstable();
        Ok(())
    }
}

struct Walk<'a, 'b> {
    automaton: &'a Automaton,
    flat: &'a FlattenScratch,
    value_scratch: &'a mut ValueScratch,
    slots: &'a [(u32, u32, u32)],
    visited: &'a mut [u32],
    seen_rule: &'a mut [u32],
    stack: &'a mut Vec<u32>,
    bump: &'b Bump,
    generation: u32,
    out: &'a mut Vec<RuleId>,
}

impl<'a, 'b> Walk<'a, 'b> {
    fn values_of(&self, field: u32) -> &'a [LeafValue] {
        let flat: &'a FlattenScratch = self.flat;
        let (generation, start, end) = self.slots[field as usize];
        if generation == self.generation {
            &flat.values[start as usize..end as usize]
        } else {
            &[]
        }
    }

    /// Whether `frame` lies in the same element of every array `membership` names.
    fn consistent(&self, frame: u32, membership: &[(u32, u32)]) -> bool {
        if frame == 0 || membership.is_empty() {
            return true;
        }
        self.flat.chain(frame).all(|(array, index)| {
            membership
                .iter()
                .all(|&(a, i)| a != array || i == index)
        })
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
        let mut out = bumpalo::collections::Vec::with_capacity_in(membership.len() + extra, self.bump);
        out.extend_from_slice(membership);
        for pair in self.flat.chain(frame) {
            if !membership.iter().any(|(a, _)| *a == pair.0) {
                out.push(pair);
            }
        }
        out.into_bump_slice()
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
        for &rule in node.accepts.iter() {
            if self.seen_rule[rule as usize] != self.generation {
                self.seen_rule[rule as usize] = self.generation;
                self.out.push(RuleId(rule));
            }
        }
        for edge in node.edges.iter() {
            let values = self.values_of(edge.field);
            if let Some(index) = &edge.values {
                for value in values {
                    if !self.consistent(value.frame, membership) {
                        continue;
                    }
                    let start = self.stack.len();
                    let flat: &'a FlattenScratch = self.flat;
                    let text = flat.text(value);
                    let stack = &mut *self.stack;
                    index.visit(value, text, self.value_scratch, |targets| {
                        stack.extend_from_slice(targets.of(&automaton.pool));
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
                && !values
                    .iter()
                    .any(|v| self.consistent(v.frame, membership))
            {
                for k in 0..edge.absent.len {
                    let next = automaton.pool[(edge.absent.start + k) as usize];
                    self.state(next, membership);
                }
            }
        }
    }
}
