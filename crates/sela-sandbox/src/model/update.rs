//! Updating leads: `PATCH` by id and `PUT` by `(phone_number, email)`, with
//! the identity index moved when a PATCH changes the identity and refused when
//! it would collide with another lead's.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::stored::{fold_unknown_keys, format_time, int_or_null, time_or_null};
use super::{
    Model, Rejection, checked_body, identity, non_field, normalize_phone, stored_identity,
};
use sela_leads::rules::Mode;

impl Model {
    /// `PATCH /api/leads/{id}/`: partial update.
    pub fn patch(&mut self, id: i64, body: &Value) -> Result<Value, Rejection> {
        if !self.leads.contains_key(&id) {
            return Err(Rejection::NotFound("Not found.".to_owned()));
        }
        let obj = checked_body(body, Mode::Patch)?;
        self.apply_update(id, obj, true)
    }

    /// `PUT /api/leads/update/`: finds the lead by `(phone_number, email)` and
    /// updates it; 404 when nothing matches.
    pub fn put_by_match(&mut self, body: &Value) -> Result<Value, Rejection> {
        let obj = checked_body(body, Mode::Put)?;
        let id = identity(body)
            .and_then(|identity| self.find(&identity))
            .ok_or_else(|| Rejection::NotFound("No Lead matches the given query.".to_owned()))?;
        self.apply_update(id, obj, false)
    }

    fn apply_update(
        &mut self,
        id: i64,
        obj: &Map<String, Value>,
        may_change_identity: bool,
    ) -> Result<Value, Rejection> {
        let now = self.now();
        let Some(current) = self.leads.get(&id) else {
            return Err(Rejection::NotFound("Not found.".to_owned()));
        };
        let mut lead = (**current).clone();
        let old_identity = stored_identity(&lead);
        if may_change_identity {
            if let Some(Value::String(raw)) = obj.get("phone_number")
                && let Ok(phone) = normalize_phone(raw)
            {
                lead.insert("phone_number".into(), Value::String(phone));
            }
            if let Some(email) = obj.get("email") {
                lead.insert("email".into(), email.clone());
            }
        }
        let new_identity = stored_identity(&lead);
        if new_identity != old_identity
            && let Some(identity) = &new_identity
            && self
                .by_identity
                .get(identity)
                .is_some_and(|other| *other != id)
        {
            return Err(Rejection::BadRequest(non_field(
                "A lead with this phone number and email already exists.",
            )));
        }
        for field in [
            "status",
            "status_reason",
            "external_id",
            "lead_source",
            "us_state",
        ] {
            if let Some(v) = obj.get(field) {
                lead.insert(field.into(), v.clone());
            }
        }
        for field in ["lead_type", "representative"] {
            if let Some(v) = obj.get(field) {
                lead.insert(field.into(), int_or_null(v));
            }
        }
        for field in ["call_dnc", "sms_dnc"] {
            if let Some(v) = obj.get(field) {
                lead.insert(field.into(), v.clone());
            }
        }
        if let Some(v) = obj.get("reengagement_count") {
            let count = int_or_null(v);
            lead.insert("reengagement_count".into(), count.clone());
            lead.insert("reengagements_count".into(), count);
        }
        if let Some(v) = obj.get("reengagement_time") {
            let t = time_or_null(Some(v));
            lead.insert("reengagement_time".into(), t.clone());
            lead.insert("last_reengagement_time".into(), t);
        }
        if let Some(v) = obj.get("call_schedule_start_time") {
            lead.insert("call_schedule_start_time".into(), time_or_null(Some(v)));
        }
        let mut metadata = match obj.get("metadata") {
            Some(Value::Object(m)) => m.clone(),
            _ => lead
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        };
        fold_unknown_keys(obj, &mut metadata);
        lead.insert("metadata".into(), Value::Object(metadata));
        lead.insert("modified_time".into(), Value::String(format_time(now)));

        if let Some(old) = old_identity {
            self.by_identity.remove(&old);
        }
        if let Some(new) = new_identity {
            self.by_identity.insert(new, id);
        }
        self.leads.insert(id, Arc::new(lead.clone()));
        Ok(Value::Object(lead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid(phone: &str, email: &str) -> Value {
        json!({"phone_number": phone, "email": email})
    }

    #[test]
    fn patch_and_put_by_match() {
        let mut m = Model::new();
        m.create_item(&valid("+18045550123", "a@example.com"))
            .unwrap();
        let lead = m
            .patch(1, &json!({"status": "CLOSED", "nickname": "x"}))
            .unwrap();
        assert_eq!(lead["status"], "CLOSED");
        assert_eq!(lead["metadata"]["nickname"], "x");
        assert_eq!(
            m.patch(2, &json!({})),
            Err(Rejection::NotFound("Not found.".into()))
        );
        assert!(matches!(
            m.patch(1, &json!({"status": "NOPE"})),
            Err(Rejection::BadRequest(_))
        ));

        let put = json!({"phone_number": "8045550123", "email": "a@example.com", "status": "LOST", "call_dnc": true});
        let lead = m.put_by_match(&put).unwrap();
        assert_eq!(
            (
                lead["id"].clone(),
                lead["status"].clone(),
                lead["call_dnc"].clone()
            ),
            (json!(1), json!("LOST"), json!(true))
        );
        let miss = json!({"phone_number": "8045550123", "email": "b@example.com"});
        assert!(matches!(m.put_by_match(&miss), Err(Rejection::NotFound(_))));
        assert!(matches!(
            m.put_by_match(&json!({"email": "a@example.com"})),
            Err(Rejection::BadRequest(_))
        ));

        // Changing the identity by PATCH moves the index.
        m.patch(1, &json!({"email": "c@example.com"})).unwrap();
        let moved = m.bulk_create(&[
            valid("+18045550123", "c@example.com"),
            valid("+18045550123", "a@example.com"),
        ]);
        assert_eq!(moved[0], json!({"id": 1, "action": "reengaged"}));
        assert_eq!(moved[1]["action"], "created");
        // ... and refuses to collide with another lead's identity.
        assert!(matches!(
            m.patch(1, &json!({"email": "a@example.com"})),
            Err(Rejection::BadRequest(_))
        ));
    }
}
