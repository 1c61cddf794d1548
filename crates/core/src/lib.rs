//! The vocabulary every part of ferrule shares: a [`Clock`] that tests can
//! drive ([`ManualClock`]), the event time formats ([`time`]), and the names
//! read out of the ARNs that ferrule routes to ([`arn`]).
//!
//! ```
//! use ferrule_core::{Clock, ManualClock, time};
//!
//! let clock = ManualClock::new(1_700_000_000_000);
//! clock.advance_ms(1_500);
//! assert_eq!(time::format_millis(clock.now_ms()), "2023-11-14T22:13:21.500Z");
//! assert_eq!(ferrule_core::arn::queue_name("arn:aws:sqs:us-east-1:123456789012:orders"), Some("orders"));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod arn;
mod clock;
pub mod health;
pub mod json;
pub mod time;

pub use clock::{Clock, ManualClock, SystemClock};
pub use health::{Fault, Health, HealthReport};
