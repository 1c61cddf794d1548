//! Queue storage for the built-in SQS: messages, their visibility, receipt
//! handles, and the queues with their attributes.
//!
//! # Contract
//! - Messages are received in send order (their `seq`) among those visible
//!   at `now_ms`; a receive makes each message it returns invisible until
//!   `now_ms + visibility_ms` and gives it a new receipt handle, counting
//!   the receive. All of this is stored, so it holds across a restart and
//!   across nodes sharing the store.
//! - A receipt handle names one receive of one message in one queue. It
//!   stays valid until the message is received again (after its visibility
//!   expired) or deleted; an older handle is then
//!   [`Superseded`](Deletion::Superseded). A handle the store cannot have
//!   issued for this queue (malformed, another queue's, a deleted and
//!   re-created queue's) is an [`Invalid`](crate::StoreErrorKind::Invalid)
//!   error.
//! - Operations on a queue that does not exist fail with
//!   [`NotFound`](crate::StoreErrorKind::NotFound).
//! - Queue attributes are opaque to the store (the SQS layer owns their
//!   names and values), but for three that make a FIFO queue (see
//!   [`Fifo`]): [`FIFO_QUEUE`] (`"true"`), [`CONTENT_BASED_DEDUPLICATION`]
//!   and [`DEDUPLICATION_SCOPE`].
//!
//! # FIFO queues
//! - A message sent with a deduplication id (or, in a queue with
//!   content-based deduplication, without one: the SHA-256 of its body,
//!   in hex) whose id was sent to the queue within [`DEDUP_WINDOW_MS`]
//!   before is accepted and not enqueued: `send` answers the first
//!   message's sequence number. The window runs from the first send,
//!   whether that message was received or deleted since. With
//!   `DeduplicationScope` `messageGroup` ids are compared within a group.
//! - Messages of one group are received in send order, and a group with a
//!   message in flight (or delayed) gives out no later message until that
//!   one is deleted or visible again. Messages without a group are not
//!   ordered. All of it is stored (durable across a restart).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A message in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    /// Its sequence number within the store (increasing in send order).
    pub seq: u64,
    /// The body.
    pub body: String,
    /// String attributes (dead letters carry `RULE_ARN`, `ERROR_CODE`, …).
    pub attributes: Vec<(String, String)>,
    /// When it was sent (ms since the epoch).
    pub sent_ms: u64,
    /// Its message group (`MessageGroupId`), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Its deduplication id in a FIFO queue (given, or the content hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// The body.
    pub body: String,
    /// String attributes.
    pub attributes: Vec<(String, String)>,
    /// How long it stays invisible after it is sent (`DelaySeconds`), in ms.
    pub delay_ms: u64,
    /// Its message group (`MessageGroupId`): orders it in a FIFO queue.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Its deduplication id (`MessageDeduplicationId`), for a FIFO queue.
    #[serde(default)]
    pub dedup_id: Option<String>,
}

impl NewMessage {
    /// A message with `body`, no attributes, no delay, no group.
    pub fn new(body: impl Into<String>) -> NewMessage {
        NewMessage {
            body: body.into(),
            attributes: Vec::new(),
            delay_ms: 0,
            group_id: None,
            dedup_id: None,
        }
    }
}

/// The attribute that makes a queue FIFO (value `"true"`).
pub const FIFO_QUEUE: &str = "FifoQueue";
/// `"true"`: messages sent without a deduplication id are deduplicated by
/// the SHA-256 of their body.
pub const CONTENT_BASED_DEDUPLICATION: &str = "ContentBasedDeduplication";
/// `"messageGroup"`: deduplication ids are compared within a group (else
/// within the queue).
pub const DEDUPLICATION_SCOPE: &str = "DeduplicationScope";
/// How long a deduplication id is remembered (SQS's 5 minutes), in ms.
pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;

/// What makes a queue FIFO, read from its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fifo {
    /// Content-based deduplication.
    pub content_based: bool,
    /// Deduplication within each message group.
    pub per_group: bool,
}

impl Fifo {
    /// The FIFO settings of a queue with `attributes`; `None`: a standard queue.
    pub fn of(attributes: &BTreeMap<String, String>) -> Option<Fifo> {
        let is = |name: &str, value: &str| attributes.get(name).is_some_and(|v| v == value);
        is(FIFO_QUEUE, "true").then(|| Fifo {
            content_based: is(CONTENT_BASED_DEDUPLICATION, "true"),
            per_group: is(DEDUPLICATION_SCOPE, "messageGroup"),
        })
    }

    /// The deduplication id a message gets in this queue: its own, else
    /// the hex SHA-256 of its body with content-based deduplication.
    pub fn dedup_id(&self, m: &NewMessage) -> Option<String> {
        m.dedup_id.clone().or_else(|| {
            self.content_based.then(|| {
                use sha2::Digest;
                sha2::Sha256::digest(m.body.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
        })
    }

    /// The key under which `dedup_id` of a message of `group` is
    /// remembered (ids and groups are printable ASCII, so NUL separates).
    pub fn dedup_key(&self, dedup_id: &str, group: Option<&str>) -> String {
        match (self.per_group, group) {
            (true, Some(g)) => format!("{g}\u{0}{dedup_id}"),
            _ => dedup_id.to_string(),
        }
    }
}

/// Picks messages of a FIFO queue in sequence order: a message is handed
/// out only if it is visible and no earlier message of its group is left
/// behind (in flight or delayed).
#[derive(Debug, Default)]
pub struct GroupGate {
    blocked: std::collections::HashSet<String>,
}

impl GroupGate {
    /// Whether the next message (in sequence order), of `group`, visible
    /// or not, may be taken; a message not taken blocks its group.
    pub fn admit(&mut self, group: Option<&str>, visible: bool) -> bool {
        let Some(g) = group else {
            return visible;
        };
        if self.blocked.contains(g) {
            return false;
        }
        if !visible {
            self.blocked.insert(g.to_string());
        }
        visible
    }
}

/// A message handed out by [`QueueStore::receive`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub message: QueueMessage,
    /// The receipt handle of this receive.
    pub receipt: String,
    /// How often it has been received, this time included.
    pub receive_count: u32,
    /// When it was first received (ms since the epoch).
    pub first_receive_ms: u64,
}

/// A queue and its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueInfo {
    /// Its name.
    pub name: String,
    /// Its attributes, as the SQS layer set them.
    pub attributes: BTreeMap<String, String>,
    /// When it was created (ms since the epoch).
    pub created_ms: u64,
    /// When its attributes were last set (ms since the epoch).
    pub modified_ms: u64,
}

/// The messages of a queue by state at some time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Visible: a receive may return them.
    pub visible: u64,
    /// Received and not yet visible again.
    pub in_flight: u64,
    /// Sent with a delay that has not passed, never received.
    pub delayed: u64,
}

/// What [`QueueStore::delete_message`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// The message was deleted.
    Deleted,
    /// The message is no longer in the queue (deleted already, purged).
    Gone,
    /// The message was received again since: the handle no longer deletes
    /// it, and nothing changed.
    Superseded,
}

/// What [`QueueStore::change_visibility`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibilityChange {
    /// The message is now visible at the new time.
    Changed,
    /// The message is no longer in the queue.
    Gone,
    /// The message was received again since; nothing changed.
    Superseded,
}

/// Queue storage. See the [module documentation](self) for the contract.
pub trait QueueStore: Send + Sync {
    /// Creates queue `name` with `attributes` at `now_ms`; an existing queue
    /// is returned unchanged. The flag says whether it was created.
    fn create_queue(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<(QueueInfo, bool), StoreError>;

    /// Sets (adds or replaces) attributes of queue `name`.
    fn set_queue_attributes(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
        now_ms: u64,
    ) -> Result<QueueInfo, StoreError>;

    /// Deletes queue `name` and its messages; its receipt handles become invalid.
    fn delete_queue(&self, name: &str) -> Result<(), StoreError>;

    /// Queue `name`, if it exists.
    fn queue(&self, name: &str) -> Result<Option<QueueInfo>, StoreError>;

    /// Every queue, by name.
    fn queues(&self) -> Result<Vec<QueueInfo>, StoreError>;

    /// Sends messages to `queue` at `now_ms`, atomically; returns their
    /// sequence numbers.
    fn send(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
        now_ms: u64,
    ) -> Result<Vec<u64>, StoreError>;

    /// Receives up to `max` messages visible at `now_ms`, making them
    /// invisible for `visibility_ms`.
    fn receive(
        &self,
        queue: &str,
        now_ms: u64,
        max: usize,
        visibility_ms: u64,
    ) -> Result<Vec<Received>, StoreError>;

    /// Deletes the message `receipt` names.
    fn delete_message(&self, queue: &str, receipt: &str) -> Result<Deletion, StoreError>;

    /// Makes the message `receipt` names visible at `now_ms + visibility_ms`.
    fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        now_ms: u64,
        visibility_ms: u64,
    ) -> Result<VisibilityChange, StoreError>;

    /// Removes every message of `queue`; returns how many.
    fn purge(&self, queue: &str) -> Result<u64, StoreError>;

    /// The messages of `queue` by state at `now_ms`.
    fn counts(&self, queue: &str, now_ms: u64) -> Result<QueueCounts, StoreError>;

    /// Up to `limit` messages of `queue`, oldest first, whatever their
    /// visibility, changing nothing (for inspection and tests).
    fn messages(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>, StoreError>;
}

/// A receipt handle as ferrule's stores write it: the queue's incarnation,
/// the message's sequence number and the receive's token, in hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The queue's incarnation (a number given when it was created).
    pub queue_id: u64,
    /// The message.
    pub seq: u64,
    /// The receive (unique per receive in the store).
    pub token: u64,
}

impl Receipt {
    /// Its text.
    pub fn encode(&self) -> String {
        format!("{:016x}{:016x}{:016x}", self.queue_id, self.seq, self.token)
    }

    /// Reads a receipt handle; `Invalid` if it is not one.
    pub fn decode(text: &str) -> Result<Receipt, StoreError> {
        let invalid = || StoreError::invalid(format!("not a receipt handle: {text:?}"));
        if text.len() != 48 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let part = |i: usize| u64::from_str_radix(&text[i * 16..(i + 1) * 16], 16);
        match (part(0), part(1), part(2)) {
            (Ok(queue_id), Ok(seq), Ok(token)) => Ok(Receipt {
                queue_id,
                seq,
                token,
            }),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_round_trip_and_reject_garbage() {
        let r = Receipt {
            queue_id: 7,
            seq: u64::MAX,
            token: 42,
        };
        assert_eq!(Receipt::decode(&r.encode()).ok(), Some(r));
        for bad in [
            "",
            "zz",
            &"g".repeat(48),
            &"0".repeat(47),
            "é".repeat(24).as_str(),
        ] {
            let e = Receipt::decode(bad).err();
            assert_eq!(e.map(|e| e.kind()), Some(crate::StoreErrorKind::Invalid));
        }
    }
}
