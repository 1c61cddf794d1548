//! Connections and API destinations against real HTTP servers on loopback:
//! each kind of authorization (an OAuth token endpoint that counts its
//! calls), HttpParameters and the connection's parameters on the wire, the
//! rate limit measured, retries and dead letters by status code, secrets
//! kept across a reopen, and the service's errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrule_bus::{
    ApiDestinationInput, ApiKeyAuth, AuthParameters, BasicAuth, Bus, BusErrorKind,
    ConnectionHttpParameters, ConnectionInput, ConnectionParam, DeadLetterConfig, HttpParameters,
    InputTransformerConfig, ManualClock, OAuthAuth, PutEventsEntry, RetryPolicy,
};

mod support;
use support::http;
use support::open::TestBus;
use support::steps::{api_key, api_key_connection, put, rule_to, target};
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000;

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    TestBus::new(&dir.0)
        .clock(clock)
        .backoff_ms(1_000, 60_000)
        .open()
}

fn param(key: &str, value: &str, secret: bool) -> ConnectionParam {
    ConnectionParam {
        key: key.into(),
        value: value.into(),
        is_value_secret: secret,
    }
}

fn connection(bus: &Bus, name: &str, kind: &str, auth: AuthParameters) -> String {
    let record = bus
        .create_connection(ConnectionInput {
            name: name.into(),
            authorization_type: Some(kind.into()),
            auth: Some(auth),
            ..Default::default()
        })
        .unwrap();
    bus.connection_arn(&record)
}

fn destination(
    bus: &Bus,
    name: &str,
    connection_arn: &str,
    endpoint: &str,
    method: &str,
) -> String {
    destination_with_rate(bus, name, connection_arn, endpoint, method, None)
}

fn destination_with_rate(
    bus: &Bus,
    name: &str,
    connection_arn: &str,
    endpoint: &str,
    method: &str,
    rate: Option<u32>,
) -> String {
    let record = bus
        .create_api_destination(ApiDestinationInput {
            name: name.into(),
            connection_arn: Some(connection_arn.into()),
            invocation_endpoint: Some(endpoint.into()),
            http_method: Some(method.into()),
            invocation_rate_limit_per_second: rate,
            ..Default::default()
        })
        .unwrap();
    bus.api_destination_arn(&record)
}

#[test]
fn api_key_connection_with_http_parameters_and_input_transformation() {
    let dir = TempDir::new("apikey");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let (base, seen) = http::serve_ok();
    let mut auth = api_key("x-api-key", "k3y-s3cr3t");
    auth.invocation_http_parameters = Some(ConnectionHttpParameters {
        header_parameters: vec![param("x-conn", "from-connection", false)],
        query_string_parameters: vec![param("q", "connection-wins", true)],
        body_parameters: vec![param("extra", "added", false)],
    });
    let conn = connection(&bus, "keyed", "API_KEY", auth);
    let dest = destination(
        &bus,
        "orders",
        &conn,
        &format!("{base}/orders/*/items/*"),
        "PUT",
    );
    let mut t = target("api", &dest);
    t.http_parameters = Some(HttpParameters {
        path_parameter_values: vec!["o-1".into(), "i 2".into()],
        header_parameters: [("X-Target".to_string(), "from-target".to_string())].into(),
        query_string_parameters: [
            ("q".to_string(), "target".to_string()),
            ("page".to_string(), "3".to_string()),
        ]
        .into(),
    });
    t.input_transformer = Some(InputTransformerConfig {
        input_paths_map: vec![("id".into(), "$.detail.id".into())],
        input_template: r#"{"order": <id>}"#.into(),
    });
    rule_to(&bus, "r", "shop", t);
    put(&bus, "shop", r#"{"id": "A-7"}"#);
    assert_eq!(bus.run_due(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.target, "/orders/o-1/items/i%202?page=3&q=connection-wins");
    assert_eq!(r.header("x-api-key"), Some("k3y-s3cr3t"));
    assert_eq!(r.header("x-target"), Some("from-target"));
    assert_eq!(r.header("x-conn"), Some("from-connection"));
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body, serde_json::json!({"order": "A-7", "extra": "added"}));
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
}

#[test]
fn basic_connection_sends_basic_auth_and_survives_a_reopen() {
    let dir = TempDir::new("basic");
    let clock = Arc::new(ManualClock::new(T0));
    let (base, seen) = http::serve_ok();
    {
        let bus = open(&dir, &clock);
        let conn = connection(
            &bus,
            "b",
            "BASIC",
            AuthParameters {
                basic: Some(BasicAuth {
                    username: Some("ann".into()),
                    password: Some("hunter2".into()),
                }),
                ..Default::default()
            },
        );
        let dest = destination(&bus, "hook", &conn, &format!("{base}/hook"), "POST");
        rule_to(&bus, "r", "app", target("t", &dest));
    }
    // The records (secrets included) are in the store.
    let bus = open(&dir, &clock);
    assert_eq!(bus.describe_connection("b").unwrap().state, "AUTHORIZED");
    put(&bus, "app", "{}");
    bus.run_due();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    // base64("ann:hunter2")
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic YW5uOmh1bnRlcjI=")
    );
    assert_eq!(seen[0].method, "POST");
    assert!(
        seen[0].body.contains(r#""source":"app""#),
        "{}",
        seen[0].body
    );
}

#[test]
fn oauth_token_is_fetched_once_refreshed_on_expiry_and_after_a_401() {
    let dir = TempDir::new("oauth");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    // Token endpoint: token-N, valid for 1 second.
    let issued = Arc::new(Mutex::new(0u32));
    let n = Arc::clone(&issued);
    let (auth_base, auth_seen) = http::serve(Arc::new(move |_| {
        let mut n = n.lock().unwrap();
        *n += 1;
        (
            200,
            format!(r#"{{"access_token": "token-{n}", "token_type": "Bearer", "expires_in": 1}}"#),
        )
    }));
    // The API: refuses token-2 once (as if revoked), accepts the rest.
    let refused = Arc::new(Mutex::new(false));
    let r2 = Arc::clone(&refused);
    let (api_base, api_seen) = http::serve(Arc::new(move |req| {
        let mut refused = r2.lock().unwrap();
        if req.header("authorization") == Some("Bearer token-2") && !*refused {
            *refused = true;
            return (401, "{}".into());
        }
        (200, "{}".into())
    }));
    let record = bus
        .create_connection(ConnectionInput {
            name: "oa".into(),
            authorization_type: Some("OAUTH_CLIENT_CREDENTIALS".into()),
            auth: Some(AuthParameters {
                oauth: Some(OAuthAuth {
                    client_id: Some("client-1".into()),
                    client_secret: Some("client-s3cret".into()),
                    authorization_endpoint: Some(format!("{auth_base}/oauth/token")),
                    http_method: Some("POST".into()),
                    oauth_http_parameters: Some(ConnectionHttpParameters {
                        body_parameters: vec![param("grant_type", "client_credentials", false)],
                        query_string_parameters: vec![param("audience", "api", false)],
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(record.state, "AUTHORIZING");
    let conn = bus.connection_arn(&record);
    // Authorized in the background.
    let deadline = Instant::now() + Duration::from_secs(5);
    while bus.describe_connection("oa").unwrap().state != "AUTHORIZED" {
        assert!(Instant::now() < deadline, "never authorized");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        bus.describe_connection("oa")
            .unwrap()
            .last_authorized_ms
            .is_some()
    );
    {
        let auth_seen = auth_seen.lock().unwrap();
        assert_eq!(auth_seen.len(), 1);
        let t = &auth_seen[0];
        assert_eq!(t.method, "POST");
        assert_eq!(t.target, "/oauth/token?audience=api");
        // base64("client-1:client-s3cret")
        assert_eq!(
            t.header("authorization"),
            Some("Basic Y2xpZW50LTE6Y2xpZW50LXMzY3JldA==")
        );
        assert_eq!(t.body, "grant_type=client_credentials");
    }
    let dest = destination(&bus, "api", &conn, &format!("{api_base}/in"), "POST");
    rule_to(&bus, "r", "app", target("t", &dest));
    put(&bus, "app", "{}");
    put(&bus, "app", "{}");
    bus.run_due();
    assert_eq!(
        bus.connection_token_fetches("oa"),
        1,
        "the cached token is reused"
    );
    std::thread::sleep(Duration::from_millis(1_100));
    put(&bus, "app", "{}");
    bus.run_due(); // token-1 expired: token-2 is fetched, and refused with 401
    assert_eq!(bus.connection_token_fetches("oa"), 2);
    clock.advance_ms(2_000);
    bus.run_due(); // the retry fetches token-3
    assert_eq!(bus.connection_token_fetches("oa"), 3);
    let tokens: Vec<String> = api_seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    assert_eq!(
        tokens,
        [
            "Bearer token-1",
            "Bearer token-1",
            "Bearer token-2",
            "Bearer token-3"
        ]
    );
    assert_eq!(*issued.lock().unwrap(), 3);
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
}

#[test]
fn status_codes_are_retried_or_dead_lettered_as_the_service_does() {
    let dir = TempDir::new("status");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let conn = connection(&bus, "c", "API_KEY", api_key("x-k", "v"));
    let cases: &[(u16, bool)] = &[
        (401, true),
        (407, true),
        (409, true),
        (429, true),
        (500, true),
        (503, true),
        (400, false),
        (403, false),
        (404, false),
        (302, false),
        (422, false),
    ];
    let mut servers = Vec::new();
    for (i, (status, _)) in cases.iter().enumerate() {
        let (base, seen) = http::serve_scripted(vec![*status]);
        let dest = destination(&bus, &format!("d{i}"), &conn, &format!("{base}/x"), "POST");
        let mut t = target(&format!("t{status}"), &dest);
        t.dead_letter_config = Some(DeadLetterConfig {
            arn: bus.queue_arn("dlq"),
        });
        t.retry_policy = Some(RetryPolicy {
            maximum_retry_attempts: Some(3),
            maximum_event_age_in_seconds: None,
        });
        rule_to(&bus, &format!("r{i}"), &format!("s{i}"), t);
        put(&bus, &format!("s{i}"), "{}");
        servers.push(seen);
    }
    bus.run_due();
    let letters = bus.queue_messages("dlq", 100).unwrap();
    let lettered: Vec<String> = letters
        .iter()
        .filter_map(|m| {
            m.attributes
                .iter()
                .find(|(k, _)| k == "TARGET_ARN")
                .map(|(_, v)| v.clone())
        })
        .collect();
    let permanent = cases.iter().filter(|(_, retried)| !retried).count();
    assert_eq!(letters.len(), permanent, "{lettered:?}");
    for m in &letters {
        let attr = |k: &str| {
            m.attributes
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(attr("ERROR_CODE"), Some("ERROR_FROM_TARGET"));
        assert_eq!(attr("RETRY_ATTEMPTS"), Some("0"));
        assert_eq!(attr("EXHAUSTED_RETRY_CONDITION"), None);
    }
    // The retried ones succeed on their second attempt.
    assert_eq!(
        bus.pending_deliveries().unwrap() as usize,
        cases.len() - permanent
    );
    clock.advance_ms(2_000);
    bus.run_due();
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    for ((status, retried), seen) in cases.iter().zip(&servers) {
        let expected = if *retried { 2 } else { 1 };
        assert_eq!(seen.lock().unwrap().len(), expected, "status {status}");
    }
}

#[test]
fn the_invocation_rate_limit_is_held() {
    let dir = TempDir::new("rate");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let (base, seen) = http::serve_ok();
    let conn = connection(&bus, "c", "API_KEY", api_key("x-k", "v"));
    let dest = destination_with_rate(&bus, "slow", &conn, &format!("{base}/x"), "POST", Some(10));
    rule_to(&bus, "r", "app", target("t", &dest));
    for _ in 0..4 {
        let entries = (0..10)
            .map(|_| PutEventsEntry::new("app", "T", "{}"))
            .collect();
        bus.put_events(entries).unwrap();
    }
    let started = Instant::now();
    let mut delivered = 0;
    while bus.pending_deliveries().unwrap() > 0 && started.elapsed() < Duration::from_secs(30) {
        delivered += bus.run_due();
    }
    assert!(delivered >= 40);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40);
    let span = seen[39].at.duration_since(seen[0].at).as_secs_f64();
    // A burst of 10, then 10 a second: the last of 40 comes >= 3 s after the first.
    let rate = 39.0 / span;
    eprintln!("40 invocations at 10/s: {span:.2} s, {rate:.1} requests/s");
    assert!(span >= 2.9, "{span}");
    assert!(span < 6.0, "{span}");
    // No second holds more than the burst and the second's own 10.
    for i in 0..seen.len() {
        let within = seen[i..]
            .iter()
            .take_while(|r| r.at.duration_since(seen[i].at) < Duration::from_secs(1))
            .count();
        assert!(within <= 20, "{within} requests in one second");
    }
}

#[test]
fn deleted_or_deauthorized_connections_dead_letter_their_deliveries() {
    let dir = TempDir::new("gone");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let (base, seen) = http::serve_ok();
    let deauth = connection(&bus, "deauth", "API_KEY", api_key("x-k", "v"));
    let deleted = connection(&bus, "deleted", "API_KEY", api_key("x-k", "v"));
    for (name, conn) in [("a", &deauth), ("b", &deleted)] {
        let dest = destination(&bus, name, conn, &format!("{base}/x"), "POST");
        let mut t = target(name, &dest);
        t.dead_letter_config = Some(DeadLetterConfig {
            arn: bus.queue_arn("dlq"),
        });
        rule_to(&bus, name, name, t);
    }
    let d = bus.deauthorize_connection("deauth").unwrap();
    assert_eq!(d.state, "DEAUTHORIZED");
    assert_eq!(d.auth.api_key.as_ref().unwrap().api_key_value, None);
    assert_eq!(bus.delete_connection("deleted").unwrap().state, "DELETING");
    put(&bus, "a", "{}");
    put(&bus, "b", "{}");
    bus.run_due();
    assert!(seen.lock().unwrap().is_empty());
    let letters = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(letters.len(), 2);
    for m in &letters {
        assert!(
            m.attributes
                .iter()
                .any(|(k, v)| k == "ERROR_CODE" && v == "NO_RESOURCE")
        );
    }
    // New secrets authorize it again.
    let updated = bus
        .update_connection(ConnectionInput {
            name: "deauth".into(),
            auth: Some(AuthParameters {
                api_key: Some(ApiKeyAuth {
                    api_key_name: None,
                    api_key_value: Some("n3w".into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(updated.state, "AUTHORIZED");
    put(&bus, "a", "{}");
    bus.run_due();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-k"), Some("n3w"));
}

#[test]
fn errors_have_the_services_kinds_and_messages() {
    let dir = TempDir::new("errors");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = TestBus::new(&dir.0)
        .clock(&clock)
        .with(|o| {
            o.limits.connections = 1;
            o.limits.api_destinations = 1;
        })
        .open();
    let conn = connection(&bus, "c", "API_KEY", api_key("x-k", "v"));
    let again = bus
        .create_connection(api_key_connection("c", "x-k", "v"))
        .unwrap_err();
    assert_eq!(again.kind(), BusErrorKind::ResourceAlreadyExists);
    assert_eq!(again.message(), "Connection c already exists.");
    let over = bus
        .create_connection(api_key_connection("d", "x-k", "v"))
        .unwrap_err();
    assert_eq!(over.kind(), BusErrorKind::LimitExceeded);
    let missing = bus.describe_connection("nope").unwrap_err();
    assert_eq!(missing.kind(), BusErrorKind::ResourceNotFound);
    assert_eq!(
        missing.message(),
        "Failed to describe the connection(s). Connection 'nope' does not exist."
    );
    let input = |endpoint: &str, rate: Option<u32>| ApiDestinationInput {
        name: "d".into(),
        connection_arn: Some(conn.clone()),
        invocation_endpoint: Some(endpoint.into()),
        http_method: Some("POST".into()),
        invocation_rate_limit_per_second: rate,
        ..Default::default()
    };
    let e = bus
        .create_api_destination(input("http://example.com/x", None))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::Validation);
    let e = bus
        .create_api_destination(input("https://example.com/x", Some(301)))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::LimitExceeded);
    let mut bad_conn = input("https://example.com/x", None);
    bad_conn.connection_arn = Some(conn.replace("/c/", "/other/"));
    let e = bus.create_api_destination(bad_conn).unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ResourceNotFound);
    let made = bus
        .create_api_destination(input("https://example.com/x", None))
        .unwrap();
    assert_eq!(made.invocation_rate_limit_per_second, 300);
    let e = bus
        .create_api_destination(input("https://example.com/x", None))
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::ResourceAlreadyExists);
    let e = bus.delete_api_destination("nope").unwrap_err();
    assert_eq!(
        e.message(),
        "Failed to delete the api-destination(s). An api-destination 'nope' does not exist."
    );
    let updated = bus
        .update_api_destination(ApiDestinationInput {
            name: "d".into(),
            invocation_rate_limit_per_second: Some(5),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(updated.invocation_rate_limit_per_second, 5);
    assert_eq!(updated.invocation_endpoint, "https://example.com/x");
    assert_eq!(
        bus.list_api_destinations(None, Some(&conn)).unwrap().len(),
        1
    );
    assert_eq!(bus.list_api_destinations(Some("x"), None).unwrap().len(), 0);
    assert_eq!(
        bus.list_connections(None, Some("AUTHORIZED"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        bus.list_connections(None, Some("DEAUTHORIZED"))
            .unwrap()
            .len(),
        0
    );
    // Type and parameters must agree.
    let e = bus
        .create_connection(ConnectionInput {
            name: "e".into(),
            authorization_type: Some("BASIC".into()),
            auth: Some(api_key("x-k", "v")),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), BusErrorKind::Validation);
}
