//! The next-fire computation: a pure function of the expression, the time zone, an instant and
//! the schedule's active window.

use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::cron::Cron;
use crate::error::{Error, ErrorKind};
use crate::expr::{Rate, ScheduleExpression};

/// When a schedule may run: from `start` (inclusive) until `end` (exclusive, if any).
///
/// For a Scheduler schedule, `start` is `StartDate` if given and otherwise the time the schedule
/// was created (a rate schedule without `StartDate` "starts invoking immediately", so it also
/// anchors the rate); `end` is `EndDate` ("the date before which the schedule can invoke its
/// target"). For a rule, `start` is the time the rule was created or last changed and there is
/// no end. One-time (`at()`) schedules ignore both, as the service does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    start: Timestamp,
    end: Option<Timestamp>,
}

impl Window {
    /// A window from `start` on, with no end.
    pub fn starting(start: Timestamp) -> Window {
        Window { start, end: None }
    }

    /// A window from `start` until `end`; refused unless `end` is after `start`.
    ///
    /// The message is ferrule's wording (`The StartDate must be before the EndDate.`): the
    /// service's exact text for this case was not found in public recordings.
    pub fn new(start: Timestamp, end: Option<Timestamp>) -> Result<Window, Error> {
        if let Some(end) = end
            && end <= start
        {
            return Err(Error::new(
                ErrorKind::InvalidDateRange,
                "The StartDate must be before the EndDate.",
                format!("EndDate {end} is not after StartDate {start}"),
            ));
        }
        Ok(Window { start, end })
    }

    /// The first instant the schedule may run at.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The instant from which the schedule no longer runs, if any.
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }
}

/// The first time `expr` fires strictly after `after`, or `None` if it never fires again.
///
/// Times are nominal (the scheduled time; a flexible window then spreads the invocation, see
/// [`crate::FlexibleTimeWindow`]). The rules, as AWS documents them for EventBridge Scheduler
/// ("Daylight saving time on EventBridge Scheduler", and the re:Post article "How can I adjust my
/// Amazon EventBridge schedule for daylight saving?"):
///
/// - `cron()` runs at wall-clock times of `tz`. A time that a spring-forward skips is **skipped**
///   ("your schedule invocation gets skipped if the cron expression falls on a non-existent date
///   and time"); a wall-clock time that a fall-back repeats runs **once**, at its first
///   occurrence ("your schedule runs only once and doesn't repeat its invocation"). Years run out
///   after 2199.
/// - `rate()` runs at `window.start() + k × period`: absolute durations, a day is 24 hours
///   whatever the clocks do ("evaluates the rate expression 24 hours after the schedule's last
///   invocation").
/// - `at()` runs once at its wall-clock time in `tz`, ignoring the window. A time inside a
///   spring-forward gap (AWS documents nothing for this case) runs at the next valid time, shifted
///   forward by the length of the gap (`02:30` on a day that jumps from `02:00` to `03:00` runs at
///   `03:30`), as RFC 5545 and `java.time` read such times; a repeated time runs at its first
///   occurrence.
///
/// Only times in `window` (`start` inclusive, `end` exclusive) are returned for `cron()` and
/// `rate()`.
pub fn next_fire(
    expr: &ScheduleExpression,
    tz: &TimeZone,
    after: Timestamp,
    window: &Window,
) -> Option<Timestamp> {
    let next = match expr {
        ScheduleExpression::At(civil) => {
            let t = tz.to_ambiguous_timestamp(*civil).compatible().ok()?;
            return (t > after).then_some(t);
        }
        ScheduleExpression::Rate(rate) => next_rate(rate, after, window.start)?,
        ScheduleExpression::Cron(cron) => {
            // Times before the start do not count: search from just before it.
            let floor = window
                .start
                .checked_sub(SignedDuration::from_nanos(1))
                .ok()?;
            next_cron(cron, tz, after.max(floor))?
        }
    };
    match window.end {
        Some(end) if next >= end => None,
        _ => Some(next),
    }
}

/// All fire times of `expr` in `window`, in order (the first is the first at or after
/// `window.start()`; for `at()`, its one time whatever the window).
pub fn fire_times(expr: &ScheduleExpression, tz: &TimeZone, window: &Window) -> FireTimes {
    let after = match expr {
        // One-time schedules ignore the window.
        ScheduleExpression::At(_) => Some(Timestamp::MIN),
        _ => window.start.checked_sub(SignedDuration::from_nanos(1)).ok(),
    };
    FireTimes {
        expr: expr.clone(),
        tz: tz.clone(),
        window: *window,
        after,
    }
}

/// The iterator of [`fire_times`]: each item is [`next_fire`] after the one before.
#[derive(Debug, Clone)]
pub struct FireTimes {
    expr: ScheduleExpression,
    tz: TimeZone,
    window: Window,
    after: Option<Timestamp>,
}

impl FireTimes {
    /// Continues the iteration from strictly after `after` (for a schedule resumed from its
    /// last recorded fire).
    pub fn resume_after(mut self, after: Timestamp) -> FireTimes {
        self.after = Some(after);
        self
    }
}

impl Iterator for FireTimes {
    type Item = Timestamp;

    fn next(&mut self) -> Option<Timestamp> {
        let after = self.after?;
        let next = next_fire(&self.expr, &self.tz, after, &self.window);
        self.after = next;
        next
    }
}

fn next_rate(rate: &Rate, after: Timestamp, anchor: Timestamp) -> Option<Timestamp> {
    if anchor > after {
        return Some(anchor);
    }
    let period = rate.period().as_nanos();
    let elapsed = after.duration_since(anchor).as_nanos();
    let steps = elapsed / period + 1;
    let offset = SignedDuration::try_from_nanos_i128(steps.checked_mul(period)?)?;
    anchor.checked_add(offset).ok()
}

/// The first wall-clock time of `cron` in `tz` whose instant is strictly after `after`.
fn next_cron(cron: &Cron, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
    if !cron.days_possible() {
        return None;
    }
    // Start a day early: around a fall-back at midnight an instant after `after` can carry the
    // previous local date.
    let mut date = after
        .to_zoned(tz.clone())
        .date()
        .checked_sub(1.day())
        .ok()?;
    let years = cron.years();
    loop {
        let year = date.year();
        match years.iter().find(|&&y| y >= year) {
            None => return None,
            Some(&y) if y > year => {
                date = Date::new(y, 1, 1).ok()?;
                continue;
            }
            Some(_) => {}
        }
        if !cron.has_month(date.month()) {
            date = match (date.month() + 1..=12).find(|&m| cron.has_month(m)) {
                Some(m) => Date::new(year, m, 1).ok()?,
                None => Date::new(year.checked_add(1)?, 1, 1).ok()?,
            };
            continue;
        }
        if cron.matches_date(date)
            && let Some(t) = first_time_on(cron, tz, date, after)
        {
            return Some(t);
        }
        date = date.tomorrow().ok()?;
    }
}

/// The first of `cron`'s times on `date` whose instant is after `after`, by the DST rules.
fn first_time_on(cron: &Cron, tz: &TimeZone, date: Date, after: Timestamp) -> Option<Timestamp> {
    // Skip a day wholly at or before `after` with one conversion.
    if before_or_at(tz, date.at(23, 59, 0, 0), after) {
        return None;
    }
    for &hour in cron.hours() {
        // Skip an hour wholly at or before `after` with one conversion instead of sixty.
        if before_or_at(tz, date.at(hour as i8, 59, 0, 0), after) {
            continue;
        }
        for &minute in cron.minutes() {
            let civil = date.at(hour as i8, minute as i8, 0, 0);
            let ambiguous = tz.to_ambiguous_timestamp(civil);
            let t = match ambiguous.offset() {
                // Skipped by a spring-forward: no run.
                AmbiguousOffset::Gap { .. } => continue,
                // Repeated by a fall-back: the first occurrence only.
                AmbiguousOffset::Fold { .. } => ambiguous.earlier().ok()?,
                AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible().ok()?,
            };
            if t > after {
                return Some(t);
            }
        }
    }
    None
}

/// Whether the wall-clock time `civil` exists once in `tz` and is at or before `after` (so every
/// earlier wall-clock time of the same day is too). Ambiguous times answer `false`: no skipping.
fn before_or_at(tz: &TimeZone, civil: jiff::civil::DateTime, after: Timestamp) -> bool {
    let t = tz.to_ambiguous_timestamp(civil);
    matches!(t.offset(), AmbiguousOffset::Unambiguous { .. })
        && t.compatible().is_ok_and(|t| t <= after)
}
