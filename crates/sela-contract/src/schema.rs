//! Clause T3: the bulk answer against `BulkCreateLeadResponse` of `openapi.yaml`,
//! checked structurally. A test (`tests/schema.rs`) reads the spec and
//! fails if the schema there drifts from what is checked here.

use serde_json::Value;

/// `BulkCreateLeadAction`: the values `action` may take.
pub const ACTIONS: &[&str] = &["created", "reengaged", "error"];
/// Required properties of `BulkCreateLeadResponse`.
pub const RESPONSE_REQUIRED: &[&str] = &["results"];
/// Required properties of `BulkCreateLeadResult`.
pub const RESULT_REQUIRED: &[&str] = &["action"];

/// Checks `body` against `BulkCreateLeadResponse`: an object whose `results` is an
/// array of objects with `action` in [`ACTIONS`], `id` an int64 or null, `error`
/// a string or null. Extra properties are allowed (the schema does not forbid
/// them). `Err` says what is wrong, with a JSON pointer.
pub fn check_bulk_response(body: &Value) -> Result<(), String> {
    let obj = body
        .as_object()
        .ok_or_else(|| format!("body is {}, not an object", kind(body)))?;
    let results = obj
        .get("results")
        .ok_or_else(|| "required property `results` is missing".to_owned())?;
    let results = results
        .as_array()
        .ok_or_else(|| format!("/results is {}, not an array", kind(results)))?;
    for (i, r) in results.iter().enumerate() {
        let r = r
            .as_object()
            .ok_or_else(|| format!("/results/{i} is {}, not an object", kind(r)))?;
        match r.get("action") {
            None => {
                return Err(format!(
                    "/results/{i}: required property `action` is missing"
                ));
            }
            Some(Value::String(a)) if ACTIONS.contains(&a.as_str()) => {}
            Some(other) => {
                return Err(format!(
                    "/results/{i}/action is {other}, not one of {ACTIONS:?}"
                ));
            }
        }
        match r.get("id") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.as_i64().is_some() => {}
            Some(other) => {
                return Err(format!("/results/{i}/id is {other}, not an int64 or null"));
            }
        }
        match r.get("error") {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(other) => {
                return Err(format!(
                    "/results/{i}/error is {other}, not a string or null"
                ));
            }
        }
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_documented_shapes_and_extras() {
        let ok = json!({"results": [
            {"id": 1, "action": "created"},
            {"id": 5_000_000_000_i64, "action": "reengaged", "error": null, "extra": 1},
            {"id": null, "action": "error", "error": "Each lead must be a JSON object."},
            {"action": "error", "error": "x"}
        ], "extra": true});
        assert_eq!(check_bulk_response(&ok), Ok(()));
        assert_eq!(check_bulk_response(&json!({"results": []})), Ok(()));
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            json!([]),
            json!({}),
            json!({"results": {}}),
            json!({"results": [1]}),
            json!({"results": [{"id": 1}]}),
            json!({"results": [{"id": 1, "action": "made"}]}),
            json!({"results": [{"id": "1", "action": "created"}]}),
            json!({"results": [{"id": 1.5, "action": "created"}]}),
            json!({"results": [{"id": null, "action": "error", "error": 3}]}),
        ] {
            assert!(check_bulk_response(&bad).is_err(), "{bad}");
        }
    }
}
