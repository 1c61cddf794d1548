//! Scheduler's requests and records: reading and validating them as the
//! service does (botocore's `scheduler` 2021-06-30 model), and turning a
//! stored schedule into what the bus's scheduler runs.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ApiError;
use crate::events::wire::{Int, Obj, Str, Text, Violations};
use ferrule_bus::{Bus, FirePayload, FireTarget, RetryPolicy, TimedSchedule};
use ferrule_schedule::jiff::Timestamp;
use ferrule_schedule::{
    Flavor, FlexibleTimeWindow, Schedule, ScheduleExpression, Window, parse_timezone,
};

/// Names of schedules and groups.
pub(crate) const NAME: Text = Text::pattern(1, 64, "[0-9a-zA-Z-_.]+");
const ROLE_ARN: Text = Text::pattern(1, 1600, r"arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+");
const DLQ_ARN: Text = Text::pattern(
    1,
    1600,
    r"arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+",
);
const KMS_ARN: Text = Text::pattern(
    1,
    2048,
    r"arn:aws[a-z-]*:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*",
);
const SOURCE: &str = r"(?=[/\.\-_A-Za-z0-9]+)((?!aws\.).*)|(\$(\.[\w_-]+(\[(\d+|\*)\])*)*)";

/// The universal targets (`arn:aws:scheduler:::aws-sdk:SERVICE:ACTION`) that
/// become ferrule's own target kinds (a queue, a bus, a state machine);
/// every other operation ferrule serves runs in process (`crate::universal`).
pub(crate) const UNIVERSAL: [&str; 3] = [
    "sqs:sendMessage",
    "eventbridge:putEvents",
    "sfn:startExecution",
];

/// `Target` of CreateSchedule / UpdateSchedule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TargetIn {
    pub arn: Option<Str>,
    pub role_arn: Option<Str>,
    pub input: Option<Str>,
    pub retry_policy: Option<Obj<RetryIn>>,
    pub dead_letter_config: Option<Obj<DeadLetterIn>>,
    pub event_bridge_parameters: Option<Obj<EventBridgeIn>>,
    pub sqs_parameters: Option<Obj<SqsIn>>,
    pub ecs_parameters: Option<Value>,
    pub kinesis_parameters: Option<Value>,
    pub sage_maker_pipeline_parameters: Option<Value>,
    pub event_bridge_put_events_v2_parameters: Option<Value>,
    pub event_bridge_put_raw_events_parameters: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetryIn {
    pub maximum_event_age_in_seconds: Option<Int>,
    pub maximum_retry_attempts: Option<Int>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeadLetterIn {
    pub arn: Option<Str>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EventBridgeIn {
    pub detail_type: Option<Str>,
    pub source: Option<Str>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SqsIn {
    pub message_group_id: Option<Str>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FlexibleIn {
    pub mode: Option<Str>,
    pub maximum_window_in_minutes: Option<Int>,
}

/// A number of epoch seconds (REST-JSON's timestamps), as milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EpochMs(pub i64);

impl<'de> Deserialize<'de> for EpochMs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EpochMs, D::Error> {
        use serde::de::Error as _;
        let v = Value::deserialize(d)?;
        let seconds = match &v {
            Value::Number(n) => n.as_f64(),
            // Also ISO 8601 text, as some SDKs send it.
            Value::String(s) => ferrule_core::time::parse_rfc3339_ms(s).map(|ms| ms as f64 / 1e3),
            _ => None,
        };
        match seconds {
            Some(s) if s.is_finite() && s.abs() < 1e13 => Ok(EpochMs((s * 1e3).round() as i64)),
            _ => Err(D::Error::custom(crate::events::wire::not_scalar(
                &v,
                "a Timestamp",
            ))),
        }
    }
}

/// The body of CreateSchedule and UpdateSchedule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleIn {
    pub group_name: Option<Str>,
    pub schedule_expression: Option<Str>,
    pub start_date: Option<EpochMs>,
    pub end_date: Option<EpochMs>,
    pub description: Option<Str>,
    pub schedule_expression_timezone: Option<Str>,
    pub state: Option<Str>,
    pub kms_key_arn: Option<Str>,
    pub target: Option<Obj<TargetIn>>,
    pub flexible_time_window: Option<Obj<FlexibleIn>>,
    pub client_token: Option<Str>,
    pub action_after_completion: Option<Str>,
}

/// A schedule group, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    pub name: String,
    pub created_ms: u64,
    pub modified_ms: u64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

/// A schedule, as stored (its target and window as given, for GetSchedule).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ScheduleRecord {
    pub name: String,
    pub group: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub description: Option<String>,
    pub state: String,
    pub kms_key_arn: Option<String>,
    pub target: Value,
    pub flexible: Value,
    pub action_after_completion: Option<String>,
    pub created_ms: u64,
    pub modified_ms: u64,
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "ValidationException", message)
}

/// The request's constraint violations (the model's), as one error.
pub(crate) fn check_constraints(name: &str, r: &ScheduleIn) -> Result<(), ApiError> {
    let mut v = Violations::default();
    v.text(Some(&Str(name.to_string())), "name", NAME);
    v.text(r.group_name.as_ref(), "groupName", NAME);
    v.required_text(
        r.schedule_expression.as_ref(),
        "scheduleExpression",
        Text::len(1, 256),
    );
    v.text(r.description.as_ref(), "description", Text::len(0, 512));
    v.text(
        r.schedule_expression_timezone.as_ref(),
        "scheduleExpressionTimezone",
        Text::len(1, 50),
    );
    v.one_of(r.state.as_ref(), "state", &["ENABLED", "DISABLED"]);
    v.text(r.kms_key_arn.as_ref(), "kmsKeyArn", KMS_ARN);
    v.text(
        r.client_token.as_ref(),
        "clientToken",
        Text::pattern(1, 64, "[a-zA-Z0-9-_]+"),
    );
    v.one_of(
        r.action_after_completion.as_ref(),
        "actionAfterCompletion",
        &["NONE", "DELETE"],
    );
    v.required(r.target.as_ref(), "target");
    if let Some(Obj(t)) = &r.target {
        v.required_text(t.arn.as_ref(), "target.arn", Text::len(1, 1600));
        v.required_text(t.role_arn.as_ref(), "target.roleArn", ROLE_ARN);
        v.text(
            t.input.as_ref(),
            "target.input",
            Text {
                min: Some(1),
                max: None,
                pattern: None,
            },
        );
        if let Some(Obj(p)) = &t.retry_policy {
            v.range(
                p.maximum_event_age_in_seconds,
                "target.retryPolicy.maximumEventAgeInSeconds",
                Some(60),
                Some(86_400),
            );
            v.range(
                p.maximum_retry_attempts,
                "target.retryPolicy.maximumRetryAttempts",
                Some(0),
                Some(185),
            );
        }
        if let Some(Obj(d)) = &t.dead_letter_config {
            v.text(d.arn.as_ref(), "target.deadLetterConfig.arn", DLQ_ARN);
        }
        if let Some(Obj(e)) = &t.event_bridge_parameters {
            v.required_text(
                e.detail_type.as_ref(),
                "target.eventBridgeParameters.detailType",
                Text::len(1, 128),
            );
            v.required_text(
                e.source.as_ref(),
                "target.eventBridgeParameters.source",
                Text::len(1, 256),
            );
        }
        if let Some(Obj(s)) = &t.sqs_parameters {
            v.text(
                s.message_group_id.as_ref(),
                "target.sqsParameters.messageGroupId",
                Text::len(1, 128),
            );
        }
    }
    v.required(r.flexible_time_window.as_ref(), "flexibleTimeWindow");
    if let Some(Obj(f)) = &r.flexible_time_window {
        v.required(f.mode.as_ref(), "flexibleTimeWindow.mode");
        v.one_of(
            f.mode.as_ref(),
            "flexibleTimeWindow.mode",
            &["OFF", "FLEXIBLE"],
        );
        v.range(
            f.maximum_window_in_minutes,
            "flexibleTimeWindow.maximumWindowInMinutes",
            Some(1),
            Some(1440),
        );
    }
    v.finish()?;
    // The Source pattern has a look-ahead, which the regex crate does not
    // take: the same rule, written out (not `aws.`-prefixed, and made of
    // `/ . - _` letters and digits; or a JSON path `$.a.b[0]`).
    if let Some(Obj(t)) = &r.target
        && let Some(Obj(e)) = &t.event_bridge_parameters
        && let Some(Str(source)) = &e.source
        && !source_ok(source)
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{source}' at 'target.eventBridgeParameters.source' failed to satisfy constraint: Member must satisfy regular expression pattern: {SOURCE}"
        )));
    }
    Ok(())
}

fn source_ok(source: &str) -> bool {
    let first_ok = source
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || "/.-_".contains(c));
    (first_ok && !source.starts_with("aws.")) || source.starts_with('$')
}

/// A validated request, ready to be stored (`now`: the request's time;
/// `created_ms`: the schedule's creation, for an update).
pub(crate) fn record(
    name: &str,
    r: &ScheduleIn,
    now: u64,
    created_ms: Option<u64>,
) -> Result<ScheduleRecord, ApiError> {
    check_constraints(name, r)?;
    let Some(Str(expression)) = &r.schedule_expression else {
        return Err(validation("ScheduleExpression is required."));
    };
    let (Some(Obj(target)), Some(Obj(flex))) = (&r.target, &r.flexible_time_window) else {
        return Err(validation("Target and FlexibleTimeWindow are required."));
    };
    let now_i = now as i64;
    if let Some(EpochMs(start)) = r.start_date
        && start < now_i - 5 * 60_000
    {
        return Err(validation(
            "The StartDate you specify cannot be earlier than 5 minutes prior to the current time.",
        ));
    }
    if let Some(EpochMs(end)) = r.end_date
        && end <= now_i
    {
        return Err(validation(
            "The EndDate you specify cannot be earlier than the current time.",
        ));
    }
    let mut target_json = json!({
        "Arn": target.arn.as_ref().map(|s| s.0.clone()),
        "RoleArn": target.role_arn.as_ref().map(|s| s.0.clone()),
    });
    if let Some(Str(input)) = &target.input {
        target_json["Input"] = json!(input);
    }
    if let Some(Obj(p)) = &target.retry_policy {
        let mut rp = json!({});
        if let Some(Int(n)) = p.maximum_event_age_in_seconds {
            rp["MaximumEventAgeInSeconds"] = json!(n);
        }
        if let Some(Int(n)) = p.maximum_retry_attempts {
            rp["MaximumRetryAttempts"] = json!(n);
        }
        target_json["RetryPolicy"] = rp;
    }
    if let Some(Obj(d)) = &target.dead_letter_config {
        target_json["DeadLetterConfig"] = json!({"Arn": d.arn.as_ref().map(|s| s.0.clone())});
    }
    if let Some(Obj(e)) = &target.event_bridge_parameters {
        target_json["EventBridgeParameters"] = json!({
            "DetailType": e.detail_type.as_ref().map(|s| s.0.clone()),
            "Source": e.source.as_ref().map(|s| s.0.clone()),
        });
    }
    if let Some(Obj(s)) = &target.sqs_parameters {
        let mut sp = json!({});
        if let Some(Str(g)) = &s.message_group_id {
            sp["MessageGroupId"] = json!(g);
        }
        target_json["SqsParameters"] = sp;
    }
    // Kept as given: targets ferrule does not serve are refused with them.
    for (member, value) in [
        ("EcsParameters", &target.ecs_parameters),
        ("KinesisParameters", &target.kinesis_parameters),
        (
            "SageMakerPipelineParameters",
            &target.sage_maker_pipeline_parameters,
        ),
        (
            "EventBridgePutEventsV2Parameters",
            &target.event_bridge_put_events_v2_parameters,
        ),
        (
            "EventBridgePutRawEventsParameters",
            &target.event_bridge_put_raw_events_parameters,
        ),
    ] {
        if let Some(v) = value {
            target_json[member] = v.clone();
        }
    }
    let mut flex_json = json!({"Mode": flex.mode.as_ref().map(|s| s.0.clone())});
    if let Some(Int(w)) = flex.maximum_window_in_minutes {
        flex_json["MaximumWindowInMinutes"] = json!(w);
    }
    let record = ScheduleRecord {
        name: name.to_string(),
        group: r
            .group_name
            .as_ref()
            .map_or_else(|| "default".to_string(), |g| g.0.clone()),
        expression: expression.clone(),
        timezone: r.schedule_expression_timezone.as_ref().map(|s| s.0.clone()),
        start_ms: r.start_date.map(|d| d.0),
        end_ms: r.end_date.map(|d| d.0),
        description: r.description.as_ref().map(|s| s.0.clone()),
        state: r
            .state
            .as_ref()
            .map_or_else(|| "ENABLED".to_string(), |s| s.0.clone()),
        kms_key_arn: r.kms_key_arn.as_ref().map(|s| s.0.clone()),
        target: target_json,
        flexible: flex_json,
        action_after_completion: r.action_after_completion.as_ref().map(|s| s.0.clone()),
        created_ms: created_ms.unwrap_or(now),
        modified_ms: now,
    };
    Ok(record)
}

/// The schedule's ARN.
pub(crate) fn schedule_arn(bus: &Bus, group: &str, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
        bus.region(),
        bus.account()
    )
}

/// A group's ARN.
pub(crate) fn group_arn(bus: &Bus, group: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule-group/{group}",
        bus.region(),
        bus.account()
    )
}

fn ts(ms: i64) -> Result<Timestamp, ApiError> {
    Timestamp::from_millisecond(ms).map_err(|e| validation(format!("Invalid date: {e}")))
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// What the bus's scheduler runs for `record`, or the service's refusal
/// (an expression, time zone, window or target it does not take).
/// `after_ms`: only runs after it fire.
pub(crate) fn timed(
    bus: &Bus,
    record: &ScheduleRecord,
    after_ms: u64,
) -> Result<TimedSchedule, ApiError> {
    let expression = ScheduleExpression::parse(&record.expression, Flavor::Scheduler)
        .map_err(|e| validation(e.message()))?;
    let timezone = match &record.timezone {
        Some(name) => parse_timezone(name).map_err(|e| validation(e.message()))?,
        None => ferrule_schedule::jiff::tz::TimeZone::UTC,
    };
    let mode = text(&record.flexible, "Mode").unwrap_or("OFF");
    let window_minutes = record
        .flexible
        .get("MaximumWindowInMinutes")
        .and_then(Value::as_i64);
    let flexible =
        FlexibleTimeWindow::parse(mode, window_minutes).map_err(|e| validation(e.message()))?;
    let start = ts(record.start_ms.unwrap_or(record.created_ms as i64))?;
    let end = record.end_ms.map(ts).transpose()?;
    let window = Window::new(start, end).map_err(|e| validation(e.message()))?;
    let arn = schedule_arn(bus, &record.group, &record.name);
    let targets = fire_targets(bus, &record.target)?;
    Ok(TimedSchedule {
        key: arn.clone(),
        arn: arn.clone(),
        schedule: Schedule {
            identity: arn,
            expression,
            timezone,
            window,
            flexible,
        },
        enabled: record.state == "ENABLED",
        targets,
        counter_group: format!("scheduler/{}", record.group),
        counter_name: record.name.clone(),
        after_ms,
        delete_after_completion: record.action_after_completion.as_deref() == Some("DELETE"),
    })
}

/// The deliveries of one run: the target as the bus delivers it.
fn fire_targets(bus: &Bus, target: &Value) -> Result<Vec<FireTarget>, ApiError> {
    let arn = text(target, "Arn").unwrap_or_default();
    let input = text(target, "Input");
    let retry_policy = RetryPolicy {
        maximum_retry_attempts: target
            .pointer("/RetryPolicy/MaximumRetryAttempts")
            .and_then(Value::as_u64)
            .map(|n| n as u32),
        maximum_event_age_in_seconds: target
            .pointer("/RetryPolicy/MaximumEventAgeInSeconds")
            .and_then(Value::as_u64)
            .map(|n| n as u32),
    };
    let dead_letter_arn = target
        .pointer("/DeadLetterConfig/Arn")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message_group_id = target
        .pointer("/SqsParameters/MessageGroupId")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
        .map(str::to_string);
    let one = |arn: String, payload: FirePayload| FireTarget {
        id: "target".into(),
        arn,
        payload,
        retry_policy,
        dead_letter_arn: dead_letter_arn.clone(),
        message_group_id: message_group_id.clone(),
    };
    if let Some(d) = &dead_letter_arn {
        bus.check_dead_letter_arn(d)
            .map_err(|e| validation(e.message().to_string()))?;
    }
    let check = |arn: &str| {
        bus.check_target_arn(arn)
            .map_err(|e| validation(e.message().to_string()))
    };
    // Without Input, a templated target is sent an empty JSON object.
    let body = || input.unwrap_or("{}").to_string();
    if let Some(operation) = arn.strip_prefix("arn:aws:scheduler:::aws-sdk:") {
        return universal(bus, arn, operation, input, &one, &check);
    }
    if target.get("EventBridgeParameters").is_some() || ferrule_core::arn::bus_name(arn).is_some() {
        if ferrule_core::arn::bus_name(arn).is_none() {
            return Err(validation(format!(
                "EventBridgeParameters is for event bus targets; {arn} is not an event bus."
            )));
        }
        check(arn)?;
        let (Some(source), Some(detail_type)) = (
            target
                .pointer("/EventBridgeParameters/Source")
                .and_then(Value::as_str),
            target
                .pointer("/EventBridgeParameters/DetailType")
                .and_then(Value::as_str),
        ) else {
            return Err(validation(
                "EventBridgeParameters (DetailType and Source) are required for an event bus target.",
            ));
        };
        check_detail(input)?;
        return Ok(vec![one(
            arn.to_string(),
            FirePayload::Event {
                source: source.to_string(),
                detail_type: detail_type.to_string(),
                detail: body(),
            },
        )]);
    }
    for (member, what) in [
        ("EcsParameters", "Amazon ECS"),
        ("KinesisParameters", "Amazon Kinesis"),
        ("SageMakerPipelineParameters", "Amazon SageMaker"),
        (
            "EventBridgePutEventsV2Parameters",
            "EventBridge PutEvents v2",
        ),
        (
            "EventBridgePutRawEventsParameters",
            "EventBridge raw events",
        ),
    ] {
        if target.get(member).is_some() {
            return Err(validation(format!(
                "{member}: ferrule does not serve {what} targets; it delivers to its queues (SqsParameters), event buses (EventBridgeParameters), state machines and http(s) URLs."
            )));
        }
    }
    if target.get("SqsParameters").is_some() && ferrule_core::arn::queue_name(arn).is_none() {
        return Err(validation(format!(
            "SqsParameters is for Amazon SQS targets; {arn} is not a queue."
        )));
    }
    // A FIFO queue takes no message without a group: refused here rather
    // than failing every fire.
    if ferrule_core::arn::queue_name(arn).is_some_and(|q| q.ends_with(".fifo"))
        && message_group_id.is_none()
    {
        return Err(validation(format!(
            "SqsParameters.MessageGroupId is required for the FIFO queue target {arn}."
        )));
    }
    check(arn)?;
    Ok(vec![one(arn.to_string(), FirePayload::Template(body()))])
}

/// An event's detail must be a JSON object (checked once, at create).
fn check_detail(input: Option<&str>) -> Result<(), ApiError> {
    let Some(input) = input else { return Ok(()) };
    match serde_json::from_str::<Value>(input) {
        Ok(Value::Object(_)) => Ok(()),
        _ if input.contains("<aws.scheduler.") => Ok(()),
        _ => Err(validation(
            "The Input of an event bus target must be a JSON object (the event's detail).",
        )),
    }
}

/// `arn:aws:scheduler:::aws-sdk:SERVICE:ACTION` for the operations ferrule
/// serves; `Input` is the operation's request.
fn universal(
    bus: &Bus,
    arn: &str,
    operation: &str,
    input: Option<&str>,
    one: &dyn Fn(String, FirePayload) -> FireTarget,
    check: &dyn Fn(&str) -> Result<(), ApiError>,
) -> Result<Vec<FireTarget>, ApiError> {
    // A StartExecution that names its execution runs as the request says
    // (the templated path names executions after the fire).
    let named_start = operation == "sfn:startExecution"
        && input
            .and_then(|i| serde_json::from_str::<Value>(i).ok())
            .is_some_and(|v| v.get("Name").is_some());
    if !UNIVERSAL.contains(&operation) || named_start {
        // Any other operation ferrule serves runs in process with the Input
        // as its request (crate::universal); what it does not serve is refused.
        crate::universal::operation(arn)
            .map_err(|why| validation(format!("Invalid universal target {arn}: {why}")))?;
        check(arn)?;
        let request = input.unwrap_or("{}");
        if !request.contains("<aws.scheduler.")
            && !serde_json::from_str::<Value>(request).is_ok_and(|v| v.is_object())
        {
            return Err(validation(format!(
                "The Input of universal target {arn} must be the JSON request of {operation}."
            )));
        }
        return Ok(vec![one(
            arn.to_string(),
            FirePayload::Template(request.to_string()),
        )]);
    }
    let request: Value = input
        .and_then(|i| serde_json::from_str(i).ok())
        .filter(Value::is_object)
        .ok_or_else(|| {
            validation(format!(
                "The Input of universal target {arn} must be the JSON request of {operation}."
            ))
        })?;
    let need = |key: &str| {
        text(&request, key).ok_or_else(|| {
            validation(format!(
                "The Input of universal target {arn} lacks {key} (a string)."
            ))
        })
    };
    match operation {
        "sqs:sendMessage" => {
            let url = need("QueueUrl")?;
            let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            let queue = bus.queue_arn(name);
            check(&queue)?;
            let body = need("MessageBody")?;
            Ok(vec![one(queue, FirePayload::Template(body.to_string()))])
        }
        "sfn:startExecution" => {
            let machine = need("StateMachineArn")?;
            check(machine)?;
            let body = text(&request, "Input").unwrap_or("{}");
            Ok(vec![one(
                machine.to_string(),
                FirePayload::Template(body.to_string()),
            )])
        }
        _ => {
            // eventbridge:putEvents
            let entries = request
                .get("Entries")
                .and_then(Value::as_array)
                .filter(|e| !e.is_empty() && e.len() <= 10)
                .ok_or_else(|| {
                    validation(format!(
                        "The Input of universal target {arn} needs Entries: 1 to 10 events."
                    ))
                })?;
            let mut targets = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                let bus_name = text(e, "EventBusName").unwrap_or("default");
                let bus_arn = if bus_name.starts_with("arn:") {
                    bus_name.to_string()
                } else {
                    bus.bus_arn(bus_name)
                };
                check(&bus_arn)?;
                let (Some(source), Some(detail_type)) = (text(e, "Source"), text(e, "DetailType"))
                else {
                    return Err(validation(format!(
                        "Entries[{i}] of universal target {arn} needs Source and DetailType."
                    )));
                };
                let detail = text(e, "Detail").unwrap_or("{}");
                check_detail(Some(detail))?;
                let mut t = one(
                    bus_arn,
                    FirePayload::Event {
                        source: source.to_string(),
                        detail_type: detail_type.to_string(),
                        detail: detail.to_string(),
                    },
                );
                t.id = format!("entry-{i}");
                targets.push(t);
            }
            Ok(targets)
        }
    }
}

/// Epoch seconds, as REST-JSON writes timestamps.
pub(crate) fn seconds(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1e3)
    }
}

/// GetSchedule's answer.
pub(crate) fn describe(bus: &Bus, r: &ScheduleRecord) -> Value {
    let mut out = json!({
        "Arn": schedule_arn(bus, &r.group, &r.name),
        "GroupName": r.group,
        "Name": r.name,
        "ScheduleExpression": r.expression,
        "ScheduleExpressionTimezone": r.timezone.as_deref().unwrap_or("UTC"),
        "State": r.state,
        "CreationDate": seconds(r.created_ms as i64),
        "LastModificationDate": seconds(r.modified_ms as i64),
        "Target": r.target,
        "FlexibleTimeWindow": r.flexible,
        "ActionAfterCompletion": r.action_after_completion.as_deref().unwrap_or("NONE"),
    });
    if let Some(d) = &r.description {
        out["Description"] = json!(d);
    }
    if let Some(s) = r.start_ms {
        out["StartDate"] = seconds(s);
    }
    if let Some(e) = r.end_ms {
        out["EndDate"] = seconds(e);
    }
    if let Some(k) = &r.kms_key_arn {
        out["KmsKeyArn"] = json!(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_as_the_pattern_reads_them() {
        for ok in ["my.app", "orders", "/x", "$.detail.a[0]", "_a-b"] {
            assert!(source_ok(ok), "{ok}");
        }
        for bad in ["aws.scheduler", "aws.events", " x", "", "!x"] {
            assert!(!source_ok(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        assert_eq!(seconds(1_714_564_800_000), json!(1_714_564_800));
        assert_eq!(seconds(1_714_564_800_500), json!(1_714_564_800.5));
        let d: EpochMs = serde_json::from_value(json!(1_714_564_800.25)).unwrap_or(EpochMs(0));
        assert_eq!(d.0, 1_714_564_800_250);
        assert!(serde_json::from_value::<EpochMs>(json!([1])).is_err());
    }
}
