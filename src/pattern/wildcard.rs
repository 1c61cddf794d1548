//! The `wildcard` operand: `*` matches any run of characters, `\*` is a
//! literal star and `\\` a literal backslash.

use crate::util::bytes;
use std::collections::{HashSet, VecDeque};

/// A parsed wildcard: literal segments that the stars separate.
///
/// `a*b*c` has segments `a`, `b`, `c`; the first is anchored at the start of
/// the value, the last at its end, and the middle ones must appear in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Wildcard {
    segments: Vec<Vec<u8>>,
}

/// Why a wildcard operand is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WildcardError {
    /// Two unescaped stars in a row, at this byte offset.
    ConsecutiveStars(usize),
    /// A backslash that escapes neither `*` nor `\`, at this byte offset.
    InvalidEscape(usize),
}

impl Wildcard {
    /// Parses a wildcard operand.
    pub fn parse(text: &str) -> Result<Wildcard, WildcardError> {
        let bytes = text.as_bytes();
        let mut segments = vec![Vec::new()];
        let mut i = 0;
        let mut last_was_star = false;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if last_was_star {
                        return Err(WildcardError::ConsecutiveStars(i));
                    }
                    segments.push(Vec::new());
                    last_was_star = true;
                    i += 1;
                    continue;
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&c @ (b'*' | b'\\')) => {
                        push_last(&mut segments, c);
                        i += 2;
                    }
                    _ => return Err(WildcardError::InvalidEscape(i)),
                },
                c => {
                    push_last(&mut segments, c);
                    i += 1;
                }
            }
            last_was_star = false;
        }
        Ok(Wildcard { segments })
    }

    /// The literal segments; there is one more segment than there are stars.
    pub fn segments(&self) -> &[Vec<u8>] {
        &self.segments
    }

    /// Whether the wildcard has no star (it is then an exact match).
    pub fn is_literal(&self) -> bool {
        self.segments.len() == 1
    }

    /// Whether `value` matches the whole wildcard.
    pub fn matches(&self, value: &[u8]) -> bool {
        let n = self.segments.len();
        let first = &self.segments[0];
        if n == 1 {
            return bytes::eq(value, first);
        }
        let last = &self.segments[n - 1];
        // Where `last` starts; `first` must end at or before it.
        let Some(middle) = value
            .len()
            .checked_sub(last.len())
            .filter(|&m| m >= first.len())
        else {
            return false;
        };
        // `bytes::eq`, not `starts_with`: no call per candidate value.
        if !bytes::eq(&value[..first.len()], first) || !bytes::eq(&value[middle..], last) {
            return false;
        }
        // Leftmost placement of each middle segment is always safe for
        // star-only globs: it leaves the most room for the rest.
        let mut rest = &value[first.len()..middle];
        for segment in &self.segments[1..n - 1] {
            match memchr::memmem::find(rest, segment) {
                Some(at) => rest = &rest[at + segment.len()..],
                None => return false,
            }
        }
        true
    }

    /// The wildcard's complexity: the largest number of positions a
    /// position-tracking matcher would hold at once over any input, not
    /// counting the final position. `ab*cc` is 3 at most; a star followed by
    /// six identical characters is 7; six stars separated by one repeated
    /// character reach 11. Exploration stops once `stop_above` is exceeded.
    pub fn complexity(&self, stop_above: usize) -> usize {
        // Tokens: Some(byte) for a literal byte, None for a star. Position
        // `tokens.len()` is the end.
        let mut tokens: Vec<Option<u8>> = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                tokens.push(None);
            }
            tokens.extend(segment.iter().map(|&b| Some(b)));
        }
        let end = tokens.len() as u32;
        // Active sets are small (exploration stops once one exceeds
        // `stop_above`), so they are kept as sorted position lists and each
        // step only looks at the active positions: linear in the pattern's
        // length for ordinary wildcards, however long.
        let close = |set: &mut Vec<u32>| {
            let stars: Vec<u32> = set
                .iter()
                .filter(|&&p| p < end && tokens[p as usize].is_none())
                .map(|&p| p + 1)
                .collect();
            set.extend(stars);
            set.sort_unstable();
            set.dedup();
        };
        let count = |set: &[u32]| set.len() - usize::from(set.last() == Some(&end));
        let mut start = vec![0u32];
        close(&mut start);
        let mut best = count(&start);
        if best > stop_above {
            return best;
        }
        let max_sets = 20_000usize.max(8 * tokens.len());
        let mut seen: HashSet<Vec<u32>> = HashSet::new();
        let mut queue = VecDeque::new();
        seen.insert(start.clone());
        queue.push_back(start);
        let mut symbols: Vec<Option<u8>> = Vec::new();
        while let Some(set) = queue.pop_front() {
            // The bytes that move some active literal position, and `None`
            // for any other byte (which only stars survive).
            symbols.clear();
            for &p in &set {
                if let Some(Some(b)) = tokens.get(p as usize) {
                    symbols.push(Some(*b));
                }
            }
            symbols.sort_unstable();
            symbols.dedup();
            symbols.push(None);
            for symbol in &symbols {
                let mut next: Vec<u32> = Vec::with_capacity(set.len() + 1);
                for &p in &set {
                    match tokens.get(p as usize) {
                        Some(None) => next.push(p),
                        Some(Some(t)) if Some(*t) == *symbol => next.push(p + 1),
                        _ => {}
                    }
                }
                if next.is_empty() {
                    continue;
                }
                close(&mut next);
                best = best.max(count(&next));
                if best > stop_above {
                    return best;
                }
                if !seen.contains(&next) {
                    if seen.len() >= max_sets {
                        return usize::MAX;
                    }
                    seen.insert(next.clone());
                    queue.push_back(next);
                }
            }
        }
        best
    }
}

fn push_last(segments: &mut [Vec<u8>], byte: u8) {
    if let Some(last) = segments.last_mut() {
        last.push(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Wildcard {
        Wildcard::parse(text).unwrap()
    }

    #[test]
    fn matches_anchored_globs() {
        assert!(w("a*b*c").matches(b"abc"));
        assert!(w("a*b*c").matches(b"aXXbYYc"));
        assert!(!w("a*b*c").matches(b"aXXbYY"));
        assert!(w("*").matches(b""));
        assert!(w("*ab*ab").matches(b"abab"));
        assert!(!w("ab*ba").matches(b"aba"));
        assert!(w("*XAS").matches(b"TEXAS"));
        assert!(w("NA*").matches(b"NAPA"));
        assert!(!w("NA*").matches(b"XNAPA"));
        assert!(w("exact").matches(b"exact"));
        assert!(!w("exact").matches(b"exactly"));
    }

    #[test]
    fn escapes() {
        assert!(w(r"a\*b").matches(b"a*b"));
        assert!(!w(r"a\*b").matches(b"aXb"));
        assert!(w(r"a\\*").matches(br"a\anything"));
        assert_eq!(
            Wildcard::parse(r"a\b"),
            Err(WildcardError::InvalidEscape(1))
        );
        assert_eq!(Wildcard::parse("a\\"), Err(WildcardError::InvalidEscape(1)));
        assert_eq!(
            Wildcard::parse("abc**def"),
            Err(WildcardError::ConsecutiveStars(4))
        );
        assert!(Wildcard::parse(r"a*\**").is_ok());
    }

    #[test]
    fn complexity_of_long_wildcards_is_computed_not_refused() {
        // One star and 60,000 non-repeating characters: complexity 2.
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let text: String = std::iter::once('*')
            .chain((0..60_000).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(alphabet[(x % 64) as usize])
            }))
            .collect();
        assert!(w(&text).complexity(10) <= 10);
        let fuzzed = format!("x{}*y", "ab".repeat(20_000));
        assert!(w(&fuzzed).complexity(10) <= 10);
    }

    #[test]
    fn complexity_matches_the_documented_examples() {
        assert_eq!(w("abc").complexity(100), 1);
        assert_eq!(w("*bbbbbb").complexity(100), 7);
        assert_eq!(w("*a*a*a*a*a*").complexity(100), 11);
        assert!(w("a*b*c*d*e*f").complexity(100) <= 10);
    }
}
