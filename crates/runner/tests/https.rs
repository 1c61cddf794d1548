//! Step Functions' `http:invoke` over `https://`, against real TLS servers
//! on loopback whose CA is trusted through `SSL_CERT_FILE`: the request
//! arrives with the connection's API key and the answer becomes the task's
//! result; a server whose certificate is not trusted fails the task with
//! `States.Http.Socket` and says why.
//!
//! `harness = false`: `main` sets `SSL_CERT_FILE` before any thread exists.

use std::sync::Arc;

use ferrule_bus::{ApiKeyAuth, AuthParameters, Bus, BusOptions, ConnectionInput, ManualClock};
use ferrule_runner::{CreateMachine, Runner, RunnerOptions, StartRequest};
use serde_json::{Value, json};

#[path = "../../dispatch/tests/support/http.rs"]
mod http; // tls.rs reads and answers requests with it.
#[path = "../../dispatch/tests/support/tls.rs"]
mod tls;
use tls::{Ca, TlsServer};

const T0: u64 = 1_750_000_000_000;

/// Runs a one-state machine calling `url` through an API key connection;
/// returns its description.
fn invoke(url: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let mut options = BusOptions::new(dir.path());
    options.clock = Arc::new(ManualClock::new(T0));
    options.deliver_in_background = false;
    let bus = Arc::new(Bus::open(options).unwrap());
    let runner = Runner::open(Arc::clone(&bus), RunnerOptions::new().background(false)).unwrap();
    let record = bus
        .create_connection(ConnectionInput {
            name: "kyc".into(),
            authorization_type: Some("API_KEY".into()),
            auth: Some(AuthParameters {
                api_key: Some(ApiKeyAuth {
                    api_key_name: Some("x-api-key".into()),
                    api_key_value: Some("s3cret".into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap();
    let definition = json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": url, "Method": "POST",
                       "Authentication": {"ConnectionArn": bus.connection_arn(&record)},
                       "RequestBody": {"who.$": "$.who"}},
        "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"},
        "End": true}}});
    let machine = runner
        .create_state_machine(CreateMachine {
            name: "call".into(),
            definition: definition.to_string(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            ..Default::default()
        })
        .unwrap()
        .0
        .arn;
    let started = runner
        .start_execution(StartRequest::new(&machine, Some(r#"{"who": "Nikki"}"#)))
        .unwrap();
    runner.run_until_idle();
    runner.describe_execution(&started.execution_arn).unwrap()
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
