//! Tests of cron parsing, time zones (DST), next runs and the missed-run decision.

use chrono::{TimeZone, Utc};

use super::*;

fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn five_and_six_fields_parse_others_do_not() {
    assert!(parse_cron("*/5 * * * *").is_ok());
    assert!(parse_cron("*/2 * * * * *").is_ok());
    assert!(parse_cron("* * *").unwrap_err().contains("5 or 6 fields"));
    assert!(parse_cron("61 * * * *").is_err());
    assert!(parse_timezone("Europe/Berlin").is_ok());
    assert!(parse_timezone("Mars/Olympus").is_err());
}

/// Noon in New York every day across the 2027 spring-forward (Sunday 14 March): computed by
/// hand, 17:00 UTC while EST (UTC-5), 16:00 UTC from the change on (EDT, UTC-4).
#[test]
fn next_runs_follow_daylight_saving_time() {
    let cron = parse_cron("0 12 * * *").unwrap();
    let tz = parse_timezone("America/New_York").unwrap();
    let from = Utc.timestamp_millis_opt(ms(2027, 3, 12, 18, 0, 0)).unwrap();
    let runs: Vec<i64> = next_runs(&cron, tz, from, 4)
        .iter()
        .map(|t| t.timestamp_millis())
        .collect();
    let expected = [
        ms(2027, 3, 13, 17, 0, 0),
        ms(2027, 3, 14, 16, 0, 0),
        ms(2027, 3, 15, 16, 0, 0),
        ms(2027, 3, 16, 16, 0, 0),
    ];
    assert_eq!(runs, expected);
}

/// 02:30 does not exist in Berlin on 28 March 2027 (02:00 → 03:00): that run happens at the
/// first instant after the gap, 03:00 CEST = 01:00 UTC; the day before is 01:30 UTC (CET).
#[test]
fn a_slot_in_the_spring_gap_runs_after_it() {
    let cron = parse_cron("30 2 * * *").unwrap();
    let tz = parse_timezone("Europe/Berlin").unwrap();
    let from = Utc.timestamp_millis_opt(ms(2027, 3, 26, 12, 0, 0)).unwrap();
    let runs: Vec<i64> = next_runs(&cron, tz, from, 3)
        .iter()
        .map(|t| t.timestamp_millis())
        .collect();
    assert_eq!(runs[0], ms(2027, 3, 27, 1, 30, 0));
    assert_eq!(runs[1], ms(2027, 3, 28, 1, 0, 0));
    assert_eq!(runs[2], ms(2027, 3, 29, 0, 30, 0));
}

#[test]
fn due_fires_on_time_or_late_and_waits() {
    let cron = parse_cron("0 * * * * *").unwrap();
    let utc = parse_timezone("UTC").unwrap();
    let t0 = ms(2027, 1, 1, 0, 0, 30);
    let skip = MissedRunPolicy::Skip;
    assert_eq!(
        due(&cron, utc, t0, t0, skip),
        Due::Wait(ms(2027, 1, 1, 0, 1, 0))
    );
    let fire = |slot_ms| Due::Fire {
        slot_ms,
        missed: false,
    };
    let late = ms(2027, 1, 1, 0, 1, 3);
    assert_eq!(
        due(&cron, utc, t0, late, skip),
        fire(ms(2027, 1, 1, 0, 1, 0))
    );
    // Down for hours: only the latest slot runs, and it is recent enough to be on time.
    let back = ms(2027, 1, 1, 3, 0, 30);
    assert_eq!(
        due(&cron, utc, t0, back, skip),
        fire(ms(2027, 1, 1, 3, 0, 0))
    );
}

#[test]
fn missed_slots_are_skipped_or_run_once() {
    let hourly = parse_cron("0 0 * * * *").unwrap();
    let utc = parse_timezone("UTC").unwrap();
    let since = ms(2027, 1, 1, 0, 0, 30);
    let back = ms(2027, 1, 1, 2, 30, 0);
    let latest = ms(2027, 1, 1, 2, 0, 0);
    let skip = due(&hourly, utc, since, back, MissedRunPolicy::Skip);
    assert_eq!(skip, Due::SkipTo(latest));
    let once = due(&hourly, utc, since, back, MissedRunPolicy::RunOnce);
    assert_eq!(
        once,
        Due::Fire {
            slot_ms: latest,
            missed: true
        }
    );
    // After skipping to the latest slot, the next one is waited for.
    assert_eq!(
        due(&hourly, utc, latest, back, MissedRunPolicy::Skip),
        Due::Wait(ms(2027, 1, 1, 3, 0, 0))
    );
}

/// 02:30 happens twice in Berlin on 31 October 2027 (03:00 CEST → 02:00 CET): it runs once, at
/// the first one (00:30 UTC); on the days after, 02:30 CET is 01:30 UTC.
#[test]
fn a_repeated_autumn_slot_runs_once() {
    let cron = parse_cron("30 2 * * *").unwrap();
    let tz = parse_timezone("Europe/Berlin").unwrap();
    let from = Utc
        .timestamp_millis_opt(ms(2027, 10, 30, 12, 0, 0))
        .unwrap();
    let runs: Vec<i64> = next_runs(&cron, tz, from, 3)
        .iter()
        .map(|t| t.timestamp_millis())
        .collect();
    let expected = [
        ms(2027, 10, 31, 0, 30, 0),
        ms(2027, 11, 1, 1, 30, 0),
        ms(2027, 11, 2, 1, 30, 0),
    ];
    assert_eq!(runs, expected);
}
