//! Numbers as the pattern language compares them.
//!
//! A JSON number takes part in numeric comparison only when it is
//! *comparable*: it converts to a finite `f64` and its decimal value equals
//! the shortest decimal that round-trips that `f64`. So `300`, `300.0` and
//! `3e2` compare equal, while `0.10000000000000001` (more precision than an
//! `f64` holds) is compared only as text. This is the reference
//! implementation's rule, with a shortest round-trip formatter (`ryu`).

/// Parses a JSON number literal and returns its value if it is comparable.
pub fn comparable(text: &[u8]) -> Option<f64> {
    let value = parse_f64(text)?;
    is_exact(text, value).then_some(value)
}

/// Parses a JSON number literal to the nearest `f64` (finite only); `-0` becomes `0`.
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some(if value == 0.0 { 0.0 } else { value })
}

/// Parses a JSON number literal to the nearest `f64`, ±∞ when its
/// magnitude is beyond the `f64` range (`1e400`); `-0` becomes `0`. Text
/// that is not a number gives NaN (the readers never pass such text).
///
/// Matching converts with [`read`]; this is the reference it is tested
/// against.
#[cfg(test)]
pub fn parse_any(text: &[u8]) -> f64 {
    let value = match fast_parse(text) {
        Some(v) => v,
        None => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(f64::NAN),
    };
    if value == 0.0 { 0.0 } else { value }
}

/// Powers of ten that are exact in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Clinger's fast path: when the literal's digits form an integer `m` of at
/// most 2^53 and its decimal exponent `e` is within ±22, both `m` and 10^|e|
/// are exact f64s and one multiplication or division rounds correctly.
/// `None` for every other literal (and for text that is not a number).
#[cfg(test)]
fn fast_parse(text: &[u8]) -> Option<f64> {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut m: u64 = 0;
    let mut exponent: i32 = 0;
    let mut i = 0;
    let mut seen_digit = false;
    let mut in_fraction = false;
    while let Some(&c) = body.get(i) {
        match c {
            b'0'..=b'9' => {
                m = m.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                seen_digit = true;
                if in_fraction {
                    exponent -= 1;
                }
            }
            b'.' if !in_fraction => in_fraction = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        i += 1;
    }
    if !seen_digit || m > 1 << 53 {
        return None;
    }
    if i < body.len() {
        let rest = body.get(i + 1..)?;
        let (sign, digits) = match rest.split_first() {
            Some((b'-', d)) => (-1, d),
            Some((b'+', d)) => (1, d),
            _ => (1, rest),
        };
        if digits.is_empty() || digits.len() > 4 {
            return None;
        }
        let mut e: i32 = 0;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            e = e * 10 + i32::from(c - b'0');
        }
        exponent += sign * e;
    }
    let value = m as f64;
    let value = match exponent {
        0 => value,
        1..=22 => value * POW10[exponent as usize],
        -22..=-1 => value / POW10[(-exponent) as usize],
        _ if m == 0 => 0.0,
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// What a literal's significant digits and value say about its
/// exactness, before any formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quick {
    /// Comparable: at most 15 significant digits (or the literal zero), a
    /// normal finite value.
    Exact,
    /// Not comparable: more than 17 significant digits, beyond the `f64`
    /// range, subnormal, or a nonzero literal that underflows to zero.
    Inexact,
    /// 16 or 17 significant digits: [`is_exact`] decides.
    Check,
}

/// A literal's significant digits in canonical form: `|value| = m · 10^q`
/// with no trailing zeros in `m` (zero is `m = 0, q = 0`, never
/// negative), so that two comparable literals have equal values iff their
/// significands are equal (both are the shortest round-trip decimal of the
/// one value). Scanned once per event number ([`scan`]); equality with a
/// pattern's number and the exactness check need nothing else, and the
/// conversion to `f64` ([`convert`]) starts from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Significand {
    negative: bool,
    /// The number of digits of `m` (0 for zero).
    len: u8,
    m: u64,
    q: i32,
}

/// The significand of a JSON number literal; `None` for a literal that is
/// never comparable from its digits alone (more than 17 significant
/// digits, or a decimal exponent beyond ±2^31).
#[inline]
pub fn scan(text: &[u8]) -> Option<Significand> {
    let d = Decimal::scan(text)?;
    Some(Significand {
        negative: d.negative,
        len: d.len as u8,
        m: d.m,
        q: i32::try_from(d.q).ok()?,
    })
}

/// Reads a JSON number literal for comparison: [`scan`], then [`convert`].
/// A literal of more than 17 significant digits is never comparable, so it
/// is not converted at all (the value is then NaN: nothing compares it by
/// value). Matching scans and converts in two steps (see `Flat`).
#[cfg(test)]
pub fn read(text: &[u8]) -> (f64, Quick) {
    match scan(text) {
        Some(s) => convert(text, s),
        None => (f64::NAN, Quick::Inexact),
    }
}

/// The value of the literal `text` whose significand is `s` (the tests
/// check it against `parse_any`), and what its digits say about its
/// exactness: most literals are decided here from their digit count, and
/// only those of 16 or 17 digits are left to [`is_exact_read`].
#[inline]
pub fn convert(text: &[u8], s: Significand) -> (f64, Quick) {
    let value = if s.len == 0 {
        0.0
    } else if s.m <= 1 << 53 && (-22..=22).contains(&s.q) {
        // Clinger's fast path (see `fast_parse`) on the significant digits.
        let m = s.m as f64;
        let v = if s.q >= 0 {
            m * POW10[s.q as usize]
        } else {
            m / POW10[(-s.q) as usize]
        };
        if s.negative { -v } else { v }
    } else if let Some(v) = scaled(s.m, s.q) {
        // Beyond 2^53 (16-17 digit coordinates): from the digits, no parse.
        if s.negative { -v } else { v }
    } else {
        // Exponents beyond the tables: the full conversion of the text.
        let v = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        if v == 0.0 { 0.0 } else { v }
    };
    (value, quick(value, usize::from(s.len)))
}

/// Powers of ten as `u128`, to 10^22.
const POW10_WIDE: [u128; 23] = {
    let mut t = [1u128; 23];
    let mut k = 1;
    while k < 23 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// For `k` in 1..=22: `5^-k` to 128 significant bits, rounded down, as
/// `⌊2^(127 + L) / 5^k⌋` with `L` the bit length of `5^k` (so that it lies
/// in `[2^127, 2^128)`), and `L`. Computed at compile time by long division.
const FIVE_INVERSE: [(u128, u32); 23] = {
    let mut t = [(0u128, 0u32); 23];
    let mut k = 1;
    while k < 23 {
        let d = POW10_WIDE[k] >> k; // 5^k
        let l = 128 - d.leading_zeros();
        // 2^(127 + l) / d, one bit at a time from the leading 1.
        let (mut r, mut q) = (1u128, 0u128);
        let mut i = 0;
        while i < 127 + l {
            r <<= 1;
            q <<= 1;
            if r >= d {
                r -= d;
                q |= 1;
            }
            i += 1;
        }
        t[k] = (q, l);
        k += 1;
    }
    t
};

/// `m · 10^q` rounded to the nearest `f64`, from the digits, for the scales
/// Clinger's fast path leaves (`m` beyond 2^53): an exact `u128` product
/// and one rounding for `0 <= q <= 21`, [`divide_by_pow10_fast`] (else the
/// exact division) for `-22 <= q < 0`. `None` outside those scales.
#[inline]
fn scaled(m: u64, q: i32) -> Option<f64> {
    match q {
        // m < 2^64 and 10^21 < 2^70: the product fits; `as` rounds to
        // nearest, ties to even.
        0..=21 => Some((u128::from(m) * POW10_WIDE[q as usize]) as f64),
        -22..=-1 => {
            let k = q.unsigned_abs();
            divide_by_pow10_fast(m, k).or_else(|| divide_by_pow10(m, k))
        }
        _ => None,
    }
}

/// `m / 10^k` rounded to the nearest `f64`, for `1 <= k <= 22`, by one
/// multiplication: `m / 10^k = m · 2^-k · 5^-k` with `5^-k` from
/// [`FIVE_INVERSE`] (the Eisel-Lemire method, on the few scales needed
/// here). The table's truncation makes the 128-bit product at most 2 units
/// of its last place short, so the top 54 bits (mantissa and rounding bit)
/// are certain unless the 74 bits below them are all zero or within 8 of
/// all ones: then `None` (ties, and the rare near-ties, go to the exact
/// division). Otherwise those bits are not all zero, so the value is not a
/// tie and the rounding bit alone decides.
#[inline]
fn divide_by_pow10_fast(m: u64, k: u32) -> Option<f64> {
    let &(inverse, l) = FIVE_INVERSE.get(k as usize)?;
    if m == 0 || k == 0 {
        return None;
    }
    let lz = m.leading_zeros();
    let w = u128::from(m << lz);
    // The top 128 of the 192 bits of w · inverse (at least 2^126).
    let upper = w * (inverse >> 64) + ((w * (inverse & u128::from(u64::MAX))) >> 64);
    let z = upper.leading_zeros();
    let n = upper << z;
    const LOW: u128 = (1 << 74) - 1;
    let below = n & LOW;
    if below == 0 || below > LOW - 8 {
        return None;
    }
    let top = (n >> 74) as u64;
    let mantissa = (top >> 1) + (top & 1);
    // n's bit 127 is worth 2^(64 - lz - k - l - z), the mantissa's unit
    // 2^(12 - lz - k - l - z): between 2^-126 and 2^12, a normal scale.
    let exponent = 12 - (lz + k + l + z) as i32;
    Some(mantissa as f64 * f64::from_bits(((1023 + exponent) as u64) << 52))
}

/// `m / 10^k` rounded to the nearest `f64` (ties to even), for `m` of at
/// most 17 digits (below 2^57) and `1 <= k <= 19`, in integer arithmetic:
/// the quotient is taken to 55 or 56 bits in `u128` and rounded once, with
/// the remainder as the sticky bit: exact, and slower than
/// [`divide_by_pow10_fast`], whose ties and near-ties it settles.
fn divide_by_pow10(m: u64, k: u32) -> Option<f64> {
    if m == 0 || m >= 1 << 57 || !(1..=19).contains(&k) {
        return None;
    }
    let p = 10u64.pow(k);
    let bits = |x: u64| 64 - x.leading_zeros();
    // `m < 2^57` and `p >= 10`, so the shift is at least 2 and `m << s`
    // has `55 + bits(p) <= 119` bits.
    let s = 55 + bits(p) - bits(m).min(55 + bits(p));
    let n = u128::from(m) << s;
    let (quotient, remainder) = (n / u128::from(p), n % u128::from(p));
    let width = 128 - quotient.leading_zeros();
    let extra = width.saturating_sub(53);
    if extra == 0 {
        return None;
    }
    let mut mantissa = (quotient >> extra) as u64;
    let low = quotient & ((1u128 << extra) - 1);
    let half = 1u128 << (extra - 1);
    if low > half || (low == half && (remainder != 0 || mantissa & 1 == 1)) {
        mantissa += 1;
    }
    // mantissa <= 2^53 is exact, and the scale is a power of two in the
    // normal range (the value is at least 2^53 / 10^19 > 2^-11).
    let exponent = extra as i32 - s as i32;
    Some(mantissa as f64 * f64::from_bits(((1023 + exponent) as u64) << 52))
}

/// A literal's significant digits, read in one pass: `|value| = m · 10^q`
/// with `m` of `len` digits (no leading or trailing zeros; `len` 0 for
/// zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    m: u64,
    len: usize,
    q: i64,
}

/// The eight bytes at `j` as a number if they are all ASCII digits.
#[inline(always)]
fn eight_digits(b: &[u8], j: usize) -> Option<u64> {
    let chunk: [u8; 8] = b.get(j..j.checked_add(8)?)?.try_into().ok()?;
    swar_digits(u64::from_le_bytes(chunk))
}

/// The last `r` bytes of `b` (`1 <= r < 8`, `b` at least 8 long) as a
/// number if they are all ASCII digits: the eight last bytes are loaded
/// and the ones before the `r` read as leading zeros.
#[inline(always)]
fn last_digits(b: &[u8], r: usize) -> Option<u64> {
    let start = b.len().checked_sub(8)?;
    let chunk: [u8; 8] = b.get(start..)?.try_into().ok()?;
    // The first bytes are the low ones (little endian).
    let keep = u64::MAX.checked_shl(8 * (8 - r as u32))?;
    swar_digits((u64::from_le_bytes(chunk) & keep) | (THREES & !keep))
}

/// Eight ASCII zeros in one word.
const THREES: u64 = 0x3030_3030_3030_3030;

/// Eight bytes (the first one lowest) as a number if they are all ASCII
/// digits, the first one most significant.
#[inline(always)]
fn swar_digits(v: u64) -> Option<u64> {
    // A byte is a digit iff its high nibble is 3 and adding 6 keeps it 3
    // (adding 6 to a digit never carries into the next byte).
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    if (v & HIGH) != THREES || (v.wrapping_add(0x0606_0606_0606_0606) & HIGH) != THREES {
        return None;
    }
    // Pairs, quads, then the eight digits.
    let v = v - THREES;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF)
}

/// Up to this many digits from the first nonzero one go into `m` (19
/// digits always fit a `u64`).
const TAKEN: u32 = 19;

/// The digits of a literal read so far (see [`Decimal::scan`]).
struct DigitRun {
    m: u64,
    /// Digits in `m`, counted from the first nonzero one.
    taken: u32,
    q: i64,
}

impl DigitRun {
    /// Reads the run of digits at `i` (the integer part, or the fraction
    /// when `FRACTION`) and returns where it ends; `None` when a nonzero
    /// digit comes after `TAKEN` ones (more than 17 significant digits).
    ///
    /// Every fraction digit moves the scale down by one; a digit past
    /// `TAKEN` (a zero, else `None`) is left out of `m` and moves it back
    /// up. Leading zeros only move the scale; from the first nonzero digit
    /// on, runs of eight digits are taken at once, then a run of fewer that
    /// ends the text (a coordinate's last fraction digits) in one more
    /// step, and what is left one digit at a time.
    #[inline(always)]
    fn digits<const FRACTION: bool>(&mut self, body: &[u8], mut i: usize) -> Option<usize> {
        let step: i64 = if FRACTION { -1 } else { 0 };
        if self.m == 0 {
            while body.get(i) == Some(&b'0') {
                self.q += step;
                i += 1;
            }
        }
        // The next byte is a nonzero digit or `m` is nonzero: every digit
        // from here on counts.
        while self.taken + 8 <= TAKEN
            && let Some(v) = eight_digits(body, i)
        {
            self.m = self.m * 100_000_000 + v;
            self.taken += 8;
            self.q += 8 * step;
            i += 8;
        }
        let rest = body.len().saturating_sub(i);
        if (1..8).contains(&rest)
            && self.taken + rest as u32 <= TAKEN
            && let Some(v) = last_digits(body, rest)
        {
            self.m = self.m * POW10_U64[rest] + v;
            self.taken += rest as u32;
            self.q += rest as i64 * step;
            return Some(body.len());
        }
        loop {
            let Some(d) = body
                .get(i)
                .map(|c| c.wrapping_sub(b'0'))
                .filter(|d| *d < 10)
            else {
                return Some(i);
            };
            self.q += step;
            if self.m != 0 || d != 0 {
                if self.taken < TAKEN {
                    self.m = self.m * 10 + u64::from(d);
                    self.taken += 1;
                } else if d == 0 {
                    self.q += 1;
                } else {
                    return None;
                }
            }
            i += 1;
        }
    }
}

/// Powers of ten below 10^8 as `u64`.
const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Per byte of `v` (the first byte lowest), a nonzero byte where it is
/// not an ASCII digit. Only the lowest flagged byte is certain: adding 6
/// to a byte of 0xFA or more carries into the next one, and such a byte is
/// flagged by its high nibble already.
#[inline(always)]
fn non_digits(v: u64) -> u64 {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    ((v & HIGH) ^ THREES) | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ THREES)
}

/// Powers of ten to 10^16 as `u64`.
const POW10_U64_WIDE: [u64; 17] = {
    let mut t = [1u64; 17];
    let mut k = 1;
    while k < 17 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

impl Decimal {
    /// `None` when the literal has more than 17 significant digits (never
    /// comparable; then `m` would not be needed, nor fit).
    #[inline]
    fn scan(text: &[u8]) -> Option<Decimal> {
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        if let Some(decided) = Decimal::scan_positional(negative, body) {
            return decided;
        }
        Decimal::scan_general(negative, body)
    }

    /// The common shape of coordinates and prices, `D.F` with 1 to 7
    /// integer digits, 1 to 16 fraction digits and 19 digits at most, no
    /// exponent, at least 8 bytes (or an 8-digit integer): read in a few
    /// eight-byte steps, without the digit loop. `None` for every other
    /// shape (the general scan reads it); else the general scan's result.
    #[inline(always)]
    fn scan_positional(negative: bool, body: &[u8]) -> Option<Option<Decimal>> {
        let head: [u8; 8] = body.get(..8)?.try_into().ok()?;
        let head = u64::from_le_bytes(head);
        // The integer part ends at the first byte that is not a digit.
        let p = (non_digits(head).trailing_zeros() / 8) as usize;
        let (mut m, mut q) = if p == 8 {
            if body.len() != 8 {
                return None;
            }
            (swar_digits(head)?, 0i64)
        } else {
            if p == 0 || body.get(p) != Some(&b'.') {
                return None;
            }
            let fraction = body.len() - p - 1;
            if fraction == 0 || fraction > 16 || p + fraction > 19 {
                return None;
            }
            // The integer digits moved to the high (least significant)
            // bytes, ASCII zeros before them.
            let shift = 8 * (8 - p as u32);
            let int = swar_digits((head << shift) | (THREES >> (64 - shift)))?;
            let frac = if fraction <= 8 {
                if fraction == 8 {
                    eight_digits(body, p + 1)?
                } else {
                    last_digits(body, fraction)?
                }
            } else {
                let high = eight_digits(body, p + 1)?;
                let rest = fraction - 8;
                let low = if rest == 8 {
                    eight_digits(body, p + 9)?
                } else {
                    last_digits(body, rest)?
                };
                high * POW10_U64_WIDE[rest] + low
            };
            // At most 19 digits: below 10^19, so no overflow.
            (int * POW10_U64_WIDE[fraction] + frac, -(fraction as i64))
        };
        if m == 0 {
            return Some(Some(Decimal {
                negative: false,
                m: 0,
                len: 0,
                q: 0,
            }));
        }
        while m.is_multiple_of(10) {
            m /= 10;
            q += 1;
        }
        let len = m.ilog10() as usize + 1;
        Some((len <= 17).then_some(Decimal {
            negative,
            m,
            len,
            q,
        }))
    }

    /// [`Decimal::scan`] for every shape, on the text after its sign.
    #[inline]
    fn scan_general(negative: bool, body: &[u8]) -> Option<Decimal> {
        // Up to `TAKEN` digits from the first nonzero one go into `m`
        // (trailing zeros included, stripped below); `q` tracks the scale.
        let mut run = DigitRun {
            m: 0,
            taken: 0,
            q: 0,
        };
        let mut i = run.digits::<false>(body, 0)?;
        if body.get(i) == Some(&b'.') {
            i = run.digits::<true>(body, i + 1)?;
        }
        let DigitRun {
            mut m,
            mut q,
            taken,
        } = run;
        if m == 0 {
            return Some(Decimal {
                negative: false,
                m: 0,
                len: 0,
                q: 0,
            });
        }
        if let Some(b'e' | b'E') = body.get(i) {
            let mut rest = body.get(i + 1..).unwrap_or_default();
            let mut negative_exp = false;
            if let Some((&sign @ (b'-' | b'+'), tail)) = rest.split_first() {
                negative_exp = sign == b'-';
                rest = tail;
            }
            let mut exponent: i64 = 0;
            for &c in rest {
                exponent = exponent
                    .saturating_mul(10)
                    .saturating_add(i64::from(c.wrapping_sub(b'0')));
            }
            q = q.saturating_add(if negative_exp { -exponent } else { exponent });
        }
        // `m` has `taken` digits; without its trailing zeros, `len`.
        let mut len = taken as usize;
        while m.is_multiple_of(10) {
            m /= 10;
            q = q.saturating_add(1);
            len -= 1;
        }
        if len > 17 {
            return None;
        }
        Some(Decimal {
            negative,
            m,
            len,
            q,
        })
    }
}

/// The decision of [`read`] for a literal of `significant` digits that
/// parses to `value`.
#[inline]
fn quick(value: f64, significant: usize) -> Quick {
    if !value.is_finite() {
        return Quick::Inexact;
    }
    // Zero is exact only when the literal is zero (`1e-400` underflows to it).
    if value == 0.0 {
        return if significant == 0 {
            Quick::Exact
        } else {
            Quick::Inexact
        };
    }
    // Subnormals print with fewer digits than the literal needs in the
    // reference implementation's formatter; they are never comparable there.
    if value.abs() < f64::MIN_POSITIVE {
        return Quick::Inexact;
    }
    // A decimal of at most 15 significant digits always survives the trip
    // through a (normal) f64 unchanged; one of more than 17 never equals a
    // shortest round-trip decimal. Only 16 and 17 digits need more.
    match significant {
        0..=15 => Quick::Exact,
        16 | 17 => Quick::Check,
        _ => Quick::Inexact,
    }
}

/// Whether the literal `text` is numerically equal to the shortest
/// round-trip decimal of `value` (which must be `text` parsed, and finite).
pub fn is_exact(text: &[u8], value: f64) -> bool {
    let Some(d) = Decimal::scan(text) else {
        return false;
    };
    decide(text, value, d)
}

/// [`is_exact`] for a literal already scanned as `s` (no second scan of
/// the text).
#[inline]
pub fn is_exact_read(text: &[u8], value: f64, s: Significand) -> bool {
    let d = Decimal {
        negative: s.negative,
        m: s.m,
        len: usize::from(s.len),
        q: i64::from(s.q),
    };
    decide(text, value, d)
}

/// The exactness of `text`, scanned as `d`, parsed as `value`.
fn decide(text: &[u8], value: f64, d: Decimal) -> bool {
    match quick(value, d.len) {
        Quick::Exact => return true,
        Quick::Inexact => return false,
        Quick::Check => {}
    }
    if let Some(exact) = exact_by_decimal(d, value) {
        return exact;
    }
    let shape = LiteralShape::of(text);
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(value).as_bytes();
    if !shape.exponent {
        let s = LiteralShape::of(shortest);
        if !s.exponent {
            // Both in positional notation: equal values have equal text once
            // trailing fraction zeros (and a bare point) are trimmed.
            return text[..shape.trimmed] == shortest[..s.trimmed];
        }
    }
    same_decimal(text, shortest)
}

/// Decides exactness of a 16- or 17-digit literal `D` without formatting,
/// in integer arithmetic, for the common shapes (a fraction, magnitude below
/// 2^53, `v = value` a normal float not a power of two): `None` when it
/// cannot decide (then ryu does).
///
/// `D` (n digits, it rounds to `v`) equals the shortest round-trip decimal of
/// `v` iff no decimal of fewer digits lies in `v`'s rounding interval
/// (`v ± ulp/2`) and `D` is the n-digit decimal closest to `v`. Only the two
/// (n−1)-digit neighbours of `D` need checking: the interval is contiguous
/// and contains `D`. Both tests compare exact integers after scaling by
/// `10^-q · 2^-e` (`D = m·10^q`, `v = M·2^e`); a tie on either bound is
/// left to ryu.
#[cfg(test)]
fn exact_by_integers(text: &[u8], value: f64) -> Option<bool> {
    exact_by_decimal(Decimal::scan(text)?, value)
}

/// [`exact_by_integers`] for an already scanned literal.
fn exact_by_decimal(d: Decimal, value: f64) -> Option<bool> {
    if !(16..=17).contains(&d.len) {
        return None;
    }
    let (m, q) = (d.m, d.q);
    let bits = value.abs().to_bits();
    let biased = (bits >> 52) as i64;
    let fraction = bits & ((1 << 52) - 1);
    if biased == 0 || fraction == 0 {
        // Subnormal, or a power of two (its interval is asymmetric).
        return None;
    }
    let big_m = u128::from(fraction | (1 << 52));
    let e = biased - 1075;
    if q >= 0 || e >= 0 || -q > 22 || -e > 69 {
        return None;
    }
    let ten = POW10_WIDE[(-q) as usize]; // the scaled ulp
    let shift = (-e) as u32;
    let v = big_m.checked_mul(ten)?;
    let at = |c: u64| -> Option<u128> { u128::from(c).checked_shl(shift) };
    // D closest among n-digit decimals: |D − v| < 10^q / 2.
    let twice = 2 * at(m)?.abs_diff(v);
    // One step of the n-digit grid, 10^q, scaled: 2^-e.
    let unit = 1u128.checked_shl(shift)?;
    if twice == unit {
        return None;
    }
    if twice > unit {
        return Some(false);
    }
    // No (n−1)-digit decimal within ulp/2 of v.
    let below = m / 10 * 10;
    for c in [below, below + 10] {
        let twice = 2 * at(c)?.abs_diff(v);
        if twice == ten {
            return None;
        }
        if twice < ten {
            return Some(false);
        }
    }
    Some(true)
}

/// What the ryu fallback needs of a literal: whether it has an exponent,
/// and its length without trailing fraction zeros.
struct LiteralShape {
    exponent: bool,
    trimmed: usize,
}

impl LiteralShape {
    fn of(text: &[u8]) -> LiteralShape {
        let mut point = None;
        let mut last_nonzero_at = 0;
        let mut exponent = false;
        for (i, &c) in text.iter().enumerate() {
            if c.is_ascii_digit() {
                if c != b'0' {
                    last_nonzero_at = i;
                }
            } else if c == b'.' {
                point = Some(i);
            } else if c == b'e' || c == b'E' {
                exponent = true;
                break;
            }
        }
        let trimmed = match point {
            // Keep the integer part whole; drop fraction zeros and a bare point.
            Some(p) if !exponent => (last_nonzero_at + 1).max(p),
            _ => text.len(),
        };
        LiteralShape { exponent, trimmed }
    }
}

/// Significant digits a decimal may have here: more than a shortest
/// round-trip `f64` ever has (17), so longer literals are simply "too long".
const MAX_DIGITS: usize = 24;

/// A decimal literal in canonical form, read in one pass without
/// allocating (this runs on the matching path): the value is
/// `0.DDD… × 10^scale`, with DDD the significant digits (no leading or
/// trailing zeros).
#[derive(PartialEq, Eq, Debug)]
struct Digits {
    negative: bool,
    len: usize,
    digits: [u8; MAX_DIGITS],
    scale: i64,
}

impl Digits {
    /// `None` if the literal has more than `MAX_DIGITS` significant digits
    /// before its trailing zeros.
    fn of(text: &[u8]) -> Option<Digits> {
        let mut d = Digits {
            negative: false,
            len: 0,
            digits: [0; MAX_DIGITS],
            scale: 0,
        };
        let mut i = 0;
        if text.first() == Some(&b'-') {
            d.negative = true;
            i = 1;
        }
        // Digits seen before the point, minus leading zeros; and zeros seen
        // after the last significant digit (dropped unless more digits follow).
        let mut int_digits: i64 = 0;
        let mut leading_zeros: i64 = 0;
        let mut pending_zeros = 0usize;
        let mut in_fraction = false;
        while i < text.len() {
            let c = text[i];
            if c.is_ascii_digit() {
                if !in_fraction {
                    int_digits += 1;
                }
                if c == b'0' {
                    if d.len == 0 {
                        leading_zeros += 1;
                    } else {
                        pending_zeros += 1;
                    }
                } else {
                    if d.len + pending_zeros >= MAX_DIGITS {
                        return None;
                    }
                    // The array is zero-filled, so pending zeros are already there.
                    d.len += pending_zeros;
                    pending_zeros = 0;
                    d.digits[d.len] = c;
                    d.len += 1;
                }
            } else if c == b'.' {
                in_fraction = true;
            } else if c == b'e' || c == b'E' {
                break;
            }
            i += 1;
        }
        if d.len == 0 {
            d.negative = false;
            return Some(d);
        }
        let mut exponent: i64 = 0;
        if i < text.len() {
            let mut negative_exp = false;
            for &c in &text[i + 1..] {
                if c == b'-' {
                    negative_exp = true;
                } else if c.is_ascii_digit() {
                    exponent = exponent
                        .saturating_mul(10)
                        .saturating_add(i64::from(c - b'0'));
                }
            }
            if negative_exp {
                exponent = -exponent;
            }
        }
        d.scale = int_digits
            .saturating_sub(leading_zeros)
            .saturating_add(exponent);
        Some(d)
    }
}

fn same_decimal(a: &[u8], b: &[u8]) -> bool {
    matches!((Digits::of(a), Digits::of(b)), (Some(x), Some(y)) if x == y)
}

/// Maps an `f64` to a `u64` whose unsigned order is the numeric order.
pub fn ordered(value: f64) -> u64 {
    let value = if value == 0.0 { 0.0 } else { value };
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Coordinates, prices and 8-digit integers take the positional fast
    /// path with the general scan's result; short literals, exponents and
    /// 8 or more integer digits before a point are left to the general one.
    #[test]
    fn the_positional_scan_takes_the_common_shapes() {
        for (text, taken) in [
            ("37.807807921694092", true),
            ("-122.41826172281541", true),
            ("37.80780792169409", true),
            ("1234567.123456789012", true),
            ("0.0000000000000001", true),
            ("-0.00000000", true),
            ("10.000000", true),
            ("12345678", true),
            ("1.234567890123456789", false),
            ("0.5", false),
            ("37.8e-1000", false),
            ("12345678.5", false),
            ("123456789", false),
            ("1.23456789012345678", false),
            ("12.3456789012345678", true),
            ("37.80780792169409x", false),
        ] {
            let (negative, body) = match text.as_bytes().split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, text.as_bytes()),
            };
            let fast = Decimal::scan_positional(negative, body);
            assert_eq!(fast.is_some(), taken, "{text}");
            if let Some(fast) = fast {
                assert_eq!(fast, Decimal::scan_general(negative, body), "{text}");
            }
        }
    }

    #[test]
    fn equal_spellings_are_comparable() {
        for text in ["300", "300.0", "3e2", "3.0E2", "30000e-2", "3.00e+2"] {
            assert_eq!(comparable(text.as_bytes()), Some(300.0), "{text}");
        }
        assert_eq!(comparable(b"-0"), Some(0.0));
        assert_eq!(comparable(b"-0.0").map(f64::to_bits), Some(0));
        assert_eq!(comparable(b"0.1"), Some(0.1));
        assert_eq!(comparable(b"1e23"), Some(1e23));
    }

    #[test]
    fn too_precise_or_out_of_range_is_not_comparable() {
        for text in [
            "0.10000000000000001",
            "300.0000000000000001",
            "9007199254740993",
            "123456789012345678",
            "1e400",
            "5e-324",
            "1E-325",
            "1e-400",
            "-1e-400",
            "12345678901234567890",
        ] {
            assert_eq!(comparable(text.as_bytes()), None, "{text}");
        }
        assert_eq!(comparable(b"9007199254740992"), Some(9007199254740992.0));
        assert_eq!(
            comparable(b"1.000000000000000000000000000000000000000000000"),
            Some(1.0)
        );
        assert_eq!(
            comparable(b"100000000000000000000000000000000000000000000000"),
            Some(1e47)
        );
        assert_eq!(
            comparable(b"0.000000000000000000000000000000000000000000000001"),
            Some(1e-48)
        );
        assert_eq!(
            comparable(b"1.0000000000000000000000000000000000000000000001"),
            None
        );
    }

    #[test]
    fn exactness_agrees_between_fast_and_slow_paths() {
        for text in [
            "37.807807921694092",
            "37.80780792169409",
            "-122.47335197312836",
            "-122.473374783683923",
            "37.721683105568971",
            "0.30000000000000004",
            "0.3000000000000000444",
            "1.7976931348623157e308",
            "17976931348623157e292",
            "123456789012345680",
            "1234567890123456.0",
        ] {
            let value: f64 = text.parse().unwrap();
            let mut buf = ryu::Buffer::new();
            let slow = same_decimal(text.as_bytes(), buf.format_finite(value).as_bytes());
            assert_eq!(is_exact(text.as_bytes(), value), slow, "{text}");
        }
    }

    /// The integer test agrees with ryu on many 16- and 17-digit literals:
    /// shortest forms of random floats (exact) and their digit neighbours.
    #[test]
    fn the_integer_exactness_test_agrees_with_ryu() {
        let mut next = crate::util::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut decided = 0;
        for i in 0..200_000 {
            // Magnitudes from 1e-6 to 1e12, coordinates in between.
            let mantissa = (next() >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((next() % 19) as i32 - 6);
            let value = if i % 2 == 0 {
                mantissa * scale
            } else {
                -mantissa * scale
            };
            let mut buf = ryu::Buffer::new();
            let shortest = buf.format_finite(value).to_string();
            let mut candidates = vec![shortest.clone()];
            // 17-digit spellings near it: change the last digit.
            let digits = format!("{:.*e}", 16, value.abs());
            for delta in [-2i64, -1, 1, 2] {
                let (mant, exp) = digits.split_once('e').unwrap();
                let body: String = mant.chars().filter(|c| *c != '.').collect();
                let n: i64 = body.parse().unwrap();
                let changed = format!("{}e{}", n + delta, exp.parse::<i64>().unwrap() - 16);
                candidates.push(changed);
            }
            for text in candidates {
                let Ok(v) = text.parse::<f64>() else { continue };
                if v == 0.0 || !v.is_finite() || v.abs() < f64::MIN_POSITIVE {
                    continue;
                }
                let mut b2 = ryu::Buffer::new();
                let slow = same_decimal(text.as_bytes(), b2.format_finite(v).as_bytes());
                if let Some(fast) = exact_by_integers(text.as_bytes(), v) {
                    decided += 1;
                    assert_eq!(fast, slow, "{text}");
                }
                assert_eq!(is_exact(text.as_bytes(), v), slow, "{text}");
            }
        }
        assert!(decided > 100_000, "the integer test decided only {decided}");
    }

    /// The integer division agrees with the standard library's parse on
    /// random significands of 1 to 17 digits and every scale it takes,
    /// ties included (odd multiples of a half ulp are spelled exactly).
    #[test]
    fn the_division_by_powers_of_ten_rounds_as_the_standard_library() {
        let mut next = crate::util::test_rng::xorshift(0x243F_6A88_85A3_08D3);
        for i in 0..300_000u64 {
            let digits = 1 + (i % 17) as u32;
            let m = next() % 10u64.pow(digits) + u64::from(i % 2 == 0) * 10u64.pow(digits - 1);
            let m = m.min(10u64.pow(17) - 1).max(1);
            let k = 1 + (next() % 19) as u32;
            let text = format!("{m}e-{k}");
            let want: f64 = text.parse().unwrap();
            assert_eq!(
                divide_by_pow10(m, k).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
        // Exact ties: `t · 5^k / 10^k = t / 2^k`, with `t` odd and of 54
        // bits, lies halfway between two doubles.
        let mut ties = 0;
        for t in [
            (1u64 << 53) + 1,
            (1 << 53) + 3,
            (1 << 53) + 5,
            (1 << 53) + 7,
        ] {
            for k in 1..=19u32 {
                let Some(m) = 5u64.checked_pow(k).and_then(|p| p.checked_mul(t)) else {
                    continue;
                };
                if m >= 10u64.pow(17) {
                    continue;
                }
                ties += 1;
                let text = format!("{m}e-{k}");
                let want: f64 = text.parse().unwrap();
                assert_eq!(
                    divide_by_pow10(m, k).map(f64::to_bits),
                    Some(want.to_bits()),
                    "{text}"
                );
            }
        }
        assert!(ties >= 4);
        assert_eq!(divide_by_pow10(0, 3), None);
        assert_eq!(divide_by_pow10(5, 0), None);
    }

    /// The conversion from the digits beyond Clinger's fast path (one
    /// multiplication for negative scales, the exact product for positive
    /// ones) agrees with the standard library's parse on random
    /// significands of every length and every scale it takes; where the
    /// multiplication declines, the exact division answers.
    #[test]
    fn the_conversion_from_digits_rounds_as_the_standard_library() {
        let mut next = crate::util::test_rng::xorshift(0x1319_8A2E_0370_7344);
        let mut declined = 0;
        for i in 0..400_000u64 {
            let m = match i % 4 {
                // 17-digit significands above 2^53 (coordinates).
                0 => (1u64 << 53) + next() % (10u64.pow(17) - (1 << 53)),
                1 => next() >> (next() % 64),
                2 => next(),
                _ => next() % 10u64.pow(1 + (i % 19) as u32),
            }
            .max(1);
            let q = (next() % 44) as i32 - 22;
            let text = format!("{m}e{q}");
            let want: f64 = text.parse().unwrap();
            if m < 10u64.pow(17) {
                // What `convert` passes: at most 17 digits.
                assert_eq!(
                    scaled(m, q).map(f64::to_bits),
                    Some(want.to_bits()),
                    "{text}"
                );
            }
            if q < 0 {
                match divide_by_pow10_fast(m, q.unsigned_abs()) {
                    Some(v) => assert_eq!(v.to_bits(), want.to_bits(), "{text}"),
                    // Exact binary fractions (`5^k` divides `m`) may be ties.
                    None if m % 5u64.pow(q.unsigned_abs().min(27)) != 0 => declined += 1,
                    None => {}
                }
            }
        }
        // Declining is for ties, exact binary fractions and near-ties only.
        assert!(declined < 100, "declined {declined}");
        // Exact ties (`t · 5 / 10`, `t` odd of 54 bits) are declined, and
        // the division rounds them to even.
        for t in [(1u64 << 53) + 1, (1 << 53) + 3, (1 << 53) + 5] {
            let m = t * 5;
            assert_eq!(divide_by_pow10_fast(m, 1), None, "{m}");
            let want: f64 = format!("{m}e-1").parse().unwrap();
            assert_eq!(scaled(m, -1).map(f64::to_bits), Some(want.to_bits()));
        }
        assert_eq!(scaled(5, 22), None);
        assert_eq!(scaled(5, -23), None);
        assert_eq!(divide_by_pow10_fast(0, 3), None);
        assert_eq!(divide_by_pow10_fast(5, 0), None);
        assert_eq!(divide_by_pow10_fast(5, 23), None);
        // The table: ⌊2^(127 + L) / 5^k⌋, checked by its defining
        // inequality 5^k · t < 2^(127 + L) < 5^k · (t + 1) (never equal:
        // 5^k is odd), comparing the bits above 2^128 of the products.
        for (k, &(t, l)) in FIVE_INVERSE.iter().enumerate().skip(1) {
            let d = 5u128.pow(k as u32);
            assert_eq!(l, 128 - d.leading_zeros());
            assert_eq!(t >> 127, 1, "{k}");
            let above_128 = |t: u128| {
                let low = u128::from(u64::MAX);
                (d * (t >> 64) + ((d * (t & low)) >> 64)) >> 64
            };
            assert!(above_128(t) < 1 << (l - 1), "{k}");
            assert!(above_128(t + 1) >= 1 << (l - 1), "{k}");
        }
    }

    #[test]
    fn the_fast_parse_agrees_with_the_standard_library() {
        for text in [
            "0",
            "-0",
            "1",
            "-1",
            "300",
            "3e2",
            "3.0E2",
            "30000e-2",
            "3.00e+2",
            "0.1",
            "-2.5e-3",
            "9007199254740992",
            "9007199254740993",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "123.456",
            "37.80780792169409",
            "-122.41",
            "0.000001",
            "4.35",
            "1e400",
            "1e-400",
            "0e999",
            "12345678901234567890",
            "1.7976931348623157e308",
            "5e-324",
            "2.5E+10",
            "1E0",
        ] {
            let want: f64 = text.parse().unwrap();
            let want = if want == 0.0 { 0.0 } else { want };
            assert_eq!(
                parse_any(text.as_bytes()).to_bits(),
                want.to_bits(),
                "{text}"
            );
        }
        assert!(parse_any(b"x").is_nan());
    }

    /// An exponent beyond `i64` saturates the scale, and the trailing zeros
    /// stripped after it must not overflow it (a fuzz finding: `q += 1`
    /// overflowed in debug builds). Such literals are out of range: never
    /// exact, never a finite value.
    #[test]
    fn exponents_beyond_i64_saturate_and_are_out_of_range() {
        let huge = "9".repeat(40);
        for text in [
            format!("-1010000000020010e{huge}"),
            format!("10e{huge}"),
            format!("10e-{huge}"),
            format!("1.50e+{huge}"),
        ] {
            let d = Decimal::scan(text.as_bytes());
            assert!(d.is_some_and(|d| d.q.abs() > i64::MAX / 2), "{text}");
            assert_eq!(scan(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn same_decimal_ignores_spelling() {
        assert!(same_decimal(b"300", b"3e2"));
        assert!(same_decimal(b"0.0300", b"3e-2"));
        assert!(same_decimal(b"-1.50", b"-15E-1"));
        assert!(!same_decimal(b"1.5", b"-1.5"));
        assert!(!same_decimal(b"1.5", b"15"));
        assert!(same_decimal(b"0", b"-0.000"));
        assert!(!same_decimal(b"0", b"0.1"));
        assert!(!same_decimal(b"1.2", b"1.21"));
    }

    #[test]
    fn ordered_preserves_order() {
        let values = [-1e300, -5.5, -1.0, -1e-300, 0.0, 1e-300, 1.0, 2.5, 1e300];
        for pair in values.windows(2) {
            assert!(ordered(pair[0]) < ordered(pair[1]), "{pair:?}");
        }
        assert_eq!(ordered(-0.0), ordered(0.0));
    }
}

/// The fast path of [`read`] (digit count and exponent first, the full test
/// only for 16 and 17 digits) against the full check it replaces: convert,
/// format the shortest round trip with ryu, compare the decimals.
#[cfg(test)]
mod fast_path_properties {
    use super::*;
    use proptest::prelude::*;

    /// The full check, as the reference implementation defines it.
    fn full(text: &str) -> bool {
        let Ok(v) = text.parse::<f64>() else {
            return false;
        };
        if !v.is_finite() || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
            return false;
        }
        let mut buf = ryu::Buffer::new();
        same_decimal(text.as_bytes(), buf.format_finite(v).as_bytes())
    }

    /// What matching decides: `read`, then `is_exact` only when asked to.
    fn fast(text: &str) -> bool {
        match read(text.as_bytes()) {
            (_, Quick::Exact) => true,
            (_, Quick::Inexact) => false,
            (v, Quick::Check) => {
                let again = is_exact(text.as_bytes(), v);
                let kept = scan(text.as_bytes()).unwrap_or_default();
                assert_eq!(is_exact_read(text.as_bytes(), v, kept), again, "{text}");
                again
            }
        }
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(fast(text), full(text), "{}", text);
        let (v, q) = read(text.as_bytes());
        if q != Quick::Inexact {
            prop_assert_eq!(
                v.to_bits(),
                parse_any(text.as_bytes()).to_bits(),
                "{}",
                text
            );
        }
        Ok(())
    }

    /// A literal spelling `digits` (significant digits, no sign) with the
    /// point after `point` of them, `zeros` leading fraction zeros when the
    /// point comes first, trailing zeros, and an exponent.
    fn spell(
        negative: bool,
        digits: &str,
        point: usize,
        lead: usize,
        trail: usize,
        exponent: Option<i32>,
    ) -> String {
        let mut s = String::new();
        if negative {
            s.push('-');
        }
        let point = point.min(digits.len());
        if point == 0 {
            s.push_str("0.");
            s.push_str(&"0".repeat(lead));
            s.push_str(digits);
        } else {
            s.push_str(&digits[..point]);
            if point < digits.len() || trail > 0 {
                s.push('.');
                s.push_str(&digits[point..]);
            }
        }
        s.push_str(&"0".repeat(trail));
        if let Some(e) = exponent {
            s.push_str(&format!("e{e}"));
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// JSON number literals of any shape: up to 40 digits, exponents,
        /// leading and trailing zeros, `-0`.
        #[test]
        fn any_literal(text in "-?(0|[1-9][0-9]{0,39})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?") {
            check(&text)?;
        }

        /// The scan (leading zeros, eight-digit steps, the tail that ends
        /// the text, single digits) finds the significand that the plain
        /// digit-by-digit reading of `Digits` does: the same digits and
        /// scale, `None` for more than 17 significant digits.
        #[test]
        fn the_scan_reads_the_digits_a_plain_reading_does(
            text in "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?",
        ) {
            let want = Digits::of(text.as_bytes()).filter(|d| d.len <= 17).map(|d| {
                let m = d.digits[..d.len]
                    .iter()
                    // Inner zeros are stored as 0, other digits in ASCII.
                    .fold(0u64, |m, c| m * 10 + u64::from(c.saturating_sub(b'0')));
                let q = if d.len == 0 { 0 } else { d.scale - d.len as i64 };
                (d.negative && d.len > 0, m, d.len, q)
            });
            let got = Decimal::scan(text.as_bytes()).map(|d| (d.negative, d.m, d.len, d.q));
            prop_assert_eq!(got, want, "{}", text);
        }

        /// The positional fast path (`D.F` of at most 19 digits, 8-digit
        /// integers) reads what the general scan reads, and leaves every
        /// other shape to it: leading and trailing zeros, zero, signs, 16
        /// fraction digits, 8 integer digits, exponents and stray bytes.
        #[test]
        fn the_positional_scan_agrees_with_the_general_one(
            text in "-?[0-9]{1,9}(\\.[0-9]{0,17})?([eE][+-]?[0-9]{1,2}|[.x-])?",
        ) {
            let (negative, body) = match text.as_bytes().split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, text.as_bytes()),
            };
            if let Some(fast) = Decimal::scan_positional(negative, body) {
                prop_assert_eq!(fast, Decimal::scan_general(negative, body), "{}", text);
            }
        }

        /// Equal significands are exactly equal comparable values: what
        /// the lookup of exact numbers by significand relies on. Pairs of
        /// literals that are respellings of one another (or not).
        #[test]
        fn equal_significands_are_equal_comparable_values(
            a in "-?(0|[1-9][0-9]{0,18})(\\.[0-9]{1,19})?([eE][+-]?[0-9]{1,2})?",
            trail in 0usize..3,
            up in 0i32..3,
            other in "-?(0|[1-9][0-9]{0,18})(\\.[0-9]{1,19})?",
        ) {
            // `a` with trailing zeros (the same value), `a` scaled by
            // 10^-up (the same digits, another value), another literal.
            let (body, exp) = match a.find(['e', 'E']) {
                Some(i) => (&a[..i], a[i + 1..].parse::<i32>().unwrap_or(0)),
                None => (a.as_str(), 0),
            };
            let frac = if body.contains('.') { String::new() } else { ".".to_string() };
            let respelled = format!("{body}{frac}{}e{}", "0".repeat(trail), exp);
            let moved = format!("{body}{frac}e{}", exp - up);
            for b in [respelled.as_str(), moved.as_str(), other.as_str(), a.as_str()] {
                let by_digits = match (scan(a.as_bytes()), scan(b.as_bytes())) {
                    (Some(x), Some(y)) => x == y && comparable(a.as_bytes()).is_some(),
                    _ => false,
                };
                let by_value = match (comparable(a.as_bytes()), comparable(b.as_bytes())) {
                    (Some(x), Some(y)) => x == y,
                    _ => false,
                };
                prop_assert_eq!(by_digits, by_value, "{} vs {}", a, b);
            }
        }

        /// Runs of zeros and nines (carries, trailing zeros, 15/16/17/18
        /// digit boundaries) around the f64 range's edges.
        #[test]
        fn zeros_and_nines(
            text in "-?(0|[1-9][09]{0,24})(\\.[09]{1,30})?([eE][+-]?(30[0-9]|32[0-9]|[0-9]{1,2}))?"
        ) {
            check(&text)?;
        }

        /// Shortest spellings of random doubles (exact) and their 16- to
        /// 18-digit neighbours, respelled with zeros and exponents.
        #[test]
        fn doubles_and_neighbours(
            bits in any::<u64>(),
            delta in -3i64..=3,
            negative in any::<bool>(),
            point in 0usize..20,
            lead in 0usize..4,
            trail in 0usize..4,
            exponent in proptest::option::of(-330i32..330),
        ) {
            let v = f64::from_bits(bits);
            if !v.is_finite() {
                return Ok(());
            }
            let mut buf = ryu::Buffer::new();
            let shortest = buf.format_finite(v.abs());
            check(shortest)?;
            // The 17 significant digits of v, nudged.
            let seventeen = format!("{:.16e}", v.abs());
            let (mantissa, _) = seventeen.split_once('e').unwrap_or((&seventeen, "0"));
            let body: String = mantissa.chars().filter(|c| *c != '.').collect();
            let n: i64 = body.parse().unwrap_or(0);
            for digits in [
                (n + delta).max(0).to_string(),
                ((n + delta).max(0) / 10).to_string(),
                format!("{}{}", (n + delta).max(0), delta.rem_euclid(10)),
            ] {
                check(&spell(negative, &digits, point, lead, trail, exponent))?;
            }
        }
    }

    #[test]
    fn the_edges() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.000",
            "0e5",
            "0E-400",
            "1e-400",
            "-1e-400",
            "5e-324",
            "2.2250738585072014e-308",
            "2.2250738585072011e-308",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "1e308",
            "1e309",
            "1e23",
            "9007199254740992",
            "9007199254740993",
            "123456789012345",
            "1234567890123456",
            "12345678901234567",
            "123456789012345678",
            "0.000000000000000000000000000000123456789012345",
            "100000000000000000000000000000000000000000",
            "1.0000000000000000000000000",
            "1.00000000000000000000000001",
            "37.809747167642193",
            "-122.425212293228341",
        ] {
            check(text).map_err(|e| format!("{text}: {e}")).unwrap();
        }
    }
}
