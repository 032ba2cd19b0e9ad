//! When a chunk is resent: only where the server certainly did not act.

use crate::Error;
use backon::ExponentialBuilder;
use std::time::Duration;

/// When and how often a chunk is resent after a refused connection or a 429.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per chunk, the first included (1 disables retries).
    pub max_attempts: usize,
    /// The first backoff delay.
    pub min_delay: Duration,
    /// The largest backoff delay (before jitter, which adds up to 100%).
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
    /// Whether to add random jitter to backoff delays.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 5 attempts, backoff from 500 ms to 30 s with jitter, `Retry-After` capped at 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: each chunk is sent once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    pub(super) fn backoff(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1));
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }
}

/// How a failed chunk request is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The server certainly did not act: retry, after the server's delay if any.
    Retry(Option<Duration>),
    /// The server certainly did not act, and retrying will not help.
    NotSent,
    /// The server may have acted.
    Unknown,
}

/// Sorts an error of a bulk request by whether the server may have acted on it.
pub(super) fn verdict(error: &Error) -> Verdict {
    // A refused connection or a 429: the one rule of what is safe to resend.
    if error.is_retryable() {
        return Verdict::Retry(error.retry_after());
    }
    match error {
        // Failed before the request was built: nothing was sent.
        Error::Transport { source } if source.is_builder() => Verdict::NotSent,
        Error::Config(_)
        | Error::InsecureTransport { .. }
        | Error::InvalidRequest(_)
        | Error::BadRequest { .. }
        | Error::Unauthorized { .. }
        | Error::NotFound { .. } => Verdict::NotSent,
        Error::UnexpectedStatus { status, .. } if (400..500).contains(status) => Verdict::NotSent,
        // Timeouts, connections lost after sending, other 5xx, undecodable or
        // mismatched answers: the server may have created some of the leads.
        _ => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_certainly_unacted_errors_are_retried() {
        let rate = Error::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
            body: String::new(),
            request_id: None,
        };
        assert_eq!(verdict(&rate), Verdict::Retry(Some(Duration::from_secs(3))));
        let unavailable = Error::Server {
            status: 503,
            body: String::new(),
            retry_after: None,
            request_id: None,
        };
        // A 503 may come from a gateway that gave up on a request the
        // application handled: never resent automatically, with or without
        // `Retry-After`.
        assert_eq!(verdict(&unavailable), Verdict::Unknown);
        let unavailable_for = Error::Server {
            status: 503,
            body: String::new(),
            retry_after: Some(Duration::from_secs(7)),
            request_id: None,
        };
        assert_eq!(verdict(&unavailable_for), Verdict::Unknown);
        let internal = Error::Server {
            status: 500,
            body: String::new(),
            retry_after: None,
            request_id: None,
        };
        assert_eq!(verdict(&internal), Verdict::Unknown);
        let gateway = Error::Server {
            status: 504,
            body: String::new(),
            retry_after: None,
            request_id: None,
        };
        assert_eq!(verdict(&gateway), Verdict::Unknown);
        let bad = Error::BadRequest {
            detail: None,
            fields: Default::default(),
            body: String::new(),
            request_id: None,
        };
        assert_eq!(verdict(&bad), Verdict::NotSent);
        let unauthorized = Error::Unauthorized {
            status: 401,
            detail: None,
            body: String::new(),
            request_id: None,
        };
        assert_eq!(verdict(&unauthorized), Verdict::NotSent);
        let mismatch = Error::Decode {
            reason: String::new(),
            body: String::new(),
            status: Some(200),
            request_id: None,
        };
        assert_eq!(verdict(&mismatch), Verdict::Unknown);
    }
}
