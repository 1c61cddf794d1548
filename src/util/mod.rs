//! Internals shared by the pattern parser, the flattener and the automaton.

pub(crate) mod bands;
pub(crate) mod bytes;
pub mod casefold;
pub mod ip;
pub mod json;
pub mod number;
#[cfg(test)]
pub(crate) mod test_rng;
