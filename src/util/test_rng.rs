//! A deterministic xorshift generator for the unit tests' random inputs
//! (the same sequence on every run, so a failure reproduces).

/// The xorshift64 sequence from `seed` (which must not be zero).
pub(crate) fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
