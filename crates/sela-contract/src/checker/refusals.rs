//! Property 3: requests refused as a whole (A1 with near misses of the token,
//! A2 malformed bodies) and items answered `error`, then the same leads sent
//! properly: they must be created (S3), and the refused requests must not have
//! changed the list count. The requests refused as a whole are sent together.

use proptest::strategy::Strategy;
use serde_json::{Value, json};

use super::case::CaseOutcome;
use super::text::status_text;
use super::waves::Sides;
use super::{BULK_PATH, Harness};
use crate::report::Clause;
use crate::strategies::{Category, GenItem, ItemSpec, Refusal};
use crate::target::{Auth, Exchange};
use sela_leads::rules::identity;

impl Harness<'_> {
    /// Property 3: refusals, then the same leads sent properly (S3, plus the
    /// batch clauses on every answer).
    pub(crate) fn run_refusals(
        &mut self,
        strategy: &impl Strategy<Value = (Vec<ItemSpec>, Vec<Refusal>)>,
    ) {
        self.cases(
            strategy,
            self.config.cases,
            Sides::Lanes,
            |h, (specs, refusals)| {
                let mut out = CaseOutcome::default();
                let items = h.ids.render(specs);
                let n = items.len();
                // The refused requests (if wrongly accepted) and the retry may create.
                if !h.reserve(2 * n) {
                    out.skipped = true;
                    return out;
                }
                let mut evidence = Vec::new();
                // Requests refused as a whole go together, all in flight at once,
                // between one count read before and one after: whichever of them
                // stored something, the count shows it. Items answered `error` go
                // alone, as a batch judged like any other.
                for group in refusals
                    .chunk_by(|a, b| (*a == Refusal::ItemsInvalid) == (*b == Refusal::ItemsInvalid))
                {
                    if group[0] == Refusal::ItemsInvalid {
                        for _ in group {
                            let bad = invalid_twins(&items);
                            let ex = h.post_batch(&bad);
                            h.check_bulk(&bad, &ex, &mut out, &evidence, 0);
                            evidence.push(ex);
                        }
                    } else {
                        evidence.extend(h.send_refusals(group, &items, &mut out));
                    }
                }
                let ex = h.post_batch(&items);
                h.check_bulk(&items, &ex, &mut out, &evidence, n);
                out
            },
        );
    }

    /// The request of refusal `r` of these items: how it authenticates, its
    /// body, and its label in the report.
    fn refusal_request(&self, r: Refusal, items: &[GenItem]) -> (Auth, String, String) {
        let leads: Vec<Value> = items.iter().map(|g| g.value.clone()).collect();
        let good = json!({ "leads": leads }).to_string();
        let (auth, body) = match r {
            Refusal::MissingToken => (Auth::Missing, good),
            Refusal::WrongToken => (Auth::Literal(format!("Token {}", self.wrong_key)), good),
            Refusal::WrongBareToken => (Auth::Literal(self.wrong_key.clone()), good),
            Refusal::NearMiss(k) => {
                let misses = self.target.near_misses();
                let (label, value) = misses[usize::from(k) % misses.len()].clone();
                (Auth::NearMiss { label, value }, good)
            }
            Refusal::NotJson => (Auth::Token, cut_in_half(&good)),
            Refusal::EmptyBody => (Auth::Token, String::new()),
            Refusal::BareArray => (Auth::Token, Value::Array(leads).to_string()),
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
            Refusal::ItemsInvalid => unreachable!("sent as a batch by the caller"),
        };
        let label = match &auth {
            Auth::NearMiss { label, .. } => format!("NearMiss ({label})"),
            _ => format!("{r:?}"),
        };
        (auth, body, label)
    }

    /// Sends requests that must be refused as a whole, all at once, checks A1
    /// or A2 on each, then S3 on the list count (unchanged when every one was
    /// refused). Returns the exchanges in the order of `refusals`.
    fn send_refusals(
        &mut self,
        refusals: &[Refusal],
        items: &[GenItem],
        out: &mut CaseOutcome,
    ) -> Vec<Exchange> {
        let requests: Vec<_> = refusals
            .iter()
            .map(|r| (*r, self.refusal_request(*r, items)))
            .collect();
        let before = self.baseline();
        let exchanges = self.net.send_all(
            requests
                .iter()
                .map(|(_, (auth, body, _))| {
                    (
                        "POST",
                        BULK_PATH.to_owned(),
                        auth.clone(),
                        Some(body.clone()),
                    )
                })
                .collect(),
        );
        let mut all_refused = true;
        for ((r, (_, _, label)), ex) in requests.iter().zip(&exchanges) {
            all_refused &= self.judge_refusal(*r, label, ex, items, out);
        }
        if all_refused {
            self.check_count_unchanged(before, items, &exchanges, out);
        } else {
            // What an accepted one stored is unknown: the count starts afresh.
            self.count.stale();
        }
        exchanges
    }

    /// A1 or A2 on one answer to a request that must be refused as a whole,
    /// and the ledger; true when it was refused.
    fn judge_refusal(
        &mut self,
        r: Refusal,
        label: &str,
        ex: &Exchange,
        items: &[GenItem],
        out: &mut CaseOutcome,
    ) -> bool {
        let status = ex.status;
        self.obs
            .refusals
            .entry(label.to_owned())
            .or_default()
            .insert(status_text(ex));
        if r.is_auth() {
            out.check(Clause::A1);
            if !matches!(status, Some(401 | 403)) {
                out.fail(
                    Clause::A1,
                    if matches!(r, Refusal::NearMiss(_)) {
                        "near miss"
                    } else {
                        "wrong or no token"
                    },
                    format!("{label} answered {} instead of 401 or 403", status_text(ex)),
                    items,
                    vec![ex.clone()],
                );
            }
        } else {
            out.check(Clause::A2);
            if status != Some(400) || ex.response_value().is_none() {
                out.fail(
                    Clause::A2,
                    "malformed body",
                    format!(
                        "{label} answered {} instead of 400 with a JSON body",
                        status_text(ex)
                    ),
                    items,
                    vec![ex.clone()],
                );
            }
        }
        let refused = matches!(status, Some(400 | 401 | 403));
        for g in items {
            if let Some(who) = identity(&g.value) {
                if refused {
                    self.ledger.record_refused(who);
                } else {
                    // Accepted (or no answer): what it stored is legitimate.
                    self.ledger.record_sent(who);
                }
            }
        }
        refused
    }
}

/// The same leads made certainly invalid by a defect that keeps their identity
/// (a state that is not a US code, an id that is not an integer): each must be
/// answered `error` and, per S3, leave no trace.
fn invalid_twins(items: &[GenItem]) -> Vec<GenItem> {
    let defect = |i: usize| match i % 4 {
        0 => ("us_state not a code", "us_state", json!("ZZ")),
        1 => ("us_state not a code", "us_state", json!("California")),
        2 => ("lead_type not an id", "lead_type", json!("abc")),
        _ => ("representative not an id", "representative", json!({})),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let (kind, key, bad) = defect(i);
            let mut value_sent = g.value.clone();
            if let Some(obj) = value_sent.as_object_mut() {
                obj.insert(key.into(), bad);
            }
            GenItem {
                category: Category::Invalid,
                kind,
                value: value_sent,
            }
        })
        .collect()
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
