//! Events: from JSON bytes to the flattened leaf values that rules can use.
//!
//! simd-json parses the event into a tape over a reused buffer. The walker
//! then follows the tape and, in lockstep, simd-json's structural indexes
//! (so that a number's literal text can be read back: numeric equality
//! depends on it). A [`PathTrie`] of every field path some rule names tells
//! the walker which members to enter; every other member is skipped as a
//! whole without being looked at.

mod trie;

pub(crate) use trie::PathTrie;

use std::fmt;

use simd_json::{Buffers, INPUT_PADDING, Node, StaticNode, Tape};

/// Events nested deeper than this are rejected.
pub const MAX_EVENT_DEPTH: usize = 512;

/// Why an event could not be matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    message: String,
}

impl EventError {
    pub(crate) fn new(message: impl Into<String>) -> EventError {
        EventError {
            message: message.into(),
        }
    }

    /// The reason.
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

/// The JSON type of a leaf value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    True,
    False,
    Null,
}

/// One leaf of the event at a field some rule uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeafValue {
    /// The field (index into the automaton's field list).
    pub field: u32,
    pub kind: Kind,
    /// Byte range in the scratch input: the decoded text of a string; for a
    /// number, `start` is where its literal begins and `len` is 0 (the end
    /// is found only if the text is needed, see [`FlattenScratch::text`]).
    pub start: u32,
    pub len: u32,
    /// The parsed value of a number (simd-json's parse).
    pub number: f64,
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
    input: Vec<u8>,
    buffers: Buffers,
    tape: Tape<'static>,
    pub values: Vec<LeafValue>,
    pub frames: Vec<Frame>,
    arrays: u32,
    /// Per field: (generation, first value, last value). Values of one field
    /// are linked in document order, so nothing is sorted per event.
    lists: Vec<(u32, u32, u32)>,
    generation: u32,
}

impl Default for FlattenScratch {
    fn default() -> Self {
        FlattenScratch {
            input: Vec::new(),
            buffers: Buffers::with_max_depth(4096, MAX_EVENT_DEPTH),
            tape: Tape::null(),
            values: Vec::new(),
            frames: Vec::new(),
            arrays: 0,
            lists: Vec::new(),
            generation: 0,
        }
    }
}

impl FlattenScratch {
    /// The bytes of a value (valid until the next flatten).
    pub fn text(&self, value: &LeafValue) -> &[u8] {
        let start = value.start as usize;
        if value.kind == Kind::Number {
            let rest = &self.input[start..];
            let len = rest
                .iter()
                .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .count();
            return &rest[..len];
        }
        &self.input[start..start + value.len as usize]
    }

    /// The values of `field`, in document order.
    pub fn values_of(&self, field: u32) -> FieldValues<'_> {
        let next = match self.lists.get(field as usize) {
            Some(&(generation, first, _)) if generation == self.generation => first,
            _ => NO_VALUE,
        };
        FieldValues {
            values: &self.values,
            next,
        }
    }

    /// The (array, index) pairs of a frame and its ancestors, innermost first.
    pub fn chain(&self, mut frame: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        std::iter::from_fn(move || {
            if frame == 0 {
                return None;
            }
            let f = self.frames[frame as usize];
            frame = f.parent;
            Some((f.array, f.index))
        })
    }

    /// Parses `event` and collects its leaves at fields in `trie`, in
    /// document order.
    pub fn flatten(&mut self, event: &[u8], trie: &PathTrie) -> Result<(), EventError> {
        self.values.clear();
        self.frames.clear();
        self.frames.push(Frame {
            array: 0,
            index: 0,
            parent: 0,
        });
        self.arrays = 0;
        if self.generation == u32::MAX {
            self.generation = 0;
            self.lists.iter_mut().for_each(|l| l.0 = 0);
        }
        self.generation += 1;
        if self.lists.len() < trie.field_count() {
            self.lists
                .resize(trie.field_count(), (0, NO_VALUE, NO_VALUE));
        }
        if event.len() > u32::MAX as usize - INPUT_PADDING {
            return Err(EventError::new("event is larger than 4 GiB"));
        }
        self.input.clear();
        self.input.extend_from_slice(event);
        self.input.resize(event.len() + INPUT_PADDING, 0);
        // The decoded strings stay inside `input`; remember where it starts
        // so their offsets can be kept once the tape is released.
        let base = self.input.as_ptr() as usize;
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new()));
        let parsed =
            simd_json::fill_tape_padded(&mut self.input, event.len(), &mut self.buffers, &mut tape);
        let result = match parsed {
            Err(e) => Err(EventError::new(format!("invalid JSON: {e}"))),
            Ok(()) => {
                let mut walker = Walker {
                    nodes: &tape.0,
                    structurals: self.buffers.structural_indexes(),
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
                    return Err(EventError::new("internal: string outside the input"));
                }
                LeafValue {
                    field,
                    kind: Kind::String,
                    start: offset as u32,
                    len: text.len() as u32,
                    number: 0.0,
                    frame,
                    next: NO_VALUE,
                }
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
                let start = if kind == Kind::Number {
                    self.structural(s)? as u32
                } else {
                    0
                };
                LeafValue {
                    field,
                    kind,
                    start,
                    len: 0,
                    number,
                    frame,
                    next: NO_VALUE,
                }
            }
            _ => return Err(EventError::new("internal: expected a scalar")),
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
            _ => Err(EventError::new("an event must be a JSON object")),
        }
    }

    fn structural(&self, s: usize) -> Result<usize, EventError> {
        self.structurals
            .get(s)
            .map(|&i| i as usize)
            .ok_or_else(|| EventError::new("internal: structural index out of range"))
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
            return Err(EventError::new("internal: expected an object"));
        };
        let (mut t, mut s) = (t + 1, s + 1);
        if len == 0 {
            return Ok((t, s + 1));
        }
        for _ in 0..len {
            let key = match self.nodes.get(t) {
                Some(Node::String(k)) => *k,
                _ => return Err(EventError::new("internal: expected an object key")),
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
            return Err(EventError::new("internal: expected an array"));
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
            None => Err(EventError::new("internal: tape ended early")),
        }
    }

    /// Skips the value at (t, s) without looking inside it.
    fn skip(&self, t: usize, s: usize) -> Result<(usize, usize), EventError> {
        let count = match self.nodes.get(t) {
            Some(Node::Object { count, .. } | Node::Array { count, .. }) => *count,
            Some(_) => return Ok((t + 1, s + 1)),
            None => return Err(EventError::new("internal: tape ended early")),
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
