//! Step Functions' `http:invoke` over `https://`, against real TLS servers
//! on loopback whose CA is trusted through `SSL_CERT_FILE`: the request
//! arrives with the connection's API key and the answer becomes the task's
//! result; a server whose certificate is not trusted fails the task with
//! `States.Http.Socket` and says why.
//!
//! `harness = false`: `main` sets `SSL_CERT_FILE` before any thread exists.

use std::sync::Arc;

use ferrule_bus::ManualClock;
use ferrule_runner::StartRequest;
use serde_json::{Value, json};

#[path = "../../dispatch/tests/support/http.rs"]
mod http; // tls.rs reads and answers requests with it.
#[path = "../../dispatch/tests/support/tls.rs"]
mod tls;
use tls::{Ca, TlsServer};

mod support;
use support::steps::api_key_connection;
use support::world;

const T0: u64 = 1_750_000_000_000;

/// Runs a one-state machine calling `url` through an API key connection;
/// returns its description.
fn invoke(url: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let w = world::open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let record = w
        .bus
        .create_connection(api_key_connection("kyc", "x-api-key", "s3cret"))
        .unwrap();
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": url, "Method": "POST",
                       "Authentication": {"ConnectionArn": w.bus.connection_arn(&record)},
                       "RequestBody": {"who.$": "$.who"}},
        "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"},
        "End": true}}});
    let machine = w.machine("call", definition);
    let started = w
        .runner
        .start_execution(StartRequest::new(&machine, Some(r#"{"who": "Nikki"}"#)))
        .unwrap();
    w.runner.run_until_idle();
    w.runner.describe_execution(&started.execution_arn).unwrap()
}

fn http_invoke_over_https_succeeds(trusted: &Ca) {
    let server = TlsServer::start(
        trusted.server_config(&["localhost"]),
        Arc::new(|_| (200, r#"{"verified": true}"#.to_string())),
    );
    let d = invoke(&server.url("localhost", "/check"));
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["output"], r#"{"status":200,"body":{"verified":true}}"#);
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/check");
    assert_eq!(seen[0].header("x-api-key"), Some("s3cret"));
    assert_eq!(seen[0].body, r#"{"who":"Nikki"}"#);
}

fn http_invoke_refuses_an_untrusted_certificate(other: &Ca) {
    let server = TlsServer::ok(other.server_config(&["localhost"]));
    let d = invoke(&server.url("localhost", "/check"));
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Http.Socket");
    let cause = d["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("TLS handshake failed: the server's certificate is not issued by a trusted certificate authority"),
        "{cause}"
    );
    assert!(server.requests().is_empty());
}

fn main() -> std::process::ExitCode {
    tls::run_with_cas(&[
        ("http_invoke_over_https_succeeds", |cas| {
            http_invoke_over_https_succeeds(&cas.trusted)
        }),
        ("http_invoke_refuses_an_untrusted_certificate", |cas| {
            http_invoke_refuses_an_untrusted_certificate(&cas.other)
        }),
    ])
}
