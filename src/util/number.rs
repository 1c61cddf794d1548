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
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(value);
    Decimal::of(text) == Decimal::of(shortest.as_bytes())
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

/// A decimal in canonical form: sign, significant digits without leading or
/// trailing zeros, and the exponent of the last digit.
#[derive(PartialEq, Eq, Debug)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    fn of(text: &[u8]) -> Decimal {
        let mut negative = false;
        let mut digits = Vec::with_capacity(24);
        let mut exponent: i64 = 0;
        let mut i = 0;
        if text.first() == Some(&b'-') {
            negative = true;
            i = 1;
        }
        let mut after_point = false;
        while i < text.len() {
            match text[i] {
                d @ b'0'..=b'9' => {
                    if !(digits.is_empty() && d == b'0') {
                        digits.push(d);
                    }
                    if after_point {
                        exponent -= 1;
                    }
                }
                b'.' => after_point = true,
                b'e' | b'E' => {
                    let exp = std::str::from_utf8(&text[i + 1..])
                        .ok()
                        .and_then(|s| s.trim_start_matches('+').parse::<i64>().ok())
                        .unwrap_or(0);
                    exponent = exponent.saturating_add(exp);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        while digits.last() == Some(&b'0') {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Decimal {
                negative: false,
                digits,
                exponent: 0,
            };
        }
        Decimal {
            negative,
            digits,
            exponent,
        }
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
