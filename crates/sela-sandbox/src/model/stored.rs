//! The stored lead as the API answers it (built from a create body, its
//! identity, its time fields) and the listing of leads and lead types.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{Identity, LEAD_TYPES, Model, Rejection};
use crate::pagination::{InvalidPage, encode_query_value, paginate};
use sela_leads::rules::{IntValue, READ_ONLY_FIELDS, WRITABLE_FIELDS, integer, parse_time};

impl Model {
    /// `GET /api/leads/`: one page, ids ascending. `base_url` is the sandbox's
    /// absolute base URL with a trailing slash, used for `next` / `previous`.
    /// `page` and `page_size` are the raw query values. An invalid or
    /// out-of-range page is 404 `Invalid page.`, as Django REST framework answers;
    /// an invalid page size falls back to the default.
    pub fn list(
        &self,
        page: Option<&str>,
        page_size: Option<&str>,
        base_url: &str,
    ) -> Result<Value, Rejection> {
        // Only the page's leads are copied: a count-only request on a large
        // sandbox stays cheap.
        paginate(
            self.leads.len(),
            |start, size| {
                self.leads
                    .values()
                    .skip(start)
                    .take(size)
                    .map(|l| Value::Object((**l).clone()))
                    .collect()
            },
            page,
            page_size,
            &format!("{base_url}api/leads/"),
        )
        .map_err(Rejection::from)
    }

    /// `GET /api/lead-types/`: the fixed lead types, with `search` on the name.
    pub fn list_lead_types(
        &self,
        page: Option<&str>,
        page_size: Option<&str>,
        search: Option<&str>,
        base_url: &str,
    ) -> Result<Value, Rejection> {
        let needle = search.unwrap_or("").to_lowercase();
        let items: Vec<Value> = LEAD_TYPES
            .iter()
            .filter(|(_, name)| name.to_lowercase().contains(&needle))
            .map(|(id, name)| lead_type_json(*id, name))
            .collect();
        let mut url = format!("{base_url}api/lead-types/");
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            url = format!("{url}?search={}", encode_query_value(s));
        }
        paginate(
            items.len(),
            |start, size| items.iter().skip(start).take(size).cloned().collect(),
            page,
            page_size,
            &url,
        )
        .map_err(Rejection::from)
    }
}

impl From<InvalidPage> for Rejection {
    fn from(_: InvalidPage) -> Self {
        Rejection::NotFound("Invalid page.".to_owned())
    }
}

pub(super) fn int_or_null(v: &Value) -> Value {
    match integer(v) {
        IntValue::Int(n) => json!(n),
        _ => Value::Null,
    }
}

/// A time as the API answers it: UTC with microseconds, or with nanoseconds
/// when the time has them, so a stored time is always the instant sent (B5).
pub(super) fn format_time(t: DateTime<Utc>) -> String {
    let digits = if t.timestamp_subsec_nanos().is_multiple_of(1000) {
        SecondsFormat::Micros
    } else {
        SecondsFormat::Nanos
    };
    t.to_rfc3339_opts(digits, false)
}

pub(super) fn time_or_null(v: Option<&Value>) -> Value {
    v.and_then(Value::as_str)
        .and_then(parse_time)
        .map_or(Value::Null, |t| Value::String(format_time(t)))
}

/// Folds the body's unknown top-level keys into `metadata`, as the API is
/// documented to. A key the body's own `metadata` holds keeps that value: what
/// was sent in `metadata` reads back as sent (B3, B5).
pub(super) fn fold_unknown_keys(obj: &Map<String, Value>, metadata: &mut Map<String, Value>) {
    let sent = obj.get("metadata").and_then(Value::as_object);
    for (key, value) in obj {
        if !WRITABLE_FIELDS.contains(&key.as_str())
            && !READ_ONLY_FIELDS.contains(&key.as_str())
            && !sent.is_some_and(|m| m.contains_key(key))
        {
            metadata.insert(key.clone(), value.clone());
        }
    }
}

pub(super) fn new_lead(
    id: i64,
    obj: &Map<String, Value>,
    identity: &Identity,
    now: DateTime<Utc>,
) -> Map<String, Value> {
    let now_s = Value::String(format_time(now));
    let mut metadata = obj
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    fold_unknown_keys(obj, &mut metadata);
    let str_or_null = |field: &str| {
        obj.get(field)
            .filter(|v| v.is_string())
            .cloned()
            .unwrap_or(Value::Null)
    };
    let count = match obj.get("reengagement_count").map(integer) {
        Some(IntValue::Int(n)) => n,
        _ => 0,
    };
    let reengagement_time = time_or_null(obj.get("reengagement_time"));
    let call_schedule_start_time = time_or_null(obj.get("call_schedule_start_time"));
    let next_call_time = if call_schedule_start_time.is_null() {
        now_s.clone()
    } else {
        call_schedule_start_time.clone()
    };
    let status = obj
        .get("status")
        .filter(|v| v.is_string())
        .cloned()
        .unwrap_or_else(|| Value::String("NEW".into()));
    let flag = |field: &str| obj.get(field).and_then(Value::as_bool).unwrap_or(false);
    let lead = json!({
        "id": id,
        "email": identity.email,
        "phone_number": identity.phone,
        "metadata": metadata,
        "modified_time": now_s,
        "created_time": now_s,
        "received_time": now_s,
        "status": status,
        "status_reason": str_or_null("status_reason"),
        "lead_source": str_or_null("lead_source"),
        "lead_type": obj.get("lead_type").map_or(Value::Null, int_or_null),
        "representative": obj.get("representative").map_or(Value::Null, int_or_null),
        "next_call_time": next_call_time,
        "next_call_time_reason": "FIRST_CALL",
        "external_id": str_or_null("external_id"),
        "us_state": str_or_null("us_state"),
        "reengagement_count": count,
        "reengagements_count": count,
        "reengagement_time": reengagement_time,
        "last_reengagement_time": reengagement_time,
        "call_schedule_start_time": call_schedule_start_time,
        "sms_dnc": flag("sms_dnc"),
        "call_dnc": flag("call_dnc"),
    });
    match lead {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn lead_type_json(id: i64, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "lead_metadata_fields": [
            {"key": "first_name", "label": "First name", "helpText": "The lead's first name.", "type": "string", "required": true},
            {"key": "loan_amount", "label": "Loan amount", "helpText": "Requested amount in USD.", "type": "number", "required": false},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    fn valid(phone: &str, email: &str) -> Value {
        json!({"phone_number": phone, "email": email})
    }

    #[test]
    fn stored_lead_has_the_documented_fields_and_folds_unknown_keys() {
        let mut m = Model::new();
        let item = json!({
            "phone_number": "804.555.0199",
            "email": "z@example.com",
            "metadata": {"first_name": "Ada"},
            "last_name": "Lovelace",
            "us_state": "VA",
            "external_id": "crm-1",
            "id": 999,
        });
        let (lead, action) = m.create(&item).unwrap();
        assert_eq!(action, Action::Created);
        assert_eq!(lead["id"], json!(1));
        assert_eq!(lead["phone_number"], "+18045550199");
        assert_eq!(lead["status"], "NEW");
        assert_eq!(
            lead["metadata"],
            json!({"first_name": "Ada", "last_name": "Lovelace"})
        );
        for field in [
            "email",
            "phone_number",
            "metadata",
            "modified_time",
            "created_time",
            "received_time",
            "status",
            "status_reason",
            "lead_source",
            "lead_type",
            "representative",
            "next_call_time",
            "next_call_time_reason",
            "external_id",
            "us_state",
            "reengagement_count",
            "reengagements_count",
            "reengagement_time",
            "last_reengagement_time",
            "call_schedule_start_time",
            "sms_dnc",
            "call_dnc",
        ] {
            assert!(lead.get(field).is_some(), "missing {field}");
        }
        assert!(DateTime::parse_from_rfc3339(lead["created_time"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn pagination_links_and_bounds() {
        let mut m = Model::new();
        for i in 0..5 {
            m.create_item(&valid(&format!("+1804555010{i}"), "p@example.com"))
                .unwrap();
        }
        let base = "http://127.0.0.1:1/";
        let p1 = m.list(None, Some("2"), base).unwrap();
        assert_eq!(p1["count"], 5);
        assert_eq!(p1["previous"], Value::Null);
        assert_eq!(
            p1["next"],
            "http://127.0.0.1:1/api/leads/?page=2&page_size=2"
        );
        let p2 = m.list(Some("2"), Some("2"), base).unwrap();
        assert_eq!(p2["previous"], "http://127.0.0.1:1/api/leads/?page_size=2");
        let p3 = m.list(Some("3"), Some("2"), base).unwrap();
        assert_eq!(p3["next"], Value::Null);
        assert_eq!(p3["results"].as_array().unwrap().len(), 1);
        for bad in ["4", "0", "x", "-1"] {
            assert_eq!(
                m.list(Some(bad), Some("2"), base),
                Err(Rejection::NotFound("Invalid page.".into())),
                "{bad}"
            );
        }
        let empty = Model::new().list(None, None, base).unwrap();
        assert_eq!(
            empty,
            json!({"count": 0, "next": null, "previous": null, "results": []})
        );
    }
}
