//! The crate's one error type, and the JSON error body of the API.

use crate::bulk::BulkMismatch;
use crate::excerpt::{excerpt, truncate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Everything a call can fail with. No variant ever holds the API token.
///
/// Every variant built from an HTTP answer keeps its status
/// ([`Error::status`]), the start of its body ([`Error::body`], at most
/// [`BODY_EXCERPT_LIMIT`](crate::BODY_EXCERPT_LIMIT) bytes) and the server's
/// request id when it sent one ([`Error::request_id`]), so that a failure can
/// be reported to Sela.
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
    /// A request body built with a builder of [`crate::lead`] has a bad field.
    #[error("invalid request: {0}")]
    InvalidField(#[from] crate::lead::FieldError),
    /// Connecting, sending or receiving failed, or timed out.
    #[error("transport error: {source}")]
    Transport {
        /// The underlying error (its text holds the URL, never headers).
        #[source]
        source: reqwest::Error,
    },
    /// 400: the server refused the request, naming the fields at fault.
    #[error(
        "400 bad request: {}{}",
        describe(detail, fields),
        id_suffix(request_id)
    )]
    BadRequest {
        /// The `detail` message, if any (the body's start when it is not JSON).
        detail: Option<String>,
        /// Field name to the server's messages about it.
        fields: BTreeMap<String, Vec<String>>,
        /// The start of the body.
        body: String,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// 401 or 403: the token is missing, wrong or not allowed.
    #[error("{status} unauthorized: {}{}", detail.as_deref().unwrap_or("no detail"), id_suffix(request_id))]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's `detail` message.
        detail: Option<String>,
        /// The start of the body.
        body: String,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// 404: no such lead (or, for the match update, no lead matched).
    #[error("404 not found: {}{}", detail.as_deref().unwrap_or("no detail"), id_suffix(request_id))]
    NotFound {
        /// The server's `detail` message.
        detail: Option<String>,
        /// The start of the body.
        body: String,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// 429: too many requests.
    #[error(
        "429 too many requests (retry after {retry_after:?}){}",
        id_suffix(request_id)
    )]
    RateLimited {
        /// The `Retry-After` delay, when the server sent one.
        retry_after: Option<Duration>,
        /// The start of the body.
        body: String,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// A 5xx answer.
    #[error("{status} server error: {body}{}", id_suffix(request_id))]
    Server {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
        /// The `Retry-After` delay, when the server sent one (usual with 503).
        retry_after: Option<Duration>,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// Any other status the API does not document for this call (a redirect
    /// among them: the client never follows one with the token).
    #[error("unexpected status {status}: {body}{}", id_suffix(request_id))]
    UnexpectedStatus {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
        /// The server's request id, when sent.
        request_id: Option<String>,
    },
    /// A body that does not decode as the documented shape.
    #[error(
        "undecodable response body ({reason}): {body}{}",
        id_suffix(request_id)
    )]
    Decode {
        /// Why it does not decode.
        reason: String,
        /// The start of the body (or of the item at fault), kept for diagnosis.
        body: String,
        /// The answer's status, when the fault is in an answer.
        status: Option<u16>,
        /// The server's request id, when sent.
        request_id: Option<String>,
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
            Self::Decode { status, .. } => *status,
            Self::Transport { source } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The server's request id (`x-request-id`, `x-correlation-id` or
    /// `request-id`), when the answer carried one: quote it to Sela's support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::BadRequest { request_id, .. }
            | Self::Unauthorized { request_id, .. }
            | Self::NotFound { request_id, .. }
            | Self::RateLimited { request_id, .. }
            | Self::Server { request_id, .. }
            | Self::UnexpectedStatus { request_id, .. }
            | Self::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The start of the answer's body, when there was an answer.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::BadRequest { body, .. }
            | Self::Unauthorized { body, .. }
            | Self::NotFound { body, .. }
            | Self::RateLimited { body, .. }
            | Self::Server { body, .. }
            | Self::UnexpectedStatus { body, .. } => Some(body),
            Self::Decode { body, status, .. } if status.is_some() => Some(body),
            _ => None,
        }
    }

    /// The server's `Retry-After` delay, when it sent one (429 and 5xx).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// True when the server certainly did not act on the request, so sending
    /// it again is safe even for a create (no lead can be created twice): the
    /// connection never opened, or 429 (the contract's T1: throttling means the
    /// server did not act). A timeout, a connection lost after sending, any 5xx
    /// (503 included: a gateway may answer it for a request the application
    /// handled) and undecodable answers are `false`: the server may have acted,
    /// and a blind retry could call a person twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { source } => source.is_connect(),
            Self::RateLimited { .. } => true,
            _ => false,
        }
    }

    /// Maps an answer with an error status to the matching variant.
    pub(crate) fn from_status(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Self {
        let parsed: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
        let text = excerpt(body);
        let request_id = request_id(headers);
        let detail = parsed.as_ref().and_then(|b| b.detail().map(str::to_owned));
        match status {
            // A body that is not JSON (a proxy's page) is the detail itself.
            400 => Self::BadRequest {
                detail: if parsed.is_some() {
                    detail
                } else {
                    Some(text.clone())
                },
                fields: parsed
                    .as_ref()
                    .map(ApiErrorBody::field_errors)
                    .unwrap_or_default(),
                body: text,
                request_id,
            },
            401 | 403 => Self::Unauthorized {
                status,
                detail,
                body: text,
                request_id,
            },
            404 => Self::NotFound {
                detail,
                body: text,
                request_id,
            },
            429 => Self::RateLimited {
                retry_after: retry_after(headers),
                body: text,
                request_id,
            },
            500..=599 => Self::Server {
                status,
                body: text,
                retry_after: retry_after(headers),
                request_id,
            },
            _ => Self::UnexpectedStatus {
                status,
                body: text,
                request_id,
            },
        }
    }

    /// A body of a success answer that does not decode.
    pub(crate) fn decode(
        reason: impl Into<String>,
        body: &[u8],
        status: u16,
        headers: &reqwest::header::HeaderMap,
    ) -> Self {
        Self::Decode {
            reason: reason.into(),
            body: excerpt(body),
            status: Some(status),
            request_id: request_id(headers),
        }
    }
}

/// ` (request id X)`, or nothing.
fn id_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map_or_else(String::new, |id| format!(" (request id {id})"))
}

/// Response headers that carry a server-side request id, first match wins.
pub(crate) const REQUEST_ID_HEADERS: &[&str] = &["x-request-id", "x-correlation-id", "request-id"];

/// The server's request id, when the answer carries one.
pub(crate) fn request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(|id| truncate(id.trim()))
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
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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
