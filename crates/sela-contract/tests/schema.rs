//! The structural T3 check (`sela_contract::schema`) matches the bulk
//! response schema of `openapi.yaml`: if the spec changes, this test says so.

use sela_contract::schema::{ACTIONS, RESPONSE_REQUIRED, RESULT_REQUIRED, check_bulk_response};
use serde_json::{Value, json};

/// The repository's `openapi.yaml`, two levels above this crate.
fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
        .expect("openapi.yaml at the repository root");
    serde_norway::from_str(&text).expect("openapi.yaml parses")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn t3_checks_what_the_spec_says() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let bulk = &spec["paths"]["/api/leads/bulk-create/"]["post"]["responses"];
    for status in ["200", "201"] {
        assert_eq!(
            bulk[status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/BulkCreateLeadResponse",
            "{status}"
        );
    }
    let response = &schemas["BulkCreateLeadResponse"];
    assert_eq!(strings(&response["required"]), RESPONSE_REQUIRED);
    assert_eq!(response["properties"]["results"]["type"], "array");
    assert_eq!(
        response["properties"]["results"]["items"]["$ref"],
        "#/components/schemas/BulkCreateLeadResult"
    );
    let result = &schemas["BulkCreateLeadResult"];
    assert_eq!(strings(&result["required"]), RESULT_REQUIRED);
    assert_eq!(
        result["properties"]["action"]["$ref"],
        "#/components/schemas/BulkCreateLeadAction"
    );
    assert_eq!(strings(&schemas["BulkCreateLeadAction"]["enum"]), ACTIONS);
    let id = &result["properties"]["id"];
    assert_eq!(
        (&id["type"], &id["format"], &id["nullable"]),
        (&json!("integer"), &json!("int64"), &json!(true))
    );
    // `error`: a nullable `BulkCreateLeadError`, a string (the client keeps any
    // JSON value there; the check holds the documented string).
    let error = &result["properties"]["error"];
    assert_eq!(
        (&error["allOf"][0]["$ref"], &error["nullable"]),
        (
            &json!("#/components/schemas/BulkCreateLeadError"),
            &json!(true)
        )
    );
    assert_eq!(schemas["BulkCreateLeadError"]["type"], "string");
    // Extra properties are allowed by the spec, so the check must allow them.
    for schema in [response, result] {
        assert_ne!(schema["additionalProperties"], json!(false));
    }
    assert_eq!(
        result["properties"].as_object().map(|p| p.len()),
        Some(3),
        "BulkCreateLeadResult gained a property: teach schema.rs about it"
    );
}

#[test]
fn the_documented_sample_validates() {
    let sample = json!({"results": [
        {"id": 28013, "action": "created"},
        {"id": 28013, "action": "reengaged"},
        {"id": null, "action": "error", "error": "Each lead must be a JSON object."}
    ]});
    assert_eq!(check_bulk_response(&sample), Ok(()));
}
