use super::*;
use serde_json::json;
use std::cell::RefCell;

type Script = Box<dyn Fn(&str, &Value, &TaskContext<'_>) -> TaskOutcome>;

/// Records every start and answers from a script.
struct Fake {
    calls: RefCell<Vec<(String, Value, Option<String>)>>,
    script: Script,
}

impl Fake {
    fn new(f: impl Fn(&str, &Value, &TaskContext<'_>) -> TaskOutcome + 'static) -> Fake {
        Fake {
            calls: RefCell::new(Vec::new()),
            script: Box::new(f),
        }
    }
    fn echo() -> Fake {
        Fake::new(|_, p, _| TaskOutcome::Succeeded(p.clone()))
    }
}

impl TaskExecutor for Fake {
    fn start(&self, resource: &str, parameters: &Value, context: &TaskContext<'_>) -> TaskOutcome {
        self.calls.borrow_mut().push((
            resource.to_string(),
            parameters.clone(),
            context.task_token.map(str::to_string),
        ));
        (self.script)(resource, parameters, context)
    }
}

fn info() -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:M:run-1".into(),
        name: "run-1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M".into(),
        state_machine_name: "M".into(),
        role_arn: "arn:aws:iam::123456789012:role/R".into(),
        region: "us-east-1".into(),
    }
}

fn machine(def: Value) -> StateMachine {
    StateMachine::from_value(&def).unwrap_or_else(|e| panic!("{e}"))
}

fn types(e: &Execution) -> Vec<&str> {
    e.history().iter().map(|h| &*h.event_type).collect()
}

const T0: u64 = 1_700_000_000_000;

fn run(def: Value, input: Value, ex: &Fake) -> (Execution, RunState, ManualClock) {
    let m = machine(def);
    let clock = ManualClock::new(T0);
    let (e, s) = Execution::start(&m, info(), input, &clock, ex);
    (e, s, clock)
}

#[test]
fn pass_chain_data_flow_and_history() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"},
        "B": {"Type": "Pass", "InputPath": "$.r", "Parameters": {"v.$": "$.x", "name.$": "$$.Execution.Name", "state.$": "$$.State.Name"}, "ResultPath": "$.p", "OutputPath": "$.p", "Next": "C"},
        "C": {"Type": "Pass", "ResultPath": null, "End": true}
    }});
    let (e, s, _) = run(def, json!({"in": true}), &Fake::echo());
    assert_eq!(s, RunState::Finished);
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        e.output(),
        Some(&json!({"v": 1, "name": "run-1", "state": "B"}))
    );
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, h) in e.history().iter().enumerate() {
        assert_eq!(h.id, i as u64 + 1);
        assert_eq!(h.previous_event_id, i as u64);
    }
    let api = e.history()[1].to_api_json();
    assert_eq!(api["stateEnteredEventDetails"]["name"], "A");
    assert_eq!(api["stateEnteredEventDetails"]["input"], "{\"in\":true}");
    assert_eq!(
        e.history()[2].to_api_json()["stateExitedEventDetails"]["output"],
        "{\"in\":true,\"r\":{\"x\":1}}"
    );
    assert_eq!(
        e.history()[7].to_api_json()["executionSucceededEventDetails"]["output"],
        "{\"v\":1,\"name\":\"run-1\",\"state\":\"B\"}"
    );
}

#[test]
fn input_path_failure_is_a_runtime_error_with_the_state_and_event() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.missing", "End": true}}});
    let (e, _, _) = run(def, json!({}), &Fake::echo());
    assert_eq!(e.status(), ExecutionStatus::Failed);
    let err = e.error().unwrap();
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(
        err.cause,
        "An error occurred while executing the state 'A' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']"
    );
    assert_eq!(
        types(&e),
        ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    );
}

#[test]
fn wait_states_follow_the_clock() {
    let m = machine(json!({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 10, "Next": "W2"},
        "W2": {"Type": "Wait", "SecondsPath": "$.s", "Next": "W3"},
        "W3": {"Type": "Wait", "TimestampPath": "$.t", "Next": "W4"},
        "W4": {"Type": "Wait", "Timestamp": "2023-11-14T22:15:00Z", "End": true}
    }}));
    let clock = ManualClock::new(T0); // 2023-11-14T22:13:20Z
    let ex = Fake::echo();
    let input = json!({"s": 5, "t": "2023-11-14T22:14:00Z"});
    let (mut e, s) = Execution::start(&m, info(), input.clone(), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 10_000)
        }
    );
    clock.advance(9_999);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 10_000)
        }
    );
    clock.advance(1);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 15_000)
        }
    );
    clock.set(T0 + 15_000);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 40_000)
        }
    );
    clock.set(T0 + 40_000);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 100_000)
        }
    );
    clock.set(T0 + 100_000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&input));
    assert_eq!(
        types(&e)
            .iter()
            .filter(|t| **t == "WaitStateEntered")
            .count(),
        4
    );
    assert_eq!(
        types(&e)
            .iter()
            .filter(|t| **t == "WaitStateExited")
            .count(),
        4
    );
}

#[test]
fn wait_seconds_path_must_be_a_non_negative_integer() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}});
    let (e, _, _) = run(def, json!({"s": "soon"}), &Fake::echo());
    assert_eq!(e.error().map(|e| e.error.as_str()), Some("States.Runtime"));
}

#[test]
fn task_parameters_result_selector_result_path() {
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$.body"},
        "ResultSelector": {"code.$": "$.StatusCode"}, "ResultPath": "$.res", "End": true}}});
    let ex = Fake::new(|_, _, _| TaskOutcome::Succeeded(json!({"StatusCode": 200, "Payload": {}})));
    let (e, _, _) = run(def, json!({"body": {"k": 1}}), &ex);
    assert_eq!(
        e.output(),
        Some(&json!({"body": {"k": 1}, "res": {"code": 200}}))
    );
    assert_eq!(
        ex.calls.borrow()[0].1,
        json!({"FunctionName": "f", "Payload": {"k": 1}})
    );
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let sched = &e.history()[2].details.to_json();
    assert_eq!(sched["resourceType"], "lambda");
    assert_eq!(sched["resource"], "invoke");
    assert_eq!(sched["region"], "us-east-1");
    assert_eq!(
        sched["parameters"],
        "{\"FunctionName\":\"f\",\"Payload\":{\"k\":1}}"
    );
    assert_eq!(
        e.history()[2].to_api_json()["taskScheduledEventDetails"]["resource"],
        "invoke"
    );
}

#[test]
fn retry_backs_off_then_fails() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2}]}}}));
    let clock = ManualClock::new(T0);
    let ex = Fake::new(|_, _, _| TaskOutcome::Failed {
        error: "EventBridge.FailedEntry".into(),
        cause: "{}".into(),
    });
    let (mut e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 1000)
        }
    );
    clock.advance(1000);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 3000)
        }
    );
    clock.advance(1999);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 3000)
        }
    );
    assert_eq!(ex.calls.borrow().len(), 2);
    clock.advance(1);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(ex.calls.borrow().len(), 3);
    assert_eq!(e.status(), ExecutionStatus::Failed);
    assert_eq!(
        e.error(),
        Some(&StatesError::new("EventBridge.FailedEntry", "{}"))
    );
    assert_eq!(types(&e).iter().filter(|t| **t == "TaskFailed").count(), 3);
    assert_eq!(
        types(&e)
            .iter()
            .filter(|t| **t == "TaskStateEntered")
            .count(),
        1
    );
}

#[test]
fn retry_max_delay_and_retry_count_in_context() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::x:y", "Parameters": {"n.$": "$$.State.RetryCount"}, "End": true,
        "Retry": [{"ErrorEquals": ["Other"], "MaxAttempts": 5}, {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxDelaySeconds": 20, "MaxAttempts": 3}]}}}));
    let clock = ManualClock::new(T0);
    let ex = Fake::new(|_, p, _| {
        if p["n"] == 3 {
            TaskOutcome::Succeeded(json!("ok"))
        } else {
            TaskOutcome::Failed {
                error: "Boom".into(),
                cause: "c".into(),
            }
        }
    });
    let (mut e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 10_000)
        }
    );
    clock.advance(10_000);
    // 10 × 3 = 30 s, capped at 20 s.
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 30_000)
        }
    );
    clock.advance(20_000);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 50_000)
        }
    );
    clock.advance(20_000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&json!("ok")));
    let counts: Vec<Value> = ex.calls.borrow().iter().map(|c| c.1["n"].clone()).collect();
    assert_eq!(counts, [json!(0), json!(1), json!(2), json!(3)]);
}

#[test]
fn jitter_full_stays_within_the_delay() {
    let m = machine(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true,
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 100, "JitterStrategy": "FULL"}]}}}));
    let clock = ManualClock::new(T0);
    let ex = Fake::new(|_, _, _| TaskOutcome::Failed {
        error: "Any".into(),
        cause: String::new(),
    });
    let (_, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    match s {
        RunState::Waiting {
            wake_at_ms: Some(w),
        } => assert!((T0..=T0 + 100_000).contains(&w)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn catch_writes_the_error_output_and_moves_on() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "Next": "Done",
              "Catch": [{"ErrorEquals": ["Nope"], "Next": "Done"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handler"}]},
        "Handler": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let ex = Fake::new(|_, _, _| TaskOutcome::Failed {
        error: "Custom.Error".into(),
        cause: "bad".into(),
    });
    let (e, _, _) = run(def, json!({"a": 1}), &ex);
    assert_eq!(
        e.output(),
        Some(&json!({"a": 1, "err": {"Error": "Custom.Error", "Cause": "bad"}}))
    );
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn runtime_errors_are_neither_retried_nor_caught() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "Parameters": {"v.$": "$.missing"}, "End": true,
              "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
        "H": {"Type": "Succeed"}
    }});
    let ex = Fake::echo();
    let (e, s, _) = run(def, json!({"other": 1}), &ex);
    assert_eq!(s, RunState::Finished);
    assert_eq!(e.error().unwrap().error, "States.Runtime");
    assert_eq!(
        e.error().unwrap().cause,
        "An error occurred while executing the state 'T' (entered at the event id #2). The JSONPath '$.missing' specified for the field 'v.$' could not be found in the input '{\"other\":1}'"
    );
    assert!(ex.calls.borrow().is_empty());
}

#[test]
fn result_path_failure_can_be_caught() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "ResultPath": "$.a.b", "Next": "H",
              "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "H"}]},
        "H": {"Type": "Succeed"}
    }});
    let (e, _, _) = run(def, json!({"a": "text"}), &Fake::echo());
    let out = e.output().unwrap();
    assert_eq!(out["Error"], "States.ResultPathMatchFailure");
    assert!(
        out["Cause"]
            .as_str()
            .unwrap()
            .contains("Unable to apply ReferencePath $.a.b to input '{\"a\":\"text\"}'")
    );
}

fn token_machine(extra: Value) -> StateMachine {
    let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
        "Parameters": {"Entries": [{"Detail": {"TaskToken.$": "$$.Task.Token"}, "DetailType": "d", "Source": "s"}]}, "End": true});
    if let (Some(t), Some(x)) = (task.as_object_mut(), extra.as_object()) {
        t.extend(x.clone());
    }
    machine(json!({"StartAt": "T", "States": {"T": task}}))
}

fn pending() -> Fake {
    Fake::new(|_, p, ctx| {
        assert_eq!(
            p["Entries"][0]["Detail"]["TaskToken"].as_str(),
            ctx.task_token
        );
        TaskOutcome::Pending {
            token: ctx.task_token.unwrap_or_default().to_string(),
            submitted: Some(json!({"Entries": [{"EventId": "e1"}], "FailedEntryCount": 0})),
        }
    })
}

#[test]
fn wait_for_task_token_success_survives_serialization() {
    let m = token_machine(json!({}));
    let clock = ManualClock::new(T0);
    let ex = pending();
    let (e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(s, RunState::Waiting { wake_at_ms: None });
    let token = e.pending_tokens().pop().unwrap();
    assert_eq!(ex.calls.borrow()[0].2.as_deref(), Some(token.as_str()));
    // Persist and resume, as after a restart.
    let saved = serde_json::to_string(&e).unwrap();
    let mut e: Execution = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        e.send_task_success("nope", "{}"),
        Err(TokenError::TaskDoesNotExist)
    );
    assert!(matches!(
        e.send_task_success(&token, "{bad"),
        Err(TokenError::InvalidOutput(_))
    ));
    e.send_task_success(&token, "{\"approved\":true}").unwrap();
    assert_eq!(
        e.send_task_success(&token, "{}"),
        Err(TokenError::TaskDoesNotExist)
    );
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&json!({"approved": true})));
    assert_eq!(
        types(&e),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        e.send_task_success(&token, "{}"),
        Err(TokenError::TaskDoesNotExist)
    );
}

#[test]
fn wait_for_task_token_failure() {
    let m = token_machine(json!({}));
    let clock = ManualClock::new(T0);
    let ex = pending();
    let (mut e, _) = Execution::start(&m, info(), json!({}), &clock, &ex);
    let token = e.pending_tokens().pop().unwrap();
    e.send_task_failure(&token, "Declined", "risk too high")
        .unwrap();
    e.run(&m, &clock, &ex);
    assert_eq!(e.status(), ExecutionStatus::Failed);
    assert_eq!(
        e.error(),
        Some(&StatesError::new("Declined", "risk too high"))
    );
}

#[test]
fn task_timeout_and_heartbeat_timeout() {
    let m = token_machine(json!({"TimeoutSeconds": 60}));
    let clock = ManualClock::new(T0);
    let ex = pending();
    let (mut e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 60_000)
        }
    );
    assert_eq!(e.history()[2].details.to_json()["timeoutInSeconds"], 60);
    clock.advance(60_000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.error().unwrap().error, "States.Timeout");
    assert!(types(&e).contains(&"TaskTimedOut"));

    let m = token_machine(json!({"TimeoutSeconds": 60, "HeartbeatSeconds": 10}));
    let clock = ManualClock::new(T0);
    let (mut e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 10_000)
        }
    );
    let token = e.pending_tokens().pop().unwrap();
    clock.advance(8_000);
    e.send_task_heartbeat(&token, clock.now_ms()).unwrap();
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 18_000)
        }
    );
    clock.advance(10_000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.error().unwrap().error, "States.HeartbeatTimeout");
}

#[test]
fn timeout_seconds_path() {
    let m = token_machine(json!({"TimeoutSecondsPath": "$.limit"}));
    let clock = ManualClock::new(T0);
    let (_, s) = Execution::start(&m, info(), json!({"limit": 7}), &clock, &pending());
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 7_000)
        }
    );
}

#[test]
fn choice_rules_default_and_no_match() {
    let def = |default: bool| {
        let c = json!({"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.s", "IsPresent": true}, {"Variable": "$.s", "StringMatches": "ok*"}], "Next": "Ok"}
        ]});
        let mut d = json!({"StartAt": "C", "States": {"C": c,
            "Big": {"Type": "Pass", "Result": "big", "End": true},
            "Ok": {"Type": "Pass", "Result": "ok", "End": true}}});
        if default {
            d["States"]["C"]["Default"] = json!("Other");
            d["States"]["Other"] = json!({"Type": "Pass", "Result": "other", "End": true});
        }
        d
    };
    let ex = Fake::echo();
    assert_eq!(
        run(def(true), json!({"n": 11}), &ex).0.output(),
        Some(&json!("big"))
    );
    assert_eq!(
        run(def(true), json!({"n": 1, "s": "okay"}), &ex).0.output(),
        Some(&json!("ok"))
    );
    assert_eq!(
        run(def(true), json!({"n": 1}), &ex).0.output(),
        Some(&json!("other"))
    );
    let (e, _, _) = run(def(false), json!({"n": 1}), &ex);
    assert_eq!(e.error().unwrap().error, "States.NoChoiceMatched");
    assert_eq!(
        types(&run(def(true), json!({"n": 11}), &ex).0)[1..3],
        ["ChoiceStateEntered", "ChoiceStateExited"]
    );
}

#[test]
fn fail_state_error_and_cause() {
    let def = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('because {}', $.c)"}}});
    let (e, _, _) = run(
        def,
        json!({"e": "StudentDeletionFailed", "c": "boom"}),
        &Fake::echo(),
    );
    assert_eq!(
        e.error(),
        Some(&StatesError::new("StudentDeletionFailed", "because boom"))
    );
    assert_eq!(
        types(&e),
        ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(
        e.history()[2].to_api_json()["executionFailedEventDetails"],
        json!({"error": "StudentDeletionFailed", "cause": "because boom"})
    );
    let def = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "422", "Cause": "Unable"}}});
    assert_eq!(
        run(def, json!({}), &Fake::echo()).0.error(),
        Some(&StatesError::new("422", "Unable"))
    );
}

#[test]
fn parallel_results_in_branch_order_and_failure() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"},
    "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "A"}, "A": {"Type": "Pass", "Result": "a", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.v", "End": true}}}
    ]}}});
    let m = machine(def);
    let clock = ManualClock::new(T0);
    let ex = Fake::echo();
    let (mut e, s) = Execution::start(&m, info(), json!({"v": 2}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 5000)
        }
    );
    clock.advance(5000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&json!({"first": "a", "second": 2})));
    let t = types(&e);
    assert_eq!(
        t[..3],
        [
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted"
        ]
    );
    assert_eq!(
        t[t.len() - 3..],
        [
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );

    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Ok", "Catch": [{"ErrorEquals": ["Branch.Boom"], "Next": "Caught"}],
            "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}},
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Boom", "Cause": "x"}}}
            ]},
        "Ok": {"Type": "Succeed"},
        "Caught": {"Type": "Pass", "End": true}}});
    let (e, s, _) = run(def, json!({}), &ex);
    assert_eq!(s, RunState::Finished);
    assert_eq!(
        e.output(),
        Some(&json!({"Error": "Branch.Boom", "Cause": "x"}))
    );
    let t = types(&e);
    assert!(t.contains(&"WaitStateAborted"), "{t:?}");
    assert!(t.contains(&"ParallelStateFailed"));
}

#[test]
fn map_items_selector_concurrency_and_order() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": true,
        "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.value", "Next": "T"}, "T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true}}}}}});
    let m = machine(def);
    let clock = ManualClock::new(T0);
    let ex = Fake::new(|_, p, _| {
        TaskOutcome::Succeeded(json!(format!(
            "{}-{}",
            p["tag"].as_str().unwrap_or(""),
            p["index"]
        )))
    });
    let (mut e, s) = Execution::start(
        &m,
        info(),
        json!({"items": [3, 1, 2], "tag": "t"}),
        &clock,
        &ex,
    );
    // Two iterations at a time: items 0 (3 s) and 1 (1 s) start; item 2 starts when item 1 ends.
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 1000)
        }
    );
    clock.advance(1000);
    assert_eq!(
        e.run(&m, &clock, &ex),
        RunState::Waiting {
            wake_at_ms: Some(T0 + 3000)
        }
    );
    clock.advance(2000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&json!(["t-0", "t-1", "t-2"])));
    let t = types(&e);
    assert_eq!(t.iter().filter(|x| **x == "MapIterationStarted").count(), 3);
    assert_eq!(
        t.iter().filter(|x| **x == "MapIterationSucceeded").count(),
        3
    );
    assert_eq!(e.history()[2].event_type, "MapStateStarted");
    assert_eq!(
        e.history()[2].to_api_json()["mapStateStartedEventDetails"]["length"],
        3
    );
}

#[test]
fn map_failure_and_tolerated_failures() {
    let proc_ = json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "C", "States": {"C": {"Type": "Choice",
        "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "F"}], "Default": "P"},
        "F": {"Type": "Fail", "Error": "TooBig"}, "P": {"Type": "Pass", "End": true}}});
    let def = |tol: Value| {
        let mut m = json!({"Type": "Map", "End": true, "ItemProcessor": proc_.clone()});
        if let (Some(o), Some(t)) = (m.as_object_mut(), tol.as_object()) {
            o.extend(t.clone());
        }
        json!({"StartAt": "M", "States": {"M": m}})
    };
    let ex = Fake::echo();
    let (e, _, _) = run(def(json!({})), json!([1, 3, 2]), &ex);
    assert_eq!(e.error().unwrap().error, "TooBig");
    assert!(types(&e).contains(&"MapStateFailed"));
    let (e, _, _) = run(
        def(json!({"ToleratedFailureCount": 1})),
        json!([1, 3, 2]),
        &ex,
    );
    assert_eq!(
        e.output(),
        Some(&json!([1, {"Error": "TooBig", "Cause": ""}, 2]))
    );
    let (e, _, _) = run(
        def(json!({"ToleratedFailureCount": 1})),
        json!([5, 3, 2]),
        &ex,
    );
    assert_eq!(
        e.error().unwrap().error,
        "States.ExceedToleratedFailureThreshold"
    );
    let (e, _, _) = run(
        def(json!({"ToleratedFailurePercentage": 50})),
        json!([5, 3, 2, 1]),
        &ex,
    );
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    let (e, _, _) = run(
        def(json!({"ToleratedFailurePercentage": 49})),
        json!([5, 3, 2, 1]),
        &ex,
    );
    assert_eq!(
        e.error().unwrap().error,
        "States.ExceedToleratedFailureThreshold"
    );
}

#[test]
fn map_item_batcher_and_legacy_iterator() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"k.$": "$.k"}}, "ItemsPath": "$.xs",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let (e, _, _) = run(def, json!({"xs": [1, 2, 3], "k": "v"}), &Fake::echo());
    assert_eq!(
        e.output(),
        Some(
            &json!([{"BatchInput": {"k": "v"}, "Items": [1, 2]}, {"BatchInput": {"k": "v"}, "Items": [3]}])
        )
    );
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "Parameters": {"i.$": "$$.Map.Item.Index"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let (e, _, _) = run(def, json!(["a", "b"]), &Fake::echo());
    assert_eq!(e.output(), Some(&json!([{"i": 0}, {"i": 1}])));
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.x",
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    assert_eq!(
        run(def, json!({"x": 1}), &Fake::echo())
            .0
            .error()
            .unwrap()
            .error,
        "States.Runtime"
    );
}

#[test]
fn execution_timeout_and_stop() {
    let m = machine(
        json!({"TimeoutSeconds": 30, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}),
    );
    let clock = ManualClock::new(T0);
    let ex = Fake::echo();
    let (mut e, s) = Execution::start(&m, info(), json!({}), &clock, &ex);
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 30_000)
        }
    );
    clock.advance(30_000);
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        types(&e)[types(&e).len() - 2..],
        ["WaitStateAborted", "ExecutionTimedOut"]
    );

    let (mut e, _) = Execution::start(&m, info(), json!({}), &clock, &ex);
    e.stop(&m, &clock, &ex, Some("User"), Some("enough"));
    assert_eq!(e.status(), ExecutionStatus::Aborted);
    assert_eq!(
        e.history().last().unwrap().to_api_json()["executionAbortedEventDetails"],
        json!({"error": "User", "cause": "enough"})
    );
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
}

#[test]
fn large_task_results_exceed_the_data_limit() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]}, "H": {"Type": "Succeed"}}});
    let ex = Fake::new(|_, _, _| TaskOutcome::Succeeded(json!("x".repeat(MAX_PAYLOAD_BYTES))));
    let (e, _, _) = run(def, json!({}), &ex);
    // States.ALL does not catch States.DataLimitExceeded.
    assert_eq!(e.error().unwrap().error, "States.DataLimitExceeded");
}

#[test]
fn resource_parts_as_history_writes_them() {
    assert_eq!(
        resource_parts("arn:aws:states:::events:putEvents.waitForTaskToken"),
        ("events".into(), "putEvents.waitForTaskToken".into())
    );
    assert_eq!(
        resource_parts("arn:aws:states:::aws-sdk:s3:listBuckets"),
        ("aws-sdk:s3".into(), "listBuckets".into())
    );
    assert_eq!(
        resource_parts("arn:aws:states:us-east-1:1:activity:work"),
        (
            "activity".into(),
            "arn:aws:states:us-east-1:1:activity:work".into()
        )
    );
}

#[test]
fn context_object_fields() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Parameters": {
        "in.$": "$$.Execution.Input", "start.$": "$$.Execution.StartTime", "id.$": "$$.Execution.Id", "role.$": "$$.Execution.RoleArn",
        "sm.$": "$$.StateMachine.Name", "smid.$": "$$.StateMachine.Id", "entered.$": "$$.State.EnteredTime", "retries.$": "$$.State.RetryCount"}}}});
    let (e, _, _) = run(def, json!({"k": [1]}), &Fake::echo());
    assert_eq!(
        e.output(),
        Some(
            &json!({"in": {"k": [1]}, "start": "2023-11-14T22:13:20.000Z", "id": info().execution_arn, "role": info().role_arn,
                     "sm": "M", "smid": info().state_machine_arn, "entered": "2023-11-14T22:13:20.000Z", "retries": 0})
        )
    );
    // The whole context object, through InputPath.
    let def =
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "InputPath": "$$"}}});
    let (e, _, _) = run(def, json!({"k": 1}), &Fake::echo());
    assert_eq!(e.output().unwrap()["Execution"]["Input"], json!({"k": 1}));
    assert_eq!(e.output().unwrap()["State"]["Name"], "A");
}

#[test]
fn huge_seconds_from_the_input_do_not_overflow() {
    let m = machine(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}),
    );
    let clock = ManualClock::new(T0);
    let (_, s) = Execution::start(&m, info(), json!({"s": u64::MAX}), &clock, &Fake::echo());
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(u64::MAX)
        }
    );
    let m = token_machine(json!({"TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.t"}));
    let (_, s) = Execution::start(&m, info(), json!({"t": 1.0e300}), &clock, &pending());
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(u64::MAX)
        }
    );
}

#[test]
fn describe_and_status_change() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "F"}, "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}});
    let m = machine(def);
    let clock = ManualClock::new(T0);
    let ex = Fake::echo();
    let (mut e, _) = Execution::start(&m, info(), json!({"a": 1}), &clock, &ex);
    let d = e.describe();
    assert_eq!(d["status"], "RUNNING");
    assert_eq!(d["input"], "{\"a\":1}");
    assert_eq!(d["startDate"], json!(1_700_000_000.0));
    assert!(d.get("stopDate").is_none());
    assert_eq!(e.status_change_detail()["status"], "RUNNING");
    clock.advance(2000);
    e.run(&m, &clock, &ex);
    let d = e.describe();
    assert_eq!(
        (
            d["status"].as_str(),
            d["error"].as_str(),
            d["cause"].as_str()
        ),
        (Some("FAILED"), Some("E"), Some("C"))
    );
    assert_eq!(d["stopDate"], json!(1_700_000_002.0));
    let s = e.status_change_detail();
    assert_eq!(
        (
            s["status"].as_str(),
            s["stopDate"].as_u64(),
            s["output"].is_null()
        ),
        (Some("FAILED"), Some(T0 + 2000), true)
    );
}
