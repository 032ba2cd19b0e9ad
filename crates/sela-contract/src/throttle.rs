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
    /// The waits it slept, in order (one per `429` waited out).
    pub(crate) waits: Vec<Duration>,
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
    let mut waits: Vec<Duration> = Vec::new();
    let mut throttled = 0u32;
    loop {
        let (exchange, retry_after) =
            send_once(client, target, method, path, auth.clone(), body.clone()).await;
        if exchange.status != Some(429) {
            return Patient {
                exchange,
                throttled,
                waits,
                gave_up: None,
            };
        }
        throttled += 1;
        let delay = match retry_after {
            Some(secs) => Duration::from_secs(secs).min(MAX_RETRY_AFTER),
            None => backoff.next().unwrap_or(Duration::from_secs(2)),
        }
        .max(Duration::from_millis(20));
        let waited: Duration = waits.iter().sum();
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
                waits,
                gave_up: Some(why),
            };
        }
        tokio::time::sleep(delay).await;
        waits.push(delay);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};

    use super::*;
    use crate::target::{ApiKey, client};

    /// A server answering `429` (with `retry_after`, if any) to the first
    /// `throttle` requests, then 200 with the request's body echoed.
    fn server(
        throttle: usize,
        retry_after: Option<&'static str>,
    ) -> (MockServer, Arc<AtomicUsize>) {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let server = MockServer::start();
        server.mock(move |_when, then| {
            then.respond_with(move |req: &HttpMockRequest| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n < throttle {
                    let mut b = HttpMockResponse::builder().status(429);
                    if let Some(secs) = retry_after {
                        b = b.header("retry-after", secs);
                    }
                    return b.body("slow down").build();
                }
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(req.body_ref().to_vec())
                    .build()
            });
        });
        (server, seen)
    }

    fn send(server: &MockServer, patience: Duration) -> Patient {
        let target = Target::new(&server.base_url(), ApiKey::new("k")).unwrap();
        let client = client(&target).unwrap();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(send_patiently(
                &client,
                &target,
                "POST",
                "api/leads/bulk-create/",
                Auth::Token,
                Some("{\"leads\":[1]}".into()),
                patience,
            ))
    }

    #[test]
    fn throttling_is_waited_out_and_the_same_request_resent() {
        for retry_after in [Some("0"), None] {
            let (server, seen) = server(3, retry_after);
            let p = send(&server, Duration::from_secs(10));
            assert!(p.gave_up.is_none());
            assert_eq!(p.throttled, 3);
            assert_eq!(p.waits.len(), 3, "one wait per 429: {:?}", p.waits);
            if retry_after.is_some() {
                // `Retry-After: 0` still waits the floor of 20 ms.
                assert!(p.waits.iter().all(|w| *w == Duration::from_millis(20)));
            } else {
                // Backoff from 50 ms, growing.
                assert!(p.waits[0] >= Duration::from_millis(50), "{:?}", p.waits);
            }
            assert_eq!(seen.load(Ordering::SeqCst), 4);
            assert_eq!(p.exchange.status, Some(200));
            assert_eq!(
                p.exchange.response, "{\"leads\":[1]}",
                "the same body resent"
            );
        }
    }

    #[test]
    fn unending_throttling_gives_up_within_the_patience() {
        let (server, seen) = server(usize::MAX, Some("1"));
        let p = send(&server, Duration::from_millis(2500));
        assert!(
            matches!(p.gave_up, Some(HarnessError::Throttled(_))),
            "{:?}",
            p.gave_up
        );
        assert_eq!(p.exchange.status, Some(429));
        assert_eq!(
            p.throttled, 3,
            "waited 1 s twice, the third wait would pass 2.5 s"
        );
        // What happened, not how long it took: the two waits of Retry-After,
        // and no request after giving up.
        assert_eq!(p.waits, [Duration::from_secs(1); 2]);
        assert_eq!(
            seen.load(Ordering::SeqCst),
            3,
            "three requests, then it gave up"
        );
    }
}
