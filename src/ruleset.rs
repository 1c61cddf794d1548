//! The public face: named rules, compiled matchers, and snapshots that can
//! be replaced while other threads match.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
#[cfg(feature = "rayon")]
use rayon::prelude::*;

use crate::automaton::{Automaton, AutomatonStats, MatchScratch};
use crate::event::{EventError, FieldReader, ReadMode};
use crate::pattern::{Limits, Pattern, PatternError};

/// Identifies a rule within one [`Matcher`]. Ids follow the rule names'
/// byte order, so sorting ids sorts names.
///
/// An id is only meaningful for the matcher that produced it: the same
/// name may have another id in a matcher compiled from a different rule set.
/// [`RuleId::index`] is the rule's position among the matcher's sorted names
/// (`0..matcher.rule_count()`), for callers that keep per-rule data in a
/// vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(u32);

impl RuleId {
    #[inline]
    pub(crate) fn new(index: u32) -> RuleId {
        RuleId(index)
    }

    /// The rule's position among its matcher's rule names, sorted:
    /// `0..matcher.rule_count()`.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A mutable collection of named rules. A name may hold several patterns;
/// the rule matches when any of them does.
///
/// ```
/// use ferrule::RuleSet;
///
/// let mut rules = RuleSet::new();
/// rules.add("big-uploads", r#"{"source": ["aws.s3"], "detail": {"size": [{"numeric": [">", 1024]}]}}"#)?;
/// rules.add("big-uploads", r#"{"source": ["my.app"]}"#)?; // OR-ed with the first
/// let matcher = rules.compile();
/// let hits = matcher.matching_names(br#"{"source": "my.app"}"#)?;
/// assert_eq!(hits, ["big-uploads"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    limits: Limits,
    rules: BTreeMap<String, Vec<Pattern>>,
}

impl RuleSet {
    /// An empty rule set with the default [`Limits`].
    pub fn new() -> RuleSet {
        RuleSet::default()
    }

    /// An empty rule set whose patterns are checked against `limits`.
    pub fn with_limits(limits: Limits) -> RuleSet {
        RuleSet {
            limits,
            rules: BTreeMap::new(),
        }
    }

    /// The limits patterns are checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Parses `pattern` and adds it to rule `name` (creating the rule if needed).
    /// On error nothing is added.
    pub fn add(&mut self, name: &str, pattern: &str) -> Result<(), PatternError> {
        let parsed = Pattern::parse_with(pattern, &self.limits)?;
        self.add_pattern(name, parsed);
        Ok(())
    }

    /// Adds an already parsed pattern to rule `name`.
    pub fn add_pattern(&mut self, name: &str, pattern: Pattern) {
        self.rules
            .entry(name.to_string())
            .or_default()
            .push(pattern);
    }

    /// Removes rule `name` and all its patterns; returns whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        self.rules.remove(name).is_some()
    }

    /// Whether rule `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.rules.contains_key(name)
    }

    /// The number of rules (names).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str)
    }

    /// Compiles the rules into an immutable [`Matcher`].
    pub fn compile(&self) -> Matcher {
        let names: Vec<String> = self.rules.keys().cloned().collect();
        let automaton = Automaton::new(
            self.rules
                .values()
                .enumerate()
                .flat_map(|(id, patterns)| patterns.iter().map(move |p| (id as u32, p))),
            names.len(),
        );
        Matcher { names, automaton }
    }
}

thread_local! {
    static SCRATCH: RefCell<(MatchScratch, Vec<RuleId>)> =
        RefCell::new((MatchScratch::default(), Vec::new()));
}

/// Runs `f` with this thread's scratch and id buffer (fresh ones if they are
/// already in use further up the stack).
fn with_scratch<R>(f: impl FnOnce(&mut MatchScratch, &mut Vec<RuleId>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) => {
            let (scratch, out) = &mut *guard;
            f(scratch, out)
        }
        Err(_) => f(&mut MatchScratch::default(), &mut Vec::new()),
    })
}

/// A compiled, immutable rule set. `Send + Sync`: share it across threads
/// (for example in an [`Arc`], or through a [`SharedMatcher`]).
pub struct Matcher {
    names: Vec<String>,
    automaton: Automaton,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher")
            .field("rules", &self.names.len())
            .field("stats", &self.automaton.stats())
            .finish()
    }
}

impl Matcher {
    /// This matcher with the trusted mode's early stop on or off (off by
    /// default): reading in [`ReadMode::Trusted`], it stops once no later
    /// member of the event can reach a path some rule uses. Duplicate,
    /// dotted and escaped keys later in the event still count (a search
    /// for every way such a key can begin decides). Answers are the same;
    /// it costs less only when the event's tail after the last member read
    /// holds members the reader would otherwise walk one by one (see the
    /// README's *Early stop*, under *The library*, for the measurements). No effect in
    /// validated mode, which checks every byte.
    ///
    /// ```
    /// use ferrule::RuleSet;
    ///
    /// let mut rules = RuleSet::new();
    /// rules.add("s3", r#"{"source": ["aws.s3"]}"#)?;
    /// let matcher = rules.compile().with_early_stop(true);
    /// let event = br#"{"source": "aws.s3", "detail": {"a": 1}, "source": "x"}"#;
    /// assert_eq!(matcher.matches_trusted(event)?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_early_stop(mut self, on: bool) -> Matcher {
        self.automaton.set_early_stop(on);
        self
    }

    /// The ids of the rules `event` (JSON text) matches, sorted.
    ///
    /// The event is read in [`ReadMode::Validated`]: invalid JSON anywhere
    /// in it, also in members no rule reads, is an [`EventError`]. Uses a
    /// thread-local [`MatchScratch`]; see [`Matcher::matches_with`] to
    /// supply your own.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<RuleId>, EventError> {
        self.matches_in_mode(event, ReadMode::Validated)
    }

    /// Like [`Matcher::matches`] for bytes already known to be valid JSON
    /// ([`ReadMode::Trusted`]): members no rule reads are skipped without
    /// being checked. For invalid input the answer is unspecified (an error
    /// or wrong ids), never a panic.
    pub fn matches_trusted(&self, event: &[u8]) -> Result<Vec<RuleId>, EventError> {
        self.matches_in_mode(event, ReadMode::Trusted)
    }

    fn matches_in_mode(&self, event: &[u8], mode: ReadMode) -> Result<Vec<RuleId>, EventError> {
        with_scratch(|scratch, out| {
            self.matches_with_mode(event, mode, scratch, out)?;
            Ok(out.clone())
        })
    }

    /// Like [`Matcher::matches`], reusing `scratch` and `out` (cleared
    /// first): no allocation once they have grown to size.
    pub fn matches_with(
        &self,
        event: &[u8],
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
    ) -> Result<(), EventError> {
        self.matches_with_mode(event, ReadMode::Validated, scratch, out)
    }

    /// Like [`Matcher::matches_with`], reading the event in `mode`.
    pub fn matches_with_mode(
        &self,
        event: &[u8],
        mode: ReadMode,
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
    ) -> Result<(), EventError> {
        self.automaton.run(event, Some(mode), scratch, out, true)
    }

    /// Like [`Matcher::matches_with_mode`], but the ids in `out` are in no
    /// particular order (each matching rule once). Skips the sort, for
    /// callers that count matches or put them into a set of their own.
    pub fn matches_unordered_with(
        &self,
        event: &[u8],
        mode: ReadMode,
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
    ) -> Result<(), EventError> {
        self.automaton.run(event, Some(mode), scratch, out, false)
    }

    /// The test oracle: like [`Matcher::matches_with`], but the event is
    /// parsed fully with simd-json into a tape first (the reader ferrule
    /// used before the on-demand one). For differential tests and fuzzing;
    /// it rejects numbers beyond the f64 range, which the reader accepts.
    #[doc(hidden)]
    pub fn matches_full_parse_with(
        &self,
        event: &[u8],
        scratch: &mut MatchScratch,
        out: &mut Vec<RuleId>,
    ) -> Result<(), EventError> {
        self.automaton.run(event, None, scratch, out, true)
    }

    /// The names of the rules `event` matches, sorted.
    pub fn matching_names(&self, event: &[u8]) -> Result<Vec<&str>, EventError> {
        Ok(self
            .matches(event)?
            .into_iter()
            .map(|id| self.name(id))
            .collect())
    }

    /// Matches many events; the results are in input order and equal to
    /// calling [`Matcher::matches`] on each. With the `rayon` feature (on by
    /// default) the events are spread over the rayon thread pool; without
    /// it they are matched one after another on the calling thread.
    pub fn matches_batch<E: AsRef<[u8]> + Sync>(
        &self,
        events: &[E],
    ) -> Vec<Result<Vec<RuleId>, EventError>> {
        self.batch(events, ReadMode::Validated)
    }

    /// [`Matcher::matches_batch`] for events already known to be valid JSON
    /// (each read as by [`Matcher::matches_trusted`]).
    pub fn matches_batch_trusted<E: AsRef<[u8]> + Sync>(
        &self,
        events: &[E],
    ) -> Vec<Result<Vec<RuleId>, EventError>> {
        self.batch(events, ReadMode::Trusted)
    }

    #[cfg(feature = "rayon")]
    fn batch<E: AsRef<[u8]> + Sync>(
        &self,
        events: &[E],
        mode: ReadMode,
    ) -> Vec<Result<Vec<RuleId>, EventError>> {
        events
            .par_iter()
            .with_min_len(64)
            .map(|e| self.matches_in_mode(e.as_ref(), mode))
            .collect()
    }

    #[cfg(not(feature = "rayon"))]
    fn batch<E: AsRef<[u8]> + Sync>(
        &self,
        events: &[E],
        mode: ReadMode,
    ) -> Vec<Result<Vec<RuleId>, EventError>> {
        events
            .iter()
            .map(|e| self.matches_in_mode(e.as_ref(), mode))
            .collect()
    }

    /// Counts, over many events, (events matched, total matches); events
    /// that fail to parse count as unmatched. Allocates nothing per event,
    /// and skips sorting the ids since only their number is used. Parallel
    /// with the `rayon` feature, as [`Matcher::matches_batch`].
    pub fn count_batch<E: AsRef<[u8]> + Sync>(&self, events: &[E]) -> (usize, usize) {
        self.count_batch_with_mode(events, ReadMode::Validated)
    }

    /// [`Matcher::count_batch`], reading the events in `mode`.
    pub fn count_batch_with_mode<E: AsRef<[u8]> + Sync>(
        &self,
        events: &[E],
        mode: ReadMode,
    ) -> (usize, usize) {
        let count = |e: &E| {
            with_scratch(|scratch, out| {
                match self
                    .automaton
                    .run(e.as_ref(), Some(mode), scratch, out, false)
                {
                    Ok(()) => (usize::from(!out.is_empty()), out.len()),
                    Err(_) => (0, 0),
                }
            })
        };
        let add = |a: (usize, usize), b: (usize, usize)| (a.0 + b.0, a.1 + b.1);
        #[cfg(feature = "rayon")]
        {
            events
                .par_iter()
                .with_min_len(64)
                .map(count)
                .reduce(|| (0, 0), add)
        }
        #[cfg(not(feature = "rayon"))]
        {
            events.iter().map(count).fold((0, 0), add)
        }
    }

    /// The name of rule `id`.
    ///
    /// # Panics
    /// If `id` did not come from this matcher.
    pub fn name(&self, id: RuleId) -> &str {
        &self.names[id.index()]
    }

    /// The id of rule `name`, if it is in this matcher.
    pub fn id(&self, name: &str) -> Option<RuleId> {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .ok()
            .map(|i| RuleId::new(i as u32))
    }

    /// The number of rules.
    pub fn rule_count(&self) -> usize {
        self.names.len()
    }

    /// A [`FieldReader`] of the field paths this matcher's rules use: the
    /// reading half of matching alone, for benchmarks. Like matching, it
    /// records only the numbers some rule of their field may take, so its
    /// count of leaves leaves out the others.
    pub fn field_reader(&self) -> FieldReader {
        FieldReader::from_trie(self.automaton.trie().clone())
    }

    /// Sizes of the compiled automaton.
    pub fn stats(&self) -> AutomatonStats {
        self.automaton.stats()
    }
}

/// A matcher that can be replaced while other threads use it.
///
/// Readers take a snapshot with [`SharedMatcher::load`] (an atomic pointer
/// load; it never blocks and is never blocked) and keep using it for as long
/// as they hold it; [`SharedMatcher::publish`] swaps in a new matcher for
/// later readers.
///
/// ```
/// use ferrule::{RuleSet, SharedMatcher};
///
/// let mut rules = RuleSet::new();
/// rules.add("a", r#"{"x": [1]}"#)?;
/// let shared = SharedMatcher::new(rules.compile());
/// let before = shared.load();
/// rules.add("b", r#"{"x": [1]}"#)?;
/// shared.publish(rules.compile());
/// assert_eq!(before.matches(br#"{"x": 1}"#)?.len(), 1);
/// assert_eq!(shared.load().matches(br#"{"x": 1}"#)?.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedMatcher {
    current: ArcSwap<Matcher>,
}

impl fmt::Debug for SharedMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMatcher")
            .field("current", &*self.current.load())
            .finish()
    }
}

impl SharedMatcher {
    /// Starts with `matcher`.
    pub fn new(matcher: Matcher) -> SharedMatcher {
        SharedMatcher {
            current: ArcSwap::from_pointee(matcher),
        }
    }

    /// The current matcher.
    pub fn load(&self) -> Arc<Matcher> {
        self.current.load_full()
    }

    /// Replaces the matcher; readers holding the old one keep it.
    pub fn publish(&self, matcher: Matcher) {
        self.current.store(Arc::new(matcher));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn matcher_is_send_and_sync() {
        assert_send_sync::<Matcher>();
        assert_send_sync::<SharedMatcher>();
    }

    #[test]
    fn names_are_ored_and_removable() {
        let mut rules = RuleSet::new();
        rules.add("r", r#"{"a": ["x"]}"#).unwrap();
        rules.add("r", r#"{"b": ["y"]}"#).unwrap();
        rules.add("s", r#"{"a": ["x"], "b": ["y"]}"#).unwrap();
        let m = rules.compile();
        assert_eq!(m.matching_names(br#"{"b": "y"}"#).unwrap(), ["r"]);
        assert_eq!(
            m.matching_names(br#"{"a": "x", "b": "y"}"#).unwrap(),
            ["r", "s"]
        );
        assert!(rules.remove("r"));
        assert!(!rules.remove("r"));
        let m = rules.compile();
        assert_eq!(
            m.matching_names(br#"{"b": "y"}"#).unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(m.id("s"), Some(RuleId::new(0)));
    }

    /// The reader's number sieves: a field whose patterns take only some
    /// numbers gets one, a field with `exists`, `anything-but` or an
    /// absence test gets none, and matching through the sieve equals the
    /// full-parse oracle's (which records every number).
    #[test]
    fn number_sieves_refuse_only_numbers_no_pattern_takes() {
        let compile = |patterns: &[&str]| {
            let mut rules = RuleSet::new();
            for (i, p) in patterns.iter().enumerate() {
                rules.add(&format!("r{i}"), p).unwrap();
            }
            rules.compile()
        };
        let geometry = [
            r#"{"g": {"c": [37.807807921694092]}}"#,
            r#"{"p": ["x"], "g": {"c": [-122.418261722815416, 1.5]}}"#,
            r#"{"g": {"c": [{"numeric": [">", 0, "<", 100]}]}, "p": ["y"]}"#,
        ];
        let m = compile(&geometry);
        let sieve = m.automaton.number_sieve("g.c").expect("a sieve for g.c");
        for kept in [
            "37.807807921694092",
            "-122.418261722815416",
            "1.5",
            "37.5",
            "0.25",
            "1.5e0",
        ] {
            assert!(sieve.keeps(kept.as_bytes()), "{kept}");
        }
        for refused in ["-122.41826172281541", "-1.5", "-37.5", "375.0", "1000"] {
            assert!(!sieve.keeps(refused.as_bytes()), "{refused}");
        }
        // Strings only: no number is kept.
        let p = m.automaton.number_sieve("p").expect("a sieve for p");
        assert!(!p.keeps(b"0") && !p.keeps(b"1.5"));
        let events = [
            r#"{"g": {"c": [[[-122.418261722815416, 37.807807921694092, 0.0]]]}, "p": "x"}"#,
            r#"{"g": {"c": [[[-122.4, 37.8, 0.0], [1.5, 0.0, 0.0]]]}, "p": ["x", 1.5]}"#,
            r#"{"g": {"c": [-1, 0, 150, 37.807807921694092, 3.75e1]}, "p": "y"}"#,
            r#"{"g": {"c": 1.50}, "p": "x"}"#,
            r#"{"g": {"c": [-122.41, 0.0]}, "p": "y"}"#,
        ];
        let expected: [&[&str]; 5] = [&["r0", "r1"], &["r1"], &["r0", "r2"], &["r1"], &[]];
        let mut extra = geometry.to_vec();
        for (other, sieved) in [
            (r#"{"g": {"c": [{"exists": true}]}}"#, false),
            (r#"{"g": {"c": [{"exists": false}]}}"#, false),
            (r#"{"g": {"c": [{"anything-but": [0]}]}}"#, false),
            (r#"{"g": {"c": [{"prefix": "1"}]}}"#, true),
        ] {
            extra.push(other);
            let with = compile(&extra);
            assert_eq!(
                with.automaton.number_sieve("g.c").is_some(),
                sieved,
                "{other}"
            );
            extra.pop();
        }
        let mut scratch = MatchScratch::default();
        for (event, want) in events.iter().zip(expected) {
            let (mut full, mut read) = (Vec::new(), Vec::new());
            m.matches_full_parse_with(event.as_bytes(), &mut scratch, &mut full)
                .unwrap();
            for mode in [ReadMode::Validated, ReadMode::Trusted] {
                m.matches_with_mode(event.as_bytes(), mode, &mut scratch, &mut read)
                    .unwrap();
                assert_eq!(read, full, "{event} {mode:?}");
            }
            let names: Vec<&str> = full.iter().map(|id| m.name(*id)).collect();
            assert_eq!(names, want, "{event}");
        }
    }

    /// Trusted reading passes over a whole array of numbers when its
    /// field's sieve holds only texts and none of them occurs in it; an
    /// occurrence (even inside a longer number), a string, or nesting past
    /// the depth limit sends it to the usual reading, and the answers equal
    /// the full parse's.
    #[test]
    fn number_arrays_without_a_text_are_passed_over_whole() {
        let mut rules = RuleSet::new();
        rules
            .add("r0", r#"{"g": {"c": [37.807807921694092]}}"#)
            .unwrap();
        rules
            .add("r1", r#"{"g": {"c": [-122.418261722815416]}, "p": ["x"]}"#)
            .unwrap();
        let m = rules.compile();
        let sieve = m.automaton.number_sieve("g.c").expect("a sieve for g.c");
        assert!(sieve.refuses_by_text());
        assert!(sieve.refuses_all_in(b"[[-122.4, 37.807807921694093]]"));
        assert!(!sieve.refuses_all_in(b"[[-122.4, 37.807807921694092]]"));
        let events: [(&str, &[&str]); 7] = [
            (
                r#"{"g": {"c": [[[-122.4, 37.8, 0.0], [1.5, -2e3, 0]]]}, "p": "x"}"#,
                &[],
            ),
            (
                r#"{"g": {"c": [[[-122.4, 37.807807921694092, 0.0]]]}, "p": "x"}"#,
                &["r0"],
            ),
            (
                r#"{"g": {"c": [[-122.418261722815416]], "x": 1}, "p": "x"}"#,
                &["r1"],
            ),
            (
                r#"{"g": {"c": [[137.807807921694092, 37.8078079216940921]]}}"#,
                &[],
            ),
            (
                r#"{"g": {"c": [["37.807807921694092"], 37.807807921694092]}}"#,
                &["r0"],
            ),
            (r#"{"g": {"c": [[], [[]], 1]}, "p": "x"}"#, &[]),
            (r#"{"g": {"c": 37.807807921694092}}"#, &["r0"]),
        ];
        let mut scratch = MatchScratch::default();
        for (event, want) in events {
            let (mut full, mut read) = (Vec::new(), Vec::new());
            m.matches_full_parse_with(event.as_bytes(), &mut scratch, &mut full)
                .unwrap();
            for mode in [ReadMode::Validated, ReadMode::Trusted] {
                m.matches_with_mode(event.as_bytes(), mode, &mut scratch, &mut read)
                    .unwrap();
                assert_eq!(read, full, "{event} {mode:?}");
            }
            let names: Vec<&str> = full.iter().map(|id| m.name(*id)).collect();
            assert_eq!(names, want, "{event}");
        }
        // The pass does not read the numbers: a literal the usual reading
        // rejects is jumped over in trusted mode (whose answer on invalid
        // JSON is unspecified), which shows that the pass was taken.
        let bad = br#"{"g": {"c": [[1, 2..5]]}, "p": "x"}"#;
        assert!(m.matches(bad).is_err());
        assert_eq!(m.matches_trusted(bad).map(|f| f.len()), Ok(0));
        // Nested past the depth limit inside: read as usual, so an error
        // in both modes, as the full parse gives.
        let depth = crate::MAX_EVENT_DEPTH;
        let deep = format!(
            r#"{{"g": {{"c": {}1{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        for mode in [ReadMode::Validated, ReadMode::Trusted] {
            let mut out = Vec::new();
            let got = m.matches_with_mode(deep.as_bytes(), mode, &mut scratch, &mut out);
            assert!(got.is_err(), "{mode:?}");
        }
        let fits = format!(
            r#"{{"g": {{"c": {}1{}}}}}"#,
            "[".repeat(depth - 2),
            "]".repeat(depth - 2)
        );
        assert_eq!(m.matches_trusted(fits.as_bytes()).map(|f| f.len()), Ok(0));
    }

    #[test]
    fn bad_pattern_adds_nothing() {
        let mut rules = RuleSet::new();
        assert!(rules.add("r", r#"{"a": []}"#).is_err());
        assert!(rules.is_empty());
    }

    /// Sorted output through each path of the sort (a few ids, many dense
    /// ids walked in the bitset, many ids spread over a wide span), the
    /// unordered output equal as a set, and nothing left over between
    /// events (the dedup bits are cleared).
    #[test]
    fn ids_are_sorted_deduped_and_cleared_between_events() {
        let mut rules = RuleSet::new();
        // Rule i matches events whose "n" is a multiple of i's divisor.
        let divisors = [1u32, 2, 3, 7, 50, 97, 1000];
        for i in 0..4000u32 {
            let d = divisors[(i % 7) as usize];
            let values: Vec<String> = (0..20).map(|k| (k * d).to_string()).collect();
            rules
                .add(
                    &format!("r{i:05}"),
                    &format!(
                        r#"{{"n": [{}], "m": [{{"exists": true}}]}}"#,
                        values.join(",")
                    ),
                )
                .unwrap();
            // A second pattern for some rules: matches the same events (dedup).
            if i.is_multiple_of(5) {
                rules.add(&format!("r{i:05}"), r#"{"m": ["dup"]}"#).unwrap();
            }
        }
        let m = rules.compile();
        let want = |n: u32, dup: bool| -> Vec<RuleId> {
            (0..4000u32)
                .filter(|i| {
                    let d = divisors[(i % 7) as usize];
                    (n.is_multiple_of(d) && n / d < 20) || (dup && i.is_multiple_of(5))
                })
                .map(RuleId::new)
                .collect()
        };
        let mut scratch = MatchScratch::default();
        let mut out = Vec::new();
        for round in 0..2 {
            for n in [0u32, 1, 14, 21, 100, 97 * 3, 1000, 5000, 19_000, 7] {
                for dup in [false, true] {
                    let event =
                        format!(r#"{{"n": {n}, "m": "{}"}}"#, if dup { "dup" } else { "x" });
                    let expected = want(n, dup);
                    assert_eq!(
                        m.matches(event.as_bytes()).unwrap(),
                        expected,
                        "{event} {round}"
                    );
                    m.matches_unordered_with(
                        event.as_bytes(),
                        ReadMode::Validated,
                        &mut scratch,
                        &mut out,
                    )
                    .unwrap();
                    let mut sorted = out.clone();
                    sorted.sort_unstable();
                    sorted.dedup();
                    assert_eq!(sorted.len(), out.len(), "duplicates in {event}");
                    assert_eq!(sorted, expected, "{event} unordered");
                    m.matches_with(event.as_bytes(), &mut scratch, &mut out)
                        .unwrap();
                    assert_eq!(out, expected, "{event} with scratch");
                }
            }
        }
    }

    #[test]
    fn batch_equals_one_by_one() {
        let mut rules = RuleSet::new();
        rules.add("n", r#"{"n": [{"numeric": [">", 5]}]}"#).unwrap();
        let m = rules.compile();
        let events: Vec<String> = (0..500).map(|i| format!(r#"{{"n": {i}}}"#)).collect();
        let batch = m.matches_batch(&events);
        for (e, r) in events.iter().zip(batch) {
            assert_eq!(r, m.matches(e.as_bytes()));
        }
        assert_eq!(m.count_batch(&events), (494, 494));
    }
}
