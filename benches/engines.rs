//! ferrule side by side with the engines users would pick instead, on the
//! same machine, in the same run, over the same bytes.
//!
//! Each scenario of `ferrule::benchdata` (per operator, the four classic
//! citylots patterns, the 1k / 10k mixed rule sets, rule-count scaling)
//! becomes a criterion group with:
//!
//! * `ferrule` — `Matcher::matches_with` on each event, one thread;
//! * `quamina` — the quamina crate (Rust port of quamina), where the
//!   scenario's pattern language is supported and its answers agree with
//!   ferrule's (checked before timing; disagreements and panics are
//!   reported, not fatal);
//! * `simd-json-parse` — simd-json parsing a copy of each event onto a tape,
//!   no matching: the limit to approach;
//! * `serde_json-value` — `serde_json::from_slice::<Value>`;
//! * `serde_json-skim` (one group per event set) — serde_json validating
//!   the event without building anything (`IgnoredAny`).
//!
//! Then `compile-10k` (parse + compile of 10k rules) and `threads-*`
//! (`matches_batch` / `count_batch` on 1 and 2 threads). Throughput is in
//! events (rules for compile), so criterion prints events/s. At the end a
//! summary table gives events/s per engine and the ratios, read back from
//! criterion's estimates of this run.
//!
//! `FERRULE_BENCH_LINES` sets the number of citylots lines (default 10,000).
//! `FERRULE_BENCH_CLOCK=cpu` measures the CPU time of the process (all
//! threads) instead of wall-clock time: on a machine shared with other work
//! it gives steadier ratios between engines; criterion's "time" and
//! "thrpt" then mean CPU time and events per CPU-second, and for the
//! 2-thread benchmarks they show the CPU cost of an event (equal to the
//! 1-thread figure if matching scales).
//! Run: `cargo bench --bench engines` (all, ~10 minutes), or with a filter:
//! `cargo bench --bench engines -- op-numeric`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, Throughput};
use ferrule::{MatchScratch, Matcher, RuleId, RuleSet};
use ferrule_benchdata::{BenchData, BenchRule, EventSet, Scenario, SimdParser};
use quamina::{Quamina, QuaminaBuilder, QuaminaError};
use rayon::prelude::*;

// ---------------------------------------------------------------------------
// Live heap bytes, for the size of compiled matchers
// ---------------------------------------------------------------------------

struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the heap bytes it left allocated.
fn live_bytes_of<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let before = LIVE.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let value = f();
    COUNTING.store(false, Ordering::SeqCst);
    (value, LIVE.load(Ordering::SeqCst) - before)
}

// ---------------------------------------------------------------------------
// Process CPU time as a criterion measurement
// ---------------------------------------------------------------------------

/// CPU time consumed by the whole process (`CLOCK_PROCESS_CPUTIME_ID`).
struct ProcessCpuTime;

static WALL_TIME: WallTime = WallTime;

fn process_cpu_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ProcessCpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        process_cpu_nanos()
    }

    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(process_cpu_nanos().saturating_sub(start))
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

// ---------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------

fn ferrule_matcher(rules: &[BenchRule]) -> Matcher {
    let mut set = RuleSet::new();
    for r in rules {
        set.add(&r.name, &r.pattern)
            .unwrap_or_else(|e| panic!("ferrule rejects {}: {e}", r.name));
    }
    set.compile()
}

/// ferrule's answer: how many events each rule matched.
fn ferrule_counts(m: &Matcher, events: &[Vec<u8>]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut scratch = MatchScratch::default();
    let mut out: Vec<RuleId> = Vec::new();
    for e in events {
        if m.matches_with(e, &mut scratch, &mut out).is_ok() {
            for id in &out {
                *counts.entry(m.name(*id).to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn ferrule_pass(
    m: &Matcher,
    events: &[Vec<u8>],
    scratch: &mut MatchScratch,
    out: &mut Vec<RuleId>,
) -> usize {
    let mut total = 0;
    for e in events {
        if m.matches_with(e, scratch, out).is_ok() {
            total += out.len();
        }
    }
    total
}

type Q = Quamina<u32>;

fn build_quamina(rules: &[BenchRule], budget: Option<usize>) -> Result<Q, String> {
    let mut builder = QuaminaBuilder::<u32>::new();
    if let Some(b) = budget {
        builder = builder.with_arena_byte_budget(b);
    }
    let mut q = builder.build().map_err(|e| format!("build: {e}"))?;
    for (i, r) in rules.iter().enumerate() {
        for p in r.portable.iter().flatten() {
            q.add_pattern(i as u32, p)
                .map_err(|e: QuaminaError| format!("rule {} ({p}): {e}", r.name))?;
        }
    }
    // quamina finishes building its automaton on the first match: count
    // that as part of compiling (and let it fail here, not while timing).
    let _ = q.matches_for_event(b"{}");
    Ok(q)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// Builds quamina for `rules` (with its default limits, then with a 1 GiB
/// arena budget if the default is too small), catching panics.
fn try_quamina(rules: &[BenchRule], notes: &mut Vec<String>, scenario: &str) -> Option<Q> {
    let attempt = |budget| catch_unwind(AssertUnwindSafe(|| build_quamina(rules, budget)));
    match attempt(None) {
        Ok(Ok(q)) => Some(q),
        Ok(Err(e)) if e.contains("too complex") || e.contains("budget") => {
            match attempt(Some(1 << 30)) {
                Ok(Ok(q)) => {
                    notes.push(format!(
                        "{scenario}: quamina needed a larger arena budget than its 10 MB default ({e})"
                    ));
                    Some(q)
                }
                Ok(Err(e2)) => {
                    notes.push(format!("{scenario}: quamina rejects the rules: {e2}"));
                    None
                }
                Err(p) => {
                    notes.push(format!(
                        "{scenario}: quamina PANICKED while adding patterns (1 GiB budget): {}",
                        panic_message(p)
                    ));
                    None
                }
            }
        }
        Ok(Err(e)) => {
            notes.push(format!("{scenario}: quamina rejects the rules: {e}"));
            None
        }
        Err(p) => {
            notes.push(format!(
                "{scenario}: quamina PANICKED while adding patterns: {}",
                panic_message(p)
            ));
            None
        }
    }
}

/// quamina's answer, per rule name; `Err` if it panicked.
fn quamina_counts(
    q: &Q,
    rules: &[BenchRule],
    events: &[Vec<u8>],
) -> Result<(HashMap<String, usize>, usize), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut counts = HashMap::new();
        let mut duplicates = 0;
        for e in events {
            let mut ids = q.matches_for_event(e).unwrap_or_default();
            let n = ids.len();
            ids.sort_unstable();
            ids.dedup();
            duplicates += n - ids.len();
            for id in ids {
                *counts.entry(rules[id as usize].name.clone()).or_insert(0) += 1;
            }
        }
        (counts, duplicates)
    }))
    .map_err(panic_message)
}

fn quamina_pass(q: &Q, events: &[Vec<u8>]) -> usize {
    events
        .iter()
        .map(|e| q.matches_for_event(e).map_or(0, |v| v.len()))
        .sum()
}

/// Rules whose counts differ: (name, ferrule, quamina).
fn differences(
    rules: &[BenchRule],
    ferrule: &HashMap<String, usize>,
    quamina: &HashMap<String, usize>,
) -> Vec<(String, usize, usize)> {
    rules
        .iter()
        .filter_map(|r| {
            let f = ferrule.get(&r.name).copied().unwrap_or(0);
            let q = quamina.get(&r.name).copied().unwrap_or(0);
            (f != q).then(|| (r.name.clone(), f, q))
        })
        .collect()
}

/// The first event on which ferrule and quamina disagree about `rule`, as
/// text for a note.
fn first_disagreement(m: &Matcher, q: &Q, s: &Scenario, events: &[Vec<u8>], rule: &str) -> String {
    let Some(index) = s.rules.iter().position(|r| r.name == rule) else {
        return String::new();
    };
    let id = m.id(rule);
    for e in events {
        let f = m
            .matches(e)
            .is_ok_and(|ids| id.is_some_and(|id| ids.contains(&id)));
        let qm = q
            .matches_for_event(e)
            .is_ok_and(|ids| ids.contains(&(index as u32)));
        if f != qm {
            let text = String::from_utf8_lossy(e);
            let shown: String = text.chars().take(400).collect();
            return format!(
                "\n      first event where they differ on {rule} {} (ferrule {f}, quamina {qm}): {shown}{}",
                s.rules[index].pattern,
                if text.len() > shown.len() { "..." } else { "" }
            );
        }
    }
    String::new()
}

// ---------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------

/// What ran, to read criterion's estimates back at the end.
struct Summary {
    started: SystemTime,
    /// (group, bench id, elements per iteration)
    benches: Vec<(String, String, u64)>,
    notes: Vec<String>,
    memory: Vec<String>,
    /// Scenarios where quamina was timed although its answers differ.
    disagreed: Vec<String>,
    /// Whether times are CPU time.
    cpu_clock: bool,
}

impl Summary {
    fn record(&mut self, group: &str, id: &str, elements: u64) {
        self.benches
            .push((group.to_string(), id.to_string(), elements));
    }

    fn criterion_dir() -> PathBuf {
        if let Some(home) = std::env::var_os("CRITERION_HOME") {
            return PathBuf::from(home);
        }
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
            return PathBuf::from(target).join("criterion");
        }
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
    }

    /// Nanoseconds per iteration of this run, as criterion reports them
    /// (the slope when there is one, else the mean).
    fn nanos(&self, group: &str, id: &str) -> Option<f64> {
        let path = Self::criterion_dir()
            .join(group)
            .join(id)
            .join("new/estimates.json");
        let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
        if modified < self.started {
            return None; // from an earlier run (filtered out of this one)
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        json.get("slope")
            .and_then(|s| s.get("point_estimate"))
            .or_else(|| json.get("mean").and_then(|m| m.get("point_estimate")))
            .and_then(serde_json::Value::as_f64)
    }

    fn rate(&self, group: &str, id: &str) -> Option<f64> {
        let elements = self
            .benches
            .iter()
            .find(|(g, i, _)| g == group && i == id)
            .map(|(_, _, e)| *e)?;
        self.nanos(group, id)
            .map(|ns| elements as f64 / (ns * 1e-9))
    }

    fn print(&self) {
        let fmt = |r: Option<f64>| match r {
            Some(r) if r >= 1e6 => format!("{:.2}M", r / 1e6),
            Some(r) if r >= 1e3 => format!("{:.1}k", r / 1e3),
            Some(r) => format!("{r:.1}"),
            None => "-".to_string(),
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".to_string(),
        };
        let mut groups: Vec<&str> = Vec::new();
        for (g, _, _) in &self.benches {
            if !groups.contains(&g.as_str()) {
                groups.push(g);
            }
        }
        println!();
        let unit = if self.cpu_clock {
            "events per CPU-second"
        } else {
            "events/s"
        };
        println!("==== summary ({unit}, this run) ====");
        println!(
            "{:<26} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}",
            "scenario",
            "ferrule",
            "quamina",
            "simd",
            "serde",
            "skim",
            "f/quam",
            "f/simd",
            "f/serde"
        );
        for g in groups
            .iter()
            .filter(|g| !g.starts_with("threads") && !g.starts_with("compile"))
        {
            let f = self.rate(g, "ferrule");
            let q = self.rate(g, "quamina");
            let simd = self.rate(g, "simd-json-parse");
            let serde = self.rate(g, "serde_json-value");
            let skim = self.rate(g, "serde_json-skim");
            if f.is_none() {
                continue;
            }
            let mark = if self.disagreed.iter().any(|d| d == g) {
                "*"
            } else {
                ""
            };
            println!(
                "{:<26} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}",
                g,
                fmt(f),
                format!("{mark}{}", fmt(q)),
                fmt(simd),
                fmt(serde),
                fmt(skim),
                ratio(f, q),
                ratio(f, simd),
                ratio(f, serde)
            );
        }
        if !self.disagreed.is_empty() {
            println!("  * quamina's answers differ from ferrule's there (see the notes)");
        }
        for g in groups.iter().filter(|g| g.starts_with("threads")) {
            println!();
            println!("{g} ({unit}):");
            let ids: Vec<&str> = self
                .benches
                .iter()
                .filter(|(gg, _, _)| gg == g)
                .map(|(_, i, _)| i.as_str())
                .collect();
            for id in &ids {
                let r = self.rate(g, id);
                if r.is_none() {
                    continue;
                }
                let scaling = id.strip_suffix("-2t").and_then(|base| {
                    let one = self.rate(g, &format!("{base}-1t"))?;
                    let q = r? / one;
                    Some(if self.cpu_clock {
                        format!(
                            "  (CPU cost per event {:.0}% of 1 thread: up to {:.2}x on 2 idle cores)",
                            100.0 / q,
                            (2.0 * q).min(2.0)
                        )
                    } else {
                        format!("  ({q:.2}x of 1 thread)")
                    })
                });
                println!("  {:<24} {:>9}{}", id, fmt(r), scaling.unwrap_or_default());
            }
        }
        for g in groups.iter().filter(|g| g.starts_with("compile")) {
            println!();
            println!(
                "{g} ({} per compile of all rules):",
                if self.cpu_clock { "CPU time" } else { "time" }
            );
            for (gg, id, _) in &self.benches {
                if gg == g
                    && let Some(ns) = self.nanos(g, id)
                {
                    println!("  {:<24} {:>9.1} ms", id, ns / 1e6);
                }
            }
        }
        if !self.memory.is_empty() {
            println!();
            println!("memory of the compiled rules (live heap bytes):");
            for m in &self.memory {
                println!("  {m}");
            }
        }
        if !self.notes.is_empty() {
            println!();
            println!("notes (peer problems, skipped benchmarks):");
            for n in &self.notes {
                println!("  - {n}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------

fn bench_scenario<M: Measurement>(
    c: &mut Criterion<M>,
    data: &BenchData,
    s: &Scenario,
    summary: &mut Summary,
    skim: bool,
) {
    let events = data.events(s.events);
    let n = events.len() as u64;
    let matcher = ferrule_matcher(&s.rules);
    let ferrule_answer = ferrule_counts(&matcher, events);
    let total: usize = ferrule_answer.values().sum();
    println!(
        "{}: {} rules over {} {} events; ferrule matches {} ({:.2} per event) — {}",
        s.name,
        s.rules.len(),
        n,
        s.events.name(),
        total,
        total as f64 / n as f64,
        s.about
    );

    let quamina = if !s.portable {
        summary.notes.push(format!(
            "{}: no quamina run: quamina has no such operator",
            s.name
        ));
        None
    } else {
        match try_quamina(&s.rules, &mut summary.notes, &s.name) {
            None => None,
            Some(q) => match quamina_counts(&q, &s.rules, events) {
                Err(p) => {
                    summary
                        .notes
                        .push(format!("{}: quamina PANICKED while matching: {p}", s.name));
                    None
                }
                Ok((answer, duplicates)) => {
                    if duplicates > 0 {
                        summary.notes.push(format!(
                            "{}: quamina returned {duplicates} duplicate rule ids (one per $or branch)",
                            s.name
                        ));
                    }
                    let diff = differences(&s.rules, &ferrule_answer, &answer);
                    if diff.is_empty() {
                        Some(q)
                    } else {
                        let anyway = std::env::var_os("FERRULE_BENCH_QUAMINA_ANYWAY").is_some();
                        let shown: Vec<String> = diff
                            .iter()
                            .take(5)
                            .map(|(name, f, q)| format!("{name} ferrule {f} / quamina {q}"))
                            .collect();
                        summary.notes.push(format!(
                            "{}: quamina and ferrule DISAGREE on {} of {} rules ({}); e.g. {}{}",
                            s.name,
                            diff.len(),
                            s.rules.len(),
                            if anyway {
                                "quamina timed anyway: FERRULE_BENCH_QUAMINA_ANYWAY"
                            } else {
                                "quamina not timed"
                            },
                            shown.join(", "),
                            first_disagreement(&matcher, &q, s, events, &diff[0].0)
                        ));
                        if anyway {
                            summary.disagreed.push(s.name.clone());
                            Some(q)
                        } else {
                            None
                        }
                    }
                }
            },
        }
    };

    let mut group = c.benchmark_group(&s.name);
    group.throughput(Throughput::Elements(n));
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    group.bench_function("ferrule", |b| {
        b.iter(|| ferrule_pass(&matcher, black_box(events), &mut scratch, &mut out))
    });
    summary.record(&s.name, "ferrule", n);
    if let Some(q) = &quamina {
        group.bench_function("quamina", |b| b.iter(|| quamina_pass(q, black_box(events))));
        summary.record(&s.name, "quamina", n);
    }
    let mut parser = SimdParser::new();
    group.bench_function("simd-json-parse", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| parser.parse(black_box(e)))
                .sum::<usize>()
        })
    });
    summary.record(&s.name, "simd-json-parse", n);
    group.bench_function("serde_json-value", |b| {
        b.iter(|| {
            events
                .iter()
                .map(
                    |e| match serde_json::from_slice::<serde_json::Value>(black_box(e)) {
                        Ok(serde_json::Value::Object(m)) => m.len(),
                        _ => 0,
                    },
                )
                .sum::<usize>()
        })
    });
    summary.record(&s.name, "serde_json-value", n);
    if skim {
        group.bench_function("serde_json-skim", |b| {
            b.iter(|| {
                events
                    .iter()
                    .filter(|e| {
                        serde_json::from_slice::<serde::de::IgnoredAny>(black_box(e)).is_ok()
                    })
                    .count()
            })
        });
        summary.record(&s.name, "serde_json-skim", n);
    }
    group.finish();
}

fn bench_compile<M: Measurement>(c: &mut Criterion<M>, data: &BenchData, summary: &mut Summary) {
    let rules = &data.rules_10k;
    let n = rules.len() as u64;
    let build = || ferrule_matcher(rules);
    let start = Instant::now();
    let (matcher, bytes) = live_bytes_of(build);
    let once = start.elapsed();
    summary.memory.push(format!(
        "ferrule, rules-10k: {:.1} MB (Matcher: automaton and names; built in {:.0} ms incl. parsing); stats {:?}",
        bytes as f64 / 1e6,
        once.as_secs_f64() * 1e3,
        matcher.stats()
    ));
    drop(matcher);

    let mut notes = Vec::new();
    let quamina_ok = {
        let start = Instant::now();
        let (q, bytes) = live_bytes_of(|| try_quamina(rules, &mut notes, "compile-10k"));
        let once = start.elapsed();
        match q {
            Some(q) => {
                summary.memory.push(format!(
                    "quamina, rules-10k: {:.1} MB (live heap; its matcher_stats().bytes = {:.1} MB; built in {:.0} ms)",
                    bytes as f64 / 1e6,
                    q.matcher_stats().bytes as f64 / 1e6,
                    once.as_secs_f64() * 1e3
                ));
                true
            }
            None => false,
        }
    };
    summary.notes.extend(notes);

    let mut group = c.benchmark_group("compile-10k");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    group.bench_function("ferrule", |b| b.iter(|| ferrule_matcher(black_box(rules))));
    summary.record("compile-10k", "ferrule", n);
    let mut set = RuleSet::new();
    for r in rules {
        set.add(&r.name, &r.pattern).expect("checked above");
    }
    group.bench_function("ferrule-compile-only", |b| {
        b.iter(|| black_box(&set).compile())
    });
    summary.record("compile-10k", "ferrule-compile-only", n);
    if quamina_ok {
        group.measurement_time(Duration::from_secs(10));
        group.bench_function("quamina", |b| {
            b.iter(|| build_quamina(black_box(rules), Some(1 << 30)).expect("built before"))
        });
        summary.record("compile-10k", "quamina", n);
    }
    group.finish();
}

fn bench_threads<M: Measurement>(
    c: &mut Criterion<M>,
    data: &BenchData,
    scenarios: &[Scenario],
    summary: &mut Summary,
) {
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, 2]
        .into_iter()
        .map(|t| {
            (
                t,
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .expect("pool"),
            )
        })
        .collect();
    for name in ["citylots-4", "rules-10k"] {
        let Some(s) = scenarios.iter().find(|s| s.name == name) else {
            continue;
        };
        let events = data.events(s.events);
        let n = events.len() as u64;
        let matcher = ferrule_matcher(&s.rules);
        // quamina only if it agreed in the single-thread group.
        let quamina = if summary
            .benches
            .iter()
            .any(|(g, i, _)| g == name && i == "quamina")
        {
            build_quamina(&s.rules, Some(1 << 30)).ok()
        } else {
            None
        };
        let group_name = format!("threads-{name}");
        let mut group = c.benchmark_group(&group_name);
        group.throughput(Throughput::Elements(n));
        for (t, pool) in &pools {
            let id = format!("ferrule-matches_batch-{t}t");
            group.bench_function(&id, |b| {
                b.iter(|| pool.install(|| matcher.matches_batch(black_box(events))))
            });
            summary.record(&group_name, &id, n);
            let id = format!("ferrule-count_batch-{t}t");
            group.bench_function(&id, |b| {
                b.iter(|| pool.install(|| matcher.count_batch(black_box(events))))
            });
            summary.record(&group_name, &id, n);
            if let Some(q) = &quamina {
                let id = format!("quamina-{t}t");
                group.bench_function(&id, |b| {
                    b.iter(|| {
                        pool.install(|| {
                            events
                                .par_iter()
                                .with_min_len(64)
                                .map(|e| q.matches_for_event(black_box(e)).map_or(0, |v| v.len()))
                                .sum::<usize>()
                        })
                    })
                });
                summary.record(&group_name, &id, n);
            }
            let id = format!("simd-json-parse-{t}t");
            group.bench_function(&id, |b| {
                b.iter(|| {
                    pool.install(|| {
                        events
                            .par_iter()
                            .with_min_len(64)
                            .map_init(SimdParser::new, |p, e| p.parse(black_box(e)))
                            .sum::<usize>()
                    })
                })
            });
            summary.record(&group_name, &id, n);
        }
        group.finish();
    }
}

fn main() {
    let lines = std::env::var("FERRULE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // One line per panic (peers' panics are caught and reported).
    std::panic::set_hook(Box::new(|info| eprintln!("caught panic: {info}")));
    let data = BenchData::generate(lines);
    println!(
        "data: citylots {} lines ({}; classic counts {:?}), tweets {} events ({}), cloudtrail {} events, rules-1k {}, rules-10k {}",
        data.citylots.len(),
        data.citylots_source,
        data.citylots_counts.map(|c| c.0),
        data.twitter.len(),
        data.twitter_source,
        data.cloudtrail.len(),
        data.rules_1k_source,
        data.rules_10k_source
    );
    let cpu_clock = std::env::var("FERRULE_BENCH_CLOCK").is_ok_and(|v| v == "cpu");
    let mut summary = Summary {
        started: SystemTime::now(),
        benches: Vec::new(),
        notes: Vec::new(),
        memory: Vec::new(),
        disagreed: Vec::new(),
        cpu_clock,
    };
    if cpu_clock {
        println!("clock: CPU time of the process (FERRULE_BENCH_CLOCK=cpu)");
        let c = Criterion::default().with_measurement(ProcessCpuTime);
        run(c, &data, &mut summary);
    } else {
        run(Criterion::default(), &data, &mut summary);
    }
    summary.print();
}

fn run<M: Measurement>(c: Criterion<M>, data: &BenchData, summary: &mut Summary) {
    let mut c = c
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    let scenarios = data.scenarios();
    let mut skimmed: Vec<EventSet> = Vec::new();
    for s in &scenarios {
        // The skim baseline once per event set (citylots: with citylots-4).
        let skim = match s.events {
            EventSet::Citylots => s.name == "citylots-4",
            other => !skimmed.contains(&other),
        };
        if skim {
            skimmed.push(s.events);
        }
        bench_scenario(&mut c, data, s, summary, skim);
    }
    bench_compile(&mut c, data, summary);
    bench_threads(&mut c, data, &scenarios, summary);
    c.final_summary();
}
