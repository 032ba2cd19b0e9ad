//! B5 fidelity: what is read back is exactly what was sent. Strings keep every
//! character (outside the Basic Multilingual Plane too), a number that is not
//! an integer keeps its IEEE 754 double, an integer within +-2^53 keeps its
//! value, nested values keep their shape, `call_schedule_start_time` reads
//! back as the same instant. Integers beyond 2^53 are observed only.

use chrono::DateTime;
use serde_json::{Value, json};

/// 2^53: integers up to it in magnitude are exact in a double.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// The fields B5 compares besides `metadata` (strings compared exactly).
const STRING_FIELDS: &[&str] = &["external_id", "lead_source"];

/// The sets of values that test fidelity: metadata and a call time with an
/// offset. Each set mixes characters outside the BMP, combining marks,
/// right-to-left text, doubles that a float32 column changes, integers near
/// 2^53, nesting, and one integer beyond 2^53 (observed only).
pub fn challenges() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({
                "first_name": "Zoë 😀", "last_name": "𝄞 Müller",
                "note": "e\u{301}t\u{e9} שלום مرحبا", "loan_rate": 7.1,
                "big": 9_007_199_254_740_991_i64, "nested": {"a": [1, 2.5, {"b": "🎉"}], "c": []},
                "huge": 1_152_921_504_606_846_977_u64
            }),
            "2027-01-15T09:00:00-08:00",
        ),
        (
            json!({
                "first_name": "李雷 🚀", "last_name": "O\u{308}zil",
                "note": "עברית 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "loan_rate": 0.1, "ratio": -2.675,
                "big": -9_007_199_254_740_991_i64, "nested": [[1, [2, [3]]], {"k": null}]
            }),
            "2027-03-01T17:30:00+05:30",
        ),
        (
            json!({
                "first_name": "Ñúñez 👩\u{200d}💻", "note": "ᄀ\u{1161}\u{11a8} 🇺🇸",
                "loan_rate": 123.456, "tiny": 1e-7, "count": 2_147_483_648_i64,
                "nested": {"deep": {"deeper": {"deepest": ["x", 0.3]}}}
            }),
            "2027-06-30T23:59:59Z",
        ),
    ]
}

/// What B5 found on one lead read back: the first difference, and whether
/// integers beyond 2^53 kept their value (observed).
#[derive(Debug, Default)]
pub(crate) struct Fidelity {
    /// The first exact difference, if any.
    pub(crate) mismatch: Option<String>,
    /// Integers beyond 2^53 read back: (kept, changed).
    pub(crate) huge: (u32, u32),
}

/// Compares the lead read back with the item sent, exactly (see the module).
pub(crate) fn compare(sent: &Value, lead: &Value) -> Fidelity {
    let mut f = Fidelity::default();
    for key in STRING_FIELDS {
        if let Some(Value::String(want)) = sent.get(*key)
            && let Some(got) = lead.get(*key)
            && got.as_str() != Some(want)
        {
            f.mismatch = Some(format!("{key} reads back {got}, sent {}", json!(want)));
            return f;
        }
    }
    if let Some(Value::String(want)) = sent.get("call_schedule_start_time") {
        let got = lead.get("call_schedule_start_time");
        let same = match (instant(want), got.and_then(Value::as_str).and_then(instant)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !same {
            f.mismatch = Some(format!(
                "call_schedule_start_time reads back {}, sent {want:?}: not the same instant",
                got.map_or("nothing".to_owned(), Value::to_string)
            ));
            return f;
        }
    }
    if let (Some(Value::Object(want)), Some(Value::Object(got))) =
        (sent.get("metadata"), lead.get("metadata"))
    {
        for (k, v) in want {
            if crate::checker::stored::exempt(k) {
                continue;
            }
            let Some(g) = got.get(k) else { continue };
            if let Err(why) = exact(v, g, &mut f.huge) {
                f.mismatch = Some(format!("metadata.{k}{why}"));
                return f;
            }
        }
    }
    f
}

/// Exact JSON equality as B5 asks; `Err` says where and how it differs.
fn exact(sent: &Value, got: &Value, huge: &mut (u32, u32)) -> Result<(), String> {
    let differs = || Err(format!(" reads back {got}, sent {sent}"));
    match (sent, got) {
        (Value::Number(a), Value::Number(b)) => {
            let beyond =
                a.as_f64().is_some_and(|x| x.abs() > EXACT_INT) && (a.is_i64() || a.is_u64());
            if beyond {
                let kept = a.as_i64() == b.as_i64()
                    && a.as_u64() == b.as_u64()
                    && b.as_f64() == a.as_f64();
                if kept {
                    huge.0 += 1
                } else {
                    huge.1 += 1
                }
                return Ok(());
            }
            if a.as_f64() == b.as_f64() {
                Ok(())
            } else {
                differs()
            }
        }
        (Value::String(a), Value::String(b)) => {
            if a == b {
                Ok(())
            } else {
                differs()
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return differs();
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                exact(x, y, huge).map_err(|why| format!("[{i}]{why}"))?;
            }
            Ok(())
        }
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() {
                return differs();
            }
            for (k, x) in a {
                let Some(y) = b.get(k) else { return differs() };
                exact(x, y, huge).map_err(|why| format!(".{k}{why}"))?;
            }
            Ok(())
        }
        _ if sent == got => Ok(()),
        _ => differs(),
    }
}

/// An RFC 3339 date-time as an instant.
fn instant(s: &str) -> Option<DateTime<chrono::Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Value {
        let (meta, time) = &challenges()[0];
        json!({"phone_number": "+12125550100", "lead_source": "web 😀",
               "metadata": meta, "call_schedule_start_time": time})
    }

    #[test]
    fn an_exact_copy_holds_and_the_same_instant_in_utc_too() {
        let mut lead = item();
        lead["call_schedule_start_time"] = json!("2027-01-15T17:00:00Z");
        let f = compare(&item(), &lead);
        assert_eq!(f.mismatch, None);
        assert_eq!(f.huge, (1, 0));
    }

    #[test]
    fn every_kind_of_loss_is_found() {
        let cases: Vec<(&str, Value)> = vec![
            ("lead_source", json!("web ?")),
            ("call_schedule_start_time", json!("2027-01-15T09:00:00Z")),
        ];
        for (key, v) in cases {
            let mut lead = item();
            lead[key] = v;
            assert!(compare(&item(), &lead).mismatch.is_some(), "{key}");
        }
        let metas: Vec<(&str, Value)> = vec![
            ("first_name", json!("Zoë ?")),
            ("first_name", json!("Zoë \u{fffd}")),
            ("note", json!("ét\u{e9} שלום مرحبا")),
            ("loan_rate", json!(7.099_999_904_632_568)),
            ("big", json!(9_007_199_254_740_990_i64)),
            ("nested", json!({"a": [1, 2.5], "c": []})),
            ("nested", json!({"a": [1, 2.5, {"b": "🎉"}], "c": {}})),
        ];
        for (key, v) in metas {
            let mut lead = item();
            lead["metadata"][key] = v.clone();
            assert!(compare(&item(), &lead).mismatch.is_some(), "{key}={v}");
        }
        // Beyond 2^53: observed, never a failure.
        let mut lead = item();
        lead["metadata"]["huge"] = json!(1.152_921_504_606_847e18);
        let f = compare(&item(), &lead);
        assert_eq!((f.mismatch, f.huge), (None, (0, 1)));
    }
}
