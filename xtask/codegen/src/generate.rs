//! `cargo xtask generate [--check]`: regenerates `generated/` from `openapi.yaml`
//! with [`crate::generator`], shows what changed, and checks the client against
//! the spec beyond the generator's named limitations. Needs nothing of the
//! library, so it runs whatever the spec says.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod inferred;
mod limits;
mod replaced;
mod shape;
mod source;

pub use inferred::Inferred;
pub use limits::{LIMITATIONS, Limitation};
pub use replaced::{RECORDED_PATH, recorded as recorded_replacements};
pub use shape::{Kind, Mismatch};

use crate::generator::{self as codegen, CLIENT_PATH, HTTPMOCK_PATH};
use serde_json::Value;
use shape::Shape;
use source::{Surface, TypeDef};

/// The generated client, relative to the workspace root.
pub const SNAPSHOT_PATH: &str = CLIENT_PATH;

const USAGE: &str = "\
usage: cargo xtask generate [--check] [--root DIR]

  (no flag)   regenerate generated/ from openapi.yaml, print the diff,
              the change to the client's surface, the generator's limitations and
              any spec/client mismatch; exit 1 on a mismatch
  --check     write nothing; exit 1 if the snapshot is stale or on a mismatch
  --root DIR  the workspace root (default: this workspace)
";

/// Where the client types compared with the spec come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Types {
    /// schemars output of the compiled client types, by schema name (given by
    /// a caller that links the library: `xtask/tests/generate.rs`),
    /// cross-checked against the types read from the fresh source.
    Compiled(BTreeMap<String, Value>),
    /// Types read from the freshly generated source (replacements from their
    /// recorded schemars output): valid for any spec text, and what
    /// `cargo xtask generate` uses.
    Source,
}

/// The outcome of regenerating and comparing.
pub struct Report {
    /// The freshly generated client.
    pub fresh: String,
    /// The freshly generated httpmock helpers.
    pub fresh_httpmock: String,
    /// A generated file differs from its fresh version (or is missing).
    pub stale: bool,
    /// Unified diffs from the files to their fresh versions; empty when not stale.
    pub diff: String,
    /// The change to the client's surface, a line each.
    pub summary: Vec<String>,
    /// Every limitation with the differences it explains.
    pub limitations: Vec<(&'static Limitation, Vec<Mismatch>)>,
    /// Differences between spec and client that no limitation explains.
    pub mismatches: Vec<Mismatch>,
    /// Facts of the spec marked `x-sela-inferred`, not read in the documentation.
    pub inferred: Vec<Inferred>,
}

impl Report {
    /// `--check` passes: snapshot fresh, no unexplained mismatch, and every
    /// inferred fact says what was inferred.
    pub fn passed(&self) -> bool {
        !self.stale && self.mismatches.is_empty() && self.unexplained_inferences() == 0
    }

    /// Inferred marks whose description has no `Inferred:` line.
    pub fn unexplained_inferences(&self) -> usize {
        self.inferred.iter().filter(|i| i.why.is_none()).count()
    }

    /// Everything the command prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.stale {
            let _ = writeln!(
                out,
                "generated/ differs from the code generated from openapi.yaml:\n"
            );
            out.push_str(&self.diff);
            out.push('\n');
        } else {
            let _ = writeln!(out, "generated/ is up to date with openapi.yaml.");
        }
        if !self.summary.is_empty() {
            let _ = writeln!(out, "client surface changes (snapshot -> openapi.yaml):");
            for line in &self.summary {
                let _ = writeln!(out, "  {line}");
            }
        }
        out.push_str(&render_limitations(&self.limitations));
        out.push_str(&render_inferred(&self.inferred));
        if self.mismatches.is_empty() {
            let _ = writeln!(out, "spec and client agree beyond the limitations above.");
        } else {
            let _ = writeln!(
                out,
                "spec/client mismatches not explained by a limitation ({}):",
                self.mismatches.len()
            );
            for m in &self.mismatches {
                let _ = writeln!(out, "  {m}");
            }
        }
        out
    }
}

/// The limitations section: a line each, then where it applies.
pub fn render_limitations(limitations: &[(&'static Limitation, Vec<Mismatch>)]) -> String {
    let mut out = String::from("generator limitations (a line each, then where they apply):\n");
    for (limitation, hits) in limitations {
        let _ = writeln!(out, "  {}: {}", limitation.id, limitation.consequence);
        if hits.is_empty() {
            let _ = writeln!(out, "      (nowhere in this spec)");
            continue;
        }
        let mut places: Vec<String> = hits
            .iter()
            .map(|m| match m.kind {
                Kind::Narrowed => format!("{} {}", m.schema, m.spec),
                Kind::Format | Kind::Bounds => format!("{} ({})", m.location(), m.spec),
                _ => m.location(),
            })
            .collect();
        places.dedup();
        let mut line = String::from("     ");
        for place in places {
            if line.len() + place.len() > 96 {
                let _ = writeln!(out, "{}", line.trim_end_matches(','));
                line = String::from("     ");
            }
            let _ = write!(line, " {place},");
        }
        let _ = writeln!(out, "{}", line.trim_end_matches(','));
    }
    out
}

/// The inferred facts, a line each, under the limitations: what a reviewer
/// should read as a guess.
pub fn render_inferred(inferred: &[Inferred]) -> String {
    let mut out = format!(
        "facts inferred, not read in the documentation ({} marked `{}`):\n",
        inferred.len(),
        inferred::MARK
    );
    for fact in inferred {
        match &fact.why {
            Some(why) => {
                let _ = writeln!(out, "  {}: {why}", fact.location);
            }
            None => {
                let _ = writeln!(
                    out,
                    "  {}: MISSING a `{}` line in its description",
                    fact.location,
                    inferred::PREFIX
                );
            }
        }
    }
    out
}

/// Regenerates from `root/openapi.yaml` and compares with `root`'s snapshot and the spec.
pub fn check(root: &Path, types: Types) -> Result<Report, String> {
    let spec_path = root.join(codegen::SPEC_PATH);
    let spec_text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let snapshot = std::fs::read_to_string(root.join(CLIENT_PATH)).ok();
    let mocks = std::fs::read_to_string(root.join(HTTPMOCK_PATH)).ok();
    let generated = codegen::generate(&spec_text)?;
    let old = snapshot.as_deref().unwrap_or("");
    let mut diff = file_diff(CLIENT_PATH, snapshot.as_deref(), &generated.code);
    diff.push_str(&file_diff(
        HTTPMOCK_PATH,
        mocks.as_deref(),
        &generated.httpmock,
    ));
    let stale = !diff.is_empty();
    let fresh = source::parse(&generated.code)?;
    let summary = match source::parse(old) {
        Ok(before) => surface_changes(&before, &fresh),
        Err(e) => vec![format!("snapshot cannot be read ({e}); no surface summary")],
    };
    let (spec, _) = codegen::parse_narrowed(&spec_text)?;
    let inferred = inferred::collect(&spec);
    let mut found = Vec::new();
    for n in &generated.narrowed {
        found.push(Mismatch::new(
            &n.operation,
            None,
            Kind::Narrowed,
            n.media_type.clone(),
            "dropped",
        ));
    }
    compare_operations(&spec, &fresh, &mut found);
    compare_security(&spec, &generated.code, &mut found);
    compare_types(&spec, &fresh, &generated.code, &types, &mut found);
    found.sort();
    found.dedup();
    let mut limitations: Vec<(&'static Limitation, Vec<Mismatch>)> =
        LIMITATIONS.iter().map(|l| (l, Vec::new())).collect();
    let mut mismatches = Vec::new();
    for m in found {
        match limitations.iter_mut().find(|(l, _)| l.explains(&m)) {
            Some((_, hits)) => hits.push(m),
            None => mismatches.push(m),
        }
    }
    Ok(Report {
        fresh: generated.code,
        fresh_httpmock: generated.httpmock,
        stale,
        diff,
        summary,
        limitations,
        mismatches,
        inferred,
    })
}

/// The unified diff from `old` (absent: empty) to `new` of the file at `path`;
/// empty when they are equal.
fn file_diff(path: &str, old: Option<&str>, new: &str) -> String {
    if old == Some(new) {
        return String::new();
    }
    similar::TextDiff::from_lines(old.unwrap_or(""), new)
        .unified_diff()
        .header(
            &format!("a/{path}"),
            &format!("b/{path} (from openapi.yaml)"),
        )
        .to_string()
}

/// Writes the fresh client and httpmock helpers to `root`'s `generated/`.
pub fn write(root: &Path, report: &Report) -> Result<(), String> {
    for (file, text) in [
        (CLIENT_PATH, &report.fresh),
        (HTTPMOCK_PATH, &report.fresh_httpmock),
    ] {
        let path = root.join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// `cargo xtask generate [--check] [--root DIR]`.
pub fn run(args: &[String]) -> ExitCode {
    let mut check_only = false;
    let mut root: PathBuf = workspace_root();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check_only = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => {
                    eprint!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprint!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let report = match check(&root, Types::Source) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("cargo xtask generate: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.render());
    if check_only {
        if report.passed() {
            return ExitCode::SUCCESS;
        }
        if report.stale {
            eprintln!("generated/ is stale: run `cargo xtask generate` and commit generated/");
        }
        if report.unexplained_inferences() > 0 {
            eprintln!(
                "every `x-sela-inferred: true` node needs an `Inferred:` line in its description"
            );
        }
        return ExitCode::FAILURE;
    }
    if report.stale {
        if let Err(e) = write(&root, &report) {
            eprintln!("cargo xtask generate: {e}");
            return ExitCode::FAILURE;
        }
        println!("wrote {CLIENT_PATH} and {HTTPMOCK_PATH}");
    }
    if report.mismatches.is_empty() && report.unexplained_inferences() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The workspace this crate is built in (`xtask/codegen/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask/codegen lives two levels inside the workspace")
        .to_path_buf()
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

fn compare_operations(spec: &Value, fresh: &Surface, out: &mut Vec<Mismatch>) {
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

fn compare_security(spec: &Value, code: &str, out: &mut Vec<Mismatch>) {
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

fn compare_types(
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
                        Types::Compiled(_) => "not listed in xtask/tests/generate.rs",
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
