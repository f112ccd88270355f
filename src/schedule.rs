//! Cron schedules and back-off arithmetic. Pure: every function takes `now`.
//!
//! Config cron lines are standard 5-field cron (`min hour dom month dow`) or 6 fields with
//! seconds first. The `cron` crate numbers days of the week 1-7 from Sunday, while
//! standard cron numbers them 0-7 from Sunday (0 and 7 both Sunday); [`CronSpec`] rewrites
//! the day-of-week field into names so `1-5` keeps meaning Monday to Friday.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A validated cron schedule, as written and as compiled.
#[derive(Debug, Clone)]
pub struct CronSpec {
    text: String,
    schedule: cron::Schedule,
}

/// Why a cron line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(String);

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl FromStr for CronSpec {
    type Err = CronError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let (sec, rest) = match fields.len() {
            5 => ("0", &fields[..]),
            6 => (fields[0], &fields[1..]),
            n => {
                return Err(CronError(format!(
                "expected 5 fields (min hour day month weekday) or 6 with seconds first, found {n}"
            )))
            }
        };
        check_range("second", sec, 0, 59)?;
        check_range("minute", rest[0], 0, 59)?;
        check_range("hour", rest[1], 0, 23)?;
        check_range("day of month", rest[2], 1, 31)?;
        check_range("month", rest[3], 1, 12)?;
        let dow = translate_weekdays(rest[4])?;
        let line = format!(
            "{sec} {} {} {} {} {dow}",
            rest[0], rest[1], rest[2], rest[3]
        );
        let schedule = cron::Schedule::from_str(&line).map_err(|e| {
            let msg = e.to_string();
            let last = msg.lines().last().unwrap_or(&msg).trim().to_string();
            CronError(last.trim_end_matches('.').to_string())
        })?;
        Ok(CronSpec {
            text: text.trim().to_string(),
            schedule,
        })
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl CronSpec {
    /// The first fire time strictly after `now`, computed in `tz`.
    pub fn next_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&tz);
        self.schedule
            .after(&local)
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` fire times after `now`.
    pub fn upcoming(&self, now: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Tz>> {
        let local = tz.from_utc_datetime(&now.naive_utc());
        self.schedule.after(&local).take(n).collect()
    }
}

/// Checks every number in a field (not steps) against its range, for a clear message.
fn check_range(what: &str, field: &str, lo: u32, hi: u32) -> Result<(), CronError> {
    for item in field.split(',') {
        let mut parts = item.split('/');
        let values = parts.next().unwrap_or(item);
        if let Some(step) = parts.next().and_then(|s| s.parse::<u32>().ok()) {
            if step == 0 || step > hi {
                return Err(CronError(format!(
                    "{what} step must be 1-{hi}, found {step}"
                )));
            }
        }
        for v in values.split('-') {
            if let Ok(n) = v.parse::<u32>() {
                if n < lo || n > hi {
                    return Err(CronError(format!("{what} must be {lo}-{hi}, found {n}")));
                }
            }
        }
    }
    Ok(())
}

/// Rewrites a standard-cron weekday field (0-7, names, ranges, steps, lists) into names.
fn translate_weekdays(field: &str) -> Result<String, CronError> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: usize = s.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    CronError(format!(
                        "weekday step must be a positive number, found {s:?}"
                    ))
                })?;
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (weekday(a)?, weekday(b)?)
        } else {
            let d = weekday(range)?;
            (d, if step > 1 { 7 } else { d })
        };
        if lo > hi {
            return Err(CronError(format!("weekday range {range:?} runs backwards")));
        }
        for d in (lo..=hi).step_by(step) {
            days[d % 7] = true;
        }
    }
    let names: Vec<&str> = (0..7).filter(|&d| days[d]).map(|d| DAY_NAMES[d]).collect();
    Ok(names.join(","))
}

fn weekday(s: &str) -> Result<usize, CronError> {
    if let Ok(n) = s.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(CronError(format!(
                "weekday must be 0-7 or SUN-SAT, found {n}"
            )))
        };
    }
    let upper = s.to_ascii_uppercase();
    DAY_NAMES
        .iter()
        .position(|d| upper.starts_with(d))
        .ok_or_else(|| CronError(format!("weekday must be 0-7 or SUN-SAT, found {s:?}")))
}

/// Exponential back-off: `base * 2^(failures-1)`, capped. `failures` counts from 1.
pub fn backoff(failures: u32, base: Duration, cap: Duration) -> Duration {
    let shift = failures.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << shift).min(cap)
}

/// First retry of an unsent digest after 30 s, doubling, at most an hour (SPEC).
pub const DELIVERY_RETRY_BASE: Duration = Duration::from_secs(30);
pub const DELIVERY_RETRY_CAP: Duration = Duration::from_secs(3600);
/// A failing source backs off from one minute up to six hours (SPEC).
pub const SOURCE_BACKOFF_BASE: Duration = Duration::from_secs(60);
pub const SOURCE_BACKOFF_CAP: Duration = Duration::from_secs(6 * 3600);

/// Adds up to 10 % jitter derived from `seed` (deterministic for tests).
pub fn with_jitter(d: Duration, seed: u64) -> Duration {
    let tenth = d.as_millis() as u64 / 10;
    if tenth == 0 {
        return d;
    }
    d + Duration::from_millis(seed % tenth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_fields_fire_on_the_minute() {
        let c: CronSpec = "*/15 * * * *".parse().unwrap();
        let n = c.next_after(at("2026-01-01T10:07:30Z"), Tz::UTC).unwrap();
        assert_eq!(n, at("2026-01-01T10:15:00Z"));
    }

    #[test]
    fn six_fields_have_seconds_first() {
        let c: CronSpec = "*/10 * * * * *".parse().unwrap();
        let n = c.next_after(at("2026-01-01T10:07:31Z"), Tz::UTC).unwrap();
        assert_eq!(n, at("2026-01-01T10:07:40Z"));
    }

    #[test]
    fn weekdays_follow_standard_cron_numbering() {
        let c: CronSpec = "0 7 * * 1-5".parse().unwrap();
        // 2026-01-03 is a Saturday: next is Monday 5th.
        let n = c.next_after(at("2026-01-03T08:00:00Z"), Tz::UTC).unwrap();
        assert_eq!(n.weekday(), Weekday::Mon);
        assert_eq!(n.day(), 5);
        let sun: CronSpec = "0 7 * * 0".parse().unwrap();
        let sev: CronSpec = "0 7 * * 7".parse().unwrap();
        let a = sun.next_after(at("2026-01-01T00:00:00Z"), Tz::UTC).unwrap();
        let b = sev.next_after(at("2026-01-01T00:00:00Z"), Tz::UTC).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.weekday(), Weekday::Sun);
    }

    #[test]
    fn fire_times_are_in_the_configured_zone() {
        let c: CronSpec = "0 7 * * *".parse().unwrap();
        let tz: Tz = "Africa/Niamey".parse().unwrap(); // UTC+1
        let n = c.next_after(at("2026-01-01T00:00:00Z"), tz).unwrap();
        assert_eq!(n.hour(), 6);
    }

    #[test]
    fn bad_lines_say_why() {
        let e = "*/61 * * * *".parse::<CronSpec>().unwrap_err();
        assert!(e.0.contains("61"), "{e}");
        let e = "* * *".parse::<CronSpec>().unwrap_err();
        assert!(e.0.contains("found 3"), "{e}");
        assert!("0 7 * * 9".parse::<CronSpec>().is_err());
        assert!("0 7 * * MON-FRI".parse::<CronSpec>().is_ok());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_secs(30);
        let cap = Duration::from_secs(3600);
        assert_eq!(backoff(1, b, cap), Duration::from_secs(30));
        assert_eq!(backoff(2, b, cap), Duration::from_secs(60));
        assert_eq!(backoff(8, b, cap), cap);
        assert_eq!(backoff(100, b, cap), cap);
    }
}
