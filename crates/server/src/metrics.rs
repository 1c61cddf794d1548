//! Prometheus metrics: requests, entries, matches, deliveries, retries,
//! dead letters and request latencies.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ferrule_bus::Bus;

/// A counter family: name, help text, and how to read it from a snapshot row.
type Series = (
    &'static str,
    &'static str,
    fn(&ferrule_dispatch::CounterSnapshot) -> u64,
);

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters kept by the server itself.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    entries: AtomicU64,
    failed_entries: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Metrics {
    pub(crate) fn request(&self, operation: &str, status: u16, elapsed: Duration) {
        let op = if operation.is_empty() {
            "none"
        } else {
            operation
        };
        *lock(&self.requests)
            .entry((op.to_string(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let mut latency = lock(&self.latency);
        let h = latency.entry(op.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    pub(crate) fn entries(&self, total: u64, failed: u64) {
        self.entries.fetch_add(total, Ordering::Relaxed);
        self.failed_entries.fetch_add(failed, Ordering::Relaxed);
    }

    /// The Prometheus text: requests, entries, and each bus's delivery
    /// counters. `buses` are the partitions' buses, the configured one
    /// first with an empty label prefix; the others' series carry
    /// `account="..",region=".."` (their prefix) before `bus`.
    pub(crate) fn render(&self, buses: &[(String, &Bus)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ferrule_requests_total Requests by operation and HTTP status."
        );
        let _ = writeln!(out, "# TYPE ferrule_requests_total counter");
        for ((op, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "ferrule_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP ferrule_request_duration_seconds Request latency by operation."
        );
        let _ = writeln!(out, "# TYPE ferrule_request_duration_seconds histogram");
        for (op, h) in lock(&self.latency).iter() {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "ferrule_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "ferrule_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "ferrule_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ferrule_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(out, "# TYPE ferrule_put_events_entries_total counter");
        let _ = writeln!(
            out,
            "ferrule_put_events_entries_total {}",
            self.entries.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE ferrule_put_events_failed_entries_total counter"
        );
        let _ = writeln!(
            out,
            "ferrule_put_events_failed_entries_total {}",
            self.failed_entries.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# TYPE ferrule_pending_deliveries gauge");
        let _ = writeln!(
            out,
            "ferrule_pending_deliveries {}",
            buses
                .iter()
                .map(|(_, b)| b.pending_deliveries().unwrap_or(0))
                .sum::<u64>()
        );
        let reports: Vec<_> = buses.iter().map(|(_, b)| b.health()).collect();
        let store_errors: u64 = reports.iter().map(|h| h.store_errors).sum();
        let degraded = reports.iter().any(|h| !h.is_ok());
        let _ = writeln!(
            out,
            "# HELP ferrule_store_errors_total Store operations that failed."
        );
        let _ = writeln!(out, "# TYPE ferrule_store_errors_total counter");
        let _ = writeln!(out, "ferrule_store_errors_total {store_errors}");
        let _ = writeln!(out, "# TYPE ferrule_degraded gauge");
        let _ = writeln!(out, "ferrule_degraded {}", u8::from(degraded));
        let series: [Series; 7] = [
            (
                "ferrule_rule_matches_total",
                "Events each rule matched.",
                |c| c.matched,
            ),
            ("ferrule_deliveries_total", "Successful deliveries.", |c| {
                c.delivered
            }),
            (
                "ferrule_retries_total",
                "Delivery attempts that failed and were retried.",
                |c| c.retried,
            ),
            (
                "ferrule_failed_attempts_total",
                "Delivery attempts that failed (retried or not).",
                |c| c.failed_attempts,
            ),
            (
                "ferrule_failed_deliveries_total",
                "Deliveries given up.",
                |c| c.failed,
            ),
            (
                "ferrule_dead_letters_total",
                "Deliveries sent to a dead-letter queue.",
                |c| c.dead_lettered,
            ),
            (
                "ferrule_invalid_input_total",
                "Events whose transformed input was invalid.",
                |c| c.invalid_input,
            ),
        ];
        for (name, help, get) in series {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (prefix, c) in buses
                .iter()
                .flat_map(|(p, b)| b.counters().into_iter().map(move |c| (p, c)))
            {
                let is_rule_row = c.target.is_empty();
                if (name == "ferrule_rule_matches_total") != is_rule_row {
                    continue;
                }
                let _ = if is_rule_row {
                    writeln!(
                        out,
                        "{name}{{{prefix}bus=\"{}\",rule=\"{}\"}} {}",
                        c.bus,
                        c.rule,
                        get(&c)
                    )
                } else {
                    writeln!(
                        out,
                        "{name}{{{prefix}bus=\"{}\",rule=\"{}\",target=\"{}\"}} {}",
                        c.bus,
                        c.rule,
                        c.target,
                        get(&c)
                    )
                };
            }
        }
        out
    }
}
