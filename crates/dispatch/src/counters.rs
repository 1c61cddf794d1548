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

/// Bus → rule → value: nested, so that a lookup borrows its keys (the
/// hot path of every event and delivery allocates nothing once a row
/// exists), and iterates in the order of the (bus, rule) pairs.
type ByRule<T> = BTreeMap<String, BTreeMap<String, T>>;

/// All counters of a bus service.
#[derive(Debug, Default)]
pub struct Counters {
    rules: Mutex<ByRule<Arc<AtomicU64>>>,
    targets: Mutex<ByRule<BTreeMap<String, Arc<TargetCounters>>>>,
}

impl Counters {
    /// The match counter of a rule.
    pub fn rule(&self, bus: &str, rule: &str) -> Arc<AtomicU64> {
        let mut rules = match self.rules.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = rules.get(bus).and_then(|r| r.get(rule)) {
            return Arc::clone(n);
        }
        Arc::clone(
            rules
                .entry(bus.to_string())
                .or_default()
                .entry(rule.to_string())
                .or_default(),
        )
    }

    /// The counters of a target.
    pub fn target(&self, bus: &str, rule: &str, target: &str) -> Arc<TargetCounters> {
        let mut targets = match self.targets.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        let found = targets
            .get(bus)
            .and_then(|r| r.get(rule))
            .and_then(|t| t.get(target));
        if let Some(c) = found {
            return Arc::clone(c);
        }
        Arc::clone(
            targets
                .entry(bus.to_string())
                .or_default()
                .entry(rule.to_string())
                .or_default()
                .entry(target.to_string())
                .or_default(),
        )
    }

    /// Every counter, rules first then targets, sorted.
    pub fn snapshot(&self) -> Vec<CounterSnapshot> {
        let mut out = Vec::new();
        if let Ok(rules) = self.rules.lock() {
            for (bus, by_rule) in rules.iter() {
                for (rule, n) in by_rule {
                    out.push(CounterSnapshot {
                        bus: bus.clone(),
                        rule: rule.clone(),
                        matched: n.load(Ordering::Relaxed),
                        ..CounterSnapshot::default()
                    });
                }
            }
        }
        if let Ok(targets) = self.targets.lock() {
            let rows = targets.iter().flat_map(|(bus, by_rule)| {
                by_rule.iter().flat_map(move |(rule, by_target)| {
                    by_target
                        .iter()
                        .map(move |(target, c)| (bus, rule, target, c))
                })
            });
            for (bus, rule, target, c) in rows {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_shared_per_key_and_listed_in_key_order() {
        let c = Counters::default();
        c.rule("b2", "r1").fetch_add(1, Ordering::Relaxed);
        c.rule("b1", "r2").fetch_add(2, Ordering::Relaxed);
        c.rule("b1", "r2").fetch_add(3, Ordering::Relaxed);
        c.rule("b1", "r1").fetch_add(4, Ordering::Relaxed);
        c.target("b1", "r1", "t2")
            .delivered
            .fetch_add(5, Ordering::Relaxed);
        c.target("b1", "r1", "t1")
            .failed
            .fetch_add(6, Ordering::Relaxed);
        c.target("b1", "r1", "t2")
            .delivered
            .fetch_add(1, Ordering::Relaxed);
        let rows: Vec<_> = c
            .snapshot()
            .into_iter()
            .map(|s| (s.bus, s.rule, s.target, s.matched, s.delivered, s.failed))
            .collect();
        let row = |b: &str, r: &str, t: &str, m, d, f| {
            (b.to_string(), r.to_string(), t.to_string(), m, d, f)
        };
        assert_eq!(
            rows,
            [
                row("b1", "r1", "", 4, 0, 0),
                row("b1", "r2", "", 5, 0, 0),
                row("b2", "r1", "", 1, 0, 0),
                row("b1", "r1", "t1", 0, 0, 6),
                row("b1", "r1", "t2", 0, 6, 0),
            ]
        );
    }
}
