//! Stabbing queries over many inclusive ranges: numeric ranges and CIDR
//! networks.
//!
//! A segment tree over the elementary intervals between range ends: each
//! range is stored in O(log n) nodes and a query walks one leaf-to-root path,
//! so a lookup costs O(log n + hits) however the ranges overlap. Finding a
//! key's elementary interval starts from a radix table (see [`Buckets`]), so
//! that a key outside every range, or among evenly spread ends, costs a few
//! instructions instead of a binary search over all the ends.

use super::targets::Targets;

/// Keys with a successor, so that inclusive ends become half-open ones.
pub(crate) trait Key: Copy + Ord {
    fn successor(self) -> Option<Self>;
    /// A `u64` of the key that keeps its order (`a <= b` implies
    /// `a.radix() <= b.radix()`), for the radix table; a constant turns
    /// the table off.
    fn radix(self) -> u64;
}

impl Key for u64 {
    fn successor(self) -> Option<Self> {
        self.checked_add(1)
    }

    #[inline]
    fn radix(self) -> u64 {
        self
    }
}

impl Key for crate::util::ip::IpKey {
    fn successor(self) -> Option<Self> {
        match self.1.checked_add(1) {
            Some(next) => Some(crate::util::ip::IpKey(self.0, next)),
            None => Some(crate::util::ip::IpKey(self.0.checked_add(1)?, 0)),
        }
    }

    /// CIDR ends keep the binary search (the table is for numbers).
    fn radix(self) -> u64 {
        0
    }
}

/// Fewer ends than this are searched directly (a few steps).
const MIN_BUCKETED: usize = 32;

/// A radix table over the sorted ends: the radix range from the first end
/// to the last split into `starts.len() - 1` buckets of `2^shift` each,
/// `starts[b]` being the number of ends in the buckets below `b`. A key's
/// ends-at-most-it count is then `starts[b]` plus a search of bucket `b`
/// alone: one or two ends when they are spread evenly (numeric ranges over
/// one field usually are), and never more than the whole search.
#[derive(Clone, Debug)]
struct Buckets {
    /// The radix of the first end.
    base: u64,
    shift: u32,
    starts: Box<[u32]>,
}

impl Buckets {
    /// `None` for few ends or a constant radix.
    fn new<K: Key>(points: &[K]) -> Option<Buckets> {
        let (first, last) = (points.first()?.radix(), points.last()?.radix());
        if points.len() < MIN_BUCKETED || first == last {
            return None;
        }
        let count = points.len().next_power_of_two();
        let span = last - first;
        // The smallest shift that puts `span` in the last bucket or below.
        let shift = (64 - span.leading_zeros()).saturating_sub(count.trailing_zeros());
        let mut starts = vec![0u32; count + 1];
        for p in points {
            let bucket = ((p.radix() - first) >> shift) as usize;
            // Every end counts in the starts of the buckets above its own.
            if let Some(s) = starts.get_mut(bucket + 1) {
                *s += 1;
            }
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        Some(Buckets {
            base: first,
            shift,
            starts: starts.into_boxed_slice(),
        })
    }

    /// The number of `points` at most `key`.
    #[inline]
    fn rank<K: Key>(&self, points: &[K], key: K) -> usize {
        let Some(offset) = key.radix().checked_sub(self.base) else {
            // Below the first end's radix, so below every end.
            return 0;
        };
        let bucket = offset >> self.shift;
        if bucket >= (self.starts.len() - 1) as u64 {
            // Beyond the last end's bucket, so above every end.
            return points.len();
        }
        let b = bucket as usize;
        let (low, high) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        low + points[low..high].partition_point(|p| *p <= key)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct IntervalIndex<K> {
    points: Vec<K>,
    buckets: Option<Buckets>,
    size: usize,
    /// Per tree node, a range of `items`.
    nodes: Vec<(u32, u32)>,
    items: Vec<Targets>,
    /// When ranges overlap little, every elementary interval's full list,
    /// so a query is one binary search and one contiguous read instead of
    /// a walk up the tree (the tree stays as the fallback that bounds
    /// memory when many ranges nest).
    flat: Option<(Vec<u32>, Vec<Targets>)>,
}

impl<K: Key> IntervalIndex<K> {
    /// Builds the index from (low, high, targets), ends inclusive.
    pub fn new(ranges: &[(K, K, Targets)]) -> Self {
        let mut points: Vec<K> = Vec::with_capacity(ranges.len() * 2);
        for &(low, high, _) in ranges {
            if low > high {
                continue;
            }
            points.push(low);
            if let Some(next) = high.successor() {
                points.push(next);
            }
        }
        points.sort_unstable();
        points.dedup();
        let size = points.len().max(1).next_power_of_two();
        let mut per_node: Vec<Vec<Targets>> = vec![Vec::new(); 2 * size];
        for &(low, high, targets) in ranges {
            if low > high {
                continue;
            }
            let (Ok(mut l) | Err(mut l)) = points.binary_search(&low);
            let mut r = match high.successor() {
                Some(next) => points.binary_search(&next).unwrap_or_else(|i| i),
                None => points.len(),
            };
            l += size;
            r += size;
            while l < r {
                if l & 1 == 1 {
                    per_node[l].push(targets);
                    l += 1;
                }
                if r & 1 == 1 {
                    r -= 1;
                    per_node[r].push(targets);
                }
                l >>= 1;
                r >>= 1;
            }
        }
        let mut nodes = Vec::with_capacity(per_node.len());
        let mut items = Vec::new();
        for list in per_node {
            nodes.push((items.len() as u32, list.len() as u32));
            items.extend(list);
        }
        let mut index = IntervalIndex {
            buckets: Buckets::new(&points),
            points,
            size,
            nodes,
            items,
            flat: None,
        };
        // Flatten when the lists stay within a small multiple of the ranges
        // (16 bytes an entry): ranges of one field spread evenly overlap a
        // few deep, about 4.5 for rules-10k's coordinates, and the tree's
        // walk of a dozen nodes per number costs more than the read.
        let budget = 16 * ranges.len() + 4096;
        let mut starts = Vec::with_capacity(index.points.len() + 1);
        let mut lists: Vec<Targets> = Vec::new();
        let mut fits = true;
        for j in 0..index.points.len() {
            starts.push(lists.len() as u32);
            let mut i = index.size + j;
            while i >= 1 {
                let (start, len) = index.nodes[i];
                lists.extend_from_slice(&index.items[start as usize..(start + len) as usize]);
                i >>= 1;
            }
            if lists.len() > budget {
                fits = false;
                break;
            }
        }
        if fits {
            starts.push(lists.len() as u32);
            index.flat = Some((starts, lists));
        }
        index
    }

    /// The targets of every range containing `key` as one list, when the
    /// lists are flattened (else `None`: use [`query`](Self::query)), so
    /// that a caller can test once what all the hits need.
    #[inline]
    pub fn flat_hits(&self, key: K) -> Option<&[Targets]> {
        let (starts, lists) = self.flat.as_ref()?;
        let j = self.rank(key);
        if j == 0 {
            return Some(&[]);
        }
        lists.get(starts[j - 1] as usize..starts[j] as usize)
    }

    /// The number of range ends at most `key`.
    #[inline]
    fn rank(&self, key: K) -> usize {
        match &self.buckets {
            Some(b) => b.rank(&self.points, key),
            None => self.points.partition_point(|p| *p <= key),
        }
    }

    /// Calls `hit` with the targets of every range containing `key`.
    #[inline]
    pub fn query(&self, key: K, mut hit: impl FnMut(Targets)) {
        let j = self.rank(key);
        if j == 0 {
            return;
        }
        if let Some((starts, lists)) = &self.flat {
            for t in &lists[starts[j - 1] as usize..starts[j] as usize] {
                hit(*t);
            }
            return;
        }
        let mut i = self.size + j - 1;
        while i >= 1 {
            let (start, len) = self.nodes[i];
            for t in &self.items[start as usize..(start + len) as usize] {
                hit(*t);
            }
            i >>= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u32) -> Targets {
        Targets {
            states_start: n,
            states_len: 1,
            ..Targets::default()
        }
    }

    #[test]
    fn the_tree_and_the_flat_table_agree() {
        // Many nested ranges exceed the flat budget and use the tree.
        let nested: Vec<(u64, u64, Targets)> =
            (0..2000u64).map(|i| (i, 10_000 - i, t(i as u32))).collect();
        let index = IntervalIndex::new(&nested);
        assert!(index.flat.is_none());
        let mut n = 0;
        index.query(5_000, |_| n += 1);
        assert_eq!(n, 2000);
        let disjoint: Vec<(u64, u64, Targets)> = (0..2000u64)
            .map(|i| (i * 10, i * 10 + 15, t(i as u32)))
            .collect();
        let index = IntervalIndex::new(&disjoint);
        assert!(index.flat.is_some());
        let mut got = Vec::new();
        index.query(25, |x| got.push(x.states_start));
        got.sort();
        assert_eq!(got, vec![1, 2]);
    }

    /// The radix table ranks every key as the binary search does: ends
    /// spread evenly, clustered, at the edges of `u64`, and keys between,
    /// on and around them.
    #[test]
    fn the_buckets_rank_as_the_binary_search() {
        let mut next = crate::util::test_rng::xorshift(0x853C_49E6_748F_EA9B);
        let even: Vec<u64> = (0..2000u64)
            .map(|i| crate::util::number::ordered(37.7 + i as f64 * 6.5e-5))
            .collect();
        let clustered: Vec<u64> = (0..500u64)
            .map(|i| 1_000 + i)
            .chain((0..40).map(|i| u64::MAX - 1000 + i))
            .collect();
        let random: Vec<u64> = (0..3000).map(|_| next()).collect();
        let mut edges: Vec<u64> = (0..40u64).collect();
        edges.push(u64::MAX);
        for mut points in [even, clustered, random, edges] {
            points.sort_unstable();
            points.dedup();
            let buckets = Buckets::new(&points).expect("enough ends");
            let mut keys = vec![0, 1, u64::MAX, u64::MAX - 1];
            for &p in points.iter().step_by(7) {
                keys.extend([p.wrapping_sub(1), p, p.wrapping_add(1)]);
            }
            keys.extend((0..5000).map(|_| next()));
            for key in keys {
                assert_eq!(
                    buckets.rank(&points, key),
                    points.partition_point(|p| *p <= key),
                    "{key}"
                );
            }
        }
        assert!(Buckets::new(&[1u64, 2, 3]).is_none());
        assert!(Buckets::new(&[crate::util::ip::IpKey(4, 1); 40]).is_none());
    }

    #[test]
    fn stabs_overlapping_ranges() {
        let ranges = [
            (10u64, 20, t(0)),
            (15, 30, t(1)),
            (0, 100, t(2)),
            (40, 40, t(3)),
            (5, u64::MAX, t(4)),
        ];
        let hits = |k: u64| {
            let mut v = Vec::new();
            IntervalIndex::new(&ranges).query(k, |x| v.push(x.states_start));
            v.sort();
            v
        };
        assert_eq!(hits(0), vec![2]);
        assert_eq!(hits(12), vec![0, 2, 4]);
        assert_eq!(hits(20), vec![0, 1, 2, 4]);
        assert_eq!(hits(21), vec![1, 2, 4]);
        assert_eq!(hits(40), vec![2, 3, 4]);
        assert_eq!(hits(41), vec![2, 4]);
        assert_eq!(hits(u64::MAX), vec![4]);
    }
}
