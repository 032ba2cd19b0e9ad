//! `cargo xtask generate`'s check with the client types compiled into the
//! library (schemars), which only a crate that links the library can give:
//! `cargo xtask generate` itself reads the types from the generated source and the
//! replacements from their recorded schemas, and these tests prove both
//! stand-ins faithful.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use sela_leads::api::types;
use serde_json::Value;
use xtask_generate::generate::{
    RECORDED_PATH, Report, Types, check, recorded_replacements, workspace_root,
};

/// Adds `T` and everything it references to the generator's definitions.
fn add<T: JsonSchema>(generator: &mut SchemaGenerator) {
    generator.subschema_for::<T>();
}

/// The hand-written types `REPLACEMENTS` names.
fn add_replacements(generator: &mut SchemaGenerator) {
    add::<sela_leads::Metadata>(generator);
    add::<sela_leads::ApiErrorBody>(generator);
    add::<sela_leads::Timestamp>(generator);
    add::<sela_leads::UsState>(generator);
    add::<sela_leads::LeadStatus>(generator);
    add::<sela_leads::StatusReason>(generator);
    add::<sela_leads::BulkCreateLeadAction>(generator);
    add::<sela_leads::BulkItemError>(generator);
    add::<sela_leads::Nullable<sela_leads::Metadata>>(generator);
    add::<sela_leads::Nullable<sela_leads::StatusReason>>(generator);
}

fn definitions(mut generator: SchemaGenerator) -> BTreeMap<String, Value> {
    generator
        .take_definitions()
        .into_iter()
        .map(|(name, schema)| {
            let json = serde_json::to_value(schema).expect("a JSON Schema serializes");
            (name, json)
        })
        .collect()
}

/// The schemars definitions of every compiled client type, by schema name. A
/// schema removed from the spec is a compile error naming its line below; one
/// added is reported by the check until it is listed.
fn compiled() -> BTreeMap<String, Value> {
    let mut generator = SchemaGenerator::default();
    add_replacements(&mut generator);
    add::<types::BulkCreateLeadAction>(&mut generator);
    add::<types::BulkCreateLeadRequestRequest>(&mut generator);
    add::<types::BulkCreateLeadResponse>(&mut generator);
    add::<types::BulkCreateLeadResult>(&mut generator);
    add::<types::LeadMetadataField>(&mut generator);
    add::<types::LeadRequest>(&mut generator);
    add::<types::LeadStatus>(&mut generator);
    add::<types::LeadTypeRead>(&mut generator);
    add::<types::PaginatedLeadTypeReadList>(&mut generator);
    add::<types::PaginatedPartialLeadList>(&mut generator);
    add::<types::PartialLead>(&mut generator);
    add::<types::PatchedLeadRequest>(&mut generator);
    add::<types::StatusReason>(&mut generator);
    add::<types::UpdateLeadRequestRequest>(&mut generator);
    definitions(generator)
}

#[test]
fn the_recorded_replacement_schemas_are_the_compiled_ones() {
    let mut generator = SchemaGenerator::default();
    add_replacements(&mut generator);
    let live = definitions(generator);
    let recorded = recorded_replacements();
    assert!(
        recorded == live,
        "{RECORDED_PATH} differs from the schemars output of the compiled replacement \
         types; write this there:\n{}",
        serde_json::to_string_pretty(&live).unwrap()
    );
}

#[test]
fn the_workspace_passes_with_the_compiled_types() {
    let root = workspace_root();
    let report = check(&root, Types::Compiled(compiled())).unwrap();
    assert!(report.passed(), "{}", report.render());
    let text = report.render();
    for id in ["json-only-bodies", "no-explicit-null", "metadata-replaced"] {
        assert!(text.contains(id), "limitation {id} listed:\n{text}");
    }
    assert!(text.contains("LeadMetadata"), "{text}");
    // The source model stands in for schemars in `cargo xtask generate`: same verdict.
    let from_source = check(&root, Types::Source).unwrap();
    assert!(from_source.passed(), "{}", from_source.render());
    let hits = |r: &Report| -> Vec<Vec<String>> {
        r.limitations
            .iter()
            .map(|(_, hits)| hits.iter().map(ToString::to_string).collect())
            .collect()
    };
    assert_eq!(hits(&from_source), hits(&report));
}
