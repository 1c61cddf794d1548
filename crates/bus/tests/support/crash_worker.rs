//! A process for the crash test (tests/crash.rs): it opens a bus on a data
//! directory and either puts events in a loop, printing `ok SEQ` for every
//! entry PutEvents accepted, or (`drain`) waits until nothing is pending.
//!
//! usage: ferrule-crash-worker DIR load FIRST_SEQ | ferrule-crash-worker DIR drain

use std::io::Write;
use std::time::{Duration, Instant};

use ferrule_bus::{Bus, BusOptions, PutEventsEntry, PutRuleInput, TargetConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ferrule-crash-worker DIR load FIRST_SEQ | DIR drain");
        std::process::exit(2);
    };
    let mut options = BusOptions::new(dir);
    options.dispatch.workers = 2;
    options.dispatch.backoff_base_ms = 50;
    let bus = Bus::open(options).expect("open bus");
    let queue = bus.create_queue("out").expect("queue");
    if bus.describe_rule("all", None).is_err() {
        bus.put_rule(PutRuleInput::new("all", r#"{"source": ["crash.test"]}"#))
            .expect("rule");
        bus.put_targets(
            "all",
            None,
            vec![TargetConfig {
                id: "out".into(),
                arn: queue,
                ..Default::default()
            }],
        )
        .expect("target");
    }
    let stdout = std::io::stdout();
    match mode.as_str() {
        "load" => {
            let mut seq: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
            loop {
                let entries: Vec<PutEventsEntry> = (seq..seq + 10)
                    .map(|s| {
                        PutEventsEntry::new("crash.test", "Seq", &format!(r#"{{"seq": {s}}}"#))
                    })
                    .collect();
                let out = bus.put_events(entries).expect("put events");
                let mut lock = stdout.lock();
                for (i, e) in out.entries.iter().enumerate() {
                    if e.error_code.is_none() {
                        let _ = writeln!(lock, "ok {}", seq + i as u64);
                    }
                }
                let _ = lock.flush();
                seq += 10;
            }
        }
        "drain" => {
            let start = Instant::now();
            while bus.pending_deliveries().expect("pending") > 0 {
                if start.elapsed() > Duration::from_secs(120) {
                    eprintln!("still pending after 120 s");
                    std::process::exit(1);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = writeln!(stdout.lock(), "drained");
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
