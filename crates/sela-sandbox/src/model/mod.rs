//! The reference model of the documented leads semantics, with no HTTP in it.
//!
//! Everything the sandbox answers comes from here. The validation rules
//! themselves (phone normalisation, identity, field checks) live in
//! [`sela_leads::rules`], shared with the contract harness and the CLI, and are
//! re-exported here. On top of them the model keeps the state:
//!
//! - an item whose identity exists already (from an earlier request or earlier
//!   in the same batch) is `reengaged` with the existing id;
//! - unknown top-level keys are folded into `metadata`;
//! - only the sandbox's own [`LEAD_TYPES`] are accepted in `lead_type`.
//!
//! This file holds the state, its reads and the checks of request bodies;
//! `create` the creates (with re-engagement), `update` PATCH and PUT, and
//! `stored` builds the stored lead the API answers and lists leads and lead types.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value, json};

pub use crate::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use sela_leads::rules::{
    FieldError, Identity, LEAD_STATUSES, NOT_AN_OBJECT, STATUS_REASONS, US_STATES, errors_body,
    identity, normalize_phone,
};
use sela_leads::rules::{Mode, field_errors, join_errors};

mod create;
mod stored;
mod update;

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
    sela_leads::rules::validate_item_with(item, lead_type_exists)
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

    /// Stores `lead` under `id` as it is, in place of what is there (the
    /// identity index follows); false when there is no lead `id` or `lead` is
    /// not an object. For fault-injecting test servers that write back a lead
    /// as they read it earlier (a lost update): the API has no such call.
    pub fn replace(&mut self, id: i64, lead: Value) -> bool {
        let Value::Object(lead) = lead else {
            return false;
        };
        if !self.leads.contains_key(&id) {
            return false;
        }
        self.remove(id);
        if let Some(identity) = stored_identity(&lead) {
            self.by_identity.insert(identity, id);
        }
        self.leads.insert(id, Arc::new(lead));
        true
    }

    /// `GET /api/leads/{id}/`: the stored lead, every documented field.
    pub fn get(&self, id: i64) -> Option<Value> {
        self.leads
            .get(&id)
            .map(|lead| Value::Object((**lead).clone()))
    }
}

/// The identity a stored lead is indexed under: its phone number and e-mail
/// as stored.
fn stored_identity(lead: &Map<String, Value>) -> Option<Identity> {
    let phone = lead.get("phone_number")?.as_str()?.to_owned();
    let email = lead.get("email").and_then(Value::as_str).map(str::to_owned);
    Some(Identity { phone, email })
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
