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

/// Whether the literal `text` is numerically equal to the shortest
/// round-trip decimal of `value` (which must be `text` parsed).
pub fn is_exact(text: &[u8], value: f64) -> bool {
    // Subnormals print with fewer digits than the literal needs in the
    // reference implementation's formatter; they are never comparable there.
    if value != 0.0 && value.abs() < f64::MIN_POSITIVE {
        return false;
    }
    // A decimal of at most 15 significant digits always survives the trip
    // through a (normal) f64 unchanged; one of more than 17 never equals a
    // shortest round-trip decimal. Only 16 and 17 digits need ryu.
    match significant_digits(text) {
        0..=15 => return true,
        16 | 17 => {}
        _ => return false,
    }
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(value);
    same_decimal(text, shortest.as_bytes())
}

/// The number of significant digits of a literal (leading and trailing
/// zeros of the digit string excluded).
fn significant_digits(text: &[u8]) -> usize {
    let mut first = None;
    let mut last = 0;
    let mut n = 0;
    for &c in text {
        match c {
            b'0'..=b'9' => {
                if c != b'0' {
                    first.get_or_insert(n);
                    last = n;
                }
                n += 1;
            }
            b'e' | b'E' => break,
            _ => {}
        }
    }
    first.map_or(0, |f| last - f + 1)
}

/// Where a decimal literal's significant digits start, and its scale:
/// the value is `0.DDD… × 10^scale` with DDD the digits from `first` on.
struct Shape {
    negative: bool,
    zero: bool,
    first: usize,
    scale: i64,
}

fn shape(text: &[u8]) -> Shape {
    let negative = text.first() == Some(&b'-');
    let mut digits = 0i64;
    let mut int_digits: Option<i64> = None;
    let mut leading_zeros = 0i64;
    let mut first = None;
    let mut end = text.len();
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if first.is_none() {
                    if c == b'0' {
                        leading_zeros += 1;
                    } else {
                        first = Some(i);
                    }
                }
                digits += 1;
            }
            b'.' => int_digits = Some(digits),
            b'e' | b'E' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let mut exponent: i64 = 0;
    if end < text.len() {
        let mut negative_exp = false;
        for &c in &text[end + 1..] {
            match c {
                b'-' => negative_exp = true,
                b'0'..=b'9' => exponent = exponent.saturating_mul(10).saturating_add(i64::from(c - b'0')),
                _ => {}
            }
        }
        if negative_exp {
            exponent = -exponent;
        }
    }
    let int_digits = int_digits.unwrap_or(digits);
    Shape {
        negative,
        zero: first.is_none(),
        first: first.unwrap_or(0),
        scale: int_digits - leading_zeros + exponent,
    }
}

/// Whether two decimal literals have the same value, compared digit by
/// digit without building either number.
fn same_decimal(a: &[u8], b: &[u8]) -> bool {
    let (sa, sb) = (shape(a), shape(b));
    if sa.zero || sb.zero {
        return sa.zero == sb.zero;
    }
    if sa.negative != sb.negative || sa.scale != sb.scale {
        return false;
    }
    let mut x = a[sa.first..].iter().take_while(|c| !matches!(c, b'e' | b'E')).filter(|c| c.is_ascii_digit());
    let mut y = b[sb.first..].iter().take_while(|c| !matches!(c, b'e' | b'E')).filter(|c| c.is_ascii_digit());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q => {}
            (Some(p), None) if *p == b'0' => {}
            (None, Some(q)) if *q == b'0' => {}
            _ => return false,
        }
    }
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
            "12345678901234567890",
        ] {
            assert_eq!(comparable(text.as_bytes()), None, "{text}");
        }
        assert_eq!(comparable(b"9007199254740992"), Some(9007199254740992.0));
        assert_eq!(comparable(b"1.000000000000000000000000000000000000000000000"), Some(1.0));
        assert_eq!(comparable(b"100000000000000000000000000000000000000000000000"), Some(1e47));
        assert_eq!(comparable(b"0.000000000000000000000000000000000000000000000001"), Some(1e-48));
        assert_eq!(comparable(b"1.0000000000000000000000000000000000000000000001"), None);
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
