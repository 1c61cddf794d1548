//! Where a value hit leads: next states, and rules accepted outright.
//!
//! Most patterns end in a state with no further edges (a *leaf*); its rules
//! are known when the automaton is built, so a hit reports them directly
//! instead of entering the state. Lists live in shared pools.

use std::collections::HashMap;

/// The targets of a hit: a range of next states (in the state pool) and a
/// range of accepted rules (in the rule pool).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    pub states_start: u32,
    pub states_len: u32,
    pub rules_start: u32,
    pub rules_len: u32,
}

impl Targets {
    pub fn is_empty(self) -> bool {
        self.states_len == 0 && self.rules_len == 0
    }

    #[inline]
    pub fn states(self, pool: &Pools) -> &[u32] {
        &pool.states[self.states_start as usize..(self.states_start + self.states_len) as usize]
    }

    #[inline]
    pub fn rules(self, pool: &Pools) -> &[u32] {
        &pool.rules[self.rules_start as usize..(self.rules_start + self.rules_len) as usize]
    }
}

/// The finished pools.
#[derive(Default)]
pub(crate) struct Pools {
    pub states: Vec<u32>,
    pub rules: Vec<u32>,
}

/// Builds the pools, sharing identical lists.
pub(crate) struct PoolBuilder<'a> {
    pub pools: Pools,
    /// Per state: its accepted rules if it is a leaf (no edges).
    leaf_rules: &'a [Option<Vec<u32>>],
    shared: HashMap<Vec<u32>, Targets>,
}

impl<'a> PoolBuilder<'a> {
    pub fn new(leaf_rules: &'a [Option<Vec<u32>>]) -> Self {
        PoolBuilder {
            pools: Pools::default(),
            leaf_rules,
            shared: HashMap::new(),
        }
    }

    /// Interns a list of next states.
    pub fn intern(&mut self, mut states: Vec<u32>) -> Targets {
        states.sort_unstable();
        states.dedup();
        if states.is_empty() {
            return Targets::default();
        }
        if let Some(t) = self.shared.get(&states) {
            return *t;
        }
        let mut inner = Vec::new();
        let mut rules = Vec::new();
        for &s in &states {
            match &self.leaf_rules[s as usize] {
                Some(accepts) => rules.extend_from_slice(accepts),
                None => inner.push(s),
            }
        }
        rules.sort_unstable();
        rules.dedup();
        let t = Targets {
            states_start: self.pools.states.len() as u32,
            states_len: inner.len() as u32,
            rules_start: self.pools.rules.len() as u32,
            rules_len: rules.len() as u32,
        };
        self.pools.states.extend_from_slice(&inner);
        self.pools.rules.extend_from_slice(&rules);
        self.shared.insert(states, t);
        t
    }
}
