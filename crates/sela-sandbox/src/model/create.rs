//! Creating leads: bulk and single create, where an identity stored already
//! (from an earlier request or earlier in the same batch) is re-engaged under
//! its id, subject to `min_reengagement_days`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::stored::{format_time, new_lead};
use super::{Action, Model, Rejection, checked_body, checked_item, non_field};
use sela_leads::rules::{IntValue, Mode, integer, parse_time};

impl Model {
    /// Bulk create: one result per item, in order: `{"id", "action"}` or
    /// `{"id": null, "action": "error", "error": message}`.
    pub fn bulk_create(&mut self, items: &[Value]) -> Vec<Value> {
        items
            .iter()
            .map(|item| match self.create_item(item) {
                Ok((id, action)) => json!({"id": id, "action": action.as_str()}),
                Err(message) => json!({"id": null, "action": "error", "error": message}),
            })
            .collect()
    }

    /// Creates or re-engages one lead; `Err` is the per-item error message.
    pub fn create_item(&mut self, item: &Value) -> Result<(i64, Action), String> {
        let (obj, identity) = checked_item(item)?;
        let now = self.now();
        if let Some(id) = self.find(&identity) {
            if let Some(days) = obj
                .get("min_reengagement_days")
                .and_then(|v| match integer(v) {
                    IntValue::Int(n) => Some(n),
                    _ => None,
                })
            {
                let lead = self.leads.get(&id);
                let last = lead
                    .and_then(|l| {
                        l.get("reengagement_time")
                            .and_then(Value::as_str)
                            .or_else(|| l.get("created_time").and_then(Value::as_str))
                    })
                    .and_then(parse_time)
                    .unwrap_or(now);
                // A threshold too large for a duration is never reached.
                let too_recent = chrono::Duration::try_days(days)
                    .is_none_or(|threshold| now.signed_duration_since(last) < threshold);
                if too_recent {
                    return Err(format!(
                        "phone_number: a lead with this phone number and email exists and was \
                         engaged less than {days} days ago (min_reengagement_days)."
                    ));
                }
            }
            if let Some(lead) = self.leads.get_mut(&id).map(Arc::make_mut) {
                let count = lead
                    .get("reengagement_count")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    + 1;
                let time = Value::String(format_time(now));
                lead.insert("reengagement_count".into(), json!(count));
                lead.insert("reengagements_count".into(), json!(count));
                lead.insert("reengagement_time".into(), time.clone());
                lead.insert("last_reengagement_time".into(), time.clone());
                lead.insert("modified_time".into(), time);
            }
            return Ok((id, Action::Reengaged));
        }
        let id = self.next_id();
        let lead = new_lead(id, obj, &identity, now);
        self.leads.insert(id, Arc::new(lead));
        self.by_identity.insert(identity, id);
        Ok((id, Action::Created))
    }

    /// Validates `item` and stores it as a new lead even when its identity
    /// exists, as a server without a lock or a unique constraint does; the
    /// identity index keeps the first lead. For fault-injecting test servers:
    /// the sandbox itself never calls it.
    pub fn insert_unchecked(&mut self, item: &Value) -> Result<i64, String> {
        let (obj, identity) = checked_item(item)?;
        let id = self.next_id();
        let lead = new_lead(id, obj, &identity, self.now());
        self.leads.insert(id, Arc::new(lead));
        self.by_identity.entry(identity).or_insert(id);
        Ok(id)
    }

    /// `POST /api/leads/`: the stored lead and whether it was created or
    /// re-engaged.
    pub fn create(&mut self, body: &Value) -> Result<(Value, Action), Rejection> {
        checked_body(body, Mode::Create)?;
        match self.create_item(body) {
            Ok((id, action)) => Ok((self.get(id).unwrap_or(Value::Null), action)),
            Err(message) => Err(Rejection::BadRequest(non_field(&message))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NOT_AN_OBJECT, validate_item};
    use chrono::DateTime;

    fn valid(phone: &str, email: &str) -> Value {
        json!({"phone_number": phone, "email": email})
    }

    #[test]
    fn lead_type_and_representative_accept_integers_and_digit_strings() {
        let item = json!({"phone_number": "+18045550123", "lead_type": "2", "representative": 7});
        assert_eq!(validate_item(&item), Ok(()));
        let mut m = Model::new();
        let (id, _) = m.create_item(&item).unwrap();
        let lead = m.get(id).unwrap();
        assert_eq!(lead["lead_type"], json!(2));
        assert_eq!(lead["representative"], json!(7));
        let unknown = json!({"phone_number": "+18045550123", "lead_type": 999});
        assert!(
            validate_item(&unknown)
                .unwrap_err()
                .starts_with("lead_type: ")
        );
    }

    #[test]
    fn bulk_results_follow_order_and_deduplicate() {
        let mut m = Model::new();
        let items = vec![
            valid("+18045550123", "a@example.com"),
            json!(7),
            valid("(804) 555-0123", "a@example.com"),
            valid("+18045550124", "b@example.com"),
            json!({"phone_number": "+19115550123"}),
            valid("+18045550123", "other@example.com"),
        ];
        let results = m.bulk_create(&items);
        assert_eq!(results.len(), items.len());
        let first = results[0]["id"].as_i64().unwrap();
        assert_eq!(results[0]["action"], "created");
        assert_eq!(
            results[1],
            json!({"id": null, "action": "error", "error": NOT_AN_OBJECT})
        );
        assert_eq!(results[2], json!({"id": first, "action": "reengaged"}));
        assert_eq!(results[3]["action"], "created");
        assert_eq!(results[4]["action"], "error");
        assert!(
            results[4]["error"]
                .as_str()
                .unwrap()
                .starts_with("phone_number: ")
        );
        assert_eq!(results[5]["action"], "created");
        let ids: Vec<i64> = [0, 3, 5]
            .iter()
            .map(|i| results[*i]["id"].as_i64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        // An earlier request's identity is re-engaged too, and counted.
        let again = m.bulk_create(&[valid("804-555-0123", "a@example.com")]);
        assert_eq!(again, vec![json!({"id": first, "action": "reengaged"})]);
        let lead = m.get(first).unwrap();
        assert_eq!(lead["reengagement_count"], json!(2));
        assert_eq!(lead["reengagements_count"], json!(2));
        assert!(lead["reengagement_time"].is_string());
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn min_reengagement_days_refuses_a_recent_duplicate() {
        let mut m = Model::new();
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        m.set_now(Some(t0));
        let item = json!({"phone_number": "+18045550123", "min_reengagement_days": 3});
        assert_eq!(m.create_item(&item), Ok((1, Action::Created)));
        let err = m.create_item(&item).unwrap_err();
        assert!(err.starts_with("phone_number: "), "{err}");
        m.set_now(Some(t0 + chrono::Duration::days(3)));
        assert_eq!(m.create_item(&item), Ok((1, Action::Reengaged)));
        let huge = json!({"phone_number": "+18045550123", "min_reengagement_days": i64::MAX});
        assert!(
            m.create_item(&huge).is_err(),
            "an unreachable threshold refuses"
        );
    }

    #[test]
    fn insert_unchecked_duplicates_and_remove_forgets() {
        let mut m = Model::new();
        let item = valid("+18045550123", "a@example.com");
        let (first, _) = m.create_item(&item).unwrap();
        let copy = m
            .insert_unchecked(&valid("804-555-0123", "a@example.com"))
            .unwrap();
        assert_ne!(first, copy);
        assert_eq!(m.len(), 2);
        assert_eq!(m.create_item(&item), Ok((first, Action::Reengaged)));
        assert!(m.insert_unchecked(&json!({"phone_number": "911"})).is_err());
        assert_eq!(m.len(), 2);
        assert!(m.remove(first).is_some());
        assert_eq!(m.remove(first), None);
        assert_eq!(m.create_item(&item).unwrap().1, Action::Created);
    }
}
