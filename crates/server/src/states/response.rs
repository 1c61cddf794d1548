//! Step Functions responses, as botocore's model names their members
//! (camelCase; timestamps in epoch seconds).

use ferrule_runner::{ActivityRecord, AliasRecord, MachineRecord, MachineView, VersionRecord};
use serde::Serialize;
use serde_json::Value;

/// Epoch seconds of a time in ms, as the AWS JSON protocols write timestamps
/// (EventBridge's and Step Functions' answers both use it).
pub(crate) fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// `CreateStateMachine`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateStateMachine {
    pub state_machine_arn: String,
    pub creation_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `DescribeStateMachine`, `DescribeStateMachineForExecution`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeStateMachine {
    pub state_machine_arn: String,
    pub name: String,
    pub status: &'static str,
    pub definition: String,
    pub role_arn: String,
    #[serde(rename = "type")]
    pub machine_type: &'static str,
    pub creation_date: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<f64>,
    pub logging_configuration: Value,
    pub tracing_configuration: Value,
    pub revision_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl DescribeStateMachine {
    pub(crate) fn of(v: MachineView, for_execution: bool) -> DescribeStateMachine {
        DescribeStateMachine {
            state_machine_arn: v.arn,
            name: v.name,
            status: "ACTIVE",
            definition: v.definition,
            role_arn: v.role_arn,
            machine_type: v.machine_type.as_str(),
            creation_date: seconds(v.created_ms),
            update_date: for_execution.then(|| seconds(v.updated_ms.unwrap_or(v.created_ms))),
            logging_configuration: v.logging,
            tracing_configuration: v.tracing,
            revision_id: v.revision_id,
            description: v.description,
        }
    }
}

/// An item of `ListStateMachines`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StateMachineItem {
    pub state_machine_arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub machine_type: &'static str,
    pub creation_date: f64,
}

impl From<&MachineRecord> for StateMachineItem {
    fn from(m: &MachineRecord) -> StateMachineItem {
        StateMachineItem {
            state_machine_arn: m.arn.clone(),
            name: m.name.clone(),
            machine_type: m.machine_type.as_str(),
            creation_date: seconds(m.created_ms),
        }
    }
}

/// `ListStateMachines`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListStateMachines {
    pub state_machines: Vec<StateMachineItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `UpdateStateMachine`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateStateMachine {
    pub update_date: f64,
    pub revision_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// An empty answer.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

/// `ValidateStateMachineDefinition`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Validate {
    pub result: &'static str,
    pub diagnostics: Vec<ferrule_states::Diagnostic>,
    pub truncated: bool,
}

/// `StartExecution`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartExecution {
    pub execution_arn: String,
    pub start_date: f64,
}

/// `ListExecutions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListExecutions {
    pub executions: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetExecutionHistory`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct History {
    pub events: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `StopExecution`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StopExecution {
    pub stop_date: f64,
}

/// `CreateActivity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateActivity {
    pub activity_arn: String,
    pub creation_date: f64,
}

/// `DescribeActivity` and an item of `ListActivities`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Activity {
    pub activity_arn: String,
    pub name: String,
    pub creation_date: f64,
}

impl From<&ActivityRecord> for Activity {
    fn from(a: &ActivityRecord) -> Activity {
        Activity {
            activity_arn: a.arn.clone(),
            name: a.name.clone(),
            creation_date: seconds(a.created_ms),
        }
    }
}

/// `ListActivities`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListActivities {
    pub activities: Vec<Activity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetActivityTask` (both members absent when no task came).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActivityTask {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// `PublishStateMachineVersion` and an item of `ListStateMachineVersions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Version {
    pub state_machine_version_arn: String,
    pub creation_date: f64,
}

impl From<&VersionRecord> for Version {
    fn from(v: &VersionRecord) -> Version {
        Version {
            state_machine_version_arn: v.arn.clone(),
            creation_date: seconds(v.created_ms),
        }
    }
}

/// `ListStateMachineVersions`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListVersions {
    pub state_machine_versions: Vec<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `CreateStateMachineAlias` and an item of `ListStateMachineAliases`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AliasItem {
    pub state_machine_alias_arn: String,
    pub creation_date: f64,
}

/// A routing entry.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Route {
    pub state_machine_version_arn: String,
    pub weight: u32,
}

/// `DescribeStateMachineAlias`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeAlias {
    pub state_machine_alias_arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub routing_configuration: Vec<Route>,
    pub creation_date: f64,
    pub update_date: f64,
}

impl From<AliasRecord> for DescribeAlias {
    fn from(a: AliasRecord) -> DescribeAlias {
        DescribeAlias {
            state_machine_alias_arn: a.arn,
            name: a.name,
            description: a.description,
            routing_configuration: a
                .routing
                .into_iter()
                .map(|(v, w)| Route {
                    state_machine_version_arn: v,
                    weight: w,
                })
                .collect(),
            creation_date: seconds(a.created_ms),
            update_date: seconds(a.updated_ms),
        }
    }
}

/// `ListStateMachineAliases`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListAliases {
    pub state_machine_aliases: Vec<AliasItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `UpdateStateMachineAlias`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateAlias {
    pub update_date: f64,
}

/// A tag.
#[derive(Debug, Serialize)]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// `ListTagsForResource`.
#[derive(Debug, Serialize)]
pub(crate) struct ListTags {
    pub tags: Vec<Tag>,
}
