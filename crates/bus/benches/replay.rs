//! Replay rate: an archive of 1,000,000 events (by default) replayed to one
//! rule whose target is a built-in queue, on redb with every write synced.
//!
//! The archive is filled through the store directly (the events as the
//! bus builds them, about 330 bytes each, one transaction per 10,000) so
//! that filling does not take longer than the measure; then one replay of
//! the whole window runs on the calling thread ([`Bus::run_replays`]) and
//! is timed from StartReplay until it is `COMPLETED`: every event read from
//! the archive, matched against the bus's rules with `replay-name` added,
//! and its delivery committed to the durable delivery log (delivery itself
//! is not started, so it does not compete for the CPU).
//!
//! `cargo bench -p ferrule-bus --bench replay [-- EVENTS]`

use std::time::Instant;

use ferrule_bus::{
    Bus, BusOptions, Clock, CreateArchiveInput, PutRuleInput, ReplayState, StartReplayInput,
    SystemClock, TargetConfig,
};
use ferrule_dispatch::SyncMode;
use ferrule_store::{ArchiveMember, ArchivedEvent};

const BATCH: u64 = 10_000;

fn envelope(id: &str, time_ms: u64, i: u64) -> String {
    let time = ferrule_core::time::format_seconds(time_ms);
    format!(
        r#"{{"version":"0","id":"{id}","detail-type":"Order Placed","source":"bench.shop","account":"000000000000","time":"{time}","region":"us-east-1","resources":[],"detail":{{"order":{i},"customer":"c-{c}","total":{t}.5,"items":[{{"sku":"s-{s}","qty":2}}],"status":"placed"}}}}"#,
        c = i % 977,
        t = i % 1000,
        s = i % 31,
    )
}

fn main() {
    let events: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("ferrule-replay-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut options = BusOptions::new(&dir);
    options.sync = SyncMode::Always;
    options.deliver_in_background = false;
    let bus = Bus::open(options).expect("open bus");
    let queue = bus.create_queue("sink").expect("queue");
    bus.put_rule(PutRuleInput::new("orders", r#"{"source": ["bench.shop"]}"#))
        .expect("rule");
    bus.put_targets(
        "orders",
        None,
        vec![TargetConfig {
            id: "q".into(),
            arn: queue,
            ..Default::default()
        }],
    )
    .expect("targets");
    let bus_arn = bus.bus_arn("default");
    bus.create_archive(CreateArchiveInput::new("bench", &bus_arn))
        .expect("archive");

    let now = SystemClock.now_ms();
    let first = now - 3_600_000;
    let fill = Instant::now();
    let store = bus.store();
    let mut i = 0;
    while i < events {
        let n = BATCH.min(events - i);
        let mut batch = Vec::with_capacity(n as usize);
        let mut members = Vec::with_capacity(n as usize);
        for k in i..i + n {
            let id = format!("00000000-0000-4000-8000-{k:012}");
            // Spread over the hour before now, in time order.
            let t = first + k * 3_000_000 / events.max(1);
            members.push(ArchiveMember {
                archive: "bench".into(),
                event_id: id.clone(),
                time_ms: t,
            });
            batch.push(ArchivedEvent {
                body: envelope(&id, t, k).into_bytes(),
                id,
                bus: "default".into(),
                time_ms: t,
            });
        }
        store
            .ingest_archived(batch, members, Vec::new())
            .expect("fill");
        i += n;
    }
    let archived = bus.describe_archive("bench").expect("describe");
    println!(
        "archive: {} events, {} bytes, filled in {:.1} s",
        archived.event_count,
        archived.size_bytes,
        fill.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    bus.start_replay(StartReplayInput::new(
        "bench",
        &bus.archive_arn("bench"),
        first,
        now,
        &bus_arn,
    ))
    .expect("start replay");
    let replayed = bus.run_replays();
    let seconds = started.elapsed().as_secs_f64();
    let replay = bus.describe_replay("bench").expect("describe replay");
    assert_eq!(replay.state, ReplayState::Completed);
    assert_eq!(replayed, events);
    let pending = bus.pending_deliveries().expect("pending");
    assert_eq!(pending, events, "one delivery per replayed event");
    println!(
        "replay: {replayed} events in {seconds:.2} s = {:.0} events/s ({pending} deliveries committed, synced)",
        replayed as f64 / seconds
    );
    drop(bus);
    let _ = std::fs::remove_dir_all(&dir);
}
