//! The hand-written builders over the generated bodies: setters that take
//! `&str` / `String` / numbers, a `build()` that names the field at fault, and
//! `UsState::Other` as the explicit escape hatch for codes the list lacks.

use httpmock::prelude::*;
use sela_leads::api::types::{
    LeadRequest, LeadStatus, PatchedLeadRequest, UpdateLeadRequestRequest,
};
use sela_leads::{Client, Error, FieldError, Metadata, UsState};
use serde_json::json;

#[test]
fn a_lead_is_one_expression_and_serialises_only_what_was_set() {
    let external_id = String::from("crm-7");
    let lead = LeadRequest::new("+18045550123")
        .email("ana@example.com")
        .external_id(external_id)
        .lead_type(12)
        .representative(3)
        .reengagement_count(0)
        .min_reengagement_days(30)
        .us_state(UsState::Va)
        .meta("first_name", "Ana")
        .meta("loan_amount", 450000)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&lead).unwrap(),
        json!({
            "phone_number": "+18045550123", "email": "ana@example.com", "external_id": "crm-7",
            "lead_type": 12, "representative": 3, "reengagement_count": 0,
            "min_reengagement_days": 30, "us_state": "VA",
            "metadata": {"first_name": "Ana", "loan_amount": 450000}
        })
    );
    assert_eq!(
        LeadRequest::new("+18045550123").build().unwrap(),
        serde_json::from_value(json!({"phone_number": "+18045550123"})).unwrap()
    );
}

#[test]
fn meta_adds_keys_to_metadata_set_as_a_whole() {
    let lead = LeadRequest::new("+18045550123")
        .metadata(Metadata::new().with("first_name", "Ana"))
        .meta("last_name", "Lee")
        .build()
        .unwrap();
    let metadata = lead.metadata.unwrap();
    assert_eq!(
        (metadata.first_name(), metadata.last_name()),
        (Some("Ana"), Some("Lee"))
    );
}

#[test]
fn build_names_the_field_at_fault_without_its_value() {
    let cases: Vec<(Result<LeadRequest, FieldError>, &str)> = vec![
        (LeadRequest::new("  ").build(), "phone_number"),
        (
            LeadRequest::new("+18045550123")
                .email("ana.example.com")
                .build(),
            "email",
        ),
        (
            LeadRequest::new("+18045550123")
                .reengagement_count(-1)
                .build(),
            "reengagement_count",
        ),
        (
            LeadRequest::new("+18045550123")
                .reengagement_count(2_147_483_648)
                .build(),
            "reengagement_count",
        ),
    ];
    for (result, field) in cases {
        let e = result.unwrap_err();
        assert_eq!(e.field, field, "{e}");
        assert!(!e.to_string().contains("ana.example"), "{e}");
        let as_error: Error = e.into();
        assert!(matches!(as_error, Error::InvalidField(_)), "{as_error:?}");
    }
    assert!(
        LeadRequest::new("+18045550123")
            .reengagement_count(2_147_483_647)
            .build()
            .is_ok()
    );
    let e = PatchedLeadRequest::new()
        .phone_number("")
        .build()
        .unwrap_err();
    assert_eq!(e.field, "phone_number");
    let e = UpdateLeadRequestRequest::new("+18045550123")
        .email("nope")
        .build()
        .unwrap_err();
    assert_eq!(e.field, "email");
}

#[test]
fn update_bodies_send_only_the_fields_set() {
    let patch = PatchedLeadRequest::new()
        .status(LeadStatus::Lost)
        .call_dnc(true)
        .sms_dnc(false)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"status": "LOST", "call_dnc": true, "sms_dnc": false})
    );
    let update = UpdateLeadRequestRequest::new("+18045550123")
        .email("ana@example.com")
        .status(LeadStatus::Cancelled)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({"phone_number": "+18045550123", "email": "ana@example.com", "status": "CANCELLED"})
    );
}

#[tokio::test]
async fn a_territory_is_sent_through_the_escape_hatch() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/leads/")
                .json_body(json!({"phone_number": "+17875550123", "us_state": "PR"}));
            then.status(201)
                .json_body(json!({"id": 1, "us_state": "PR"}));
        })
        .await;
    let lead = LeadRequest::new("+17875550123")
        .us_state(UsState::other("PR").unwrap())
        .build()
        .unwrap();
    let client = Client::new(&server.base_url(), "token").unwrap();
    let created = client.create_lead(&lead).await.unwrap();
    mock.assert_async().await;
    assert_eq!(created.us_state.as_deref(), Some("PR"));
    assert_eq!(
        "GU".parse::<UsState>().unwrap(),
        UsState::other("GU").unwrap()
    );
    assert_eq!("TX".parse::<UsState>().unwrap(), UsState::Tx);
    assert!("Texas".parse::<UsState>().is_err());
    // A malformed escape-hatch code cannot even be made.
    assert!(UsState::other("Puerto Rico").is_err());
    assert!(UsState::other("pr").is_err());
}

#[test]
fn named_states_agree_with_the_rules_the_sandbox_and_the_cli_check() {
    // `UsState` (always compiled) names its variants by hand; `sela_leads::rules`
    // holds the list the sandbox, the harness and the CLI's checks use. They
    // must not drift: the named variants are the 50 states and DC, and every
    // code the rules accept can be sent (by name or through the escape hatch).
    let mut named: Vec<&str> = UsState::NAMED.iter().map(UsState::code).collect();
    let mut states: Vec<&str> = sela_leads::rules::US_STATES.to_vec();
    states.push("DC");
    named.sort_unstable();
    states.sort_unstable();
    assert_eq!(named, states);
    for code in sela_leads::rules::US_DISTRICT_AND_TERRITORIES {
        assert!(sela_leads::rules::is_us_state_code(code), "{code}");
        let state: UsState = code.parse().expect(code);
        assert_eq!(state.code(), *code);
    }
}
