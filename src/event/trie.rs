//! The set of field paths some rule uses, as a byte trie over dotted paths.

/// A trie over the dotted text of every field path in a rule set.
///
/// Walking an event, the flattener extends the current node by `.` and the
/// member's key; if the trie has no such node, the member is skipped.
/// Because paths are dotted text, `{"a.b": 1}` and `{"a": {"b": 1}}` reach
/// the same node.
#[derive(Clone, Debug)]
pub(crate) struct PathTrie {
    nodes: Vec<TrieNode>,
    fields: usize,
}

#[derive(Clone, Debug, Default)]
struct TrieNode {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    field: Option<u32>,
    /// Whether a path continues with `.` here (objects here are worth entering).
    dot: bool,
}

impl PathTrie {
    pub const ROOT: u32 = 0;

    /// Builds the trie; field `i` is `paths[i]`.
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p str>) -> PathTrie {
        let mut trie = PathTrie {
            nodes: vec![TrieNode::default()],
            fields: 0,
        };
        for (id, path) in paths.into_iter().enumerate() {
            trie.fields = id + 1;
            let mut node = Self::ROOT;
            for &byte in path.as_bytes() {
                if byte == b'.' {
                    trie.nodes[node as usize].dot = true;
                }
                node = match trie.step(node, byte) {
                    Some(next) => next,
                    None => {
                        let next = trie.nodes.len() as u32;
                        trie.nodes.push(TrieNode::default());
                        let edges = &mut trie.nodes[node as usize].edges;
                        let at = edges.partition_point(|(b, _)| *b < byte);
                        edges.insert(at, (byte, next));
                        next
                    }
                };
            }
            trie.nodes[node as usize].field = Some(id as u32);
        }
        trie
    }

    fn step(&self, node: u32, byte: u8) -> Option<u32> {
        let edges = &self.nodes[node as usize].edges;
        if edges.len() <= 8 {
            edges.iter().find(|(b, _)| *b == byte).map(|(_, n)| *n)
        } else {
            edges
                .binary_search_by_key(&byte, |(b, _)| *b)
                .ok()
                .map(|i| edges[i].1)
        }
    }

    /// The node for member `key` of an object found at `node` (the event
    /// itself when `top`), if any path goes through it.
    #[inline]
    pub fn member(&self, node: u32, key: &[u8], top: bool) -> Option<u32> {
        let mut at = if top { node } else { self.step(node, b'.')? };
        for &byte in key {
            at = self.step(at, byte)?;
        }
        let n = &self.nodes[at as usize];
        (n.field.is_some() || n.dot).then_some(at)
    }

    /// The number of fields.
    pub fn field_count(&self) -> usize {
        self.fields
    }

    /// The field whose path ends at `node`.
    #[inline]
    pub fn field(&self, node: u32) -> Option<u32> {
        self.nodes[node as usize].field
    }

    /// Whether objects found at `node` have members worth visiting.
    #[inline]
    pub fn has_children(&self, node: u32) -> bool {
        self.nodes[node as usize].dot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_and_nesting_reach_the_same_field() {
        let trie = PathTrie::new(["a.b", "a.c.d", "x"]);
        let a = trie.member(PathTrie::ROOT, b"a", true).unwrap();
        assert!(trie.has_children(a));
        assert_eq!(trie.field(a), None);
        let ab = trie.member(a, b"b", false).unwrap();
        assert_eq!(trie.field(ab), Some(0));
        let dotted = trie.member(PathTrie::ROOT, b"a.b", true).unwrap();
        assert_eq!(trie.field(dotted), Some(0));
        assert_eq!(trie.member(PathTrie::ROOT, b"ab", true), None);
        assert_eq!(
            trie.member(a, b"c", false).map(|n| trie.has_children(n)),
            Some(true)
        );
        assert_eq!(trie.member(PathTrie::ROOT, b"y", true), None);
        let x = trie.member(PathTrie::ROOT, b"x", true).unwrap();
        assert_eq!(trie.field(x), Some(2));
        assert!(!trie.has_children(x));
    }
}
