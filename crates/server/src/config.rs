//! The configuration file: buses, rules, targets and queues declared in a
//! project's repository and applied when the server starts.
//!
//! ```json
//! {
//!   "account": "000000000000",
//!   "region": "us-east-1",
//!   "sync": true,
//!   "credentials": [{"access_key_id": "AKID", "secret_access_key": "SECRET",
//!                    "account": "000000000000", "user": "shop",
//!                    "policies": [{"Version": "2012-10-17", "Statement": [
//!                      {"Effect": "Allow", "Action": ["events:*", "sqs:*"], "Resource": "*"}]}]}],
//!   "metrics": {"bearer_token": "scrape-secret"},
//!   "queues": ["orders-dlq"],
//!   "buses": [{"name": "orders", "allowed_access_keys": ["AKID"]}],
//!   "rules": [{
//!     "name": "big-orders", "bus": "orders",
//!     "event_pattern": {"detail": {"total": [{"numeric": [">", 100]}]}},
//!     "targets": [{"id": "hook", "arn": "http://127.0.0.1:9000/orders",
//!                  "dead_letter_config": {"arn": "arn:aws:sqs:us-east-1:000000000000:orders-dlq"}}]
//!   }]
//! }
//! ```

use std::path::Path;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use ferrule_bus::{
    BusLimits, BusOptions, DeadLetterConfig, InputTransformerConfig, PutRuleInput, RetryPolicy,
    RuleState, TargetConfig,
};
use ferrule_dispatch::SyncMode;
use ferrule_policy::{Policy, PolicyKind, Principal};

/// The configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Account id in ARNs and events (default `000000000000`).
    #[serde(default)]
    pub account: Option<String>,
    /// Region in ARNs and events (default `us-east-1`).
    #[serde(default)]
    pub region: Option<String>,
    /// The Regions requests may be signed for, each its own partition
    /// (default: any AWS Region name; the configured `region` is always one).
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Sync the store before answering PutEvents (default true).
    #[serde(default)]
    pub sync: Option<bool>,
    /// Keys for SigV4 verification. When any are given, every request must
    /// be signed with one of them, and its identity (account, user,
    /// identity policies) is the key's; with none, the server is open.
    #[serde(default)]
    pub credentials: Vec<CredentialConfig>,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// Quotas (defaults: the service's).
    #[serde(default)]
    pub limits: Option<LimitsConfig>,
    /// Built-in queues to create.
    #[serde(default)]
    pub queues: Vec<String>,
    /// Buses to create.
    #[serde(default)]
    pub buses: Vec<BusConfig>,
    /// Rules to put (replacing rules of the same name).
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Limits and timeouts of the HTTP layer (see [`super::HttpLimits`]).
    #[serde(default)]
    pub http: Option<super::HttpLimits>,
    /// The server's clock: `"system"` (default), or `"manual"` /
    /// `"manual:START"` (RFC 3339 or epoch ms) for a clock that only moves
    /// by `POST /_ferrule/clock` (`{"advance_ms": N}` or `{"set_ms": N}`),
    /// shared by delivery, the scheduler and the states runner: for tests.
    #[serde(default)]
    pub clock: Option<String>,
}

/// One credential: a key pair and the identity it signs for.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The account the key belongs to (default: the server's account).
    #[serde(default)]
    pub account: Option<String>,
    /// The IAM user name in the principal's ARN (default: the access key id).
    #[serde(default)]
    pub user: Option<String>,
    /// The organization (`aws:PrincipalOrgID`), if any.
    #[serde(default)]
    pub org_id: Option<String>,
    /// Identity policies (IAM policy documents without `Principal`). None:
    /// the key may do anything that resource policies do not deny.
    #[serde(default)]
    pub policies: Option<Vec<Value>>,
    /// This key plays an AWS service: its PutEvents may use `aws.*` sources
    /// (`aws.s3`, `aws.cloudtrail`, ...), which the service refuses to
    /// everyone else, so rules for AWS service events can be tested. Its
    /// entries are still authorized like any other caller's.
    #[serde(default)]
    pub service_principal: bool,
}

/// Access to `/metrics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer_token: Option<String>,
}

/// Quotas.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Rules per bus.
    pub rules_per_bus: Option<usize>,
    /// Targets per rule.
    pub targets_per_rule: Option<usize>,
    /// Event buses.
    pub buses: Option<usize>,
}

/// A bus in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    /// The name.
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Only these access keys may put events to it or change it or its
    /// rules (an explicit deny for every other caller, added to its policy
    /// as statement `FerruleAllowedAccessKeys`).
    #[serde(default)]
    pub allowed_access_keys: Option<Vec<String>>,
    /// Its resource policy (a document, or its JSON text).
    #[serde(default)]
    pub policy: Option<Value>,
}

impl BusConfig {
    fn policy_text(&self) -> Option<String> {
        self.policy.as_ref().map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// The statement id of the deny that `allowed_access_keys` adds.
const KEY_RESTRICTION_SID: &str = "FerruleAllowedAccessKeys";

/// `policy` with (in place of any earlier one) a statement denying
/// PutEvents and every change to the bus and its rules (all `events:`
/// actions but Describe, List and TestEventPattern) to callers whose access
/// key is not in `keys`.
fn with_key_restriction(
    policy: Option<&str>,
    bus: &str,
    keys: &[String],
    state: &AppState,
) -> Result<String, String> {
    let mut statements = match policy {
        Some(text) => Policy::parse(text, PolicyKind::Resource)
            .map_err(|e| format!("bus {bus}: stored policy: {e}"))?
            .statement_values(),
        None => Vec::new(),
    };
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(KEY_RESTRICTION_SID));
    let rules = if bus == "default" {
        state.bus.rule_arn("*", None)
    } else {
        state.bus.rule_arn("*", Some(bus))
    };
    statements.push(json!({
        "Sid": KEY_RESTRICTION_SID,
        "Effect": "Deny",
        "Principal": "*",
        "NotAction": ["events:Describe*", "events:List*", "events:TestEventPattern"],
        "Resource": [state.bus.bus_arn(bus), rules],
        "Condition": {"StringNotEquals": {"aws:userid": keys}},
    }));
    Ok(json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

/// A rule in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The name.
    pub name: String,
    /// The bus (default `default`).
    #[serde(default)]
    pub bus: Option<String>,
    /// The pattern: a JSON object, or pattern text.
    #[serde(default)]
    pub event_pattern: Option<Value>,
    /// A schedule expression.
    #[serde(default)]
    pub schedule_expression: Option<String>,
    /// `ENABLED` (default) or `DISABLED`.
    #[serde(default)]
    pub state: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The targets.
    #[serde(default)]
    pub targets: Vec<TargetFileConfig>,
}

/// A target in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFileConfig {
    /// The id.
    pub id: String,
    /// The ARN or URL.
    pub arn: String,
    /// A constant input (JSON value, or JSON text in a string).
    #[serde(default)]
    pub input: Option<Value>,
    /// An input path.
    #[serde(default)]
    pub input_path: Option<String>,
    /// An input transformer.
    #[serde(default)]
    pub input_transformer: Option<TransformerFileConfig>,
    /// A retry policy.
    #[serde(default)]
    pub retry_policy: Option<RetryFileConfig>,
    /// A dead-letter queue.
    #[serde(default)]
    pub dead_letter_config: Option<DeadLetterFileConfig>,
    /// The message group of a FIFO queue target (`sqs_parameters`).
    #[serde(default)]
    pub sqs_parameters: Option<SqsFileConfig>,
}

/// `SqsParameters` in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsFileConfig {
    /// `MessageGroupId`.
    pub message_group_id: String,
}

impl SqsFileConfig {
    /// As the bus keeps it.
    fn params(&self) -> ferrule_bus::SqsParameters {
        ferrule_bus::SqsParameters {
            message_group_id: Some(self.message_group_id.clone()),
        }
    }
}

/// An input transformer in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerFileConfig {
    /// Placeholder to path.
    #[serde(default)]
    pub input_paths_map: std::collections::BTreeMap<String, String>,
    /// The template.
    pub input_template: String,
}

/// A retry policy in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFileConfig {
    /// Retries after the first attempt.
    #[serde(default)]
    pub maximum_retry_attempts: Option<u32>,
    /// Oldest event age to attempt, seconds.
    #[serde(default)]
    pub maximum_event_age_in_seconds: Option<u32>,
}

/// A dead-letter queue in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterFileConfig {
    /// The queue ARN.
    pub arn: String,
}

impl ServerConfig {
    /// Reads a configuration file (JSON).
    pub fn load(path: &Path) -> Result<ServerConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        let config: ServerConfig =
            serde_json::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
        config
            .check()
            .map_err(|e| format!("config {}: {e}", path.display()))?;
        Ok(config)
    }

    /// Refuses what cannot be honoured: malformed policies, and restricted
    /// buses without credentials (the caller's key id would be spoofable).
    pub fn check(&self) -> Result<(), String> {
        self.principals("000000000000")?;
        for r in self.region.iter().chain(self.regions.iter().flatten()) {
            if !super::partition::is_region_name(r) {
                return Err(format!(
                    "region {r:?} is not an AWS Region name (eu-central-1)"
                ));
            }
        }
        for b in &self.buses {
            let policy = b
                .policy_text()
                .map(|t| Policy::parse(&t, PolicyKind::Resource));
            if let Some(Err(e)) = &policy {
                return Err(format!("bus {}: policy: {e}", b.name));
            }
            let restricts = b.allowed_access_keys.is_some()
                || policy.is_some_and(|p| p.is_ok_and(|p| p.has_deny()));
            if restricts && self.credentials.is_empty() {
                return Err(format!(
                    "bus {} restricts who may put events to it, but no credentials are configured: \
                     without signature verification any caller could claim any access key id",
                    b.name
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.credentials {
            if !seen.insert(&c.access_key_id) {
                return Err(format!("credential {} is listed twice", c.access_key_id));
            }
        }
        Ok(())
    }

    /// The principal of each configured access key.
    pub(crate) fn principals(
        &self,
        default_account: &str,
    ) -> Result<std::collections::HashMap<String, Principal>, String> {
        let mut out = std::collections::HashMap::new();
        for c in &self.credentials {
            let account = c.account.as_deref().unwrap_or(default_account);
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "credential {}: account {account:?} is not a 12-digit account id",
                    c.access_key_id
                ));
            }
            let identity = match &c.policies {
                None => None,
                Some(docs) => Some(Arc::new(
                    docs.iter()
                        .enumerate()
                        .map(|(i, d)| {
                            let parsed = match d {
                                Value::String(t) => Policy::parse(t, PolicyKind::Identity),
                                other => Policy::from_value(other, PolicyKind::Identity),
                            };
                            parsed.map_err(|e| {
                                format!("credential {}: policies[{i}]: {e}", c.access_key_id)
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                )),
            };
            let user = c.user.as_deref().unwrap_or(&c.access_key_id);
            out.insert(
                c.access_key_id.clone(),
                Principal::user(
                    account,
                    user,
                    &c.access_key_id,
                    c.org_id.as_deref(),
                    identity,
                ),
            );
        }
        Ok(out)
    }

    /// The access keys marked `service_principal`.
    pub(crate) fn service_keys(&self) -> std::collections::HashSet<String> {
        self.credentials
            .iter()
            .filter(|c| c.service_principal)
            .map(|c| c.access_key_id.clone())
            .collect()
    }

    pub(crate) fn apply_to_options(&self, options: &mut BusOptions) {
        if let Some(a) = &self.account {
            options.account = a.clone();
        }
        if let Some(r) = &self.region {
            options.region = r.clone();
        }
        if self.sync == Some(false) {
            options.sync = SyncMode::Never;
        }
        if let Some(l) = &self.limits {
            let d = BusLimits::default();
            options.limits.rules_per_bus = l.rules_per_bus.unwrap_or(d.rules_per_bus);
            options.limits.targets_per_rule = l.targets_per_rule.unwrap_or(d.targets_per_rule);
            options.limits.buses = l.buses.unwrap_or(d.buses);
        }
    }

    /// Creates what the file declares (idempotently).
    pub(crate) fn apply(&self, state: &AppState) -> Result<(), String> {
        let bus = &state.bus;
        for q in &self.queues {
            bus.create_queue(q).map_err(|e| format!("queue {q}: {e}"))?;
        }
        for b in &self.buses {
            if b.name != "default" && bus.describe_event_bus(Some(&b.name)).is_err() {
                bus.create_event_bus(&b.name, b.description.as_deref())
                    .map_err(|e| format!("bus {}: {e}", b.name))?;
            }
            let name = Some(b.name.as_str());
            if let Some(text) = b.policy_text() {
                bus.set_bus_policy(name, Some(&text))
                    .map_err(|e| format!("bus {}: {e}", b.name))?;
            }
            if let Some(keys) = &b.allowed_access_keys {
                let current = bus
                    .bus_policy(name)
                    .map_err(|e| format!("bus {}: {e}", b.name))?;
                let text = with_key_restriction(current.as_deref(), &b.name, keys, state)?;
                bus.set_bus_policy(name, Some(&text))
                    .map_err(|e| format!("bus {}: {e}", b.name))?;
            }
        }
        for r in &self.rules {
            let pattern = r.event_pattern.as_ref().map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let rule_state = match &r.state {
                Some(s) => Some(RuleState::parse(s).map_err(|e| format!("rule {}: {e}", r.name))?),
                None => None,
            };
            bus.put_rule(PutRuleInput {
                name: r.name.clone(),
                event_bus_name: r.bus.clone(),
                event_pattern: pattern,
                schedule_expression: r.schedule_expression.clone(),
                state: rule_state,
                description: r.description.clone(),
                role_arn: None,
                tags: Default::default(),
            })
            .map_err(|e| format!("rule {}: {e}", r.name))?;
            if r.targets.is_empty() {
                continue;
            }
            let targets = r
                .targets
                .iter()
                .map(|t| TargetConfig {
                    id: t.id.clone(),
                    arn: t.arn.clone(),
                    role_arn: None,
                    input: t.input.as_ref().map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    input_path: t.input_path.clone(),
                    input_transformer: t.input_transformer.as_ref().map(|x| {
                        InputTransformerConfig {
                            input_paths_map: x.input_paths_map.clone().into_iter().collect(),
                            input_template: x.input_template.clone(),
                        }
                    }),
                    retry_policy: t.retry_policy.as_ref().map(|p| RetryPolicy {
                        maximum_retry_attempts: p.maximum_retry_attempts,
                        maximum_event_age_in_seconds: p.maximum_event_age_in_seconds,
                    }),
                    dead_letter_config: t
                        .dead_letter_config
                        .as_ref()
                        .map(|d| DeadLetterConfig { arn: d.arn.clone() }),
                    sqs_parameters: t.sqs_parameters.as_ref().map(SqsFileConfig::params),
                    http_parameters: None,
                })
                .collect();
            bus.put_targets(&r.name, r.bus.as_deref(), targets)
                .map_err(|e| format!("rule {}: {e}", r.name))?;
        }
        Ok(())
    }
}
