//! Authorization of control-plane requests: the action (`events:PutRule`,
//! `sqs:SendMessage`, ...) and the resource it acts on, decided by the
//! caller's identity policies and, for buses and their rules, the bus's
//! resource policy — before the operation runs. (PutEvents is authorized
//! per entry inside the bus.)

use serde_json::Value;

use super::partition::PartitionKey;
use super::{ApiError, AppState};
use ferrule_bus::{bus_name_of, denied_message};
use ferrule_policy::{Decision, Principal};

/// What one request acts on.
struct Resource {
    arn: String,
    /// The bus whose resource policy applies, if any.
    bus: Option<String>,
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn events_resource(state: &AppState, operation: &str, body: &Value) -> Resource {
    let bus = state.bus.as_ref();
    let on_bus = |name: Option<&str>| {
        let name = bus_name_of(name);
        Resource {
            arn: bus.bus_arn(&name),
            bus: Some(name),
        }
    };
    let on_rule = |rule: Option<&str>| {
        let name = bus_name_of(text(body, "EventBusName"));
        Resource {
            arn: bus.rule_arn(rule.unwrap_or(""), Some(&name)),
            bus: Some(name),
        }
    };
    match operation {
        "PutRule" | "DescribeRule" | "DeleteRule" | "EnableRule" | "DisableRule" => {
            on_rule(text(body, "Name"))
        }
        "PutTargets" | "RemoveTargets" | "ListTargetsByRule" => on_rule(text(body, "Rule")),
        "CreateEventBus" | "DescribeEventBus" | "DeleteEventBus" | "UpdateEventBus" => {
            on_bus(text(body, "Name"))
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            // The bus or rule named; a rule's bus policy applies to it.
            let arn = text(body, "ResourceARN").unwrap_or("*");
            let bus_name = arn
                .split_once(":event-bus/")
                .map(|(_, b)| b.to_string())
                .or_else(|| {
                    arn.split_once(":rule/")
                        .map(|(_, r)| match r.split_once('/') {
                            Some((b, _)) => b.to_string(),
                            None => "default".to_string(),
                        })
                });
            Resource {
                arn: arn.to_string(),
                bus: bus_name,
            }
        }
        "PutPermission" | "RemovePermission" | "ListRules" | "ListRuleNamesByTarget" => {
            on_bus(text(body, "EventBusName"))
        }
        // The resource types of the service's authorization reference:
        // `archive/NAME`, `replay/NAME`, `connection/NAME`,
        // `api-destination/NAME` (no UUID suffix in the policy's ARN).
        "CreateArchive" | "DescribeArchive" | "UpdateArchive" | "DeleteArchive" => {
            named(bus, "archive", text(body, "ArchiveName"))
        }
        "StartReplay" | "DescribeReplay" | "CancelReplay" => {
            named(bus, "replay", text(body, "ReplayName"))
        }
        "CreateConnection"
        | "DescribeConnection"
        | "UpdateConnection"
        | "DeleteConnection"
        | "DeauthorizeConnection" => named(bus, "connection", text(body, "Name")),
        "CreateApiDestination"
        | "DescribeApiDestination"
        | "UpdateApiDestination"
        | "DeleteApiDestination" => named(bus, "api-destination", text(body, "Name")),
        _ => Resource {
            arn: "*".into(),
            bus: None,
        },
    }
}

/// `arn:aws:events:REGION:ACCOUNT:KIND/NAME` (`*` when the request names none).
fn named(bus: &ferrule_bus::Bus, kind: &str, name: Option<&str>) -> Resource {
    Resource {
        arn: format!(
            "arn:aws:events:{}:{}:{kind}/{}",
            bus.region(),
            bus.account(),
            name.unwrap_or("*")
        ),
        bus: None,
    }
}

fn sqs_resource(state: &AppState, body: &Value) -> Resource {
    let name = text(body, "QueueUrl")
        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
        .or_else(|| text(body, "QueueName"));
    Resource {
        arn: name.map_or_else(|| "*".to_string(), |n| state.bus.queue_arn(n)),
        bus: None,
    }
}

/// The resource of a Step Functions call: the ARN it names, the ARN a
/// create makes, or `*` (task-token calls, lists).
fn states_resource(state: &AppState, operation: &str, body: &Value) -> Resource {
    let named = [
        "stateMachineArn",
        "executionArn",
        "activityArn",
        "stateMachineVersionArn",
        "stateMachineAliasArn",
        "resourceArn",
    ]
    .iter()
    .find_map(|k| text(body, k));
    let arn = match (operation, named, text(body, "name")) {
        (_, Some(a), _) => a.to_string(),
        ("CreateStateMachine", None, Some(n)) => format!(
            "arn:aws:states:{}:{}:stateMachine:{n}",
            state.bus.region(),
            state.bus.account()
        ),
        ("CreateActivity", None, Some(n)) => format!(
            "arn:aws:states:{}:{}:activity:{n}",
            state.bus.region(),
            state.bus.account()
        ),
        _ => "*".to_string(),
    };
    Resource { arn, bus: None }
}

fn denied(caller: &Principal, action: &str, resource: &str, decision: Decision) -> ApiError {
    ApiError::new(
        400,
        "AccessDeniedException",
        denied_message(caller, action, resource, decision),
    )
}

fn check(
    state: &AppState,
    caller: &Principal,
    action: &str,
    resource: &Resource,
) -> Result<(), ApiError> {
    let decision = state.bus.authorize(
        caller,
        action,
        &resource.arn,
        resource.bus.as_deref().unwrap_or(""),
        &[],
    )?;
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(denied(caller, action, &resource.arn, decision))
    }
}

/// Refuses the request unless `caller` may perform it.
pub(crate) fn authorize_request(
    state: &AppState,
    caller: &Principal,
    service: &str,
    operation: &str,
    body: &Value,
) -> Result<(), ApiError> {
    match service {
        // Entries are authorized one by one, in the bus.
        "AWSEvents" if operation == "PutEvents" => Ok(()),
        "AWSEvents" => {
            let action = format!("events:{operation}");
            check(
                state,
                caller,
                &action,
                &events_resource(state, operation, body),
            )?;
            if operation == "PutTargets" {
                check_forwarding(state, caller, body)?;
            }
            // A replay reads its archive: the caller must be allowed it there too.
            if operation == "StartReplay"
                && let Some(archive) = text(body, "EventSourceArn")
            {
                check(
                    state,
                    caller,
                    &action,
                    &Resource {
                        arn: archive.to_string(),
                        bus: None,
                    },
                )?;
            }
            Ok(())
        }
        "AmazonSQS" => check(
            state,
            caller,
            &format!("sqs:{operation}"),
            &sqs_resource(state, body),
        ),
        "AWSStepFunctions" => check(
            state,
            caller,
            &format!("states:{operation}"),
            &states_resource(state, operation, body),
        ),
        // Every service is listed above: a request for another never gets here.
        _ => Err(ApiError::new(
            500,
            "InternalFailure",
            format!("no authorization rule for the service {service}"),
        )),
    }
}

/// A rule may forward to another bus — of its account and Region, or of
/// another ([`crate::partition`]) — only if its author may put events there
/// (as the service checks the destination's policy at PutTargets); each
/// forwarded event is authorized again as its own caller.
fn check_forwarding(state: &AppState, caller: &Principal, body: &Value) -> Result<(), ApiError> {
    let Some(targets) = body.get("Targets").and_then(Value::as_array) else {
        return Ok(());
    };
    for arn in targets.iter().filter_map(|t| text(t, "Arn")) {
        let Some(name) = ferrule_core::arn::bus_name(arn) else {
            continue;
        };
        let resource = Resource {
            arn: arn.to_string(),
            bus: Some(name.to_string()),
        };
        if arn == state.bus.bus_arn(name) {
            check(state, caller, "events:PutEvents", &resource)?;
            continue;
        }
        // Another account's or Region's bus: its own policy decides.
        let invalid = |reason: String| {
            ApiError::new(
                400,
                "ValidationException",
                format!("Parameter {arn} is not valid. Reason: {reason}"),
            )
        };
        let (region, account) = ferrule_bus::arn_scope(arn)
            .ok_or_else(|| invalid("Provided Arn is not in correct format.".to_string()))?;
        let server = state
            .shared
            .server()
            .ok_or_else(|| ApiError::new(500, "InternalException", "the server is stopping"))?;
        let there = server
            .partition(&PartitionKey {
                account: account.to_string(),
                region: region.to_string(),
            })
            .map_err(invalid)?;
        check(&there, caller, "events:PutEvents", &resource)?;
    }
    Ok(())
}
