//! What one `next_fire` costs, for the scheduler service's sizing (100,000 schedules).
//!
//! `cargo run --release -p ferrule-schedule --example next_fire_cost`

use std::time::Instant;

use ferrule_schedule::jiff::{SignedDuration, Timestamp};
use ferrule_schedule::{Flavor, ScheduleExpression, Window, next_fire, parse_timezone};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start: Timestamp = "2024-01-01T00:00:00Z".parse()?;
    let window = Window::starting(start);
    let cases = [
        ("rate(1 minute)", "UTC"),
        ("cron(0/15 * * * ? *)", "UTC"),
        ("cron(30 9 ? * MON-FRI *)", "America/New_York"),
        ("cron(0 2 ? * SAT#3 *)", "Europe/Berlin"),
        ("cron(15 10 ? * 6L 2024-2030)", "America/New_York"),
        ("cron(0 12 29 2 ? *)", "UTC"),
        ("cron(0 0 31 2 ? *)", "UTC"),
    ];
    let calls: u32 = 20_000;
    for (text, zone) in cases {
        let expr = ScheduleExpression::parse(text, Flavor::Scheduler)?;
        let tz = parse_timezone(zone)?;
        let began = Instant::now();
        let mut fired = 0u32;
        for i in 0..calls {
            // A different instant each call (every 37 minutes over about 1.4 years).
            let after = start + SignedDuration::from_mins(37 * i64::from(i));
            if next_fire(&expr, &tz, after, &window).is_some() {
                fired += 1;
            }
        }
        let per_call = began.elapsed().as_nanos() / u128::from(calls);
        println!("{text:32} {zone:18} {per_call:>9} ns/call ({fired} of {calls} found a time)");
    }
    Ok(())
}
