//! Definitions the service refuses, with its codes, messages and locations.

use ferrule_states::StateMachine;
use ferrule_states::error::DiagnosticCode::{self, *};
use serde_json::{Value, json};

fn diags(def: Value) -> Vec<(DiagnosticCode, String, Option<String>)> {
    StateMachine::validate(&def.to_string())
        .into_iter()
        .map(|d| (d.code, d.message, d.location))
        .collect()
}

fn one(def: Value) -> (DiagnosticCode, String, Option<String>) {
    let d = diags(def.clone());
    assert_eq!(d.len(), 1, "{def}: {d:?}");
    d.into_iter().next().unwrap()
}

fn at(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn pass_end() -> Value {
    json!({"Type": "Pass", "End": true})
}

#[test]
fn the_service_message_wraps_every_diagnostic() {
    let err = StateMachine::parse(r#"{"StartAt": "A"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    );
    let err = StateMachine::parse(&json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}).to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    );
    let err = StateMachine::parse("{not json").unwrap_err();
    assert_eq!(err.diagnostics[0].code, InvalidJsonDescription);
}

#[test]
fn transitions_terminals_and_reachability() {
    // A dangling target, then no terminal state: both, in this order.
    assert_eq!(
        diags(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}})),
        [
            (
                MissingTransitionTarget,
                "Missing 'Next' target: NOPE".into(),
                at("/States/A/Next")
            ),
            (
                MissingEndState,
                "Workflow has no terminal state".into(),
                None
            )
        ]
    );
    // A loop plus a state nothing routes to: only the missing end.
    assert_eq!(
        one(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "X": {"Type": "Pass", "Next": "A"}}})).0,
        MissingEndState
    );
    // A loop plus an unreachable terminal state.
    assert_eq!(
        one(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}, "C": pass_end()}})
        ),
        (
            MissingTransitionTarget,
            "State \"C\" is not reachable.".into(),
            at("/States/C")
        )
    );
    let d = diags(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "N1"}], "Default": "N2"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "N3"}]}}}));
    let locs: Vec<_> = d.iter().map(|x| (x.1.as_str(), x.2.as_deref())).collect();
    assert_eq!(
        locs,
        [
            (
                "Missing 'Next' target: N1",
                Some("/States/C/Choices[0]/Next")
            ),
            ("Missing 'Next' target: N2", Some("/States/C/Default")),
            ("Missing 'Next' target: N3", Some("/States/T/Catch[0]/Next")),
            ("State \"T\" is not reachable.", Some("/States/T")),
        ]
    );
    assert_eq!(
        one(json!({"StartAt": "Z", "States": {"A": pass_end()}})).0,
        MissingTransitionTarget
    );
}

#[test]
fn nested_containers_are_checked_with_their_locations() {
    let d = diags(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Outside"}, "Q": pass_end()}}}}}),
    );
    assert_eq!(
        d,
        [
            (
                MissingTransitionTarget,
                "Missing 'Next' target: Outside".into(),
                at("/States/M/ItemProcessor/States/P/Next")
            ),
            (
                MissingTransitionTarget,
                "State \"Q\" is not reachable.".into(),
                at("/States/M/ItemProcessor/States/Q")
            )
        ]
    );
    let d = one(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [{"StartAt": "A", "States": {"A": pass_end()}}, {"StartAt": "B", "States": {"B": {"Type": "Pass"}}}]}}}),
    );
    assert_eq!(
        d,
        (
            SchemaValidationFailed,
            "These fields are required: [Next or End]".into(),
            at("/States/P/Branches[1]/States/B")
        )
    );
}

#[test]
fn fields_types_and_values() {
    let st = |s: Value| json!({"StartAt": "S", "States": {"S": s}});
    assert_eq!(
        one(st(json!({"Type": "Pass", "End": true, "Bogus": 1}))).1,
        "Field 'Bogus' is not supported"
    );
    assert_eq!(one(st(json!({"Type": "Map", "End": true, "TimeoutSeconds": 5, "Iterator": {"StartAt": "P", "States": {"P": pass_end()}}}))).1, "Field 'TimeoutSeconds' is not supported");
    assert_eq!(one(st(json!({"Type": "Parallel", "End": true, "TimeoutSeconds": 5, "Branches": [{"StartAt": "P", "States": {"P": pass_end()}}]}))).1, "Field 'TimeoutSeconds' is not supported");
    assert_eq!(
        one(st(json!({"Type": "Succeed", "Next": "S"}))).1,
        "Field 'Next' is not supported"
    );
    assert_eq!(
        one(st(json!({"Type": "Pass"}))).1,
        "These fields are required: [Next or End]"
    );
    assert_eq!(
        one(st(json!({"Type": "Pass", "End": false}))).2,
        at("/States/S/End")
    );
    assert_eq!(
        one(st(json!({"Type": "Nope", "End": true}))).2,
        at("/States/S/Type")
    );
    assert_eq!(
        one(st(json!({"End": true}))).1,
        "These fields are required: [Type]"
    );
    assert_eq!(
        one(st(json!({"Type": "Task", "End": true}))).1,
        "These fields are required: [Resource]"
    );
    assert_eq!(
        one(st(
            json!({"Type": "Task", "Resource": "lambda", "End": true})
        )),
        (
            SchemaValidationFailed,
            "Value is not a valid resource ARN".into(),
            at("/States/S/Resource")
        )
    );
    assert_eq!(one(st(json!({"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "TimeoutSeconds": 0}))).2, at("/States/S/TimeoutSeconds"));
    assert_eq!(one(st(json!({"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "TimeoutSeconds": "5"}))).1, "Expected value of type: Integer");
    assert_eq!(one(st(json!({"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "TimeoutSeconds": 5, "HeartbeatSeconds": 5}))).2, at("/States/S/HeartbeatSeconds"));
    assert_eq!(one(st(json!({"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"}))).1, "Fields 'TimeoutSeconds' and 'TimeoutSecondsPath' are mutually exclusive");
    assert_eq!(
        one(st(json!({"Type": "Wait", "End": true}))).2,
        at("/States/S")
    );
    assert_eq!(
        one(st(
            json!({"Type": "Wait", "End": true, "Seconds": 1, "SecondsPath": "$.s"})
        ))
        .2,
        at("/States/S")
    );
    assert_eq!(
        one(st(
            json!({"Type": "Wait", "End": true, "Timestamp": "2020-01-01 00:00:00"})
        ))
        .2,
        at("/States/S/Timestamp")
    );
    assert_eq!(
        one(st(json!({"Type": "Wait", "End": true, "Seconds": -1}))).2,
        at("/States/S/Seconds")
    );
    assert_eq!(
        one(st(
            json!({"Type": "Fail", "Error": "e", "ErrorPath": "$.e"})
        ))
        .2,
        at("/States/S")
    );
    assert_eq!(
        one(st(json!({"Type": "Fail", "CausePath": "nope"}))).2,
        at("/States/S/CausePath")
    );
    assert!(
        diags(st(
            json!({"Type": "Fail", "CausePath": "States.Format('{}', $.c)"})
        ))
        .is_empty()
    );
}

#[test]
fn paths_and_payload_templates() {
    let st = |s: Value| json!({"StartAt": "S", "States": {"S": s}});
    assert_eq!(
        one(st(json!({"Type": "Pass", "End": true, "InputPath": "x"}))),
        (
            SchemaValidationFailed,
            "The value for the field 'InputPath' must be a valid JSONPath".into(),
            at("/States/S/InputPath")
        )
    );
    assert_eq!(
        one(st(
            json!({"Type": "Pass", "End": true, "ResultPath": "$.a[*]"})
        ))
        .1,
        "The value for the field 'ResultPath' must be a valid ReferencePath"
    );
    assert!(diags(st(json!({"Type": "Pass", "End": true, "InputPath": "$$.Execution.Id", "OutputPath": null, "ResultPath": null}))).is_empty());
    assert_eq!(
        one(st(json!({"Type": "Pass", "End": true, "Parameters": {"a": {"b.$": "nope"}}}))),
        (SchemaValidationFailed, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call".into(), at("/States/S/Parameters/a/b.$"))
    );
    assert_eq!(
        one(st(
            json!({"Type": "Pass", "End": true, "Parameters": {"u.$": "States.UUID(1)"}})
        ))
        .2,
        at("/States/S/Parameters/u.$")
    );
    assert!(diags(st(json!({"Type": "Pass", "End": true, "Parameters": {"u.$": "States.UUID()", "f.$": "States.Format('{}', $$.Execution.Name)"}}))).is_empty());
}

#[test]
fn choice_rules() {
    let ch = |rule: Value| json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "E"}, "N": pass_end(), "E": pass_end()}});
    assert!(
        diags(ch(
            json!({"Variable": "$.a", "StringEqualsPath": "$.b", "Next": "N"})
        ))
        .is_empty()
    );
    assert!(
        diags(ch(
            json!({"Not": {"Variable": "$.a", "IsTimestamp": true}, "Next": "N"})
        ))
        .is_empty()
    );
    assert!(diags(ch(json!({"Or": [{"Variable": "$.a", "NumericLessThan": 1}, {"And": [{"Variable": "$.b", "BooleanEquals": false}]}], "Next": "N"}))).is_empty());
    assert_eq!(
        one(ch(
            json!({"Variable": "$.a", "StringEquals": 1, "Next": "N"})
        ))
        .1,
        "Expected value of type: String"
    );
    assert_eq!(
        one(ch(
            json!({"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "N"})
        ))
        .2,
        at("/States/C/Choices[0]/TimestampEquals")
    );
    assert_eq!(
        one(ch(json!({"Variable": "x", "IsNull": true, "Next": "N"}))).1,
        "The value for the field 'Variable' must be a valid JSONPath"
    );
    assert_eq!(
        one(ch(json!({"Variable": "$.a", "IsNull": true}))).1,
        "These fields are required: [Next]"
    );
    assert_eq!(
        one(ch(json!({"Variable": "$.a", "Next": "N"}))).2,
        at("/States/C/Choices[0]")
    );
    assert_eq!(
        one(ch(
            json!({"Variable": "$.a", "IsNull": true, "IsString": true, "Next": "N"})
        ))
        .2,
        at("/States/C/Choices[0]")
    );
    assert_eq!(
        one(ch(
            json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "N"}], "Next": "N"})
        ))
        .2,
        at("/States/C/Choices[0]/And[0]")
    );
    assert_eq!(
        one(ch(
            json!({"Variable": "$.a", "StringMatchesPath": "$.b", "Next": "N"})
        ))
        .1,
        "Field 'StringMatchesPath' is not supported"
    );
    assert_eq!(
        one(json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": []}}})).2,
        at("/States/C/Choices")
    );
}

#[test]
fn retry_and_catch_shapes() {
    let t = |retry: Value, catch: Value| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::x:y", "End": true, "Retry": retry, "Catch": catch}, "H": pass_end()}});
    let catch_h = json!([{"ErrorEquals": ["States.ALL"], "Next": "H"}]);
    assert!(diags(t(json!([{"ErrorEquals": ["A", "B"], "IntervalSeconds": 2, "MaxAttempts": 0, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}, {"ErrorEquals": ["States.ALL"]}]), catch_h.clone())).is_empty());
    assert_eq!(
        one(t(
            json!([{"ErrorEquals": ["States.ALL", "A"]}]),
            catch_h.clone()
        ))
        .2,
        at("/States/T/Retry[0]/ErrorEquals")
    );
    assert_eq!(
        one(t(
            json!([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["A"]}]),
            catch_h.clone()
        ))
        .1,
        "The error name 'States.ALL' may only appear in the last retrier or catcher"
    );
    assert_eq!(
        one(t(json!([{"ErrorEquals": []}]), catch_h.clone())).2,
        at("/States/T/Retry[0]/ErrorEquals")
    );
    assert_eq!(
        one(t(
            json!([{"ErrorEquals": ["A"], "BackoffRate": 0.5}]),
            catch_h.clone()
        ))
        .2,
        at("/States/T/Retry[0]/BackoffRate")
    );
    assert_eq!(
        one(t(
            json!([{"ErrorEquals": ["A"], "JitterStrategy": "SOME"}]),
            catch_h.clone()
        ))
        .2,
        at("/States/T/Retry[0]/JitterStrategy")
    );
    assert_eq!(
        one(t(
            json!([{"ErrorEquals": ["A"], "IntervalSeconds": 0}]),
            catch_h.clone()
        ))
        .2,
        at("/States/T/Retry[0]/IntervalSeconds")
    );
    assert_eq!(one(t(json!([]), json!([{"ErrorEquals": ["States.ALL"], "Next": "H"}, {"ErrorEquals": ["X"], "Next": "H"}]))).2, at("/States/T/Catch[0]/ErrorEquals"));
    assert_eq!(
        one(t(
            json!([]),
            json!([{"ErrorEquals": ["X"]}, {"ErrorEquals": ["Y"], "Next": "H"}])
        ))
        .1,
        "These fields are required: [Next]"
    );
    assert_eq!(
        one(t(
            json!([]),
            json!([{"ErrorEquals": ["X"], "Next": "H", "ResultPath": "bad"}])
        ))
        .2,
        at("/States/T/Catch[0]/ResultPath")
    );
    assert_eq!(
        one(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Retry": []}}})).1,
        "Field 'Retry' is not supported"
    );
}

#[test]
fn map_fields() {
    let m = |extra: Value| {
        let mut s = json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "P", "States": {"P": pass_end()}}});
        if let (Some(o), Some(x)) = (s.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        json!({"StartAt": "M", "States": {"M": s}})
    };
    assert!(diags(m(json!({"ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "MaxConcurrency": 3}))).is_empty());
    assert_eq!(
        one(m(json!({"ItemSelector": {}, "Parameters": {}}))).1,
        "Fields 'ItemSelector' and 'Parameters' are mutually exclusive"
    );
    assert_eq!(
        one(m(json!({"ToleratedFailureCount": 1}))).1,
        "Field 'ToleratedFailureCount' is only supported in the DISTRIBUTED mode"
    );
    assert_eq!(
        one(m(
            json!({"Iterator": {"StartAt": "P", "States": {"P": pass_end()}}})
        ))
        .1,
        "Fields 'ItemProcessor' and 'Iterator' are mutually exclusive"
    );
    assert_eq!(
        one(m(json!({"MaxConcurrency": -1}))).2,
        at("/States/M/MaxConcurrency")
    );
    assert_eq!(
        one(m(json!({"ItemsPath": "items"}))).2,
        at("/States/M/ItemsPath")
    );
    assert!(
        one(m(json!({"ItemReader": {}})))
            .1
            .contains("not supported yet")
    );
    let dist = json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "P", "States": {"P": pass_end()}});
    assert!(diags(m(json!({"ItemProcessor": dist, "ToleratedFailurePercentage": 10, "ItemBatcher": {"MaxItemsPerBatch": 5}, "Label": "L"}))).is_empty());
    assert_eq!(
        one(m(
            json!({"ItemProcessor": dist, "ToleratedFailurePercentage": 101})
        ))
        .2,
        at("/States/M/ToleratedFailurePercentage")
    );
    assert_eq!(
        one(m(json!({"ItemProcessor": dist, "ItemBatcher": {}}))).2,
        at("/States/M/ItemBatcher")
    );
}

#[test]
fn query_languages() {
    // JSONata at the top, or per state in a JSONPath machine.
    assert!(
        diags(json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": pass_end()}}))
            .is_empty()
    );
    assert!(
        diags(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "QueryLanguage": "JSONata", "Output": "{% $states.input %}"}}})
        )
        .is_empty()
    );
    // Not the reverse.
    let d = one(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"}}}),
    );
    assert_eq!(d.2, at("/States/A/QueryLanguage"));
    assert!(d.1.contains("'JSONPath' cannot be set"), "{}", d.1);
    let d = one(json!({"QueryLanguage": "JSONPaths", "StartAt": "A", "States": {"A": pass_end()}}));
    assert_eq!(
        d.1,
        "Value is not one of the allowed values [JSONPath, JSONata]"
    );
    assert_eq!(d.2, at("/QueryLanguage"));
    assert_eq!(
        one(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Output": {}}}}))
            .1,
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"
    );
    assert!(
        diags(json!({"QueryLanguage": "JSONPath", "StartAt": "A", "States": {"A": pass_end()}}))
            .is_empty()
    );
}

fn jsonata_state(state: Value) -> Vec<(DiagnosticCode, String, Option<String>)> {
    diags(json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": state}}))
}

#[test]
fn jsonata_states_refuse_jsonpath_fields() {
    for (ty, field, value) in [
        ("Pass", "InputPath", json!("$.a")),
        ("Pass", "OutputPath", json!("$.a")),
        ("Pass", "Parameters", json!({})),
        ("Pass", "ResultPath", json!("$.a")),
        ("Pass", "Result", json!(1)),
        ("Task", "ResultSelector", json!({})),
        ("Task", "TimeoutSecondsPath", json!("$.t")),
        ("Map", "ItemsPath", json!("$.items")),
    ] {
        let mut st = json!({"Type": ty, "End": true});
        if ty == "Task" {
            st["Resource"] = json!("arn:aws:states:::lambda:invoke");
        }
        if ty == "Map" {
            st["ItemProcessor"] =
                json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        }
        st[field] = value;
        let d = jsonata_state(st);
        assert_eq!(d.len(), 1, "{ty}.{field}: {d:?}");
        assert_eq!(
            d[0].1,
            format!(
                "The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for the 'JSONPath' QueryLanguage"
            )
        );
        assert_eq!(d[0].2, at("/States/A"));
    }
    // Fields of no query language for the type stay "not supported".
    let d = jsonata_state(json!({"Type": "Pass", "End": true, "Arguments": {}}));
    assert_eq!(d[0].1, "Field 'Arguments' is not supported");
    let d = jsonata_state(json!({"Type": "Fail", "Output": {}}));
    assert_eq!(d[0].1, "Field 'Output' is not supported");
    // A catcher: Output in JSONata, ResultPath in JSONPath.
    let d = jsonata_state(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A", "ResultPath": "$.e"}]}),
    );
    assert!(
        d.iter().any(|x| x
            .1
            .contains("'ResultPath' is only supported for the 'JSONPath'")),
        "{d:?}"
    );
}

#[test]
fn jsonata_fields_are_checked() {
    // Expressions are parsed at validation, with their location.
    let d = jsonata_state(
        json!({"Type": "Pass", "End": true, "Output": {"a": {"b": "{% $states.input.( %}"}}}),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].2, at("/States/A/Output/a/b"));
    assert!(
        d[0].1
            .starts_with("The JSONata expression ' $states.input.( ' is not valid"),
        "{}",
        d[0].1
    );
    // Choice rules take a Condition.
    let ok = jsonata_state(json!({"Type": "Choice", "Choices": [
        {"Condition": "{% $states.input.n > 1 %}", "Next": "B", "Assign": {"x": 1}, "Output": {}}], "Default": "B"}));
    assert!(ok.iter().all(|d| d.0 != SchemaValidationFailed), "{ok:?}");
    let d = jsonata_state(
        json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}], "Default": "A"}),
    );
    assert!(
        d.iter().any(|x| x.1 == "Field 'Variable' is not supported"),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|x| x.1 == "These fields are required: [Condition]"),
        "{d:?}"
    );
    let d = jsonata_state(
        json!({"Type": "Choice", "Choices": [{"Condition": "yes", "Next": "A"}], "Default": "A"}),
    );
    assert_eq!(d[0].2, at("/States/A/Choices[0]/Condition"));
    // Numbers: an integer or an expression.
    let task = |t: Value| {
        jsonata_state(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "TimeoutSeconds": t}),
        )
    };
    assert!(task(json!("{% $states.input.t %}")).is_empty());
    assert!(task(json!(30)).is_empty());
    assert_eq!(task(json!("30"))[0].2, at("/States/A/TimeoutSeconds"));
    // Map Items: an array or an expression.
    let map = |items: Value| {
        jsonata_state(json!({"Type": "Map", "End": true, "Items": items,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}))
    };
    assert!(map(json!([1, 2])).is_empty());
    assert!(map(json!("{% $states.input.list %}")).is_empty());
    assert_eq!(map(json!(7))[0].2, at("/States/A/Items"));
    // Wait and Fail take expressions.
    assert!(jsonata_state(json!({"Type": "Wait", "Seconds": "{% 1 %}", "End": true})).is_empty());
    assert!(
        jsonata_state(json!({"Type": "Fail", "Error": "{% 'E' %}", "Cause": "plain"})).is_empty()
    );
}

#[test]
fn assign_is_checked() {
    let pass = |assign: Value| {
        diags(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Assign": assign}}}),
        )
    };
    assert!(pass(json!({"x": 1, "y.$": "$.a", "z.$": "States.Format('{}', $x)"})).is_empty());
    assert_eq!(pass(json!([1]))[0].2, at("/States/A/Assign"));
    let d = pass(json!({"states": 1}));
    assert_eq!(
        d[0].1,
        "The variable name 'states' is reserved by Step Functions"
    );
    assert_eq!(d[0].2, at("/States/A/Assign/states"));
    for bad in ["1x", "a-b", "", &"v".repeat(81)] {
        let mut m = serde_json::Map::new();
        m.insert(bad.to_string(), json!(1));
        let d = pass(Value::Object(m));
        assert!(
            d[0].1
                .starts_with(&format!("The variable name '{bad}' is not valid")),
            "{bad}: {d:?}"
        );
    }
    assert_eq!(
        pass(json!({"y.$": "nope"}))[0].2,
        at("/States/A/Assign/y.$")
    );
    // A Succeed or Fail state assigns nothing.
    let d =
        diags(json!({"StartAt": "A", "States": {"A": {"Type": "Succeed", "Assign": {"x": 1}}}}));
    assert_eq!(d[0].1, "Field 'Assign' is not supported");
    // JSONPath Choice rules may assign.
    assert!(diags(json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 1, "Next": "B", "Assign": {"hit": true}}], "Default": "B"},
        "B": pass_end()}})).is_empty());
}

#[test]
fn top_level_fields() {
    assert_eq!(
        one(json!({"StartAt": "A", "States": {"A": pass_end()}, "Coment": "typo"})),
        (
            SchemaValidationFailed,
            "Field 'Coment' is not supported".into(),
            at("/")
        )
    );
    assert_eq!(
        one(json!({"StartAt": "A", "States": {"A": pass_end()}, "TimeoutSeconds": 0})).2,
        at("/TimeoutSeconds")
    );
    assert_eq!(one(json!({"StartAt": "A", "States": {}})).2, at("/States"));
    assert_eq!(
        one(json!({"StartAt": 1, "States": {"A": pass_end()}})).2,
        at("/StartAt")
    );
    let long = "x".repeat(81);
    assert_eq!(
        one(json!({"StartAt": long.clone(), "States": {long.clone(): pass_end()}})).2,
        Some(format!("/States/{long}"))
    );
}
