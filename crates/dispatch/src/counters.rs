//! Counters per rule and per target.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The counters of one target of one rule (and the rule's match count).
#[derive(Debug, Default)]
pub struct TargetCounters {
    /// Deliveries that succeeded.
    pub delivered: AtomicU64,
    /// Attempts that failed and were scheduled again.
    pub retried: AtomicU64,
    /// Attempts that failed, whatever came next (a retry or giving up).
    pub failed_attempts: AtomicU64,
    /// Deliveries given up (retries exhausted, too old, or a permanent error).
    pub failed: AtomicU64,
    /// Failed deliveries written to a dead-letter queue.
    pub dead_lettered: AtomicU64,
    /// Events whose input transformation produced invalid JSON (not delivered).
    pub invalid_input: AtomicU64,
}

/// A snapshot of one row of counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// The bus.
    pub bus: String,
    /// The rule.
    pub rule: String,
    /// The target id; empty for the rule's own row.
    pub target: String,
    /// Events the rule matched (rule rows only).
    pub matched: u64,
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Attempts that failed, whatever came next.
    pub failed_attempts: u64,
    /// Deliveries given up.
    pub failed: u64,
    /// Failed deliveries written to a dead-letter queue.
    pub dead_lettered: u64,
    /// Events not delivered because their transformed input was invalid.
    pub invalid_input: u64,
}

/// All counters of a bus service.
#[derive(Debug, Default)]
pub struct Counters {
    rules: Mutex<BTreeMap<(String, String), Arc<AtomicU64>>>,
    targets: Mutex<BTreeMap<(String, String, String), Arc<TargetCounters>>>,
}

impl Counters {
    /// The match counter of a rule.
    pub fn rule(&self, bus: &str, rule: &str) -> Arc<AtomicU64> {
        let mut rules = match self.rules.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        Arc::clone(
            rules
                .entry((bus.to_string(), rule.to_string()))
                .or_default(),
        )
    }

    /// The counters of a target.
    pub fn target(&self, bus: &str, rule: &str, target: &str) -> Arc<TargetCounters> {
        let mut targets = match self.targets.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        Arc::clone(
            targets
                .entry((bus.to_string(), rule.to_string(), target.to_string()))
                .or_default(),
        )
    }

    /// Every counter, rules first then targets, sorted.
    pub fn snapshot(&self) -> Vec<CounterSnapshot> {
        let mut out = Vec::new();
        if let Ok(rules) = self.rules.lock() {
            for ((bus, rule), n) in rules.iter() {
                out.push(CounterSnapshot {
                    bus: bus.clone(),
                    rule: rule.clone(),
                    matched: n.load(Ordering::Relaxed),
                    ..CounterSnapshot::default()
                });
            }
        }
        if let Ok(targets) = self.targets.lock() {
            for ((bus, rule, target), c) in targets.iter() {
                out.push(CounterSnapshot {
                    bus: bus.clone(),
                    rule: rule.clone(),
                    target: target.clone(),
                    matched: 0,
                    delivered: c.delivered.load(Ordering::Relaxed),
                    retried: c.retried.load(Ordering::Relaxed),
                    failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
                    failed: c.failed.load(Ordering::Relaxed),
                    dead_lettered: c.dead_lettered.load(Ordering::Relaxed),
                    invalid_input: c.invalid_input.load(Ordering::Relaxed),
                });
            }
        }
        out
    }
}
