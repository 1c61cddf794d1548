//! ferrule matches JSON events against Amazon EventBridge event patterns.
//!
//! Rules are compiled into one decision automaton over the events' flattened
//! fields, so matching an event costs about the same against ten rules as
//! against ten thousand; batches are matched in parallel with rayon.
//!
//! ```
//! use ferrule::RuleSet;
//!
//! let mut rules = RuleSet::new();
//! rules.add("large-objects", r#"{
//!     "source": ["aws.s3"],
//!     "detail": {"object": {"size": [{"numeric": [">", 1024]}]}}
//! }"#)?;
//! rules.add("from-eu", r#"{"region": [{"prefix": "eu-"}]}"#)?;
//! let matcher = rules.compile();
//!
//! let event = br#"{"source": "aws.s3", "region": "eu-west-1",
//!                  "detail": {"object": {"key": "a.png", "size": 5000}}}"#;
//! assert_eq!(matcher.matching_names(event)?, ["from-eu", "large-objects"]);
//!
//! // Many events at once, on all cores:
//! let results = matcher.matches_batch(&[&event[..], br#"{"source": "x"}"#]);
//! assert_eq!(results[1].as_ref().map(Vec::len), Ok(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pattern language is described for users in `PATTERNS.md`; where
//! ferrule differs from the reference implementation (aws/event-ruler) it
//! follows the EventBridge service, and `DEVIATIONS.md` lists each case.
//!
//! Data flows one way through the modules: the pattern module parses rules
//! ([`Pattern`]), the event module reads JSON bytes into leaf values (only
//! the fields some rule uses; [`FieldReader`] is that step alone), the
//! automaton matches them, and [`RuleSet`] / [`Matcher`] are the public face.
//!
//! Features: `rayon` (default) runs [`Matcher::matches_batch`] and
//! [`Matcher::count_batch`] on the rayon thread pool; without it they run
//! on the calling thread, with the same results.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
// One `unsafe` block, in `event::stage1` (a call of its SSE2 function,
// with its soundness argument there); everything else is safe Rust.
#![deny(unsafe_code)]

mod automaton;
mod event;
mod pattern;
mod ruleset;
mod util;

pub use automaton::{AutomatonStats, MatchScratch};
pub use event::{
    EventError, EventErrorKind, FieldReader, MAX_EVENT_DEPTH, ReadMode, validate_event,
};
pub use pattern::{Limits, Pattern, PatternError, PatternErrorKind};
pub use ruleset::{Matcher, RuleId, RuleSet, SharedMatcher};
