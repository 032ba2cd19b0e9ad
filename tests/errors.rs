//! Errors users can act on: every answer's status, body and request id kept,
//! `is_retryable` true only when the server certainly did not act, and the
//! token in no error text.

use httpmock::prelude::*;
use sela_leads::api::types::LeadRequest;
use sela_leads::{Client, Error};
use serde_json::json;

const TOKEN: &str = "s3cr3t-token-value";

fn client(server: &MockServer) -> Client {
    Client::new(&server.base_url(), TOKEN).expect("loopback base URL is accepted")
}

fn lead() -> LeadRequest {
    LeadRequest::new("+18042221111").build().unwrap()
}

async fn error_for(status: u16, body: &str, header: Option<(&str, &str)>) -> Error {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    let header = header.map(|(k, v)| (k.to_owned(), v.to_owned()));
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/leads/bulk-create/");
            let then = then
                .status(status)
                .header("content-type", "application/json")
                .body(body);
            if let Some((k, v)) = header {
                then.header(k, v);
            }
        })
        .await;
    client(&server).bulk_create(&[lead()]).await.unwrap_err()
}

#[tokio::test]
async fn errors_map_to_their_variants() {
    let e = error_for(400, r#"{"leads": ["This field is required."]}"#, None).await;
    match &e {
        Error::BadRequest { fields, .. } => {
            assert_eq!(fields["leads"], vec!["This field is required.".to_owned()])
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("leads: This field is required."),
        "{e}"
    );

    let e = error_for(401, r#"{"detail": "Invalid token."}"#, None).await;
    assert!(
        matches!(&e, Error::Unauthorized { status: 401, detail: Some(d), .. } if d == "Invalid token."),
        "{e:?}"
    );
    let e = error_for(403, r#"{"detail": "Forbidden."}"#, None).await;
    assert!(
        matches!(e, Error::Unauthorized { status: 403, .. }),
        "{e:?}"
    );
    let e = error_for(
        429,
        r#"{"detail": "Throttled."}"#,
        Some(("retry-after", "17")),
    )
    .await;
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 17),
        "{e:?}"
    );
    let e = error_for(503, "upstream down", None).await;
    assert!(
        matches!(&e, Error::Server { status: 503, body, .. } if body == "upstream down"),
        "{e:?}"
    );
    let e = error_for(503, "busy", Some(("retry-after", "5"))).await;
    assert!(
        matches!(e, Error::Server { status: 503, retry_after: Some(d), .. } if d.as_secs() == 5),
        "{e:?}"
    );
    let e = error_for(
        429,
        "{}",
        Some(("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")),
    )
    .await;
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d.is_zero()),
        "an HTTP date in the past means now: {e:?}"
    );
    let e = error_for(418, "teapot", None).await;
    assert!(
        matches!(e, Error::UnexpectedStatus { status: 418, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn undecodable_bodies_are_kept_truncated() {
    let long = format!("<html>{}</html>", "x".repeat(10_000));
    let e = error_for(200, &long, None).await;
    match &e {
        Error::Decode { body, .. } => {
            assert!(body.starts_with("<html>xxx"));
            assert!(body.len() < 2200, "kept {} bytes", body.len());
            assert!(body.contains("bytes in all"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transport_errors_are_typed() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(&format!("http://127.0.0.1:{port}/"), TOKEN).unwrap();
    let e = client.get_lead(1).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(
        e.is_retryable(),
        "the connection never opened: nothing was sent"
    );
    assert_eq!(e.status(), None);
    assert!(!format!("{e} {e:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_timeout_is_not_retryable() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/api/leads/bulk-create/");
            then.status(200)
                .delay(std::time::Duration::from_millis(800));
        })
        .await;
    let client = Client::builder(TOKEN)
        .base_url(server.base_url())
        .timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let e = client.bulk_create(&[lead()]).await.unwrap_err();
    assert!(
        matches!(&e, Error::Transport { source } if source.is_timeout()),
        "{e:?}"
    );
    assert!(!e.is_retryable(), "the server may have created the lead");
}

#[tokio::test]
async fn every_api_error_keeps_its_status_body_and_request_id() {
    let cases = [
        (400, "<html>proxy says no</html>", false),
        (400, r#"{"leads": ["This field is required."]}"#, false),
        (401, r#"{"detail": "Invalid token."}"#, false),
        (403, r#"{"detail": "Forbidden."}"#, false),
        (404, r#"{"detail": "Not found."}"#, false),
        (409, "conflict", false),
        (429, r#"{"detail": "Throttled."}"#, true),
        (500, "boom", false),
        (502, "bad gateway", false),
        (503, "busy", false),
    ];
    for (status, body, retryable) in cases {
        let e = error_for(status, body, Some(("x-request-id", "req-77"))).await;
        assert_eq!(e.status(), Some(status), "{e:?}");
        assert_eq!(e.body(), Some(body), "{e:?}");
        assert_eq!(e.request_id(), Some("req-77"), "{e:?}");
        assert!(e.to_string().contains("req-77"), "{e}");
        assert_eq!(e.is_retryable(), retryable, "{e:?}");
    }
    // A 400 whose body is not JSON is still a 400, never a decode error.
    let e = error_for(400, "<html>proxy says no</html>", None).await;
    assert!(
        matches!(&e, Error::BadRequest { detail: Some(d), fields, request_id: None, .. }
            if d.contains("proxy says no") && fields.is_empty()),
        "{e:?}"
    );
    // The other request id headers, on an operation other than bulk create.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/leads/5/");
            then.status(404)
                .header("x-correlation-id", "corr-5")
                .json_body(json!({"detail": "Not found."}));
        })
        .await;
    let e = client(&server).get_lead(5).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { detail: Some(d), .. } if d == "Not found."),
        "{e:?}"
    );
    assert_eq!(e.request_id(), Some("corr-5"));
    // An undecodable success keeps its status and request id too.
    let e = error_for(200, "not json", Some(("request-id", "r-1"))).await;
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert_eq!((e.status(), e.request_id()), (Some(200), Some("r-1")));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn the_token_never_appears_in_debug_or_error_messages() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let debug = format!(
        "{client:?} {:?} {}",
        sela_leads::ApiToken::new(TOKEN),
        sela_leads::ApiToken::new(TOKEN)
    );
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    for (status, body) in [
        (400, "{}"),
        (401, "{}"),
        (404, "{}"),
        (500, "x"),
        (200, "x"),
    ] {
        let e = error_for(status, body, None).await;
        let text = format!("{e} {e:?}");
        assert!(!text.contains(TOKEN), "{text}");
    }
}
