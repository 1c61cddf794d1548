//! The value side of one automaton edge: every value pattern that leaves one
//! state on one field, indexed so that a lookup costs about the same for one
//! pattern as for ten thousand.

use foldhash::HashMap;

use super::affix::{AffixIndex, End};
use super::interval::IntervalIndex;
use super::targets::{PoolBuilder, Targets};
use super::wildcards::WildcardIndex;
use crate::event::{Flat, Kind, LeafValue};
use crate::pattern::{AnythingBut, ValuePattern};
use crate::util::bands::Bands;
use crate::util::bytes;
use crate::util::ip::{self, IpKey};
use crate::util::number::Significand;
use crate::util::{casefold, number};

/// A number literal's text and where it leads.
type LiteralTargets = (Box<[u8]>, Targets);

/// Per-thread scratch for value lookups.
#[derive(Default)]
pub(crate) struct ValueScratch {
    folded: String,
    candidates: Vec<u32>,
    excluded: Vec<u32>,
}

#[derive(Debug, Default)]
pub(crate) struct ValueIndex {
    exact: HashMap<Box<[u8]>, Targets>,
    exact_ip: HashMap<IpKey, Targets>,
    /// Comparable number literals by their significand: an event number
    /// equals one iff its significand is the same (`number::Significand`),
    /// so it is looked up without being converted or checked for exactness.
    number_digits: HashMap<Significand, Targets>,
    /// Comparable literals whose significand could not be taken (none in
    /// practice: a comparable literal has at most 17 digits), by value.
    number_keys: HashMap<u64, Targets>,
    /// Literals that are not comparable (and those beyond the f64 range),
    /// keyed by their text: they match only the same spelling, so an event
    /// number is looked up by its text without being converted.
    number_texts: HashMap<Box<[u8]>, Targets>,
    /// The same when there are only a few: a short scan of lengths and bytes
    /// rules most numbers out faster than hashing.
    few_texts: Option<Box<[LiteralTargets]>>,
    /// Every key of `number_keys` when there are only a few: most numbers
    /// (coordinates, sizes) match none, and a short scan rules them out
    /// faster than hashing.
    few_numbers: Option<Box<[(Significand, Targets)]>>,
    true_: Targets,
    false_: Targets,
    null: Targets,
    exists: Targets,
    prefix: Option<AffixIndex<Targets>>,
    suffix: Option<AffixIndex<Targets>>,
    ignore_case: HashMap<Box<[u8]>, Targets>,
    prefix_ignore_case: Option<AffixIndex<Targets>>,
    suffix_ignore_case: Option<AffixIndex<Targets>>,
    wildcards: Option<WildcardIndex<Targets>>,
    numeric: Option<IntervalIndex<u64>>,
    /// `Some(negative)` when no literal of that sign can fall in any
    /// numeric range (`Some(true)`: every range lies above zero, as
    /// latitudes or prices do; `Some(false)`: every one below zero). Such
    /// a literal is ruled out by its first byte, neither scanned nor
    /// converted.
    numeric_sign_out: Option<bool>,
    /// The magnitudes no numeric range and no comparable number literal
    /// reaches, when there are any (coordinates' `0.0` z-values next to
    /// latitude ranges or a latitude literal): a literal in such a band is
    /// ruled out from its text, neither scanned nor converted.
    value_bands: Option<Bands>,
    cidr: Option<IntervalIndex<IpKey>>,
    /// Whether numeric ranges are all there is: then a value that is not a
    /// number, or a number the sign or band tests rule out, is ruled out
    /// before the visit (see [`ValueIndex::rules_out`]).
    numeric_only: bool,
    anything_but: Option<Box<Complement>>,
    needs_fold: bool,
    needs_ip: bool,
}

impl ValueIndex {
    /// Builds the index for the (pattern, next state) pairs of one edge.
    /// `Absent` patterns are not value patterns and must not be passed.
    pub fn new(pairs: &[(ValuePattern, u32)], pool: &mut PoolBuilder<'_>) -> ValueIndex {
        let mut exact: HashMap<Box<[u8]>, Vec<u32>> = HashMap::default();
        let mut exact_ip: HashMap<IpKey, Vec<u32>> = HashMap::default();
        let mut number_keys: HashMap<u64, Vec<u32>> = HashMap::default();
        let mut number_digits: HashMap<Significand, Vec<u32>> = HashMap::default();
        let mut number_texts: HashMap<Box<[u8]>, Vec<u32>> = HashMap::default();
        let (mut true_, mut false_, mut null, mut exists) = (vec![], vec![], vec![], vec![]);
        let mut prefix = AffixIndex::new(End::Start);
        let mut suffix = AffixIndex::new(End::End);
        let mut prefix_ic = AffixIndex::new(End::Start);
        let mut suffix_ic = AffixIndex::new(End::End);
        let mut ignore_case: HashMap<Box<[u8]>, Vec<u32>> = HashMap::default();
        let mut wildcards = Vec::new();
        let mut numeric: Vec<(u64, u64, Vec<u32>)> = Vec::new();
        let mut cidr: Vec<(IpKey, IpKey, Vec<u32>)> = Vec::new();
        let mut anything_but: Vec<(AnythingBut, Vec<u32>)> = Vec::new();
        // Every comparable literal's value, for the bands.
        let mut literal_keys: Vec<u64> = Vec::new();

        fn bytes(s: &str) -> Box<[u8]> {
            s.as_bytes().to_vec().into_boxed_slice()
        }
        for (pattern, next) in pairs {
            let next = *next;
            match pattern {
                ValuePattern::Exact { text, ip } => {
                    exact.entry(bytes(text)).or_default().push(next);
                    if let Some(ip) = ip {
                        exact_ip.entry(*ip).or_default().push(next);
                    }
                }
                ValuePattern::Number { text, key } => match key {
                    Some(key) => {
                        literal_keys.push(*key);
                        match number::scan(text.as_bytes()) {
                            Some(digits) => number_digits.entry(digits).or_default().push(next),
                            None => number_keys.entry(*key).or_default().push(next),
                        }
                    }
                    None => number_texts.entry(bytes(text)).or_default().push(next),
                },
                ValuePattern::True => true_.push(next),
                ValuePattern::False => false_.push(next),
                ValuePattern::Null => null.push(next),
                ValuePattern::Exists => exists.push(next),
                ValuePattern::Absent => {}
                ValuePattern::Prefix(p) => prefix.entry(p.as_bytes(), Vec::new).push(next),
                ValuePattern::Suffix(s) => suffix.entry(s.as_bytes(), Vec::new).push(next),
                ValuePattern::PrefixIgnoreCase(p) => {
                    prefix_ic.entry(p.as_bytes(), Vec::new).push(next)
                }
                ValuePattern::SuffixIgnoreCase(s) => {
                    suffix_ic.entry(s.as_bytes(), Vec::new).push(next)
                }
                ValuePattern::EqualsIgnoreCase(s) => {
                    ignore_case.entry(bytes(s)).or_default().push(next)
                }
                ValuePattern::Wildcard(w) => {
                    if w.is_literal() {
                        exact
                            .entry(w.segments()[0].clone().into_boxed_slice())
                            .or_default()
                            .push(next);
                    } else {
                        wildcards.push((w.clone(), next));
                    }
                }
                ValuePattern::Numeric(r) => push_range(&mut numeric, r.low, r.high, next),
                ValuePattern::Cidr(r) => push_range(&mut cidr, r.low, r.high, next),
                ValuePattern::AnythingBut(ab) => {
                    match anything_but.iter_mut().find(|(a, _)| a == ab) {
                        Some((_, v)) => v.push(next),
                        None => anything_but.push((ab.clone(), vec![next])),
                    }
                }
            }
        }

        let number_texts: HashMap<Box<[u8]>, Targets> = number_texts
            .into_iter()
            .map(|(text, states)| (text, pool.intern(states)))
            .collect();
        let few_texts = (number_texts.len() <= 8).then(|| {
            number_texts
                .iter()
                .map(|(text, t)| (text.clone(), *t))
                .collect::<Vec<LiteralTargets>>()
                .into_boxed_slice()
        });
        let mut intern_map = |m: HashMap<_, Vec<u32>>| -> HashMap<_, Targets> {
            m.into_iter().map(|(k, v)| (k, pool.intern(v))).collect()
        };
        let exact = intern_map(exact);
        let ignore_case = intern_map(ignore_case);

        let exact_ip: HashMap<IpKey, Targets> = exact_ip
            .into_iter()
            .map(|(k, v)| (k, pool.intern(v)))
            .collect();
        let number_keys: HashMap<u64, Targets> = number_keys
            .into_iter()
            .map(|(k, v)| (k, pool.intern(v)))
            .collect();
        let number_digits: HashMap<Significand, Targets> = number_digits
            .into_iter()
            .map(|(k, v)| (k, pool.intern(v)))
            .collect();
        let mut affix = |a: AffixIndex<Vec<u32>>| -> Option<AffixIndex<Targets>> {
            (!a.is_empty()).then(|| a.map(|v| pool.intern(v)))
        };
        let prefix = affix(prefix);
        let suffix = affix(suffix);
        let prefix_ignore_case = affix(prefix_ic);
        let suffix_ignore_case = affix(suffix_ic);
        let wildcards = (!wildcards.is_empty()).then(|| {
            WildcardIndex::new(
                wildcards
                    .into_iter()
                    .map(|(w, next)| (w, pool.intern(vec![next])))
                    .collect(),
            )
        });
        let zero = number::ordered(0.0);
        let numeric_sign_out = if numeric.is_empty() {
            None
        } else if numeric.iter().all(|(low, _, _)| *low > zero) {
            // `-0` is zero, so below them too.
            Some(true)
        } else if numeric.iter().all(|(_, high, _)| *high < zero) {
            Some(false)
        } else {
            None
        };
        let value_bands = (!numeric.is_empty() || !literal_keys.is_empty()).then(|| {
            Bands::new(
                numeric
                    .iter()
                    .map(|(low, high, _)| (*low, *high))
                    .chain(literal_keys.iter().map(|k| (*k, *k))),
            )
        });
        let numeric = (!numeric.is_empty()).then(|| {
            let ranges: Vec<_> = numeric
                .into_iter()
                .map(|(l, h, v)| (l, h, pool.intern(v)))
                .collect();
            IntervalIndex::new(&ranges)
        });
        let cidr = (!cidr.is_empty()).then(|| {
            let ranges: Vec<_> = cidr
                .into_iter()
                .map(|(l, h, v)| (l, h, pool.intern(v)))
                .collect();
            IntervalIndex::new(&ranges)
        });
        let anything_but =
            (!anything_but.is_empty()).then(|| Box::new(Complement::new(anything_but, pool)));
        let needs_fold = !ignore_case.is_empty()
            || prefix_ignore_case.is_some()
            || suffix_ignore_case.is_some()
            || anything_but
                .as_ref()
                .is_some_and(|a| !a.ignore_case.is_empty());
        let needs_ip = !exact_ip.is_empty() || cidr.is_some();
        let numeric_only = numeric.is_some()
            && exact.is_empty()
            && exact_ip.is_empty()
            && number_digits.is_empty()
            && number_keys.is_empty()
            && number_texts.is_empty()
            && [&true_, &false_, &null, &exists]
                .iter()
                .all(|v| v.is_empty())
            && prefix.is_none()
            && suffix.is_none()
            && ignore_case.is_empty()
            && prefix_ignore_case.is_none()
            && suffix_ignore_case.is_none()
            && wildcards.is_none()
            && cidr.is_none()
            && anything_but.is_none();
        let few_numbers = (number_digits.len() <= 8).then(|| {
            number_digits
                .iter()
                .map(|(d, t)| (*d, *t))
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        ValueIndex {
            exact,
            exact_ip,
            number_digits,
            number_keys,
            number_texts,
            few_texts,
            few_numbers,
            true_: pool.intern(true_),
            false_: pool.intern(false_),
            null: pool.intern(null),
            exists: pool.intern(exists),
            prefix,
            suffix,
            ignore_case,
            prefix_ignore_case,
            suffix_ignore_case,
            wildcards,
            numeric,
            numeric_sign_out,
            value_bands,
            cidr,
            numeric_only,
            anything_but,
            needs_fold,
            needs_ip,
        }
    }

    /// Whether `value` can satisfy no pattern here, from its kind and first
    /// bytes alone, for an edge of numeric ranges only; small enough to be
    /// inlined in the walk, so that the values such an edge ignores (a
    /// polygon's longitudes and z-values next to latitude ranges) cost no
    /// call. `false` says nothing (the visit decides).
    #[inline(always)]
    pub fn rules_out(&self, value: &LeafValue, flat: &Flat<'_>) -> bool {
        self.numeric_only
            && (value.kind != Kind::Number || {
                let text = flat.text(value);
                self.signed_out(text) || self.value_bands.is_some_and(|b| b.rules_out(text))
            })
    }

    /// Whether the sign of the number literal `text` puts it outside every
    /// numeric range.
    #[inline(always)]
    fn signed_out(&self, text: &[u8]) -> bool {
        self.numeric_sign_out
            .is_some_and(|negative| negative == (text.first() == Some(&b'-')))
    }

    /// What a number must be for this edge to take it: one of these texts,
    /// or (with `Some` bands) in a band its comparable literals and ranges
    /// reach. `None` when a number may be taken whatever it is (`exists`,
    /// `anything-but`).
    pub fn number_hits(&self) -> Option<(impl Iterator<Item = &[u8]>, Option<Bands>)> {
        (self.exists.is_empty() && self.anything_but.is_none())
            .then(|| (self.number_texts.keys().map(|t| &t[..]), self.value_bands))
    }

    /// Calls `emit` with the targets of every pattern `value` satisfies.
    /// A target list may be reported more than once. Inlined in the walk
    /// (its closure with it): a call per value and per hit costs more
    /// than the code it saves.
    #[inline(always)]
    pub fn visit(
        &self,
        value: &LeafValue,
        flat: &Flat<'_>,
        scratch: &mut ValueScratch,
        mut emit: impl FnMut(Targets),
    ) {
        if !self.exists.is_empty() {
            emit(self.exists);
        }
        match value.kind {
            Kind::String => self.visit_string(flat.text(value), scratch, &mut emit),
            Kind::Number => self.visit_number(value, flat, &mut emit),
            Kind::True => emit(self.true_),
            Kind::False => emit(self.false_),
            Kind::Null => emit(self.null),
        }
        if let Some(ab) = &self.anything_but {
            ab.visit(value, flat, scratch, &mut emit);
        }
    }

    fn visit_string(
        &self,
        text: &[u8],
        scratch: &mut ValueScratch,
        emit: &mut impl FnMut(Targets),
    ) {
        if !self.exact.is_empty()
            && let Some(t) = self.exact.get(text)
        {
            emit(*t);
        }
        if let Some(p) = &self.prefix {
            p.for_each_hit(text, |t| emit(*t));
        }
        if let Some(s) = &self.suffix {
            s.for_each_hit(text, |t| emit(*t));
        }
        if self.needs_fold
            && let Ok(s) = std::str::from_utf8(text)
        {
            casefold::fold_into(s, &mut scratch.folded);
            let folded = scratch.folded.as_bytes();
            if let Some(t) = self.ignore_case.get(folded) {
                emit(*t);
            }
            if let Some(p) = &self.prefix_ignore_case {
                p.for_each_hit(folded, |t| emit(*t));
            }
            if let Some(s) = &self.suffix_ignore_case {
                s.for_each_hit(folded, |t| emit(*t));
            }
        }
        if let Some(w) = &self.wildcards {
            w.for_each_match(text, &mut scratch.candidates, |t| emit(*t));
        }
        if self.needs_ip
            && let Some(key) = parse_ip(text)
        {
            if let Some(t) = self.exact_ip.get(&key) {
                emit(*t);
            }
            if let Some(c) = &self.cidr {
                c.query(key, &mut *emit);
            }
        }
    }

    fn visit_number(&self, value: &LeafValue, flat: &Flat<'_>, emit: &mut impl FnMut(Targets)) {
        if !self.number_texts.is_empty() {
            let text = flat.text(value);
            match &self.few_texts {
                Some(list) => {
                    for (literal, t) in list.iter() {
                        if bytes::eq(literal, text) {
                            emit(*t);
                        }
                    }
                }
                None => {
                    if let Some(t) = self.number_texts.get(text) {
                        emit(*t);
                    }
                }
            }
        }
        // Without comparable patterns, or in a band none of them reaches,
        // nothing below can match: no scan, no conversion. When the ranges
        // are all there is, the walk has tested the bands and the sign
        // before the visit (`rules_out`); the tests only save work, so a
        // caller that skips them gets the same hits.
        let Some(bands) = self.value_bands else {
            return;
        };
        if !self.numeric_only && bands.rules_out(flat.text(value)) {
            return;
        }
        if !self.number_digits.is_empty()
            && let Some(digits) = flat.significand(value)
        {
            match &self.few_numbers {
                Some(list) => {
                    for (d, t) in list.iter() {
                        if *d == digits {
                            emit(*t);
                        }
                    }
                }
                None => {
                    if let Some(t) = self.number_digits.get(&digits) {
                        emit(*t);
                    }
                }
            }
        }
        if self.number_keys.is_empty() && self.numeric.is_none() {
            return;
        }
        if !self.numeric_only && self.number_keys.is_empty() && self.signed_out(flat.text(value)) {
            return;
        }
        // A literal that cannot be comparable (beyond the f64 range, too
        // many digits) compares as text only, and is not even converted.
        let Some(number) = flat.candidate(value) else {
            return;
        };
        let key = number::ordered(number);
        // Look up by value; confirm with the exact rule (once per leaf) only on a hit.
        if !self.number_keys.is_empty()
            && let Some(t) = self.number_keys.get(&key)
            && flat.exact(value)
        {
            emit(*t);
        }
        if let Some(n) = &self.numeric {
            match n.flat_hits(key) {
                // Exactness is asked once for all the hits, and only if any.
                Some(hits) => {
                    if !hits.is_empty() && flat.exact(value) {
                        for t in hits {
                            emit(*t);
                        }
                    }
                }
                None => n.query(key, |t| {
                    if flat.exact(value) {
                        emit(t)
                    }
                }),
            }
        }
    }
}

fn parse_ip(text: &[u8]) -> Option<IpKey> {
    let s = std::str::from_utf8(text).ok()?;
    ip::parse(s).map(|(f, b)| ip::key(f, b))
}

fn push_range<K: PartialEq + Copy>(ranges: &mut Vec<(K, K, Vec<u32>)>, low: K, high: K, next: u32) {
    match ranges.iter_mut().find(|(l, h, _)| *l == low && *h == high) {
        Some((_, _, v)) => v.push(next),
        None => ranges.push((low, high, vec![next])),
    }
}

/// Every `anything-but` on one edge. A value satisfies an entry unless the
/// entry excludes it; the index finds the (few) entries that exclude a value
/// and reports all the others.
#[derive(Debug)]
struct Complement {
    targets: Vec<Targets>,
    strings: HashMap<Box<[u8]>, Vec<u32>>,
    numbers: HashMap<u64, Vec<u32>>,
    prefixes: Option<AffixIndex<Vec<u32>>>,
    suffixes: Option<AffixIndex<Vec<u32>>>,
    ignore_case: HashMap<Box<[u8]>, Vec<u32>>,
    wildcards: Option<WildcardIndex<u32>>,
}

impl Complement {
    fn new(entries: Vec<(AnythingBut, Vec<u32>)>, pool: &mut PoolBuilder<'_>) -> Complement {
        let mut strings: HashMap<Box<[u8]>, Vec<u32>> = HashMap::default();
        let mut numbers: HashMap<u64, Vec<u32>> = HashMap::default();
        let mut prefixes = AffixIndex::new(End::Start);
        let mut suffixes = AffixIndex::new(End::End);
        let mut ignore_case: HashMap<Box<[u8]>, Vec<u32>> = HashMap::default();
        let mut wildcards = Vec::new();
        let mut targets = Vec::with_capacity(entries.len());
        for (id, (ab, next)) in entries.into_iter().enumerate() {
            let id = id as u32;
            targets.push(pool.intern(next));
            match ab {
                AnythingBut::Strings(v) => {
                    for s in v {
                        strings
                            .entry(s.into_bytes().into_boxed_slice())
                            .or_default()
                            .push(id);
                    }
                }
                AnythingBut::Numbers(v) => {
                    for n in v {
                        numbers.entry(n).or_default().push(id);
                    }
                }
                AnythingBut::Prefixes(v) => {
                    for p in v {
                        prefixes.entry(p.as_bytes(), Vec::new).push(id);
                    }
                }
                AnythingBut::Suffixes(v) => {
                    for s in v {
                        suffixes.entry(s.as_bytes(), Vec::new).push(id);
                    }
                }
                AnythingBut::IgnoreCase(v) => {
                    for s in v {
                        ignore_case
                            .entry(s.into_bytes().into_boxed_slice())
                            .or_default()
                            .push(id);
                    }
                }
                AnythingBut::Wildcards(v) => {
                    for w in v {
                        if w.is_literal() {
                            strings
                                .entry(w.segments()[0].clone().into_boxed_slice())
                                .or_default()
                                .push(id);
                        } else {
                            wildcards.push((w, id));
                        }
                    }
                }
            }
        }
        Complement {
            targets,
            strings,
            numbers,
            prefixes: (!prefixes.is_empty()).then_some(prefixes),
            suffixes: (!suffixes.is_empty()).then_some(suffixes),
            ignore_case,
            wildcards: (!wildcards.is_empty()).then(|| WildcardIndex::new(wildcards)),
        }
    }

    fn visit(
        &self,
        value: &LeafValue,
        flat: &Flat<'_>,
        scratch: &mut ValueScratch,
        emit: &mut impl FnMut(Targets),
    ) {
        let text = flat.text(value);
        let mut excluded = std::mem::take(&mut scratch.excluded);
        excluded.clear();
        match value.kind {
            Kind::String => {
                if let Some(ids) = self.strings.get(text) {
                    excluded.extend_from_slice(ids);
                }
                if let Some(p) = &self.prefixes {
                    p.for_each_hit(text, |ids| excluded.extend_from_slice(ids));
                }
                if let Some(s) = &self.suffixes {
                    s.for_each_hit(text, |ids| excluded.extend_from_slice(ids));
                }
                if !self.ignore_case.is_empty()
                    && let Ok(s) = std::str::from_utf8(text)
                {
                    casefold::fold_into(s, &mut scratch.folded);
                    if let Some(ids) = self.ignore_case.get(scratch.folded.as_bytes()) {
                        excluded.extend_from_slice(ids);
                    }
                }
                if let Some(w) = &self.wildcards {
                    w.for_each_match(text, &mut scratch.candidates, |id| excluded.push(*id));
                }
            }
            Kind::Number if !self.numbers.is_empty() => {
                if let Some(n) = flat.candidate(value)
                    && let Some(ids) = self.numbers.get(&number::ordered(n))
                    && flat.exact(value)
                {
                    excluded.extend_from_slice(ids);
                }
            }
            _ => {}
        }
        if excluded.is_empty() {
            for t in &self.targets {
                emit(*t);
            }
        } else {
            excluded.sort_unstable();
            for (id, t) in self.targets.iter().enumerate() {
                if excluded.binary_search(&(id as u32)).is_err() {
                    emit(*t);
                }
            }
        }
        scratch.excluded = excluded;
    }
}

#[cfg(test)]
mod tests {
    use crate::{MatchScratch, ReadMode, RuleSet};

    /// Every rule's matches for `event`, by name, both readers agreeing.
    fn matched(set: &RuleSet, event: &str) -> Vec<String> {
        let matcher = set.compile();
        let mut scratch = MatchScratch::default();
        let (mut trusted, mut validated) = (Vec::new(), Vec::new());
        for (mode, got) in [
            (ReadMode::Trusted, &mut trusted),
            (ReadMode::Validated, &mut validated),
        ] {
            let mut out = Vec::new();
            matcher
                .matches_with_mode(event.as_bytes(), mode, &mut scratch, &mut out)
                .expect("event");
            got.extend(out.iter().map(|id| matcher.name(*id).to_string()));
            got.sort();
        }
        assert_eq!(trusted, validated, "{event}");
        trusted
    }

    /// Numeric ranges alone on an edge (the walk's rule-out before the
    /// visit) and beside other patterns (the visit's own): literals in and
    /// out of every band, with and without exponents, match as the ranges
    /// say.
    #[test]
    fn ranges_alone_or_mixed_match_every_spelling() {
        for extra in [
            None,
            Some(r#"{"x":["a"]}"#),
            Some(r#"{"x":[{"exists":true}]}"#),
            Some(r#"{"x":[3.5]}"#),
            Some(r#"{"x":[{"anything-but":[0]}]}"#),
        ] {
            let mut set = RuleSet::new();
            set.add("lat", r#"{"x":[{"numeric":[">=",37.7,"<",37.8]}]}"#)
                .expect("rule");
            set.add("neg", r#"{"x":[{"numeric":[">",-10,"<=",-1]}]}"#)
                .expect("rule");
            if let Some(p) = extra {
                set.add("extra", p).expect("rule");
            }
            let want_extra = |v: &str| match extra {
                Some(p) if p.contains("exists") => true,
                Some(p) if p.contains("\"a\"") => v == "\"a\"",
                Some(p) if p.contains("3.5") => ["3.5", "35e-1", "0.35E1", "3.50"].contains(&v),
                // Anything but the number 0 (strings and booleans are not
                // numbers, so they are not excluded either).
                Some(_) => !["0.0", "0", "-0", "0e5"].contains(&v),
                None => false,
            };
            for (value, want) in [
                ("0.0", vec![]),
                ("0", vec![]),
                ("-0", vec![]),
                ("0e5", vec![]),
                ("3.5", vec![]),
                ("35e-1", vec![]),
                ("0.35E1", vec![]),
                ("3.50", vec![]),
                ("35", vec![]),
                ("37.75", vec!["lat"]),
                ("3.775e1", vec!["lat"]),
                ("0.3775E+2", vec!["lat"]),
                ("3775e-2", vec!["lat"]),
                ("37.8", vec![]),
                ("-5", vec!["neg"]),
                ("-50e-1", vec!["neg"]),
                ("-0.5", vec![]),
                ("-0.5e1", vec!["neg"]),
                ("-10", vec![]),
                ("1e400", vec![]),
                ("37.750000000000000001", vec![]),
                ("\"a\"", vec![]),
                ("true", vec![]),
                ("[0.0, 37.71, -122.4]", vec!["lat"]),
            ] {
                let event = format!(r#"{{"x":{value}}}"#);
                let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
                if want_extra(value) {
                    want.push("extra".to_string());
                }
                want.sort();
                assert_eq!(matched(&set, &event), want, "{event} with {extra:?}");
            }
        }
    }

    /// Ranges all above zero, all below, and on both sides: a literal
    /// ruled out by its sign alone matches exactly what the full lookup
    /// matches (`-0` is zero, `-0.0` too; a negative literal may still
    /// have an exact number rule on the same edge).
    #[test]
    fn literals_ruled_out_by_their_sign_match_as_before() {
        let rules = [
            ("above", r#"{"x":[{"numeric":[">",0,"<",10]}]}"#),
            ("at_zero", r#"{"y":[{"numeric":[">=",0,"<",10]}]}"#),
            ("below", r#"{"z":[{"numeric":[">",-10,"<",0]}]}"#),
            ("upto_zero", r#"{"w":[{"numeric":[">",-10,"<=",0]}]}"#),
            ("exact_too", r#"{"x":[-5]}"#),
        ];
        let mut set = RuleSet::new();
        for (name, pattern) in rules {
            set.add(name, pattern).expect("rule");
        }
        let matcher = set.compile();
        let mut scratch = MatchScratch::default();
        let mut names = |event: &str| -> Vec<String> {
            let mut got = Vec::new();
            let mut out = Vec::new();
            for mode in [ReadMode::Validated, ReadMode::Trusted] {
                matcher
                    .matches_with_mode(event.as_bytes(), mode, &mut scratch, &mut out)
                    .expect("event");
                got.extend(out.iter().map(|id| matcher.name(*id).to_string()));
            }
            got.sort();
            got.dedup();
            got
        };
        for (value, want) in [
            ("5", vec!["above", "at_zero"]),
            ("0", vec!["at_zero", "upto_zero"]),
            ("-0", vec!["at_zero", "upto_zero"]),
            ("-0.0", vec!["at_zero", "upto_zero"]),
            ("-5", vec!["below", "exact_too", "upto_zero"]),
            ("-5.0e0", vec!["below", "exact_too", "upto_zero"]),
            ("1e400", vec![]),
            ("-1e400", vec![]),
        ] {
            let event = format!(r#"{{"x":{value},"y":{value},"z":{value},"w":{value}}}"#);
            assert_eq!(names(&event), want, "{value}");
        }
    }
}
