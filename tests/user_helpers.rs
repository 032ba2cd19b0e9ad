//! What a user's own test suite gets: typed httpmock helpers per operation
//! (`mock` feature) and the stateful sandbox with a client in one line
//! (`sandbox` feature).

use httpmock::MockServer;
use sela_leads::api::types::{
    BulkCreateLeadAction, BulkCreateLeadRequestRequest, BulkCreateLeadResponse,
    BulkCreateLeadResult, LeadRequest,
};
use sela_leads::mock::MockServerExt;
use sela_leads::{BulkOutcome, Client};
use sela_sandbox::Sandbox;

fn lead(phone: &str) -> LeadRequest {
    LeadRequest::new(phone).build().unwrap()
}

#[tokio::test]
async fn a_users_test_mocks_bulk_create_with_the_typed_helper() {
    let server = MockServer::start_async().await;
    let leads = vec![lead("+18045550101"), lead("+18045550102")];
    let mock = server.leads_bulk_create_create(|when, then| {
        when.body(&BulkCreateLeadRequestRequest {
            leads: leads.clone(),
        });
        then.ok(&BulkCreateLeadResponse {
            results: vec![
                BulkCreateLeadResult {
                    action: BulkCreateLeadAction::Created,
                    id: Some(1),
                    error: None,
                },
                BulkCreateLeadResult {
                    action: BulkCreateLeadAction::Error,
                    id: None,
                    error: Some("phone_number: invalid".into()),
                },
            ],
        });
    });
    let client = Client::new(&server.base_url(), "test-token").unwrap();
    let outcomes = client.bulk_create(&leads).await.unwrap();
    mock.assert_async().await;
    assert_eq!(outcomes[0], BulkOutcome::Created { id: 1 });
    assert!(matches!(&outcomes[1], BulkOutcome::Rejected { message } if message.contains("phone")));
}

#[tokio::test]
async fn the_sandbox_gives_a_client_in_one_line() {
    let (_sandbox, client) = Sandbox::start_with_client();
    let leads = vec![lead("+18045550103"), lead("+18045550103")];
    let outcomes = client.bulk_create(&leads).await.unwrap();
    let id = match outcomes[0] {
        BulkOutcome::Created { id } => id,
        ref other => panic!("expected created, got {other:?}"),
    };
    assert_eq!(outcomes[1], BulkOutcome::Reengaged { id });
    assert_eq!(
        client.get_lead(id).await.unwrap().phone_number.as_deref(),
        Some("+18045550103")
    );
}
