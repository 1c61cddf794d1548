//! The event bus: buses, rules and targets with
//! EventBridge's limits and messages; PutEvents; TestEventPattern; and the
//! durable dispatch of matched events to targets.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::mpsc;
//! use ferrule_bus::{Bus, BusOptions, PutEventsEntry, PutRuleInput, TargetConfig};
//! use ferrule_dispatch::targets::ChannelTarget;
//!
//! let dir = std::env::temp_dir().join(format!("ferrule-doc-{}", std::process::id()));
//! let bus = Bus::open(BusOptions::new(&dir))?;
//! let (tx, rx) = mpsc::sync_channel(16);
//! bus.register_target("arn:ferrule:channel:orders", std::sync::Arc::new(ChannelTarget(tx)));
//! bus.put_rule(PutRuleInput::new("big-orders", r#"{"detail": {"total": [{"numeric": [">", 100]}]}}"#))?;
//! bus.put_targets("big-orders", None, vec![TargetConfig {
//!     id: "t1".into(), arn: "arn:ferrule:channel:orders".into(), ..Default::default()
//! }])?;
//! let out = bus.put_events(vec![PutEventsEntry::new("shop", "Order", r#"{"total": 250}"#)])?;
//! assert_eq!(out.failed_entry_count, 0);
//! let delivered = rx.recv_timeout(std::time::Duration::from_secs(5))?;
//! assert!(delivered.contains(r#""total": 250"#) || delivered.contains(r#""total":250"#));
//! # drop(bus); let _ = std::fs::remove_dir_all(&dir);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod access;
mod archives;
mod connections;
mod error;
mod foreign;
mod health;
mod ingest;
mod model;
mod replay;
mod schedules;
mod settings;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

pub use access::denied_message;
pub use access::{PermissionCondition, PrincipalResolver, PutPermissionInput};
pub use archives::{
    ArchiveInfo, CreateArchiveInput, ListReplaysFilter, ReplayInfo, ReplayState, StartReplayInput,
    UpdateArchiveInput,
};
pub use connections::{
    API_METHODS, ApiDestinationInput, ApiDestinationRecord, ApiKeyAuth, AuthParameters, BasicAuth,
    CONNECTION_STATES, ConnectionHttpParameters, ConnectionInput, ConnectionParam,
    ConnectionRecord, OAuthAuth, api_destination_name, connection_name,
};
pub use error::{BusError, BusErrorKind};
pub use ferrule_core::{Clock, ManualClock, SystemClock};
pub use foreign::{ForeignBuses, arn_scope};
pub use ingest::{PendingPutEvents, PutEventsEntry, PutEventsOutput, PutEventsResultEntry};
pub use model::{
    BusLimits, BusRecord, DeadLetterConfig, HttpParameters, InputTransformerConfig, RetryPolicy,
    RuleRecord, RuleState, SqsParameters, TargetConfig, check_dead_letter_arn, check_target_arn,
};
pub use schedules::{
    CompletionHook, FirePayload, FireTarget, OneOffDelivery, SchedulerStats, TimedSchedule, fire_id,
};
pub use settings::{BusSettings, LogConfig};

use ferrule::{Limits, Matcher, Pattern, RuleSet};
use ferrule_dispatch::targets::{HttpTarget, QueueTarget, Target};
use ferrule_dispatch::{
    CounterSnapshot, Counters, DispatchConfig, Dispatcher, QueueMessage, RedbStore, Store,
    SyncMode, TargetCounters,
};
use ferrule_policy::{Policy, Principal};
use ferrule_store::{Expect, NewMessage, QueueInfo, QueueStore, StoreErrorKind};
use ferrule_transform::{InputSpec, Needed};
pub use model::bus_of as bus_name_of;
use model::{
    bus_of, check_bus_name, check_rule_name, check_schedule, check_sqs_parameters, check_target,
    no_bus, no_rule,
};

/// The `MessageId` of the built-in queue message with sequence number `seq`:
/// UUID-shaped, stable, distinct per message (the SQS layer and the states
/// runner's `sqs:sendMessage` both answer with it).
pub fn message_id(seq: u64) -> String {
    format!(
        "00000000-0000-4000-8{:03x}-{:012x}",
        (seq >> 48) & 0xfff,
        seq & 0xffff_ffff_ffff
    )
}

/// Targets of a kind the bus does not deliver to itself, such as the states
/// runner's state machines (see [`Bus::register_provider`]).
pub trait TargetProvider: Send + Sync {
    /// Whether `arn` can be a target (PutTargets refuses it with
    /// `Parameter ARN is not valid. Reason: {reason}` otherwise). Whether the
    /// resource exists is not asked: the service does not ask either.
    fn check(&self, arn: &str) -> Result<(), String>;

    /// The target that delivers to `arn`; `None` when it does not exist
    /// (the delivery is then dead-lettered with `NO_RESOURCE`).
    fn resolve(&self, arn: &str) -> Option<Arc<dyn Target>>;
}

/// How to open a [`Bus`]: [`BusOptions::new`], then set the fields to change.
#[derive(Clone)]
#[non_exhaustive]
pub struct BusOptions {
    /// Where the embedded store lives (`ferrule.redb` inside).
    pub data_dir: PathBuf,
    /// Whether writes are synced to disk before PutEvents answers.
    pub sync: SyncMode,
    /// The account id in ARNs and events.
    pub account: String,
    /// The region in ARNs and events.
    pub region: String,
    /// Quotas.
    pub limits: BusLimits,
    /// Delivery tuning.
    pub dispatch: DispatchConfig,
    /// Whether delivery threads start (off: call [`Bus::run_due`]).
    pub deliver_in_background: bool,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Timeout of one HTTP delivery attempt.
    pub http_timeout: Duration,
}

impl std::fmt::Debug for BusOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusOptions")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl BusOptions {
    /// Defaults, with the store in `data_dir`.
    pub fn new(data_dir: impl AsRef<Path>) -> BusOptions {
        BusOptions {
            data_dir: data_dir.as_ref().to_path_buf(),
            sync: SyncMode::Always,
            account: "000000000000".to_string(),
            region: "us-east-1".to_string(),
            limits: BusLimits::default(),
            dispatch: DispatchConfig::default(),
            deliver_in_background: true,
            clock: Arc::new(SystemClock),
            http_timeout: Duration::from_secs(10),
        }
    }
}

/// A description of a bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBusInfo {
    /// The name.
    pub name: String,
    /// The ARN.
    pub arn: String,
    /// The description.
    pub description: Option<String>,
    /// Creation time (ms since the epoch).
    pub created_ms: u64,
    /// The resource policy (JSON text), if any.
    pub policy: Option<String>,
}

/// PutRule's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutRuleInput {
    /// The rule name.
    pub name: String,
    /// The bus (name or ARN); `None` is `default`.
    pub event_bus_name: Option<String>,
    /// The event pattern.
    pub event_pattern: Option<String>,
    /// The schedule expression (run by the bus's scheduler, default bus only).
    pub schedule_expression: Option<String>,
    /// The state (default ENABLED).
    pub state: Option<RuleState>,
    /// The description.
    pub description: Option<String>,
    /// The role.
    pub role_arn: Option<String>,
    /// `Tags`, added to the rule's.
    pub tags: BTreeMap<String, String>,
}

impl PutRuleInput {
    /// A rule with a pattern on the default bus.
    pub fn new(name: &str, event_pattern: &str) -> PutRuleInput {
        PutRuleInput {
            name: name.to_string(),
            event_pattern: Some(event_pattern.to_string()),
            ..Default::default()
        }
    }
}

/// A failed entry of PutTargets or RemoveTargets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedTarget {
    /// The target id.
    pub target_id: String,
    /// The error code.
    pub error_code: String,
    /// The message.
    pub error_message: String,
}

/// The bus service: every event bus of one account and region.
pub struct Bus {
    inner: Arc<Inner>,
}

/// How a PutEvents call begun with [`Bus::start_put_events_as`] goes on.
#[derive(Debug)]
pub enum PutEventsStart {
    /// Checked and handed to the ingest thread: the answer once committed.
    Pending(PendingPutEvents),
    /// Some entry names a bus of another account or Region, put through
    /// [`ForeignBuses`] (which may block): the untouched entries, for
    /// [`Bus::put_events_as`] or [`Bus::put_events_as_service`] on a
    /// thread that may block.
    Routed(Vec<PutEventsEntry>),
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("account", &self.inner.account)
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) limits: BusLimits,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) dispatcher: Arc<Dispatcher>,
    state: RwLock<State>,
    registered: RwLock<HashMap<String, Arc<dyn Target>>>,
    /// Providers of targets by the ARN's service (`states`).
    providers: RwLock<HashMap<String, Arc<dyn TargetProvider>>>,
    http: Mutex<HashMap<String, Arc<HttpTarget>>>,
    /// Connections and API destinations ([`connections`]).
    apis: connections::Apis,
    http_timeout: Duration,
    pub(crate) ingest: ingest::Ingest,
    principals: RwLock<Option<Arc<PrincipalResolver>>>,
    /// The buses of other (account, Region)s ([`foreign`]).
    foreign: RwLock<Option<Arc<dyn ForeignBuses>>>,
    /// Rule schedules and Scheduler schedules ([`schedules`]).
    pub(crate) timer: schedules::Timer,
    /// Archives and replays ([`archives`], [`replay`]).
    pub(crate) archives: archives::Archives,
}

#[derive(Default)]
struct State {
    buses: BTreeMap<String, BusState>,
    queues: BTreeMap<String, u64>,
}

impl State {
    /// Bus `name`, or `ResourceNotFoundException`.
    fn bus(&self, name: &str) -> Result<&BusState, BusError> {
        self.buses.get(name).ok_or_else(|| no_bus(name))
    }

    /// Bus `name` for a change, or `ResourceNotFoundException`.
    fn bus_mut(&mut self, name: &str) -> Result<&mut BusState, BusError> {
        self.buses.get_mut(name).ok_or_else(|| no_bus(name))
    }
}

struct BusState {
    record: BusRecord,
    rules: BTreeMap<String, RuleRecord>,
    compiled: Option<Arc<Compiled>>,
    /// The parsed resource policy (its text is in `record`).
    policy: Option<Arc<Policy>>,
}

/// A bus's enabled rules, compiled, with their targets' input settings.
pub(crate) struct Compiled {
    pub(crate) matcher: Matcher,
    /// Per matcher rule id: the rule and its targets.
    pub(crate) rules: Vec<CompiledRule>,
    /// The members of an event that the targets' `InputPath`s and
    /// `InputTransformer`s read: a matched event is parsed once, into only
    /// these, for all its targets.
    pub(crate) needed: Needed,
}

pub(crate) struct CompiledRule {
    pub(crate) name: String,
    pub(crate) arn: String,
    /// The rule's match counter, looked up once here rather than per
    /// matched event (counters are never removed).
    pub(crate) matched: Arc<std::sync::atomic::AtomicU64>,
    /// Each target, its input, and its counters (looked up once, as
    /// `matched`).
    pub(crate) targets: Vec<(TargetConfig, InputSpec, Arc<TargetCounters>)>,
    /// The archive this rule feeds, for an archive's managed rule.
    pub(crate) archive: Option<String>,
}

const BUS_KEY: &str = "bus\u{1f}";
const RULE_KEY: &str = "rule\u{1f}";

impl Bus {
    /// Opens the bus with its embedded store in `options.data_dir`, loading
    /// buses, rules and targets saved there, and resuming delivery of
    /// whatever was pending.
    pub fn open(options: BusOptions) -> Result<Bus, BusError> {
        let store = RedbStore::open(&options.data_dir.join("ferrule.redb"), options.sync)?;
        Bus::open_with_store(options, Arc::new(store))
    }

    /// Opens the bus over another store.
    pub fn open_with_store(options: BusOptions, store: Arc<dyn Store>) -> Result<Bus, BusError> {
        let counters = Arc::new(Counters::default());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let resolver_weak = weak.clone();
            let resolve = Arc::new(move |arn: &str| -> Option<Arc<dyn Target>> {
                resolver_weak
                    .upgrade()
                    .and_then(|inner| inner.resolve(&resolver_weak, arn))
            });
            let dispatcher = Dispatcher::new(
                Arc::clone(&store),
                Arc::clone(&options.clock),
                resolve,
                options.dispatch.clone(),
                Arc::clone(&counters),
            );
            Inner {
                account: options.account.clone(),
                region: options.region.clone(),
                limits: options.limits.clone(),
                store: Arc::clone(&store),
                clock: Arc::clone(&options.clock),
                counters: Arc::clone(&counters),
                dispatcher,
                state: RwLock::new(State::default()),
                registered: RwLock::new(HashMap::new()),
                providers: RwLock::new(HashMap::new()),
                http: Mutex::new(HashMap::new()),
                apis: connections::Apis::default(),
                http_timeout: options.http_timeout,
                ingest: ingest::Ingest::new(weak.clone()),
                principals: RwLock::new(None),
                foreign: RwLock::new(None),
                timer: schedules::Timer::new(),
                archives: archives::Archives::default(),
            }
        });
        inner.load()?;
        inner.load_apis()?;
        inner.timer.load(&inner)?;
        inner.archives.load(&inner)?;
        if options.deliver_in_background {
            inner.dispatcher.start();
            inner.timer.start(Arc::downgrade(&inner));
            inner.archives.start(Arc::downgrade(&inner));
        }
        Ok(Bus { inner })
    }

    /// Registers the provider of every target whose ARN names `service`
    /// (`arn:aws:SERVICE:...`): the states runner registers `states`, so rules
    /// may target its state machines. PutTargets then asks the provider to
    /// check such ARNs, and deliveries to them resolve through it.
    pub fn register_provider(&self, service: &str, provider: Arc<dyn TargetProvider>) {
        if let Ok(mut p) = self.inner.providers.write() {
            p.insert(service.to_string(), provider);
        }
    }

    /// Checks a target ARN as PutTargets does: registered in-process targets
    /// and ARNs of a registered provider's service are the provider's to
    /// judge; everything else must be something the bus delivers to itself.
    pub fn check_target_arn(&self, arn: &str) -> Result<(), BusError> {
        if self.inner.is_foreign(arn) {
            let refused = || BusError::validation(foreign::target_refusal(arn));
            if ferrule_core::arn::bus_name(arn).is_none() {
                return Err(refused());
            }
            let Some(buses) = self.inner.foreign_buses() else {
                return Err(refused());
            };
            return buses.check_target(arn).map_err(|reason| {
                BusError::validation(format!("Parameter {arn} is not valid. Reason: {reason}"))
            });
        }
        if self
            .inner
            .registered
            .read()
            .is_ok_and(|r| r.contains_key(arn))
        {
            return Ok(());
        }
        if let Some(provider) = self.inner.provider(arn) {
            return provider.check(arn).map_err(|reason| {
                BusError::validation(format!("Parameter {arn} is not valid. Reason: {reason}"))
            });
        }
        check_target_arn(arn)
    }

    /// Checks a target's `DeadLetterConfig.Arn`: a standard built-in queue
    /// of this bus's account and Region.
    pub fn check_dead_letter_arn(&self, arn: &str) -> Result<(), BusError> {
        if self.inner.is_foreign(arn) {
            return Err(BusError::validation(format!(
                "Parameter {arn} is not valid. Reason: a dead-letter queue must be in the \
                 rule's own account and Region."
            )));
        }
        check_dead_letter_arn(arn)
    }

    /// Sets the buses of other (account, Region)s: targets and PutEvents
    /// entries that name them by ARN go there ([`ForeignBuses`]); without
    /// it they are refused.
    pub fn set_foreign_buses(&self, buses: Arc<dyn ForeignBuses>) {
        if let Ok(mut f) = self.inner.foreign.write() {
            *f = Some(buses);
        }
    }

    /// This bus as a rule target: events delivered to it are put on bus
    /// `name` again, on behalf of the credential that put them (so its
    /// policies apply), as forwarding between two buses of one account
    /// does. For [`ForeignBuses::resolve_target`].
    pub fn bus_target(&self, name: &str) -> Arc<dyn Target> {
        Arc::new(ingest::BusTarget {
            inner: Arc::downgrade(&self.inner),
            bus: name.to_string(),
        })
    }

    /// Registers an in-process target under `arn` (for example
    /// `arn:ferrule:function:resize`); rules' targets with that ARN deliver to it.
    pub fn register_target(&self, arn: &str, target: Arc<dyn Target>) {
        if let Ok(mut r) = self.inner.registered.write() {
            r.insert(arn.to_string(), target);
        }
    }

    /// The account id.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The ARN of bus `name`.
    pub fn bus_arn(&self, name: &str) -> String {
        self.inner.bus_arn(name)
    }

    // ---- buses ----

    /// CreateEventBus.
    pub fn create_event_bus(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<String, BusError> {
        self.create_bus(name, description, None)
    }

    fn create_bus(
        &self,
        name: &str,
        description: Option<&str>,
        policy: Option<Policy>,
    ) -> Result<String, BusError> {
        check_bus_name(name)?;
        let mut state = self.inner.write_state()?;
        if state.buses.contains_key(name) {
            return Err(BusError::new(
                BusErrorKind::ResourceAlreadyExists,
                format!("Event bus {name} already exists."),
            ));
        }
        if state.buses.len() >= self.inner.limits.buses {
            return Err(limit_exceeded());
        }
        let record = BusRecord {
            name: name.to_string(),
            description: description.map(str::to_string),
            created_ms: self.inner.clock.now_ms(),
            policy: policy.as_ref().map(|p| p.text().to_string()),
            ..Default::default()
        };
        self.inner
            .save(&format!("{BUS_KEY}{name}"), Some(&record))?;
        state.buses.insert(
            name.to_string(),
            BusState {
                record,
                rules: BTreeMap::new(),
                compiled: None,
                policy: policy.map(Arc::new),
            },
        );
        Ok(self.inner.bus_arn(name))
    }

    /// DescribeEventBus (`None`: the default bus).
    pub fn describe_event_bus(&self, name: Option<&str>) -> Result<EventBusInfo, BusError> {
        let name = bus_of(name);
        let state = self.inner.read_state()?;
        let bus = state.buses.get(&name).ok_or_else(|| no_bus(&name))?;
        Ok(self.inner.bus_info(&bus.record))
    }

    /// DeleteEventBus; its rules go with it.
    pub fn delete_event_bus(&self, name: &str) -> Result<(), BusError> {
        if name == "default" {
            return Err(BusError::validation("Cannot delete event bus default."));
        }
        let mut state = self.inner.write_state()?;
        let bus = state.bus(name)?;
        // An archive's rule stays until the archive is deleted, and the
        // service refuses to delete a bus that still has rules.
        if bus.rules.values().any(|r| r.managed_by.is_some()) {
            return Err(BusError::validation(
                "EventBus can't be deleted since it has rules.",
            ));
        }
        for rule in bus.rules.keys() {
            self.inner.save::<RuleRecord>(&rule_key(name, rule), None)?;
        }
        self.inner
            .save::<BusRecord>(&format!("{BUS_KEY}{name}"), None)?;
        state.buses.remove(name);
        Ok(())
    }

    /// ListEventBuses, by name prefix.
    pub fn list_event_buses(
        &self,
        name_prefix: Option<&str>,
    ) -> Result<Vec<EventBusInfo>, BusError> {
        let state = self.inner.read_state()?;
        Ok(state
            .buses
            .values()
            .filter(|b| name_prefix.is_none_or(|p| b.record.name.starts_with(p)))
            .map(|b| self.inner.bus_info(&b.record))
            .collect())
    }

    // ---- rules ----

    /// PutRule: creates or replaces a rule (omitted fields are reset; targets
    /// are kept). Returns the rule's ARN.
    pub fn put_rule(&self, input: PutRuleInput) -> Result<String, BusError> {
        check_rule_name(&input.name, "name")?;
        let bus_name = bus_of(input.event_bus_name.as_deref());
        let pattern = input.event_pattern.as_deref().filter(|p| !p.is_empty());
        let schedule = input
            .schedule_expression
            .as_deref()
            .filter(|s| !s.is_empty());
        if pattern.is_none() && schedule.is_none() {
            return Err(BusError::validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
            ));
        }
        if let Some(p) = pattern {
            self.inner.check_pattern(p)?;
        }
        if let Some(s) = schedule {
            if bus_name != "default" {
                return Err(BusError::validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            check_schedule(s)?;
        }
        if let Some(d) = &input.description
            && d.chars().count() > 512
        {
            return Err(BusError::constraint(
                d,
                "description",
                "Member must have length less than or equal to 512",
            ));
        }
        let mut state = self.inner.write_state()?;
        let bus = state.bus_mut(&bus_name)?;
        let existing = bus.rules.get(&input.name);
        if let Some(r) = existing {
            archives::check_unmanaged(r)?;
        }
        if existing.is_none() && bus.rules.len() >= self.inner.limits.rules_per_bus {
            return Err(limit_exceeded());
        }
        let record = RuleRecord {
            name: input.name.clone(),
            bus: bus_name.clone(),
            event_pattern: pattern.map(str::to_string),
            schedule_expression: schedule.map(str::to_string),
            state: input.state.unwrap_or_default(),
            description: input.description.clone(),
            role_arn: input.role_arn.clone(),
            targets: existing.map(|r| r.targets.clone()).unwrap_or_default(),
            // PutRule's Tags are added to those the rule has.
            tags: {
                let mut t = existing.map(|r| r.tags.clone()).unwrap_or_default();
                t.extend(input.tags.clone());
                t
            },
            managed_by: None,
        };
        if record.tags.len() > settings::MAX_TAGS {
            return Err(settings::too_many_tags());
        }
        self.inner
            .save(&rule_key(&bus_name, &input.name), Some(&record))?;
        bus.rules.insert(input.name.clone(), record);
        bus.compiled = None;
        self.inner.timer.rules_changed(self.inner.clock.now_ms());
        Ok(self.inner.rule_arn(&bus_name, &input.name))
    }

    /// DescribeRule.
    pub fn describe_rule(&self, name: &str, bus: Option<&str>) -> Result<RuleRecord, BusError> {
        let bus_name = bus_of(bus);
        let state = self.inner.read_state()?;
        let bus = state.bus(&bus_name)?;
        bus.rules
            .get(name)
            .cloned()
            .ok_or_else(|| no_rule(name, &bus_name))
    }

    /// The ARN of a rule.
    pub fn rule_arn(&self, name: &str, bus: Option<&str>) -> String {
        self.inner.rule_arn(&bus_of(bus), name)
    }

    /// DeleteRule: fails while the rule has targets; deleting a rule that
    /// does not exist succeeds.
    pub fn delete_rule(&self, name: &str, bus: Option<&str>) -> Result<(), BusError> {
        let bus_name = bus_of(bus);
        let mut state = self.inner.write_state()?;
        let bus = state.bus_mut(&bus_name)?;
        match bus.rules.get(name) {
            None => Ok(()),
            Some(rule) if rule.managed_by.is_some() => archives::check_unmanaged(rule),
            Some(rule) if !rule.targets.is_empty() => Err(BusError::validation(
                "Rule can't be deleted since it has targets.",
            )),
            Some(_) => {
                self.inner
                    .save::<RuleRecord>(&rule_key(&bus_name, name), None)?;
                bus.rules.remove(name);
                bus.compiled = None;
                self.inner.timer.rules_changed(self.inner.clock.now_ms());
                Ok(())
            }
        }
    }

    /// ListRules, by name prefix, sorted by name.
    pub fn list_rules(
        &self,
        bus: Option<&str>,
        name_prefix: Option<&str>,
    ) -> Result<Vec<RuleRecord>, BusError> {
        let bus_name = bus_of(bus);
        let state = self.inner.read_state()?;
        let bus = state.bus(&bus_name)?;
        Ok(bus
            .rules
            .values()
            .filter(|r| name_prefix.is_none_or(|p| r.name.starts_with(p)))
            .cloned()
            .collect())
    }

    /// EnableRule.
    pub fn enable_rule(&self, name: &str, bus: Option<&str>) -> Result<(), BusError> {
        self.set_state(name, bus, RuleState::Enabled)
    }

    /// DisableRule.
    pub fn disable_rule(&self, name: &str, bus: Option<&str>) -> Result<(), BusError> {
        self.set_state(name, bus, RuleState::Disabled)
    }

    fn set_state(&self, name: &str, bus: Option<&str>, to: RuleState) -> Result<(), BusError> {
        self.inner.update_rule(name, bus, |rule| {
            rule.state = to;
            Ok(())
        })
    }

    /// PutTargets: adds or replaces targets by id. Validation problems fail
    /// the whole call, as in EventBridge.
    pub fn put_targets(
        &self,
        rule: &str,
        bus: Option<&str>,
        targets: Vec<TargetConfig>,
    ) -> Result<Vec<FailedTarget>, BusError> {
        if targets.is_empty() || targets.len() > 100 {
            return Err(BusError::constraint(
                "[...]",
                "targets",
                "Member must have length between 1 and 100",
            ));
        }
        for (i, t) in targets.iter().enumerate() {
            check_target(t, i + 1)?;
            self.check_target_arn(&t.arn)?;
            check_sqs_parameters(t)?;
            if let Some(d) = &t.dead_letter_config {
                self.check_dead_letter_arn(&d.arn)?;
            }
            input_spec(t).map_err(|e| BusError::validation(e.coral_message(i + 1)))?;
        }
        let limit = self.inner.limits.targets_per_rule;
        self.inner.update_rule(rule, bus, |record| {
            let mut merged = record.targets.clone();
            for t in &targets {
                match merged.iter_mut().find(|m| m.id == t.id) {
                    Some(m) => *m = t.clone(),
                    None => merged.push(t.clone()),
                }
            }
            if merged.len() > limit {
                return Err(limit_exceeded());
            }
            record.targets = merged;
            Ok(())
        })?;
        Ok(Vec::new())
    }

    /// RemoveTargets; ids that are not targets of the rule are reported as failed entries.
    pub fn remove_targets(
        &self,
        rule: &str,
        bus: Option<&str>,
        ids: &[String],
    ) -> Result<Vec<FailedTarget>, BusError> {
        let mut failed = Vec::new();
        self.inner.update_rule(rule, bus, |record| {
            for id in ids {
                if let Some(at) = record.targets.iter().position(|t| &t.id == id) {
                    record.targets.remove(at);
                } else {
                    failed.push(FailedTarget {
                        target_id: id.clone(),
                        error_code: "ResourceNotFoundException".into(),
                        error_message: format!("Target {id} does not exist on rule {rule}."),
                    });
                }
            }
            Ok(())
        })?;
        Ok(failed)
    }

    /// ListTargetsByRule.
    pub fn list_targets_by_rule(
        &self,
        rule: &str,
        bus: Option<&str>,
    ) -> Result<Vec<TargetConfig>, BusError> {
        Ok(self.describe_rule(rule, bus)?.targets)
    }

    /// ListRuleNamesByTarget.
    pub fn list_rule_names_by_target(
        &self,
        target_arn: &str,
        bus: Option<&str>,
    ) -> Result<Vec<String>, BusError> {
        Ok(self
            .list_rules(bus, None)?
            .into_iter()
            .filter(|r| r.targets.iter().any(|t| t.arn == target_arn))
            .map(|r| r.name)
            .collect())
    }

    // ---- events ----

    /// PutEvents: validates each entry on its own (a bad entry fails alone),
    /// writes every (event, target) pair of the good ones to the durable
    /// queue, then answers. Events of concurrent calls are matched together
    /// in batches on the engine's parallel path.
    ///
    /// The caller is the bus's own account (an embedder); servers use
    /// [`Bus::put_events_as`] with the caller's identity.
    pub fn put_events(&self, entries: Vec<PutEventsEntry>) -> Result<PutEventsOutput, BusError> {
        let me = Principal::account_root(&self.inner.account);
        self.put_routed(entries, &me, ingest::Origin::Caller)
    }

    /// PutEvents by an AWS service that ferrule runs (the states runner's
    /// `aws.states` status-change events): as the account, and `aws.*`
    /// sources are allowed, which [`Bus::put_events`] refuses as the service does.
    pub fn put_service_events(
        &self,
        entries: Vec<PutEventsEntry>,
    ) -> Result<PutEventsOutput, BusError> {
        let me = Principal::account_root(&self.inner.account);
        self.put_routed(entries, &me, ingest::Origin::Service)
    }

    /// PutEvents on behalf of `caller`: an entry for a bus whose policies do
    /// not allow `caller` `events:PutEvents` fails alone with
    /// `AccessDeniedException` and is neither matched nor delivered.
    pub fn put_events_as(
        &self,
        caller: &Principal,
        entries: Vec<PutEventsEntry>,
    ) -> Result<PutEventsOutput, BusError> {
        self.put_routed(entries, caller, ingest::Origin::Caller)
    }

    /// PutEvents on behalf of `caller` playing an AWS service: authorized
    /// as [`Bus::put_events_as`] is, and `aws.*` sources are allowed (for
    /// testing rules for AWS service events locally).
    pub fn put_events_as_service(
        &self,
        caller: &Principal,
        entries: Vec<PutEventsEntry>,
    ) -> Result<PutEventsOutput, BusError> {
        self.put_routed(entries, caller, ingest::Origin::Service)
    }

    /// PutEvents on behalf of `caller` (as [`Bus::put_events_as`], or
    /// [`Bus::put_events_as_service`] when `as_service`) without blocking
    /// the calling thread: the entries are checked, authorized and handed
    /// to the ingest thread, and the answer, once they are committed, is
    /// awaited ([`PendingPutEvents::into_future`]) or waited for. Entries
    /// for buses of other accounts or Regions go through
    /// [`ForeignBuses`], which may block: such a call comes back as
    /// [`PutEventsStart::Routed`], for the blocking methods.
    pub fn start_put_events_as(
        &self,
        caller: &Principal,
        entries: Vec<PutEventsEntry>,
        as_service: bool,
    ) -> Result<PutEventsStart, BusError> {
        if self.any_foreign(&entries) {
            return Ok(PutEventsStart::Routed(entries));
        }
        let origin = if as_service {
            ingest::Origin::Service
        } else {
            ingest::Origin::Caller
        };
        ingest::start(&self.inner, entries, caller, origin, false).map(PutEventsStart::Pending)
    }

    /// Whether an entry names a bus of another account or Region.
    fn any_foreign(&self, entries: &[PutEventsEntry]) -> bool {
        entries.iter().any(|e| self.is_foreign_entry(e))
    }

    fn is_foreign_entry(&self, e: &PutEventsEntry) -> bool {
        e.event_bus_name
            .as_deref()
            .is_some_and(|n| self.inner.is_foreign(n))
    }

    /// PutEvents with the entries that name another account's or Region's
    /// bus by ARN put there ([`ForeignBuses`]), the others here; results
    /// in request order.
    fn put_routed(
        &self,
        entries: Vec<PutEventsEntry>,
        caller: &Principal,
        origin: ingest::Origin,
    ) -> Result<PutEventsOutput, BusError> {
        let foreign = |e: &PutEventsEntry| self.is_foreign_entry(e);
        if !self.any_foreign(&entries) {
            return ingest::put_events(&self.inner, entries, caller, origin);
        }
        let mut here = Vec::new();
        let mut there = Vec::new();
        let mut order = Vec::with_capacity(entries.len());
        for e in entries {
            if foreign(&e) {
                order.push(false);
                there.push(e);
            } else {
                order.push(true);
                here.push(e);
            }
        }
        let local = if here.is_empty() {
            PutEventsOutput::default()
        } else {
            ingest::put_events(&self.inner, here, caller, origin)?
        };
        let remote = match self.inner.foreign_buses() {
            Some(buses) => {
                let n = there.len();
                let mut out =
                    buses.put_events(caller, matches!(origin, ingest::Origin::Service), there);
                // A short answer must not leave entries unanswered.
                out.resize_with(n, || foreign::unroutable("the bus"));
                out
            }
            None => there
                .iter()
                .map(|e| foreign::unroutable(e.event_bus_name.as_deref().unwrap_or("")))
                .collect(),
        };
        let mut local = local.entries.into_iter();
        let mut remote = remote.into_iter();
        let entries: Vec<PutEventsResultEntry> = order
            .into_iter()
            .filter_map(|is_local| {
                if is_local {
                    local.next()
                } else {
                    remote.next()
                }
            })
            .collect();
        Ok(PutEventsOutput {
            failed_entry_count: entries.iter().filter(|e| e.error_code.is_some()).count(),
            entries,
        })
    }

    /// TestEventPattern: whether `event` (a full envelope) matches `pattern`.
    pub fn test_event_pattern(&self, pattern: &str, event: &str) -> Result<bool, BusError> {
        let parsed = self.inner.check_pattern(pattern)?;
        let invalid = || BusError::validation("Parameter Event is not valid.");
        if !event.trim_start().starts_with('{')
            || ferrule::validate_event(event.as_bytes()).is_err()
        {
            return Err(invalid());
        }
        // The envelope fields must be present: matched with `exists`, which
        // reads the event as the engine does (numbers beyond f64 included).
        let mut required = RuleSet::new();
        for (i, field) in ["id", "account", "source", "time", "region", "detail-type"]
            .iter()
            .enumerate()
        {
            let p = format!(r#"{{"{field}": [{{"exists": true}}]}}"#);
            let pattern = Pattern::parse(&p).map_err(|e| BusError::internal(e.to_string()))?;
            required.add_pattern(&i.to_string(), pattern);
        }
        // Validated once above: both matches read it as trusted input.
        let present = required
            .compile()
            .matches_trusted(event.as_bytes())
            .map_err(|_| invalid())?;
        if present.len() < 6 {
            return Err(invalid());
        }
        let mut rules = RuleSet::new();
        rules.add_pattern("p", parsed);
        let matched = rules
            .compile()
            .matches_trusted(event.as_bytes())
            .map_err(|_| invalid())?;
        Ok(!matched.is_empty())
    }

    // ---- delivery ----

    /// Attempts every delivery that is due now, synchronously (for tests
    /// driving a [`ManualClock`]); returns the number of attempts.
    pub fn run_due(&self) -> usize {
        self.inner.dispatcher.run_due()
    }

    /// Deliveries waiting in the durable queue.
    pub fn pending_deliveries(&self) -> Result<u64, BusError> {
        self.inner.store.pending().map_err(BusError::from)
    }

    /// Counters per rule and target.
    pub fn counters(&self) -> Vec<CounterSnapshot> {
        self.inner.counters.snapshot()
    }

    // ---- built-in queues ----

    /// Creates a built-in queue (idempotent); returns its ARN.
    pub fn create_queue(&self, name: &str) -> Result<String, BusError> {
        self.create_queue_with(name, BTreeMap::new())?;
        Ok(self.queue_arn(name))
    }

    /// Creates built-in queue `name` with `attributes` (opaque to the bus:
    /// the SQS layer's); an existing queue is returned unchanged, and the
    /// flag says whether it was created.
    pub fn create_queue_with(
        &self,
        name: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<(QueueInfo, bool), BusError> {
        let mut state = self.inner.write_state()?;
        let now = self.inner.clock.now_ms();
        let (info, created) = self.inner.store.create_queue(name, attributes, now)?;
        state.queues.insert(name.to_string(), info.created_ms);
        Ok((info, created))
    }

    /// Deletes a built-in queue and its messages (a queue that does not
    /// exist is no error).
    pub fn delete_queue(&self, name: &str) -> Result<(), BusError> {
        let mut state = self.inner.write_state()?;
        match self.inner.store.delete_queue(name) {
            Err(e) if e.kind() != StoreErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        state.queues.remove(name);
        Ok(())
    }

    /// The built-in queues.
    pub fn queues(&self) -> Result<Vec<String>, BusError> {
        Ok(self.inner.read_state()?.queues.keys().cloned().collect())
    }

    /// When built-in queue `name` was created (ms since the epoch).
    pub fn queue_created_ms(&self, name: &str) -> Option<u64> {
        self.inner.read_state().ok()?.queues.get(name).copied()
    }

    /// The ARN of built-in queue `name`.
    pub fn queue_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.inner.region, self.inner.account
        )
    }

    /// The storage of the built-in queues (messages, visibility, receipt
    /// handles), for the SQS layer; create and delete queues through the
    /// bus ([`Bus::create_queue_with`], [`Bus::delete_queue`]) so that it
    /// knows them as targets.
    pub fn queue_store(&self) -> &dyn QueueStore {
        &*self.inner.store
    }

    /// The bus's store, for the services that keep their own records in
    /// the same embedded store (the states runner).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
    }

    /// The bus's clock, shared with the services built on the bus.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// Now, by the bus's clock (ms since the epoch).
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Messages in a built-in queue, oldest first, whatever their
    /// visibility (none for a queue that does not exist).
    pub fn queue_messages(&self, name: &str, limit: usize) -> Result<Vec<QueueMessage>, BusError> {
        match self.inner.store.messages(name, limit) {
            Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(Vec::new()),
            r => r.map_err(BusError::from),
        }
    }

    /// Appends a message to a built-in queue.
    pub fn queue_send(&self, name: &str, body: &str) -> Result<u64, BusError> {
        self.inner
            .store
            .send(name, vec![NewMessage::new(body)], self.inner.clock.now_ms())?
            .first()
            .copied()
            .ok_or_else(|| BusError::internal("no sequence number"))
    }

    /// Removes every message of a built-in queue.
    pub fn queue_purge(&self, name: &str) -> Result<(), BusError> {
        match self.inner.store.purge(name) {
            Err(e) if e.kind() != StoreErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.inner.timer.stop();
        self.inner.archives.stop();
        self.inner.ingest.stop();
        self.inner.dispatcher.stop();
    }
}

fn limit_exceeded() -> BusError {
    BusError::new(
        BusErrorKind::LimitExceeded,
        "The requested resource exceeds the maximum number allowed.",
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn rule_key(bus: &str, rule: &str) -> String {
    format!("{RULE_KEY}{bus}\u{1f}{rule}")
}

fn input_spec(t: &TargetConfig) -> Result<InputSpec, ferrule_transform::TransformError> {
    let transformer = t
        .input_transformer
        .as_ref()
        .map(|x| (x.input_paths_map.as_slice(), x.input_template.as_str()));
    InputSpec::new(
        &t.id,
        t.input.as_deref(),
        t.input_path.as_deref(),
        transformer,
    )
}

impl Inner {
    fn read_state(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, BusError> {
        self.state
            .read()
            .map_err(|_| BusError::internal("state lock poisoned"))
    }

    fn write_state(&self) -> Result<std::sync::RwLockWriteGuard<'_, State>, BusError> {
        self.state
            .write()
            .map_err(|_| BusError::internal("state lock poisoned"))
    }

    /// Stores a record under `key` (`kind` + `\u{1f}` + name) as JSON;
    /// `None` removes it.
    fn save<T: serde::Serialize>(&self, key: &str, value: Option<&T>) -> Result<(), BusError> {
        let bytes = match value {
            Some(v) => Some(serde_json::to_vec(v)?),
            None => None,
        };
        let (kind, name) = key.split_once('\u{1f}').unwrap_or((key, ""));
        self.store
            .put(kind, name, bytes, Expect::Any)
            .map(|_| ())
            .map_err(BusError::from)
    }

    /// The records of kind `prefix` (`kind` + `\u{1f}`), as (key, JSON).
    fn configs(&self, prefix: &str) -> Result<Vec<(String, String)>, BusError> {
        let kind = prefix.trim_end_matches('\u{1f}');
        self.store
            .list(kind)?
            .into_iter()
            .map(|r| {
                let text = String::from_utf8(r.value)
                    .map_err(|e| BusError::internal(format!("stored {kind} {}: {e}", r.name)))?;
                Ok((format!("{kind}\u{1f}{}", r.name), text))
            })
            .collect()
    }

    fn load(&self) -> Result<(), BusError> {
        let mut state = self.write_state()?;
        for (_, text) in self.configs(BUS_KEY)? {
            let record: BusRecord = serde_json::from_str(&text)?;
            // Stored policies were validated when they were put; one that no
            // longer parses stops the start rather than being dropped.
            let policy = match &record.policy {
                Some(p) => Some(Arc::new(access::parse_bus_policy(p).map_err(|e| {
                    BusError::internal(format!("stored policy of bus {}: {e}", record.name))
                })?)),
                None => None,
            };
            state.buses.insert(
                record.name.clone(),
                BusState {
                    record,
                    rules: BTreeMap::new(),
                    compiled: None,
                    policy,
                },
            );
        }
        if !state.buses.contains_key("default") {
            let record = BusRecord {
                name: "default".into(),
                description: None,
                created_ms: self.clock.now_ms(),
                policy: None,
                ..Default::default()
            };
            self.save(&format!("{BUS_KEY}default"), Some(&record))?;
            state.buses.insert(
                "default".into(),
                BusState {
                    record,
                    rules: BTreeMap::new(),
                    compiled: None,
                    policy: None,
                },
            );
        }
        for (_, text) in self.configs(RULE_KEY)? {
            let record: RuleRecord = serde_json::from_str(&text)?;
            if let Some(bus) = state.buses.get_mut(&record.bus) {
                bus.rules.insert(record.name.clone(), record);
            }
        }
        for q in self.store.queues()? {
            state.queues.insert(q.name, q.created_ms);
        }
        Ok(())
    }

    fn check_pattern(&self, pattern: &str) -> Result<Pattern, BusError> {
        if pattern.chars().count() > self.limits.pattern_chars {
            return Err(BusError::constraint(
                "[...]",
                "eventPattern",
                &format!(
                    "Member must have length less than or equal to {}",
                    self.limits.pattern_chars
                ),
            ));
        }
        Pattern::parse_with(pattern, &Limits::default()).map_err(|e| {
            BusError::new(
                BusErrorKind::InvalidEventPattern,
                format!("Event pattern is not valid. Reason: {e}"),
            )
        })
    }

    fn update_rule(
        &self,
        name: &str,
        bus: Option<&str>,
        change: impl FnOnce(&mut RuleRecord) -> Result<(), BusError>,
    ) -> Result<(), BusError> {
        let bus_name = bus_of(bus);
        let mut state = self.write_state()?;
        let bus = state.bus_mut(&bus_name)?;
        let rule = bus
            .rules
            .get_mut(name)
            .ok_or_else(|| no_rule(name, &bus_name))?;
        archives::check_unmanaged(rule)?;
        let mut updated = rule.clone();
        change(&mut updated)?;
        self.save(&rule_key(&bus_name, name), Some(&updated))?;
        *rule = updated;
        bus.compiled = None;
        self.timer.rules_changed(self.clock.now_ms());
        Ok(())
    }

    pub(crate) fn bus_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:event-bus/{name}",
            self.region, self.account
        )
    }

    pub(crate) fn rule_arn(&self, bus: &str, name: &str) -> String {
        if bus == "default" {
            format!(
                "arn:aws:events:{}:{}:rule/{name}",
                self.region, self.account
            )
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                self.region, self.account
            )
        }
    }

    fn bus_info(&self, record: &BusRecord) -> EventBusInfo {
        EventBusInfo {
            name: record.name.clone(),
            arn: self.bus_arn(&record.name),
            description: record.description.clone(),
            created_ms: record.created_ms,
            policy: record.policy.clone(),
        }
    }

    /// The compiled rules of a bus (compiled on first use after a change);
    /// `None` if the bus does not exist.
    pub(crate) fn compiled(&self, bus: &str) -> Result<Option<Arc<Compiled>>, BusError> {
        {
            let state = self.read_state()?;
            match state.buses.get(bus) {
                None => return Ok(None),
                Some(b) => {
                    if let Some(c) = &b.compiled {
                        return Ok(Some(Arc::clone(c)));
                    }
                }
            }
        }
        let mut state = self.write_state()?;
        let Some(b) = state.buses.get_mut(bus) else {
            return Ok(None);
        };
        if let Some(c) = &b.compiled {
            return Ok(Some(Arc::clone(c)));
        }
        let mut rules = RuleSet::new();
        let mut by_name: BTreeMap<&str, CompiledRule> = BTreeMap::new();
        for r in b.rules.values() {
            let (Some(text), true) = (&r.event_pattern, r.state.is_enabled()) else {
                continue;
            };
            // Stored patterns were validated when they were put.
            let Ok(pattern) = Pattern::parse(text) else {
                continue;
            };
            rules.add_pattern(&r.name, pattern);
            let targets = r
                .targets
                .iter()
                .filter_map(|t| {
                    let spec = input_spec(t).ok()?;
                    Some((t.clone(), spec, self.counters.target(bus, &r.name, &t.id)))
                })
                .collect();
            by_name.insert(
                &r.name,
                CompiledRule {
                    name: r.name.clone(),
                    arn: self.rule_arn(bus, &r.name),
                    matched: self.counters.rule(bus, &r.name),
                    targets,
                    archive: archives::archive_of_rule(r),
                },
            );
        }
        let matcher = rules.compile();
        // Matcher rule ids follow name order, as does the map.
        let rules: Vec<CompiledRule> = by_name.into_values().collect();
        let mut needed = Needed::nothing();
        for (_, spec, _) in rules.iter().flat_map(|r| &r.targets) {
            needed.add(spec);
        }
        let compiled = Arc::new(Compiled {
            matcher,
            rules,
            needed,
        });
        b.compiled = Some(Arc::clone(&compiled));
        Ok(Some(compiled))
    }

    /// The provider registered for `arn`'s service, if any.
    fn provider(&self, arn: &str) -> Option<Arc<dyn TargetProvider>> {
        let service = arn.strip_prefix("arn:")?.split(':').nth(1)?;
        self.providers.read().ok()?.get(service).cloned()
    }

    /// Whether `arn` names another (account, Region) than this bus's.
    pub(crate) fn is_foreign(&self, arn: &str) -> bool {
        foreign::is_foreign(arn, &self.region, &self.account)
    }

    fn foreign_buses(&self) -> Option<Arc<dyn ForeignBuses>> {
        self.foreign.read().ok()?.clone()
    }

    fn resolve(&self, me: &Weak<Inner>, arn: &str) -> Option<Arc<dyn Target>> {
        if self.is_foreign(arn) {
            return self.foreign_buses()?.resolve_target(arn);
        }
        if let Ok(r) = self.registered.read()
            && let Some(t) = r.get(arn)
        {
            return Some(Arc::clone(t));
        }
        if let Some(provider) = self.provider(arn) {
            return provider.resolve(arn);
        }
        if arn.starts_with("http://") || arn.starts_with("https://") {
            let mut cache = self.http.lock().ok()?;
            let target = cache
                .entry(arn.to_string())
                .or_insert_with(|| Arc::new(HttpTarget::new(arn, self.http_timeout)));
            return Some(Arc::new(connections::HttpWithParams {
                http: Arc::clone(target),
                inner: me.clone(),
            }));
        }
        if connections::api_destination_name(arn).is_some() {
            return self.resolve_api_destination(me, arn);
        }
        if let Some(queue) = ferrule_core::arn::queue_name(arn) {
            if !self.read_state().ok()?.queues.contains_key(queue) {
                return None;
            }
            return Some(Arc::new(QueueTarget::new(
                Arc::clone(&self.store) as Arc<dyn QueueStore>,
                queue,
                Arc::clone(&self.clock),
            )));
        }
        if let Some(bus) = ferrule_core::arn::bus_name(arn) {
            return Some(Arc::new(ingest::BusTarget {
                inner: me.clone(),
                bus: bus.to_string(),
            }));
        }
        None
    }
}
