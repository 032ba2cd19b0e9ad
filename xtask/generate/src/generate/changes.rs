//! The change from the checked-in client's surface to the fresh one, a line
//! each: what `cargo xtask generate` prints as "client surface changes".

use super::shape;
use super::source::{self, Surface, TypeDef};

/// The change from one client surface to another, a line each.
pub fn surface_changes(before: &Surface, after: &Surface) -> Vec<String> {
    let mut lines = Vec::new();
    let route = |name: &str, o: &source::Operation| format!("{} {} ({name})", o.method, o.path);
    for (name, o) in &after.operations {
        match before.operations.get(name) {
            None => lines.push(format!("operation added: {}", route(name, o))),
            Some(b) if b != o => {
                let mut what = Vec::new();
                if (&b.method, &b.path) != (&o.method, &o.path) {
                    what.push(format!(
                        "{} {} -> {} {}",
                        b.method, b.path, o.method, o.path
                    ));
                }
                if b.params != o.params {
                    let show = |p: &[(String, String)]| {
                        p.iter()
                            .map(|(n, t)| format!("{n}: {t}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    what.push(format!(
                        "inputs ({}) -> ({})",
                        show(&b.params),
                        show(&o.params)
                    ));
                }
                if b.response != o.response {
                    what.push(format!("response {} -> {}", b.response, o.response));
                }
                lines.push(format!(
                    "operation changed: {}: {}",
                    route(name, o),
                    what.join("; ")
                ));
            }
            Some(_) => {}
        }
    }
    for (name, o) in &before.operations {
        if !after.operations.contains_key(name) {
            lines.push(format!("operation removed: {}", route(name, o)));
        }
    }
    for (name, t) in &after.types {
        match (before.types.get(name), t) {
            (None, _) => lines.push(format!("type added: {name} ({})", kind_of(t))),
            (Some(TypeDef::Struct(b)), TypeDef::Struct(a)) => {
                for (field, f) in a {
                    match b.get(field) {
                        None => lines.push(format!("field added: {name}.{field}: {}", rust(f))),
                        Some(old) if old != f => lines.push(format!(
                            "field changed: {name}.{field}: {} -> {}",
                            rust(old),
                            rust(f)
                        )),
                        Some(_) => {}
                    }
                }
                for (field, f) in b {
                    if !a.contains_key(field) {
                        lines.push(format!("field removed: {name}.{field}: {}", rust(f)));
                    }
                }
            }
            (Some(TypeDef::Enum(b)), TypeDef::Enum(a)) if b != a => lines.push(format!(
                "enum values changed: {name}: {}",
                shape::value_delta(b, a)
            )),
            (Some(b), a) if b != a => lines.push(format!(
                "type changed: {name}: {} -> {}",
                kind_of(b),
                kind_of(a)
            )),
            _ => {}
        }
    }
    for name in before.types.keys() {
        if !after.types.contains_key(name) {
            lines.push(format!("type removed: {name}"));
        }
    }
    lines
}

fn rust(f: &source::SourceField) -> String {
    if f.default {
        format!("{} (default when absent)", f.rust)
    } else {
        f.rust.clone()
    }
}

fn kind_of(t: &TypeDef) -> String {
    match t {
        TypeDef::Struct(fields) => format!("struct, {} fields", fields.len()),
        TypeDef::Enum(values) => format!("enum {}", values.join("|")),
        TypeDef::Other(what) => what.clone(),
    }
}
