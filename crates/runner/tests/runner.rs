//! The states runner on a real bus and a real store on disk, driven by a
//! manual clock: integrations' effects read back from the queues, and
//! executions resumed across a reopen of the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use ferrule_bus::{Bus, BusOptions, ManualClock, PutEventsEntry, PutRuleInput, TargetConfig};
use ferrule_runner::{CreateMachine, Runner, RunnerErrorKind, RunnerOptions, StartRequest};
use serde_json::{Value, json};

mod support;
use support::world::{World, open};

const T0: u64 = 1_750_000_000_000;

fn put_events_machine() -> Value {
    json!({"StartAt": "Tell", "States": {
        "Tell": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                 "Parameters": {"Entries": [{"Source": "kyc", "DetailType": "Identity check completed",
                                              "EventBusName": "central", "Detail.$": "$"}]},
                 "End": true}}})
}

#[test]
fn put_events_reaches_the_bus_with_the_executions_arns() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    w.bus.create_event_bus("central", None).unwrap();
    w.queue_for(
        "checked",
        Some("central"),
        json!({"detail-type": ["Identity check completed"]}),
    );
    let machine = w.machine("kyc", put_events_machine());
    let started = w
        .runner
        .start_execution(StartRequest::new(
            &machine,
            Some(r#"{"customerName": "Nikki Wolf"}"#),
        ))
        .unwrap();
    w.settle();
    let got = w.messages("checked");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["detail"], json!({"customerName": "Nikki Wolf"}));
    assert_eq!(got[0]["resources"], json!([machine, started.execution_arn]));
    let d = w.runner.describe_execution(&started.execution_arn).unwrap();
    assert_eq!(d["status"], "SUCCEEDED");
    let out: Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["FailedEntryCount"], 0);
    assert!(out["Entries"][0]["EventId"].is_string());
}

#[test]
fn a_failed_entry_fails_the_task_with_eventbridge_failed_entry() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    // aws.* sources are refused for callers, state machines included.
    let machine = w.machine(
        "m",
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": [{"Source": "aws.s3", "DetailType": "x", "Detail": {}}]}, "End": true}}}),
    );
    let s = w
        .runner
        .start_execution(StartRequest::new(&machine, None))
        .unwrap();
    w.settle();
    let d = w.runner.describe_execution(&s.execution_arn).unwrap();
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "EventBridge.FailedEntry");
    assert!(
        d["cause"]
            .as_str()
            .unwrap()
            .contains("NotAuthorizedForSourceException")
    );
}

#[test]
fn a_task_token_wait_survives_a_reopen_and_completes_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let (arn, token) = {
        let w = open(dir.path(), &clock);
        w.queue_for("asks", None, json!({"detail-type": ["Approve"]}));
        let machine = w.machine(
            "approve",
            json!({"StartAt": "Ask", "States": {
                "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                        "Parameters": {"Entries": [{"Source": "kyc", "DetailType": "Approve",
                                                     "Detail": {"token.$": "$$.Task.Token"}}]},
                        "TimeoutSeconds": 3600, "ResultPath": "$.answer", "End": true}}}),
        );
        let s = w
            .runner
            .start_execution(
                StartRequest::new(&machine, Some(r#"{"who": "Nikki"}"#)).named("run-1"),
            )
            .unwrap();
        w.settle();
        let asks = w.messages("asks");
        assert_eq!(asks.len(), 1);
        assert_eq!(w.status(&s.execution_arn), "RUNNING");
        (
            s.execution_arn,
            asks[0]["detail"]["token"].as_str().unwrap().to_string(),
        )
    };
    clock.advance_ms(60_000);
    let w = open(dir.path(), &clock);
    assert_eq!(w.status(&arn), "RUNNING");
    w.runner
        .send_task_success(&token, r#"{"ok": true}"#)
        .unwrap();
    w.settle();
    let d = w.runner.describe_execution(&arn).unwrap();
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"who":"Nikki","answer":{"ok":true}}"#);
    let e = w.runner.send_task_success(&token, "{}").unwrap_err();
    assert_eq!(e.kind(), RunnerErrorKind::TaskTimedOut);
    let e = w.runner.send_task_success("not-a-token", "{}").unwrap_err();
    assert_eq!(e.kind(), RunnerErrorKind::InvalidToken);
}

#[test]
fn a_task_token_times_out_by_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let machine = w.machine(
        "t",
        json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                    "Parameters": {"Entries": [{"Source": "kyc", "DetailType": "Approve", "Detail": {"t.$": "$$.Task.Token"}}]},
                    "TimeoutSeconds": 30, "End": true}}}),
    );
    let s = w
        .runner
        .start_execution(StartRequest::new(&machine, None))
        .unwrap();
    w.settle();
    w.clock.advance_ms(29_000);
    w.settle();
    assert_eq!(w.status(&s.execution_arn), "RUNNING");
    w.clock.advance_ms(1_000);
    w.settle();
    let d = w.runner.describe_execution(&s.execution_arn).unwrap();
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("FAILED"), Some("States.Timeout"))
    );
}

#[test]
fn a_wait_and_a_retry_backoff_resume_where_they_were_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let arn = {
        let w = open(dir.path(), &clock);
        // The queue does not exist yet: the first attempt fails and is retried in 10 s.
        let machine = w.machine(
            "m",
            json!({"StartAt": "Nap", "States": {
                "Nap": {"Type": "Wait", "Seconds": 60, "Next": "Send"},
                "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                         "Parameters": {"QueueUrl": "http://localhost/000000000000/later", "MessageBody.$": "$"},
                         "Retry": [{"ErrorEquals": ["SQS.QueueDoesNotExistException"], "IntervalSeconds": 10, "MaxAttempts": 3}],
                         "End": true}}}),
        );
        let s = w
            .runner
            .start_execution(StartRequest::new(&machine, Some(r#"{"n": 1}"#)))
            .unwrap();
        w.settle();
        clock.advance_ms(30_000);
        w.settle();
        s.execution_arn
    };
    // Reopened in the middle of the Wait: 30 s are left.
    let w = open(dir.path(), &clock);
    clock.advance_ms(29_000);
    w.settle();
    assert!(
        w.runner
            .execution_history(&arn)
            .unwrap()
            .iter()
            .all(|e| e["type"] != "TaskStateEntered")
    );
    clock.advance_ms(1_000);
    w.settle();
    let failed = w.runner.execution_history(&arn).unwrap();
    assert!(failed.iter().any(|e| e["type"] == "TaskFailed"));
    drop(w);
    let w = open(dir.path(), &clock);
    w.bus.create_queue("later").unwrap();
    clock.advance_ms(9_000);
    w.settle();
    assert!(w.messages("later").is_empty());
    clock.advance_ms(1_000);
    w.settle();
    assert_eq!(w.messages("later"), vec![json!({"n": 1})]);
    assert_eq!(w.status(&arn), "SUCCEEDED");
}

#[test]
fn a_rule_starts_a_state_machine_once_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let machine = w.machine(
        "TestStateMachine",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "World", "ResultPath": "$.taskresult", "End": true}}}),
    );
    w.bus
        .put_rule(PutRuleInput::new(
            "start-state-machine",
            r#"{"detail-type": ["start-state-machine"]}"#,
        ))
        .unwrap();
    w.bus
        .put_targets(
            "start-state-machine",
            None,
            vec![TargetConfig {
                id: "sm".into(),
                arn: machine.clone(),
                input_path: Some("$.detail".into()),
                ..Default::default()
            }],
        )
        .unwrap();
    w.bus
        .put_events(vec![
            PutEventsEntry::new("t", "start-state-machine", r#"{"n": 1}"#),
            PutEventsEntry::new("t", "other", r#"{"n": 2}"#),
        ])
        .unwrap();
    w.settle();
    let runs = w.runner.list_executions(&machine, None).unwrap();
    assert_eq!(runs.len(), 1);
    let d = w
        .runner
        .describe_execution(runs[0]["executionArn"].as_str().unwrap())
        .unwrap();
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"n":1,"taskresult":"World"}"#);
}

#[test]
fn a_rule_target_for_a_missing_machine_is_dead_lettered_no_resource() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    w.bus.create_queue("dlq").unwrap();
    w.bus
        .put_rule(PutRuleInput::new("r", r#"{"source": ["t"]}"#))
        .unwrap();
    w.bus
        .put_targets(
            "r",
            None,
            vec![TargetConfig {
                id: "sm".into(),
                arn: "arn:aws:states:us-east-1:000000000000:stateMachine:gone".into(),
                dead_letter_config: Some(ferrule_bus::DeadLetterConfig {
                    arn: w.bus.queue_arn("dlq"),
                }),
                ..Default::default()
            }],
        )
        .unwrap();
    w.bus
        .put_events(vec![PutEventsEntry::new("t", "x", "{}")])
        .unwrap();
    w.settle();
    let dead = w.bus.queue_messages("dlq", 10).unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .attributes
            .iter()
            .any(|(k, v)| k == "ERROR_CODE" && v == "NO_RESOURCE"),
        "{:?}",
        dead[0].attributes
    );
    // A state machine ARN of the wrong shape is refused at PutTargets.
    let e = w
        .bus
        .put_targets(
            "r",
            None,
            vec![TargetConfig {
                id: "bad".into(),
                arn: "arn:aws:states:us-east-1:000000000000:activity:x".into(),
                ..Default::default()
            }],
        )
        .unwrap_err();
    assert!(
        e.message().contains("Step Functions target"),
        "{}",
        e.message()
    );
}

#[test]
fn sync_children_complete_their_parents_and_failures_propagate() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let ok = w.machine(
        "ok",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                                          "P": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": true}}}),
    );
    let bad = w.machine(
        "bad",
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}}),
    );
    let parent = |child: &str, how: &str| {
        json!({"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": format!("arn:aws:states:::states:startExecution{how}"),
            "Parameters": {"StateMachineArn": child, "Input": {"n": 4}}, "End": true}}})
    };
    let p2 = w.machine("p2", parent(&ok, ".sync:2"));
    let p1 = w.machine("p1", parent(&bad, ".sync"));
    let plain = w.machine("plain", parent(&ok, ""));
    let a = w
        .runner
        .start_execution(StartRequest::new(&p2, None))
        .unwrap();
    let b = w
        .runner
        .start_execution(StartRequest::new(&p1, None))
        .unwrap();
    let c = w
        .runner
        .start_execution(StartRequest::new(&plain, None))
        .unwrap();
    w.settle();
    assert_eq!(w.status(&a.execution_arn), "RUNNING");
    let pd = w.runner.describe_execution(&c.execution_arn).unwrap();
    assert_eq!(pd["status"], "SUCCEEDED");
    let out: Value = serde_json::from_str(pd["output"].as_str().unwrap()).unwrap();
    assert!(
        out["ExecutionArn"]
            .as_str()
            .unwrap()
            .contains(":execution:ok:")
    );
    let bd = w.runner.describe_execution(&b.execution_arn).unwrap();
    assert_eq!(
        (bd["status"].as_str(), bd["error"].as_str()),
        (Some("FAILED"), Some("States.TaskFailed"))
    );
    let cause: Value = serde_json::from_str(bd["cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["Status"], "FAILED");
    assert_eq!(cause["Error"], "Nope");
    w.clock.advance_ms(5_000);
    w.settle();
    let ad = w.runner.describe_execution(&a.execution_arn).unwrap();
    assert_eq!(ad["status"], "SUCCEEDED");
    let out: Value = serde_json::from_str(ad["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["Output"], json!({"twice": 8}));
    assert_eq!(out["Status"], "SUCCEEDED");
}

#[test]
fn status_changes_are_published_on_the_default_bus() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    w.queue_for(
        "status",
        None,
        json!({"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]}),
    );
    let m = w.machine(
        "m",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let s = w
        .runner
        .start_execution(StartRequest::new(&m, Some(r#"{"a": 1}"#)))
        .unwrap();
    w.settle();
    let got = w.messages("status");
    let statuses: Vec<&str> = got
        .iter()
        .map(|e| e["detail"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["RUNNING", "SUCCEEDED"]);
    assert!(
        got.iter()
            .all(|e| e["resources"] == json!([s.execution_arn]))
    );
    assert_eq!(got[1]["detail"]["output"], r#"{"a":1}"#);
}

#[test]
fn activities_hand_out_tasks_to_workers() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let act = w
        .runner
        .create_activity("review", BTreeMap::new())
        .unwrap()
        .arn;
    let m = w.machine(
        "m",
        json!({"StartAt": "R", "States": {"R": {"Type": "Task", "Resource": act, "End": true}}}),
    );
    let none = w
        .runner
        .get_activity_task(&act, None, std::time::Duration::ZERO)
        .unwrap();
    assert!(none.is_none());
    let s = w
        .runner
        .start_execution(StartRequest::new(&m, Some(r#"{"doc": 7}"#)))
        .unwrap();
    w.settle();
    let (token, input) = w
        .runner
        .get_activity_task(&act, Some("worker-1"), std::time::Duration::ZERO)
        .unwrap()
        .unwrap();
    assert_eq!(input, r#"{"doc":7}"#);
    w.runner
        .send_task_failure(&token, "Rejected", "bad doc")
        .unwrap();
    w.settle();
    let d = w.runner.describe_execution(&s.execution_arn).unwrap();
    assert_eq!(
        (d["error"].as_str(), d["cause"].as_str()),
        (Some("Rejected"), Some("bad doc"))
    );
    // An activity's history is Activity*, as the service writes it.
    let h = w.runner.execution_history(&s.execution_arn).unwrap();
    let types: Vec<&str> = h.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivityFailed",
            "ExecutionFailed"
        ]
    );
    assert_eq!(
        h[2]["activityScheduledEventDetails"],
        json!({"resource": act, "input": "{\"doc\":7}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        h[3]["activityStartedEventDetails"],
        json!({"workerName": "worker-1"})
    );
    assert_eq!(h[3]["previousEventId"], 3);
    assert_eq!(
        h[4]["activityFailedEventDetails"],
        json!({"error": "Rejected", "cause": "bad doc"})
    );
}

#[test]
fn starts_are_idempotent_by_name_and_input() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let m = w.machine(
        "m",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": true}}}),
    );
    let a = w
        .runner
        .start_execution(StartRequest::new(&m, Some("{}")).named("x"))
        .unwrap();
    let b = w
        .runner
        .start_execution(StartRequest::new(&m, Some("{}")).named("x"))
        .unwrap();
    assert_eq!(a, b);
    let e = w
        .runner
        .start_execution(StartRequest::new(&m, Some(r#"{"other": 1}"#)).named("x"))
        .unwrap_err();
    assert_eq!(e.kind(), RunnerErrorKind::ExecutionAlreadyExists);
    assert_eq!(
        e.message(),
        format!("Execution Already Exists: '{}'", a.execution_arn)
    );
    let e = w
        .runner
        .start_execution(StartRequest::new(&m, Some("{oops")))
        .unwrap_err();
    assert_eq!(e.kind(), RunnerErrorKind::InvalidExecutionInput);
}

/// A one-request HTTP server on loopback: answers `status` with `body`,
/// and hands back the request it read.
fn one_shot_server(status: u16, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        // Headers, then the body by Content-Length.
        loop {
            let n = s.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(reply.as_bytes()).unwrap();
        String::from_utf8_lossy(&got).to_string()
    });
    (url, handle)
}

#[test]
fn http_invoke_sends_the_request_and_fails_on_an_error_status() {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path(), &Arc::new(ManualClock::new(T0)));
    let machine = |name: &str, url: &str| {
        w.machine(
            name,
            json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": url, "Method": "POST", "Headers": {"x-kyc": "1"},
                               "QueryParameters": {"q": "a b"}, "RequestBody": {"who.$": "$.who"}},
                "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"}, "End": true}}}),
        )
    };
    let (url, server) = one_shot_server(200, r#"{"ok": true}"#);
    let m = machine("ok", &url);
    let s = w
        .runner
        .start_execution(StartRequest::new(&m, Some(r#"{"who": "Nikki"}"#)))
        .unwrap();
    w.settle();
    let request = server.join().unwrap();
    assert!(
        request.starts_with("POST /hook?q=a%20b HTTP/1.1"),
        "{request}"
    );
    assert!(request.to_ascii_lowercase().contains("x-kyc: 1"));
    assert!(request.ends_with(r#"{"who":"Nikki"}"#), "{request}");
    let d = w.runner.describe_execution(&s.execution_arn).unwrap();
    assert_eq!(d["output"], r#"{"status":200,"body":{"ok":true}}"#);

    let (url, server) = one_shot_server(404, r#"{"message": "no"}"#);
    let m = machine("missing", &url);
    let s = w
        .runner
        .start_execution(StartRequest::new(&m, Some(r#"{"who": "x"}"#)))
        .unwrap();
    w.settle();
    server.join().unwrap();
    let d = w.runner.describe_execution(&s.execution_arn).unwrap();
    assert_eq!(d["status"], "FAILED");
    assert_eq!(d["error"], "States.Http.StatusCode.404");
}

#[test]
fn sync_starts_of_instant_express_machines_answer_how_they_ended() {
    // With worker threads an EXPRESS execution of one Pass state can end
    // (and leave the table) before StartSyncExecution looks for it.
    let dir = tempfile::tempdir().unwrap();
    let mut options = BusOptions::new(dir.path());
    options.deliver_in_background = false;
    let bus = Arc::new(Bus::open(options).unwrap());
    let runner = Runner::open(Arc::clone(&bus), RunnerOptions::new().workers(2)).unwrap();
    let (m, _) = runner
        .create_state_machine(CreateMachine {
            name: "quick".into(),
            definition: json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})
                .to_string(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            machine_type: ferrule_runner::MachineType::Express,
            ..Default::default()
        })
        .unwrap();
    for i in 0..200 {
        let out = runner
            .start_sync_execution(
                StartRequest::new(&m.arn, Some(&format!(r#"{{"i": {i}}}"#))),
                std::time::Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(out["status"], "SUCCEEDED", "{out}");
        let output: Value = serde_json::from_str(out["output"].as_str().unwrap()).unwrap();
        assert_eq!(output, json!({"i": i}));
    }
}

/// A long execution's history is written in runs of its own (once each), not
/// with every write of the execution; after a reopen it reads back whole, also
/// when a write was cut short between a run and the execution record.
#[test]
fn a_long_history_is_stored_in_runs_and_reads_back_whole() {
    use ferrule_store::Expect;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let map = |next: &str| {
        json!({"Type": "Map", "ItemsPath": "$.items", "ResultPath": null, "Next": next,
               "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}})
    };
    let ask = |next: Option<&str>| {
        let mut s = json!({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
            "Parameters": {"Entries": [{"Source": "long", "DetailType": "Ask", "Detail": {"token.$": "$$.Task.Token"}}]},
            "ResultPath": null});
        match next {
            Some(n) => s["Next"] = json!(n),
            None => s["End"] = json!(true),
        }
        s
    };
    let stored = |w: &World, arn: &str| -> (u64, usize, Vec<String>) {
        let store = w.bus.store();
        let rec = store.get("states.execution", arn).unwrap().unwrap();
        let v: Value = serde_json::from_slice(&rec.value).unwrap();
        let runs = store
            .list("states.execution-history")
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        (
            v["history_chunked"].as_u64().unwrap(),
            rec.value.len(),
            runs,
        )
    };
    let token = |w: &World, n: usize| -> String {
        let asks = w.messages("asks");
        assert_eq!(asks.len(), n);
        asks[n - 1]["detail"]["token"].as_str().unwrap().to_string()
    };
    let input = json!({"items": (0..100).collect::<Vec<_>>()}).to_string();

    let (arn, first, before) = {
        let w = open(dir.path(), &clock);
        w.queue_for("asks", None, json!({"detail-type": ["Ask"]}));
        let m = w.machine(
            "long",
            json!({"StartAt": "M1", "States": {"M1": map("A1"), "A1": ask(Some("M2")),
                    "M2": map("A2"), "A2": ask(None)}}),
        );
        let s = w
            .runner
            .start_execution(StartRequest::new(&m, Some(&input)).named("long-1"))
            .unwrap();
        w.settle();
        let arn = s.execution_arn;
        // 100 iterations of 4 events each went into a run; the record holds the rest.
        let (chunked, bytes, runs) = stored(&w, &arn);
        assert!(chunked > 400, "{chunked}");
        assert_eq!(runs, [format!("{arn}#0000000000")]);
        assert!(bytes < 16_000, "the record carries {bytes} bytes");
        let history = w.runner.execution_history(&arn).unwrap();
        (arn, token(&w, 1), history)
    };

    let w = open(dir.path(), &clock);
    assert_eq!(w.runner.execution_history(&arn).unwrap(), before);
    w.runner.send_task_success(&first, "{}").unwrap();
    w.settle();
    let second = token(&w, 2);
    let (chunked, bytes, runs) = stored(&w, &arn);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(bytes < 16_000, "the record carries {bytes} bytes");
    let before = w.runner.execution_history(&arn).unwrap();
    drop(w);

    // A write cut short after its run and before the record: a run at
    // `chunked` that the record does not count.
    let w = open(dir.path(), &clock);
    w.bus
        .store()
        .put(
            "states.execution-history",
            &format!("{arn}#{chunked:010}"),
            Some(b"[{\"id\": 1}]".to_vec()),
            Expect::Any,
        )
        .unwrap();
    drop(w);
    let w = open(dir.path(), &clock);
    let after = w.runner.execution_history(&arn).unwrap();
    assert_eq!(after, before);
    let ids: Vec<u64> = after.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=after.len() as u64).collect::<Vec<_>>());
    w.runner.send_task_success(&second, "{}").unwrap();
    w.settle();
    assert_eq!(w.status(&arn), "SUCCEEDED");
    let history = w.runner.execution_history(&arn).unwrap();
    let count = |t: &str| history.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("MapIterationSucceeded"), 200);
    assert_eq!(count("TaskSucceeded"), 2);
    drop(w);
    let w = open(dir.path(), &clock);
    assert_eq!(w.runner.execution_history(&arn).unwrap(), history);
}
