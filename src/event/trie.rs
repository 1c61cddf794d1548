//! The set of field paths some rule uses, as a byte trie over dotted paths.

use super::sieve::NumberSieve;
use super::stage1::{self, NextBytes, QuoteCursor};

/// A trie over the dotted text of every field path in a rule set.
///
/// Walking an event, the flattener extends the current node by `.` and the
/// member's key; if the trie has no such node, the member is skipped.
/// Because paths are dotted text, `{"a.b": 1}` and `{"a": {"b": 1}}` reach
/// the same node.
///
/// A key is looked up whole first: each object level (the event itself,
/// and every node a path continues from with `.`) keeps the few keys
/// without a dot that lead somewhere, compared by length and first eight
/// bytes before the rest (no hashing, no byte-by-byte walk; keys of 9 to
/// 16 bytes by their last eight too). Only a key that misses and holds a
/// dot just after the bytes of a level key that leads on with `.` walks
/// the trie byte by byte.
#[derive(Clone, Debug)]
pub(crate) struct PathTrie {
    nodes: Vec<TrieNode>,
    fields: usize,
    /// The keys of the event's own members.
    top: Level,
    /// The keys of members of objects found at a node (after its `.`).
    levels: Vec<Level>,
    /// The bytes of every level's keys.
    keys: Vec<u8>,
    /// Every way the raw text of a key that leads somewhere can begin (see
    /// [`PathTrie::next_key`]), built when the early stop is turned on;
    /// `None` when it is off or there are too many to search for in one
    /// pass.
    key_starts: Option<KeyStarts>,
    /// Per field, the numbers worth recording ([`NumberSieve`]): empty (or
    /// `None` for a field) records every number.
    number_sieves: Vec<Option<NumberSieve>>,
}

/// How [`PathTrie::next_key`] finds candidates.
#[derive(Clone, Debug)]
enum KeyStarts {
    /// No key leads anywhere (no field).
    Nothing,
    /// The quotes of the event, 64 bytes a step, each checked against the
    /// segments that begin with the byte after it.
    Quotes(QuoteSearch),
}

/// The search of [`PathTrie::next_key`]: a `"` whose next bytes are a
/// path segment, or a prefix of one and then a `\`.
///
/// Written here rather than with aho-corasick's packed (Teddy) searcher,
/// which it replaced: every pattern starts with `"`, so the quotes of 64
/// bytes (AVX2, else SSE2) and a nibble-table test of the byte after each
/// ([`stage1::find_quote`]) leave few candidates to compare with
/// the segments; it also has no limit of 64 patterns (each escaped
/// spelling was one) and runs on every target. On exact-1's citylots
/// events, one scan per event with its candidate checks takes about 1,000
/// instructions where Teddy's searches took 1,344 (callgrind,
/// `examples/scenario_loop exact-1 trusted 1|2 3000 --early-stop`).
#[derive(Clone, Debug)]
struct QuoteSearch {
    /// The bytes of `second` that are not 0, for the SIMD filter.
    next: NextBytes,
    /// For each byte after a `"`: [`ALWAYS`] for `\` (an escape as a key's
    /// first character), 0 if no segment begins with it, else 1 + the
    /// index in `groups` of the segments that do.
    second: Box<[u8; 256]>,
    /// Segments grouped by their first byte (none is a prefix of another).
    groups: Vec<Vec<Segment>>,
}

/// A path segment of a [`QuoteSearch`] group.
#[derive(Clone, Debug)]
struct Segment {
    /// Its first (up to) eight bytes, little-endian, and the mask of them.
    head: u64,
    mask: u64,
    /// Its last eight bytes, little-endian, if it has 9 to 16 (with `head`
    /// they cover it: "properties" is ten), else 0 (unused).
    last: u64,
    bytes: Box<[u8]>,
}

impl Segment {
    fn new(bytes: &[u8]) -> Segment {
        let n = bytes.len().min(8);
        Segment {
            head: head(bytes),
            last: match bytes.len() {
                9..=16 => bytes
                    .last_chunk::<8>()
                    .map_or(0, |w| u64::from_le_bytes(*w)),
                _ => 0,
            },
            mask: if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            },
            bytes: bytes.into(),
        }
    }

    /// Whether raw key text `rest` (after its `"`) begins with the segment,
    /// or with a prefix of it and then a `\`. Eight bytes compared at once
    /// (most segments are short; the reader asks this for each candidate).
    #[inline]
    fn begins(&self, rest: &[u8]) -> bool {
        if let Some(word) = rest.first_chunk::<8>() {
            let differ = (u64::from_le_bytes(*word) ^ self.head) & self.mask;
            if differ != 0 {
                let same = (differ.trailing_zeros() / 8) as usize;
                return rest.get(same) == Some(&b'\\');
            }
            let n = self.bytes.len();
            if n <= 8 {
                return true;
            }
            // Up to 16 bytes: the last eight too (overlapping the head);
            // a difference there (an escape, or another key) is told below.
            if n <= 16
                && rest
                    .get(n - 8..n)
                    .and_then(<[u8]>::first_chunk::<8>)
                    .is_some_and(|w| u64::from_le_bytes(*w) == self.last)
            {
                return true;
            }
        }
        let same = self
            .bytes
            .iter()
            .zip(rest)
            .take_while(|(a, b)| a == b)
            .count();
        same == self.bytes.len() || rest.get(same) == Some(&b'\\')
    }
}

/// [`QuoteSearch::second`] for a `\`.
const ALWAYS: u8 = u8::MAX;

impl QuoteSearch {
    /// Whether the raw text at `at` (a `"`) may begin a key that is one of
    /// the segments or begins with one.
    #[inline(always)]
    fn starts_at(&self, event: &[u8], at: usize) -> bool {
        let rest = event.get(at + 1..).unwrap_or_default();
        let Some(&first) = rest.first() else {
            return false;
        };
        let group = match self.second[usize::from(first)] {
            0 => return false,
            ALWAYS => return true,
            g => usize::from(g - 1),
        };
        self.groups
            .get(group)
            .is_some_and(|segments| segments.iter().any(|segment| segment.begins(rest)))
    }

    /// The first `"` at or after `from` that may begin such a key.
    #[inline(always)]
    fn find(&self, event: &[u8], from: usize, cursor: &mut QuoteCursor) -> Option<usize> {
        stage1::find_quote(event, from, &self.next, cursor, |q| {
            self.starts_at(event, q)
        })
    }
}

/// Above this many distinct segments the reader never stops early: each
/// candidate quote is compared with the segments of its group, and past
/// this the search would cost more than reading on.
const MAX_SEGMENTS: usize = 64;

#[derive(Clone, Debug, Default)]
struct TrieNode {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    field: Option<u32>,
    /// Whether a path continues with `.` here (objects here are worth entering).
    dot: bool,
    /// The index in `levels` of this node's member keys (when `dot`).
    level: u32,
}

/// The dot-free keys that lead to a node with a field or a `.`, from one
/// starting node.
#[derive(Clone, Debug, Default)]
pub(crate) struct Level {
    /// Sorted by (length, head, bytes).
    entries: Vec<Entry>,
    /// Bit `n` (below 63) is set if an entry `n` bytes long continues with
    /// `.`, bit 63 for any longer one: a key with a dot reaches a path from
    /// here only if its first dot is at such an offset (the bytes before it
    /// are such an entry), so most keys skip the search for a dot.
    dotted: u64,
}

impl Level {
    /// Whether `key` holds a dot where an entry that continues with `.`
    /// would end (a dotted key that may lead somewhere: the byte walk
    /// decides).
    #[inline(always)]
    fn may_continue(&self, key: &[u8]) -> bool {
        if self.dotted == 0 {
            return false;
        }
        if self.dotted & (1 << 63) != 0 {
            return key.contains(&b'.');
        }
        // Offsets `n` with `key[n]` in the key: below its length.
        let below = match key.len() {
            n @ 0..63 => (1u64 << n) - 1,
            _ => u64::MAX,
        };
        let mut offsets = self.dotted & below;
        while offsets != 0 {
            let n = offsets.trailing_zeros() as usize;
            if key.get(n) == Some(&b'.') {
                return true;
            }
            offsets &= offsets - 1;
        }
        false
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    len: u32,
    /// The key's first (up to) eight bytes, little-endian, zero-padded.
    head: u64,
    /// The key's last eight bytes when it has 9 to 16 (`tail`).
    tail: u64,
    /// Where the key's bytes start in `PathTrie::keys`.
    start: u32,
    node: u32,
}

/// Above this many keys a level is binary-searched instead of scanned.
const SCAN: usize = 12;

/// The first (up to) eight bytes of `key`, as `Entry::head`.
///
/// Without a byte loop or a variable-length copy (most keys are short): a
/// key of 4 to 7 bytes is two overlapping 4-byte reads, one of 1 to 3
/// bytes its first, middle and last bytes (which cover it).
#[inline(always)]
fn head(key: &[u8]) -> u64 {
    if let Some(chunk) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*chunk);
    }
    let n = key.len();
    if let (Some(lo), Some(hi)) = (key.first_chunk::<4>(), key.last_chunk::<4>()) {
        // The bytes both reads hold are the same, so OR keeps them.
        return u64::from(u32::from_le_bytes(*lo))
            | u64::from(u32::from_le_bytes(*hi)) << (8 * (n - 4));
    }
    let byte = |i: usize| key.get(i).map_or(0, |&b| u64::from(b) << (8 * i));
    if n == 0 {
        0
    } else {
        byte(0) | byte(n / 2) | byte(n - 1)
    }
}

/// The last eight bytes of `key` when it has 9 to 16 (all its bytes after
/// the head's), else 0.
#[inline(always)]
fn tail(key: &[u8]) -> u64 {
    match key.last_chunk::<8>() {
        Some(chunk) if (9..=16).contains(&key.len()) => u64::from_le_bytes(*chunk),
        _ => 0,
    }
}

impl PathTrie {
    pub const ROOT: u32 = 0;

    /// Builds the trie; field `i` is `paths[i]`.
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> PathTrie {
        let mut trie = PathTrie {
            nodes: vec![TrieNode::default()],
            fields: 0,
            top: Level::default(),
            levels: Vec::new(),
            keys: Vec::new(),
            key_starts: None,
            number_sieves: Vec::new(),
        };
        for (id, path) in paths.into_iter().enumerate() {
            trie.fields = id + 1;
            let mut node = Self::ROOT;
            for &byte in path.as_bytes() {
                if byte == b'.' {
                    trie.nodes[node as usize].dot = true;
                }
                node = match trie.step(node, byte) {
                    Some(next) => next,
                    None => {
                        let next = trie.nodes.len() as u32;
                        trie.nodes.push(TrieNode::default());
                        let edges = &mut trie.nodes[node as usize].edges;
                        let at = edges.partition_point(|(b, _)| *b < byte);
                        edges.insert(at, (byte, next));
                        next
                    }
                };
            }
            trie.nodes[node as usize].field = Some(id as u32);
        }
        trie.top = trie.level_from(Self::ROOT);
        for node in 0..trie.nodes.len() {
            if !trie.nodes[node].dot {
                continue;
            }
            let Some(start) = trie.step(node as u32, b'.') else {
                continue;
            };
            let level = trie.level_from(start);
            trie.nodes[node].level = trie.levels.len() as u32;
            trie.levels.push(level);
        }
        trie
    }

    /// The same trie with the trusted reader's early stop on or off (off
    /// by default: see `reader` for when it pays).
    pub fn with_early_stop(mut self, on: bool) -> PathTrie {
        self.set_early_stop(on);
        self
    }

    /// Sets which numbers of each field the reader records (`sieves[i]`
    /// for field `i`; see [`NumberSieve`]). The full-parse oracle ignores
    /// them.
    pub fn set_number_sieves(&mut self, sieves: Vec<Option<NumberSieve>>) {
        self.number_sieves = sieves;
    }

    /// The sieve of `field`'s numbers, if it has one.
    #[inline]
    pub fn number_sieve(&self, field: u32) -> Option<&NumberSieve> {
        self.number_sieves.get(field as usize)?.as_ref()
    }

    /// Turns the trusted reader's early stop on or off.
    pub fn set_early_stop(&mut self, on: bool) {
        self.key_starts = if on {
            key_starts(self.segments())
        } else {
            None
        };
    }

    /// Every dot-separated segment of the paths: the keys of all levels
    /// (each level holds the dot-free keys that lead somewhere from it).
    fn segments(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(&self.top)
            .chain(&self.levels)
            .flat_map(|level| &level.entries)
            .map(|e| {
                self.keys
                    .get(e.start as usize..(e.start + e.len) as usize)
                    .unwrap_or_default()
            })
    }

    /// Whether [`next_key`](Self::next_key) can ever answer `None`.
    #[inline]
    pub fn stops_early(&self) -> bool {
        self.key_starts.is_some()
    }

    /// Where, at or after `from`, a member whose key leads somewhere may
    /// start in `event` (a superset: any later `"` that begins such a key
    /// is at or after the returned position); `None` when no later key can.
    /// `Some(from)` when early stops are off (see [`Self::stops_early`]).
    ///
    /// Every key that leads somewhere, at any level, decodes to one of the
    /// paths' dot-separated segments or begins with one followed by `.`
    /// (a dotted key). Its raw text in the event is `"` followed either by
    /// the segment's bytes, or by a prefix of them and a `\` (an escape
    /// among its first characters). So if none of those byte strings occurs
    /// in the rest of the event, no later member at any level is entered:
    /// a duplicate of a key already read would be found like any other.
    ///
    /// `cursor` keeps the candidates of the last scan of the same event
    /// (a new event starts with it reset), so the reader's questions, each
    /// just past the last answer, cost one scan in all.
    #[inline]
    pub(super) fn next_key(
        &self,
        event: &[u8],
        from: usize,
        cursor: &mut QuoteCursor,
    ) -> Option<usize> {
        match &self.key_starts {
            None => Some(from),
            Some(KeyStarts::Nothing) => None,
            Some(KeyStarts::Quotes(search)) => search.find(event, from, cursor),
        }
    }

    /// The level of keys read from `start`: every dot-free byte string
    /// that leads from it to a node with a field or a `.`.
    fn level_from(&mut self, start: u32) -> Level {
        let mut found: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut stack: Vec<(u32, Vec<u8>)> = vec![(start, Vec::new())];
        while let Some((node, key)) = stack.pop() {
            let n = &self.nodes[node as usize];
            if n.field.is_some() || n.dot {
                found.push((key.clone(), node));
            }
            for &(byte, next) in &n.edges {
                if byte != b'.' {
                    let mut longer = key.clone();
                    longer.push(byte);
                    stack.push((next, longer));
                }
            }
        }
        let mut entries: Vec<Entry> = found
            .into_iter()
            .map(|(key, node)| {
                let entry = Entry {
                    len: key.len() as u32,
                    head: head(&key),
                    tail: tail(&key),
                    start: self.keys.len() as u32,
                    node,
                };
                self.keys.extend_from_slice(&key);
                entry
            })
            .collect();
        let keys = &self.keys;
        let bytes = |e: &Entry| &keys[e.start as usize..(e.start + e.len) as usize];
        entries.sort_by(|a, b| {
            (a.len, a.head)
                .cmp(&(b.len, b.head))
                .then_with(|| bytes(a).cmp(bytes(b)))
        });
        let dotted = entries
            .iter()
            .filter(|e| self.nodes[e.node as usize].dot)
            .fold(0u64, |m, e| m | 1 << e.len.min(63));
        Level { entries, dotted }
    }

    fn step(&self, node: u32, byte: u8) -> Option<u32> {
        let edges = &self.nodes[node as usize].edges;
        if edges.len() <= 8 {
            edges.iter().find(|(b, _)| *b == byte).map(|(_, n)| *n)
        } else {
            edges
                .binary_search_by_key(&byte, |(b, _)| *b)
                .ok()
                .map(|i| edges[i].1)
        }
    }

    /// The node for member `key` of an object found at `node` (the event
    /// itself when `top`), if any path goes through it.
    #[inline]
    pub fn member(&self, node: u32, key: &[u8], top: bool) -> Option<u32> {
        self.member_in(self.level(node, top)?, node, key, top)
    }

    /// The keys of the members of an object found at `node` (the event
    /// itself when `top`) that lead somewhere; `None` if none can. The
    /// reader looks it up once per object, then each key with
    /// [`member_in`](Self::member_in).
    #[inline(always)]
    pub fn level(&self, node: u32, top: bool) -> Option<&Level> {
        if top {
            return Some(&self.top);
        }
        let n = self.nodes.get(node as usize)?;
        if !n.dot {
            return None;
        }
        self.levels.get(n.level as usize)
    }

    /// [`member`](Self::member) with the object's `level` (from
    /// [`level`](Self::level) for the same `node` and `top`).
    #[inline(always)]
    pub fn member_in(&self, level: &Level, node: u32, key: &[u8], top: bool) -> Option<u32> {
        if let Some(found) = self.find(level, key) {
            return Some(found);
        }
        if level.may_continue(key) {
            return self.walk(node, key, top);
        }
        None
    }

    /// The entry of `level` for a dot-free `key`.
    #[inline(always)]
    fn find(&self, level: &Level, key: &[u8]) -> Option<u32> {
        let len = key.len() as u32;
        let h = head(key);
        let same_tail = |e: &Entry| self.same_tail(e, key);
        let entries = &level.entries;
        if entries.len() <= SCAN {
            return entries
                .iter()
                .find(|e| e.len == len && e.head == h && same_tail(e))
                .map(|e| e.node);
        }
        self.search(entries, key, h)
    }

    /// [`find`](Self::find) in a level of more than `SCAN` keys (out of
    /// line: the common small levels are inlined in the reader).
    #[inline(never)]
    fn search(&self, entries: &[Entry], key: &[u8], h: u64) -> Option<u32> {
        let len = key.len() as u32;
        let same_tail = |e: &Entry| self.same_tail(e, key);
        // Sorted by (len, head): binary-search the first candidate, then
        // compare the tails of the (rare) entries sharing both.
        let first = entries.partition_point(|e| (e.len, e.head) < (len, h));
        entries
            .get(first..)?
            .iter()
            .take_while(|e| e.len == len && e.head == h)
            .find(|e| same_tail(e))
            .map(|e| e.node)
    }

    /// Whether `key`, of the same length and head as `e`, is `e`'s key.
    #[inline(always)]
    fn same_tail(&self, e: &Entry, key: &[u8]) -> bool {
        // Keys of 9 to 16 bytes (most long ones) end with one compare of
        // their last eight bytes (which overlap the head).
        e.len <= 8
            || (e.len <= 16 && e.tail == tail(key))
            || e.len > 16
                && self
                    .keys
                    .get(e.start as usize + 8..(e.start + e.len) as usize)
                    == key.get(8..)
    }

    /// [`member`](Self::member) by walking the trie one byte at a time
    /// (keys with a dot; the reference the levels are tested against).
    #[inline(never)]
    fn walk(&self, node: u32, key: &[u8], top: bool) -> Option<u32> {
        let mut at = if top { node } else { self.step(node, b'.')? };
        for &byte in key {
            at = self.step(at, byte)?;
        }
        let n = &self.nodes[at as usize];
        (n.field.is_some() || n.dot).then_some(at)
    }

    /// The number of fields.
    pub fn field_count(&self) -> usize {
        self.fields
    }

    /// The field whose path ends at `node`.
    #[inline]
    pub fn field(&self, node: u32) -> Option<u32> {
        self.nodes[node as usize].field
    }

    /// Whether objects found at `node` have members worth visiting.
    #[inline]
    pub fn has_children(&self, node: u32) -> bool {
        self.nodes[node as usize].dot
    }
}

/// The searcher of [`PathTrie::next_key`] for these path segments.
fn key_starts<'k>(segments: impl Iterator<Item = &'k [u8]>) -> Option<KeyStarts> {
    let mut segments: Vec<&[u8]> = segments.collect();
    segments.sort_unstable();
    segments.dedup();
    // A segment that begins with a shorter one adds no key beginning: its
    // raw text begins with the shorter one's, and so does each of its
    // escaped spellings (`"` + a prefix + `\`) that is not already one of
    // the shorter one's. Sorted, comparing with the last one kept is enough.
    let mut kept: Vec<&[u8]> = Vec::with_capacity(segments.len());
    for segment in segments {
        if kept.last().is_some_and(|k| segment.starts_with(k)) {
            continue;
        }
        kept.push(segment);
        if kept.len() > MAX_SEGMENTS {
            return None;
        }
    }
    if kept.is_empty() {
        return Some(KeyStarts::Nothing);
    }
    // The empty segment (a path like `a..b` or a key "") begins every key:
    // the search would stop at every quote.
    if kept.first().is_some_and(|k| k.is_empty()) {
        return None;
    }
    let mut second = Box::new([0u8; 256]);
    second[usize::from(b'\\')] = ALWAYS;
    let mut groups: Vec<Vec<Segment>> = Vec::new();
    for segment in kept {
        let Some(&first) = segment.first() else {
            continue;
        };
        if first == b'\\' {
            continue;
        }
        let slot = &mut second[usize::from(first)];
        if *slot == 0 {
            groups.push(Vec::new());
            *slot = groups.len() as u8;
        }
        if let Some(group) = groups.get_mut(usize::from(*slot - 1)) {
            group.push(Segment::new(segment));
        }
    }
    let next = NextBytes::new((0..=255u8).filter(|&b| second[usize::from(b)] != 0));
    Some(KeyStarts::Quotes(QuoteSearch {
        next,
        second,
        groups,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_the_first_eight_bytes_zero_padded() {
        let text = b"abcdefghijk";
        for n in 0..=text.len() {
            let key = &text[..n];
            let mut w = [0u8; 8];
            for (slot, &b) in w.iter_mut().zip(key) {
                *slot = b;
            }
            assert_eq!(head(key), u64::from_le_bytes(w), "{n}");
        }
    }

    /// `Segment::begins` (word compares: the head, and the last word of
    /// segments of 9 to 16 bytes) agrees with a byte loop, for segments
    /// of every length to 20 and texts that differ from them, or stop
    /// with a `\\`, at every offset.
    #[test]
    fn segments_begin_as_a_byte_loop_says() {
        let full = b"abcdefghijklmnopqrst";
        let reference = |segment: &[u8], rest: &[u8]| {
            let same = segment.iter().zip(rest).take_while(|(a, b)| a == b).count();
            same == segment.len() || rest.get(same) == Some(&b'\\')
        };
        for n in 1..=full.len() {
            let segment = Segment::new(&full[..n]);
            for len in 0..=full.len() + 4 {
                let mut text: Vec<u8> = full.iter().chain(b"\":1}").copied().take(len).collect();
                let mut cases = vec![text.clone()];
                for at in 0..text.len() {
                    for b in [b'x', b'\\', b'"'] {
                        let saved = text[at];
                        text[at] = b;
                        cases.push(text.clone());
                        text[at] = saved;
                    }
                }
                for rest in &cases {
                    assert_eq!(
                        segment.begins(rest),
                        reference(&full[..n], rest),
                        "{n} {:?}",
                        String::from_utf8_lossy(rest)
                    );
                }
            }
        }
    }

    #[test]
    fn dotted_keys_and_nesting_reach_the_same_field() {
        let trie = PathTrie::new(["a.b", "a.c.d", "x"]);
        let a = trie.member(PathTrie::ROOT, b"a", true).unwrap();
        assert!(trie.has_children(a));
        assert_eq!(trie.field(a), None);
        let ab = trie.member(a, b"b", false).unwrap();
        assert_eq!(trie.field(ab), Some(0));
        let dotted = trie.member(PathTrie::ROOT, b"a.b", true).unwrap();
        assert_eq!(trie.field(dotted), Some(0));
        assert_eq!(trie.member(PathTrie::ROOT, b"ab", true), None);
        assert_eq!(
            trie.member(a, b"c", false).map(|n| trie.has_children(n)),
            Some(true)
        );
        assert_eq!(trie.member(PathTrie::ROOT, b"y", true), None);
        let x = trie.member(PathTrie::ROOT, b"x", true).unwrap();
        assert_eq!(trie.field(x), Some(2));
        assert!(!trie.has_children(x));
    }

    /// Every lookup through the levels equals the byte walk, for keys that
    /// are paths' pieces, their prefixes and extensions, with and without
    /// dots, long and short, at levels scanned and binary-searched.
    #[test]
    fn levels_agree_with_the_byte_walk() {
        let mut paths: Vec<String> = vec![
            "".into(),
            "a".into(),
            "a.b".into(),
            "a.b.c".into(),
            "ab".into(),
            "a.bc.d".into(),
            "properties.STREET".into(),
            "properties.ST_TYPE".into(),
            "properties.STREETNAME_LONGER".into(),
            "properties.STREETNAME_LONGES".into(),
            "x..y".into(),
            ".lead".into(),
            "tail.".into(),
        ];
        for i in 0..40 {
            paths.push(format!("many.k{i}"));
            paths.push(format!("many.key_with_long_name_{i}.v"));
        }
        // Dotted segments of 62 to 64 bytes (the length mask's last bits).
        for n in 62..=64 {
            paths.push(format!("{}.v", "L".repeat(n)));
            paths.push(format!("many.{}.w", "M".repeat(n)));
        }
        paths.sort();
        paths.dedup();
        let trie = PathTrie::new(paths.iter().map(String::as_str));
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for p in &paths {
            let bytes = p.as_bytes();
            for i in 0..=bytes.len() {
                for j in i..=bytes.len() {
                    keys.push(bytes[i..j].to_vec());
                    let mut longer = bytes[i..j].to_vec();
                    longer.push(b'z');
                    keys.push(longer);
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut nodes = vec![(PathTrie::ROOT, true)];
        for node in 0..trie.nodes.len() as u32 {
            nodes.push((node, false));
        }
        for &(node, top) in &nodes {
            for key in &keys {
                assert_eq!(
                    trie.member(node, key, top),
                    trie.walk(node, key, top),
                    "node {node} top {top} key {:?}",
                    String::from_utf8_lossy(key)
                );
            }
        }
    }
}
