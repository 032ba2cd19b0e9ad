//! Reads of one lead after a write: `GET /api/leads/{id}/` within the settle
//! window; when it still disagrees, the listing decides whether the write was
//! lost (the operation's clause fails) or only the read is stale (G1 fails).

use serde_json::Value;

use super::{LEADS_PATH, lead_path};
use crate::contract::checker::Harness;
use crate::contract::target::{Auth, Exchange};

/// Most list pages read to find one lead.
const MAX_PAGES: usize = 40;

/// What a read after a write showed.
pub(super) enum Read {
    /// The lead as read, agreeing with the write.
    Agrees(Value),
    /// `GET` by id still disagreed after the window, but the listing shows the
    /// write: the read path is stale (G1). Carries the listed lead.
    Stale(Value),
    /// Neither shows the write: the lead as read (if any) and the answer.
    Differs(Option<Value>, Exchange),
    /// No lead could be read at all (a read answering 403, 503, garbage):
    /// B3's read-back judges that; the operation is not judged.
    Unreadable,
}

impl Harness<'_> {
    /// Reads lead `id` until `agrees` holds or the settle window passes; the
    /// answers go into `log`.
    pub(super) fn read_lead(
        &mut self,
        log: &mut Vec<Exchange>,
        id: i64,
        auth: Auth,
        agrees: impl Fn(&Value) -> bool,
    ) -> Read {
        let path = lead_path(id);
        let first = self.send("GET", &path, auth.clone(), None);
        let ex = self.settle_read(&path, auth.clone(), first, |ex| {
            lead_of(ex).is_some_and(|l| agrees(&l))
        });
        log.push(super::shortened(&ex));
        if let Some(lead) = lead_of(&ex).filter(|l| agrees(l)) {
            return Read::Agrees(lead);
        }
        if lead_of(&ex).is_none() && ex.status != Some(404) {
            // No lead at all (403, 503, garbage): B3's read-back judges that.
            self.ops.obs.unreadable += 1;
            return Read::Unreadable;
        }
        match self.find_listed(log, id, auth) {
            Some(listed) if agrees(&listed) => Read::Stale(listed),
            _ => match lead_of(&ex) {
                Some(lead) => Read::Differs(Some(lead), ex),
                None if ex.status == Some(404) => Read::Differs(None, ex),
                None => {
                    self.ops.obs.unreadable += 1;
                    Read::Unreadable
                }
            },
        }
    }

    /// Lead `id` as the listing shows it (pages followed by `next`).
    pub(super) fn find_listed(
        &mut self,
        log: &mut Vec<Exchange>,
        id: i64,
        auth: Auth,
    ) -> Option<Value> {
        let mut path = format!("{LEADS_PATH}?page_size=1000");
        for _ in 0..MAX_PAGES {
            let ex = self.send("GET", &path, auth.clone(), None);
            log.push(super::shortened(&ex));
            let page = ex.response_value().filter(|_| ex.status == Some(200))?;
            let found = page
                .get("results")?
                .as_array()?
                .iter()
                .find(|l| l.get("id").and_then(Value::as_i64) == Some(id));
            if let Some(lead) = found {
                return Some(lead.clone());
            }
            path = self.relative(page.get("next")?.as_str()?)?;
        }
        None
    }

    /// A `next` link as a path under the base URL (`None` when it points
    /// elsewhere: the key never goes to another host).
    pub(crate) fn relative(&self, next: &str) -> Option<String> {
        let base = self.target.base_url();
        if let Some(rest) = next.strip_prefix(base) {
            return Some(rest.to_owned());
        }
        // A relative link, or the same host written without the port's
        // default: accept only a path.
        next.strip_prefix('/')
            .filter(|_| !next.starts_with("//"))
            .map(str::to_owned)
    }
}

/// The lead of a 200 answer.
pub(super) fn lead_of(ex: &Exchange) -> Option<Value> {
    ex.response_value()
        .filter(|v| ex.status == Some(200) && v.is_object())
}
