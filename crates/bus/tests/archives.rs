//! Archives and replays on a real redb store and a driven clock: what is
//! archived (pattern, never replayed events), counts and retention,
//! replays to the named rules only in time order with `replay-name`,
//! through durable delivery into a queue, cancellation, the limits and the
//! service's errors, and a restart in the middle of a replay.

use std::sync::Arc;

use ferrule_bus::{
    Bus, BusErrorKind, BusLimits, Clock, CreateArchiveInput, ListReplaysFilter, ManualClock,
    PutEventsEntry, PutRuleInput, ReplayState, StartReplayInput, UpdateArchiveInput,
};
use serde_json::Value;

mod support;
use support::open::TestBus;
use support::steps::target;
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z
const MINUTE: u64 = 60_000;
const DAY: u64 = 86_400_000;

fn open_with(dir: &TempDir, clock: &Arc<ManualClock>, limits: BusLimits) -> Bus {
    TestBus::new(&dir.0)
        .clock(clock)
        .with(|o| o.limits = limits)
        .open()
}

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    open_with(dir, clock, BusLimits::default())
}

fn bodies(bus: &Bus, queue: &str) -> Vec<Value> {
    bus.queue_messages(queue, 100_000)
        .expect("messages")
        .into_iter()
        .map(|m| serde_json::from_str(&m.body).expect("JSON body"))
        .collect()
}

/// A rule on the default bus delivering into a new built-in queue of the same name.
fn rule_to_queue(bus: &Bus, name: &str, pattern: &str) -> String {
    let queue = bus.create_queue(name).expect("queue");
    bus.put_rule(PutRuleInput::new(name, pattern))
        .expect("rule");
    bus.put_targets(name, None, vec![target("q", &queue)])
        .expect("targets");
    bus.rule_arn(name, None)
}

fn put(bus: &Bus, source: &str, n: u64, time_ms: Option<u64>) {
    let entries = (0..n)
        .map(|i| {
            let mut e = PutEventsEntry::new(source, "T", &format!(r#"{{"n": {i}}}"#));
            e.time_ms = time_ms;
            e
        })
        .collect();
    let out = bus.put_events(entries).expect("put");
    assert_eq!(out.failed_entry_count, 0, "{out:?}");
}

fn deliver(bus: &Bus) {
    while bus.run_due() > 0 {}
}

#[test]
fn archives_keep_what_matches_and_report_it() {
    let dir = TempDir::new("archives-basic");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let bus_arn = bus.bus_arn("default");
    let mut input = CreateArchiveInput::new("shop", &bus_arn);
    input.event_pattern = Some(r#"{"source": ["shop"]}"#.into());
    input.description = Some("orders".into());
    let created = bus.create_archive(input).expect("create");
    assert_eq!(created.arn, bus.archive_arn("shop"));
    assert_eq!(created.state, "ENABLED");
    assert_eq!(created.event_count, 0);
    bus.create_archive(CreateArchiveInput::new("all", &bus_arn))
        .expect("create all");

    // The archive's managed rule is a rule of the bus, as on the service.
    let rules = bus
        .list_rules(None, Some("Events-Archive-"))
        .expect("rules");
    assert_eq!(rules.len(), 2);
    assert!(rules.iter().all(|r| r.managed_by.is_some()));
    let e = bus
        .put_rule(PutRuleInput::new(
            "Events-Archive-shop",
            r#"{"source": ["x"]}"#,
        ))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ManagedRule);
    let e = bus.delete_rule("Events-Archive-shop", None).unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ManagedRule);
    assert_eq!(
        bus.disable_rule("Events-Archive-shop", None)
            .unwrap_err()
            .kind(),
        BusErrorKind::ManagedRule
    );
    // Nor are its tags the caller's (TagResource, UntagResource); they can be read.
    let rule_arn = bus.rule_arn("Events-Archive-shop", None);
    let tags = std::collections::BTreeMap::from([("k".to_string(), "v".to_string())]);
    let e = bus.tag_resource(&rule_arn, tags).unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ManagedRule);
    let e = bus.untag_resource(&rule_arn, &["k".into()]).unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ManagedRule);
    assert!(bus.list_tags(&rule_arn).expect("tags").is_empty());

    put(&bus, "shop", 3, None);
    put(&bus, "other", 2, None);
    let shop = bus.describe_archive("shop").expect("describe");
    assert_eq!(shop.event_count, 3, "only what matches the pattern");
    assert!(shop.size_bytes > 3 * 100, "{}", shop.size_bytes);
    assert_eq!(bus.describe_archive("all").expect("all").event_count, 5);

    // A replayed event is never archived again.
    let start = T0 - MINUTE;
    clock.advance_ms(MINUTE);
    bus.start_replay(StartReplayInput::new(
        "again",
        &bus.archive_arn("all"),
        start,
        clock.now_ms(),
        &bus_arn,
    ))
    .expect("replay");
    assert_eq!(bus.run_replays(), 5);
    assert_eq!(bus.describe_archive("all").expect("all").event_count, 5);

    // Errors as the service words them.
    let e = bus
        .create_archive(CreateArchiveInput::new("shop", &bus_arn))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ResourceAlreadyExists);
    assert_eq!(e.message(), "Archive shop already exists.");
    let e = bus
        .create_archive(CreateArchiveInput::new("x", &bus.bus_arn("nope")))
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (
            BusErrorKind::ResourceNotFound,
            "Event bus nope does not exist."
        )
    );
    let mut bad = CreateArchiveInput::new("x", &bus_arn);
    bad.event_pattern = Some(r#"{"source": "shop"}"#.into());
    assert_eq!(
        bus.create_archive(bad).unwrap_err().kind(),
        BusErrorKind::InvalidEventPattern
    );
    let e = bus.describe_archive("nope").unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (
            BusErrorKind::ResourceNotFound,
            "Archive nope does not exist."
        )
    );
    assert!(bus.list_archives(Some("s"), Some(&bus_arn), None).is_err());
    let names =
        |v: Vec<ferrule_bus::ArchiveInfo>| v.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(bus.list_archives(None, None, None).unwrap()),
        ["all", "shop"]
    );
    assert_eq!(
        names(bus.list_archives(Some("s"), None, None).unwrap()),
        ["shop"]
    );
    assert_eq!(
        names(bus.list_archives(None, Some(&bus_arn), None).unwrap()).len(),
        2
    );

    // A bus with an archive is not deleted (its rule stays).
    bus.create_event_bus("side", None).expect("bus");
    bus.create_archive(CreateArchiveInput::new("side", &bus.bus_arn("side")))
        .expect("side archive");
    assert!(bus.delete_event_bus("side").is_err());
    bus.delete_archive("side").expect("delete archive");
    assert!(bus.list_rules(Some("side"), None).unwrap().is_empty());
    bus.delete_event_bus("side").expect("delete bus");
    assert_eq!(
        bus.delete_archive("side").unwrap_err().kind(),
        BusErrorKind::ResourceNotFound
    );
}

#[test]
fn update_changes_the_pattern_and_retention_expires_by_the_clock() {
    let dir = TempDir::new("archives-retention");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let mut input = CreateArchiveInput::new("a", &bus.bus_arn("default"));
    input.retention_days = Some(2);
    bus.create_archive(input).expect("create");
    put(&bus, "first", 2, None);
    clock.advance_ms(DAY);
    put(&bus, "second", 3, None);
    assert_eq!(bus.describe_archive("a").unwrap().event_count, 5);
    clock.advance_ms(DAY + 1);
    // Two days and a millisecond after the first two events: they expired.
    assert_eq!(bus.describe_archive("a").unwrap().event_count, 3);
    let mut update = UpdateArchiveInput::new("a");
    update.event_pattern = Some(r#"{"source": ["kept"]}"#.into());
    update.retention_days = Some(0);
    let updated = bus.update_archive(update).expect("update");
    assert_eq!(updated.retention_days, 0);
    put(&bus, "dropped", 1, None);
    put(&bus, "kept", 1, None);
    clock.advance_ms(365 * DAY);
    assert_eq!(bus.describe_archive("a").unwrap().event_count, 4);
    assert!(
        bus.describe_rule("Events-Archive-a", None)
            .unwrap()
            .event_pattern
            .unwrap()
            .contains("kept")
    );
}

#[test]
fn replays_go_to_the_named_rules_in_time_order_with_replay_name() {
    let dir = TempDir::new("archives-replay");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let bus_arn = bus.bus_arn("default");
    let named = rule_to_queue(&bus, "named", r#"{"source": ["shop"]}"#);
    rule_to_queue(&bus, "other", r#"{"source": ["shop"]}"#);
    bus.create_archive(CreateArchiveInput::new("all", &bus_arn))
        .expect("archive");
    // Put out of time order: the replay goes by the events' time.
    put(&bus, "shop", 1, Some(T0 - 3 * MINUTE));
    put(&bus, "shop", 1, Some(T0 - 5 * MINUTE));
    put(&bus, "shop", 1, Some(T0 - 4 * MINUTE));
    put(&bus, "shop", 1, Some(T0 - 30 * MINUTE)); // outside the window
    deliver(&bus);
    let live_named = bodies(&bus, "named").len();
    let live_other = bodies(&bus, "other").len();
    assert_eq!((live_named, live_other), (4, 4));

    let mut input = StartReplayInput::new(
        "r1",
        &bus.archive_arn("all"),
        T0 - 10 * MINUTE,
        T0,
        &bus_arn,
    );
    input.filter_arns = vec![named.clone()];
    let started = bus.start_replay(input).expect("start");
    assert_eq!(started.state, ReplayState::Starting);
    assert_eq!(bus.run_replays(), 3);
    let done = bus.describe_replay("r1").expect("describe");
    assert_eq!(done.state, ReplayState::Completed);
    assert_eq!(done.last_replayed_ms, Some(T0 - 3 * MINUTE));
    assert!(done.replay_end_ms.is_some());
    deliver(&bus);
    let replayed: Vec<Value> = bodies(&bus, "named").split_off(live_named);
    assert_eq!(replayed.len(), 3);
    assert_eq!(bodies(&bus, "other").len(), live_other, "not a named rule");
    let times: Vec<&str> = replayed
        .iter()
        .map(|b| b["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2024-05-01T11:55:00Z",
            "2024-05-01T11:56:00Z",
            "2024-05-01T11:57:00Z"
        ]
    );
    assert!(replayed.iter().all(|b| b["replay-name"] == "r1"));
    // The id and the rest of the event are kept.
    let originals = bodies(&bus, "named");
    assert!(replayed.iter().all(|r| {
        originals
            .iter()
            .any(|o| o["id"] == r["id"] && o["replay-name"].is_null())
    }));

    // The service's errors.
    let replay = |name: &str, archive: &str, start: u64, end: u64, dest: &str| {
        bus.start_replay(StartReplayInput::new(name, archive, start, end, dest))
            .unwrap_err()
    };
    let a = bus.archive_arn("all");
    let e = replay("r1", &a, T0 - MINUTE, T0, &bus_arn);
    assert_eq!(
        (e.kind(), e.message()),
        (
            BusErrorKind::ResourceAlreadyExists,
            "Replay r1 already exists."
        )
    );
    let e = replay("r2", &a, T0, T0 - MINUTE, &bus_arn);
    assert_eq!(
        e.message(),
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime."
    );
    let e = replay("r2", &a, T0, T0 + MINUTE, &bus_arn);
    assert!(
        e.message()
            .starts_with("Parameter EventEndTime is not valid.")
    );
    let e = replay("r2", &bus.archive_arn("nope"), T0 - MINUTE, T0, &bus_arn);
    assert_eq!(
        e.message(),
        "Parameter EventSourceArn is not valid. Reason: Archive nope does not exist."
    );
    bus.create_event_bus("side", None).unwrap();
    let e = replay("r2", &a, T0 - MINUTE, T0, &bus.bus_arn("side"));
    assert_eq!(
        e.message(),
        "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
    );
    let e = replay(
        "r2",
        &a,
        T0 - MINUTE,
        T0,
        "arn:aws:sqs:us-east-1:000000000000:q",
    );
    assert_eq!(
        e.message(),
        "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN."
    );
    let mut missing_rule = StartReplayInput::new("r2", &a, T0 - MINUTE, T0, &bus_arn);
    missing_rule.filter_arns = vec![bus.rule_arn("ghost", None)];
    assert_eq!(
        bus.start_replay(missing_rule).unwrap_err().kind(),
        BusErrorKind::ResourceNotFound
    );
    let e = bus.cancel_replay("r1").unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (
            BusErrorKind::IllegalStatus,
            "Replay r1 is not in a valid state for this operation."
        )
    );
    assert_eq!(
        bus.describe_replay("zz").unwrap_err().kind(),
        BusErrorKind::ResourceNotFound
    );
    let mut f = ListReplaysFilter::default();
    f.state = Some(ReplayState::Completed);
    assert_eq!(bus.list_replays(&f).unwrap().len(), 1);
    f.name_prefix = Some("r".into());
    assert!(bus.list_replays(&f).is_err(), "one filter at most");
}

#[test]
fn cancelling_stops_a_replay_and_the_limit_holds() {
    let dir = TempDir::new("archives-cancel");
    let clock = Arc::new(ManualClock::new(T0));
    let mut limits = BusLimits::default();
    limits.archives = 1;
    limits.active_replays = 1;
    let bus = open_with(&dir, &clock, limits);
    let bus_arn = bus.bus_arn("default");
    rule_to_queue(&bus, "out", r#"{"source": ["shop"]}"#);
    bus.create_archive(CreateArchiveInput::new("all", &bus_arn))
        .unwrap();
    let e = bus
        .create_archive(CreateArchiveInput::new("second", &bus_arn))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::LimitExceeded);
    for _ in 0..50 {
        put(&bus, "shop", 10, Some(T0 - MINUTE));
    }
    let a = bus.archive_arn("all");
    bus.start_replay(StartReplayInput::new("c", &a, T0 - DAY, T0, &bus_arn))
        .unwrap();
    let e = bus
        .start_replay(StartReplayInput::new("d", &a, T0 - DAY, T0, &bus_arn))
        .unwrap_err();
    assert_eq!(
        e.kind(),
        BusErrorKind::LimitExceeded,
        "one replay at a time"
    );
    let cancelling = bus.cancel_replay("c").unwrap();
    assert_eq!(cancelling.state, ReplayState::Cancelling);
    assert_eq!(bus.run_replays(), 0, "cancelled before its first page");
    let c = bus.describe_replay("c").unwrap();
    assert_eq!(c.state, ReplayState::Cancelled);
    assert_eq!(c.replayed, 0);
    deliver(&bus);
    assert_eq!(bodies(&bus, "out").len(), 500, "only the live deliveries");
    // Once it stopped, another replay may start.
    bus.start_replay(StartReplayInput::new("d", &a, T0 - DAY, T0, &bus_arn))
        .unwrap();
    assert_eq!(bus.run_replays(), 500);
}

#[test]
fn a_restart_in_the_middle_resumes_the_replay() {
    let dir = TempDir::new("archives-restart");
    let clock = Arc::new(ManualClock::new(T0));
    {
        let bus = open(&dir, &clock);
        rule_to_queue(&bus, "out", r#"{"source": ["shop"]}"#);
        bus.create_archive(CreateArchiveInput::new("all", &bus.bus_arn("default")))
            .unwrap();
        for i in 0..110u64 {
            put(&bus, "shop", 10, Some(T0 - DAY + i * 1_000));
        }
        deliver(&bus);
        bus.queue_purge("out").unwrap();
    }
    // One page, then the process stops in the middle of the replay.
    {
        let bus = open(&dir, &clock);
        bus.start_replay(StartReplayInput::new(
            "long",
            &bus.archive_arn("all"),
            T0 - DAY,
            T0,
            &bus.bus_arn("default"),
        ))
        .unwrap();
        assert_eq!(bus.run_replay_pass(), 1024);
    }
    let bus = open(&dir, &clock);
    let before = bus.describe_replay("long").unwrap();
    assert_eq!(
        (before.state, before.replayed),
        (ReplayState::Running, 1024)
    );
    assert_eq!(bus.run_replays(), 1_100 - 1024);
    let after = bus.describe_replay("long").unwrap();
    assert_eq!(after.state, ReplayState::Completed);
    assert_eq!(after.replayed, 1_100);
    deliver(&bus);
    let mut ids: Vec<String> = bodies(&bus, "out")
        .into_iter()
        .map(|b| {
            assert_eq!(b["replay-name"], "long");
            b["id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1_100, "every event replayed, none lost");
}
