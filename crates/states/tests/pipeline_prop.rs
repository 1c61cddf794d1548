//! Property test: a Task state's path pipeline (InputPath → Parameters → ResultSelector →
//! ResultPath → OutputPath), run by the interpreter, against a plain reference written with
//! JSON pointers.

use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Execution, ExecutionInfo, ExecutionStatus, ManualClock, TaskContext, TaskExecutor, TaskOutcome,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The task answers `{"echo": <parameters>, "n": 7}`.
struct Echo;

impl TaskExecutor for Echo {
    fn start(&self, _: &str, parameters: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        TaskOutcome::Succeeded(json!({"echo": parameters, "n": 7}))
    }
}

/// A field: absent, `null`, or a path given as its JSON-pointer segments (empty = `$`).
#[derive(Clone, Debug)]
enum Field {
    Absent,
    Null,
    At(Vec<String>),
}

fn path_text(segs: &[String]) -> String {
    let mut s = String::from("$");
    for x in segs {
        s.push('.');
        s.push_str(x);
    }
    s
}

fn pointer(segs: &[String]) -> String {
    segs.iter().map(|s| format!("/{s}")).collect()
}

fn field() -> impl Strategy<Value = Field> {
    let seg = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string())
    ];
    prop_oneof![
        1 => Just(Field::Absent),
        1 => Just(Field::Null),
        3 => prop::collection::vec(seg, 0..3).prop_map(Field::At),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,3}".prop_map(Value::from),
        Just(Value::Null)
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("c")], inner), 0..3).prop_map(
            |kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            },
        )
    })
}

/// The reference: Ok(output) or Err(error name).
fn reference(
    input: &Value,
    ip: &Field,
    params: &Option<Vec<String>>,
    rs: bool,
    rp: &Field,
    op: &Field,
) -> Result<Value, &'static str> {
    let select = |v: &Value, f: &Field| -> Result<Value, &'static str> {
        match f {
            Field::Absent => Ok(v.clone()),
            Field::Null => Ok(json!({})),
            Field::At(segs) => v.pointer(&pointer(segs)).cloned().ok_or("States.Runtime"),
        }
    };
    let effective = select(input, ip)?;
    let task_input = match params {
        None => effective,
        Some(segs) => {
            let x = effective
                .pointer(&pointer(segs))
                .cloned()
                .ok_or("States.Runtime")?;
            json!({"x": x, "lit": [1, "two"]})
        }
    };
    let result = json!({"echo": task_input, "n": 7});
    let selected = if rs {
        json!({"picked": result["echo"].clone(), "n": 7})
    } else {
        result
    };
    let combined = match rp {
        Field::Absent => selected,
        Field::Null => input.clone(),
        Field::At(segs) if segs.is_empty() => selected,
        Field::At(segs) => {
            let mut out = input.clone();
            let mut cur = &mut out;
            for s in segs {
                let obj = cur.as_object_mut().ok_or("States.ResultPathMatchFailure")?;
                let slot = obj.entry(s.clone()).or_insert(Value::Null);
                if slot.is_null() {
                    *slot = json!({});
                }
                cur = slot;
            }
            *cur = selected;
            out
        }
    };
    select(&combined, op)
}

fn definition(
    ip: &Field,
    params: &Option<Vec<String>>,
    rs: bool,
    rp: &Field,
    op: &Field,
) -> String {
    let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::test:echo", "End": true});
    let put = |task: &mut Value, key: &str, f: &Field| match f {
        Field::Absent => {}
        Field::Null => task[key] = Value::Null,
        Field::At(segs) => task[key] = json!(path_text(segs)),
    };
    put(&mut task, "InputPath", ip);
    put(&mut task, "ResultPath", rp);
    put(&mut task, "OutputPath", op);
    if let Some(segs) = params {
        task["Parameters"] = json!({"x.$": path_text(segs), "lit": [1, "two"]});
    }
    if rs {
        task["ResultSelector"] = json!({"picked.$": "$.echo", "n.$": "$.n"});
    }
    json!({"StartAt": "T", "States": {"T": task}}).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn pipeline_matches_the_reference(
        input in value(),
        ip in field(),
        params in prop::option::of(prop::collection::vec(prop_oneof![Just("a".to_string()), Just("b".to_string())], 0..2)),
        rs in any::<bool>(),
        rp in field(),
        op in field(),
    ) {
        let m = StateMachine::parse(&definition(&ip, &params, rs, &rp, &op)).unwrap();
        let clock = ManualClock::new(0);
        let info = ExecutionInfo {
            execution_arn: "arn:aws:states:r:1:execution:m:e".into(), name: "e".into(),
            state_machine_arn: "arn:aws:states:r:1:stateMachine:m".into(), state_machine_name: "m".into(),
            role_arn: "arn:aws:iam::1:role/r".into(), region: "r".into(),
        };
        let (e, _) = Execution::start(&m, info, input.clone(), &clock, &Echo);
        match reference(&input, &ip, &params, rs, &rp, &op) {
            Ok(expected) => {
                prop_assert_eq!(e.status(), ExecutionStatus::Succeeded, "{:?}", e.error());
                prop_assert_eq!(e.output(), Some(&expected));
            }
            Err(name) => {
                prop_assert_eq!(e.status(), ExecutionStatus::Failed);
                prop_assert_eq!(e.error().map(|x| x.error.as_str()), Some(name));
            }
        }
    }
}
