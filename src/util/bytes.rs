//! Byte strings compared without a call.
//!
//! Slice equality (`==` on `[u8]`, `starts_with`, `ends_with`) calls `bcmp`
//! for a length not known at compile time, even for an empty needle. The
//! walk compares short strings per value: a wildcard's first and last
//! segments with every candidate value (`bcmp` was 6.5% of rules-10k's
//! matching time, `perf record --call-graph dwarf`), a number-text literal
//! with every number of its field. [`eq`] decides strings of up to 16 bytes
//! from two overlapping loads each, inline.

/// The `N` bytes of `b` at `at` as an array (compared as one integer);
/// `None` unless `b` holds them (the callers know it does).
#[inline(always)]
fn word<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
}

/// Whether `a == b`, inline for strings of up to 16 bytes: the first and the
/// last `n` bytes (overlapping) of each cover the whole string.
#[inline(always)]
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last(),
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        // Most longer strings that differ do so in their first eight bytes.
        _ => word::<8>(a, 0) == word::<8>(b, 0) && a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every length up to 40, strings equal and differing in each single
    /// byte: `eq` agrees with `==` (the overlap of the two loads covers
    /// every position).
    #[test]
    fn eq_finds_a_difference_at_every_position() {
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(eq(&a, &a.clone()), "len {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!eq(&a, &b), "len {n}, differs at {at}");
                assert!(!eq(&b, &a), "len {n}, differs at {at}");
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(
                !eq(&a, &longer) && !eq(&longer, &a),
                "len {n} against {}",
                n + 1
            );
        }
    }

    proptest! {
        #[test]
        fn eq_is_slice_equality(
            a in proptest::collection::vec(0u8..4, 0..40),
            b in proptest::collection::vec(0u8..4, 0..40),
        ) {
            prop_assert_eq!(eq(&a, &b), a == b);
        }
    }
}
