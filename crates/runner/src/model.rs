//! What the runner stores: state machines, their versions and aliases,
//! activities, executions, undelivered activity tasks — and the names and
//! ARNs that address them.

use std::collections::BTreeMap;

use ferrule_states::Execution;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{RunnerError, RunnerErrorKind};

/// Record kinds in the metadata store.
pub(crate) const MACHINE: &str = "states.machine";
pub(crate) const VERSION: &str = "states.version";
pub(crate) const ALIAS: &str = "states.alias";
pub(crate) const ACTIVITY: &str = "states.activity";
pub(crate) const EXECUTION: &str = "states.execution";
pub(crate) const ACTIVITY_TASK: &str = "states.activity-task";
/// A run of history events of one execution, named `{execution ARN}#{first index:010}`.
pub(crate) const EXECUTION_HISTORY: &str = "states.execution-history";

/// `STANDARD` or `EXPRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MachineType {
    /// Durable, exactly described, listed, with history.
    #[default]
    Standard,
    /// In memory: StartSyncExecution, or fire-and-forget StartExecution.
    Express,
}

impl MachineType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }
}

/// A state machine (its latest revision).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineRecord {
    /// Its name.
    pub name: String,
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`.
    pub arn: String,
    /// The definition, as given.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type`.
    pub machine_type: MachineType,
    /// When it was created (ms).
    pub created_ms: u64,
    /// When it was last updated (ms), if ever.
    pub updated_ms: Option<u64>,
    /// The id of the latest revision.
    pub revision_id: String,
    /// `loggingConfiguration`, as given (reported back; ferrule logs nothing to CloudWatch).
    pub logging: Value,
    /// `tracingConfiguration`, as given.
    pub tracing: Value,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The number the next published version gets.
    pub next_version: u64,
    /// The version that published the latest revision, if one did.
    pub latest_version: Option<String>,
}

/// A published version: a frozen revision.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The unqualified machine ARN.
    pub machine_arn: String,
    /// `...:stateMachine:NAME:N`.
    pub arn: String,
    /// Its number.
    pub version: u64,
    /// The definition of the revision.
    pub definition: String,
    /// Its role.
    pub role_arn: String,
    /// The revision's id.
    pub revision_id: String,
    /// `description`.
    pub description: Option<String>,
    /// When published (ms).
    pub created_ms: u64,
}

/// An alias: a name that routes executions to one or two versions by weight.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AliasRecord {
    /// The unqualified machine ARN.
    pub machine_arn: String,
    /// `...:stateMachine:NAME:ALIAS`.
    pub arn: String,
    /// The alias name.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// (version ARN, weight 0-100), weights summing to 100.
    pub routing: Vec<(String, u32)>,
    /// When created (ms).
    pub created_ms: u64,
    /// When last updated (ms).
    pub updated_ms: u64,
}

/// An activity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// Its name.
    pub name: String,
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    pub arn: String,
    /// When created (ms).
    pub created_ms: u64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// How a parent execution waits for a child it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SyncMode {
    /// `startExecution.sync`: output and input as JSON text.
    Sync,
    /// `startExecution.sync:2`: output and input as JSON.
    Sync2,
}

/// A parent waiting for this execution to end.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Parent {
    pub(crate) execution_arn: String,
    pub(crate) token: String,
    pub(crate) mode: SyncMode,
}

/// An execution with what it needs to resume: the definition it runs
/// (later updates of the machine do not change a running execution).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ExecutionRecord {
    /// As stored, its history holds only the events from `history_chunked` on; the
    /// events before are in [`EXECUTION_HISTORY`] records.
    pub(crate) execution: Execution,
    /// How many of the first history events live in [`EXECUTION_HISTORY`] records.
    #[serde(default)]
    pub(crate) history_chunked: u64,
    pub(crate) definition: String,
    pub(crate) machine_type: MachineType,
    pub(crate) version_arn: Option<String>,
    pub(crate) alias_arn: Option<String>,
    pub(crate) parent: Option<Parent>,
}

/// An activity task not yet handed to a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ActivityTask {
    pub(crate) activity_arn: String,
    pub(crate) token: String,
    pub(crate) input: String,
    pub(crate) execution_arn: String,
    pub(crate) scheduled_ms: u64,
}

/// Checks a resource name (state machine, execution, activity, alias) as
/// the service does: 1-80 characters, none of whitespace, brackets,
/// wildcards, ``" # % \ ^ | ~ ` $ & , ; : /`` or control characters.
pub fn check_name(name: &str) -> Result<(), RunnerError> {
    let bad = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || ('\u{0}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
    };
    let chars = name.chars().count();
    if chars == 0 || chars > 80 || name.chars().any(bad) {
        return Err(RunnerError::new(
            RunnerErrorKind::InvalidName,
            format!("Invalid Name: '{name}'"),
        ));
    }
    Ok(())
}

/// What a `stateMachineArn` parameter names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MachineRef {
    /// The machine itself (its latest revision).
    Latest(String),
    /// A version: (machine ARN, number).
    Version(String, u64),
    /// An alias: (machine ARN, alias name).
    Alias(String, String),
}

impl MachineRef {
    pub(crate) fn machine_arn(&self) -> &str {
        match self {
            MachineRef::Latest(a) | MachineRef::Version(a, _) | MachineRef::Alias(a, _) => a,
        }
    }
}

/// The ARN prefix of a resource type in this account and region.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub(crate) region: String,
    pub(crate) account: String,
}

impl Scope {
    pub(crate) fn arn(&self, kind: &str, rest: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:{kind}:{rest}",
            self.region, self.account
        )
    }

    /// Splits an ARN of this service into (resource type, rest); refuses
    /// other services, partitions or malformed ARNs with `InvalidArn`.
    pub(crate) fn split<'a>(&self, arn: &'a str) -> Result<(&'a str, &'a str), RunnerError> {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        match parts[..] {
            ["arn", partition, "states", _region, _account, kind, rest]
                if partition.starts_with("aws") && !rest.is_empty() =>
            {
                Ok((kind, rest))
            }
            _ => Err(RunnerError::invalid_arn(&format!(
                "Invalid ARN prefix: {arn}"
            ))),
        }
    }

    /// Reads a `stateMachineArn` (unqualified, version or alias).
    pub(crate) fn machine_ref(&self, arn: &str) -> Result<MachineRef, RunnerError> {
        let (kind, rest) = self.split(arn)?;
        if kind != "stateMachine" {
            return Err(RunnerError::invalid_arn(&format!(
                "Resource type not valid in this context: {kind}"
            )));
        }
        let mut it = rest.splitn(2, ':');
        let name = it.next().unwrap_or_default();
        let base = arn[..arn.len() - rest.len()].to_string() + name;
        match it.next() {
            None => Ok(MachineRef::Latest(base)),
            Some(q) if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) => q
                .parse()
                .map(|n| MachineRef::Version(base, n))
                .map_err(|_| RunnerError::invalid_arn(arn)),
            Some(q) if check_name(q).is_ok() => Ok(MachineRef::Alias(base, q.to_string())),
            Some(_) => Err(RunnerError::invalid_arn(arn)),
        }
    }

    /// Checks that `arn` is an execution ARN.
    pub(crate) fn execution_arn<'a>(&self, arn: &'a str) -> Result<&'a str, RunnerError> {
        let (kind, _) = self.split(arn)?;
        match kind {
            "execution" | "express" => Ok(arn),
            other => Err(RunnerError::invalid_arn(&format!(
                "Resource type not valid in this context: {other}"
            ))),
        }
    }

    /// Checks that `arn` is an activity ARN.
    pub(crate) fn activity_arn<'a>(&self, arn: &'a str) -> Result<&'a str, RunnerError> {
        let (kind, _) = self.split(arn)?;
        if kind != "activity" {
            return Err(RunnerError::invalid_arn(&format!(
                "Resource type not valid in this context: {kind}"
            )));
        }
        Ok(arn)
    }
}

/// A fresh revision id.
pub(crate) fn revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    #[test]
    fn names_follow_the_services_character_rules() {
        for good in ["a", "kyc-flow_2", "Ünïcödé", &"x".repeat(80)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a:b",
            "a/b",
            "a*",
            "{x}",
            "tab\t",
            "\u{7f}",
            &"x".repeat(81),
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.kind(), RunnerErrorKind::InvalidName, "{bad:?}");
            assert_eq!(e.message(), format!("Invalid Name: '{bad}'"));
        }
    }

    #[test]
    fn machine_arns_are_latest_versions_or_aliases() {
        let s = scope();
        let base = "arn:aws:states:us-east-1:123456789012:stateMachine:kyc";
        assert_eq!(s.machine_ref(base), Ok(MachineRef::Latest(base.into())));
        assert_eq!(
            s.machine_ref(&format!("{base}:7")),
            Ok(MachineRef::Version(base.into(), 7))
        );
        assert_eq!(
            s.machine_ref(&format!("{base}:prod")),
            Ok(MachineRef::Alias(base.into(), "prod".into()))
        );
        let e = s
            .machine_ref("arn:aws:states:us-east-1:123456789012:activity:x")
            .unwrap_err();
        assert_eq!(e.kind(), RunnerErrorKind::InvalidArn);
        assert_eq!(
            e.message(),
            "Invalid Arn: 'Resource type not valid in this context: activity'"
        );
        assert_eq!(
            s.machine_ref("arn:aws:sqs:us-east-1:1:q")
                .unwrap_err()
                .kind(),
            RunnerErrorKind::InvalidArn
        );
        assert!(s.machine_ref("nonsense").is_err());
    }
}
