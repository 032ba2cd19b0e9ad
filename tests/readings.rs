//! `openapi-readings.md` points into `openapi.yaml`: every schema, response
//! and example it names as the place of a reading exists there, and it keeps a
//! row for each of the documentation's twelve numbered discrepancies.

use serde_json::Value;

const READINGS: &str = include_str!("../openapi-readings.md");

/// The last cell of each table row: where in the spec the reading is stated.
fn places() -> Vec<&'static str> {
    READINGS
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
        .filter_map(|l| l.trim_end_matches('|').rsplit('|').next())
        .collect()
}

/// The names of every `examples` map of the spec.
fn example_names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(examples)) = map.get("examples") {
                out.extend(examples.keys().cloned());
            }
            map.values().for_each(|v| example_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| example_names(v, out)),
        _ => {}
    }
}

#[test]
fn every_place_a_reading_points_to_exists() {
    let spec: Value = serde_norway::from_str(include_str!("../openapi.yaml")).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let responses = spec["components"]["responses"].as_object().unwrap();
    let mut examples = Vec::new();
    example_names(&spec, &mut examples);
    let mut missing = Vec::new();
    for place in places() {
        // `Schema` or `Schema.property` in backticks, a capital first.
        for name in place.split('`').skip(1).step_by(2) {
            let (schema, property) = name.split_once('.').unwrap_or((name, ""));
            if !schema.starts_with(|c: char| c.is_ascii_uppercase()) || schema.contains(' ') {
                continue;
            }
            let found = schemas
                .get(schema)
                .is_some_and(|s| property.is_empty() || s["properties"].get(property).is_some())
                || (property.is_empty()
                    && (responses.contains_key(schema) || examples.iter().any(|e| e == schema)));
            if !found {
                missing.push(name.to_owned());
            }
        }
    }
    assert!(missing.is_empty(), "not in openapi.yaml: {missing:?}");
}

#[test]
fn each_numbered_discrepancy_has_its_row() {
    for n in 1..=12 {
        assert!(
            READINGS.lines().any(|l| l.starts_with(&format!("| {n} |"))),
            "discrepancy {n} has no row in openapi-readings.md"
        );
    }
}
