//! Buses, rules and targets as stored, with the service's validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::BusError;
use super::error::BusErrorKind;

/// Service quotas and sizes; the defaults are EventBridge's
/// ([`BusLimits::default`], then set the fields to change).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusLimits {
    /// Rules per bus (EventBridge: 300, adjustable).
    pub rules_per_bus: usize,
    /// Targets per rule (EventBridge: 5).
    pub targets_per_rule: usize,
    /// Entries per PutEvents request (10).
    pub entries_per_request: usize,
    /// Total size of a PutEvents request's entries (256 KiB).
    pub request_bytes: usize,
    /// Longest event pattern, in characters (the API's 4,096).
    pub pattern_chars: usize,
    /// Event buses per account (100).
    pub buses: usize,
    /// Connections per account and region (3,000).
    pub connections: usize,
    /// API destinations per account and region (3,000).
    pub api_destinations: usize,
    /// Highest `InvocationRateLimitPerSecond` of an API destination (300).
    pub invocation_rate_limit: u32,
    /// Archives per account (EventBridge: 200).
    pub archives: usize,
    /// Replays running at once per account (EventBridge: 10).
    pub active_replays: usize,
}

impl Default for BusLimits {
    fn default() -> Self {
        BusLimits {
            rules_per_bus: 300,
            targets_per_rule: 5,
            entries_per_request: 10,
            request_bytes: 256 * 1024,
            pattern_chars: 4096,
            buses: 100,
            connections: 3000,
            api_destinations: 3000,
            invocation_rate_limit: 300,
            archives: 200,
            active_replays: 10,
        }
    }
}

/// A stored event bus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusRecord {
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time (ms since the epoch).
    pub created_ms: u64,
    /// The resource policy (JSON text, validated), if any.
    #[serde(default)]
    pub policy: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `KmsKeyIdentifier`, as given (reported; the store does not encrypt with it).
    #[serde(default)]
    pub kms_key_identifier: Option<String>,
    /// `DeadLetterConfig.Arn` of the bus, as given (a built-in queue).
    #[serde(default)]
    pub dead_letter_arn: Option<String>,
    /// `LogConfig` (`IncludeDetail`, `Level`), as given (reported; no logs are shipped).
    #[serde(default)]
    pub log_config: Option<(Option<String>, Option<String>)>,
    /// When the bus was last changed by UpdateEventBus (ms).
    #[serde(default)]
    pub modified_ms: Option<u64>,
}

/// Whether a rule matches events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleState {
    /// Matching.
    #[default]
    #[serde(rename = "ENABLED")]
    Enabled,
    /// Not matching.
    #[serde(rename = "DISABLED")]
    Disabled,
    /// Matching, CloudTrail read-only management events included.
    #[serde(rename = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")]
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudtrailManagementEvents => {
                "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
            }
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Result<RuleState, BusError> {
        match text {
            "ENABLED" => Ok(RuleState::Enabled),
            "DISABLED" => Ok(RuleState::Disabled),
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => {
                Ok(RuleState::EnabledWithAllCloudtrailManagementEvents)
            }
            other => Err(BusError::constraint(
                other,
                "state",
                "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            )),
        }
    }

    /// Whether rules in this state match events.
    pub fn is_enabled(self) -> bool {
        self != RuleState::Disabled
    }
}

/// A stored rule and its targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    /// The name.
    pub name: String,
    /// The bus it belongs to.
    pub bus: String,
    /// The event pattern, as given.
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// The schedule expression, as given (run by the bus's scheduler).
    #[serde(default)]
    pub schedule_expression: Option<String>,
    /// The state.
    pub state: RuleState,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The role (stored, not used).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The targets, by id.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The AWS service that manages the rule (an archive's rule), which
    /// callers cannot change or delete.
    #[serde(default)]
    pub managed_by: Option<String>,
}

/// A target of a rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetConfig {
    /// Unique within the rule.
    pub id: String,
    /// Where to deliver: an http(s) URL, a built-in queue ARN, a bus ARN, or
    /// an ARN registered with [`Bus::register_target`](super::Bus::register_target).
    pub arn: String,
    /// The role (stored, not used).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// A constant payload (JSON text) instead of the event.
    #[serde(default)]
    pub input: Option<String>,
    /// A JSONPath selecting part of the event.
    #[serde(default)]
    pub input_path: Option<String>,
    /// A template filled from the event.
    #[serde(default)]
    pub input_transformer: Option<InputTransformerConfig>,
    /// Retry limits.
    #[serde(default)]
    pub retry_policy: Option<RetryPolicy>,
    /// Where failed deliveries go.
    #[serde(default)]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// `SqsParameters`: the message group of a FIFO queue target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<SqsParameters>,
    /// `HttpParameters`: path values, headers and query-string parameters of
    /// an API destination or HTTP target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_parameters: Option<HttpParameters>,
}

/// `SqsParameters`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqsParameters {
    /// `MessageGroupId`: the group of every message sent to the queue.
    #[serde(default)]
    pub message_group_id: Option<String>,
}

impl TargetConfig {
    /// The message group its messages carry (`SqsParameters.MessageGroupId`).
    pub fn message_group_id(&self) -> Option<&str> {
        self.sqs_parameters
            .as_ref()
            .and_then(|p| p.message_group_id.as_deref())
            .filter(|g| !g.is_empty())
    }
}

/// A FIFO queue target needs `SqsParameters.MessageGroupId`, as the
/// service requires (its message, a `ValidationException` of the request).
pub fn check_sqs_parameters(target: &TargetConfig) -> Result<(), BusError> {
    let fifo = ferrule_core::arn::queue_name(&target.arn).is_some_and(|q| q.ends_with(".fifo"));
    if fifo && target.message_group_id().is_none() {
        return Err(BusError::validation(format!(
            "Parameter(s) SqsParameters must be specified for target: {}.",
            target.id
        )));
    }
    Ok(())
}

/// `HttpParameters` of a target (static values: the service's model for
/// rule targets allows no JSONPath in them, unlike Pipes').
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpParameters {
    /// `PathParameterValues`: fill the endpoint's `*` wildcards in order.
    #[serde(default)]
    pub path_parameter_values: Vec<String>,
    /// `HeaderParameters`.
    #[serde(default)]
    pub header_parameters: BTreeMap<String, String>,
    /// `QueryStringParameters`.
    #[serde(default)]
    pub query_string_parameters: BTreeMap<String, String>,
}

/// `InputTransformer`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTransformerConfig {
    /// Placeholder name to JSONPath.
    #[serde(default)]
    pub input_paths_map: Vec<(String, String)>,
    /// The template.
    pub input_template: String,
}

/// `RetryPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt, 0 to 185 (default 185).
    #[serde(default)]
    pub maximum_retry_attempts: Option<u32>,
    /// Oldest event age to attempt, 60 to 86,400 seconds (default 86,400).
    #[serde(default)]
    pub maximum_event_age_in_seconds: Option<u32>,
}

impl RetryPolicy {
    /// Retries allowed.
    pub fn retries(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(185)
    }

    /// Maximum age in milliseconds.
    pub fn max_age_ms(&self) -> u64 {
        u64::from(self.maximum_event_age_in_seconds.unwrap_or(86_400)) * 1000
    }
}

/// `DeadLetterConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterConfig {
    /// The queue's ARN.
    pub arn: String,
}

fn name_chars(name: &str, slash: bool) -> bool {
    name.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') || (slash && b == b'/')
    })
}

/// Checks a rule name (1 to 64 of `[.-_A-Za-z0-9]`).
pub fn check_rule_name(name: &str, at: &str) -> Result<(), BusError> {
    if name.is_empty() {
        return Err(BusError::constraint(
            name,
            at,
            "Member must have length greater than or equal to 1",
        ));
    }
    if name.chars().count() > 64 {
        return Err(BusError::constraint(
            name,
            at,
            "Member must have length less than or equal to 64",
        ));
    }
    if !name_chars(name, false) {
        return Err(BusError::constraint(
            name,
            at,
            "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// Checks an event bus name given to CreateEventBus.
pub fn check_bus_name(name: &str) -> Result<(), BusError> {
    if name.is_empty() || name.chars().count() > 256 {
        return Err(BusError::constraint(
            name,
            "name",
            "Member must have length between 1 and 256",
        ));
    }
    if !name_chars(name, true) {
        return Err(BusError::constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+",
        ));
    }
    // '/' is for partner event buses, which ferrule does not host.
    if name.contains('/') {
        return Err(BusError::validation(format!(
            "Event bus name {name} is not valid: a custom event bus name cannot contain '/'."
        )));
    }
    Ok(())
}

/// Checks a target's fields (not its input settings).
pub fn check_target(target: &TargetConfig, position: usize) -> Result<(), BusError> {
    let at = |member: &str| format!("targets.{position}.member.{member}");
    if target.id.is_empty() {
        return Err(BusError::constraint(
            &target.id,
            &at("id"),
            "Member must have length greater than or equal to 1",
        ));
    }
    if target.id.chars().count() > 64 {
        return Err(BusError::constraint(
            &target.id,
            &at("id"),
            "Member must have length less than or equal to 64",
        ));
    }
    if !name_chars(&target.id, false) {
        return Err(BusError::constraint(
            &target.id,
            &at("id"),
            "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ));
    }
    if target.arn.is_empty() || target.arn.chars().count() > 1600 {
        return Err(BusError::constraint(
            &target.arn,
            &at("arn"),
            "Member must have length between 1 and 1600",
        ));
    }
    if let Some(p) = &target.retry_policy {
        if let Some(n) = p.maximum_retry_attempts
            && n > 185
        {
            return Err(BusError::constraint(
                &n.to_string(),
                &at("retryPolicy.maximumRetryAttempts"),
                "Member must have value less than or equal to 185",
            ));
        }
        if let Some(s) = p.maximum_event_age_in_seconds
            && !(60..=86_400).contains(&s)
        {
            let constraint = if s < 60 {
                "Member must have value greater than or equal to 60"
            } else {
                "Member must have value less than or equal to 86400"
            };
            return Err(BusError::constraint(
                &s.to_string(),
                &at("retryPolicy.maximumEventAgeInSeconds"),
                constraint,
            ));
        }
    }
    if let Some(d) = &target.dead_letter_config
        && ferrule_core::arn::queue_name(&d.arn).is_none()
    {
        return Err(BusError::validation(format!(
            "Parameter DeadLetterConfig.Arn is not valid for target {}: use a queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME).",
            target.id
        )));
    }
    Ok(())
}

/// Checks a schedule expression as EventBridge checks a rule's (with
/// `ferrule-schedule`'s parser, the one the scheduler runs): `rate(N unit)`
/// with a singular unit for 1 and a plural one otherwise, or `cron(...)` with
/// six fields where exactly one of day of month and day of week is `?`.
/// Anything else is `Parameter ScheduleExpression is not valid.` (or the
/// model's length message).
pub fn check_schedule(expression: &str) -> Result<(), BusError> {
    ferrule_schedule::ScheduleExpression::parse(expression, ferrule_schedule::Flavor::Rule)
        .map(|_| ())
        .map_err(|e| BusError::validation(e.message()))
}

/// Why ferrule refuses a target `arn`, if it does: an ARN not in the
/// service's format, a URL of a scheme other than http(s), or a kind of
/// target ferrule cannot deliver to. Targets ferrule delivers to: http(s)
/// URLs, built-in queues (`arn:aws:sqs:REGION:ACCOUNT:NAME`) and event buses
/// (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`); in-process targets
/// registered with [`Bus::register_target`](super::Bus::register_target) are
/// the embedder's business and are not checked here.
pub fn check_target_arn(arn: &str) -> Result<(), BusError> {
    let refuse = |reason: &str| {
        Err(BusError::validation(format!(
            "Parameter {arn} is not valid. Reason: {reason}"
        )))
    };
    if let Some((scheme, rest)) = arn.split_once("://") {
        if !matches!(scheme, "http" | "https") {
            return refuse("ferrule delivers to http:// and https:// URLs only.");
        }
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || host.contains(char::is_whitespace) {
            return refuse("Provided URL has no host.");
        }
        return Ok(());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _region, _account, resource] = parts[..] else {
        return refuse("Provided Arn is not in correct format.");
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if prefix != "arn" || !partition.starts_with("aws") || !word(service) || resource.is_empty() {
        return refuse("Provided Arn is not in correct format.");
    }
    match service {
        "sqs" if ferrule_core::arn::queue_name(arn).is_some_and(valid_queue_name) => Ok(()),
        "events"
            if ferrule_core::arn::bus_name(arn)
                .is_some_and(|b| !b.contains('/') && name_chars(b, false)) =>
        {
            Ok(())
        }
        "states" => states_target(arn),
        "events" if crate::connections::api_destination_name(arn).is_some() => Ok(()),
        _ => refuse(
            "ferrule cannot deliver to this kind of target; it delivers to http(s) URLs, \
             built-in queues (arn:aws:sqs:REGION:ACCOUNT:NAME) and event buses \
             (arn:aws:events:REGION:ACCOUNT:event-bus/NAME).",
        ),
    }
}

/// Checks a target's `DeadLetterConfig.Arn`: a built-in queue's ARN.
pub fn check_dead_letter_arn(arn: &str) -> Result<(), BusError> {
    check_target_arn(arn)?;
    match ferrule_core::arn::queue_name(arn) {
        None => Err(BusError::validation(format!(
            "Parameter {arn} is not valid. Reason: a dead-letter queue must be a queue \
             (arn:aws:sqs:REGION:ACCOUNT:NAME)."
        ))),
        // Dead letters carry no message group.
        Some(q) if q.ends_with(".fifo") => Err(BusError::validation(format!(
            "Parameter {arn} is not valid. Reason: a dead-letter queue must be a standard \
             queue, not a FIFO queue."
        ))),
        Some(_) => Ok(()),
    }
}

/// State-machine targets: refused until the states runner serves them (the
/// one place to lift when it does).
fn states_target(arn: &str) -> Result<(), BusError> {
    Err(BusError::validation(format!(
        "Parameter {arn} is not valid. Reason: state machine targets need ferrule's \
         states runner, which is not available yet."
    )))
}

/// A queue name: 1 to 80 of `[A-Za-z0-9_-]`, a FIFO queue's ending in `.fifo`.
fn valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (1..=80).contains(&name.len())
        && !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The bus name of an `EventBusName` parameter (a name or an ARN).
pub fn bus_of(name_or_arn: Option<&str>) -> String {
    match name_or_arn {
        None | Some("") => "default".to_string(),
        Some(s) => ferrule_core::arn::bus_name(s).unwrap_or(s).to_string(),
    }
}

/// `ResourceNotFoundException` for a bus.
pub fn no_bus(name: &str) -> BusError {
    BusError::new(
        BusErrorKind::ResourceNotFound,
        format!("Event bus {name} does not exist."),
    )
}

/// `ResourceNotFoundException` for a rule.
pub fn no_rule(name: &str, bus: &str) -> BusError {
    BusError::new(
        BusErrorKind::ResourceNotFound,
        format!("Rule {name} does not exist on EventBus {bus}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names() {
        assert!(check_rule_name("a.b-c_1", "name").is_ok());
        let e = check_rule_name("a b", "name").unwrap_err();
        assert!(
            e.message()
                .starts_with("1 validation error detected: Value 'a b' at 'name'")
        );
        assert!(check_rule_name(&"x".repeat(65), "name").is_err());
        assert!(check_rule_name("", "name").is_err());
    }

    #[test]
    fn schedules() {
        // Accepted by the service (AWS-validated examples).
        for ok in [
            "rate(5 minutes)",
            "rate(1 minute)",
            "rate(1 hour)",
            "rate(2 days)",
            "cron(0 12 * * ? *)",
            "cron(0 10 * * ? *)",
            "cron(0 18 ? * MON-FRI *)",
            "cron(0/15 * * * ? *)",
            "cron(15 10 ? * 6L 2002-2005)",
            "cron(0 2 ? * SAT#3 *)",
            "cron(* * ? * SAT#3 *)",
            "cron(5,35 14 * * ? *)",
            "cron(0/5 5 ? JAN 1-5 2022)",
            "cron(0 8 L * ? *)",
            "cron(0 8 15W * ? *)",
        ] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
        // Refused by the service.
        for bad in [
            "rate(1 minutes)",
            "rate(1 hours)",
            "rate(1 days)",
            "rate(2 minute)",
            "rate(10 hour)",
            "rate(10 day)",
            "rate(10 MINUTES)",
            "rate( 10 minutes )",
            " rate(10 minutes)",
            "rate(10  minutes)",
            "rate(0 minutes)",
            "rate(-10 minutes)",
            "rate(10 seconds)",
            "rate(10 years)",
            "rate(5 weeks)",
            "rate()",
            "rate(10)",
            "rate(foo minutes)",
            "cron(* * * * * *)",
            "cron(0 12 ? * ? *)",
            "cron(* * *)",
            "cron(0 12 * * ? * *)",
            "cron(60 * * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 ? 13 * *)",
            "cron(0 0 ? * 8 *)",
            "cron(0 0 ? * MON#6 *)",
            "cron(0 0 * * ? 1969)",
            "cron(0 0 * * ? 2200)",
            "cron(0/0 * * * ? *)",
            "cron(0  12 * * ? *)",
            "cron(a b c d e f)",
            "cron()",
            "every 5",
            "",
        ] {
            let e = check_schedule(bad).unwrap_err();
            assert_eq!(
                e.message(),
                "Parameter ScheduleExpression is not valid.",
                "{bad}"
            );
        }
    }

    #[test]
    fn target_arns() {
        for ok in [
            "https://example.com/hook",
            "http://127.0.0.1:9/x",
            "arn:aws:sqs:us-east-1:000000000000:inbox",
            "arn:aws:events:us-east-1:000000000000:event-bus/orders",
        ] {
            assert!(check_target_arn(ok).is_ok(), "{ok}");
        }
        let e = check_target_arn("test-bucket").unwrap_err();
        assert_eq!(
            e.message(),
            "Parameter test-bucket is not valid. Reason: Provided Arn is not in correct format."
        );
        for (bad, reason) in [
            ("file:///etc/passwd", "http:// and https://"),
            ("gopher://example.com/", "http:// and https://"),
            ("http://", "no host"),
            ("arn:aws:s3:::bucket", "cannot deliver"),
            (
                "arn:aws:lambda:us-east-1:000000000000:function:f",
                "cannot deliver",
            ),
            (
                "arn:aws:sqs:us-east-1:000000000000:a.b.fifo",
                "cannot deliver",
            ),
            (
                "arn:aws:events:us-east-1:000000000000:rule/r",
                "cannot deliver",
            ),
            (
                "arn:aws:states:us-east-1:000000000000:stateMachine:m",
                "states runner",
            ),
            ("arn:aws:sqs", "correct format"),
            ("arn::sqs:us-east-1:0:q", "correct format"),
        ] {
            let e = check_target_arn(bad).unwrap_err();
            assert!(e.message().contains(reason), "{bad}: {e}");
            assert_eq!(e.kind(), BusErrorKind::Validation);
        }
        assert!(check_dead_letter_arn("arn:aws:sqs:us-east-1:000000000000:dlq").is_ok());
        for bad in [
            "arn:aws:sqs:us-east-1:000000000000:dlq.fifo",
            "arn:aws:events:us-east-1:000000000000:event-bus/b",
            "https://example.com",
            "dlq",
        ] {
            assert!(check_dead_letter_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fifo_queue_targets_need_a_message_group() {
        let mut t = TargetConfig {
            id: "q".into(),
            arn: "arn:aws:sqs:us-east-1:000000000000:orders.fifo".into(),
            ..Default::default()
        };
        assert!(check_target_arn(&t.arn).is_ok());
        let e = check_sqs_parameters(&t).unwrap_err();
        assert_eq!(e.kind(), BusErrorKind::Validation);
        assert_eq!(
            e.message(),
            "Parameter(s) SqsParameters must be specified for target: q."
        );
        t.sqs_parameters = Some(SqsParameters {
            message_group_id: Some(String::new()),
        });
        assert!(check_sqs_parameters(&t).is_err(), "an empty group is none");
        t.sqs_parameters = Some(SqsParameters {
            message_group_id: Some("g".into()),
        });
        assert!(check_sqs_parameters(&t).is_ok());
        assert_eq!(t.message_group_id(), Some("g"));
        // A standard queue needs none.
        t.arn = "arn:aws:sqs:us-east-1:000000000000:orders".into();
        t.sqs_parameters = None;
        assert!(check_sqs_parameters(&t).is_ok());
        assert!(check_dead_letter_arn(&t.arn).is_ok());
        let fifo_dlq = "arn:aws:sqs:us-east-1:000000000000:dlq.fifo";
        assert!(check_dead_letter_arn(fifo_dlq).is_err());
        for bad in [".fifo", "a.b.fifo", "a.fifo.fifo"] {
            let arn = format!("arn:aws:sqs:us-east-1:000000000000:{bad}");
            assert!(check_target_arn(&arn).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets() {
        let mut t = TargetConfig {
            id: "t1".into(),
            arn: "https://example.com".into(),
            ..Default::default()
        };
        assert!(check_target(&t, 1).is_ok());
        t.id = "!@#$".into();
        let e = check_target(&t, 1).unwrap_err();
        assert!(e.message().contains("at 'targets.1.member.id'"), "{e}");
        t.id = "t".into();
        t.retry_policy = Some(RetryPolicy {
            maximum_retry_attempts: Some(186),
            maximum_event_age_in_seconds: None,
        });
        assert!(check_target(&t, 1).is_err());
        t.retry_policy = Some(RetryPolicy {
            maximum_retry_attempts: Some(0),
            maximum_event_age_in_seconds: Some(59),
        });
        assert!(check_target(&t, 1).is_err());
    }

    #[test]
    fn bus_names_from_arns() {
        assert_eq!(bus_of(None), "default");
        assert_eq!(bus_of(Some("orders")), "orders");
        assert_eq!(
            bus_of(Some(
                "arn:aws:events:us-east-1:000000000000:event-bus/orders"
            )),
            "orders"
        );
    }
}
