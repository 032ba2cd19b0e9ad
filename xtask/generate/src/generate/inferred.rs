//! Facts of `openapi.yaml` not read in the documentation: every node marked
//! `x-sela-inferred: true`, with the `Inferred:` line of its description that
//! says what was guessed. A mark without that line fails `--check`.

use serde_json::Value;

/// The extension that marks a node of the spec as inferred.
pub const MARK: &str = "x-sela-inferred";
/// The description line that says what is inferred.
pub const PREFIX: &str = "Inferred:";

/// One inferred fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inferred {
    /// `GET /api/leads/`, `Schema.field`, `Schema` or `response Name`.
    pub location: String,
    /// The `Inferred:` line of the description, without the prefix; `None`
    /// when the description has none (which `--check` refuses).
    pub why: Option<String>,
}

/// Every inferred node of the spec, sorted by location.
pub fn collect(spec: &Value) -> Vec<Inferred> {
    let mut found = Vec::new();
    walk(spec, &mut Vec::new(), &mut found);
    found.sort_by(|a, b| a.location.cmp(&b.location));
    found
}

fn walk(value: &Value, pointer: &mut Vec<String>, found: &mut Vec<Inferred>) {
    match value {
        Value::Object(map) => {
            if map.get(MARK).and_then(Value::as_bool) == Some(true) {
                let why = map
                    .get("description")
                    .and_then(Value::as_str)
                    .and_then(|d| d.lines().find_map(|l| l.trim().strip_prefix(PREFIX)))
                    .map(|l| l.trim().to_owned());
                found.push(Inferred {
                    location: location(pointer),
                    why,
                });
            }
            for (key, child) in map {
                pointer.push(key.clone());
                walk(child, pointer, found);
                pointer.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointer.push(index.to_string());
                walk(child, pointer, found);
                pointer.pop();
            }
        }
        _ => {}
    }
}

/// A readable name for a node: `GET /path`, `Schema.field`, `Schema`, `response Name`.
fn location(pointer: &[String]) -> String {
    let parts: Vec<&str> = pointer.iter().map(String::as_str).collect();
    match parts.as_slice() {
        ["paths", path, method] => format!("{} {path}", method.to_uppercase()),
        ["components", "schemas", schema] => (*schema).to_owned(),
        ["components", "schemas", schema, "properties", field] => format!("{schema}.{field}"),
        ["components", "responses", name] => format!("response {name}"),
        ["components", "parameters", name] => format!("parameter {name}"),
        _ => format!("/{}", parts.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn marks_are_found_with_their_line_or_without_one() {
        let spec = json!({
            "paths": {"/api/x/": {"get": {"x-sela-inferred": true,
                "description": "Lists x.\nInferred: the operationId."}}},
            "components": {"schemas": {"X": {"properties": {"y": {"x-sela-inferred": true}}}}}
        });
        assert_eq!(
            collect(&spec),
            vec![
                Inferred {
                    location: "GET /api/x/".into(),
                    why: Some("the operationId.".into())
                },
                Inferred {
                    location: "X.y".into(),
                    why: None
                },
            ]
        );
    }
}
