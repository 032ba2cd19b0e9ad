//! A concurrent group released together (S5): over plain http one connection
//! per request is opened first and every request written but its last byte,
//! then all the last bytes are written at once, so the server starts handling
//! them within microseconds of each other (HTTP/1.1 last-byte
//! synchronisation) and a race window of a few milliseconds is hit every time.
//!
//! Over https the group goes as [`Transport::send_all`] sends requests (in
//! flight together, not synchronised): the TLS connector is the client's own,
//! and HTTP/2's single-packet release would be the way to do it there.

// Until the concurrent groups of the sequences send through it.

use std::io::ErrorKind;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::header::HeaderValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use url::{Host, Position, Url};

mod http1;

use http1::{Parsed, decoded, parse_answer, request_bytes, response_meta};

use super::transport::{Request, Transport};
use crate::har::ResponseMeta;
use crate::target::{Exchange, Target};

/// The longest wait for a connection, as the client's.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait for a whole group, as the client's for one request.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Groups sent so far by this process (the number in [`http1::GROUP_HEADER`]), so
/// that two groups never share one.
static GROUPS: AtomicU64 = AtomicU64::new(0);

/// A group's answers, and whether its requests were in flight together.
#[derive(Debug)]
pub(super) struct Together {
    /// One per request, in the order given.
    pub(super) exchanges: Vec<Exchange>,
    /// Every request was sent whole before any answer began (to within one
    /// write): the server had all of them at once.
    pub(super) overlapped: bool,
    /// The last bytes were held and released together (plain http); false
    /// when the group went as [`Transport::send_all`] sends.
    pub(super) synchronised: bool,
    /// The group's number in [`http1::GROUP_HEADER`].
    pub(super) group: u64,
    /// When each request left and its answer came, in the order given.
    pub(super) timings: Vec<Timing>,
}

/// When one request of a group left and its answer came (`None`: unknown,
/// or it did not happen).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Timing {
    /// Its last byte was written.
    pub(super) sent: Option<Instant>,
    /// Its answer's first byte (or the connection's end) was seen.
    pub(super) answered: Option<Instant>,
}

impl Transport<'_> {
    /// Sends a concurrent group so that its requests reach the server
    /// together (see the module); exchanges in the order given. A `429` is
    /// returned as it came (a retry would leave alone). Reads answered ahead
    /// are dropped first: a group may write.
    pub(super) fn send_together(&mut self, requests: Vec<Request>) -> Together {
        self.drop_prefetched();
        let group = GROUPS.fetch_add(1, Ordering::Relaxed) + 1;
        let n = requests.len();
        let target = self.target;
        if !target.base_url().starts_with("http:") {
            return Together {
                exchanges: self.send_all(requests),
                overlapped: false,
                synchronised: false,
                group,
                timings: vec![Timing::default(); n],
            };
        }
        self.requests += n;
        let legs = self.rt.block_on(race(target, group, self.lane, requests));
        let timings: Vec<Timing> = legs.iter().map(|leg| leg.timing).collect();
        let mut exchanges = Vec::with_capacity(n);
        for leg in legs {
            if let Some(recorder) = target.recorder() {
                let redact = |s: &str| target.redact(s);
                recorder.record(&redact, &leg.exchange, leg.started, leg.time, leg.meta);
            }
            self.note_answer(&leg.exchange);
            exchanges.push(leg.exchange);
        }
        Together {
            exchanges,
            overlapped: overlapped(&timings),
            synchronised: true,
            group,
            timings,
        }
    }
}

impl Transport<'_> {
    /// Sends a concurrent group as [`Transport::send_together`] does (each
    /// request marked with its group, so that a server can tell which came
    /// together), then sends again each request answered `429` once the
    /// others are answered, its throttling waited out. Exchanges in the
    /// order given, and how many requests were served (answered, not `429`)
    /// while in flight together.
    /// A single request is sent as any other.
    pub(super) fn send_grouped(&mut self, requests: Vec<Request>) -> (Vec<Exchange>, usize) {
        if requests.len() < 2 {
            let exchanges = self.send_all(requests);
            let served = exchanges.iter().filter(|ex| ex.status.is_some()).count();
            return (exchanges, served);
        }
        let mut exchanges = self.send_together(requests.clone()).exchanges;
        let throttled: Vec<usize> = (0..exchanges.len())
            .filter(|i| exchanges[*i].status == Some(429))
            .collect();
        let served = exchanges
            .iter()
            .filter(|ex| ex.status.is_some_and(|s| s != 429))
            .count();
        if !throttled.is_empty() {
            let again = throttled.iter().map(|i| requests[*i].clone()).collect();
            for (i, ex) in throttled.iter().zip(self.send_all(again)) {
                exchanges[*i] = ex;
            }
        }
        (exchanges, served)
    }
}

/// True when every request was sent whole and no answer began before the
/// last of them was.
fn overlapped(timings: &[Timing]) -> bool {
    let sent: Option<Vec<Instant>> = timings.iter().map(|t| t.sent).collect();
    let Some(last) = sent.and_then(|s| s.into_iter().max()) else {
        return false;
    };
    timings
        .iter()
        .filter_map(|t| t.answered)
        .all(|answered| answered > last)
}

/// Connects every request, writes each but its last byte, releases the last
/// bytes together, then reads every answer.
async fn race(target: &Target, group: u64, lane: Option<u32>, requests: Vec<Request>) -> Vec<Leg> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let tag = format!("{group}/{}", requests.len());
    let mut legs: Vec<Leg> = requests
        .into_iter()
        .map(|request| Leg::new(target, &tag, lane, request))
        .collect();
    join_all(legs.iter_mut().map(|leg| leg.connect_and_hold(deadline))).await;
    for j in 0..legs.len() {
        let (released, rest) = legs.split_at_mut(j);
        released.iter_mut().for_each(Leg::look_for_answer);
        rest[0].release(deadline).await;
    }
    join_all(legs.iter_mut().map(|leg| leg.read_answer(deadline))).await;
    for leg in &mut legs {
        leg.finish(target);
    }
    legs
}

/// One request of a group on its own connection.
struct Leg {
    exchange: Exchange,
    /// The URL to connect to; `None` when nothing can be sent.
    url: Option<Url>,
    /// The request as written.
    bytes: Vec<u8>,
    stream: Option<TcpStream>,
    /// The answer's bytes as read.
    answer: Vec<u8>,
    /// The answer was whole before the connection ended.
    complete: bool,
    read_error: Option<String>,
    timing: Timing,
    started: DateTime<Utc>,
    clock: Instant,
    time: Duration,
    meta: Option<ResponseMeta>,
}

impl Leg {
    fn new(
        target: &Target,
        tag: &str,
        lane: Option<u32>,
        (method, path, auth, body): Request,
    ) -> Leg {
        let url = target.url(&path);
        let authorization = target.auth_header(&auth);
        let mut leg = Leg {
            exchange: Exchange::unanswered(method, url.clone(), auth, body),
            url: None,
            bytes: Vec::new(),
            stream: None,
            answer: Vec::new(),
            complete: false,
            read_error: None,
            timing: Timing::default(),
            started: Utc::now(),
            clock: Instant::now(),
            time: Duration::ZERO,
            meta: None,
        };
        if authorization
            .as_deref()
            .is_some_and(|h| HeaderValue::from_str(h).is_err())
        {
            leg.fail("the Authorization value is not a valid header value".into());
            return leg;
        }
        match Url::parse(&url) {
            Ok(parsed) => {
                leg.bytes = request_bytes(
                    method,
                    &parsed,
                    authorization.as_deref(),
                    leg.exchange.body.as_deref(),
                    (tag, lane),
                );
                leg.url = Some(parsed);
            }
            Err(e) => leg.fail(format!("bad URL {url}: {e}")),
        }
        leg
    }

    /// Records what failed (the first failure) and drops the connection.
    fn fail(&mut self, why: String) {
        self.exchange.transport_error.get_or_insert(why);
        self.stream = None;
    }

    /// Opens the connection and writes the request but its last byte.
    async fn connect_and_hold(&mut self, deadline: tokio::time::Instant) {
        let Some(url) = self.url.clone() else { return };
        let addrs = match addresses(&url).await {
            Ok(addrs) => addrs,
            Err(why) => return self.fail(why),
        };
        let connect_by = deadline.min(tokio::time::Instant::now() + CONNECT_TIMEOUT);
        let mut stream = match timeout_at(connect_by, connect(&addrs)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(why)) => return self.fail(why),
            Err(_) => {
                let host = &url[Position::BeforeHost..Position::AfterPort];
                return self.fail(format!("connecting to {host}: timed out"));
            }
        };
        // The last byte must leave on its own at once, not wait for an ACK.
        stream.set_nodelay(true).ok();
        let held = self.bytes.len() - 1;
        let written = timeout_at(deadline, stream.write_all(&self.bytes[..held])).await;
        match written {
            Ok(Ok(())) => self.stream = Some(stream),
            Ok(Err(e)) => self.fail(format!("sending the request: {e}")),
            Err(_) => self.fail("sending the request: timed out".into()),
        }
    }

    /// Writes the request's last byte.
    async fn release(&mut self, deadline: tokio::time::Instant) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let last = self.bytes.len() - 1;
        let written = timeout_at(deadline, stream.write_all(&self.bytes[last..])).await;
        match written {
            Ok(Ok(())) => self.timing.sent = Some(Instant::now()),
            Ok(Err(e)) => self.fail(format!("sending the request: {e}")),
            Err(_) => self.fail("sending the request: timed out".into()),
        }
    }

    /// Notes an answer (or the connection's end) already there for a request
    /// released before the group's last: the server did not have them all
    /// at once. A real `recv` with `MSG_PEEK` (tokio's readiness is only
    /// refreshed between polls).
    fn look_for_answer(&mut self) {
        let Some(stream) = &self.stream else { return };
        if self.timing.sent.is_none() || self.timing.answered.is_some() {
            return;
        }
        let mut byte = [MaybeUninit::<u8>::uninit()];
        match socket2::SockRef::from(stream).peek(&mut byte) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            _ => self.timing.answered = Some(Instant::now()),
        }
    }

    /// Reads the answer until it is whole or the connection ends.
    async fn read_answer(&mut self, deadline: tokio::time::Instant) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match timeout_at(deadline, stream.read(&mut chunk)).await {
                Ok(Ok(0)) => break,
                Ok(Ok(got)) => {
                    self.timing.answered.get_or_insert_with(Instant::now);
                    self.answer.extend_from_slice(&chunk[..got]);
                    if !matches!(parse_answer(&self.answer, false), Parsed::More) {
                        self.complete = true;
                        break;
                    }
                }
                Ok(Err(e)) => {
                    self.read_error = Some(format!("reading the answer: {e}"));
                    break;
                }
                Err(_) => {
                    self.read_error =
                        Some(format!("no whole answer within {} s", TIMEOUT.as_secs()));
                    break;
                }
            }
        }
    }

    /// Fills the exchange from the answer read, as the client would have.
    fn finish(&mut self, target: &Target) {
        self.time = self.clock.elapsed();
        if self.exchange.transport_error.is_none() {
            let read_error = if self.complete {
                None
            } else {
                self.read_error.take()
            };
            match parse_answer(&self.answer, true) {
                Parsed::Answer(answer) => {
                    self.exchange.status = Some(answer.status);
                    self.exchange.content_type = answer
                        .header("content-type")
                        .and_then(|v| HeaderValue::from_bytes(v).ok())
                        .and_then(|v| v.to_str().ok().map(str::to_owned));
                    if target.recorder().is_some() {
                        self.meta = response_meta(&answer);
                    }
                    match read_error
                        .or(answer.broken.clone())
                        .map_or_else(|| decoded(&answer), Err)
                    {
                        Err(why) => self.exchange.transport_error = Some(why),
                        Ok(body) => {
                            self.exchange.response = target.redact(&String::from_utf8_lossy(&body));
                        }
                    }
                }
                Parsed::Invalid(why) => {
                    self.exchange.transport_error = Some(read_error.unwrap_or(why));
                }
                Parsed::More => {
                    self.exchange.transport_error =
                        Some(read_error.unwrap_or_else(|| "the answer ended early".into()));
                }
            }
        }
        self.exchange.transport_error = self
            .exchange
            .transport_error
            .take()
            .map(|e| target.redact(&e));
    }
}

/// The addresses to try for the URL's host: `localhost` pinned to the
/// loopback addresses, as the client pins it.
async fn addresses(url: &Url) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Ok(vec![
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
        ]),
        Some(Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map(Iterator::collect)
            .map_err(|e| format!("resolving {d}: {e}")),
        None => Err(format!("{url} has no host")),
    }
}

/// A connection to the first address that takes one.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, String> {
    let mut why = "no address to connect to".to_owned();
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => why = format!("connecting to {addr}: {e}"),
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests;
