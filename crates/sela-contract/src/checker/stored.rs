//! B3's comparison of a stored lead (read back) with the item sent: phone
//! compared after normalisation, e-mail ignoring ASCII case, and for a created
//! lead every other field sent, metadata key by key with JSON values (a number
//! must stay a number).

use serde_json::{Map, Value};

use sela_leads::rules::{READ_ONLY_FIELDS, WRITABLE_FIELDS, normalize_phone};

/// Metadata keys the server may echo besides the lead fields
/// ([`WRITABLE_FIELDS`], [`READ_ONLY_FIELDS`]): exempt from the comparison.
const ECHOED: &[&str] = &["created_at"];

/// True for a metadata key named like a top-level lead field: the server may
/// echo its own value there.
pub(crate) fn exempt(key: &str) -> bool {
    WRITABLE_FIELDS.contains(&key) || READ_ONLY_FIELDS.contains(&key) || ECHOED.contains(&key)
}

/// How the stored lead differs from the item sent, if it does. `full` compares
/// every field (a `created` result); otherwise only phone and e-mail (a
/// `reengaged` result: the existing lead keeps its own fields).
pub(super) fn stored_mismatch(sent: &Value, lead: &Value, full: bool) -> Option<String> {
    let sent_phone = sent
        .get("phone_number")
        .and_then(Value::as_str)
        .unwrap_or("");
    // A lead without the phone or e-mail sent is not item i's lead (an empty
    // object matches nothing).
    match lead.get("phone_number") {
        Some(Value::String(p)) if same_phone(sent_phone, p) => {}
        None if sent_phone.is_empty() => {}
        None => return Some(format!("has no phone_number, item sent {sent_phone:?}")),
        Some(other) => {
            return Some(format!(
                "has phone_number {other}, item sent {sent_phone:?}"
            ));
        }
    }
    let norm = |v: Option<&Value>| -> Option<String> {
        v.and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (a, b) = (norm(sent.get("email")), norm(lead.get("email")));
    if a != b {
        return Some(format!(
            "has email {}, item sent {}",
            lead.get("email")
                .map_or("nothing".to_owned(), Value::to_string),
            sent.get("email").unwrap_or(&Value::Null)
        ));
    }
    if !full {
        return None;
    }
    let shown = |v: Option<&Value>| v.map_or("nothing".to_owned(), Value::to_string);
    for key in ["external_id", "lead_source"] {
        if let Some(Value::String(want)) = sent.get(key)
            && !lead
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|got| same_text(want, got))
        {
            return Some(format!(
                "has {key} {}, item sent {want:?}",
                shown(lead.get(key))
            ));
        }
    }
    if let Some(Value::String(want)) = sent.get("us_state")
        && !lead
            .get("us_state")
            .and_then(Value::as_str)
            .is_some_and(|got| got.eq_ignore_ascii_case(want))
    {
        return Some(format!(
            "has us_state {}, item sent {want:?}",
            shown(lead.get("us_state"))
        ));
    }
    for key in ["lead_type", "representative"] {
        if let Some(want) = sent.get(key).and_then(id_of)
            && lead.get(key).and_then(id_of) != Some(want)
        {
            return Some(format!(
                "has {key} {}, item sent {want}",
                shown(lead.get(key))
            ));
        }
    }
    if let Some(Value::Object(want)) = sent.get("metadata") {
        let empty = Map::new();
        let got = lead
            .get("metadata")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (k, v) in want {
            if exempt(k) {
                continue;
            }
            if !got.get(k).is_some_and(|g| loose_eq(g, v)) {
                return Some(format!(
                    "has metadata.{k} {}, item sent {v}",
                    shown(got.get(k))
                ));
            }
        }
    }
    None
}

/// An id as sent or stored: an integer, a string of digits, or an object with
/// an `id` (a nested representation).
fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => o.get("id").and_then(id_of),
        _ => None,
    }
}

/// JSON equality with numbers compared by value (`1000` equals `1000.0`), but
/// never a number equal to a string.
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// B3's equality: the value is item i's, not a neighbour's, even where it
/// was stored with less fidelity (characters lost to `?` or U+FFFD, a double
/// kept as a float): exactness is B5's. Numbers never equal strings.
pub(super) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p == q || (p - q).abs() <= 1e-6 * p.abs().max(q.abs()).max(1.0),
            _ => false,
        },
        (Value::String(x), Value::String(y)) => same_text(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| loose_eq(p, q)))
        }
        _ => a == b,
    }
}

/// The same text up to characters a lossy store replaces or drops: the ASCII
/// characters other than `?`, in order.
fn same_text(a: &str, b: &str) -> bool {
    let kept = |s: &str| -> String { s.chars().filter(|c| c.is_ascii() && *c != '?').collect() };
    a == b || kept(a) == kept(b)
}

/// The same number, however written (national format read back is fine).
pub(super) fn same_phone(sent: &str, stored: &str) -> bool {
    match (normalize_phone(sent), normalize_phone(stored)) {
        (Ok(a), Ok(b)) => a == b,
        _ => {
            let digits = |s: &str| -> String {
                let d: String = s.chars().filter(char::is_ascii_digit).collect();
                match d.strip_prefix('1') {
                    Some(rest) if d.len() == 11 => rest.to_owned(),
                    _ => d,
                }
            };
            digits(sent) == digits(stored)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent() -> Value {
        json!({
            "phone_number": "(212) 555-0123", "email": "a@example.com",
            "external_id": "t-x1", "lead_source": "web", "us_state": "CA",
            "lead_type": 3,
            "metadata": {"score": 7, "ratio": 1e3, "vip": true, "email": "echo"}
        })
    }

    fn stored() -> Value {
        json!({
            "phone_number": "2125550123", "email": "A@example.com",
            "external_id": "t-x1", "lead_source": "web", "us_state": "CA",
            "lead_type": {"id": 3},
            "metadata": {"score": 7, "ratio": 1000, "vip": true, "email": "a@example.com"}
        })
    }

    #[test]
    fn a_faithful_lead_matches() {
        assert_eq!(stored_mismatch(&sent(), &stored(), true), None);
    }

    #[test]
    fn every_field_is_compared() {
        let cases: Vec<(&str, Value)> = vec![
            ("phone_number", json!("+12125550124")),
            ("email", json!("b@example.com")),
            ("external_id", json!("t-x2")),
            ("external_id", Value::Null),
            ("lead_source", json!("other")),
            ("us_state", json!("NY")),
            ("lead_type", json!(4)),
        ];
        for (key, value) in cases {
            let mut lead = stored();
            lead[key] = value.clone();
            let why = stored_mismatch(&sent(), &lead, true);
            assert!(
                why.as_deref().is_some_and(|w| w.contains(key)),
                "{key}={value}: {why:?}"
            );
        }
        let mut lead = stored();
        lead["metadata"]["score"] = json!("7");
        assert!(
            stored_mismatch(&sent(), &lead, true).is_some(),
            "number turned string"
        );
        let mut lead = stored();
        lead["metadata"].as_object_mut().unwrap().remove("vip");
        assert!(
            stored_mismatch(&sent(), &lead, true).is_some(),
            "key dropped"
        );
        // A lead without the phone or the e-mail sent is not the item's, even
        // when only phone and e-mail are compared; `{}` matches nothing.
        for key in ["phone_number", "email"] {
            let mut lead = stored();
            lead.as_object_mut().unwrap().remove(key);
            let why = stored_mismatch(&sent(), &lead, false);
            assert!(
                why.as_deref().is_some_and(|w| w.contains(key)),
                "{key}: {why:?}"
            );
        }
        assert!(stored_mismatch(&sent(), &json!({}), false).is_some());
        // A reengaged lead keeps its own fields: only phone and e-mail count.
        let mut lead = stored();
        lead["external_id"] = json!("older");
        assert_eq!(stored_mismatch(&sent(), &lead, false), None);
    }
}
