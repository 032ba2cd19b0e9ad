//! What the lead operations send and read: their paths, one request recorded
//! as evidence, and what an answer or a stored lead says.

use serde_json::Value;

use super::record::Obs;
use crate::checker::Harness;
use crate::target::{Auth, Exchange};

/// Path of bulk create.
pub(crate) const BULK: &str = crate::checker::BULK_PATH;
/// Path of the single-create operation (and the list).
pub(crate) const LEADS_PATH: &str = "api/leads/";
/// Path of PUT by phone and e-mail match.
pub(crate) const UPDATE_PATH: &str = "api/leads/update/";

/// `api/leads/{id}/`.
pub(crate) fn lead_path(id: i64) -> String {
    format!("api/leads/{id}/")
}

impl Harness<'_> {
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
        let ex = self
            .net
            .send(method, path, auth, body.map(Value::to_string));
        log.push(shortened(&ex));
        ex
    }
}

/// Longest response body kept in a walk's evidence.
const EVIDENCE_BODY: usize = 4000;

/// The exchange as evidence: a long answer (a list page) cut short.
pub(crate) fn shortened(ex: &Exchange) -> Exchange {
    let mut ex = ex.clone();
    if ex.response.len() > EVIDENCE_BODY {
        let cut: String = ex.response.chars().take(EVIDENCE_BODY).collect();
        ex.response = format!("{cut}... ({} bytes in all)", ex.response.len());
    }
    ex
}

/// The JSON body of a 2xx answer.
pub(crate) fn ok_body(ex: &Exchange) -> Option<Value> {
    ex.status
        .filter(|s| (200..300).contains(s))
        .and_then(|_| ex.response_value())
}

/// True for a 4xx answer (a refusal).
pub(crate) fn refused(ex: &Exchange) -> bool {
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
