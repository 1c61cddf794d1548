use super::*;
use serde_json::json;

struct Echo;
impl TaskExecutor for Echo {
    fn start(&self, _: &str, p: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        TaskOutcome::Succeeded(json!({"Payload": p}))
    }
}

struct Boom;
impl TaskExecutor for Boom {
    fn start(&self, _: &str, _: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        TaskOutcome::Failed {
            error: "Lambda.ServiceException".into(),
            cause: "down".into(),
        }
    }
}

fn req<'a>(def: &'a str, input: &'a str, level: InspectionLevel) -> TestStateRequest<'a> {
    TestStateRequest {
        definition: def,
        input: Some(input),
        inspection_level: level,
        region: "us-east-1",
        role_arn: Some("arn:aws:iam::111122223333:role/R"),
        ..TestStateRequest::default()
    }
}

fn parse(v: &Value, key: &str) -> Value {
    serde_json::from_str(v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))).unwrap()
}

#[test]
fn jsonpath_task_with_every_step_inspected() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.order", "Parameters": {"id.$": "$.id", "exec.$": "$$.Execution.Id"},
        "ResultSelector": {"got.$": "$.Payload.id"}, "ResultPath": "$.r", "OutputPath": "$.r", "Next": "Ship"})
    .to_string();
    let out = test_state(
        &req(&def, r#"{"order": {"id": 7}}"#, InspectionLevel::Debug),
        &Echo,
    )
    .unwrap();
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(out["nextState"], "Ship");
    assert_eq!(parse(&out, "output"), json!({"got": 7}));
    let d = &out["inspectionData"];
    assert_eq!(parse(d, "input"), json!({"order": {"id": 7}}));
    assert_eq!(parse(d, "afterInputPath"), json!({"id": 7}));
    assert_eq!(
        parse(d, "afterParameters"),
        json!({"id": 7, "exec": "arn:aws:states:us-east-1:111122223333:execution:TestStateMachine:test-state"})
    );
    assert_eq!(parse(d, "result")["Payload"]["id"], json!(7));
    assert_eq!(parse(d, "afterResultSelector"), json!({"got": 7}));
    assert_eq!(
        parse(d, "afterResultPath"),
        json!({"order": {"id": 7}, "r": {"got": 7}})
    );
    // INFO: no inspection data.
    let out = test_state(
        &req(&def, r#"{"order": {"id": 7}}"#, InspectionLevel::Info),
        &Echo,
    )
    .unwrap();
    assert!(out.get("inspectionData").is_none());
}

#[test]
fn jsonata_task_with_variables() {
    let def = json!({"QueryLanguage": "JSONata", "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"who": "{% $name %}", "n": "{% $states.input.n %}"},
        "Assign": {"last": "{% $states.result.Payload.n %}"},
        "Output": "{% $states.result.Payload %}", "End": true})
    .to_string();
    let mut r = req(&def, r#"{"n": 2}"#, InspectionLevel::Trace);
    r.variables = Some(r#"{"name": "Nikki"}"#);
    let out = test_state(&r, &Echo).unwrap();
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    assert!(out.get("nextState").is_none());
    assert_eq!(parse(&out, "output"), json!({"who": "Nikki", "n": 2}));
    let d = &out["inspectionData"];
    assert_eq!(parse(d, "afterArguments"), json!({"who": "Nikki", "n": 2}));
    assert_eq!(parse(d, "variables"), json!({"name": "Nikki", "last": 2}));
}

#[test]
fn jsonpath_state_reads_given_variables() {
    let def = json!({"Type": "Pass", "Parameters": {"who.$": "$name", "n.$": "$.n"}, "End": true})
        .to_string();
    let mut r = req(&def, r#"{"n": 2}"#, InspectionLevel::Debug);
    r.variables = Some(r#"{"name": "Nikki"}"#);
    let out = test_state(&r, &Echo).unwrap();
    assert_eq!(parse(&out, "output"), json!({"who": "Nikki", "n": 2}));
    assert_eq!(
        parse(&out["inspectionData"], "afterParameters"),
        json!({"who": "Nikki", "n": 2})
    );
    assert_eq!(
        parse(&out["inspectionData"], "variables"),
        json!({"name": "Nikki"})
    );
}

#[test]
fn retriable_caught_and_failed() {
    let retry = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Retry": [{"ErrorEquals": ["States.Timeout"]}, {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "BackoffRate": 2.0}]})
    .to_string();
    let mut r = req(&retry, "{}", InspectionLevel::Debug);
    r.retrier_retry_count = 2;
    let out = test_state(&r, &Boom).unwrap();
    assert_eq!(out["status"], "RETRIABLE");
    assert_eq!(out["error"], "Lambda.ServiceException");
    assert_eq!(
        out["inspectionData"]["errorDetails"],
        json!({"retryIndex": 1, "retryBackoffIntervalSeconds": 12})
    );

    let caught = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Catch": [{"ErrorEquals": ["Other"], "Next": "X"}, {"ErrorEquals": ["States.ALL"], "Next": "Handle", "ResultPath": "$.err"}]})
    .to_string();
    let out = test_state(&req(&caught, r#"{"a": 1}"#, InspectionLevel::Debug), &Boom).unwrap();
    assert_eq!(out["status"], "CAUGHT_ERROR");
    assert_eq!(out["nextState"], "Handle");
    assert_eq!(out["error"], "Lambda.ServiceException");
    assert_eq!(
        parse(&out, "output"),
        json!({"a": 1, "err": {"Error": "Lambda.ServiceException", "Cause": "down"}})
    );
    assert_eq!(
        out["inspectionData"]["errorDetails"],
        json!({"catchIndex": 1})
    );

    let plain = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true})
        .to_string();
    let out = test_state(&req(&plain, "{}", InspectionLevel::Info), &Boom).unwrap();
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["error"], "Lambda.ServiceException");
    assert_eq!(out["cause"], "down");
}

#[test]
fn mocks_choice_wait_and_machines() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true})
        .to_string();
    let mut r = req(&def, "{}", InspectionLevel::Info);
    r.mock = Some(Mock::Result(r#"{"mocked": true}"#.into()));
    assert_eq!(
        parse(&test_state(&r, &Boom).unwrap(), "output"),
        json!({"mocked": true})
    );
    r.mock = Some(Mock::Error {
        error: "E".into(),
        cause: "C".into(),
    });
    assert_eq!(test_state(&r, &Echo).unwrap()["error"], "E");

    let choice = json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"}).to_string();
    assert_eq!(
        test_state(&req(&choice, r#"{"n": 5}"#, InspectionLevel::Info), &Echo).unwrap()["nextState"],
        "Big"
    );
    assert_eq!(
        test_state(&req(&choice, r#"{"n": 0}"#, InspectionLevel::Info), &Echo).unwrap()["nextState"],
        "Small"
    );

    // A Wait does not wait; a state may name itself as its next state.
    let wait = json!({"Type": "Wait", "Seconds": 3600, "Next": "TestState"}).to_string();
    let out = test_state(&req(&wait, "{}", InspectionLevel::Info), &Echo).unwrap();
    assert_eq!(
        (out["status"].as_str(), out["nextState"].as_str()),
        (Some("SUCCEEDED"), Some("TestState"))
    );

    // A state picked out of a whole machine, with its query language.
    let m = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Output": "{% $states.input.x + 1 %}", "End": true}}})
    .to_string();
    let mut r = req(&m, r#"{"x": 1}"#, InspectionLevel::Info);
    r.state_name = Some("B");
    assert_eq!(parse(&test_state(&r, &Echo).unwrap(), "output"), json!(2));
}

#[test]
fn refusals() {
    let e = test_state(&req("{", "{}", InspectionLevel::Info), &Echo).unwrap_err();
    assert_eq!(e.error_type, "InvalidDefinition");
    let e = test_state(
        &req(r#"{"Type": "Nope"}"#, "{}", InspectionLevel::Info),
        &Echo,
    )
    .unwrap_err();
    assert_eq!(e.error_type, "InvalidDefinition");
    assert!(
        e.message
            .starts_with("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED"),
        "{}",
        e.message
    );
    let e = test_state(
        &req(
            r#"{"Type": "Pass", "End": true}"#,
            "{x",
            InspectionLevel::Info,
        ),
        &Echo,
    )
    .unwrap_err();
    assert_eq!(e.error_type, "InvalidExecutionInput");
    let mut r = req(
        r#"{"Type": "Pass", "End": true}"#,
        "{}",
        InspectionLevel::Info,
    );
    r.variables = Some("[1]");
    assert_eq!(
        test_state(&r, &Echo).unwrap_err().error_type,
        "ValidationException"
    );
}
