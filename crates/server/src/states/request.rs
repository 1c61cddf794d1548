//! Step Functions requests, one type per operation, read as the AWS JSON
//! 1.0 protocol reads them (camelCase members; wrong types are a
//! `SerializationException`) and checked against botocore's model.

use serde::Deserialize;

use crate::events::wire::{Bool, Int, List, Map, Obj, Str, Text, Violations};

/// The error type of a member of the wrong JSON type.
pub(crate) const SERIALIZATION: &str = "SerializationException";

/// An ARN member (`Arn`: 1-256).
pub(crate) const ARN: Text = Text::len(1, 256);
/// A long ARN member (`LongArn`: 1-2000).
pub(crate) const LONG_ARN: Text = Text::len(1, 2000);
/// A name member (`Name`: 1-80).
pub(crate) const NAME: Text = Text::len(1, 80);
/// A definition (`Definition`: 1-1048576).
pub(crate) const DEFINITION: Text = Text::len(1, 1_048_576);
/// Execution input (`SensitiveData`: at most 262144).
pub(crate) const DATA: Text = Text::len(0, 262_144);
/// A task token (`TaskToken`: 1-2048).
pub(crate) const TOKEN: Text = Text::len(1, 2048);
/// `SensitiveError` (0-256).
pub(crate) const ERROR: Text = Text::len(0, 256);
/// `SensitiveCause` (0-32768).
pub(crate) const CAUSE: Text = Text::len(0, 32_768);
/// A version or alias description (0-256).
pub(crate) const DESCRIPTION: Text = Text::len(0, 256);
/// A list page token (1-1024).
pub(crate) const PAGE_TOKEN: Text = Text::len(1, 1024);

/// A tag (`{key, value}`).
#[derive(Debug, Deserialize)]
pub(crate) struct Tag {
    pub key: Option<Str>,
    pub value: Option<Str>,
}

/// A routing entry of an alias.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Route {
    pub state_machine_version_arn: Option<Str>,
    pub weight: Option<Int>,
}

/// `CreateStateMachine`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateStateMachine {
    pub name: Option<Str>,
    pub definition: Option<Str>,
    pub role_arn: Option<Str>,
    #[serde(rename = "type")]
    pub machine_type: Option<Str>,
    pub logging_configuration: Option<serde_json::Value>,
    pub tracing_configuration: Option<serde_json::Value>,
    pub tags: Option<List<Obj<Tag>>>,
    pub publish: Option<Bool>,
    pub version_description: Option<Str>,
    pub encryption_configuration: Option<serde_json::Value>,
}

impl CreateStateMachine {
    pub(crate) fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", NAME);
        v.required_text(self.definition.as_ref(), "definition", DEFINITION);
        v.required_text(self.role_arn.as_ref(), "roleArn", ARN);
        v.one_of(self.machine_type.as_ref(), "type", &["STANDARD", "EXPRESS"]);
        v.text(
            self.version_description.as_ref(),
            "versionDescription",
            DESCRIPTION,
        );
        v.finish()
    }
}

/// `UpdateStateMachine`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateStateMachine {
    pub state_machine_arn: Option<Str>,
    pub definition: Option<Str>,
    pub role_arn: Option<Str>,
    pub logging_configuration: Option<serde_json::Value>,
    pub tracing_configuration: Option<serde_json::Value>,
    pub publish: Option<Bool>,
    pub version_description: Option<Str>,
    pub encryption_configuration: Option<serde_json::Value>,
}

/// Requests that name one resource by ARN (`stateMachineArn`,
/// `executionArn`, `activityArn`, `stateMachineVersionArn`,
/// `stateMachineAliasArn`, `resourceArn`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByArn {
    pub state_machine_arn: Option<Str>,
    pub execution_arn: Option<Str>,
    pub activity_arn: Option<Str>,
    pub state_machine_version_arn: Option<Str>,
    pub state_machine_alias_arn: Option<Str>,
    pub resource_arn: Option<Str>,
    pub included_data: Option<Str>,
}

impl ByArn {
    /// The member `name`, required.
    pub(crate) fn required(&self, name: &str) -> Result<&str, crate::ApiError> {
        let value = match name {
            "stateMachineArn" => &self.state_machine_arn,
            "executionArn" => &self.execution_arn,
            "activityArn" => &self.activity_arn,
            "stateMachineVersionArn" => &self.state_machine_version_arn,
            "stateMachineAliasArn" => &self.state_machine_alias_arn,
            _ => &self.resource_arn,
        };
        let mut v = Violations::default();
        let rule = if name == "executionArn" {
            LONG_ARN
        } else {
            ARN
        };
        v.required_text(value.as_ref(), name, rule);
        v.one_of(
            self.included_data.as_ref(),
            "includedData",
            &["ALL_DATA", "METADATA_ONLY"],
        );
        v.finish()?;
        Ok(value.as_ref().map_or("", |s| s.0.as_str()))
    }
}

/// `ListStateMachines`, `ListActivities`, and the paging of the other lists.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page {
    pub max_results: Option<Int>,
    pub next_token: Option<Str>,
}

impl Page {
    pub(crate) fn check(&self, v: &mut Violations) {
        v.range(self.max_results, "maxResults", Some(0), Some(1000));
        v.text(self.next_token.as_ref(), "nextToken", PAGE_TOKEN);
    }
}

/// `ValidateStateMachineDefinition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidateDefinition {
    pub definition: Option<Str>,
    #[serde(rename = "type")]
    pub machine_type: Option<Str>,
    pub severity: Option<Str>,
    pub max_results: Option<Int>,
}

/// `StartExecution`, `StartSyncExecution`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartExecution {
    pub state_machine_arn: Option<Str>,
    pub name: Option<Str>,
    pub input: Option<Str>,
    pub trace_header: Option<Str>,
    pub included_data: Option<Str>,
}

impl StartExecution {
    pub(crate) fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.state_machine_arn.as_ref(), "stateMachineArn", ARN);
        v.text(self.name.as_ref(), "name", NAME);
        v.text(self.input.as_ref(), "input", DATA);
        v.text(self.trace_header.as_ref(), "traceHeader", Text::len(0, 256));
        v.one_of(
            self.included_data.as_ref(),
            "includedData",
            &["ALL_DATA", "METADATA_ONLY"],
        );
        v.finish()
    }
}

/// `ListExecutions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListExecutions {
    pub state_machine_arn: Option<Str>,
    pub status_filter: Option<Str>,
    pub map_run_arn: Option<Str>,
    pub redrive_filter: Option<Str>,
    #[serde(flatten)]
    pub page: Page,
}

/// `GetExecutionHistory`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetExecutionHistory {
    pub execution_arn: Option<Str>,
    pub reverse_order: Option<Bool>,
    pub include_execution_data: Option<Bool>,
    #[serde(flatten)]
    pub page: Page,
}

/// `StopExecution`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StopExecution {
    pub execution_arn: Option<Str>,
    pub error: Option<Str>,
    pub cause: Option<Str>,
}

/// `SendTaskSuccess`, `SendTaskFailure`, `SendTaskHeartbeat`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskCall {
    pub task_token: Option<Str>,
    pub output: Option<Str>,
    pub error: Option<Str>,
    pub cause: Option<Str>,
}

/// `CreateActivity`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateActivity {
    pub name: Option<Str>,
    pub tags: Option<List<Obj<Tag>>>,
    pub encryption_configuration: Option<serde_json::Value>,
}

/// `GetActivityTask`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetActivityTask {
    pub activity_arn: Option<Str>,
    pub worker_name: Option<Str>,
}

/// `PublishStateMachineVersion`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublishVersion {
    pub state_machine_arn: Option<Str>,
    pub revision_id: Option<Str>,
    pub description: Option<Str>,
}

/// `CreateStateMachineAlias`, `UpdateStateMachineAlias`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AliasRequest {
    pub state_machine_alias_arn: Option<Str>,
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub routing_configuration: Option<List<Obj<Route>>>,
}

/// `ListStateMachineVersions`, `ListStateMachineAliases`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListOfMachine {
    pub state_machine_arn: Option<Str>,
    #[serde(flatten)]
    pub page: Page,
}

/// `TagResource`, `UntagResource`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tagging {
    pub resource_arn: Option<Str>,
    pub tags: Option<List<Obj<Tag>>>,
    pub tag_keys: Option<List<Str>>,
}

/// Tags as a map, checked (`key` 1-128, `value` 0-256).
pub(crate) fn tags(list: Option<&List<Obj<Tag>>>, v: &mut Violations) -> Map<Str> {
    let mut out = std::collections::BTreeMap::new();
    for (i, Obj(t)) in list.map(|l| l.0.iter()).into_iter().flatten().enumerate() {
        v.required_text(
            t.key.as_ref(),
            &format!("tags.{}.member.key", i + 1),
            Text::len(1, 128),
        );
        v.text(
            t.value.as_ref(),
            &format!("tags.{}.member.value", i + 1),
            Text::len(0, 256),
        );
        if let Some(k) = &t.key {
            out.insert(
                k.0.clone(),
                t.value.clone().unwrap_or_else(|| Str(String::new())),
            );
        }
    }
    Map(out)
}
