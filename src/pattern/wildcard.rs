//! The `wildcard` operand: `*` matches any run of characters, `\*` is a
//! literal star and `\\` a literal backslash.

use std::collections::{HashSet, VecDeque};

/// A parsed wildcard: literal segments that the stars separate.
///
/// `a*b*c` has segments `a`, `b`, `c`; the first is anchored at the start of
/// the value, the last at its end, and the middle ones must appear in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wildcard {
    segments: Vec<Vec<u8>>,
}

/// Why a wildcard operand is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WildcardError {
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
            return value == first.as_slice();
        }
        let last = &self.segments[n - 1];
        if value.len() < first.len() + last.len()
            || !value.starts_with(first)
            || !value.ends_with(last)
        {
            return false;
        }
        // Leftmost placement of each middle segment is always safe for
        // star-only globs: it leaves the most room for the rest.
        let mut rest = &value[first.len()..value.len() - last.len()];
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
        // Tokens: Some(byte) for a literal byte, None for a star.
        let mut tokens: Vec<Option<u8>> = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                tokens.push(None);
            }
            tokens.extend(segment.iter().map(|&b| Some(b)));
        }
        let positions = tokens.len() + 1;
        let words = positions.div_ceil(64);
        let close = |set: &mut Vec<u64>| {
            for p in 0..tokens.len() {
                if set[p / 64] >> (p % 64) & 1 == 1 && tokens[p].is_none() {
                    set[(p + 1) / 64] |= 1 << ((p + 1) % 64);
                }
            }
        };
        let count = |set: &Vec<u64>| -> usize {
            let all: usize = set.iter().map(|w| w.count_ones() as usize).sum();
            let last = positions - 1;
            all - (set[last / 64] >> (last % 64) & 1) as usize
        };
        let mut alphabet: Vec<u8> = tokens.iter().flatten().copied().collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        // One byte that no literal uses stands for every other byte.
        if let Some(other) = (0..=255u8).find(|b| alphabet.binary_search(b).is_err()) {
            alphabet.push(other);
        }
        let mut start = vec![0u64; words];
        start[0] = 1;
        close(&mut start);
        let mut best = count(&start);
        let mut seen: HashSet<Vec<u64>> = HashSet::new();
        let mut queue = VecDeque::new();
        seen.insert(start.clone());
        queue.push_back(start);
        const MAX_SUBSETS: usize = 20_000;
        while let Some(set) = queue.pop_front() {
            for &byte in &alphabet {
                let mut next = vec![0u64; words];
                for (p, token) in tokens.iter().enumerate() {
                    if set[p / 64] >> (p % 64) & 1 == 0 {
                        continue;
                    }
                    match token {
                        None => next[p / 64] |= 1 << (p % 64),
                        Some(t) if *t == byte => next[(p + 1) / 64] |= 1 << ((p + 1) % 64),
                        Some(_) => {}
                    }
                }
                close(&mut next);
                if next.iter().all(|w| *w == 0) {
                    continue;
                }
                best = best.max(count(&next));
                if best > stop_above {
                    return best;
                }
                if seen.insert(next.clone()) {
                    if seen.len() > MAX_SUBSETS {
                        return usize::MAX;
                    }
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
    fn complexity_matches_the_documented_examples() {
        assert_eq!(w("abc").complexity(100), 1);
        assert_eq!(w("*bbbbbb").complexity(100), 7);
        assert_eq!(w("*a*a*a*a*a*").complexity(100), 11);
        assert!(w("a*b*c*d*e*f").complexity(100) <= 10);
    }
}
