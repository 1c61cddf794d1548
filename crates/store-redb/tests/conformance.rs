//! The store conformance suite on redb: a real file, reopened for the
//! crash tests (the previous handle dropped first, as redb allows one).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrule_store::conformance::Harness;
use ferrule_store_redb::{RedbStore, Retention, SyncMode};

/// A store file in a fresh directory, removed on drop.
struct Redb {
    dir: PathBuf,
    sync: SyncMode,
}

impl Redb {
    fn new(sync: SyncMode) -> Redb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ferrule-store-redb-conformance-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Redb { dir, sync }
    }
}

impl Drop for Redb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness for Redb {
    type Store = RedbStore;
    const REOPEN_ENDS_LEASES: bool = true;

    fn open(&mut self) -> RedbStore {
        // The suite's archive keeps events until pruned (the contract);
        // `Retention::WhileReferenced` has its own tests.
        let path = self.dir.join("ferrule.redb");
        match RedbStore::open_with(&path, self.sync, Retention::UntilPruned) {
            Ok(s) => s,
            Err(e) => panic!("open {}: {e}", self.dir.display()),
        }
    }
}

mod synced {
    use super::*;
    ferrule_store::conformance_tests!(|| Redb::new(SyncMode::Always));
}

mod unsynced {
    use super::*;
    ferrule_store::conformance_tests!(|| Redb::new(SyncMode::Never));
}
