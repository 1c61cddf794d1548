//! One response model per EventBridge operation (botocore
//! `events/2015-10-07/service-2.json`'s output shapes), written as the
//! service writes them: absent optional members are left out.

use std::collections::BTreeMap;

use serde::Serialize;

use ferrule_bus::{FailedTarget, RuleRecord, TargetConfig};

/// The empty output of DeleteRule, EnableRule, DisableRule, PutPermission,
/// RemovePermission, DeleteEventBus.
#[derive(Serialize, Debug, Default)]
pub(crate) struct Empty {}

/// PutEvents.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutEvents {
    pub failed_entry_count: usize,
    pub entries: Vec<PutEventsResultEntry>,
}

/// `PutEventsResultEntry`: an event id, or an error code and message.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutEventsResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl From<&ferrule_bus::PutEventsResultEntry> for PutEventsResultEntry {
    fn from(e: &ferrule_bus::PutEventsResultEntry) -> PutEventsResultEntry {
        match (&e.event_id, &e.error_code) {
            (Some(id), None) => PutEventsResultEntry {
                event_id: Some(id.clone()),
                error_code: None,
                error_message: None,
            },
            _ => PutEventsResultEntry {
                event_id: None,
                error_code: Some(e.error_code.clone().unwrap_or_default()),
                error_message: Some(e.error_message.clone().unwrap_or_default()),
            },
        }
    }
}

/// PutRule.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutRule {
    pub rule_arn: String,
}

/// `Rule` (ListRules), and DescribeRule's output with `CreatedBy`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Rule {
    pub name: String,
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub event_bus_name: String,
    /// The service managing the rule (an archive's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// DescribeRule only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Rule {
    /// The rule `r`, whose ARN is `arn`.
    pub fn new(r: &RuleRecord, arn: String) -> Rule {
        Rule {
            name: r.name.clone(),
            arn,
            event_pattern: r.event_pattern.clone(),
            schedule_expression: r.schedule_expression.clone(),
            state: r.state.as_str(),
            description: r.description.clone(),
            role_arn: r.role_arn.clone(),
            event_bus_name: r.bus.clone(),
            managed_by: r.managed_by.clone(),
            created_by: None,
        }
    }
}

/// ListRules.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRules {
    pub rules: Vec<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// PutTargets and RemoveTargets.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FailedEntries {
    pub failed_entry_count: usize,
    pub failed_entries: Vec<FailedEntry>,
}

/// `PutTargetsResultEntry` / `RemoveTargetsResultEntry`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FailedEntry {
    pub target_id: String,
    pub error_code: String,
    pub error_message: String,
}

impl FailedEntries {
    /// The bus's failures.
    pub fn new(failed: &[FailedTarget]) -> FailedEntries {
        FailedEntries {
            failed_entry_count: failed.len(),
            failed_entries: failed
                .iter()
                .map(|f| FailedEntry {
                    target_id: f.target_id.clone(),
                    error_code: f.error_code.clone(),
                    error_message: f.error_message.clone(),
                })
                .collect(),
        }
    }
}

/// `Target` (ListTargetsByRule), the members ferrule keeps.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Target {
    pub id: String,
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<SqsParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_parameters: Option<HttpParameters>,
}

/// `SqsParameters`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SqsParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
}

/// `HttpParameters`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HttpParameters {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path_parameter_values: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub header_parameters: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub query_string_parameters: BTreeMap<String, String>,
}

/// `InputTransformer`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InputTransformer {
    pub input_paths_map: BTreeMap<String, String>,
    pub input_template: String,
}

/// `RetryPolicy`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetryPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u32>,
}

/// `DeadLetterConfig`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeadLetterConfig {
    pub arn: String,
}

impl From<&TargetConfig> for Target {
    fn from(t: &TargetConfig) -> Target {
        Target {
            id: t.id.clone(),
            arn: t.arn.clone(),
            role_arn: t.role_arn.clone(),
            input: t.input.clone(),
            input_path: t.input_path.clone(),
            input_transformer: t.input_transformer.as_ref().map(|x| InputTransformer {
                input_paths_map: x.input_paths_map.iter().cloned().collect(),
                input_template: x.input_template.clone(),
            }),
            retry_policy: t.retry_policy.as_ref().map(|p| RetryPolicy {
                maximum_retry_attempts: p.maximum_retry_attempts,
                maximum_event_age_in_seconds: p.maximum_event_age_in_seconds,
            }),
            dead_letter_config: t
                .dead_letter_config
                .as_ref()
                .map(|d| DeadLetterConfig { arn: d.arn.clone() }),
            sqs_parameters: t.sqs_parameters.as_ref().map(|p| SqsParameters {
                message_group_id: p.message_group_id.clone(),
            }),
            http_parameters: t.http_parameters.as_ref().map(|h| HttpParameters {
                path_parameter_values: h.path_parameter_values.clone(),
                header_parameters: h.header_parameters.clone(),
                query_string_parameters: h.query_string_parameters.clone(),
            }),
        }
    }
}

/// ListTargetsByRule.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTargetsByRule {
    pub targets: Vec<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListRuleNamesByTarget.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRuleNamesByTarget {
    pub rule_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// TestEventPattern.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TestEventPattern {
    pub result: bool,
}

/// CreateEventBus.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateEventBus {
    pub event_bus_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_config: Option<LogConfig>,
}

/// `DeadLetterConfig`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeadLetter {
    pub arn: String,
}

/// `LogConfig`.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// UpdateEventBus.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateEventBus {
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_config: Option<LogConfig>,
}

/// A tag.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// ListTagsForResource.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTags {
    pub tags: Vec<Tag>,
}

/// DescribeEventBus; times in epoch seconds, as the JSON protocols write
/// timestamps.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeEventBus {
    pub name: String,
    pub arn: String,
    pub creation_time: f64,
    pub last_modified_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_config: Option<LogConfig>,
}

impl DescribeEventBus {
    /// Bus settings as the service's outputs show them.
    pub(crate) fn settings(r: &ferrule_bus::BusRecord) -> (Option<DeadLetter>, Option<LogConfig>) {
        (
            r.dead_letter_arn.clone().map(|arn| DeadLetter { arn }),
            r.log_config
                .clone()
                .map(|(include_detail, level)| LogConfig {
                    include_detail,
                    level,
                }),
        )
    }
}

/// `EventBus` (ListEventBuses).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EventBus {
    pub name: String,
    pub arn: String,
    pub creation_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// ListEventBuses.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListEventBuses {
    pub event_buses: Vec<EventBus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, to_value};

    #[test]
    fn members_have_the_services_names_and_absent_ones_are_left_out() {
        let entries: Vec<PutEventsResultEntry> = [
            ferrule_bus::PutEventsResultEntry {
                event_id: Some("e".into()),
                error_code: None,
                error_message: None,
            },
            ferrule_bus::PutEventsResultEntry {
                event_id: None,
                error_code: Some("MalformedDetail".into()),
                error_message: None,
            },
        ]
        .iter()
        .map(PutEventsResultEntry::from)
        .collect();
        assert_eq!(
            to_value(PutEvents {
                failed_entry_count: 1,
                entries
            })
            .unwrap(),
            json!({"FailedEntryCount": 1, "Entries": [{"EventId": "e"},
                   {"ErrorCode": "MalformedDetail", "ErrorMessage": ""}]})
        );
        let target = TargetConfig {
            id: "t".into(),
            arn: "a".into(),
            role_arn: None,
            input: None,
            input_path: Some("$.detail".into()),
            input_transformer: None,
            retry_policy: Some(ferrule_bus::RetryPolicy {
                maximum_retry_attempts: None,
                maximum_event_age_in_seconds: None,
            }),
            dead_letter_config: Some(ferrule_bus::DeadLetterConfig { arn: "q".into() }),
            sqs_parameters: Some(ferrule_bus::SqsParameters {
                message_group_id: Some("g".into()),
            }),
            http_parameters: None,
        };
        assert_eq!(
            to_value(Target::from(&target)).unwrap(),
            json!({"Id": "t", "Arn": "a", "InputPath": "$.detail", "RetryPolicy": {},
                   "DeadLetterConfig": {"Arn": "q"}, "SqsParameters": {"MessageGroupId": "g"}})
        );
        assert_eq!(
            to_value(ListRules {
                rules: Vec::new(),
                next_token: None
            })
            .unwrap(),
            json!({"Rules": []})
        );
        assert_eq!(
            to_value(DescribeEventBus {
                name: "default".into(),
                arn: "arn".into(),
                creation_time: 1.5,
                last_modified_time: 1.5,
                description: None,
                policy: None,
                kms_key_identifier: None,
                dead_letter_config: None,
                log_config: None,
            })
            .unwrap(),
            json!({"Name": "default", "Arn": "arn", "CreationTime": 1.5, "LastModifiedTime": 1.5})
        );
    }
}
