//! Which numbers of a field some rule can match: the reader records only
//! those.
//!
//! A polygon's coordinates are most of a citylots event's leaves, and a rule
//! that names one coordinate (`{"geometry":{"coordinates":[37.80…]}}`)
//! matches almost none of them; every leaf recorded is written, linked and
//! then visited by the walk, which rules it out. When every pattern on a
//! field that could take a number is an exact number literal or a numeric
//! comparison (no `exists`, no `anything-but`, no absent-field test, none
//! of which a number's value can rule out), the automaton hands the reader a
//! [`NumberSieve`] for the field, and a number the sieve refuses is scanned
//! (and checked in validated mode) but not recorded. Matching is the same:
//! a refused number is one no edge of the field could take.

use memchr::memmem::Finder;

use crate::util::bands::Bands;
use crate::util::bytes;

/// The numbers one field's patterns may match: literals not comparable as
/// numbers, by their text, and the magnitude bands that its comparable
/// literals and numeric ranges reach.
#[derive(Clone, Debug)]
pub(crate) struct NumberSieve {
    /// Bit `n` set when a text has `n` bytes (bit 63: 63 or more).
    lengths: u64,
    texts: Box<[Box<[u8]>]>,
    /// `None`: no comparable literal or range (only `texts` match).
    bands: Option<Bands>,
    /// Whether a whole array of numbers can be refused from its bytes.
    whole: Whole,
}

/// When [`NumberSieve::refuses_all_in`] holds.
#[derive(Clone, Debug)]
enum Whole {
    /// Never: a band may keep a number whatever its text.
    Never,
    /// Always: the field takes no number at all.
    Always,
    /// Unless one of the texts occurs in the bytes (a number equal to a
    /// text is an occurrence of it). A search per text: `aho-corasick`'s
    /// prefilters key on rare bytes, and in arrays of numbers no byte is
    /// rare (its one-byte prefilter made citylots-4 3.6 times slower);
    /// `memmem` tests two bytes of the text a vector at a time.
    Unless(Box<[Finder<'static>]>),
}

impl NumberSieve {
    /// The most text literals a sieve compares a number with (beyond, the
    /// field gets none: the walk's own lookup is a hash).
    pub(crate) const MAX_TEXTS: usize = 8;

    /// The sieve of `texts` and `bands`, or `None` when it would refuse
    /// nothing worth the test (too many texts, or bands that reach every
    /// magnitude).
    pub(crate) fn new(texts: Vec<Box<[u8]>>, bands: Option<Bands>) -> Option<NumberSieve> {
        if texts.len() > Self::MAX_TEXTS || bands.is_some_and(|b| !b.rules_out_some()) {
            return None;
        }
        let lengths = texts.iter().fold(0u64, |m, t| m | 1 << t.len().min(63));
        let whole = match (bands, texts.is_empty()) {
            (Some(_), _) => Whole::Never,
            (None, true) => Whole::Always,
            (None, false) => Whole::Unless(
                texts
                    .iter()
                    .map(|t| Finder::new(t.as_ref()).into_owned())
                    .collect(),
            ),
        };
        Some(NumberSieve {
            lengths,
            texts: texts.into_boxed_slice(),
            bands,
            whole,
        })
    }

    /// Whether the sieve may refuse every number of an array from its
    /// bytes alone (see [`NumberSieve::refuses_all_in`]).
    #[inline]
    pub(crate) fn refuses_by_text(&self) -> bool {
        !matches!(self.whole, Whole::Never)
    }

    /// Whether the sieve refuses every number written in `bytes` (the
    /// bytes of an array holding only numbers and arrays): it has no bands
    /// and none of its texts occurs there. A number it keeps is equal to a
    /// text, so an occurrence; one inside a longer number only makes this
    /// answer `false` for nothing.
    pub(crate) fn refuses_all_in(&self, bytes: &[u8]) -> bool {
        match &self.whole {
            Whole::Never => false,
            Whole::Always => true,
            Whole::Unless(texts) => texts.iter().all(|t| t.find(bytes).is_none()),
        }
    }

    /// Whether some pattern of the field may match the number literal
    /// `text` (false only when none can).
    #[inline(always)]
    pub(crate) fn keeps(&self, text: &[u8]) -> bool {
        self.keeps_text(text) || self.bands.is_some_and(|b| !b.rules_out(text))
    }

    /// [`NumberSieve::keeps`] for a literal known to have no exponent, with
    /// `digits` integer digits (0 for `0.x`): its band without a scan.
    #[inline(always)]
    pub(crate) fn keeps_plain(&self, text: &[u8], digits: usize) -> bool {
        self.keeps_text(text)
            || self
                .bands
                .is_some_and(|b| !b.rules_out_plain(text.first() == Some(&b'-'), digits))
    }

    #[inline(always)]
    fn keeps_text(&self, text: &[u8]) -> bool {
        self.lengths & 1 << text.len().min(63) != 0 && self.texts.iter().any(|t| bytes::eq(t, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::number;

    fn texts(list: &[&str]) -> Vec<Box<[u8]>> {
        list.iter().map(|t| t.as_bytes().into()).collect()
    }

    #[test]
    fn texts_are_kept_by_their_spelling_only() {
        let sieve =
            NumberSieve::new(texts(&["37.807807921694092", "-122.4182617228154"]), None).unwrap();
        assert!(sieve.keeps(b"37.807807921694092") && sieve.keeps(b"-122.4182617228154"));
        for other in [
            "37.80780792169409",
            "37.8078079216940920",
            "0.0",
            "-122.4182617228155",
        ] {
            assert!(!sieve.keeps(other.as_bytes()), "{other}");
        }
        // A long text is compared whole, whatever its length bit says.
        let long = "1".repeat(70);
        let sieve = NumberSieve::new(texts(&[&long]), None).unwrap();
        assert!(sieve.keeps(long.as_bytes()) && !sieve.keeps("1".repeat(64).as_bytes()));
    }

    #[test]
    fn bands_keep_every_number_a_comparison_may_reach() {
        let key = |x: f64| number::ordered(x);
        let bands = Bands::new([(key(37.7), key(37.8))].into_iter());
        let sieve = NumberSieve::new(Vec::new(), Some(bands)).unwrap();
        for kept in ["37.75", "10", "99.99", "3.775e1", "1E300"] {
            assert!(sieve.keeps(kept.as_bytes()), "{kept}");
        }
        for refused in ["0.0", "-122.41", "5", "100.5"] {
            assert!(!sieve.keeps(refused.as_bytes()), "{refused}");
        }
        // Without a scan for an exponent, from the integer digits, the same.
        for plain in [
            "37.75", "10", "99.99", "0.0", "-122.41", "5", "100.5", "0.5", "-0",
        ] {
            let body = plain.trim_start_matches('-');
            let digits = if body.starts_with('0') {
                0
            } else {
                body.bytes().take_while(u8::is_ascii_digit).count()
            };
            assert_eq!(
                sieve.keeps_plain(plain.as_bytes(), digits),
                sieve.keeps(plain.as_bytes()),
                "{plain}"
            );
        }
        let both = NumberSieve::new(texts(&["0.0"]), Some(bands)).unwrap();
        assert!(both.keeps(b"0.0") && both.keeps(b"37.75") && !both.keeps(b"0.00"));
    }

    #[test]
    fn a_sieve_that_refuses_nothing_worth_it_is_not_built() {
        let key = |x: f64| number::ordered(x);
        let everything = Bands::new([(key(f64::MIN), key(f64::MAX))].into_iter());
        assert!(NumberSieve::new(Vec::new(), Some(everything)).is_none());
        let many: Vec<String> = (0..=NumberSieve::MAX_TEXTS)
            .map(|i| i.to_string())
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(NumberSieve::new(texts(&many), None).is_none());
        assert!(NumberSieve::new(Vec::new(), None).is_some());
    }
}
