//! `cron(minutes hours day-of-month month day-of-week year)`: the six-field grammar both
//! EventBridge rules and EventBridge Scheduler use (Quartz-like, with AWS's own field table).

use jiff::civil::{Date, DateTime, Weekday};

/// Lowest and highest year a cron expression may name (AWS's table: 1970-2199).
pub const MIN_YEAR: i16 = 1970;
/// See [`MIN_YEAR`].
pub const MAX_YEAR: i16 = 2199;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
// AWS numbers days of the week 1-7 from Sunday.
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed `cron()` expression, compiled to sets for matching.
///
/// Built by [`crate::ScheduleExpression::parse`]; [`Cron::matches`] says whether a wall-clock
/// minute is one of its times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u8>,
    hours: Vec<u8>,
    /// Bit `m` set for month `m` (1-12).
    months: u16,
    years: Vec<i16>,
    days: DaySpec,
}

/// Which days a cron expression runs on: exactly one of day-of-month and day-of-week is given
/// (the other is `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DaySpec {
    /// Bit `d` set for day `d` (1-31).
    MonthDays(u32),
    /// `L`: the last day of the month.
    LastDayOfMonth,
    /// `LW`: the last weekday (Monday-Friday) of the month.
    LastWeekdayOfMonth,
    /// `nW`: the weekday nearest to day `n`, never leaving the month.
    NearestWeekday(u8),
    /// Bit `w` set for weekday `w` (1 = Sunday ... 7 = Saturday).
    WeekDays(u8),
    /// `nL`: the last weekday `n` of the month (`6L` = the last Friday).
    LastWeekdayN(u8),
    /// `n#k`: the `k`-th weekday `n` of the month (`3#2` = the second Tuesday).
    NthWeekday(u8, u8),
}

/// The characters a field may use besides digits and names (AWS's table).
struct FieldRule {
    name: &'static str,
    min: u16,
    max: u16,
    names: Option<&'static [&'static str]>,
    step: bool,
}

const MINUTES: FieldRule = FieldRule {
    name: "minutes",
    min: 0,
    max: 59,
    names: None,
    step: true,
};
const HOURS: FieldRule = FieldRule {
    name: "hours",
    min: 0,
    max: 23,
    names: None,
    step: true,
};
const DAY_OF_MONTH: FieldRule = FieldRule {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: None,
    step: true,
};
const MONTH: FieldRule = FieldRule {
    name: "month",
    min: 1,
    max: 12,
    names: Some(&MONTHS),
    step: true,
};
// The table gives day-of-week `, - * ? L #` and no `/`.
const DAY_OF_WEEK: FieldRule = FieldRule {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: Some(&WEEKDAYS),
    step: false,
};
const YEAR: FieldRule = FieldRule {
    name: "year",
    min: MIN_YEAR as u16,
    max: MAX_YEAR as u16,
    names: None,
    step: true,
};

impl Cron {
    /// Parses the text between `cron(` and `)`. The error is the reason, worded for logs.
    pub(crate) fn parse(body: &str) -> Result<Cron, String> {
        // Fields are separated by single spaces; anything else (tabs, runs of spaces, leading or
        // trailing blanks) makes an empty or odd field and is refused.
        let fields: Vec<&str> = body.split(' ').collect();
        if fields.len() != 6 {
            return Err(format!(
                "cron needs 6 fields separated by single spaces, got {}",
                fields.len()
            ));
        }
        let minutes = to_u8(values(fields[0], &MINUTES)?);
        let hours = to_u8(values(fields[1], &HOURS)?);
        let months = values(fields[3], &MONTH)?
            .into_iter()
            .fold(0u16, |acc, m| acc | (1 << m));
        let years = values(fields[5], &YEAR)?
            .into_iter()
            .map(|y| y as i16)
            .collect();
        let days = match (fields[2], fields[4]) {
            ("?", "?") => return Err("day-of-month and day-of-week cannot both be '?'".into()),
            ("?", dow) => day_of_week(dow)?,
            (dom, "?") => day_of_month(dom)?,
            _ => {
                return Err("one of day-of-month and day-of-week must be '?'".into());
            }
        };
        Ok(Cron {
            minutes,
            hours,
            months,
            years,
            days,
        })
    }

    /// Whether the wall-clock time `civil` (in the schedule's time zone) is one of this
    /// expression's times. Only whole minutes match (seconds and nanoseconds zero).
    pub fn matches(&self, civil: DateTime) -> bool {
        civil.second() == 0
            && civil.subsec_nanosecond() == 0
            && self.minutes.contains(&(civil.minute() as u8))
            && self.hours.contains(&(civil.hour() as u8))
            && self.matches_date(civil.date())
    }

    /// Whether the expression runs on `date` at all (year, month and day fields).
    pub fn matches_date(&self, date: Date) -> bool {
        self.years.binary_search(&date.year()).is_ok()
            && self.months & (1 << date.month()) != 0
            && self.matches_day(date)
    }

    fn matches_day(&self, date: Date) -> bool {
        let day = date.day() as u8;
        let last = date.days_in_month() as u8;
        let weekday = date.weekday().to_sunday_one_offset() as u8;
        match self.days {
            DaySpec::MonthDays(mask) => mask & (1 << day) != 0,
            DaySpec::LastDayOfMonth => day == last,
            DaySpec::LastWeekdayOfMonth => {
                let last_date = date.last_of_month();
                let target = match last_date.weekday() {
                    Weekday::Saturday => last - 1,
                    Weekday::Sunday => last - 2,
                    _ => last,
                };
                day == target
            }
            DaySpec::NearestWeekday(n) => {
                if n > last {
                    return false;
                }
                let Ok(nominal) = Date::new(date.year(), date.month(), n as i8) else {
                    return false;
                };
                let target = match nominal.weekday() {
                    // Saturday: the Friday before, unless that leaves the month.
                    Weekday::Saturday if n == 1 => 3,
                    Weekday::Saturday => n - 1,
                    // Sunday: the Monday after, unless that leaves the month.
                    Weekday::Sunday if n == last => n - 2,
                    Weekday::Sunday => n + 1,
                    _ => n,
                };
                day == target
            }
            DaySpec::WeekDays(mask) => mask & (1 << weekday) != 0,
            DaySpec::LastWeekdayN(w) => weekday == w && day + 7 > last,
            DaySpec::NthWeekday(w, k) => weekday == w && (day - 1) / 7 + 1 == k,
        }
    }

    /// False when no month the expression names is long enough for the day it names
    /// (`cron(0 0 31 FEB ? *)`, `cron(0 0 30W 2,4 ? *)`): such an expression never runs, and
    /// saying so up front spares the search 230 years of days.
    pub(crate) fn days_possible(&self) -> bool {
        // Longest length of each month, leap years included.
        const LONGEST: [u8; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let longest = (1..=12)
            .filter(|&m| self.months & (1 << m) != 0)
            .map(|m| LONGEST[m])
            .max()
            .unwrap_or(0);
        match self.days {
            // The lowest day named must fit in the longest month named.
            DaySpec::MonthDays(mask) => mask.trailing_zeros() <= u32::from(longest),
            DaySpec::NearestWeekday(n) => n <= longest,
            _ => true,
        }
    }

    /// The minutes (0-59) the expression runs at, ascending.
    pub(crate) fn minutes(&self) -> &[u8] {
        &self.minutes
    }

    /// The hours (0-23) the expression runs at, ascending.
    pub(crate) fn hours(&self) -> &[u8] {
        &self.hours
    }

    /// The years the expression runs in, ascending.
    pub(crate) fn years(&self) -> &[i16] {
        &self.years
    }

    /// Whether month `m` (1-12) is one of the expression's months.
    pub(crate) fn has_month(&self, m: i8) -> bool {
        self.months & (1 << m) != 0
    }
}

fn to_u8(values: Vec<u16>) -> Vec<u8> {
    values.into_iter().map(|v| v as u8).collect()
}

/// One number or name of a field.
fn value(text: &str, rule: &FieldRule) -> Result<u16, String> {
    let v = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Longer than 4 digits cannot be in range and would overflow.
        if text.len() > 4 {
            return Err(format!("{} value {text} out of range", rule.name));
        }
        text.parse::<u16>()
            .map_err(|_| format!("{} value {text} is not a number", rule.name))?
    } else if let Some(names) = rule.names {
        let upper = text.to_ascii_uppercase();
        match names.iter().position(|n| *n == upper) {
            Some(i) => i as u16 + 1,
            None => {
                return Err(format!(
                    "{} value {text:?} is not a number or name",
                    rule.name
                ));
            }
        }
    } else {
        return Err(format!("{} value {text:?} is not a number", rule.name));
    };
    if v < rule.min || v > rule.max {
        return Err(format!(
            "{} value {v} out of range {}-{}",
            rule.name, rule.min, rule.max
        ));
    }
    Ok(v)
}

/// The sorted set of values a plain field (`,` `-` `*` `/`, numbers and names) stands for.
fn values(field: &str, rule: &FieldRule) -> Result<Vec<u16>, String> {
    if field.is_empty() {
        return Err(format!("{} field is empty", rule.name));
    }
    let mut set = std::collections::BTreeSet::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some(_) if !rule.step => {
                return Err(format!("{} does not take '/'", rule.name));
            }
            Some((range, step)) => {
                let span = rule.max - rule.min + 1;
                let step = if !step.is_empty()
                    && step.len() <= 4
                    && step.bytes().all(|b| b.is_ascii_digit())
                {
                    step.parse::<u16>()
                        .map_err(|_| format!("bad step {step:?}"))?
                } else {
                    return Err(format!("{} step {step:?} is not a number", rule.name));
                };
                if step == 0 || step > span {
                    return Err(format!("{} step {step} out of range 1-{span}", rule.name));
                }
                (range, step)
            }
            None => (item, 1),
        };
        let (first, last) = if range == "*" {
            (rule.min, rule.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, rule)?, value(b, rule)?)
        } else {
            let v = value(range, rule)?;
            // `a/s` runs from a to the end of the field; a plain `a` is just a.
            (v, if item.contains('/') { rule.max } else { v })
        };
        if first <= last {
            let mut v = first;
            while v <= last {
                set.insert(v);
                v += step;
            }
        } else {
            // A range that wraps (`22-2`, `FRI-MON`), as Quartz reads it: it runs to the end of
            // the field and on from its start, stepping across the seam. Years do not wrap.
            if rule.name == YEAR.name {
                return Err(format!("year range {first}-{last} runs backwards"));
            }
            let span = rule.max - rule.min + 1;
            let length = (rule.max - first + 1) + (last - rule.min + 1);
            let mut offset = 0;
            while offset < length {
                let v = rule.min + (first - rule.min + offset) % span;
                set.insert(v);
                offset += step;
            }
        }
    }
    Ok(set.into_iter().collect())
}

fn day_of_month(field: &str) -> Result<DaySpec, String> {
    match field {
        "L" => return Ok(DaySpec::LastDayOfMonth),
        "LW" => return Ok(DaySpec::LastWeekdayOfMonth),
        _ => {}
    }
    if let Some(n) = field.strip_suffix('W') {
        // `nW` stands alone: Quartz, whose grammar AWS follows, refuses it in lists and ranges.
        if n.contains([',', '-', '/', '*']) {
            return Err("'W' takes a single day of the month".into());
        }
        return Ok(DaySpec::NearestWeekday(value(n, &DAY_OF_MONTH)? as u8));
    }
    if field.contains(['L', 'W', '#']) {
        return Err(format!(
            "day-of-month {field:?}: 'L' and 'W' stand alone ('L', 'LW', 'nW')"
        ));
    }
    let mask = values(field, &DAY_OF_MONTH)?
        .into_iter()
        .fold(0u32, |acc, d| acc | (1 << d));
    Ok(DaySpec::MonthDays(mask))
}

fn day_of_week(field: &str) -> Result<DaySpec, String> {
    if field == "L" {
        // `L` alone in day-of-week is the last day of the week: Saturday.
        return Ok(DaySpec::WeekDays(1 << 7));
    }
    if let Some((w, k)) = field.split_once('#') {
        // One `#` expression per field (AWS: `3#1,6#3` is invalid), never in a list or range.
        if w.contains([',', '-', '*']) || k.contains(['#', ',']) {
            return Err("'#' takes a single day of the week and one occurrence".into());
        }
        let w = value(w, &DAY_OF_WEEK)? as u8;
        let k = match k {
            "1" | "2" | "3" | "4" | "5" => k.as_bytes()[0] - b'0',
            _ => return Err(format!("occurrence {k:?} after '#' must be 1-5")),
        };
        return Ok(DaySpec::NthWeekday(w, k));
    }
    if let Some(w) = field.strip_suffix('L') {
        if w.contains([',', '-', '*', 'L']) {
            return Err("'L' takes a single day of the week".into());
        }
        return Ok(DaySpec::LastWeekdayN(value(w, &DAY_OF_WEEK)? as u8));
    }
    // No weekday name contains 'L' or '#', so any left here is misplaced.
    if field.contains(['L', '#']) {
        return Err(format!("day-of-week {field:?}: 'L' and '#' stand alone"));
    }
    let mask = values(field, &DAY_OF_WEEK)?
        .into_iter()
        .fold(0u8, |acc, w| acc | (1 << w));
    Ok(DaySpec::WeekDays(mask))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cron(body: &str) -> Cron {
        match Cron::parse(body) {
            Ok(c) => c,
            Err(e) => panic!("{body}: {e}"),
        }
    }

    fn days_in(c: &Cron, year: i16, month: i8) -> Vec<i8> {
        let first = date(year, month, 1);
        (0..first.days_in_month())
            .map(|i| first.saturating_add(jiff::Span::new().days(i64::from(i))))
            .filter(|d| c.matches_date(*d))
            .map(|d| d.day())
            .collect()
    }

    #[test]
    fn plain_fields() {
        let c = cron("5,35 14 * * ? *");
        assert_eq!(c.minutes, vec![5, 35]);
        assert_eq!(c.hours, vec![14]);
        assert_eq!(c.months, 0b1_1111_1111_1110);
        assert_eq!(c.years.len(), 230);
        assert_eq!(cron("0/15 * * * ? *").minutes, vec![0, 15, 30, 45]);
        assert_eq!(cron("*/20 * * * ? *").minutes, vec![0, 20, 40]);
        assert_eq!(cron("10-40/10 * * * ? *").minutes, vec![10, 20, 30, 40]);
        assert_eq!(cron("0 9-17 * * ? *").hours, (9..=17).collect::<Vec<u8>>());
        assert_eq!(cron("0 22-2 * * ? *").hours, vec![0, 1, 2, 22, 23]);
        assert_eq!(cron("0 22-4/2 * * ? *").hours, vec![0, 2, 4, 22]);
        assert_eq!(
            cron("0 0 1 JAN,mar,Dec ? *").months,
            (1 << 1) | (1 << 3) | (1 << 12)
        );
        assert_eq!(cron("0 0 1 */4 ? *").months, (1 << 1) | (1 << 5) | (1 << 9));
        assert_eq!(
            cron("0 0 1 NOV-FEB ? *").months,
            (1 << 11) | (1 << 12) | (1 << 1) | (1 << 2)
        );
        assert_eq!(
            cron("15 10 ? * 6L 2002-2005").years,
            vec![2002, 2003, 2004, 2005]
        );
        assert_eq!(
            cron("0 0 1 * ? 2020/50").years,
            vec![2020, 2070, 2120, 2170]
        );
        assert_eq!(cron("0 0 1 * ? 1970,2199").years, vec![1970, 2199]);
    }

    #[test]
    fn day_of_month_forms() {
        // 2024-06: Saturday the 1st, Sunday the 30th.
        assert_eq!(days_in(&cron("0 0 L * ? *"), 2024, 2), vec![29]);
        assert_eq!(days_in(&cron("0 0 L * ? *"), 2023, 2), vec![28]);
        assert_eq!(days_in(&cron("0 0 LW * ? *"), 2024, 6), vec![28]);
        assert_eq!(days_in(&cron("0 0 LW * ? *"), 2024, 7), vec![31]);
        // 1W on a Saturday moves forward to Monday the 3rd (not back into May).
        assert_eq!(days_in(&cron("0 0 1W * ? *"), 2024, 6), vec![3]);
        // 30W on a Sunday that ends the month moves back to Friday the 28th.
        assert_eq!(days_in(&cron("0 0 30W * ? *"), 2024, 6), vec![28]);
        // 15W: 2024-06-15 is a Saturday -> Friday 14th; 2024-09-15 is a Sunday -> Monday 16th.
        assert_eq!(days_in(&cron("0 0 15W * ? *"), 2024, 6), vec![14]);
        assert_eq!(days_in(&cron("0 0 15W * ? *"), 2024, 9), vec![16]);
        assert_eq!(days_in(&cron("0 0 3W * ? *"), 2024, 7), vec![3]);
        // 31W in a 30-day month never runs.
        assert_eq!(days_in(&cron("0 0 31W * ? *"), 2024, 6), Vec::<i8>::new());
        assert_eq!(days_in(&cron("0 0 31 * ? *"), 2024, 4), Vec::<i8>::new());
        assert_eq!(
            days_in(&cron("0 0 1/10 * ? *"), 2024, 1),
            vec![1, 11, 21, 31]
        );
        assert_eq!(
            days_in(&cron("0 0 28-3 * ? *"), 2024, 2),
            vec![1, 2, 3, 28, 29]
        );
    }

    #[test]
    fn day_of_week_forms() {
        // 2024-05: Wednesday the 1st.
        assert_eq!(days_in(&cron("0 0 ? * MON-FRI *"), 2024, 5).len(), 23);
        assert_eq!(days_in(&cron("0 0 ? * 1 *"), 2024, 5), vec![5, 12, 19, 26]);
        assert_eq!(
            days_in(&cron("0 0 ? * SUN *"), 2024, 5),
            vec![5, 12, 19, 26]
        );
        assert_eq!(days_in(&cron("0 0 ? * 7 *"), 2024, 5), vec![4, 11, 18, 25]);
        assert_eq!(days_in(&cron("0 0 ? * L *"), 2024, 5), vec![4, 11, 18, 25]);
        assert_eq!(
            days_in(&cron("0 0 ? * SAT,sun *"), 2024, 5),
            vec![4, 5, 11, 12, 18, 19, 25, 26]
        );
        // Fri 3,10,17,24,31 + Sat 4 + Sun 4 + Mon 4.
        assert_eq!(days_in(&cron("0 0 ? * FRI-MON *"), 2024, 5).len(), 17);
        assert_eq!(days_in(&cron("0 0 ? * 6L *"), 2024, 5), vec![31]);
        assert_eq!(days_in(&cron("0 0 ? * FRIL *"), 2024, 5), vec![31]);
        assert_eq!(days_in(&cron("0 0 ? * 2L *"), 2024, 5), vec![27]);
        assert_eq!(days_in(&cron("0 0 ? * 3#2 *"), 2024, 5), vec![14]);
        assert_eq!(days_in(&cron("0 0 ? * SAT#3 *"), 2024, 5), vec![18]);
        assert_eq!(days_in(&cron("0 0 ? * 4#5 *"), 2024, 5), vec![29]);
        assert_eq!(days_in(&cron("0 0 ? * 2#5 *"), 2024, 5), Vec::<i8>::new());
        assert_eq!(days_in(&cron("0 0 ? * * *"), 2024, 5).len(), 31);
    }

    #[test]
    fn impossible_days_are_known() {
        for body in [
            "0 0 31 2 ? *",
            "0 0 30,31 FEB ? *",
            "0 0 31 4,6,9,11 ? *",
            "0 0 30W 2 ? *",
        ] {
            assert!(!cron(body).days_possible(), "{body}");
        }
        for body in [
            "0 0 29 2 ? *",
            "0 0 31 1,2 ? *",
            "0 0 30,31 2,4 ? *",
            "0 0 L 2 ? *",
            "0 0 ? 2 1#5 *",
            "0 0 31W * ? *",
        ] {
            assert!(cron(body).days_possible(), "{body}");
        }
    }

    #[test]
    fn matches_whole_minutes_only() {
        let c = cron("30 2 * * ? *");
        assert!(c.matches(date(2024, 3, 10).at(2, 30, 0, 0)));
        assert!(!c.matches(date(2024, 3, 10).at(2, 30, 1, 0)));
        assert!(!c.matches(date(2024, 3, 10).at(2, 30, 0, 1)));
        assert!(!c.matches(date(2024, 3, 10).at(3, 30, 0, 0)));
        let y = cron("0 0 1 1 ? 2025");
        assert!(y.matches(date(2025, 1, 1).at(0, 0, 0, 0)));
        assert!(!y.matches(date(2026, 1, 1).at(0, 0, 0, 0)));
    }

    #[test]
    fn refusals() {
        for body in [
            "* * * * * *",
            "0 1 * * * *",
            "0 1 ? * ? *",
            "0 1 1 * MON *",
            "71 8 1 * ? *",
            "0 24 * * ? *",
            "0 0 0 * ? *",
            "0 0 32 * ? *",
            "0 0 1 13 ? *",
            "0 0 1 0 ? *",
            "0 0 ? * 0 *",
            "0 0 ? * 8 *",
            "0 0 1 * ? 1969",
            "0 0 1 * ? 2200",
            "0 0 1 * ? 2030-2020",
            "7 20 * * NOT *",
            "0 dummy ? * MON-FRI *",
            "INVALID",
            "",
            "0 0 * * ?",
            "0 0 * * ? * *",
            "0  0 * * ? *",
            "0 0 * * ? * ",
            " 0 0 * * ? *",
            "0\t0 * * ? *",
            "0/0 * * * ? *",
            "0/61 * * * ? *",
            "*/ * * * ? *",
            "/5 * * * ? *",
            "1- * * * ? *",
            "-1 * * * ? *",
            "1,,2 * * * ? *",
            "1, * * * ? *",
            "+5 * * * ? *",
            "0 0 ? * 1/2 *",
            "0 0 ? * 3#1,6#3 *",
            "0 0 ? * 3#6 *",
            "0 0 ? * 3#0 *",
            "0 0 ? * 3#1#2 *",
            "0 0 ? * 8#1 *",
            "0 0 ? * 1-3L *",
            "0 0 ? * 1,2L *",
            "0 0 L-2 * ? *",
            "0 0 L,15 * ? *",
            "0 0 W * ? *",
            "0 0 1-5W * ? *",
            "0 0 32W * ? *",
            "0 0 1#2 * ? *",
            "L 0 * * ? *",
            "0 L * * ? *",
            "0 0 1 L ? *",
            "0 0 1 * ? L",
            "0 0 ? * MONDAY *",
            "0 0 1 JANUARY ? *",
            "0 0 ? JAN MON-XYZ *",
            "? 0 * * ? *",
            "0 0 1 ? ? *",
            "00000 0 * * ? *",
        ] {
            assert!(Cron::parse(body).is_err(), "accepted cron({body})");
        }
    }

    #[test]
    fn service_examples_accepted() {
        // AWS-validated accepted examples (rules) and the user guides' examples.
        for body in [
            "0 10 * * ? *",
            "0 18 ? * MON-FRI *",
            "0/15 * * * ? *",
            "15 10 ? * 6L 2002-2005",
            "0 2 ? * SAT#3 *",
            "* * ? * SAT#3 *",
            "5,35 14 * * ? *",
            "0/5 5 ? JAN 1-5 2022",
            "15 12 * * ? *",
            "0 8 1 * ? *",
            "0/10 * ? * MON-FRI *",
            "0/5 8-17 ? * MON-FRI *",
            "0 9 ? * 2#1 *",
            "0 5 L * ? *",
            "0 0 3W * ? *",
            "05 07 ? * 2 *",
        ] {
            assert!(Cron::parse(body).is_ok(), "refused cron({body})");
        }
    }
}
