//! State transitions per second through the runner: a chain of Pass states
//! and a Map over 10,000 items, in memory and durable (every execution
//! written to the redb store when it starts and when it ends).
//!
//! `cargo bench -p ferrule-runner --bench runner`; the throughput is in
//! history events (each state's entered and exited events, as the service
//! counts transitions from them, halved in the README's figure).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrule_bus::{Bus, BusOptions};
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

fn runner(durable: bool) -> (tempfile::TempDir, Runner) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = BusOptions::new(dir.path());
    options.deliver_in_background = false;
    let bus = Arc::new(Bus::open(options).unwrap());
    let runner =
        Runner::open(bus, RunnerOptions::new().background(false).durable(durable)).unwrap();
    (dir, runner)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("transitions");
    group.sample_size(10);
    for durable in [false, true] {
        let mode = if durable { "durable" } else { "memory" };
        for (name, def, input) in [
            ("pass-chain-1000", pass_chain(1000), "{}".to_string()),
            ("map-10000", map_over(10_000).0, map_over(10_000).1),
        ] {
            let (_dir, r) = runner(durable);
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
            // One run to count the events an execution records.
            let before = r.events_recorded();
            r.start_execution(StartRequest::new(&machine, Some(&input)))
                .unwrap();
            r.run_until_idle();
            let per_run = r.events_recorded() - before;
            group.throughput(Throughput::Elements(per_run));
            group.bench_function(format!("{name}/{mode}"), |b| {
                b.iter(|| {
                    r.start_execution(StartRequest::new(&machine, Some(&input)))
                        .unwrap();
                    r.run_until_idle();
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
