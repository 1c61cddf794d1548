//! The structure of an event, 64 bytes at a time: bit masks of the bytes
//! that matter (quotes, backslashes, brackets, `:` and `,`, white space,
//! control characters), the bytes inside strings found from them with a
//! prefix XOR, as simdjson's stage 1 does. On x86_64 the classes come from
//! SSE2 compares (the x86_64 baseline), or AVX2 with PCLMULQDQ (the prefix
//! XOR as one carry-less multiplication) where the CPU has them (detected
//! at run time, cached by std); elsewhere one byte at a time.
//!
//! The crate's only `unsafe` is here: calls of `target_feature` functions,
//! which Rust makes unsafe to call (even for SSE2, part of the x86_64
//! baseline). The intrinsics inside take no pointer: each lane is built
//! from `u64`s read from a bounds-checked array.
//!
//! Its users are [`container_end`], the trusted mode's jump over a member no
//! rule reads (bracket bits outside strings counted 64 bytes at a time),
//! [`string_stops`], the reader's scan of a string 16 bytes a step, and
//! [`digits`], the digit runs of a number literal 32 bytes at once.
//!
//! (A grammar check of the whole event over the same masks — simdjson's
//! stage 2 without a tape — was built and measured, commit 914ae2e: no
//! faster than the validated byte walk on citylots lines, 1.69 against
//! 1.76 µs per line, because its cost is per token as the walk's is, and
//! number literals dominate both. The validated mode still walks byte by
//! byte.)

/// The byte classes of one 64-byte block: bit `i` is byte `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Classes {
    pub quote: u64,
    pub backslash: u64,
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
    /// `:` and `,`.
    pub punct: u64,
    /// Space, tab, line feed, carriage return.
    pub ws: u64,
    /// Bytes below 0x20.
    pub ctrl: u64,
}

/// Classifies `block` (SSE2 on x86_64).
#[inline(always)]
pub(super) fn classify(block: &[u8; 64]) -> Classes {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `sse2::classify` only requires the SSE2 target feature,
        // which every x86_64 target has (it is part of the architecture's
        // baseline, so `cfg(target_feature = "sse2")` holds statically); it
        // reads nothing but `block`, through safe code.
        #[allow(unsafe_code)]
        unsafe {
            sse2::classify(block)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        portable(block)
    }
}

/// The same classes, one byte at a time: the fallback on other targets and
/// the reference the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn portable(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => c.quote |= bit,
            b'\\' => c.backslash |= bit,
            b'{' | b'[' => c.open |= bit,
            b'}' | b']' => c.close |= bit,
            b':' | b',' => c.punct |= bit,
            b' ' | b'\t' | b'\n' | b'\r' => c.ws |= bit,
            _ => {}
        }
        if b < 0x20 {
            c.ctrl |= bit;
        }
    }
    c
}

/// Where a string's scan stops in the 16 bytes of `chunk`: bit `i` is set
/// iff byte `i` is `"`, `\` or a control character (below 0x20). SSE2 on
/// x86_64: one compare per class for the 16 bytes, so a short string (most
/// keys and values) is scanned in one step.
#[inline(always)]
pub(super) fn string_stops(chunk: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `sse2::string_stops` only requires the SSE2 target
        // feature, part of the x86_64 baseline (as for `classify` above);
        // it reads nothing but `chunk`, through safe code.
        #[allow(unsafe_code)]
        unsafe {
            sse2::string_stops(chunk)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        string_stops_portable(chunk)
    }
}

/// [`string_stops`] one byte at a time: the fallback on other targets and
/// the reference the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn string_stops_portable(chunk: &[u8; 16]) -> u32 {
    chunk
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'"' || b == b'\\' || b < 0x20)
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// The ASCII digits of the 32 bytes of `chunk`: bit `i` is set iff byte
/// `i` is `0` to `9` (SSE2 on x86_64), so a number literal's runs of
/// digits are found with `trailing_zeros` instead of byte by byte.
#[inline(always)]
pub(super) fn digits(chunk: &[u8; 32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `sse2::digits` only requires the SSE2 target feature,
        // part of the x86_64 baseline (as for `classify` above); it reads
        // nothing but `chunk`, through safe code.
        #[allow(unsafe_code)]
        unsafe {
            sse2::digits(chunk)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        digits_portable(chunk)
    }
}

/// [`digits`] one byte at a time: the fallback on other targets and the
/// reference the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn digits_portable(chunk: &[u8; 32]) -> u32 {
    chunk
        .iter()
        .enumerate()
        .filter(|&(_, b)| b.is_ascii_digit())
        .fold(0, |m, (i, _)| m | 1 << i)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::Classes;
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8, _mm_sub_epi8,
    };

    /// The 16 bytes of `chunk` as a vector (from two bounds-checked words).
    #[target_feature(enable = "sse2")]
    fn load16(chunk: &[u8]) -> __m128i {
        let word = |at: usize| {
            let mut w = [0u8; 8];
            if let Some(bytes) = chunk.get(at..at + 8) {
                w.copy_from_slice(bytes);
            }
            i64::from_le_bytes(w)
        };
        _mm_set_epi64x(word(8), word(0))
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn digits(chunk: &[u8; 32]) -> u32 {
        let (lo, hi) = chunk.split_at(16);
        let lane = |v: __m128i| {
            // A digit minus `0` is 0..=9 (unsigned), any other byte more.
            let x = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            bits(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(9)), x)) as u32
        };
        lane(load16(lo)) | lane(load16(hi)) << 16
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn string_stops(chunk: &[u8; 16]) -> u32 {
        let v = load16(chunk);
        let ctrl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let m = _mm_or_si128(_mm_or_si128(eq(v, b'"'), eq(v, b'\\')), ctrl);
        _mm_movemask_epi8(m) as u32 & 0xFFFF
    }

    #[target_feature(enable = "sse2")]
    fn lane(block: &[u8; 64], k: usize) -> __m128i {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&block[k * 16..k * 16 + 8]);
        hi.copy_from_slice(&block[k * 16 + 8..k * 16 + 16]);
        _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo))
    }

    #[target_feature(enable = "sse2")]
    fn eq(v: __m128i, c: u8) -> __m128i {
        _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))
    }

    #[target_feature(enable = "sse2")]
    fn bits(m: __m128i) -> u64 {
        u64::from(_mm_movemask_epi8(m) as u16)
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn classify(block: &[u8; 64]) -> Classes {
        let mut c = Classes::default();
        for k in 0..4 {
            let v = lane(block, k);
            let shift = 16 * k;
            // `[` and `]` are `{` and `}` without bit 5.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let ws = _mm_or_si128(
                _mm_or_si128(eq(v, b' '), eq(v, b'\t')),
                _mm_or_si128(eq(v, b'\n'), eq(v, b'\r')),
            );
            c.quote |= bits(eq(v, b'"')) << shift;
            c.backslash |= bits(eq(v, b'\\')) << shift;
            c.open |= bits(eq(folded, b'{')) << shift;
            c.close |= bits(eq(folded, b'}')) << shift;
            c.punct |= bits(_mm_or_si128(eq(v, b':'), eq(v, b','))) << shift;
            c.ws |= bits(ws) << shift;
            // v <= 0x1f  <=>  min(v, 0x1f) == v (unsigned).
            c.ctrl |= bits(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v)) << shift;
        }
        c
    }
}

/// The 64 bytes at `at`, padded with spaces past the end of `b` (white
/// space outside strings changes nothing).
#[inline(always)]
fn block_at(b: &[u8], at: usize) -> [u8; 64] {
    let mut block = [b' '; 64];
    let rest = b.get(at..).unwrap_or_default();
    let n = rest.len().min(64);
    block[..n].copy_from_slice(&rest[..n]);
    block
}

/// The classes of the 64 bytes at `at` (padded with spaces at the end).
#[inline(always)]
fn classes_at(b: &[u8], at: usize, classify: &impl Fn(&[u8; 64]) -> Classes) -> Classes {
    match b
        .get(at..at.wrapping_add(64))
        .and_then(|s| <&[u8; 64]>::try_from(s).ok())
    {
        Some(block) => classify(block),
        None => classify(&block_at(b, at)),
    }
}

/// Carries from one block to the next.
#[derive(Clone, Copy, Default)]
struct Carry {
    /// 1 if the first byte of the next block is escaped.
    escaped: u64,
    /// All ones if the next block starts inside a string.
    in_string: u64,
}

const EVEN: u64 = 0x5555_5555_5555_5555;

/// The bytes escaped by a backslash (the byte after an odd run of
/// backslashes), simdjson's branch-free method.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut Carry) -> u64 {
    let backslash = backslash & !carry.escaped;
    let follows_escape = (backslash << 1) | carry.escaped;
    let odd_starts = backslash & !EVEN & !follows_escape;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
    carry.escaped = u64::from(overflow);
    let invert = even_starts << 1;
    (EVEN ^ invert) & follows_escape
}

/// Bit `i` set iff an odd number of bits at or below `i` are set.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The bytes of one block's strings: from an opening quote (included) to
/// its closing quote (excluded).
#[inline(always)]
fn strings(c: &Classes, carry: &mut Carry, pxor: impl Fn(u64) -> u64) -> u64 {
    // Most blocks have no backslash and none carried in: nothing escaped
    // (what `escaped` would compute, carry included).
    let escaped = if c.backslash | carry.escaped == 0 {
        0
    } else {
        escaped(c.backslash, carry)
    };
    let quote = c.quote & !escaped;
    let string = pxor(quote) ^ carry.in_string;
    carry.in_string = ((string as i64) >> 63) as u64;
    string
}

/// The index just after the end of the object or array whose opening
/// bracket is at `start` (trusted input: both kinds of bracket balance
/// inside it and strings are whole), or `None` if `b` ends first.
pub(super) fn container_end(b: &[u8], start: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if fast::available() {
        // SAFETY: the CPU has every feature `fast::container_end` enables
        // (checked at run time just above).
        #[allow(unsafe_code)]
        return unsafe { fast::container_end(b, start) };
    }
    container_end_with(b, start, classify, prefix_xor)
}

#[inline(always)]
fn container_end_with(
    b: &[u8],
    start: usize,
    classify: impl Fn(&[u8; 64]) -> Classes,
    pxor: impl Fn(u64) -> u64,
) -> Option<usize> {
    let mut carry = Carry::default();
    let mut depth = 0usize;
    let mut at = start;
    while at < b.len() {
        let c = classes_at(b, at, &classify);
        let string = strings(&c, &mut carry, &pxor);
        let open = c.open & !string;
        let close = c.close & !string;
        // The container ends in this block only if the block closes at
        // least `depth` brackets; most blocks of a long one do not.
        let closes = close.count_ones() as usize;
        if closes < depth {
            depth = depth + open.count_ones() as usize - closes;
            at += 64;
            continue;
        }
        let mut brackets = open | close;
        while brackets != 0 {
            let bit = brackets & brackets.wrapping_neg();
            if open & bit != 0 {
                depth += 1;
            } else {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at + bit.trailing_zeros() as usize + 1);
                }
            }
            brackets ^= bit;
        }
        at += 64;
    }
    None
}

/// The decoded character of the escape whose backslash is at `j`, and the
/// index after it. Lone surrogates are errors (as in a full parse).
pub(super) fn escape_at(b: &[u8], j: usize) -> Result<(char, usize), &'static str> {
    let c = match b.get(j + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let unit = hex4(b, j + 2).ok_or("invalid \\u escape")?;
            if (0xD800..0xDC00).contains(&unit) {
                if b.get(j + 6..j + 8) != Some(b"\\u") {
                    return Err("lone surrogate in a \\u escape");
                }
                let low = hex4(b, j + 8).ok_or("invalid \\u escape")?;
                if !(0xDC00..0xE000).contains(&low) {
                    return Err("lone surrogate in a \\u escape");
                }
                let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                let ch = char::from_u32(cp).ok_or("invalid \\u escape")?;
                return Ok((ch, j + 12));
            }
            let ch = char::from_u32(unit).ok_or("lone surrogate in a \\u escape")?;
            return Ok((ch, j + 6));
        }
        Some(_) => return Err("invalid escape in a string"),
        None => return Err("unterminated string"),
    };
    Ok((c, j + 2))
}

fn hex(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(c - b'A' + 10)),
        _ => None,
    }
}

/// The four hex digits at `j`.
fn hex4(b: &[u8], j: usize) -> Option<u32> {
    let d = b.get(j..j.checked_add(4)?)?;
    let mut v = 0;
    for &c in d {
        v = v * 16 + hex(c)?;
    }
    Some(v)
}

/// The same function compiled for AVX2, PCLMULQDQ (the prefix XOR as one
/// carry-less multiplication), POPCNT and BMI1, for CPUs that have them.
#[cfg(target_arch = "x86_64")]
mod fast {
    use super::Classes;
    use std::arch::x86_64::{
        __m256i, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8,
        _mm256_cmpeq_epi8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set_epi64x, _mm256_set1_epi8,
    };

    /// Whether this CPU has the features of this module (cached by std).
    #[inline]
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn container_end(b: &[u8], start: usize) -> Option<usize> {
        super::container_end_with(b, start, |block| classify(block), |x| prefix_xor(x))
    }

    #[target_feature(enable = "pclmulqdq")]
    fn prefix_xor(x: u64) -> u64 {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }

    #[target_feature(enable = "avx2")]
    fn half(block: &[u8; 64], k: usize) -> __m256i {
        let word = |j: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&block[k * 32 + j * 8..k * 32 + j * 8 + 8]);
            i64::from_le_bytes(w)
        };
        _mm256_set_epi64x(word(3), word(2), word(1), word(0))
    }

    #[target_feature(enable = "avx2")]
    fn eq(v: __m256i, c: u8) -> __m256i {
        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8))
    }

    #[target_feature(enable = "avx2")]
    fn bits(m: __m256i) -> u64 {
        u64::from(_mm256_movemask_epi8(m) as u32)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn classify(block: &[u8; 64]) -> Classes {
        let mut c = Classes::default();
        for k in 0..2 {
            let v = half(block, k);
            let shift = 32 * k;
            let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let ws = _mm256_or_si256(
                _mm256_or_si256(eq(v, b' '), eq(v, b'\t')),
                _mm256_or_si256(eq(v, b'\n'), eq(v, b'\r')),
            );
            c.quote |= bits(eq(v, b'"')) << shift;
            c.backslash |= bits(eq(v, b'\\')) << shift;
            c.open |= bits(eq(folded, b'{')) << shift;
            c.close |= bits(eq(folded, b'}')) << shift;
            c.punct |= bits(_mm256_or_si256(eq(v, b':'), eq(v, b','))) << shift;
            c.ws |= bits(ws) << shift;
            c.ctrl |= bits(_mm256_cmpeq_epi8(
                _mm256_min_epu8(v, _mm256_set1_epi8(0x1f)),
                v,
            )) << shift;
        }
        c
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn avx2_classes_and_prefix_xor_equal_the_portable_ones() {
            if !super::available() {
                return;
            }
            let mut block = [0u8; 64];
            for round in 0..64u32 {
                for (i, b) in block.iter_mut().enumerate() {
                    *b = ((i as u32 * 37 + round * 101) % 256) as u8;
                }
                // SAFETY: the features were detected above.
                #[allow(unsafe_code)]
                let (c, x) = unsafe {
                    (
                        super::classify(&block),
                        super::prefix_xor(u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                    )
                };
                assert_eq!(c, super::super::portable(&block));
                assert_eq!(
                    x,
                    super::super::prefix_xor(u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse2_classes_equal_the_portable_ones() {
        let mut block = [0u8; 64];
        for round in 0..64u32 {
            for (i, b) in block.iter_mut().enumerate() {
                *b = ((i as u32 * 37 + round * 101) % 256) as u8;
            }
            assert_eq!(classify(&block), portable(&block));
        }
        let text = br#"{"a": [1, 2], "b\"": {"c": "x\\"}} \t\r\n"#;
        let block = block_at(text, 0);
        assert_eq!(classify(&block), portable(&block));
    }

    /// Checks a SIMD chunk mask against its portable version: every byte
    /// value at every offset among each `fills` byte, then random chunks
    /// biased towards the `near` bytes around the classes' edges.
    fn chunk_masks_agree<const N: usize>(
        fast: fn(&[u8; N]) -> u32,
        portable: fn(&[u8; N]) -> u32,
        fills: &[u8],
        near: &[u8],
        seed: u64,
    ) {
        for &fill in fills {
            for at in 0..N {
                for byte in 0..=255u8 {
                    let mut chunk = [fill; N];
                    chunk[at] = byte;
                    assert_eq!(
                        fast(&chunk),
                        portable(&chunk),
                        "{byte:#x} at {at} among {fill:#x}"
                    );
                }
            }
        }
        let mut next = crate::util::test_rng::xorshift(seed);
        for _ in 0..20_000 {
            let mut chunk = [0u8; N];
            for b in &mut chunk {
                let r = next();
                *b = if r & 1 == 0 {
                    near[(r >> 8) as usize % near.len()]
                } else {
                    (r >> 16) as u8
                };
            }
            assert_eq!(fast(&chunk), portable(&chunk), "{chunk:?}");
        }
    }

    #[test]
    fn sse2_string_stops_equal_the_portable_ones() {
        chunk_masks_agree(
            string_stops,
            string_stops_portable,
            &[b'a', b'"', 0x1f, 0xff],
            &[
                b'"', b'\\', 0x1f, 0x20, 0x00, b'!', b'#', b'[', b']', 0x7f, 0x80,
            ],
            0xA076_1D64_78BD_642F,
        );
        assert_eq!(
            string_stops(b"abc\"def\\gh\x01jklmn"),
            1 << 3 | 1 << 7 | 1 << 10
        );
    }

    #[test]
    fn sse2_digits_equal_the_portable_ones() {
        let near: Vec<u8> = (b'+'..b'+' + 20).collect();
        chunk_masks_agree(
            digits,
            digits_portable,
            &[b'5', b'a', b'0' - 1, b'9' + 1],
            &near,
            0xE703_7ED1_A0B4_28DB,
        );
        assert_eq!(
            digits(b"-12.5e+3, 0x9/:                 "),
            0b1_0100_1001_0110
        );
    }

    #[test]
    fn escaped_bytes_follow_odd_backslash_runs() {
        let text = br#"\" \\" \\\" a\\\\b"#;
        let c = portable(&block_at(text, 0));
        let mut carry = Carry::default();
        let e = escaped(c.backslash, &mut carry);
        let escaped_at: Vec<usize> = (0..64).filter(|i| e >> i & 1 == 1).collect();
        assert_eq!(escaped_at, [1, 4, 8, 10, 14, 16]);
    }

    #[test]
    fn container_end_skips_strings_with_brackets() {
        let text = br#"{"a": "]}\"]", "b": [[{}], "[["]} , 1"#;
        let end = container_end(text, 0).unwrap();
        assert_eq!(&text[..end], br#"{"a": "]}\"]", "b": [[{}], "[["]}"#);
        // Across blocks.
        let long = format!("[{}] x", "[1, \"]]]\"], ".repeat(40));
        let end = container_end(long.as_bytes(), 0).unwrap();
        assert_eq!(&long.as_bytes()[end..], b" x");
        assert_eq!(container_end(b"[[1]", 0), None);
    }

    fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            // Strings full of what the masks look for, long enough to
            // cross blocks.
            "[\\\\\"\\[\\]{}:, a-z\u{e9}\u{1}]{0,90}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("[a-z\\\\\"\\]]{0,6}", inner), 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// On valid JSON the jump lands just after the container's closing
        /// bracket, whatever its strings hold and wherever it starts.
        #[test]
        fn container_end_finds_the_closing_bracket(
            value in json(),
            pretty in proptest::prelude::any::<bool>(),
            lead in 0usize..70,
        ) {
            let wrapped = serde_json::Value::Array(vec![value]);
            let text = if pretty {
                serde_json::to_string_pretty(&wrapped)
            } else {
                serde_json::to_string(&wrapped)
            }
            .unwrap_or_default();
            let mut event = " ".repeat(lead).into_bytes();
            event.extend_from_slice(text.as_bytes());
            event.extend_from_slice(b", \"tail\": [1]}");
            proptest::prop_assert_eq!(container_end(&event, lead), Some(lead + text.len()));
            // The SSE2 or portable path gives the same (without AVX2).
            proptest::prop_assert_eq!(
                container_end_with(&event, lead, classify, prefix_xor),
                Some(lead + text.len())
            );
            proptest::prop_assert_eq!(
                container_end_with(&event, lead, portable, prefix_xor),
                Some(lead + text.len())
            );
        }
    }
}
