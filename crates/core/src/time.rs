//! Event time formats: epoch milliseconds as the service renders and reads them.

/// Epoch milliseconds as a [`jiff::Timestamp`] (clamped to jiff's range,
/// years -9999 to 9999, which every validated time is within).
fn timestamp(epoch_ms: u64) -> jiff::Timestamp {
    i64::try_from(epoch_ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .unwrap_or(jiff::Timestamp::MAX)
}

/// Formats epoch milliseconds as `YYYY-MM-DDThh:mm:ssZ` (seconds precision,
/// as EventBridge renders an event's `time`).
pub fn format_seconds(epoch_ms: u64) -> String {
    timestamp(epoch_ms)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Formats epoch milliseconds as ISO-8601 with milliseconds.
pub fn format_millis(epoch_ms: u64) -> String {
    timestamp(epoch_ms)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Parses an RFC 3339 date-time (`2024-05-01T12:00:00Z`, with fractions of a
/// second and any UTC offset) to epoch milliseconds, strictly: an impossible
/// date or time (`2024-13-45T99:99:99Z`), a missing offset or a time before
/// 1970 is `None`.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    if !rfc3339_shape(text) {
        return None;
    }
    let ts: jiff::Timestamp = text.parse().ok()?;
    u64::try_from(ts.as_millisecond()).ok()
}

/// Whether `text` has RFC 3339's shape, `YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)`
/// with an offset below 24 hours (jiff alone also reads ISO 8601's
/// extended years, omitted seconds and offsets up to 25 hours).
fn rfc3339_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (*h1 - b'0') * 10 + (*h2 - b'0') < 24
                && (*m1 - b'0') < 6
        }
        _ => false,
    }
}

/// Epoch seconds (as botocore sends a timestamp) to epoch milliseconds;
/// `None` before 1970 or past jiff's range (the year 9999).
pub fn epoch_seconds_ms(seconds: f64) -> Option<u64> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    let ms = (seconds * 1000.0).round();
    let max = jiff::Timestamp::MAX.as_millisecond() as f64;
    (ms <= max).then_some(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(format_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_seconds(1_714_564_800_999), "2024-05-01T12:00:00Z");
        assert_eq!(format_seconds(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_millis(1_714_564_800_042), "2024-05-01T12:00:00.042Z");
        assert_eq!(format_millis(5), "1970-01-01T00:00:00.005Z");
        // Clamped to the largest time jiff represents.
        assert_eq!(format_seconds(u64::MAX), "9999-12-30T22:00:00Z");
    }

    #[test]
    fn parses_rfc3339_strictly() {
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T12:00:00Z"),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T12:00:00.042Z"),
            Some(1_714_564_800_042)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T14:00:00+02:00"),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00Z"),
            Some(951_782_400_000)
        );
        for bad in [
            "2024-13-45T99:99:99Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01",
            "yesterday",
            "1714564800",
            "",
            "1969-12-31T23:59:59Z",
            "2024-05-01T12:00:00+25:00",
            "+002024-05-01T12:00Z",
            "2024-05-01T12:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+0200",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(epoch_seconds_ms(1_714_564_800.0), Some(1_714_564_800_000));
        assert_eq!(epoch_seconds_ms(1_714_564_800.25), Some(1_714_564_800_250));
        assert_eq!(epoch_seconds_ms(-1.0), None);
        assert_eq!(epoch_seconds_ms(1e300), None);
        assert_eq!(epoch_seconds_ms(f64::NAN), None);
    }
}
