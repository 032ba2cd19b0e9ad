//! Values the documentation does not rule out, through the generated `api()`
//! client and the hand-written layer: an undocumented bulk `action`, an
//! `error` that is not a string, a 2xx other than 200/201, an explicit `null`
//! in a PATCH, and request enum values the documented lists lack.

use httpmock::Method::{PATCH, POST};
use httpmock::MockServer;
use sela_leads::api::types::{BulkCreateLeadRequestRequest, LeadRequest, PatchedLeadRequest};
use sela_leads::{
    BulkCreateLeadAction, BulkOutcome, Client, Error, LeadStatus, Nullable, StatusReason,
};
use serde_json::{Value, json};

fn client(server: &MockServer) -> Client {
    Client::new(&server.base_url(), "test-token").unwrap()
}

fn leads(n: usize) -> Vec<LeadRequest> {
    (0..n)
        .map(|i| LeadRequest::new(format!("+1804555010{i}")).build().unwrap())
        .collect()
}

/// A server answering every bulk create with `status` and `body`.
async fn bulk_server(status: u16, body: Value) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/leads/bulk-create/");
            then.status(status)
                .header("content-type", "application/json")
                .json_body(body);
        })
        .await;
    server
}

#[tokio::test]
async fn the_generated_client_keeps_an_undocumented_action_as_other() {
    let server = bulk_server(
        200,
        json!({"results": [{"id": 1, "action": "created"}, {"id": 2, "action": "updated"}]}),
    )
    .await;
    let client = client(&server);
    let answer = client
        .api()
        .leads_bulk_create_create()
        .body(BulkCreateLeadRequestRequest { leads: leads(2) })
        .send()
        .await
        .expect("the whole answer decodes");
    let actions: Vec<&BulkCreateLeadAction> = answer.results.iter().map(|r| &r.action).collect();
    assert_eq!(
        actions,
        [
            &BulkCreateLeadAction::Created,
            &BulkCreateLeadAction::Other("updated".into())
        ]
    );
    assert_eq!(answer.results[1].id, Some(2));
    // The hand-written layer faults that item only; the other keeps its id.
    let Err(Error::BulkMismatch(mismatch)) = client.bulk_create(&leads(2)).await else {
        panic!("an undocumented action is a mismatch of its item");
    };
    assert_eq!(mismatch.index, Some(1));
    assert_eq!(
        mismatch.matched().collect::<Vec<_>>(),
        [(0, &BulkOutcome::Created { id: 1 })]
    );
}

#[tokio::test]
async fn the_generated_client_keeps_an_error_that_is_a_field_map() {
    let error = json!({"phone_number": ["Enter a valid phone number."]});
    let server = bulk_server(
        201,
        json!({"results": [{"id": 7, "action": "created"}, {"id": null, "action": "error", "error": error}]}),
    )
    .await;
    let client = client(&server);
    let answer = client
        .api()
        .leads_bulk_create_create()
        .body(BulkCreateLeadRequestRequest { leads: leads(2) })
        .send()
        .await
        .expect("the whole answer decodes");
    let kept = answer.results[1].error.as_ref().expect("the error is kept");
    assert_eq!(kept.as_value(), &error);
    let outcomes = client.bulk_create(&leads(2)).await.unwrap();
    assert_eq!(
        outcomes,
        [
            BulkOutcome::Created { id: 7 },
            BulkOutcome::Rejected {
                message: "phone_number: Enter a valid phone number.".into()
            }
        ]
    );
}

#[tokio::test]
async fn a_207_bulk_answer_is_read_as_its_results_by_both_clients() {
    let server = bulk_server(
        207,
        json!({"results": [{"id": 3, "action": "reengaged"}, {"id": null, "action": "error", "error": "Invalid."}]}),
    )
    .await;
    let client = client(&server);
    let answer = client
        .api()
        .leads_bulk_create_create()
        .body(BulkCreateLeadRequestRequest { leads: leads(2) })
        .send()
        .await
        .expect("a 2xx with the results decodes");
    assert_eq!(answer.status().as_u16(), 207);
    assert_eq!(answer.results.len(), 2);
    assert_eq!(
        client.bulk_create(&leads(2)).await.unwrap(),
        [
            BulkOutcome::Reengaged { id: 3 },
            BulkOutcome::Rejected {
                message: "Invalid.".into()
            }
        ]
    );
}

#[tokio::test]
async fn a_202_without_results_is_a_decode_error_that_keeps_status_and_body() {
    let server = bulk_server(202, json!({"detail": "Queued as job 81."})).await;
    let client = client(&server);
    let error = client.bulk_create(&leads(1)).await.unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_eq!(error.status(), Some(202));
    assert!(
        error.body().unwrap().contains("Queued as job 81."),
        "{error:?}"
    );
    // Not resendable: the server may have acted.
    assert!(!error.is_retryable());
    // The generated client keeps the bytes of the body it could not decode.
    match client
        .api()
        .leads_bulk_create_create()
        .body(BulkCreateLeadRequestRequest { leads: leads(1) })
        .send()
        .await
    {
        Err(sela_leads::api::Error::InvalidResponsePayload(bytes, _)) => {
            assert!(String::from_utf8_lossy(&bytes).contains("Queued as job 81."));
        }
        other => panic!("expected an undecodable payload, got {other:?}"),
    }
}

#[tokio::test]
async fn a_create_answered_202_with_a_lead_gives_the_lead() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/leads/");
            then.status(202).json_body(json!({"id": 9}));
        })
        .await;
    let lead = client(&server)
        .create_lead(&leads(1)[0])
        .await
        .expect("a 2xx with a lead body is the lead");
    assert_eq!(lead.id, 9);
}

/// A server answering PATCH `/api/leads/1/` only when the body is exactly `body`.
async fn patch_server(body: Value) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(PATCH).path("/api/leads/1/").json_body(body);
            then.status(200).json_body(json!({"id": 1}));
        })
        .await;
    server
}

#[tokio::test]
async fn a_patch_sends_an_explicit_null_through_both_clients() {
    let server = patch_server(json!({"metadata": null, "status_reason": null})).await;
    let client = client(&server);
    let patch = PatchedLeadRequest::new()
        .clear_metadata()
        .clear_status_reason()
        .build()
        .unwrap();
    assert_eq!(client.update_lead(1, &patch).await.unwrap().id, 1);
    let generated = PatchedLeadRequest {
        metadata: Some(Nullable::Null),
        status_reason: Some(Nullable::Null),
        ..Default::default()
    };
    let answer = client
        .api()
        .leads_partial_update()
        .id(1)
        .body(generated)
        .send()
        .await
        .expect("the body holds both nulls");
    assert_eq!(answer.id, 1);
}

#[tokio::test]
async fn a_patch_leaves_out_what_it_does_not_set_and_sends_values_the_lists_lack() {
    let server = patch_server(json!({"status": "LATE_CALLBACK", "status_reason": "AGENT"})).await;
    let patch = PatchedLeadRequest::new()
        .status(LeadStatus::other("LATE_CALLBACK").unwrap())
        .status_reason(StatusReason::other("AGENT").unwrap())
        .build()
        .unwrap();
    assert_eq!(client(&server).update_lead(1, &patch).await.unwrap().id, 1);
}
