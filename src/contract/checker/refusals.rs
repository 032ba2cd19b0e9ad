//! Property 3: requests refused as a whole (A1 auth, A2 malformed), then the
//! same leads sent properly must be created (S3).

use std::collections::HashSet;

use proptest::strategy::Strategy;
use serde_json::{Value, json};

use super::case::CaseOutcome;
use super::observations::status_text;
use super::{BULK_PATH, Harness};
use crate::contract::report::Clause;
use crate::contract::strategies::{Category, ItemSpec, Refusal};
use crate::contract::target::Auth;
use crate::sandbox::model::identity;

impl Harness<'_> {
    /// Property 3: requests refused as a whole (A1, A2), then the same leads sent
    /// properly (S3, plus the batch clauses).
    pub(crate) fn run_refusals(
        &mut self,
        strategy: &impl Strategy<Value = (Vec<ItemSpec>, Vec<Refusal>)>,
    ) {
        self.property(strategy, |h, (specs, refusals)| {
            let mut out = CaseOutcome::default();
            let items = h.ids.render(specs);
            let n = items.len();
            // Both the refused requests (if wrongly accepted) and the retry may create.
            if !h.reserve(2 * n) {
                out.skipped = true;
                return out;
            }
            let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
            let good = json!({ "leads": leads }).to_string();
            let mut refused_all = true;
            let mut evidence = Vec::new();
            for r in refusals {
                let (auth, body) = match r {
                    Refusal::MissingToken => (Auth::Missing, good.clone()),
                    Refusal::WrongToken => (
                        Auth::Literal(format!("Token {}", h.wrong_key)),
                        good.clone(),
                    ),
                    Refusal::WrongBareToken => (Auth::Literal(h.wrong_key.clone()), good.clone()),
                    Refusal::NotJson => (Auth::Token, cut_in_half(&good)),
                    Refusal::EmptyBody => (Auth::Token, String::new()),
                    Refusal::BareArray => (Auth::Token, Value::Array(leads.clone()).to_string()),
                    Refusal::NoLeadsKey => (Auth::Token, json!({ "lead": leads }).to_string()),
                    Refusal::LeadsObject => {
                        let obj: serde_json::Map<String, Value> = leads
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i.to_string(), v.clone()))
                            .collect();
                        (Auth::Token, json!({ "leads": obj }).to_string())
                    }
                    Refusal::LeadsString => (Auth::Token, json!({ "leads": good }).to_string()),
                    Refusal::LeadsNull => (Auth::Token, json!({ "leads": null }).to_string()),
                };
                let ex = h.send("POST", BULK_PATH, auth, Some(body));
                for g in &items {
                    if let Some(who) = identity(&g.value) {
                        h.ledger.record_sent(who);
                    }
                }
                let status = ex.status;
                h.obs
                    .refusals
                    .entry(format!("{r:?}"))
                    .or_default()
                    .insert(status_text(&ex));
                if r.is_auth() {
                    if !matches!(status, Some(401 | 403)) {
                        out.fail(
                            Clause::A1,
                            format!("{r:?}: answered {} instead of 401 or 403", status_text(&ex)),
                            &items,
                            vec![ex.clone()],
                        );
                    } else {
                        out.check(Clause::A1);
                    }
                } else if status != Some(400) || ex.response_value().is_none() {
                    out.fail(
                        Clause::A2,
                        format!(
                            "{r:?}: answered {} instead of 400 with a JSON body",
                            status_text(&ex)
                        ),
                        &items,
                        vec![ex.clone()],
                    );
                } else {
                    out.check(Clause::A2);
                }
                if !matches!(status, Some(400 | 401 | 403)) {
                    refused_all = false;
                }
                evidence.push(ex);
            }
            if !refused_all {
                // Something was accepted: what it stored is legitimate; S3 does not apply.
                return out;
            }
            let ex = h.post_batch(&items);
            let res = h.check_bulk(&items, &ex, &mut out, false, &evidence, n);
            if let Some(res) = res {
                out.check(Clause::S3);
                let mut seen = HashSet::new();
                for (i, (g, r)) in items.iter().zip(&res).enumerate() {
                    let Some(who) = identity(&g.value) else {
                        continue;
                    };
                    if g.category == Category::Valid
                        && seen.insert(who)
                        && r.action.as_deref() != Some("created")
                    {
                        let mut all = evidence.clone();
                        all.push(ex.clone());
                        out.fail(
                            Clause::S3,
                            format!(
                                "item {i} was refused as a whole before, yet sending it properly \
                                 now gives {} instead of created",
                                r.action.as_deref().unwrap_or("?")
                            ),
                            &items,
                            all,
                        );
                        break;
                    }
                }
            }
            out
        });
    }
}

/// The first half of `s`, cut on a character boundary (never valid JSON for a
/// non-empty object).
fn cut_in_half(s: &str) -> String {
    let mut at = s.len() / 2;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s[..at].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_in_half_is_never_json() {
        assert!(cut_in_half("{\"a\":\"ééé\"}").len() <= 8);
        assert!(serde_json::from_str::<Value>(&cut_in_half("{\"leads\":[]}")).is_err());
    }
}
