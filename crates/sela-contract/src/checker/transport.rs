//! The target as the checker reaches it: requests sent together, each waiting
//! out its own throttling, reads answered ahead, and whether the target is
//! gone (no answers, or throttling past `--throttle-patience`).

use std::time::{Duration, Instant};

use crate::progress::Counts;
use crate::target::{Auth, Exchange, HarnessError, Target};
use crate::throttle::send_patiently;

/// Requests in a row without an answer (no status line) after which the
/// target counts as gone.
const MAX_TRANSPORT_FAILURES: u32 = 5;

/// One request to send: method, path, how it authenticates, body.
pub(super) type Request = (&'static str, String, Auth, Option<String>);

/// The HTTP side of the run: runtime, client, what was sent and answered.
pub(super) struct Transport<'a> {
    pub(super) target: &'a Target,
    pub(super) rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// Longest wait for one throttled request.
    patience: Duration,
    pub(super) requests: usize,
    pub(super) throttled: u32,
    /// Time spent waiting out `429`s, in all.
    pub(super) throttle_wait: Duration,
    /// Requests in a row that got no answer.
    pub(super) transport_failures: u32,
    lost: Option<String>,
    fatal: Option<HarnessError>,
    /// When the last write (any request but a GET) was answered: a read
    /// within the settle window after it may not show it yet.
    last_write: Option<Instant>,
    /// The lane these requests go out from (cases run side by side).
    pub(super) lane: Option<u32>,
    /// Reads sent ahead, together with others that follow the same write, to
    /// save round trips: the next `GET` of the same path takes its answer
    /// instead of sending it again. Any write drops them (they would be stale).
    prefetched: Vec<(String, Exchange)>,
}

impl<'a> Transport<'a> {
    pub(super) fn new(target: &'a Target, patience: Duration) -> Result<Self, HarnessError> {
        Self::with_client(target, patience, crate::target::client(target)?)
    }

    /// The transport of lane `lane` (its requests marked `x-sela-lane`).
    pub(super) fn lane(
        target: &'a Target,
        patience: Duration,
        lane: u32,
    ) -> Result<Self, HarnessError> {
        let mut net =
            Self::with_client(target, patience, crate::target::lane_client(target, lane)?)?;
        net.lane = Some(lane);
        Ok(net)
    }

    fn with_client(
        target: &'a Target,
        patience: Duration,
        client: reqwest::Client,
    ) -> Result<Self, HarnessError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Setup(format!("tokio runtime: {e}")))?;
        Ok(Transport {
            target,
            rt,
            client,
            patience,
            requests: 0,
            throttled: 0,
            throttle_wait: Duration::ZERO,
            transport_failures: 0,
            lost: None,
            fatal: None,
            last_write: None,
            lane: None,
            prefetched: Vec::new(),
        })
    }

    /// Sends one request, waiting out throttling.
    pub(super) fn send(
        &mut self,
        method: &'static str,
        path: &str,
        auth: Auth,
        body: Option<String>,
    ) -> Exchange {
        self.send_all(vec![(method, path.to_owned(), auth, body)])
            .pop()
            .expect("one request, one exchange")
    }

    /// Sends the requests at the same time (all in flight together), each
    /// waiting out its own throttling; exchanges in the order given. A read
    /// answered ahead ([`Transport::prefetch`]) is not sent again.
    pub(super) fn send_all(&mut self, requests: Vec<Request>) -> Vec<Exchange> {
        let mut out: Vec<Option<Exchange>> = requests
            .iter()
            .map(|(method, path, auth, _)| self.take_prefetched(method, path, auth))
            .collect();
        let (positions, to_send): (Vec<usize>, Vec<Request>) = requests
            .into_iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .unzip();
        if to_send.iter().any(|(method, ..)| *method != "GET") {
            self.prefetched.clear();
        }
        for (i, exchange) in positions.into_iter().zip(self.send_now(to_send)) {
            out[i] = Some(exchange);
        }
        out.into_iter()
            .map(|e| e.expect("every request answered or prefetched"))
            .collect()
    }

    /// Sends these `GET`s together now and keeps their answers for the next
    /// reads of the same paths (the count and read-backs after a batch).
    pub(super) fn prefetch(&mut self, paths: Vec<String>) {
        let requests = paths
            .iter()
            .map(|path| ("GET", path.clone(), Auth::Token, None))
            .collect();
        let answers = self.send_now(requests);
        self.prefetched.extend(paths.into_iter().zip(answers));
    }

    /// Drops the reads answered ahead and not taken (of no later use).
    pub(super) fn drop_prefetched(&mut self) {
        self.prefetched.clear();
    }

    /// The prefetched answer of this read, if there is one (taken).
    fn take_prefetched(&mut self, method: &str, path: &str, auth: &Auth) -> Option<Exchange> {
        if method != "GET" || *auth != Auth::Token {
            return None;
        }
        let at = self.prefetched.iter().position(|(p, _)| p == path)?;
        Some(self.prefetched.swap_remove(at).1)
    }

    /// Sends the requests at the same time, each waiting out its own
    /// throttling; exchanges in the order given.
    fn send_now(&mut self, requests: Vec<Request>) -> Vec<Exchange> {
        if requests.is_empty() {
            return Vec::new();
        }
        self.requests += requests.len();
        let (client, target) = (&self.client, self.target);
        let patience = self.patience;
        let answers = self
            .rt
            .block_on(futures::future::join_all(requests.into_iter().map(
                |(method, path, auth, body)| async move {
                    send_patiently(client, target, method, &path, auth, body, patience).await
                },
            )));
        let mut out = Vec::with_capacity(answers.len());
        for p in answers {
            self.throttled += p.throttled;
            self.throttle_wait += p.waits.iter().sum::<Duration>();
            self.requests += p.throttled as usize;
            if let Some(why) = p.gave_up {
                self.fatal.get_or_insert(why);
            }
            self.note_answer(&p.exchange);
            out.push(p.exchange);
        }
        out
    }

    /// Notes one exchange sent: when the last write was answered, and the
    /// requests in a row without an answer (the target gone).
    pub(super) fn note_answer(&mut self, exchange: &Exchange) {
        if exchange.method != "GET" {
            self.last_write = Some(Instant::now());
        }
        match &exchange.transport_error {
            // The status line came and the body broke (cut off, bad
            // gzip): the target answers, brokenly; that answer is judged
            // like any other and is no sign that the target is gone.
            Some(_) if exchange.status.is_some() => {}
            Some(err) => {
                self.transport_failures += 1;
                if self.transport_failures >= MAX_TRANSPORT_FAILURES && self.lost.is_none() {
                    self.lost = Some(format!(
                        "{MAX_TRANSPORT_FAILURES} requests in a row got no answer, the last: \
                         {err}"
                    ));
                }
            }
            None => self.transport_failures = 0,
        }
    }

    /// True once the target stopped answering or never stopped throttling:
    /// nothing more is sent for new cases.
    pub(super) fn gone(&self) -> bool {
        self.lost.is_some() || self.fatal.is_some()
    }

    /// The throttling that was never waited out, taken (the probe's error).
    pub(super) fn take_fatal(&mut self) -> Option<HarnessError> {
        self.fatal.take()
    }

    /// Why the run cannot report: the target stopped answering or never
    /// stopped throttling.
    pub(super) fn fatal(&mut self) -> Option<HarnessError> {
        if let Some(e) = self.fatal.take() {
            return Some(e);
        }
        self.lost.as_ref().map(|why| {
            HarnessError::Connection(format!(
                "{}: the target stopped answering: {why}",
                self.target.base_url()
            ))
        })
    }

    /// How much of `window` is left since the last write was answered, if
    /// any is.
    pub(super) fn write_within(&self, window: Duration) -> Option<Duration> {
        let since = self.last_write?.elapsed();
        let left = window.checked_sub(since)?;
        (!left.is_zero()).then_some(left)
    }

    /// Takes in what a lane's transport sent and met (cases run side by
    /// side); the lane keeps its connections, its counts start again.
    pub(super) fn absorb(&mut self, lane: &mut Transport) {
        self.requests += std::mem::take(&mut lane.requests);
        self.throttled += std::mem::take(&mut lane.throttled);
        self.throttle_wait += std::mem::take(&mut lane.throttle_wait);
        self.transport_failures = self.transport_failures.max(lane.transport_failures);
        if self.lost.is_none() {
            self.lost = lane.lost.take();
        }
        if self.fatal.is_none() {
            self.fatal = lane.fatal.take();
        }
        self.last_write = self.last_write.max(lane.last_write);
        lane.prefetched.clear();
    }

    /// Requests sent and throttled so far, for the progress line.
    pub(super) fn counts(&self) -> Counts {
        Counts {
            requests: self.requests,
            throttled: self.throttled,
        }
    }
}
