//! ferrule's storage, as small traits by concern, each implementable on
//! another engine (an embedded database, PostgreSQL, NATS JetStream):
//!
//! - [`DeliveryLog`]: the (event, target) pairs waiting for delivery, with
//!   leases held in the store, so several consumers share one log;
//! - [`QueueStore`]: the built-in SQS queues, messages, visibility and
//!   receipt handles;
//! - [`MetadataStore`]: versioned opaque records (buses, rules, targets,
//!   policies), so a node notices changes;
//! - [`EventArchive`]: every event stored once, read by id or time.
//!
//! [`Store`] is all four behind one handle. Time is always passed in
//! (`now_ms`): stores keep no clock, so tests drive time without sleeping.
//! [`MemoryStore`] keeps everything in memory; `ferrule-store-redb` is the
//! embedded, durable one. Every backend runs the `conformance` suite
//! (feature `conformance`) with one line: `conformance_tests!`.

pub mod archive;
mod error;
pub mod log;
mod memory;
pub mod meta;
pub mod queue;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use archive::{ArchiveMember, ArchiveStats, ArchivedEvent, EventArchive};
pub use error::{StoreError, StoreErrorKind};
pub use log::{Delivery, DeliveryId, DeliveryLog, Lease, Leased, NewDelivery, Outcome, Settled};
pub use memory::MemoryStore;
pub use meta::{Change, Expect, MetadataStore, Record};
pub use queue::{
    DEDUP_WINDOW_MS, Deletion, Fifo, GroupGate, NewMessage, QueueCounts, QueueInfo, QueueMessage,
    QueueStore, Receipt, Received, VisibilityChange,
};

/// Every concern behind one handle.
pub trait Store: DeliveryLog + QueueStore + MetadataStore + EventArchive {
    /// Archives `events` and appends `deliveries` that refer to them, both
    /// durably before it returns. The default writes the events first, so a
    /// crash in between leaves at most unreferenced events (which
    /// [`EventArchive::prune`] removes), never a delivery without its
    /// event; a store that can, does both in one transaction.
    fn ingest(
        &self,
        events: Vec<ArchivedEvent>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        if !events.is_empty() {
            self.archive(events)?;
        }
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        self.append(deliveries)
    }

    /// [`Store::ingest`], and `members` put the events into named archives,
    /// all durably before it returns. The default writes the events, then
    /// the members, then the deliveries (a crash in between leaves events
    /// that [`EventArchive::prune`] removes, or members without the
    /// deliveries: never a delivery or member without its event); a store
    /// that can, does all in one transaction.
    fn ingest_archived(
        &self,
        events: Vec<ArchivedEvent>,
        members: Vec<ArchiveMember>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<Vec<DeliveryId>, StoreError> {
        if !events.is_empty() {
            self.archive(events)?;
        }
        if !members.is_empty() {
            self.add_members(members)?;
        }
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        self.append(deliveries)
    }

    /// [`Store::ingest_archived`], and `sends` put messages into queues
    /// (deliveries into built-in queues, which need no attempt), stamped
    /// `now_ms`; answers the deliveries' ids and, per send, whether its
    /// queue exists (a send to a missing queue is dropped). A store that
    /// can does all in one durable transaction. The default ingests first,
    /// then sends: a crash in between leaves the deliveries without the
    /// sends of the same call, which has not answered yet.
    fn ingest_sending(
        &self,
        events: Vec<ArchivedEvent>,
        members: Vec<ArchiveMember>,
        deliveries: Vec<NewDelivery>,
        sends: Vec<(String, NewMessage)>,
        now_ms: u64,
    ) -> Result<(Vec<DeliveryId>, Vec<bool>), StoreError> {
        let ids = self.ingest_archived(events, members, deliveries)?;
        let mut sent = Vec::with_capacity(sends.len());
        for (queue, message) in sends {
            match self.send(&queue, vec![message], now_ms) {
                Ok(_) => sent.push(true),
                Err(e) if e.kind() == StoreErrorKind::NotFound => sent.push(false),
                Err(e) => return Err(e),
            }
        }
        Ok((ids, sent))
    }

    /// What does not work now (writes failing on a full disk, the store
    /// reopening); empty when healthy or when the store cannot tell.
    fn faults(&self) -> Vec<ferrule_core::Fault> {
        Vec::new()
    }
}
