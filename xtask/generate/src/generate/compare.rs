//! Compares the spec with the freshly generated client: operations (route and
//! builder inputs), security and schema shapes, each difference a [`Mismatch`]
//! for [`super::check`] to sort into limitations and unexplained mismatches.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::replaced::{self, RECORDED_PATH};
use super::shape::{self, Kind, Mismatch, Shape};
use super::source::{self, Surface, TypeDef};

/// Where the client types compared with the spec come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Types {
    /// schemars output of the compiled client types, by schema name (given by
    /// a caller that links the library: `xtask/generate/tests/generate.rs`),
    /// cross-checked against the types read from the fresh source.
    Compiled(BTreeMap<String, Value>),
    /// Types read from the freshly generated source (replacements from their
    /// recorded schemars output): valid for any spec text, and what
    /// `cargo xtask generate` uses.
    Source,
}

/// `leadsList` / `leads-list` / `leads_list` -> `leads_list`, as progenitor names methods.
fn snake(id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in id.chars() {
        if c.is_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else if c == '-' || c == ' ' {
            out.push('_');
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(super) fn compare_operations(spec: &Value, fresh: &Surface, out: &mut Vec<Mismatch>) {
    let mut seen = BTreeSet::new();
    let paths = spec.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let route = format!("{} {path}", method.to_uppercase());
            let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
            let name = snake(id);
            match fresh.operations.get(&name) {
                None => out.push(Mismatch::new(
                    &route,
                    None,
                    Kind::MissingOperation,
                    format!("operationId {id}"),
                    format!("no method {name}"),
                )),
                Some(o) => {
                    seen.insert(name.clone());
                    let client = format!("{} {}", o.method, o.path);
                    if client != route {
                        out.push(Mismatch::new(
                            &route,
                            None,
                            Kind::OperationRoute,
                            format!("{route} ({id})"),
                            format!("{name} sends {client}"),
                        ));
                    }
                    let expected = inputs(spec, item, op);
                    let actual: BTreeSet<String> =
                        o.params.iter().map(|(n, _)| n.clone()).collect();
                    if expected != actual {
                        let show =
                            |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
                        out.push(Mismatch::new(
                            &route,
                            None,
                            Kind::Inputs,
                            show(&expected),
                            show(&actual),
                        ));
                    }
                }
            }
        }
    }
    for (name, o) in &fresh.operations {
        if !seen.contains(name) {
            out.push(Mismatch::new(
                &format!("{} {}", o.method, o.path),
                None,
                Kind::ExtraOperation,
                "absent",
                format!("method {name}"),
            ));
        }
    }
}

/// The builder inputs an operation should have: its parameters (path item's
/// and its own, `$ref`s resolved) in snake case, and `body` for a request body.
fn inputs(spec: &Value, item: &Value, op: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for list in [item.get("parameters"), op.get("parameters")] {
        for param in list.and_then(Value::as_array).into_iter().flatten() {
            let param = match param.get("$ref").and_then(Value::as_str) {
                Some(r) => spec.pointer(r.trim_start_matches('#')).unwrap_or(param),
                None => param,
            };
            if let Some(name) = param.get("name").and_then(Value::as_str) {
                names.insert(snake(name));
            }
        }
    }
    if op.get("requestBody").is_some() {
        names.insert("body".to_owned());
    }
    names
}

pub(super) fn compare_security(spec: &Value, code: &str, out: &mut Vec<Mismatch>) {
    let schemes = spec
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (name, scheme) in schemes.into_iter().flatten() {
        if !code.contains("AUTHORIZATION") {
            let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("?");
            out.push(Mismatch::new(
                name,
                None,
                Kind::Security,
                kind,
                "not generated",
            ));
        }
    }
}

/// Turns fields typed as a generated inline enum (not a spec component) into
/// strings with values, as the spec writes them.
fn inline_enums(
    shape: &mut Shape,
    components: &BTreeSet<String>,
    enums: &BTreeMap<String, Vec<String>>,
) {
    let Shape::Object { fields, .. } = shape else {
        return;
    };
    for field in fields.values_mut() {
        if let shape::Ty::Ref(name) = &field.ty
            && !components.contains(name)
            && let Some(values) = enums.get(name)
        {
            field.values = Some(values.clone());
            field.ty = shape::Ty::String;
        }
    }
}

pub(super) fn compare_types(
    spec: &Value,
    fresh: &Surface,
    code: &str,
    types: &Types,
    out: &mut Vec<Mismatch>,
) {
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let components: BTreeSet<String> = schemas.keys().cloned().collect();
    let (replacement_paths, replacement_schemas) = replaced::replacements();
    let compiled = match types {
        Types::Compiled(schemas) => schemas.clone(),
        Types::Source => replacement_schemas,
    };
    // Client shapes by schema name: from schemars (compiled) or from source.
    let source_shapes: BTreeMap<String, Shape> = fresh
        .types
        .iter()
        .map(|(name, def)| (name.clone(), source::shape(def, &replacement_paths)))
        .collect();
    let mut enums: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, def) in &fresh.types {
        if let TypeDef::Enum(values) = def {
            enums.insert(name.clone(), values.clone());
        }
    }
    for (name, schema) in &schemas {
        let spec_shape = shape::shape_of(schema);
        let replacement = replacement_paths
            .iter()
            .find(|(path, schema_name)| *schema_name == name && code.contains(path.as_str()))
            .map(|(path, _)| path.clone());
        if let Some(path) = &replacement
            && !fresh.types.contains_key(name)
        {
            out.push(Mismatch::new(
                name,
                None,
                Kind::Replaced,
                "schema",
                path.clone(),
            ));
        } else if !fresh.types.contains_key(name) {
            out.push(Mismatch::new(
                name,
                None,
                Kind::MissingType,
                "schema",
                "no type",
            ));
            continue;
        }
        let from_schemars = compiled.get(name).map(shape::shape_of);
        let mut client = match (types, &replacement, from_schemars) {
            (_, _, Some(client)) => client,
            (Types::Source, None, None) => source_shapes[name].clone(),
            (_, _, None) => {
                out.push(Mismatch::new(
                    name,
                    None,
                    Kind::NotCompiled,
                    "schema",
                    match types {
                        Types::Compiled(_) => "not listed in xtask/generate/tests/generate.rs",
                        Types::Source => RECORDED_PATH,
                    },
                ));
                continue;
            }
        };
        if matches!(types, Types::Compiled(_))
            && let Some(from_source) = source_shapes.get(name)
        {
            cross_check(name, from_source, &client, out);
        }
        inline_enums(&mut client, &components, &enums);
        shape::compare(name, &spec_shape, &client, out);
    }
}

/// The types read from source must be what schemars reports for the compiled
/// ones; otherwise the `Types::Source` path (tests) would not be a faithful stand-in.
fn cross_check(name: &str, source: &Shape, schemars: &Shape, out: &mut Vec<Mismatch>) {
    if source == schemars {
        return;
    }
    match (source, schemars) {
        (Shape::Object { fields: sf, .. }, Shape::Object { fields: cf, .. }) => {
            let names: BTreeSet<&String> = sf.keys().chain(cf.keys()).collect();
            for field in names {
                let (s, c) = (sf.get(field), cf.get(field));
                if s != c {
                    out.push(Mismatch::new(
                        name,
                        Some(field),
                        Kind::SchemarsVsSource,
                        s.map_or("absent".to_owned(), shape::describe),
                        c.map_or("absent".to_owned(), shape::describe),
                    ));
                }
            }
        }
        _ => out.push(Mismatch::new(
            name,
            None,
            Kind::SchemarsVsSource,
            format!("{source:?}"),
            format!("{schemars:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::snake;

    #[test]
    fn operation_ids_become_snake_case() {
        assert_eq!(snake("leads_list"), "leads_list");
        assert_eq!(snake("leadsList"), "leads_list");
        assert_eq!(snake("lead-types-list"), "lead_types_list");
    }
}
