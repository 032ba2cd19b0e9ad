//! The HTTP side of the sandbox: one router over the [`Model`](super::Model),
//! from a request's parts to a [`Reply`]. [`Sandbox`](crate::Sandbox) serves it from a single
//! catch-all httpmock mock.

use std::panic::{AssertUnwindSafe, catch_unwind};

use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::{Value, json};

use super::model::{Action, BulkSummary, Rejection};
pub use super::state::{AccountId, RequestLog, SameTokenError, SandboxState};

/// A computed answer before it becomes an httpmock response: fault-injecting
/// test servers can change any part of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers besides `Content-Type: application/json`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
    /// Outcome counts when this answers a bulk create.
    pub bulk: Option<BulkSummary>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
            bulk: None,
        }
    }

    fn detail(status: u16, detail: &str) -> Self {
        Self::json(status, json!({ "detail": detail }))
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The httpmock response: the JSON body with `Content-Type: application/json`.
    pub fn into_response(self) -> HttpMockResponse {
        let body = serde_json::to_vec(&self.body).unwrap_or_else(|_| b"{}".to_vec());
        let mut builder = HttpMockResponse::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .header("vary", "Accept");
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(body).build()
    }
}

/// The router: answers one request from the state, as the sandbox does.
pub fn respond(state: &SandboxState, req: &HttpMockRequest) -> HttpMockResponse {
    answer(state, req).into_response()
}

/// The router's answer before conversion (see [`Reply`]); also calls the
/// state's `on_request` hook. Never panics: a bug inside becomes a 500 answer.
pub fn answer(state: &SandboxState, req: &HttpMockRequest) -> Reply {
    answer_raw(
        state,
        req.method_str(),
        req.uri_str(),
        req.headers_vec(),
        req.body_ref(),
    )
}

/// As [`answer`], from the parts of a request (method, request target, headers,
/// body), for test servers built on another HTTP stack than httpmock.
pub fn answer_raw(
    state: &SandboxState,
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    let method = method.to_owned();
    let (path, query) = split_uri(uri);
    let reply = catch_unwind(AssertUnwindSafe(|| {
        route(state, &method, &path, &query, headers, body)
    }))
    .unwrap_or_else(|_| Reply::detail(500, "A server error occurred."));
    if let Some(hook) = &state.on_request {
        let log = RequestLog {
            method,
            path,
            status: reply.status,
            bulk: reply.bulk,
            account: state.account_for(headers),
        };
        // A panicking hook must not take the answer down with it.
        let _ = catch_unwind(AssertUnwindSafe(|| hook(&log)));
    }
    reply
}

/// Splits a request target into a path and a query; an absolute-form target
/// loses its scheme and authority.
fn split_uri(uri: &str) -> (String, String) {
    let without_authority = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => uri,
    };
    let without_fragment = without_authority.split('#').next().unwrap_or("");
    match without_fragment.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (without_fragment.to_owned(), String::new()),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The routes, as `(path, allowed methods)`; `{id}` matches one segment.
enum Route {
    Leads,
    Lead(String),
    UpdateByMatch,
    BulkCreate,
    LeadTypes,
}

impl Route {
    fn parse(path: &str) -> Option<Self> {
        match path {
            "/api/leads/" => Some(Route::Leads),
            "/api/leads/update/" => Some(Route::UpdateByMatch),
            "/api/leads/bulk-create/" => Some(Route::BulkCreate),
            "/api/lead-types/" => Some(Route::LeadTypes),
            _ => {
                let id = path.strip_prefix("/api/leads/")?.strip_suffix('/')?;
                (!id.is_empty() && !id.contains('/') && !id.contains('.'))
                    .then(|| Route::Lead(id.to_owned()))
            }
        }
    }

    fn allowed(&self) -> &'static [&'static str] {
        match self {
            Route::Leads => &["GET", "POST", "HEAD", "OPTIONS"],
            Route::Lead(_) => &["GET", "PATCH", "HEAD", "OPTIONS"],
            Route::UpdateByMatch => &["PUT", "OPTIONS"],
            Route::BulkCreate => &["POST", "OPTIONS"],
            Route::LeadTypes => &["GET", "HEAD", "OPTIONS"],
        }
    }
}

fn route(
    state: &SandboxState,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Reply {
    // Django resolves the URL before the view authenticates: unknown paths are
    // 404 with or without a token.
    let Some(route) = Route::parse(path) else {
        return Reply::detail(404, "Not found.");
    };
    // Django REST framework authenticates before it looks at the method.
    let account = match authenticate(state, headers) {
        Ok(account) => account,
        Err(reply) => return reply,
    };
    // Django REST framework throttles after authentication and permissions.
    if state.throttle.hit(&state.options) {
        return match state.options.retry_after {
            Some(secs) => Reply::detail(
                429,
                &format!("Request was throttled. Expected available in {secs} seconds."),
            )
            .header("retry-after", secs.to_string()),
            None => Reply::detail(429, "Request was throttled."),
        };
    }
    let allowed = route.allowed();
    if !allowed.contains(&method) {
        return method_not_allowed(method, allowed);
    }
    if method == "OPTIONS" {
        return Reply::json(
            200,
            json!({
                "name": "Sela sandbox",
                "renders": ["application/json"],
                "parses": ["application/json"],
            }),
        )
        .header("allow", allowed.join(", "));
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let base_url = base_url(headers);

    match (route, method) {
        // Reads answer from the account's state as reads see it (possibly
        // lagging, SandboxOptions::read_lag); writes act on its current state.
        (Route::Leads, "GET" | "HEAD") => from_model(
            state.read(account, |m| {
                m.list(param("page"), param("page_size"), &base_url)
            }),
            200,
        ),
        (Route::LeadTypes, "GET" | "HEAD") => from_model(
            state.read(account, |m| {
                m.list_lead_types(
                    param("page"),
                    param("page_size"),
                    param("search"),
                    &base_url,
                )
            }),
            200,
        ),
        (Route::Lead(raw_id), "GET" | "HEAD") => match raw_id
            .parse::<i64>()
            .ok()
            .and_then(|id| state.read(account, |m| m.get(id)))
        {
            Some(lead) => Reply::json(200, lead),
            None => Reply::detail(404, "Not found."),
        },
        (Route::Lead(raw_id), "PATCH") => {
            // Another account's id is as unknown as an id never given.
            let Ok(id) = raw_id.parse::<i64>() else {
                return Reply::detail(404, "Not found.");
            };
            if !state.lock_account(account).is_some_and(|m| m.contains(id)) {
                return Reply::detail(404, "Not found.");
            }
            match parse_body(headers, body) {
                Ok(value) => from_model(state.write(account, |m| m.patch(id, &value)), 200),
                Err(reply) => reply,
            }
        }
        (Route::Leads, "POST") => match parse_body(headers, body) {
            Ok(value) => match state.write(account, |m| m.create(&value)) {
                Ok((lead, action)) => {
                    Reply::json(if action == Action::Created { 201 } else { 200 }, lead)
                }
                Err(rejection) => rejected(rejection),
            },
            Err(reply) => reply,
        },
        (Route::UpdateByMatch, "PUT") => match parse_body(headers, body) {
            Ok(value) => from_model(state.write(account, |m| m.put_by_match(&value)), 200),
            Err(reply) => reply,
        },
        (Route::BulkCreate, "POST") => match parse_body(headers, body) {
            Ok(value) => bulk_create(state, account, &value),
            Err(reply) => reply,
        },
        _ => method_not_allowed(method, allowed),
    }
}

/// 405 with the route's `Allow` header, as Django REST framework answers.
fn method_not_allowed(method: &str, allowed: &[&str]) -> Reply {
    Reply::detail(405, &format!("Method \"{method}\" not allowed."))
        .header("allow", allowed.join(", "))
}

fn bulk_create(state: &SandboxState, account: AccountId, body: &Value) -> Reply {
    let Some(obj) = body.as_object() else {
        return Reply::json(
            400,
            json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.",
                json_type_name(body)
            )]}),
        );
    };
    let items = match obj.get("leads") {
        None => return Reply::json(400, json!({"leads": ["This field is required."]})),
        Some(Value::Array(items)) => items,
        Some(Value::Null) => {
            return Reply::json(400, json!({"leads": ["This field may not be null."]}));
        }
        Some(other) => {
            return Reply::json(
                400,
                json!({"leads": [format!(
                    "Expected a list of items but got type \"{}\".",
                    json_type_name(other)
                )]}),
            );
        }
    };
    if let Some((status, message)) = state.options.oversize(items.len()) {
        // Refused whole before the model sees it: nothing of it is stored.
        return Reply::json(status, json!({ "leads": [message] }));
    }
    let results = state.write(account, |m| m.bulk_create(items));
    let summary = BulkSummary::of(&results);
    let mut reply = Reply::json(200, json!({ "results": results }));
    reply.bulk = Some(summary);
    reply
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn from_model(result: Result<Value, Rejection>, ok_status: u16) -> Reply {
    match result {
        Ok(body) => Reply::json(ok_status, body),
        Err(rejection) => rejected(rejection),
    }
}

fn rejected(rejection: Rejection) -> Reply {
    match rejection {
        Rejection::BadRequest(body) => Reply::json(400, body),
        Rejection::NotFound(detail) => Reply::detail(404, &detail),
    }
}

/// The account of a request (see [`SandboxState::authenticate`]), or its 401
/// answer.
fn authenticate(state: &SandboxState, headers: &[(String, String)]) -> Result<AccountId, Reply> {
    state
        .authenticate(headers)
        .map_err(|detail| Reply::detail(401, detail).header("www-authenticate", "Token"))
}

/// Parses a request body as JSON. An empty body is `{}` (as Django REST
/// framework reads it); form and multipart bodies are refused with 400, since a
/// nested `leads` array cannot be expressed in them; other types get 415.
fn parse_body(headers: &[(String, String)], body: &[u8]) -> Result<Value, Reply> {
    let content_type = header(headers, "content-type").unwrap_or("").trim();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = media_type.is_empty()
        || media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"));
    if !is_json {
        if media_type == "application/x-www-form-urlencoded" || media_type == "multipart/form-data"
        {
            return Err(Reply::json(
                400,
                json!({
                    "detail": format!(
                        "The sandbox reads JSON bodies only; send Content-Type: application/json \
                         (got \"{media_type}\"). A nested leads array cannot be form-encoded."
                    )
                }),
            ));
        }
        return Err(Reply::detail(
            415,
            &format!("Unsupported media type \"{content_type}\" in request."),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| Reply::detail(400, &format!("JSON parse error - {e}")))
}

/// The absolute base URL (`http://host:port/`) the client used, from `Host`.
fn base_url(headers: &[(String, String)]) -> String {
    let host = header(headers, "host")
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}/")
}
