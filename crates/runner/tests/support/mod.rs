//! What the runner's integration tests share (`mod support;`): their world
//! of a bus and a runner, and the bus tests' steps (by path).

// Each test binary uses its own part of it.
#![allow(dead_code)]

#[path = "../../../bus/tests/support/steps.rs"]
pub mod steps;
pub mod world;
