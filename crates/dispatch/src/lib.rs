//! Durable dispatch: every (event, target) pair is written to the
//! delivery log before PutEvents answers, then delivered at least once,
//! with the target's retry policy and dead-letter queue.
//!
//! Deliveries are *leased* in the store while an attempt runs (until
//! [`DispatchConfig::lease_ms`] from the lease): two dispatchers over one
//! store never attempt the same delivery at once, and a crash loses nothing
//! (what a dead dispatcher held is delivered again once its leases expire,
//! at-least-once).
//!
//! In the background, one thread leases due deliveries and hands them to
//! per-target *lanes* (one per target ARN, at most
//! [`DispatchConfig::workers`] attempts in flight each), so deliveries to
//! different targets run concurrently and an endpoint that never answers
//! holds only its own lane. Built-in queues need no I/O and are settled at
//! once. Outcomes go to a settler thread that records them in batches; if
//! the store fails, it keeps them (their leases still hold, so nothing is
//! delivered twice meanwhile) and retries with backoff.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod api_destination;
mod counters;
pub mod http_client;
pub mod targets;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub use counters::{CounterSnapshot, Counters, TargetCounters};
pub use ferrule_core::health::{Fault, Health, HealthReport};
pub use ferrule_store::{
    Delivery, DeliveryId, Lease, Leased, NewDelivery, NewMessage, Outcome, QueueMessage, Settled,
    Store, StoreError, StoreErrorKind,
};
pub use ferrule_store_redb::{RedbStore, SyncMode};

use crate::targets::{DeliveryContext, DeliveryError, Target};
use ferrule_core::Clock;

/// Tuning of delivery ([`DispatchConfig::default`], then set the fields to change).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// Attempts in flight at once to one target (by ARN). Different targets
    /// are delivered side by side, each in its own lane.
    pub workers: usize,
    /// Delivery threads in all lanes together. Lanes beyond it wait for a
    /// thread; a hanging endpoint holds at most `workers` of them.
    pub max_threads: usize,
    /// Delay before the first retry; it doubles with each retry.
    pub backoff_base_ms: u64,
    /// Longest delay between retries.
    pub backoff_cap_ms: u64,
    /// How often idle workers look for due deliveries.
    pub poll_ms: u64,
    /// How long a leased delivery is held for one dispatcher (waiting in
    /// its lane, then attempted, then settled) before another may take it.
    /// Longer than any target's timeout; a delivery whose lease ran out
    /// before its attempt began is left to whoever leases it next.
    pub lease_ms: u64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            workers: 4,
            max_threads: 64,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 300_000,
            poll_ms: 50,
            lease_ms: 300_000,
        }
    }
}

/// Finds the target for an ARN.
pub type Resolver = dyn Fn(&str) -> Option<Arc<dyn Target>> + Send + Sync;

/// Deliveries leased per look at the store.
const FETCH: usize = 512;
/// Deliveries a lane holds in memory; beyond it, only their leases are kept
/// (so that no one else takes them) until the lane has drained by half,
/// when they are released to be leased again.
const LANE_CAPACITY: usize = 256;
/// Waits after a store error: the first, and the longest.
const STORE_RETRY_FIRST: Duration = Duration::from_millis(50);
const STORE_RETRY_MAX: Duration = Duration::from_secs(2);

/// How long the settler gathers outcomes into one commit.
const SETTLE_GATHER: Duration = Duration::from_millis(2);

/// An outcome to record under its lease.
type Settlement = (Lease, Outcome);

/// Where outcomes are sent, and the thread that records them.
type Settler = (Sender<Vec<Settlement>>, thread::JoinHandle<()>);

/// Delivers what the store holds.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    resolve: Arc<Resolver>,
    config: DispatchConfig,
    counters: Arc<Counters>,
    lanes: Mutex<Lanes>,
    wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    settler: Mutex<Option<Settler>>,
    health: Health,
    store_errors: AtomicU64,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The lanes' queues.
#[derive(Default)]
struct Lanes {
    by_target: HashMap<String, Lane>,
    /// Lane threads alive.
    threads: usize,
}

#[derive(Default)]
struct Lane {
    queue: VecDeque<Work>,
    /// Leased deliveries not held in memory while the queue was full.
    parked: HashMap<DeliveryId, Lease>,
    /// Threads working this lane.
    active: usize,
}

struct Work {
    leased: Leased,
    target: Arc<dyn Target>,
}

impl Lanes {
    /// A lane that has work and room for another thread.
    fn wanting(&self, per_target: usize) -> Option<String> {
        self.by_target
            .iter()
            .find(|(_, l)| l.active < per_target && l.active < l.queue.len())
            .map(|(arn, _)| arn.clone())
    }
}

impl Dispatcher {
    /// A dispatcher over `store`; call [`Dispatcher::start`] for background
    /// delivery or [`Dispatcher::run_due`] to deliver synchronously.
    pub fn new(
        store: Arc<dyn Store>,
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
            lanes: Mutex::new(Lanes::default()),
            wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            settler: Mutex::new(None),
            health: Health::default(),
            store_errors: AtomicU64::new(0),
        })
    }

    /// Starts background delivery: the fetching thread and the settler
    /// (lane threads start on demand).
    pub fn start(self: &Arc<Self>) {
        let (sender, receiver) = mpsc::channel();
        let me = Arc::clone(self);
        if let Ok(handle) = thread::Builder::new()
            .name("ferrule-settle".into())
            .spawn(move || me.settle_loop(&receiver))
        {
            *lock(&self.settler) = Some((sender, handle));
        }
        let me = Arc::clone(self);
        if let Ok(handle) = thread::Builder::new()
            .name("ferrule-dispatch".into())
            .spawn(move || me.fetch_loop())
        {
            lock(&self.threads).push(handle);
        }
    }

    /// Stops delivery (pending deliveries stay in the store). Waits for
    /// attempts in flight, then records their outcomes; deliveries leased
    /// and not attempted are released.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        loop {
            let threads = std::mem::take(&mut *lock(&self.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        let unattempted: Vec<Settlement> = {
            let mut lanes = lock(&self.lanes);
            let mut out = Vec::new();
            for (_, lane) in lanes.by_target.drain() {
                out.extend(
                    lane.queue
                        .into_iter()
                        .map(|w| (w.leased.lease, Outcome::Release)),
                );
                out.extend(lane.parked.into_values().map(|l| (l, Outcome::Release)));
            }
            out
        };
        if !unattempted.is_empty() {
            self.submit(unattempted);
        }
        if let Some((sender, handle)) = lock(&self.settler).take() {
            drop(sender);
            let _ = handle.join();
        }
    }

    /// The target for `arn`, as delivery finds it (`None`: no such target).
    /// A router uses it to send deliveries into built-in queues at once.
    pub fn resolve(&self, arn: &str) -> Option<Arc<dyn Target>> {
        (self.resolve)(arn)
    }

    /// Wakes idle workers (new deliveries were appended).
    pub fn notify(&self) {
        let (flag, condvar) = &self.wake;
        if let Ok(mut f) = flag.lock() {
            *f = true;
        }
        condvar.notify_all();
    }

    /// What does not work in delivery (leasing due deliveries or recording
    /// outcomes fails); empty when healthy.
    pub fn faults(&self) -> Vec<Fault> {
        self.health.faults()
    }

    /// Store operations of delivery that failed since the start.
    pub fn store_errors(&self) -> u64 {
        self.store_errors.load(Ordering::Relaxed)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Waits until notified or `wait` has passed.
    fn idle(&self, wait: Duration) {
        let (flag, condvar) = &self.wake;
        let Ok(mut f) = flag.lock() else { return };
        if !*f {
            f = match condvar.wait_timeout(f, wait) {
                Ok((f, _)) => f,
                Err(_) => return,
            };
        }
        *f = false;
    }

    /// A store operation of delivery failed: counted, logged at ERROR when
    /// it starts failing, and reported by [`Dispatcher::faults`].
    fn store_error(&self, component: &'static str, e: &StoreError) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
        self.health.fail(component, e.message());
    }

    fn fetch_loop(self: Arc<Self>) {
        let mut delay = STORE_RETRY_FIRST;
        while !self.stopping() {
            match self.fetch() {
                Ok(0) => {
                    delay = STORE_RETRY_FIRST;
                    self.idle(Duration::from_millis(self.config.poll_ms));
                }
                Ok(_) => delay = STORE_RETRY_FIRST,
                Err(()) => {
                    self.idle(delay);
                    delay = (delay * 2).min(STORE_RETRY_MAX);
                }
            }
        }
    }

    /// Leases the due deliveries: settles those that need no I/O and hands
    /// the others to their lanes. Returns how many were leased.
    fn fetch(self: &Arc<Self>) -> Result<usize, ()> {
        let now = self.clock.now_ms();
        let due = match self
            .store
            .lease(now, FETCH, now.saturating_add(self.config.lease_ms))
        {
            Ok(d) => d,
            Err(e) => {
                self.store_error("delivery", &e);
                return Err(());
            }
        };
        self.health.recover("delivery");
        let n = due.len();
        let mut settled = Vec::new();
        let mut work = Vec::new();
        for leased in due {
            match (self.resolve)(&leased.delivery.target_arn) {
                Some(target) if target.built_in_queue().is_none() => {
                    work.push(Work { leased, target });
                }
                target => settled.push(self.attempt(leased, target.as_ref(), now)),
            }
        }
        if !settled.is_empty() {
            self.submit(settled);
        }
        if !work.is_empty() {
            let mut lanes = lock(&self.lanes);
            for w in work {
                let lane = lanes
                    .by_target
                    .entry(w.leased.delivery.target_arn.clone())
                    .or_default();
                if lane.queue.len() >= LANE_CAPACITY {
                    lane.parked.insert(w.leased.lease.id(), w.leased.lease);
                } else {
                    lane.queue.push_back(w);
                }
            }
            self.staff(&mut lanes);
        }
        Ok(n)
    }

    /// Starts threads for lanes that have work and room for one.
    fn staff(self: &Arc<Self>, lanes: &mut Lanes) {
        let per_target = self.config.workers.max(1);
        while lanes.threads < self.config.max_threads.max(1) && !self.stopping() {
            let Some(arn) = lanes.wanting(per_target) else {
                return;
            };
            let me = Arc::clone(self);
            let lane_arn = arn.clone();
            let spawned = thread::Builder::new()
                .name("ferrule-deliver".into())
                .spawn(move || me.lane_loop(lane_arn));
            match spawned {
                Ok(handle) => {
                    lanes.threads += 1;
                    if let Some(lane) = lanes.by_target.get_mut(&arn) {
                        lane.active += 1;
                    }
                    let mut threads = lock(&self.threads);
                    threads.retain(|t| !t.is_finished());
                    threads.push(handle);
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot start a delivery thread");
                    return;
                }
            }
        }
    }

    /// A lane thread: attempts its lane's deliveries one after the other;
    /// when the lane is empty it moves to another lane that wants a thread,
    /// or ends.
    fn lane_loop(self: Arc<Self>, mut arn: String) {
        let per_target = self.config.workers.max(1);
        loop {
            let (work, unparked) = {
                let mut lanes = lock(&self.lanes);
                let stopping = self.stopping();
                let next = match lanes.by_target.get_mut(&arn) {
                    Some(lane) if !stopping => lane.queue.pop_front().map(|w| {
                        let parked: Vec<Lease> = if lane.queue.len() < LANE_CAPACITY / 2 {
                            lane.parked.drain().map(|(_, l)| l).collect()
                        } else {
                            Vec::new()
                        };
                        (w, parked)
                    }),
                    _ => None,
                };
                match next {
                    Some(found) => found,
                    None => {
                        if let Some(lane) = lanes.by_target.get_mut(&arn) {
                            lane.active = lane.active.saturating_sub(1);
                            if lane.active == 0 && lane.queue.is_empty() && lane.parked.is_empty() {
                                lanes.by_target.remove(&arn);
                            }
                        }
                        let other = if stopping {
                            None
                        } else {
                            lanes.wanting(per_target)
                        };
                        match other.and_then(|o| lanes.by_target.get_mut(&o).map(|l| (o, l))) {
                            Some((other, lane)) => {
                                lane.active += 1;
                                arn = other;
                                continue;
                            }
                            None => {
                                lanes.threads = lanes.threads.saturating_sub(1);
                                return;
                            }
                        }
                    }
                }
            };
            if !unparked.is_empty() {
                // Back in the log, due now: the next fetch leases them again.
                self.submit(
                    unparked
                        .into_iter()
                        .map(|l| (l, Outcome::Release))
                        .collect(),
                );
                self.notify();
            }
            let now = self.clock.now_ms();
            if now >= work.leased.lease.until_ms() {
                // Waited in the lane past its lease: another dispatcher (or
                // this one) may hold it now; whoever leases it attempts it.
                tracing::debug!(
                    delivery = work.leased.lease.id().0,
                    "lease ran out before the attempt; left to the next lease"
                );
                continue;
            }
            let settlement = self.attempt(work.leased, Some(&work.target), now);
            self.submit(vec![settlement]);
        }
    }

    /// Hands outcomes to the settler (or records them at once without one).
    fn submit(&self, outcomes: Vec<Settlement>) {
        let outcomes = {
            let settler = lock(&self.settler);
            match settler.as_ref() {
                Some((sender, _)) => match sender.send(outcomes) {
                    Ok(()) => return,
                    Err(mpsc::SendError(o)) => o,
                },
                None => outcomes,
            }
        };
        let now = self.clock.now_ms();
        match self.store.settle(now, outcomes.clone()) {
            Ok(answers) => {
                let again = refused(&outcomes, &answers);
                if !again.is_empty()
                    && let Err(e) = self.store.settle(now, again)
                {
                    self.store_error("settle", &e);
                }
            }
            // Unsettled: still in the store, attempted again when the
            // leases run out.
            Err(e) => self.store_error("settle", &e),
        }
    }

    /// Records outcomes in batches. When the store fails, the outcomes are
    /// kept and recording is retried with backoff; their leases hold
    /// meanwhile, so no delivery is attempted twice.
    fn settle_loop(&self, receiver: &Receiver<Vec<Settlement>>) {
        let mut held: Vec<Settlement> = Vec::new();
        let mut delay = STORE_RETRY_FIRST;
        let mut closed = false;
        loop {
            if held.is_empty() {
                match receiver.recv() {
                    Ok(more) => held.extend(more),
                    Err(_) => return,
                }
            }
            // A commit costs about a sync whatever its size: outcomes that
            // arrive within SETTLE_GATHER share it.
            let gather_until = Instant::now() + SETTLE_GATHER;
            while held.len() < 4096 {
                let wait = gather_until.saturating_duration_since(Instant::now());
                match receiver.recv_timeout(wait) {
                    Ok(more) => held.extend(more),
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            match self.store.settle(self.clock.now_ms(), held.clone()) {
                Ok(answers) => {
                    held = refused(&held, &answers);
                    delay = STORE_RETRY_FIRST;
                    self.health.recover("settle");
                    self.notify();
                }
                Err(e) => {
                    self.store_error("settle", &e);
                    if closed || self.stopping() {
                        tracing::error!(
                            outcomes = held.len(),
                            error = %e,
                            "stopping with delivery outcomes not recorded: \
                             those deliveries will be attempted again"
                        );
                        return;
                    }
                    thread::sleep(delay);
                    delay = (delay * 2).min(STORE_RETRY_MAX);
                }
            }
        }
    }

    /// Attempts every delivery that is due now, synchronously; returns the
    /// number of attempts made. With a [`ManualClock`](ferrule_core::ManualClock)
    /// this drives retries step by step. A store error ends the run (it is
    /// counted and reported by [`Dispatcher::faults`]); what was not
    /// recorded is released to be attempted again (or, if the store refuses
    /// that too, once its lease runs out).
    pub fn run_due(&self) -> usize {
        let mut total = 0;
        loop {
            let now = self.clock.now_ms();
            let batch = match self
                .store
                .lease(now, 256, now.saturating_add(self.config.lease_ms))
            {
                Ok(d) => d,
                Err(e) => {
                    self.store_error("delivery", &e);
                    return total;
                }
            };
            self.health.recover("delivery");
            if batch.is_empty() {
                return total;
            }
            total += batch.len();
            let mut outcomes: Vec<Settlement> = batch
                .into_iter()
                .map(|leased| {
                    let target = (self.resolve)(&leased.delivery.target_arn);
                    self.attempt(leased, target.as_ref(), now)
                })
                .collect();
            while !outcomes.is_empty() {
                match self.store.settle(now, outcomes.clone()) {
                    Ok(answers) => {
                        self.health.recover("settle");
                        outcomes = refused(&outcomes, &answers);
                    }
                    Err(e) => {
                        self.store_error("settle", &e);
                        // Not recorded: give the deliveries back, due now,
                        // so the next run attempts them again (if the
                        // store takes even that, else their leases run out).
                        let release = outcomes
                            .iter()
                            .map(|(l, _)| (*l, Outcome::Release))
                            .collect();
                        if let Err(e) = self.store.settle(now, release) {
                            self.store_error("settle", &e);
                        }
                        return total;
                    }
                }
            }
        }
    }

    fn attempt(&self, leased: Leased, target: Option<&Arc<dyn Target>>, now: u64) -> Settlement {
        let Leased {
            lease,
            delivery: mut d,
            ..
        } = leased;
        let age = now.saturating_sub(d.ingested_ms);
        if age > d.max_age_ms {
            return self.fail(
                lease,
                d,
                DeliveryError::permanent("MAXIMUM_EVENT_AGE_EXCEEDED", "the event is too old"),
                Some("MaximumEventAgeInSeconds"),
            );
        }
        d.attempts += 1;
        let counters = self.counters.target(&d.bus, &d.rule, &d.target_id);
        if let Some(queue) = target.and_then(|t| t.built_in_queue()) {
            counters.delivered.fetch_add(1, Ordering::Relaxed);
            let outcome = Outcome::AckAndSend {
                queue: queue.to_string(),
                message: targets::QueueTarget::message(d.payload, d.message_group_id),
            };
            return (lease, outcome);
        }
        let result = match target {
            Some(target) => target.deliver(
                &d.payload,
                &DeliveryContext {
                    event_id: &d.event_id,
                    rule_arn: &d.rule_arn,
                    target_arn: &d.target_arn,
                    target_id: &d.target_id,
                    attempt: d.attempts,
                    principal: d.principal.as_deref(),
                },
            ),
            None => Err(DeliveryError::permanent(
                "NO_RESOURCE",
                format!("target {} does not exist", d.target_arn),
            )),
        };
        let e = match result {
            Ok(()) => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                return (lease, Outcome::Ack);
            }
            Err(e) => e,
        };
        counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            bus = %d.bus,
            rule = %d.rule,
            target = %d.target_id,
            arn = %d.target_arn,
            code = %e.code,
            attempt = d.attempts,
            retryable = e.retryable,
            error = %e.message,
            "delivery attempt failed"
        );
        if !e.retryable {
            return self.fail(lease, d, e, None);
        }
        if d.attempts > d.max_retries {
            return self.fail(lease, d, e, Some("MaximumRetryAttempts"));
        }
        let due = now + self.backoff(lease.id().0, d.attempts);
        if due.saturating_sub(d.ingested_ms) > d.max_age_ms {
            return self.fail(lease, d, e, Some("MaximumEventAgeInSeconds"));
        }
        counters.retried.fetch_add(1, Ordering::Relaxed);
        let outcome = Outcome::Retry {
            retry_at_ms: due,
            attempts: d.attempts,
            last_error: Some(format!("{}: {}", e.code, e.message)),
        };
        (lease, outcome)
    }

    fn fail(
        &self,
        lease: Lease,
        d: Delivery,
        e: DeliveryError,
        exhausted: Option<&str>,
    ) -> Settlement {
        let counters = self.counters.target(&d.bus, &d.rule, &d.target_id);
        counters.failed.fetch_add(1, Ordering::Relaxed);
        let queue = d
            .dead_letter_arn
            .as_deref()
            .and_then(ferrule_core::arn::queue_name)
            .map(str::to_string);
        tracing::warn!(
            bus = %d.bus,
            rule = %d.rule,
            target = %d.target_id,
            arn = %d.target_arn,
            code = %e.code,
            attempts = d.attempts,
            exhausted = exhausted.unwrap_or(""),
            dead_letter_queue = queue.as_deref().unwrap_or(""),
            "delivery failed for good"
        );
        let to = queue.map(|q| {
            counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
            (q, self.dead_letter_message(&d, &e, exhausted))
        });
        (lease, Outcome::DeadLetter { to })
    }

    /// A dead letter as a queue message: the original event (from the
    /// archive) as the body, and the reason as attributes (the names
    /// EventBridge uses).
    fn dead_letter_message(
        &self,
        d: &Delivery,
        e: &DeliveryError,
        exhausted: Option<&str>,
    ) -> NewMessage {
        let body = match self.store.event(&d.event_id) {
            Ok(Some(event)) => String::from_utf8_lossy(&event.body).into_owned(),
            found => {
                // The archive keeps every event a delivery refers to; a
                // failed read leaves the delivered payload as the best copy.
                tracing::error!(
                    event = %d.event_id,
                    error = ?found.err(),
                    "the dead letter's event is not in the archive; sending the payload"
                );
                d.payload.clone()
            }
        };
        let mut attributes = vec![
            ("RULE_ARN".to_string(), d.rule_arn.clone()),
            ("TARGET_ARN".to_string(), d.target_arn.clone()),
            ("ERROR_CODE".to_string(), e.code.clone()),
            ("ERROR_MESSAGE".to_string(), e.message.clone()),
            (
                "RETRY_ATTEMPTS".to_string(),
                d.attempts.saturating_sub(1).to_string(),
            ),
        ];
        if let Some(c) = exhausted {
            attributes.push(("EXHAUSTED_RETRY_CONDITION".to_string(), c.to_string()));
        }
        let mut message = NewMessage::new(body);
        message.attributes = attributes;
        message
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

/// What to settle again after `answers`: an outcome refused because its
/// queue is gone (deleted since the target was resolved) becomes a dead
/// letter without a queue, logged. Outcomes whose lease was lost are
/// dropped: someone else holds the delivery now.
fn refused(outcomes: &[Settlement], answers: &[Settled]) -> Vec<Settlement> {
    let mut again = Vec::new();
    for ((lease, outcome), answer) in outcomes.iter().zip(answers) {
        match answer {
            Settled::Applied => {}
            Settled::LeaseLost if matches!(outcome, Outcome::Release) => {}
            Settled::LeaseLost => tracing::warn!(
                delivery = lease.id().0,
                "a delivery's lease ran out before its outcome was recorded; \
                 it will be attempted again"
            ),
            Settled::NoQueue => {
                let queue = match outcome {
                    Outcome::AckAndSend { queue, .. } => queue.as_str(),
                    Outcome::DeadLetter {
                        to: Some((queue, _)),
                    } => queue.as_str(),
                    _ => "",
                };
                tracing::error!(
                    delivery = lease.id().0,
                    queue,
                    "the queue was deleted before the delivery was recorded; dropping it"
                );
                again.push((*lease, Outcome::DeadLetter { to: None }));
            }
        }
    }
    again
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
