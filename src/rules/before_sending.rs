//! The lenient check a client runs before sending an item: only the certainly
//! invalid is refused, the rest is left to the server.

use serde_json::Value;

use super::{
    FieldError, IntValue, NOT_AN_OBJECT, check_email, integer, is_us_state_code, join_errors,
    normalize_phone,
};

/// What a client refuses before sending a create / bulk item: only what the
/// documentation and the contract's "certainly invalid" support, so no item a
/// real server documents as valid is kept back. The CLI's `--dry-run` and its
/// normal import both call this. `Err` names the field like [`validate_item`](super::validate_item).
///
/// Refused: a non-object; `phone_number` missing, null, blank, with letters or
/// other characters no phone format has, with fewer than ten digits, a `+1` or
/// US national number with more than ten digits (cut to ten it is a
/// stranger's), or a US area code that starts with 0 or 1 or is an N11 code;
/// `email` without an `@` or with spaces; `us_state` not the code of a state,
/// DC or an inhabited territory ([`is_us_state_code`]); `lead_type` or
/// `representative` neither an integer nor a string of digits.
///
/// Left to the server, though [`validate_item`](super::validate_item) (the sandbox's stricter model)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::validate_item;
    use crate::rules::variant;
    use serde_json::json;

    #[test]
    fn checks_before_sending_refuse_only_the_certainly_invalid() {
        let base = json!({"phone_number": "+18045550123"});
        let with = |key: &str, value: Value| variant::with(&base, key, value);
        let no_phone = variant::without(&base, "phone_number");
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
}
