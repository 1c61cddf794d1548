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

use super::{ApiError, AppState, MAX_BODY_BYTES, Protocol, Route, SERVICES, ServiceInfo};
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
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let response = next.run(req).await;
    if let Some(OperationLabel(label)) = response.extensions().get::<OperationLabel>() {
        state
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
    State(state): State<Arc<AppState>>,
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
        &state,
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
