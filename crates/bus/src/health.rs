//! The bus's health: faults of the store and of delivery, for `/health`.

use super::Bus;
use ferrule_dispatch::HealthReport;

impl Bus {
    /// Whether the bus works: the store's faults (writes failing, for
    /// example on a full disk, until it recovers), delivery's faults (reading
    /// due deliveries or recording outcomes failing), the pending deliveries
    /// and the count of delivery's store errors.
    pub fn health(&self) -> HealthReport {
        let mut faults = self.inner.store.faults();
        faults.extend(self.inner.dispatcher.faults());
        HealthReport {
            faults,
            pending_deliveries: self.inner.store.pending().ok(),
            store_errors: self.inner.dispatcher.store_errors(),
        }
    }
}
