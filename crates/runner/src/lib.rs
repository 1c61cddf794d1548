//! ferrule's states runner: AWS Step Functions state machines that run
//! inside ferrule, publish to its buses, write to its queues, wait for task
//! tokens and activity workers, and survive a restart.
//!
//! The interpreter is [`ferrule_states`]; this crate gives it a home:
//!
//! * **definitions**: state machines (STANDARD and EXPRESS), versions,
//!   aliases, activities and tags, stored in the bus's store;
//! * **executions**: started by StartExecution, a rule target or another
//!   execution, advanced by worker threads, their timers (Wait, retry
//!   backoff, timeouts, heartbeats) kept in one heap keyed by due time and
//!   read from the shared [`Clock`](ferrule_core::Clock) — a test that
//!   drives a [`ManualClock`](ferrule_core::ManualClock) never sleeps;
//! * **durability**: a STANDARD execution is written to the store when it
//!   starts and after every run, task-token call and stop, so a restart
//!   resumes it where that write left it (EXPRESS executions live in memory);
//! * **integrations** (Task resources): `events:putEvents` onto ferrule's
//!   own buses (the event's `resources` get the state machine's and the
//!   execution's ARNs, as the service adds them), `sqs:sendMessage` into
//!   the built-in queues, `states:startExecution` (plain, `.sync`,
//!   `.sync:2`), `.waitForTaskToken` on all three, activities, and
//!   `http:invoke`; any other resource is refused by CreateStateMachine;
//! * **the bus**: [`Runner::open`] registers state machines as rule
//!   targets (the delivered event is the input), and every STANDARD
//!   execution's status change is published on the default bus as
//!   `aws.states` / `Step Functions Execution Status Change`.
//!
//! ```
//! use std::sync::Arc;
//! use ferrule_bus::{Bus, BusOptions, ManualClock};
//! use ferrule_runner::{CreateMachine, Runner, RunnerOptions, StartRequest};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let clock = Arc::new(ManualClock::new(1_700_000_000_000));
//! let mut options = BusOptions::new(dir.path());
//! options.clock = clock.clone();
//! let bus = Arc::new(Bus::open(options).unwrap());
//! let runner = Runner::open(Arc::clone(&bus), RunnerOptions::new()).unwrap();
//!
//! let (machine, _) = runner.create_state_machine(CreateMachine {
//!     name: "hello".into(),
//!     definition: r#"{"StartAt": "Nap", "States": {
//!         "Nap": {"Type": "Wait", "Seconds": 60, "Next": "Hi"},
//!         "Hi": {"Type": "Pass", "Result": "Hello, world!", "End": true}}}"#.into(),
//!     role_arn: "arn:aws:iam::123456789012:role/hello".into(),
//!     ..Default::default()
//! }).unwrap();
//!
//! let started = runner.start_execution(StartRequest::new(&machine.arn, Some("{}"))).unwrap();
//! runner.run_until_idle();
//! assert_eq!(runner.describe_execution(&started.execution_arn).unwrap()["status"], "RUNNING");
//!
//! clock.advance_ms(60_000); // the Wait is over: no sleeping
//! runner.run_until_idle();
//! let done = runner.describe_execution(&started.execution_arn).unwrap();
//! assert_eq!(done["status"], "SUCCEEDED");
//! assert_eq!(done["output"], "\"Hello, world!\"");
//! ```
#![warn(missing_docs)]

mod catalog;
mod error;
mod integrations;
mod machines;
mod model;
mod runner;
mod target;
mod test_state;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use ferrule_bus::Bus;
use ferrule_states::{Diagnostic, ExecutionStatus};
use serde_json::Value;

pub use error::{RunnerError, RunnerErrorKind};
pub use machines::{CreateMachine, MachineView, UpdateMachine};
pub use model::{
    ActivityRecord, AliasRecord, MachineRecord, MachineType, VersionRecord, check_name,
};
pub use runner::{StartRequest, Started};

/// How to run the runner: [`RunnerOptions::new`], then the setters.
#[derive(Clone, Debug)]
pub struct RunnerOptions {
    workers: usize,
    durable: bool,
    background: bool,
}

impl Default for RunnerOptions {
    fn default() -> RunnerOptions {
        RunnerOptions::new()
    }
}

impl RunnerOptions {
    /// Two worker threads, durable STANDARD executions, running in the background.
    pub fn new() -> RunnerOptions {
        RunnerOptions {
            workers: 2,
            durable: true,
            background: true,
        }
    }

    /// How many threads advance executions (at least 1).
    pub fn workers(mut self, n: usize) -> RunnerOptions {
        self.workers = n.max(1);
        self
    }

    /// Whether STANDARD executions are written to the store (default
    /// `true`; `false` only for measuring what durability costs).
    pub fn durable(mut self, yes: bool) -> RunnerOptions {
        self.durable = yes;
        self
    }

    /// Whether worker threads run executions (default `true`); without
    /// them, [`Runner::run_until_idle`] advances them on the caller's thread.
    pub fn background(mut self, yes: bool) -> RunnerOptions {
        self.background = yes;
        self
    }
}

/// The states runner of one account and region, on a [`Bus`].
pub struct Runner {
    inner: Arc<runner::Inner>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("region", &self.inner.scope.region)
            .field("account", &self.inner.scope.account)
            .finish_non_exhaustive()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.poke();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Runner {
    /// Opens the runner over `bus` (and its store): loads the stored state
    /// machines and executions, resumes those that were running, registers
    /// state machines as the bus's rule targets, and starts the workers.
    pub fn open(bus: Arc<Bus>, options: RunnerOptions) -> Result<Runner, RunnerError> {
        let inner = Arc::new(runner::Inner::new(Arc::clone(&bus), options.durable));
        inner.load()?;
        bus.register_provider(
            "states",
            Arc::new(target::StateMachines(Arc::downgrade(&inner))),
        );
        let mut threads = Vec::new();
        if options.background {
            for i in 0..options.workers {
                let me = Arc::clone(&inner);
                let t = thread::Builder::new()
                    .name(format!("ferrule-states-{i}"))
                    .spawn(move || me.work_loop())
                    .map_err(|e| {
                        RunnerError::new(
                            RunnerErrorKind::Internal,
                            format!("cannot start a worker: {e}"),
                        )
                    })?;
                threads.push(t);
            }
        }
        Ok(Runner { inner, threads })
    }

    /// Advances, on this thread, every execution that can move now (for
    /// tests and embedders without background workers; harmless with them).
    pub fn run_until_idle(&self) {
        while let Some(arn) = self.inner.take_due() {
            self.inner.advance(&arn);
        }
    }

    /// When the earliest timer (a Wait, a retry backoff, a timeout) is due,
    /// in ms since the epoch; `None` when nothing waits on the clock. With a
    /// manual clock, moving it there and calling [`Runner::run_until_idle`]
    /// runs what was due.
    pub fn next_timer_ms(&self) -> Option<u64> {
        self.inner.next_timer_ms()
    }

    /// Wakes the workers: call after moving a manual clock.
    pub fn clock_moved(&self) {
        self.inner.poke();
    }

    /// History events recorded since the runner opened (a measure of
    /// transitions, for benchmarks).
    pub fn events_recorded(&self) -> u64 {
        self.inner.transitions()
    }

    // ---- state machines ----

    /// CreateStateMachine: the machine, and the version ARN if `publish`.
    pub fn create_state_machine(
        &self,
        c: CreateMachine,
    ) -> Result<(MachineRecord, Option<String>), RunnerError> {
        self.inner.create_machine(c)
    }

    /// DescribeStateMachine (the machine or a version).
    pub fn describe_state_machine(&self, arn: &str) -> Result<MachineView, RunnerError> {
        self.inner.describe_machine(arn)
    }

    /// UpdateStateMachine: (updateDate ms, revisionId, version ARN if published).
    pub fn update_state_machine(
        &self,
        u: UpdateMachine,
    ) -> Result<(u64, String, Option<String>), RunnerError> {
        self.inner.update_machine(u)
    }

    /// DeleteStateMachine, with its versions and aliases; running
    /// executions go on with the definition they started with.
    pub fn delete_state_machine(&self, arn: &str) -> Result<(), RunnerError> {
        self.inner.delete_machine(arn)
    }

    /// ListStateMachines, by name.
    pub fn list_state_machines(&self) -> Vec<MachineRecord> {
        self.inner.list_machines()
    }

    /// ValidateStateMachineDefinition's diagnostics (empty: valid).
    pub fn validate_definition(&self, definition: &str) -> Vec<Diagnostic> {
        self.inner.validate_definition(definition)
    }

    /// PublishStateMachineVersion.
    pub fn publish_version(
        &self,
        arn: &str,
        revision_id: Option<&str>,
        description: Option<String>,
    ) -> Result<VersionRecord, RunnerError> {
        self.inner.publish_version(arn, revision_id, description)
    }

    /// ListStateMachineVersions, newest first.
    pub fn list_versions(&self, arn: &str) -> Result<Vec<VersionRecord>, RunnerError> {
        self.inner.list_versions(arn)
    }

    /// DeleteStateMachineVersion.
    pub fn delete_version(&self, arn: &str) -> Result<(), RunnerError> {
        self.inner.delete_version(arn)
    }

    /// CreateStateMachineAlias.
    pub fn create_alias(
        &self,
        name: &str,
        description: Option<String>,
        routing: Vec<(String, u32)>,
    ) -> Result<AliasRecord, RunnerError> {
        self.inner.create_alias(name, description, routing)
    }

    /// DescribeStateMachineAlias.
    pub fn describe_alias(&self, arn: &str) -> Result<AliasRecord, RunnerError> {
        self.inner.describe_alias(arn)
    }

    /// UpdateStateMachineAlias: the update date (ms).
    pub fn update_alias(
        &self,
        arn: &str,
        description: Option<String>,
        routing: Option<Vec<(String, u32)>>,
    ) -> Result<u64, RunnerError> {
        self.inner.update_alias(arn, description, routing)
    }

    /// DeleteStateMachineAlias.
    pub fn delete_alias(&self, arn: &str) -> Result<(), RunnerError> {
        self.inner.delete_alias(arn)
    }

    /// ListStateMachineAliases (of a machine, or those routing to a version).
    pub fn list_aliases(&self, arn: &str) -> Result<Vec<AliasRecord>, RunnerError> {
        self.inner.list_aliases(arn)
    }

    // ---- activities ----

    /// CreateActivity (idempotent by name).
    pub fn create_activity(
        &self,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<ActivityRecord, RunnerError> {
        self.inner.create_activity(name, tags)
    }

    /// DescribeActivity.
    pub fn describe_activity(&self, arn: &str) -> Result<ActivityRecord, RunnerError> {
        self.inner.describe_activity(arn)
    }

    /// DeleteActivity.
    pub fn delete_activity(&self, arn: &str) -> Result<(), RunnerError> {
        self.inner.delete_activity(arn)
    }

    /// ListActivities, by ARN.
    pub fn list_activities(&self) -> Vec<ActivityRecord> {
        self.inner.list_activities()
    }

    /// GetActivityTask: (taskToken, input) of the oldest waiting task,
    /// waiting up to `timeout` for one (the service waits 60 s). The
    /// execution's history records `ActivityStarted` with `worker_name`.
    pub fn get_activity_task(
        &self,
        activity_arn: &str,
        worker_name: Option<&str>,
        timeout: Duration,
    ) -> Result<Option<(String, String)>, RunnerError> {
        self.inner
            .get_activity_task(activity_arn, worker_name, timeout)
    }

    // ---- executions ----

    /// StartExecution: idempotent by name while the execution runs with the
    /// same input; the workflow runs after the answer.
    pub fn start_execution(&self, request: StartRequest) -> Result<Started, RunnerError> {
        self.inner.start_execution(request)
    }

    /// StartSyncExecution (EXPRESS machines): runs the execution and answers
    /// with how it ended, waiting at most `timeout` (the service's 5 minutes).
    pub fn start_sync_execution(
        &self,
        request: StartRequest,
        timeout: Duration,
    ) -> Result<Value, RunnerError> {
        let r = self.inner.scope.machine_ref(&request.machine)?;
        let t = self
            .inner
            .catalog()
            .machine(r.machine_arn())?
            .record
            .machine_type;
        if t != MachineType::Express {
            return Err(RunnerError::new(
                RunnerErrorKind::StateMachineTypeNotSupported,
                "This operation is not supported by this type of state machine",
            ));
        }
        let (_, slot) = self.inner.start_with_slot(request)?;
        if self.threads.is_empty() {
            self.run_until_idle();
        }
        Ok(self.inner.wait_for_end(&slot, timeout))
    }

    /// DescribeExecution (STANDARD executions).
    pub fn describe_execution(&self, arn: &str) -> Result<Value, RunnerError> {
        self.inner
            .with_execution(arn, |r| self.inner.describe_record(r))
    }

    /// DescribeStateMachineForExecution: the definition the execution runs.
    pub fn describe_state_machine_for_execution(
        &self,
        arn: &str,
    ) -> Result<MachineView, RunnerError> {
        let (machine_arn, definition, role) = self.inner.with_execution(arn, |r| {
            (
                r.execution.info().state_machine_arn.clone(),
                r.definition.clone(),
                r.execution.info().role_arn.clone(),
            )
        })?;
        let mut view = self
            .inner
            .describe_machine(&machine_arn)
            .unwrap_or_else(|_| MachineView {
                arn: machine_arn.clone(),
                name: machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                definition: String::new(),
                role_arn: String::new(),
                machine_type: MachineType::Standard,
                created_ms: 0,
                updated_ms: None,
                revision_id: String::new(),
                description: None,
                logging: serde_json::json!({"level": "OFF", "includeExecutionData": false}),
                tracing: serde_json::json!({"enabled": false}),
            });
        view.definition = definition;
        view.role_arn = role;
        Ok(view)
    }

    /// ListExecutions of a machine (or of a version or alias), newest first,
    /// with an optional status filter; each item as the service lists it.
    pub fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<&str>,
    ) -> Result<Vec<Value>, RunnerError> {
        let r = self.inner.scope.machine_ref(machine_arn)?;
        {
            let catalog = self.inner.catalog();
            catalog.machine(r.machine_arn())?;
        }
        let want = machine_arn.to_string();
        Ok(self.inner.executions(|rec| {
            let info = rec.execution.info();
            let matches = match &r {
                model::MachineRef::Latest(a) => info.state_machine_arn == *a,
                model::MachineRef::Version(..) => rec.version_arn.as_deref() == Some(&want),
                model::MachineRef::Alias(..) => rec.alias_arn.as_deref() == Some(&want),
            };
            let s = serde_json::to_value(rec.execution.status()).ok()?;
            if !matches || status.is_some_and(|f| s != f) {
                return None;
            }
            let (start, stop) = rec.execution.times_ms();
            let mut m = serde_json::Map::new();
            m.insert("executionArn".into(), info.execution_arn.clone().into());
            m.insert(
                "stateMachineArn".into(),
                info.state_machine_arn.clone().into(),
            );
            m.insert("name".into(), info.name.clone().into());
            m.insert("status".into(), s);
            m.insert("startDate".into(), (start as f64 / 1000.0).into());
            if let Some(stop) = stop {
                m.insert("stopDate".into(), (stop as f64 / 1000.0).into());
            }
            if let Some(v) = &rec.version_arn {
                m.insert("stateMachineVersionArn".into(), v.clone().into());
            }
            if let Some(a) = &rec.alias_arn {
                m.insert("stateMachineAliasArn".into(), a.clone().into());
            }
            m.insert("redriveCount".into(), 0.into());
            Some(Value::Object(m))
        }))
    }

    /// GetExecutionHistory's events, oldest first, in the API's shape.
    pub fn execution_history(&self, arn: &str) -> Result<Vec<Value>, RunnerError> {
        self.inner.with_execution(arn, |r| {
            r.execution
                .history()
                .iter()
                .map(ferrule_states::HistoryEvent::to_api_json)
                .collect()
        })
    }

    /// The status of an execution.
    pub fn execution_status(&self, arn: &str) -> Result<ExecutionStatus, RunnerError> {
        self.inner.with_execution(arn, |r| r.execution.status())
    }

    /// StopExecution: the stop date (ms).
    pub fn stop_execution(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<u64, RunnerError> {
        self.inner.stop_execution(arn, error, cause)
    }

    /// SendTaskSuccess.
    pub fn send_task_success(&self, token: &str, output: &str) -> Result<(), RunnerError> {
        self.inner.complete_task(token, Ok(output))
    }

    /// SendTaskFailure.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), RunnerError> {
        self.inner.complete_task(token, Err((error, cause)))
    }

    /// SendTaskHeartbeat.
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), RunnerError> {
        self.inner.heartbeat(token)
    }

    // ---- tags ----

    /// TagResource (state machines and activities).
    pub fn tag_resource(
        &self,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), RunnerError> {
        self.inner.change_tags(arn, |t| t.extend(tags))
    }

    /// UntagResource.
    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), RunnerError> {
        self.inner.change_tags(arn, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    /// ListTagsForResource.
    pub fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, RunnerError> {
        self.inner.tags(arn)
    }
}
