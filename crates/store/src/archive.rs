//! The event archive: every event stored once, by id; deliveries refer to
//! it, archives and replay read it by time.
//!
//! # Contract
//! [`EventArchive::archive`] is idempotent by id: the first write of an id
//! wins and later ones change nothing. Events are read by id, or by time
//! (`time_ms`, then id). [`EventArchive::prune`] never removes an event a
//! delivery in the log or a named archive refers to.
//!
//! Named archives (EventBridge's `CreateArchive`) hold events by
//! [`ArchiveMember`]s: [`EventArchive::add_members`] is idempotent by
//! (archive, event id) and ignores events not archived;
//! [`EventArchive::members`] reads one archive by the members' time, then
//! id; [`EventArchive::expire_members`] removes members older than a time,
//! and an event no member or delivery refers to any more is then kept only
//! as the store's retention says (a store that keeps events only while
//! referenced removes it).

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

/// An event's place in a named archive (EventBridge's archives): the
/// archive holds the event, at `time_ms` (the event's own time, by which
/// replays select events and retention expires them), until the member is
/// expired. The event itself is stored once, however many archives hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveMember {
    /// The archive.
    pub archive: String,
    /// The archived event's id.
    pub event_id: String,
    /// The event's time (ms since the epoch).
    pub time_ms: u64,
}

/// What a named archive holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    /// Events.
    pub events: u64,
    /// Their bodies' bytes.
    pub bytes: u64,
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
    /// and no named archive refers to; returns how many.
    fn prune(&self, before_ms: u64) -> Result<u64, StoreError>;

    /// Puts archived events into named archives (members already there and
    /// events not archived are left alone); returns how many were new.
    fn add_members(&self, members: Vec<ArchiveMember>) -> Result<u64, StoreError>;

    /// Up to `limit` events of archive `archive` whose member time is in
    /// `from_ms..to_ms`, by that time then id, starting after `after` (the
    /// (time, id) of the last member of the previous page); each with its
    /// member time.
    fn members(
        &self,
        archive: &str,
        from_ms: u64,
        to_ms: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<(u64, ArchivedEvent)>, StoreError>;

    /// How many events archive `archive` holds, and their size.
    fn archive_stats(&self, archive: &str) -> Result<ArchiveStats, StoreError>;

    /// Removes the members of `archive` older than `before_ms` (`u64::MAX`:
    /// all of them); returns how many.
    fn expire_members(&self, archive: &str, before_ms: u64) -> Result<u64, StoreError>;
}
