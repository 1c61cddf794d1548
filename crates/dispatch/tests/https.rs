//! `https://` through ferrule's HTTP client against real TLS servers on
//! loopback, with a CA made here and trusted through `SSL_CERT_FILE` (as a
//! user trusts a private CA): HTTP targets, API destinations with an API key,
//! OAuth token endpoints; and servers that must be refused — a certificate
//! from a CA nobody trusts, one naming another host — whose failures are
//! retryable connection failures that say why, with nothing sent.
//!
//! `harness = false`: `main` sets `SSL_CERT_FILE` before any thread exists.

use std::sync::Arc;
use std::time::Duration;

use ferrule_dispatch::api_destination::{
    ApiDestination, Auth, Connection, ConnectionParams, OAuthClient, OAuthConfig, Param,
    TargetHttpParams,
};
use ferrule_dispatch::targets::{DeliveryContext, HttpTarget, Target};

#[path = "support/http.rs"]
mod http; // tls.rs reads and answers requests with it.
#[path = "support/tls.rs"]
mod tls;
use tls::{Ca, TlsServer};

fn context() -> DeliveryContext<'static> {
    DeliveryContext {
        event_id: "e-1",
        rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
        target_arn: "t",
        target_id: "t",
        attempt: 1,
        principal: None,
    }
}

fn destination(url: &str, auth: Auth) -> ApiDestination {
    ApiDestination::new(
        "arn:aws:events:us-east-1:123456789012:api-destination/d/1",
        url,
        "POST",
        100,
        Connection {
            arn: "arn:aws:events:us-east-1:123456789012:connection/c/1".into(),
            auth,
            params: ConnectionParams::default(),
        },
    )
}

fn an_https_target_receives_the_event(trusted: &Ca) {
    let server = TlsServer::ok(trusted.server_config(&["localhost", "127.0.0.1"]));
    let payload = r#"{"detail-type":"order","detail":{"id":7}}"#;
    // By name and by address: the certificate names both.
    for host in ["localhost", "127.0.0.1"] {
        let target = HttpTarget::new(&server.url(host, "/hook"), Duration::from_secs(5));
        target.deliver(payload, &context()).unwrap();
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for r in &seen {
        assert_eq!((r.method.as_str(), r.target.as_str()), ("POST", "/hook"));
        assert_eq!(r.body, payload);
        assert_eq!(r.header("x-ferrule-event-id"), Some("e-1"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("user-agent"),
            Some(ferrule_dispatch::http_client::FERRULE_USER_AGENT)
        );
    }
    assert!(server.handshake_errors().is_empty());
}

fn an_api_destination_over_https_sends_the_api_key(trusted: &Ca) {
    let server = TlsServer::ok(trusted.server_config(&["localhost"]));
    let d = destination(
        &server.url("localhost", "/orders/*"),
        Auth::ApiKey {
            name: "x-api-key".into(),
            value: "s3cret".into(),
        },
    );
    let http = TargetHttpParams {
        path_parameter_values: vec!["42".into()],
        ..Default::default()
    };
    d.invoke(r#"{"id":42}"#, &http, &context()).unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/orders/42");
    assert_eq!(seen[0].header("x-api-key"), Some("s3cret"));
    assert_eq!(seen[0].body, r#"{"id":42}"#);
    assert_eq!(
        seen[0].header("user-agent"),
        Some("Amazon/EventBridge/ApiDestinations")
    );
}

fn an_oauth_token_endpoint_over_https_is_called(trusted: &Ca) {
    let config = trusted.server_config(&["localhost"]);
    let issuer = TlsServer::start(
        Arc::clone(&config),
        Arc::new(|_| {
            (
                200,
                r#"{"access_token":"tok-1","expires_in":300}"#.to_string(),
            )
        }),
    );
    let api = TlsServer::ok(config);
    let client = Arc::new(OAuthClient::new(OAuthConfig {
        endpoint: issuer.url("localhost", "/oauth/token"),
        method: "POST".into(),
        client_id: "id".into(),
        client_secret: "secret".into(),
        params: ConnectionParams {
            body: vec![Param {
                key: "grant_type".into(),
                value: "client_credentials".into(),
                secret: false,
            }],
            ..Default::default()
        },
    }));
    let d = destination(
        &api.url("localhost", "/in"),
        Auth::OAuth(Arc::clone(&client)),
    );
    for _ in 0..2 {
        d.invoke("{}", &TargetHttpParams::default(), &context())
            .unwrap();
    }
    // One token request (then cached), over TLS, with the client's credentials.
    let token_requests = issuer.requests();
    assert_eq!(token_requests.len(), 1);
    let t = &token_requests[0];
    assert_eq!(
        (t.method.as_str(), t.target.as_str()),
        ("POST", "/oauth/token")
    );
    assert_eq!(t.header("authorization"), Some("Basic aWQ6c2VjcmV0"));
    assert_eq!(t.body, "grant_type=client_credentials");
    assert_eq!(client.fetches(), 1);
    let calls = api.requests();
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c.header("authorization") == Some("Bearer tok-1"))
    );
}

fn a_certificate_from_an_untrusted_ca_is_refused(trusted: &Ca, other: &Ca) {
    let server = TlsServer::ok(other.server_config(&["localhost"]));
    let url = server.url("localhost", "/hook");
    let e = HttpTarget::new(&url, Duration::from_secs(5))
        .deliver("{}", &context())
        .unwrap_err();
    assert!(e.retryable, "{e:?}");
    assert_eq!(e.code, "CONNECTION_FAILURE");
    assert!(e.message.starts_with(&url), "{}", e.message);
    assert!(
        e.message
            .contains("TLS handshake failed: the server's certificate is not issued by a trusted certificate authority"),
        "{}",
        e.message
    );
    // The API destination and OAuth paths say the same, without secrets.
    let d = destination(
        &url,
        Auth::ApiKey {
            name: "x-api-key".into(),
            value: "s3cret".into(),
        },
    );
    let e = d
        .invoke("{}", &TargetHttpParams::default(), &context())
        .unwrap_err();
    assert!(e.retryable && e.code == "CONNECTION_FAILURE", "{e:?}");
    assert!(
        e.message.contains("not issued by a trusted"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("s3cret"));
    let client = OAuthClient::new(OAuthConfig {
        endpoint: server.url("localhost", "/oauth/token"),
        method: "POST".into(),
        client_id: "id".into(),
        client_secret: "very-secret".into(),
        params: ConnectionParams::default(),
    });
    let e = client.token().unwrap_err();
    assert!(e.retryable && e.code == "CONNECTION_FAILURE", "{e:?}");
    assert!(
        e.message.contains("not issued by a trusted"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("very-secret"));
    // Nothing was sent: the client hung up in the handshake each time.
    assert!(server.requests().is_empty());
    assert!(!server.handshake_errors().is_empty());
    // The same server with the trusted CA's certificate is fine: it is the
    // CA that was refused, not the server.
    let good = TlsServer::ok(trusted.server_config(&["localhost"]));
    HttpTarget::new(&good.url("localhost", "/hook"), Duration::from_secs(5))
        .deliver("{}", &context())
        .unwrap();
}

fn a_certificate_for_another_host_is_refused(trusted: &Ca) {
    let server = TlsServer::ok(trusted.server_config(&["orders.example.com"]));
    for host in ["localhost", "127.0.0.1"] {
        let url = server.url(host, "/hook");
        let e = HttpTarget::new(&url, Duration::from_secs(5))
            .deliver("{}", &context())
            .unwrap_err();
        assert!(e.retryable && e.code == "CONNECTION_FAILURE", "{e:?}");
        assert!(
            e.message.contains(
                "TLS handshake failed: the server's certificate is not valid for the host name"
            ),
            "{}",
            e.message
        );
        assert!(e.message.contains(host), "{}", e.message);
    }
    assert!(server.requests().is_empty());
}

fn plain_http_to_a_tls_port_fails_without_a_panic(trusted: &Ca) {
    let server = TlsServer::ok(trusted.server_config(&["localhost"]));
    let url = format!("http://localhost:{}/hook", server.port);
    let e = HttpTarget::new(&url, Duration::from_secs(5))
        .deliver("{}", &context())
        .unwrap_err();
    assert!(e.retryable, "{e:?}");
    assert!(server.requests().is_empty());
}

fn main() -> std::process::ExitCode {
    tls::run_with_cas(&[
        ("an_https_target_receives_the_event", |cas| {
            an_https_target_receives_the_event(&cas.trusted)
        }),
        ("an_api_destination_over_https_sends_the_api_key", |cas| {
            an_api_destination_over_https_sends_the_api_key(&cas.trusted)
        }),
        ("an_oauth_token_endpoint_over_https_is_called", |cas| {
            an_oauth_token_endpoint_over_https_is_called(&cas.trusted)
        }),
        ("a_certificate_from_an_untrusted_ca_is_refused", |cas| {
            a_certificate_from_an_untrusted_ca_is_refused(&cas.trusted, &cas.other)
        }),
        ("a_certificate_for_another_host_is_refused", |cas| {
            a_certificate_for_another_host_is_refused(&cas.trusted)
        }),
        ("plain_http_to_a_tls_port_fails_without_a_panic", |cas| {
            plain_http_to_a_tls_port_fails_without_a_panic(&cas.trusted)
        }),
    ])
}
