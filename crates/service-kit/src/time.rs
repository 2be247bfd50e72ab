//! Instants are stored as BIGINT unix milliseconds so one column type serves SQLite and PostgreSQL.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the unix epoch, now.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// ISO 8601 in UTC with milliseconds, e.g. `2021-12-20T13:37:00.211Z`.
pub fn iso8601_millis(millis: i64) -> String {
    to_datetime(millis).to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn to_datetime(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(
            iso8601_millis(1_640_007_420_211),
            "2021-12-20T13:37:00.211Z"
        );
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
    }
}
