//! `ferrule bench`: the benchmark scenarios without criterion.
//!
//! Each scenario (a rule set over an event set, see
//! [`ferrule_benchdata::BenchData::scenarios`]) is matched for `--seconds` per
//! engine and thread count, by ferrule in both reading modes (validated, the
//! default of `Matcher::matches`, and trusted) and, on one thread, by the
//! quamina crate, side by side: the engines take turns pass by pass
//! ([`run_side_by_side`]), and so do the baselines. The baselines, per event set: the
//! structural-index reader alone (ferrule's reader validating the event and
//! entering nothing: the floor of validated matching), stage 1 alone (the
//! trusted reader entering nothing: every member jumped over by the 64-byte
//! structural classification, the floor of trusted matching), a `memchr`
//! pass over the bytes (the memory floor), simd-json's full parse onto a tape and
//! serde_json into a `Value`.

use std::io::Write;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::CliError;
use super::input::{open_lines, read_rules};
use crate::cli::BenchArgs;
use crate::progress::{self, Progress};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ferrule::{Matcher, Pattern, ReadMode, RuleSet};
use ferrule_benchdata::{
    BenchData, BenchRule, CITYLOTS_FULL_LINES, CITYLOTS_PATTERNS, CitylotsCounts, DataSource,
    EventSet, SimdParser, StructureReader, load_rules, memchr_scan,
};

const DEFAULT_LINES: usize = 50_000;
const SMOKE_LINES: usize = 1_000;
/// The scenario that measures `--rules FILE`.
const RULES_FILE_SCENARIO: &str = "rules-file";

struct Options {
    events: Option<String>,
    rules: Option<String>,
    scenarios: Vec<String>,
    threads: Vec<usize>,
    seconds: f64,
    /// `--lines`, if given.
    lines: Option<usize>,
    smoke: bool,
    early_stop: bool,
    list: bool,
    write_citylots: Option<String>,
}

impl Options {
    fn new(args: BenchArgs) -> Options {
        let threads = if args.threads.is_empty() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            if cores > 1 { vec![1, cores] } else { vec![1] }
        } else {
            args.threads
        };
        Options {
            events: args.events,
            rules: args.rules,
            // `--scenario a,,b` and `--scenario ''` name nothing.
            scenarios: args
                .scenario
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            threads,
            seconds: args.seconds,
            lines: args.lines,
            smoke: args.smoke,
            early_stop: args.early_stop,
            list: args.list,
            write_citylots: args.write_citylots,
        }
    }

    /// The citylots lines to generate for the scenarios.
    fn lines(&self) -> usize {
        match self.lines {
            Some(n) => n,
            None if self.smoke => SMOKE_LINES,
            None => DEFAULT_LINES,
        }
    }
}

/// A scenario ready to run.
struct Job {
    name: String,
    about: String,
    events: EventSet,
    rules: Rules,
    /// The rules in quamina's language, when it has every operator used.
    portable: Option<Vec<BenchRule>>,
}

enum Rules {
    Text(Vec<(String, String)>),
    Parsed(Vec<(String, Pattern)>),
}

impl Rules {
    fn len(&self) -> usize {
        match self {
            Rules::Text(r) => r.len(),
            Rules::Parsed(r) => r.len(),
        }
    }

    fn compile(&self) -> Result<Matcher, CliError> {
        let mut set = RuleSet::new();
        match self {
            Rules::Text(rules) => {
                for (name, pattern) in rules {
                    set.add(name, pattern)
                        .map_err(|e| CliError::fail(format!("rule {name}: {e}")))?;
                }
            }
            Rules::Parsed(rules) => {
                for (name, pattern) in rules {
                    set.add_pattern(name, pattern.clone());
                }
            }
        }
        Ok(set.compile())
    }
}

/// The baselines of an event set at a thread count.
struct Baseline {
    set: EventSet,
    threads: usize,
    structure: Timing,
    stage1: Timing,
    memchr: Timing,
    simd: Timing,
    serde: Timing,
}

/// One measured run.
struct Row {
    scenario: String,
    events: EventSet,
    rules: usize,
    threads: usize,
    events_per_second: f64,
    /// Events per second of CPU time (all threads): unlike wall time, it
    /// does not depend on how many cores other processes leave us.
    events_per_cpu_second: f64,
    /// The trusted mode, CPU-time rate.
    trusted_per_cpu_second: f64,
    /// quamina (one thread only), CPU-time rate, or why it was not timed.
    quamina: Result<f64, String>,
    matched: usize,
    matches: usize,
    event_count: usize,
}

fn serde_parse(event: &[u8]) -> usize {
    match serde_json::from_slice::<serde_json::Value>(event) {
        Ok(serde_json::Value::Object(members)) => members.len(),
        _ => 0,
    }
}

/// A measurement: wall-clock and CPU throughput, and one pass's counts.
#[derive(Clone, Copy)]
struct Timing {
    events_per_second: f64,
    events_per_cpu_second: f64,
    matched: usize,
    matches: usize,
}

/// Times `N` engines on the same `events` side by side: one warm-up pass
/// each, then one pass of each in turn, the CPU and wall time of every pass
/// added to its engine's, until each engine has had about `seconds`.
///
/// Taking turns pass by pass, rather than timing one engine for `seconds`
/// and then the next, is what makes their ratio trustworthy here: on a
/// shared VM the speed of the machine moves by 30% within seconds (other
/// tenants, the hypervisor), and a block of seconds for each engine can
/// land one on a fast stretch and the next on a slow one. A pass lasts
/// milliseconds, and the CPU clock resolves below a microsecond
/// (`ferrule_benchdata::timing`), so reading it around every pass costs
/// nothing measurable.
fn run_side_by_side<const N: usize>(
    events: usize,
    opts: &Options,
    passes: &mut [&mut dyn FnMut() -> (usize, usize); N],
) -> [Timing; N] {
    let mut counts = [(0usize, 0usize); N];
    let mut warm_up = [0f64; N];
    for (k, pass) in passes.iter_mut().enumerate() {
        let start = Instant::now();
        counts[k] = pass();
        warm_up[k] = start.elapsed().as_secs_f64().max(1e-9);
    }
    if opts.smoke {
        return std::array::from_fn(|k| Timing {
            events_per_second: events as f64 / warm_up[k],
            events_per_cpu_second: f64::NAN,
            matched: counts[k].0,
            matches: counts[k].1,
        });
    }
    let budget = Duration::from_secs_f64(opts.seconds * N as f64);
    let mut wall = [0f64; N];
    // Process CPU nanoseconds (all threads); `None` once any reading of
    // the clock failed: no CPU figure then.
    let cpu_ns = ferrule_benchdata::timing::process_cpu_ns;
    let mut cpu: [Option<u64>; N] = [Some(0); N];
    let mut rounds = 0usize;
    let start = Instant::now();
    while rounds == 0 || start.elapsed() < budget {
        for (k, pass) in passes.iter_mut().enumerate() {
            let cpu_start = cpu_ns();
            let wall_start = Instant::now();
            std::hint::black_box(pass());
            wall[k] += wall_start.elapsed().as_secs_f64();
            cpu[k] = match (cpu[k], cpu_start, cpu_ns()) {
                (Some(sum), Some(a), Some(b)) => Some(sum + b.saturating_sub(a)),
                _ => None,
            };
        }
        rounds += 1;
    }
    let done = (events * rounds) as f64;
    std::array::from_fn(|k| Timing {
        events_per_second: done / wall[k].max(1e-9),
        events_per_cpu_second: match cpu[k] {
            Some(ns) if ns > 0 => done / (ns as f64 / 1e9),
            _ => f64::NAN,
        },
        matched: counts[k].0,
        matches: counts[k].1,
    })
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, CliError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::fail(format!("cannot start {threads} threads: {e}")))
}

/// Peak and current resident memory from `/proc/self/status`, in KiB.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn read_events(path: &str) -> Result<Vec<Vec<u8>>, CliError> {
    use std::io::BufRead;
    let mut events = Vec::new();
    for line in open_lines(path)?.split(b'\n') {
        let mut line = line.map_err(|e| CliError::fail(format!("cannot read {path}: {e}")))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            events.push(line);
        }
    }
    if events.is_empty() {
        return Err(CliError::fail(format!("{path}: no events")));
    }
    Ok(events)
}

/// A usage error of `ferrule bench`, in clap's format (exit status 2).
fn usage_error(message: String) -> clap::Error {
    use clap::CommandFactory;
    let mut cli = crate::Cli::command();
    // Builds the bin names, so the usage line reads `ferrule bench`.
    cli.build();
    let bench = cli.find_subcommand_mut("bench");
    match bench {
        Some(bench) => bench.error(clap::error::ErrorKind::InvalidValue, message),
        None => clap::Error::raw(clap::error::ErrorKind::InvalidValue, message),
    }
}

/// The line that says which of the selected scenarios measure `--rules
/// FILE` (only `rules-file`; the others keep their own rule sets).
fn rules_file_line(path: &str, jobs: &[Job]) -> String {
    let (uses, others): (Vec<&Job>, Vec<&Job>) =
        jobs.iter().partition(|j| j.name == RULES_FILE_SCENARIO);
    let others: Vec<&str> = others.iter().map(|j| j.name.as_str()).collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!(
            "; not measured by {} (they keep their own rules)",
            others.join(", ")
        )
    };
    match uses.first() {
        Some(job) => format!(
            "--rules {path} ({} rule{}): measured by scenario {RULES_FILE_SCENARIO} over the {} \
             events{others}",
            job.rules.len(),
            if job.rules.len() == 1 { "" } else { "s" },
            job.events.name()
        ),
        None => format!(
            "--rules {path}: measured by no selected scenario (select {RULES_FILE_SCENARIO} with \
             --scenario){others}"
        ),
    }
}

fn matches_wanted(name: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| match w.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == w,
        })
}

pub fn run(args: BenchArgs) -> Result<i32, CliError> {
    let opts = Options::new(args);
    if let Some(path) = &opts.write_citylots {
        return write_citylots(path, &opts);
    }
    let started = Instant::now();
    // First, on a fresh heap, so that the growth of resident memory is
    // mostly the compiled automaton.
    let compile = if opts.list {
        String::new()
    } else {
        let _spinner = Progress::spinner("compiling rules-10k (the compile report)");
        compile_report()
    };
    let spinner = Progress::spinner("preparing the events and rule sets");

    let data = match &opts.events {
        Some(path) => {
            let lines = read_events(path)?;
            // The full citylots file has known counts.
            let counts =
                (lines.len() == CITYLOTS_FULL_LINES).then_some(CitylotsCounts([7, 836, 2, 1]));
            BenchData::with_citylots(lines, counts, DataSource::File(path.into()))
        }
        None => BenchData::generate(opts.lines()),
    };
    let mut jobs: Vec<Job> = data
        .scenarios()
        .into_iter()
        .map(|s| Job {
            name: s.name,
            about: s.about,
            events: s.events,
            portable: s.portable.then(|| s.rules.clone()),
            rules: Rules::Text(s.rules.into_iter().map(|r| (r.name, r.pattern)).collect()),
        })
        .collect();
    if let Some(path) = &opts.rules {
        let rules = read_rules(path, RuleSet::new().limits())?;
        jobs.push(Job {
            name: RULES_FILE_SCENARIO.to_string(),
            about: format!("the rules of {path}"),
            events: EventSet::Citylots,
            rules: Rules::Parsed(rules),
            portable: None,
        });
    }
    drop(spinner);
    if opts.list {
        for job in &jobs {
            println!("{:<26} {:<10} {}", job.name, job.events.name(), job.about);
        }
        return Ok(0);
    }
    for w in &opts.scenarios {
        if !jobs
            .iter()
            .any(|j| matches_wanted(&j.name, std::slice::from_ref(w)))
        {
            let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
            return Err(CliError::Usage(usage_error(format!(
                "unknown scenario {w:?}; the scenarios are: {}",
                names.join(", ")
            ))));
        }
    }
    jobs.retain(|j| matches_wanted(&j.name, &opts.scenarios));

    let mut sets: Vec<EventSet> = jobs.iter().map(|j| j.events).collect();
    sets.sort();
    sets.dedup();

    println!(
        "ferrule bench: citylots {} lines ({}), tweets {} events ({}), cloudtrail {} events (generated)",
        data.citylots.len(),
        data.citylots_source,
        data.twitter.len(),
        data.twitter_source,
        data.cloudtrail.len()
    );
    println!(
        "rules-1k: {}; rules-10k: {}",
        data.rules_1k_source, data.rules_10k_source
    );
    if let Some(path) = &opts.rules {
        println!("{}", rules_file_line(path, &jobs));
    }
    if opts.smoke {
        println!("smoke run: every scenario once, figures are not measurements");
    } else {
        println!("{:.1} s per scenario and thread count", opts.seconds);
    }
    if opts.early_stop {
        println!("trusted column: the reader's early stop is on (--early-stop)");
    }

    let pools: Vec<(usize, rayon::ThreadPool)> = opts
        .threads
        .iter()
        .map(|&t| pool(t).map(|p| (t, p)))
        .collect::<Result<_, _>>()?;
    let mut progress = Progress::new(((jobs.len() + 5 * sets.len()) * pools.len()) as u64);

    // Baselines: reading or parsing alone.
    let mut baselines: Vec<Baseline> = Vec::new();
    for &set in &sets {
        let events = data.events(set);
        progress.scenario(&format!("baselines/{}", set.name()));
        for (threads, pool) in &pools {
            let on = progress::threads(*threads);
            progress.timing(&format!("the five baselines in turn, {on}"));
            let mut structure = || {
                pool.install(|| {
                    let ok: usize = events
                        .par_iter()
                        .with_min_len(64)
                        .map_init(StructureReader::default, |r, e| usize::from(r.check(e)))
                        .sum();
                    (std::hint::black_box(ok), 0)
                })
            };
            let mut stage1 = || {
                pool.install(|| {
                    let ok: usize = events
                        .par_iter()
                        .with_min_len(64)
                        .map_init(StructureReader::default, |r, e| usize::from(r.skim(e)))
                        .sum();
                    (std::hint::black_box(ok), 0)
                })
            };
            let mut memchr = || {
                pool.install(|| {
                    let n: usize = events
                        .par_iter()
                        .with_min_len(64)
                        .map(|e| memchr_scan(e))
                        .sum();
                    (std::hint::black_box(n), 0)
                })
            };
            let mut simd = || {
                pool.install(|| {
                    let nodes: usize = events
                        .par_iter()
                        .with_min_len(64)
                        .map_init(SimdParser::new, |p, e| p.parse(e))
                        .sum();
                    (std::hint::black_box(nodes), 0)
                })
            };
            let mut serde = || {
                pool.install(|| {
                    let n: usize = events
                        .par_iter()
                        .with_min_len(64)
                        .map(|e| serde_parse(e))
                        .sum();
                    (std::hint::black_box(n), 0)
                })
            };
            let [structure, stage1, memchr, simd, serde] = run_side_by_side(
                events.len(),
                &opts,
                &mut [
                    &mut structure,
                    &mut stage1,
                    &mut memchr,
                    &mut simd,
                    &mut serde,
                ],
            );
            for _ in 0..5 {
                progress.measured();
            }
            baselines.push(Baseline {
                set,
                threads: *threads,
                structure,
                stage1,
                memchr,
                simd,
                serde,
            });
        }
    }

    // The scenarios.
    let mut rows: Vec<Row> = Vec::new();
    let mut wrong: Vec<String> = Vec::new();
    for job in &jobs {
        progress.scenario(&job.name);
        progress.timing("compiling");
        let matcher = job.rules.compile()?.with_early_stop(opts.early_stop);
        let events = data.events(job.events);
        if job.name == "citylots-4"
            && let Some(expected) = data.citylots_counts
        {
            let got = classic_counts(&matcher, events);
            if got != expected.0 {
                wrong.push(format!(
                    "citylots-4: counts {got:?}, expected {:?} (CRANLEIGH, 17TH Even, Geometry, 0011008)",
                    expected.0
                ));
            }
        }
        let quamina = match &job.portable {
            None => Err("unsupported".to_string()),
            Some(rules) => {
                progress.timing("checking quamina's answers");
                quamina_engine(rules, &matcher, events)
            }
        };
        for (threads, pool) in &pools {
            let on = progress::threads(*threads);
            let mut validated =
                || pool.install(|| matcher.count_batch_with_mode(events, ReadMode::Validated));
            let mut trusted =
                || pool.install(|| matcher.count_batch_with_mode(events, ReadMode::Trusted));
            // quamina runs on one thread only: side by side with both modes
            // there, the two modes alone on more threads.
            let (t, trusted, quamina) = match (&quamina, *threads) {
                (Ok(q), 1) => {
                    progress.timing(&format!("validated, trusted and quamina in turn, {on}"));
                    let mut quamina = || (quamina_pass(q, events), 0);
                    let [t, trusted, q] = run_side_by_side(
                        events.len(),
                        &opts,
                        &mut [&mut validated, &mut trusted, &mut quamina],
                    );
                    (
                        t,
                        trusted,
                        Ok(rate(q.events_per_cpu_second, q.events_per_second)),
                    )
                }
                (q, _) => {
                    progress.timing(&format!("validated and trusted in turn, {on}"));
                    let [t, trusted] =
                        run_side_by_side(events.len(), &opts, &mut [&mut validated, &mut trusted]);
                    let q = match q {
                        Ok(_) => Err("1 thread only".to_string()),
                        Err(e) => Err(e.clone()),
                    };
                    (t, trusted, q)
                }
            };
            if (trusted.matched, trusted.matches) != (t.matched, t.matches) {
                wrong.push(format!(
                    "{}: the trusted mode counts {:?}, the validated {:?}",
                    job.name,
                    (trusted.matched, trusted.matches),
                    (t.matched, t.matches)
                ));
            }
            progress.measured();
            rows.push(Row {
                scenario: job.name.clone(),
                events: job.events,
                rules: job.rules.len(),
                threads: *threads,
                events_per_second: t.events_per_second,
                events_per_cpu_second: t.events_per_cpu_second,
                trusted_per_cpu_second: rate(
                    trusted.events_per_cpu_second,
                    trusted.events_per_second,
                ),
                quamina,
                matched: t.matched,
                matches: t.matches,
                event_count: events.len(),
            });
        }
    }

    progress.finish();

    print_table(&rows, &baselines, &pools);
    println!();
    println!("{compile}");
    if !opts.smoke {
        print_targets(&rows, &baselines);
    }
    match memory_kib("VmHWM:") {
        Some(kib) => println!("peak memory (VmHWM): {:.1} MB", kib as f64 / 1024.0),
        None => println!("peak memory: unknown (no /proc/self/status)"),
    }
    println!("total time: {:.1} s", started.elapsed().as_secs_f64());
    if !wrong.is_empty() {
        for w in &wrong {
            eprintln!("WRONG ANSWER: {w}");
        }
        return Ok(1);
    }
    Ok(0)
}

type Quamina = quamina::Quamina<u32>;

/// Runs `f`, catching a panic without the default hook's message on
/// standard error: the table names the panic, and the message would break
/// the progress display. Nothing else runs meanwhile (the pools are idle),
/// so swapping the process-wide hook silences only quamina.
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// quamina built over `rules` (its default arena budget, or 1 GiB if that is
/// too small), if its answers on `events` agree with ferrule's; otherwise
/// why not (a rejected rule, a panic, different answers).
fn quamina_engine(
    rules: &[BenchRule],
    matcher: &Matcher,
    events: &[Vec<u8>],
) -> Result<Quamina, String> {
    let build = |budget: Option<usize>| -> Result<Quamina, String> {
        let mut builder = quamina::QuaminaBuilder::<u32>::new();
        if let Some(b) = budget {
            builder = builder.with_arena_byte_budget(b);
        }
        let mut q = builder.build().map_err(|e| format!("build: {e}"))?;
        for (i, r) in rules.iter().enumerate() {
            for p in r.portable.iter().flatten() {
                q.add_pattern(i as u32, p)
                    .map_err(|e| format!("rejects {}: {e}", r.name))?;
            }
        }
        // quamina finishes its automaton on the first match.
        let _ = q.matches_for_event(b"{}");
        Ok(q)
    };
    let attempt = |budget| match quietly(|| build(budget)) {
        Ok(r) => r,
        Err(p) => Err(format!("panics: {}", panic_text(p))),
    };
    let q = match attempt(None) {
        Err(e) if e.contains("budget") || e.contains("too complex") => attempt(Some(1 << 30))?,
        other => other?,
    };
    // Rule i of `rules` is ferrule's rule of the same name.
    let ids: HashMap<u32, u32> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| matcher.id(&r.name).map(|id| (i as u32, id.index() as u32)))
        .collect();
    let differ = quietly(|| {
        events
            .iter()
            .filter(|e| {
                let mut theirs: Vec<u32> = q
                    .matches_for_event(e)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| ids.get(i).copied())
                    .collect();
                theirs.sort_unstable();
                theirs.dedup();
                let ours: Vec<u32> = matcher
                    .matches(e)
                    .unwrap_or_default()
                    .iter()
                    .map(|id| id.index() as u32)
                    .collect();
                theirs != ours
            })
            .count()
    })
    .map_err(|p| format!("panics: {}", panic_text(p)))?;
    if differ > 0 {
        return Err(format!("answers differ on {differ} events"));
    }
    Ok(q)
}

fn quamina_pass(q: &Quamina, events: &[Vec<u8>]) -> usize {
    events
        .iter()
        .map(|e| q.matches_for_event(e).map_or(0, |v| v.len()))
        .sum()
}

/// `--write-citylots FILE`: the generated citylots lines (all 206,560 of
/// them unless `--lines` says otherwise), `-` for standard output.
fn write_citylots(path: &str, opts: &Options) -> Result<i32, CliError> {
    let lines = match opts.lines {
        Some(n) => n,
        None if opts.smoke => SMOKE_LINES,
        None => CITYLOTS_FULL_LINES,
    };
    let counts = if path == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let counts = write_citylots_to(lines, &mut out)?;
        out.flush()?;
        counts
    } else {
        let file = std::fs::File::create(path)
            .map_err(|e| CliError::fail(format!("cannot create {path}: {e}")))?;
        let mut out = std::io::BufWriter::new(file);
        let counts = write_citylots_to(lines, &mut out)?;
        out.flush()?;
        counts
    };
    eprintln!(
        "{lines} lines; CRANLEIGH {}, 17TH Even {}, Geometry {}, 0011008 {}",
        counts.0[0], counts.0[1], counts.0[2], counts.0[3]
    );
    Ok(0)
}

fn write_citylots_to(lines: usize, out: &mut dyn Write) -> Result<CitylotsCounts, CliError> {
    Ok(ferrule_benchdata::write_citylots(
        lines,
        ferrule_benchdata::CITYLOTS_SEED,
        out,
    )?)
}

fn classic_counts(matcher: &Matcher, events: &[Vec<u8>]) -> [usize; 4] {
    let mut counts = [0; 4];
    let ids: Vec<_> = CITYLOTS_PATTERNS
        .iter()
        .map(|(n, _)| matcher.id(n))
        .collect();
    for e in events {
        if let Ok(found) = matcher.matches(e) {
            for (i, id) in ids.iter().enumerate() {
                if id.is_some_and(|id| found.contains(&id)) {
                    counts[i] += 1;
                }
            }
        }
    }
    counts
}

/// Parses and compiles the 10k rule set and reports times, automaton sizes
/// and the growth of resident memory (an estimate of the automaton's size:
/// the process has done little else yet).
fn compile_report() -> String {
    let (rules, source) = load_rules("rules-10k.json", 10_000);
    let start = Instant::now();
    let mut set = RuleSet::new();
    let mut errors = 0;
    for r in &rules {
        if set.add(&r.name, &r.pattern).is_err() {
            errors += 1;
        }
    }
    let parsed = start.elapsed();
    let rss_before = memory_kib("VmRSS:");
    let start = Instant::now();
    let matcher = set.compile();
    let compiled = start.elapsed();
    let rss_after = memory_kib("VmRSS:");
    let stats = matcher.stats();
    let megabytes = match (rss_before, rss_after) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1024.0),
        _ => None,
    };
    let total = (parsed + compiled).as_secs_f64();
    let mut out = format!(
        "rules-10k ({source}): {} rules, parse {:.1} ms + compile {:.1} ms = {:.1} ms; \
         automaton {} states, {} edges, {} fields; memory ≈ {} \
         (growth of resident memory over the compile)",
        rules.len(),
        parsed.as_secs_f64() * 1e3,
        compiled.as_secs_f64() * 1e3,
        total * 1e3,
        stats.states,
        stats.edges,
        stats.fields,
        megabytes.map_or("unknown".to_string(), |m| format!("{m:.1} MB")),
    );
    if errors > 0 {
        out.push_str(&format!("; {errors} rules rejected"));
    }
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    out.push_str(&format!(
        "\n  compile of 10k rules < 1 s: {}; automaton < 100 MB: {}",
        mark(total < 1.0),
        megabytes.map_or("unknown", |m| mark(m < 100.0))
    ));
    drop(matcher);
    out
}

fn fmt_rate(eps: f64) -> String {
    if eps.is_nan() {
        "-".to_string()
    } else if eps >= 1e6 {
        format!("{:.2}M", eps / 1e6)
    } else if eps >= 1e3 {
        format!("{:.1}k", eps / 1e3)
    } else {
        format!("{eps:.0}")
    }
}

fn baseline(baselines: &[Baseline], set: EventSet, threads: usize) -> Option<&Baseline> {
    baselines
        .iter()
        .find(|b| b.set == set && b.threads == threads)
}

/// The rate shown for a timing: CPU-time based, or wall-clock in a smoke run.
fn rate(cpu: f64, wall: f64) -> f64 {
    if cpu.is_nan() { wall } else { cpu }
}

fn print_table(rows: &[Row], baselines: &[Baseline], pools: &[(usize, rayon::ThreadPool)]) {
    let one_thread = |scenario: &str| {
        rows.iter()
            .find(|r| r.scenario == scenario && r.threads == 1)
    };
    println!();
    println!(
        "rates are events per CPU-second (all threads); ÷q: ratio to quamina; ÷s: ratio to the \
         structural-index baseline (ferrule's reader validating everything and entering nothing); \
         stage1: the trusted reader entering nothing (the structural classification alone)"
    );
    println!(
        "{:<26} {:>6} {:>3} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6} {:>6} {:>7} {:>12} {:>9}",
        "scenario",
        "rules",
        "thr",
        "validated",
        "trusted",
        "quamina",
        "val÷q",
        "tru÷q",
        "val÷s",
        "tru÷s",
        "vs 1thr",
        "matched",
        "matches"
    );
    for b in baselines {
        let s = rate(
            b.structure.events_per_cpu_second,
            b.structure.events_per_second,
        );
        for (name, t) in [
            ("structure", &b.structure),
            ("stage1", &b.stage1),
            ("memchr", &b.memchr),
            ("parse:simd-json", &b.simd),
            ("parse:serde_json", &b.serde),
        ] {
            let r = rate(t.events_per_cpu_second, t.events_per_second);
            println!(
                "{:<26} {:>6} {:>3} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6} {:>6} {:>7} {:>12} {:>9}",
                format!("{name}/{}", b.set.name()),
                "-",
                b.threads,
                fmt_rate(r),
                "",
                "",
                "",
                "",
                ratio(r, s),
                "",
                "",
                "",
                ""
            );
        }
    }
    for r in rows {
        let s = baseline(baselines, r.events, r.threads).map_or(f64::NAN, |b| {
            rate(
                b.structure.events_per_cpu_second,
                b.structure.events_per_second,
            )
        });
        let scaling = match (pools.len() > 1, one_thread(&r.scenario)) {
            (true, Some(one)) if r.threads != 1 => {
                ratio(r.events_per_second, one.events_per_second)
            }
            _ => "-".to_string(),
        };
        let v = rate(r.events_per_cpu_second, r.events_per_second);
        let t = r.trusted_per_cpu_second;
        let (q, vq, tq) = match &r.quamina {
            Ok(q) => (fmt_rate(*q), ratio(v, *q), ratio(t, *q)),
            Err(why) => (short(why), "-".to_string(), "-".to_string()),
        };
        println!(
            "{:<26} {:>6} {:>3} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6} {:>6} {:>7} {:>12} {:>9}",
            r.scenario,
            r.rules,
            r.threads,
            fmt_rate(v),
            fmt_rate(t),
            q,
            vq,
            tq,
            ratio(v, s),
            ratio(t, s),
            scaling,
            format!("{}/{}", r.matched, r.event_count),
            r.matches
        );
    }
    let notes: Vec<String> = rows
        .iter()
        .filter(|r| r.threads == 1)
        .filter_map(|r| match &r.quamina {
            Err(why) if why != "unsupported" => Some(format!("  {}: quamina {why}", r.scenario)),
            _ => None,
        })
        .collect();
    if !notes.is_empty() {
        println!("quamina not timed:");
        for n in notes {
            println!("{n}");
        }
    }
    println!(
        "(vs 1thr: wall-clock events/s against one thread; when ev/cpu-s stays level from 1 to N \
         threads, the matcher itself scales and a lower events/s means the cores were busy elsewhere)"
    );
}

/// A reason short enough for a table cell.
fn short(why: &str) -> String {
    if why == "unsupported" {
        "unsupp.".to_string()
    } else if why.starts_with("answers differ") {
        "differs".to_string()
    } else if why.starts_with("panics") {
        "panics".to_string()
    } else if why == "1 thread only" {
        "-".to_string()
    } else {
        "rejects".to_string()
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "-".to_string()
    } else {
        format!("{:.2}", a / b)
    }
}

/// The targets of the benchmark issue that can be checked without a peer
/// engine.
fn print_targets(rows: &[Row], baselines: &[Baseline]) {
    let row = |name: &str, threads: usize| {
        rows.iter()
            .find(|r| r.scenario == name && r.threads == threads)
            .filter(|r| !r.events_per_second.is_nan())
    };
    let mut lines = Vec::new();
    let mark = |ok: bool| if ok { "met   " } else { "MISSED" };
    let cpu = |r: &Row| rate(r.events_per_cpu_second, r.events_per_second);
    if let Some(four) = row("citylots-4", 1) {
        let (v, t) = (cpu(four), four.trusted_per_cpu_second);
        lines.push(format!(
            "{} citylots-4 validated {} ev/cpu-s (target >= 1.0M); trusted {} (target >= 1.3M): {}",
            mark(v >= 1e6),
            fmt_rate(v),
            fmt_rate(t),
            if t >= 1.3e6 { "met" } else { "MISSED" }
        ));
        if let Ok(q) = four.quamina {
            lines.push(format!(
                "{} citylots-4 validated {:.2}x quamina (target >= 5x)",
                mark(v >= 5.0 * q),
                v / q
            ));
        }
    }
    if let Some(one) = row("exact-1", 1)
        && let Ok(q) = one.quamina
    {
        lines.push(format!(
            "{} exact-1 validated {:.2}x quamina, trusted {:.2}x (target >= 2x)",
            mark(cpu(one) >= 2.0 * q),
            cpu(one) / q,
            one.trusted_per_cpu_second / q
        ));
    }
    for r in rows
        .iter()
        .filter(|r| r.scenario.starts_with("op-") && r.threads == 1)
    {
        if let Ok(q) = r.quamina {
            lines.push(format!(
                "{} {} validated {:.2}x quamina, trusted {:.2}x (target >= 1.5x)",
                mark(cpu(r) >= 1.5 * q),
                r.scenario,
                cpu(r) / q,
                r.trusted_per_cpu_second / q
            ));
        }
    }
    if let (Some(big), Some(four)) = (row("rules-10k", 1), row("citylots-4", 1)) {
        let r = cpu(big) / cpu(four);
        lines.push(format!(
            "{} rules-10k at {:.0}% of citylots-4 (target >= 50%)",
            mark(r >= 0.5),
            r * 100.0
        ));
    }
    for r in rows
        .iter()
        .filter(|r| r.scenario.starts_with("op-") && r.threads == 1)
    {
        if let Some(b) = baseline(baselines, r.events, 1)
            && !r.events_per_second.is_nan()
        {
            let q = cpu(r) / rate(b.simd.events_per_cpu_second, b.simd.events_per_second);
            lines.push(format!(
                "{} {} at {:.0}% of simd-json parse-only (target >= 50%)",
                mark(q >= 0.5),
                r.scenario,
                q * 100.0
            ));
        }
    }
    for r in rows.iter().filter(|r| r.threads == 2) {
        if let Some(one) = row(&r.scenario, 1)
            && !r.events_per_second.is_nan()
        {
            let q = r.events_per_second / one.events_per_second;
            // What 2 idle cores would give if the CPU cost per event stays
            // as measured.
            let cpu = 2.0 * r.events_per_cpu_second / one.events_per_cpu_second;
            lines.push(format!(
                "{} {} on 2 threads: {q:.2}x one thread (target >= 1.8x); CPU cost per event \
                 at 2 threads = {:.0}% of 1 thread, i.e. up to {:.2}x on 2 idle cores",
                mark(q >= 1.8),
                r.scenario,
                100.0 * r.events_per_cpu_second.recip() / one.events_per_cpu_second.recip(),
                cpu.min(2.0),
            ));
        }
    }
    if !lines.is_empty() {
        println!();
        println!("targets (for compile and memory see above):");
        for l in lines {
            println!("  {l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(seconds: f64, smoke: bool) -> Options {
        Options {
            events: None,
            rules: None,
            scenarios: Vec::new(),
            threads: vec![1],
            seconds,
            lines: None,
            smoke,
            early_stop: false,
            list: false,
            write_citylots: None,
        }
    }

    /// About `n` steps of CPU work.
    fn spin(n: u64) -> u64 {
        (0..n).fold(0u64, |x, i| {
            std::hint::black_box(x.wrapping_mul(31).wrapping_add(i))
        })
    }

    #[test]
    fn engines_take_turns_and_each_is_charged_its_own_time() {
        let (mut light_passes, mut heavy_passes) = (0usize, 0usize);
        let mut light = || {
            light_passes += 1;
            std::hint::black_box(spin(100_000));
            (1, 2)
        };
        let mut heavy = || {
            heavy_passes += 1;
            std::hint::black_box(spin(800_000));
            (3, 4)
        };
        let [l, h] = run_side_by_side(1_000, &options(0.05, false), &mut [&mut light, &mut heavy]);
        // The warm-up and then whole rounds: as many passes of each.
        assert_eq!(light_passes, heavy_passes);
        assert!(light_passes >= 2, "{light_passes} passes");
        // The counts are those of the warm-up pass, each engine's own.
        assert_eq!((l.matched, l.matches), (1, 2));
        assert_eq!((h.matched, h.matches), (3, 4));
        // Eight times the work per pass: a swapped or shared account of
        // the time would put the two rates within a factor of two.
        assert!(
            l.events_per_cpu_second > 2.0 * h.events_per_cpu_second,
            "light {} heavy {}",
            l.events_per_cpu_second,
            h.events_per_cpu_second
        );
        assert!(l.events_per_second > 2.0 * h.events_per_second);
    }

    #[test]
    fn a_smoke_run_takes_one_pass_of_each_and_times_no_cpu() {
        let mut passes = [0usize; 3];
        let [a, b, c] = {
            let [p0, p1, p2] = &mut passes;
            run_side_by_side(
                10,
                &options(5.0, true),
                &mut [
                    &mut || {
                        *p0 += 1;
                        (1, 1)
                    },
                    &mut || {
                        *p1 += 1;
                        (2, 2)
                    },
                    &mut || {
                        *p2 += 1;
                        (3, 3)
                    },
                ],
            )
        };
        assert_eq!(passes, [1, 1, 1]);
        assert_eq!([a.matched, b.matched, c.matched], [1, 2, 3]);
        assert!(a.events_per_cpu_second.is_nan() && a.events_per_second > 0.0);
    }
}
