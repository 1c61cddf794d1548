//! EventBridge's AWS JSON 1.1 operations (`X-Amz-Target: AWSEvents.<Op>`),
//! mapped onto the [`Bus`](ferrule_bus::Bus).

mod archives;
mod connections;
mod put_events;
mod request;
mod response;
pub(crate) mod wire;

pub(crate) use self::put_events::read as read_put_events;
pub(crate) use self::request::PutEvents as PutEventsRequest;

use std::sync::Arc;

use axum::response::Response;

use self::request as rq;
use self::response as rs;
use self::wire::{Int, List, Obj, Str};
use super::{ApiError, AppState, Call, Protocol, Route, Service, ServiceId, ServiceInfo};
use ferrule_bus::{
    BusError, BusErrorKind, BusSettings, DeadLetterConfig, InputTransformerConfig,
    PermissionCondition, PutEventsEntry, PutEventsOutput, PutEventsStart, PutPermissionInput,
    PutRuleInput, RetryPolicy, RuleState, TargetConfig,
};

/// EventBridge's error type for a request member of the wrong JSON type.
const SERIALIZATION: &str = "SerializationException";

/// The operations ferrule serves.
const OPERATIONS: &[&str] = &[
    "PutEvents",
    "PutRule",
    "DescribeRule",
    "DeleteRule",
    "ListRules",
    "EnableRule",
    "DisableRule",
    "PutTargets",
    "RemoveTargets",
    "ListTargetsByRule",
    "ListRuleNamesByTarget",
    "TestEventPattern",
    "CreateEventBus",
    "PutPermission",
    "RemovePermission",
    "DescribeEventBus",
    "DeleteEventBus",
    "ListEventBuses",
    "UpdateEventBus",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "CreateConnection",
    "DescribeConnection",
    "UpdateConnection",
    "DeleteConnection",
    "ListConnections",
    "DeauthorizeConnection",
    "CreateApiDestination",
    "DescribeApiDestination",
    "UpdateApiDestination",
    "DeleteApiDestination",
    "ListApiDestinations",
    "CreateArchive",
    "DescribeArchive",
    "UpdateArchive",
    "DeleteArchive",
    "ListArchives",
    "StartReplay",
    "DescribeReplay",
    "CancelReplay",
    "ListReplays",
];

/// EventBridge: AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Op>`.
#[derive(Debug)]
pub(crate) struct Events;

impl Service for Events {
    const INFO: ServiceInfo = ServiceInfo {
        id: ServiceId::Events,
        route: Route::Target("AWSEvents"),
        signing_name: "events",
        protocol: Protocol::AwsJson11,
        operations: OPERATIONS,
        unknown_operation: |operation| {
            ApiError::new(
                400,
                "UnknownOperationException",
                format!("Operation AWSEvents.{operation} is not supported."),
            )
        },
    };

    async fn call(state: Arc<AppState>, call: Call) -> Result<Response, ApiError> {
        if call.operation == "PutEvents" {
            return put_events_call(state, call).await;
        }
        // The bus blocks (it writes to the store): off the async runtime.
        blocking(move || {
            authorize(&state, &call)?;
            dispatch(&state, &call)
        })
        .await
    }
}

/// The caller's permission for the call's operation (`events:<Op>`).
fn authorize(state: &AppState, call: &Call) -> Result<(), ApiError> {
    super::access::authorize_request(
        state,
        &call.caller,
        "AWSEvents",
        &call.operation,
        &call.input,
    )
}

/// Runs `f` on the blocking pool; a failed task is EventBridge's
/// `InternalException`.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    super::off_runtime(f, |m| ApiError::new(500, "InternalException", m)).await
}

/// PutEvents on the request's own task: the entries are checked,
/// authorized and handed to the bus's ingest thread here, and the task
/// awaits their commit (no blocking-pool thread per request). Only a full
/// ingest queue, or entries for a bus of another account or Region (put
/// through another partition), take a blocking thread. The request is the
/// one `aws` read straight from the body, or else read from its JSON here,
/// with the same errors in the same order as every other operation.
///
/// What runs on the worker is CPU work (checks, the policy decision,
/// envelopes) under the bus's state lock read briefly; a control-plane
/// write that holds that lock through its store commit can delay it by
/// that commit.
async fn put_events_call(state: Arc<AppState>, call: Call) -> Result<Response, ApiError> {
    // Entries are authorized one by one, in the bus.
    authorize(&state, &call)?;
    let request = match call.put_events {
        Some(request) => request,
        None => wire::read::<rq::PutEvents>(&call.input, SERIALIZATION)?,
    };
    Request::check(&request)?;
    let entries = put_events_entries(request);
    let as_service = call
        .caller
        .access_key()
        .is_some_and(|key| state.shared.service_keys.contains(key));
    let out = match state
        .bus
        .start_put_events_as(&call.caller, entries, as_service)?
    {
        PutEventsStart::Pending(pending) => match pending.into_future() {
            Ok(answer) => answer.await,
            Err(pending) => blocking(move || Ok(pending.wait())).await?,
        },
        PutEventsStart::Routed(entries) => {
            let state = Arc::clone(&state);
            let caller = call.caller;
            blocking(move || {
                Ok(if as_service {
                    state.bus.put_events_as_service(&caller, entries)?
                } else {
                    state.bus.put_events_as(&caller, entries)?
                })
            })
            .await?
        }
    };
    Protocol::AwsJson11.reply(&put_events_response(&state, &out))
}

/// A request model: read from the body, then checked against the model.
trait Request: serde::de::DeserializeOwned {
    fn check(&self) -> Result<(), ApiError>;
}

macro_rules! requests {
    ($($ty:ident),* $(,)?) => {$(
        impl Request for rq::$ty {
            fn check(&self) -> Result<(), ApiError> {
                rq::$ty::check(self)
            }
        }
    )*};
}

requests!(
    PutEvents,
    PutRule,
    RuleRef,
    ListRules,
    PutTargets,
    RemoveTargets,
    ListTargetsByRule,
    ListRuleNamesByTarget,
    TestEventPattern,
    CreateEventBus,
    PutPermission,
    RemovePermission,
    DescribeEventBus,
    DeleteEventBus,
    ListEventBuses,
    UpdateEventBus,
    Tagging,
);

/// Reads `body` as `Req`, runs `operation`, writes its response.
fn run<Req: Request, Resp: serde::Serialize>(
    body: &serde_json::Value,
    operation: impl FnOnce(Req) -> Result<Resp, ApiError>,
) -> Result<Response, ApiError> {
    let request: Req = wire::read(body, SERIALIZATION)?;
    request.check()?;
    Protocol::AwsJson11.reply(&operation(request)?)
}

/// Runs one operation for its caller (already authorized for control-plane
/// operations; PutEvents entries are authorized one by one in the bus).
fn dispatch(state: &AppState, call: &Call) -> Result<Response, ApiError> {
    let body = &call.input;
    match call.operation.as_str() {
        "PutRule" => run(body, |r| put_rule(state, r)),
        "DescribeRule" => run(body, |r| describe_rule(state, r)),
        "DeleteRule" => run(body, |r| delete_rule(state, r)),
        "ListRules" => run(body, |r| list_rules(state, r)),
        "EnableRule" => run(body, |r| enable_rule(state, r)),
        "DisableRule" => run(body, |r| disable_rule(state, r)),
        "PutTargets" => run(body, |r| put_targets(state, r)),
        "RemoveTargets" => run(body, |r| remove_targets(state, r)),
        "ListTargetsByRule" => run(body, |r| list_targets_by_rule(state, r)),
        "ListRuleNamesByTarget" => run(body, |r| list_rule_names_by_target(state, r)),
        "TestEventPattern" => run(body, |r| test_event_pattern(state, r)),
        "CreateEventBus" => run(body, |r| create_event_bus(state, r)),
        "PutPermission" => run(body, |r| put_permission(state, r)),
        "RemovePermission" => run(body, |r| remove_permission(state, r)),
        "DescribeEventBus" => run(body, |r| describe_event_bus(state, r)),
        "DeleteEventBus" => run(body, |r| delete_event_bus(state, r)),
        "ListEventBuses" => run(body, |r| list_event_buses(state, r)),
        "UpdateEventBus" => run(body, |r| update_event_bus(state, r)),
        "TagResource" => run(body, |r: rq::Tagging| {
            r.check_for("TagResource")?;
            state
                .bus
                .tag_resource(present(&r.resource_arn), rq::tag_map(r.tags.as_ref()))?;
            Ok(rs::Empty {})
        }),
        "UntagResource" => run(body, |r: rq::Tagging| {
            r.check_for("UntagResource")?;
            let keys: Vec<String> = r
                .tag_keys
                .iter()
                .flat_map(|l| l.0.iter().map(|k| k.0.clone()))
                .collect();
            state.bus.untag_resource(present(&r.resource_arn), &keys)?;
            Ok(rs::Empty {})
        }),
        "ListTagsForResource" => run(body, |r: rq::Tagging| {
            let tags = state.bus.list_tags(present(&r.resource_arn))?;
            Ok(rs::ListTags {
                tags: tags
                    .into_iter()
                    .map(|(key, value)| rs::Tag { key, value })
                    .collect(),
            })
        }),
        op if archives::OPERATIONS.contains(&op) => archives::dispatch(state, op, body),
        other => connections::dispatch(state, call)
            .unwrap_or_else(|| Err((Events::INFO.unknown_operation)(other))),
    }
}

fn text(s: &Option<Str>) -> Option<&str> {
    s.as_ref().map(|s| s.0.as_str())
}

fn owned(s: &Option<Str>) -> Option<String> {
    s.as_ref().map(|s| s.0.clone())
}

/// A required member, present once `check` has passed.
fn present(s: &Option<Str>) -> &str {
    text(s).unwrap_or_default()
}

/// PutEvents' answer, counted in the metrics.
fn put_events_response(state: &AppState, out: &PutEventsOutput) -> rs::PutEvents {
    state
        .shared
        .metrics
        .entries(out.entries.len() as u64, out.failed_entry_count as u64);
    rs::PutEvents {
        failed_entry_count: out.failed_entry_count,
        entries: out
            .entries
            .iter()
            .map(rs::PutEventsResultEntry::from)
            .collect(),
    }
}

fn put_rule(state: &AppState, r: rq::PutRule) -> Result<rs::PutRule, ApiError> {
    let state_param = match text(&r.state) {
        Some(s) => Some(RuleState::parse(s)?),
        None => None,
    };
    let rule_arn = state.bus.put_rule(PutRuleInput {
        name: present(&r.name).to_string(),
        event_bus_name: owned(&r.event_bus_name),
        event_pattern: owned(&r.event_pattern),
        schedule_expression: owned(&r.schedule_expression),
        state: state_param,
        description: owned(&r.description),
        role_arn: owned(&r.role_arn),
        tags: rq::tag_map(r.tags.as_ref()),
    })?;
    Ok(rs::PutRule { rule_arn })
}

fn rule(state: &AppState, r: &ferrule_bus::RuleRecord) -> rs::Rule {
    rs::Rule::new(r, state.bus.rule_arn(&r.name, Some(&r.bus)))
}

fn describe_rule(state: &AppState, r: rq::RuleRef) -> Result<rs::Rule, ApiError> {
    let record = state
        .bus
        .describe_rule(present(&r.name), text(&r.event_bus_name))?;
    let mut out = rule(state, &record);
    out.created_by = Some(state.bus.account().to_string());
    Ok(out)
}

fn delete_rule(state: &AppState, r: rq::RuleRef) -> Result<rs::Empty, ApiError> {
    // `Force` is for managed rules; the only ones are archives' rules,
    // which go with their archive (DeleteArchive).
    state
        .bus
        .delete_rule(present(&r.name), text(&r.event_bus_name))?;
    Ok(rs::Empty {})
}

fn list_rules(state: &AppState, r: rq::ListRules) -> Result<rs::ListRules, ApiError> {
    let rules = state
        .bus
        .list_rules(text(&r.event_bus_name), text(&r.name_prefix))?;
    let (page, next_token) = paginate(rules, r.limit, text(&r.next_token))?;
    Ok(rs::ListRules {
        rules: page.iter().map(|r| rule(state, r)).collect(),
        next_token,
    })
}

fn enable_rule(state: &AppState, r: rq::RuleRef) -> Result<rs::Empty, ApiError> {
    state
        .bus
        .enable_rule(present(&r.name), text(&r.event_bus_name))?;
    Ok(rs::Empty {})
}

fn disable_rule(state: &AppState, r: rq::RuleRef) -> Result<rs::Empty, ApiError> {
    state
        .bus
        .disable_rule(present(&r.name), text(&r.event_bus_name))?;
    Ok(rs::Empty {})
}

fn put_targets(state: &AppState, r: rq::PutTargets) -> Result<rs::FailedEntries, ApiError> {
    let targets: Vec<TargetConfig> = r
        .targets
        .as_ref()
        .map(|l| l.0.iter().map(|Obj(t)| target_config(t)).collect())
        .unwrap_or_default();
    for t in &targets {
        state.bus.check_target_arn(&t.arn)?;
        if let Some(d) = &t.dead_letter_config {
            state.bus.check_dead_letter_arn(&d.arn)?;
        }
    }
    let failed = state
        .bus
        .put_targets(present(&r.rule), text(&r.event_bus_name), targets)?;
    Ok(rs::FailedEntries::new(&failed))
}

fn remove_targets(state: &AppState, r: rq::RemoveTargets) -> Result<rs::FailedEntries, ApiError> {
    let ids: Vec<String> = r
        .ids
        .map(|List(ids)| ids.into_iter().map(|s| s.0).collect())
        .unwrap_or_default();
    let failed = state
        .bus
        .remove_targets(present(&r.rule), text(&r.event_bus_name), &ids)?;
    Ok(rs::FailedEntries::new(&failed))
}

fn list_targets_by_rule(
    state: &AppState,
    r: rq::ListTargetsByRule,
) -> Result<rs::ListTargetsByRule, ApiError> {
    let targets = state
        .bus
        .list_targets_by_rule(present(&r.rule), text(&r.event_bus_name))?;
    let (page, next_token) = paginate(targets, r.limit, text(&r.next_token))?;
    Ok(rs::ListTargetsByRule {
        targets: page.iter().map(rs::Target::from).collect(),
        next_token,
    })
}

fn list_rule_names_by_target(
    state: &AppState,
    r: rq::ListRuleNamesByTarget,
) -> Result<rs::ListRuleNamesByTarget, ApiError> {
    let names = state
        .bus
        .list_rule_names_by_target(present(&r.target_arn), text(&r.event_bus_name))?;
    let (rule_names, next_token) = paginate(names, r.limit, text(&r.next_token))?;
    Ok(rs::ListRuleNamesByTarget {
        rule_names,
        next_token,
    })
}

fn test_event_pattern(
    state: &AppState,
    r: rq::TestEventPattern,
) -> Result<rs::TestEventPattern, ApiError> {
    let result = state
        .bus
        .test_event_pattern(present(&r.event_pattern), present(&r.event))?;
    Ok(rs::TestEventPattern { result })
}

fn create_event_bus(
    state: &AppState,
    r: rq::CreateEventBus,
) -> Result<rs::CreateEventBus, ApiError> {
    if let Some(source) = text(&r.event_source_name) {
        // Partner event sources come from SaaS partners through AWS;
        // ferrule has none.
        return Err(BusError::new(
            BusErrorKind::ResourceNotFound,
            format!("Event source {source} does not exist."),
        )
        .into());
    }
    let settings = bus_settings(
        &r.description,
        &r.kms_key_identifier,
        &r.dead_letter_config,
        &r.log_config,
    );
    let event_bus_arn = state.bus.create_event_bus_with(
        present(&r.name),
        &settings,
        text(&r.policy),
        rq::tag_map(r.tags.as_ref()),
    )?;
    let record = state.bus.event_bus_record(Some(present(&r.name)))?;
    let (dead_letter_config, log_config) = rs::DescribeEventBus::settings(&record);
    Ok(rs::CreateEventBus {
        event_bus_arn,
        description: record.description,
        kms_key_identifier: record.kms_key_identifier,
        dead_letter_config,
        log_config,
    })
}

fn bus_settings(
    description: &Option<Str>,
    kms: &Option<Str>,
    dead_letter: &Option<Obj<rq::DeadLetterConfig>>,
    log: &Option<Obj<rq::LogConfig>>,
) -> BusSettings {
    let mut s = BusSettings::default();
    s.description = owned(description);
    s.kms_key_identifier = owned(kms);
    s.dead_letter_arn = dead_letter.as_ref().and_then(|Obj(d)| owned(&d.arn));
    s.log_config = log.as_ref().map(|Obj(l)| ferrule_bus::LogConfig {
        include_detail: owned(&l.include_detail),
        level: owned(&l.level),
    });
    s
}

fn update_event_bus(
    state: &AppState,
    r: rq::UpdateEventBus,
) -> Result<rs::UpdateEventBus, ApiError> {
    let settings = bus_settings(
        &r.description,
        &r.kms_key_identifier,
        &r.dead_letter_config,
        &r.log_config,
    );
    let record = state.bus.update_event_bus(text(&r.name), &settings)?;
    let (dead_letter_config, log_config) = rs::DescribeEventBus::settings(&record);
    Ok(rs::UpdateEventBus {
        arn: state.bus.bus_arn(&record.name),
        name: record.name,
        kms_key_identifier: record.kms_key_identifier,
        description: record.description,
        dead_letter_config,
        log_config,
    })
}

fn put_permission(state: &AppState, r: rq::PutPermission) -> Result<rs::Empty, ApiError> {
    let mut input = PutPermissionInput::default();
    input.event_bus_name = owned(&r.event_bus_name);
    input.action = owned(&r.action);
    input.principal = owned(&r.principal);
    input.statement_id = owned(&r.statement_id);
    input.policy = owned(&r.policy);
    input.condition = r.condition.as_ref().map(|Obj(c)| PermissionCondition {
        kind: present(&c.kind).to_string(),
        key: present(&c.key).to_string(),
        value: present(&c.value).to_string(),
    });
    state.bus.put_permission(input)?;
    Ok(rs::Empty {})
}

fn remove_permission(state: &AppState, r: rq::RemovePermission) -> Result<rs::Empty, ApiError> {
    state.bus.remove_permission(
        text(&r.event_bus_name),
        text(&r.statement_id),
        r.remove_all_permissions.is_some_and(|b| b.0),
    )?;
    Ok(rs::Empty {})
}

use crate::states::seconds;

fn describe_event_bus(
    state: &AppState,
    r: rq::DescribeEventBus,
) -> Result<rs::DescribeEventBus, ApiError> {
    let info = state.bus.describe_event_bus(text(&r.name))?;
    let record = state.bus.event_bus_record(Some(&info.name))?;
    let (dead_letter_config, log_config) = rs::DescribeEventBus::settings(&record);
    Ok(rs::DescribeEventBus {
        name: info.name,
        arn: info.arn,
        creation_time: seconds(info.created_ms),
        last_modified_time: seconds(record.modified_ms.unwrap_or(info.created_ms)),
        description: info.description,
        policy: info.policy,
        kms_key_identifier: record.kms_key_identifier,
        dead_letter_config,
        log_config,
    })
}

fn delete_event_bus(state: &AppState, r: rq::DeleteEventBus) -> Result<rs::Empty, ApiError> {
    state.bus.delete_event_bus(present(&r.name))?;
    Ok(rs::Empty {})
}

fn list_event_buses(
    state: &AppState,
    r: rq::ListEventBuses,
) -> Result<rs::ListEventBuses, ApiError> {
    let buses = state.bus.list_event_buses(text(&r.name_prefix))?;
    let (page, next_token) = paginate(buses, r.limit, text(&r.next_token))?;
    Ok(rs::ListEventBuses {
        event_buses: page
            .into_iter()
            .map(|b| rs::EventBus {
                name: b.name,
                arn: b.arn,
                creation_time: seconds(b.created_ms),
                description: b.description,
            })
            .collect(),
        next_token,
    })
}

/// One page of `items` (`limit`, checked to be 1 to 100, defaults to 100).
fn paginate<T>(
    items: Vec<T>,
    limit: Option<Int>,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = limit.map_or(100, |Int(n)| usize::try_from(n).unwrap_or(100));
    let start = match token {
        Some(t) => t
            .strip_prefix("ferrule-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::new(400, "ValidationException", "The NextToken is not valid.")
            })?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next =
        (start.saturating_add(limit) < total).then(|| format!("ferrule-page-{}", start + limit));
    Ok((page, next))
}

/// The bus's entries of a checked PutEvents request.
fn put_events_entries(request: rq::PutEvents) -> Vec<PutEventsEntry> {
    let Some(List(entries)) = request.entries else {
        return Vec::new();
    };
    entries
        .into_iter()
        .map(|Obj(e)| PutEventsEntry {
            time_ms: e.time.map(|t| t.0),
            source: owned(&e.source),
            resources: e
                .resources
                .map(|List(r)| r.into_iter().map(|s| s.0).collect())
                .unwrap_or_default(),
            detail_type: owned(&e.detail_type),
            detail: owned(&e.detail),
            event_bus_name: owned(&e.event_bus_name),
            trace_header: owned(&e.trace_header),
        })
        .collect()
}

/// A checked `Target` as the bus stores it.
fn target_config(t: &rq::Target) -> TargetConfig {
    let int = |n: Option<Int>| n.and_then(|Int(n)| u32::try_from(n).ok());
    TargetConfig {
        id: present(&t.id).to_string(),
        arn: present(&t.arn).to_string(),
        role_arn: owned(&t.role_arn),
        input: owned(&t.input),
        input_path: owned(&t.input_path),
        input_transformer: t
            .input_transformer
            .as_ref()
            .map(|Obj(x)| InputTransformerConfig {
                input_paths_map: x
                    .input_paths_map
                    .as_ref()
                    .map(|m| m.0.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
                    .unwrap_or_default(),
                input_template: present(&x.input_template).to_string(),
            }),
        retry_policy: t.retry_policy.as_ref().map(|Obj(p)| RetryPolicy {
            maximum_retry_attempts: int(p.maximum_retry_attempts),
            maximum_event_age_in_seconds: int(p.maximum_event_age_in_seconds),
        }),
        dead_letter_config: t
            .dead_letter_config
            .as_ref()
            .and_then(|Obj(d)| d.arn.as_ref())
            .map(|Str(arn)| DeadLetterConfig { arn: arn.clone() }),
        sqs_parameters: t
            .sqs_parameters
            .as_ref()
            .map(|Obj(p)| ferrule_bus::SqsParameters {
                message_group_id: owned(&p.message_group_id),
            }),
        http_parameters: t.http_parameters.as_ref().map(|Obj(h)| h.config()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read_time(v: Value) -> Result<Option<u64>, String> {
        let r: rq::PutEvents = wire::read(
            &json!({"Entries": [{"Time": v, "Source": "a", "DetailType": "b", "Detail": "{}"}]}),
            SERIALIZATION,
        )
        .map_err(|e| e.message)?;
        Ok(put_events_entries(r)[0].time_ms)
    }

    /// PutEvents through the router: answered from the body read straight
    /// into its model, and every error as the general path gives it.
    #[tokio::test]
    async fn put_events_over_http_answers_as_the_general_path_does() {
        use axum::body::Body;
        use tower::ServiceExt as _;
        let dir = std::env::temp_dir().join(format!("ferrule-events-{}", uuid::Uuid::new_v4()));
        let server = crate::test_server(
            ferrule_bus::BusOptions::new(&dir),
            crate::clock::ServerClock::System,
        );
        let app = crate::app(Arc::clone(&server));
        let send = |body: &'static str| {
            let app = app.clone();
            async move {
                let req = axum::http::Request::builder()
                    .method("POST")
                    .uri("/")
                    .header("x-amz-target", "AWSEvents.PutEvents")
                    .header("content-type", "application/x-amz-json-1.1")
                    .body(Body::from(body))
                    .unwrap();
                let response = app.oneshot(req).await.unwrap();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                (status, v)
            }
        };
        let (status, v) = send(r#"{"Entries": [{"Source": "shop", "DetailType": "Order", "Detail": "{}"}, {"Source": "shop"}]}"#).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["FailedEntryCount"], 1);
        assert!(v["Entries"][0]["EventId"].is_string(), "{v}");
        assert_eq!(v["Entries"][1]["ErrorCode"], "InvalidArgument");
        // Repeated members: the last one counts, as before.
        let (status, v) = send(r#"{"Entries": 5, "Entries": [{"Source": "shop", "DetailType": "Order", "Detail": "{}"}]}"#).await;
        assert_eq!((status, &v["FailedEntryCount"]), (200, &json!(0)), "{v}");
        for (body, kind, text) in [
            // A syntax error wins over a wrong type before it.
            (
                r#"{"Entries": 5, }"#,
                SERIALIZATION,
                "the request body is not JSON: ",
            ),
            (r#"{"Entries": 5}"#, SERIALIZATION, "Expected list or null"),
            (
                r#"{"Entries": [{"Source": 1}]}"#,
                SERIALIZATION,
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                "[]",
                SERIALIZATION,
                "Start of list found where not expected",
            ),
            (
                r#"{"Entries": [{"TraceHeader": ""}]}"#,
                "ValidationException",
                "entries.1.member.traceHeader",
            ),
            ("", "ValidationException", "Value null at 'entries'"),
            (
                r#"{"Entries": []}"#,
                "ValidationException",
                "Value '[]' at 'entries' failed to satisfy constraint",
            ),
        ] {
            let (status, v) = send(body).await;
            assert_eq!(status, 400, "{body}: {v}");
            assert_eq!(v["__type"], kind, "{body}: {v}");
            let message = v["message"].as_str().unwrap_or_default();
            assert!(message.contains(text), "{body}: {message}");
        }
        drop(app);
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn event_times_are_parsed_strictly() {
        assert_eq!(read_time(json!(1_714_564_800)), Ok(Some(1_714_564_800_000)));
        assert_eq!(
            read_time(json!(1_714_564_800.25)),
            Ok(Some(1_714_564_800_250))
        );
        assert_eq!(
            read_time(json!("2024-05-01T12:00:00Z")),
            Ok(Some(1_714_564_800_000))
        );
        assert_eq!(
            read_time(json!("2024-05-01T14:00:00.042+02:00")),
            Ok(Some(1_714_564_800_042))
        );
        assert_eq!(read_time(Value::Null), Ok(None));
        for bad in [
            json!("2024-13-45T99:99:99Z"),
            json!("yesterday"),
            json!("2024-05-01T12:00:00"),
            json!(-1),
        ] {
            assert!(read_time(bad.clone()).is_err(), "{bad}");
        }
        assert_eq!(
            read_time(json!(["x"])),
            Err("Start of list found where not expected".to_string())
        );
        assert_eq!(
            read_time(json!("2024-13-45T99:99:99Z")),
            Err("STRING_VALUE can not be converted to a Timestamp".to_string())
        );
    }

    #[test]
    fn put_events_entries_keep_every_member() {
        let r: rq::PutEvents = wire::read(
            &json!({"Entries": [{"Source": "a", "DetailType": "b", "Detail": "{}",
                "Resources": ["r1", "r2"], "EventBusName": "orders", "TraceHeader": "t"}]}),
            SERIALIZATION,
        )
        .unwrap();
        r.check().unwrap();
        let e = &put_events_entries(r)[0];
        assert_eq!(e.resources, ["r1", "r2"]);
        assert_eq!(e.event_bus_name.as_deref(), Some("orders"));
        assert_eq!(e.trace_header.as_deref(), Some("t"));
    }

    #[test]
    fn bad_members_are_refused_before_the_bus_sees_them() {
        for (body, kind, text) in [
            (
                json!({"Entries": [{"Resources": [1, {}]}]}),
                SERIALIZATION,
                "NUMBER_VALUE",
            ),
            (
                json!({"Entries": [{"TraceHeader": {}}]}),
                SERIALIZATION,
                "Start of structure",
            ),
            (
                json!({"Entries": [{"TraceHeader": ""}]}),
                "ValidationException",
                "entries.1.member.traceHeader",
            ),
            (
                json!({"Entries": [{"EventBusName": "a b"}]}),
                "ValidationException",
                "entries.1.member.eventBusName",
            ),
            (
                json!({"Entries": []}),
                "ValidationException",
                "at 'entries'",
            ),
            (json!({}), "ValidationException", "Value null at 'entries'"),
        ] {
            let e = wire::read::<rq::PutEvents>(&body, SERIALIZATION)
                .and_then(|r| r.check())
                .unwrap_err();
            assert_eq!(e.type_name, kind, "{body}");
            assert!(e.message.contains(text), "{body}: {}", e.message);
        }
        for (body, text) in [
            (json!({"Name": ["orders"]}), "Start of list"),
            (
                json!({"Name": "r", "EventBusName": ["orders"]}),
                "Start of list",
            ),
            (
                json!({"Name": "r", "EventBusName": ""}),
                "at 'eventBusName'",
            ),
        ] {
            let e = wire::read::<rq::RuleRef>(&body, SERIALIZATION)
                .and_then(|r| r.check())
                .unwrap_err();
            assert!(e.message.contains(text), "{body}: {}", e.message);
        }
        let e = wire::read::<rq::PutTargets>(
            &json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": "a",
                "RetryPolicy": {"MaximumRetryAttempts": 186, "MaximumEventAgeInSeconds": 59},
                "InputTransformer": {"InputPathsMap": {"bad key": "$.x"}}}]}),
            SERIALIZATION,
        )
        .and_then(|r| r.check())
        .unwrap_err();
        assert!(
            e.message.starts_with("4 validation errors detected: "),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("targets.1.member.retryPolicy.maximumRetryAttempts")
        );
        assert!(e.message.contains("Map keys must satisfy constraint"));
        assert!(
            e.message
                .contains("Value null at 'targets.1.member.inputTransformer.inputTemplate'")
        );
        for limit in [json!(0), json!(101), json!(-1)] {
            let e = wire::read::<rq::ListRules>(&json!({"Limit": limit}), SERIALIZATION)
                .and_then(|r| r.check())
                .unwrap_err();
            assert!(e.message.contains("at 'limit'"), "{}", e.message);
        }
    }
}
