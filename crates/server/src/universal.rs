//! Scheduler's universal targets (`arn:aws:scheduler:::aws-sdk:SERVICE:ACTION`)
//! for every operation ferrule serves: the schedule's `Input` is the
//! operation's request, run in process through the same service code as a
//! request over HTTP, as the schedule's account.
//!
//! A universal target is a target kind of the bus ([`TargetProvider`] for
//! the `scheduler` service), so its fires go through durable dispatch with
//! the schedule's retry policy and dead-letter queue: a 5xx answer is
//! retried, any other error fails the delivery for good.

use std::sync::{Arc, Weak};

use ferrule_bus::TargetProvider;
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, Target};
use ferrule_policy::Principal;
use serde_json::Value;

use super::{AppState, Call, SERVICES, ServiceId, ServiceInfo};

/// The prefix of universal target ARNs.
pub(crate) const PREFIX: &str = "arn:aws:scheduler:::aws-sdk:";

/// The served operation a universal target names: (service, operation), or
/// why not.
pub(crate) fn operation(arn: &str) -> Result<(&'static ServiceInfo, String), String> {
    let rest = arn.strip_prefix(PREFIX).ok_or_else(|| {
        format!("{arn} is not a universal target (arn:aws:scheduler:::aws-sdk:SERVICE:ACTION).")
    })?;
    let (service, action) = rest
        .split_once(':')
        .ok_or_else(|| format!("{arn} names no action."))?;
    let prefix = match service {
        "sqs" => "AmazonSQS",
        "eventbridge" => "AWSEvents",
        "sfn" => "AWSStepFunctions",
        other => {
            return Err(format!(
                "ferrule serves universal targets of sqs, eventbridge and sfn, not {other}."
            ));
        }
    };
    let mut op = action.to_string();
    if let Some(first) = op.get(0..1) {
        let upper = first.to_uppercase();
        op.replace_range(0..1, &upper);
    }
    let info = SERVICES
        .iter()
        .copied()
        .find(|s| matches!(s.route, super::Route::Target(p) if p == prefix))
        .ok_or_else(|| format!("no service for {service}"))?;
    if !action.starts_with(|c: char| c.is_ascii_lowercase())
        || !info.operations.contains(&op.as_str())
    {
        return Err(format!(
            "ferrule does not serve {service}:{action} (actions are camelCase: {service}:{}).",
            info.operations
                .first()
                .map(|o| lower_first(o))
                .unwrap_or_default()
        ));
    }
    Ok((info, op))
}

fn lower_first(s: &str) -> String {
    let mut out = s.to_string();
    if let Some(first) = out.get(0..1) {
        let lower = first.to_lowercase();
        out.replace_range(0..1, &lower);
    }
    out
}

/// The SDK's request shape (PascalCase members) in a service's wire
/// shape: Step Functions' JSON members are camelCase.
fn wire_request(service: ServiceId, input: Value) -> Value {
    fn camel(v: Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (lower_first(&k), camel(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.into_iter().map(camel).collect()),
            other => other,
        }
    }
    match service {
        // `Input` of StartExecution is text: its content is not renamed.
        ServiceId::States => match input {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let v = if matches!(v, Value::String(_)) {
                            v
                        } else {
                            camel(v)
                        };
                        (lower_first(&k), v)
                    })
                    .collect(),
            ),
            other => other,
        },
        _ => input,
    }
}

/// Resolves universal targets for the bus.
pub(crate) struct UniversalTargets {
    pub(crate) state: Weak<AppState>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl TargetProvider for UniversalTargets {
    fn check(&self, arn: &str) -> Result<(), String> {
        operation(arn).map(|_| ())
    }

    fn resolve(&self, arn: &str) -> Option<Arc<dyn Target>> {
        let (info, op) = operation(arn).ok()?;
        Some(Arc::new(UniversalTarget {
            state: self.state.clone(),
            runtime: self.runtime.clone(),
            service: info.id,
            operation: op,
        }))
    }
}

struct UniversalTarget {
    state: Weak<AppState>,
    runtime: tokio::runtime::Handle,
    service: ServiceId,
    operation: String,
}

impl Target for UniversalTarget {
    fn deliver(&self, payload: &str, _ctx: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let state = self.state.upgrade().ok_or_else(|| {
            DeliveryError::retryable("SDK_CLIENT_ERROR", "the server is stopping")
        })?;
        let input: Value = serde_json::from_str(payload).map_err(|e| {
            DeliveryError::permanent("ERROR_FROM_TARGET", format!("the Input is not JSON: {e}"))
        })?;
        let call = Call {
            operation: self.operation.clone(),
            caller: Principal::account_root(state.bus.account()),
            input: wire_request(self.service, input),
            put_events: None,
            headers: Default::default(),
        };
        let service = self.service;
        let response = self
            .runtime
            .block_on(async move { service.call(state, call).await });
        match response {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(DeliveryError::permanent(
                "ERROR_FROM_TARGET",
                format!("{} answered {}", self.operation, r.status()),
            )),
            Err(e) if e.status() >= 500 => Err(DeliveryError::retryable(
                "SDK_CLIENT_ERROR",
                format!("{}: {}", e.type_name, e.message),
            )),
            Err(e) => Err(DeliveryError::permanent(
                "ERROR_FROM_TARGET",
                format!("{}: {}", e.type_name, e.message),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universal_targets_name_served_operations_in_camel_case() {
        let (info, op) = operation("arn:aws:scheduler:::aws-sdk:sqs:createQueue").unwrap();
        assert_eq!((info.id, op.as_str()), (ServiceId::Sqs, "CreateQueue"));
        let (info, op) = operation("arn:aws:scheduler:::aws-sdk:sfn:stopExecution").unwrap();
        assert_eq!((info.id, op.as_str()), (ServiceId::States, "StopExecution"));
        assert!(operation("arn:aws:scheduler:::aws-sdk:sqs:CreateQueue").is_err());
        assert!(operation("arn:aws:scheduler:::aws-sdk:sqs:frobnicate").is_err());
        assert!(
            operation("arn:aws:scheduler:::aws-sdk:lambda:invoke")
                .unwrap_err()
                .contains("lambda")
        );
    }

    #[test]
    fn step_functions_requests_are_camel_case_on_the_wire() {
        let v = wire_request(
            ServiceId::States,
            serde_json::json!({"StateMachineArn": "a", "Input": "{\"Keep\": 1}", "Tags": [{"Key": "k", "Value": "v"}]}),
        );
        assert_eq!(
            v,
            serde_json::json!({"stateMachineArn": "a", "input": "{\"Keep\": 1}", "tags": [{"key": "k", "value": "v"}]})
        );
        let sqs = serde_json::json!({"QueueName": "q"});
        assert_eq!(wire_request(ServiceId::Sqs, sqs.clone()), sqs);
    }
}
