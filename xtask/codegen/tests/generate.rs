//! `cargo xtask generate --check` against temporary copies of the spec and
//! `generated/`. No cargo build runs here: the check regenerates from the
//! temporary spec and reads the client types from that source (`Types::Source`),
//! as `cargo xtask generate` does; `xtask/tests/generate.rs` proves that
//! stand-in faithful to the compiled types.

use std::path::{Path, PathBuf};

use xtask_codegen::generate::{Kind, Report, SNAPSHOT_PATH, Types, check, write};
use xtask_codegen::generator::{HTTPMOCK_PATH, spec_hash};

fn workspace() -> PathBuf {
    xtask_codegen::generate::workspace_root()
}

/// A temporary directory holding copies of `openapi.yaml` and the snapshot,
/// removed when dropped.
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Temp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn temp_workspace(name: &str) -> Temp {
    let root = std::env::temp_dir().join(format!("xtask-generate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("generated")).unwrap();
    for file in ["openapi.yaml", SNAPSHOT_PATH, HTTPMOCK_PATH] {
        std::fs::copy(workspace().join(file), root.join(file)).unwrap();
    }
    Temp(root)
}

/// Replaces the one occurrence of `from` in `root`'s `file`.
fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur once in {file}"
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn run_check(root: &Path) -> (Report, String) {
    let report = check(root, Types::Source).unwrap();
    let text = report.render();
    (report, text)
}

/// Regenerates the snapshot in `root`, as `cargo xtask generate` does.
fn regenerate(root: &Path) {
    let report = check(root, Types::Source).unwrap();
    write(root, &report).unwrap();
}

#[test]
fn the_workspace_passes() {
    let report = check(&workspace(), Types::Source).unwrap();
    assert!(report.passed(), "{}", report.render());
    assert!(!report.stale && report.diff.is_empty());
}

#[test]
fn adding_a_field_fails_and_names_it() {
    let root = temp_workspace("add-field");
    edit(
        &root,
        "openapi.yaml",
        "        min_reengagement_days:\n",
        "        nickname:\n          type: string\n        min_reengagement_days:\n",
    );
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    assert!(report.stale);
    assert!(
        text.contains("field added: LeadRequest.nickname: Option<String>"),
        "{text}"
    );
    assert!(
        report.diff.contains("+        pub nickname:"),
        "{}",
        report.diff
    );
    regenerate(&root);
    let (report, text) = run_check(&root);
    assert!(report.passed(), "{text}");
}

#[test]
fn changing_a_field_names_old_and_new_type() {
    let root = temp_workspace("change-field");
    edit(
        &root,
        "openapi.yaml",
        "      required: [action]\n",
        "      required: [action, error]\n",
    );
    edit(
        &root,
        "openapi.yaml",
        "        error:\n          type: string\n          nullable: true\n",
        "        error:\n          type: string\n",
    );
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    assert!(
        text.contains("field changed: BulkCreateLeadResult.error: Option<String> -> String"),
        "{text}"
    );
}

#[test]
fn removing_an_operation_names_it() {
    let root = temp_workspace("remove-operation");
    edit(
        &root,
        "openapi.yaml",
        "    get:\n      operationId: leads_retrieve\n",
        "    x-removed:\n      operationId: leads_retrieve\n",
    );
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    assert!(
        text.contains("operation removed: GET /api/leads/{id}/ (leads_retrieve)"),
        "{text}"
    );
}

#[test]
fn changing_enum_values_names_them() {
    let root = temp_workspace("enum-values");
    edit(
        &root,
        "openapi.yaml",
        "enum: [created, reengaged, error]",
        "enum: [created, reengaged, failed]",
    );
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    assert!(
        text.contains("enum values changed: BulkCreateLeadAction: -error, +failed"),
        "{text}"
    );
}

#[test]
fn comments_and_key_order_change_nothing() {
    let root = temp_workspace("no-op");
    edit(
        &root,
        "openapi.yaml",
        "openapi: 3.0.3\n",
        "# A comment that generates nothing.\nopenapi: 3.0.3\n",
    );
    edit(
        &root,
        "openapi.yaml",
        "      operationId: leads_list\n      summary: List Leads\n",
        "      summary: List Leads # trailing comment\n      operationId: leads_list\n",
    );
    edit(
        &root,
        "openapi.yaml",
        "    BulkCreateLeadResult:\n      type: object\n      description: The outcome of the bulk item at the same index.\n      required: [action]\n",
        "    BulkCreateLeadResult:\n      required: [action]\n      description: The outcome of the bulk item at the same index.\n      type: object\n",
    );
    // The code is the same; only the first line of each file, which records
    // the spec's hash for build.rs, changes.
    let (report, text) = run_check(&root);
    assert!(report.summary.is_empty(), "{text}");
    assert!(report.mismatches.is_empty(), "{text}");
    let spec = std::fs::read_to_string(root.join("openapi.yaml")).unwrap();
    let changed: Vec<&str> = report
        .diff
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(changed.len(), 4, "{}", report.diff);
    assert!(
        changed
            .iter()
            .filter(|l| l.starts_with('+'))
            .all(|l| l.contains(&spec_hash(&spec))),
        "{}",
        report.diff
    );
    regenerate(&root);
    let (report, text) = run_check(&root);
    assert!(report.passed(), "{text}");
}

#[test]
fn a_hand_edited_snapshot_fails() {
    let root = temp_workspace("hand-edit");
    edit(
        &root,
        SNAPSHOT_PATH,
        "    pub fn leads_list(&self)",
        "    pub fn leads_list_all(&self)",
    );
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    assert!(report.stale);
    assert!(
        report.diff.contains("-    pub fn leads_list_all(&self)")
            && report.diff.contains("+    pub fn leads_list(&self)"),
        "{}",
        report.diff
    );
    assert!(
        text.contains("operation added: GET /api/leads/ (leads_list)"),
        "{text}"
    );
}

#[test]
fn a_missing_snapshot_fails() {
    let root = temp_workspace("no-snapshot");
    std::fs::remove_file(root.join(SNAPSHOT_PATH)).unwrap();
    let (report, _) = run_check(&root);
    assert!(report.stale && !report.passed());
}

#[test]
fn a_fresh_snapshot_still_fails_when_the_client_cannot_follow_the_spec() {
    // progenitor drops `nullable` next to a `$ref`: a required field stays
    // non-optional, which no listed limitation explains.
    let root = temp_workspace("nullable-ref");
    edit(
        &root,
        "openapi.yaml",
        "        action:\n          $ref: '#/components/schemas/BulkCreateLeadAction'\n",
        "        action:\n          $ref: '#/components/schemas/BulkCreateLeadAction'\n          nullable: true\n",
    );
    regenerate(&root);
    let (report, text) = run_check(&root);
    assert!(!report.stale, "{text}");
    assert!(!report.passed());
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.location() == "BulkCreateLeadResult.action" && m.kind == Kind::Nullable),
        "{text}"
    );
    assert!(
        text.contains("BulkCreateLeadResult.action: nullable: spec true, client false"),
        "{text}"
    );
}

#[test]
fn limitations_match_precisely() {
    // `uri` is a listed unvalidated format; `hostname` is not, and a form body
    // is a listed narrowing while an XML one is not.
    let root = temp_workspace("precise");
    edit(
        &root,
        "openapi.yaml",
        "CRM.\n        lead_source:\n          type: string\n",
        "CRM.\n        lead_source:\n          type: string\n          format: hostname\n",
    );
    edit(
        &root,
        "openapi.yaml",
        "              $ref: '#/components/schemas/LeadRequest'\n      responses:\n        '200':\n          description: Lead created.\n",
        "              $ref: '#/components/schemas/LeadRequest'\n          application/xml:\n            schema:\n              $ref: '#/components/schemas/LeadRequest'\n      responses:\n        '200':\n          description: Lead created.\n",
    );
    regenerate(&root);
    let (report, text) = run_check(&root);
    assert!(!report.passed());
    let unexplained: Vec<String> = report.mismatches.iter().map(ToString::to_string).collect();
    assert_eq!(
        unexplained,
        [
            "LeadRequest.lead_source: format: spec hostname, client none",
            "POST /api/leads/: request encoding: spec application/xml, client dropped",
        ],
        "{text}"
    );
}

#[test]
fn inferred_facts_are_listed_under_the_limitations() {
    let report = check(&workspace(), Types::Source).unwrap();
    let text = report.render();
    let section = text
        .split_once("facts inferred, not read in the documentation")
        .map(|(before, after)| {
            assert!(
                before.contains("generator limitations"),
                "listed after the limitations"
            );
            after
        })
        .unwrap_or_else(|| panic!("no inferred section:\n{text}"));
    for place in [
        "GET /api/leads/: the operationId",
        "POST /api/leads/: the operationId",
        "PATCH /api/leads/{id}/: the operationId",
        "PatchedLeadRequest.call_dnc:",
        "PatchedLeadRequest.sms_dnc:",
        "UpdateLeadRequestRequest.sms_dnc:",
        "response Unauthorized:",
        "response NotFound:",
        "LeadTypeRead: `required: [id, name]`",
    ] {
        assert!(section.contains(place), "{place} missing from:\n{section}");
    }
    assert_eq!(report.unexplained_inferences(), 0);
}

#[test]
fn an_inferred_mark_without_its_line_fails_the_check() {
    let root = temp_workspace("inferred-line");
    edit(
        &root,
        "openapi.yaml",
        "        Inferred: the operationId (not visible on the page).\n",
        "",
    );
    // The description is in the client's docs: a fresh snapshot still fails.
    regenerate(&root);
    let (report, text) = run_check(&root);
    assert!(!report.stale, "{text}");
    assert!(!report.passed(), "{text}");
    assert!(
        text.contains("PATCH /api/leads/{id}/: MISSING a `Inferred:` line"),
        "{text}"
    );
}
