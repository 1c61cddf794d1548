//! Plain timings for the benches' summary lines: a closure run a few times,
//! measured in wall time and in the calling thread's CPU time.
//!
//! The CPU figure holds better than the wall figure when other processes
//! share the machine (a bench that drives its work on its own thread is
//! charged only for what that thread ran). The CPU clocks come from
//! `clock_gettime` through rustix's safe wrapper.

use std::time::{Duration, Instant};

/// Nanoseconds the calling thread has run on a CPU
/// (`CLOCK_THREAD_CPUTIME_ID`); `None` only if the reading does not fit.
///
/// Not `/proc/thread-self/schedstat`, which this used to read: on kernels
/// without precise scheduler accounting (this project's CI and bench
/// machines) it advances only at the timer tick, 4 ms at a time, which
/// hides any difference in a run shorter than a second.
pub fn thread_cpu_ns() -> Option<u64> {
    cpu_clock_ns(rustix::time::ClockId::ThreadCPUTime)
}

/// Nanoseconds all threads of this process have run on a CPU
/// (`CLOCK_PROCESS_CPUTIME_ID`); `None` only if the reading does not fit.
pub fn process_cpu_ns() -> Option<u64> {
    cpu_clock_ns(rustix::time::ClockId::ProcessCPUTime)
}

fn cpu_clock_ns(clock: rustix::time::ClockId) -> Option<u64> {
    let t = rustix::time::clock_gettime(clock);
    let seconds = u64::try_from(t.tv_sec).ok()?;
    let nanos = u64::try_from(t.tv_nsec).ok()?;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
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

    #[test]
    fn cpu_clocks_resolve_below_a_millisecond() {
        // A tick-based clock (what schedstat gave) moves in steps of
        // milliseconds; the CPU-time clocks must see a few microseconds.
        for clock in [thread_cpu_ns, process_cpu_ns] {
            let start = clock().expect("CPU-time clock");
            let mut step = 0;
            while step == 0 {
                step = clock().expect("CPU-time clock") - start;
            }
            assert!(step < 1_000_000, "first step of {step} ns");
        }
        let (thread, process) = (thread_cpu_ns(), process_cpu_ns());
        assert!(thread <= process, "{thread:?} > {process:?}");
    }
}
