//! FIFO queue targets: `SqsParameters.MessageGroupId` required by
//! PutTargets, and events delivered to the queue in order, in the target's
//! group, deduplicated by content when the queue asks for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrule_bus::{Bus, BusErrorKind, ManualClock, PutEventsEntry, PutRuleInput, SqsParameters};

mod support;
use support::open::TestBus;
use support::steps::target;
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000;

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    TestBus::new(&dir.0).clock(clock).open()
}

#[test]
fn fifo_targets_need_a_group_and_deliver_in_order_in_it() {
    let dir = TempDir::new("fifo-target");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let attributes = BTreeMap::from([
        ("FifoQueue".to_string(), "true".to_string()),
        ("ContentBasedDeduplication".to_string(), "true".to_string()),
    ]);
    bus.create_queue_with("orders.fifo", attributes).unwrap();
    bus.put_rule(PutRuleInput {
        name: "all".into(),
        event_pattern: Some(r#"{"source": ["shop"]}"#.into()),
        ..Default::default()
    })
    .unwrap();
    let arn = bus.queue_arn("orders.fifo");
    let mut target = target("q", &arn);
    let e = bus
        .put_targets("all", None, vec![target.clone()])
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::Validation);
    assert_eq!(
        e.message(),
        "Parameter(s) SqsParameters must be specified for target: q."
    );
    target.sqs_parameters = Some(SqsParameters {
        message_group_id: Some("g1".into()),
    });
    bus.put_targets("all", None, vec![target]).unwrap();

    for n in 0..12 {
        let entry = PutEventsEntry::new("shop", "Order", &format!(r#"{{"n": {n}}}"#));
        assert_eq!(bus.put_events(vec![entry]).unwrap().failed_entry_count, 0);
    }
    while bus.run_due() > 0 {}
    let store = bus.queue_store();
    let mut seen = Vec::new();
    loop {
        let got = store.receive("orders.fifo", T0 + 1, 5, 30_000).unwrap();
        // Nothing more of the group while these are in flight.
        assert!(
            store
                .receive("orders.fifo", T0 + 1, 5, 30_000)
                .unwrap()
                .is_empty()
        );
        if got.is_empty() {
            break;
        }
        for r in got {
            assert_eq!(r.message.group_id.as_deref(), Some("g1"));
            assert_eq!(r.message.dedup_id.as_ref().map(String::len), Some(64));
            let body: serde_json::Value = serde_json::from_str(&r.message.body).unwrap();
            seen.push(body["detail"]["n"].as_u64().unwrap());
            store.delete_message("orders.fifo", &r.receipt).unwrap();
        }
    }
    assert_eq!(seen, (0..12).collect::<Vec<u64>>());
}
