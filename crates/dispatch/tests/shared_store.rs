//! Two dispatchers over one store (threads of one process, or nodes over a
//! shared engine): leases held in the store keep them from delivering the
//! same delivery twice, and between them everything is delivered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrule_core::{Clock, SystemClock};
use ferrule_dispatch::targets::{DeliveryContext, FunctionTarget, Target};
use ferrule_dispatch::{
    Counters, Delivery, DispatchConfig, Dispatcher, NewDelivery, RedbStore, Store, SyncMode,
};
use ferrule_store::MemoryStore;

const N: usize = 2_000;

/// Runs two dispatchers over `store` until nothing is pending; returns how
/// often each event was delivered, and by how many dispatchers in all.
fn deliver_with_two(store: Arc<dyn Store>) -> (HashMap<String, usize>, usize) {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let attempts = Arc::new(AtomicUsize::new(0));
    let target: Arc<dyn Target> = {
        let (seen, attempts) = (Arc::clone(&seen), Arc::clone(&attempts));
        Arc::new(FunctionTarget(move |_: &str, c: &DeliveryContext<'_>| {
            attempts.fetch_add(1, Ordering::Relaxed);
            // A little work, so both dispatchers have deliveries in flight.
            std::thread::sleep(Duration::from_micros(200));
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            *seen.entry(c.event_id.to_string()).or_default() += 1;
            Ok(())
        }))
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now_ms();
    let deliveries: Vec<NewDelivery> = (0..N)
        .map(|i| {
            let mut delivery = Delivery::new(format!("e{i}"), "default", "r", "arn:test:f", "{}");
            delivery.ingested_ms = now;
            NewDelivery {
                due_ms: now,
                delivery,
            }
        })
        .collect();
    store.append(deliveries).expect("append");
    let dispatchers: Vec<Arc<Dispatcher>> = (0..2)
        .map(|_| {
            let target = Arc::clone(&target);
            let d = Dispatcher::new(
                Arc::clone(&store),
                Arc::clone(&clock),
                Arc::new(move |_: &str| Some(Arc::clone(&target))),
                DispatchConfig::default(),
                Arc::new(Counters::default()),
            );
            d.start();
            d
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.pending().expect("pending") > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for d in &dispatchers {
        d.stop();
    }
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    (seen, attempts.load(Ordering::Relaxed))
}

fn assert_once(seen: &HashMap<String, usize>, attempts: usize) {
    assert_eq!(seen.len(), N, "every delivery was made");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(attempts, N);
}

#[test]
fn two_dispatchers_on_one_redb_store_deliver_each_once() {
    let dir = std::env::temp_dir().join(format!("ferrule-two-dispatchers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = RedbStore::open(&dir.join("ferrule.redb"), SyncMode::Never).expect("open");
    let (seen, attempts) = deliver_with_two(Arc::new(store));
    assert_once(&seen, attempts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_dispatchers_on_one_memory_store_deliver_each_once() {
    let (seen, attempts) = deliver_with_two(Arc::new(MemoryStore::new()));
    assert_once(&seen, attempts);
}
