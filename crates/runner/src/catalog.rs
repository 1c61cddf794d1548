//! The definitions: state machines with their versions and aliases, and
//! activities, each parsed once and kept in memory beside its stored record.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrule_states::StateMachine;
use serde_json::Value;

use crate::error::{RunnerError, RunnerErrorKind};
use crate::integrations::Resource;
use crate::model::{ActivityRecord, AliasRecord, MachineRecord, MachineRef, VersionRecord};

/// A state machine's latest revision, parsed.
#[derive(Clone)]
pub(crate) struct Machine {
    pub(crate) record: MachineRecord,
    pub(crate) parsed: Arc<StateMachine>,
}

/// A published version, parsed.
#[derive(Clone)]
pub(crate) struct Version {
    pub(crate) record: VersionRecord,
    pub(crate) parsed: Arc<StateMachine>,
}

/// Everything that is defined rather than run.
#[derive(Default)]
pub(crate) struct Catalog {
    pub(crate) machines: BTreeMap<String, Machine>,
    pub(crate) versions: BTreeMap<String, Version>,
    pub(crate) aliases: BTreeMap<String, AliasRecord>,
    pub(crate) activities: BTreeMap<String, ActivityRecord>,
}

/// What an execution starts from.
pub(crate) struct Resolved {
    pub(crate) machine: Machine,
    pub(crate) definition: String,
    pub(crate) parsed: Arc<StateMachine>,
    pub(crate) role_arn: String,
    pub(crate) version_arn: Option<String>,
    pub(crate) alias_arn: Option<String>,
}

impl Catalog {
    pub(crate) fn machine(&self, arn: &str) -> Result<&Machine, RunnerError> {
        self.machines
            .get(arn)
            .ok_or_else(|| RunnerError::machine_missing(arn))
    }

    pub(crate) fn version(&self, arn: &str) -> Result<&Version, RunnerError> {
        self.versions.get(arn).ok_or_else(|| not_found(arn))
    }

    pub(crate) fn alias(&self, arn: &str) -> Result<&AliasRecord, RunnerError> {
        self.aliases.get(arn).ok_or_else(|| not_found(arn))
    }

    /// The revision a StartExecution of `r` runs; an alias picks one of its
    /// versions by weight.
    pub(crate) fn resolve(&self, r: &MachineRef, full_arn: &str) -> Result<Resolved, RunnerError> {
        let machine = self.machine(r.machine_arn())?.clone();
        match r {
            MachineRef::Latest(_) => Ok(Resolved {
                definition: machine.record.definition.clone(),
                parsed: Arc::clone(&machine.parsed),
                role_arn: machine.record.role_arn.clone(),
                machine,
                version_arn: None,
                alias_arn: None,
            }),
            MachineRef::Version(..) => {
                let v = self.version(full_arn)?;
                Ok(Resolved {
                    definition: v.record.definition.clone(),
                    parsed: Arc::clone(&v.parsed),
                    role_arn: v.record.role_arn.clone(),
                    machine,
                    version_arn: Some(v.record.arn.clone()),
                    alias_arn: None,
                })
            }
            MachineRef::Alias(..) => {
                let a = self.alias(full_arn)?;
                let roll = fastrand::u32(0..100);
                let mut acc = 0;
                let mut chosen = a.routing.first().map(|(v, _)| v.clone());
                for (v, w) in &a.routing {
                    acc += w;
                    if roll < acc {
                        chosen = Some(v.clone());
                        break;
                    }
                }
                let chosen = chosen.ok_or_else(|| not_found(full_arn))?;
                let v = self.version(&chosen)?;
                Ok(Resolved {
                    definition: v.record.definition.clone(),
                    parsed: Arc::clone(&v.parsed),
                    role_arn: v.record.role_arn.clone(),
                    machine,
                    version_arn: Some(v.record.arn.clone()),
                    alias_arn: Some(a.arn.clone()),
                })
            }
        }
    }
}

/// `ResourceNotFound` for a version or alias.
pub(crate) fn not_found(arn: &str) -> RunnerError {
    RunnerError::new(
        RunnerErrorKind::ResourceNotFound,
        format!("Resource Not Found: '{arn}'"),
    )
}

/// Parses a definition as CreateStateMachine does, then refuses Task
/// resources ferrule cannot run, naming the state.
pub(crate) fn parse_definition(definition: &str) -> Result<StateMachine, RunnerError> {
    let parsed = StateMachine::parse(definition)
        .map_err(|e| RunnerError::new(RunnerErrorKind::InvalidDefinition, e.to_string()))?;
    if let Some((location, why)) = unsupported_resources(definition).into_iter().next() {
        return Err(RunnerError::new(
            RunnerErrorKind::InvalidDefinition,
            format!(
                "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {why} at {location}'"
            ),
        ));
    }
    Ok(parsed)
}

/// (location, reason) of every Task whose `Resource` ferrule cannot run.
pub(crate) fn unsupported_resources(definition: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(definition) {
        walk_states(&v, "", &mut out);
    }
    out
}

fn walk_states(container: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let Some(states) = container.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let here = format!("{at}/States/{name}");
        match state.get("Type").and_then(Value::as_str) {
            Some("Task") => {
                if let Some(r) = state.get("Resource").and_then(Value::as_str)
                    && let Err(why) = Resource::parse(r)
                {
                    out.push((format!("{here}/Resource"), why));
                }
            }
            Some("Parallel") => {
                if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
                    for (i, b) in branches.iter().enumerate() {
                        walk_states(b, &format!("{here}/Branches[{i}]"), out);
                    }
                }
            }
            Some("Map") => {
                for key in ["ItemProcessor", "Iterator"] {
                    if let Some(p) = state.get(key) {
                        walk_states(p, &format!("{here}/{key}"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_ferrule_cannot_run_are_refused_where_they_are() {
        let def = r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}
        ]}}}"#;
        let e = parse_definition(def).unwrap_err();
        assert_eq!(e.kind(), RunnerErrorKind::InvalidDefinition);
        assert!(
            e.message().starts_with(
                "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:::lambda:invoke not recognized."
            ),
            "{}",
            e.message()
        );
        assert!(
            e.message()
                .ends_with("at /States/P/Branches[0]/States/L/Resource'")
        );
        let ok = r#"{"StartAt": "E", "States": {"E": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "Parameters": {"Entries": []}, "End": true}}}"#;
        assert!(parse_definition(ok).is_ok());
    }
}
