//! PutEvents to delivery: entries per second through the whole bus (batched
//! matching against 1,000 rules, the durable redb queue, delivery workers)
//! into an in-process target, with and without syncing the store.
//!
//! `cargo bench --features bus --bench bus_throughput [-- EVENTS CLIENTS]`
//! (default 20,000 citylots events from 8 client threads, batches of 10).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferrule_bus::{Bus, BusOptions, PutEventsEntry, PutRuleInput, TargetConfig};
use ferrule_dispatch::SyncMode;
use ferrule_dispatch::targets::{DeliveryContext, FunctionTarget};

fn street(line: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v["properties"]["STREET"].as_str().map(str::to_string)
}

fn run(sync: SyncMode, events: &[String], streets: &[String], clients: usize) -> (f64, u64, u64) {
    let dir =
        std::env::temp_dir().join(format!("ferrule-bus-bench-{}-{sync:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut options = BusOptions::new(&dir);
    options.sync = sync;
    options.limits.rules_per_bus = 1_000;
    let bus = Arc::new(Bus::open(options).expect("open"));
    let delivered = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&delivered);
    bus.register_target(
        "arn:bench:count",
        Arc::new(FunctionTarget(move |_: &str, _: &DeliveryContext<'_>| {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })),
    );
    for (i, s) in streets.iter().enumerate() {
        let pattern =
            serde_json::json!({"source": ["citylots"], "detail": {"properties": {"STREET": [s]}}});
        let name = format!("street-{i:04}");
        bus.put_rule(PutRuleInput::new(&name, &pattern.to_string()))
            .expect("rule");
        bus.put_targets(
            &name,
            None,
            vec![TargetConfig {
                id: "count".into(),
                arn: "arn:bench:count".into(),
                ..Default::default()
            }],
        )
        .expect("target");
    }
    let start = Instant::now();
    let chunk = events.len().div_ceil(clients);
    std::thread::scope(|scope| {
        for part in events.chunks(chunk) {
            let bus = Arc::clone(&bus);
            scope.spawn(move || {
                for batch in part.chunks(10) {
                    let entries = batch
                        .iter()
                        .map(|d| PutEventsEntry::new("citylots", "Feature", d))
                        .collect();
                    let out = bus.put_events(entries).expect("put");
                    assert_eq!(out.failed_entry_count, 0);
                }
            });
        }
    });
    let accepted = start.elapsed().as_secs_f64();
    let expected: u64 = bus
        .counters()
        .iter()
        .filter(|c| c.target.is_empty())
        .map(|c| c.matched)
        .sum();
    while delivered.load(Ordering::Relaxed) < expected {
        std::thread::sleep(Duration::from_millis(2));
    }
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "  ({sync:?}: all accepted after {accepted:.2} s, all delivered after {seconds:.2} s)"
    );
    drop(bus);
    let _ = std::fs::remove_dir_all(&dir);
    (
        events.len() as f64 / seconds,
        expected,
        delivered.load(Ordering::Relaxed),
    )
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(20_000);
    let clients = args.get(1).copied().unwrap_or(8);
    let lots = ferrule_benchdata::citylots(n);
    let events: Vec<String> = lots
        .lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let mut seen = BTreeSet::new();
    let streets: Vec<String> = lots
        .lines
        .iter()
        .filter_map(|l| street(l))
        .filter(|s| seen.insert(s.clone()))
        .take(1_000)
        .collect();
    println!(
        "bus throughput: {n} citylots events as PutEvents entries (batches of 10, {clients} client threads), {} rules",
        streets.len()
    );
    let (synced, expected, got) = run(SyncMode::Always, &events, &streets, clients);
    println!(
        "  sync every commit : {synced:>9.0} entries/s to delivery ({got}/{expected} deliveries)"
    );
    let (unsynced, expected, got) = run(SyncMode::Never, &events, &streets, clients);
    println!(
        "  no sync           : {unsynced:>9.0} entries/s to delivery ({got}/{expected} deliveries)"
    );
    println!(
        "  cost of durability: synced runs at {:.0}% of unsynced",
        100.0 * synced / unsynced
    );
}
