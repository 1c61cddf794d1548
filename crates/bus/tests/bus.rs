//! The event bus: PutEvents validation and envelope, rules and targets,
//! TestEventPattern, retries on a driven clock, dead letters, maximum age,
//! an HTTP endpoint on loopback, counters, and state surviving a reopen.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use ferrule_bus::{
    Bus, BusErrorKind, BusOptions, DeadLetterConfig, InputTransformerConfig, ManualClock,
    PutEventsEntry, PutRuleInput, RetryPolicy, RuleState, TargetConfig,
};
use ferrule_dispatch::SyncMode;
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, FunctionTarget};

mod support;
use support::http;
use support::open::TestBus;
use support::steps::target;
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    TestBus::new(&dir.0)
        .clock(clock)
        .backoff_ms(1_000, 60_000)
        .open()
}

/// A target that records payloads and fails while `failing` is set.
#[derive(Default)]
struct Recorder {
    payloads: Mutex<Vec<String>>,
    fail_with: Mutex<Option<DeliveryError>>,
}

fn recorder(bus: &Bus, arn: &str) -> Arc<Recorder> {
    let rec = Arc::new(Recorder::default());
    let r = Arc::clone(&rec);
    bus.register_target(
        arn,
        Arc::new(FunctionTarget(
            move |payload: &str, _: &DeliveryContext<'_>| {
                if let Some(e) = r.fail_with.lock().unwrap().clone() {
                    return Err(e);
                }
                r.payloads.lock().unwrap().push(payload.to_string());
                Ok(())
            },
        )),
    );
    rec
}

#[test]
fn put_events_validates_each_entry_and_keeps_order() {
    let dir = TempDir::new("validate");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let rec = recorder(&bus, "arn:test:all");
    bus.put_rule(PutRuleInput::new("all", r#"{"source": [{"prefix": ""}]}"#))
        .unwrap();
    bus.put_targets("all", None, vec![target("t", "arn:test:all")])
        .unwrap();

    let mut no_source = PutEventsEntry::new("x", "T", "{}");
    no_source.source = None;
    let mut no_type = PutEventsEntry::new("x", "T", "{}");
    no_type.detail_type = None;
    let mut no_detail = PutEventsEntry::new("x", "T", "{}");
    no_detail.detail = None;
    let entries = vec![
        PutEventsEntry::new("good.one", "T", r#"{"n": 1}"#),
        no_source,
        no_type,
        no_detail,
        PutEventsEntry::new("x", "T", "[1, 2]"),
        PutEventsEntry::new("x", "T", r#""a string""#),
        PutEventsEntry::new("x", "T", "{not json"),
        PutEventsEntry::new("aws.s3", "T", "{}"),
        PutEventsEntry::new("good.two", "T", r#"{"n": 2}"#),
    ];
    let out = bus.put_events(entries).unwrap();
    assert_eq!(out.entries.len(), 9);
    assert_eq!(out.failed_entry_count, 7);
    let codes: Vec<Option<&str>> = out
        .entries
        .iter()
        .map(|e| e.error_code.as_deref())
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some("InvalidArgument"),
            Some("InvalidArgument"),
            Some("InvalidArgument"),
            Some("MalformedDetail"),
            Some("MalformedDetail"),
            Some("MalformedDetail"),
            Some("NotAuthorizedForSourceException"),
            None
        ]
    );
    assert_eq!(
        out.entries[1].error_message.as_deref(),
        Some("Parameter Source is not valid. Reason: Source is a required argument.")
    );
    assert_eq!(
        out.entries[2].error_message.as_deref(),
        Some("Parameter DetailType is not valid. Reason: DetailType is a required argument.")
    );
    assert_eq!(
        out.entries[4].error_message.as_deref(),
        Some("Detail is malformed.")
    );
    assert!(out.entries[0].event_id.is_some() && out.entries[8].event_id.is_some());

    bus.run_due();
    let payloads = rec.payloads.lock().unwrap().clone();
    assert_eq!(payloads.len(), 2, "the two good entries are delivered");
    assert!(payloads.iter().any(|p| p.contains("good.one")));
    assert!(payloads.iter().any(|p| p.contains("good.two")));
}

#[test]
fn request_level_limits() {
    let dir = TempDir::new("limits");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let eleven = vec![PutEventsEntry::new("s", "T", "{}"); 11];
    let e = bus.put_events(eleven).unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::Validation);
    assert!(
        e.message()
            .contains("Member must have length less than or equal to 10"),
        "{e}"
    );
    let big = format!(r#"{{"x": "{}"}}"#, "a".repeat(100_000));
    let e = bus
        .put_events(vec![PutEventsEntry::new("s", "T", &big); 3])
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Total size of the entries in the request is over the limit."
    );
    assert!(bus.put_events(vec![]).is_err());
}

#[test]
fn envelope_has_the_service_shape() {
    let dir = TempDir::new("envelope");
    let clock = Arc::new(ManualClock::new(T0 + 789));
    let bus = open(&dir, &clock);
    let rec = recorder(&bus, "arn:test:env");
    bus.put_rule(PutRuleInput::new("r", r#"{"detail-type": ["Created"]}"#))
        .unwrap();
    bus.put_targets("r", None, vec![target("t", "arn:test:env")])
        .unwrap();
    let mut entry = PutEventsEntry::new("my.app", "Created", r#"{"a": {"b": [1, 2.50]}}"#);
    entry.resources = vec!["arn:x".into()];
    let out = bus
        .put_events(vec![entry, PutEventsEntry::new("my.app", "Created", "{}")])
        .unwrap();
    bus.run_due();
    let payloads = rec.payloads.lock().unwrap().clone();
    assert_eq!(payloads.len(), 2);
    let first: serde_json::Value = payloads
        .iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
        .find(|v| v["resources"].as_array().is_some_and(|a| !a.is_empty()))
        .unwrap();
    assert_eq!(first["version"], "0");
    assert_eq!(first["id"].as_str(), out.entries[0].event_id.as_deref());
    assert_eq!(first["detail-type"], "Created");
    assert_eq!(first["source"], "my.app");
    assert_eq!(first["account"], "000000000000");
    assert_eq!(first["region"], "us-east-1");
    assert_eq!(first["time"], "2024-05-01T12:00:00Z");
    assert_eq!(first["resources"], serde_json::json!(["arn:x"]));
    assert_eq!(first["detail"]["a"]["b"][1], 2.5);
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 9);
    let second: Vec<serde_json::Value> = payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert!(
        second
            .iter()
            .any(|v| v["resources"] == serde_json::json!([]))
    );
    // The time of an entry is used when given.
    let mut timed = PutEventsEntry::new("my.app", "Created", "{}");
    timed.time_ms = Some(951_782_400_123);
    bus.put_events(vec![timed]).unwrap();
    bus.run_due();
    assert!(
        rec.payloads
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .contains(r#""time":"2000-02-29T00:00:00Z""#)
    );
}

#[test]
fn events_for_a_missing_bus_are_accepted_and_dropped() {
    let dir = TempDir::new("nobus");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let mut e = PutEventsEntry::new("s", "T", "{}");
    e.event_bus_name = Some("nope".into());
    let out = bus.put_events(vec![e]).unwrap();
    assert_eq!(out.failed_entry_count, 0);
    assert!(out.entries[0].event_id.is_some());
    assert_eq!(
        bus.describe_event_bus(Some("nope")).unwrap_err().message(),
        "Event bus nope does not exist."
    );
}

#[test]
fn rules_and_targets_follow_the_service_rules() {
    let dir = TempDir::new("rules");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    // names
    let e = bus
        .put_rule(PutRuleInput::new("bad name", r#"{"a": [1]}"#))
        .unwrap_err();
    assert!(
        e.message()
            .contains("Member must satisfy regular expression pattern"),
        "{e}"
    );
    // pattern or schedule required; invalid pattern
    let e = bus
        .put_rule(PutRuleInput {
            name: "r".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Parameter(s) EventPattern or ScheduleExpression must be specified."
    );
    let e = bus
        .put_rule(PutRuleInput::new("r", r#"{"a": []}"#))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::InvalidEventPattern);
    assert!(
        e.message()
            .starts_with("Event pattern is not valid. Reason: "),
        "{e}"
    );
    // schedule rules: default bus only, syntax checked
    bus.create_event_bus("orders", Some("orders bus")).unwrap();
    let e = bus
        .put_rule(PutRuleInput {
            name: "tick".into(),
            event_bus_name: Some("orders".into()),
            schedule_expression: Some("rate(5 minutes)".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        e.message(),
        "ScheduleExpression is supported only on the default event bus."
    );
    let arn = bus
        .put_rule(PutRuleInput {
            name: "tick".into(),
            schedule_expression: Some("rate(5 minutes)".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(arn, "arn:aws:events:us-east-1:000000000000:rule/tick");
    let arn = bus
        .put_rule(PutRuleInput {
            name: "big".into(),
            event_bus_name: Some("orders".into()),
            event_pattern: Some(r#"{"detail": {"total": [{"numeric": [">", 100]}]}}"#.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(arn, "arn:aws:events:us-east-1:000000000000:rule/orders/big");
    // missing rule and bus
    assert_eq!(
        bus.describe_rule("none", None).unwrap_err().message(),
        "Rule none does not exist on EventBus default."
    );
    assert_eq!(
        bus.put_rule(PutRuleInput {
            name: "x".into(),
            event_bus_name: Some("ghost".into()),
            event_pattern: Some(r#"{"a": [1]}"#.into()),
            ..Default::default()
        })
        .unwrap_err()
        .kind(),
        BusErrorKind::ResourceNotFound
    );
    // targets: 5 per rule, id syntax, exclusive inputs
    let five: Vec<TargetConfig> = (0..5)
        .map(|i| target(&format!("t{i}"), "https://example.com"))
        .collect();
    bus.put_targets("big", Some("orders"), five).unwrap();
    let e = bus
        .put_targets(
            "big",
            Some("orders"),
            vec![target("t5", "https://example.com")],
        )
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::LimitExceeded);
    assert_eq!(
        e.message(),
        "The requested resource exceeds the maximum number allowed."
    );
    // replacing by id is not a new target
    bus.put_targets(
        "big",
        Some("orders"),
        vec![target("t0", "https://example.org")],
    )
    .unwrap();
    let e = bus
        .put_targets("tick", None, vec![target("!@#$@!#$", "https://x")])
        .unwrap_err();
    assert!(e.message().contains("at 'targets.1.member.id'"), "{e}");
    let mut both = target("both", "https://x");
    both.input = Some("{}".into());
    both.input_path = Some("$.detail".into());
    let e = bus.put_targets("tick", None, vec![both]).unwrap_err();
    assert_eq!(
        e.message(),
        "Only one of Input, InputPath, or InputTransformer must be provided for target both."
    );
    let mut retry = target("r", "https://x");
    retry.retry_policy = Some(RetryPolicy {
        maximum_retry_attempts: Some(186),
        maximum_event_age_in_seconds: None,
    });
    assert!(bus.put_targets("tick", None, vec![retry]).is_err());
    // a rule with targets cannot be deleted
    let e = bus.delete_rule("big", Some("orders")).unwrap_err();
    assert_eq!(e.message(), "Rule can't be deleted since it has targets.");
    let ids: Vec<String> = (0..5).map(|i| format!("t{i}")).collect();
    assert!(
        bus.remove_targets("big", Some("orders"), &ids)
            .unwrap()
            .is_empty()
    );
    bus.delete_rule("big", Some("orders")).unwrap();
    bus.delete_rule("big", Some("orders")).unwrap(); // already gone: fine
    // enable / disable, list
    bus.disable_rule("tick", None).unwrap();
    assert_eq!(
        bus.describe_rule("tick", None).unwrap().state,
        RuleState::Disabled
    );
    bus.enable_rule("tick", None).unwrap();
    assert_eq!(bus.list_rules(None, Some("ti")).unwrap().len(), 1);
    // buses
    assert_eq!(
        bus.delete_event_bus("default").unwrap_err().message(),
        "Cannot delete event bus default."
    );
    assert_eq!(
        bus.create_event_bus("orders", None).unwrap_err().kind(),
        BusErrorKind::ResourceAlreadyExists
    );
    assert_eq!(bus.list_event_buses(None).unwrap().len(), 2);
    bus.delete_event_bus("orders").unwrap();
    assert_eq!(bus.list_event_buses(None).unwrap().len(), 1);
}

#[test]
fn rule_limit_is_enforced() {
    let dir = TempDir::new("rulelimit");
    let clock = Arc::new(ManualClock::new(T0));
    let mut options = BusOptions::new(&dir.0);
    options.clock = clock;
    options.deliver_in_background = false;
    options.limits.rules_per_bus = 3;
    let bus = Bus::open(options).unwrap();
    for i in 0..3 {
        bus.put_rule(PutRuleInput::new(&format!("r{i}"), r#"{"a": [1]}"#))
            .unwrap();
    }
    let e = bus
        .put_rule(PutRuleInput::new("r3", r#"{"a": [1]}"#))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::LimitExceeded);
    // replacing an existing rule is not a new one
    bus.put_rule(PutRuleInput::new("r0", r#"{"a": [2]}"#))
        .unwrap();
}

#[test]
fn test_event_pattern_checks_the_envelope() {
    let dir = TempDir::new("tep");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let event = r#"{"id": "1", "account": "123456789012", "source": "s", "time": "2024-01-01T00:00:00Z",
                    "region": "us-east-1", "detail-type": "T", "detail": {"n": 5}}"#;
    assert!(
        bus.test_event_pattern(r#"{"detail": {"n": [{"numeric": [">", 1]}]}}"#, event)
            .unwrap()
    );
    assert!(
        !bus.test_event_pattern(r#"{"source": ["other"]}"#, event)
            .unwrap()
    );
    let e = bus
        .test_event_pattern(r#"{"source": ["s"]}"#, r#"{"source": "s"}"#)
        .unwrap_err();
    assert_eq!(e.message(), "Parameter Event is not valid.");
    let e = bus
        .test_event_pattern(r#"{"source": "s"}"#, event)
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::InvalidEventPattern);
}

#[test]
fn transformed_inputs_are_delivered_and_invalid_ones_counted() {
    let dir = TempDir::new("xform");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let rec = recorder(&bus, "arn:test:x");
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    let mut constant = target("const", "arn:test:x");
    constant.input = Some(r#"{"fixed": true}"#.into());
    let mut path = target("path", "arn:test:x");
    path.input_path = Some("$.detail.user".into());
    let mut templ = target("templ", "arn:test:x");
    templ.input_transformer = Some(InputTransformerConfig {
        input_paths_map: vec![("u".into(), "$.detail.user".into())],
        input_template: r#"{"who": <u>, "rule": "<aws.events.rule-name>", "at": "<aws.events.event.ingestion-time>"}"#.into(),
    });
    let mut broken = target("broken", "arn:test:x");
    broken.input_transformer = Some(InputTransformerConfig {
        input_paths_map: vec![("o".into(), "$.detail".into())],
        input_template: r#"{"payload": "<o>"}"#.into(),
    });
    bus.put_targets("r", None, vec![constant, path, templ, broken])
        .unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", r#"{"user": "ann"}"#)])
        .unwrap();
    bus.run_due();
    let mut got = rec.payloads.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            r#""ann""#,
            r#"{"fixed": true}"#,
            r#"{"who": "ann", "rule": "r", "at": "2024-05-01T12:00:00.000Z"}"#
        ]
    );
    let counters = bus.counters();
    let broken = counters.iter().find(|c| c.target == "broken").unwrap();
    assert_eq!(broken.invalid_input, 1);
    let rule = counters
        .iter()
        .find(|c| c.rule == "r" && c.target.is_empty())
        .unwrap();
    assert_eq!(rule.matched, 1);
}

#[test]
fn retries_back_off_then_dead_letter_with_the_reason() {
    let dir = TempDir::new("retry");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let rec = recorder(&bus, "arn:test:flaky");
    *rec.fail_with.lock().unwrap() = Some(DeliveryError::retryable("ERROR_FROM_TARGET", "503"));
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    let mut t = target("t", "arn:test:flaky");
    t.retry_policy = Some(RetryPolicy {
        maximum_retry_attempts: Some(3),
        maximum_event_age_in_seconds: None,
    });
    t.dead_letter_config = Some(DeadLetterConfig {
        arn: bus.queue_arn("dlq"),
    });
    bus.put_targets("r", None, vec![t]).unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", r#"{"k": 1}"#)])
        .unwrap();

    assert_eq!(bus.run_due(), 1, "first attempt at once");
    assert_eq!(bus.run_due(), 0, "nothing due before the backoff");
    // Backoff doubles (1 s, 2 s, 4 s base, with jitter of up to half): step the clock.
    let mut attempts = 1;
    for _ in 0..20 {
        clock.advance_ms(500);
        attempts += bus.run_due();
    }
    assert_eq!(attempts, 4, "1 attempt + 3 retries");
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    let letters = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(letters.len(), 1);
    let attr = |k: &str| {
        letters[0]
            .attributes
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(attr("ERROR_CODE"), Some("ERROR_FROM_TARGET"));
    assert_eq!(
        attr("EXHAUSTED_RETRY_CONDITION"),
        Some("MaximumRetryAttempts")
    );
    assert_eq!(attr("RETRY_ATTEMPTS"), Some("3"));
    assert_eq!(
        attr("RULE_ARN"),
        Some("arn:aws:events:us-east-1:000000000000:rule/r")
    );
    let original: serde_json::Value = serde_json::from_str(&letters[0].body).unwrap();
    assert_eq!(
        original["detail"]["k"], 1,
        "the dead letter keeps the original event"
    );
    let c = bus
        .counters()
        .into_iter()
        .find(|c| c.target == "t")
        .unwrap();
    assert_eq!(
        (c.delivered, c.retried, c.failed, c.dead_lettered),
        (0, 3, 1, 1)
    );
}

#[test]
fn a_retry_that_succeeds_is_delivered_once() {
    let dir = TempDir::new("recover");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let rec = recorder(&bus, "arn:test:flaky");
    *rec.fail_with.lock().unwrap() = Some(DeliveryError::retryable("THROTTLING", "slow down"));
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    bus.put_targets("r", None, vec![target("t", "arn:test:flaky")])
        .unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", "{}")])
        .unwrap();
    bus.run_due();
    *rec.fail_with.lock().unwrap() = None;
    clock.advance_ms(1_000);
    assert_eq!(bus.run_due(), 1);
    assert_eq!(rec.payloads.lock().unwrap().len(), 1);
    let c = bus
        .counters()
        .into_iter()
        .find(|c| c.target == "t")
        .unwrap();
    assert_eq!((c.delivered, c.retried, c.failed), (1, 1, 0));
}

#[test]
fn maximum_event_age_ends_retries() {
    let dir = TempDir::new("age");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let rec = recorder(&bus, "arn:test:down");
    *rec.fail_with.lock().unwrap() =
        Some(DeliveryError::retryable("CONNECTION_FAILURE", "refused"));
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    let mut t = target("t", "arn:test:down");
    t.retry_policy = Some(RetryPolicy {
        maximum_retry_attempts: Some(185),
        maximum_event_age_in_seconds: Some(60),
    });
    t.dead_letter_config = Some(DeadLetterConfig {
        arn: bus.queue_arn("dlq"),
    });
    bus.put_targets("r", None, vec![t]).unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", "{}")])
        .unwrap();
    for _ in 0..200 {
        bus.run_due();
        clock.advance_ms(1_000);
    }
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    let letters = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(letters.len(), 1);
    let cond = letters[0]
        .attributes
        .iter()
        .find(|(k, _)| k == "EXHAUSTED_RETRY_CONDITION")
        .map(|(_, v)| v.clone());
    assert_eq!(cond.as_deref(), Some("MaximumEventAgeInSeconds"));
}

#[test]
fn http_targets_retry_5xx_and_dead_letter_4xx() {
    let dir = TempDir::new("http");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let (ok_base, ok_seen) = http::serve_scripted(vec![503, 200]);
    let (bad_base, _) = http::serve_scripted(vec![404]);
    let (ok_url, bad_url) = (format!("{ok_base}/hook"), format!("{bad_base}/hook"));
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    let mut bad = target("bad", &bad_url);
    bad.dead_letter_config = Some(DeadLetterConfig {
        arn: bus.queue_arn("dlq"),
    });
    bus.put_targets("r", None, vec![target("ok", &ok_url), bad])
        .unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", r#"{"hello": "web"}"#)])
        .unwrap();
    bus.run_due(); // ok: 503 (retry); bad: 404 (dead letter at once)
    clock.advance_ms(2_000);
    bus.run_due(); // ok: 200
    assert_eq!(ok_seen.lock().unwrap().len(), 2);
    assert!(
        ok_seen.lock().unwrap()[1]
            .body
            .contains(r#""hello": "web""#)
    );
    let letters = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0]
            .attributes
            .iter()
            .any(|(k, v)| k == "ERROR_CODE" && v == "ERROR_FROM_TARGET")
    );
    assert!(
        !letters[0]
            .attributes
            .iter()
            .any(|(k, _)| k == "EXHAUSTED_RETRY_CONDITION")
    );
    // an endpoint that refuses connections is retried
    let (gone_url, _) = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        (format!("http://{}/", l.local_addr().unwrap()), drop(l))
    };
    bus.put_rule(PutRuleInput::new("g", r#"{"source": ["gone"]}"#))
        .unwrap();
    bus.put_targets("g", None, vec![target("gone", &gone_url)])
        .unwrap();
    bus.put_events(vec![PutEventsEntry::new("gone", "T", "{}")])
        .unwrap();
    bus.run_due();
    let c = bus
        .counters()
        .into_iter()
        .find(|c| c.target == "gone")
        .unwrap();
    assert_eq!(c.retried, 1);
}

#[test]
fn unknown_targets_fail_without_retry() {
    let dir = TempDir::new("unknown");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    // A kind of target ferrule cannot deliver to is refused at PutTargets.
    let refused = bus.put_targets(
        "r",
        None,
        vec![target(
            "t",
            "arn:aws:lambda:us-east-1:000000000000:function:none",
        )],
    );
    assert!(refused.is_err_and(|e| e.kind() == BusErrorKind::Validation));
    // A target that disappears after PutTargets fails without retry.
    let queue = bus.create_queue("gone").unwrap();
    bus.put_targets("r", None, vec![target("t", &queue)])
        .unwrap();
    bus.delete_queue("gone").unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", "{}")])
        .unwrap();
    assert_eq!(bus.run_due(), 1);
    let c = bus
        .counters()
        .into_iter()
        .find(|c| c.target == "t")
        .unwrap();
    assert_eq!((c.failed, c.retried), (1, 0));
}

#[test]
fn another_bus_and_queues_as_targets() {
    let dir = TempDir::new("chain");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_event_bus("second", None).unwrap();
    let queue_arn = bus.create_queue("inbox").unwrap();
    bus.put_rule(PutRuleInput::new("forward", r#"{"source": ["app"]}"#))
        .unwrap();
    bus.put_targets(
        "forward",
        None,
        vec![target("to-second", &bus.bus_arn("second"))],
    )
    .unwrap();
    bus.put_rule(PutRuleInput {
        name: "collect".into(),
        event_bus_name: Some("second".into()),
        event_pattern: Some(r#"{"source": ["app"]}"#.into()),
        ..Default::default()
    })
    .unwrap();
    bus.put_targets("collect", Some("second"), vec![target("q", &queue_arn)])
        .unwrap();
    bus.put_events(vec![PutEventsEntry::new("app", "T", r#"{"hop": 1}"#)])
        .unwrap();
    bus.run_due();
    bus.run_due();
    let messages = bus.queue_messages("inbox", 10).unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].body.contains(r#""hop": 1"#) || messages[0].body.contains(r#""hop":1"#));
    let received = bus
        .queue_store()
        .receive("inbox", bus.now_ms(), 10, 30_000)
        .unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message.seq, messages[0].seq);
    bus.queue_store()
        .delete_message("inbox", &received[0].receipt)
        .unwrap();
    assert!(bus.queue_messages("inbox", 10).unwrap().is_empty());
}

#[test]
fn state_and_pending_deliveries_survive_a_reopen() {
    let dir = TempDir::new("reopen");
    let clock = Arc::new(ManualClock::new(T0));
    let (tx, rx) = std::sync::mpsc::sync_channel(10);
    {
        let bus = open(&dir, &clock);
        bus.register_target(
            "arn:test:chan",
            Arc::new(ferrule_dispatch::targets::ChannelTarget(tx.clone())),
        );
        bus.create_event_bus("orders", None).unwrap();
        bus.create_queue("out").unwrap();
        bus.put_rule(PutRuleInput {
            name: "all".into(),
            event_bus_name: Some("orders".into()),
            event_pattern: Some(r#"{"source": ["shop"]}"#.into()),
            ..Default::default()
        })
        .unwrap();
        bus.put_targets(
            "all",
            Some("orders"),
            vec![
                target("q", &bus.queue_arn("out")),
                target("c", "arn:test:chan"),
            ],
        )
        .unwrap();
        let mut e = PutEventsEntry::new("shop", "Order", r#"{"id": 7}"#);
        e.event_bus_name = Some("orders".into());
        bus.put_events(vec![e]).unwrap();
        // A built-in queue gets its message in PutEvents' own commit; the
        // other target's delivery waits in the log.
        assert_eq!(bus.queue_messages("out", 10).unwrap().len(), 1);
        assert_eq!(bus.pending_deliveries().unwrap(), 1, "not delivered yet");
    }
    let bus = open(&dir, &clock);
    bus.register_target(
        "arn:test:chan",
        Arc::new(ferrule_dispatch::targets::ChannelTarget(tx)),
    );
    assert_eq!(
        bus.describe_rule("all", Some("orders"))
            .unwrap()
            .targets
            .len(),
        2
    );
    assert_eq!(bus.queue_messages("out", 10).unwrap().len(), 1);
    assert_eq!(bus.pending_deliveries().unwrap(), 1);
    bus.run_due();
    let delivered = rx.try_recv().expect("delivered after the reopen");
    assert!(delivered.contains(r#""detail":{"id": 7}"#), "{delivered}");
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    assert_eq!(bus.queue_messages("out", 10).unwrap().len(), 1);
}

#[test]
fn background_delivery_with_sync() {
    let dir = TempDir::new("bg");
    let mut options = BusOptions::new(&dir.0);
    options.sync = SyncMode::Always;
    let bus = Bus::open(options).unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel(100);
    bus.register_target(
        "arn:test:chan",
        Arc::new(ferrule_dispatch::targets::ChannelTarget(tx)),
    );
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    bus.put_targets("r", None, vec![target("t", "arn:test:chan")])
        .unwrap();
    let entries: Vec<PutEventsEntry> = (0..10)
        .map(|i| PutEventsEntry::new("app", "T", &format!(r#"{{"i": {i}}}"#)))
        .collect();
    bus.put_events(entries).unwrap();
    let mut got = 0;
    while got < 10 {
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("delivered");
        got += 1;
    }
}

#[test]
fn details_the_engine_accepts_are_matched_on_the_bus() {
    let dir = TempDir::new("wide");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let queue = bus.create_queue("wide").unwrap();
    bus.put_rule(PutRuleInput::new(
        "dup",
        r#"{"detail": {"a": ["y"], "big": [1e400]}}"#,
    ))
    .unwrap();
    bus.put_targets("dup", None, vec![target("q", &queue)])
        .unwrap();
    // Duplicate keys all count, and a number beyond f64 compares as text.
    let out = bus
        .put_events(vec![PutEventsEntry::new(
            "app",
            "T",
            r#"{"a": "x", "a": "y", "big": 1e400}"#,
        )])
        .unwrap();
    assert_eq!(out.failed_entry_count, 0, "{out:?}");
    bus.run_due();
    let messages = bus.queue_messages("wide", 10).unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].body.contains("1e400"));
    assert!(
        bus.test_event_pattern(r#"{"detail": {"big": [1e400]}}"#, &messages[0].body)
            .unwrap()
    );
    // Invalid JSON is still MalformedDetail.
    let out = bus
        .put_events(vec![PutEventsEntry::new("app", "T", r#"{"a": 1,}"#)])
        .unwrap();
    assert_eq!(
        out.entries[0].error_code.as_deref(),
        Some("MalformedDetail")
    );
}

#[test]
fn transformations_read_only_the_members_they_select() {
    let dir = TempDir::new("needed");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let rec = recorder(&bus, "arn:test:n");
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    let mut user = target("user", "arn:test:n");
    user.input_path = Some("$.detail.user".into());
    let mut big = target("big", "arn:test:n");
    big.input_path = Some("$.detail.big".into());
    bus.put_targets("r", None, vec![user, big]).unwrap();
    // The event is parsed once, into the members the two targets read; a
    // number beyond f64 fails only the target that selects it.
    bus.put_events(vec![PutEventsEntry::new(
        "app",
        "T",
        r#"{"user": {"name": "ann"}, "big": 1e400, "other": [1e999]}"#,
    )])
    .unwrap();
    bus.run_due();
    assert_eq!(*rec.payloads.lock().unwrap(), [r#"{"name":"ann"}"#]);
    let counters = bus.counters();
    let failed = |id: &str| {
        counters
            .iter()
            .find(|c| c.target == id)
            .map_or(0, |c| c.invalid_input)
    };
    assert_eq!((failed("user"), failed("big")), (0, 1));
}
