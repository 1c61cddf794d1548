//! Step Functions requests, one type per operation, read as the AWS JSON
//! 1.0 protocol reads them (camelCase members; wrong types are a
//! `SerializationException`) and checked against botocore's model.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::events::wire::{Bool, Int, List, Map, Obj, Str, Text, Violations, not_scalar};

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
/// ListExecutions' page token (`ListExecutionsPageToken`: 1-3096).
pub(crate) const EXECUTIONS_PAGE_TOKEN: Text = Text::len(1, 3096);
/// `TraceHeader`: 0-256 ASCII characters.
pub(crate) const TRACE_HEADER: Text = Text::pattern(0, 256, r"\p{ASCII}*");
/// `CharacterRestrictedName` (alias names): its pattern, as the model writes it.
const ALIAS_NAME_PATTERN: &str = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";

/// A structure member read as `T` (so a wrong JSON type anywhere in it is a
/// `SerializationException`) and kept as the JSON it came as (the runner
/// stores and reports it as given).
#[derive(Clone, Debug)]
pub(crate) struct Checked<T> {
    /// The member as sent.
    pub value: Value,
    /// The member as the model reads it.
    pub typed: T,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Checked<T>, D::Error> {
        let value = Value::deserialize(d)?;
        let Obj(typed) = Obj::<T>::deserialize(value.clone()).map_err(D::Error::custom)?;
        Ok(Checked { value, typed })
    }
}

/// A `long` member (64 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Long(pub i64);

impl<'de> Deserialize<'de> for Long {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Long, D::Error> {
        let v = Value::deserialize(d)?;
        match v.as_i64() {
            Some(n) => Ok(Long(n)),
            None => Err(D::Error::custom(not_scalar(&v, "a Long"))),
        }
    }
}

/// A `float` member.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Float(pub f64);

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Float, D::Error> {
        let v = Value::deserialize(d)?;
        match v.as_f64() {
            Some(n) => Ok(Float(n)),
            None => Err(D::Error::custom(not_scalar(&v, "a Float"))),
        }
    }
}

/// Checks a `float` member's range.
fn float_range(v: &mut Violations, value: Option<Float>, at: &str, min: f64, max: f64) {
    let Some(Float(n)) = value else { return };
    let shown = format!("{n:?}");
    if n < min {
        v.push(
            Some(&shown),
            at,
            &format!("Member must have value greater than or equal to {min}"),
        );
    }
    if n > max {
        v.push(
            Some(&shown),
            at,
            &format!("Member must have value less than or equal to {max}"),
        );
    }
}

/// Checks an alias name against `CharacterRestrictedName` (1-80; letters,
/// digits, `_`, `-`, `.`, not digits alone). The model's pattern has a
/// lookahead the regex crate does not take, so it is written out here.
pub(crate) fn alias_name(v: &mut Violations, value: Option<&Str>) {
    v.required_text(value, "name", NAME);
    let Some(Str(s)) = value else { return };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    let fits = s.chars().all(allowed) && s.chars().any(|c| !c.is_ascii_digit());
    // An empty name is already refused by its length.
    if fits || s.is_empty() {
        return;
    }
    v.push(
        Some(s),
        "name",
        &format!("Member must satisfy regular expression pattern: {ALIAS_NAME_PATTERN}"),
    );
}

/// `loggingConfiguration`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Logging {
    pub level: Option<Str>,
    #[allow(dead_code)] // Read for its JSON type only.
    pub include_execution_data: Option<Bool>,
    pub destinations: Option<List<Obj<LogDestination>>>,
}

/// A log destination.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogDestination {
    pub cloud_watch_logs_log_group: Option<Obj<LogGroup>>,
}

/// A CloudWatch Logs log group.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogGroup {
    pub log_group_arn: Option<Str>,
}

/// `tracingConfiguration`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Tracing {
    #[allow(dead_code)] // Read for its JSON type only.
    pub enabled: Option<Bool>,
}

/// `encryptionConfiguration`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Encryption {
    pub kms_key_id: Option<Str>,
    pub kms_data_key_reuse_period_seconds: Option<Int>,
    #[serde(rename = "type")]
    pub encryption_type: Option<Str>,
}

/// Checks the configuration members CreateStateMachine and
/// UpdateStateMachine share.
pub(crate) fn check_configuration(
    v: &mut Violations,
    logging: Option<&Checked<Logging>>,
    encryption: Option<&Obj<Encryption>>,
) {
    if let Some(Checked { typed: l, .. }) = logging {
        v.one_of(
            l.level.as_ref(),
            "loggingConfiguration.level",
            &["ALL", "ERROR", "FATAL", "OFF"],
        );
        for (i, Obj(d)) in l.destinations.iter().flat_map(|d| d.0.iter()).enumerate() {
            if let Some(Obj(g)) = &d.cloud_watch_logs_log_group {
                v.text(
                    g.log_group_arn.as_ref(),
                    &format!(
                        "loggingConfiguration.destinations.{}.member.cloudWatchLogsLogGroup.logGroupArn",
                        i + 1
                    ),
                    ARN,
                );
            }
        }
    }
    if let Some(Obj(e)) = encryption {
        check_encryption(v, e);
    }
}

/// Checks `encryptionConfiguration`.
pub(crate) fn check_encryption(v: &mut Violations, e: &Encryption) {
    v.text(
        e.kms_key_id.as_ref(),
        "encryptionConfiguration.kmsKeyId",
        Text::len(1, 2048),
    );
    v.range(
        e.kms_data_key_reuse_period_seconds,
        "encryptionConfiguration.kmsDataKeyReusePeriodSeconds",
        Some(60),
        Some(900),
    );
    v.required(e.encryption_type.as_ref(), "encryptionConfiguration.type");
    v.one_of(
        e.encryption_type.as_ref(),
        "encryptionConfiguration.type",
        &["AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"],
    );
}

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
    pub logging_configuration: Option<Checked<Logging>>,
    pub tracing_configuration: Option<Checked<Tracing>>,
    pub tags: Option<List<Obj<Tag>>>,
    pub publish: Option<Bool>,
    pub version_description: Option<Str>,
    pub encryption_configuration: Option<Obj<Encryption>>,
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
        check_configuration(
            &mut v,
            self.logging_configuration.as_ref(),
            self.encryption_configuration.as_ref(),
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
    pub logging_configuration: Option<Checked<Logging>>,
    pub tracing_configuration: Option<Checked<Tracing>>,
    pub publish: Option<Bool>,
    pub version_description: Option<Str>,
    pub encryption_configuration: Option<Obj<Encryption>>,
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
        let rule = if name == "stateMachineVersionArn" {
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
    /// Checks the members, the page token against `token`.
    pub(crate) fn check(&self, v: &mut Violations, token: Text) {
        v.range(self.max_results, "maxResults", Some(0), Some(1000));
        v.text(self.next_token.as_ref(), "nextToken", token);
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
        v.text(self.trace_header.as_ref(), "traceHeader", TRACE_HEADER);
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
    pub encryption_configuration: Option<Obj<Encryption>>,
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

/// `DescribeMapRun`, `UpdateMapRun`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MapRun {
    pub map_run_arn: Option<Str>,
    pub max_concurrency: Option<Int>,
    pub tolerated_failure_percentage: Option<Float>,
    pub tolerated_failure_count: Option<Long>,
}

impl MapRun {
    pub(crate) fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.map_run_arn.as_ref(), "mapRunArn", LONG_ARN);
        v.range(self.max_concurrency, "maxConcurrency", Some(0), None);
        float_range(
            &mut v,
            self.tolerated_failure_percentage,
            "toleratedFailurePercentage",
            0.0,
            100.0,
        );
        v.range(
            self.tolerated_failure_count.map(|Long(n)| Int(n)),
            "toleratedFailureCount",
            Some(0),
            None,
        );
        v.finish()
    }
}

/// `ListMapRuns`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMapRuns {
    pub execution_arn: Option<Str>,
    #[serde(flatten)]
    pub page: Page,
}

/// `RedriveExecution`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Redrive {
    pub execution_arn: Option<Str>,
    pub client_token: Option<Str>,
}

impl Redrive {
    pub(crate) fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.execution_arn.as_ref(), "executionArn", ARN);
        v.text(
            self.client_token.as_ref(),
            "clientToken",
            Text::pattern(1, 64, "[!-~]+"),
        );
        v.finish()
    }
}

/// `TestState`'s mocked task result.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Mock {
    pub result: Option<Str>,
    pub error_output: Option<Obj<MockError>>,
    pub field_validation_mode: Option<Str>,
}

/// `TestState`'s mocked error.
#[derive(Debug, Deserialize)]
pub(crate) struct MockError {
    pub error: Option<Str>,
    pub cause: Option<Str>,
}

/// `TestState`'s state configuration.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestStateConfiguration {
    pub retrier_retry_count: Option<Int>,
    pub error_caused_by_state: Option<Str>,
    pub map_iteration_failure_count: Option<Int>,
    pub map_item_reader_data: Option<Str>,
}

/// `TestState`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestState {
    pub definition: Option<Str>,
    pub role_arn: Option<Str>,
    pub input: Option<Str>,
    pub inspection_level: Option<Str>,
    #[allow(dead_code)] // Read for its JSON type only.
    pub reveal_secrets: Option<Bool>,
    pub variables: Option<Str>,
    pub state_name: Option<Str>,
    pub mock: Option<Obj<Mock>>,
    pub context: Option<Str>,
    pub state_configuration: Option<Obj<TestStateConfiguration>>,
}

impl TestState {
    pub(crate) fn check(&self) -> Result<(), crate::ApiError> {
        let mut v = Violations::default();
        v.required_text(self.definition.as_ref(), "definition", DEFINITION);
        v.text(self.role_arn.as_ref(), "roleArn", ARN);
        v.text(self.input.as_ref(), "input", DATA);
        v.one_of(
            self.inspection_level.as_ref(),
            "inspectionLevel",
            &["INFO", "DEBUG", "TRACE"],
        );
        v.text(self.variables.as_ref(), "variables", DATA);
        v.text(self.state_name.as_ref(), "stateName", NAME);
        v.text(self.context.as_ref(), "context", DATA);
        if let Some(Obj(m)) = &self.mock {
            v.text(m.result.as_ref(), "mock.result", DATA);
            if let Some(Obj(e)) = &m.error_output {
                v.text(e.error.as_ref(), "mock.errorOutput.error", ERROR);
                v.text(e.cause.as_ref(), "mock.errorOutput.cause", CAUSE);
            }
            v.one_of(
                m.field_validation_mode.as_ref(),
                "mock.fieldValidationMode",
                &["STRICT", "PRESENT", "NONE"],
            );
        }
        if let Some(Obj(c)) = &self.state_configuration {
            v.range(
                c.retrier_retry_count,
                "stateConfiguration.retrierRetryCount",
                Some(0),
                None,
            );
            v.text(
                c.error_caused_by_state.as_ref(),
                "stateConfiguration.errorCausedByState",
                NAME,
            );
            v.range(
                c.map_iteration_failure_count,
                "stateConfiguration.mapIterationFailureCount",
                Some(0),
                None,
            );
            v.text(
                c.map_item_reader_data.as_ref(),
                "stateConfiguration.mapItemReaderData",
                DATA,
            );
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::wire::read;
    use serde_json::json;

    fn refused(op: &str, body: Value) -> (String, String) {
        let e = match op {
            "create" => read::<CreateStateMachine>(&body, SERIALIZATION).and_then(|r| r.check()),
            "test" => read::<TestState>(&body, SERIALIZATION).and_then(|r| r.check()),
            "map" => read::<MapRun>(&body, SERIALIZATION).and_then(|r| r.check()),
            _ => read::<StartExecution>(&body, SERIALIZATION).and_then(|r| r.check()),
        }
        .expect_err("refused");
        (e.type_name.to_string(), e.message)
    }

    #[test]
    fn configurations_are_read_by_their_types_and_kept_as_sent() {
        let base = json!({"name": "m", "definition": "{}", "roleArn": "arn:aws:iam::1:role/r"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        for (k, v) in [
            ("loggingConfiguration", json!("OFF")),
            ("loggingConfiguration", json!({"level": 1})),
            (
                "loggingConfiguration",
                json!({"destinations": [{"cloudWatchLogsLogGroup": []}]}),
            ),
            ("tracingConfiguration", json!({"enabled": "yes"})),
            (
                "encryptionConfiguration",
                json!({"type": ["AWS_OWNED_KEY"]}),
            ),
        ] {
            assert_eq!(
                refused("create", with(k, v.clone())).0,
                SERIALIZATION,
                "{k} {v}"
            );
        }
        let (t, m) = refused(
            "create",
            with("loggingConfiguration", json!({"level": "LOUD"})),
        );
        assert_eq!(t, "ValidationException");
        assert!(m.contains("at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]"), "{m}");
        let (_, m) = refused(
            "create",
            with("encryptionConfiguration", json!({"kmsKeyId": ""})),
        );
        assert!(m.starts_with("2 validation errors detected"), "{m}");
        let logging = json!({"level": "ERROR", "includeExecutionData": true, "extra": 1});
        let r: CreateStateMachine = read(
            &with("loggingConfiguration", logging.clone()),
            SERIALIZATION,
        )
        .unwrap();
        r.check().unwrap();
        assert_eq!(r.logging_configuration.unwrap().value, logging);
    }

    #[test]
    fn alias_names_follow_the_models_pattern() {
        for good in ["prod", "v-1", "_", "1.5", "a1"] {
            let mut v = Violations::default();
            alias_name(&mut v, Some(&Str(good.into())));
            assert!(v.finish().is_ok(), "{good}");
        }
        for bad in ["123", "a b", "ü", "live!", "a:b", ""] {
            let mut v = Violations::default();
            alias_name(&mut v, Some(&Str(bad.into())));
            let m = v.finish().expect_err(bad).message;
            assert!(m.contains("at 'name'"), "{m}");
        }
    }

    #[test]
    fn trace_headers_are_ascii_and_map_runs_are_checked() {
        let (t, m) = refused("start", json!({"stateMachineArn": "a", "traceHeader": "ü"}));
        assert_eq!(t, "ValidationException");
        assert!(
            m.contains(r"Member must satisfy regular expression pattern: \p{ASCII}*"),
            "{m}"
        );
        read::<StartExecution>(
            &json!({"stateMachineArn": "a", "traceHeader": "Root=1-a"}),
            SERIALIZATION,
        )
        .unwrap()
        .check()
        .unwrap();
        let (t, m) = refused(
            "map",
            json!({"mapRunArn": "a", "toleratedFailurePercentage": 100.5}),
        );
        assert_eq!(t, "ValidationException");
        assert!(
            m.contains("Value '100.5' at 'toleratedFailurePercentage'"),
            "{m}"
        );
        assert_eq!(
            refused(
                "map",
                json!({"mapRunArn": "a", "toleratedFailureCount": "1"})
            )
            .0,
            SERIALIZATION
        );
        assert_eq!(
            refused(
                "test",
                json!({"definition": "{}", "mock": {"errorOutput": 1}})
            )
            .0,
            SERIALIZATION
        );
        let (_, m) = refused(
            "test",
            json!({"definition": "{}", "stateConfiguration": {"retrierRetryCount": -1}}),
        );
        assert!(
            m.contains("at 'stateConfiguration.retrierRetryCount'"),
            "{m}"
        );
    }
}
