//! Where events are delivered: one trait, several kinds.
//!
//! - [`HttpTarget`]: POSTs the payload to an `http://` or `https://` URL
//!   (2xx is success; 429 and 5xx are retried; other statuses fail for good;
//!   the client, TLS included, is [`crate::http_client`]'s).
//! - [`FunctionTarget`] and [`ChannelTarget`]: in-process, for embedders.
//! - [`QueueTarget`]: a built-in durable queue, addressed as
//!   `arn:aws:sqs:REGION:ACCOUNT:NAME`; it also serves as a dead-letter queue.
//! - Another bus: `arn:aws:events:REGION:ACCOUNT:event-bus/NAME` (resolved by
//!   the bus itself).

use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use ferrule_store::{NewMessage, QueueStore};

pub use crate::api_destination::TargetHttpParams;

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
    /// The target's id within its rule.
    pub target_id: &'a str,
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

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpTarget {
    /// A target for `url`, giving up on an attempt after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> HttpTarget {
        HttpTarget {
            url: url.to_string(),
            agent: crate::http_client::agent(timeout, crate::http_client::FERRULE_USER_AGENT),
        }
    }
}

impl HttpTarget {
    /// Delivers `payload` with a rule target's `HttpParameters`: its headers
    /// and query-string parameters are added, its path values fill the
    /// URL's `*` wildcards in order.
    pub fn deliver_with(
        &self,
        payload: &str,
        context: &DeliveryContext<'_>,
        http: &TargetHttpParams,
    ) -> Result<(), DeliveryError> {
        // A URL's literal `*` stays unless path values are given.
        let url = if http.path_parameter_values.is_empty() && http.query.is_empty() {
            self.url.clone()
        } else {
            crate::api_destination::fill_url(&self.url, http, &[])
        };
        let mut request = self
            .agent
            .post(&url)
            .header("content-type", "application/json");
        for (k, v) in &http.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        self.settle(
            request
                .header("x-ferrule-event-id", context.event_id)
                .header("x-ferrule-rule-arn", context.rule_arn)
                .send(payload),
        )
    }
}

impl Target for HttpTarget {
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        self.deliver_with(payload, context, &TargetHttpParams::default())
    }
}

impl HttpTarget {
    fn settle(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(), DeliveryError> {
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
                format!("{}: {}", self.url, crate::http_client::describe_error(&e)),
            )),
        }
    }
}

/// Calls a function for each delivery.
pub struct FunctionTarget<F>(pub F);

impl<F> std::fmt::Debug for FunctionTarget<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FunctionTarget")
    }
}

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

impl std::fmt::Debug for ChannelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelTarget")
    }
}

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
    store: Arc<dyn QueueStore>,
    queue: String,
    clock: Arc<dyn ferrule_core::Clock>,
    message_group_id: Option<String>,
}

impl std::fmt::Debug for QueueTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueTarget")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl QueueTarget {
    /// The queue `name` in `store`.
    pub fn new(
        store: Arc<dyn QueueStore>,
        name: &str,
        clock: Arc<dyn ferrule_core::Clock>,
    ) -> QueueTarget {
        QueueTarget {
            store,
            queue: name.to_string(),
            clock,
            message_group_id: None,
        }
    }

    /// The same target, its messages in `group` (`SqsParameters.MessageGroupId`).
    pub fn with_message_group(mut self, group: Option<String>) -> QueueTarget {
        self.message_group_id = group;
        self
    }

    /// The message a delivery of `payload` writes: in `group`, if any,
    /// and with no deduplication id of its own, as EventBridge sends it (a
    /// FIFO queue deduplicates it by content when it has content-based
    /// deduplication, else not at all).
    pub fn message(payload: String, group: Option<String>) -> NewMessage {
        let mut message = NewMessage::new(payload);
        message.group_id = group;
        message
    }
}

impl Target for QueueTarget {
    fn built_in_queue(&self) -> Option<&str> {
        Some(&self.queue)
    }

    fn deliver(&self, payload: &str, _: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let message = QueueTarget::message(payload.to_string(), self.message_group_id.clone());
        match self
            .store
            .send(&self.queue, vec![message], self.clock.now_ms())
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ferrule_store::StoreErrorKind::NotFound => {
                Err(DeliveryError::permanent(
                    "NO_RESOURCE",
                    format!("queue {} does not exist", self.queue),
                ))
            }
            Err(e) => Err(DeliveryError::retryable("INTERNAL_ERROR", e.to_string())),
        }
    }
}
