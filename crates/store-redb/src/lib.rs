//! The durable store on redb behind dispatch: the store trait, and the embedded redb store.
//!
//! Writes from many callers are batched by one writer thread into a single
//! transaction and a single sync (group commit), so the cost of durability
//! is paid once per batch, not once per event.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use ferrule_core::health::{Fault, Health};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use serde::{Deserialize, Serialize};

/// An (event, target) pair waiting for delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The event's id.
    pub event_id: String,
    /// The bus the event was put on.
    pub bus: String,
    /// The rule that matched.
    pub rule: String,
    /// The rule's ARN.
    pub rule_arn: String,
    /// The target's id within the rule.
    pub target_id: String,
    /// Where to deliver.
    pub target_arn: String,
    /// Retries allowed after the first attempt.
    pub max_retries: u32,
    /// Oldest age (ms since ingestion) at which delivery is still attempted.
    pub max_age_ms: u64,
    /// Where to send the event when delivery fails for good.
    pub dead_letter_arn: Option<String>,
    /// The payload to deliver (already transformed).
    pub payload: String,
    /// The original event (the envelope), kept for the dead-letter queue.
    pub event: String,
    /// When the event was accepted (ms since the epoch).
    pub ingested_ms: u64,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// The access key of the caller who put the event (`None`: the bus's
    /// own account), for targets that act on the caller's behalf.
    #[serde(default)]
    pub principal: Option<String>,
}

/// Where a pending delivery sits in the queue: due time, then sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey {
    /// When it is due (ms since the epoch).
    pub due_ms: u64,
    /// A unique, increasing number.
    pub seq: u64,
}

/// A delivery that failed for good and the reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The delivery, as it was when it failed.
    pub delivery: Delivery,
    /// The error code (`ERROR_FROM_TARGET`, `CONNECTION_FAILURE`, …).
    pub error_code: String,
    /// The error message.
    pub error_message: String,
    /// `MaximumRetryAttempts` or `MaximumEventAgeInSeconds` when a retry
    /// limit ended delivery; `None` for errors that are not retried.
    pub exhausted_retry_condition: Option<String>,
    /// When it was dead-lettered (ms since the epoch).
    pub at_ms: u64,
}

/// What became of a delivery attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Settlement {
    /// Delivered: remove it.
    Done(DeliveryKey),
    /// Delivered into built-in queue `queue`: add the message and remove
    /// the delivery in one transaction.
    Enqueue {
        /// The current key.
        key: DeliveryKey,
        /// The queue.
        queue: String,
        /// The message (its `seq` is assigned by the store).
        message: QueueMessage,
    },
    /// Try again at `due_ms`.
    Retry {
        /// The current key.
        key: DeliveryKey,
        /// The next attempt's due time.
        due_ms: u64,
        /// The updated delivery (attempts, last error).
        delivery: Delivery,
    },
    /// Give up: remove it, and record it as a dead letter in queue `queue`
    /// (the delivery's dead-letter target) if any.
    Fail {
        /// The current key.
        key: DeliveryKey,
        /// The dead letter to record, if the target has a dead-letter queue.
        dead_letter: Option<(String, DeadLetter)>,
    },
}

/// Why the store failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// A message in a built-in queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueMessage {
    /// Its sequence number within the store.
    pub seq: u64,
    /// The body.
    pub body: String,
    /// String attributes (dead letters carry `RULE_ARN`, `ERROR_CODE`, …).
    pub attributes: Vec<(String, String)>,
    /// When it was sent (ms since the epoch).
    pub sent_ms: u64,
}

/// The durable queue and the state that must survive a restart. ferrule's
/// embedded implementation is [`RedbStore`]; another engine (a replicated
/// log, a database) can stand behind this trait.
pub trait DispatchStore: Send + Sync + 'static {
    /// Adds deliveries, durably (as configured) before returning; returns their keys.
    fn append(&self, deliveries: Vec<(u64, Delivery)>) -> Result<Vec<DeliveryKey>, StoreError>;
    /// Up to `limit` deliveries due at `now_ms`, earliest first, skipping keys `skip` rejects.
    fn due(
        &self,
        now_ms: u64,
        limit: usize,
        skip: &dyn Fn(&DeliveryKey) -> bool,
    ) -> Result<Vec<(DeliveryKey, Delivery)>, StoreError>;
    /// The due time of the earliest pending delivery.
    fn next_due(&self) -> Result<Option<u64>, StoreError>;
    /// Applies the outcomes of delivery attempts.
    fn settle(&self, outcomes: Vec<Settlement>) -> Result<(), StoreError>;
    /// The number of pending deliveries.
    fn pending(&self) -> Result<u64, StoreError>;
    /// Appends messages to built-in queue `queue`; returns their sequence numbers.
    fn queue_send(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<Vec<u64>, StoreError>;
    /// Messages of queue `queue`, oldest first.
    fn queue_messages(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError>;
    /// Removes messages from queue `queue`.
    fn queue_delete(&self, queue: &str, seqs: &[u64]) -> Result<(), StoreError>;
    /// Removes every message of queue `queue`.
    fn queue_purge(&self, queue: &str) -> Result<(), StoreError>;
    /// Stores a configuration document (buses, rules) under `key`; `None` removes it.
    fn put_config(&self, key: &str, value: Option<String>) -> Result<(), StoreError>;
    /// Every configuration document whose key starts with `prefix`.
    fn configs(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// What does not work now (a write failing, the store reopening); empty
    /// when healthy. A store that cannot tell answers empty.
    fn faults(&self) -> Vec<Fault> {
        Vec::new()
    }
}

const PENDING: TableDefinition<(u64, u64), &str> = TableDefinition::new("pending");
const QUEUES: TableDefinition<(&str, u64), &str> = TableDefinition::new("queues");
const CONFIG: TableDefinition<&str, &str> = TableDefinition::new("config");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

enum Write {
    Append(Vec<(u64, Delivery)>),
    Settle(Vec<Settlement>),
    QueueSend(String, Vec<QueueMessage>),
    QueueDelete(String, Vec<u64>),
    QueuePurge(String),
    Config(String, Option<String>),
}

enum Reply {
    Keys(Vec<DeliveryKey>),
    Seqs(Vec<u64>),
    Done,
}

type Request = (Write, SyncSender<Result<Reply, StoreError>>);

/// The embedded store: one redb file, with group commit.
///
/// redb latches the first I/O error of a write (a full disk, typically): from
/// then on every write transaction fails with "Previous I/O error occurred.
/// Please close and re-open the database." until the database is reopened.
/// The writer thread therefore reopens it (with backoff) after such a
/// failure and probes it with a small commit; writes fail at once, with the
/// error, while the store is broken, and nothing is acknowledged that was not
/// committed. Reads use the current database.
pub struct RedbStore {
    shared: Arc<Shared>,
    writer: Mutex<Option<SyncSender<Request>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

struct Shared {
    path: PathBuf,
    /// `None` while a reopen has failed.
    db: RwLock<Option<Arc<Database>>>,
    health: Health,
}

impl Shared {
    fn db(&self) -> Result<Arc<Database>, StoreError> {
        let db = match self.db.read() {
            Ok(d) => d.clone(),
            Err(p) => p.into_inner().clone(),
        };
        db.ok_or_else(|| StoreError("the store is closed after an I/O error; reopening".into()))
    }

    fn set_db(&self, db: Option<Arc<Database>>) -> Option<Arc<Database>> {
        let mut slot = match self.db.write() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        std::mem::replace(&mut *slot, db)
    }
}

/// How the embedded store makes writes durable.
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

fn create_tables(db: &Database) -> Result<(), StoreError> {
    let tx = db.begin_write().map_err(err)?;
    tx.open_table(PENDING).map_err(err)?;
    tx.open_table(QUEUES).map_err(err)?;
    tx.open_table(CONFIG).map_err(err)?;
    tx.open_table(META).map_err(err)?;
    tx.commit().map_err(err)
}

impl RedbStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path, sync: SyncMode) -> Result<RedbStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let db = Database::create(path).map_err(err)?;
        create_tables(&db)?;
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            db: RwLock::new(Some(Arc::new(db))),
            health: Health::default(),
        });
        let (sender, receiver) = mpsc::sync_channel::<Request>(4096);
        let writer_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("ferrule-store-writer".into())
            .spawn(move || Writer::new(&writer_shared, sync).run(&receiver))
            .map_err(err)?;
        Ok(RedbStore {
            shared,
            writer: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn write(&self, write: Write) -> Result<Reply, StoreError> {
        let (reply, wait) = mpsc::sync_channel(1);
        let sender = self
            .writer
            .lock()
            .map_err(|_| StoreError("writer lock poisoned".into()))?
            .clone()
            .ok_or_else(|| StoreError("store is closed".into()))?;
        sender
            .send((write, reply))
            .map_err(|_| StoreError("store writer stopped".into()))?;
        wait.recv()
            .map_err(|_| StoreError("store writer stopped".into()))?
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
    /// Set after a write failed with the database unusable: the error, and
    /// when to try reopening it.
    broken: Option<(StoreError, Instant)>,
    delay: Duration,
}

impl<'a> Writer<'a> {
    fn new(shared: &'a Shared, sync: SyncMode) -> Writer<'a> {
        Writer {
            shared,
            sync,
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
            while batch.len() < 1024 {
                match requests.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            if let Some((e, _)) = &self.broken {
                self.shared.health.fail("store", &e.0);
                let e = StoreError(format!("cannot write ({})", e.0));
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.clone()));
                }
                continue;
            }
            let result = match self.shared.db() {
                Ok(db) => {
                    let result = apply_batch(&db, &batch, self.sync);
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
                        let _ = reply.send(Ok(r));
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
            self.shared.health.fail("store", &e.0);
            tracing::debug!(error = %now, "the store needs reopening");
            self.broken = Some((e.clone(), Instant::now() + self.delay));
        }
    }

    /// Closes and reopens the database, then probes it with a small commit.
    fn reopen(&mut self) {
        let Some((cause, _)) = self.broken.take() else {
            return;
        };
        let result = self.try_reopen();
        match result {
            Ok(()) => {
                self.delay = REOPEN_FIRST;
                self.shared.health.recover("store");
            }
            Err(e) => {
                self.shared.health.fail("store", &e.0);
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
        let db = Database::create(&self.shared.path).map_err(err)?;
        create_tables(&db)?;
        let db = Arc::new(db);
        self.shared.set_db(Some(Arc::clone(&db)));
        // A commit proves that the disk takes writes again.
        let mut tx = db.begin_write().map_err(err)?;
        if self.sync == SyncMode::Never {
            tx.set_durability(Durability::None).map_err(err)?;
        }
        {
            let mut meta = tx.open_table(META).map_err(err)?;
            meta.insert("probe", ferrule_core::health::now_ms())
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

fn next_seq(meta: &mut redb::Table<&str, u64>) -> Result<u64, StoreError> {
    let current = meta.get("seq").map_err(err)?.map_or(0, |v| v.value());
    meta.insert("seq", current + 1).map_err(err)?;
    Ok(current + 1)
}

/// Removes a pending delivery; whether it was there.
fn remove_pending(
    pending: &mut redb::Table<(u64, u64), &str>,
    key: &DeliveryKey,
) -> Result<bool, StoreError> {
    Ok(pending
        .remove((key.due_ms, key.seq))
        .map_err(err)?
        .is_some())
}

fn apply_batch(db: &Database, batch: &[Request], sync: SyncMode) -> Result<Vec<Reply>, StoreError> {
    let mut tx = db.begin_write().map_err(err)?;
    if sync == SyncMode::Never {
        tx.set_durability(Durability::None).map_err(err)?;
    }
    let mut replies = Vec::with_capacity(batch.len());
    {
        let mut pending = tx.open_table(PENDING).map_err(err)?;
        let mut queues = tx.open_table(QUEUES).map_err(err)?;
        let mut config = tx.open_table(CONFIG).map_err(err)?;
        let mut meta = tx.open_table(META).map_err(err)?;
        for (write, _) in batch {
            match write {
                Write::Append(items) => {
                    let mut keys = Vec::with_capacity(items.len());
                    for (due_ms, d) in items {
                        let seq = next_seq(&mut meta)?;
                        let text = serde_json::to_string(d).map_err(err)?;
                        pending.insert((*due_ms, seq), text.as_str()).map_err(err)?;
                        keys.push(DeliveryKey {
                            due_ms: *due_ms,
                            seq,
                        });
                    }
                    replies.push(Reply::Keys(keys));
                }
                Write::Settle(outcomes) => {
                    for outcome in outcomes {
                        match outcome {
                            Settlement::Done(key) => {
                                pending.remove((key.due_ms, key.seq)).map_err(err)?;
                            }
                            Settlement::Enqueue {
                                key,
                                queue,
                                message,
                            } => {
                                // Settling twice (a commit that failed after
                                // all, then retried) must not enqueue twice.
                                if !remove_pending(&mut pending, key)? {
                                    continue;
                                }
                                let seq = next_seq(&mut meta)?;
                                let mut m = message.clone();
                                m.seq = seq;
                                let text = serde_json::to_string(&m).map_err(err)?;
                                queues
                                    .insert((queue.as_str(), seq), text.as_str())
                                    .map_err(err)?;
                            }
                            Settlement::Retry {
                                key,
                                due_ms,
                                delivery,
                            } => {
                                if !remove_pending(&mut pending, key)? {
                                    continue;
                                }
                                let text = serde_json::to_string(delivery).map_err(err)?;
                                pending
                                    .insert((*due_ms, key.seq), text.as_str())
                                    .map_err(err)?;
                            }
                            Settlement::Fail { key, dead_letter } => {
                                if !remove_pending(&mut pending, key)? {
                                    continue;
                                }
                                if let Some((queue, letter)) = dead_letter {
                                    let seq = next_seq(&mut meta)?;
                                    let message = dead_letter_message(seq, letter);
                                    let text = serde_json::to_string(&message).map_err(err)?;
                                    queues
                                        .insert((queue.as_str(), seq), text.as_str())
                                        .map_err(err)?;
                                }
                            }
                        }
                    }
                    replies.push(Reply::Done);
                }
                Write::QueueSend(queue, messages) => {
                    let mut seqs = Vec::with_capacity(messages.len());
                    for m in messages {
                        let seq = next_seq(&mut meta)?;
                        let mut m = m.clone();
                        m.seq = seq;
                        let text = serde_json::to_string(&m).map_err(err)?;
                        queues
                            .insert((queue.as_str(), seq), text.as_str())
                            .map_err(err)?;
                        seqs.push(seq);
                    }
                    replies.push(Reply::Seqs(seqs));
                }
                Write::QueueDelete(queue, seqs) => {
                    for seq in seqs {
                        queues.remove((queue.as_str(), *seq)).map_err(err)?;
                    }
                    replies.push(Reply::Done);
                }
                Write::QueuePurge(queue) => {
                    // A row that cannot be read fails the purge (not skipped).
                    let seqs = queues
                        .range((queue.as_str(), 0)..=(queue.as_str(), u64::MAX))
                        .map_err(err)?
                        .map(|r| r.map(|(k, _)| k.value().1).map_err(err))
                        .collect::<Result<Vec<u64>, StoreError>>()?;
                    for seq in seqs {
                        queues.remove((queue.as_str(), seq)).map_err(err)?;
                    }
                    replies.push(Reply::Done);
                }
                Write::Config(key, value) => {
                    match value {
                        Some(v) => {
                            config.insert(key.as_str(), v.as_str()).map_err(err)?;
                        }
                        None => {
                            config.remove(key.as_str()).map_err(err)?;
                        }
                    }
                    replies.push(Reply::Done);
                }
            }
        }
    }
    tx.commit().map_err(err)?;
    Ok(replies)
}

/// A dead letter as a queue message: the original event as the body, and the
/// reason as attributes (the names EventBridge uses).
fn dead_letter_message(seq: u64, letter: &DeadLetter) -> QueueMessage {
    let d = &letter.delivery;
    let mut attributes = vec![
        ("RULE_ARN".to_string(), d.rule_arn.clone()),
        ("TARGET_ARN".to_string(), d.target_arn.clone()),
        ("ERROR_CODE".to_string(), letter.error_code.clone()),
        ("ERROR_MESSAGE".to_string(), letter.error_message.clone()),
        (
            "RETRY_ATTEMPTS".to_string(),
            d.attempts.saturating_sub(1).to_string(),
        ),
    ];
    if let Some(c) = &letter.exhausted_retry_condition {
        attributes.push(("EXHAUSTED_RETRY_CONDITION".to_string(), c.clone()));
    }
    QueueMessage {
        seq,
        body: d.event.clone(),
        attributes,
        sent_ms: letter.at_ms,
    }
}

impl DispatchStore for RedbStore {
    fn append(&self, deliveries: Vec<(u64, Delivery)>) -> Result<Vec<DeliveryKey>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        match self.write(Write::Append(deliveries))? {
            Reply::Keys(keys) => Ok(keys),
            _ => Err(StoreError("unexpected reply".into())),
        }
    }

    fn due(
        &self,
        now_ms: u64,
        limit: usize,
        skip: &dyn Fn(&DeliveryKey) -> bool,
    ) -> Result<Vec<(DeliveryKey, Delivery)>, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().map_err(err)?;
        let table = tx.open_table(PENDING).map_err(err)?;
        let mut out = Vec::new();
        for row in table.range((0, 0)..=(now_ms, u64::MAX)).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            let (due_ms, seq) = k.value();
            let key = DeliveryKey { due_ms, seq };
            if skip(&key) {
                continue;
            }
            let delivery: Delivery = serde_json::from_str(v.value()).map_err(err)?;
            out.push((key, delivery));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn next_due(&self) -> Result<Option<u64>, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().map_err(err)?;
        let table = tx.open_table(PENDING).map_err(err)?;
        let first = table.first().map_err(err)?;
        Ok(first.map(|(k, _)| k.value().0))
    }

    fn settle(&self, outcomes: Vec<Settlement>) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        self.write(Write::Settle(outcomes)).map(|_| ())
    }

    fn pending(&self) -> Result<u64, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().map_err(err)?;
        let table = tx.open_table(PENDING).map_err(err)?;
        table.len().map_err(err)
    }

    fn queue_send(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<Vec<u64>, StoreError> {
        match self.write(Write::QueueSend(queue.to_string(), messages))? {
            Reply::Seqs(s) => Ok(s),
            _ => Err(StoreError("unexpected reply".into())),
        }
    }

    fn queue_messages(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().map_err(err)?;
        let table = tx.open_table(QUEUES).map_err(err)?;
        let mut out = Vec::new();
        for row in table.range((queue, 0)..=(queue, u64::MAX)).map_err(err)? {
            let (_, v) = row.map_err(err)?;
            out.push(serde_json::from_str(v.value()).map_err(err)?);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn queue_delete(&self, queue: &str, seqs: &[u64]) -> Result<(), StoreError> {
        self.write(Write::QueueDelete(queue.to_string(), seqs.to_vec()))
            .map(|_| ())
    }

    fn queue_purge(&self, queue: &str) -> Result<(), StoreError> {
        self.write(Write::QueuePurge(queue.to_string())).map(|_| ())
    }

    fn put_config(&self, key: &str, value: Option<String>) -> Result<(), StoreError> {
        self.write(Write::Config(key.to_string(), value))
            .map(|_| ())
    }

    fn configs(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        let db = self.shared.db()?;
        let tx = db.begin_read().map_err(err)?;
        let table = tx.open_table(CONFIG).map_err(err)?;
        let mut out = Vec::new();
        for row in table.range(prefix..).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    fn faults(&self) -> Vec<Fault> {
        self.shared.health.faults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery {
            event_id: "e".into(),
            bus: "default".into(),
            rule: "r".into(),
            rule_arn: "arn:r".into(),
            target_id: "t".into(),
            target_arn: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            max_retries: 3,
            max_age_ms: 60_000,
            dead_letter_arn: None,
            payload: "{}".into(),
            event: "{}".into(),
            ingested_ms: 0,
            attempts: 1,
            last_error: None,
            principal: None,
        }
    }

    #[test]
    fn settling_twice_enqueues_and_reschedules_once() {
        let dir = std::env::temp_dir().join(format!("ferrule-store-twice-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = RedbStore::open(&dir.join("s.redb"), SyncMode::Never).unwrap();
        let keys = store
            .append(vec![(0, delivery()), (0, delivery())])
            .unwrap();
        let message = QueueMessage {
            seq: 0,
            body: "m".into(),
            attributes: Vec::new(),
            sent_ms: 0,
        };
        let outcomes = vec![
            Settlement::Enqueue {
                key: keys[0],
                queue: "q".into(),
                message,
            },
            Settlement::Retry {
                key: keys[1],
                due_ms: 5,
                delivery: delivery(),
            },
        ];
        // A retried settlement (the first commit failed after all, or not)
        // must not enqueue a second message or a second pending delivery.
        store.settle(outcomes.clone()).unwrap();
        store.settle(outcomes).unwrap();
        assert_eq!(store.queue_messages("q", 10).unwrap().len(), 1);
        assert_eq!(store.pending().unwrap(), 1);
        assert_eq!(store.due(5, 10, &|_| false).unwrap()[0].0.due_ms, 5);
        assert!(store.faults().is_empty());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
