//! Plain timings for the benches' summary lines: a closure run a few times,
//! measured in wall time and in the calling thread's CPU time.
//!
//! The CPU figure holds better than the wall figure when other processes
//! share the machine (a bench that drives its work on its own thread is
//! charged only for what that thread ran). Standard library only, so a
//! crate that wants it pays nothing else for it.

use std::time::{Duration, Instant};

/// Nanoseconds the calling thread has run on a CPU (the first field of
/// Linux's `/proc/thread-self/schedstat`); `None` where that file is
/// missing or unreadable.
pub fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How long some runs of a closure took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How many times the closure ran.
    pub runs: u64,
    /// Wall time of all the runs.
    pub wall: Duration,
    /// The calling thread's CPU time over the runs; `None` when it could not
    /// be read, or did not advance (a clock too coarse to use).
    pub cpu: Option<Duration>,
}

/// Runs `f` `runs` times on the calling thread and times the runs (no
/// warm-up: the caller runs `f` first if it wants one).
pub fn time_runs(runs: u64, mut f: impl FnMut()) -> Timing {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    let wall = start.elapsed();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => Some(Duration::from_nanos(b - a)),
        _ => None,
    };
    Timing { runs, wall, cpu }
}

impl Timing {
    /// Units done per second of wall time, for `per_run` units each run.
    pub fn per_second(&self, per_run: u64) -> f64 {
        self.total(per_run) / self.wall.as_secs_f64()
    }

    /// Units done per second of the thread's CPU time, when it was measured.
    pub fn per_cpu_second(&self, per_run: u64) -> Option<f64> {
        self.cpu.map(|cpu| self.total(per_run) / cpu.as_secs_f64())
    }

    /// `LABEL: R UNIT/s, C per CPU second` (the CPU part only when it was
    /// measured), rates rounded to whole units: the start of the benches'
    /// summary lines, which add their own details after it.
    pub fn rate_line(&self, label: &str, unit: &str, per_run: u64) -> String {
        let cpu = match self.per_cpu_second(per_run) {
            Some(rate) => format!(", {rate:.0} per CPU second"),
            None => String::new(),
        };
        format!("{label}: {:.0} {unit}/s{cpu}", self.per_second(per_run))
    }

    fn total(&self, per_run: u64) -> f64 {
        (per_run * self.runs) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_the_line() {
        let t = Timing {
            runs: 4,
            wall: Duration::from_millis(500),
            cpu: Some(Duration::from_millis(250)),
        };
        assert_eq!(t.per_second(10), 80.0);
        assert_eq!(t.per_cpu_second(10), Some(160.0));
        assert_eq!(
            t.rate_line("pass chain", "transitions", 10),
            "pass chain: 80 transitions/s, 160 per CPU second"
        );
        let no_cpu = Timing { cpu: None, ..t };
        assert_eq!(no_cpu.per_cpu_second(10), None);
        assert_eq!(
            no_cpu.rate_line("x/memory", "transitions", 3),
            "x/memory: 24 transitions/s"
        );
        // Rounded to whole units, not truncated.
        let third = Timing {
            runs: 1,
            wall: Duration::from_secs(3),
            cpu: None,
        };
        assert_eq!(third.rate_line("r", "events", 5), "r: 2 events/s");
    }

    #[test]
    fn runs_are_counted_and_timed() {
        let mut calls = 0u64;
        let t = time_runs(3, || {
            calls += 1;
            std::thread::sleep(Duration::from_millis(5));
        });
        assert_eq!((calls, t.runs), (3, 3));
        assert!(t.wall >= Duration::from_millis(15), "{t:?}");
    }

    #[test]
    fn cpu_time_is_this_threads() {
        if thread_cpu_ns().is_none() {
            return; // not Linux: nothing to measure
        }
        // Busy work is charged to this thread; sleeping is not.
        let busy = time_runs(1, || {
            let start = Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(30) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        });
        let cpu = busy.cpu.expect("a busy thread's CPU time advances");
        assert!(cpu >= Duration::from_millis(10), "{busy:?}");
        assert!(cpu <= busy.wall + Duration::from_millis(5), "{busy:?}");
        let idle = time_runs(1, || std::thread::sleep(Duration::from_millis(50)));
        let idle_cpu = idle.cpu.unwrap_or_default();
        assert!(idle_cpu < Duration::from_millis(25), "{idle:?}");
    }
}
