//! Archives and replays, as EventBridge has them: CreateArchive and the
//! rest of the archive operations, StartReplay, DescribeReplay,
//! CancelReplay, ListReplays. The replays themselves run in
//! [`replay`](super::replay).
//!
//! An archive is, as on the service, a managed rule on its bus
//! (`Events-Archive-NAME`, managed by the service, shown by ListRules and
//! DescribeRule, refused to PutRule, DeleteRule, PutTargets and the rest):
//! its pattern is the archive's (every event when it has none) with
//! `"replay-name": [{"exists": false}]` added, so replayed events are never
//! archived again. The ingest path matches it with the bus's other rules
//! and puts every matching event into the archive in the store's
//! transaction of that PutEvents (`Store::ingest_archived`), before the
//! call answers. Events are kept by their `time` (the PutEvents `Time`, or
//! when they were put), which is what replays select on and what
//! `RetentionDays` counts from.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Condvar, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::error::BusErrorKind;
use super::{BusError, Inner, RuleRecord, RuleState, State, limit_exceeded, no_bus, rule_key};
use crate::Bus;

/// The name of an archive's managed rule: this prefix, then the archive's name.
pub(crate) const ARCHIVE_RULE_PREFIX: &str = "Events-Archive-";
/// `ManagedBy` of an archive's rule, as the service reports it.
pub(crate) const MANAGED_BY: &str = "prod.vhs.events.aws.internal";
const ARCHIVE_KEY: &str = "archive\u{1f}";
pub(crate) const REPLAY_KEY: &str = "replay\u{1f}";
pub(crate) const DAY_MS: u64 = 86_400_000;

/// An archive as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArchiveRecord {
    pub name: String,
    pub bus: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// 0: forever.
    #[serde(default)]
    pub retention_days: u32,
    pub created_ms: u64,
    #[serde(default)]
    pub kms_key_identifier: Option<String>,
}

/// CreateArchive's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateArchiveInput {
    /// `ArchiveName`.
    pub name: String,
    /// `EventSourceArn`: the bus's ARN.
    pub event_source_arn: String,
    /// `Description`.
    pub description: Option<String>,
    /// `EventPattern`: which events are archived (all when absent).
    pub event_pattern: Option<String>,
    /// `RetentionDays` (0 or absent: forever).
    pub retention_days: Option<u32>,
    /// `KmsKeyIdentifier` (stored and reported; the store does not encrypt with it).
    pub kms_key_identifier: Option<String>,
}

impl CreateArchiveInput {
    /// An archive named `name` of the bus whose ARN is `event_source_arn`.
    pub fn new(name: &str, event_source_arn: &str) -> CreateArchiveInput {
        CreateArchiveInput {
            name: name.to_string(),
            event_source_arn: event_source_arn.to_string(),
            ..Default::default()
        }
    }
}

/// UpdateArchive's parameters: what is absent is left as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateArchiveInput {
    /// `ArchiveName`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `EventPattern` (an empty pattern archives every event again).
    pub event_pattern: Option<String>,
    /// `RetentionDays`.
    pub retention_days: Option<u32>,
    /// `KmsKeyIdentifier`.
    pub kms_key_identifier: Option<String>,
}

impl UpdateArchiveInput {
    /// A change of archive `name` (set the fields to change).
    pub fn new(name: &str) -> UpdateArchiveInput {
        UpdateArchiveInput {
            name: name.to_string(),
            ..Default::default()
        }
    }
}

/// An archive, as DescribeArchive reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveInfo {
    /// `ArchiveName`.
    pub name: String,
    /// `ArchiveArn`.
    pub arn: String,
    /// `EventSourceArn`: the bus's ARN.
    pub event_source_arn: String,
    /// `Description`.
    pub description: Option<String>,
    /// `EventPattern`, as given.
    pub event_pattern: Option<String>,
    /// `State`: always `ENABLED` (archives are ready when created).
    pub state: &'static str,
    /// `RetentionDays` (0: forever).
    pub retention_days: u32,
    /// `SizeBytes`: the archived events' bytes.
    pub size_bytes: u64,
    /// `EventCount`.
    pub event_count: u64,
    /// `CreationTime` (ms since the epoch).
    pub created_ms: u64,
    /// `KmsKeyIdentifier`.
    pub kms_key_identifier: Option<String>,
}

/// A replay's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReplayState {
    /// Accepted, not begun.
    #[serde(rename = "STARTING")]
    Starting,
    /// Replaying.
    #[serde(rename = "RUNNING")]
    Running,
    /// Cancel requested.
    #[serde(rename = "CANCELLING")]
    Cancelling,
    /// Every event of the window replayed.
    #[serde(rename = "COMPLETED")]
    Completed,
    /// Stopped by CancelReplay.
    #[serde(rename = "CANCELLED")]
    Cancelled,
    /// Stopped by a failure (`StateReason` says which).
    #[serde(rename = "FAILED")]
    Failed,
}

impl ReplayState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayState::Starting => "STARTING",
            ReplayState::Running => "RUNNING",
            ReplayState::Cancelling => "CANCELLING",
            ReplayState::Completed => "COMPLETED",
            ReplayState::Cancelled => "CANCELLED",
            ReplayState::Failed => "FAILED",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<ReplayState> {
        [
            ReplayState::Starting,
            ReplayState::Running,
            ReplayState::Cancelling,
            ReplayState::Completed,
            ReplayState::Cancelled,
            ReplayState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the replay still has work to do (and counts toward the
    /// limit of replays running at once).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ReplayState::Starting | ReplayState::Running | ReplayState::Cancelling
        )
    }
}

/// StartReplay's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartReplayInput {
    /// `ReplayName`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `EventSourceArn`: the archive's ARN.
    pub event_source_arn: String,
    /// `EventStartTime` (ms since the epoch): events at or after it...
    pub event_start_ms: u64,
    /// `EventEndTime` (ms): ...and before it are replayed.
    pub event_end_ms: u64,
    /// `Destination.Arn`: the archive's bus.
    pub destination_arn: String,
    /// `Destination.FilterArns`: the rules to replay to (all when empty).
    pub filter_arns: Vec<String>,
}

impl StartReplayInput {
    /// A replay of archive `archive_arn`'s events in `start_ms..end_ms` to
    /// bus `destination_arn`, to every rule.
    pub fn new(
        name: &str,
        archive_arn: &str,
        start_ms: u64,
        end_ms: u64,
        destination_arn: &str,
    ) -> StartReplayInput {
        StartReplayInput {
            name: name.to_string(),
            event_source_arn: archive_arn.to_string(),
            event_start_ms: start_ms,
            event_end_ms: end_ms,
            destination_arn: destination_arn.to_string(),
            ..Default::default()
        }
    }
}

/// A replay, as stored and as DescribeReplay reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReplayInfo {
    /// `ReplayName`.
    pub name: String,
    /// `ReplayArn`.
    pub arn: String,
    /// `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `EventSourceArn`: the archive's ARN.
    pub event_source_arn: String,
    /// The archive's name.
    pub archive: String,
    /// `Destination.Arn`.
    pub destination_arn: String,
    /// `Destination.FilterArns`.
    #[serde(default)]
    pub filter_arns: Vec<String>,
    /// `EventStartTime` (ms).
    pub event_start_ms: u64,
    /// `EventEndTime` (ms).
    pub event_end_ms: u64,
    /// `State`.
    pub state: ReplayState,
    /// `StateReason`.
    #[serde(default)]
    pub state_reason: Option<String>,
    /// `EventLastReplayedTime`: the time of the last event replayed (ms).
    #[serde(default)]
    pub last_replayed_ms: Option<u64>,
    /// `ReplayStartTime` (ms).
    pub replay_start_ms: u64,
    /// `ReplayEndTime` (ms), once it stopped.
    #[serde(default)]
    pub replay_end_ms: Option<u64>,
    /// Events replayed so far.
    #[serde(default)]
    pub replayed: u64,
    /// The (time, id) of the last event replayed: a restart resumes after it.
    #[serde(default)]
    pub(crate) cursor: Option<(u64, String)>,
}

/// ListReplays' filters (at most one, as the service allows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListReplaysFilter {
    /// `NamePrefix`.
    pub name_prefix: Option<String>,
    /// `State`.
    pub state: Option<ReplayState>,
    /// `EventSourceArn`.
    pub event_source_arn: Option<String>,
}

/// The archives and replays of a bus service, and the replay thread.
#[derive(Default)]
pub(crate) struct Archives {
    pub(crate) records: RwLock<BTreeMap<String, ArchiveRecord>>,
    pub(crate) replays: Mutex<BTreeMap<String, ReplayInfo>>,
    /// Wakes the replay thread (paired with `replays`).
    pub(crate) wake: Condvar,
    pub(crate) stopping: AtomicBool,
    pub(crate) thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Refuses to change a rule a service manages.
pub(crate) fn check_unmanaged(rule: &RuleRecord) -> Result<(), BusError> {
    match &rule.managed_by {
        None => Ok(()),
        Some(by) => Err(BusError::new(
            BusErrorKind::ManagedRule,
            format!(
                "Rule {} is managed by {by}; it can only be changed through that service.",
                rule.name
            ),
        )),
    }
}

/// The archive an (archive's managed) rule feeds.
pub(crate) fn archive_of_rule(rule: &RuleRecord) -> Option<String> {
    rule.managed_by.as_ref()?;
    rule.name
        .strip_prefix(ARCHIVE_RULE_PREFIX)
        .map(str::to_string)
}

fn no_archive(name: &str) -> BusError {
    BusError::new(
        BusErrorKind::ResourceNotFound,
        format!("Archive {name} does not exist."),
    )
}

fn no_replay(name: &str) -> BusError {
    BusError::new(
        BusErrorKind::ResourceNotFound,
        format!("Replay {name} does not exist."),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The name in an ARN of `kind` (`arn:aws:events:REGION:ACCOUNT:KIND/NAME`).
fn name_in_arn<'a>(arn: &'a str, kind: &str) -> Option<&'a str> {
    let a = ferrule_core::arn::Arn::parse(arn)?;
    if a.service() != "events" {
        return None;
    }
    a.resource()
        .strip_prefix(kind)?
        .strip_prefix('/')
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

/// The managed rule's pattern: the archive's, with replayed events left out.
fn archive_rule_pattern(pattern: Option<&str>) -> Result<String, BusError> {
    let mut value = match pattern {
        Some(p) => serde_json::from_str::<serde_json::Value>(p).map_err(|_| {
            BusError::new(
                BusErrorKind::InvalidEventPattern,
                "Event pattern is not valid. Reason: Filter is not an object",
            )
        })?,
        None => serde_json::json!({}),
    };
    let Some(map) = value.as_object_mut() else {
        return Err(BusError::new(
            BusErrorKind::InvalidEventPattern,
            "Event pattern is not valid. Reason: Filter is not an object",
        ));
    };
    map.insert(
        "replay-name".to_string(),
        serde_json::json!([{"exists": false}]),
    );
    Ok(value.to_string())
}

impl Archives {
    /// Loads archives and replays; replays cancelled before a restart are
    /// cancelled now, running ones resume where they were.
    pub(crate) fn load(&self, inner: &Inner) -> Result<(), BusError> {
        let mut records = write(&self.records);
        for (_, text) in inner.configs(ARCHIVE_KEY)? {
            let r: ArchiveRecord = serde_json::from_str(&text)?;
            records.insert(r.name.clone(), r);
        }
        // An archive's rule is written before the archive: a crash in
        // between leaves a rule without its archive, removed here.
        let mut state = inner.write_state()?;
        for (bus, b) in state.buses.iter_mut() {
            let orphans: Vec<String> = b
                .rules
                .values()
                .filter(|r| archive_of_rule(r).is_some_and(|a| !records.contains_key(&a)))
                .map(|r| r.name.clone())
                .collect();
            for rule in orphans {
                inner.save::<RuleRecord>(&rule_key(bus, &rule), None)?;
                b.rules.remove(&rule);
                b.compiled = None;
            }
        }
        drop(state);
        drop(records);
        let now = inner.clock.now_ms();
        let mut replays = lock(&self.replays);
        for (key, text) in inner.configs(REPLAY_KEY)? {
            let mut r: ReplayInfo = serde_json::from_str(&text)?;
            if r.state == ReplayState::Cancelling {
                r.state = ReplayState::Cancelled;
                r.replay_end_ms = Some(now);
                inner.save(&key, Some(&r))?;
            }
            replays.insert(r.name.clone(), r);
        }
        Ok(())
    }

    /// Expires archive `name`'s events past its retention, by `now_ms`.
    pub(crate) fn expire(&self, inner: &Inner, name: &str, now_ms: u64) -> Result<u64, BusError> {
        let days = match read(&self.records).get(name) {
            Some(r) => r.retention_days,
            None => return Ok(0),
        };
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now_ms.saturating_sub(u64::from(days).saturating_mul(DAY_MS));
        Ok(inner.store.expire_members(name, cutoff)?)
    }

    /// Expires every archive's events past its retention.
    pub(crate) fn expire_all(&self, inner: &Inner) -> Result<u64, BusError> {
        let now = inner.clock.now_ms();
        let names: Vec<String> = read(&self.records).keys().cloned().collect();
        let mut n = 0;
        for name in names {
            n += self.expire(inner, &name, now)?;
        }
        Ok(n)
    }

    fn info(&self, inner: &Inner, r: &ArchiveRecord) -> Result<ArchiveInfo, BusError> {
        self.expire(inner, &r.name, inner.clock.now_ms())?;
        let stats = inner.store.archive_stats(&r.name)?;
        Ok(ArchiveInfo {
            name: r.name.clone(),
            arn: inner.archive_arn(&r.name),
            event_source_arn: inner.bus_arn(&r.bus),
            description: r.description.clone(),
            event_pattern: r.event_pattern.clone(),
            state: "ENABLED",
            retention_days: r.retention_days,
            size_bytes: stats.bytes,
            event_count: stats.events,
            created_ms: r.created_ms,
            kms_key_identifier: r.kms_key_identifier.clone(),
        })
    }
}

impl Inner {
    /// The ARN of archive `name`.
    pub(crate) fn archive_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:archive/{name}",
            self.region, self.account
        )
    }

    /// The ARN of replay `name`.
    pub(crate) fn replay_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:replay/{name}",
            self.region, self.account
        )
    }

    /// Writes (or replaces) archive `name`'s managed rule on `bus`.
    fn put_archive_rule(
        &self,
        state: &mut State,
        bus: &str,
        name: &str,
        pattern: Option<&str>,
    ) -> Result<(), BusError> {
        let rule = format!("{ARCHIVE_RULE_PREFIX}{name}");
        let b = state.bus_mut(bus)?;
        let record = RuleRecord {
            name: rule.clone(),
            bus: bus.to_string(),
            event_pattern: Some(archive_rule_pattern(pattern)?),
            schedule_expression: None,
            state: RuleState::Enabled,
            description: None,
            role_arn: None,
            targets: Vec::new(),
            tags: BTreeMap::new(),
            managed_by: Some(MANAGED_BY.to_string()),
        };
        self.save(&rule_key(bus, &rule), Some(&record))?;
        b.rules.insert(rule, record);
        b.compiled = None;
        Ok(())
    }
}

impl Bus {
    // ---- archives ----

    /// CreateArchive: the archive and its managed rule on the bus; from
    /// now on every event put to the bus that matches the pattern is
    /// archived before PutEvents answers.
    pub fn create_archive(&self, input: CreateArchiveInput) -> Result<ArchiveInfo, BusError> {
        let inner = &self.inner;
        let pattern = input.event_pattern.as_deref().filter(|p| !p.is_empty());
        if let Some(p) = pattern {
            inner.check_pattern(p)?;
        }
        if inner.is_foreign(&input.event_source_arn) {
            return Err(BusError::validation(format!(
                "Parameter {} is not valid. Reason: an archive's event bus must be of the \
                 archive's account and Region.",
                input.event_source_arn
            )));
        }
        let bus = ferrule_core::arn::bus_name(&input.event_source_arn)
            .ok_or_else(|| {
                BusError::validation(format!(
                    "Parameter {} is not valid. Reason: Provided Arn is not in correct format.",
                    input.event_source_arn
                ))
            })?
            .to_string();
        let mut state = inner.write_state()?;
        let b = state.bus(&bus)?;
        let mut records = write(&inner.archives.records);
        if records.contains_key(&input.name) {
            return Err(BusError::new(
                BusErrorKind::ResourceAlreadyExists,
                format!("Archive {} already exists.", input.name),
            ));
        }
        if records.len() >= inner.limits.archives || b.rules.len() >= inner.limits.rules_per_bus {
            return Err(limit_exceeded());
        }
        let record = ArchiveRecord {
            name: input.name.clone(),
            bus: bus.clone(),
            description: input.description.clone(),
            event_pattern: pattern.map(str::to_string),
            retention_days: input.retention_days.unwrap_or(0),
            created_ms: inner.clock.now_ms(),
            kms_key_identifier: input.kms_key_identifier.clone(),
        };
        inner.put_archive_rule(&mut state, &bus, &input.name, pattern)?;
        inner.save(&format!("{ARCHIVE_KEY}{}", input.name), Some(&record))?;
        records.insert(input.name.clone(), record.clone());
        drop(records);
        drop(state);
        inner.archives.info(inner, &record)
    }

    /// DescribeArchive (its retention applied first, so the counts are
    /// exact by the bus's clock).
    pub fn describe_archive(&self, name: &str) -> Result<ArchiveInfo, BusError> {
        let record = read(&self.inner.archives.records)
            .get(name)
            .cloned()
            .ok_or_else(|| no_archive(name))?;
        self.inner.archives.info(&self.inner, &record)
    }

    /// UpdateArchive: what `input` gives replaces the archive's; a new
    /// pattern applies to events put from now on.
    pub fn update_archive(&self, input: UpdateArchiveInput) -> Result<ArchiveInfo, BusError> {
        let inner = &self.inner;
        if let Some(p) = input.event_pattern.as_deref().filter(|p| !p.is_empty()) {
            inner.check_pattern(p)?;
        }
        let mut state = inner.write_state()?;
        let mut records = write(&inner.archives.records);
        let mut record = records
            .get(&input.name)
            .cloned()
            .ok_or_else(|| no_archive(&input.name))?;
        if let Some(d) = &input.description {
            record.description = Some(d.clone());
        }
        if let Some(days) = input.retention_days {
            record.retention_days = days;
        }
        if let Some(k) = &input.kms_key_identifier {
            record.kms_key_identifier = Some(k.clone());
        }
        if let Some(p) = &input.event_pattern {
            record.event_pattern = Some(p.clone()).filter(|p| !p.is_empty());
            inner.put_archive_rule(
                &mut state,
                &record.bus,
                &record.name,
                record.event_pattern.as_deref(),
            )?;
        }
        inner.save(&format!("{ARCHIVE_KEY}{}", record.name), Some(&record))?;
        records.insert(record.name.clone(), record.clone());
        drop(records);
        drop(state);
        inner.archives.info(inner, &record)
    }

    /// DeleteArchive: the archive, its rule and its events (replays from
    /// it that are still running fail).
    pub fn delete_archive(&self, name: &str) -> Result<(), BusError> {
        let inner = &self.inner;
        let mut state = inner.write_state()?;
        let mut records = write(&inner.archives.records);
        let record = records.get(name).cloned().ok_or_else(|| no_archive(name))?;
        let rule = format!("{ARCHIVE_RULE_PREFIX}{name}");
        if let Ok(b) = state.bus_mut(&record.bus) {
            inner.save::<RuleRecord>(&rule_key(&record.bus, &rule), None)?;
            b.rules.remove(&rule);
            b.compiled = None;
        }
        inner.save::<ArchiveRecord>(&format!("{ARCHIVE_KEY}{name}"), None)?;
        records.remove(name);
        drop(records);
        drop(state);
        inner.store.expire_members(name, u64::MAX)?;
        inner.archives.notify();
        Ok(())
    }

    /// ListArchives, by name, with at most one filter (as the service).
    pub fn list_archives(
        &self,
        name_prefix: Option<&str>,
        event_source_arn: Option<&str>,
        state: Option<&str>,
    ) -> Result<Vec<ArchiveInfo>, BusError> {
        let filters = [
            name_prefix.is_some(),
            event_source_arn.is_some(),
            state.is_some(),
        ];
        if filters.iter().filter(|f| **f).count() > 1 {
            return Err(BusError::validation(
                "At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix.",
            ));
        }
        let records: Vec<ArchiveRecord> = read(&self.inner.archives.records)
            .values()
            .cloned()
            .collect();
        let mut out = Vec::new();
        for r in &records {
            let keep = name_prefix.is_none_or(|p| r.name.starts_with(p))
                && event_source_arn.is_none_or(|a| self.inner.bus_arn(&r.bus) == a)
                && state.is_none_or(|s| s == "ENABLED");
            if keep {
                out.push(self.inner.archives.info(&self.inner, r)?);
            }
        }
        Ok(out)
    }

    /// The ARN of archive `name`.
    pub fn archive_arn(&self, name: &str) -> String {
        self.inner.archive_arn(name)
    }

    /// Applies every archive's retention now (the replay thread also does
    /// it once a minute); returns how many events expired.
    pub fn expire_archives(&self) -> Result<u64, BusError> {
        self.inner.archives.expire_all(&self.inner)
    }

    // ---- replays ----

    /// StartReplay: checks the request as the service does and starts the
    /// replay (`STARTING`); the replay thread (or [`Bus::run_replays`])
    /// replays the window's events, in time order, through durable dispatch.
    pub fn start_replay(&self, input: StartReplayInput) -> Result<ReplayInfo, BusError> {
        let inner = &self.inner;
        let archive_name = name_in_arn(&input.event_source_arn, "archive")
            .filter(|_| {
                input.event_source_arn.starts_with(&format!(
                    "arn:aws:events:{}:{}:",
                    inner.region, inner.account
                ))
            })
            .unwrap_or(&input.event_source_arn)
            .to_string();
        let archive = read(&inner.archives.records)
            .get(&archive_name)
            .cloned()
            .ok_or_else(|| {
                BusError::validation(format!(
                    "Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist."
                ))
            })?;
        if inner.is_foreign(&input.destination_arn) {
            return Err(BusError::validation(
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
            ));
        }
        let bus = ferrule_core::arn::bus_name(&input.destination_arn).ok_or_else(|| {
            BusError::validation(
                "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.",
            )
        })?;
        {
            let state = inner.read_state()?;
            let b = state.buses.get(bus).ok_or_else(|| no_bus(bus))?;
            if bus != archive.bus {
                return Err(BusError::validation(
                    "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
                ));
            }
            for arn in &input.filter_arns {
                let Some(rule) = inner.rule_of_arn(bus, arn) else {
                    return Err(BusError::validation(format!(
                        "Parameter Destination.FilterArns is not valid. Reason: {arn} is not a rule of event bus {bus}."
                    )));
                };
                if !b.rules.contains_key(rule) {
                    return Err(super::no_rule(rule, bus));
                }
            }
        }
        if input.event_end_ms <= input.event_start_ms {
            return Err(BusError::validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
            ));
        }
        let now = inner.clock.now_ms();
        if input.event_end_ms > now {
            return Err(BusError::validation(
                "Parameter EventEndTime is not valid. Reason: EventEndTime must not be in the future.",
            ));
        }
        let mut replays = lock(&inner.archives.replays);
        if replays.contains_key(&input.name) {
            return Err(BusError::new(
                BusErrorKind::ResourceAlreadyExists,
                format!("Replay {} already exists.", input.name),
            ));
        }
        if replays.values().filter(|r| r.state.is_active()).count() >= inner.limits.active_replays {
            return Err(limit_exceeded());
        }
        let replay = ReplayInfo {
            name: input.name.clone(),
            arn: inner.replay_arn(&input.name),
            description: input.description.clone(),
            event_source_arn: inner.archive_arn(&archive.name),
            archive: archive.name.clone(),
            destination_arn: input.destination_arn.clone(),
            filter_arns: input.filter_arns.clone(),
            event_start_ms: input.event_start_ms,
            event_end_ms: input.event_end_ms,
            state: ReplayState::Starting,
            state_reason: None,
            last_replayed_ms: None,
            replay_start_ms: now,
            replay_end_ms: None,
            replayed: 0,
            cursor: None,
        };
        inner.save(&format!("{REPLAY_KEY}{}", input.name), Some(&replay))?;
        replays.insert(input.name.clone(), replay.clone());
        drop(replays);
        inner.archives.notify();
        Ok(replay)
    }

    /// DescribeReplay.
    pub fn describe_replay(&self, name: &str) -> Result<ReplayInfo, BusError> {
        lock(&self.inner.archives.replays)
            .get(name)
            .cloned()
            .ok_or_else(|| no_replay(name))
    }

    /// CancelReplay: a replay starting or running is `CANCELLING` until the
    /// replay thread stops it (`CANCELLED`, after the page it is on).
    pub fn cancel_replay(&self, name: &str) -> Result<ReplayInfo, BusError> {
        let mut replays = lock(&self.inner.archives.replays);
        let replay = replays.get_mut(name).ok_or_else(|| no_replay(name))?;
        if !matches!(replay.state, ReplayState::Starting | ReplayState::Running) {
            return Err(BusError::new(
                BusErrorKind::IllegalStatus,
                format!("Replay {name} is not in a valid state for this operation."),
            ));
        }
        let mut changed = replay.clone();
        changed.state = ReplayState::Cancelling;
        self.inner
            .save(&format!("{REPLAY_KEY}{name}"), Some(&changed))?;
        *replay = changed.clone();
        drop(replays);
        self.inner.archives.notify();
        Ok(changed)
    }

    /// ListReplays, by name, with at most one filter (as the service).
    pub fn list_replays(&self, filter: &ListReplaysFilter) -> Result<Vec<ReplayInfo>, BusError> {
        let filters = [
            filter.name_prefix.is_some(),
            filter.state.is_some(),
            filter.event_source_arn.is_some(),
        ];
        if filters.iter().filter(|f| **f).count() > 1 {
            return Err(BusError::validation(
                "At most one filter is allowed for ListReplays. Use either : State, EventSourceArn, or NamePrefix.",
            ));
        }
        Ok(lock(&self.inner.archives.replays)
            .values()
            .filter(|r| {
                filter
                    .name_prefix
                    .as_deref()
                    .is_none_or(|p| r.name.starts_with(p))
                    && filter.state.is_none_or(|s| r.state == s)
                    && filter
                        .event_source_arn
                        .as_deref()
                        .is_none_or(|a| r.event_source_arn == a)
            })
            .cloned()
            .collect())
    }

    /// One page of every running replay, on the calling thread (for tests
    /// that stop in the middle of a replay); returns how many events were
    /// replayed.
    pub fn run_replay_pass(&self) -> u64 {
        self.inner.archives.pass(&self.inner).1
    }

    /// Runs the replays to their end on the calling thread (for tests that
    /// do not start the background threads; with them, the replay thread
    /// does this); returns how many events were replayed.
    pub fn run_replays(&self) -> u64 {
        let mut n = 0;
        loop {
            let (more, replayed) = self.inner.archives.pass(&self.inner);
            n += replayed;
            if !more {
                return n;
            }
        }
    }
}

impl Inner {
    /// The rule an ARN names on `bus`, if it is a rule ARN of that bus.
    fn rule_of_arn<'a>(&self, bus: &str, arn: &'a str) -> Option<&'a str> {
        let prefix = format!("arn:aws:events:{}:{}:rule/", self.region, self.account);
        let rest = arn.strip_prefix(&prefix)?;
        let (rule_bus, rule) = match rest.split_once('/') {
            Some((b, r)) => (b, r),
            None => ("default", rest),
        };
        (rule_bus == bus && !rule.is_empty()).then_some(rule)
    }
}

/// The rule ARNs a replay is limited to (`None`: every rule).
pub(crate) fn filter_set(replay: &ReplayInfo) -> Option<HashSet<String>> {
    (!replay.filter_arns.is_empty()).then(|| replay.filter_arns.iter().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_rule_leaves_replayed_events_out() {
        let p = archive_rule_pattern(Some(r#"{"source": ["shop"]}"#)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["source"], serde_json::json!(["shop"]));
        assert_eq!(v["replay-name"], serde_json::json!([{"exists": false}]));
        let all = archive_rule_pattern(None).unwrap();
        assert_eq!(all, r#"{"replay-name":[{"exists":false}]}"#);
        assert!(archive_rule_pattern(Some("[1]")).is_err());
    }

    #[test]
    fn names_are_read_out_of_arns() {
        assert_eq!(
            name_in_arn(
                "arn:aws:events:us-east-1:000000000000:archive/a1",
                "archive"
            ),
            Some("a1")
        );
        assert_eq!(
            name_in_arn("arn:aws:events:us-east-1:000000000000:replay/a1", "archive"),
            None
        );
        assert_eq!(name_in_arn("archive/a1", "archive"), None);
        assert_eq!(
            name_in_arn("arn:aws:events:us-east-1:000000000000:archive/", "archive"),
            None
        );
    }

    #[test]
    fn replay_states_round_trip() {
        for s in [
            "STARTING",
            "RUNNING",
            "CANCELLING",
            "COMPLETED",
            "CANCELLED",
            "FAILED",
        ] {
            assert_eq!(ReplayState::parse(s).map(ReplayState::as_str), Some(s));
        }
        assert_eq!(ReplayState::parse("running"), None);
        assert!(ReplayState::Cancelling.is_active());
        assert!(!ReplayState::Completed.is_active());
    }
}
