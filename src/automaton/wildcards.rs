//! Many wildcard operands on one field.
//!
//! Each wildcard is filed under one literal it must contain: its first
//! segment (a prefix), else its last (a suffix), else its longest middle
//! segment, which an Aho-Corasick automaton finds in one pass over the
//! value. Only the wildcards whose literal is present are then checked in
//! full, so thousands of wildcards cost little more than the few that can
//! match.

use aho_corasick::AhoCorasick;

use super::affix::{AffixIndex, End};
use crate::pattern::Wildcard;

#[derive(Clone, Debug)]
pub(crate) struct WildcardIndex<T> {
    patterns: Vec<(Wildcard, T)>,
    by_prefix: AffixIndex<Vec<u32>>,
    by_suffix: AffixIndex<Vec<u32>>,
    inner: Option<(AhoCorasick, Vec<Vec<u32>>)>,
    /// Wildcards with no literal at all (`*`).
    always: Vec<u32>,
}

impl<T> WildcardIndex<T> {
    pub fn new(patterns: Vec<(Wildcard, T)>) -> Self {
        let mut by_prefix = AffixIndex::new(End::Start);
        let mut by_suffix = AffixIndex::new(End::End);
        let mut inner_keys: Vec<Vec<u8>> = Vec::new();
        let mut inner_ids: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (id, (w, _)) in patterns.iter().enumerate() {
            let id = id as u32;
            let segments = w.segments();
            let first = &segments[0];
            let last = &segments[segments.len() - 1];
            if !first.is_empty() {
                by_prefix.entry(first, Vec::new).push(id);
            } else if !last.is_empty() {
                by_suffix.entry(last, Vec::new).push(id);
            } else {
                let key = segments
                    .iter()
                    .max_by_key(|s| s.len())
                    .filter(|s| !s.is_empty());
                match key {
                    Some(key) => match inner_keys.iter().position(|k| k == key) {
                        Some(i) => inner_ids[i].push(id),
                        None => {
                            inner_keys.push(key.clone());
                            inner_ids.push(vec![id]);
                        }
                    },
                    None => always.push(id),
                }
            }
        }
        let inner = if inner_keys.is_empty() {
            None
        } else {
            match AhoCorasick::new(&inner_keys) {
                Ok(ac) => Some((ac, inner_ids)),
                Err(_) => {
                    // Building can only fail on size limits; fall back to checking them all.
                    always.extend(inner_ids.into_iter().flatten());
                    None
                }
            }
        };
        WildcardIndex {
            patterns,
            by_prefix,
            by_suffix,
            inner,
            always,
        }
    }

    /// Calls `hit` for every wildcard that matches `value` (each at most once).
    /// `candidates` is scratch space.
    pub fn for_each_match(&self, value: &[u8], candidates: &mut Vec<u32>, mut hit: impl FnMut(&T)) {
        candidates.clear();
        self.by_prefix
            .for_each_hit(value, |ids| candidates.extend_from_slice(ids));
        self.by_suffix
            .for_each_hit(value, |ids| candidates.extend_from_slice(ids));
        candidates.extend_from_slice(&self.always);
        if let Some((ac, ids)) = &self.inner {
            let before = candidates.len();
            for m in ac.find_overlapping_iter(value) {
                candidates.extend_from_slice(&ids[m.pattern().as_usize()]);
            }
            if candidates.len() > before {
                candidates[before..].sort_unstable();
                let mut w = before;
                for r in before..candidates.len() {
                    if r == before || candidates[r] != candidates[w - 1] {
                        candidates[w] = candidates[r];
                        w += 1;
                    }
                }
                candidates.truncate(w);
            }
        }
        for &id in candidates.iter() {
            let (w, t) = &self.patterns[id as usize];
            if w.matches(value) {
                hit(t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_all_matching_wildcards() {
        let ws = ["NA*", "*XAS", "*ORN*", "*", "A*B*C", "*O*O*", "*ORN*"];
        let index = WildcardIndex::new(
            ws.iter()
                .enumerate()
                .map(|(i, w)| (Wildcard::parse(w).unwrap(), i))
                .collect(),
        );
        let mut scratch = Vec::new();
        let mut got = |v: &str| {
            let mut out = Vec::new();
            index.for_each_match(v.as_bytes(), &mut scratch, |t| out.push(*t));
            out.sort();
            out
        };
        assert_eq!(got("NAPA"), vec![0, 3]);
        assert_eq!(got("TEXAS"), vec![1, 3]);
        assert_eq!(got("CORNORNO"), vec![2, 3, 5, 6]);
        assert_eq!(got("AxxBxxC"), vec![3, 4]);
        assert_eq!(got(""), vec![3]);
    }
}
