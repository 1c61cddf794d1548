//! `ScheduleExpression` and `ScheduleExpressionTimezone`: parsing and the service's refusals.

use jiff::SignedDuration;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::cron::Cron;
use crate::error::{Error, ErrorKind, Flavor, constraint_message};

/// The longest schedule expression either API takes (the models' length constraint).
pub const MAX_EXPRESSION_LEN: usize = 256;
/// The longest `ScheduleExpressionTimezone` the Scheduler model takes.
pub const MAX_TIMEZONE_LEN: usize = 50;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// `rate(value unit)`: every `value` units, counted from the schedule's start.
    Rate(Rate),
    /// `cron(...)`: at wall-clock times in the schedule's time zone.
    Cron(Cron),
    /// `at(yyyy-mm-ddThh:mm:ss)` (Scheduler only): once, at a wall-clock time in the schedule's
    /// time zone.
    At(DateTime),
}

/// The unit of a `rate()` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateUnit {
    /// `minute` / `minutes`.
    Minute,
    /// `hour` / `hours`.
    Hour,
    /// `day` / `days`: always exactly 24 hours, also across daylight-saving changes (AWS: "days
    /// represents a 24-hour duration on the clock").
    Day,
}

impl RateUnit {
    fn seconds(self) -> i64 {
        match self {
            RateUnit::Minute => 60,
            RateUnit::Hour => 3_600,
            RateUnit::Day => 86_400,
        }
    }
}

/// A `rate(value unit)` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    value: u32,
    unit: RateUnit,
}

impl Rate {
    /// The number of units (at least 1).
    pub fn value(&self) -> u32 {
        self.value
    }

    /// The unit.
    pub fn unit(&self) -> RateUnit {
        self.unit
    }

    /// The time between two runs.
    pub fn period(&self) -> SignedDuration {
        SignedDuration::from_secs(i64::from(self.value) * self.unit.seconds())
    }
}

impl ScheduleExpression {
    /// Parses `text` as `flavor`'s service does, refusing what it refuses with its message.
    ///
    /// Both flavors take `rate(value unit)` and the six-field `cron(...)`; only
    /// [`Flavor::Scheduler`] takes `at(yyyy-mm-ddThh:mm:ss)`. For [`Flavor::Rule`] the unit must
    /// be singular when the value is 1 and plural otherwise (`rate(1 minutes)` and
    /// `rate(2 minute)` are refused); the Scheduler API documents the unit as any of
    /// `minute | minutes | hour | hours | day | days` and its console sends `rate(1 minutes)`,
    /// so Scheduler takes either form. Nothing is trimmed: a leading or trailing blank is refused,
    /// as the services refuse ` rate(10 minutes)` and `rate( 10 minutes )`.
    pub fn parse(text: &str, flavor: Flavor) -> Result<ScheduleExpression, Error> {
        let length = text.chars().count();
        if length > MAX_EXPRESSION_LEN {
            return Err(Error::new(
                ErrorKind::ExpressionLength,
                constraint_message(
                    text,
                    "scheduleExpression",
                    "Member must have length less than or equal to 256",
                ),
                format!("{length} characters"),
            ));
        }
        if length == 0 && flavor == Flavor::Scheduler {
            return Err(Error::new(
                ErrorKind::ExpressionLength,
                constraint_message(
                    text,
                    "scheduleExpression",
                    "Member must have length greater than or equal to 1",
                ),
                "empty expression",
            ));
        }
        parse_inner(text, flavor).map_err(|reason| Error::expression(flavor, text, reason))
    }

    /// Whether the expression runs once (`at()`) rather than repeatedly.
    pub fn is_one_time(&self) -> bool {
        matches!(self, ScheduleExpression::At(_))
    }
}

fn parse_inner(text: &str, flavor: Flavor) -> Result<ScheduleExpression, String> {
    let Some(open) = text.find('(') else {
        return Err("no '('".into());
    };
    let Some(body) = text[open + 1..].strip_suffix(')') else {
        return Err("does not end with ')'".into());
    };
    if body.contains(['(', ')']) {
        return Err("nested parentheses".into());
    }
    match &text[..open] {
        "rate" => parse_rate(body, flavor).map(ScheduleExpression::Rate),
        "cron" => Cron::parse(body).map(ScheduleExpression::Cron),
        "at" if flavor == Flavor::Scheduler => parse_at(body).map(ScheduleExpression::At),
        "at" => Err("at() is for EventBridge Scheduler; rules take rate() and cron()".into()),
        other => Err(format!("unknown expression type {other:?}")),
    }
}

fn parse_rate(body: &str, flavor: Flavor) -> Result<Rate, String> {
    let Some((number, unit)) = body.split_once(' ') else {
        return Err("rate needs a value and a unit separated by a space".into());
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("rate value {number:?} is not a positive integer"));
    }
    let value: u32 = number
        .parse()
        .map_err(|_| format!("rate value {number} is too large"))?;
    if value == 0 {
        return Err("rate value must be positive".into());
    }
    let (unit, plural) = match unit {
        "minute" => (RateUnit::Minute, false),
        "minutes" => (RateUnit::Minute, true),
        "hour" => (RateUnit::Hour, false),
        "hours" => (RateUnit::Hour, true),
        "day" => (RateUnit::Day, false),
        "days" => (RateUnit::Day, true),
        other => return Err(format!("unknown rate unit {other:?}")),
    };
    if flavor == Flavor::Rule && plural != (value != 1) {
        return Err(if plural {
            "a rate of 1 takes the singular unit".into()
        } else {
            "a rate other than 1 takes the plural unit".into()
        });
    }
    Ok(Rate { value, unit })
}

/// `yyyy-mm-ddThh:mm:ss`, exactly: no zone suffix (`at(2021-12-31T23:59:59Z)` is refused), no
/// fraction, no date alone (`at(2021-12-31)` is refused).
fn parse_at(body: &str) -> Result<DateTime, String> {
    let b = body.as_bytes();
    let shape_ok = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(format!("at({body}) is not yyyy-mm-ddThh:mm:ss"));
    }
    let num = |range: std::ops::Range<usize>| -> i16 {
        b[range]
            .iter()
            .fold(0i16, |acc, c| acc * 10 + i16::from(c - b'0'))
    };
    DateTime::new(
        num(0..4),
        num(5..7) as i8,
        num(8..10) as i8,
        num(11..13) as i8,
        num(14..16) as i8,
        num(17..19) as i8,
        0,
    )
    .map_err(|e| format!("at({body}) is not a date and time: {e}"))
}

/// Parses `ScheduleExpressionTimezone`: a zone name of the IANA time zone database
/// (`America/New_York`, `Europe/Berlin`, `UTC`, ...), looked up in the system's tz database.
///
/// The length limit (1-50) is the model's and is refused with AWS's constraint wording. For an
/// unknown name the message is ferrule's choice, `Invalid time zone <name>.`: no public
/// recording of the service's exact text for this case was found.
pub fn parse_timezone(name: &str) -> Result<TimeZone, Error> {
    let length = name.chars().count();
    if !(1..=MAX_TIMEZONE_LEN).contains(&length) {
        let constraint = if length == 0 {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 50"
        };
        return Err(Error::new(
            ErrorKind::InvalidTimezone,
            constraint_message(name, "scheduleExpressionTimezone", constraint),
            format!("{length} characters"),
        ));
    }
    let invalid = |reason: String| {
        Error::new(
            ErrorKind::InvalidTimezone,
            format!("Invalid time zone {name}."),
            reason,
        )
    };
    // Only names shaped like IANA names reach the tz database lookup (no paths, no `..`).
    let shaped = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.contains("//");
    if !shaped {
        return Err(invalid("not an IANA time zone name".into()));
    }
    TimeZone::get(name).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, flavor: Flavor) -> ScheduleExpression {
        match ScheduleExpression::parse(text, flavor) {
            Ok(e) => e,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn refused(text: &str, flavor: Flavor) -> Error {
        match ScheduleExpression::parse(text, flavor) {
            Ok(e) => panic!("{text} accepted as {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn rates() {
        for (text, value, unit) in [
            ("rate(1 minute)", 1, RateUnit::Minute),
            ("rate(5 minutes)", 5, RateUnit::Minute),
            ("rate(1 hour)", 1, RateUnit::Hour),
            ("rate(12 hours)", 12, RateUnit::Hour),
            ("rate(1 day)", 1, RateUnit::Day),
            ("rate(7 days)", 7, RateUnit::Day),
        ] {
            for flavor in [Flavor::Rule, Flavor::Scheduler] {
                let ScheduleExpression::Rate(r) = ok(text, flavor) else {
                    panic!("{text} is not a rate");
                };
                assert_eq!((r.value(), r.unit()), (value, unit));
            }
        }
        let ScheduleExpression::Rate(r) = ok("rate(7 days)", Flavor::Rule) else {
            panic!("not a rate");
        };
        assert_eq!(r.period(), SignedDuration::from_hours(7 * 24));
    }

    #[test]
    fn singular_plural_rule_is_for_rules() {
        for text in [
            "rate(1 minutes)",
            "rate(1 hours)",
            "rate(1 days)",
            "rate(10 minute)",
            "rate(2 minute)",
            "rate(10 hour)",
            "rate(10 day)",
        ] {
            let e = refused(text, Flavor::Rule);
            assert_eq!(e.kind(), ErrorKind::InvalidExpression);
            assert_eq!(e.message(), "Parameter ScheduleExpression is not valid.");
            // The Scheduler API documents both forms as units.
            assert!(matches!(
                ok(text, Flavor::Scheduler),
                ScheduleExpression::Rate(_)
            ));
        }
    }

    #[test]
    fn refusals_of_both_flavors() {
        // AWS-validated refusals (rules and Scheduler), and more of the same kind.
        for text in [
            "rate(10 seconds)",
            "rate(10 years)",
            "rate()",
            "rate(10)",
            "rate(10 minutess)",
            "rate(foo minutes)",
            "rate(-10 minutes)",
            "rate(+10 minutes)",
            "rate(0 minutes)",
            "rate(0 minute)",
            "rate(1.5 hours)",
            "rate( 10 minutes )",
            " rate(10 minutes)",
            "rate(10 minutes) ",
            "rate(10  minutes)",
            "rate(10 MINUTES)",
            "RATE(10 minutes)",
            "rate(99999999999 minutes)",
            "rate(10 minutes",
            "rate 10 minutes",
            "rate((10 minutes))",
            "cron()",
            "cron(71 8 1 * ? *)",
            "cron(7 20 * * NOT *)",
            "cron(INVALID)",
            "cron(0 dummy ? * MON-FRI *)",
            "cron(* * * * * *)",
            "cron(0 1 * * * *)",
            "cron(0 1 * * ?)",
            "CRON(0 1 * * ? *)",
            "every(5 minutes)",
            "",
            "(5 minutes)",
        ] {
            let e = refused(text, Flavor::Rule);
            assert_eq!(e.code(), "ValidationException");
            assert_eq!(e.message(), "Parameter ScheduleExpression is not valid.");
            if !text.is_empty() {
                let e = refused(text, Flavor::Scheduler);
                assert_eq!(e.kind(), ErrorKind::InvalidExpression, "{text}");
                assert_eq!(e.message(), format!("Invalid Schedule Expression {text}."));
            }
        }
    }

    #[test]
    fn at_expressions() {
        let ScheduleExpression::At(t) = ok("at(2022-11-20T13:00:00)", Flavor::Scheduler) else {
            panic!("not at()");
        };
        assert_eq!(t, jiff::civil::date(2022, 11, 20).at(13, 0, 0, 0));
        assert!(ok("at(2024-02-29T23:59:59)", Flavor::Scheduler).is_one_time());
        for text in [
            "at(2021-12-31T23:59:59Z)",
            "at(2021-12-31)",
            "at(2021-12-31 23:59:59)",
            "at(2021-12-31T23:59)",
            "at(2021-12-31T23:59:59.000)",
            "at(2021-12-31T23:59:59+01:00)",
            "at(2023-02-29T00:00:00)",
            "at(2021-13-01T00:00:00)",
            "at(2021-12-32T00:00:00)",
            "at(2021-12-31T24:00:00)",
            "at(2021-12-31T23:60:00)",
            "at(2021-12-31T23:59:60)",
            "at(21-12-31T23:59:59)",
            "at( 2021-12-31T23:59:59)",
            "at()",
        ] {
            let e = refused(text, Flavor::Scheduler);
            assert_eq!(e.message(), format!("Invalid Schedule Expression {text}."));
        }
        // Rules have no one-time schedules.
        let e = refused("at(2022-11-20T13:00:00)", Flavor::Rule);
        assert_eq!(e.message(), "Parameter ScheduleExpression is not valid.");
    }

    #[test]
    fn length_limit() {
        let long = format!("cron(0 0 1 * ? {})", "2020,".repeat(60) + "2021");
        assert!(long.len() > 256);
        for flavor in [Flavor::Rule, Flavor::Scheduler] {
            let e = refused(&long, flavor);
            assert_eq!(e.kind(), ErrorKind::ExpressionLength);
            assert!(
                e.message()
                    .starts_with("1 validation error detected: Value 'cron(0 0 1 * ? 2020,")
            );
            assert!(e.message().ends_with(
                "at 'scheduleExpression' failed to satisfy constraint: Member must have length less than or equal to 256"
            ));
        }
        let e = refused("", Flavor::Scheduler);
        assert_eq!(e.kind(), ErrorKind::ExpressionLength);
        assert!(
            e.message()
                .ends_with("Member must have length greater than or equal to 1")
        );
        // Exactly 256 characters is within the limit, so the grammar decides.
        let at_limit = format!("cron(0 0 1 * ? {})", "2020,".repeat(47) + "2020");
        assert_eq!(at_limit.len(), 255);
        assert!(ScheduleExpression::parse(&at_limit, Flavor::Rule).is_ok());
        let over = format!("{at_limit} ");
        assert_eq!(
            refused(&over, Flavor::Rule).kind(),
            ErrorKind::InvalidExpression
        );
    }

    #[test]
    fn time_zones() {
        for name in [
            "UTC",
            "America/New_York",
            "Europe/Berlin",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Etc/GMT+5",
        ] {
            assert!(parse_timezone(name).is_ok(), "{name}");
        }
        for name in [
            "Mars/Olympus",
            "America/New York",
            "../etc/passwd",
            "/etc/localtime",
            "Europe//Berlin",
            "EST5EDT,M3.2.0,M11.1.0",
        ] {
            let e = match parse_timezone(name) {
                Ok(_) => panic!("{name} accepted"),
                Err(e) => e,
            };
            assert_eq!(e.kind(), ErrorKind::InvalidTimezone);
            assert_eq!(e.message(), format!("Invalid time zone {name}."));
        }
        let e = parse_timezone("").err();
        assert!(e.is_some_and(|e| {
            e.message()
                .ends_with("Member must have length greater than or equal to 1")
        }));
        let long = "A".repeat(51);
        let e = parse_timezone(&long).err();
        assert!(e.is_some_and(|e| {
            e.message()
                .ends_with("Member must have length less than or equal to 50")
        }));
    }
}
