//! The server under test: its base URL, its API key (never shown), and raw HTTP
//! exchanges recorded so that a report can replay them.

use std::fmt;
use std::time::Duration;

use url::Url;

pub use crate::exchange::{Auth, Exchange, KEY_PLACEHOLDER, SECOND_KEY_PLACEHOLDER};
use crate::har::{Recorder, ResponseMeta};

/// An API key. Its `Debug` is redacted and it has no `Display`: it is only ever
/// written into an `Authorization` header.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Why the harness could not run at all (exit code 2 territory).
#[derive(Debug)]
pub enum HarnessError {
    /// The base URL is not an `http`/`https` URL.
    BadUrl(String),
    /// The target could not be reached.
    Connection(String),
    /// The target refused the key itself (401/403 to an authorised request).
    KeyRefused(String),
    /// The local runtime or HTTP client could not be built.
    Setup(String),
    /// The target kept answering `429` beyond the harness's patience: not a
    /// verdict on any clause, but the run cannot go on.
    Throttled(String),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::BadUrl(m) => write!(f, "bad base URL: {m}"),
            HarnessError::Connection(m) => write!(f, "cannot reach the target: {m}"),
            HarnessError::KeyRefused(m) => write!(f, "the target refused the API key: {m}"),
            HarnessError::Setup(m) => write!(f, "cannot set up the harness: {m}"),
            HarnessError::Throttled(m) => write!(f, "the target never stopped throttling: {m}"),
        }
    }
}

impl std::error::Error for HarnessError {}

/// The server under test.
#[derive(Clone, Debug)]
pub struct Target {
    base: Url,
    key: ApiKey,
    /// The second account's key (A3), from `SELA_SECOND_API_KEY`.
    second: Option<ApiKey>,
    recorder: Option<Recorder>,
}

impl Target {
    /// A target at `base_url` (`http://127.0.0.1:8000/`; a missing final slash is
    /// added) authenticated with `key`.
    pub fn new(base_url: &str, key: ApiKey) -> Result<Self, HarnessError> {
        let mut text = base_url.trim().to_owned();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base =
            Url::parse(&text).map_err(|e| HarnessError::BadUrl(format!("{base_url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(HarnessError::BadUrl(format!(
                "{base_url}: expected http://host[:port]/"
            )));
        }
        Ok(Target {
            base,
            key,
            second: None,
            recorder: None,
        })
    }

    /// The same target with a second account's key, for account isolation
    /// (A3); without one A3 is reported "not checked". An empty key or one equal
    /// to the first is no second account and is ignored.
    pub fn with_second_key(mut self, key: ApiKey) -> Self {
        let usable = !key.expose().trim().is_empty() && key.expose() != self.key.expose();
        self.second = usable.then_some(key);
        self
    }

    /// True when a second account's key was given (A3 can be checked).
    pub fn has_second_key(&self) -> bool {
        self.second.is_some()
    }

    /// The same target, recording every exchange into `recorder` (for `--har`).
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The recorder given by [`Target::with_recorder`], if any.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// The base URL, with a final slash.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// True when the target is on this machine (no proxy is used then).
    pub fn is_local(&self) -> bool {
        matches!(
            self.base.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        )
    }

    /// `path` (no leading slash) resolved against the base URL.
    pub fn url(&self, path: &str) -> String {
        self.base
            .join(path.trim_start_matches('/'))
            .map_or_else(|_| format!("{}{path}", self.base), |u| u.to_string())
    }

    /// `text` with every occurrence of the key replaced by `$SELA_API_KEY`.
    /// The near misses sent for A1 are almost the key, so a server that echoes
    /// one (its case flipped, or its last character dropped or changed) gets
    /// it replaced too, for keys long enough that this cannot hit other text.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Some(second) = self.second.as_ref().map(ApiKey::expose)
            && !second.is_empty()
        {
            text = text.replace(second, SECOND_KEY_PLACEHOLDER);
        }
        let key = self.key.expose();
        if key.is_empty() {
            return text;
        }
        let mut out = text.replace(key, KEY_PLACEHOLDER);
        let mut stem = key.chars();
        stem.next_back();
        for near in [flip_case(key).as_str(), stem.as_str()] {
            if near.chars().count() >= 8 && near != key {
                out = out.replace(near, KEY_PLACEHOLDER);
            }
        }
        out
    }

    /// The header value for `auth`, or `None` for no header.
    pub(crate) fn auth_header(&self, auth: &Auth) -> Option<String> {
        match auth {
            Auth::Token => Some(format!("Token {}", self.key.expose())),
            Auth::Second => self
                .second
                .as_ref()
                .map(|k| format!("Token {}", k.expose())),
            Auth::Missing => None,
            Auth::Literal(v) => Some(v.clone()),
            Auth::NearMiss { value, .. } => Some(value.clone()),
        }
    }

    /// Near misses of the real token (A1): its last character changed, its last
    /// character dropped, one character added, its case flipped, and the right
    /// token under the `Bearer` scheme. Each is an `Authorization` value paired
    /// with a label; values equal to the real header are left out.
    pub(crate) fn near_misses(&self) -> Vec<(&'static str, String)> {
        let key = self.key.expose();
        let mut out = Vec::new();
        if let Some(last) = key.chars().last() {
            let changed = if last == 'x' { 'y' } else { 'x' };
            let stem = &key[..key.len() - last.len_utf8()];
            out.push(("last character changed", format!("Token {stem}{changed}")));
            out.push(("last character dropped", format!("Token {stem}")));
        }
        out.push(("one character added", format!("Token {key}0")));
        out.push(("case flipped", format!("Token {}", flip_case(key))));
        out.push(("Bearer scheme", format!("Bearer {key}")));
        let real = format!("Token {key}");
        out.retain(|(_, v)| *v != real);
        out
    }

    /// A token guaranteed to differ from the real one.
    pub(crate) fn wrong_key(&self, tag: &str) -> String {
        let mut wrong = format!("wrong-{tag}");
        while wrong == self.key.expose() {
            wrong.push('x');
        }
        wrong
    }
}

/// `key` with the case of every ASCII letter flipped.
fn flip_case(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// Builds the HTTP client used for every request.
/// Where the key may travel is the client's rule (`crate::transport`): no
/// user-info, plain http only to loopback and never through a proxy.
pub(crate) fn client(target: &Target) -> Result<reqwest::Client, HarnessError> {
    client_with(target, reqwest::header::HeaderMap::new())
}

/// Header naming the lane (cases run side by side) a request was sent from,
/// so that a server's log (or a test server) can tell the lanes apart.
pub(crate) const LANE_HEADER: &str = "x-sela-lane";

/// The client of lane `lane` (cases run side by side): its every request
/// says so in `x-sela-lane: LANE`, for the target's logs (and the tests'
/// servers) to see which requests ran side by side.
pub(crate) fn lane_client(target: &Target, lane: u32) -> Result<reqwest::Client, HarnessError> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(LANE_HEADER, reqwest::header::HeaderValue::from(lane));
    client_with(target, headers)
}

fn client_with(
    target: &Target,
    headers: reqwest::header::HeaderMap,
) -> Result<reqwest::Client, HarnessError> {
    sela_leads::token_client_builder(target.base_url())
        .map_err(|e| HarnessError::BadUrl(e.to_string()))?
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        // Servers close idle keep-alive connections after a while (0.5 s for
        // some proxies, 2 s for gunicorn, 5 s for Node and uvicorn); a POST
        // sent on one just as it closes gets no answer, which would read as a
        // verdict. Dropping idle ones well before that avoids the race; a new
        // connection costs little next to a false failure.
        .pool_idle_timeout(Duration::from_millis(250))
        .default_headers(headers)
        .build()
        .map_err(|e| HarnessError::Setup(format!("HTTP client: {e}")))
}

/// Sends one request and records it; never fails (a transport error is
/// recorded). Also returns the answer's `Retry-After` in whole seconds, if any.
pub(crate) async fn send_once(
    client: &reqwest::Client,
    target: &Target,
    method: &'static str,
    path: &str,
    auth: Auth,
    body: Option<String>,
) -> (Exchange, Option<u64>) {
    let url = target.url(path);
    let mut req = match method {
        "GET" => client.get(&url),
        "PATCH" => client.patch(&url),
        "PUT" => client.put(&url),
        _ => client.post(&url),
    };
    if let Some(h) = target.auth_header(&auth) {
        req = req.header(reqwest::header::AUTHORIZATION, h);
    }
    req = req.header(reqwest::header::ACCEPT, "application/json");
    if let Some(b) = &body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(b.clone());
    }
    let mut ex = Exchange::unanswered(method, url, auth, body);
    let (started, clock) = (chrono::Utc::now(), std::time::Instant::now());
    let mut meta = None;
    let mut retry_after = None;
    match req.send().await {
        Ok(resp) => {
            if target.recorder.is_some() {
                meta = Some(ResponseMeta::of(&resp));
            }
            ex.status = Some(resp.status().as_u16());
            // The client's reading of `Retry-After` (seconds or an HTTP date),
            // rounded up to whole seconds.
            retry_after = sela_leads::retry_after(resp.headers())
                .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
            ex.content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match resp.bytes().await {
                Ok(bytes) => ex.response = target.redact(&String::from_utf8_lossy(&bytes)),
                Err(e) => ex.transport_error = Some(target.redact(&error_chain(&e))),
            }
        }
        Err(e) => ex.transport_error = Some(target.redact(&error_chain(&e))),
    }
    if let Some(recorder) = &target.recorder {
        recorder.record(&|s| target.redact(s), &ex, started, clock.elapsed(), meta);
    }
    (ex, retry_after)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_shows() {
        let t = Target::new("http://127.0.0.1:1", ApiKey::new("s3cr3t-key")).unwrap();
        assert!(!format!("{t:?}").contains("s3cr3t"));
        assert_eq!(t.base_url(), "http://127.0.0.1:1/");
        assert_eq!(t.redact("a s3cr3t-key b"), "a $SELA_API_KEY b");
        let ex = Exchange {
            method: "POST",
            url: t.url("api/leads/bulk-create/"),
            auth: Auth::Token,
            body: Some("{\"leads\":[\"it's\"]}".into()),
            status: None,
            content_type: None,
            response: String::new(),
            transport_error: None,
        };
        let curl = ex.curl();
        assert!(
            curl.contains("\"Authorization: Token $SELA_API_KEY\""),
            "{curl}"
        );
        assert!(curl.contains("http://127.0.0.1:1/api/leads/bulk-create/"));
        assert!(curl.contains("'{\"leads\":[\"it'\\''s\"]}'"), "{curl}");
        assert!(!ex.request_json().to_string().contains("s3cr3t"));
        assert_ne!(t.wrong_key("s3cr3t-key"), "s3cr3t-key");
    }

    #[test]
    fn echoed_near_misses_are_redacted_too() {
        let t = Target::new("http://127.0.0.1:1", ApiKey::new("AbC-def-123")).unwrap();
        for (_, value) in t.near_misses() {
            let echoed = t.redact(&format!("you sent {value:?}"));
            assert!(!echoed.contains("def-12"), "{echoed}");
            assert!(!echoed.to_lowercase().contains("abc-def"), "{echoed}");
        }
        // A short key is not looked for in pieces.
        let short = Target::new("http://127.0.0.1:1", ApiKey::new("k1")).unwrap();
        assert_eq!(short.redact("k and K1"), "k and K1");
    }

    #[test]
    fn near_misses_differ_from_the_key_and_never_show_it() {
        let key = "AbC-def-123";
        let t = Target::new("http://127.0.0.1:1", ApiKey::new(key)).unwrap();
        let misses = t.near_misses();
        let labels: Vec<&str> = misses.iter().map(|(l, _)| *l).collect();
        assert_eq!(
            labels,
            [
                "last character changed",
                "last character dropped",
                "one character added",
                "case flipped",
                "Bearer scheme"
            ]
        );
        let values: Vec<&str> = misses.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "Token AbC-def-12x",
                "Token AbC-def-12",
                "Token AbC-def-1230",
                "Token aBc-DEF-123",
                "Bearer AbC-def-123"
            ]
        );
        for (label, value) in misses {
            let ex = Exchange {
                method: "POST",
                url: t.url("api/leads/bulk-create/"),
                auth: Auth::NearMiss { label, value },
                body: None,
                status: Some(401),
                content_type: None,
                response: String::new(),
                transport_error: None,
            };
            for shown in [ex.curl(), ex.request_json().to_string(), format!("{ex:?}")] {
                assert!(!shown.contains("AbC-def-12"), "{shown}");
                assert!(!shown.contains("aBc-DEF"), "{shown}");
            }
        }
        // A key whose case cannot flip has no "case flipped" near miss.
        let digits = Target::new("http://127.0.0.1:1", ApiKey::new("12345")).unwrap();
        assert!(
            digits
                .near_misses()
                .iter()
                .all(|(l, _)| *l != "case flipped")
        );
    }
}
