//! Schedule expressions of Amazon EventBridge, exact to the service, and the pure computation
//! of when they fire.
//!
//! ```
//! use ferrule_schedule::{
//!     FlexibleTimeWindow, Flavor, ScheduleExpression, Window, fire_times, next_fire,
//!     parse_timezone,
//! };
//! use jiff::Timestamp;
//!
//! // 09:30 on weekdays, New York time.
//! let expr = ScheduleExpression::parse("cron(30 9 ? * MON-FRI *)", Flavor::Scheduler)?;
//! let tz = parse_timezone("America/New_York")?;
//! let created: Timestamp = "2024-03-08T15:00:00Z".parse()?; // a Friday, 10:00 in New York
//! let window = Window::starting(created);
//!
//! // Monday 2024-03-11, after the clocks went forward: 09:30 EDT is 13:30 UTC.
//! let next = next_fire(&expr, &tz, created, &window);
//! assert_eq!(next, Some("2024-03-11T13:30:00Z".parse()?));
//! let week: Vec<Timestamp> = fire_times(&expr, &tz, &window).take(5).collect();
//! assert_eq!(week.last(), Some(&"2024-03-15T13:30:00Z".parse()?));
//!
//! // The service's refusals, with its message.
//! let err = ScheduleExpression::parse("cron(* * * * * *)", Flavor::Scheduler).unwrap_err();
//! assert_eq!(err.code(), "ValidationException");
//! assert_eq!(err.message(), "Invalid Schedule Expression cron(* * * * * *).");
//! let err = ScheduleExpression::parse("rate(1 minutes)", Flavor::Rule).unwrap_err();
//! assert_eq!(err.message(), "Parameter ScheduleExpression is not valid.");
//!
//! // A flexible window spreads the invocation, predictably for a given schedule.
//! let flex = FlexibleTimeWindow::parse("FLEXIBLE", Some(15))?;
//! let scheduled = "2024-03-11T13:30:00Z".parse::<Timestamp>()?;
//! let at = flex.invocation_time("arn:aws:scheduler:us-east-1:000000000000:schedule/default/s", scheduled);
//! assert!(at >= scheduled && at < scheduled + jiff::SignedDuration::from_mins(15));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What is here: parsing of `ScheduleExpression` for both APIs ([`Flavor::Rule`]: `rate()` and
//! `cron()`; [`Flavor::Scheduler`]: also `at()`), `ScheduleExpressionTimezone`
//! ([`parse_timezone`]), `StartDate`/`EndDate` ([`Window`]), the next fire time
//! ([`next_fire`], [`fire_times`]) with the service's daylight-saving rules, and
//! `FlexibleTimeWindow`. What is not: the service that keeps schedules and fires them (it lives
//! in ferrule's server and calls these functions).

#![warn(missing_docs)]

mod cron;
mod error;
mod expr;
mod flex;
mod next;

pub use cron::{Cron, MAX_YEAR, MIN_YEAR};
pub use error::{Error, ErrorKind, Flavor};
pub use expr::{
    MAX_EXPRESSION_LEN, MAX_TIMEZONE_LEN, Rate, RateUnit, ScheduleExpression, parse_timezone,
};
pub use flex::{FlexibleTimeWindow, MAX_WINDOW_MINUTES, spread_hash};
pub use next::{FireTimes, Window, fire_times, next_fire};

/// Re-exported so callers name the same `Timestamp` and `TimeZone` types.
pub use jiff;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// One run of a schedule: when it is scheduled, and when its target is invoked (later by the
/// flexible window's offset, if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Invocation {
    /// The nominal time (`<aws.scheduler.scheduled-time>`, the Scheduled Event's `time`).
    pub scheduled: Timestamp,
    /// When the target is invoked.
    pub invoke_at: Timestamp,
}

/// Everything that decides when a schedule runs, in one value.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The schedule's identity (its ARN): seeds the flexible window's spread.
    pub identity: String,
    /// `ScheduleExpression`.
    pub expression: ScheduleExpression,
    /// `ScheduleExpressionTimezone` (UTC for rules).
    pub timezone: TimeZone,
    /// `StartDate`/`EndDate` (see [`Window`] for what to pass when they are absent).
    pub window: Window,
    /// `FlexibleTimeWindow` (`Off` for rules).
    pub flexible: FlexibleTimeWindow,
}

impl Schedule {
    /// The first run scheduled strictly after `after`, or `None` if the schedule is done.
    pub fn next_after(&self, after: Timestamp) -> Option<Invocation> {
        let scheduled = next_fire(&self.expression, &self.timezone, after, &self.window)?;
        Some(Invocation {
            scheduled,
            invoke_at: self.flexible.invocation_time(&self.identity, scheduled),
        })
    }
}
