//! The event archive: every event stored once, by id; deliveries refer to
//! it, archives and replay read it by time.
//!
//! # Contract
//! [`EventArchive::archive`] is idempotent by id: the first write of an id
//! wins and later ones change nothing. Events are read by id, or by time
//! (`time_ms`, then id). [`EventArchive::prune`] never removes an event a
//! delivery in the log refers to.

use crate::StoreError;

/// An event as archived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedEvent {
    /// Its id.
    pub id: String,
    /// The bus it was put on.
    pub bus: String,
    /// When it was accepted (ms since the epoch).
    pub time_ms: u64,
    /// The event (the envelope's JSON).
    pub body: Vec<u8>,
}

/// The event archive. See the [module documentation](self) for the contract.
pub trait EventArchive: Send + Sync {
    /// Stores events not stored yet; returns how many were new.
    fn archive(&self, events: Vec<ArchivedEvent>) -> Result<u64, StoreError>;

    /// Event `id`.
    fn event(&self, id: &str) -> Result<Option<ArchivedEvent>, StoreError>;

    /// Up to `limit` events with `from_ms <= time_ms < to_ms`, by time then
    /// id, starting after `after` (the (time, id) of the last event of the
    /// previous page) when given.
    fn events(
        &self,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>, StoreError>;

    /// Removes events older than `before_ms` that no delivery in the log
    /// refers to; returns how many.
    fn prune(&self, before_ms: u64) -> Result<u64, StoreError>;
}
