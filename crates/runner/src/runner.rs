//! The runner's core: executions in memory and in the store, the workers
//! that advance them, their timers, task tokens and activity tasks.
//!
//! An execution advances only on a worker thread, under its own lock; the
//! interpreter ([`ferrule_states::Execution::run`]) runs it as far as it
//! goes and says until when it waits. After every run the execution is
//! written to the store (STANDARD machines), so a restart resumes it where
//! that write left it: in a Wait, a retry backoff, or waiting for a task
//! token. Lock order: an execution's lock may be held while the map, token
//! or work locks are taken briefly, never the other way round; an ended
//! child completes its parent after its own lock is released.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ferrule_bus::{Bus, PutEventsEntry};
use ferrule_core::Clock;
use ferrule_states::{
    Execution, ExecutionInfo, ExecutionStatus, RunState, StateMachine, exec::TokenError,
};
use ferrule_store::{Expect, Store};
use serde_json::{Value, json};

use crate::catalog::{Catalog, Machine, Version};
use crate::error::{RunnerError, RunnerErrorKind};
use crate::integrations::{Integrations, sync_output};
use crate::model::{
    self, ACTIVITY, ACTIVITY_TASK, ALIAS, ActivityRecord, ActivityTask, AliasRecord, EXECUTION,
    EXECUTION_HISTORY, ExecutionRecord, MACHINE, MachineRecord, MachineType, Parent, Scope,
    VERSION, VersionRecord,
};

/// The largest execution input, in bytes (the service's 256 KiB).
pub(crate) const MAX_INPUT_BYTES: usize = 262_144;
/// How long a finished execution is kept (the service's 90 days).
const RETENTION_MS: u64 = 90 * 24 * 3600 * 1000;
/// The most history events a stored execution record carries itself: past
/// that, they move to records of their own, written once, so what a write of
/// a long execution costs is what changed, not its whole history.
const INLINE_HISTORY: usize = 256;
/// How often a worker looks at the clock while timers are pending: a
/// manually driven clock moves without notifying anyone.
const TIMER_POLL: Duration = Duration::from_millis(20);

/// The interpreter's clock, read from the shared one.
pub(crate) struct ClockRef<'a>(pub(crate) &'a dyn Clock);

impl ferrule_states::Clock for ClockRef<'_> {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
}

/// How a `.sync` child ended, for its parent: the task's output, or
/// (error, cause).
type ChildOutcome = Result<Value, (String, String)>;

/// A StartExecution.
#[derive(Clone, Debug)]
pub struct StartRequest {
    /// `stateMachineArn`: the machine, a version or an alias.
    pub machine: String,
    /// `name` (a UUID when absent).
    pub name: Option<String>,
    /// `input` (JSON text; `{}` when absent).
    pub input: Option<String>,
    pub(crate) parent: Option<Parent>,
}

impl StartRequest {
    /// A start of `machine` with `input`.
    pub fn new(machine: &str, input: Option<&str>) -> StartRequest {
        StartRequest {
            machine: machine.to_string(),
            name: None,
            input: input.map(str::to_string),
            parent: None,
        }
    }

    /// Names the execution.
    pub fn named(mut self, name: &str) -> StartRequest {
        self.name = Some(name.to_string());
        self
    }
}

/// StartExecution's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// `executionArn`.
    pub execution_arn: String,
    /// `startDate`, ms.
    pub start_ms: u64,
}

pub(crate) struct Slot {
    state: Mutex<SlotState>,
    done: Condvar,
}

struct SlotState {
    record: ExecutionRecord,
    machine: Arc<StateMachine>,
    tokens: Vec<String>,
}

#[derive(Default)]
struct Work {
    ready: VecDeque<String>,
    queued: HashSet<String>,
    timers: BinaryHeap<Reverse<(u64, String)>>,
    /// The (due time, execution) pairs in `timers`: one wake-up per pair,
    /// however often a run reports the same wait.
    timed: HashSet<(u64, String)>,
}

pub(crate) struct Inner {
    pub(crate) scope: Scope,
    pub(crate) bus: Arc<Bus>,
    store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    catalog: RwLock<Catalog>,
    executions: Mutex<HashMap<String, Arc<Slot>>>,
    tokens: Mutex<HashMap<String, String>>,
    /// Tokens of `.sync` tasks (completed by their child, not by callers).
    internal: Mutex<HashMap<String, String>>,
    work: Mutex<Work>,
    work_cv: Condvar,
    activity_tasks: Mutex<HashMap<String, VecDeque<ActivityTask>>>,
    activity_cv: Condvar,
    pub(crate) stopping: AtomicBool,
    durable: bool,
    transitions: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    pub(crate) fn new(bus: Arc<Bus>, durable: bool) -> Inner {
        Inner {
            scope: Scope {
                region: bus.region().to_string(),
                account: bus.account().to_string(),
            },
            store: bus.store(),
            clock: bus.clock(),
            bus,
            catalog: RwLock::new(Catalog::default()),
            executions: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            internal: Mutex::new(HashMap::new()),
            work: Mutex::new(Work::default()),
            work_cv: Condvar::new(),
            activity_tasks: Mutex::new(HashMap::new()),
            activity_cv: Condvar::new(),
            stopping: AtomicBool::new(false),
            durable,
            transitions: AtomicU64::new(0),
        }
    }

    pub(crate) fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn catalog_mut(&self) -> RwLockWriteGuard<'_, Catalog> {
        self.catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// History events recorded by all executions since start (for benchmarks).
    pub(crate) fn transitions(&self) -> u64 {
        self.transitions.load(Ordering::Relaxed)
    }

    // ---- records ----

    pub(crate) fn put_record<T: serde::Serialize + ?Sized>(
        &self,
        kind: &str,
        name: &str,
        value: Option<&T>,
    ) -> Result<(), RunnerError> {
        let bytes = match value {
            Some(v) => Some(serde_json::to_vec(v).map_err(|e| {
                RunnerError::new(RunnerErrorKind::Internal, format!("cannot encode: {e}"))
            })?),
            None => None,
        };
        self.store.put(kind, name, bytes, Expect::Any)?;
        Ok(())
    }

    /// Loads everything stored; running executions are queued to resume.
    pub(crate) fn load(&self) -> Result<(), RunnerError> {
        let decode = |kind: &str| -> Result<Vec<(String, Vec<u8>)>, RunnerError> {
            Ok(self
                .store
                .list(kind)?
                .into_iter()
                .map(|r| (r.name, r.value))
                .collect())
        };
        let mut catalog = Catalog::default();
        for (name, bytes) in decode(MACHINE)? {
            let Ok(record) = serde_json::from_slice::<MachineRecord>(&bytes) else {
                tracing::warn!(%name, "unreadable state machine record skipped");
                continue;
            };
            match StateMachine::parse(&record.definition) {
                Ok(p) => {
                    catalog.machines.insert(
                        record.arn.clone(),
                        Machine {
                            record,
                            parsed: Arc::new(p),
                        },
                    );
                }
                Err(e) => tracing::warn!(%name, error = %e, "stored definition no longer parses"),
            }
        }
        for (name, bytes) in decode(VERSION)? {
            if let Ok(record) = serde_json::from_slice::<VersionRecord>(&bytes)
                && let Ok(p) = StateMachine::parse(&record.definition)
            {
                catalog.versions.insert(
                    record.arn.clone(),
                    Version {
                        record,
                        parsed: Arc::new(p),
                    },
                );
            } else {
                tracing::warn!(%name, "unreadable version record skipped");
            }
        }
        for (_, bytes) in decode(ALIAS)? {
            if let Ok(a) = serde_json::from_slice::<AliasRecord>(&bytes) {
                catalog.aliases.insert(a.arn.clone(), a);
            }
        }
        for (_, bytes) in decode(ACTIVITY)? {
            if let Ok(a) = serde_json::from_slice::<ActivityRecord>(&bytes) {
                catalog.activities.insert(a.arn.clone(), a);
            }
        }
        *self.catalog_mut() = catalog;
        let now = self.now();
        // History records by execution, then by first index.
        let mut runs: HashMap<String, BTreeMap<usize, (String, Vec<u8>)>> = HashMap::new();
        for (name, bytes) in decode(EXECUTION_HISTORY)? {
            match name
                .rsplit_once('#')
                .and_then(|(arn, i)| Some((arn, i.parse::<usize>().ok()?)))
            {
                Some((arn, i)) => {
                    runs.entry(arn.to_string())
                        .or_default()
                        .insert(i, (name.clone(), bytes));
                }
                None => tracing::warn!(%name, "unreadable history record name skipped"),
            }
        }
        for (name, bytes) in decode(EXECUTION)? {
            let Ok(mut record) = serde_json::from_slice::<ExecutionRecord>(&bytes) else {
                tracing::warn!(%name, "unreadable execution record skipped");
                continue;
            };
            let history = runs.remove(&name).unwrap_or_default();
            let (_, stop) = record.execution.times_ms();
            if stop.is_some_and(|s| s.saturating_add(RETENTION_MS) < now) {
                for (run, _) in history.values() {
                    self.store.put(EXECUTION_HISTORY, run, None, Expect::Any)?;
                }
                self.store.put(EXECUTION, &name, None, Expect::Any)?;
                continue;
            }
            if let Err(e) = rejoin_history(&mut record, history) {
                tracing::warn!(%name, error = %e, "an execution's stored history is incomplete");
                continue;
            }
            let Ok(machine) = StateMachine::parse(&record.definition) else {
                tracing::warn!(%name, "an execution's definition no longer parses");
                continue;
            };
            let running = record.execution.status() == ExecutionStatus::Running;
            if running && let Some(p) = &record.parent {
                lock(&self.internal).insert(p.token.clone(), p.execution_arn.clone());
            }
            let tokens = record.execution.pending_tokens();
            {
                let mut t = lock(&self.tokens);
                for tok in &tokens {
                    t.insert(tok.clone(), name.clone());
                }
            }
            let slot = Arc::new(Slot {
                state: Mutex::new(SlotState {
                    record,
                    machine: Arc::new(machine),
                    tokens,
                }),
                done: Condvar::new(),
            });
            lock(&self.executions).insert(name.clone(), slot);
            if running {
                self.enqueue(&name);
            }
        }
        for (_, bytes) in decode(ACTIVITY_TASK)? {
            if let Ok(t) = serde_json::from_slice::<ActivityTask>(&bytes) {
                lock(&self.activity_tasks)
                    .entry(t.activity_arn.clone())
                    .or_default()
                    .push_back(t);
            }
        }
        Ok(())
    }

    // ---- work ----

    pub(crate) fn enqueue(&self, arn: &str) {
        let mut w = lock(&self.work);
        if w.queued.insert(arn.to_string()) {
            w.ready.push_back(arn.to_string());
        }
        drop(w);
        self.work_cv.notify_one();
    }

    fn wake_at(&self, at: u64, arn: &str) {
        let mut w = lock(&self.work);
        if w.timed.insert((at, arn.to_string())) {
            w.timers.push(Reverse((at, arn.to_string())));
        }
        drop(w);
        self.work_cv.notify_one();
    }

    /// Wakes the workers (after the clock moved).
    pub(crate) fn poke(&self) {
        self.work_cv.notify_all();
    }

    /// The next execution that can move now, without waiting.
    /// When the earliest pending timer is due.
    pub(crate) fn next_timer_ms(&self) -> Option<u64> {
        lock(&self.work).timers.peek().map(|Reverse((at, _))| *at)
    }

    pub(crate) fn take_due(&self) -> Option<String> {
        let mut w = lock(&self.work);
        if let Some(arn) = w.ready.pop_front() {
            w.queued.remove(&arn);
            return Some(arn);
        }
        let now = self.now();
        if w.timers.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            return w.timers.pop().map(|Reverse((at, arn))| {
                w.timed.remove(&(at, arn.clone()));
                arn
            });
        }
        None
    }

    /// The next execution to advance, waiting for one; `None` when stopping.
    fn next(&self) -> Option<String> {
        let mut w = lock(&self.work);
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(arn) = w.ready.pop_front() {
                w.queued.remove(&arn);
                return Some(arn);
            }
            let now = self.now();
            if let Some(Reverse((at, _))) = w.timers.peek() {
                if *at <= now {
                    let Reverse((at, arn)) = w.timers.pop()?;
                    w.timed.remove(&(at, arn.clone()));
                    return Some(arn);
                }
                let wait = Duration::from_millis(at - now).min(TIMER_POLL);
                w = self
                    .work_cv
                    .wait_timeout(w, wait)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            } else {
                w = self
                    .work_cv
                    .wait_timeout(w, Duration::from_secs(1))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }
    }

    /// A worker: advances executions until the runner stops.
    pub(crate) fn work_loop(&self) {
        while let Some(arn) = self.next() {
            self.advance(&arn);
        }
    }

    /// Runs the execution as far as it goes.
    pub(crate) fn advance(&self, arn: &str) {
        let Some(slot) = self.slot(arn) else { return };
        let mut st = lock(&slot.state);
        if st.record.execution.status() != ExecutionStatus::Running {
            return;
        }
        let before = st.record.execution.history().len();
        let machine = Arc::clone(&st.machine);
        let integrations = Integrations { inner: self };
        let rs = st
            .record
            .execution
            .run(&machine, &ClockRef(&*self.clock), &integrations);
        let after = st.record.execution.history().len();
        self.transitions
            .fetch_add((after - before) as u64, Ordering::Relaxed);
        // A run that recorded nothing (a wake-up before anything was due)
        // changed nothing worth writing.
        let parent = self.settle(arn, &slot, &mut st, &rs, after != before);
        drop(st);
        if let Some((parent, outcome)) = parent {
            self.complete_parent(&parent, outcome);
        }
    }

    /// After a run or a token call: the token index, the timer, the store,
    /// the status-change event; returns the parent to complete, if the
    /// execution ended and one waits.
    fn settle(
        &self,
        arn: &str,
        slot: &Slot,
        st: &mut SlotState,
        rs: &RunState,
        changed: bool,
    ) -> Option<(Parent, ChildOutcome)> {
        let now_tokens = st.record.execution.pending_tokens();
        {
            let mut t = lock(&self.tokens);
            for old in &st.tokens {
                if !now_tokens.contains(old) {
                    t.remove(old);
                }
            }
            for new in &now_tokens {
                t.insert(new.clone(), arn.to_string());
            }
        }
        st.tokens = now_tokens;
        if let RunState::Waiting {
            wake_at_ms: Some(at),
        } = rs
        {
            self.wake_at(*at, arn);
        }
        let standard = st.record.machine_type == MachineType::Standard;
        if changed {
            self.store_execution(arn, st);
        }
        let status = st.record.execution.status();
        if status == ExecutionStatus::Running {
            return None;
        }
        if standard {
            self.publish_status(&st.record.execution);
        }
        slot.done.notify_all();
        if !standard {
            lock(&self.executions).remove(arn);
        }
        let parent = st.record.parent.clone()?;
        let describe = self.describe_record(&st.record);
        let outcome = match status {
            ExecutionStatus::Succeeded => Ok(sync_output(&describe, parent.mode)),
            _ => Err((
                "States.TaskFailed".to_string(),
                sync_output(&describe, parent.mode).to_string(),
            )),
        };
        Some((parent, outcome))
    }

    fn complete_parent(&self, parent: &Parent, outcome: ChildOutcome) {
        let Some(slot) = self.slot(&parent.execution_arn) else {
            return;
        };
        let mut st = lock(&slot.state);
        let r = match outcome {
            Ok(v) => st
                .record
                .execution
                .send_task_success(&parent.token, &v.to_string()),
            Err((e, c)) => st.record.execution.send_task_failure(&parent.token, &e, &c),
        };
        lock(&self.internal).remove(&parent.token);
        if r.is_ok() {
            self.store_execution(&parent.execution_arn, &mut st);
            drop(st);
            self.enqueue(&parent.execution_arn);
        }
    }

    fn store_execution(&self, arn: &str, st: &mut SlotState) {
        if st.record.machine_type == MachineType::Standard
            && self.durable
            && let Err(e) = self.write_execution(arn, st)
        {
            tracing::warn!(execution = %arn, error = %e, "cannot store the execution");
        }
    }

    /// Writes an execution: while it runs, the history events past
    /// [`INLINE_HISTORY`] not yet in a history record go into a new one
    /// first, then the execution record with the rest inline. A crash between the two leaves a history
    /// record that the execution record does not count: [`Inner::load`]
    /// ignores it, and the next write replaces it (same name).
    fn write_execution(&self, arn: &str, st: &mut SlotState) -> Result<(), RunnerError> {
        let total = st.record.execution.history().len();
        let chunked = usize::try_from(st.record.history_chunked).unwrap_or(usize::MAX);
        if chunked > total {
            return Err(RunnerError::new(
                RunnerErrorKind::Internal,
                format!("{arn}: {chunked} history events stored apart but {total} recorded"),
            ));
        }
        // An ended execution is not written again: its last write keeps
        // everything inline (one write, not two).
        let running = st.record.execution.status() == ExecutionStatus::Running;
        if running && total - chunked > INLINE_HISTORY {
            let run = &st.record.execution.history()[chunked..];
            self.put_record(EXECUTION_HISTORY, &history_name(arn, chunked), Some(run))?;
            st.record.history_chunked = total as u64;
        }
        let chunked = usize::try_from(st.record.history_chunked).unwrap_or(total);
        let mut full = st.record.execution.take_history();
        let inline = full.split_off(chunked.min(full.len()));
        st.record.execution.restore_history(inline);
        let written = self.put_record(EXECUTION, arn, Some(&st.record));
        full.append(&mut st.record.execution.take_history());
        st.record.execution.restore_history(full);
        written
    }

    /// "Step Functions Execution Status Change" on the default bus, as the
    /// service publishes it for STANDARD executions.
    fn publish_status(&self, exec: &Execution) {
        let entry = PutEventsEntry {
            source: Some("aws.states".into()),
            detail_type: Some("Step Functions Execution Status Change".into()),
            detail: Some(exec.status_change_detail().to_string()),
            resources: vec![exec.info().execution_arn.clone()],
            ..Default::default()
        };
        match self.bus.put_service_events(vec![entry]) {
            Ok(out) if out.failed_entry_count == 0 => {}
            Ok(out) => tracing::warn!(?out, "status change event refused"),
            Err(e) => tracing::warn!(error = %e, "cannot publish a status change event"),
        }
    }

    pub(crate) fn slot(&self, arn: &str) -> Option<Arc<Slot>> {
        lock(&self.executions).get(arn).cloned()
    }

    // ---- starting ----

    pub(crate) fn start_execution(&self, req: StartRequest) -> Result<Started, RunnerError> {
        self.start_with_slot(req).map(|(started, _)| started)
    }

    /// Starts an execution and hands back its slot too: an EXPRESS
    /// execution leaves the table as soon as it ends, which may be before
    /// its starter looks it up.
    pub(crate) fn start_with_slot(
        &self,
        req: StartRequest,
    ) -> Result<(Started, Arc<Slot>), RunnerError> {
        let r = self.scope.machine_ref(&req.machine)?;
        let resolved = self.catalog().resolve(&r, &req.machine)?;
        let name = req
            .name
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        model::check_name(&name)?;
        let input_text = req.input.as_deref().unwrap_or("{}");
        if input_text.len() > MAX_INPUT_BYTES {
            return Err(RunnerError::new(
                RunnerErrorKind::InvalidExecutionInput,
                format!(
                    "Invalid State Machine Execution Input: 'The input exceeds the maximum size of {MAX_INPUT_BYTES} bytes.'"
                ),
            ));
        }
        let input: Value = serde_json::from_str(input_text).map_err(|e| {
            RunnerError::new(
                RunnerErrorKind::InvalidExecutionInput,
                format!("Invalid State Machine Execution Input: '{e}'"),
            )
        })?;
        let m = &resolved.machine.record;
        let arn = match m.machine_type {
            MachineType::Standard => self.scope.arn("execution", &format!("{}:{name}", m.name)),
            MachineType::Express => self.scope.arn(
                "express",
                &format!("{}:{name}:{}", m.name, uuid::Uuid::new_v4()),
            ),
        };
        let info = ExecutionInfo {
            execution_arn: arn.clone(),
            name,
            state_machine_arn: m.arn.clone(),
            state_machine_name: m.name.clone(),
            role_arn: resolved.role_arn.clone(),
            region: self.scope.region.clone(),
        };
        let execution = Execution::new(
            &resolved.parsed,
            info,
            input.clone(),
            &ClockRef(&*self.clock),
        );
        let start_ms = execution.times_ms().0;
        let record = ExecutionRecord {
            execution,
            definition: resolved.definition,
            machine_type: m.machine_type,
            version_arn: resolved.version_arn,
            alias_arn: resolved.alias_arn,
            parent: req.parent,
            history_chunked: 0,
        };
        let standard = record.machine_type == MachineType::Standard;
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                record,
                machine: resolved.parsed,
                tokens: Vec::new(),
            }),
            done: Condvar::new(),
        });
        {
            let mut map = lock(&self.executions);
            if let Some(existing) = map.get(&arn).cloned() {
                drop(map);
                // Idempotent: the same name and input while it runs is the
                // same execution.
                let e = lock(&existing.state);
                let same = e.record.execution.status() == ExecutionStatus::Running
                    && e.record.execution.input() == &input
                    && e.record.execution.info().state_machine_arn == m.arn;
                if same {
                    let started = Started {
                        execution_arn: arn,
                        start_ms: e.record.execution.times_ms().0,
                    };
                    drop(e);
                    return Ok((started, existing));
                }
                return Err(RunnerError::new(
                    RunnerErrorKind::ExecutionAlreadyExists,
                    format!("Execution Already Exists: '{arn}'"),
                ));
            }
            map.insert(arn.clone(), Arc::clone(&slot));
        }
        if standard {
            let mut st = lock(&slot.state);
            if self.durable {
                self.write_execution(&arn, &mut st).inspect_err(|_| {
                    lock(&self.executions).remove(&arn);
                })?;
            }
            self.publish_status(&st.record.execution);
        }
        self.enqueue(&arn);
        Ok((
            Started {
                execution_arn: arn,
                start_ms,
            },
            slot,
        ))
    }

    /// Marks `token` of `execution` as ferrule's own (a `.sync` child's):
    /// the child completes it, callers cannot. (Durably, the child's
    /// record holds it as its parent link.)
    pub(crate) fn note_internal_token(&self, execution: &str, token: &str) {
        lock(&self.internal).insert(token.to_string(), execution.to_string());
    }

    /// Waits until the execution of `slot` ends (at most `timeout`), then
    /// describes it.
    pub(crate) fn wait_for_end(&self, slot: &Slot, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&slot.state);
        while st.record.execution.status() == ExecutionStatus::Running {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stopping.load(Ordering::SeqCst) {
                break;
            }
            st = slot
                .done
                .wait_timeout(st, left.min(Duration::from_millis(200)))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        self.describe_record(&st.record)
    }

    // ---- reading ----

    pub(crate) fn describe_record(&self, r: &ExecutionRecord) -> Value {
        let mut d = r.execution.describe();
        if let Some(m) = d.as_object_mut() {
            if let Some(v) = &r.version_arn {
                m.insert("stateMachineVersionArn".into(), json!(v));
            }
            if let Some(a) = &r.alias_arn {
                m.insert("stateMachineAliasArn".into(), json!(a));
            }
        }
        d
    }

    /// Runs `f` on the execution `arn` (STANDARD ones; EXPRESS executions are
    /// not described, as in the service).
    pub(crate) fn with_execution<T>(
        &self,
        arn: &str,
        f: impl FnOnce(&ExecutionRecord) -> T,
    ) -> Result<T, RunnerError> {
        self.scope.execution_arn(arn)?;
        if self.scope.split(arn).is_ok_and(|(k, _)| k == "express") {
            return Err(RunnerError::invalid_arn(
                "Resource type not valid in this context: express",
            ));
        }
        let slot = self
            .slot(arn)
            .ok_or_else(|| RunnerError::execution_missing(arn))?;
        let st = lock(&slot.state);
        Ok(f(&st.record))
    }

    /// Every STANDARD execution's record, through `f`, newest first.
    pub(crate) fn executions<T>(&self, mut f: impl FnMut(&ExecutionRecord) -> Option<T>) -> Vec<T> {
        let slots: Vec<Arc<Slot>> = lock(&self.executions).values().cloned().collect();
        let mut out: Vec<(u64, String, T)> = Vec::new();
        for s in slots {
            let st = lock(&s.state);
            if st.record.machine_type != MachineType::Standard {
                continue;
            }
            if let Some(t) = f(&st.record) {
                out.push((
                    st.record.execution.times_ms().0,
                    st.record.execution.info().execution_arn.clone(),
                    t,
                ));
            }
        }
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        out.into_iter().map(|(_, _, t)| t).collect()
    }

    // ---- changing a running execution ----

    pub(crate) fn stop_execution(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<u64, RunnerError> {
        self.with_execution(arn, |_| ())?;
        let slot = self
            .slot(arn)
            .ok_or_else(|| RunnerError::execution_missing(arn))?;
        let mut st = lock(&slot.state);
        if st.record.execution.status() != ExecutionStatus::Running {
            // The service answers with the stop date of an ended execution.
            return Ok(st
                .record
                .execution
                .times_ms()
                .1
                .unwrap_or_else(|| self.now()));
        }
        let machine = Arc::clone(&st.machine);
        st.record.execution.stop(
            &machine,
            &ClockRef(&*self.clock),
            &Integrations { inner: self },
            error,
            cause,
        );
        let parent = self.settle(arn, &slot, &mut st, &RunState::Finished, true);
        let stop = st
            .record
            .execution
            .times_ms()
            .1
            .unwrap_or_else(|| self.now());
        drop(st);
        if let Some((p, o)) = parent {
            self.complete_parent(&p, o);
        }
        Ok(stop)
    }

    fn token_owner(&self, token: &str) -> Result<(String, Arc<Slot>), RunnerError> {
        if lock(&self.internal).contains_key(token) {
            return Err(invalid_token());
        }
        let arn = lock(&self.tokens).get(token).cloned();
        match arn.and_then(|a| self.slot(&a).map(|s| (a, s))) {
            Some(found) => Ok(found),
            None if looks_like_token(token) => Err(timed_out()),
            None => Err(invalid_token()),
        }
    }

    /// SendTaskSuccess, SendTaskFailure.
    pub(crate) fn complete_task(
        &self,
        token: &str,
        outcome: Result<&str, (&str, &str)>,
    ) -> Result<(), RunnerError> {
        let (arn, slot) = self.token_owner(token)?;
        let mut st = lock(&slot.state);
        let r = match outcome {
            Ok(output) => st.record.execution.send_task_success(token, output),
            Err((e, c)) => st.record.execution.send_task_failure(token, e, c),
        };
        r.map_err(|e| match e {
            TokenError::InvalidOutput(m) => RunnerError::new(
                RunnerErrorKind::InvalidOutput,
                format!("Invalid Output: '{m}'"),
            ),
            TokenError::TaskDoesNotExist => timed_out(),
        })?;
        self.store_execution(&arn, &mut st);
        drop(st);
        self.enqueue(&arn);
        Ok(())
    }

    /// SendTaskHeartbeat.
    pub(crate) fn heartbeat(&self, token: &str) -> Result<(), RunnerError> {
        let (arn, slot) = self.token_owner(token)?;
        let mut st = lock(&slot.state);
        st.record
            .execution
            .send_task_heartbeat(token, self.now())
            .map_err(|_| timed_out())?;
        self.store_execution(&arn, &mut st);
        Ok(())
    }

    // ---- activities ----

    pub(crate) fn schedule_activity_task(
        &self,
        activity: &str,
        token: &str,
        input: &Value,
        execution_arn: &str,
    ) -> Result<(), RunnerError> {
        if !self.catalog().activities.contains_key(activity) {
            return Err(RunnerError::activity_missing(activity));
        }
        let task = ActivityTask {
            activity_arn: activity.to_string(),
            token: token.to_string(),
            input: input.to_string(),
            execution_arn: execution_arn.to_string(),
            scheduled_ms: self.now(),
        };
        if self.durable {
            self.put_record(ACTIVITY_TASK, token, Some(&task))?;
        }
        lock(&self.activity_tasks)
            .entry(activity.to_string())
            .or_default()
            .push_back(task);
        self.activity_cv.notify_all();
        Ok(())
    }

    /// GetActivityTask: the oldest task of `activity` still waited for,
    /// waiting up to `timeout` for one.
    pub(crate) fn get_activity_task(
        &self,
        activity: &str,
        worker_name: Option<&str>,
        timeout: Duration,
    ) -> Result<Option<(String, String)>, RunnerError> {
        let Some((token, input)) = self.take_activity_task(activity, timeout)? else {
            return Ok(None);
        };
        // After the queue's lock is released: a run holds its execution's
        // lock while it schedules activity tasks, so the order is slot, queue.
        if let Ok((arn, slot)) = self.token_owner(&token) {
            let mut st = lock(&slot.state);
            if st
                .record
                .execution
                .activity_started(&token, worker_name, self.now())
                .is_ok()
            {
                self.store_execution(&arn, &mut st);
            }
        }
        Ok(Some((token, input)))
    }

    fn take_activity_task(
        &self,
        activity: &str,
        timeout: Duration,
    ) -> Result<Option<(String, String)>, RunnerError> {
        self.scope.activity_arn(activity)?;
        if !self.catalog().activities.contains_key(activity) {
            return Err(RunnerError::activity_missing(activity));
        }
        let deadline = Instant::now() + timeout;
        let mut q = lock(&self.activity_tasks);
        loop {
            while let Some(task) = q.get_mut(activity).and_then(VecDeque::pop_front) {
                if self.durable {
                    self.put_record::<ActivityTask>(ACTIVITY_TASK, &task.token, None)?;
                }
                // A task whose execution stopped or timed out is not handed out.
                if lock(&self.tokens).contains_key(&task.token) {
                    return Ok(Some((task.token, task.input)));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stopping.load(Ordering::SeqCst) {
                return Ok(None);
            }
            q = self
                .activity_cv
                .wait_timeout(q, left.min(Duration::from_millis(500)))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

/// The name of the history record holding events `first..` of `arn`.
fn history_name(arn: &str, first: usize) -> String {
    format!("{arn}#{first:010}")
}

/// Puts the history records counted by `record.history_chunked` in front of
/// the events the record holds inline. Records from `history_chunked` on are
/// left over from a write cut short (see `write_execution`) and ignored.
fn rejoin_history(
    record: &mut ExecutionRecord,
    runs: BTreeMap<usize, (String, Vec<u8>)>,
) -> Result<(), String> {
    let chunked = usize::try_from(record.history_chunked).map_err(|e| e.to_string())?;
    if chunked == 0 {
        return Ok(());
    }
    let mut full: Vec<ferrule_states::HistoryEvent> = Vec::new();
    for (first, (name, bytes)) in runs.range(..chunked) {
        if *first != full.len() {
            return Err(format!(
                "{name} starts at {first}, after {} events",
                full.len()
            ));
        }
        let mut run: Vec<ferrule_states::HistoryEvent> =
            serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
        full.append(&mut run);
    }
    if full.len() < chunked {
        return Err(format!("{} of {chunked} events found", full.len()));
    }
    // A run may reach past `chunked` only if a later write replaced it and was
    // cut short; the inline events are the ones the record counts.
    full.truncate(chunked);
    full.append(&mut record.execution.take_history());
    record.execution.restore_history(full);
    Ok(())
}

/// A token of the shape ferrule issues (`HEX32:N`): one that may have
/// existed and timed out, as opposed to garbage.
fn looks_like_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((hex, n)) => {
            hex.len() == 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn invalid_token() -> RunnerError {
    RunnerError::new(
        RunnerErrorKind::InvalidToken,
        "Invalid Token: 'Invalid token'",
    )
}

fn timed_out() -> RunnerError {
    RunnerError::new(
        RunnerErrorKind::TaskTimedOut,
        "Task Timed Out: 'Provided task does not exist anymore'",
    )
}
