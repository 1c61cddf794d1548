//! The bus the integration tests open, built from the options they share
//! (`support::open`): deliveries run only when the test calls `run_due`,
//! and writes are not synced (a test's store is thrown away); a file sets
//! what it needs on top.

use std::path::Path;
use std::sync::Arc;

use ferrule_bus::{Bus, BusOptions, ManualClock};
use ferrule_dispatch::SyncMode;

/// A test bus's options, and [`TestBus::open`] to open it.
pub struct TestBus(BusOptions);

impl TestBus {
    /// A bus on `dir`, without a background delivery thread, writes unsynced.
    pub fn new(dir: impl AsRef<Path>) -> TestBus {
        let mut options = BusOptions::new(dir);
        options.deliver_in_background = false;
        options.sync = SyncMode::Never;
        TestBus(options)
    }

    /// Driven by `clock` instead of the system's.
    pub fn clock(mut self, clock: &Arc<ManualClock>) -> TestBus {
        self.0.clock = clock.clone();
        self
    }

    /// Retries wait `base_ms`, doubling up to `cap_ms`.
    pub fn backoff_ms(mut self, base_ms: u64, cap_ms: u64) -> TestBus {
        self.0.dispatch.backoff_base_ms = base_ms;
        self.0.dispatch.backoff_cap_ms = cap_ms;
        self
    }

    /// Changes anything else of the options (limits, Region, sync, ...).
    pub fn with(mut self, edit: impl FnOnce(&mut BusOptions)) -> TestBus {
        edit(&mut self.0);
        self
    }

    /// Opens the bus; a test cannot go on without it.
    pub fn open(self) -> Bus {
        Bus::open(self.0).expect("open bus")
    }
}
