//! How late schedules fire: 100,000 `rate(1 minute)` schedules (their start
//! times spread over the minute, about 1,667 due each second) on the system
//! clock, into one built-in queue through durable dispatch (redb, synced).
//!
//! Reports how long loading the schedules took, then two lag distributions
//! over every run in the measured minutes: **fire lag** (the run's record and
//! delivery committed to the store, minus its due time) and **delivery lag**
//! (the message in the queue, minus its due time).
//!
//! `cargo bench -p ferrule-bus --bench schedule_lag [-- SCHEDULES MINUTES]`
//! (default 100,000 schedules, 2 minutes).

use std::time::{Duration, Instant};

use ferrule_bus::{
    Bus, BusOptions, FirePayload, FireTarget, RetryPolicy, SystemClock, TimedSchedule,
};
use ferrule_core::Clock;
use ferrule_schedule::jiff::Timestamp;
use ferrule_schedule::{Flavor, FlexibleTimeWindow, Schedule, ScheduleExpression, Window};

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut lags: Vec<i64>) {
    lags.sort_unstable();
    let within = lags.iter().filter(|&&l| l <= 1_000).count();
    println!(
        "{name}: {} runs, p50 {} ms, p99 {} ms, p99.9 {} ms, max {} ms, within 1 s: {:.3}%",
        lags.len(),
        percentile(&lags, 0.50),
        percentile(&lags, 0.99),
        percentile(&lags, 0.999),
        lags.last().copied().unwrap_or(0),
        100.0 * within as f64 / lags.len().max(1) as f64,
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let minutes: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let dir = std::env::temp_dir().join(format!("ferrule-schedule-lag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bus = Bus::open(BusOptions::new(&dir)).expect("open the bus");
    let queue = bus.create_queue("lag").expect("queue");
    let expression =
        ScheduleExpression::parse("rate(1 minute)", Flavor::Scheduler).expect("expression");
    // The first runs start 5 s from now, on whole seconds (the payload
    // carries the due time to the second), spread over one minute.
    let now = SystemClock.now_ms();
    let base = (now / 1_000 + 5) * 1_000;
    let loading = Instant::now();
    for i in 0..n {
        let start = base + (i % 60) * 1_000;
        let key = format!("arn:aws:scheduler:us-east-1:000000000000:schedule/bench/s{i}");
        bus.put_schedule(TimedSchedule {
            key: key.clone(),
            arn: key.clone(),
            schedule: Schedule {
                identity: key,
                expression: expression.clone(),
                timezone: ferrule_schedule::jiff::tz::TimeZone::UTC,
                window: Window::starting(Timestamp::from_millisecond(start as i64).expect("start")),
                flexible: FlexibleTimeWindow::Off,
            },
            enabled: true,
            targets: vec![FireTarget {
                id: "q".into(),
                arn: queue.clone(),
                payload: FirePayload::Template("<aws.scheduler.scheduled-time>".into()),
                retry_policy: RetryPolicy::default(),
                dead_letter_arn: None,
                message_group_id: None,
            }],
            counter_group: "bench".into(),
            counter_name: "s".into(),
            after_ms: now,
            delete_after_completion: false,
        });
    }
    println!(
        "loaded {n} schedules in {:.2} s ({:.0} per second)",
        loading.elapsed().as_secs_f64(),
        n as f64 / loading.elapsed().as_secs_f64()
    );
    bus.record_fire_lags(true);
    // Runs due in [base, base + minutes): wait for them, and a little more.
    let end = base + minutes * 60_000;
    while SystemClock.now_ms() < end + 3_000 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let fire_lags: Vec<i64> = bus.take_fire_lags();
    let expected = n * minutes;
    // Wait for delivery to drain.
    let drained = Instant::now();
    while bus.pending_deliveries().unwrap_or(0) > 0 && drained.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let messages = bus.queue_messages("lag", usize::MAX).expect("messages");
    let mut delivery = Vec::with_capacity(messages.len());
    for m in &messages {
        let due = ferrule_core::time::parse_rfc3339_ms(&m.body).unwrap_or(0);
        if due >= base && due < end {
            delivery.push(m.sent_ms as i64 - due as i64);
        }
    }
    let stats = bus.scheduler_stats();
    println!(
        "{n} schedules, {minutes} min: {} runs fired ({} expected in the window), {} missed, {} store errors",
        stats.fired, expected, stats.missed, stats.store_errors
    );
    report("fire lag (committed - due)", fire_lags);
    report("delivery lag (in the queue - due)", delivery);
    drop(bus);
    let _ = std::fs::remove_dir_all(&dir);
}
