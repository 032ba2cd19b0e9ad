//! Throttling (T1): a `429` is not a verdict on the request. The harness waits
//! (the `Retry-After` seconds, capped; exponential backoff from `backon` when
//! the header is absent) and sends the same request again, up to a total wait
//! per request; past it the run stops with [`HarnessError::Throttled`] (exit
//! 2), never a clause failure.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use super::target::{Auth, Exchange, HarnessError, Target, send_once};

/// The longest single wait the harness grants to one `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A request answered, and how many `429`s came before the answer.
#[derive(Debug)]
pub(crate) struct Patient {
    /// The final exchange (never a `429`).
    pub(crate) exchange: Exchange,
    /// `429` answers waited out for it.
    pub(crate) throttled: u32,
    /// Set when the harness gave up waiting (the exchange is then the last `429`).
    pub(crate) gave_up: Option<HarnessError>,
}

/// Sends one request, waiting out `429`s and resending the same request, for at
/// most `patience` of waiting in all.
pub(crate) async fn send_patiently(
    client: &reqwest::Client,
    target: &Target,
    method: &'static str,
    path: &str,
    auth: Auth,
    body: Option<String>,
    patience: Duration,
) -> Patient {
    let mut backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(2))
        .with_factor(2.0)
        .without_max_times()
        .build();
    let mut waited = Duration::ZERO;
    let mut throttled = 0u32;
    loop {
        let (exchange, retry_after) =
            send_once(client, target, method, path, auth.clone(), body.clone()).await;
        if exchange.status != Some(429) {
            return Patient {
                exchange,
                throttled,
                gave_up: None,
            };
        }
        throttled += 1;
        let delay = match retry_after {
            Some(secs) => Duration::from_secs(secs).min(MAX_RETRY_AFTER),
            None => backoff.next().unwrap_or(Duration::from_secs(2)),
        }
        .max(Duration::from_millis(20));
        if waited + delay > patience {
            let why = HarnessError::Throttled(format!(
                "{method} {} was answered 429 {throttled} time(s) in a row over {:.1} s \
                 of waiting (patience {:.0} s); try again later or raise --throttle-patience",
                exchange.url,
                waited.as_secs_f64(),
                patience.as_secs_f64()
            ));
            return Patient {
                exchange,
                throttled,
                gave_up: Some(why),
            };
        }
        tokio::time::sleep(delay).await;
        waited += delay;
    }
}
