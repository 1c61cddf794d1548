//! `ferrule serve`: EventBridge's AWS JSON 1.1 protocol
//! and SQS's JSON protocol over HTTP, so the aws CLI, boto3 and the AWS SDKs
//! work against ferrule with `endpoint_url` pointed at it.
//!
//! Without configured credentials the server is open (local development:
//! every request acts as the server's account). With credentials, every
//! request must carry a SigV4 signature scoped to the service it addresses
//! and a region the server serves; the signing key's principal is then
//! authorized by its identity policies and the buses' resource policies
//! before the operation runs. `GET /health` reports status and auth mode,
//! `GET /metrics` serves Prometheus text.
//!
//! # A protocol layer over services
//!
//! A request goes through the layers of [`layers`], outermost first:
//!
//! 1. **request id and tracing**: a UUID, in the request's extensions
//!    ([`layers::RequestId`]), on every response as `x-amzn-RequestId`
//!    (errors too), and in the one span of the request (`service`,
//!    `operation`, `request_id`, `status`);
//! 2. **metrics**: a count and a latency by operation and status, for
//!    every request a service recognized (and one `unserved` series);
//! 3. **routing**: which [`Service`] the request is for ([`ServiceInfo`]:
//!    by `X-Amz-Target` prefix, for the AWS JSON protocols), as a
//!    [`layers::Target`] in the extensions; a request
//!    for no service is answered here, in its own protocol's error shape
//!    ([`protocol::unserved`]);
//! 4. **authentication**: SigV4 verified for the service's signing name
//!    and the server's regions; the caller's [`Principal`] goes into the
//!    extensions, and a handler takes it with the [`layers::Caller`]
//!    extractor (which refuses a request that has none).
//!
//! The handler then asks the service to run the operation. A service is
//! one module: its [`ServiceInfo`] (route, signing name, protocol,
//! operations), and its [`Service::call`], which authorizes the
//! operation's resources ([`access`]) and maps the operation name to one
//! function per operation, of the shape
//!
//! ```text
//! fn put_rule(state: &AppState, request: rq::PutRule) -> Result<rs::PutRule, ApiError>
//! ```
//!
//! over a typed request (serde, read as the service's protocol reads it,
//! then checked against the service model) and a typed response (serde,
//! `Serialize`). An [`ApiError`] renders itself in the service's protocol
//! (`IntoResponse`). Adding Step Functions (AWS JSON 1.0,
//! `X-Amz-Target: AWSStepFunctions.*`, signing name `states`) is one module
//! with a `ServiceInfo` (`Route::Target("AWSStepFunctions")`,
//! `Protocol::AwsJson10`) and its operations, plus its entry in
//! [`SERVICES`] and in [`ServiceId::call`]. Scheduler (REST-JSON, signing
//! name `scheduler`, paths `/schedules/{Name}`, `/schedule-groups/...`)
//! adds one more [`Route`] kind, by path prefix, with the operation chosen
//! from the method and path (the routing layer is where that goes); its
//! errors render already ([`Protocol::RestJson`]).

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod access;
mod clock;
mod config;
mod events;
mod http;
pub(crate) mod layers;
mod metrics;
mod partition;
mod protocol;
mod scheduler;
mod sigv4;
mod sqs;
mod states;
mod universal;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

pub use config::{CredentialConfig, MetricsConfig, ServerConfig};
pub use http::HttpLimits;
use metrics::Metrics;

use ferrule_bus::{Bus, BusError, BusErrorKind, BusOptions};
use ferrule_policy::Principal;

/// Largest request body accepted (PutEvents allows 256 KiB of entries).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the embedded store lives.
    pub data_dir: PathBuf,
    /// A configuration file applied at start.
    pub config: Option<PathBuf>,
}

/// The wire protocol of a service, which decides how its answers look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// AWS JSON 1.0 (SQS, Step Functions): `X-Amz-Target`, errors as
    /// `{"__type", "message"}` with `x-amzn-ErrorType`.
    AwsJson10,
    /// AWS JSON 1.1 (EventBridge), the same with its own content type.
    AwsJson11,
    /// REST-JSON (Scheduler): `x-amzn-ErrorType` and a JSON body.
    RestJson,
}

impl Protocol {
    /// The `Content-Type` of its answers.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Protocol::AwsJson10 => "application/x-amz-json-1.0",
            Protocol::AwsJson11 => "application/x-amz-json-1.1",
            Protocol::RestJson => "application/json",
        }
    }

    /// A successful answer: `response` as JSON.
    pub(crate) fn reply<T: serde::Serialize>(self, response: &T) -> Result<Response, ApiError> {
        let body = serde_json::to_vec(response).map_err(|e| {
            ApiError::new(
                500,
                "InternalFailure",
                format!("cannot write the response: {e}"),
            )
        })?;
        Ok((
            StatusCode::OK,
            [("content-type", self.content_type())],
            body,
        )
            .into_response())
    }
}

/// An error answered on the wire, in its service's protocol.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: u16,
    type_name: String,
    message: String,
    headers: Vec<(&'static str, String)>,
    protocol: Protocol,
}

impl ApiError {
    pub(crate) fn new(status: u16, type_name: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            type_name: type_name.to_string(),
            message: message.into(),
            headers: Vec::new(),
            protocol: Protocol::AwsJson11,
        }
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    /// Adds a response header (SQS's `x-amzn-query-error`, for example).
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    /// The error as `protocol` answers it.
    pub(crate) fn in_protocol(mut self, protocol: Protocol) -> ApiError {
        self.protocol = protocol;
        self
    }
}

/// Runs `f` on tokio's blocking pool (store calls and waits stay off the
/// async threads). A task that panicked or was cancelled answers the
/// service's own internal error, made by `internal` from the reason.
pub(crate) async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    internal: fn(String) -> ApiError,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(internal(format!("the operation's task failed: {e}"))))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status >= 500 {
            // Inside the request's span: the log line carries its id.
            tracing::warn!(error = %self.message, code = %self.type_name, "request failed");
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        // The JSON protocols name the error in the body and in
        // `x-amzn-ErrorType`; REST-JSON clients read the header (and the
        // body's `__type` too, when present).
        let body = json!({ "__type": self.type_name, "message": self.message }).to_string();
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        h.insert(
            "content-type",
            HeaderValue::from_static(self.protocol.content_type()),
        );
        if let Ok(v) = HeaderValue::from_str(&self.type_name) {
            h.insert("x-amzn-errortype", v);
        }
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(*name, v);
            }
        }
        r
    }
}

impl From<BusError> for ApiError {
    fn from(e: BusError) -> ApiError {
        let status = if e.kind() == BusErrorKind::Internal {
            500
        } else {
            400
        };
        ApiError::new(status, e.kind().type_name(), e.message())
    }
}

/// How a service's requests are recognized.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Route {
    /// AWS JSON protocols: `X-Amz-Target: <prefix>.<Operation>`.
    Target(&'static str),
}

/// What the layers need to know of a service.
#[derive(Debug)]
pub(crate) struct ServiceInfo {
    /// Which one it is.
    pub(crate) id: ServiceId,
    /// How its requests are recognized.
    pub(crate) route: Route,
    /// The SigV4 signing name its requests are scoped to.
    pub(crate) signing_name: &'static str,
    /// How it answers.
    pub(crate) protocol: Protocol,
    /// The operations it serves (others are one `unknown` metrics series).
    pub(crate) operations: &'static [&'static str],
    /// Its error for an operation it does not serve.
    pub(crate) unknown_operation: fn(&str) -> ApiError,
}

/// The services ferrule serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServiceId {
    /// EventBridge ([`events`]).
    Events,
    /// SQS ([`sqs`]).
    Sqs,
    /// Step Functions ([`states`]).
    States,
}

/// Every served service, in the order requests are matched against them.
pub(crate) const SERVICES: [&ServiceInfo; 3] = [
    &events::Events::INFO,
    &sqs::Sqs::INFO,
    &states::StepFunctions::INFO,
];

/// One operation call, authenticated.
#[derive(Debug)]
pub(crate) struct Call {
    /// The operation's name (`PutRule`).
    pub(crate) operation: String,
    /// Who calls.
    pub(crate) caller: Principal,
    /// The request body, parsed as JSON (`{}` when empty; `null` when
    /// `put_events` holds it).
    pub(crate) input: Value,
    /// A PutEvents request read straight from its body, when it could be
    /// ([`events::read_put_events`]); else the service reads `input`.
    pub(crate) put_events: Option<events::PutEventsRequest>,
    /// The request's headers.
    pub(crate) headers: HeaderMap,
}

/// A service: its [`ServiceInfo`] and how it runs an operation.
pub(crate) trait Service {
    /// How the layers know it.
    const INFO: ServiceInfo;

    /// Authorizes and runs `call.operation`; the answer (or error) in the
    /// service's protocol.
    fn call(
        state: Arc<AppState>,
        call: Call,
    ) -> impl std::future::Future<Output = Result<Response, ApiError>> + Send;
}

impl ServiceId {
    /// The service's `call`.
    async fn call(self, state: Arc<AppState>, call: Call) -> Result<Response, ApiError> {
        match self {
            ServiceId::Events => events::Events::call(state, call).await,
            ServiceId::Sqs => sqs::Sqs::call(state, call).await,
            ServiceId::States => states::StepFunctions::call(state, call).await,
        }
    }
}

/// What every partition shares: credentials, metrics, the clock.
pub(crate) struct Shared {
    pub(crate) metrics: Metrics,
    /// Access key id to secret; empty: open mode, nothing is verified.
    secrets: HashMap<String, String>,
    /// Access key id to the identity it signs for.
    principals: Arc<HashMap<String, Principal>>,
    /// Keys that may put `aws.*` events (config `service_principal`).
    pub(crate) service_keys: std::collections::HashSet<String>,
    /// Who may read `/metrics`.
    metrics_access: MetricsConfig,
    started: Instant,
    stopping: std::sync::atomic::AtomicBool,
    /// The server's clock, shared by every partition.
    pub(crate) clock: clock::ServerClock,
    /// The partitions (set once they are open; weak: they hold this).
    server: std::sync::OnceLock<std::sync::Weak<partition::Server>>,
}

impl Shared {
    /// Whether requests are accepted without verification.
    pub(crate) fn is_open(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The partitions, unless the server is stopping.
    pub(crate) fn server(&self) -> Option<Arc<partition::Server>> {
        self.server.get()?.upgrade()
    }
}

/// One partition (account, Region): what its request handlers use.
pub(crate) struct AppState {
    pub(crate) bus: Arc<Bus>,
    pub(crate) runner: Arc<ferrule_runner::Runner>,
    /// EventBridge Scheduler's groups and schedules.
    pub(crate) scheduling: scheduler::Scheduling,
    /// FIFO receives by `ReceiveRequestAttemptId`.
    pub(crate) receive_attempts: sqs::ReceiveAttempts,
    /// What every partition shares.
    pub(crate) shared: Arc<Shared>,
}

impl AppState {
    /// Whether the server is shutting down (long polls should end).
    pub(crate) fn is_stopping(&self) -> bool {
        self.shared
            .stopping
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the runner's workers and the bus's threads, blocking (their
    /// work stays stored) — once the last handle goes.
    fn close(self: Arc<AppState>) {
        let runner = Arc::clone(&self.runner);
        let bus = Arc::clone(&self.bus);
        drop(self);
        drop(runner);
        drop(bus);
    }
}

/// An open-mode server over `options` with no configuration, for unit
/// tests (inside a Tokio runtime).
#[cfg(test)]
pub(crate) fn test_server(
    options: BusOptions,
    clock: clock::ServerClock,
) -> Arc<partition::Server> {
    let shared = Arc::new(Shared {
        metrics: Metrics::default(),
        secrets: HashMap::new(),
        principals: Arc::new(HashMap::new()),
        service_keys: Default::default(),
        metrics_access: MetricsConfig::default(),
        started: Instant::now(),
        stopping: std::sync::atomic::AtomicBool::new(false),
        clock,
        server: std::sync::OnceLock::new(),
    });
    match partition::Server::open(
        shared,
        options,
        None,
        tokio::runtime::Handle::current(),
        &|_| Ok(()),
    ) {
        Ok(s) => s,
        Err(e) => panic!("test server: {e}"),
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub fn serve(options: ServeOptions) -> Result<(), String> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(run(options))
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FERRULE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if std::env::var("FERRULE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn run(options: ServeOptions) -> Result<(), String> {
    let config = match &options.config {
        Some(path) => ServerConfig::load(path)?,
        None => ServerConfig::default(),
    };
    config.check()?;
    if let Some(limits) = &config.http {
        limits.validate()?;
    }
    let mut bus_options = BusOptions::new(&options.data_dir);
    config.apply_to_options(&mut bus_options);
    let clock = clock::ServerClock::parse(config.clock.as_deref())?;
    bus_options.clock = clock.shared();
    let principals = Arc::new(config.principals(&bus_options.account)?);
    let shared = Arc::new(Shared {
        metrics: Metrics::default(),
        secrets: config
            .credentials
            .iter()
            .map(|c| (c.access_key_id.clone(), c.secret_access_key.clone()))
            .collect(),
        principals,
        service_keys: config.service_keys(),
        metrics_access: config.metrics.clone().unwrap_or_default(),
        started: Instant::now(),
        stopping: std::sync::atomic::AtomicBool::new(false),
        clock,
        server: std::sync::OnceLock::new(),
    });
    let account = bus_options.account.clone();
    // The configured Region is always served.
    let regions = config.regions.clone().map(|mut list| {
        if !list.contains(&bus_options.region) {
            list.push(bus_options.region.clone());
        }
        list
    });
    let state = {
        let shared = Arc::clone(&shared);
        let config = config.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            partition::Server::open(shared, bus_options, regions, runtime, &|home| {
                config.apply(home)
            })
        })
        .await
        .map_err(|e| e.to_string())??
    };
    if shared.is_open() {
        tracing::warn!(
            "no credentials configured: ferrule is open, every request is accepted unsigned and acts as account {account} (local development only)"
        );
    }
    let app = app(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, data_dir = %options.data_dir.display(), "ferrule is listening");
    let limits = config.http.clone().unwrap_or_default();
    http::serve(listener, app, limits, {
        let state = Arc::clone(&state);
        async move {
            shutdown_signal().await;
            state
                .shared
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .await?;
    tracing::info!("shutting down");
    // Stops the runners' workers (executions stay stored), then the ingest
    // and delivery threads; pending deliveries stay stored.
    tokio::task::spawn_blocking(move || state.close())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn health(State(server): State<Arc<partition::Server>>) -> impl IntoResponse {
    // 503 while degraded (a store cannot write, delivery cannot read or
    // record), so that a load balancer or probe sees it; the body says why.
    // Every partition's bus counts.
    let partitions = server.every_partition();
    let report = tokio::task::spawn_blocking(move || {
        let mut all = ferrule_core::health::HealthReport {
            pending_deliveries: Some(0),
            ..Default::default()
        };
        for p in &partitions {
            let r = p.bus.health();
            all.faults.extend(r.faults);
            all.store_errors += r.store_errors;
            all.pending_deliveries = match (all.pending_deliveries, r.pending_deliveries) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        all
    })
    .await
    .unwrap_or_default();
    let state = &server.shared;
    let status = if report.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({
        "status": report.status(),
        "auth": if state.is_open() { "open" } else { "sigv4" },
        "uptime_seconds": state.started.elapsed().as_secs(),
        "pending_deliveries": report.pending_deliveries,
        "store_errors": report.store_errors,
    });
    if let Some(reason) = report.reason() {
        body["reason"] = json!(reason);
        body["faults"] = report
            .faults
            .iter()
            .map(|f| {
                json!({
                    "component": f.component,
                    "reason": f.reason,
                    "since": ferrule_core::time::format_millis(f.since_ms),
                    "failures": f.failures,
                })
            })
            .collect();
    }
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
}

async fn metrics_text(
    State(server): State<Arc<partition::Server>>,
    headers: HeaderMap,
) -> Response {
    let state = &server.shared;
    let refuse = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            [("content-type", "application/json")],
            json!({ "__type": code, "message": message }).to_string(),
        )
            .into_response()
    };
    if state.metrics_access.enabled == Some(false) {
        return refuse(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "/metrics is turned off in the configuration.",
        );
    }
    if let Some(token) = &state.metrics_access.bearer_token {
        let given = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Constant-time comparison: the token is a secret.
        let ok = given.is_some_and(|g| {
            use sha2::Digest;
            sha2::Sha256::digest(g.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
        });
        if !ok {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "UnrecognizedClientException",
                "/metrics requires Authorization: Bearer <token> (metrics.bearer_token).",
            );
        }
    }
    let partitions = server.every_partition();
    let home = server.home_key().clone();
    let buses: Vec<(String, &Bus)> = partitions
        .iter()
        .map(|p| {
            let (account, region) = (p.bus.account(), p.bus.region());
            let prefix = if account == home.account && region == home.region {
                String::new()
            } else {
                format!("account=\"{account}\",region=\"{region}\",")
            };
            (prefix, p.bus.as_ref())
        })
        .collect();
    let text = state.metrics.render(&buses);
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

/// The router and its layers (see the crate's documentation).
pub(crate) fn app(state: Arc<partition::Server>) -> Router {
    use axum::middleware::from_fn_with_state;
    // Routing and authentication wrap the AWS fallback alone; request ids,
    // tracing and metrics wrap every route (the outermost layer is added last).
    let aws_routes = Router::new()
        .fallback(any(aws))
        .layer(from_fn_with_state(Arc::clone(&state), layers::authenticate))
        .layer(axum::middleware::from_fn(layers::route));
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .route("/_ferrule/clock", get(clock::get).post(clock::set))
        .merge(scheduler::routes())
        .merge(aws_routes)
        .layer(from_fn_with_state(Arc::clone(&state), layers::metrics))
        .layer(axum::middleware::from_fn(layers::request_id))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Every AWS request of a served service, authenticated: parsed as JSON,
/// then the service runs the operation.
async fn aws(
    State(server): State<Arc<partition::Server>>,
    Extension(target): Extension<layers::Target>,
    layers::Caller(caller): layers::Caller,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let info = target.service;
    let result = async {
        // PutEvents, the hot path, is read without a `Value` when it can
        // be: any error is left to the general path below, which answers
        // it exactly as for every other operation.
        let put_events = (info.id == ServiceId::Events && target.operation == "PutEvents")
            .then(|| events::read_put_events(&body))
            .flatten();
        let input = if put_events.is_some() {
            Value::Null
        } else {
            json_body(&body)?
        };
        let state = partition_of(
            &server,
            &caller,
            Some((info.id, target.operation.as_str(), &input)),
            &headers,
            &uri,
        )
        .await?;
        info.id
            .call(
                state,
                Call {
                    operation: target.operation,
                    caller,
                    input,
                    put_events,
                    headers,
                },
            )
            .await
    }
    .await;
    result.unwrap_or_else(|e| e.in_protocol(info.protocol).into_response())
}

/// An AWS JSON request body parsed as JSON (`{}` when empty).
pub(crate) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "SerializationException",
            format!("the request body is not JSON: {e}"),
        )
    })
}

/// The partition a request acts in ([`partition`]): the signed Region, and
/// the account of the resource it names (the caller's when it names none).
/// `request`: the AWS JSON service, operation and input (Scheduler's
/// requests act in the caller's account).
pub(crate) async fn partition_of(
    server: &Arc<partition::Server>,
    caller: &Principal,
    request: Option<(ServiceId, &str, &Value)>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Arc<AppState>, ApiError> {
    let service = request.map(|(s, _, _)| s);
    let home = server.home_key();
    let region = partition::signed_region(headers, uri).unwrap_or_else(|| home.region.clone());
    // Open mode verifies nothing, so the scope is only read: it must still
    // be a Region name (it becomes a directory name).
    server.region_ok(&region).map_err(|m| {
        ApiError::new(
            400,
            "InvalidSignatureException",
            format!("Credential should be scoped to a valid region: {m}. "),
        )
    })?;
    let named = request.and_then(|(s, op, input)| partition::named_scope(s, op, input));
    let account = match named {
        Some((Some(named), _)) if named != region => {
            return Err(ApiError::new(
                400,
                match service {
                    Some(ServiceId::States) => "InvalidArn",
                    _ => "ValidationException",
                },
                format!(
                    "The resource is in {named}, not in the Region the request is signed for ({region})."
                ),
            ));
        }
        Some((_, account)) => account,
        None => caller.account().to_string(),
    };
    let key = partition::PartitionKey { account, region };
    // An open partition is a map lookup; only opening one blocks.
    if let Some(state) = server.partition_if_open(&key) {
        return Ok(state);
    }
    let server = Arc::clone(server);
    tokio::task::spawn_blocking(move || server.partition(&key))
        .await
        .map_err(|e| ApiError::new(500, "InternalFailure", e.to_string()))?
        .map_err(|m| match service {
            Some(ServiceId::Sqs) => ApiError::new(
                400,
                "AWS.SimpleQueueService.NonExistentQueue",
                format!("The specified queue does not exist ({m})."),
            ),
            _ => ApiError::new(400, "ResourceNotFoundException", format!("{m}.")),
        })
}

/// Who is calling: in open mode the server's account; otherwise the
/// principal of the key whose signature verifies, scoped to this service
/// and region, with every `x-amz-*` header signed.
pub(crate) fn authenticate(
    server: &partition::Server,
    signing_name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Principal, ApiError> {
    let state = &server.shared;
    if state.is_open() {
        return Ok(Principal::account_root(&server.home_key().account));
    }
    let auth = |e: sigv4::AuthError| ApiError::new(e.status, e.code, e.message);
    let verified = sigv4::verify(
        method.as_str(),
        uri.path(),
        uri.query().unwrap_or(""),
        headers,
        body,
        &state.secrets,
        std::time::SystemTime::now(),
    )
    .map_err(auth)?;
    verified
        .check_scope(signing_name, |r| server.region_ok(r).is_ok(), headers)
        .map_err(auth)?;
    state
        .principals
        .get(&verified.access_key)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })
}

#[cfg(test)]
mod off_runtime_tests {
    use super::{ApiError, off_runtime};

    fn internal(m: String) -> ApiError {
        ApiError::new(500, "InternalFailure", m)
    }

    #[tokio::test]
    async fn a_result_comes_back_as_it_is() {
        let ok = off_runtime(|| Ok(7), internal).await;
        assert_eq!(ok.ok(), Some(7));
        let e = off_runtime::<()>(
            || Err(ApiError::new(400, "ValidationException", "no")),
            internal,
        )
        .await
        .err()
        .map(|e| (e.status(), e.type_name));
        assert_eq!(e, Some((400, "ValidationException".to_string())));
    }

    #[tokio::test]
    async fn a_panicking_task_answers_the_services_internal_error() {
        let e = off_runtime::<()>(|| panic!("boom"), internal).await.err();
        let e = e.map(|e| (e.status(), e.type_name, e.message));
        let Some((500, name, message)) = e else {
            panic!("expected a 500, got {e:?}");
        };
        assert_eq!(name, "InternalFailure");
        assert!(message.contains("the operation's task failed"), "{message}");
    }
}
