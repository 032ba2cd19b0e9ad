//! Every HTTP exchange of a run, kept for an HTTP Archive (HAR 1.2) file that
//! browsers' developer tools and API clients open (`--har`). The `har` crate
//! holds the format's types; this module only fills them.
//!
//! The key never reaches the archive: the `Authorization` header is written as
//! in reports (`Token $SELA_API_KEY`, near misses by their label only), and
//! every body and header value is passed through the target's redaction
//! (`Target::redact`), which the caller of `record` hands in.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use har::v1_2::{
    Cache, Content, Creator, Entries, Headers, Log, PostData, Request, Response, Timings,
};
use har::{Har, Spec};
use serde_json::Value;

use crate::exchange::Exchange;

/// What HAR needs of an answer beyond [`Exchange`]: its headers and version.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponseMeta {
    headers: Vec<(String, String)>,
    http_version: String,
}

impl ResponseMeta {
    /// Taken from the answer before its body is read.
    pub(crate) fn of(resp: &reqwest::Response) -> Self {
        ResponseMeta {
            headers: resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            http_version: format!("{:?}", resp.version()),
        }
    }
}

/// One exchange as recorded, with what HAR needs beyond [`Exchange`].
#[derive(Clone, Debug)]
struct Recorded {
    started: DateTime<Utc>,
    time: Duration,
    exchange: Exchange,
    /// `None` when no answer came.
    response: Option<ResponseMeta>,
    failing: bool,
}

/// Collects the exchanges of a run; give it to
/// [`Target::with_recorder`](crate::Target::with_recorder) and
/// write it with [`Recorder::write`] afterwards. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recorder({} exchanges)", self.len())
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Exchanges recorded so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Exchanges recorded as part of a failing test case.
    pub fn failing_len(&self) -> usize {
        self.lock().iter().filter(|r| r.failing).count()
    }

    /// Records one exchange; `redact` takes the keys out of the request body
    /// and the response headers (the exchange's response is redacted already).
    pub(crate) fn record(
        &self,
        redact: &dyn Fn(&str) -> String,
        exchange: &Exchange,
        started: DateTime<Utc>,
        time: Duration,
        response: Option<ResponseMeta>,
    ) {
        let response = response.map(|mut m| {
            for (_, v) in &mut m.headers {
                *v = redact(v);
            }
            m
        });
        let mut exchange = exchange.clone();
        exchange.body = exchange.body.as_deref().map(redact);
        self.lock().push(Recorded {
            started,
            time,
            exchange,
            response,
            failing: false,
        });
    }

    /// A position to pass to [`Recorder::mark_failing_since`] later.
    pub(crate) fn mark(&self) -> usize {
        self.len()
    }

    /// Marks every exchange recorded since `mark` as part of a failing case.
    pub(crate) fn mark_failing_since(&self, mark: usize) {
        for r in self.lock().iter_mut().skip(mark) {
            r.failing = true;
        }
    }

    /// The archive: every exchange, or only those of failing cases.
    pub fn to_har(&self, failures_only: bool) -> Har {
        let entries = self
            .lock()
            .iter()
            .filter(|r| r.failing || !failures_only)
            .map(entry)
            .collect();
        Har {
            log: Spec::V1_2(Log {
                creator: Creator {
                    name: "sela-leads contract harness".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    comment: None,
                },
                entries,
                comment: Some(if failures_only {
                    "exchanges of failing test cases only".to_owned()
                } else {
                    "every exchange of the run".to_owned()
                }),
                ..Log::default()
            }),
        }
    }

    /// Writes the archive to `path` as JSON.
    pub fn write(&self, path: &Path, failures_only: bool) -> std::io::Result<()> {
        let text = har::to_json(&self.to_har(failures_only)).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }
}

fn header(name: &str, value: &str) -> Headers {
    Headers {
        name: name.to_owned(),
        value: value.to_owned(),
        comment: None,
    }
}

fn entry(r: &Recorded) -> Entries {
    let ex = &r.exchange;
    let version = r
        .response
        .as_ref()
        .map_or("HTTP/1.1", |m| m.http_version.as_str())
        .to_owned();
    let millis = r.time.as_secs_f64() * 1000.0;
    let mut request_headers = Vec::new();
    if let Some(Value::String(auth)) = ex.request_json().get("authorization") {
        request_headers.push(header("Authorization", auth));
    }
    request_headers.push(header("Accept", "application/json"));
    let post_data = ex.body.as_ref().map(|b| {
        request_headers.push(header("Content-Type", "application/json"));
        PostData {
            mime_type: "application/json".to_owned(),
            text: Some(b.clone()),
            ..PostData::default()
        }
    });
    let response_text = ex
        .transport_error
        .as_ref()
        .map_or_else(|| ex.response.clone(), |e| format!("no answer: {e}"));
    Entries {
        started_date_time: r.started.to_rfc3339_opts(SecondsFormat::Millis, true),
        time: millis,
        request: Request {
            method: ex.method.to_owned(),
            url: ex.url.clone(),
            http_version: version.clone(),
            headers: request_headers,
            body_size: ex.body.as_ref().map_or(0, |b| b.len() as i64),
            headers_size: -1,
            post_data,
            ..Request::default()
        },
        response: Response {
            status: ex.status.map_or(0, i64::from),
            status_text: ex
                .status
                .and_then(|s| reqwest::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_owned(),
            http_version: version,
            headers: r
                .response
                .iter()
                .flat_map(|m| &m.headers)
                .map(|(k, v)| header(k, v))
                .collect(),
            content: Content {
                size: ex.response.len() as i64,
                mime_type: Some(ex.content_type.clone().unwrap_or_default()),
                text: Some(response_text),
                ..Content::default()
            },
            redirect_url: Some(String::new()),
            headers_size: -1,
            body_size: if ex.status.is_some() {
                ex.response.len() as i64
            } else {
                -1
            },
            comment: ex.transport_error.clone(),
            ..Response::default()
        },
        cache: Cache::default(),
        timings: Timings {
            send: 0.0,
            wait: millis,
            receive: 0.0,
            ..Timings::default()
        },
        comment: r.failing.then(|| "part of a failing test case".to_owned()),
        ..Entries::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{ApiKey, Auth, Target};

    #[test]
    fn the_archive_has_the_required_fields_and_no_key() {
        let target = Target::new("http://127.0.0.1:1", ApiKey::new("s3cr3t-key")).unwrap();
        let rec = Recorder::new();
        let ex = Exchange {
            method: "POST",
            url: target.url("api/leads/bulk-create/"),
            auth: Auth::Token,
            body: Some("{\"leads\":[\"s3cr3t-key\"]}".into()),
            status: Some(200),
            content_type: Some("application/json".into()),
            response: "{\"results\":[]}".into(),
            transport_error: None,
        };
        let redact = |s: &str| target.redact(s);
        rec.record(
            &redact,
            &ex,
            Utc::now(),
            Duration::from_millis(12),
            Some(ResponseMeta {
                headers: vec![("x-echo".into(), "Token s3cr3t-key".into())],
                http_version: "HTTP/1.1".into(),
            }),
        );
        let mark = rec.mark();
        rec.record(&redact, &ex, Utc::now(), Duration::ZERO, None);
        rec.mark_failing_since(mark);
        assert_eq!((rec.len(), rec.failing_len()), (2, 1));
        let text = har::to_json(&rec.to_har(false)).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("Token $SELA_API_KEY"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        let log = &back["log"];
        assert_eq!(log["version"], "1.2");
        assert!(log["creator"]["name"].is_string());
        let entries = log["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        for e in entries {
            for field in [
                "startedDateTime",
                "time",
                "request",
                "response",
                "cache",
                "timings",
            ] {
                assert!(e.get(field).is_some(), "{field} missing in {e}");
            }
            assert_eq!(e["response"]["status"], 200);
            assert!(e["timings"]["wait"].as_f64().is_some());
        }
        let failing = har::to_json(&rec.to_har(true)).unwrap();
        let back: Value = serde_json::from_str(&failing).unwrap();
        assert_eq!(back["log"]["entries"].as_array().unwrap().len(), 1);
        assert!(har::from_str(&failing).is_ok());
    }
}
