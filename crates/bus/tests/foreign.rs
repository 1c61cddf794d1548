//! ARNs of other accounts and Regions: never resolved against the bus's own
//! resources of the same name; refused without a `ForeignBuses`; with one
//! (here: a second real bus, as the server's partitions are), event bus
//! targets and PutEvents entries reach it, in order, and nothing else does.

use std::sync::{Arc, Mutex};

use ferrule_bus::{
    Bus, DeadLetterConfig, ForeignBuses, ManualClock, PutEventsEntry, PutEventsResultEntry,
    PutRuleInput,
};
use ferrule_dispatch::targets::Target;
use ferrule_policy::Principal;

mod support;
use support::open::TestBus;
use support::steps::target;
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000;

fn open(dir: &TempDir, clock: &Arc<ManualClock>, region: &str) -> Bus {
    TestBus::new(&dir.0)
        .clock(clock)
        .with(|o| o.region = region.to_string())
        .open()
}

/// The other Region's bus, as the server's partitions hand it over; counts
/// what it was asked.
struct OtherRegion {
    bus: Arc<Bus>,
    puts: Mutex<Vec<String>>,
}

impl ForeignBuses for OtherRegion {
    fn check_target(&self, arn: &str) -> Result<(), String> {
        if arn == self.bus.bus_arn("default") {
            Ok(())
        } else {
            Err(format!("no bus {arn}"))
        }
    }

    fn resolve_target(&self, arn: &str) -> Option<Arc<dyn Target>> {
        (arn == self.bus.bus_arn("default")).then(|| self.bus.bus_target("default"))
    }

    fn put_events(
        &self,
        caller: &Principal,
        _as_service: bool,
        entries: Vec<PutEventsEntry>,
    ) -> Vec<PutEventsResultEntry> {
        let mut out = Vec::new();
        for mut e in entries {
            self.puts
                .lock()
                .unwrap()
                .push(e.detail.clone().unwrap_or_default());
            e.event_bus_name = None;
            out.extend(self.bus.put_events_as(caller, vec![e]).unwrap().entries);
        }
        out
    }
}

#[test]
fn foreign_arns_are_refused_without_foreign_buses_and_never_resolved_locally() {
    let dir = TempDir::new("foreign-none");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock, "us-east-1");
    bus.create_queue("orders").unwrap();
    bus.put_rule(PutRuleInput::new("r", r#"{"source": ["app"]}"#))
        .unwrap();
    // Same queue name, other Region / account: refused, not delivered here.
    for arn in [
        "arn:aws:sqs:eu-central-1:000000000000:orders",
        "arn:aws:sqs:us-east-1:111111111111:orders",
        "arn:aws:events:eu-central-1:000000000000:event-bus/default",
        "arn:aws:states:eu-central-1:000000000000:stateMachine:m",
    ] {
        let e = bus
            .put_targets("r", None, vec![target("t", arn)])
            .unwrap_err();
        assert!(
            e.message().contains("another account or Region"),
            "{arn}: {e}"
        );
    }
    let mut t = target("t", &bus.queue_arn("orders"));
    t.dead_letter_config = Some(DeadLetterConfig {
        arn: "arn:aws:sqs:eu-central-1:000000000000:orders".into(),
    });
    let e = bus.put_targets("r", None, vec![t]).unwrap_err();
    assert!(e.message().contains("dead-letter queue"), "{e}");
    // A PutEvents entry for another account's bus fails alone.
    let mut foreign = PutEventsEntry::new("app", "T", r#"{"n": 1}"#);
    foreign.event_bus_name = Some("arn:aws:events:us-east-1:111111111111:event-bus/default".into());
    let out = bus
        .put_events(vec![
            PutEventsEntry::new("app", "T", r#"{"n": 0}"#),
            foreign,
        ])
        .unwrap();
    assert_eq!(out.failed_entry_count, 1);
    assert!(out.entries[0].event_id.is_some());
    assert_eq!(
        out.entries[1].error_code.as_deref(),
        Some("AccessDeniedException")
    );
}

#[test]
fn event_bus_targets_and_entries_reach_the_other_region() {
    let (dir_us, dir_eu) = (TempDir::new("foreign-us"), TempDir::new("foreign-eu"));
    let clock = Arc::new(ManualClock::new(T0));
    let us = Arc::new(open(&dir_us, &clock, "us-east-1"));
    let eu = Arc::new(open(&dir_eu, &clock, "eu-central-1"));
    let other = Arc::new(OtherRegion {
        bus: Arc::clone(&eu),
        puts: Mutex::new(Vec::new()),
    });
    us.set_foreign_buses(other.clone());
    // Both have a queue `orders`; the EU rule collects into the EU one.
    let us_q = us.create_queue("orders").unwrap();
    let eu_q = eu.create_queue("orders").unwrap();
    assert_ne!(us_q, eu_q);
    eu.put_rule(PutRuleInput::new("collect", r#"{"source": ["app"]}"#))
        .unwrap();
    eu.put_targets("collect", None, vec![target("q", &eu_q)])
        .unwrap();
    us.put_rule(PutRuleInput::new("to-eu", r#"{"source": ["app"]}"#))
        .unwrap();
    // Checked through the foreign buses: an unknown one is refused.
    let e = us
        .put_targets(
            "to-eu",
            None,
            vec![target(
                "b",
                "arn:aws:events:eu-central-1:000000000000:event-bus/nope",
            )],
        )
        .unwrap_err();
    assert!(e.message().contains("no bus"), "{e}");
    us.put_targets("to-eu", None, vec![target("b", &eu.bus_arn("default"))])
        .unwrap();

    us.put_events(vec![PutEventsEntry::new("app", "T", r#"{"hop": 1}"#)])
        .unwrap();
    us.run_due();
    eu.run_due();
    let got = eu.queue_messages("orders", 10).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].body.contains("hop"), "{}", got[0].body);
    assert!(
        got[0].body.contains(r#""region":"eu-central-1""#),
        "{}",
        got[0].body
    );
    assert!(us.queue_messages("orders", 10).unwrap().is_empty());

    // Entries naming the other bus go there, in request order with the rest.
    let mut there = PutEventsEntry::new("app", "T", r#"{"n": 2}"#);
    there.event_bus_name = Some(eu.bus_arn("default"));
    let here = PutEventsEntry::new("other", "T", r#"{"n": 3}"#);
    let out = us.put_events(vec![here, there]).unwrap();
    assert_eq!(out.failed_entry_count, 0);
    assert_eq!(out.entries.len(), 2);
    assert!(out.entries.iter().all(|e| e.event_id.is_some()));
    assert_eq!(*other.puts.lock().unwrap(), [r#"{"n": 2}"#]);
    eu.run_due();
    assert_eq!(eu.queue_messages("orders", 10).unwrap().len(), 2);
}
