//! Running the automaton over one flattened event.
//!
//! A depth-first walk from the start state. A configuration is a state and
//! the array elements its values came from (the *membership*); a value is
//! usable only if it does not sit in another element of an array the
//! membership already names, so all the values that satisfy one pattern come
//! from the same element of every array they share. Configurations without
//! membership (the common case: no arrays of objects) are visited once per
//! event, tracked by generation stamps so nothing is cleared per event.

use std::fmt;

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
    generation: u32,
    stack: Vec<u32>,
    bump: Bump,
    /// One bit per rule: the rules already reported for this event (all
    /// clear between events). It dedups the output and, walked in order,
    /// sorts it.
    seen: Vec<u64>,
}

impl fmt::Debug for MatchScratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatchScratch")
            .field("states", &self.visited.len())
            .field("rules", &(self.seen.len() * 64))
            .finish_non_exhaustive()
    }
}

impl MatchScratch {
    fn next_generation(&mut self, states: usize, rules: usize) {
        if self.generation == u32::MAX {
            self.generation = 0;
            self.visited.iter_mut().for_each(|v| *v = 0);
        }
        self.generation += 1;
        if self.visited.len() < states {
            self.visited.resize(states, 0);
        }
        if self.seen.len() < rules.div_ceil(64) {
            self.seen.resize(rules.div_ceil(64), 0);
        }
        self.bump.reset();
    }
}

impl Automaton {
    /// Matches one event; `out` receives the rule ids, each once, sorted if
    /// `sort` (else in the order they were found). `reader` is how the
    /// event is read: `Some(mode)` with the on-demand reader, `None` with
    /// the full-parse test oracle.
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
            seen,
            stack,
            bump,
            ..
        } = scratch;
        let mut walk = Walk {
            automaton: self,
            flat: flat.view(event),
            value_scratch,
            visited,
            found: Found::new(seen, out),
            stack,
            bump,
            generation,
        };
        walk.state(0, &[]);
        walk.found.finish(sort);
        Ok(())
    }
}

/// The rules found for one event: the bitset of those reported so far and
/// the output list. Long lists may be *deferred*: their bits are set but
/// their ids are not written; the output is completed from the bitset when
/// the event is finished (see [`Found::finish`]), which costs a step per
/// word of the span they cover, so a list is deferred only while that span
/// stays within a small multiple of the deferred rules.
struct Found<'a> {
    seen: &'a mut [u64],
    out: &'a mut Vec<RuleId>,
    /// The words holding every deferred rule (`low > high` when none).
    low: usize,
    high: usize,
    /// The number of deferred rules (with repeats), for the span budget.
    deferred: usize,
}

/// A deferred span may cover this many words per deferred rule, plus
/// [`SPAN_SLACK`]: a word of the final pass costs about a fifth of writing
/// one id with its check.
const SPAN_PER_RULE: usize = 8;
const SPAN_SLACK: usize = 64;

impl<'a> Found<'a> {
    fn new(seen: &'a mut [u64], out: &'a mut Vec<RuleId>) -> Self {
        Found {
            seen,
            out,
            low: usize::MAX,
            high: 0,
            deferred: 0,
        }
    }

    /// Reports the rules of a list; the ids in every list are sorted (the
    /// pools and the accepts are built sorted and deduplicated), which the
    /// deferral relies on for its span.
    #[inline]
    fn report(&mut self, rules: &[u32]) {
        if rules.len() >= LONG_REPORT {
            self.report_long(rules);
            return;
        }
        report(rules, self.seen, self.out);
    }

    /// A long list: deferred when the span budget allows (only its bits are
    /// set, no branch or write per rule), else written as [`report_long`] does.
    #[inline(never)]
    fn report_long(&mut self, rules: &[u32]) {
        let (Some(&first), Some(&last)) = (rules.first(), rules.last()) else {
            return;
        };
        let low = self.low.min(first as usize / 64);
        let high = self.high.max(last as usize / 64);
        let deferred = self.deferred + rules.len();
        if high >= self.seen.len() || high - low >= SPAN_PER_RULE * deferred + SPAN_SLACK {
            report_long(rules, self.seen, self.out);
            return;
        }
        (self.low, self.high, self.deferred) = (low, high, deferred);
        let seen = &mut *self.seen;
        for &rule in rules {
            if let Some(word) = seen.get_mut(rule as usize / 64) {
                *word |= 1u64 << (rule % 64);
            }
        }
    }

    /// Completes the output (each rule once, sorted if `sort`) and clears
    /// the bitset.
    fn finish(self, sort: bool) {
        if self.deferred == 0 {
            finish_ids(self.out, self.seen, sort);
            return;
        }
        let (mut low, mut high) = (self.low, self.high);
        // The ids written so far join the pass when the span stays within
        // budget with them (then the output comes out sorted, no sort).
        let (mut first, mut last) = (low, high);
        for id in self.out.iter() {
            first = first.min(id.index() / 64);
            last = last.max(id.index() / 64);
        }
        if last - first < SPAN_PER_RULE * (self.deferred + self.out.len()) + SPAN_SLACK {
            (low, high) = (first, last);
        }
        // Ids inside the span are collected again from the bitset; those
        // outside keep their place and clear their words (which hold no
        // deferred rule).
        let seen = &mut *self.seen;
        let mut outside = false;
        self.out.retain(|id| {
            let w = id.index() / 64;
            if (low..=high).contains(&w) {
                return false;
            }
            if let Some(word) = seen.get_mut(w) {
                *word = 0;
            }
            outside = true;
            true
        });
        let span = seen.get_mut(low..=high).unwrap_or_default();
        for (w, bits) in (low..).zip(span.iter_mut()) {
            let mut word = std::mem::take(bits);
            while word != 0 {
                self.out
                    .push(RuleId::new((w * 64) as u32 + word.trailing_zeros()));
                word &= word - 1;
            }
        }
        if sort && outside {
            self.out.sort_unstable();
        }
    }
}

/// Clears the bits of the ids in `out` and, if `sort`, sorts `out`: a
/// comparison sort when the ids are few for the span of words they cover,
/// else a pass over those words of the bitset (which clears them too). The
/// pass costs one step per 64 rules of the span, so an event matching
/// hundreds of rules of a large set is sorted without comparisons.
fn finish_ids(out: &mut [RuleId], seen: &mut [u64], sort: bool) {
    if !sort || out.len() <= 32 {
        for id in out.iter() {
            let i = id.index();
            if let Some(w) = seen.get_mut(i / 64) {
                *w = 0;
            }
        }
        if sort {
            out.sort_unstable();
        }
        return;
    }
    let (low, high) = if seen.len() <= out.len() * 4 {
        // The whole bitset is short next to the ids (hundreds of rules of
        // ten thousand): pass over all of it, not looking for the span.
        (0, seen.len() - 1)
    } else {
        let (mut low, mut high) = (usize::MAX, 0);
        for id in out.iter() {
            low = low.min(id.index() / 64);
            high = high.max(id.index() / 64);
        }
        (low, high)
    };
    if high - low > out.len() * 4 {
        // Sparse over a wide span: comparisons are cheaper than the pass.
        for id in out.iter() {
            if let Some(w) = seen.get_mut(id.index() / 64) {
                *w = 0;
            }
        }
        out.sort_unstable();
        return;
    }
    // The set bits are exactly the ids in `out`: rewrite it in place. A
    // plain index loop over the span (most words are zero for a large set).
    let span = seen.get_mut(low..=high).unwrap_or_default();
    let mut at = 0;
    for (w, bits) in (low..).zip(span.iter_mut()) {
        let mut word = std::mem::take(bits);
        while word != 0 {
            if let Some(slot) = out.get_mut(at) {
                *slot = RuleId::new((w * 64) as u32 + word.trailing_zeros());
            }
            at += 1;
            word &= word - 1;
        }
    }
}

/// A list of at least this many rules is reported without a branch per
/// rule (see [`report`]).
const LONG_REPORT: usize = 8;

/// Appends the rules not reported yet for this event to `out`.
#[inline]
fn report(rules: &[u32], seen: &mut [u64], out: &mut Vec<RuleId>) {
    if rules.len() >= LONG_REPORT {
        report_long(rules, seen, out);
        return;
    }
    for &rule in rules {
        let (w, bit) = ((rule / 64) as usize, 1u64 << (rule % 64));
        if let Some(word) = seen.get_mut(w)
            && *word & bit == 0
        {
            *word |= bit;
            out.push(RuleId::new(rule));
        }
    }
}

/// [`report`] for a long list (a hundred rules of one broad
/// `anything-but`): room for all of it, each id written and kept only if it
/// is new, so no capacity check or branch per rule. Out of line, so that
/// the short case stays small enough to inline where it is called.
#[inline(never)]
fn report_long(rules: &[u32], seen: &mut [u64], out: &mut Vec<RuleId>) {
    let base = out.len();
    out.resize(base + rules.len(), RuleId::new(0));
    let mut kept = base;
    for &rule in rules {
        let (w, bit) = ((rule / 64) as usize, 1u64 << (rule % 64));
        let Some(word) = seen.get_mut(w) else {
            continue;
        };
        let new = *word & bit == 0;
        *word |= bit;
        if let Some(slot) = out.get_mut(kept) {
            *slot = RuleId::new(rule);
        }
        kept += usize::from(new);
    }
    out.truncate(kept);
}

struct Walk<'a, 'b> {
    automaton: &'a Automaton,
    flat: Flat<'a>,
    value_scratch: &'a mut ValueScratch,
    visited: &'a mut [u32],
    found: Found<'a>,
    stack: &'a mut Vec<u32>,
    bump: &'b Bump,
    generation: u32,
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
        self.found.report(rules);
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
                    if index.rules_out(value, &self.flat)
                        || !self.consistent(value.frame, membership)
                    {
                        continue;
                    }
                    let start = self.stack.len();
                    let flat = self.flat;
                    let stack = &mut *self.stack;
                    let found = &mut self.found;
                    index.visit(value, &flat, self.value_scratch, |targets| {
                        found.report(targets.rules(&automaton.pools));
                        // Most hits lead to leaves only: no call to grow the stack.
                        let states = targets.states(&automaton.pools);
                        if !states.is_empty() {
                            stack.extend_from_slice(states);
                        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Long lists (reported without a branch per rule) and short ones,
    /// overlapping, report each rule once, in first-seen order, as one
    /// rule at a time does.
    #[test]
    fn long_and_short_lists_report_each_rule_once() {
        let mut next = crate::util::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        for round in 0..200 {
            let rules = 64 + (next() % 2000) as u32;
            let (mut seen, mut seen_one) = (
                vec![0u64; (rules as usize).div_ceil(64)],
                vec![0u64; (rules as usize).div_ceil(64)],
            );
            let (mut out, mut want) = (Vec::new(), Vec::new());
            for _ in 0..(1 + next() % 6) {
                let len = (next() % (3 * LONG_REPORT as u64)) as usize;
                let mut list: Vec<u32> = (0..len).map(|_| (next() % rules as u64) as u32).collect();
                list.sort_unstable();
                list.dedup();
                report(&list, &mut seen, &mut out);
                for &rule in &list {
                    report(&[rule], &mut seen_one, &mut want);
                }
            }
            assert_eq!(out, want, "round {round}");
            assert_eq!(seen, seen_one, "round {round}");
        }
    }

    /// Deferred long lists, lists written at once and short ones, mixed
    /// (spans narrow and wide, ids inside and outside the deferred span):
    /// the output is each rule once, sorted when asked, and the bitset is
    /// left clear.
    #[test]
    fn deferred_lists_finish_as_written_ones() {
        let mut next = crate::util::test_rng::xorshift(0x6A09_E667_F3BC_C908);
        for round in 0..400 {
            let rules = 64 + (next() % 40_000) as u32;
            let mut seen = vec![0u64; (rules as usize).div_ceil(64)];
            let mut out = Vec::new();
            let mut want = Vec::new();
            let sort = round % 3 != 0;
            {
                let mut found = Found::new(&mut seen, &mut out);
                for _ in 0..(1 + next() % 8) {
                    let len = (next() % (6 * LONG_REPORT as u64)) as usize;
                    // A narrow cluster or the whole range.
                    let (base, span) = if next().is_multiple_of(2) {
                        let span = 1 + next() % 3000;
                        (next() % (rules as u64 - span.min(rules as u64 - 1)), span)
                    } else {
                        (0, rules as u64)
                    };
                    let mut list: Vec<u32> = (0..len)
                        .map(|_| ((base + next() % span) % rules as u64) as u32)
                        .collect();
                    list.sort_unstable();
                    list.dedup();
                    want.extend(list.iter().map(|r| RuleId::new(*r)));
                    found.report(&list);
                }
                found.finish(sort);
            }
            want.sort_unstable();
            want.dedup();
            if !sort {
                out.sort_unstable();
            }
            assert_eq!(out, want, "round {round}");
            assert!(seen.iter().all(|w| *w == 0), "round {round}: bits left");
        }
    }

    /// Every path of `finish_ids` (few ids, dense, sparse over a wide span;
    /// sorted or not) leaves the ids sorted when asked, each once, and the
    /// bitset clear.
    #[test]
    fn finishing_sorts_and_clears_the_bits() {
        let rules = 100_000usize;
        let mut seen = vec![0u64; rules.div_ceil(64)];
        let mut next = crate::util::test_rng::xorshift(0x2545_F491_4F6C_DD1D);
        for (count, span) in [
            (0, 10),
            (1, 10),
            (32, 64),
            (33, 64),
            (33, 100_000),
            (200, 2_000),
            (200, 100_000),
            (400, 100_000),
            (5_000, 8_000),
        ] {
            for sort in [true, false] {
                let mut out = Vec::new();
                let base = (next() % (rules - span + 1) as u64) as u32;
                while out.len() < count {
                    report(&[base + (next() % span as u64) as u32], &mut seen, &mut out);
                }
                let mut want = out.clone();
                want.sort_unstable();
                finish_ids(&mut out, &mut seen, sort);
                if sort {
                    assert_eq!(out, want, "{count} ids over {span}");
                } else {
                    let mut got = out.clone();
                    got.sort_unstable();
                    assert_eq!(got, want, "{count} ids over {span}, unsorted");
                }
                assert!(
                    seen.iter().all(|w| *w == 0),
                    "{count} over {span}: bits left"
                );
            }
        }
    }
}
