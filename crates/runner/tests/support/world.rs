//! The world the runner's integration tests run in (`support::world`): a
//! real bus and a runner on one store on disk, driven by a manual clock.

use std::path::Path;
use std::sync::Arc;

use ferrule_bus::{Bus, BusOptions, ManualClock, PutRuleInput, TargetConfig};
use ferrule_runner::{CreateMachine, Runner, RunnerOptions};
use serde_json::Value;

/// A bus and a runner on it, on one store, driven by one clock.
pub struct World {
    /// The clock both are driven by.
    pub clock: Arc<ManualClock>,
    /// The bus.
    pub bus: Arc<Bus>,
    /// The runner, without worker threads (the test runs it).
    pub runner: Runner,
}

/// Opens the bus on `dir` (deliveries run only by the test) and the runner
/// on it.
pub fn open(dir: &Path, clock: &Arc<ManualClock>) -> World {
    let mut options = BusOptions::new(dir);
    options.clock = clock.clone();
    options.deliver_in_background = false;
    let bus = Arc::new(Bus::open(options).unwrap());
    let runner = Runner::open(Arc::clone(&bus), RunnerOptions::new().background(false)).unwrap();
    World {
        clock: Arc::clone(clock),
        bus,
        runner,
    }
}

impl World {
    /// Runs executions and deliveries until neither has anything to do now.
    pub fn settle(&self) {
        for _ in 0..50 {
            self.runner.run_until_idle();
            if self.bus.run_due() == 0 {
                self.runner.run_until_idle();
                return;
            }
        }
    }

    /// Creates the state machine `name` of `definition` (the default type);
    /// its ARN.
    pub fn machine(&self, name: &str, definition: Value) -> String {
        self.runner
            .create_state_machine(CreateMachine {
                name: name.into(),
                definition: definition.to_string(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                ..Default::default()
            })
            .unwrap()
            .0
            .arn
    }

    /// A queue receiving the events of `bus` that match `pattern`.
    pub fn queue_for(&self, queue: &str, bus: Option<&str>, pattern: Value) {
        self.bus.create_queue(queue).unwrap();
        let mut rule = PutRuleInput::new(&format!("to-{queue}"), &pattern.to_string());
        rule.event_bus_name = bus.map(str::to_string);
        self.bus.put_rule(rule).unwrap();
        self.bus
            .put_targets(
                &format!("to-{queue}"),
                bus,
                vec![TargetConfig {
                    id: "q".into(),
                    arn: self.bus.queue_arn(queue),
                    ..Default::default()
                }],
            )
            .unwrap();
    }

    /// The bodies of the messages in `queue`, as JSON.
    pub fn messages(&self, queue: &str) -> Vec<Value> {
        self.bus
            .queue_messages(queue, 100)
            .unwrap()
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }

    /// The status of execution `arn`.
    pub fn status(&self, arn: &str) -> String {
        self.runner.describe_execution(arn).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    }
}
