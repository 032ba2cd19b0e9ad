//! The API token, a secret that never reaches logs, `Debug` output or errors.

use std::fmt;

/// A Sela API key, sent as `Authorization: Token <key>`.
///
/// `Debug` and `Display` print `ApiToken(***)`, so the key cannot leak through
/// logs, panics or error messages by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a key. Surrounding white space is removed; an empty key is refused
    /// by [`crate::Client::new`], not here.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_owned())
    }

    /// The key itself, for callers that must hand it to another tool.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `Authorization` header value, marked sensitive so that reqwest and
    /// hyper redact it too.
    pub(crate) fn header_value(&self) -> Option<reqwest::header::HeaderValue> {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Token {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for ApiToken {
    fn from(key: String) -> Self {
        Self::new(key)
    }
}

impl From<&str> for ApiToken {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}
