//! What a concurrent group (S5) asks the target alone, besides the group: the
//! list before a group that lists (what its list page is judged
//! against), and how the target's PUT treats the do-not-contact flags it is
//! not sent (asked only when a group's verdict depends on it).

use serde_json::{Value, json};

use super::account::Account;
use super::group_requests::{list_page, put_body};
use super::ops::Listed;
use crate::checker::Harness;
use crate::checker::operations::reads::lead_of;
use crate::checker::operations::walk::Walk;
use crate::checker::operations::{UPDATE_PATH, lead_path, ok_body, shortened};
use crate::target::Auth;

impl Harness<'_> {
    /// The account's list as one page of `page_size`, just before a group:
    /// `None` (the group's list is not judged) when it is not a page of
    /// distinct ids, or is a whole page (no `next`) whose results disagree
    /// with its `count`. A list that is wrong with nothing else in flight is
    /// L1's or A3's, not a concurrency fault.
    pub(super) fn list_before(&mut self, w: &mut Walk, page_size: u64) -> Option<Listed> {
        let ex = self
            .net
            .send("GET", &list_page(page_size), Auth::Token, None);
        w.log.push(shortened(&ex));
        let body = ex.response_value().filter(|_| ex.status == Some(200))?;
        let count = body.get("count")?.as_u64()?;
        let part = body.get("next").is_some_and(|n| !n.is_null());
        let ids: Vec<i64> = body
            .get("results")?
            .as_array()?
            .iter()
            .map(|l| l.get("id").and_then(Value::as_i64))
            .collect::<Option<_>>()?;
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let whole = !part && ids.len() as u64 == count;
        (distinct.len() == ids.len() && (part || whole)).then_some(Listed { ids, count, whole })
    }

    /// Whether the target's PUT keeps the do-not-contact flags it is not
    /// sent: lead `slot`'s flags are set to true (as the harness may only
    /// ever set them), then a PUT alone matching its phone and e-mail that
    /// does not send them, then the lead is read. Returns the answer and the
    /// lead as read after; `None` when either cannot be read. Sent only when
    /// a group's verdict depends on it, once per case, on a lead of the run:
    /// the harness still sends no flag false, but on a target whose PUT
    /// resets them the flags of that lead end false (as after any PUT of
    /// the sequences there).
    pub(super) fn put_keeps_flags(
        &mut self,
        w: &mut Walk,
        acc: &Account,
        slot: usize,
    ) -> Option<(bool, Value)> {
        let path = lead_path(acc.leads[slot].id);
        let flags = json!({"call_dnc": true, "sms_dnc": true});
        let set = self.call(&mut w.log, "PATCH", &path, Auth::Token, Some(&flags));
        ok_body(&set)?;
        let body = put_body(acc, slot, &[("lead_source", json!("seq-put-alone"))]);
        let put = self.call(&mut w.log, "PUT", UPDATE_PATH, Auth::Token, Some(&body));
        ok_body(&put)?;
        let read = self.call(&mut w.log, "GET", &path, Auth::Token, None);
        let lead = lead_of(&read)?;
        let keeps = ["call_dnc", "sms_dnc"]
            .iter()
            .all(|f| lead.get(*f) == Some(&Value::Bool(true)));
        Some((keeps, lead))
    }
}
