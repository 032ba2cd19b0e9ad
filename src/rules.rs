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

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// The documented per-item error for a bulk item that is not a JSON object.
pub const NOT_AN_OBJECT: &str = "Each lead must be a JSON object.";

/// Two-letter USPS codes of the 50 states: the `us_state` values that are
/// certainly valid.
pub const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY",
];

/// USPS codes of the District of Columbia and the inhabited territories (all in
/// the NANP). The documentation does not say whether the API accepts them, so
/// they are maybe invalid for the contract; the sandbox accepts them.
pub const US_DISTRICT_AND_TERRITORIES: &[&str] = &["DC", "PR", "GU", "VI", "AS", "MP"];

/// True when `code` is accepted in `us_state`: a state, DC or a territory.
pub fn is_us_state_code(code: &str) -> bool {
    US_STATES.contains(&code) || US_DISTRICT_AND_TERRITORIES.contains(&code)
}

/// Every documented `status` value (the union of the old and new lists).
pub const LEAD_STATUSES: &[&str] = &[
    "UNKNOWN",
    "NEW",
    "OPEN",
    "CALLBACK_TO_TRANSFER",
    "CLOSED",
    "CLOSED_INCOMPLETE",
    "LOST",
    "SCHEDULE_COMPLETED",
    "OUT_OF_TERRITORY",
    "CANCELLED",
];

/// Every documented `status_reason` value.
pub const STATUS_REASONS: &[&str] = &["UNKNOWN", "WEBHOOK", "MANUAL", "CHAT"];

/// Top-level keys that are lead fields a caller may write.
pub const WRITABLE_FIELDS: &[&str] = &[
    "phone_number",
    "email",
    "metadata",
    "status",
    "status_reason",
    "lead_type",
    "representative",
    "external_id",
    "lead_source",
    "us_state",
    "reengagement_count",
    "reengagement_time",
    "call_schedule_start_time",
    "min_reengagement_days",
    "call_dnc",
    "sms_dnc",
];

/// Top-level keys that are read-only lead fields: ignored when sent, as Django
/// REST framework ignores read-only fields, and never folded into metadata.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "created_time",
    "modified_time",
    "received_time",
    "next_call_time",
    "next_call_time_reason",
    "reengagements_count",
    "last_reengagement_time",
];

/// Longest string accepted in `external_id` and `lead_source`.
pub const MAX_STRING_LEN: usize = 255;

/// Normalises a phone number to E.164 (`+1` and ten digits).
///
/// Accepts E.164 (`+18045550123`) and the usual US formats (`(804) 555-0123`,
/// `804-555-0123`, `804.555.0123`, `8045550123`, `18045550123`, `+1 804 555 0123`),
/// which are all one number and so one identity. The area code must start with
/// 2-9 and must not be an N11 code. A number with more than ten national digits
/// is refused, never cut to ten: the cut number is a stranger's. `Err` holds the
/// reason, without the field name.
pub fn normalize_phone(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("This field may not be blank.".to_owned());
    }
    if trimmed.chars().any(|c| c.is_alphabetic()) {
        return Err("Enter a valid phone number (it contains letters).".to_owned());
    }
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if let Some(bad) = rest
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')))
    {
        return Err(format!(
            "Enter a valid phone number (unexpected character {bad:?})."
        ));
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let national = match (plus, digits.len()) {
        (_, n) if n < 10 => {
            return Err("Enter a valid phone number (fewer than ten digits).".to_owned());
        }
        (true, 11) if digits.starts_with('1') => &digits[1..],
        (true, _) => {
            return Err("Enter a valid US phone number (+1 and ten digits).".to_owned());
        }
        (false, 10) => &digits[..],
        (false, 11) if digits.starts_with('1') => &digits[1..],
        (false, _) => return Err("Enter a valid US phone number (ten digits).".to_owned()),
    };
    let area = national.as_bytes();
    if !(b'2'..=b'9').contains(&area[0]) {
        return Err(format!(
            "Enter a valid phone number (area code {} must start with 2-9).",
            &national[..3]
        ));
    }
    if area[1] == b'1' && area[2] == b'1' {
        return Err(format!(
            "Enter a valid phone number ({} is an N11 code, not an area code).",
            &national[..3]
        ));
    }
    Ok(format!("+1{national}"))
}

/// The identity of a lead: phone in E.164 and the e-mail address as sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// The phone number in E.164.
    pub phone: String,
    /// The e-mail address as sent, or `None` when absent or null.
    pub email: Option<String>,
}

/// The identity of an item: `None` when it is not an object or its phone number
/// is missing or invalid.
pub fn identity(item: &Value) -> Option<Identity> {
    let obj = item.as_object()?;
    let phone = normalize_phone(obj.get("phone_number")?.as_str()?).ok()?;
    let email = obj.get("email").and_then(Value::as_str).map(str::to_owned);
    Some(Identity { phone, email })
}

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

/// What a client refuses before sending a create / bulk item: only what the
/// documentation and the contract's "certainly invalid" support, so no item a
/// real server documents as valid is kept back. The CLI's `--dry-run` and its
/// normal import both call this. `Err` names the field like [`validate_item`].
///
/// Refused: a non-object; `phone_number` missing, null, blank, with letters or
/// other characters no phone format has, with fewer than ten digits, a `+1` or
/// US national number with more than ten digits (cut to ten it is a
/// stranger's), or a US area code that starts with 0 or 1 or is an N11 code;
/// `email` without an `@` or with spaces; `us_state` not the code of a state,
/// DC or an inhabited territory ([`is_us_state_code`]); `lead_type` or
/// `representative` neither an integer nor a string of digits.
///
/// Left to the server, though [`validate_item`] (the sandbox's stricter model)
/// refuses them: E.164 numbers outside `+1` ("E.164 or US format" is
/// documented), numbers sent as JSON numbers, a blank e-mail, a dotless e-mail
/// domain, null `us_state`, status values, lengths, times, integer ranges and
/// metadata of any shape ("any JSON" is documented).
pub fn check_before_sending(item: &Value) -> Result<(), String> {
    let Some(obj) = item.as_object() else {
        return Err(NOT_AN_OBJECT.to_owned());
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let mut err = |field: &str, msg: String| errors.push((field.to_owned(), msg));
    let phone = match obj.get("phone_number") {
        None => Err("This field is required.".to_owned()),
        Some(Value::Null) => Err("This field may not be null.".to_owned()),
        Some(Value::String(s)) if is_foreign_e164(s) => Ok(()),
        Some(Value::String(s)) => normalize_phone(s).map(drop),
        Some(Value::Number(n)) => normalize_phone(&n.to_string()).map(drop),
        Some(_) => Err("Not a valid string.".to_owned()),
    };
    if let Err(reason) = phone {
        err("phone_number", reason);
    }
    let email = match obj.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            err("email", "Not a valid string.".into());
            None
        }
    };
    if let Some(s) = email
        && (s.chars().any(char::is_whitespace) || (!s.is_empty() && !s.contains('@')))
    {
        err(
            "email",
            check_email(&s)
                .err()
                .unwrap_or_else(|| "Enter a valid email address.".into()),
        );
    }
    match obj.get("us_state") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if is_us_state_code(s) => {}
        Some(other) => err("us_state", format!("{other} is not a valid choice.")),
    }
    for field in ["lead_type", "representative"] {
        if let Some(v) = obj.get(field)
            && let IntValue::Invalid = integer(v)
        {
            err(field, "A valid integer is required.".into());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(join_errors(&errors))
    }
}

/// True for an E.164 number outside the `+1` zone (`+44 20 7946 0958`):
/// documented as accepted ("E.164 or US format"), so judged by the server.
fn is_foreign_e164(raw: &str) -> bool {
    let Some(rest) = raw.trim().strip_prefix('+') else {
        return false;
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    rest.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
        && !digits.starts_with('1')
        && !digits.starts_with('0')
        && (8..=15).contains(&digits.len())
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
    use serde_json::json;

    fn valid(phone: &str, email: &str) -> Value {
        json!({"phone_number": phone, "email": email})
    }

    #[test]
    fn normalises_us_formats_to_e164() {
        for raw in [
            "+18045550123",
            "(804) 555-0123",
            "804-555-0123",
            "804.555.0123",
            "804 555 0123",
            "8045550123",
            "18045550123",
            "1-804-555-0123",
            "+1 (804) 555-0123",
            "  8045550123 ",
        ] {
            assert_eq!(normalize_phone(raw).as_deref(), Ok("+18045550123"), "{raw}");
        }
    }

    #[test]
    fn rejects_bad_area_codes() {
        for raw in ["+10045550123", "+11045550123", "0045550123", "1045550123"] {
            let err = normalize_phone(raw).unwrap_err();
            assert!(err.contains("2-9"), "{raw}: {err}");
        }
        for n11 in ["211", "311", "411", "511", "611", "711", "811", "911"] {
            let raw = format!("+1{n11}5550123");
            let err = normalize_phone(&raw).unwrap_err();
            assert!(err.contains("N11"), "{raw}: {err}");
        }
        // 2-9 first digit, second or third digit not 1: accepted.
        for ok in ["+12125550123", "+19105550123", "+12015550123"] {
            assert!(normalize_phone(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_numbers() {
        for raw in [
            "",
            "   ",
            "abc",
            "804555012a",
            "80455501",
            "555-0123",
            "+4420795301234",
            "+1804555012345",
            "28045550123",
            "804_555_0123",
            "++18045550123",
        ] {
            assert!(normalize_phone(raw).is_err(), "{raw:?} accepted");
        }
    }

    #[test]
    fn overlong_numbers_are_refused_never_cut() {
        for raw in [
            "+180455501234",
            "+1 (804) 555-01234",
            "+1804555012300",
            "180455501234",
            "1 804 555 01234",
            "804555012345",
            "(804) 555-01234",
        ] {
            let err = normalize_phone(raw).expect_err(raw);
            assert!(err.contains("ten digits"), "{raw}: {err}");
            let item = json!({"phone_number": raw, "email": "a@example.com"});
            assert!(identity(&item).is_none(), "{raw}");
            assert!(
                validate_item(&item)
                    .unwrap_err()
                    .starts_with("phone_number: "),
                "{raw}"
            );
        }
    }

    #[test]
    fn every_us_format_of_a_number_is_one_identity() {
        let formats = [
            "+18045550123",
            "(804) 555-0123",
            "804-555-0123",
            "8045550123",
            "1 804 555 0123",
            "+1 804-555-0123",
        ];
        let identities: Vec<_> = formats
            .iter()
            .map(|raw| identity(&json!({"phone_number": raw, "email": "a@example.com"})))
            .collect();
        assert!(identities[0].is_some());
        assert!(
            identities.iter().all(|i| *i == identities[0]),
            "{identities:?}"
        );
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
        let with = |key: &str, value: Value| {
            let mut item = base.clone();
            item[key] = value;
            item
        };
        let mut no_phone = base.clone();
        no_phone.as_object_mut().unwrap().remove("phone_number");
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

    #[test]
    fn checks_before_sending_refuse_only_the_certainly_invalid() {
        let base = json!({"phone_number": "+18045550123"});
        let with = |key: &str, value: Value| {
            let mut item = base.clone();
            item[key] = value;
            item
        };
        let mut no_phone = base.clone();
        no_phone.as_object_mut().unwrap().remove("phone_number");
        // Refused: the contract's certainly invalid items, and bad area codes.
        for (item, field) in [
            (no_phone, "phone_number"),
            (with("phone_number", Value::Null), "phone_number"),
            (with("phone_number", json!("")), "phone_number"),
            (with("phone_number", json!("not-a-phone")), "phone_number"),
            (with("phone_number", json!("804555")), "phone_number"),
            (with("phone_number", json!("+180455501234")), "phone_number"),
            (with("phone_number", json!("804555012345")), "phone_number"),
            (
                with("phone_number", json!("+1 111 555 0101")),
                "phone_number",
            ),
            (with("phone_number", json!("+19115550101")), "phone_number"),
            (with("phone_number", json!(true)), "phone_number"),
            (with("email", json!("nope")), "email"),
            (with("email", json!("a b@example.com")), "email"),
            (with("us_state", json!("ZZ")), "us_state"),
            (with("us_state", json!("California")), "us_state"),
            (with("lead_type", json!("x")), "lead_type"),
            (with("representative", json!({})), "representative"),
        ] {
            let reason = check_before_sending(&item).expect_err(&item.to_string());
            assert!(
                reason.starts_with(&format!("{field}: ")),
                "{item}: {reason}"
            );
        }
        assert_eq!(
            check_before_sending(&json!(7)),
            Err(NOT_AN_OBJECT.to_owned())
        );
        // Documented as valid, or not documented as invalid: left to the server.
        for item in [
            base.clone(),
            with("phone_number", json!("+44 20 7946 0958")),
            with("phone_number", json!(8045550123_u64)),
            with("email", json!("")),
            with("email", json!("a@localhost")),
            with("us_state", json!("DC")),
            with("us_state", json!("PR")),
            with("us_state", Value::Null),
            with("metadata", json!("free text")),
            with("metadata", json!({"loan_amount": "250000"})),
            with("external_id", json!("x".repeat(300))),
            with("status", json!("LATE_CALLBACK")),
            with("reengagement_time", json!("2025-01-01T10:00+02:00")),
            with("representative", json!(0)),
            with("lead_type", json!("12")),
        ] {
            assert_eq!(check_before_sending(&item), Ok(()), "{item}");
        }
        // The sandbox's model is stricter on some of those.
        assert!(validate_item(&with("metadata", json!("free text"))).is_err());
    }

    #[test]
    fn identity_uses_e164_and_email_as_sent() {
        let a = identity(&json!({"phone_number": "(804) 555-0123", "email": "a@example.com"}));
        assert_eq!(
            a,
            Some(Identity {
                phone: "+18045550123".into(),
                email: Some("a@example.com".into())
            })
        );
        let b = identity(&json!({"phone_number": "+18045550123", "email": null}));
        assert_eq!(
            b,
            Some(Identity {
                phone: "+18045550123".into(),
                email: None
            })
        );
        assert_eq!(identity(&json!({"phone_number": "911"})), None);
    }
}
