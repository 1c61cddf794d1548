//! Prefix and suffix tables: one hash map per operand length.
//!
//! A value is looked up once per distinct operand length, so the cost
//! depends on how many lengths the rules use, not on how many rules there are.

use foldhash::HashMap;

/// Which end of the value the operands are anchored to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Start,
    End,
}

/// The operands of one length.
type Bucket<T> = (usize, HashMap<Box<[u8]>, T>);

#[derive(Clone, Debug)]
pub(crate) struct AffixIndex<T> {
    end: End,
    /// Sorted by length.
    buckets: Vec<Bucket<T>>,
}

impl<T> AffixIndex<T> {
    pub fn new(end: End) -> Self {
        AffixIndex {
            end,
            buckets: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The entry for `operand`, created with `make` if new.
    pub fn entry(&mut self, operand: &[u8], make: impl FnOnce() -> T) -> &mut T {
        let len = operand.len();
        let at = match self.buckets.binary_search_by_key(&len, |(l, _)| *l) {
            Ok(i) => i,
            Err(i) => {
                self.buckets.insert(i, (len, HashMap::default()));
                i
            }
        };
        self.buckets[at]
            .1
            .entry(operand.to_vec().into_boxed_slice())
            .or_insert_with(make)
    }

    /// Calls `hit` for every operand that `value` starts (or ends) with.
    #[inline]
    pub fn for_each_hit(&self, value: &[u8], mut hit: impl FnMut(&T)) {
        for (len, map) in &self.buckets {
            if *len > value.len() {
                break;
            }
            let key = match self.end {
                End::Start => &value[..*len],
                End::End => &value[value.len() - len..],
            };
            if let Some(t) = map.get(key) {
                hit(t);
            }
        }
    }

    /// Converts every entry.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> AffixIndex<U> {
        AffixIndex {
            end: self.end,
            buckets: self
                .buckets
                .into_iter()
                .map(|(len, m)| (len, m.into_iter().map(|(k, v)| (k, f(v))).collect()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_prefix_and_suffix() {
        let mut p = AffixIndex::new(End::Start);
        for op in ["", "ab", "abc", "x"] {
            *p.entry(op.as_bytes(), || 0) += 1;
        }
        let mut n = 0;
        p.for_each_hit(b"abcd", |_| n += 1);
        assert_eq!(n, 3);
        let mut s = AffixIndex::new(End::End);
        for op in ["cd", "bcd", "d", "abcde"] {
            *s.entry(op.as_bytes(), || 0) += 1;
        }
        let mut m = 0;
        s.for_each_hit(b"abcd", |_| m += 1);
        assert_eq!(m, 3);
    }
}
