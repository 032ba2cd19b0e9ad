//! One HTTP request and its answer, as the reports show them: the key only
//! ever as `$SELA_API_KEY` (or `$SELA_SECOND_API_KEY`), near-miss tokens by
//! their label, and a `curl` line that reproduces the request.

use std::fmt;

use serde_json::{Value, json};

/// Placeholder written wherever the real key would appear.
pub const KEY_PLACEHOLDER: &str = "$SELA_API_KEY";

/// Placeholder written wherever the second account's key would appear (A3).
pub const SECOND_KEY_PLACEHOLDER: &str = "$SELA_SECOND_API_KEY";

/// How a request authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Token <the key>` (shown as `$SELA_API_KEY`).
    Token,
    /// The second account's key (shown as `$SELA_SECOND_API_KEY`); no header
    /// when the target has none.
    Second,
    /// No `Authorization` header.
    Missing,
    /// This exact header value (a made-up wrong token; never the real key).
    Literal(String),
    /// A near miss of the real token (A1): sent as `value`, but shown only by
    /// its label, since it reveals almost all of the key.
    NearMiss {
        /// What was changed (`last character dropped`, `Bearer scheme`, ...).
        label: &'static str,
        /// The header value sent.
        value: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token => f.write_str("Token"),
            Auth::Second => f.write_str("Second"),
            Auth::Missing => f.write_str("Missing"),
            Auth::Literal(v) => f.debug_tuple("Literal").field(v).finish(),
            Auth::NearMiss { label, .. } => write!(f, "NearMiss({label})"),
        }
    }
}

/// One HTTP request and its answer, as sent and as received.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// `GET`, `POST`, `PATCH` or `PUT`.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// How the request authenticated.
    pub auth: Auth,
    /// The request body as sent (a `POST` always sends JSON content type).
    pub body: Option<String>,
    /// The answer's status; `None` when no answer came.
    pub status: Option<u16>,
    /// The answer's `Content-Type`.
    pub content_type: Option<String>,
    /// The answer's body, as text (lossy UTF-8).
    pub response: String,
    /// The transport error when no answer came.
    pub transport_error: Option<String>,
}

impl Exchange {
    /// A request about to be sent: no answer yet (both senders, the client's
    /// and a concurrent group's, fill it in).
    pub(crate) fn unanswered(
        method: &'static str,
        url: String,
        auth: Auth,
        body: Option<String>,
    ) -> Exchange {
        Exchange {
            method,
            url,
            auth,
            body,
            status: None,
            content_type: None,
            response: String::new(),
            transport_error: None,
        }
    }

    /// The request as JSON for a report (the key shown as `$SELA_API_KEY`).
    pub fn request_json(&self) -> Value {
        let body = self
            .body
            .as_deref()
            .map(|b| serde_json::from_str::<Value>(b).unwrap_or_else(|_| json!(b)));
        json!({
            "method": self.method,
            "url": self.url,
            "authorization": self.auth_display(),
            "body": body,
        })
    }

    /// The answer as JSON for a report.
    pub fn response_json(&self) -> Value {
        if let Some(err) = &self.transport_error {
            return json!({"transport_error": err});
        }
        let body = serde_json::from_str::<Value>(&self.response)
            .unwrap_or_else(|_| json!(self.response.clone()));
        json!({
            "status": self.status,
            "content_type": self.content_type,
            "body": body,
        })
    }

    /// The answer's body parsed as JSON, if it is JSON.
    pub fn response_value(&self) -> Option<Value> {
        serde_json::from_str(&self.response).ok()
    }

    fn auth_display(&self) -> Option<String> {
        match &self.auth {
            Auth::Token => Some(format!("Token {KEY_PLACEHOLDER}")),
            Auth::Second => Some(format!("Token {SECOND_KEY_PLACEHOLDER}")),
            Auth::Missing => None,
            Auth::Literal(v) => Some(v.clone()),
            Auth::NearMiss { label, .. } => Some(format!("<the real token, {label}>")),
        }
    }

    /// A `curl` command reproducing the request; the key is written as
    /// `$SELA_API_KEY` (double-quoted so the shell expands it).
    pub fn curl(&self) -> String {
        let mut cmd = format!("curl -sS -i -X {} {}", self.method, shell_quote(&self.url));
        match &self.auth {
            Auth::Token => cmd.push_str(" -H \"Authorization: Token $SELA_API_KEY\""),
            Auth::Second => cmd.push_str(" -H \"Authorization: Token $SELA_SECOND_API_KEY\""),
            Auth::Missing => {}
            Auth::Literal(v) => {
                cmd.push_str(" -H ");
                cmd.push_str(&shell_quote(&format!("Authorization: {v}")));
            }
            Auth::NearMiss { label, .. } => {
                cmd.push_str(&format!(
                    " -H \"Authorization: Token $SELA_API_KEY\" # with the token's {label}"
                ));
            }
        }
        if let Some(body) = &self.body {
            cmd.push_str(" -H 'Content-Type: application/json' --data-binary ");
            cmd.push_str(&shell_quote(body));
        }
        cmd
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
