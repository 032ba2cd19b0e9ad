//! `Timestamp`: a time the server sends, kept as its raw text so that one
//! malformed value never fails the lead (or the page) it came in.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A date-time from a server answer (`created_time`, `next_call_time`, ...).
///
/// The documentation's own list sample holds a malformed one (`025-02-28...`),
/// so the text is kept exactly as sent and parsed on demand: [`Timestamp::time`]
/// gives the time when the text is an RFC 3339 date-time, and `None` otherwise,
/// while [`Timestamp::as_str`] always gives the text.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// The time in UTC, when the text parses as an RFC 3339 date-time.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.time_with_offset().map(|t| t.with_timezone(&Utc))
    }

    /// The time with the UTC offset the server wrote, when the text parses.
    pub fn time_with_offset(&self) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(self.0.trim()).ok()
    }

    /// True when the text parses as a date-time.
    pub fn is_valid(&self) -> bool {
        self.time_with_offset().is_some()
    }

    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Timestamp {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Timestamp {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl<Tz: chrono::TimeZone> From<DateTime<Tz>> for Timestamp
where
    Tz::Offset: fmt::Display,
{
    /// The RFC 3339 text of a time, microseconds kept.
    fn from(time: DateTime<Tz>) -> Self {
        Self(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
    }
}

impl PartialEq<str> for Timestamp {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        // What the server promises; the type itself also keeps other text.
        <DateTime<Utc>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_time_is_kept_as_text() {
        let odd: Timestamp = serde_json::from_str(r#""025-02-28T09:00:00-08:00""#).unwrap();
        assert_eq!(odd.as_str(), "025-02-28T09:00:00-08:00");
        assert_eq!(odd.time(), None);
        let good: Timestamp =
            serde_json::from_str(r#""2025-02-27T10:15:30.123456-08:00""#).unwrap();
        assert_eq!(
            good.time().unwrap().to_rfc3339(),
            "2025-02-27T18:15:30.123456+00:00"
        );
        assert_eq!(
            good.time_with_offset().unwrap().offset().local_minus_utc(),
            -8 * 3600
        );
        assert_eq!(
            serde_json::to_string(&odd).unwrap(),
            r#""025-02-28T09:00:00-08:00""#
        );
    }
}
