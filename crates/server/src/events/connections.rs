//! Connections and API destinations: CreateConnection, DescribeConnection,
//! UpdateConnection, DeleteConnection, ListConnections,
//! DeauthorizeConnection, CreateApiDestination, DescribeApiDestination,
//! UpdateApiDestination, DeleteApiDestination, ListApiDestinations; and the
//! targets' `HttpParameters`. Request and response models follow botocore's
//! `events/2015-10-07` model; secrets are never in an answer, and a
//! validation message shows a secret as `***`.

use std::collections::BTreeMap;

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::wire::{Bool, Int, List, Map, Obj, Str, Text, Violations};
use super::{present, run, text};
use crate::states::seconds;
use crate::{ApiError, AppState, Call};
use ferrule_bus::{
    ApiDestinationInput, ApiDestinationRecord, ApiKeyAuth, AuthParameters, BasicAuth,
    ConnectionHttpParameters, ConnectionInput, ConnectionParam, ConnectionRecord, OAuthAuth,
};

/// `ConnectionName` and `ApiDestinationName`.
const NAME: Text = Text::pattern(1, 64, r"[\.\-_A-Za-z0-9]+");
/// `AuthHeaderParameters` (and its sensitive twin).
const AUTH_HEADER: Text = Text::pattern(
    1,
    512,
    r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$",
);
/// `HttpsEndpoint`.
const ENDPOINT: Text = Text::pattern(
    1,
    2048,
    r"^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$",
);
/// `ConnectionArn`.
const CONNECTION_ARN: Text = Text::pattern(
    1,
    1600,
    r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:connection\/[\.\-_A-Za-z0-9]+\/[\-A-Za-z0-9]+$",
);
/// `HeaderKey`.
const HEADER_KEY: Text = Text {
    min: None,
    max: Some(512),
    pattern: Some(r"^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$"),
};
/// `HeaderValue`.
const HEADER_VALUE: Text = Text {
    min: None,
    max: Some(512),
    pattern: Some(r"^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$"),
};
/// `QueryStringKey`.
const QUERY_KEY: Text = Text {
    min: None,
    max: Some(512),
    pattern: Some(r"[^\x00-\x1F\x7F]+"),
};
/// `QueryStringValue`.
const QUERY_VALUE: Text = Text {
    min: None,
    max: Some(512),
    pattern: Some(r"[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+"),
};
/// `KmsKeyIdentifier`.
const KMS_KEY: Text = Text {
    min: None,
    max: Some(2048),
    pattern: Some(r"^[a-zA-Z0-9_\-/:]*$"),
};
const AUTHORIZATION_TYPES: &[&str] = &["BASIC", "OAUTH_CLIENT_CREDENTIALS", "API_KEY"];
const OAUTH_METHODS: &[&str] = &["GET", "POST", "PUT"];

/// A secret checked against `rule`, shown as `***` in the message.
fn secret(v: &mut Violations, value: Option<&Str>, at: &str, rule: Text) {
    let mut found = Violations::default();
    found.text(value, at, rule);
    for constraint in found.constraints() {
        v.push(Some("***"), at, &constraint);
    }
}

fn required_secret(v: &mut Violations, value: Option<&Str>, at: &str, rule: Text) {
    v.required(value, at);
    secret(v, value, at, rule);
}

fn owned(s: &Option<Str>) -> Option<String> {
    s.as_ref().map(|s| s.0.clone())
}

// ---- requests ----

/// `ConnectionHeaderParameter`, `ConnectionQueryStringParameter`,
/// `ConnectionBodyParameter`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConnectionParameter {
    key: Option<Str>,
    value: Option<Str>,
    is_value_secret: Option<Bool>,
}

/// `ConnectionHttpParameters`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HttpParams {
    header_parameters: Option<List<Obj<ConnectionParameter>>>,
    query_string_parameters: Option<List<Obj<ConnectionParameter>>>,
    body_parameters: Option<List<Obj<ConnectionParameter>>>,
}

impl HttpParams {
    fn check(&self, v: &mut Violations, at: &str) {
        let lists = [
            (
                "headerParameters",
                &self.header_parameters,
                HEADER_KEY,
                HEADER_VALUE,
            ),
            (
                "queryStringParameters",
                &self.query_string_parameters,
                QUERY_KEY,
                QUERY_VALUE,
            ),
            (
                "bodyParameters",
                &self.body_parameters,
                Text::max(usize::MAX),
                Text::max(usize::MAX),
            ),
        ];
        for (member, list, key, value) in lists {
            let items = list.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
            let list_at = format!("{at}.{member}");
            v.count(
                list.as_ref().map(|_| items.len()),
                "[...]",
                &list_at,
                0,
                100,
            );
            for (i, Obj(p)) in items.iter().enumerate() {
                let item = format!("{list_at}.{}.member", i + 1);
                v.text(p.key.as_ref(), &format!("{item}.key"), key);
                secret(v, p.value.as_ref(), &format!("{item}.value"), value);
            }
        }
    }

    fn config(&self) -> ConnectionHttpParameters {
        let list = |l: &Option<List<Obj<ConnectionParameter>>>| {
            l.as_ref()
                .map(|l| l.0.as_slice())
                .unwrap_or(&[])
                .iter()
                .map(|Obj(p)| ConnectionParam {
                    key: owned(&p.key).unwrap_or_default(),
                    value: owned(&p.value).unwrap_or_default(),
                    is_value_secret: p.is_value_secret.is_some_and(|b| b.0),
                })
                .collect()
        };
        ConnectionHttpParameters {
            header_parameters: list(&self.header_parameters),
            query_string_parameters: list(&self.query_string_parameters),
            body_parameters: list(&self.body_parameters),
        }
    }
}

/// `*ApiKeyAuthRequestParameters`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ApiKeyParams {
    api_key_name: Option<Str>,
    api_key_value: Option<Str>,
}

/// `*BasicAuthRequestParameters`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BasicParams {
    username: Option<Str>,
    password: Option<Str>,
}

/// `*OAuthClientRequestParameters`.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct ClientParams {
    #[serde(rename = "ClientID")]
    client_id: Option<Str>,
    #[serde(rename = "ClientSecret")]
    client_secret: Option<Str>,
}

/// `*OAuthRequestParameters`.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct OAuthParams {
    #[serde(rename = "ClientParameters")]
    client_parameters: Option<Obj<ClientParams>>,
    #[serde(rename = "AuthorizationEndpoint")]
    authorization_endpoint: Option<Str>,
    #[serde(rename = "HttpMethod")]
    http_method: Option<Str>,
    #[serde(rename = "OAuthHttpParameters")]
    oauth_http_parameters: Option<Obj<HttpParams>>,
}

/// `*ConnectionAuthRequestParameters`.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct AuthParams {
    #[serde(rename = "BasicAuthParameters")]
    basic: Option<Obj<BasicParams>>,
    #[serde(rename = "OAuthParameters")]
    oauth: Option<Obj<OAuthParams>>,
    #[serde(rename = "ApiKeyAuthParameters")]
    api_key: Option<Obj<ApiKeyParams>>,
    #[serde(rename = "InvocationHttpParameters")]
    invocation: Option<Obj<HttpParams>>,
    /// Private APIs through VPC Lattice: refused (see `check`).
    #[serde(rename = "ConnectivityParameters")]
    connectivity: Option<serde_json::Value>,
}

impl AuthParams {
    /// `create`: CreateConnection's model, where the members of each kind
    /// are required.
    fn check(&self, v: &mut Violations, create: bool) {
        let at = |m: &str| format!("authParameters.{m}");
        let need = |v: &mut Violations, value: Option<&Str>, at: &str, rule: Text| {
            if create {
                v.required_text(value, at, rule);
            } else {
                v.text(value, at, rule);
            }
        };
        if let Some(Obj(k)) = &self.api_key {
            need(
                v,
                k.api_key_name.as_ref(),
                &at("apiKeyAuthParameters.apiKeyName"),
                AUTH_HEADER,
            );
            let value_at = at("apiKeyAuthParameters.apiKeyValue");
            if create {
                required_secret(v, k.api_key_value.as_ref(), &value_at, AUTH_HEADER);
            } else {
                secret(v, k.api_key_value.as_ref(), &value_at, AUTH_HEADER);
            }
        }
        if let Some(Obj(b)) = &self.basic {
            need(
                v,
                b.username.as_ref(),
                &at("basicAuthParameters.username"),
                AUTH_HEADER,
            );
            let pw_at = at("basicAuthParameters.password");
            if create {
                required_secret(v, b.password.as_ref(), &pw_at, AUTH_HEADER);
            } else {
                secret(v, b.password.as_ref(), &pw_at, AUTH_HEADER);
            }
        }
        if let Some(Obj(o)) = &self.oauth {
            let o_at = |m: &str| at(&format!("oAuthParameters.{m}"));
            if create {
                v.required(o.client_parameters.as_ref(), &o_at("clientParameters"));
            }
            if let Some(Obj(c)) = &o.client_parameters {
                need(
                    v,
                    c.client_id.as_ref(),
                    &o_at("clientParameters.clientID"),
                    AUTH_HEADER,
                );
                let s_at = o_at("clientParameters.clientSecret");
                if create {
                    required_secret(v, c.client_secret.as_ref(), &s_at, AUTH_HEADER);
                } else {
                    secret(v, c.client_secret.as_ref(), &s_at, AUTH_HEADER);
                }
            }
            need(
                v,
                o.authorization_endpoint.as_ref(),
                &o_at("authorizationEndpoint"),
                ENDPOINT,
            );
            if create {
                v.required(o.http_method.as_ref(), &o_at("httpMethod"));
            }
            v.one_of(o.http_method.as_ref(), &o_at("httpMethod"), OAUTH_METHODS);
            if let Some(Obj(h)) = &o.oauth_http_parameters {
                h.check(v, &o_at("oAuthHttpParameters"));
            }
        }
        if let Some(Obj(h)) = &self.invocation {
            h.check(v, &at("invocationHttpParameters"));
        }
    }

    fn config(&self) -> AuthParameters {
        AuthParameters {
            api_key: self.api_key.as_ref().map(|Obj(k)| ApiKeyAuth {
                api_key_name: owned(&k.api_key_name),
                api_key_value: owned(&k.api_key_value),
            }),
            basic: self.basic.as_ref().map(|Obj(b)| BasicAuth {
                username: owned(&b.username),
                password: owned(&b.password),
            }),
            oauth: self.oauth.as_ref().map(|Obj(o)| {
                let client = o.client_parameters.as_ref().map(|Obj(c)| c);
                OAuthAuth {
                    client_id: client.and_then(|c| owned(&c.client_id)),
                    client_secret: client.and_then(|c| owned(&c.client_secret)),
                    authorization_endpoint: owned(&o.authorization_endpoint),
                    http_method: owned(&o.http_method),
                    oauth_http_parameters: o
                        .oauth_http_parameters
                        .as_ref()
                        .map(|Obj(h)| h.config()),
                }
            }),
            invocation_http_parameters: self.invocation.as_ref().map(|Obj(h)| h.config()),
        }
    }
}

/// CreateConnection and UpdateConnection.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ConnectionRequest {
    name: Option<Str>,
    description: Option<Str>,
    authorization_type: Option<Str>,
    auth_parameters: Option<Obj<AuthParams>>,
    invocation_connectivity_parameters: Option<serde_json::Value>,
    kms_key_identifier: Option<Str>,
}

impl ConnectionRequest {
    fn check(&self, create: bool) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", NAME);
        v.text(self.description.as_ref(), "description", Text::max(512));
        if create {
            v.required(self.authorization_type.as_ref(), "authorizationType");
            v.required(self.auth_parameters.as_ref(), "authParameters");
        }
        v.one_of(
            self.authorization_type.as_ref(),
            "authorizationType",
            AUTHORIZATION_TYPES,
        );
        v.text(
            self.kms_key_identifier.as_ref(),
            "kmsKeyIdentifier",
            KMS_KEY,
        );
        if let Some(Obj(a)) = &self.auth_parameters {
            a.check(&mut v, create);
        }
        v.finish()?;
        let private = self.invocation_connectivity_parameters.is_some()
            || self
                .auth_parameters
                .as_ref()
                .is_some_and(|Obj(a)| a.connectivity.is_some());
        if private {
            // Private APIs are reached through VPC Lattice resource
            // configurations, which ferrule has none of.
            return Err(ApiError::new(
                400,
                "ValidationException",
                "ferrule does not connect to private APIs: ConnectivityParameters and \
                 InvocationConnectivityParameters are not supported.",
            ));
        }
        Ok(())
    }

    fn input(&self) -> ConnectionInput {
        ConnectionInput {
            name: present(&self.name).to_string(),
            description: owned(&self.description),
            authorization_type: owned(&self.authorization_type),
            auth: self.auth_parameters.as_ref().map(|Obj(a)| a.config()),
            kms_key_identifier: owned(&self.kms_key_identifier),
        }
    }
}

/// CreateConnection.
#[derive(Deserialize, Debug, Default)]
#[serde(transparent)]
pub(crate) struct CreateConnection(ConnectionRequest);

/// UpdateConnection.
#[derive(Deserialize, Debug, Default)]
#[serde(transparent)]
pub(crate) struct UpdateConnection(ConnectionRequest);

/// CreateApiDestination.
#[derive(Deserialize, Debug, Default)]
#[serde(transparent)]
pub(crate) struct CreateApiDestination(ApiDestinationRequest);

/// UpdateApiDestination.
#[derive(Deserialize, Debug, Default)]
#[serde(transparent)]
pub(crate) struct UpdateApiDestination(ApiDestinationRequest);

impl super::Request for CreateConnection {
    fn check(&self) -> Result<(), ApiError> {
        self.0.check(true)
    }
}

impl super::Request for UpdateConnection {
    fn check(&self) -> Result<(), ApiError> {
        self.0.check(false)
    }
}

impl super::Request for CreateApiDestination {
    fn check(&self) -> Result<(), ApiError> {
        self.0.check(true)
    }
}

impl super::Request for UpdateApiDestination {
    fn check(&self) -> Result<(), ApiError> {
        self.0.check(false)
    }
}

impl super::Request for NameRequest {
    fn check(&self) -> Result<(), ApiError> {
        NameRequest::check(self)
    }
}

impl super::Request for ListRequest {
    fn check(&self) -> Result<(), ApiError> {
        ListRequest::check(self)
    }
}

/// A request naming one connection or API destination.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct NameRequest {
    name: Option<Str>,
}

impl NameRequest {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", NAME);
        v.finish()
    }
}

/// ListConnections and ListApiDestinations.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRequest {
    name_prefix: Option<Str>,
    connection_state: Option<Str>,
    connection_arn: Option<Str>,
    next_token: Option<Str>,
    limit: Option<Int>,
}

impl ListRequest {
    fn check(&self) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.text(self.name_prefix.as_ref(), "namePrefix", NAME);
        v.one_of(
            self.connection_state.as_ref(),
            "connectionState",
            ferrule_bus::CONNECTION_STATES,
        );
        v.text(
            self.connection_arn.as_ref(),
            "connectionArn",
            CONNECTION_ARN,
        );
        v.text(self.next_token.as_ref(), "nextToken", Text::len(1, 2048));
        v.range(self.limit, "limit", Some(1), Some(100));
        v.finish()
    }
}

/// CreateApiDestination and UpdateApiDestination.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ApiDestinationRequest {
    name: Option<Str>,
    description: Option<Str>,
    connection_arn: Option<Str>,
    invocation_endpoint: Option<Str>,
    http_method: Option<Str>,
    invocation_rate_limit_per_second: Option<Int>,
}

impl ApiDestinationRequest {
    fn check(&self, create: bool) -> Result<(), ApiError> {
        let mut v = Violations::default();
        v.required_text(self.name.as_ref(), "name", NAME);
        v.text(self.description.as_ref(), "description", Text::max(512));
        if create {
            v.required(self.connection_arn.as_ref(), "connectionArn");
            v.required(self.invocation_endpoint.as_ref(), "invocationEndpoint");
            v.required(self.http_method.as_ref(), "httpMethod");
        }
        v.text(
            self.connection_arn.as_ref(),
            "connectionArn",
            CONNECTION_ARN,
        );
        v.text(
            self.invocation_endpoint.as_ref(),
            "invocationEndpoint",
            ENDPOINT,
        );
        v.one_of(
            self.http_method.as_ref(),
            "httpMethod",
            ferrule_bus::API_METHODS,
        );
        v.range(
            self.invocation_rate_limit_per_second,
            "invocationRateLimitPerSecond",
            Some(1),
            None,
        );
        v.finish()
    }

    fn input(&self) -> ApiDestinationInput {
        ApiDestinationInput {
            name: present(&self.name).to_string(),
            description: owned(&self.description),
            connection_arn: owned(&self.connection_arn),
            invocation_endpoint: owned(&self.invocation_endpoint),
            http_method: owned(&self.http_method),
            invocation_rate_limit_per_second: self
                .invocation_rate_limit_per_second
                .and_then(|Int(n)| u32::try_from(n).ok()),
        }
    }
}

/// A target's `HttpParameters`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HttpParameters {
    path_parameter_values: Option<List<Str>>,
    header_parameters: Option<Map<Str>>,
    query_string_parameters: Option<Map<Str>>,
}

impl HttpParameters {
    /// Checks the model's constraints, under `at`
    /// (`targets.N.member.httpParameters`).
    pub(crate) fn check(&self, v: &mut Violations, at: &str) {
        let values = self
            .path_parameter_values
            .as_ref()
            .map(|l| l.0.as_slice())
            .unwrap_or(&[]);
        for (i, value) in values.iter().enumerate() {
            // The model's `^(?!\s*$).+`: not blank.
            if value.0.trim().is_empty() {
                v.push(
                    Some(&value.0),
                    &format!("{at}.pathParameterValues.{}.member", i + 1),
                    r"Member must satisfy regular expression pattern: ^(?!\s*$).+",
                );
            }
        }
        let maps = [
            (
                "headerParameters",
                &self.header_parameters,
                HEADER_KEY,
                HEADER_VALUE,
            ),
            (
                "queryStringParameters",
                &self.query_string_parameters,
                QUERY_KEY,
                QUERY_VALUE,
            ),
        ];
        for (member, map, key, value) in maps {
            let Some(Map(entries)) = map else { continue };
            for (k, val) in entries {
                let key_str = Str(k.clone());
                v.text(Some(&key_str), &format!("{at}.{member}.key"), key);
                v.text(Some(val), &format!("{at}.{member}.{k}"), value);
            }
        }
    }

    /// As the bus stores it.
    pub(crate) fn config(&self) -> ferrule_bus::HttpParameters {
        let map = |m: &Option<Map<Str>>| -> BTreeMap<String, String> {
            m.as_ref()
                .map(|Map(m)| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
                .unwrap_or_default()
        };
        ferrule_bus::HttpParameters {
            path_parameter_values: self
                .path_parameter_values
                .as_ref()
                .map(|l| l.0.iter().map(|s| s.0.clone()).collect())
                .unwrap_or_default(),
            header_parameters: map(&self.header_parameters),
            query_string_parameters: map(&self.query_string_parameters),
        }
    }
}

// ---- responses ----

/// The answer of Create/Update/Delete/DeauthorizeConnection.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ConnectionChange {
    connection_arn: String,
    connection_state: String,
    creation_time: f64,
    last_modified_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<f64>,
}

/// `ConnectionHttpParameters` in an answer: secret values left out.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct HttpParamsOut {
    header_parameters: Vec<ParamOut>,
    query_string_parameters: Vec<ParamOut>,
    body_parameters: Vec<ParamOut>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ParamOut {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    is_value_secret: bool,
}

impl HttpParamsOut {
    fn new(p: &ConnectionHttpParameters) -> HttpParamsOut {
        let list = |l: &[ConnectionParam]| {
            l.iter()
                .map(|p| ParamOut {
                    key: p.key.clone(),
                    value: (!p.is_value_secret).then(|| p.value.clone()),
                    is_value_secret: p.is_value_secret,
                })
                .collect()
        };
        HttpParamsOut {
            header_parameters: list(&p.header_parameters),
            query_string_parameters: list(&p.query_string_parameters),
            body_parameters: list(&p.body_parameters),
        }
    }
}

#[derive(Serialize, Debug, Default)]
struct AuthOut {
    #[serde(
        rename = "BasicAuthParameters",
        skip_serializing_if = "Option::is_none"
    )]
    basic: Option<BTreeMap<&'static str, String>>,
    #[serde(rename = "OAuthParameters", skip_serializing_if = "Option::is_none")]
    oauth: Option<OAuthOut>,
    #[serde(
        rename = "ApiKeyAuthParameters",
        skip_serializing_if = "Option::is_none"
    )]
    api_key: Option<BTreeMap<&'static str, String>>,
    #[serde(
        rename = "InvocationHttpParameters",
        skip_serializing_if = "Option::is_none"
    )]
    invocation: Option<HttpParamsOut>,
}

#[derive(Serialize, Debug)]
struct OAuthOut {
    #[serde(rename = "ClientParameters")]
    client: BTreeMap<&'static str, String>,
    #[serde(rename = "AuthorizationEndpoint")]
    endpoint: String,
    #[serde(rename = "HttpMethod")]
    method: String,
    #[serde(
        rename = "OAuthHttpParameters",
        skip_serializing_if = "Option::is_none"
    )]
    params: Option<HttpParamsOut>,
}

/// DescribeConnection: names, never secrets.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct DescribeConnection {
    connection_arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    connection_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    authorization_type: String,
    secret_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    auth_parameters: AuthOut,
    creation_time: f64,
    last_modified_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<f64>,
}

/// `Connection` (ListConnections).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ConnectionItem {
    connection_arn: String,
    name: String,
    connection_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    authorization_type: String,
    creation_time: f64,
    last_modified_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<f64>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ListConnections {
    connections: Vec<ConnectionItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// Create/UpdateApiDestination.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ApiDestinationChange {
    api_destination_arn: String,
    api_destination_state: &'static str,
    creation_time: f64,
    last_modified_time: f64,
}

/// DescribeApiDestination and `ApiDestination` (ListApiDestinations).
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ApiDestinationOut {
    api_destination_arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    api_destination_state: &'static str,
    connection_arn: String,
    invocation_endpoint: String,
    http_method: String,
    invocation_rate_limit_per_second: u32,
    creation_time: f64,
    last_modified_time: f64,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ListApiDestinations {
    api_destinations: Vec<ApiDestinationOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize, Debug)]
struct Empty {}

fn change(state: &AppState, r: &ConnectionRecord) -> ConnectionChange {
    ConnectionChange {
        connection_arn: state.bus.connection_arn(r),
        connection_state: r.state.clone(),
        creation_time: seconds(r.created_ms),
        last_modified_time: seconds(r.modified_ms),
        last_authorized_time: r.last_authorized_ms.map(seconds),
    }
}

fn describe(state: &AppState, r: &ConnectionRecord) -> DescribeConnection {
    let a = &r.auth;
    let one =
        |k: &'static str, v: &Option<String>| BTreeMap::from([(k, v.clone().unwrap_or_default())]);
    let auth = AuthOut {
        basic: a.basic.as_ref().map(|b| one("Username", &b.username)),
        oauth: a.oauth.as_ref().map(|o| OAuthOut {
            client: one("ClientID", &o.client_id),
            endpoint: o.authorization_endpoint.clone().unwrap_or_default(),
            method: o.http_method.clone().unwrap_or_default(),
            params: o.oauth_http_parameters.as_ref().map(HttpParamsOut::new),
        }),
        api_key: a
            .api_key
            .as_ref()
            .map(|k| one("ApiKeyName", &k.api_key_name)),
        invocation: a
            .invocation_http_parameters
            .as_ref()
            .map(HttpParamsOut::new),
    };
    DescribeConnection {
        connection_arn: state.bus.connection_arn(r),
        name: r.name.clone(),
        description: r.description.clone(),
        connection_state: r.state.clone(),
        state_reason: r.state_reason.clone(),
        authorization_type: r.authorization_type.clone(),
        secret_arn: state.bus.connection_secret_arn(r),
        kms_key_identifier: r.kms_key_identifier.clone(),
        auth_parameters: auth,
        creation_time: seconds(r.created_ms),
        last_modified_time: seconds(r.modified_ms),
        last_authorized_time: r.last_authorized_ms.map(seconds),
    }
}

fn destination(state: &AppState, d: &ApiDestinationRecord) -> ApiDestinationOut {
    ApiDestinationOut {
        api_destination_arn: state.bus.api_destination_arn(d),
        name: d.name.clone(),
        description: d.description.clone(),
        api_destination_state: "ACTIVE",
        connection_arn: d.connection_arn.clone(),
        invocation_endpoint: d.invocation_endpoint.clone(),
        http_method: d.http_method.clone(),
        invocation_rate_limit_per_second: d.invocation_rate_limit_per_second,
        creation_time: seconds(d.created_ms),
        last_modified_time: seconds(d.modified_ms),
    }
}

fn destination_change(state: &AppState, d: &ApiDestinationRecord) -> ApiDestinationChange {
    ApiDestinationChange {
        api_destination_arn: state.bus.api_destination_arn(d),
        api_destination_state: "ACTIVE",
        creation_time: seconds(d.created_ms),
        last_modified_time: seconds(d.modified_ms),
    }
}

/// Runs `call` if it is one of this module's operations.
pub(super) fn dispatch(state: &AppState, call: &Call) -> Option<Result<Response, ApiError>> {
    let body = &call.input;
    let bus = &state.bus;
    Some(match call.operation.as_str() {
        "CreateConnection" => run(body, |CreateConnection(r)| {
            Ok(change(state, &bus.create_connection(r.input())?))
        }),
        "UpdateConnection" => run(body, |UpdateConnection(r)| {
            Ok(change(state, &bus.update_connection(r.input())?))
        }),
        "DescribeConnection" => run(body, |r: NameRequest| {
            Ok(describe(state, &bus.describe_connection(present(&r.name))?))
        }),
        "DeleteConnection" => run(body, |r: NameRequest| {
            Ok(change(state, &bus.delete_connection(present(&r.name))?))
        }),
        "DeauthorizeConnection" => run(body, |r: NameRequest| {
            Ok(change(
                state,
                &bus.deauthorize_connection(present(&r.name))?,
            ))
        }),
        "ListConnections" => run(body, |r: ListRequest| {
            let all = bus.list_connections(text(&r.name_prefix), text(&r.connection_state))?;
            let (page, next_token) = super::paginate(all, r.limit, text(&r.next_token))?;
            Ok(ListConnections {
                connections: page
                    .iter()
                    .map(|c| ConnectionItem {
                        connection_arn: bus.connection_arn(c),
                        name: c.name.clone(),
                        connection_state: c.state.clone(),
                        state_reason: c.state_reason.clone(),
                        authorization_type: c.authorization_type.clone(),
                        creation_time: seconds(c.created_ms),
                        last_modified_time: seconds(c.modified_ms),
                        last_authorized_time: c.last_authorized_ms.map(seconds),
                    })
                    .collect(),
                next_token,
            })
        }),
        "CreateApiDestination" => run(body, |CreateApiDestination(r)| {
            Ok(destination_change(
                state,
                &bus.create_api_destination(r.input())?,
            ))
        }),
        "UpdateApiDestination" => run(body, |UpdateApiDestination(r)| {
            Ok(destination_change(
                state,
                &bus.update_api_destination(r.input())?,
            ))
        }),
        "DescribeApiDestination" => run(body, |r: NameRequest| {
            Ok(destination(
                state,
                &bus.describe_api_destination(present(&r.name))?,
            ))
        }),
        "DeleteApiDestination" => run(body, |r: NameRequest| {
            bus.delete_api_destination(present(&r.name))?;
            Ok(Empty {})
        }),
        "ListApiDestinations" => run(body, |r: ListRequest| {
            let all = bus.list_api_destinations(text(&r.name_prefix), text(&r.connection_arn))?;
            let (page, next_token) = super::paginate(all, r.limit, text(&r.next_token))?;
            Ok(ListApiDestinations {
                api_destinations: page.iter().map(|d| destination(state, d)).collect(),
                next_token,
            })
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::wire;
    use super::*;
    use serde_json::json;

    fn check_create(body: serde_json::Value) -> Result<(), ApiError> {
        wire::read::<ConnectionRequest>(&body, "SerializationException")?.check(true)
    }

    #[test]
    fn connection_requests_are_checked_against_the_model() {
        assert!(
            check_create(json!({"Name": "c", "AuthorizationType": "API_KEY",
                "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "v"}}}))
            .is_ok()
        );
        let e = check_create(json!({"Name": "bad name", "AuthorizationType": "KEY"})).unwrap_err();
        assert_eq!(e.type_name, "ValidationException");
        assert!(
            e.message.starts_with("3 validation errors detected: "),
            "{}",
            e.message
        );
        assert!(e.message.contains("at 'name'"));
        assert!(e.message.contains("Value null at 'authParameters'"));
        assert!(e.message.contains("at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]"));
        // A secret breaking its pattern is shown as ***.
        let e = check_create(json!({"Name": "c", "AuthorizationType": "BASIC",
            "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "pass:word\u{1}"}}}))
        .unwrap_err();
        assert!(
            e.message
                .contains("Value '***' at 'authParameters.basicAuthParameters.password'"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("pass:word"));
        let e = check_create(json!({"Name": ["c"]})).unwrap_err();
        assert_eq!(e.type_name, "SerializationException");
    }

    #[test]
    fn http_parameters_are_checked_and_kept() {
        let h: HttpParameters = serde_json::from_value(json!({
            "PathParameterValues": ["a", " "],
            "HeaderParameters": {"X-Ok": "v", "bad key": "v"},
            "QueryStringParameters": {"q": "1"}
        }))
        .unwrap();
        let mut v = Violations::default();
        h.check(&mut v, "targets.1.member.httpParameters");
        let e = v.finish().unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("httpParameters.pathParameterValues.2.member")
        );
        assert!(e.message.contains("httpParameters.headerParameters.key"));
        let c = h.config();
        assert_eq!(c.path_parameter_values, ["a", " "]);
        assert_eq!(c.query_string_parameters["q"], "1");
    }
}
