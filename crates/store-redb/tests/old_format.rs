//! A store file written by an earlier ferrule (delivery records and queue
//! messages as JSON, before the binary records) opens and reads back as it
//! was written, and keeps working: leases, retries, acks, receives, sends.
//!
//! `tests/fixtures/json-records.redb.gz` (gzipped) was written by
//! [`write_json_fixture`] at commit ede7b6a (the last one with JSON
//! records): `FERRULE_WRITE_FIXTURE=/path/to/file cargo test -p
//! ferrule-store-redb --test old_format -- --ignored write_json_fixture`, then `gzip -9`.
//! Run today, the generator writes the current format instead; the file in
//! the repository is the old one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferrule_store::{
    ArchivedEvent, Delivery, DeliveryLog, EventArchive, NewDelivery, NewMessage, Outcome,
    QueueStore, Settled, Store,
};
use ferrule_store_redb::{RedbStore, SyncMode};

const WHOLE_1: &str =
    r#"{"version":"0","id":"e1","detail-type":"t","source":"s","detail":{"k":"v \"quoted\" é"}}"#;
const WHOLE_2: &str = r#"{"version":"0","id":"e2","detail":{}}"#;

fn fifo_attributes() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("FifoQueue".to_string(), "true".to_string()),
        ("ContentBasedDeduplication".to_string(), "true".to_string()),
    ])
}

/// The deliveries of the fixture, as appended.
fn deliveries() -> Vec<NewDelivery> {
    let whole = |event: &str, body: &str, due_ms: u64| {
        let mut d = Delivery::new(event, "default", "r1", "arn:aws:sqs:r:1:std", body);
        d.rule_arn = "arn:aws:events:r:1:rule/r1".into();
        d.target_id = "q".into();
        d.ingested_ms = 5;
        NewDelivery {
            due_ms,
            delivery: d,
        }
    };
    let mut full = Delivery::new(
        "e1",
        "default",
        "r2",
        "arn:aws:lambda:r:1:function:f",
        "{\"transformed\":\"\\u0001\"}",
    );
    full.rule_arn = "arn:aws:events:r:1:rule/r2".into();
    full.target_id = "t2".into();
    full.max_retries = 3;
    full.max_age_ms = 60_000;
    full.dead_letter_arn = Some("arn:aws:sqs:r:1:dlq".into());
    full.ingested_ms = 5;
    full.principal = Some("AKIDEXAMPLE".into());
    full.message_group_id = Some("g-7".into());
    vec![
        whole("e1", WHOLE_1, 0),
        NewDelivery {
            due_ms: 0,
            delivery: full,
        },
        whole("e2", WHOLE_2, 0),
    ]
}

fn events() -> Vec<ArchivedEvent> {
    [("e1", WHOLE_1), ("e2", WHOLE_2)]
        .into_iter()
        .map(|(id, body)| ArchivedEvent {
            id: id.into(),
            bus: "default".into(),
            time_ms: 5,
            body: body.as_bytes().to_vec(),
        })
        .collect()
}

fn std_message() -> NewMessage {
    let mut m = NewMessage::new("body with \"quotes\" and \u{1} and é");
    m.attributes = vec![("RULE_ARN".into(), "arn:aws:events:r:1:rule/r1".into())];
    m
}

fn fifo_message() -> NewMessage {
    let mut m = NewMessage::new("in order");
    m.group_id = Some("g1".into());
    m.dedup_id = Some("dd1".into());
    m
}

/// Writes the fixture with this build's format to `$FERRULE_WRITE_FIXTURE`.
#[test]
#[ignore = "writes the fixture; run by hand with FERRULE_WRITE_FIXTURE set"]
fn write_json_fixture() {
    let path =
        PathBuf::from(std::env::var("FERRULE_WRITE_FIXTURE").expect("FERRULE_WRITE_FIXTURE"));
    let _ = std::fs::remove_file(&path);
    let s = RedbStore::open(&path, SyncMode::Always).expect("open");
    s.create_queue("std", BTreeMap::new(), 1).expect("queue");
    s.create_queue("fifo.fifo", fifo_attributes(), 1)
        .expect("queue");
    s.ingest(events(), deliveries()).expect("ingest");
    let leased = s.lease(10, 10, 100).expect("lease");
    assert_eq!(leased.len(), 3);
    // The second delivery failed once: its record is rewritten.
    let retry = Outcome::Retry {
        retry_at_ms: 1_000,
        attempts: 1,
        last_error: Some("HTTP 500: \"down\"".into()),
    };
    assert_eq!(
        s.settle(11, vec![(leased[1].lease, retry)])
            .expect("settle"),
        [Settled::Applied]
    );
    s.send("std", vec![std_message()], 20).expect("send");
    s.send("fifo.fifo", vec![fifo_message()], 20).expect("send");
    // Received once, invisible until 30,020.
    assert_eq!(s.receive("std", 20, 10, 30_000).expect("receive").len(), 1);
    drop(s);
}

/// A copy of the fixture in a fresh directory.
fn fixture_copy(name: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("ferrule-old-format-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("s.redb");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json-records.redb.gz");
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(fixture).expect("the fixture"));
    let mut out = std::fs::File::create(&file).expect("create");
    std::io::copy(&mut gz, &mut out).expect("unpack the fixture");
    (dir, file)
}

#[test]
fn json_records_of_an_earlier_store_read_back_and_keep_working() {
    let (dir, file) = fixture_copy("deliveries");
    let s = RedbStore::open(&file, SyncMode::Never).expect("open the old store");
    let expected = deliveries();
    // The leases died with the process: everything is due, by due time.
    let leased = s.lease(2_000, 10, 5_000).expect("lease");
    assert_eq!(leased.len(), 3);
    assert_eq!(leased[0].delivery, expected[0].delivery);
    assert_eq!(leased[1].delivery, expected[2].delivery);
    let mut retried = expected[1].delivery.clone();
    retried.attempts = 1;
    retried.last_error = Some("HTTP 500: \"down\"".into());
    assert_eq!(leased[2].due_ms, 1_000);
    assert_eq!(leased[2].delivery, retried);

    // A retry of an old record rewrites it (in today's format) and keeps it.
    let retry = Outcome::Retry {
        retry_at_ms: 3_000,
        attempts: 2,
        last_error: None,
    };
    let ack_send = Outcome::AckAndSend {
        queue: "std".into(),
        message: NewMessage::new(WHOLE_1),
    };
    let answers = s
        .settle(
            2_001,
            vec![
                (leased[0].lease, ack_send),
                (leased[1].lease, retry),
                (leased[2].lease, Outcome::Ack),
            ],
        )
        .expect("settle");
    assert_eq!(answers, [Settled::Applied; 3]);
    // Both deliveries of e1 are settled: the event went with the last one.
    assert_eq!(s.event("e1").expect("event"), None);
    assert!(s.event("e2").expect("event").is_some());
    let again = s.lease(3_000, 10, 5_000).expect("lease");
    assert_eq!(again.len(), 1);
    let mut d2 = expected[2].delivery.clone();
    d2.attempts = 2;
    assert_eq!(again[0].delivery, d2);
    assert_eq!(
        s.settle(3_001, vec![(again[0].lease, Outcome::Ack)])
            .expect("settle"),
        [Settled::Applied]
    );
    assert_eq!(s.pending().expect("pending"), 0);
    assert_eq!(s.event("e2").expect("event"), None);
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_messages_of_an_earlier_store_are_received_as_sent() {
    let (dir, file) = fixture_copy("messages");
    let s = RedbStore::open(&file, SyncMode::Never).expect("open the old store");
    // Still invisible from the receive before the restart.
    assert!(
        s.receive("std", 30_000, 10, 1_000)
            .expect("receive")
            .is_empty()
    );
    s.send("std", vec![NewMessage::new("new")], 30_001)
        .expect("send");
    let got = s.receive("std", 30_020, 10, 1_000).expect("receive");
    assert_eq!(got.len(), 2);
    let old = &got[0];
    let sent = std_message();
    assert_eq!(old.message.body, sent.body);
    assert_eq!(old.message.attributes, sent.attributes);
    assert_eq!(old.message.sent_ms, 20);
    assert_eq!(old.receive_count, 2);
    assert_eq!(old.first_receive_ms, 20);
    assert_eq!(got[1].message.body, "new");
    assert_eq!(got[1].receive_count, 1);
    let peek = s.messages("std", 10).expect("messages");
    assert_eq!(peek.len(), 2);
    assert_eq!(peek[0], old.message);

    // FIFO: the old message keeps its group and deduplication id.
    let fifo = s.receive("fifo.fifo", 30_020, 10, 1_000).expect("receive");
    assert_eq!(fifo.len(), 1);
    assert_eq!(fifo[0].message.body, "in order");
    assert_eq!(fifo[0].message.group_id.as_deref(), Some("g1"));
    assert_eq!(fifo[0].message.dedup_id.as_deref(), Some("dd1"));
    for r in got.iter().chain(&fifo) {
        let queue = if r.message.group_id.is_some() {
            "fifo.fifo"
        } else {
            "std"
        };
        assert_eq!(
            s.delete_message(queue, &r.receipt).expect("delete"),
            ferrule_store::Deletion::Deleted
        );
    }
    assert_eq!(s.counts("std", 30_020).expect("counts").visible, 0);
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}
