//! EventBridge's AWS JSON 1.1 operations (`X-Amz-Target: AWSEvents.<Op>`),
//! mapped onto the [`Bus`](ferrule_bus::Bus).

mod request;
pub(crate) mod wire;

use serde_json::{Map, Value, json};

use self::request as rq;
use self::wire::{Int, List, Obj, Str};
use super::ApiError;
use super::AppState;
use ferrule_bus::{
    BusError, BusErrorKind, DeadLetterConfig, InputTransformerConfig, PermissionCondition,
    PutEventsEntry, PutPermissionInput, PutRuleInput, RetryPolicy, RuleRecord, RuleState,
    TargetConfig,
};
use ferrule_policy::Principal;

/// EventBridge's error type for a request member of the wrong JSON type.
const SERIALIZATION: &str = "SerializationException";

/// Reads and checks the request of one operation.
macro_rules! request {
    ($body:expr, $ty:ty) => {{
        let r: $ty = wire::read($body, SERIALIZATION)?;
        r.check()?;
        r
    }};
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

/// Runs one operation for `caller` (already authorized for control-plane
/// operations; PutEvents entries are authorized one by one in the bus).
pub(crate) fn handle(
    state: &AppState,
    operation: &str,
    body: &Value,
    caller: &Principal,
) -> Result<Value, ApiError> {
    let bus = &state.bus;
    match operation {
        "PutEvents" => {
            let r = request!(body, rq::PutEvents);
            put_events(state, put_events_entries(r), caller)
        }
        "PutRule" => {
            let r = request!(body, rq::PutRule);
            let state_param = match text(&r.state) {
                Some(s) => Some(RuleState::parse(s)?),
                None => None,
            };
            let arn = bus.put_rule(PutRuleInput {
                name: present(&r.name).to_string(),
                event_bus_name: owned(&r.event_bus_name),
                event_pattern: owned(&r.event_pattern),
                schedule_expression: owned(&r.schedule_expression),
                state: state_param,
                description: owned(&r.description),
                role_arn: owned(&r.role_arn),
            })?;
            Ok(json!({ "RuleArn": arn }))
        }
        "DescribeRule" => {
            let r = request!(body, rq::RuleRef);
            let rule = bus.describe_rule(present(&r.name), text(&r.event_bus_name))?;
            let mut out = rule_json(state, &rule);
            out.insert("CreatedBy".into(), json!(bus.account()));
            Ok(Value::Object(out))
        }
        "DeleteRule" => {
            // `Force` is for managed rules, which ferrule has none of.
            let r = request!(body, rq::RuleRef);
            bus.delete_rule(present(&r.name), text(&r.event_bus_name))?;
            Ok(json!({}))
        }
        "ListRules" => {
            let r = request!(body, rq::ListRules);
            let rules = bus.list_rules(text(&r.event_bus_name), text(&r.name_prefix))?;
            let (page, next) = paginate(rules, r.limit, text(&r.next_token))?;
            let mut out = json!({ "Rules": page.iter().map(|r| Value::Object(rule_json(state, r))).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "EnableRule" => {
            let r = request!(body, rq::RuleRef);
            bus.enable_rule(present(&r.name), text(&r.event_bus_name))?;
            Ok(json!({}))
        }
        "DisableRule" => {
            let r = request!(body, rq::RuleRef);
            bus.disable_rule(present(&r.name), text(&r.event_bus_name))?;
            Ok(json!({}))
        }
        "PutTargets" => {
            let r = request!(body, rq::PutTargets);
            let targets: Vec<TargetConfig> = r
                .targets
                .as_ref()
                .map(|l| l.0.iter().map(|Obj(t)| target_config(t)).collect())
                .unwrap_or_default();
            for t in &targets {
                ferrule_bus::check_target_arn(&t.arn)?;
                if let Some(d) = &t.dead_letter_config {
                    ferrule_bus::check_dead_letter_arn(&d.arn)?;
                }
            }
            let failed = bus.put_targets(present(&r.rule), text(&r.event_bus_name), targets)?;
            Ok(failed_entries(&failed))
        }
        "RemoveTargets" => {
            let r = request!(body, rq::RemoveTargets);
            let ids: Vec<String> = r
                .ids
                .map(|List(ids)| ids.into_iter().map(|s| s.0).collect())
                .unwrap_or_default();
            let failed = bus.remove_targets(present(&r.rule), text(&r.event_bus_name), &ids)?;
            Ok(failed_entries(&failed))
        }
        "ListTargetsByRule" => {
            let r = request!(body, rq::ListTargetsByRule);
            let targets = bus.list_targets_by_rule(present(&r.rule), text(&r.event_bus_name))?;
            let (page, next) = paginate(targets, r.limit, text(&r.next_token))?;
            let mut out = json!({ "Targets": page.iter().map(target_json).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "ListRuleNamesByTarget" => {
            let r = request!(body, rq::ListRuleNamesByTarget);
            let names =
                bus.list_rule_names_by_target(present(&r.target_arn), text(&r.event_bus_name))?;
            let (page, next) = paginate(names, r.limit, text(&r.next_token))?;
            let mut out = json!({ "RuleNames": page });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "TestEventPattern" => {
            let r = request!(body, rq::TestEventPattern);
            Ok(
                json!({ "Result": bus.test_event_pattern(present(&r.event_pattern), present(&r.event))? }),
            )
        }
        "CreateEventBus" => {
            let r = request!(body, rq::CreateEventBus);
            let name = present(&r.name);
            if let Some(source) = text(&r.event_source_name) {
                // Partner event sources come from SaaS partners through AWS;
                // ferrule has none.
                return Err(BusError::new(
                    BusErrorKind::ResourceNotFound,
                    format!("Event source {source} does not exist."),
                )
                .into());
            }
            if r.dead_letter_config.is_some() {
                return Err(BusError::validation(
                    "ferrule does not support a dead-letter queue on an event bus; give the \
                     rules' targets a DeadLetterConfig instead.",
                )
                .into());
            }
            let arn =
                bus.create_event_bus_with_policy(name, text(&r.description), text(&r.policy))?;
            Ok(json!({ "EventBusArn": arn }))
        }
        "PutPermission" => {
            let r = request!(body, rq::PutPermission);
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
            bus.put_permission(input)?;
            Ok(json!({}))
        }
        "RemovePermission" => {
            let r = request!(body, rq::RemovePermission);
            bus.remove_permission(
                text(&r.event_bus_name),
                text(&r.statement_id),
                r.remove_all_permissions.is_some_and(|b| b.0),
            )?;
            Ok(json!({}))
        }
        "DescribeEventBus" => {
            let r: rq::BusRef = wire::read(body, SERIALIZATION)?;
            r.check_describe()?;
            let info = bus.describe_event_bus(text(&r.name))?;
            let mut out = json!({
                "Name": info.name,
                "Arn": info.arn,
                "CreationTime": info.created_ms as f64 / 1000.0,
                "LastModifiedTime": info.created_ms as f64 / 1000.0,
            });
            if let Some(d) = info.description {
                out["Description"] = json!(d);
            }
            if let Some(p) = info.policy {
                out["Policy"] = json!(p);
            }
            Ok(out)
        }
        "DeleteEventBus" => {
            let r: rq::BusRef = wire::read(body, SERIALIZATION)?;
            r.check_delete()?;
            bus.delete_event_bus(present(&r.name))?;
            Ok(json!({}))
        }
        "ListEventBuses" => {
            let r = request!(body, rq::ListEventBuses);
            let buses = bus.list_event_buses(text(&r.name_prefix))?;
            let (page, next) = paginate(buses, r.limit, text(&r.next_token))?;
            let list: Vec<Value> = page
                .into_iter()
                .map(|b| {
                    let mut v = json!({
                        "Name": b.name,
                        "Arn": b.arn,
                        "CreationTime": b.created_ms as f64 / 1000.0,
                    });
                    if let Some(d) = b.description {
                        v["Description"] = json!(d);
                    }
                    v
                })
                .collect();
            let mut out = json!({ "EventBuses": list });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        other => Err(ApiError::new(
            400,
            "UnknownOperationException",
            format!("Operation AWSEvents.{other} is not supported."),
        )),
    }
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

fn put_events(
    state: &AppState,
    parsed: Vec<PutEventsEntry>,
    caller: &Principal,
) -> Result<Value, ApiError> {
    // Authorization happens in the bus, entry by entry, before matching.
    let out = state.bus.put_events_as(caller, parsed)?;
    state
        .metrics
        .entries(out.entries.len() as u64, out.failed_entry_count as u64);
    let entries: Vec<Value> = out
        .entries
        .iter()
        .map(|e| match (&e.event_id, &e.error_code) {
            (Some(id), None) => json!({ "EventId": id }),
            _ => json!({
                "ErrorCode": e.error_code.clone().unwrap_or_default(),
                "ErrorMessage": e.error_message.clone().unwrap_or_default(),
            }),
        })
        .collect();
    Ok(json!({ "FailedEntryCount": out.failed_entry_count, "Entries": entries }))
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
    }
}

fn rule_json(state: &AppState, r: &RuleRecord) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("Name".into(), json!(r.name));
    out.insert(
        "Arn".into(),
        json!(state.bus.rule_arn(&r.name, Some(&r.bus))),
    );
    if let Some(p) = &r.event_pattern {
        out.insert("EventPattern".into(), json!(p));
    }
    if let Some(s) = &r.schedule_expression {
        out.insert("ScheduleExpression".into(), json!(s));
    }
    out.insert("State".into(), json!(r.state.as_str()));
    if let Some(d) = &r.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(role) = &r.role_arn {
        out.insert("RoleArn".into(), json!(role));
    }
    out.insert("EventBusName".into(), json!(r.bus));
    out
}

fn target_json(t: &TargetConfig) -> Value {
    let mut out = json!({ "Id": t.id, "Arn": t.arn });
    if let Some(r) = &t.role_arn {
        out["RoleArn"] = json!(r);
    }
    if let Some(i) = &t.input {
        out["Input"] = json!(i);
    }
    if let Some(p) = &t.input_path {
        out["InputPath"] = json!(p);
    }
    if let Some(x) = &t.input_transformer {
        let map: Map<String, Value> = x
            .input_paths_map
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        out["InputTransformer"] =
            json!({ "InputPathsMap": map, "InputTemplate": x.input_template });
    }
    if let Some(p) = &t.retry_policy {
        let mut policy = Map::new();
        if let Some(n) = p.maximum_retry_attempts {
            policy.insert("MaximumRetryAttempts".into(), json!(n));
        }
        if let Some(n) = p.maximum_event_age_in_seconds {
            policy.insert("MaximumEventAgeInSeconds".into(), json!(n));
        }
        out["RetryPolicy"] = Value::Object(policy);
    }
    if let Some(d) = &t.dead_letter_config {
        out["DeadLetterConfig"] = json!({ "Arn": d.arn });
    }
    out
}

fn failed_entries(failed: &[ferrule_bus::FailedTarget]) -> Value {
    json!({
        "FailedEntryCount": failed.len(),
        "FailedEntries": failed.iter().map(|f| json!({
            "TargetId": f.target_id,
            "ErrorCode": f.error_code,
            "ErrorMessage": f.error_message,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_time(v: Value) -> Result<Option<u64>, String> {
        let r: rq::PutEvents = wire::read(
            &json!({"Entries": [{"Time": v, "Source": "a", "DetailType": "b", "Detail": "{}"}]}),
            SERIALIZATION,
        )
        .map_err(|e| e.message)?;
        Ok(put_events_entries(r)[0].time_ms)
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
