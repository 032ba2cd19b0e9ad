//! Generates the typed client from `openapi.yaml` with progenitor into `OUT_DIR`.
//!
//! This file is the one home of the generator's settings: `cargo xtask generate`
//! includes it as a module (`#[path]`) and calls [`generate`], so the checked-in
//! snapshot and the crate's build can never use two different configurations.

use std::fmt;

/// The spec, relative to the package root.
pub const SPEC_PATH: &str = "openapi.yaml";
/// The file name of the generated client in `OUT_DIR`.
pub const OUTPUT_FILE: &str = "sela_client.rs";
/// The file name of the generated typed httpmock helpers in `OUT_DIR`
/// (compiled only with the `mock` feature).
pub const HTTPMOCK_FILE: &str = "sela_httpmock.rs";
/// The only request encoding the generator is given.
pub const JSON: &str = "application/json";

/// A request encoding the spec lists but the generated client cannot send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// `METHOD /path` of the operation.
    pub operation: String,
    /// The media type that was dropped.
    pub media_type: String,
}

impl fmt::Display for Narrowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: request body {} dropped, JSON only",
            self.operation, self.media_type
        )
    }
}

/// The generator's output: formatted Rust source and what was narrowed to get it.
pub struct Generated {
    /// The client, formatted by prettyplease, with a header saying it is generated.
    pub code: String,
    /// Request encodings removed before generation.
    pub narrowed: Vec<Narrowed>,
    /// Typed httpmock helpers, one per operation (`MockServerExt`), formatted.
    pub httpmock: String,
}

/// A spec schema generated as a hand-written type instead.
pub struct Replacement {
    /// The schema's name in `components/schemas`.
    pub schema: &'static str,
    /// The Rust type used in its place.
    pub rust_type: &'static str,
    /// The type implements `Default`.
    pub default: bool,
}

/// Spec schemas generated as hand-written types instead: typify drops the unknown
/// keys of an object with `additionalProperties: true`, and `metadata` must keep
/// them (and any non-object value), as must a 400 body, whose keys are the fields
/// at fault; a response time that does not parse must not fail its lead; and a
/// request `us_state` needs an escape hatch for codes the documented list lacks.
pub const REPLACEMENTS: &[Replacement] = &[
    Replacement {
        schema: "LeadMetadata",
        rust_type: "crate::Metadata",
        default: true,
    },
    Replacement {
        schema: "ApiError",
        rust_type: "crate::ApiErrorBody",
        default: true,
    },
    Replacement {
        schema: "Timestamp",
        rust_type: "crate::Timestamp",
        default: false,
    },
    Replacement {
        schema: "UsState",
        rust_type: "crate::UsState",
        default: false,
    },
];

/// The progenitor settings of this crate.
pub fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    for replacement in REPLACEMENTS {
        let impls = replacement.default.then_some(progenitor::TypeImpl::Default);
        settings.with_replacement(replacement.schema, replacement.rust_type, impls.into_iter());
    }
    settings
}

/// Parses the spec text and removes every request encoding but JSON, which
/// progenitor requires (more than one media type panics code generation).
pub fn parse_narrowed(spec_text: &str) -> Result<(serde_json::Value, Vec<Narrowed>), String> {
    let mut spec: serde_json::Value = serde_yaml::from_str(spec_text)
        .map_err(|e| format!("{SPEC_PATH} is not valid YAML: {e}"))?;
    let mut narrowed = Vec::new();
    if let Some(paths) = spec.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let Some(content) = op
                    .pointer_mut("/requestBody/content")
                    .and_then(|c| c.as_object_mut())
                else {
                    continue;
                };
                let dropped: Vec<String> = content
                    .keys()
                    .filter(|k| k.as_str() != JSON)
                    .cloned()
                    .collect();
                for media_type in dropped {
                    content.remove(&media_type);
                    narrowed.push(Narrowed {
                        operation: format!("{} {path}", method.to_uppercase()),
                        media_type,
                    });
                }
            }
        }
    }
    Ok((spec, narrowed))
}

/// Generates the client source from the spec text.
pub fn generate(spec_text: &str) -> Result<Generated, String> {
    let (spec, narrowed) = parse_narrowed(spec_text)?;
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("{SPEC_PATH} is not an OpenAPI 3.0 document: {e}"))?;
    let mut generator = progenitor::Generator::new(&settings());
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor could not generate the client: {e}"))?;
    let file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let code = format!(
        "// @generated by progenitor from {SPEC_PATH} (settings in build.rs). Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    );
    let mock_tokens = progenitor::Generator::new(&settings())
        .httpmock(&spec, "crate::api")
        .map_err(|e| format!("progenitor could not generate the httpmock helpers: {e}"))?;
    let mock_file =
        syn::parse2(mock_tokens).map_err(|e| format!("generated mocks do not parse: {e}"))?;
    let httpmock = prettyplease::unparse(&mock_file);
    Ok(Generated {
        code,
        narrowed,
        httpmock,
    })
}

#[allow(dead_code)]
fn main() {
    println!("cargo:rerun-if-changed={SPEC_PATH}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(SPEC_PATH)
        .unwrap_or_else(|e| panic!("cannot read {SPEC_PATH}: {e}"));
    let generated = generate(&text).unwrap_or_else(|e| panic!("{e}"));
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = std::path::Path::new(&out_dir).join(OUTPUT_FILE);
    std::fs::write(&out, generated.code)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    let mocks = std::path::Path::new(&out_dir).join(HTTPMOCK_FILE);
    std::fs::write(&mocks, generated.httpmock)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", mocks.display()));
}
