//! The next-fire computation: daylight-saving cases worked by hand, start and end dates, and a
//! property test against a brute-force reference that steps minute by minute.

use ferrule_schedule::jiff::civil::{Date, Weekday};
use ferrule_schedule::jiff::tz::TimeZone;
use ferrule_schedule::jiff::{SignedDuration, Timestamp};
use ferrule_schedule::{
    Flavor, FlexibleTimeWindow, Schedule, ScheduleExpression, Window, fire_times, next_fire,
    parse_timezone,
};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    match s.parse() {
        Ok(t) => t,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn expr(text: &str) -> ScheduleExpression {
    match ScheduleExpression::parse(text, Flavor::Scheduler) {
        Ok(e) => e,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn zone(name: &str) -> TimeZone {
    match parse_timezone(name) {
        Ok(z) => z,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn fires(text: &str, tz: &str, from: &str, n: usize) -> Vec<Timestamp> {
    fire_times(&expr(text), &zone(tz), &Window::starting(ts(from)))
        .take(n)
        .collect()
}

fn all(v: &[&str]) -> Vec<Timestamp> {
    v.iter().map(|s| ts(s)).collect()
}

#[test]
fn spring_forward_skips_the_missing_time() {
    // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    assert_eq!(
        fires(
            "cron(30 2 * * ? *)",
            "America/New_York",
            "2024-03-09T00:00:00Z",
            3
        ),
        all(&[
            "2024-03-09T07:30:00Z",
            "2024-03-11T06:30:00Z",
            "2024-03-12T06:30:00Z"
        ])
    );
    // Every 20 minutes through the gap: 01:40 EST, then 03:00 EDT.
    assert_eq!(
        fires(
            "cron(0/20 * * * ? *)",
            "America/New_York",
            "2024-03-10T06:30:00Z",
            3
        ),
        all(&[
            "2024-03-10T06:40:00Z",
            "2024-03-10T07:00:00Z",
            "2024-03-10T07:20:00Z"
        ])
    );
    // Lord Howe Island, 2024-10-06: 02:00 (+10:30) jumps to 02:30 (+11:00), a 30-minute gap.
    assert_eq!(
        fires(
            "cron(15 2 * * ? *)",
            "Australia/Lord_Howe",
            "2024-10-04T00:00:00Z",
            2
        ),
        all(&["2024-10-04T15:45:00Z", "2024-10-06T15:15:00Z"])
    );
    // Berlin, 2024-03-31: 02:00 CET jumps to 03:00 CEST.
    assert_eq!(
        fires(
            "cron(15 2 ? * SUN *)",
            "Europe/Berlin",
            "2024-03-20T00:00:00Z",
            2
        ),
        all(&["2024-03-24T01:15:00Z", "2024-04-07T00:15:00Z"])
    );
}

#[test]
fn fall_back_runs_a_repeated_time_once() {
    // New York, 2024-11-03: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
    assert_eq!(
        fires(
            "cron(30 1 * * ? *)",
            "America/New_York",
            "2024-11-02T12:00:00Z",
            3
        ),
        all(&[
            "2024-11-03T05:30:00Z",
            "2024-11-04T06:30:00Z",
            "2024-11-05T06:30:00Z"
        ])
    );
    // Asked from inside the second 01:xx hour, the repeated 01:30 does not run again.
    assert_eq!(
        next_fire(
            &expr("cron(30 1 * * ? *)"),
            &zone("America/New_York"),
            ts("2024-11-03T06:10:00Z"),
            &Window::starting(ts("2024-01-01T00:00:00Z"))
        ),
        Some(ts("2024-11-04T06:30:00Z"))
    );
    // Every 30 minutes: the repeated hour's times run once each, so the hour of 01:xx EST is
    // silent and 02:00 EST follows 01:30 EDT after 90 minutes.
    assert_eq!(
        fires(
            "cron(0/30 * * * ? *)",
            "America/New_York",
            "2024-11-03T04:45:00Z",
            4
        ),
        all(&[
            "2024-11-03T05:00:00Z",
            "2024-11-03T05:30:00Z",
            "2024-11-03T07:00:00Z",
            "2024-11-03T07:30:00Z"
        ])
    );
    // Berlin, 2024-10-27: 03:00 CEST falls back to 02:00 CET.
    assert_eq!(
        fires(
            "cron(30 2 27 OCT ? 2024)",
            "Europe/Berlin",
            "2024-10-01T00:00:00Z",
            2
        ),
        all(&["2024-10-27T00:30:00Z"])
    );
}

#[test]
fn rates_are_absolute_across_dst() {
    // rate(1 day) from 12:00 EST on 2024-03-09 is 13:00 EDT on the 10th: 24 hours, not a
    // wall-clock day.
    assert_eq!(
        fires("rate(1 day)", "America/New_York", "2024-03-09T17:00:00Z", 3),
        all(&[
            "2024-03-09T17:00:00Z",
            "2024-03-10T17:00:00Z",
            "2024-03-11T17:00:00Z"
        ])
    );
    // The first run is at the start (seconds kept), then every period.
    assert_eq!(
        fires("rate(5 minutes)", "UTC", "2024-05-01T10:00:42Z", 3),
        all(&[
            "2024-05-01T10:00:42Z",
            "2024-05-01T10:05:42Z",
            "2024-05-01T10:10:42Z"
        ])
    );
    let e = expr("rate(2 hours)");
    let w = Window::starting(ts("2024-05-01T10:00:00Z"));
    // Strictly after: a run exactly at `after` is not the next one.
    assert_eq!(
        next_fire(&e, &TimeZone::UTC, ts("2024-05-01T12:00:00Z"), &w),
        Some(ts("2024-05-01T14:00:00Z"))
    );
    assert_eq!(
        next_fire(&e, &TimeZone::UTC, ts("2024-05-01T11:59:59Z"), &w),
        Some(ts("2024-05-01T12:00:00Z"))
    );
    assert_eq!(
        next_fire(&e, &TimeZone::UTC, ts("2020-01-01T00:00:00Z"), &w),
        Some(ts("2024-05-01T10:00:00Z"))
    );
}

#[test]
fn late_in_the_day_and_late_in_the_hour() {
    // The day and hour skips must not pass over a time still ahead.
    let w = Window::starting(ts("2024-01-01T00:00:00Z"));
    for (text, tz, after, expected) in [
        (
            "cron(30 23 * * ? *)",
            "UTC",
            "2024-05-01T23:10:00Z",
            "2024-05-01T23:30:00Z",
        ),
        (
            "cron(59 23 * * ? *)",
            "UTC",
            "2024-05-01T23:58:59Z",
            "2024-05-01T23:59:00Z",
        ),
        (
            "cron(59 * * * ? *)",
            "UTC",
            "2024-05-01T10:58:30Z",
            "2024-05-01T10:59:00Z",
        ),
        (
            "cron(0 0 * * ? *)",
            "UTC",
            "2024-05-01T23:59:59Z",
            "2024-05-02T00:00:00Z",
        ),
        // 23:45 in New York (EDT) is 03:45 UTC the next day.
        (
            "cron(45 23 * * ? *)",
            "America/New_York",
            "2024-05-02T03:40:00Z",
            "2024-05-02T03:45:00Z",
        ),
        (
            "cron(45 23 * * ? *)",
            "Europe/Berlin",
            "2024-05-01T21:44:59Z",
            "2024-05-01T21:45:00Z",
        ),
    ] {
        assert_eq!(
            next_fire(&expr(text), &zone(tz), ts(after), &w),
            Some(ts(expected)),
            "{text} {tz} after {after}"
        );
    }
}

#[test]
fn one_time_schedules() {
    let ny = zone("America/New_York");
    let w = Window::starting(ts("2030-01-01T00:00:00Z"));
    // Local time of the zone, ignoring the window (the service ignores StartDate/EndDate).
    let e = expr("at(2024-06-01T09:00:00)");
    assert_eq!(
        next_fire(&e, &ny, ts("2024-01-01T00:00:00Z"), &w),
        Some(ts("2024-06-01T13:00:00Z"))
    );
    assert_eq!(next_fire(&e, &ny, ts("2024-06-01T13:00:00Z"), &w), None);
    assert_eq!(fire_times(&e, &ny, &w).count(), 1);
    // In a spring-forward gap: the next valid time, shifted by the gap.
    let gap = expr("at(2024-03-10T02:30:00)");
    assert_eq!(
        next_fire(&gap, &ny, ts("2024-01-01T00:00:00Z"), &w),
        Some(ts("2024-03-10T07:30:00Z"))
    );
    // A repeated time: its first occurrence.
    let fold = expr("at(2024-11-03T01:30:00)");
    assert_eq!(
        next_fire(&fold, &ny, ts("2024-01-01T00:00:00Z"), &w),
        Some(ts("2024-11-03T05:30:00Z"))
    );
}

#[test]
fn start_and_end_dates() {
    let e = expr("cron(0 * * * ? *)");
    let w = match Window::new(ts("2024-05-01T10:30:00Z"), Some(ts("2024-05-01T13:00:00Z"))) {
        Ok(w) => w,
        Err(e) => panic!("{e}"),
    };
    let got: Vec<Timestamp> = fire_times(&e, &TimeZone::UTC, &w).collect();
    // Start inclusive, end exclusive.
    assert_eq!(got, all(&["2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"]));
    let on_start = Window::starting(ts("2024-05-01T11:00:00Z"));
    assert_eq!(
        fire_times(&e, &TimeZone::UTC, &on_start).next(),
        Some(ts("2024-05-01T11:00:00Z"))
    );
    // A rate schedule ends the same way.
    let r = expr("rate(1 hour)");
    assert_eq!(fire_times(&r, &TimeZone::UTC, &w).count(), 3);
    // The end must be after the start.
    for end in ["2024-05-01T10:30:00Z", "2024-05-01T09:00:00Z"] {
        match Window::new(ts("2024-05-01T10:30:00Z"), Some(ts(end))) {
            Ok(w) => panic!("accepted {w:?}"),
            Err(e) => {
                assert_eq!(e.kind(), ferrule_schedule::ErrorKind::InvalidDateRange);
                assert_eq!(e.code(), "ValidationException");
            }
        }
    }
    // Resuming from a recorded fire.
    let resumed: Vec<Timestamp> = fire_times(
        &e,
        &TimeZone::UTC,
        &Window::starting(ts("2024-01-01T00:00:00Z")),
    )
    .resume_after(ts("2024-05-01T11:00:00Z"))
    .take(2)
    .collect();
    assert_eq!(
        resumed,
        all(&["2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"])
    );
}

#[test]
fn years_run_out_and_impossible_dates_never_fire() {
    let w = Window::starting(ts("2024-01-01T00:00:00Z"));
    assert_eq!(
        fire_times(&expr("cron(0 0 1 1 ? 2025-2026)"), &TimeZone::UTC, &w).collect::<Vec<_>>(),
        all(&["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"])
    );
    assert_eq!(
        next_fire(
            &expr("cron(0 0 31 FEB ? *)"),
            &TimeZone::UTC,
            ts("2024-01-01T00:00:00Z"),
            &w
        ),
        None
    );
    assert_eq!(
        next_fire(
            &expr("cron(0 0 1 1 ? 2020)"),
            &TimeZone::UTC,
            ts("2024-01-01T00:00:00Z"),
            &w
        ),
        None
    );
    // The last year the grammar allows.
    assert_eq!(
        next_fire(
            &expr("cron(59 23 31 12 ? *)"),
            &TimeZone::UTC,
            ts("2199-12-31T23:59:00Z"),
            &Window::starting(ts("2199-01-01T00:00:00Z"))
        ),
        None
    );
    // Feb 29 only in leap years.
    assert_eq!(
        fires("cron(0 12 29 2 ? *)", "UTC", "2024-03-01T00:00:00Z", 2),
        all(&["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"])
    );
}

#[test]
fn the_founding_schedule() {
    // rate(1 minute), flexible window off: every minute from creation, on the second it was
    // created.
    let s = Schedule {
        identity: "arn:aws:scheduler:us-east-1:000000000000:schedule/default/ExecuteStateMachine"
            .into(),
        expression: expr("rate(1 minute)"),
        timezone: TimeZone::UTC,
        window: Window::starting(ts("2024-05-01T10:00:17Z")),
        flexible: FlexibleTimeWindow::Off,
    };
    let first = s.next_after(ts("2024-05-01T10:00:16Z"));
    assert_eq!(
        first.map(|i| (i.scheduled, i.invoke_at)),
        Some((ts("2024-05-01T10:00:17Z"), ts("2024-05-01T10:00:17Z")))
    );
    let second = s.next_after(ts("2024-05-01T10:00:17Z"));
    assert_eq!(
        second.map(|i| i.scheduled),
        Some(ts("2024-05-01T10:01:17Z"))
    );
    // With a window the invocation moves, the scheduled time does not.
    let flex = Schedule {
        flexible: FlexibleTimeWindow::Flexible {
            maximum_window_minutes: 5,
        },
        ..s
    };
    let i = flex.next_after(ts("2024-05-01T10:00:17Z"));
    assert!(i.is_some_and(|i| i.scheduled == ts("2024-05-01T10:01:17Z")
        && i.invoke_at >= i.scheduled
        && i.invoke_at < ts("2024-05-01T10:06:17Z")));
}

// ---- the brute-force reference ----

/// Whether the instant `t` is the first instant with its wall-clock time in `tz`: no instant
/// 15 minutes to 3 hours earlier (offset changes are whole quarter hours) shows the same
/// wall-clock time. Independent of the library's disambiguation.
fn first_occurrence(tz: &TimeZone, t: Timestamp) -> bool {
    let civil = tz.to_datetime(t);
    (1..=12).all(|q| match t.checked_sub(SignedDuration::from_mins(15 * q)) {
        Ok(earlier) => tz.to_datetime(earlier) != civil,
        Err(_) => true,
    })
}

/// A cron expression generated with its meaning: each field's text comes with a predicate
/// written here from the AWS field table, independent of the crate's matcher.
#[derive(Clone)]
struct Generated {
    text: String,
    minute: fn(i8) -> bool,
    hour: fn(i8) -> bool,
    day: fn(Date) -> bool,
    month: fn(i8) -> bool,
    year: fn(i16) -> bool,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Generated {
    fn matches(&self, civil: ferrule_schedule::jiff::civil::DateTime) -> bool {
        civil.second() == 0
            && civil.subsec_nanosecond() == 0
            && (self.minute)(civil.minute())
            && (self.hour)(civil.hour())
            && (self.month)(civil.month())
            && (self.year)(civil.year())
            && (self.day)(civil.date())
    }
}

fn last_day(d: Date) -> bool {
    d.tomorrow().is_ok_and(|t| t.month() != d.month())
}

fn is_weekday(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The days of `d`'s month.
fn month_days(d: Date) -> impl Iterator<Item = Date> {
    let first = d.first_of_month();
    (0..31).filter_map(move |i| {
        first
            .checked_add(ferrule_schedule::jiff::Span::new().days(i))
            .ok()
            .filter(|x| x.month() == first.month())
    })
}

/// `nW`: the weekday of the month closest to day n (none if the month has no day n).
fn nearest_weekday(d: Date, n: i8) -> bool {
    if month_days(d).all(|x| x.day() != n) {
        return false;
    }
    let best = month_days(d)
        .filter(|x| is_weekday(*x))
        .min_by_key(|x| (x.day() - n).abs());
    best == Some(d)
}

/// The `k`-th `w` of the month (counting from 1), by counting.
fn nth(d: Date, w: Weekday, k: usize) -> bool {
    d.weekday() == w
        && month_days(d)
            .filter(|x| x.weekday() == w && *x <= d)
            .count()
            == k
}

fn last_of_kind(d: Date, w: Weekday) -> bool {
    d.weekday() == w && month_days(d).all(|x| x <= d || x.weekday() != w)
}

/// Steps minute by minute from the first whole minute after `after` (and at or after the
/// start), up to `horizon` minutes. `Err(())` when nothing fires within the horizon.
fn reference_cron(
    cron: &Generated,
    tz: &TimeZone,
    after: Timestamp,
    window: &Window,
    horizon: i64,
) -> Result<Option<Timestamp>, ()> {
    let from = after.max(window.start() - SignedDuration::from_nanos(1));
    let secs = from.as_second().div_euclid(60) * 60 + 60;
    let mut t = match Timestamp::from_second(secs) {
        Ok(t) => t,
        Err(_) => return Ok(None),
    };
    for _ in 0..horizon {
        if window.end().is_some_and(|end| t >= end) {
            return Ok(None);
        }
        if cron.matches(tz.to_datetime(t)) && first_occurrence(tz, t) {
            return Ok(Some(t));
        }
        t += SignedDuration::from_mins(1);
    }
    Err(())
}

type Field<T> = (&'static str, fn(T) -> bool);

fn cron_generated() -> impl Strategy<Value = Generated> {
    use Weekday::*;
    let minutes: Vec<Field<i8>> = vec![
        ("*", |_| true),
        ("0", |m| m == 0),
        ("30", |m| m == 30),
        ("*/7", |m| m % 7 == 0),
        ("5,35", |m| m == 5 || m == 35),
        ("10-20", |m| (10..=20).contains(&m)),
        ("0/15", |m| m % 15 == 0),
        ("59", |m| m == 59),
        ("45-15/10", |m| [45, 55, 5, 15].contains(&m)),
        ("0/30", |m| m % 30 == 0),
    ];
    let hours: Vec<Field<i8>> = vec![
        ("*", |_| true),
        ("1", |h| h == 1),
        ("2", |h| h == 2),
        ("3", |h| h == 3),
        ("1-3", |h| (1..=3).contains(&h)),
        ("*/5", |h| h % 5 == 0),
        ("0,12", |h| h == 0 || h == 12),
        ("23", |h| h == 23),
        ("22-3", |h| h >= 22 || h <= 3),
        ("2,3", |h| h == 2 || h == 3),
    ];
    let dom: Vec<Field<Date>> = vec![
        ("*", |_| true),
        ("1", |d| d.day() == 1),
        ("L", last_day),
        ("LW", |d| {
            is_weekday(d) && month_days(d).all(|x| x <= d || !is_weekday(x))
        }),
        ("15W", |d| nearest_weekday(d, 15)),
        ("1W", |d| nearest_weekday(d, 1)),
        ("30W", |d| nearest_weekday(d, 30)),
        ("31", |d| d.day() == 31),
        ("10-20", |d| (10..=20).contains(&d.day())),
        ("1/10", |d| d.day() % 10 == 1),
        ("25-5", |d| d.day() >= 25 || d.day() <= 5),
        ("27", |d| d.day() == 27),
        ("3-10", |d| (3..=10).contains(&d.day())),
    ];
    let dow: Vec<Field<Date>> = vec![
        ("*", |_| true),
        ("MON-FRI", is_weekday),
        ("1", |d| d.weekday() == Sunday),
        ("7", |d| d.weekday() == Saturday),
        ("L", |d| d.weekday() == Saturday),
        ("6L", |d| last_of_kind(d, Friday)),
        ("1L", |d| last_of_kind(d, Sunday)),
        ("2#1", |d| nth(d, Monday, 1)),
        ("SUN#2", |d| nth(d, Sunday, 2)),
        ("1#1", |d| nth(d, Sunday, 1)),
        ("1#5", |d| nth(d, Sunday, 5)),
        ("SAT,SUN", |d| !is_weekday(d)),
        ("FRI-MON", |d| {
            matches!(d.weekday(), Friday | Saturday | Sunday | Monday)
        }),
    ];
    let months: Vec<Field<i8>> = vec![
        ("*", |_| true),
        ("*", |_| true),
        ("3", |m| m == 3),
        ("MAR,NOV", |m| m == 3 || m == 11),
        ("10-12", |m| m >= 10),
        ("*/2", |m| m % 2 == 1),
        ("FEB", |m| m == 2),
        ("OCT-MAR", |m| m >= 10 || m <= 3),
    ];
    let years: Vec<Field<i16>> = vec![
        ("*", |_| true),
        ("*", |_| true),
        ("2024-2026", |y| (2024..=2026).contains(&y)),
        ("2025", |y| y == 2025),
        ("2024/2", |y| y >= 2024 && (y - 2024) % 2 == 0),
    ];
    // Day-of-month with `?` in day-of-week, or the other way round; plain `*` weighted up so
    // that transition days come up often.
    let day = prop_oneof![
        prop::sample::select(dom).prop_map(|(t, f)| (t, "?", f)),
        prop::sample::select(dow).prop_map(|(t, f)| ("?", t, f)),
        Just(("*", "?", (|_| true) as fn(Date) -> bool)),
    ];
    (
        prop::sample::select(minutes),
        prop::sample::select(hours),
        day,
        prop::sample::select(months),
        prop::sample::select(years),
    )
        .prop_map(
            |((mt, mf), (ht, hf), (dom, dow, df), (mot, mof), (yt, yf))| Generated {
                text: format!("cron({mt} {ht} {dom} {mot} {dow} {yt})"),
                minute: mf,
                hour: hf,
                day: df,
                month: mof,
                year: yf,
            },
        )
}

fn cron_text() -> impl Strategy<Value = String> {
    cron_generated().prop_map(|g| g.text)
}

/// A zone and an instant from 36 hours before to 3 hours after one of its 2024-2025
/// transitions (UTC: ordinary instants), so that the next fire often falls on a transition.
fn zone_and_instant() -> impl Strategy<Value = (&'static str, Timestamp)> {
    let anchors = vec![
        ("America/New_York", "2024-03-10T07:00:00Z"), // spring forward
        ("America/New_York", "2024-11-03T06:00:00Z"), // fall back
        ("Europe/Berlin", "2024-03-31T01:00:00Z"),    // spring forward
        ("Europe/Berlin", "2024-10-27T01:00:00Z"),    // fall back
        ("Australia/Lord_Howe", "2024-10-05T15:30:00Z"), // spring forward by 30 minutes
        ("Australia/Lord_Howe", "2025-04-05T15:00:00Z"), // fall back by 30 minutes
        ("UTC", "2024-12-31T23:00:00Z"),
        ("UTC", "2024-02-28T12:00:00Z"),
    ];
    let near = (prop::sample::select(anchors), -36 * 60i64..3 * 60, 0i64..60)
        .prop_map(|((z, a), m, s)| (z, ts(a) + SignedDuration::from_secs(m * 60 + s)));
    // And anywhere in 2023-2027, for the calendar forms.
    let anywhere = (
        prop::sample::select(vec!["UTC", "America/New_York", "Europe/Berlin"]),
        ts("2023-01-01T00:00:00Z").as_second()..ts("2028-01-01T00:00:00Z").as_second(),
    )
        .prop_map(|(z, s)| {
            (
                z,
                Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH),
            )
        });
    prop_oneof![3 => near, 1 => anywhere]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// next_fire agrees with the minute-by-minute reference, for all fire times within
    /// 60 days, and never returns a time past the horizon when the reference finds one within.
    #[test]
    fn cron_matches_the_reference(
        generated in cron_generated(),
        (tz, after) in zone_and_instant(),
        start_back in 0i64..3_000,
        end_ahead in prop::option::of(60i64..20_000),
    ) {
        let text = generated.text.clone();
        let expression = expr(&text);
        let ScheduleExpression::Cron(cron) = &expression else {
            return Err(TestCaseError::fail("not cron"));
        };
        let tz = zone(tz);
        let start = after - SignedDuration::from_mins(start_back) + SignedDuration::from_mins(30);
        let end = end_ahead.map(|m| start + SignedDuration::from_mins(m));
        let window = match Window::new(start, end) {
            Ok(w) => w,
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let horizon = 60 * 24 * 60;
        let got = next_fire(&expression, &tz, after, &window);
        // The crate's matcher agrees with the field meanings on 400 days from `after`'s date,
        // and at its wall-clock minute.
        let first_day = tz.to_datetime(after).date();
        for i in 0..400 {
            let Ok(d) = first_day.checked_add(ferrule_schedule::jiff::Span::new().days(i)) else { break };
            let expected = (generated.day)(d) && (generated.month)(d.month()) && (generated.year)(d.year());
            prop_assert_eq!(cron.matches_date(d), expected, "{} on {}", text, d);
        }
        let civil = tz.to_datetime(after).with().second(0).subsec_nanosecond(0).build().unwrap_or(tz.to_datetime(after));
        prop_assert_eq!(cron.matches(civil), generated.matches(civil), "{} at {}", text, civil);
        match reference_cron(&generated, &tz, after, &window, horizon) {
            Ok(expected) => prop_assert_eq!(got, expected, "{} in {:?} after {}", text, tz.iana_name(), after),
            Err(()) => {
                let limit = after + SignedDuration::from_mins(horizon);
                prop_assert!(got.is_none_or(|g| g >= limit), "{} gave {:?} but the reference found nothing before {}", text, got, limit);
            }
        }
    }

    /// Iterating is the same as asking again after each fire, and fire times strictly increase.
    #[test]
    fn iteration_is_repeated_next_fire(
        text in cron_text(),
        (tz, start) in zone_and_instant(),
    ) {
        let expression = expr(&text);
        let tz = zone(tz);
        let window = Window::starting(start);
        let times: Vec<Timestamp> = fire_times(&expression, &tz, &window).take(30).collect();
        for pair in times.windows(2) {
            prop_assert!(pair[0] < pair[1]);
            prop_assert_eq!(next_fire(&expression, &tz, pair[0], &window), Some(pair[1]));
        }
        if let Some(first) = times.first() {
            prop_assert!(*first >= start);
        }
    }

    /// A rate schedule runs at start + k × period; checked by stepping the period from the start.
    #[test]
    fn rate_matches_stepping(
        value in 1u32..500,
        unit in prop::sample::select(vec!["minutes", "hours", "days"]),
        (tz, start) in zone_and_instant(),
        after_offset in -10_000i64..200_000,
    ) {
        let expression = expr(&format!("rate({value} {unit})"));
        let ScheduleExpression::Rate(rate) = &expression else {
            return Err(TestCaseError::fail("not rate"));
        };
        let window = Window::starting(start);
        let after = start + SignedDuration::from_mins(after_offset);
        let mut t = start;
        while t <= after {
            t += rate.period();
        }
        prop_assert_eq!(next_fire(&expression, &zone(tz), after, &window), Some(t));
    }
}
