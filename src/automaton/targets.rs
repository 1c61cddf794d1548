//! Lists of next states, stored in one shared pool.

use std::collections::HashMap;

/// A list of state ids: a range of the automaton's target pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    pub start: u32,
    pub len: u32,
}

impl Targets {
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn of(self, pool: &[u32]) -> &[u32] {
        &pool[self.start as usize..(self.start + self.len) as usize]
    }
}

/// Builds the pool, sharing identical lists.
#[derive(Default)]
pub(crate) struct PoolBuilder {
    pub pool: Vec<u32>,
    shared: HashMap<Vec<u32>, Targets>,
}

impl PoolBuilder {
    /// Interns a list (sorted and deduplicated first).
    pub fn intern(&mut self, mut states: Vec<u32>) -> Targets {
        states.sort_unstable();
        states.dedup();
        if states.is_empty() {
            return Targets::default();
        }
        if let Some(t) = self.shared.get(&states) {
            return *t;
        }
        let t = Targets {
            start: self.pool.len() as u32,
            len: states.len() as u32,
        };
        self.pool.extend_from_slice(&states);
        self.shared.insert(states, t);
        t
    }
}
