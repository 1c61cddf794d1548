//! The Scheduler API through the server's router (REST-JSON in and out, on a
//! manual clock): a Step Functions StartExecution target delivered through
//! the `states` provider registered with the bus (the runner's, then one of
//! the test's own that records the starts); errors in REST-JSON's shape.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::clock::ServerClock;
use crate::{AppState, app};
use ferrule_bus::{BusOptions, TargetProvider};
use ferrule_dispatch::targets::{DeliveryContext, DeliveryError, FunctionTarget, Target};

const T0: u64 = 1_714_564_800_000;

struct Fixture {
    server: Arc<crate::partition::Server>,
    state: Arc<AppState>,
    clock: Arc<ferrule_core::ManualClock>,
    dir: std::path::PathBuf,
    /// Whether dropping it removes the directory.
    remove: bool,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("ferrule-scheduler-{}", uuid::Uuid::new_v4()));
    fixture_at(dir, true)
}

/// An open-mode server state over a bus in `dir`, on a manual clock at T0,
/// with the Scheduler loaded from the store.
fn fixture_at(dir: std::path::PathBuf, remove: bool) -> Fixture {
    let clock = Arc::new(ferrule_core::ManualClock::new(T0));
    let mut options = BusOptions::new(&dir);
    options.clock = clock.clone();
    let server = crate::test_server(options, ServerClock::Manual(clock.clone()));
    let state = Arc::clone(&server.home);
    Fixture {
        server,
        state,
        clock,
        dir,
        remove,
    }
}

async fn call(f: &Fixture, method: &str, uri: &str, body: Value) -> (StatusCode, String, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = app(Arc::clone(&f.server))
        .oneshot(req)
        .await
        .expect("response");
    let status = response.status();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, kind, v)
}

/// What a states runner would register: every `stateMachine:` ARN is a
/// target; a start is recorded with its input.
struct Machines(Arc<Mutex<Vec<(String, String)>>>);

impl TargetProvider for Machines {
    fn check(&self, arn: &str) -> Result<(), String> {
        if arn.contains(":stateMachine:") {
            Ok(())
        } else {
            Err("not a state machine".into())
        }
    }

    fn resolve(&self, arn: &str) -> Option<Arc<dyn Target>> {
        let started = Arc::clone(&self.0);
        let arn = arn.to_string();
        Some(Arc::new(FunctionTarget(
            move |payload: &str, _: &DeliveryContext<'_>| -> Result<(), DeliveryError> {
                started
                    .lock()
                    .map_err(|_| DeliveryError::permanent("X", "poisoned"))?
                    .push((arn.clone(), payload.to_string()));
                Ok(())
            },
        )))
    }
}

fn start_execution(machine: &str) -> Value {
    json!({
        "ScheduleExpression": "rate(1 minute)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": machine,
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "Input": "{\"Payload\": \"This is a test.\"}",
        },
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_machine_target_is_delivered_through_the_states_provider() {
    let f = fixture();
    // The runner's provider judges `states` ARNs: not a state machine, refused.
    let activity = "arn:aws:states:us-east-1:000000000000:activity:a";
    let (status, kind, body) =
        call(&f, "POST", "/schedules/hello", start_execution(activity)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(kind, "ValidationException");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(activity)),
        "{body}"
    );
    // A provider of our own in its place sees what the schedule starts.
    let machine = "arn:aws:states:us-east-1:000000000000:stateMachine:HelloWorld";
    let started = Arc::new(Mutex::new(Vec::new()));
    f.state
        .bus
        .register_provider("states", Arc::new(Machines(Arc::clone(&started))));
    let (status, _, body) = call(&f, "POST", "/schedules/hello", start_execution(machine)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["ScheduleArn"],
        "arn:aws:scheduler:us-east-1:000000000000:schedule/default/hello"
    );
    // Fires at once (a rate without StartDate), then each minute of the clock.
    let wait = |n: usize| {
        let started = Arc::clone(&started);
        async move {
            for _ in 0..200 {
                if started.lock().map(|s| s.len()).unwrap_or(0) >= n {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            started.lock().map(|s| s.clone()).unwrap_or_default()
        }
    };
    assert_eq!(wait(1).await.len(), 1);
    f.clock.advance_ms(60_000);
    f.state.bus.notify_scheduler();
    let got = wait(2).await;
    assert_eq!(got.len(), 2);
    for (arn, input) in got {
        assert_eq!(arn, machine);
        assert_eq!(input, "{\"Payload\": \"This is a test.\"}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_rest_json_with_the_models_status_codes() {
    let f = fixture();
    let (status, kind, body) = call(&f, "GET", "/schedules/nope", json!({})).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::NOT_FOUND, "ResourceNotFoundException")
    );
    assert_eq!(body["message"], "Schedule nope does not exist.");
    let (status, kind, _) = call(&f, "GET", "/schedule-groups/nope", json!({})).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::NOT_FOUND, "ResourceNotFoundException")
    );
    let mut bad = start_execution("https://example.com/hook");
    bad["ScheduleExpression"] = json!("rate(1 fortnight)");
    let (status, kind, body) = call(&f, "POST", "/schedules/x", bad).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::BAD_REQUEST, "ValidationException")
    );
    assert_eq!(
        body["message"],
        "Invalid Schedule Expression rate(1 fortnight)."
    );
    // Wrong JSON types are refused, not guessed.
    let mut bad = start_execution("https://example.com/hook");
    bad["Target"]["Input"] = json!(5);
    let (status, _, _) = call(&f, "POST", "/schedules/x", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, kind, _) = call(&f, "POST", "/schedules/x", json!([1])).await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::BAD_REQUEST, "ValidationException")
    );
    // An http(s) URL is a target (ferrule's extension).
    let (status, _, body) = call(
        &f,
        "POST",
        "/schedules/x",
        start_execution("https://example.com/hook"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, kind, body) = call(
        &f,
        "POST",
        "/schedules/x",
        start_execution("https://example.com/hook"),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::CONFLICT, "ConflictException")
    );
    assert_eq!(body["message"], "Schedule x already exists.");
    let (status, _, body) = call(&f, "GET", "/schedules/x", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["CreationDate"], json!(T0 / 1000));
    assert_eq!(
        body["Target"]["Input"],
        "{\"Payload\": \"This is a test.\"}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schedules_survive_a_restart_of_the_state() {
    let dir = std::env::temp_dir().join(format!("ferrule-scheduler-{}", uuid::Uuid::new_v4()));
    {
        let f = fixture_at(dir.clone(), false);
        let (status, _, body) = call(
            &f,
            "POST",
            "/schedule-groups/team",
            json!({"Tags": [{"Key": "a", "Value": "b"}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut s = start_execution("https://example.com/hook");
        s["GroupName"] = json!("team");
        let (status, _, body) = call(&f, "POST", "/schedules/kept", s).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let f = fixture_at(dir, true);
    let (status, _, body) = call(&f, "GET", "/schedules/kept?groupName=team", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["GroupName"], "team");
    let arn = body["Arn"].as_str().unwrap_or("").to_string();
    assert!(f.state.bus.next_schedule_fire(&arn).is_some(), "{arn}");
    let (status, _, body) = call(
        &f,
        "GET",
        "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A000000000000%3Aschedule-group%2Fteam",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Tags"], json!([{"Key": "a", "Value": "b"}]));
}
