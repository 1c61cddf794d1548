//! What the embedded store does beyond the shared contract: the archive's
//! retention, deliveries stored without a copy of their event, and a full
//! disk failing writes with a transient error until space is back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrule_store::{
    ArchivedEvent, Delivery, DeliveryLog, EventArchive, NewDelivery, Outcome, Settled, Store,
    StoreErrorKind,
};
use ferrule_store_redb::{RedbStore, Retention, SyncMode};
use redb::{ReadableDatabase, TableHandle};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ferrule-store-redb-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event(id: &str, body: &str) -> ArchivedEvent {
    ArchivedEvent {
        id: id.into(),
        bus: "default".into(),
        time_ms: 1,
        body: body.as_bytes().to_vec(),
    }
}

fn delivery(event: &str, payload: &str) -> NewDelivery {
    NewDelivery {
        due_ms: 0,
        delivery: Delivery::new(event, "default", "r", "arn:t", payload),
    }
}

#[test]
fn an_event_goes_with_its_last_delivery_while_referenced() {
    let dir = Dir::new("retention");
    let s = RedbStore::open_with(
        &dir.0.join("s.redb"),
        SyncMode::Never,
        Retention::WhileReferenced,
    )
    .expect("open");
    let body = r#"{"id":"e1","detail":{}}"#;
    s.ingest(
        vec![event("e1", body), event("lonely", "{}")],
        vec![delivery("e1", body), delivery("e1", "transformed")],
    )
    .expect("ingest");
    let leased = s.lease(0, 10, 100).expect("lease");
    assert_eq!(leased.len(), 2);
    // The first is stored without its copy of the event, and read back whole.
    assert_eq!(leased[0].delivery.payload, body);
    assert_eq!(leased[1].delivery.payload, "transformed");
    // A retry keeps the payload.
    let retry = Outcome::Retry {
        retry_at_ms: 5,
        attempts: 1,
        last_error: Some("x".into()),
    };
    let answers = s
        .settle(
            1,
            vec![(leased[0].lease, retry), (leased[1].lease, Outcome::Ack)],
        )
        .expect("settle");
    assert_eq!(answers, [Settled::Applied, Settled::Applied]);
    assert!(
        s.event("e1").expect("event").is_some(),
        "one delivery still refers to it"
    );
    let again = s.lease(5, 10, 100).expect("lease");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery.payload, body);
    assert_eq!(again[0].delivery.attempts, 1);
    let answers = s
        .settle(6, vec![(again[0].lease, Outcome::Ack)])
        .expect("settle");
    assert_eq!(answers, [Settled::Applied]);
    assert_eq!(
        s.event("e1").expect("event"),
        None,
        "gone with its last delivery"
    );
    assert_eq!(s.events(0, u64::MAX, None, 10).expect("events").len(), 1);
    // An event no delivery ever referred to stays until pruned.
    assert!(s.event("lonely").expect("event").is_some());
    assert_eq!(s.prune(u64::MAX).expect("prune"), 1);
}

#[test]
fn until_pruned_keeps_delivered_events() {
    let dir = Dir::new("until-pruned");
    let s = RedbStore::open_with(
        &dir.0.join("s.redb"),
        SyncMode::Never,
        Retention::UntilPruned,
    )
    .expect("open");
    s.ingest(vec![event("e1", "{}")], vec![delivery("e1", "{}")])
        .expect("ingest");
    let leased = s.lease(0, 10, 100).expect("lease");
    s.settle(1, vec![(leased[0].lease, Outcome::Ack)])
        .expect("settle");
    assert!(s.event("e1").expect("event").is_some());
    assert_eq!(s.prune(2).expect("prune"), 1);
    assert_eq!(s.event("e1").expect("event"), None);
}

#[test]
fn archive_members_hold_events_past_their_deliveries_while_referenced() {
    let dir = Dir::new("members");
    let s = RedbStore::open_with(
        &dir.0.join("s.redb"),
        SyncMode::Never,
        Retention::WhileReferenced,
    )
    .expect("open");
    let member = |id: &str, t: u64| ferrule_store::ArchiveMember {
        archive: "a".into(),
        event_id: id.into(),
        time_ms: t,
    };
    s.ingest_archived(
        vec![event("e1", "{}"), event("e2", "{\"x\":1}")],
        vec![member("e1", 10), member("e2", 20)],
        vec![delivery("e1", "{}")],
    )
    .expect("ingest");
    let leased = s.lease(0, 10, 100).expect("lease");
    s.settle(1, vec![(leased[0].lease, Outcome::Ack)])
        .expect("settle");
    // The delivery is gone; the archive still holds the event.
    assert!(s.event("e1").expect("event").is_some());
    assert_eq!(s.expire_members("a", 15).expect("expire"), 1);
    assert_eq!(
        s.event("e1").expect("event"),
        None,
        "gone with its last member"
    );
    assert!(s.event("e2").expect("event").is_some());
    // Nothing left to expire before 15: answered without a write.
    assert_eq!(s.expire_members("a", 15).expect("expire"), 0);
    assert_eq!(s.archive_stats("a").expect("stats").events, 1);
    assert_eq!(s.expire_members("a", u64::MAX).expect("expire"), 1);
    assert_eq!(s.event("e2").expect("event"), None);
    assert_eq!(s.archive_stats("a").expect("stats").events, 0);
}

/// A tmpfs of `size` on a fresh directory, unmounted on drop; `None` when
/// not root (mounting needs it).
struct Tmpfs(Dir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            != 0
        {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let dir = Dir::new("tmpfs");
        std::fs::create_dir_all(&dir.0).expect("mkdir");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed as root");
        Some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0.0)
            .status();
    }
}

/// Writes into `path` until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("create filler");
    for chunk in [1 << 20, 64 << 10, 4 << 10, 512, 1] {
        let buf = vec![0xA5u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_fails_writes_as_transient_until_space_is_back() {
    let Some(fs) = Tmpfs::mount("8m") else { return };
    let s = RedbStore::open(&fs.0.0.join("s.redb"), SyncMode::Always).expect("open");
    s.append(vec![delivery("e0", "{}")]).expect("append");
    let filler = fs.0.0.join("filler");
    fill(&filler);
    let big = "x".repeat(64 << 10);
    let mut failure = None;
    for i in 0..200 {
        match s.append(vec![delivery(&format!("e{i}"), &big)]) {
            Ok(_) => continue,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let e = failure.expect("a full disk fails an append");
    assert_eq!(e.kind(), StoreErrorKind::Transient, "{e}");
    assert!(!s.faults().is_empty(), "the store reports the fault");
    std::fs::remove_file(&filler).expect("free space");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let recovered = loop {
        if s.append(vec![delivery("after", "{}")]).is_ok() {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(recovered, "writes work again once there is space");
    assert!(s.faults().is_empty());
}

#[test]
fn a_file_of_the_old_layout_is_refused_not_emptied() {
    let dir = Dir::new("old-layout");
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("ferrule.redb");
    {
        // The tables of the store before the traits, with a rule in them.
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let config: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("config");
            let mut t = tx.open_table(config).unwrap();
            t.insert("rule\u{1f}default\u{1f}r", "{}").unwrap();
        }
        tx.commit().unwrap();
    }
    let err = RedbStore::open(&path, SyncMode::Never).unwrap_err();
    assert_eq!(err.kind(), ferrule_store::StoreErrorKind::Fatal);
    assert!(err.to_string().contains("earlier ferrule"), "{err}");
    // The file is left as it was.
    let db = redb::Database::create(&path).unwrap();
    let tx = db.begin_read().unwrap();
    let names: Vec<String> = tx
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_string())
        .collect();
    assert_eq!(names, ["config"]);
}

#[test]
fn messages_sent_with_an_ingest_are_committed_with_it_and_survive_a_reopen() {
    use ferrule_store::{NewMessage, QueueStore};
    let dir = Dir::new("ingest-sending");
    let path = dir.0.join("s.redb");
    {
        let s = RedbStore::open(&path, SyncMode::Always).expect("open");
        s.create_queue("q", Default::default(), 1).expect("queue");
        let (ids, sent) = s
            .ingest_sending(
                vec![event("e1", "{}")],
                Vec::new(),
                vec![delivery("e1", "{}")],
                vec![
                    ("q".into(), NewMessage::new("m1 \"raw\"")),
                    ("gone".into(), NewMessage::new("dropped")),
                    ("q".into(), NewMessage::new("m2")),
                ],
                7,
            )
            .expect("ingest");
        assert_eq!(ids.len(), 1);
        assert_eq!(sent, [true, false, true]);
    }
    let s = RedbStore::open(&path, SyncMode::Always).expect("reopen");
    let got = s.receive("q", 7, 10, 1_000).expect("receive");
    let bodies: Vec<&str> = got.iter().map(|r| r.message.body.as_str()).collect();
    assert_eq!(bodies, ["m1 \"raw\"", "m2"]);
    assert_eq!(got[0].message.sent_ms, 7);
    assert_eq!(s.pending().expect("pending"), 1);
    assert!(s.event("e1").expect("event").is_some());
}
