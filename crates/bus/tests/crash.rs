//! Crash safety: a separate process accepting events is killed with
//! SIGKILL in the middle of a load, several times, and restarted on the same
//! store; every event PutEvents accepted must be delivered (at least once).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrule_bus::{Bus, BusOptions};

const KILLS: u64 = 5;

#[test]
fn accepted_events_survive_sigkill() {
    let dir = std::env::temp_dir().join(format!("ferrule-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let worker = env!("CARGO_BIN_EXE_ferrule-crash-worker");
    let mut accepted = BTreeSet::new();
    for run in 0..KILLS {
        let mut child = Command::new(worker)
            .arg(&dir)
            .arg("load")
            .arg((run * 10_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start worker");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        // Let it accept events for a while, varying where the kill lands.
        std::thread::sleep(Duration::from_millis(400 + 137 * run));
        child.kill().expect("SIGKILL"); // SIGKILL on Unix
        let _ = child.wait();
        let _ = reader.join();
        let lines = lines.lock().unwrap();
        let before = accepted.len();
        for line in lines.iter() {
            if let Some(seq) = line.strip_prefix("ok ").and_then(|s| s.parse::<u64>().ok()) {
                accepted.insert(seq);
            }
        }
        assert!(
            accepted.len() > before,
            "run {run} accepted events before the kill"
        );
    }
    let out = Command::new(worker)
        .arg(&dir)
        .arg("drain")
        .output()
        .expect("drain");
    assert!(
        out.status.success(),
        "drain: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut options = BusOptions::new(&dir);
    options.deliver_in_background = false;
    let bus = Bus::open(options).expect("reopen");
    let messages = bus.queue_messages("out", usize::MAX).expect("messages");
    let delivered: BTreeSet<u64> = messages
        .iter()
        .filter_map(|m| {
            let v: serde_json::Value = serde_json::from_str(&m.body).ok()?;
            v["detail"]["seq"].as_u64()
        })
        .collect();
    let lost: Vec<&u64> = accepted.difference(&delivered).collect();
    eprintln!(
        "crash test: {} kills, {} events accepted, {} delivered messages ({} distinct), {} lost",
        KILLS,
        accepted.len(),
        messages.len(),
        delivered.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "accepted but never delivered: {:?}",
        &lost[..lost.len().min(20)]
    );
    drop(bus);
    let _ = std::fs::remove_dir_all(&dir);
}
