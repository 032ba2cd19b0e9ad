//! B3 by read-back: the lead stored under result i's id is item i's.

use serde_json::Value;

use super::case::{CaseOutcome, Res};
use super::observations::status_text;
use super::{Harness, ReadBack};
use crate::contract::report::Clause;
use crate::contract::strategies::GenItem;
use crate::contract::target::{Auth, Exchange, send};
use crate::sandbox::model::normalize_phone;

impl Harness<'_> {
    /// B3 by read-back: the lead under result i's id has item i's phone and email.
    pub(super) fn read_back(
        &mut self,
        items: &[GenItem],
        res: &[Res],
        ex: &Exchange,
        out: &mut CaseOutcome,
    ) {
        let wanted: Vec<(usize, i64)> = res
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.action.as_deref(), Some("created" | "reengaged")))
            .filter_map(|(i, r)| r.id.map(|id| (i, id)))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let paths: Vec<String> = wanted
            .iter()
            .map(|(_, id)| format!("api/leads/{id}/"))
            .collect();
        self.requests += paths.len();
        let (client, target) = (&self.client, self.target);
        let answers: Vec<Exchange> = self.rt.block_on(futures::future::join_all(
            paths
                .iter()
                .map(|p| send(client, target, "GET", p, Auth::Token, None)),
        ));
        for ((i, id), got) in wanted.into_iter().zip(answers) {
            let lead = got
                .response_value()
                .filter(|v| v.is_object() && got.status == Some(200));
            let Some(lead) = lead else {
                if self.readback == ReadBack::Available && got.status == Some(404) {
                    out.fail(
                        Clause::B3,
                        format!("result {i} names id {id}, but no lead is stored under it (404)"),
                        items,
                        vec![ex.clone(), got],
                    );
                } else if self.readback == ReadBack::Unknown {
                    self.readback = ReadBack::Unavailable;
                    self.obs.readback.push(format!(
                        "reading a lead back (GET /api/leads/{{id}}/) answered {}: B3 is checked \
                         without read-back",
                        status_text(&got)
                    ));
                    return;
                } else {
                    self.obs.readback.push(format!(
                        "GET /api/leads/{id}/ answered {}",
                        status_text(&got)
                    ));
                }
                continue;
            };
            self.readback = ReadBack::Available;
            let sent = &items[i].value;
            if let Some(why) = stored_mismatch(sent, &lead) {
                out.fail(
                    Clause::B3,
                    format!("result {i} names id {id}, but the lead stored there {why}"),
                    items,
                    vec![ex.clone(), got],
                );
            }
            if res[i].action.as_deref() == Some("created") {
                self.note_folding(sent, &lead);
            }
        }
    }

    fn note_folding(&mut self, sent: &Value, lead: &Value) {
        for key in ["favorite_color", "first_name"] {
            if sent.get(key).is_some() {
                let folded = lead
                    .get("metadata")
                    .and_then(|m| m.get(key))
                    .is_some_and(|v| Some(v) == sent.get(key));
                if folded {
                    self.obs.folded.0 += 1;
                } else {
                    self.obs.folded.1 += 1;
                }
            }
        }
    }
}

/// How the stored lead differs from the item sent, if it does (phone compared
/// after normalisation, e-mail ignoring ASCII case, blank = null).
fn stored_mismatch(sent: &Value, lead: &Value) -> Option<String> {
    let sent_phone = sent
        .get("phone_number")
        .and_then(Value::as_str)
        .unwrap_or("");
    match lead.get("phone_number") {
        Some(Value::String(p)) if same_phone(sent_phone, p) => {}
        Some(other) => {
            return Some(format!(
                "has phone_number {other}, item sent {sent_phone:?}"
            ));
        }
        None => {}
    }
    let norm = |v: Option<&Value>| -> Option<String> {
        v.and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (a, b) = (norm(sent.get("email")), norm(lead.get("email")));
    if lead.get("email").is_some() && a != b {
        return Some(format!(
            "has email {}, item sent {}",
            lead.get("email").unwrap_or(&Value::Null),
            sent.get("email").unwrap_or(&Value::Null)
        ));
    }
    None
}

fn same_phone(sent: &str, stored: &str) -> bool {
    match (normalize_phone(sent), normalize_phone(stored)) {
        (Ok(a), Ok(b)) => a == b,
        _ => {
            let digits = |s: &str| -> String {
                let d: String = s.chars().filter(char::is_ascii_digit).collect();
                match d.strip_prefix('1') {
                    Some(rest) if d.len() == 11 => rest.to_owned(),
                    _ => d,
                }
            };
            digits(sent) == digits(stored)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_lead_comparison() {
        let sent = json!({"phone_number": "(212) 555-0123", "email": "a@example.com"});
        assert_eq!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550123", "email": "A@example.com"})
            ),
            None
        );
        assert!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550124", "email": "a@example.com"})
            )
            .is_some()
        );
        assert!(
            stored_mismatch(
                &sent,
                &json!({"phone_number": "+12125550123", "email": "b@example.com"})
            )
            .is_some()
        );
    }
}
