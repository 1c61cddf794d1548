//! Faults of the store and of delivery, as `/health` reports them.
//!
//! A part that fails records a [`Fault`] under its name; the first failure
//! after a healthy period is logged at ERROR and the recovery at INFO, so a
//! flood of failing requests gives two log lines, not one per request.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a part of the bus does not work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The part: `store` (writes fail), `delivery` (reading due deliveries
    /// fails) or `settle` (recording delivery outcomes fails).
    pub component: &'static str,
    /// The latest error.
    pub reason: String,
    /// When the part stopped working (ms since the epoch).
    pub since_ms: u64,
    /// Failures since then.
    pub failures: u64,
}

/// The faults of the parts that report to it.
#[derive(Debug, Default)]
pub struct Health {
    faults: Mutex<BTreeMap<&'static str, Fault>>,
}

impl Health {
    /// Records a failure of `component`; returns whether it was healthy
    /// until now (the failure was logged at ERROR).
    pub fn fail(&self, component: &'static str, reason: impl std::fmt::Display) -> bool {
        let reason = reason.to_string();
        let mut faults = match self.faults.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        match faults.get_mut(component) {
            Some(f) => {
                f.failures += 1;
                f.reason = reason;
                false
            }
            None => {
                tracing::error!(component, error = %reason, "degraded: {component} failing");
                faults.insert(
                    component,
                    Fault {
                        component,
                        reason,
                        since_ms: now_ms(),
                        failures: 1,
                    },
                );
                true
            }
        }
    }

    /// Records that `component` works; returns whether it was failing until
    /// now (the recovery was logged at INFO).
    pub fn recover(&self, component: &'static str) -> bool {
        let mut faults = match self.faults.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        match faults.remove(component) {
            Some(f) => {
                tracing::info!(
                    component,
                    failures = f.failures,
                    down_ms = now_ms().saturating_sub(f.since_ms),
                    "recovered: {component} works again"
                );
                true
            }
            None => false,
        }
    }

    /// The current faults, by component.
    pub fn faults(&self) -> Vec<Fault> {
        match self.faults.lock() {
            Ok(f) => f.values().cloned().collect(),
            Err(p) => p.into_inner().values().cloned().collect(),
        }
    }
}

/// The state of a bus service: what `/health` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// What does not work; empty when healthy.
    pub faults: Vec<Fault>,
    /// Deliveries waiting in the store (`None` when the store cannot be read).
    pub pending_deliveries: Option<u64>,
    /// Store operations of delivery that failed since the start (each was
    /// logged or counted, and retried).
    pub store_errors: u64,
}

impl HealthReport {
    /// Whether everything works.
    pub fn is_ok(&self) -> bool {
        self.faults.is_empty()
    }

    /// `"ok"` or `"degraded"`.
    pub fn status(&self) -> &'static str {
        if self.is_ok() { "ok" } else { "degraded" }
    }

    /// Why it is degraded, one `component: reason` per fault; `None` when healthy.
    pub fn reason(&self) -> Option<String> {
        if self.faults.is_empty() {
            return None;
        }
        Some(
            self.faults
                .iter()
                .map(|f| format!("{}: {}", f.component, f.reason))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// Now, in milliseconds since the Unix epoch (the system clock).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_reported_once() {
        let h = Health::default();
        assert!(h.faults().is_empty());
        assert!(h.fail("store", "disk full"));
        assert!(!h.fail("store", "still full"));
        let faults = h.faults();
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].reason, "still full");
        assert_eq!(faults[0].failures, 2);
        assert!(h.recover("store"));
        assert!(!h.recover("store"));
        assert!(h.faults().is_empty());
    }

    #[test]
    fn report_joins_reasons() {
        let report = HealthReport {
            faults: vec![
                Fault {
                    component: "settle",
                    reason: "b".into(),
                    since_ms: 0,
                    failures: 1,
                },
                Fault {
                    component: "store",
                    reason: "a".into(),
                    since_ms: 0,
                    failures: 1,
                },
            ],
            ..HealthReport::default()
        };
        assert_eq!(report.status(), "degraded");
        assert_eq!(report.reason().as_deref(), Some("settle: b; store: a"));
        assert_eq!(HealthReport::default().status(), "ok");
        assert_eq!(HealthReport::default().reason(), None);
    }
}
