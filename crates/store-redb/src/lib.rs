//! ferrule's durable store: every concern of [`ferrule_store`] in one redb
//! file, with group commit.
//!
//! Writes from many callers are batched by one writer thread into a single
//! transaction and a single sync, so the cost of durability is paid once
//! per batch, not once per event; every write is durable as the
//! [`SyncMode`] says before its call returns.
//!
//! One process at a time has the file open (redb locks it), so every
//! consumer holding a delivery lease lives in that process: the store keeps
//! its leases beside the file, in memory (leasing is a read, not a write),
//! and they end with the process, so what a dead process held is delivered
//! again at once after a restart. SQS visibility and receipt handles, whose
//! holders are clients outside the process, are stored in the file.
//!
//! redb latches the first I/O error of a write (a full disk, typically): from
//! then on every write transaction fails until the database is reopened. The
//! writer thread therefore reopens it (with backoff) after such a failure and
//! probes it with a small commit; writes fail at once, with a
//! [`Transient`](StoreErrorKind::Transient) error, while the store is
//! broken, and nothing is acknowledged that was not committed. Reads use the
//! current database.

use ferrule_core::health::{Fault, Health};

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use ferrule_store::{
    ArchiveMember, ArchiveStats, ArchivedEvent, Change, DEDUP_WINDOW_MS, Deletion, Delivery,
    DeliveryId, DeliveryLog, EventArchive, Expect, Fifo, GroupGate, Lease, Leased, MetadataStore,
    NewDelivery, NewMessage, Outcome, QueueCounts, QueueInfo, QueueMessage, QueueStore, Receipt,
    Received, Record, Settled, Store, StoreError, StoreErrorKind, VisibilityChange,
};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};
use serde::{Deserialize, Serialize};

/// (ready time, delivery id) → lease token (0: not leased).
const LOG_READY: TableDefinition<(u64, u64), u64> = TableDefinition::new("log_ready");
/// delivery id → the delivery (JSON).
const LOG_DELIVERIES: TableDefinition<u64, &[u8]> = TableDefinition::new("log_deliveries");
/// queue name → the queue (JSON).
const QUEUES: TableDefinition<&str, &[u8]> = TableDefinition::new("queues");
/// (queue id, seq) → the message (JSON); never rewritten.
const QUEUE_MESSAGES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("queue_messages");
/// (queue id, seq) → (visible at, receive count, first receive, receive token).
const QUEUE_STATE: TableDefinition<(u64, u64), (u64, u32, u64, u64)> =
    TableDefinition::new("queue_state");
/// FIFO queues: (queue id, deduplication key) → (first sent, its seq).
const QUEUE_DEDUP: TableDefinition<(u64, &str), (u64, u64)> = TableDefinition::new("queue_dedup");
/// FIFO queues: (queue id, first sent, deduplication key) → seq: the
/// window in time order, so that expired ids are removed cheaply.
const QUEUE_DEDUP_TIMES: TableDefinition<(u64, u64, &str), u64> =
    TableDefinition::new("queue_dedup_times");
/// FIFO queues: (queue id, seq) → the message's group, read while receiving.
const QUEUE_GROUPS: TableDefinition<(u64, u64), &str> = TableDefinition::new("queue_groups");
/// (kind, name) → (version, value; `None`: deleted).
/// A metadata record's key (kind, name) and value (version, bytes).
type MetaKey<'a> = (&'a str, &'a str);
type MetaValue<'a> = (u64, Option<&'a [u8]>);
const META_RECORDS: TableDefinition<MetaKey, MetaValue> = TableDefinition::new("meta_records");
/// version → (kind, name) of the record whose latest write it is.
const META_CHANGES: TableDefinition<u64, (&str, &str)> = TableDefinition::new("meta_changes");
/// (time, event id) → (bus, body): in time order, so that archiving and
/// removing events touch few pages (ids are random).
const ARCHIVE: TableDefinition<(u64, &str), (&str, &[u8])> = TableDefinition::new("archive_events");
/// event id → (its time, how many deliveries in the log refer to it). The
/// time is [`UNARCHIVED`] for an event deliveries refer to but that was
/// not archived (yet).
const ARCHIVE_IDS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("archive_ids");
const UNARCHIVED: u64 = u64::MAX;
/// (archive, member time, event id) → the event's body size: the members of
/// the named archives, each one reference to its event in `ARCHIVE_IDS`.
const ARCHIVE_MEMBERS: TableDefinition<(&str, u64, &str), u64> =
    TableDefinition::new("archive_members");
/// archive → (members, their bytes).
const ARCHIVE_STATS: TableDefinition<&str, (u64, u64)> = TableDefinition::new("archive_stats");
/// Counters: `seq` (deliveries, messages, queues), `token` (leases,
/// receives), `version` (metadata), `probe`.
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// What the event archive keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retention {
    /// An event only while a delivery in the log refers to it: the last
    /// delivery settled, the event goes (the footprint of a queue).
    #[default]
    WhileReferenced,
    /// Every event until [`EventArchive::prune`] removes it (for archives
    /// and replay).
    UntilPruned,
}

/// How the store makes writes durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Every batch of writes is synced to disk before callers return.
    Always,
    /// Writes are not synced (they survive a process crash only as far as
    /// the OS has written them): for benchmarks and tests.
    Never,
}

/// The first wait before reopening a broken store; it doubles up to [`REOPEN_MAX`].
const REOPEN_FIRST: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(2);
/// Requests committed together at most.
const GROUP: usize = 1024;

/// A redb failure as a [`StoreError`]: I/O and the database being busy or
/// closed are transient, corruption is fatal.
fn db(context: &'static str) -> impl FnOnce(redb::Error) -> StoreError {
    move |e| {
        use redb::Error as E;
        let kind = match &e {
            E::Io(_)
            | E::PreviousIo
            | E::DatabaseAlreadyOpen
            | E::TransactionInProgress
            | E::DatabaseClosed
            | E::ReadTransactionStillInUse(_) => StoreErrorKind::Transient,
            E::ValueTooLarge(_) => StoreErrorKind::Invalid,
            _ => StoreErrorKind::Fatal,
        };
        StoreError::new(kind, context).with_source(e)
    }
}

/// Converts redb's specific errors into [`StoreError`]s with context.
trait Redb<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> Redb<T> for Result<T, E> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| db(context)(e.into()))
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::fatal("encoding a record").with_source(e))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::fatal(format!("reading {what}: corrupt record")).with_source(e))
}

/// A delivery row: a tag byte, then the delivery. Tags [`FULL`] and
/// [`WHOLE_EVENT`] (stores written before 0.2): the delivery as JSON;
/// [`BIN_FULL`] and [`BIN_WHOLE_EVENT`] (written now): a
/// [`DeliveryRecord`] in postcard's compact binary form, the payload stored
/// as raw bytes rather than an escaped JSON string. The `*WHOLE*` tags:
/// the payload is the whole archived event, left out of the row (most
/// targets get the event as it is).
const FULL: u8 = 0;
const WHOLE_EVENT: u8 = 1;
const BIN_FULL: u8 = 2;
const BIN_WHOLE_EVENT: u8 = 3;

/// A delivery as a binary row. The field order is the format: append new
/// fields at the end only with a new tag. `event_id` comes first so that
/// [`event_of`] reads it alone. Decoded fields are owned (`Cow::Owned`),
/// so decoding allocates each string once, straight into the [`Delivery`].
#[derive(Serialize, Deserialize)]
struct DeliveryRecord<'a> {
    event_id: Cow<'a, str>,
    bus: Cow<'a, str>,
    rule: Cow<'a, str>,
    rule_arn: Cow<'a, str>,
    target_id: Cow<'a, str>,
    target_arn: Cow<'a, str>,
    max_retries: u32,
    max_age_ms: u64,
    dead_letter_arn: Option<Cow<'a, str>>,
    /// Empty in a [`BIN_WHOLE_EVENT`] row.
    payload: Cow<'a, str>,
    ingested_ms: u64,
    attempts: u32,
    last_error: Option<Cow<'a, str>>,
    principal: Option<Cow<'a, str>>,
    message_group_id: Option<Cow<'a, str>>,
}

fn encode_delivery(d: &Delivery, whole: bool) -> Result<Vec<u8>, StoreError> {
    fn b(s: &Option<String>) -> Option<Cow<'_, str>> {
        s.as_deref().map(Cow::Borrowed)
    }
    let record = DeliveryRecord {
        event_id: Cow::Borrowed(&d.event_id),
        bus: Cow::Borrowed(&d.bus),
        rule: Cow::Borrowed(&d.rule),
        rule_arn: Cow::Borrowed(&d.rule_arn),
        target_id: Cow::Borrowed(&d.target_id),
        target_arn: Cow::Borrowed(&d.target_arn),
        max_retries: d.max_retries,
        max_age_ms: d.max_age_ms,
        dead_letter_arn: b(&d.dead_letter_arn),
        payload: Cow::Borrowed(if whole { "" } else { &d.payload }),
        ingested_ms: d.ingested_ms,
        attempts: d.attempts,
        last_error: b(&d.last_error),
        principal: b(&d.principal),
        message_group_id: b(&d.message_group_id),
    };
    let mut out = Vec::with_capacity(160 + if whole { 0 } else { d.payload.len() });
    out.push(if whole { BIN_WHOLE_EVENT } else { BIN_FULL });
    postcard::to_extend(&record, out)
        .map_err(|e| StoreError::fatal("encoding a delivery").with_source(e))
}

fn decode_record(bytes: &[u8]) -> Result<Delivery, StoreError> {
    let r: DeliveryRecord<'_> = postcard::from_bytes(bytes)
        .map_err(|e| StoreError::fatal("reading a delivery: corrupt record").with_source(e))?;
    let o = |s: Option<Cow<'_, str>>| s.map(Cow::into_owned);
    let mut d = Delivery::new(
        r.event_id,
        r.bus,
        r.rule,
        r.target_arn,
        r.payload.into_owned(),
    );
    d.rule_arn = r.rule_arn.into_owned();
    d.target_id = r.target_id.into_owned();
    d.max_retries = r.max_retries;
    d.max_age_ms = r.max_age_ms;
    d.dead_letter_arn = o(r.dead_letter_arn);
    d.ingested_ms = r.ingested_ms;
    d.attempts = r.attempts;
    d.last_error = o(r.last_error);
    d.principal = o(r.principal);
    d.message_group_id = o(r.message_group_id);
    Ok(d)
}

/// A stored delivery as it is in its row: whether the payload is the
/// archived event (left out), and the delivery.
fn decode_stored(bytes: &[u8]) -> Result<(bool, Delivery), StoreError> {
    match bytes.split_first() {
        Some((&BIN_FULL, rest)) => Ok((false, decode_record(rest)?)),
        Some((&BIN_WHOLE_EVENT, rest)) => Ok((true, decode_record(rest)?)),
        Some((&FULL, json)) => Ok((false, decode(json, "a delivery")?)),
        Some((&WHOLE_EVENT, json)) => Ok((true, decode(json, "a delivery")?)),
        _ => Err(StoreError::fatal("reading a delivery: corrupt record")),
    }
}

/// A stored delivery, its payload filled from the archive when left out.
fn decode_delivery(
    bytes: &[u8],
    event: impl FnOnce(&str) -> Result<Option<Vec<u8>>, StoreError>,
) -> Result<Delivery, StoreError> {
    let (whole, mut d) = decode_stored(bytes)?;
    if whole {
        let body = event(&d.event_id)?.ok_or_else(|| {
            StoreError::fatal(format!(
                "delivery of event {}: the event is not archived",
                d.event_id
            ))
        })?;
        d.payload = String::from_utf8(body).map_err(|e| {
            StoreError::fatal(format!("event {}: not UTF-8", d.event_id)).with_source(e)
        })?;
    }
    Ok(d)
}

/// The event a stored delivery refers to.
fn event_of(bytes: &[u8]) -> Result<String, StoreError> {
    #[derive(Deserialize)]
    struct EventRef {
        event_id: String,
    }
    match bytes.split_first() {
        Some((&(BIN_FULL | BIN_WHOLE_EVENT), rest)) => {
            let (id, _) = postcard::take_from_bytes::<&str>(rest).map_err(|e| {
                StoreError::fatal("reading a delivery: corrupt record").with_source(e)
            })?;
            Ok(id.to_string())
        }
        Some((_, json)) => Ok(decode::<EventRef>(json, "a delivery")?.event_id),
        None => Err(StoreError::fatal("reading a delivery: corrupt record")),
    }
}

/// A queue message row: JSON (stores written before 0.2; it starts with
/// `{`), or [`BIN_MESSAGE`] then a [`MessageRecord`] in postcard's form,
/// whose body is raw bytes rather than an escaped JSON string.
const BIN_MESSAGE: u8 = 2;

/// A queue message as a binary row (the field order is the format).
#[derive(Serialize, Deserialize)]
struct MessageRecord<'a> {
    seq: u64,
    body: Cow<'a, str>,
    attributes: Cow<'a, [(String, String)]>,
    sent_ms: u64,
    group_id: Option<Cow<'a, str>>,
    dedup_id: Option<Cow<'a, str>>,
}

#[cfg(test)]
fn encode_message(m: &QueueMessage) -> Result<Vec<u8>, StoreError> {
    let record = MessageRecord {
        seq: m.seq,
        body: Cow::Borrowed(&m.body),
        attributes: Cow::Borrowed(&m.attributes),
        sent_ms: m.sent_ms,
        group_id: m.group_id.as_deref().map(Cow::Borrowed),
        dedup_id: m.dedup_id.as_deref().map(Cow::Borrowed),
    };
    encode_record(&record, Vec::with_capacity(48 + m.body.len()))
}

/// `record`'s row, written into `out` (cleared first): a buffer reused
/// from one message to the next saves an allocation per message.
fn encode_record(record: &MessageRecord<'_>, mut out: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    out.clear();
    out.push(BIN_MESSAGE);
    postcard::to_extend(record, out)
        .map_err(|e| StoreError::fatal("encoding a message").with_source(e))
}

fn decode_message(bytes: &[u8]) -> Result<QueueMessage, StoreError> {
    match bytes.split_first() {
        Some((&BIN_MESSAGE, rest)) => {
            let r: MessageRecord<'_> = postcard::from_bytes(rest).map_err(|e| {
                StoreError::fatal("reading a message: corrupt record").with_source(e)
            })?;
            Ok(QueueMessage {
                seq: r.seq,
                body: r.body.into_owned(),
                attributes: r.attributes.into_owned(),
                sent_ms: r.sent_ms,
                group_id: r.group_id.map(Cow::into_owned),
                dedup_id: r.dedup_id.map(Cow::into_owned),
            })
        }
        _ => decode(bytes, "a message"),
    }
}

/// A queue as stored.
#[derive(Serialize, Deserialize)]
struct StoredQueue {
    id: u64,
    info: QueueInfo,
}

/// A write, run by the writer thread.
enum Write {
    /// Events, archive members, deliveries, and messages sent to queues
    /// at a time.
    Ingest(
        Vec<ArchivedEvent>,
        Vec<ArchiveMember>,
        Vec<NewDelivery>,
        Vec<(String, NewMessage)>,
        u64,
    ),
    Expire(String, u64),
    Settle(u64, Vec<(Lease, Outcome)>),
    CreateQueue(String, BTreeMap<String, String>, u64),
    SetQueueAttributes(String, BTreeMap<String, String>, u64),
    DeleteQueue(String),
    Send(String, Vec<NewMessage>, u64),
    Receive {
        queue: String,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    },
    DeleteMessage(String, String),
    ChangeVisibility(String, String, u64, u64),
    Purge(String),
    Put(String, String, Option<Vec<u8>>, Expect),
    Prune(u64),
}

/// The answer to a [`Write`].
enum Reply {
    /// The appended deliveries' ids, how many events were new, and per
    /// message sent whether its queue exists.
    Ingested(Vec<DeliveryId>, u64, Vec<bool>),
    Settled(Vec<Settled>),
    Queue(QueueInfo, bool),
    Info(QueueInfo),
    Seqs(Vec<u64>),
    Received(Vec<Received>),
    Deletion(Deletion),
    Visibility(VisibilityChange),
    Count(u64),
    Done,
}

type Request = (Write, SyncSender<Result<Reply, StoreError>>);

/// The embedded store: one redb file, with group commit.
pub struct RedbStore {
    shared: Arc<Shared>,
    writer: Mutex<Option<SyncSender<Request>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

struct Shared {
    path: PathBuf,
    /// `None` while a reopen has failed.
    db: RwLock<Option<Arc<Database>>>,
    health: Health,
    leases: Mutex<LeaseTable>,
}

/// The deliveries leased now.
#[derive(Default)]
struct LeaseTable {
    /// The last token given.
    token: u64,
    /// Delivery id → its lease.
    held: HashMap<u64, Held>,
}

struct Held {
    token: u64,
    until_ms: u64,
    /// The delivery's key in `LOG_READY`.
    key: (u64, u64),
    /// An outcome under this lease is being committed: no one may take it.
    settling: bool,
}

impl Held {
    /// Whether it keeps the delivery from being leased at `now_ms`.
    fn holds(&self, now_ms: u64) -> bool {
        self.settling || self.until_ms > now_ms
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// After a commit of outcomes under `leases`: they end if it succeeded;
    /// if it failed, they hold again (the outcomes were not recorded).
    fn settled(&self, leases: &[(u64, u64)], committed: bool) {
        if leases.is_empty() {
            return;
        }
        let mut table = lock(&self.leases);
        for (id, token) in leases {
            if table.held.get(id).is_some_and(|h| h.token == *token) {
                if committed {
                    table.held.remove(id);
                } else if let Some(h) = table.held.get_mut(id) {
                    h.settling = false;
                }
            }
        }
    }

    fn db(&self) -> Result<Arc<Database>, StoreError> {
        let db = match self.db.read() {
            Ok(d) => d.clone(),
            Err(p) => p.into_inner().clone(),
        };
        db.ok_or_else(|| StoreError::transient("the store is closed after an I/O error; reopening"))
    }

    fn set_db(&self, db: Option<Arc<Database>>) -> Option<Arc<Database>> {
        let mut slot = match self.db.write() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        std::mem::replace(&mut *slot, db)
    }
}

/// A file written by ferrule before the store traits (tables `pending`,
/// `config`) is refused with a clear error rather than opened as empty,
/// which would drop its configuration and pending deliveries unseen.
fn refuse_old_layout(db: &Database, path: &Path) -> Result<(), StoreError> {
    let tx = db.begin_read().ctx("reading the store's tables")?;
    let old = tx
        .list_tables()
        .ctx("reading the store's tables")?
        .any(|t| matches!(t.name(), "pending" | "config"));
    if old {
        return Err(StoreError::fatal(format!(
            "{} was written by an earlier ferrule (before 0.1's store layout) and is not \
             read by this one; move it away (or delete the data directory) to start afresh",
            path.display()
        )));
    }
    Ok(())
}

fn create_tables(db: &Database) -> Result<(), StoreError> {
    let tx = db.begin_write().ctx("creating tables")?;
    tx.open_table(LOG_READY).ctx("creating tables")?;
    tx.open_table(LOG_DELIVERIES).ctx("creating tables")?;
    tx.open_table(QUEUES).ctx("creating tables")?;
    tx.open_table(QUEUE_MESSAGES).ctx("creating tables")?;
    tx.open_table(QUEUE_STATE).ctx("creating tables")?;
    tx.open_table(QUEUE_DEDUP).ctx("creating tables")?;
    tx.open_table(QUEUE_DEDUP_TIMES).ctx("creating tables")?;
    tx.open_table(QUEUE_GROUPS).ctx("creating tables")?;
    tx.open_table(META_RECORDS).ctx("creating tables")?;
    tx.open_table(META_CHANGES).ctx("creating tables")?;
    tx.open_table(ARCHIVE).ctx("creating tables")?;
    tx.open_table(ARCHIVE_IDS).ctx("creating tables")?;
    tx.open_table(ARCHIVE_MEMBERS).ctx("creating tables")?;
    tx.open_table(ARCHIVE_STATS).ctx("creating tables")?;
    tx.open_table(COUNTERS).ctx("creating tables")?;
    tx.commit().ctx("creating tables")
}

/// Counts the openings of the store (`epoch` in the counters).
fn next_epoch(db: &Database) -> Result<u64, StoreError> {
    const E: &str = "opening the store";
    let tx = db.begin_write().ctx(E)?;
    let epoch = {
        let mut counters = tx.open_table(COUNTERS).ctx(E)?;
        let epoch = counters.get("epoch").ctx(E)?.map_or(0, |v| v.value()) + 1;
        counters.insert("epoch", epoch).ctx(E)?;
        epoch
    };
    tx.commit().ctx(E)?;
    Ok(epoch)
}

impl RedbStore {
    /// Opens (or creates) the store at `path`; archived events are kept
    /// while deliveries refer to them.
    pub fn open(path: &Path, sync: SyncMode) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, sync, Retention::WhileReferenced)
    }

    /// [`RedbStore::open`], with archived events kept as `retention` says.
    pub fn open_with(
        path: &Path,
        sync: SyncMode,
        retention: Retention,
    ) -> Result<RedbStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::transient(format!("creating {}", dir.display())).with_source(e)
            })?;
        }
        let db = Database::create(path).ctx("opening the store")?;
        refuse_old_layout(&db, path)?;
        create_tables(&db)?;
        let epoch = next_epoch(&db)?;
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            db: RwLock::new(Some(Arc::new(db))),
            health: Health::default(),
            leases: Mutex::new(LeaseTable {
                // Tokens of this opening never equal one of an earlier
                // opening's (a lease its dead holder might still settle).
                token: epoch << 40,
                held: HashMap::new(),
            }),
        });
        let (sender, receiver) = mpsc::sync_channel::<Request>(4096);
        let writer_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("ferrule-store-writer".into())
            .spawn(move || Writer::new(&writer_shared, sync, retention).run(&receiver))
            .map_err(|e| StoreError::transient("starting the writer thread").with_source(e))?;
        Ok(RedbStore {
            shared,
            writer: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn write(&self, write: Write) -> Result<Reply, StoreError> {
        let (reply, wait) = mpsc::sync_channel(1);
        let sender = match self.writer.lock() {
            Ok(w) => w.clone(),
            Err(p) => p.into_inner().clone(),
        }
        .ok_or_else(|| StoreError::closed("the store is closed"))?;
        let stopped = || StoreError::closed("the store's writer stopped");
        sender.send((write, reply)).map_err(|_| stopped())?;
        wait.recv().map_err(|_| stopped())?
    }

    fn read<T>(
        &self,
        context: &'static str,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().ctx(context)?;
        f(&tx)
    }
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
        if let Ok(mut t) = self.thread.lock()
            && let Some(t) = t.take()
        {
            let _ = t.join();
        }
    }
}

/// The writer thread: group commit, and recovery from I/O failures.
struct Writer<'a> {
    shared: &'a Shared,
    sync: SyncMode,
    retention: Retention,
    /// Set after a write failed with the database unusable: the error, and
    /// when to try reopening it.
    broken: Option<(StoreError, Instant)>,
    delay: Duration,
}

impl<'a> Writer<'a> {
    fn new(shared: &'a Shared, sync: SyncMode, retention: Retention) -> Writer<'a> {
        Writer {
            shared,
            sync,
            retention,
            broken: None,
            delay: REOPEN_FIRST,
        }
    }

    fn run(mut self, requests: &Receiver<Request>) {
        loop {
            let first = match &self.broken {
                None => match requests.recv() {
                    Ok(r) => Some(r),
                    Err(_) => return,
                },
                Some((_, retry_at)) => {
                    let wait = retry_at.saturating_duration_since(Instant::now());
                    match requests.recv_timeout(wait) {
                        Ok(r) => Some(r),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            };
            if self
                .broken
                .as_ref()
                .is_some_and(|(_, at)| Instant::now() >= *at)
            {
                self.reopen();
            }
            let Some(first) = first else { continue };
            let mut batch = vec![first];
            while batch.len() < GROUP {
                match requests.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            if let Some((e, _)) = &self.broken {
                self.shared.health.fail("store", e.message());
                let e = StoreError::transient("cannot write").with_source(e.clone());
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.clone()));
                }
                continue;
            }
            let result = match self.shared.db() {
                Ok(db) => {
                    let mut settling = Vec::new();
                    let result = apply_batch(
                        &db,
                        &batch,
                        self.sync,
                        self.retention,
                        &self.shared.leases,
                        &mut settling,
                    );
                    self.shared.settled(&settling, result.is_ok());
                    if let Err(e) = &result {
                        self.check(&db, e);
                    }
                    result
                }
                Err(e) => {
                    // Only a failed reopen leaves no database: try again now.
                    self.broken = Some((e.clone(), Instant::now()));
                    Err(e)
                }
            };
            match result {
                Ok(replies) => {
                    self.shared.health.recover("store");
                    for ((_, reply), r) in batch.into_iter().zip(replies) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => {
                    for (_, reply) in batch {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// After a failed batch: whether the database still accepts writes. A
    /// failed encoding leaves it usable; an I/O error does not.
    fn check(&mut self, db: &Database, e: &StoreError) {
        if let Err(now) = db.begin_write() {
            self.shared.health.fail("store", e.message());
            tracing::debug!(error = %now, "the store needs reopening");
            self.broken = Some((e.clone(), Instant::now() + self.delay));
        }
    }

    /// Closes and reopens the database, then probes it with a small commit.
    fn reopen(&mut self) {
        let Some((cause, _)) = self.broken.take() else {
            return;
        };
        match self.try_reopen() {
            Ok(()) => {
                self.delay = REOPEN_FIRST;
                self.shared.health.recover("store");
            }
            Err(e) => {
                self.shared.health.fail("store", e.message());
                tracing::debug!(error = %e, cause = %cause, "reopening the store failed");
                self.delay = (self.delay * 2).min(REOPEN_MAX);
                self.broken = Some((e, Instant::now() + self.delay));
            }
        }
    }

    fn try_reopen(&self) -> Result<(), StoreError> {
        if let Some(old) = self.shared.set_db(None) {
            // Readers hold the database for the length of a read; redb
            // refuses a second open of the file while any handle lives.
            let deadline = Instant::now() + Duration::from_secs(1);
            while Arc::strong_count(&old) > 1 && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            drop(old);
        }
        let db = Database::create(&self.shared.path).ctx("reopening the store")?;
        create_tables(&db)?;
        let db = Arc::new(db);
        self.shared.set_db(Some(Arc::clone(&db)));
        // A commit proves that the disk takes writes again.
        let mut tx = db.begin_write().ctx("probing the store")?;
        if self.sync == SyncMode::Never {
            tx.set_durability(Durability::None)
                .ctx("probing the store")?;
        }
        {
            let mut counters = tx.open_table(COUNTERS).ctx("probing the store")?;
            let probe = counters
                .get("probe")
                .ctx("probing the store")?
                .map_or(0, |v| v.value());
            counters
                .insert("probe", probe + 1)
                .ctx("probing the store")?;
        }
        tx.commit().ctx("probing the store")
    }
}

/// The tables of one write transaction, and the counters.
struct Tx<'t> {
    ready: redb::Table<'t, (u64, u64), u64>,
    deliveries: redb::Table<'t, u64, &'static [u8]>,
    queues: redb::Table<'t, &'static str, &'static [u8]>,
    messages: redb::Table<'t, (u64, u64), &'static [u8]>,
    state: redb::Table<'t, (u64, u64), (u64, u32, u64, u64)>,
    dedup: redb::Table<'t, (u64, &'static str), (u64, u64)>,
    dedup_times: redb::Table<'t, (u64, u64, &'static str), u64>,
    groups: redb::Table<'t, (u64, u64), &'static str>,
    records: redb::Table<'t, MetaKey<'static>, MetaValue<'static>>,
    changes: redb::Table<'t, u64, (&'static str, &'static str)>,
    archive: redb::Table<'t, (u64, &'static str), (&'static str, &'static [u8])>,
    ids: redb::Table<'t, &'static str, (u64, u64)>,
    members: redb::Table<'t, (&'static str, u64, &'static str), u64>,
    stats: redb::Table<'t, &'static str, (u64, u64)>,
    retention: Retention,
    leases: &'t Mutex<LeaseTable>,
    /// (id, token) of the leases this transaction settles.
    settling: &'t mut Vec<(u64, u64)>,
    seq: u64,
    token: u64,
    version: u64,
    /// Queues read in this transaction: name → (id, FIFO settings), so
    /// that settling thousands of deliveries into a few queues decodes
    /// each queue once. Kept current by the queue writes of the
    /// transaction; dropped with it.
    queue_keys: HashMap<String, (u64, Option<Fifo>)>,
    /// The buffer rows are encoded into, reused.
    row: Vec<u8>,
}

/// One request's result: `Err` is that request's own failure (nothing of
/// it was written); storage failures abort the whole batch instead.
type Answer = Result<Reply, StoreError>;

/// Applies a batch in one transaction. Returns the answers, and the
/// leases whose outcomes it commits (marked settling: released once the
/// commit is known, whether it succeeded or not).
fn apply_batch(
    db: &Database,
    batch: &[Request],
    sync: SyncMode,
    retention: Retention,
    leases: &Mutex<LeaseTable>,
    settling: &mut Vec<(u64, u64)>,
) -> Result<Vec<Answer>, StoreError> {
    const W: &str = "writing";
    let mut tx = db.begin_write().ctx(W)?;
    if sync == SyncMode::Never {
        tx.set_durability(Durability::None).ctx(W)?;
    }
    let mut replies = Vec::with_capacity(batch.len());
    {
        let mut counters = tx.open_table(COUNTERS).ctx(W)?;
        let counter = |c: &redb::Table<&str, u64>, name: &str| -> Result<u64, StoreError> {
            Ok(c.get(name).ctx(W)?.map_or(0, |v| v.value()))
        };
        let mut t = Tx {
            seq: counter(&counters, "seq")?,
            token: counter(&counters, "token")?,
            version: counter(&counters, "version")?,
            ready: tx.open_table(LOG_READY).ctx(W)?,
            deliveries: tx.open_table(LOG_DELIVERIES).ctx(W)?,
            queues: tx.open_table(QUEUES).ctx(W)?,
            messages: tx.open_table(QUEUE_MESSAGES).ctx(W)?,
            state: tx.open_table(QUEUE_STATE).ctx(W)?,
            dedup: tx.open_table(QUEUE_DEDUP).ctx(W)?,
            dedup_times: tx.open_table(QUEUE_DEDUP_TIMES).ctx(W)?,
            groups: tx.open_table(QUEUE_GROUPS).ctx(W)?,
            records: tx.open_table(META_RECORDS).ctx(W)?,
            changes: tx.open_table(META_CHANGES).ctx(W)?,
            archive: tx.open_table(ARCHIVE).ctx(W)?,
            ids: tx.open_table(ARCHIVE_IDS).ctx(W)?,
            members: tx.open_table(ARCHIVE_MEMBERS).ctx(W)?,
            stats: tx.open_table(ARCHIVE_STATS).ctx(W)?,
            retention,
            leases,
            settling,
            queue_keys: HashMap::new(),
            row: Vec::new(),
        };
        let start = (t.seq, t.token, t.version);
        for (write, _) in batch {
            replies.push(t.apply(write)?);
        }
        if t.seq != start.0 {
            counters.insert("seq", t.seq).ctx(W)?;
        }
        if t.token != start.1 {
            counters.insert("token", t.token).ctx(W)?;
        }
        if t.version != start.2 {
            counters.insert("version", t.version).ctx(W)?;
        }
    }
    tx.commit().ctx("committing")?;
    Ok(replies)
}

/// The message `receipt` names in a write transaction, or what became of it.
enum Found {
    Current(u64, u64, (u64, u32, u64, u64)),
    Gone,
    Superseded,
}

impl Tx<'_> {
    fn apply(&mut self, write: &Write) -> Result<Answer, StoreError> {
        Ok(match write {
            Write::Ingest(events, members, deliveries, sends, now_ms) => {
                // How many new references each event gets: written with
                // the event when it is archived here, else added after.
                let mut refs: HashMap<&str, u64> = HashMap::new();
                for d in deliveries {
                    *refs.entry(d.delivery.event_id.as_str()).or_default() += 1;
                }
                let new = self.archive_events(events, &mut refs)?;
                let added = self.add_members(members)?;
                let ids = self.append(events, deliveries, refs)?;
                let mut sent = Vec::with_capacity(sends.len());
                for (queue, message) in sends {
                    let found = self.queue_key(queue)?;
                    if let Some((qid, fifo)) = found {
                        self.send(qid, fifo, message, *now_ms)?;
                    }
                    sent.push(found.is_some());
                }
                // An archive-only write counts the new members.
                Ok(Reply::Ingested(
                    ids,
                    if events.is_empty() { added } else { new },
                    sent,
                ))
            }
            Write::Expire(archive, before_ms) => {
                Ok(Reply::Count(self.expire_members(archive, *before_ms)?))
            }
            Write::Settle(now_ms, outcomes) => Ok(Reply::Settled(self.settle(*now_ms, outcomes)?)),
            Write::CreateQueue(name, attributes, now_ms) => {
                if let Some(q) = self.stored_queue(name)? {
                    return Ok(Ok(Reply::Queue(q.info, false)));
                }
                self.seq += 1;
                let info = QueueInfo {
                    name: name.clone(),
                    attributes: attributes.clone(),
                    created_ms: *now_ms,
                    modified_ms: *now_ms,
                };
                let stored = StoredQueue { id: self.seq, info };
                self.queues
                    .insert(name.as_str(), encode(&stored)?.as_slice())
                    .ctx("creating a queue")?;
                self.queue_keys.remove(name.as_str());
                Ok(Reply::Queue(stored.info, true))
            }
            Write::SetQueueAttributes(name, attributes, now_ms) => {
                let Some(mut q) = self.stored_queue(name)? else {
                    return Ok(Err(no_queue(name)));
                };
                q.info.attributes.extend(attributes.clone());
                q.info.modified_ms = *now_ms;
                self.queues
                    .insert(name.as_str(), encode(&q)?.as_slice())
                    .ctx("setting queue attributes")?;
                self.queue_keys.remove(name.as_str());
                Ok(Reply::Info(q.info))
            }
            Write::DeleteQueue(name) => {
                let Some(q) = self.stored_queue(name)? else {
                    return Ok(Err(no_queue(name)));
                };
                self.clear_queue(q.id)?;
                self.clear_dedup(q.id)?;
                self.queues.remove(name.as_str()).ctx("deleting a queue")?;
                self.queue_keys.remove(name.as_str());
                Ok(Reply::Done)
            }
            Write::Send(queue, messages, now_ms) => {
                let Some((qid, fifo)) = self.queue_key(queue)? else {
                    return Ok(Err(no_queue(queue)));
                };
                let mut seqs = Vec::with_capacity(messages.len());
                for m in messages {
                    seqs.push(self.send(qid, fifo, m, *now_ms)?);
                }
                Ok(Reply::Seqs(seqs))
            }
            Write::Receive {
                queue,
                now_ms,
                max,
                visibility_ms,
            } => {
                let Some((qid, fifo)) = self.queue_key(queue)? else {
                    return Ok(Err(no_queue(queue)));
                };
                Ok(Reply::Received(self.receive(
                    qid,
                    fifo.is_some(),
                    *now_ms,
                    *max,
                    *visibility_ms,
                )?))
            }
            Write::DeleteMessage(queue, receipt) => match self.receipted(queue, receipt)? {
                Err(e) => Err(e),
                Ok(Found::Current(qid, seq, _)) => {
                    self.messages.remove((qid, seq)).ctx("deleting a message")?;
                    self.state.remove((qid, seq)).ctx("deleting a message")?;
                    self.groups.remove((qid, seq)).ctx("deleting a message")?;
                    Ok(Reply::Deletion(Deletion::Deleted))
                }
                Ok(Found::Gone) => Ok(Reply::Deletion(Deletion::Gone)),
                Ok(Found::Superseded) => Ok(Reply::Deletion(Deletion::Superseded)),
            },
            Write::ChangeVisibility(queue, receipt, now_ms, visibility_ms) => {
                match self.receipted(queue, receipt)? {
                    Err(e) => Err(e),
                    Ok(Found::Current(qid, seq, (_, count, first, token))) => {
                        let visible = now_ms.saturating_add(*visibility_ms);
                        self.state
                            .insert((qid, seq), (visible, count, first, token))
                            .ctx("changing visibility")?;
                        Ok(Reply::Visibility(VisibilityChange::Changed))
                    }
                    Ok(Found::Gone) => Ok(Reply::Visibility(VisibilityChange::Gone)),
                    Ok(Found::Superseded) => Ok(Reply::Visibility(VisibilityChange::Superseded)),
                }
            }
            Write::Purge(queue) => {
                let Some((qid, _)) = self.queue_key(queue)? else {
                    return Ok(Err(no_queue(queue)));
                };
                Ok(Reply::Count(self.clear_queue(qid)?))
            }
            Write::Put(kind, name, value, expect) => {
                self.put(kind, name, value.as_deref(), *expect)?
            }
            Write::Prune(before_ms) => Ok(Reply::Count(self.prune(*before_ms)?)),
        })
    }

    /// Appends deliveries; one whose payload is the whole event archived
    /// with it (`events`) is stored without its copy of it. `refs`: the
    /// references to events not yet counted (those not archived here).
    fn append(
        &mut self,
        events: &[ArchivedEvent],
        deliveries: &[NewDelivery],
        refs: HashMap<&str, u64>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        const A: &str = "appending";
        let bodies: HashMap<&str, &[u8]> = events
            .iter()
            .map(|e| (e.id.as_str(), e.body.as_slice()))
            .collect();
        let mut ids = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            self.seq += 1;
            let d = &d.delivery;
            let whole = bodies
                .get(d.event_id.as_str())
                .is_some_and(|b| *b == d.payload.as_bytes());
            let bytes = encode_delivery(d, whole)?;
            self.deliveries.insert(self.seq, bytes.as_slice()).ctx(A)?;
            ids.push(DeliveryId(self.seq));
        }
        for (d, id) in deliveries.iter().zip(&ids) {
            self.ready.insert((d.due_ms, id.0), 0).ctx(A)?;
        }
        for (event, n) in refs {
            let (time, current) = self
                .ids
                .get(event)
                .ctx(A)?
                .map_or((UNARCHIVED, 0), |v| v.value());
            self.ids.insert(event, (time, current + n)).ctx(A)?;
        }
        Ok(ids)
    }

    /// Removes delivery `id`, and its event when it was the last delivery
    /// to refer to it and the archive keeps events only while referenced.
    fn remove_delivery(&mut self, id: u64) -> Result<(), StoreError> {
        const R: &str = "removing a delivery";
        let event = match self.deliveries.remove(id).ctx(R)? {
            Some(v) => event_of(v.value())?,
            None => return Ok(()),
        };
        self.unref(&event)
    }

    /// Drops one reference (a delivery or an archive member) to `event`;
    /// the last one removes it when the archive keeps events only while
    /// referenced.
    fn unref(&mut self, event: &str) -> Result<(), StoreError> {
        const R: &str = "releasing an event";
        let Some((time, refs)) = self.ids.get(event).ctx(R)?.map(|v| v.value()) else {
            return Ok(());
        };
        if refs > 1 {
            self.ids.insert(event, (time, refs - 1)).ctx(R)?;
        } else if time == UNARCHIVED || self.retention == Retention::WhileReferenced {
            self.ids.remove(event).ctx(R)?;
            if time != UNARCHIVED {
                self.archive.remove((time, event)).ctx(R)?;
            }
        } else {
            self.ids.insert(event, (time, 0)).ctx(R)?;
        }
        Ok(())
    }

    fn settle(
        &mut self,
        now_ms: u64,
        outcomes: &[(Lease, Outcome)],
    ) -> Result<Vec<Settled>, StoreError> {
        const S: &str = "settling";
        let mut answers = Vec::with_capacity(outcomes.len());
        for (lease, outcome) in outcomes {
            let id = lease.id().0;
            let key = {
                let leases = lock(self.leases);
                match leases.held.get(&id) {
                    Some(h) if h.token == lease.token() && !h.settling => h.key,
                    _ => {
                        answers.push(Settled::LeaseLost);
                        continue;
                    }
                }
            };
            let send = match outcome {
                Outcome::AckAndSend { queue, message }
                | Outcome::DeadLetter {
                    to: Some((queue, message)),
                } => match self.queue_key(queue)? {
                    Some((qid, fifo)) => Some((qid, fifo, message)),
                    None => {
                        answers.push(Settled::NoQueue);
                        continue;
                    }
                },
                _ => None,
            };
            if let Some(h) = lock(self.leases).held.get_mut(&id) {
                h.settling = true;
            }
            self.settling.push((id, lease.token()));
            self.ready.remove(key).ctx(S)?;
            match outcome {
                Outcome::Ack | Outcome::AckAndSend { .. } | Outcome::DeadLetter { .. } => {
                    self.remove_delivery(id)?;
                    if let Some((qid, fifo, message)) = send {
                        self.send(qid, fifo, message, now_ms)?;
                    }
                }
                Outcome::Retry {
                    retry_at_ms,
                    attempts,
                    last_error,
                } => {
                    let bytes = match self.deliveries.get(id).ctx(S)? {
                        Some(v) => v.value().to_vec(),
                        None => {
                            return Err(StoreError::fatal(format!("delivery {id} has no record")));
                        }
                    };
                    let (whole, mut d) = decode_stored(&bytes)?;
                    d.attempts = *attempts;
                    d.last_error.clone_from(last_error);
                    let bytes = encode_delivery(&d, whole)?;
                    self.deliveries.insert(id, bytes.as_slice()).ctx(S)?;
                    self.ready.insert((*retry_at_ms, id), 0).ctx(S)?;
                }
                Outcome::Release => {
                    self.ready.insert((now_ms, id), 0).ctx(S)?;
                }
            }
            answers.push(Settled::Applied);
        }
        Ok(answers)
    }

    /// Queue `name`'s id and FIFO settings, read once per transaction.
    fn queue_key(&mut self, name: &str) -> Result<Option<(u64, Option<Fifo>)>, StoreError> {
        if let Some(k) = self.queue_keys.get(name) {
            return Ok(Some(*k));
        }
        let Some(q) = self.stored_queue(name)? else {
            return Ok(None);
        };
        let key = (q.id, Fifo::of(&q.info.attributes));
        self.queue_keys.insert(name.to_string(), key);
        Ok(Some(key))
    }

    fn stored_queue(&self, name: &str) -> Result<Option<StoredQueue>, StoreError> {
        match self.queues.get(name).ctx("reading a queue")? {
            Some(v) => Ok(Some(decode(v.value(), "a queue")?)),
            None => Ok(None),
        }
    }

    /// Sends `m` to queue `qid`; in a FIFO queue, a duplicate within the
    /// window is not enqueued and the first message's seq is answered.
    fn send(
        &mut self,
        qid: u64,
        fifo: Option<Fifo>,
        m: &NewMessage,
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        const S: &str = "sending";
        let dedup_id = fifo.and_then(|f| f.dedup_id(m));
        let key = fifo
            .zip(dedup_id.as_deref())
            .map(|(f, id)| f.dedup_key(id, m.group_id.as_deref()));
        if let Some(key) = &key {
            self.expire_dedup(qid, now_ms)?;
            if let Some(v) = self.dedup.get((qid, key.as_str())).ctx(S)? {
                return Ok(v.value().1);
            }
        }
        self.seq += 1;
        // Encoded from the message as sent, without a copy of its body.
        let record = MessageRecord {
            seq: self.seq,
            body: Cow::Borrowed(&m.body),
            attributes: Cow::Borrowed(&m.attributes),
            sent_ms: now_ms,
            group_id: m.group_id.as_deref().map(Cow::Borrowed),
            dedup_id: dedup_id.as_deref().map(Cow::Borrowed),
        };
        let bytes = encode_record(&record, std::mem::take(&mut self.row))?;
        self.messages
            .insert((qid, self.seq), bytes.as_slice())
            .ctx(S)?;
        self.row = bytes;
        self.state
            .insert(
                (qid, self.seq),
                (now_ms.saturating_add(m.delay_ms), 0, 0, 0),
            )
            .ctx(S)?;
        if fifo.is_some()
            && let Some(group) = &m.group_id
        {
            self.groups.insert((qid, self.seq), group.as_str()).ctx(S)?;
        }
        if let Some(key) = &key {
            self.dedup
                .insert((qid, key.as_str()), (now_ms, self.seq))
                .ctx(S)?;
            self.dedup_times
                .insert((qid, now_ms, key.as_str()), self.seq)
                .ctx(S)?;
        }
        Ok(self.seq)
    }

    /// Forgets the deduplication ids of queue `qid` sent a window or more
    /// before `now_ms`.
    fn expire_dedup(&mut self, qid: u64, now_ms: u64) -> Result<(), StoreError> {
        const E: &str = "expiring deduplication ids";
        let Some(cutoff) = now_ms.checked_sub(DEDUP_WINDOW_MS) else {
            return Ok(());
        };
        let mut expired = Vec::new();
        for row in self
            .dedup_times
            .range((qid, 0, "")..(qid, cutoff.saturating_add(1), ""))
            .ctx(E)?
        {
            let (k, _) = row.ctx(E)?;
            let (_, sent, key) = k.value();
            expired.push((sent, key.to_string()));
        }
        for (sent, key) in expired {
            self.dedup_times.remove((qid, sent, key.as_str())).ctx(E)?;
            self.dedup.remove((qid, key.as_str())).ctx(E)?;
        }
        Ok(())
    }

    /// Forgets every deduplication id of queue `qid`.
    fn clear_dedup(&mut self, qid: u64) -> Result<(), StoreError> {
        const C: &str = "deleting a queue";
        self.dedup
            .retain_in((qid, "")..(qid.saturating_add(1), ""), |_, _| false)
            .ctx(C)?;
        self.dedup_times
            .retain_in((qid, 0, "")..(qid.saturating_add(1), 0, ""), |_, _| false)
            .ctx(C)?;
        Ok(())
    }

    fn receive(
        &mut self,
        qid: u64,
        fifo: bool,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    ) -> Result<Vec<Received>, StoreError> {
        const R: &str = "receiving";
        let mut picked = Vec::new();
        let mut gate = GroupGate::default();
        for row in self.state.range((qid, 0)..=(qid, u64::MAX)).ctx(R)? {
            if picked.len() >= max {
                break;
            }
            let (k, v) = row.ctx(R)?;
            let seq = k.value().1;
            let (visible_at, count, first, _) = v.value();
            let visible = visible_at <= now_ms;
            let take = if fifo {
                let group = self.groups.get((qid, seq)).ctx(R)?;
                gate.admit(group.as_ref().map(|g| g.value()), visible)
            } else {
                visible
            };
            if take {
                picked.push((seq, count, first));
            }
        }
        let mut out = Vec::with_capacity(picked.len());
        for (seq, count, first) in picked {
            self.token += 1;
            let first = if count == 0 { now_ms } else { first };
            let count = count.saturating_add(1);
            self.state
                .insert(
                    (qid, seq),
                    (
                        now_ms.saturating_add(visibility_ms),
                        count,
                        first,
                        self.token,
                    ),
                )
                .ctx(R)?;
            let message: QueueMessage = match self.messages.get((qid, seq)).ctx(R)? {
                Some(v) => decode_message(v.value())?,
                None => return Err(StoreError::fatal(format!("message {seq} has no body"))),
            };
            out.push(Received {
                message,
                receipt: Receipt {
                    queue_id: qid,
                    seq,
                    token: self.token,
                }
                .encode(),
                receive_count: count,
                first_receive_ms: first,
            });
        }
        Ok(out)
    }

    /// The message a receipt handle names (`Err` inside: the request's own
    /// error, an unknown queue or a handle not of this queue).
    fn receipted(
        &mut self,
        queue: &str,
        receipt: &str,
    ) -> Result<Result<Found, StoreError>, StoreError> {
        let Some((qid, _)) = self.queue_key(queue)? else {
            return Ok(Err(no_queue(queue)));
        };
        let r = match Receipt::decode(receipt) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        if r.queue_id != qid {
            return Ok(Err(StoreError::invalid(format!(
                "receipt handle {receipt:?} is not one of queue {queue}"
            ))));
        }
        Ok(Ok(
            match self.state.get((qid, r.seq)).ctx("reading a message")? {
                None => Found::Gone,
                Some(v) if v.value().3 != r.token => Found::Superseded,
                Some(v) => Found::Current(qid, r.seq, v.value()),
            },
        ))
    }

    /// Removes every message of queue `qid`; returns how many.
    fn clear_queue(&mut self, qid: u64) -> Result<u64, StoreError> {
        const P: &str = "purging";
        let mut n = 0;
        self.state
            .retain_in((qid, 0)..=(qid, u64::MAX), |_, _| {
                n += 1;
                false
            })
            .ctx(P)?;
        self.messages
            .retain_in((qid, 0)..=(qid, u64::MAX), |_, _| false)
            .ctx(P)?;
        self.groups
            .retain_in((qid, 0)..=(qid, u64::MAX), |_, _| false)
            .ctx(P)?;
        Ok(n)
    }

    fn put(
        &mut self,
        kind: &str,
        name: &str,
        value: Option<&[u8]>,
        expect: Expect,
    ) -> Result<Answer, StoreError> {
        const M: &str = "writing metadata";
        let current = self.records.get((kind, name)).ctx(M)?.map(|v| {
            let (version, value) = v.value();
            (version, value.is_some())
        });
        let live = current.and_then(|(v, live)| live.then_some(v));
        let ok = match expect {
            Expect::Any => true,
            Expect::Absent => live.is_none(),
            Expect::Version(v) => live == Some(v),
        };
        if !ok {
            return Ok(Err(StoreError::conflict(format!(
                "{kind} {name}: expected {expect:?}, found version {live:?}"
            ))));
        }
        if value.is_none() && live.is_none() {
            return Ok(Ok(Reply::Count(self.version)));
        }
        self.version += 1;
        if let Some((old, _)) = current {
            self.changes.remove(old).ctx(M)?;
        }
        self.records
            .insert((kind, name), (self.version, value))
            .ctx(M)?;
        self.changes.insert(self.version, (kind, name)).ctx(M)?;
        Ok(Ok(Reply::Count(self.version)))
    }

    /// Archives the events not archived yet, each with its count of
    /// references: those it had, and its new ones in `refs` (taken out).
    fn archive_events(
        &mut self,
        events: &[ArchivedEvent],
        refs: &mut HashMap<&str, u64>,
    ) -> Result<u64, StoreError> {
        const A: &str = "archiving";
        let mut new = 0;
        for e in events {
            let had = match self.ids.get(e.id.as_str()).ctx(A)?.map(|v| v.value()) {
                Some((UNARCHIVED, had)) => had,
                Some(_) => continue,
                None => 0,
            };
            let more = refs.remove(e.id.as_str()).unwrap_or(0);
            self.ids
                .insert(e.id.as_str(), (e.time_ms, had + more))
                .ctx(A)?;
            self.archive
                .insert(
                    (e.time_ms, e.id.as_str()),
                    (e.bus.as_str(), e.body.as_slice()),
                )
                .ctx(A)?;
            new += 1;
        }
        Ok(new)
    }

    fn add_members(&mut self, members: &[ArchiveMember]) -> Result<u64, StoreError> {
        const A: &str = "archiving into archives";
        let mut new = 0;
        for m in members {
            let Some((time, refs)) = self.ids.get(m.event_id.as_str()).ctx(A)?.map(|v| v.value())
            else {
                continue;
            };
            if time == UNARCHIVED {
                continue;
            }
            let key = (m.archive.as_str(), m.time_ms, m.event_id.as_str());
            if self.members.get(key).ctx(A)?.is_some() {
                continue;
            }
            let size = match self.archive.get((time, m.event_id.as_str())).ctx(A)? {
                Some(v) => v.value().1.len() as u64,
                None => continue,
            };
            self.members.insert(key, size).ctx(A)?;
            self.ids
                .insert(m.event_id.as_str(), (time, refs + 1))
                .ctx(A)?;
            let (n, bytes) = self
                .stats
                .get(m.archive.as_str())
                .ctx(A)?
                .map_or((0, 0), |v| v.value());
            self.stats
                .insert(m.archive.as_str(), (n + 1, bytes + size))
                .ctx(A)?;
            new += 1;
        }
        Ok(new)
    }

    fn expire_members(&mut self, archive: &str, before_ms: u64) -> Result<u64, StoreError> {
        const E: &str = "expiring archived events";
        let old = self
            .members
            .range((archive, 0, "")..)
            .ctx(E)?
            .map(|r| {
                r.map(|(k, v)| {
                    let (a, t, id) = k.value();
                    (a == archive, t, id.to_string(), v.value())
                })
                .ctx(E)
            })
            .take_while(|r| {
                r.as_ref().map_or(true, |(same, t, _, _)| {
                    *same && (before_ms == u64::MAX || *t < before_ms)
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if old.is_empty() {
            return Ok(0);
        }
        let mut bytes = 0;
        for (_, t, id, size) in &old {
            self.members.remove((archive, *t, id.as_str())).ctx(E)?;
            bytes += size;
            self.unref(id)?;
        }
        let (n, total) = self
            .stats
            .get(archive)
            .ctx(E)?
            .map_or((0, 0), |v| v.value());
        let left = n.saturating_sub(old.len() as u64);
        if left == 0 {
            self.stats.remove(archive).ctx(E)?;
        } else {
            self.stats
                .insert(archive, (left, total.saturating_sub(bytes)))
                .ctx(E)?;
        }
        Ok(old.len() as u64)
    }

    fn prune(&mut self, before_ms: u64) -> Result<u64, StoreError> {
        const P: &str = "pruning the archive";
        let old = self
            .archive
            .range(..(before_ms, ""))
            .ctx(P)?
            .map(|r| {
                r.map(|(k, _)| {
                    let (t, id) = k.value();
                    (t, id.to_string())
                })
                .ctx(P)
            })
            .collect::<Result<Vec<(u64, String)>, StoreError>>()?;
        let mut n = 0;
        for (t, id) in old {
            let refs = self.ids.get(id.as_str()).ctx(P)?.map_or(0, |v| v.value().1);
            if refs > 0 {
                continue;
            }
            self.ids.remove(id.as_str()).ctx(P)?;
            self.archive.remove((t, id.as_str())).ctx(P)?;
            n += 1;
        }
        Ok(n)
    }
}

fn no_queue(name: &str) -> StoreError {
    StoreError::not_found(format!("queue {name}"))
}

fn unexpected() -> StoreError {
    StoreError::fatal("the writer gave an unexpected reply")
}

impl DeliveryLog for RedbStore {
    fn append(&self, deliveries: Vec<NewDelivery>) -> Result<Vec<DeliveryId>, StoreError> {
        self.ingest(Vec::new(), deliveries)
    }

    fn lease(&self, now_ms: u64, limit: usize, until_ms: u64) -> Result<Vec<Leased>, StoreError> {
        const L: &str = "leasing";
        let db = self.shared.db()?;
        // The read begins under the lock: a settle commits before it lets
        // go of a lease, so a read begun after that sees the commit.
        let (tx, taken) = {
            let mut leases = lock(&self.shared.leases);
            let tx = db.begin_read().ctx(L)?;
            let ready = tx.open_table(LOG_READY).ctx(L)?;
            let mut taken = Vec::new();
            for row in ready.range(..=(now_ms, u64::MAX)).ctx(L)? {
                if taken.len() >= limit {
                    break;
                }
                let (k, _) = row.ctx(L)?;
                let key = k.value();
                if leases.held.get(&key.1).is_some_and(|h| h.holds(now_ms)) {
                    continue;
                }
                leases.token += 1;
                let token = leases.token;
                leases.held.insert(
                    key.1,
                    Held {
                        token,
                        until_ms,
                        key,
                        settling: false,
                    },
                );
                taken.push((key, token));
            }
            (tx, taken)
        };
        // Rows of leased deliveries change only under their lease: the
        // snapshot's are current.
        let deliveries = tx.open_table(LOG_DELIVERIES).ctx(L)?;
        let archive = tx.open_table(ARCHIVE).ctx(L)?;
        let ids = tx.open_table(ARCHIVE_IDS).ctx(L)?;
        let mut out = Vec::with_capacity(taken.len());
        for ((due_ms, id), token) in taken {
            let delivery = match deliveries.get(id).ctx(L)? {
                Some(v) => decode_delivery(v.value(), |event| {
                    let Some(time) = ids.get(event).ctx(L)?.map(|v| v.value().0) else {
                        return Ok(None);
                    };
                    Ok(archive
                        .get((time, event))
                        .ctx(L)?
                        .map(|v| v.value().1.to_vec()))
                })?,
                None => return Err(StoreError::fatal(format!("delivery {id} has no record"))),
            };
            out.push(Leased {
                lease: Lease::new(DeliveryId(id), token, until_ms),
                due_ms,
                delivery,
            });
        }
        Ok(out)
    }

    fn settle(
        &self,
        now_ms: u64,
        outcomes: Vec<(Lease, Outcome)>,
    ) -> Result<Vec<Settled>, StoreError> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        match self.write(Write::Settle(now_ms, outcomes))? {
            Reply::Settled(s) => Ok(s),
            _ => Err(unexpected()),
        }
    }

    fn next_ready(&self) -> Result<Option<u64>, StoreError> {
        const R: &str = "reading the log";
        let db = self.shared.db()?;
        let leases = lock(&self.shared.leases);
        let tx = db.begin_read().ctx(R)?;
        let ready = tx.open_table(LOG_READY).ctx(R)?;
        let mut unleased = None;
        for row in ready.iter().ctx(R)? {
            let (k, _) = row.ctx(R)?;
            let (due, id) = k.value();
            if !leases.held.contains_key(&id) {
                unleased = Some(due);
                break;
            }
        }
        let deadline = leases
            .held
            .values()
            .filter(|h| !h.settling)
            .map(|h| h.until_ms)
            .min();
        Ok(match (unleased, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    fn pending(&self) -> Result<u64, StoreError> {
        self.read("reading the log", |tx| {
            let table = tx.open_table(LOG_DELIVERIES).ctx("reading the log")?;
            table.len().ctx("reading the log")
        })
    }
}

impl QueueStore for RedbStore {
    fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<(QueueInfo, bool), StoreError> {
        match self.write(Write::CreateQueue(name.to_string(), attributes, now_ms))? {
            Reply::Queue(info, created) => Ok((info, created)),
            _ => Err(unexpected()),
        }
    }

    fn set_queue_attributes(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<QueueInfo, StoreError> {
        match self.write(Write::SetQueueAttributes(
            name.to_string(),
            attributes,
            now_ms,
        ))? {
            Reply::Info(info) => Ok(info),
            _ => Err(unexpected()),
        }
    }

    fn delete_queue(&self, name: &str) -> Result<(), StoreError> {
        self.write(Write::DeleteQueue(name.to_string())).map(|_| ())
    }

    fn queue(&self, name: &str) -> Result<Option<QueueInfo>, StoreError> {
        self.read("reading a queue", |tx| {
            let table = tx.open_table(QUEUES).ctx("reading a queue")?;
            match table.get(name).ctx("reading a queue")? {
                Some(v) => Ok(Some(decode::<StoredQueue>(v.value(), "a queue")?.info)),
                None => Ok(None),
            }
        })
    }

    fn queues(&self) -> Result<Vec<QueueInfo>, StoreError> {
        const Q: &str = "listing queues";
        self.read(Q, |tx| {
            let table = tx.open_table(QUEUES).ctx(Q)?;
            let mut out = Vec::new();
            for row in table.iter().ctx(Q)? {
                let (_, v) = row.ctx(Q)?;
                out.push(decode::<StoredQueue>(v.value(), "a queue")?.info);
            }
            Ok(out)
        })
    }

    fn send(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
        now_ms: u64,
    ) -> Result<Vec<u64>, StoreError> {
        match self.write(Write::Send(queue.to_string(), messages, now_ms))? {
            Reply::Seqs(s) => Ok(s),
            _ => Err(unexpected()),
        }
    }

    fn receive(
        &self,
        queue: &str,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    ) -> Result<Vec<Received>, StoreError> {
        match self.write(Write::Receive {
            queue: queue.to_string(),
            now_ms,
            max,
            visibility_ms,
        })? {
            Reply::Received(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    fn delete_message(&self, queue: &str, receipt: &str) -> Result<Deletion, StoreError> {
        match self.write(Write::DeleteMessage(queue.to_string(), receipt.to_string()))? {
            Reply::Deletion(d) => Ok(d),
            _ => Err(unexpected()),
        }
    }

    fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        now_ms: u64,
        visibility_ms: u64,
    ) -> Result<VisibilityChange, StoreError> {
        match self.write(Write::ChangeVisibility(
            queue.to_string(),
            receipt.to_string(),
            now_ms,
            visibility_ms,
        ))? {
            Reply::Visibility(v) => Ok(v),
            _ => Err(unexpected()),
        }
    }

    fn purge(&self, queue: &str) -> Result<u64, StoreError> {
        match self.write(Write::Purge(queue.to_string()))? {
            Reply::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }

    fn counts(&self, queue: &str, now_ms: u64) -> Result<QueueCounts, StoreError> {
        const C: &str = "counting messages";
        self.read(C, |tx| {
            let qid = queue_id(tx, queue)?;
            let table = tx.open_table(QUEUE_STATE).ctx(C)?;
            let mut counts = QueueCounts::default();
            for row in table.range((qid, 0)..=(qid, u64::MAX)).ctx(C)? {
                let (_, v) = row.ctx(C)?;
                let (visible, count, _, _) = v.value();
                if visible <= now_ms {
                    counts.visible += 1;
                } else if count > 0 {
                    counts.in_flight += 1;
                } else {
                    counts.delayed += 1;
                }
            }
            Ok(counts)
        })
    }

    fn messages(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError> {
        const M: &str = "reading messages";
        self.read(M, |tx| {
            let qid = queue_id(tx, queue)?;
            let table = tx.open_table(QUEUE_MESSAGES).ctx(M)?;
            let mut out = Vec::new();
            for row in table.range((qid, 0)..=(qid, u64::MAX)).ctx(M)?.take(limit) {
                let (_, v) = row.ctx(M)?;
                out.push(decode_message(v.value())?);
            }
            Ok(out)
        })
    }
}

fn queue_id(tx: &redb::ReadTransaction, queue: &str) -> Result<u64, StoreError> {
    let table = tx.open_table(QUEUES).ctx("reading a queue")?;
    match table.get(queue).ctx("reading a queue")? {
        Some(v) => Ok(decode::<StoredQueue>(v.value(), "a queue")?.id),
        None => Err(no_queue(queue)),
    }
}

impl MetadataStore for RedbStore {
    fn put(
        &self,
        kind: &str,
        name: &str,
        value: Option<Vec<u8>>,
        expect: Expect,
    ) -> Result<u64, StoreError> {
        match self.write(Write::Put(
            kind.to_string(),
            name.to_string(),
            value,
            expect,
        ))? {
            Reply::Count(v) => Ok(v),
            _ => Err(unexpected()),
        }
    }

    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>, StoreError> {
        const G: &str = "reading metadata";
        self.read(G, |tx| {
            let table = tx.open_table(META_RECORDS).ctx(G)?;
            Ok(table.get((kind, name)).ctx(G)?.and_then(|v| {
                let (version, value) = v.value();
                value.map(|value| Record {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    value: value.to_vec(),
                    version,
                })
            }))
        })
    }

    fn list(&self, kind: &str) -> Result<Vec<Record>, StoreError> {
        const L: &str = "listing metadata";
        self.read(L, |tx| {
            let table = tx.open_table(META_RECORDS).ctx(L)?;
            let mut out = Vec::new();
            for row in table.range((kind, "")..).ctx(L)? {
                let (k, v) = row.ctx(L)?;
                let (k, name) = k.value();
                if k != kind {
                    break;
                }
                let (version, value) = v.value();
                if let Some(value) = value {
                    out.push(Record {
                        kind: kind.to_string(),
                        name: name.to_string(),
                        value: value.to_vec(),
                        version,
                    });
                }
            }
            Ok(out)
        })
    }

    fn version(&self) -> Result<u64, StoreError> {
        self.read("reading metadata", |tx| {
            let table = tx.open_table(COUNTERS).ctx("reading metadata")?;
            Ok(table
                .get("version")
                .ctx("reading metadata")?
                .map_or(0, |v| v.value()))
        })
    }

    fn changes_since(&self, since: u64) -> Result<Vec<Change>, StoreError> {
        const C: &str = "reading metadata changes";
        self.read(C, |tx| {
            let changes = tx.open_table(META_CHANGES).ctx(C)?;
            let records = tx.open_table(META_RECORDS).ctx(C)?;
            let mut out = Vec::new();
            for row in changes.range(since.saturating_add(1)..).ctx(C)? {
                let (k, v) = row.ctx(C)?;
                let (kind, name) = v.value();
                let value = match records.get((kind, name)).ctx(C)? {
                    Some(r) => r.value().1.map(<[u8]>::to_vec),
                    None => None,
                };
                out.push(Change {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    value,
                    version: k.value(),
                });
            }
            Ok(out)
        })
    }
}

impl EventArchive for RedbStore {
    fn archive(&self, events: Vec<ArchivedEvent>) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        match self.write(Write::Ingest(events, Vec::new(), Vec::new(), Vec::new(), 0))? {
            Reply::Ingested(_, new, _) => Ok(new),
            _ => Err(unexpected()),
        }
    }

    fn event(&self, id: &str) -> Result<Option<ArchivedEvent>, StoreError> {
        const E: &str = "reading the archive";
        self.read(E, |tx| {
            let ids = tx.open_table(ARCHIVE_IDS).ctx(E)?;
            let Some(time_ms) = ids.get(id).ctx(E)?.map(|v| v.value().0) else {
                return Ok(None);
            };
            let table = tx.open_table(ARCHIVE).ctx(E)?;
            Ok(table.get((time_ms, id)).ctx(E)?.map(|v| {
                let (bus, body) = v.value();
                ArchivedEvent {
                    id: id.to_string(),
                    bus: bus.to_string(),
                    time_ms,
                    body: body.to_vec(),
                }
            }))
        })
    }

    fn events(
        &self,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, StoreError> {
        const E: &str = "reading the archive";
        self.read(E, |tx| {
            let archive = tx.open_table(ARCHIVE).ctx(E)?;
            let mut out = Vec::new();
            for row in archive.range((from_ms, "")..).ctx(E)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = row.ctx(E)?;
                let (time_ms, id) = k.value();
                if time_ms >= to_ms {
                    break;
                }
                if after.is_some_and(|a| (time_ms, id) <= a) {
                    continue;
                }
                let (bus, body) = v.value();
                out.push(ArchivedEvent {
                    id: id.to_string(),
                    bus: bus.to_string(),
                    time_ms,
                    body: body.to_vec(),
                });
            }
            Ok(out)
        })
    }

    fn prune(&self, before_ms: u64) -> Result<u64, StoreError> {
        match self.write(Write::Prune(before_ms))? {
            Reply::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }

    fn add_members(&self, members: Vec<ArchiveMember>) -> Result<u64, StoreError> {
        if members.is_empty() {
            return Ok(0);
        }
        match self.write(Write::Ingest(
            Vec::new(),
            members,
            Vec::new(),
            Vec::new(),
            0,
        ))? {
            Reply::Ingested(_, new, _) => Ok(new),
            _ => Err(unexpected()),
        }
    }

    fn members(
        &self,
        archive: &str,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<(u64, ArchivedEvent)>, StoreError> {
        const E: &str = "reading an archive";
        self.read(E, |tx| {
            let members = tx.open_table(ARCHIVE_MEMBERS).ctx(E)?;
            let ids = tx.open_table(ARCHIVE_IDS).ctx(E)?;
            let events = tx.open_table(ARCHIVE).ctx(E)?;
            let start = match after {
                Some((t, id)) if t >= from_ms => (archive, t, id),
                _ => (archive, from_ms, ""),
            };
            let mut out = Vec::new();
            for row in members.range(start..).ctx(E)? {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = row.ctx(E)?;
                let (a, t, id) = k.value();
                if a != archive || t >= to_ms {
                    break;
                }
                if after.is_some_and(|x| (t, id) <= x) {
                    continue;
                }
                let Some(time_ms) = ids.get(id).ctx(E)?.map(|v| v.value().0) else {
                    continue;
                };
                if let Some(v) = events.get((time_ms, id)).ctx(E)? {
                    let (bus, body) = v.value();
                    out.push((
                        t,
                        ArchivedEvent {
                            id: id.to_string(),
                            bus: bus.to_string(),
                            time_ms,
                            body: body.to_vec(),
                        },
                    ));
                }
            }
            Ok(out)
        })
    }

    fn archive_stats(&self, archive: &str) -> Result<ArchiveStats, StoreError> {
        const E: &str = "reading an archive";
        self.read(E, |tx| {
            let stats = tx.open_table(ARCHIVE_STATS).ctx(E)?;
            Ok(stats
                .get(archive)
                .ctx(E)?
                .map_or_else(ArchiveStats::default, |v| {
                    let (events, bytes) = v.value();
                    ArchiveStats { events, bytes }
                }))
        })
    }

    fn expire_members(&self, archive: &str, before_ms: u64) -> Result<u64, StoreError> {
        // Most calls find nothing to expire: a read says so without a commit.
        const E: &str = "reading an archive";
        let due = self.read(E, |tx| {
            let members = tx.open_table(ARCHIVE_MEMBERS).ctx(E)?;
            Ok(match members.range((archive, 0, "")..).ctx(E)?.next() {
                Some(row) => {
                    let (k, _) = row.ctx(E)?;
                    let (a, t, _) = k.value();
                    a == archive && (before_ms == u64::MAX || t < before_ms)
                }
                None => false,
            })
        })?;
        if !due {
            return Ok(0);
        }
        match self.write(Write::Expire(archive.to_string(), before_ms))? {
            Reply::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }
}

impl Store for RedbStore {
    fn ingest(
        &self,
        events: Vec<ArchivedEvent>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        if events.is_empty() && deliveries.is_empty() {
            return Ok(Vec::new());
        }
        match self.write(Write::Ingest(events, Vec::new(), deliveries, Vec::new(), 0))? {
            Reply::Ingested(ids, _, _) => Ok(ids),
            _ => Err(unexpected()),
        }
    }

    fn ingest_archived(
        &self,
        events: Vec<ArchivedEvent>,
        members: Vec<ArchiveMember>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        self.ingest_sending(events, members, deliveries, Vec::new(), 0)
            .map(|(ids, _)| ids)
    }

    fn ingest_sending(
        &self,
        events: Vec<ArchivedEvent>,
        members: Vec<ArchiveMember>,
        deliveries: Vec<NewDelivery>,
        sends: Vec<(String, NewMessage)>,
        now_ms: u64,
    ) -> Result<(Vec<DeliveryId>, Vec<bool>), StoreError> {
        if events.is_empty() && members.is_empty() && deliveries.is_empty() && sends.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        match self.write(Write::Ingest(events, members, deliveries, sends, now_ms))? {
            Reply::Ingested(ids, _, sent) => Ok((ids, sent)),
            _ => Err(unexpected()),
        }
    }

    fn faults(&self) -> Vec<Fault> {
        self.shared.health.faults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_field() -> Delivery {
        let mut d = Delivery::new(
            "ev-1",
            "bus",
            "rule",
            "arn:aws:sqs:r:1:q",
            "{\"a\":\"\\\"é\\u0000\"}",
        );
        d.rule_arn = "arn:aws:events:r:1:rule/rule".into();
        d.target_id = "t".into();
        d.max_retries = 7;
        d.max_age_ms = u64::MAX;
        d.dead_letter_arn = Some("arn:aws:sqs:r:1:dlq".into());
        d.ingested_ms = 1_700_000_000_123;
        d.attempts = u32::MAX;
        d.last_error = Some("HTTP 503: \"busy\"\n".into());
        d.principal = Some("AKID".into());
        d.message_group_id = Some("g".into());
        d
    }

    #[test]
    fn binary_delivery_rows_round_trip_every_field() {
        let full = every_field();
        let bytes = encode_delivery(&full, false).expect("encode");
        assert_eq!(bytes[0], BIN_FULL);
        assert_eq!(
            decode_stored(&bytes).expect("decode"),
            (false, full.clone())
        );
        assert_eq!(event_of(&bytes).expect("event"), "ev-1");
        // No copy of a whole event's payload in its row.
        let whole = encode_delivery(&full, true).expect("encode");
        assert_eq!(whole[0], BIN_WHOLE_EVENT);
        assert!(whole.len() + full.payload.len() <= bytes.len());
        let (is_whole, mut d) = decode_stored(&whole).expect("decode");
        assert!(is_whole);
        assert_eq!(d.payload, "");
        d.payload.clone_from(&full.payload);
        assert_eq!(d, full);
        let bare = Delivery::new("e", "b", "r", "t", "p");
        let bytes = encode_delivery(&bare, false).expect("encode");
        assert_eq!(decode_stored(&bytes).expect("decode").1, bare);
    }

    #[test]
    fn json_delivery_rows_still_decode() {
        let full = every_field();
        let mut row = vec![FULL];
        row.extend(serde_json::to_vec(&full).expect("json"));
        assert_eq!(decode_stored(&row).expect("decode"), (false, full.clone()));
        assert_eq!(event_of(&row).expect("event"), "ev-1");
        row[0] = WHOLE_EVENT;
        assert!(decode_stored(&row).expect("decode").0);
    }

    #[test]
    fn corrupt_rows_are_errors_not_panics() {
        let bytes = encode_delivery(&every_field(), false).expect("encode");
        for cut in 0..bytes.len() {
            let short = &bytes[..cut];
            assert!(decode_stored(short).is_err(), "cut at {cut}");
        }
        assert!(event_of(&[]).is_err());
        assert!(event_of(&[BIN_FULL, 0xff]).is_err());
        assert!(decode_stored(&[9, 1, 2]).is_err());
        let m = encode_message(&QueueMessage {
            seq: 1,
            body: "b".into(),
            attributes: vec![("k".into(), "v".into())],
            sent_ms: 2,
            group_id: None,
            dedup_id: None,
        })
        .expect("encode");
        for cut in 0..m.len() {
            assert!(decode_message(&m[..cut]).is_err(), "cut at {cut}");
        }
        // Invalid UTF-8 in a string is refused.
        let mut bad =
            encode_delivery(&Delivery::new("e", "b", "r", "t", "p"), false).expect("encode");
        let at = bad.iter().position(|&b| b == b'p').expect("payload");
        bad[at] = 0xff;
        assert!(decode_stored(&bad).is_err());
    }

    #[test]
    fn binary_messages_round_trip_and_json_ones_still_decode() {
        let m = QueueMessage {
            seq: 42,
            body: "{\"detail\":\"\\\"x\\\" é\"}".into(),
            attributes: vec![("RULE_ARN".into(), "a".into()), ("E".into(), String::new())],
            sent_ms: 9,
            group_id: Some("g".into()),
            dedup_id: Some("d".into()),
        };
        let bytes = encode_message(&m).expect("encode");
        assert_eq!(bytes[0], BIN_MESSAGE);
        // The body is stored as it is, not escaped.
        assert!(bytes.windows(m.body.len()).any(|w| w == m.body.as_bytes()));
        assert_eq!(decode_message(&bytes).expect("decode"), m);
        let json = serde_json::to_vec(&m).expect("json");
        assert_eq!(decode_message(&json).expect("decode"), m);
    }
}
