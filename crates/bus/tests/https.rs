//! `https://` targets and API destinations through the bus, against real
//! TLS servers on loopback whose CA is trusted through `SSL_CERT_FILE`: the
//! event reaches the server; an endpoint whose certificate is not trusted,
//! or names another host, is retried as a connection failure and then
//! dead-lettered with the reason (read from the dead-letter queue).
//!
//! `harness = false`: `main` sets `SSL_CERT_FILE` before any thread exists.

use std::sync::Arc;

use ferrule_bus::{
    ApiDestinationInput, Bus, DeadLetterConfig, ManualClock, RetryPolicy, TargetConfig,
};

#[path = "../../dispatch/tests/support/tls.rs"]
mod tls;
use tls::{Ca, TlsServer};

mod support;
use support::http; // tls.rs reads and answers requests with it.
use support::open::TestBus;
use support::steps::{api_key_connection, put, rule_to, target};
use support::temp_dir::TempDir;

const T0: u64 = 1_714_564_800_000;

fn open(dir: &TempDir, clock: &Arc<ManualClock>) -> Bus {
    TestBus::new(&dir.0)
        .clock(clock)
        .backoff_ms(1_000, 1_000)
        .open()
}

/// A target with a dead-letter queue `dlq` and one retry.
fn with_dlq(bus: &Bus, id: &str, arn: &str) -> TargetConfig {
    TargetConfig {
        id: id.into(),
        arn: arn.into(),
        dead_letter_config: Some(DeadLetterConfig {
            arn: bus.queue_arn("dlq"),
        }),
        retry_policy: Some(RetryPolicy {
            maximum_retry_attempts: Some(1),
            maximum_event_age_in_seconds: None,
        }),
        ..Default::default()
    }
}

fn https_rule_targets_and_api_destinations_receive_events(trusted: &Ca) {
    let dir = TempDir::new("https-ok");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    let server = TlsServer::ok(trusted.server_config(&["localhost"]));
    rule_to(
        &bus,
        "to-hook",
        "orders",
        target("hook", &server.url("localhost", "/hook")),
    );
    let record = bus
        .create_connection(api_key_connection("c", "x-api-key", "s3cret"))
        .unwrap();
    let destination = bus
        .create_api_destination(ApiDestinationInput {
            name: "d".into(),
            connection_arn: Some(bus.connection_arn(&record)),
            invocation_endpoint: Some(server.url("localhost", "/api")),
            http_method: Some("PUT".into()),
            ..Default::default()
        })
        .unwrap();
    rule_to(
        &bus,
        "to-api",
        "orders",
        target("api", &bus.api_destination_arn(&destination)),
    );
    put(&bus, "orders", r#"{"id": 7}"#);
    bus.run_due();
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    let mut seen = server.requests();
    seen.sort_by(|a, b| a.target.cmp(&b.target));
    assert_eq!(seen.len(), 2, "{seen:?}");
    let (api, hook) = (&seen[0], &seen[1]);
    assert_eq!((api.method.as_str(), api.target.as_str()), ("PUT", "/api"));
    assert_eq!(api.header("x-api-key"), Some("s3cret"));
    assert_eq!(
        (hook.method.as_str(), hook.target.as_str()),
        ("POST", "/hook")
    );
    for r in [api, hook] {
        let event: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(event["source"], "orders");
        assert_eq!(event["detail"]["id"], 7);
    }
}

fn refused_certificates_are_retried_then_dead_lettered(trusted: &Ca, other: &Ca) {
    let dir = TempDir::new("https-refused");
    let clock = Arc::new(ManualClock::new(T0));
    let bus = open(&dir, &clock);
    bus.create_queue("dlq").unwrap();
    let untrusted = TlsServer::ok(other.server_config(&["localhost"]));
    let misnamed = TlsServer::ok(trusted.server_config(&["orders.example.com"]));
    let untrusted_url = untrusted.url("localhost", "/hook");
    let misnamed_url = misnamed.url("localhost", "/hook");
    rule_to(&bus, "r1", "a", with_dlq(&bus, "untrusted", &untrusted_url));
    rule_to(&bus, "r2", "b", with_dlq(&bus, "misnamed", &misnamed_url));
    put(&bus, "a", r#"{"n": 1}"#);
    put(&bus, "b", r#"{"n": 2}"#);
    // The first attempts fail and are retried, as connection failures are.
    bus.run_due();
    assert_eq!(bus.pending_deliveries().unwrap(), 2);
    assert!(bus.queue_messages("dlq", 10).unwrap().is_empty());
    clock.advance_ms(2_000);
    bus.run_due();
    assert_eq!(bus.pending_deliveries().unwrap(), 0);
    let letters = bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(letters.len(), 2);
    for (url, why) in [
        (
            &untrusted_url,
            "TLS handshake failed: the server's certificate is not issued by a trusted certificate authority",
        ),
        (
            &misnamed_url,
            "TLS handshake failed: the server's certificate is not valid for the host name",
        ),
    ] {
        let letter = letters
            .iter()
            .find(|m| {
                m.attributes
                    .iter()
                    .any(|(k, v)| k == "TARGET_ARN" && v == url)
            })
            .unwrap_or_else(|| panic!("no dead letter for {url}: {letters:?}"));
        let attr = |k: &str| {
            letter
                .attributes
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(attr("ERROR_CODE"), Some("CONNECTION_FAILURE"));
        assert_eq!(attr("RETRY_ATTEMPTS"), Some("1"));
        assert_eq!(
            attr("EXHAUSTED_RETRY_CONDITION"),
            Some("MaximumRetryAttempts")
        );
        let message = attr("ERROR_MESSAGE").unwrap_or_default();
        assert!(message.contains(why), "{message}");
        // The body is the event itself.
        let event: serde_json::Value = serde_json::from_str(&letter.body).unwrap();
        assert!(event["source"] == "a" || event["source"] == "b", "{event}");
    }
    // Neither server read a request.
    assert!(untrusted.requests().is_empty());
    assert!(misnamed.requests().is_empty());
}

fn main() -> std::process::ExitCode {
    tls::run_with_cas(&[
        (
            "https_rule_targets_and_api_destinations_receive_events",
            |cas| https_rule_targets_and_api_destinations_receive_events(&cas.trusted),
        ),
        (
            "refused_certificates_are_retried_then_dead_lettered",
            |cas| refused_certificates_are_retried_then_dead_lettered(&cas.trusted, &cas.other),
        ),
    ])
}
