//! State transitions per second, in memory: a chain of Pass states, and a Map over 10,000 items.
//!
//! `cargo run --release -p ferrule-states --example transitions`

use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Execution, ExecutionInfo, ExecutionStatus, ManualClock, TaskContext, TaskExecutor, TaskOutcome,
};
use serde_json::{Map, Value, json};
use std::time::Instant;

struct NoTasks;

impl TaskExecutor for NoTasks {
    fn start(&self, _: &str, p: &Value, _: &TaskContext<'_>) -> TaskOutcome {
        TaskOutcome::Succeeded(p.clone())
    }
}

fn info() -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:1:execution:bench:e".into(),
        name: "e".into(),
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:bench".into(),
        state_machine_name: "bench".into(),
        role_arn: "arn:aws:iam::1:role/r".into(),
        region: "us-east-1".into(),
    }
}

fn main() {
    let n = 1000;
    let mut states = Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "Result": i, "ResultPath": "$.last"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    let chain =
        StateMachine::from_value(&json!({"StartAt": "S0", "States": states})).expect("valid chain");
    let clock = ManualClock::new(0);
    let input = json!({"customer": {"name": "Nikki Wolf", "address": "123 Any Street"}});
    let runs = 50;
    let t = Instant::now();
    for _ in 0..runs {
        let (e, _) = Execution::start(&chain, info(), input.clone(), &clock, &NoTasks);
        assert_eq!(e.status(), ExecutionStatus::Succeeded);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "pass chain: {:.0} transitions/s ({} states x {runs} executions in {secs:.3} s)",
        (n * runs) as f64 / secs,
        n
    );

    let map = StateMachine::parse(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}"#,
    )
    .expect("valid map");
    let items: Vec<Value> = (0..10_000).map(|i| json!({"id": i})).collect();
    let t = Instant::now();
    let (e, _) = Execution::start(&map, info(), Value::Array(items), &clock, &NoTasks);
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    println!(
        "map over 10,000 items: {:.0} iterations/s ({secs:.3} s, {} history events)",
        10_000.0 / secs,
        e.history().len()
    );
}
