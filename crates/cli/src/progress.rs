//! `ferrule bench`'s progress display (indicatif) on standard error.
//!
//! An overall bar counts the measurements (a scenario or baseline at one
//! thread count); below it, a spinner names the scenario running and what
//! is being timed. Drawn only when standard error is a terminal, so that CI
//! logs and pipes get the results on standard output and nothing else.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

/// The progress of one `ferrule bench` run.
#[derive(Debug)]
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    current: Option<ProgressBar>,
}

impl Progress {
    /// A display of `total` measurements on standard error if it is a
    /// terminal, hidden otherwise.
    pub fn new(total: u64) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress::with_target(total, target)
    }

    /// A display of `total` measurements drawn on `target`.
    pub fn with_target(total: u64, target: ProgressDrawTarget) -> Progress {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template(
                "bench [{bar:30}] {pos}/{len} measurements, {elapsed} (about {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-"),
        );
        overall.tick();
        Progress {
            multi,
            overall,
            current: None,
        }
    }

    /// A spinner alone, for the work before the measurements (the compile
    /// report, generating the data); it is cleared when dropped.
    pub fn spinner(message: &str) -> ProgressBar {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        }
        .with_finish(ProgressFinish::AndClear);
        bar.set_style(spinner_style());
        bar.set_message(message.to_string());
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar
    }

    /// Starts the spinner of scenario (or baseline) `name`, clearing the
    /// previous one.
    pub fn scenario(&mut self, name: &str) {
        if let Some(done) = self.current.take() {
            done.finish_and_clear();
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.set_prefix(name.to_string());
        if !self.multi.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.current = Some(bar);
    }

    /// Says what the current scenario is timing now (`validated, 2 threads`).
    pub fn timing(&self, what: &str) {
        if let Some(bar) = &self.current {
            bar.set_message(what.to_string());
        }
    }

    /// Counts one measurement as done.
    pub fn measured(&self) {
        self.overall.inc(1);
    }

    /// Clears the display.
    pub fn finish(mut self) {
        if let Some(done) = self.current.take() {
            done.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// "1 thread", "2 threads".
pub fn threads(n: usize) -> String {
    if n == 1 {
        "1 thread".to_string()
    } else {
        format!("{n} threads")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::{Arc, Mutex};

    /// A terminal that records what is written to it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn text(&self) -> String {
            self.0.lock().map(|s| s.clone()).unwrap_or_default()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)?;
            self.write_str("\n")
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if let Ok(mut text) = self.0.lock() {
                text.push_str(s);
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn draws_the_scenario_what_is_timed_and_the_count() {
        let screen = Screen::default();
        let mut progress =
            Progress::with_target(3, ProgressDrawTarget::term_like(Box::new(screen.clone())));
        progress.scenario("citylots-4");
        progress.timing("trusted, 2 threads");
        progress.measured();
        // The spinner redraws on its tick; give it a few.
        std::thread::sleep(Duration::from_millis(400));
        let text = screen.text();
        assert!(text.contains("citylots-4"), "{text:?}");
        assert!(text.contains("trusted, 2 threads"), "{text:?}");
        assert!(text.contains("1/3 measurements"), "{text:?}");
        progress.finish();
    }

    #[test]
    fn thread_counts_read_well() {
        assert_eq!(threads(1), "1 thread");
        assert_eq!(threads(4), "4 threads");
    }
}
