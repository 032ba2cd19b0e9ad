//! The whole report as JSON (`--json`), produced by serde from the report
//! types and versioned by `format_version`; the README documents the schema.
//! Exchanges are written as in the text report (request, response, `curl`),
//! so the key appears only as `$SELA_API_KEY`.

use std::path::Path;

use serde::Serialize;

use crate::clauses::{CONTRACT_URL, Clause};
use crate::report::Report;
use crate::target::HarnessError;

/// The `format_version` of the JSON report; raised when a field changes
/// meaning or goes away (new fields may appear without it).
pub const FORMAT_VERSION: u32 = 1;

/// The document written by [`to_json`].
#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    passed: bool,
    /// Where the contract is written in full ([`CONTRACT_URL`]); each
    /// `clauses[]` entry has its own `link` into it.
    contract_url: &'static str,
    failed: Vec<Clause>,
    not_checked: Vec<Clause>,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report as a JSON document (pretty-printed).
pub fn to_json(report: &Report) -> String {
    let doc = Document {
        format_version: FORMAT_VERSION,
        passed: report.passed(),
        contract_url: CONTRACT_URL,
        failed: report.failed(),
        not_checked: report
            .clauses
            .iter()
            .filter(|c| c.cases == 0)
            .map(|c| c.clause)
            .collect(),
        report,
    };
    serde_json::to_string_pretty(&doc).expect("the report serialises (string keys only)")
}

/// The document of a run that could not run at all (exit 2).
#[derive(Serialize)]
struct ErrorDocument<'a> {
    format_version: u32,
    passed: bool,
    base_url: &'a str,
    error: String,
}

/// `{"format_version": 1, "passed": false, "base_url": .., "error": ..}` for a
/// run that could not run at all.
pub fn error_json(base_url: &str, error: &HarnessError) -> String {
    let doc = ErrorDocument {
        format_version: FORMAT_VERSION,
        passed: false,
        base_url,
        error: error.to_string(),
    };
    serde_json::to_string_pretty(&doc).expect("strings only")
}

/// Writes [`to_json`] to `path`.
pub fn write(report: &Report, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, to_json(report))
}
