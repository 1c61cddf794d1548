//! Durable dispatch: every (event, target) pair is written to the store
//! before PutEvents answers, then delivered at least once, with the
//! target's retry policy and dead-letter queue.
//!
//! Deliveries are *leased* in memory while an attempt runs; a crash loses
//! only the leases, so everything still in the store is attempted again
//! after a restart (at-least-once).

mod counters;
mod store;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

pub use counters::{CounterSnapshot, Counters};
pub use store::{
    DeadLetter, Delivery, DeliveryKey, DispatchStore, QueueMessage, RedbStore, Settlement,
    StoreError, SyncMode,
};

use crate::bus::Clock;
use crate::targets::{DeliveryContext, DeliveryError, Target};

/// Tuning of delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchConfig {
    /// Delivery threads.
    pub workers: usize,
    /// Delay before the first retry; it doubles with each retry.
    pub backoff_base_ms: u64,
    /// Longest delay between retries.
    pub backoff_cap_ms: u64,
    /// How often idle workers look for due deliveries.
    pub poll_ms: u64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            workers: 4,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 300_000,
            poll_ms: 50,
        }
    }
}

/// Finds the target for an ARN.
pub type Resolver = dyn Fn(&str) -> Option<Arc<dyn Target>> + Send + Sync;

/// Delivers what the store holds.
pub struct Dispatcher {
    store: Arc<dyn DispatchStore>,
    clock: Arc<dyn Clock>,
    resolve: Arc<Resolver>,
    config: DispatchConfig,
    counters: Arc<Counters>,
    leased: Mutex<HashSet<DeliveryKey>>,
    wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Dispatcher {
    /// A dispatcher over `store`; call [`Dispatcher::start`] for background
    /// delivery or [`Dispatcher::run_due`] to deliver synchronously.
    pub fn new(
        store: Arc<dyn DispatchStore>,
        clock: Arc<dyn Clock>,
        resolve: Arc<Resolver>,
        config: DispatchConfig,
        counters: Arc<Counters>,
    ) -> Arc<Dispatcher> {
        Arc::new(Dispatcher {
            store,
            clock,
            resolve,
            config,
            counters,
            leased: Mutex::new(HashSet::new()),
            wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        })
    }

    /// Starts the delivery threads.
    pub fn start(self: &Arc<Self>) {
        let mut threads = match self.threads.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        for i in 0..self.config.workers.max(1) {
            let me = Arc::clone(self);
            if let Ok(handle) = thread::Builder::new()
                .name(format!("ferrule-dispatch-{i}"))
                .spawn(move || me.worker())
            {
                threads.push(handle);
            }
        }
    }

    /// Stops the delivery threads (pending deliveries stay in the store).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        let threads = match self.threads.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        for t in threads {
            let _ = t.join();
        }
    }

    /// Wakes idle workers (new deliveries were appended).
    pub fn notify(&self) {
        let (flag, condvar) = &self.wake;
        if let Ok(mut f) = flag.lock() {
            *f = true;
        }
        condvar.notify_all();
    }

    fn worker(&self) {
        while !self.stop.load(Ordering::SeqCst) {
            let delivered = self.run_batch(64);
            if delivered == 0 {
                let (flag, condvar) = &self.wake;
                let Ok(mut f) = flag.lock() else { return };
                if !*f {
                    let wait = Duration::from_millis(self.config.poll_ms);
                    f = match condvar.wait_timeout(f, wait) {
                        Ok((f, _)) => f,
                        Err(_) => return,
                    };
                }
                *f = false;
            }
        }
    }

    /// Attempts every delivery that is due now, synchronously; returns the
    /// number of attempts made. With a [`ManualClock`](crate::bus::ManualClock)
    /// this drives retries step by step.
    pub fn run_due(&self) -> usize {
        let mut total = 0;
        loop {
            let n = self.run_batch(256);
            total += n;
            if n == 0 {
                return total;
            }
        }
    }

    fn run_batch(&self, limit: usize) -> usize {
        let now = self.clock.now_ms();
        let batch = {
            let Ok(mut leased) = self.leased.lock() else {
                return 0;
            };
            let due = match self.store.due(now, limit, &|k| leased.contains(k)) {
                Ok(d) => d,
                Err(_) => return 0,
            };
            for (k, _) in &due {
                leased.insert(*k);
            }
            due
        };
        let n = batch.len();
        let mut outcomes = Vec::with_capacity(n);
        for (key, delivery) in batch {
            outcomes.push(self.attempt(key, delivery, now));
        }
        let keys: Vec<DeliveryKey> = outcomes.iter().map(settled_key).collect();
        // If settling fails the leases are released and the deliveries are
        // attempted again: at least once.
        let _ = self.store.settle(outcomes);
        if let Ok(mut leased) = self.leased.lock() {
            for k in keys {
                leased.remove(&k);
            }
        }
        n
    }

    fn attempt(&self, key: DeliveryKey, mut d: Delivery, now: u64) -> Settlement {
        let age = now.saturating_sub(d.ingested_ms);
        if age > d.max_age_ms {
            return self.fail(
                key,
                d,
                DeliveryError::permanent("MAXIMUM_EVENT_AGE_EXCEEDED", "the event is too old"),
                Some("MaximumEventAgeInSeconds"),
                now,
            );
        }
        d.attempts += 1;
        let target = (self.resolve)(&d.target_arn);
        if let Some(queue) = target.as_ref().and_then(|t| t.built_in_queue()) {
            self.counters
                .target(&d.bus, &d.rule, &d.target_id)
                .delivered
                .fetch_add(1, Ordering::Relaxed);
            return Settlement::Enqueue {
                key,
                queue: queue.to_string(),
                message: QueueMessage {
                    seq: 0,
                    body: d.payload,
                    attributes: Vec::new(),
                    sent_ms: now,
                },
            };
        }
        let result = match target {
            Some(target) => target.deliver(
                &d.payload,
                &DeliveryContext {
                    event_id: &d.event_id,
                    rule_arn: &d.rule_arn,
                    target_arn: &d.target_arn,
                    attempt: d.attempts,
                    principal: d.principal.as_deref(),
                },
            ),
            None => Err(DeliveryError::permanent(
                "NO_RESOURCE",
                format!("target {} does not exist", d.target_arn),
            )),
        };
        let counters = self.counters.target(&d.bus, &d.rule, &d.target_id);
        match result {
            Ok(()) => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                Settlement::Done(key)
            }
            Err(e) if e.retryable => {
                if d.attempts > d.max_retries {
                    return self.fail(key, d, e, Some("MaximumRetryAttempts"), now);
                }
                let due = now + self.backoff(key.seq, d.attempts);
                if due.saturating_sub(d.ingested_ms) > d.max_age_ms {
                    return self.fail(key, d, e, Some("MaximumEventAgeInSeconds"), now);
                }
                counters.retried.fetch_add(1, Ordering::Relaxed);
                d.last_error = Some(format!("{}: {}", e.code, e.message));
                Settlement::Retry {
                    key,
                    due_ms: due,
                    delivery: d,
                }
            }
            Err(e) => self.fail(key, d, e, None, now),
        }
    }

    fn fail(
        &self,
        key: DeliveryKey,
        d: Delivery,
        e: DeliveryError,
        exhausted: Option<&str>,
        now: u64,
    ) -> Settlement {
        let counters = self.counters.target(&d.bus, &d.rule, &d.target_id);
        counters.failed.fetch_add(1, Ordering::Relaxed);
        let queue = d
            .dead_letter_arn
            .as_deref()
            .and_then(crate::targets::queue_name)
            .map(str::to_string);
        let dead_letter = queue.map(|q| {
            counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
            (
                q,
                DeadLetter {
                    delivery: d,
                    error_code: e.code,
                    error_message: e.message,
                    exhausted_retry_condition: exhausted.map(str::to_string),
                    at_ms: now,
                },
            )
        });
        Settlement::Fail { key, dead_letter }
    }

    /// Exponential backoff with "equal jitter": half the delay is fixed, the
    /// other half random, so retries of many events spread out.
    fn backoff(&self, seq: u64, attempts: u32) -> u64 {
        let exp = attempts.saturating_sub(1).min(32);
        let delay = self
            .config
            .backoff_base_ms
            .saturating_mul(1u64 << exp)
            .min(self.config.backoff_cap_ms);
        let half = delay / 2;
        half + splitmix(seq ^ (u64::from(attempts) << 48)) % (half + 1)
    }
}

fn settled_key(s: &Settlement) -> DeliveryKey {
    match s {
        Settlement::Done(k)
        | Settlement::Enqueue { key: k, .. }
        | Settlement::Retry { key: k, .. }
        | Settlement::Fail { key: k, .. } => *k,
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
