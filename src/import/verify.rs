//! Read-back (opt-in, [`Importer::verify`](super::Importer::verify)): the
//! lead stored under each `created` or `reengaged` id must have the phone
//! number and e-mail of the lead sent at that place. The only way to catch an
//! answer whose results are in another order with the right count.

use super::lead::Payload;
use super::outcome::ImportOutcome;
use crate::{BulkMismatch, Client, Error, MismatchFault};
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;

/// Read-back requests in flight at once, per chunk.
const READ_BACK_CONCURRENCY: usize = 8;

/// The phone number and e-mail sent as lead `index` of `payload`.
fn sent(payload: &Payload, index: usize) -> (Option<String>, Option<String>) {
    match payload {
        Payload::Typed(leads) => leads
            .get(index)
            .map(|lead| (Some(lead.phone_number.clone()), lead.email.clone()))
            .unwrap_or_default(),
        Payload::Json(values) => {
            let field = |name| {
                values
                    .get(index)
                    .and_then(|v| v.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            (field("phone_number"), field("email"))
        }
    }
}

/// True when two phone numbers are one: the same digits, or the same but for
/// a leading `1` (`(804) 555-0123` sent, `+18045550123` stored).
fn same_phone(sent: &str, stored: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, b) = (digits(sent), digits(stored));
    !a.is_empty() && (a == b || format!("1{a}") == b || format!("1{b}") == a)
}

/// True when two e-mails are one (case-insensitively; absent and empty alike).
fn same_email(sent: Option<&str>, stored: Option<&str>) -> bool {
    let norm = |e: Option<&str>| e.map(|e| e.trim().to_lowercase()).unwrap_or_default();
    norm(sent) == norm(stored)
}

/// Reads back the lead of every created or re-engaged outcome; a lead whose
/// stored phone or e-mail differs from what was sent at its place, or that
/// cannot be read back, becomes unknown with
/// [`MismatchFault::ReadBackDiffers`] or the read-back error.
pub(super) async fn verify(
    client: &Client,
    payload: &Payload,
    outcomes: Vec<ImportOutcome>,
) -> Vec<ImportOutcome> {
    futures::stream::iter(outcomes.into_iter().enumerate())
        .map(|(index, outcome)| async move {
            let Some(id) = outcome.id() else {
                return outcome;
            };
            let stored = match client.get_lead(id).await {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::error!(%error, id, "read-back failed; outcome unknown");
                    return ImportOutcome::Unknown {
                        error: Arc::new(error),
                    };
                }
            };
            let (phone, email) = sent(payload, index);
            let phone_ok = match (&phone, &stored.phone_number) {
                (Some(sent), Some(stored)) => same_phone(sent, stored),
                _ => false,
            };
            if phone_ok && same_email(email.as_deref(), stored.email.as_deref()) {
                return outcome;
            }
            let fault = MismatchFault::ReadBackDiffers {
                id,
                action: outcome.kind().to_owned(),
            };
            tracing::error!(id, index, "lead read back differs from the lead sent");
            ImportOutcome::Unknown {
                error: Arc::new(Error::BulkMismatch(BulkMismatch::read_back(index, fault))),
            }
        })
        .buffered(READ_BACK_CONCURRENCY)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_emails_compare_as_one_identity() {
        assert!(same_phone("(804) 555-0123", "+18045550123"));
        assert!(same_phone("+1 804 555 0123", "+18045550123"));
        assert!(same_phone("+44 20 7946 0958", "+442079460958"));
        assert!(!same_phone("804-555-0124", "+18045550123"));
        assert!(!same_phone("", ""));
        assert!(same_email(Some("A@Example.com"), Some("a@example.com")));
        assert!(same_email(None, Some("")));
        assert!(!same_email(None, Some("b@example.com")));
        assert!(!same_email(Some("a@example.com"), Some("b@example.com")));
    }
}
