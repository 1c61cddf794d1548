//! What the bus's integration tests share (`mod support;`): a temporary
//! directory, the options of a test's bus, steps they repeat on it, and
//! plain HTTP servers on loopback (ferrule-dispatch's
//! `tests/support/http.rs`, by path).
//!
//! `crash_worker.rs` beside it is a binary of its own, not part of this.

// Each test binary uses its own part of it.
#![allow(dead_code)]

#[path = "../../../dispatch/tests/support/http.rs"]
pub mod http;
pub mod open;
pub mod steps;
pub mod temp_dir;
