//! `cargo xtask generate [--check]`: regenerates `generated/` from `openapi.yaml`
//! with [`crate::generator`], shows what changed, and checks the client against
//! the spec beyond the generator's named limitations. Needs nothing of the
//! library, so it runs whatever the spec says. This module is the task and its
//! report; the spec/client comparison is in `compare`, the surface summary in `changes`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod changes;
mod compare;
mod inferred;
mod limits;
mod replaced;
mod shape;
mod source;

pub use changes::surface_changes;
pub use compare::Types;
pub use inferred::Inferred;
pub use limits::{LIMITATIONS, Limitation};
pub use replaced::{RECORDED_PATH, recorded as recorded_replacements};
pub use shape::{Kind, Mismatch};

use crate::generator::{self as codegen, CLIENT_PATH, HTTPMOCK_PATH};
use compare::{compare_operations, compare_security, compare_types};

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

/// The workspace this crate is built in (`xtask/generate/../..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask/generate lives two levels inside the workspace")
        .to_path_buf()
}
