//! `FlexibleTimeWindow`: `OFF`, or `FLEXIBLE` with `MaximumWindowInMinutes` (1-1440).

use jiff::{SignedDuration, Timestamp};

use crate::error::{Error, ErrorKind, constraint_message};

/// The largest `MaximumWindowInMinutes` (24 hours).
pub const MAX_WINDOW_MINUTES: u16 = 1440;

/// A schedule's flexible time window.
///
/// With `FLEXIBLE`, AWS invokes the target at some time within `MaximumWindowInMinutes` after
/// the scheduled time, spreading schedules that share a time. ferrule picks that time
/// deterministically, so tests can predict it: the offset is a hash of the schedule's identity
/// (its ARN, say) and the scheduled time, reduced to whole seconds in `[0, window)`. Across
/// schedules the offsets are uniform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlexibleTimeWindow {
    /// `Mode: OFF`: the target is invoked at the scheduled time.
    Off,
    /// `Mode: FLEXIBLE`: the target is invoked within this many minutes (1-1440) after it.
    Flexible {
        /// `MaximumWindowInMinutes`.
        maximum_window_minutes: u16,
    },
}

impl FlexibleTimeWindow {
    /// Parses the request's `FlexibleTimeWindow` (`Mode`, `MaximumWindowInMinutes`).
    ///
    /// An unknown mode and a window out of 1-1440 are refused with AWS's constraint wording.
    /// `FLEXIBLE` without a window and `OFF` with one are refused with ferrule's wording
    /// (`MaximumWindowInMinutes is required when Mode is FLEXIBLE.` /
    /// `MaximumWindowInMinutes must not be set when Mode is OFF.`): the model leaves the window
    /// optional, and the service's texts for these cases were not found in public recordings.
    pub fn parse(
        mode: &str,
        maximum_window_minutes: Option<i64>,
    ) -> Result<FlexibleTimeWindow, Error> {
        let invalid = |message: String, reason: &str| {
            Error::new(ErrorKind::InvalidFlexibleTimeWindow, message, reason)
        };
        if let Some(w) = maximum_window_minutes {
            let constraint = if w < 1 {
                Some("Member must have value greater than or equal to 1")
            } else if w > i64::from(MAX_WINDOW_MINUTES) {
                Some("Member must have value less than or equal to 1440")
            } else {
                None
            };
            if let Some(constraint) = constraint {
                return Err(invalid(
                    constraint_message(
                        &w.to_string(),
                        "flexibleTimeWindow.maximumWindowInMinutes",
                        constraint,
                    ),
                    "window out of 1-1440",
                ));
            }
        }
        match (mode, maximum_window_minutes) {
            ("OFF", None) => Ok(FlexibleTimeWindow::Off),
            ("OFF", Some(_)) => Err(invalid(
                "MaximumWindowInMinutes must not be set when Mode is OFF.".into(),
                "window with mode OFF",
            )),
            ("FLEXIBLE", Some(w)) => Ok(FlexibleTimeWindow::Flexible {
                // In 1-1440, checked above.
                maximum_window_minutes: w as u16,
            }),
            ("FLEXIBLE", None) => Err(invalid(
                "MaximumWindowInMinutes is required when Mode is FLEXIBLE.".into(),
                "mode FLEXIBLE without a window",
            )),
            (other, _) => Err(invalid(
                constraint_message(
                    other,
                    "flexibleTimeWindow.mode",
                    "Member must satisfy enum value set: [OFF, FLEXIBLE]",
                ),
                "unknown mode",
            )),
        }
    }

    /// How long after the scheduled time the target of the schedule `identity` is invoked for
    /// the run scheduled at `scheduled`: zero when `OFF`, otherwise
    /// `spread_hash(identity, scheduled) % (window × 60)` seconds.
    pub fn offset(&self, identity: &str, scheduled: Timestamp) -> SignedDuration {
        match *self {
            FlexibleTimeWindow::Off => SignedDuration::ZERO,
            FlexibleTimeWindow::Flexible {
                maximum_window_minutes,
            } => {
                let seconds = u64::from(maximum_window_minutes) * 60;
                // Below 86,400, so the cast cannot truncate.
                SignedDuration::from_secs((spread_hash(identity, scheduled) % seconds) as i64)
            }
        }
    }

    /// When the target is invoked for the run of `identity` scheduled at `scheduled`.
    pub fn invocation_time(&self, identity: &str, scheduled: Timestamp) -> Timestamp {
        // The offset is under a day; only a timestamp at the very end of jiff's range could
        // overflow, and then the scheduled time itself is used.
        scheduled
            .checked_add(self.offset(identity, scheduled))
            .unwrap_or(scheduled)
    }
}

/// The stable 64-bit hash behind [`FlexibleTimeWindow::offset`]: FNV-1a over the identity's
/// bytes, a zero byte and the scheduled time's Unix seconds (8 bytes, little-endian), finished
/// with the SplitMix64 mixer so that nearby inputs land far apart. Stable across builds and
/// platforms (std's hashers promise neither).
pub fn spread_hash(identity: &str, scheduled: Timestamp) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = identity
        .as_bytes()
        .iter()
        .copied()
        .chain([0u8])
        .chain(scheduled.as_second().to_le_bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        match s.parse() {
            Ok(t) => t,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parse_modes_and_refusals() {
        assert_eq!(
            FlexibleTimeWindow::parse("OFF", None),
            Ok(FlexibleTimeWindow::Off)
        );
        for w in [1, 15, 1440] {
            assert_eq!(
                FlexibleTimeWindow::parse("FLEXIBLE", Some(w)),
                Ok(FlexibleTimeWindow::Flexible {
                    maximum_window_minutes: w as u16
                })
            );
        }
        let cases: [(&str, Option<i64>, &str); 7] = [
            (
                "FLEXIBLE",
                Some(0),
                "1 validation error detected: Value '0' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
            (
                "FLEXIBLE",
                Some(-5),
                "1 validation error detected: Value '-5' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
            (
                "FLEXIBLE",
                Some(1441),
                "1 validation error detected: Value '1441' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value less than or equal to 1440",
            ),
            (
                "FLEXIBLE",
                None,
                "MaximumWindowInMinutes is required when Mode is FLEXIBLE.",
            ),
            (
                "OFF",
                Some(5),
                "MaximumWindowInMinutes must not be set when Mode is OFF.",
            ),
            (
                "off",
                None,
                "1 validation error detected: Value 'off' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]",
            ),
            (
                "",
                None,
                "1 validation error detected: Value '' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]",
            ),
        ];
        for (mode, w, message) in cases {
            match FlexibleTimeWindow::parse(mode, w) {
                Ok(v) => panic!("{mode} {w:?} accepted as {v:?}"),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidFlexibleTimeWindow);
                    assert_eq!(e.code(), "ValidationException");
                    assert_eq!(e.message(), message);
                }
            }
        }
    }

    #[test]
    fn off_is_on_time() {
        let t = ts("2024-05-01T10:00:00Z");
        assert_eq!(FlexibleTimeWindow::Off.invocation_time("arn:a", t), t);
    }

    #[test]
    fn deterministic_and_within_the_window() {
        let w = FlexibleTimeWindow::Flexible {
            maximum_window_minutes: 15,
        };
        let t = ts("2024-05-01T10:00:00Z");
        let a = w.invocation_time(
            "arn:aws:scheduler:us-east-1:000000000000:schedule/default/a",
            t,
        );
        // Predictable from the documented hash.
        let expected = spread_hash(
            "arn:aws:scheduler:us-east-1:000000000000:schedule/default/a",
            t,
        ) % 900;
        assert_eq!(
            a,
            t.checked_add(SignedDuration::from_secs(expected as i64))
                .unwrap_or(t)
        );
        assert_eq!(
            a,
            w.invocation_time(
                "arn:aws:scheduler:us-east-1:000000000000:schedule/default/a",
                t
            )
        );
        // One schedule's runs are not all at the same offset.
        let offsets: std::collections::BTreeSet<i64> = (0..50)
            .map(|i| {
                let at = t.checked_add(SignedDuration::from_mins(i)).unwrap_or(t);
                w.offset("arn:a", at).as_secs()
            })
            .collect();
        assert!(offsets.len() > 40, "{offsets:?}");
        for i in 0..2_000 {
            let o = w.offset(&format!("schedule-{i}"), t);
            assert!(
                o >= SignedDuration::ZERO && o < SignedDuration::from_mins(15),
                "{o:?}"
            );
        }
    }

    #[test]
    fn spread_is_uniform_across_schedules() {
        // 20,000 schedules due at the same time, a 10-minute window: each minute of the window
        // should get about 2,000 of them. A chi-square over 10 buckets (9 degrees of freedom)
        // stays under 27.9 with probability 99.9% for a uniform spread; the hash is fixed, so the
        // test is deterministic.
        let w = FlexibleTimeWindow::Flexible {
            maximum_window_minutes: 10,
        };
        let t = ts("2024-05-01T10:00:00Z");
        let n = 20_000;
        let mut buckets = [0u32; 10];
        let mut seconds = std::collections::BTreeSet::new();
        for i in 0..n {
            let identity =
                format!("arn:aws:scheduler:us-east-1:000000000000:schedule/default/s{i}");
            let o = w.offset(&identity, t).as_secs();
            buckets[(o / 60) as usize] += 1;
            seconds.insert(o);
        }
        let expected = f64::from(n) / 10.0;
        let chi2: f64 = buckets
            .iter()
            .map(|&b| (f64::from(b) - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 27.9, "chi-square {chi2}, buckets {buckets:?}");
        // Every second of the window gets used.
        assert_eq!(seconds.len(), 600);
    }
}
