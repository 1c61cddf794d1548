//! The on-demand event reader: one pass over the bytes, entering only the
//! members whose path some rule uses.
//!
//! Nothing is built for what no rule reads: a skipped member is scanned to
//! its end and forgotten; a string a rule reads is kept as a byte range of
//! the event (its escapes are decoded into a side buffer only when it has
//! any); a number is kept as its literal text and converted only when an
//! automaton edge compares numbers (see [`super::Flat::number`]), and one
//! that no pattern of its field can match is not kept at all (the field's
//! [`super::NumberSieve`], when the automaton gives it one).
//!
//! Two modes ([`ReadMode`]):
//!
//! * **validated**: the whole event is checked as strictly as a full parse
//!   would (RFC 8259 grammar, UTF-8, escapes and surrogate pairs, nesting
//!   depth, nothing after the root), skipped members included; skipping is
//!   then a grammar walk that records nothing.
//! * **trusted**: for bytes known to be valid JSON. Entered members are read
//!   as in validated mode; skipped containers are jumped over by counting
//!   bracket bits outside strings 64 bytes at a time (`stage1`: both kinds
//!   of bracket balance inside valid JSON), skipped strings by the same scan
//!   as read ones with escapes stepped over. UTF-8 is not checked and
//!   trailing text is not looked at. On invalid input the result is
//!   unspecified but safe: an error or some set of leaves, never a panic.
//!
//! **Early stop (trusted mode only, opt-in: `PathTrie::with_early_stop`;
//! it saves 28% of exact-1's instructions but costs 2-12% where the rules
//! read fields all over the event: the README's *The early stop rebuilt*).**
//! Duplicate keys all count
//! (`{"a":"x","a":"y"}` gives `a` both values) and a dotted key reaches the
//! same path as nesting (`{"a.b":1,"a":{"b":2}}`), so a later member can add
//! a value to a path already seen: having seen every path is no reason to
//! stop. Instead, before a member's key, outside any array, the trusted
//! reader asks the trie where the next key that could lead somewhere may
//! start ([`PathTrie::next_key`]: a search of the rest of the
//! event for the raw beginnings of such keys, escapes included). If there is
//! none, no later member at any level would be entered, so the reader stops
//! there: what it would have read next is only jumped over. A duplicate or
//! dotted key later in the event is found by that search like any other, so
//! it still counts. Inside an array the reader never stops (a later element
//! can be a value of the array's own path, with no key before it). The
//! search runs again only once the reader is past the candidate it found, so
//! it covers each byte about once. The same search also lets the reader pass
//! over members: no member before the candidate leads anywhere, so if the
//! candidate's `"` opens a key of the object being read
//! ([`stage1::member_seek`]: bracket bits outside strings counted 64 bytes
//! at a time, the byte before it a `,`), the reader goes there directly; if
//! the object closes first, it goes past its `}`. The validated mode must
//! check every byte, so it reads to the end.
//!
//! Safe Rust: the word-at-a-time scans below use `u64::from_le_bytes` over
//! bounds-checked slices (the SIMD block classes, the 16-byte string scan
//! and the 32-byte digit mask are in `stage1`).

use super::stage1::{self, Seek};
use super::trie::Level;
use super::{
    EventError, EventErrorKind, Frame, Kind, LeafValue, MAX_EVENT_DEPTH, NO_VALUE, PathTrie,
};

/// How much of an event the reader checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadMode {
    /// Every byte is checked: invalid JSON anywhere, also in members no rule
    /// reads, is an [`EventError`]. The default.
    #[default]
    Validated,
    /// The bytes are known to be valid JSON (for example an envelope the
    /// caller built around a payload it already validated): members no rule
    /// reads are skipped without being checked. Invalid input gives an
    /// unspecified result (an error or wrong matches), never a panic.
    Trusted,
}

/// Where the reader writes its leaves (borrowed from the scratch).
pub(super) struct Sink<'s> {
    pub values: &'s mut Vec<LeafValue>,
    pub frames: &'s mut Vec<Frame>,
    pub lists: &'s mut [(u32, u32, u32)],
    pub generation: u32,
    /// Decoded text of strings with escapes.
    pub decoded: &'s mut Vec<u8>,
    /// A decoded key with escapes.
    pub key: &'s mut Vec<u8>,
    pub arrays: u32,
    /// The early stop's candidate keys (kept in the scratch: not zeroed
    /// per event).
    pub quotes: &'s mut stage1::QuoteCursor,
}

/// Reads `event`, collecting the leaves at fields of `trie` into `sink`.
pub(super) fn read(
    event: &[u8],
    trie: &PathTrie,
    mode: ReadMode,
    sink: Sink<'_>,
) -> Result<(), EventError> {
    let validate = mode == ReadMode::Validated;
    if validate && simdutf8::basic::from_utf8(event).is_err() {
        let at = std::str::from_utf8(event)
            .err()
            .map_or(0, |e| e.valid_up_to());
        return Err(EventError::at(
            EventErrorKind::InvalidUtf8,
            "invalid UTF-8",
            at,
        ));
    }
    let stops = !validate && trie.stops_early();
    if stops {
        sink.quotes.reset();
    }
    let mut reader = Reader {
        b: event,
        i: 0,
        validate,
        trie,
        sink,
        search_from: if stops { 0 } else { usize::MAX },
        open_arrays: 0,
        stopped: false,
    };
    reader.root()
}

struct Reader<'e, 's, 't> {
    b: &'e [u8],
    i: usize,
    validate: bool,
    trie: &'t PathTrie,
    sink: Sink<'s>,
    /// The early stop's next search happens at the first member key at or
    /// after this offset (`usize::MAX`: never).
    search_from: usize,
    /// Arrays the reader is inside (no early stop there).
    open_arrays: u32,
    /// Set by an early stop: every enclosing object returns at once.
    stopped: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `j`, if there are eight.
#[inline(always)]
fn word(b: &[u8], j: usize) -> Option<u64> {
    let chunk: [u8; 8] = b.get(j..j.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// High bit set in each byte of `v` that is zero. Bits above the lowest set
/// one may be false positives (borrows); the lowest is exact.
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// The first index at or after `j` holding `"`, `\` or a control character
/// (below 0x20), or `b.len()`: 16 bytes a step (`stage1::string_stops`),
/// the last few a word or a byte at a time.
#[inline]
fn find_string_special(b: &[u8], mut j: usize) -> usize {
    while let Some(chunk) = b.get(j..).and_then(<[u8]>::first_chunk::<16>) {
        let m = super::stage1::string_stops(chunk);
        if m != 0 {
            return j + m.trailing_zeros() as usize;
        }
        j += 16;
    }
    while let Some(v) = word(b, j) {
        let quote = zero_bytes(v ^ (LO * u64::from(b'"')));
        let backslash = zero_bytes(v ^ (LO * u64::from(b'\\')));
        let control = v.wrapping_sub(LO * 0x20) & !v & HI;
        let m = quote | backslash | control;
        if m != 0 {
            return j + (m.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while let Some(&c) = b.get(j) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return j;
        }
        j += 1;
    }
    j
}

/// The first index at or after `j` that is not an ASCII digit, or `b.len()`.
#[inline]
pub(super) fn digits_end(b: &[u8], mut j: usize) -> usize {
    while let Some(v) = word(b, j) {
        // A byte is a digit iff its high nibble is 3 and adding 6 keeps it 3.
        // A carry out of a non-digit byte only disturbs bytes above it.
        let high = (v & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030;
        let over = (v.wrapping_add(LO * 6) & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030;
        let m = high | over;
        if m != 0 {
            return j + (m.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while let Some(c) = b.get(j) {
        if !c.is_ascii_digit() {
            return j;
        }
        j += 1;
    }
    j
}

/// The first index at or after `j` that is not JSON whitespace.
#[inline(always)]
fn skip_ws(b: &[u8], mut j: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(j) {
        j += 1;
    }
    j
}

/// The end of the number literal (RFC 8259 grammar) at `i`, or where it
/// goes wrong and why.
fn scan_number(b: &[u8], i: usize) -> Result<usize, (usize, &'static str)> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits_end(b, j + 1),
        _ => return Err((j, "invalid number")),
    }
    if b.get(j) == Some(&b'.') {
        let k = digits_end(b, j + 1);
        if k == j + 1 {
            return Err((k, "invalid number: digits expected after '.'"));
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
            return Err((k, "invalid number: digits expected in the exponent"));
        }
        j = k;
    }
    Ok(j)
}

/// The length of the number literal that starts `chunk`, if it is valid,
/// has no exponent and ends inside the chunk (`None`: let [`scan_number`]
/// decide). Exactly the literals `scan_number` accepts there, with the
/// same end.
#[inline(always)]
fn plain_number_len(chunk: &[u8; 32]) -> Option<usize> {
    plain_number(chunk).map(|(len, _)| len)
}

/// [`plain_number_len`] and the literal's integer digits as the number
/// sieve's bands count them (0 for `0.x`: see `util::bands`).
#[inline(always)]
fn plain_number(chunk: &[u8; 32]) -> Option<(usize, usize)> {
    let digits = u64::from(super::stage1::digits(chunk));
    // The digits from `j` on (at most 32: the bits above the chunk's are 0).
    let run = |j: usize| (!(digits >> j)).trailing_zeros() as usize;
    let mut j = usize::from(chunk[0] == b'-');
    let int = run(j);
    let zero = chunk.get(j) == Some(&b'0');
    // No digit, or a leading zero followed by digits (an error later).
    if int == 0 || (int > 1 && zero) {
        return None;
    }
    j += int;
    if chunk.get(j)? == &b'.' {
        let frac = run(j + 1);
        if frac == 0 {
            return None;
        }
        j += 1 + frac;
    }
    match chunk.get(j)? {
        b'e' | b'E' => None,
        _ => Some((j, if zero { 0 } else { int })),
    }
}

/// Reads array elements from `i` (a number's first byte) while they are
/// numbers, each with the separator after it, calling `each(start, end,
/// int_digits)` for each literal (`int_digits`: its integer digits as
/// [`plain_number`] counts them, when it has no exponent and was read from
/// the digit mask): where it stopped (the next element, past the `]`, or
/// the error's offset) and whether the `]` ended the run. The grammar and
/// error offsets of `Reader::number` then `Reader::next_or_close(b']')`
/// per element; inlined into its two callers (reading and validated
/// skipping) so that the position stays in a register.
#[inline(always)]
fn number_run(
    b: &[u8],
    mut i: usize,
    mut each: impl FnMut(usize, usize, Option<usize>),
) -> (usize, Result<bool, (EventErrorKind, &'static str)>) {
    loop {
        let start = i;
        let plain = b
            .get(i..)
            .and_then(<[u8]>::first_chunk::<32>)
            .and_then(plain_number);
        let digits = plain.map(|(_, digits)| digits);
        i = match plain {
            Some((len, _)) => i + len,
            None => match scan_number(b, i) {
                Ok(end) => end,
                Err((at, what)) => return (at, Err((EventErrorKind::InvalidNumber, what))),
            },
        };
        each(start, i, digits);
        // The common no-whitespace case first.
        let mut c = b.get(i).copied();
        if let Some(b' ' | b'\n' | b'\r' | b'\t') = c {
            i = skip_ws(b, i);
            c = b.get(i).copied();
        }
        match c {
            Some(b',') => {
                i = skip_ws(b, i + 1);
                if !matches!(b.get(i), Some(b'-' | b'0'..=b'9')) {
                    return (i, Ok(false));
                }
            }
            Some(b']') => return (i + 1, Ok(true)),
            _ => {
                return (
                    i,
                    Err((EventErrorKind::Syntax, "expected ',' or ']' in an array")),
                );
            }
        }
    }
}

/// A scanned string: its content is `b[start..end]`; `escaped` if it
/// contains a backslash.
#[derive(Clone, Copy)]
struct Scanned {
    start: usize,
    end: usize,
    escaped: bool,
}

/// What the early stop found at a member key ([`Reader::next_candidate`]).
enum Candidate {
    /// Read on from `self.i` (the key there, or the candidate's).
    Here,
    /// No later key leads anywhere: stop.
    Stop,
    /// The object ended before the candidate: `self.i` is past its `}`.
    PastEnd,
}

impl Reader<'_, '_, '_> {
    fn error(&self, kind: EventErrorKind, what: &str) -> EventError {
        EventError::at(kind, what, self.i)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn too_deep(&self) -> EventError {
        EventError::at(
            EventErrorKind::TooDeep,
            &format!("nested deeper than {MAX_EVENT_DEPTH} levels"),
            self.i,
        )
    }

    fn root(&mut self) -> Result<(), EventError> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(PathTrie::ROOT, true, 0, 1)?,
            Some(_) => {
                if self.validate {
                    self.check_value(0)?;
                    self.end()?;
                }
                return Err(EventError::new(
                    EventErrorKind::NotAnObject,
                    "an event must be a JSON object",
                ));
            }
            None => return Err(self.error(EventErrorKind::UnexpectedEnd, "empty input")),
        }
        if self.validate {
            self.end()?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), EventError> {
        self.ws();
        if self.i != self.b.len() {
            return Err(self.error(
                EventErrorKind::TrailingText,
                "unexpected text after the event",
            ));
        }
        Ok(())
    }

    /// After a member or element: `,` (true) or `close` (false).
    #[inline]
    fn next_or_close(&mut self, close: u8) -> Result<bool, EventError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => Err(self.error(
                EventErrorKind::Syntax,
                if close == b'}' {
                    "expected ',' or '}' in an object"
                } else {
                    "expected ',' or ']' in an array"
                },
            )),
        }
    }

    #[inline]
    fn colon(&mut self) -> Result<(), EventError> {
        self.ws();
        if self.peek() != Some(b':') {
            return Err(self.error(EventErrorKind::Syntax, "expected ':' after an object key"));
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// Reads the object at `self.i` (its `{`) whose path is trie `node`.
    fn object(&mut self, node: u32, top: bool, frame: u32, depth: usize) -> Result<(), EventError> {
        if depth > MAX_EVENT_DEPTH {
            return Err(self.too_deep());
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        // The same for every member: looked up once.
        let trie = self.trie;
        let level = trie.level(node, top);
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error(EventErrorKind::Syntax, "expected a string key"));
            }
            if self.i >= self.search_from && self.open_arrays == 0 {
                match self.next_candidate() {
                    Candidate::Here => {}
                    Candidate::Stop => {
                        self.stopped = true;
                        return Ok(());
                    }
                    Candidate::PastEnd => return Ok(()),
                }
            }
            let key = self.string()?;
            let child = self.member(level, node, key, top)?;
            self.colon()?;
            match child {
                Some(child) => {
                    self.value(child, frame, depth)?;
                    if self.stopped {
                        return Ok(());
                    }
                }
                None => self.skip(depth)?,
            }
            if !self.next_or_close(b'}')? {
                return Ok(());
            }
        }
    }

    /// The early stop at the member key at `self.i` (outside arrays): where
    /// the next key that may lead somewhere is, passing over the members
    /// before it when it is one of this object's keys.
    #[inline(never)]
    fn next_candidate(&mut self) -> Candidate {
        let Some(at) = self.trie.next_key(self.b, self.i, self.sink.quotes) else {
            return Candidate::Stop;
        };
        // The candidate's own key is read as usual; the next search is for
        // what comes after it.
        self.search_from = at + 1;
        if at > self.i {
            // No member before the candidate is entered.
            match stage1::member_seek(self.b, self.i, at) {
                Seek::Member => self.i = at,
                Seek::End(end) => {
                    // The enclosing object asks again at its next key (the
                    // search's kept candidates answer at once).
                    self.i = end;
                    self.search_from = end;
                    return Candidate::PastEnd;
                }
                Seek::Other => {}
            }
        }
        Candidate::Here
    }

    /// The trie node of member `key` of an object at `node`, whose keys
    /// are `level` (`PathTrie::level`).
    #[inline]
    fn member(
        &mut self,
        level: Option<&Level>,
        node: u32,
        key: Scanned,
        top: bool,
    ) -> Result<Option<u32>, EventError> {
        let Some(level) = level else {
            return Ok(None);
        };
        if !key.escaped {
            let bytes = self.b.get(key.start..key.end).unwrap_or_default();
            return Ok(self.trie.member_in(level, node, bytes, top));
        }
        let mut buf = std::mem::take(self.sink.key);
        buf.clear();
        let decoded = self.decode(key, &mut buf);
        let found = decoded.map(|()| self.trie.member_in(level, node, &buf, top));
        *self.sink.key = buf;
        found
    }

    /// Reads the value at `self.i`, whose path is trie `node` (entered).
    /// `depth` is the nesting level of the container holding it.
    fn value(&mut self, node: u32, frame: u32, depth: usize) -> Result<(), EventError> {
        match self.peek() {
            Some(b'{') => {
                if self.trie.has_children(node) {
                    self.object(node, false, frame, depth + 1)
                } else {
                    self.skip(depth)
                }
            }
            Some(b'[') => {
                if !self.validate && self.pass_number_array(node, depth + 1) {
                    return Ok(());
                }
                self.array(node, frame, depth + 1)
            }
            _ => self.scalar(self.trie.field(node), frame),
        }
    }

    /// Trusted mode: passes over the array at `self.i` (nested at `level`)
    /// without reading it when reading it would record nothing: its bytes
    /// hold only numbers and arrays, nested within [`MAX_EVENT_DEPTH`]
    /// (`stage1::number_array_end`), and its field's sieve refuses every
    /// one of them ([`super::NumberSieve::refuses_all_in`]: no number
    /// spelled as one of the field's texts occurs). So an array of
    /// coordinates on a field whose rules name a few coordinates costs two
    /// SIMD scans of its bytes instead of a scan per number and a frame per
    /// pair. Else (an occurrence, a string, ...) the array is read as
    /// usual, and the scans were wasted; nested arrays are not tried again.
    #[inline(never)]
    fn pass_number_array(&mut self, node: u32, level: usize) -> bool {
        let Some(sieve) = self
            .trie
            .field(node)
            .and_then(|f| self.trie.number_sieve(f))
            .filter(|s| s.refuses_by_text())
        else {
            return false;
        };
        let Some(end) = MAX_EVENT_DEPTH
            .checked_sub(level)
            .and_then(|room| stage1::number_array_end(self.b, self.i, room))
        else {
            return false;
        };
        if !sieve.refuses_all_in(self.b.get(self.i..end).unwrap_or_default()) {
            return false;
        }
        self.i = end;
        true
    }

    fn array(&mut self, node: u32, frame: u32, depth: usize) -> Result<(), EventError> {
        if depth > MAX_EVENT_DEPTH {
            return Err(self.too_deep());
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        self.sink.arrays += 1;
        let array = self.sink.arrays;
        self.open_arrays += 1;
        let read = self.elements(node, frame, depth, array);
        self.open_arrays -= 1;
        read
    }

    /// The elements of the array `array` (after its `[`, not empty).
    fn elements(
        &mut self,
        node: u32,
        frame: u32,
        depth: usize,
        array: u32,
    ) -> Result<(), EventError> {
        let field = self.trie.field(node);
        let mut index = 0u32;
        loop {
            match self.peek() {
                Some(b'{') if !self.trie.has_children(node) => self.skip(depth)?,
                Some(open @ (b'{' | b'[')) => {
                    self.sink.frames.push(Frame {
                        array,
                        index,
                        parent: frame,
                    });
                    let element = (self.sink.frames.len() - 1) as u32;
                    if open == b'{' {
                        self.object(node, false, element, depth + 1)?;
                    } else {
                        self.array(node, element, depth + 1)?;
                    }
                }
                // Arrays of numbers (coordinates) are common: read in one
                // loop up to the close or an element that is not a number.
                Some(b'-' | b'0'..=b'9') => {
                    let (count, closed) = self.numbers(field, frame)?;
                    if closed {
                        return Ok(());
                    }
                    index = index.wrapping_add(count);
                    continue;
                }
                _ => self.scalar(field, frame)?,
            }
            index = index.wrapping_add(1);
            if !self.next_or_close(b']')? {
                return Ok(());
            }
        }
    }

    /// Reads the array elements from `self.i` (a number's first byte) while
    /// they are numbers, recording them if `field`, with the separator
    /// after each: how many, and whether the array's `]` ended them (else
    /// `self.i` is at the next element, which is not a number).
    ///
    /// The same grammar and errors as [`Self::number_leaf`] then
    /// [`Self::next_or_close`] per element, in one loop over locals: the
    /// field's list is linked once per run (the run's leaves are adjacent,
    /// each linked to the next as it is pushed) and the leaf vector is
    /// taken out of the sink so that its length stays in a register.
    #[inline(never)]
    fn numbers(&mut self, field: Option<u32>, frame: u32) -> Result<(u32, bool), EventError> {
        // `push` records nothing for a field out of the lists either.
        let field = field.filter(|&f| (f as usize) < self.sink.lists.len());
        let sieve = field.and_then(|f| self.trie.number_sieve(f));
        let b = self.b;
        let i = self.i;
        let mut values = std::mem::take(self.sink.values);
        let first = values.len();
        let mut count = 0u32;
        let (i, ended) = number_run(b, i, |start, end, int_digits| {
            count = count.wrapping_add(1);
            if let Some(field) = field
                && sieve.is_none_or(|s| {
                    let text = b.get(start..end).unwrap_or_default();
                    match int_digits {
                        Some(digits) => s.keeps_plain(text, digits),
                        None => s.keeps(text),
                    }
                })
            {
                let at = values.len() as u32;
                let mut leaf = LeafValue::new(
                    field,
                    Kind::Number,
                    start as u32,
                    (end - start) as u32,
                    false,
                    frame,
                );
                leaf.next = at.wrapping_add(1);
                values.push(leaf);
            }
        });
        if let Some(field) = field {
            self.link_run(&mut values, field, first);
        }
        *self.sink.values = values;
        self.i = i;
        match ended {
            Ok(closed) => Ok((count, closed)),
            Err((kind, what)) => Err(self.error(kind, what)),
        }
    }

    /// Links the leaves `values[first..]` of `field` (each already linked
    /// to the next) at the end of the field's list.
    fn link_run(&mut self, values: &mut [LeafValue], field: u32, first: usize) {
        let Some(last) = values.len().checked_sub(1).filter(|&l| l >= first) else {
            return;
        };
        if let Some(leaf) = values.get_mut(last) {
            leaf.next = NO_VALUE;
        }
        let generation = self.sink.generation;
        let Some(list) = self.sink.lists.get_mut(field as usize) else {
            return;
        };
        let (first, last) = (first as u32, last as u32);
        if list.0 == generation {
            if let Some(tail) = values.get_mut(list.2 as usize) {
                tail.next = first;
            }
            list.2 = last;
        } else {
            *list = (generation, first, last);
        }
    }

    /// Appends a leaf and links it at the end of its field's list.
    #[inline]
    fn push(
        &mut self,
        field: u32,
        kind: Kind,
        start: usize,
        len: usize,
        decoded: bool,
        frame: u32,
    ) {
        let at = self.sink.values.len() as u32;
        let generation = self.sink.generation;
        let Some(list) = self.sink.lists.get_mut(field as usize) else {
            return;
        };
        if list.0 == generation {
            if let Some(last) = self.sink.values.get_mut(list.2 as usize) {
                last.next = at;
            }
            list.2 = at;
        } else {
            *list = (generation, at, at);
        }
        self.sink.values.push(LeafValue::new(
            field,
            kind,
            start as u32,
            len as u32,
            decoded,
            frame,
        ));
    }

    /// Reads a scalar (a string, number or literal); records it if `field`.
    #[inline]
    fn scalar(&mut self, field: Option<u32>, frame: u32) -> Result<(), EventError> {
        match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                if let Some(field) = field {
                    if s.escaped {
                        let mut buf = std::mem::take(self.sink.decoded);
                        let start = buf.len();
                        let decoded = self.decode(s, &mut buf);
                        let len = buf.len() - start;
                        *self.sink.decoded = buf;
                        decoded?;
                        self.push(field, Kind::String, start, len, true, frame);
                    } else {
                        self.push(field, Kind::String, s.start, s.end - s.start, false, frame);
                    }
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number_leaf(field, frame),
            Some(b't') => self.literal(b"true", field, Kind::True, frame),
            Some(b'f') => self.literal(b"false", field, Kind::False, frame),
            Some(b'n') => self.literal(b"null", field, Kind::Null, frame),
            Some(_) => Err(self.error(EventErrorKind::Syntax, "expected a JSON value")),
            None => Err(self.error(EventErrorKind::UnexpectedEnd, "unexpected end of input")),
        }
    }

    /// Reads the number at `self.i`; records it if `field`.
    #[inline]
    fn number_leaf(&mut self, field: Option<u32>, frame: u32) -> Result<(), EventError> {
        let start = self.i;
        self.number()?;
        if let Some(field) = field {
            self.push_number(field, start, frame);
        }
        Ok(())
    }

    /// Records the number `b[start..self.i]` of `field` unless its sieve
    /// refuses it. Out of line, so that the members' loop of
    /// [`Self::object`], into which the scalar reading is inlined, stays
    /// as small as before the sieves.
    #[inline(never)]
    fn push_number(&mut self, field: u32, start: usize, frame: u32) {
        let text = self.b.get(start..self.i).unwrap_or_default();
        if self.trie.number_sieve(field).is_none_or(|s| s.keeps(text)) {
            self.push(field, Kind::Number, start, self.i - start, false, frame);
        }
    }

    fn literal(
        &mut self,
        word: &[u8],
        field: Option<u32>,
        kind: Kind,
        frame: u32,
    ) -> Result<(), EventError> {
        if self.b.get(self.i..self.i + word.len()) != Some(word) {
            return Err(self.error(EventErrorKind::Syntax, "expected a JSON value"));
        }
        self.i += word.len();
        if let Some(field) = field {
            self.push(field, kind, 0, 0, false, frame);
        }
        Ok(())
    }

    /// Reads a number literal (RFC 8259 grammar) at `self.i`.
    ///
    /// Most literals (coordinates) have no exponent and are followed by 32
    /// bytes of the event: their digit runs come from one SIMD digit mask
    /// ([`plain_number_len`]), inlined in every caller; the rest (and every
    /// error) are scanned by [`scan_number`].
    #[inline(always)]
    fn number(&mut self) -> Result<(), EventError> {
        let plain = self
            .b
            .get(self.i..)
            .and_then(<[u8]>::first_chunk::<32>)
            .and_then(plain_number_len);
        match plain {
            Some(len) => {
                self.i += len;
                Ok(())
            }
            None => self.number_slow(),
        }
    }

    /// [`Self::number`] byte by byte (exponents, the end of the event,
    /// errors).
    #[inline(never)]
    fn number_slow(&mut self) -> Result<(), EventError> {
        match scan_number(self.b, self.i) {
            Ok(end) => {
                self.i = end;
                Ok(())
            }
            Err((at, what)) => {
                self.i = at;
                Err(self.error(EventErrorKind::InvalidNumber, what))
            }
        }
    }

    /// Scans the string whose `"` is at `self.i`; leaves `self.i` after its
    /// closing quote. In validated mode, control characters and escapes are
    /// checked (also `\u` surrogate pairs).
    ///
    /// Most strings of an event are short and plain: the first 16 bytes
    /// hold the closing quote and nothing else the scan stops at. That case
    /// is inlined in every caller (one SSE2 step, no call, the result in
    /// registers); anything else goes to [`Self::string_slow`].
    #[inline(always)]
    fn string(&mut self) -> Result<Scanned, EventError> {
        let start = self.i + 1;
        if let Some(chunk) = self.b.get(start..).and_then(<[u8]>::first_chunk::<16>) {
            // No stop in the chunk gives 32: out of it, so the slow path.
            let stop = super::stage1::string_stops(chunk).trailing_zeros() as usize;
            if chunk.get(stop) == Some(&b'"') {
                self.i = start + stop + 1;
                return Ok(Scanned {
                    start,
                    end: start + stop,
                    escaped: false,
                });
            }
        }
        self.string_slow()
    }

    /// [`Self::string`] for strings that are long, escaped, invalid or
    /// near the end of the event.
    #[inline(never)]
    fn string_slow(&mut self) -> Result<Scanned, EventError> {
        let b = self.b;
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            j = find_string_special(b, j);
            match b.get(j) {
                Some(b'"') => {
                    self.i = j + 1;
                    return Ok(Scanned {
                        start,
                        end: j,
                        escaped,
                    });
                }
                Some(b'\\') => {
                    escaped = true;
                    j = if self.validate {
                        match self.escape(j) {
                            Ok((_, next)) => next,
                            Err(reason) => {
                                self.i = j;
                                return Err(self.error(escape_kind(reason), reason));
                            }
                        }
                    } else {
                        j + 2
                    };
                }
                Some(_) => {
                    if self.validate {
                        self.i = j;
                        return Err(self.error(
                            EventErrorKind::InvalidString,
                            "control character in a string",
                        ));
                    }
                    j += 1;
                }
                None => {
                    self.i = b.len();
                    return Err(self.error(EventErrorKind::UnexpectedEnd, "unterminated string"));
                }
            }
        }
    }

    /// The escape at `j` (its backslash): the character and where the next
    /// byte is. Lone surrogates are errors (as in a full parse).
    fn escape(&self, j: usize) -> Result<(char, usize), &'static str> {
        super::stage1::escape_at(self.b, j)
    }

    /// Appends the decoded content of `s` to `out`.
    fn decode(&mut self, s: Scanned, out: &mut Vec<u8>) -> Result<(), EventError> {
        let b = self.b;
        let mut j = s.start;
        while j < s.end {
            let Some(k) = memchr::memchr(b'\\', b.get(j..s.end).unwrap_or_default()) else {
                out.extend_from_slice(b.get(j..s.end).unwrap_or_default());
                break;
            };
            out.extend_from_slice(b.get(j..j + k).unwrap_or_default());
            j += k;
            match self.escape(j) {
                Ok((c, next)) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    j = next;
                }
                Err(reason) => {
                    self.i = j;
                    return Err(self.error(escape_kind(reason), reason));
                }
            }
        }
        Ok(())
    }

    /// Skips the value at `self.i`, which no rule reads. `depth` is the
    /// nesting level of the container holding it.
    #[inline(always)]
    fn skip(&mut self, depth: usize) -> Result<(), EventError> {
        if self.validate {
            self.check_value(depth)
        } else if self.peek() == Some(b'"') {
            // Most skipped values are short strings: scanned inline.
            self.jump_string()
        } else {
            self.jump()
        }
    }

    /// Validated skipping: the grammar, recording nothing.
    fn check_value(&mut self, depth: usize) -> Result<(), EventError> {
        match self.peek() {
            Some(b'{') => {
                if depth + 1 > MAX_EVENT_DEPTH {
                    return Err(self.too_deep());
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(self.error(EventErrorKind::Syntax, "expected a string key"));
                    }
                    self.string()?;
                    self.colon()?;
                    self.check_value(depth + 1)?;
                    if !self.next_or_close(b'}')? {
                        return Ok(());
                    }
                }
            }
            Some(b'[') => {
                if depth + 1 > MAX_EVENT_DEPTH {
                    return Err(self.too_deep());
                }
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    // Numbers (coordinates) are most skipped elements:
                    // checked a run at a time, without a recursive call each.
                    if let Some(b'-' | b'0'..=b'9') = self.peek() {
                        let (i, ended) = number_run(self.b, self.i, |_, _, _| ());
                        self.i = i;
                        match ended {
                            Ok(true) => return Ok(()),
                            Ok(false) => continue,
                            Err((kind, what)) => return Err(self.error(kind, what)),
                        }
                    }
                    self.check_value(depth + 1)?;
                    if !self.next_or_close(b']')? {
                        return Ok(());
                    }
                }
            }
            // Skipped numbers (coordinates) are the most common scalars.
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.scalar(None, 0),
        }
    }

    /// Trusted skipping: jump to the end of the value without checking it.
    fn jump(&mut self) -> Result<(), EventError> {
        match self.peek() {
            Some(b'{' | b'[') => match super::stage1::container_end(self.b, self.i) {
                Some(end) => {
                    self.i = end;
                    Ok(())
                }
                None => {
                    self.i = self.b.len();
                    Err(self.error(EventErrorKind::UnexpectedEnd, "unexpected end of input"))
                }
            },
            Some(b'"') => self.jump_string(),
            _ => self.scalar(None, 0),
        }
    }

    /// Trusted skipping of a string: the same word-at-a-time scan as a
    /// read string (most skipped strings are short, where `memchr` costs
    /// more than it saves), escapes stepped over unchecked.
    #[inline(always)]
    fn jump_string(&mut self) -> Result<(), EventError> {
        self.string().map(|_| ())
    }
}

/// The kind of an escape error's reason (from `Reader::escape`).
fn escape_kind(reason: &str) -> EventErrorKind {
    if reason == "unterminated string" {
        EventErrorKind::UnexpectedEnd
    } else {
        EventErrorKind::InvalidString
    }
}

impl LeafValue {
    #[inline]
    pub(super) fn new(
        field: u32,
        kind: Kind,
        start: u32,
        len: u32,
        decoded: bool,
        frame: u32,
    ) -> LeafValue {
        LeafValue {
            field,
            kind,
            decoded,
            start,
            len,
            number: std::cell::Cell::new(f64::NAN),
            exact: std::cell::Cell::new(super::Exactness::Unknown),
            digits: std::cell::Cell::new(Default::default()),
            frame,
            next: NO_VALUE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_scan_finds_the_first_special_byte() {
        let text = b"abcdefghijklmnop\"qr";
        assert_eq!(find_string_special(text, 0), 16);
        assert_eq!(find_string_special(b"abc\\d", 0), 3);
        assert_eq!(find_string_special(b"abcdefgh\x01", 0), 8);
        assert_eq!(find_string_special(b"a\x7f\xff\xe9abcdefg", 0), 11);
        // Every length, start and position: the 16-byte steps, the word
        // and the byte tails.
        for len in 0..50 {
            for from in 0..=len {
                let s = vec![b'x'; len];
                assert_eq!(find_string_special(&s, from), len);
                for i in from..len {
                    for c in [b'"', b'\\', 0x1f, 0x00] {
                        let mut s = s.clone();
                        s[i] = c;
                        assert_eq!(find_string_special(&s, from), i, "{len} {from} {i}");
                    }
                }
            }
        }
    }

    /// The SIMD fast path takes common literals and agrees with the byte
    /// scan on every literal it takes (random texts over the characters
    /// of numbers and what follows them).
    #[test]
    fn plain_numbers_agree_with_the_byte_scan() {
        let chunk = |text: &[u8]| {
            let mut c = [b' '; 32];
            c[..text.len()].copy_from_slice(text);
            c
        };
        for (text, len) in [
            (&b"-122.4733933858251, 0.0"[..], Some(18)),
            (b"37.721566337210001 ]", Some(18)),
            (b"0.0 ]", Some(3)),
            (b"0,", Some(1)),
            (b"-0]", Some(2)),
            (b"7", Some(1)),
            (b"1e5", None),
            (b"01", None),
            (b"1.", None),
            (b"-", None),
            (b"12345678901234567890123456789012", None),
        ] {
            assert_eq!(plain_number_len(&chunk(text)), len, "{text:?}");
        }
        let alphabet = b"-+.eE0123456789 ,]x";
        let mut next = crate::util::test_rng::xorshift(0x3C6E_F372_FE94_F82B);
        let mut taken = 0;
        for _ in 0..200_000 {
            let n = (next() % 33) as usize;
            let mut c = [0u8; 32];
            for b in &mut c {
                let r = next();
                // Mostly digits, so that long runs occur.
                *b = if r & 3 != 0 {
                    b'0' + (r >> 8) as u8 % 10
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                };
            }
            // Sometimes a real end, sometimes 32 bytes of number-ish text.
            let mut text = c.to_vec();
            if n < 32 {
                text.truncate(n);
                text.push(b',');
            }
            let chunk: [u8; 32] = match text.get(..32) {
                Some(head) => head.try_into().unwrap_or_default(),
                None => chunk(&text),
            };
            let mut padded = text.clone();
            padded.resize(64, b' ');
            if let Some((len, digits)) = plain_number(&chunk) {
                taken += 1;
                assert_eq!(scan_number(&padded, 0), Ok(len), "{:?}", text);
                // The integer digits as the bands count them.
                let body = text.strip_prefix(b"-").unwrap_or(&text);
                let int = body.iter().take_while(|c| c.is_ascii_digit()).count();
                assert_eq!(digits, if body[0] == b'0' { 0 } else { int }, "{:?}", text);
            }
        }
        assert!(taken > 10_000, "{taken}");
    }

    #[test]
    fn digit_scan_stops_at_the_first_non_digit() {
        for i in 0..20 {
            let mut s = vec![b'7'; 20];
            for c in [b'.', b'e', b'/', b':', 0xff, b' ', b'0' - 1, b'9' + 1] {
                s[i] = c;
                assert_eq!(digits_end(&s, 0), i, "{c} at {i}");
            }
            s[i] = b'0';
            assert_eq!(digits_end(&s, 0), 20);
        }
    }
}
