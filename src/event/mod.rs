//! Events: from JSON bytes to the flattened leaf values that rules can use.
//!
//! Two readers fill the same [`FlattenScratch`]:
//!
//! * [`FlattenScratch::read`] (module `reader`), the one matching uses: one
//!   on-demand pass over the bytes that enters only members whose path some
//!   rule uses, keeps strings as byte ranges and numbers as text, in a
//!   validated or a trusted [`ReadMode`];
//! * [`FlattenScratch::flatten_tape`], the full parse with simd-json into a
//!   tape, walked with simd-json's structural indexes in lockstep. It is kept
//!   as the test oracle for the reader (differential tests and fuzzing).
//!
//! A [`PathTrie`] of every field path some rule names tells both which
//! members to enter; with the automaton's [`NumberSieve`]s it also tells
//! the reader which numbers are worth recording.

mod reader;
mod sieve;
mod stage1;
mod trie;

pub use reader::ReadMode;
pub(crate) use sieve::NumberSieve;
pub(crate) use trie::PathTrie;

use std::cell::{Cell, RefCell};
use std::sync::LazyLock;

use crate::util::number::{Quick, Significand};
use std::fmt;

use simd_json::{Buffers, INPUT_PADDING, Node, StaticNode, Tape};

/// Events nested deeper than this are rejected.
pub const MAX_EVENT_DEPTH: usize = 512;

/// Why an event could not be matched: a [kind](EventErrorKind), the byte
/// offset where the reader stopped (when there is one) and a message for
/// people.
///
/// ```
/// use ferrule::{EventErrorKind, validate_event};
///
/// let e = validate_event(br#"{"a": [1, 2}"#).unwrap_err();
/// assert_eq!(e.kind(), EventErrorKind::Syntax);
/// assert_eq!(e.offset(), Some(11));
/// assert_eq!(e.message(), "invalid JSON: expected ',' or ']' in an array at byte 11");
/// assert_eq!(validate_event(b"[1]").unwrap_err().kind(), EventErrorKind::NotAnObject);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    kind: EventErrorKind,
    offset: Option<usize>,
    message: String,
}

/// The class of an [`EventError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventErrorKind {
    /// Not JSON: an unexpected character, a missing `,`, `:` or bracket, a
    /// misspelt literal, a key that is not a string.
    Syntax,
    /// A number that breaks JSON's grammar (`01`, `1.`, `1e`, `-`).
    InvalidNumber,
    /// A string with a raw control character, an unknown escape, a bad
    /// `\u` escape or a lone surrogate.
    InvalidString,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// The input ends inside a value (or holds nothing but white space).
    UnexpectedEnd,
    /// Text after the event's closing brace.
    TrailingText,
    /// Objects and arrays nested deeper than [`MAX_EVENT_DEPTH`].
    TooDeep,
    /// Valid JSON, but not an object (an event is a JSON object).
    NotAnObject,
    /// An event of 4 GiB or more.
    TooLarge,
}

impl EventError {
    pub(crate) fn new(kind: EventErrorKind, message: impl Into<String>) -> EventError {
        EventError {
            kind,
            offset: None,
            message: message.into(),
        }
    }

    /// An error of invalid JSON found at byte `offset`.
    pub(crate) fn at(kind: EventErrorKind, reason: &str, offset: usize) -> EventError {
        EventError {
            kind,
            offset: Some(offset),
            message: format!("invalid JSON: {reason} at byte {offset}"),
        }
    }

    /// The class of the error.
    pub fn kind(&self) -> EventErrorKind {
        self.kind
    }

    /// The byte offset in the event where the problem was found, for
    /// invalid JSON; `None` for errors about the whole event
    /// ([`EventErrorKind::NotAnObject`], [`EventErrorKind::TooLarge`]).
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// The whole message, with the offset (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

/// An error of the full-parse oracle's walk that valid input never gives.
fn internal(message: &str) -> EventError {
    EventError::new(EventErrorKind::Syntax, format!("internal: {message}"))
}

/// Checks that `event` is an event [`Matcher::matches`](crate::Matcher::matches)
/// accepts: one JSON object, valid throughout (the validated reader's check,
/// without collecting anything). Numbers beyond the `f64` range and
/// duplicate keys are valid JSON and pass.
///
/// With no field to collect the reader only checks; it allocates nothing
/// (after a thread's first call).
pub fn validate_event(event: &[u8]) -> Result<(), EventError> {
    static NO_FIELDS: LazyLock<PathTrie> = LazyLock::new(|| PathTrie::new([]));
    thread_local! {
        static SCRATCH: RefCell<FlattenScratch> = RefCell::new(FlattenScratch::default());
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => scratch.read(event, &NO_FIELDS, ReadMode::Validated),
        Err(_) => FlattenScratch::default().read(event, &NO_FIELDS, ReadMode::Validated),
    })
}

/// The event reader alone, without an automaton: reads events as matching
/// does and counts the leaf values found at a set of field paths. For
/// benchmarks that separate the cost of reading from the cost of matching
/// (with no path it is the cost of finding the structure: in
/// [`ReadMode::Validated`], a full check of the event).
///
/// ```
/// use ferrule::{FieldReader, ReadMode, RuleSet};
///
/// let mut reader = FieldReader::new(["detail.size", "source"]);
/// let event = br#"{"source": "s3", "detail": {"size": [1, 2], "key": "k"}}"#;
/// assert_eq!(reader.read(event, ReadMode::Validated)?, 3);
///
/// // The fields a matcher's rules read:
/// let mut rules = RuleSet::new();
/// rules.add("r", r#"{"detail": {"key": ["k"]}}"#)?;
/// let mut reader = rules.compile().field_reader();
/// assert_eq!(reader.read(event, ReadMode::Trusted)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FieldReader {
    trie: PathTrie,
    scratch: FlattenScratch,
}

impl fmt::Debug for FieldReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldReader")
            .field("fields", &self.trie.field_count())
            .finish_non_exhaustive()
    }
}

impl Default for FieldReader {
    /// A reader of no field: it only checks (validated) or skims (trusted).
    fn default() -> FieldReader {
        FieldReader::new([])
    }
}

impl FieldReader {
    /// A reader of the fields at these dotted paths (as in patterns:
    /// `detail.size`; a path given twice counts once).
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> FieldReader {
        let mut paths: Vec<&str> = paths.into_iter().collect();
        paths.sort_unstable();
        paths.dedup();
        FieldReader::from_trie(PathTrie::new(paths))
    }

    pub(crate) fn from_trie(trie: PathTrie) -> FieldReader {
        FieldReader {
            trie,
            scratch: FlattenScratch::default(),
        }
    }

    /// This reader with the trusted mode's early stop on or off (off by
    /// default). With it on, the trusted reader stops reading once no later
    /// member can reach a path (duplicate, dotted and escaped keys still
    /// count: see the README's *Early stop*, under *The library*). The result is the same;
    /// only the cost differs.
    ///
    /// ```
    /// use ferrule::{FieldReader, ReadMode};
    ///
    /// // The tail after `a` is cut off: only a reader that stops early
    /// // gets through it (trusted mode reads valid JSON only).
    /// let event = br#"{"a": 1, "b": [1, 2, 3"#;
    /// let mut stops = FieldReader::new(["a"]).with_early_stop(true);
    /// assert_eq!(stops.read(event, ReadMode::Trusted)?, 1);
    /// assert!(FieldReader::new(["a"]).read(event, ReadMode::Trusted).is_err());
    /// # Ok::<(), ferrule::EventError>(())
    /// ```
    pub fn with_early_stop(self, on: bool) -> FieldReader {
        FieldReader {
            trie: self.trie.with_early_stop(on),
            scratch: self.scratch,
        }
    }

    /// The number of distinct paths read.
    pub fn field_count(&self) -> usize {
        self.trie.field_count()
    }

    /// Reads `event` in `mode`, exactly as matching reads it, and returns
    /// the number of leaf values found at the paths (each element of an
    /// array counts). Errors are those of [`Matcher::matches`](crate::Matcher::matches)
    /// in the same mode. Allocates nothing once its buffers have grown.
    pub fn read(&mut self, event: &[u8], mode: ReadMode) -> Result<usize, EventError> {
        self.scratch.read(event, &self.trie, mode)?;
        Ok(self.scratch.values.len())
    }
}

/// The JSON type of a leaf value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    True,
    False,
    Null,
}

/// Whether a number leaf is comparable (see `util::number::is_exact`),
/// decided once per leaf when an edge first needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exactness {
    /// Not looked at yet.
    Unknown,
    /// Its significand is in `LeafValue::digits`; not converted yet.
    Scanned,
    Exact,
    Inexact,
    /// Converted, with 16 or 17 significant digits: the full test decides.
    Check,
}

/// One leaf of the event at a field some rule uses.
#[derive(Clone, Debug)]
pub(crate) struct LeafValue {
    /// The field (index into the automaton's field list).
    pub field: u32,
    pub kind: Kind,
    /// Whether `start..start + len` is in the scratch's decoded-string
    /// buffer (a string with escapes) rather than in the event bytes.
    pub decoded: bool,
    /// Byte range of the value's text: a string's content, a number's
    /// literal; empty for literals.
    pub start: u32,
    pub len: u32,
    /// A number's value, parsed from its text when first needed (NaN until
    /// then: no JSON literal parses to NaN); out-of-range literals are ±∞.
    pub number: Cell<f64>,
    /// Whether the number is comparable, decided when first needed.
    pub exact: Cell<Exactness>,
    /// The number's significand, once scanned (see `Exactness`).
    pub digits: Cell<Significand>,
    /// The innermost array element (container) this value sits in, as an
    /// index into the frame list; 0 when it is in none.
    pub frame: u32,
    /// The next value of the same field, or `NO_VALUE`.
    pub next: u32,
}

/// End of a field's list of values.
pub(crate) const NO_VALUE: u32 = u32::MAX;

/// An element of an array whose elements are objects or arrays.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub array: u32,
    pub index: u32,
    pub parent: u32,
}

/// Reusable per-thread buffers for flattening.
pub(crate) struct FlattenScratch {
    /// The tape parser's copy of the event (its strings decoded in place).
    input: Vec<u8>,
    /// Whether the last fill was by the tape parser (texts are in `input`)
    /// or by the reader (texts are in the event bytes or `decoded`).
    from_tape: bool,
    decoded: Vec<u8>,
    key: Vec<u8>,
    /// The tape parser's buffers, made on its first use (the oracle only).
    buffers: Option<Buffers>,
    tape: Tape<'static>,
    pub values: Vec<LeafValue>,
    pub frames: Vec<Frame>,
    arrays: u32,
    /// Per field: (generation, first value, last value). Values of one field
    /// are linked in document order, so nothing is sorted per event.
    lists: Vec<(u32, u32, u32)>,
    generation: u32,
    /// The early stop's candidate keys (reset per event).
    quotes: stage1::QuoteCursor,
    /// Tests keep a copy of the event so that texts can be read back.
    #[cfg(test)]
    test_event: Vec<u8>,
}

impl Default for FlattenScratch {
    fn default() -> Self {
        FlattenScratch {
            input: Vec::new(),
            from_tape: false,
            decoded: Vec::new(),
            key: Vec::new(),
            buffers: None,
            tape: Tape(Vec::new()),
            values: Vec::new(),
            frames: Vec::new(),
            arrays: 0,
            lists: Vec::new(),
            generation: 0,
            quotes: stage1::QuoteCursor::default(),
            #[cfg(test)]
            test_event: Vec::new(),
        }
    }
}

impl FlattenScratch {
    /// A view of the leaves read from `event` (the bytes last given to
    /// [`read`](Self::read) or [`flatten_tape`](Self::flatten_tape)).
    pub fn view<'a>(&'a self, event: &'a [u8]) -> Flat<'a> {
        Flat {
            scratch: self,
            raw: if self.from_tape { &self.input } else { event },
        }
    }

    /// Clears the per-event state; returns the sink parts.
    fn begin(&mut self, trie: &PathTrie) {
        self.values.clear();
        self.frames.clear();
        self.frames.push(Frame {
            array: 0,
            index: 0,
            parent: 0,
        });
        self.arrays = 0;
        self.decoded.clear();
        if self.generation == u32::MAX {
            self.generation = 0;
            self.lists.iter_mut().for_each(|l| l.0 = 0);
        }
        self.generation += 1;
        if self.lists.len() < trie.field_count() {
            self.lists
                .resize(trie.field_count(), (0, NO_VALUE, NO_VALUE));
        }
    }

    /// Reads `event` on demand and collects its leaves at fields in `trie`,
    /// in document order (see the `reader` module).
    pub fn read(
        &mut self,
        event: &[u8],
        trie: &PathTrie,
        mode: ReadMode,
    ) -> Result<(), EventError> {
        self.begin(trie);
        self.from_tape = false;
        if event.len() > u32::MAX as usize {
            return Err(EventError::new(
                EventErrorKind::TooLarge,
                "event is larger than 4 GiB",
            ));
        }
        let sink = reader::Sink {
            values: &mut self.values,
            frames: &mut self.frames,
            lists: &mut self.lists,
            generation: self.generation,
            decoded: &mut self.decoded,
            key: &mut self.key,
            arrays: 0,
            quotes: &mut self.quotes,
        };
        reader::read(event, trie, mode, sink)
    }

    /// The test oracle: parses `event` fully with simd-json and collects its
    /// leaves at fields in `trie`, in document order.
    pub fn flatten_tape(&mut self, event: &[u8], trie: &PathTrie) -> Result<(), EventError> {
        self.begin(trie);
        self.from_tape = true;
        if event.len() > u32::MAX as usize - INPUT_PADDING {
            return Err(EventError::new(
                EventErrorKind::TooLarge,
                "event is larger than 4 GiB",
            ));
        }
        self.input.clear();
        self.input.extend_from_slice(event);
        self.input.resize(event.len() + INPUT_PADDING, 0);
        // The decoded strings stay inside `input`; remember where it starts
        // so their offsets can be kept once the tape is released.
        let base = self.input.as_ptr() as usize;
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new()));
        let buffers = self
            .buffers
            .get_or_insert_with(|| Buffers::with_max_depth(4096, MAX_EVENT_DEPTH));
        let parsed = simd_json::fill_tape_padded(&mut self.input, event.len(), buffers, &mut tape);
        let result = match parsed {
            Err(e) => Err(EventError::new(
                EventErrorKind::Syntax,
                format!("invalid JSON: {e}"),
            )),
            Ok(()) => {
                let mut walker = Walker {
                    nodes: &tape.0,
                    structurals: buffers.structural_indexes(),
                    raw: event,
                    base,
                    input_len: event.len(),
                    trie,
                    values: &mut self.values,
                    frames: &mut self.frames,
                    arrays: &mut self.arrays,
                    lists: &mut self.lists,
                    generation: self.generation,
                };
                walker.root()
            }
        };
        self.tape = tape.reset();
        result
    }
}

/// The leaves of one event with the bytes their texts live in.
#[derive(Clone, Copy)]
pub(crate) struct Flat<'a> {
    pub scratch: &'a FlattenScratch,
    raw: &'a [u8],
}

impl<'a> Flat<'a> {
    /// The text of a value: a string's decoded content, a number's literal.
    #[inline]
    pub fn text(&self, value: &LeafValue) -> &'a [u8] {
        let source: &'a [u8] = if value.decoded {
            &self.scratch.decoded
        } else {
            self.raw
        };
        let start = value.start as usize;
        source
            .get(start..start + value.len as usize)
            .unwrap_or_default()
    }

    /// A number leaf's significand (scanned once per leaf), `None` if its
    /// digits alone say it is not comparable (more than 17 significant
    /// digits). Equal significands are equal comparable values, so exact
    /// numbers are looked up by it without converting the literal.
    #[inline]
    pub fn significand(&self, value: &LeafValue) -> Option<Significand> {
        match value.exact.get() {
            Exactness::Inexact => None,
            Exactness::Unknown => match crate::util::number::scan(self.text(value)) {
                Some(digits) => {
                    value.digits.set(digits);
                    value.exact.set(Exactness::Scanned);
                    Some(digits)
                }
                None => {
                    value.exact.set(Exactness::Inexact);
                    None
                }
            },
            Exactness::Scanned | Exactness::Exact | Exactness::Check => Some(value.digits.get()),
        }
    }

    /// A number leaf's value if it may be comparable, `None` if it is known
    /// not to be (then nothing compares it by value: more than 17
    /// significant digits, beyond the f64 range, subnormal). Converted once
    /// per leaf from its significand; most leaves' exactness is decided here
    /// from their digit count (`util::number::convert`), the rest by
    /// [`Flat::exact`] on a hit.
    #[inline]
    pub fn candidate(&self, value: &LeafValue) -> Option<f64> {
        match value.exact.get() {
            Exactness::Inexact => None,
            Exactness::Exact | Exactness::Check => Some(value.number.get()),
            Exactness::Unknown | Exactness::Scanned => {
                let digits = self.significand(value)?;
                let n = value.number.get();
                if !n.is_nan() {
                    // Set by the full-parse oracle; exactness is decided on a hit.
                    value.exact.set(Exactness::Check);
                    return n.is_finite().then_some(n);
                }
                let (n, quick) = crate::util::number::convert(self.text(value), digits);
                value.number.set(n);
                value.exact.set(match quick {
                    Quick::Exact => Exactness::Exact,
                    Quick::Inexact => Exactness::Inexact,
                    Quick::Check => Exactness::Check,
                });
                (quick != Quick::Inexact).then_some(n)
            }
        }
    }

    /// A number leaf's value (±∞ when out of the f64 range), whatever its
    /// exactness; for tests (matching uses [`Flat::candidate`]).
    #[cfg(test)]
    pub fn number(&self, value: &LeafValue) -> f64 {
        let n = value.number.get();
        if n.is_nan() {
            crate::util::number::parse_any(self.text(value))
        } else {
            n
        }
    }

    /// Whether a number leaf is comparable (decided once per leaf).
    #[inline]
    pub fn exact(&self, value: &LeafValue) -> bool {
        match value.exact.get() {
            Exactness::Exact => true,
            Exactness::Inexact => false,
            Exactness::Check | Exactness::Unknown | Exactness::Scanned => {
                let exact = match self.candidate(value) {
                    Some(n) => {
                        crate::util::number::is_exact_read(self.text(value), n, value.digits.get())
                    }
                    None => false,
                };
                value.exact.set(if exact {
                    Exactness::Exact
                } else {
                    Exactness::Inexact
                });
                exact
            }
        }
    }

    /// The values of `field`, in document order.
    #[inline]
    pub fn values_of(&self, field: u32) -> FieldValues<'a> {
        let scratch: &'a FlattenScratch = self.scratch;
        let next = match scratch.lists.get(field as usize) {
            Some(&(generation, first, _)) if generation == scratch.generation => first,
            _ => NO_VALUE,
        };
        FieldValues {
            values: &scratch.values,
            next,
        }
    }

    /// The (array, index) pairs of a frame and its ancestors, innermost first.
    pub fn chain(&self, mut frame: u32) -> impl Iterator<Item = (u32, u32)> + use<'a> {
        let frames: &'a [Frame] = &self.scratch.frames;
        std::iter::from_fn(move || {
            if frame == 0 {
                return None;
            }
            let f = frames.get(frame as usize)?;
            frame = f.parent;
            Some((f.array, f.index))
        })
    }
}

struct Walker<'t, 'a> {
    nodes: &'t [Node<'a>],
    structurals: &'t [u32],
    /// The caller's bytes: the same as the parse buffer outside strings.
    raw: &'t [u8],
    base: usize,
    input_len: usize,
    trie: &'t PathTrie,
    values: &'t mut Vec<LeafValue>,
    frames: &'t mut Vec<Frame>,
    arrays: &'t mut u32,
    lists: &'t mut [(u32, u32, u32)],
    generation: u32,
}

/// Iterates one field's values.
pub(crate) struct FieldValues<'a> {
    values: &'a [LeafValue],
    next: u32,
}

impl<'a> Iterator for FieldValues<'a> {
    type Item = &'a LeafValue;

    #[inline]
    fn next(&mut self) -> Option<&'a LeafValue> {
        let v = self.values.get(self.next as usize)?;
        self.next = v.next;
        Some(v)
    }
}

impl Walker<'_, '_> {
    /// Appends a value and links it at the end of its field's list.
    #[inline]
    fn push(&mut self, value: LeafValue) {
        let at = self.values.len() as u32;
        let list = &mut self.lists[value.field as usize];
        if list.0 == self.generation {
            self.values[list.2 as usize].next = at;
            list.2 = at;
        } else {
            *list = (self.generation, at, at);
        }
        self.values.push(value);
    }

    /// A scalar at tape `t`, structural `s`, for `field`.
    #[inline]
    fn scalar(
        &mut self,
        node: &Node<'_>,
        s: usize,
        field: u32,
        frame: u32,
    ) -> Result<(), EventError> {
        let leaf = match node {
            Node::String(text) => {
                let offset = (text.as_ptr() as usize).wrapping_sub(self.base);
                if offset
                    .checked_add(text.len())
                    .is_none_or(|end| end > self.input_len)
                {
                    return Err(internal("string outside the input"));
                }
                LeafValue::new(
                    field,
                    Kind::String,
                    offset as u32,
                    text.len() as u32,
                    false,
                    frame,
                )
            }
            Node::Static(value) => {
                let (kind, number) = match value {
                    StaticNode::Null => (Kind::Null, 0.0),
                    StaticNode::Bool(true) => (Kind::True, 0.0),
                    StaticNode::Bool(false) => (Kind::False, 0.0),
                    StaticNode::I64(i) => (Kind::Number, *i as f64),
                    StaticNode::U64(u) => (Kind::Number, *u as f64),
                    StaticNode::F64(f) => (Kind::Number, *f),
                };
                let (start, len) = if kind == Kind::Number {
                    let start = self.structural(s)?;
                    let rest = self.raw.get(start..).unwrap_or_default();
                    let len = rest
                        .iter()
                        .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .count();
                    (start as u32, len as u32)
                } else {
                    (0, 0)
                };
                let leaf = LeafValue::new(field, kind, start, len, false, frame);
                if kind == Kind::Number {
                    // simd-json's value; -0 compares as 0.
                    leaf.number.set(if number == 0.0 { 0.0 } else { number });
                }
                leaf
            }
            _ => return Err(internal("expected a scalar")),
        };
        self.push(leaf);
        Ok(())
    }

    fn root(&mut self) -> Result<(), EventError> {
        match self.nodes.first() {
            Some(Node::Object { .. }) => {
                self.object(0, 0, PathTrie::ROOT, 0, true)?;
                Ok(())
            }
            _ => Err(EventError::new(
                EventErrorKind::NotAnObject,
                "an event must be a JSON object",
            )),
        }
    }

    fn structural(&self, s: usize) -> Result<usize, EventError> {
        self.structurals
            .get(s)
            .map(|&i| i as usize)
            .ok_or_else(|| internal("structural index out of range"))
    }

    /// Walks the object at tape `t`, structural `s`; returns the positions after it.
    fn object(
        &mut self,
        t: usize,
        s: usize,
        node: u32,
        frame: u32,
        top: bool,
    ) -> Result<(usize, usize), EventError> {
        let Node::Object { len, .. } = self.nodes[t] else {
            return Err(internal("expected an object"));
        };
        let (mut t, mut s) = (t + 1, s + 1);
        if len == 0 {
            return Ok((t, s + 1));
        }
        for _ in 0..len {
            let key = match self.nodes.get(t) {
                Some(Node::String(k)) => *k,
                _ => return Err(internal("expected an object key")),
            };
            // key, then ':'
            t += 1;
            s += 2;
            let child = self.trie.member(node, key.as_bytes(), top);
            (t, s) = match child {
                Some(child) => self.value(t, s, child, frame)?,
                None => self.skip(t, s)?,
            };
            s += 1; // ',' or '}'
        }
        Ok((t, s))
    }

    fn array(
        &mut self,
        t: usize,
        s: usize,
        node: u32,
        frame: u32,
    ) -> Result<(usize, usize), EventError> {
        let Node::Array { len, .. } = self.nodes[t] else {
            return Err(internal("expected an array"));
        };
        let (mut t, mut s) = (t + 1, s + 1);
        if len == 0 {
            return Ok((t, s + 1));
        }
        *self.arrays += 1;
        let array = *self.arrays;
        let field = self.trie.field(node);
        for index in 0..len {
            // Scalars (the common case: lists of numbers or strings) are
            // handled here without the general dispatch.
            if let Some(n @ (Node::String(_) | Node::Static(_))) = self.nodes.get(t) {
                if let Some(field) = field {
                    self.scalar(n, s, field, frame)?;
                }
                t += 1;
                s += 2; // the value, then ',' or ']'
                continue;
            }
            let element_frame = match self.nodes.get(t) {
                Some(Node::Object { .. } | Node::Array { .. }) => {
                    self.frames.push(Frame {
                        array,
                        index: index as u32,
                        parent: frame,
                    });
                    (self.frames.len() - 1) as u32
                }
                _ => frame,
            };
            (t, s) = self.value(t, s, node, element_frame)?;
            s += 1; // ',' or ']'
        }
        Ok((t, s))
    }

    fn value(
        &mut self,
        t: usize,
        s: usize,
        node: u32,
        frame: u32,
    ) -> Result<(usize, usize), EventError> {
        let field = self.trie.field(node);
        match self.nodes.get(t) {
            Some(Node::Object { .. }) => {
                if self.trie.has_children(node) {
                    self.object(t, s, node, frame, false)
                } else {
                    self.skip(t, s)
                }
            }
            Some(Node::Array { .. }) => self.array(t, s, node, frame),
            Some(n @ (Node::String(_) | Node::Static(_))) => {
                if let Some(field) = field {
                    self.scalar(n, s, field, frame)?;
                }
                Ok((t + 1, s + 1))
            }
            None => Err(internal("tape ended early")),
        }
    }

    /// Skips the value at (t, s) without looking inside it.
    fn skip(&self, t: usize, s: usize) -> Result<(usize, usize), EventError> {
        let count = match self.nodes.get(t) {
            Some(Node::Object { count, .. } | Node::Array { count, .. }) => *count,
            Some(_) => return Ok((t + 1, s + 1)),
            None => return Err(internal("tape ended early")),
        };
        // Outside strings the parse buffer equals the caller's bytes, and a
        // structural index never points inside a string, so brackets at
        // structural positions are real brackets.
        let mut depth = 0usize;
        let mut s = s;
        loop {
            match self.raw.get(self.structural(s)?) {
                Some(b'{' | b'[') => depth += 1,
                Some(b'}' | b']') => depth = depth.saturating_sub(1),
                _ => {}
            }
            s += 1;
            if depth == 0 {
                break;
            }
        }
        Ok((t + 1 + count, s))
    }
}

#[cfg(test)]
mod tests;
