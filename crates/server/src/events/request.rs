//! One request model per EventBridge operation, with the constraints of
//! EventBridge's service model (botocore `events/2015-10-07/service-2.json`):
//! each request is read with [`wire::read`] (wrong types are a
//! `SerializationException`) and checked with `check` (model constraints
//! are one `ValidationException` listing every violation).

use serde::Deserialize;

use super::wire::{Bool, Int, List, Map, Obj, Str, Text, Violations, shown_list};

/// `RuleName`.
pub(crate) const RULE_NAME: Text = Text::pattern(1, 64, r"[\.\-_A-Za-z0-9]+");
/// `TargetId`.
const TARGET_ID: Text = Text::pattern(1, 64, r"[\.\-_A-Za-z0-9]+");
/// `EventBusNameOrArn`.
const BUS_NAME_OR_ARN: Text = Text::pattern(
    1,
    1600,
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+",
);
/// `NonPartnerEventBusNameOrArn` (PutEvents entries).
const NON_PARTNER_BUS: Text = Text::pattern(
    1,
    1600,
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+",
);
/// `EventBusName`.
const BUS_NAME: Text = Text::pattern(1, 256, r"[/\.\-_A-Za-z0-9]+");
/// `EventSourceName`.
const EVENT_SOURCE_NAME: Text = Text::pattern(1, 256, r"aws\.partner(/[\.\-_A-Za-z0-9]+){2,}");
/// `NextToken`.
const NEXT_TOKEN: Text = Text::len(1, 2048);
/// `RoleArn`, `TargetArn`, `ResourceArn`, `Arn`.
const ARN: Text = Text::len(1, 1600);
/// `EndpointId`.
const ENDPOINT_ID: Text = Text::pattern(1, 50, r"^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$");
/// `KmsKeyIdentifier`.
const KMS_KEY: Text = Text {
    min: None,
    max: Some(2048),
    pattern: Some(r"^[a-zA-Z0-9_\-/:]*$"),
};
/// `InputTransformerPathKey`.
const PATH_KEY: Text = Text::pattern(1, 256, r"[A-Za-z0-9\_\-]+");
/// `RuleState`'s values.
pub(crate) const RULE_STATES: &[&str] = &[
    "ENABLED",
    "DISABLED",
    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
];

/// `Limit` (`LimitMax100`).
fn limit(v: &mut Violations, limit: Option<Int>) {
    v.range(limit, "limit", Some(1), Some(100));
}

/// `Tag`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    key: Option<Str>,
    value: Option<Str>,
}

/// Tags as a map (after `check`: keys and values present).
pub(crate) fn tag_map(tags: Option<&List<Obj<Tag>>>) -> std::collections::BTreeMap<String, String> {
    tags.map(|l| l.0.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter_map(|Obj(t)| {
            Some((
                t.key.as_ref()?.0.clone(),
                t.value.as_ref().map(|v| v.0.clone()).unwrap_or_default(),
            ))
        })
        .collect()
}

fn tags(v: &mut Violations, tags: Option<&List<Obj<Tag>>>) {
    for (i, Obj(t)) in tags
        .map(|l| l.0.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let at = format!("tags.{}.member", i + 1);
        v.required_text(t.key.as_ref(), &format!("{at}.key"), Text::len(1, 128));
        v.required_text(t.value.as_ref(), &format!("{at}.value"), Text::max(256));
    }
}

/// PutEvents.
#[derive(Deserialize, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutEvents {
    pub entries: Option<List<Obj<PutEventsEntry>>>,
    pub endpoint_id: Option<Str>,
}

/// `PutEventsRequestEntry`.
#[derive(Deserialize, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutEventsEntry {
    pub time: Option<Time>,
    pub source: Option<Str>,
    pub resources: Option<List<Str>>,
    pub detail_type: Option<Str>,
    pub detail: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub trace_header: Option<Str>,
}

/// An event's `Time`: epoch seconds (a JSON number, as botocore sends a
/// timestamp) or an RFC 3339 string with an offset; kept as epoch ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Time(pub u64);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        use serde::de::Error as _;
        let v = serde_json::Value::deserialize(d)?;
        let ms = match &v {
            serde_json::Value::Number(n) => {
                n.as_f64().and_then(ferrule_core::time::epoch_seconds_ms)
            }
            serde_json::Value::String(s) => ferrule_core::time::parse_rfc3339_ms(s),
            _ => None,
        };
        ms.map(Time)
            .ok_or_else(|| D::Error::custom(super::wire::not_scalar(&v, "a Timestamp")))
    }
}

impl PutEvents {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required(self.entries.as_ref(), "entries");
        // The most entries is the bus's limit (configurable), checked there.
        let entries = self.entries.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
        if self.entries.is_some() && entries.is_empty() {
            v.count(Some(0), "[]", "entries", 1, usize::MAX);
        }
        v.text(self.endpoint_id.as_ref(), "endpointId", ENDPOINT_ID);
        for (i, Obj(e)) in entries.iter().enumerate() {
            let at = |m: &str| format!("entries.{}.member.{m}", i + 1);
            for (j, r) in e
                .resources
                .as_ref()
                .map(|l| l.0.as_slice())
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                v.text(
                    Some(r),
                    &format!("{}.{}.member", at("resources"), j + 1),
                    Text::max(2048),
                );
            }
            v.text(
                e.event_bus_name.as_ref(),
                &at("eventBusName"),
                NON_PARTNER_BUS,
            );
            v.text(
                e.trace_header.as_ref(),
                &at("traceHeader"),
                Text::len(1, 500),
            );
        }
        v.finish()
    }
}

/// PutRule.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutRule {
    pub name: Option<Str>,
    pub schedule_expression: Option<Str>,
    pub event_pattern: Option<Str>,
    pub state: Option<Str>,
    pub description: Option<Str>,
    pub role_arn: Option<Str>,
    pub tags: Option<List<Obj<Tag>>>,
    pub event_bus_name: Option<Str>,
}

impl PutRule {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", RULE_NAME);
        v.text(
            self.schedule_expression.as_ref(),
            "scheduleExpression",
            Text::max(256),
        );
        // EventPattern's greatest length is the bus's limit (configurable).
        v.one_of(self.state.as_ref(), "state", RULE_STATES);
        v.text(self.description.as_ref(), "description", Text::max(512));
        v.text(self.role_arn.as_ref(), "roleArn", ARN);
        tags(&mut v, self.tags.as_ref());
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.finish()
    }
}

/// DescribeRule, DeleteRule, EnableRule, DisableRule.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RuleRef {
    pub name: Option<Str>,
    pub event_bus_name: Option<Str>,
    /// DeleteRule only (for managed rules: archives' rules go with their archive).
    #[expect(
        dead_code,
        reason = "type-checked only: managed rules (archives') go with their archive"
    )]
    pub force: Option<Bool>,
}

impl RuleRef {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", RULE_NAME);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.finish()
    }
}

/// ListRules.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRules {
    pub name_prefix: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub next_token: Option<Str>,
    pub limit: Option<Int>,
}

impl ListRules {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(self.name_prefix.as_ref(), "namePrefix", RULE_NAME);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.text(self.next_token.as_ref(), "nextToken", NEXT_TOKEN);
        limit(&mut v, self.limit);
        v.finish()
    }
}

/// PutTargets.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutTargets {
    pub rule: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub targets: Option<List<Obj<Target>>>,
}

/// `Target` (the members ferrule serves; parameters of target kinds it
/// does not deliver to are ignored, and such targets are refused by ARN).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Target {
    pub id: Option<Str>,
    pub arn: Option<Str>,
    pub role_arn: Option<Str>,
    pub input: Option<Str>,
    pub input_path: Option<Str>,
    pub input_transformer: Option<Obj<InputTransformer>>,
    pub dead_letter_config: Option<Obj<DeadLetterConfig>>,
    pub retry_policy: Option<Obj<RetryPolicy>>,
    pub sqs_parameters: Option<Obj<SqsParameters>>,
    pub http_parameters: Option<Obj<super::connections::HttpParameters>>,
}

/// `SqsParameters`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SqsParameters {
    pub message_group_id: Option<Str>,
}

/// `InputTransformer`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InputTransformer {
    pub input_paths_map: Option<Map<Str>>,
    pub input_template: Option<Str>,
}

/// `DeadLetterConfig`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeadLetterConfig {
    pub arn: Option<Str>,
}

/// `RetryPolicy`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetryPolicy {
    pub maximum_retry_attempts: Option<Int>,
    pub maximum_event_age_in_seconds: Option<Int>,
}

impl PutTargets {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.rule.as_ref(), "rule", RULE_NAME);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.required(self.targets.as_ref(), "targets");
        let targets = self.targets.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
        v.count(
            self.targets.as_ref().map(|_| targets.len()),
            if targets.is_empty() { "[]" } else { "[...]" },
            "targets",
            1,
            100,
        );
        for (i, Obj(t)) in targets.iter().enumerate() {
            let at = |m: &str| format!("targets.{}.member.{m}", i + 1);
            v.required_text(t.id.as_ref(), &at("id"), TARGET_ID);
            v.required_text(t.arn.as_ref(), &at("arn"), ARN);
            v.text(t.role_arn.as_ref(), &at("roleArn"), ARN);
            v.text(t.input.as_ref(), &at("input"), Text::max(8192));
            v.text(t.input_path.as_ref(), &at("inputPath"), Text::max(256));
            if let Some(Obj(x)) = &t.input_transformer {
                let map_at = at("inputTransformer.inputPathsMap");
                if let Some(Map(paths)) = &x.input_paths_map {
                    if paths.len() > 100 {
                        v.push(
                            Some("{...}"),
                            &map_at,
                            "Member must have length less than or equal to 100",
                        );
                    }
                    map_constraints(&mut v, paths, &map_at);
                }
                v.required_text(
                    x.input_template.as_ref(),
                    &at("inputTransformer.inputTemplate"),
                    Text::len(1, 8192),
                );
            }
            if let Some(Obj(d)) = &t.dead_letter_config {
                v.text(d.arn.as_ref(), &at("deadLetterConfig.arn"), ARN);
            }
            if let Some(Obj(p)) = &t.sqs_parameters {
                v.text(
                    p.message_group_id.as_ref(),
                    &at("sqsParameters.messageGroupId"),
                    Text::max(100),
                );
            }
            if let Some(Obj(h)) = &t.http_parameters {
                h.check(&mut v, &at("httpParameters"));
            }
            if let Some(Obj(p)) = &t.retry_policy {
                v.range(
                    p.maximum_retry_attempts,
                    &at("retryPolicy.maximumRetryAttempts"),
                    Some(0),
                    Some(185),
                );
                v.range(
                    p.maximum_event_age_in_seconds,
                    &at("retryPolicy.maximumEventAgeInSeconds"),
                    Some(60),
                    Some(86_400),
                );
            }
        }
        v.finish()
    }
}

/// `InputPathsMap`'s keys (`InputTransformerPathKey`) and values
/// (`TargetInputPath`), reported as the service reports map members.
fn map_constraints(v: &mut Violations, paths: &std::collections::BTreeMap<String, Str>, at: &str) {
    let shown = || {
        let members: Vec<String> = paths.iter().map(|(k, s)| format!("{k}={}", s.0)).collect();
        format!("{{{}}}", members.join(", "))
    };
    let mut keys = Violations::default();
    let mut values = Violations::default();
    for (k, s) in paths {
        keys.text(Some(&Str(k.clone())), "key", PATH_KEY);
        values.text(Some(s), "value", Text::max(256));
    }
    for (inner, what) in [(keys, "Map keys"), (values, "Map value")] {
        let constraints = inner.constraints();
        if !constraints.is_empty() {
            v.push(
                Some(&shown()),
                at,
                &format!(
                    "{what} must satisfy constraint: [{}]",
                    constraints.join(", ")
                ),
            );
        }
    }
}

/// RemoveTargets.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RemoveTargets {
    pub rule: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub ids: Option<List<Str>>,
    #[expect(
        dead_code,
        reason = "type-checked only: managed rules (archives') go with their archive"
    )]
    pub force: Option<Bool>,
}

impl RemoveTargets {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.rule.as_ref(), "rule", RULE_NAME);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.required(self.ids.as_ref(), "ids");
        if let Some(List(ids)) = &self.ids {
            v.count(Some(ids.len()), &shown_list(ids), "ids", 1, 100);
            for (i, id) in ids.iter().enumerate() {
                v.text(Some(id), &format!("ids.{}.member", i + 1), TARGET_ID);
            }
        }
        v.finish()
    }
}

/// ListTargetsByRule.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTargetsByRule {
    pub rule: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub next_token: Option<Str>,
    pub limit: Option<Int>,
}

impl ListTargetsByRule {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.rule.as_ref(), "rule", RULE_NAME);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.text(self.next_token.as_ref(), "nextToken", NEXT_TOKEN);
        limit(&mut v, self.limit);
        v.finish()
    }
}

/// ListRuleNamesByTarget.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRuleNamesByTarget {
    pub target_arn: Option<Str>,
    pub event_bus_name: Option<Str>,
    pub next_token: Option<Str>,
    pub limit: Option<Int>,
}

impl ListRuleNamesByTarget {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.target_arn.as_ref(), "targetArn", ARN);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            BUS_NAME_OR_ARN,
        );
        v.text(self.next_token.as_ref(), "nextToken", NEXT_TOKEN);
        limit(&mut v, self.limit);
        v.finish()
    }
}

/// TestEventPattern.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TestEventPattern {
    pub event_pattern: Option<Str>,
    pub event: Option<Str>,
}

impl TestEventPattern {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required(self.event_pattern.as_ref(), "eventPattern");
        v.required(self.event.as_ref(), "event");
        v.finish()
    }
}

/// CreateEventBus.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateEventBus {
    pub name: Option<Str>,
    pub event_source_name: Option<Str>,
    pub description: Option<Str>,
    pub kms_key_identifier: Option<Str>,
    pub dead_letter_config: Option<Obj<DeadLetterConfig>>,
    pub log_config: Option<Obj<LogConfig>>,
    pub tags: Option<List<Obj<Tag>>>,
    /// A ferrule extension (not in the service's CreateEventBus): the bus's
    /// resource policy, as JSON text.
    pub policy: Option<Str>,
}

/// `LogConfig`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LogConfig {
    pub include_detail: Option<Str>,
    pub level: Option<Str>,
}

impl CreateEventBus {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", BUS_NAME);
        v.text(
            self.event_source_name.as_ref(),
            "eventSourceName",
            EVENT_SOURCE_NAME,
        );
        v.text(self.description.as_ref(), "description", Text::max(512));
        v.text(
            self.kms_key_identifier.as_ref(),
            "kmsKeyIdentifier",
            KMS_KEY,
        );
        if let Some(Obj(d)) = &self.dead_letter_config {
            v.text(d.arn.as_ref(), "deadLetterConfig.arn", ARN);
        }
        if let Some(Obj(l)) = &self.log_config {
            v.one_of(
                l.include_detail.as_ref(),
                "logConfig.includeDetail",
                &["NONE", "FULL"],
            );
            v.one_of(
                l.level.as_ref(),
                "logConfig.level",
                &["OFF", "ERROR", "INFO", "TRACE"],
            );
        }
        tags(&mut v, self.tags.as_ref());
        v.finish()
    }
}

/// UpdateEventBus (`Name` absent: the default bus).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateEventBus {
    pub name: Option<Str>,
    pub kms_key_identifier: Option<Str>,
    pub description: Option<Str>,
    pub dead_letter_config: Option<Obj<DeadLetterConfig>>,
    pub log_config: Option<Obj<LogConfig>>,
}

impl UpdateEventBus {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(self.name.as_ref(), "name", BUS_NAME);
        v.text(self.description.as_ref(), "description", Text::max(512));
        v.text(
            self.kms_key_identifier.as_ref(),
            "kmsKeyIdentifier",
            KMS_KEY,
        );
        if let Some(Obj(d)) = &self.dead_letter_config {
            v.text(d.arn.as_ref(), "deadLetterConfig.arn", ARN);
        }
        if let Some(Obj(l)) = &self.log_config {
            v.one_of(
                l.include_detail.as_ref(),
                "logConfig.includeDetail",
                &["NONE", "FULL"],
            );
            v.one_of(
                l.level.as_ref(),
                "logConfig.level",
                &["OFF", "ERROR", "INFO", "TRACE"],
            );
        }
        v.finish()
    }
}

/// TagResource, UntagResource, ListTagsForResource.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tagging {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<Str>,
    pub tags: Option<List<Obj<Tag>>>,
    pub tag_keys: Option<List<Str>>,
}

impl Tagging {
    /// The checks of `operation`'s own shape: TagResource requires `Tags`,
    /// UntagResource `TagKeys` (the three share this request type).
    pub fn check_for(&self, operation: &str) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        match operation {
            "TagResource" => v.required(self.tags.as_ref(), "tags"),
            "UntagResource" => v.required(self.tag_keys.as_ref(), "tagKeys"),
            _ => {}
        }
        v.finish()?;
        self.check()
    }

    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(
            self.resource_arn.as_ref(),
            "resourceARN",
            Text::len(1, 1600),
        );
        tags(&mut v, self.tags.as_ref());
        for (i, k) in self.tag_keys.iter().flat_map(|l| l.0.iter()).enumerate() {
            v.text(
                Some(k),
                &format!("tagKeys.{}.member", i + 1),
                Text::len(1, 128),
            );
        }
        v.finish()
    }
}

/// DescribeEventBus (`Name` is a name or an ARN; absent, the default bus).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeEventBus {
    pub name: Option<Str>,
}

impl DescribeEventBus {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(self.name.as_ref(), "name", BUS_NAME_OR_ARN);
        v.finish()
    }
}

/// DeleteEventBus (`Name` is a name, required).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteEventBus {
    pub name: Option<Str>,
}

impl DeleteEventBus {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", BUS_NAME);
        v.finish()
    }
}

/// ListEventBuses.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListEventBuses {
    pub name_prefix: Option<Str>,
    pub next_token: Option<Str>,
    pub limit: Option<Int>,
}

impl ListEventBuses {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(self.name_prefix.as_ref(), "namePrefix", BUS_NAME);
        v.text(self.next_token.as_ref(), "nextToken", NEXT_TOKEN);
        limit(&mut v, self.limit);
        v.finish()
    }
}

/// `NonPartnerEventBusName`.
const NON_PARTNER_BUS_NAME: Text = Text::pattern(1, 256, r"[\.\-_A-Za-z0-9]+");
/// `StatementId`.
const STATEMENT_ID: Text = Text::pattern(1, 64, r"[a-zA-Z0-9-_]+");

/// `Condition` of PutPermission.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PermissionCondition {
    #[serde(rename = "Type")]
    pub kind: Option<Str>,
    pub key: Option<Str>,
    pub value: Option<Str>,
}

/// PutPermission.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutPermission {
    pub event_bus_name: Option<Str>,
    pub action: Option<Str>,
    pub principal: Option<Str>,
    pub statement_id: Option<Str>,
    pub condition: Option<Obj<PermissionCondition>>,
    pub policy: Option<Str>,
}

impl PutPermission {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            NON_PARTNER_BUS_NAME,
        );
        v.text(
            self.action.as_ref(),
            "action",
            Text::pattern(1, 64, r"events:[a-zA-Z]+"),
        );
        v.text(
            self.principal.as_ref(),
            "principal",
            Text::pattern(1, 12, r"(\d{12}|\*)"),
        );
        v.text(self.statement_id.as_ref(), "statementId", STATEMENT_ID);
        if let Some(Obj(c)) = &self.condition {
            v.required(c.kind.as_ref(), "condition.type");
            v.required(c.key.as_ref(), "condition.key");
            v.required(c.value.as_ref(), "condition.value");
        }
        v.finish()
    }
}

/// RemovePermission.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RemovePermission {
    pub statement_id: Option<Str>,
    pub remove_all_permissions: Option<Bool>,
    pub event_bus_name: Option<Str>,
}

impl RemovePermission {
    pub fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.text(self.statement_id.as_ref(), "statementId", STATEMENT_ID);
        v.text(
            self.event_bus_name.as_ref(),
            "eventBusName",
            NON_PARTNER_BUS_NAME,
        );
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_event_bus_checks_the_kms_key_pattern() {
        let read = |body| -> UpdateEventBus {
            super::super::wire::read(&body, "SerializationException").unwrap()
        };
        assert!(
            read(json!({"Name": "orders", "KmsKeyIdentifier": "alias/k"}))
                .check()
                .is_ok()
        );
        let e = read(json!({"KmsKeyIdentifier": "a b"}))
            .check()
            .unwrap_err();
        assert_eq!(e.type_name, "ValidationException");
        assert!(
            e.message.contains(
                "Value 'a b' at 'kmsKeyIdentifier' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern"
            ),
            "{}",
            e.message
        );
    }
}
