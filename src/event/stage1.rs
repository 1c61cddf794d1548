//! The structure of an event, 64 bytes at a time: bit masks of the bytes
//! that matter (quotes, backslashes, brackets, `:` and `,`, white space,
//! control characters), the bytes inside strings found from them with a
//! prefix XOR, as simdjson's stage 1 does. On x86_64 the classes come from
//! SSE2 compares (part of the x86_64 baseline, so no runtime detection);
//! elsewhere one byte at a time. The one `unsafe` block of the crate calls
//! the SSE2 function (a `target_feature` function, which Rust makes unsafe
//! to call even where the feature is part of the baseline); the intrinsics
//! inside take no pointer: each 16-byte lane is passed as two `u64`s.
//!
//! Two users:
//!
//! * [`valid_object`], the validated mode's check of the whole event: the
//!   token sequence the masks give (brackets, `:`, `,`, strings, scalars)
//!   walked against JSON's grammar, each scalar checked, each escape
//!   checked. It says only *whether* the event is valid; the reader's
//!   byte-by-byte walk gives the kind and offset of an error.
//! * [`container_end`], the trusted mode's jump over a member no rule
//!   reads: bracket bits outside strings counted 64 bytes at a time.

use super::MAX_EVENT_DEPTH;

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

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::Classes;
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };

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
    match b.get(at..at.wrapping_add(64)).and_then(|s| <&[u8; 64]>::try_from(s).ok()) {
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

/// One block's strings: `quote` the unescaped quotes, `string` the bytes
/// from an opening quote (included) to its closing quote (excluded).
#[derive(Clone, Copy)]
struct Strings {
    quote: u64,
    string: u64,
}

#[inline(always)]
fn strings(c: &Classes, carry: &mut Carry, pxor: impl Fn(u64) -> u64) -> Strings {
    let quote = c.quote & !escaped(c.backslash, carry);
    let string = pxor(quote) ^ carry.in_string;
    carry.in_string = ((string as i64) >> 63) as u64;
    Strings { quote, string }
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
        let s = strings(&c, &mut carry, &pxor);
        let open = c.open & !s.string;
        let close = c.close & !s.string;
        let mut brackets = open | close;
        // Most blocks of a long container leave it open: skip them whole.
        if (close.count_ones() as usize) < depth && brackets != 0 && open == 0 {
            depth -= close.count_ones() as usize;
            brackets = 0;
        }
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

/// The first index at or after `j` that is not an ASCII digit.
#[inline]
fn digits_end(b: &[u8], j: usize) -> usize {
    super::reader::digits_end(b, j)
}

/// The end of the number literal at `i` (RFC 8259 grammar), if it is one.
#[inline]
fn number_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits_end(b, j + 1),
        _ => return None,
    }
    if b.get(j) == Some(&b'.') {
        let k = digits_end(b, j + 1);
        if k == j + 1 {
            return None;
        }
        j = k;
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let k = digits_end(b, j);
        if k == j {
            return None;
        }
        j = k;
    }
    Some(j)
}

/// Whether the scalar (number or literal) token starting at `i` is valid
/// and ends where its run of scalar bytes ends.
#[inline]
fn scalar_ok(b: &[u8], i: usize) -> bool {
    let end = match b.get(i) {
        Some(b't') => (b.get(i..i + 4) == Some(b"true")).then_some(i + 4),
        Some(b'f') => (b.get(i..i + 5) == Some(b"false")).then_some(i + 5),
        Some(b'n') => (b.get(i..i + 4) == Some(b"null")).then_some(i + 4),
        _ => number_end(b, i),
    };
    // The token must end at a byte that is no scalar byte (or the end).
    end.is_some_and(|e| {
        matches!(
            b.get(e),
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'[' | b']' | b'{' | b'}' | b'"')
        )
    })
}

/// What the grammar expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The root object's `{`.
    Root,
    /// A value (after `:` or `,` in an array).
    Value,
    /// A value or `]` (after `[`).
    ValueOrClose,
    /// A key (after `,` in an object).
    Key,
    /// A key or `}` (after `{`).
    KeyOrClose,
    /// `:` after a key.
    Colon,
    /// `,` or the closing bracket of the innermost container.
    CommaOrClose,
    /// Nothing: the root object is closed.
    End,
}

/// Whether `b` is one valid JSON object, nested at most
/// [`MAX_EVENT_DEPTH`] levels, with nothing but white space around it and
/// valid UTF-8 throughout (checked separately by the caller). It accepts
/// exactly what the reader's validated walk accepts; it is faster, and
/// says nothing about where an error is.
pub(super) fn valid_object(b: &[u8]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if fast::available() {
        // SAFETY: the CPU has every feature `fast::valid_object` enables
        // (checked at run time just above).
        #[allow(unsafe_code)]
        return unsafe { fast::valid_object(b) };
    }
    valid_object_with(b, classify, prefix_xor)
}

#[inline(always)]
fn valid_object_with(
    b: &[u8],
    classify: impl Fn(&[u8; 64]) -> Classes,
    pxor: impl Fn(u64) -> u64,
) -> bool {
    let mut carry = Carry::default();
    // Bit d of the stack: whether the container at depth d is an array.
    let mut arrays = [0u64; MAX_EVENT_DEPTH.div_ceil(64) + 1];
    let mut depth = 0usize;
    let mut expect = Expect::Root;
    let mut prev_scalar = 0u64;
    let mut escapes = false;
    let mut at = 0;
    while at < b.len() {
        let c = classes_at(b, at, &classify);
        let s = strings(&c, &mut carry, &pxor);
        let outside = !s.string & !s.quote;
        // Control characters: only the four white-space bytes, outside strings.
        if c.ctrl & !(c.ws & outside) != 0 || c.backslash & outside != 0 {
            return false;
        }
        escapes |= c.backslash != 0;
        let scalar = outside & !(c.open | c.close | c.punct | c.ws);
        let scalar_starts = scalar & !((scalar << 1) | prev_scalar);
        prev_scalar = scalar >> 63;
        let mut tokens = ((c.open | c.close | c.punct) & outside) | (s.quote & s.string) | scalar_starts;
        while tokens != 0 {
            let i = at + tokens.trailing_zeros() as usize;
            tokens &= tokens - 1;
            let Some(&byte) = b.get(i) else {
                return false;
            };
            let in_array = |d: usize| arrays[d / 64] >> (d % 64) & 1 == 1;
            expect = match (expect, byte) {
                (Expect::Root, b'{') => {
                    depth = 1;
                    Expect::KeyOrClose
                }
                (Expect::Value | Expect::ValueOrClose, b'{' | b'[') => {
                    if depth >= MAX_EVENT_DEPTH {
                        return false;
                    }
                    let word = &mut arrays[depth / 64];
                    let bit = 1u64 << (depth % 64);
                    if byte == b'[' {
                        *word |= bit;
                    } else {
                        *word &= !bit;
                    }
                    depth += 1;
                    if byte == b'[' {
                        Expect::ValueOrClose
                    } else {
                        Expect::KeyOrClose
                    }
                }
                (Expect::Value | Expect::ValueOrClose, b'"') => Expect::CommaOrClose,
                (Expect::Value | Expect::ValueOrClose, _)
                    if !matches!(byte, b'}' | b']' | b':' | b',') =>
                {
                    if !scalar_ok(b, i) {
                        return false;
                    }
                    Expect::CommaOrClose
                }
                (Expect::Key | Expect::KeyOrClose, b'"') => Expect::Colon,
                (Expect::Colon, b':') => Expect::Value,
                (Expect::CommaOrClose, b',') => {
                    if in_array(depth - 1) {
                        Expect::Value
                    } else {
                        Expect::Key
                    }
                }
                (Expect::CommaOrClose | Expect::ValueOrClose, b']')
                | (Expect::CommaOrClose | Expect::KeyOrClose, b'}') => {
                    if in_array(depth - 1) != (byte == b']') {
                        return false;
                    }
                    depth -= 1;
                    if depth == 0 {
                        Expect::End
                    } else {
                        Expect::CommaOrClose
                    }
                }
                _ => return false,
            };
        }
        at += 64;
    }
    if expect != Expect::End || carry.in_string != 0 {
        return false;
    }
    !escapes || escapes_ok(b)
}

/// The same functions compiled for AVX2, PCLMULQDQ (the prefix XOR as one
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

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn valid_object(b: &[u8]) -> bool {
        super::valid_object_with(b, |block| classify(block), |x| prefix_xor(x))
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
            c.ctrl |= bits(_mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v)) << shift;
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
                    (super::classify(&block), super::prefix_xor(u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
                };
                assert_eq!(c, super::super::portable(&block));
                assert_eq!(x, super::super::prefix_xor(u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            }
        }
    }
}

/// Whether every escape in the strings of `b` (a grammatical event) is
/// valid, surrogate pairs included.
fn escapes_ok(b: &[u8]) -> bool {
    let mut carry = Carry::default();
    let mut next = 0;
    let mut at = 0;
    while at < b.len() {
        let c = classes_at(b, at, &classify);
        let escaped = escaped(c.backslash, &mut carry);
        let mut starts = c.backslash & !escaped;
        while starts != 0 {
            let j = at + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            // The second half of a surrogate pair was checked with the first.
            if j < next {
                continue;
            }
            match escape_at(b, j) {
                Ok((_, after)) => next = after,
                Err(_) => return false,
            }
        }
        at += 64;
    }
    true
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

    #[test]
    fn validity_of_small_documents() {
        for ok in [
            r#"{}"#,
            r#" { "a" : [ 1 , -0.5e+3 , true , false , null , "x\u00e9\ud83d\ude00" , { } , [ ] ] } "#,
            r#"{"a":{"b":{"c":[[[]]]}},"d":"\\\"\/\b\f\n\r\t"}"#,
        ] {
            assert!(valid_object(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", " ", "[]", "1", r#"{"a"}"#, r#"{"a":}"#, r#"{"a":1,}"#, r#"{"a":[1,]}"#,
            r#"{"a":01}"#, r#"{"a":1.}"#, r#"{"a":1e}"#, r#"{"a":-}"#, r#"{"a":tru}"#,
            r#"{"a":truex}"#, r#"{"a":1x}"#, r#"{"a":"\x"}"#, r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#, r#"{"a":"\u12"}"#, "{\"a\":\"\x01\"}", r#"{"a":1} x"#,
            r#"{"a":1}}"#, r#"{"a":[1}"#, r#"{"a":{1:2}}"#, r#"{"a" "b"}"#, r#"{"a":1 "b":2}"#,
            r#"{"a":"x"#, r#"{"a":\"x"}"#, r#"{"a":1"b"}"#, r#"{,}"#, r#"{"a"::1}"#,
            r#"{"a":[1 2]}"#, r#"{}{}"#, "{\"a\":1}\u{0}",
        ] {
            assert!(!valid_object(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn depth_limit() {
        let deep = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(valid_object(deep(MAX_EVENT_DEPTH - 1).as_bytes()));
        assert!(!valid_object(deep(MAX_EVENT_DEPTH).as_bytes()));
    }
}

#[cfg(test)]
mod differential {
    use super::*;
    use crate::event::{FlattenScratch, PathTrie};
    use proptest::prelude::*;

    /// The byte-by-byte validated walk's verdict (UTF-8 included).
    fn walk_accepts(event: &[u8]) -> bool {
        FlattenScratch::default()
            .read_walking(event, &PathTrie::new([]))
            .is_ok()
    }

    fn structural_accepts(event: &[u8]) -> bool {
        std::str::from_utf8(event).is_ok() && valid_object(event)
    }

    /// JSON fragments, valid and not, that glue into near-JSON.
    const FRAGMENTS: &[&str] = &[
        "{", "}", "[", "]", ":", ",", " ", "\n", "\t", "\r", "\"k\"", "\"\"", "\"a b\"",
        "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\x\"",
        "\"\\\\\"", "\"\\\"\"", "\"\\/\"", "\"\\u12\"", "\"é\"", "1", "-0.5e3", "0", "01",
        "1.", "1e", "-", "2E+7", "true", "tru", "false", "null", "nul", "\u{1}", "\\", "\"",
        "\u{7f}", "x", "{\"a\":", "[1,2,3]", "{\"a\":[{\"b\":null}]}",
    ];

    fn soup() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec((0..FRAGMENTS.len(), 0usize..70), 0..40),
            any::<bool>(),
        )
            .prop_map(|(parts, wrap)| {
                let mut out = Vec::new();
                if wrap {
                    out.extend_from_slice(b"{\"x\": [");
                }
                for (f, pad) in parts {
                    out.extend_from_slice(FRAGMENTS[f].as_bytes());
                    // Long strings move the rest across block boundaries.
                    if pad > 60 {
                        out.extend(std::iter::repeat_n(b'a', pad));
                    }
                }
                if wrap {
                    out.extend_from_slice(b"]}");
                }
                out
            })
    }

    /// A valid event, then one edit: a byte replaced, inserted or removed.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let value = prop::collection::vec(
            prop_oneof![
                Just("\"s\"".to_string()),
                "[a-z\\\\\"]{0,80}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
                (-1e6f64..1e6).prop_map(|n| n.to_string()),
                Just("[[1, 2.5], {\"q\": [true, false, null]}]".to_string()),
                Just("{\"deep\": {\"er\": [\"\\ud83d\\ude00\", \"\\u0041\"]}}".to_string()),
            ],
            1..8,
        );
        (value, any::<u64>(), any::<u8>(), 0u8..3).prop_map(|(values, at, byte, edit)| {
            let members: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("\"m{i}\": {v}"))
                .collect();
            let mut event = format!("{{{}}}", members.join(", ")).into_bytes();
            let at = (at % (event.len() as u64 + 1)) as usize;
            let byte = *b"{}[]:,\" \\0-.e1tfnx\x01".get(byte as usize % 19).unwrap_or(&b'x');
            match edit {
                0 if at < event.len() => event[at] = byte,
                1 => event.insert(at, byte),
                _ if at < event.len() => {
                    event.remove(at);
                }
                _ => {}
            }
            event
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn structural_pass_agrees_with_the_walk_on_soup(event in soup()) {
            prop_assert_eq!(structural_accepts(&event), walk_accepts(&event),
                "{:?}", String::from_utf8_lossy(&event));
        }

        #[test]
        fn structural_pass_agrees_with_the_walk_on_edits(event in mutated()) {
            prop_assert_eq!(structural_accepts(&event), walk_accepts(&event),
                "{:?}", String::from_utf8_lossy(&event));
        }
    }

    /// A planted bug is caught: the soup finds events where dropping the
    /// escape check would change the verdict.
    #[test]
    fn the_soup_reaches_escape_errors() {
        let bad = br#"{"x": ["\ud800"]}"#;
        assert!(!structural_accepts(bad));
        assert!(!walk_accepts(bad));
    }
}
