//! SQS's AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`) over
//! ferrule's built-in queues, as boto3, the aws CLI and the current AWS
//! SDKs speak it.
//!
//! Messages are stored durably by the bus (`Bus::queue_*`); what SQS keeps
//! besides — which messages are in flight (invisible) under which receipt
//! handle, how often each was received, messages still delayed, and the
//! queue attributes set with `CreateQueue`/`SetQueueAttributes` — lives in
//! memory in [`SqsState`]. After a restart every stored message is visible
//! again, receive counts start over, and receipt handles issued before the
//! restart can still delete the message they name unless it has been
//! received again since.
//!
//! Queues are standard queues: FIFO queues, redrive policies and message
//! attributes on `SendMessage` are refused rather than silently dropped.
//! Messages stay until they are deleted (there is no retention period).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

mod request;

use self::request::{self as rq, Text};
use super::events::wire::{self, List, Map as WireMap, Obj};
use super::{ApiError, AppState};
use ferrule_bus::Bus;
use ferrule_dispatch::QueueMessage;

/// The default visibility timeout, in seconds.
const DEFAULT_VISIBILITY_TIMEOUT: u64 = 30;
/// The largest visibility timeout (12 hours), in seconds.
const MAX_VISIBILITY_TIMEOUT: u64 = 43_200;
/// The longest long poll, in seconds.
const MAX_WAIT_SECONDS: u64 = 20;
/// The longest delay, in seconds.
const MAX_DELAY_SECONDS: u64 = 900;
/// The default (and, unless a queue says otherwise, largest) message size.
const DEFAULT_MAX_MESSAGE_SIZE: u64 = 262_144;
/// The range of `MaximumMessageSize`.
const MIN_MAX_MESSAGE_SIZE: u64 = 1_024;
const MAX_MAX_MESSAGE_SIZE: u64 = 1_048_576;
/// How often a long poll looks at the store.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// The most entries of a batch request, and the most messages of a receive.
const MAX_BATCH: usize = 10;
/// Length of a receipt handle: seq, boot id, queue tag and nonce in hex.
const HANDLE_LEN: usize = 16 + 16 + 8 + 32;

/// What SQS keeps in memory beside the stored messages.
#[derive(Default)]
pub(crate) struct SqsState {
    boot: BootId,
    /// Numbers listings of the store.
    listings: AtomicU64,
    queues: Mutex<HashMap<String, QueueState>>,
}

/// A random id of this run, written into receipt handles so that handles
/// of different runs never coincide.
struct BootId(u64);

impl Default for BootId {
    fn default() -> BootId {
        BootId(uuid::Uuid::new_v4().as_u128() as u64)
    }
}

#[derive(Default)]
struct QueueState {
    /// Received, delayed or just deleted messages by sequence number.
    inflight: BTreeMap<u64, InFlight>,
    settings: Settings,
    /// When the queue was last purged: listings taken before are stale.
    purged_at: Option<Instant>,
    /// Listings of the store under way, with when each began.
    listings: HashMap<u64, Instant>,
    /// When the queue was created (seconds since the epoch), if in this run.
    created_s: Option<u64>,
    /// When its attributes were last set (seconds since the epoch).
    modified_s: Option<u64>,
}

/// A message that was received, sent with a delay, or deleted.
///
/// A deleted message keeps its record (a tombstone) while a listing of the
/// store begun before the deletion is under way: a receive that listed the
/// queue just before must not hand the message out again.
struct InFlight {
    /// The receipt handle of the latest receive; `None` while only delayed.
    handle: Option<String>,
    /// When the message may be received again.
    visible_at: Instant,
    receive_count: u32,
    /// When it was first received (ms since the epoch; 0: never).
    first_receive_ms: u64,
    /// Deleted from the store.
    deleted: bool,
    /// When the record was made or last changed state.
    since: Instant,
}

impl InFlight {
    fn new(now: Instant) -> InFlight {
        InFlight {
            handle: None,
            visible_at: now,
            receive_count: 0,
            first_receive_ms: 0,
            deleted: false,
            since: now,
        }
    }

    /// Whether a receive must pass the message by.
    fn hidden(&self, now: Instant) -> bool {
        self.deleted || self.visible_at > now
    }
}

/// Queue attributes that change behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Settings {
    visibility_timeout: u64,
    wait_seconds: u64,
    delay_seconds: u64,
    max_message_size: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            wait_seconds: 0,
            delay_seconds: 0,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

/// Queue attributes given to `CreateQueue` or `SetQueueAttributes`.
#[derive(Default)]
struct SettingsUpdate {
    visibility_timeout: Option<u64>,
    wait_seconds: Option<u64>,
    delay_seconds: Option<u64>,
    max_message_size: Option<u64>,
}

impl SettingsUpdate {
    fn is_empty(&self) -> bool {
        self.visibility_timeout.is_none()
            && self.wait_seconds.is_none()
            && self.delay_seconds.is_none()
            && self.max_message_size.is_none()
    }

    fn apply(&self, s: &mut Settings) {
        s.visibility_timeout = self.visibility_timeout.unwrap_or(s.visibility_timeout);
        s.wait_seconds = self.wait_seconds.unwrap_or(s.wait_seconds);
        s.delay_seconds = self.delay_seconds.unwrap_or(s.delay_seconds);
        s.max_message_size = self.max_message_size.unwrap_or(s.max_message_size);
    }
}

/// What a receipt handle refers to.
#[derive(Debug, PartialEq, Eq)]
enum HandleCheck {
    /// The latest handle of an in-flight (or once received) message.
    Current(u64),
    /// The latest handle of a message deleted moments ago.
    Deleted(u64),
    /// A well-formed handle with no record: issued by an earlier run, or its
    /// message is already deleted.
    Unrecorded(u64),
    /// Not a handle of this queue, or superseded by a later receive.
    Invalid,
}

/// A message claimed by a receive.
struct Claimed {
    message: QueueMessage,
    handle: String,
    receive_count: u32,
    first_receive_ms: u64,
}

impl SqsState {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, QueueState>> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settings(&self, queue: &str) -> Settings {
        self.lock()
            .get(queue)
            .map(|q| q.settings)
            .unwrap_or_default()
    }

    /// Messages of `queue` a receive must pass by now.
    fn hidden_count(&self, queue: &str, now: Instant) -> usize {
        self.lock()
            .get(queue)
            .map_or(0, |q| q.inflight.values().filter(|m| m.hidden(now)).count())
    }

    fn new_handle(&self, queue: &str, seq: u64) -> String {
        format!(
            "{seq:016x}{:016x}{:08x}{:032x}",
            self.boot.0,
            queue_tag(queue),
            uuid::Uuid::new_v4().as_u128()
        )
    }

    /// Takes up to `max` visible messages of `listing`, making them
    /// invisible for `visibility`.
    fn claim(
        &self,
        queue: &str,
        mut listing: Listing<'_>,
        max: usize,
        visibility: Duration,
    ) -> Vec<Claimed> {
        let now_ms = epoch_ms();
        let mut queues = self.lock();
        let now = Instant::now();
        let q = queues.entry(queue.to_string()).or_default();
        settle(q, &mut listing);
        if q.purged_at.is_some_and(|p| listing.started <= p) {
            return Vec::new();
        }
        let mut claimed = Vec::new();
        for message in listing.messages {
            if claimed.len() >= max {
                break;
            }
            if q.inflight.get(&message.seq).is_some_and(|m| m.hidden(now)) {
                continue;
            }
            let handle = self.new_handle(queue, message.seq);
            let record = q
                .inflight
                .entry(message.seq)
                .or_insert_with(|| InFlight::new(now));
            record.handle = Some(handle.clone());
            record.visible_at = now + visibility;
            record.since = now;
            record.receive_count += 1;
            if record.first_receive_ms == 0 {
                record.first_receive_ms = now_ms;
            }
            claimed.push(Claimed {
                handle,
                receive_count: record.receive_count,
                first_receive_ms: record.first_receive_ms,
                message,
            });
        }
        claimed
    }

    fn check_handle(&self, queue: &str, handle: &str) -> HandleCheck {
        let Some((seq, _boot, tag)) = parse_handle(handle) else {
            return HandleCheck::Invalid;
        };
        if tag != queue_tag(queue) {
            return HandleCheck::Invalid;
        }
        let queues = self.lock();
        match queues.get(queue).and_then(|q| q.inflight.get(&seq)) {
            None => HandleCheck::Unrecorded(seq),
            Some(m) if m.handle.as_deref() == Some(handle) => {
                if m.deleted {
                    HandleCheck::Deleted(seq)
                } else {
                    HandleCheck::Current(seq)
                }
            }
            // Superseded by a later receive, or delayed and never received.
            Some(_) => HandleCheck::Invalid,
        }
    }

    /// Records deleted messages (unless received again meanwhile).
    fn forget(&self, queue: &str, deleted: &[(u64, String)]) {
        let mut queues = self.lock();
        let now = Instant::now();
        let q = queues.entry(queue.to_string()).or_default();
        for (seq, handle) in deleted {
            let record = q.inflight.entry(*seq).or_insert_with(|| InFlight::new(now));
            if record.handle.is_none() || record.handle.as_deref() == Some(handle.as_str()) {
                record.handle = Some(handle.clone());
                record.deleted = true;
                record.since = now;
            }
        }
    }

    fn delay(&self, queue: &str, seqs: &[(u64, u64)]) {
        let now = Instant::now();
        let mut queues = self.lock();
        let q = queues.entry(queue.to_string()).or_default();
        for &(seq, delay) in seqs {
            if delay > 0 {
                let mut record = InFlight::new(now);
                record.visible_at = now + Duration::from_secs(delay);
                q.inflight.insert(seq, record);
            }
        }
    }

    fn purged(&self, queue: &str) {
        let mut queues = self.lock();
        let q = queues.entry(queue.to_string()).or_default();
        q.inflight.clear();
        q.purged_at = Some(Instant::now());
    }

    /// Records a listing of `queue` about to begin.
    fn register(&self, queue: &str) -> Ticket<'_> {
        let id = self.listings.fetch_add(1, Ordering::Relaxed);
        let mut queues = self.lock();
        let started = Instant::now();
        queues
            .entry(queue.to_string())
            .or_default()
            .listings
            .insert(id, started);
        Ticket {
            sqs: self,
            queue: queue.to_string(),
            id,
            started,
            armed: true,
        }
    }
}

/// A listing under way; dropped unsettled (its request abandoned), it
/// deregisters itself.
struct Ticket<'a> {
    sqs: &'a SqsState,
    queue: String,
    id: u64,
    started: Instant,
    armed: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Some(q) = self.sqs.lock().get_mut(&self.queue)
        {
            q.listings.remove(&self.id);
        }
    }
}

/// The first messages of a queue as listed from the store.
struct Listing<'a> {
    messages: Vec<QueueMessage>,
    /// When the listing began.
    started: Instant,
    /// Whether it holds every message of the queue.
    complete: bool,
    ticket: Ticket<'a>,
}

/// Lists the first `limit` messages of `queue`.
async fn list<'a>(state: &'a AppState, queue: &str, limit: usize) -> Result<Listing<'a>, ApiError> {
    let ticket = state.sqs.register(queue);
    let owned = queue.to_string();
    let messages = blocking(state, move |bus| Ok(bus.queue_messages(&owned, limit)?)).await?;
    Ok(Listing {
        complete: messages.len() < limit,
        messages,
        started: ticket.started,
        ticket,
    })
}

/// Ends `listing` (under the lock) and drops the records it shows are no
/// longer needed.
///
/// A tombstone goes once no listing begun before the deletion is under
/// way. The record of a message no longer stored (deleted under another
/// receipt handle) goes once a listing that covers it (is complete, or
/// lists a later message) and began after the record was made does not
/// hold it, and no other listing is under way.
fn settle(q: &mut QueueState, listing: &mut Listing<'_>) {
    listing.ticket.armed = false;
    q.listings.remove(&listing.ticket.id);
    let oldest = q
        .listings
        .values()
        .copied()
        .chain([listing.started])
        .min()
        .unwrap_or(listing.started);
    let others = !q.listings.is_empty();
    let last = listing.messages.last().map(|m| m.seq);
    let present: HashSet<u64> = listing.messages.iter().map(|m| m.seq).collect();
    q.inflight.retain(|seq, record| {
        if record.deleted {
            return oldest <= record.since;
        }
        let covered = listing.complete || last.is_some_and(|l| *seq < l);
        others || !covered || record.since >= listing.started || present.contains(seq)
    });
}

// ---- errors ----

fn sqs_error(type_name: &str, query_code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(400, &format!("com.amazonaws.sqs#{type_name}"), message)
        .with_header("x-amzn-query-error", format!("{query_code};Sender"))
}

fn no_queue() -> ApiError {
    sqs_error(
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
}

fn invalid(message: impl Into<String>) -> ApiError {
    sqs_error("InvalidParameterValue", "InvalidParameterValue", message)
}

fn missing(parameter: &str) -> ApiError {
    sqs_error(
        "MissingParameter",
        "MissingParameter",
        format!("The request must contain the parameter {parameter}."),
    )
}

fn invalid_handle(handle: &str) -> ApiError {
    sqs_error(
        "ReceiptHandleIsInvalid",
        "ReceiptHandleIsInvalid",
        format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
    )
}

fn not_inflight() -> ApiError {
    sqs_error(
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "The message referred to isn't in flight.",
    )
}

fn invalid_attribute_name(name: &str) -> ApiError {
    sqs_error(
        "InvalidAttributeName",
        "InvalidAttributeName",
        format!("Unknown Attribute {name}."),
    )
}

fn invalid_attribute_value(name: &str, reason: &str) -> ApiError {
    sqs_error(
        "InvalidAttributeValue",
        "InvalidAttributeValue",
        format!("Invalid value for the parameter {name}. Reason: {reason}"),
    )
}

fn no_fifo() -> ApiError {
    invalid(
        "ferrule's built-in queues are standard queues: FIFO queues (and their \
         attributes and parameters) are not supported.",
    )
}

fn internal(message: impl Into<String>) -> ApiError {
    ApiError::new(500, "com.amazonaws.sqs#InternalError", message)
        .with_header("x-amzn-query-error", "InternalError;Receiver")
}

// ---- parameters ----

/// Reads an operation's request model (wrong JSON types are a
/// `SerializationException`).
fn read<T: serde::de::DeserializeOwned>(input: &Value) -> Result<T, ApiError> {
    wire::read(input, rq::SERIALIZATION)
}

fn text(value: &Option<Text>) -> Option<&str> {
    value.as_ref().map(|t| t.0.as_str())
}

/// A required string member, present and not empty.
fn required<'a>(value: &'a Option<Text>, name: &str) -> Result<&'a str, ApiError> {
    match text(value) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(missing(name)),
    }
}

/// A list of strings.
fn texts(value: &Option<rq::Texts>) -> Vec<String> {
    value
        .as_ref()
        .map(|List(items)| items.iter().map(|t| t.0.clone()).collect())
        .unwrap_or_default()
}

/// An integer parameter in `lo..=hi` (a number, or the text of one).
fn int_param(value: &Option<Text>, name: &str, lo: u64, hi: u64) -> Result<Option<u64>, ApiError> {
    let Some(Text(shown)) = value else {
        return Ok(None);
    };
    match shown.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(format!(
            "Value {shown} for parameter {name} is invalid. Reason: Must be between {lo} and {hi}, if provided."
        ))),
    }
}

/// A queue name SQS accepts for a standard queue: 1 to 80 of `[A-Za-z0-9_-]`.
pub(crate) fn valid_queue_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The queue name in a queue URL (`http://HOST/ACCOUNT/NAME`, any host or
/// scheme), or a bare queue name.
pub(crate) fn queue_name_from_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let name = path.trim_end_matches('/').rsplit('/').next()?;
    valid_queue_name(name).then_some(name)
}

fn queue_param(url: &Option<Text>) -> Result<String, ApiError> {
    let url = required(url, "QueueUrl")?;
    queue_name_from_url(url)
        .map(str::to_string)
        .ok_or_else(no_queue)
}

fn queue_url(state: &AppState, host: &str, name: &str) -> String {
    format!("http://{host}/{}/{name}", state.bus.account())
}

/// The id of a batch entry.
trait Entry {
    fn id(&self) -> &str;
}

impl Entry for rq::Message {
    fn id(&self) -> &str {
        text(&self.id).unwrap_or("")
    }
}

impl Entry for rq::Handle {
    fn id(&self) -> &str {
        text(&self.id).unwrap_or("")
    }
}

/// A batch's entries after the checks SQS makes on the whole batch.
fn batch_entries<T: Entry>(entries: &Option<List<Obj<T>>>) -> Result<Vec<&T>, ApiError> {
    let Some(List(items)) = entries else {
        return Err(missing("Entries"));
    };
    let entries: Vec<&T> = items.iter().map(|Obj(e)| e).collect();
    if entries.is_empty() {
        return Err(sqs_error(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one entry in the batch request.",
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(sqs_error(
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are {MAX_BATCH}. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for entry in &entries {
        let id = entry.id();
        if !valid_queue_name(id) {
            return Err(sqs_error(
                "InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and \
                 underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(sqs_error(
                "BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(entries)
}

fn batch_failure(id: &str, error: &ApiError) -> Value {
    let code = error
        .headers
        .iter()
        .find(|(name, _)| *name == "x-amzn-query-error")
        .and_then(|(_, v)| v.split(';').next())
        .unwrap_or(&error.type_name);
    json!({
        "Id": id,
        "SenderFault": error.status < 500,
        "Code": code,
        "Message": error.message,
    })
}

// ---- digests and identifiers ----

/// The hex MD5 of `bytes`.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// `MD5OfMessageAttributes` of string-valued attributes (name → (data
/// type, value)): for each attribute in name order, its name, data type,
/// transport type 1 and value, each but the transport type preceded by its
/// length as 4 big-endian bytes.
pub(crate) fn md5_of_message_attributes(attributes: &BTreeMap<&str, (&str, &str)>) -> String {
    fn field(md5: &mut Md5, bytes: &[u8]) {
        md5.update((bytes.len() as u32).to_be_bytes());
        md5.update(bytes);
    }
    let mut md5 = Md5::new();
    for (name, (data_type, value)) in attributes {
        field(&mut md5, name.as_bytes());
        field(&mut md5, data_type.as_bytes());
        md5.update([1u8]);
        field(&mut md5, value.as_bytes());
    }
    hex::encode(md5.finalize())
}

/// The message id of stored message `seq` (UUID-shaped, stable).
pub(crate) fn message_id(seq: u64) -> String {
    format!(
        "00000000-0000-4000-8{:03x}-{:012x}",
        (seq >> 48) & 0xfff,
        seq & 0xffff_ffff_ffff
    )
}

fn queue_tag(queue: &str) -> u32 {
    let digest = Md5::digest(queue.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A receipt handle's message sequence number, boot id and queue tag.
fn parse_handle(handle: &str) -> Option<(u64, u64, u32)> {
    if handle.len() != HANDLE_LEN || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seq = u64::from_str_radix(&handle[..16], 16).ok()?;
    let boot = u64::from_str_radix(&handle[16..32], 16).ok()?;
    let tag = u32::from_str_radix(&handle[32..40], 16).ok()?;
    Some((seq, boot, tag))
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Whether a message body has only the characters SQS allows.
fn valid_body_chars(body: &str) -> bool {
    body.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}'
    })
}

/// A message body to send, checked.
fn message_body<'a>(entry: &'a rq::Message, settings: &Settings) -> Result<&'a str, ApiError> {
    let body = required(&entry.message_body, "MessageBody")?;
    if body.len() as u64 > settings.max_message_size {
        return Err(invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
            settings.max_message_size
        )));
    }
    if !valid_body_chars(body) {
        return Err(sqs_error(
            "InvalidMessageContents",
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | \
             #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        ));
    }
    Ok(body)
}

/// Checks a message to send and returns its body and delay.
fn outgoing<'a>(entry: &'a rq::Message, settings: &Settings) -> Result<(&'a str, u64), ApiError> {
    let body = message_body(entry, settings)?;
    if entry.message_group_id.is_some() || entry.message_deduplication_id.is_some() {
        return Err(no_fifo());
    }
    if entry
        .message_attributes
        .as_ref()
        .is_some_and(|m| !m.0.is_empty())
    {
        return Err(invalid(
            "ferrule's built-in queues do not store message attributes sent with \
             SendMessage; send the message without MessageAttributes.",
        ));
    }
    let delay = int_param(&entry.delay_seconds, "DelaySeconds", 0, MAX_DELAY_SECONDS)?
        .unwrap_or(settings.delay_seconds);
    Ok((body, delay))
}

// ---- the store ----

/// Runs `f` on the bus off the async runtime.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Bus) -> Result<T, ApiError> + Send + 'static,
{
    let bus = Arc::clone(&state.bus);
    tokio::task::spawn_blocking(move || f(&bus))
        .await
        .map_err(|e| internal(format!("the store task failed: {e}")))?
}

fn queue_exists(bus: &Bus, name: &str) -> Result<bool, ApiError> {
    Ok(bus.queues()?.iter().any(|q| q == name))
}

fn require_queue(bus: &Bus, name: &str) -> Result<(), ApiError> {
    if queue_exists(bus, name)? {
        Ok(())
    } else {
        Err(no_queue())
    }
}

// ---- operations ----

/// Answers one SQS operation.
pub(crate) async fn handle(
    state: &AppState,
    operation: &str,
    input: &Value,
    host: &str,
) -> Result<Value, ApiError> {
    match operation {
        "CreateQueue" => create_queue(state, input, host).await,
        "GetQueueUrl" => get_queue_url(state, input, host).await,
        "ListQueues" => list_queues(state, input, host).await,
        "DeleteQueue" => delete_queue(state, input).await,
        "GetQueueAttributes" => get_queue_attributes(state, input).await,
        "SetQueueAttributes" => set_queue_attributes(state, input).await,
        "SendMessage" => send_message(state, input).await,
        "SendMessageBatch" => send_message_batch(state, input).await,
        "ReceiveMessage" => receive_message(state, input).await,
        "DeleteMessage" => delete_message(state, input).await,
        "DeleteMessageBatch" => delete_message_batch(state, input).await,
        "ChangeMessageVisibility" => change_message_visibility(state, input).await,
        "ChangeMessageVisibilityBatch" => change_message_visibility_batch(state, input).await,
        "PurgeQueue" => purge_queue(state, input).await,
        _ => Err(sqs_error(
            "UnsupportedOperation",
            "AWS.SimpleQueueService.UnsupportedOperation",
            format!("ferrule does not support the SQS operation {operation:?}."),
        )),
    }
}

/// Queue attributes to set, checked.
fn settings_update(attributes: &Option<rq::TextMap>) -> Result<SettingsUpdate, ApiError> {
    let mut update = SettingsUpdate::default();
    let Some(WireMap(attributes)) = attributes else {
        return Ok(update);
    };
    for (name, Text(text)) in attributes {
        let number = |lo: u64, hi: u64| -> Result<u64, ApiError> {
            text.parse::<u64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| {
                    invalid_attribute_value(name, &format!("Must be between {lo} and {hi}."))
                })
        };
        match name.as_str() {
            "VisibilityTimeout" => {
                update.visibility_timeout = Some(number(0, MAX_VISIBILITY_TIMEOUT)?);
            }
            "ReceiveMessageWaitTimeSeconds" => {
                update.wait_seconds = Some(number(0, MAX_WAIT_SECONDS)?);
            }
            "DelaySeconds" => update.delay_seconds = Some(number(0, MAX_DELAY_SECONDS)?),
            "MaximumMessageSize" => {
                update.max_message_size = Some(number(MIN_MAX_MESSAGE_SIZE, MAX_MAX_MESSAGE_SIZE)?);
            }
            // Checked, then ignored: messages stay until deleted.
            "MessageRetentionPeriod" => {
                number(60, 1_209_600)?;
            }
            "FifoQueue" => {
                if text.eq_ignore_ascii_case("true") {
                    return Err(no_fifo());
                }
            }
            "ContentBasedDeduplication" | "DeduplicationScope" | "FifoThroughputLimit" => {
                return Err(no_fifo());
            }
            "RedrivePolicy" => {
                return Err(invalid(
                    "ferrule's built-in queues do not support redrive policies (a rule \
                     target's DeadLetterConfig names a dead-letter queue).",
                ));
            }
            // Access policies and encryption at rest have no meaning here.
            "Policy"
            | "RedriveAllowPolicy"
            | "KmsMasterKeyId"
            | "KmsDataKeyReusePeriodSeconds"
            | "SqsManagedSseEnabled" => {}
            _ => return Err(invalid_attribute_name(name)),
        }
    }
    Ok(update)
}

async fn create_queue(state: &AppState, input: &Value, host: &str) -> Result<Value, ApiError> {
    let r: rq::CreateQueue = read(input)?;
    let name = required(&r.queue_name, "QueueName")?;
    if name.ends_with(".fifo") {
        return Err(no_fifo());
    }
    if !valid_queue_name(name) {
        return Err(invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    let update = settings_update(&r.attributes)?;
    let owned = name.to_string();
    let created = blocking(state, move |bus| {
        let existed = queue_exists(bus, &owned)?;
        bus.create_queue(&owned)?;
        Ok(!existed)
    })
    .await?;
    {
        let now = epoch_ms() / 1000;
        let mut queues = state.sqs.lock();
        let q = queues.entry(name.to_string()).or_default();
        if created {
            *q = QueueState {
                created_s: Some(now),
                modified_s: Some(now),
                ..QueueState::default()
            };
        }
        if !update.is_empty() {
            update.apply(&mut q.settings);
            q.modified_s = Some(now);
        }
    }
    Ok(json!({ "QueueUrl": queue_url(state, host, name) }))
}

async fn get_queue_url(state: &AppState, input: &Value, host: &str) -> Result<Value, ApiError> {
    let r: rq::GetQueueUrl = read(input)?;
    let name = required(&r.queue_name, "QueueName")?;
    if !valid_queue_name(name) {
        return Err(no_queue());
    }
    let owned = name.to_string();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    Ok(json!({ "QueueUrl": queue_url(state, host, name) }))
}

async fn list_queues(state: &AppState, input: &Value, host: &str) -> Result<Value, ApiError> {
    let r: rq::ListQueues = read(input)?;
    let prefix = text(&r.queue_name_prefix).unwrap_or("").to_string();
    let max = int_param(&r.max_results, "MaxResults", 1, 1000)?;
    let after = text(&r.next_token).map(str::to_string);
    let mut names = blocking(state, |bus| Ok(bus.queues()?)).await?;
    names.sort();
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .filter(|n| after.as_ref().is_none_or(|a| n > a))
        .collect();
    let mut out = Map::new();
    if let Some(max) = max
        && names.len() > max as usize
    {
        names.truncate(max as usize);
        if let Some(last) = names.last() {
            out.insert("NextToken".into(), json!(last));
        }
    }
    if !names.is_empty() {
        let urls: Vec<String> = names.iter().map(|n| queue_url(state, host, n)).collect();
        out.insert("QueueUrls".into(), json!(urls));
    }
    Ok(Value::Object(out))
}

async fn delete_queue(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::QueueRef = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let owned = name.clone();
    blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        Ok(bus.delete_queue(&owned)?)
    })
    .await?;
    state.sqs.lock().remove(&name);
    Ok(json!({}))
}

/// The attributes `GetQueueAttributes` answers (for `All`).
const QUEUE_ATTRIBUTES: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "DelaySeconds",
    "LastModifiedTimestamp",
    "MaximumMessageSize",
    "QueueArn",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
];

/// Attributes SQS knows that ferrule's queues never have.
const ABSENT_QUEUE_ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MessageRetentionPeriod",
    "Policy",
    "RedriveAllowPolicy",
    "RedrivePolicy",
];

async fn get_queue_attributes(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::GetQueueAttributes = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let requested = texts(&r.attribute_names);
    let mut wanted: Vec<&str> = Vec::new();
    for a in &requested {
        if a == "All" {
            wanted.extend_from_slice(QUEUE_ATTRIBUTES);
        } else if let Some(known) = QUEUE_ATTRIBUTES.iter().find(|k| **k == a.as_str()) {
            wanted.push(known);
        } else if !ABSENT_QUEUE_ATTRIBUTES.contains(&a.as_str()) {
            return Err(invalid_attribute_name(a));
        }
    }
    let counts = wanted.iter().any(|a| a.starts_with("ApproximateNumber"));
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let mut listing = if counts {
        Some(list(state, &name, usize::MAX).await?)
    } else {
        None
    };
    let now = Instant::now();
    let (visible, not_visible, delayed, settings, created, modified) = {
        let mut queues = state.sqs.lock();
        let q = queues.entry(name.clone()).or_default();
        let (mut visible, mut not_visible, mut delayed) = (0u64, 0u64, 0u64);
        if let Some(listing) = &mut listing {
            settle(q, listing);
            for m in &listing.messages {
                match q.inflight.get(&m.seq) {
                    Some(r) if r.deleted => {}
                    Some(r) if r.visible_at > now && r.handle.is_some() => not_visible += 1,
                    Some(r) if r.visible_at > now => delayed += 1,
                    _ => visible += 1,
                }
            }
        }
        (
            visible,
            not_visible,
            delayed,
            q.settings,
            q.created_s,
            q.modified_s,
        )
    };
    // A queue created in an earlier run: the bus remembers when.
    let created =
        created.unwrap_or_else(|| state.bus.queue_created_ms(&name).map_or(0, |ms| ms / 1000));
    let modified = modified.unwrap_or(created);
    let mut out = Map::new();
    for a in wanted {
        let value = match a {
            "ApproximateNumberOfMessages" => visible.to_string(),
            "ApproximateNumberOfMessagesDelayed" => delayed.to_string(),
            "ApproximateNumberOfMessagesNotVisible" => not_visible.to_string(),
            "CreatedTimestamp" => created.to_string(),
            "DelaySeconds" => settings.delay_seconds.to_string(),
            "LastModifiedTimestamp" => modified.to_string(),
            "MaximumMessageSize" => settings.max_message_size.to_string(),
            "QueueArn" => state.bus.queue_arn(&name),
            "ReceiveMessageWaitTimeSeconds" => settings.wait_seconds.to_string(),
            "SqsManagedSseEnabled" => "false".to_string(),
            "VisibilityTimeout" => settings.visibility_timeout.to_string(),
            _ => continue,
        };
        out.insert(a.to_string(), Value::String(value));
    }
    if out.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "Attributes": out }))
}

async fn set_queue_attributes(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::SetQueueAttributes = read(input)?;
    let name = queue_param(&r.queue_url)?;
    if r.attributes.is_none() {
        return Err(missing("Attributes"));
    }
    let update = settings_update(&r.attributes)?;
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let mut queues = state.sqs.lock();
    let q = queues.entry(name).or_default();
    update.apply(&mut q.settings);
    q.modified_s = Some(epoch_ms() / 1000);
    Ok(json!({}))
}

async fn send_message(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::Message = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let settings = state.sqs.settings(&name);
    let (body, delay) = outgoing(&r, &settings)?;
    let md5 = md5_hex(body.as_bytes());
    let (owned, body) = (name.clone(), body.to_string());
    let seq = blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        Ok(bus.queue_send(&owned, &body)?)
    })
    .await?;
    state.sqs.delay(&name, &[(seq, delay)]);
    Ok(json!({ "MessageId": message_id(seq), "MD5OfMessageBody": md5 }))
}

async fn send_message_batch(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::SendMessageBatch = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let entries = batch_entries(&r.entries)?;
    let settings = state.sqs.settings(&name);
    let total: u64 = entries
        .iter()
        .map(|e| text(&e.message_body).map_or(0, str::len) as u64)
        .sum();
    if total > settings.max_message_size {
        return Err(sqs_error(
            "BatchRequestTooLong",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than {} bytes. You have sent {total} bytes.",
                settings.max_message_size
            ),
        ));
    }
    let mut failed = Vec::new();
    let mut ok: Vec<(String, String, u64)> = Vec::new();
    for entry in entries {
        let id = entry.id();
        match outgoing(entry, &settings) {
            Ok((body, delay)) => ok.push((id.to_string(), body.to_string(), delay)),
            Err(e) => failed.push(batch_failure(id, &e)),
        }
    }
    let owned = name.clone();
    let bodies: Vec<String> = ok.iter().map(|(_, b, _)| b.clone()).collect();
    let seqs = blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        let mut seqs = Vec::with_capacity(bodies.len());
        for body in &bodies {
            seqs.push(bus.queue_send(&owned, body)?);
        }
        Ok(seqs)
    })
    .await?;
    let delays: Vec<(u64, u64)> = seqs
        .iter()
        .zip(&ok)
        .map(|(s, (_, _, d))| (*s, *d))
        .collect();
    state.sqs.delay(&name, &delays);
    let successful: Vec<Value> = seqs
        .iter()
        .zip(&ok)
        .map(|(seq, (id, body, _))| {
            json!({
                "Id": id,
                "MessageId": message_id(*seq),
                "MD5OfMessageBody": md5_hex(body.as_bytes()),
            })
        })
        .collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// The system attributes ferrule can give a received message.
const SYSTEM_ATTRIBUTES: &[&str] = &[
    "ApproximateFirstReceiveTimestamp",
    "ApproximateReceiveCount",
    "SenderId",
    "SentTimestamp",
];

/// Whether a message attribute filter of `ReceiveMessage` selects `name`.
fn attribute_selected(filters: &[String], name: &str) -> bool {
    filters.iter().any(|f| {
        f == "All"
            || f == ".*"
            || f == name
            || f.strip_suffix(".*").is_some_and(|prefix| {
                name.starts_with(prefix) && name[prefix.len()..].starts_with('.')
            })
    })
}

async fn receive_message(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::ReceiveMessage = read(input)?;
    let name = queue_param(&r.queue_url)?;
    if r.receive_request_attempt_id.is_some() {
        return Err(no_fifo());
    }
    let settings = state.sqs.settings(&name);
    let max = int_param(
        &r.max_number_of_messages,
        "MaxNumberOfMessages",
        1,
        MAX_BATCH as u64,
    )?
    .unwrap_or(1) as usize;
    let visibility = int_param(
        &r.visibility_timeout,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_TIMEOUT,
    )?
    .unwrap_or(settings.visibility_timeout);
    let wait = int_param(&r.wait_time_seconds, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS)?
        .unwrap_or(settings.wait_seconds);
    let mut system: Vec<&str> = Vec::new();
    for a in texts(&r.attribute_names)
        .iter()
        .chain(&texts(&r.message_system_attribute_names))
    {
        if a == "All" {
            system.extend_from_slice(SYSTEM_ATTRIBUTES);
        } else if let Some(known) = SYSTEM_ATTRIBUTES.iter().find(|k| **k == a.as_str()) {
            system.push(known);
        }
    }
    system.sort_unstable();
    system.dedup();
    let filters = texts(&r.message_attribute_names);

    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let deadline = Instant::now() + Duration::from_secs(wait);
    let claimed = loop {
        let limit = state.sqs.hidden_count(&name, Instant::now()) + max;
        let listing = list(state, &name, limit).await?;
        let claimed = state
            .sqs
            .claim(&name, listing, max, Duration::from_secs(visibility));
        let now = Instant::now();
        // A server shutting down answers long polls at once, as if the wait ended.
        if !claimed.is_empty() || now >= deadline || state.is_stopping() {
            break claimed;
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    };
    if claimed.is_empty() {
        return Ok(json!({}));
    }
    let account = state.bus.account();
    let messages: Vec<Value> = claimed
        .iter()
        .map(|c| received(c, &system, &filters, account))
        .collect();
    Ok(json!({ "Messages": messages }))
}

/// A received message as `ReceiveMessage` answers it.
fn received(c: &Claimed, system: &[&str], filters: &[String], account: &str) -> Value {
    let m = &c.message;
    let mut out = Map::new();
    out.insert("MessageId".into(), json!(message_id(m.seq)));
    out.insert("ReceiptHandle".into(), json!(c.handle));
    out.insert("MD5OfBody".into(), json!(md5_hex(m.body.as_bytes())));
    out.insert("Body".into(), json!(m.body));
    let mut attributes = Map::new();
    for a in system {
        let value = match *a {
            "ApproximateFirstReceiveTimestamp" => c.first_receive_ms.to_string(),
            "ApproximateReceiveCount" => c.receive_count.to_string(),
            "SenderId" => account.to_string(),
            "SentTimestamp" => m.sent_ms.to_string(),
            _ => continue,
        };
        attributes.insert((*a).to_string(), Value::String(value));
    }
    if !attributes.is_empty() {
        out.insert("Attributes".into(), Value::Object(attributes));
    }
    let selected: BTreeMap<&str, (&str, &str)> = m
        .attributes
        .iter()
        .filter(|(k, _)| attribute_selected(filters, k))
        .map(|(k, v)| (k.as_str(), ("String", v.as_str())))
        .collect();
    if !selected.is_empty() {
        let attributes: Map<String, Value> = selected
            .iter()
            .map(|(k, (t, v))| ((*k).to_string(), json!({ "DataType": t, "StringValue": v })))
            .collect();
        out.insert("MessageAttributes".into(), Value::Object(attributes));
        out.insert(
            "MD5OfMessageAttributes".into(),
            json!(md5_of_message_attributes(&selected)),
        );
    }
    Value::Object(out)
}

async fn delete_message(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::Handle = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let handle = required(&r.receipt_handle, "ReceiptHandle")?;
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let seq = match state.sqs.check_handle(&name, handle) {
        HandleCheck::Current(seq) | HandleCheck::Unrecorded(seq) => seq,
        // Deleted already: nothing more to do.
        HandleCheck::Deleted(_) => return Ok(json!({})),
        HandleCheck::Invalid => return Err(invalid_handle(handle)),
    };
    let owned = name.clone();
    blocking(state, move |bus| Ok(bus.queue_delete(&owned, &[seq])?)).await?;
    state.sqs.forget(&name, &[(seq, handle.to_string())]);
    Ok(json!({}))
}

async fn delete_message_batch(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::HandleBatch = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let entries = batch_entries(&r.entries)?;
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let mut failed = Vec::new();
    let mut deleted: Vec<(String, u64, String)> = Vec::new();
    for entry in entries {
        let id = entry.id();
        let handle = text(&entry.receipt_handle).unwrap_or("");
        if handle.is_empty() {
            failed.push(batch_failure(id, &missing("ReceiptHandle")));
            continue;
        }
        match state.sqs.check_handle(&name, handle) {
            HandleCheck::Current(seq)
            | HandleCheck::Deleted(seq)
            | HandleCheck::Unrecorded(seq) => {
                deleted.push((id.to_string(), seq, handle.to_string()));
            }
            HandleCheck::Invalid => failed.push(batch_failure(id, &invalid_handle(handle))),
        }
    }
    if !deleted.is_empty() {
        let owned = name.clone();
        let seqs: Vec<u64> = deleted.iter().map(|(_, s, _)| *s).collect();
        blocking(state, move |bus| Ok(bus.queue_delete(&owned, &seqs)?)).await?;
        let forget: Vec<(u64, String)> = deleted.iter().map(|(_, s, h)| (*s, h.clone())).collect();
        state.sqs.forget(&name, &forget);
    }
    let successful: Vec<Value> = deleted
        .iter()
        .map(|(id, _, _)| json!({ "Id": id }))
        .collect();
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

/// Changes the visibility of the message `handle` names.
fn change_visibility(
    state: &AppState,
    queue: &str,
    handle: &str,
    timeout: u64,
) -> Result<(), ApiError> {
    match state.sqs.check_handle(queue, handle) {
        HandleCheck::Current(seq) => {
            let mut queues = state.sqs.lock();
            match queues.get_mut(queue).and_then(|q| q.inflight.get_mut(&seq)) {
                Some(m) if !m.deleted && m.handle.as_deref() == Some(handle) => {
                    m.visible_at = Instant::now() + Duration::from_secs(timeout);
                    Ok(())
                }
                _ => Err(invalid_handle(handle)),
            }
        }
        HandleCheck::Unrecorded(_) => Err(not_inflight()),
        HandleCheck::Deleted(_) | HandleCheck::Invalid => Err(invalid_handle(handle)),
    }
}

async fn change_message_visibility(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::Handle = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let handle = required(&r.receipt_handle, "ReceiptHandle")?;
    let timeout = int_param(
        &r.visibility_timeout,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_TIMEOUT,
    )?
    .ok_or_else(|| missing("VisibilityTimeout"))?;
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    change_visibility(state, &name, handle, timeout)?;
    Ok(json!({}))
}

async fn change_message_visibility_batch(
    state: &AppState,
    input: &Value,
) -> Result<Value, ApiError> {
    let r: rq::HandleBatch = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let entries = batch_entries(&r.entries)?;
    let owned = name.clone();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for entry in entries {
        let id = entry.id();
        let result = required(&entry.receipt_handle, "ReceiptHandle").and_then(|handle| {
            let timeout = int_param(
                &entry.visibility_timeout,
                "VisibilityTimeout",
                0,
                MAX_VISIBILITY_TIMEOUT,
            )?
            .ok_or_else(|| missing("VisibilityTimeout"))?;
            change_visibility(state, &name, handle, timeout)
        });
        match result {
            Ok(()) => successful.push(json!({ "Id": id })),
            Err(e) => failed.push(batch_failure(id, &e)),
        }
    }
    Ok(json!({ "Successful": successful, "Failed": failed }))
}

async fn purge_queue(state: &AppState, input: &Value) -> Result<Value, ApiError> {
    let r: rq::QueueRef = read(input)?;
    let name = queue_param(&r.queue_url)?;
    let owned = name.clone();
    blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        Ok(bus.queue_purge(&owned)?)
    })
    .await?;
    state.sqs.purged(&name);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_body_is_hex_md5() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            md5_hex("hello world".as_bytes()),
            "5eb63bbbe01eeed093cb22bb8f5acdc3"
        );
    }

    #[test]
    fn md5_of_message_attributes_follows_sqs() {
        // Computed independently with Python's hashlib per the documented
        // algorithm.
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "RULE_ARN",
            ("String", "arn:aws:events:us-east-1:123456789012:rule/r"),
        );
        attrs.insert("ERROR_CODE", ("String", "ERROR_FROM_TARGET"));
        assert_eq!(md5_of_message_attributes(&attrs), EXPECTED_TWO);
        let mut one = BTreeMap::new();
        one.insert("attr", ("String", "value"));
        assert_eq!(md5_of_message_attributes(&one), EXPECTED_ONE);
        // The digest AWS returns for this attribute (pinned by moto's and
        // LocalStack's SQS tests).
        let mut number = BTreeMap::new();
        number.insert("timestamp", ("Number", "1493147359900"));
        assert_eq!(
            md5_of_message_attributes(&number),
            "235c5c510d26fb653d073faed50ae77c"
        );
    }

    const EXPECTED_ONE: &str = "0a3eacc505c2c642f442010ddab0e8dc";
    const EXPECTED_TWO: &str = "ff3f6f54f544d609142a2a4450fec73c";

    #[test]
    fn queue_urls_and_names() {
        assert_eq!(
            queue_name_from_url("http://localhost:4566/000000000000/orders"),
            Some("orders")
        );
        assert_eq!(
            queue_name_from_url("https://sqs.us-east-1.amazonaws.com/123456789012/a-b_c/"),
            Some("a-b_c")
        );
        assert_eq!(queue_name_from_url("orders"), Some("orders"));
        assert_eq!(queue_name_from_url("123456789012/orders"), Some("orders"));
        assert_eq!(queue_name_from_url("http://localhost:4566"), None);
        assert_eq!(queue_name_from_url("http://localhost:4566/"), None);
        assert_eq!(queue_name_from_url("http://h/1/x.fifo"), None);
        assert_eq!(queue_name_from_url("http://h/1/bad name"), None);
        assert_eq!(queue_name_from_url(""), None);
        assert!(valid_queue_name(&"a".repeat(80)));
        assert!(!valid_queue_name(&"a".repeat(81)));
    }

    #[test]
    fn message_ids_are_stable_and_distinct() {
        assert_eq!(message_id(42), message_id(42));
        assert_ne!(message_id(1), message_id(2));
        assert_eq!(message_id(42).len(), 36);
        assert_eq!(message_id(u64::MAX).len(), 36);
    }

    #[test]
    fn receipt_handles_name_their_message_and_queue() {
        let sqs = SqsState::default();
        let x = message(7);
        let claimed = sqs.claim("q", listing(&sqs, "q", vec![x.clone()]), 1, SECS_30);
        assert_eq!(claimed.len(), 1);
        let handle = claimed[0].handle.clone();
        assert_eq!(handle.len(), HANDLE_LEN);
        assert_eq!(sqs.check_handle("q", &handle), HandleCheck::Current(7));
        assert_eq!(sqs.check_handle("other", &handle), HandleCheck::Invalid);
        assert_eq!(sqs.check_handle("q", "garbage"), HandleCheck::Invalid);
        // Invisible: not received again.
        let none = sqs.claim("q", listing(&sqs, "q", vec![x.clone()]), 1, SECS_30);
        assert!(none.is_empty());
        // Visible again after the timeout: a new handle, the old one stale.
        sqs.lock()
            .get_mut("q")
            .unwrap()
            .inflight
            .get_mut(&7)
            .unwrap()
            .visible_at = Instant::now();
        let again = sqs.claim("q", listing(&sqs, "q", vec![x]), 1, Duration::ZERO);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].receive_count, 2);
        assert_eq!(sqs.check_handle("q", &handle), HandleCheck::Invalid);
        let current = again[0].handle.clone();
        assert_eq!(sqs.check_handle("q", &current), HandleCheck::Current(7));
        sqs.forget("q", &[(7, current.clone())]);
        assert_eq!(sqs.check_handle("q", &current), HandleCheck::Deleted(7));
        // No listing begun before the deletion is under way: the next
        // settles the tombstone.
        assert!(
            sqs.claim("q", listing(&sqs, "q", Vec::new()), 1, SECS_30)
                .is_empty()
        );
        assert_eq!(sqs.check_handle("q", &current), HandleCheck::Unrecorded(7));
    }

    #[test]
    fn a_deleted_message_is_not_handed_out_by_a_listing_begun_before() {
        let sqs = SqsState::default();
        let x = message(1);
        let claimed = sqs.claim("q", listing(&sqs, "q", vec![x.clone()]), 1, SECS_30);
        // A receive lists the queue (the message is still stored)...
        let old = listing(&sqs, "q", vec![x]);
        // ...the message is deleted, and a later receive settles its listing...
        sqs.forget("q", &[(1, claimed[0].handle.clone())]);
        assert!(
            sqs.claim("q", listing(&sqs, "q", Vec::new()), 1, SECS_30)
                .is_empty()
        );
        // ...then the first receive claims from its listing: not the message.
        assert!(sqs.claim("q", old, 1, Duration::ZERO).is_empty());
        // An abandoned listing deregisters itself.
        drop(listing(&sqs, "q", Vec::new()));
        assert!(sqs.lock()["q"].listings.is_empty());
    }

    #[test]
    fn a_purge_discards_listings_begun_before_it() {
        let sqs = SqsState::default();
        let before = listing(&sqs, "q", vec![message(1)]);
        sqs.purged("q");
        assert!(sqs.claim("q", before, 1, Duration::ZERO).is_empty());
        let after = listing(&sqs, "q", vec![message(1)]);
        assert_eq!(sqs.claim("q", after, 1, Duration::ZERO).len(), 1);
    }

    const SECS_30: Duration = Duration::from_secs(30);

    fn message(seq: u64) -> QueueMessage {
        QueueMessage {
            seq,
            body: "b".into(),
            attributes: Vec::new(),
            sent_ms: 1,
        }
    }

    /// A complete listing of `messages`, begun now.
    fn listing<'a>(sqs: &'a SqsState, queue: &str, messages: Vec<QueueMessage>) -> Listing<'a> {
        let ticket = sqs.register(queue);
        Listing {
            messages,
            started: ticket.started,
            complete: true,
            ticket,
        }
    }

    #[test]
    fn received_messages_carry_selected_attributes_and_their_digest() {
        let claimed = Claimed {
            message: QueueMessage {
                seq: 3,
                body: "{}".into(),
                attributes: vec![
                    (
                        "RULE_ARN".into(),
                        "arn:aws:events:us-east-1:123456789012:rule/r".into(),
                    ),
                    ("ERROR_CODE".into(), "ERROR_FROM_TARGET".into()),
                ],
                sent_ms: 1_700_000_000_000,
            },
            handle: "h".into(),
            receive_count: 2,
            first_receive_ms: 1_700_000_000_001,
        };
        let all = vec!["All".to_string()];
        let m = received(
            &claimed,
            &["ApproximateReceiveCount", "SentTimestamp"],
            &all,
            "1",
        );
        assert_eq!(m["MD5OfBody"], md5_hex(b"{}"));
        assert_eq!(m["Attributes"]["ApproximateReceiveCount"], "2");
        assert_eq!(m["Attributes"]["SentTimestamp"], "1700000000000");
        assert_eq!(
            m["MessageAttributes"]["ERROR_CODE"],
            json!({"DataType": "String", "StringValue": "ERROR_FROM_TARGET"})
        );
        assert_eq!(m["MD5OfMessageAttributes"], EXPECTED_TWO);
        // Only what was asked for, and the digest of just that.
        let m = received(&claimed, &[], &["ERROR_CODE".to_string()], "1");
        assert!(m.get("Attributes").is_none());
        assert!(m["MessageAttributes"].get("RULE_ARN").is_none());
        let mut one = BTreeMap::new();
        one.insert("ERROR_CODE", ("String", "ERROR_FROM_TARGET"));
        assert_eq!(m["MD5OfMessageAttributes"], md5_of_message_attributes(&one));
        // None asked for: none given.
        let m = received(&claimed, &[], &[], "1");
        assert!(m.get("MessageAttributes").is_none());
        assert!(m.get("MD5OfMessageAttributes").is_none());
    }

    #[test]
    fn message_attribute_filters() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(attribute_selected(&f(&["All"]), "RULE_ARN"));
        assert!(attribute_selected(&f(&[".*"]), "RULE_ARN"));
        assert!(attribute_selected(&f(&["RULE_ARN"]), "RULE_ARN"));
        assert!(!attribute_selected(&f(&["ERROR_CODE"]), "RULE_ARN"));
        assert!(attribute_selected(&f(&["bar.*"]), "bar.baz"));
        assert!(!attribute_selected(&f(&["bar.*"]), "barbaz"));
        assert!(!attribute_selected(&f(&[]), "RULE_ARN"));
    }

    #[test]
    fn integer_parameters_are_numbers_or_their_text() {
        let t = |s: &str| Some(Text(s.to_string()));
        assert_eq!(int_param(&None, "WaitTimeSeconds", 0, 20).unwrap(), None);
        assert_eq!(
            int_param(&t("20"), "WaitTimeSeconds", 0, 20).unwrap(),
            Some(20)
        );
        for bad in ["21", "-1", "1.5", " 5", "", "true", "abc"] {
            let e = int_param(&t(bad), "WaitTimeSeconds", 0, 20).unwrap_err();
            assert_eq!(
                e.type_name, "com.amazonaws.sqs#InvalidParameterValue",
                "{bad}"
            );
            assert_eq!(
                e.message,
                format!(
                    "Value {bad} for parameter WaitTimeSeconds is invalid. Reason: Must be between 0 and 20, if provided."
                )
            );
        }
        assert_eq!(required(&t("q"), "QueueUrl").unwrap(), "q");
        for absent in [None, t("")] {
            let e = required(&absent, "QueueUrl").unwrap_err();
            assert_eq!(
                e.message,
                "The request must contain the parameter QueueUrl."
            );
        }
    }

    #[test]
    fn batches_need_entries() {
        let none: Option<List<Obj<rq::Handle>>> = None;
        let e = batch_entries(&none).unwrap_err();
        assert_eq!(e.type_name, "com.amazonaws.sqs#MissingParameter");
        let empty: Option<List<Obj<rq::Handle>>> = Some(List(Vec::new()));
        let e = batch_entries(&empty).unwrap_err();
        assert_eq!(e.type_name, "com.amazonaws.sqs#EmptyBatchRequest");
    }

    #[test]
    fn body_characters() {
        assert!(valid_body_chars("hello\t\n\r world \u{e000} \u{1f600}"));
        assert!(!valid_body_chars("a\u{0}b"));
        assert!(!valid_body_chars("\u{fffe}"));
    }
}
