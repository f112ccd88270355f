//! Cron schedules and back-off arithmetic. Pure: every function takes `now`.
//!
//! Config cron lines are standard 5-field cron (`min hour dom month dow`) or 6 fields with
//! seconds first. The `cron` crate numbers days of the week 1-7 from Sunday, while
//! standard cron numbers them 0-7 from Sunday (0 and 7 both Sunday); [`CronSpec`] rewrites
//! the day-of-week field into names so `1-5` keeps meaning Monday to Friday.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, LocalResult, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A validated cron schedule, as written and as compiled.
#[derive(Debug, Clone)]
pub struct CronSpec {
    text: String,
    schedule: cron::Schedule,
    /// Fixed hours fire by the wall clock (once a day, even across DST changes); a
    /// wildcard hour fires by elapsed time, like Vixie cron.
    wall_clock: bool,
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
        let hour = rest[1];
        Ok(CronSpec {
            text: text.trim().to_string(),
            schedule,
            wall_clock: !(hour == "*" || hour.starts_with("*/")),
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
    ///
    /// With a fixed hour, a time that does not exist on the spring-forward day fires at the
    /// same wall-clock offset after the gap (02:30 → 03:30), and a time that happens twice
    /// on the fall-back day fires once (the first time): no digest skipped or doubled.
    #[must_use]
    pub fn next_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if !self.wall_clock {
            // The cron crate walks local time and so loses the repeated hour on the fall-back
            // day; walking under the current UTC offset keeps it. Take the earlier of the two.
            let local = now.with_timezone(&tz);
            let by_zone = self
                .schedule
                .after(&local)
                .next()
                .map(|t| t.with_timezone(&Utc));
            let fixed = now.with_timezone(&local.offset().fix());
            let by_offset = self
                .schedule
                .after(&fixed)
                .next()
                .map(|t| t.with_timezone(&Utc));
            return match (by_zone, by_offset) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        // Walk the schedule in wall-clock time (naive local time dressed as UTC).
        let wall_now = Utc.from_utc_datetime(&now.with_timezone(&tz).naive_local());
        for wall in self.schedule.after(&wall_now).take(1000) {
            let naive = wall.naive_utc();
            let t = match tz.from_local_datetime(&naive) {
                LocalResult::Single(t) => t,
                LocalResult::Ambiguous(first, _) => first,
                LocalResult::None => {
                    // In the spring-forward gap: read the wall time with the offset in force
                    // before the gap, which lands as far after the gap as it was into it.
                    let Some(before) = tz
                        .from_local_datetime(&(naive - chrono::Duration::hours(3)))
                        .earliest()
                    else {
                        continue;
                    };
                    let Some(t) = before.offset().fix().from_local_datetime(&naive).single() else {
                        continue;
                    };
                    t.with_timezone(&tz)
                }
            };
            let t = t.with_timezone(&Utc);
            if t > now {
                return Some(t);
            }
        }
        None
    }

    /// The next `n` fire times after `now`.
    #[must_use]
    pub fn upcoming(&self, now: DateTime<Utc>, tz: Tz, n: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::with_capacity(n);
        let mut t = now;
        while out.len() < n {
            let Some(next) = self.next_after(t, tz) else {
                break;
            };
            out.push(next.with_timezone(&tz));
            t = next;
        }
        out
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
#[must_use]
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

/// How long a source that has now failed `failures` times in a row (counting this one) waits
/// before it is tried again: [`SOURCE_BACKOFF_BASE`] doubling up to [`SOURCE_BACKOFF_CAP`],
/// plus up to 10 % jitter from `seed`, and never less than a server's `Retry-After`.
#[must_use]
pub fn source_backoff(failures: u32, retry_after: Option<Duration>, seed: u64) -> Duration {
    let wait = backoff(failures, SOURCE_BACKOFF_BASE, SOURCE_BACKOFF_CAP);
    with_jitter(wait, seed).max(retry_after.unwrap_or_default())
}

/// When an undelivered message is tried again after its `attempts`-th failed attempt.
#[must_use]
pub fn delivery_retry(attempts: u32) -> Duration {
    backoff(attempts, DELIVERY_RETRY_BASE, DELIVERY_RETRY_CAP)
}

/// Adds up to 10 % jitter derived from `seed` (deterministic for tests).
#[must_use]
pub fn with_jitter(d: Duration, seed: u64) -> Duration {
    let tenth = u64::try_from(d.as_millis() / 10).unwrap_or(u64::MAX);
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
    fn backoffs() {
        let s = |n| source_backoff(n, None, 0).as_secs();
        assert_eq!(
            [s(1), s(2), s(3), s(10), s(20)],
            [60, 120, 240, 6 * 3600, 6 * 3600]
        );
        assert_eq!(
            source_backoff(1, Some(Duration::from_secs(7200)), 0).as_secs(),
            7200
        );
        assert!(source_backoff(1, None, 5_999).as_millis() <= 66_000);
        let d = |n| delivery_retry(n).as_secs();
        assert_eq!([d(1), d(2), d(3), d(8), d(20)], [30, 60, 120, 3600, 3600]);
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

    fn fires(spec: &str, tz: &str, from: &str, n: usize) -> Vec<String> {
        let c: CronSpec = spec.parse().unwrap();
        let tz: Tz = tz.parse().unwrap();
        c.upcoming(at(from), tz, n)
            .iter()
            .map(|t| t.with_timezone(&Utc).to_rfc3339())
            .collect()
    }

    #[test]
    fn dst_spring_forward_does_not_skip_a_daily_digest() {
        // Europe/Paris skips 02:00-03:00 on 2026-03-29.
        let f = fires("30 2 * * *", "Europe/Paris", "2026-03-27T12:00:00Z", 3);
        assert_eq!(
            f,
            [
                "2026-03-28T01:30:00+00:00",
                "2026-03-29T01:30:00+00:00",
                "2026-03-30T00:30:00+00:00"
            ]
        );
    }

    #[test]
    fn dst_fall_back_does_not_double_a_daily_digest() {
        // 02:30 happens twice on 2026-10-25 in Europe/Paris.
        let f = fires("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", 3);
        assert_eq!(
            f,
            [
                "2026-10-25T00:30:00+00:00",
                "2026-10-26T01:30:00+00:00",
                "2026-10-27T01:30:00+00:00"
            ]
        );
        // Asked from inside the repeated hour, after the first 02:30: next is tomorrow.
        let f = fires("30 2 * * *", "Europe/Paris", "2026-10-25T01:10:00Z", 1);
        assert_eq!(f, ["2026-10-26T01:30:00+00:00"]);
    }

    #[test]
    fn wildcard_hours_follow_elapsed_time_across_dst() {
        let f = fires("0 * * * *", "Europe/Paris", "2026-10-24T23:30:00Z", 3);
        assert_eq!(
            f,
            [
                "2026-10-25T00:00:00+00:00",
                "2026-10-25T01:00:00+00:00",
                "2026-10-25T02:00:00+00:00"
            ]
        );
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
