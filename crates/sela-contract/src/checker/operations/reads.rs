//! Reads of one lead after a write: `GET /api/leads/{id}/` within the settle
//! window; when it still disagrees, the listing decides whether the write was
//! lost (the operation's clause fails) or only the read is stale (G1 fails).

use serde_json::Value;

use super::{LEADS_PATH, lead_path};
use crate::checker::Harness;
use crate::checker::stored::{json_eq, same_phone};
use crate::report::Clause;
use crate::target::{Auth, Exchange};

/// Fields a server may change on its own (calls scheduled, touched times):
/// never compared as "unchanged".
pub(super) const VOLATILE: &[&str] = &["modified_time", "next_call_time", "next_call_time_reason"];

/// Most list pages read to find one lead.
const MAX_PAGES: usize = 40;

/// The page size of the first and last pages tried for a lead.
const END_PAGE: usize = 50;

/// Whether `read` may be the lead as it was before a write of `fields`
/// (`before`, as read then): what a lagging read would show. Every written
/// field reads as it did, strings up to case and spacing, objects and
/// arrays not compared (their representation may differ between the list
/// and a read by id), a field not known before taken as read.
pub(super) fn may_be_before(before: &Value, read: &Value, fields: &[&str]) -> bool {
    fields.iter().all(|f| match (before.get(*f), read.get(*f)) {
        (Some(Value::String(a)), Some(Value::String(b))) => {
            a.trim().to_lowercase() == b.trim().to_lowercase()
        }
        (Some(Value::Object(_) | Value::Array(_)), _) | (None, _) => true,
        (Some(a), Some(b)) => json_eq(a, b),
        (Some(_), None) => false,
    })
}

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
    /// Reads lead `id` until `agrees` holds or the settle window passes (a
    /// difference would fail `clause`); the answers go into `log`.
    pub(super) fn read_lead(
        &mut self,
        log: &mut Vec<Exchange>,
        clause: Clause,
        id: i64,
        auth: Auth,
        agrees: impl Fn(&Value) -> bool,
    ) -> Read {
        self.read_lead_after(log, (clause, id, auth), agrees, |_| true)
    }

    /// [`Harness::read_lead`] after a write whose earlier version is known:
    /// a lagging read shows that version (`could_lag`). A first read of a
    /// lead that is neither as written nor as it was is no lag: it is not
    /// waited for.
    pub(super) fn read_lead_after(
        &mut self,
        log: &mut Vec<Exchange>,
        (clause, id, auth): (Clause, i64, Auth),
        agrees: impl Fn(&Value) -> bool,
        could_lag: impl Fn(&Value) -> bool,
    ) -> Read {
        let path = lead_path(id);
        let first = self.net.send("GET", &path, auth.clone(), None);
        let lagless = lead_of(&first).is_some_and(|l| !agrees(&l) && !could_lag(&l));
        let ex = if lagless {
            first
        } else {
            self.settle_read(clause, &path, auth.clone(), first, |ex| {
                lead_of(ex).is_some_and(|l| agrees(&l))
            })
        };
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
            Some(listed) if agrees(&listed) => match lead_of(&ex) {
                // G1 needs a read that shows an older state than the write:
                // one that contradicts the listed lead on a field it shows.
                Some(read) => match contrast(&read, &listed) {
                    Contrast::Contradicts => Read::Stale(listed),
                    // The same state in another representation (case,
                    // nested ids, added metadata keys): the write is there,
                    // and the read's wait showed no difference.
                    Contrast::Same => {
                        self.waits.excuse(clause);
                        Read::Agrees(listed)
                    }
                    // Fields the listing shows are missing from the read:
                    // that read answers no whole lead, B3's to judge.
                    Contrast::Missing => {
                        self.ops.obs.unreadable += 1;
                        Read::Unreadable
                    }
                },
                // A 404 for a lead the listing shows with the write.
                None => Read::Stale(listed),
            },
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

    /// Lead `id` as the listing shows it. The lead read is almost always
    /// one just written, so on a list ordered by id it is on the first or
    /// the last page: small pages at both ends are tried first (a list of
    /// a thousand leads costs two pages of [`END_PAGE`], not all of it);
    /// only when neither holds it is the whole list walked (pages followed
    /// by `next`), whatever the order.
    pub(super) fn find_listed(
        &mut self,
        log: &mut Vec<Exchange>,
        id: i64,
        auth: Auth,
    ) -> Option<Value> {
        let first = self.list_page(log, &format!("{LEADS_PATH}?page_size={END_PAGE}"), &auth)?;
        if let Some(lead) = lead_in(&first, id) {
            return Some(lead);
        }
        let count = first.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
        if count > END_PAGE {
            let last = count.div_ceil(END_PAGE);
            let path = format!("{LEADS_PATH}?page={last}&page_size={END_PAGE}");
            if let Some(lead) = self
                .list_page(log, &path, &auth)
                .and_then(|page| lead_in(&page, id))
            {
                return Some(lead);
            }
        } else if first.get("next").is_none_or(Value::is_null) {
            // The first page was the whole list.
            return None;
        }
        let mut path = format!("{LEADS_PATH}?page_size=1000");
        for _ in 0..MAX_PAGES {
            let page = self.list_page(log, &path, &auth)?;
            if let Some(lead) = lead_in(&page, id) {
                return Some(lead);
            }
            path = self.relative(page.get("next")?.as_str()?)?;
        }
        None
    }

    /// One list page read at `path` (its answer into `log`), when it is a
    /// 200 with a JSON body.
    fn list_page(&mut self, log: &mut Vec<Exchange>, path: &str, auth: &Auth) -> Option<Value> {
        let ex = self.net.send("GET", path, auth.clone(), None);
        log.push(super::shortened(&ex));
        ex.response_value().filter(|_| ex.status == Some(200))
    }

    /// A `next` link as a path under the base URL. A link to another host
    /// (a proxy that names its upstream, `http://internal-lb:8000/...`) is
    /// walked as the SDK walks it: its query on the list's path under the
    /// base URL, so the key never goes elsewhere; the report notes the
    /// link. `None` for a link that is not a URL.
    pub(crate) fn relative(&mut self, next: &str) -> Option<String> {
        let base = self.target.base_url();
        if let Some(rest) = next.strip_prefix(base) {
            return Some(rest.to_owned());
        }
        // A relative link: only a path.
        if next.starts_with('/') && !next.starts_with("//") {
            return Some(next[1..].to_owned());
        }
        let link = url::Url::parse(next).ok()?;
        if self.ops.obs.foreign_next.is_none() {
            self.ops.obs.foreign_next = Some(format!(
                "list pages link `next` to another host ({next}): walked as the SDK does, its \
                 query on {base}{LEADS_PATH}, the key sent to the base URL only"
            ));
        }
        Some(match link.query() {
            Some(q) => format!("{LEADS_PATH}?{q}"),
            None => LEADS_PATH.to_owned(),
        })
    }
}

/// Lead `id` on a list page.
fn lead_in(page: &Value, id: i64) -> Option<Value> {
    page.get("results")?
        .as_array()?
        .iter()
        .find(|l| l.get("id").and_then(Value::as_i64) == Some(id))
        .cloned()
}

/// How a lead read by id compares with the same lead listed.
#[derive(Debug, PartialEq, Eq)]
enum Contrast {
    /// Every field of the listing reads back the same (up to representation).
    Same,
    /// Some field of the listing is missing from the read, none contradicts.
    Missing,
    /// Some field reads back with another value: another state of the lead.
    Contradicts,
}

/// Compares `read` with `listed` field by field, the representation aside
/// (e-mail and state case, a nested `{"id": n}` for `n`, metadata keys the
/// server adds); volatile fields (times the server moves) are left out.
fn contrast(read: &Value, listed: &Value) -> Contrast {
    let (Some(read), Some(listed)) = (read.as_object(), listed.as_object()) else {
        return Contrast::Missing;
    };
    let mut missing = false;
    for (k, want) in listed {
        if VOLATILE.contains(&k.as_str()) {
            continue;
        }
        match read.get(k) {
            None => missing = true,
            Some(got) if !same_field(k, want, got) => return Contrast::Contradicts,
            Some(_) => {}
        }
    }
    if missing {
        Contrast::Missing
    } else {
        Contrast::Same
    }
}

/// One field's value in two representations of the same state.
fn same_field(key: &str, a: &Value, b: &Value) -> bool {
    let nested_id = |v: &Value| v.get("id").cloned().unwrap_or_else(|| v.clone());
    match (key, a, b) {
        ("email" | "us_state", Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        ("phone_number", Value::String(x), Value::String(y)) => same_phone(x, y),
        ("metadata", Value::Object(x), Value::Object(y)) => x
            .iter()
            .all(|(mk, mv)| y.get(mk).is_some_and(|g| json_eq(g, mv))),
        (_, Value::Object(_), _) | (_, _, Value::Object(_)) if !matches!(key, "metadata") => {
            json_eq(&nested_id(a), &nested_id(b))
        }
        _ => json_eq(a, b),
    }
}

/// The lead of a 200 answer.
pub(super) fn lead_of(ex: &Exchange) -> Option<Value> {
    ex.response_value()
        .filter(|v| ex.status == Some(200) && v.is_object())
}

#[cfg(test)]
mod tests {
    use super::{Contrast, contrast, may_be_before};
    use serde_json::json;

    #[test]
    fn another_representation_is_the_same_state() {
        let listed = json!({"email": "a@x.com", "lead_type": 2, "metadata": {"k": 1}, "modified_time": "t1"});
        let read = json!({"email": "A@X.COM", "lead_type": {"id": 2, "name": "t"},
                          "metadata": {"k": 1, "added": "by server"}, "modified_time": "t0"});
        assert_eq!(contrast(&read, &listed), Contrast::Same);
    }

    #[test]
    fn a_field_left_out_is_missing_not_older() {
        let listed =
            json!({"email": "a@x.com", "phone_number": "+15125550100", "lead_source": "new"});
        let read = json!({"lead_source": "new"});
        assert_eq!(contrast(&read, &listed), Contrast::Missing);
    }

    #[test]
    fn another_value_contradicts_even_with_fields_missing() {
        let listed = json!({"email": "a@x.com", "lead_source": "new", "lead_type": 2});
        let read = json!({"lead_source": "old"});
        assert_eq!(contrast(&read, &listed), Contrast::Contradicts);
        let read = json!({"email": "a@x.com", "lead_source": "new", "lead_type": {"id": 3}});
        assert_eq!(contrast(&read, &listed), Contrast::Contradicts);
        let read = json!({"email": "a@x.com", "lead_source": "new", "lead_type": 2, "x": 1});
        assert_eq!(contrast(&read, &listed), Contrast::Same);
    }

    #[test]
    fn a_lead_may_be_before_a_write_only_where_every_written_field_reads_as_it_was() {
        let before = json!({"lead_source": "Old ", "us_state": "CA", "metadata": {"a": 1}});
        // As it was, up to case and spacing: lag could show it.
        let read = json!({"lead_source": "old", "us_state": "CA", "metadata": {"b": 2}});
        assert!(may_be_before(
            &before,
            &read,
            &["lead_source", "us_state", "metadata"]
        ));
        // One written field reads as written: no older version shows it.
        let read = json!({"lead_source": "old", "us_state": "NY"});
        assert!(!may_be_before(&before, &read, &["lead_source", "us_state"]));
        // A value never written.
        let read = json!({"lead_source": "new "});
        assert!(!may_be_before(&before, &read, &["lead_source"]));
        // A field not known before, or missing now.
        assert!(may_be_before(&before, &json!({"email": "e"}), &["email"]));
        assert!(!may_be_before(&before, &json!({}), &["us_state"]));
    }
}
