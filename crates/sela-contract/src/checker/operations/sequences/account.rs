//! The model's account in a sequence: its leads by slot as the target last
//! showed them.

use serde_json::Value;

use crate::checker::operations::counter;

/// The do-not-contact flags R2 protects.
pub(super) const FLAGS: [&str; 2] = ["call_dnc", "sms_dnc"];

/// One of the sequence's leads, as the model expects it.
pub(super) struct Lead {
    pub(super) id: i64,
    /// E.164.
    pub(super) phone: String,
    pub(super) email: String,
    /// The lead as last read (the expectation for fields no step changed).
    pub(super) last: Value,
    /// Its re-engagement counter, when the target shows one.
    pub(super) counter: Option<i64>,
    /// Its identity was moved by a PATCH: a re-send of it is U3's.
    pub(super) moved: bool,
}

/// The model's account: the sequence's leads by slot, and the identities moved
/// away from them.
#[derive(Default)]
pub(super) struct Account {
    pub(super) leads: Vec<Lead>,
    pub(super) old: Vec<(String, String, i64)>,
    /// Whether the target's PUT resets the do-not-contact flags it is not
    /// sent (`None`: not asked yet; see the groups executor).
    pub(super) put_resets: Option<bool>,
}

impl Account {
    /// Takes the lead just created from `item` under `id`, as read back.
    pub(super) fn adopt(&mut self, item: &Value, id: i64, lead: Value) {
        self.leads.push(Lead {
            id,
            phone: item["phone_number"].as_str().unwrap_or_default().to_owned(),
            email: item["email"].as_str().unwrap_or_default().to_owned(),
            counter: counter(&lead),
            last: lead,
            moved: false,
        });
    }
}
