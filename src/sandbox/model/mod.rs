//! The reference model of the documented leads semantics, with no HTTP in it.
//!
//! Everything the sandbox answers comes from here. The validation rules
//! themselves (phone normalisation, identity, field checks) live in
//! [`crate::rules`], shared with the contract harness and the CLI, and are
//! re-exported here. On top of them the model keeps the state:
//!
//! - an item whose identity exists already (from an earlier request or earlier
//!   in the same batch) is `reengaged` with the existing id;
//! - unknown top-level keys are folded into `metadata`;
//! - only the sandbox's own [`LEAD_TYPES`] are accepted in `lead_type`.
//!
//! This file holds the state and its operations; `stored` builds the stored
//! lead the API answers and lists leads and lead types.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value, json};

pub use crate::rules::{
    FieldError, Identity, LEAD_STATUSES, NOT_AN_OBJECT, STATUS_REASONS, US_STATES, errors_body,
    identity, normalize_phone,
};
use crate::rules::{IntValue, Mode, field_errors, integer, join_errors, parse_time};
use stored::{
    fold_unknown_keys, format_time, int_or_null, new_lead, stored_identity, time_or_null,
};

mod stored;

/// Page size of list answers when the caller gives none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page size honoured; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The sandbox's fixed lead types: `(id, name)`. Only these ids are accepted in
/// `lead_type`, as a real account accepts only its own lead types.
pub const LEAD_TYPES: &[(i64, &str)] = &[
    (1, "Mortgage refinance"),
    (2, "Home purchase"),
    (3, "Solar"),
];

/// True when `id` is one of the sandbox's [`LEAD_TYPES`].
pub fn lead_type_exists(id: i64) -> bool {
    LEAD_TYPES.iter().any(|(known, _)| *known == id)
}

/// Validates one create / bulk item as the sandbox does (only its own
/// [`LEAD_TYPES`] exist). `Err` is a message naming the field
/// (`phone_number: ...`); several problems are joined with `; `.
pub fn validate_item(item: &Value) -> Result<(), String> {
    crate::rules::validate_item_with(item, lead_type_exists)
}

/// Why the model refused a request as a whole.
#[derive(Clone, Debug, PartialEq)]
pub enum Rejection {
    /// 400: a Django REST framework validation body (`{"field": ["message"]}`).
    BadRequest(Value),
    /// 404 with this `detail`.
    NotFound(String),
}

/// The outcome of one create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A new lead was stored.
    Created,
    /// A lead with the same identity existed and was re-engaged.
    Reengaged,
}

impl Action {
    /// The wire name (`created` / `reengaged`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Reengaged => "reengaged",
        }
    }
}

/// Counts of a bulk create's outcomes, for logging.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkSummary {
    /// Items stored as new leads.
    pub created: usize,
    /// Items answered `reengaged`.
    pub reengaged: usize,
    /// Items answered `error`.
    pub rejected: usize,
}

impl BulkSummary {
    /// Counts the actions of bulk results.
    pub fn of(results: &[Value]) -> Self {
        let mut summary = Self::default();
        for r in results {
            match r.get("action").and_then(Value::as_str) {
                Some("created") => summary.created += 1,
                Some("reengaged") => summary.reengaged += 1,
                _ => summary.rejected += 1,
            }
        }
        summary
    }
}

/// The state of one account of the sandbox: stored leads, keyed by id, and an
/// identity index. Ids come from a counter that accounts may share
/// ([`Model::sharing_ids_with`]), so two accounts' ids never collide, as rows of
/// one table do. A clone shares the counter too.
#[derive(Debug, Clone)]
pub struct Model {
    /// Each lead behind an `Arc`, so that the copies lagged reads keep share
    /// the leads a write did not change.
    leads: BTreeMap<i64, Arc<Map<String, Value>>>,
    by_identity: HashMap<Identity, i64>,
    ids: Arc<AtomicI64>,
    fixed_now: Option<DateTime<Utc>>,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    /// An empty model; the first id is 1.
    pub fn new() -> Self {
        Self {
            leads: BTreeMap::new(),
            by_identity: HashMap::new(),
            ids: Arc::new(AtomicI64::new(1)),
            fixed_now: None,
        }
    }

    /// An empty model (another account) that takes its ids from the same
    /// counter as `other`: no id is ever given in both.
    pub fn sharing_ids_with(other: &Model) -> Self {
        Self {
            ids: other.ids.clone(),
            ..Self::new()
        }
    }

    /// A copy for reads only (lagged reads answer it): the leads without the
    /// identity index, so that keeping many copies stays cheap.
    pub(crate) fn read_copy(&self) -> Self {
        Self {
            leads: self.leads.clone(),
            by_identity: HashMap::new(),
            ids: self.ids.clone(),
            fixed_now: self.fixed_now,
        }
    }

    fn next_id(&self) -> i64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Freezes the model's clock at `now` (`None`: the system clock again).
    pub fn set_now(&mut self, now: Option<DateTime<Utc>>) {
        self.fixed_now = now;
    }

    /// The model's clock, to the microsecond as the API's samples give times.
    fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now).trunc_subsecs(6)
    }

    /// How many leads are stored.
    pub fn len(&self) -> usize {
        self.leads.len()
    }

    /// True when no lead is stored.
    pub fn is_empty(&self) -> bool {
        self.leads.is_empty()
    }

    /// True when the lead `id` is stored.
    pub fn contains(&self, id: i64) -> bool {
        self.leads.contains_key(&id)
    }

    /// The id of the lead with this identity, if any.
    pub fn find(&self, identity: &Identity) -> Option<i64> {
        self.by_identity.get(identity).copied()
    }

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

    /// Forgets the lead `id` (and its identity when the index points at it);
    /// `None` when there is no such lead. For fault-injecting test servers: the
    /// API has no delete.
    pub fn remove(&mut self, id: i64) -> Option<Value> {
        let lead = self.leads.remove(&id)?;
        if let Some(identity) = stored_identity(&lead)
            && self.by_identity.get(&identity) == Some(&id)
        {
            self.by_identity.remove(&identity);
        }
        Some(Value::Object(Arc::unwrap_or_clone(lead)))
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

    /// `GET /api/leads/{id}/`: the stored lead, every documented field.
    pub fn get(&self, id: i64) -> Option<Value> {
        self.leads
            .get(&id)
            .map(|lead| Value::Object((**lead).clone()))
    }

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

/// A create / bulk item validated as the sandbox does, with its identity; `Err`
/// is the per-item error message.
fn checked_item(item: &Value) -> Result<(&Map<String, Value>, Identity), String> {
    let Some(obj) = item.as_object() else {
        return Err(NOT_AN_OBJECT.to_owned());
    };
    let errors = field_errors(obj, Mode::Create, lead_type_exists);
    if !errors.is_empty() {
        return Err(join_errors(&errors));
    }
    let Some(identity) = identity(item) else {
        // Unreachable after validation; answered as a phone error, never a panic.
        return Err("phone_number: Enter a valid phone number.".to_owned());
    };
    Ok((obj, identity))
}

/// A create, PATCH or PUT body validated for `mode`; `Err` is the 400 answer in
/// Django REST framework's shape.
fn checked_body(body: &Value, mode: Mode) -> Result<&Map<String, Value>, Rejection> {
    let Some(obj) = body.as_object() else {
        return Err(Rejection::BadRequest(non_field(
            "Invalid data. Expected a dictionary.",
        )));
    };
    let errors = field_errors(obj, mode, lead_type_exists);
    if !errors.is_empty() {
        return Err(Rejection::BadRequest(errors_body(&errors)));
    }
    Ok(obj)
}

fn non_field(message: &str) -> Value {
    json!({ "non_field_errors": [message] })
}

#[cfg(test)]
mod tests {
    use super::*;

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
