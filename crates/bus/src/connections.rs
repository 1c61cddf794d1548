//! Connections and API destinations (EventBridge's `CreateConnection`,
//! `CreateApiDestination` and their Describe/Update/Delete/List, and
//! `DeauthorizeConnection`), kept in the metadata store, and API
//! destinations as rule targets.
//!
//! A connection holds the authorization of its API destinations: an API key
//! header, basic auth, or OAuth client credentials (ferrule fetches the
//! token from the authorization endpoint when the connection is created or
//! updated, keeps it until it expires and fetches it again then, or after a
//! 401/407 from the endpoint). Secrets are stored with the connection and
//! never returned: the records' `Debug` output hides them, and the server
//! leaves them out of every answer.
//!
//! The service requires https endpoints; ferrule also accepts `http://` to a
//! loopback address (127.0.0.0/8, `[::1]`, `localhost`) for local testing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock, Weak};

use serde::{Deserialize, Serialize};

use ferrule_dispatch::api_destination::{
    ApiDestination, Auth, Connection, ConnectionParams, OAuthClient, OAuthConfig, Param,
    TargetHttpParams,
};
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, Target};

use crate::error::BusErrorKind;
use crate::{Bus, BusError, Inner, limit_exceeded};

const CONNECTION_KEY: &str = "connection\u{1f}";
const API_DESTINATION_KEY: &str = "api-destination\u{1f}";

/// `ConnectionState` values ferrule reports.
pub mod state {
    /// Authorized: invocations are sent.
    pub const AUTHORIZED: &str = "AUTHORIZED";
    /// An OAuth token is being fetched.
    pub const AUTHORIZING: &str = "AUTHORIZING";
    /// Deauthorized (by DeauthorizeConnection, or a failed token fetch).
    pub const DEAUTHORIZED: &str = "DEAUTHORIZED";
    /// Answered by DeleteConnection.
    pub const DELETING: &str = "DELETING";
}

/// The values of the model's `ConnectionState`.
pub const CONNECTION_STATES: &[&str] = &[
    "CREATING",
    "UPDATING",
    "DELETING",
    "AUTHORIZED",
    "DEAUTHORIZED",
    "AUTHORIZING",
    "DEAUTHORIZING",
    "ACTIVE",
    "FAILED_CONNECTIVITY",
];

/// A header, query-string or body parameter of a connection.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionParam {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
    /// `IsValueSecret`: the value is never returned.
    #[serde(default)]
    pub is_value_secret: bool,
}

impl std::fmt::Debug for ConnectionParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.is_value_secret {
            "***"
        } else {
            &self.value
        };
        write!(f, "{}={value}", self.key)
    }
}

/// `ConnectionHttpParameters`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHttpParameters {
    /// `HeaderParameters`.
    #[serde(default)]
    pub header_parameters: Vec<ConnectionParam>,
    /// `QueryStringParameters`.
    #[serde(default)]
    pub query_string_parameters: Vec<ConnectionParam>,
    /// `BodyParameters`.
    #[serde(default)]
    pub body_parameters: Vec<ConnectionParam>,
}

/// `ApiKeyAuthParameters`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyAuth {
    /// `ApiKeyName`: the header.
    pub api_key_name: Option<String>,
    /// `ApiKeyValue` (secret).
    pub api_key_value: Option<String>,
}

/// `BasicAuthParameters`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicAuth {
    /// `Username`.
    pub username: Option<String>,
    /// `Password` (secret).
    pub password: Option<String>,
}

/// `OAuthParameters`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAuth {
    /// `ClientParameters.ClientID`.
    pub client_id: Option<String>,
    /// `ClientParameters.ClientSecret` (secret).
    pub client_secret: Option<String>,
    /// `AuthorizationEndpoint`.
    pub authorization_endpoint: Option<String>,
    /// `HttpMethod`: GET, POST or PUT.
    pub http_method: Option<String>,
    /// `OAuthHttpParameters`.
    pub oauth_http_parameters: Option<ConnectionHttpParameters>,
}

macro_rules! hide_secrets {
    ($ty:ident { $($shown:ident),* } hides $($hidden:ident),*) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &self.$hidden.as_ref().map(|_| "***")))*
                    .finish()
            }
        }
    };
}
hide_secrets!(ApiKeyAuth { api_key_name } hides api_key_value);
hide_secrets!(BasicAuth { username } hides password);
hide_secrets!(OAuthAuth { client_id, authorization_endpoint, http_method, oauth_http_parameters } hides client_secret);

/// `AuthParameters` of CreateConnection and UpdateConnection (every member
/// optional: UpdateConnection changes only what it is given).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthParameters {
    /// `ApiKeyAuthParameters`.
    pub api_key: Option<ApiKeyAuth>,
    /// `BasicAuthParameters`.
    pub basic: Option<BasicAuth>,
    /// `OAuthParameters`.
    pub oauth: Option<OAuthAuth>,
    /// `InvocationHttpParameters`.
    pub invocation_http_parameters: Option<ConnectionHttpParameters>,
}

/// A stored connection (with its secrets: never return them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// The name.
    pub name: String,
    /// The id in the ARN.
    pub uuid: String,
    /// `Description`.
    pub description: Option<String>,
    /// `AuthorizationType`: API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS.
    pub authorization_type: String,
    /// The authorization (complete for its type).
    pub auth: AuthParameters,
    /// `ConnectionState`.
    pub state: String,
    /// `StateReason`.
    pub state_reason: Option<String>,
    /// `KmsKeyIdentifier`, as given (reported; the store does not encrypt with it).
    pub kms_key_identifier: Option<String>,
    /// Creation time (ms).
    pub created_ms: u64,
    /// Last change (ms).
    pub modified_ms: u64,
    /// Last authorization (ms).
    pub last_authorized_ms: Option<u64>,
}

/// CreateConnection's and UpdateConnection's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionInput {
    /// `Name`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `AuthorizationType` (required by CreateConnection).
    pub authorization_type: Option<String>,
    /// `AuthParameters` (required by CreateConnection).
    pub auth: Option<AuthParameters>,
    /// `KmsKeyIdentifier`.
    pub kms_key_identifier: Option<String>,
}

/// A stored API destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDestinationRecord {
    /// The name.
    pub name: String,
    /// The id in the ARN.
    pub uuid: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ConnectionArn`.
    pub connection_arn: String,
    /// `InvocationEndpoint` (with `*` wildcards).
    pub invocation_endpoint: String,
    /// `HttpMethod`.
    pub http_method: String,
    /// `InvocationRateLimitPerSecond`.
    pub invocation_rate_limit_per_second: u32,
    /// Creation time (ms).
    pub created_ms: u64,
    /// Last change (ms).
    pub modified_ms: u64,
}

/// CreateApiDestination's and UpdateApiDestination's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiDestinationInput {
    /// `Name`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ConnectionArn` (required by CreateApiDestination).
    pub connection_arn: Option<String>,
    /// `InvocationEndpoint` (required by CreateApiDestination).
    pub invocation_endpoint: Option<String>,
    /// `HttpMethod` (required by CreateApiDestination).
    pub http_method: Option<String>,
    /// `InvocationRateLimitPerSecond` (default 300).
    pub invocation_rate_limit_per_second: Option<u32>,
}

/// The connections, API destinations and the live state of their targets.
#[derive(Default)]
pub(crate) struct Apis {
    records: RwLock<Records>,
    /// OAuth clients (with their cached tokens) by connection name.
    oauth: Mutex<HashMap<String, Arc<OAuthClient>>>,
    /// Targets (with their rate limiters) by API destination ARN.
    targets: Mutex<HashMap<String, Arc<ApiDestination>>>,
}

#[derive(Default)]
struct Records {
    connections: BTreeMap<String, ConnectionRecord>,
    destinations: BTreeMap<String, ApiDestinationRecord>,
}

/// The name in an API destination ARN
/// (`arn:aws:events:REGION:ACCOUNT:api-destination/NAME/ID`).
pub fn api_destination_name(arn: &str) -> Option<&str> {
    resource_name(arn, "api-destination/")
}

/// The name in a connection ARN (`arn:aws:events:REGION:ACCOUNT:connection/NAME/ID`).
pub fn connection_name(arn: &str) -> Option<&str> {
    resource_name(arn, "connection/")
}

fn resource_name<'a>(arn: &'a str, kind: &str) -> Option<&'a str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "events", _, _, resource] = parts[..] else {
        return None;
    };
    if !partition.starts_with("aws") {
        return None;
    }
    let (name, id) = resource.strip_prefix(kind)?.split_once('/')?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (name_ok && id_ok).then_some(name)
}

fn validation(message: impl Into<String>) -> BusError {
    BusError::validation(message)
}

fn not_found(message: String) -> BusError {
    BusError::new(BusErrorKind::ResourceNotFound, message)
}

/// Whether `url` may be invoked: https anywhere, or http to a loopback host.
fn check_endpoint(url: &str, member: &str) -> Result<(), BusError> {
    let refuse = || {
        validation(format!(
            "{member} {url} is not valid: use an https:// URL (ferrule also accepts \
             http:// to a loopback address)."
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(refuse)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(refuse());
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refuse()),
    }
}

fn check_method(method: &str, allowed: &[&str], at: &str) -> Result<(), BusError> {
    if allowed.contains(&method) {
        return Ok(());
    }
    Err(BusError::constraint(
        method,
        at,
        &format!(
            "Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    ))
}

/// The members of `auth` that `authorization_type` needs, complete, and
/// no others.
fn check_auth(authorization_type: &str, auth: &AuthParameters) -> Result<(), BusError> {
    let given = [
        ("API_KEY", auth.api_key.is_some(), "ApiKeyAuthParameters"),
        ("BASIC", auth.basic.is_some(), "BasicAuthParameters"),
        (
            "OAUTH_CLIENT_CREDENTIALS",
            auth.oauth.is_some(),
            "OAuthParameters",
        ),
    ];
    // The missing member first, then one of another type.
    for (kind, present, member) in given {
        if kind == authorization_type && !present {
            return Err(validation(format!(
                "{member} must be specified for AuthorizationType {authorization_type}."
            )));
        }
    }
    for (kind, present, member) in given {
        if kind != authorization_type && present {
            return Err(validation(format!(
                "{member} cannot be specified for AuthorizationType {authorization_type}."
            )));
        }
    }
    let missing = |member: &str| {
        validation(format!(
            "{member} must be specified for AuthorizationType {authorization_type}."
        ))
    };
    match authorization_type {
        "API_KEY" => {
            let k = auth
                .api_key
                .as_ref()
                .ok_or_else(|| missing("ApiKeyAuthParameters"))?;
            k.api_key_name
                .as_ref()
                .ok_or_else(|| missing("ApiKeyAuthParameters.ApiKeyName"))?;
            k.api_key_value
                .as_ref()
                .ok_or_else(|| missing("ApiKeyAuthParameters.ApiKeyValue"))?;
        }
        "BASIC" => {
            let b = auth
                .basic
                .as_ref()
                .ok_or_else(|| missing("BasicAuthParameters"))?;
            b.username
                .as_ref()
                .ok_or_else(|| missing("BasicAuthParameters.Username"))?;
            b.password
                .as_ref()
                .ok_or_else(|| missing("BasicAuthParameters.Password"))?;
        }
        "OAUTH_CLIENT_CREDENTIALS" => {
            let o = auth
                .oauth
                .as_ref()
                .ok_or_else(|| missing("OAuthParameters"))?;
            o.client_id
                .as_ref()
                .ok_or_else(|| missing("OAuthParameters.ClientParameters.ClientID"))?;
            o.client_secret
                .as_ref()
                .ok_or_else(|| missing("OAuthParameters.ClientParameters.ClientSecret"))?;
            let endpoint = o
                .authorization_endpoint
                .as_ref()
                .ok_or_else(|| missing("OAuthParameters.AuthorizationEndpoint"))?;
            check_endpoint(endpoint, "AuthorizationEndpoint")?;
            let method = o
                .http_method
                .as_ref()
                .ok_or_else(|| missing("OAuthParameters.HttpMethod"))?;
            check_method(
                method,
                &["GET", "POST", "PUT"],
                "authParameters.oAuthParameters.httpMethod",
            )?;
        }
        other => {
            return Err(BusError::constraint(
                other,
                "authorizationType",
                "Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]",
            ));
        }
    }
    Ok(())
}

/// `update` laid over `old`: members given replace those stored.
fn merge_auth(old: &AuthParameters, update: &AuthParameters) -> AuthParameters {
    fn pick<T: Clone>(new: &Option<T>, old: Option<&Option<T>>) -> Option<T> {
        new.clone().or_else(|| old.cloned().flatten())
    }
    let api_key = update.api_key.as_ref().map(|n| {
        let o = old.api_key.as_ref();
        ApiKeyAuth {
            api_key_name: pick(&n.api_key_name, o.map(|o| &o.api_key_name)),
            api_key_value: pick(&n.api_key_value, o.map(|o| &o.api_key_value)),
        }
    });
    let basic = update.basic.as_ref().map(|n| {
        let o = old.basic.as_ref();
        BasicAuth {
            username: pick(&n.username, o.map(|o| &o.username)),
            password: pick(&n.password, o.map(|o| &o.password)),
        }
    });
    let oauth = update.oauth.as_ref().map(|n| {
        let o = old.oauth.as_ref();
        OAuthAuth {
            client_id: pick(&n.client_id, o.map(|o| &o.client_id)),
            client_secret: pick(&n.client_secret, o.map(|o| &o.client_secret)),
            authorization_endpoint: pick(
                &n.authorization_endpoint,
                o.map(|o| &o.authorization_endpoint),
            ),
            http_method: pick(&n.http_method, o.map(|o| &o.http_method)),
            oauth_http_parameters: pick(
                &n.oauth_http_parameters,
                o.map(|o| &o.oauth_http_parameters),
            ),
        }
    });
    AuthParameters {
        api_key: api_key.or_else(|| old.api_key.clone()),
        basic: basic.or_else(|| old.basic.clone()),
        oauth: oauth.or_else(|| old.oauth.clone()),
        invocation_http_parameters: update
            .invocation_http_parameters
            .clone()
            .or_else(|| old.invocation_http_parameters.clone()),
    }
}

/// Keeps only the members of `authorization_type` (after a change of type).
fn only_type(mut auth: AuthParameters, authorization_type: &str) -> AuthParameters {
    if authorization_type != "API_KEY" {
        auth.api_key = None;
    }
    if authorization_type != "BASIC" {
        auth.basic = None;
    }
    if authorization_type != "OAUTH_CLIENT_CREDENTIALS" {
        auth.oauth = None;
    }
    auth
}

fn params(list: &[ConnectionParam]) -> Vec<Param> {
    list.iter()
        .map(|p| Param {
            key: p.key.clone(),
            value: p.value.clone(),
            secret: p.is_value_secret,
        })
        .collect()
}

fn connection_params(p: Option<&ConnectionHttpParameters>) -> ConnectionParams {
    let Some(p) = p else {
        return ConnectionParams::default();
    };
    ConnectionParams {
        headers: params(&p.header_parameters),
        query: params(&p.query_string_parameters),
        body: params(&p.body_parameters),
    }
}

fn oauth_config(o: &OAuthAuth) -> OAuthConfig {
    OAuthConfig {
        endpoint: o.authorization_endpoint.clone().unwrap_or_default(),
        method: o.http_method.clone().unwrap_or_else(|| "POST".into()),
        client_id: o.client_id.clone().unwrap_or_default(),
        client_secret: o.client_secret.clone().unwrap_or_default(),
        params: connection_params(o.oauth_http_parameters.as_ref()),
    }
}

impl Apis {
    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Records>, BusError> {
        self.records
            .read()
            .map_err(|_| BusError::internal("connections lock poisoned"))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Records>, BusError> {
        self.records
            .write()
            .map_err(|_| BusError::internal("connections lock poisoned"))
    }

    /// Forgets the live targets (rebuilt from the records on next use) and,
    /// for `connection`, its OAuth client and token.
    fn changed(&self, connection: Option<&str>) {
        crate::lock(&self.targets).clear();
        if let Some(name) = connection {
            crate::lock(&self.oauth).remove(name);
        }
    }

    /// The OAuth client of connection `record` (created on first use).
    fn oauth_client(&self, record: &ConnectionRecord) -> Option<Arc<OAuthClient>> {
        let o = record.auth.oauth.as_ref()?;
        let mut clients = crate::lock(&self.oauth);
        Some(Arc::clone(
            clients
                .entry(record.name.clone())
                .or_insert_with(|| Arc::new(OAuthClient::new(oauth_config(o)))),
        ))
    }

    /// Token requests made for connection `name` since it last changed.
    fn token_fetches(&self, name: &str) -> u64 {
        crate::lock(&self.oauth)
            .get(name)
            .map_or(0, |c| c.fetches())
    }
}

impl Inner {
    pub(crate) fn connection_arn(&self, record: &ConnectionRecord) -> String {
        format!(
            "arn:aws:events:{}:{}:connection/{}/{}",
            self.region, self.account, record.name, record.uuid
        )
    }

    pub(crate) fn api_destination_arn(&self, record: &ApiDestinationRecord) -> String {
        format!(
            "arn:aws:events:{}:{}:api-destination/{}/{}",
            self.region, self.account, record.name, record.uuid
        )
    }

    /// Loads the stored connections and API destinations.
    pub(crate) fn load_apis(&self) -> Result<(), BusError> {
        let mut records = self.apis.write()?;
        for (_, text) in self.configs(CONNECTION_KEY)? {
            let r: ConnectionRecord = serde_json::from_str(&text)?;
            records.connections.insert(r.name.clone(), r);
        }
        for (_, text) in self.configs(API_DESTINATION_KEY)? {
            let r: ApiDestinationRecord = serde_json::from_str(&text)?;
            records.destinations.insert(r.name.clone(), r);
        }
        Ok(())
    }

    /// The target delivering to API destination `arn`; `None` if it, or its
    /// connection, does not exist (any more).
    pub(crate) fn resolve_api_destination(
        &self,
        me: &Weak<Inner>,
        arn: &str,
    ) -> Option<Arc<dyn Target>> {
        let name = api_destination_name(arn)?;
        if let Some(d) = crate::lock(&self.apis.targets).get(arn) {
            return Some(Arc::new(ApiTarget {
                destination: Arc::clone(d),
                inner: me.clone(),
            }));
        }
        let records = self.apis.read().ok()?;
        let d = records
            .destinations
            .get(name)
            .filter(|d| self.api_destination_arn(d) == arn)?;
        let c = records
            .connections
            .get(connection_name(&d.connection_arn)?)
            .filter(|c| self.connection_arn(c) == d.connection_arn)?;
        let destination = Arc::new(ApiDestination::new(
            arn,
            &d.invocation_endpoint,
            &d.http_method,
            d.invocation_rate_limit_per_second,
            self.live_connection(c, &d.connection_arn)?,
        ));
        // Cached under the records' lock: a change waits for it, then
        // clears the cache, so no stale destination stays.
        crate::lock(&self.apis.targets).insert(arn.to_string(), Arc::clone(&destination));
        drop(records);
        Some(Arc::new(ApiTarget {
            destination,
            inner: me.clone(),
        }))
    }

    /// Connection `c` (ARN `arn`) as requests use it; `None` for an OAuth
    /// connection without OAuth parameters (which `check_auth` prevents).
    fn live_connection(&self, c: &ConnectionRecord, arn: &str) -> Option<Connection> {
        let auth = if c.state == state::DEAUTHORIZED {
            Auth::Deauthorized
        } else {
            match (c.authorization_type.as_str(), &c.auth) {
                (
                    "API_KEY",
                    AuthParameters {
                        api_key: Some(k), ..
                    },
                ) => Auth::ApiKey {
                    name: k.api_key_name.clone().unwrap_or_default(),
                    value: k.api_key_value.clone().unwrap_or_default(),
                },
                ("BASIC", AuthParameters { basic: Some(b), .. }) => Auth::Basic {
                    username: b.username.clone().unwrap_or_default(),
                    password: b.password.clone().unwrap_or_default(),
                },
                ("OAUTH_CLIENT_CREDENTIALS", _) => Auth::OAuth(self.apis.oauth_client(c)?),
                _ => Auth::Deauthorized,
            }
        };
        Some(Connection {
            arn: arn.to_string(),
            auth,
            params: connection_params(c.auth.invocation_http_parameters.as_ref()),
        })
    }

    /// The `HttpParameters` of target `target_id` of the rule `rule_arn`.
    pub(crate) fn target_http_params(
        &self,
        rule_arn: &str,
        target_id: &str,
    ) -> Option<TargetHttpParams> {
        let resource = rule_arn.splitn(6, ':').nth(5)?.strip_prefix("rule/")?;
        // Custom bus names hold no '/'.
        let (bus, rule) = resource.split_once('/').unwrap_or(("default", resource));
        let state = self.read_state().ok()?;
        let target = state
            .buses
            .get(bus)?
            .rules
            .get(rule)?
            .targets
            .iter()
            .find(|t| t.id == target_id)?;
        let h = target.http_parameters.as_ref()?;
        Some(TargetHttpParams {
            path_parameter_values: h.path_parameter_values.clone(),
            headers: h.header_parameters.clone(),
            query: h.query_string_parameters.clone(),
        })
    }

    /// Fetches the OAuth token of connection `name` on a thread of its own,
    /// then records the connection AUTHORIZED (or DEAUTHORIZED, with the
    /// reason) unless it changed meanwhile.
    fn authorize_in_background(self: &Arc<Self>, record: &ConnectionRecord) {
        let Some(client) = self.apis.oauth_client(record) else {
            return;
        };
        let weak = Arc::downgrade(self);
        let (name, modified) = (record.name.clone(), record.modified_ms);
        let spawned = std::thread::Builder::new()
            .name("ferrule-oauth".into())
            .spawn(move || {
                let result = client.token();
                let Some(inner) = weak.upgrade() else { return };
                let Ok(mut records) = inner.apis.write() else {
                    return;
                };
                let Some(r) = records.connections.get_mut(&name) else {
                    return;
                };
                if r.modified_ms != modified || r.state != state::AUTHORIZING {
                    return;
                }
                let mut updated = r.clone();
                match result {
                    Ok(_) => {
                        updated.state = state::AUTHORIZED.into();
                        updated.state_reason = None;
                        updated.last_authorized_ms = Some(inner.clock.now_ms());
                    }
                    Err(e) => {
                        tracing::warn!(connection = %name, code = %e.code, error = %e.message,
                            "the OAuth token could not be fetched");
                        updated.state = state::DEAUTHORIZED.into();
                        updated.state_reason = Some(format!("Failed to authorize: {}", e.message));
                    }
                }
                if let Err(e) = inner.save(&format!("{CONNECTION_KEY}{name}"), Some(&updated)) {
                    tracing::error!(connection = %name, error = %e, "could not record the connection's state");
                    return;
                }
                *r = updated;
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the OAuth authorization thread");
        }
    }
}

/// An API destination as a rule target: the destination, with the rule
/// target's `HttpParameters` read at each delivery.
struct ApiTarget {
    destination: Arc<ApiDestination>,
    inner: Weak<Inner>,
}

impl Target for ApiTarget {
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let http = self
            .inner
            .upgrade()
            .and_then(|i| i.target_http_params(context.rule_arn, context.target_id))
            .unwrap_or_default();
        self.destination.invoke(payload, &http, context)
    }
}

/// An HTTP URL target with the rule target's `HttpParameters`.
pub(crate) struct HttpWithParams {
    pub(crate) http: Arc<ferrule_dispatch::targets::HttpTarget>,
    pub(crate) inner: Weak<Inner>,
}

impl Target for HttpWithParams {
    fn deliver(&self, payload: &str, context: &DeliveryContext<'_>) -> Result<(), DeliveryError> {
        let http = self
            .inner
            .upgrade()
            .and_then(|i| i.target_http_params(context.rule_arn, context.target_id))
            .unwrap_or_default();
        self.http.deliver_with(payload, context, &http)
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Bus {
    /// The ARN of a connection.
    pub fn connection_arn(&self, record: &ConnectionRecord) -> String {
        self.inner.connection_arn(record)
    }

    /// Where the service would keep the connection's secrets (`SecretArn`).
    pub fn connection_secret_arn(&self, record: &ConnectionRecord) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:events!connection/{}/{}",
            self.inner.region, self.inner.account, record.name, record.uuid
        )
    }

    /// The ARN of an API destination.
    pub fn api_destination_arn(&self, record: &ApiDestinationRecord) -> String {
        self.inner.api_destination_arn(record)
    }

    /// CreateConnection. OAuth connections start AUTHORIZING and become
    /// AUTHORIZED once their token is fetched (on a thread of their own).
    pub fn create_connection(&self, input: ConnectionInput) -> Result<ConnectionRecord, BusError> {
        let authorization_type = input
            .authorization_type
            .ok_or_else(|| BusError::validation("AuthorizationType must be specified."))?;
        let auth = input
            .auth
            .ok_or_else(|| BusError::validation("AuthParameters must be specified."))?;
        check_auth(&authorization_type, &auth)?;
        let mut records = self.inner.apis.write()?;
        if records.connections.contains_key(&input.name) {
            return Err(BusError::new(
                BusErrorKind::ResourceAlreadyExists,
                format!("Connection {} already exists.", input.name),
            ));
        }
        if records.connections.len() >= self.inner.limits.connections {
            return Err(limit_exceeded());
        }
        let now = self.inner.clock.now_ms();
        let oauth = authorization_type == "OAUTH_CLIENT_CREDENTIALS";
        let record = ConnectionRecord {
            name: input.name.clone(),
            uuid: uuid(),
            description: input.description,
            authorization_type,
            auth,
            state: if oauth {
                state::AUTHORIZING
            } else {
                state::AUTHORIZED
            }
            .into(),
            state_reason: None,
            kms_key_identifier: input.kms_key_identifier,
            created_ms: now,
            modified_ms: now,
            last_authorized_ms: (!oauth).then_some(now),
        };
        self.inner
            .save(&format!("{CONNECTION_KEY}{}", record.name), Some(&record))?;
        records
            .connections
            .insert(record.name.clone(), record.clone());
        drop(records);
        self.inner.apis.changed(Some(&record.name));
        if oauth {
            self.inner.authorize_in_background(&record);
        }
        Ok(record)
    }

    /// DescribeConnection (the record holds the secrets: answer without them).
    pub fn describe_connection(&self, name: &str) -> Result<ConnectionRecord, BusError> {
        self.inner
            .apis
            .read()?
            .connections
            .get(name)
            .cloned()
            .ok_or_else(|| no_connection("describe", name))
    }

    /// UpdateConnection: the members given replace the stored ones; new
    /// secrets authorize a deauthorized connection again.
    pub fn update_connection(&self, input: ConnectionInput) -> Result<ConnectionRecord, BusError> {
        let mut records = self.inner.apis.write()?;
        let old = records
            .connections
            .get(&input.name)
            .ok_or_else(|| no_connection("update", &input.name))?;
        let authorization_type = input
            .authorization_type
            .clone()
            .unwrap_or_else(|| old.authorization_type.clone());
        let mut auth = match &input.auth {
            Some(update) => merge_auth(&old.auth, update),
            None => old.auth.clone(),
        };
        if authorization_type != old.authorization_type {
            auth = only_type(auth, &authorization_type);
        }
        check_auth(&authorization_type, &auth)?;
        let now = self.inner.clock.now_ms().max(old.modified_ms + 1);
        let oauth = authorization_type == "OAUTH_CLIENT_CREDENTIALS";
        let mut record = old.clone();
        record.description = input.description.or(record.description);
        record.kms_key_identifier = input.kms_key_identifier.or(record.kms_key_identifier);
        record.authorization_type = authorization_type;
        record.auth = auth;
        record.modified_ms = now;
        record.state_reason = None;
        if oauth {
            record.state = state::AUTHORIZING.into();
        } else {
            record.state = state::AUTHORIZED.into();
            record.last_authorized_ms = Some(now);
        }
        self.inner
            .save(&format!("{CONNECTION_KEY}{}", record.name), Some(&record))?;
        records
            .connections
            .insert(record.name.clone(), record.clone());
        drop(records);
        self.inner.apis.changed(Some(&record.name));
        if oauth {
            self.inner.authorize_in_background(&record);
        }
        Ok(record)
    }

    /// DeleteConnection; answers the record in state DELETING. API
    /// destinations that use it stay, and their deliveries fail
    /// (`NO_RESOURCE`, to the dead-letter queue) until they are given
    /// another connection.
    pub fn delete_connection(&self, name: &str) -> Result<ConnectionRecord, BusError> {
        let mut records = self.inner.apis.write()?;
        let mut record = records
            .connections
            .get(name)
            .cloned()
            .ok_or_else(|| no_connection("delete", name))?;
        self.inner
            .save::<ConnectionRecord>(&format!("{CONNECTION_KEY}{name}"), None)?;
        records.connections.remove(name);
        drop(records);
        self.inner.apis.changed(Some(name));
        record.state = state::DELETING.into();
        Ok(record)
    }

    /// DeauthorizeConnection: the secrets are removed and invocations
    /// through the connection fail (`NO_RESOURCE`) until UpdateConnection
    /// gives new ones.
    pub fn deauthorize_connection(&self, name: &str) -> Result<ConnectionRecord, BusError> {
        let mut records = self.inner.apis.write()?;
        let old = records
            .connections
            .get(name)
            .ok_or_else(|| no_connection("deauthorize", name))?;
        let mut record = old.clone();
        if let Some(k) = &mut record.auth.api_key {
            k.api_key_value = None;
        }
        if let Some(b) = &mut record.auth.basic {
            b.password = None;
        }
        if let Some(o) = &mut record.auth.oauth {
            o.client_secret = None;
        }
        record.state = state::DEAUTHORIZED.into();
        record.state_reason = None;
        record.modified_ms = self.inner.clock.now_ms().max(old.modified_ms + 1);
        self.inner
            .save(&format!("{CONNECTION_KEY}{name}"), Some(&record))?;
        records.connections.insert(name.to_string(), record.clone());
        drop(records);
        self.inner.apis.changed(Some(name));
        Ok(record)
    }

    /// ListConnections: by name, filtered by name prefix and state.
    pub fn list_connections(
        &self,
        name_prefix: Option<&str>,
        connection_state: Option<&str>,
    ) -> Result<Vec<ConnectionRecord>, BusError> {
        Ok(self
            .inner
            .apis
            .read()?
            .connections
            .values()
            .filter(|c| name_prefix.is_none_or(|p| c.name.starts_with(p)))
            .filter(|c| connection_state.is_none_or(|s| c.state == s))
            .cloned()
            .collect())
    }

    /// OAuth token requests made for connection `name` since it was last
    /// created, updated or deauthorized (0 for other kinds).
    pub fn connection_token_fetches(&self, name: &str) -> u64 {
        self.inner.apis.token_fetches(name)
    }

    /// Connection `arn` as a request through it uses it (its authorization,
    /// OAuth token cache included, and invocation parameters): for callers
    /// other than API destinations, such as Step Functions' `http:invoke`.
    pub fn connection_for_requests(
        &self,
        arn: &str,
    ) -> Result<ferrule_dispatch::api_destination::Connection, BusError> {
        let missing = || not_found(format!("Connection '{arn}' does not exist."));
        let records = self.inner.apis.read()?;
        let c = connection_name(arn)
            .and_then(|n| records.connections.get(n))
            .filter(|c| self.inner.connection_arn(c) == arn)
            .ok_or_else(missing)?;
        self.inner.live_connection(c, arn).ok_or_else(missing)
    }

    /// CreateApiDestination.
    pub fn create_api_destination(
        &self,
        input: ApiDestinationInput,
    ) -> Result<ApiDestinationRecord, BusError> {
        let connection_arn = input
            .connection_arn
            .ok_or_else(|| BusError::validation("ConnectionArn must be specified."))?;
        let endpoint = input
            .invocation_endpoint
            .ok_or_else(|| BusError::validation("InvocationEndpoint must be specified."))?;
        let method = input
            .http_method
            .ok_or_else(|| BusError::validation("HttpMethod must be specified."))?;
        check_endpoint(&endpoint, "InvocationEndpoint")?;
        check_method(&method, API_METHODS, "httpMethod")?;
        let rate = self.check_rate(input.invocation_rate_limit_per_second)?;
        let mut records = self.inner.apis.write()?;
        if records.destinations.contains_key(&input.name) {
            return Err(BusError::new(
                BusErrorKind::ResourceAlreadyExists,
                format!("An api-destination {} already exists.", input.name),
            ));
        }
        self.check_connection(&records, &connection_arn, "create")?;
        if records.destinations.len() >= self.inner.limits.api_destinations {
            return Err(limit_exceeded());
        }
        let now = self.inner.clock.now_ms();
        let record = ApiDestinationRecord {
            name: input.name.clone(),
            uuid: uuid(),
            description: input.description,
            connection_arn,
            invocation_endpoint: endpoint,
            http_method: method,
            invocation_rate_limit_per_second: rate.unwrap_or(300),
            created_ms: now,
            modified_ms: now,
        };
        self.inner.save(
            &format!("{API_DESTINATION_KEY}{}", record.name),
            Some(&record),
        )?;
        records
            .destinations
            .insert(record.name.clone(), record.clone());
        drop(records);
        self.inner.apis.changed(None);
        Ok(record)
    }

    fn check_rate(&self, rate: Option<u32>) -> Result<Option<u32>, BusError> {
        let max = self.inner.limits.invocation_rate_limit;
        match rate {
            Some(0) => Err(BusError::constraint(
                "0",
                "invocationRateLimitPerSecond",
                "Member must have value greater than or equal to 1",
            )),
            Some(n) if n > max => Err(BusError::new(
                BusErrorKind::LimitExceeded,
                format!(
                    "InvocationRateLimitPerSecond {n} exceeds the quota of {max} invocations per second."
                ),
            )),
            other => Ok(other),
        }
    }

    fn check_connection(&self, records: &Records, arn: &str, verb: &str) -> Result<(), BusError> {
        let exists = connection_name(arn)
            .and_then(|n| records.connections.get(n))
            .is_some_and(|c| self.inner.connection_arn(c) == arn);
        if exists {
            return Ok(());
        }
        Err(not_found(format!(
            "Failed to {verb} the api-destination(s). Connection '{arn}' does not exist."
        )))
    }

    /// DescribeApiDestination.
    pub fn describe_api_destination(&self, name: &str) -> Result<ApiDestinationRecord, BusError> {
        self.inner
            .apis
            .read()?
            .destinations
            .get(name)
            .cloned()
            .ok_or_else(|| no_api_destination("describe", name))
    }

    /// UpdateApiDestination: the members given replace the stored ones.
    pub fn update_api_destination(
        &self,
        input: ApiDestinationInput,
    ) -> Result<ApiDestinationRecord, BusError> {
        if let Some(e) = &input.invocation_endpoint {
            check_endpoint(e, "InvocationEndpoint")?;
        }
        if let Some(m) = &input.http_method {
            check_method(m, API_METHODS, "httpMethod")?;
        }
        let rate = self.check_rate(input.invocation_rate_limit_per_second)?;
        let mut records = self.inner.apis.write()?;
        let old = records
            .destinations
            .get(&input.name)
            .ok_or_else(|| no_api_destination("update", &input.name))?;
        let mut record = old.clone();
        if let Some(arn) = input.connection_arn {
            self.check_connection(&records, &arn, "update")?;
            record.connection_arn = arn;
        }
        record.description = input.description.or(record.description);
        record.invocation_endpoint = input
            .invocation_endpoint
            .unwrap_or(record.invocation_endpoint);
        record.http_method = input.http_method.unwrap_or(record.http_method);
        record.invocation_rate_limit_per_second =
            rate.unwrap_or(record.invocation_rate_limit_per_second);
        record.modified_ms = self.inner.clock.now_ms().max(record.modified_ms + 1);
        self.inner.save(
            &format!("{API_DESTINATION_KEY}{}", record.name),
            Some(&record),
        )?;
        records
            .destinations
            .insert(record.name.clone(), record.clone());
        drop(records);
        self.inner.apis.changed(None);
        Ok(record)
    }

    /// DeleteApiDestination. Rules that target it stay; their deliveries
    /// fail (`NO_RESOURCE`, to the dead-letter queue).
    pub fn delete_api_destination(&self, name: &str) -> Result<(), BusError> {
        let mut records = self.inner.apis.write()?;
        if !records.destinations.contains_key(name) {
            return Err(no_api_destination("delete", name));
        }
        self.inner
            .save::<ApiDestinationRecord>(&format!("{API_DESTINATION_KEY}{name}"), None)?;
        records.destinations.remove(name);
        drop(records);
        self.inner.apis.changed(None);
        Ok(())
    }

    /// ListApiDestinations: by name, filtered by name prefix and connection.
    pub fn list_api_destinations(
        &self,
        name_prefix: Option<&str>,
        connection_arn: Option<&str>,
    ) -> Result<Vec<ApiDestinationRecord>, BusError> {
        Ok(self
            .inner
            .apis
            .read()?
            .destinations
            .values()
            .filter(|d| name_prefix.is_none_or(|p| d.name.starts_with(p)))
            .filter(|d| connection_arn.is_none_or(|c| d.connection_arn == c))
            .cloned()
            .collect())
    }
}

/// `ApiDestinationHttpMethod`.
pub const API_METHODS: &[&str] = &["POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"];

fn no_connection(verb: &str, name: &str) -> BusError {
    not_found(format!(
        "Failed to {verb} the connection(s). Connection '{name}' does not exist."
    ))
}

fn no_api_destination(verb: &str, name: &str) -> BusError {
    not_found(format!(
        "Failed to {verb} the api-destination(s). An api-destination '{name}' does not exist."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_names() {
        assert_eq!(
            api_destination_name(
                "arn:aws:events:us-east-1:000000000000:api-destination/hook/0b1c-22"
            ),
            Some("hook")
        );
        assert_eq!(
            connection_name("arn:aws:events:us-east-1:000000000000:connection/c.1/abc"),
            Some("c.1")
        );
        for bad in [
            "arn:aws:events:us-east-1:000000000000:api-destination/hook",
            "arn:aws:events:us-east-1:000000000000:api-destination//x",
            "arn:aws:sqs:us-east-1:000000000000:api-destination/a/b",
            "arn:aws:events:us-east-1:000000000000:connection/a/b",
            "arn:aws:events:us-east-1:000000000000:api-destination/a b/c",
        ] {
            assert_eq!(api_destination_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn endpoints() {
        for ok in [
            "https://example.com/x/*",
            "http://127.0.0.1:8080/hook",
            "http://localhost/a",
            "http://[::1]:9/a",
        ] {
            assert!(check_endpoint(ok, "InvocationEndpoint").is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "ftp://127.0.0.1/",
            "example.com",
            "https://",
            "http://10.0.0.1/",
        ] {
            let e = check_endpoint(bad, "InvocationEndpoint").unwrap_err();
            assert_eq!(e.kind(), BusErrorKind::Validation);
            assert!(e.message().contains("https://"), "{bad}: {e}");
        }
    }

    #[test]
    fn auth_must_match_its_type() {
        let key = AuthParameters {
            api_key: Some(ApiKeyAuth {
                api_key_name: Some("x-api-key".into()),
                api_key_value: Some("s3cr3t".into()),
            }),
            ..Default::default()
        };
        assert!(check_auth("API_KEY", &key).is_ok());
        let e = check_auth("BASIC", &key).unwrap_err();
        assert_eq!(
            e.message(),
            "BasicAuthParameters must be specified for AuthorizationType BASIC."
        );
        let e = check_auth("NONE", &AuthParameters::default()).unwrap_err();
        assert!(e.message().contains("enum value set"), "{e}");
        // Merging a new secret keeps the stored name.
        let update = AuthParameters {
            api_key: Some(ApiKeyAuth {
                api_key_name: None,
                api_key_value: Some("n3w".into()),
            }),
            ..Default::default()
        };
        let merged = merge_auth(&key, &update);
        let k = merged.api_key.unwrap();
        assert_eq!(k.api_key_name.as_deref(), Some("x-api-key"));
        assert_eq!(k.api_key_value.as_deref(), Some("n3w"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let auth = AuthParameters {
            basic: Some(BasicAuth {
                username: Some("ann".into()),
                password: Some("hunter2".into()),
            }),
            oauth: Some(OAuthAuth {
                client_id: Some("id".into()),
                client_secret: Some("topsecret".into()),
                ..Default::default()
            }),
            invocation_http_parameters: Some(ConnectionHttpParameters {
                header_parameters: vec![ConnectionParam {
                    key: "x-k".into(),
                    value: "hidden-value".into(),
                    is_value_secret: true,
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let shown = format!("{auth:?}");
        assert!(shown.contains("ann") && shown.contains("id"), "{shown}");
        for secret in ["hunter2", "topsecret", "hidden-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
