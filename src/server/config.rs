//! The configuration file: buses, rules, targets and queues declared in a
//! project's repository and applied when the server starts.
//!
//! ```json
//! {
//!   "account": "000000000000",
//!   "region": "us-east-1",
//!   "sync": true,
//!   "credentials": [{"access_key_id": "AKID", "secret_access_key": "SECRET"}],
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

use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use crate::bus::{
    BusLimits, BusOptions, DeadLetterConfig, InputTransformerConfig, PutRuleInput, RetryPolicy,
    RuleState, TargetConfig,
};
use crate::dispatch::SyncMode;

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
    /// Sync the store before answering PutEvents (default true).
    #[serde(default)]
    pub sync: Option<bool>,
    /// Keys for SigV4 verification: (access key id, secret). When any are
    /// given, every request must be signed with one of them.
    #[serde(default, deserialize_with = "credentials")]
    pub credentials: Vec<(String, String)>,
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
    /// Access keys allowed to put events to it (absent: anyone).
    #[serde(default)]
    pub allowed_access_keys: Option<Vec<String>>,
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

fn credentials<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Key {
        access_key_id: String,
        secret_access_key: String,
    }
    let keys: Vec<Key> = Vec::deserialize(d)?;
    Ok(keys
        .into_iter()
        .map(|k| (k.access_key_id, k.secret_access_key))
        .collect())
}

impl ServerConfig {
    /// Reads a configuration file (JSON).
    pub fn load(path: &Path) -> Result<ServerConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
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
            if let Some(keys) = &b.allowed_access_keys {
                state.set_bus_policy(
                    &b.name,
                    Some(&serde_json::json!({ "AllowedAccessKeys": keys })),
                );
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
                })
                .collect();
            bus.put_targets(&r.name, r.bus.as_deref(), targets)
                .map_err(|e| format!("rule {}: {e}", r.name))?;
        }
        Ok(())
    }
}
