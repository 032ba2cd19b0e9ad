//! The hand-written types that replace spec schemas (`generator::REPLACEMENTS`),
//! as their JSON Schema (schemars 0.8) recorded in `replacements.json`: the
//! generator needs nothing of the library, and `xtask/generate/tests/generate.rs`, which
//! links it, fails when the record and the compiled types differ.

use std::collections::BTreeMap;

use serde_json::Value;

/// The record, relative to the workspace root (for messages).
pub const RECORDED_PATH: &str = "xtask/generate/src/generate/replacements.json";

/// The recorded schemars definitions, by definition name (the schema's name).
pub fn recorded() -> BTreeMap<String, Value> {
    serde_json::from_str(include_str!("replacements.json"))
        .expect("replacements.json is a JSON object of schemas")
}

/// The Rust path of each replacement in the generated code with its schema
/// name, and the recorded definitions by schema name. These do not depend on
/// the spec, so they are valid for any spec text.
pub fn replacements() -> (BTreeMap<String, String>, BTreeMap<String, Value>) {
    let paths = crate::generator::REPLACEMENTS
        .iter()
        .map(|r| (r.rust_type.to_owned(), r.schema.to_owned()))
        .collect();
    (paths, recorded())
}
