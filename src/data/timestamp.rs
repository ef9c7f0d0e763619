//! ISO 8601 timestamps as the contract allows them, parsed to UTC microseconds.
//!
//! A hand-written parser rather than a chain of polars `strptime` attempts: the contract
//! accepts several shapes in one column (`2026-03-01`, `2026-03-01T09:30:00`,
//! `2026-03-01 09:30:00`, with optional fractions, `Z` or `±HH:MM`), and a failure must be
//! pinned to its row. It runs at tens of millions of values per second.

/// The chrono format leadscore writes timestamps in (whole seconds, UTC).
pub(crate) const CSV_TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Microseconds per second, minute, hour and day.
pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in one day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Days per microsecond. Ages in days are microseconds times this, not microseconds
/// divided by a day: polars divides a column by a number that way, and every age
/// (the feature engine's, the rule model's, the exported SQL's) must be the same double.
pub(crate) const DAYS_PER_MICRO: f64 = 1.0 / MICROS_PER_DAY as f64;

/// Parses one timestamp to microseconds since 1970-01-01T00:00:00Z, or `None` when it is
/// not one of the contract's shapes or names an impossible date or time.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut micros = days_from_civil(year, month, day) * MICROS_PER_DAY;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(micros);
    }
    if rest[0] != b'T' && rest[0] != b' ' {
        return None;
    }
    let (time_micros, zone) = parse_time(&rest[1..])?;
    micros += time_micros;
    micros -= parse_zone(zone)? * 60 * MICROS_PER_SECOND;
    Some(micros)
}

/// Microseconds since the epoch, now.
pub(crate) fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Formats microseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds), the
/// shape leadscore writes.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let secs = micros.rem_euclid(MICROS_PER_DAY) / MICROS_PER_SECOND;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Parses `HH:MM[:SS[.ffffff]]` and returns its microseconds and the unparsed zone suffix.
fn parse_time(b: &[u8]) -> Option<(i64, &[u8])> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let hour = digits(&b[0..2])?;
    let minute = digits(&b[3..5])?;
    let mut second = 0;
    let mut fraction_micros = 0;
    let mut at = 5;
    if b.len() >= 8 && b[5] == b':' {
        second = digits(&b[6..8])?;
        at = 8;
        if b.len() > 8 && (b[8] == b'.' || b[8] == b',') {
            let start = 9;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return None;
            }
            // Keep microsecond precision; finer digits are truncated.
            let mut scale = 100_000;
            for &digit in &b[start..end.min(start + 6)] {
                fraction_micros += i64::from(digit - b'0') * scale;
                scale /= 10;
            }
            at = end;
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let micros = ((hour * 60 + minute) * 60 + second) * MICROS_PER_SECOND + fraction_micros;
    Some((micros, &b[at..]))
}

/// Parses an empty zone, `Z`, `±HH:MM`, `±HHMM` or `±HH` into minutes east of UTC.
fn parse_zone(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            Some(if *sign == b'-' { -offset } else { offset })
        }
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARCH_1_2026: i64 = 1_772_323_200 * MICROS_PER_SECOND;

    #[test]
    fn accepts_every_contract_shape() {
        assert_eq!(parse_timestamp("2026-03-01"), Some(MARCH_1_2026));
        let nine_thirty = MARCH_1_2026 + (9 * 3600 + 30 * 60) * MICROS_PER_SECOND;
        for text in [
            "2026-03-01T09:30:00",
            "2026-03-01T09:30:00Z",
            "2026-03-01 09:30:00",
            "2026-03-01T09:30",
            "2026-03-01T11:30:00+02:00",
            "2026-03-01T04:30:00-0500",
            " 2026-03-01T09:30:00.000Z ",
        ] {
            assert_eq!(parse_timestamp(text), Some(nine_thirty), "{text}");
        }
        assert_eq!(
            parse_timestamp("2026-03-01T00:00:00.25"),
            Some(MARCH_1_2026 + 250_000)
        );
    }

    #[test]
    fn rejects_impossible_or_foreign_text() {
        for text in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-29",
            "2026-02-30T00:00:00",
            "2026-03-01T24:00:00",
            "2026-03-01T09:61",
            "01/03/2026",
            "2026-03-01X09:30",
            "2026-03-01T09:30:00+25:00",
            "2026-03-01T09:30:00.",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert!(parse_timestamp("2024-02-29").is_some());
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn format_round_trips() {
        let t = MARCH_1_2026 + 3_723 * MICROS_PER_SECOND;
        assert_eq!(format_timestamp(t), "2026-03-01T01:02:03Z");
        assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t));
    }
}
