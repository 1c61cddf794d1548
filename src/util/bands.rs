//! Bands of magnitude: which number literals no numeric comparison of a
//! field can reach, decided from their first bytes.

use crate::util::number;

/// Literals written without an exponent, of `BANDS` integer digits or
/// fewer, are sorted into bands by sign and integer-digit count.
const BANDS: usize = 22;

/// Per sign, the bands of magnitude that no numeric range of an edge
/// reaches. A literal without an exponent whose integer part has `d`
/// digits (`d = 0` for `0.x`) lies in `[10^(d-1), 10^d)` (`[0, 1)` for
/// `d = 0`), and so does its value if it is comparable (rounding up to
/// `10^d` would make it not comparable, and `10^(d-1)` is a float); a
/// literal that is not comparable is in no range. So a literal in a band
/// no range meets is in no range, and the band is known from a few bytes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Bands {
    /// Indexed by `negative`: bit `d` set when no range meets band `d`.
    out: [u32; 2],
}

impl Bands {
    /// The bands that none of the inclusive (low, high) key intervals meets.
    pub(crate) fn new(intervals: impl Iterator<Item = (u64, u64)> + Clone) -> Bands {
        let mut out = [0u32; 2];
        for (negative, mask) in out.iter_mut().enumerate() {
            // Powers of ten to 10^22 are floats: products by ten stay exact.
            let (mut low, mut high) = (0.0f64, 1.0f64);
            for d in 0..=BANDS {
                if d > 0 {
                    low = high;
                    high *= 10.0;
                }
                // The band as a closed interval (a superset is safe).
                let (a, b) = if negative == 1 {
                    (number::ordered(-high), number::ordered(-low))
                } else {
                    (number::ordered(low), number::ordered(high))
                };
                if intervals.clone().all(|(l, h)| h < a || l > b) {
                    *mask |= 1 << d;
                }
            }
        }
        Bands { out }
    }

    /// The bands that neither `self`'s intervals nor `other`'s meet.
    pub(crate) fn join(self, other: Bands) -> Bands {
        Bands {
            out: [self.out[0] & other.out[0], self.out[1] & other.out[1]],
        }
    }

    /// Whether some band is met by no interval (else [`Bands::rules_out`]
    /// is always false).
    pub(crate) fn rules_out_some(self) -> bool {
        self.out != [0, 0]
    }

    /// [`Bands::rules_out`] for a literal known to have no exponent, of
    /// sign `negative` and `digits` integer digits (0 for `0.x`).
    #[inline(always)]
    pub(crate) fn rules_out_plain(self, negative: bool, digits: usize) -> bool {
        digits <= BANDS && self.out[usize::from(negative)] & (1 << digits) != 0
    }

    /// Whether the number literal `text` lies in a band no range meets.
    #[inline]
    pub(crate) fn rules_out(self, text: &[u8]) -> bool {
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let digits = if body.first() == Some(&b'0') {
            0
        } else {
            body.iter().take_while(|c| c.is_ascii_digit()).count()
        };
        if !self.rules_out_plain(negative, digits) {
            return false;
        }
        // An exponent moves the value out of its band: checked last, as
        // only the literals about to be ruled out need it.
        !body.iter().any(|c| c | 0x20 == b'e')
    }
}

#[cfg(test)]
mod tests {
    use super::{BANDS, Bands};
    use crate::util::number;

    /// The bands a range set leaves out, and the literals they rule out:
    /// only those without an exponent whose integer part puts them in a
    /// band no range meets.
    #[test]
    fn bands_rule_out_only_literals_no_range_can_hold() {
        let range = |low: f64, high: f64| (number::ordered(low), number::ordered(high));
        let latitudes = Bands::new([range(37.7, 37.8)].into_iter());
        // Only band 2 (10 to 100) of the positive side is met.
        assert_eq!(latitudes.out[0], ((1u32 << (BANDS + 1)) - 1) & !(1 << 2));
        assert_eq!(latitudes.out[1], (1u32 << (BANDS + 1)) - 1);
        for (text, out) in [
            ("0.0", true),
            ("0", true),
            ("-0", true),
            ("5.5", true),
            ("375.0", true),
            ("-37.75", true),
            ("37.75", false),
            ("99.9", false),
            ("3.775e1", false),
            ("0.3775E2", false),
            ("0.0e5", false),
            ("12345678901234567890123", false),
        ] {
            assert_eq!(latitudes.rules_out(text.as_bytes()), out, "{text}");
        }
        // A range ending at a power of ten meets the band above too.
        let to_ten = Bands::new([range(5.0, 10.0)].into_iter());
        assert!(!to_ten.rules_out(b"10.0") && !to_ten.rules_out(b"7"));
        assert!(to_ten.rules_out(b"0.5") && to_ten.rules_out(b"100"));
        // Ranges around zero rule out nothing near it.
        let around = Bands::new([range(-0.5, 0.5)].into_iter());
        assert!(!around.rules_out(b"0.25") && !around.rules_out(b"-0.25"));
        assert!(!around.rules_out(b"-0") && around.rules_out(b"-2"));
        // A literal is a range of one value; bands join over all of them.
        let both = Bands::new([range(3.5, 3.5), range(-200.0, -150.0)].into_iter());
        assert!(!both.rules_out(b"3.50") && !both.rules_out(b"-199"));
        assert!(both.rules_out(b"35") && both.rules_out(b"-19") && both.rules_out(b"0.0"));
        // Joined, a band is out only when it is out of both.
        let joined = latitudes.join(to_ten);
        assert!(
            !joined.rules_out(b"37.75") && !joined.rules_out(b"7") && !joined.rules_out(b"10.0")
        );
        assert!(
            joined.rules_out(b"0.5") && joined.rules_out(b"375.0") && joined.rules_out(b"-37.75")
        );
        assert!(joined.rules_out_some());
        assert!(
            !around
                .join(Bands::new([range(f64::MIN, f64::MAX)].into_iter()))
                .rules_out_some()
        );
        // Beyond the last band (and beyond a `u32`'s bits, where a shift
        // would wrap onto a low band) nothing is ruled out: `1e39` is
        // comparable, and so is its 40-digit spelling.
        let huge = Bands::new([range(1e39, 1e39)].into_iter());
        assert!(huge.rules_out(b"7") && huge.rules_out(b"-5") && !huge.rules_out(b"-1e39"));
        let forty = format!("1{}", "0".repeat(39));
        assert!(!huge.rules_out(forty.as_bytes()));
        assert!(!huge.rules_out_plain(false, 40) && !huge.rules_out_plain(false, 23));
    }
}
