//! Step Functions' AWS JSON 1.0 protocol (`X-Amz-Target:
//! AWSStepFunctions.<Op>`, signing name `states`) over ferrule's states
//! runner ([`ferrule_runner`]), as boto3's `stepfunctions` client and the
//! aws CLI speak it.
//!
//! Operations that only concern Distributed Map runs and redrives
//! (`DescribeMapRun`, `ListMapRuns`, `UpdateMapRun`, `RedriveExecution`)
//! are refused with a message that says so, not answered emptily.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use serde_json::Value;

mod request;
mod response;

use self::request::{self as rq};
pub(crate) use self::response::seconds;
use self::response::{self as rs};
use super::events::wire::{self, Str, Violations};
use super::{ApiError, AppState, Call, Protocol, Route, Service, ServiceId, ServiceInfo};
use ferrule_runner::{
    CreateMachine, MachineType, Runner, RunnerError, RunnerErrorKind, StartRequest, UpdateMachine,
};

/// GetActivityTask's long poll, as the service holds it.
const ACTIVITY_POLL: Duration = Duration::from_secs(60);
/// StartSyncExecution's limit (an EXPRESS execution's longest run).
const SYNC_LIMIT: Duration = Duration::from_secs(300);
/// Items per page when `maxResults` is absent or 0.
const DEFAULT_PAGE: usize = 100;

/// The operations served.
const OPERATIONS: &[&str] = &[
    "CreateActivity",
    "CreateStateMachine",
    "CreateStateMachineAlias",
    "DeleteActivity",
    "DeleteStateMachine",
    "DeleteStateMachineAlias",
    "DeleteStateMachineVersion",
    "DescribeActivity",
    "DescribeExecution",
    "DescribeMapRun",
    "DescribeStateMachine",
    "DescribeStateMachineAlias",
    "DescribeStateMachineForExecution",
    "GetActivityTask",
    "GetExecutionHistory",
    "ListActivities",
    "ListExecutions",
    "ListMapRuns",
    "ListStateMachineAliases",
    "ListStateMachineVersions",
    "ListStateMachines",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "RedriveExecution",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "SendTaskSuccess",
    "StartExecution",
    "StartSyncExecution",
    "StopExecution",
    "TagResource",
    "TestState",
    "UntagResource",
    "UpdateMapRun",
    "UpdateStateMachine",
    "UpdateStateMachineAlias",
    "ValidateStateMachineDefinition",
];

/// The Step Functions service.
pub(crate) struct StepFunctions;

impl Service for StepFunctions {
    const INFO: ServiceInfo = ServiceInfo {
        id: ServiceId::States,
        route: Route::Target("AWSStepFunctions"),
        signing_name: "states",
        protocol: Protocol::AwsJson10,
        operations: OPERATIONS,
        unknown_operation: |operation| {
            ApiError::new(
                400,
                "UnknownOperationException",
                format!("ferrule does not serve the Step Functions operation {operation:?}."),
            )
        },
    };

    async fn call(state: Arc<AppState>, call: Call) -> Result<Response, ApiError> {
        super::access::authorize_request(
            &state,
            &call.caller,
            "AWSStepFunctions",
            &call.operation,
            &call.input,
        )?;
        let runner = Arc::clone(&state.runner);
        let operation = call.operation.clone();
        let input = call.input;
        // Every operation may touch the store (or wait, for GetActivityTask
        // and StartSyncExecution): off the async threads.
        super::off_runtime(
            move || handle(&runner, &operation, &input),
            |m| ApiError::new(500, "InternalFailure", m),
        )
        .await
    }
}

impl From<RunnerError> for ApiError {
    fn from(e: RunnerError) -> ApiError {
        let status = if e.kind() == RunnerErrorKind::Internal {
            500
        } else {
            400
        };
        ApiError::new(status, e.kind().type_name(), e.message())
    }
}

fn read<T: serde::de::DeserializeOwned>(input: &Value) -> Result<T, ApiError> {
    wire::read(input, rq::SERIALIZATION)
}

fn reply<T: serde::Serialize>(r: Result<T, ApiError>) -> Result<Response, ApiError> {
    Protocol::AwsJson10.reply(&r?)
}

fn text(s: &Option<Str>) -> Option<&str> {
    s.as_ref().map(|s| s.0.as_str())
}

/// One required string member.
fn required<'a>(value: &'a Option<Str>, name: &str, rule: wire::Text) -> Result<&'a str, ApiError> {
    let mut v = Violations::default();
    v.required_text(value.as_ref(), name, rule);
    v.finish()?;
    Ok(text(value).unwrap_or_default())
}

/// A page of `items` after `next_token` (`ferrule:N`), at most `max`.
fn page<T>(items: Vec<T>, p: &rq::Page) -> Result<(Vec<T>, Option<String>), ApiError> {
    let mut v = Violations::default();
    p.check(&mut v, rq::PAGE_TOKEN);
    v.finish()?;
    page_after(items, p)
}

/// [`page`] of a request whose members are already checked.
fn page_after<T>(items: Vec<T>, p: &rq::Page) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match text(&p.next_token) {
        None => 0,
        Some(t) => t
            .strip_prefix("ferrule:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::new(400, "InvalidToken", "Invalid Token: 'Invalid token'"))?,
    };
    let max = match p.max_results {
        Some(wire::Int(n)) if n > 0 => n as usize,
        _ => DEFAULT_PAGE,
    };
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + out.len() < total).then(|| format!("ferrule:{}", start + out.len()));
    Ok((out, next))
}

fn unsupported(operation: &str, why: &str) -> ApiError {
    ApiError::new(
        400,
        "ValidationException",
        format!("ferrule does not support {operation}: {why}"),
    )
}

fn tags_of(
    list: Option<&wire::List<wire::Obj<rq::Tag>>>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut v = Violations::default();
    let tags = rq::tags(list, &mut v);
    v.finish()?;
    Ok(tags.0.into_iter().map(|(k, Str(v))| (k, v)).collect())
}

/// Answers one operation.
fn handle(runner: &Runner, operation: &str, input: &Value) -> Result<Response, ApiError> {
    match operation {
        "CreateStateMachine" => reply(create_state_machine(runner, read(input)?)),
        "DescribeStateMachine" => {
            let r: rq::ByArn = read(input)?;
            let arn = r.required("stateMachineArn")?;
            reply(Ok(rs::DescribeStateMachine::of(
                runner.describe_state_machine(arn)?,
                false,
            )))
        }
        "UpdateStateMachine" => reply(update_state_machine(runner, read(input)?)),
        "DeleteStateMachine" => {
            let r: rq::ByArn = read(input)?;
            runner.delete_state_machine(r.required("stateMachineArn")?)?;
            reply(Ok(rs::Empty {}))
        }
        "ListStateMachines" => {
            let p: rq::Page = read(input)?;
            let items: Vec<rs::StateMachineItem> = runner
                .list_state_machines()
                .iter()
                .map(Into::into)
                .collect();
            let (state_machines, next_token) = page(items, &p)?;
            reply(Ok(rs::ListStateMachines {
                state_machines,
                next_token,
            }))
        }
        "ValidateStateMachineDefinition" => {
            let r: rq::ValidateDefinition = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.definition.as_ref(), "definition", rq::DEFINITION);
            v.one_of(r.machine_type.as_ref(), "type", &["STANDARD", "EXPRESS"]);
            v.one_of(r.severity.as_ref(), "severity", &["ERROR", "WARNING"]);
            v.range(r.max_results, "maxResults", Some(0), Some(100));
            v.finish()?;
            let mut diagnostics =
                runner.validate_definition(text(&r.definition).unwrap_or_default());
            let max = match r.max_results {
                Some(wire::Int(n)) if n > 0 => n as usize,
                _ => 100,
            };
            let truncated = diagnostics.len() > max;
            diagnostics.truncate(max);
            reply(Ok(rs::Validate {
                result: if diagnostics.is_empty() { "OK" } else { "FAIL" },
                diagnostics,
                truncated,
            }))
        }
        "StartExecution" => {
            let r: rq::StartExecution = read(input)?;
            r.check()?;
            let started = runner.start_execution(start_request(&r))?;
            reply(Ok(rs::StartExecution {
                execution_arn: started.execution_arn,
                start_date: seconds(started.start_ms),
            }))
        }
        "StartSyncExecution" => {
            let r: rq::StartExecution = read(input)?;
            r.check()?;
            let mut out = runner.start_sync_execution(start_request(&r), SYNC_LIMIT)?;
            if let Some(m) = out.as_object_mut() {
                if text(&r.included_data) == Some("METADATA_ONLY") {
                    for k in ["input", "inputDetails", "output", "outputDetails"] {
                        m.remove(k);
                    }
                }
                m.remove("redriveCount");
                m.remove("stateMachineVersionArn");
                m.remove("stateMachineAliasArn");
                m.insert(
                    "billingDetails".into(),
                    serde_json::json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}),
                );
            }
            reply(Ok(out))
        }
        "DescribeExecution" => {
            let r: rq::ByArn = read(input)?;
            reply(Ok(runner.describe_execution(r.required("executionArn")?)?))
        }
        "DescribeStateMachineForExecution" => {
            let r: rq::ByArn = read(input)?;
            let view = runner.describe_state_machine_for_execution(r.required("executionArn")?)?;
            let mut d = rs::DescribeStateMachine::of(view, true);
            d.description = None;
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                // This operation's output has no status, type or creation date.
                for k in ["status", "type", "creationDate"] {
                    m.remove(k);
                }
            }
            reply(Ok(v))
        }
        "ListExecutions" => {
            let r: rq::ListExecutions = read(input)?;
            let mut v = Violations::default();
            v.text(r.map_run_arn.as_ref(), "mapRunArn", rq::LONG_ARN);
            r.page.check(&mut v, rq::EXECUTIONS_PAGE_TOKEN);
            if r.map_run_arn.is_some() {
                v.finish()?;
                return Err(unsupported(
                    "ListExecutions with mapRunArn",
                    "Distributed Map runs are not recorded; Map states run inline.",
                ));
            }
            v.required_text(r.state_machine_arn.as_ref(), "stateMachineArn", rq::ARN);
            v.one_of(
                r.status_filter.as_ref(),
                "statusFilter",
                &[
                    "RUNNING",
                    "SUCCEEDED",
                    "FAILED",
                    "TIMED_OUT",
                    "ABORTED",
                    "PENDING_REDRIVE",
                ],
            );
            v.one_of(
                r.redrive_filter.as_ref(),
                "redriveFilter",
                &["REDRIVEN", "NOT_REDRIVEN"],
            );
            v.finish()?;
            let mut items = runner.list_executions(
                text(&r.state_machine_arn).unwrap_or_default(),
                text(&r.status_filter),
            )?;
            // Nothing is ever redriven here.
            if text(&r.redrive_filter) == Some("REDRIVEN") {
                items.clear();
            }
            let (executions, next_token) = page_after(items, &r.page)?;
            reply(Ok(rs::ListExecutions {
                executions,
                next_token,
            }))
        }
        "GetExecutionHistory" => {
            let r: rq::GetExecutionHistory = read(input)?;
            let arn = required(&r.execution_arn, "executionArn", rq::ARN)?;
            let mut events = runner.execution_history(arn)?;
            if r.include_execution_data.is_some_and(|b| !b.0) {
                for e in &mut events {
                    strip_data(e);
                }
            }
            if r.reverse_order.is_some_and(|b| b.0) {
                events.reverse();
            }
            let (events, next_token) = page(events, &r.page)?;
            reply(Ok(rs::History { events, next_token }))
        }
        "StopExecution" => {
            let r: rq::StopExecution = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.execution_arn.as_ref(), "executionArn", rq::ARN);
            v.text(r.error.as_ref(), "error", rq::ERROR);
            v.text(r.cause.as_ref(), "cause", rq::CAUSE);
            v.finish()?;
            let stop = runner.stop_execution(
                text(&r.execution_arn).unwrap_or_default(),
                text(&r.error),
                text(&r.cause),
            )?;
            reply(Ok(rs::StopExecution {
                stop_date: seconds(stop),
            }))
        }
        "SendTaskSuccess" => {
            let r: rq::TaskCall = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.task_token.as_ref(), "taskToken", rq::TOKEN);
            v.required_text(r.output.as_ref(), "output", rq::DATA);
            v.finish()?;
            runner.send_task_success(
                text(&r.task_token).unwrap_or_default(),
                text(&r.output).unwrap_or_default(),
            )?;
            reply(Ok(rs::Empty {}))
        }
        "SendTaskFailure" => {
            let r: rq::TaskCall = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.task_token.as_ref(), "taskToken", rq::TOKEN);
            v.text(r.error.as_ref(), "error", rq::ERROR);
            v.text(r.cause.as_ref(), "cause", rq::CAUSE);
            v.finish()?;
            runner.send_task_failure(
                text(&r.task_token).unwrap_or_default(),
                text(&r.error).unwrap_or_default(),
                text(&r.cause).unwrap_or_default(),
            )?;
            reply(Ok(rs::Empty {}))
        }
        "SendTaskHeartbeat" => {
            let r: rq::TaskCall = read(input)?;
            runner.send_task_heartbeat(required(&r.task_token, "taskToken", rq::TOKEN)?)?;
            reply(Ok(rs::Empty {}))
        }
        "CreateActivity" => {
            let r: rq::CreateActivity = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.name.as_ref(), "name", rq::NAME);
            if let Some(wire::Obj(e)) = &r.encryption_configuration {
                rq::check_encryption(&mut v, e);
            }
            v.finish()?;
            let name = text(&r.name).unwrap_or_default();
            if r.encryption_configuration.is_some() {
                return Err(unsupported(
                    "encryptionConfiguration",
                    "ferrule's store does not encrypt with KMS keys.",
                ));
            }
            let a = runner.create_activity(name, tags_of(r.tags.as_ref())?)?;
            reply(Ok(rs::CreateActivity {
                activity_arn: a.arn,
                creation_date: seconds(a.created_ms),
            }))
        }
        "DescribeActivity" => {
            let r: rq::ByArn = read(input)?;
            let a = runner.describe_activity(r.required("activityArn")?)?;
            reply(Ok(rs::Activity::from(&a)))
        }
        "DeleteActivity" => {
            let r: rq::ByArn = read(input)?;
            runner.delete_activity(r.required("activityArn")?)?;
            reply(Ok(rs::Empty {}))
        }
        "ListActivities" => {
            let p: rq::Page = read(input)?;
            let items: Vec<rs::Activity> =
                runner.list_activities().iter().map(Into::into).collect();
            let (activities, next_token) = page(items, &p)?;
            reply(Ok(rs::ListActivities {
                activities,
                next_token,
            }))
        }
        "GetActivityTask" => {
            let r: rq::GetActivityTask = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.activity_arn.as_ref(), "activityArn", rq::ARN);
            v.text(r.worker_name.as_ref(), "workerName", rq::NAME);
            v.finish()?;
            let task = runner.get_activity_task(
                text(&r.activity_arn).unwrap_or_default(),
                text(&r.worker_name),
                ACTIVITY_POLL,
            )?;
            let (task_token, input) = task.map_or((None, None), |(t, i)| (Some(t), Some(i)));
            reply(Ok(rs::ActivityTask { task_token, input }))
        }
        "PublishStateMachineVersion" => {
            let r: rq::PublishVersion = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.state_machine_arn.as_ref(), "stateMachineArn", rq::ARN);
            v.text(r.description.as_ref(), "description", rq::DESCRIPTION);
            v.finish()?;
            let ver = runner.publish_version(
                text(&r.state_machine_arn).unwrap_or_default(),
                text(&r.revision_id),
                text(&r.description).map(str::to_string),
            )?;
            reply(Ok(rs::Version::from(&ver)))
        }
        "ListStateMachineVersions" => {
            let r: rq::ListOfMachine = read(input)?;
            let arn = required(&r.state_machine_arn, "stateMachineArn", rq::ARN)?;
            let items: Vec<rs::Version> =
                runner.list_versions(arn)?.iter().map(Into::into).collect();
            let (state_machine_versions, next_token) = page(items, &r.page)?;
            reply(Ok(rs::ListVersions {
                state_machine_versions,
                next_token,
            }))
        }
        "DeleteStateMachineVersion" => {
            let r: rq::ByArn = read(input)?;
            runner.delete_version(r.required("stateMachineVersionArn")?)?;
            reply(Ok(rs::Empty {}))
        }
        "CreateStateMachineAlias" => {
            let r: rq::AliasRequest = read(input)?;
            let mut v = Violations::default();
            rq::alias_name(&mut v, r.name.as_ref());
            v.text(r.description.as_ref(), "description", rq::DESCRIPTION);
            v.required(r.routing_configuration.as_ref(), "routingConfiguration");
            v.finish()?;
            let a = runner.create_alias(
                text(&r.name).unwrap_or_default(),
                text(&r.description).map(str::to_string),
                routing(&r)?.unwrap_or_default(),
            )?;
            reply(Ok(rs::AliasItem {
                state_machine_alias_arn: a.arn,
                creation_date: seconds(a.created_ms),
            }))
        }
        "DescribeStateMachineAlias" => {
            let r: rq::ByArn = read(input)?;
            let a = runner.describe_alias(r.required("stateMachineAliasArn")?)?;
            reply(Ok(rs::DescribeAlias::from(a)))
        }
        "UpdateStateMachineAlias" => {
            let r: rq::AliasRequest = read(input)?;
            let mut v = Violations::default();
            v.required_text(
                r.state_machine_alias_arn.as_ref(),
                "stateMachineAliasArn",
                rq::ARN,
            );
            v.text(r.description.as_ref(), "description", rq::DESCRIPTION);
            v.finish()?;
            let arn = text(&r.state_machine_alias_arn).unwrap_or_default();
            let t =
                runner.update_alias(arn, text(&r.description).map(str::to_string), routing(&r)?)?;
            reply(Ok(rs::UpdateAlias {
                update_date: seconds(t),
            }))
        }
        "DeleteStateMachineAlias" => {
            let r: rq::ByArn = read(input)?;
            runner.delete_alias(r.required("stateMachineAliasArn")?)?;
            reply(Ok(rs::Empty {}))
        }
        "ListStateMachineAliases" => {
            let r: rq::ListOfMachine = read(input)?;
            let arn = required(&r.state_machine_arn, "stateMachineArn", rq::ARN)?;
            let items: Vec<rs::AliasItem> = runner
                .list_aliases(arn)?
                .into_iter()
                .map(|a| rs::AliasItem {
                    state_machine_alias_arn: a.arn,
                    creation_date: seconds(a.created_ms),
                })
                .collect();
            let (state_machine_aliases, next_token) = page(items, &r.page)?;
            reply(Ok(rs::ListAliases {
                state_machine_aliases,
                next_token,
            }))
        }
        "TagResource" => {
            let r: rq::Tagging = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.resource_arn.as_ref(), "resourceArn", rq::ARN);
            v.required(r.tags.as_ref(), "tags");
            v.finish()?;
            let arn = text(&r.resource_arn).unwrap_or_default();
            let tags = tags_of(r.tags.as_ref())?;
            runner.tag_resource(arn, tags)?;
            reply(Ok(rs::Empty {}))
        }
        "UntagResource" => {
            let r: rq::Tagging = read(input)?;
            let mut v = Violations::default();
            v.required_text(r.resource_arn.as_ref(), "resourceArn", rq::ARN);
            v.required(r.tag_keys.as_ref(), "tagKeys");
            for (i, k) in r.tag_keys.iter().flat_map(|l| l.0.iter()).enumerate() {
                v.text(
                    Some(k),
                    &format!("tagKeys.{}.member", i + 1),
                    wire::Text::len(1, 128),
                );
            }
            v.finish()?;
            let arn = text(&r.resource_arn).unwrap_or_default();
            let keys: Vec<String> = r
                .tag_keys
                .as_ref()
                .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
                .unwrap_or_default();
            runner.untag_resource(arn, &keys)?;
            reply(Ok(rs::Empty {}))
        }
        "ListTagsForResource" => {
            let r: rq::ByArn = read(input)?;
            let tags = runner
                .list_tags(r.required("resourceArn")?)?
                .into_iter()
                .map(|(key, value)| rs::Tag { key, value })
                .collect();
            reply(Ok(rs::ListTags { tags }))
        }
        // The operations ferrule does not run still read and check their
        // input first: a malformed request gets the error AWS gives it.
        "TestState" => reply(test_state(runner, read(input)?)),
        "DescribeMapRun" | "ListMapRuns" | "UpdateMapRun" => {
            if operation == "ListMapRuns" {
                let r: rq::ListMapRuns = read(input)?;
                let mut v = Violations::default();
                v.required_text(r.execution_arn.as_ref(), "executionArn", rq::ARN);
                r.page.check(&mut v, rq::PAGE_TOKEN);
                v.finish()?;
            } else {
                read::<rq::MapRun>(input)?.check()?;
            }
            Err(unsupported(
                operation,
                "Distributed Map runs are not recorded; Map states run inline.",
            ))
        }
        "RedriveExecution" => {
            read::<rq::Redrive>(input)?.check()?;
            Err(unsupported(operation, "executions cannot be redriven yet."))
        }
        other => Err((StepFunctions::INFO.unknown_operation)(other)),
    }
}

/// TestState: one state, with the runner's integrations (or a mock).
fn test_state(runner: &Runner, r: rq::TestState) -> Result<Value, ApiError> {
    use ferrule_states::test_state::{InspectionLevel, Mock, TestStateRequest};
    r.check()?;
    // What the interpreter cannot honour is refused, not ignored.
    if r.context.is_some() {
        return Err(unsupported(
            "TestState context",
            "the context object is built from the request's state and role only.",
        ));
    }
    let mut retries = 0;
    if let Some(wire::Obj(c)) = &r.state_configuration {
        if c.error_caused_by_state.is_some()
            || c.map_iteration_failure_count.is_some()
            || c.map_item_reader_data.is_some()
        {
            return Err(unsupported(
                "TestState stateConfiguration",
                "only retrierRetryCount is supported.",
            ));
        }
        retries = c
            .retrier_retry_count
            .map_or(0, |wire::Int(n)| n.max(0) as u64);
    }
    let mock = match &r.mock {
        None => None,
        Some(wire::Obj(m)) => {
            if matches!(text(&m.field_validation_mode), Some("STRICT" | "PRESENT")) {
                return Err(unsupported(
                    "TestState mock.fieldValidationMode STRICT or PRESENT",
                    "mocks are not checked against the service's response shapes; use NONE.",
                ));
            }
            match (&m.result, &m.error_output) {
                (Some(res), None) => Some(Mock::Result(res.0.clone())),
                (None, Some(wire::Obj(e))) => Some(Mock::Error {
                    error: text(&e.error).unwrap_or_default().to_string(),
                    cause: text(&e.cause).unwrap_or_default().to_string(),
                }),
                _ => {
                    return Err(ApiError::new(
                        400,
                        "ValidationException",
                        "A mock has exactly one of result and errorOutput.",
                    ));
                }
            }
        }
    };
    let request = TestStateRequest {
        definition: text(&r.definition).unwrap_or_default(),
        state_name: text(&r.state_name),
        input: text(&r.input),
        variables: text(&r.variables),
        inspection_level: text(&r.inspection_level)
            .and_then(InspectionLevel::parse)
            .unwrap_or_default(),
        role_arn: text(&r.role_arn),
        mock,
        retrier_retry_count: retries,
        region: runner.region(),
    };
    Ok(runner.test_state(&request)?)
}

fn start_request(r: &rq::StartExecution) -> StartRequest {
    let mut s = StartRequest::new(
        text(&r.state_machine_arn).unwrap_or_default(),
        text(&r.input),
    );
    if let Some(n) = text(&r.name) {
        s = s.named(n);
    }
    s
}

fn routing(r: &rq::AliasRequest) -> Result<Option<Vec<(String, u32)>>, ApiError> {
    let Some(list) = &r.routing_configuration else {
        return Ok(None);
    };
    let mut v = Violations::default();
    let mut out = Vec::new();
    for (i, wire::Obj(route)) in list.0.iter().enumerate() {
        let at = format!("routingConfiguration.{}.member", i + 1);
        v.required_text(
            route.state_machine_version_arn.as_ref(),
            &format!("{at}.stateMachineVersionArn"),
            rq::ARN,
        );
        v.required(route.weight.as_ref(), &format!("{at}.weight"));
        v.range(route.weight, &format!("{at}.weight"), Some(0), Some(100));
        if let (Some(a), Some(wire::Int(w))) = (&route.state_machine_version_arn, route.weight) {
            out.push((a.0.clone(), u32::try_from(w).unwrap_or(0)));
        }
    }
    v.count(Some(list.0.len()), "[...]", "routingConfiguration", 1, 2);
    v.finish()?;
    Ok(Some(out))
}

fn create_state_machine(
    runner: &Runner,
    r: rq::CreateStateMachine,
) -> Result<rs::CreateStateMachine, ApiError> {
    r.check()?;
    if r.encryption_configuration.is_some() {
        return Err(unsupported(
            "encryptionConfiguration",
            "ferrule's store does not encrypt with KMS keys.",
        ));
    }
    let machine_type = match text(&r.machine_type) {
        Some("EXPRESS") => MachineType::Express,
        _ => MachineType::Standard,
    };
    let (record, version) = runner.create_state_machine(CreateMachine {
        name: text(&r.name).unwrap_or_default().to_string(),
        definition: text(&r.definition).unwrap_or_default().to_string(),
        role_arn: text(&r.role_arn).unwrap_or_default().to_string(),
        machine_type,
        logging: r.logging_configuration.as_ref().map(|c| c.value.clone()),
        tracing: r.tracing_configuration.as_ref().map(|c| c.value.clone()),
        tags: tags_of(r.tags.as_ref())?,
        publish: r.publish.is_some_and(|b| b.0),
        version_description: text(&r.version_description).map(str::to_string),
    })?;
    Ok(rs::CreateStateMachine {
        state_machine_arn: record.arn,
        creation_date: seconds(record.created_ms),
        state_machine_version_arn: version,
    })
}

fn update_state_machine(
    runner: &Runner,
    r: rq::UpdateStateMachine,
) -> Result<rs::UpdateStateMachine, ApiError> {
    let mut v = Violations::default();
    v.required_text(r.state_machine_arn.as_ref(), "stateMachineArn", rq::ARN);
    v.text(r.definition.as_ref(), "definition", rq::DEFINITION);
    v.text(r.role_arn.as_ref(), "roleArn", rq::ARN);
    v.text(
        r.version_description.as_ref(),
        "versionDescription",
        rq::DESCRIPTION,
    );
    rq::check_configuration(
        &mut v,
        r.logging_configuration.as_ref(),
        r.encryption_configuration.as_ref(),
    );
    v.finish()?;
    if r.encryption_configuration.is_some() {
        return Err(unsupported(
            "encryptionConfiguration",
            "ferrule's store does not encrypt with KMS keys.",
        ));
    }
    let (t, revision_id, version) = runner.update_state_machine(UpdateMachine {
        arn: text(&r.state_machine_arn).unwrap_or_default().to_string(),
        definition: text(&r.definition).map(str::to_string),
        role_arn: text(&r.role_arn).map(str::to_string),
        logging: r.logging_configuration.as_ref().map(|c| c.value.clone()),
        tracing: r.tracing_configuration.as_ref().map(|c| c.value.clone()),
        publish: r.publish.is_some_and(|b| b.0),
        version_description: text(&r.version_description).map(str::to_string),
    })?;
    Ok(rs::UpdateStateMachine {
        update_date: seconds(t),
        revision_id,
        state_machine_version_arn: version,
    })
}

/// GetExecutionHistory with `includeExecutionData: false`: inputs and
/// outputs left out of the event details.
fn strip_data(event: &mut Value) {
    let Some(m) = event.as_object_mut() else {
        return;
    };
    for (k, details) in m.iter_mut() {
        if !k.ends_with("EventDetails") {
            continue;
        }
        if let Some(d) = details.as_object_mut() {
            for key in [
                "input",
                "output",
                "parameters",
                "inputDetails",
                "outputDetails",
            ] {
                d.remove(key);
            }
        }
    }
}
