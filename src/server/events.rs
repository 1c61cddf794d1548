//! EventBridge's AWS JSON 1.1 operations (`X-Amz-Target: AWSEvents.<Op>`),
//! mapped onto the [`Bus`](crate::bus::Bus).

use serde_json::{Map, Value, json};

use super::ApiError;
use super::AppState;
use crate::bus::{
    BusError, DeadLetterConfig, InputTransformerConfig, PermissionCondition, PutEventsEntry,
    PutPermissionInput, PutRuleInput, RetryPolicy, RuleRecord, RuleState, TargetConfig,
};
use crate::policy::Principal;

/// Runs one operation for `caller` (already authorized for control-plane
/// operations; PutEvents entries are authorized one by one in the bus).
pub(crate) fn handle(
    state: &AppState,
    operation: &str,
    body: &Value,
    caller: &Principal,
) -> Result<Value, ApiError> {
    let bus = &state.bus;
    let input = Input(body);
    match operation {
        "PutEvents" => put_events(state, &input, caller),
        "PutRule" => {
            let state_param = match input.str("State") {
                Some(s) => Some(RuleState::parse(s)?),
                None => None,
            };
            let arn = bus.put_rule(PutRuleInput {
                name: input.required_str("Name", "name")?.to_string(),
                event_bus_name: input.string("EventBusName"),
                event_pattern: input.string("EventPattern"),
                schedule_expression: input.string("ScheduleExpression"),
                state: state_param,
                description: input.string("Description"),
                role_arn: input.string("RoleArn"),
            })?;
            Ok(json!({ "RuleArn": arn }))
        }
        "DescribeRule" => {
            let rule = bus.describe_rule(
                input.required_str("Name", "name")?,
                input.str("EventBusName"),
            )?;
            let mut out = rule_json(state, &rule);
            out.insert("CreatedBy".into(), json!(bus.account()));
            Ok(Value::Object(out))
        }
        "DeleteRule" => {
            bus.delete_rule(
                input.required_str("Name", "name")?,
                input.str("EventBusName"),
            )?;
            Ok(json!({}))
        }
        "ListRules" => {
            let rules = bus.list_rules(input.str("EventBusName"), input.str("NamePrefix"))?;
            let (page, next) = paginate(rules, &input)?;
            let mut out = json!({ "Rules": page.iter().map(|r| Value::Object(rule_json(state, r))).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "EnableRule" => {
            bus.enable_rule(
                input.required_str("Name", "name")?,
                input.str("EventBusName"),
            )?;
            Ok(json!({}))
        }
        "DisableRule" => {
            bus.disable_rule(
                input.required_str("Name", "name")?,
                input.str("EventBusName"),
            )?;
            Ok(json!({}))
        }
        "PutTargets" => {
            let rule = input.required_str("Rule", "rule")?;
            let targets = input
                .0
                .get("Targets")
                .and_then(Value::as_array)
                .ok_or_else(|| not_null("targets"))?
                .iter()
                .map(target_from_json)
                .collect();
            let failed = bus.put_targets(rule, input.str("EventBusName"), targets)?;
            Ok(failed_entries(&failed))
        }
        "RemoveTargets" => {
            let rule = input.required_str("Rule", "rule")?;
            let ids: Vec<String> = input
                .0
                .get("Ids")
                .and_then(Value::as_array)
                .ok_or_else(|| not_null("ids"))?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let failed = bus.remove_targets(rule, input.str("EventBusName"), &ids)?;
            Ok(failed_entries(&failed))
        }
        "ListTargetsByRule" => {
            let targets = bus.list_targets_by_rule(
                input.required_str("Rule", "rule")?,
                input.str("EventBusName"),
            )?;
            let (page, next) = paginate(targets, &input)?;
            let mut out = json!({ "Targets": page.iter().map(target_json).collect::<Vec<_>>() });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "ListRuleNamesByTarget" => {
            let names = bus.list_rule_names_by_target(
                input.required_str("TargetArn", "targetArn")?,
                input.str("EventBusName"),
            )?;
            let (page, next) = paginate(names, &input)?;
            let mut out = json!({ "RuleNames": page });
            if let Some(n) = next {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "TestEventPattern" => {
            let pattern = input.required_str("EventPattern", "eventPattern")?;
            let event = input.required_str("Event", "event")?;
            Ok(json!({ "Result": bus.test_event_pattern(pattern, event)? }))
        }
        "CreateEventBus" => {
            let name = input.required_str("Name", "name")?;
            let policy = match input.0.get("Policy") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) => Some(p.as_str()),
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "SerializationException",
                        "Policy must be a string (the policy document's JSON text).",
                    ));
                }
            };
            let arn = bus.create_event_bus_with_policy(name, input.str("Description"), policy)?;
            Ok(json!({ "EventBusArn": arn }))
        }
        "PutPermission" => {
            let condition = match input.0.get("Condition") {
                None | Some(Value::Null) => None,
                Some(c) => {
                    let field = |k: &str, wire: &str| {
                        c.get(k)
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .ok_or_else(|| not_null(wire))
                    };
                    Some(PermissionCondition {
                        kind: field("Type", "condition.type")?,
                        key: field("Key", "condition.key")?,
                        value: field("Value", "condition.value")?,
                    })
                }
            };
            let mut request = match input.string("Policy") {
                Some(policy) => PutPermissionInput::document(input.str("EventBusName"), &policy),
                None => PutPermissionInput::default(),
            };
            request.event_bus_name = input.string("EventBusName");
            request.action = input.string("Action");
            request.principal = input.string("Principal");
            request.statement_id = input.string("StatementId");
            request.condition = condition;
            bus.put_permission(request)?;
            Ok(json!({}))
        }
        "RemovePermission" => {
            let remove_all = match input.0.get("RemoveAllPermissions") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "SerializationException",
                        "RemoveAllPermissions must be a boolean.",
                    ));
                }
            };
            bus.remove_permission(
                input.str("EventBusName"),
                input.str("StatementId"),
                remove_all,
            )?;
            Ok(json!({}))
        }
        "DescribeEventBus" => {
            let info = bus.describe_event_bus(input.str("Name"))?;
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
            bus.delete_event_bus(input.required_str("Name", "name")?)?;
            Ok(json!({}))
        }
        "ListEventBuses" => {
            let buses = bus.list_event_buses(input.str("NamePrefix"))?;
            let (page, next) = paginate(buses, &input)?;
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

struct Input<'a>(&'a Value);

impl Input<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn string(&self, key: &str) -> Option<String> {
        self.str(key).map(str::to_string)
    }

    fn required_str(&self, key: &str, wire: &str) -> Result<&str, ApiError> {
        self.str(key).ok_or_else(|| not_null(wire))
    }
}

fn not_null(member: &str) -> ApiError {
    BusError::constraint("null", member, "Member must not be null").into()
}

fn paginate<T>(items: Vec<T>, input: &Input<'_>) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = match input.0.get("Limit").and_then(Value::as_u64) {
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(BusError::constraint(
                &n.to_string(),
                "limit",
                "Member must have value between 1 and 100",
            )
            .into());
        }
        None => 100,
    };
    let start = match input.str("NextToken") {
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
    let next = (start + limit < total).then(|| format!("ferrule-page-{}", start + limit));
    Ok((page, next))
}

fn put_events(state: &AppState, input: &Input<'_>, caller: &Principal) -> Result<Value, ApiError> {
    let entries = input
        .0
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| not_null("entries"))?;
    let parsed: Vec<PutEventsEntry> = entries
        .iter()
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            PutEventsEntry {
                time_ms: e.get("Time").and_then(timestamp_ms),
                source: text("Source"),
                resources: e
                    .get("Resources")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                detail_type: text("DetailType"),
                detail: text("Detail"),
                event_bus_name: text("EventBusName"),
                trace_header: text("TraceHeader"),
            }
        })
        .collect();
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

/// Epoch seconds (integer or fractional) or an ISO-8601 string, to ms.
fn timestamp_ms(v: &Value) -> Option<u64> {
    if let Some(f) = v.as_f64() {
        return (f >= 0.0).then(|| (f * 1000.0).round() as u64);
    }
    let s = v.as_str()?;
    if let Ok(f) = s.parse::<f64>() {
        return (f >= 0.0).then(|| (f * 1000.0).round() as u64);
    }
    parse_iso8601(s)
}

fn parse_iso8601(s: &str) -> Option<u64> {
    // YYYY-MM-DDThh:mm:ss[.fff]Z
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    let millis = s
        .get(20..)
        .and_then(|f| f.trim_end_matches('Z').get(..3))
        .and_then(|f| f.parse::<i64>().ok())
        .filter(|_| b[19] == b'.')
        .unwrap_or(0);
    u64::try_from(secs * 1000 + millis).ok()
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

fn target_from_json(v: &Value) -> TargetConfig {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    TargetConfig {
        id: text("Id").unwrap_or_default(),
        arn: text("Arn").unwrap_or_default(),
        role_arn: text("RoleArn"),
        input: text("Input"),
        input_path: text("InputPath"),
        input_transformer: v.get("InputTransformer").map(|t| InputTransformerConfig {
            input_paths_map: t
                .get("InputPathsMap")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            input_template: t
                .get("InputTemplate")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }),
        retry_policy: v.get("RetryPolicy").map(|p| RetryPolicy {
            maximum_retry_attempts: p
                .get("MaximumRetryAttempts")
                .and_then(Value::as_u64)
                .map(|n| n.min(u64::from(u32::MAX)) as u32),
            maximum_event_age_in_seconds: p
                .get("MaximumEventAgeInSeconds")
                .and_then(Value::as_u64)
                .map(|n| n.min(u64::from(u32::MAX)) as u32),
        }),
        dead_letter_config: v
            .get("DeadLetterConfig")
            .and_then(|d| d.get("Arn"))
            .and_then(Value::as_str)
            .map(|arn| DeadLetterConfig {
                arn: arn.to_string(),
            }),
    }
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

fn failed_entries(failed: &[crate::bus::FailedTarget]) -> Value {
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

    #[test]
    fn timestamps() {
        assert_eq!(timestamp_ms(&json!(1_714_564_800)), Some(1_714_564_800_000));
        assert_eq!(
            timestamp_ms(&json!(1_714_564_800.25)),
            Some(1_714_564_800_250)
        );
        assert_eq!(
            timestamp_ms(&json!("2024-05-01T12:00:00Z")),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            timestamp_ms(&json!("2024-05-01T12:00:00.042Z")),
            Some(1_714_564_800_042)
        );
        assert_eq!(timestamp_ms(&json!("yesterday")), None);
    }
}
