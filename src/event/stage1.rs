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
//! [`string_stops`], the reader's scan of a string 16 bytes a step,
//! [`digits`], the digit runs of a number literal 32 bytes at once, and the
//! early stop's two scans: [`find_quote`], the search for where a key that
//! leads somewhere may begin, and [`member_seek`], which tells whether such
//! a place is a key of the object being read.
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

    /// The 16 bytes of `chunk` as a vector. One 128-bit integer, split
    /// into the two halves `_mm_set_epi64x` takes: LLVM folds that into one
    /// unaligned load (two eight-byte words, each bounds-checked, were
    /// sometimes left as two loads and a shuffle, depending on the caller).
    #[target_feature(enable = "sse2")]
    fn load16(chunk: &[u8; 16]) -> __m128i {
        let v = u128::from_le_bytes(*chunk);
        _mm_set_epi64x((v >> 64) as i64, v as i64)
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn digits(chunk: &[u8; 32]) -> u32 {
        let lo: [u8; 16] = std::array::from_fn(|i| chunk[i]);
        let hi: [u8; 16] = std::array::from_fn(|i| chunk[16 + i]);
        let lane = |v: __m128i| {
            // A digit minus `0` is 0..=9 (unsigned), any other byte more.
            let x = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            bits(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(9)), x)) as u32
        };
        lane(load16(&lo)) | lane(load16(&hi)) << 16
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
    // Containers open inside this one; its own bracket (bit 0 of the first
    // block) is not counted, so its end is the first close with none open.
    let mut depth = 0usize;
    let mut own = 1u64;
    let mut at = start;
    while at < b.len() {
        let c = classes_at(b, at, &classify);
        let string = strings(&c, &mut carry, &pxor);
        let open = c.open & !string & !own;
        own = 0;
        if let Some(i) = unmatched_close(open, c.close & !string, &mut depth) {
            return Some(at + i as usize + 1);
        }
        at += 64;
    }
    None
}

/// With `depth` containers open before a block whose brackets (outside
/// strings) are `open` and `close`: the index of the first close that finds
/// none open (the end of the enclosing container), else `None` with `depth`
/// brought past the block. The container ends in a block only if the block
/// holds more closes than `depth`; most blocks of a long one do not, and
/// they are counted, not walked.
#[inline(always)]
fn unmatched_close(open: u64, close: u64, depth: &mut usize) -> Option<u32> {
    let closes = close.count_ones() as usize;
    if closes <= *depth {
        *depth = *depth + open.count_ones() as usize - closes;
        return None;
    }
    let mut brackets = open | close;
    while brackets != 0 {
        let bit = brackets & brackets.wrapping_neg();
        if open & bit != 0 {
            *depth += 1;
        } else if *depth == 0 {
            return Some(bit.trailing_zeros());
        } else {
            *depth -= 1;
        }
        brackets ^= bit;
    }
    None
}

/// The bytes of one 64-byte block that an array holding only numbers and
/// arrays may contain (digits, `-+.eE`, `,`, `[`, `]`, white space), and
/// its `[` and `]`: bit `i` is byte `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct NumberClasses {
    pub numeric: u64,
    pub open: u64,
    pub close: u64,
}

/// Whether `c` may appear in an array of numbers and arrays.
const fn numeric_byte(c: u8) -> bool {
    matches!(
        c,
        b'0'..=b'9'
            | b'-'
            | b'+'
            | b'.'
            | b'e'
            | b'E'
            | b','
            | b'['
            | b']'
            | b' '
            | b'\t'
            | b'\n'
            | b'\r'
    )
}

/// [`NumberClasses`] one byte at a time: the fallback without AVX2 and the
/// reference the AVX2 version is tested against.
fn number_classes_portable(block: &[u8; 64]) -> NumberClasses {
    let mut c = NumberClasses::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        if numeric_byte(b) {
            c.numeric |= bit;
        }
        match b {
            b'[' => c.open |= bit,
            b']' => c.close |= bit,
            _ => {}
        }
    }
    c
}

/// For the array whose `[` is at `start` (trusted input): the index just
/// after its `]` if it holds only numbers and arrays (every byte of it one
/// of [`NumberClasses::numeric`]'s: so no string, object or literal) nested
/// at most `room` levels inside it; else, or if `b` ends first, `None`.
/// Lets the trusted reader pass over a field's number arrays whole when
/// its sieve refuses every number they hold.
pub(super) fn number_array_end(b: &[u8], start: usize, room: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if fast::available() {
        // SAFETY: the CPU has every feature `fast::number_array_end`
        // enables (checked at run time just above).
        #[allow(unsafe_code)]
        return unsafe { fast::number_array_end(b, start, room) };
    }
    number_array_end_with(b, start, room, number_classes_portable)
}

#[inline(always)]
fn number_array_end_with(
    b: &[u8],
    start: usize,
    room: usize,
    classify: impl Fn(&[u8; 64]) -> NumberClasses,
) -> Option<usize> {
    // Arrays open inside this one; its own `[` (bit 0 of the first block)
    // is not counted, so its end is the first `]` with none open.
    let mut depth = 0usize;
    let mut own = 1u64;
    let mut at = start;
    while at < b.len() {
        let c = match b
            .get(at..at.wrapping_add(64))
            .and_then(|s| <&[u8; 64]>::try_from(s).ok())
        {
            Some(block) => classify(block),
            // Padded with spaces, which are numeric: only the bytes of `b`
            // decide.
            None => classify(&block_at(b, at)),
        };
        let open = c.open & !own;
        own = 0;
        let (opens, closes) = (open.count_ones() as usize, c.close.count_ones() as usize);
        // Most blocks of a long array neither end it nor could nest past
        // `room`: counted, not walked.
        if closes <= depth && depth + opens <= room {
            if c.numeric != u64::MAX {
                return None;
            }
            depth = depth + opens - closes;
            at += 64;
            continue;
        }
        let mut brackets = open | c.close;
        let mut end = None;
        while brackets != 0 {
            let bit = brackets & brackets.wrapping_neg();
            if open & bit != 0 {
                depth += 1;
                if depth > room {
                    return None;
                }
            } else if depth == 0 {
                end = Some(bit.trailing_zeros());
                break;
            } else {
                depth -= 1;
            }
            brackets ^= bit;
        }
        // Only the bytes up to the end must be numeric.
        let inside = match end {
            Some(63) | None => u64::MAX,
            Some(i) => (1u64 << (i + 1)) - 1,
        };
        if !c.numeric & inside != 0 {
            return None;
        }
        if let Some(i) = end {
            return Some(at + i as usize + 1);
        }
        at += 64;
    }
    None
}

/// Where an object's reader may go when the first key that could lead
/// somewhere may start at `to` (the answer of [`member_seek`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seek {
    /// The `"` at `to` opens a key of the object's own members: every
    /// member before it can be passed over.
    Member,
    /// The object closes before `to`: the index just after its `}`.
    End(usize),
    /// `to` is no member key of this object (a byte inside a string, a
    /// nested value or a string value), or `b` ends first.
    Other,
}

/// From the member key whose `"` is at `from`, at the top of an object
/// (trusted input), to `to > from`: whether `to` opens one of the object's
/// own member keys, or the object closes first ([`Seek`]). Bracket bits
/// outside strings are counted 64 bytes at a time, as in
/// [`container_end`].
#[inline]
pub(super) fn member_seek(b: &[u8], from: usize, to: usize) -> Seek {
    #[cfg(target_arch = "x86_64")]
    if fast::available() {
        // SAFETY: the CPU has every feature `fast::member_seek` enables
        // (checked at run time just above).
        #[allow(unsafe_code)]
        return unsafe { fast::member_seek(b, from, to) };
    }
    member_seek_portable(b, from, to)
}

/// [`member_seek`] without AVX2 (out of line: the caller inlines only the
/// dispatch).
#[inline(never)]
fn member_seek_portable(b: &[u8], from: usize, to: usize) -> Seek {
    member_seek_with(b, from, to, classify, prefix_xor)
}

#[inline(always)]
fn member_seek_with(
    b: &[u8],
    from: usize,
    to: usize,
    classify: impl Fn(&[u8; 64]) -> Classes,
    pxor: impl Fn(u64) -> u64,
) -> Seek {
    if to <= from || to >= b.len() {
        return Seek::Other;
    }
    // Most gaps (a run of members with string or number values) hold no
    // bracket and no backslash: then the object does not close in them,
    // every quote is real and a string opens at `to` iff the quotes from
    // `from` (a key's opening quote) to it are even. Those blocks are only
    // counted; the first one with a bracket or backslash is read as below,
    // with the string state the count gives.
    let mut at = from;
    let mut quotes = 0u32;
    loop {
        let c = classes_at(b, at, &classify);
        let left = to - at;
        let before = if left >= 64 {
            u64::MAX
        } else {
            (1u64 << left) - 1
        };
        if (c.backslash | c.open | c.close) & before != 0 {
            break;
        }
        quotes += (c.quote & before).count_ones();
        if left < 64 {
            return if quotes.is_multiple_of(2)
                && b.get(to) == Some(&b'"')
                && after_comma(b, from, to)
            {
                Seek::Member
            } else {
                Seek::Other
            };
        }
        at += 64;
    }
    let mut carry = Carry {
        escaped: 0,
        in_string: if quotes.is_multiple_of(2) {
            0
        } else {
            u64::MAX
        },
    };
    // Containers open since `from`: the object itself closes at a `}`
    // found with none open.
    let mut depth = 0usize;
    loop {
        let c = classes_at(b, at, &classify);
        let was_in_string = carry.in_string;
        let string = strings(&c, &mut carry, &pxor);
        let left = to - at;
        let before = if left >= 64 {
            u64::MAX
        } else {
            (1u64 << left) - 1
        };
        let open = c.open & !string & before;
        let close = c.close & !string & before;
        if let Some(i) = unmatched_close(open, close, &mut depth) {
            return Seek::End(at + i as usize + 1);
        }
        if left < 64 {
            // An opening quote is where a string's bytes begin: its bit is
            // set in `string`, the one before it is not.
            let inside = string >> left & 1 != 0;
            let before_inside = if left == 0 {
                was_in_string != 0
            } else {
                string >> (left - 1) & 1 != 0
            };
            if depth != 0 || !inside || before_inside || b.get(to) != Some(&b'"') {
                return Seek::Other;
            }
            return if after_comma(b, from, to) {
                Seek::Member
            } else {
                Seek::Other
            };
        }
        at += 64;
    }
}

/// Whether the last byte before `to` (from `from` on) that is not white
/// space is a `,`: outside strings at an object's top, a string there is
/// a key (after `:` it is a value).
#[inline(always)]
fn after_comma(b: &[u8], from: usize, to: usize) -> bool {
    let prev = b
        .get(from..to)
        .and_then(|gap| {
            gap.iter()
                .rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        })
        .and_then(|k| b.get(from + k));
    prev == Some(&b',')
}

/// The bytes that may follow the opening quote of a key the trusted
/// reader's search looks for, as two nibble tables (Teddy's method: a byte
/// is a member if the bucket bits of its low and high nibble meet; with up
/// to eight bytes each has its own bucket and the test is exact, with more
/// it may say yes wrongly, never no).
#[derive(Clone, Debug, Default)]
pub(super) struct NextBytes {
    lo: [u8; 16],
    hi: [u8; 16],
}

impl NextBytes {
    /// The tables of `bytes`.
    pub(super) fn new(bytes: impl IntoIterator<Item = u8>) -> NextBytes {
        let mut t = NextBytes::default();
        for (i, b) in bytes.into_iter().enumerate() {
            let bucket = 1u8 << (i % 8);
            t.lo[usize::from(b & 15)] |= bucket;
            t.hi[usize::from(b >> 4)] |= bucket;
        }
        t
    }

    /// Whether `b` may be one of the bytes.
    fn contains(&self, b: u8) -> bool {
        self.lo[usize::from(b & 15)] & self.hi[usize::from(b >> 4)] != 0
    }
}

/// The first `"` at or after `from` that is followed by one of `next` and
/// that `verify` accepts (64 bytes a step: quotes and the bytes after them
/// found with AVX2 where the CPU has it, else the quotes with SSE2 and the
/// next byte looked up one quote at a time).
///
/// Most calls ask for the candidate after the last one (the reader's next
/// member key): `cursor` holds the candidates the last scan found, up to
/// [`QuoteCursor::CAP`], so that one scan (one call's fixed cost, each
/// block classified once) serves the whole event.
#[inline]
pub(super) fn find_quote(
    b: &[u8],
    from: usize,
    next: &NextBytes,
    cursor: &mut QuoteCursor,
    verify: impl FnMut(usize) -> bool,
) -> Option<usize> {
    while let Some(&q) = cursor
        .found
        .get(cursor.next..cursor.len)
        .and_then(<[usize]>::first)
    {
        if q >= from {
            return Some(q);
        }
        cursor.next += 1;
    }
    if cursor.resume == usize::MAX {
        return None;
    }
    // Every candidate of a new scan is at or after `from`.
    scan_quotes(b, from.max(cursor.resume), next, cursor, verify);
    cursor
        .found
        .get(..cursor.len)
        .and_then(<[usize]>::first)
        .copied()
}

/// Fills `cursor` with the candidates from `from` on (see [`find_quote`]).
#[inline(always)]
fn scan_quotes(
    b: &[u8],
    from: usize,
    next: &NextBytes,
    cursor: &mut QuoteCursor,
    verify: impl FnMut(usize) -> bool,
) {
    #[cfg(target_arch = "x86_64")]
    if fast::available() {
        // SAFETY: the CPU has every feature `fast::scan_quotes` enables
        // (checked at run time just above).
        #[allow(unsafe_code)]
        return unsafe { fast::scan_quotes(b, from, next, cursor, verify) };
    }
    scan_quotes_portable(b, from, next, cursor, verify)
}

/// [`scan_quotes`] without AVX2 (out of line, as [`member_seek_portable`]).
#[inline(never)]
fn scan_quotes_portable(
    b: &[u8],
    from: usize,
    next: &NextBytes,
    cursor: &mut QuoteCursor,
    verify: impl FnMut(usize) -> bool,
) {
    scan_quotes_with(
        b,
        from,
        cursor,
        |block| next_quotes(block, next),
        |at| at,
        verify,
    )
}

/// The candidates of [`find_quote`]'s last scan of one event (a new event
/// starts with the default, or [`QuoteCursor::reset`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct QuoteCursor {
    found: [usize; QuoteCursor::CAP],
    len: usize,
    /// The first of `found` not yet passed.
    next: usize,
    /// Where a scan for more would start (`usize::MAX`: the event has no
    /// more).
    resume: usize,
}

impl QuoteCursor {
    /// Candidates kept per scan.
    pub(super) const CAP: usize = 16;

    /// Empties the list for a new event (`found` is only read below `len`).
    pub(super) fn reset(&mut self) {
        self.len = 0;
        self.next = 0;
        self.resume = 0;
    }
}

#[inline(always)]
fn scan_quotes_with(
    b: &[u8],
    from: usize,
    cursor: &mut QuoteCursor,
    candidates: impl Fn(&[u8; 64]) -> u64,
    quote_free: impl Fn(usize) -> usize,
    mut verify: impl FnMut(usize) -> bool,
) {
    cursor.len = 0;
    cursor.next = 0;
    cursor.resume = usize::MAX;
    let mut at = from;
    while at < b.len() {
        let mut found = match b
            .get(at..at.wrapping_add(64))
            .and_then(|s| <&[u8; 64]>::try_from(s).ok())
        {
            Some(block) => candidates(block),
            None => match b.last_chunk::<64>() {
                // The event's last 64 bytes, without those before `at` (no
                // copy; `at` is in them since `at + 64` is past the end).
                Some(last) => candidates(last) >> (at + 64 - b.len()),
                // The padding is spaces: no quote.
                None => candidates(&block_at(b, at)),
            },
        };
        if found == 0 {
            // Past a block with no candidate, stretches with no quote at
            // all are passed over (at most 128 bytes looked at in vain).
            at = quote_free(at + 64);
            continue;
        }
        while found != 0 {
            let q = at + found.trailing_zeros() as usize;
            found &= found - 1;
            if verify(q) {
                let Some(slot) = cursor.found.get_mut(cursor.len) else {
                    // Full: the next scan starts at this one.
                    cursor.resume = q;
                    return;
                };
                *slot = q;
                cursor.len += 1;
            }
        }
        at += 64;
    }
}

/// The quotes of `block` followed by one of `next` (the last one kept):
/// SSE2 quotes, the next byte looked up one quote at a time.
fn next_quotes(block: &[u8; 64], next: &NextBytes) -> u64 {
    let mut quotes = classify(block).quote;
    let mut kept = 0;
    while quotes != 0 {
        let bit = quotes & quotes.wrapping_neg();
        let i = bit.trailing_zeros() as usize;
        if block.get(i + 1).is_none_or(|&c| next.contains(c)) {
            kept |= bit;
        }
        quotes ^= bit;
    }
    kept
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
        _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set_epi64x, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };

    /// Whether this CPU has the features of this module: detected once,
    /// then one load (the four std_detect lookups cost ~12 instructions
    /// per call, and the early stop calls this per scan and per seek).
    #[inline]
    pub(super) fn available() -> bool {
        use std::sync::atomic::{AtomicU8, Ordering};
        // 0: not yet detected, 1: no, 2: yes.
        static FAST: AtomicU8 = AtomicU8::new(0);
        match FAST.load(Ordering::Relaxed) {
            0 => detect(&FAST),
            v => v == 2,
        }
    }

    #[cold]
    fn detect(cache: &std::sync::atomic::AtomicU8) -> bool {
        let yes = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1");
        cache.store(1 + u8::from(yes), std::sync::atomic::Ordering::Relaxed);
        yes
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn container_end(b: &[u8], start: usize) -> Option<usize> {
        super::container_end_with(b, start, |block| classify(block), |x| prefix_xor(x))
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn number_array_end(b: &[u8], start: usize, room: usize) -> Option<usize> {
        let (lo, hi) = (table(&NUMERIC_LO), table(&NUMERIC_HI));
        super::number_array_end_with(b, start, room, |block| number_classes(block, lo, hi))
    }

    /// The numeric bytes as a nibble lookup: a byte is numeric when the
    /// entries of its low and high nibbles share a bit. Bit 0: `\t \n \r`
    /// (high nibble 0); bit 1: ` + , - .` (2); bit 2: digits (3); bit 3:
    /// `E` and `e` (4 and 6); bit 4: `[` and `]` (5). High nibbles 8 to 15
    /// (bytes from 0x80) have no bit.
    const NUMERIC_LO: [u8; 16] = [
        0b00110, 0b00100, 0b00100, 0b00100, 0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00101,
        0b00001, 0b10010, 0b00010, 0b10011, 0b00010, 0,
    ];
    const NUMERIC_HI: [u8; 16] = [
        0b00001, 0, 0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[target_feature(enable = "avx2")]
    #[inline]
    fn number_classes(block: &[u8; 64], lo: __m256i, hi: __m256i) -> super::NumberClasses {
        let nibble = _mm256_set1_epi8(0x0f);
        let mut c = super::NumberClasses::default();
        for k in 0..2 {
            let v = half(block, k);
            let shift = 32 * k;
            let low = _mm256_and_si256(v, nibble);
            let high = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
            let both =
                _mm256_and_si256(_mm256_shuffle_epi8(lo, low), _mm256_shuffle_epi8(hi, high));
            c.numeric |=
                (!bits(_mm256_cmpeq_epi8(both, _mm256_setzero_si256())) & 0xFFFF_FFFF) << shift;
            c.open |= bits(eq(v, b'[')) << shift;
            c.close |= bits(eq(v, b']')) << shift;
        }
        c
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn member_seek(b: &[u8], from: usize, to: usize) -> super::Seek {
        super::member_seek_with(b, from, to, |block| classify(block), |x| prefix_xor(x))
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    pub(super) fn scan_quotes(
        b: &[u8],
        from: usize,
        next: &super::NextBytes,
        cursor: &mut super::QuoteCursor,
        verify: impl FnMut(usize) -> bool,
    ) {
        let (lo, hi) = (table(&next.lo), table(&next.hi));
        super::scan_quotes_with(
            b,
            from,
            cursor,
            |block| key_quotes(block, lo, hi),
            |at| quote_free(b, at),
            verify,
        )
    }

    /// The first offset `at + 128 * k` from which the next 128 bytes of
    /// `b` hold a `"` (or are not all there): the quote-free stretches (the
    /// coordinates of citylots' geometry) cost a few instructions per 128
    /// bytes instead of a block's classification per 64.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn quote_free(b: &[u8], mut at: usize) -> usize {
        let quote = _mm256_set1_epi8(b'"' as i8);
        while let Some(two) = b.get(at..).and_then(<[u8]>::first_chunk::<128>) {
            let (x, y) = two.split_at(64);
            let (Some(x), Some(y)) = (x.first_chunk::<64>(), y.first_chunk::<64>()) else {
                break;
            };
            let any = _mm256_or_si256(
                _mm256_or_si256(
                    _mm256_cmpeq_epi8(half(x, 0), quote),
                    _mm256_cmpeq_epi8(half(x, 1), quote),
                ),
                _mm256_or_si256(
                    _mm256_cmpeq_epi8(half(y, 0), quote),
                    _mm256_cmpeq_epi8(half(y, 1), quote),
                ),
            );
            if _mm256_movemask_epi8(any) != 0 {
                break;
            }
            at += 128;
        }
        at
    }

    /// A nibble table in both 128-bit lanes (`vpshufb` looks up per lane).
    #[target_feature(enable = "avx2")]
    fn table(t: &[u8; 16]) -> __m256i {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&t[..8]);
        hi.copy_from_slice(&t[8..]);
        let (lo, hi) = (i64::from_le_bytes(lo), i64::from_le_bytes(hi));
        _mm256_set_epi64x(hi, lo, hi, lo)
    }

    /// The quotes of `block` followed by a byte of the tables (the last
    /// quote's next byte is in the next block: it is kept). A block with no
    /// quote skips the tables (most of citylots' geometry).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn key_quotes(block: &[u8; 64], lo: __m256i, hi: __m256i) -> u64 {
        let (v0, v1) = (half(block, 0), half(block, 1));
        let quote = bits(eq(v0, b'"')) | bits(eq(v1, b'"')) << 32;
        if quote == 0 {
            return 0;
        }
        let nibble = _mm256_set1_epi8(0x0f);
        let member = |v: __m256i| {
            let low = _mm256_and_si256(v, nibble);
            let high = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
            let both =
                _mm256_and_si256(_mm256_shuffle_epi8(lo, low), _mm256_shuffle_epi8(hi, high));
            !bits(_mm256_cmpeq_epi8(both, _mm256_setzero_si256())) & 0xFFFF_FFFF
        };
        let member = member(v0) | member(v1) << 32;
        quote & (member >> 1 | 1 << 63)
    }

    #[target_feature(enable = "pclmulqdq")]
    fn prefix_xor(x: u64) -> u64 {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn half(block: &[u8; 64], k: usize) -> __m256i {
        let (lo, hi) = block.split_at(32);
        let half = if k == 0 { lo } else { hi };
        // SAFETY: `_mm256_loadu_si256` reads the 32 bytes at the pointer
        // and has no alignment requirement; `half` is exactly 32 bytes of
        // `block` (either side of `split_at(32)` of a 64-byte array), so
        // every byte it reads is in bounds and initialised. (Built from
        // four `u64` words instead, the load took five instructions.)
        #[allow(unsafe_code)]
        unsafe {
            _mm256_loadu_si256(half.as_ptr().cast::<__m256i>())
        }
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
    #[inline]
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
                // SAFETY: as above.
                #[allow(unsafe_code)]
                let n = unsafe {
                    super::number_classes(
                        &block,
                        super::table(&super::NUMERIC_LO),
                        super::table(&super::NUMERIC_HI),
                    )
                };
                assert_eq!(n, super::super::number_classes_portable(&block));

                assert_eq!(
                    x,
                    super::super::prefix_xor(u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15))
                );
            }
            // Every byte value, 64 at a time.
            for base in [0u8, 64, 128, 192] {
                let block: [u8; 64] = std::array::from_fn(|i| base + i as u8);
                // SAFETY: the features were detected above.
                #[allow(unsafe_code)]
                let n = unsafe {
                    super::number_classes(
                        &block,
                        super::table(&super::NUMERIC_LO),
                        super::table(&super::NUMERIC_HI),
                    )
                };
                assert_eq!(n, super::super::number_classes_portable(&block));
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

    /// [`number_array_end`] one byte at a time.
    fn number_array_end_reference(b: &[u8], start: usize, room: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, &c) in b.iter().enumerate().skip(start + 1) {
            if !numeric_byte(c) {
                return None;
            }
            match c {
                b'[' => {
                    depth += 1;
                    if depth > room {
                        return None;
                    }
                }
                b']' if depth == 0 => return Some(i + 1),
                b']' => depth -= 1,
                _ => {}
            }
        }
        None
    }

    #[test]
    fn number_arrays_end_at_their_bracket_or_not_at_all() {
        let coordinates = br#"[ [ [ -122.4, 37.8, 0.0 ], [ 1e5, -2E-3, 0 ] ] ], "x": 1"#;
        let end = number_array_end(coordinates, 0, 8).unwrap();
        assert_eq!(&coordinates[end..], br#", "x": 1"#);
        // Nested two levels inside: room 1 is too little.
        assert_eq!(number_array_end(coordinates, 0, 2), Some(end));
        assert_eq!(number_array_end(coordinates, 0, 1), None);
        // A string, an object, a literal, a byte from 0x80: none.
        for bad in [
            &br#"[1, "2"]"#[..],
            b"[1, {}]",
            b"[1, true]",
            b"[null]",
            b"[1, \xc3\xa9]",
        ] {
            assert_eq!(number_array_end(bad, 0, 8), None, "{:?}", bad);
        }
        // What follows the end is not looked at; an unclosed array has none.
        assert_eq!(number_array_end(b"[1]\"x\"", 0, 8), Some(3));
        assert_eq!(number_array_end(b"[[1, 2]", 0, 8), None);
        // Across blocks, with the end in a later one.
        let long = format!("[{}[7]] tail", "[1.25, -3], ".repeat(30));
        let end = number_array_end(long.as_bytes(), 0, 1).unwrap();
        assert_eq!(&long.as_bytes()[end..], b" tail");
        for text in [coordinates.as_slice(), long.as_bytes()] {
            for room in 0..4 {
                assert_eq!(
                    number_array_end_with(text, 0, room, number_classes_portable),
                    number_array_end_reference(text, 0, room)
                );
            }
        }
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

        /// The end of a number array, its room and the bytes it refuses,
        /// on bytes mostly of the numeric kind (and brackets unbalanced at
        /// will), as the byte-at-a-time reference finds them.
        #[test]
        fn number_array_ends_equal_the_byte_scan(
            body in proptest::collection::vec(
                proptest::sample::select(b"[[]]]],,,  0123456789-.eE+\t\n\r\"{}ta\x80"
                    .to_vec()),
                0..300,
            ),
            lead in 0usize..70,
            room in 0usize..6,
        ) {
            let mut text = vec![b' '; lead];
            text.push(b'[');
            text.extend_from_slice(&body);
            let want = number_array_end_reference(&text, lead, room);
            proptest::prop_assert_eq!(number_array_end(&text, lead, room), want);
            proptest::prop_assert_eq!(
                number_array_end_with(&text, lead, room, number_classes_portable),
                want
            );
        }

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

    /// The positions of the opening quotes of the own member keys of the
    /// object whose `{` is at `open`, and the index of its `}` (a plain
    /// byte walk over valid JSON: the reference of `member_seek`).
    fn own_keys(text: &[u8], open: usize) -> (Vec<usize>, usize) {
        let (mut keys, mut depth, mut expect_key) = (Vec::new(), 0usize, true);
        let mut i = open + 1;
        while let Some(&c) = text.get(i) {
            match c {
                b'"' => {
                    if depth == 0 && expect_key {
                        keys.push(i);
                    }
                    i += 1;
                    while let Some(&c) = text.get(i) {
                        match c {
                            b'\\' => i += 1,
                            b'"' => break,
                            _ => {}
                        }
                        i += 1;
                    }
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return (keys, i),
                b'}' | b']' => depth -= 1,
                b':' if depth == 0 => expect_key = false,
                b',' if depth == 0 => expect_key = true,
                _ => {}
            }
            i += 1;
        }
        (keys, text.len())
    }

    #[test]
    fn member_seek_tells_keys_from_values_and_nested_keys() {
        let text = br#"{"a": "\"b", "c": {"b": 1}, "b": [{"b": 2}], "d": 0} , "b": 1"#;
        let at = |needle: &str, n: usize| {
            text.windows(needle.len())
                .enumerate()
                .filter(|(_, w)| *w == needle.as_bytes())
                .nth(n)
                .map(|(i, _)| i)
                .unwrap_or(usize::MAX)
        };
        // A string value, a key of a nested object, the object's own key.
        assert_eq!(member_seek(text, 1, at("\"b", 0) + 1), Seek::Other);
        assert_eq!(member_seek(text, 1, at("\"b\"", 1)), Seek::Other);
        assert_eq!(member_seek(text, 1, at("\"b\"", 2)), Seek::Member);
        assert_eq!(member_seek(text, 1, at("\"b\"", 3)), Seek::Other);
        // Past the object's end.
        let close = at("} ,", 0);
        assert_eq!(member_seek(text, 1, at("\"b\"", 4)), Seek::End(close + 1));
        assert_eq!(member_seek(text, 1, text.len()), Seek::Other);
        // A first block with no bracket or backslash ends inside a string
        // whose `}` and `\"` are in the next block: counted from the quotes.
        for pad in 50..80 {
            let text = format!(r#"{{"a": "{}}}\"", "b": 1}}, "c": 2"#, "x".repeat(pad));
            let b = text.as_bytes();
            let key = text.find(r#""b""#).unwrap_or_default();
            assert_eq!(member_seek(b, 1, key), Seek::Member, "{text}");
            assert_eq!(
                member_seek_with(b, 1, key, portable, prefix_xor),
                Seek::Member
            );
            assert_eq!(member_seek(b, 1, key + 1), Seek::Other);
            let close = text.rfind('}').unwrap_or_default();
            let c = text.find(r#""c""#).unwrap_or_default();
            assert_eq!(member_seek(b, 1, c), Seek::End(close + 1));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// From an object's first key, every later position is told as
        /// the reference walk tells it: one of the object's own keys, a
        /// byte past its end, or neither.
        #[test]
        fn member_seek_agrees_with_a_byte_walk(
            members in proptest::collection::vec(("[a-z\\\\\"\\]]{0,6}", json()), 1..6),
            pretty in proptest::prelude::any::<bool>(),
        ) {
            let object = serde_json::Value::Object(members.into_iter().collect());
            let text = if pretty {
                serde_json::to_string_pretty(&object)
            } else {
                serde_json::to_string(&object)
            }
            .unwrap_or_default();
            let event = format!(r#"{{"pre": 1, "obj": {text}, "post": "x\"{{"}}"#);
            let b = event.as_bytes();
            let open = event.find(r#""obj": "#).unwrap_or_default() + 7;
            let (keys, close) = own_keys(b, open);
            let Some(&from) = keys.first() else {
                return Ok(());
            };
            for to in from + 1..b.len() {
                let want = if to > close {
                    Seek::End(close + 1)
                } else if keys.contains(&to) {
                    Seek::Member
                } else {
                    Seek::Other
                };
                proptest::prop_assert_eq!(member_seek(b, from, to), want, "{} at {}", event, to);
                proptest::prop_assert_eq!(
                    member_seek_with(b, from, to, portable, prefix_xor),
                    want,
                    "{} at {}", event, to
                );
            }
        }

        /// The quote search finds what a byte loop finds, on every path
        /// (AVX2 or SSE2, full blocks, the last block, short events), with
        /// more bytes than the nibble tables tell apart.
        #[test]
        fn find_quote_agrees_with_a_byte_loop(
            text in proptest::collection::vec(proptest::sample::select(b"\"\"\"abcdefghijklmnop{}[]\\ ".to_vec()), 0..600),
            set in proptest::collection::vec(proptest::sample::select(b"abcdefghijklmnop\\".to_vec()), 0..12),
            from in 0usize..300,
            every in 1usize..4,
        ) {
            find_quote_agrees(&text, &set, from, every)?;
        }

        /// The same where long stretches hold no quote (passed over 128
        /// bytes at a time on the AVX2 path), with quotes at every offset
        /// around them.
        #[test]
        fn find_quote_passes_over_quote_free_stretches(
            runs in proptest::collection::vec(
                (0usize..400, proptest::collection::vec(proptest::sample::select(b"\"\"ab\\ ".to_vec()), 0..5)),
                0..6,
            ),
            set in proptest::collection::vec(proptest::sample::select(b"abcdefghijklmnop\\".to_vec()), 0..12),
            from in 0usize..300,
        ) {
            let mut text = Vec::new();
            for (n, piece) in &runs {
                text.extend((0..*n).map(|k| b"abcdefghijklmnop{}[]"[k % 20]));
                text.extend_from_slice(piece);
            }
            find_quote_agrees(&text, &set, from, 1)?;
        }
    }

    /// Checks [`find_quote`] and the portable scan against a byte loop:
    /// the first candidate from `from`, then every later one.
    fn find_quote_agrees(
        text: &[u8],
        set: &[u8],
        from: usize,
        every: usize,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let next = NextBytes::new(set.iter().copied());
        let accept =
            |q: usize| text.get(q + 1).is_some_and(|c| set.contains(c)) && q.is_multiple_of(every);
        let want = (from..text.len()).find(|&q| text[q] == b'"' && accept(q));
        let mut cursor = QuoteCursor::default();
        proptest::prop_assert_eq!(find_quote(text, from, &next, &mut cursor, accept), want);
        // Then every later one, as the reader asks just after each
        // answer (more than `QuoteCursor::CAP` of them: the list refills).
        let mut at = want;
        while let Some(q) = at {
            let again = (q + 1..text.len()).find(|&r| text[r] == b'"' && accept(r));
            proptest::prop_assert_eq!(find_quote(text, q + 1, &next, &mut cursor, accept), again);
            at = again;
        }
        let mut portable = QuoteCursor::default();
        scan_quotes_with(
            text,
            from,
            &mut portable,
            |block| next_quotes(block, &next),
            |at| at,
            accept,
        );
        proptest::prop_assert_eq!(
            portable.found.first().copied().filter(|_| portable.len > 0),
            want
        );
        Ok(())
    }
}
