//! The KYC workflow of the founding document ("Introducing the Amazon EventBridge service
//! integration for AWS Step Functions"), run end to end against a recording fake of
//! `arn:aws:states:::events:putEvents` with the integration's real semantics (no server).
//!
//! The document shows the "Identity check completed" state verbatim (with its Retry block), the
//! rule that starts the machine (`InputPath: $.detail`) and the "New account approved" event;
//! the other states are reconstructed around them. The document's text lost the `Source`
//! values, so the entries here use `com.example.kyc`.

use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Clock, Execution, ExecutionInfo, ExecutionStatus, ManualClock, RunState, TaskContext,
    TaskExecutor, TaskOutcome,
};
use serde_json::{Value, json};
use std::cell::RefCell;

const KYC: &str = r#"{
  "Comment": "Know your customer: identity, agency and risk checks, with events on the central bus",
  "StartAt": "Check identity",
  "States": {
    "Check identity": {"Type": "Pass", "Result": true, "ResultPath": "$.indentityChecked", "Next": "Check agency"},
    "Check agency": {"Type": "Pass", "Result": true, "ResultPath": "$.agencyChecked", "Next": "Identity check completed"},
    "Identity check completed": {
      "Comment": "Publish event when identity check has been completed",
      "Type": "Task",
      "Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Detail.$": "$", "DetailType": "Identity check completed", "EventBusName": "${CentralEventBusName}", "Source": "com.example.kyc"}]},
      "ResultPath": null,
      "Next": "Verify risk profile",
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}]
    },
    "Verify risk profile": {
      "Type": "Choice",
      "Choices": [{"And": [
        {"Variable": "$.indentityChecked", "BooleanEquals": true},
        {"Variable": "$.agencyChecked", "BooleanEquals": true},
        {"Not": {"Variable": "$.customerAddress", "StringMatches": "*Sanctioned*"}}
      ], "Next": "Checks passed"}],
      "Default": "Checks failed"
    },
    "Checks passed": {"Type": "Pass", "Result": true, "ResultPath": "$.checksPassed", "Next": "New account approved"},
    "Checks failed": {"Type": "Pass", "Result": false, "ResultPath": "$.checksPassed", "Next": "New account declined"},
    "New account approved": {
      "Type": "Task",
      "Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Detail.$": "$", "DetailType": "New account approved", "EventBusName": "${CentralEventBusName}", "Source": "com.example.kyc"}]},
      "End": true
    },
    "New account declined": {
      "Type": "Task",
      "Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Detail.$": "$", "DetailType": "New account declined", "EventBusName": "${CentralEventBusName}", "Source": "com.example.kyc"}]},
      "End": true
    }
  }
}"#;

/// `DefinitionSubstitutions` as AWS SAM applies them.
fn definition(def: &str) -> StateMachine {
    StateMachine::parse(&def.replace("${CentralEventBusName}", "CentralEventBus"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A bus that keeps what `putEvents` tasks publish, with the integration's behaviour: `Detail`
/// objects are serialised, the state machine and execution ARNs are appended to `Resources`,
/// entries without `Source` fail (and the task fails with `EventBridge.FailedEntry`).
#[derive(Default)]
struct RecordingBus {
    /// (bus, delivered event) in publication order.
    events: RefCell<Vec<(String, Value)>>,
    /// The raw task parameters, as the state machine produced them.
    calls: RefCell<Vec<Value>>,
    /// How many of the next calls fail as if EventBridge were unreachable.
    fail_next: RefCell<u32>,
}

impl TaskExecutor for RecordingBus {
    fn start(&self, resource: &str, parameters: &Value, ctx: &TaskContext<'_>) -> TaskOutcome {
        self.calls.borrow_mut().push(parameters.clone());
        let wait = match resource {
            "arn:aws:states:::events:putEvents" => false,
            "arn:aws:states:::events:putEvents.waitForTaskToken" => true,
            other => {
                return TaskOutcome::Failed {
                    error: "States.Runtime".into(),
                    cause: format!("unsupported resource {other}"),
                };
            }
        };
        if *self.fail_next.borrow() > 0 {
            *self.fail_next.borrow_mut() -= 1;
            return TaskOutcome::Failed {
                error: "EventBridge.EventBridgeException".into(),
                cause: "Service unavailable".into(),
            };
        }
        let mut entries = Vec::new();
        let mut failed = 0;
        for (i, e) in parameters["Entries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            if e["Source"].as_str().is_none_or(str::is_empty) {
                failed += 1;
                entries.push(json!({"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}));
                continue;
            }
            let detail = match &e["Detail"] {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                other => other.clone(),
            };
            let mut resources: Vec<Value> = e["Resources"].as_array().cloned().unwrap_or_default();
            resources.push(json!(ctx.state_machine_arn));
            resources.push(json!(ctx.execution_arn));
            let id = format!("evt-{}-{i}", self.events.borrow().len());
            let bus = e["EventBusName"].as_str().unwrap_or("default").to_string();
            self.events.borrow_mut().push((
                bus,
                json!({"version": "0", "id": id, "detail-type": e["DetailType"], "source": e["Source"], "account": "111122223333",
                       "region": "ca-central-1", "resources": resources, "detail": detail}),
            ));
            entries.push(json!({"EventId": id}));
        }
        let response = json!({"Entries": entries, "FailedEntryCount": failed});
        if failed > 0 {
            return TaskOutcome::Failed {
                error: "EventBridge.FailedEntry".into(),
                cause: response.to_string(),
            };
        }
        match (wait, ctx.task_token) {
            (true, Some(token)) => TaskOutcome::Pending {
                token: token.to_string(),
                submitted: Some(response),
            },
            _ => TaskOutcome::Succeeded(response),
        }
    }
}

fn info() -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:ca-central-1:111122223333:execution:kyc:e-1".into(),
        name: "e-1".into(),
        state_machine_arn: "arn:aws:states:ca-central-1:111122223333:stateMachine:kyc".into(),
        state_machine_name: "kyc".into(),
        role_arn: "arn:aws:iam::111122223333:role/kyc".into(),
        region: "ca-central-1".into(),
    }
}

/// The document's `put_events.json` entry after the rule's `InputPath: $.detail`.
fn requested() -> Value {
    let detail = "{\"customerName\": \"Nikki Wolf\", \"customerAddress\": \"123 Any Street, Any Town, USA\" }";
    serde_json::from_str(detail).unwrap()
}

fn types(e: &Execution) -> Vec<String> {
    e.history()
        .iter()
        .map(|h| h.event_type.to_string())
        .collect()
}

#[test]
fn approved_path_publishes_both_events_with_the_execution_in_resources() {
    let m = definition(KYC);
    let clock = ManualClock::new(1_620_270_503_000);
    let bus = RecordingBus::default();
    let (e, s) = Execution::start(&m, info(), requested(), &clock, &bus);
    assert_eq!(s, RunState::Finished);
    assert_eq!(e.status(), ExecutionStatus::Succeeded, "{:?}", e.error());
    let events = bus.events.borrow();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|(b, ev)| (b.as_str(), ev["detail-type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("CentralEventBus", "Identity check completed"),
            ("CentralEventBus", "New account approved")
        ]
    );
    let approved = &events[1].1;
    assert_eq!(
        approved["detail"],
        json!({"customerName": "Nikki Wolf", "customerAddress": "123 Any Street, Any Town, USA", "indentityChecked": true, "agencyChecked": true, "checksPassed": true})
    );
    assert_eq!(
        approved["resources"],
        json!([info().state_machine_arn, info().execution_arn])
    );
    // The identity event carries the state's input, before the risk check.
    assert_eq!(
        events[0].1["detail"],
        json!({"customerName": "Nikki Wolf", "customerAddress": "123 Any Street, Any Town, USA", "indentityChecked": true, "agencyChecked": true})
    );
    // The task saw `Detail` as an object (the integration serialises it).
    assert!(bus.calls.borrow()[0]["Entries"][0]["Detail"].is_object());
    // ResultPath null: the PutEvents response did not replace the data; the last task's did.
    assert_eq!(e.output().unwrap()["FailedEntryCount"], 0);
    assert_eq!(e.output().unwrap()["Entries"][0]["EventId"], "evt-1-0");
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let sched = e.history()[6].to_api_json();
    assert_eq!(sched["taskScheduledEventDetails"]["resourceType"], "events");
    assert_eq!(sched["taskScheduledEventDetails"]["resource"], "putEvents");
    assert_eq!(sched["taskScheduledEventDetails"]["region"], "ca-central-1");
}

#[test]
fn declined_path() {
    let m = definition(KYC);
    let clock = ManualClock::new(0);
    let bus = RecordingBus::default();
    let input = json!({"customerName": "Mallory", "customerAddress": "1 Sanctioned Road"});
    let (e, _) = Execution::start(&m, info(), input, &clock, &bus);
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    let events = bus.events.borrow();
    assert_eq!(events[1].1["detail-type"], "New account declined");
    assert_eq!(events[1].1["detail"]["checksPassed"], false);
}

#[test]
fn the_retry_block_absorbs_a_failure_and_gives_up_after_two_retries() {
    let m = definition(KYC);
    let clock = ManualClock::new(0);
    let bus = RecordingBus::default();
    *bus.fail_next.borrow_mut() = 1;
    let (mut e, s) = Execution::start(&m, info(), requested(), &clock, &bus);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(1000)
        }
    );
    assert!(bus.events.borrow().is_empty());
    clock.advance(1000);
    assert_eq!(e.run(&m, &clock, &bus), RunState::Finished);
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    assert_eq!(bus.events.borrow().len(), 2);

    // Without Source every attempt fails: 1 s, then 2 s of backoff, then the execution fails
    // with the integration's error and the whole PutEvents response as the cause.
    let m = definition(&KYC.replace(
        ", \"Source\": \"com.example.kyc\"}]},\n      \"ResultPath\": null",
        "}]},\n      \"ResultPath\": null",
    ));
    let clock = ManualClock::new(0);
    let bus = RecordingBus::default();
    let (mut e, s) = Execution::start(&m, info(), requested(), &clock, &bus);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(1000)
        }
    );
    clock.set(1000);
    assert_eq!(
        e.run(&m, &clock, &bus),
        RunState::Waiting {
            wake_at_ms: Some(3000)
        }
    );
    clock.set(3000);
    assert_eq!(e.run(&m, &clock, &bus), RunState::Finished);
    assert_eq!(bus.calls.borrow().len(), 3);
    let err = e.error().unwrap();
    assert_eq!(err.error, "EventBridge.FailedEntry");
    let cause: Value = serde_json::from_str(&err.cause).unwrap();
    assert_eq!(cause["FailedEntryCount"], 1);
    assert_eq!(
        cause["Entries"][0]["ErrorMessage"],
        "Parameter Source is not valid. Reason: Source is a required argument."
    );
    assert_eq!(e.history().last().unwrap().event_type, "ExecutionFailed");
}

#[test]
fn wait_for_task_token_variant_completed_from_the_event_after_a_restart() {
    let def = KYC.replace(
        r#""Identity check completed": {
      "Comment": "Publish event when identity check has been completed",
      "Type": "Task",
      "Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Detail.$": "$","#,
        r#""Identity check completed": {
      "Comment": "Publish event when identity check has been completed, then wait for the risk team",
      "Type": "Task",
      "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
      "HeartbeatSeconds": 600,
      "Parameters": {"Entries": [{"Detail": {"customer.$": "$", "TaskToken.$": "$$.Task.Token"},"#,
    );
    assert_ne!(def, KYC);
    let m = definition(&def);
    let clock = ManualClock::new(0);
    let bus = RecordingBus::default();
    let (e, s) = Execution::start(&m, info(), requested(), &clock, &bus);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(600_000)
        }
    );
    let token = bus.events.borrow()[0].1["detail"]["TaskToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(e.pending_tokens(), std::slice::from_ref(&token));
    // A restart: the execution is persisted and loaded again.
    let saved = serde_json::to_vec(&e).unwrap();
    drop(e);
    let mut e: Execution = serde_json::from_slice(&saved).unwrap();
    clock.set(300_000);
    e.send_task_heartbeat(&token, clock.now_ms()).unwrap();
    assert_eq!(
        e.run(&m, &clock, &bus),
        RunState::Waiting {
            wake_at_ms: Some(900_000)
        }
    );
    e.send_task_success(&token, "{\"riskTeam\": \"ok\"}")
        .unwrap();
    assert_eq!(e.run(&m, &clock, &bus), RunState::Finished);
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    let t = types(&e);
    let i = t.iter().position(|x| x == "TaskSubmitted").unwrap();
    assert_eq!(t[i + 1], "TaskSucceeded");
    let submitted = e.history()[i].to_api_json();
    let out: Value = serde_json::from_str(
        submitted["taskSubmittedEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["FailedEntryCount"], 0);
    assert_eq!(
        bus.events.borrow()[1].1["detail-type"],
        "New account approved"
    );
}
