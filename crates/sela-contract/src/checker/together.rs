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
use reqwest::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use url::{Host, Position, Url};

use super::transport::{Request, Transport};
use crate::har::ResponseMeta;
use crate::target::{Exchange, Target};

/// Header naming a request's group and the group's size (`12/4`): a test
/// server holds a group's requests until all of them arrived.
pub(super) const GROUP_HEADER: &str = "x-sela-group";

/// The longest wait for a connection, as the client's.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait for a whole group, as the client's for one request.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Groups sent so far by this process (the number in [`GROUP_HEADER`]), so
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
    /// The group's number in [`GROUP_HEADER`].
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
        let legs = self.rt.block_on(race(target, group, requests));
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
async fn race(target: &Target, group: u64, requests: Vec<Request>) -> Vec<Leg> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let tag = format!("{group}/{}", requests.len());
    let mut legs: Vec<Leg> = requests
        .into_iter()
        .map(|request| Leg::new(target, &tag, request))
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
    fn new(target: &Target, tag: &str, (method, path, auth, body): Request) -> Leg {
        let url = target.url(&path);
        let authorization = target.auth_header(&auth);
        let mut leg = Leg {
            exchange: Exchange {
                method,
                url: url.clone(),
                auth,
                body,
                status: None,
                content_type: None,
                response: String::new(),
                transport_error: None,
            },
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
                    tag,
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

/// The request as HTTP/1.1: the headers the client sends (no compression
/// asked for), the group's header, and `Connection: close`.
fn request_bytes(
    method: &str,
    url: &Url,
    authorization: Option<&str>,
    body: Option<&str>,
    tag: &str,
) -> Vec<u8> {
    // As the client sends them: anything but these is a POST.
    let method = match method {
        "GET" | "PATCH" | "PUT" => method,
        _ => "POST",
    };
    let target = match &url[Position::BeforePath..Position::AfterQuery] {
        "" => "/",
        t => t,
    };
    let host = &url[Position::BeforeHost..Position::AfterPort];
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(value) = authorization {
        head.push_str(&format!("Authorization: {value}\r\n"));
    }
    head.push_str("Accept: application/json\r\n");
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if body.is_some() || method != "GET" {
        let len = body.map_or(0, str::len);
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    head.push_str(&format!(
        "{GROUP_HEADER}: {tag}\r\nConnection: close\r\n\r\n"
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    bytes
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

/// An HTTP/1 answer as read.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// The minor version: `HTTP/1.0` or `HTTP/1.1`.
    version: u8,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Why the body is not whole (cut off, bad chunks).
    broken: Option<String>,
}

impl Answer {
    /// The first value of the header `name` (lower case).
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// The body with its `Content-Encoding` undone: a server may compress
/// without being asked (as a compressing proxy does); the reqwest path
/// decodes gzip too.
fn decoded(answer: &Answer) -> Result<Vec<u8>, String> {
    let coding = answer
        .header("content-encoding")
        .map(|v| String::from_utf8_lossy(v).trim().to_ascii_lowercase());
    match coding.as_deref() {
        None | Some("" | "identity") => Ok(answer.body.clone()),
        Some("gzip" | "x-gzip") => {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(answer.body.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| format!("the gzip body does not decode: {e}"))?;
            Ok(out)
        }
        Some(other) => Err(format!("the body is encoded {other}, which is not decoded")),
    }
}

/// What the bytes read so far make.
#[derive(Debug)]
enum Parsed {
    /// Not whole yet (never at the connection's end).
    More,
    Answer(Answer),
    /// No status line and headers to read.
    Invalid(String),
}

/// Reads an answer from `buf` (interim `1xx` answers skipped); `eof` when the
/// connection ended after it. The body is framed by `Transfer-Encoding:
/// chunked`, `Content-Length`, or the connection's end.
fn parse_answer(buf: &[u8], eof: bool) -> Parsed {
    let mut start = 0;
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 128];
        let mut head = httparse::Response::new(&mut slots);
        let len = match head.parse(&buf[start..]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if !eof => return Parsed::More,
            Ok(httparse::Status::Partial) if buf.is_empty() => {
                return Parsed::Invalid("the connection closed without an answer".into());
            }
            Ok(httparse::Status::Partial) => {
                return Parsed::Invalid("the answer ended within its headers".into());
            }
            Err(e) => return Parsed::Invalid(format!("not an HTTP/1 answer: {e}")),
        };
        let status = head.code.unwrap_or_default();
        let rest = &buf[start + len..];
        if (100..200).contains(&status) && status != 101 {
            start += len;
            continue;
        }
        let mut answer = Answer {
            status,
            version: head.version.unwrap_or(1),
            headers: head
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            body: Vec::new(),
            broken: None,
        };
        if matches!(status, 101 | 204 | 304) {
            return Parsed::Answer(answer);
        }
        let chunked = answer
            .headers
            .iter()
            .rfind(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
            .map(|(_, v)| {
                String::from_utf8_lossy(v)
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            });
        let length = match content_length(&answer.headers) {
            Ok(length) => length,
            Err(why) => return Parsed::Invalid(why),
        };
        match (chunked, length) {
            (Some(true), _) => match decode_chunked(rest) {
                Ok(Some(body)) => answer.body = body,
                Ok(None) if !eof => return Parsed::More,
                Ok(None) => answer.broken = Some("the chunked body was cut off".into()),
                Err(why) => answer.broken = Some(why),
            },
            (None, Some(length)) => {
                if rest.len() >= length {
                    answer.body = rest[..length].to_vec();
                } else if !eof {
                    return Parsed::More;
                } else {
                    answer.broken = Some(format!(
                        "the body was cut off after {} of {length} bytes",
                        rest.len()
                    ));
                }
            }
            // Neither (or another transfer coding): the body runs to the end.
            _ if !eof => return Parsed::More,
            _ => answer.body = rest.to_vec(),
        }
        return Parsed::Answer(answer);
    }
}

/// The `Content-Length`, if given (every value the same number).
fn content_length(headers: &[(String, Vec<u8>)]) -> Result<Option<usize>, String> {
    let mut length = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        for part in String::from_utf8_lossy(value).split(',') {
            let n: usize = part
                .trim()
                .parse()
                .map_err(|_| format!("a bad Content-Length: {part:?}"))?;
            if length.is_some_and(|l| l != n) {
                return Err("Content-Length values that differ".into());
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// The body of a chunked answer: `None` while it is not whole.
fn decode_chunked(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let (skip, size) = match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("a bad chunk size in the chunked body".into()),
        };
        rest = &rest[skip..];
        if size == 0 {
            // Trailers, if any, then an empty line.
            let whole = rest.starts_with(b"\r\n") || rest.windows(4).any(|w| w == b"\r\n\r\n");
            return Ok(whole.then_some(body));
        }
        let size = usize::try_from(size).map_err(|_| "a chunk too large".to_owned())?;
        if rest.len() < size.saturating_add(2) {
            return Ok(None);
        }
        if &rest[size..size + 2] != b"\r\n" {
            return Err("a chunk not followed by CRLF in the chunked body".into());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// The answer's headers and version for the HAR recorder, taken as the
/// client's path takes them.
fn response_meta(answer: &Answer) -> Option<ResponseMeta> {
    let mut response = http::Response::new(Vec::<u8>::new());
    *response.status_mut() = http::StatusCode::from_u16(answer.status).ok()?;
    *response.version_mut() = if answer.version == 0 {
        http::Version::HTTP_10
    } else {
        http::Version::HTTP_11
    };
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Some(ResponseMeta::of(&reqwest::Response::from(response)))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use super::*;
    use crate::har::Recorder;
    use crate::target::{ApiKey, Auth};

    /// How long the test server waits for a group's requests before it
    /// gives up (and the test fails).
    const SAFETY: Duration = Duration::from_secs(20);

    /// A server on 127.0.0.1 that accepts `n` connections, reads each request
    /// whole and answers only once all `n` are there: each its own path and
    /// arrival echoed, every other one chunked. Sends the requests it got, or
    /// why it gave up.
    fn holding_server(n: usize) -> (u16, mpsc::Receiver<Result<Vec<String>, String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(serve_held(&listener, n)));
        (port, rx)
    }

    fn serve_held(listener: &TcpListener, n: usize) -> Result<Vec<String>, String> {
        let mut held = Vec::new();
        for _ in 0..n {
            let (mut conn, _) = listener.accept().map_err(|e| e.to_string())?;
            conn.set_read_timeout(Some(SAFETY))
                .map_err(|e| e.to_string())?;
            let request = read_request(&mut conn)?;
            held.push((conn, request));
        }
        for (i, (conn, request)) in held.iter_mut().enumerate() {
            let path = request.split_whitespace().nth(1).unwrap_or_default();
            let body = format!("{{\"path\":\"{path}\",\"arrived\":{i}}}");
            let answer = if i % 2 == 1 {
                let (a, b) = body.split_at(body.len() / 2);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
                    a.len(),
                    b.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            conn.write_all(answer.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        Ok(held.into_iter().map(|(_, request)| request).collect())
    }

    /// One request read whole: its head, then its `Content-Length` body.
    fn read_request(conn: &mut std::net::TcpStream) -> Result<String, String> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        let head_end = loop {
            if buf.ends_with(b"\r\n\r\n") {
                break buf.len();
            }
            match conn.read(&mut byte) {
                Ok(1) => buf.push(byte[0]),
                Ok(_) => return Err(format!("a request ended early: {buf:?}")),
                Err(e) => return Err(format!("a request never came whole: {e}")),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0u8; length];
        conn.read_exact(&mut body)
            .map_err(|e| format!("a body never came whole: {e}"))?;
        buf.extend_from_slice(&body);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn header<'r>(request: &'r str, name: &str) -> Option<&'r str> {
        request.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    #[test]
    fn a_group_is_held_and_released_together_and_each_gets_its_own_answer() {
        let n = 4;
        let (port, served) = holding_server(n);
        let recorder = Recorder::new();
        let target = Target::new(
            &format!("http://127.0.0.1:{port}"),
            ApiKey::new("test-key-one"),
        )
        .unwrap()
        .with_second_key(ApiKey::new("test-key-two"))
        .with_recorder(recorder.clone());
        let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
        let requests: Vec<Request> = vec![
            (
                "POST",
                "api/leads/0/".into(),
                Auth::Token,
                Some("{\"n\":0}".into()),
            ),
            ("GET", "api/leads/1/".into(), Auth::Second, None),
            (
                "PATCH",
                "api/leads/2/".into(),
                Auth::Second,
                Some("{\"n\":2}".into()),
            ),
            ("GET", "api/leads/3/?page=2".into(), Auth::Missing, None),
        ];
        let together = transport.send_together(requests);
        let got = served
            .recv_timeout(SAFETY + Duration::from_secs(10))
            .expect("the server never finished")
            .expect("the server never had the whole group");

        assert!(together.synchronised);
        assert!(together.overlapped, "{:?}", together.timings);
        assert_eq!(together.exchanges.len(), n);
        for (i, ex) in together.exchanges.iter().enumerate() {
            assert_eq!(ex.transport_error, None, "{i}: {ex:?}");
            assert_eq!(ex.status, Some(200), "{i}");
            assert_eq!(ex.content_type.as_deref(), Some("application/json"));
            let value = ex.response_value().unwrap_or_else(|| panic!("{ex:?}"));
            assert!(
                value["path"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("/api/leads/{i}/")),
                "{i} got another's answer: {value}"
            );
        }
        assert_eq!(together.exchanges[1].method, "GET");
        assert_eq!(together.exchanges[2].body.as_deref(), Some("{\"n\":2}"));

        let request = |i: usize| {
            got.iter()
                .find(|r| r.contains(&format!(" /api/leads/{i}/")))
                .unwrap_or_else(|| panic!("request {i} never arrived: {got:?}"))
        };
        for i in 0..n {
            assert_eq!(
                header(request(i), GROUP_HEADER),
                Some(format!("{}/{n}", together.group).as_str())
            );
            assert_eq!(header(request(i), "connection"), Some("close"));
        }
        assert_eq!(
            header(request(0), "authorization"),
            Some("Token test-key-one")
        );
        assert_eq!(
            header(request(1), "authorization"),
            Some("Token test-key-two")
        );
        assert_eq!(
            header(request(2), "authorization"),
            Some("Token test-key-two")
        );
        assert_eq!(header(request(3), "authorization"), None);
        assert!(request(3).starts_with("GET /api/leads/3/?page=2 HTTP/1.1\r\n"));
        assert_eq!(
            header(request(0), "host"),
            Some(format!("127.0.0.1:{port}").as_str())
        );
        assert_eq!(header(request(2), "content-length"), Some("7"));
        assert!(request(2).ends_with("\r\n\r\n{\"n\":2}"));

        assert_eq!(transport.requests, n);
        assert_eq!(transport.transport_failures, 0);
        assert_eq!(recorder.len(), n);
        assert!(!format!("{:?}", together.exchanges).contains("test-key"));
    }

    #[test]
    fn a_refused_connection_is_a_transport_error() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let target = Target::new(
            &format!("http://127.0.0.1:{port}"),
            ApiKey::new("test-key-one"),
        )
        .unwrap();
        let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
        let together = transport.send_together(vec![
            ("GET", "api/leads/".into(), Auth::Token, None),
            ("POST", "api/leads/".into(), Auth::Token, Some("{}".into())),
        ]);
        assert!(!together.overlapped);
        for ex in &together.exchanges {
            assert_eq!(ex.status, None);
            let err = ex.transport_error.as_deref().unwrap();
            assert!(err.contains("connecting to 127.0.0.1"), "{err}");
            assert!(!err.contains("test-key"), "{err}");
        }
        assert_eq!(transport.transport_failures, 2);
    }

    #[test]
    fn over_https_the_group_goes_as_send_all_sends() {
        let target = Target::new("https://127.0.0.1:1", ApiKey::new("test-key-one")).unwrap();
        let mut transport = Transport::new(&target, Duration::from_secs(1)).unwrap();
        let together =
            transport.send_together(vec![("GET", "api/leads/".into(), Auth::Token, None)]);
        assert!(!together.synchronised);
        assert!(!together.overlapped);
        assert_eq!(together.exchanges.len(), 1);
        assert!(together.exchanges[0].transport_error.is_some());
    }

    #[test]
    fn an_answer_already_there_before_the_release_is_seen() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let target = Target::new(&format!("http://{addr}"), ApiKey::new("k")).unwrap();
        let mut leg = Leg::new(&target, "1/2", ("GET", "x".into(), Auth::Token, None));
        leg.stream = Some(rt.block_on(TcpStream::connect(addr)).unwrap());
        let (mut server, _) = listener.accept().unwrap();
        leg.timing.sent = Some(Instant::now());
        leg.look_for_answer();
        assert!(leg.timing.answered.is_none(), "nothing came yet");
        server.write_all(b"HTTP/1.1 400 Bad Request\r\n").unwrap();
        rt.block_on(leg.stream.as_ref().unwrap().readable())
            .unwrap();
        leg.look_for_answer();
        let seen = leg.timing.answered.expect("the early answer was seen");
        let after = Instant::now();
        assert!(!overlapped(&[
            leg.timing,
            Timing {
                sent: Some(after),
                answered: None
            }
        ]));
        // Reading keeps the time it was first seen.
        drop(server);
        rt.block_on(leg.read_answer(tokio::time::Instant::now() + TIMEOUT));
        assert_eq!(leg.timing.answered, Some(seen));
    }

    #[test]
    fn overlap_needs_every_request_sent_before_any_answer() {
        let t0 = Instant::now();
        let at = |ms: u64| Some(t0 + Duration::from_millis(ms));
        let timing = |sent, answered| Timing { sent, answered };
        assert!(overlapped(&[timing(at(1), at(5)), timing(at(2), at(3))]));
        assert!(overlapped(&[timing(at(1), None), timing(at(2), at(3))]));
        assert!(!overlapped(&[timing(at(1), at(2)), timing(at(3), at(4))]));
        assert!(!overlapped(&[timing(None, None), timing(at(3), at(4))]));
        assert!(!overlapped(&[]));
    }

    fn answer(text: &str, eof: bool) -> Parsed {
        parse_answer(text.as_bytes(), eof)
    }

    #[test]
    fn answers_are_read_by_length_chunks_or_the_end() {
        let Parsed::Answer(a) = answer(
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokEXTRA",
            false,
        ) else {
            panic!()
        };
        assert_eq!(
            (a.status, a.body.as_slice(), a.broken),
            (201, &b"ok"[..], None)
        );
        assert!(matches!(
            answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false),
            Parsed::More
        ));
        let Parsed::Answer(a) = answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", true)
        else {
            panic!()
        };
        assert_eq!(
            a.broken.as_deref(),
            Some("the body was cut off after 2 of 5 bytes")
        );

        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
        let Parsed::Answer(a) = answer(chunked, false) else {
            panic!()
        };
        assert_eq!(a.body, b"abcde");
        assert!(matches!(
            answer(&chunked[..chunked.len() - 2], false),
            Parsed::More
        ));
        let Parsed::Answer(a) = answer(&chunked[..60], true) else {
            panic!()
        };
        assert_eq!(a.broken.as_deref(), Some("the chunked body was cut off"));
        let Parsed::Answer(a) = answer(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            true,
        ) else {
            panic!()
        };
        assert!(a.broken.unwrap().contains("chunk size"));

        assert!(matches!(
            answer("HTTP/1.0 200 OK\r\n\r\n{}", false),
            Parsed::More
        ));
        let Parsed::Answer(a) = answer("HTTP/1.0 200 OK\r\n\r\n{}", true) else {
            panic!()
        };
        assert_eq!((a.version, a.body.as_slice()), (0, &b"{}"[..]));

        let Parsed::Answer(a) = answer(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
            false,
        ) else {
            panic!()
        };
        assert_eq!(a.status, 429);
        assert_eq!(a.header("retry-after"), Some(&b"1"[..]));
        let Parsed::Answer(a) = answer("HTTP/1.1 204 No Content\r\n\r\n", false) else {
            panic!()
        };
        assert!(a.body.is_empty());

        assert!(matches!(answer("", true), Parsed::Invalid(_)));
        assert!(matches!(
            answer("HTTP/1.1 200 OK\r\nA: b", true),
            Parsed::Invalid(_)
        ));
        assert!(matches!(
            answer("SSH-2.0-OpenSSH\r\n\r\n", true),
            Parsed::Invalid(_)
        ));
        assert!(matches!(
            answer(
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                true
            ),
            Parsed::Invalid(_)
        ));
    }

    #[test]
    fn requests_are_written_as_the_client_writes_them() {
        let url = Url::parse("http://localhost:8000/api/leads/?q=a%20b").unwrap();
        let text =
            String::from_utf8(request_bytes("DELETE", &url, Some("Token t"), None, "3/2")).unwrap();
        assert_eq!(
            text,
            "POST /api/leads/?q=a%20b HTTP/1.1\r\nHost: localhost:8000\r\n\
             Authorization: Token t\r\nAccept: application/json\r\nContent-Length: 0\r\n\
             x-sela-group: 3/2\r\nConnection: close\r\n\r\n"
        );
        let url = Url::parse("http://127.0.0.1/").unwrap();
        let text = String::from_utf8(request_bytes("GET", &url, None, None, "1/1")).unwrap();
        assert!(
            text.starts_with("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept"),
            "{text}"
        );
        assert!(!text.contains("Content-"), "{text}");
    }
}
