//! The scheduler: schedules that fire on time into the durable delivery log.
//!
//! Every schedule (a rule's `ScheduleExpression`, or an EventBridge Scheduler
//! schedule the server keeps) is one entry of a map and at most one item of a
//! binary heap keyed by its next invocation time; one thread pops what is due,
//! builds the payloads, and writes each fire's record (the fire, in the event
//! archive, under an id derived from the schedule and the scheduled time) and
//! its deliveries in **one store transaction** ([`Store::ingest`]); delivery is
//! then the dispatcher's (retries with the target's policy, dead letters). No
//! thread or timer per schedule.
//!
//! **Restarts.** Before a pass writes its fires, it records in the store how
//! far it has fired (a high-water mark: every run invoked at or before it is
//! fired). At the next start each schedule resumes after that mark: fires
//! that came due while the server was down are delivered once, each, if
//! they are still within the target's `MaximumEventAgeInSeconds` (their age
//! counted from their invocation time), and otherwise counted as missed
//! ([`SchedulerStats::missed`]). Since the mark is written before the fires,
//! no fire is delivered twice because of a restart; a crash between the two
//! writes loses that pass's fires (at most once, never twice).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::thread;
use std::time::Duration;

use ferrule_core::json::write_str;
use ferrule_core::time::{format_millis, format_seconds};
use ferrule_dispatch::{Delivery, NewDelivery};
use ferrule_schedule::jiff::Timestamp;
use ferrule_schedule::{FlexibleTimeWindow, Invocation, Schedule, ScheduleExpression, Window};
use ferrule_store::{ArchivedEvent, Expect};
use ferrule_transform::{InputSpec, RenderContext};

use crate::{Bus, BusError, Inner, RetryPolicy, RuleRecord, input_spec};

/// The bus name under which a fire's record is archived (no event bus can be
/// named so: bus names have no control characters).
const FIRE_BUS: &str = "\u{1f}schedule";
/// Metadata: the scheduler's high-water mark (`scheduler`/`committed`).
const MARK_KIND: &str = "scheduler";
const MARK_NAME: &str = "committed";
/// Metadata: the anchor of each rule schedule (`rule-schedule`/NAME).
const RULE_ANCHOR_KIND: &str = "rule-schedule";
/// Key prefix of rule schedules in the timer (Scheduler keys are ARNs).
const RULE_PREFIX: &str = "\u{1f}rule/";
/// Fires taken per pass (one store transaction).
const BATCH: usize = 4_096;
/// Longest wait between passes (a manual clock moves without telling).
const IDLE: Duration = Duration::from_millis(100);
/// At most this many missed fires are counted one by one per schedule at a
/// restart; beyond, the schedule jumps ahead (and the count says "at least").
const MISSED_COUNT_CAP: u32 = 100_000;

/// What one fire delivers to one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirePayload {
    /// A rule's Scheduled Event (`source: aws.events`, `detail-type:
    /// Scheduled Event`, `resources: [rule ARN]`, `time`: the scheduled
    /// time), rendered by the target's `Input`/`InputPath`/`InputTransformer`.
    ScheduledEvent(InputSpec),
    /// Text (EventBridge Scheduler's `Input`), with the context attributes
    /// `<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`,
    /// `<aws.scheduler.execution-id>` and `<aws.scheduler.attempt-number>`
    /// replaced by their values.
    Template(String),
    /// An event for a bus target (Scheduler's `EventBridgeParameters`): the
    /// envelope of `source`, `detail_type` and the template `detail` (a JSON
    /// object once rendered), with the schedule's ARN as its resource.
    Event {
        /// `Source`.
        source: String,
        /// `DetailType`.
        detail_type: String,
        /// The detail: a template as in [`FirePayload::Template`].
        detail: String,
    },
}

/// One target of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FireTarget {
    /// The target's id (counters, dead letters).
    pub id: String,
    /// Where to deliver (anything the bus delivers to).
    pub arn: String,
    /// The payload.
    pub payload: FirePayload,
    /// The retry policy (`MaximumRetryAttempts`, `MaximumEventAgeInSeconds`).
    pub retry_policy: RetryPolicy,
    /// The dead-letter queue's ARN.
    pub dead_letter_arn: Option<String>,
    /// The message group of a FIFO queue target (`SqsParameters`).
    pub message_group_id: Option<String>,
}

/// A schedule as the scheduler runs it.
#[derive(Clone, Debug)]
pub struct TimedSchedule {
    /// Its unique key (Scheduler: the schedule's ARN).
    pub key: String,
    /// Its ARN (the Scheduled Event's resource, `<aws.scheduler.schedule-arn>`,
    /// and `RULE_ARN` of its dead letters).
    pub arn: String,
    /// When it runs.
    pub schedule: Schedule,
    /// Whether it fires (`State: ENABLED`).
    pub enabled: bool,
    /// Its targets (a rule's, or the one target of a Scheduler schedule).
    pub targets: Vec<FireTarget>,
    /// The group and name its counters are kept under ([`Bus::counters`]:
    /// `bus` and `rule`).
    pub counter_group: String,
    /// See `counter_group`.
    pub counter_name: String,
    /// Only runs scheduled strictly after this instant fire (ms since the
    /// epoch): its creation or last update.
    pub after_ms: u64,
    /// Whether the scheduler calls the completion hook once the schedule
    /// has no run left (`ActionAfterCompletion: DELETE`).
    pub delete_after_completion: bool,
}

/// A delivery of one payload to one target, outside any rule
/// ([`Bus::deliver_once`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneOffDelivery {
    /// The id under which the payload is archived (and its dead letter found);
    /// an id already archived is kept as first written.
    pub event_id: String,
    /// The ARN named as the source of the delivery (`RULE_ARN` of its dead
    /// letter).
    pub source_arn: String,
    /// Counters: the group (`bus`), name (`rule`) and target id.
    pub counter_group: String,
    /// See `counter_group`.
    pub counter_name: String,
    /// See `counter_group`.
    pub target_id: String,
    /// Where to deliver.
    pub target_arn: String,
    /// What to deliver.
    pub payload: String,
    /// Retries and maximum age.
    pub retry_policy: RetryPolicy,
    /// The dead-letter queue's ARN.
    pub dead_letter_arn: Option<String>,
    /// From when the age is counted (ms since the epoch).
    pub created_ms: u64,
}

/// What the scheduler has done since the bus opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Schedules it holds.
    pub schedules: usize,
    /// Fires committed (one per schedule run; a rule's fire counts once
    /// whatever its targets).
    pub fired: u64,
    /// Target invocations not made because the fire came due while the
    /// server was down and is older than the target's maximum event age.
    pub missed: u64,
    /// Passes whose store write failed (retried).
    pub store_errors: u64,
}

/// Called with a schedule's key when a schedule with
/// [`TimedSchedule::delete_after_completion`] has no run left.
pub type CompletionHook = Arc<dyn Fn(&str) + Send + Sync>;

/// The heap, the entries and the thread.
pub(crate) struct Timer {
    state: Mutex<TimerState>,
    wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
    rules_dirty: AtomicBool,
    /// When the rules first changed since the last sync (their anchor).
    rules_changed_ms: AtomicU64,
    completion: RwLock<Option<CompletionHook>>,
    lags: Mutex<Option<Vec<i64>>>,
    fired: AtomicU64,
    missed: AtomicU64,
    store_errors: AtomicU64,
}

struct TimerState {
    entries: HashMap<String, Entry>,
    heap: BinaryHeap<Reverse<(u64, u64, String)>>,
    seq: u64,
    /// The high-water mark read at open: every run invoked at or before it
    /// was fired by the previous run.
    resumed_mark: Option<u64>,
    /// The mark last written.
    written_mark: u64,
    /// Rule schedules seen at the last sync, by name, with their fingerprint.
    rules: HashMap<String, String>,
    rules_synced: bool,
}

struct Entry {
    schedule: TimedSchedule,
    generation: u64,
    next: Option<Invocation>,
}

impl Timer {
    pub(crate) fn new() -> Timer {
        Timer {
            state: Mutex::new(TimerState {
                entries: HashMap::new(),
                heap: BinaryHeap::new(),
                seq: 0,
                resumed_mark: None,
                written_mark: 0,
                rules: HashMap::new(),
                rules_synced: false,
            }),
            wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
            rules_dirty: AtomicBool::new(true),
            rules_changed_ms: AtomicU64::new(0),
            completion: RwLock::new(None),
            lags: Mutex::new(None),
            fired: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
        }
    }

    /// Reads the previous run's high-water mark (at open).
    pub(crate) fn load(&self, inner: &Inner) -> Result<(), BusError> {
        let mark = inner
            .store
            .get(MARK_KIND, MARK_NAME)?
            .and_then(|r| String::from_utf8(r.value).ok())
            .and_then(|t| t.trim().parse::<u64>().ok());
        let mut s = lock(&self.state);
        s.resumed_mark = mark;
        s.written_mark = mark.unwrap_or(0);
        Ok(())
    }

    /// Starts the scheduler thread.
    pub(crate) fn start(&self, inner: Weak<Inner>) {
        let spawned = thread::Builder::new()
            .name("ferrule-scheduler".into())
            .spawn(move || {
                loop {
                    let Some(inner) = inner.upgrade() else { return };
                    if inner.timer.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let wait = inner.timer.pass(&inner);
                    let timer = &inner.timer;
                    let (flag, condvar) = &timer.wake;
                    let mut woken = lock(flag);
                    if !*woken {
                        woken = match condvar.wait_timeout(woken, wait) {
                            Ok((w, _)) => w,
                            Err(p) => p.into_inner().0,
                        };
                    }
                    *woken = false;
                }
            });
        match spawned {
            Ok(handle) => *lock(&self.thread) = Some(handle),
            Err(e) => tracing::error!(error = %e, "cannot start the scheduler thread"),
        }
    }

    /// Stops the thread (waits for it, unless called from it).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        let handle = lock(&self.thread).take();
        if let Some(h) = handle
            && h.thread().id() != thread::current().id()
        {
            let _ = h.join();
        }
    }

    /// Wakes the thread (a schedule changed, or the clock moved).
    pub(crate) fn notify(&self) {
        let (flag, condvar) = &self.wake;
        *lock(flag) = true;
        condvar.notify_all();
    }

    /// A rule changed: rule schedules are synced before the next pass fires.
    pub(crate) fn rules_changed(&self, now_ms: u64) {
        // The first change since the last sync dates the batch (0: none yet).
        let _ = self.rules_changed_ms.compare_exchange(
            0,
            now_ms.max(1),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.rules_dirty.store(true, Ordering::SeqCst);
        self.notify();
    }

    fn upsert(&self, inner: &Inner, schedule: TimedSchedule, resumed: bool) {
        let now = inner.clock.now_ms();
        let mut s = lock(&self.state);
        s.seq += 1;
        let generation = s.seq;
        let mut start_after = schedule.after_ms;
        let mut missed = 0u64;
        if resumed && let Some(mark) = s.resumed_mark {
            start_after = start_after.max(mark);
        }
        let mut next = if schedule.enabled {
            first_invocation_after(&schedule.schedule, start_after)
        } else {
            None
        };
        // Fires older than every target's maximum age are missed: counted
        // (up to a cap) and jumped over, not delivered.
        if resumed && let Some(first) = next {
            let max_age = schedule
                .targets
                .iter()
                .map(|t| t.retry_policy.max_age_ms())
                .max()
                .unwrap_or(0);
            let cutoff = now.saturating_sub(max_age);
            if ms(first.invoke_at) < cutoff {
                let mut cursor = Some(first);
                let mut counted = 0u32;
                while let Some(inv) = cursor
                    && ms(inv.invoke_at) < cutoff
                    && counted < MISSED_COUNT_CAP
                {
                    counted += 1;
                    cursor = schedule.schedule.next_after(inv.scheduled);
                }
                if cursor.is_some_and(|inv| ms(inv.invoke_at) < cutoff) {
                    tracing::warn!(schedule = %schedule.key, "more than {MISSED_COUNT_CAP} fires missed while the server was down");
                    cursor = first_invocation_after(&schedule.schedule, cutoff);
                }
                missed = u64::from(counted) * schedule.targets.len() as u64;
                next = cursor;
            }
        }
        if missed > 0 {
            tracing::warn!(schedule = %schedule.key, missed, "fires came due while the server was down and are older than the maximum event age: missed");
            self.missed.fetch_add(missed, Ordering::Relaxed);
        }
        if let Some(inv) = next {
            s.heap.push(Reverse((
                ms(inv.invoke_at),
                generation,
                schedule.key.clone(),
            )));
        }
        let complete = schedule.enabled && next.is_none() && schedule.delete_after_completion;
        let key = schedule.key.clone();
        s.entries.insert(
            key.clone(),
            Entry {
                schedule,
                generation,
                next,
            },
        );
        drop(s);
        if complete {
            self.complete(&key);
        }
        self.notify();
    }

    fn remove(&self, key: &str) -> bool {
        lock(&self.state).entries.remove(key).is_some()
    }

    fn complete(&self, key: &str) {
        self.remove(key);
        let hook = self.completion.read().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(key);
        }
    }

    /// One pass: rule sync if needed, then every fire due now (in batches of
    /// one transaction each). Returns how long to wait for the next.
    fn pass(&self, inner: &Inner) -> Duration {
        if self.rules_dirty.swap(false, Ordering::SeqCst)
            && let Err(e) = self.sync_rules(inner)
        {
            tracing::error!(error = %e, "cannot sync rule schedules; retrying");
            self.rules_dirty.store(true, Ordering::SeqCst);
        }
        loop {
            match self.fire_due(inner) {
                Ok(n) if n >= BATCH => continue,
                Ok(_) => break,
                Err(()) => return Duration::from_millis(500),
            }
        }
        let now = inner.clock.now_ms();
        let s = lock(&self.state);
        match s.heap.peek() {
            Some(Reverse((due, _, _))) if *due > now => {
                Duration::from_millis((*due - now).min(IDLE.as_millis() as u64))
            }
            Some(_) => Duration::ZERO,
            None => IDLE,
        }
    }

    /// Fires up to [`BATCH`] due runs (and any due at the same instant as
    /// the last of them) in one transaction; the number fired.
    fn fire_due(&self, inner: &Inner) -> Result<usize, ()> {
        let now = inner.clock.now_ms();
        let mut events = Vec::new();
        let mut deliveries = Vec::new();
        let mut done: Vec<String> = Vec::new();
        // (key, generation, the invocation popped) to put back on failure.
        let mut taken: Vec<(String, u64, Invocation)> = Vec::new();
        let mut lags = Vec::new();
        let mark;
        {
            let mut s = lock(&self.state);
            let mut last_due = 0;
            while let Some(Reverse((due, _, _))) = s.heap.peek() {
                let due = *due;
                // Runs due at one instant are never split between passes, so
                // that the mark below covers each run wholly or not at all.
                if due > now || (taken.len() >= BATCH && due > last_due) {
                    break;
                }
                let Some(Reverse((_, generation, key))) = s.heap.pop() else {
                    break;
                };
                let Some(entry) = s.entries.get_mut(&key) else {
                    continue;
                };
                if entry.generation != generation {
                    continue;
                }
                let Some(inv) = entry.next else { continue };
                last_due = due;
                let sched = &entry.schedule;
                let id = fire_id(&sched.key, ms(inv.scheduled));
                if let Some((event, ds)) = self.build_fire(inner, sched, inv, &id, now) {
                    events.push(event);
                    deliveries.extend(ds);
                    lags.push(ms(inv.invoke_at));
                }
                taken.push((key.clone(), generation, inv));
                entry.next = sched.schedule.next_after(inv.scheduled);
                if let Some(next) = entry.next {
                    s.heap.push(Reverse((ms(next.invoke_at), generation, key)));
                } else if entry.schedule.delete_after_completion {
                    done.push(key);
                }
            }
            let more = s
                .heap
                .peek()
                .is_some_and(|Reverse((due, _, _))| *due <= now);
            mark = if more { last_due } else { now };
        }
        let n = taken.len();
        if n == 0 {
            let _ = self.write_mark(inner, now, false);
            return Ok(0);
        }
        let fired = events.len() as u64;
        // The mark first: a restart never fires these runs again.
        let written = self.write_mark(inner, mark, true);
        let committed = written.and_then(|()| {
            if deliveries.is_empty() {
                return Ok(());
            }
            inner
                .store
                .ingest(events, deliveries)
                .map(|_| ())
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot record schedule fires; retrying");
                })
        });
        if committed.is_err() {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
            // Put the runs back as they were, to be fired by a later pass.
            let mut s = lock(&self.state);
            for (key, generation, inv) in taken {
                if let Some(entry) = s.entries.get_mut(&key)
                    && entry.generation == generation
                {
                    entry.next = Some(inv);
                    s.heap
                        .push(Reverse((ms(inv.invoke_at), generation, key.clone())));
                }
            }
            return Err(());
        }
        inner.dispatcher.notify();
        self.fired.fetch_add(fired, Ordering::Relaxed);
        let at = inner.clock.now_ms();
        if let Some(samples) = lock(&self.lags).as_mut() {
            samples.extend(lags.iter().map(|&due| at as i64 - due as i64));
        }
        for key in done {
            self.complete(&key);
        }
        Ok(n)
    }

    /// Records that every run invoked at or before `mark` is fired: always
    /// when `force` (before a pass's fires are written), otherwise at most
    /// once a second of the clock (idle passes, so that a restart resumes
    /// from a recent mark).
    fn write_mark(&self, inner: &Inner, mark: u64, force: bool) -> Result<(), ()> {
        {
            let s = lock(&self.state);
            if mark <= s.written_mark || (!force && mark < s.written_mark.saturating_add(1_000)) {
                return Ok(());
            }
        }
        match inner.store.put(
            MARK_KIND,
            MARK_NAME,
            Some(mark.to_string().into_bytes()),
            Expect::Any,
        ) {
            Ok(_) => {
                lock(&self.state).written_mark = mark;
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record the scheduler's progress");
                Err(())
            }
        }
    }

    /// The fire's record and its deliveries, or `None` when no target takes
    /// it (all too old: counted as missed).
    fn build_fire(
        &self,
        inner: &Inner,
        sched: &TimedSchedule,
        inv: Invocation,
        id: &str,
        now: u64,
    ) -> Option<(ArchivedEvent, Vec<NewDelivery>)> {
        let scheduled_ms = ms(inv.scheduled);
        let invoke_ms = ms(inv.invoke_at);
        let mut envelope: Option<String> = None;
        let mut deliveries = Vec::new();
        for t in &sched.targets {
            if now.saturating_sub(invoke_ms) > t.retry_policy.max_age_ms() {
                self.missed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let payload = match &t.payload {
                FirePayload::ScheduledEvent(spec) => {
                    let text = envelope.get_or_insert_with(|| {
                        scheduled_event(inner, id, &sched.arn, scheduled_ms)
                    });
                    match render(spec, text, sched, invoke_ms) {
                        Ok(p) => p,
                        Err(reason) => {
                            tracing::warn!(schedule = %sched.key, target = %t.id, %reason, "the target's input cannot be rendered; not delivered");
                            inner
                                .counters
                                .target(&sched.counter_group, &sched.counter_name, &t.id)
                                .invalid_input
                                .fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                }
                FirePayload::Template(text) => context(text, &sched.arn, scheduled_ms, id),
                FirePayload::Event {
                    source,
                    detail_type,
                    detail,
                } => bus_event(
                    inner,
                    id,
                    source,
                    detail_type,
                    &context(detail, &sched.arn, scheduled_ms, id),
                    &sched.arn,
                    scheduled_ms,
                ),
            };
            let mut d = Delivery::new(
                id,
                sched.counter_group.as_str(),
                sched.counter_name.as_str(),
                t.arn.as_str(),
                payload,
            );
            d.rule_arn.clone_from(&sched.arn);
            d.target_id.clone_from(&t.id);
            d.max_retries = t.retry_policy.retries();
            d.max_age_ms = t.retry_policy.max_age_ms();
            d.dead_letter_arn.clone_from(&t.dead_letter_arn);
            d.message_group_id.clone_from(&t.message_group_id);
            d.ingested_ms = invoke_ms;
            deliveries.push(NewDelivery {
                due_ms: now,
                delivery: d,
            });
        }
        if deliveries.is_empty() {
            return None;
        }
        // The record of the fire: the event for a rule, else the payload
        // (what a dead letter carries).
        let body = envelope.unwrap_or_else(|| deliveries[0].delivery.payload.clone());
        let event = ArchivedEvent {
            id: id.to_string(),
            bus: FIRE_BUS.to_string(),
            time_ms: invoke_ms,
            body: body.into_bytes(),
        };
        Some((event, deliveries))
    }

    /// Syncs the default bus's rules with a schedule into the timer.
    fn sync_rules(&self, inner: &Inner) -> Result<(), BusError> {
        let rules: Vec<RuleRecord> = {
            let state = inner.read_state()?;
            state
                .buses
                .get("default")
                .map(|b| {
                    b.rules
                        .values()
                        .filter(|r| r.schedule_expression.is_some())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let resumed = {
            let mut s = lock(&self.state);
            !std::mem::replace(&mut s.rules_synced, true)
        };
        // Changes count from when they were made (a manual clock may have
        // moved since).
        let changed = self.rules_changed_ms.swap(0, Ordering::SeqCst);
        let now = if changed == 0 {
            inner.clock.now_ms()
        } else {
            changed
        };
        let mut seen = HashSet::new();
        for rule in rules {
            let Some(text) = rule.schedule_expression.clone() else {
                continue;
            };
            seen.insert(rule.name.clone());
            let fingerprint = serde_json::to_string(&rule)?;
            if lock(&self.state).rules.get(&rule.name) == Some(&fingerprint) {
                continue;
            }
            // Stored expressions were validated when they were put.
            let Ok(expression) = ScheduleExpression::parse(&text, ferrule_schedule::Flavor::Rule)
            else {
                continue;
            };
            // The anchor (rates count from it) survives restarts; a new
            // expression starts a new one.
            let anchor = inner
                .store
                .get(RULE_ANCHOR_KIND, &rule.name)?
                .and_then(|r| serde_json::from_slice::<RuleAnchor>(&r.value).ok())
                .filter(|a| a.expression == text);
            let (anchor_ms, is_new) = match anchor {
                Some(a) => (a.anchor_ms, false),
                None => {
                    let a = RuleAnchor {
                        expression: text.clone(),
                        anchor_ms: now,
                    };
                    inner.store.put(
                        RULE_ANCHOR_KIND,
                        &rule.name,
                        Some(serde_json::to_vec(&a)?),
                        Expect::Any,
                    )?;
                    (now, true)
                }
            };
            let anchor_ts = Timestamp::from_millisecond(anchor_ms as i64)
                .map_err(|e| BusError::internal(e.to_string()))?;
            let targets = rule
                .targets
                .iter()
                .filter_map(|t| {
                    let spec = input_spec(t).ok()?;
                    Some(FireTarget {
                        id: t.id.clone(),
                        arn: t.arn.clone(),
                        payload: FirePayload::ScheduledEvent(spec),
                        retry_policy: t.retry_policy.unwrap_or_default(),
                        dead_letter_arn: t.dead_letter_config.as_ref().map(|d| d.arn.clone()),
                        message_group_id: t.message_group_id().map(str::to_string),
                    })
                })
                .collect();
            let timed = TimedSchedule {
                key: format!("{RULE_PREFIX}{}", rule.name),
                arn: inner.rule_arn("default", &rule.name),
                schedule: Schedule {
                    identity: inner.rule_arn("default", &rule.name),
                    expression,
                    timezone: ferrule_schedule::jiff::tz::TimeZone::UTC,
                    window: Window::starting(anchor_ts),
                    flexible: FlexibleTimeWindow::Off,
                },
                enabled: rule.state.is_enabled(),
                targets,
                counter_group: "default".into(),
                counter_name: rule.name.clone(),
                // A rule fires first one period (or the next cron time) after
                // it was made; a changed one from the change on; one loaded
                // at start resumes from the previous run's mark.
                after_ms: if resumed || is_new { anchor_ms } else { now },
                delete_after_completion: false,
            };
            self.upsert(inner, timed, resumed);
            lock(&self.state).rules.insert(rule.name, fingerprint);
        }
        let gone: Vec<String> = lock(&self.state)
            .rules
            .keys()
            .filter(|n| !seen.contains(*n))
            .cloned()
            .collect();
        for name in gone {
            self.remove(&format!("{RULE_PREFIX}{name}"));
            lock(&self.state).rules.remove(&name);
            inner
                .store
                .put(RULE_ANCHOR_KIND, &name, None, Expect::Any)?;
        }
        Ok(())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RuleAnchor {
    expression: String,
    anchor_ms: u64,
}

/// The first invocation of `schedule` scheduled strictly after `after_ms`
/// whose invocation time is also after it.
fn first_invocation_after(schedule: &Schedule, after_ms: u64) -> Option<Invocation> {
    let after = Timestamp::from_millisecond(after_ms.min(i64::MAX as u64) as i64).ok()?;
    // A flexible window delays invocations by up to a day: a run scheduled
    // up to that long before `after` may still be invoked after it.
    let lookback = match schedule.flexible {
        FlexibleTimeWindow::Off => 0,
        FlexibleTimeWindow::Flexible {
            maximum_window_minutes,
        } => i64::from(maximum_window_minutes) * 60_000,
    };
    let from = Timestamp::from_millisecond((after_ms as i64).saturating_sub(lookback)).ok()?;
    let mut inv = schedule.next_after(from)?;
    while inv.invoke_at <= after {
        inv = schedule.next_after(inv.scheduled)?;
    }
    Some(inv)
}

/// The fire's id: a UUID (version 8) derived from the schedule and the
/// scheduled time, the same in every run of the server, so a fire recorded
/// before a restart is recognized after it.
pub fn fire_id(key: &str, scheduled_ms: u64) -> String {
    let ts = Timestamp::from_millisecond(scheduled_ms.min(i64::MAX as u64) as i64)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let hi = ferrule_schedule::spread_hash(key, ts);
    let lo = ferrule_schedule::spread_hash(&format!("{key}\u{1f}{scheduled_ms}"), ts);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn ms(t: Timestamp) -> u64 {
    t.as_millisecond().max(0) as u64
}

/// The Scheduled Event of a rule, as the service sends it.
fn scheduled_event(inner: &Inner, id: &str, rule_arn: &str, scheduled_ms: u64) -> String {
    let mut out = String::with_capacity(320);
    out.push_str("{\"version\":\"0\",\"id\":");
    write_str(id, &mut out);
    out.push_str(",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"account\":");
    write_str(&inner.account, &mut out);
    out.push_str(",\"time\":");
    write_str(&format_seconds(scheduled_ms), &mut out);
    out.push_str(",\"region\":");
    write_str(&inner.region, &mut out);
    out.push_str(",\"resources\":[");
    write_str(rule_arn, &mut out);
    out.push_str("],\"detail\":{}}");
    out
}

/// The event a Scheduler schedule puts on a bus: its `detail` is the
/// rendered `Input` (a JSON object, checked when the schedule was made; text
/// that is not one is sent as a JSON string and refused by the bus).
fn bus_event(
    inner: &Inner,
    id: &str,
    source: &str,
    detail_type: &str,
    detail: &str,
    schedule_arn: &str,
    scheduled_ms: u64,
) -> String {
    let mut out = String::with_capacity(320 + detail.len());
    out.push_str("{\"version\":\"0\",\"id\":");
    write_str(id, &mut out);
    out.push_str(",\"detail-type\":");
    write_str(detail_type, &mut out);
    out.push_str(",\"source\":");
    write_str(source, &mut out);
    out.push_str(",\"account\":");
    write_str(&inner.account, &mut out);
    out.push_str(",\"time\":");
    write_str(&format_seconds(scheduled_ms), &mut out);
    out.push_str(",\"region\":");
    write_str(&inner.region, &mut out);
    out.push_str(",\"resources\":[");
    write_str(schedule_arn, &mut out);
    out.push_str("],\"detail\":");
    if serde_json::from_str::<serde_json::Value>(detail).is_ok_and(|v| v.is_object()) {
        out.push_str(detail);
    } else {
        write_str(detail, &mut out);
    }
    out.push('}');
    out
}

/// Scheduler's context attributes replaced in `text`.
fn context(text: &str, schedule_arn: &str, scheduled_ms: u64, id: &str) -> String {
    if !text.contains("<aws.scheduler.") {
        return text.to_string();
    }
    text.replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace(
            "<aws.scheduler.scheduled-time>",
            &format_seconds(scheduled_ms),
        )
        .replace("<aws.scheduler.execution-id>", id)
        .replace("<aws.scheduler.attempt-number>", "1")
}

fn render(
    spec: &InputSpec,
    envelope: &str,
    sched: &TimedSchedule,
    invoke_ms: u64,
) -> Result<String, String> {
    match spec {
        InputSpec::WholeEvent => Ok(envelope.to_string()),
        InputSpec::Constant(text) => Ok(text.clone()),
        _ => {
            let value: serde_json::Value =
                serde_json::from_str(envelope).map_err(|e| e.to_string())?;
            let ingestion_time = format_millis(invoke_ms);
            spec.render(
                &value,
                &RenderContext {
                    rule_arn: &sched.arn,
                    rule_name: &sched.counter_name,
                    ingestion_time: &ingestion_time,
                },
            )
            .map_err(|e| e.reason().to_string())
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Bus {
    /// Adds or replaces a schedule (by its key): it fires from its next run
    /// after [`TimedSchedule::after_ms`].
    pub fn put_schedule(&self, schedule: TimedSchedule) {
        self.inner.timer.upsert(&self.inner, schedule, false);
    }

    /// Adds a schedule loaded from the store at start: it resumes after the
    /// previous run's high-water mark (fires due while the server was down
    /// are delivered if still within their targets' maximum age, else
    /// counted as missed; none is delivered twice).
    pub fn resume_schedule(&self, schedule: TimedSchedule) {
        self.inner.timer.upsert(&self.inner, schedule, true);
    }

    /// Removes a schedule; whether it was there.
    pub fn remove_schedule(&self, key: &str) -> bool {
        self.inner.timer.remove(key)
    }

    /// The next invocation time of a schedule (ms since the epoch), if it
    /// has one.
    pub fn next_schedule_fire(&self, key: &str) -> Option<u64> {
        let s = lock(&self.inner.timer.state);
        s.entries
            .get(key)
            .and_then(|e| e.next)
            .map(|i| ms(i.invoke_at))
    }

    /// Sets the hook called (on the scheduler's thread) with the key of each
    /// schedule that completed with [`TimedSchedule::delete_after_completion`].
    pub fn set_schedule_completion_hook(&self, hook: CompletionHook) {
        if let Ok(mut h) = self.inner.timer.completion.write() {
            *h = Some(hook);
        }
    }

    /// Wakes the scheduler (after moving a [`ManualClock`](crate::ManualClock)).
    pub fn notify_scheduler(&self) {
        self.inner.timer.notify();
    }

    /// Runs the scheduler once, synchronously: syncs rule schedules and
    /// fires everything due now (for buses opened without background
    /// delivery, driven by a manual clock). Returns the fires committed.
    pub fn run_schedules(&self) -> u64 {
        let before = self.inner.timer.fired.load(Ordering::Relaxed);
        self.inner.timer.pass(&self.inner);
        self.inner.timer.fired.load(Ordering::Relaxed) - before
    }

    /// What the scheduler has done.
    pub fn scheduler_stats(&self) -> SchedulerStats {
        let t = &self.inner.timer;
        SchedulerStats {
            schedules: lock(&t.state).entries.len(),
            fired: t.fired.load(Ordering::Relaxed),
            missed: t.missed.load(Ordering::Relaxed),
            store_errors: t.store_errors.load(Ordering::Relaxed),
        }
    }

    /// Starts (`true`) or stops recording the lag of each fire (commit time
    /// minus invocation time, ms), for benchmarks; [`Bus::take_fire_lags`]
    /// takes them.
    pub fn record_fire_lags(&self, on: bool) {
        *lock(&self.inner.timer.lags) = on.then(Vec::new);
    }

    /// The lags recorded since the last call (see [`Bus::record_fire_lags`]).
    pub fn take_fire_lags(&self) -> Vec<i64> {
        lock(&self.inner.timer.lags)
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Delivers payloads to targets once each, through durable dispatch:
    /// archived (under `event_id`) and appended to the delivery log in one
    /// transaction before this returns, then delivered with the retry policy
    /// and dead-lettered as any rule's delivery.
    pub fn deliver_once(&self, items: Vec<OneOffDelivery>) -> Result<(), BusError> {
        if items.is_empty() {
            return Ok(());
        }
        let now = self.inner.clock.now_ms();
        let mut events = Vec::with_capacity(items.len());
        let mut deliveries = Vec::with_capacity(items.len());
        for item in items {
            events.push(ArchivedEvent {
                id: item.event_id.clone(),
                bus: FIRE_BUS.to_string(),
                time_ms: item.created_ms,
                body: item.payload.clone().into_bytes(),
            });
            let mut d = Delivery::new(
                item.event_id,
                item.counter_group,
                item.counter_name,
                item.target_arn,
                item.payload,
            );
            d.rule_arn = item.source_arn;
            d.target_id = item.target_id;
            d.max_retries = item.retry_policy.retries();
            d.max_age_ms = item.retry_policy.max_age_ms();
            d.dead_letter_arn = item.dead_letter_arn;
            d.ingested_ms = item.created_ms;
            deliveries.push(NewDelivery {
                due_ms: now,
                delivery: d,
            });
        }
        self.inner.store.ingest(events, deliveries)?;
        self.inner.dispatcher.notify();
        Ok(())
    }
}

impl Bus {
    /// Stores a record of a service the server runs beside the bus (its
    /// own `kind`, for example `scheduler-schedule`; never the bus's
    /// `bus`/`rule` kinds); `None` deletes it.
    pub fn put_service_record(
        &self,
        kind: &str,
        name: &str,
        value: Option<Vec<u8>>,
    ) -> Result<(), BusError> {
        if matches!(kind, "bus" | "rule" | MARK_KIND | RULE_ANCHOR_KIND) {
            return Err(BusError::internal(format!(
                "record kind {kind} is the bus's"
            )));
        }
        self.inner.store.put(kind, name, value, Expect::Any)?;
        Ok(())
    }

    /// Every record of `kind` (see [`Bus::put_service_record`]), by name.
    pub fn service_records(&self, kind: &str) -> Result<Vec<(String, Vec<u8>)>, BusError> {
        Ok(self
            .inner
            .store
            .list(kind)?
            .into_iter()
            .map(|r| (r.name, r.value))
            .collect())
    }
}
