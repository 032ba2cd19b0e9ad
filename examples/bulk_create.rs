//! The documented two-lead bulk request, in Rust, printing each lead's outcome.
//!
//! Run against a sandbox (`cargo xtask sandbox --port 8787` prints its token):
//! `SELA_BASE_URL=http://127.0.0.1:8787/ SELA_API_KEY=<token> cargo run --example bulk_create`

use sela_leads::api::types::{LeadRequest, UsState};
use sela_leads::{BulkOutcome, Client, Metadata};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let metadata = Metadata::new()
        .with("first_name", "First")
        .with("last_name", "Name")
        .with("timezone", "America/Los_Angeles")
        .with("property_address", "123 Main St")
        .with("property_city", "San Francisco")
        .with("property_state", "California")
        .with("property_zip", "94101")
        .with("address", "456 2nd St")
        .with("city", "Los Angeles")
        .with("state", "California")
        .with("zip", "90001");
    let first = LeadRequest::try_from(
        LeadRequest::builder()
            .phone_number("+18042221111")
            .email(Some("first_name@trysela.com".to_owned()))
            .metadata(Some(metadata.clone()))
            .external_id(Some("id_in_your_crm_123".to_owned()))
            .lead_source(Some("USDALoans.com".to_owned()))
            .us_state(Some(UsState::Ca)),
    )?;
    let mortgage = metadata
        .with("property_value", 725000)
        .with("loan_amount", 450000)
        .with("loan_purpose", "refinance")
        .with("va_indicator", false);
    let second = LeadRequest {
        metadata: Some(mortgage),
        ..first.clone()
    };

    let leads = [first, second];
    for (lead, outcome) in leads.iter().zip(client.bulk_create(&leads).await?) {
        match outcome {
            BulkOutcome::Created { id } => println!("{}: created as lead {id}", lead.phone_number),
            BulkOutcome::Reengaged { id } => {
                println!("{}: re-engaged lead {id}", lead.phone_number)
            }
            BulkOutcome::Rejected { message } => {
                println!("{}: rejected: {message}", lead.phone_number)
            }
        }
    }
    Ok(())
}
