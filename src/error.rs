//! The crate's one error type, and the JSON error body of the API.

use crate::bulk::BulkMismatch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// How much of an undecodable body an error keeps for diagnosis.
pub const BODY_EXCERPT_LIMIT: usize = 2048;

/// Everything a call can fail with. No variant ever holds the API token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be configured (bad base URL, empty token, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The token would travel in clear text to a host that is not this machine.
    #[error(
        "refusing to send the API token over plain http to {host}; use https, or a loopback host for local testing"
    )]
    InsecureTransport {
        /// The host that was refused.
        host: String,
    },
    /// The request could not be built from the arguments given.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Connecting, sending or receiving failed, or timed out.
    #[error("transport error: {source}")]
    Transport {
        /// The underlying error (its text holds the URL, never headers).
        #[source]
        source: reqwest::Error,
    },
    /// 400: the server refused the request, naming the fields at fault.
    #[error("400 bad request: {}", describe(detail, fields))]
    BadRequest {
        /// The `detail` message, if any.
        detail: Option<String>,
        /// Field name to the server's messages about it.
        fields: BTreeMap<String, Vec<String>>,
    },
    /// 401 or 403: the token is missing, wrong or not allowed.
    #[error("{status} unauthorized: {}", detail.as_deref().unwrap_or("no detail"))]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's `detail` message.
        detail: Option<String>,
    },
    /// 404: no such lead (or, for the match update, no lead matched).
    #[error("404 not found: {}", detail.as_deref().unwrap_or("no detail"))]
    NotFound {
        /// The server's `detail` message.
        detail: Option<String>,
    },
    /// 429: too many requests.
    #[error("429 too many requests (retry after {retry_after:?})")]
    RateLimited {
        /// The `Retry-After` delay, when the server sent one in seconds.
        retry_after: Option<Duration>,
    },
    /// A 5xx answer.
    #[error("{status} server error: {body}")]
    Server {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
        /// The `Retry-After` delay, when the server sent one (usual with 503).
        retry_after: Option<Duration>,
    },
    /// Any other status the API does not document for this call.
    #[error("unexpected status {status}: {body}")]
    UnexpectedStatus {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A body that does not decode as the documented shape.
    #[error("undecodable response body ({reason}): {body}")]
    Decode {
        /// Why it does not decode.
        reason: String,
        /// The start of the body, kept for diagnosis.
        body: String,
    },
    /// A bulk answer that cannot be matched one-to-one with the leads sent.
    #[error("bulk answer does not match the leads sent: {0}")]
    BulkMismatch(#[from] BulkMismatch),
    /// The caller stopped waiting for an answer (an import aborted by a
    /// second Ctrl-C): the request may have reached the server.
    #[error("interrupted while the request was in flight; the server may have acted on it")]
    Interrupted,
}

impl Error {
    /// The HTTP status behind this error, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::BadRequest { .. } => Some(400),
            Self::Unauthorized { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } => Some(429),
            Self::Server { status, .. } | Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::Transport { source } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Maps an answer with an error status to the matching variant.
    pub(crate) fn from_status(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Self {
        let parsed: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
        Self::from_answer(status, headers, parsed.as_ref(), || excerpt(body))
    }

    /// Maps an error answer whose body is already decoded (or not JSON: `None`);
    /// `text` gives the body's start for the variants that keep it.
    fn from_answer(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        parsed: Option<&ApiErrorBody>,
        text: impl FnOnce() -> String,
    ) -> Self {
        let detail = parsed.and_then(|b| b.detail().map(str::to_owned));
        match status {
            400 => match parsed {
                Some(body) => Self::BadRequest {
                    detail,
                    fields: body.field_errors(),
                },
                None => Self::BadRequest {
                    detail: Some(text()),
                    fields: BTreeMap::new(),
                },
            },
            401 | 403 => Self::Unauthorized { status, detail },
            404 => Self::NotFound { detail },
            429 => Self::RateLimited {
                retry_after: retry_after(headers),
            },
            500..=599 => Self::Server {
                status,
                body: text(),
                retry_after: retry_after(headers),
            },
            _ => Self::UnexpectedStatus {
                status,
                body: text(),
            },
        }
    }

    /// Converts a generated-client error, reading the body where needed.
    pub(crate) async fn from_api(error: progenitor_client::Error<ApiErrorBody>) -> Self {
        use progenitor_client::Error as E;
        match error {
            E::InvalidRequest(message) | E::Custom(message) => Self::InvalidRequest(message),
            E::CommunicationError(source)
            | E::InvalidUpgrade(source)
            | E::ResponseBodyError(source) => Self::Transport { source },
            E::ErrorResponse(value) => {
                let body: &ApiErrorBody = &value;
                Self::from_answer(value.status().as_u16(), value.headers(), Some(body), || {
                    truncate(&serde_json::to_string(body).unwrap_or_default())
                })
            }
            E::InvalidResponsePayload(body, error) => Self::Decode {
                reason: error.to_string(),
                body: excerpt(&body),
            },
            E::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                match response.bytes().await {
                    Ok(body) => Self::from_status(status, &headers, &body),
                    Err(source) => Self::Transport { source },
                }
            }
        }
    }
}

fn describe(detail: &Option<String>, fields: &BTreeMap<String, Vec<String>>) -> String {
    let mut parts: Vec<String> = detail.iter().cloned().collect();
    parts.extend(
        fields
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(" "))),
    );
    if parts.is_empty() {
        "no detail".to_owned()
    } else {
        parts.join("; ")
    }
}

/// `Retry-After` as seconds, or as an HTTP date (a date in the past is zero).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The start of a body, lossily decoded, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(body))
}

/// Cuts text to [`BODY_EXCERPT_LIMIT`] bytes on a character boundary.
pub(crate) fn truncate(text: &str) -> String {
    if text.len() <= BODY_EXCERPT_LIMIT {
        return text.to_owned();
    }
    let mut end = BODY_EXCERPT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}

/// A Django REST framework error body: `detail`, or field names mapped to
/// messages. Every key is kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiErrorBody(pub Map<String, Value>);

impl ApiErrorBody {
    /// The `detail` message of 401, 403 and 404 answers.
    pub fn detail(&self) -> Option<&str> {
        self.0.get("detail").and_then(Value::as_str)
    }

    /// Every key but `detail`, with its messages (a string or a list of them).
    pub fn field_errors(&self) -> BTreeMap<String, Vec<String>> {
        self.0
            .iter()
            .filter(|(key, _)| key.as_str() != "detail")
            .map(|(key, value)| {
                let messages = match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) => items
                        .iter()
                        .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                        .collect(),
                    other => vec![other.to_string()],
                };
                (key.clone(), messages)
            })
            .collect()
    }
}

impl schemars::JsonSchema for ApiErrorBody {
    fn schema_name() -> String {
        "ApiError".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        crate::metadata::open_object_schema(generator, &[("detail", "string")])
    }
}
