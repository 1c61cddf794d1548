//! The delivery log: (event, target) pairs waiting for delivery, leased by
//! consumers with a deadline.
//!
//! # Contract
//! - [`DeliveryLog::append`] writes a batch atomically and durably (as the
//!   store's sync mode says) before it returns: a crash after it returned
//!   loses none of the batch, a failed call wrote none of it.
//! - [`DeliveryLog::lease`] takes deliveries due at or before `now_ms` and
//!   not leased (or whose lease has expired), **ordered by due time, then
//!   append order** (the [`DeliveryId`]; a delivery whose lease expired
//!   keeps its place), and holds them until the deadline it is given. The
//!   lease lives in the store: another consumer
//!   (another thread, process or node) is not given a delivery while its
//!   lease holds, and is given it once the deadline has passed (the holder
//!   is presumed dead). A store that only one process can have open (an
//!   embedded file) may instead end every lease when it is opened, as
//!   their holders died with the process that had it open; it says so.
//! - [`DeliveryLog::settle`] applies outcomes. An outcome is applied only if
//!   the delivery is still held under the same lease (even past its
//!   deadline, as long as no one has leased it again); otherwise it is
//!   refused as [`Settled::LeaseLost`] and changes nothing. Settling the
//!   same lease twice therefore applies once, so a settle retried after an
//!   unclear failure never sends twice.
//! - A delivery's [`DeliveryId`] never changes (retries keep it), so order
//!   among deliveries due at the same time stays append order.

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::queue::NewMessage;

/// An (event, target) pair waiting for delivery. The event itself is in
/// the [event archive](crate::EventArchive) under `event_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The event's id (its key in the archive).
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
    /// The message group of a delivery to a FIFO queue (the target's
    /// `SqsParameters.MessageGroupId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
}

impl Delivery {
    /// A delivery of `payload` (event `event_id`) to target `target_arn`
    /// of rule `rule` on `bus`, no attempt made yet; the retry policy and
    /// the rest are set on the fields.
    pub fn new(
        event_id: impl Into<String>,
        bus: impl Into<String>,
        rule: impl Into<String>,
        target_arn: impl Into<String>,
        payload: impl Into<String>,
    ) -> Delivery {
        Delivery {
            event_id: event_id.into(),
            bus: bus.into(),
            rule: rule.into(),
            rule_arn: String::new(),
            target_id: String::new(),
            target_arn: target_arn.into(),
            max_retries: 185,
            max_age_ms: 86_400_000,
            dead_letter_arn: None,
            payload: payload.into(),
            ingested_ms: 0,
            attempts: 0,
            last_error: None,
            principal: None,
            message_group_id: None,
        }
    }
}

/// A delivery's identity in the log: unique, and increasing in append order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryId(pub u64);

/// A delivery to append, due at `due_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// When it is due (ms since the epoch).
    pub due_ms: u64,
    /// The delivery.
    pub delivery: Delivery,
}

/// A consumer's hold on a delivery, given by [`DeliveryLog::lease`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    id: DeliveryId,
    token: u64,
    until_ms: u64,
}

impl Lease {
    /// A lease on `id` with the store's `token`, until `until_ms`
    /// (for store implementations).
    pub fn new(id: DeliveryId, token: u64, until_ms: u64) -> Lease {
        Lease {
            id,
            token,
            until_ms,
        }
    }

    /// The delivery it holds.
    pub fn id(&self) -> DeliveryId {
        self.id
    }

    /// The store's token of this lease (unique per lease taken).
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Its deadline (ms since the epoch).
    pub fn until_ms(&self) -> u64 {
        self.until_ms
    }
}

/// A delivery taken by [`DeliveryLog::lease`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leased {
    /// The hold on it: give it back to [`DeliveryLog::settle`].
    pub lease: Lease,
    /// Its due time.
    pub due_ms: u64,
    /// The delivery.
    pub delivery: Delivery,
}

/// What became of a leased delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered: remove it.
    Ack,
    /// Delivered into built-in queue `queue`: remove it and send `message`
    /// to the queue, both or neither.
    AckAndSend {
        /// The queue.
        queue: String,
        /// The message.
        message: NewMessage,
    },
    /// Failed, try again at `retry_at_ms`: the lease ends and the delivery
    /// is due then, with `attempts` and `last_error` recorded.
    Retry {
        /// When it is due again (ms since the epoch).
        retry_at_ms: u64,
        /// Attempts made so far.
        attempts: u32,
        /// The failure.
        last_error: Option<String>,
    },
    /// Not attempted: the lease ends and the delivery is due at once
    /// (`now_ms` of the settle), unchanged.
    Release,
    /// Failed for good: remove it, and send `to`'s message to its queue
    /// (the dead-letter queue), both or neither, when given.
    DeadLetter {
        /// The dead-letter queue and the message for it.
        to: Option<(String, NewMessage)>,
    },
}

/// What [`DeliveryLog::settle`] did with one outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Applied.
    Applied,
    /// Refused: the delivery is gone or leased again by someone else (the
    /// lease expired). Nothing changed.
    LeaseLost,
    /// Refused: the queue the outcome sends to does not exist. Nothing
    /// changed; the lease still holds.
    NoQueue,
}

/// The durable log of deliveries, with leases held in the store. See the
/// [module documentation](self) for the contract.
pub trait DeliveryLog: Send + Sync {
    /// Adds deliveries atomically and durably; returns their ids in order.
    fn append(&self, deliveries: Vec<NewDelivery>) -> Result<Vec<DeliveryId>, StoreError>;

    /// Leases up to `limit` deliveries due at `now_ms` and not leased (or
    /// with an expired lease), due time then append order, until `until_ms`.
    fn lease(&self, now_ms: u64, limit: usize, until_ms: u64) -> Result<Vec<Leased>, StoreError>;

    /// Applies outcomes of attempts (at `now_ms`, which stamps messages
    /// sent); one answer per outcome, in order. An `Err` applied none.
    fn settle(
        &self,
        now_ms: u64,
        outcomes: Vec<(Lease, Outcome)>,
    ) -> Result<Vec<Settled>, StoreError>;

    /// When [`lease`](DeliveryLog::lease) may next have something: the
    /// earliest due time of a delivery not leased, or the earliest lease
    /// deadline.
    fn next_ready(&self) -> Result<Option<u64>, StoreError>;

    /// The number of deliveries in the log (leased or not).
    fn pending(&self) -> Result<u64, StoreError>;
}
