//! SQS's AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`) over
//! ferrule's built-in queues, as boto3, the aws CLI and the current AWS
//! SDKs speak it.
//!
//! Queues, their attributes and messages are stored durably by the bus's
//! queue storage ([`ferrule_store::QueueStore`]), and so is what a receive
//! changes: which messages are in flight (invisible) until when, under
//! which receipt handle, and how often each was received. All of it holds
//! across a restart: a receipt handle stays valid until its message is
//! received again or deleted.
//!
//! Standard and FIFO queues (`.fifo` names, `FifoQueue`): FIFO queues
//! need a `MessageGroupId` on every message and a `MessageDeduplicationId`
//! unless `ContentBasedDeduplication` is on; duplicates within 5 minutes
//! are accepted and not enqueued (the store keeps the window, see
//! [`ferrule_store::queue`]), messages of a group are handed out in order,
//! one in flight at a time. Redrive policies and message attributes on
//! `SendMessage` are refused rather than silently dropped. Messages stay
//! until they are deleted (there is no retention period).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::Response;
use md5::{Digest, Md5};
use serde_json::Value;

mod attempts;
mod request;
mod response;

pub(crate) use self::attempts::ReceiveAttempts;

use self::request::{self as rq, Text};
use self::response as rs;
use super::events::wire::{self, List, Map as WireMap, Obj};
use super::{ApiError, AppState, Call, Protocol, Route, Service, ServiceId, ServiceInfo};
use ferrule_bus::Bus;
use ferrule_store::queue::{CONTENT_BASED_DEDUPLICATION, DEDUPLICATION_SCOPE, FIFO_QUEUE};
use ferrule_store::{
    Deletion, Fifo, NewMessage, QueueCounts, QueueInfo, Received, StoreError, StoreErrorKind,
    VisibilityChange,
};

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

/// Queue attributes that change behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Settings {
    visibility_timeout: u64,
    wait_seconds: u64,
    delay_seconds: u64,
    max_message_size: u64,
    /// `Some` for a FIFO queue.
    fifo: Option<Fifo>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            wait_seconds: 0,
            delay_seconds: 0,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            fifo: None,
        }
    }
}

/// The stored attributes' names (SQS's own).
const VISIBILITY_TIMEOUT: &str = "VisibilityTimeout";
const WAIT_SECONDS: &str = "ReceiveMessageWaitTimeSeconds";
const DELAY_SECONDS: &str = "DelaySeconds";
const MAX_MESSAGE_SIZE: &str = "MaximumMessageSize";

impl Settings {
    /// The settings stored with a queue (defaults for those never set).
    fn of(info: &QueueInfo) -> Settings {
        let d = Settings::default();
        let get = |name: &str, default: u64| {
            info.attributes
                .get(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Settings {
            visibility_timeout: get(VISIBILITY_TIMEOUT, d.visibility_timeout),
            wait_seconds: get(WAIT_SECONDS, d.wait_seconds),
            delay_seconds: get(DELAY_SECONDS, d.delay_seconds),
            max_message_size: get(MAX_MESSAGE_SIZE, d.max_message_size),
            fifo: Fifo::of(&info.attributes),
        }
    }
}

/// `FifoThroughputLimit`, stored as given (ferrule does not throttle).
const FIFO_THROUGHPUT_LIMIT: &str = "FifoThroughputLimit";

/// Queue attributes given to `CreateQueue` or `SetQueueAttributes`.
#[derive(Default)]
struct SettingsUpdate {
    visibility_timeout: Option<u64>,
    wait_seconds: Option<u64>,
    delay_seconds: Option<u64>,
    max_message_size: Option<u64>,
    /// `FifoQueue` (CreateQueue only).
    fifo_queue: Option<bool>,
    /// `ContentBasedDeduplication`, `DeduplicationScope`, `FifoThroughputLimit`
    /// (FIFO queues only).
    fifo_attributes: BTreeMap<String, String>,
}

impl SettingsUpdate {
    fn is_empty(&self) -> bool {
        self.attributes().is_empty()
    }

    /// The attributes to store.
    fn attributes(&self) -> BTreeMap<String, String> {
        [
            (VISIBILITY_TIMEOUT, self.visibility_timeout),
            (WAIT_SECONDS, self.wait_seconds),
            (DELAY_SECONDS, self.delay_seconds),
            (MAX_MESSAGE_SIZE, self.max_message_size),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .chain(self.fifo_attributes.clone())
        .collect()
    }
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

/// A parameter that one kind of queue (FIFO or standard) does not take.
fn not_for_queue_type(name: &str, shown: &str) -> ApiError {
    invalid(format!(
        "Value {shown} for parameter {name} is invalid. Reason: The request include \
         parameter that is not valid for this queue type."
    ))
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

/// A FIFO queue's name: a standard name then `.fifo`, 80 in all at most.
pub(crate) fn valid_fifo_queue_name(name: &str) -> bool {
    name.len() <= 80
        && name
            .strip_suffix(".fifo")
            .is_some_and(|base| !base.is_empty() && valid_queue_name(base))
}

/// A name of either kind.
fn valid_any_queue_name(name: &str) -> bool {
    valid_queue_name(name) || valid_fifo_queue_name(name)
}

/// `MessageGroupId`, `MessageDeduplicationId`, `ReceiveRequestAttemptId`:
/// 1 to 128 alphanumeric or punctuation characters.
fn valid_fifo_token(token: &str) -> bool {
    (1..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

/// A FIFO token parameter, checked.
fn fifo_token<'a>(value: &'a Option<Text>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match text(value) {
        None => Ok(None),
        Some(t) if valid_fifo_token(t) => Ok(Some(t)),
        Some(t) => Err(invalid(format!(
            "Value {t} for parameter {name} is invalid. Reason: {name} can only include \
             alphanumeric and punctuation characters. 1 to 128 in length."
        ))),
    }
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
    valid_any_queue_name(name).then_some(name)
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

fn batch_failure(id: &str, error: &ApiError) -> rs::BatchFailure {
    let code = error
        .headers
        .iter()
        .find(|(name, _)| *name == "x-amzn-query-error")
        .and_then(|(_, v)| v.split(';').next())
        .unwrap_or(&error.type_name);
    rs::BatchFailure {
        id: id.to_string(),
        sender_fault: error.status < 500,
        code: code.to_string(),
        message: error.message.clone(),
    }
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
pub(crate) use ferrule_bus::message_id;

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

/// A message to send, checked against its queue's kind.
struct Outgoing<'a> {
    body: &'a str,
    delay_seconds: u64,
    group: Option<&'a str>,
    dedup: Option<&'a str>,
}

/// Checks a message to send: a FIFO queue's need a group, and a
/// deduplication id unless the queue deduplicates by content, and take
/// no per-message delay; a standard queue's take no deduplication id (a
/// group is accepted: SQS's fair queues).
fn outgoing<'a>(entry: &'a rq::Message, settings: &Settings) -> Result<Outgoing<'a>, ApiError> {
    let body = message_body(entry, settings)?;
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
    let group = fifo_token(&entry.message_group_id, "MessageGroupId")?;
    let dedup = fifo_token(&entry.message_deduplication_id, "MessageDeduplicationId")?;
    let Some(fifo) = settings.fifo else {
        if let Some(d) = dedup {
            return Err(not_for_queue_type("MessageDeduplicationId", d));
        }
        let delay = int_param(&entry.delay_seconds, "DelaySeconds", 0, MAX_DELAY_SECONDS)?;
        return Ok(Outgoing {
            body,
            delay_seconds: delay.unwrap_or(settings.delay_seconds),
            group,
            dedup: None,
        });
    };
    if let Some(Text(shown)) = &entry.delay_seconds {
        return Err(not_for_queue_type("DelaySeconds", shown));
    }
    let group = group.ok_or_else(|| missing("MessageGroupId"))?;
    if dedup.is_none() && !fifo.content_based {
        return Err(invalid(
            "The queue should either have ContentBasedDeduplication enabled or \
             MessageDeduplicationId provided explicitly",
        ));
    }
    Ok(Outgoing {
        body,
        delay_seconds: settings.delay_seconds,
        group: Some(group),
        dedup,
    })
}

/// The message to store.
fn new_message(o: &Outgoing<'_>) -> NewMessage {
    let mut m = NewMessage::new(o.body);
    m.delay_ms = o.delay_seconds.saturating_mul(1000);
    m.group_id = o.group.map(str::to_string);
    m.dedup_id = o.dedup.map(str::to_string);
    m
}

/// `SequenceNumber` of stored message `seq` in a FIFO queue: increasing
/// in send order (the store's sequence), 20 digits as SQS shows them.
fn sequence_number(seq: u64) -> String {
    format!("{seq:020}")
}

// ---- the store ----

/// Runs `f` on the bus off the async runtime.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Bus) -> Result<T, ApiError> + Send + 'static,
{
    let bus = Arc::clone(&state.bus);
    super::off_runtime(move || f(&bus), internal).await
}

/// A queue storage error as SQS answers it: an unknown queue is
/// `QueueDoesNotExist`, a handle the store did not issue for the queue is
/// `ReceiptHandleIsInvalid`, the rest are the bus's internal errors.
fn store_error(e: StoreError, handle: &str) -> ApiError {
    match e.kind() {
        StoreErrorKind::NotFound => no_queue(),
        StoreErrorKind::Invalid => invalid_handle(handle),
        _ => ApiError::from(ferrule_bus::BusError::from(e)),
    }
}

/// Queue `name` with its attributes, if it exists.
fn queue_info(bus: &Bus, name: &str) -> Result<Option<QueueInfo>, ApiError> {
    bus.queue_store()
        .queue(name)
        .map_err(|e| store_error(e, ""))
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

/// The operations ferrule serves.
const OPERATIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "PurgeQueue",
];

/// SQS: AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`.
#[derive(Debug)]
pub(crate) struct Sqs;

impl Service for Sqs {
    const INFO: ServiceInfo = ServiceInfo {
        id: ServiceId::Sqs,
        route: Route::Target("AmazonSQS"),
        signing_name: "sqs",
        protocol: Protocol::AwsJson10,
        operations: OPERATIONS,
        unknown_operation: |operation| {
            sqs_error(
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                format!("ferrule does not support the SQS operation {operation:?}."),
            )
        },
    };

    async fn call(state: Arc<AppState>, call: Call) -> Result<Response, ApiError> {
        super::access::authorize_request(
            &state,
            &call.caller,
            "AmazonSQS",
            &call.operation,
            &call.input,
        )?;
        let host = call
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        handle(&state, &call.operation, &call.input, host).await
    }
}

/// Reads `input` as `Req`, runs `operation`, writes its response.
async fn run<Req, Resp, F, Fut>(input: &Value, operation: F) -> Result<Response, ApiError>
where
    Req: serde::de::DeserializeOwned,
    Resp: serde::Serialize,
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<Resp, ApiError>>,
{
    let request: Req = read(input)?;
    Protocol::AwsJson10.reply(&operation(request).await?)
}

/// Answers one SQS operation.
async fn handle(
    state: &AppState,
    operation: &str,
    input: &Value,
    host: &str,
) -> Result<Response, ApiError> {
    match operation {
        "CreateQueue" => run(input, |r| create_queue(state, r, host)).await,
        "GetQueueUrl" => run(input, |r| get_queue_url(state, r, host)).await,
        "ListQueues" => run(input, |r| list_queues(state, r, host)).await,
        "DeleteQueue" => run(input, |r| delete_queue(state, r)).await,
        "GetQueueAttributes" => run(input, |r| get_queue_attributes(state, r)).await,
        "SetQueueAttributes" => run(input, |r| set_queue_attributes(state, r)).await,
        "SendMessage" => run(input, |r| send_message(state, r)).await,
        "SendMessageBatch" => run(input, |r| send_message_batch(state, r)).await,
        "ReceiveMessage" => run(input, |r| receive_message(state, r)).await,
        "DeleteMessage" => run(input, |r| delete_message(state, r)).await,
        "DeleteMessageBatch" => run(input, |r| delete_message_batch(state, r)).await,
        "ChangeMessageVisibility" => run(input, |r| change_message_visibility(state, r)).await,
        "ChangeMessageVisibilityBatch" => {
            run(input, |r| change_message_visibility_batch(state, r)).await
        }
        "PurgeQueue" => run(input, |r| purge_queue(state, r)).await,
        other => Err((Sqs::INFO.unknown_operation)(other)),
    }
}

/// A boolean queue attribute (`true` or `false`, in any case).
fn boolean(name: &str, text: &str) -> Result<bool, ApiError> {
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid_attribute_value(name, "Must be true or false."))
    }
}

/// Refuses FIFO attributes for a standard queue, as SQS does (it does not
/// know them there).
fn standard_only(update: &SettingsUpdate) -> Result<(), ApiError> {
    match update.fifo_attributes.keys().next() {
        Some(name) => Err(invalid_attribute_name(name)),
        None => Ok(()),
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
            "FifoQueue" => update.fifo_queue = Some(boolean(name, text)?),
            "ContentBasedDeduplication" => {
                let on = boolean(name, text)?;
                update
                    .fifo_attributes
                    .insert(CONTENT_BASED_DEDUPLICATION.into(), on.to_string());
            }
            "DeduplicationScope" | "FifoThroughputLimit" => {
                let allowed: &[&str] = if name == DEDUPLICATION_SCOPE {
                    &["messageGroup", "queue"]
                } else {
                    &["perQueue", "perMessageGroupId"]
                };
                if !allowed.contains(&text.as_str()) {
                    return Err(invalid_attribute_value(
                        name,
                        &format!("Must be one of {}.", allowed.join(", ")),
                    ));
                }
                update.fifo_attributes.insert(name.clone(), text.clone());
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

async fn create_queue(
    state: &AppState,
    r: rq::CreateQueue,
    host: &str,
) -> Result<rs::QueueUrl, ApiError> {
    let name = required(&r.queue_name, "QueueName")?;
    let update = settings_update(&r.attributes)?;
    let fifo = update.fifo_queue == Some(true);
    if fifo && !valid_fifo_queue_name(name) {
        return Err(invalid(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or \
             underscores, must end with .fifo suffix and be 1 to 80 in length.",
        ));
    }
    if !fifo && !valid_queue_name(name) {
        return Err(invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    let mut initial = BTreeMap::new();
    if fifo {
        // Stored at creation with the defaults SQS reports (the store reads
        // `FifoQueue`); a repeated CreateQueue sets only what it names.
        for (k, v) in [
            (FIFO_QUEUE, "true"),
            (CONTENT_BASED_DEDUPLICATION, "false"),
            (DEDUPLICATION_SCOPE, "queue"),
            (FIFO_THROUGHPUT_LIMIT, "perQueue"),
        ] {
            initial.insert(k.to_string(), v.to_string());
        }
    } else {
        standard_only(&update)?;
    }
    initial.extend(update.attributes());
    let owned = name.to_string();
    blocking(state, move |bus| {
        let (_, created) = bus.create_queue_with(&owned, initial)?;
        if !created && !update.is_empty() {
            bus.queue_store()
                .set_queue_attributes(&owned, update.attributes(), bus.now_ms())
                .map_err(|e| store_error(e, ""))?;
        }
        Ok(())
    })
    .await?;
    Ok(rs::QueueUrl {
        queue_url: queue_url(state, host, name),
    })
}

async fn get_queue_url(
    state: &AppState,
    r: rq::GetQueueUrl,
    host: &str,
) -> Result<rs::QueueUrl, ApiError> {
    let name = required(&r.queue_name, "QueueName")?;
    if !valid_any_queue_name(name) {
        return Err(no_queue());
    }
    let owned = name.to_string();
    blocking(state, move |bus| require_queue(bus, &owned)).await?;
    Ok(rs::QueueUrl {
        queue_url: queue_url(state, host, name),
    })
}

async fn list_queues(
    state: &AppState,
    r: rq::ListQueues,
    host: &str,
) -> Result<rs::ListQueues, ApiError> {
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
    let mut out = rs::ListQueues::default();
    if let Some(max) = max
        && names.len() > max as usize
    {
        names.truncate(max as usize);
        out.next_token = names.last().cloned();
    }
    out.queue_urls = names.iter().map(|n| queue_url(state, host, n)).collect();
    Ok(out)
}

async fn delete_queue(state: &AppState, r: rq::QueueRef) -> Result<rs::Empty, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let owned = name.clone();
    blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        Ok(bus.delete_queue(&owned)?)
    })
    .await?;
    Ok(rs::Empty {})
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

/// The attributes of FIFO queues only (in `All` for them).
const FIFO_QUEUE_ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoQueue",
    "FifoThroughputLimit",
];

/// Attributes SQS knows that ferrule's queues never have.
const ABSENT_QUEUE_ATTRIBUTES: &[&str] = &[
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MessageRetentionPeriod",
    "Policy",
    "RedriveAllowPolicy",
    "RedrivePolicy",
];

async fn get_queue_attributes(
    state: &AppState,
    r: rq::GetQueueAttributes,
) -> Result<rs::GetQueueAttributes, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let requested = texts(&r.attribute_names);
    let mut wanted: Vec<&str> = Vec::new();
    for a in &requested {
        if a == "All" {
            wanted.extend_from_slice(QUEUE_ATTRIBUTES);
            wanted.extend_from_slice(FIFO_QUEUE_ATTRIBUTES);
        } else if let Some(known) = QUEUE_ATTRIBUTES
            .iter()
            .chain(FIFO_QUEUE_ATTRIBUTES)
            .find(|k| **k == a.as_str())
        {
            wanted.push(known);
        } else if !ABSENT_QUEUE_ATTRIBUTES.contains(&a.as_str()) {
            return Err(invalid_attribute_name(a));
        }
    }
    let counts = wanted.iter().any(|a| a.starts_with("ApproximateNumber"));
    let owned = name.clone();
    let (info, counts) = blocking(state, move |bus| {
        let info = queue_info(bus, &owned)?.ok_or_else(no_queue)?;
        let counts = if counts {
            bus.queue_store()
                .counts(&owned, bus.now_ms())
                .map_err(|e| store_error(e, ""))?
        } else {
            QueueCounts::default()
        };
        Ok((info, counts))
    })
    .await?;
    let settings = Settings::of(&info);
    let (visible, not_visible, delayed) = (counts.visible, counts.in_flight, counts.delayed);
    let created = info.created_ms / 1000;
    let modified = info.modified_ms / 1000;
    let mut out = rs::GetQueueAttributes::default();
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
            fifo_only if settings.fifo.is_some() && FIFO_QUEUE_ATTRIBUTES.contains(&fifo_only) => {
                match info.attributes.get(fifo_only) {
                    Some(v) => v.clone(),
                    None => continue,
                }
            }
            _ => continue,
        };
        out.attributes.insert(a.to_string(), value);
    }
    Ok(out)
}

async fn set_queue_attributes(
    state: &AppState,
    r: rq::SetQueueAttributes,
) -> Result<rs::Empty, ApiError> {
    let name = queue_param(&r.queue_url)?;
    if r.attributes.is_none() {
        return Err(missing("Attributes"));
    }
    let update = settings_update(&r.attributes)?;
    if update.fifo_queue.is_some() {
        // Fixed when the queue is created.
        return Err(invalid_attribute_name(FIFO_QUEUE));
    }
    blocking(state, move |bus| {
        let info = queue_info(bus, &name)?.ok_or_else(no_queue)?;
        if Fifo::of(&info.attributes).is_none() {
            standard_only(&update)?;
        }
        bus.queue_store()
            .set_queue_attributes(&name, update.attributes(), bus.now_ms())
            .map_err(|e| store_error(e, ""))
    })
    .await?;
    Ok(rs::Empty {})
}

async fn send_message(state: &AppState, r: rq::Message) -> Result<rs::SendMessage, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let owned = name.clone();
    let info = blocking(state, move |bus| queue_info(bus, &owned)).await?;
    let settings = info.as_ref().map(Settings::of).unwrap_or_default();
    let checked = outgoing(&r, &settings)?;
    info.ok_or_else(no_queue)?;
    let md5 = md5_hex(checked.body.as_bytes());
    let message = new_message(&checked);
    let seq = blocking(state, move |bus| {
        let seqs = bus
            .queue_store()
            .send(&name, vec![message], bus.now_ms())
            .map_err(|e| store_error(e, ""))?;
        seqs.first()
            .copied()
            .ok_or_else(|| internal("the store gave no sequence number"))
    })
    .await?;
    Ok(rs::SendMessage {
        message_id: message_id(seq),
        md5_of_message_body: md5,
        sequence_number: settings.fifo.map(|_| sequence_number(seq)),
    })
}

async fn send_message_batch(
    state: &AppState,
    r: rq::SendMessageBatch,
) -> Result<rs::SendMessageBatch, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let entries = batch_entries(&r.entries)?;
    let owned = name.clone();
    let info = blocking(state, move |bus| queue_info(bus, &owned)).await?;
    let settings = info.as_ref().map(Settings::of).unwrap_or_default();
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
    let mut ok: Vec<(String, NewMessage)> = Vec::new();
    for entry in entries {
        let id = entry.id();
        match outgoing(entry, &settings) {
            Ok(checked) => ok.push((id.to_string(), new_message(&checked))),
            Err(e) => failed.push(batch_failure(id, &e)),
        }
    }
    info.ok_or_else(no_queue)?;
    let messages: Vec<NewMessage> = ok.iter().map(|(_, m)| m.clone()).collect();
    let seqs = if messages.is_empty() {
        Vec::new()
    } else {
        blocking(state, move |bus| {
            bus.queue_store()
                .send(&name, messages, bus.now_ms())
                .map_err(|e| store_error(e, ""))
        })
        .await?
    };
    let successful = seqs
        .iter()
        .zip(&ok)
        .map(|(seq, (id, m))| rs::SentEntry {
            id: id.clone(),
            message_id: message_id(*seq),
            md5_of_message_body: md5_hex(m.body.as_bytes()),
            sequence_number: settings.fifo.map(|_| sequence_number(*seq)),
        })
        .collect();
    Ok(rs::SendMessageBatch { successful, failed })
}

/// The system attributes ferrule can give a received message.
const SYSTEM_ATTRIBUTES: &[&str] = &[
    "ApproximateFirstReceiveTimestamp",
    "ApproximateReceiveCount",
    "MessageDeduplicationId",
    "MessageGroupId",
    "SenderId",
    "SentTimestamp",
    "SequenceNumber",
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

async fn receive_message(
    state: &AppState,
    r: rq::ReceiveMessage,
) -> Result<rs::ReceiveMessage, ApiError> {
    let name = queue_param(&r.queue_url)?;
    fifo_token(&r.receive_request_attempt_id, "ReceiveRequestAttemptId")?;
    let owned = name.clone();
    let info = blocking(state, move |bus| queue_info(bus, &owned)).await?;
    let settings = info.as_ref().map(Settings::of).unwrap_or_default();
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

    info.ok_or_else(no_queue)?;
    // A FIFO receive retried with its attempt id: the same messages, their
    // visibility restarted, unless one of them changed since (attempts.rs).
    let attempt = text(&r.receive_request_attempt_id)
        .filter(|_| settings.fifo.is_some())
        .map(str::to_string);
    if let Some(id) = &attempt
        && let Some(previous) = state.receive_attempts.replay(&name, id, state.bus.now_ms())
    {
        let (owned, receipts): (String, Vec<String>) = (
            name.clone(),
            previous.iter().map(|c| c.receipt.clone()).collect(),
        );
        let all_current = blocking(state, move |bus| {
            let now = bus.now_ms();
            for receipt in &receipts {
                match bus.queue_store().change_visibility(
                    &owned,
                    receipt,
                    now,
                    visibility.saturating_mul(1000),
                ) {
                    Ok(VisibilityChange::Changed) => {}
                    Ok(_) => return Ok(false),
                    Err(e) => return Err(store_error(e, receipt)),
                }
            }
            Ok(true)
        })
        .await?;
        if all_current {
            let account = state.bus.account();
            return Ok(rs::ReceiveMessage {
                messages: previous
                    .iter()
                    .map(|c| received(c, &system, &filters, account, true))
                    .collect(),
            });
        }
        state.receive_attempts.forget(&name, id);
    }
    let deadline = Instant::now() + Duration::from_secs(wait);
    let claimed = loop {
        let owned = name.clone();
        let claimed = blocking(state, move |bus| {
            bus.queue_store()
                .receive(&owned, bus.now_ms(), max, visibility.saturating_mul(1000))
                .map_err(|e| store_error(e, ""))
        })
        .await?;
        let now = Instant::now();
        // A server shutting down answers long polls at once, as if the wait ended.
        if !claimed.is_empty() || now >= deadline || state.is_stopping() {
            break claimed;
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    };
    if let Some(id) = &attempt {
        state
            .receive_attempts
            .record(&name, id, state.bus.now_ms(), &claimed);
    }
    let account = state.bus.account();
    Ok(rs::ReceiveMessage {
        messages: claimed
            .iter()
            .map(|c| received(c, &system, &filters, account, settings.fifo.is_some()))
            .collect(),
    })
}

/// A received message as `ReceiveMessage` answers it.
fn received(
    c: &Received,
    system: &[&str],
    filters: &[String],
    account: &str,
    fifo: bool,
) -> rs::Message {
    let m = &c.message;
    let mut attributes = BTreeMap::new();
    for a in system {
        let value = match *a {
            "ApproximateFirstReceiveTimestamp" => c.first_receive_ms.to_string(),
            "ApproximateReceiveCount" => c.receive_count.to_string(),
            "SenderId" => account.to_string(),
            "SentTimestamp" => m.sent_ms.to_string(),
            "MessageGroupId" => match &m.group_id {
                Some(g) => g.clone(),
                None => continue,
            },
            "MessageDeduplicationId" => match &m.dedup_id {
                Some(d) if fifo => d.clone(),
                _ => continue,
            },
            "SequenceNumber" if fifo => sequence_number(m.seq),
            _ => continue,
        };
        attributes.insert((*a).to_string(), value);
    }
    let selected: BTreeMap<&str, (&str, &str)> = m
        .attributes
        .iter()
        .filter(|(k, _)| attribute_selected(filters, k))
        .map(|(k, v)| (k.as_str(), ("String", v.as_str())))
        .collect();
    rs::Message {
        message_id: message_id(m.seq),
        receipt_handle: c.receipt.clone(),
        md5_of_body: md5_hex(m.body.as_bytes()),
        body: m.body.clone(),
        attributes,
        message_attributes: selected
            .iter()
            .map(|(k, (t, v))| {
                (
                    (*k).to_string(),
                    rs::MessageAttributeValue {
                        data_type: (*t).to_string(),
                        string_value: (*v).to_string(),
                    },
                )
            })
            .collect(),
        md5_of_message_attributes: (!selected.is_empty())
            .then(|| md5_of_message_attributes(&selected)),
    }
}

async fn delete_message(state: &AppState, r: rq::Handle) -> Result<rs::Empty, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let handle = required(&r.receipt_handle, "ReceiptHandle")?.to_string();
    state.receive_attempts.touched(&name, &handle);
    blocking(state, move |bus| delete_one(bus, &name, &handle)).await?;
    Ok(rs::Empty {})
}

/// Deletes the message `handle` names. A message already gone is no error;
/// a handle superseded by a later receive does not delete it and is
/// invalid.
fn delete_one(bus: &Bus, queue: &str, handle: &str) -> Result<(), ApiError> {
    match bus.queue_store().delete_message(queue, handle) {
        Ok(Deletion::Deleted | Deletion::Gone) => Ok(()),
        Ok(Deletion::Superseded) => Err(invalid_handle(handle)),
        Err(e) => Err(store_error(e, handle)),
    }
}

async fn delete_message_batch(state: &AppState, r: rq::HandleBatch) -> Result<rs::Batch, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let entries: Vec<(String, String)> = batch_entries(&r.entries)?
        .into_iter()
        .map(|e| {
            let handle = text(&e.receipt_handle).unwrap_or("");
            (e.id().to_string(), handle.to_string())
        })
        .collect();
    for (_, handle) in &entries {
        state.receive_attempts.touched(&name, handle);
    }
    blocking(state, move |bus| {
        require_queue(bus, &name)?;
        let mut failed = Vec::new();
        let mut successful = Vec::new();
        for (id, handle) in &entries {
            if handle.is_empty() {
                failed.push(batch_failure(id, &missing("ReceiptHandle")));
                continue;
            }
            match delete_one(bus, &name, handle) {
                Ok(()) => successful.push(rs::BatchId { id: id.clone() }),
                Err(e) if e.status() >= 500 => return Err(e),
                Err(e) => failed.push(batch_failure(id, &e)),
            }
        }
        Ok(rs::Batch { successful, failed })
    })
    .await
}

/// Changes the visibility of the message `handle` names.
fn change_visibility(bus: &Bus, queue: &str, handle: &str, timeout: u64) -> Result<(), ApiError> {
    let now = bus.now_ms();
    match bus
        .queue_store()
        .change_visibility(queue, handle, now, timeout.saturating_mul(1000))
    {
        Ok(VisibilityChange::Changed) => Ok(()),
        Ok(VisibilityChange::Gone) => Err(not_inflight()),
        Ok(VisibilityChange::Superseded) => Err(invalid_handle(handle)),
        Err(e) => Err(store_error(e, handle)),
    }
}

async fn change_message_visibility(state: &AppState, r: rq::Handle) -> Result<rs::Empty, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let handle = required(&r.receipt_handle, "ReceiptHandle")?.to_string();
    let timeout = int_param(
        &r.visibility_timeout,
        "VisibilityTimeout",
        0,
        MAX_VISIBILITY_TIMEOUT,
    )?
    .ok_or_else(|| missing("VisibilityTimeout"))?;
    state.receive_attempts.touched(&name, &handle);
    blocking(state, move |bus| {
        require_queue(bus, &name)?;
        change_visibility(bus, &name, &handle, timeout)
    })
    .await?;
    Ok(rs::Empty {})
}

/// A batch entry's handle and timeout, or why not.
type Checked = Result<(String, u64), ApiError>;

async fn change_message_visibility_batch(
    state: &AppState,
    r: rq::HandleBatch,
) -> Result<rs::Batch, ApiError> {
    let name = queue_param(&r.queue_url)?;
    // Each entry checked here: its id, and its handle and timeout or why not.
    let entries: Vec<(String, Checked)> = batch_entries(&r.entries)?
        .into_iter()
        .map(|entry| {
            let checked = required(&entry.receipt_handle, "ReceiptHandle").and_then(|handle| {
                let timeout = int_param(
                    &entry.visibility_timeout,
                    "VisibilityTimeout",
                    0,
                    MAX_VISIBILITY_TIMEOUT,
                )?
                .ok_or_else(|| missing("VisibilityTimeout"))?;
                Ok((handle.to_string(), timeout))
            });
            (entry.id().to_string(), checked)
        })
        .collect();
    for (handle, _) in entries.iter().filter_map(|(_, c)| c.as_ref().ok()) {
        state.receive_attempts.touched(&name, handle);
    }
    blocking(state, move |bus| {
        require_queue(bus, &name)?;
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        for (id, checked) in entries {
            let result = checked
                .and_then(|(handle, timeout)| change_visibility(bus, &name, &handle, timeout));
            match result {
                Ok(()) => successful.push(rs::BatchId { id: id.clone() }),
                Err(e) if e.status() >= 500 => return Err(e),
                Err(e) => failed.push(batch_failure(&id, &e)),
            }
        }
        Ok(rs::Batch { successful, failed })
    })
    .await
}

async fn purge_queue(state: &AppState, r: rq::QueueRef) -> Result<rs::Empty, ApiError> {
    let name = queue_param(&r.queue_url)?;
    let owned = name.clone();
    blocking(state, move |bus| {
        require_queue(bus, &owned)?;
        Ok(bus.queue_purge(&owned)?)
    })
    .await?;
    Ok(rs::Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A received message as the JSON it is answered as.
    fn received(c: &Received, system: &[&str], filters: &[String], account: &str) -> Value {
        serde_json::to_value(super::received(c, system, filters, account, false)).unwrap()
    }

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
        assert_eq!(queue_name_from_url("http://h/1/x.fifo"), Some("x.fifo"));
        assert_eq!(queue_name_from_url("http://h/1/.fifo"), None);
        assert!(valid_fifo_queue_name(&format!("{}.fifo", "a".repeat(75))));
        assert!(!valid_fifo_queue_name(&format!("{}.fifo", "a".repeat(76))));
        assert!(!valid_fifo_queue_name("a.b.fifo"));
        assert!(!valid_queue_name("a.fifo"));
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
    fn received_messages_carry_selected_attributes_and_their_digest() {
        let claimed = Received {
            message: ferrule_store::QueueMessage {
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
                group_id: None,
                dedup_id: None,
            },
            receipt: "h".into(),
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
    fn fifo_messages_need_a_group_and_a_deduplication_id() {
        let t = |s: &str| Some(Text(s.to_string()));
        let message = |group: Option<Text>, dedup: Option<Text>, delay: Option<Text>| rq::Message {
            message_body: t("body"),
            message_group_id: group,
            message_deduplication_id: dedup,
            delay_seconds: delay,
            ..Default::default()
        };
        let mut fifo = Settings {
            fifo: Some(Fifo {
                content_based: false,
                per_group: false,
            }),
            delay_seconds: 3,
            ..Settings::default()
        };
        let code = |r: Result<Outgoing<'_>, ApiError>| r.err().map(|e| e.type_name);
        assert_eq!(
            code(outgoing(&message(None, t("d"), None), &fifo)).as_deref(),
            Some("com.amazonaws.sqs#MissingParameter")
        );
        assert_eq!(
            code(outgoing(&message(t("g"), None, None), &fifo)).as_deref(),
            Some("com.amazonaws.sqs#InvalidParameterValue")
        );
        assert_eq!(
            code(outgoing(&message(t("g"), t("d"), t("0")), &fifo)).as_deref(),
            Some("com.amazonaws.sqs#InvalidParameterValue")
        );
        for bad in ["", "a b", "é", &"x".repeat(129)] {
            assert!(
                outgoing(&message(t(bad), t("d"), None), &fifo).is_err(),
                "{bad}"
            );
        }
        let entry = message(t("g"), t("d!#"), None);
        let ok = outgoing(&entry, &fifo).unwrap();
        assert_eq!(
            (ok.group, ok.dedup, ok.delay_seconds),
            (Some("g"), Some("d!#"), 3)
        );
        let stored = new_message(&ok);
        assert_eq!(stored.delay_ms, 3_000);
        assert_eq!(stored.group_id.as_deref(), Some("g"));
        // Content-based: no id needed (the store hashes the body).
        fifo.fifo = Some(Fifo {
            content_based: true,
            per_group: false,
        });
        assert_eq!(
            outgoing(&message(t("g"), None, None), &fifo).unwrap().dedup,
            None
        );
        // A standard queue takes a group but no deduplication id.
        let std = Settings::default();
        assert!(outgoing(&message(t("tenant"), None, t("5")), &std).is_ok());
        assert!(outgoing(&message(None, t("d"), None), &std).is_err());
        assert_eq!(sequence_number(42), "00000000000000000042");
    }

    #[test]
    fn body_characters() {
        assert!(valid_body_chars("hello\t\n\r world \u{e000} \u{1f600}"));
        assert!(!valid_body_chars("a\u{0}b"));
        assert!(!valid_body_chars("\u{fffe}"));
    }
}
