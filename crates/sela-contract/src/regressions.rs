//! Stored failures, replayed first: each failing clause's case goes into a JSON
//! Lines file (`contract-regressions.jsonl` by default), one object a line, and
//! the next run replays those cases before drawing new ones, as proptest does
//! with its committed `proptest-regressions/`.
//!
//! A line names the property, the case's own seed and the shrinking steps that
//! led to the minimal example (`s` simplify, `c` complicate), so the run
//! regenerates exactly that case with the generator and then walks the same
//! steps. Identities are rendered at execution time from the replaying run's
//! own fresh, tagged pool, so a replay never collides with what the target
//! stored before. The shrunk batch as it was sent is kept on the line too, for
//! the reader.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report::Report;
pub use crate::stored_failure::{
    CaseOrigin, FORMAT_VERSION, Regression, ReplayOutcome, Replayed, StoredItem, summary,
};

/// The file used when no `--regressions PATH` is given.
pub const DEFAULT_PATH: &str = "contract-regressions.jsonl";

impl Regression {
    /// The stored failures of a report: one per failing clause whose case is
    /// known.
    pub fn from_report(report: &Report) -> Vec<Regression> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        report
            .clauses
            .iter()
            .filter_map(|c| {
                let failure = c.failure.as_ref()?;
                let origin = c.origin.clone()?;
                Some(Regression {
                    format_version: FORMAT_VERSION,
                    clause: c.clause.id().to_owned(),
                    origin,
                    run_seed: report.seed,
                    detail: failure.detail.clone(),
                    batch: failure
                        .batch
                        .iter()
                        .map(|(category, item)| StoredItem {
                            category: category.clone(),
                            item: item.clone(),
                        })
                        .collect(),
                    found_on: report.base_url.clone(),
                    found_at: now.clone(),
                })
            })
            .collect()
    }

    /// The same failure: same clause, property, case and shrinking steps.
    fn same_case(&self, other: &Regression) -> bool {
        self.clause == other.clause && self.origin == other.origin
    }
}

/// Why the regressions file could not be read or written.
#[derive(Debug)]
pub enum RegressionsError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line is not a stored failure this version understands.
    Line {
        /// The file.
        path: PathBuf,
        /// The line number (from 1).
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for RegressionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegressionsError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            RegressionsError::Line {
                path,
                line,
                message,
            } => write!(
                f,
                "{}:{line}: not a stored contract failure: {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RegressionsError {}

/// The stored failures in `path`; none when the file does not exist. Blank
/// lines are skipped; any other line that is not a stored failure of a known
/// `format_version` is an error naming it.
pub fn load(path: &Path) -> Result<Vec<Regression>, RegressionsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RegressionsError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| RegressionsError::Line {
            path: path.to_owned(),
            line: i + 1,
            message,
        };
        let r: Regression = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if r.format_version != FORMAT_VERSION {
            return Err(bad(format!(
                "format_version {} (this version reads {FORMAT_VERSION})",
                r.format_version
            )));
        }
        out.push(r);
    }
    Ok(out)
}

/// Appends the report's failures that `path` does not hold yet; returns how
/// many were added. Nothing is written (not even an empty file) when there is
/// nothing new.
pub fn store(path: &Path, report: &Report) -> Result<usize, RegressionsError> {
    let known = load(path)?;
    let new: Vec<Regression> = Regression::from_report(report)
        .into_iter()
        .filter(|r| !known.iter().any(|k| k.same_case(r)))
        .collect();
    if new.is_empty() {
        return Ok(0);
    }
    let io = |source| RegressionsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    for r in &new {
        text.push_str(&serde_json::to_string(r).map_err(|e| io(std::io::Error::other(e)))?);
        text.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    Ok(new.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(clause: &str, seed: u64) -> Regression {
        Regression {
            format_version: FORMAT_VERSION,
            clause: clause.into(),
            origin: CaseOrigin {
                property: "run_batches".into(),
                case_seed: seed,
                shrink_path: "ssc".into(),
            },
            run_seed: 1,
            detail: "d".into(),
            batch: vec![StoredItem {
                category: "valid (plain)".into(),
                item: serde_json::json!({"phone_number": "+12125550100"}),
            }],
            found_on: "http://127.0.0.1:1/".into(),
            found_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn lines_round_trip_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("sela-regr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.jsonl");
        let _ = std::fs::remove_file(&path);
        assert!(load(&path).unwrap().is_empty(), "a missing file is empty");
        let text = format!(
            "{}\n\n{}\n",
            serde_json::to_string(&line("B3", 7)).unwrap(),
            serde_json::to_string(&line("B1", 8)).unwrap()
        );
        std::fs::write(&path, &text).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back, vec![line("B3", 7), line("B1", 8)]);
        assert!(text.contains("\"case_seed\":7"), "flattened origin: {text}");

        std::fs::write(&path, format!("{text}{{\"clause\": \"B3\"}}\n")).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("r.jsonl:4: not a stored contract failure"),
            "{err}"
        );
        let mut old = line("B3", 9);
        old.format_version = 99;
        std::fs::write(&path, serde_json::to_string(&old).unwrap()).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("format_version 99"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_summary_counts_what_still_fails() {
        let r = |outcome| Replayed {
            stored: line("B3", 1),
            outcome,
            failure: None,
            also_failed: vec![],
        };
        let all = [
            r(ReplayOutcome::StillFails),
            r(ReplayOutcome::Passed),
            r(ReplayOutcome::NotReplayed("gone".into())),
        ];
        assert_eq!(
            summary(&all),
            "replayed 2 stored failures: 1 still fail, 1 could not be replayed"
        );
    }
}
