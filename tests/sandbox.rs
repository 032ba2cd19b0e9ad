//! The sandbox through the generated client, and the conformance of every
//! answer it gives with `openapi.yaml`.
//!
//! Most tests run the sandbox's router ([`respond`]) behind a recording httpmock
//! server: each answer is kept, and [`Env::finish`] validates every one against
//! the response schema `openapi.yaml` gives for that operation and status. The
//! tests at the end run [`Sandbox`] itself (its own port, a chosen port, Debug).

use std::sync::{Arc, Mutex, OnceLock};

use httpmock::{HttpMockRequest, MockServer};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use sela_leads::api::{self, types};
use sela_leads::sandbox::{NOT_AN_OBJECT, Sandbox, SandboxOptions, SandboxState, respond};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// openapi.yaml as JSON Schema
// ---------------------------------------------------------------------------

/// The spec, parsed once.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
            .expect("openapi.yaml is readable");
        serde_yaml::from_str(&text).expect("openapi.yaml is YAML")
    })
}

/// Converts an OpenAPI 3.0 schema object to JSON Schema (draft 7): `nullable`
/// becomes a `null` type (or an `anyOf` with null around a `$ref`/`allOf`),
/// `#/components/schemas/X` refs become `#/definitions/X`, and OpenAPI-only
/// keywords are dropped.
fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                match key.as_str() {
                    "nullable" | "example" | "examples" | "discriminator" | "xml"
                    | "externalDocs" | "deprecated" | "readOnly" | "writeOnly" => {}
                    "$ref" => {
                        let target = value.as_str().unwrap_or_default();
                        out.insert(
                            key.clone(),
                            json!(target.replace("#/components/schemas/", "#/definitions/")),
                        );
                    }
                    "properties" => {
                        let props = value
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                                    .collect::<Map<_, _>>()
                            })
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" | "not" | "additionalProperties" => {
                        out.insert(key.clone(), to_json_schema(value));
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        let list = value
                            .as_array()
                            .map(|l| l.iter().map(to_json_schema).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Array(list));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(values)) = out.get_mut("enum") {
                            values.push(Value::Null);
                        }
                    }
                    _ => return json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `{"definitions": <every component schema>, "allOf": [<schema>]}`.
fn standalone(schema: &Value) -> Value {
    static DEFINITIONS: OnceLock<Value> = OnceLock::new();
    let definitions = DEFINITIONS.get_or_init(|| {
        let schemas = spec()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .expect("components.schemas");
        Value::Object(
            schemas
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect(),
        )
    });
    json!({ "definitions": definitions, "allOf": [to_json_schema(schema)] })
}

fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => spec()
            .pointer(r.trim_start_matches('#'))
            .map_or(value, resolve),
        None => value,
    }
}

/// The spec's path template for a concrete path, if the spec has it.
fn template(path: &str) -> Option<&'static str> {
    match path {
        "/api/leads/" => Some("/api/leads/"),
        "/api/leads/update/" => Some("/api/leads/update/"),
        "/api/leads/bulk-create/" => Some("/api/leads/bulk-create/"),
        "/api/lead-types/" => Some("/api/lead-types/"),
        p if p.starts_with("/api/leads/") && p.ends_with('/') && p.matches('/').count() == 4 => {
            Some("/api/leads/{id}/")
        }
        _ => None,
    }
}

/// Statuses the sandbox gives that `openapi.yaml` does not list for the
/// operation, each with its reason. The body must still be an `ApiError`.
fn known_spec_gap(method: &str, template: &str, status: u16) -> bool {
    matches!(
        (method, template, status),
        // Django REST framework answers an out-of-range page with 404 `Invalid page.`;
        // the spec's list operations do not document a 404.
        ("GET", "/api/leads/" | "/api/lead-types/", 404)
    ) || status == 405 // a method the spec does not have for that path
}

/// Checks one answer against the spec: documented status (or a known gap),
/// JSON content type, and a body that validates against the schema.
fn conformance_errors(
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Vec<String> {
    let mut errors = Vec::new();
    let what = format!("{method} {path} -> {status}");
    if !content_type.starts_with("application/json") {
        errors.push(format!("{what}: content type {content_type:?}"));
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            errors.push(format!("{what}: body is not JSON: {e}"));
            return errors;
        }
    };
    let api_error = json!({"$ref": "#/components/schemas/ApiError"});
    let schema = match template(path) {
        None => {
            if status != 404 {
                errors.push(format!("{what}: a path outside the spec must be 404"));
            }
            api_error
        }
        Some(t) => {
            let op = spec().pointer(&format!(
                "/paths/{}/{}",
                t.replace('/', "~1"),
                method.to_lowercase()
            ));
            match op.and_then(|op| op.pointer(&format!("/responses/{status}"))) {
                Some(response) => {
                    match resolve(response).pointer("/content/application~1json/schema") {
                        Some(schema) => schema.clone(),
                        None => {
                            errors.push(format!("{what}: the spec has no JSON schema for it"));
                            return errors;
                        }
                    }
                }
                None if known_spec_gap(method, t, status) => api_error,
                None => {
                    errors.push(format!("{what}: status not documented in openapi.yaml"));
                    api_error
                }
            }
        }
    };
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&standalone(&schema))
        .expect("the converted schema compiles");
    for error in validator.iter_errors(&value) {
        errors.push(format!("{what}: {error} at {}", error.instance_path()));
    }
    errors
}

// ---------------------------------------------------------------------------
// A recording server around the router
// ---------------------------------------------------------------------------

struct Exchange {
    method: String,
    path: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// The router behind a recording httpmock server, and a generated client.
struct Env {
    server: MockServer,
    state: SandboxState,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    client: api::Client,
    http: reqwest::Client,
}

const TOKEN: &str = "test-token-0123456789";

fn authorised_http() -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Token {TOKEN}")).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Env {
    async fn new() -> Env {
        let state = SandboxState::new(TOKEN);
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
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A client without the token.
    fn anonymous(&self) -> api::Client {
        api::Client::new_with_client(&self.server.base_url(), reqwest::Client::new())
    }

    /// POSTs raw JSON (for bodies the typed client cannot express).
    async fn post_raw(&self, path: &str, body: &Value) -> (u16, Value) {
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
    fn finish(self) {
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

fn status_of<E: std::fmt::Debug>(error: &api::Error<E>) -> Option<u16> {
    error.status().map(|s| s.as_u16())
}

fn lead(phone: &str, email: &str) -> types::LeadRequest {
    types::LeadRequest::builder()
        .phone_number(phone.to_owned())
        .email(email.to_owned())
        .try_into()
        .unwrap()
}

async fn bulk(env: &Env, leads: Vec<types::LeadRequest>) -> Vec<types::BulkCreateLeadResult> {
    env.client
        .leads_bulk_create_create()
        .body(types::BulkCreateLeadRequestRequest { leads })
        .send()
        .await
        .unwrap()
        .into_inner()
        .results
}

// ---------------------------------------------------------------------------
// Behaviour through the generated client
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_then_retrieve() {
    let env = Env::new().await;
    let created = env
        .client
        .leads_create()
        .body_map(|b| {
            b.phone_number("(804) 555-0142".to_owned())
                .email("ada@example.com".to_owned())
                .us_state(types::UsState::Va)
                .external_id("crm-42".to_owned())
                .metadata(sela_leads::Metadata::new().with("first_name", "Ada"))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created = created.into_inner();
    assert_eq!(created.phone_number.as_deref(), Some("+18045550142"));
    assert_eq!(created.status.as_deref(), Some("NEW"));
    assert!(created.created_time.is_some() && created.modified_time.is_some());

    let fetched = env
        .client
        .leads_retrieve()
        .id(created.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, created);
    assert_eq!(fetched.email.as_deref(), Some("ada@example.com"));
    assert_eq!(fetched.us_state.as_deref(), Some("VA"));
    assert_eq!(fetched.external_id.as_deref(), Some("crm-42"));
    assert_eq!(
        fetched.metadata.as_ref().and_then(|m| m.first_name()),
        Some("Ada")
    );

    let missing = env
        .client
        .leads_retrieve()
        .id(created.id + 1000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), Some(404));

    // The same identity again is not a second lead: it is the first, re-engaged.
    let again = env
        .client
        .leads_create()
        .body(lead("+18045550142", "ada@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    let again = again.into_inner();
    assert_eq!(again.id, created.id);
    assert_eq!(again.reengagement_count, Some(1));

    let invalid = env
        .client
        .leads_create()
        .body(lead("+19115550142", "ada@example.com"))
        .send()
        .await
        .unwrap_err();
    match invalid {
        api::Error::ErrorResponse(body) => {
            assert_eq!(body.status().as_u16(), 400);
            assert!(body.into_inner().0.contains_key("phone_number"));
        }
        other => panic!("expected a 400 answer, got {other:?}"),
    }
    env.finish();
}

#[tokio::test]
async fn list_across_pages() {
    let env = Env::new().await;
    let leads: Vec<_> = (0..5)
        .map(|i| lead(&format!("+1804555010{i}"), "page@example.com"))
        .collect();
    let results = bulk(&env, leads).await;
    let ids: Vec<i64> = results.iter().map(|r| r.id.unwrap()).collect();

    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let body = env
            .client
            .leads_list()
            .page(page)
            .page_size(2)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(body.count, 5);
        seen.extend(body.results.iter().map(|l| l.id));
        assert_eq!(body.previous.is_some(), page > 1, "page {page}");
        match body.next {
            Some(next) => {
                assert!(
                    next.starts_with(&env.server.base_url()),
                    "{next} is not absolute"
                );
                assert!(next.contains(&format!("page={}", page + 1)), "{next}");
                page += 1;
            }
            None => break,
        }
    }
    assert_eq!(page, 3);
    assert_eq!(seen, ids);

    // Following `next` as an absolute URL works too.
    let first = env
        .client
        .leads_list()
        .page_size(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let next_url = first.next.unwrap();
    let second: types::PaginatedPartialLeadList = env
        .http
        .get(&next_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        second.results.iter().map(|l| l.id).collect::<Vec<_>>(),
        ids[2..4]
    );

    let beyond = env
        .client
        .leads_list()
        .page(4)
        .page_size(2)
        .send()
        .await
        .unwrap_err();
    // 404 is not in the spec for the list, so the client reports an unexpected answer.
    assert!(
        matches!(&beyond, api::Error::UnexpectedResponse(r) if r.status().as_u16() == 404),
        "{beyond:?}"
    );

    let types_page = env
        .client
        .lead_types_list()
        .search("solar")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(types_page.count, 1);
    assert_eq!(types_page.results[0].name, "Solar");
    env.finish();
}

#[tokio::test]
async fn patch_updates_one_lead() {
    let env = Env::new().await;
    let id = bulk(&env, vec![lead("+18045550150", "p@example.com")]).await[0]
        .id
        .unwrap();
    let patched = env
        .client
        .leads_partial_update()
        .id(id)
        .body_map(|b| {
            b.status(types::LeadStatus::Closed)
                .call_dnc(true)
                .lead_source("web".to_owned())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(patched.status.as_deref(), Some("CLOSED"));
    assert_eq!(patched.call_dnc, Some(true));
    assert_eq!(patched.lead_source.as_deref(), Some("web"));
    assert_eq!(patched.phone_number.as_deref(), Some("+18045550150"));
    let fetched = env
        .client
        .leads_retrieve()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, patched);

    let missing = env
        .client
        .leads_partial_update()
        .id(id + 1)
        .body_map(|b| b.status(types::LeadStatus::Closed))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), Some(404));

    let bad = env
        .http
        .patch(env.url(&format!("/api/leads/{id}/")))
        .json(&json!({"phone_number": "not a phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(body.get("phone_number").is_some(), "{body}");
    env.finish();
}

#[tokio::test]
async fn put_by_phone_and_email_match() {
    let env = Env::new().await;
    let id = bulk(&env, vec![lead("+18045550160", "m@example.com")]).await[0]
        .id
        .unwrap();
    let updated = env
        .client
        .leads_update_update()
        .body_map(|b| {
            b.phone_number("804-555-0160".to_owned())
                .email("m@example.com".to_owned())
                .status(types::LeadStatus::Lost)
                .call_dnc(true)
                .external_id("crm-160".to_owned())
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.id, id);
    assert_eq!(updated.status.as_deref(), Some("LOST"));
    assert_eq!(updated.call_dnc, Some(true));
    assert_eq!(updated.external_id.as_deref(), Some("crm-160"));

    // Same phone, another e-mail: nothing matches.
    let miss = env
        .client
        .leads_update_update()
        .body_map(|b| {
            b.phone_number("+18045550160".to_owned())
                .email("other@example.com".to_owned())
                .status(types::LeadStatus::Lost)
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&miss), Some(404));
    let unchanged = env
        .client
        .leads_retrieve()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.status.as_deref(), Some("LOST"));
    env.finish();
}

#[tokio::test]
async fn bulk_mixes_valid_invalid_and_non_object_items() {
    let env = Env::new().await;
    let (status, body) = env
        .post_raw(
            "/api/leads/bulk-create/",
            &json!({"leads": [
                {"phone_number": "+18045550123", "email": "a@example.com"},
                7,
                {"phone_number": "+18045550123", "email": "a@example.com"},
                null,
                {"phone_number": "804-CALL-NOW", "email": "b@example.com"},
                {"phone_number": "+18045550124", "email": "no-at-sign"},
                {"phone_number": "+18045550125", "us_state": "ZZ"},
                {"phone_number": "+18045550126", "lead_type": "abc"},
                "lead",
                [],
                {"phone_number": "(804) 555-0127", "email": "c@example.com", "favourite_colour": "teal"},
            ]}),
        )
        .await;
    assert_eq!(status, 200);
    let results: types::BulkCreateLeadResponse = serde_json::from_value(body.clone()).unwrap();
    let results = results.results;
    assert_eq!(results.len(), 11);
    let action = |i: usize| results[i].action.to_string();
    let first = results[0].id.unwrap();
    assert_eq!(action(0), "created");
    for i in [1, 3, 8, 9] {
        assert_eq!(action(i), "error", "item {i}");
        assert_eq!(results[i].id, None);
        assert_eq!(results[i].error.as_deref(), Some(NOT_AN_OBJECT), "item {i}");
    }
    assert_eq!(
        (action(2), results[2].id),
        ("reengaged".to_owned(), Some(first))
    );
    for (i, field) in [
        (4, "phone_number"),
        (5, "email"),
        (6, "us_state"),
        (7, "lead_type"),
    ] {
        assert_eq!(action(i), "error", "item {i}");
        assert_eq!(results[i].id, None);
        let message = results[i].error.clone().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "item {i}: {message}"
        );
    }
    assert_eq!(action(10), "created");
    let last = results[10].id.unwrap();
    assert!(last > first);
    // Per-result shape on the wire: errors carry `id: null`, successes no error.
    assert_eq!(
        body["results"][1],
        json!({"id": null, "action": "error", "error": NOT_AN_OBJECT})
    );
    assert_eq!(body["results"][0].get("error"), None);

    let stored = env
        .client
        .leads_retrieve()
        .id(last)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.phone_number.as_deref(), Some("+18045550127"));
    assert_eq!(stored.email.as_deref(), Some("c@example.com"));
    let metadata = stored.metadata.unwrap();
    assert_eq!(metadata.get("favourite_colour"), Some(&json!("teal")));
    assert_eq!(env.state.lock().len(), 2);
    env.finish();
}

#[tokio::test]
async fn duplicates_within_a_batch_and_across_batches() {
    let env = Env::new().await;
    let first = bulk(
        &env,
        vec![
            lead("+18045550170", "d@example.com"),
            lead("8045550170", "d@example.com"),
            lead("+18045550170", "e@example.com"),
        ],
    )
    .await;
    let id = first[0].id.unwrap();
    assert_eq!(first[0].action.to_string(), "created");
    assert_eq!(
        (first[1].action.to_string(), first[1].id),
        ("reengaged".to_owned(), Some(id))
    );
    assert_eq!(
        first[2].action.to_string(),
        "created",
        "another e-mail is another identity"
    );
    assert_ne!(first[2].id, Some(id));

    let second = bulk(
        &env,
        vec![
            lead("(804) 555-0170", "d@example.com"),
            lead("+18045550171", "d@example.com"),
        ],
    )
    .await;
    assert_eq!(
        (second[0].action.to_string(), second[0].id),
        ("reengaged".to_owned(), Some(id))
    );
    assert_eq!(second[1].action.to_string(), "created");
    let ids = [id, first[2].id.unwrap(), second[1].id.unwrap()];
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");

    let stored = env
        .client
        .leads_retrieve()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.reengagement_count, Some(2));
    assert_eq!(stored.reengagements_count, Some(2));
    assert!(stored.reengagement_time.is_some() && stored.last_reengagement_time.is_some());
    env.finish();
}

#[tokio::test]
async fn empty_batch_answers_no_results() {
    let env = Env::new().await;
    assert!(bulk(&env, vec![]).await.is_empty());
    assert_eq!(env.state.lock().len(), 0);
    env.finish();
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_and_stores_nothing() {
    let env = Env::new().await;
    let anonymous = env.anonymous();
    let refused = anonymous
        .leads_bulk_create_create()
        .body(types::BulkCreateLeadRequestRequest {
            leads: vec![lead("+18045550180", "t@example.com")],
        })
        .send()
        .await
        .unwrap_err();
    match refused {
        api::Error::ErrorResponse(body) => {
            assert_eq!(body.status().as_u16(), 401);
            assert_eq!(
                body.into_inner().detail(),
                Some("Authentication credentials were not provided.")
            );
        }
        other => panic!("expected 401, got {other:?}"),
    }
    for header in [
        "Token wrong-token",
        "Bearer test-token-0123456789",
        "Token",
        "Token a b",
    ] {
        let response = reqwest::Client::new()
            .get(env.url("/api/leads/"))
            .header(AUTHORIZATION, header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{header}");
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].is_string(), "{body}");
    }
    let retrieve = anonymous.leads_retrieve().id(1).send().await.unwrap_err();
    assert_eq!(status_of(&retrieve), Some(401));
    assert_eq!(
        env.state.lock().len(),
        0,
        "a refused request stored something"
    );
    // The same lead, authorised, is created.
    let created = bulk(&env, vec![lead("+18045550180", "t@example.com")]).await;
    assert_eq!(created[0].action.to_string(), "created");
    env.finish();
}

#[tokio::test]
async fn malformed_bulk_bodies_are_400_with_json() {
    let env = Env::new().await;
    for (body, field) in [
        (json!({}), "leads"),
        (json!({"leads": "x"}), "leads"),
        (json!({"leads": {"phone_number": "+18045550190"}}), "leads"),
        (json!({"leads": 7}), "leads"),
        (json!({"leads": null}), "leads"),
        (
            json!([{"phone_number": "+18045550190"}]),
            "non_field_errors",
        ),
    ] {
        let (status, answer) = env.post_raw("/api/leads/bulk-create/", &body).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.get(field).is_some(), "{body} -> {answer}");
    }
    for (content_type, raw) in [
        ("application/json", "{\"leads\": ["),
        ("application/json", "not json"),
        ("application/x-www-form-urlencoded", "leads=1"),
    ] {
        let response = env
            .http
            .post(env.url("/api/leads/bulk-create/"))
            .header(CONTENT_TYPE, content_type)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{raw}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["detail"].is_string(), "{answer}");
    }
    assert_eq!(
        env.state.lock().len(),
        0,
        "a malformed request stored something"
    );
    env.finish();
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_like_django_rest_framework() {
    let env = Env::new().await;
    let not_found = env.http.get(env.url("/api/nothing/")).send().await.unwrap();
    assert_eq!(not_found.status().as_u16(), 404);
    let body: Value = not_found.json().await.unwrap();
    assert_eq!(body, json!({"detail": "Not found."}));

    let not_allowed = env
        .http
        .delete(env.url("/api/leads/1/"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_allowed.status().as_u16(), 405);
    let allow = not_allowed
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        allow.contains("GET") && allow.contains("PATCH") && !allow.contains("DELETE"),
        "{allow}"
    );
    let body: Value = not_allowed.json().await.unwrap();
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));

    let get_bulk = env
        .http
        .get(env.url("/api/leads/bulk-create/"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bulk.status().as_u16(), 405);
    let non_integer = env
        .http
        .get(env.url("/api/leads/abc/"))
        .send()
        .await
        .unwrap();
    assert_eq!(non_integer.status().as_u16(), 404);
    env.finish();
}

// ---------------------------------------------------------------------------
// The conformance checker itself must be able to fail
// ---------------------------------------------------------------------------

#[test]
fn the_conformance_check_rejects_answers_outside_the_spec() {
    let ok =
        br#"{"results":[{"id":1,"action":"created"},{"id":null,"action":"error","error":"x"}]}"#;
    assert!(
        conformance_errors(
            "POST",
            "/api/leads/bulk-create/",
            200,
            "application/json",
            ok
        )
        .is_empty()
    );
    for (status, body) in [
        (200, &br#"{"results":[{"id":1,"action":"made"}]}"#[..]),
        (200, br#"{"results":[{"id":"1","action":"created"}]}"#),
        (200, br#"{"result":[]}"#),
        (202, br#"{"results":[]}"#),
        (400, br#"{"detail": 5}"#),
        (200, b"not json"),
    ] {
        let errors = conformance_errors(
            "POST",
            "/api/leads/bulk-create/",
            status,
            "application/json",
            body,
        );
        assert!(
            !errors.is_empty(),
            "{status} {}",
            String::from_utf8_lossy(body)
        );
    }
    let lead = br#"{"id": 1, "created_time": "yesterday"}"#;
    assert!(!conformance_errors("GET", "/api/leads/1/", 200, "application/json", lead).is_empty());
    let nullable = br#"{"id": 1, "email": null, "metadata": null, "lead_type": null}"#;
    assert!(
        conformance_errors("GET", "/api/leads/1/", 200, "application/json", nullable).is_empty()
    );
    let page = br#"{"count": 1, "next": "not a uri", "previous": null, "results": []}"#;
    assert!(!conformance_errors("GET", "/api/leads/", 200, "application/json", page).is_empty());
    assert!(
        !conformance_errors(
            "GET",
            "/api/leads/",
            200,
            "text/html",
            br#"{"count":0,"results":[]}"#
        )
        .is_empty()
    );
}

// ---------------------------------------------------------------------------
// The Sandbox type itself
// ---------------------------------------------------------------------------

fn client_for(sandbox: &Sandbox) -> api::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Token {}", sandbox.token())).unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    // The generated client appends `/api/...` to the base URL as given.
    api::Client::new_with_client(sandbox.base_url().trim_end_matches('/'), http)
}

#[tokio::test]
async fn sandbox_serves_the_issue_example() {
    let sandbox = Sandbox::start();
    let base = sandbox.base_url();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with('/'),
        "{base}"
    );
    assert!(
        !format!("{sandbox:?}").contains(sandbox.token()),
        "Debug prints the token"
    );
    assert!(
        !format!("{:?}", sandbox.state()).contains(sandbox.token()),
        "Debug prints the token"
    );
    assert!(sandbox.token().len() >= 32);
    assert_ne!(
        sandbox.token(),
        Sandbox::start().token(),
        "tokens are not random"
    );

    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}api/leads/bulk-create/"))
        .header(AUTHORIZATION, format!("Token {}", sandbox.token()))
        .json(&json!({"leads": [
            {"phone_number": "+18045550123", "email": "a@example.com"},
            7,
            {"phone_number": "+18045550123", "email": "a@example.com"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        conformance_errors(
            "POST",
            "/api/leads/bulk-create/",
            200,
            &content_type,
            &bytes
        ),
        Vec::<String>::new()
    );
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let id = body["results"][0]["id"].as_i64().unwrap();
    assert_eq!(
        body,
        json!({"results": [
            {"id": id, "action": "created"},
            {"id": null, "action": "error", "error": "Each lead must be a JSON object."},
            {"id": id, "action": "reengaged"},
        ]})
    );
    let stored = client_for(&sandbox)
        .leads_retrieve()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.phone_number.as_deref(), Some("+18045550123"));
    assert_eq!(stored.email.as_deref(), Some("a@example.com"));

    let anonymous = http
        .get(format!("{base}api/leads/{id}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

#[tokio::test]
async fn sandbox_on_a_chosen_port_with_a_chosen_token_and_a_log() {
    // Find a free port, then let the sandbox bind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    let state = SandboxState::new("chosen-token")
        .on_request(move |log| sink.lock().unwrap().push(log.to_string()));
    let sandbox = Sandbox::start_from_state(state.clone(), Some(port));
    assert_eq!(sandbox.base_url(), format!("http://127.0.0.1:{port}/"));
    assert_eq!(sandbox.token(), "chosen-token");

    let client = client_for(&sandbox);
    let results = client
        .leads_bulk_create_create()
        .body(types::BulkCreateLeadRequestRequest {
            leads: vec![
                lead("+18045550191", "log@example.com"),
                lead("+18045550191", "log@example.com"),
            ],
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(results.len(), 2);
    let page = client
        .leads_list()
        .page_size(1)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.count, 1);
    assert_eq!(page.next, None);
    assert_eq!(
        state.lock().len(),
        1,
        "the caller's state is the served one"
    );

    // A second sandbox cannot take the same port.
    assert!(Sandbox::try_start_with(Some(port), None).is_err());

    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        vec![
            "POST /api/leads/bulk-create/ 200 created=1 reengaged=1 rejected=0".to_owned(),
            "GET /api/leads/ 200".to_owned(),
        ]
    );
    assert!(lines.iter().all(|l| !l.contains("chosen-token")));
}

// ---------------------------------------------------------------------------
// What the contract needs of the sandbox: formats, overlong numbers, list
// count, concurrency, read-back of every field, and the optional knobs
// ---------------------------------------------------------------------------

/// POSTs `leads` to a running sandbox; `(status, headers, body)`.
async fn post_bulk(
    http: &reqwest::Client,
    sandbox: &Sandbox,
    leads: Value,
) -> (u16, HeaderMap, Value) {
    let response = http
        .post(format!("{}api/leads/bulk-create/", sandbox.base_url()))
        .header(AUTHORIZATION, format!("Token {}", sandbox.token()))
        .json(&json!({ "leads": leads }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

async fn get_json(http: &reqwest::Client, sandbox: &Sandbox, path: &str) -> (u16, Value) {
    let response = http
        .get(format!("{}{path}", sandbox.base_url()))
        .header(AUTHORIZATION, format!("Token {}", sandbox.token()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn one_identity_across_formats_and_overlong_numbers_refused() {
    let sandbox = Sandbox::start();
    let http = reqwest::Client::new();
    let formats = [
        "+18045550123",
        "(804) 555-0123",
        "804-555-0123",
        "8045550123",
        "1 804 555 0123",
    ];
    let leads: Vec<Value> = formats
        .iter()
        .map(|p| json!({"phone_number": p, "email": "f@example.com"}))
        .chain([
            json!({"phone_number": "+180455501234", "email": "o@example.com"}),
            json!({"phone_number": "+1 (804) 555-01239", "email": "o@example.com"}),
        ])
        .collect();
    let (status, _, body) = post_bulk(&http, &sandbox, Value::Array(leads)).await;
    assert_eq!(status, 200);
    let results = body["results"].as_array().unwrap();
    let id = results[0]["id"].as_i64().unwrap();
    assert_eq!(results[0]["action"], "created");
    for r in &results[1..formats.len()] {
        assert_eq!(*r, json!({"id": id, "action": "reengaged"}));
    }
    for r in &results[formats.len()..] {
        assert_eq!(r["action"], "error", "{r}");
        assert!(r["error"].as_str().unwrap().starts_with("phone_number: "));
    }
    // Nothing cut to ten digits was stored: one lead, in E.164.
    let (_, page) = get_json(&http, &sandbox, "api/leads/").await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["phone_number"], "+18045550123");
}

#[tokio::test]
async fn list_count_grows_by_created_leads_only() {
    let sandbox = Sandbox::start();
    let http = reqwest::Client::new();
    let mut expected = 0;
    for round in 0..3 {
        let leads = json!([
            {"phone_number": format!("+1804555010{round}"), "email": "c@example.com"},
            {"phone_number": "+18045550199", "email": "same@example.com"},
            {"phone_number": "911"},
            null,
        ]);
        let (_, _, body) = post_bulk(&http, &sandbox, leads).await;
        let created = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "created")
            .count();
        assert_eq!(created, if round == 0 { 2 } else { 1 }, "{body}");
        expected += created;
        let (_, page) = get_json(&http, &sandbox, "api/leads/").await;
        assert_eq!(page["count"], json!(expected), "round {round}");
    }
}

#[tokio::test]
async fn concurrent_requests_create_each_identity_once() {
    let sandbox = Sandbox::start();
    let http = reqwest::Client::new();
    let batch = json!([
        {"phone_number": "+12025550101", "email": "x@example.com"},
        {"phone_number": "(202) 555-0102", "email": "y@example.com"},
        {"phone_number": "202-555-0101", "email": "x@example.com"},
    ]);
    let sends = (0..8).map(|_| post_bulk(&http, &sandbox, batch.clone()));
    let answers = futures::future::join_all(sends).await;
    let mut created = std::collections::BTreeMap::<i64, usize>::new();
    let mut ids = std::collections::BTreeSet::new();
    for (status, _, body) in &answers {
        assert_eq!(*status, 200);
        for r in body["results"].as_array().unwrap() {
            let id = r["id"].as_i64().unwrap();
            ids.insert(id);
            if r["action"] == "created" {
                *created.entry(id).or_default() += 1;
            }
        }
    }
    assert_eq!(ids.len(), 2, "two identities, two leads: {answers:?}");
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    assert_eq!(created.len(), 2);
    assert_eq!(sandbox.state().lock().len(), 2);
}

#[tokio::test]
async fn every_field_reads_back_as_sent() {
    let sandbox = Sandbox::start();
    let http = reqwest::Client::new();
    let item = json!({
        "phone_number": "(804) 555-0177",
        "email": "rb@example.com",
        "external_id": "run-7-0",
        "lead_source": "harness",
        "us_state": "DC",
        "lead_type": 2,
        "representative": "12",
        "metadata": {"loan_amount": 250000, "ratio": 0.25, "vip": true, "tags": ["a"], "n": null},
        "favourite_colour": "teal",
    });
    let (_, _, body) = post_bulk(&http, &sandbox, json!([item])).await;
    let id = body["results"][0]["id"].as_i64().unwrap();
    let (status, lead) = get_json(&http, &sandbox, &format!("api/leads/{id}/")).await;
    assert_eq!(status, 200);
    assert_eq!(lead["phone_number"], "+18045550177");
    for field in ["email", "external_id", "lead_source", "us_state"] {
        assert_eq!(lead[field], item[field], "{field}");
    }
    assert_eq!(lead["lead_type"], 2);
    assert_eq!(lead["representative"], 12);
    for (key, value) in item["metadata"].as_object().unwrap() {
        assert_eq!(&lead["metadata"][key], value, "metadata.{key}");
    }
    assert_eq!(lead["metadata"]["favourite_colour"], "teal");
}

#[tokio::test]
async fn size_limit_refuses_whole_batches_and_stores_nothing() {
    let state = SandboxState::new("limit-token").with_options(SandboxOptions {
        max_batch: Some(100),
        oversize_status: 413,
        ..SandboxOptions::default()
    });
    let sandbox = Sandbox::start_from_state(state, None);
    let http = reqwest::Client::new();
    let items = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"phone_number": format!("+1212555{:04}", 100 + i % 100), "email": format!("s{i}@example.com")}))
            .collect()
    };
    let (status, _, body) = post_bulk(&http, &sandbox, items(101)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["leads"][0].as_str().unwrap().contains("100"), "{body}");
    assert_eq!(
        sandbox.state().lock().len(),
        0,
        "a refused batch stored leads"
    );
    let (status, _, body) = post_bulk(&http, &sandbox, items(100)).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"].as_array().unwrap().len(), 100);
    assert_eq!(sandbox.state().lock().len(), 100);
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_and_does_not_act() {
    let state = SandboxState::new("throttle-token").with_options(SandboxOptions {
        throttle_every: Some(3),
        retry_after: Some(2),
        ..SandboxOptions::default()
    });
    let sandbox = Sandbox::start_from_state(state, None);
    let http = reqwest::Client::new();
    // Unauthenticated requests are refused before throttling and not counted.
    let anonymous = http
        .get(format!("{}api/leads/", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let leads = json!([{"phone_number": format!("+1212555010{i}")}]);
        let (status, headers, body) = post_bulk(&http, &sandbox, leads).await;
        if status == 429 {
            assert_eq!(headers["retry-after"], "2");
            assert!(body["detail"].as_str().unwrap().contains("throttled"));
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
    assert_eq!(sandbox.state().lock().len(), 4, "a throttled request acted");
}
