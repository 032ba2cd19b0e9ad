//! The running state of one walk ([`Walk`]: its exchanges, its outcome) and
//! the comparisons the walks and the sequences share.

use serde_json::Value;

use super::counter;
use super::reads::VOLATILE;
use crate::checker::case::CaseOutcome;
use crate::checker::stored::{json_eq, same_phone};
use crate::report::Clause;
use crate::target::Exchange;
use sela_leads::rules::{Identity, identity};

/// The running state of one walk: its exchanges (every step is evidence) and
/// its outcome.
#[derive(Default)]
pub(super) struct Walk {
    pub(super) log: Vec<Exchange>,
    pub(super) out: CaseOutcome,
    /// A single create of a known identity created a lead in this walk.
    pub(super) dedup_broken: bool,
}

impl Walk {
    #[track_caller]
    pub(super) fn fail(&mut self, clause: Clause, part: &str, detail: String) {
        let steps = self
            .log
            .iter()
            .enumerate()
            .map(|(i, ex)| (format!("step {} {}", i + 1, ex.method), ex.request_json()))
            .collect();
        self.out
            .fail_labelled(clause, part, detail, steps, self.log.clone());
    }
}

/// A G1 failure's detail.
pub(super) fn stale_detail(id: i64, what: &str) -> String {
    format!(
        "GET /api/leads/{id}/ did not show {what} within the settle window, while the listing \
         already shows it: the read is stale"
    )
}

/// The identity of a stored lead.
pub(super) fn lead_identity(lead: &Value) -> Option<Identity> {
    identity(lead)
}

/// True when a stored lead has the item's phone and e-mail.
pub(super) fn same_identity(lead: &Value, item: &Value) -> bool {
    let phone = |v: &Value| {
        v.get("phone_number")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let email = |v: &Value| {
        v.get("email")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    match (phone(lead), phone(item)) {
        (Some(a), Some(b)) if same_phone(&b, &a) => email(lead) == email(item),
        _ => false,
    }
}

/// How `now` differs from `was` in a field other than `except`, the volatile
/// ones and (for metadata, when sent) its keys; `None` when unchanged.
pub(super) fn unchanged(was: &Value, now: &Value, except: &[&str]) -> Option<String> {
    let (Some(was), Some(now)) = (was.as_object(), now.as_object()) else {
        return Some("is not an object".to_owned());
    };
    for (k, v) in was {
        if except.contains(&k.as_str()) || VOLATILE.contains(&k.as_str()) {
            continue;
        }
        let got = now.get(k).unwrap_or(&Value::Null);
        // The same value in another representation (e-mail or state in
        // another case, metadata keys the server adds) is unchanged.
        let same = match (k.as_str(), v, got) {
            ("email" | "us_state", Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            ("metadata", Value::Object(a), Value::Object(b)) => a
                .iter()
                .filter(|(mk, _)| !crate::checker::stored::exempt(mk))
                .all(|(mk, mv)| b.get(mk).is_some_and(|g| json_eq(g, mv))),
            _ => json_eq(got, v),
        };
        if !same {
            return Some(format!(
                "{k} changed from {v} to {got}, though it was not sent"
            ));
        }
    }
    None
}

/// R1: a lead just created starts at 0. False when the lead shows no counter
/// (nothing to judge).
pub(super) fn starts_at_zero(w: &mut Walk, id: i64, lead: &Value) -> bool {
    let Some(c) = counter(lead) else {
        return false;
    };
    // `starts_at_zero R1` (tests only): a new lead's counter not judged.
    if crate::checker::case::skips("starts_at_zero R1") {
        return true;
    }
    w.out.check(Clause::R1);
    if c != 0 {
        w.fail(
            Clause::R1,
            "starts at 0",
            format!("lead {id} was just created but its re-engagement counter is {c}"),
        );
    }
    true
}
