//! A PutEvents load generator for a running `ferrule serve`.
//!
//! It creates (through the API, idempotently) `--queues` built-in queues and
//! `--rules` rules on the default bus, each an exact match on one value of
//! `detail.key` with one queue target, so that every entry matches exactly
//! one rule and is written to the durable dispatch store before PutEvents
//! answers. Then `--clients` threads, each on its own keep-alive connection,
//! send PutEvents requests of 10 entries for `--seconds`, as fast as the
//! server answers or at `--rate` entries per second in total (paced; the
//! latency is then measured from each request's scheduled time, so a slow
//! answer also counts against the requests queued behind it).
//!
//! ```sh
//! echo '{"limits": {"rules_per_bus": 1000}}' > /tmp/load.json
//! cargo run --release -- serve --config /tmp/load.json --data-dir /tmp/load-data &
//! cargo run --release -p ferrule-server --example put_events_load -- --clients 16 --seconds 10
//! cargo run --release -p ferrule-server --example put_events_load -- --clients 16 --seconds 10 --rate 25000
//! ```
//!
//! Prints one line:
//! `put-events: clients=… rules=… requests=… entries=… seconds=… entries_per_second=… p50_ms=… p90_ms=… p99_ms=… max_ms=… errors=… failed_entries=…`
//! and then how long the server took to deliver what was accepted.
//! Requests are unsigned: the server must run without credentials.
//!
//! With `--server-pid PID` (a server on this machine) it also reads the
//! server's CPU time from `/proc` from the start of the load (after the
//! setup) until the deliveries have drained, and prints it per accepted
//! entry (warm-up included: `server: cpu_s=… entries=… us_per_entry=…`),
//! then the CPU of each group of the server's threads (by thread name).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ENTRIES_PER_REQUEST: usize = 10;

#[derive(Clone, Debug)]
struct Options {
    url: String,
    clients: usize,
    seconds: f64,
    warmup: f64,
    rules: usize,
    queues: usize,
    /// Entries per second over all clients; 0: as fast as possible.
    rate: f64,
    setup: bool,
    purge: bool,
    /// The server's process, to read its CPU time.
    server_pid: Option<u32>,
}

fn usage() -> &'static str {
    "usage: put_events_load [--url URL] [--clients N] [--seconds S] [--warmup S] [--rules N] \
     [--queues N] [--rate ENTRIES_PER_SECOND] [--no-setup] [--keep] [--server-pid PID]"
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        url: "http://127.0.0.1:4010".to_string(),
        clients: 16,
        seconds: 10.0,
        warmup: 1.0,
        rules: 1000,
        queues: 10,
        rate: 0.0,
        setup: true,
        purge: true,
        server_pid: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{a} needs a value\n{}", usage()))
        };
        let number = |v: String| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("{a}: not a number: {v}"))
        };
        match a.as_str() {
            "--url" => o.url = value()?.trim_end_matches('/').to_string(),
            "--clients" => o.clients = number(value()?)?.max(1.0) as usize,
            "--seconds" => o.seconds = number(value()?)?,
            "--warmup" => o.warmup = number(value()?)?,
            "--rules" => o.rules = number(value()?)?.max(1.0) as usize,
            "--queues" => o.queues = number(value()?)?.max(1.0) as usize,
            "--rate" => o.rate = number(value()?)?,
            "--no-setup" => o.setup = false,
            "--server-pid" => {
                let v = value()?;
                o.server_pid = Some(
                    v.parse()
                        .map_err(|_| format!("--server-pid: not a pid: {v}"))?,
                );
            }
            "--keep" => o.purge = false,
            "-h" | "--help" => return Err(usage().to_string()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    Ok(o)
}

/// One keep-alive connection speaking AWS JSON.
struct Client {
    agent: ureq::Agent,
    url: String,
}

impl Client {
    fn new(url: &str) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections_per_host(1)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        Client {
            agent: config.into(),
            url: url.to_string(),
        }
    }

    /// Calls `target` with a JSON body; returns the status and the answer.
    fn call(&self, target: &str, body: &str) -> Result<(u16, String), String> {
        let content_type = if target.starts_with("AmazonSQS.") {
            "application/x-amz-json-1.0"
        } else {
            "application/x-amz-json-1.1"
        };
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", content_type)
            .header("x-amz-target", target)
            .send(body)
            .map_err(|e| format!("{target}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{target}: {e}"))?;
        Ok((status, text))
    }

    /// Calls `target` and parses a 200 answer.
    fn ok(&self, target: &str, body: &Value) -> Result<Value, String> {
        let (status, text) = self.call(target, &body.to_string())?;
        if status != 200 {
            return Err(format!("{target} answered {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{target}: {e}: {text}"))
    }
}

/// Queues and rules, through the API.
fn setup(o: &Options) -> Result<Vec<String>, String> {
    let c = Client::new(&o.url);
    let mut arns = Vec::new();
    for q in 0..o.queues {
        let url = c.ok(
            "AmazonSQS.CreateQueue",
            &json!({"QueueName": format!("load-{q}")}),
        )?["QueueUrl"]
            .as_str()
            .ok_or("CreateQueue: no QueueUrl")?
            .to_string();
        let attrs = c.ok(
            "AmazonSQS.GetQueueAttributes",
            &json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
        )?;
        arns.push(
            attrs["Attributes"]["QueueArn"]
                .as_str()
                .ok_or("GetQueueAttributes: no QueueArn")?
                .to_string(),
        );
    }
    let started = Instant::now();
    let threads = 4.min(o.rules);
    let arns = Arc::new(arns);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (o, arns) = (o.clone(), Arc::clone(&arns));
            std::thread::spawn(move || -> Result<(), String> {
                let c = Client::new(&o.url);
                for i in (t..o.rules).step_by(threads) {
                    let name = format!("load-{i:04}");
                    let pattern = json!({"source": ["load"], "detail": {"key": [format!("k{i}")]}});
                    let put = c.call(
                        "AWSEvents.PutRule",
                        &json!({"Name": name, "EventPattern": pattern.to_string()}).to_string(),
                    )?;
                    if put.0 != 200 {
                        let hint = if put.1.contains("LimitExceeded") {
                            "\nstart the server with a config raising the quota: \
                             {\"limits\": {\"rules_per_bus\": 1000}}"
                        } else {
                            ""
                        };
                        return Err(format!("PutRule {name}: {} {}{hint}", put.0, put.1));
                    }
                    let out = c.ok(
                        "AWSEvents.PutTargets",
                        &json!({"Rule": name, "Targets": [{"Id": "q", "Arn": arns[i % arns.len()]}]}),
                    )?;
                    if out["FailedEntryCount"].as_u64() != Some(0) {
                        return Err(format!("PutTargets {name}: {out}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a setup thread panicked")??;
    }
    eprintln!(
        "setup: {} queues, {} rules with one queue target each, {:.1} s",
        o.queues,
        o.rules,
        started.elapsed().as_secs_f64()
    );
    Ok(arns.to_vec())
}

/// A small deterministic generator (xorshift64*), one per client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

#[derive(Default)]
struct Tally {
    /// Microseconds per request (measured ones only, after the warm-up).
    latencies: Vec<u32>,
    requests: u64,
    accepted_entries: u64,
    /// Accepted entries, the warm-up's included.
    all_accepted: u64,
    failed_entries: u64,
    errors: u64,
    first_error: Option<String>,
}

fn client_loop(o: &Options, index: usize, start: Instant, stop: &AtomicBool) -> Tally {
    let c = Client::new(&o.url);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1).wrapping_mul(0x1234_5678_9abc));
    let mut t = Tally::default();
    let measure_from = start + Duration::from_secs_f64(o.warmup);
    // Paced: this client's share of the rate, in requests per second.
    let interval = (o.rate > 0.0)
        .then(|| Duration::from_secs_f64(o.clients as f64 * ENTRIES_PER_REQUEST as f64 / o.rate));
    // Spread the clients' schedules over one interval.
    let mut next = start
        + interval.map_or(Duration::ZERO, |i| {
            i.mul_f64(index as f64 / o.clients as f64)
        });
    let mut n: u64 = 0;
    let mut entries = String::with_capacity(4096);
    while !stop.load(Ordering::Relaxed) {
        let scheduled = match interval {
            Some(i) => {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
                let s = next;
                next += i;
                s
            }
            None => Instant::now(),
        };
        entries.clear();
        entries.push_str("{\"Entries\":[");
        for e in 0..ENTRIES_PER_REQUEST {
            if e > 0 {
                entries.push(',');
            }
            let detail = format!(
                "{{\"key\":\"k{}\",\"client\":{index},\"n\":{n},\"payload\":\"{}\"}}",
                rng.below(o.rules),
                "x".repeat(64)
            );
            let entry = json!({"Source": "load", "DetailType": "LoadTest", "Detail": detail});
            entries.push_str(&entry.to_string());
        }
        entries.push_str("]}");
        n += 1;
        let result = c.call("AWSEvents.PutEvents", &entries);
        let done = Instant::now();
        let measured = scheduled >= measure_from;
        match result {
            Ok((200, text)) => {
                let failed = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["FailedEntryCount"].as_u64())
                    .unwrap_or(ENTRIES_PER_REQUEST as u64);
                t.all_accepted += ENTRIES_PER_REQUEST as u64 - failed.min(10);
                if measured {
                    t.requests += 1;
                    t.failed_entries += failed;
                    t.accepted_entries += ENTRIES_PER_REQUEST as u64 - failed;
                    let micros = done.duration_since(scheduled).as_micros();
                    t.latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
                if failed > 0 && t.first_error.is_none() {
                    t.first_error = Some(text.chars().take(300).collect());
                }
            }
            Ok((status, text)) => {
                t.errors += 1;
                t.first_error.get_or_insert_with(|| {
                    format!("{status}: {}", text.chars().take(300).collect::<String>())
                });
            }
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(e);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    t
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn pending_deliveries(o: &Options) -> Option<u64> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(&format!("{}/health", o.url)).call().ok()?;
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
    v["pending_deliveries"].as_u64()
}

fn run(o: &Options) -> Result<(), String> {
    let arns = if o.setup { setup(o)? } else { Vec::new() };
    let cpu_before = o.server_pid.map(thread_cpu);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..o.clients)
        .map(|i| {
            let (o, stop) = (o.clone(), Arc::clone(&stop));
            std::thread::spawn(move || client_loop(&o, i, start, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(o.warmup + o.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    for h in handles {
        let t = h.join().map_err(|_| "a client thread panicked")?;
        total.latencies.extend(t.latencies);
        total.requests += t.requests;
        total.accepted_entries += t.accepted_entries;
        total.all_accepted += t.all_accepted;
        total.failed_entries += t.failed_entries;
        total.errors += t.errors;
        if total.first_error.is_none() {
            total.first_error = t.first_error;
        }
    }
    total.latencies.sort_unstable();
    let l = &total.latencies;
    println!(
        "put-events: clients={} rules={} rate={} requests={} entries={} seconds={:.2} entries_per_second={:.0} \
         p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={} failed_entries={}",
        o.clients,
        o.rules,
        if o.rate > 0.0 {
            format!("{:.0}", o.rate)
        } else {
            "max".to_string()
        },
        total.requests,
        total.accepted_entries,
        o.seconds,
        total.accepted_entries as f64 / o.seconds.max(1e-9),
        percentile(l, 50.0),
        percentile(l, 90.0),
        percentile(l, 99.0),
        percentile(l, 100.0),
        total.errors,
        total.failed_entries,
    );
    if let Some(e) = &total.first_error {
        eprintln!("first error: {e}");
    }
    let drain_started = Instant::now();
    let mut pending = pending_deliveries(o);
    while pending.is_some_and(|p| p > 0) && drain_started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
        pending = pending_deliveries(o);
    }
    eprintln!(
        "deliveries: {} pending after {:.1} s",
        pending.map_or("?".to_string(), |p| p.to_string()),
        drain_started.elapsed().as_secs_f64()
    );
    if let (Some(pid), Some(before)) = (o.server_pid, &cpu_before) {
        report_cpu(before, &thread_cpu(pid), total.all_accepted);
    }
    if o.purge && !arns.is_empty() {
        let c = Client::new(&o.url);
        for q in 0..o.queues {
            let url = c.ok(
                "AmazonSQS.GetQueueUrl",
                &json!({"QueueName": format!("load-{q}")}),
            )?["QueueUrl"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            c.ok("AmazonSQS.PurgeQueue", &json!({"QueueUrl": url}))?;
        }
    }
    if total.requests == 0 {
        return Err("no request succeeded".to_string());
    }
    Ok(())
}

/// CPU seconds per thread of process `pid` (thread id → (name, seconds)),
/// from `/proc/PID/task/*/stat`; empty if it cannot be read.
/// Key 0 is the whole process (its ended threads included).
fn thread_cpu(pid: u32) -> std::collections::HashMap<u32, (String, f64)> {
    let tick = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| t.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    // `tid (name) state ...`: the name may hold spaces and parentheses;
    // utime and stime are fields 14 and 15 of the line.
    let read = |path: std::path::PathBuf| -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(path).ok()?;
        let (open, close) = (stat.find('(')?, stat.rfind(')')?);
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        Some((
            stat[open + 1..close].to_string(),
            (ticks(11)? + ticks(12)?) / tick,
        ))
    };
    let mut out = std::collections::HashMap::new();
    if let Some(process) = read(format!("/proc/{pid}/stat").into()) {
        out.insert(0, process);
    }
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        if let Some(thread) = read(task.path().join("stat")) {
            out.insert(tid, thread);
        }
    }
    out
}

/// Prints the server's CPU between two readings, per entry and per group
/// of threads (by name). Threads that ended in between are not in the
/// groups; the total comes from the process's own counters.
fn report_cpu(
    before: &std::collections::HashMap<u32, (String, f64)>,
    after: &std::collections::HashMap<u32, (String, f64)>,
    entries: u64,
) {
    let mut groups: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    let cpu_of = |m: &std::collections::HashMap<u32, (String, f64)>| m.get(&0).map_or(0.0, |p| p.1);
    let total = (cpu_of(after) - cpu_of(before)).max(0.0);
    for (tid, (name, cpu)) in after.iter().filter(|(tid, _)| **tid != 0) {
        let was = before.get(tid).map_or(0.0, |b| b.1);
        let used = (cpu - was).max(0.0);
        // Numbered threads (`ferrule-states-1`) are one group.
        let group = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        *groups.entry(group.to_string()).or_default() += used;
    }
    println!(
        "server: cpu_s={total:.2} entries={entries} us_per_entry={:.1}",
        if entries > 0 {
            total * 1e6 / entries as f64
        } else {
            0.0
        }
    );
    let mut groups: Vec<_> = groups.into_iter().filter(|(_, c)| *c > 0.0).collect();
    groups.sort_by(|a, b| b.1.total_cmp(&a.1));
    let split: Vec<String> = groups
        .iter()
        .map(|(g, c)| format!("{g}={c:.2}s({:.0}%)", 100.0 * c / total.max(1e-9)))
        .collect();
    println!("server threads: {}", split.join(" "));
}

fn main() -> ExitCode {
    match parse_args().and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
