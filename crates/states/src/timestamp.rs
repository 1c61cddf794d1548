//! Timestamps as the States Language reads and writes them.
//!
//! The language accepts the RFC 3339 profile of ISO 8601 with two extra rules: an uppercase `T`
//! separates date and time, and an uppercase `Z` stands for a zero offset when no numeric offset
//! is given. Written by hand because the rules are narrower than a general date parser's, and the
//! values only ever need milliseconds since the epoch.

/// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp, or `None` if `s` is not one
/// (fractions past milliseconds are accepted and truncated).
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(0, 4)?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (month, day) = (num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // RFC 3339 allows a leap second (60); it is folded into the next second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if *sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (the form the service writes in the context
/// object and in history).
pub fn format_millis(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        rem % 1000
    )
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (EventBridge's event time form).
pub fn format_seconds(ms: i64) -> String {
    let full = format_millis(ms);
    format!("{}Z", &full[..19])
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil and its inverse (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_profile() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2016-03-14T01:59:00Z"), Some(1_457_920_740_000));
        assert_eq!(
            parse("2016-03-14T01:59:00.123456789Z"),
            Some(1_457_920_740_123)
        );
        assert_eq!(parse("2016-03-14T03:59:00+02:00"), Some(1_457_920_740_000));
        assert_eq!(parse("2016-03-13T23:59:00-02:00"), Some(1_457_920_740_000));
        assert_eq!(
            parse("2024-02-29T00:00:00Z").map(format_millis).as_deref(),
            Some("2024-02-29T00:00:00.000Z")
        );
    }

    #[test]
    fn refuses_what_the_language_refuses() {
        for s in [
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
            "2016-03-14 01:59:00Z",
            "2016-03-14T01:59:00",
            "2023-02-29T00:00:00Z",
            "2016-13-14T01:59:00Z",
            "2016-03-14T24:00:00Z",
            "2016-03-14T01:59:00.Z",
            "2016-03-14T01:59:00+0200",
            "not a time",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0, 1_457_920_740_123, -86_400_000, 4_102_444_800_000] {
            assert_eq!(parse(&format_millis(ms)), Some(ms));
        }
        assert_eq!(format_seconds(1_457_920_740_123), "2016-03-14T01:59:00Z");
    }
}
