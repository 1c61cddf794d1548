//! The cross-cutting layers of every request (see the crate's
//! documentation for their order): request ids and tracing, metrics,
//! routing to a service, and authentication.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::partition::Server;
use super::{ApiError, MAX_BODY_BYTES, Protocol, Route, SERVICES, ServiceInfo};
use ferrule_policy::Principal;

/// The request's id (a UUID): `x-amzn-RequestId` on its response, and in
/// its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestId(pub(crate) String);

/// The service and operation a request is for (set by [`route`]).
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The service.
    pub(crate) service: &'static ServiceInfo,
    /// The operation's name as the request gives it.
    pub(crate) operation: String,
}

/// The metrics series a response counts in (set by [`route`]; a response
/// without one, `/health` or `/metrics`, is not counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OperationLabel(pub(crate) String);

/// The authenticated caller, as an extractor: put into the request by
/// [`authenticate`]; a request without one is refused.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub(crate) Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        let protocol = parts
            .extensions
            .get::<Target>()
            .map_or(Protocol::AwsJson11, |t| t.service.protocol);
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                // Only a handler mounted without the authentication layer gets
                // here: refuse rather than act as nobody in particular.
                ApiError::new(
                    403,
                    "MissingAuthenticationTokenException",
                    "Missing Authentication Token",
                )
                .in_protocol(protocol)
            })
    }
}

/// Gives the request an id, runs it in its span (`service`, `operation`,
/// `request_id`, `status`), and puts the id on the response.
pub(crate) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        service = tracing::field::Empty,
        operation = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    span.in_scope(|| {
        tracing::debug!(
            status,
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// Counts the request and its latency under its [`OperationLabel`].
pub(crate) async fn metrics(
    State(server): State<Arc<Server>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(req).await;
    if let Some(OperationLabel(label)) = response.extensions().get::<OperationLabel>() {
        server
            .shared
            .metrics
            .request(label, response.status().as_u16(), started.elapsed());
    }
    response
}

/// The service a request is for, by its `X-Amz-Target`.
pub(crate) fn service_of(target: &str) -> Option<(&'static ServiceInfo, &str)> {
    let (prefix, operation) = super::protocol::split_target(target);
    SERVICES
        .iter()
        .copied()
        .find(|s| match s.route {
            Route::Target(p) => p == prefix,
        })
        .map(|s| (s, operation))
}

/// Finds the request's service and operation ([`Target`], recorded in the
/// span); answers a request for no served service in its own protocol.
pub(crate) async fn route(mut req: Request, next: Next) -> Response {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let span = tracing::Span::current();
    let Some((service, operation)) = service_of(&target) else {
        span.record("service", "unserved");
        let (parts, body) = req.into_parts();
        let body = match read_body(body).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        };
        let unserved = super::protocol::unserved(&parts.method, &parts.uri, &parts.headers, &body);
        tracing::debug!(target = %target, message = %unserved.message, "not served");
        let id = parts
            .extensions
            .get::<RequestId>()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |r| r.0.clone());
        let mut response = unserved.into_response(&id);
        response
            .extensions_mut()
            .insert(OperationLabel("unserved".into()));
        return response;
    };
    span.record("service", service.signing_name);
    span.record("operation", operation);
    // Unknown operations share one series, so clients cannot add series.
    let label = if service.operations.contains(&operation) {
        target.clone()
    } else {
        let Route::Target(prefix) = service.route;
        format!("{prefix}.unknown")
    };
    req.extensions_mut().insert(Target {
        service,
        operation: operation.to_string(),
    });
    let mut response = next.run(req).await;
    response.extensions_mut().insert(OperationLabel(label));
    response
}

/// Verifies the request's signature for its service ([`Target`]) and puts
/// the caller's [`Principal`] into the request; refuses it otherwise.
pub(crate) async fn authenticate(
    State(server): State<Arc<Server>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(target) = req.extensions().get::<Target>().cloned() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return e.in_protocol(target.service.protocol).into_response(),
    };
    match super::authenticate(
        &server,
        target.service.signing_name,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
    ) {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(e) => e.in_protocol(target.service.protocol).into_response(),
    }
}

/// The whole body (the HTTP layer has read it already, under its limit).
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            ApiError::new(
                413,
                "RequestEntityTooLargeException",
                format!("Request must be smaller than {MAX_BODY_BYTES} bytes ({e})."),
            )
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    use super::*;
    use ferrule_bus::BusOptions;

    /// An open-mode server state over a bus in a fresh directory (removed
    /// when dropped).
    struct TestState {
        state: Arc<Server>,
        dir: std::path::PathBuf,
    }

    impl Drop for TestState {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn test_state() -> TestState {
        let dir = std::env::temp_dir().join(format!("ferrule-layers-{}", uuid::Uuid::new_v4()));
        let state = crate::test_server(BusOptions::new(&dir), crate::clock::ServerClock::System);
        TestState { state, dir }
    }

    fn aws_request(target: &str, body: &str) -> Request {
        Request::builder()
            .method("POST")
            .uri("/")
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    async fn send(app: &Router, req: Request) -> (StatusCode, HeaderMap, String) {
        let response = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    fn request_id_of(headers: &HeaderMap) -> uuid::Uuid {
        let id = headers
            .get("x-amzn-requestid")
            .expect("x-amzn-requestid")
            .to_str()
            .unwrap();
        uuid::Uuid::parse_str(id).unwrap()
    }

    /// The fields of the `request` spans seen, by span.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<HashMap<String, String>>>>);

    struct Fields<'a>(&'a mut HashMap<String, String>);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.insert(
                field.name().to_string(),
                format!("{value:?}").replace('"', ""),
            );
        }

        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
    }

    impl<S> tracing_subscriber::Layer<S> for Spans
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            if attrs.metadata().name() != "request" {
                return;
            }
            let mut fields = HashMap::new();
            attrs.record(&mut Fields(&mut fields));
            let mut spans = self.0.lock().unwrap();
            fields.insert("#".into(), spans.len().to_string());
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(spans.len());
            }
            spans.push(fields);
        }

        fn on_record(
            &self,
            id: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            ctx: Context<'_, S>,
        ) {
            let Some(span) = ctx.span(id) else { return };
            let Some(&n) = span.extensions().get::<usize>() else {
                return;
            };
            values.record(&mut Fields(&mut self.0.lock().unwrap()[n]));
        }
    }

    #[tokio::test]
    async fn every_response_carries_a_request_id_that_is_its_spans() {
        let t = test_state();
        let app = crate::app(Arc::clone(&t.state));
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        // Success, a validation error, an unknown operation, an unserved
        // service, and a route of the server's own.
        let (status, h, body) = send(
            &app,
            aws_request(
                "AWSEvents.PutRule",
                r#"{"Name": "r", "EventPattern": "{\"source\": [\"a\"]}"}"#,
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"RuleArn\""), "{body}");
        let ok_id = request_id_of(&h);
        let (status, h, body) = send(&app, aws_request("AWSEvents.DescribeRule", "{}")).await;
        assert_eq!(status, 400);
        assert_eq!(h["x-amzn-errortype"], "ValidationException");
        assert!(
            body.contains("\"__type\":\"ValidationException\""),
            "{body}"
        );
        let error_id = request_id_of(&h);
        let (status, h, _) = send(&app, aws_request("AmazonSQS.Nope", "{}")).await;
        assert_eq!(status, 400);
        assert_eq!(h["content-type"], "application/x-amz-json-1.0");
        request_id_of(&h);
        let (status, h, body) = send(
            &app,
            Request::builder()
                .uri("/?Action=ListUsers")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400);
        // The unserved answer names the same id in its body.
        let unserved_id = request_id_of(&h);
        assert!(body.contains(&unserved_id.to_string()), "{body}");
        let (status, h, _) = send(
            &app,
            Request::builder()
                .uri("/health")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        request_id_of(&h);
        // Distinct ids, each the one of its request's span, which says the
        // service, the operation and the status.
        assert_ne!(ok_id, error_id);
        let spans = spans.0.lock().unwrap().clone();
        assert_eq!(spans.len(), 5, "{spans:?}");
        let span_of = |id: uuid::Uuid| {
            spans
                .iter()
                .find(|s| s.get("request_id") == Some(&id.to_string()))
                .unwrap_or_else(|| panic!("no span for {id}: {spans:?}"))
                .clone()
        };
        let ok = span_of(ok_id);
        assert_eq!(
            (
                ok["service"].as_str(),
                ok["operation"].as_str(),
                ok["status"].as_str()
            ),
            ("events", "PutRule", "200")
        );
        let error = span_of(error_id);
        assert_eq!(
            (error["operation"].as_str(), error["status"].as_str()),
            ("DescribeRule", "400")
        );
        assert_eq!(span_of(unserved_id)["service"], "unserved");
    }

    #[tokio::test]
    async fn the_caller_extractor_refuses_a_request_without_a_principal() {
        let t = test_state();
        async fn whoami(Caller(p): Caller) -> String {
            p.arn().to_string()
        }
        // Mounted without the authentication layer: refused, in the shape
        // of the service the request is for.
        let bare = Router::new()
            .fallback(whoami)
            .layer(axum::middleware::from_fn(route));
        let (status, h, body) = send(&bare, aws_request("AmazonSQS.ListQueues", "{}")).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(h["x-amzn-errortype"], "MissingAuthenticationTokenException");
        assert_eq!(h["content-type"], "application/x-amz-json-1.0");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["__type"], "MissingAuthenticationTokenException");
        // Behind it (open mode): the server's account.
        let authed = Router::new()
            .fallback(whoami)
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&t.state),
                authenticate,
            ))
            .layer(axum::middleware::from_fn(route));
        let (status, _, body) = send(&authed, aws_request("AWSEvents.ListRules", "{}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!("arn:aws:iam::{}:root", t.state.home.bus.account())
        );
    }

    #[tokio::test]
    async fn requests_are_counted_by_operation_and_status() {
        let t = test_state();
        let app = crate::app(Arc::clone(&t.state));
        for body in [r#"{"Name": "a"}"#, r#"{"Name": "b"}"#] {
            send(&app, aws_request("AWSEvents.ListRules", body)).await;
        }
        send(&app, aws_request("AWSEvents.ListRules", "{}")).await;
        send(
            &app,
            aws_request("AWSEvents.DescribeRule", r#"{"Name": "nope"}"#),
        )
        .await;
        send(&app, aws_request("AWSEvents.Invented1", "{}")).await;
        send(&app, aws_request("AWSEvents.Invented2", "{}")).await;
        send(&app, aws_request("AmazonSQS.ListQueues", "{}")).await;
        send(&app, aws_request("Nobody.Nothing", "{}")).await;
        send(
            &app,
            Request::builder()
                .uri("/health")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let text = t
            .state
            .shared
            .metrics
            .render(&[(String::new(), t.state.home.bus.as_ref())]);
        let count = |operation: &str, status: u16| {
            let prefix =
                format!("ferrule_requests_total{{operation=\"{operation}\",status=\"{status}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .map_or(0, |n| n.parse::<u64>().unwrap())
        };
        // ListRules with a Name member is still ListRules (unknown members
        // are ignored), all three answered 200.
        assert_eq!(count("AWSEvents.ListRules", 200), 3, "{text}");
        assert_eq!(count("AWSEvents.DescribeRule", 400), 1, "{text}");
        // Unknown operations share one series.
        assert_eq!(count("AWSEvents.unknown", 400), 2, "{text}");
        assert!(!text.contains("Invented"), "{text}");
        assert_eq!(count("AmazonSQS.ListQueues", 200), 1, "{text}");
        assert_eq!(count("unserved", 400), 1, "{text}");
        // The server's own routes are not counted.
        assert!(!text.contains("health"), "{text}");
        assert!(
            text.contains(
                "ferrule_request_duration_seconds_count{operation=\"AWSEvents.ListRules\"} 3"
            ),
            "{text}"
        );
    }

    #[test]
    fn errors_render_in_their_services_protocol() {
        let render = |e: ApiError| {
            let r = e.into_response();
            let h = r.headers().clone();
            (r.status(), h)
        };
        let (status, h) = render(
            ApiError::new(400, "com.amazonaws.sqs#QueueDoesNotExist", "no")
                .with_header(
                    "x-amzn-query-error",
                    "AWS.SimpleQueueService.NonExistentQueue;Sender",
                )
                .in_protocol(Protocol::AwsJson10),
        );
        assert_eq!(status, 400);
        assert_eq!(h["content-type"], "application/x-amz-json-1.0");
        assert_eq!(h["x-amzn-errortype"], "com.amazonaws.sqs#QueueDoesNotExist");
        assert_eq!(
            h["x-amzn-query-error"],
            "AWS.SimpleQueueService.NonExistentQueue;Sender"
        );
        let (status, h) = render(ApiError::new(500, "InternalException", "boom"));
        assert_eq!(status, 500);
        assert_eq!(h["content-type"], "application/x-amz-json-1.1");
        let (status, h) = render(
            ApiError::new(404, "ResourceNotFoundException", "no schedule")
                .in_protocol(Protocol::RestJson),
        );
        assert_eq!(status, 404);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["x-amzn-errortype"], "ResourceNotFoundException");
    }

    #[tokio::test]
    async fn a_route_of_the_server_itself_keeps_its_handler() {
        // The layers sit around the server's own routes without changing them.
        let t = test_state();
        let app = crate::app(Arc::clone(&t.state));
        let (status, _, body) = send(
            &app,
            Request::builder()
                .uri("/metrics")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert!(body.contains("ferrule_pending_deliveries"), "{body}");
    }
}
