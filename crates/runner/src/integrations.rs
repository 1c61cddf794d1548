//! What a Task state can call inside ferrule: the bus (`events:putEvents`),
//! the built-in queues (`sqs:sendMessage`), other state machines
//! (`states:startExecution`, plain, `.sync`, `.sync:2`), activities, and
//! HTTP endpoints (`http:invoke`); each also with `.waitForTaskToken` where
//! the service has it. Anything else is refused when the state machine is
//! created ([`Resource::parse`]), so no task fails later for want of a
//! resource.

use std::time::Duration;

use ferrule_bus::PutEventsEntry;
use ferrule_states::{TaskContext, TaskExecutor, TaskOutcome};
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use crate::model::SyncMode;
use crate::runner::{Inner, StartRequest};

/// The longest an `http:invoke` request may take, as the service limits it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// A Task's `Resource`, as ferrule runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    /// `arn:aws:states:::events:putEvents[.waitForTaskToken]`.
    PutEvents { wait: bool },
    /// `arn:aws:states:::sqs:sendMessage[.waitForTaskToken]`.
    SendMessage { wait: bool },
    /// `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`.
    StartExecution { how: StartHow },
    /// `arn:aws:states:::http:invoke`.
    HttpInvoke,
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    Activity(String),
}

/// How a `startExecution` task waits for the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StartHow {
    /// Not at all: the output is StartExecution's answer.
    Plain,
    /// Until the child ends.
    Sync(SyncMode),
    /// Until `SendTaskSuccess` with the token.
    Token,
}

impl Resource {
    /// Reads a Task's `Resource`; `Err` says why ferrule cannot run it.
    pub(crate) fn parse(resource: &str) -> Result<Resource, String> {
        if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
            let (service, action) = rest.split_once(':').unwrap_or((rest, ""));
            let r = match (service, action) {
                ("events", "putEvents") => Resource::PutEvents { wait: false },
                ("events", "putEvents.waitForTaskToken") => Resource::PutEvents { wait: true },
                ("sqs", "sendMessage") => Resource::SendMessage { wait: false },
                ("sqs", "sendMessage.waitForTaskToken") => Resource::SendMessage { wait: true },
                ("states", "startExecution") => Resource::StartExecution {
                    how: StartHow::Plain,
                },
                ("states", "startExecution.sync") => Resource::StartExecution {
                    how: StartHow::Sync(SyncMode::Sync),
                },
                ("states", "startExecution.sync:2") => Resource::StartExecution {
                    how: StartHow::Sync(SyncMode::Sync2),
                },
                ("states", "startExecution.waitForTaskToken") => Resource::StartExecution {
                    how: StartHow::Token,
                },
                ("http", "invoke") => Resource::HttpInvoke,
                _ => return Err(unsupported(resource)),
            };
            return Ok(r);
        }
        let parts: Vec<&str> = resource.splitn(7, ':').collect();
        if let ["arn", p, "states", region, account, "activity", name] = parts[..]
            && p.starts_with("aws")
            && !region.is_empty()
            && !account.is_empty()
            && crate::model::check_name(name).is_ok()
        {
            return Ok(Resource::Activity(resource.to_string()));
        }
        Err(unsupported(resource))
    }
}

fn unsupported(resource: &str) -> String {
    format!(
        "The resource provided {resource} not recognized. ferrule runs Task states on \
         arn:aws:states:::events:putEvents, arn:aws:states:::sqs:sendMessage (each also \
         .waitForTaskToken), arn:aws:states:::states:startExecution (.sync, .sync:2, \
         .waitForTaskToken), arn:aws:states:::http:invoke and activities \
         (arn:aws:states:REGION:ACCOUNT:activity:NAME)."
    )
}

/// The task executor of one run of one execution.
pub(crate) struct Integrations<'a> {
    pub(crate) inner: &'a Inner,
}

fn failed(error: &str, cause: impl Into<String>) -> TaskOutcome {
    TaskOutcome::Failed {
        error: error.to_string(),
        cause: cause.into(),
    }
}

/// A parameter that is text, or JSON written as text (the service serializes
/// a JSON `Detail`, `MessageBody`, `Input` or `RequestBody`).
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The cause of a failed service call, in the service's shape.
fn service_cause(service: &str, message: &str, status: u16) -> String {
    format!(
        "{message} (Service: {service}, Status Code: {status}, Request ID: {})",
        uuid::Uuid::new_v4()
    )
}

impl TaskExecutor for Integrations<'_> {
    fn start(&self, resource: &str, params: &Value, ctx: &TaskContext<'_>) -> TaskOutcome {
        let r = match Resource::parse(resource) {
            Ok(r) => r,
            // Refused at CreateStateMachine; a stored definition from an
            // older ferrule could still name one.
            Err(why) => return failed("States.Runtime", why),
        };
        let pending = |submitted: Option<Value>| match ctx.task_token {
            Some(token) => TaskOutcome::Pending {
                token: token.to_string(),
                submitted,
            },
            None => failed(
                "States.Runtime",
                "no task token for a .waitForTaskToken task",
            ),
        };
        match r {
            Resource::PutEvents { wait } => match self.put_events(params, ctx) {
                Ok(out) if wait => pending(Some(out)),
                Ok(out) => TaskOutcome::Succeeded(out),
                Err(outcome) => outcome,
            },
            Resource::SendMessage { wait } => match self.send_message(params) {
                Ok(out) if wait => pending(Some(out)),
                Ok(out) => TaskOutcome::Succeeded(out),
                Err(outcome) => outcome,
            },
            Resource::StartExecution { how } => self.start_execution(params, ctx, how),
            Resource::HttpInvoke => http_invoke(params, &self.inner.bus),
            Resource::Activity(arn) => {
                let Some(token) = ctx.task_token else {
                    return failed("States.Runtime", "no task token for an activity task");
                };
                match self
                    .inner
                    .schedule_activity_task(&arn, token, params, ctx.execution_arn)
                {
                    Ok(()) => TaskOutcome::Pending {
                        token: token.to_string(),
                        submitted: None,
                    },
                    Err(e) => failed("States.Runtime", e.message()),
                }
            }
        }
    }
}

impl Integrations<'_> {
    fn put_events(&self, params: &Value, ctx: &TaskContext<'_>) -> Result<Value, TaskOutcome> {
        let bad = |m: &str| {
            failed(
                "EventBridge.ValidationException",
                service_cause("EventBridge", m, 400),
            )
        };
        let Some(entries) = params.get("Entries").and_then(Value::as_array) else {
            return Err(bad("Entries is required and must be a list."));
        };
        let mut out = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let Some(e) = e.as_object() else {
                return Err(bad(&format!("Entries[{i}] must be an object.")));
            };
            let text = |k: &str| e.get(k).map(as_text);
            // The service adds the state machine's and the execution's
            // ARNs to every entry's resources.
            let mut resources: Vec<String> = match e.get("Resources") {
                None => Vec::new(),
                Some(Value::Array(a)) => a.iter().map(as_text).collect(),
                Some(_) => return Err(bad(&format!("Entries[{i}].Resources must be a list."))),
            };
            resources.push(ctx.state_machine_arn.to_string());
            resources.push(ctx.execution_arn.to_string());
            let time_ms = match e.get("Time") {
                None => None,
                Some(Value::String(s)) => match ferrule_core::time::parse_rfc3339_ms(s) {
                    Some(ms) => Some(ms),
                    None => return Err(bad(&format!("Entries[{i}].Time is not a timestamp."))),
                },
                Some(Value::Number(n)) => n.as_f64().map(|s| (s * 1000.0) as u64),
                Some(_) => return Err(bad(&format!("Entries[{i}].Time is not a timestamp."))),
            };
            out.push(PutEventsEntry {
                time_ms,
                source: text("Source"),
                resources,
                detail_type: text("DetailType"),
                detail: text("Detail"),
                event_bus_name: text("EventBusName"),
                trace_header: text("TraceHeader"),
            });
        }
        let answer = self.inner.bus.put_events(out).map_err(|e| {
            failed(
                &format!("EventBridge.{}", e.kind().type_name()),
                service_cause("EventBridge", e.message(), 400),
            )
        })?;
        let results: Vec<Value> = answer
            .entries
            .iter()
            .map(|r| {
                let mut m = Map::new();
                if let Some(id) = &r.event_id {
                    m.insert("EventId".into(), json!(id));
                }
                if let Some(c) = &r.error_code {
                    m.insert("ErrorCode".into(), json!(c));
                }
                if let Some(msg) = &r.error_message {
                    m.insert("ErrorMessage".into(), json!(msg));
                }
                Value::Object(m)
            })
            .collect();
        let response = json!({"Entries": results, "FailedEntryCount": answer.failed_entry_count});
        if answer.failed_entry_count > 0 {
            // The service fails the task when any entry fails.
            return Err(failed("EventBridge.FailedEntry", response.to_string()));
        }
        Ok(response)
    }

    fn send_message(&self, params: &Value) -> Result<Value, TaskOutcome> {
        let bad = |m: &str| {
            failed(
                "SQS.InvalidParameterValueException",
                service_cause("Sqs", m, 400),
            )
        };
        let Some(url) = params.get("QueueUrl").and_then(Value::as_str) else {
            return Err(bad("The request must contain the parameter QueueUrl."));
        };
        let Some(body) = params.get("MessageBody").map(as_text) else {
            return Err(bad("The request must contain the parameter MessageBody."));
        };
        if body.is_empty() {
            return Err(bad("The request must contain the parameter MessageBody."));
        }
        for unsupported in [
            "MessageAttributes",
            "MessageSystemAttributes",
            "MessageGroupId",
        ] {
            if params.get(unsupported).is_some() {
                return Err(failed(
                    "SQS.UnsupportedOperationException",
                    service_cause(
                        "Sqs",
                        &format!("ferrule's built-in queues do not support {unsupported}."),
                        400,
                    ),
                ));
            }
        }
        let delay_s = match params.get("DelaySeconds") {
            None => 0,
            Some(v) => match v.as_u64().filter(|d| *d <= 900) {
                Some(d) => d,
                None => {
                    return Err(bad(
                        "Value for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.",
                    ));
                }
            },
        };
        let mut segments = url.trim_end_matches('/').rsplit('/');
        let name = segments.next().unwrap_or("");
        let bus = &self.inner.bus;
        // `http://HOST/ACCOUNT/NAME`: a queue of another account is not this
        // account's queue of the same name (queues have no resource policies
        // in ferrule, so another account's are out of reach).
        if let Some(account) = segments
            .next()
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            && account != bus.account()
        {
            return Err(failed(
                "SQS.AccessDeniedException",
                service_cause(
                    "Sqs",
                    &format!(
                        "Access to the queue {url} of account {account} is denied to account {}.",
                        bus.account()
                    ),
                    403,
                ),
            ));
        }
        if !bus.queues().is_ok_and(|q| q.iter().any(|n| n == name)) {
            return Err(failed(
                "SQS.QueueDoesNotExistException",
                service_cause("Sqs", "The specified queue does not exist.", 400),
            ));
        }
        let mut message = ferrule_store::NewMessage::new(body.clone());
        message.delay_ms = delay_s * 1000;
        let seq = bus
            .queue_store()
            .send(name, vec![message], bus.now_ms())
            .map_err(|e| {
                failed(
                    "SQS.SqsException",
                    service_cause("Sqs", &e.to_string(), 500),
                )
            })?;
        let id = ferrule_bus::message_id(seq.first().copied().unwrap_or_default());
        let md5 = Md5::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(json!({
            "MD5OfMessageBody": md5,
            "MessageId": id,
            "SdkHttpMetadata": {"HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
        }))
    }

    fn start_execution(&self, params: &Value, ctx: &TaskContext<'_>, how: StartHow) -> TaskOutcome {
        let Some(arn) = params.get("StateMachineArn").and_then(Value::as_str) else {
            return failed(
                "StepFunctions.InvalidArnException",
                service_cause("Sfn", "StateMachineArn is required.", 400),
            );
        };
        let input = params.get("Input").map(as_text);
        let name = params
            .get("Name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let internal = match how {
            StartHow::Sync(mode) => Some((uuid::Uuid::new_v4().simple().to_string(), mode)),
            _ => None,
        };
        let request = StartRequest {
            machine: arn.to_string(),
            name,
            input,
            parent: internal.as_ref().map(|(token, mode)| crate::model::Parent {
                execution_arn: ctx.execution_arn.to_string(),
                token: token.clone(),
                mode: *mode,
            }),
        };
        match self.inner.start_execution(request) {
            Err(e) => failed(
                &format!("StepFunctions.{}Exception", e.kind().type_name()),
                service_cause("Sfn", e.message(), 400),
            ),
            Ok(started) => {
                let out =
                    json!({"ExecutionArn": started.execution_arn, "StartDate": started.start_ms});
                match (how, internal) {
                    (StartHow::Plain, _) => TaskOutcome::Succeeded(out),
                    (StartHow::Token, _) => match ctx.task_token {
                        Some(t) => TaskOutcome::Pending {
                            token: t.to_string(),
                            submitted: Some(out),
                        },
                        None => failed("States.Runtime", "no task token"),
                    },
                    (StartHow::Sync(_), Some((token, _))) => {
                        self.inner.note_internal_token(ctx.execution_arn, &token);
                        TaskOutcome::Pending {
                            token,
                            submitted: Some(out),
                        }
                    }
                    (StartHow::Sync(_), None) => failed("States.Runtime", "no internal token"),
                }
            }
        }
    }
}

/// The output of a `.sync` child as the parent's task sees it: the child's
/// DescribeExecution in PascalCase, `Input`/`Output` as text (`.sync`) or
/// as JSON (`.sync:2`).
pub(crate) fn sync_output(describe: &Value, mode: SyncMode) -> Value {
    let mut m = Map::new();
    let Some(d) = describe.as_object() else {
        return Value::Null;
    };
    for (k, v) in d {
        let mut key = k.clone();
        if let Some(first) = key.get(0..1) {
            let upper = first.to_uppercase();
            key.replace_range(0..1, &upper);
        }
        let v = match (k.as_str(), mode) {
            ("input" | "output", SyncMode::Sync2) => v
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_else(|| v.clone()),
            ("startDate" | "stopDate", _) => v
                .as_f64()
                .map_or_else(|| v.clone(), |s| json!((s * 1000.0).round() as u64)),
            _ => v.clone(),
        };
        m.insert(key, v);
    }
    Value::Object(m)
}

/// `arn:aws:states:::http:invoke`: one request, at most 60 s; a 2xx answer
/// is the output, any other status fails the task with
/// `States.Http.StatusCode.NNN`. With `Authentication.ConnectionArn`, the
/// EventBridge connection's authorization and invocation headers and query
/// parameters are added (they win over the task's).
fn http_invoke(params: &Value, bus: &ferrule_bus::Bus) -> TaskOutcome {
    let Some(endpoint) = params.get("ApiEndpoint").and_then(Value::as_str) else {
        return failed("States.Runtime", "The field 'ApiEndpoint' is required.");
    };
    let Some(method) = params.get("Method").and_then(Value::as_str) else {
        return failed("States.Runtime", "The field 'Method' is required.");
    };
    let connection = match params
        .get("Authentication")
        .and_then(|a| a.get("ConnectionArn"))
    {
        None => None,
        Some(Value::String(arn)) => match bus.connection_for_requests(arn) {
            Ok(c) => Some(c),
            Err(e) => return failed("States.Runtime", e.message().to_string()),
        },
        Some(_) => {
            return failed(
                "States.Runtime",
                "The field 'Authentication.ConnectionArn' must be a string.",
            );
        }
    };
    // The connection's credentials, fetched before anything is sent.
    let auth = match connection.as_ref().map(|c| c.auth_header()) {
        Some(Err(e)) => return failed("States.Http.Socket", e.message),
        Some(Ok(h)) => h,
        None => None,
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return failed(
            "States.Runtime",
            format!("ApiEndpoint {endpoint} is not an http:// or https:// URL."),
        );
    }
    let mut url = endpoint.to_string();
    let mut query = params
        .get("QueryParameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut connection_headers = Vec::new();
    if let Some(c) = &connection {
        for p in &c.params.query {
            query.insert(p.key.clone(), Value::String(p.value.clone()));
        }
        for p in &c.params.headers {
            connection_headers.push((p.key.clone(), p.value.clone()));
        }
    }
    connection_headers.extend(auth);
    if !query.is_empty() {
        let q = &query;
        let mut pairs = form_pairs(q);
        if !pairs.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&std::mem::take(&mut pairs));
        }
    }
    let url_encoded = params
        .get("Transform")
        .and_then(|t| t.get("RequestBodyEncoding"))
        .and_then(Value::as_str)
        == Some("URL_ENCODED");
    let body = params.get("RequestBody").map(|b| match (b, url_encoded) {
        (Value::Object(o), true) => form_pairs(o),
        (other, _) => as_text(other),
    });
    let agent = ferrule_dispatch::http_client::agent(
        HTTP_TIMEOUT,
        ferrule_dispatch::http_client::FERRULE_USER_AGENT,
    );
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    let mut has_type = false;
    if let Some(h) = params.get("Headers").and_then(Value::as_object) {
        for (k, v) in h {
            if connection_headers
                .iter()
                .any(|(c, _)| c.eq_ignore_ascii_case(k))
            {
                continue;
            }
            has_type |= k.eq_ignore_ascii_case("content-type");
            builder = builder.header(k.as_str(), as_text(v));
        }
    }
    for (k, v) in &connection_headers {
        has_type |= k.eq_ignore_ascii_case("content-type");
        builder = builder.header(k.as_str(), v.as_str());
    }
    if body.is_some() && !has_type {
        let t = if url_encoded {
            "application/x-www-form-urlencoded"
        } else {
            "application/json; charset=UTF-8"
        };
        builder = builder.header("content-type", t);
    }
    let request = match builder.body(body.unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => return failed("States.Runtime", format!("invalid HTTP request: {e}")),
    };
    let mut response = match agent.run(request) {
        Ok(r) => r,
        Err(e) => {
            return failed(
                "States.Http.Socket",
                ferrule_dispatch::http_client::describe_error(&e),
            );
        }
    };
    let status = response.status();
    if matches!(status.as_u16(), 401 | 407)
        && let Some(c) = &connection
    {
        c.refused();
    }
    let mut headers = Map::new();
    for (k, v) in response.headers() {
        let entry = headers
            .entry(k.as_str().to_string())
            .or_insert_with(|| json!([]));
        if let (Some(list), Ok(v)) = (entry.as_array_mut(), v.to_str()) {
            list.push(json!(v));
        }
    }
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    let out = json!({
        "Headers": headers,
        "ResponseBody": body,
        "StatusCode": status.as_u16(),
        "StatusText": status.canonical_reason().unwrap_or(""),
    });
    if status.is_success() {
        TaskOutcome::Succeeded(out)
    } else {
        failed(
            &format!("States.Http.StatusCode.{}", status.as_u16()),
            out.to_string(),
        )
    }
}

/// `k=v&...` with percent-encoding (form encoding of the values).
fn form_pairs(m: &Map<String, Value>) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    m.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(&as_text(v))))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_ferrule_runs_and_those_it_refuses() {
        assert_eq!(
            Resource::parse("arn:aws:states:::events:putEvents.waitForTaskToken"),
            Ok(Resource::PutEvents { wait: true })
        );
        assert_eq!(
            Resource::parse("arn:aws:states:::states:startExecution.sync:2"),
            Ok(Resource::StartExecution {
                how: StartHow::Sync(SyncMode::Sync2)
            })
        );
        assert_eq!(
            Resource::parse("arn:aws:states:us-east-1:123456789012:activity:review"),
            Ok(Resource::Activity(
                "arn:aws:states:us-east-1:123456789012:activity:review".into()
            ))
        );
        for refused in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:states:::events:putEvents.sync",
            "arn:aws:states:::http:invoke.waitForTaskToken",
            "arn:aws:states:us-east-1:1:activity:",
        ] {
            let why = Resource::parse(refused).unwrap_err();
            assert!(why.contains(refused), "{why}");
        }
    }

    #[test]
    fn sync_outputs_are_pascal_case_with_json_for_sync2() {
        let d = json!({"executionArn": "a", "input": "{\"x\":1}", "output": "[2]", "startDate": 1.5, "status": "SUCCEEDED"});
        let one = sync_output(&d, SyncMode::Sync);
        assert_eq!(one["Output"], json!("[2]"));
        assert_eq!(one["StartDate"], json!(1500));
        assert_eq!(one["ExecutionArn"], json!("a"));
        let two = sync_output(&d, SyncMode::Sync2);
        assert_eq!(two["Output"], json!([2]));
        assert_eq!(two["Input"], json!({"x": 1}));
    }

    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        let m = json!({"q": "a b&c", "n": 3});
        let s = form_pairs(m.as_object().unwrap());
        assert_eq!(s, "q=a%20b%26c&n=3");
    }
}
