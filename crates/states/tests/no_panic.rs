//! Bad input never panics: arbitrary JSON as a definition, arbitrary text as a path or an
//! intrinsic call, and every valid-looking machine run on arbitrary input.

use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Execution, ExecutionInfo, ManualClock, TaskContext, TaskExecutor, TaskOutcome,
};
use ferrule_states::intrinsic::Intrinsic;
use ferrule_states::path::Path;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop_oneof![
        Just("StartAt"),
        Just("States"),
        Just("Type"),
        Just("Next"),
        Just("End"),
        Just("A"),
        Just("B"),
        Just("Choices"),
        Just("Variable"),
        Just("Branches"),
        Just("Iterator"),
        Just("ItemProcessor"),
        Just("Retry"),
        Just("Catch"),
        Just("ErrorEquals"),
        Just("Parameters"),
        Just("x.$"),
        Just("Seconds"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("Pass"),
            Just("Task"),
            Just("Choice"),
            Just("Map"),
            Just("Parallel"),
            Just("A"),
            Just("B"),
            Just("$.a"),
            Just("$$"),
            Just("States.ALL"),
            Just("States.Format('{}', $.a)"),
            Just("arn:aws:states:::x:y"),
            Just("[")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

struct Fails;

impl TaskExecutor for Fails {
    fn start(&self, _: &str, p: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        if p.is_object() {
            TaskOutcome::Succeeded(p.clone())
        } else {
            TaskOutcome::Failed {
                error: "E".into(),
                cause: "c".into(),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn definitions_never_panic(def in json_value(), input in json_value()) {
        if let Ok(m) = StateMachine::from_value(&def) {
            let clock = ManualClock::new(0);
            let info = ExecutionInfo {
                execution_arn: "e".into(), name: "e".into(), state_machine_arn: "m".into(),
                state_machine_name: "m".into(), role_arn: "r".into(), region: "r".into(),
            };
            let (mut e, _) = Execution::start(&m, info, input, &clock, &Fails);
            for _ in 0..3 {
                clock.advance(100_000_000_000);
                e.run(&m, &clock, &Fails);
            }
        }
    }

    #[test]
    fn paths_and_calls_never_panic(s in "[$.\\[\\]'\"*?@()a-z0-9:,=<>!&| -]{0,24}", input in json_value()) {
        if let Ok(p) = Path::parse(&s) {
            let _ = p.select(&input);
            let mut target = input.clone();
            let _ = p.write(&mut target, json!(1));
        }
        let _ = Path::parse_reference(&s);
        let call = format!("States.Array({s})");
        if let Ok(c) = Intrinsic::parse(&call) {
            let _ = c.eval(&input, &json!({}));
        }
        let _ = Intrinsic::parse(&format!("States.Format('{s}', {s})"));
    }

    #[test]
    fn jsonata_expressions_never_panic(
        s in "[$.\\[\\]'\"*?@()a-z0-9:,=<>!&|~{}^#%+/ -]{0,32}|\\$(states|partition|range|hash|random|uuid|parse|eval|map|reduce)\\([^)]{0,12}\\)",
        input in json_value(),
    ) {
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Output": {"v": format!("{{% {s} %}}")}, "Assign": {"x": format!("{{% {s} %}}")}, "End": true}}});
        if let Ok(m) = StateMachine::from_value(&def) {
            let clock = ManualClock::new(0);
            let info = ExecutionInfo {
                execution_arn: "e".into(),
                name: "e".into(),
                state_machine_arn: "m".into(),
                state_machine_name: "m".into(),
                role_arn: "r".into(),
                region: "r".into(),
            };
            let _ = Execution::start(&m, info, input, &clock, &Fails);
        }
    }
}

#[test]
fn a_known_machine_on_odd_inputs() {
    let m = StateMachine::parse(&json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a[0].b", "TimestampLessThanPath": "$.c", "Next": "W"}], "Default": "M"},
        "W": {"Type": "Wait", "TimestampPath": "$.c", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "End": true, "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"h.$": "States.Hash($, 'MD5')"}, "End": true}}}}
    }}).to_string()).unwrap();
    for input in [
        json!(null),
        json!([]),
        json!({"a": [{"b": "2020-01-01T00:00:00Z"}], "c": "2021-01-01T00:00:00Z", "items": [1, null, {}]}),
        json!({"items": "x"}),
    ] {
        let clock = ManualClock::new(0);
        let info = ExecutionInfo {
            execution_arn: "e".into(),
            name: "e".into(),
            state_machine_arn: "m".into(),
            state_machine_name: "m".into(),
            role_arn: "r".into(),
            region: "r".into(),
        };
        let (mut e, _) = Execution::start(&m, info, input, &clock, &Fails);
        clock.advance(u64::MAX / 4);
        e.run(&m, &clock, &Fails);
    }
}
