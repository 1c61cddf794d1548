//! Metadata: the bus's buses, rules, targets and policies, and the queues'
//! settings, as opaque records keyed by kind and name (the owner of each
//! kind keeps its schema).
//!
//! # Contract
//! Every write takes the next number of one store-wide, increasing
//! version; a record carries the version of its last write. A node notices
//! changes by remembering [`MetadataStore::version`] and asking
//! [`MetadataStore::changes_since`]. Deletions are kept as tombstones so
//! they show in changes. Conditional writes ([`Expect`]) fail with
//! [`Conflict`](crate::StoreErrorKind::Conflict) when the record is not as
//! expected, so two nodes cannot overwrite each other unknowingly.

use crate::StoreError;

/// A stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its kind (`bus`, `rule`, …).
    pub kind: String,
    /// Its name within the kind.
    pub name: String,
    /// Its value, as its owner serialized it.
    pub value: Vec<u8>,
    /// The version of its last write.
    pub version: u64,
}

/// A write seen by [`MetadataStore::changes_since`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The record's kind.
    pub kind: String,
    /// The record's name.
    pub name: String,
    /// Its value now; `None`: deleted.
    pub value: Option<Vec<u8>>,
    /// The version of the write.
    pub version: u64,
}

/// What a write expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Anything.
    Any,
    /// No record (create only).
    Absent,
    /// The record at this version.
    Version(u64),
}

/// Versioned metadata. See the [module documentation](self) for the contract.
pub trait MetadataStore: Send + Sync {
    /// Writes record (`kind`, `name`) (`None` deletes it) if it is as
    /// `expect` says; returns the write's version. Deleting a record that
    /// does not exist with [`Expect::Any`] changes nothing and returns the
    /// current version.
    fn put(
        &self,
        kind: &str,
        name: &str,
        value: Option<Vec<u8>>,
        expect: Expect,
    ) -> Result<u64, StoreError>;

    /// Record (`kind`, `name`).
    fn get(&self, kind: &str, name: &str) -> Result<Option<Record>, StoreError>;

    /// Every record of `kind`, by name.
    fn list(&self, kind: &str) -> Result<Vec<Record>, StoreError>;

    /// The version of the latest write (0: none yet).
    fn version(&self) -> Result<u64, StoreError>;

    /// The latest write of every record written after version `since`,
    /// in version order.
    fn changes_since(&self, since: u64) -> Result<Vec<Change>, StoreError>;
}
