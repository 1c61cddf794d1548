//! Faults: a full disk under the store (a small tmpfs), a store whose
//! operations fail, and an HTTP endpoint that never answers beside a healthy
//! one. Real store on disk, real HTTP on loopback, effects read back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrule_bus::{Bus, BusOptions, ManualClock, PutEventsEntry, PutRuleInput};
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, FunctionTarget};
use ferrule_dispatch::{RedbStore, SyncMode};
use ferrule_store::{
    ArchivedEvent, Change, Deletion, DeliveryId, DeliveryLog, EventArchive, Expect, Lease, Leased,
    MetadataStore, NewDelivery, NewMessage, Outcome, QueueCounts, QueueInfo, QueueMessage,
    QueueStore, Received, Record, Settled, Store, StoreError, VisibilityChange,
};

mod support;
use support::open::TestBus;
use support::steps::{rule_to, target};
use support::temp_dir::TempDir;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// `None` (with a notice) when not running as root: mounting needs it.
    fn mount(size: &str) -> Option<Tmpfs> {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective user.
        if std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            != 0
        {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let dir = TempDir::new("tmpfs");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed as root");
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        &self.dir.0
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = std::process::Command::new("umount")
            .arg(&self.dir.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.dir.0)
                .status();
        }
    }
}

/// Writes into `path` until the file system is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("create filler");
    let mut written = 0u64;
    for chunk in [1 << 20, 64 << 10, 4 << 10, 512, 1] {
        let buf = vec![0xA5u8; chunk];
        while f.write_all(&buf).is_ok() {
            written += chunk as u64;
        }
    }
    let _ = f.sync_all();
    written
}

fn event_id(payload: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(payload).expect("payload is JSON");
    v["id"].as_str().expect("payload has an id").to_string()
}

/// A target recording how often each event id arrived.
fn counting_target(bus: &Bus, arn: &str) -> Arc<Mutex<HashMap<String, usize>>> {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let s = Arc::clone(&seen);
    bus.register_target(
        arn,
        Arc::new(FunctionTarget(
            move |payload: &str, _: &DeliveryContext<'_>| {
                *s.lock().unwrap().entry(event_id(payload)).or_default() += 1;
                Ok(())
            },
        )),
    );
    seen
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn entries(source: &str, n: usize) -> Vec<PutEventsEntry> {
    (0..n)
        .map(|i| {
            PutEventsEntry::new(
                source,
                "T",
                &format!(r#"{{"i": {i}, "pad": "{}"}}"#, "x".repeat(400)),
            )
        })
        .collect()
}

/// Puts `n` entries; returns the acknowledged event ids and the errors of the others.
fn put(bus: &Bus, source: &str, n: usize) -> (Vec<String>, Vec<(String, String)>) {
    let out = bus
        .put_events(entries(source, n))
        .expect("PutEvents answers");
    let mut acked = Vec::new();
    let mut failed = Vec::new();
    for e in out.entries {
        match (e.event_id, e.error_code) {
            (Some(id), None) => acked.push(id),
            (None, Some(code)) => failed.push((code, e.error_message.unwrap_or_default())),
            other => panic!("an entry is either accepted or failed: {other:?}"),
        }
    }
    assert_eq!(out.failed_entry_count, failed.len());
    (acked, failed)
}

/// Log lines of the whole test binary (the dispatcher logs from its own threads).
fn logs() -> &'static Mutex<Vec<u8>> {
    use std::sync::OnceLock;
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct W(&'static Mutex<Vec<u8>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || W(buffer))
            .try_init();
        buffer
    })
}

fn log_lines(containing: &[&str]) -> Vec<String> {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    text.lines()
        .filter(|l| containing.iter().all(|c| l.contains(c)))
        .map(str::to_string)
        .collect()
}

/// Starts capturing log lines.
fn capture_logs() {
    let _ = logs();
}

#[test]
fn disk_full_fails_entries_then_recovers_without_restart() {
    capture_logs();
    let Some(fs) = Tmpfs::mount("12m") else {
        return;
    };
    let data = fs.path().join("data");
    let mut options = BusOptions::new(&data);
    options.sync = SyncMode::Always;
    options.dispatch.backoff_base_ms = 50;
    let bus = Bus::open(options).expect("open bus on the tmpfs");
    let sink = counting_target(&bus, "arn:ferrule:function:sink");
    let queue = bus.create_queue("kept").unwrap();
    bus.put_rule(PutRuleInput::new("all", r#"{"source": ["disk.test"]}"#))
        .unwrap();
    bus.put_targets(
        "all",
        None,
        vec![
            target("sink", "arn:ferrule:function:sink"),
            target("queue", &queue),
        ],
    )
    .unwrap();

    let mut acked: Vec<String> = Vec::new();
    let (ok, failed) = put(&bus, "disk.test", 10);
    assert!(failed.is_empty(), "healthy disk: {failed:?}");
    acked.extend(ok);
    assert!(bus.health().is_ok());

    // Fill the disk, then keep putting until the store runs out of room
    // (the database file may still have free pages at first).
    let filler = fs.path().join("filler");
    assert!(fill(&filler) > 0);
    let mut failures: Vec<(String, String)> = Vec::new();
    for _ in 0..500 {
        let (ok, failed) = put(&bus, "disk.test", 10);
        acked.extend(ok);
        if !failed.is_empty() {
            failures.extend(failed);
            break;
        }
    }
    assert!(
        !failures.is_empty(),
        "PutEvents kept succeeding on a full disk"
    );
    // At once (the first reopen is 100 ms away): degraded, with the reason.
    let health = bus.health();
    assert!(!health.is_ok(), "a full disk must degrade health");
    assert_eq!(health.status(), "degraded");
    let reason = health.reason().unwrap();
    assert!(
        reason.starts_with("store: ")
            && !reason.contains("store: store")
            && reason.contains("No space left on device"),
        "reason: {reason}"
    );

    // While the disk stays full, entries keep failing with the error, fast.
    // (A reopen frees the failed commit's pages inside the file, so some
    // writes may succeed in between: health then truthfully says ok until
    // the file must grow again.)
    let started = Instant::now();
    let mut failed_puts = 1;
    while failed_puts < 40 && started.elapsed() < Duration::from_secs(20) {
        let (ok, failed) = put(&bus, "disk.test", 10);
        acked.extend(ok);
        if !failed.is_empty() {
            failed_puts += 1;
            failures.extend(failed);
        }
    }
    assert!(failed_puts >= 40, "entries stopped failing on a full disk");
    for (code, message) in &failures {
        assert_eq!(code, "InternalFailure");
        assert!(
            message.contains("No space left on device") || message.contains("cannot write"),
            "{message}"
        );
    }
    {
        // Logged at ERROR once per transition to degraded, not per request.
        let errors = log_lines(&["ERROR", "degraded: store failing"]).len();
        let recoveries = log_lines(&["INFO", "recovered: store works again"]).len();
        assert!(errors >= 1);
        assert!(
            errors == recoveries || errors == recoveries + 1,
            "{errors} ERROR lines for {recoveries} recoveries"
        );
        assert!(
            errors < failed_puts / 2,
            "{errors} ERROR lines for {failed_puts} failed requests"
        );
    }

    // Free the space: the store recovers by itself, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    assert!(
        wait_until(Duration::from_secs(15), || bus.health().is_ok()),
        "health stayed {:?}",
        bus.health()
    );
    eprintln!("healthy {:?} after the space was freed", freed.elapsed());
    if std::env::var_os("FERRULE_FAULTS_VERBOSE").is_some() {
        for l in log_lines(&["store"]) {
            eprintln!("{l}");
        }
    }
    assert!(!log_lines(&["INFO", "recovered: store works again"]).is_empty());
    assert!(bus.health().is_ok());
    let (ok, failed) = put(&bus, "disk.test", 10);
    assert!(failed.is_empty(), "after freeing space: {failed:?}");
    acked.extend(ok);

    // Every acknowledged event is delivered, to both targets.
    let expected: HashSet<String> = acked.iter().cloned().collect();
    assert_eq!(expected.len(), acked.len());
    assert!(
        wait_until(Duration::from_secs(20), || {
            bus.pending_deliveries().ok() == Some(0)
                && expected
                    .iter()
                    .all(|id| sink.lock().unwrap().contains_key(id))
        }),
        "{} of {} acknowledged events reached the function target; {:?} pending",
        expected
            .iter()
            .filter(|id| sink.lock().unwrap().contains_key(*id))
            .count(),
        expected.len(),
        bus.pending_deliveries()
    );
    let queued: HashSet<String> = bus
        .queue_messages("kept", 100_000)
        .unwrap()
        .iter()
        .map(|m| event_id(&m.body))
        .collect();
    let missing: Vec<&String> = expected.difference(&queued).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events missing from the queue",
        missing.len()
    );
    assert!(bus.health().is_ok());
    drop(bus);
}

/// A store over redb whose operations can be made to fail.
struct FlakyStore {
    inner: RedbStore,
    fail_due: AtomicUsize,
    fail_settle: AtomicUsize,
}

fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

impl DeliveryLog for FlakyStore {
    fn append(&self, d: Vec<NewDelivery>) -> Result<Vec<DeliveryId>, StoreError> {
        self.inner.append(d)
    }
    fn lease(&self, now_ms: u64, limit: usize, until_ms: u64) -> Result<Vec<Leased>, StoreError> {
        if take_one(&self.fail_due) {
            return Err(StoreError::transient("injected read failure"));
        }
        self.inner.lease(now_ms, limit, until_ms)
    }
    fn settle(&self, now_ms: u64, o: Vec<(Lease, Outcome)>) -> Result<Vec<Settled>, StoreError> {
        if take_one(&self.fail_settle) {
            return Err(StoreError::transient("injected write failure"));
        }
        self.inner.settle(now_ms, o)
    }
    fn next_ready(&self) -> Result<Option<u64>, StoreError> {
        self.inner.next_ready()
    }
    fn pending(&self) -> Result<u64, StoreError> {
        self.inner.pending()
    }
}

impl QueueStore for FlakyStore {
    fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<(QueueInfo, bool), StoreError> {
        self.inner.create_queue(name, attributes, now_ms)
    }
    fn set_queue_attributes(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<QueueInfo, StoreError> {
        self.inner.set_queue_attributes(name, attributes, now_ms)
    }
    fn delete_queue(&self, name: &str) -> Result<(), StoreError> {
        self.inner.delete_queue(name)
    }
    fn queue(&self, name: &str) -> Result<Option<QueueInfo>, StoreError> {
        self.inner.queue(name)
    }
    fn queues(&self) -> Result<Vec<QueueInfo>, StoreError> {
        self.inner.queues()
    }
    fn send(&self, q: &str, m: Vec<NewMessage>, now_ms: u64) -> Result<Vec<u64>, StoreError> {
        self.inner.send(q, m, now_ms)
    }
    fn receive(
        &self,
        q: &str,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    ) -> Result<Vec<Received>, StoreError> {
        self.inner.receive(q, now_ms, max, visibility_ms)
    }
    fn delete_message(&self, q: &str, receipt: &str) -> Result<Deletion, StoreError> {
        self.inner.delete_message(q, receipt)
    }
    fn change_visibility(
        &self,
        q: &str,
        receipt: &str,
        now_ms: u64,
        visibility_ms: u64,
    ) -> Result<VisibilityChange, StoreError> {
        self.inner
            .change_visibility(q, receipt, now_ms, visibility_ms)
    }
    fn purge(&self, q: &str) -> Result<u64, StoreError> {
        self.inner.purge(q)
    }
    fn counts(&self, q: &str, now_ms: u64) -> Result<QueueCounts, StoreError> {
        self.inner.counts(q, now_ms)
    }
    fn messages(&self, q: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError> {
        self.inner.messages(q, limit)
    }
}

impl MetadataStore for FlakyStore {
    fn put(
        &self,
        kind: &str,
        name: &str,
        value: Option<Vec<u8>>,
        expect: Expect,
    ) -> Result<u64, StoreError> {
        self.inner.put(kind, name, value, expect)
    }
    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>, StoreError> {
        self.inner.get(kind, name)
    }
    fn list(&self, kind: &str) -> Result<Vec<Record>, StoreError> {
        self.inner.list(kind)
    }
    fn version(&self) -> Result<u64, StoreError> {
        self.inner.version()
    }
    fn changes_since(&self, since: u64) -> Result<Vec<Change>, StoreError> {
        self.inner.changes_since(since)
    }
}

impl EventArchive for FlakyStore {
    fn archive(&self, events: Vec<ArchivedEvent>) -> Result<u64, StoreError> {
        self.inner.archive(events)
    }
    fn event(&self, id: &str) -> Result<Option<ArchivedEvent>, StoreError> {
        self.inner.event(id)
    }
    fn events(
        &self,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, StoreError> {
        self.inner.events(from_ms, to_ms, after, limit)
    }
    fn prune(&self, before_ms: u64) -> Result<u64, StoreError> {
        self.inner.prune(before_ms)
    }
    fn add_members(&self, members: Vec<ferrule_store::ArchiveMember>) -> Result<u64, StoreError> {
        self.inner.add_members(members)
    }
    fn members(
        &self,
        archive: &str,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<(u64, ArchivedEvent)>, StoreError> {
        self.inner.members(archive, from_ms, to_ms, after, limit)
    }
    fn archive_stats(&self, archive: &str) -> Result<ferrule_store::ArchiveStats, StoreError> {
        self.inner.archive_stats(archive)
    }
    fn expire_members(&self, archive: &str, before_ms: u64) -> Result<u64, StoreError> {
        self.inner.expire_members(archive, before_ms)
    }
}

impl Store for FlakyStore {
    fn ingest(
        &self,
        events: Vec<ArchivedEvent>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        self.inner.ingest(events, deliveries)
    }
    fn ingest_archived(
        &self,
        events: Vec<ArchivedEvent>,
        members: Vec<ferrule_store::ArchiveMember>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        self.inner.ingest_archived(events, members, deliveries)
    }
    fn faults(&self) -> Vec<ferrule_core::Fault> {
        self.inner.faults()
    }
}

#[test]
fn store_errors_in_delivery_are_retried_not_dropped() {
    let dir = TempDir::new("flaky");
    let store = Arc::new(FlakyStore {
        inner: RedbStore::open(&dir.0.join("ferrule.redb"), SyncMode::Never).unwrap(),
        fail_due: AtomicUsize::new(0),
        fail_settle: AtomicUsize::new(0),
    });
    let mut options = BusOptions::new(&dir.0);
    options.sync = SyncMode::Never;
    let bus = Bus::open_with_store(options, store.clone()).unwrap();
    let sink = counting_target(&bus, "arn:ferrule:function:flaky");
    rule_to(
        &bus,
        "r",
        "flaky.test",
        target("t", "arn:ferrule:function:flaky"),
    );

    // Recording the outcomes fails four times: they are kept and retried,
    // and the deliveries (leased meanwhile) are not attempted again.
    store.fail_settle.store(4, Ordering::SeqCst);
    let (acked, failed) = put(&bus, "flaky.test", 10);
    assert!(failed.is_empty());
    assert!(
        wait_until(Duration::from_secs(2), || store
            .fail_settle
            .load(Ordering::SeqCst)
            <= 2),
        "the settler does not retry"
    );
    assert!(!bus.health().is_ok(), "failing settlements degrade health");
    assert!(bus.health().reason().unwrap().contains("settle: "));
    assert!(
        wait_until(Duration::from_secs(10), || bus.pending_deliveries().ok()
            == Some(0)),
        "outcomes were never recorded"
    );
    {
        let seen = sink.lock().unwrap();
        for id in &acked {
            assert_eq!(seen.get(id), Some(&1), "event {id} delivered once");
        }
    }
    assert!(bus.health().store_errors >= 4);
    assert!(wait_until(Duration::from_secs(2), || bus.health().is_ok()));

    // Reading due deliveries fails three times: delivery goes on afterwards.
    store.fail_due.store(3, Ordering::SeqCst);
    let (acked, _) = put(&bus, "flaky.test", 5);
    assert!(
        wait_until(Duration::from_secs(10), || {
            let seen = sink.lock().unwrap();
            acked.iter().all(|id| seen.contains_key(id))
        }),
        "deliveries stopped after read errors"
    );
    assert!(bus.health().store_errors >= 7);
    assert!(wait_until(Duration::from_secs(2), || bus.health().is_ok()));
}

#[test]
fn run_due_stops_on_a_settle_error_and_delivers_later() {
    let dir = TempDir::new("flaky-sync");
    let store = Arc::new(FlakyStore {
        inner: RedbStore::open(&dir.0.join("ferrule.redb"), SyncMode::Never).unwrap(),
        fail_due: AtomicUsize::new(0),
        fail_settle: AtomicUsize::new(1),
    });
    let mut options = BusOptions::new(&dir.0);
    options.deliver_in_background = false;
    options.clock = Arc::new(ManualClock::new(1_714_564_800_000));
    let bus = Bus::open_with_store(options, store.clone()).unwrap();
    let sink = counting_target(&bus, "arn:ferrule:function:sync");
    rule_to(
        &bus,
        "r",
        "sync.test",
        target("t", "arn:ferrule:function:sync"),
    );
    put(&bus, "sync.test", 3);
    // The first run delivers, cannot record it, and stops (not a loop).
    assert_eq!(bus.run_due(), 3);
    assert_eq!(bus.pending_deliveries().unwrap(), 3);
    assert!(
        bus.health()
            .reason()
            .unwrap()
            .contains("injected write failure")
    );
    // At least once: the next run attempts them again and records them.
    assert_eq!(bus.run_due(), 3);
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    assert!(sink.lock().unwrap().values().all(|n| *n == 2));
    assert!(bus.health().is_ok());
    assert_eq!(bus.health().store_errors, 1);
}

/// An HTTP endpoint that accepts connections and never answers (until
/// `release`: then it closes them, and refuses later ones at once).
struct Hanging {
    url: String,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    released: Arc<AtomicBool>,
}

impl Hanging {
    fn start() -> Hanging {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hang", listener.local_addr().unwrap());
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let released = Arc::new(AtomicBool::new(false));
        let (s, r) = (Arc::clone(&streams), Arc::clone(&released));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if r.load(Ordering::SeqCst) {
                    let _ = stream.shutdown(Shutdown::Both);
                } else {
                    s.lock().unwrap().push(stream);
                }
            }
        });
        Hanging {
            url,
            streams,
            released,
        }
    }

    fn connections(&self) -> usize {
        self.streams.lock().unwrap().len()
    }

    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// An HTTP endpoint that answers 200 and records when each event arrived.
fn healthy_endpoint() -> (String, Arc<Mutex<HashMap<String, Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ok", listener.local_addr().unwrap());
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let a = Arc::clone(&arrived);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let a = Arc::clone(&a);
            std::thread::spawn(move || serve_ok(stream, &a));
        }
    });
    (url, arrived)
}

fn serve_ok(stream: TcpStream, arrived: &Mutex<HashMap<String, Instant>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut event = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if let Some(v) = lower.strip_prefix("x-ferrule-event-id:") {
                event = v.trim().to_string();
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        arrived.lock().unwrap().insert(event, Instant::now());
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_hanging_endpoint_does_not_delay_other_targets() {
    capture_logs();
    let hanging = Hanging::start();
    let (healthy_url, arrived) = healthy_endpoint();
    let dir = TempDir::new("hang");
    let mut options = BusOptions::new(&dir.0);
    options.sync = SyncMode::Never;
    options.http_timeout = Duration::from_secs(60);
    // Retries of the hanging target stay out of the test's time.
    options.dispatch.backoff_base_ms = 120_000;
    let bus = Bus::open(options).unwrap();
    for (rule, url) in [
        ("slow", hanging.url.as_str()),
        ("fast", healthy_url.as_str()),
    ] {
        rule_to(
            &bus,
            rule,
            "hang.test",
            target(&format!("{rule}-target"), url),
        );
    }

    // The hanging endpoint gets its deliveries first and holds them.
    let mut put_at: HashMap<String, Instant> = HashMap::new();
    let (ids, failed) = put(&bus, "hang.test", 10);
    assert!(failed.is_empty());
    let now = Instant::now();
    put_at.extend(ids.into_iter().map(|id| (id, now)));
    assert!(
        wait_until(Duration::from_secs(5), || hanging.connections() >= 1),
        "the hanging endpoint was never called"
    );
    for _ in 0..4 {
        let (ids, failed) = put(&bus, "hang.test", 10);
        assert!(failed.is_empty());
        let now = Instant::now();
        put_at.extend(ids.into_iter().map(|id| (id, now)));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        wait_until(Duration::from_secs(1), || arrived.lock().unwrap().len()
            >= put_at.len()),
        "healthy endpoint got {} of {} deliveries within 1 s",
        arrived.lock().unwrap().len(),
        put_at.len()
    );
    let slowest = {
        let arrived = arrived.lock().unwrap();
        put_at
            .iter()
            .map(|(id, at)| arrived[id].saturating_duration_since(*at))
            .max()
            .unwrap()
    };
    assert!(
        slowest < Duration::from_secs(1),
        "slowest delivery {slowest:?}"
    );
    // The hanging target is still stuck: attempts in flight (as many as a
    // target may have, `DispatchConfig::workers`), nothing delivered.
    assert_eq!(hanging.connections(), 4);
    let slow = |f: fn(&ferrule_dispatch::CounterSnapshot) -> u64| {
        bus.counters()
            .iter()
            .find(|c| c.target == "slow-target")
            .map_or(0, f)
    };
    assert_eq!(slow(|c| c.delivered), 0);
    assert_eq!(slow(|c| c.failed_attempts), 0);

    // Closing its connections fails those attempts: each is counted,
    // retried later and logged with rule, target, error code and attempt.
    hanging.release();
    assert!(
        wait_until(Duration::from_secs(10), || slow(|c| c.retried) >= 50),
        "retried {} of 50",
        slow(|c| c.retried)
    );
    assert_eq!(slow(|c| c.failed_attempts), slow(|c| c.retried));
    assert_eq!(slow(|c| c.failed), 0);
    {
        let lines = log_lines(&[
            "WARN",
            "delivery attempt failed",
            "rule=slow",
            "target=slow-target",
            "code=CONNECTION_FAILURE",
            "attempt=1",
        ]);
        assert_eq!(lines.len(), 50, "one log line per failed attempt");
    }
    assert_eq!(bus.pending_deliveries().unwrap(), 50);
    drop(bus);
}

#[test]
fn a_failed_attempt_that_ends_delivery_is_logged_and_counted() {
    capture_logs();
    let dir = TempDir::new("permanent");
    let bus = TestBus::new(&dir.0)
        .clock(&Arc::new(ManualClock::new(1_714_564_800_000)))
        .open();
    bus.register_target(
        "arn:ferrule:function:refuses",
        Arc::new(FunctionTarget(|_: &str, _: &DeliveryContext<'_>| {
            Err(DeliveryError::permanent("ERROR_FROM_TARGET", "no thanks"))
        })),
    );
    rule_to(
        &bus,
        "refused",
        "refuse.test",
        target("refuser", "arn:ferrule:function:refuses"),
    );
    put(&bus, "refuse.test", 2);
    assert_eq!(bus.run_due(), 2);
    let c = bus
        .counters()
        .into_iter()
        .find(|c| c.target == "refuser")
        .unwrap();
    assert_eq!((c.failed_attempts, c.failed, c.retried), (2, 2, 0));
    {
        let attempts = log_lines(&[
            "delivery attempt failed",
            "rule=refused",
            "target=refuser",
            "code=ERROR_FROM_TARGET",
            "attempt=1",
        ]);
        assert_eq!(attempts.len(), 2);
        let given_up = log_lines(&["delivery failed for good", "rule=refused"]);
        assert_eq!(given_up.len(), 2);
    }
}
