//! State machines, versions, aliases, activities and tags: the control
//! plane, each change written to the store before it is visible.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrule_states::{Diagnostic, StateMachine};
use serde_json::Value;

use crate::catalog::{Machine, Version, not_found, parse_definition, unsupported_resources};
use crate::error::{RunnerError, RunnerErrorKind};
use crate::model::{
    self, ACTIVITY, ALIAS, ActivityRecord, AliasRecord, MACHINE, MachineRecord, MachineRef,
    MachineType, VERSION, VersionRecord,
};
use crate::runner::Inner;

/// The most tags on a resource.
const MAX_TAGS: usize = 50;

/// CreateStateMachine's input.
#[derive(Clone, Debug, Default)]
pub struct CreateMachine {
    /// `name`.
    pub name: String,
    /// `definition`.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type`.
    pub machine_type: MachineType,
    /// `loggingConfiguration` (stored and reported).
    pub logging: Option<Value>,
    /// `tracingConfiguration` (stored and reported).
    pub tracing: Option<Value>,
    /// `tags`.
    pub tags: BTreeMap<String, String>,
    /// `publish`: also publish version 1.
    pub publish: bool,
    /// `versionDescription`.
    pub version_description: Option<String>,
}

/// UpdateStateMachine's input.
#[derive(Clone, Debug, Default)]
pub struct UpdateMachine {
    /// `stateMachineArn` (unqualified).
    pub arn: String,
    /// `definition`.
    pub definition: Option<String>,
    /// `roleArn`.
    pub role_arn: Option<String>,
    /// `loggingConfiguration`.
    pub logging: Option<Value>,
    /// `tracingConfiguration`.
    pub tracing: Option<Value>,
    /// `publish`.
    pub publish: bool,
    /// `versionDescription`.
    pub version_description: Option<String>,
}

/// What DescribeStateMachine shows of a machine or one of its versions.
#[derive(Clone, Debug)]
pub struct MachineView {
    /// The machine (or version) ARN.
    pub arn: String,
    /// The machine's name.
    pub name: String,
    /// The definition.
    pub definition: String,
    /// The role.
    pub role_arn: String,
    /// STANDARD or EXPRESS.
    pub machine_type: MachineType,
    /// `creationDate` (ms): of the machine, or of the version.
    pub created_ms: u64,
    /// `updateDate` (ms), for DescribeStateMachineForExecution.
    pub updated_ms: Option<u64>,
    /// `revisionId`.
    pub revision_id: String,
    /// `description` of a version.
    pub description: Option<String>,
    /// `loggingConfiguration`.
    pub logging: Value,
    /// `tracingConfiguration`.
    pub tracing: Value,
}

fn default_logging() -> Value {
    serde_json::json!({"level": "OFF", "includeExecutionData": false})
}

fn default_tracing() -> Value {
    serde_json::json!({"enabled": false})
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), RunnerError> {
    if tags.len() > MAX_TAGS {
        return Err(RunnerError::new(
            RunnerErrorKind::TooManyTags,
            format!("Too many tags: at most {MAX_TAGS} tags per resource."),
        ));
    }
    Ok(())
}

impl Inner {
    fn machine_view(&self, m: &MachineRecord) -> MachineView {
        MachineView {
            arn: m.arn.clone(),
            name: m.name.clone(),
            definition: m.definition.clone(),
            role_arn: m.role_arn.clone(),
            machine_type: m.machine_type,
            created_ms: m.created_ms,
            updated_ms: m.updated_ms,
            revision_id: m.revision_id.clone(),
            description: None,
            logging: m.logging.clone(),
            tracing: m.tracing.clone(),
        }
    }

    pub(crate) fn create_machine(
        &self,
        c: CreateMachine,
    ) -> Result<(MachineRecord, Option<String>), RunnerError> {
        model::check_name(&c.name)?;
        check_tags(&c.tags)?;
        if c.version_description.is_some() && !c.publish {
            return Err(RunnerError::validation(
                "Version description can only be set when publish is true",
            ));
        }
        let parsed = parse_definition(&c.definition)?;
        let arn = self.scope.arn("stateMachine", &c.name);
        let mut catalog = self.catalog_mut();
        let logging = c.logging.unwrap_or_else(default_logging);
        let tracing = c.tracing.unwrap_or_else(default_tracing);
        if let Some(existing) = catalog.machines.get(&arn) {
            // Idempotent when everything is the same, as the service is.
            let r = &existing.record;
            if r.definition == c.definition
                && r.role_arn == c.role_arn
                && r.machine_type == c.machine_type
                && !c.publish
            {
                return Ok((r.clone(), None));
            }
            return Err(RunnerError::new(
                RunnerErrorKind::StateMachineAlreadyExists,
                format!("State Machine Already Exists: '{arn}'"),
            ));
        }
        let now = self.now();
        let mut record = MachineRecord {
            name: c.name,
            arn: arn.clone(),
            definition: c.definition,
            role_arn: c.role_arn,
            machine_type: c.machine_type,
            created_ms: now,
            updated_ms: None,
            revision_id: model::revision_id(),
            logging,
            tracing,
            tags: c.tags,
            next_version: 1,
            latest_version: None,
        };
        let parsed = Arc::new(parsed);
        let version = if c.publish {
            Some(self.publish_locked(&mut record, &parsed, c.version_description, &mut catalog)?)
        } else {
            None
        };
        self.put_record(MACHINE, &arn, Some(&record))?;
        catalog.machines.insert(
            arn,
            Machine {
                record: record.clone(),
                parsed,
            },
        );
        Ok((record, version))
    }

    /// Publishes `record`'s revision as its next version (the caller stores
    /// the machine record afterwards).
    fn publish_locked(
        &self,
        record: &mut MachineRecord,
        parsed: &Arc<StateMachine>,
        description: Option<String>,
        catalog: &mut crate::catalog::Catalog,
    ) -> Result<String, RunnerError> {
        let n = record.next_version;
        let arn = format!("{}:{n}", record.arn);
        let v = VersionRecord {
            machine_arn: record.arn.clone(),
            arn: arn.clone(),
            version: n,
            definition: record.definition.clone(),
            role_arn: record.role_arn.clone(),
            revision_id: record.revision_id.clone(),
            description,
            created_ms: self.now(),
        };
        self.put_record(VERSION, &arn, Some(&v))?;
        catalog.versions.insert(
            arn.clone(),
            Version {
                record: v,
                parsed: Arc::clone(parsed),
            },
        );
        record.next_version = n + 1;
        record.latest_version = Some(arn.clone());
        Ok(arn)
    }

    pub(crate) fn describe_machine(&self, arn: &str) -> Result<MachineView, RunnerError> {
        let r = self.scope.machine_ref(arn)?;
        let catalog = self.catalog();
        match r {
            MachineRef::Latest(a) => Ok(self.machine_view(&catalog.machine(&a)?.record)),
            MachineRef::Version(a, _) => {
                let m = catalog.machine(&a)?;
                let v = catalog.version(arn)?;
                Ok(MachineView {
                    arn: v.record.arn.clone(),
                    definition: v.record.definition.clone(),
                    role_arn: v.record.role_arn.clone(),
                    created_ms: v.record.created_ms,
                    updated_ms: None,
                    revision_id: v.record.revision_id.clone(),
                    description: v.record.description.clone(),
                    ..self.machine_view(&m.record)
                })
            }
            MachineRef::Alias(..) => Err(RunnerError::invalid_arn(
                "Resource type not valid in this context: alias",
            )),
        }
    }

    pub(crate) fn update_machine(
        &self,
        u: UpdateMachine,
    ) -> Result<(u64, String, Option<String>), RunnerError> {
        let MachineRef::Latest(arn) = self.scope.machine_ref(&u.arn)? else {
            return Err(RunnerError::validation(
                "Only an unqualified state machine ARN can be updated.",
            ));
        };
        if u.definition.is_none()
            && u.role_arn.is_none()
            && u.logging.is_none()
            && u.tracing.is_none()
        {
            return Err(RunnerError::new(
                RunnerErrorKind::Validation,
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        if u.version_description.is_some() && !u.publish {
            return Err(RunnerError::validation(
                "Version description can only be set when publish is true",
            ));
        }
        let parsed = u.definition.as_deref().map(parse_definition).transpose()?;
        let mut catalog = self.catalog_mut();
        let mut m = catalog.machine(&arn)?.clone();
        let changed = u
            .definition
            .as_ref()
            .is_some_and(|d| *d != m.record.definition)
            || u.role_arn.as_ref().is_some_and(|r| *r != m.record.role_arn);
        if let Some(d) = u.definition {
            m.record.definition = d;
        }
        if let Some(p) = parsed {
            m.parsed = Arc::new(p);
        }
        if let Some(r) = u.role_arn {
            m.record.role_arn = r;
        }
        if let Some(l) = u.logging {
            m.record.logging = l;
        }
        if let Some(t) = u.tracing {
            m.record.tracing = t;
        }
        if changed {
            m.record.revision_id = model::revision_id();
            m.record.latest_version = None;
        }
        let now = self.now();
        m.record.updated_ms = Some(now);
        let version = if u.publish {
            match m.record.latest_version.clone() {
                Some(v) => Some(v),
                None => {
                    let parsed = Arc::clone(&m.parsed);
                    Some(self.publish_locked(
                        &mut m.record,
                        &parsed,
                        u.version_description,
                        &mut catalog,
                    )?)
                }
            }
        } else {
            None
        };
        self.put_record(MACHINE, &arn, Some(&m.record))?;
        let revision = m.record.revision_id.clone();
        catalog.machines.insert(arn, m);
        Ok((now, revision, version))
    }

    pub(crate) fn delete_machine(&self, arn: &str) -> Result<(), RunnerError> {
        let r = self.scope.machine_ref(arn)?;
        let MachineRef::Latest(arn) = r else {
            return Err(RunnerError::validation(
                "Use DeleteStateMachineVersion or DeleteStateMachineAlias for a qualified ARN.",
            ));
        };
        let mut catalog = self.catalog_mut();
        if !catalog.machines.contains_key(&arn) {
            // Deleting a machine that does not exist succeeds, as in the service.
            return Ok(());
        }
        let versions: Vec<String> = catalog
            .versions
            .values()
            .filter(|v| v.record.machine_arn == arn)
            .map(|v| v.record.arn.clone())
            .collect();
        let aliases: Vec<String> = catalog
            .aliases
            .values()
            .filter(|a| a.machine_arn == arn)
            .map(|a| a.arn.clone())
            .collect();
        for a in &aliases {
            self.put_record::<AliasRecord>(ALIAS, a, None)?;
            catalog.aliases.remove(a);
        }
        for v in &versions {
            self.put_record::<VersionRecord>(VERSION, v, None)?;
            catalog.versions.remove(v);
        }
        self.put_record::<MachineRecord>(MACHINE, &arn, None)?;
        catalog.machines.remove(&arn);
        Ok(())
    }

    pub(crate) fn list_machines(&self) -> Vec<MachineRecord> {
        self.catalog()
            .machines
            .values()
            .map(|m| m.record.clone())
            .collect()
    }

    pub(crate) fn validate_definition(&self, definition: &str) -> Vec<Diagnostic> {
        let mut d = StateMachine::validate(definition);
        if d.is_empty() {
            for (location, message) in unsupported_resources(definition) {
                // Diagnostic's constructor is the interpreter's; its serde
                // form is public.
                if let Ok(diag) = serde_json::from_value::<Diagnostic>(serde_json::json!({
                    "severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED",
                    "message": message, "location": location,
                })) {
                    d.push(diag);
                }
            }
        }
        d
    }

    // ---- versions ----

    pub(crate) fn publish_version(
        &self,
        arn: &str,
        revision: Option<&str>,
        description: Option<String>,
    ) -> Result<VersionRecord, RunnerError> {
        let MachineRef::Latest(arn) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::validation(
                "Only an unqualified state machine ARN can be published.",
            ));
        };
        let mut catalog = self.catalog_mut();
        let mut m = catalog.machine(&arn)?.clone();
        if let Some(r) = revision
            && r != m.record.revision_id
        {
            return Err(RunnerError::new(
                RunnerErrorKind::Conflict,
                format!(
                    "Failed to publish the State Machine version for revision {r}. The current State Machine revision is {}.",
                    m.record.revision_id
                ),
            ));
        }
        if let Some(v) = &m.record.latest_version {
            return Ok(catalog.version(v)?.record.clone());
        }
        let parsed = Arc::clone(&m.parsed);
        let v = self.publish_locked(&mut m.record, &parsed, description, &mut catalog)?;
        self.put_record(MACHINE, &arn, Some(&m.record))?;
        catalog.machines.insert(arn, m);
        Ok(catalog.version(&v)?.record.clone())
    }

    pub(crate) fn list_versions(&self, arn: &str) -> Result<Vec<VersionRecord>, RunnerError> {
        let MachineRef::Latest(arn) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::validation(
                "Expected an unqualified state machine ARN.",
            ));
        };
        let catalog = self.catalog();
        catalog.machine(&arn)?;
        let mut v: Vec<VersionRecord> = catalog
            .versions
            .values()
            .filter(|v| v.record.machine_arn == arn)
            .map(|v| v.record.clone())
            .collect();
        v.sort_by_key(|v| std::cmp::Reverse(v.version));
        Ok(v)
    }

    pub(crate) fn delete_version(&self, arn: &str) -> Result<(), RunnerError> {
        let MachineRef::Version(..) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::validation(
                "Expected a state machine version ARN.",
            ));
        };
        let mut catalog = self.catalog_mut();
        if !catalog.versions.contains_key(arn) {
            return Ok(());
        }
        let using: Vec<String> = catalog
            .aliases
            .values()
            .filter(|a| a.routing.iter().any(|(v, _)| v == arn))
            .map(|a| a.arn.clone())
            .collect();
        if !using.is_empty() {
            return Err(RunnerError::new(
                RunnerErrorKind::Conflict,
                format!(
                    "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                    using.join(", ")
                ),
            ));
        }
        self.put_record::<VersionRecord>(VERSION, arn, None)?;
        catalog.versions.remove(arn);
        Ok(())
    }

    // ---- aliases ----

    fn check_routing(
        &self,
        machine: &str,
        routing: &[(String, u32)],
        catalog: &crate::catalog::Catalog,
    ) -> Result<(), RunnerError> {
        if routing.is_empty() || routing.len() > 2 {
            return Err(RunnerError::validation(
                "1 validation error detected: Value at 'routingConfiguration' failed to satisfy constraint: Member must have length between 1 and 2",
            ));
        }
        if routing.iter().map(|(_, w)| *w).sum::<u32>() != 100
            || routing.iter().any(|(_, w)| *w > 100)
        {
            return Err(RunnerError::validation(
                "Sum of routing configuration weights must equal 100.",
            ));
        }
        if routing.len() == 2 && routing[0].0 == routing[1].0 {
            return Err(RunnerError::validation(
                "Routing configuration must contain distinct state machine version ARNs.",
            ));
        }
        for (v, _) in routing {
            match self.scope.machine_ref(v)? {
                MachineRef::Version(m, _) if m == machine => {}
                _ => {
                    return Err(RunnerError::validation(format!(
                        "Routing configuration must contain state machine version ARNs of {machine}: {v}"
                    )));
                }
            }
            catalog.version(v)?;
        }
        Ok(())
    }

    pub(crate) fn create_alias(
        &self,
        name: &str,
        description: Option<String>,
        routing: Vec<(String, u32)>,
    ) -> Result<AliasRecord, RunnerError> {
        model::check_name(name)?;
        if name.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RunnerError::new(
                RunnerErrorKind::InvalidName,
                format!("Invalid Name: '{name}'"),
            ));
        }
        let first = routing.first().map(|(v, _)| v.clone()).unwrap_or_default();
        let machine = self
            .scope
            .machine_ref(&first)
            .map(|r| r.machine_arn().to_string())
            .unwrap_or_default();
        let mut catalog = self.catalog_mut();
        self.check_routing(&machine, &routing, &catalog)?;
        let arn = format!("{machine}:{name}");
        if let Some(a) = catalog.aliases.get(&arn) {
            if a.routing == routing && a.description == description {
                return Ok(a.clone());
            }
            return Err(RunnerError::new(
                RunnerErrorKind::Conflict,
                format!("Alias already exists: '{arn}'"),
            ));
        }
        let now = self.now();
        let a = AliasRecord {
            machine_arn: machine,
            arn: arn.clone(),
            name: name.to_string(),
            description,
            routing,
            created_ms: now,
            updated_ms: now,
        };
        self.put_record(ALIAS, &arn, Some(&a))?;
        catalog.aliases.insert(arn, a.clone());
        Ok(a)
    }

    pub(crate) fn describe_alias(&self, arn: &str) -> Result<AliasRecord, RunnerError> {
        let MachineRef::Alias(..) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::invalid_arn(arn));
        };
        Ok(self.catalog().alias(arn)?.clone())
    }

    pub(crate) fn update_alias(
        &self,
        arn: &str,
        description: Option<String>,
        routing: Option<Vec<(String, u32)>>,
    ) -> Result<u64, RunnerError> {
        let MachineRef::Alias(machine, _) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::invalid_arn(arn));
        };
        if description.is_none() && routing.is_none() {
            return Err(RunnerError::validation(
                "Either the description or the RoutingConfiguration must be specified",
            ));
        }
        let mut catalog = self.catalog_mut();
        let mut a = catalog.alias(arn)?.clone();
        if let Some(r) = routing {
            self.check_routing(&machine, &r, &catalog)?;
            a.routing = r;
        }
        if let Some(d) = description {
            a.description = Some(d);
        }
        a.updated_ms = self.now();
        self.put_record(ALIAS, arn, Some(&a))?;
        let t = a.updated_ms;
        catalog.aliases.insert(arn.to_string(), a);
        Ok(t)
    }

    pub(crate) fn delete_alias(&self, arn: &str) -> Result<(), RunnerError> {
        let MachineRef::Alias(..) = self.scope.machine_ref(arn)? else {
            return Err(RunnerError::invalid_arn(arn));
        };
        let mut catalog = self.catalog_mut();
        if catalog.aliases.remove(arn).is_some() {
            self.put_record::<AliasRecord>(ALIAS, arn, None)?;
        }
        Ok(())
    }

    pub(crate) fn list_aliases(&self, arn: &str) -> Result<Vec<AliasRecord>, RunnerError> {
        let r = self.scope.machine_ref(arn)?;
        let catalog = self.catalog();
        let machine = r.machine_arn().to_string();
        catalog.machine(&machine)?;
        let version = match r {
            MachineRef::Version(..) => Some(arn.to_string()),
            _ => None,
        };
        Ok(catalog
            .aliases
            .values()
            .filter(|a| a.machine_arn == machine)
            .filter(|a| {
                version
                    .as_ref()
                    .is_none_or(|v| a.routing.iter().any(|(x, _)| x == v))
            })
            .cloned()
            .collect())
    }

    // ---- activities ----

    pub(crate) fn create_activity(
        &self,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<ActivityRecord, RunnerError> {
        model::check_name(name)?;
        check_tags(&tags)?;
        let arn = self.scope.arn("activity", name);
        let mut catalog = self.catalog_mut();
        if let Some(a) = catalog.activities.get(&arn) {
            if a.tags == tags || tags.is_empty() {
                return Ok(a.clone());
            }
            return Err(RunnerError::new(
                RunnerErrorKind::ActivityAlreadyExists,
                format!("Activity already exists: '{arn}'"),
            ));
        }
        let a = ActivityRecord {
            name: name.to_string(),
            arn: arn.clone(),
            created_ms: self.now(),
            tags,
        };
        self.put_record(ACTIVITY, &arn, Some(&a))?;
        catalog.activities.insert(arn, a.clone());
        Ok(a)
    }

    pub(crate) fn describe_activity(&self, arn: &str) -> Result<ActivityRecord, RunnerError> {
        self.scope.activity_arn(arn)?;
        self.catalog()
            .activities
            .get(arn)
            .cloned()
            .ok_or_else(|| RunnerError::activity_missing(arn))
    }

    pub(crate) fn delete_activity(&self, arn: &str) -> Result<(), RunnerError> {
        self.scope.activity_arn(arn)?;
        let mut catalog = self.catalog_mut();
        if catalog.activities.remove(arn).is_some() {
            self.put_record::<ActivityRecord>(ACTIVITY, arn, None)?;
        }
        Ok(())
    }

    pub(crate) fn list_activities(&self) -> Vec<ActivityRecord> {
        self.catalog().activities.values().cloned().collect()
    }

    // ---- tags ----

    /// Changes the tags of a state machine or activity.
    pub(crate) fn change_tags(
        &self,
        arn: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), RunnerError> {
        let (kind, _) = self.scope.split(arn)?;
        let mut catalog = self.catalog_mut();
        match kind {
            "stateMachine" => {
                let mut m = catalog
                    .machines
                    .get(arn)
                    .cloned()
                    .ok_or_else(|| not_found(arn))?;
                change(&mut m.record.tags);
                check_tags(&m.record.tags)?;
                self.put_record(MACHINE, arn, Some(&m.record))?;
                catalog.machines.insert(arn.to_string(), m);
            }
            "activity" => {
                let mut a = catalog
                    .activities
                    .get(arn)
                    .cloned()
                    .ok_or_else(|| not_found(arn))?;
                change(&mut a.tags);
                check_tags(&a.tags)?;
                self.put_record(ACTIVITY, arn, Some(&a))?;
                catalog.activities.insert(arn.to_string(), a);
            }
            _ => return Err(not_found(arn)),
        }
        Ok(())
    }

    pub(crate) fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, RunnerError> {
        let (kind, _) = self.scope.split(arn)?;
        let catalog = self.catalog();
        match kind {
            "stateMachine" => catalog
                .machines
                .get(arn)
                .map(|m| m.record.tags.clone())
                .ok_or_else(|| not_found(arn)),
            "activity" => catalog
                .activities
                .get(arn)
                .map(|a| a.tags.clone())
                .ok_or_else(|| not_found(arn)),
            _ => Err(not_found(arn)),
        }
    }
}
