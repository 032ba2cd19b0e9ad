//! The update steps of a walk: PUT by match (U2), PATCH (U1), the
//! do-not-contact flag kept through a re-engagement (R2), and an identity
//! moved by PATCH (U3).

use serde_json::{Map, Value, json};

use super::reads::{Read, may_be_before};
use super::walk::{Walk, lead_identity, stale_detail, unchanged};
use super::{LEADS_PATH, Scenario, UPDATE_PATH, counter, lead_path, ok_body, refused};
use crate::checker::Harness;
use crate::checker::stored::{json_eq, same_phone};
use crate::report::Clause;
use crate::target::Auth;
use sela_leads::rules::Identity;

impl Harness<'_> {
    /// Sends a write (`PATCH`, `PUT`) of a walk or sequence: `clause` fails
    /// (with `part`) unless the answer is 2xx with a JSON body, saying "`what`
    /// was answered STATUS"; `None` then. A 2xx alone does not count as
    /// `clause` held: the read-back that follows judges it.
    pub(super) fn write(
        &mut self,
        w: &mut Walk,
        method: &'static str,
        path: &str,
        body: &Value,
        (clause, part): (Clause, &str),
        what: String,
    ) -> Option<()> {
        let ex = self.call(&mut w.log, method, path, Auth::Token, Some(body));
        if ok_body(&ex).is_none() {
            let status = ex.status.unwrap_or(0);
            w.fail(clause, part, format!("{what} was answered {status}"));
            return None;
        }
        Some(())
    }

    /// U2: a PUT matching A's phone and e-mail changes A and not H; a PUT
    /// matching nothing is refused and stores nothing.
    pub(super) fn put_match(
        &mut self,
        w: &mut Walk,
        (a_id, a_lead): (i64, &Value),
        phone: &str,
        email: &str,
        h_id: i64,
        h_lead: &Value,
    ) -> Option<Value> {
        let source = format!("put-{a_id}");
        let body = json!({"phone_number": phone, "email": email, "lead_source": source});
        self.write(
            w,
            "PUT",
            UPDATE_PATH,
            &body,
            (Clause::U2, "match"),
            format!("a PUT matching lead {a_id}'s phone and e-mail"),
        )?;
        let want = json!(source);
        // A PUT may replace the fields it does not send (U2 asserts only which
        // lead it changes): only the sent field is compared.
        let a_lead = match self.read_lead_after(
            &mut w.log,
            (Clause::U2, a_id, Auth::Token),
            |l| l.get("lead_source") == Some(&want),
            |l| may_be_before(a_lead, l, &["lead_source"]),
        ) {
            Read::Unreadable => return None,
            Read::Agrees(l) => {
                w.out.check(Clause::U2);
                l
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(a_id, "a PUT"));
                return None;
            }
            Read::Differs(l, _) => {
                let why = l.map_or("cannot be read".to_owned(), |l| {
                    format!(
                        "reads back lead_source {}",
                        l.get("lead_source").unwrap_or(&Value::Null)
                    )
                });
                w.fail(
                    Clause::U2,
                    "match",
                    format!("after a PUT of lead_source {want} matching lead {a_id}, it {why}"),
                );
                return None;
            }
        };
        w.out.check(Clause::G1);
        // The household neighbour is unchanged.
        let h_was = h_lead.clone();
        match self.read_lead(&mut w.log, Clause::U2, h_id, Auth::Token, |l| {
            unchanged(&h_was, l, &[]).is_none()
        }) {
            Read::Unreadable => {}
            Read::Agrees(_) => {}
            Read::Stale(_) => w.fail(Clause::G1, "fresh", stale_detail(h_id, "a PUT")),
            Read::Differs(l, _) => w.fail(
                Clause::U2,
                "neighbour",
                format!(
                    "a PUT matching lead {a_id} (phone and e-mail) changed lead {h_id}, which \
                     shares the phone number with another e-mail: {}",
                    l.map_or("it cannot be read".to_owned(), |l| unchanged(
                        &h_was,
                        &l,
                        &[]
                    )
                    .unwrap_or_default())
                ),
            ),
        }
        // No match: refused, nothing stored.
        let (_, nobody) = self.ids.fresh_pair();
        let before = self.baseline();
        let body = json!({"phone_number": phone, "email": nobody, "lead_source": "no-match"});
        let ex = self.call(&mut w.log, "PUT", UPDATE_PATH, Auth::Token, Some(&body));
        let no_match_refused = refused(&ex);
        if !no_match_refused {
            if ok_body(&ex).is_some() {
                self.quota.created += 1;
            }
            w.fail(
                Clause::U2,
                "no match",
                format!(
                    "a PUT whose phone and e-mail match no lead was answered {}, not refused",
                    ex.status.unwrap_or(0)
                ),
            );
        }
        self.expect_count(w, before, 0, Clause::U2, "a PUT that matches no lead");
        // A no-match PUT that was not refused may have changed lead A (a PUT
        // matched on the phone alone does): the walk goes on from A as it is
        // now, not from the lead read before it (else U1 is blamed next).
        no_match_refused.then_some(a_lead)
    }

    /// A PATCH of lead `id` that must be refused with `want`, else U1 fails
    /// (with `part`), saying "`what` was answered STATUS, not WANT".
    fn patch_refused(
        &mut self,
        w: &mut Walk,
        id: i64,
        body: &Value,
        (want, part): (u16, &str),
        what: String,
    ) {
        let ex = self.call(&mut w.log, "PATCH", &lead_path(id), Auth::Token, Some(body));
        if ex.status != Some(want) {
            let got = ex.status.unwrap_or(0);
            w.fail(
                Clause::U1,
                part,
                format!("{what} was answered {got}, not {want}"),
            );
        }
    }

    /// U1: PATCH changes the sent fields and nothing else; an unknown id is
    /// 404; an invalid value is 400 and changes nothing.
    pub(super) fn patch_partial(
        &mut self,
        w: &mut Walk,
        id: i64,
        fields: &[(String, Value)],
        ext: &str,
        before: Value,
    ) -> Option<Value> {
        let mut body = Map::new();
        for (k, v) in fields {
            let v = if k == "external_id" {
                json!(format!("{ext}-patched"))
            } else {
                v.clone()
            };
            body.insert(k.clone(), v);
        }
        let body = Value::Object(body);
        self.write(
            w,
            "PATCH",
            &lead_path(id),
            &body,
            (Clause::U1, "partial"),
            format!("PATCH of lead {id} with {body}"),
        )?;
        let sent: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let agrees =
            |l: &Value| patched(&body, l).is_none() && unchanged(&before, l, &sent).is_none();
        let after =
            match self.read_lead_after(&mut w.log, (Clause::U1, id, Auth::Token), agrees, |l| {
                may_be_before_patch(&body, &before, l)
            }) {
                Read::Unreadable => return None,
                Read::Agrees(l) => {
                    w.out.check(Clause::U1);
                    w.out.check(Clause::G1);
                    l
                }
                Read::Stale(_) => {
                    w.fail(Clause::G1, "fresh", stale_detail(id, "a PATCH"));
                    return None;
                }
                Read::Differs(l, _) => {
                    let why = l.map_or("cannot be read".to_owned(), |l| {
                        patched(&body, &l)
                            .or_else(|| unchanged(&before, &l, &sent))
                            .unwrap_or_default()
                    });
                    w.fail(
                        Clause::U1,
                        "partial",
                        format!("after PATCH {body} of lead {id}: {why}"),
                    );
                    return None;
                }
            };
        self.note_metadata_merge(&body, &before, &after);
        // An unknown id: 404, nothing created.
        let count = self.baseline();
        let unknown = 9_007_199_254_740_000 + id.rem_euclid(991);
        self.patch_refused(
            w,
            unknown,
            &json!({"lead_source": "no-such-lead"}),
            (404, "unknown id"),
            format!("PATCH of id {unknown}, which does not exist,"),
        );
        self.expect_count(w, count, 0, Clause::U1, "a PATCH of an unknown id");
        // An invalid value: 400, nothing changed.
        self.patch_refused(
            w,
            id,
            &json!({"us_state": "ZZ"}),
            (400, "invalid value"),
            format!("PATCH of lead {id} with us_state \"ZZ\""),
        );
        let was = after.clone();
        match self.read_lead(&mut w.log, Clause::U1, id, Auth::Token, |l| {
            unchanged(&was, l, &[]).is_none()
        }) {
            Read::Unreadable => None,
            Read::Agrees(l) => Some(l),
            Read::Stale(_) => Some(after),
            Read::Differs(l, _) => {
                w.fail(
                    Clause::U1,
                    "invalid value",
                    format!(
                        "a PATCH of lead {id} with an invalid us_state changed it: {}",
                        l.map_or("it cannot be read".to_owned(), |l| unchanged(&was, &l, &[])
                            .unwrap_or_default())
                    ),
                );
                None
            }
        }
    }

    /// R2: after `flag` is set true by PATCH, a re-engagement that does not
    /// mention it leaves it true (and adds one to the counter, R1).
    pub(super) fn dnc_survives(
        &mut self,
        w: &mut Walk,
        sc: &Scenario,
        id: i64,
        resend: &Value,
        count: &mut Option<i64>,
        before: Value,
    ) -> Option<Value> {
        let flag = sc.flag;
        let body = json!({ flag: true });
        self.write(
            w,
            "PATCH",
            &lead_path(id),
            &body,
            (Clause::U1, "partial"),
            format!("PATCH of lead {id} with {body}"),
        )?;
        let _ = before;
        let lead = self.read_as(w, id, Clause::U1, "partial", |l| {
            l.get(flag) == Some(&Value::Bool(true))
        })?;
        if !sc.reengage_single {
            // This walk re-engages by bulk only, in its last step.
            return Some(lead);
        }
        let reengaged = self.resend_single(w, resend, id, 1);
        // R2 (and R1) count only once a read judged them.
        let want = count.and_then(|c| Some(c + reengaged?));
        let ok = |l: &Value| {
            l.get(flag) == Some(&Value::Bool(true)) && (want.is_none() || counter(l) == want)
        };
        match self.read_lead(&mut w.log, Clause::R2, id, Auth::Token, ok) {
            Read::Unreadable => None,
            Read::Agrees(l) => {
                w.out.check(Clause::R2);
                if want.is_some() {
                    w.out.check(Clause::R1);
                }
                *count = if want.is_some() { want } else { counter(&l) };
                Some(l)
            }
            Read::Stale(_) => {
                w.fail(Clause::G1, "fresh", stale_detail(id, "its re-engagement"));
                None
            }
            Read::Differs(l, _) => {
                let l = l.unwrap_or(lead);
                if l.get(flag) != Some(&Value::Bool(true)) {
                    w.fail(
                        Clause::R2,
                        "keeps do-not-contact",
                        format!(
                            "lead {id} had {flag} set true; after a re-engagement by single \
                             create of an item that does not mention it, it reads back {flag} {}",
                            l.get(flag).unwrap_or(&Value::Null)
                        ),
                    );
                } else {
                    // The flag was kept: R2 judged and held.
                    w.out.check(Clause::R2);
                    w.out.check(Clause::R1);
                    w.fail(
                        Clause::R1,
                        "counter",
                        format!(
                            "lead {id} was re-engaged {} time(s) from counter {} but reads back {}",
                            reengaged.unwrap_or(0),
                            count.unwrap_or(0),
                            counter(&l).map_or("none".to_owned(), |c| c.to_string())
                        ),
                    );
                }
                None
            }
        }
    }

    /// U3: after a PATCH moves lead `id` to a new e-mail (or phone), the new
    /// identity re-engages it or is refused, and the old one is created anew.
    pub(super) fn move_identity(
        &mut self,
        w: &mut Walk,
        sc: &Scenario,
        id: i64,
        phone: &str,
        email: &str,
        before: Value,
    ) {
        let (new_phone, new_email) = self.ids.fresh_pair();
        let (patch, new) = if sc.move_email {
            (
                json!({"email": new_email}),
                Identity {
                    phone: phone.to_owned(),
                    email: Some(new_email.clone()),
                },
            )
        } else {
            (
                json!({"phone_number": new_phone}),
                Identity {
                    phone: new_phone.clone(),
                    email: Some(email.to_owned()),
                },
            )
        };
        let old = Identity {
            phone: phone.to_owned(),
            email: Some(email.to_owned()),
        };
        if self
            .write(
                w,
                "PATCH",
                &lead_path(id),
                &patch,
                (Clause::U1, "partial"),
                format!("PATCH of lead {id} with {patch}"),
            )
            .is_none()
        {
            return;
        }
        let moved = new.clone();
        let _ = before;
        let Some(_) = self.read_as(w, id, Clause::U1, "partial", |l| {
            lead_identity(l).as_ref() == Some(&moved)
        }) else {
            return;
        };
        // The ledger follows the move: the old identity is free again, and the
        // end-of-run read-back check leaves the moved lead alone.
        self.readback.read_ok.retain(|(i, _)| *i != id);
        self.ledger.created.remove(&old);
        self.ledger.created.insert(new.clone(), id);
        self.ledger.ids.insert(id);
        w.out.check(Clause::U3);
        let created_before = self.quota.created;
        let what = if sc.move_email {
            "e-mail"
        } else {
            "phone number"
        };
        let new_item = json!({"phone_number": new.phone, "email": new.email});
        let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&new_item));
        match ok_body(&ex).map(|b| b.get("id").and_then(Value::as_i64)) {
            None if refused(&ex) => {}
            Some(Some(i)) if i == id => {}
            got => {
                if let Some(Some(_)) = got {
                    self.quota.created += 1;
                }
                w.fail(
                    Clause::U3,
                    "new identity",
                    format!(
                        "lead {id}'s {what} was changed by PATCH; a single create of the new \
                         identity must answer lead {id} or be refused, but was answered {} {}",
                        ex.status.unwrap_or(0),
                        got.flatten()
                            .map_or(String::new(), |i| format!("with id {i}"))
                    ),
                );
            }
        }
        let old_item = json!({"phone_number": old.phone, "email": old.email});
        let ex = self.call(&mut w.log, "POST", LEADS_PATH, Auth::Token, Some(&old_item));
        match ok_body(&ex).and_then(|b| b.get("id").and_then(Value::as_i64)) {
            Some(i) if i != id => {
                self.quota.created += 1;
                self.ledger.record_created(Some(old), i);
            }
            got => w.fail(
                Clause::U3,
                "old identity",
                format!(
                    "lead {id}'s {what} was changed by PATCH; a single create of its old \
                     identity must create a new lead, but was answered {}{}",
                    ex.status.unwrap_or(0),
                    got.map_or(String::new(), |i| format!(" with id {i}, the moved lead"))
                ),
            ),
        }
        // The run knows what it created: a re-read of the count could lag.
        self.count
            .grew((self.quota.created - created_before) as u64);
    }

    /// Records whether a PATCH of `metadata` merged or replaced the keys not
    /// sent (observed, not asserted).
    pub(super) fn note_metadata_merge(&mut self, body: &Value, before: &Value, after: &Value) {
        let (Some(Value::Object(sent)), Some(Value::Object(old))) =
            (body.get("metadata"), before.get("metadata"))
        else {
            return;
        };
        let kept = old
            .keys()
            .filter(|k| !sent.contains_key(*k))
            .all(|k| after.get("metadata").and_then(|m| m.get(k)).is_some());
        let o = self.obs_ops();
        if kept { o.merged += 1 } else { o.replaced += 1 }
    }
}

/// Whether `read` may be the lead as it was (`before`) ahead of a PATCH of
/// `body`: what a lagging read would show. Not when it shows every sent
/// field as sent where `before` did not (the write is visible), nor when a
/// sent field reads as neither (see [`may_be_before`]).
pub(super) fn may_be_before_patch(body: &Value, before: &Value, read: &Value) -> bool {
    let sent: Vec<&str> = body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let shows_write = patched(body, read).is_none() && patched(body, before).is_some();
    !shows_write && may_be_before(before, read, &sent)
}

/// How the sent fields of a PATCH do not read back as sent, if they do not.
pub(super) fn patched(body: &Value, lead: &Value) -> Option<String> {
    for (k, v) in body.as_object()? {
        let got = lead.get(k).unwrap_or(&Value::Null);
        let same = match (k.as_str(), v) {
            ("metadata", Value::Object(sent)) => sent
                .iter()
                .all(|(mk, mv)| got.get(mk).is_some_and(|g| json_eq(g, mv))),
            ("phone_number", Value::String(p)) => got.as_str().is_some_and(|g| same_phone(p, g)),
            ("us_state", Value::String(s)) => {
                got.as_str().is_some_and(|g| g.eq_ignore_ascii_case(s))
            }
            ("email", Value::String(s)) => got.as_str().is_some_and(|g| g.eq_ignore_ascii_case(s)),
            _ => json_eq(got, v),
        };
        if !same {
            return Some(format!("sent {k} {v}, reads back {got}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::may_be_before_patch;
    use serde_json::json;

    #[test]
    fn a_read_showing_the_patch_or_a_value_never_written_is_no_older_version() {
        let body = json!({"metadata": {"stage": "patched"}});
        let before = json!({"lead_source": "s", "metadata": {"a": 1}});
        // The lead as it was (a lagging read).
        assert!(may_be_before_patch(&body, &before, &before));
        // The write is visible: whatever else differs, it is no lag.
        let read = json!({"lead_source": "s ", "metadata": {"a": 1, "stage": "patched"}});
        assert!(!may_be_before_patch(&body, &before, &read));
        // A sent string read as neither value.
        let body = json!({"lead_source": "new"});
        assert!(!may_be_before_patch(
            &body,
            &before,
            &json!({"lead_source": "other"})
        ));
        assert!(may_be_before_patch(
            &body,
            &before,
            &json!({"lead_source": "S"})
        ));
        // Already as sent before the PATCH: a read as sent may be either.
        let before = json!({"lead_source": "new"});
        assert!(may_be_before_patch(&body, &before, &before));
    }
}
