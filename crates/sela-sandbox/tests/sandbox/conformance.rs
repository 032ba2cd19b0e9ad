//! `openapi.yaml` as JSON Schema, and the check of one answer against it.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// openapi.yaml as JSON Schema
// ---------------------------------------------------------------------------

/// The spec, parsed once.
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
                .expect("openapi.yaml is readable");
        serde_norway::from_str(&text).expect("openapi.yaml is YAML")
    })
}

/// Converts an OpenAPI 3.0 schema object to JSON Schema (draft 7): `nullable`
/// becomes a `null` type (or an `anyOf` with null around a `$ref`/`allOf`),
/// `#/components/schemas/X` refs become `#/definitions/X`, and OpenAPI-only
/// keywords are dropped.
pub(crate) fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                match key.as_str() {
                    "nullable" | "example" | "examples" | "discriminator" | "xml"
                    | "externalDocs" | "deprecated" | "readOnly" | "writeOnly" => {}
                    "$ref" => {
                        let target = value.as_str().unwrap_or_default();
                        out.insert(
                            key.clone(),
                            json!(target.replace("#/components/schemas/", "#/definitions/")),
                        );
                    }
                    "properties" => {
                        let props = value
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(k, v)| (k.clone(), to_json_schema(v)))
                                    .collect::<Map<_, _>>()
                            })
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" | "not" | "additionalProperties" => {
                        out.insert(key.clone(), to_json_schema(value));
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        let list = value
                            .as_array()
                            .map(|l| l.iter().map(to_json_schema).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Array(list));
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(values)) = out.get_mut("enum") {
                            values.push(Value::Null);
                        }
                    }
                    _ => return json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `{"definitions": <every component schema>, "allOf": [<schema>]}`.
pub(crate) fn standalone(schema: &Value) -> Value {
    static DEFINITIONS: OnceLock<Value> = OnceLock::new();
    let definitions = DEFINITIONS.get_or_init(|| {
        let schemas = spec()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .expect("components.schemas");
        Value::Object(
            schemas
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect(),
        )
    });
    json!({ "definitions": definitions, "allOf": [to_json_schema(schema)] })
}

pub(crate) fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => spec()
            .pointer(r.trim_start_matches('#'))
            .map_or(value, resolve),
        None => value,
    }
}

/// The spec's path template for a concrete path, if the spec has it.
pub(crate) fn template(path: &str) -> Option<&'static str> {
    match path {
        "/api/leads/" => Some("/api/leads/"),
        "/api/leads/update/" => Some("/api/leads/update/"),
        "/api/leads/bulk-create/" => Some("/api/leads/bulk-create/"),
        "/api/lead-types/" => Some("/api/lead-types/"),
        p if p.starts_with("/api/leads/") && p.ends_with('/') && p.matches('/').count() == 4 => {
            Some("/api/leads/{id}/")
        }
        _ => None,
    }
}

/// Statuses the sandbox gives that `openapi.yaml` does not list for the
/// operation, each with its reason. The body must still be an `ApiError`.
pub(crate) fn known_spec_gap(method: &str, template: &str, status: u16) -> bool {
    matches!(
        (method, template, status),
        // Django REST framework answers an out-of-range page with 404 `Invalid page.`;
        // the spec's list operations do not document a 404.
        ("GET", "/api/leads/" | "/api/lead-types/", 404)
    ) || status == 405 // a method the spec does not have for that path
}

/// Checks one answer against the spec: documented status (or a known gap),
/// JSON content type, and a body that validates against the schema.
pub(crate) fn conformance_errors(
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Vec<String> {
    let mut errors = Vec::new();
    let what = format!("{method} {path} -> {status}");
    if !content_type.starts_with("application/json") {
        errors.push(format!("{what}: content type {content_type:?}"));
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            errors.push(format!("{what}: body is not JSON: {e}"));
            return errors;
        }
    };
    let api_error = json!({"$ref": "#/components/schemas/ApiError"});
    let schema = match template(path) {
        None => {
            if status != 404 {
                errors.push(format!("{what}: a path outside the spec must be 404"));
            }
            api_error
        }
        Some(t) => {
            let op = spec().pointer(&format!(
                "/paths/{}/{}",
                t.replace('/', "~1"),
                method.to_lowercase()
            ));
            // The status itself, else its range (`2XX`), as OpenAPI reads them.
            let response = op.and_then(|op| {
                op.pointer(&format!("/responses/{status}"))
                    .or_else(|| op.pointer(&format!("/responses/{}XX", status / 100)))
            });
            match response {
                Some(response) => {
                    match resolve(response).pointer("/content/application~1json/schema") {
                        Some(schema) => schema.clone(),
                        None => {
                            errors.push(format!("{what}: the spec has no JSON schema for it"));
                            return errors;
                        }
                    }
                }
                None if known_spec_gap(method, t, status) => api_error,
                None => {
                    errors.push(format!("{what}: status not documented in openapi.yaml"));
                    api_error
                }
            }
        }
    };
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&standalone(&schema))
        .expect("the converted schema compiles");
    for error in validator.iter_errors(&value) {
        errors.push(format!("{what}: {error} at {}", error.instance_path()));
    }
    errors
}

// ---------------------------------------------------------------------------
// The conformance checker itself must be able to fail
// ---------------------------------------------------------------------------

#[test]
fn the_conformance_check_rejects_answers_outside_the_spec() {
    let ok =
        br#"{"results":[{"id":1,"action":"created"},{"id":null,"action":"error","error":"x"}]}"#;
    assert!(
        conformance_errors(
            "POST",
            "/api/leads/bulk-create/",
            200,
            "application/json",
            ok
        )
        .is_empty()
    );
    for (status, body) in [
        (200, &br#"{"results":[{"id":1,"action":"made"}]}"#[..]),
        (200, br#"{"results":[{"id":"1","action":"created"}]}"#),
        (200, br#"{"result":[]}"#),
        (302, br#"{"results":[]}"#),
        (400, br#"{"detail": 5}"#),
        (200, b"not json"),
    ] {
        let errors = conformance_errors(
            "POST",
            "/api/leads/bulk-create/",
            status,
            "application/json",
            body,
        );
        assert!(
            !errors.is_empty(),
            "{status} {}",
            String::from_utf8_lossy(body)
        );
    }
    let lead = br#"{"id": 1, "created_time": "yesterday"}"#;
    assert!(!conformance_errors("GET", "/api/leads/1/", 200, "application/json", lead).is_empty());
    let nullable = br#"{"id": 1, "email": null, "metadata": null, "lead_type": null}"#;
    assert!(
        conformance_errors("GET", "/api/leads/1/", 200, "application/json", nullable).is_empty()
    );
    let page = br#"{"count": 1, "next": "not a uri", "previous": null, "results": []}"#;
    assert!(!conformance_errors("GET", "/api/leads/", 200, "application/json", page).is_empty());
    assert!(
        !conformance_errors(
            "GET",
            "/api/leads/",
            200,
            "text/html",
            br#"{"count":0,"results":[]}"#
        )
        .is_empty()
    );
}
