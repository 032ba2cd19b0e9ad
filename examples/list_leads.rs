//! Lists every lead, following the pages, with `SELA_API_KEY` and `SELA_BASE_URL`.
//! A lead the client cannot read is reported and the listing goes on.

use futures::StreamExt;
use sela_leads::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    let mut pages = client.lead_pages().page_size(100);
    while let Some(page) = pages.next_page().await? {
        eprintln!("page {} of {} leads in all", page.number, page.count);
        for lead in page.leads {
            match lead {
                Ok(lead) => println!(
                    "{}\t{}\t{}",
                    lead.id,
                    lead.phone_number.as_deref().unwrap_or("-"),
                    lead.status.as_deref().unwrap_or("-")
                ),
                Err(error) => eprintln!("unreadable lead: {error}"),
            }
        }
    }
    // Or, as one stream (`Send + Unpin`, no `pin!` needed):
    let mut leads = client.leads();
    let mut unreadable = 0;
    while let Some(lead) = leads.next().await {
        unreadable += usize::from(lead.is_err());
    }
    eprintln!("{unreadable} unreadable leads");
    Ok(())
}
