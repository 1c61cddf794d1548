//! Executions of JSONata states and workflow variables (both query languages), end to end
//! through the public API.

use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Execution, ExecutionInfo, ExecutionStatus, ManualClock, RunState, TaskContext, TaskExecutor,
    TaskOutcome,
};
use serde_json::{Value, json};
use std::cell::RefCell;

type Script = Box<dyn Fn(&str, &Value) -> TaskOutcome>;

/// Records every task start (resource, parameters, token) and answers from a script.
struct Fake {
    calls: RefCell<Vec<(String, Value, Option<String>)>>,
    script: Script,
}

impl Fake {
    fn new(f: impl Fn(&str, &Value) -> TaskOutcome + 'static) -> Fake {
        Fake {
            calls: RefCell::new(Vec::new()),
            script: Box::new(f),
        }
    }
    fn echo() -> Fake {
        Fake::new(|_, p| TaskOutcome::Succeeded(p.clone()))
    }
}

impl TaskExecutor for Fake {
    fn start(&self, resource: &str, parameters: &Value, ctx: &TaskContext<'_>) -> TaskOutcome {
        self.calls.borrow_mut().push((
            resource.to_string(),
            parameters.clone(),
            ctx.task_token.map(str::to_string),
        ));
        (self.script)(resource, parameters)
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

const T0: u64 = 1_700_000_000_000;

fn run_with(
    def: Value,
    input: Value,
    ex: &Fake,
) -> (Execution, RunState, ManualClock, StateMachine) {
    let m = StateMachine::from_value(&def).unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::new(T0);
    let (e, s) = Execution::start(&m, info(), input, &clock, ex);
    (e, s, clock, m)
}

fn run(def: Value, input: Value) -> Execution {
    let (e, s, _, _) = run_with(def, input, &Fake::echo());
    assert_eq!(s, RunState::Finished, "{:?}", e.history());
    e
}

fn exited_vars(e: &Execution, state: &str) -> Option<Value> {
    e.history()
        .iter()
        .find(|h| h.event_type.ends_with("StateExited") && h.details.name() == Some(state))
        .and_then(|h| h.details.to_json().get("assignedVariables").cloned())
}

#[test]
fn task_arguments_output_and_assign() {
    let ex = Fake::new(|_, p| {
        TaskOutcome::Succeeded(json!({"Payload": {"price": p["qty"].as_i64().unwrap_or(0) * 10}}))
    });
    let (e, s, _, _) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "Get", "States": {
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "f", "qty": "{% $states.input.order.qty %}", "name": "{% $states.context.Execution.Name %}"},
                "Assign": {"price": "{% $states.result.Payload.price %}", "seen": "{% $exists($price) %}"},
                "Output": {"price": "{% $states.result.Payload.price %}", "before": "{% $exists($price) %}"},
                "Next": "Use"},
            "Use": {"Type": "Pass", "Output": {"total": "{% $price + 1 %}", "seen": "{% $seen %}", "in": "{% $states.input %}"}, "End": true}
        }}),
        json!({"order": {"qty": 3}}),
        &ex,
    );
    assert_eq!(s, RunState::Finished);
    assert_eq!(
        ex.calls.borrow()[0].1,
        json!({"FunctionName": "f", "qty": 3, "name": "run-1"})
    );
    // Assign and Output of one state both see the variables as they were at entry.
    assert_eq!(
        e.output(),
        Some(&json!({"total": 31, "seen": false, "in": {"price": 30, "before": false}}))
    );
    assert_eq!(
        exited_vars(&e, "Get"),
        Some(json!({"price": "30", "seen": "false"}))
    );
    let ev = e
        .history()
        .iter()
        .find(|h| h.event_type == "TaskStateExited")
        .unwrap();
    assert_eq!(
        ev.details.to_json()["assignedVariablesDetails"],
        json!({"truncated": false})
    );
}

#[test]
fn pass_output_defaults_and_literals() {
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Output": [1, "{% $states.input.x * 2 %}", "$.x"], "Next": "C"},
            "C": {"Type": "Succeed", "Output": "{% $states.input[1] %}"}
        }}),
        json!({"x": 21}),
    );
    assert_eq!(e.output(), Some(&json!(42)));
}

#[test]
fn choice_conditions_with_rule_assign_and_output() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Assign": {"size": "big"}, "Output": {"n": "{% $states.input.n %}", "rule": 1}},
                {"Condition": false, "Next": "Big"}
            ],
            "Default": "Small", "Assign": {"size": "small"}, "Output": {"default": true}},
        "Big": {"Type": "Pass", "Output": {"size": "{% $size %}", "in": "{% $states.input %}"}, "End": true},
        "Small": {"Type": "Pass", "Output": {"size": "{% $size %}", "in": "{% $states.input %}"}, "End": true}
    }});
    let e = run(def.clone(), json!({"n": 11}));
    assert_eq!(
        e.output(),
        Some(&json!({"size": "big", "in": {"n": 11, "rule": 1}}))
    );
    let e = run(def, json!({"n": 1}));
    assert_eq!(
        e.output(),
        Some(&json!({"size": "small", "in": {"default": true}}))
    );
    // A condition that is not a boolean fails the execution.
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}}}),
        json!({"n": 5}),
    );
    assert_eq!(e.status(), ExecutionStatus::Failed);
    let err = e.error().unwrap();
    assert_eq!(err.error, "States.QueryEvaluationError");
    assert!(
        err.cause
            .ends_with("The field 'Choices[0]/Condition' must evaluate to a boolean, not 5"),
        "{}",
        err.cause
    );
}

#[test]
fn map_items_selector_and_variable_scopes() {
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"factor": 10, "outer": "kept"}, "Next": "M"},
            "M": {"Type": "Map", "Items": "{% $states.input.list %}",
                "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
                "ItemProcessor": {"StartAt": "Mul", "States": {
                    "Mul": {"Type": "Pass", "Assign": {"outer": "changed inside"}, "Output": "{% $states.input.v * $factor + $states.input.i %}", "Next": "Read"},
                    "Read": {"Type": "Pass", "Output": {"r": "{% $states.input %}", "outer": "{% $outer %}"}, "End": true}
                }},
                "Next": "After"},
            "After": {"Type": "Pass", "Output": {"results": "{% $states.input %}", "outer": "{% $outer %}"}, "End": true}
        }}),
        json!({"list": [1, 2, 3]}),
    );
    assert_eq!(
        e.output(),
        Some(&json!({"results": [
            {"r": 10, "outer": "changed inside"},
            {"r": 21, "outer": "changed inside"},
            {"r": 32, "outer": "changed inside"}
        ], "outer": "kept"}))
    );
    // Items must be an array.
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "Items": "{% $states.input.list %}", "End": true,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
        json!({"list": {"a": 1}}),
    );
    assert_eq!(e.error().unwrap().error, "States.QueryEvaluationError");
}

#[test]
fn parallel_branches_read_outer_variables_and_keep_their_own() {
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
            "P": {"Type": "Parallel", "Arguments": {"base": "{% $x + 1 %}"},
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 100, "mine": "a"}, "Next": "A2"},
                        "A2": {"Type": "Pass", "Output": "{% $states.input.base + $x %}", "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% $states.input.base + $x %}", "End": true}}}
                ],
                "Assign": {"sum": "{% $sum($states.result) %}"},
                "Next": "Done"},
            "Done": {"Type": "Pass", "Output": {"sum": "{% $sum %}", "x": "{% $x %}", "mine": "{% $exists($mine) %}"}, "End": true}
        }}),
        json!({}),
    );
    assert_eq!(
        e.output(),
        Some(&json!({"sum": 105, "x": 1, "mine": false}))
    );
}

#[test]
fn catch_output_and_assign_see_the_error_output() {
    let ex = Fake::new(|_, _| TaskOutcome::Failed {
        error: "Oops".into(),
        cause: "it broke".into(),
    });
    let (e, _, _, _) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H",
                    "Assign": {"lastError": "{% $states.errorOutput.Error %}"},
                    "Output": {"why": "{% $states.errorOutput.Cause %}", "in": "{% $states.input %}"}}],
                "End": true},
            "H": {"Type": "Pass", "Output": {"e": "{% $lastError %}", "in": "{% $states.input %}"}, "End": true}
        }}),
        json!({"k": 1}),
        &ex,
    );
    assert_eq!(
        e.output(),
        Some(&json!({"e": "Oops", "in": {"why": "it broke", "in": {"k": 1}}}))
    );
    assert_eq!(exited_vars(&e, "T"), Some(json!({"lastError": "\"Oops\""})));
}

#[test]
fn query_evaluation_errors_fail_and_can_be_caught() {
    // An Arguments expression without a value.
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": "{% $states.input.nothing %}", "End": true}}}),
        json!({}),
    );
    assert_eq!(e.status(), ExecutionStatus::Failed);
    let err = e.error().unwrap();
    assert_eq!(err.error, "States.QueryEvaluationError");
    assert!(
        err.cause.starts_with(
            "An error occurred while executing the state 'T' (entered at the event id #2)."
        ),
        "{}",
        err.cause
    );
    // A catcher for States.ALL catches it.
    let e = run(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": "{% 1 + 'a' %}", "End": true,
                "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "H"}]},
            "H": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}}}),
        json!({}),
    );
    assert_eq!(e.output(), Some(&json!("States.QueryEvaluationError")));
    // A catcher's Output names its own field.
    let ex = Fake::new(|_, _| TaskOutcome::Failed {
        error: "E".into(),
        cause: "c".into(),
    });
    let (e, _, _, _) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                "Catch": [{"ErrorEquals": ["X"], "Next": "H"}, {"ErrorEquals": ["States.ALL"], "Next": "H", "Output": {"v": "{% $states.errorOutput.Nope %}"}}]},
            "H": {"Type": "Succeed"}}}),
        json!({}),
        &ex,
    );
    assert!(
        e.error().unwrap().cause.ends_with(
            "The JSONata expression '$states.errorOutput.Nope' specified for the field 'Catch[1]/Output/v' returned nothing (undefined)."
        ),
        "{:?}",
        e.error()
    );
}

#[test]
fn wait_and_fail_take_expressions() {
    let (mut e, s, clock, m) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": "{% $states.input.delay * 2 %}", "Next": "F"},
            "F": {"Type": "Fail", "Error": "{% 'Late.' & $states.input.delay %}", "Cause": "{% $string($states.input) %}"}
        }}),
        json!({"delay": 5}),
        &Fake::echo(),
    );
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 10_000)
        }
    );
    clock.advance(10_000);
    assert_eq!(e.run(&m, &clock, &Fake::echo()), RunState::Finished);
    let err = e.error().unwrap();
    assert_eq!(
        (err.error.as_str(), err.cause.as_str()),
        ("Late.5", "{\"delay\":5}")
    );
}

#[test]
fn task_token_and_timeout_expressions() {
    let ex = Fake::new(|_, p| TaskOutcome::Pending {
        token: p["token"].as_str().unwrap_or_default().to_string(),
        submitted: None,
    });
    let (mut e, s, clock, m) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
                "Arguments": {"token": "{% $states.context.Task.Token %}"},
                "TimeoutSeconds": "{% $states.input.t %}", "End": true}}}),
        json!({"t": 60}),
        &ex,
    );
    assert_eq!(
        s,
        RunState::Waiting {
            wake_at_ms: Some(T0 + 60_000)
        }
    );
    let token = ex.calls.borrow()[0].2.clone().unwrap();
    assert_eq!(ex.calls.borrow()[0].1["token"], json!(token));
    e.send_task_success(&token, "{\"ok\": true}").unwrap();
    assert_eq!(e.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(e.output(), Some(&json!({"ok": true})));
}

#[test]
fn jsonata_state_in_a_jsonpath_machine() {
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "B"},
            "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"doubled": "{% $states.input.v * 2 %}"}, "End": true}
        }}),
        json!({"x": 4}),
    );
    assert_eq!(e.output(), Some(&json!({"doubled": 8})));
}

#[test]
fn jsonpath_variables() {
    let ex = Fake::new(|_, p| TaskOutcome::Succeeded(json!({"Payload": {"id": 7, "echo": p}})));
    let (e, s, _, _) = run_with(
        json!({"StartAt": "Get", "States": {
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"a": 1},
                "ResultSelector": {"id.$": "$.Payload.id"},
                "Assign": {"id.$": "$.id", "literal": "x", "exec.$": "$$.Execution.Name"},
                "ResultPath": null, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$id", "NumericEquals": 7, "Next": "Use", "Assign": {"matched.$": "States.Format('id {}', $id)"}}],
                "Default": "Use"},
            "Use": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"id.$": "$id", "m.$": "$matched", "lit.$": "$literal", "e.$": "$exec", "in.$": "$"},
                "OutputPath": "$.Payload.echo", "End": true}
        }}),
        json!({"k": 1}),
        &ex,
    );
    assert_eq!(s, RunState::Finished, "{:?}", e.history());
    assert_eq!(
        e.output(),
        Some(&json!({"id": 7, "m": "id 7", "lit": "x", "e": "run-1", "in": {"k": 1}}))
    );
    // `$$` never shows the variables.
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true}}}),
        json!({}),
    );
    let ctx = &e.output().unwrap()["ctx"];
    assert!(ctx.get("Execution").is_some());
    assert_eq!(ctx.as_object().unwrap().len(), 3, "{ctx}");
    // An unknown variable fails like a missing path.
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Parameters": {"y.$": "$nope"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(e.error().unwrap().error, "States.Runtime");
}

#[test]
fn jsonpath_assign_in_a_catcher_and_a_wait() {
    let ex = Fake::new(|_, _| TaskOutcome::Failed {
        error: "E".into(),
        cause: "c".into(),
    });
    let (e, _, _, _) = run_with(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "W", "ResultPath": "$.err", "Assign": {"why.$": "$.Cause"}}]},
            "W": {"Type": "Wait", "Seconds": 0, "Assign": {"waited.$": "$.err.Error"}, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"why.$": "$why", "waited.$": "$waited"}, "End": true}
        }}),
        json!({}),
        &ex,
    );
    assert_eq!(e.output(), Some(&json!({"why": "c", "waited": "E"})));
}

#[test]
fn variable_size_limits() {
    let big = "x".repeat(300_000);
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"big.$": "$.s"}, "End": true}}}),
        json!({"s": big}),
    );
    let err = e.error().unwrap();
    assert_eq!(err.error, "States.DataLimitExceeded");
    assert!(err.cause.contains("'big'"), "{}", err.cause);
    // Two values under the limit each, over it together.
    let half = "x".repeat(140_000);
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}}),
        json!({"s": half}),
    );
    assert_eq!(e.error().unwrap().error, "States.DataLimitExceeded");
}

#[test]
fn variables_survive_a_serialization_round_trip() {
    let ex = Fake::new(|_, _| TaskOutcome::Pending {
        token: "tok".into(),
        submitted: None,
    });
    let (e, s, clock, m) = run_with(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"who": "{% $states.input.name %}"}, "Next": "T"},
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Arguments": {}, "Next": "B"},
            "B": {"Type": "Pass", "Output": {"who": "{% $who %}", "got": "{% $states.input %}"}, "End": true}
        }}),
        json!({"name": "Nikki"}),
        &ex,
    );
    assert_eq!(s, RunState::Waiting { wake_at_ms: None });
    let text = serde_json::to_string(&e).unwrap();
    let mut back: Execution = serde_json::from_str(&text).unwrap();
    back.send_task_success("tok", "5").unwrap();
    assert_eq!(back.run(&m, &clock, &ex), RunState::Finished);
    assert_eq!(back.output(), Some(&json!({"who": "Nikki", "got": 5})));
}
