//! `ferrule serve` (feature `server`): EventBridge's AWS JSON 1.1 protocol
//! and SQS's JSON protocol over HTTP, so the aws CLI, boto3 and the AWS SDKs
//! work against ferrule with `endpoint_url` pointed at it.
//!
//! Requests are routed by `X-Amz-Target` (`AWSEvents.*`, `AmazonSQS.*`).
//! Signed requests are accepted with any credentials unless SigV4
//! verification is turned on with configured keys; a bus can restrict
//! which access keys may put events to it. `GET /health` answers `ok`,
//! `GET /metrics` serves Prometheus text.

mod config;
mod events;
mod metrics;
mod sigv4;
mod sqs;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

pub use config::ServerConfig;
use metrics::Metrics;

use crate::bus::{Bus, BusError, BusErrorKind, BusOptions};

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

/// Which access keys may put events to each bus (absent: anyone).
type BusPolicies = HashMap<String, Vec<String>>;

/// What every request handler shares.
pub(crate) struct AppState {
    pub(crate) bus: Arc<Bus>,
    pub(crate) sqs: sqs::SqsState,
    pub(crate) metrics: Metrics,
    /// Access key id to secret; empty: signatures are not verified.
    secrets: HashMap<String, String>,
    policies: RwLock<BusPolicies>,
    started: Instant,
    stopping: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// Whether the server is shutting down (long polls should end).
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether `caller` may put events to `bus`.
    pub(crate) fn may_put(&self, bus: &str, caller: Option<&str>) -> bool {
        let Ok(policies) = self.policies.read() else {
            return false;
        };
        match policies.get(bus) {
            None => true,
            Some(allowed) => caller.is_some_and(|c| allowed.iter().any(|a| a == c || a == "*")),
        }
    }

    /// Sets a bus's put policy from a CreateEventBus `Policy` (ferrule
    /// reads a list of allowed access key ids under
    /// `{"AllowedAccessKeys": [...]}`, or a policy document's principals).
    pub(crate) fn set_bus_policy(&self, bus: &str, policy: Option<&Value>) {
        let Some(policy) = policy else { return };
        let doc: Value = match policy {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        let keys: Vec<String> = doc
            .get("AllowedAccessKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Ok(mut p) = self.policies.write() {
            p.insert(bus.to_string(), keys);
        }
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
    let mut bus_options = BusOptions::new(&options.data_dir);
    config.apply_to_options(&mut bus_options);
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
    let state = Arc::new(AppState {
        bus: Arc::clone(&bus),
        sqs: sqs::SqsState::default(),
        metrics: Metrics::default(),
        secrets: config.credentials.iter().cloned().collect(),
        policies: RwLock::new(HashMap::new()),
        started: Instant::now(),
        stopping: std::sync::atomic::AtomicBool::new(false),
    });
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
    axum::serve(listener, app)
        .with_graceful_shutdown({
            let state = Arc::clone(&state);
            async move {
                shutdown_signal().await;
                state
                    .stopping
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .await
        .map_err(|e| e.to_string())?;
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
                    "since": crate::bus::format_millis(f.since_ms),
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

async fn metrics_text(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let text = state.metrics.render(&state.bus);
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        text,
    )
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
    let (service, operation) = target.split_once('.').unwrap_or(("", ""));
    let content_type = match service {
        "AmazonSQS" => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    };
    let result = authorize(&state, &method, &uri, &headers, &body).and_then(|caller| {
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
        Ok((caller, input))
    });
    let result = match result {
        Err(e) => Err(e),
        Ok((caller, input)) => match service {
            "AWSEvents" => {
                let state2 = Arc::clone(&state);
                let operation = operation.to_string();
                tokio::task::spawn_blocking(move || {
                    events::handle(&state2, &operation, &input, caller.as_deref())
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
            _ => Err(ApiError::new(
                400,
                "UnknownOperationException",
                format!("unknown X-Amz-Target {target:?}"),
            )),
        },
    };
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.status,
    };
    state.metrics.request(&target, status, elapsed);
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

/// Verifies the signature when keys are configured; returns the caller's
/// access key id when the request names one.
fn authorize(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<String>, ApiError> {
    if state.secrets.is_empty() {
        return Ok(sigv4::access_key(headers));
    }
    sigv4::verify(
        method.as_str(),
        uri.path(),
        uri.query().unwrap_or(""),
        headers,
        body,
        &state.secrets,
        std::time::SystemTime::now(),
    )
    .map(Some)
    .map_err(|e| ApiError::new(e.status, e.code, e.message))
}
