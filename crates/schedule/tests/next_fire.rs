//! The next-fire computation: daylight-saving cases worked by hand, start and end dates, and a
//! property test against a brute-force reference that steps minute by minute.

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

/// Steps minute by minute from the first whole minute after `after` (and at or after the
/// start), up to `horizon` minutes. `Err(())` when nothing fires within the horizon.
fn reference_cron(
    cron: &ferrule_schedule::Cron,
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

fn cron_text() -> impl Strategy<Value = String> {
    let minutes = prop::sample::select(vec![
        "*", "0", "30", "*/7", "5,35", "10-20", "0/15", "59", "45-15/10", "0/30",
    ]);
    let hours = prop::sample::select(vec![
        "*", "*", "1", "2", "3", "1-3", "*/5", "0,12", "23", "22-3", "2,3",
    ]);
    let day = prop_oneof![
        prop::sample::select(vec![
            "*", "*", "*", "1", "L", "LW", "15W", "1W", "31", "10-20", "1/10", "25-5", "27", "3-10"
        ])
        .prop_map(|dom| (dom, "?")),
        prop::sample::select(vec![
            "*", "*", "*", "MON-FRI", "1", "7", "6L", "1L", "2#1", "SUN#2", "1#1", "1#5", "L",
            "SAT,SUN", "FRI-MON"
        ])
        .prop_map(|dow| ("?", dow)),
    ];
    let month = prop::sample::select(vec![
        "*", "*", "*", "3", "MAR,NOV", "10-12", "*/2", "FEB", "OCT-MAR",
    ]);
    let year = prop::sample::select(vec!["*", "*", "*", "2024-2026", "2025", "2024/2"]);
    (minutes, hours, day, month, year)
        .prop_map(|(mi, h, (dom, dow), mo, y)| format!("cron({mi} {h} {dom} {mo} {dow} {y})"))
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
    (prop::sample::select(anchors), -36 * 60i64..3 * 60, 0i64..60)
        .prop_map(|((z, a), m, s)| (z, ts(a) + SignedDuration::from_secs(m * 60 + s)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// next_fire agrees with the minute-by-minute reference, for all fire times within
    /// 60 days, and never returns a time past the horizon when the reference finds one within.
    #[test]
    fn cron_matches_the_reference(
        text in cron_text(),
        (tz, after) in zone_and_instant(),
        start_back in 0i64..3_000,
        end_ahead in prop::option::of(60i64..20_000),
    ) {
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
        match reference_cron(cron, &tz, after, &window, horizon) {
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
