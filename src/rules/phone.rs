//! US phone numbers in E.164 and the identity of a lead built on them.

use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::validate_item;
    use serde_json::json;

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
