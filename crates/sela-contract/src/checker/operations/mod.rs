//! The lead operations besides bulk create, on leads the run created itself:
//! single create (C1), PATCH (U1), PUT by match (U2), identity moves (U3),
//! re-engagement (R1, R2), fresh reads (G1), fidelity (B5), the list walk (L1),
//! account isolation (A3) and S2 over time.
//!
//! - `scenario`: one generated case walks a lead through every operation and
//!   checks each answer and each read (C1, U1-U3, R1, R2, G1, B5);
//! - `updates`: the walk's PUT, PATCH, do-not-contact and identity-move steps;
//! - `sequences`: stateful sequences (a reference state machine);
//! - `reads`: reads of a lead within the settle window, a stale read told
//!   apart from a lost write by the listing (G1 versus the operation's clause);
//! - `fidelity`: B5's exact comparison and the values that test it;
//! - `listing`: L1's walk of `GET /api/leads/`;
//! - `accounts`: A3 with the second account's key;
//! - `aging`: S2 over time (identities of the run's start re-sent at its end);
//! - `record`: what the operations keep over the run and observe.
//!
//! Safety against a real account: PATCH and PUT only ever touch leads this run
//! created, `call_dnc` / `sms_dnc` are only ever set to true, every single
//! create is counted against `--max-created`.

mod accounts;
mod aging;
pub(crate) mod fidelity;
mod listing;
mod reads;
pub(super) mod record;
mod scenario;
mod sequences;
mod updates;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::Harness;
use super::readback::ReadBack;
use crate::strategies::PhoneForm;
use crate::target::{Auth, Exchange};
use record::Obs;

/// Path of bulk create.
pub(crate) const BULK: &str = super::harness::BULK_PATH;
/// Path of the single-create operation (and the list).
pub(crate) const LEADS_PATH: &str = "api/leads/";
/// Path of PUT by phone and e-mail match.
pub(crate) const UPDATE_PATH: &str = "api/leads/update/";

/// `api/leads/{id}/`.
pub(crate) fn lead_path(id: i64) -> String {
    format!("api/leads/{id}/")
}

/// One generated walk of a lead through the operations.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Fields a PATCH sends (U1), from the fields a caller may write.
    pub patch: Vec<(String, Value)>,
    /// The US format of the re-sends of the lead's number (C1, R1).
    pub resend_form: PhoneForm,
    /// Concurrent re-sends of the lead (R1: each adds one).
    pub concurrent: usize,
    /// The do-not-contact flag set true (R2).
    pub flag: &'static str,
    /// R2's re-engagement goes through single create (else bulk).
    pub reengage_single: bool,
    /// U3 moves the e-mail address (else the phone number).
    pub move_email: bool,
    /// Which of [`fidelity::challenges`] the lead carries (B5).
    pub fidelity: usize,
}

/// Scenarios: shrinking goes towards one plain PATCH field, one re-send, the
/// first fidelity values.
pub fn scenario() -> BoxedStrategy<Scenario> {
    let field = prop_oneof![
        Just(("lead_source".to_owned(), json!("patched-source"))),
        prop::sample::select(vec!["NY", "TX", "WA", "MT"])
            .prop_map(|s| ("us_state".to_owned(), json!(s))),
        Just(("external_id".to_owned(), json!("patched-ext"))),
        (0i64..1000).prop_map(|n| ("metadata".to_owned(), json!({"stage": "patched", "n": n}))),
    ];
    (
        prop::collection::vec(field, 1..4),
        prop::sample::select(vec![
            PhoneForm::E164,
            PhoneForm::Dashed,
            PhoneForm::Parens,
            PhoneForm::Digits,
            PhoneForm::SpacedOne,
        ]),
        1usize..4,
        prop::sample::select(vec!["call_dnc", "sms_dnc"]),
        any::<bool>(),
        any::<bool>(),
        0..fidelity::challenges().len(),
    )
        .prop_map(
            |(mut patch, resend_form, concurrent, flag, reengage_single, move_email, fidelity)| {
                // One value per field: the last one sent counts.
                let mut seen = std::collections::HashSet::new();
                patch.reverse();
                patch.retain(|(k, _)| seen.insert(k.clone()));
                patch.reverse();
                Scenario {
                    patch,
                    resend_form,
                    concurrent,
                    flag,
                    reengage_single,
                    move_email,
                    fidelity,
                }
            },
        )
        .boxed()
}

impl Harness<'_> {
    /// Property 6: lead operations (C1, U1-U3, R1, R2, G1, B5), then the list
    /// walk (L1), account isolation (A3).
    pub(crate) fn run_operations(&mut self) {
        let cases = (self.config.cases / 4).max(4);
        if self.readback.state == ReadBack::Unavailable {
            // Every operation is judged by reading the lead back.
            self.ops.obs.walks_skipped = true;
            self.quota.skip_property();
        } else {
            self.property(&scenario(), cases, |h, sc| h.walk(sc));
        }
        if self.readback.state != ReadBack::Unavailable {
            self.run_sequences();
        } else {
            self.quota.skip_property();
        }
        self.check_listing();
        self.check_accounts();
    }

    /// The operations' observations.
    pub(super) fn obs_ops(&mut self) -> &mut Obs {
        &mut self.ops.obs
    }

    /// Sends one request with a JSON body (or none), recording it in `log`.
    pub(super) fn call(
        &mut self,
        log: &mut Vec<Exchange>,
        method: &'static str,
        path: &str,
        auth: Auth,
        body: Option<&Value>,
    ) -> Exchange {
        let ex = self.send(method, path, auth, body.map(Value::to_string));
        log.push(shortened(&ex));
        ex
    }
}

/// Longest response body kept in a walk's evidence.
const EVIDENCE_BODY: usize = 4000;

/// The exchange as evidence: a long answer (a list page) cut short.
pub(super) fn shortened(ex: &Exchange) -> Exchange {
    let mut ex = ex.clone();
    if ex.response.len() > EVIDENCE_BODY {
        let cut: String = ex.response.chars().take(EVIDENCE_BODY).collect();
        ex.response = format!("{cut}... ({} bytes in all)", ex.response.len());
    }
    ex
}

/// The JSON body of a 2xx answer.
pub(super) fn ok_body(ex: &Exchange) -> Option<Value> {
    ex.status
        .filter(|s| (200..300).contains(s))
        .and_then(|_| ex.response_value())
}

/// True for a 4xx answer (a refusal).
pub(super) fn refused(ex: &Exchange) -> bool {
    ex.status.is_some_and(|s| (400..500).contains(&s))
}

/// The re-engagement counter of a stored lead (either documented spelling).
pub(crate) fn counter(lead: &Value) -> Option<i64> {
    ["reengagement_count", "reengagements_count"]
        .iter()
        .find_map(|k| lead.get(*k).and_then(Value::as_i64))
}

/// The re-engagement time of a stored lead (either documented spelling).
pub(crate) fn reengaged_at(lead: &Value) -> Option<&str> {
    ["reengagement_time", "last_reengagement_time"]
        .iter()
        .find_map(|k| lead.get(*k).and_then(Value::as_str))
}
