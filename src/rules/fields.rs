//! The field checks of a lead item: the sandbox's strict model of what a
//! create, PATCH or PUT body may hold, and its error messages.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::{
    LEAD_STATUSES, MAX_STRING_LEN, NOT_AN_OBJECT, STATUS_REASONS, is_us_state_code, normalize_phone,
};

/// Validates one create / bulk item, whatever lead types the account has (any
/// integer `lead_type` passes). `Err` is a message naming the field
/// (`phone_number: ...`); several problems are joined with `; `.
pub fn validate_item(item: &Value) -> Result<(), String> {
    validate_item_with(item, |_| true)
}

/// As [`validate_item`], with `lead_type_exists` deciding which `lead_type` ids
/// the account knows.
pub fn validate_item_with(
    item: &Value,
    lead_type_exists: impl Fn(i64) -> bool,
) -> Result<(), String> {
    let Some(obj) = item.as_object() else {
        return Err(NOT_AN_OBJECT.to_owned());
    };
    let errors = field_errors(obj, Mode::Create, lead_type_exists);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(join_errors(&errors))
    }
}

/// One field's validation error: `(field, message)`.
pub type FieldError = (String, String);

/// The errors as one per-item message: `field: message; field: message`.
pub fn join_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|(field, msg)| format!("{field}: {msg}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The errors as a Django REST framework validation body: `{"field": ["message", ...]}`.
pub fn errors_body(errors: &[FieldError]) -> Value {
    let mut map = Map::new();
    for (field, msg) in errors {
        let entry = map
            .entry(field.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(msg.clone()));
        }
    }
    Value::Object(map)
}

/// Which body is validated: the rules differ only in what is required.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Create and bulk items: `phone_number` required.
    Create,
    /// PATCH: nothing required; `phone_number` may be null (kept as is then).
    Patch,
    /// PUT by match: `phone_number` required.
    Put,
}

/// Every field error of `obj` validated for `mode`; `lead_type_exists` decides
/// which `lead_type` ids the account knows. Empty when the body is valid.
pub fn field_errors(
    obj: &Map<String, Value>,
    mode: Mode,
    lead_type_exists: impl Fn(i64) -> bool,
) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut err = |field: &str, msg: String| errors.push((field.to_owned(), msg));

    match obj.get("phone_number") {
        None if mode == Mode::Patch => {}
        None => err("phone_number", "This field is required.".into()),
        Some(Value::Null) if mode == Mode::Patch => {}
        Some(Value::Null) => err("phone_number", "This field may not be null.".into()),
        Some(Value::String(s)) => {
            if let Err(reason) = normalize_phone(s) {
                err("phone_number", reason);
            }
        }
        Some(_) => err("phone_number", "Not a valid string.".into()),
    }
    match obj.get("email") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if let Err(reason) = check_email(s) {
                err("email", reason);
            }
        }
        Some(_) => err("email", "Not a valid string.".into()),
    }
    if let Some(v) = obj.get("us_state") {
        match v {
            Value::String(s) if is_us_state_code(s) => {}
            Value::Null => err("us_state", "This field may not be null.".into()),
            other => err("us_state", format!("{other} is not a valid choice.")),
        }
    }
    for (field, allowed) in [("status", LEAD_STATUSES), ("status_reason", STATUS_REASONS)] {
        if let Some(v) = obj.get(field) {
            match v {
                Value::String(s) if allowed.contains(&s.as_str()) => {}
                Value::Null => err(field, "This field may not be null.".into()),
                other => err(field, format!("{other} is not a valid choice.")),
            }
        }
    }
    if let Some(v) = obj.get("lead_type") {
        match integer(v) {
            IntValue::Null => {}
            IntValue::Int(id) if lead_type_exists(id) => {}
            IntValue::Int(id) => err(
                "lead_type",
                format!("Invalid pk \"{id}\" - object does not exist."),
            ),
            IntValue::Invalid => err("lead_type", "A valid integer is required.".into()),
        }
    }
    if let Some(v) = obj.get("representative") {
        match integer(v) {
            IntValue::Null => {}
            IntValue::Int(id) if id >= 1 => {}
            IntValue::Int(id) => err(
                "representative",
                format!("Invalid pk \"{id}\" - object does not exist."),
            ),
            IntValue::Invalid => err("representative", "A valid integer is required.".into()),
        }
    }
    for field in ["external_id", "lead_source"] {
        match obj.get(field) {
            None => {}
            Some(Value::Null) => err(field, "This field may not be null.".into()),
            Some(Value::String(s)) if s.chars().count() > MAX_STRING_LEN => err(
                field,
                format!("Ensure this field has no more than {MAX_STRING_LEN} characters."),
            ),
            Some(Value::String(_)) => {}
            Some(_) => err(field, "Not a valid string.".into()),
        }
    }
    match obj.get("metadata") {
        None => {}
        Some(Value::Object(meta)) => {
            for (key, kind) in crate::KNOWN_METADATA_KEYS {
                let ok = match (meta.get(*key), *kind) {
                    (None, _) => true,
                    (Some(v), "number") => v.is_number(),
                    (Some(v), "boolean") => v.is_boolean(),
                    (Some(v), _) => v.is_string(),
                };
                if !ok {
                    err("metadata", format!("{key} must be a {kind}."));
                }
            }
        }
        Some(Value::Null) => err("metadata", "This field may not be null.".into()),
        Some(_) => err("metadata", "Must be a JSON object.".into()),
    }
    if let Some(v) = obj.get("reengagement_count") {
        match integer(v) {
            IntValue::Int(n) if (0..=2_147_483_647).contains(&n) => {}
            IntValue::Int(_) => err(
                "reengagement_count",
                "Ensure this value is between 0 and 2147483647.".into(),
            ),
            IntValue::Null => err("reengagement_count", "This field may not be null.".into()),
            IntValue::Invalid => err("reengagement_count", "A valid integer is required.".into()),
        }
    }
    if let Some(v) = obj.get("min_reengagement_days") {
        match integer(v) {
            IntValue::Int(n) if n >= 0 => {}
            IntValue::Int(_) => err(
                "min_reengagement_days",
                "Ensure this value is greater than or equal to 0.".into(),
            ),
            IntValue::Null => err(
                "min_reengagement_days",
                "This field may not be null.".into(),
            ),
            IntValue::Invalid => err(
                "min_reengagement_days",
                "A valid integer is required.".into(),
            ),
        }
    }
    for field in ["reengagement_time", "call_schedule_start_time"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if parse_time(s).is_some() => {}
            Some(_) => err(
                field,
                "Datetime has wrong format. Use an ISO 8601 date-time with a UTC offset.".into(),
            ),
        }
    }
    for field in ["call_dnc", "sms_dnc"] {
        match obj.get(field) {
            None | Some(Value::Bool(_)) => {}
            Some(_) => err(field, "Must be a valid boolean.".into()),
        }
    }
    errors
}

/// Checks an e-mail address; `Err` holds the reason, without the field name.
pub fn check_email(s: &str) -> Result<(), String> {
    const INVALID: &str = "Enter a valid email address.";
    if s.is_empty() {
        return Err("This field may not be blank.".to_owned());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{INVALID} (it contains spaces)"));
    }
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{INVALID} (exactly one @ expected)"));
    };
    let labels_ok = domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty());
    if local.is_empty() || !labels_ok {
        return Err(INVALID.to_owned());
    }
    Ok(())
}

/// An integer field as read by [`integer`].
pub enum IntValue {
    /// JSON `null`.
    Null,
    /// An integer, or a string of digits.
    Int(i64),
    /// Anything else.
    Invalid,
}

/// An integer as Django REST framework reads one: a JSON integer or a string of
/// digits.
pub fn integer(v: &Value) -> IntValue {
    match v {
        Value::Null => IntValue::Null,
        Value::Number(n) => n.as_i64().map_or(IntValue::Invalid, IntValue::Int),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !digits.is_empty()
                && digits.len() <= 18
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                t.parse().map_or(IntValue::Invalid, IntValue::Int)
            } else {
                IntValue::Invalid
            }
        }
        _ => IntValue::Invalid,
    }
}

/// Parses an RFC 3339 date-time, or one without offset (read as UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::variant;
    use crate::rules::{US_DISTRICT_AND_TERRITORIES, US_STATES, identity};
    use serde_json::json;

    fn valid(phone: &str, email: &str) -> Value {
        json!({"phone_number": phone, "email": email})
    }
    #[test]
    fn states_are_certain_and_dc_and_territories_accepted() {
        assert_eq!(US_STATES.len(), 50);
        assert!(!US_STATES.contains(&"DC"));
        for code in US_STATES.iter().chain(US_DISTRICT_AND_TERRITORIES) {
            let item = json!({"phone_number": "+18045550123", "us_state": code});
            assert_eq!(validate_item(&item), Ok(()), "{code}");
        }
        for bad in ["ZZ", "California", "ca", ""] {
            let item = json!({"phone_number": "+18045550123", "us_state": bad});
            assert!(
                validate_item(&item).unwrap_err().starts_with("us_state: "),
                "{bad}"
            );
        }
    }

    #[test]
    fn lead_type_existence_is_the_callers_to_decide() {
        let item = json!({"phone_number": "+18045550123", "lead_type": "42"});
        assert_eq!(validate_item(&item), Ok(()), "any id without an account");
        let err = validate_item_with(&item, |id| id == 1).unwrap_err();
        assert!(
            err.starts_with("lead_type: ") && err.contains("42"),
            "{err}"
        );
        assert_eq!(validate_item_with(&item, |id| id == 42), Ok(()));
        let not_an_id = json!({"phone_number": "+18045550123", "lead_type": "abc"});
        assert!(validate_item_with(&not_an_id, |_| true).is_err());
    }

    #[test]
    fn non_objects_get_the_documented_message() {
        assert_eq!(NOT_AN_OBJECT, "Each lead must be a JSON object.");
        for item in [
            json!(null),
            json!(7),
            json!("x"),
            json!(true),
            json!([1]),
            json!([]),
        ] {
            assert_eq!(
                validate_item(&item),
                Err(NOT_AN_OBJECT.to_owned()),
                "{item}"
            );
            assert_eq!(identity(&item), None);
        }
    }

    #[test]
    fn every_certainly_invalid_kind_names_its_field() {
        let base = valid("+18045550123", "a@example.com");
        let with = |key: &str, value: Value| variant::with(&base, key, value);
        let no_phone = variant::without(&base, "phone_number");
        let cases: Vec<(Value, &str)> = vec![
            (no_phone, "phone_number"),
            (with("phone_number", Value::Null), "phone_number"),
            (with("phone_number", json!("")), "phone_number"),
            (with("phone_number", json!("804-CALL-NOW")), "phone_number"),
            (with("phone_number", json!("804555")), "phone_number"),
            (with("phone_number", json!(8045550123_u64)), "phone_number"),
            (with("email", json!("not-an-address")), "email"),
            (with("email", json!("a b@example.com")), "email"),
            (with("us_state", json!("ZZ")), "us_state"),
            (with("us_state", json!("California")), "us_state"),
            (with("lead_type", json!("abc")), "lead_type"),
            (with("lead_type", json!({})), "lead_type"),
            (with("lead_type", json!([])), "lead_type"),
            (with("representative", json!("abc")), "representative"),
            (with("representative", json!({})), "representative"),
            (with("representative", json!([])), "representative"),
        ];
        assert!(validate_item(&base).is_ok());
        for (item, field) in cases {
            let err = validate_item(&item).expect_err(&item.to_string());
            assert!(err.starts_with(&format!("{field}: ")), "{item}: {err}");
        }
    }
}
