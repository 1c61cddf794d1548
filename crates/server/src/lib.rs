//! `ferrule serve`: EventBridge's AWS JSON 1.1 protocol
//! and SQS's JSON protocol over HTTP, so the aws CLI, boto3 and the AWS SDKs
//! work against ferrule with `endpoint_url` pointed at it.
//!
//! Requests are routed by `X-Amz-Target` (`AWSEvents.*`, `AmazonSQS.*`).
//! Without configured credentials the server is open (local development:
//! every request acts as the server's account). With credentials, every
//! request must carry a SigV4 signature scoped to the service it addresses
//! and a region the server serves; the signing key's principal is then
//! authorized by its identity policies and the buses' resource policies
//! before the operation runs. `GET /health` reports status and auth mode,
//! `GET /metrics` serves Prometheus text.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod access;
mod config;
mod events;
mod http;
mod metrics;
mod protocol;
mod sigv4;
mod sqs;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
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

/// An error answered on the wire.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: u16,
    type_name: String,
    message: String,
    headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(status: u16, type_name: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            type_name: type_name.to_string(),
            message: message.into(),
            headers: Vec::new(),
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

/// What every request handler shares.
pub(crate) struct AppState {
    pub(crate) bus: Arc<Bus>,
    pub(crate) metrics: Metrics,
    /// Access key id to secret; empty: open mode, nothing is verified.
    secrets: HashMap<String, String>,
    /// Access key id to the identity it signs for.
    principals: Arc<HashMap<String, Principal>>,
    /// Regions a signature may be scoped to.
    regions: Vec<String>,
    /// Who may read `/metrics`.
    metrics_access: MetricsConfig,
    started: Instant,
    stopping: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// Whether the server is shutting down (long polls should end).
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether requests are accepted without verification.
    pub(crate) fn is_open(&self) -> bool {
        self.secrets.is_empty()
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
    let principals = Arc::new(config.principals(&bus_options.account)?);
    let regions = vec![bus_options.region.clone()];
    let bus = tokio::task::spawn_blocking(move || Bus::open(bus_options))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            format!(
                "cannot open the store in {}: {e}",
                options.data_dir.display()
            )
        })?;
    let bus = Arc::new(bus);
    {
        let principals = Arc::clone(&principals);
        bus.set_principal_resolver(Arc::new(move |key: &str| principals.get(key).cloned()));
    }
    let state = Arc::new(AppState {
        bus: Arc::clone(&bus),
        metrics: Metrics::default(),
        secrets: config
            .credentials
            .iter()
            .map(|c| (c.access_key_id.clone(), c.secret_access_key.clone()))
            .collect(),
        principals,
        regions,
        metrics_access: config.metrics.clone().unwrap_or_default(),
        started: Instant::now(),
        stopping: std::sync::atomic::AtomicBool::new(false),
    });
    if state.is_open() {
        tracing::warn!(
            "no credentials configured: ferrule is open, every request is accepted unsigned and acts as account {} (local development only)",
            bus.account()
        );
    }
    {
        let state = Arc::clone(&state);
        let config = config.clone();
        tokio::task::spawn_blocking(move || config.apply(&state))
            .await
            .map_err(|e| e.to_string())??;
    }
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .fallback(any(aws))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::clone(&state));
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
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .await?;
    tracing::info!("shutting down");
    drop(state);
    // Stops the ingest and delivery threads; pending deliveries stay stored.
    tokio::task::spawn_blocking(move || drop(bus))
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

async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    // 503 while degraded (the store cannot write, delivery cannot read or
    // record), so that a load balancer or probe sees it; the body says why.
    let bus = Arc::clone(&state.bus);
    let report = tokio::task::spawn_blocking(move || bus.health())
        .await
        .unwrap_or_default();
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

async fn metrics_text(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
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
    let text = state.metrics.render(&state.bus);
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

/// Every AWS request: route by `X-Amz-Target`.
async fn aws(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (service, operation) = protocol::split_target(&target);
    if !protocol::is_served(service) {
        // Another service or protocol: an error its SDK can parse.
        let unserved = protocol::unserved(&method, &uri, &headers, &body);
        state
            .metrics
            .request("unserved", unserved.status, started.elapsed());
        tracing::debug!(target = %target, message = %unserved.message, "not served");
        return unserved.into_response(&uuid::Uuid::new_v4().to_string());
    }
    let content_type = match service {
        "AmazonSQS" => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    };
    let result = authorize(&state, service, &method, &uri, &headers, &body).and_then(|caller| {
        let input: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&body).map_err(|e| {
                ApiError::new(
                    400,
                    "SerializationException",
                    format!("the request body is not JSON: {e}"),
                )
            })?
        };
        access::authorize_request(&state, &caller, service, operation, &input)?;
        Ok((caller, input))
    });
    let result = match result {
        Err(e) => Err(e),
        Ok((caller, input)) => match service {
            "AWSEvents" => {
                let state2 = Arc::clone(&state);
                let operation = operation.to_string();
                tokio::task::spawn_blocking(move || {
                    events::handle(&state2, &operation, &input, &caller)
                })
                .await
                .unwrap_or_else(|e| Err(ApiError::new(500, "InternalException", e.to_string())))
            }
            "AmazonSQS" => {
                let host = headers
                    .get("host")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("localhost")
                    .to_string();
                sqs::handle(&state, operation, &input, &host).await
            }
            // Answered above; kept so that the match stays total.
            _ => Err(ApiError::new(
                400,
                "UnknownOperationException",
                protocol::unserved(&method, &uri, &headers, &body).message,
            )),
        },
    };
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.status,
    };
    // Unknown operations share one series, so clients cannot add series.
    let label = match &result {
        Err(e) if e.type_name == "UnknownOperationException" => format!("{service}.unknown"),
        _ => target.clone(),
    };
    state.metrics.request(&label, status, elapsed);
    tracing::debug!(target = %target, status, micros = elapsed.as_micros() as u64, "request");
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = match result {
        Ok(value) => (StatusCode::OK, value.to_string()).into_response(),
        Err(e) => {
            if e.status >= 500 {
                tracing::warn!(target = %target, error = %e.message, "request failed");
            }
            let body = json!({ "__type": e.type_name, "message": e.message }).to_string();
            let mut r = (
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                body,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&e.type_name) {
                r.headers_mut().insert("x-amzn-errortype", v);
            }
            for (name, value) in &e.headers {
                if let Ok(v) = HeaderValue::from_str(value) {
                    r.headers_mut().insert(*name, v);
                }
            }
            r
        }
    };
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

/// The signing service of each protocol prefix of `X-Amz-Target`.
fn signing_service(target_prefix: &str) -> Option<&'static str> {
    match target_prefix {
        "AWSEvents" => Some("events"),
        "AmazonSQS" => Some("sqs"),
        "AWSStepFunctions" => Some("states"),
        _ => None,
    }
}

/// Who is calling: in open mode the server's account; otherwise the
/// principal of the key whose signature verifies, scoped to this service
/// and region, with every `x-amz-*` header signed.
fn authorize(
    state: &AppState,
    service: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Principal, ApiError> {
    if state.is_open() {
        return Ok(Principal::account_root(state.bus.account()));
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
    if let Some(expected) = signing_service(service) {
        verified
            .check_scope(expected, &state.regions, headers)
            .map_err(auth)?;
    }
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
