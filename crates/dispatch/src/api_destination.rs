//! API destinations: HTTP endpoints invoked through a *connection* that
//! holds their authorization (an API key header, basic auth, or an OAuth
//! client-credentials token that is fetched, cached and refreshed) and extra
//! invocation parameters, at most `InvocationRateLimitPerSecond` requests a
//! second.
//!
//! Status codes follow EventBridge's rules for API destinations: 2xx is
//! delivered; 401, 407, 409, 429 and 5xx are retried (a 401 or 407 through
//! an OAuth connection also drops the cached token, so the retry fetches a
//! new one); every other status (1xx, 3xx, other 4xx) fails for good and
//! goes to the dead-letter queue at once.
//!
//! Secrets (API key values, passwords, client secrets, parameters marked
//! secret) never appear in `Debug` output, log lines or error messages.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::targets::{DeliveryContext, DeliveryError};

/// EventBridge gives an API destination endpoint 5 seconds to answer.
pub const INVOCATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a delivery waits in the rate limiter before it is put back
/// (as a retryable `THROTTLING` failure) to free its lane.
const MAX_RATE_WAIT: Duration = Duration::from_secs(10);

/// A token whose `expires_in` is unknown is kept this long.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Characters escaped in a path parameter value (a value fills one `*`).
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/');

/// Characters escaped in a query-string key or value.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// A key and value sent with each request (a header, a query-string
/// parameter or a body member).
#[derive(Clone, PartialEq, Eq)]
pub struct Param {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// Whether the value is a secret (never shown).
    pub secret: bool,
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.secret { "***" } else { &self.value };
        write!(f, "{}={value}", self.key)
    }
}

/// A connection's `InvocationHttpParameters` (or `OAuthHttpParameters`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionParams {
    /// Headers.
    pub headers: Vec<Param>,
    /// Query-string parameters.
    pub query: Vec<Param>,
    /// Members added to a JSON object body.
    pub body: Vec<Param>,
}

/// A rule target's `HttpParameters`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetHttpParams {
    /// Fill the endpoint's `*` wildcards, in order.
    pub path_parameter_values: Vec<String>,
    /// Headers.
    pub headers: BTreeMap<String, String>,
    /// Query-string parameters.
    pub query: BTreeMap<String, String>,
}

/// An OAuth client-credentials grant: where and how to get a token.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// `AuthorizationEndpoint`.
    pub endpoint: String,
    /// `HttpMethod` of the token request: GET, POST or PUT.
    pub method: String,
    /// `ClientID`.
    pub client_id: String,
    /// `ClientSecret`.
    pub client_secret: String,
    /// `OAuthHttpParameters`: sent with the token request.
    pub params: ConnectionParams,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

struct Token {
    value: String,
    expires: Instant,
}

/// Fetches an OAuth token with the client credentials, keeps it until it
/// expires (or an endpoint refuses it), and fetches again then.
pub struct OAuthClient {
    config: OAuthConfig,
    agent: ureq::Agent,
    token: Mutex<Option<Token>>,
    fetches: AtomicU64,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("config", &self.config)
            .field("fetches", &self.fetches)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client for `config` (no token yet).
    pub fn new(config: OAuthConfig) -> OAuthClient {
        OAuthClient {
            config,
            agent: agent(),
            token: Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Token requests made so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Drops the cached token: the next request fetches a new one.
    pub fn invalidate(&self) {
        *lock(&self.token) = None;
    }

    /// The cached token, or a new one from the authorization endpoint. The
    /// lock is held while fetching, so concurrent deliveries fetch once.
    pub fn token(&self) -> Result<String, DeliveryError> {
        let mut cached = lock(&self.token);
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.expires
        {
            return Ok(t.value.clone());
        }
        let token = self.fetch()?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    fn fetch(&self) -> Result<Token, DeliveryError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let c = &self.config;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.client_id, c.client_secret));
        let mut url = c.endpoint.clone();
        let query: Vec<(&str, &str)> = c
            .params
            .query
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        let form: Vec<(&str, &str)> = c
            .params
            .body
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        let mut body = String::new();
        if c.method == "GET" {
            add_query(&mut url, query.iter().chain(form.iter()).copied());
        } else {
            add_query(&mut url, query.iter().copied());
            body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
        }
        let mut request = ureq::http::Request::builder()
            .method(c.method.as_str())
            .uri(&url)
            .header("authorization", format!("Basic {credentials}"))
            .header("accept", "application/json");
        if c.method != "GET" {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        for p in &c.params.headers {
            request = request.header(p.key.as_str(), p.value.as_str());
        }
        let request = request.body(body).map_err(|e| {
            DeliveryError::permanent(
                "SDK_CLIENT_ERROR",
                format!("the OAuth token request is not valid: {e}"),
            )
        })?;
        let mut response = self.agent.run(request).map_err(|e| {
            DeliveryError::retryable(
                "CONNECTION_FAILURE",
                format!("{}: {}", c.endpoint, error_text(&e)),
            )
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if !(200..=299).contains(&status) {
            // The endpoint refused the credentials (or failed): the
            // delivery is tried again, in case the endpoint recovers.
            return Err(DeliveryError::retryable(
                "ERROR_FROM_TARGET",
                format!("the OAuth endpoint {} answered {status}", c.endpoint),
            ));
        }
        let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
            DeliveryError::retryable(
                "ERROR_FROM_TARGET",
                format!("the OAuth endpoint {} answered no JSON", c.endpoint),
            )
        })?;
        let Some(value) = parsed.get("access_token").and_then(|v| v.as_str()) else {
            return Err(DeliveryError::retryable(
                "ERROR_FROM_TARGET",
                format!("the OAuth endpoint {} answered no access_token", c.endpoint),
            ));
        };
        let lifetime = parsed
            .get("expires_in")
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(1e9)))
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok(Token {
            value: value.to_string(),
            expires: Instant::now() + lifetime,
        })
    }
}

/// How a connection authorizes requests.
#[derive(Clone)]
pub enum Auth {
    /// A header named `name` with `value`.
    ApiKey {
        /// The header's name.
        name: String,
        /// The key.
        value: String,
    },
    /// `Authorization: Basic`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// `Authorization: Bearer` with a client-credentials token.
    OAuth(Arc<OAuthClient>),
    /// Deauthorized: requests are not sent.
    Deauthorized,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::ApiKey { name, .. } => write!(f, "ApiKey({name})"),
            Auth::Basic { username, .. } => write!(f, "Basic({username})"),
            Auth::OAuth(c) => write!(f, "OAuth({})", c.config.client_id),
            Auth::Deauthorized => f.write_str("Deauthorized"),
        }
    }
}

/// A connection as the invocations use it.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The connection's ARN (for messages).
    pub arn: String,
    /// The authorization.
    pub auth: Auth,
    /// Added to every invocation; they win over the target's.
    pub params: ConnectionParams,
}

impl Connection {
    /// The authorization header of a request through the connection (the
    /// API key header, basic auth, or an OAuth bearer token, fetched if
    /// none is cached); a deauthorized connection fails for good.
    pub fn auth_header(&self) -> Result<Option<(String, String)>, DeliveryError> {
        Ok(match &self.auth {
            Auth::Deauthorized => {
                return Err(DeliveryError::permanent(
                    "NO_RESOURCE",
                    format!("the connection {} is deauthorized", self.arn),
                ));
            }
            Auth::ApiKey { name, value } => Some((name.clone(), value.clone())),
            Auth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                Some(("authorization".to_string(), format!("Basic {encoded}")))
            }
            Auth::OAuth(client) => Some((
                "authorization".to_string(),
                format!("Bearer {}", client.token()?),
            )),
        })
    }

    /// After the endpoint answered 401 or 407: an OAuth connection drops its
    /// token, so the next request fetches a new one.
    pub fn refused(&self) {
        if let Auth::OAuth(client) = &self.auth {
            client.invalidate();
        }
    }
}

/// A pacing token bucket: `per_second` requests a second, bursts of up to
/// `per_second` (the generic cell rate algorithm: one theoretical arrival
/// time, no timer).
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `per_second` (at least 1) requests a second.
    pub fn new(per_second: u32) -> RateLimiter {
        let per_second = per_second.max(1);
        let interval = Duration::from_secs(1) / per_second;
        RateLimiter {
            interval,
            tolerance: interval * (per_second - 1),
            tat: Mutex::new(None),
        }
    }

    /// Reserves the next slot and returns how long to wait for it; `None`
    /// (nothing reserved) when that would be longer than `max_wait`.
    pub fn reserve(&self, now: Instant, max_wait: Duration) -> Option<Duration> {
        let mut tat = lock(&self.tat);
        let theoretical = tat.map_or(now, |t| t.max(now));
        let start = theoretical.checked_sub(self.tolerance).unwrap_or(now);
        let wait = start.saturating_duration_since(now);
        if wait > max_wait {
            return None;
        }
        *tat = Some(theoretical + self.interval);
        Some(wait)
    }
}

/// An API destination: endpoint, method, rate limit and connection.
pub struct ApiDestination {
    arn: String,
    endpoint: String,
    method: String,
    connection: Connection,
    limiter: RateLimiter,
    agent: ureq::Agent,
}

impl std::fmt::Debug for ApiDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDestination")
            .field("arn", &self.arn)
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl ApiDestination {
    /// The destination `arn`: `method` requests to `endpoint` (with `*`
    /// wildcards) through `connection`, at most `rate_per_second` a second.
    pub fn new(
        arn: &str,
        endpoint: &str,
        method: &str,
        rate_per_second: u32,
        connection: Connection,
    ) -> ApiDestination {
        ApiDestination {
            arn: arn.to_string(),
            endpoint: endpoint.to_string(),
            method: method.to_string(),
            connection,
            limiter: RateLimiter::new(rate_per_second),
            agent: agent(),
        }
    }

    /// The URL of an invocation (see [`fill_url`]).
    pub fn url(&self, http: &TargetHttpParams) -> String {
        fill_url(&self.endpoint, http, &self.connection.params.query)
    }

    /// Sends `payload` with the target's HTTP parameters.
    pub fn invoke(
        &self,
        payload: &str,
        http: &TargetHttpParams,
        context: &DeliveryContext<'_>,
    ) -> Result<(), DeliveryError> {
        let auth = self.connection.auth_header().map_err(|e| DeliveryError {
            message: format!("{} (API destination {})", e.message, self.arn),
            ..e
        })?;
        match self.limiter.reserve(Instant::now(), MAX_RATE_WAIT) {
            Some(wait) if !wait.is_zero() => std::thread::sleep(wait),
            Some(_) => {}
            None => {
                return Err(DeliveryError::retryable(
                    "THROTTLING",
                    format!("{} is at its invocation rate limit", self.arn),
                ));
            }
        }
        let url = self.url(http);
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        headers.insert(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        );
        for (k, v) in &http.headers {
            headers.insert(k.to_ascii_lowercase(), v.clone());
        }
        for p in &self.connection.params.headers {
            headers.insert(p.key.to_ascii_lowercase(), p.value.clone());
        }
        if let Some((k, v)) = auth {
            headers.insert(k.to_ascii_lowercase(), v);
        }
        let body = self.body(payload);
        let mut request = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(&url)
            .header("x-ferrule-event-id", context.event_id)
            .header("x-ferrule-rule-arn", context.rule_arn);
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let invalid = |e: ureq::http::Error| {
            DeliveryError::permanent(
                "SDK_CLIENT_ERROR",
                format!("the request to {} is not valid: {e}", self.arn),
            )
        };
        // HEAD carries no body; every other method gets the payload.
        let sent = if self.method == "HEAD" {
            self.agent.run(request.body(()).map_err(invalid)?)
        } else {
            self.agent.run(request.body(body).map_err(invalid)?)
        };
        let status = match sent {
            Ok(r) => r.status().as_u16(),
            Err(ureq::Error::Timeout(_)) => {
                return Err(DeliveryError::retryable(
                    "TIMEOUT",
                    format!("{} timed out", self.endpoint),
                ));
            }
            Err(e) => {
                return Err(DeliveryError::retryable(
                    "CONNECTION_FAILURE",
                    format!("{}: {}", self.endpoint, error_text(&e)),
                ));
            }
        };
        let answered = || format!("{} answered {status}", self.endpoint);
        match status {
            200..=299 => Ok(()),
            401 | 407 => {
                // The token may have been revoked or expired early.
                self.connection.refused();
                Err(DeliveryError::retryable("ERROR_FROM_TARGET", answered()))
            }
            429 => Err(DeliveryError::retryable("THROTTLING", answered())),
            409 | 500..=599 => Err(DeliveryError::retryable("ERROR_FROM_TARGET", answered())),
            _ => Err(DeliveryError::permanent("ERROR_FROM_TARGET", answered())),
        }
    }

    /// The payload with the connection's body parameters added when it is a
    /// JSON object (other payloads are sent as they are).
    fn body(&self, payload: &str) -> String {
        if self.connection.params.body.is_empty() {
            return payload.to_string();
        }
        match serde_json::from_str::<serde_json::Value>(payload) {
            Ok(serde_json::Value::Object(mut object)) => {
                for p in &self.connection.params.body {
                    object.insert(p.key.clone(), serde_json::Value::String(p.value.clone()));
                }
                serde_json::Value::Object(object).to_string()
            }
            _ => payload.to_string(),
        }
    }
}

/// The URL of a request to `endpoint`: its `*` filled from the path values
/// in order (escaped; a missing value leaves the segment empty), then the
/// query string: the target's parameters, overridden by the connection's.
pub fn fill_url(endpoint: &str, http: &TargetHttpParams, connection_query: &[Param]) -> String {
    let mut values = http.path_parameter_values.iter();
    let mut url = String::with_capacity(endpoint.len());
    for c in endpoint.chars() {
        if c == '*' {
            if let Some(v) = values.next() {
                url.extend(utf8_percent_encode(v, PATH_VALUE));
            }
        } else {
            url.push(c);
        }
    }
    let mut query: BTreeMap<&str, &str> = http
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for p in connection_query {
        query.insert(&p.key, &p.value);
    }
    add_query(&mut url, query.into_iter());
    url
}

/// Appends `pairs` to `url`'s query string.
fn add_query<'a>(url: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    for (k, v) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.extend(utf8_percent_encode(k, QUERY));
        url.push('=');
        url.extend(utf8_percent_encode(v, QUERY));
    }
}

fn agent() -> ureq::Agent {
    crate::http_client::agent(
        INVOCATION_TIMEOUT,
        crate::http_client::API_DESTINATION_USER_AGENT,
    )
}

/// An error's text without the request (whose URL may carry a secret query
/// parameter).
fn error_text(e: &ureq::Error) -> String {
    crate::http_client::describe_error(e)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn the_limiter_allows_a_burst_then_paces() {
        let limiter = RateLimiter::new(4);
        let t0 = Instant::now();
        let max = Duration::from_secs(10);
        for _ in 0..4 {
            assert_eq!(limiter.reserve(t0, max), Some(Duration::ZERO));
        }
        // Then one every 250 ms.
        assert_eq!(limiter.reserve(t0, max), Some(Duration::from_millis(250)));
        assert_eq!(limiter.reserve(t0, max), Some(Duration::from_millis(500)));
        // Too long a wait reserves nothing.
        assert_eq!(limiter.reserve(t0, Duration::from_millis(600)), None);
        assert_eq!(limiter.reserve(t0, max), Some(Duration::from_millis(750)));
        // After a quiet second the burst is back.
        let later = t0 + Duration::from_secs(3);
        assert_eq!(limiter.reserve(later, max), Some(Duration::ZERO));
    }

    #[test]
    fn urls_fill_wildcards_and_merge_queries() {
        let http = TargetHttpParams {
            path_parameter_values: vec!["a/b".into(), "c d".into()],
            headers: BTreeMap::new(),
            query: [
                ("k".to_string(), "t&1".to_string()),
                ("z".to_string(), "2".to_string()),
            ]
            .into(),
        };
        let conn = [Param {
            key: "k".into(),
            value: "conn".into(),
            secret: true,
        }];
        assert_eq!(
            fill_url("http://h/x/*/y/*/z/*", &http, &conn),
            "http://h/x/a%2Fb/y/c%20d/z/?k=conn&z=2"
        );
        assert_eq!(
            fill_url("http://h/x?a=1", &TargetHttpParams::default(), &[]),
            "http://h/x?a=1"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = Connection {
            arn: "arn".into(),
            auth: Auth::Basic {
                username: "u".into(),
                password: "pw-secret".into(),
            },
            params: ConnectionParams {
                headers: vec![Param {
                    key: "h".into(),
                    value: "hv-secret".into(),
                    secret: true,
                }],
                ..Default::default()
            },
        };
        let o = OAuthConfig {
            endpoint: "e".into(),
            method: "POST".into(),
            client_id: "id".into(),
            client_secret: "cs-secret".into(),
            params: ConnectionParams::default(),
        };
        let shown = format!("{c:?} {o:?} {:?}", OAuthClient::new(o.clone()));
        assert!(!shown.contains("secret"), "{shown}");
    }

    /// Answers `n` requests with 200, recording their request lines.
    fn server(n: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for stream in listener.incoming().take(n) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                lines.push(first.trim_end().to_string());
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
            lines
        });
        (url, handle)
    }

    #[test]
    fn every_method_is_sent() {
        let methods = ["GET", "HEAD", "DELETE", "OPTIONS", "PATCH"];
        let (url, handle) = server(methods.len());
        let context = DeliveryContext {
            event_id: "e",
            rule_arn: "r",
            target_arn: "t",
            target_id: "i",
            attempt: 1,
            principal: None,
        };
        for m in methods {
            let d = ApiDestination::new(
                "arn",
                &format!("{url}/*"),
                m,
                300,
                Connection {
                    arn: "c".into(),
                    auth: Auth::ApiKey {
                        name: "k".into(),
                        value: "v".into(),
                    },
                    params: ConnectionParams::default(),
                },
            );
            let http = TargetHttpParams {
                path_parameter_values: vec![m.to_ascii_lowercase()],
                ..Default::default()
            };
            d.invoke("{}", &http, &context).unwrap();
        }
        let lines = handle.join().unwrap();
        let expected: Vec<String> = methods
            .iter()
            .map(|m| format!("{m} /{} HTTP/1.1", m.to_ascii_lowercase()))
            .collect();
        assert_eq!(lines, expected);
    }
}
