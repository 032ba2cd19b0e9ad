//! Lists every lead, following the pages, with `SELA_API_KEY` and `SELA_BASE_URL`.

use futures::TryStreamExt;
use sela_leads::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let mut leads = std::pin::pin!(client.leads(Some(100)));
    while let Some(lead) = leads.try_next().await? {
        let status = lead.status.as_deref().unwrap_or("-");
        println!(
            "{}\t{}\t{status}",
            lead.id,
            lead.phone_number.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
