//! HTTP/1.1 on the wire for a group's connections: a request as bytes (its
//! last byte held back by the caller), and an answer read back (status,
//! headers, a body framed by length, chunks or the connection's end, its
//! gzip undone).

use reqwest::header::{HeaderName, HeaderValue};
use url::{Position, Url};

use crate::har::ResponseMeta;
use crate::target::LANE_HEADER;

/// Header naming a request's group and the group's size (`12/4`): a test
/// server holds a group's requests until all of them arrived.
pub(super) const GROUP_HEADER: &str = "x-sela-group";

/// The request as HTTP/1.1: the headers the client sends (no compression
/// asked for, the lane's header in a lane), the group's header (`tag`),
/// and `Connection: close`.
pub(super) fn request_bytes(
    method: &str,
    url: &Url,
    authorization: Option<&str>,
    body: Option<&str>,
    (tag, lane): (&str, Option<u32>),
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
    if let Some(lane) = lane {
        head.push_str(&format!("{LANE_HEADER}: {lane}\r\n"));
    }
    head.push_str(&format!(
        "{GROUP_HEADER}: {tag}\r\nConnection: close\r\n\r\n"
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    bytes
}

/// An HTTP/1 answer as read.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: u16,
    /// The minor version: `HTTP/1.0` or `HTTP/1.1`.
    pub(super) version: u8,
    pub(super) headers: Vec<(String, Vec<u8>)>,
    pub(super) body: Vec<u8>,
    /// Why the body is not whole (cut off, bad chunks).
    pub(super) broken: Option<String>,
}

impl Answer {
    /// The first value of the header `name` (lower case).
    pub(super) fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// The body with its `Content-Encoding` undone: a server may compress
/// without being asked (as a compressing proxy does); the reqwest path
/// decodes gzip too.
pub(super) fn decoded(answer: &Answer) -> Result<Vec<u8>, String> {
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
pub(super) enum Parsed {
    /// Not whole yet (never at the connection's end).
    More,
    Answer(Answer),
    /// No status line and headers to read.
    Invalid(String),
}

/// Reads an answer from `buf` (interim `1xx` answers skipped); `eof` when the
/// connection ended after it. The body is framed by `Transfer-Encoding:
/// chunked`, `Content-Length`, or the connection's end.
pub(super) fn parse_answer(buf: &[u8], eof: bool) -> Parsed {
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
pub(super) fn content_length(headers: &[(String, Vec<u8>)]) -> Result<Option<usize>, String> {
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
pub(super) fn decode_chunked(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
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
pub(super) fn response_meta(answer: &Answer) -> Option<ResponseMeta> {
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
