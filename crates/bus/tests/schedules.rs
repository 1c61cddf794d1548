//! The scheduler on a driven clock: rule schedules delivering Scheduled
//! Events, Scheduler-style schedules with templates, retries ending in the
//! dead-letter queue, completion, and the restart rule (delivered once if
//! within the maximum age, else missed; never twice).

use std::sync::{Arc, Mutex};

use ferrule_bus::{
    Bus, FirePayload, FireTarget, ManualClock, OneOffDelivery, PutRuleInput, RetryPolicy,
    RuleState, TargetConfig, TimedSchedule,
};
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, FunctionTarget};
use ferrule_schedule::jiff::Timestamp;
use ferrule_schedule::{Flavor, FlexibleTimeWindow, Schedule, ScheduleExpression, Window};
use serde_json::Value;

mod support;
use support::open::TestBus;
use support::steps::target;
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z
const MINUTE: u64 = 60_000;

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    TestBus::new(&dir.0).clock(clock).open()
}

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millisecond(ms as i64).expect("timestamp")
}

/// Advances the clock to `to` and runs the scheduler and delivery there.
fn at(bus: &Bus, clock: &ManualClock, to: u64) -> u64 {
    clock.set_ms(to);
    let fired = bus.run_schedules();
    while bus.run_due() > 0 {}
    fired
}

fn bodies(bus: &Bus, queue: &str) -> Vec<Value> {
    bus.queue_messages(queue, 1_000)
        .expect("messages")
        .into_iter()
        .map(|m| serde_json::from_str(&m.body).expect("JSON body"))
        .collect()
}

fn timed(key: &str, expr: &str, after_ms: u64, target: FireTarget) -> TimedSchedule {
    TimedSchedule {
        key: key.into(),
        arn: key.into(),
        schedule: Schedule {
            identity: key.into(),
            expression: ScheduleExpression::parse(expr, Flavor::Scheduler).expect("expression"),
            timezone: ferrule_schedule::jiff::tz::TimeZone::UTC,
            window: Window::starting(ts(after_ms)),
            flexible: FlexibleTimeWindow::Off,
        },
        enabled: true,
        targets: vec![target],
        counter_group: "default".into(),
        counter_name: "s".into(),
        after_ms,
        delete_after_completion: false,
    }
}

fn to_queue(queue_arn: &str, input: &str) -> FireTarget {
    FireTarget {
        id: "t".into(),
        arn: queue_arn.into(),
        payload: FirePayload::Template(input.into()),
        retry_policy: RetryPolicy::default(),
        dead_letter_arn: None,
        message_group_id: None,
    }
}

#[test]
fn a_rule_schedule_delivers_scheduled_events_on_time() {
    let dir = TempDir::new("rule-schedule");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let q = bus.create_queue("ticks").unwrap();
    let mut rule = PutRuleInput::new("every-5", "");
    rule.event_pattern = None;
    rule.schedule_expression = Some("rate(5 minutes)".into());
    let rule_arn = bus.put_rule(rule).unwrap();
    bus.put_targets("every-5", None, vec![target("q", &q)])
        .unwrap();
    // Nothing before the first period has passed.
    assert_eq!(at(&bus, &clock, T0 + 5 * MINUTE - 1), 0);
    assert!(bodies(&bus, "ticks").is_empty());
    assert_eq!(at(&bus, &clock, T0 + 5 * MINUTE), 1);
    let got = bodies(&bus, "ticks");
    assert_eq!(got.len(), 1);
    let e = &got[0];
    assert_eq!(e["source"], "aws.events");
    assert_eq!(e["detail-type"], "Scheduled Event");
    assert_eq!(e["resources"], serde_json::json!([rule_arn]));
    assert_eq!(e["time"], "2024-05-01T12:05:00Z");
    assert_eq!(e["detail"], serde_json::json!({}));
    assert_eq!(e["account"], bus.account());
    // Two more periods at once: two fires, each with its own time.
    at(&bus, &clock, T0 + 15 * MINUTE + 30_000);
    let times: Vec<String> = bodies(&bus, "ticks")
        .iter()
        .map(|e| e["time"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2024-05-01T12:05:00Z",
            "2024-05-01T12:10:00Z",
            "2024-05-01T12:15:00Z"
        ]
    );
    // Disabled: no fire; enabled again: fires from now on.
    bus.disable_rule("every-5", None).unwrap();
    at(&bus, &clock, T0 + 30 * MINUTE);
    assert_eq!(bodies(&bus, "ticks").len(), 3);
    assert_eq!(
        bus.describe_rule("every-5", None).unwrap().state,
        RuleState::Disabled
    );
    bus.enable_rule("every-5", None).unwrap();
    at(&bus, &clock, T0 + 35 * MINUTE);
    let got = bodies(&bus, "ticks");
    assert_eq!(got.len(), 4);
    assert_eq!(got[3]["time"], "2024-05-01T12:35:00Z");
    // Deleted: no more.
    bus.remove_targets("every-5", None, &["q".to_string()])
        .unwrap();
    bus.delete_rule("every-5", None).unwrap();
    at(&bus, &clock, T0 + 60 * MINUTE);
    assert_eq!(bodies(&bus, "ticks").len(), 4);
    assert_eq!(bus.scheduler_stats().schedules, 0);
}

#[test]
fn a_rule_schedule_uses_the_targets_input_transformer() {
    let dir = TempDir::new("rule-transform");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let q = bus.create_queue("out").unwrap();
    let mut rule = PutRuleInput::new("noon", "");
    rule.event_pattern = None;
    rule.schedule_expression = Some("cron(0 12 * * ? *)".into());
    bus.put_rule(rule).unwrap();
    bus.put_targets(
        "noon",
        None,
        vec![TargetConfig {
            id: "q".into(),
            arn: q,
            input_transformer: Some(ferrule_bus::InputTransformerConfig {
                input_paths_map: vec![("t".into(), "$.time".into())],
                input_template: r#"{"at": <t>, "rule": "<aws.events.rule-name>"}"#.into(),
            }),
            ..Default::default()
        }],
    )
    .unwrap();
    at(&bus, &clock, T0 + 24 * 60 * MINUTE);
    assert_eq!(
        bodies(&bus, "out"),
        [serde_json::json!({"at": "2024-05-02T12:00:00Z", "rule": "noon"})]
    );
}

#[test]
fn scheduler_templates_and_completion() {
    let dir = TempDir::new("templates");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let q = bus.create_queue("q").unwrap();
    let completed = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let c = Arc::clone(&completed);
        bus.set_schedule_completion_hook(Arc::new(move |k: &str| {
            c.lock().unwrap().push(k.to_string())
        }));
    }
    let mut once = timed(
        "arn:aws:scheduler:us-east-1:000000000000:schedule/default/once",
        "at(2024-05-01T12:30:00)",
        T0,
        to_queue(
            &q,
            r#"{"arn": "<aws.scheduler.schedule-arn>", "t": "<aws.scheduler.scheduled-time>", "id": "<aws.scheduler.execution-id>"}"#,
        ),
    );
    once.delete_after_completion = true;
    bus.put_schedule(once);
    assert_eq!(
        bus.next_schedule_fire("arn:aws:scheduler:us-east-1:000000000000:schedule/default/once"),
        Some(T0 + 30 * MINUTE)
    );
    at(&bus, &clock, T0 + 29 * MINUTE);
    assert!(bodies(&bus, "q").is_empty());
    assert!(completed.lock().unwrap().is_empty());
    at(&bus, &clock, T0 + 31 * MINUTE);
    let got = bodies(&bus, "q");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]["arn"],
        "arn:aws:scheduler:us-east-1:000000000000:schedule/default/once"
    );
    assert_eq!(got[0]["t"], "2024-05-01T12:30:00Z");
    assert_eq!(
        got[0]["id"],
        ferrule_bus::fire_id(
            "arn:aws:scheduler:us-east-1:000000000000:schedule/default/once",
            T0 + 30 * MINUTE
        )
    );
    assert_eq!(
        *completed.lock().unwrap(),
        ["arn:aws:scheduler:us-east-1:000000000000:schedule/default/once"]
    );
    assert_eq!(bus.scheduler_stats().schedules, 0);
}

#[test]
fn failing_target_retries_then_dead_letters() {
    let dir = TempDir::new("dlq");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let dlq = bus.create_queue("dlq").unwrap();
    let attempts = Arc::new(Mutex::new(0u32));
    {
        let a = Arc::clone(&attempts);
        bus.register_target(
            "arn:test:down",
            Arc::new(FunctionTarget(move |_: &str, _: &DeliveryContext<'_>| {
                *a.lock().unwrap() += 1;
                Err(DeliveryError::retryable("HTTP_500", "down"))
            })),
        );
    }
    let target = FireTarget {
        id: "t".into(),
        arn: "arn:test:down".into(),
        payload: FirePayload::Template(r#"{"n": 1}"#.into()),
        retry_policy: RetryPolicy {
            maximum_retry_attempts: Some(2),
            maximum_event_age_in_seconds: Some(3600),
        },
        dead_letter_arn: Some(dlq),
        message_group_id: None,
    };
    bus.put_schedule(timed("sched-dlq", "rate(1 hour)", T0, target));
    at(&bus, &clock, T0 + 60 * MINUTE);
    // Retries with backoff on the driven clock.
    for step in 1..=10 {
        at(&bus, &clock, T0 + 60 * MINUTE + step * MINUTE);
    }
    assert_eq!(*attempts.lock().unwrap(), 3);
    let dead = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, r#"{"n": 1}"#);
    let attr = |k: &str| {
        dead[0]
            .attributes
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attr("RULE_ARN").as_deref(), Some("sched-dlq"));
    assert_eq!(
        attr("EXHAUSTED_RETRY_CONDITION").as_deref(),
        Some("MaximumRetryAttempts")
    );
    assert_eq!(attr("RETRY_ATTEMPTS").as_deref(), Some("2"));
}

#[test]
fn restart_delivers_recent_missed_fires_once_and_counts_old_ones() {
    let dir = TempDir::new("restart");
    let clock = Arc::new(ManualClock::new(T0));
    let q;
    let key = "arn:aws:scheduler:us-east-1:000000000000:schedule/default/r";
    let make = |q: &str, age_s: u32| {
        let mut t = to_queue(q, r#"{"t": "<aws.scheduler.scheduled-time>"}"#);
        t.retry_policy.maximum_event_age_in_seconds = Some(age_s);
        timed(key, "rate(1 minute)", T0, t)
    };
    {
        let bus = open(&dir, &clock);
        q = bus.create_queue("q").unwrap();
        bus.put_schedule(make(&q, 600));
        for m in 1..=3 {
            at(&bus, &clock, T0 + m * MINUTE);
        }
        assert_eq!(bodies(&bus, "q").len(), 3);
        at(&bus, &clock, T0 + 4 * MINUTE);
    }
    // Down for 20 minutes; maximum age 10 minutes.
    clock.set_ms(T0 + 24 * MINUTE);
    let bus = open(&dir, &clock);
    bus.resume_schedule(make(&q, 600));
    // Fires of +5..+13 are older than 10 minutes: missed.
    assert_eq!(bus.scheduler_stats().missed, 9);
    at(&bus, &clock, T0 + 24 * MINUTE);
    let times: Vec<String> = bodies(&bus, "q")
        .iter()
        .map(|e| e["t"].as_str().unwrap_or("").to_string())
        .collect();
    let expected: Vec<String> = [1, 2, 3, 4]
        .into_iter()
        .chain(14..=24)
        .map(|m| format!("2024-05-01T12:{m:02}:00Z"))
        .collect();
    assert_eq!(times, expected);
    assert_eq!(bus.scheduler_stats().fired, 11);
}

#[test]
fn restart_never_fires_a_delivered_run_again() {
    let dir = TempDir::new("restart-mark");
    let clock = Arc::new(ManualClock::new(T0 - 1_000));
    let q;
    // Runs at T0 + 200 ms + k minutes.
    let make = |q: &str| {
        let mut s = timed("k", "rate(1 minute)", T0 - 1_000, to_queue(q, "{}"));
        s.schedule.window = Window::starting(ts(T0 + 200));
        s
    };
    {
        let bus = open(&dir, &clock);
        q = bus.create_queue("q").unwrap();
        bus.put_schedule(make(&q));
        assert_eq!(at(&bus, &clock, T0), 0);
        // Fired and delivered (its delivery, and the archived event with
        // it, are gone from the store) less than a second after the idle
        // mark at T0: the pass's own mark covers it.
        assert_eq!(at(&bus, &clock, T0 + 500), 1);
        assert_eq!(bus.pending_deliveries().unwrap(), 0);
    }
    let bus = open(&dir, &clock);
    bus.resume_schedule(make(&q));
    at(&bus, &clock, T0 + 500);
    // Not fired again.
    assert_eq!(bus.scheduler_stats().fired, 0);
    assert_eq!(bodies(&bus, "q").len(), 1);
    at(&bus, &clock, T0 + 60_200);
    assert_eq!(bodies(&bus, "q").len(), 2);
}

#[test]
fn deliver_once_goes_through_durable_dispatch() {
    let dir = TempDir::new("once");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let q = bus.create_queue("q").unwrap();
    bus.deliver_once(vec![OneOffDelivery {
        event_id: "e1".into(),
        source_arn: "arn:x".into(),
        counter_group: "g".into(),
        counter_name: "n".into(),
        target_id: "t".into(),
        target_arn: q,
        payload: "hello".into(),
        retry_policy: RetryPolicy::default(),
        dead_letter_arn: None,
        created_ms: T0,
    }])
    .unwrap();
    assert_eq!(bus.pending_deliveries().unwrap(), 1);
    bus.run_due();
    assert_eq!(bus.queue_messages("q", 10).unwrap()[0].body, "hello");
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
}
