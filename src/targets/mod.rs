//! Where events are delivered: one trait, several kinds.
//!
//! - [`HttpTarget`]: POSTs the payload to an `http://` or `https://` URL
//!   (2xx is success; 429 and 5xx are retried; other 4xx fail for good).
//! - [`FunctionTarget`] and [`ChannelTarget`]: in-process, for embedders.
//! - [`QueueTarget`]: a built-in durable queue, addressed as
//!   `arn:aws:sqs:REGION:ACCOUNT:NAME`; it also serves as a dead-letter queue.
//! - Another bus: `arn:aws:events:REGION:ACCOUNT:event-bus/NAME` (resolved by
//!   the bus itself).

use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::dispatch::{DispatchStore, QueueMessage};

/// Why a delivery failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// The error code recorded with dead letters (`ERROR_FROM_TARGET`,
    /// `CONNECTION_FAILURE`, `TIMEOUT`, `NO_RESOURCE`, `THROTTLING`, …).
    pub code: String,
    /// What happened.
    pub message: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
}

impl DeliveryError {
    /// A failure worth retrying.
    pub fn retryable(code: &str, message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            code: code.to_string(),
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that retrying will not fix.
    pub fn permanent(code: &str, message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            code: code.to_string(),
            message: message.into(),
            retryable: false,
        }
    }
}

/// What a target is told about one delivery.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryContext<'a> {
    /// The event's id.
    pub event_id: &'a str,
    /// The rule's ARN.
    pub rule_arn: &'a str,
    /// The target's ARN.
    pub target_arn: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The access key of the caller who put the event, if any.
    pub principal: Option<&'a str>,
}

/// A delivery target.
pub trait Target: Send + Sync {
    /// Delivers `payload` (the transformed event).
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError>;

    /// The built-in queue this target writes to, if it is one: the
    /// dispatcher then writes the message in the same transaction that
    /// settles the delivery (batched, and never duplicated by a crash
    /// between the two).
    fn built_in_queue(&self) -> Option<&str> {
        None
    }
}

/// POSTs payloads to an HTTP endpoint.
pub struct HttpTarget {
    url: String,
    agent: ureq::Agent,
}

impl HttpTarget {
    /// A target for `url`, giving up on an attempt after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> HttpTarget {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build();
        HttpTarget {
            url: url.to_string(),
            agent: config.into(),
        }
    }
}

impl Target for HttpTarget {
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-ferrule-event-id", context.event_id)
            .header("x-ferrule-rule-arn", context.rule_arn)
            .send(payload);
        match response {
            Ok(r) => {
                let status = r.status().as_u16();
                match status {
                    200..=299 => Ok(()),
                    429 => Err(DeliveryError::retryable(
                        "THROTTLING",
                        format!("{} answered 429", self.url),
                    )),
                    500..=599 => Err(DeliveryError::retryable(
                        "ERROR_FROM_TARGET",
                        format!("{} answered {status}", self.url),
                    )),
                    _ => Err(DeliveryError::permanent(
                        "ERROR_FROM_TARGET",
                        format!("{} answered {status}", self.url),
                    )),
                }
            }
            Err(ureq::Error::Timeout(_)) => Err(DeliveryError::retryable(
                "TIMEOUT",
                format!("{} timed out", self.url),
            )),
            Err(e) => Err(DeliveryError::retryable(
                "CONNECTION_FAILURE",
                format!("{}: {e}", self.url),
            )),
        }
    }
}

/// Calls a function for each delivery.
pub struct FunctionTarget<F>(pub F);

impl<F> Target for FunctionTarget<F>
where
    F: Fn(&str, &DeliveryContext<'_>) -> Result<(), DeliveryError> + Send + Sync,
{
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        (self.0)(payload, context)
    }
}

/// Sends each payload into a channel. A full channel is retried later; a
/// closed one fails for good.
pub struct ChannelTarget(pub SyncSender<String>);

impl Target for ChannelTarget {
    fn deliver(&self, payload: &str, _: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        match self.0.try_send(payload.to_string()) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                Err(DeliveryError::retryable("THROTTLING", "channel is full"))
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                Err(DeliveryError::permanent("NO_RESOURCE", "channel is closed"))
            }
        }
    }
}

/// A built-in durable queue.
pub struct QueueTarget {
    store: Arc<dyn DispatchStore>,
    queue: String,
    clock: Arc<dyn crate::bus::Clock>,
}

impl QueueTarget {
    /// The queue `name` in `store`.
    pub fn new(
        store: Arc<dyn DispatchStore>,
        name: &str,
        clock: Arc<dyn crate::bus::Clock>,
    ) -> QueueTarget {
        QueueTarget {
            store,
            queue: name.to_string(),
            clock,
        }
    }
}

impl Target for QueueTarget {
    fn built_in_queue(&self) -> Option<&str> {
        Some(&self.queue)
    }

    fn deliver(&self, payload: &str, _: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let message = QueueMessage {
            seq: 0,
            body: payload.to_string(),
            attributes: Vec::new(),
            sent_ms: self.clock.now_ms(),
        };
        self.store
            .queue_send(&self.queue, vec![message])
            .map(|_| ())
            .map_err(|e| DeliveryError::retryable("INTERNAL_ERROR", e.to_string()))
    }
}

/// The queue name in an SQS queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
pub fn queue_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!name.is_empty() && !name.contains(':')).then_some(name)
}

/// The bus name in an event bus ARN (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`).
pub fn bus_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:events:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    resource
        .strip_prefix("event-bus/")
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns() {
        assert_eq!(
            queue_name("arn:aws:sqs:us-east-1:000000000000:dlq"),
            Some("dlq")
        );
        assert_eq!(queue_name("arn:aws:sqs:us-east-1:000000000000:"), None);
        assert_eq!(queue_name("arn:aws:sns:us-east-1:000000000000:x"), None);
        assert_eq!(
            bus_name("arn:aws:events:eu-west-1:123456789012:event-bus/orders"),
            Some("orders")
        );
        assert_eq!(
            bus_name("arn:aws:events:eu-west-1:123456789012:rule/x"),
            None
        );
    }
}
