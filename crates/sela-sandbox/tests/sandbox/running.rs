//! The `Sandbox` type itself.

use std::sync::{Arc, Mutex};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use sela_leads::api::{self, types};
use sela_sandbox::{Sandbox, SandboxState};
use serde_json::{Value, json};

use crate::conformance::*;
use crate::env::*;

// ---------------------------------------------------------------------------
// The Sandbox type itself
// ---------------------------------------------------------------------------

pub(crate) fn client_for(sandbox: &Sandbox) -> api::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Token {}", sandbox.token())).unwrap(),
    );
    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
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

    let http = sela_leads::http_client_builder()
        .expect("TLS setup")
        .build()
        .unwrap();
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
    let stored = retrieve(&client_for(&sandbox), id).await;
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
