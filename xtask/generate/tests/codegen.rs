//! `cargo xtask generate --check` against temporary copies of the spec and
//! `generated/`. No cargo build runs here: the check regenerates from the
//! temporary spec and reads the client types from that source (`Types::Source`),
//! as `cargo xtask generate` does; `xtask/generate/tests/generate.rs` proves that
//! stand-in faithful to the compiled types.

use std::path::{Path, PathBuf};

use xtask_generate::generate::{Kind, Report, SNAPSHOT_PATH, Types, check, write};
use xtask_generate::generator::{HTTPMOCK_PATH, spec_hash};

fn workspace() -> PathBuf {
    xtask_generate::generate::workspace_root()
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

/// One edit of a temporary workspace: the one occurrence of `from` in `file`
/// becomes `to`.
type Edit = (&'static str, &'static str, &'static str);

/// A change `--check` must refuse, and what it must say about it.
struct Refused {
    /// Names the row in failure messages and its temporary directory.
    name: &'static str,
    edits: &'static [Edit],
    /// Regenerate `generated/` after the edits, so that only the comparison
    /// of spec and client (not a stale snapshot) can fail the check.
    regenerate: bool,
    /// Whether the check must find `generated/` stale.
    stale: bool,
    /// What the rendered report must contain.
    says: &'static [&'static str],
    /// What the diff of `generated/` must contain.
    diff_says: &'static [&'static str],
    /// An unexplained mismatch the check must find: its location and kind.
    mismatch: Option<(&'static str, Kind)>,
    /// After `cargo xtask generate` the check must pass.
    passes_once_regenerated: bool,
}

const REFUSED: &[Refused] = &[
    Refused {
        name: "add-field",
        edits: &[(
            "openapi.yaml",
            "        min_reengagement_days:\n",
            "        nickname:\n          type: string\n        min_reengagement_days:\n",
        )],
        regenerate: false,
        stale: true,
        says: &["field added: LeadRequest.nickname: Option<String>"],
        diff_says: &["+        pub nickname:"],
        mismatch: None,
        passes_once_regenerated: true,
    },
    Refused {
        name: "change-field",
        edits: &[
            (
                "openapi.yaml",
                "      required: [action]\n",
                "      required: [action, error]\n",
            ),
            (
                "openapi.yaml",
                "        error:\n          allOf:\n            - $ref: '#/components/schemas/BulkCreateLeadError'\n          nullable: true\n",
                "        error:\n          $ref: '#/components/schemas/BulkCreateLeadError'\n",
            ),
        ],
        regenerate: false,
        stale: true,
        says: &[
            "field changed: BulkCreateLeadResult.error: Option<crate::BulkItemError> -> crate::BulkItemError",
        ],
        diff_says: &[],
        mismatch: None,
        passes_once_regenerated: false,
    },
    Refused {
        name: "remove-operation",
        edits: &[(
            "openapi.yaml",
            "    get:\n      operationId: leads_retrieve\n",
            "    x-removed:\n      operationId: leads_retrieve\n",
        )],
        regenerate: false,
        stale: true,
        says: &["operation removed: GET /api/leads/{id}/ (leads_retrieve)"],
        diff_says: &[],
        mismatch: None,
        passes_once_regenerated: false,
    },
    // Every enum of the spec is a hand-written replacement (documented values
    // plus `Other`): its values drifting from the spec's fails even once the
    // snapshot is fresh.
    Refused {
        name: "enum-values",
        edits: &[(
            "openapi.yaml",
            "enum: [created, reengaged, error]",
            "enum: [created, reengaged, failed]",
        )],
        regenerate: true,
        stale: false,
        says: &[
            "BulkCreateLeadAction: enum values: spec created|reengaged|failed, client created|reengaged|error",
        ],
        diff_says: &[],
        mismatch: Some(("BulkCreateLeadAction", Kind::EnumValues)),
        passes_once_regenerated: false,
    },
    Refused {
        name: "hand-edit",
        edits: &[(
            SNAPSHOT_PATH,
            "    pub fn leads_list(&self)",
            "    pub fn leads_list_all(&self)",
        )],
        regenerate: false,
        stale: true,
        says: &["operation added: GET /api/leads/ (leads_list)"],
        diff_says: &[
            "-    pub fn leads_list_all(&self)",
            "+    pub fn leads_list(&self)",
        ],
        mismatch: None,
        passes_once_regenerated: false,
    },
    // progenitor drops `nullable` next to a `$ref`: a required field stays
    // non-optional, which no listed limitation explains, even in a fresh snapshot.
    Refused {
        name: "nullable-ref",
        edits: &[(
            "openapi.yaml",
            "        action:\n          $ref: '#/components/schemas/BulkCreateLeadAction'\n",
            "        action:\n          $ref: '#/components/schemas/BulkCreateLeadAction'\n          nullable: true\n",
        )],
        regenerate: true,
        stale: false,
        says: &["BulkCreateLeadResult.action: nullable: spec true, client false"],
        diff_says: &[],
        mismatch: Some(("BulkCreateLeadResult.action", Kind::Nullable)),
        passes_once_regenerated: false,
    },
    // The description is in the client's docs: a fresh snapshot still fails.
    Refused {
        name: "inferred-line",
        edits: &[(
            "openapi.yaml",
            "        Inferred: the operationId (not visible on the page).\n",
            "",
        )],
        regenerate: true,
        stale: false,
        says: &["PATCH /api/leads/{id}/: MISSING a `Inferred:` line"],
        diff_says: &[],
        mismatch: None,
        passes_once_regenerated: false,
    },
    // The same for a marked schema and a marked property.
    Refused {
        name: "inferred-line-schema",
        edits: &[(
            "openapi.yaml",
            "        Inferred: `required: [id, name]` (the sample has both; the page does not say which are required) and the schema name.\n",
            "",
        )],
        regenerate: true,
        stale: false,
        says: &["LeadTypeRead: MISSING a `Inferred:` line"],
        diff_says: &[],
        mismatch: None,
        passes_once_regenerated: false,
    },
    Refused {
        name: "inferred-line-property",
        edits: &[(
            "openapi.yaml",
            "            Inferred: that leads carry it in answers (seen only in the bulk request body).\n",
            "",
        )],
        regenerate: true,
        stale: false,
        says: &["PartialLead.representative: MISSING a `Inferred:` line"],
        diff_says: &[],
        mismatch: None,
        passes_once_regenerated: false,
    },
];

/// What is wrong with the check's answer to `case`, a line each; empty when
/// it answered as the row says.
fn refused_wrongly(case: &Refused) -> Vec<String> {
    let root = temp_workspace(case.name);
    for (file, from, to) in case.edits {
        edit(&root, file, from, to);
    }
    if case.regenerate {
        regenerate(&root);
    }
    let (report, text) = run_check(&root);
    let mut wrong = Vec::new();
    if report.passed() {
        wrong.push("the check passed".to_owned());
    }
    if report.stale != case.stale {
        wrong.push(format!("stale is {}, not {}", report.stale, case.stale));
    }
    for line in case.says.iter().filter(|line| !text.contains(*line)) {
        wrong.push(format!("the report does not say {line:?}"));
    }
    for line in case
        .diff_says
        .iter()
        .filter(|line| !report.diff.contains(*line))
    {
        wrong.push(format!("the diff does not hold {line:?}:\n{}", report.diff));
    }
    if let Some((location, kind)) = case.mismatch
        && !report
            .mismatches
            .iter()
            .any(|m| m.location() == location && m.kind == kind)
    {
        wrong.push(format!("no unexplained {kind:?} mismatch at {location}"));
    }
    if !wrong.is_empty() {
        wrong.push(format!("the report:\n{text}"));
    }
    if case.passes_once_regenerated {
        regenerate(&root);
        let (report, text) = run_check(&root);
        if !report.passed() {
            wrong.push(format!("regenerated, the check still fails:\n{text}"));
        }
    }
    wrong
}

#[test]
fn each_refused_change_fails_the_check_and_says_why() {
    let failures: Vec<String> = REFUSED
        .iter()
        .filter_map(|case| {
            let wrong = refused_wrongly(case);
            (!wrong.is_empty()).then(|| format!("row {}: {}", case.name, wrong.join("\n")))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_workspace_passes() {
    let report = check(&workspace(), Types::Source).unwrap();
    assert!(report.passed(), "{}", report.render());
    assert!(!report.stale && report.diff.is_empty());
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
        "    PaginatedLeadTypeReadList:\n      type: object\n      required: [count, results]\n",
        "    PaginatedLeadTypeReadList:\n      required: [count, results]\n      type: object\n",
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
fn a_missing_snapshot_fails() {
    let root = temp_workspace("no-snapshot");
    std::fs::remove_file(root.join(SNAPSHOT_PATH)).unwrap();
    let (report, _) = run_check(&root);
    assert!(report.stale && !report.passed());
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
        "response BadRequest:",
        "LeadTypeRead: `required: [id, name]`",
        "LeadRequest: `required: [phone_number]`",
        "LeadRequest.reengagement_count: the bounds",
        "PatchedLeadRequest.reengagement_count: the bounds",
        "LeadMetadata: the value type of each key",
        "LeadMetadata.phone_number: that the server adds it",
        "LeadMetadata.email: that the server adds it",
        "LeadMetadata.lead_source: that the server adds it",
        "LeadMetadata.external_id: that the server adds it",
        "ApiError: the whole shape",
        "POST /api/leads/bulk-create/: the success statuses",
        "that one bad item does not fail the batch",
        "BulkCreateLeadResponse.results: one result per item",
        "PartialLead.representative:",
        "PaginatedPartialLeadList: `required: [count, results]`",
        "BulkCreateLeadResult: `required: [action]`, the nullable `error`",
        "PatchedLeadRequest: the schema name",
        "BulkCreateLeadError: the type (one sample, a string)",
        "PUT /api/leads/update/: the 404 answer",
    ] {
        assert!(section.contains(place), "{place} missing from:\n{section}");
    }
    assert_eq!(report.unexplained_inferences(), 0);
}
