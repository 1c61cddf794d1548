//! A state machine as an EventBridge rule target: the bus delivers the
//! (transformed) event, and the delivery starts an execution with it as
//! the input.
//!
//! The execution's name is derived from the event and the target, so a
//! delivery retried after a crash or a timeout starts the same execution
//! once (StartExecution is idempotent by name and input).

use std::sync::{Arc, Weak};

use ferrule_bus::TargetProvider;
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, Target};

use crate::error::RunnerErrorKind;
use crate::runner::{Inner, StartRequest};

/// Resolves `arn:aws:states:...:stateMachine:NAME` targets for the bus.
pub(crate) struct StateMachines(pub(crate) Weak<Inner>);

impl TargetProvider for StateMachines {
    fn check(&self, arn: &str) -> Result<(), String> {
        let inner = self.0.upgrade().ok_or("the states runner has stopped")?;
        match inner.scope.machine_ref(arn) {
            Ok(_) => Ok(()),
            Err(_) => Err(
                "Provided Arn is not in correct format. A Step Functions target is a state machine \
                 (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)."
                    .into(),
            ),
        }
    }

    fn resolve(&self, arn: &str) -> Option<Arc<dyn Target>> {
        let inner = self.0.upgrade()?;
        let r = inner.scope.machine_ref(arn).ok()?;
        inner.catalog().machine(r.machine_arn()).ok()?;
        Some(Arc::new(StateMachineTarget {
            inner: self.0.clone(),
            arn: arn.to_string(),
        }))
    }
}

struct StateMachineTarget {
    inner: Weak<Inner>,
    arn: String,
}

/// A stable, distinct execution name per (event, rule, target): at most 80
/// characters of the allowed set.
fn execution_name(ctx: &DeliveryContext<'_>) -> String {
    // FNV-1a over the rule and target: which rule delivered, in 16 hex digits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ctx
        .rule_arn
        .bytes()
        .chain([0])
        .chain(ctx.target_arn.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let id: String = ctx
        .event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(60)
        .collect();
    format!("{id}_{h:016x}")
}

impl Target for StateMachineTarget {
    fn deliver(&self, payload: &str, ctx: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let inner = self.inner.upgrade().ok_or_else(|| {
            DeliveryError::retryable("SDK_CLIENT_ERROR", "the states runner stopped")
        })?;
        let request = StartRequest::new(&self.arn, Some(payload)).named(&execution_name(ctx));
        match inner.start_execution(request) {
            Ok(_) => Ok(()),
            // Started by an earlier attempt of this delivery, since ended.
            Err(e) if e.kind() == RunnerErrorKind::ExecutionAlreadyExists => Ok(()),
            Err(e) => match e.kind() {
                RunnerErrorKind::StateMachineDoesNotExist | RunnerErrorKind::ResourceNotFound => {
                    Err(DeliveryError::permanent("NO_RESOURCE", e.to_string()))
                }
                RunnerErrorKind::Internal => {
                    Err(DeliveryError::retryable("SDK_CLIENT_ERROR", e.to_string()))
                }
                _ => Err(DeliveryError::permanent("ERROR_FROM_TARGET", e.to_string())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_names_are_stable_distinct_and_valid() {
        let ctx = |rule: &'static str| DeliveryContext {
            event_id: "6f1e0e3c-7c38-4a5e-9b0c-2d2c7c1f6a11",
            rule_arn: rule,
            target_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:kyc",
            target_id: "t1",
            attempt: 1,
            principal: None,
        };
        let a = execution_name(&ctx("arn:aws:events:us-east-1:123456789012:rule/a"));
        let b = execution_name(&ctx("arn:aws:events:us-east-1:123456789012:rule/b"));
        assert_eq!(
            a,
            execution_name(&ctx("arn:aws:events:us-east-1:123456789012:rule/a"))
        );
        assert_ne!(a, b);
        assert!(crate::model::check_name(&a).is_ok());
    }
}
