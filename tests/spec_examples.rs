//! The documentation's own samples, kept in `openapi.yaml` as named
//! `examples`, validate against the schema they illustrate (JSON Schema, with
//! formats) and decode as the generated type: the spec and the samples cannot
//! drift apart.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

fn spec() -> Value {
    serde_norway::from_str(include_str!("../openapi.yaml")).expect("openapi.yaml parses")
}

/// An OpenAPI 3.0 schema as JSON Schema (draft 7): `nullable` becomes a `null`
/// type (or an `anyOf` with null), refs point into `definitions`, OpenAPI-only
/// keywords are dropped.
fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "nullable" | "example" | "examples" | "discriminator" | "xml" | "externalDocs"
            | "deprecated" | "readOnly" | "writeOnly" => {}
            k if k.starts_with("x-") => {}
            "$ref" => {
                let target = value.as_str().unwrap_or_default();
                out.insert(
                    key.clone(),
                    json!(target.replace("#/components/schemas/", "#/definitions/")),
                );
            }
            "properties" => {
                let props = value.as_object().into_iter().flatten();
                let props = props.map(|(k, v)| (k.clone(), to_json_schema(v))).collect();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" | "not" | "additionalProperties" => {
                out.insert(key.clone(), to_json_schema(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list = value.as_array().into_iter().flatten();
                out.insert(key.clone(), list.map(to_json_schema).collect());
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

/// A validator of `schema` with every component schema as a definition.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let definitions: Map<String, Value> = spec["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
        .iter()
        .map(|(k, v)| (k.clone(), to_json_schema(v)))
        .collect();
    let standalone = json!({ "definitions": definitions, "allOf": [to_json_schema(schema)] });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&standalone)
        .expect("the converted schema compiles")
}

/// One named example: where it is, its schema and its value.
struct Example {
    place: String,
    name: String,
    schema: Value,
    value: Value,
}

/// Every named example of a media type of a request body or a response.
fn examples(spec: &Value) -> Vec<Example> {
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => spec
                .pointer(r.trim_start_matches('#'))
                .cloned()
                .unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().into_iter().flatten() {
            let mut contents = vec![(format!("{method} {path} request"), &op["requestBody"])];
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                contents.push((format!("{method} {path} {status}"), response));
            }
            for (place, holder) in contents {
                let holder = resolve(holder);
                for (media, content) in holder["content"].as_object().into_iter().flatten() {
                    for (name, example) in content["examples"].as_object().into_iter().flatten() {
                        found.push(Example {
                            place: format!("{place} {media}"),
                            name: name.clone(),
                            schema: content["schema"].clone(),
                            value: example["value"].clone(),
                        });
                    }
                }
            }
        }
    }
    found
}

/// Decodes `value` as the generated type of the schema `reference` names.
fn decodes_as_generated(reference: &str, value: &Value) -> Result<(), String> {
    use sela_leads::api::types;
    let name = reference.rsplit('/').next().unwrap_or(reference);
    let value = value.clone();
    let result = match name {
        "PartialLead" => serde_json::from_value::<types::PartialLead>(value).map(drop),
        "PaginatedPartialLeadList" => {
            serde_json::from_value::<types::PaginatedPartialLeadList>(value).map(drop)
        }
        "UpdateLeadRequestRequest" => {
            serde_json::from_value::<types::UpdateLeadRequestRequest>(value).map(drop)
        }
        "BulkCreateLeadRequestRequest" => {
            serde_json::from_value::<types::BulkCreateLeadRequestRequest>(value).map(drop)
        }
        "BulkCreateLeadResponse" => {
            serde_json::from_value::<types::BulkCreateLeadResponse>(value).map(drop)
        }
        other => return Err(format!("no generated type listed here for {other}")),
    };
    result.map_err(|e| e.to_string())
}

#[test]
fn every_documented_example_validates_and_decodes() {
    let spec = spec();
    let examples = examples(&spec);
    let names: BTreeSet<&str> = examples.iter().map(|e| e.name.as_str()).collect();
    // The documentation's named examples, and ours for its other samples.
    for documented in [
        "LeadRetrieved",
        "CancelMatchedLead",
        "CloseMatchedLead",
        "MarkMatchedLeadLostWithCallDNC",
        "BulkCreateLeads",
        "BulkCreateLeadsResults",
        "LeadCreated",
        "LeadList",
    ] {
        assert!(
            names.contains(documented),
            "{documented} missing from openapi.yaml"
        );
    }
    let mut failures = Vec::new();
    for example in &examples {
        let what = format!("{} ({})", example.name, example.place);
        let validator = validator(&spec, &example.schema);
        failures.extend(
            validator
                .iter_errors(&example.value)
                .map(|e| format!("{what}: {e} at {}", e.instance_path())),
        );
        let reference = example.schema["$ref"].as_str().unwrap_or_default();
        if let Err(e) = decodes_as_generated(reference, &example.value) {
            failures.push(format!("{what}: does not decode: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_validation_refuses_an_example_that_breaks_its_schema() {
    let spec = spec();
    let examples = examples(&spec);
    let find = |name: &str| examples.iter().find(|e| e.name == name).expect(name);
    let mut bulk = find("BulkCreateLeadsResults").value.clone();
    bulk["results"][0]["id"] = json!("123");
    let mut put = find("CloseMatchedLead").value.clone();
    put.as_object_mut().unwrap().remove("phone_number");
    let mut lead = find("LeadRetrieved").value.clone();
    lead["email"] = json!(5);
    let mut page = find("LeadList").value.clone();
    page["results"][0]["created_time"] = json!("025-02-28T09:00:00-08:00");
    for (name, broken) in [
        ("BulkCreateLeadsResults", bulk),
        ("CloseMatchedLead", put),
        ("LeadRetrieved", lead),
        ("LeadList", page),
    ] {
        let validator = validator(&spec, &find(name).schema);
        assert!(
            !validator.is_valid(&broken),
            "{name} broken still validates"
        );
    }
}
