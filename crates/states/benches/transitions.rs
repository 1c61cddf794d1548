//! State transitions per second, in memory (no durability): a chain of 1,000 Pass states, a
//! Map over 10,000 items, and the same chain in JSONata and with a variable per state.
//!
//! `cargo bench -p ferrule-states --bench transitions` (criterion reports `elem/s` =
//! transitions per second; a summary line per scenario is printed first).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrule_benchdata::timing::time_runs;
use ferrule_states::StateMachine;
use ferrule_states::exec::{
    Execution, ExecutionInfo, ExecutionStatus, ManualClock, TaskContext, TaskExecutor, TaskOutcome,
};
use serde_json::{Map, Value, json};
use std::hint::black_box;

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

/// `n` Pass states in a row; `state(i)` gives each one's fields besides `Type`/`Next`/`End`.
fn chain(n: usize, top: Value, state: impl Fn(usize) -> Value) -> StateMachine {
    let mut states = Map::new();
    for i in 0..n {
        let mut s = state(i);
        s["Type"] = json!("Pass");
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    let mut def = top;
    def["StartAt"] = json!("S0");
    def["States"] = Value::Object(states);
    StateMachine::from_value(&def).expect("valid chain")
}

fn input() -> Value {
    json!({"customer": {"name": "Nikki Wolf", "address": "123 Any Street"}})
}

/// Runs `machine` once and checks it succeeded.
fn once(machine: &StateMachine, input: Value, clock: &ManualClock) -> Execution {
    let (e, _) = Execution::start(machine, info(), input, clock, &NoTasks);
    assert_eq!(e.status(), ExecutionStatus::Succeeded);
    e
}

/// A plain timing (a few runs, after one to warm up) printed as one line, for the README and
/// reports: per second of wall time and per second of this thread's CPU time.
fn summary(label: &str, transitions: usize, runs: usize, f: impl Fn()) {
    f(); // warm up
    let t = time_runs(runs as u64, &f);
    println!(
        "{} ({transitions} transitions x {runs} runs in {:.3} s)",
        t.rate_line(label, "transitions", transitions as u64),
        t.wall.as_secs_f64()
    );
}

fn benches(c: &mut Criterion) {
    let clock = ManualClock::new(0);
    let n = 1000;
    let jsonpath = chain(
        n,
        json!({}),
        |i| json!({"Result": i, "ResultPath": "$.last"}),
    );
    let jsonata = chain(
        n,
        json!({"QueryLanguage": "JSONata"}),
        |i| json!({"Output": {"customer": "{% $states.input.customer %}", "last": i}}),
    );
    let variables = chain(n, json!({}), |i| json!({"Assign": {"last": i}}));
    let map = StateMachine::parse(
        r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}"#,
    )
    .expect("valid map");
    let items = Value::Array((0..10_000).map(|i| json!({"id": i})).collect());

    summary("pass chain (1,000 JSONPath states)", n, 20, || {
        black_box(once(&jsonpath, input(), &clock));
    });
    // A Map of 10,000 items makes 10,000 Pass transitions inside, plus the Map state itself.
    summary("map over 10,000 items", 10_001, 3, || {
        black_box(once(&map, items.clone(), &clock));
    });
    summary("pass chain (1,000 states, Assign each)", n, 20, || {
        black_box(once(&variables, input(), &clock));
    });
    summary("pass chain (1,000 JSONata states)", n, 3, || {
        black_box(once(&jsonata, input(), &clock));
    });

    let mut g = c.benchmark_group("transitions");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("pass_chain_1000", |b| {
        b.iter(|| once(&jsonpath, input(), &clock))
    });
    g.bench_function("pass_chain_1000_assign", |b| {
        b.iter(|| once(&variables, input(), &clock))
    });
    g.bench_function("pass_chain_1000_jsonata", |b| {
        b.iter(|| once(&jsonata, input(), &clock))
    });
    g.throughput(Throughput::Elements(10_001));
    g.bench_function("map_10000_items", |b| {
        b.iter(|| once(&map, items.clone(), &clock))
    });
    g.finish();
}

criterion_group!(transitions, benches);
criterion_main!(transitions);
