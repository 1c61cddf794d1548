//! State transitions per second through the runner: a chain of Pass states
//! and a Map over 10,000 items, in memory and durable (every execution
//! written to the redb store when it starts and when it ends).
//!
//! `cargo bench -p ferrule-runner --bench runner`; the throughput is in
//! state transitions: states entered, those inside Map iterations included
//! (the service's billing unit), counted in one run's history. Before the
//! criterion groups it prints one line per scenario with transitions per
//! second of wall time and per second of the benchmark thread's CPU time
//! (which holds better when other processes share the machine: the runner
//! is driven on this thread, `background(false)`).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrule_benchdata::timing::time_runs;
use ferrule_bus::{Bus, BusOptions, ManualClock};
use ferrule_runner::{CreateMachine, Runner, RunnerOptions, StartRequest};
use serde_json::{Map, Value, json};

fn pass_chain(n: usize) -> Value {
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
    json!({"StartAt": "S0", "States": states})
}

fn map_over(items: usize) -> (Value, String) {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}},
        "ResultPath": null, "End": true}}});
    let input = json!({"items": (0..items).collect::<Vec<_>>()}).to_string();
    (def, input)
}

/// A loop of `n` one-second Waits: each Wait is a stored write of the
/// execution, so a durable run writes `n` times while its history grows
/// (what incremental history writes are for).
fn wait_loop(n: usize) -> Value {
    json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "More"},
        "More": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": n, "Next": "Inc"}],
                 "Default": "Done"},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Wait"},
        "Done": {"Type": "Succeed"}}})
}

fn runner(durable: bool) -> (tempfile::TempDir, Arc<ManualClock>, Runner) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_750_000_000_000));
    let mut options = BusOptions::new(dir.path());
    options.clock = clock.clone();
    options.deliver_in_background = false;
    let bus = Arc::new(Bus::open(options).unwrap());
    let runner =
        Runner::open(bus, RunnerOptions::new().background(false).durable(durable)).unwrap();
    (dir, clock, runner)
}

/// Runs `f` `runs` times and prints transitions per wall and per CPU second.
fn summary(label: &str, transitions: u64, runs: u64, f: impl Fn()) {
    let t = time_runs(runs, f);
    println!(
        "{} ({runs} runs)",
        t.rate_line(label, "transitions", transitions)
    );
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("transitions");
    group.sample_size(10);
    for durable in [false, true] {
        let mode = if durable { "durable" } else { "memory" };
        for (name, def, input) in [
            ("pass-chain-1000", pass_chain(1000), "{}".to_string()),
            ("map-10000", map_over(10_000).0, map_over(10_000).1),
            ("wait-loop-200", wait_loop(200), "{}".to_string()),
        ] {
            let (_dir, clock, r) = runner(durable);
            // Runs everything, moving the clock to each timer (only the
            // wait loop has timers).
            let drive = || {
                r.run_until_idle();
                while let Some(at) = r.next_timer_ms() {
                    clock.set_ms(at.max(ferrule_core::Clock::now_ms(&*clock)));
                    r.run_until_idle();
                }
            };
            let machine = r
                .create_state_machine(CreateMachine {
                    name: name.into(),
                    definition: def.to_string(),
                    role_arn: "arn:aws:iam::123456789012:role/r".into(),
                    ..Default::default()
                })
                .unwrap()
                .0
                .arn;
            // One run to count its transitions: the states it entered.
            let started = r
                .start_execution(StartRequest::new(&machine, Some(&input)))
                .unwrap();
            drive();
            let per_run = r
                .execution_history(&started.execution_arn)
                .unwrap()
                .iter()
                .filter(|e| {
                    e["type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("StateEntered"))
                })
                .count() as u64;
            let run = || {
                r.start_execution(StartRequest::new(&machine, Some(&input)))
                    .unwrap();
                drive();
            };
            summary(&format!("{name}/{mode}"), per_run, 5, run);
            group.throughput(Throughput::Elements(per_run));
            group.bench_function(format!("{name}/{mode}"), |b| b.iter(run));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
