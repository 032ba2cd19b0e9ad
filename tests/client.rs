//! The hand-written client against httpmock: every operation's method, path,
//! Token header and body; decoding of the documented samples; bulk mismatches.
//! Error mapping is in `tests/errors.rs`, listing in `tests/listing.rs`.

use httpmock::prelude::*;
use sela_leads::api::types::{
    LeadRequest, LeadStatus, PatchedLeadRequest, UpdateLeadRequestRequest,
};
use sela_leads::{BulkOutcome, Client, Error, Metadata, MismatchFault, UsState};
use serde_json::{Value, json};

const TOKEN: &str = "s3cr3t-token-value";
const AUTH: &str = "Token s3cr3t-token-value";

fn client(server: &MockServer) -> Client {
    Client::new(&server.base_url(), TOKEN).expect("loopback base URL is accepted")
}

/// The first lead of the documented bulk example.
fn documented_lead() -> Value {
    json!({
        "email": "first_name@trysela.com",
        "phone_number": "+18042221111",
        "metadata": {
            "first_name": "First", "last_name": "Name", "timezone": "America/Los_Angeles",
            "property_address": "123 Main St", "property_city": "San Francisco",
            "property_state": "California", "property_zip": "94101",
            "address": "456 2nd St", "city": "Los Angeles", "state": "California", "zip": "90001"
        },
        "external_id": "id_in_your_crm_123",
        "lead_source": "USDALoans.com",
        "lead_type": 123,
        "representative": 456,
        "us_state": "CA"
    })
}

/// A stored lead as the list sample shows it (plural re-engagement spellings).
fn list_sample_lead(id: i64) -> Value {
    json!({
        "id": id,
        "email": "first_name@trysela.com",
        "phone_number": "+18042221111",
        "metadata": {"first_name": "First", "state": "California", "crm_segment": {"tier": 2}},
        "modified_time": "2025-02-27T10:15:30.123456-08:00",
        "created_time": "2025-02-27T10:15:30.123456-08:00",
        "status": "OPEN",
        "status_reason": null,
        "lead_source": "USDALoans.com",
        "lead_type": 123,
        // The sample reads `025-02-28...` (a documented typo, discrepancy 8).
        "next_call_time": "2025-02-28T09:00:00-08:00",
        "next_call_time_reason": "FIRST_CALL",
        "external_id": "id_in_your_crm_123",
        "us_state": "CA",
        "received_time": "2025-02-27T10:15:30.123456-08:00",
        "reengagements_count": 0,
        "last_reengagement_time": null,
        "call_schedule_start_time": null,
        "sms_dnc": false,
        "call_dnc": false
    })
}

/// The create sample: singular spellings, state under `metadata.us_state`, no `status`.
fn create_sample_lead() -> Value {
    json!({
        "id": 28013,
        "email": "first_name@trysela.com",
        "phone_number": "+18042221111",
        "metadata": {"first_name": "First", "us_state": "California", "phone_number": "+18042221111"},
        "modified_time": "2025-02-27T10:15:30.123456-08:00",
        "created_time": "2025-02-27T10:15:30.123456-08:00",
        "status_reason": null,
        "lead_source": "USDALoans.com",
        "lead_type": 123,
        "next_call_time": null,
        "external_id": "id_in_your_crm_123",
        "us_state": "CA",
        "reengagement_count": 0,
        "reengagement_time": null
    })
}

fn lead_request(value: Value) -> LeadRequest {
    serde_json::from_value(value).expect("documented lead decodes as LeadRequest")
}

#[tokio::test]
async fn create_sends_token_user_agent_and_json_and_decodes_the_create_sample() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/leads/")
                .header("authorization", AUTH)
                .header("user-agent", sela_leads::USER_AGENT)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                // openapi.yaml's info.version, as every generated call sends it.
                .header("api-version", "1.0.2")
                .json_body(documented_lead());
            then.status(201).json_body(create_sample_lead());
        })
        .await;
    // The builder writes exactly the documented body: no `Some(..)`, no `to_owned()`.
    let built = LeadRequest::new("+18042221111")
        .email("first_name@trysela.com")
        .metadata(Metadata::from(documented_lead()["metadata"].clone()))
        .external_id("id_in_your_crm_123")
        .lead_source("USDALoans.com")
        .lead_type(123)
        .representative(456)
        .us_state(UsState::Ca)
        .build()
        .unwrap();
    assert_eq!(built, lead_request(documented_lead()));
    let lead = client(&server).create_lead(&built).await.unwrap();
    mock.assert_async().await;
    assert_eq!(lead.id, 28013);
    assert_eq!(lead.status, None, "the create sample has no status");
    assert_eq!(lead.reengagement_count, Some(0));
    let metadata = lead.metadata.expect("metadata");
    assert_eq!(metadata.us_state(), Some("California"));
    assert_eq!(metadata.first_name(), Some("First"));
}

#[tokio::test]
async fn retrieve_decodes_the_list_spelling_and_keeps_unknown_metadata_keys() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/leads/28013/")
                .header("authorization", AUTH);
            then.status(200).json_body(list_sample_lead(28013));
        })
        .await;
    let lead = client(&server).get_lead(28013).await.unwrap();
    mock.assert_async().await;
    assert_eq!(lead.reengagements_count, Some(0));
    assert_eq!(lead.reengagement_count, None);
    assert_eq!(lead.status.as_deref(), Some("OPEN"));
    assert_eq!(lead.next_call_time_reason.as_deref(), Some("FIRST_CALL"));
    let metadata = lead.metadata.clone().expect("metadata");
    assert_eq!(metadata.state(), Some("California"));
    // Round trip: the unknown key comes back out exactly as it came in.
    let reencoded = serde_json::to_value(&lead).unwrap();
    assert_eq!(reencoded["metadata"]["crm_segment"], json!({"tier": 2}));
}

#[tokio::test]
async fn patch_sends_only_the_fields_set() {
    let server = MockServer::start_async().await;
    let mut updated = list_sample_lead(7);
    updated["status"] = json!("CLOSED");
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path("/api/leads/7/")
                .header("authorization", AUTH)
                .json_body(json!({"status": "CLOSED"}));
            then.status(200).json_body(updated);
        })
        .await;
    let patch = PatchedLeadRequest::new()
        .status(LeadStatus::Closed)
        .build()
        .unwrap();
    let lead = client(&server).update_lead(7, &patch).await.unwrap();
    mock.assert_async().await;
    assert_eq!(lead.status.as_deref(), Some("CLOSED"));
}

#[tokio::test]
async fn put_by_match_sends_the_documented_example_and_maps_404() {
    let server = MockServer::start_async().await;
    let body = json!({
        "external_id": "id_in_your_crm_123", "phone_number": "+18042221111",
        "email": "first_name@trysela.com", "status": "LOST", "call_dnc": true
    });
    let found = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/leads/update/")
                .header("authorization", AUTH)
                .json_body(body.clone());
            then.status(200).json_body(list_sample_lead(9));
        })
        .await;
    let update = UpdateLeadRequestRequest::new("+18042221111")
        .email("first_name@trysela.com")
        .external_id("id_in_your_crm_123")
        .status(LeadStatus::Lost)
        .call_dnc(true)
        .build()
        .unwrap();
    assert_eq!(
        update,
        serde_json::from_value::<UpdateLeadRequestRequest>(body.clone()).unwrap()
    );
    let lead = client(&server).update_matching_lead(&update).await.unwrap();
    found.assert_async().await;
    assert_eq!(lead.id, 9);

    let other = MockServer::start_async().await;
    other
        .mock_async(|when, then| {
            when.method(PUT).path("/api/leads/update/");
            then.status(404)
                .json_body(json!({"detail": "No lead matches."}));
        })
        .await;
    let error = client(&other)
        .update_matching_lead(&update)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { detail: Some(d), .. } if d == "No lead matches."),
        "{error:?}"
    );
}

async fn bulk_server(status: u16, body: Value) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/leads/bulk-create/")
                .header("authorization", AUTH);
            then.status(status).json_body(body);
        })
        .await;
    server
}

#[tokio::test]
async fn bulk_create_sends_the_documented_request_and_returns_outcomes_in_order() {
    let server = MockServer::start_async().await;
    let mut second = documented_lead();
    second["metadata"]["loan_amount"] = json!(450000);
    second["metadata"]["va_indicator"] = json!(false);
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/leads/bulk-create/")
                .header("authorization", AUTH)
                .header("content-type", "application/json")
                .header("api-version", "1.0.2")
                .json_body(json!({"leads": [documented_lead(), second.clone()]}));
            then.status(200).json_body(json!({"results": [
                {"id": 123, "action": "created"},
                {"id": 123, "action": "reengaged", "error": null}
            ]}));
        })
        .await;
    let leads = vec![
        lead_request(documented_lead()),
        lead_request(second.clone()),
    ];
    let outcomes = client(&server).bulk_create(&leads).await.unwrap();
    mock.assert_async().await;
    assert_eq!(
        outcomes,
        vec![
            BulkOutcome::Created { id: 123 },
            BulkOutcome::Reengaged { id: 123 }
        ]
    );
}

#[tokio::test]
async fn the_documented_bulk_example_is_a_count_mismatch_not_a_shortened_list() {
    // Two leads sent, three results shown: the documentation's own sample.
    let server = bulk_server(
        200,
        json!({"results": [
            {"id": 123, "action": "created"},
            {"id": 456, "action": "reengaged"},
            {"id": null, "action": "error", "error": "Each lead must be a JSON object."}
        ]}),
    )
    .await;
    let leads = vec![
        lead_request(documented_lead()),
        lead_request(documented_lead()),
    ];
    let error = client(&server).bulk_create(&leads).await.unwrap_err();
    match error {
        Error::BulkMismatch(m) => {
            assert_eq!(m.index, None);
            assert_eq!(
                m.fault,
                MismatchFault::CountDiffers {
                    sent: 2,
                    received: 3
                }
            );
        }
        other => panic!("expected a bulk mismatch, got {other:?}"),
    }
}

async fn mismatch_for(results: Value, sent: usize) -> sela_leads::BulkMismatch {
    let server = bulk_server(200, json!({ "results": results })).await;
    let leads = vec![lead_request(documented_lead()); sent];
    match client(&server).bulk_create(&leads).await {
        Err(Error::BulkMismatch(m)) => m,
        other => panic!("expected a bulk mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn one_result_too_few_is_a_typed_error() {
    let m = mismatch_for(json!([{"id": 1, "action": "created"}]), 2).await;
    assert_eq!(
        m.fault,
        MismatchFault::CountDiffers {
            sent: 2,
            received: 1
        }
    );
}

#[tokio::test]
async fn an_error_that_carries_an_id_is_a_typed_error_naming_its_index() {
    let m = mismatch_for(
        json!([{"id": 4, "action": "created"}, {"id": 5, "action": "error"}]),
        2,
    )
    .await;
    assert_eq!(m.index, Some(1));
    assert_eq!(m.fault, MismatchFault::ErrorWithId { id: 5 });
    assert!(m.to_string().contains("result 1"), "{m}");
}

#[tokio::test]
async fn a_success_without_an_id_is_a_typed_error() {
    let m = mismatch_for(json!([{"action": "reengaged"}]), 1).await;
    assert_eq!(
        (m.index, m.fault),
        (
            Some(0),
            MismatchFault::MissingId {
                action: "reengaged".into()
            }
        )
    );
    let m = mismatch_for(
        json!([{"id": 1, "action": "created"}, {"id": null, "action": "created"}]),
        2,
    )
    .await;
    assert_eq!(
        (m.index, m.fault),
        (
            Some(1),
            MismatchFault::MissingId {
                action: "created".into()
            }
        )
    );
}

#[tokio::test]
async fn an_unknown_action_is_a_typed_error_naming_its_index() {
    let m = mismatch_for(
        json!([{"id": 1, "action": "created"}, {"id": 2, "action": "created"}, {"id": 3, "action": "skipped"}]),
        3,
    )
    .await;
    assert_eq!(
        (m.index, m.fault),
        (
            Some(2),
            MismatchFault::UnknownAction {
                action: "skipped".into()
            }
        )
    );
}

#[tokio::test]
async fn a_success_with_an_error_message_is_a_typed_error() {
    let m = mismatch_for(json!([{"id": 1, "action": "created", "error": "boom"}]), 1).await;
    assert_eq!(
        (m.index, m.fault),
        (
            Some(0),
            MismatchFault::SuccessWithError {
                action: "created".into()
            }
        )
    );
}

#[tokio::test]
async fn raw_batches_send_any_json_and_keep_rejections_at_their_index() {
    let server = MockServer::start_async().await;
    let items = vec![documented_lead(), json!(7), json!({"phone_number": "nope"})];
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/leads/bulk-create/")
                .header("authorization", AUTH)
                .json_body(json!({"leads": items.clone()}));
            then.status(201).json_body(json!({"results": [
                {"id": 10, "action": "created"},
                {"id": null, "action": "error", "error": "Each lead must be a JSON object."},
                {"id": null, "action": "error", "error": "phone_number: Enter a valid phone number."}
            ]}));
        })
        .await;
    let outcomes = client(&server).bulk_create_raw(&items).await.unwrap();
    mock.assert_async().await;
    assert_eq!(outcomes[0], BulkOutcome::Created { id: 10 });
    assert_eq!(
        outcomes[1],
        BulkOutcome::Rejected {
            message: "Each lead must be a JSON object.".into()
        }
    );
    assert!(
        matches!(&outcomes[2], BulkOutcome::Rejected { message } if message.contains("phone_number"))
    );
}

#[tokio::test]
async fn raw_batches_check_the_answer_like_typed_ones() {
    let server = bulk_server(200, json!({"results": [{"id": 3, "action": "error"}]})).await;
    let error = client(&server)
        .bulk_create_raw(&[json!(1)])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BulkMismatch(m) if m.fault == MismatchFault::ErrorWithId { id: 3 }),
        "{error:?}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    for url in [
        "http://api.trysela.com/",
        "http://10.0.0.8:8000/",
        "http://example.com/",
    ] {
        let e = Client::new(url, TOKEN).unwrap_err();
        assert!(matches!(e, Error::InsecureTransport { .. }), "{url}: {e:?}");
        assert!(!e.to_string().contains(TOKEN));
    }
    for url in [
        "http://127.0.0.1:8787/",
        "http://localhost:1/",
        "http://[::1]:8080/",
        "https://api.trysela.com/",
    ] {
        assert!(Client::new(url, TOKEN).is_ok(), "{url}");
    }
    assert!(matches!(
        Client::new("ftp://x/", TOKEN),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::new("not a url", TOKEN),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::new("https://api.trysela.com/", "  "),
        Err(Error::Config(_))
    ));
}

#[test]
fn metadata_round_trips_unknown_keys_and_tolerates_odd_types() {
    let raw = json!({"first_name": "Ana", "zip": 94101, "x-custom": [1, {"a": null}]});
    let metadata: Metadata = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(metadata.first_name(), Some("Ana"));
    let mortgage: Metadata =
        serde_json::from_value(json!({"loan_amount": 450000, "va_indicator": false})).unwrap();
    assert_eq!(mortgage.loan_amount(), Some(450000.0));
    assert_eq!(mortgage.va_indicator(), Some(false));
    assert_eq!(
        metadata.zip(),
        None,
        "a number where a string is documented is kept, not typed"
    );
    assert_eq!(serde_json::to_value(&metadata).unwrap(), raw);
}

#[test]
fn request_enums_carry_the_documented_values() {
    let status: LeadStatus = serde_json::from_value(json!("CANCELLED")).unwrap();
    assert_eq!(status, LeadStatus::Cancelled);
    // A value the list lacks decodes to the escape hatch; `other` checks its shape.
    assert_eq!(
        serde_json::from_value::<LeadStatus>(json!("LATE_CALLBACK")).unwrap(),
        LeadStatus::other("LATE_CALLBACK").unwrap()
    );
    assert!(LeadStatus::other("late callback").is_err());
    assert_eq!(
        serde_json::from_value::<UsState>(json!("CA")).unwrap(),
        UsState::Ca
    );
    // Codes the list lacks decode to the escape hatch; anything else is refused.
    assert_eq!(
        serde_json::from_value::<UsState>(json!("PR")).unwrap(),
        UsState::other("PR").unwrap()
    );
    for bad in [json!("California"), json!("ca"), json!(5)] {
        assert!(serde_json::from_value::<UsState>(bad).is_err());
    }
}
