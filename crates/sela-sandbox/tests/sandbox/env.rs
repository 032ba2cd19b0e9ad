//! A recording server around the router, and a generated client for it.

use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, MockServer};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sela_leads::api::{self, types};
use sela_sandbox::{SandboxOptions, SandboxState, respond};
use serde_json::Value;

use crate::conformance::*;

// ---------------------------------------------------------------------------
// A recording server around the router
// ---------------------------------------------------------------------------

pub(crate) struct Exchange {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
}

/// The router behind a recording httpmock server, and a generated client.
pub(crate) struct Env {
    pub(crate) server: MockServer,
    pub(crate) state: SandboxState,
    pub(crate) exchanges: Arc<Mutex<Vec<Exchange>>>,
    pub(crate) client: api::Client,
    pub(crate) http: reqwest::Client,
    /// Authorised as the second account.
    pub(crate) second_http: reqwest::Client,
}

pub(crate) const TOKEN: &str = "test-token-0123456789";
/// The second account's token.
pub(crate) const SECOND_TOKEN: &str = "second-test-token-9876543210";

pub(crate) fn authorised_http() -> reqwest::Client {
    http_with(TOKEN)
}

/// A client that sends `Authorization: Token <token>` with every request.
pub(crate) fn http_with(token: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Token {token}")).unwrap(),
    );
    sela_leads::http_client_builder()
        .expect("TLS setup")
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Env {
    /// Two accounts ([`TOKEN`], [`SECOND_TOKEN`]), default options.
    pub(crate) async fn new() -> Env {
        Self::with_options(SandboxOptions::default()).await
    }

    pub(crate) async fn with_options(options: SandboxOptions) -> Env {
        let state = SandboxState::new(TOKEN)
            .with_second_token(SECOND_TOKEN)
            .unwrap()
            .with_options(options);
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let server = MockServer::start_async().await;
        let (router_state, log) = (state.clone(), exchanges.clone());
        server
            .mock_async(|_when, then| {
                then.respond_with(move |req: &HttpMockRequest| {
                    let response = respond(&router_state, req);
                    let content_type = response
                        .headers
                        .iter()
                        .flatten()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    log.lock().unwrap().push(Exchange {
                        method: req.method_str().to_owned(),
                        path: req.uri().path().to_owned(),
                        status: response.status.unwrap_or(0),
                        content_type,
                        body: response
                            .body
                            .as_ref()
                            .map(|b| b.to_vec())
                            .unwrap_or_default(),
                    });
                    response
                });
            })
            .await;
        let http = authorised_http();
        let client = api::Client::new_with_client(&server.base_url(), http.clone());
        Env {
            server,
            state,
            exchanges,
            client,
            http,
            second_http: http_with(SECOND_TOKEN),
        }
    }

    /// Sends `method path` with an optional JSON body as `who`; the status and
    /// the JSON body of the answer.
    pub(crate) async fn call(
        &self,
        who: &reqwest::Client,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = who.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The results of a bulk create of `leads` as `who` (asserting a 200).
    pub(crate) async fn bulk_raw(&self, who: &reqwest::Client, leads: Value) -> Vec<Value> {
        let (status, body) = self
            .call(
                who,
                "POST",
                "/api/leads/bulk-create/",
                Some(&serde_json::json!({ "leads": leads })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["results"].as_array().unwrap().clone()
    }

    /// `PATCH /api/leads/{id}/` with `body` as `who`: the status and the answer.
    pub(crate) async fn patch(&self, who: &reqwest::Client, id: i64, body: &Value) -> (u16, Value) {
        self.call(who, "PATCH", &format!("/api/leads/{id}/"), Some(body))
            .await
    }

    /// [`Env::patch`], then the lead read back as `who` (`None` on 404): the
    /// status, what the PATCH answered and what a read sees after it.
    pub(crate) async fn patch_then_read(
        &self,
        who: &reqwest::Client,
        id: i64,
        body: &Value,
    ) -> (u16, Value, Option<Value>) {
        let (status, answered) = self.patch(who, id, body).await;
        (status, answered, self.get_lead(who, id).await)
    }

    /// `PUT /api/leads/update/` (update by phone and e-mail) with `body` as
    /// `who`: the status and the answer.
    pub(crate) async fn put_by_match(&self, who: &reqwest::Client, body: &Value) -> (u16, Value) {
        self.call(who, "PUT", "/api/leads/update/", Some(body))
            .await
    }

    /// The lead `id` as `who` reads it: `None` on 404.
    pub(crate) async fn get_lead(&self, who: &reqwest::Client, id: i64) -> Option<Value> {
        match self
            .call(who, "GET", &format!("/api/leads/{id}/"), None)
            .await
        {
            (200, lead) => Some(lead),
            (404, _) => None,
            (status, body) => panic!("GET lead {id}: {status} {body}"),
        }
    }

    /// The `count` of `who`'s list.
    pub(crate) async fn count(&self, who: &reqwest::Client) -> u64 {
        let (status, page) = self.call(who, "GET", "/api/leads/?page_size=1", None).await;
        assert_eq!(status, 200, "{page}");
        page["count"].as_u64().unwrap()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A client without the token.
    pub(crate) fn anonymous(&self) -> api::Client {
        api::Client::new_with_client(
            &self.server.base_url(),
            sela_leads::http_client_builder()
                .expect("TLS setup")
                .build()
                .unwrap(),
        )
    }

    /// POSTs raw JSON (for bodies the typed client cannot express).
    pub(crate) async fn post_raw(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Validates every answer given so far against openapi.yaml.
    pub(crate) fn finish(self) {
        let exchanges = self.exchanges.lock().unwrap();
        assert!(!exchanges.is_empty(), "no request reached the sandbox");
        let errors: Vec<String> = exchanges
            .iter()
            .flat_map(|e| {
                conformance_errors(&e.method, &e.path, e.status, &e.content_type, &e.body)
            })
            .collect();
        assert!(
            errors.is_empty(),
            "answers that do not conform to openapi.yaml:\n{}",
            errors.join("\n")
        );
    }
}

pub(crate) fn status_of<E: std::fmt::Debug>(error: &api::Error<E>) -> Option<u16> {
    error.status().map(|s| s.as_u16())
}

pub(crate) fn lead(phone: &str, email: &str) -> types::LeadRequest {
    types::LeadRequest::builder()
        .phone_number(phone.to_owned())
        .email(email.to_owned())
        .try_into()
        .unwrap()
}

pub(crate) async fn bulk(
    env: &Env,
    leads: Vec<types::LeadRequest>,
) -> Vec<types::BulkCreateLeadResult> {
    env.client
        .leads_bulk_create_create()
        .body(types::BulkCreateLeadRequestRequest { leads })
        .send()
        .await
        .unwrap()
        .into_inner()
        .results
}

/// The stored lead `id`, read back through the generated client.
pub(crate) async fn retrieve(client: &api::Client, id: i64) -> types::PartialLead {
    client
        .leads_retrieve()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner()
}
