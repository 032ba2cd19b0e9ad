//! The documented two-lead bulk request, in Rust, printing each lead's outcome.
//!
//! Run against a sandbox (`cargo xtask sandbox --port 8787` prints its token):
//! `SELA_BASE_URL=http://127.0.0.1:8787/ SELA_API_KEY=<token> cargo run --example bulk_create`

use sela_leads::api::types::LeadRequest;
use sela_leads::{BulkOutcome, Client, UsState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let first = LeadRequest::new("+18042221111")
        .email("first_name@trysela.com")
        .external_id("id_in_your_crm_123")
        .lead_source("USDALoans.com")
        .us_state(UsState::Ca)
        .meta("first_name", "First")
        .meta("last_name", "Name")
        .meta("timezone", "America/Los_Angeles")
        .meta("property_address", "123 Main St")
        .meta("property_city", "San Francisco")
        .meta("property_state", "California")
        .meta("property_zip", "94101")
        .meta("address", "456 2nd St")
        .meta("city", "Los Angeles")
        .meta("state", "California")
        .meta("zip", "90001")
        .build()?;
    // The same person with mortgage details: the server re-engages the first lead.
    let mut mortgage = first.metadata.clone().unwrap_or_default();
    mortgage.insert("property_value", 725000);
    mortgage.insert("loan_amount", 450000);
    mortgage.insert("loan_purpose", "refinance");
    mortgage.insert("va_indicator", false);
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
            // The enum is non-exhaustive: later versions may add outcomes.
            other => println!("{}: {other:?}", lead.phone_number),
        }
    }
    Ok(())
}
