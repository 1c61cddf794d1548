//! Buses, rules and targets as stored, with the service's validation.

use serde::{Deserialize, Serialize};

use super::BusError;
use super::error::BusErrorKind;

/// Service quotas and sizes; the defaults are EventBridge's.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        }
    }
}

/// A stored event bus.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The schedule expression, as given (stored; schedules do not run yet).
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
        && crate::targets::queue_name(&d.arn).is_none()
    {
        return Err(BusError::validation(format!(
            "Parameter DeadLetterConfig.Arn is not valid for target {}: use a queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME).",
            target.id
        )));
    }
    Ok(())
}

/// Checks a schedule expression's syntax: `rate(N unit)` or `cron(6 fields)`.
pub fn check_schedule(expression: &str) -> Result<(), BusError> {
    let invalid = || BusError::validation("Parameter ScheduleExpression is not valid.");
    if let Some(inner) = expression
        .strip_prefix("rate(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let mut parts = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let n: u64 = n.parse().map_err(|_| invalid())?;
        let singular = matches!(unit, "minute" | "hour" | "day");
        let plural = matches!(unit, "minutes" | "hours" | "days");
        if n == 0 || !(singular || plural) || (n == 1) != singular {
            return Err(invalid());
        }
        return Ok(());
    }
    if let Some(inner) = expression
        .strip_prefix("cron(")
        .and_then(|s| s.strip_suffix(')'))
        && inner.split_whitespace().count() == 6
    {
        return Ok(());
    }
    Err(invalid())
}

/// The bus name of an `EventBusName` parameter (a name or an ARN).
pub fn bus_of(name_or_arn: Option<&str>) -> String {
    match name_or_arn {
        None | Some("") => "default".to_string(),
        Some(s) => crate::targets::bus_name(s).unwrap_or(s).to_string(),
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
        for ok in ["rate(5 minutes)", "rate(1 hour)", "cron(0 12 * * ? *)"] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "rate(1 hours)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "cron(* * *)",
            "every 5",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
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
