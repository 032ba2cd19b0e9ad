//! Listing: leads page after page as a `Send + Unpin` stream, `LeadPages` with
//! the total count and a start page, and answers that never sink a page (a
//! malformed time, a non-object `metadata`, one undecodable lead).

use futures::{Stream, StreamExt, TryStreamExt};
use httpmock::prelude::*;
use sela_leads::{Client, Error};
use serde_json::{Value, json};

const TOKEN: &str = "s3cr3t-token-value";
const AUTH: &str = "Token s3cr3t-token-value";

fn client(server: &MockServer) -> Client {
    Client::new(&server.base_url(), TOKEN).expect("loopback base URL is accepted")
}

/// A stored lead as the list sample shows it.
fn list_sample_lead(id: i64) -> Value {
    json!({
        "id": id,
        "email": "first_name@trysela.com",
        "phone_number": "+18042221111",
        "metadata": {"first_name": "First", "state": "California"},
        "modified_time": "2025-02-27T10:15:30.123456-08:00",
        "created_time": "2025-02-27T10:15:30.123456-08:00",
        "status": "OPEN",
        "next_call_time": "2025-02-28T09:00:00-08:00",
        "us_state": "CA",
        "reengagements_count": 0
    })
}

async fn page(server: &MockServer, number: u32, body: Value) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/leads/")
                .query_param("page", number.to_string())
                .header("authorization", AUTH);
            then.status(200).json_body(body);
        })
        .await
}

fn assert_send_unpin<S: Stream + Send + Unpin + 'static>(stream: S) -> S {
    stream
}

#[tokio::test]
async fn listing_follows_next_across_pages_on_the_same_host() {
    let server = MockServer::start_async().await;
    // `next` names another host: only its page number may be used.
    let page1 = page(
        &server,
        1,
        json!({
            "count": 3, "next": "https://api.trysela.com/api/leads/?page=2", "previous": null,
            "results": [list_sample_lead(1), list_sample_lead(2)]
        }),
    )
    .await;
    let page2 = page(
        &server,
        2,
        json!({
            "count": 3, "next": null, "previous": "https://api.trysela.com/api/leads/?page=1",
            "results": [list_sample_lead(3)]
        }),
    )
    .await;
    let client = client(&server);
    let ids: Vec<i64> = client.leads().map_ok(|l| l.id).try_collect().await.unwrap();
    assert_eq!(ids, vec![1, 2, 3]);
    page1.assert_async().await;
    page2.assert_async().await;
}

#[tokio::test]
async fn listing_refuses_a_next_link_that_does_not_advance() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/leads/");
            then.status(200).json_body(json!({
                "count": 9, "next": "https://api.trysela.com/api/leads/?page=1", "previous": null,
                "results": [list_sample_lead(1)]
            }));
        })
        .await;
    let result: Result<Vec<_>, _> = client(&server)
        .lead_pages()
        .page_size(1)
        .into_stream()
        .try_collect()
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Decode {
                status: Some(200),
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn lead_types_decode_the_documented_sample() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/lead-types/")
                .query_param("search", "mort")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({
                "count": 1, "next": null, "previous": null,
                "results": [{"id": 123, "name": "Mortgage", "lead_metadata_fields": [
                    {"key": "first_name", "label": "First name", "helpText": "", "type": "string", "required": true},
                    {"key": "loan_amount", "label": "Loan amount", "helpText": "USD", "type": "number", "required": false}
                ]}]
            }));
        })
        .await;
    let types = client(&server).lead_types(Some("mort")).await.unwrap();
    mock.assert_async().await;
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].lead_metadata_fields[1].key, "loan_amount");
    assert_eq!(types[0].lead_metadata_fields[0].required, Some(true));
}

#[tokio::test]
async fn a_page_with_odd_leads_survives_and_the_listing_goes_on() {
    let server = MockServer::start_async().await;
    let mut typo = list_sample_lead(2);
    // The documentation's own sample: `025-02-28...` (discrepancy 8).
    typo["next_call_time"] = json!("025-02-28T09:00:00-08:00");
    typo["created_time"] = json!("yesterday");
    let mut scalar_metadata = list_sample_lead(3);
    scalar_metadata["metadata"] = json!("Ana, call after 5pm");
    let mut list_metadata = list_sample_lead(4);
    list_metadata["metadata"] = json!([1, {"a": null}]);
    // No id at all: this one lead is an error, its neighbours are not.
    let broken = json!({"phone_number": "+18042221111"});
    page(
        &server,
        1,
        json!({"count": 6, "next": "/api/leads/?page=2", "previous": null,
               "results": [list_sample_lead(1), typo, scalar_metadata, broken, list_metadata]}),
    )
    .await;
    page(
        &server,
        2,
        json!({"count": 6, "next": null, "previous": null, "results": [list_sample_lead(6)]}),
    )
    .await;

    let items: Vec<Result<_, Error>> = assert_send_unpin(client(&server).leads()).collect().await;
    assert_eq!(items.len(), 6, "{items:?}");
    let ok: Vec<i64> = items.iter().flatten().map(|l| l.id).collect();
    assert_eq!(ok, vec![1, 2, 3, 4, 6]);
    match &items[3] {
        Err(Error::Decode {
            reason,
            status: Some(200),
            body,
            ..
        }) => {
            assert!(reason.contains("result 3 of page 1"), "{reason}");
            assert!(
                body.contains("phone_number") && !body.contains("\"count\""),
                "{body}"
            );
        }
        other => panic!("expected a decode error at index 3, got {other:?}"),
    }

    let typo = items[1].as_ref().unwrap();
    let next_call = typo.next_call_time.as_ref().unwrap();
    assert_eq!(next_call.as_str(), "025-02-28T09:00:00-08:00");
    assert_eq!(next_call.time(), None, "kept as text, not parsed");
    assert_eq!(typo.created_time.as_ref().unwrap().as_str(), "yesterday");
    let first = items[0].as_ref().unwrap();
    assert_eq!(
        first
            .created_time
            .as_ref()
            .unwrap()
            .time()
            .unwrap()
            .to_rfc3339(),
        "2025-02-27T18:15:30.123456+00:00"
    );

    let scalar = items[2].as_ref().unwrap().metadata.as_ref().unwrap();
    assert_eq!(scalar.as_value(), &json!("Ana, call after 5pm"));
    assert_eq!(scalar.first_name(), None);
    assert!(scalar.as_object().is_none());
    let list = items[4].as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(list).unwrap()["metadata"],
        json!([1, {"a": null}]),
        "a non-object metadata round-trips as it came"
    );
}

#[tokio::test]
async fn lead_pages_give_the_count_and_start_at_a_page() {
    let server = MockServer::start_async().await;
    let first = page(
        &server,
        1,
        json!({"count": 5, "next": "http://x/api/leads/?page=2", "previous": null, "results": []}),
    )
    .await;
    let third = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/leads/")
                .query_param("page", "3")
                .query_param("page_size", "2")
                .header("authorization", AUTH);
            then.status(200).json_body(json!({
                "count": 5, "next": null, "previous": "http://x/api/leads/?page=2",
                "results": [list_sample_lead(5)]
            }));
        })
        .await;
    let mut pages = client(&server).lead_pages().page_size(2).start_at(3);
    assert_eq!((pages.count(), pages.current_page()), (None, None));
    assert_eq!(pages.next_page_number(), Some(3));
    let page = pages.next_page().await.unwrap().expect("page 3");
    assert_eq!((page.number, page.count, page.leads.len()), (3, 5, 1));
    assert_eq!(page.leads[0].as_ref().unwrap().id, 5);
    assert_eq!(pages.count(), Some(5));
    assert_eq!(pages.current_page(), Some(3));
    assert_eq!(pages.next_page_number(), None);
    assert!(pages.next_page().await.unwrap().is_none());
    first.assert_calls_async(0).await;
    third.assert_calls_async(1).await;

    let e = client(&server)
        .lead_pages()
        .start_at(0)
        .next_page()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
}

#[tokio::test]
async fn a_failed_page_ends_the_stream_after_its_error_and_can_be_retried() {
    let server = MockServer::start_async().await;
    page(
        &server,
        1,
        json!({"count": 2, "next": "/api/leads/?page=2", "previous": null, "results": [list_sample_lead(1)]}),
    )
    .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/leads/")
                .query_param("page", "2");
            then.status(429)
                .header("x-request-id", "req-9")
                .body("slow down");
        })
        .await;
    let items: Vec<_> = client(&server).leads().collect().await;
    assert_eq!(items.len(), 2, "{items:?}");
    let e = items[1].as_ref().unwrap_err();
    assert_eq!((e.status(), e.request_id()), (Some(429), Some("req-9")));
    assert!(e.is_retryable());

    // Page by page, the failed page is fetched again on the next call.
    let mut pages = client(&server).lead_pages();
    pages.next_page().await.unwrap();
    assert!(pages.next_page().await.is_err());
    assert_eq!(pages.next_page_number(), Some(2));
    failing.delete_async().await;
    page(
        &server,
        2,
        json!({"count": 2, "next": null, "previous": null, "results": [list_sample_lead(2)]}),
    )
    .await;
    let second = pages.next_page().await.unwrap().unwrap();
    assert_eq!(second.leads[0].as_ref().unwrap().id, 2);
}
