//! The lead validation rules of the leads API, with no HTTP and no state in
//! them: one source of truth for the sandbox, the contract harness and the CLI.
//!
//! The rules follow `sela-leads-api.md` and the bulk-create contract:
//!
//! - an item that is not a JSON object is rejected with [`NOT_AN_OBJECT`];
//! - every "certainly invalid" item is rejected with a message that starts with
//!   the field's name (`phone_number: ...`);
//! - phone numbers are US numbers, stored in E.164 (`+1` and ten digits); the
//!   area code starts with 2-9 and is not an N11 code;
//! - the identity of a lead is `(phone in E.164, email as sent or none)`.
//!
//! Whether a `lead_type` id exists depends on the account: [`field_errors`] takes
//! a predicate for it, and [`validate_item`] accepts any id.

mod before_sending;
mod fields;
mod lists;
mod phone;

pub use before_sending::check_before_sending;
pub use fields::{
    FieldError, IntValue, Mode, check_email, errors_body, field_errors, integer, join_errors,
    parse_time, validate_item, validate_item_with,
};
pub use lists::{
    LEAD_STATUSES, MAX_STRING_LEN, NOT_AN_OBJECT, READ_ONLY_FIELDS, STATUS_REASONS,
    US_DISTRICT_AND_TERRITORIES, US_STATE_NAMES, US_STATES, WRITABLE_FIELDS, is_us_state_code,
    us_state_code,
};
pub use phone::{Identity, identity, normalize_phone};

/// Test items that differ from a base item in one key.
#[cfg(test)]
mod variant {
    use serde_json::Value;

    /// `base` with `key` set to `value`.
    pub(super) fn with(base: &Value, key: &str, value: Value) -> Value {
        let mut item = base.clone();
        item[key] = value;
        item
    }

    /// `base` without `key`.
    pub(super) fn without(base: &Value, key: &str) -> Value {
        let mut item = base.clone();
        item.as_object_mut()
            .expect("the base item is an object")
            .remove(key);
        item
    }
}
